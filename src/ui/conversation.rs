//! The right pane: the open conversation's header, transcript and composer.
//!
//! The transcript (`role="log"`, announced politely) is a keyed list ([`keyed_list`]) of the conversation's
//! pages, each a keyed list of its messages. A page lists its rows' keys and states in two memos, and a row is
//! built once from its message (only its state — where our message is, or an error — can change later, and only
//! that row is touched then): a new message re-checks each page's keys (a hundred numbers) and adds one row to
//! the last page. Our own messages show their state as a small mark and in words for screen readers ("Sent",
//! "Delivered", "Read"); one not sent yet says why, in words, with a button to cancel it.
//! Message text is rendered as text nodes; links are `<a>` elements built from [`links::linkify`] pieces,
//! never HTML strings. New messages scroll into view while the reader is at the bottom (at most one scroll
//! per animation frame); once they have scrolled up, a "New messages" button appears instead.
//! The composer works whether or not the session is online: what is sent while it is not waits in the outbox
//! ([`outbox`]) and goes out, in order, when the session is back; the composer says so meanwhile.
//! While the conversation is open and the page visible, the newest message that asks for it is marked as
//! displayed (XEP-0333), again when the page shows or the session comes back; at most every [`MARK_EVERY`].

use crate::ui::{by_id, dynamic, effect, focus_id, handler, keyed_list, show, show_or};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::archive;
use super::dialogs::{DialogMode, DialogState};
use super::model::{self, ChatMessage, Contact, Delivery, MessagePage, RowState};
use super::outbox;
use super::state::{self, AppState, Connection, NoticeKind, SessionHandle};
use crate::links::{self, Segment};
use crate::xmpp::Command;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::message::ChatState;
use leptos::leptos_dom::helpers::TimeoutHandle;

/// How close to the bottom (in CSS pixels) still counts as "reading the newest messages".
const BOTTOM_SLACK: i32 = 48;
/// How close to the top (in CSS pixels) loads older messages.
const TOP_SLACK: i32 = 400;
/// A transcript page's keys for gap rows: the key of the message before the gap with this bit set.
const GAP_KEY: u64 = 1 << 63;
/// How long after the last keystroke we tell the contact we stopped typing.
const PAUSE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);
/// `displayed` markers go out at most this often per open conversation, each for the newest message: a burst
/// (a catch-up of a thousand) is marked by a few, not one per message (each is a stanza the server routes and
/// archives for both sides).
const MARK_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// The transcript's and the composer's ids (the code scrolls the one and reads, focuses and fills the other).
const TRANSCRIPT_ID: &str = "transcript";
const COMPOSER_ID: &str = "composer";

fn composer() -> Option<web_sys::HtmlTextAreaElement> {
    by_id(COMPOSER_ID)?.dyn_into().ok()
}

#[component]
pub fn ConversationPane() -> impl IntoView {
    let store = expect_context::<AppState>();
    dynamic(move || match store.selected.get() {
        Some(jid) => view! { <ConversationView jid /> }.into_any(),
        None => view! {
            <div class="empty-pane">
                <div class="empty-art" aria-hidden="true"></div>
                <h2>"No conversation open"</h2>
                <p>"Choose a contact to start chatting."</p>
            </div>
        }
        .into_any(),
    })
}

