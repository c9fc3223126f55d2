//! The Leptos user interface: a login screen and a two-pane chat screen.
//!
//! - [`model`]: plain data and decisions (sorting, grouping, unread, bounce matching, links) — no signals.
//! - [`state`]: the one store, [`state::apply`] (the only place transport events change it) and the
//!   [`state::SessionHandle`] components send commands through.
//! - [`login`], [`sidebar`], [`conversation`], [`dialogs`], [`connection`]: thin components that read store
//!   fields and call the handle. Every string from the network is rendered as text (no `inner_html` anywhere).
//!
//! What this module does not do: speak XMPP, touch sockets, or store the password.

pub mod connection;
pub mod conversation;
pub mod dialogs;
pub mod login;
pub mod model;
pub mod sidebar;
pub mod state;

use leptos::prelude::*;
use reactive_stores::Store;

use state::{AppState, AppStateStoreFields, Connection, SessionHandle};

/// Mounts the app into `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

/// The whole app: creates the store and the session handle, and provides both as context.
#[component]
pub fn App() -> impl IntoView {
    let store = Store::new(AppState::default());
    provide_context(store);
    provide_context(SessionHandle::new());
    provide_context(login::LoginForm::new());
    view! { <Screens /> }
}

/// The login screen until a session is up, then the chat screen (which stays, offline, if it drops).
#[component]
pub fn Screens() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let on_main = Memo::new(move |_| {
        matches!(
            store.connection().get(),
            Connection::Online | Connection::Reconnecting { .. } | Connection::Offline { .. }
        )
    });
    // Once the session is up the form's password is not needed any more: forget it (a failed login keeps it,
    // so a typo in the address does not mean typing the password again).
    if let Some(form) = use_context::<login::LoginForm>() {
        Effect::new(move |_| {
            if on_main.get() {
                form.password.set(String::new());
            }
        });
    }
    move || {
        if on_main.get() {
            view! { <sidebar::MainScreen /> }.into_any()
        } else {
            view! { <login::LoginScreen /> }.into_any()
        }
    }
}

/// Keeps the document title telling how many messages are unread: "(3) Natter" (while the chat screen is up).
///
/// Writing `document.title` costs ~0.5 ms, so during a burst it is written at most once per animation frame,
/// and only when the text changed. (A hidden tab gets no animation frames; a timer stands in for it there.)
pub fn unread_title(store: Store<AppState>) {
    let total = Memo::new(move |_| store.contacts().with(|c| c.values().map(|c| c.unread).sum::<u32>()));
    let scheduled = StoredValue::new(false);
    Effect::new(move |_| {
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
