//! Group chat in the session (XEP-0045): joining, creating and leaving rooms, their occupants, messages,
//! subjects, private messages, moderation and configuration, invitations, browsing a service's rooms, and
//! staying in (rejoin after a reconnect that could not resume, XEP-0410 self-pings).
//!
//! ```text
//!  Join ─▶ disco#info of the room (cached) ─▶ <presence to=room/nick><x muc><history maxchars=0/>?</x>
//!        ◀─ occupants' presences (each O(1) into a map) ◀─ our presence, status 110 ─▶ Joined (one snapshot)
//!        ◀─ subject, messages, presence changes ─▶ Occupants events, batched (at most one per room every
//!                                                   OCCUPANT_BATCH, and always before another event of it)
//! ```
//!
//! Routing: the session hands every presence from a room we are in, joining or leaving, every groupchat
//! message (those from anything but a room we are in are dropped: forged), private messages and errors from
//! our rooms, invitations and PEP notifications to this module before its own rules for contacts. Iq answers
//! about rooms are accepted only from the JID asked.
//!
//! Trust: occupant ids (XEP-0421) only from rooms whose disco#info advertises them (such rooms strip forged
//! ones); stanza-ids only `by` the room; a mediated invitation only from a room's bare JID.
//!
//! Bounds (whatever a server or peer sends): [`MAX_ROOMS`] rooms; [`MAX_OCCUPANTS`] occupants and
//! [`MAX_ROOM_BYTES`] of their texts per room (more are counted as `unlisted`); texts cut at
//! `stanza::muc::MAX_TEXT`; [`MAX_UNREFLECTED`] of our messages awaiting reflection per room; [`MAX_INFO_CACHE`]
//! cached room infos; invitations from strangers at most [`MAX_STRANGER_INVITES`] per session; room lists
//! [`MAX_LISTED`] per page.
//!
//! Room history is read from the room's archive (XEP-0313) once the join is confirmed
//! ([`Client::room_history`]): a catch-up per room, run by `client::mam` like the account's (from the point
//! `RoomCommand::Join { history }` or a saved room holds, else the newest page; paged, bounded, with a gap past
//! its limit), its pages `Event::ArchivePage { archive: room }`, its cursor `RoomEvent::HistoryCursor`, its end
//! `RoomEvent::CaughtUp`. Live messages with the room's stanza-id move that cursor once caught up. A room left
//! drops its catch-up. Scroll-back in a room we are in (`Command::LoadOlder { with: room }`) reads its archive.
//!
//! What this module does NOT do: store anything (the events say what to keep, `SavedRoom` what to hand
//! back), decide what the UI shows, or read the clock.

mod answers;
mod api;
mod commands;
mod messages;
mod nick;
mod occupants;
mod room;

use std::collections::HashMap;
use std::time::Duration;

use web_time::Instant;

pub use api::{
    Departure, JoinError, ListError, Occupant, OccupantChange, RoomAction, RoomCommand, RoomEvent, RoomListing,
    RoomMessage, SavedRoom,
};
pub use nick::{mentions, suggest_nick};
use room::{Intent, Room, Stage, Upsert};

use super::bookmarks::{BookmarkRequest, BookmarkState};
use super::dedup::SeenKey;
use super::mam::{HistoryPoint, RoomSelf};
use super::sm::{MAX_UNACKED_MESSAGES, PendingMessage};
use super::{Client, CommandError, Event, Pending, RequestError};
use crate::xmpp::jid::{BareJid, Jid, JidError};
use crate::xmpp::stanza::dataform::{DataForm, FormType};
use crate::xmpp::stanza::disco::{self, DiscoInfo, DiscoItems};
use crate::xmpp::stanza::error::{ErrorType, StanzaError};
use crate::xmpp::stanza::message::{CarbonDirection, Message, MessageType};
use crate::xmpp::stanza::muc::{
    self, Invite, MUC_USER_NS, MucItem, MucPresence, MucUser, OccupantPresence, RoomInfo, status,
};
use crate::xmpp::stanza::presence::{self, Availability};
use crate::xmpp::stanza::{bookmarks, sid};
use crate::xmpp::xml::Element;

