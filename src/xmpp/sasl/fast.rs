//! XEP-0484 FAST tokens and the one token mechanism a browser can use, HT-SHA-256-NONE
//! (draft-schmaus-kitten-sasl-ht-08, "Hashed Token" without channel binding).
//!
//! ```text
//!  password login (SASL2) + <request-token/> ──▶ <success><token token expiry/></success> ──▶ FastToken
//!  later: ht_start(token) ─initial response: authcid NUL HMAC(token, "Initiator")─▶
//!         HtAwaitingSuccess.handle_success(<additional-data> = HMAC(token, "Responder")) ──▶ logged in
//! ```
//!
//! One round trip, and the server proves it knows the token too (the responder hash), so an impostor cannot
//! pretend to accept it. The token is as good as a password for this account on this device until it
//! expires or is invalidated: the caller stores it like one, and the core only ever emits it.
//!
//! What this module does NOT do: keep the token anywhere, read a clock (the expiry is the server's text, kept
//! for display), know XML (the session code wraps the bytes in `<authenticate/>` and takes `<additional-data/>`
//! out of `<success/>`), or channel binding (`-ENDP`, `-EXPR`, `-UNIQ`: a browser has no TLS data to bind to).
//! HMAC-SHA-256 comes from RustCrypto through [`ScramHash`]; only the message layout is written here.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::error::{SaslError, SaslprepField};
use super::mechanism::Mechanism;
use super::saslprep::saslprep;
use super::scram::ScramHash;

/// The FAST mechanisms we implement, strongest first (those with channel binding would come first; a
/// browser can do none of them).
const FAST_PREFERENCE: [Mechanism; 1] = [Mechanism::HtSha256None];

/// Longest token accepted from a server, in bytes (Prosody's are ~50, ejabberd's 44). A longer one is not
/// kept: storing and sending back whatever a hostile server hands out is not a token's job.
pub const MAX_TOKEN_LEN: usize = 1024;
/// Longest `expiry` text kept (an XEP-0082 DateTime is ~30 characters); longer ones are dropped.
const MAX_EXPIRY_LEN: usize = 64;

/// A FAST token the server issued for this account and device (the device is the `<user-agent id>` it was
/// issued to). The caller keeps it (it is password-equivalent for this account until it expires or is
/// invalidated: never show it, never log it; `Debug` prints `<redacted>`) and hands it back in
/// [`Credentials::Token`](super::Credentials::Token) to log in without the password.
#[derive(Clone, PartialEq, Eq)]
pub struct FastToken {
    /// The mechanism the token was issued for (servers refuse it with any other).
    pub mechanism: Mechanism,
    /// The secret, exactly as the server sent it.
    pub secret: String,
    /// When the server says it expires (XEP-0082 DateTime, as sent), for display; the server decides.
    pub expiry: Option<String>,
    /// Logins attempted with this token so far (XEP-0484's anti-replay `count`; 0 for a new token). Each
    /// attempt sends `count + 1`, and the core emits the token with the new count before the server answers,
    /// so a stored token never goes back to a count it already used.
    pub count: u32,
}

impl Drop for FastToken {
    fn drop(&mut self) {
        // Password-equivalent: overwritten when dropped, like the password and the SCRAM keys.
        self.secret.zeroize();
    }
}

impl fmt::Debug for FastToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastToken")
            .field("mechanism", &self.mechanism)
            .field("secret", &"<redacted>")
            .field("expiry", &self.expiry)
            .field("count", &self.count)
            .finish()
    }
}

impl FastToken {
    /// A token from a server's `<token token='…' expiry='…'/>`, issued for `mechanism`; `None` when the
    /// secret is empty or longer than [`MAX_TOKEN_LEN`].
    pub fn issued(mechanism: Mechanism, secret: &str, expiry: Option<&str>) -> Option<FastToken> {
        if secret.is_empty() || secret.len() > MAX_TOKEN_LEN || !mechanism.is_fast() {
            return None;
        }
        let expiry = expiry.map(str::trim).filter(|e| !e.is_empty() && e.len() <= MAX_EXPIRY_LEN).map(str::to_owned);
        Some(FastToken { mechanism, secret: secret.to_owned(), expiry, count: 0 })
    }
}

/// The strongest FAST mechanism among the server's `<fast><mechanism/>…</fast>` that we implement.
pub fn select_fast_mechanism(offered: &[String]) -> Option<Mechanism> {
    FAST_PREFERENCE.into_iter().find(|m| offered.iter().any(|name| name.trim() == m.name()))
}

/// Starts a token login: returns the initial response (`authcid NUL HMAC-SHA-256(token, "Initiator")`) and
/// the state that checks the server's answer. `username` is the account's local part (SASLprep'd here).
pub fn ht_start(token: &FastToken, username: &str) -> Result<(HtAwaitingSuccess, Zeroizing<Vec<u8>>), SaslError> {
    if token.mechanism != Mechanism::HtSha256None || token.secret.is_empty() {
        return Err(SaslError::FastUnavailable);
    }
    let username = saslprep(SaslprepField::Username, username)?;
    let key = token.secret.as_bytes();
    let mut response = Zeroizing::new(username.into_bytes());
    response.push(0);
    response.extend_from_slice(&ScramHash::Sha256.hmac(key, b"Initiator"));
    let expected_responder = ScramHash::Sha256.hmac(key, b"Responder");
    Ok((HtAwaitingSuccess { expected_responder }, response))
}

