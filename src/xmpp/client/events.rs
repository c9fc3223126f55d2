//! What goes in and out of the [`Client`](super::Client) besides frames: commands, events and errors.

use std::fmt;

use super::bookmarks::BookmarkEvent;
use super::mam::{ArchiveError, ArchivePage, ArchiveQuery, Gap, GapEnd, HistoryPoint};
use super::muc::{RoomCommand, RoomEvent};
use crate::xmpp::framing::{FramingError, StreamError};
use crate::xmpp::jid::{BareJid, Jid, JidError};
use crate::xmpp::sasl::{FastToken, Mechanism, SaslError, SaslFailure};
use crate::xmpp::stanza::bookmarks::Bookmark;
use crate::xmpp::stanza::error::StanzaError;
use crate::xmpp::stanza::message::{ChatState, Message};
use crate::xmpp::stanza::presence::Availability;
use crate::xmpp::stanza::roster::RosterItem;

/// Where the session is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Stream opened, waiting for the server's features.
    Connecting,
    Authenticating(Mechanism),
    Binding,
    /// Resuming the lost session (XEP-0198).
    Resuming,
    LoadingRoster,
    Online,
    Closing,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Connecting => "Connecting…",
            Phase::Authenticating(_) => "Authenticating…",
            Phase::Binding => "Starting session…",
            Phase::Resuming => "Resuming session…",
            Phase::LoadingRoster => "Loading contacts…",
            Phase::Online => "Online",
            Phase::Closing => "Signing out…",
        }
    }
}

/// A user action the core turns into stanzas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a one-to-one chat message. `id` is drawn by the caller (random, at least 64 bits, at most 256
    /// bytes) when the person presses Send; it is the stanza id and the XEP-0359 origin-id, and every event
    /// about this message names it (`MessageSent`, `MessageAcked`, `Receipt`, `Displayed`, `MessageError`).
    /// Receipts and `displayed` markers are requested. Refused with `Backlog` while too many messages wait for
    /// the server's acknowledgement (keep it in the outbox and try again after the next `MessageAcked`).
    SendMessage { to: BareJid, body: String, id: String },
    /// XEP-0333: tell `to` we have displayed their message `id` (and all before it). Send it when the
    /// conversation is open and the page visible, for the newest markable message. Sent only to contacts
    /// who may see our presence (`from`/`both`); otherwise nothing is sent.
    SendDisplayed { to: BareJid, id: String },
    /// XEP-0352: the person is looking (`true`: page visible) or not. Accepted in any state: remembered and
    /// told to the server now (when online and offered) and again after every reconnect. Becoming active
    /// after a silence also probes the connection, so a dead one is noticed at once.
    SetActive(bool),
    /// Tell a contact we are typing, stopped, or back to reading (XEP-0085). Sent only to contacts who have
    /// sent us a chat state in this session (§5.1: others may not support them); otherwise nothing is sent.
    SendChatState { to: BareJid, state: ChatState },
    /// Change our own presence (broadcast to contacts).
    SetPresence(Availability),
    /// Add a contact to the roster and ask to see their presence. For a contact already in the roster, the
    /// name and groups it has are kept unless given here (a `None` name or empty groups change nothing), no
    /// roster set is sent when nothing changes, and the request goes out only if we do not see their presence
    /// yet and have no request pending.
    AddContact { jid: BareJid, name: Option<String>, groups: Vec<String> },
    /// Set a contact's display name (`None` or blank: none) and groups in one roster set; the rest of the item
    /// (subscription, pending request) is the server's and stays as it is.
    UpdateContact { jid: BareJid, name: Option<String>, groups: Vec<String> },
    /// Remove a contact (the server also cancels subscriptions both ways).
    RemoveContact { jid: BareJid },
    /// Allow a contact who asked to see our presence (also pre-approves when they have not asked yet).
    ApproveSubscription { jid: BareJid },
    /// Refuse a contact's request (or revoke an existing approval).
    DenySubscription { jid: BareJid },
    /// Ask to see a contact's presence.
    Subscribe { jid: BareJid },
    /// Stop seeing a contact's presence.
    Unsubscribe { jid: BareJid },
    /// Group chat: join, leave, talk, moderate, configure, invite, browse (see [`RoomCommand`]).
    Room(RoomCommand),
    /// Add or change a bookmark (XEP-0402; keyed by its room). Answered by `Bookmarks(Changed)` or
    /// `Bookmarks(Failed)`; our other devices get it too.
    SetBookmark(Bookmark),
    /// Remove a bookmark: `Bookmarks(Removed)` or `Bookmarks(Failed)`. Does not leave the room.
    RemoveBookmark { room: BareJid },
    /// Scroll-back (XEP-0313): one page of `with`'s conversation from the account's archive, before `before`
    /// (the oldest message of it the caller holds: its archive id, else its time; `None`: the newest page).
    /// Answered by an `ArchivePage` (`complete`: the conversation's first message was reached) or
    /// `ArchiveFailed`. Refused with `Archive(Busy)` while a page of `with` is on its way.
    ///
    /// When `with` is a room we are in (or joining), the page is read from the ROOM's archive instead (the
    /// page's `archive` is the room; ids are the room's stanza-ids); a room without an archive is refused
    /// with `Archive(Unsupported)`. A room we left is a one-to-one conversation again (the account's archive).
    LoadOlder { with: BareJid, before: Option<HistoryPoint> },
    /// One page of a gap (as an `ArchiveGap` or `GapFilled` event gave it), from its older or newer end.
    /// Answered by an `ArchivePage` and `GapFilled` with what is left, or `ArchiveFailed`.
    FillGap { gap: Gap, from: GapEnd },
    /// Close the session politely.
    Close,
}

