//! History from the server's archive (XEP-0313 MAM): catch-up at login, scroll-back, and gaps.
//!
//! The session owns one `History`; it feeds it MAM results, the answers to its queries and the live
//! messages it shows, and sends the queries it asks for. Every query is about one archive, named by its JID:
//! the account's own archive for one-to-one chats (results must come without `from` or from our bare JID),
//! or a room's (XEP-0045 rooms with `urn:xmpp:mam:2`: results from the room's bare JID only). A result with
//! an unknown `queryid`, or from anyone but the archive asked, is dropped; so is anything beyond a page's
//! bounds.
//!
//! **Catch-up** runs once the session is online, beside live traffic (it never holds a message back):
//! - with a cursor (`HistoryConfig::last_id`, the newest archive id this device holds): every page `after`
//!   it, oldest first, until the archive says `complete`. When the archive no longer knows that id, the
//!   pages start at `HistoryConfig::last_time` instead (minus [`STALE_CURSOR_MARGIN`] for clock differences;
//!   duplicates are dropped). Archives say so differently: Prosody 0.12 answers `item-not-found`, Prosody 13
//!   an empty `complete` page, ejabberd reads its ids as times. So an empty first page is checked: the
//!   archive's newest message (one result) must be the cursor, else the cursor was not understood;
//! - without one (a new device): only the newest page of the whole account archive. That is one request
//!   whatever the number of contacts, and it holds the latest messages of exactly the conversations that
//!   were active last; a conversation's older messages come by scroll-back when it is opened (its oldest
//!   held message is then the point to load before). Fetching a page per recent conversation instead
//!   would need to know which conversations are recent, which a new device does not.
//! - past `HistoryConfig::catch_up_limit` messages, the rest is not paged through: the newest page is
//!   fetched, and what lies between is reported as a [`Gap`].
//!
//! Each page becomes one [`ArchivePage`] event (new messages only: those already shown live or in an
//! earlier page are left out), then the receipts and `displayed` markers the account's archive holds among
//! them, as the live events they were (`Receipt`, `Displayed`; our other device's `displayed` as
//! `ReadElsewhere`), so that our messages read on a new device show as read and theirs read elsewhere stop
//! counting as unread; then an `ArchiveCursor` event: the caller stores the page's messages and the cursor
//! together. Once the catch-up is done, every live message stamped with a stanza-id by our
//! account moves the cursor on. While it runs, live messages are shown at once but do not move the cursor:
//! if the catch-up then stops early (the connection drops, the server fails, the time runs out), the range
//! between the last page and the first live message not covered by a page becomes a [`Gap`], and the cursor
//! jumps to the newest live message. If no live message came, the cursor simply stays where the pages got
//! to, and the next login continues from there.
//!
//! **Scroll-back** (`Command::LoadOlder`) fetches one page of a conversation before a point (an archive id,
//! else a time); `complete` says the start of its history was reached. **Gaps** (`Command::FillGap`) are
//! filled a page at a time from either end; each page says what is left of the gap.
//!
//! Paging: the id read on from is always an RSM cursor (`<after>`/`<before>`), which every archive
//! understands; an empty `<before/>` asks for the newest page. The `#extended` form fields `after-id` and
//! `before-id` bound only a gap's far end, where the archive offers them (Prosody); elsewhere (ejabberd)
//! that end is bounded by its time, and ids are checked as results come. (Prosody, 0.12 and 13, ignores
//! `before-id` beside `<before/>`, so it cannot carry the cursor.) Time bounds are inclusive and widened to
//! whole milliseconds: ejabberd and Prosody 13 stamp microseconds.
//!
//! Bounds: at most [`MAX_QUERIES`] queries in flight (one per conversation or gap), at most the page size
//! asked for in results and [`MAX_PAGE_BYTES`] of text kept per page (the rest of an oversized page is
//! fetched by the next one, never lost), ids of at most 256 bytes, at most `catch_up_limit` messages per
//! catch-up; rooms: one track per room we are in (at most `muc::MAX_ROOMS`), [`MAX_ROOM_CATCH_UPS`] running,
//! 64 live points remembered each while waiting or running. One page's collection and trust checks are in `page`, the public types in `types`.
//!
//! **Rooms** get the same catch-up, one per room (see `Track`), started when a join of a room with an
//! archive is confirmed (`room_joined`), from the newest point the caller holds for that room
//! (`RoomCommand::Join { history }`; `None`: the room's newest page only) or, on a rejoin in the same
//! session, from where the room's last catch-up got to. Its pages are `ArchivePage`s with `archive` = the
//! room and `query` = `ArchiveQuery::RoomCatchUp`; its cursor is `RoomEvent::HistoryCursor`, its end
//! `RoomEvent::CaughtUp`, its gaps `Gap { archive: room, with: None }`, and live room messages with the
//! room's stanza-id move its cursor once it is done, as live chat messages do the account's. At most
//! [`MAX_ROOM_CATCH_UPS`] run at once (the rest wait their turn, in the order joined), apart from [`MAX_QUERIES`]. A room's archive
//! is paged by RSM ids and times only (no `#extended` form fields). Scroll-back in a room we are in reads
//! the room's archive (no `with` filter). A room left is forgotten, with its catch-up.
//!
//! What this module does not do: store anything (the events say what to keep), or decide what a transcript
//! shows (the caller shows a gap row where a [`Gap`] lies, and never joins the two sides).
//!
//! # What the caller keeps, and when
//!
//! - At start, `Config::history`: `last_id` = the stored newest archive id (the store's `mam_last_id`),
//!   `last_time` = the time of the newest stored message of any conversation; and `Config::seen` seeded
//!   with the keys of recently stored messages. After a drop, `Client::resumption` carries both (the cursor
//!   reached, whether the catch-up finished, the de-dup memory); the store's values are the same.
//! - `ArchivePage`: store every message, idempotently (by its stanza-id, which is [`ArchivedMessage::id`],
//!   and by sender + origin-id: the de-dup memory is bounded, and a time-based catch-up re-fetches a margin):
//!   conversation `with`, time `unix_ms`, from us when `outgoing` (state sent), else from `with`. A
//!   scroll-back page goes before what is shown; `complete` marks the conversation's first message, and
//!   `oldest` is the point to load before next time (also when every message of the page was a duplicate).
//! - `ArchiveCursor { id }`: store it as `mam_last_id` in the same write as the messages before it.
//! - `ArchiveGap(gap)`: keep it (`with`, `after` and `before`: ids and times of the messages around it; a
//!   `before` without a time is the live message with that stanza-id) and draw a gap row there.
//! - `GapFilled { gap, rest }`: the page before it is stored like any; replace `gap` by `rest`.
//! - `CatchingUp`: the account's catch-up is under way (said as the session goes online, before the archive's
//!   features are known; its pages, then `CaughtUp` or `ArchiveFailed`, follow). Until it is over, a
//!   conversation holding nothing should wait for it rather than ask for the archive's newest page: two streams
//!   of the same range cannot be merged by time (archives stamp whole seconds).
//! - `CaughtUp`: the catch-up is over. `ArchiveFailed`: a query gave nothing (stop its loading row; a
//!   catch-up's cursor and gap events already said what is held).
//! - Commands: `LoadOlder` when the store has nothing older in that conversation (not before: stored
//!   history needs no network), `FillGap` from a gap row (or at once for a gap across the whole archive).
//! - Rooms: `RoomEvent::HistoryCursor { room, point }`: store `point` per room with the room's messages before
//!   it, and give it back as `RoomCommand::Join { history }` (or, for rooms handed to `Config::rooms`, its id
//!   as `SavedRoom::last_stanza_id`). Pages with `archive` = a room go to that room's transcript (`with` is the
//!   room, `message.from` is `room/nick`); `RoomEvent::CaughtUp { room }` ends its loading row; gaps with
//!   `archive` = a room lie in that room's transcript.

