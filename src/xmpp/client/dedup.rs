//! Incoming message de-duplication (issue 12, XEP-0359): the keys of recently shown messages, bounded.
//!
//! A message is a duplicate when ANY of its keys was seen before. Its keys, in order of trust:
//! 1. its `stanza-id` stamped by our own account (`by` = our bare JID; any other `stanza-id` is forgeable and
//!    ignored before it gets here),
//! 2. its `origin-id` with the sender's bare JID,
//! 3. its `id` with the sender's bare JID and its body.
//!
//! Checking every key, not only the most trusted one, is what makes a message re-sent after a failed
//! resumption (same `id`/`origin-id`, new `stanza-id` from the server) show once. A sender can only collide
//! with its own keys (each key but the server's includes the sender), so a peer cannot hide another's message.
//!
//! Messages in a room (XEP-0045) have keys of their own, scoped to the room: the room's `stanza-id` (`by` the
//! room), and the sender's nick with its origin-id (else its id) and body. A room cannot hide one-to-one
//! messages, nor one occupant another's.
//!
//! Memory is bounded: the oldest keys are forgotten past [`SeenMessages::CAPACITY`] (ids longer than
//! `sid::MAX_ID` are never kept). The set is carried across reconnects in `Config::seen` and can be seeded
//! from a store. This module does not decide what is shown; the session asks it.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::sid::MAX_ID;

/// One way to recognise a message again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeenKey {
    /// A `stanza-id` stamped by our own account's server.
    StanzaId(String),
    /// `origin-id` + sender.
    Origin { sender: BareJid, id: String },
    /// Stanza `id` + sender + (a hash of) the body.
    Id { sender: BareJid, id: String, body: u64 },
    /// A message in a room, by the room's own `stanza-id` (`by` the room; no one else's is kept).
    RoomStanzaId { room: BareJid, id: String },
    /// A message in a room by its sender's nick, its origin-id (else its id) and (a hash of) its body.
    RoomMessage { room: BareJid, nick: String, id: String, body: u64 },
}

impl SeenKey {
    /// The keys of a message, most trusted first; ids that are empty or too long are left out.
    pub fn of(
        sender: &BareJid,
        stanza_id: Option<&str>,
        origin_id: Option<&str>,
        id: Option<&str>,
        body: &str,
    ) -> Vec<SeenKey> {
        let ok = |s: Option<&str>| s.filter(|s| !s.is_empty() && s.len() <= MAX_ID).map(str::to_owned);
        let mut keys = Vec::with_capacity(3);
        if let Some(s) = ok(stanza_id) {
            keys.push(SeenKey::StanzaId(s));
        }
        if let Some(id) = ok(origin_id) {
            keys.push(SeenKey::Origin { sender: sender.clone(), id });
        }
        if let Some(id) = ok(id) {
            // The body only tells two messages apart that reuse one id; a fixed-key hash is enough for that
            // (the sender is part of the key, so only a sender can collide with itself).
            keys.push(SeenKey::Id { sender: sender.clone(), id, body: hash(body) });
        }
        keys
    }

    /// The keys of a message in `room` from `nick`: the room's stanza-id, and the sender's id with the body
    /// (a second copy of a message resent after a failed resumption has a new stanza-id but the same id).
    pub fn of_room(room: &BareJid, stanza_id: Option<&str>, nick: &str, id: Option<&str>, body: &str) -> Vec<SeenKey> {
        let ok = |s: Option<&str>| s.filter(|s| !s.is_empty() && s.len() <= MAX_ID).map(str::to_owned);
        let mut keys = Vec::with_capacity(2);
        if let Some(s) = ok(stanza_id) {
            keys.push(SeenKey::RoomStanzaId { room: room.clone(), id: s });
        }
        if let Some(id) = ok(id)
            && nick.len() <= MAX_ID * 4
        {
            keys.push(SeenKey::RoomMessage { room: room.clone(), nick: nick.to_owned(), id, body: hash(body) });
        }
        keys
    }
}

fn hash(body: &str) -> u64 {
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

/// The keys of the messages seen most recently (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct SeenMessages {
    set: HashSet<SeenKey>,
    order: VecDeque<SeenKey>,
}

impl SeenMessages {
    /// Keys kept (about three per message: the last few thousand messages).
    pub const CAPACITY: usize = 10_000;

    /// Whether any of `keys` was seen; then remembers all of them. `true` means: a duplicate, do not show it.
    pub fn check_and_insert(&mut self, keys: Vec<SeenKey>) -> bool {
        let seen = keys.iter().any(|k| self.set.contains(k));
        for k in keys {
            self.insert(k);
        }
        seen
    }

    /// Remembers one key (e.g. seeding from the store at start).
    pub fn insert(&mut self, key: SeenKey) {
        if self.set.contains(&key) {
            return;
        }
        if self.order.len() >= Self::CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bob() -> BareJid {
        BareJid::parse("bob@example.com").unwrap()
    }

    #[test]
    fn any_shared_key_is_a_duplicate() {
        let mut seen = SeenMessages::default();
        assert!(!seen.check_and_insert(SeenKey::of(&bob(), Some("s1"), Some("o1"), Some("o1"), "hi")));
        // The same message re-sent after a failed resumption: new stanza-id, same origin-id.
        assert!(seen.check_and_insert(SeenKey::of(&bob(), Some("s2"), Some("o1"), Some("o1"), "hi")));
        // Same id, another body: a different message (only rule 3 applies, and it differs).
        assert!(!seen.check_and_insert(SeenKey::of(&bob(), None, None, Some("x"), "one")));
        assert!(!seen.check_and_insert(SeenKey::of(&bob(), None, None, Some("x"), "two")));
        // Nothing to recognise it by: never a duplicate.
        assert!(!seen.check_and_insert(SeenKey::of(&bob(), None, None, None, "hi")));
        assert!(!seen.check_and_insert(SeenKey::of(&bob(), None, None, None, "hi")));
    }

    #[test]
    fn memory_is_bounded_and_forgets_the_oldest() {
        let mut seen = SeenMessages::default();
        for i in 0..SeenMessages::CAPACITY + 10 {
            seen.insert(SeenKey::StanzaId(i.to_string()));
        }
        assert_eq!(seen.len(), SeenMessages::CAPACITY);
        assert!(!seen.check_and_insert(vec![SeenKey::StanzaId("0".into())]), "the oldest was forgotten");
        assert!(seen.check_and_insert(vec![SeenKey::StanzaId((SeenMessages::CAPACITY + 9).to_string())]));
        // Ids too long to keep are not keys at all.
        assert!(SeenKey::of(&bob(), Some(&"x".repeat(300)), None, None, "b").is_empty());
    }
}
