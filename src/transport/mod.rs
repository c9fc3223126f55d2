//! The thin transport: the browser WebSocket (subprotocol `xmpp`), one timer, randomness, and endpoint
//! discovery. It feeds the sans-IO core ([`crate::xmpp::Client`]) and drains it; no protocol logic lives here.
//!
//! ```text
//!   connect(options, on_event) ─▶ resolve URL ─▶ WebSocket "xmpp" ─open─▶ Client::new(fresh nonce, id seed)
//!        server_url, or config.json,                 │ text message ─▶ handle_frame ─┐
//!        or XEP-0156 host-meta(.json)                │ close/error  ─▶ handle_transport_closed
//!                                                    │ timer        ─▶ handle_timeout ─┤
//!   Session::send(cmd) ─▶ handle_command ────────────┼─────────────────────────────────┤
//!                                                    ▼                                 ▼ drain:
//!        frames ◀─ poll_transmit   ·   on_event(Core(ev)) ◀─ poll_event   ·   one setTimeout ◀─ poll_timeout
//! ```
//!
//! Usage (the UI):
//! ```text
//! let session = transport::connect(options, move |ev: TransportEvent| { /* apply to the store */ });
//! session.send(Command::SendMessage { .. })?;   // Result<(), CommandError>
//! session.close();                              // polite close; dropping the Session also releases everything
//! ```
//!
//! Events: `Discovering` (only when no server URL was given) → `Connecting { url }` → `Core(..)`… and then
//! exactly one final event: `Core(Event::Closed { .. })` or `Failed(..)`, preceded by `Unsent(..)` when the core
//! still owned unacknowledged messages. A redirect (`<close see-other-uri/>`)
//! is followed transparently when [`url::check_redirect`] allows it (never to `ws://` from `wss://`, never to
//! another host before the server proved itself, at most [`url::MAX_REDIRECTS`] in a row): the UI sees another
//! `Connecting { url }`, never `Core(Event::Redirect)`; a refused one ends with `Failed(RedirectRefused)`.
//! `on_event` is always called asynchronously (from a microtask, never from inside `connect`, `send` or
//! `close`), so it may call `send`/`close` and may drop the `Session`.
//!
//! Reconnection: once a session has been online, a loss that [`reconnect::worth_retrying`] calls transient
//! (socket closed, ping timeout, `system-shutdown`, …) is not final. The transport reports
//! `Reconnecting { delay, .. }`, waits (exponential backoff with jitter from `Math.random`), then starts over
//! at `Connecting { url }` with the same URL and [`Client::resumption`]: the session's FAST token when it has
//! one (XEP-0484: it works whatever the server's password storage), else its SCRAM keys (kept in memory only,
//! never the password, which is dropped once the session is online), its presence, its versioned roster, and
//! its XEP-0198 state: the new client resumes the lost stream (`Online { resumed: true }`, nothing reloaded,
//! unacknowledged stanzas replayed; inside the SASL2 exchange where the server offers it) or, when the server
//! forgot it, binds afresh and resends the unacknowledged messages once with their original ids (see
//! [`crate::xmpp::client`]). Each new client gets a fresh wall-clock reading (for the delay stamps of resent
//! messages) and the page's visibility. It tries again at once when the browser reports `online`, when the page
//! becomes visible after a long time hidden, or on [`Session::reconnect_now`]. While the browser says it is
//! offline, it waits for `online` instead of spending attempts. It gives up with `Failed(GaveUp)` after
//! [`MAX_ATTEMPTS`], with the final event of any non-transient error, and with `Failed(CannotReconnect)` after a
//! PLAIN login (no keys, no token).
//!
//! Hidden tabs: `visibilitychange` becomes `Command::SetActive` (XEP-0352 CSI; the core re-sends it after every
//! reconnect). Browsers run a hidden tab's timers late (≥ 1 s, then about once a minute): the core treats a
//! liveness deadline its timer overshot as a reason for one more probe, not as a dead connection, and probes
//! at once when the page shows again after a silence, so a socket that died in sleep is replaced (resumed)
//! without the person doing anything.
//! [`Session::close`] cancels a pending attempt and forgets the keys.
//!
//! Credentials, exactly: the password arrives in [`ConnectOptions`] and becomes the session's
//! `Credentials::Password`; each socket's core gets a copy, which the core drops when SASL starts. The
//! transport's own copy is replaced (and so wiped, `Credentials` wipes a password it drops) once the session
//! is online, or when it is closed or gives up. From then on the only credentials are the SCRAM keys (or a FAST token): inside the
//! running core, and in the config for the next attempt after a loss (from [`Client::resumption`]), also
//! wiped when dropped. Nothing is written to storage.
//!
//! Staying logged in (XEP-0484 FAST, SASL2): [`ConnectOptions`] carry this device's id and, after a reload, the
//! token the UI kept instead of a password; with `stay_logged_in` a password login asks for a token, which the
//! UI receives as `Core(Event::FastToken)` (and again whenever the count advances or the server rotates it).
//! The stream header names the account only where [`stream_from_allowed`] says so.
//!
//! [`reconnect::worth_retrying`]: crate::xmpp::reconnect::worth_retrying
//! [`Client::resumption`]: crate::xmpp::Client::resumption
//!
//! What this module does NOT do: no XML, no SASL, no storage of credentials (not even of derived keys or
//! tokens: storing a token is the UI's, when the person asked to stay logged in), and no
//! `ws://` to anything but this computer ([`url`]). Browser resources (socket handlers, the timer, the
//! browser listeners) are owned values, released when the session ends or the last `Session` clone is
//! dropped; nothing is `forget()`-ed.
//!
//! [`url`] and [`discovery`] are pure and compile natively (tested by `cargo test`); the WebSocket part and
//! discovery's fetching ([`lookup`]) are wasm32-only.

