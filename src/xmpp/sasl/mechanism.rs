//! Which SASL mechanism to use, from what the server offers.

use super::error::SaslError;
use super::scram::ScramHash;

/// The mechanisms this client implements, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    ScramSha512,
    ScramSha256,
    ScramSha1,
    Plain,
    /// XEP-0484 FAST with a token the server issued (draft-schmaus-kitten-sasl-ht, no channel binding): only
    /// inside SASL2, only with a token, never chosen by [`select_mechanism`].
    HtSha256None,
}

/// SCRAM mechanisms in order of preference.
const SCRAM_PREFERENCE: [Mechanism; 3] = [Mechanism::ScramSha512, Mechanism::ScramSha256, Mechanism::ScramSha1];

impl Mechanism {
    /// The registered SASL name, as it appears in `<mechanism/>` and `<auth mechanism='…'>`.
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::Plain => "PLAIN",
            Mechanism::HtSha256None => "HT-SHA-256-NONE",
        }
    }

    /// The mechanism with this exact name (SASL names are upper case, RFC 4422 §3.1), if we implement it.
    /// `-PLUS` variants are not ours: a browser cannot do channel binding.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        [
            Mechanism::ScramSha512,
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::Plain,
            Mechanism::HtSha256None,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }

    /// The hash for SCRAM mechanisms; `None` for PLAIN and FAST.
    pub const fn scram_hash(self) -> Option<ScramHash> {
        match self {
            Mechanism::ScramSha512 => Some(ScramHash::Sha512),
            Mechanism::ScramSha256 => Some(ScramHash::Sha256),
            Mechanism::ScramSha1 => Some(ScramHash::Sha1),
            Mechanism::Plain | Mechanism::HtSha256None => None,
        }
    }

    /// Whether this is a XEP-0484 FAST mechanism (it authenticates with a token, not a password).
    pub const fn is_fast(self) -> bool {
        matches!(self, Mechanism::HtSha256None)
    }
}

/// Chooses the mechanism: SCRAM-SHA-512 > SCRAM-SHA-256 > SCRAM-SHA-1. PLAIN only if `allow_plain` and the
/// server offered no SCRAM mechanism of any kind (not even one we cannot use, such as a lone `-PLUS`): a
/// server that does SCRAM and also offers PLAIN gets no reason for us to send the password itself, and after
/// a SCRAM attempt has failed the offer is the same, so we never fall back to PLAIN. Remembering across
/// sessions that an account once used SCRAM (XEP-0474 §6 "pinning") is the caller's part: pass
/// `allow_plain = false` for such accounts.
///
/// Names are compared exactly after trimming surrounding whitespace (XML text content may carry some).
pub fn select_mechanism(offered: &[String], allow_plain: bool) -> Result<Mechanism, SaslError> {
    let offered_names = || offered.iter().map(|name| name.trim());
    if let Some(scram) = SCRAM_PREFERENCE.into_iter().find(|m| offered_names().any(|name| name == m.name())) {
        return Ok(scram);
    }
    let scram_offered = offered_names().any(|name| name.starts_with("SCRAM-"));
    let plain_offered = offered_names().any(|name| name == Mechanism::Plain.name());
    if allow_plain && plain_offered && !scram_offered {
        return Ok(Mechanism::Plain);
    }
    Err(SaslError::NoAcceptableMechanism { offered: offered.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_round_trip() {
        for m in [
            Mechanism::ScramSha512,
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::Plain,
            Mechanism::HtSha256None,
        ] {
            assert_eq!(Mechanism::from_name(m.name()), Some(m));
        }
        assert_eq!(Mechanism::from_name("HT-SHA-256-ENDP"), None);
        assert!(Mechanism::HtSha256None.is_fast() && !Mechanism::Plain.is_fast());
        assert_eq!(Mechanism::from_name("SCRAM-SHA-1-PLUS"), None);
        assert_eq!(Mechanism::from_name("scram-sha-1"), None);
        assert_eq!(Mechanism::ScramSha256.scram_hash(), Some(ScramHash::Sha256));
        assert_eq!(Mechanism::Plain.scram_hash(), None);
    }

    #[test]
    fn strongest_scram_wins_whatever_the_order() {
        let all = offer(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-512-PLUS"]);
        assert_eq!(select_mechanism(&all, true), Ok(Mechanism::ScramSha512));
        assert_eq!(select_mechanism(&offer(&["SCRAM-SHA-1", "SCRAM-SHA-256"]), false), Ok(Mechanism::ScramSha256));
        assert_eq!(select_mechanism(&offer(&["PLAIN", "SCRAM-SHA-1"]), true), Ok(Mechanism::ScramSha1));
        assert_eq!(select_mechanism(&offer(&[" SCRAM-SHA-1\n"]), false), Ok(Mechanism::ScramSha1));
    }

    #[test]
    fn plain_only_when_allowed_and_no_scram_offered() {
        assert_eq!(select_mechanism(&offer(&["PLAIN"]), true), Ok(Mechanism::Plain));
        assert!(matches!(select_mechanism(&offer(&["PLAIN"]), false), Err(SaslError::NoAcceptableMechanism { .. })));
        // A SCRAM mechanism we cannot use is still a sign the server does SCRAM: no PLAIN.
        assert!(matches!(
            select_mechanism(&offer(&["SCRAM-SHA-1-PLUS", "PLAIN"]), true),
            Err(SaslError::NoAcceptableMechanism { .. })
        ));
    }

    #[test]
    fn nothing_usable_is_a_typed_error_carrying_the_offer() {
        assert_eq!(
            select_mechanism(&offer(&["DIGEST-MD5", "EXTERNAL"]), true),
            Err(SaslError::NoAcceptableMechanism { offered: offer(&["DIGEST-MD5", "EXTERNAL"]) })
        );
        assert!(matches!(select_mechanism(&[], true), Err(SaslError::NoAcceptableMechanism { .. })));
    }
}
