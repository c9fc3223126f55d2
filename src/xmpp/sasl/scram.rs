//! SCRAM-SHA-1 / SCRAM-SHA-256 / SCRAM-SHA-512 client (RFC 5802, RFC 7677, draft-melnikov-scram-sha-512),
//! without channel binding, as a typed state machine.
//!
//! ```text
//!  scram_start ──client-first──▶            ScramAwaitingChallenge
//!    .handle_challenge(server-first) ──client-final──▶ ScramAwaitingSuccess
//!    .handle_success(<success/> data = server-final) ──▶ ScramKeys   (server verified, logged in)
//!  or, for servers that send server-final in a <challenge/>:
//!    .handle_server_final_challenge(server-final) ──empty response──▶ ScramServerVerified
//!    .handle_success(None) ──▶ ScramKeys
//! ```
//!
//! Each transition consumes the previous state, so a message can be answered only once and in order.
//! Messages are bytes: the session code base64-decodes `<challenge/>`/`<success/>` payloads, calls these
//! functions, and base64-encodes what they return. This module knows no XML, draws no random numbers (the
//! caller passes the client nonce), and reads no clock.
//!
//! Browsers expose no TLS channel-binding data, so the GS2 header is always `n,,` ("client does not support
//! channel binding") and the `-PLUS` variants are never used.
//!
//! Defences against a hostile or impersonated server: the iteration count is checked against
//! [`ScramLimits`] *before* PBKDF2 runs; the server nonce must extend ours; `m=` is refused; the server
//! signature is compared in constant time and a success without one is a failure; XEP-0474 `h=` is checked
//! against the advertised mechanisms (see [`super::ssdp`]).
//!
//! Secrets in memory: the password ([`Credentials::Password`]) and the keys ([`ScramKeys`], which are
//! password-equivalent for the server that salted them) are overwritten with zeros when dropped (`zeroize`),
//! and so are the salted password and the other intermediate values derived from them here. Copies on the
//! stack inside the hash crates, and whatever the caller makes of the messages returned, are not covered.

use std::fmt;

use super::base64::BASE64;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::error::{SaslError, SaslprepField};
use super::fast::FastToken;
use super::mechanism::Mechanism;
use super::saslprep::{escape_username, saslprep};
use super::ssdp::DowngradeInfo;

/// GS2 header for "no channel binding, no authorization identity".
const GS2_HEADER: &str = "n,,";
/// Shortest client nonce we accept from the caller (RFC 5802 only says "sufficiently random").
pub const MIN_CLIENT_NONCE_LEN: usize = 16;

/// The hash function of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScramHash {
    Sha1,
    Sha256,
    Sha512,
}

impl ScramHash {
    /// The SASL mechanism using this hash without channel binding.
    pub const fn mechanism(self) -> Mechanism {
        match self {
            ScramHash::Sha1 => Mechanism::ScramSha1,
            ScramHash::Sha256 => Mechanism::ScramSha256,
            ScramHash::Sha512 => Mechanism::ScramSha512,
        }
    }

    /// The mechanism name, e.g. `SCRAM-SHA-256`.
    pub const fn name(self) -> &'static str {
        self.mechanism().name()
    }

    /// Output length in bytes, which is also the length of every SCRAM key.
    pub const fn output_len(self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
            ScramHash::Sha512 => 64,
        }
    }

    /// H(data).
    pub(crate) fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// HMAC(key, data). Wiped when dropped: every HMAC here is a key or a signature over the keys.
    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
        match self {
            ScramHash::Sha1 => hmac_with::<Hmac<Sha1>>(key, data),
            ScramHash::Sha256 => hmac_with::<Hmac<Sha256>>(key, data),
            ScramHash::Sha512 => hmac_with::<Hmac<Sha512>>(key, data),
        }
        .into()
    }

    /// Hi(password, salt, i) of RFC 5802 §2.2, which is PBKDF2-HMAC with dkLen = hash length: the salted
    /// password, wiped when dropped.
    fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; self.output_len()]);
        match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
            ScramHash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
            ScramHash::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out),
        }
        out
    }
}

fn hmac_with<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC is defined for keys of any length (RFC 2104 §2); `hmac`'s `new_from_slice` never fails. The
    // `pbkdf2` crate relies on the same guarantee. Keys here are our own derived values, never peer input.
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Keys derived from the password: enough to log in again without it ("remember me"), as long as the
/// server keeps the same salt and iteration count. They are password-equivalent for *this* server: store them
/// like a password. Both keys are overwritten with zeros when a `ScramKeys` is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramKeys {
    pub hash: ScramHash,
    pub salt: Vec<u8>,
    pub iterations: u32,
    /// HMAC(SaltedPassword, "Client Key").
    pub client_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl Drop for ScramKeys {
    fn drop(&mut self) {
        self.client_key.zeroize();
        self.server_key.zeroize();
    }
}

