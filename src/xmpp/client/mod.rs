//! The session state machine: stream negotiation, SASL, bind, roster, presence and messages.
//!
//! Drive it like this (the transport does exactly this, and so do the tests, in virtual time):
//!
//! 1. [`Client::new`] queues the opening `<open/>`.
//! 2. Feed every received WebSocket text message to [`Client::handle_frame`], every user action to
//!    [`Client::handle_command`], a fired timer to [`Client::handle_timeout`], and a dropped socket to
//!    [`Client::handle_transport_closed`].
//! 3. After each input, drain [`Client::poll_transmit`] (frames to send, in order) and [`Client::poll_event`]
//!    (for the UI), then arm one timer for [`Client::poll_timeout`].
//!
//! Once an [`Event::Closed`] or [`Event::Redirect`] has been emitted, the client is finished: the transport
//! closes the socket after sending what is left in `poll_transmit`. A redirect (`<close see-other-uri/>`) is
//! reported in any stage but our own closing, since RFC 7395 §3.6.1 lets a server send one "at any point";
//! whether to follow it is the transport's decision, which depends on [`Client::is_server_verified`].
//!
//! To pick up after a lost connection without the password, start a new client with
//! [`Client::resumption`]: the SCRAM keys this session derived, its current presence, (when the server
//! versions rosters) its roster with that version, the XEP-0198 state and the de-duplication memory.
//!
//! How a lost session resumes (XEP-0198, see [`sm`]): after the login with the keys, when the server offers
//! stream management and the lost session was resumable, the new client sends `<resume previd h/>` instead
//! of binding. `<resumed h/>`: the server's `h` acknowledges what it got (`MessageAcked`), the rest is sent
//! again, and the session is `Online { resumed: true }` at once — same full JID, roster and presences as
//! before (the core re-reports the presences it knew), nothing reloaded. `<failed/>` (session forgotten,
//! bogus id, server restarted) or no stream management on offer: bind a fresh resource, enable stream
//! management again, load the roster (`Online { resumed: false }`), and resend the messages the server never
//! acknowledged, once, with their original ids and an XEP-0203 delay stamp of when they were first sent;
//! the peer de-duplicates by origin-id, as we do ([`dedup`]). Iqs and presences of the lost session are not
//! resent (they are stale). Either way the server's `h` is checked: more than we sent is a protocol error.
//!
//! Credentials in memory: [`Config::credentials`] holds the password (or the keys of an earlier login) only
//! until SASL starts; then it moves into the exchange, which wipes its prepared copy as it derives the keys.
//! Once the server has accepted them (and proved it knows them), the SCRAM keys are the one thing the client
//! keeps, in `config.credentials`, for [`Client::resumption`]; after a PLAIN login it keeps nothing. The
//! password and the keys are overwritten with zeros when dropped (see [`crate::xmpp::sasl`]); no event carries
//! them. The frame that carries SASL PLAIN's `<auth/>` (the password in base64) is handed to the transport like
//! any other and not wiped.
//!
//! What peers can make the client keep is bounded: presence is kept only for roster contacts and for those
//! asking to subscribe, at most [`MAX_RESOURCES`](crate::xmpp::stanza::presence::MAX_RESOURCES) resources
//! each; subscription requests are remembered (to report each once) up to [`MAX_SUBSCRIPTION_REQUESTS`]; the
//! contacts we send chat states to up to [`MAX_CHAT_STATE_PEERS`]. Everything else a peer sends is turned
//! into events and forgotten.

mod auth;
pub mod bookmarks;
mod dedup;
mod events;
pub mod mam;
pub mod muc;
mod online;
mod resume;
mod sasl2;
pub mod sm;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use web_time::Instant;

use crate::xmpp::framing::{self, CLIENT_NS, Frame};
use crate::xmpp::jid::{BareJid, Jid};
use crate::xmpp::sasl::{Credentials, FastToken, Mechanism, ScramLimits};
use crate::xmpp::stanza::presence::{Availability, ContactPresence};
use crate::xmpp::stanza::roster::RosterItem;
pub use crate::xmpp::stanza::sasl2::UserAgent;
use crate::xmpp::xml::Element;

