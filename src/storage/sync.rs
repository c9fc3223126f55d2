//! What the app keeps, decided in one pure place: core events and the UI's own changes in, store [`Op`]s out;
//! and, the other way, the core's start-up [`Seed`] out of a [`Snapshot`].
//!
//! ```text
//!  core Event ──▶ Mirror::on_event ──Vec<Op>──▶ Writer      (roster + version, messages, states, cursor, gaps, token)
//!  Send / outbox / unread / draft ──▶ Mirror::on_* ──Op──▶ Writer
//!  Snapshot ──▶ Seed (cached roster + version, archive cursor + newest time, de-dup keys) ──▶ core Config
//! ```
//!
//! The [`Mirror`] holds a copy of each conversation's record, so that a message moves its conversation's
//! activity, a room's archive creates a groupchat conversation, and an unchanged unread count or draft writes
//! nothing. Everything else is a direct translation:
//!
//! - `Roster` → the whole roster and its version; `RosterPush` → one item (or its removal) and the version.
//! - `Message` (received), `MessageSent` (a carbon of another device's message; our own from this page were
//!   stored at Send, [`Mirror::on_send`], and the store drops the second copy by origin-id), `ArchivePage`
//!   messages: [`Op::AddMessage`], idempotent in the store (by stanza-id, by sender + origin-id). A page of the
//!   account's archive (its `archive` is our bare JID) goes to the conversation with `with`; a page of any
//!   other archive is a room's: its conversation is the room (kind groupchat), and its stanza-ids are kept as
//!   `room` + space + id, so a room can never make a one-to-one message look stored (the store's stanza-id
//!   index is shared; no JID contains a space).
//! - Rooms: a live `RoomEvent::Message` is stored like the room's archive pages (conversation the room,
//!   sender the room, or the account for our own, `nick` the occupant's, stanza-id `room` + space + id), so a
//!   live and an archived copy are one record. Our own `MessageSent` of type groupchat is stored at once (as
//!   sent, under our nick there) and `Reflected` makes it delivered and adds the room's archive id. `Joined`,
//!   `NickChanged`, `Left` and `HistoryCursor` keep the room's nick, whether we are in it and the newest point
//!   of its archive held; [`Seed`] hands the rooms we were in to the core (`Config::rooms`), which joins them
//!   again with that point. A private message in a room is not stored (it is no chat with the room).
//! - `MessageAcked`, `Receipt`, `Displayed`, `MessageError`: the own message's state, by id. A `Displayed`
//!   counts for every earlier message too (XEP-0333): it also moves the conversation's `peer_read` time (when
//!   the message is one of our latest [`MAX_OWN_TIMES`]), and the UI shows each of our stored messages at or
//!   before it as read ([`ConversationRecord::shown_state`]); no message before it is rewritten.
//! - A room's unread and mention counts ([`Mirror::on_room_unread`]) are kept in its record, like a chat's.
//!   `ReadElsewhere` (our other device read up to a message) changes nothing here: it lowers the UI's unread
//!   count, which is saved like any other.
//! - `ArchiveCursor` → `mam_last_id`; `ArchiveGap` → a gap; `GapFilled` → the gap replaced by what is left.
//! - `FastToken` → the token, only when the person asked to stay logged in ([`Mirror::keep_token`]);
//!   `FastTokenInvalidated` → removed. A token is stored as text ([`encode_token`]).
//!
//! What this module does not do: I/O (the [`Writer`](super::writer::Writer) writes), or decide what the screen
//! shows (the UI's `apply` does, from the same events).

use super::records::{
    ConversationKind, ConversationRecord, GapRecord, MessageRecord, MessageState, MetaKey, Op, OutboxRecord, Snapshot,
};
use crate::xmpp::Event;
use crate::xmpp::client::muc::{RoomEvent, RoomMessage, SavedRoom};
use crate::xmpp::client::{ArchivePage, Gap, HistoryConfig, SeenKey, SeenMessages};
use crate::xmpp::jid::BareJid;
use crate::xmpp::sasl::{FastToken, Mechanism};
use crate::xmpp::stanza::delay;
use crate::xmpp::stanza::message::split_me;
use crate::xmpp::stanza::message::{Message, MessageType};
use crate::xmpp::stanza::roster::{RosterItem, Subscription};

