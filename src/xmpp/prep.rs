//! Stringprep (RFC 3454) in the four profiles an XMPP client needs: nodeprep and resourceprep for the local
//! part and the resource of a JID (RFC 3920 appendices A and B, kept by RFC 6122), nameprep for its domain
//! (RFC 3491), and SASLprep for credentials (RFC 4013).
//!
//! The results are those of the `stringprep` crate's functions of the same names; the tests compare both,
//! exhaustively on short ASCII strings and on generated Unicode text. What differs is how they are reached,
//! to keep the browser build small (the crate's Unicode tables are about a fifth of it):
//! - ASCII input, nearly every JID and password, needs no Unicode table at all: each profile reduces to
//!   refusing some ASCII characters and, for nodeprep and nameprep, lowercasing ([`ascii`]).
//! - Other input goes through the RFC 3454 steps (map, normalize, prohibit, bidi, unassigned) with the
//!   crate's public tables, except NFKC normalization, whose tables are the large part. [`nfkc`] is the
//!   `unicode-normalization` crate (the one `stringprep` uses) in native builds, and in the browser build the
//!   browser's own `String.prototype.normalize("NFKC")`, supplied by the app at link time.
//!
//! One consequence of the second point: the browser's Unicode version is not the crate's. NFKC is stable for
//! every character both versions know, so the two builds can only differ on code points that a newer Unicode
//! version gives a compatibility mapping; all of those are unassigned in Unicode 3.2 (table A.1). Where one
//! side maps such a code point and the other keeps it, the side that keeps it refuses the string (A.1).
//!
//! What this module does NOT do: it does not split JIDs or check lengths ([`super::jid`]), nor say why a
//! credential was refused ([`super::sasl`]); it answers prepared-or-refused.

use std::borrow::Cow;

use stringprep::tables as t;

/// The input cannot be prepared with this profile (a prohibited character, a bidi rule, or a code point
/// unassigned in Unicode 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Node,
    Name,
    Resource,
    Sasl,
}

/// Nodeprep (RFC 3920 appendix A): JID local parts.
pub(crate) fn nodeprep(s: &str) -> Result<Cow<'_, str>, Refused> {
    prep(Profile::Node, s)
}

/// Nameprep (RFC 3491): JID domains.
pub(crate) fn nameprep(s: &str) -> Result<Cow<'_, str>, Refused> {
    prep(Profile::Name, s)
}

/// Resourceprep (RFC 3920 appendix B): JID resources.
pub(crate) fn resourceprep(s: &str) -> Result<Cow<'_, str>, Refused> {
    prep(Profile::Resource, s)
}

/// SASLprep (RFC 4013): usernames and passwords.
pub(crate) fn saslprep(s: &str) -> Result<Cow<'_, str>, Refused> {
    prep(Profile::Sasl, s)
}

fn prep(profile: Profile, s: &str) -> Result<Cow<'_, str>, Refused> {
    if s.is_ascii() {
        return ascii(profile, s);
    }

    // Mapping (RFC 3454 §3), in the order each profile's RFC gives: SASLprep maps non-ASCII spaces to SPACE
    // before dropping B.1 characters (U+200B is in both tables, so the order matters).
    let mut mapped = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if profile == Profile::Sasl && t::non_ascii_space_character(c) { ' ' } else { c };
        if t::commonly_mapped_to_nothing(c) {
            continue;
        }
        match profile {
            Profile::Node | Profile::Name => mapped.extend(t::case_fold_for_nfkc(c)),
            Profile::Resource | Profile::Sasl => mapped.push(c),
        }
    }

    // Normalization (§4): NFKC in all four profiles.
    let normalized = nfkc(&mapped);

    // Prohibited output (§5): the tables each profile lists.
    let prohibited = |c: char| {
        t::non_ascii_space_character(c) // C.1.2
            || t::non_ascii_control_character(c) // C.2.2
            || t::private_use(c) // C.3
            || t::non_character_code_point(c) // C.4
            || t::surrogate_code(c) // C.5
            || t::inappropriate_for_plain_text(c) // C.6
            || t::inappropriate_for_canonical_representation(c) // C.7
            || t::change_display_properties_or_deprecated(c) // C.8
            || t::tagging_character(c) // C.9
            || (profile != Profile::Name && t::ascii_control_character(c)) // C.2.1
            || (profile == Profile::Node && (t::ascii_space_character(c) || is_node_prohibited_ascii(c))) // C.1.1
    };
    if normalized.chars().any(prohibited) {
        return Err(Refused);
    }

    // Bidirectional characters (§6), then unassigned code points (§7; all four profiles are for stored strings).
    if violates_bidi_rules(&normalized) || normalized.chars().any(t::unassigned_code_point) {
        return Err(Refused);
    }
    Ok(Cow::Owned(normalized))
}