impl fmt::Debug for ScramKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramKeys")
            .field("hash", &self.hash)
            .field("salt", &BASE64.encode(&self.salt))
            .field("iterations", &self.iterations)
            .field("client_key", &"<redacted>")
            .field("server_key", &"<redacted>")
            .finish()
    }
}

/// What to authenticate with. A password is overwritten with zeros when the `Credentials` holding it is
/// dropped (so replacing a config's credentials wipes the old ones); keys wipe themselves ([`ScramKeys`]).
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Password(String),
    /// SCRAM keys kept from an earlier login (their mechanism only, and only while the server keeps the salt).
    Keys(ScramKeys),
    /// A XEP-0484 FAST token the server issued to this device: logs in through SASL2 where FAST is offered.
    Token(FastToken),
}

impl Drop for Credentials {
    fn drop(&mut self) {
        if let Credentials::Password(password) = self {
            password.zeroize();
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password(_) => f.write_str("Password(<redacted>)"),
            Credentials::Keys(keys) => f.debug_tuple("Keys").field(keys).finish(),
            Credentials::Token(token) => f.debug_tuple("Token").field(token).finish(),
        }
    }
}

/// Bounds on the server's iteration count. Below `min_iterations` the derived keys are too cheap to
/// brute-force; above `max_iterations` a hostile server could make PBKDF2 run for minutes in the browser tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScramLimits {
    pub min_iterations: u32,
    pub max_iterations: u32,
}

impl Default for ScramLimits {
    /// 4096 (the minimum RFC 5802 and RFC 7677 recommend) to 1 000 000.
    fn default() -> Self {
        ScramLimits { min_iterations: 4096, max_iterations: 1_000_000 }
    }
}

/// Starts a SCRAM exchange: prepares the credentials and returns the client-first-message to send in
/// `<auth mechanism='SCRAM-…'>` (base64-encoded by the caller).
///
/// `username` is the account's local part (SASLprep'd and escaped here); a password in `credentials` is
/// SASLprep'd here too. `client_nonce` must be fresh, random, at least [`MIN_CLIENT_NONCE_LEN`] printable
/// ASCII characters without `,` (e.g. 24 random bytes in base64). `downgrade` is what the server advertised,
/// for XEP-0474; `None` skips that check.
pub fn scram_start(
    hash: ScramHash,
    username: &str,
    credentials: Credentials,
    client_nonce: &str,
    limits: ScramLimits,
    downgrade: Option<DowngradeInfo>,
) -> Result<(ScramAwaitingChallenge, Vec<u8>), SaslError> {
    let username = escape_username(&saslprep(SaslprepField::Username, username)?);
    // The prepared password replaces the given one, which is wiped as `credentials` drops.
    let credentials = match credentials {
        Credentials::Password(ref password) => Credentials::Password(saslprep(SaslprepField::Password, password)?),
        Credentials::Token(_) => return Err(SaslError::FastUnavailable),
        keys => keys,
    };
    if client_nonce.len() < MIN_CLIENT_NONCE_LEN || !client_nonce.bytes().all(is_nonce_byte) {
        return Err(SaslError::InvalidClientNonce);
    }
    let client_first_bare = format!("n={username},r={client_nonce}");
    let client_first = format!("{GS2_HEADER}{client_first_bare}").into_bytes();
    let state = ScramAwaitingChallenge {
        hash,
        credentials,
        client_nonce: client_nonce.to_owned(),
        client_first_bare,
        limits,
        downgrade,
    };
    Ok((state, client_first))
}

/// RFC 5802 `printable`: `%x21-2B / %x2D-7E`, i.e. visible ASCII without `,`.
fn is_nonce_byte(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) && b != b','
}

/// Client-first sent; waiting for the server-first-message (in `<challenge/>`).
pub struct ScramAwaitingChallenge {
    hash: ScramHash,
    /// A password here is already SASLprep'd.
    credentials: Credentials,
    client_nonce: String,
    client_first_bare: String,
    limits: ScramLimits,
    downgrade: Option<DowngradeInfo>,
}

impl fmt::Debug for ScramAwaitingChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramAwaitingChallenge")
            .field("hash", &self.hash)
            .field("credentials", &self.credentials)
            .field("client_first_bare", &self.client_first_bare)
            .field("limits", &self.limits)
            .field("downgrade", &self.downgrade)
            .finish_non_exhaustive()
    }
}

/// The attributes of a server-first-message we act on.
struct ServerFirst<'a> {
    nonce: &'a str,
    salt: Vec<u8>,
    iterations: u32,
    ssdp_hash: Option<&'a str>,
}