#[component]
pub fn ConversationView(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let dialog = use_context::<RwSignal<Option<DialogState>>>();
    state::ensure_conversation(store, &jid);
    let jid_text = jid.to_string();
    let name = {
        let (jid, fallback) = (jid.clone(), jid_text.clone());
        Memo::new(move |_| store.with_contact(&jid, Contact::display_name).unwrap_or_else(|| fallback.clone()))
    };
    let presence = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_contact(&jid, |c| c.presence.clone()).flatten())
    };
    let typing = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_contact(&jid, |c| c.typing.is_some()) == Some(true))
    };
    let in_roster = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_contact(&jid, |c| c.in_roster) == Some(true))
    };
    // This conversation's composer state, read and written in place.
    let send_error = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_conversation(&jid, |c| c.send_error.clone()).flatten())
    };
    let set_send_error = {
        let jid = jid.clone();
        move |error: Option<String>| {
            if send_error.get_untracked() != error {
                store.update_conversation(&jid, |c| c.send_error = error);
            }
        }
    };
    // Nothing renders the draft (it is read when the conversation opens): written without notifying, so a
    // keystroke does not re-run the transcript's memos.
    let set_draft = {
        let jid = jid.clone();
        move |draft: String| {
            store.conversations.update_untracked(|c| c.entry(jid.clone()).or_default().draft = draft);
            super::persist::changed(store);
        }
    };
    let presence_text = move || {
        if typing.get() {
            return "typing…".to_owned();
        }
        presence.with(|p| {
            let label = model::presence_label(p.as_ref());
            let mut s = String::with_capacity(32);
            let mut chars = label.chars();
            if let Some(c) = chars.next() {
                s.push_str(&model::upper_case(c));
                s.push_str(chars.as_str());
            }
            if let Some(status) = p.as_ref().and_then(|p| p.status.as_deref()).filter(|s| !s.trim().is_empty()) {
                s.push_str(" — ");
                s.push_str(status);
            }
            s
        })
    };

    // Whether new messages scroll into view: until the reader scrolls up, and again once they are back at the
    // bottom (or send, or press "New messages").
    let following = RwSignal::new(true);
    let unseen = RwSignal::new(0usize);
    let page_keys = {
        let jid = jid.clone();
        Memo::new(move |_| -> Vec<u64> {
            store
                .with_conversation(&jid, |c| (0..c.pages.len()).map(|i| archive::page_key(&c.archive, i)).collect())
                .unwrap_or_default()
        })
    };
    // The archive's side: loading, start reached, an error (the top row), newer messages let go (the bottom).
    // (Memos of types the UI has already: each new type of memo compiles its own copy.)
    let archive_flag = |f: fn(&archive::Transcript) -> bool| {
        let jid = jid.clone();
        Memo::new(move |_| store.with_conversation(&jid, |c| f(&c.archive)) == Some(true))
    };
    let loading = archive_flag(|a| a.loading);
    let complete = archive_flag(|a| a.complete);
    let newer_dropped = archive_flag(|a| a.newer_dropped);
    let history_error = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_conversation(&jid, |c| c.archive.error.clone()).flatten())
    };
    let last_seq = {
        let jid = jid.clone();
        move || {
            store
                .conversations
                .with_untracked(|c| c.get(&jid).and_then(|c| model::last_message(&c.pages)).map(|m| m.seq))
        }
    };
    let shown_last = StoredValue::new(None::<u64>);
    let count = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_conversation(&jid, |c| model::message_count(&c.pages)).unwrap_or(0))
    };
    let last_is_mine = {
        let jid = jid.clone();
        move || {
            store
                .conversations
                .with_untracked(|c| c.get(&jid).and_then(|c| model::last_message(&c.pages)).is_some_and(|m| m.from_me))
        }
    };

    // One scroll per animation frame however many messages arrive before it (smooth only if every request was).
    let scroll_pending = StoredValue::new(None::<bool>);
    let scroll_to_bottom = move |smooth: bool| {
        if let Some(Some(pending)) = scroll_pending.try_get_value() {
            scroll_pending.set_value(Some(pending && smooth));
            return;
        }
        let Some(window) = web_sys::window() else { return };
        scroll_pending.set_value(Some(smooth));
        let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
            // The conversation may be gone by the next frame (another one was opened).
            let Some(Some(smooth)) = scroll_pending.try_get_value() else { return };
            scroll_pending.set_value(None);
            if let Some(el) = by_id(TRANSCRIPT_ID) {
                // The stylesheet makes this smooth unless the person prefers reduced motion.
                el.class_list().toggle_with_force("instant", !smooth).ok();
                el.set_scroll_top(el.scroll_height());
            }
        });
        let _ = window.request_animation_frame(cb.unchecked_ref());
    };
    // Older messages put in front keep the view where it was: the first page shown before (`anchor`: its key,
    // where it was in the transcript and the scroll position then, measured at each scroll and when the loading
    // row comes) stays at the same place in the view, whatever came above it or went below.
    let anchor = StoredValue::new(None::<(u64, i32, i32)>);
    let measure = move || {
        let Some(el) = by_id(TRANSCRIPT_ID) else { return };
        let first =
            el.query_selector(".messages-page").ok().flatten().and_then(|p| p.dyn_into::<web_sys::HtmlElement>().ok());
        let key = first.as_ref().and_then(|p| p.get_attribute("data-key")?.parse::<u64>().ok());
        anchor.try_set_value(first.zip(key).map(|(p, key)| (key, p.offset_top(), el.scroll_top())));
    };
    // The scroll position at the last scroll event (or where keeping the place put it): scrolling up from there
    // to the top loads older messages.
    let last_top = StoredValue::new(0);
    let keep_place = move || {
        request_animation_frame(move || {
            let (Some(el), Some(Some((key, was_at, top)))) = (by_id(TRANSCRIPT_ID), anchor.try_get_value()) else {
                return;
            };
            let page = el.query_selector(&format!(".messages-page[data-key=\"{key}\"]")).ok().flatten();
            let Some(page) = page.and_then(|p| p.dyn_into::<web_sys::HtmlElement>().ok()) else { return };
            el.class_list().add_1("instant").ok();
            el.set_scroll_top(top + page.offset_top() - was_at);
            // Its scroll event may come together with the person's next one (a jump to the top within the same
            // frame): from here, that is a scroll up.
            last_top.try_set_value(el.scroll_top());
        });
    };
    let shown_first = StoredValue::new(None::<u64>);
    Effect::new(move |prev: Option<usize>| {
        let n = count.get();
        let first = page_keys.with(|k| k.first().copied());
        let prev_first = shown_first.try_update_value(|f| std::mem::replace(f, first)).flatten();
        let still_there = prev_first.is_some_and(|p| page_keys.with_untracked(|k| k.contains(&p)));
        let last = last_seq();
        let prev_last = shown_last.try_update_value(|l| std::mem::replace(l, last)).flatten();
        match prev {
            None => scroll_to_bottom(false),
            // Pages came in front of the first one shown.
            Some(_) if first != prev_first && still_there => keep_place(),
            Some(prev) if n > prev && last != prev_last => {
                let mine = last_is_mine();
                if following.get_untracked() || mine {
                    // The first messages of an empty transcript (its newest page loaded) are where it opens, at
                    // once; later ones glide into view.
                    scroll_to_bottom(prev > 0);
                } else {
                    unseen.update(|u| *u += n - prev);
                }
            }
            Some(_) => {}
        }
        n
    });
    // The loading row (or an error) coming moves the messages below it: where the reader is is measured again.
    // (Not when the row goes with a page: the page is put where that measure says.)
    effect(move || {
        if !loading.get() && history_error.with(Option::is_none) {
            return;
        }
        request_animation_frame(measure);
    });
    let load_older = {
        let jid = jid.clone();
        move || archive::load_older(store, session, &jid)
    };
    let on_scroll = move |_| {
        if let Some(el) = by_id(TRANSCRIPT_ID) {
            let top = el.scroll_top();
            measure();
            if top < TOP_SLACK && top < last_top.get_value() {
                load_older();
            }
            let distance = el.scroll_height() - top - el.client_height();
            let previous = last_top.get_value();
            last_top.set_value(top);
            let follow = model::follows_after_scroll(following.get_untracked(), previous, top, distance, BOTTOM_SLACK);
            if follow != following.get_untracked() {
                following.set(follow);
            }
            if distance <= BOTTOM_SLACK && unseen.get_untracked() > 0 {
                unseen.set(0);
            }
        }
    };

    let offline = Memo::new(move |_| store.connection.with(|c| *c != Connection::Online));

    // Nothing held, not enough to scroll, or the view left at the very top after a page came (no scroll event
    // can come from there: a wheel at the top scrolls nothing): older messages are asked for (again when the
    // session is back). Otherwise scrolling up to the top asks ([`TOP_SLACK`]).
    {
        let jid = jid.clone();
        effect(move || {
            let (n, off) = (count.get(), offline.get());
            // Tracked: a transcript holding nothing asks again once the account's catch-up is over.
            let waiting = store.catching_up.get() && n == 0;
            if loading.get() || complete.get() || history_error.with(Option::is_some) || off || waiting {
                return;
            }
            let jid = jid.clone();
            request_animation_frame(move || {
                let fits_or_top = by_id(TRANSCRIPT_ID)
                    .is_none_or(|el| el.scroll_height() <= el.client_height() || el.scroll_top() <= 0);
                if n == 0 || fits_or_top {
                    archive::load_older(store, session, &jid);
                }
            });
        });
    }

    // XEP-0333: the newest message that asks for it is marked as displayed while the person can see it; at
    // most once per MARK_EVERY (a burst marks its newest at once, then the newest of what followed).
    let markable = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_conversation(&jid, |c| c.markable.clone()).flatten())
    };
    let mark_timer = StoredValue::new(None::<TimeoutHandle>);
    let last_mark = StoredValue::new(f64::NEG_INFINITY);
    let mark_newest = {
        let jid = jid.clone();
        move || {
            let hidden = store.page_hidden.try_get_untracked().unwrap_or(true);
            let (Some(Some(id)), Some(false), false) =
                (markable.try_get_untracked(), offline.try_get_untracked(), hidden)
            else {
                return;
            };
            if store.conversations.with_untracked(|c| c.get(&jid).and_then(|c| c.marked.clone())).as_ref() == Some(&id)
            {
                return;
            }
            if session.send(Command::SendDisplayed { to: jid.clone(), id: id.clone() }).is_ok() {
                last_mark.try_set_value(js_sys::Date::now());
                // Nothing shows it: written without notifying.
                store.conversations.update_untracked(|c| c.entry(jid.clone()).or_default().marked = Some(id));
            }
        }
    };
    effect({
        let mark_newest = mark_newest.clone();
        move || {
            let (id, hidden, off) = (markable.get(), store.page_hidden.get(), offline.get());
            if id.is_none() || hidden || off || mark_timer.with_value(Option::is_some) {
                return;
            }
            let since = js_sys::Date::now() - last_mark.get_value();
            let wait = MARK_EVERY.as_secs_f64() * 1000.0 - since;
            if wait <= 0.0 {
                return mark_newest();
            }
            let mark_newest = mark_newest.clone();
            let fire = move || {
                mark_timer.try_set_value(None);
                mark_newest();
            };
            if let Ok(timer) = set_timeout_with_handle(fire, std::time::Duration::from_secs_f64(wait / 1000.0)) {
                mark_timer.set_value(Some(timer));
            }
        }
    });
    on_cleanup(move || {
        if let Some(Some(timer)) = mark_timer.try_update_value(Option::take) {
            timer.clear();
        }
    });

    // Our chat state (XEP-0085): "composing" when typing starts, "paused" after PAUSE_AFTER without a keystroke,
    // "active" when the composer is emptied or a message goes out (it carries <active/> itself). The core only
    // sends them to contacts who send chat states too.
    let sent_state = StoredValue::new(ChatState::Active);
    let pause_timer = StoredValue::new(None::<TimeoutHandle>);
    let stop_pause_timer = move || {
        if let Some(Some(timer)) = pause_timer.try_update_value(Option::take) {
            timer.clear();
        }
    };
    let tell = {
        let jid = jid.clone();
        move |state: ChatState| {
            stop_pause_timer();
            if sent_state.try_update_value(|s| std::mem::replace(s, state)).is_some_and(|was| was != state) {
                let _ = session.send(Command::SendChatState { to: jid.clone(), state });
            }
        }
    };
    let typed = {
        let tell = tell.clone();
        move |text: &str| {
            if text.is_empty() {
                return tell(ChatState::Active);
            }
            tell(ChatState::Composing);
            let tell = tell.clone();
            if let Ok(timer) = set_timeout_with_handle(move || tell(ChatState::Paused), PAUSE_AFTER) {
                pause_timer.try_set_value(Some(timer));
            }
        }
    };
    // Leaving the conversation with a half-typed message: no longer typing.
    on_cleanup({
        let tell = tell.clone();
        move || {
            if sent_state.try_get_value() == Some(ChatState::Composing) {
                tell(ChatState::Paused);
            }
        }
    });
    let send = {
        let (jid, set_draft, set_send_error) = (jid.clone(), set_draft.clone(), set_send_error.clone());
        move || {
            let Some(el) = composer() else { return };
            let body = el.value();
            if body.trim().is_empty() {
                return;
            }
            let body = match model::composer_text(body.trim_end()) {
                Ok(body) => body,
                Err(why) => return set_send_error(Some(why)),
            };
            match outbox::send(store, session, &jid, body) {
                Ok(()) => {
                    el.set_value("");
                    // The message said <active/> itself: only the pending "paused" is dropped.
                    stop_pause_timer();
                    sent_state.try_set_value(ChatState::Active);
                    set_draft(String::new());
                    set_send_error(None);
                    following.set(true);
                    unseen.set(0);
                }
                Err(e) => set_send_error(Some(e)),
            }
        }
    };
    let send_key = send.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && !ev.alt_key() {
            ev.prevent_default();
            send_key();
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
        focus_id(COMPOSER_ID);
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        typed(&text);
        set_draft(text);
        set_send_error(None);
    };

    let open_dialog = {
        let jid = jid.clone();
        move |mode: DialogMode| {
            if let Some(d) = dialog {
                d.set(Some(DialogState { jid: jid.clone(), mode }));
            }
        }
    };
    let (rename, remove) = (open_dialog.clone(), open_dialog);
    let add_stranger = {
        let jid = jid.clone();
        move |_| {
            let cmd = Command::AddContact { jid: jid.clone(), name: None, groups: Vec::new() };
            match session.send(cmd) {
                Ok(()) => {
                    state::notify(store, NoticeKind::Info, format!("Asked {} to share their presence with you.", jid))
                }
                Err(e) => {
                    state::notify(store, NoticeKind::Error, model::sentence(&format!("could not add {jid}: {e}")))
                }
            }
        }
    };
    let hue = model::hue_class(&jid);
    // Restore what was typed here before (set once: a `prop:value` is applied late and could undo typing).
    let initial_draft =
        store.conversations.with_untracked(|c| c.get(&jid).map(|c| c.draft.clone())).unwrap_or_default();
    effect(move || {
        if let Some(el) = composer()
            && !initial_draft.is_empty()
            && el.value().is_empty()
        {
            el.set_value(&initial_draft);
        }
    });

    view! {
        <section class="conversation" aria-labelledby="conversation-title" on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
            // Escape closes the conversation (on any layout), unless it ends an input method's composition.
            if ev.key() == "Escape" && !ev.is_composing() && !ev.default_prevented() {
                ev.prevent_default();
                back(store);
            }
        })>
            <header class="conversation-header">
                <button
                    type="button"
                    class="button ghost back"
                    on:click=handler(move |_| back(store))
                >
                    <span aria-hidden="true">"← "</span>
                    "Back"
                </button>
                <span class=format!("avatar large {hue}") aria-hidden="true">
                    {move || model::initial(&name.get())}
                    <span class=move || format!("dot {}", presence.with(|p| model::presence_class(p.as_ref())))></span>
                </span>
                <div class="conversation-title">
                    <h2 id="conversation-title" dir="auto">{move || name.get()}</h2>
                    <p class="conversation-sub">
                        <span class="conversation-jid">{jid_text.clone()}</span>
                        <span aria-hidden="true">" · "</span>
                        <span class="conversation-presence" dir="auto">{presence_text}</span>
                    </p>
                </div>
                <div class="conversation-actions">
                    {show_or(
                        move || in_roster.get(),
                        move || {
                            let (rename, remove, menu) = (rename.clone(), remove.clone(), rename.clone());
                            view! {
                                <button type="button" class="button ghost small wide-only" aria-haspopup="dialog" on:click=handler(move |_| rename(DialogMode::Rename))>
                                    "Rename"
                                </button>
                                <button type="button" class="button ghost small danger wide-only" aria-haspopup="dialog" on:click=handler(move |_| remove(DialogMode::ConfirmRemove))>
                                    "Remove"
                                </button>
                                <button
                                    type="button"
                                    class="icon-button narrow-only"
                                    aria-haspopup="dialog"
                                    aria-label=move || format!("Actions for {}", name.get())
                                    title="Rename or remove"
                                    on:click=handler(move |_| menu(DialogMode::Menu))
                                >
                                    <span aria-hidden="true">"⋯"</span>
                                </button>
                            }
                            .into_any()
                        },
                        move || {
                            let add = add_stranger.clone();
                            view! {
                                <button type="button" class="button small" on:click=handler(add)>"Add to contacts"</button>
                            }
                            .into_any()
                        },
                    )}
                </div>
            </header>
            <div class="transcript-wrap">
                <div
                    class="transcript"
                    role="log"
                    aria-live="polite"
                    aria-relevant="additions"
                    aria-label=move || format!("Messages with {}", name.get())
                    tabindex="0"
                    id=TRANSCRIPT_ID
                    on:scroll=handler(on_scroll)
                >
                    {show(
                        move || count.get() == 0 && !loading.get() && !store.catching_up.get() && history_error.with(Option::is_none),
                        move || view! {
                            <p class="transcript-empty">{move || format!("This is the start of your conversation with {}.", name.get())}</p>
                        }.into_any(),
                    )}
                    {
                        let retry = jid.clone();
                        dynamic(move || {
                            if loading.get() || (store.catching_up.get() && count.get() == 0) {
                                view! { <p class="history-row" role="status"><span class="spinner" aria-hidden="true"></span>"Loading earlier messages…"</p> }.into_any()
                            } else if let Some(error) = history_error.get() {
                                let retry = retry.clone();
                                view! {
                                    <p class="history-row history-error" role="alert">
                                        {error}
                                        " "
                                        <button type="button" class="button small" on:click=handler(move |_| {
                                            store.update_conversation(&retry, |c| c.archive.error = None);
                                            archive::load_older(store, session, &retry);
                                        })>"Retry"</button>
                                    </p>
                                }.into_any()
                            } else if complete.get() && count.get_untracked() > 0 {
                                view! { <p class="history-row history-start">"Start of the conversation"</p> }.into_any()
                            } else {
                                ().into_any()
                            }
                        })
                    }
                    <div class="messages">
                        {keyed_list(
                            move || page_keys.get(),
                            {
                                let jid = jid.clone();
                                move |key| {
                                    let jid = jid.clone();
                                    view! { <TranscriptPage jid key /> }.into_any()
                                }
                            },
                        )}
                    </div>
                    {
                        let newest = jid.clone();
                        show(
                            move || newer_dropped.get(),
                            move || {
                                let newest = newest.clone();
                                view! {
                                    <p class="history-row">
                                        "Newer messages are not shown."
                                        " "
                                        <button type="button" class="button small" on:click=handler(move |_| {
                                            following.set(true);
                                            archive::show_newest(store, session, &newest);
                                        })>"Show the newest messages"</button>
                                    </p>
                                }.into_any()
                            },
                        )
                    }
                </div>
                {show(
                    move || unseen.get() > 0,
                    move || view! {
                        <button type="button" class="jump" on:click=handler(move |_| {
                            unseen.set(0);
                            following.set(true);
                            scroll_to_bottom(true);
                        })>
                            <span aria-hidden="true">"↓ "</span>
                            "New messages"
                            <span class="jump-count">{move || format!(" ({})", unseen.get())}</span>
                        </button>
                    }.into_any(),
                )}
            </div>
            <form class="composer" on:submit=handler(on_submit)>
                <label class="visually-hidden" for="composer">"Message"</label>
                <textarea
                    id=COMPOSER_ID
                    class="composer-input"
                    rows="1"
                    placeholder=move || format!("Message {}", name.get())
                    dir="auto"
                    aria-invalid=move || send_error.with(|e| e.is_some().then(|| "true".to_owned()))
                    aria-describedby="composer-hint composer-error composer-offline"
                    on:keydown=handler(on_keydown)
                    on:input=handler(on_input)
                ></textarea>
                <button type="submit" class="button primary send">"Send"</button>
                <p id="composer-offline" class="composer-offline" hidden=move || !offline.get()>
                    "Not connected: what you send now waits and goes out when the connection is back."
                </p>
                <p id="composer-hint" class="visually-hidden">"Enter sends, Shift+Enter starts a new line."</p>
                <p id="composer-error" class="composer-error" role="alert">
                    {move || send_error.get()}
                </p>
            </form>
        </section>
    }
}