/// The whole of each profile on ASCII input. ASCII has nothing to map to nothing or to space (tables B.1 and
/// C.1.2 hold no ASCII), is its own NFKC form, has no right-to-left character and is assigned; what is left is
/// case folding (B.2 maps exactly `A`–`Z` to `a`–`z` in ASCII) and the prohibited ASCII characters.
fn ascii(profile: Profile, s: &str) -> Result<Cow<'_, str>, Refused> {
    let refused = |c: char| match profile {
        // Nameprep prohibits no ASCII character (domain syntax is checked by the caller).
        Profile::Name => false,
        Profile::Resource | Profile::Sasl => t::ascii_control_character(c),
        Profile::Node => t::ascii_control_character(c) || c == ' ' || is_node_prohibited_ascii(c),
    };
    if s.chars().any(refused) {
        return Err(Refused);
    }
    let folds = matches!(profile, Profile::Node | Profile::Name);
    if folds && s.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok(Cow::Owned(s.to_ascii_lowercase()))
    } else {
        Ok(Cow::Borrowed(s))
    }
}

/// The characters nodeprep prohibits on top of stringprep's tables (RFC 3920 appendix A.5).
fn is_node_prohibited_ascii(c: char) -> bool {
    matches!(c, '"' | '&' | '\'' | '/' | ':' | '<' | '>' | '@')
}

/// RFC 3454 §6: with any R or AL character, no L character, and R or AL first and last.
fn violates_bidi_rules(s: &str) -> bool {
    if !s.chars().any(t::bidi_r_or_al) {
        return false;
    }
    let first_last_ok = |c: Option<char>| c.is_some_and(t::bidi_r_or_al);
    s.chars().any(t::bidi_l) || !first_last_ok(s.chars().next()) || !first_last_ok(s.chars().next_back())
}

/// NFKC normalization of `s` (Unicode Standard Annex #15).
#[cfg(not(target_arch = "wasm32"))]
fn nfkc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc().collect()
}

