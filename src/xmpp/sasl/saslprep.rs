//! SASLprep (RFC 4013) of usernames and passwords, and SCRAM's username escaping (RFC 5802 §5.1).
//!
//! The preparation itself is [`crate::xmpp::prep`]'s SASLprep (the `stringprep` crate's results, with an
//! ASCII path that needs no Unicode table); this file only turns its refusal into a typed [`SaslprepError`]
//! and refuses strings that end up empty. Both fields are treated as RFC 3454 "stored strings" (unassigned
//! code points refused), which is what `stringprep` implements and what RFC 5802 §2.2 asks for passwords; for
//! usernames it is stricter than the "query string" RFC 5802 §5.1 allows, which only matters for code points
//! unassigned in Unicode 3.2.

use stringprep::tables;

use crate::xmpp::prep;

use super::error::{SaslError, SaslprepError, SaslprepField};

/// Prepares `input` with SASLprep, or says precisely why it cannot be prepared.
pub fn saslprep(field: SaslprepField, input: &str) -> Result<String, SaslError> {
    let prepared = prep::saslprep(input).map_err(|_| SaslError::Saslprep { field, reason: classify_failure(input) })?;
    if prepared.is_empty() {
        return Err(SaslError::Saslprep { field, reason: SaslprepError::Empty });
    }
    Ok(prepared.into_owned())
}

/// Escapes a (prepared) username for the `n=` attribute: `=` becomes `=3D` and `,` becomes `=2C`
/// (RFC 5802 §5.1). Done character by character, so an `=` produced by escaping is never escaped again.
pub fn escape_username(prepared: &str) -> String {
    let mut out = String::with_capacity(prepared.len());
    for c in prepared.chars() {
        match c {
            '=' => out.push_str("=3D"),
            ',' => out.push_str("=2C"),
            c => out.push(c),
        }
    }
    out
}

/// Finds out why SASLprep refused `input` (it answers prepared-or-refused, like the `stringprep` crate).
///
/// A character that fails preparation on its own is prohibited or unassigned (RFC 3454 tables, which the
/// crate exposes). If every character passes alone, the combination is at fault, and the only rule in
/// SASLprep that looks at the combination is the bidirectional check (RFC 3454 §6).
fn classify_failure(input: &str) -> SaslprepError {
    let mut buf = [0u8; 4];
    let mut unassigned = false;
    for c in input.chars() {
        if prep::saslprep(c.encode_utf8(&mut buf)).is_err() {
            if tables::unassigned_code_point(c) {
                unassigned = true;
            } else {
                // RFC 3454 checks prohibited output before bidi and unassigned code points.
                return SaslprepError::ProhibitedCharacter;
            }
        }
    }
    if violates_bidi_rules(input) {
        SaslprepError::BidiViolation
    } else if unassigned {
        SaslprepError::UnassignedCodePoint
    } else {
        // Unreachable as far as RFC 4013 goes (every other failure is a single prohibited character); report
        // the most conservative cause rather than panic.
        SaslprepError::ProhibitedCharacter
    }
}

/// RFC 3454 §6 rules 2 and 3, on the characters that survive the RFC 4013 §2.1 mapping.
fn violates_bidi_rules(input: &str) -> bool {
    let kept: Vec<char> = input.chars().filter(|&c| !tables::commonly_mapped_to_nothing(c)).collect();
    if !kept.iter().any(|&c| prep::is_r_or_al(c)) {
        return false;
    }
    let has_l = kept.iter().any(|&c| prep::is_l(c));
    let first_ok = kept.first().is_some_and(|&c| prep::is_r_or_al(c));
    let last_ok = kept.last().is_some_and(|&c| prep::is_r_or_al(c));
    has_l || !first_ok || !last_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prep(s: &str) -> Result<String, SaslError> {
        saslprep(SaslprepField::Password, s)
    }

    fn refusal(field: SaslprepField, s: &str) -> SaslprepError {
        match saslprep(field, s) {
            Err(SaslError::Saslprep { field: f, reason }) if f == field => reason,
            other => panic!("expected a SASLprep refusal of {s:?}, got {other:?}"),
        }
    }

    // RFC 4013 §3, the examples table, one by one.
    #[test]
    fn rfc4013_soft_hyphen_is_mapped_to_nothing() {
        assert_eq!(prep("I\u{00AD}X").as_deref(), Ok("IX"));
    }

    #[test]
    fn rfc4013_ascii_passes_unchanged_and_case_is_kept() {
        assert_eq!(prep("user").as_deref(), Ok("user"));
        assert_eq!(prep("USER").as_deref(), Ok("USER"));
    }

    #[test]
    fn rfc4013_compatibility_characters_are_nfkc_normalised() {
        assert_eq!(prep("\u{00AA}").as_deref(), Ok("a"));
        assert_eq!(prep("\u{2168}").as_deref(), Ok("IX"));
    }

    #[test]
    fn rfc4013_control_character_is_a_prohibited_character() {
        assert_eq!(refusal(SaslprepField::Password, "\u{0007}"), SaslprepError::ProhibitedCharacter);
    }

    #[test]
    fn rfc4013_mixed_direction_is_a_bidi_violation() {
        assert_eq!(refusal(SaslprepField::Password, "\u{0627}\u{0031}"), SaslprepError::BidiViolation);
    }

    #[test]
    fn non_ascii_space_is_mapped_to_space() {
        // RFC 4013 §2.1: non-ASCII space characters (C.1.2) map to SPACE.
        assert_eq!(prep("a\u{00A0}b").as_deref(), Ok("a b"));
    }

    #[test]
    fn private_use_and_nul_are_prohibited_and_name_the_field() {
        assert_eq!(refusal(SaslprepField::Username, "ju\u{E000}liet"), SaslprepError::ProhibitedCharacter);
        assert_eq!(refusal(SaslprepField::Username, "ju\u{0}liet"), SaslprepError::ProhibitedCharacter);
    }

    #[test]
    fn code_point_unassigned_in_unicode_3_2_is_refused() {
        // U+0221 was assigned only in Unicode 4.0, so RFC 3454 table A.1 lists it as unassigned.
        assert_eq!(refusal(SaslprepField::Password, "pass\u{0221}word"), SaslprepError::UnassignedCodePoint);
    }

    #[test]
    fn right_to_left_text_alone_is_fine() {
        assert_eq!(prep("\u{0627}\u{0628}").as_deref(), Ok("\u{0627}\u{0628}"));
    }

    #[test]
    fn empty_or_vanishing_input_is_refused() {
        assert_eq!(refusal(SaslprepField::Username, ""), SaslprepError::Empty);
        assert_eq!(refusal(SaslprepField::Username, "\u{00AD}"), SaslprepError::Empty);
    }

    #[test]
    fn username_escaping_replaces_comma_and_equals_once() {
        assert_eq!(escape_username("a,b=c"), "a=2Cb=3Dc");
        assert_eq!(escape_username("=,"), "=3D=2C");
        assert_eq!(escape_username("plain"), "plain");
    }
}
