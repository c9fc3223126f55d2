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
//! [`Client::resumption`]: the SCRAM keys this session derived, its current presence and (when the server
//! versions rosters) its roster with that version.
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
mod events;
mod online;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use web_time::Instant;

use crate::xmpp::framing::{self, CLIENT_NS, Frame};
use crate::xmpp::jid::{BareJid, Jid};
use crate::xmpp::sasl::{Credentials, Mechanism, ScramLimits};
use crate::xmpp::stanza::presence::{Availability, ContactPresence};
use crate::xmpp::stanza::roster::RosterItem;
use crate::xmpp::xml::Element;

pub use events::{ClientError, Command, CommandError, Event, Phase, RequestError, RosterAction};

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
    /// Bind (and, if the server insists, the legacy session iq) in flight.
    Binding,
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
    own_presence: Availability,
    /// Contacts who sent us a chat state this session: the only ones we send standalone chat states to. At
    /// most [`MAX_CHAT_STATE_PEERS`].
    chat_state_peers: HashSet<BareJid>,
    next_id: u64,
    last_heard: Instant,
    /// `Event::Closed` (or `Redirect`) has been emitted.
    finished: bool,
    transmit: VecDeque<String>,
    events: VecDeque<Event>,
}

impl Client {
    /// Starts a session: queues the opening `<open/>` to the account's domain.
    pub fn new(config: Config, now: Instant) -> Client {
        let own_presence = config.initial_presence.clone();
        let mut c = Client {
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
            own_presence,
            chat_state_peers: HashSet::new(),
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

    pub fn is_closed(&self) -> bool {
        self.finished
    }

    /// Whether the server proved on this stream that it knows our credentials (SCRAM's server signature
    /// checked out). PLAIN proves nothing about the server. The transport follows a redirect
    /// ([`Event::Redirect`]) to another host only then ([`crate::transport::url::check_redirect`]).
    pub fn is_server_verified(&self) -> bool {
        self.server_verified
    }

    /// The config for a new session that logs in without the password: the SCRAM keys this session derived
    /// (its mechanism only), our current presence, and the roster with its version when the server versions
    /// rosters. `None` when there are no keys (a PLAIN login, or not authenticated yet). The caller draws a
    /// fresh `client_nonce` and `id_seed` before using it.
    pub fn resumption(&self) -> Option<Config> {
        let Credentials::Keys(keys) = &self.config.credentials else { return None };
        if !self.server_verified {
            return None;
        }
        let mut config = self.config.clone();
        config.mechanisms = vec![keys.hash.mechanism()];
        config.initial_presence = self.own_presence.clone();
        config.cached_roster = match (&self.roster_ver, self.roster_versioning) {
            (Some(ver), true) => Some((ver.clone(), self.roster.values().cloned().collect())),
            _ => None,
        };
        Some(config)
    }

    /// Feeds one WebSocket text message received from the server.
    pub fn handle_frame(&mut self, text: &str, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.last_heard = now;
        match framing::parse_frame(text, self.config.max_frame) {
            Ok(frame) => self.handle_parsed(frame, now),
            Err(e) => {
                // RFC 6120 §4.9: a malformed stream is answered with a stream error, then closed.
                self.send_raw(framing::stream_error(e.condition(), None));
                self.send_raw(framing::close(None));
                self.finish(Some(ClientError::Framing(e)));
            }
        }
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
            (stage @ (Stage::Binding | Stage::LoadingRoster | Stage::Online), Frame::Stanza(el)) => {
                self.stage = stage;
                self.handle_stanza(&el, now);
                return;
            }
            (stage, Frame::Nonza(_)) => stage, // nothing we enabled sends these; ignoring is safe (RFC 6120 §4.9.3.17 allows leniency for unknown extensions)
            (Stage::Closing, _) => Stage::Closing,
            (_, _) => {
                self.protocol_error("an element arrived that does not belong at this point of the stream");
                return;
            }
        };
    }

    /// Carries out a user action.
    pub fn handle_command(&mut self, command: Command, now: Instant) -> Result<(), CommandError> {
        if let Command::Close = command {
            self.close(now);
            return Ok(());
        }
        if !self.is_online() {
            return Err(CommandError::NotOnline);
        }
        self.run_command(command, now)
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
                Stage::Auth(_) => "authentication",
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
        let expired: Vec<String> =
            self.pending.iter().filter(|(_, (_, deadline))| now >= *deadline).map(|(id, _)| id.clone()).collect();
        for id in expired {
            if let Some((what, _)) = self.pending.remove(&id) {
                self.request_timed_out(what);
                if self.is_closed() {
                    return;
                }
            }
        }
        self.maybe_keepalive(now);
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
            (true, Some(k)) if !self.pending.values().any(|(p, _)| matches!(p, Pending::Ping)) => {
                Some(self.last_heard + k)
            }
            _ => None,
        };
        requests.chain(self.stage_deadline).chain(keepalive).min()
    }

    // ---- shared helpers -------------------------------------------------------------------------------

    fn open_stream(&mut self, authenticated: bool, now: Instant) {
        self.stage = Stage::AwaitOpen { authenticated };
        self.stage_deadline = Some(now + self.config.request_timeout);
        self.send_raw(framing::open(self.config.jid.domain(), None));
    }

    fn send_raw(&mut self, frame: String) {
        self.transmit.push_back(frame);
    }

    fn send(&mut self, el: &Element) {
        self.transmit.push_back(el.to_xml());
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
        self.finished = true;
        self.stage = Stage::Closed;
        self.stage_deadline = None;
        self.pending.clear();
        self.events.push_back(Event::Closed { error });
    }
}
