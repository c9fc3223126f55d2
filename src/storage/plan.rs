//! What a batch does to the `messages` store, decided in plain Rust so both backends behave the same.
//!
//! A batch's message ops ([`Op::AddMessage`], [`Op::SetMessageState`]) depend on what is stored: an added
//! message may be a duplicate, a state change finds its message by id. A backend first looks up what the batch
//! [`needs`] (by `stanza_id`, and by `sender` + `origin_id`), hands the records it found to [`plan`], and
//! writes the records [`plan`] returns, in order. The plan also sees earlier ops of the same batch (a message
//! added and acknowledged in one batch is stored once, acknowledged). It does no I/O.

use std::collections::HashMap;

use super::records::{Applied, MessageKey, MessageRecord, Op, StoredMessage};
use crate::xmpp::jid::BareJid;

/// The lookups a batch needs: stanza ids, and (sender, origin id) pairs (a value may repeat).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub stanza_ids: Vec<String>,
    pub origins: Vec<(String, String)>,
}

/// What a batch's message ops look up. `account` is the sender of own messages ([`Op::SetMessageState`]).
pub fn needs(ops: &[Op], account: &BareJid) -> Needs {
    let mut needs = Needs::default();
    for op in ops {
        match op {
            Op::AddMessage(m) => {
                if let Some(z) = &m.stanza_id {
                    needs.stanza_ids.push(z.clone());
                }
                if let Some(o) = &m.origin_id {
                    needs.origins.push((m.sender.to_string(), o.clone()));
                }
            }
            Op::SetMessageState { id, .. } => needs.origins.push((account.to_string(), id.clone())),
            _ => {}
        }
    }
    needs
}

/// A record to write: a new message (`key: None`, the store assigns one) or a changed stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub key: Option<MessageKey>,
    pub message: MessageRecord,
}

/// Applies the batch's message ops to the `found` records (the answers to [`needs`], in any order, each
/// stored record once). Returns the records to write — changed stored ones first, then the new ones in batch
/// order, so keys keep insertion order — and the counts.
pub fn plan(ops: &[Op], account: &BareJid, found: Vec<StoredMessage>) -> (Vec<Write>, Applied) {
    let mut work: Vec<(Write, bool)> = Vec::with_capacity(found.len());
    // One map type for both indexes (each other key or value type adds its own copy of the hash table code to
    // the wasm): stanza ids as they are, (sender, origin id) pairs joined by a NUL, which neither contains.
    let mut by_stanza: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_origin: HashMap<String, Vec<usize>> = HashMap::new();
    let index = |work: &Vec<(Write, bool)>,
                 i: usize,
                 by_stanza: &mut HashMap<String, Vec<usize>>,
                 by_origin: &mut HashMap<String, Vec<usize>>| {
        let m = &work[i].0.message;
        if let Some(z) = &m.stanza_id {
            by_stanza.entry(z.clone()).or_default().push(i);
        }
        if let Some(o) = &m.origin_id {
            by_origin.entry(origin_key(&m.sender.to_string(), o)).or_default().push(i);
        }
    };
    for stored in found {
        // The same record may be found twice (by its stanza-id and by its origin-id). Few records are found
        // (only duplicates and own messages changing state), so a scan does.
        if work.iter().any(|(w, _)| w.key == Some(stored.key)) {
            continue;
        }
        work.push((Write { key: Some(stored.key), message: stored.message }, false));
        index(&work, work.len() - 1, &mut by_stanza, &mut by_origin);
    }
    let mut applied = Applied::default();
    let account = account.to_string();
    for op in ops {
        match op {
            Op::AddMessage(m) => {
                if m.stanza_id.as_ref().is_some_and(|z| by_stanza.contains_key(z)) {
                    applied.duplicates += 1;
                    continue;
                }
                let same_origin =
                    m.origin_id.as_ref().and_then(|o| by_origin.get(&origin_key(&m.sender.to_string(), o)));
                if let Some(same) = same_origin.cloned() {
                    applied.duplicates += 1;
                    if let Some(z) = &m.stanza_id {
                        for i in same {
                            if work[i].0.message.stanza_id.is_none() {
                                work[i].0.message.stanza_id = Some(z.clone());
                                work[i].1 = true;
                                by_stanza.entry(z.clone()).or_default().push(i);
                            }
                        }
                    }
                    continue;
                }
                applied.added += 1;
                work.push((Write { key: None, message: m.clone() }, true));
                index(&work, work.len() - 1, &mut by_stanza, &mut by_origin);
            }
            Op::SetMessageState { id, state } => {
                for &i in by_origin.get(&origin_key(&account, id)).into_iter().flatten() {
                    let (write, dirty) = &mut work[i];
                    if write.message.from_me && write.message.state != *state && !write.message.state.is_ahead_of(state)
                    {
                        write.message.state = state.clone();
                        *dirty = true;
                    }
                }
            }
            _ => {}
        }
    }
    let writes = work.into_iter().filter(|(_, dirty)| *dirty).map(|(w, _)| w).collect();
    (writes, applied)
}

