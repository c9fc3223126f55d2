//! SCRAM client tests: published vectors byte for byte, a scripted fake server, and every refusal.

use super::*;
use crate::xmpp::sasl::error::SaslprepError;

const RFC5802_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";
const RFC5802_SERVER_FIRST: &str = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const RFC5802_CLIENT_FINAL: &str = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const RFC5802_SERVER_FINAL: &str = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

const RFC7677_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const RFC7677_SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC7677_CLIENT_FINAL: &str =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const RFC7677_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

// SCRAM-SHA-512, user "user", password "pencil". draft-melnikov-scram-sha-512 gives no worked example; this
// exchange is the one several SASL libraries test against (e.g. Apache Qpid ProtonJ2's
// ScramSHA512MechanismTest, Kroxylicious' SASL inspection TestData), and we recomputed it independently with
// Python's hashlib.pbkdf2_hmac/hmac before trusting it.
const SHA512_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const SHA512_SERVER_FIRST: &str = "r=rOprNGfwEbeRWgbNEkqO02431b08-2f89-4bad-a4e6-80c0564ec865,\
                                   s=Yin2FuHTt/M0kJWb0t9OI32n2VmOGi3m+JfjOvuDF88=,i=4096";
const SHA512_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO02431b08-2f89-4bad-a4e6-80c0564ec865,\
                                   p=Hc5yec3NmCD7t+kFRw4/3yD6/F3SQHc7AVYschRja+Bc3sbdjlA0eH1OjJc0DD4ghn1tnXN5/Wr6qm9xmaHt4A==";
const SHA512_SERVER_FINAL: &str =
    "v=BQuhnKHqYDwQWS5jAw4sZed+C9KFUALsbrq81bB0mh+bcUUbbMPNNmBIupnS2AmyyDnG5CTBQtkjJ9kyY4kzmw==";

fn pencil() -> Credentials {
    Credentials::Password("pencil".to_owned())
}

fn start(hash: ScramHash, credentials: Credentials, nonce: &str) -> (ScramAwaitingChallenge, Vec<u8>) {
    scram_start(hash, "user", credentials, nonce, ScramLimits::default(), None).expect("start")
}

fn challenge_error(hash: ScramHash, nonce: &str, server_first: &str) -> SaslError {
    let (state, _) = start(hash, pencil(), nonce);
    state.handle_challenge(server_first.as_bytes()).expect_err("the challenge must be refused")
}

fn sha1_awaiting_success() -> ScramAwaitingSuccess {
    let (state, _) = start(ScramHash::Sha1, pencil(), RFC5802_NONCE);
    state.handle_challenge(RFC5802_SERVER_FIRST.as_bytes()).expect("challenge").0
}

/// Runs a whole published exchange and checks every message we produce byte for byte.
fn run_vector(hash: ScramHash, nonce: &str, server_first: &str, client_final: &str, server_final: &str) -> ScramKeys {
    let (state, client_first) = start(hash, pencil(), nonce);
    assert_eq!(String::from_utf8(client_first).unwrap(), format!("n,,n=user,r={nonce}"));
    let (state, ours) = state.handle_challenge(server_first.as_bytes()).expect("challenge");
    assert_eq!(String::from_utf8(ours).unwrap(), client_final);
    let keys = state.handle_success(Some(server_final.as_bytes())).expect("server signature verifies");
    assert_eq!(keys.hash, hash);
    assert_eq!(keys.iterations, 4096);
    assert_eq!(keys.client_key.len(), hash.output_len());
    assert_eq!(keys.server_key.len(), hash.output_len());
    keys
}

#[test]
fn rfc5802_scram_sha1_vector() {
    let keys =
        run_vector(ScramHash::Sha1, RFC5802_NONCE, RFC5802_SERVER_FIRST, RFC5802_CLIENT_FINAL, RFC5802_SERVER_FINAL);
    assert_eq!(BASE64.encode(&keys.salt), "QSXCR+Q6sek8bf92");
}

