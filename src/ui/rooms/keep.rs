//! Rooms that outlive the page, on the rooms' side: what this device's store holds of them painted before the
//! network answers, and the point of each room's archive it holds handed to the join.
//!
//! ```text
//!  snapshot ──▶ paint: rooms we were in (joining, with their unread and mention counts), their latest stored
//!              page, the nick last used per room
//!  join ──▶ history(room): the stored HistoryCursor ──▶ RoomCommand::Join { history } ──▶ catch-up from there
//! ```
//!
//! The catch-up's pages go after the stored lines and before what came live ([`Transcript::insert_history`]);
//! each message is shown once by its room archive id (stored as `room` + space + id, see `storage::sync`).
//!
//! What it does not do: decide what is stored (`storage::sync`), or write anything (`ui::persist`).

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::model::{Line, LineKind, Room, Status, Transcript};
use crate::storage::{ConversationKind, MessageRecord, MessageState, Page, PagePoint, Snapshot, StoredMessage};
use crate::ui::model::{ChatMessage, Delivery};
use crate::ui::state::{self, AppState, SessionHandle, Stamp, next_seq};
use crate::xmpp::client::{ArchiveError, ArchivePage, HistoryPoint};
use crate::xmpp::jid::BareJid;
use crate::xmpp::{Command, CommandError};

/// Transcript lines with their room archive ids (for de-duplication), oldest first.
type Lines = Vec<(Line, Option<String>)>;

/// The newest point of `room`'s archive this device holds (`None`: nothing held, or no store).
pub fn history(room: &BareJid) -> Option<HistoryPoint> {
    crate::ui::persist::stored(room)?.history
}

/// The nick last used in `room` as the store keeps it.
pub fn stored_nick(room: &BareJid) -> Option<String> {
    crate::ui::persist::stored(room)?.nick
}

/// Puts the stored rooms on screen: those we were in (shown joining: the core joins them again once online,
/// with the unread and mention counts they had), their latest stored messages, and the nick last used in each
/// room.
pub fn paint(store: AppState, snapshot: &Snapshot) {
    let rooms = || snapshot.conversations.iter().filter(|c| c.kind == ConversationKind::Groupchat);
    let account = store.account.get_untracked();
    let own = account.as_ref().map(state::own_name).unwrap_or_default();
    store.rooms.nicks.update_value(|n| {
        for c in rooms() {
            if let Some(nick) = &c.nick {
                n.entry(c.jid.clone()).or_insert_with(|| nick.clone());
            }
        }
    });
    let joined: Vec<_> = rooms().filter(|c| c.joined).collect();
    if !joined.is_empty() {
        store.rooms.rooms.update(|r| {
            for c in &joined {
                r.entry(c.jid.clone()).or_insert_with(|| {
                    let nick = c.nick.clone().unwrap_or_else(|| own.clone());
                    let mut room = Room::new(c.jid.clone(), nick, None);
                    room.status = Status::Joining { rejoin: false };
                    room.unread = c.unread;
                    room.mentions = c.mentions;
                    room
                });
            }
        });
    }
    let pages: Vec<(BareJid, Lines)> = snapshot
        .pages
        .iter()
        .filter(|(jid, _)| rooms().any(|c| &c.jid == jid))
        .map(|(jid, page)| {
            painted(store, jid, page);
            let nick = rooms().find(|c| &c.jid == jid).and_then(|c| c.nick.clone()).unwrap_or_else(|| own.clone());
            (jid.clone(), page.messages.iter().map(|m| stored_line(jid, m, &nick)).collect())
        })
        .collect();
    if pages.is_empty() {
        return;
    }
    store.rooms.transcripts.update(|t| {
        for (jid, lines) in pages {
            t.entry(jid).or_insert_with(Transcript::default).prepend(lines, next_seq);
        }
    });
}

/// A stored message of `room` as a transcript line, with its room archive id (for de-duplication).
pub fn stored_line(room: &BareJid, stored: &StoredMessage, own_nick: &str) -> (Line, Option<String>) {
    let m: &MessageRecord = &stored.message;
    let sender = match (&m.nick, m.from_me) {
        (Some(nick), _) => nick.clone(),
        (None, true) => own_nick.to_owned(),
        (None, false) => room.to_string(),
    };
    let (delivery, error) = match &m.state {
        MessageState::Received => (None, None),
        MessageState::Pending => {
            (Some(Delivery::Sent), Some("The page closed before the server confirmed this message.".to_owned()))
        }
        MessageState::Sent => (Some(Delivery::Sent), None),
        MessageState::Delivered | MessageState::Read => (Some(Delivery::Delivered), None),
        MessageState::Failed(why) => (Some(Delivery::Sent), Some(why.clone())),
    };
    let stamp = Stamp::from_ms(m.time.max(0) as u64);
    let message = ChatMessage {
        seq: next_seq(),
        id: m.id.clone(),
        from_me: m.from_me,
        is_me_action: m.is_me_action,
        delivery,
        error,
        ..ChatMessage::at(stamp, sender, m.body.clone())
    };
    let kind = if !m.from_me && crate::xmpp::client::muc::mentions(&m.body, own_nick) {
        LineKind::Mention
    } else {
        LineKind::Message
    };
    let prefix = format!("{room} ");
    let stanza_id = m.stanza_id.as_deref().and_then(|z| z.strip_prefix(&prefix)).map(str::to_owned);
    (Line { message, kind }, stanza_id)
}