/// Closes the conversation (one-pane layout) and puts focus back on its contact in the list.
fn back(store: AppState) {
    let Some(jid) = store.selected.get_untracked() else { return };
    store.selected.set(None);
    let Some(window) = web_sys::window() else { return };
    let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        let Ok(buttons) = doc.query_selector_all("button.contact-main") else { return };
        let target = jid.to_string();
        if let Some(b) = (0..buttons.length())
            .filter_map(|i| buttons.item(i))
            .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            .find(|b| b.get_attribute("data-jid").as_deref() == Some(target.as_str()))
        {
            let _ = b.focus();
        }
    });
    let _ = window.request_animation_frame(cb.unchecked_ref());
}

/// One transcript page: a list of its messages' rows.
///
/// Each page is a list element of its own, laid out on its own (`contain: layout` in the stylesheet, which also
/// makes it the containing block of its rows' visually hidden, absolutely positioned sender lines): when a row
/// is added, the browser lays out that page again and reuses the layout of the others. With one flex list of
/// every row, each new row made the browser lay out every row again: 40–80 ms per frame at 1,000 rows,
/// 140–230 ms at 3,000.
///
/// A memo lists the page's keys for the keyed list; a change of the conversation re-checks them (a hundred
/// numbers) and a new message adds one row. Rows are built once from their message; only their state (our
/// message's progress, an error) can change later. Rows do not subscribe to the page: every subscriber of a memo
/// is woken to check it whenever its source changes, which would wake every row of the page for each new
/// message. Instead one effect watches the page's states and sets the state of the rows whose state changed.
#[component]
pub fn TranscriptPage(jid: BareJid, key: u64) -> impl IntoView {
    let store = expect_context::<AppState>();
    // Its rows' keys: each message's `seq`, and a gap row's after the message it follows.
    let seqs = {
        let jid = jid.clone();
        Memo::new(move |_| -> Vec<u64> {
            store
                .with_conversation(&jid, |c| {
                    let gaps = &c.archive.gaps;
                    let mut keys = Vec::with_capacity(model::PAGE_SIZE);
                    for m in archive::page_of(c, key).map_or(&[][..], |p| &p.messages[..]) {
                        keys.push(m.seq);
                        if gaps.iter().any(|g| g.after_seq == Some(m.seq)) {
                            keys.push(m.seq | GAP_KEY);
                        }
                    }
                    keys
                })
                .unwrap_or_default()
        })
    };
    let states = {
        let jid = jid.clone();
        Memo::new(move |_| {
            store
                .with_conversation(&jid, |c| archive::page_of(c, key).map(MessagePage::states))
                .flatten()
                .unwrap_or_default()
        })
    };
    let row_states = StoredValue::new(Vec::<(u64, RwSignal<RowState>)>::new());
    effect(move || {
        states.with(|states| {
            row_states.with_value(|rows| {
                // Both lists are in `seq` order: one pass.
                let mut now = states.iter().peekable();
                for (seq, row) in rows {
                    while now.next_if(|(s, _)| s < seq).is_some() {}
                    let state = now.peek().filter(|(s, _)| s == seq).map(|(_, state)| state);
                    let default = RowState::default();
                    let state = state.unwrap_or(&default);
                    if row.try_with_untracked(|shown| shown != state) == Some(true) {
                        row.try_set(state.clone());
                    }
                }
            })
        })
    });
    view! {
        <ol class="messages-page" data-key=key.to_string()>
        {keyed_list(
            move || seqs.get(),
            move |seq| {
                if seq & GAP_KEY != 0 {
                    let jid = jid.clone();
                    return view! { <GapRowView jid after_seq=seq & !GAP_KEY /> }.into_any();
                }
                store
                    .conversations
                    .try_with_untracked(|c| archive::page_of(c.get(&jid)?, key)?.get(seq).cloned())
                    .flatten()
                    .map(|message| {
                        let state = RwSignal::new(message.row_state());
                        row_states.update_value(|rows| rows.push((seq, state)));
                        view! { <MessageRow message state /> }
                    })
                    .into_any()
            },
        )}
        </ol>
    }
}

