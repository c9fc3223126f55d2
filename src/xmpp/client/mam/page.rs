//! One page of results as it arrives: which results to trust (the archive asked, our query), what an archived
//! message means for the account or the room (its conversation and direction), and the page's bounds (count
//! and bytes; the part of an oversized page that is left out is fetched by the next page, never lost).

use std::collections::VecDeque;

use crate::xmpp::Event;
use crate::xmpp::jid::{BareJid, Jid};
use crate::xmpp::stanza::mam::ResultRef;
use crate::xmpp::stanza::message::{Message, MessageType};
use crate::xmpp::stanza::receipts::Ack;
use crate::xmpp::stanza::{delay, muc, sid};
use crate::xmpp::xml::Element;

use super::super::dedup::SeenKey;
use super::{ArchivedMessage, HistoryPoint, MAX_PAGE_BYTES};

/// One result as kept while its page is collected.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) id: String,
    pub(super) unix_ms: Option<u64>,
    pub(super) message: Option<(ArchivedMessage, Vec<SeenKey>)>,
    /// A receipt or `displayed` marker it carries (the account's archive only), said after its page.
    pub(super) mark: Option<Event>,
    bytes: usize,
}

/// Who we are in a room, to tell our own archived messages: by our XEP-0421 occupant id where the room
/// stamps them (`trusts_ids`), else (and for messages archived without one) by our nick, as it is now: a
/// message we sent under an earlier nick, or someone who had our nick before us, is told by the nick alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoomSelf {
    pub nick: String,
    pub occupant_id: Option<String>,
    pub trusts_ids: bool,
}

impl Entry {
    /// A result of `account`'s archive: its id, time, and the message when it is one of ours to show.
    pub(super) fn of(account: &BareJid, r: &ResultRef) -> Entry {
        let unix_ms = r.stamp.and_then(delay::parse);
        let (message, mark) = r.message.map_or((None, None), |m| archived(account, r.id, unix_ms, r.stamp, m));
        Entry { mark, ..Entry::new(r, unix_ms, message) }
    }

    /// A result of `room`'s archive (`me`: who we are in it, when we are in).
    pub(super) fn of_room(room: &BareJid, me: Option<&RoomSelf>, r: &ResultRef) -> Entry {
        let unix_ms = r.stamp.and_then(delay::parse);
        let message = r.message.and_then(|m| archived_in_room(room, me, r.id, unix_ms, r.stamp, m));
        Entry::new(r, unix_ms, message)
    }

    fn new(r: &ResultRef, unix_ms: Option<u64>, message: Option<(ArchivedMessage, Vec<SeenKey>)>) -> Entry {
        let bytes = message.as_ref().map_or(0, |(m, _)| {
            m.message.bodies.iter().map(|(_, b)| b.len()).sum::<usize>()
                + m.message.subject.as_ref().map_or(0, String::len)
        });
        Entry { id: r.id.to_owned(), unix_ms, message, mark: None, bytes }
    }

    pub(super) fn point(&self) -> HistoryPoint {
        HistoryPoint { id: Some(self.id.clone()), unix_ms: self.unix_ms }
    }
}

/// The results of one query, within the page's bounds.
#[derive(Debug)]
pub(super) struct Collected {
    /// Paging backwards (`before`): when too many come, the newest are kept (the next page reads on before
    /// them); paging forwards, the oldest.
    backward: bool,
    max: usize,
    pub(super) entries: VecDeque<Entry>,
    bytes: usize,
    /// Results were left out: the page is not the end.
    pub(super) cut: bool,
    /// Gap filling: the id of the message held at the far end; reaching it ends the gap.
    pub(super) stop: Option<String>,
    pub(super) reached: bool,
}

impl Collected {
    pub(super) fn new(backward: bool, max: usize, stop: Option<String>) -> Collected {
        Collected { backward, max, entries: VecDeque::new(), bytes: 0, cut: false, stop, reached: false }
    }

    pub(super) fn push(&mut self, entry: Entry) {
        let at_stop = self.stop.as_deref() == Some(entry.id.as_str());
        if self.backward {
            if at_stop {
                // Everything up to the far end is held already.
                self.entries.clear();
                self.bytes = 0;
                self.reached = true;
                return;
            }
            self.bytes += entry.bytes;
            self.entries.push_back(entry);
            while self.entries.len() > self.max || (self.bytes > MAX_PAGE_BYTES && self.entries.len() > 1) {
                if let Some(old) = self.entries.pop_front() {
                    self.bytes -= old.bytes;
                }
                self.cut = true;
            }
        } else {
            if self.reached || self.cut {
                return;
            }
            if at_stop {
                self.reached = true;
                return;
            }
            let fits = self.entries.len() < self.max
                && (self.entries.is_empty() || self.bytes + entry.bytes <= MAX_PAGE_BYTES);
            if fits {
                self.bytes += entry.bytes;
                self.entries.push_back(entry);
            } else {
                self.cut = true;
            }
        }
    }
}

