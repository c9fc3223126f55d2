//! The store kept in memory: the same [`Store`] as IndexedDB, for native tests and for a browser without
//! IndexedDB (the data then lasts as long as the page).
//!
//! A [`MemoryBackend`] plays the browser's IndexedDB factory: databases live in it by name, so a store closed
//! and opened again (from the same backend) finds its data, and deleting an account's store closes its open
//! handles. Orders and paging match the IndexedDB store: messages by (time, key) within a conversation.
//!
//! What it does not do: outlive the page, or share data between tabs.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::plan::{self, Write};
use super::records::{
    Applied, ConversationRecord, GapRecord, MessageKey, MessageRecord, Meta, Op, OutboxRecord, Page, PagePoint,
    Snapshot, SnapshotRequest, StoredMessage,
};
use super::{Backend, StorageError, Store, database_name};
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::roster::RosterItem;

/// A set of in-memory databases (one per account), shared by its clones.
#[derive(Clone, Default)]
pub struct MemoryBackend {
    databases: Rc<RefCell<HashMap<String, Rc<RefCell<Db>>>>>,
}

impl MemoryBackend {
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }
}

impl Backend for MemoryBackend {
    type Store = MemoryStore;

    async fn open(&self, account: &BareJid) -> Result<MemoryStore, StorageError> {
        let db = self.databases.borrow_mut().entry(database_name(account)).or_default().clone();
        Ok(MemoryStore { account: account.clone(), db, closed: Cell::new(false), writes: Cell::new(0) })
    }

    async fn delete(&self, account: &BareJid) -> Result<(), StorageError> {
        if let Some(db) = self.databases.borrow_mut().remove(&database_name(account)) {
            db.borrow_mut().deleted = true;
        }
        Ok(())
    }
}

/// One account's in-memory store.
pub struct MemoryStore {
    account: BareJid,
    db: Rc<RefCell<Db>>,
    closed: Cell<bool>,
    writes: Cell<u64>,
}

/// A message's position: its conversation, time and key (the order of a transcript).
type Position = (BareJid, i64, u64);

#[derive(Default)]
struct Db {
    /// Deleted through the backend: every handle of it is closed.
    deleted: bool,
    meta: Meta,
    roster: HashMap<BareJid, RosterItem>,
    conversations: HashMap<BareJid, ConversationRecord>,
    messages: BTreeMap<Position, MessageRecord>,
    /// Key → position, for updates.
    positions: HashMap<u64, Position>,
    by_stanza: HashMap<String, u64>,
    by_origin: HashMap<(String, String), Vec<u64>>,
    /// The last key given out (keys start at 1, like IndexedDB's key generator).
    last_key: u64,
    outbox: Vec<OutboxRecord>,
    gaps: HashMap<(Option<BareJid>, i64), GapRecord>,
}

impl Db {
    fn stored(&self, key: u64) -> Option<StoredMessage> {
        let position = self.positions.get(&key)?;
        let message = self.messages.get(position)?.clone();
        Some(StoredMessage { key: MessageKey(key), message })
    }

    fn index(&mut self, key: u64, m: &MessageRecord) {
        if let Some(z) = &m.stanza_id {
            self.by_stanza.entry(z.clone()).or_insert(key);
        }
        if let Some(o) = &m.origin_id {
            let keys = self.by_origin.entry((m.sender.to_string(), o.clone())).or_default();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }

    fn write(&mut self, write: Write) {
        let key = match write.key {
            Some(MessageKey(key)) => {
                if let Some(old) = self.positions.remove(&key) {
                    self.messages.remove(&old);
                }
                key
            }
            None => {
                self.last_key += 1;
                self.last_key
            }
        };
        let position = (write.message.conversation.clone(), write.message.time, key);
        self.index(key, &write.message);
        self.positions.insert(key, position.clone());
        self.messages.insert(position, write.message);
    }

    fn page(&self, conversation: &BareJid, before: Option<PagePoint>, limit: usize) -> Page {
        let start = (conversation.clone(), i64::MIN, 0);
        let newer_than_all = || (conversation.clone(), i64::MAX, u64::MAX);
        let mut older = match before {
            Some(p) => self.messages.range(start..(conversation.clone(), p.time, p.key.0)),
            None => self.messages.range(start..=newer_than_all()),
        }
        .rev();
        let mut messages: Vec<StoredMessage> = older
            .by_ref()
            .take(limit)
            .map(|((_, _, key), message)| StoredMessage { key: MessageKey(*key), message: message.clone() })
            .collect();
        let complete = older.next().is_none();
        messages.reverse();
        Page { messages, complete }
    }
}

impl MemoryStore {
    fn db(&self) -> Result<std::cell::RefMut<'_, Db>, StorageError> {
        let db = self.db.borrow_mut();
        if self.closed.get() || db.deleted {
            return Err(StorageError::Closed);
        }
        Ok(db)
    }
}

