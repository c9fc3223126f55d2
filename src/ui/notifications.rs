//! Desktop notifications and a sound for messages that arrive while the tab is hidden or their conversation is
//! not open. Both are off until the person turns them on ([`NotificationSettings`], in the account header);
//! the browser's permission is asked for then, never at load. A notification shows the sender and the start of
//! the message, as text; clicking it opens the conversation. Messages we send (and carbons of them) are never
//! announced: only [`super::state::apply`]'s incoming messages queue alerts, and only when they count as unread.
//! The sound is a short tone made with Web Audio (no sound file).
//!
//! The choice is kept in `localStorage` (`natter.alerts`), so it survives a reload; nothing else is stored.
//!
//! What this module does not do: decide what is worth announcing (the store does, with
//! [`super::model::counts_as_unread`]), or keep notifications around (the browser owns them; one per sender,
//! by tag, so a burst replaces rather than piles up).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{AudioContext, Notification, NotificationOptions, NotificationPermission};

use super::state::{self, Alert, AlertPrefs, AppState};
use super::{effect, handler};
use crate::xmpp::jid::BareJid;

/// The `localStorage` key of the choice.
const STORAGE_KEY: &str = "natter.alerts";

/// Whether this browser has the Notification API at all.
fn supported() -> bool {
    web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &"Notification".into()).unwrap_or(false))
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The person's choice as saved; desktop notifications only while the browser still allows them.
pub fn load() -> AlertPrefs {
    let saved = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).unwrap_or_default();
    AlertPrefs {
        desktop: saved.contains("desktop")
            && supported()
            && Notification::permission() == NotificationPermission::Granted,
        sound: saved.contains("sound"),
    }
}

fn save(prefs: AlertPrefs) {
    let value = match (prefs.desktop, prefs.sound) {
        (true, true) => "desktop sound",
        (true, false) => "desktop",
        (false, true) => "sound",
        (false, false) => "",
    };
    if let Some(s) = storage() {
        let _ = s.set_item(STORAGE_KEY, value);
    }
}

/// Announces the queued alerts while the chat screen is up (call from it): a notification per sender (if
/// on and allowed), one tone per batch (if on).
pub fn follow(store: AppState) {
    // One click handler for every notification: it reads the conversation from the notification's tag.
    let on_click = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(target) = ev.target() else { return };
        let notification: Notification = target.unchecked_into();
        if let Some(jid) = notification.tag().and_then(|t| BareJid::parse(&t).ok()) {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            state::select(store, jid);
            super::sidebar::focus_composer();
        }
        notification.close();
    });
    let on_click = StoredValue::new_local(on_click);
    let audio = StoredValue::new_local(None::<AudioContext>);
    effect(move || {
        if store.alerts.with(Vec::is_empty) {
            return;
        }
        let alerts = store.alerts.try_update_untracked(std::mem::take).unwrap_or_default();
        let prefs = store.alert_prefs.get_untracked();
        if prefs.desktop && Notification::permission() == NotificationPermission::Granted {
            on_click.with_value(|f| alerts.iter().for_each(|a| show(a, f.as_ref().unchecked_ref())));
        }
        if prefs.sound {
            audio.update_value(chime);
        }
    });
}

fn show(alert: &Alert, on_click: &js_sys::Function) {
    let options = NotificationOptions::new();
    options.set_body(&alert.body);
    // One notification per conversation: a newer one replaces it.
    options.set_tag(&alert.from.to_string());
    if let Ok(n) = Notification::new_with_options(&alert.title, &options) {
        n.set_onclick(Some(on_click));
    }
}

/// A short, quiet tone (880 Hz, fading out over 0.2 s). The audio context is made on first use and kept.
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
    let desktop = RwSignal::new(store.alert_prefs.with_untracked(|p| p.desktop));
    let sound = RwSignal::new(store.alert_prefs.with_untracked(|p| p.sound));
    let set = move |f: &dyn Fn(&mut AlertPrefs)| {
        store.alert_prefs.update(|p| f(p));
        save(store.alert_prefs.get_untracked());
    };
    let refused = move || {
        desktop.set(false);
        problem.set(Some("Notifications are blocked for this site: allow them in the browser's site settings.".into()));
    };
    let on_desktop = move |ev: web_sys::Event| {
        let on = event_target_checked(&ev);
        desktop.set(on);
        if !on || !supported() {
            set(&|p| p.desktop = false);
            return;
        }
        problem.set(None);
        match Notification::permission() {
            NotificationPermission::Granted => set(&|p| p.desktop = true),
            NotificationPermission::Denied => refused(),
            _ => {
                let Ok(asked) = Notification::request_permission() else { return refused() };
                leptos::task::spawn_local(async move {
                    let answer = wasm_bindgen_futures::JsFuture::from(asked).await.ok().and_then(|a| a.as_string());
                    if answer.as_deref() == Some("granted") {
                        set(&|p| p.desktop = true);
                    } else {
                        refused();
                    }
                });
            }
        }
    };
    let on_sound = move |ev: web_sys::Event| {
        let on = event_target_checked(&ev);
        sound.set(on);
        set(&|p| p.sound = on);
    };
    effect(move || {
        // Turned off elsewhere (permission gone): the switch follows.
        let p = store.alert_prefs.get();
        desktop.set(p.desktop);
        sound.set(p.sound);
    });
    view! {
        <details class="settings">
            <summary>"Notifications"</summary>
            <label class="switch">
                <input type="checkbox" role="switch" id="alert-desktop" prop:checked=desktop on:change=handler(on_desktop) />
                "Desktop notification for new messages"
            </label>
            <label class="switch">
                <input type="checkbox" role="switch" id="alert-sound" prop:checked=sound on:change=handler(on_sound) />
                "Play a sound"
            </label>
            <p class="field-hint" id="alert-problem" role="status">{move || problem.get()}</p>
        </details>
    }
}