/// What the store gives the core at login: [`Seed::apply`] puts it into a `Config`.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// The stored roster with its version (only when a version is stored: without one it cannot be trusted).
    pub roster: Option<(String, Vec<RosterItem>)>,
    /// The newest archive id this device holds (`mam_last_id`).
    pub last_id: Option<String>,
    /// The time of the newest stored message of any conversation (ms, UTC).
    pub last_time: Option<u64>,
    /// The de-dup keys of the stored messages the snapshot read (the latest pages).
    pub seen: SeenMessages,
    /// The rooms we were in, with the nick last used and the newest point of each one's archive held: the
    /// core joins them again once online and catches each up from there.
    pub rooms: Vec<SavedRoom>,
}

impl Seed {
    /// What a snapshot says the core should know at login.
    pub fn from_snapshot(snapshot: &Snapshot) -> Seed {
        let roster = snapshot.meta.roster_ver.clone().map(|ver| (ver, snapshot.roster.clone()));
        let mut seen = SeenMessages::default();
        let mut last_time = None::<i64>;
        for (_, page) in &snapshot.pages {
            for stored in &page.messages {
                let m = &stored.message;
                last_time = Some(last_time.map_or(m.time, |t| t.max(m.time)));
                let stanza_id = m.stanza_id.as_deref().filter(|z| !z.contains(' '));
                let body = if m.is_me_action { format!("/me {}", m.body) } else { m.body.clone() };
                for key in SeenKey::of(&m.sender, stanza_id, m.origin_id.as_deref(), m.id.as_deref(), &body) {
                    seen.insert(key);
                }
            }
        }
        // Conversations not among the pages still say when they were last active.
        let newest_activity = snapshot.conversations.iter().map(|c| c.last_activity).max();
        let last_time = last_time.max(newest_activity).filter(|t| *t > 0).map(|t| t as u64);
        let rooms = snapshot
            .conversations
            .iter()
            .filter(|c| c.kind == ConversationKind::Groupchat && c.joined)
            .filter_map(|c| {
                Some(SavedRoom {
                    room: c.jid.clone(),
                    nick: c.nick.clone()?,
                    password: None,
                    last_stanza_id: c.history.as_ref().and_then(|h| h.id.clone()),
                    info: None,
                })
            })
            .collect();
        Seed { roster, last_id: snapshot.meta.mam_last_id.clone(), last_time, seen, rooms }
    }

    /// Puts the seed into the core's config fields.
    pub fn apply(
        self,
        cached_roster: &mut Option<(String, Vec<RosterItem>)>,
        history: &mut HistoryConfig,
        seen: &mut SeenMessages,
        rooms: &mut Vec<SavedRoom>,
    ) {
        *cached_roster = self.roster;
        history.last_id = self.last_id;
        history.last_time = self.last_time;
        *seen = self.seen;
        *rooms = self.rooms;
    }
}

/// The conversations as stored, and the mapping from events to ops (see the module docs).
#[derive(Debug, Clone)]
pub struct Mirror {
    account: BareJid,
    /// Keep FAST tokens (the person ticked "Stay logged in on this device").
    pub keep_token: bool,
    /// A list, not a hash map: a map of this value type would add its own copy of the hash table code to the
    /// wasm, and a message event looks one up among at most a few hundred.
    conversations: Vec<ConversationRecord>,
    /// Our latest messages to rooms, until the room reflects them (then their archive id is added to the
    /// stored copy). At most [`MAX_REFLECTING`].
    reflecting: Vec<MessageRecord>,
    /// Our latest one-to-one messages: (conversation, id, time), oldest first, at most [`MAX_OWN_TIMES`] (seeded
    /// from the snapshot's pages). A displayed marker names one message; its time here moves the conversation's
    /// [`ConversationRecord::peer_read`], which covers every earlier message without touching them.
    own_times: Vec<(BareJid, String, i64)>,
}

/// Own one-to-one messages whose time is remembered for displayed markers, at most. A marker for an older one
/// still makes that message read (by its id), only not the ones before it.
pub const MAX_OWN_TIMES: usize = 512;

/// Own room messages waiting for their reflection, at most (the oldest are let go: they stay stored, only
/// without their archive id, which the room's archive page adds later by origin-id).
pub const MAX_REFLECTING: usize = 64;

