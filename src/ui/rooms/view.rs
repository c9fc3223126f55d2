//! The open room: header (name, subject, people count, actions), where the join is (joining, rejoining, why it
//! failed with what to do, why we are out with "Join again"), the transcript, the occupant list, a private
//! chat with an occupant, and the composer. Owners also get "Configure" (the room's data form, rendered field
//! by field) and "Destroy".
//!
//! The transcript is a keyed list of pages (by key: pages of the room's archive go before the live ones), each a
//! keyed list of its lines; a row is built once (only our message's state changes later, through one effect per
//! page), like the one-to-one transcript whose row ([`MessageRow`]) it reuses. Mentions of our nick are
//! highlighted; joins, leaves and kicks are compact rows in words.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::model::{JoinRemedy, LineKind, LinePage, Status, remedy};
use super::occupants::{OccupantChoice, OccupantList, people};
use crate::ui::conversation::MessageRow;
use crate::ui::model::{self, RowState};
use crate::ui::state::{AppState, Connection, NoticeKind, SessionHandle};
use crate::ui::{by_id, dynamic, effect, focus_id, handler, keyed_list, show, write_back};
use crate::xmpp::Command;
use crate::xmpp::client::muc::RoomCommand;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::bookmarks::Bookmark;
use crate::xmpp::stanza::dataform::{DataForm, FieldType};

const TRANSCRIPT_ID: &str = "room-transcript";
const COMPOSER_ID: &str = "room-composer";
const BOTTOM_SLACK: i32 = 48;
/// How near the top of a room's transcript (px) scroll-back loads the next older page.
const TOP_SLACK: i32 = 48;

/// Which panel the header opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    Subject,
    Invite,
    Destroy,
    Nick,
}

#[component]
pub fn RoomPane() -> impl IntoView {
    let store = expect_context::<AppState>();
    dynamic(move || match store.rooms.open.get() {
        Some(jid) => view! { <RoomView jid /> }.into_any(),
        None => ().into_any(),
    })
}