mod page;
mod types;

use std::collections::{HashSet, VecDeque};

use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::disco::{self, DiscoInfo};
use crate::xmpp::stanza::mam::{self, Filter, Fin, MAM_EXTENDED, MAM_NS, Page, ResultRef};
use crate::xmpp::stanza::sid;
use crate::xmpp::xml::Element;

use super::dedup::SeenMessages;
use super::events::Event;
use super::muc::RoomEvent;
pub(super) use page::RoomSelf;
use page::{Collected, Entry, from_archive};
pub use types::{ArchiveError, ArchivePage, ArchiveQuery, ArchivedMessage, Gap, GapEnd, HistoryConfig, HistoryPoint};

/// Queries in flight at once (the account's catch-up included; rooms' catch-ups are bounded apart).
pub const MAX_QUERIES: usize = 4;
/// Rooms' catch-ups running at once; rooms joined beyond wait their turn.
pub const MAX_ROOM_CATCH_UPS: usize = 2;
/// Text kept per page (bodies and subjects); a page with more is cut, and the next page picks up there.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
/// Largest page asked for (servers cap it lower: Prosody at 50).
pub const MAX_PAGE_SIZE: usize = 250;
/// When the archive forgot our cursor, catch up from this long before the newest message we hold (clocks differ).
pub const STALE_CURSOR_MARGIN_MS: u64 = 5 * 60 * 1000;
/// [`STALE_CURSOR_MARGIN_MS`], for the docs.
pub const STALE_CURSOR_MARGIN: std::time::Duration = std::time::Duration::from_millis(STALE_CURSOR_MARGIN_MS);
/// Live messages remembered while a catch-up runs (to place a gap if it stops early).
const MAX_LIVE_WHILE_CATCHING_UP: usize = 512;
/// The same for a room (up to `muc::MAX_ROOMS` of them wait or run at once). Past it, a catch-up cut short
/// may report a gap that reaches further than it needs to (to a later live message); nothing is lost.
const MAX_LIVE_PER_ROOM: usize = 64;

/// A query for the session to send: `<iq type='set' to=…>` (no `to`: our own account) around `query`.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    pub to: Option<BareJid>,
    pub query: mam::Query,
}

/// What the archive offers, once disco#info answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Support {
    /// Not asked yet, or the server did not say: try plain MAM (RSM ids only).
    Unknown,
    Plain,
    /// `#extended`: `after-id`/`before-id` form fields.
    Extended,
    None,
}

/// Where the catch-up starts reading.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Start {
    After(String),
    Since(u64),
    Newest,
}

#[derive(Debug, Clone)]
struct Run {
    start: Start,
    /// The newest result fetched so far.
    last: Option<HistoryPoint>,
    /// Results so far (every page but the last brings at least one: an empty page ends the catch-up).
    fetched: usize,
    /// Set when the limit was reached: the newest page is being fetched, and the gap starts here.
    tail: Option<HistoryPoint>,
    /// Nothing came after the cursor: the archive's newest message is being fetched to check that the cursor
    /// is it (Prosody 13 answers an id it does not hold with an empty page instead of `item-not-found`).
    checking: bool,
    fell_back: bool,
}

#[derive(Debug, Clone)]
enum CatchUp {
    /// The account's: waiting for the archive's features before starting. A room's: waiting for its turn.
    Waiting,
    Running(Run),
    /// Stopped early with no live message held yet: the first one closes a gap starting here.
    Interrupted(Option<HistoryPoint>),
    /// Caught up: live messages move the cursor.
    Done,
    /// Not for this session (switched off, resumed after a catch-up, or no archive).
    Off,
}