impl Mirror {
    pub fn new(account: BareJid, keep_token: bool) -> Mirror {
        Mirror { account, keep_token, conversations: Vec::new(), reflecting: Vec::new(), own_times: Vec::new() }
    }

    /// Starts from what the store holds.
    pub fn from_snapshot(account: BareJid, keep_token: bool, snapshot: &Snapshot) -> Mirror {
        let mut mirror = Mirror::new(account, keep_token);
        mirror.conversations = snapshot.conversations.clone();
        // Each page oldest first, as they would have been remembered (not sorted across pages: another sort
        // instantiation costs the wasm kilobytes, and at most the cap's oldest would be let go otherwise).
        for (_, page) in &snapshot.pages {
            for stored in page.messages.iter().filter(|s| s.message.from_me) {
                mirror.remember_own(&stored.message);
            }
        }
        mirror
    }

    pub fn account(&self) -> &BareJid {
        &self.account
    }

    /// The stored record of a conversation.
    pub fn conversation(&self, jid: &BareJid) -> Option<&ConversationRecord> {
        self.conversations.iter().find(|c| &c.jid == jid)
    }

    /// The ops that keep what `event` says. `now_ms`: the wall clock, for messages without a stamp.
    pub fn on_event(&mut self, event: &Event, now_ms: i64) -> Vec<Op> {
        let mut ops = Vec::new();
        match event {
            Event::Roster { items, ver } => {
                ops.push(Op::ReplaceRoster(items.clone()));
                ops.push(Op::SetMeta(MetaKey::RosterVer, ver.clone()));
            }
            Event::RosterPush { item, ver } => {
                ops.push(if item.subscription == Subscription::Remove {
                    Op::RemoveRosterItem(item.jid.clone())
                } else {
                    Op::PutRosterItem(item.clone())
                });
                if ver.is_some() {
                    ops.push(Op::SetMeta(MetaKey::RosterVer, ver.clone()));
                }
            }
            Event::Message(msg) => {
                if let Some(from) = msg.from.as_ref().map(|j| j.bare().clone())
                    && let Some(record) = record(msg, from.clone(), from, false, now_ms)
                {
                    self.add(&mut ops, record, ConversationKind::Chat);
                }
            }
            Event::MessageSent(msg) if msg.kind == MessageType::Groupchat => self.room_sent(&mut ops, msg, now_ms),
            Event::MessageSent(msg) => {
                if let Some(to) = msg.to.as_ref().map(|j| j.bare().clone())
                    && !self.is_room(&to)
                    && let Some(record) = record(msg, to, self.account.clone(), true, now_ms)
                {
                    self.add(&mut ops, record, ConversationKind::Chat);
                }
            }
            Event::Room(event) => self.on_room(&mut ops, event, now_ms),
            Event::MessageAcked { id } => ops.push(state(id, MessageState::Sent)),
            Event::Receipt { id, .. } => ops.push(state(id, MessageState::Delivered)),
            Event::Displayed { from, id } => {
                ops.push(state(id, MessageState::Read));
                self.peer_read(&mut ops, from, id);
            }
            Event::MessageError { id: Some(id), error, .. } => {
                ops.push(state(id, MessageState::Failed(format!("Not delivered: {}.", error.describe()))))
            }
            Event::ArchivePage(page) => self.archive_page(&mut ops, page, now_ms),
            Event::ArchiveCursor { id } => ops.push(Op::SetMeta(MetaKey::MamLastId, Some(id.clone()))),
            Event::ArchiveGap(gap) => ops.push(Op::PutGap(self.gap_record(gap, now_ms))),
            Event::GapFilled { gap, rest } => {
                let old = self.gap_record(gap, now_ms);
                ops.push(Op::RemoveGap { conversation: old.conversation, start: old.start });
                if let Some(rest) = rest {
                    ops.push(Op::PutGap(self.gap_record(rest, now_ms)));
                }
            }
            Event::FastToken(token) if self.keep_token => {
                ops.push(Op::SetMeta(MetaKey::FastToken, Some(encode_token(token))))
            }
            Event::FastTokenInvalidated => ops.push(Op::SetMeta(MetaKey::FastToken, None)),
            _ => {}
        }
        ops
    }