#[component]
pub fn RoomView(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let choice = OccupantChoice { chosen: RwSignal::new(None), private: RwSignal::new(None) };
    provide_context(choice);
    let people_open = RwSignal::new(false);
    let panel = RwSignal::new(None::<Panel>);
    let field = RwSignal::new(String::new());
    let room = {
        let jid = jid.clone();
        Memo::new(move |_| r.rooms.with(|rooms| rooms.get(&jid).cloned()))
    };
    let title = move || room.with(|x| x.as_ref().map(|x| x.title()).unwrap_or_default());
    let subject = move || room.with(|x| x.as_ref().and_then(|x| x.subject.clone()));
    let status = Memo::new(move |_| room.with(|x| x.as_ref().map(|x| x.status.clone())));
    let joined = Memo::new(move |_| status.with(|s| s == &Some(Status::Joined)));
    let moderator = Memo::new(move |_| room.with(|x| x.as_ref().is_some_and(|x| x.is_moderator())));
    let owner = Memo::new(move |_| room.with(|x| x.as_ref().is_some_and(|x| x.is_owner())));
    let count = {
        let jid = jid.clone();
        Memo::new(move |_| {
            let me = room.with(|x| x.as_ref().is_some_and(|x| x.me.is_some()));
            r.occupants.with(|o| o.get(&jid).map(|o| o.count(me)).unwrap_or(usize::from(me)))
        })
    };
    let bookmarked = {
        let jid = jid.clone();
        Memo::new(move |_| r.bookmarks.with(|b| b.iter().any(|b| b.room == jid)))
    };
    let error = Memo::new(move |_| room.with(|x| x.as_ref().and_then(|x| x.error.clone())));

    // Opening the room reads it; so does coming back to the page with it open.
    {
        let jid = jid.clone();
        effect(move || {
            let unread = room.with(|x| x.as_ref().is_some_and(|x| x.unread + x.mentions > 0));
            if unread && !store.page_hidden.get() {
                super::mark_read(store, &jid);
            }
        });
    }

    let open_panel = move |p: Panel, initial: String| {
        if panel.get_untracked() == Some(p) {
            panel.set(None);
        } else {
            field.set(initial);
            panel.set(Some(p));
        }
    };
    let submit_panel = {
        let jid = jid.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(p) = panel.get_untracked() else { return };
            let text = field.get_untracked().trim().to_owned();
            let command = match p {
                Panel::Subject => RoomCommand::SetSubject { room: jid.clone(), subject: text.clone() },
                Panel::Nick if text.is_empty() => return,
                Panel::Nick => RoomCommand::ChangeNick { room: jid.clone(), nick: text.clone() },
                Panel::Destroy => RoomCommand::Destroy {
                    room: jid.clone(),
                    reason: Some(text.clone()).filter(|t| !t.is_empty()),
                    alternate: None,
                },
                Panel::Invite => {
                    let to = match model::contact_address(&text, store.account.get_untracked().as_ref()) {
                        Ok(to) => to,
                        Err(e) => return super::set_error(store, &jid, Some(e)),
                    };
                    let password = room.with_untracked(|x| x.as_ref().and_then(|x| x.password.clone()));
                    RoomCommand::Invite { room: jid.clone(), to: to.clone(), reason: None, password }
                }
            };
            let invited = matches!(command, RoomCommand::Invite { .. });
            if super::command(store, session, &jid, command) {
                if invited {
                    crate::ui::state::notify(store, NoticeKind::Info, format!("Invited {text} to the room."));
                }
                panel.set(None);
                field.set(String::new());
            }
        }
    };
    let leave = {
        let jid = jid.clone();
        move |_| {
            if super::command(store, session, &jid, RoomCommand::Leave { room: jid.clone(), status: None }) {
                choice.private.set(None);
            }
        }
    };
    let toggle_bookmark = {
        let jid = jid.clone();
        move |_| {
            let command = if bookmarked.get_untracked() {
                Command::RemoveBookmark { room: jid.clone() }
            } else {
                let mut b = Bookmark::new(jid.clone());
                b.autojoin = true;
                b.nick = room.with_untracked(|x| x.as_ref().map(|x| x.nick.clone()));
                b.name = room.with_untracked(|x| x.as_ref().and_then(|x| x.info.as_ref()?.name.clone()));
                Command::SetBookmark(b)
            };
            if let Err(e) = session.send(command) {
                super::set_error(store, &jid, Some(super::refused(&e)));
            }
        }
    };
    let configure = {
        let jid = jid.clone();
        move |_| {
            super::command(store, session, &jid, RoomCommand::FetchConfig { room: jid.clone() });
        }
    };
    let back = move |_| r.open.set(None);
    let contacts_list = move || {
        store.contacts.with(|c| {
            let mut all: Vec<String> = c.values().filter(|c| c.in_roster).map(|c| c.jid.to_string()).collect();
            all.sort_unstable();
            all.truncate(500);
            all
        })
    };

    view! {
        <section class=move || if people_open.get() { "room people-open".to_owned() } else { "room".to_owned() }
            aria-labelledby="room-title" data-room=jid.to_string()>
            <header class="conversation-header room-header">
                <button type="button" class="button ghost back" on:click=handler(back)>
                    <span aria-hidden="true">"‹ "</span><span class="visually-hidden">"Back to the list"</span>
                </button>
                <div class="room-heading">
                    <h2 id="room-title" class="conversation-title" dir="auto">{title}</h2>
                    <p class="room-subject" dir="auto" id="room-subject">{subject}</p>
                </div>
                <div class="room-actions">
                    <button type="button" class="button ghost small" id="people-toggle"
                        aria-expanded=move || people_open.get().to_string()
                        on:click=handler(move |_| people_open.update(|o| *o = !*o))>
                        {move || people(count.get())}
                    </button>
                    {show(move || joined.get(), move || view! {
                        <button type="button" class="button ghost small" id="room-invite" on:click=handler(move |_| open_panel(Panel::Invite, String::new()))>"Invite"</button>
                        <button type="button" class="button ghost small" id="room-nick" on:click=handler(move |_| {
                            open_panel(Panel::Nick, room.with_untracked(|x| x.as_ref().map(|x| x.nick.clone())).unwrap_or_default())
                        })>"Nickname"</button>
                    }.into_any())}
                    {show(move || moderator.get(), move || view! {
                        <button type="button" class="button ghost small" id="room-subject-edit" on:click=handler(move |_| open_panel(Panel::Subject, subject().unwrap_or_default()))>"Subject"</button>
                    }.into_any())}
                    {show(move || owner.get(), {
                        let configure = configure.clone();
                        move || {
                            let configure = configure.clone();
                            view! {
                                <button type="button" class="button ghost small" id="room-configure" on:click=handler(configure)>"Configure"</button>
                                <button type="button" class="button ghost small danger" id="room-destroy" on:click=handler(move |_| open_panel(Panel::Destroy, String::new()))>"Destroy"</button>
                            }.into_any()
                        }
                    })}
                    <button type="button" class="button ghost small" id="room-bookmark" on:click=handler(toggle_bookmark)>
                        {move || if bookmarked.get() { "Remove bookmark" } else { "Bookmark" }.to_owned()}
                    </button>
                    {show(move || joined.get(), move || {
                        let leave = leave.clone();
                        view! { <button type="button" class="button ghost small" id="room-leave" on:click=handler(leave)>"Leave"</button> }.into_any()
                    })}
                </div>
            </header>
            {dynamic(move || {
                let Some(p) = panel.get() else { return ().into_any() };
                let (label, button, kind) = match p {
                    Panel::Subject => ("New subject (empty clears it)", "Change subject", "text"),
                    Panel::Nick => ("Your nickname in this room", "Change nickname", "text"),
                    Panel::Destroy => ("Why (optional; everyone in the room sees it)", "Destroy the room", "text"),
                    Panel::Invite => ("Contact to invite", "Invite", "text"),
                };
                let submit = submit_panel.clone();
                view! {
                    <form class="room-panel" id="room-panel" on:submit=handler(submit)>
                        <label for="room-panel-field">{label}</label>
                        <input id="room-panel-field" class="input" type=kind list=if p == Panel::Invite { "room-invite-contacts" } else { "" }
                            autocomplete="off" prop:value=field on:input=write_back(field) />
                        {(p == Panel::Invite).then(|| view! {
                            <datalist id="room-invite-contacts">
                                {keyed_list(contacts_list, move |j: String| view! { <option value=j.clone()></option> }.into_any())}
                            </datalist>
                        }.into_any())}
                        <button type="submit" class=if p == Panel::Destroy { "button small danger" } else { "button small primary" }>{button}</button>
                        <button type="button" class="button ghost small" on:click=handler(move |_| panel.set(None))>"Cancel"</button>
                    </form>
                }
                .into_any()
            })}
            <JoinStatus jid=jid.clone() />
            <p class="room-error" role="alert" hidden=move || error.with(Option::is_none)>
                {move || error.get()}
                <button type="button" class="icon-button" aria-label="Dismiss" on:click=handler({
                    let jid = jid.clone();
                    move |_| super::set_error(store, &jid, None)
                })>"×"</button>
            </p>
            <ConfigForm jid=jid.clone() />
            <div class="room-body">
                <div class="room-main-column">
                    {dynamic({
                        let jid = jid.clone();
                        move || match choice.private.get() {
                            Some(nick) => view! { <PrivateChat jid=jid.clone() nick /> }.into_any(),
                            None => view! { <RoomTranscript jid=jid.clone() /> }.into_any(),
                        }
                    })}
                </div>
                <OccupantList jid=jid.clone() />
            </div>
        </section>
    }
}

