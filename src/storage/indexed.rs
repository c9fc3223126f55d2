//! The store in IndexedDB (wasm32 only), through the `idb` crate.
//!
//! One database per account ([`super::database_name`]), six object stores:
//!
//! | store | key | indexes |
//! |---|---|---|
//! | `meta` | `k` (name) | |
//! | `roster` | `j` (JID) | |
//! | `conversations` | `j` (JID) | |
//! | `messages` | `k`, generated | `page` [conversation, time, key], `stanza` stanza-id, `origin` [sender, origin-id] |
//! | `outbox` | `q`, generated (the order) | |
//! | `gaps` | [conversation or "", start] | |
//!
//! Reads and writes keep to the rule of IndexedDB transactions: inside one, await nothing but its own
//! requests (anything else lets it commit early). [`Store::apply`] issues every write of a batch without
//! waiting and then waits for the commit; only its look-ups for duplicates are awaited, all at once. A page of
//! a transcript costs three requests whatever its length: a key cursor walks back `limit` entries of the `page`
//! index (one `advance`), and one `getAll` reads the run after it.
//!
//! Opening runs the schema upgrade when the database is new, older, or lacks a store or index of this layout
//! (created by something else, or left half-made): every store and index that is missing is created, nothing
//! existing is dropped, and the version moves up by one. A database whose `meta` says it was written by a newer
//! layout than [`SCHEMA_VERSION`] is refused ([`StorageError::NewerSchema`]). An open handle closes itself when
//! another connection asks for a version change or a deletion, so another tab never waits on this one.
//!
//! Every `idb` future is awaited to its end (dropping one early leaves a JS handler pointing at a freed
//! closure), and a transaction's handlers are cleared before its future is dropped.
//!
//! What it does not do: list databases, or read anything of another account.

use std::cell::{Cell, RefCell};
use std::future::IntoFuture;
use std::rc::Rc;

use idb::{
    CursorDirection, Database, DatabaseEvent, Event as _, Factory, Index, IndexParams, KeyPath, KeyRange, ObjectStore,
    ObjectStoreParams, Query, Request as _, Transaction, TransactionMode, TransactionResult,
};
use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DomException, IdbDatabase, IdbTransaction};

use super::codec::{self, Known};
use super::plan;
use super::records::{Applied, MetaKey, Op, Page, PagePoint, Snapshot, SnapshotRequest, StoredMessage};
use super::{Backend, SCHEMA_VERSION, StorageError, Store, database_name};
use crate::xmpp::jid::BareJid;

const META: &str = "meta";
const ROSTER: &str = "roster";
const CONVERSATIONS: &str = "conversations";
const MESSAGES: &str = "messages";
const OUTBOX: &str = "outbox";
const GAPS: &str = "gaps";
const ALL: [&str; 6] = [META, ROSTER, CONVERSATIONS, MESSAGES, OUTBOX, GAPS];

/// The `meta` entry holding the layout version.
const SCHEMA_KEY: &str = "schema";

/// An object store of the layout: its key path, whether keys are generated, its indexes (name, key path).
struct StoreLayout {
    name: &'static str,
    key: &'static [&'static str],
    generated: bool,
    indexes: &'static [(&'static str, &'static [&'static str])],
}

const LAYOUT: [StoreLayout; 6] = [
    StoreLayout { name: META, key: &["k"], generated: false, indexes: &[] },
    StoreLayout { name: ROSTER, key: &["j"], generated: false, indexes: &[] },
    StoreLayout { name: CONVERSATIONS, key: &["j"], generated: false, indexes: &[] },
    StoreLayout {
        name: MESSAGES,
        key: &["k"],
        generated: true,
        indexes: &[("page", &["c", "t", "k"]), ("stanza", &["z"]), ("origin", &["s", "o"])],
    },
    StoreLayout { name: OUTBOX, key: &["q"], generated: true, indexes: &[] },
    StoreLayout { name: GAPS, key: &["c", "s"], generated: false, indexes: &[] },
];

