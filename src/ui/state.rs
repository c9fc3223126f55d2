//! The UI state and the one place where transport and core events change it.
//!
//! ```text
//!   transport ──TransportEvent──▶ apply(store, event) ──signal writes──▶ AppState ──signals──▶ views
//!   views ──Command──▶ SessionHandle::send ──▶ transport
//! ```
//!
//! [`apply`] is the only writer of session data; components read the signals of [`AppState`] and send commands
//! through the [`SessionHandle`] in context (the few UI-only writes, like which conversation is open, are
//! small helper functions here too).
//!
//! Each part of the state is one plain signal; collections (contacts, conversations) are one signal each, not
//! a signal per item. Readers narrow them with memos: a roster row memoizes what it shows of its own contact,
//! so a presence change re-checks the ~50 rendered rows (a map lookup each) and re-renders one. Only the rows
//! in view exist (the roster is virtualized), so this stays cheap at any roster size, and it keeps the wasm
//! smaller than a store with a signal per field and per key (`reactive_stores` made the gzipped bundle 18.6 KB larger).
//!
//! A conversation's messages are kept in pages ([`MessagePage`], at most [`model::PAGE_SIZE`] each). Each
//! rendered page memoizes its message keys and errors, and a message row is built once from its message: a
//! new message re-checks each page's keys (a hundred numbers) and adds one row. (With one flat list, each new
//! message cost time in proportion to the transcript: a 1,000-message burst into the open conversation took
//! about a minute.)
//!
//! What this module does not do: protocol work (the core's), sockets (the transport's), or keep the password
//! anywhere (it passes straight from the login form to [`crate::transport::connect`]).

use std::cell::Cell;
use std::collections::HashMap;

use leptos::prelude::*;

use super::archive;
use super::model::{self, ChatMessage, Contact, Delivery, MessagePage, OutboxEntry};
use super::outbox::{self, OwnIds};
use crate::transport::{self, ConnectOptions, Session, TransportEvent};
use crate::xmpp::client::{RequestError, RosterAction};
use crate::xmpp::jid::BareJid;
use crate::xmpp::sasl::SaslError;
use crate::xmpp::stanza::message::split_me;
use crate::xmpp::stanza::message::{ChatState, Message, MessageType};
use crate::xmpp::stanza::presence::Show;
use crate::xmpp::stanza::roster::Subscription;
use crate::xmpp::{ClientError, Command, CommandError, Event, Phase};

/// Where the session is, as the person sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Connection {
    /// The login form, idle.
    #[default]
    LoggedOut,
    /// The login form, with a login in progress.
    LoggingIn,
    /// After a reload, logging in with the kept FAST token ("Stay logged in"): the main screen, painted from the
    /// local store, marked as connecting.
    Starting,
    Online,
    /// The session was lost and the transport is reconnecting; the main screen stays. `retry_at` is when the
    /// next attempt starts (`Date.now()` milliseconds), `None` while one is running.
    Reconnecting {
        reason: String,
        retry_at: Option<u64>,
    },
    /// The session ended unexpectedly; the main screen stays (read-only) with the reason.
    Offline {
        reason: String,
    },
    /// Logging in again needs the password (the server refused the keys kept from the login, or the person
    /// chose "Log in again"): the main screen stays, with a password prompt saying `reason`. `busy` while the
    /// login with the typed password runs.
    PasswordNeeded {
        reason: String,
        busy: bool,
    },
}

/// What the password prompt says when the server refused the keys Natter kept (a new salt at every login).
pub const PASSWORD_AGAIN: &str = "Your server asks for your password again to reconnect.";

/// The presence we broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnPresence {
    pub show: Show,
    pub status: String,
}

impl Default for OwnPresence {
    fn default() -> Self {
        OwnPresence { show: Show::Available, status: String::new() }
    }
}

/// Someone asks to see our presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub from: BareJid,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Error,
}

/// A message about something that happened outside the open conversation (a refused roster change, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: u64,
    pub kind: NoticeKind,
    pub text: String,
    /// When it retires by itself (`Date.now()` milliseconds).
    pub expires_at: u64,
}

impl NoticeKind {
    /// How long a notice of this kind stays unless dismissed: long enough to read, and errors longer.
    pub fn lifetime(self) -> std::time::Duration {
        std::time::Duration::from_secs(match self {
            NoticeKind::Info => 10,
            NoticeKind::Error => 60,
        })
    }
}

/// Notices shown at most at once (older ones give way).
pub const MAX_NOTICES: usize = 4;

/// One conversation's state for this session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// The transcript, oldest first, in pages of at most [`model::PAGE_SIZE`] messages (only ever appended).
    pub pages: Vec<MessagePage>,
    /// What is typed in the composer and not sent yet.
    pub draft: String,
    /// Why the last send did not happen (e.g. too long), shown next to the composer.
    pub send_error: Option<String>,
    /// The id of the newest message from them that asks for a `displayed` marker (XEP-0333).
    pub markable: Option<String>,
    /// The id of the last `displayed` marker we sent them.
    pub marked: Option<String>,
    /// What is known of its history in the archive: loading, start reached, gaps, page keys ([`archive`]).
    pub archive: archive::Transcript,
}

