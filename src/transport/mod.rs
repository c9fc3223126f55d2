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
//! is followed once, transparently: the UI sees a second `Connecting { url }`, never `Core(Event::Redirect)`.
//! `on_event` is always called asynchronously (from a microtask, never from inside `connect`, `send` or
//! `close`), so it may call `send`/`close` and may drop the `Session`.
//!
//! Reconnection: once a session has been online, a loss that [`reconnect::worth_retrying`] calls transient
//! (socket closed, ping timeout, `system-shutdown`, …) is not final. The transport reports
//! `Reconnecting { delay, .. }`, waits (exponential backoff with jitter from `Math.random`), then starts over
//! at `Connecting { url }` with the same URL and [`Client::resumption`]: the SCRAM keys of the session (kept in
//! memory only, never the password, which is dropped once the session is online), its presence, its
//! versioned roster, and its XEP-0198 state: the new client resumes the lost stream (`Online { resumed: true }`,
//! nothing reloaded, unacknowledged stanzas replayed) or, when the server forgot it, binds afresh and resends
//! the unacknowledged messages once with their original ids (see [`crate::xmpp::client`]). Each new client
//! gets a fresh wall-clock reading (for the delay stamps of resent messages) and the page's visibility. It tries again at once when the browser reports `online`, when the page becomes visible
//! after a long time hidden, or on [`Session::reconnect_now`]. While the browser says it is offline, it waits
//! for `online` instead of spending attempts. It gives up with `Failed(GaveUp)` after [`MAX_ATTEMPTS`], with
//! the final event of any non-transient error, and with `Failed(CannotReconnect)` after a PLAIN login (no keys).
//!
//! Hidden tabs: `visibilitychange` becomes `Command::SetActive` (XEP-0352 CSI; the core re-sends it after every
//! reconnect). Browsers run a hidden tab's timers late (≥ 1 s, then about once a minute): the core treats a
//! liveness deadline its timer overshot as a reason for one more probe, not as a dead connection, and probes
//! at once when the page shows again after a silence, so a socket that died in sleep is replaced (resumed)
//! without the person doing anything.
//! [`Session::close`] cancels a pending attempt and forgets the keys.
//!
//! [`reconnect::worth_retrying`]: crate::xmpp::reconnect::worth_retrying
//! [`Client::resumption`]: crate::xmpp::Client::resumption
//!
//! What this module does NOT do: no XML, no SASL, no storage of credentials (not even of derived keys), and no
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

pub use url::{check_ws_url, csp_allows_ws_host, is_loopback_url, is_secure_url};
#[cfg(target_arch = "wasm32")]
pub use web::{Session, connect, message_id};

use std::time::Duration;

use crate::xmpp::jid::BareJid;
use crate::xmpp::sasl::Credentials;
use crate::xmpp::{Config, Event};
use discovery::DiscoveryError;

/// Largest frame a browser session accepts: a roster result of ~70,000 contacts. (The core's default, 256 KiB,
/// is ~2,300 contacts.) Larger frames still end the session with a framing error the UI shows.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;

/// Reconnection attempts after a lost session before giving up (with backoff: about 5–10 minutes).
pub const MAX_ATTEMPTS: u32 = 10;

/// The core's config for a browser session (nonce and id seed are drawn per socket).
pub fn session_config(jid: BareJid, credentials: Credentials) -> Config {
    let mut config = Config::new(jid, credentials, String::new(), String::new());
    config.max_frame = MAX_FRAME;
    // No group chat UI yet: autojoining bookmarked rooms would put the person in rooms they cannot see.
    // The UI of issue 15 turns this on.
    config.bookmarks = false;
    config
}

/// What the login form collected. (`Debug` prints the password as `<redacted>`.)
#[derive(Clone)]
pub struct ConnectOptions {
    pub jid: BareJid,
    /// Used for this login only; never stored.
    pub password: String,
    /// An explicit WebSocket URL ("Advanced → Server URL"); `None` (or blank) = config.json / XEP-0156
    /// discovery.
    pub server_url: Option<String>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("jid", &self.jid)
            .field("password", &"<redacted>")
            .field("server_url", &self.server_url)
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
    /// An event from the XMPP core. (`KeysDerived` is kept by the transport, never passed on.)
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
    /// The server redirected us (`see-other-uri`) a second time; we follow one redirect only.
    TooManyRedirects {
        url: String,
    },
    /// The session was lost and there are no keys to log in again without the password (a PLAIN login).
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
            TransportError::TooManyRedirects { url } => {
                write!(f, "The server redirected the connection more than once (last to {url}); giving up.")
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
