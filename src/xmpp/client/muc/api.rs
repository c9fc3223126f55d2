//! What group chat adds to the [`Client`](crate::xmpp::Client)'s inputs and outputs: [`RoomCommand`]s in
//! (through `Command::Room`), [`RoomEvent`]s out (through `Event::Room`), and the types they carry.

use std::fmt;

use crate::xmpp::client::RequestError;
use crate::xmpp::client::mam::HistoryPoint;
use crate::xmpp::jid::{BareJid, Jid};
use crate::xmpp::stanza::dataform::DataForm;
use crate::xmpp::stanza::error::StanzaError;
use crate::xmpp::stanza::message::Message;
use crate::xmpp::stanza::muc::{Affiliation, Invite, Role, RoomInfo, RoomSettings};
use crate::xmpp::stanza::presence::Availability;

/// Something to do in or about a room (`Command::Room`). Every command naming a room wants its bare JID
/// (`room@service`); nicks must be valid JID resources (at most 1023 bytes) or the command is refused with
/// `CommandError::InvalidJid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomCommand {
    /// Join an existing room. The room's disco#info is asked first (and cached): a room that does not exist
    /// fails with `JoinError::NotFound` without being created; a room with an archive is joined without
    /// legacy history (its history comes from the archive once the join is confirmed). Emits `Joining`, then
    /// `Joined` or `JoinFailed`. Joining a room already joined under another nick changes the nick.
    ///
    /// `history`: the newest point of the room's archive the caller holds (the last `HistoryCursor`'s
    /// `point`; `None`: nothing held). Once joined, a room with an archive is caught up from there: every page
    /// after it (bounded like the account's catch-up: past `HistoryConfig::catch_up_limit`, the newest page
    /// and an `ArchiveGap` with `archive` = the room), or, with none, the room's newest page only. Pages come
    /// as `Event::ArchivePage` with `archive` = the room and `query` = `ArchiveQuery::RoomCatchUp`, then
    /// `CaughtUp` (or `ArchiveFailed`). Only when `HistoryConfig::catch_up` is on.
    Join { room: BareJid, nick: String, password: Option<String>, history: Option<HistoryPoint> },
    /// Create a room: `settings: None` makes an instant room (the service's defaults), otherwise the owner
    /// form is fetched, filled with the settings and submitted. A room that already exists fails with
    /// `JoinError::AlreadyExists`. `Joined { created: true }` comes first, then `Done { action: Create }`
    /// once the room is configured (until then the service keeps it locked) or `RequestFailed`.
    Create { room: BareJid, nick: String, settings: Option<RoomSettings> },
    /// Leave (`status`: a parting word). `Left { why: Departure::Left }` is emitted at once.
    Leave { room: BareJid, status: Option<String> },
    /// Send a message to everyone in the room. `id` is drawn by the caller as for one-to-one messages (stanza
    /// id and XEP-0359 origin-id). Emits `MessageSent` (then `MessageAcked`, like a chat message), and
    /// `Reflected` when the room sends it back to everyone (delivered to the room).
    Send { room: BareJid, body: String, id: String },
    /// A private message to one occupant (`room@service/nick`, XEP-0045 §7.5).
    SendPrivate { room: BareJid, nick: String, body: String, id: String },
    /// Change the subject (moderators, or everyone where the room allows it); empty clears it. The room's
    /// answer is a `Subject` event, or `RequestFailed { action: SetSubject }`.
    SetSubject { room: BareJid, subject: String },
    /// Change our nick in the room: `NickChanged`, or `NickChangeFailed` (e.g. `JoinError::NickInUse`).
    ChangeNick { room: BareJid, nick: String },
    /// Moderators: change an occupant's role. `Role::None` kicks them.
    SetRole { room: BareJid, nick: String, role: Role, reason: Option<String> },
    /// Admins and owners: change a user's affiliation. `Affiliation::Outcast` bans them,
    /// `Affiliation::Member` lets them into a members-only room.
    SetAffiliation { room: BareJid, jid: BareJid, affiliation: Affiliation, reason: Option<String> },
    /// Owners: fetch the configuration form (`ConfigForm`).
    FetchConfig { room: BareJid },
    /// Owners: submit the form `ConfigForm` gave, filled in (`Done { action: Configure }`).
    SubmitConfig { room: BareJid, form: DataForm },
    /// Owners: destroy the room, saying why and where to go instead.
    Destroy { room: BareJid, reason: Option<String>, alternate: Option<BareJid> },
    /// Invite a contact (XEP-0249 direct invitation), with the room's password if it has one.
    Invite { room: BareJid, to: BareJid, reason: Option<String>, password: Option<String> },
    /// Decline an invitation the room relayed (an `Invited` with `mediated: true`).
    Decline { room: BareJid, inviter: BareJid, reason: Option<String> },
    /// One page of the rooms of a group chat service (disco#items with RSM, at most
    /// [`MAX_LISTED`](super::MAX_LISTED) per page). `service: None`: the server's own service, found by
    /// disco. `after`: the `next` of the previous page. Answered by `Rooms` or `ListFailed`.
    ListRooms { service: Option<BareJid>, after: Option<String> },
    /// What a room is (name, description, occupants, archive, members-only, …): answered by `Info`.
    QueryInfo { room: BareJid },
}