/// Everything the UI shows, a signal per part. `Copy`: components take it from context and pass it on.
/// `AppState::default()` is a fresh page: logged out, nothing known.
#[derive(Clone, Copy, Default)]
pub struct AppState {
    pub connection: RwSignal<Connection>,
    /// The login stage running now ("Connecting…"), for the live region on the login screen.
    pub progress: RwSignal<Option<String>>,
    /// Why the last login failed.
    pub login_error: RwSignal<Option<String>>,
    /// The account (bare JID) of the current session.
    pub account: RwSignal<Option<BareJid>>,
    /// The full JID the server bound.
    pub bound_jid: RwSignal<Option<String>>,
    pub own_presence: RwSignal<OwnPresence>,
    pub contacts: RwSignal<HashMap<BareJid, Contact>>,
    pub requests: RwSignal<Vec<SubscriptionRequest>>,
    pub conversations: RwSignal<HashMap<BareJid, Conversation>>,
    /// The open conversation.
    pub selected: RwSignal<Option<BareJid>>,
    pub notices: RwSignal<Vec<Notice>>,
    /// Unread messages are announced with a desktop notification ([`super::notifications`]); the person's
    /// choice, off by default.
    pub alert_desktop: RwSignal<bool>,
    /// … and with a short tone.
    pub alert_sound: RwSignal<bool>,
    /// Messages the person sent that no session has taken yet, oldest first ([`outbox`]).
    pub outbox: RwSignal<Vec<OutboxEntry>>,
    /// Where each of our own messages is: its id → (conversation, row `seq`), so that the core's events about
    /// a message (by id) find its row without a scan. Not reactive: the rows themselves are.
    pub own_ids: StoredValue<OwnIds>,
    /// The page is hidden (another tab in front, minimized): nothing counts as seen.
    pub page_hidden: RwSignal<bool>,
    /// Group chat ([`super::rooms`]).
    pub rooms: super::rooms::RoomsState,
    /// The account's catch-up from the archive is running (between `CatchingUp` and its end): a conversation
    /// holding nothing waits for it before asking the archive for its newest page ([`super::archive`]).
    pub catching_up: RwSignal<bool>,
}

impl AppState {
    /// Changes the contact `jid` if there is one; `f` says whether it changed anything (readers are only
    /// notified then).
    pub fn update_contact(&self, jid: &BareJid, f: impl FnOnce(&mut Contact) -> bool) {
        self.contacts.maybe_update(|c| c.get_mut(jid).is_some_and(f));
    }

    /// Changes the conversation with `jid`, creating it first if needed.
    pub fn update_conversation(&self, jid: &BareJid, f: impl FnOnce(&mut Conversation)) {
        self.edit_conversation(jid, Box::new(f));
    }

    /// [`AppState::update_conversation`] through one compiled copy of the signal's update for every caller.
    fn edit_conversation(&self, jid: &BareJid, f: Box<dyn FnOnce(&mut Conversation) + '_>) {
        self.conversations.update(|c| match c.get_mut(jid) {
            Some(conv) => f(conv),
            None => f(c.entry(jid.clone()).or_default()),
        });
    }

    /// Reads the contact `jid` (tracked), if there is one.
    pub fn with_contact<T>(&self, jid: &BareJid, f: impl FnOnce(&Contact) -> T) -> Option<T> {
        self.contacts.try_with(|c| c.get(jid).map(f)).flatten()
    }

    /// Whether leaving the page now would lose something the person wrote: a draft in any conversation, a
    /// message in the outbox, or one a session took that the server has not confirmed yet. With a local store
    /// that has them all written, nothing is lost: it does not ask. (Only asked when the
    /// page is about to go, so the transcripts are simply looked through.)
    pub fn has_unsent(&self) -> bool {
        // The local store keeps the outbox and the unconfirmed messages once written: a reload sends them again.
        if super::persist::keeps_everything(*self) == Some(true) {
            return false;
        }
        let sending = |m: &ChatMessage| m.delivery == Some(Delivery::Sending) && m.error.is_none();
        self.outbox.try_with_untracked(|o| !o.is_empty()) == Some(true)
            || self.conversations.try_with_untracked(|c| {
                c.values().any(|c| !c.draft.trim().is_empty() || c.pages.iter().any(|p| p.messages.iter().any(sending)))
            }) == Some(true)
    }

    /// Reads the conversation with `jid` (tracked), if there is one.
    pub fn with_conversation<T>(&self, jid: &BareJid, f: impl FnOnce(&Conversation) -> T) -> Option<T> {
        self.conversations.try_with(|c| c.get(jid).map(f)).flatten()
    }
}

thread_local! {
    static NEXT_SEQ: Cell<u64> = const { Cell::new(FIRST_SEQ) };
    static PREV_SEQ: Cell<u64> = const { Cell::new(FIRST_SEQ - 1) };
}

