//! Desktop notifications and a sound for messages that arrive while the tab is hidden or their conversation is
//! not open. Both are off until the person turns them on ([`NotificationSettings`], in the account header);
//! the browser's permission is asked for then, never at load. A notification shows the sender and the start of
//! the message, as text; clicking it opens the conversation. Messages we send (and carbons of them) are never
//! announced: only incoming messages that count as unread are ([`super::state::apply`] decides, with
//! [`super::model::counts_as_unread`], and calls [`announce`]). The sound is a short tone made with Web Audio
//! (no sound file): one for the messages that arrive together, and at most one a second.
//!
//! The choice is kept in `localStorage` (`natter.alerts`), so it survives a reload; nothing else is stored.
//!
//! A notification stays until its conversation is read, here (opened) or on another device of the account
//! (`ReadElsewhere` leaving nothing unread): then it is closed ([`dismiss`]). The browser owns them; this
//! module keeps a handle on the newest per conversation (by tag, so a burst replaces rather than piles up), at
//! most [`MAX_SHOWN`].

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{AudioContext, Notification, NotificationOptions, NotificationPermission};

use super::handler;
use super::state::{self, AppState};
use crate::xmpp::jid::BareJid;

/// The `localStorage` key of the choice.
const STORAGE_KEY: &str = "natter.alerts";

thread_local! {
    /// The store of the chat screen that is up, for notification clicks.
    static SCREEN: Cell<Option<AppState>> = const { Cell::new(None) };
    /// One click handler for every notification, for the page's lifetime (a notification may be clicked long
    /// after it was shown): it opens the conversation its tag names.
    static ON_CLICK: Closure<dyn Fn(web_sys::Event)> = Closure::new(on_click);
    /// The audio context (made at the first tone), when the last tone started (`Date.now()` ms), and whether
    /// one is due (a burst of messages in one go gets one tone).
    static TONE: RefCell<(Option<AudioContext>, f64, bool)> = const { RefCell::new((None, f64::NEG_INFINITY, false)) };
    /// The notifications shown, oldest first: the newest of each conversation, to close once it is read.
    static SHOWN: RefCell<Vec<(BareJid, Notification)>> = const { RefCell::new(Vec::new()) };
}

/// How many shown notifications are kept to be closed (past that, the oldest is left to the browser).
pub const MAX_SHOWN: usize = 32;

/// Whether this browser has the Notification API at all.
fn supported() -> bool {
    web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false))
}

fn allowed() -> bool {
    supported() && Notification::permission() == NotificationPermission::Granted
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Takes the saved choice into `store` (desktop notifications only while the browser still allows them).
pub fn load(store: AppState) {
    let saved = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).unwrap_or_default();
    store.alert_desktop.set(saved.contains("desktop") && allowed());
    store.alert_sound.set(saved.contains("sound"));
}

fn save(store: AppState) {
    let desktop = if store.alert_desktop.get_untracked() { "desktop " } else { "" };
    let sound = if store.alert_sound.get_untracked() { "sound" } else { "" };
    if let Some(s) = storage() {
        let _ = s.set_item(STORAGE_KEY, &format!("{desktop}{sound}"));
    }
}

/// Makes notification clicks open conversations in `store` (call from the chat screen).
pub fn follow(store: AppState) {
    SCREEN.set(Some(store));
}

fn on_click(ev: web_sys::Event) {
    let Some(target) = ev.target() else { return };
    let notification: Notification = target.unchecked_into();
    notification.close();
    let Some(store) = SCREEN.get() else { return };
    let Some(jid) = notification.tag().and_then(|t| BareJid::parse(&t).ok()) else { return };
    if store.account.with_untracked(Option::is_some) {
        if let Some(w) = web_sys::window() {
            let _ = w.focus();
        }
        state::select(store, jid);
        super::sidebar::focus_composer();
    }
}