/// Joining, rejoining, why a join failed (with what to do), or why we are out (with "Join again").
#[component]
fn JoinStatus(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let status = {
        let jid = jid.clone();
        Memo::new(move |_| r.rooms.with(|rooms| rooms.get(&jid).map(|x| (x.status.clone(), x.nick.clone()))))
    };
    let password = RwSignal::new(String::new());
    dynamic(move || {
        let jid = jid.clone();
        let Some((status, nick)) = status.get() else {
            // Opened from a URL (a reload): not in the room in this session.
            let join = {
                let jid = jid.clone();
                move |_| {
                    let nick = super::nick_for(store, &jid);
                    if let Err(e) = super::join(store, session, &jid, &nick, None) {
                        crate::ui::state::notify(store, NoticeKind::Error, e);
                    }
                }
            };
            return view! {
                <div class="room-status out" role="status" data-state="unknown">
                    <p>"You are not in this room."</p>
                    <button type="button" class="button small primary" id="room-join" on:click=handler(join)>"Join"</button>
                </div>
            }
            .into_any();
        };
        let join_jid = jid.clone();
        let join_as = move |nick: String, pw: Option<String>| {
            let jid = join_jid.clone();
            move |_| {
                if let Err(e) = super::join(store, session, &jid, &nick, pw.clone()) {
                    super::set_error(store, &jid, Some(e));
                }
            }
        };
        match status {
            Status::Joined => ().into_any(),
            Status::Joining { rejoin } => view! {
                <p class="room-status" role="status" data-state="joining">{if rejoin { "Rejoining…" } else { "Joining…" }}</p>
            }
            .into_any(),
            Status::Failed(error) => {
                let action = match remedy(&error, &nick) {
                    JoinRemedy::OtherNick(other) => {
                        let label = format!("Join as {other}");
                        view! { <button type="button" class="button small primary" id="join-other-nick" on:click=handler(join_as(other, None))>{label}</button> }.into_any()
                    }
                    JoinRemedy::Password => {
                        let submit = {
                            let jid = jid.clone();
                            let nick = nick.clone();
                            move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                let pw = password.get_untracked();
                                password.set(String::new());
                                if let Err(e) = super::join(store, session, &jid, &nick, Some(pw)) {
                                    super::set_error(store, &jid, Some(e));
                                }
                            }
                        };
                        view! {
                            <form class="room-password" on:submit=handler(submit)>
                                <label for="room-password">"Room password"</label>
                                <input id="room-password" class="input" type="password" autocomplete="off" prop:value=password on:input=write_back(password) />
                                <button type="submit" class="button small primary">"Join"</button>
                            </form>
                        }
                        .into_any()
                    }
                    JoinRemedy::Create => {
                        let create = {
                            let (jid, nick) = (jid.clone(), nick.clone());
                            move |_| {
                                if let Err(e) = super::create(store, session, &jid, &nick, None) {
                                    super::set_error(store, &jid, Some(e));
                                }
                            }
                        };
                        view! { <button type="button" class="button small primary" id="room-create" on:click=handler(create)>"Create this room"</button> }.into_any()
                    }
                    JoinRemedy::Retry => view! { <button type="button" class="button small" id="join-retry" on:click=handler(join_as(nick.clone(), None))>"Try again"</button> }.into_any(),
                    JoinRemedy::Advice(words) => view! { <span class="room-advice">{words}</span> }.into_any(),
                };
                view! {
                    <div class="room-status failed" role="alert" data-state="failed">
                        <p>{error.describe()}</p>
                        {action}
                    </div>
                }
                .into_any()
            }
            Status::Out { why, rejoin, alternate } => {
                let again = rejoin.then(|| view! {
                    <button type="button" class="button small primary" id="room-rejoin" on:click=handler(join_as(nick.clone(), None))>"Join again"</button>
                }.into_any());
                let elsewhere = alternate.map(|alt| {
                    let label = format!("Go to {alt}");
                    let go = move |_| {
                        let nick = super::nick_for(store, &alt);
                        if super::join(store, session, &alt, &nick, None).is_ok() {
                            super::open(store, alt.clone());
                        }
                    };
                    view! { <button type="button" class="button small" on:click=handler(go)>{label}</button> }.into_any()
                });
                view! {
                    <div class="room-status out" role="status" data-state="out">
                        <p dir="auto">{format!("{why}.")}</p>
                        {again}
                        {elsewhere}
                    </div>
                }
                .into_any()
            }
        }
    })
}