/// A roster change that failed; tells the UI which action to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterAction {
    Add(BareJid),
    Update(BareJid),
    Remove(BareJid),
}

/// Why a request got no useful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    Stanza(StanzaError),
    Timeout,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Stanza(e) => f.write_str(&e.describe()),
            RequestError::Timeout => f.write_str("the server did not answer in time"),
        }
    }
}

/// What the core reports; the UI applies these to its store in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Phase(Phase),
    /// The session is up: resource bound, roster loaded, initial presence sent. `resumed`: a lost session was
    /// resumed (XEP-0198): nothing was reloaded (no `Roster` event follows; the roster and conversations the UI
    /// has are current, presences are re-reported) and no message was lost either way.
    Online {
        jid: Jid,
        resumed: bool,
    },
    /// A FAST token to keep for logging in on this device without the password (XEP-0484); it replaces any
    /// token kept before. Emitted when the server issues one (a password login with `request_fast_token`),
    /// when it rotates the one in use, and when a login with the kept token starts (its `count` advanced).
    /// Password-equivalent for this account until it expires: store it like a password, never show it.
    FastToken(FastToken),
    /// The server revoked the token this session logged in with (`invalidate_fast_token`): forget it.
    FastTokenInvalidated,
    /// The whole roster (replaces what the UI had). `ver` is the roster version, when the server has one.
    Roster {
        items: Vec<RosterItem>,
        ver: Option<String>,
    },
    /// One roster item added or changed; `Subscription::Remove` means it is gone.
    RosterPush {
        item: RosterItem,
        ver: Option<String>,
    },
    /// A contact's aggregated presence changed (`None` = offline).
    ContactPresence {
        jid: BareJid,
        presence: Option<Availability>,
    },
    /// Someone asks to see our presence.
    SubscriptionRequest {
        from: BareJid,
        status: Option<String>,
    },
    /// A contact approved our request.
    SubscriptionApproved {
        from: BareJid,
    },
    /// A contact refused or cancelled our subscription.
    SubscriptionRevoked {
        from: BareJid,
    },
    /// The server bounced presence we sent to `from` (most often a subscription request: no such server or
    /// account). Their presence is cleared too.
    PresenceError {
        from: BareJid,
        error: StanzaError,
    },
    /// An incoming message with a body.
    Message(Message),
    /// A contact's chat state arrived on its own (typing, paused, …; XEP-0085). A message with a body carries
    /// its chat state in `Message::chat_state` instead.
    ChatState {
        from: BareJid,
        state: ChatState,
    },
    /// A message we sent (with the id it went out with), or one our other device sent (a carbon).
    MessageSent(Message),
    /// The server has our message `id` (XEP-0198 acknowledgement; without XEP-0198: written to the stream).
    /// From here on it is the server's to deliver.
    MessageAcked {
        id: String,
    },
    /// `from`'s client received our message `id` (XEP-0184).
    Receipt {
        from: BareJid,
        id: String,
    },
    /// `from` has displayed our message `id` and those before it (XEP-0333).
    Displayed {
        from: BareJid,
        id: String,
    },
    /// Another device of ours displayed `with`'s message `id` and those before it (XEP-0333 marker in a sent
    /// carbon, or in the account's archive): they are read, wherever this device shows them.
    ReadElsewhere {
        with: BareJid,
        id: String,
    },
    /// A message bounced; `with` is the conversation it belongs to, `id` the id we sent it with.
    MessageError {
        with: BareJid,
        id: Option<String>,
        error: StanzaError,
    },
    /// A roster change was refused or timed out.
    RequestFailed {
        action: RosterAction,
        error: RequestError,
    },
    /// Group chat (see [`RoomEvent`]).
    Room(RoomEvent),
    /// Bookmarks of rooms (XEP-0402).
    Bookmarks(BookmarkEvent),
    /// A page of archived messages (XEP-0313; see `client::mam`): store its messages (keyed by their archive
    /// id, which is their stanza-id). Those already shown live or in an earlier page are left out.
    ArchivePage(ArchivePage),
    /// The newest archive id of the account's archive this device now holds, counting the messages of the
    /// events before this one: store it with them, and give it back as `HistoryConfig::last_id`. (A room's
    /// is `RoomEvent::HistoryCursor`.)
    ArchiveCursor {
        id: String,
    },
    /// The account's catch-up is under way (said as the session goes online, with `Online`): `ArchivePage`s
    /// (`ArchiveQuery::CatchUp`) follow, then `CaughtUp` (or `ArchiveFailed` with that query, `Unsupported` when
    /// the server keeps no archive; or the session ends).
    CatchingUp,
    /// The catch-up at login is done (up to the present, or up to its limit with an `ArchiveGap` for the rest).
    CaughtUp,
    /// A range of an archive this device does not hold: keep it, show it where it lies (never join the
    /// transcript across it), and fill it with `Command::FillGap`.
    ArchiveGap(Gap),
    /// A page of `gap` came (the `ArchivePage` just before); `rest` is what is still missing (`None`: nothing,
    /// the gap is closed). Replace `gap` with `rest`.
    GapFilled {
        gap: Gap,
        rest: Option<Gap>,
    },
    /// An archive query gave nothing. For the catch-up, the events before this one (and an `ArchiveGap` if
    /// live messages came meanwhile) say what is held; the next login picks up at the cursor.
    ArchiveFailed {
        query: ArchiveQuery,
        error: ArchiveError,
    },
    /// The server asks us to reconnect elsewhere (`<close see-other-uri=…/>`).
    Redirect {
        uri: String,
    },
    /// The session is over. `None` means a polite close we or the server asked for.
    Closed {
        error: Option<ClientError>,
    },
}

