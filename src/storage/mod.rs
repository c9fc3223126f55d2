//! The local store: what outlives the page, one IndexedDB database per account.
//!
//! ```text
//!  core events ──▶ UI store ──Op──▶ Writer (one transaction per burst) ──▶ Store::apply ──▶ IndexedDB
//!  page load ──▶ Backend::open(account) ──▶ Store::snapshot ──▶ UI store (painted before the network answers)
//!  scroll up ──▶ Store::page_before ──▶ older messages
//! ```
//!
//! - [`records`]: the plain records ([`MessageRecord`], [`ConversationRecord`], …), the writes ([`Op`]) and what
//!   reads return ([`Snapshot`], [`Page`]).
//! - [`Store`] and [`Backend`]: the one interface. `indexed::IdbBackend` keeps the data in IndexedDB
//!   (wasm32, through web-sys; `docs/storage.md` says why not through a crate); [`memory::MemoryBackend`] keeps
//!   it in memory and behaves the same (the same tests run against both: `tests/web_storage.rs`), for native
//!   tests and for a browser without IndexedDB.
//! - [`writer::Writer`]: queues ops and writes everything queued during one event-loop turn (and whatever
//!   arrives while that write runs) in one transaction.
//! - [`plan`]: the message logic both backends share (duplicates, state changes), in plain Rust.
//!
//! A database is named after a hash of the account's bare JID ([`database_name`]), so any JID gives a valid
//! name and one account's store never opens another's; nothing here lists databases. The schema is versioned
//! (`indexed` upgrades older or incomplete databases when it opens them).
//!
//! What this module does not do: speak XMPP or decide what to keep (the core and the UI do; the storage layer
//! writes what it is given), touch the DOM, or store the password — no record has a field for it.

pub mod memory;
pub mod plan;
pub mod records;
pub mod sync;
pub mod writer;

#[cfg(target_arch = "wasm32")]
mod codec;
#[cfg(target_arch = "wasm32")]
pub mod indexed;

use std::fmt;

pub use records::{
    Applied, ConversationKind, ConversationRecord, GapRecord, MessageKey, MessageRecord, MessageState, Meta, MetaKey,
    Op, OutboxRecord, Page, PagePoint, Snapshot, SnapshotRequest, StoredMessage,
};

use crate::xmpp::jid::BareJid;

/// The schema this code writes. `indexed` keeps it in the `meta` store and refuses a database of a newer one.
pub const SCHEMA_VERSION: u32 = 1;

/// One account's open store. Every method works on that account's data only.
///
/// The futures are not `Send`: the browser is single-threaded and the IndexedDB ones hold JS values.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// The account this store belongs to.
    fn account(&self) -> &BareJid;

    /// Everything needed to paint at start-up, read in one transaction.
    async fn snapshot(&self, request: &SnapshotRequest) -> Result<Snapshot, StorageError>;

    /// Up to `limit` messages of `conversation` older than `before` (the latest ones when `None`), oldest first.
    async fn page_before(
        &self,
        conversation: &BareJid,
        before: Option<PagePoint>,
        limit: usize,
    ) -> Result<Page, StorageError>;

    /// The message the account's archive gave this `<stanza-id/>`.
    async fn find_by_stanza_id(&self, stanza_id: &str) -> Result<Option<StoredMessage>, StorageError>;

    /// The message `sender` sent with this `<origin-id/>`.
    async fn find_by_origin_id(&self, sender: &BareJid, origin_id: &str)
    -> Result<Option<StoredMessage>, StorageError>;

    /// Writes a batch in one transaction: all of it or (on an error) none of it.
    async fn apply(&self, ops: Vec<Op>) -> Result<Applied, StorageError>;

    /// How many write transactions this handle has run (for tests and benchmarks: batching is observable).
    fn write_transactions(&self) -> u64;

    /// Closes the handle; later calls fail with [`StorageError::Closed`].
    fn close(&self);
}

/// Where stores live: opens an account's store, deletes it.
#[allow(async_fn_in_trait)]
pub trait Backend {
    type Store: Store + 'static;

    /// Opens (creating or upgrading it when needed) the store of `account`.
    async fn open(&self, account: &BareJid) -> Result<Self::Store, StorageError>;