/// Notes where the rows in view are (their distance from the transcript's bottom), so that a page prepended
/// next leaves them where they are.
fn hold_rows(anchor: StoredValue<Option<i32>>) {
    if let Some(el) = by_id(TRANSCRIPT_ID) {
        anchor.set_value(Some(el.scroll_height() - el.scroll_top()));
    }
}

/// The room's transcript and composer.
#[component]
fn RoomTranscript(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let keys = {
        let jid = jid.clone();
        Memo::new(move |_| {
            r.transcripts
                .with(|t| t.get(&jid).map(|t| t.pages.iter().map(|p| p.key).collect::<Vec<u64>>()).unwrap_or_default())
        })
    };
    let count = {
        let jid = jid.clone();
        Memo::new(move |_| r.transcripts.with(|t| t.get(&jid).map(|t| t.len()).unwrap_or(0)))
    };
    let following = StoredValue::new(true);
    let scroll_pending = StoredValue::new(false);
    let scroll_to_bottom = move || {
        if scroll_pending.get_value() {
            return;
        }
        scroll_pending.set_value(true);
        request_animation_frame(move || {
            if scroll_pending.try_set_value(false).is_none() {
                return;
            }
            if let Some(el) = by_id(TRANSCRIPT_ID) {
                el.set_scroll_top(el.scroll_height());
            }
        });
    };
    effect(move || {
        count.track();
        if following.get_value() {
            scroll_to_bottom();
        }
    });
    // Scroll-back: at the top, the next older page (store first, then the room's archive); the lines in view
    // stay where they are while it is prepended (the height it adds is scrolled past).
    let anchor = StoredValue::new(None::<i32>);
    let on_scroll = {
        let jid = jid.clone();
        move |_| {
            if let Some(el) = by_id(TRANSCRIPT_ID) {
                let distance = el.scroll_height() - el.scroll_top() - el.client_height();
                following.set_value(distance <= BOTTOM_SLACK);
                if el.scroll_top() <= TOP_SLACK && el.scroll_height() > el.client_height() {
                    hold_rows(anchor);
                    super::keep::load_older(store, session, jid.clone());
                }
            }
        }
    };
    effect(move || {
        keys.track();
        if anchor.get_value().is_none() || following.get_value() {
            return;
        }
        request_animation_frame(move || {
            if let (Some(Some(from_bottom)), Some(el)) = (anchor.try_get_value(), by_id(TRANSCRIPT_ID)) {
                el.set_scroll_top(el.scroll_height() - from_bottom);
                anchor.set_value(None);
            }
        });
    });
    let older = {
        let jid = jid.clone();
        Memo::new(move |_| r.older.with(|o| o.get(&jid).cloned().unwrap_or_default()))
    };
    let error = RwSignal::new(None::<String>);
    let joined = {
        let jid = jid.clone();
        Memo::new(move |_| r.rooms.with(|rooms| rooms.get(&jid).is_some_and(|x| x.is_joined())))
    };
    let send = {
        let jid = jid.clone();
        move || {
            let Some(el) = by_id(COMPOSER_ID).and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok()) else {
                return;
            };
            let text = el.value();
            if text.trim().is_empty() {
                return;
            }
            let body = match model::composer_text(text.trim_end()) {
                Ok(b) => b,
                Err(e) => return error.set(Some(e)),
            };
            if store.connection.with_untracked(|c| *c != Connection::Online) {
                return error.set(Some("Not connected: messages to a room can only be sent while online.".into()));
            }
            match super::send(store, session, &jid, body) {
                Ok(()) => {
                    el.set_value("");
                    error.set(None);
                    following.set_value(true);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let send_key = send.clone();
    view! {
        <div class="transcript-wrap">
            <div class="transcript" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages in the room"
                tabindex="0" id=TRANSCRIPT_ID on:scroll=handler(on_scroll)>
                <p class="history-status" role="status">
                    {
                        let jid = jid.clone();
                        move || {
                            let (text, more) = older.with(|o| match (o.loading, &o.error, o.done) {
                                (true, _, _) => ("Loading older messages…".to_owned(), false),
                                (false, Some(e), done) => (e.clone(), !done),
                                (false, None, true) => ("Start of the room's history".to_owned(), false),
                                (false, None, false) => (String::new(), true),
                            });
                            let jid = jid.clone();
                            view! {
                                {text}
                                {more.then(|| view! {
                                    <button type="button" class="button ghost small" on:click=handler(move |_| {
                                        hold_rows(anchor);
                                        super::keep::load_older(store, session, jid.clone())
                                    })>"Load older messages"</button>
                                })}
                            }
                        }
                    }
                </p>
                <div class="messages">
                    {keyed_list(move || keys.get(), {
                        let jid = jid.clone();
                        move |key| view! { <RoomPage jid=jid.clone() key /> }.into_any()
                    })}
                </div>
            </div>
        </div>
        <form class="composer" on:submit=handler(move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send();
            focus_id(COMPOSER_ID);
        })>
            <label class="visually-hidden" for=COMPOSER_ID>"Message to the room"</label>
            <textarea id=COMPOSER_ID class="composer-input" rows="1" dir="auto"
                placeholder=move || if joined.get() { "Message the room".to_owned() } else { "Join the room to write".to_owned() }
                disabled=move || !joined.get()
                on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && !ev.alt_key() {
                        ev.prevent_default();
                        send_key();
                    }
                })
                on:input=handler(move |_| error.set(None))
            ></textarea>
            <button type="submit" class="button primary send" disabled=move || !joined.get()>"Send"</button>
            <p class="composer-error" role="alert">{move || error.get()}</p>
        </form>
    }
}

