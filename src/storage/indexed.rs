//! The store in IndexedDB (wasm32 only), on the browser's API as web-sys exposes it.
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
//! Each request is awaited through a promise whose own `resolve` and `reject` functions are the request's
//! `onsuccess` and `onerror` handlers (`done`): no Rust closure per request, nothing to free, and a future
//! dropped early leaves nothing dangling. (`docs/storage.md` compares this with the `idb` and
//! `indexed_db_futures` crates: the same, in less wasm.) The promise settles during the request's own event
//! dispatch, so the next request of the same transaction is issued while the transaction is still active.
//!
//! What it does not do: list databases, or read anything of another account.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, IdbCursor, IdbCursorDirection, IdbDatabase, IdbFactory, IdbIndex, IdbKeyRange, IdbObjectStore,
    IdbObjectStoreParameters, IdbRequest, IdbTransaction, IdbTransactionMode,
};

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

/// A key path: one field name, or an array of them.
fn key_path(parts: &[&str]) -> JsValue {
    match parts {
        [one] => JsValue::from_str(one),
        many => many.iter().map(|p| JsValue::from_str(p)).collect::<Array>().into(),
    }
}

/// Waits for `request` to succeed (then its result) or fail (then its error, a `DOMException`).
///
/// The handlers are attached now, not when the future is first polled: requests issued together can then be
/// awaited one after the other without missing an event that fires while an earlier one is awaited.
fn done(request: &IdbRequest) -> impl Future<Output = Result<JsValue, JsValue>> + use<> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let request = request.clone();
    async move {
        match JsFuture::from(promise).await {
            Ok(_) => request.result(),
            Err(_) => Err(request.error().ok().flatten().map_or(JsValue::NULL, JsValue::from)),
        }
    }
}

/// Waits for `tx` to commit; an abort gives the error that caused it.
async fn committed(tx: &IdbTransaction) -> Result<(), JsValue> {
    // A failed request fires `error` and then `abort` on the transaction: `abort` alone says how it ended.
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    match JsFuture::from(promise).await {
        Ok(_) => Ok(()),
        Err(_) => Err(tx.error().map_or(JsValue::NULL, JsValue::from)),
    }
}

fn factory() -> Result<IdbFactory, StorageError> {
    let factory = web_sys::window().map(|w| w.indexed_db());
    match factory {
        Some(Ok(Some(factory))) => Ok(factory),
        Some(Err(e)) => Err(StorageError::Unavailable(words(&e))),
        _ => Err(StorageError::Unavailable("no indexedDB".into())),
    }
}

/// The browser's IndexedDB.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdbBackend;

impl Backend for IdbBackend {
    type Store = IdbStore;

    async fn open(&self, account: &BareJid) -> Result<IdbStore, StorageError> {
        let factory = factory()?;
        let name = database_name(account);
        let mut db = open_database(&factory, &name, None).await?;
        if !has_layout(&db) {
            // Older or incomplete: one version up, and the upgrade adds what is missing.
            let version = db.version() as u32;
            db.close();
            db = open_database(&factory, &name, Some(version + 1)).await?;
            if !has_layout(&db) {
                db.close();
                return Err(StorageError::Schema("a store or index could not be created".into()));
            }
        }
        if let Err(e) = check_schema(&db).await {
            db.close();
            return Err(e);
        }
        let closed = Rc::new(Cell::new(false));
        let on_change = {
            let (closed, db) = (closed.clone(), db.clone());
            // Another connection wants to upgrade or delete the database: let it (this handle then reports
            // Closed).
            Closure::<dyn FnMut()>::new(move || {
                closed.set(true);
                db.close();
            })
        };
        db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
        Ok(IdbStore { account: account.clone(), db, closed, writes: Cell::new(0), _on_change: on_change })
    }

    async fn delete(&self, account: &BareJid) -> Result<(), StorageError> {
        let doing = "delete the local store";
        let request = factory()?.delete_database(&database_name(account)).map_err(|e| failed(doing, e))?;
        done(&request).await.map(drop).map_err(|e| failed(doing, e))
    }
}

/// Opens `name` at `version` (the current one when `None`), upgrading it to this layout when the browser asks.
async fn open_database(factory: &IdbFactory, name: &str, version: Option<u32>) -> Result<IdbDatabase, StorageError> {
    let doing = "open the local store";
    let request = match version {
        Some(v) => factory.open_with_u32(name, v),
        None => factory.open(name),
    };
    let request = request.map_err(|e| failed(doing, e))?;
    let upgrade = {
        let request = request.clone();
        Closure::<dyn FnMut()>::new(move || {
            // (An upgrade always has its database and transaction; without them the layout check reports it.)
            let (Ok(db), Some(tx)) = (request.result(), request.transaction()) else { return };
            if add_missing(&db.unchecked_into(), &tx).is_err() {
                // The open then fails with an AbortError instead of succeeding half-made.
                let _ = tx.abort();
            }
        })
    };
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let opened = done(&request).await;
    request.set_onupgradeneeded(None);
    opened.map(JsCast::unchecked_into).map_err(|e| failed(doing, e))
}