/// Whether a result stanza's `from` is the archive asked: the room's JID, or for our own account's archive
/// our bare JID or nothing (the server answering for the account).
pub(super) fn from_archive(from: Option<&str>, archive: &BareJid, account: &BareJid) -> bool {
    match from {
        None => archive == account,
        Some(f) => Jid::parse(f).is_ok_and(|j| j.is_bare() && j.bare() == archive),
    }
}

/// An archived one-to-one message of `account`'s archive, with its de-duplication keys (`None` for what is
/// not one: no body, an error or group chat message, or one that involves someone else's account), and the
/// receipt or marker it carries as the event it stands for: theirs for our messages (`Receipt`, `Displayed`),
/// or our other device's `displayed` for theirs (`ReadElsewhere`).
fn archived(
    account: &BareJid,
    id: &str,
    unix_ms: Option<u64>,
    stamp: Option<&str>,
    el: &Element,
) -> (Option<(ArchivedMessage, Vec<SeenKey>)>, Option<Event>) {
    let Some(mut message) = Message::parse(el) else { return (None, None) };
    if matches!(message.kind, MessageType::Error | MessageType::Groupchat) {
        return (None, None);
    }
    let from = message.from.as_ref().map(|j| j.bare().clone());
    let to = message.to.as_ref().map(|j| j.bare().clone());
    let (with, outgoing, sender) = match (from, to) {
        (Some(f), Some(t)) if &f == account => (t, true, f),
        (Some(f), to) if to.as_ref().is_none_or(|t| t == account) => (f.clone(), false, f),
        _ => return (None, None),
    };
    let mark = match (Ack::of(el), outgoing) {
        (Some(Ack::Received(id)), false) => Some(Event::Receipt { from: with.clone(), id }),
        (Some(Ack::Displayed(id)), false) => Some(Event::Displayed { from: with.clone(), id }),
        (Some(Ack::Displayed(id)), true) => Some(Event::ReadElsewhere { with: with.clone(), id }),
        _ => None,
    };
    if message.bodies.is_empty() {
        return (None, mark);
    }
    message.delay = stamp.map(str::to_owned);
    let body = message.body(None).unwrap_or_default();
    let keys = SeenKey::of(&sender, Some(id), sid::origin_id(el).as_deref(), message.id.as_deref(), body);
    (Some((ArchivedMessage { id: id.to_owned(), unix_ms, with, outgoing, message }, keys)), mark)
}

/// An archived message of `room`'s archive, with its de-duplication keys (the room's: its stanza-id, which is
/// the result's id, and the sender's nick with its id and body); `None` for what is not one to show: no body,
/// an error or a private (`chat`) message, one that is not from this room, or one whose stanza-id `by` the
/// room names another message (the room stamped it: a result that disagrees is not this archive's).
fn archived_in_room(
    room: &BareJid,
    me: Option<&RoomSelf>,
    id: &str,
    unix_ms: Option<u64>,
    stamp: Option<&str>,
    el: &Element,
) -> Option<(ArchivedMessage, Vec<SeenKey>)> {
    let mut message = Message::parse(el)?;
    if message.bodies.is_empty() || matches!(message.kind, MessageType::Error | MessageType::Chat) {
        return None;
    }
    let from = message.from.as_ref()?;
    if from.bare() != room || sid::stanza_id_by(el, room).is_some_and(|s| s != id) {
        return None;
    }
    let nick = from.resource().map(str::to_owned);
    let occupant_id = muc::occupant_id(el).filter(|_| me.is_some_and(|m| m.trusts_ids));
    let outgoing = match me {
        Some(m) if occupant_id.is_some() && m.occupant_id.is_some() => occupant_id == m.occupant_id,
        Some(m) => nick.as_deref() == Some(m.nick.as_str()),
        None => false,
    };
    message.delay = stamp.map(str::to_owned);
    let body = message.body(None).unwrap_or_default();
    let sender_id = message.origin_id.as_deref().or(message.id.as_deref());
    let keys = SeenKey::of_room(room, Some(id), nick.as_deref().unwrap_or(""), sender_id, body);
    Some((ArchivedMessage { id: id.to_owned(), unix_ms, with: room.clone(), outgoing, message }, keys))
}