/// NFKC normalization of `s` (Unicode Standard Annex #15), from the browser: the app defines
/// `natter_nfkc` (in `crate::transport`, with the browser's `String.prototype.normalize("NFKC")`), so the core
/// stays free of browser APIs and the wasm file free of normalization tables.
///
/// Without that definition the build still links (this target turns an undefined function into an import
/// from a module called `env`), but the page then cannot load the app at all, so every browser test fails:
/// loud, never a silent fallback. `tests/web_transport.rs` also checks the results.
#[cfg(target_arch = "wasm32")]
fn nfkc(s: &str) -> String {
    unsafe extern "Rust" {
        // SAFETY: defined once in this crate, with exactly this signature, by `crate::transport`.
        safe fn natter_nfkc(s: &str) -> String;
    }
    natter_nfkc(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Ours = fn(&str) -> Result<Cow<'_, str>, Refused>;
    type Theirs = fn(&str) -> Result<Cow<'_, str>, stringprep::Error>;
    const PROFILES: [(&str, Ours, Theirs); 4] = [
        ("nodeprep", nodeprep, stringprep::nodeprep),
        ("nameprep", nameprep, stringprep::nameprep),
        ("resourceprep", resourceprep, stringprep::resourceprep),
        ("saslprep", saslprep, stringprep::saslprep),
    ];

    /// Our result and the `stringprep` crate's on `s` are the same, for every profile.
    fn assert_same(s: &str) {
        for (name, ours, theirs) in PROFILES {
            let a = ours(s).map(Cow::into_owned).ok();
            let b = theirs(s).map(Cow::into_owned).ok();
            assert_eq!(a, b, "{name}({s:?}) differs from the stringprep crate");
        }
    }

    /// A small deterministic generator (SplitMix64), so failures replay.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn ascii_every_string_up_to_two_characters_matches_the_crate() {
        assert_same("");
        for a in 0u8..128 {
            assert_same(&(a as char).to_string());
            for b in 0u8..128 {
                assert_same(&format!("{}{}", a as char, b as char));
            }
        }
    }

    #[test]
    fn ascii_every_string_up_to_three_characters_of_each_kind_matches_the_crate() {
        // Each profile treats an ASCII character by its kind alone: control, space, one nodeprep prohibits,
        // uppercase, or anything else. Two or three of each kind, in every combination up to three long.
        let kinds: Vec<char> = "\0\u{1f}\u{7f} \"&/:<>@AMZamz09-.~[".chars().collect();
        let mut strings = vec![String::new()];
        for _ in 0..3 {
            strings = strings
                .iter()
                .flat_map(|s| kinds.iter().map(move |&c| format!("{s}{c}")))
                .inspect(|s| assert_same(s))
                .collect();
        }
    }

    #[test]
    fn ascii_generated_strings_match_the_crate() {
        let mut rng = Rng(0x6e61_7474_6572);
        // Mostly printable, with controls, space and the nodeprep-prohibited characters mixed in.
        let special: Vec<char> = (0u8..0x20).chain([0x7f]).map(char::from).chain(" \"&'/:<>@".chars()).collect();
        for _ in 0..10_000 {
            let len = 1 + rng.below(40);
            let s: String = (0..len)
                .map(|_| match rng.below(10) {
                    0 => special[rng.below(special.len())],
                    _ => char::from(0x20 + rng.below(0x5f) as u8),
                })
                .collect();
            assert_same(&s);
        }
    }

    /// Characters every step of stringprep has something to say about.
    const INTERESTING: &[char] = &[
        'a', 'Z', '0', ' ', '@', '/', '\u{7}', '\u{7f}', // ASCII
        'é', 'É', 'ß', 'ſ', 'İ', 'ı', 'Σ', 'ς', 'Ω', 'Ω', 'Å', 'ǅ', 'ΐ', // case folding (B.2), composed forms
        '\u{AD}', '\u{200B}', '\u{200D}', '\u{FE0F}', '\u{FEFF}', '\u{34F}', // mapped to nothing (B.1)
        '\u{A0}', '\u{2003}', '\u{3000}', '\u{202F}', // non-ASCII spaces (C.1.2)
        'ª', 'ﬁ', 'Ⅸ', '①', '㎒', 'Ａ', 'ｶ', '²', '½', '\u{2126}', '\u{FB2A}', // NFKC compatibility mappings
        '\u{301}', '\u{308}', '\u{327}', 'e', 'o', '\u{1100}', '\u{1161}', '\u{11A8}', // combining, Hangul jamo
        '\u{627}', '\u{628}', '\u{5D0}', '\u{661}', '\u{6F0}', '1', // right-to-left letters and digits (D.1)
        '\u{E000}', '\u{FFFD}', '\u{FDD0}', '\u{2FF0}', '\u{200E}', '\u{202E}', '\u{E0001}', '\u{85}', '\u{1D173}',
        '\u{221}', '\u{1CCD6}', '\u{1F600}', '\u{20000}', '\u{10FFFD}', // unassigned in 3.2, newer, astral
    ];

    #[test]
    fn unicode_generated_strings_match_the_crate() {
        let mut rng = Rng(0x7072_6570);
        for _ in 0..20_000 {
            let len = 1 + rng.below(8);
            let s: String = (0..len)
                .map(|_| match rng.below(8) {
                    // Any scalar value now and then, weighted to the Basic Multilingual Plane.
                    0 => loop {
                        let limit = if rng.below(4) == 0 { 0x11_0000 } else { 0x1_0000 };
                        if let Some(c) = char::from_u32(rng.below(limit) as u32) {
                            break c;
                        }
                    },
                    _ => INTERESTING[rng.below(INTERESTING.len())],
                })
                .collect();
            assert_same(&s);
        }
    }

    #[test]
    fn every_interesting_character_alone_and_in_context_matches_the_crate() {
        for &c in INTERESTING {
            for s in [c.to_string(), format!("a{c}"), format!("{c}a"), format!("\u{627}{c}\u{628}")] {
                assert_same(&s);
            }
        }
    }

    #[test]
    fn ascii_takes_no_copy_unless_it_lowercases() {
        assert!(matches!(nodeprep("juliet"), Ok(Cow::Borrowed("juliet"))));
        assert!(matches!(nameprep("example.com"), Ok(Cow::Borrowed(_))));
        assert!(matches!(resourceprep("Balcony"), Ok(Cow::Borrowed("Balcony"))));
        assert!(matches!(saslprep("Pass word"), Ok(Cow::Borrowed("Pass word"))));
        assert_eq!(nodeprep("Juliet").as_deref(), Ok("juliet"));
    }

    #[test]
    fn non_ascii_examples() {
        assert_eq!(nodeprep("Ｊｕｌｉｅｔ").as_deref(), Ok("juliet"));
        assert_eq!(nodeprep("Straße").as_deref(), Ok("strasse"));
        assert_eq!(nameprep("ＥＸＡＭＰＬＥ.com").as_deref(), Ok("example.com"));
        assert_eq!(resourceprep("ﬁ\u{AD}le").as_deref(), Ok("file"));
        assert_eq!(saslprep("I\u{AD}X").as_deref(), Ok("IX"));
        assert_eq!(saslprep("a\u{200B}b").as_deref(), Ok("a b"));
        assert_eq!(nodeprep("a\u{200B}b").as_deref(), Ok("ab"));
        assert_eq!(nodeprep("jul iet"), Err(Refused));
        assert_eq!(nodeprep("jul\u{A0}iet"), Err(Refused));
        assert_eq!(saslprep("\u{627}1"), Err(Refused));
        assert_eq!(saslprep("pass\u{221}"), Err(Refused));
    }
}
