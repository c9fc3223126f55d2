//! The Leptos user interface: a login screen and a two-pane chat screen.
//!
//! - [`model`]: plain data and decisions (sorting, grouping, unread, bounce matching) — no signals.
//! - [`state`]: the app's signals ([`state::AppState`]), [`state::apply`] (the only place transport events
//!   change them) and the [`state::SessionHandle`] components send commands through.
//! - [`login`], [`sidebar`], [`conversation`], [`dialogs`], [`connection`]: thin components that read those
//!   signals and call the handle. [`history`]: the browser's Back and the URL follow the open conversation.
//!   [`outbox`]: our own messages from Send to Read (the outbox, and each message's state).
//!   [`persist`]: what outlives the page (the account's local store: instant start, Stay logged in, log out,
//!   forget this device's data).
//!   [`rooms`]: group chat (the sidebar's rooms, the room view, occupants, invitations, bookmarks).
//!   [`archive`]: history from the server's archive in the transcripts (catch-up, scroll-back, gaps, a bounded
//!   window).
//!   [`notifications`]: desktop notifications and a sound for new messages, when the person turns them on. Every string from the network is rendered as text (no `inner_html` anywhere).
//! - Here: the app root, and [`keyed_list`], [`show`], [`dynamic`], [`effect`], [`handler`]: Leptos's `<For>`,
//!   `<Show>`, reactive views, `Effect` and event listeners behind one boxed closure type each, so each is
//!   compiled once, not once per use (docs/performance.md measures each). For the same reason reactive
//!   attributes and texts return `String` or `Option<String>`, never `&str` (each value type compiles its own
//!   render effect), text fields bind with [`write_back`] instead of `bind:value`, and the code finds the
//!   elements it focuses or measures with [`by_id`] instead of `NodeRef`s.
//!
//! What this module does not do: speak XMPP, touch sockets, or store the password. The password is in the
//! login form's signal ([`login::LoginForm`]) from typing until the session is online, then wiped (each
//! keystroke wipes the text it replaces too); it leaves the form only inside the [`crate::transport::ConnectOptions`]
//! of a login. The password field's own value is a JavaScript string, which the page cannot wipe; the browser
//! frees it some time after the login screen is gone.

pub mod archive;
pub mod connection;
pub mod conversation;
pub mod dialogs;
pub mod history;
pub mod login;
pub mod model;
pub mod notifications;
pub mod outbox;
pub mod persist;
pub mod rooms;
pub mod sidebar;
pub mod state;

use std::sync::Arc;

use leptos::prelude::*;
use zeroize::Zeroize;

use crate::xmpp::jid::BareJid;

use state::{AppState, Connection, SessionHandle};

/// Mounts the app into `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

/// The whole app: creates the store and the session handle, and provides both as context.
#[component]
pub fn App() -> impl IntoView {
    let store = AppState::default();
    notifications::load(store);
    provide_context(store);
    let session = SessionHandle::new();
    provide_context(session);
    let form = login::LoginForm::default();
    provide_context(form);
    persist::start(store, session, form);
    view! { <Screens /> }
}

/// The login screen until a session is up, then the chat screen (which stays, offline, if it drops).
#[component]
pub fn Screens() -> impl IntoView {
    let store = expect_context::<AppState>();
    let on_main = Memo::new(move |_| {
        matches!(
            store.connection.get(),
            Connection::Online
                | Connection::Starting
                | Connection::Reconnecting { .. }
                | Connection::Offline { .. }
                | Connection::PasswordNeeded { .. }
        )
    });
    // Once the session is up the form's password is not needed any more: wipe it (a failed login keeps it,
    // so a typo in the address does not mean typing the password again).
    if let Some(form) = use_context::<login::LoginForm>() {
        effect(move || {
            if on_main.get() && form.password.with_untracked(|p| !p.is_empty()) {
                form.password.update(|p| p.zeroize());
            }
        });
    }
    dynamic(move || {
        if on_main.get() {
            view! { <sidebar::MainScreen /> }.into_any()
        } else {
            view! { <login::LoginScreen /> }.into_any()
        }
    })
}

/// A keyed list whose items are their own keys: `row` builds a key's view once, and a change of `each` adds,
/// moves and removes rows by key. Every list of the UI goes through here, and its keys become one type
/// ([`ListKey`]), so `<For>` and its key diffing are compiled once instead of once per list (the six lists'
/// own `<For>`s cost 10 KB more of the gzipped bundle).
pub fn keyed_list<K: Keyed>(
    each: impl Fn() -> Vec<K> + Send + Sync + 'static,
    row: impl Fn(K) -> AnyView + Send + Sync + 'static,
) -> AnyView {
    list(
        Arc::new(move || each().into_iter().map(K::key).collect()),
        Arc::new(move |k| K::from_key(k).map(&row).into_any()),
    )
}

#[allow(clippy::type_complexity)]
fn list(
    each: Arc<dyn Fn() -> Vec<ListKey> + Send + Sync>,
    row: Arc<dyn Fn(ListKey) -> AnyView + Send + Sync>,
) -> AnyView {
    view! { <For each=move || each() key=ListKey::clone children=move |k| row(k) /> }.into_any()
}

/// Runs `f` now and again whenever a signal it read changes (an `Effect`, owned by the current component).
/// Every effect of the UI goes through this one compiled copy of the effect machinery.
pub fn effect(f: impl FnMut() + 'static) {
    run_effect(Box::new(f));
}

fn run_effect(mut f: Box<dyn FnMut()>) {
    Effect::new(move |_| f());
}

/// An event handler as one shared type per event (`on:click=handler(…)`): each distinct closure type would
/// otherwise compile its own copy of the listener and attribute machinery.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}