/// Creates every store and index of [`LAYOUT`] the database lacks (inside the upgrade transaction `tx`).
fn add_missing(db: &IdbDatabase, tx: &IdbTransaction) -> Result<(), JsValue> {
    let existing = db.object_store_names();
    for layout in &LAYOUT {
        let store = if existing.contains(layout.name) {
            tx.object_store(layout.name)?
        } else {
            let params = IdbObjectStoreParameters::new();
            params.set_key_path(&key_path(layout.key));
            params.set_auto_increment(layout.generated);
            db.create_object_store_with_optional_parameters(layout.name, &params)?
        };
        let indexes = store.index_names();
        for (name, path) in layout.indexes {
            if !indexes.contains(name) {
                store.create_index_with_str_sequence(name, &key_path(path))?;
            }
        }
    }
    Ok(())
}

/// Whether every store and index of [`LAYOUT`] is there.
fn has_layout(db: &IdbDatabase) -> bool {
    let names = db.object_store_names();
    if !ALL.iter().all(|s| names.contains(s)) {
        return false;
    }
    let Ok(tx) = db.transaction_with_str_sequence(&stores(&ALL)) else { return false };
    LAYOUT.iter().all(|layout| match tx.object_store(layout.name) {
        Ok(store) => {
            let indexes = store.index_names();
            layout.indexes.iter().all(|(name, _)| indexes.contains(name))
        }
        Err(_) => false,
    })
}

fn stores(names: &[&str]) -> Array {
    names.iter().map(|n| JsValue::from_str(n)).collect()
}

/// Refuses a database of a newer layout; records this layout's version in one that has none yet.
async fn check_schema(db: &IdbDatabase) -> Result<(), StorageError> {
    let doing = "read the local store";
    let read = async {
        let tx = db.transaction_with_str(META)?;
        done(&tx.object_store(META)?.get(&SCHEMA_KEY.into())?).await
    };
    let found = read.await.map_err(|e| failed(doing, e))?;
    match codec::meta_entry(&found).and_then(|(_, v)| v.as_f64()) {
        Some(found) if found > f64::from(SCHEMA_VERSION) => {
            Err(StorageError::NewerSchema { found: found as u32, supported: SCHEMA_VERSION })
        }
        Some(_) => Ok(()),
        None => {
            let write = async {
                let tx = db.transaction_with_str_and_mode(META, IdbTransactionMode::Readwrite)?;
                let record = codec::meta(SCHEMA_KEY, "");
                js_sys::Reflect::set(&record, &"v".into(), &f64::from(SCHEMA_VERSION).into())?;
                tx.object_store(META)?.put(&record)?;
                committed(&tx).await
            };
            write.await.map_err(|e| failed("prepare the local store", e))
        }
    }
}

/// One account's store in IndexedDB. Dropping it closes the connection.
pub struct IdbStore {
    account: BareJid,
    db: IdbDatabase,
    /// Closed by [`Store::close`] or by another connection's version change (an upgrade or a deletion).
    closed: Rc<Cell<bool>>,
    writes: Cell<u64>,
    /// The `versionchange` handler (the database holds it until the connection closes).
    _on_change: Closure<dyn FnMut()>,
}

impl Drop for IdbStore {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

impl IdbStore {
    fn transaction(&self, names: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction, StorageError> {
        if self.closed.get() {
            return Err(StorageError::Closed);
        }
        let tx = self.db.transaction_with_str_sequence_and_mode(&stores(names), mode);
        tx.map_err(|e| failed("start a transaction", e))
    }

    /// The first message (lowest key) of `index` under `key`.
    async fn find(
        &self,
        index: &str,
        key: JsValue,
        sender: Option<&BareJid>,
    ) -> Result<Option<StoredMessage>, StorageError> {
        let tx = self.transaction(&[MESSAGES], IdbTransactionMode::Readonly)?;
        let read = async { done(&tx.object_store(MESSAGES)?.index(index)?.get(&key)?).await };
        let found = read.await.map_err(|e| failed("look up a message", e))?;
        let known = Known::new([&self.account].into_iter().chain(sender));
        Ok(codec::decode_message(&found, &known))
    }
}

impl Store for IdbStore {
    fn account(&self) -> &BareJid {
        &self.account
    }

