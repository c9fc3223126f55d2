//! The login screen: address, password, optional server URL, and each stage of the login as it runs.
//!
//! The form's values live in [`LoginForm`] (context, memory only) so a failed login, a cancelled one or a
//! logout returns to a form that still holds what was typed. The password leaves the form only inside the
//! [`ConnectOptions`] handed to the transport, and is cleared once the session is up.

use crate::ui::{effect, focus_id, handler, show, write_back, write_back_clearing};
use leptos::prelude::*;

use super::state::{AppState, Connection, SessionHandle};
use crate::transport::ConnectOptions;
use crate::xmpp::jid::BareJid;

/// What was typed in the login form. Memory only: never written to storage.
#[derive(Clone, Copy, Default)]
pub struct LoginForm {
    pub address: RwSignal<String>,
    pub password: RwSignal<String>,
    pub server_url: RwSignal<String>,
    /// "Stay logged in on this device" (off unless ticked).
    pub stay: RwSignal<bool>,
}

/// Checks the form locally. Returns the options to connect with, or the errors for (address, password).
pub fn validate(
    address: &str,
    password: &str,
    server_url: &str,
) -> Result<ConnectOptions, (Option<String>, Option<String>)> {
    let address = address.trim();
    let jid = if address.is_empty() {
        Err("Enter your address, like alice@example.org.".to_owned())
    } else {
        match BareJid::parse(address) {
            Ok(j) if j.local().is_none() => Err("Include your user name: name@server.".to_owned()),
            Ok(j) => Ok(j),
            Err(e) => Err(format!("This is not a valid address: {e}.")),
        }
    };
    let password_error = password.is_empty().then(|| "Enter your password.".to_owned());
    match (jid, password_error) {
        (Ok(jid), None) => {
            let url = server_url.trim();
            Ok(ConnectOptions::with_password(jid, password.to_owned(), (!url.is_empty()).then(|| url.to_owned())))
        }
        (jid, pw) => Err((jid.err(), pw)),
    }
}

#[component]
pub fn LoginScreen() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let form = expect_context::<LoginForm>();
    let address_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let busy = Memo::new(move |_| store.connection.get() == Connection::LoggingIn);

    // Put the cursor where typing is needed (an effect: it runs once the form is on the page).
    effect(move || {
        focus_id(if form.address.get_untracked().is_empty() { "login-address" } else { "login-password" });
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        // Read in place: the password's one copy for the login is the one `validate` puts into the options.
        let result = form.password.with_untracked(|password| {
            validate(&form.address.get_untracked(), password, &form.server_url.get_untracked())
        });
        match result {
            Ok(options) => {
                address_error.set(None);
                password_error.set(None);
                super::persist::log_in(store, session, options, form.stay.get_untracked());
            }
            Err((a, p)) => {
                let focus_address = a.is_some();
                address_error.set(a);
                password_error.set(p);
                focus_id(if focus_address { "login-address" } else { "login-password" });
            }
        }
    };
    let cancel = move |_| {
        session.close();
        store.progress.set(None);
        store.connection.set(Connection::LoggedOut);
    };

    view! {
        <main class="login" id="main">
            <div class="login-card">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <h1>"Natter"</h1>
                </div>
                <p class="login-intro">"Log in with your XMPP address."</p>
                <form class="login-form" novalidate on:submit=handler(submit) aria-describedby="login-status">
                    <div class="field">
                        <label for="login-address">"Address"</label>
                        <input
                            id="login-address"
                            name="username"
                            type="text"
                            inputmode="email"
                            autocomplete="username"
                            autocapitalize="none"
                            spellcheck="false"
                            placeholder="alice@example.org"
                            prop:value=form.address
                            aria-invalid=move || address_error.with(|e| e.is_some().then(|| "true".to_owned()))
                            aria-describedby=move || address_error.with(|e| e.is_some().then(|| "login-address-error".to_owned()))
                            on:input=write_back_clearing(form.address, address_error)
                        />
                        <p class="field-error" id="login-address-error" hidden=move || address_error.with(Option::is_none)>
                            {move || address_error.get()}
                        </p>
                    </div>
                    <div class="field">
                        <label for="login-password">"Password"</label>
                        <input
                            id="login-password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            prop:value=form.password
                            aria-invalid=move || password_error.with(|e| e.is_some().then(|| "true".to_owned()))
                            aria-describedby=move || password_error.with(|e| e.is_some().then(|| "login-password-error".to_owned()))
                            on:input=write_back_clearing(form.password, password_error)
                        />
                        <p class="field-error" id="login-password-error" hidden=move || password_error.with(Option::is_none)>
                            {move || password_error.get()}
                        </p>
                    </div>
                    <div class="field field-check">
                        <input
                            id="login-stay"
                            type="checkbox"
                            aria-describedby="login-stay-hint"
                            prop:checked=form.stay
                            on:change=handler(move |ev: leptos::ev::Event| form.stay.set(event_target_checked(&ev)))
                        />
                        <label for="login-stay">"Stay logged in on this device"</label>
                        <p class="field-hint" id="login-stay-hint">
                            "Your server gives this browser a key that lets it in without your password until you log out."
                        </p>
                    </div>
                    <details class="advanced">
                        <summary>"Advanced"</summary>
                        <div class="field">
                            <label for="login-server">"Server URL"</label>
                            <input
                                id="login-server"
                                name="server-url"
                                type="url"
                                inputmode="url"
                                autocapitalize="none"
                                spellcheck="false"
                                placeholder="wss://example.org/xmpp-websocket"
                                aria-describedby="login-server-hint"
                                prop:value=form.server_url on:input=write_back(form.server_url)
                            />
                            <p class="field-hint" id="login-server-hint">
                                "Leave empty to find your server's WebSocket address automatically."
                            </p>
                        </div>
                    </details>
                    <div class="login-actions">
                        <button type="submit" class="button primary" aria-disabled=move || busy.get().then(|| "true".to_owned())>
                            {move || if busy.get() { "Logging in…" } else { "Log in" }.to_owned()}
                        </button>
                        {show(
                            move || busy.get(),
                            move || view! { <button type="button" class="button ghost" on:click=handler(cancel)>"Cancel"</button> }.into_any(),
                        )}
                    </div>
                    <div class="login-feedback">
                        <div id="login-status" class="login-status" role="status" aria-live="polite">
                            {show(move || busy.get(), || view! { <span class="spinner" aria-hidden="true"></span> }.into_any())}
                            {move || store.progress.get()}
                        </div>
                        <div class="login-error" role="alert">
                            {move || store.login_error.get().map(|e| view! { <p>{e}</p> }.into_any())}
                        </div>
                    </div>
                </form>
                <p class="login-footnote">"Your password is used for this login only and is never stored."</p>
                <super::persist::ForgetDeviceData />
            </div>
        </main>
    }
}