/// Where [`next_seq`] starts: below it, [`prev_seq`] numbers older messages put in front of a transcript.
const FIRST_SEQ: u64 = 1 << 48;

/// A number unique for the page's lifetime (message keys, notice ids).
pub fn next_seq() -> u64 {
    NEXT_SEQ.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    })
}

/// A number below every [`next_seq`] and every earlier `prev_seq` (older messages put in front of a transcript,
/// whose rows must sort before those shown).
pub fn prev_seq() -> u64 {
    PREV_SEQ.with(|n| {
        let v = n.get();
        n.set(v - 1);
        v
    })
}

/// Applies one event from the transport (or the core through it) to the store.
pub fn apply(store: AppState, event: TransportEvent) {
    match event {
        TransportEvent::Discovering => store.progress.set(Some("Looking up server…".into())),
        TransportEvent::Connecting { url } => match store.connection.get_untracked() {
            Connection::Reconnecting { reason, retry_at } => {
                if retry_at.is_some() {
                    store.connection.set(Connection::Reconnecting { reason, retry_at: None });
                }
            }
            _ => store.progress.set(Some(format!("Connecting to {url}…"))),
        },
        TransportEvent::Reconnecting { delay, reason, .. } => {
            all_offline(store);
            store.catching_up.set(false);
            let retry_at = Some(js_sys::Date::now() as u64 + delay.as_millis() as u64);
            store.connection.set(Connection::Reconnecting { reason, retry_at });
        }
        TransportEvent::Core(ev) => apply_core(store, ev),
        TransportEvent::Unsent(messages) => outbox::put_back(store, messages),
        TransportEvent::Failed(e) => session_ended(store, e.to_string(), false),
    }
}

