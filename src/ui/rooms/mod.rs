//! Group chat in the UI: the rooms' state ([`RoomsState`], part of [`AppState`]), [`apply`] for the core's
//! `Event::Room`, `Event::Bookmarks` and a room's archive pages, and the components: the sidebar's "Rooms"
//! section ([`sidebar`]), the room view ([`view`]) and its occupant list ([`occupants`]).
//!
//! A room's state is three signals, not one: the rooms themselves (status, nick, subject, unread and mentions,
//! what the sidebar and the header read), their occupants, and their transcripts, so a message does not re-run
//! the occupant list's sort and a join does not re-check the transcript. A room's `Occupants` batch (one event
//! for up to a thousand changes) is one write of the occupants and at most a few compact transcript rows.
//! Transcripts are kept in pages of [`PAGE_SIZE`](crate::ui::model::PAGE_SIZE) lines, as one-to-one ones.
//!
//! What it does not do: protocol work (the core joins, rejoins after a reconnect, de-duplicates and bounds), or
//! keep anything across reloads itself: `storage::sync` decides what is stored of rooms and [`keep`] paints it
//! back and hands each room's stored archive point to its join.

pub mod keep;
pub mod model;
pub mod occupants;
pub mod sidebar;
pub mod view;

use std::collections::HashMap;

use leptos::prelude::*;

use self::model::{Line, LineKind, Occupants, Room, Status, Transcript};
use super::model::{ChatMessage, Delivery};
use super::state::{self, AppState, NoticeKind, SessionHandle, Stamp, next_seq};
use crate::xmpp::client::BookmarkEvent;
use crate::xmpp::client::mam::ArchivePage;
use crate::xmpp::client::muc::{Departure, RoomCommand, RoomEvent, RoomListing};
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::bookmarks::Bookmark;
use crate::xmpp::stanza::message::Message;
use crate::xmpp::stanza::message::split_me;
use crate::xmpp::stanza::muc::Invite;
use crate::xmpp::{Command, CommandError};

/// Invitations kept at once (the core caps strangers' already; contacts' are capped here).
pub const MAX_INVITES: usize = 50;
/// Private messages kept per occupant.
pub const MAX_PRIVATE: usize = 500;
/// Private chats kept at once (across rooms): a room cannot grow the map without end by sending from ever new
/// nicks; past this, private messages from further occupants are dropped (said once in a notice).
pub const MAX_PRIVATE_CHATS: usize = 200;

/// The rooms' signals (in [`AppState::rooms`]).
#[derive(Clone, Copy, Default)]
pub struct RoomsState {
    pub rooms: RwSignal<HashMap<BareJid, Room>>,
    pub occupants: RwSignal<HashMap<BareJid, Occupants>>,
    pub transcripts: RwSignal<HashMap<BareJid, Transcript>>,
    /// The bookmarks (XEP-0402) as the server keeps them.
    pub bookmarks: RwSignal<Vec<Bookmark>>,
    pub invites: RwSignal<Vec<Invite>>,
    /// The open room (the main pane shows it instead of a conversation).
    pub open: RwSignal<Option<BareJid>>,
    /// The service's rooms as browsed so far.
    pub listing: RwSignal<Listing>,
    /// Private messages with an occupant: (room, nick) → messages, oldest first.
    pub private: RwSignal<HashMap<(BareJid, String), Vec<ChatMessage>>>,
    /// Each room's scroll-back ([`keep::load_older`]).
    pub older: RwSignal<HashMap<BareJid, keep::Older>>,
    /// The nick last used in each room (this page's, and at start what the store kept).
    pub nicks: StoredValue<HashMap<BareJid, String>>,
}

/// Browsing a service's rooms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub service: Option<BareJid>,
    pub rooms: Vec<RoomListing>,
    pub next: Option<String>,
    pub total: Option<u32>,
    pub loading: bool,
    pub error: Option<String>,
}

/// Rooms listed at most while browsing (a service may have any number).
pub const MAX_BROWSED: usize = 2_000;

/// Whether `jid` is a room the UI knows (joined, joining, left, or bookmarked).
pub fn is_room(store: AppState, jid: &BareJid) -> bool {
    store.rooms.rooms.with_untracked(|r| r.contains_key(jid))
        || store.rooms.bookmarks.with_untracked(|b| b.iter().any(|b| &b.room == jid))
}

