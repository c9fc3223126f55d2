//! The sidebar's "Rooms" section: the rooms (bookmarked, joined, or left but still listed) with their unread
//! and mention counts, invitations with Join / Decline, and the forms to join or create a room and to browse
//! the server's rooms.

use leptos::prelude::*;

use super::model::{self as rooms_model, Status};
use super::{Listing, RoomsState};
use crate::ui::model;
use crate::ui::state::{AppState, NoticeKind, SessionHandle};
use crate::ui::{handler, keyed_list, show, write_back};
use crate::xmpp::Command;
use crate::xmpp::client::muc::RoomCommand;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::bookmarks::Bookmark;
use crate::xmpp::stanza::muc::RoomSettings;

/// The room addresses to list: bookmarks and the rooms the UI has, sorted by name.
fn listed(r: RoomsState) -> Vec<BareJid> {
    let mut all: Vec<(String, BareJid)> =
        r.rooms.with(|rooms| rooms.values().map(|room| (model::fold_case(&room.title()), room.jid.clone())).collect());
    r.bookmarks.with(|b| {
        for b in b {
            if !all.iter().any(|(_, j)| j == &b.room) {
                all.push((model::fold_case(&rooms_model::room_title(&b.room, b.name.as_deref())), b.room.clone()));
            }
        }
    });
    all.sort_unstable();
    all.into_iter().map(|(_, j)| j).collect()
}

/// A typed room address, checked: `room@service`.
pub fn room_address(typed: &str) -> Result<BareJid, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err("Enter the room's address, like lobby@conference.example.org.".into());
    }
    let jid = BareJid::parse(typed).map_err(|e| format!("This is not a valid address: {e}."))?;
    if jid.local().is_none() {
        return Err(format!("{jid} is a service, not a room: add the room's name, like lobby@{jid}."));
    }
    Ok(jid)
}

#[component]
pub fn RoomsSection() -> impl IntoView {
    let store = expect_context::<AppState>();
    let r = store.rooms;
    view! {
        <section class="rooms" aria-labelledby="rooms-title">
            <h2 id="rooms-title" class="section-title">"Rooms"</h2>
            <Invitations />
            <ul class="room-list" role="list" id="room-list">
                {keyed_list(move || listed(r), move |jid| view! { <RoomRow jid /> }.into_any())}
            </ul>
            <JoinRoom />
            <BrowseRooms />
        </section>
    }
}

/// One room in the list: its name, how many messages and mentions are unread, and whether we are in.
#[component]
fn RoomRow(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let summary = {
        let jid = jid.clone();
        Memo::new(move |_| {
            let room =
                r.rooms.with(|rooms| rooms.get(&jid).map(|x| (x.title(), x.unread, x.mentions, x.status.clone())));
            match room {
                Some((title, unread, mentions, status)) => (title, unread, mentions, Some(status)),
                None => {
                    let name = r.bookmarks.with(|b| b.iter().find(|b| b.room == jid).and_then(|b| b.name.clone()));
                    (rooms_model::room_title(&jid, name.as_deref()), 0, 0, None)
                }
            }
        })
    };
    let is_open = {
        let jid = jid.clone();
        Memo::new(move |_| r.open.with(|o| o.as_ref() == Some(&jid)))
    };
    let click = {
        let jid = jid.clone();
        move |_| {
            let known = r.rooms.with_untracked(|rooms| rooms.contains_key(&jid));
            if !known {
                // Only bookmarked: join it now with the bookmark's nick.
                let (nick, password) = r.bookmarks.with_untracked(|b| {
                    let b = b.iter().find(|b| b.room == jid);
                    (b.and_then(|b| b.nick.clone()), b.and_then(|b| b.password.clone()))
                });
                let nick = nick.unwrap_or_else(|| super::nick_for(store, &jid));
                if let Err(e) = super::join(store, session, &jid, &nick, password) {
                    crate::ui::state::notify(store, NoticeKind::Error, e);
                    return;
                }
            }
            super::open(store, jid.clone());
        }
    };
    let state_text = move || {
        summary.with(|(_, _, _, status)| match status {
            Some(Status::Joined) => String::new(),
            Some(Status::Joining { rejoin: true }) => "Rejoining…".into(),
            Some(Status::Joining { .. }) => "Joining…".into(),
            Some(Status::Failed(_)) => "Could not join".into(),
            Some(Status::Out { .. }) | None => "Not joined".into(),
        })
    };
    view! {
        <li class="room-row" data-room=jid.to_string()>
            <button
                type="button"
                class=move || if is_open.get() { "room-main selected".to_owned() } else { "room-main".to_owned() }
                aria-current=move || is_open.get().then(|| "page".to_owned())
                on:click=handler(click)
            >
                <span class="room-hash" aria-hidden="true">"#"</span>
                <span class="room-name" dir="auto">{move || summary.with(|s| s.0.clone())}</span>
                <span class="room-state">{state_text}</span>
                <span class="badge room-unread" hidden=move || summary.with(|s| s.1 == 0)>
                    {move || summary.with(|s| s.1.to_string())}
                    <span class="visually-hidden">" unread"</span>
                </span>
                <span class="badge mention room-mentions" hidden=move || summary.with(|s| s.2 == 0)>
                    {move || summary.with(|s| format!("@{}", s.2))}
                    <span class="visually-hidden">" mentioning you"</span>
                </span>
            </button>
        </li>
    }
}