fn apply_core(store: AppState, event: Event) {
    match event {
        Event::Phase(Phase::Online) => {}
        Event::Phase(p) => {
            if store.connection.get_untracked() == Connection::LoggingIn {
                store.progress.set(Some(p.label().into()));
            }
        }
        Event::Online { jid, .. } => {
            // Logging in again (after the session ended) keeps what the same account had, not another's.
            if store.account.with_untracked(|a| a.as_ref().is_some_and(|a| a != jid.bare())) {
                reset(store);
            }
            store.bound_jid.set(Some(jid.to_string()));
            store.account.set(Some(jid.bare().clone()));
            store.progress.set(None);
            store.login_error.set(None);
            store.connection.set(Connection::Online);
        }
        // FAST tokens: the core keeps the newest for reconnecting; storing one ("Stay logged in") is not wired yet.
        Event::FastToken(_) | Event::FastTokenInvalidated => {}
        Event::Roster { items, ver: _ } => {
            let keep = store.conversations.with_untracked(|convs| {
                convs.iter().filter(|(_, c)| !c.pages.is_empty()).map(|(j, _)| j.clone()).collect::<Vec<_>>()
            });
            let merged = store.contacts.with_untracked(|old| model::merge_roster(old, &items, |j| keep.contains(j)));
            store.contacts.set(merged);
            store.requests.update(|reqs| {
                reqs.retain(|r| !items.iter().any(|i| i.jid == r.from && i.subscription.shares_our_presence()))
            });
        }
        Event::RosterPush { item, ver: _ } => {
            if item.subscription == Subscription::Remove {
                let existed = store.contacts.with_untracked(|c| c.contains_key(&item.jid));
                if existed {
                    store.contacts.update(|c| {
                        c.remove(&item.jid);
                    });
                }
                if store.selected.get_untracked().as_ref() == Some(&item.jid) {
                    store.selected.set(None);
                }
            } else if store.contacts.with_untracked(|c| c.contains_key(&item.jid)) {
                store.update_contact(&item.jid, |c| {
                    c.update_from_roster(&item);
                    true
                });
            } else {
                store.contacts.update(|c| {
                    c.insert(item.jid.clone(), Contact::from_roster(&item));
                });
            }
            if item.subscription.shares_our_presence() {
                remove_request(store, &item.jid);
            }
        }
        Event::ChatState { from, state } => set_typing(store, &from, state == ChatState::Composing),
        Event::ContactPresence { jid, presence } => store.update_contact(&jid, |c| {
            if c.presence == presence {
                return false;
            }
            if presence.is_none() {
                c.typing = None;
            } else {
                c.presence_error = None;
            }
            c.presence = presence;
            true
        }),
        Event::SubscriptionRequest { from, status } => {
            // At most as many as the core remembers (across reconnects too), so this check stays short.
            let room = |r: &Vec<SubscriptionRequest>| r.len() < crate::xmpp::client::MAX_SUBSCRIPTION_REQUESTS;
            if store.requests.with_untracked(|r| room(r) && !r.iter().any(|r| r.from == from)) {
                store.requests.update(|r| r.push(SubscriptionRequest { from, status }));
            }
        }
        Event::SubscriptionApproved { from } => {
            store.update_contact(&from, |c| std::mem::take(&mut c.asked) || c.presence_error.take().is_some());
            let name = name_of(store, &from);
            notify(store, NoticeKind::Info, format!("{name} accepted your request to see their presence."));
        }
        Event::SubscriptionRevoked { from } => {
            // An answer to our request is a refusal; without one pending, they stopped sharing.
            let mut declined = false;
            store.update_contact(&from, |c| {
                declined = std::mem::take(&mut c.asked);
                declined
            });
            let name = name_of(store, &from);
            let text = if declined {
                format!("{name} declined to share their presence with you.")
            } else {
                format!("{name} stopped sharing their presence with you.")
            };
            notify(store, NoticeKind::Info, text);
        }
        Event::PresenceError { from, error } => {
            let reason = error.describe();
            let mut asked = false;
            store.update_contact(&from, |c| {
                asked = c.asked || c.waiting_for_answer();
                c.presence_error.replace(reason.clone()).as_ref() != Some(&reason)
            });
            if asked {
                let name = name_of(store, &from);
                notify(store, NoticeKind::Error, format!("Could not ask {name} to share their presence: {reason}."));
            }
        }
        Event::Message(msg) => received(store, msg),
        Event::MessageSent(msg) => sent(store, msg),
        Event::MessageAcked { id } => {
            outbox::advance(store, None, &id, Delivery::Sent);
            super::rooms::acked(store, &id);
        }
        Event::Receipt { from, id } => outbox::advance(store, Some(&from), &id, Delivery::Delivered),
        Event::Displayed { from, id } => outbox::advance(store, Some(&from), &id, Delivery::Read),
        Event::ReadElsewhere { with, id } => read_elsewhere(store, &with, &id),
        Event::Room(ev) => super::rooms::apply(store, ev),
        Event::Bookmarks(ev) => super::rooms::apply_bookmarks(store, ev),
        Event::MessageError { with, id, error } => {
            let text = model::sentence(&format!("not delivered: {}", error.describe()));
            if super::rooms::bounced(store, &with, id.as_deref(), text.clone()) {
                return;
            }
            // Only that message's row changes (its page's states memo tells it).
            if !outbox::bounced(store, &with, id.as_deref(), text.clone()) {
                // A bounce we cannot tie to a message we sent: report it in the conversation itself.
                let stamp = Stamp::now();
                push_message(
                    store,
                    &with,
                    ChatMessage {
                        seq: next_seq(),
                        id,
                        error: Some(text),
                        ..ChatMessage::at(stamp, name_of(store, &with), String::new())
                    },
                    None,
                );
            }
        }
        Event::RequestFailed { action, error } => {
            let reason = match &error {
                RequestError::Timeout => "the server did not answer in time".to_owned(),
                RequestError::Stanza(e) => e.describe(),
            };
            let text = match &action {
                RosterAction::Add(j) => format!("Could not add {j}: {reason}."),
                RosterAction::Update(j) => format!("Could not change {}: {reason}.", name_of(store, j)),
                RosterAction::Remove(j) => format!("Could not remove {}: {reason}.", name_of(store, j)),
            };
            notify(store, NoticeKind::Error, text);
        }
        Event::Redirect { uri } => {
            if store.connection.get_untracked() == Connection::LoggingIn {
                store.progress.set(Some(format!("Redirected to {uri}…")));
            }
        }
        Event::ArchivePage(page) if super::rooms::owns_archive(store, &page) => super::rooms::archive_page(store, page),
        Event::ArchiveFailed { query: crate::xmpp::client::ArchiveQuery::Older { with }, error }
            if super::rooms::is_room(store, &with) =>
        {
            super::rooms::keep::older_failed(store, &with, &error)
        }
        // History from the archive (XEP-0313).
        Event::ArchivePage(page) => archive::page(store, page),
        Event::ArchiveGap(gap) => archive::gap(store, gap),
        Event::GapFilled { gap, rest } => archive::gap_filled(store, gap, rest),
        Event::ArchiveFailed { query, error } => archive::failed(store, query, error),
        // The cursor is for the store to keep with the messages (`persist`); nothing shows the catch-up's end.
        Event::ArchiveCursor { .. } => {}
        Event::CatchingUp => store.catching_up.set(true),
        Event::CaughtUp => store.catching_up.set(false),
        Event::Closed { error } => match error {
            // The kept keys no longer fit (the server draws a new salt at each login): only the password helps.
            Some(ClientError::Sasl(SaslError::KeysStale)) => session_ended(store, PASSWORD_AGAIN.to_owned(), true),
            // A kept FAST token refused (expired, revoked): likewise only the password helps.
            Some(e) if e.needs_password() => session_ended(store, e.describe(), true),
            Some(e) => session_ended(store, e.describe(), false),
            None => session_ended(store, "The server ended the session.".to_owned(), false),
        },
    }
}