/// A range of the conversation not loaded, after the message `after_seq`: says so, with a button to load it.
#[component]
fn GapRowView(jid: BareJid, after_seq: u64) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let loading = {
        let jid = jid.clone();
        Memo::new(move |_| {
            store.with_conversation(&jid, |c| archive::gap_after(c, after_seq).is_some_and(|g| g.loading)) == Some(true)
        })
    };
    let error = {
        let jid = jid.clone();
        Memo::new(move |_| {
            store.with_conversation(&jid, |c| archive::gap_after(c, after_seq).and_then(|g| g.error.clone())).flatten()
        })
    };
    view! {
        <li class="gap-row" role="group" aria-label="Messages not loaded">
            <p>"Some messages are not loaded yet"</p>
            {move || error.get().map(|e| view! { <p class="message-error">{e}</p> }.into_any())}
            <button
                type="button"
                class="button small"
                aria-disabled=move || loading.get().to_string()
                on:click=handler(move |_| {
                    if !loading.get_untracked() {
                        archive::fill_gap(store, session, &jid, Some(after_seq));
                    }
                })
            >
                {move || if loading.get() { "Loading…".to_owned() } else { "Load them".to_owned() }}
            </button>
        </li>
    }
}

/// One message: sender, time and text (or a `/me` action); for our own messages their state; and why it
/// failed when it did. `state` is the only part that can change after the row is built.
#[component]
pub fn MessageRow(
    message: ChatMessage,
    #[prop(into)] state: Signal<RowState>,
    /// Mentions our nick in a room: highlighted.
    #[prop(optional)]
    mention: bool,
) -> impl IntoView {
    let m = message;
    let classes = move || {
        let mut c = String::from("message");
        if mention {
            c.push_str(" mention");
        }
        if m.from_me {
            c.push_str(" from-me");
        }
        if m.continued {
            c.push_str(" continued");
        }
        if m.is_me_action {
            c.push_str(" action");
        }
        state.with(|s| {
            if s.error.is_some() {
                c.push_str(" failed");
            } else if s.delivery == Some(Delivery::Pending) {
                c.push_str(" unsent");
            }
        });
        c
    };
    let body = if m.body.is_empty() {
        None
    } else if m.is_me_action {
        Some(
            view! {
                <p class="message-body" dir="auto">
                    <span aria-hidden="true">"* "</span>
                    <span class="action-sender" dir="auto">{m.sender.clone()}</span>
                    " "
                    {render_text(&m.body)}
                </p>
            }
            .into_any(),
        )
    } else {
        Some(view! { <p class="message-body" dir="auto">{render_text(&m.body)}</p> }.into_any())
    };
    let progress = m.from_me.then(|| {
        let id = m.id.clone().unwrap_or_default();
        dynamic(move || {
            let Some(delivery) = state.with(|s| s.delivery.filter(|_| s.error.is_none())) else {
                return ().into_any();
            };
            view! { <DeliveryState id=id.clone() delivery /> }.into_any()
        })
    });
    view! {
        <li class=classes>
            <p class=if m.continued { "message-meta visually-hidden" } else { "message-meta" }>
                <span class="message-sender" dir="auto">{m.sender.clone()}</span>
                " "
                <time datetime=m.time_iso.clone() title=m.time_full.clone()>{m.time.clone()}</time>
            </p>
            {body}
            {progress}
            {move || state.with(|s| s.error.clone()).map(|e| view! {
                <p class="message-error">
                    <span class="message-error-icon" aria-hidden="true">"!"</span>
                    {e}
                </p>
            }.into_any())}
        </li>
    }
}