/// Announces a message from `from` (`title`: who, as shown; `text`: the start of it) the ways the person chose.
pub fn announce(store: AppState, from: &BareJid, title: &str, text: &str) {
    if store.alert_desktop.get_untracked() && allowed() {
        let options = NotificationOptions::new();
        options.set_body(text);
        // One notification per conversation: a newer one replaces it.
        options.set_tag(&from.to_string());
        if let Ok(n) = Notification::new_with_options(title, &options) {
            ON_CLICK.with(|f| n.set_onclick(Some(f.as_ref().unchecked_ref())));
            SHOWN.with_borrow_mut(|shown| {
                shown.retain(|(jid, _)| jid != from);
                if shown.len() >= MAX_SHOWN {
                    shown.remove(0);
                }
                shown.push((from.clone(), n));
            });
        }
    }
    if store.alert_sound.get_untracked() && !TONE.with_borrow_mut(|t| std::mem::replace(&mut t.2, true)) {
        set_timeout(play_tone, std::time::Duration::ZERO);
    }
}

/// Closes the notification of the conversation with `jid`, if one is shown: its messages were read.
pub fn dismiss(jid: &BareJid) {
    let shown = SHOWN.with_borrow_mut(|shown| shown.iter().position(|(j, _)| j == jid).map(|at| shown.remove(at).1));
    if let Some(n) = shown {
        n.close();
    }
}

/// Plays the tone that is due, unless one played less than a second ago.
fn play_tone() {
    TONE.with_borrow_mut(|(context, last, due)| {
        *due = false;
        let now = js_sys::Date::now();
        if now - *last >= 1000.0 {
            *last = now;
            chime(context);
        }
    });
}

/// A short, quiet tone (880 Hz, fading out over 0.2 s).
fn chime(context: &mut Option<AudioContext>) {
    if context.is_none() {
        *context = AudioContext::new().ok();
    }
    let Some(ctx) = context.as_ref() else { return };
    let (Ok(tone), Ok(volume)) = (ctx.create_oscillator(), ctx.create_gain()) else { return };
    let t = ctx.current_time();
    tone.frequency().set_value(880.0);
    let gain = volume.gain();
    let _ = gain.set_value_at_time(0.08, t);
    let _ = gain.exponential_ramp_to_value_at_time(0.0001, t + 0.2);
    let _ = tone.connect_with_audio_node(&volume);
    let _ = volume.connect_with_audio_node(&ctx.destination());
    let _ = tone.start_with_when(t);
    let _ = tone.stop_with_when(t + 0.2);
}

/// The two switches: desktop notifications (asking the browser's permission when turned on) and the sound.
#[component]
pub fn NotificationSettings() -> impl IntoView {
    let store = expect_context::<AppState>();
    let problem = RwSignal::new((!supported()).then(|| "This browser cannot show notifications.".to_owned()));
    let turn = move |switch: RwSignal<bool>, on: bool| {
        switch.set(on);
        save(store);
    };
    let refused = move || {
        turn(store.alert_desktop, false);
        problem.set(Some("Notifications are blocked for this site: allow them in the browser's site settings.".into()));
    };
    let on_desktop = move |ev: web_sys::Event| {
        if !event_target_checked(&ev) || !supported() {
            return turn(store.alert_desktop, false);
        }
        problem.set(None);
        match Notification::permission() {
            NotificationPermission::Granted => turn(store.alert_desktop, true),
            NotificationPermission::Denied => refused(),
            _ => {
                let Ok(asked) = Notification::request_permission() else { return refused() };
                wasm_bindgen_futures::spawn_local(async move {
                    let answer = wasm_bindgen_futures::JsFuture::from(asked).await.ok().and_then(|a| a.as_string());
                    if answer.as_deref() == Some("granted") {
                        turn(store.alert_desktop, true);
                    } else {
                        refused();
                    }
                });
            }
        }
    };
    view! {
        <details class="settings">
            <summary>"Notifications"</summary>
            <label class="switch">
                <input type="checkbox" role="switch" id="alert-desktop" prop:checked=store.alert_desktop on:change=handler(on_desktop) />
                "Desktop notification for new messages"
            </label>
            <label class="switch">
                <input
                    type="checkbox"
                    role="switch"
                    id="alert-sound"
                    prop:checked=store.alert_sound
                    on:change=handler(move |ev: web_sys::Event| turn(store.alert_sound, event_target_checked(&ev)))
                />
                "Play a sound"
            </label>
            <p class="field-hint" id="alert-problem" role="status">{move || problem.get()}</p>
        </details>
    }
}