    /// Deletes everything stored for `account`. Open handles of it are closed first.
    async fn delete(&self, account: &BareJid) -> Result<(), StorageError>;
}

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The browser offers no IndexedDB here (switched off, or a private window that forbids it).
    Unavailable(String),
    /// The database was written by a newer version of Natter.
    NewerSchema { found: u32, supported: u32 },
    /// The database could not be brought to this version's layout.
    Schema(String),
    /// The browser refused to store more (disk full, or the site's quota used up).
    QuotaExceeded,
    /// The handle was closed, or the database deleted (possibly from another tab).
    Closed,
    /// Another tab keeps an older version of the database open, so it cannot be upgraded or deleted yet.
    Blocked,
    /// Anything else the browser reported: what was being done, and the browser's words.
    Failed { doing: &'static str, detail: String },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Unavailable(why) => write!(f, "this browser does not let Natter store data here ({why})"),
            StorageError::NewerSchema { found, supported } => write!(
                f,
                "the stored data was written by a newer version of Natter (layout {found}; this one reads up to \
                 {supported})"
            ),
            StorageError::Schema(why) => write!(f, "the stored data could not be prepared ({why})"),
            StorageError::QuotaExceeded => f.write_str("the browser has no room left to store more"),
            StorageError::Closed => f.write_str("the local store was closed"),
            StorageError::Blocked => f.write_str("another Natter tab is still using the local store; close it"),
            StorageError::Failed { doing, detail } => write!(f, "could not {doing}: {detail}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// The database name of `account`: `natter-` and the SHA-256 of its bare JID in hex. Any JID (any length, any
/// characters) gives a short valid name, and different JIDs different names.
pub fn database_name(account: &BareJid) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(account.to_string().as_bytes());
    let mut name = String::with_capacity(7 + 64);
    name.push_str("natter-");
    for byte in digest {
        name.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        name.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    name
}

/// Conversations in list order: most recent activity first, then by JID.
///
/// Sorted through the same instantiation of the standard sort as the UI's (`ui::model::sorted_order`, a
/// `Vec<((u8, String, String), usize)>`): each other element type or `sort_by` closure would add its own copy of
/// the sort to the wasm (2–3 KB each).
fn sort_conversations(conversations: Vec<ConversationRecord>) -> Vec<ConversationRecord> {
    let mut keyed: Vec<((u8, String, String), usize)> =
        conversations.iter().map(|c| (0, newest_first(c.last_activity), c.jid.to_string())).zip(0..).collect();
    keyed.sort_unstable();
    let mut slots: Vec<Option<ConversationRecord>> = conversations.into_iter().map(Some).collect();
    keyed.into_iter().filter_map(|(_, i)| slots[i].take()).collect()
}

/// A text that sorts before another exactly when its time is later: 16 hex digits of the time, flipped.
fn newest_first(time: i64) -> String {
    let flipped = !((time as u64) ^ (1 << 63));
    (0..16).rev().map(|nibble| char::from(b"0123456789abcdef"[((flipped >> (4 * nibble)) & 15) as usize])).collect()
}

/// The conversations whose latest page a snapshot reads: the open one, then the `recent` most active others.
/// `conversations` is in list order.
fn pages_wanted(conversations: &[ConversationRecord], request: &SnapshotRequest) -> Vec<BareJid> {
    let mut wanted: Vec<BareJid> = request.open.iter().cloned().collect();
    let others = conversations.iter().filter(|c| request.open.as_ref() != Some(&c.jid));
    wanted.extend(others.take(request.recent).map(|c| c.jid.clone()));
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_orders_times_backwards_as_text() {
        let times = [i64::MIN, -1_000, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in times.windows(2) {
            assert!(newest_first(pair[0]) > newest_first(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn database_names_are_short_distinct_and_stable() {
        let a = database_name(&BareJid::parse("alice@example.org").unwrap());
        let b = database_name(&BareJid::parse("bob@example.org").unwrap());
        assert_ne!(a, b);
        assert_eq!(a, database_name(&BareJid::parse("Alice@Example.ORG").unwrap()), "same account, same name");
        assert_eq!(a.len(), 7 + 64);
        assert!(a.starts_with("natter-"));
        let long = format!("{}@{}", "x".repeat(1023), "d".repeat(1000));
        assert_eq!(database_name(&BareJid::parse(&long).unwrap()).len(), 71);
    }
}