/// The session is over (failure or close): back to the form during login; after it, the main screen stays
/// with the offline banner, or with the password prompt when only the password can log in again.
fn session_ended(store: AppState, reason: String, needs_password: bool) {
    store.catching_up.set(false);
    match store.connection.get_untracked() {
        Connection::LoggingIn => {
            store.progress.set(None);
            store.login_error.set(Some(reason));
            store.connection.set(Connection::LoggedOut);
        }
        // The kept token was refused: the login form, with the address filled in; anything else: offline, with
        // the stored conversations in view and the way to log in again.
        Connection::Starting if needs_password => {
            store.login_error.set(Some(reason));
            store.connection.set(Connection::LoggedOut);
        }
        Connection::Starting => store.connection.set(Connection::Offline { reason }),
        Connection::Online | Connection::Reconnecting { .. } => {
            all_offline(store);
            store.connection.set(if needs_password {
                Connection::PasswordNeeded { reason, busy: false }
            } else {
                Connection::Offline { reason }
            });
        }
        // The login with the typed password failed: say why, and ask again.
        Connection::PasswordNeeded { busy: true, .. } => {
            store.connection.set(Connection::PasswordNeeded { reason, busy: false })
        }
        // Logged out already (or offline): nothing more to say.
        Connection::LoggedOut | Connection::Offline { .. } | Connection::PasswordNeeded { busy: false, .. } => {}
    }
}

/// Nobody's presence (or typing) is known without a connection.
fn all_offline(store: AppState) {
    store.contacts.maybe_update(|contacts| {
        let mut changed = false;
        for c in contacts.values_mut().filter(|c| c.presence.is_some() || c.typing.is_some()) {
            (c.presence, c.typing, changed) = (None, None, true);
        }
        changed
    });
}

/// How long "typing…" stays without news from the contact (XEP-0085 clients send "paused" after a few seconds
/// without a keystroke; this covers a client that went away mid-sentence).
const TYPING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Shows or ends "typing…" for a contact (nothing for people not in the contact list).
fn set_typing(store: AppState, jid: &BareJid, on: bool) {
    if !on {
        store.update_contact(jid, |c| c.typing.take().is_some());
        return;
    }
    let token = next_seq();
    store.update_contact(jid, |c| c.typing.replace(token) != Some(token));
    let jid = jid.clone();
    set_timeout(
        move || {
            let still = store.contacts.try_with_untracked(|c| c.get(&jid).is_some_and(|c| c.typing == Some(token)));
            if still == Some(true) {
                set_typing(store, &jid, false);
            }
        },
        TYPING_TIMEOUT,
    );
}

impl ChatMessage {
    /// A row by `sender` saying `body` at `stamp`: not ours, no ids, no state, numbered 0 (the callers set what
    /// differs, with struct update syntax).
    pub fn at(stamp: Stamp, sender: String, body: String) -> ChatMessage {
        ChatMessage {
            seq: 0,
            id: None,
            from_me: false,
            sender,
            time: stamp.short,
            time_full: stamp.full,
            time_iso: stamp.iso,
            unix_ms: stamp.unix_ms,
            archive_id: None,
            body,
            is_me_action: false,
            continued: false,
            delivery: None,
            error: None,
        }
    }
}

/// Local date and time of a message, in the three forms the transcript uses.
pub struct Stamp {
    pub short: String,
    pub full: String,
    pub iso: String,
    /// Ms since the Unix epoch (UTC).
    pub unix_ms: u64,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp::from_date(&js_sys::Date::new_0())
    }

    /// An XEP-0203 delay stamp, or now when there is none (or it does not parse).
    pub fn from_delay(delay: Option<&str>) -> Stamp {
        if let Some(d) = delay {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(d));
            if !date.get_time().is_nan() {
                return Stamp::from_date(&date);
            }
        }
        Stamp::now()
    }

    /// The instant `unix_ms` (ms since the Unix epoch, UTC); now when it is beyond what a date can be (a stored
    /// time is read back from the browser's storage, which anything on the machine can write).
    pub fn from_ms(unix_ms: u64) -> Stamp {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms as f64));
        if date.get_time().is_nan() { Stamp::now() } else { Stamp::from_date(&date) }
    }

    fn from_date(date: &js_sys::Date) -> Stamp {
        let format = |f: &js_sys::Intl::DateTimeFormat| -> String {
            f.format().call1(&wasm_bindgen::JsValue::NULL, date).ok().and_then(|v| v.as_string()).unwrap_or_default()
        };
        FORMATS.with(|(short, full)| Stamp {
            short: format(short),
            full: format(full),
            iso: date.to_iso_string().into(),
            unix_ms: date.get_time().max(0.0) as u64,
        })
    }
}

fn date_format(opts: &[(&str, &str)]) -> js_sys::Intl::DateTimeFormat {
    let o = js_sys::Object::new();
    for (k, v) in opts {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &o)
}

thread_local! {
    /// The person's locale formats, built once (creating an `Intl.DateTimeFormat` is slow).
    static FORMATS: (js_sys::Intl::DateTimeFormat, js_sys::Intl::DateTimeFormat) = (
        date_format(&[("hour", "2-digit"), ("minute", "2-digit")]),
        date_format(&[("dateStyle", "full"), ("timeStyle", "medium")]),
    );
}