#[test]
fn rfc7677_scram_sha256_vector() {
    run_vector(ScramHash::Sha256, RFC7677_NONCE, RFC7677_SERVER_FIRST, RFC7677_CLIENT_FINAL, RFC7677_SERVER_FINAL);
}

#[test]
fn scram_sha512_vector() {
    run_vector(ScramHash::Sha512, SHA512_NONCE, SHA512_SERVER_FIRST, SHA512_CLIENT_FINAL, SHA512_SERVER_FINAL);
}

#[test]
fn keys_from_a_password_login_produce_the_identical_client_final() {
    let vectors = [
        (ScramHash::Sha1, RFC5802_NONCE, RFC5802_SERVER_FIRST, RFC5802_CLIENT_FINAL, RFC5802_SERVER_FINAL),
        (ScramHash::Sha256, RFC7677_NONCE, RFC7677_SERVER_FIRST, RFC7677_CLIENT_FINAL, RFC7677_SERVER_FINAL),
        (ScramHash::Sha512, SHA512_NONCE, SHA512_SERVER_FIRST, SHA512_CLIENT_FINAL, SHA512_SERVER_FINAL),
    ];
    for (hash, nonce, server_first, client_final, server_final) in vectors {
        let keys = run_vector(hash, nonce, server_first, client_final, server_final);
        let (state, _) = start(hash, Credentials::Keys(keys.clone()), nonce);
        let (state, ours) = state.handle_challenge(server_first.as_bytes()).expect("keys fit");
        assert_eq!(String::from_utf8(ours).unwrap(), client_final, "{hash:?}");
        assert_eq!(state.handle_success(Some(server_final.as_bytes())), Ok(keys));
    }
}

#[test]
fn keys_for_another_salt_iteration_count_or_hash_are_stale() {
    let keys =
        run_vector(ScramHash::Sha1, RFC5802_NONCE, RFC5802_SERVER_FIRST, RFC5802_CLIENT_FINAL, RFC5802_SERVER_FINAL);
    let new_salt = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=AAAAAAAAAAAAAAAA,i=4096";
    let new_count = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=8192";
    for server_first in [new_salt, new_count] {
        let (state, _) = start(ScramHash::Sha1, Credentials::Keys(keys.clone()), RFC5802_NONCE);
        assert_eq!(state.handle_challenge(server_first.as_bytes()).unwrap_err(), SaslError::KeysStale);
    }
    // Same salt and count, but the server now runs SCRAM-SHA-256.
    let (state, _) = start(ScramHash::Sha256, Credentials::Keys(keys.clone()), RFC5802_NONCE);
    assert_eq!(state.handle_challenge(RFC5802_SERVER_FIRST.as_bytes()).unwrap_err(), SaslError::KeysStale);
    // Truncated keys (corrupted storage) are unusable too.
    let mut short = keys;
    short.client_key.truncate(10);
    let (state, _) = start(ScramHash::Sha1, Credentials::Keys(short), RFC5802_NONCE);
    assert_eq!(state.handle_challenge(RFC5802_SERVER_FIRST.as_bytes()).unwrap_err(), SaslError::KeysStale);
}

/// A scripted SCRAM server, checking the client's proof the way a real server does (RFC 5802 §3).
struct FakeServer {
    hash: ScramHash,
    password: &'static str,
    salt: Vec<u8>,
    iterations: u32,
    extra_attributes: String,
}

impl FakeServer {
    fn server_first(&self, client_first: &[u8]) -> String {
        let client_first = std::str::from_utf8(client_first).unwrap();
        let client_nonce = client_first.rsplit_once(",r=").unwrap().1;
        let salt = BASE64.encode(&self.salt);
        format!("r={client_nonce}srv-nonce-42,s={salt},i={}{}", self.iterations, self.extra_attributes)
    }