/// Joins `room` as `nick`: the one place a `RoomCommand::Join` is made. The room shows as joining at once; the
/// nick is remembered for the room. `Err` in words when the session cannot take it.
pub fn join(
    store: AppState,
    session: SessionHandle,
    room: &BareJid,
    nick: &str,
    password: Option<String>,
) -> Result<(), String> {
    let nick = nick.trim().to_owned();
    if nick.is_empty() {
        return Err("Enter the nickname to use in the room.".into());
    }
    // The catch-up starts at the newest point of the room's archive this device holds (none: the newest page).
    let history = keep::history(room);
    let command = RoomCommand::Join { room: room.clone(), nick: nick.clone(), password: password.clone(), history };
    session.send(Command::Room(command)).map_err(|e| refused(&e))?;
    remember_nick(store, room, &nick);
    store.rooms.rooms.update(|r| {
        let entry = r.entry(room.clone()).or_insert_with(|| Room::new(room.clone(), nick.clone(), None));
        entry.nick = nick;
        entry.password = password;
        entry.status = Status::Joining { rejoin: false };
        entry.error = None;
    });
    Ok(())
}

/// Creates `room` (instant when `settings` is `None`) as `nick`; shown as joining meanwhile.
pub fn create(
    store: AppState,
    session: SessionHandle,
    room: &BareJid,
    nick: &str,
    settings: Option<crate::xmpp::stanza::muc::RoomSettings>,
) -> Result<(), String> {
    let nick = nick.trim().to_owned();
    if nick.is_empty() {
        return Err("Enter the nickname to use in the room.".into());
    }
    let command = RoomCommand::Create { room: room.clone(), nick: nick.clone(), settings };
    session.send(Command::Room(command)).map_err(|e| refused(&e))?;
    remember_nick(store, room, &nick);
    store.rooms.rooms.update(|r| {
        let entry = r.entry(room.clone()).or_insert_with(|| Room::new(room.clone(), nick.clone(), None));
        entry.nick = nick;
        entry.status = Status::Joining { rejoin: false };
        entry.error = None;
    });
    Ok(())
}

/// Sends a room command; a refusal becomes the room's error in words.
pub fn command(store: AppState, session: SessionHandle, room: &BareJid, command: RoomCommand) -> bool {
    match session.send(Command::Room(command)) {
        Ok(()) => true,
        Err(e) => {
            set_error(store, room, Some(refused(&e)));
            false
        }
    }
}

/// A command the session refused, in words.
pub fn refused(e: &CommandError) -> String {
    crate::ui::model::sentence(&e.to_string())
}

fn remember_nick(store: AppState, room: &BareJid, nick: &str) {
    store.rooms.nicks.update_value(|n| {
        n.insert(room.clone(), nick.to_owned());
    });
}

/// The nick to offer for `room`: the last one used there, the bookmark's, else our address's user part.
pub fn nick_for(store: AppState, room: &BareJid) -> String {
    store
        .rooms
        .nicks
        .with_value(|n| n.get(room).cloned())
        .or_else(|| keep::stored_nick(room))
        .or_else(|| store.rooms.bookmarks.with_untracked(|b| b.iter().find(|b| &b.room == room)?.nick.clone()))
        .or_else(|| store.account.get_untracked().map(|a| state::own_name(&a)))
        .unwrap_or_default()
}

pub fn set_error(store: AppState, room: &BareJid, error: Option<String>) {
    store.rooms.rooms.maybe_update(|r| match r.get_mut(room) {
        Some(room) if room.error != error => {
            room.error = error;
            true
        }
        _ => false,
    });
}

/// Opens `room` in the main pane (closing the open conversation) and clears its unread counts.
pub fn open(store: AppState, room: BareJid) {
    if store.selected.with_untracked(Option::is_some) {
        store.selected.set(None);
    }
    mark_read(store, &room);
    if store.rooms.open.with_untracked(|o| o.as_ref() != Some(&room)) {
        store.rooms.open.set(Some(room));
    }
}

pub fn mark_read(store: AppState, room: &BareJid) {
    store.rooms.rooms.maybe_update(|r| {
        r.get_mut(room).is_some_and(|room| std::mem::take(&mut room.unread) + std::mem::take(&mut room.mentions) > 0)
    });
}

/// Changes the room `jid`, if the UI has it.
fn update_room(store: AppState, jid: &BareJid, f: impl FnOnce(&mut Room)) {
    store.rooms.rooms.update(|r| {
        if let Some(room) = r.get_mut(jid) {
            f(room)
        }
    });
}