/// Rooms joined (or joining) at once.
pub const MAX_ROOMS: usize = 200;
/// Occupants listed per room; more are counted (`unlisted`), not kept. Rooms of 5,000 are common on public
/// services, of 20,000 rare.
pub const MAX_OCCUPANTS: usize = 20_000;
/// Bytes of occupants' texts (nicks, JIDs, statuses, ids) kept per room; beyond, more are counted, not kept.
pub const MAX_ROOM_BYTES: usize = 8 * 1024 * 1024;
/// Departed occupants' ids remembered per room (to say who comes back under a new nick).
pub const MAX_DEPARTED: usize = 1_000;
/// Occupant changes of a joined room are reported at most this often (in one `Occupants` event).
pub const OCCUPANT_BATCH: Duration = Duration::from_millis(100);
/// Occupant changes in one `Occupants` event at most (a room sending more within `OCCUPANT_BATCH` gets them
/// reported sooner, in batches of this size).
pub const MAX_BATCH: usize = 1_000;
/// After this long without a stanza from a joined room, ask it whether we are still in (XEP-0410); the
/// default of `Config::room_silence`.
pub const ROOM_SILENCE: Duration = Duration::from_secs(5 * 60);
/// Times in a row we join a room again after it removed us for a technical reason (status 333: what a
/// restarted server sends for the sessions it lost, which can hit a session that already rejoined) before
/// we give up with `Left { why: Departure::Removed }`. The first is at once, the next after 1 s, 2 s, 4 s.
pub const MAX_REJOINS: u32 = 4;
/// In a room this long, a removal for a technical reason counts as the first again.
pub const REJOINS_FORGOTTEN: Duration = Duration::from_secs(60);
/// Invitations from people not in the roster shown per session.
pub const MAX_STRANGER_INVITES: usize = 10;
/// Rooms per page of a service's list.
pub const MAX_LISTED: usize = 100;
/// Our messages per room awaiting their reflection (older ones are reported as plain own messages).
pub const MAX_UNREFLECTED: usize = 512;
/// Room infos (disco#info) kept.
pub const MAX_INFO_CACHE: usize = 256;
/// Items of the server's disco#items asked whether they are a group chat service.
const MAX_SERVICE_PROBES: usize = 16;
/// Invitations (room, inviter) remembered, so each is shown once.
const MAX_INVITES_REMEMBERED: usize = 256;

/// Where finding the server's group chat service is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Service {
    #[default]
    Unknown,
    /// Asking the server's items; `waiting` answers to come; `after`: the page wanted once found.
    Probing {
        waiting: usize,
        after: Option<String>,
    },
    Found(BareJid),
    Missing,
}

/// Group chat state of a session (carried to a resumed one as a whole).
#[derive(Debug, Clone, Default)]
pub(crate) struct Muc {
    rooms: HashMap<BareJid, Room>,
    /// Rooms we left whose last presences may still come (swallowed).
    leaving: Vec<BareJid>,
    /// Room infos by room, oldest first (a short list: searched, not hashed, to keep the wasm small).
    info: Vec<(BareJid, RoomInfo)>,
    service: Service,
    invites_seen: Vec<(BareJid, BareJid)>,
    stranger_invites: usize,
    /// Rooms of the previous session, to join once online.
    saved: Vec<SavedRoom>,
    pub(crate) bookmarks: BookmarkState,
}

impl Muc {
    pub(crate) fn new(saved: Vec<SavedRoom>) -> Muc {
        Muc { saved, ..Muc::default() }
    }

    /// Who we are in `room` (to tell our messages in its archive), when we are in it.
    pub(crate) fn room_self(&self, room: &BareJid) -> Option<RoomSelf> {
        let r = self.rooms.get(room)?;
        Some(RoomSelf {
            nick: r.nick.clone(),
            occupant_id: r.me.as_ref().and_then(|m| m.occupant_id.clone()),
            trusts_ids: r.info.as_ref().is_some_and(|i| i.occupant_ids),
        })
    }

    /// Whether `room`, when we are in it (or joining), keeps an archive.
    pub(crate) fn has_archive(&self, room: &BareJid) -> Option<bool> {
        self.rooms.get(room).map(|r| r.info.as_ref().is_some_and(|i| i.mam))
    }

    /// The rooms to be in, for the next session.
    pub(crate) fn saved_rooms(&self) -> Vec<SavedRoom> {
        let mut v: Vec<SavedRoom> = self.rooms.values().map(Room::saved).collect();
        v.extend(self.saved.iter().filter(|s| !self.rooms.contains_key(&s.room)).cloned());
        v
    }
}