/// One archive's catch-up and cursor: the account's own archive, or a room's. The catch-up logic is the
/// same for both; only the events that name it differ (`ArchiveCursor`/`CaughtUp`/`CatchUp` for the
/// account, `RoomEvent::HistoryCursor`/`RoomEvent::CaughtUp`/`RoomCatchUp` for a room).
#[derive(Debug, Clone)]
pub(crate) struct Track {
    archive: BareJid,
    /// A room's archive (else the account's).
    room: bool,
    /// The newest archive id held (what the last cursor event said).
    cursor: Option<String>,
    /// The newest archive time seen.
    newest_time: Option<u64>,
    /// The time of the newest message held when the catch-up was set up: where it reads from when the
    /// archive forgot the cursor.
    since: Option<u64>,
    catch_up: CatchUp,
    /// Live messages shown while the catch-up runs, not yet covered by a page, oldest first.
    live: VecDeque<HistoryPoint>,
    live_newest: Option<HistoryPoint>,
}

impl Track {
    fn new(archive: BareJid, room: bool, held: Option<HistoryPoint>, catch_up: CatchUp) -> Track {
        let (cursor, since) = match held {
            Some(p) => (p.usable_id().map(str::to_owned), p.unix_ms),
            None => (None, None),
        };
        Track { archive, room, cursor, newest_time: since, since, catch_up, live: VecDeque::new(), live_newest: None }
    }

    fn query(&self) -> ArchiveQuery {
        if self.room { ArchiveQuery::RoomCatchUp { room: self.archive.clone() } } else { ArchiveQuery::CatchUp }
    }

    fn start(&self) -> Start {
        match (&self.cursor, self.since) {
            (Some(id), _) => Start::After(id.clone()),
            (None, Some(t)) => Start::Since(t.saturating_sub(STALE_CURSOR_MARGIN_MS)),
            (None, None) => Start::Newest,
        }
    }

    fn done(&mut self, events: &mut VecDeque<Event>) {
        self.catch_up = CatchUp::Done;
        self.live.clear();
        self.live_newest = None;
        events.push_back(if self.room {
            Event::Room(RoomEvent::CaughtUp { room: self.archive.clone() })
        } else {
            Event::CaughtUp
        });
    }

    /// The cursor moves to `point` (told to the caller).
    fn advance(&mut self, point: HistoryPoint, events: &mut VecDeque<Event>) {
        let Some(id) = point.id.clone() else { return };
        if self.cursor.as_deref() == Some(id.as_str()) {
            return;
        }
        if let Some(t) = point.unix_ms {
            self.newest_time = Some(self.newest_time.map_or(t, |n| n.max(t)));
        }
        self.cursor = Some(id.clone());
        events.push_back(if self.room {
            Event::Room(RoomEvent::HistoryCursor { room: self.archive.clone(), point })
        } else {
            Event::ArchiveCursor { id }
        });
    }

    fn gap(&self, after: HistoryPoint, before: Option<HistoryPoint>) -> Event {
        Event::ArchiveGap(Gap { archive: self.archive.clone(), with: None, after, before })
    }
}

#[derive(Debug)]
struct InFlight {
    queryid: String,
    archive: BareJid,
    purpose: ArchiveQuery,
    /// Scroll-back: the point read back from (kept to ask again by its time if the archive forgot its id).
    before: Option<HistoryPoint>,
    /// Read on from an id (an RSM cursor), not from a time or an end.
    by_id: bool,
    results: Collected,
    /// The points' ids were already replaced by their times.
    fell_back: bool,
}

fn is_catch_up(purpose: &ArchiveQuery) -> bool {
    matches!(purpose, ArchiveQuery::CatchUp | ArchiveQuery::RoomCatchUp { .. })
}

/// The archive side of a session (see the module docs).
#[derive(Debug)]
pub(super) struct History {
    account: BareJid,
    config: HistoryConfig,
    /// What the account's archive offers (rooms' archives are paged by RSM ids and times only).
    support: Support,
    /// The account's track and one per room with an archive we are in (at most `muc::MAX_ROOMS`).
    tracks: Vec<Track>,
    queries: Vec<InFlight>,
    id_prefix: String,
    next_id: u64,
    outbox: Vec<Outgoing>,
}

impl History {
    pub(super) fn new(account: BareJid, mut config: HistoryConfig, id_prefix: &str) -> History {
        config.page_size = config.page_size.clamp(1, MAX_PAGE_SIZE);
        config.catch_up_page_size = config.catch_up_page_size.clamp(1, MAX_PAGE_SIZE);
        let catch_up = if config.catch_up { CatchUp::Waiting } else { CatchUp::Off };
        let held = HistoryPoint { id: config.last_id.clone(), unix_ms: config.last_time };
        History {
            tracks: vec![Track::new(account.clone(), false, Some(held), catch_up)],
            account,
            config,
            support: Support::Unknown,
            queries: Vec::new(),
            id_prefix: format!("{id_prefix}-mam"),
            next_id: 0,
            outbox: Vec::new(),
        }
    }

