//! History from the server's archive (XEP-0313 MAM): catch-up at login, scroll-back, and gaps.
//!
//! The session owns one `History`; it feeds it MAM results, the answers to its queries and the live
//! messages it shows, and sends the queries it asks for. Everything here is about one archive at a time,
//! named by its JID: the account's own archive for one-to-one chats (results must come without `from` or
//! from our bare JID), a room's archive later (results from the room's JID). A result with an unknown
//! `queryid`, or from anyone but the archive asked, is dropped; so is anything beyond a page's bounds.
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
//! earlier page are left out), followed by an `ArchiveCursor` event: the caller stores the page's messages
//! and the cursor together. Once the catch-up is done, every live message stamped with a stanza-id by our
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
//! catch-up. One page's collection and trust checks are in `page`, the public types in `types`.
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
//! - `CaughtUp`: the catch-up is over. `ArchiveFailed`: a query gave nothing (stop its loading row; a
//!   catch-up's cursor and gap events already said what is held).
//! - Commands: `LoadOlder` when the store has nothing older in that conversation (not before: stored
//!   history needs no network), `FillGap` from a gap row (or at once for a gap across the whole archive).

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
use page::{Collected, Entry, from_archive};
pub use types::{ArchiveError, ArchivePage, ArchiveQuery, ArchivedMessage, Gap, GapEnd, HistoryConfig, HistoryPoint};

/// Queries in flight at once (the catch-up's included).
pub const MAX_QUERIES: usize = 4;
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
    /// Waiting for the archive's features before starting.
    Waiting,
    Running(Run),
    /// Stopped early with no live message held yet: the first one closes a gap starting here.
    Interrupted(Option<HistoryPoint>),
    /// Caught up: live messages move the cursor.
    Done,
    /// Not for this session (switched off, resumed after a catch-up, or no archive).
    Off,
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