pub mod discovery;
#[cfg(target_arch = "wasm32")]
pub mod lookup;
pub mod url;
#[cfg(target_arch = "wasm32")]
mod web;

pub use url::{RedirectRefusal, check_ws_url, csp_allows_ws_host, is_loopback_url, is_secure_url};
#[cfg(target_arch = "wasm32")]
pub use web::{Session, connect, message_id, new_device_id};

use std::time::Duration;

use crate::storage::sync::Seed;
use crate::xmpp::client::UserAgent;
use crate::xmpp::jid::BareJid;
use crate::xmpp::sasl::{Credentials, FastToken};
use crate::xmpp::{Config, Event};
use discovery::DiscoveryError;

/// Largest frame a browser session accepts: a roster result of ~70,000 contacts. (The core's default, 256 KiB,
/// is ~2,300 contacts.) Larger frames still end the session with a framing error the UI shows.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;

/// Reconnection attempts after a lost session before giving up (with backoff: about 5–10 minutes).
pub const MAX_ATTEMPTS: u32 = 10;

/// The software name in the XEP-0388 user agent (servers show it in their list of devices).
pub const SOFTWARE: &str = "Natter";

/// The core's config for a browser session from what the login asked for (nonce and id seed are drawn per
/// socket; whether the stream header may name the account is decided per URL, in [`stream_from_allowed`]).
pub fn session_config(options: ConnectOptions) -> Config {
    let ConnectOptions { jid, password, token, device_id, stay_logged_in, log_out, server_url: _, seed } = options;
    let request_fast_token = stay_logged_in && token.is_none();
    let invalidate_fast_token = log_out && token.is_some();
    let credentials = match token {
        Some(token) => Credentials::Token(token),
        None => Credentials::Password(password),
    };
    let mut config = Config::new(jid, credentials, String::new(), String::new());
    config.max_frame = MAX_FRAME;
    config.user_agent = device_id.map(|id| UserAgent { id, software: Some(SOFTWARE.to_owned()), device: None });
    config.request_fast_token = request_fast_token;
    config.invalidate_fast_token = invalidate_fast_token;
    if let Some(seed) = seed {
        seed.apply(&mut config.cached_roster, &mut config.history, &mut config.seen, &mut config.rooms);
    }
    config
}

