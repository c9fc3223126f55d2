//! The session's state as the person sees it: the indicator next to the account (online, connecting,
//! reconnecting, offline), the banner while reconnecting (with a countdown, "Reconnect now" and "Log out"),
//! the banner that says why the session ended, with the way back ("Log in again"), and the password prompt for
//! logging in again. Both stay on the chat screen: contacts, conversations and drafts remain in view, and
//! Cancel leaves the prompt.

use std::time::Duration;

use crate::ui::{by_id, dynamic, effect, focus_id, handler};
use leptos::prelude::*;

use super::login::LoginForm;
use super::state::{AppState, Connection, PASSWORD_AGAIN, SessionHandle};
use crate::xmpp::ClientError;

/// Online / connecting / reconnecting / offline, in words and colour, always matching the session.
#[component]
pub fn ConnectionIndicator() -> impl IntoView {
    let store = expect_context::<AppState>();
    // (class suffix, words) by the state's index: a `usize` memo, a type the UI already compiles.
    const STATES: [(&str, &str); 4] =
        [("online", "Online"), ("connecting", "Connecting…"), ("connecting", "Reconnecting…"), ("offline", "Offline")];
    let state = Memo::new(move |_| match store.connection.get() {
        Connection::Online => 0,
        Connection::LoggingIn | Connection::Starting | Connection::PasswordNeeded { busy: true, .. } => 1,
        Connection::Reconnecting { .. } => 2,
        Connection::Offline { .. } | Connection::LoggedOut | Connection::PasswordNeeded { busy: false, .. } => 3,
    });
    view! {
        <p class=move || format!("connection connection-{}", STATES[state.get()].0) role="status">
            <span class="connection-dot" aria-hidden="true"></span>
            <span class="visually-hidden">"Connection: "</span>
            {move || STATES[state.get()].1.to_owned()}
        </p>
    }
}

/// While reconnecting: what happened and when the next attempt starts; after the end: why, and the way back.
#[component]
pub fn OfflineBanner() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    // A clock for the countdown, ticking only while an attempt is scheduled.
    let now = RwSignal::new(js_sys::Date::now());
    let ticker = StoredValue::new(None::<IntervalHandle>);
    let stop = move || {
        if let Some(Some(h)) = ticker.try_update_value(Option::take) {
            h.clear();
        }
    };
    effect(move || {
        let waiting = matches!(store.connection.get(), Connection::Reconnecting { retry_at: Some(_), .. });
        stop();
        if waiting {
            now.set(js_sys::Date::now());
            let h = set_interval_with_handle(move || now.set(js_sys::Date::now()), Duration::from_millis(500));
            ticker.set_value(h.ok());
        }
    });
    on_cleanup(stop);

    dynamic(move || {
        let banner = match store.connection.get() {
            Connection::Reconnecting { reason, retry_at } => {
                // Whole seconds, rounded (integers: formatting an f64 would pull float printing into the wasm).
                let when = move || match retry_at.map(|at| (at as i64 - now.get() as i64 + 500) / 1000) {
                    Some(s) if s > 0 => format!("Reconnecting in {s} s…"),
                    _ => "Reconnecting…".to_owned(),
                };
                Some(
                    view! {
                        <div class="banner banner-reconnecting" role="status">
                            <p>
                                <strong>"Connection lost. "</strong>
                                {when}
                                // The reason, unless it only repeats "connection lost".
                                {(reason != ClientError::ConnectionLost.describe()).then(|| view! {
                                    <span class="banner-reason">{format!(" ({})", reason.trim_end_matches('.'))}</span>
                                }.into_any())}
                            </p>
                            <button type="button" class="button small" on:click=handler(move |_| session.reconnect_now())>
                                "Reconnect now"
                            </button>
                            <super::persist::LogOutButton />
                        </div>
                    }
                    .into_any(),
                )
            }
            Connection::Offline { reason } => Some(
                view! {
                    <div class="banner banner-error" role="alert">
                        <p>
                            <strong>"You are offline. "</strong>
                            {reason}
                        </p>
                        <button type="button" class="button small" on:click=handler(move |_| session.ask_password(store))>
                            "Log in again"
                        </button>
                    </div>
                }
                .into_any(),
            ),
            Connection::PasswordNeeded { reason, busy } => Some(view! { <PasswordPrompt reason busy /> }.into_any()),
            _ => None,
        };
        banner.into_any()
    })
}

/// The password field of the prompt.
const PASSWORD_ID: &str = "relogin-password";

/// Logging in again needs the password: says why (`reason`), takes it, logs in again on this screen; Cancel
/// leaves it offline. Nothing here keeps the password: it goes from the field straight to the login.
#[component]
fn PasswordPrompt(reason: String, busy: bool) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let server_url = use_context::<LoginForm>().map(|f| f.server_url);
    let account = store.account.with_untracked(|a| a.as_ref().map(ToString::to_string)).unwrap_or_default();
    // The cursor goes to the field when the person asked for the prompt or their attempt failed; a prompt
    // that appears by itself (the server refused the kept keys) leaves it where they are typing.
    if !busy && reason != PASSWORD_AGAIN {
        effect(|| focus_id(PASSWORD_ID));
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(field) =
            by_id(PASSWORD_ID).and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
        else {
            return;
        };
        let password = field.value();
        if busy || password.is_empty() {
            let _ = field.focus();
            return;
        }
        field.set_value("");
        let url = server_url.map(|u| u.get_untracked()).filter(|u| !u.trim().is_empty());
        session.log_in_again(store, password, url);
    };
    view! {
        <form class="banner banner-password" aria-labelledby="relogin-reason" on:submit=handler(submit)>
            <p id="relogin-reason" role="alert">{reason}</p>
            <label class="visually-hidden" for=PASSWORD_ID>{format!("Password for {account}")}</label>
            <input id=PASSWORD_ID class="input" type="password" autocomplete="current-password" placeholder="Password" />
            <button type="submit" class="button primary small">{if busy { "Logging in…" } else { "Log in" }}</button>
            <button type="button" class="button ghost small" on:click=handler(move |_| session.cancel_password(store))>
                "Cancel"
            </button>
        </form>
    }
}
