//! The history's public types: what the caller gives (`HistoryConfig`, `HistoryPoint`), what the events carry
//! (`ArchivePage`, `ArchivedMessage`, `Gap`, `ArchiveQuery`, `ArchiveError`) and what the commands take
//! (`Gap`, `GapEnd`). Plain data: the logic is in the parent module.

use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::error::StanzaError;
use crate::xmpp::stanza::message::Message;
use crate::xmpp::stanza::sid;

use super::MAX_PAGE_SIZE;

/// What the caller tells the session about the history it holds (from its store), and the catch-up's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    /// The newest archive id of the account's archive this device holds: the last `ArchiveCursor` event's.
    pub last_id: Option<String>,
    /// The time (ms since the Unix epoch, UTC) of the newest message this device holds, if any: where the
    /// catch-up starts when the archive no longer knows `last_id`.
    pub last_time: Option<u64>,
    /// Catch up at all when online (off: only what the commands ask).
    pub catch_up: bool,
    /// Results asked for per page of scroll-back and gaps (1..=250; servers may send fewer: Prosody at most 50).
    pub page_size: usize,
    /// Results asked for per page of the catch-up (1..=250): fewer round trips where the server allows
    /// (ejabberd sends 250; Prosody 50 whatever is asked).
    pub catch_up_page_size: usize,
    /// At most this many messages paged through by one catch-up; beyond, the newest page and a gap.
    pub catch_up_limit: usize,
    /// The lost session had caught up: when it is resumed (XEP-0198), nothing was missed and no catch-up runs.
    pub caught_up: bool,
}

impl Default for HistoryConfig {
    fn default() -> HistoryConfig {
        HistoryConfig {
            last_id: None,
            last_time: None,
            catch_up: true,
            page_size: 50,
            catch_up_page_size: MAX_PAGE_SIZE,
            catch_up_limit: 5_000,
            caught_up: false,
        }
    }
}

/// A place in an archive: a message the caller holds, by its archive id (its stanza-id) and/or its time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryPoint {
    pub id: Option<String>,
    /// Milliseconds since the Unix epoch, UTC.
    pub unix_ms: Option<u64>,
}

impl HistoryPoint {
    pub fn id(id: impl Into<String>) -> HistoryPoint {
        HistoryPoint { id: Some(id.into()), unix_ms: None }
    }

    pub fn time(unix_ms: u64) -> HistoryPoint {
        HistoryPoint { id: None, unix_ms: Some(unix_ms) }
    }

    pub(super) fn usable_id(&self) -> Option<&str> {
        self.id.as_deref().filter(|id| !id.is_empty() && id.len() <= sid::MAX_ID)
    }
}

/// A message from an archive, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedMessage {
    /// The archive's id of it: its stanza-id (by our account for the account's archive, by the room for a
    /// room's: the same as `RoomMessage::message.stanza_id` of its live copy). Store it as such.
    pub id: String,
    /// When the archive got it (ms since the Unix epoch, UTC), from its XEP-0203 stamp; `None` only when the
    /// server gave none that reads (both test servers always do): then order it by its place in the page.
    pub unix_ms: Option<u64>,
    /// The conversation: the other side's bare JID; for a room's archive, the room.
    pub with: BareJid,
    /// Sent by us (from any of our devices). In a room: by our XEP-0421 occupant id where the room stamps
    /// them, else by our nick as it is now (see `mam::RoomSelf` for the limits).
    pub outgoing: bool,
    /// The message as it was sent (`delay` holds the archive's stamp). In a room, `from` is `room/nick` (the
    /// bare room for the room's own messages).
    pub message: Message,
}

/// A range of an archive this device does not hold, between two messages it does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gap {
    /// Whose archive: our account (one-to-one) or a room (then `with` is `None`: the room's one conversation).
    pub archive: BareJid,
    /// The conversation it lies in; `None`: all of the archive's conversations.
    pub with: Option<BareJid>,
    /// The newest message held before the gap.
    pub after: HistoryPoint,
    /// The oldest message held after it; `None`: up to the present.
    pub before: Option<HistoryPoint>,
}

/// Which end of a gap to fetch a page from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GapEnd {
    /// The oldest missing messages first (reads on from `after`).
    Older,
    /// The newest missing messages first (reads back from `before`).
    Newer,
}

/// What a page of archive results was fetched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveQuery {
    /// The catch-up at login.
    CatchUp,
    /// Scroll-back: older messages of one conversation (a room's from the room's archive).
    Older { with: BareJid },
    /// A page of a gap.
    Gap { gap: Gap, from: GapEnd },
    /// A room's catch-up once its join is confirmed (the page's `archive` is the room).
    RoomCatchUp { room: BareJid },
}

/// One page of archive results.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivePage {
    pub archive: BareJid,
    pub query: ArchiveQuery,
    /// The messages not shown before (live or in an earlier page), oldest first.
    pub messages: Vec<ArchivedMessage>,
    /// The oldest and newest result of the page (shown before or not, with a body or not); `None` when
    /// the page was empty. For scroll-back, `oldest` is the point to load before next time.
    pub oldest: Option<HistoryPoint>,
    pub newest: Option<HistoryPoint>,
    /// Nothing more in the direction paged: for scroll-back, the conversation's first message was reached.
    pub complete: bool,
}

/// Why an archive query gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// The server keeps no archive for this account (no `urn:xmpp:mam:2`).
    Unsupported,
    /// The server refused or failed the query.
    Stanza(StanzaError),
    /// No answer in time.
    Timeout,
    /// A page of this conversation or gap is already on its way, or too many queries are (at most
    /// [`MAX_QUERIES`](super::MAX_QUERIES)); ask again when it has come.
    Busy,
    /// The session ended before the answer.
    ConnectionLost,
}

impl ArchiveError {
    /// Words a person understands.
    pub fn describe(&self) -> String {
        match self {
            ArchiveError::Unsupported => "the server keeps no message history".into(),
            ArchiveError::Stanza(e) => format!("the server could not load the history: {}", e.describe()),
            ArchiveError::Timeout => "the server did not send the history in time".into(),
            ArchiveError::Busy => "the history is still loading".into(),
            ArchiveError::ConnectionLost => "the connection was lost while loading the history".into(),
        }
    }
}