impl ScramAwaitingChallenge {
    pub fn hash(&self) -> ScramHash {
        self.hash
    }

    /// Handles the server-first-message; returns the client-final-message to send in `<response/>`.
    pub fn handle_challenge(self, server_first: &[u8]) -> Result<(ScramAwaitingSuccess, Vec<u8>), SaslError> {
        let server_first = std::str::from_utf8(server_first).map_err(|_| SaslError::MalformedChallenge("not UTF-8"))?;
        let parsed = self.parse_server_first(server_first)?;

        // XEP-0474, checked before the expensive part.
        if let (Some(h), Some(info)) = (parsed.ssdp_hash, &self.downgrade) {
            info.verify(self.hash, h)?;
        }

        let keys = match &self.credentials {
            Credentials::Password(password) => {
                let salted = self.hash.hi(password.as_bytes(), &parsed.salt, parsed.iterations);
                ScramKeys {
                    hash: self.hash,
                    salt: parsed.salt,
                    iterations: parsed.iterations,
                    client_key: std::mem::take(&mut *self.hash.hmac(&salted, b"Client Key")),
                    server_key: std::mem::take(&mut *self.hash.hmac(&salted, b"Server Key")),
                }
            }
            Credentials::Keys(keys) => {
                let fits = keys.hash == self.hash
                    && keys.salt == parsed.salt
                    && keys.iterations == parsed.iterations
                    && keys.client_key.len() == self.hash.output_len()
                    && keys.server_key.len() == self.hash.output_len();
                if !fits {
                    return Err(SaslError::KeysStale);
                }
                keys.clone()
            }
            // `scram_start` refuses tokens; a token never reaches this state.
            Credentials::Token(_) => return Err(SaslError::FastUnavailable),
        };

        let channel_binding = BASE64.encode(GS2_HEADER);
        let client_final_without_proof = format!("c={channel_binding},r={}", parsed.nonce);
        let auth_message = format!("{},{server_first},{client_final_without_proof}", self.client_first_bare);

        // StoredKey with the proof gives away the ClientKey: all three are wiped when dropped.
        let stored_key = Zeroizing::new(self.hash.hash(&keys.client_key));
        let client_signature = self.hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Zeroizing<Vec<u8>> =
            Zeroizing::new(keys.client_key.iter().zip(client_signature.iter()).map(|(k, s)| k ^ s).collect());
        let expected_server_signature = std::mem::take(&mut *self.hash.hmac(&keys.server_key, auth_message.as_bytes()));

        let client_final = format!("{client_final_without_proof},p={}", BASE64.encode(&proof)).into_bytes();
        Ok((ScramAwaitingSuccess { expected_server_signature, keys }, client_final))
    }

    /// RFC 5802 §7: `server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
    /// ["," extensions]`. Attributes are looked up by name; unknown optional ones are ignored.
    fn parse_server_first<'a>(&self, message: &'a str) -> Result<ServerFirst<'a>, SaslError> {
        let attributes = parse_attributes(message).map_err(SaslError::MalformedChallenge)?;
        let find = |name: u8| attributes.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        if find(b'm').is_some() {
            return Err(SaslError::MandatoryExtension);
        }
        if let Some(reason) = find(b'e') {
            return Err(SaslError::ServerError(reason.to_owned()));
        }
        for name in [b'r', b's', b'i', b'h'] {
            if attributes.iter().filter(|(n, _)| *n == name).count() > 1 {
                return Err(SaslError::MalformedChallenge("repeated attribute"));
            }
        }

        let nonce = find(b'r').ok_or(SaslError::MalformedChallenge("missing nonce (r=)"))?;
        if !nonce.bytes().all(is_nonce_byte) {
            return Err(SaslError::MalformedChallenge("nonce (r=) is not printable ASCII"));
        }
        if !nonce.starts_with(&self.client_nonce) || nonce.len() <= self.client_nonce.len() {
            return Err(SaslError::ServerNonceMismatch);
        }

        let salt = find(b's').ok_or(SaslError::MalformedChallenge("missing salt (s=)"))?;
        let salt = BASE64.decode(salt).map_err(|_| SaslError::MalformedChallenge("salt (s=) is not base64"))?;
        if salt.is_empty() {
            return Err(SaslError::MalformedChallenge("empty salt (s=)"));
        }

        let iterations = find(b'i').ok_or(SaslError::MalformedChallenge("missing iteration count (i=)"))?;
        let iterations = parse_iteration_count(iterations)?;
        if iterations < u64::from(self.limits.min_iterations) {
            return Err(SaslError::IterationsTooLow { got: iterations, min: self.limits.min_iterations });
        }
        if iterations > u64::from(self.limits.max_iterations) {
            return Err(SaslError::IterationsTooHigh { got: iterations, max: self.limits.max_iterations });
        }
        let iterations = u32::try_from(iterations)
            .map_err(|_| SaslError::IterationsTooHigh { got: iterations, max: self.limits.max_iterations })?;

        Ok(ServerFirst { nonce, salt, iterations, ssdp_hash: find(b'h') })
    }
}