impl Store for MemoryStore {
    fn account(&self) -> &BareJid {
        &self.account
    }

    async fn snapshot(&self, request: &SnapshotRequest) -> Result<Snapshot, StorageError> {
        let db = self.db()?;
        let roster: Vec<RosterItem> = db.roster.values().cloned().collect();
        let conversations = super::sort_conversations(db.conversations.values().cloned().collect());
        let pages = super::pages_wanted(&conversations, request)
            .into_iter()
            .map(|jid| {
                let page = db.page(&jid, None, request.page);
                (jid, page)
            })
            .collect();
        let gaps: Vec<GapRecord> = db.gaps.values().cloned().collect();
        Ok(Snapshot {
            meta: db.meta.clone(),
            roster,
            conversations,
            pages,
            outbox: db.outbox.clone(),
            gaps,
            skipped: 0,
        })
    }

    async fn page_before(
        &self,
        conversation: &BareJid,
        before: Option<PagePoint>,
        limit: usize,
    ) -> Result<Page, StorageError> {
        Ok(self.db()?.page(conversation, before, limit))
    }

    async fn find_by_stanza_id(&self, stanza_id: &str) -> Result<Option<StoredMessage>, StorageError> {
        let db = self.db()?;
        Ok(db.by_stanza.get(stanza_id).and_then(|&key| db.stored(key)))
    }

    async fn find_by_origin_id(
        &self,
        sender: &BareJid,
        origin_id: &str,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let db = self.db()?;
        let keys = db.by_origin.get(&(sender.to_string(), origin_id.to_owned()));
        Ok(keys.and_then(|keys| keys.iter().min()).and_then(|&key| db.stored(key)))
    }

    async fn apply(&self, ops: Vec<Op>) -> Result<Applied, StorageError> {
        let mut db = self.db()?;
        self.writes.set(self.writes.get() + 1);
        let needs = plan::needs(&ops, &self.account);
        let mut keys: Vec<u64> = needs.stanza_ids.iter().filter_map(|z| db.by_stanza.get(z).copied()).collect();
        keys.extend(needs.origins.iter().flat_map(|o| db.by_origin.get(o).into_iter().flatten().copied()));
        keys.sort_unstable();
        keys.dedup();
        let found = keys.into_iter().filter_map(|key| db.stored(key)).collect();
        let (writes, applied) = plan::plan(&ops, &self.account, found);
        for op in ops {
            match op {
                Op::SetMeta(key, value) => db.meta.set(key, value),
                Op::PutRosterItem(item) => {
                    db.roster.insert(item.jid.clone(), item);
                }
                Op::RemoveRosterItem(jid) => {
                    db.roster.remove(&jid);
                }
                Op::ReplaceRoster(items) => db.roster = items.into_iter().map(|i| (i.jid.clone(), i)).collect(),
                Op::PutConversation(c) => {
                    db.conversations.insert(c.jid.clone(), c);
                }
                Op::SetOutbox(outbox) => db.outbox = outbox,
                Op::PutGap(gap) => {
                    db.gaps.insert((gap.conversation.clone(), gap.start), gap);
                }
                Op::RemoveGap { conversation, start } => {
                    db.gaps.remove(&(conversation, start));
                }
                Op::AddMessage(_) | Op::SetMessageState { .. } => {}
            }
        }
        for write in writes {
            db.write(write);
        }
        Ok(applied)
    }

    fn write_transactions(&self) -> u64 {
        self.writes.get()
    }

    fn close(&self) {
        self.closed.set(true);
    }
}