/// Where our message `id` is: a small mark (its words for screen readers and as a tooltip); while it is not
/// sent, why, in words, and a button that cancels it (while it waits in the outbox).
#[component]
fn DeliveryState(id: String, delivery: Delivery) -> impl IntoView {
    let store = expect_context::<AppState>();
    let (mark, name) = delivery.mark();
    // Not confirmed yet and no session to confirm it: "Not sent yet", with the reason.
    let waiting = move || {
        store.connection.with(|c| match (delivery, c) {
            (Delivery::Pending, Connection::Online) => Some("waiting for the server to confirm earlier messages"),
            (Delivery::Pending | Delivery::Sending, c) => not_sent_reason(c),
            _ => None,
        })
    };
    let words = move || match waiting() {
        Some(reason) => format!("Not sent yet: {reason}."),
        None => delivery.label().to_owned(),
    };
    let words_class = move || {
        if waiting().is_some() { "message-state-text" } else { "message-state-text visually-hidden" }.to_owned()
    };
    let cancel = (delivery == Delivery::Pending).then(|| {
        view! {
            <button
                type="button"
                class="button ghost small"
                aria-label="Cancel sending"
                title="Do not send this message"
                on:click=handler(move |_| outbox::cancel(store, &id))
            >
                "Cancel"
            </button>
        }
    });
    view! {
        <p class=format!("message-state state-{name}") data-state=name>
            <span class="message-state-mark" aria-hidden="true" title=delivery.label()>{mark}</span>
            <span class=words_class>{words}</span>
            {cancel}
        </p>
    }
}