    /// The person pressed Send: the message is stored at once, pending, with the id it goes out with.
    pub fn on_send(&mut self, to: &BareJid, id: &str, body: &str, now_ms: i64) -> Vec<Op> {
        let (body, is_me_action) = split_me(body);
        let record = MessageRecord {
            conversation: to.clone(),
            time: now_ms,
            sender: self.account.clone(),
            from_me: true,
            body,
            is_me_action,
            nick: None,
            id: Some(id.to_owned()),
            origin_id: Some(id.to_owned()),
            stanza_id: None,
            state: MessageState::Pending,
        };
        let mut ops = Vec::new();
        self.add(&mut ops, record, ConversationKind::Chat);
        ops
    }

    /// The outbox changed: it is written whole.
    pub fn on_outbox(&self, outbox: Vec<OutboxRecord>) -> Op {
        Op::SetOutbox(outbox)
    }

    /// The conversation's unread count or draft as the UI has them now; an op only when they changed. A
    /// conversation read to the end (`unread == 0`) is read up to its newest message.
    pub fn on_conversation(&mut self, jid: &BareJid, unread: u32, draft: &str) -> Option<Op> {
        if self.is_room(jid) {
            // A room's counts are the room's ([`Mirror::on_room_unread`]), never a chat's.
            return None;
        }
        let known = self.conversation(jid).is_some();
        if !known && unread == 0 && draft.is_empty() {
            return None;
        }
        let c = self.entry(jid, ConversationKind::Chat);
        let last_read = if unread == 0 && c.last_activity > 0 { Some(c.last_activity) } else { c.last_read };
        if known && c.unread == unread && c.draft == draft && c.last_read == last_read {
            return None;
        }
        c.unread = unread;
        c.draft = draft.to_owned();
        c.last_read = last_read;
        Some(Op::PutConversation(c.clone()))
    }

    /// A room's unread and mention counts as the UI has them now; an op only when they changed. A room read to
    /// the end (both 0) is read up to its newest message. Nothing for a room never stored.
    pub fn on_room_unread(&mut self, room: &BareJid, unread: u32, mentions: u32) -> Option<Op> {
        let c = self.conversations.iter_mut().find(|c| &c.jid == room)?;
        let last_read = if unread == 0 && c.last_activity > 0 { Some(c.last_activity) } else { c.last_read };
        if c.unread == unread && c.mentions == mentions && c.last_read == last_read {
            return None;
        }
        c.unread = unread;
        c.mentions = mentions;
        c.last_read = last_read;
        Some(Op::PutConversation(c.clone()))
    }

    /// `from` displayed our message `id`: when its time is known, the conversation's read point moves to it
    /// (never back: a late marker for an older message changes nothing).
    fn peer_read(&mut self, ops: &mut Vec<Op>, from: &BareJid, id: &str) {
        let Some(&(_, _, time)) = self.own_times.iter().rev().find(|(with, own, _)| with == from && own == id) else {
            return;
        };
        let Some(c) = self.conversations.iter_mut().find(|c| &c.jid == from) else { return };
        if c.peer_read.is_none_or(|t| t < time) {
            c.peer_read = Some(time);
            ops.push(Op::PutConversation(c.clone()));
        }
    }

    /// Remembers the time of our one-to-one message (for [`Mirror::peer_read`]).
    fn remember_own(&mut self, m: &MessageRecord) {
        let Some(id) = &m.origin_id else { return };
        // Our own copy of a message stored at Send (stored once, with the time of Send).
        if self.own_times.iter().any(|(with, own, _)| with == &m.conversation && own == id) {
            return;
        }
        if self.own_times.len() >= MAX_OWN_TIMES {
            self.own_times.remove(0);
        }
        self.own_times.push((m.conversation.clone(), id.clone(), m.time));
    }