/// Why the session failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// The server sent something that is not a valid frame; we answered with a stream error.
    Framing(FramingError),
    /// The server closed the stream with an error.
    Stream(StreamError),
    /// The server refused our credentials.
    AuthFailed { failure: SaslFailure, text: Option<String> },
    /// The server refused the FAST token we logged in with (expired, revoked, or never issued to this device).
    /// Forget the token and ask for the password (the account is known: fill it in).
    FastTokenRefused { failure: SaslFailure, text: Option<String> },
    /// Our SASL checks refused the server (bad nonce, bad signature, downgrade, …) or nothing fits.
    Sasl(SaslError),
    /// The server refused to bind a resource.
    BindFailed(StanzaError),
    /// The server did not answer within the time allowed for `stage`.
    Timeout { stage: &'static str },
    /// The server sent something valid XML but unexpected at this point.
    Protocol(&'static str),
    /// The connection dropped without a close.
    ConnectionLost,
}

impl ClientError {
    /// Words a person understands.
    pub fn describe(&self) -> String {
        match self {
            ClientError::Framing(FramingError::TooLarge { size, max }) => format!(
                "The server sent {} KiB at once, more than Natter accepts ({} KiB).",
                size.div_ceil(1024),
                max / 1024
            ),
            ClientError::Framing(FramingError::Xml(e)) if e.is_limit() => {
                format!("The server sent data beyond what Natter accepts: {e}.")
            }
            ClientError::Framing(_) => "The server sent data Natter could not understand.".into(),
            ClientError::Stream(e) => match e.condition.as_str() {
                "conflict" => "Signed out: this account signed in from another place with the same resource.".into(),
                "system-shutdown" => "The server is shutting down.".into(),
                "host-unknown" => "The server does not serve this domain.".into(),
                "policy-violation" => "The server closed the connection (policy violation).".into(),
                c => match &e.text {
                    Some(t) => format!("The server closed the connection: {c} ({t})."),
                    None => format!("The server closed the connection: {c}."),
                },
            },
            // For a plain wrong password the server's own text is jargon ("The response provided by the
            // client doesn't match…"); for other conditions (a disabled account, say) it may tell why.
            ClientError::AuthFailed { failure: SaslFailure::NotAuthorized, .. } => {
                SaslFailure::NotAuthorized.describe().to_owned()
            }
            ClientError::AuthFailed { failure, text } => match text {
                Some(t) if !t.trim().is_empty() => format!("{} ({})", failure.describe(), t.trim()),
                _ => failure.describe().to_owned(),
            },
            ClientError::FastTokenRefused { .. } | ClientError::Sasl(SaslError::FastUnavailable) => {
                "You were logged out on this device (the server no longer accepts its saved login). Enter your password to log in again.".into()
            }
            ClientError::Sasl(SaslError::KeysStale) => "Your server asks for your password again to reconnect.".into(),
            ClientError::Sasl(e) => format!("Authentication stopped: {e}."),
            ClientError::BindFailed(e) => format!("The server refused to start a session: {}.", e.describe()),
            ClientError::Timeout { stage } => format!("The server did not answer in time ({stage})."),
            ClientError::Protocol(what) => format!("The server broke the protocol: {what}."),
            ClientError::ConnectionLost => "The connection was lost.".into(),
        }
    }
}

impl ClientError {
    /// Whether logging in again needs the password: the kept keys or token no longer work (the address is
    /// still right). The UI shows the login form with the address filled in.
    pub fn needs_password(&self) -> bool {
        matches!(
            self,
            ClientError::FastTokenRefused { .. } | ClientError::Sasl(SaslError::KeysStale | SaslError::FastUnavailable)
        )
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for ClientError {}

/// Why a command was not carried out (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    NotOnline,
    EmptyMessage,
    /// The stanza would exceed the frame size limit.
    TooLarge {
        size: usize,
        max: usize,
    },
    InvalidJid(JidError),
    /// A message id that is empty or longer than 256 bytes.
    InvalidId,
    /// `waiting` messages already wait for the server's acknowledgement; keep this one for later.
    Backlog {
        waiting: usize,
    },
    /// The room is not joined (or not yet: the join is still being prepared).
    NotInRoom,
    /// An archive query could not be sent (no archive, or too many queries on their way).
    Archive(ArchiveError),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::NotOnline => f.write_str("not connected"),
            CommandError::EmptyMessage => f.write_str("the message is empty"),
            CommandError::TooLarge { size, max } => {
                write!(f, "the message is too long ({} KiB, at most {} KiB)", size.div_ceil(1024), max / 1024)
            }
            CommandError::InvalidJid(e) => write!(f, "invalid address: {e}"),
            CommandError::InvalidId => f.write_str("the message id is empty or too long"),
            CommandError::Backlog { waiting } => {
                write!(f, "{waiting} messages are still waiting for the server; this one will follow")
            }
            CommandError::NotInRoom => f.write_str("you are not in this room"),
            CommandError::Archive(e) => f.write_str(&e.describe()),
        }
    }
}

impl std::error::Error for CommandError {}
