//! One room's state: where its join is, who is in it (bounded), and the occupant changes not yet reported.
//!
//! Every presence costs O(1): occupants live in a hash map keyed by nick, the joining flood only fills it
//! (the `Joined` event takes one snapshot), and later changes are appended to a batch the session flushes
//! as one event (see `super::OCCUPANT_BATCH`). Memory is bounded per room: at most `MAX_OCCUPANTS` listed
//! and at most `MAX_ROOM_BYTES` of their texts; beyond either, occupants are counted (`unlisted`) but not
//! kept. Departed people's occupant ids are remembered (at most `MAX_DEPARTED`) to recognise them when they
//! come back under another nick.

use std::collections::{HashMap, VecDeque};

use web_time::Instant;

use super::api::{Occupant, OccupantChange, SavedRoom};
use super::{MAX_DEPARTED, MAX_OCCUPANTS, MAX_ROOM_BYTES};
use crate::xmpp::client::mam::HistoryPoint;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::muc::{RoomInfo, RoomSettings};

/// Where a room's join is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Asking the room's disco#info before sending the join presence.
    Disco,
    /// Join presence sent; occupants arriving; our own presence (110) not yet.
    Joining,
    Joined,
}

/// Why we are joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    Join,
    /// Create it: instant (`None`) or with these settings.
    Create(Option<RoomSettings>),
}

/// The occupants of a room, bounded (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Occupants {
    by_nick: HashMap<String, Occupant>,
    /// Present but not listed (beyond the bounds).
    pub unlisted: usize,
    bytes: usize,
    /// occupant id → the nick they left with, oldest first, at most `MAX_DEPARTED`.
    departed: HashMap<String, String>,
    departed_order: VecDeque<String>,
}

/// What [`Occupants::upsert`] did.
pub(crate) enum Upsert {
    New {
        was: Option<String>,
    },
    Changed,
    Unchanged,
    /// Beyond the bounds: counted, not listed.
    Unlisted,
}

fn cost(o: &Occupant) -> usize {
    const OVERHEAD: usize = 96;
    o.nick.len()
        + o.jid.as_ref().map_or(0, |j| j.bare().to_string().len() + j.resource().map_or(0, str::len))
        + o.presence.status.as_ref().map_or(0, String::len)
        + o.occupant_id.as_ref().map_or(0, String::len)
        + OVERHEAD
}

impl Occupants {
    pub fn snapshot(&self) -> Vec<Occupant> {
        self.by_nick.values().cloned().collect()
    }

    pub fn clear(&mut self) {
        self.by_nick.clear();
        self.unlisted = 0;
        self.bytes = 0;
    }

    pub fn upsert(&mut self, occupant: Occupant) -> Upsert {
        let add = cost(&occupant);
        if let Some(old) = self.by_nick.get_mut(&occupant.nick) {
            if *old == occupant {
                return Upsert::Unchanged;
            }
            self.bytes = self.bytes - cost(old) + add;
            *old = occupant;
            return Upsert::Changed;
        }
        if self.by_nick.len() >= MAX_OCCUPANTS || self.bytes + add > MAX_ROOM_BYTES {
            self.unlisted += 1;
            return Upsert::Unlisted;
        }
        let was = occupant
            .occupant_id
            .as_ref()
            .and_then(|id| self.departed.get(id))
            .filter(|n| **n != occupant.nick)
            .cloned();
        self.bytes += add;
        self.by_nick.insert(occupant.nick.clone(), occupant);
        Upsert::New { was }
    }

    /// Removes `nick`; `None` if it was not listed (then one fewer is counted as unlisted, if any were).
    pub fn remove(&mut self, nick: &str) -> Option<Occupant> {
        match self.by_nick.remove(nick) {
            Some(o) => {
                self.bytes -= cost(&o);
                if let Some(id) = &o.occupant_id {
                    self.remember_departed(id.clone(), o.nick.clone());
                }
                Some(o)
            }
            None => {
                self.unlisted = self.unlisted.saturating_sub(1);
                None
            }
        }
    }

    /// Moves `old` to `new` (status 303); `None` if `old` was not listed.
    pub fn rename(&mut self, old: &str, new: &str) -> Option<Occupant> {
        let mut o = self.by_nick.remove(old)?;
        self.bytes -= cost(&o);
        o.nick = new.to_owned();
        if let Some(displaced) = self.by_nick.remove(new) {
            self.bytes -= cost(&displaced);
        }
        self.bytes += cost(&o);
        self.by_nick.insert(new.to_owned(), o.clone());
        Some(o)
    }