    /// The queries to send now, in order.
    pub(super) fn take_outgoing(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    fn own(&self) -> Option<&Track> {
        self.tracks.iter().find(|t| !t.room)
    }

    fn own_mut(&mut self) -> Option<&mut Track> {
        self.tracks.iter_mut().find(|t| !t.room)
    }

    /// `archive`'s track, taken out of the list (to work on it beside `self`), with its place: give it back
    /// with `put`.
    fn take(&mut self, archive: &BareJid) -> Option<(usize, Track)> {
        let at = self.tracks.iter().position(|t| &t.archive == archive)?;
        Some((at, self.tracks.remove(at)))
    }

    /// Puts back a track `take` took, where it was: the list keeps its order (rooms waiting their turn start in
    /// the order they were joined).
    fn put(&mut self, at: usize, track: Track) {
        self.tracks.insert(at.min(self.tracks.len()), track);
    }

    /// What the next session needs: the cursor and newest time reached, and whether the catch-up finished.
    pub(super) fn config_for_next(&self) -> HistoryConfig {
        let own = self.own();
        HistoryConfig {
            last_id: own.and_then(|t| t.cursor.clone()),
            last_time: own.and_then(|t| t.newest_time),
            caught_up: own.is_some_and(|t| matches!(t.catch_up, CatchUp::Done)),
            ..self.config.clone()
        }
    }

    /// The disco#info query to learn what the account's archive offers.
    pub(super) fn features_query() -> Element {
        disco::info_query(None)
    }

    /// The session is online (`resumed`: XEP-0198 resumed the lost session: if that one had caught up,
    /// nothing was missed). Whether to ask for the archive's features: only to catch up (without them,
    /// commands use plain RSM paging, which every archive understands).
    pub(super) fn online(&mut self, resumed: bool) -> bool {
        let caught_up = self.config.caught_up;
        let Some(own) = self.own_mut() else { return false };
        if resumed && caught_up && matches!(own.catch_up, CatchUp::Waiting) {
            own.catch_up = CatchUp::Done;
        }
        matches!(own.catch_up, CatchUp::Waiting)
    }

    /// The answer to the disco#info query (`None`: an error; then plain MAM is tried).
    pub(super) fn features(&mut self, info: Option<&Element>, events: &mut VecDeque<Event>) {
        self.support = match info.and_then(DiscoInfo::of_iq) {
            None => Support::Unknown,
            Some(info) => match (info.has_feature(MAM_NS), info.has_feature(MAM_EXTENDED)) {
                (true, true) => Support::Extended,
                (true, false) => Support::Plain,
                (false, _) => Support::None,
            },
        };
        let account = self.account.clone();
        let Some((at, mut own)) = self.take(&account) else { return };
        match (&own.catch_up, self.support) {
            (CatchUp::Waiting, Support::None) => {
                own.catch_up = CatchUp::Off;
                own.live.clear();
                events
                    .push_back(Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error: ArchiveError::Unsupported });
            }
            (CatchUp::Waiting, _) => self.start_catch_up(&mut own),
            _ => {}
        }
        self.put(at, own);
    }

    fn start_catch_up(&mut self, t: &mut Track) {
        let run = Run { start: t.start(), last: None, fetched: 0, tail: None, checking: false, fell_back: false };
        self.send_catch_up(t, &run);
        t.catch_up = CatchUp::Running(run);
    }

    // ---- rooms -------------------------------------------------------------------------------------------

    /// The join of `room`, which has an archive, is confirmed: catch up with its archive from `held` (the
    /// newest point the caller holds for it; `None`: only its newest page), or, when it was joined before in
    /// this session, from where that catch-up got to. Nothing when catching up is off.
    pub(super) fn room_joined(&mut self, room: &BareJid, held: Option<HistoryPoint>) {
        if !self.config.catch_up {
            return;
        }
        let full = self.tracks.len() > super::muc::MAX_ROOMS;
        match self.tracks.iter_mut().find(|t| &t.archive == room) {
            Some(t) if matches!(t.catch_up, CatchUp::Running(_) | CatchUp::Waiting) => return,
            Some(t) => {
                t.since = t.newest_time.or(t.since);
                t.catch_up = CatchUp::Waiting;
            }
            None if full => return,
            None => {
                let held = held.filter(|p| p.usable_id().is_some() || p.unix_ms.is_some());
                self.tracks.push(Track::new(room.clone(), true, held, CatchUp::Waiting));
            }
        }
        self.start_rooms();
    }

    /// Starts the rooms' catch-ups waiting their turn, up to [`MAX_ROOM_CATCH_UPS`] running.
    fn start_rooms(&mut self) {
        loop {
            let running = self.tracks.iter().filter(|t| t.room && matches!(t.catch_up, CatchUp::Running(_))).count();
            if running >= MAX_ROOM_CATCH_UPS {
                return;
            }
            let waiting = self.tracks.iter().find(|t| t.room && matches!(t.catch_up, CatchUp::Waiting));
            let Some(room) = waiting.map(|t| t.archive.clone()) else { return };
            let Some((at, mut t)) = self.take(&room) else { return };
            self.start_catch_up(&mut t);
            self.put(at, t);
        }
    }

    /// We are out of `room`: its catch-up and cursor are forgotten (its answers, if any come, are ignored).
    pub(super) fn room_left(&mut self, room: &BareJid) {
        self.tracks.retain(|t| !(t.room && &t.archive == room));
        self.queries.retain(|q| !matches!(&q.purpose, ArchiveQuery::RoomCatchUp { room: r } if r == room));
        self.start_rooms();
    }

    /// The newest archive id held for `room` (for the next session's rejoin), when it has a catch-up.
    pub(super) fn room_cursor(&self, room: &BareJid) -> Option<String> {
        self.tracks.iter().find(|t| t.room && &t.archive == room).and_then(|t| t.cursor.clone())
    }

    /// The rooms' tracks, for a session that may resume this one.
    pub(super) fn room_tracks(&self) -> Vec<Track> {
        self.tracks.iter().filter(|t| t.room).cloned().collect()
    }