/// Invitations received, each with Join and Decline (declining tells the room only for those it relayed).
#[component]
fn Invitations() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let forget = move |room: &BareJid, from: &BareJid| {
        r.invites.update(|all| all.retain(|i| !(&i.room == room && &i.from == from)))
    };
    let list =
        move || r.invites.with(|all| all.iter().map(|i| format!("{}\u{0}{}", i.room, i.from)).collect::<Vec<String>>());
    view! {
        {show(
            move || r.invites.with(|i| !i.is_empty()),
            move || view! {
                <ul class="invites" role="list" aria-label="Invitations">
                    {keyed_list(list, move |key: String| {
                        let Some(invite) = r.invites.with_untracked(|all| all.iter().find(|i| format!("{}\u{0}{}", i.room, i.from) == key).cloned()) else {
                            return ().into_any();
                        };
                        let (room, from) = (invite.room.clone(), invite.from.clone());
                        let inviter = crate::ui::state::name_of(store, &from);
                        let join = {
                            let (room, from, password) = (room.clone(), from.clone(), invite.password.clone());
                            move |_| {
                                let nick = super::nick_for(store, &room);
                                match super::join(store, session, &room, &nick, password.clone()) {
                                    Ok(()) => {
                                        forget(&room, &from);
                                        super::open(store, room.clone());
                                    }
                                    Err(e) => crate::ui::state::notify(store, NoticeKind::Error, e),
                                }
                            }
                        };
                        let decline = {
                            let (room, from, mediated) = (room.clone(), from.clone(), invite.mediated);
                            move |_| {
                                if mediated {
                                    let cmd = RoomCommand::Decline { room: room.clone(), inviter: from.clone(), reason: None };
                                    if let Err(e) = session.send(Command::Room(cmd)) {
                                        crate::ui::state::notify(store, NoticeKind::Error, super::refused(&e));
                                        return;
                                    }
                                }
                                forget(&room, &from);
                            }
                        };
                        view! {
                            <li class="invite">
                                <p class="invite-text" dir="auto">
                                    <span class="invite-from" dir="auto">{inviter}</span>
                                    " invites you to "
                                    <span class="invite-room" dir="auto">{room.to_string()}</span>
                                </p>
                                {invite.reason.clone().map(|reason| view! { <p class="invite-reason" dir="auto">{reason}</p> }.into_any())}
                                <div class="invite-actions">
                                    <button type="button" class="button primary small invite-join" on:click=handler(join)>"Join"</button>
                                    <button type="button" class="button ghost small invite-decline" on:click=handler(decline)>
                                        {if invite.mediated { "Decline" } else { "Dismiss" }}
                                    </button>
                                </div>
                            </li>
                        }
                        .into_any()
                    })}
                </ul>
            }
            .into_any(),
        )}
    }
}