pub use bookmarks::{BookmarkAction, BookmarkEvent};
pub use dedup::{SeenKey, SeenMessages};
pub use events::{ClientError, Command, CommandError, Event, Phase, RequestError, RosterAction};
pub use muc::{RoomCommand, RoomEvent, SavedRoom};
pub use sm::{PendingMessage, StreamSnapshot};

/// A wall-clock reading from the caller (the core reads no clock): at `at`, it was `unix_ms` milliseconds
/// since the Unix epoch (UTC). Used only to stamp messages resent after a failed resumption (XEP-0203).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    pub at: Instant,
    pub unix_ms: u64,
}

impl WallClock {
    /// The UTC time at `now`, by this reading.
    pub fn unix_ms_at(&self, now: Instant) -> u64 {
        match now.checked_duration_since(self.at) {
            Some(d) => self.unix_ms.saturating_add(d.as_millis() as u64),
            None => self.unix_ms.saturating_sub(self.at.duration_since(now).as_millis() as u64),
        }
    }
}

/// What a resumed session needs of the lost one besides XEP-0198 counters (it is the same session).
#[derive(Debug, Clone)]
struct CarriedSession {
    jid: Jid,
    roster: HashMap<BareJid, RosterItem>,
    roster_ver: Option<String>,
    presences: HashMap<BareJid, ContactPresence>,
    chat_state_peers: HashSet<BareJid>,
    /// The rooms as they were: a resumed stream is still in them.
    muc: muc::Muc,
    /// Their history catch-ups and cursors.
    room_history: Vec<mam::Track>,
}

/// A liveness deadline that passes this much before its timer fires means the page slept or was throttled
/// (hidden tabs run timers late: ≥ 1 s, then once a minute): probe once more instead of failing.
const LATE_TIMER: Duration = Duration::from_secs(5);
/// When the page becomes active again after this much silence, probe the connection at once.
const PROBE_WHEN_ACTIVE_AFTER: Duration = Duration::from_secs(15);
pub use mam::{ArchiveError, ArchivePage, ArchiveQuery, ArchivedMessage, Gap, GapEnd, HistoryConfig, HistoryPoint};

/// Incoming subscription requests remembered at once. Past this, new requests are not reported in this session;
/// the server keeps them and delivers them again at the next login (RFC 6121 §3.1.3), when they fit.
pub const MAX_SUBSCRIPTION_REQUESTS: usize = 100;

/// Contacts remembered as using chat states (the ones we send ours to). Past this, others get none.
pub const MAX_CHAT_STATE_PEERS: usize = 1000;