/// Whether the stream header may carry `from='account'` (which modern servers need before they offer FAST):
/// over `wss://` the header travels inside TLS and only the server reads it; over `ws://` (loopback only,
/// see [`url`]) it never leaves this computer. Anywhere else it would tell every observer on the path which
/// account is connecting before any authentication.
pub fn stream_from_allowed(url: &str) -> bool {
    is_secure_url(url) || is_loopback_url(url)
}

/// A XEP-0388 user-agent id from 16 random bytes: a version 4 UUID (RFC 9562 §5.4), lower-case hex.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// What the login form (or the local store, after a reload) hands the transport. (`Debug` prints the password
/// and the token as `<redacted>`.)
#[derive(Clone)]
pub struct ConnectOptions {
    pub jid: BareJid,
    /// Used for this login only; never stored. Not used when `token` is set.
    pub password: String,
    /// An explicit WebSocket URL ("Advanced → Server URL"); `None` (or blank) = config.json / XEP-0156
    /// discovery.
    pub server_url: Option<String>,
    /// A XEP-0484 FAST token kept from an earlier login on this device: log in with it, without the password.
    /// The login emits `Core(Event::FastToken)` with its count advanced (keep that one). A refused token ends
    /// with `Core(Event::Closed { error })` where `error.needs_password()`: forget it and show the login
    /// form with the address filled in.
    pub token: Option<FastToken>,
    /// This device's XEP-0388 user-agent id (see [`new_device_id`](crate::transport::new_device_id)), drawn
    /// once and kept with the account; FAST tokens belong to it. `None`: no FAST.
    pub device_id: Option<String>,
    /// "Stay logged in on this device": at a password login, ask the server for a FAST token; it arrives as
    /// `Core(Event::FastToken)` (keep it, with `device_id`). Also what reconnects use after a drop.
    pub stay_logged_in: bool,
    /// With `token`: log out on the server, i.e. only have it revoke the token, then close:
    /// `Core(Event::FastTokenInvalidated)`, then `Core(Event::Closed { error: None })`.
    pub log_out: bool,
    /// What the local store holds for this account (cached roster + version, the archive cursor, de-dup keys):
    /// the core starts from it instead of from nothing.
    pub seed: Option<Seed>,
}

impl ConnectOptions {
    /// A login with the password typed, nothing else asked for.
    pub fn with_password(jid: BareJid, password: String, server_url: Option<String>) -> ConnectOptions {
        ConnectOptions {
            jid,
            password,
            server_url,
            token: None,
            device_id: None,
            stay_logged_in: false,
            log_out: false,
            seed: None,
        }
    }
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("jid", &self.jid)
            .field("password", &"<redacted>")
            .field("server_url", &self.server_url)
            .field("token", &self.token)
            .field("device_id", &self.device_id)
            .field("stay_logged_in", &self.stay_logged_in)
            .field("log_out", &self.log_out)
            .field("seed", &self.seed.is_some())
            .finish()
    }
}

/// Everything the transport reports to the UI. `Failed` and `Core(Event::Closed { .. })` are final.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // moved once per event; boxing `Core` would only make the UI's matches clumsier
pub enum TransportEvent {
    /// Looking up the WebSocket endpoint for the domain.
    Discovering,
    /// Opening the WebSocket to `url`.
    Connecting { url: String },
    /// An event from the XMPP core. (`FastToken` is passed on, for the UI to keep when "Stay logged in" was
    /// asked for.)
    Core(Event),
    /// The session was lost (`reason`); attempt number `attempt` starts in `delay` (or when the network is back).
    Reconnecting { attempt: u32, delay: Duration, reason: String },
    /// Right before a final event: messages the core had taken (`SendMessage`) that the server never
    /// acknowledged (XEP-0198), oldest first. The session that owned them is over, so they go back to the UI
    /// (its outbox: "not sent yet"); they were not lost, and may have reached the peer (same id: the peer
    /// de-duplicates a second copy). Only emitted when there are some.
    Unsent(Vec<crate::xmpp::client::PendingMessage>),
    /// The connection could not be made; final. (A session that was up ends with `Core(Event::Closed)`.)
    Failed(TransportError),
}