/// One page of a room's transcript.
#[component]
fn RoomPage(jid: BareJid, key: u64) -> impl IntoView {
    let store = expect_context::<AppState>();
    let r = store.rooms;
    let page = move |t: &super::model::Transcript| -> Option<usize> { t.pages.iter().position(|p| p.key == key) };
    let seqs = {
        let jid = jid.clone();
        Memo::new(move |_| {
            r.transcripts
                .with(|t| {
                    t.get(&jid).and_then(|t| {
                        page(t).map(|i| t.pages[i].lines.iter().map(|l| l.message.seq).collect::<Vec<u64>>())
                    })
                })
                .unwrap_or_default()
        })
    };
    let states = {
        let jid = jid.clone();
        Memo::new(move |_| {
            r.transcripts.with(|t| t.get(&jid).and_then(|t| page(t).map(|i| t.pages[i].states()))).unwrap_or_default()
        })
    };
    let rows = StoredValue::new(Vec::<(u64, RwSignal<RowState>)>::new());
    effect(move || {
        states.with(|states| {
            rows.with_value(|rows| {
                for (seq, row) in rows {
                    let delivery = states.iter().find(|(s, _)| s == seq).and_then(|(_, d)| *d);
                    if row.try_with_untracked(|s| s.delivery != delivery) == Some(true) {
                        row.try_update(|s| s.delivery = delivery);
                    }
                }
            })
        })
    });
    view! {
        <ol class="messages-page">
            {keyed_list(move || seqs.get(), move |seq| {
                let line = r.transcripts.with_untracked(|t| {
                    let t = t.get(&jid)?;
                    t.pages.iter().find(|p| p.key == key).and_then(|p: &LinePage| p.get(seq).cloned())
                });
                let Some(line) = line else { return ().into_any() };
                match line.kind {
                    LineKind::Event => view! {
                        <li class="room-event" dir="auto">
                            <time datetime=line.message.time_iso.clone() title=line.message.time_full.clone()>{line.message.time.clone()}</time>
                            " "
                            {line.message.body.clone()}
                        </li>
                    }
                    .into_any(),
                    kind => {
                        let state = RwSignal::new(line.message.row_state());
                        if line.message.from_me {
                            rows.update_value(|rows| rows.push((seq, state)));
                        }
                        view! { <MessageRow message=line.message state mention=kind == LineKind::Mention /> }.into_any()
                    }
                }
            })}
        </ol>
    }
}