/// "Join a room": address, nickname, password if it has one, bookmark; or create it (instant, or with a name,
/// description, members-only, persistent).
#[component]
fn JoinRoom() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let address = RwSignal::new(String::new());
    let nick = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let bookmark = RwSignal::new(false);
    let creating = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let members_only = RwSignal::new(false);
    let persistent = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let checked = |s: RwSignal<bool>| handler(move |ev: web_sys::Event| s.set(event_target_checked(&ev)));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let room = match room_address(&address.get_untracked()) {
            Ok(room) => room,
            Err(e) => return error.set(Some(e)),
        };
        let mut typed_nick = nick.get_untracked().trim().to_owned();
        if typed_nick.is_empty() {
            typed_nick = super::nick_for(store, &room);
        }
        let result = if creating.get_untracked() {
            let text = |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty());
            let settings = RoomSettings {
                name: text(name),
                description: text(description),
                members_only: members_only.get_untracked(),
                persistent: persistent.get_untracked(),
            };
            let instant = settings.name.is_none()
                && settings.description.is_none()
                && !settings.members_only
                && !settings.persistent;
            super::create(store, session, &room, &typed_nick, (!instant).then_some(settings))
        } else {
            let pw = Some(password.get_untracked()).filter(|p| !p.is_empty());
            super::join(store, session, &room, &typed_nick, pw)
        };
        if let Err(e) = result {
            return error.set(Some(e));
        }
        if bookmark.get_untracked() {
            let mut b = Bookmark::new(room.clone());
            b.autojoin = true;
            b.nick = Some(typed_nick);
            b.name = Some(name.get_untracked().trim().to_owned()).filter(|n| !n.is_empty());
            if let Err(e) = session.send(Command::SetBookmark(b)) {
                crate::ui::state::notify(store, NoticeKind::Error, super::refused(&e));
            }
        }
        error.set(None);
        address.set(String::new());
        password.set(String::new());
        open.set(false);
        super::open(store, room);
    };
    view! {
        <details class="join-room" prop:open=open on:toggle=handler(move |ev| {
            open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open());
        })>
            <summary id="join-room-summary">"Join a room"</summary>
            <form class="join-room-form" novalidate on:submit=handler(submit)>
                <div class="field">
                    <label for="join-address">"Room address"</label>
                    <input id="join-address" class="input" type="text" autocapitalize="none" spellcheck="false"
                        autocomplete="off" placeholder="lobby@conference.example.org"
                        prop:value=address on:input=write_back(address) />
                </div>
                <div class="field">
                    <label for="join-nick">"Nickname"</label>
                    <input id="join-nick" class="input" type="text" autocomplete="off"
                        placeholder=move || store.account.get().map(|a| crate::ui::state::own_name(&a)).unwrap_or_default()
                        prop:value=nick on:input=write_back(nick) />
                </div>
                <div class="field" hidden=move || creating.get()>
                    <label for="join-password">"Password " <span class="optional">"(if the room has one)"</span></label>
                    <input id="join-password" class="input" type="password" autocomplete="off"
                        prop:value=password on:input=write_back(password) />
                </div>
                <label class="check"><input type="checkbox" id="join-bookmark" prop:checked=bookmark on:change=checked(bookmark) />" Bookmark it (join at login)"</label>
                <label class="check"><input type="checkbox" id="join-create" prop:checked=creating on:change=checked(creating) />" Create a new room"</label>
                <div class="create-options" hidden=move || !creating.get()>
                    <div class="field">
                        <label for="create-name">"Name " <span class="optional">"(optional)"</span></label>
                        <input id="create-name" class="input" type="text" prop:value=name on:input=write_back(name) />
                    </div>
                    <div class="field">
                        <label for="create-description">"Description " <span class="optional">"(optional)"</span></label>
                        <input id="create-description" class="input" type="text" prop:value=description on:input=write_back(description) />
                    </div>
                    <label class="check"><input type="checkbox" id="create-members-only" prop:checked=members_only on:change=checked(members_only) />" Members only"</label>
                    <label class="check"><input type="checkbox" id="create-persistent" prop:checked=persistent on:change=checked(persistent) />" Keep it when everyone has left"</label>
                </div>
                <p class="field-error" id="join-error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
                <button type="submit" class="button primary small" id="join-submit">
                    {move || if creating.get() { "Create" } else { "Join" }.to_owned()}
                </button>
            </form>
        </details>
    }
}