/// Everything a session needs from its caller. Randomness (`client_nonce`, `id_seed`) comes from here.
#[derive(Debug, Clone)]
pub struct Config {
    /// The account, e.g. `alice@example.org`.
    pub jid: BareJid,
    pub credentials: Credentials,
    /// A resource to ask for; `None` lets the server choose.
    pub resource: Option<String>,
    /// The SASL mechanisms this session may use (strongest offered wins); e.g. only SCRAM-SHA-1 to test it.
    pub mechanisms: Vec<Mechanism>,
    /// Allow SASL PLAIN when the server offers no SCRAM mechanism (never after SCRAM was offered).
    pub allow_plain: bool,
    /// Largest frame accepted from or sent to the server, in bytes.
    pub max_frame: usize,
    /// How long the server has to answer each step and each request.
    pub request_timeout: Duration,
    /// After this long without hearing from the server, ping it (XEP-0199); `None` disables keepalive.
    pub keepalive: Option<Duration>,
    pub scram_limits: ScramLimits,
    /// At least 16 random printable characters, fresh for each connection.
    pub client_nonce: String,
    /// A random prefix for stanza ids, fresh for each connection.
    pub id_seed: String,
    /// A roster cached from an earlier session, with its version (RFC 6121 §2.6).
    pub cached_roster: Option<(String, Vec<RosterItem>)>,
    /// Our initial presence once online.
    pub initial_presence: Availability,
    /// Log in with SASL2 (XEP-0388) where the server offers it: authentication, resource binding (Bind2) and
    /// carbons in one round trip more than SCRAM itself, and FAST. Off: always the legacy SASL + bind path.
    pub sasl2: bool,
    /// Put `from='account'` on the stream header (XEP-0388 §2.1; servers offer FAST only then). It names the
    /// account before authentication: only on an encrypted (`wss://`) or loopback transport, where nobody
    /// else reads it.
    pub stream_from: bool,
    /// XEP-0388 `<user-agent/>`: a stable random `id` per device, drawn once and kept by the caller (FAST
    /// tokens are bound to it; without it there is no FAST).
    pub user_agent: Option<UserAgent>,
    /// At a login with the password (or keys), ask the server for a FAST token ("Stay logged in on this
    /// device"); it arrives as [`Event::FastToken`]. Needs SASL2 with FAST, `stream_from` and `user_agent`.
    pub request_fast_token: bool,
    /// With [`Credentials::Token`]: log in only to have the server revoke the token (XEP-0484 §3.6, logging
    /// out), then close: [`Event::FastTokenInvalidated`], then `Closed { error: None }`.
    pub invalidate_fast_token: bool,
    /// XEP-0198 state of a lost session (from [`Client::resumption`]): resume it, or resend its messages.
    pub stream: Option<StreamSnapshot>,
    /// Keys of messages already shown (de-duplication); carried across reconnects, seedable from a store.
    pub seen: SeenMessages,
    /// The caller's wall clock, for XEP-0203 stamps on resent messages; `None` = resend without a stamp.
    pub clock: Option<WallClock>,
    /// XEP-0352: start inactive (the page is hidden); changed later with [`Command::SetActive`].
    pub inactive: bool,
    /// Rooms to be in (from [`Client::resumption`], or a store): joined again once online, unless the lost
    /// stream is resumed (then we never left them).
    pub rooms: Vec<SavedRoom>,
    /// Fetch the bookmarks (XEP-0402) once online and join those marked autojoin.
    pub bookmarks: bool,
    /// After this long without a stanza from a joined room, ask it whether we are still in (XEP-0410).
    pub room_silence: Duration,
    /// The message history this device holds (XEP-0313 catch-up; see [`mam`]).
    pub history: HistoryConfig,
}

impl Config {
    /// A config with the defaults: no PLAIN, 256 KiB frames, 30 s timeouts, keepalive after 60 s of silence.
    pub fn new(jid: BareJid, credentials: Credentials, client_nonce: String, id_seed: String) -> Config {
        Config {
            jid,
            credentials,
            resource: None,
            mechanisms: vec![Mechanism::ScramSha512, Mechanism::ScramSha256, Mechanism::ScramSha1, Mechanism::Plain],
            allow_plain: false,
            max_frame: framing::DEFAULT_MAX_FRAME,
            request_timeout: Duration::from_secs(30),
            keepalive: Some(Duration::from_secs(60)),
            scram_limits: ScramLimits::default(),
            client_nonce,
            id_seed,
            cached_roster: None,
            initial_presence: Availability::default(),
            sasl2: true,
            stream_from: false,
            user_agent: None,
            request_fast_token: false,
            invalidate_fast_token: false,
            stream: None,
            seen: SeenMessages::default(),
            clock: None,
            inactive: false,
            rooms: Vec::new(),
            bookmarks: true,
            room_silence: muc::ROOM_SILENCE,
            history: HistoryConfig::default(),
        }
    }
}

/// The stage of the stream, carrying exactly what is valid in that stage.
enum Stage {
    /// `<open/>` sent; `authenticated` tells whether this is the stream restarted after SASL.
    AwaitOpen {
        authenticated: bool,
    },
    AwaitFeatures {
        authenticated: bool,
    },
    Auth(auth::Auth),
    /// A SASL2 exchange (which may bind, enable carbons and get a token on the way).
    Sasl2(sasl2::Sasl2),
    /// Bind (and, if the server insists, the legacy session iq) in flight.
    Binding,
    /// `<resume/>` sent (XEP-0198); waiting for `<resumed/>` or `<failed/>`.
    Resuming,
    /// Bound as `jid`; roster requested.
    LoadingRoster,
    Online,
    /// `<close/>` sent; waiting for the server's.
    Closing,
    Closed,
}