/// A private chat with an occupant (`room/nick`), in place of the room's transcript.
#[component]
fn PrivateChat(jid: BareJid, nick: String) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let choice = expect_context::<OccupantChoice>();
    let r = store.rooms;
    let key = (jid.clone(), nick.clone());
    let seqs = {
        let key = key.clone();
        Memo::new(move |_| {
            r.private.with(|p| p.get(&key).map(|m| m.iter().map(|m| m.seq).collect::<Vec<u64>>()).unwrap_or_default())
        })
    };
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = {
        let (jid, nick) = (jid.clone(), nick.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let body = text.get_untracked();
            if body.trim().is_empty() {
                return;
            }
            match super::send_private(store, session, &jid, &nick, body.trim_end().to_owned()) {
                Ok(()) => {
                    text.set(String::new());
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let heading = format!("Private with {nick}");
    view! {
        <div class="private-chat" aria-label=heading.clone()>
            <p class="private-heading">
                <span dir="auto">{heading.clone()}</span>
                <button type="button" class="button ghost small" id="private-close" on:click=handler(move |_| choice.private.set(None))>"Back to the room"</button>
            </p>
            <ol class="messages-page private-messages" role="log">
                {keyed_list(move || seqs.get(), move |seq| {
                    let Some(m) = r.private.with_untracked(|p| p.get(&key)?.iter().find(|m| m.seq == seq).cloned()) else { return ().into_any() };
                    let state = RwSignal::new(m.row_state());
                    view! { <MessageRow message=m state /> }.into_any()
                })}
            </ol>
            <form class="composer" on:submit=handler(submit)>
                <label class="visually-hidden" for="private-composer">"Private message"</label>
                <input id="private-composer" class="input composer-input" type="text" dir="auto" autocomplete="off"
                    prop:value=text on:input=write_back(text) />
                <button type="submit" class="button primary send">"Send"</button>
                <p class="composer-error" role="alert">{move || error.get()}</p>
            </form>
        </div>
    }
}

/// The owner form, rendered field by field (text-single, text-private, text-multi, boolean, list-single,
/// list-multi, jid-single/multi as text; hidden kept as is; fixed as text), submitted as filled in.
#[component]
fn ConfigForm(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let form = {
        let jid = jid.clone();
        Memo::new(move |_| r.rooms.with(|rooms| rooms.get(&jid).and_then(|x| x.config.clone())))
    };
    let close = {
        let jid = jid.clone();
        move || {
            r.rooms.update(|rooms| {
                if let Some(x) = rooms.get_mut(&jid) {
                    x.config = None;
                }
            })
        }
    };
    dynamic(move || {
        let Some(form) = form.get() else { return ().into_any() };
        // One signal per field's values; the submitted form is the original with them.
        let values: Vec<RwSignal<Vec<String>>> = form.fields.iter().map(|f| RwSignal::new(f.values.clone())).collect();
        let fields = form
            .fields
            .iter()
            .zip(values.iter().copied())
            .enumerate()
            .map(|(i, (f, values))| config_field(i, f, values))
            .collect_view();
        let submit = {
            let (jid, form, close) = (jid.clone(), form.clone(), close.clone());
            let values = values.clone();
            move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let mut filled: DataForm = form.to_submit();
                for (f, v) in form.fields.iter().zip(&values) {
                    if let Some(var) = &f.var {
                        filled.set(var, v.get_untracked());
                    }
                }
                if super::command(store, session, &jid, RoomCommand::SubmitConfig { room: jid.clone(), form: filled }) {
                    close();
                }
            }
        };
        let cancel = close.clone();
        view! {
            <form class="room-config" id="room-config" on:submit=handler(submit)>
                <h3>{form.title.clone().unwrap_or_else(|| "Room configuration".to_owned())}</h3>
                {form.instructions.iter().map(|i| view! { <p class="config-instructions" dir="auto">{i.clone()}</p> }.into_any()).collect_view()}
                {fields}
                <button type="submit" class="button small primary">"Save"</button>
                <button type="button" class="button ghost small" on:click=handler(move |_| cancel())>"Cancel"</button>
            </form>
        }
        .into_any()
    })
}

fn config_field(i: usize, f: &crate::xmpp::stanza::dataform::Field, values: RwSignal<Vec<String>>) -> AnyView {
    let id = format!("config-field-{i}");
    let label = f.label.clone().or_else(|| f.var.clone()).unwrap_or_default();
    let desc = f.desc.clone().map(|d| view! { <p class="field-hint" dir="auto">{d}</p> }.into_any());
    let one = move || values.with(|v| v.first().cloned().unwrap_or_default());
    let set_one = handler(move |ev: web_sys::Event| values.set(vec![event_target_value(&ev)]));
    match f.kind {
        FieldType::Hidden => ().into_any(),
        FieldType::Fixed => view! { <p class="config-fixed" dir="auto">{f.values.join("\n")}</p> }.into_any(),
        FieldType::Boolean => {
            let checked = values.with_untracked(|v| v.first().is_some_and(|v| v == "1" || v == "true"));
            view! {
                <label class="check config-field">
                    <input type="checkbox" id=id prop:checked=checked
                        on:change=handler(move |ev: web_sys::Event| values.set(vec![if event_target_checked(&ev) { "1" } else { "0" }.to_owned()])) />
                    " " <span dir="auto">{label}</span>
                </label>
                {desc}
            }
            .into_any()
        }
        FieldType::ListSingle => {
            let current = one();
            let options = f
                .options
                .iter()
                .map(|o| {
                    let text = o.label.clone().unwrap_or_else(|| o.value.clone());
                    view! { <option value=o.value.clone() selected=o.value == current>{text}</option> }
                })
                .collect_view();
            view! {
                <div class="field config-field">
                    <label for=id.clone() dir="auto">{label}</label>
                    <select id=id class="select" on:change=set_one>{options}</select>
                    {desc}
                </div>
            }
            .into_any()
        }
        FieldType::ListMulti => {
            let options = f
                .options
                .iter()
                .map(|o| {
                    let value = o.value.clone();
                    let checked = values.with_untracked(|v| v.contains(&value));
                    let text = o.label.clone().unwrap_or_else(|| o.value.clone());
                    view! {
                        <label class="check">
                            <input type="checkbox" prop:checked=checked on:change=handler(move |ev: web_sys::Event| {
                                let on = event_target_checked(&ev);
                                values.update(|v| {
                                    v.retain(|x| x != &value);
                                    if on {
                                        v.push(value.clone());
                                    }
                                });
                            }) />
                            " " <span dir="auto">{text}</span>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="config-field" id=id>
                    <legend dir="auto">{label}</legend>
                    {options}
                    {desc}
                </fieldset>
            }
            .into_any()
        }
        FieldType::TextMulti | FieldType::JidMulti => {
            let text = values.with_untracked(|v| v.join("\n"));
            view! {
                <div class="field config-field">
                    <label for=id.clone() dir="auto">{label}</label>
                    <textarea id=id class="input" dir="auto" prop:value=text
                        on:input=handler(move |ev: web_sys::Event| values.set(event_target_value(&ev).lines().map(str::to_owned).collect()))></textarea>
                    {desc}
                </div>
            }
            .into_any()
        }
        FieldType::TextSingle | FieldType::TextPrivate | FieldType::JidSingle => {
            let kind = if f.kind == FieldType::TextPrivate { "password" } else { "text" };
            view! {
                <div class="field config-field">
                    <label for=id.clone() dir="auto">{label}</label>
                    <input id=id class="input" type=kind dir="auto" autocomplete="off" prop:value=one() on:input=set_one />
                    {desc}
                </div>
            }
            .into_any()
        }
    }
}