/// One person in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupant {
    pub nick: String,
    /// Their real JID, when the room shows it to us (non-anonymous rooms, or to moderators).
    pub jid: Option<Jid>,
    pub affiliation: Affiliation,
    pub role: Role,
    pub presence: Availability,
    /// XEP-0421: stable across nick changes and rejoins, where the room stamps them (only then: forged ones
    /// are dropped). Key people by it when present.
    pub occupant_id: Option<String>,
}

/// Why someone (or we) left a room, with who did it and why when the room says. [`Departure::describe`]
/// puts it in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Departure {
    /// Left on their own (for us: we asked, or the room said nothing more).
    Left { status: Option<String> },
    /// Kicked (307).
    Kicked { actor: Option<String>, reason: Option<String> },
    /// Banned (301).
    Banned { actor: Option<String>, reason: Option<String> },
    /// Removed because their affiliation changed (321).
    AffiliationChanged { actor: Option<String>, reason: Option<String> },
    /// Removed because the room became members-only (322).
    MembersOnly { reason: Option<String> },
    /// The service is shutting down (332).
    Shutdown { reason: Option<String> },
    /// Removed because of a technical problem (333; Prosody says "Kicked: recipient unavailable"). For us it
    /// comes only once joining again failed (see `RoomEvent::Left`).
    Removed { reason: Option<String> },
    /// The room was destroyed.
    Destroyed { reason: Option<String>, alternate: Option<BareJid> },
    /// The room answered with an error while we were in it (we are out).
    Error(StanzaError),
}

impl Departure {
    /// Words for the person concerned (`you: true`) or about someone else (`who`).
    pub fn describe(&self, who: &str, you: bool) -> String {
        let (subject, verb) = if you { ("You", "were") } else { (who, "was") };
        let by = |actor: &Option<String>| actor.as_deref().map(|a| format!(" by {a}")).unwrap_or_default();
        let why = |reason: &Option<String>| match reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => format!(": {r}"),
            _ => String::new(),
        };
        match self {
            Departure::Left { status } => {
                let left = if you { "You left the room".to_owned() } else { format!("{who} left") };
                format!("{left}{}", why(status))
            }
            Departure::Kicked { actor, reason } => format!("{subject} {verb} kicked{}{}", by(actor), why(reason)),
            Departure::Banned { actor, reason } => {
                format!("{subject} {verb} banned from the room{}{}", by(actor), why(reason))
            }
            Departure::AffiliationChanged { actor, reason } => {
                format!("{subject} {verb} removed from the room: membership changed{}{}", by(actor), why(reason))
            }
            Departure::MembersOnly { reason } => {
                format!("{subject} {verb} removed: the room is now for members only{}", why(reason))
            }
            Departure::Shutdown { reason } => format!("The group chat service is shutting down{}", why(reason)),
            Departure::Removed { reason } => {
                format!("{subject} {verb} removed from the room because of a technical problem{}", why(reason))
            }
            Departure::Destroyed { reason, alternate } => {
                let alt = alternate.as_ref().map(|a| format!(" (it continues at {a})")).unwrap_or_default();
                format!("The room was destroyed{}{alt}", why(reason))
            }
            Departure::Error(e) => format!("{subject} {verb} removed from the room: {}", e.describe()),
        }
    }
}

/// A change to a room's occupants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OccupantChange {
    /// Came in. `was`: the nick this person (same XEP-0421 occupant id) last had in this room, if they left
    /// under another one.
    Joined {
        occupant: Occupant,
        was: Option<String>,
    },
    /// Presence, role or affiliation changed.
    Changed(Occupant),
    /// Changed nick (status 303): `occupant` is now listed under its new nick.
    Renamed {
        old_nick: String,
        occupant: Occupant,
    },
    Left {
        occupant: Occupant,
        why: Departure,
    },
}