/// What an outstanding iq we sent is for.
#[derive(Debug, Clone)]
enum Pending {
    Bind,
    Session,
    RosterGet,
    RosterSet(RosterAction),
    Ping,
    /// XEP-0280 enable; servers without carbons answer with an error, which is fine.
    Carbons,
    /// Group chat and bookmarks; the answer must come from `to` (`None`: our server or account).
    Muc {
        to: Option<Jid>,
        req: Box<muc::Request>,
    },
    /// disco#info of our own account: what its archive offers (XEP-0313).
    ArchiveFeatures,
    /// A MAM query, by its `queryid`.
    Archive(String),
}

/// The sans-IO XMPP client. See the module docs for how to drive it.
pub struct Client {
    config: Config,
    stage: Stage,
    /// Deadline for the current negotiation step (features, SASL answers, close).
    stage_deadline: Option<Instant>,
    /// Our bound full JID, once bound.
    bound: Option<Jid>,
    roster_versioning: bool,
    /// The server requires the legacy RFC 3921 session iq.
    session_needed: bool,
    /// The server offers XEP-0198 stream management / XEP-0352 client state indication on this stream.
    sm_offered: bool,
    csi_offered: bool,
    /// XEP-0198 counters and unacknowledged stanzas.
    sm: sm::Sm,
    /// The lost session's state, until it is resumed (then it is ours) or resumption failed (then dropped).
    carried: Option<CarriedSession>,
    /// Keys of the messages shown (de-duplication).
    seen: SeenMessages,
    /// XEP-0352 state we want the server to know.
    inactive: bool,
    /// A late timer already earned one more probe; reset whenever the server is heard.
    grace_used: bool,
    pending: HashMap<String, (Pending, Instant)>,
    /// Presence of roster contacts and of those in `subscription_requests`; no one else's is kept.
    presences: HashMap<BareJid, ContactPresence>,
    /// Who asked to see our presence and has not been answered yet (reported once each); at most
    /// [`MAX_SUBSCRIPTION_REQUESTS`].
    subscription_requests: HashSet<BareJid>,
    /// The roster as the server last told us (kept to rename or regroup without losing fields).
    roster: HashMap<BareJid, RosterItem>,
    /// The version of `roster` (RFC 6121 §2.6), when the server gave one.
    roster_ver: Option<String>,
    /// SASL succeeded with SCRAM on this stream: the server proved it knows our credentials, and
    /// `config.credentials` holds the keys it accepted.
    server_verified: bool,
    /// The newest FAST token of this session (issued, rotated, or the one logged in with), for
    /// [`Client::resumption`]; memory only.
    fast_token: Option<FastToken>,
    /// Carbons were enabled inline by Bind2: no separate request once online.
    carbons_inline: bool,
    /// A SASL2 login resumed the lost session inline: the features of the new stream are still to come.
    sasl2_features_due: bool,
    own_presence: Availability,
    /// Contacts who sent us a chat state this session: the only ones we send standalone chat states to. At
    /// most [`MAX_CHAT_STATE_PEERS`].
    chat_state_peers: HashSet<BareJid>,
    /// Rooms, bookmarks, invitations.
    muc: muc::Muc,
    /// Our XEP-0115 verification string (what our presence says we support).
    caps_ver: String,
    /// The archive side: catch-up, scroll-back, gaps.
    history: mam::History,
    next_id: u64,
    last_heard: Instant,
    /// `Event::Closed` (or `Redirect`) has been emitted.
    finished: bool,
    transmit: VecDeque<String>,
    events: VecDeque<Event>,
}