fn key_path(parts: &[&str]) -> KeyPath {
    match parts {
        [one] => KeyPath::new_single(one),
        many => KeyPath::new_array(many.to_vec()),
    }
}

/// The browser's IndexedDB.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdbBackend;

impl Backend for IdbBackend {
    type Store = IdbStore;

    async fn open(&self, account: &BareJid) -> Result<IdbStore, StorageError> {
        let factory = Factory::new().map_err(|_| StorageError::Unavailable("no indexedDB".into()))?;
        let name = database_name(account);
        let mut db = open_database(&factory, &name, None).await?;
        if !has_layout(&db)? {
            // Older or incomplete: one version up, and the upgrade adds what is missing.
            let version = db.version().map_err(|e| failed("read the local store's version", &e))?;
            db.close();
            db = open_database(&factory, &name, Some(version + 1)).await?;
            if !has_layout(&db)? {
                db.close();
                return Err(StorageError::Schema("a store or index could not be created".into()));
            }
        }
        if let Err(e) = check_schema(&db).await {
            db.close();
            return Err(e);
        }
        let closed = Rc::new(Cell::new(false));
        let on_change = closed.clone();
        // Another connection wants to upgrade or delete the database: let it (this handle then reports Closed).
        db.on_version_change(move |event| {
            on_change.set(true);
            if let Some(db) = event.target().and_then(|t| t.dyn_into::<IdbDatabase>().ok()) {
                db.close();
            }
        });
        Ok(IdbStore { account: account.clone(), db: RefCell::new(db), closed, writes: Cell::new(0) })
    }

    async fn delete(&self, account: &BareJid) -> Result<(), StorageError> {
        let factory = Factory::new().map_err(|_| StorageError::Unavailable("no indexedDB".into()))?;
        let request = factory.delete(&database_name(account)).map_err(|e| failed("delete the local store", &e))?;
        request.await.map_err(|e| failed("delete the local store", &e))
    }
}

/// Opens `name` at `version` (the current one when `None`), upgrading it to this layout when the browser asks.
async fn open_database(factory: &Factory, name: &str, version: Option<u32>) -> Result<Database, StorageError> {
    let mut request = factory.open(name, version).map_err(|e| failed("open the local store", &e))?;
    request.on_upgrade_needed(|event| {
        // (An upgrade always has its transaction; without one, the layout check after opening reports it.)
        let Some(tx) = event.target().ok().and_then(|request| request.transaction()) else { return };
        if event.database().and_then(|db| add_missing(&db, &tx)).is_err() {
            // The open then fails with an AbortError instead of succeeding half-made.
            let _ = tx.abort();
        }
    });
    request.await.map_err(|e| failed("open the local store", &e))
}

/// Creates every store and index of [`LAYOUT`] the database lacks (inside the upgrade transaction `tx`).
fn add_missing(db: &Database, tx: &Transaction) -> Result<(), idb::Error> {
    let existing = db.store_names();
    for layout in &LAYOUT {
        let store = if existing.iter().any(|s| s == layout.name) {
            tx.object_store(layout.name)?
        } else {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(key_path(layout.key)));
            params.auto_increment(layout.generated);
            db.create_object_store(layout.name, params)?
        };
        let indexes = store.index_names();
        for (name, path) in layout.indexes {
            if !indexes.iter().any(|i| i == name) {
                store.create_index(name, key_path(path), Some(IndexParams::new()))?;
            }
        }
    }
    Ok(())
}