/// An iq about group chat on its way.
#[derive(Debug, Clone)]
pub(crate) enum Request {
    Info {
        room: BareJid,
        why: InfoFor,
    },
    /// The owner form: for `FetchConfig` (`None`), or to fill with settings for a room being created.
    OwnerForm {
        room: BareJid,
        settings: Option<muc::RoomSettings>,
    },
    /// A `muc#admin`/`muc#owner` set whose answer is reported as `Done`/`RequestFailed`.
    Set {
        room: BareJid,
        action: RoomAction,
    },
    SelfPing {
        room: BareJid,
    },
    ServiceItems,
    ServiceInfo,
    List {
        service: BareJid,
    },
    Bookmarks(BookmarkRequest),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InfoFor {
    Join,
    Query,
    /// The room's configuration changed (or was just made): ask again.
    Refresh,
}

impl RoomEvent {
    fn room(&self) -> Option<&BareJid> {
        match self {
            RoomEvent::Joining { room, .. }
            | RoomEvent::Joined { room, .. }
            | RoomEvent::JoinFailed { room, .. }
            | RoomEvent::Occupants { room, .. }
            | RoomEvent::Me { room, .. }
            | RoomEvent::NickChanged { room, .. }
            | RoomEvent::NickChangeFailed { room, .. }
            | RoomEvent::Subject { room, .. }
            | RoomEvent::Reflected { room, .. }
            | RoomEvent::PrivateMessage { room, .. }
            | RoomEvent::Left { room, .. }
            | RoomEvent::ConfigForm { room, .. }
            | RoomEvent::Done { room, .. }
            | RoomEvent::RequestFailed { room, .. }
            | RoomEvent::Info { room, .. }
            | RoomEvent::HistoryCursor { room, .. }
            | RoomEvent::CaughtUp { room } => Some(room),
            RoomEvent::Message(m) => Some(&m.room),
            RoomEvent::Rooms { .. } | RoomEvent::ListFailed { .. } | RoomEvent::Invited(_) => None,
        }
    }
}

fn departure_of(user: &MucUser, status: Option<String>) -> Departure {
    let item = user.item();
    let actor = item.and_then(|i| i.actor.clone());
    let reason = item.and_then(|i| i.reason.clone());
    if let Some(d) = &user.destroy {
        Departure::Destroyed { reason: d.reason.clone(), alternate: d.alternate.clone() }
    } else if user.has(status::BANNED) {
        Departure::Banned { actor, reason }
    } else if user.has(status::KICKED) {
        Departure::Kicked { actor, reason }
    } else if user.has(status::AFFILIATION_CHANGED) {
        Departure::AffiliationChanged { actor, reason }
    } else if user.has(status::MEMBERS_ONLY) {
        Departure::MembersOnly { reason }
    } else if user.has(status::SHUTDOWN) {
        Departure::Shutdown { reason }
    } else if user.has(status::TECHNICAL) {
        Departure::Removed { reason: reason.or(status) }
    } else {
        Departure::Left { status }
    }
}

fn occupant_of(nick: String, item: Option<&MucItem>, presence: Availability, occupant_id: Option<String>) -> Occupant {
    Occupant {
        nick,
        jid: item.and_then(|i| i.jid.clone()),
        affiliation: item.map_or(muc::Affiliation::None, |i| i.affiliation),
        role: item.map_or(muc::Role::None, |i| i.role),
        presence,
        occupant_id,
    }
}

fn room_jid(room: &BareJid) -> Result<(), CommandError> {
    if room.local().is_none() { Err(CommandError::InvalidJid(JidError::EmptyLocal)) } else { Ok(()) }
}

fn occupant_jid(room: &BareJid, nick: &str) -> Result<Jid, CommandError> {
    room_jid(room)?;
    room.with_resource(nick).map_err(CommandError::InvalidJid)
}

impl Client {
    // ---- events --------------------------------------------------------------------------------------

    /// We are out of `room` (or never got in): it is forgotten, with its history's catch-up.
    fn remove_room(&mut self, room: &BareJid) -> Option<Room> {
        self.history.room_left(room);
        self.muc.rooms.remove(room)
    }

    /// Emits a room event, after the occupant changes of its room not yet reported (order is kept).
    fn room_event(&mut self, event: RoomEvent) {
        if let Some(room) = event.room().cloned() {
            self.flush_occupants(&room);
        }
        self.events.push_back(Event::Room(event));
    }

    pub(super) fn flush_occupants(&mut self, jid: &BareJid) {
        let Some(r) = self.muc.rooms.get_mut(jid) else { return };
        r.flush_at = None;
        let unlisted = r.occupants.unlisted;
        if r.batch.is_empty() && unlisted == r.reported_unlisted {
            return;
        }
        r.reported_unlisted = unlisted;
        let changes = std::mem::take(&mut r.batch);
        self.events.push_back(Event::Room(RoomEvent::Occupants { room: jid.clone(), changes, unlisted }));
    }

    // ---- once online, presence, wake-up ------------------------------------------------------------------