impl Client {
    /// Starts a session: queues the opening `<open/>` to the account's domain.
    pub fn new(mut config: Config, now: Instant) -> Client {
        let own_presence = config.initial_presence.clone();
        let history = mam::History::new(config.jid.clone(), config.history.clone(), &config.id_seed);
        // Kept once, in `sm`/`carried`/`seen` (the config would only be a stale second copy).
        let (sm, carried) = sm::Sm::new(config.stream.take());
        let seen = std::mem::take(&mut config.seen);
        let inactive = config.inactive;
        let muc = muc::Muc::new(std::mem::take(&mut config.rooms));
        let mut c = Client {
            sm_offered: false,
            csi_offered: false,
            sm,
            carried,
            seen,
            inactive,
            grace_used: false,
            history,
            stage: Stage::AwaitOpen { authenticated: false },
            stage_deadline: None,
            bound: None,
            roster_versioning: false,
            session_needed: false,
            pending: HashMap::new(),
            presences: HashMap::new(),
            subscription_requests: HashSet::new(),
            roster: HashMap::new(),
            roster_ver: None,
            server_verified: false,
            fast_token: None,
            carbons_inline: false,
            sasl2_features_due: false,
            own_presence,
            chat_state_peers: HashSet::new(),
            muc,
            caps_ver: online::caps_ver(config.bookmarks),
            next_id: 0,
            last_heard: now,
            finished: false,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            config,
        };
        c.open_stream(false, now);
        c.events.push_back(Event::Phase(Phase::Connecting));
        c
    }

    /// The account this client logs in as.
    pub fn account(&self) -> &BareJid {
        &self.config.jid
    }

    /// Our full JID once bound.
    pub fn bound_jid(&self) -> Option<&Jid> {
        self.bound.as_ref()
    }

    pub fn is_online(&self) -> bool {
        matches!(self.stage, Stage::Online)
    }