    fn server_final(
        &self,
        client_first: &[u8],
        server_first: &str,
        client_final: &[u8],
    ) -> Result<String, &'static str> {
        let bare = std::str::from_utf8(&client_first[3..]).unwrap();
        let (without_proof, proof) = std::str::from_utf8(client_final).unwrap().rsplit_once(",p=").unwrap();
        let proof = BASE64.decode(proof).unwrap();
        let salted = self.hash.hi(self.password.as_bytes(), &self.salt, self.iterations);
        let stored_key = self.hash.hash(&self.hash.hmac(&salted, b"Client Key"));
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let signature = self.hash.hmac(&stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(signature.iter()).map(|(p, s)| p ^ s).collect();
        if self.hash.hash(&client_key) != stored_key {
            return Err("e=invalid-proof");
        }
        let server_key = self.hash.hmac(&salted, b"Server Key");
        Ok(format!("v={}", BASE64.encode(self.hash.hmac(&server_key, auth_message.as_bytes()))))
    }
}

fn exchange_with(server: &FakeServer, password: &str) -> Result<ScramKeys, SaslError> {
    let nonce = "cLiEnTnOnCe0123456789abc";
    let credentials = Credentials::Password(password.to_owned());
    let (state, client_first) = scram_start(server.hash, "user", credentials, nonce, ScramLimits::default(), None)?;
    let server_first = server.server_first(&client_first);
    let (state, client_final) = state.handle_challenge(server_first.as_bytes())?;
    match server.server_final(&client_first, &server_first, &client_final) {
        Ok(v) => state.handle_success(Some(v.as_bytes())),
        Err(e) => state.handle_success(Some(e.as_bytes())),
    }
}

#[test]
fn full_exchange_at_4096_and_10000_iterations_for_every_hash() {
    for hash in [ScramHash::Sha1, ScramHash::Sha256, ScramHash::Sha512] {
        for iterations in [4096, 10_000] {
            let server = FakeServer {
                hash,
                password: "pencil",
                salt: b"NaCl-NaCl-NaCl".to_vec(),
                iterations,
                extra_attributes: String::new(),
            };
            let keys = exchange_with(&server, "pencil").expect("logged in");
            assert_eq!((keys.hash, keys.iterations), (hash, iterations));
            assert_eq!(exchange_with(&server, "pencils"), Err(SaslError::ServerError("invalid-proof".into())));
        }
    }
}

#[test]
fn sha256_at_10000_iterations_matches_an_independent_computation() {
    // RFC 7677's exchange with i=10000, expected values computed with Python's hashlib/hmac.
    let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10000";
    let (state, _) = start(ScramHash::Sha256, pencil(), RFC7677_NONCE);
    let (state, client_final) = state.handle_challenge(server_first.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(client_final).unwrap(),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=I+hX8XG0tWfl2g2HWj/5GUriA07kXQNpOUJYt/4DLLo="
    );
    let keys = state.handle_success(Some(b"v=h+MsWsqNL8W+nRB4Xk0ilq67/yxMpMWWe8nX0mpzh78=")).unwrap();
    assert_eq!(keys.iterations, 10_000);
}

#[test]
fn username_is_saslprepped_then_escaped() {
    let (_, client_first) =
        scram_start(ScramHash::Sha1, "a,b=c\u{00AD}", pencil(), RFC5802_NONCE, ScramLimits::default(), None).unwrap();
    assert_eq!(client_first, b"n,,n=a=2Cb=3Dc,r=fyko+d2lbbFgONRv9qkxdawL".to_vec());
}