/// Why there is no connection, in words a person understands (Display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// `ws://` to a non-loopback host: credentials would travel unencrypted.
    InsecureUrl {
        url: String,
    },
    InvalidUrl {
        url: String,
    },
    /// `ws://` to this computer written in a form the page's Content-Security-Policy cannot allow (`[::1]`,
    /// `127.0.0.2`, a trailing dot): the browser would block it without a word (see [`url`]).
    LoopbackSpelling {
        url: String,
    },
    /// No WebSocket endpoint found by config or XEP-0156 for this domain; `problems` are the documents that
    /// were there but broken, too large or too slow (missing ones are not listed).
    NoEndpoint {
        domain: String,
        problems: Vec<DiscoveryError>,
    },
    /// The WebSocket could not be opened or closed before the stream started, and nothing answers there.
    Unreachable {
        url: String,
    },
    /// The WebSocket could not be opened, but a web server answers at that address (a 404, a web page, a
    /// WebSocket without the `xmpp` subprotocol): the URL is not an XMPP WebSocket endpoint.
    NotXmppEndpoint {
        url: String,
    },
    /// The socket closed unexpectedly during the session. (Not emitted by the transport today: a lost
    /// session ends with `Core(Event::Closed { error: Some(ClientError::ConnectionLost) })`.)
    ConnectionLost,
    /// The server redirected us (`see-other-uri`) to `url`, and that is not followed (`why`).
    RedirectRefused {
        url: String,
        why: RedirectRefusal,
    },
    /// The session was lost and there are no keys or token to log in again without the password (a PLAIN
    /// login).
    CannotReconnect {
        reason: String,
    },
    /// The session was lost and [`MAX_ATTEMPTS`] attempts to reconnect failed.
    GaveUp {
        attempts: u32,
        reason: String,
    },
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::InsecureUrl { url } => write!(
                f,
                "Refusing to send your password unencrypted to {url}: use a wss:// address (ws:// is only allowed to this computer: 127.0.0.1 or localhost)."
            ),
            TransportError::InvalidUrl { url } => write!(f, "“{url}” is not a WebSocket address (ws:// or wss://)."),
            TransportError::LoopbackSpelling { url } => write!(
                f,
                "{url} is this computer, but the page's security policy only lets Natter use ws:// to 127.0.0.1, \
                 localhost or a name ending in .localhost: write the address that way, or use wss://."
            ),
            TransportError::NoEndpoint { domain, problems } => {
                write!(f, "No XMPP WebSocket endpoint was found for {domain}")?;
                for (i, p) in problems.iter().enumerate() {
                    f.write_str(if i == 0 { " (" } else { "; " })?;
                    write!(f, "{p}")?;
                }
                if !problems.is_empty() {
                    f.write_str(")")?;
                }
                f.write_str(". Enter the server URL under Advanced.")
            }
            TransportError::Unreachable { url } => write!(f, "The server at {url} could not be reached."),
            TransportError::NotXmppEndpoint { url } => write!(
                f,
                "The server at {url} answered, but it is not an XMPP WebSocket endpoint: check the address (for \
                 Prosody it usually ends in /xmpp-websocket, for ejabberd in /ws)."
            ),
            TransportError::ConnectionLost => write!(f, "The connection to the server was lost."),
            TransportError::RedirectRefused { url, why } => {
                write!(f, "The server redirected the connection to {url}, which Natter does not follow: {why}.")
            }
            TransportError::CannotReconnect { reason } => write!(
                f,
                "{reason} Natter cannot reconnect by itself after a login with PLAIN (it never keeps your password)."
            ),
            TransportError::GaveUp { attempts, reason } => {
                write!(f, "{reason} Gave up after {attempts} attempts to reconnect.")
            }
        }
    }
}