/// `i=`: decimal digits only (no sign, no spaces, no leading zero except "0" itself).
fn parse_iteration_count(value: &str) -> Result<u64, SaslError> {
    let digits_only = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (value.len() > 1 && value.starts_with('0')) {
        return Err(SaslError::MalformedChallenge("iteration count (i=) is not a decimal number"));
    }
    // 20 digits can exceed u64; anything that long is far above every sensible ceiling anyway.
    value.parse::<u64>().or(Ok(u64::MAX))
}

/// Splits `a=value,b=value,…` into (attribute letter, value). Values may contain `=` but not `,`.
fn parse_attributes(message: &str) -> Result<Vec<(u8, &str)>, &'static str> {
    if message.is_empty() {
        return Err("empty message");
    }
    message
        .split(',')
        .map(|part| match part.as_bytes() {
            [name, b'=', ..] if name.is_ascii_alphabetic() => Ok((*name, &part[2..])),
            _ => Err("attribute is not of the form x=value"),
        })
        .collect()
}

/// Client-final sent; waiting for the server-final-message, normally in `<success/>`.
pub struct ScramAwaitingSuccess {
    expected_server_signature: Vec<u8>,
    keys: ScramKeys,
}

impl fmt::Debug for ScramAwaitingSuccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramAwaitingSuccess").field("keys", &self.keys).finish_non_exhaustive()
    }
}

impl ScramAwaitingSuccess {
    /// Handles `<success/>`: `additional_data` is its decoded payload, the server-final-message. Succeeds only
    /// if it carries the correct server signature; returns the keys for a later login without the password.
    pub fn handle_success(self, additional_data: Option<&[u8]>) -> Result<ScramKeys, SaslError> {
        verify_server_final(self.keys.hash, &self.expected_server_signature, additional_data)?;
        Ok(self.keys)
    }

    /// Handles a `<challenge/>` carrying the server-final-message (some servers send it there rather than in
    /// `<success/>`, RFC 6120 §6.3.10). On a valid signature, returns the (empty) response to send; the
    /// server then answers `<success/>`.
    pub fn handle_server_final_challenge(
        self,
        server_final: &[u8],
    ) -> Result<(ScramServerVerified, Vec<u8>), SaslError> {
        verify_server_final(self.keys.hash, &self.expected_server_signature, Some(server_final))?;
        let verified =
            ScramServerVerified { expected_server_signature: self.expected_server_signature, keys: self.keys };
        Ok((verified, Vec::new()))
    }
}

/// The server proved it knows our password in a challenge; waiting for `<success/>`.
pub struct ScramServerVerified {
    expected_server_signature: Vec<u8>,
    keys: ScramKeys,
}

impl fmt::Debug for ScramServerVerified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramServerVerified").field("keys", &self.keys).finish_non_exhaustive()
    }
}

impl ScramServerVerified {
    /// Handles `<success/>`. It should carry no data now; if it repeats a server-final-message, that must
    /// verify too.
    pub fn handle_success(self, additional_data: Option<&[u8]>) -> Result<ScramKeys, SaslError> {
        match additional_data {
            None | Some([]) => Ok(self.keys),
            Some(data) => {
                verify_server_final(self.keys.hash, &self.expected_server_signature, Some(data))?;
                Ok(self.keys)
            }
        }
    }
}

/// RFC 5802 §7: `server-final-message = (server-error / verifier) ["," extensions]`.
fn verify_server_final(hash: ScramHash, expected: &[u8], server_final: Option<&[u8]>) -> Result<(), SaslError> {
    let message = match server_final {
        None | Some([]) => return Err(SaslError::MissingServerSignature),
        Some(bytes) => std::str::from_utf8(bytes).map_err(|_| SaslError::MalformedServerFinal("not UTF-8"))?,
    };
    let attributes = parse_attributes(message).map_err(SaslError::MalformedServerFinal)?;
    if let Some((_, reason)) = attributes.iter().find(|(n, _)| *n == b'e') {
        return Err(SaslError::ServerError((*reason).to_owned()));
    }
    let Some((_, signature)) = attributes.iter().find(|(n, _)| *n == b'v') else {
        return Err(SaslError::MissingServerSignature);
    };
    let signature = BASE64.decode(signature).map_err(|_| SaslError::InvalidServerSignature)?;
    if signature.len() != hash.output_len() || !bool::from(signature.as_slice().ct_eq(expected)) {
        return Err(SaslError::InvalidServerSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
