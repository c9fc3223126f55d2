//! The sans-IO XMPP core.
//!
//! ```text
//!   whole WebSocket text frames ─┐                       ┌─▶ frames to send      (Client::poll_transmit)
//!   user commands ───────────────┼─▶  Client (state)  ───┼─▶ events for the UI   (Client::poll_event)
//!   now (web_time::Instant) ─────┘                       └─▶ next deadline       (Client::poll_timeout)
//! ```
//!
//! What this module does NOT do: it opens no socket, reads no clock, draws no random number and touches no
//! browser API. The caller passes in every frame, every `now`, the SCRAM nonce, the stanza-id seed, the id of
//! every message the person sends and (for XEP-0203 stamps) a wall-clock reading; it sends what
//! [`Client::poll_transmit`] yields and arms one timer for [`Client::poll_timeout`]. That keeps the whole
//! protocol testable natively and deterministically (see `tests/`).

pub mod client;
pub mod framing;
pub mod jid;
mod prep;
pub mod reconnect;
pub mod sasl;
pub mod stanza;
pub mod xml;

pub use client::{Client, ClientError, Command, CommandError, Config, Event, Phase};
