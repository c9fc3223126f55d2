//! What outlives the page, on the UI's side: the account's local store opened at login (or at start), painted
//! into the [`AppState`] before the network answers, kept up to date as events arrive, and deleted on request.
//!
//! ```text
//!  page load ──▶ start: last account (localStorage) ──▶ stored FAST token? ──yes──▶ paint snapshot, connect with it
//!                                                                         └─no───▶ login form, address filled in
//!  Log in ──▶ log_in: open store ──▶ paint snapshot ──▶ connect (Config seeded: roster + version, cursor, de-dup)
//!  SessionHandle::receive ──▶ on_event ──▶ storage::sync::Mirror ──Op──▶ Writer (one transaction per turn)
//!  Send ──▶ on_send (stored pending)    outbox / unread / drafts ──▶ written when they change (debounced)
//!  Log out ──▶ token revoked on the server and deleted here; "forget" deletes the account's database too
//! ```
//!
//! Why the login form (address filled) and not the stored conversations when no token is kept: without
//! "Stay logged in" the person asked this browser not to let anyone in without the password, so the page does
//! not show their conversations to whoever opens it next; once they log in, the store is painted at once,
//! before the server answers.
//!
//! Which account: the last one logged in on this device, `localStorage["natter.last-account"]` (its bare JID,
//! and `natter.server-url` when one was typed under Advanced): not secret, and deleted by "Forget this
//! device's data". Each account has its own database (`storage::database_name`); logging in as another account
//! closes the first one's store and clears the screen before painting the other's, so one never sees another's.
//!
//! FAST tokens: every login where the server offers FAST asks for one (so that a reconnect never needs the
//! password, whatever the server's password storage); it is kept in memory only, unless the person ticked
//! "Stay logged in on this device", which stores it (each new one replaces it). Log out revokes it on the
//! server (a short login with `log_out`) and deletes it here. A stored token the server refuses is deleted,
//! and the login form comes back with the address filled in.
//!
//! What this module does not do: decide what each event means for the store (`storage::sync` does, natively
//! tested), show history pages from the archive (`archive`), or store the password (nothing here sees it).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::model::{ChatMessage, Contact, Delivery, OutboxEntry};
use super::state::{self, AppState, Connection, SessionHandle, Stamp, next_seq};
use crate::storage::indexed::{IdbBackend, IdbStore};
use crate::storage::sync::{Mirror, Seed, decode_token};
use crate::storage::writer::Writer;
use crate::storage::{
    Backend, ConversationKind, MessageRecord, MessageState, MetaKey, Op, OutboxRecord, Page, PagePoint, Snapshot,
    SnapshotRequest, StorageError, Store,
};
use crate::transport::{self, ConnectOptions, Session, TransportEvent};
use crate::xmpp::Event;
use crate::xmpp::jid::BareJid;
use crate::xmpp::sasl::FastToken;

/// The `localStorage` key of the last account used on this device (its bare JID).
pub const LAST_ACCOUNT: &str = "natter.last-account";
/// The `localStorage` key of the server URL typed for it, if one was.
pub const LAST_SERVER: &str = "natter.server-url";

/// Messages per conversation painted at start (the open one and the most recent others).
const PAGE: usize = 50;
/// How many of the most recently active conversations get their latest page at start.
const RECENT: usize = 10;

/// The open store of the logged-in account.
struct Active {
    account: BareJid,
    writer: Writer<IdbStore>,
    mirror: RefCell<Mirror>,
    /// The newest FAST token of this login (kept in memory even when not stored), for reconnects and log-out.
    token: RefCell<Option<FastToken>>,
    device_id: String,
    server_url: Option<String>,
    /// A save of the outbox, unread counts and drafts is scheduled.
    save_scheduled: Cell<bool>,
    /// The outbox as last written.
    outbox_written: RefCell<Vec<OutboxRecord>>,
    /// A message of the person's (sent, or the outbox) is queued or being written; `text_writes` counts
    /// them, so only the flush after the newest one clears it.
    text_pending: Cell<bool>,
    text_writes: Cell<u64>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Rc<Active>>> = const { RefCell::new(None) };
    /// Log-out sessions revoking a token, kept until their final event.
    static REVOKING: RefCell<Vec<Session>> = const { RefCell::new(Vec::new()) };
}

