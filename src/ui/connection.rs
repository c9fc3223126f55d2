//! The session's state as the person sees it: the indicator next to the account (online, connecting,
//! offline) and the banner that says why the session ended, with the way back.

use leptos::prelude::*;
use reactive_stores::Store;

use super::state::{AppState, AppStateStoreFields, Connection, SessionHandle};

/// Online / connecting / offline, in words and colour, always matching the session.
#[component]
pub fn ConnectionIndicator() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let state = Memo::new(move |_| match store.connection().get() {
        Connection::Online => ("online", "Online"),
        Connection::LoggingIn => ("connecting", "Connecting…"),
        Connection::Offline { .. } | Connection::LoggedOut => ("offline", "Offline"),
    });
    view! {
        <p class=move || format!("connection connection-{}", state.get().0) role="status">
            <span class="connection-dot" aria-hidden="true"></span>
            <span class="visually-hidden">"Connection: "</span>
            {move || state.get().1}
        </p>
    }
}

/// Why the session ended, with a way back to the login form.
#[component]
pub fn OfflineBanner() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let session = expect_context::<SessionHandle>();
    let reason = move || match store.connection().get() {
        Connection::Offline { reason } => Some(reason),
        _ => None,
    };
    move || {
        reason().map(|reason| {
            view! {
                <div class="banner banner-error" role="alert">
                    <p>
                        <strong>"You are offline. "</strong>
                        {reason}
                    </p>
                    <button type="button" class="button small" on:click=move |_| session.logout(store)>
                        "Log in again"
                    </button>
                </div>
            }
        })
    }
}