    fn archive_page(&mut self, ops: &mut Vec<Op>, page: &ArchivePage, now_ms: i64) {
        let room = (page.archive != self.account).then(|| page.archive.clone());
        for (place, archived) in page.messages.iter().enumerate() {
            let time = archived.unix_ms.map_or(now_ms, |t| t as i64);
            let (conversation, kind) = match &room {
                Some(room) => (room.clone(), ConversationKind::Groupchat),
                None => (archived.with.clone(), ConversationKind::Chat),
            };
            let sender = if archived.outgoing {
                self.account.clone()
            } else {
                archived.message.from.as_ref().map_or_else(|| archived.with.clone(), |j| j.bare().clone())
            };
            let Some(mut record) = record(&archived.message, conversation, sender, archived.outgoing, time) else {
                continue;
            };
            // Stamps decide the order; a message without one keeps its place in the page.
            record.time = time + if archived.unix_ms.is_none() { place as i64 } else { 0 };
            record.stanza_id = Some(match &room {
                Some(room) => format!("{room} {}", archived.id),
                None => archived.id.clone(),
            });
            record.state = match (archived.outgoing, &room) {
                (false, _) => MessageState::Received,
                (true, None) => MessageState::Sent,
                // In the room's archive: the room had it, as a reflection says.
                (true, Some(_)) => MessageState::Delivered,
            };
            if room.is_some() {
                record.nick = archived.message.from.as_ref().and_then(|f| f.resource()).map(str::to_owned);
            }
            self.add(ops, record, kind);
        }
    }

    /// Whether `jid` is stored as a room.
    fn is_room(&self, jid: &BareJid) -> bool {
        self.conversation(jid).is_some_and(|c| c.kind == ConversationKind::Groupchat)
    }

    /// What a room event keeps: its messages (keyed like the room's archive pages, so a live and an archived
    /// copy are one record), the nick we use there, whether we are in, and the point of its archive held.
    fn on_room(&mut self, ops: &mut Vec<Op>, event: &RoomEvent, now_ms: i64) {
        match event {
            RoomEvent::Message(m) => self.room_message(ops, m, now_ms),
            RoomEvent::Joined { room, me, .. } => self.room_state(ops, room, |c| {
                c.nick = Some(me.nick.clone());
                c.joined = true;
            }),
            RoomEvent::NickChanged { room, nick } => self.room_state(ops, room, |c| c.nick = Some(nick.clone())),
            RoomEvent::Left { room, .. } => self.room_state(ops, room, |c| c.joined = false),
            RoomEvent::HistoryCursor { room, point } => self.room_state(ops, room, |c| c.history = Some(point.clone())),
            RoomEvent::Reflected { room, id, stanza_id } => {
                if let Some(place) = self.reflecting.iter().position(|r| r.id.as_deref() == Some(id.as_str())) {
                    let mut record = self.reflecting.remove(place);
                    if let Some(sid) = stanza_id {
                        // Stored already (by sender + origin-id): this only adds the archive id to it.
                        record.stanza_id = Some(format!("{room} {sid}"));
                        ops.push(Op::AddMessage(record));
                    }
                }
                ops.push(state(id, MessageState::Delivered));
            }
            _ => {}
        }
    }

    /// Changes a room's record (created when there is none); an op only when something changed.
    fn room_state(&mut self, ops: &mut Vec<Op>, room: &BareJid, f: impl FnOnce(&mut ConversationRecord)) {
        let c = self.entry(room, ConversationKind::Groupchat);
        let before = c.clone();
        c.kind = ConversationKind::Groupchat;
        f(c);
        if *c != before {
            ops.push(Op::PutConversation(c.clone()));
        }
    }

    fn room_message(&mut self, ops: &mut Vec<Op>, m: &RoomMessage, now_ms: i64) {
        let sender = if m.own { self.account.clone() } else { m.room.clone() };
        let Some(mut record) = record(&m.message, m.room.clone(), sender, m.own, now_ms) else { return };
        record.stanza_id = m.message.stanza_id.as_ref().map(|z| format!("{} {z}", m.room));
        record.nick = m.nick.clone();
        if m.own {
            record.state = MessageState::Delivered;
        }
        self.add(ops, record, ConversationKind::Groupchat);
    }

    /// Our message to a room, as it leaves: stored as sent (under the nick we use there), and remembered until
    /// the room reflects it.
    fn room_sent(&mut self, ops: &mut Vec<Op>, msg: &Message, now_ms: i64) {
        let Some(room) = msg.to.as_ref().map(|j| j.bare().clone()) else { return };
        let Some(mut record) = record(msg, room.clone(), self.account.clone(), true, now_ms) else { return };
        record.nick = self.conversation(&room).and_then(|c| c.nick.clone());
        record.stanza_id = None;
        if self.reflecting.len() >= MAX_REFLECTING {
            self.reflecting.remove(0);
        }
        self.reflecting.push(record.clone());
        self.add(ops, record, ConversationKind::Groupchat);
    }

