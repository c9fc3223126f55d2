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
//! Memory is bounded, whatever peers send: a key is kept as a 128-bit digest (SHA-256, truncated), so each
//! costs the same few bytes however long the sender's JID or the id, and the oldest are forgotten past
//! [`SeenMessages::CAPACITY`] (ids longer than `sid::MAX_ID` are never keys). A cryptographic digest, not
//! std's fixed-key hasher, so no one can make two keys collide on purpose. The set is carried across reconnects
//! in `Config::seen` and can be seeded from a store. This module does not decide what is shown; the session
//! asks it.

use std::collections::{HashSet, VecDeque};

use sha2::{Digest, Sha256};

use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::sid::MAX_ID;

/// One way to recognise a message again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeenKey {
    /// A `stanza-id` stamped by our own account's server.
    StanzaId(String),
    /// `origin-id` + sender.
    Origin { sender: BareJid, id: String },
    /// Stanza `id` + sender + (a digest of) the body.
    Id { sender: BareJid, id: String, body: [u8; 16] },
    /// A message in a room, by the room's own `stanza-id` (`by` the room; no one else's is kept).
    RoomStanzaId { room: BareJid, id: String },
    /// A message in a room by its sender's nick, its origin-id (else its id) and (a digest of) its body.
    RoomMessage { room: BareJid, nick: String, id: String, body: [u8; 16] },
}

/// What is kept of a key: the first 16 bytes of the SHA-256 of its kind and fields, each length-prefixed.
type Digest16 = [u8; 16];

fn digest16(parts: &[&[u8]]) -> Digest16 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

impl SeenKey {
    fn digest(&self) -> Digest16 {
        match self {
            SeenKey::StanzaId(id) => digest16(&[b"s", id.as_bytes()]),
            SeenKey::Origin { sender, id } => digest16(&[b"o", sender.to_string().as_bytes(), id.as_bytes()]),
            SeenKey::Id { sender, id, body } => digest16(&[b"i", sender.to_string().as_bytes(), id.as_bytes(), body]),
            SeenKey::RoomStanzaId { room, id } => digest16(&[b"rs", room.to_string().as_bytes(), id.as_bytes()]),
            SeenKey::RoomMessage { room, nick, id, body } => {
                digest16(&[b"rm", room.to_string().as_bytes(), nick.as_bytes(), id.as_bytes(), body])
            }
        }
    }
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
            // The body only tells two messages apart that reuse one id.
            keys.push(SeenKey::Id { sender: sender.clone(), id, body: digest16(&[body.as_bytes()]) });
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
            keys.push(SeenKey::RoomMessage {
                room: room.clone(),
                nick: nick.to_owned(),
                id,
                body: digest16(&[body.as_bytes()]),
            });
        }
        keys
    }
}

/// The keys of the messages seen most recently (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct SeenMessages {
    set: HashSet<Digest16>,
    order: VecDeque<Digest16>,
}

impl SeenMessages {
    /// Keys kept (about three per message: the last few thousand messages).
    pub const CAPACITY: usize = 10_000;

    /// An upper bound of the heap this set holds when full (the hash table's and the queue's buckets, as they
    /// grow by doubling past `CAPACITY`), for tests that bound a client's memory.
    pub const MAX_HEAP_BYTES: usize = 2 * 16_384 * (16 + 8) + 16_384 * 16;

    /// Whether any of `keys` was seen; then remembers all of them. `true` means: a duplicate, do not show it.
    pub fn check_and_insert(&mut self, keys: Vec<SeenKey>) -> bool {
        let digests: Vec<Digest16> = keys.iter().map(SeenKey::digest).collect();
        let seen = digests.iter().any(|d| self.set.contains(d));
        for d in digests {
            self.remember(d);
        }
        seen
    }

    /// Remembers one key (e.g. seeding from the store at start).
    pub fn insert(&mut self, key: SeenKey) {
        self.remember(key.digest());
    }

    fn remember(&mut self, key: Digest16) {
        if self.set.contains(&key) {
            return;
        }
        if self.order.len() >= Self::CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(key);
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

    #[test]
    fn a_key_costs_the_same_however_long_its_fields() {
        // Keys of the longest ids from a sender with the longest JID parts: the set holds digests, not them.
        let long = BareJid::parse(&format!("{}@{}", "l".repeat(1023), "d".repeat(1023))).unwrap();
        let mut seen = SeenMessages::default();
        for i in 0..SeenMessages::CAPACITY {
            let id = format!("{i:0>256}");
            seen.check_and_insert(SeenKey::of(&long, None, Some(&id), None, "b"));
        }
        assert_eq!(seen.len(), SeenMessages::CAPACITY);
        let held = seen.set.capacity() * (16 + 8) + seen.order.capacity() * 16;
        assert!(held <= SeenMessages::MAX_HEAP_BYTES, "{held}");
        // Still tells messages apart: a new id is new, a known one is a duplicate.
        assert!(!seen.check_and_insert(SeenKey::of(&long, None, Some("new"), None, "b")));
        assert!(seen.check_and_insert(SeenKey::of(&long, None, Some("new"), None, "b")));
    }
}