    /// The lost session resumed (XEP-0198): still in its rooms, nothing missed since; a room's catch-up that
    /// the drop cut short goes on from where it got to.
    pub(super) fn resume_rooms(&mut self, tracks: Vec<Track>) {
        for mut t in tracks {
            if !self.tracks.iter().any(|o| o.archive == t.archive) {
                if matches!(t.catch_up, CatchUp::Interrupted(_) | CatchUp::Running(_)) {
                    t.since = t.newest_time.or(t.since);
                    t.catch_up = CatchUp::Waiting;
                }
                self.tracks.push(t);
            }
        }
        self.start_rooms();
    }

    // ---- commands ----------------------------------------------------------------------------------------

    /// Scroll-back: one page of `with`'s conversation before `before` (`None`: its newest page); `room`:
    /// `with` is a room we are in, whose own archive is read.
    pub(super) fn load_older(
        &mut self,
        with: BareJid,
        room: bool,
        before: Option<HistoryPoint>,
    ) -> Result<(), ArchiveError> {
        let archive = if room { with.clone() } else { self.account.clone() };
        let purpose = ArchiveQuery::Older { with };
        self.check_room(&purpose, room)?;
        let before = before.filter(|p| p.usable_id().is_some() || p.unix_ms.is_some());
        self.plan(archive, purpose, before, false);
        Ok(())
    }

    /// One page of `gap`, from its `from` end.
    pub(super) fn fill_gap(&mut self, gap: Gap, from: GapEnd) -> Result<(), ArchiveError> {
        let room = gap.archive != self.account;
        let purpose = ArchiveQuery::Gap { gap: gap.clone(), from };
        self.check_room(&purpose, room)?;
        self.plan(gap.archive, purpose, None, false);
        Ok(())
    }

    /// Sends the query for a scroll-back or gap page; `by_time`: with the points' times instead of their ids.
    fn plan(&mut self, archive: BareJid, purpose: ArchiveQuery, before: Option<HistoryPoint>, by_time: bool) {
        let strip = |p: &HistoryPoint| if by_time { HistoryPoint { id: None, ..p.clone() } } else { p.clone() };
        // A room's archive is the room's conversation: no `with` filter (it would name an occupant).
        let own = archive == self.account;
        let extended = own && self.support == Support::Extended;
        let (filter, page, stop) = match &purpose {
            ArchiveQuery::Older { with } => {
                let with = own.then(|| with.clone());
                let (filter, page) = read_back(extended, with, before.as_ref().map(strip).as_ref(), None);
                (filter, page, None)
            }
            ArchiveQuery::Gap { gap, from: GapEnd::Older } => {
                let (filter, page) =
                    read_on(extended, gap.with.clone(), &strip(&gap.after), gap.before.as_ref().map(strip).as_ref());
                (filter, page, gap.before.as_ref().and_then(|b| b.usable_id()).map(str::to_owned))
            }
            ArchiveQuery::Gap { gap, from: GapEnd::Newer } => {
                let (filter, page) = read_back(
                    extended,
                    gap.with.clone(),
                    gap.before.as_ref().map(strip).as_ref(),
                    Some(&strip(&gap.after)),
                );
                (filter, page, gap.after.usable_id().map(str::to_owned))
            }
            ArchiveQuery::CatchUp | ArchiveQuery::RoomCatchUp { .. } => return,
        };
        self.send(archive, purpose, filter, page, stop);
        if let Some(q) = self.queries.last_mut() {
            q.before = before;
            q.fell_back = by_time;
        }
    }

    /// `room`: the query reads a room's archive (whose support the caller checked).
    fn check_room(&self, purpose: &ArchiveQuery, room: bool) -> Result<(), ArchiveError> {
        if !room && self.support == Support::None {
            return Err(ArchiveError::Unsupported);
        }
        let busy = self.queries.iter().filter(|q| !matches!(q.purpose, ArchiveQuery::RoomCatchUp { .. })).count();
        if busy >= MAX_QUERIES || self.queries.iter().any(|q| &q.purpose == purpose) {
            return Err(ArchiveError::Busy);
        }
        Ok(())
    }

    /// The catch-up's next page: after the last page (or where it starts), or the newest page.
    fn send_catch_up(&mut self, t: &Track, run: &Run) {
        if run.checking {
            return self.send_max(t.archive.clone(), t.query(), Filter::default(), Page::Last, None, 1);
        }
        let extended = !t.room && self.support == Support::Extended;
        let (filter, page) = match (&run.tail, &run.start, &run.last) {
            (Some(_), ..) | (None, Start::Newest, _) => (Filter::default(), Page::Last),
            (None, _, Some(last)) => read_on(extended, None, last, None),
            (None, Start::After(id), None) => read_on(extended, None, &HistoryPoint::id(id.as_str()), None),
            (None, Start::Since(t), None) => read_on(extended, None, &HistoryPoint::time(*t), None),
        };
        let max = self.config.catch_up_page_size;
        self.send_max(t.archive.clone(), t.query(), filter, page, None, max);
    }

    fn send(&mut self, archive: BareJid, purpose: ArchiveQuery, filter: Filter, page: Page, stop: Option<String>) {
        self.send_max(archive, purpose, filter, page, stop, self.config.page_size);
    }

    fn send_max(
        &mut self,
        archive: BareJid,
        purpose: ArchiveQuery,
        filter: Filter,
        page: Page,
        stop: Option<String>,
        max: usize,
    ) {
        self.next_id += 1;
        let queryid = format!("{}{}", self.id_prefix, self.next_id);
        let backward = matches!(page, Page::Before(_) | Page::Last);
        let by_id = matches!(page, Page::Before(_) | Page::After(_));
        let query = mam::Query { queryid: queryid.clone(), filter, max, page };
        let to = (archive != self.account).then(|| archive.clone());
        self.outbox.push(Outgoing { to, query: query.clone() });
        self.queries.push(InFlight {
            queryid,
            archive,
            purpose,
            before: None,
            by_id,
            results: Collected::new(backward, max, stop),
            fell_back: false,
        });
    }