/// Messages per page of scroll-back from the store.
pub const OLDER_PAGE: usize = 50;

/// Where a room's scroll-back is: the store is read first (back from `store_point`), then the room's archive
/// (back from `archive_before`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Older {
    /// A page is on its way (the loading row shows).
    pub loading: bool,
    /// The oldest stored message shown (`None`: none yet; the store's latest page is read first).
    pub store_point: Option<PagePoint>,
    /// Nothing older is stored: the next pages come from the room's archive.
    pub store_done: bool,
    /// The oldest archive point shown (what `LoadOlder` pages back from).
    pub archive_before: Option<HistoryPoint>,
    /// The room's first message is shown ("Start of the room's history").
    pub done: bool,
    /// Why the last page could not be had, in words.
    pub error: Option<String>,
}

fn update_older(store: AppState, room: &BareJid, f: impl FnOnce(&mut Older)) {
    store.rooms.older.update(|o| f(o.entry(room.clone()).or_default()));
}

/// Notes the oldest stored message of `page` as painted (so scroll-back continues before it).
fn painted(store: AppState, room: &BareJid, page: &Page) {
    let point = page.messages.first().map(StoredMessage::point);
    let archive = oldest_archive_point(room, page);
    update_older(store, room, |o| {
        o.store_point = point;
        o.store_done = page.complete;
        o.archive_before = archive;
    });
}

/// The oldest message of a stored page that came from the room's archive, as a point to page back from.
fn oldest_archive_point(room: &BareJid, page: &Page) -> Option<HistoryPoint> {
    let prefix = format!("{room} ");
    page.messages.iter().find_map(|m| {
        let id = m.message.stanza_id.as_deref()?.strip_prefix(&prefix)?;
        Some(HistoryPoint { id: Some(id.to_owned()), unix_ms: Some(m.message.time.max(0) as u64) })
    })
}

/// The person reached the top of `room`'s transcript: the next older page, from the store while it has some,
/// then from the room's archive. Nothing while a page is on its way or the first message is shown.
pub fn load_older(store: AppState, session: SessionHandle, room: BareJid) {
    let state = store.rooms.older.with_untracked(|o| o.get(&room).cloned()).unwrap_or_default();
    if state.loading || state.done {
        return;
    }
    update_older(store, &room, |o| {
        o.loading = true;
        o.error = None;
    });
    if !state.store_done {
        spawn_local(async move {
            match crate::ui::persist::older(&room, state.store_point, OLDER_PAGE).await {
                Ok(page) => {
                    let own = super::nick_for(store, &room);
                    let lines = page.messages.iter().map(|m| stored_line(&room, m, &own)).collect();
                    let archive = oldest_archive_point(&room, &page);
                    store.rooms.transcripts.update(|t| {
                        t.entry(room.clone()).or_default().prepend(lines, next_seq);
                    });
                    update_older(store, &room, |o| {
                        o.loading = false;
                        o.store_done = page.complete;
                        if let Some(first) = page.messages.first() {
                            o.store_point = Some(first.point());
                        }
                        if archive.is_some() {
                            o.archive_before = archive;
                        }
                    });
                    if page.messages.is_empty() {
                        // Nothing (more) stored: straight on to the archive.
                        load_older(store, session, room);
                    }
                }
                // No store (or it closed): the archive it is.
                Err(_) => {
                    update_older(store, &room, |o| {
                        o.loading = false;
                        o.store_done = true;
                    });
                    load_older(store, session, room);
                }
            }
        });
        return;
    }
    let command = Command::LoadOlder { with: room.clone(), before: state.archive_before };
    if let Err(e) = session.send(command) {
        update_older(store, &room, |o| {
            o.loading = false;
            o.error = Some(match e {
                CommandError::Archive(ArchiveError::Unsupported) => {
                    o.done = true;
                    "This room keeps no history.".to_owned()
                }
                e => format!("Could not load older messages: {}", super::refused(&e)),
            });
        });
    }
}

/// A page of the room's archive asked by scroll-back arrived (its lines are prepended by the caller).
pub fn older_page(store: AppState, page: &ArchivePage) {
    update_older(store, &page.archive, |o| {
        o.loading = false;
        o.done = page.complete;
        if page.oldest.is_some() {
            o.archive_before = page.oldest.clone();
        }
    });
}

/// Scroll-back from the room's archive failed: said in words, and tried again at the next scroll to the top.
pub fn older_failed(store: AppState, room: &BareJid, error: &ArchiveError) {
    update_older(store, room, |o| {
        o.loading = false;
        o.error = Some(format!("Could not load older messages: {}", error.describe()));
    });
}