    /// A fresh session is online: join the rooms of the previous one, then fetch bookmarks (autojoin).
    pub(super) fn muc_online(&mut self, now: Instant) {
        for saved in std::mem::take(&mut self.muc.saved) {
            if self.muc.rooms.contains_key(&saved.room) || occupant_jid(&saved.room, &saved.nick).is_err() {
                continue;
            }
            if self.muc.rooms.len() >= MAX_ROOMS {
                self.room_event(RoomEvent::JoinFailed { room: saved.room, error: JoinError::TooManyRooms });
                continue;
            }
            let jid = saved.room.clone();
            self.muc.rooms.insert(jid.clone(), Room::from_saved(saved, now));
            self.start_join(&jid, now);
        }
        if self.config.bookmarks {
            self.fetch_bookmarks(now);
        }
    }

    /// Our presence changed: rooms get it too (they are not in the roster, so broadcast does not reach them).
    pub(super) fn muc_presence_changed(&mut self) {
        let targets: Vec<Jid> = self
            .muc
            .rooms
            .values()
            .filter(|r| r.stage != Stage::Disco)
            .filter_map(|r| r.jid.with_resource(&r.nick).ok())
            .collect();
        for to in targets {
            let mut p = self.presence_element(&self.own_presence.clone());
            p.set_attr("to", to.to_string());
            self.send(&p);
        }
    }

    /// The page became active after a silence: ask each room that has been silent as long whether we are
    /// still in (a sleeping laptop misses the room's restart).
    pub(super) fn muc_woke(&mut self, silence: Duration, now: Instant) {
        let due: Vec<BareJid> = self
            .muc
            .rooms
            .values()
            .filter(|r| r.stage == Stage::Joined && !r.pinging && now >= r.last_heard + silence)
            .map(|r| r.jid.clone())
            .collect();
        for room in due {
            self.self_ping(&room, now);
        }
    }

    fn self_ping(&mut self, room: &BareJid, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        let Ok(to) = room.with_resource(&r.nick) else { return };
        r.pinging = true;
        self.muc_iq(
            "get",
            to,
            Element::new(super::online::PING_NS, "ping"),
            Request::SelfPing { room: room.clone() },
            now,
        );
    }

    /// Tells `room` we are gone (as occupant `to`); its last presences are swallowed until our own comes.
    fn send_unavailable(&mut self, room: &BareJid, to: Jid, status: Option<&str>) {
        let mut p = presence::unavailable(status);
        p.set_attr("to", to.to_string());
        self.send(&p);
        if self.muc.leaving.len() >= MAX_ROOMS {
            self.muc.leaving.remove(0); // a room that never confirmed: forget it rather than grow
        }
        if !self.muc.leaving.contains(room) {
            self.muc.leaving.push(room.clone());
        }
    }

    // ---- timers ----------------------------------------------------------------------------------------

    /// The next group chat deadline: a batch of occupant changes due, a join taking too long, a self-ping.
    pub(super) fn muc_deadline(&self) -> Option<Instant> {
        let timeout = self.config.request_timeout;
        self.muc
            .rooms
            .values()
            .filter_map(|r| {
                let join = (r.stage == Stage::Joining && r.rejoin_at.is_none()).then(|| r.last_heard + timeout);
                let ping = (r.stage == Stage::Joined && !r.pinging).then(|| r.last_heard + self.config.room_silence);
                [r.flush_at, join, ping, r.rejoin_at].into_iter().flatten().min()
            })
            .min()
    }

    pub(super) fn muc_timeout(&mut self, now: Instant) {
        let timeout = self.config.request_timeout;
        let mut flush = Vec::new();
        let mut failed = Vec::new();
        let mut ping = Vec::new();
        let mut rejoin = Vec::new();
        for r in self.muc.rooms.values() {
            if r.flush_at.is_some_and(|t| now >= t) {
                flush.push(r.jid.clone());
            }
            if let Some(at) = r.rejoin_at {
                if now >= at {
                    rejoin.push(r.jid.clone());
                }
            } else if r.stage == Stage::Joining && now >= r.last_heard + timeout {
                failed.push(r.jid.clone());
            } else if r.stage == Stage::Joined && !r.pinging && now >= r.last_heard + self.config.room_silence {
                ping.push(r.jid.clone());
            }
        }
        for room in flush {
            self.flush_occupants(&room);
        }
        for room in failed {
            // Whatever the room does later, we are not in: say so and tell it we are gone.
            if let Some(r) = self.remove_room(&room)
                && let Ok(to) = room.with_resource(&r.nick)
            {
                self.send_unavailable(&room, to, None);
            }
            self.room_event(RoomEvent::JoinFailed { room, error: JoinError::Timeout });
        }
        for room in ping {
            self.self_ping(&room, now);
        }
        for room in rejoin {
            self.send_join(&room, now);
        }
    }
}