/// Adds a line to a room's transcript (`stanza_id`: its archive id, for de-duplication).
fn push_line(store: AppState, room: &BareJid, line: Line, stanza_id: Option<&str>) -> bool {
    let mut added = false;
    store.rooms.transcripts.update(|t| {
        added = t.entry(room.clone()).or_default().push(line, stanza_id, next_seq);
    });
    added
}

/// A compact row in words (joins, leaves, subject, kicks).
fn push_event(store: AppState, room: &BareJid, text: String) {
    let stamp = Stamp::now();
    let message = ChatMessage { seq: next_seq(), ..ChatMessage::at(stamp, String::new(), text) };
    push_line(store, room, Line { message, kind: LineKind::Event }, None);
}

/// Whether a message to `room` counts as unread: unless the room is open and the page in front.
fn counts_as_unread(store: AppState, room: &BareJid) -> bool {
    !(state::page_visible() && store.rooms.open.with_untracked(|o| o.as_ref() == Some(room)))
}

/// A message line from a room's message.
fn message_line(message: &Message, sender: String, from_me: bool, delivery: Option<Delivery>) -> Option<ChatMessage> {
    let body = message.body(None)?;
    Some(line_of(body, message.id.clone(), message.delay.as_deref(), sender, from_me, delivery))
}

/// A transcript row for a message with this body (a `/me` action shown as such).
fn line_of(
    body: &str,
    id: Option<String>,
    delay: Option<&str>,
    sender: String,
    from_me: bool,
    delivery: Option<Delivery>,
) -> ChatMessage {
    let (body, is_me_action) = split_me(body);
    let stamp = Stamp::from_delay(delay);
    ChatMessage { seq: next_seq(), id, from_me, is_me_action, delivery, ..ChatMessage::at(stamp, sender, body) }
}

/// Sends `body` to everyone in `room`: shown at once as sending, delivered when the room reflects it.
pub fn send(store: AppState, session: SessionHandle, room: &BareJid, body: String) -> Result<(), String> {
    let id = crate::transport::message_id();
    let command = RoomCommand::Send { room: room.clone(), body: body.clone(), id: id.clone() };
    session.send(Command::Room(command)).map_err(|e| refused(&e))?;
    let nick = store.rooms.rooms.with_untracked(|r| r.get(room).map(|r| r.nick.clone())).unwrap_or_default();
    let line = line_of(&body, Some(id), None, nick, true, Some(Delivery::Sending));
    push_line(store, room, Line { message: line, kind: LineKind::Message }, None);
    Ok(())
}

/// Sends a private message to `nick` in `room`.
pub fn send_private(
    store: AppState,
    session: SessionHandle,
    room: &BareJid,
    nick: &str,
    body: String,
) -> Result<(), String> {
    let id = crate::transport::message_id();
    let command =
        RoomCommand::SendPrivate { room: room.clone(), nick: nick.to_owned(), body: body.clone(), id: id.clone() };
    session.send(Command::Room(command)).map_err(|e| refused(&e))?;
    let own = store.rooms.rooms.with_untracked(|r| r.get(room).map(|r| r.nick.clone())).unwrap_or_default();
    push_private(store, room, nick, line_of(&body, Some(id), None, own, true, Some(Delivery::Sent)));
    Ok(())
}

fn push_private(store: AppState, room: &BareJid, nick: &str, line: ChatMessage) {
    let key = (room.clone(), nick.to_owned());
    let full = store.rooms.private.with_untracked(|p| !p.contains_key(&key) && p.len() >= MAX_PRIVATE_CHATS);
    if full {
        let text = format!(
            "Private messages from more than {MAX_PRIVATE_CHATS} people in rooms arrived; further ones are not shown."
        );
        if !store.notices.with_untracked(|n| n.iter().any(|n| n.text == text)) {
            state::notify(store, NoticeKind::Error, text);
        }
        return;
    }
    store.rooms.private.update(|p| {
        let list = p.entry((room.clone(), nick.to_owned())).or_default();
        list.push(line);
        let extra = list.len().saturating_sub(MAX_PRIVATE);
        list.drain(..extra);
    });
}

/// Our message `id` reached the server (if it is a room's).
pub fn acked(store: AppState, id: &str) {
    advance(store, id, Delivery::Sent);
}

fn advance(store: AppState, id: &str, to: Delivery) {
    store.rooms.transcripts.maybe_update(|t| t.values_mut().any(|t| t.advance(id, to)));
}

