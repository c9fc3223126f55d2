//! The records kept per account, the writes ([`Op`]) and what reads return ([`Snapshot`], [`Page`]).
//!
//! Plain data, no signals and no browser types: the UI builds [`Op`]s from core events and turns a [`Snapshot`]
//! into its signals. Times are milliseconds since the Unix epoch (UTC), as the UI's `Date.now()` gives them.
//! The roster reuses the core's [`RosterItem`], so what the core parses is what is stored.

use crate::xmpp::client::HistoryPoint;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::roster::RosterItem;

/// A message's place in its account's store: assigned by the store, increasing in insertion order. Together
/// with the time it orders a transcript (two messages with the same time keep the order they were stored in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKey(pub u64);

/// A point in a transcript to page back from: [`crate::storage::Store::page_before`] returns what is older.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePoint {
    pub time: i64,
    pub key: MessageKey,
}

/// The small values of the `meta` store that the UI reads and writes (the schema version is the store's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaKey {
    /// The roster version (RFC 6121 §2.6) of the stored roster.
    RosterVer,
    /// The newest archive id (XEP-0313) of the account's archive this device has.
    MamLastId,
    /// This device's user-agent id (XEP-0388).
    DeviceId,
    /// The FAST token (XEP-0484), when the server issues one.
    FastToken,
}

impl MetaKey {
    pub const ALL: [MetaKey; 4] = [MetaKey::RosterVer, MetaKey::MamLastId, MetaKey::DeviceId, MetaKey::FastToken];

    /// The key it is stored under.
    pub fn name(self) -> &'static str {
        match self {
            MetaKey::RosterVer => "roster_ver",
            MetaKey::MamLastId => "mam_last_id",
            MetaKey::DeviceId => "device_id",
            MetaKey::FastToken => "fast_token",
        }
    }

    pub fn from_name(name: &str) -> Option<MetaKey> {
        MetaKey::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The `meta` values, as read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub roster_ver: Option<String>,
    pub mam_last_id: Option<String>,
    pub device_id: Option<String>,
    pub fast_token: Option<String>,
}

impl Meta {
    pub fn get(&self, key: MetaKey) -> Option<&str> {
        match key {
            MetaKey::RosterVer => self.roster_ver.as_deref(),
            MetaKey::MamLastId => self.mam_last_id.as_deref(),
            MetaKey::DeviceId => self.device_id.as_deref(),
            MetaKey::FastToken => self.fast_token.as_deref(),
        }
    }

    pub fn set(&mut self, key: MetaKey, value: Option<String>) {
        let slot = match key {
            MetaKey::RosterVer => &mut self.roster_ver,
            MetaKey::MamLastId => &mut self.mam_last_id,
            MetaKey::DeviceId => &mut self.device_id,
            MetaKey::FastToken => &mut self.fast_token,
        };
        *slot = value;
    }
}

/// What a conversation is with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConversationKind {
    /// One-to-one.
    #[default]
    Chat,
    /// A room (XEP-0045).
    Groupchat,
}

/// A conversation's own state (its messages are separate records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    pub jid: BareJid,
    pub kind: ConversationKind,
    /// The time of the newest message the person has seen (`None`: none yet). A time rather than a message
    /// key, because the newest message is often one that arrived live and has no key on the UI's side.
    pub last_read: Option<i64>,
    pub unread: u32,
    /// A room's: how many of the `unread` messages mention our nick (XEP-0045 mentions, counted apart).
    pub mentions: u32,
    /// The time of our newest message in it that the peer marked displayed (XEP-0333): a marker counts for
    /// every earlier message too, so each of ours stored at or before this time shows as read
    /// ([`ConversationRecord::shown_state`]) — kept here once rather than written into every earlier message.
    pub peer_read: Option<i64>,
    /// What is typed and not sent.
    pub draft: String,
    /// When something last happened in it (orders the conversation list and picks the snapshot's pages).
    pub last_activity: i64,
    /// Our nickname in a room: the one last used there.
    pub nick: Option<String>,
    /// A room's: the newest point of its archive this device holds (the core's last `HistoryCursor`), given
    /// back when joining it so that the catch-up starts there.
    pub history: Option<HistoryPoint>,
    /// A room's: we were in it when last heard of (joined, not left): a new page joins it again.
    pub joined: bool,
}

impl ConversationRecord {
    /// The state to show for a stored message of this conversation: our sent or delivered message at or before
    /// the point the peer read up to ([`ConversationRecord::peer_read`]) is read.
    pub fn shown_state(&self, message: &MessageRecord) -> MessageState {
        let covered = self.peer_read.is_some_and(|t| message.time <= t);
        match &message.state {
            MessageState::Sent | MessageState::Delivered if message.from_me && covered => MessageState::Read,
            state => state.clone(),
        }
    }
}

/// Where an own message is (see the model of issue 12); incoming messages are [`MessageState::Received`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MessageState {
    #[default]
    Received,
    /// Not handed to a server yet.
    Pending,
    /// The server has it (XEP-0198 ack, or written to a stream without XEP-0198).
    Sent,
    /// The peer's client has it (XEP-0184).
    Delivered,
    /// The peer has seen it (XEP-0333).
    Read,
    /// It bounced or was cancelled; the reason, in words.
    Failed(String),
}

