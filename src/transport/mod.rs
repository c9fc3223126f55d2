//! The thin transport: the browser WebSocket (subprotocol `xmpp`), one timer, randomness, and XEP-0156
//! discovery. It feeds the sans-IO core and drains it; no protocol logic lives here.
//!
//! API used by the UI (implementation in progress):
//! ```text
//! let session = transport::connect(options, move |ev: TransportEvent| { /* apply to the store */ });
//! session.send(Command::SendMessage { .. })?;   // Result<(), CommandError>
//! session.close();                              // polite close; dropping the Session also releases everything
//! ```

use crate::xmpp::jid::BareJid;
use crate::xmpp::{Command, CommandError, Event};

/// What the login form collected.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub jid: BareJid,
    /// Used for this login only; never stored.
    pub password: String,
    /// An explicit WebSocket URL ("Advanced → Server URL"); `None` = config.json / XEP-0156 discovery.
    pub server_url: Option<String>,
}

/// Everything the transport reports to the UI.
#[derive(Debug, Clone)]
pub enum TransportEvent {
    /// Looking up the WebSocket endpoint for the domain.
    Discovering,
    /// Opening the WebSocket to `url`.
    Connecting { url: String },
    /// An event from the XMPP core.
    Core(Event),
    /// The connection could not be made or was lost; final.
    Failed(TransportError),
}

/// Why there is no connection, in words a person understands (Display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// `ws://` to a non-loopback host: credentials would travel unencrypted.
    InsecureUrl { url: String },
    InvalidUrl { url: String },
    /// No WebSocket endpoint found by config or XEP-0156 for this domain.
    NoEndpoint { domain: String },
    /// The WebSocket could not be opened or closed before the stream started.
    Unreachable { url: String },
    /// The socket closed unexpectedly during the session.
    ConnectionLost,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::InsecureUrl { url } => write!(
                f,
                "Refusing to send your password unencrypted to {url}: use a wss:// address (ws:// is only allowed to this computer)."
            ),
            TransportError::InvalidUrl { url } => write!(f, "“{url}” is not a WebSocket address (ws:// or wss://)."),
            TransportError::NoEndpoint { domain } => {
                write!(f, "No XMPP WebSocket endpoint was found for {domain}. Enter the server URL under Advanced.")
            }
            TransportError::Unreachable { url } => write!(f, "The server at {url} could not be reached."),
            TransportError::ConnectionLost => write!(f, "The connection to the server was lost."),
        }
    }
}

/// A running session. Cloning shares it; dropping the last clone closes the socket and frees its callbacks.
#[derive(Clone)]
pub struct Session {}

impl Session {
    pub fn send(&self, _command: Command) -> Result<(), CommandError> {
        Err(CommandError::NotOnline)
    }

    pub fn close(&self) {}
}

/// Starts discovery and connection; events arrive through `on_event` (always asynchronously).
pub fn connect(_options: ConnectOptions, _on_event: impl Fn(TransportEvent) + 'static) -> Session {
    Session {}
}