/// Shown (once) when a message from a new stranger is not shown because [`model::MAX_STRANGERS`] wrote already.
fn strangers_full() -> String {
    format!(
        "Messages from more than {} people who are not in your contacts arrived; messages from further new senders \
         are not shown.",
        model::MAX_STRANGERS
    )
}

/// Whether `jid` has an entry in the contact list: a stranger writing gets one, while there is room for one.
pub fn admit(store: AppState, jid: &BareJid) -> bool {
    if store.contacts.with_untracked(|c| c.contains_key(jid)) {
        return true;
    }
    if !store.contacts.with_untracked(Contact::room_for_stranger) {
        return false;
    }
    store.contacts.update(|c| {
        c.insert(jid.clone(), Contact::stranger(jid.clone()));
    });
    true
}

fn received(store: AppState, msg: Message) {
    let Some(from) = msg.from.as_ref().map(|j| j.bare().clone()) else { return };
    let Some((body, is_me_action)) = msg.body(None).map(split_me) else { return };
    let body = match (&msg.subject, msg.kind) {
        (Some(s), MessageType::Normal | MessageType::Headline) if !s.trim().is_empty() => {
            format!("{}\n{body}", s.trim())
        }
        _ => body,
    };
    if !admit(store, &from) {
        let text = strangers_full();
        if !store.notices.with_untracked(|n| n.iter().any(|n| n.text == text)) {
            notify(store, NoticeKind::Error, text);
        }
        return;
    }
    let stamp = Stamp::from_delay(msg.delay.as_deref());
    let markable = msg.id.clone().filter(|id| msg.markable && !id.is_empty() && id.len() <= MAX_MARKER_ID);
    let to_announce = (store.alert_desktop.get_untracked() || store.alert_sound.get_untracked()).then(|| body.clone());
    push_message(
        store,
        &from,
        ChatMessage {
            seq: next_seq(),
            id: msg.id,
            archive_id: msg.stanza_id,
            is_me_action,
            ..ChatMessage::at(stamp, name_of(store, &from), body)
        },
        markable,
    );
    set_typing(store, &from, false);
    let selected = store.selected.get_untracked();
    if model::counts_as_unread(selected.as_ref(), &from, page_visible()) {
        store.update_contact(&from, |c| {
            c.unread += 1;
            true
        });
        // Not read where it lands: announce it, if the person wants that.
        if let Some(body) = to_announce {
            let sender = name_of(store, &from);
            super::notifications::announce(store, &from, &sender, &model::alert_text(&body, is_me_action, &sender));
        }
    }
}

/// A message we sent: from this page it is shown already (at Send); from another device of ours (a carbon) it
/// is shown now, as sent (the server has it).
fn sent(store: AppState, msg: Message) {
    let Some(to) = msg.to.as_ref().map(|j| j.bare().clone()) else { return };
    let Some(body) = msg.body(None) else { return };
    // Ours to a room or to one of its occupants: the room's own view shows it (no chat with the room).
    if super::rooms::is_room(store, &to) {
        return;
    }
    if msg.id.as_ref().is_some_and(|id| store.own_ids.with_value(|ids| ids.contains_key(id))) {
        return;
    }
    outbox::show_own(store, &to, msg.id.clone(), body, Delivery::Sent);
}

/// How we appear in our own transcript: the local part of our address.
pub fn own_name(account: &BareJid) -> String {
    account.local().map(str::to_owned).unwrap_or_else(|| account.to_string())
}

/// The longest message id a `displayed` marker may name (the core's limit for ids).
const MAX_MARKER_ID: usize = 256;

/// Appends a message to the conversation with `with`: into its last page while that has room (only that
/// page's readers are notified), else as a new page. Our own messages become findable by id
/// ([`AppState::own_ids`]); `markable`: the id of a message from them that asks for a `displayed` marker.
pub fn push_message(store: AppState, with: &BareJid, mut message: ChatMessage, markable: Option<String>) {
    if let Some(id) = message.id.as_ref().filter(|_| message.from_me) {
        let key = (with.clone(), message.seq);
        store.own_ids.update_value(|ids| {
            ids.insert(id.clone(), key);
        });
    }
    store.update_conversation(with, |conv| {
        if markable.is_some() {
            conv.markable = markable;
        }
        // Scrolled far back, the newest messages were let go: a new one cannot join the transcript without a
        // hole. Ours (just sent) brings the newest back; theirs waits for "Show the newest messages".
        if conv.archive.newer_dropped {
            if !message.from_me {
                return;
            }
            archive::forget_transcript(conv);
        }
        let pages = &mut conv.pages;
        message.continued = model::last_message(pages).is_some_and(|prev| model::continues(prev, &message));
        match model::page_with_room(pages) {
            Some(page) => pages[page].messages.push(message),
            None => pages.push(MessagePage::starting_with(message)),
        }
    });
}

/// Creates the conversation with `jid` if there is none yet.
pub fn ensure_conversation(store: AppState, jid: &BareJid) {
    if !store.conversations.with_untracked(|c| c.contains_key(jid)) {
        store.update_conversation(jid, |_| {});
    }
}

