//! SASL PLAIN (RFC 4616): the password itself, inside TLS. Used only when the server offers nothing better
//! and the caller allowed it (see [`super::select_mechanism`]).

use super::error::{SaslError, SaslprepField};
use super::saslprep::saslprep;
use zeroize::Zeroizing;

/// The initial response `[authzid] NUL authcid NUL passwd`, with no authorization identity, after SASLprep
/// of both strings (which also refuses NUL inside them, so nothing can be smuggled into the fields).
///
/// The prepared copy of the password made here is wiped before returning; the message returned holds the
/// password, so the caller wipes it too (`zeroize::Zeroizing`) once it is encoded.
pub fn plain_initial_response(authcid: &str, password: &str) -> Result<Vec<u8>, SaslError> {
    let authcid = saslprep(SaslprepField::Username, authcid)?;
    let password = Zeroizing::new(saslprep(SaslprepField::Password, password)?);
    let mut message = Vec::with_capacity(authcid.len() + password.len() + 2);
    message.push(0);
    message.extend_from_slice(authcid.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::sasl::error::SaslprepError;

    #[test]
    fn rfc4616_example_without_authzid() {
        // RFC 4616 §4: "\0tim\0tanstaaftanstaaf".
        assert_eq!(plain_initial_response("tim", "tanstaaftanstaaf"), Ok(b"\0tim\0tanstaaftanstaaf".to_vec()));
    }

    #[test]
    fn credentials_are_saslprepped_and_nul_is_refused() {
        assert_eq!(plain_initial_response("I\u{00AD}X", "\u{2168}"), Ok(b"\0IX\0IX".to_vec()));
        assert_eq!(
            plain_initial_response("tim", "a\0b"),
            Err(SaslError::Saslprep { field: SaslprepField::Password, reason: SaslprepError::ProhibitedCharacter })
        );
        assert_eq!(
            plain_initial_response("", "secret"),
            Err(SaslError::Saslprep { field: SaslprepField::Username, reason: SaslprepError::Empty })
        );
    }
}
