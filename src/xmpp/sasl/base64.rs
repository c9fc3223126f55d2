//! Standard base64 (RFC 4648 §4, with padding) for SASL payloads, salts, proofs and signatures, from RustCrypto's
//! `base64ct`: strict (bad padding or stray characters are errors), constant-time over the key material it
//! carries, and about 2 KB smaller in the wasm than the `base64` crate's configurable engine.

use base64ct::Encoding as _;

/// The codec, as a value: `BASE64.encode(bytes)`, `BASE64.decode(text)`.
pub struct Base64;

pub const BASE64: Base64 = Base64;

impl Base64 {
    pub fn encode(&self, data: impl AsRef<[u8]>) -> String {
        base64ct::Base64::encode_string(data.as_ref())
    }

    pub fn decode(&self, text: impl AsRef<str>) -> Result<Vec<u8>, base64ct::Error> {
        base64ct::Base64::decode_vec(text.as_ref())
    }
}