/// The archive side of a session (see the module docs).
#[derive(Debug)]
pub(super) struct History {
    account: BareJid,
    config: HistoryConfig,
    support: Support,
    /// The newest archive id of the account's archive held (what `ArchiveCursor` last said).
    cursor: Option<String>,
    /// The newest archive time seen, for the next session's `last_time`.
    newest_time: Option<u64>,
    catch_up: CatchUp,
    /// Live messages shown while the catch-up runs, not yet covered by a page, oldest first.
    live: VecDeque<HistoryPoint>,
    live_newest: Option<HistoryPoint>,
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
        History {
            cursor: config.last_id.clone().filter(|id| !id.is_empty() && id.len() <= sid::MAX_ID),
            newest_time: config.last_time,
            account,
            config,
            support: Support::Unknown,
            catch_up,
            live: VecDeque::new(),
            live_newest: None,
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

    /// What the next session needs: the cursor and newest time reached, and whether the catch-up finished.
    pub(super) fn config_for_next(&self) -> HistoryConfig {
        HistoryConfig {
            last_id: self.cursor.clone(),
            last_time: self.newest_time,
            caught_up: matches!(self.catch_up, CatchUp::Done),
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
        if resumed && self.config.caught_up && matches!(self.catch_up, CatchUp::Waiting) {
            self.catch_up = CatchUp::Done;
        }
        matches!(self.catch_up, CatchUp::Waiting)
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
        if !matches!(self.catch_up, CatchUp::Waiting) {
            return;
        }
        if self.support == Support::None {
            self.catch_up = CatchUp::Off;
            self.live.clear();
            events.push_back(Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error: ArchiveError::Unsupported });
            return;
        }
        let start = match (&self.cursor, self.config.last_time) {
            (Some(id), _) => Start::After(id.clone()),
            (None, Some(t)) => Start::Since(t.saturating_sub(STALE_CURSOR_MARGIN_MS)),
            (None, None) => Start::Newest,
        };
        let run = Run { start, last: None, fetched: 0, tail: None, checking: false, fell_back: false };
        self.send_catch_up(&run);
        self.catch_up = CatchUp::Running(run);
    }

    // ---- commands ----------------------------------------------------------------------------------------

    /// Scroll-back: one page of `with`'s conversation before `before` (`None`: its newest page).
    pub(super) fn load_older(&mut self, with: BareJid, before: Option<HistoryPoint>) -> Result<(), ArchiveError> {
        let purpose = ArchiveQuery::Older { with };
        self.check_room(&purpose)?;
        let before = before.filter(|p| p.usable_id().is_some() || p.unix_ms.is_some());
        self.plan(self.account.clone(), purpose, before, false);
        Ok(())
    }

    /// One page of `gap`, from its `from` end.
    pub(super) fn fill_gap(&mut self, gap: Gap, from: GapEnd) -> Result<(), ArchiveError> {
        let purpose = ArchiveQuery::Gap { gap: gap.clone(), from };
        self.check_room(&purpose)?;
        self.plan(gap.archive, purpose, None, false);
        Ok(())
    }

    /// Sends the query for a scroll-back or gap page; `by_time`: with the points' times instead of their ids.
    fn plan(&mut self, archive: BareJid, purpose: ArchiveQuery, before: Option<HistoryPoint>, by_time: bool) {
        let strip = |p: &HistoryPoint| if by_time { HistoryPoint { id: None, ..p.clone() } } else { p.clone() };
        let (filter, page, stop) = match &purpose {
            ArchiveQuery::Older { with } => {
                let (filter, page) = self.read_back(Some(with.clone()), before.as_ref().map(strip).as_ref(), None);
                (filter, page, None)
            }
            ArchiveQuery::Gap { gap, from: GapEnd::Older } => {
                let (filter, page) =
                    self.read_on(gap.with.clone(), &strip(&gap.after), gap.before.as_ref().map(strip).as_ref());
                (filter, page, gap.before.as_ref().and_then(|b| b.usable_id()).map(str::to_owned))
            }
            ArchiveQuery::Gap { gap, from: GapEnd::Newer } => {
                let (filter, page) =
                    self.read_back(gap.with.clone(), gap.before.as_ref().map(strip).as_ref(), Some(&strip(&gap.after)));
                (filter, page, gap.after.usable_id().map(str::to_owned))
            }
            ArchiveQuery::CatchUp => return,
        };
        self.send(archive, purpose, filter, page, stop);
        if let Some(q) = self.queries.last_mut() {
            q.before = before;
            q.fell_back = by_time;
        }
    }

    fn check_room(&self, purpose: &ArchiveQuery) -> Result<(), ArchiveError> {
        if self.support == Support::None {
            return Err(ArchiveError::Unsupported);
        }
        if self.queries.len() >= MAX_QUERIES || self.queries.iter().any(|q| &q.purpose == purpose) {
            return Err(ArchiveError::Busy);
        }
        Ok(())
    }

    /// Filter and page reading forward from `after` (exclusive), up to `until` when given. The id read from
    /// is always an RSM cursor; `#extended` ids only bound the far end (see the module docs).
    fn read_on(&self, with: Option<BareJid>, after: &HistoryPoint, until: Option<&HistoryPoint>) -> (Filter, Page) {
        let extended = self.support == Support::Extended;
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

    /// Filter and page reading backward from `before` (exclusive; `None`: the newest), down to `since`; the
    /// id read from is an RSM cursor, as in `read_on`.
    fn read_back(
        &self,
        with: Option<BareJid>,
        before: Option<&HistoryPoint>,
        since: Option<&HistoryPoint>,
    ) -> (Filter, Page) {
        let extended = self.support == Support::Extended;
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

    /// The catch-up's next page: after the last page (or where it starts), or the newest page.
    fn send_catch_up(&mut self, run: &Run) {
        if run.checking {
            return self.send_max(self.account.clone(), ArchiveQuery::CatchUp, Filter::default(), Page::Last, None, 1);
        }
        let (filter, page) = match (&run.tail, &run.start, &run.last) {
            (Some(_), ..) | (None, Start::Newest, _) => (Filter::default(), Page::Last),
            (None, _, Some(last)) => self.read_on(None, last, None),
            (None, Start::After(id), None) => self.read_on(None, &HistoryPoint::id(id.as_str()), None),
            (None, Start::Since(t), None) => self.read_on(None, &HistoryPoint::time(*t), None),
        };
        let max = self.config.catch_up_page_size;
        self.send_max(self.account.clone(), ArchiveQuery::CatchUp, filter, page, None, max);
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

    /// A `<message/>` carrying a MAM `<result/>`: kept for its page when it answers one of our queries and
    /// comes from the archive asked; dropped otherwise. Never a live message either way.
    pub(super) fn result(&mut self, stanza: &Element) {
        let Some(r) = ResultRef::of(stanza) else { return };
        let Some(q) = self.queries.iter_mut().find(|q| q.queryid == r.queryid) else { return };
        if from_archive(stanza.attr("from"), &q.archive, &self.account) {
            q.results.push(Entry::of(&self.account, &r));
        }
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
        if let (ArchiveQuery::CatchUp, CatchUp::Running(Run { checking: true, .. })) = (&q.purpose, &self.catch_up) {
            // Not shown: either it is the message at the cursor, held, or it comes again with the pages by time.
            let newest = q.results.entries.back().map(|e| e.id.clone());
            return self.checked(newest, events);
        }
        let fin = Fin::of(iq).unwrap_or_default();
        let forgotten = q.by_id && q.results.entries.is_empty() && !q.results.reached && fin.complete;
        if forgotten && !q.fell_back && times_known(&q.purpose, q.before.as_ref()) {
            // Nothing at all from an id: Prosody 13 answers so for an id it does not hold (where others say
            // item-not-found). Asked again by the time; at a real end this costs one query and shows nothing.
            return self.plan(q.archive, q.purpose, q.before, true);
        }
        let reached = q.results.reached;
        let count = q.results.entries.len();
        let complete = (fin.complete && !q.results.cut) || reached;
        // The catch-up compares its pages with the live messages held and with where its limit left off.
        let ids: HashSet<String> = match q.purpose {
            ArchiveQuery::CatchUp => q.results.entries.iter().map(|e| e.id.clone()).collect(),
            _ => HashSet::new(),
        };
        let page = self.page(q.archive, q.purpose, q.results, complete, seen);
        if let Some(t) = page.newest.as_ref().and_then(|p| p.unix_ms) {
            self.newest_time = Some(self.newest_time.map_or(t, |n| n.max(t)));
        }
        match page.query.clone() {
            ArchiveQuery::CatchUp => self.catch_up_page(page, count, &ids, events),
            ArchiveQuery::Older { .. } => events.push_back(Event::ArchivePage(page)),
            ArchiveQuery::Gap { gap, from } => {
                let rest = match (&page.oldest, &page.newest) {
                    (Some(oldest), Some(newest)) if !complete => Some(match from {
                        GapEnd::Older => Gap { after: newest.clone(), ..gap.clone() },
                        GapEnd::Newer => Gap { before: Some(oldest.clone()), ..gap.clone() },
                    }),
                    // Complete, or nothing there at all: the gap is closed.
                    _ => None,
                };
                events.push_back(Event::ArchivePage(page));
                events.push_back(Event::GapFilled { gap, rest });
            }
        }
    }

    /// The iq error (or timeout) ending query `queryid`.
    pub(super) fn failed(&mut self, queryid: &str, error: ArchiveError, events: &mut VecDeque<Event>) {
        let Some(at) = self.queries.iter().position(|q| q.queryid == queryid) else { return };
        let q = self.queries.remove(at);
        let stale = matches!(&error, ArchiveError::Stanza(e) if e.condition == "item-not-found");
        match q.purpose {
            ArchiveQuery::CatchUp => {
                let CatchUp::Running(run) = std::mem::replace(&mut self.catch_up, CatchUp::Off) else { return };
                if stale && run.last.is_none() && !run.fell_back && matches!(run.start, Start::After(_)) {
                    // The archive forgot our cursor (expired, or a new server): read on by time instead.
                    return self.fall_back(run);
                }
                self.catch_up = CatchUp::Running(run);
                self.interrupt(error, events);
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
        if stanza_id.is_empty() || stanza_id.len() > sid::MAX_ID {
            return;
        }
        let point = HistoryPoint { id: Some(stanza_id.to_owned()), unix_ms };
        match &mut self.catch_up {
            CatchUp::Waiting | CatchUp::Running(_) => {
                if self.live.len() < MAX_LIVE_WHILE_CATCHING_UP {
                    self.live.push_back(point.clone());
                }
                self.live_newest = Some(point);
            }
            CatchUp::Interrupted(after) => {
                if let Some(after) = after.take() {
                    let gap = Gap { archive: self.account.clone(), with: None, after, before: Some(point.clone()) };
                    events.push_back(Event::ArchiveGap(gap));
                }
                self.catch_up = CatchUp::Done;
                self.advance(point, events);
            }
            CatchUp::Done => self.advance(point, events),
            CatchUp::Off => {}
        }
    }

    /// The session ended: every query in flight failed; a catch-up cut short leaves a gap.
    pub(super) fn closed(&mut self, events: &mut VecDeque<Event>) {
        let queries = std::mem::take(&mut self.queries);
        for q in queries {
            match q.purpose {
                ArchiveQuery::CatchUp => self.interrupt(ArchiveError::ConnectionLost, events),
                purpose => {
                    events.push_back(Event::ArchiveFailed { query: purpose, error: ArchiveError::ConnectionLost })
                }
            }
        }
        // Online, but the archive's features never came: the same as a catch-up cut short.
        self.interrupt(ArchiveError::ConnectionLost, events);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    fn page(
        &self,
        archive: BareJid,
        query: ArchiveQuery,
        results: Collected,
        complete: bool,
        seen: &mut SeenMessages,
    ) -> ArchivePage {
        let oldest = results.entries.front().map(Entry::point);
        let newest = results.entries.back().map(Entry::point);
        let messages = results
            .entries
            .into_iter()
            .filter_map(|e| e.message)
            .filter_map(|(m, keys)| (!seen.check_and_insert(keys)).then_some(m))
            .collect();
        ArchivePage { archive, query, messages, oldest, newest, complete }
    }

    fn catch_up_page(&mut self, page: ArchivePage, count: usize, ids: &HashSet<String>, events: &mut VecDeque<Event>) {
        let CatchUp::Running(mut run) = std::mem::replace(&mut self.catch_up, CatchUp::Off) else {
            events.push_back(Event::ArchivePage(page));
            return;
        };
        // Live messages this page covers are no longer "after" the catch-up.
        while self.live.front().is_some_and(|p| p.id.as_ref().is_some_and(|id| ids.contains(id))) {
            self.live.pop_front();
        }
        let complete = page.complete;
        let oldest = page.oldest.clone();
        let newest = page.newest.clone();
        events.push_back(Event::ArchivePage(page));
        if let Some(n) = &newest {
            self.advance(n.clone(), events);
        }
        if let Some(gap_from) = run.tail.take() {
            // The newest page reaches back to where the limit stopped: nothing in between.
            let overlaps = gap_from.id.as_ref().is_some_and(|id| ids.contains(id));
            if let (false, Some(oldest)) = (overlaps, oldest) {
                let gap = Gap { archive: self.account.clone(), with: None, after: gap_from, before: Some(oldest) };
                events.push_back(Event::ArchiveGap(gap));
            }
            return self.done(events);
        }
        run.fetched += count;
        if newest.is_some() {
            run.last = newest;
        }
        if run.last.is_none() && matches!(run.start, Start::After(_)) && !run.fell_back {
            // Nothing after the cursor: so it must be the archive's newest message. Check it.
            run.checking = true;
            self.send_catch_up(&run);
            self.catch_up = CatchUp::Running(run);
            return;
        }
        if complete || run.start == Start::Newest || run.last.is_none() {
            return self.done(events);
        }
        if run.fetched >= self.config.catch_up_limit {
            run.tail = run.last.clone();
        }
        self.send_catch_up(&run);
        self.catch_up = CatchUp::Running(run);
    }

    /// The archive does not know the catch-up's cursor: read on from the newest time held instead (or, with
    /// none, take the newest page, as a new device does).
    fn fall_back(&mut self, mut run: Run) {
        run.fell_back = true;
        run.checking = false;
        run.start = match self.config.last_time {
            Some(t) => Start::Since(t.saturating_sub(STALE_CURSOR_MARGIN_MS)),
            None => Start::Newest,
        };
        self.send_catch_up(&run);
        self.catch_up = CatchUp::Running(run);
    }

    /// The answer to the check of an empty first page: `newest`, the archive's newest id.
    fn checked(&mut self, newest: Option<String>, events: &mut VecDeque<Event>) {
        let CatchUp::Running(run) = std::mem::replace(&mut self.catch_up, CatchUp::Off) else { return };
        let at_cursor = match (&run.start, &newest) {
            (Start::After(cursor), Some(newest)) => cursor == newest,
            // An empty archive has nothing to catch up with, whatever the cursor.
            (_, None) => true,
            _ => false,
        };
        if at_cursor { self.done(events) } else { self.fall_back(run) }
    }

    /// The catch-up (waiting or running) stopped early (`error`): see the module docs.
    fn interrupt(&mut self, error: ArchiveError, events: &mut VecDeque<Event>) {
        let last = match std::mem::replace(&mut self.catch_up, CatchUp::Off) {
            CatchUp::Running(run) => run.last,
            CatchUp::Waiting => None,
            other => {
                self.catch_up = other;
                return;
            }
        };
        events.push_back(Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error });
        let held = last.or_else(|| {
            (self.cursor.is_some() || self.config.last_time.is_some())
                .then(|| HistoryPoint { id: self.cursor.clone(), unix_ms: self.config.last_time })
        });
        let newest = self.live_newest.take();
        match (self.live.pop_front(), newest) {
            (Some(first), Some(newest)) => {
                // Live messages came that no page covered: the gap is between the pages and the first of them.
                if let Some(after) = held {
                    events.push_back(Event::ArchiveGap(Gap {
                        archive: self.account.clone(),
                        with: None,
                        after,
                        before: Some(first),
                    }));
                }
                self.catch_up = CatchUp::Done;
                self.advance(newest, events);
            }
            _ => self.catch_up = CatchUp::Interrupted(held),
        }
        self.live.clear();
    }

    fn done(&mut self, events: &mut VecDeque<Event>) {
        self.catch_up = CatchUp::Done;
        self.live.clear();
        self.live_newest = None;
        events.push_back(Event::CaughtUp);
    }

    /// The cursor moves to `point` (told to the caller).
    fn advance(&mut self, point: HistoryPoint, events: &mut VecDeque<Event>) {
        let Some(id) = point.id else { return };
        if self.cursor.as_deref() == Some(id.as_str()) {
            return;
        }
        if let Some(t) = point.unix_ms {
            self.newest_time = Some(self.newest_time.map_or(t, |n| n.max(t)));
        }
        self.cursor = Some(id.clone());
        events.push_back(Event::ArchiveCursor { id });
    }
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
        ArchiveQuery::CatchUp => false,
    }
}