    // ---- what the server sends ---------------------------------------------------------------------------

    /// The archive query `queryid` reads, when it is a room's (its answers must come from the room).
    pub(super) fn room_of(&self, queryid: &str) -> Option<&BareJid> {
        self.queries.iter().find(|q| q.queryid == queryid).map(|q| &q.archive).filter(|a| **a != self.account)
    }

    /// A `<message/>` carrying a MAM `<result/>`: kept for its page when it answers one of our queries and
    /// comes from the archive asked; dropped otherwise. Never a live message either way. `me` says who we
    /// are in a room (our nick and occupant id), to tell our own archived messages.
    pub(super) fn result(&mut self, stanza: &Element, me: impl Fn(&BareJid) -> Option<RoomSelf>) {
        let Some(r) = ResultRef::of(stanza) else { return };
        let Some(q) = self.queries.iter_mut().find(|q| q.queryid == r.queryid) else { return };
        if !from_archive(stanza.attr("from"), &q.archive, &self.account) {
            return;
        }
        let entry = if q.archive == self.account {
            Entry::of(&self.account, &r)
        } else {
            Entry::of_room(&q.archive, me(&q.archive).as_ref(), &r)
        };
        q.results.push(entry);
    }

    /// The iq result ending query `queryid`.
    pub(super) fn finished(
        &mut self,
        queryid: &str,
        iq: &Element,
        seen: &mut SeenMessages,
        events: &mut VecDeque<Event>,
    ) {
        let Some(at) = self.queries.iter().position(|q| q.queryid == queryid) else { return };
        let q = self.queries.remove(at);
        if is_catch_up(&q.purpose) {
            if let Some((at, mut t)) = self.take(&q.archive) {
                self.catch_up_finished(&mut t, q, iq, seen, events);
                self.put(at, t);
            }
            return self.start_rooms();
        }
        let fin = Fin::of(iq).unwrap_or_default();
        let forgotten = q.by_id && q.results.entries.is_empty() && !q.results.reached && fin.complete;
        if forgotten && !q.fell_back && times_known(&q.purpose, q.before.as_ref()) {
            // Nothing at all from an id: Prosody 13 answers so for an id it does not hold (where others say
            // item-not-found). Asked again by the time; at a real end this costs one query and shows nothing.
            return self.plan(q.archive, q.purpose, q.before, true);
        }
        let reached = q.results.reached;
        let complete = (fin.complete && !q.results.cut) || reached;
        let (page, marks) = self.page(q.archive, q.purpose, q.results, complete, seen);
        if let (Some(t), Some(own)) = (page.newest.as_ref().and_then(|p| p.unix_ms), self.own_mut())
            && page.archive == own.archive
        {
            own.newest_time = Some(own.newest_time.map_or(t, |n| n.max(t)));
        }
        match page.query.clone() {
            ArchiveQuery::Gap { gap, from } => {
                let rest = match (&page.oldest, &page.newest) {
                    (Some(oldest), Some(newest)) if !complete => Some(match from {
                        GapEnd::Older => Gap { after: newest.clone(), ..gap.clone() },
                        GapEnd::Newer => Gap { before: Some(oldest.clone()), ..gap.clone() },
                    }),
                    // Complete, or nothing there at all: the gap is closed.
                    _ => None,
                };
                say_page(events, page, marks);
                events.push_back(Event::GapFilled { gap, rest });
            }
            _ => say_page(events, page, marks),
        }
    }

    fn catch_up_finished(
        &mut self,
        t: &mut Track,
        q: InFlight,
        iq: &Element,
        seen: &mut SeenMessages,
        events: &mut VecDeque<Event>,
    ) {
        if let CatchUp::Running(Run { checking: true, .. }) = &t.catch_up {
            // Not shown: either it is the message at the cursor, held, or it comes again with the pages by time.
            let newest = q.results.entries.back().map(|e| e.id.clone());
            return self.checked(t, newest, events);
        }
        let fin = Fin::of(iq).unwrap_or_default();
        let count = q.results.entries.len();
        let complete = fin.complete && !q.results.cut;
        // The catch-up compares its pages with the live messages held and with where its limit left off.
        let ids: HashSet<String> = q.results.entries.iter().map(|e| e.id.clone()).collect();
        let (page, marks) = self.page(q.archive, q.purpose, q.results, complete, seen);
        if let Some(time) = page.newest.as_ref().and_then(|p| p.unix_ms) {
            t.newest_time = Some(t.newest_time.map_or(time, |n| n.max(time)));
        }
        self.catch_up_page(t, page, marks, count, &ids, events);
    }