impl MessageState {
    /// Whether `next` lies behind this state on an own message's way (pending, sent, delivered, read): a
    /// receipt that comes after the `displayed` marker (an archive page read backwards) never undoes it.
    pub fn is_ahead_of(&self, next: &MessageState) -> bool {
        let step = |s: &MessageState| match s {
            MessageState::Pending => Some(0),
            MessageState::Sent => Some(1),
            MessageState::Delivered => Some(2),
            MessageState::Read => Some(3),
            MessageState::Received | MessageState::Failed(_) => None,
        };
        matches!((step(self), step(next)), (Some(now), Some(next)) if next < now)
    }
}

/// One message, as the UI hands it to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The conversation it belongs to (the peer's bare JID for one-to-one).
    pub conversation: BareJid,
    /// Milliseconds since the epoch, UTC (the XEP-0203 delay stamp when there is one, else the arrival time).
    pub time: i64,
    /// Who wrote it: the account itself for own messages.
    pub sender: BareJid,
    pub from_me: bool,
    pub body: String,
    /// XEP-0245 `/me`: `body` is what follows "/me ".
    pub is_me_action: bool,
    /// In a room: the sender's nick (`sender` is then the room, or the account for our own).
    pub nick: Option<String>,
    /// The stanza's `id` attribute.
    pub id: Option<String>,
    /// XEP-0359 `<origin-id/>` (for own messages: the same value as `id`).
    pub origin_id: Option<String>,
    /// XEP-0359 `<stanza-id/>` assigned by the account's own archive (never one a peer could forge).
    pub stanza_id: Option<String>,
    pub state: MessageState,
}

/// A message read back from the store, with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub key: MessageKey,
    pub message: MessageRecord,
}

impl StoredMessage {
    /// Where to page back from to get what is older than this message.
    pub fn point(&self) -> PagePoint {
        PagePoint { time: self.message.time, key: self.key }
    }
}

/// A message typed while offline and not handed to the core yet (the outbox of issue 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// The id drawn when Send was pressed: the stanza `id` and `<origin-id/>` it will be sent with.
    pub id: String,
    pub to: BareJid,
    pub body: String,
    pub created: i64,
}

/// A range of an archive not fetched yet: the transcript is not continuous there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRecord {
    /// The conversation whose archive has the gap; `None` for the account's archive as a whole.
    pub conversation: Option<BareJid>,
    /// The time the gap starts (older end); with `conversation` it keys the gap.
    pub start: i64,
    /// The time it ends (newer end).
    pub end: i64,
    /// The archive id just before the gap (what a MAM query continues `after`), when known.
    pub after_id: Option<String>,
    /// The archive id just after the gap (what a MAM query pages `before`), when known.
    pub before_id: Option<String>,
}

/// One change to the store. A batch of ops is written in one transaction, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets (or with `None` removes) a [`MetaKey`] value.
    SetMeta(MetaKey, Option<String>),
    /// Adds or replaces one contact.
    PutRosterItem(RosterItem),
    RemoveRosterItem(BareJid),
    /// Replaces the whole roster (a full roster result).
    ReplaceRoster(Vec<RosterItem>),
    /// Adds or replaces a conversation's record.
    PutConversation(ConversationRecord),
    /// Stores a message unless it is already stored: same `stanza_id`, or same `sender` and `origin_id` (then
    /// a `stanza_id` the stored copy lacks is added to it, and nothing else changes).
    AddMessage(MessageRecord),
    /// Sets the state of the own message(s) whose `origin_id` is `id`; nothing when there is none.
    SetMessageState {
        id: String,
        state: MessageState,
    },
    /// Replaces the outbox (it is small and the UI owns its order).
    SetOutbox(Vec<OutboxRecord>),
    /// Adds or replaces a gap (keyed by conversation and start).
    PutGap(GapRecord),
    RemoveGap {
        conversation: Option<BareJid>,
        start: i64,
    },
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Messages stored.
    pub added: usize,
    /// Messages not stored because they were already there (or twice in the batch).
    pub duplicates: usize,
}

/// Which transcripts a start-up [`Snapshot`] brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRequest {
    /// The conversation on screen, whose latest page is read whatever its activity.
    pub open: Option<BareJid>,
    /// How many of the most recently active conversations get their latest page.
    pub recent: usize,
    /// Messages per page.
    pub page: usize,
}

/// A run of a transcript, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<StoredMessage>,
    /// Nothing older is stored.
    pub complete: bool,
}

/// Everything the UI needs to paint before the network answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub meta: Meta,
    /// In no particular order (the UI sorts and groups it).
    pub roster: Vec<RosterItem>,
    /// Most recently active first.
    pub conversations: Vec<ConversationRecord>,
    /// The latest page of the open conversation and of the `recent` most active ones, in that order.
    pub pages: Vec<(BareJid, Page)>,
    /// In the order it is to be sent.
    pub outbox: Vec<OutboxRecord>,
    /// In no particular order.
    pub gaps: Vec<GapRecord>,
    /// Records that could not be read back (written by a newer or broken version) and were left out.
    pub skipped: usize,
}