fn remove_request(store: AppState, jid: &BareJid) {
    if store.requests.with_untracked(|r| r.iter().any(|r| &r.from == jid)) {
        store.requests.update(|r| r.retain(|r| &r.from != jid));
    }
}

/// The display name of `jid` as the roster knows it.
pub fn name_of(store: AppState, jid: &BareJid) -> String {
    store.contacts.with_untracked(|c| c.get(jid).map(Contact::display_name)).unwrap_or_else(|| jid.to_string())
}

/// Adds a notice. The same text again replaces the older one (no pile of repeats); at most [`MAX_NOTICES`]
/// are kept; each retires by itself after its kind's [`NoticeKind::lifetime`], or when dismissed.
pub fn notify(store: AppState, kind: NoticeKind, text: String) {
    let id = next_seq();
    let lifetime = kind.lifetime();
    let expires_at = js_sys::Date::now() as u64 + lifetime.as_millis() as u64;
    store.notices.update(|n| {
        n.retain(|x| x.text != text);
        n.push(Notice { id, kind, text, expires_at });
        let extra = n.len().saturating_sub(MAX_NOTICES);
        n.drain(..extra);
    });
    set_timeout(move || retire_notices(store, js_sys::Date::now() as u64), lifetime);
}

/// Takes away the notices whose time is up at `now` (`Date.now()` milliseconds).
pub fn retire_notices(store: AppState, now: u64) {
    if store.notices.try_with_untracked(|n| n.iter().any(|x| x.expires_at <= now)) == Some(true) {
        store.notices.update(|n| n.retain(|x| x.expires_at > now));
    }
}

pub fn dismiss_notice(store: AppState, id: u64) {
    store.notices.update(|n| n.retain(|x| x.id != id));
}

/// Whether the page is in front of the person (a hidden tab still counts messages as unread).
pub fn page_visible() -> bool {
    web_sys::window().and_then(|w| w.document()).is_none_or(|d| !d.hidden())
}

/// Opens the conversation with `jid` and clears its unread count.
pub fn select(store: AppState, jid: BareJid) {
    if store.rooms.open.with_untracked(Option::is_some) {
        store.rooms.open.set(None);
    }
    ensure_conversation(store, &jid);
    mark_read(store, &jid);
    if store.selected.get_untracked().as_ref() != Some(&jid) {
        store.selected.set(Some(jid));
    }
}

/// Clears the unread count of `jid`.
pub fn mark_read(store: AppState, jid: &BareJid) {
    store.update_contact(jid, |c| std::mem::take(&mut c.unread) > 0);
    super::notifications::dismiss(jid);
}

/// `ReadElsewhere`: another device of ours showed `with`'s messages up to their message `id`; only those after
/// it still count as unread here (never more than before; an id this page does not show changes nothing).
fn read_elsewhere(store: AppState, with: &BareJid, id: &str) {
    let after = store.conversations.with_untracked(|c| {
        let mut after = 0u32;
        for m in c.get(with)?.pages.iter().rev().flat_map(|p| p.messages.iter().rev()) {
            if m.from_me || m.error.is_some() {
                continue;
            }
            if m.id.as_deref() == Some(id) {
                return Some(after);
            }
            after += 1;
        }
        None
    });
    if let Some(after) = after {
        store.update_contact(with, |c| {
            let changed = c.unread > after;
            c.unread = c.unread.min(after);
            changed
        });
        if after == 0 {
            super::notifications::dismiss(with);
        }
    }
}

/// Empties the state (logout).
pub fn reset(store: AppState) {
    store.selected.set(None);
    store.catching_up.set(false);
    super::rooms::reset(store);
    store.contacts.set(HashMap::new());
    store.conversations.set(HashMap::new());
    store.outbox.set(Vec::new());
    store.own_ids.set_value(HashMap::new());
    store.requests.set(Vec::new());
    store.notices.set(Vec::new());
    store.own_presence.set(OwnPresence::default());
    store.account.set(None);
    store.bound_jid.set(None);
    store.progress.set(None);
    store.login_error.set(None);
    store.connection.set(Connection::LoggedOut);
}

/// The client handle in context: the running session (if any) and which login it belongs to.
///
/// Events are applied only while their session is the current one, so a late event from a session that
/// was closed (logout, cancelled login) cannot change the store. A closed session is kept (in `closing`) until
/// its own final event: dropping it at once would close the socket before the server's `<close/>`, which
/// RFC 7395 wants awaited (and which Prosody 13 sends after a socket the page already dropped).
#[derive(Clone, Copy)]
pub struct SessionHandle {
    session: StoredValue<Option<Session>, LocalStorage>,
    generation: StoredValue<u64, LocalStorage>,
    closing: StoredValue<Vec<Session>, LocalStorage>,
    /// Instead of a session, where commands go ([`SessionHandle::fake`]).
    fake: StoredValue<Option<CommandSink>, LocalStorage>,
}

