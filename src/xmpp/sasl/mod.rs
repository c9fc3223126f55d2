//! SASL for the XMPP client: choosing a mechanism, SCRAM-SHA-1/256/512 done right, PLAIN as a last resort,
//! and the server's failure conditions.
//!
//! ```text
//!  <mechanisms/> names ──▶ select_mechanism ──▶ Mechanism
//!  SCRAM:  scram_start ─client-first─▶ handle_challenge(server-first) ─client-final─▶
//!          handle_success(server-final) ──▶ ScramKeys (may be stored for a later login without password)
//!  PLAIN:  plain_initial_response
//!  FAST:   ht_start(token) ─authcid NUL HMAC─▶ HtAwaitingSuccess.handle_success(responder HMAC)   (XEP-0484)
//!  <failure><condition/></failure> ──▶ SaslFailure::from_condition ──▶ describe() for the UI
//! ```
//!
//! What this module does NOT do: it neither reads nor writes XML and does no base64 of whole payloads. The
//! session code takes the payload of `<challenge/>`/`<success/>`, base64-decodes it, and passes the bytes in;
//! it base64-encodes the bytes returned into `<auth/>`/`<response/>`. There is no clock and no randomness: the
//! caller supplies the client nonce. No channel binding (browsers expose no TLS exporter), so never `-PLUS`.
//!
//! Crypto primitives come from the RustCrypto crates (`sha1`, `sha2`, `hmac`, `pbkdf2`, `subtle`) and SASLprep
//! from `stringprep`; only the SCRAM protocol logic is written here.

pub(crate) mod base64;
mod error;
mod failure;
mod fast;
mod mechanism;
mod plain;
mod saslprep;
mod scram;
mod ssdp;

pub use error::{SaslError, SaslprepError, SaslprepField};
pub use failure::SaslFailure;
pub use fast::{FastToken, HtAwaitingSuccess, MAX_TOKEN_LEN, ht_start, select_fast_mechanism};
pub use mechanism::{Mechanism, select_mechanism};
pub use plain::plain_initial_response;
pub use saslprep::{escape_username, saslprep};
pub use scram::{
    Credentials, MIN_CLIENT_NONCE_LEN, ScramAwaitingChallenge, ScramAwaitingSuccess, ScramHash, ScramKeys, ScramLimits,
    ScramServerVerified, scram_start,
};
pub use ssdp::DowngradeInfo;