fn active() -> Option<Rc<Active>> {
    ACTIVE.with(|a| a.borrow().clone())
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The last account used on this device and its server URL, if any.
pub fn last_account() -> Option<(BareJid, Option<String>)> {
    let s = local_storage()?;
    let jid = BareJid::parse(&s.get_item(LAST_ACCOUNT).ok()??).ok()?;
    let url = s.get_item(LAST_SERVER).ok().flatten().filter(|u| !u.is_empty());
    Some((jid, url))
}

fn remember_account(jid: &BareJid, server_url: Option<&str>) {
    if let Some(s) = local_storage() {
        let _ = s.set_item(LAST_ACCOUNT, &jid.to_string());
        match server_url {
            Some(url) => s.set_item(LAST_SERVER, url),
            None => s.remove_item(LAST_SERVER),
        }
        .ok();
    }
}

fn forget_account() {
    if let Some(s) = local_storage() {
        let _ = s.remove_item(LAST_ACCOUNT);
        let _ = s.remove_item(LAST_SERVER);
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Page load: fills the login form with the last account; when its store keeps a FAST token, paints the store
/// and logs in with the token (no password typed). Call once, from the app root.
pub fn start(store: AppState, session: SessionHandle, form: super::login::LoginForm) {
    watch(store);
    let Some((jid, server_url)) = last_account() else { return };
    form.address.set(jid.to_string());
    form.server_url.set(server_url.clone().unwrap_or_default());
    spawn_local(async move {
        if let Some(options) = resume(store, jid, server_url).await {
            session.resume(store, options);
        }
    });
}

/// When the store of `jid` keeps a FAST token: paints the store and returns the options to log in with the
/// token (the caller connects). `None` (nothing painted): no token, or no store.
pub async fn resume(store: AppState, jid: BareJid, server_url: Option<String>) -> Option<ConnectOptions> {
    let (handle, snapshot) = open_and_read(&jid, store).await.ok()?;
    let Some(token) = snapshot.meta.fast_token.as_deref().and_then(decode_token) else {
        handle.close();
        return None;
    };
    let mut options = ConnectOptions::with_password(jid, String::new(), server_url.clone());
    options.seed = Some(Seed::from_snapshot(&snapshot));
    activate(store, handle, &snapshot, true, server_url);
    options.token = Some(token);
    options.device_id = active().map(|a| a.device_id.clone());
    options.stay_logged_in = true;
    Some(options)
}

/// The login form's "Log in": opens the account's store, paints it, then logs in with the core seeded from it.
/// Without a store (a browser that refuses IndexedDB) it logs in all the same, keeping nothing.
pub fn log_in(store: AppState, session: SessionHandle, options: ConnectOptions, stay: bool) {
    store.login_error.set(None);
    store.progress.set(Some("Opening this device's data…".into()));
    store.connection.set(Connection::LoggingIn);
    spawn_local(async move {
        let options = load(store, options, stay).await;
        // Cancelled meanwhile: nothing to start.
        if store.connection.get_untracked() == Connection::LoggingIn {
            session.login(store, options);
        }
    });
}

/// A login of the account whose store is open (the password prompt's "log in again"): with this device's id,
/// asking for a token (in memory; stored only with "Stay logged in"), so the next drop needs no password.
pub fn on_this_device(mut options: ConnectOptions) -> ConnectOptions {
    if let Some(active) = active().filter(|a| a.account == options.jid) {
        options.device_id = Some(active.device_id.clone());
        options.stay_logged_in = true;
    }
    options
}

/// Opens the store of the account `options` log in to, paints it into `store` (after clearing what another
/// account left there), and returns the options with this device's id and the core's seed. Tests call it
/// in place of [`log_in`] (they play the session themselves).
pub async fn load(store: AppState, mut options: ConnectOptions, stay: bool) -> ConnectOptions {
    let jid = options.jid.clone();
    close().await;
    // Everything of an earlier account goes first (connection state is kept: the login runs).
    let connection = store.connection.get_untracked();
    state::reset(store);
    store.connection.set(connection);
    options.stay_logged_in = true; // a token in memory at least, for reconnects (see the module docs)
    match open_and_read(&jid, store).await {
        Ok((handle, snapshot)) => {
            options.seed = Some(Seed::from_snapshot(&snapshot));
            activate(store, handle, &snapshot, stay, options.server_url.clone());
            options.device_id = active().map(|a| a.device_id.clone());
            remember_account(&jid, options.server_url.as_deref());
        }
        Err(error) => {
            web_sys::console::warn_1(&format!("Natter keeps nothing on this device: {error}").into());
            options.device_id = Some(transport::new_device_id());
        }
    }
    options
}

async fn open_and_read(jid: &BareJid, store: AppState) -> Result<(IdbStore, Snapshot), StorageError> {
    let handle = IdbBackend.open(jid).await?;
    match handle.snapshot(&request(store)).await {
        Ok(snapshot) => Ok((handle, snapshot)),
        Err(e) => {
            handle.close();
            Err(e)
        }
    }
}

fn request(store: AppState) -> SnapshotRequest {
    let open = store.selected.get_untracked().or_else(|| store.rooms.open.get_untracked()).or_else(|| {
        let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        super::history::parse_room_hash(&hash)
    });
    SnapshotRequest { open, recent: RECENT, page: PAGE }
}

/// The stored record of a conversation or room (its nick and archive point, for a room), if a store is open.
pub fn stored(jid: &BareJid) -> Option<crate::storage::ConversationRecord> {
    active()?.mirror.borrow().conversation(jid).cloned()
}

/// How a stored message of the conversation with `jid` shows: Read when the peer's newest displayed marker
/// covers it (a marker counts for every earlier message), else its stored state.
pub fn shown_state(jid: &BareJid, m: &MessageRecord) -> MessageState {
    let shown = active().and_then(|a| a.mirror.borrow().conversation(jid).map(|record| record.shown_state(m)));
    shown.unwrap_or_else(|| m.state.clone())
}

/// Makes `handle` the active store, paints `snapshot` and draws the device id if there is none yet.
fn activate(store: AppState, handle: IdbStore, snapshot: &Snapshot, stay: bool, server_url: Option<String>) {
    let account = handle.account().clone();
    let writer = Writer::new(Rc::new(handle), move |error: StorageError| {
        web_sys::console::warn_1(&format!("Natter could not store: {error}").into());
    });
    let device_id = match snapshot.meta.device_id.clone() {
        Some(id) => id,
        None => {
            let id = transport::new_device_id();
            writer.push(Op::SetMeta(MetaKey::DeviceId, Some(id.clone())));
            id
        }
    };
    let token = snapshot.meta.fast_token.as_deref().and_then(decode_token);
    if !stay && token.is_some() {
        // Not staying logged in any more: the stored token goes (the new login brings one in memory).
        writer.push(Op::SetMeta(MetaKey::FastToken, None));
    }
    let mirror = Mirror::from_snapshot(account.clone(), stay, snapshot);
    let active = Active {
        account: account.clone(),
        writer,
        mirror: RefCell::new(mirror),
        token: RefCell::new(token),
        device_id,
        server_url,
        save_scheduled: Cell::new(false),
        outbox_written: RefCell::new(snapshot.outbox.clone()),
        text_pending: Cell::new(false),
        text_writes: Cell::new(0),
    };
    ACTIVE.with(|a| *a.borrow_mut() = Some(Rc::new(active)));
    paint(store, &account, snapshot);
}

/// Puts a snapshot on screen: contacts, conversations with their latest messages, unread counts, drafts, and
/// the outbox (with own messages a closed page left unconfirmed: they go out again, with their ids).
pub fn paint(store: AppState, account: &BareJid, snapshot: &Snapshot) {
    store.account.set(Some(account.clone()));
    let mut contacts: std::collections::HashMap<BareJid, Contact> =
        snapshot.roster.iter().map(|item| (item.jid.clone(), Contact::from_roster(item))).collect();
    // One-to-one conversations only: rooms (kind groupchat) are the group chat UI's to show (`rooms::keep::paint`,
    // below).
    let chats = || snapshot.conversations.iter().filter(|c| c.kind == ConversationKind::Chat);
    for c in chats() {
        let contact = contacts.entry(c.jid.clone()).or_insert_with(|| Contact::stranger(c.jid.clone()));
        contact.unread = c.unread;
    }
    store.contacts.set(contacts);
    for c in chats() {
        if !c.draft.is_empty() {
            store.update_conversation(&c.jid, |conv| conv.draft = c.draft.clone());
        }
    }
    let mut outbox: Vec<OutboxEntry> = snapshot
        .outbox
        .iter()
        .map(|o| OutboxEntry { id: o.id.clone(), to: o.to.clone(), body: o.body.clone(), created_ms: o.created as u64 })
        .collect();
    let own = state::own_name(account);
    let room = |jid: &BareJid| snapshot.conversations.iter().any(|c| &c.jid == jid && c.kind != ConversationKind::Chat);
    for (jid, page) in snapshot.pages.iter().filter(|(jid, _)| !room(jid)) {
        let record = snapshot.conversations.iter().find(|c| &c.jid == jid);
        for stored in &page.messages {
            let m = &stored.message;
            let unconfirmed = m.state == MessageState::Pending;
            if let (true, Some(id)) = (unconfirmed, &m.id)
                && !outbox.iter().any(|o| &o.id == id)
            {
                let body = if m.is_me_action { format!("/me {}", m.body) } else { m.body.clone() };
                outbox.push(OutboxEntry { id: id.clone(), to: jid.clone(), body, created_ms: m.time as u64 });
            }
            // Read when the peer's newest marker covers it (a marker counts for every earlier message).
            let shown = record.map_or_else(|| m.state.clone(), |c| c.shown_state(m));
            state::push_message(store, jid, chat_message(store, &own, m, &shown), None);
        }
    }
    super::rooms::keep::paint(store, snapshot);
    // What waits in the outbox shows in its conversation even when that page was not read.
    for entry in &outbox {
        if !store.own_ids.with_value(|ids| ids.contains_key(&entry.id)) {
            super::outbox::show_own(store, &entry.to, Some(entry.id.clone()), &entry.body, Delivery::Pending);
        }
    }
    store.outbox.set(outbox);
}

/// The transcript row of a stored one-to-one message (`own`: how our own messages are signed; `shown`: its
/// state as shown, [`shown_state`]).
pub fn chat_message(store: AppState, own: &str, m: &MessageRecord, shown: &MessageState) -> ChatMessage {
    let sender = if m.from_me { own.to_owned() } else { state::name_of(store, &m.sender) };
    let stamp = Stamp::from_ms(m.time.max(0) as u64);
    let (delivery, error) = match shown {
        MessageState::Received => (None, None),
        MessageState::Pending => (Some(Delivery::Pending), None),
        MessageState::Sent => (Some(Delivery::Sent), None),
        MessageState::Delivered => (Some(Delivery::Delivered), None),
        MessageState::Read => (Some(Delivery::Read), None),
        MessageState::Failed(why) => (Some(Delivery::Sent), Some(why.clone())),
    };
    ChatMessage {
        seq: next_seq(),
        id: m.id.clone(),
        from_me: m.from_me,
        archive_id: m.stanza_id.clone(),
        is_me_action: m.is_me_action,
        delivery,
        error,
        ..ChatMessage::at(stamp, sender, m.body.clone())
    }
}

/// Keeps what an event of the current session says (called by [`SessionHandle::receive`] before it applies
/// the event).
pub fn on_event(event: &TransportEvent) {
    let Some(active) = active() else { return };
    let TransportEvent::Core(event) = event else { return };
    match event {
        Event::FastToken(token) => *active.token.borrow_mut() = Some(token.clone()),
        Event::FastTokenInvalidated => *active.token.borrow_mut() = None,
        Event::Online { .. } => {
            spawn_local(async {
                let _ = crate::storage::indexed::request_persistence().await;
            });
        }
        Event::Closed { error: Some(e) } if e.needs_password() && active.token.borrow().is_some() => {
            // The kept token was refused: it is of no use any more.
            *active.token.borrow_mut() = None;
            active.writer.push(Op::SetMeta(MetaKey::FastToken, None));
        }
        _ => {}
    }
    let ops = active.mirror.borrow_mut().on_event(event, now_ms());
    for op in ops {
        active.writer.push(op);
    }
}

/// The person pressed Send: the message is kept at once, pending (and stays kept if the page closes first).
pub fn on_send(to: &BareJid, id: &str, body: &str) {
    let Some(active) = active() else { return };
    let ops = active.mirror.borrow_mut().on_send(to, id, body, now_ms());
    push_kept(&active, ops);
}

/// Pushes ops that hold a message of the person's, and notes that they are not written until the flush after
/// them ends ([`keeps_everything`]).
fn push_kept(active: &Rc<Active>, ops: Vec<Op>) {
    for op in ops {
        active.writer.push(op);
    }
    let n = active.text_writes.get() + 1;
    active.text_writes.set(n);
    active.text_pending.set(true);
    let active = active.clone();
    spawn_local(async move {
        active.writer.flush().await;
        if active.text_writes.get() == n {
            active.text_pending.set(false);
        }
    });
}

/// Something the debounced save covers changed without notifying (a draft typed): save soon.
pub fn changed(store: AppState) {
    let Some(active) = active() else { return };
    if active.save_scheduled.replace(true) {
        return;
    }
    set_timeout(move || save(store), std::time::Duration::from_millis(300));
}

/// Writes the outbox, unread counts (of chats and rooms) and drafts that changed (on a timer, so a burst of changes is one).
fn save(store: AppState) {
    let Some(active) = active() else { return };
    active.save_scheduled.set(false);
    let outbox = store.outbox.try_with_untracked(|o| {
        o.iter()
            .map(|e| OutboxRecord {
                id: e.id.clone(),
                to: e.to.clone(),
                body: e.body.clone(),
                created: e.created_ms as i64,
            })
            .collect::<Vec<_>>()
    });
    let Some(outbox) = outbox else { return };
    let mut mirror = active.mirror.borrow_mut();
    let outbox_changed = *active.outbox_written.borrow() != outbox;
    let outbox_op = outbox_changed.then(|| {
        active.outbox_written.replace(outbox.clone());
        mirror.on_outbox(outbox)
    });
    let convs: Vec<(BareJid, String)> = store
        .conversations
        .try_with_untracked(|c| c.iter().map(|(j, c)| (j.clone(), c.draft.clone())).collect())
        .unwrap_or_default();
    for (jid, draft) in convs {
        let unread = store.contacts.try_with_untracked(|c| c.get(&jid).map_or(0, |c| c.unread)).unwrap_or(0);
        if let Some(op) = mirror.on_conversation(&jid, unread, &draft) {
            active.writer.push(op);
        }
    }
    let rooms: Vec<(BareJid, u32, u32)> = store
        .rooms
        .rooms
        .try_with_untracked(|r| r.values().map(|r| (r.jid.clone(), r.unread, r.mentions)).collect())
        .unwrap_or_default();
    for (room, unread, mentions) in rooms {
        if let Some(op) = mirror.on_room_unread(&room, unread, mentions) {
            active.writer.push(op);
        }
    }
    drop(mirror);
    if let Some(op) = outbox_op {
        push_kept(&active, vec![op]);
    }
}

/// Saves the outbox, unread counts and drafts whenever they change (the app root calls it once, through
/// [`start`]).
pub fn watch(store: AppState) {
    super::effect(move || {
        store.outbox.track();
        store.conversations.track();
        store.contacts.track();
        store.rooms.rooms.track();
        changed(store);
    });
}

/// Writes what is queued and closes the active store (if any): the next login opens its own.
pub async fn close() {
    let Some(active) = ACTIVE.with(|a| a.borrow_mut().take()) else { return };
    active.writer.flush().await;
    active.writer.store().close();
}

/// Whether the person's messages (sent, and waiting in the outbox) are all written to the store: then leaving
/// the page loses none of them (the next page sends what is not confirmed again, with the same ids), and need not
/// ask. `None` when no store is open. Drafts do not make it ask: one typed within the last moment may be lost.
pub fn keeps_everything(store: AppState) -> Option<bool> {
    let active = active()?;
    save(store);
    Some(!active.text_pending.get())
}

/// Writes what is queued now (tests, and before leaving).
pub async fn flush() {
    if let Some(active) = active() {
        active.writer.flush().await;
    }
}

/// Up to `limit` stored messages of `conversation` before `before` (the latest when `None`), oldest first, and
/// whether nothing older is stored: what scroll-back shows before it asks the archive (`Command::LoadOlder`
/// once `complete`). `Err(StorageError::Closed)` when no account's store is open.
pub async fn older(conversation: &BareJid, before: Option<PagePoint>, limit: usize) -> Result<Page, StorageError> {
    let Some(active) = active() else { return Err(StorageError::Closed) };
    active.writer.flush().await;
    active.writer.store().page_before(conversation, before, limit).await
}

/// Logs out: closes the session, revokes the FAST token on the server (when there is one) and deletes it
/// here; `forget` also deletes everything this device keeps of the account and which account was last used.
pub async fn log_out(store: AppState, session: SessionHandle, forget: bool) {
    session.logout(store);
    let Some(active) = ACTIVE.with(|a| a.borrow_mut().take()) else {
        if forget {
            forget_account();
        }
        return;
    };
    if let Some(token) = active.token.borrow_mut().take() {
        revoke(&active, token);
    }
    active.writer.push(Op::SetMeta(MetaKey::FastToken, None));
    active.writer.flush().await;
    active.writer.store().close();
    if forget {
        forget_account();
        if let Err(e) = IdbBackend.delete(&active.account).await {
            state::notify(store, state::NoticeKind::Error, format!("Could not delete this device's data: {e}."));
        }
    }
}

/// Has the server revoke `token` (a short login that only does that); the session is kept until it ends.
fn revoke(active: &Active, token: FastToken) {
    let mut options = ConnectOptions::with_password(active.account.clone(), String::new(), active.server_url.clone());
    options.token = Some(token);
    options.device_id = Some(active.device_id.clone());
    options.log_out = true;
    let session = transport::connect(options, |event| {
        if matches!(event, TransportEvent::Failed(_) | TransportEvent::Core(Event::Closed { .. })) {
            // Its last word: let it go (outside this call: the transport is still inside it).
            spawn_local(async { REVOKING.with(|r| r.borrow_mut().retain(|s| !s.is_finished())) });
        }
    });
    REVOKING.with(|r| r.borrow_mut().push(session));
}

/// "Log out": ends the session, revokes the token; what this device keeps stays, for the next login (the login
/// form then offers to forget it: [`ForgetDeviceData`]). One click, as before the store existed.
#[component]
pub fn LogOutButton() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    view! {
        <button type="button" class="button ghost small" on:click=super::handler(move |_| spawn_local(log_out(store, session, false)))>
            "Log out"
        </button>
    }
}

/// On the login form, while this device keeps an account's data: what is kept, and the button that deletes it
/// (the account's database and the last-account record) and empties the form's address.
#[component]
pub fn ForgetDeviceData() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let form = expect_context::<super::login::LoginForm>();
    let kept = RwSignal::new(last_account().map(|(jid, _)| jid.to_string()));
    let forget = move |_| {
        let Some(jid) = kept.get_untracked().and_then(|j| BareJid::parse(&j).ok()) else { return };
        spawn_local(async move {
            let ours = active().is_some_and(|a| a.account == jid);
            if ours {
                log_out(store, session, true).await;
            } else {
                forget_account();
                if let Err(e) = IdbBackend.delete(&jid).await {
                    store.login_error.set(Some(format!("Could not delete this device's data: {e}.")));
                    return;
                }
            }
            kept.set(None);
            form.address.set(String::new());
            form.server_url.set(String::new());
            store.progress.set(Some("This device's data was deleted.".into()));
        });
    };
    super::show(
        move || kept.with(Option::is_some),
        move || {
            view! {
                <div class="forget-device">
                    <p class="field-hint">
                        {move || format!(
                            "This browser keeps the messages and contacts of {} for a quick start.",
                            kept.get().unwrap_or_default()
                        )}
                    </p>
                    <button type="button" class="button ghost small" on:click=super::handler(forget)>
                        "Forget this device's data"
                    </button>
                </div>
            }
            .into_any()
        },
    )
}