/// Takes commands in place of a session (tests and benchmarks).
pub type CommandSink = std::rc::Rc<dyn Fn(Command) -> Result<(), CommandError>>;

impl Default for SessionHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionHandle {
    pub fn new() -> SessionHandle {
        SessionHandle {
            session: StoredValue::new_local(None),
            generation: StoredValue::new_local(0),
            closing: StoredValue::new_local(Vec::new()),
            fake: StoredValue::new_local(None),
        }
    }

    /// A handle whose commands go to `sink` instead of a session: for tests and benchmarks, which play the
    /// session's part by feeding events to [`SessionHandle::receive`].
    pub fn fake(sink: CommandSink) -> SessionHandle {
        let handle = SessionHandle::new();
        handle.fake.set_value(Some(sink));
        handle
    }

    /// Applies an event of the current session to `store`, then hands the session what waits in the outbox
    /// when it may take more (it came online, or confirmed a message).
    pub fn receive(&self, store: AppState, event: TransportEvent) {
        let may_take = matches!(event, TransportEvent::Core(Event::Online { .. } | Event::MessageAcked { .. }));
        super::persist::on_event(&event);
        let follow_up = archive::follow_up(&event);
        apply(store, event);
        if let Some(follow_up) = follow_up {
            archive::run(store, *self, follow_up);
        }
        if may_take && store.outbox.with_untracked(|o| !o.is_empty()) {
            outbox::flush(store, *self);
        }
    }

    /// Starts a login; events flow into `store` until the session ends or is replaced.
    pub fn login(&self, store: AppState, options: ConnectOptions) {
        store.login_error.set(None);
        store.progress.set(Some("Looking up server…".into()));
        store.connection.set(Connection::LoggingIn);
        self.start(store, options);
    }

    /// After a reload: logs in with the kept FAST token while the main screen shows what the store painted.
    pub fn resume(&self, store: AppState, options: ConnectOptions) {
        store.login_error.set(None);
        store.connection.set(Connection::Starting);
        self.start(store, options);
    }

    /// Logs the same account in again with the password typed into the prompt of
    /// [`Connection::PasswordNeeded`]; contacts, conversations and drafts stay on screen meanwhile.
    pub fn log_in_again(&self, store: AppState, password: String, server_url: Option<String>) {
        let Some(jid) = store.account.get_untracked() else { return };
        store.connection.set(Connection::PasswordNeeded { reason: "Logging in…".into(), busy: true });
        let options = super::persist::on_this_device(ConnectOptions::with_password(jid, password, server_url));
        self.start(store, options);
    }

    fn start(&self, store: AppState, options: ConnectOptions) {
        self.close();
        let generation = self.generation.try_update_value(|g| {
            *g += 1;
            *g
        });
        let Some(generation) = generation else { return };
        let handle = *self;
        let session = transport::connect(options, move |event| {
            let finished = matches!(event, TransportEvent::Failed(_) | TransportEvent::Core(Event::Closed { .. }));
            if finished {
                // A session closed earlier has said its last word: let it go (its socket closes now).
                handle.closing.try_update_value(|c| c.retain(|s| !s.is_finished()));
            }
            if handle.generation.try_get_value() != Some(generation) {
                return;
            }
            handle.receive(store, event);
            if finished {
                handle.session.try_set_value(None);
            }
        });
        self.session.try_set_value(Some(session));
    }

    /// Sends a command to the running session.
    pub fn send(&self, command: Command) -> Result<(), CommandError> {
        if let Some(Some(sink)) = self.fake.try_get_value() {
            return sink(command);
        }
        self.session
            .try_with_value(|s| s.as_ref().map(|s| s.send(command)))
            .flatten()
            .unwrap_or(Err(CommandError::NotOnline))
    }

    /// While reconnecting: try now instead of waiting.
    pub fn reconnect_now(&self) {
        self.session.try_with_value(|s| s.as_ref().map(Session::reconnect_now));
    }

    /// Closes the running session (if any) and any pending reconnect; its later events are ignored.
    pub fn close(&self) {
        self.generation.try_update_value(|g| *g += 1);
        if let Some(Some(session)) = self.session.try_update_value(Option::take) {
            session.close();
            // Kept until the server's `<close/>` (or the core's few seconds of patience) ends it; see the type.
            if !session.is_finished() {
                self.closing.try_update_value(|c| c.push(session));
            }
        }
    }

    /// After the session ended: asks for the password to log in again, on the main screen.
    pub fn ask_password(&self, store: AppState) {
        self.close();
        store
            .connection
            .set(Connection::PasswordNeeded { reason: "Enter your password to log in again.".into(), busy: false });
    }

    /// Leaves the password prompt (stopping a login it started): offline, with the way to log in again.
    pub fn cancel_password(&self, store: AppState) {
        self.close();
        store.connection.set(Connection::Offline { reason: "Log in again to send and receive messages.".into() });
    }

    /// Logs out: closes the session and forgets everything it brought.
    pub fn logout(&self, store: AppState) {
        self.close();
        reset(store);
    }
}