/// "Browse rooms": the server's rooms, page by page, with a filter.
#[component]
fn BrowseRooms() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let r = store.rooms;
    let filter = RwSignal::new(String::new());
    let fetch = move |after: Option<String>| {
        if after.is_none() {
            r.listing.set(Listing::default());
        }
        let service = r.listing.with_untracked(|l| l.service.clone());
        match session.send(Command::Room(RoomCommand::ListRooms { service, after })) {
            Ok(()) => r.listing.update(|l| l.loading = true),
            Err(e) => r.listing.update(|l| l.error = Some(super::refused(&e))),
        }
    };
    let shown = move || {
        let needle = model::fold_case(filter.get().trim());
        r.listing.with(|l| {
            l.rooms
                .iter()
                .filter(|x| {
                    needle.is_empty()
                        || model::fold_case(&x.jid.to_string()).contains(&needle)
                        || x.name.as_deref().is_some_and(|n| model::fold_case(n).contains(&needle))
                })
                .take(200)
                .map(|x| x.jid.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <details class="browse-rooms" on:toggle=handler(move |ev| {
            if event_target::<web_sys::HtmlDetailsElement>(&ev).open() && r.listing.with_untracked(|l| l.rooms.is_empty()) {
                fetch(None);
            }
        })>
            <summary id="browse-summary">"Browse rooms"</summary>
            <div class="browse">
                <label class="visually-hidden" for="browse-filter">"Filter rooms"</label>
                <input id="browse-filter" class="input" type="search" placeholder="Filter rooms" autocomplete="off"
                    prop:value=filter on:input=write_back(filter) />
                <p class="browse-status" role="status">
                    {move || r.listing.with(|l| match (&l.error, l.loading) {
                        (Some(e), _) => e.clone(),
                        (None, true) => "Loading rooms…".to_owned(),
                        (None, false) => match l.total {
                            Some(t) => format!("{} of {t} rooms", l.rooms.len()),
                            None => format!("{} rooms", l.rooms.len()),
                        },
                    })}
                </p>
                <ul class="browse-list" role="list">
                    {keyed_list(shown, move |jid| {
                        let name = r.listing.with_untracked(|l| l.rooms.iter().find(|x| x.jid == jid).and_then(|x| x.name.clone()));
                        let title = rooms_model::room_title(&jid, name.as_deref());
                        let join = {
                            let jid = jid.clone();
                            move |_| {
                                let nick = super::nick_for(store, &jid);
                                match super::join(store, session, &jid, &nick, None) {
                                    Ok(()) => super::open(store, jid.clone()),
                                    Err(e) => crate::ui::state::notify(store, NoticeKind::Error, e),
                                }
                            }
                        };
                        view! {
                            <li class="browse-room">
                                <span class="browse-name" dir="auto">{title}</span>
                                <span class="browse-jid" dir="auto">{jid.to_string()}</span>
                                <button type="button" class="button small" on:click=handler(join)>"Join"</button>
                            </li>
                        }
                        .into_any()
                    })}
                </ul>
                {show(
                    move || r.listing.with(|l| l.next.is_some() && !l.loading),
                    move || view! {
                        <button type="button" class="button ghost small" on:click=handler(move |_| {
                            fetch(r.listing.with_untracked(|l| l.next.clone()));
                        })>"More rooms"</button>
                    }
                    .into_any(),
                )}
            </div>
        </details>
    }
}