    async fn snapshot(&self, request: &SnapshotRequest) -> Result<Snapshot, StorageError> {
        let tx = self.transaction(&ALL, IdbTransactionMode::Readonly)?;
        let read = async {
            let mut requests = Vec::with_capacity(5);
            for name in [META, ROSTER, CONVERSATIONS, OUTBOX, GAPS] {
                requests.push(done(&tx.object_store(name)?.get_all()?));
            }
            // All five were issued at once and run together; waiting for them in turn costs nothing more.
            let mut results = Vec::with_capacity(5);
            for request in requests {
                results.push(Array::from(&request.await?).to_vec());
            }
            Ok(results)
        };
        let results = read.await.map_err(|e| failed("read the local store", e))?;
        let [meta, roster, conversations, outbox, gaps] = <[Vec<JsValue>; 5]>::try_from(results)
            .map_err(|_| StorageError::Failed { doing: "read the local store", detail: String::new() })?;

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
        let from: Vec<(&BareJid, Option<PagePoint>)> = wanted.iter().map(|jid| (jid, None)).collect();
        let read =
            async { pages(&tx.object_store(MESSAGES)?.index("page")?, &self.account, &from, request.page).await };
        let pages = read.await.map_err(|e| failed("read the local store", e))?;
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
        let tx = self.transaction(&[MESSAGES], IdbTransactionMode::Readonly)?;
        let wanted = [(conversation, before)];
        let read = async { pages(&tx.object_store(MESSAGES)?.index("page")?, &self.account, &wanted, limit).await };
        let mut pages = read.await.map_err(|e| failed("read older messages", e))?;
        Ok(pages.pop().map(|(page, _)| page).unwrap_or_default())
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
        let tx = self.transaction(&ALL, IdbTransactionMode::Readwrite)?;
        self.writes.set(self.writes.get() + 1);
        let write = async {
            let found = look_up(&tx, &plan::needs(&ops, &self.account), &self.account).await?;
            let (writes, applied) = plan::plan(&ops, &self.account, found);
            if let Err(e) = issue(&tx, ops, writes) {
                // Nothing of a batch is kept unless all of it is.
                let _ = tx.abort();
                return Err(e);
            }
            committed(&tx).await?;
            Ok(applied)
        };
        // A failed look-up aborts the transaction by itself (its error event is not cancelled).
        write.await.map_err(|e| failed("save to the local store", e))
    }

    fn write_transactions(&self) -> u64 {
        self.writes.get()
    }