    /// The iq error (or timeout) ending query `queryid`.
    pub(super) fn failed(&mut self, queryid: &str, error: ArchiveError, events: &mut VecDeque<Event>) {
        let Some(at) = self.queries.iter().position(|q| q.queryid == queryid) else { return };
        let q = self.queries.remove(at);
        let stale = matches!(&error, ArchiveError::Stanza(e) if e.condition == "item-not-found");
        match q.purpose {
            purpose if is_catch_up(&purpose) => {
                let Some((at, mut t)) = self.take(&q.archive) else { return };
                match std::mem::replace(&mut t.catch_up, CatchUp::Off) {
                    CatchUp::Running(run)
                        if stale && run.last.is_none() && !run.fell_back && matches!(run.start, Start::After(_)) =>
                    {
                        // The archive forgot our cursor (expired, or a new server): read on by time instead.
                        self.fall_back(&mut t, run);
                    }
                    CatchUp::Running(run) => {
                        t.catch_up = CatchUp::Running(run);
                        self.interrupt(&mut t, error, events);
                    }
                    other => t.catch_up = other,
                }
                self.put(at, t);
                self.start_rooms();
            }
            purpose if stale && !q.fell_back && times_known(&purpose, q.before.as_ref()) => {
                // An id the archive does not know (expired, or another server): the same page by the times.
                self.plan(q.archive, purpose, q.before, true);
            }
            purpose => events.push_back(Event::ArchiveFailed { query: purpose, error }),
        }
    }

    /// A live message was shown; `stanza_id` is its stanza-id by our account (its id in our archive).
    pub(super) fn live(&mut self, stanza_id: &str, unix_ms: Option<u64>, events: &mut VecDeque<Event>) {
        let account = self.account.clone();
        self.live_in(&account, stanza_id, unix_ms, events);
    }

    /// A live message was shown in `archive` (our account, or a room: then `stanza_id` is by the room).
    pub(super) fn live_in(
        &mut self,
        archive: &BareJid,
        stanza_id: &str,
        unix_ms: Option<u64>,
        events: &mut VecDeque<Event>,
    ) {
        if stanza_id.is_empty() || stanza_id.len() > sid::MAX_ID {
            return;
        }
        let Some(t) = self.tracks.iter_mut().find(|t| &t.archive == archive) else { return };
        let point = HistoryPoint { id: Some(stanza_id.to_owned()), unix_ms };
        match &mut t.catch_up {
            CatchUp::Waiting | CatchUp::Running(_) => {
                let max = if t.room { MAX_LIVE_PER_ROOM } else { MAX_LIVE_WHILE_CATCHING_UP };
                if t.live.len() < max {
                    t.live.push_back(point.clone());
                }
                t.live_newest = Some(point);
            }
            CatchUp::Interrupted(after) => {
                if let Some(after) = after.take() {
                    events.push_back(t.gap(after, Some(point.clone())));
                }
                t.catch_up = CatchUp::Done;
                t.advance(point, events);
            }
            CatchUp::Done => t.advance(point, events),
            CatchUp::Off => {}
        }
    }