    /// Whether any iq we sent still awaits its answer.
    pub fn has_pending_requests(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Messages this client owns that the server has not acknowledged (XEP-0198), oldest first. On a server
    /// without stream management this is always empty (a message counts as sent once written).
    pub fn pending_messages(&self) -> Vec<PendingMessage> {
        self.sm.snapshot(None).pending_messages().cloned().collect()
    }

    pub fn is_closed(&self) -> bool {
        self.finished
    }

    /// Whether the server proved on this stream that it knows our credentials (SCRAM's server signature
    /// checked out). PLAIN proves nothing about the server. The transport follows a redirect
    /// ([`Event::Redirect`]) to another host only then ([`crate::transport::url::check_redirect`]).
    pub fn is_server_verified(&self) -> bool {
        self.server_verified
    }

    /// The config for a new session that logs in without the password: the FAST token of this session when it
    /// has one (issued, rotated or logged in with: it works whatever the server's password storage), else the
    /// SCRAM keys this session derived (their mechanism only); our current presence, and the roster with its
    /// version when the server versions rosters. `None` when there is neither (a PLAIN login, or not
    /// authenticated yet). The caller draws a fresh `client_nonce` and `id_seed` before using it.
    ///
    /// It also carries the XEP-0198 state (see [`sm`]: the resumable session, `h`, the unacknowledged
    /// stanzas), the de-duplication memory and the XEP-0352 state; the caller refreshes `clock`.
    pub fn resumption(&self) -> Option<Config> {
        let mut config = self.config.clone();
        match (&self.fast_token, &self.config.credentials) {
            (Some(token), _) => config.credentials = Credentials::Token(token.clone()),
            (None, Credentials::Keys(keys)) if self.server_verified => config.mechanisms = vec![keys.hash.mechanism()],
            _ => return None,
        }
        // The server rotates a token in use by itself; a logout is never resumed.
        config.request_fast_token &= !matches!(config.credentials, Credentials::Token(_));
        config.invalidate_fast_token = false;
        config.initial_presence = self.own_presence.clone();
        let (roster, roster_ver) = match &self.carried {
            Some(c) if self.bound.is_none() => (&c.roster, &c.roster_ver),
            _ => (&self.roster, &self.roster_ver),
        };
        config.cached_roster = match (roster_ver, self.roster_versioning || self.carried.is_some()) {
            (Some(ver), true) => Some((ver.clone(), roster.values().cloned().collect())),
            _ => None,
        };
        let session = match (&self.bound, &self.carried) {
            (Some(jid), _) => Some(CarriedSession {
                jid: jid.clone(),
                roster: self.roster.clone(),
                roster_ver: self.roster_ver.clone(),
                presences: self.presences.clone(),
                chat_state_peers: self.chat_state_peers.clone(),
                muc: self.muc.clone(),
                room_history: self.history.room_tracks(),
            }),
            (None, carried) => carried.clone(),
        };
        config.stream = Some(self.sm.snapshot(session));
        config.seen = self.seen.clone();
        config.inactive = self.inactive;
        config.rooms = self.muc.saved_rooms();
        for saved in &mut config.rooms {
            // Rejoined from the newest point held of its archive (live messages during a cut-short catch-up
            // are not: the catch-up goes on from where it got to).
            if let Some(cursor) = self.history.room_cursor(&saved.room) {
                saved.last_stanza_id = Some(cursor);
            }
        }
        config.history = self.history.config_for_next();
        Some(config)
    }

    /// Feeds one WebSocket text message received from the server.
    pub fn handle_frame(&mut self, text: &str, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.last_heard = now;
        self.grace_used = false;
        match framing::parse_frame(text, self.config.max_frame) {
            Ok(frame) => self.handle_parsed(frame, now),
            Err(e) => {
                // RFC 6120 §4.9: a malformed stream is answered with a stream error, then closed.
                self.send_raw(framing::stream_error(e.condition(), None));
                self.send_raw(framing::close(None));
                self.finish(Some(ClientError::Framing(e)));
            }
        }
        self.after_input(now);
    }

    fn handle_parsed(&mut self, frame: Frame, now: Instant) {
        match frame {
            Frame::Close { see_other_uri } => {
                let closing = matches!(self.stage, Stage::Closing);
                if !closing {
                    self.send_raw(framing::close(None));
                }
                match see_other_uri {
                    Some(uri) if !closing => {
                        self.stage = Stage::Closed;
                        self.finished = true;
                        self.pending.clear();
                        self.events.push_back(Event::Redirect { uri });
                    }
                    _ => {
                        let error = (!closing).then_some(ClientError::ConnectionLost);
                        self.finish(error);
                    }
                }
            }
            Frame::StreamError(e) => {
                self.send_raw(framing::close(None));
                self.finish(Some(ClientError::Stream(e)));
            }
            frame => self.handle_in_stage(frame, now),
        }
    }

    fn handle_in_stage(&mut self, frame: Frame, now: Instant) {
        let stage = std::mem::replace(&mut self.stage, Stage::Closed);
        self.stage = match (stage, frame) {
            (Stage::AwaitOpen { authenticated }, Frame::Open(_)) => {
                self.stage_deadline = Some(now + self.config.request_timeout);
                Stage::AwaitFeatures { authenticated }
            }
            (Stage::AwaitFeatures { authenticated: false }, Frame::Features(f)) => self.start_auth(&f, now),
            (Stage::AwaitFeatures { authenticated: true }, Frame::Features(f)) => self.start_bind(&f, now),
            (Stage::Auth(auth), Frame::Sasl(el)) => self.continue_auth(auth, &el, now),
            (Stage::Sasl2(state), Frame::Nonza(el)) if sasl2::is_sasl2(&el) => self.continue_sasl2(state, &el, now),
            // Bound by Bind2, the server may route to us before it sends the features of the new stream.
            (stage @ Stage::AwaitFeatures { authenticated: true }, Frame::Stanza(el)) if self.bound.is_some() => {
                self.stage = stage;
                self.sm.count_inbound();
                self.handle_stanza(&el, now);
                return;
            }
            // Resumed inside SASL2 (already online): the new stream's features tell only what it offers.
            (Stage::Online, Frame::Features(f)) if self.sasl2_features_due => {
                self.sasl2_features_due = false;
                self.post_resume_features(&f);
                Stage::Online
            }
            (stage @ (Stage::Binding | Stage::LoadingRoster | Stage::Online), Frame::Stanza(el)) => {
                self.stage = stage;
                self.sm.count_inbound();
                self.handle_stanza(&el, now);
                return;
            }
            (stage, Frame::Nonza(el)) if el.ns == sm::SM_NS => self.handle_sm(stage, &el, now),
            (stage, Frame::Nonza(_)) => stage, // nothing else we enabled sends these; ignoring is safe (RFC 6120 §4.9.3.17 allows leniency for unknown extensions)
            (Stage::Closing, _) => Stage::Closing,
            (_, _) => {
                self.protocol_error("an element arrived that does not belong at this point of the stream");
                return;
            }
        };
    }

    /// Carries out a user action.
    pub fn handle_command(&mut self, command: Command, now: Instant) -> Result<(), CommandError> {
        match command {
            Command::Close => {
                self.close(now);
                return Ok(());
            }
            Command::SetActive(active) => {
                self.set_active(active, now);
                self.after_input(now);
                return Ok(());
            }
            _ => {}
        }
        if !self.is_online() {
            return Err(CommandError::NotOnline);
        }
        let result = self.run_command(command, now);
        self.after_input(now);
        result
    }

    /// Call when the timer armed for [`Client::poll_timeout`] fires (or any time later).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.stage_deadline.is_some_and(|d| now >= d) {
            self.stage_deadline = None;
            let stage = match self.stage {
                Stage::AwaitOpen { .. } | Stage::AwaitFeatures { .. } => "opening the stream",
                Stage::Auth(_) | Stage::Sasl2(_) => "authentication",
                Stage::Closing => {
                    self.finish(None);
                    return;
                }
                _ => "negotiation",
            };
            self.send_raw(framing::stream_error("connection-timeout", None));
            self.send_raw(framing::close(None));
            self.finish(Some(ClientError::Timeout { stage }));
            return;
        }
        let expired: Vec<(String, Instant)> = self
            .pending
            .iter()
            .filter(|(_, (_, deadline))| now >= *deadline)
            .map(|(id, (_, deadline))| (id.clone(), *deadline))
            .collect();
        for (id, deadline) in expired {
            if let Some((what, _)) = self.pending.remove(&id) {
                if matches!(what, Pending::Ping) && self.late_grace(deadline, now) {
                    self.send_ping(now);
                    continue;
                }
                self.request_timed_out(what, now);
                if self.is_closed() {
                    return;
                }
            }
        }
        if let Some(deadline) = self.sm.ack_deadline.filter(|d| now >= *d) {
            if self.late_grace(deadline, now) {
                let r = self.sm.probe(now + self.config.request_timeout);
                self.send(&r);
            } else {
                // No `<close/>`: a stalled stream may still carry it to the server later (when the stall ends),
                // which would end the session the server keeps for us to resume. Dropped like a lost connection.
                self.finish(Some(ClientError::Timeout { stage: "waiting for the server to confirm what Natter sent" }));
                return;
            }
        }
        self.muc_timeout(now);
        self.maybe_keepalive(now);
        self.after_input(now);
    }

    /// A liveness deadline passed: when the timer fired well after it (the page slept or was throttled), or
    /// we told the server we are inactive (XEP-0352: it may hold back what it sends, and Prosody 0.12 was seen
    /// holding an `<a/>` already written until something important came), and the server has been heard
    /// since the last such grace, allow one fresh answer window (with a new probe) instead of failing.
    fn late_grace(&mut self, deadline: Instant, now: Instant) -> bool {
        if self.grace_used || (now < deadline + LATE_TIMER && !self.inactive) {
            return false;
        }
        self.grace_used = true;
        true
    }

    /// After every input: the archive queries it made due (a room left lets another room's catch-up start),
    /// one `<r/>` for the stanzas that input sent (XEP-0198 acks are requested per batch), and the end of a
    /// session whose server stopped acknowledging.
    fn after_input(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.is_online() {
            self.send_archive_queries(now);
        }
        if self.sm.overflowing() {
            self.send_raw(framing::close(None));
            self.finish(Some(ClientError::Timeout { stage: "waiting for the server to confirm what Natter sent" }));
            return;
        }
        if let Some(r) = self.sm.request_if_due(now + self.config.request_timeout) {
            self.send(&r);
        }
    }

    /// Call when the WebSocket closed (or failed) underneath us.
    pub fn handle_transport_closed(&mut self) {
        if !self.is_closed() {
            let polite = matches!(self.stage, Stage::Closing);
            self.finish((!polite).then_some(ClientError::ConnectionLost));
        }
    }

    /// The next frame to send, in order.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next event for the UI.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] should be called next; `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        let requests = self.pending.values().map(|(_, d)| *d);
        let keepalive = match (self.is_online(), self.config.keepalive) {
            (true, Some(k)) if !self.probing() => Some(self.last_heard + k),
            _ => None,
        };
        let muc = if self.is_online() { self.muc_deadline() } else { None };
        requests.chain(self.stage_deadline).chain(keepalive).chain(self.sm.ack_deadline).chain(muc).min()
    }

    // ---- shared helpers -------------------------------------------------------------------------------

    fn open_stream(&mut self, authenticated: bool, now: Instant) {
        self.stage = Stage::AwaitOpen { authenticated };
        self.stage_deadline = Some(now + self.config.request_timeout);
        let from = self.config.stream_from.then(|| self.config.jid.to_string());
        self.send_raw(framing::open(self.config.jid.domain(), from.as_deref(), None));
    }

    fn send_raw(&mut self, frame: String) {
        self.transmit.push_back(frame);
    }

    /// Sends an element; stanzas are counted and kept until acknowledged (XEP-0198).
    fn send(&mut self, el: &Element) {
        let xml = el.to_xml();
        if el.ns == CLIENT_NS && matches!(el.name.as_str(), "iq" | "message" | "presence") {
            self.sm.record_outbound(&xml, None);
        }
        self.transmit.push_back(xml);
    }

    /// Sends one of our chat messages (already serialized as `xml`); when the server does not acknowledge
    /// stanzas (no XEP-0198), it counts as sent once written.
    fn send_message(&mut self, xml: String, pending: PendingMessage) {
        let id = pending.message.id.clone();
        let kept = self.sm.record_outbound(&xml, Some(pending));
        self.transmit.push_back(xml);
        if !kept && let Some(id) = id {
            self.events.push_back(Event::MessageAcked { id });
        }
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.config.id_seed, self.next_id)
    }

    /// Sends an iq of `kind` ("get"/"set") with `payload` to `to` (None = our account/server) and tracks it.
    fn send_iq(&mut self, kind: &str, to: Option<&str>, payload: Element, what: Pending, now: Instant) -> String {
        let id = self.new_id();
        let mut iq = Element::new(CLIENT_NS, "iq").with_attr("type", kind).with_attr("id", id.as_str());
        if let Some(to) = to {
            iq.set_attr("to", to);
        }
        iq.push_child(payload);
        self.send(&iq);
        self.pending.insert(id.clone(), (what, now + self.config.request_timeout));
        id
    }

    fn protocol_error(&mut self, what: &'static str) {
        self.send_raw(framing::stream_error("unsupported-stanza-type", None));
        self.send_raw(framing::close(None));
        self.finish(Some(ClientError::Protocol(what)));
    }

    /// Politely closes: unavailable presence is implied by closing the stream (RFC 6121 §4.6.1).
    fn close(&mut self, now: Instant) {
        match self.stage {
            Stage::Closed | Stage::Closing => {}
            _ => {
                self.send_raw(framing::close(None));
                self.stage = Stage::Closing;
                self.pending.clear();
                self.stage_deadline = Some(now + self.config.request_timeout.min(Duration::from_secs(5)));
                self.events.push_back(Event::Phase(Phase::Closing));
            }
        }
    }

    fn finish(&mut self, error: Option<ClientError>) {
        if self.finished {
            return;
        }
        self.history.closed(&mut self.events);
        self.finished = true;
        self.stage = Stage::Closed;
        self.stage_deadline = None;
        self.pending.clear();
        self.events.push_back(Event::Closed { error });
    }
}