    fn close(&self) {
        self.closed.set(true);
        self.db.close();
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
    index: &IdbIndex,
    account: &BareJid,
    wanted: &[(&BareJid, Option<PagePoint>)],
    limit: usize,
) -> Result<Vec<(Page, usize)>, JsValue> {
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
        let open = before.is_some();
        ranges.push((IdbKeyRange::bound_with_lower_open_and_upper_open(&lower, &upper, false, open)?, upper, open));
    }
    // Round 1: where each run starts (its newest entry), if it has any.
    let mut cursors = Vec::with_capacity(ranges.len());
    for (range, _, _) in &ranges {
        cursors.push(index.open_key_cursor_with_range_and_direction(range, IdbCursorDirection::Prev)?);
    }
    let waits: Vec<_> = cursors.iter().map(done).collect();
    let mut newest: Vec<Option<IdbCursor>> = Vec::with_capacity(cursors.len());
    for wait in waits {
        newest.push(wait.await?.dyn_into().ok());
    }
    // Round 2: step over `limit` entries; a cursor still there has more than `limit` behind it. (The cursor
    // answers on the request that opened it.)
    let mut waits = Vec::with_capacity(cursors.len());
    for (request, cursor) in cursors.iter().zip(&newest) {
        waits.push(match cursor {
            Some(cursor) if limit > 0 => {
                cursor.advance(limit)?;
                Some(done(request))
            }
            _ => None,
        });
    }
    let mut beyond: Vec<Option<IdbCursor>> = Vec::with_capacity(waits.len());
    for wait in waits {
        beyond.push(match wait {
            Some(wait) => wait.await?.dyn_into().ok(),
            None => None,
        });
    }
    // Round 3: read each run.
    let mut reads = Vec::with_capacity(ranges.len());
    for (((range, upper, open), cursor), beyond) in ranges.into_iter().zip(&newest).zip(beyond) {
        let read = match (cursor, beyond) {
            (None, _) => (None, true),
            (Some(_), _) if limit == 0 => (None, false),
            // More than `limit`: read the `limit` entries above the one the cursor stopped at.
            (Some(_), Some(beyond)) => {
                let range = IdbKeyRange::bound_with_lower_open_and_upper_open(&beyond.key()?, &upper, true, open)?;
                (Some(done(&index.get_all_with_key_and_limit(&range, limit)?)), false)
            }
            (Some(_), None) => (Some(done(&index.get_all_with_key_and_limit(&range, limit)?)), true),
        };
        reads.push(read);
    }
    let mut pages = Vec::with_capacity(reads.len());
    for ((read, complete), (conversation, _)) in reads.into_iter().zip(wanted) {
        let values = match read {
            Some(read) => Array::from(&read.await?).to_vec(),
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
async fn look_up(tx: &IdbTransaction, needs: &plan::Needs, account: &BareJid) -> Result<Vec<StoredMessage>, JsValue> {
    if needs.stanza_ids.is_empty() && needs.origins.is_empty() {
        return Ok(Vec::new());
    }
    let messages = tx.object_store(MESSAGES)?;
    let (by_stanza, by_origin) = (messages.index("stanza")?, messages.index("origin")?);
    let mut requests = Vec::with_capacity(needs.stanza_ids.len() + needs.origins.len());
    for z in &needs.stanza_ids {
        requests.push(done(&by_stanza.get_all_with_key(&z.into())?));
    }
    for (sender, origin) in &needs.origins {
        requests.push(done(&by_origin.get_all_with_key(&codec::key(&[&sender.into(), &origin.into()]))?));
    }
    let known = Known::new([account]);
    let mut found: Vec<StoredMessage> = Vec::new();
    for request in requests {
        let values = Array::from(&request.await?);
        found.extend(values.iter().filter_map(|v| codec::decode_message(&v, &known)));
    }
    Ok(found)
}

/// Issues every write of a batch (without waiting: the requests run in order inside the transaction).
fn issue(tx: &IdbTransaction, ops: Vec<Op>, writes: Vec<plan::Write>) -> Result<(), JsValue> {
    let store = |name: &str| -> Result<IdbObjectStore, JsValue> { tx.object_store(name) };
    for op in ops {
        match op {
            Op::SetMeta(key, Some(value)) => drop(store(META)?.put(&codec::meta(key.name(), &value))?),
            Op::SetMeta(key, None) => drop(store(META)?.delete(&key.name().into())?),
            Op::PutRosterItem(item) => drop(store(ROSTER)?.put(&codec::roster_item(&item))?),
            Op::RemoveRosterItem(jid) => drop(store(ROSTER)?.delete(&jid.to_string().into())?),
            Op::ReplaceRoster(items) => {
                let roster = store(ROSTER)?;
                roster.clear()?;
                for item in &items {
                    roster.put(&codec::roster_item(item))?;
                }
            }
            Op::PutConversation(c) => drop(store(CONVERSATIONS)?.put(&codec::conversation(&c))?),
            Op::SetOutbox(records) => {
                let outbox = store(OUTBOX)?;
                outbox.clear()?;
                for record in &records {
                    outbox.put(&codec::outbox(record))?;
                }
            }
            Op::PutGap(gap) => drop(store(GAPS)?.put(&codec::gap(&gap))?),
            Op::RemoveGap { conversation, start } => {
                let key = codec::key(&[&codec::gap_scope(conversation.as_ref()).into(), &(start as f64).into()]);
                drop(store(GAPS)?.delete(&key)?);
            }
            Op::AddMessage(_) | Op::SetMessageState { .. } => {}
        }
    }
    if !writes.is_empty() {
        let messages = store(MESSAGES)?;
        for write in &writes {
            messages.put(&codec::message(write))?;
        }
    }
    Ok(())
}

/// A browser error in words: a `DOMException`'s name and message.
fn words(error: &JsValue) -> String {
    match error.dyn_ref::<DomException>() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => "IndexedDB did not answer as expected".into(),
    }
}

fn failed(doing: &'static str, error: JsValue) -> StorageError {
    match error.dyn_ref::<DomException>().map(DomException::name).as_deref() {
        Some("QuotaExceededError") => StorageError::QuotaExceeded,
        // A transaction on a closed connection (closed here, or for another tab's upgrade or deletion).
        Some("InvalidStateError") => StorageError::Closed,
        _ => StorageError::Failed { doing, detail: words(&error) },
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
    let ask = |promise: Result<Promise, JsValue>| async move {
        let promise = promise.ok()?;
        JsFuture::from(promise).await.ok()?.as_bool()
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