/// Token sent; waiting for `<success/>`, whose additional data must be the server's responder hash.
pub struct HtAwaitingSuccess {
    expected_responder: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for HtAwaitingSuccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HtAwaitingSuccess").finish_non_exhaustive()
    }
}

impl HtAwaitingSuccess {
    /// Checks `<success/>`'s decoded additional data: the server must prove it knows the token.
    pub fn handle_success(self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        match additional_data {
            None | Some([]) => Err(SaslError::MissingServerSignature),
            Some(data) if bool::from(data.ct_eq(self.expected_responder.as_slice())) => Ok(()),
            Some(_) => Err(SaslError::InvalidServerSignature),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::sasl::base64::BASE64;

    fn token(secret: &str) -> FastToken {
        FastToken::issued(Mechanism::HtSha256None, secret, Some("2026-12-25T23:54:51Z")).unwrap()
    }

    /// The initiator hash, recomputed with a hand-written HMAC (RFC 2104) so the check does not lean on the
    /// code under test.
    #[test]
    fn initial_response_is_authcid_nul_hmac_of_initiator() {
        let t = token("secret-token:fast-xQeB7xxFOTqjNYobUtYqCrA4Ib63Inu5gmxZ");
        let (_, first) = ht_start(&t, "alice").unwrap();
        assert_eq!(&first[..6], b"alice\0");
        let hmac = |key: &[u8], msg: &[u8]| {
            use sha2::{Digest, Sha256};
            let mut k = [0u8; 64];
            k[..key.len()].copy_from_slice(key);
            let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).chain(msg.iter().copied()).collect();
            let inner = Sha256::digest(inner);
            let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).chain(inner.iter().copied()).collect();
            Sha256::digest(outer).to_vec()
        };
        assert_eq!(first[6..], hmac(t.secret.as_bytes(), b"Initiator")[..]);
    }

    /// Tokens and the `<additional-data/>` their servers answered a FAST login with, captured on the wire
    /// (Prosody 13.0.1, ejabberd 24.12, 2026-12-04).
    #[test]
    fn the_responder_hashes_real_servers_sent_verify() {
        for (secret, additional_data) in [
            ("secret-token:fast-xQeB7xxFOTqjNYobUtYqCrA4Ib63Inu5gmxZ", "z0Pl2HhOSh2K9t59O0D/vxnTKwbTSPmwF1Lx5jlPvnw="),
            ("RQWJk9s8zIls1f5ZioBF+NvnoxVHiNcf67S2MIHROew=", "SIDYiZU6kV0VgIsAtkTkbb9MtGU9y3b57asAcZrWu+U="),
        ] {
            let (state, _) = ht_start(&token(secret), "alice").unwrap();
            assert_eq!(state.handle_success(Some(&BASE64.decode(additional_data).unwrap())), Ok(()), "{secret}");
        }
    }

    #[test]
    fn a_server_that_does_not_know_the_token_is_refused() {
        let t = token("tok");
        let (state, _) = ht_start(&t, "alice").unwrap();
        assert_eq!(state.handle_success(Some(b"not the responder hash")), Err(SaslError::InvalidServerSignature));
        let (state, _) = ht_start(&t, "alice").unwrap();
        assert_eq!(state.handle_success(None), Err(SaslError::MissingServerSignature));
        let (state, _) = ht_start(&t, "alice").unwrap();
        let other = ScramHash::Sha256.hmac(b"another token", b"Responder");
        assert_eq!(state.handle_success(Some(&other)), Err(SaslError::InvalidServerSignature));
    }

    #[test]
    fn only_ht_sha_256_none_is_chosen_and_only_when_offered() {
        let offer = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            select_fast_mechanism(&offer(&["HT-SHA-256-ENDP", "HT-SHA-256-NONE", "HT-SHA-256-EXPR"])),
            Some(Mechanism::HtSha256None)
        );
        assert_eq!(select_fast_mechanism(&offer(&["HT-SHA-256-ENDP", "HT-SHA-256-UNIQ"])), None);
        assert_eq!(select_fast_mechanism(&[]), None);
    }

    #[test]
    fn issued_tokens_are_bounded_and_redacted() {
        assert!(FastToken::issued(Mechanism::HtSha256None, "", None).is_none());
        assert!(FastToken::issued(Mechanism::HtSha256None, &"x".repeat(MAX_TOKEN_LEN + 1), None).is_none());
        assert!(FastToken::issued(Mechanism::ScramSha256, "tok", None).is_none());
        let long_expiry = "9".repeat(MAX_EXPIRY_LEN + 1);
        assert_eq!(FastToken::issued(Mechanism::HtSha256None, "tok", Some(&long_expiry)).unwrap().expiry, None);
        let t = token("secret-token:do-not-print");
        assert_eq!(t.count, 0);
        assert!(!format!("{t:?}").contains("do-not-print"));
        // The secret is kept byte for byte (base64 tokens from ejabberd carry `+`, `/` and `=`).
        let b64 = BASE64.encode([0xfbu8; 32]);
        assert_eq!(FastToken::issued(Mechanism::HtSha256None, &b64, None).unwrap().secret, b64);
    }

    #[test]
    fn a_token_for_another_mechanism_cannot_start() {
        let mut t = token("tok");
        t.mechanism = Mechanism::ScramSha256;
        assert!(matches!(ht_start(&t, "alice"), Err(SaslError::FastUnavailable)));
    }
}