fn origin_key(sender: &str, origin_id: &str) -> String {
    format!("{sender}\0{origin_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::records::MessageState;

    fn jid(s: &str) -> BareJid {
        BareJid::parse(s).unwrap()
    }

    fn msg(sender: &str, origin: Option<&str>, stanza: Option<&str>) -> MessageRecord {
        MessageRecord {
            conversation: jid("bob@example.org"),
            time: 1,
            sender: jid(sender),
            from_me: sender == "alice@example.org",
            body: "hi".into(),
            is_me_action: false,
            nick: None,
            id: origin.map(str::to_owned),
            origin_id: origin.map(str::to_owned),
            stanza_id: stanza.map(str::to_owned),
            state: MessageState::Received,
        }
    }

    #[test]
    fn needs_lists_the_lookups_of_messages_and_of_state_changes() {
        let me = jid("alice@example.org");
        let ops = vec![
            Op::AddMessage(msg("bob@example.org", Some("o1"), Some("z1"))),
            Op::AddMessage(msg("bob@example.org", Some("o1"), Some("z1"))),
            Op::SetMessageState { id: "mine".into(), state: MessageState::Sent },
        ];
        let n = needs(&ops, &me);
        assert_eq!(n.stanza_ids, ["z1", "z1"]);
        let origins = [("bob@example.org", "o1"), ("bob@example.org", "o1"), ("alice@example.org", "mine")];
        assert_eq!(n.origins, origins.map(|(s, o)| (s.to_owned(), o.to_owned())));
    }

    #[test]
    fn a_message_twice_in_one_batch_is_stored_once() {
        let me = jid("alice@example.org");
        let ops = vec![
            Op::AddMessage(msg("bob@example.org", Some("o1"), None)),
            Op::AddMessage(msg("bob@example.org", Some("o1"), Some("z1"))),
            Op::AddMessage(msg("bob@example.org", None, Some("z1"))),
        ];
        let (writes, applied) = plan(&ops, &me, Vec::new());
        assert_eq!(applied, Applied { added: 1, duplicates: 2 });
        assert_eq!(writes.len(), 1);
        // The second copy brought the archive's stanza-id, which the first lacked.
        assert_eq!(writes[0].message.stanza_id.as_deref(), Some("z1"));
    }

    #[test]
    fn the_same_origin_id_from_another_sender_is_another_message() {
        let me = jid("alice@example.org");
        let ops = vec![
            Op::AddMessage(msg("bob@example.org", Some("o1"), None)),
            Op::AddMessage(msg("carol@example.org", Some("o1"), None)),
        ];
        let (writes, applied) = plan(&ops, &me, Vec::new());
        assert_eq!(applied.added, 2);
        assert_eq!(writes.len(), 2);
    }

    #[test]
    fn a_state_change_reaches_a_message_of_the_same_batch_and_a_stored_one() {
        let me = jid("alice@example.org");
        let stored = StoredMessage { key: MessageKey(7), message: msg("alice@example.org", Some("old"), None) };
        let ops = vec![
            Op::AddMessage(msg("alice@example.org", Some("new"), None)),
            Op::SetMessageState { id: "new".into(), state: MessageState::Sent },
            Op::SetMessageState { id: "old".into(), state: MessageState::Failed("bounced".into()) },
            Op::SetMessageState { id: "unknown".into(), state: MessageState::Read },
        ];
        let (writes, applied) = plan(&ops, &me, vec![stored]);
        assert_eq!(applied, Applied { added: 1, duplicates: 0 });
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[0].key, Some(MessageKey(7)));
        assert_eq!(writes[0].message.state, MessageState::Failed("bounced".into()));
        assert_eq!(writes[1].key, None);
        assert_eq!(writes[1].message.state, MessageState::Sent);
    }

    #[test]
    fn a_state_never_moves_back() {
        let me = jid("alice@example.org");
        let read = MessageRecord { state: MessageState::Read, ..msg("alice@example.org", Some("r"), None) };
        let stored = StoredMessage { key: MessageKey(4), message: read };
        let ops = vec![
            Op::SetMessageState { id: "r".into(), state: MessageState::Delivered },
            Op::SetMessageState { id: "r".into(), state: MessageState::Sent },
        ];
        let (writes, _) = plan(&ops, &me, vec![stored.clone()]);
        assert!(writes.is_empty(), "a receipt after the marker leaves it read: {writes:?}");
        let ops = vec![Op::SetMessageState { id: "r".into(), state: MessageState::Failed("bounced".into()) }];
        assert_eq!(plan(&ops, &me, vec![stored]).0.len(), 1, "a bounce still says so");
    }

    #[test]
    fn a_record_found_twice_is_written_once() {
        let me = jid("alice@example.org");
        // Found by its stanza-id and again by its origin-id: one record, updated once.
        let stored = StoredMessage { key: MessageKey(3), message: msg("alice@example.org", Some("o"), Some("z")) };
        let ops = vec![
            Op::AddMessage(msg("alice@example.org", Some("o"), Some("z"))),
            Op::SetMessageState { id: "o".into(), state: MessageState::Delivered },
        ];
        let (writes, applied) = plan(&ops, &me, vec![stored.clone(), stored]);
        assert_eq!(applied, Applied { added: 0, duplicates: 1 });
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].message.state, MessageState::Delivered);
    }

    #[test]
    fn a_state_change_never_touches_a_peers_message() {
        let me = jid("alice@example.org");
        // A peer chose the same origin-id as one of ours: the lookup is by (account, id), so it is not found.
        let theirs = StoredMessage { key: MessageKey(1), message: msg("bob@example.org", Some("x"), None) };
        let ops = vec![Op::SetMessageState { id: "x".into(), state: MessageState::Read }];
        let (writes, _) = plan(&ops, &me, vec![theirs]);
        assert!(writes.is_empty());
    }
}
