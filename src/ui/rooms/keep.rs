//! Rooms that outlive the page, on the rooms' side: what this device's store holds of them painted before the
//! network answers, and the point of each room's archive it holds handed to the join.
//!
//! ```text
//!  snapshot ──▶ paint: rooms we were in (joining), their latest stored page, the nick last used per room
//!  join ──▶ history(room): the stored HistoryCursor ──▶ RoomCommand::Join { history } ──▶ catch-up from there
//! ```
//!
//! The catch-up's pages go after the stored lines and before what came live ([`Transcript::insert_history`]);
//! each message is shown once by its room archive id (stored as `room` + space + id, see `storage::sync`).
//!
//! What it does not do: decide what is stored (`storage::sync`), or write anything (`ui::persist`).

use leptos::prelude::*;

use super::model::{Line, LineKind, Room, Status, Transcript};
use crate::storage::{ConversationKind, MessageRecord, MessageState, Snapshot, StoredMessage};
use crate::ui::model::{ChatMessage, Delivery};
use crate::ui::state::{self, AppState, Stamp, next_seq};
use crate::xmpp::client::HistoryPoint;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::delay;

/// The newest point of `room`'s archive this device holds (`None`: nothing held, or no store).
pub fn history(room: &BareJid) -> Option<HistoryPoint> {
    crate::ui::persist::stored(room)?.history
}

/// The nick last used in `room` as the store keeps it.
pub fn stored_nick(room: &BareJid) -> Option<String> {
    crate::ui::persist::stored(room)?.nick
}

/// Puts the stored rooms on screen: those we were in (shown joining: the core joins them again once online),
/// their latest stored messages, and the nick last used in each room.
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
    let joined: Vec<(BareJid, String)> =
        rooms().filter(|c| c.joined).map(|c| (c.jid.clone(), c.nick.clone().unwrap_or_else(|| own.clone()))).collect();
    if !joined.is_empty() {
        store.rooms.rooms.update(|r| {
            for (jid, nick) in &joined {
                r.entry(jid.clone()).or_insert_with(|| {
                    let mut room = Room::new(jid.clone(), nick.clone(), None);
                    room.status = Status::Joining { rejoin: false };
                    room
                });
            }
        });
    }
    let pages: Vec<(BareJid, Vec<(Line, Option<String>)>)> = snapshot
        .pages
        .iter()
        .filter(|(jid, _)| rooms().any(|c| &c.jid == jid))
        .map(|(jid, page)| {
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
    let stamp = Stamp::from_delay(Some(&delay::stamp(m.time.max(0) as u64)));
    let message = ChatMessage {
        seq: next_seq(),
        id: m.id.clone(),
        from_me: m.from_me,
        sender,
        time: stamp.short,
        time_full: stamp.full,
        time_iso: stamp.iso,
        body: m.body.clone(),
        is_me_action: m.is_me_action,
        continued: false,
        delivery,
        error,
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