/// Why a message the session has not confirmed is not sent yet, when there is no session to send it.
fn not_sent_reason(connection: &Connection) -> Option<&'static str> {
    match connection {
        Connection::Online => None,
        Connection::LoggingIn | Connection::Reconnecting { .. } => Some("reconnecting to the server"),
        Connection::Starting => Some("connecting to the server"),
        Connection::PasswordNeeded { .. } => Some("logging in again needs your password"),
        Connection::Offline { .. } | Connection::LoggedOut => Some("you are offline"),
    }
}

/// Message text as text nodes, with links as anchors ([`links::linkify`]): web links open in a new tab without
/// an opener or referrer, `mailto:` links in the mail program, and `xmpp:` links open that conversation here
/// (the click is taken over: no navigation).
pub fn render_text(text: &str) -> impl IntoView + use<> {
    let store = use_context::<AppState>();
    links::linkify(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.into_any(),
            Segment::Link { href, text } => {
                let web = !href.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("mailto:"));
                view! { <a href=href rel="noopener noreferrer" target=if web { "_blank" } else { "_self" }>{text}</a> }
                    .into_any()
            }
            Segment::Chat { jid, text } => {
                let open = handler(move |ev: web_sys::MouseEvent| {
                    ev.prevent_default();
                    if let Some(store) = store {
                        state::select(store, jid.clone());
                    }
                });
                let href = text.clone();
                view! { <a href=href class="chat-link" on:click=open>{text}</a> }.into_any()
            }
        })
        .collect_view()
}
