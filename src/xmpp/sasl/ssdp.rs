//! XEP-0474: SASL SCRAM Downgrade Protection (SSDP), client side, as of version 0.4.0/0.5.0 (2025).
//!
//! The server hashes the list of SASL mechanisms and XEP-0440 channel-binding types it advertised and puts
//! the base64 of that hash into its server-first-message as the optional attribute `h=`. We recompute the
//! hash from what *we* received in `<stream:features/>`; if they differ, someone edited the features on the
//! way (e.g. removed SCRAM-SHA-512 to force SCRAM-SHA-1) and authentication must fail. An attacker cannot
//! simply edit `h=` as well: the server-first-message is part of the SCRAM AuthMessage, so the server would
//! then reject our proof. Without `h=` (a server not implementing the XEP) we proceed.
//!
//! The string hashed (XEP-0474 §5.1): the advertised mechanism names sorted by octets ("i;octet", which is
//! Rust's `str` ordering), joined by U+001E; then, only if the server advertised channel-binding types with
//! XEP-0440, U+001F and the sorted types joined by U+001E. Hashed with the hash of the SCRAM mechanism in use.
//!
//! Not implemented, on purpose: the superseded 0.3.x form `d=` (delimiters `,` and `|`). Deployed servers that
//! sent it hashed mechanisms they did not advertise, so checking it would lock people out of honest
//! servers; `d=` is ignored like any unknown optional attribute.

use super::base64::BASE64;
use subtle::ConstantTimeEq;

use super::error::SaslError;
use super::scram::ScramHash;

const RECORD_SEPARATOR: u8 = 0x1E;
const UNIT_SEPARATOR: u8 = 0x1F;

/// What the server advertised before authentication, exactly as received, for XEP-0474.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DowngradeInfo {
    /// Every `<mechanism/>` of the SASL profile in use (RFC 6120 `<mechanisms/>`, or SASL2's
    /// `<authentication/>`), including ones we do not implement (PLAIN, `*-PLUS`, …).
    pub mechanisms: Vec<String>,
    /// The `type` of every XEP-0440 `<channel-binding/>`. Empty means the server did not advertise
    /// `<sasl-channel-binding/>` at all (XEP-0440 requires at least one child when it is present).
    pub channel_bindings: Vec<String>,
}

impl DowngradeInfo {
    /// The string XEP-0474 §5.1 hashes (before hashing).
    pub fn ssdp_input(&self) -> Vec<u8> {
        let mut out = Vec::new();
        join_sorted(&mut out, &self.mechanisms);
        if !self.channel_bindings.is_empty() {
            out.push(UNIT_SEPARATOR);
            join_sorted(&mut out, &self.channel_bindings);
        }
        out
    }

    /// The hash the server should send as `h=`, raw (not base64).
    pub fn ssdp_hash(&self, hash: ScramHash) -> Vec<u8> {
        hash.hash(&self.ssdp_input())
    }

    /// Checks the server's `h=` value against what we were advertised.
    pub(crate) fn verify(&self, hash: ScramHash, h_attribute: &str) -> Result<(), SaslError> {
        // A value that is not even base64 cannot match: same verdict as a wrong hash (XEP-0474 §5.2).
        let received = BASE64.decode(h_attribute).map_err(|_| SaslError::Downgrade)?;
        let expected = self.ssdp_hash(hash);
        // Public data, but comparing in constant time costs nothing.
        if bool::from(received.as_slice().ct_eq(expected.as_slice())) { Ok(()) } else { Err(SaslError::Downgrade) }
    }
}

fn join_sorted(out: &mut Vec<u8>, items: &[String]) {
    // Owned strings: the same sort instantiation as the roster's groups (a `[&str]` sort would be a second copy).
    let mut sorted = items.to_vec();
    sorted.sort_unstable();
    for (i, item) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(RECORD_SEPARATOR);
        }
        out.extend_from_slice(item.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// XEP-0474 §5.3 "Full Example": SCRAM-SHA-1 hash of
    /// 'SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1ftls-exporter\x1etls-server-end-point' is G6k/rBLDqgOhRRaCuuatSDFkJ08=.
    /// The lists are given unsorted, the way a server might advertise them.
    #[test]
    fn xep0474_example_hash() {
        let info = DowngradeInfo {
            mechanisms: strings(&["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"]),
            channel_bindings: strings(&["tls-server-end-point", "tls-exporter"]),
        };
        assert_eq!(
            info.ssdp_input(),
            b"SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1ftls-exporter\x1etls-server-end-point".to_vec()
        );
        assert_eq!(BASE64.encode(info.ssdp_hash(ScramHash::Sha1)), "G6k/rBLDqgOhRRaCuuatSDFkJ08=");
        assert_eq!(info.verify(ScramHash::Sha1, "G6k/rBLDqgOhRRaCuuatSDFkJ08="), Ok(()));
    }

    #[test]
    fn without_channel_bindings_there_is_no_unit_separator() {
        let info = DowngradeInfo {
            mechanisms: strings(&["SCRAM-SHA-256", "PLAIN", "SCRAM-SHA-1"]),
            channel_bindings: Vec::new(),
        };
        assert_eq!(info.ssdp_input(), b"PLAIN\x1eSCRAM-SHA-1\x1eSCRAM-SHA-256".to_vec());
    }

    #[test]
    fn a_stripped_mechanism_is_a_downgrade() {
        let honest =
            DowngradeInfo { mechanisms: strings(&["SCRAM-SHA-1", "SCRAM-SHA-512"]), channel_bindings: Vec::new() };
        let h = BASE64.encode(honest.ssdp_hash(ScramHash::Sha1));
        let tampered = DowngradeInfo { mechanisms: strings(&["SCRAM-SHA-1"]), channel_bindings: Vec::new() };
        assert_eq!(tampered.verify(ScramHash::Sha1, &h), Err(SaslError::Downgrade));
        assert_eq!(tampered.verify(ScramHash::Sha1, "not base64!"), Err(SaslError::Downgrade));
    }
}
