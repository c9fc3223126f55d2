//! The session's state as the person sees it: the indicator next to the account (online, connecting,
//! reconnecting, offline), the banner while reconnecting (with a countdown, "Reconnect now" and "Log out"),
//! and the banner that says why the session ended, with the way back ("Log in again" keeps the conversations
//! for the same account).

use std::time::Duration;

use crate::ui::{dynamic, effect, handler};
use leptos::prelude::*;

use super::state::{AppState, Connection, SessionHandle};
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
        Connection::LoggingIn => 1,
        Connection::Reconnecting { .. } => 2,
        Connection::Offline { .. } | Connection::LoggedOut => 3,
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
                            <button type="button" class="button ghost small" on:click=handler(move |_| session.logout(store))>
                                "Log out"
                            </button>
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
                        <button type="button" class="button small" on:click=handler(move |_| session.relogin(store))>
                            "Log in again"
                        </button>
                    </div>
                }
                .into_any(),
            ),
            _ => None,
        };
        banner.into_any()
    })
}
