//! The defined conditions of the server's `<failure/>` (RFC 6120 §6.5), and words for them a person
//! understands.
//!
//! The session code reads the child element's local name of `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>`
//! and passes it to [`SaslFailure::from_condition`]; nothing here touches XML.

/// Why the server refused the authentication (RFC 6120 §6.5.1–§6.5.11).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SaslFailure {
    Aborted,
    AccountDisabled,
    CredentialsExpired,
    EncryptionRequired,
    IncorrectEncoding,
    InvalidAuthzid,
    InvalidMechanism,
    MalformedRequest,
    MechanismTooWeak,
    NotAuthorized,
    TemporaryAuthFailure,
    /// A condition RFC 6120 does not define, kept verbatim.
    Other(String),
}

impl SaslFailure {
    /// Maps a condition element's local name (e.g. `not-authorized`) to its variant.
    pub fn from_condition(name: &str) -> SaslFailure {
        match name {
            "aborted" => SaslFailure::Aborted,
            "account-disabled" => SaslFailure::AccountDisabled,
            "credentials-expired" => SaslFailure::CredentialsExpired,
            "encryption-required" => SaslFailure::EncryptionRequired,
            "incorrect-encoding" => SaslFailure::IncorrectEncoding,
            "invalid-authzid" => SaslFailure::InvalidAuthzid,
            "invalid-mechanism" => SaslFailure::InvalidMechanism,
            "malformed-request" => SaslFailure::MalformedRequest,
            "mechanism-too-weak" => SaslFailure::MechanismTooWeak,
            "not-authorized" => SaslFailure::NotAuthorized,
            "temporary-auth-failure" => SaslFailure::TemporaryAuthFailure,
            other => SaslFailure::Other(other.to_owned()),
        }
    }

    /// The condition element's local name, the inverse of [`SaslFailure::from_condition`].
    pub fn condition(&self) -> &str {
        match self {
            SaslFailure::Aborted => "aborted",
            SaslFailure::AccountDisabled => "account-disabled",
            SaslFailure::CredentialsExpired => "credentials-expired",
            SaslFailure::EncryptionRequired => "encryption-required",
            SaslFailure::IncorrectEncoding => "incorrect-encoding",
            SaslFailure::InvalidAuthzid => "invalid-authzid",
            SaslFailure::InvalidMechanism => "invalid-mechanism",
            SaslFailure::MalformedRequest => "malformed-request",
            SaslFailure::MechanismTooWeak => "mechanism-too-weak",
            SaslFailure::NotAuthorized => "not-authorized",
            SaslFailure::TemporaryAuthFailure => "temporary-auth-failure",
            SaslFailure::Other(name) => name,
        }
    }

    /// A sentence for the login screen.
    pub fn describe(&self) -> &'static str {
        match self {
            SaslFailure::Aborted => "The login was cancelled",
            SaslFailure::AccountDisabled => "This account is disabled",
            SaslFailure::CredentialsExpired => "Your password has expired; set a new one with your provider",
            SaslFailure::EncryptionRequired => "The server requires a more secure connection for this login",
            SaslFailure::IncorrectEncoding => "The server could not read the login data",
            SaslFailure::InvalidAuthzid => "You are not allowed to log in as this address",
            SaslFailure::InvalidMechanism => "The server does not support this login method",
            SaslFailure::MalformedRequest => "The server could not understand the login request",
            SaslFailure::MechanismTooWeak => "The server requires a stronger login method",
            SaslFailure::NotAuthorized => "Wrong address or password",
            SaslFailure::TemporaryAuthFailure => "The server cannot check your login right now; try again later",
            SaslFailure::Other(_) => "The server refused the login",
        }
    }

    /// True when retrying the same credentials later may work (so the UI should not blame the password).
    pub fn is_temporary(&self) -> bool {
        matches!(self, SaslFailure::TemporaryAuthFailure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFINED: [(&str, SaslFailure); 11] = [
        ("aborted", SaslFailure::Aborted),
        ("account-disabled", SaslFailure::AccountDisabled),
        ("credentials-expired", SaslFailure::CredentialsExpired),
        ("encryption-required", SaslFailure::EncryptionRequired),
        ("incorrect-encoding", SaslFailure::IncorrectEncoding),
        ("invalid-authzid", SaslFailure::InvalidAuthzid),
        ("invalid-mechanism", SaslFailure::InvalidMechanism),
        ("malformed-request", SaslFailure::MalformedRequest),
        ("mechanism-too-weak", SaslFailure::MechanismTooWeak),
        ("not-authorized", SaslFailure::NotAuthorized),
        ("temporary-auth-failure", SaslFailure::TemporaryAuthFailure),
    ];

    #[test]
    fn every_rfc6120_condition_parses_and_round_trips() {
        for (name, variant) in DEFINED {
            assert_eq!(SaslFailure::from_condition(name), variant);
            assert_eq!(variant.condition(), name);
        }
    }

    #[test]
    fn unknown_condition_is_kept_verbatim() {
        let f = SaslFailure::from_condition("bad-hair-day");
        assert_eq!(f, SaslFailure::Other("bad-hair-day".into()));
        assert_eq!(f.condition(), "bad-hair-day");
        assert_eq!(f.describe(), "The server refused the login");
    }

    #[test]
    fn descriptions_speak_to_people() {
        assert_eq!(SaslFailure::NotAuthorized.describe(), "Wrong address or password");
        assert_eq!(SaslFailure::AccountDisabled.describe(), "This account is disabled");
        for (_, variant) in DEFINED {
            assert!(!variant.describe().is_empty());
        }
        assert!(SaslFailure::TemporaryAuthFailure.is_temporary());
        assert!(!SaslFailure::NotAuthorized.is_temporary());
    }
}
