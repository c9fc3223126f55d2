//! The server side of SCRAM (RFC 5802 §3), just enough to answer Natter's client in the benchmarks (and in
//! `tests/core_sasl2.rs`, which includes this file).
//!
//! Like a real server it stores StoredKey/ServerKey (derived once, outside the timed code) and, per exchange,
//! sends a server-first-message, checks the client proof and returns the server signature. That per-exchange
//! work is three HMACs and a hash: noise next to the client's PBKDF2, which is what the benchmark measures.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use natter::xmpp::sasl::ScramHash;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

fn hmac(hash: ScramHash, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }
    match hash {
        ScramHash::Sha1 => run::<Hmac<Sha1>>(key, data),
        ScramHash::Sha256 => run::<Hmac<Sha256>>(key, data),
        ScramHash::Sha512 => run::<Hmac<Sha512>>(key, data),
    }
}

fn h(hash: ScramHash, data: &[u8]) -> Vec<u8> {
    match hash {
        ScramHash::Sha1 => Sha1::digest(data).to_vec(),
        ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        ScramHash::Sha512 => Sha512::digest(data).to_vec(),
    }
}

fn pbkdf2(hash: ScramHash, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; hash.output_len()];
    match hash {
        ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
        ScramHash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        ScramHash::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out),
    }
    out
}

/// What a server stores for one account and mechanism.
pub struct ScramServer {
    hash: ScramHash,
    salt: Vec<u8>,
    iterations: u32,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
    server_nonce: String,
}

/// A server that has sent its server-first-message.
pub struct ServerFirstSent<'a> {
    server: &'a ScramServer,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl ScramServer {
    /// Registers `password` (already SASLprep'd; the benchmarks use ASCII) with a fixed salt.
    pub fn new(hash: ScramHash, password: &str, iterations: u32) -> ScramServer {
        let salt = b"natter-bench-salt-0123".to_vec();
        let salted = pbkdf2(hash, password.as_bytes(), &salt, iterations);
        let client_key = hmac(hash, &salted, b"Client Key");
        ScramServer {
            hash,
            stored_key: h(hash, &client_key),
            server_key: hmac(hash, &salted, b"Server Key"),
            salt,
            iterations,
            server_nonce: "3rfcNHYJY1ZVvWVs7j".to_owned(),
        }
    }

    /// Answers the client-first-message (`n,,n=user,r=nonce`) with the server-first-message.
    #[allow(dead_code)] // the tests that include this file use `first_with` only
    pub fn first(&self, client_first: &[u8]) -> (ServerFirstSent<'_>, Vec<u8>) {
        self.first_with(client_first, None)
    }

    /// [`ScramServer::first`] with an extra attribute (e.g. XEP-0474's `h=…`) at the end of the
    /// server-first-message.
    pub fn first_with(&self, client_first: &[u8], extra: Option<&str>) -> (ServerFirstSent<'_>, Vec<u8>) {
        let client_first = std::str::from_utf8(client_first).expect("client-first is UTF-8");
        let bare = client_first.strip_prefix("n,,").expect("no channel binding, no authzid");
        let client_nonce = bare.split(',').find_map(|a| a.strip_prefix("r=")).expect("client nonce");
        let nonce = format!("{client_nonce}{}", self.server_nonce);
        let mut server_first = format!("r={nonce},s={},i={}", B64.encode(&self.salt), self.iterations);
        if let Some(extra) = extra {
            server_first.push(',');
            server_first.push_str(extra);
        }
        let out = server_first.clone().into_bytes();
        (ServerFirstSent { server: self, client_first_bare: bare.to_owned(), server_first, nonce }, out)
    }
}

impl ServerFirstSent<'_> {
    /// Checks the client-final-message (`c=biws,r=…,p=proof`) and returns the server-final-message
    /// (`v=signature`). Panics on a wrong proof: the benchmark must measure a successful login.
    pub fn last(self, client_final: &[u8]) -> Vec<u8> {
        let s = self.server;
        let client_final = std::str::from_utf8(client_final).expect("client-final is UTF-8");
        let (without_proof, proof) = client_final.rsplit_once(",p=").expect("client proof");
        assert_eq!(without_proof, format!("c=biws,r={}", self.nonce), "channel binding and nonce");
        let auth_message = format!("{},{},{without_proof}", self.client_first_bare, self.server_first);
        let signature = hmac(s.hash, &s.stored_key, auth_message.as_bytes());
        let proof = B64.decode(proof).expect("proof is base64");
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        assert_eq!(h(s.hash, &client_key), s.stored_key, "client proof verifies");
        let server_signature = hmac(s.hash, &s.server_key, auth_message.as_bytes());
        format!("v={}", B64.encode(server_signature)).into_bytes()
    }
}
