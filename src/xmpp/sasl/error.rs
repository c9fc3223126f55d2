//! The one error type of the SASL module, named by cause.
//!
//! Every variant says *why* authentication cannot go on, so the session layer can decide what to do (ask for
//! the password again, warn about an attack, show the server's reason) without parsing message text. Tests
//! match variants, never the [`Display`](std::fmt::Display) text.

use std::fmt;

/// Which credential string SASLprep refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaslprepField {
    Username,
    Password,
}

/// Why SASLprep (RFC 4013) refused a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaslprepError {
    /// Contains a character RFC 4013 §2.3 prohibits (control characters, private use, non-characters, …).
    ProhibitedCharacter,
    /// Breaks the bidirectional-text rules of RFC 3454 §6 (e.g. mixes right-to-left and left-to-right
    /// letters, or right-to-left text that does not start and end with a right-to-left character).
    BidiViolation,
    /// Contains a code point unassigned in Unicode 3.2 (RFC 3454 table A.1). SASLprep treats credentials as
    /// "stored strings", where unassigned code points are refused.
    UnassignedCodePoint,
    /// Nothing is left after preparation (the input was empty, or only characters mapped to nothing).
    Empty,
}

/// Everything that can stop a SASL authentication on the client side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaslError {
    /// None of the offered mechanisms is one we accept (or only PLAIN was offered and PLAIN is not allowed,
    /// or PLAIN was offered next to a SCRAM mechanism we cannot use). Carries what the server offered.
    NoAcceptableMechanism { offered: Vec<String> },
    /// The username or password cannot be prepared with SASLprep.
    Saslprep { field: SaslprepField, reason: SaslprepError },
    /// The caller's client nonce is unusable: fewer than 16 characters, or characters outside the
    /// printable ASCII range RFC 5802 allows (`%x21-7E` without `,`). A caller bug, never the server's.
    InvalidClientNonce,
    /// The server nonce (`r=`) does not start with our client nonce, or adds nothing to it.
    ServerNonceMismatch,
    /// The server demands a mandatory extension (`m=`), which we do not support (RFC 5802 §5.1).
    MandatoryExtension,
    /// The server's iteration count is below our floor: too cheap to brute-force, refused.
    IterationsTooLow { got: u64, min: u32 },
    /// The server's iteration count is above our ceiling: refused before running PBKDF2 so a hostile server
    /// cannot freeze the browser tab.
    IterationsTooHigh { got: u64, max: u32 },
    /// The server-first-message does not follow RFC 5802 §7 (missing or broken `r=`, `s=`, `i=`, not UTF-8,
    /// …). The text names the defect, for logs.
    MalformedChallenge(&'static str),
    /// The server-final-message does not follow RFC 5802 §7 (not UTF-8, broken attribute syntax).
    MalformedServerFinal(&'static str),
    /// The server's signature (`v=`) is wrong: this server does not know our password. Possibly an attack.
    InvalidServerSignature,
    /// The server declared success without proving it knows our password (no `v=`). Treated as a failure.
    MissingServerSignature,
    /// The server reported a SCRAM error (`e=`), with the server's reason, e.g. `invalid-proof`.
    ServerError(String),
    /// XEP-0474 downgrade protection: the server's hash of the mechanisms and channel-binding types it
    /// advertised does not match what we received. Someone altered the stream features: an active attack.
    Downgrade,
    /// Stored SCRAM keys do not fit what the server asks for now (another hash, salt or iteration count, e.g.
    /// after a password change). Ask the user for the password and log in with it.
    KeysStale,
    /// We hold a FAST token (XEP-0484) but cannot log in with it here: the server offers no SASL2, no FAST, not
    /// the token's mechanism (it offers FAST only when the stream header names the account), or we have no
    /// `<user-agent id>` to present. Ask the user for the password and log in with it.
    FastUnavailable,
}

impl fmt::Display for SaslprepField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SaslprepField::Username => "username",
            SaslprepField::Password => "password",
        })
    }
}

impl fmt::Display for SaslprepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SaslprepError::ProhibitedCharacter => "contains a prohibited character",
            SaslprepError::BidiViolation => "mixes text directions in a way SASLprep forbids",
            SaslprepError::UnassignedCodePoint => "contains an unassigned Unicode code point",
            SaslprepError::Empty => "is empty",
        })
    }
}

impl fmt::Display for SaslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslError::NoAcceptableMechanism { offered } => {
                write!(f, "no acceptable SASL mechanism offered (server offered: {})", offered.join(", "))
            }
            SaslError::Saslprep { field, reason } => write!(f, "the {field} {reason}"),
            SaslError::InvalidClientNonce => f.write_str("the client nonce is too short or not printable ASCII"),
            SaslError::ServerNonceMismatch => f.write_str("the server nonce does not extend our client nonce"),
            SaslError::MandatoryExtension => f.write_str("the server requires an unsupported SCRAM extension"),
            SaslError::IterationsTooLow { got, min } => {
                write!(f, "the server's iteration count {got} is below the minimum {min}")
            }
            SaslError::IterationsTooHigh { got, max } => {
                write!(f, "the server's iteration count {got} is above the maximum {max}")
            }
            SaslError::MalformedChallenge(what) => {
                write!(f, "malformed SCRAM server-first-message: {what}")
            }
            SaslError::MalformedServerFinal(what) => {
                write!(f, "malformed SCRAM server-final-message: {what}")
            }
            SaslError::InvalidServerSignature => f.write_str("the server's SCRAM signature is invalid"),
            SaslError::MissingServerSignature => f.write_str("the server did not send its SCRAM signature"),
            SaslError::ServerError(reason) => {
                write!(f, "the server reported a SCRAM error: {reason}")
            }
            SaslError::Downgrade => {
                f.write_str("the advertised SASL mechanisms or channel bindings were tampered with (XEP-0474)")
            }
            SaslError::KeysStale => f.write_str("the stored SCRAM keys no longer match the server's parameters"),
            SaslError::FastUnavailable => f.write_str("the server offers no way to log in with the kept token"),
        }
    }
}

impl std::error::Error for SaslError {}