/// A groupchat message from a room (not one of ours the room reflected: those are `Reflected`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoomMessage {
    pub room: BareJid,
    /// Who sent it; `None`: the room itself.
    pub nick: Option<String>,
    /// The sender's XEP-0421 id (only where the room stamps them).
    pub occupant_id: Option<String>,
    /// `message.stanza_id` is the room's archive id (stanza-id `by` the room); `message.delay` is set for
    /// history the room replayed at join.
    pub message: Message,
    /// Sent by us (from this or another of our devices, under our nick or occupant id).
    pub own: bool,
    /// Mentions our nick ([`mentions`](super::mentions)); never for our own messages.
    pub mentions_me: bool,
}

/// Why a join or a nick change failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// `conflict`: someone has this nick; offer another ([`suggest_nick`](super::suggest_nick)).
    NickInUse,
    /// `not-authorized`: the room has a password (ask for it), or it was wrong.
    PasswordRequired,
    /// `registration-required`: the room is for members only.
    MembersOnly,
    /// `forbidden`: we are banned.
    Banned,
    /// `item-not-found`: the room does not exist (and `Join` does not create it).
    NotFound,
    /// `Create` of a room that exists already.
    AlreadyExists,
    /// `service-unavailable`: the room is full.
    Full,
    /// `not-acceptable`: this room wants our reserved nick.
    NickLocked,
    /// `not-allowed`: the service does not let us create rooms.
    CreationRefused,
    /// The address answers, but is not a group chat room.
    NotARoom,
    /// We are in [`MAX_ROOMS`](super::MAX_ROOMS) rooms already.
    TooManyRooms,
    /// No answer in time.
    Timeout,
    Other(StanzaError),
}

impl JoinError {
    pub(super) fn of(error: StanzaError) -> JoinError {
        match error.condition.as_str() {
            "conflict" => JoinError::NickInUse,
            "not-authorized" => JoinError::PasswordRequired,
            "registration-required" => JoinError::MembersOnly,
            "forbidden" => JoinError::Banned,
            "item-not-found" => JoinError::NotFound,
            "service-unavailable" => JoinError::Full,
            "not-acceptable" => JoinError::NickLocked,
            "not-allowed" => JoinError::CreationRefused,
            _ => JoinError::Other(error),
        }
    }