/// The element with this `id`, if it is on the page. The UI finds the few elements its code touches (to focus,
/// scroll or measure them) by id instead of by `NodeRef`: each element type of a `NodeRef` compiles its own copy
/// of Leptos's node-reference machinery. Ids are unique on the page (labels point at them too).
pub fn by_id(id: &str) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?.document()?.get_element_by_id(id)?.dyn_into().ok()
}

/// Focuses the element with this `id`, if it is on the page.
pub fn focus_id(id: &str) {
    if let Some(el) = by_id(id) {
        let _ = el.focus();
    }
}

/// A text field's two-way binding, as `bind:value` would do it: the field shows the signal
/// (`prop:value=signal`) and this `on:input` handler writes what is typed back. One shared handler type instead
/// of Leptos's binding machinery (which `bind:value` compiles in for its first use).
pub fn write_back(value: RwSignal<String>) -> Box<dyn FnMut(web_sys::Event)> {
    handler(move |ev: web_sys::Event| value.set(event_target_value(&ev)))
}

/// [`write_back`] for a field that shows an error: typing also clears the error. The login form's fields use it,
/// the password among them, so the text it replaces (and its own copy of the new text) is wiped, not just freed.
pub fn write_back_clearing(value: RwSignal<String>, error: RwSignal<Option<String>>) -> Box<dyn FnMut(web_sys::Event)> {
    handler(move |ev: web_sys::Event| {
        let mut typed = event_target_value(&ev);
        value.update(|v| {
            v.zeroize();
            v.push_str(&typed);
        });
        typed.zeroize();
        error.set(None);
    })
}

/// `view` while `when` holds, `fallback` (if any) otherwise; built again only when `when` changes, as with
/// `<Show>`. Every such switch of the UI goes through one compiled copy (nine `<Show>`s, each its own copy,
/// cost 3.5 KB more of the gzipped bundle).
pub fn show(
    when: impl Fn() -> bool + Send + Sync + 'static,
    view: impl Fn() -> AnyView + Send + Sync + 'static,
) -> AnyView {
    switch(Arc::new(when), Arc::new(view), None)
}

/// [`show`] with a view for when `when` does not hold.
pub fn show_or(
    when: impl Fn() -> bool + Send + Sync + 'static,
    view: impl Fn() -> AnyView + Send + Sync + 'static,
    fallback: impl Fn() -> AnyView + Send + Sync + 'static,
) -> AnyView {
    switch(Arc::new(when), Arc::new(view), Some(Arc::new(fallback)))
}

type ViewFnArc = Arc<dyn Fn() -> AnyView + Send + Sync>;

/// A view built again whenever a signal `view` reads changes (what `move || …` is as a view), through one
/// compiled copy for every such view of the UI.
pub fn dynamic(view: impl Fn() -> AnyView + Send + Sync + 'static) -> AnyView {
    rebuild(Arc::new(view))
}

fn rebuild(view: ViewFnArc) -> AnyView {
    (move || view()).into_any()
}

fn switch(when: Arc<dyn Fn() -> bool + Send + Sync>, view: ViewFnArc, fallback: Option<ViewFnArc>) -> AnyView {
    let when = Memo::new(move |_| when());
    rebuild(Arc::new(move || if when.get() { view() } else { fallback.as_ref().map(|f| f()).into_any() }))
}

/// What the UI's lists are keyed by.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ListKey {
    Id(u64),
    Name(String),
    Jid(BareJid),
}

/// A type that can key a [`keyed_list`].
pub trait Keyed: Sized + 'static {
    fn key(self) -> ListKey;
    fn from_key(key: ListKey) -> Option<Self>;
}

impl Keyed for u64 {
    fn key(self) -> ListKey {
        ListKey::Id(self)
    }
    fn from_key(key: ListKey) -> Option<u64> {
        if let ListKey::Id(k) = key { Some(k) } else { None }
    }
}

impl Keyed for String {
    fn key(self) -> ListKey {
        ListKey::Name(self)
    }
    fn from_key(key: ListKey) -> Option<String> {
        if let ListKey::Name(k) = key { Some(k) } else { None }
    }
}

impl Keyed for BareJid {
    fn key(self) -> ListKey {
        ListKey::Jid(self)
    }
    fn from_key(key: ListKey) -> Option<BareJid> {
        if let ListKey::Jid(k) = key { Some(k) } else { None }
    }
}

/// Keeps the document title telling how many messages are unread, in conversations and rooms: "(3) Natter"
/// (while the chat screen is up).
///
/// Writing `document.title` costs ~0.5 ms, so during a burst it is written at most once per animation frame,
/// and only when the text changed. (A hidden tab gets no animation frames; a timer stands in for it there.)
pub fn unread_title(store: AppState) {
    let total = Memo::new(move |_| {
        store.contacts.with(|c| c.values().map(|c| c.unread as usize).sum::<usize>())
            + store.rooms.rooms.with(|r| r.values().map(|r| r.unread as usize).sum::<usize>())
    });
    let scheduled = StoredValue::new(false);
    crate::ui::effect(move || {
        total.track();
        if scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        let write = move || {
            // Several calls may be pending (frame and timer): the first one writes, the rest find nothing to do.
            if scheduled.try_update_value(|s| std::mem::replace(s, false)) != Some(true) {
                return;
            }
            let title = match total.try_get_untracked() {
                None => return,
                Some(0) => "Natter".to_owned(),
                Some(n) => format!("({n}) Natter"),
            };
            if let Some(doc) = web_sys::window().and_then(|w| w.document())
                && doc.title() != title
            {
                doc.set_title(&title);
            }
        };
        request_animation_frame(write);
        set_timeout(write, std::time::Duration::from_millis(250));
    });
    on_cleanup(|| {
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title("Natter");
        }
    });
}
