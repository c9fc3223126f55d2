//! Natter: a browser chat client for XMPP, in three layers with data flowing one way.
//!
//! ```text
//!  browser WebSocket ──frames──▶ xmpp (sans-IO core) ──events──▶ ui::state (store) ──signals──▶ ui views
//!  (transport)        ◀─frames──                     ◀─commands── user actions
//! ```
//!
//! - [`xmpp`]: the protocol as a pure state machine — no I/O, no clock, no randomness; tested natively.
//! - [`transport`]: the browser WebSocket (wasm32 only; its URL rules and discovery parsing are pure), timers and XEP-0156 discovery; feeds and drains the core.
//! - `ui` (wasm32 only): Leptos components and the one place that applies core events to the reactive store.
//! - [`links`]: finding links in message text, for the UI; pure, tested natively.

pub mod links;
pub mod xmpp;

/// The URL rules and discovery parsing compile natively (tested by `cargo test`); the WebSocket part is wasm32-only.
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod ui;