/// A bounce of a message to `room`: shown on our message when it is one of ours. Whether it was a room's.
pub fn bounced(store: AppState, room: &BareJid, id: Option<&str>, why: String) -> bool {
    if !store.rooms.rooms.with_untracked(|r| r.contains_key(room)) {
        return false;
    }
    let ours = id.is_some_and(|id| {
        let mut found = false;
        store.rooms.transcripts.maybe_update(|t| {
            found = t.get_mut(room).is_some_and(|t| t.fail(id, why.clone()));
            found
        });
        found
    });
    if !ours {
        set_error(store, room, Some(why));
    }
    true
}

/// Applies the bookmarks' news.
pub fn apply_bookmarks(store: AppState, event: BookmarkEvent) {
    let bookmarks = store.rooms.bookmarks;
    match event {
        BookmarkEvent::Loaded(all) => bookmarks.set(all),
        BookmarkEvent::Changed(b) => bookmarks.update(|all| match all.iter_mut().find(|x| x.room == b.room) {
            Some(x) => *x = b,
            None => all.push(b),
        }),
        BookmarkEvent::Removed(room) => bookmarks.update(|all| all.retain(|b| b.room != room)),
        BookmarkEvent::Failed { action, error } => {
            use crate::xmpp::client::BookmarkAction;
            let what = match action {
                BookmarkAction::Fetch => "load your bookmarks".to_owned(),
                BookmarkAction::Set(r) => format!("bookmark {r}"),
                BookmarkAction::Remove(r) => format!("remove the bookmark of {r}"),
            };
            state::notify(store, NoticeKind::Error, format!("Could not {what}: {error}."));
        }
    }
}

/// Whether an archive page is a room's (its archive is a room the UI knows).
pub fn owns_archive(store: AppState, page: &ArchivePage) -> bool {
    store.rooms.rooms.with_untracked(|r| r.contains_key(&page.archive))
}