#[test]
fn password_is_saslprepped_before_hashing() {
    // "pen<SOFT HYPHEN>cil" prepares to "pencil", so the RFC 5802 proof comes out unchanged.
    let credentials = Credentials::Password("pen\u{00AD}cil".to_owned());
    let (state, _) = start(ScramHash::Sha1, credentials, RFC5802_NONCE);
    let (_, client_final) = state.handle_challenge(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(client_final, RFC5802_CLIENT_FINAL.as_bytes());
}

#[test]
fn unpreparable_credentials_are_refused_with_the_field() {
    let err = scram_start(ScramHash::Sha1, "us\u{0007}er", pencil(), RFC5802_NONCE, ScramLimits::default(), None)
        .unwrap_err();
    assert_eq!(err, SaslError::Saslprep { field: SaslprepField::Username, reason: SaslprepError::ProhibitedCharacter });
    let bidi = Credentials::Password("\u{0627}1".to_owned());
    let err = scram_start(ScramHash::Sha1, "user", bidi, RFC5802_NONCE, ScramLimits::default(), None).unwrap_err();
    assert_eq!(err, SaslError::Saslprep { field: SaslprepField::Password, reason: SaslprepError::BidiViolation });
}

#[test]
fn unusable_client_nonces_are_refused() {
    for nonce in ["", "short", "has,a,comma,in,it,abcdef", "has space in it abcdefgh", "nön-ascii-nonce-abcdef"] {
        let err = scram_start(ScramHash::Sha1, "user", pencil(), nonce, ScramLimits::default(), None).unwrap_err();
        assert_eq!(err, SaslError::InvalidClientNonce, "{nonce:?}");
    }
}

#[test]
fn server_nonce_must_extend_the_client_nonce() {
    let not_ours = "r=XXXX+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    let just_ours = "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096";
    let truncated = "r=fyko+d2lbbFgONRv9,s=QSXCR+Q6sek8bf92,i=4096";
    for server_first in [not_ours, just_ours, truncated] {
        assert_eq!(challenge_error(ScramHash::Sha1, RFC5802_NONCE, server_first), SaslError::ServerNonceMismatch);
    }
}

#[test]
fn mandatory_extension_is_refused() {
    let server_first = "m=must-understand,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    assert_eq!(challenge_error(ScramHash::Sha1, RFC5802_NONCE, server_first), SaslError::MandatoryExtension);
}

#[test]
fn missing_or_broken_salt_is_malformed() {
    let missing = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,i=4096";
    let not_base64 = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=not*base64!,i=4096";
    let empty = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=,i=4096";
    for server_first in [missing, not_base64, empty] {
        assert!(
            matches!(challenge_error(ScramHash::Sha1, RFC5802_NONCE, server_first), SaslError::MalformedChallenge(_)),
            "{server_first}"
        );
    }
}

#[test]
fn missing_or_unparsable_iteration_count_is_malformed() {
    for i in ["", "i=", "i=4k", "i=+4096", "i=-1", "i= 4096", "i=04096", "i=4096.0"] {
        let server_first = format!("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,{i}");
        let server_first = server_first.trim_end_matches(',');
        assert!(
            matches!(challenge_error(ScramHash::Sha1, RFC5802_NONCE, server_first), SaslError::MalformedChallenge(_)),
            "{server_first}"
        );
    }
}

#[test]
fn other_malformed_server_first_messages() {
    let cases: [&[u8]; 6] = [
        b"",
        b"\xff\xfe",
        b"s=QSXCR+Q6sek8bf92,i=4096",
        b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,,s=QSXCR+Q6sek8bf92,i=4096",
        b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,i=4096",
        b"garbage",
    ];
    for server_first in cases {
        let (state, _) = start(ScramHash::Sha1, pencil(), RFC5802_NONCE);
        assert!(
            matches!(state.handle_challenge(server_first), Err(SaslError::MalformedChallenge(_))),
            "{server_first:?}"
        );
    }
}

#[test]
fn server_error_in_server_first_is_surfaced() {
    assert_eq!(
        challenge_error(ScramHash::Sha1, RFC5802_NONCE, "e=unknown-user"),
        SaslError::ServerError("unknown-user".into())
    );
}

#[test]
fn iteration_counts_outside_the_limits_are_refused_before_pbkdf2() {
    let with_count = |i: &str| format!("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i={i}");
    assert_eq!(
        challenge_error(ScramHash::Sha1, RFC5802_NONCE, &with_count("4095")),
        SaslError::IterationsTooLow { got: 4095, min: 4096 }
    );
    assert_eq!(
        challenge_error(ScramHash::Sha1, RFC5802_NONCE, &with_count("0")),
        SaslError::IterationsTooLow { got: 0, min: 4096 }
    );
    // If PBKDF2 ran first, these would take hours; the test finishing is the proof it did not.
    assert_eq!(
        challenge_error(ScramHash::Sha512, RFC5802_NONCE, &with_count("4294967295")),
        SaslError::IterationsTooHigh { got: 4_294_967_295, max: 1_000_000 }
    );
    assert_eq!(
        challenge_error(ScramHash::Sha512, RFC5802_NONCE, &with_count("1000001")),
        SaslError::IterationsTooHigh { got: 1_000_001, max: 1_000_000 }
    );
    assert!(matches!(
        challenge_error(ScramHash::Sha512, RFC5802_NONCE, &with_count("99999999999999999999999999")),
        SaslError::IterationsTooHigh { max: 1_000_000, .. }
    ));
}

#[test]
fn limits_are_the_callers_to_choose() {
    let limits = ScramLimits { min_iterations: 8192, max_iterations: 8192 };
    let (state, _) = scram_start(ScramHash::Sha1, "user", pencil(), RFC5802_NONCE, limits, None).unwrap();
    assert_eq!(
        state.handle_challenge(RFC5802_SERVER_FIRST.as_bytes()).unwrap_err(),
        SaslError::IterationsTooLow { got: 4096, min: 8192 }
    );
}

#[test]
fn wrong_server_signature_is_refused() {
    let forged = "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(sha1_awaiting_success().handle_success(Some(forged.as_bytes())), Err(SaslError::InvalidServerSignature));
    // The RFC 7677 signature: right shape for another hash, wrong for this one.
    assert_eq!(
        sha1_awaiting_success().handle_success(Some(RFC7677_SERVER_FINAL.as_bytes())),
        Err(SaslError::InvalidServerSignature)
    );
    assert_eq!(sha1_awaiting_success().handle_success(Some(b"v=not base64")), Err(SaslError::InvalidServerSignature));
}

#[test]
fn success_without_server_signature_is_a_failure() {
    for data in [None, Some(&b""[..]), Some(&b"x=unrelated"[..])] {
        assert_eq!(sha1_awaiting_success().handle_success(data), Err(SaslError::MissingServerSignature), "{data:?}");
    }
    assert!(matches!(sha1_awaiting_success().handle_success(Some(b"\xff")), Err(SaslError::MalformedServerFinal(_))));
    assert!(matches!(
        sha1_awaiting_success().handle_success(Some(b"garbage")),
        Err(SaslError::MalformedServerFinal(_))
    ));
}

#[test]
fn server_error_in_server_final_is_surfaced_with_its_reason() {
    assert_eq!(
        sha1_awaiting_success().handle_success(Some(b"e=invalid-proof")),
        Err(SaslError::ServerError("invalid-proof".into()))
    );
}

#[test]
fn server_final_in_a_challenge_then_empty_success() {
    let (verified, response) =
        sha1_awaiting_success().handle_server_final_challenge(RFC5802_SERVER_FINAL.as_bytes()).unwrap();
    assert!(response.is_empty());
    assert_eq!(verified.handle_success(None).map(|k| k.hash), Ok(ScramHash::Sha1));

    let (verified, _) = sha1_awaiting_success().handle_server_final_challenge(RFC5802_SERVER_FINAL.as_bytes()).unwrap();
    assert!(verified.handle_success(Some(RFC5802_SERVER_FINAL.as_bytes())).is_ok());
    let (verified, _) = sha1_awaiting_success().handle_server_final_challenge(RFC5802_SERVER_FINAL.as_bytes()).unwrap();
    assert_eq!(verified.handle_success(Some(b"v=AAAA")), Err(SaslError::InvalidServerSignature));

    assert_eq!(
        sha1_awaiting_success().handle_server_final_challenge(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap_err(),
        SaslError::InvalidServerSignature
    );
}

fn advertised(mechanisms: &[&str]) -> DowngradeInfo {
    DowngradeInfo { mechanisms: mechanisms.iter().map(|m| (*m).to_owned()).collect(), channel_bindings: Vec::new() }
}

/// RFC 5802's server-first plus XEP-0474 `h=` = base64(SHA-1("PLAIN\x1eSCRAM-SHA-1")). Expected messages
/// computed independently with Python's hashlib/hmac.
const SSDP_SERVER_FIRST: &str =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,h=Y+xk2TW25vKwG9yWicfQlsuiFQs=";

#[test]
fn xep0474_matching_hash_proceeds_and_is_covered_by_the_proof() {
    let info = advertised(&["SCRAM-SHA-1", "PLAIN"]);
    let (state, _) =
        scram_start(ScramHash::Sha1, "user", pencil(), RFC5802_NONCE, ScramLimits::default(), Some(info)).unwrap();
    let (state, client_final) = state.handle_challenge(SSDP_SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(
        client_final,
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=P+ZzHi/4wVqRU+r6ccz5q1A5a1w=".to_vec()
    );
    assert!(state.handle_success(Some(b"v=WIF8Y2urkVf4A6xc29wfT96P/2M=")).is_ok());
}

#[test]
fn xep0474_mismatch_is_a_downgrade() {
    // The server advertised PLAIN and SCRAM-SHA-1 and hashed that; we were shown SCRAM-SHA-1 only.
    let info = advertised(&["SCRAM-SHA-1"]);
    let (state, _) =
        scram_start(ScramHash::Sha1, "user", pencil(), RFC5802_NONCE, ScramLimits::default(), Some(info)).unwrap();
    assert_eq!(state.handle_challenge(SSDP_SERVER_FIRST.as_bytes()).unwrap_err(), SaslError::Downgrade);

    // Someone added a channel-binding list the server never sent.
    let info = DowngradeInfo { channel_bindings: vec!["tls-exporter".into()], ..advertised(&["SCRAM-SHA-1", "PLAIN"]) };
    let (state, _) =
        scram_start(ScramHash::Sha1, "user", pencil(), RFC5802_NONCE, ScramLimits::default(), Some(info)).unwrap();
    assert_eq!(state.handle_challenge(SSDP_SERVER_FIRST.as_bytes()).unwrap_err(), SaslError::Downgrade);
}

#[test]
fn xep0474_absent_attribute_or_absent_info_proceeds() {
    let info = advertised(&["SCRAM-SHA-1", "SCRAM-SHA-512"]);
    let (state, _) =
        scram_start(ScramHash::Sha1, "user", pencil(), RFC5802_NONCE, ScramLimits::default(), Some(info)).unwrap();
    let (_, client_final) = state.handle_challenge(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(client_final, RFC5802_CLIENT_FINAL.as_bytes());

    let (state, _) = start(ScramHash::Sha1, pencil(), RFC5802_NONCE);
    assert!(state.handle_challenge(SSDP_SERVER_FIRST.as_bytes()).is_ok());
}

#[test]
fn xep0474_superseded_d_attribute_is_ignored() {
    let server_first =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,d=AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let info = advertised(&["SCRAM-SHA-1"]);
    let (state, _) =
        scram_start(ScramHash::Sha1, "user", pencil(), RFC5802_NONCE, ScramLimits::default(), Some(info)).unwrap();
    assert!(state.handle_challenge(server_first.as_bytes()).is_ok());
}

#[test]
fn debug_output_never_shows_secrets() {
    let creds = Credentials::Password("hunter2".to_owned());
    assert!(!format!("{creds:?}").contains("hunter2"));
    let keys =
        run_vector(ScramHash::Sha1, RFC5802_NONCE, RFC5802_SERVER_FIRST, RFC5802_CLIENT_FINAL, RFC5802_SERVER_FINAL);
    let shown = format!("{keys:?} {:?}", Credentials::Keys(keys.clone()));
    for secret in [&keys.client_key, &keys.server_key] {
        assert!(!shown.contains(&BASE64.encode(secret)));
        assert!(!shown.contains(&format!("{secret:?}")));
    }
    assert!(shown.contains("<redacted>"));
    let (state, _) = start(ScramHash::Sha1, Credentials::Password("hunter2".to_owned()), RFC5802_NONCE);
    assert!(!format!("{state:?}").contains("hunter2"));
    let awaiting = sha1_awaiting_success();
    assert!(!format!("{awaiting:?}").contains(&BASE64.encode(&keys.client_key)));
}
