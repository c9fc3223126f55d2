//! The browser's history follows the open conversation (or room: `#/room/lobby%40conference.example.org`), so Back does what a person expects: opening a
//! conversation from the list pushes a history entry whose URL names it (`#/chat/bob%40example.org`), and Back
//! closes it again (on a phone: back to the list, instead of out of the app and the session). Switching from
//! one conversation to another replaces that entry, so Back always leads to the list. A URL that names a
//! conversation opens it once logged in. Only the fragment changes, so this works wherever the app is hosted
//! (a sub-path included) and never asks the server for anything.
//!
//! What it does not do: routing of any other kind, or keep anything beyond the open conversation's address.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::state::{self, AppState};
use crate::xmpp::jid::BareJid;

const PREFIX: &str = "#/chat/";
const ROOM_PREFIX: &str = "#/room/";
/// `history.state` of the entries we push, to know that Back (`history.back()`) returns to the list.
const PUSHED: &str = "natter-chat";

/// The fragment naming the conversation with `jid`.
pub fn chat_hash(jid: &BareJid) -> String {
    format!("{PREFIX}{}", js_sys::encode_uri_component(&jid.to_string()))
}

/// The fragment naming the room `jid`.
pub fn room_hash(jid: &BareJid) -> String {
    format!("{ROOM_PREFIX}{}", js_sys::encode_uri_component(&jid.to_string()))
}

/// The conversation a fragment names, if it names one (a valid address; anything else is ignored).
pub fn parse_chat_hash(hash: &str) -> Option<BareJid> {
    parse(hash, PREFIX)
}

/// The room a fragment names, if it names one.
pub fn parse_room_hash(hash: &str) -> Option<BareJid> {
    parse(hash, ROOM_PREFIX)
}

fn parse(hash: &str, prefix: &str) -> Option<BareJid> {
    let encoded = hash.strip_prefix(prefix)?;
    let decoded = String::from(js_sys::decode_uri_component(encoded).ok()?);
    BareJid::parse(&decoded).ok()
}

/// What the URL names: a conversation or a room.
fn place_hash(store: AppState) -> Option<String> {
    store.selected.with(|s| s.as_ref().map(chat_hash)).or_else(|| store.rooms.open.with(|o| o.as_ref().map(room_hash)))
}

fn names_place(hash: &str) -> bool {
    hash.starts_with(PREFIX) || hash.starts_with(ROOM_PREFIX)
}

fn location_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

fn history() -> Option<web_sys::History> {
    web_sys::window()?.history().ok()
}

/// The page's own URL without a fragment (relative, so a sub-path stays).
fn list_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let part = |f: fn(&web_sys::Location) -> Result<String, JsValue>| location.as_ref().and_then(|l| f(l).ok());
    format!(
        "{}{}",
        part(web_sys::Location::pathname).unwrap_or_default(),
        part(web_sys::Location::search).unwrap_or_default()
    )
}

/// Keeps the history and the open conversation in step while the chat screen is up (call from it).
pub fn follow(store: AppState) {
    let Some(history) = history() else { return };
    // A URL naming a conversation or a room (a reload, a bookmark): open it, with the list as the entry below it.
    let hash = location_hash();
    if names_place(&hash) && store.selected.with_untracked(Option::is_none) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&list_url()));
        let _ = history.push_state_with_url(&PUSHED.into(), "", Some(&hash));
        match parse_chat_hash(&hash) {
            Some(jid) => state::select(store, jid),
            None => {
                if let Some(room) = parse_room_hash(&hash) {
                    super::rooms::open(store, room)
                }
            }
        }
    }
    super::effect(move || {
        let selected = place_hash(store);
        let Some(history) = self::history() else { return };
        let shown = Some(location_hash()).filter(|h| names_place(h));
        match (selected, shown) {
            (Some(place), shown) if shown.as_ref() == Some(&place) => {}
            // From the list: a new entry. From another conversation: this one takes its place.
            (Some(place), None) => {
                let _ = history.push_state_with_url(&PUSHED.into(), "", Some(&place));
            }
            (Some(place), Some(_)) => {
                let state = history.state().unwrap_or(JsValue::NULL);
                let _ = history.replace_state_with_url(&state, "", Some(&place));
            }
            // Closed in the app (Back button, Escape): back to the entry of the list, if ours is on top.
            (None, Some(_)) => {
                if history.state().ok().and_then(|s| s.as_string()).as_deref() == Some(PUSHED) {
                    let _ = history.back();
                } else {
                    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&list_url()));
                }
            }
            (None, None) => {}
        }
    });
    // Back and Forward (and a fragment typed in the address bar) open or close conversations.
    let popstate = window_event_listener_untyped("popstate", move |_| {
        let hash = location_hash();
        match (parse_chat_hash(&hash), parse_room_hash(&hash)) {
            (Some(jid), _) => state::select(store, jid),
            (None, Some(room)) => super::rooms::open(store, room),
            (None, None) => {
                if store.selected.with_untracked(Option::is_some) {
                    store.selected.set(None);
                }
                if store.rooms.open.with_untracked(Option::is_some) {
                    store.rooms.open.set(None);
                }
            }
        }
    });
    on_cleanup(move || {
        popstate.remove();
        // Logged out: the URL no longer names a conversation.
        if names_place(&location_hash())
            && let Some(history) = self::history()
        {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&list_url()));
        }
    });
}