    fn gap_record(&self, gap: &Gap, now_ms: i64) -> GapRecord {
        let conversation = match &gap.with {
            Some(with) => Some(with.clone()),
            None => (gap.archive != self.account).then(|| gap.archive.clone()),
        };
        let start = gap.after.unix_ms.map_or(0, |t| t as i64);
        let end = gap.before.as_ref().and_then(|b| b.unix_ms).map_or(now_ms, |t| t as i64);
        GapRecord {
            conversation,
            start,
            end,
            after_id: gap.after.id.clone(),
            before_id: gap.before.as_ref().and_then(|b| b.id.clone()),
        }
    }

    /// The record of `jid`, created (of `kind`) when there is none.
    fn entry(&mut self, jid: &BareJid, kind: ConversationKind) -> &mut ConversationRecord {
        let index = match self.conversations.iter().position(|c| &c.jid == jid) {
            Some(index) => index,
            None => {
                self.conversations.push(new_conversation(jid, kind));
                self.conversations.len() - 1
            }
        };
        &mut self.conversations[index]
    }

    /// Adds a message and moves its conversation's activity (creating the conversation when needed).
    fn add(&mut self, ops: &mut Vec<Op>, record: MessageRecord, kind: ConversationKind) {
        if record.from_me && kind == ConversationKind::Chat {
            self.remember_own(&record);
        }
        let c = self.entry(&record.conversation, kind);
        let mut changed = c.last_activity == 0 && c.unread == 0 && c.draft.is_empty();
        if record.time > c.last_activity {
            c.last_activity = record.time;
            changed = true;
        }
        if kind == ConversationKind::Groupchat && c.kind != kind {
            c.kind = kind;
            changed = true;
        }
        if changed {
            ops.push(Op::PutConversation(c.clone()));
        }
        ops.push(Op::AddMessage(record));
    }
}

fn new_conversation(jid: &BareJid, kind: ConversationKind) -> ConversationRecord {
    ConversationRecord {
        jid: jid.clone(),
        kind,
        last_read: None,
        unread: 0,
        mentions: 0,
        peer_read: None,
        draft: String::new(),
        last_activity: 0,
        nick: None,
        history: None,
        joined: false,
    }
}

fn state(id: &str, state: MessageState) -> Op {
    Op::SetMessageState { id: id.to_owned(), state }
}

/// A message with a body as a record of `conversation` (the delay stamp's time, else `now_ms`).
fn record(msg: &Message, conversation: BareJid, sender: BareJid, from_me: bool, now_ms: i64) -> Option<MessageRecord> {
    let (body, is_me_action) = split_me(msg.body(None)?);
    let time = msg.delay.as_deref().and_then(delay::parse).map_or(now_ms, |t| t as i64);
    Some(MessageRecord {
        conversation,
        time,
        sender,
        from_me,
        body,
        is_me_action,
        nick: None,
        id: msg.id.clone(),
        origin_id: msg.origin_id.clone(),
        stanza_id: msg.stanza_id.clone(),
        state: if from_me { MessageState::Sent } else { MessageState::Received },
    })
}

/// A FAST token as stored text: mechanism, count, expiry and secret on four lines (the secret last: it is the
/// only part that could hold anything, and it is kept exactly).
pub fn encode_token(token: &FastToken) -> String {
    format!("{}\n{}\n{}\n{}", token.mechanism.name(), token.count, token.expiry.as_deref().unwrap_or(""), token.secret)
}

/// The token [`encode_token`] wrote; `None` for anything else (then it is forgotten and the password asked).
pub fn decode_token(text: &str) -> Option<FastToken> {
    let mut parts = text.splitn(4, '\n');
    let mechanism = Mechanism::from_name(parts.next()?)?;
    let count: u32 = parts.next()?.parse().ok()?;
    let expiry = parts.next()?;
    let secret = parts.next()?;
    let mut token = FastToken::issued(mechanism, secret, Some(expiry))?;
    token.count = count;
    Some(token)
}

#[cfg(test)]
mod tests;