/// A page of a room's archive: its messages go before the live ones, each once (by archive id): a page of the
/// join's catch-up after the history held (what this device stored), an older one before everything.
pub fn archive_page(store: AppState, page: ArchivePage) {
    let room = page.archive.clone();
    let catch_up = matches!(page.query, crate::xmpp::client::ArchiveQuery::RoomCatchUp { .. });
    if matches!(page.query, crate::xmpp::client::ArchiveQuery::Older { .. }) {
        keep::older_page(store, &page);
    }
    let own_nick = store.rooms.rooms.with_untracked(|r| r.get(&room).map(|r| r.nick.clone())).unwrap_or_default();
    let lines: Vec<(Line, Option<String>)> = page
        .messages
        .iter()
        .filter_map(|m| {
            let nick = m.message.from.as_ref().and_then(|f| f.resource()).unwrap_or_default().to_owned();
            let sender = if m.outgoing { own_nick.clone() } else { nick };
            let delivery = m.outgoing.then_some(Delivery::Delivered);
            let message = message_line(&m.message, sender, m.outgoing, delivery)?;
            let kind = if !m.outgoing && crate::xmpp::client::muc::mentions(&message.body, &own_nick) {
                LineKind::Mention
            } else {
                LineKind::Message
            };
            Some((Line { message, kind }, Some(m.id.clone())))
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    // What was said while we were away counts as unread, as a live message would: only when this device held a
    // point in the room's archive (a first join's history is context, not missed), only lines not shown yet, and
    // only those after our own last line among them (we were there, on another device).
    let since_held = catch_up && keep::history(&room).is_some();
    let mut missed = (0u32, 0u32);
    store.rooms.transcripts.update(|t| {
        let transcript = t.entry(room.clone()).or_default();
        if catch_up {
            if since_held {
                for (line, id) in &lines {
                    if id.as_ref().is_some_and(|id| transcript.stanza_ids.contains(id)) {
                        continue;
                    }
                    missed = if line.message.from_me {
                        (0, 0)
                    } else {
                        (missed.0 + 1, missed.1 + u32::from(line.kind == LineKind::Mention))
                    };
                }
            }
            transcript.insert_history(lines, next_seq);
        } else {
            transcript.prepend(lines, next_seq);
        }
    });
    if missed.0 > 0 && counts_as_unread(store, &room) {
        update_room(store, &room, |r| {
            r.unread += missed.0;
            r.mentions += missed.1;
        });
    }
}

/// Applies one of the core's room events.
pub fn apply(store: AppState, event: RoomEvent) {
    match event {
        RoomEvent::Joining { room, nick } => {
            let known = store.rooms.rooms.with_untracked(|r| r.contains_key(&room));
            if !known {
                // Autojoin (a bookmark), or a rejoin the core does: the room appears, joining.
                let password =
                    store.rooms.bookmarks.with_untracked(|b| b.iter().find(|b| b.room == room)?.password.clone());
                store.rooms.rooms.update(|r| {
                    r.insert(room.clone(), Room::new(room.clone(), nick.clone(), password));
                });
            }
            update_room(store, &room, |r| {
                let rejoin = matches!(r.status, Status::Joined | Status::Joining { rejoin: true });
                r.status = Status::Joining { rejoin };
                r.nick = nick;
            });
        }
        RoomEvent::Joined { room, me, occupants, unlisted, created, info } => {
            remember_nick(store, &room, &me.nick);
            let was_rejoin = store
                .rooms
                .rooms
                .with_untracked(|r| r.get(&room).is_some_and(|r| r.status == Status::Joining { rejoin: true }));
            store.rooms.rooms.update(|r| {
                let entry = r.entry(room.clone()).or_insert_with(|| Room::new(room.clone(), me.nick.clone(), None));
                entry.nick = me.nick.clone();
                entry.me = Some(me);
                entry.status = Status::Joined;
                entry.error = None;
                if info.is_some() {
                    entry.info = info;
                }
            });
            let by_nick = occupants.into_iter().map(|o| (o.nick.clone(), o)).collect();
            store.rooms.occupants.update(|o| {
                o.insert(room.clone(), Occupants { by_nick, unlisted });
            });
            let text = match (created, was_rejoin) {
                (true, _) => "You created the room.",
                (false, true) => "You are back in the room.",
                (false, false) => "You joined the room.",
            };
            push_event(store, &room, text.into());
        }
        RoomEvent::JoinFailed { room, error } => {
            update_room(store, &room, |r| r.status = Status::Failed(error));
        }
        RoomEvent::Occupants { room, changes, unlisted } => {
            store.rooms.occupants.update(|o| o.entry(room.clone()).or_default().apply(&changes, unlisted));
            for text in model::batch_lines(&changes) {
                push_event(store, &room, text);
            }
        }
        RoomEvent::Me { room, me } => update_room(store, &room, |r| {
            r.nick = me.nick.clone();
            r.me = Some(me);
        }),
        RoomEvent::NickChanged { room, nick } => {
            remember_nick(store, &room, &nick);
            update_room(store, &room, |r| {
                r.nick = nick.clone();
                if let Some(me) = r.me.as_mut() {
                    me.nick = nick.clone();
                }
            });
            push_event(store, &room, format!("You are now known as {nick}"));
        }
        RoomEvent::NickChangeFailed { room, nick, error } => {
            set_error(store, &room, Some(format!("Could not change your nickname to {nick}: {}", error.describe())));
        }
        RoomEvent::Subject { room, subject, by, at_join } => {
            if !at_join {
                let text = match (&subject, &by) {
                    (Some(s), Some(by)) => format!("{by} changed the subject to: {s}"),
                    (Some(s), None) => format!("The subject is now: {s}"),
                    (None, Some(by)) => format!("{by} cleared the subject"),
                    (None, None) => "The subject was cleared".to_owned(),
                };
                push_event(store, &room, text);
            }
            update_room(store, &room, |r| {
                r.subject = subject;
                r.subject_by = by;
            });
        }
        RoomEvent::Message(m) => {
            let room = m.room.clone();
            let sender = m.nick.clone().unwrap_or_else(|| room.to_string());
            let Some(message) = message_line(&m.message, sender, m.own, m.own.then_some(Delivery::Delivered)) else {
                return;
            };
            let kind = if m.mentions_me { LineKind::Mention } else { LineKind::Message };
            let added = push_line(store, &room, Line { message, kind }, m.message.stanza_id.as_deref());
            if added && !m.own && m.message.delay.is_none() && counts_as_unread(store, &room) {
                update_room(store, &room, |r| {
                    r.unread += 1;
                    r.mentions += u32::from(m.mentions_me);
                });
            }
        }
        RoomEvent::Reflected { room, id, stanza_id } => {
            if let Some(sid) = stanza_id {
                store.rooms.transcripts.update_untracked(|t| {
                    t.entry(room.clone()).or_default().stanza_ids.insert(sid);
                });
            }
            advance(store, &id, Delivery::Delivered);
        }
        RoomEvent::PrivateMessage { room, nick, message, outgoing } => {
            let own = store.rooms.rooms.with_untracked(|r| r.get(&room).map(|r| r.nick.clone())).unwrap_or_default();
            let sender = if outgoing { own } else { nick.clone() };
            if let Some(line) = message_line(&message, sender, outgoing, outgoing.then_some(Delivery::Sent)) {
                let known = store.rooms.private.with_untracked(|p| p.contains_key(&(room.clone(), nick.clone())));
                push_private(store, &room, &nick, line);
                let kept = store.rooms.private.with_untracked(|p| p.contains_key(&(room.clone(), nick.clone())));
                if !outgoing && (known || kept) {
                    update_room(store, &room, |r| {
                        r.unread += 1;
                        r.mentions += 1;
                    });
                    if !store.rooms.open.with_untracked(|o| o.as_ref() == Some(&room)) {
                        state::notify(store, NoticeKind::Info, format!("{nick} wrote to you privately in {room}."));
                    }
                }
            }
        }
        RoomEvent::Left { room, why } => {
            let rejoin = model::may_rejoin(&why);
            let alternate = match &why {
                Departure::Destroyed { alternate, .. } => alternate.clone(),
                _ => None,
            };
            let words = why.describe("", true);
            push_event(store, &room, words.clone());
            update_room(store, &room, |r| {
                r.status = Status::Out { why: words, rejoin, alternate };
                r.me = None;
            });
            store.rooms.occupants.update(|o| {
                o.remove(&room);
            });
        }
        RoomEvent::ConfigForm { room, form } => update_room(store, &room, |r| r.config = Some(form)),
        RoomEvent::Done { room, action } => {
            use crate::xmpp::client::muc::RoomAction;
            let text = match action {
                RoomAction::SetAffiliation { jid, affiliation } => {
                    Some(format!("{jid} is now {}", affiliation.label()))
                }
                RoomAction::Configure => Some("The room's configuration was saved".into()),
                RoomAction::Destroy => Some("The room was destroyed".into()),
                _ => None,
            };
            if let Some(text) = text {
                push_event(store, &room, text);
            }
        }
        RoomEvent::RequestFailed { room, action, error } => {
            use crate::xmpp::client::muc::RoomAction;
            let what = match action {
                RoomAction::SetRole { nick, .. } => format!("change {nick}'s role"),
                RoomAction::SetAffiliation { jid, .. } => format!("change the affiliation of {jid}"),
                RoomAction::SetSubject => "change the subject".into(),
                RoomAction::FetchConfig => "get the room's configuration".into(),
                RoomAction::Configure => "configure the room".into(),
                RoomAction::Create => "set up the new room".into(),
                RoomAction::Destroy => "destroy the room".into(),
                RoomAction::QueryInfo => "ask about the room".into(),
            };
            set_error(store, &room, Some(format!("Could not {what}: {error}.")));
        }
        RoomEvent::Info { room, info } => update_room(store, &room, |r| r.info = Some(info)),
        RoomEvent::Rooms { service, rooms, next, total } => store.rooms.listing.update(|l| {
            if l.service.as_ref() != Some(&service) {
                l.rooms.clear();
            }
            l.service = Some(service);
            let room_for = MAX_BROWSED.saturating_sub(l.rooms.len());
            l.rooms.extend(rooms.into_iter().take(room_for));
            l.next = next.filter(|_| l.rooms.len() < MAX_BROWSED);
            l.total = total;
            l.loading = false;
            l.error = None;
        }),
        RoomEvent::ListFailed { error, .. } => store.rooms.listing.update(|l| {
            l.loading = false;
            l.error = Some(error.describe());
        }),
        RoomEvent::Invited(invite) => store.rooms.invites.update(|all| {
            if !all.iter().any(|i| i.room == invite.room && i.from == invite.from) {
                all.push(invite);
                let extra = all.len().saturating_sub(MAX_INVITES);
                all.drain(..extra);
            }
        }),
        // The room's archive position (`storage::sync` keeps it per room for the next join) and its
        // catch-up's end.
        RoomEvent::HistoryCursor { .. } | RoomEvent::CaughtUp { .. } => {}
    }
}

/// Leaves and forgets nothing: the session is gone (logout) — empties the rooms' state.
pub fn reset(store: AppState) {
    let r = store.rooms;
    r.open.set(None);
    r.rooms.set(HashMap::new());
    r.occupants.set(HashMap::new());
    r.transcripts.set(HashMap::new());
    r.bookmarks.set(Vec::new());
    r.invites.set(Vec::new());
    r.private.set(HashMap::new());
    r.older.set(HashMap::new());
    r.listing.set(Listing::default());
}