impl std::error::Error for TransportError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::sasl::Mechanism;

    fn options() -> ConnectOptions {
        ConnectOptions::with_password(BareJid::parse("alice@example.org").unwrap(), "pw".into(), None)
    }

    #[test]
    fn the_account_goes_on_the_stream_header_only_inside_tls_or_on_this_computer() {
        assert!(stream_from_allowed("wss://chat.example.org/xmpp-websocket"));
        assert!(stream_from_allowed("ws://127.0.0.1:5280/xmpp-websocket"));
        assert!(stream_from_allowed("ws://localhost:5280/ws"));
        assert!(!stream_from_allowed("ws://chat.example.org/xmpp-websocket"));
        assert!(!stream_from_allowed("not a url"));
    }

    #[test]
    fn a_browser_session_keeps_bookmarks_and_autojoins_them() {
        // The group chat UI shows the rooms autojoin puts the person in (src/ui/rooms/).
        assert!(session_config(options()).bookmarks);
    }

    #[test]
    fn a_password_login_asks_for_a_token_only_when_staying_logged_in() {
        let c = session_config(options());
        assert_eq!(c.credentials, Credentials::Password("pw".into()));
        assert!(!c.request_fast_token && !c.invalidate_fast_token && c.user_agent.is_none());
        let c = session_config(ConnectOptions { stay_logged_in: true, device_id: Some("dev".into()), ..options() });
        assert!(c.request_fast_token);
        assert_eq!(c.user_agent.unwrap().id, "dev");
        assert_eq!(c.max_frame, MAX_FRAME);
    }

    #[test]
    fn a_kept_token_replaces_the_password_and_can_log_out() {
        let token = FastToken::issued(Mechanism::HtSha256None, "tok", None).unwrap();
        let with_token = ConnectOptions { token: Some(token.clone()), stay_logged_in: true, ..options() };
        let c = session_config(with_token.clone());
        assert_eq!(c.credentials, Credentials::Token(token.clone()));
        assert!(!c.request_fast_token, "the server rotates a token in use by itself");
        assert!(session_config(ConnectOptions { log_out: true, ..with_token }).invalidate_fast_token);
        // `log_out` without a token has nothing to revoke: an ordinary login.
        assert!(!session_config(ConnectOptions { log_out: true, ..options() }).invalidate_fast_token);
        let shown = format!("{:?}", ConnectOptions { token: Some(token), ..options() });
        assert!(!shown.contains("tok\"") && !shown.contains("\"pw\""), "{shown}");
    }

    #[test]
    fn a_seed_from_the_store_reaches_the_core_config() {
        use crate::storage::sync::Seed;
        use crate::xmpp::stanza::roster::RosterItem;
        let bob = BareJid::parse("bob@example.org").unwrap();
        let mut seed = Seed {
            roster: Some(("v7".into(), vec![RosterItem::new(bob.clone())])),
            last_id: Some("c1".into()),
            last_time: Some(42),
            ..Seed::default()
        };
        seed.seen.insert(crate::xmpp::client::SeenKey::StanzaId("s1".into()));
        let c = session_config(ConnectOptions { seed: Some(seed), ..options() });
        assert_eq!(c.cached_roster.map(|(v, items)| (v, items.len())), Some(("v7".into(), 1)));
        assert_eq!((c.history.last_id.as_deref(), c.history.last_time, c.seen.len()), (Some("c1"), Some(42), 1));
        assert!(session_config(options()).history.last_id.is_none());
    }

    #[test]
    fn device_ids_are_version_4_uuids() {
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }
}