    /// The session ended: every query in flight failed; a catch-up cut short leaves a gap.
    pub(super) fn closed(&mut self, events: &mut VecDeque<Event>) {
        let queries = std::mem::take(&mut self.queries);
        for q in queries {
            if is_catch_up(&q.purpose) {
                self.interrupt_track(&q.archive, events);
            } else {
                events.push_back(Event::ArchiveFailed { query: q.purpose, error: ArchiveError::ConnectionLost })
            }
        }
        // Online, but the archive's features never came (or a room waited its turn): the same as cut short.
        let archives: Vec<BareJid> = self.tracks.iter().map(|t| t.archive.clone()).collect();
        for archive in archives {
            self.interrupt_track(&archive, events);
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// `archive`'s catch-up, if waiting or running, lost its connection.
    fn interrupt_track(&mut self, archive: &BareJid, events: &mut VecDeque<Event>) {
        if let Some((at, mut t)) = self.take(archive) {
            self.interrupt(&mut t, ArchiveError::ConnectionLost, events);
            self.put(at, t);
        }
    }

    fn page(
        &self,
        archive: BareJid,
        query: ArchiveQuery,
        results: Collected,
        complete: bool,
        seen: &mut SeenMessages,
    ) -> (ArchivePage, Vec<Event>) {
        let oldest = results.entries.front().map(Entry::point);
        let newest = results.entries.back().map(Entry::point);
        let mut marks = Vec::new();
        let messages = results
            .entries
            .into_iter()
            .filter_map(|e| {
                marks.extend(e.mark);
                e.message
            })
            .filter_map(|(m, keys)| (!seen.check_and_insert(keys)).then_some(m))
            .collect();
        (ArchivePage { archive, query, messages, oldest, newest, complete }, marks)
    }

    fn catch_up_page(
        &mut self,
        t: &mut Track,
        page: ArchivePage,
        marks: Vec<Event>,
        count: usize,
        ids: &HashSet<String>,
        events: &mut VecDeque<Event>,
    ) {
        let CatchUp::Running(mut run) = std::mem::replace(&mut t.catch_up, CatchUp::Off) else {
            say_page(events, page, marks);
            return;
        };
        // Live messages this page covers are no longer "after" the catch-up.
        while t.live.front().is_some_and(|p| p.id.as_ref().is_some_and(|id| ids.contains(id))) {
            t.live.pop_front();
        }
        let complete = page.complete;
        let oldest = page.oldest.clone();
        let newest = page.newest.clone();
        say_page(events, page, marks);
        if let Some(n) = &newest {
            t.advance(n.clone(), events);
        }
        if let Some(gap_from) = run.tail.take() {
            // The newest page reaches back to where the limit stopped: nothing in between.
            let overlaps = gap_from.id.as_ref().is_some_and(|id| ids.contains(id));
            if let (false, Some(oldest)) = (overlaps, oldest) {
                events.push_back(t.gap(gap_from, Some(oldest)));
            }
            return t.done(events);
        }
        run.fetched += count;
        if newest.is_some() {
            run.last = newest;
        }
        if run.last.is_none() && matches!(run.start, Start::After(_)) && !run.fell_back {
            // Nothing after the cursor: so it must be the archive's newest message. Check it.
            run.checking = true;
            self.send_catch_up(t, &run);
            t.catch_up = CatchUp::Running(run);
            return;
        }
        if complete || run.start == Start::Newest || run.last.is_none() {
            return t.done(events);
        }
        if run.fetched >= self.config.catch_up_limit {
            run.tail = run.last.clone();
        }
        self.send_catch_up(t, &run);
        t.catch_up = CatchUp::Running(run);
    }

    /// The archive does not know the catch-up's cursor: read on from the newest time held instead (or, with
    /// none, take the newest page, as a new device does).
    fn fall_back(&mut self, t: &mut Track, mut run: Run) {
        run.fell_back = true;
        run.checking = false;
        run.start = match t.since {
            Some(time) => Start::Since(time.saturating_sub(STALE_CURSOR_MARGIN_MS)),
            None => Start::Newest,
        };
        self.send_catch_up(t, &run);
        t.catch_up = CatchUp::Running(run);
    }

    /// The answer to the check of an empty first page: `newest`, the archive's newest id.
    fn checked(&mut self, t: &mut Track, newest: Option<String>, events: &mut VecDeque<Event>) {
        let CatchUp::Running(run) = std::mem::replace(&mut t.catch_up, CatchUp::Off) else { return };
        let at_cursor = match (&run.start, &newest) {
            (Start::After(cursor), Some(newest)) => cursor == newest,
            // An empty archive has nothing to catch up with, whatever the cursor.
            (_, None) => true,
            _ => false,
        };
        if at_cursor { t.done(events) } else { self.fall_back(t, run) }
    }

    /// The catch-up (waiting or running) stopped early (`error`): see the module docs.
    fn interrupt(&mut self, t: &mut Track, error: ArchiveError, events: &mut VecDeque<Event>) {
        let last = match std::mem::replace(&mut t.catch_up, CatchUp::Off) {
            CatchUp::Running(run) => run.last,
            CatchUp::Waiting => None,
            other => {
                t.catch_up = other;
                return;
            }
        };
        events.push_back(Event::ArchiveFailed { query: t.query(), error });
        let held = last.or_else(|| {
            (t.cursor.is_some() || t.since.is_some()).then(|| HistoryPoint { id: t.cursor.clone(), unix_ms: t.since })
        });
        let newest = t.live_newest.take();
        match (t.live.pop_front(), newest) {
            (Some(first), Some(newest)) => {
                // Live messages came that no page covered: the gap is between the pages and the first of them.
                if let Some(after) = held {
                    events.push_back(t.gap(after, Some(first)));
                }
                t.catch_up = CatchUp::Done;
                t.advance(newest, events);
            }
            _ => t.catch_up = CatchUp::Interrupted(held),
        }
        t.live.clear();
    }
}

/// Filter and page reading forward from `after` (exclusive), up to `until` when given. The id read from is
/// always an RSM cursor; `#extended` ids (`extended`: the archive has them) only bound the far end (see the
/// module docs).
fn read_on(
    extended: bool,
    with: Option<BareJid>,
    after: &HistoryPoint,
    until: Option<&HistoryPoint>,
) -> (Filter, Page) {
    let mut filter = Filter { with, ..Filter::default() };
    let page = match after.usable_id() {
        Some(id) => Page::After(id.to_owned()),
        None => {
            filter.start = after.unix_ms;
            Page::First
        }
    };
    if let Some(until) = until {
        match until.usable_id() {
            Some(id) if extended => filter.before_id = Some(id.to_owned()),
            _ => filter.end = until.unix_ms.map(end_of_millisecond),
        }
    }
    (filter, page)
}

/// Filter and page reading backward from `before` (exclusive; `None`: the newest), down to `since`; the id
/// read from is an RSM cursor, as in `read_on`.
fn read_back(
    extended: bool,
    with: Option<BareJid>,
    before: Option<&HistoryPoint>,
    since: Option<&HistoryPoint>,
) -> (Filter, Page) {
    let mut filter = Filter { with, ..Filter::default() };
    let page = match before {
        None => Page::Last,
        Some(b) => match b.usable_id() {
            Some(id) => Page::Before(id.to_owned()),
            None => {
                filter.end = b.unix_ms.map(end_of_millisecond);
                Page::Last
            }
        },
    };
    if let Some(since) = since {
        match since.usable_id() {
            Some(id) if extended => filter.after_id = Some(id.to_owned()),
            _ => filter.start = since.unix_ms,
        }
    }
    (filter, page)
}

/// An inclusive `end` that covers all of millisecond `t`: archives stamp finer (ejabberd and Prosody 13:
/// microseconds), and a message at `t.704` must not fall outside `end = t`. The message at `t + 1` that may
/// come too is held already or new; either way nothing is lost (duplicates are dropped).
fn end_of_millisecond(t: u64) -> u64 {
    t.saturating_add(1)
}

/// Whether the page `purpose` asked by ids can be asked by times: every point it reads from has one.
fn times_known(purpose: &ArchiveQuery, before: Option<&HistoryPoint>) -> bool {
    match purpose {
        ArchiveQuery::Older { .. } => before.is_some_and(|b| b.unix_ms.is_some()),
        ArchiveQuery::Gap { gap, .. } => {
            gap.after.unix_ms.is_some() && gap.before.as_ref().is_none_or(|b| b.unix_ms.is_some())
        }
        ArchiveQuery::CatchUp | ArchiveQuery::RoomCatchUp { .. } => false,
    }
}

/// A page's event, then the receipts and markers among its results (after it: they are about its messages).
fn say_page(events: &mut VecDeque<Event>, page: ArchivePage, marks: Vec<Event>) {
    events.push_back(Event::ArchivePage(page));
    events.extend(marks);
}