    fn remember_departed(&mut self, id: String, nick: String) {
        if self.departed.insert(id.clone(), nick).is_none() {
            self.departed_order.push_back(id);
            if self.departed_order.len() > MAX_DEPARTED
                && let Some(oldest) = self.departed_order.pop_front()
            {
                self.departed.remove(&oldest);
            }
        }
    }
}

/// A room we are in, joining, or asking about before joining.
#[derive(Debug, Clone)]
pub(crate) struct Room {
    pub jid: BareJid,
    /// Our nick (what the room says it is, once joined).
    pub nick: String,
    pub password: Option<String>,
    pub stage: Stage,
    pub intent: Intent,
    pub info: Option<RoomInfo>,
    pub occupants: Occupants,
    /// Our own entry, once joined.
    pub me: Option<Occupant>,
    /// The room created by this join (status 201).
    pub created: bool,
    /// The newest archive id seen (stanza-id by the room).
    pub last_stanza_id: Option<String>,
    /// The newest point of the room's archive held when we asked to join: its catch-up starts there.
    pub history: Option<HistoryPoint>,
    /// When the room was last heard from (any stanza): self-pings and join timeouts count from here.
    pub last_heard: Instant,
    /// A self-ping is on its way.
    pub pinging: bool,
    /// A nick asked for with `ChangeNick`, not yet confirmed.
    pub pending_nick: Option<String>,
    /// The id of a subject change on its way.
    pub pending_subject: Option<String>,
    /// Ids of our messages not yet reflected by the room, oldest first (bounded).
    pub unreflected: VecDeque<String>,
    /// The first subject after a join is the room's, not a change.
    pub subject_seen: bool,
    /// Occupant changes not reported yet, and when they are due.
    pub batch: Vec<OccupantChange>,
    pub flush_at: Option<Instant>,
    /// The `unlisted` count last reported.
    pub reported_unlisted: usize,
    /// Joins again in a row after removals for a technical reason (see `super::MAX_REJOINS`).
    pub rejoins: u32,
    /// When to send the next of those joins (waiting: no join presence on its way).
    pub rejoin_at: Option<Instant>,
    /// When the last join was confirmed.
    pub joined_at: Instant,
}

impl Room {
    pub fn new(jid: BareJid, nick: String, password: Option<String>, intent: Intent, now: Instant) -> Room {
        Room {
            jid,
            nick,
            password,
            stage: Stage::Disco,
            intent,
            info: None,
            occupants: Occupants::default(),
            me: None,
            created: false,
            last_stanza_id: None,
            history: None,
            last_heard: now,
            pinging: false,
            pending_nick: None,
            pending_subject: None,
            unreflected: VecDeque::new(),
            subject_seen: false,
            batch: Vec::new(),
            flush_at: None,
            reported_unlisted: 0,
            rejoins: 0,
            rejoin_at: None,
            joined_at: now,
        }
    }

    pub fn from_saved(saved: SavedRoom, now: Instant) -> Room {
        let mut r = Room::new(saved.room, saved.nick, saved.password, Intent::Join, now);
        r.info = saved.info;
        r.history = saved.last_stanza_id.as_deref().map(HistoryPoint::id);
        r.last_stanza_id = saved.last_stanza_id;
        r
    }

    pub fn saved(&self) -> SavedRoom {
        SavedRoom {
            room: self.jid.clone(),
            nick: self.nick.clone(),
            password: self.password.clone(),
            last_stanza_id: self.last_stanza_id.clone(),
            info: self.info.clone(),
        }
    }

    /// Back to joining: what we knew of the occupants is stale.
    pub fn reset_for_join(&mut self, now: Instant) {
        self.stage = Stage::Joining;
        self.occupants.clear();
        self.me = None;
        self.created = false;
        self.pinging = false;
        self.pending_nick = None;
        self.subject_seen = false;
        self.batch.clear();
        self.flush_at = None;
        self.reported_unlisted = 0;
        self.rejoin_at = None;
        self.last_heard = now;
    }

    /// Records an occupant change for the next batch (only once joined: the join reports a snapshot).
    pub fn record(&mut self, change: OccupantChange, due: Instant) {
        if self.stage == Stage::Joined {
            self.batch.push(change);
            self.flush_at.get_or_insert(due);
        }
    }

    /// The count of unlisted occupants changed: report it with the next batch.
    pub fn recount(&mut self, due: Instant) {
        if self.stage == Stage::Joined && self.occupants.unlisted != self.reported_unlisted {
            self.flush_at.get_or_insert(due);
        }
    }
}