    /// Words a person understands.
    pub fn describe(&self) -> String {
        match self {
            JoinError::NickInUse => "Someone in the room already uses this nickname.".into(),
            JoinError::PasswordRequired => "This room needs a password (or the one given is wrong).".into(),
            JoinError::MembersOnly => "This room is for members only.".into(),
            JoinError::Banned => "You are banned from this room.".into(),
            JoinError::NotFound => "This room does not exist.".into(),
            JoinError::AlreadyExists => "A room with this address exists already.".into(),
            JoinError::Full => "The room is full, or the service is not available.".into(),
            JoinError::NickLocked => "This room requires your registered nickname.".into(),
            JoinError::CreationRefused => "The service does not let you create this room.".into(),
            JoinError::NotARoom => "This address is not a group chat room.".into(),
            JoinError::TooManyRooms => format!("You are in {} rooms already; leave one first.", super::MAX_ROOMS),
            JoinError::Timeout => "The room did not answer in time.".into(),
            JoinError::Other(e) => format!("Could not join the room: {}.", e.describe()),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A request about a room that succeeded (`Done`) or failed (`RequestFailed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomAction {
    SetRole {
        nick: String,
        role: Role,
    },
    SetAffiliation {
        jid: BareJid,
        affiliation: Affiliation,
    },
    SetSubject,
    FetchConfig,
    Configure,
    /// Configuring a room just created (instant or with settings).
    Create,
    Destroy,
    QueryInfo,
}

/// A room of a service's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomListing {
    pub jid: BareJid,
    pub name: Option<String>,
}

/// Why the rooms of a service could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    /// The server has no group chat service (none of its first items is one).
    NoService,
    Request(RequestError),
}

impl ListError {
    pub fn describe(&self) -> String {
        match self {
            ListError::NoService => "Your server has no group chat service.".into(),
            ListError::Request(e) => format!("Could not list the rooms: {e}."),
        }
    }
}

/// A room to be in, handed from one session to the next ([`Client::resumption`](crate::xmpp::Client::resumption)
/// fills `Config::rooms` with them; a store may too, at start). After a reconnect that could not resume the
/// stream, each is joined again, and its history read from `last_stanza_id` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRoom {
    pub room: BareJid,
    pub nick: String,
    pub password: Option<String>,
    /// The room's archive id of the newest message seen.
    pub last_stanza_id: Option<String>,
    /// What the room's disco#info said (`None`: asked again before joining).
    pub info: Option<RoomInfo>,
}

/// What the core reports about rooms (`Event::Room`). Occupant changes come batched (see [`Occupants`]), and
/// before any other event about the same room, so the order of joins, leaves and messages is kept.
///
/// [`Occupants`]: RoomEvent::Occupants
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// A join started (or a rejoin: after a reconnect without resumption, or when a self-ping found we were
    /// no longer in the room). The UI shows the room as joining; its occupant list is replaced at `Joined`.
    Joining {
        room: BareJid,
        nick: String,
    },
    /// We are in (the room confirmed our presence, status 110). `occupants` is everyone else present at the
    /// time (in no particular order: sort for display), `me` our own entry (our nick may differ from the one asked: the service may change it),
    /// `unlisted` how many more are present beyond [`MAX_OCCUPANTS`](super::MAX_OCCUPANTS) (counted, not
    /// listed). `created`: the room was created by this join. Replaces whatever the UI had for the room.
    Joined {
        room: BareJid,
        me: Occupant,
        occupants: Vec<Occupant>,
        unlisted: usize,
        created: bool,
        info: Option<RoomInfo>,
    },
    JoinFailed {
        room: BareJid,
        error: JoinError,
    },
    /// Occupant changes since the last event about this room, at most one such event per room every
    /// [`OCCUPANT_BATCH`](super::OCCUPANT_BATCH) (and before any other event about the room), with at most
    /// [`MAX_BATCH`](super::MAX_BATCH) changes (a room sending faster gets them in several events).
    Occupants {
        room: BareJid,
        changes: Vec<OccupantChange>,
        unlisted: usize,
    },
    /// Our own entry changed (role, affiliation, presence), e.g. we were made moderator.
    Me {
        room: BareJid,
        me: Occupant,
    },
    /// Our nick in the room is now `nick` (asked with `ChangeNick`, or changed by the service).
    NickChanged {
        room: BareJid,
        nick: String,
    },
    NickChangeFailed {
        room: BareJid,
        nick: String,
        error: JoinError,
    },
    /// The subject (`None`: cleared), and who set it when the room says. `at_join`: the subject the room
    /// sends to everyone who joins, not a change.
    Subject {
        room: BareJid,
        subject: Option<String>,
        by: Option<String>,
        at_join: bool,
    },
    Message(RoomMessage),
    /// The room sent our message `id` back to everyone: delivered to the room. `stanza_id`: its archive id.
    Reflected {
        room: BareJid,
        id: String,
        stanza_id: Option<String>,
    },
    /// A private message from (or, `outgoing`, sent by another of our devices to) an occupant.
    PrivateMessage {
        room: BareJid,
        nick: String,
        message: Message,
        outgoing: bool,
    },
    /// We are out of the room, and why. Not rejoined automatically.
    Left {
        room: BareJid,
        why: Departure,
    },
    /// The owner form ([`RoomSettings::apply`] fills the usual fields).
    ConfigForm {
        room: BareJid,
        form: DataForm,
    },
    Done {
        room: BareJid,
        action: RoomAction,
    },
    RequestFailed {
        room: BareJid,
        action: RoomAction,
        error: RequestError,
    },
    /// A room's disco#info (on `QueryInfo`, before a join, and after the room's configuration changed).
    Info {
        room: BareJid,
        info: RoomInfo,
    },
    /// A page of a service's rooms; `next`: pass as `after` for the next page (`None`: the last page).
    /// `total`: how many the service has, when it says.
    Rooms {
        service: BareJid,
        rooms: Vec<RoomListing>,
        next: Option<String>,
        total: Option<u32>,
    },
    ListFailed {
        service: Option<BareJid>,
        error: ListError,
    },
    /// An invitation. From contacts always; from others at most
    /// [`MAX_STRANGER_INVITES`](super::MAX_STRANGER_INVITES) per session, each room and inviter once.
    Invited(Invite),
    /// The newest point of the room's archive this device now holds, counting the archive pages and live
    /// messages of the room before this event: store it with them, per room, and give it back as
    /// `RoomCommand::Join { history: Some(point) }` (or as `SavedRoom::last_stanza_id`). `point.id` is the
    /// room's stanza-id; `point.unix_ms` its time when known. Moved by each catch-up page, and once caught up
    /// by every live message the room stamps (not while a catch-up runs: see `client::mam`).
    HistoryCursor {
        room: BareJid,
        point: HistoryPoint,
    },
    /// The room's catch-up from its archive is done (up to the present, or up to its limit with an
    /// `ArchiveGap` for the rest): stop showing it as loading.
    CaughtUp {
        room: BareJid,
    },
}