/// Whether every store and index of [`LAYOUT`] is there.
fn has_layout(db: &Database) -> Result<bool, StorageError> {
    let names = db.store_names();
    if !ALL.iter().all(|s| names.iter().any(|n| n == s)) {
        return Ok(false);
    }
    let tx = db.transaction(&ALL, TransactionMode::ReadOnly).map_err(|e| failed("read the local store", &e))?;
    for layout in &LAYOUT {
        let store = tx.object_store(layout.name).map_err(|e| failed("read the local store", &e))?;
        let indexes = store.index_names();
        if !layout.indexes.iter().all(|(name, _)| indexes.iter().any(|i| i == name)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Refuses a database of a newer layout; records this layout's version in one that has none yet.
async fn check_schema(db: &Database) -> Result<(), StorageError> {
    let reading = "read the local store";
    let tx = db.transaction(&[META], TransactionMode::ReadOnly).map_err(|e| failed(reading, &e))?;
    let meta = tx.object_store(META).map_err(|e| failed(reading, &e))?;
    let request = meta.get(Query::Key(SCHEMA_KEY.into())).map_err(|e| failed(reading, &e))?;
    let found = request.await.map_err(|e| failed(reading, &e))?;
    match found.as_ref().and_then(codec::meta_entry).and_then(|(_, v)| v.as_f64()) {
        Some(found) if found > f64::from(SCHEMA_VERSION) => {
            Err(StorageError::NewerSchema { found: found as u32, supported: SCHEMA_VERSION })
        }
        Some(_) => Ok(()),
        None => {
            let writing = "prepare the local store";
            let tx = db.transaction(&[META], TransactionMode::ReadWrite).map_err(|e| failed(writing, &e))?;
            let meta = tx.object_store(META).map_err(|e| failed(writing, &e))?;
            let record = codec::meta(SCHEMA_KEY, "");
            let _ = js_sys::Reflect::set(&record, &"v".into(), &f64::from(SCHEMA_VERSION).into());
            meta.put(&record, None).map_err(|e| failed(writing, &e))?;
            commit(tx, META, writing).await
        }
    }
}

/// One account's store in IndexedDB. Dropping it closes the connection.
pub struct IdbStore {
    account: BareJid,
    db: RefCell<Database>,
    /// Closed by [`Store::close`] or by another connection's version change (an upgrade or a deletion).
    closed: Rc<Cell<bool>>,
    writes: Cell<u64>,
}

impl Drop for IdbStore {
    fn drop(&mut self) {
        // A closed connection gets no more events, so the version-change closure is never called once freed.
        self.db.borrow().close();
    }
}

impl IdbStore {
    fn transaction(&self, stores: &[&str], mode: TransactionMode) -> Result<Transaction, StorageError> {
        if self.closed.get() {
            return Err(StorageError::Closed);
        }
        self.db.borrow().transaction(stores, mode).map_err(|e| failed("start a transaction", &e))
    }
}

impl Store for IdbStore {
    fn account(&self) -> &BareJid {
        &self.account
    }

    async fn snapshot(&self, request: &SnapshotRequest) -> Result<Snapshot, StorageError> {
        let doing = "read the local store";
        let tx = self.transaction(&ALL, TransactionMode::ReadOnly)?;
        let mut requests = Vec::with_capacity(5);
        for name in [META, ROSTER, CONVERSATIONS, OUTBOX, GAPS] {
            let request = tx.object_store(name).and_then(|store| store.get_all(None, None));
            requests.push(request.map_err(|e| failed(doing, &e))?.into_future());
        }
        // All five were issued at once and run together; waiting for them in turn costs nothing more.
        let mut results = Vec::with_capacity(5);
        for request in requests {
            results.push(request.await.map_err(|e| failed(doing, &e)));
        }
        let mut results = results.into_iter();
        let mut next = || results.next().unwrap_or(Ok(Vec::new()));
        let (meta, roster, conversations, outbox, gaps) = (next()?, next()?, next()?, next()?, next()?);

        let mut snapshot = Snapshot::default();
        let mut skipped = 0;
        for (name, value) in meta.iter().filter_map(codec::meta_entry) {
            if let (Some(key), Some(value)) = (MetaKey::from_name(&name), value.as_string()) {
                snapshot.meta.set(key, Some(value));
            }
        }
        snapshot.roster = decode_all(&roster, codec::decode_roster_item, &mut skipped);
        let chats = decode_all(&conversations, codec::decode_conversation, &mut skipped);
        snapshot.conversations = super::sort_conversations(chats);
        snapshot.outbox = decode_all(&outbox, codec::decode_outbox, &mut skipped);
        snapshot.gaps = decode_all(&gaps, codec::decode_gap, &mut skipped);

        let wanted = super::pages_wanted(&snapshot.conversations, request);
        let index = tx.object_store(MESSAGES).and_then(|s| s.index("page")).map_err(|e| failed(doing, &e))?;
        let from: Vec<(&BareJid, Option<PagePoint>)> = wanted.iter().map(|jid| (jid, None)).collect();
        let pages = pages(&index, &self.account, &from, request.page).await.map_err(|e| failed(doing, &e))?;
        for (jid, (page, bad)) in wanted.into_iter().zip(pages) {
            skipped += bad;
            snapshot.pages.push((jid, page));
        }
        snapshot.skipped = skipped;
        Ok(snapshot)
    }

    async fn page_before(
        &self,
        conversation: &BareJid,
        before: Option<PagePoint>,
        limit: usize,
    ) -> Result<Page, StorageError> {
        let doing = "read older messages";
        let tx = self.transaction(&[MESSAGES], TransactionMode::ReadOnly)?;
        let index = tx.object_store(MESSAGES).and_then(|s| s.index("page")).map_err(|e| failed(doing, &e))?;
        let pages = pages(&index, &self.account, &[(conversation, before)], limit).await;
        let (page, _) = pages.map_err(|e| failed(doing, &e))?.pop().unwrap_or_default();
        Ok(page)
    }

    async fn find_by_stanza_id(&self, stanza_id: &str) -> Result<Option<StoredMessage>, StorageError> {
        self.find("stanza", JsValue::from_str(stanza_id), None).await
    }

    async fn find_by_origin_id(
        &self,
        sender: &BareJid,
        origin_id: &str,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let key = codec::key(&[&sender.to_string().into(), &origin_id.into()]);
        self.find("origin", key, Some(sender)).await
    }

    async fn apply(&self, ops: Vec<Op>) -> Result<Applied, StorageError> {
        let doing = "save to the local store";
        let tx = self.transaction(&ALL, TransactionMode::ReadWrite)?;
        self.writes.set(self.writes.get() + 1);
        let found = match look_up(&tx, &plan::needs(&ops, &self.account), &self.account).await {
            Ok(found) => found,
            // A failed request aborts the transaction by itself.
            Err(e) => return Err(failed(doing, &e)),
        };
        let (writes, applied) = plan::plan(&ops, &self.account, found);
        if let Err(e) = issue(&tx, ops, writes) {
            let _ = tx.abort();
            return Err(failed(doing, &e));
        }
        commit(tx, META, doing).await?;
        Ok(applied)
    }

    fn write_transactions(&self) -> u64 {
        self.writes.get()
    }

    fn close(&self) {
        self.closed.set(true);
        self.db.borrow().close();
    }
}

impl IdbStore {
    /// The first message (lowest key) of `index` under `key`.
    async fn find(
        &self,
        index: &str,
        key: JsValue,
        sender: Option<&BareJid>,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let doing = "look up a message";
        let tx = self.transaction(&[MESSAGES], TransactionMode::ReadOnly)?;
        let request = tx
            .object_store(MESSAGES)
            .and_then(|s| s.index(index))
            .and_then(|i| i.get(Query::Key(key)))
            .map_err(|e| failed(doing, &e))?;
        let found = request.await.map_err(|e| failed(doing, &e))?;
        let known = Known::new([&self.account].into_iter().chain(sender));
        Ok(found.and_then(|v| codec::decode_message(&v, &known)))
    }
}

/// The records of `values` that decode; `skipped` counts the others.
fn decode_all<T>(values: &[JsValue], decode: impl Fn(&JsValue) -> Option<T>, skipped: &mut usize) -> Vec<T> {
    let decoded: Vec<T> = values.iter().filter_map(decode).collect();
    *skipped += values.len() - decoded.len();
    decoded
}

/// For each (conversation, before): up to `limit` messages older than `before` (the latest when `None`),
/// oldest first, and how many did not decode. Three requests per page, each round issued for every page at
/// once: a key cursor over the `page` index, newest first; one `advance` over `limit` entries; one `getAll` of
/// the run above the entry the cursor stopped at (or of everything older than `before`, when it ran out).
async fn pages(
    index: &Index,
    account: &BareJid,
    wanted: &[(&BareJid, Option<PagePoint>)],
    limit: usize,
) -> Result<Vec<(Page, usize)>, idb::Error> {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    // The range of each page: everything of the conversation older than `before`.
    let mut ranges = Vec::with_capacity(wanted.len());
    for (conversation, before) in wanted {
        let jid: JsValue = conversation.to_string().into();
        let lower = codec::key(&[&jid]);
        let upper = match before {
            Some(p) => codec::key(&[&jid, &(p.time as f64).into(), &(p.key.0 as f64).into()]),
            // Arrays sort after numbers: [jid, []] is above every [jid, time, key].
            None => codec::key(&[&jid, &Array::new().into()]),
        };
        let upper_open = Some(before.is_some());
        ranges.push((KeyRange::bound(&lower, &upper, Some(false), upper_open)?, upper, upper_open));
    }
    // Round 1: where each run starts (its newest entry), if it has any.
    let mut requests = Vec::with_capacity(ranges.len());
    for (range, _, _) in &ranges {
        let query = Some(Query::KeyRange(range.clone()));
        requests.push(index.open_key_cursor(query, Some(CursorDirection::Prev))?.into_future());
    }
    let mut newest = Vec::with_capacity(requests.len());
    for request in requests {
        newest.push(request.await?);
    }
    // Round 2: step over `limit` entries; a cursor still there has more than `limit` behind it.
    let mut requests = Vec::with_capacity(newest.len());
    for cursor in newest.iter().flatten() {
        if limit > 0 {
            requests.push(cursor.advance(limit)?.into_future());
        }
    }
    let mut stopped = Vec::with_capacity(requests.len());
    for request in requests {
        stopped.push(request.await?);
    }
    // Round 3: read each run.
    let mut stopped = stopped.into_iter();
    let mut reads = Vec::with_capacity(ranges.len());
    for ((range, upper, upper_open), cursor) in ranges.into_iter().zip(&newest) {
        if cursor.is_none() || limit == 0 {
            reads.push((None, cursor.is_none()));
            continue;
        }
        let (range, complete) = match stopped.next().flatten() {
            Some(beyond) => (KeyRange::bound(&beyond.key()?, &upper, Some(true), upper_open)?, false),
            None => (range, true),
        };
        reads.push((Some(index.get_all(Some(Query::KeyRange(range)), Some(limit))?.into_future()), complete));
    }
    let mut pages = Vec::with_capacity(reads.len());
    for ((read, complete), (conversation, _)) in reads.into_iter().zip(wanted) {
        let values = match read {
            Some(read) => read.await?,
            None => Vec::new(),
        };
        let known = Known::new([account, *conversation]);
        let mut skipped = 0;
        let messages = decode_all(&values, |v| codec::decode_message(v, &known), &mut skipped);
        pages.push((Page { messages, complete }, skipped));
    }
    Ok(pages)
}

/// The stored messages a batch refers to (see [`plan::needs`]), looked up inside the write transaction.
async fn look_up(tx: &Transaction, needs: &plan::Needs, account: &BareJid) -> Result<Vec<StoredMessage>, idb::Error> {
    if needs.stanza_ids.is_empty() && needs.origins.is_empty() {
        return Ok(Vec::new());
    }
    let messages = tx.object_store(MESSAGES)?;
    let (by_stanza, by_origin) = (messages.index("stanza")?, messages.index("origin")?);
    let mut requests = Vec::with_capacity(needs.stanza_ids.len() + needs.origins.len());
    for z in &needs.stanza_ids {
        requests.push(by_stanza.get_all(Some(Query::Key(z.into())), None)?.into_future());
    }
    for (sender, origin) in &needs.origins {
        let key = codec::key(&[&sender.into(), &origin.into()]);
        requests.push(by_origin.get_all(Some(Query::Key(key)), None)?.into_future());
    }
    let known = Known::new([account]);
    let mut found: Vec<StoredMessage> = Vec::new();
    for request in requests {
        let values = request.await?;
        found.extend(values.iter().filter_map(|v| codec::decode_message(v, &known)));
    }
    Ok(found)
}

/// Issues every write of a batch (without waiting: the requests run in order inside the transaction).
fn issue(tx: &Transaction, ops: Vec<Op>, writes: Vec<plan::Write>) -> Result<(), idb::Error> {
    let store = |name: &str| -> Result<ObjectStore, idb::Error> { tx.object_store(name) };
    for op in ops {
        match op {
            Op::SetMeta(key, Some(value)) => drop(store(META)?.put(&codec::meta(key.name(), &value), None)?),
            Op::SetMeta(key, None) => drop(store(META)?.delete(Query::Key(key.name().into()))?),
            Op::PutRosterItem(item) => drop(store(ROSTER)?.put(&codec::roster_item(&item), None)?),
            Op::RemoveRosterItem(jid) => drop(store(ROSTER)?.delete(Query::Key(jid.to_string().into()))?),
            Op::ReplaceRoster(items) => {
                let roster = store(ROSTER)?;
                drop(roster.clear()?);
                for item in &items {
                    drop(roster.put(&codec::roster_item(item), None)?);
                }
            }
            Op::PutConversation(c) => drop(store(CONVERSATIONS)?.put(&codec::conversation(&c), None)?),
            Op::SetOutbox(records) => {
                let outbox = store(OUTBOX)?;
                drop(outbox.clear()?);
                for record in &records {
                    drop(outbox.put(&codec::outbox(record), None)?);
                }
            }
            Op::PutGap(gap) => drop(store(GAPS)?.put(&codec::gap(&gap), None)?),
            Op::RemoveGap { conversation, start } => {
                let key = codec::key(&[&codec::gap_scope(conversation.as_ref()).into(), &(start as f64).into()]);
                drop(store(GAPS)?.delete(Query::Key(key))?);
            }
            Op::AddMessage(_) | Op::SetMessageState { .. } => {}
        }
    }
    if !writes.is_empty() {
        let messages = store(MESSAGES)?;
        for write in &writes {
            drop(messages.put(&codec::message(write), None)?);
        }
    }
    Ok(())
}

/// Waits for `tx` (which has `store` in scope) to commit; an abort is the error that caused it.
async fn commit(tx: Transaction, store: &str, doing: &'static str) -> Result<(), StorageError> {
    // A second handle on the same transaction, to clear the handlers idb sets before its future (and their
    // closures) are dropped: after an error, the abort event still follows.
    let raw: Option<IdbTransaction> = tx.object_store(store).ok().map(|s| s.transaction().into());
    let result = tx.await;
    if let Some(raw) = &raw {
        raw.set_onabort(None);
        raw.set_oncomplete(None);
        raw.set_onerror(None);
    }
    match result {
        Ok(TransactionResult::Committed) => Ok(()),
        Ok(TransactionResult::Aborted) => Err(match raw.and_then(|t| t.error()) {
            Some(e) => from_dom(doing, &e),
            None => StorageError::Failed { doing, detail: "the browser aborted the transaction".into() },
        }),
        Err(e) => Err(failed(doing, &e)),
    }
}

/// The DOMException behind an idb error, if there is one.
fn dom_exception(error: &idb::Error) -> Option<DomException> {
    use idb::Error as E;
    let value = match error {
        E::DomException(e) => return Some(e.clone()),
        E::TransactionOpenFailed(v)
        | E::IndexedDbOpenFailed(v)
        | E::IndexedDbDeleteFailed(v)
        | E::GetFailed(v)
        | E::GetAllFailed(v)
        | E::GetAllKeysFailed(v)
        | E::OpenCursorFailed(v)
        | E::CursorAdvanceFailed(v)
        | E::CursorKeyNotFound(v)
        | E::UpdateFailed(v)
        | E::DeleteFailed(v)
        | E::ClearFailed(v)
        | E::ObjectStoreNotFound(v)
        | E::IndexNotFound(v)
        | E::KeyRangeCreateFailed(v)
        | E::ObjectStoreCreateFailed(v)
        | E::IndexCreateFailed(v) => v,
        _ => return None,
    };
    value.dyn_ref::<DomException>().cloned()
}

fn from_dom(doing: &'static str, e: &DomException) -> StorageError {
    match e.name().as_str() {
        "QuotaExceededError" => StorageError::QuotaExceeded,
        "InvalidStateError" => StorageError::Closed,
        "VersionError" => StorageError::NewerSchema { found: 0, supported: SCHEMA_VERSION },
        name => StorageError::Failed { doing, detail: format!("{name}: {}", e.message()) },
    }
}

/// The error in words: the browser's own (its DOMException) when there is one. (Not idb's `Display`, whose
/// messages for every variant would all land in the wasm.)
fn failed(doing: &'static str, error: &idb::Error) -> StorageError {
    match dom_exception(error) {
        Some(e) => from_dom(doing, &e),
        None => StorageError::Failed { doing, detail: "IndexedDB did not answer as expected".into() },
    }
}

/// Whether the browser keeps this site's data under storage pressure (`navigator.storage.persist()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Kept until the person clears it.
    Granted,
    /// The browser may evict it when disk space runs low.
    Denied,
    /// No `navigator.storage` here (an insecure context, an old browser).
    Unsupported,
}

thread_local! {
    static PERSISTENCE: Cell<Option<Persistence>> = const { Cell::new(None) };
}

/// Asks the browser once per page to keep this site's data (`persisted()` first, so a site that has it is not
/// asked again), and returns the answer; later calls return the first answer. Nothing depends on a grant.
pub async fn request_persistence() -> Persistence {
    if let Some(known) = PERSISTENCE.with(Cell::get) {
        return known;
    }
    let answer = ask_persistence().await;
    PERSISTENCE.with(|p| p.set(Some(answer)));
    answer
}

async fn ask_persistence() -> Persistence {
    let Some(window) = web_sys::window() else { return Persistence::Unsupported };
    // `navigator.storage` is undefined outside secure contexts; calling through it would throw.
    let storage = js_sys::Reflect::get(&window.navigator(), &"storage".into()).unwrap_or(JsValue::UNDEFINED);
    let Ok(storage) = storage.dyn_into::<web_sys::StorageManager>() else { return Persistence::Unsupported };
    let ask = |promise: Result<js_sys::Promise, JsValue>| async move {
        let promise = promise.ok()?;
        wasm_bindgen_futures::JsFuture::from(promise).await.ok()?.as_bool()
    };
    if ask(storage.persisted()).await == Some(true) {
        return Persistence::Granted;
    }
    match ask(storage.persist()).await {
        Some(true) => Persistence::Granted,
        Some(false) => Persistence::Denied,
        None => Persistence::Unsupported,
    }
}
