//! Nicknames in rooms: whether a message mentions ours, and another nick to offer when ours is taken.
//!
//! Pure functions the session and the UI share. [`mentions`] is linear in the length of the body plus the
//! nick (a Knuth–Morris–Pratt scan over case-folded characters that finds overlapping occurrences too), so a
//! hostile body or nick cannot make it quadratic. Case folding is stringprep's table B.2, which the core
//! carries for JIDs anyway (Rust's own case tables would add to the wasm); what counts as part of a word is
//! decided without Unicode tables: ASCII letters, digits and `_`, and every non-ASCII character but spaces,
//! the Latin-1 signs (`«`, `¿`, `×`, …) and the general, CJK and fullwidth punctuation.

/// Whether `body` mentions `nick`: the nick appears case-insensitively as a whole word — not preceded or
/// followed by a letter, digit or `_` (where the nick itself starts or ends with one). "alice:" and "@Alice"
/// mention alice; "malice" and "alice2" do not.
pub fn mentions(body: &str, nick: &str) -> bool {
    let needle = folded(nick.trim());
    if needle.is_empty() {
        return false;
    }
    let hay = folded(body);
    let word_start = is_word(needle[0]);
    let word_end = is_word(needle[needle.len() - 1]);
    let fail = failure_table(&needle);
    let mut k = 0; // characters of the needle matched so far
    for (i, &c) in hay.iter().enumerate() {
        while k > 0 && needle[k] != c {
            k = fail[k - 1];
        }
        if needle[k] == c {
            k += 1;
        }
        if k == needle.len() {
            let start = i + 1 - k;
            let before_ok = !word_start || start == 0 || !is_word(hay[start - 1]);
            let after_ok = !word_end || hay.get(i + 1).is_none_or(|&n| !is_word(n));
            if before_ok && after_ok {
                return true;
            }
            k = fail[k - 1];
        }
    }
    false
}

/// `s` case-folded (stringprep B.2), as characters.
fn folded(s: &str) -> Vec<char> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        crate::xmpp::prep::case_fold(c, &mut out);
    }
    out.chars().collect()
}

/// Part of a word: see the module docs.
fn is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    // Latin-1 signs (« » ¿ ×…), general punctuation, CJK punctuation, fullwidth ASCII punctuation.
    !c.is_whitespace()
        && !matches!(c, '\u{A0}'..='\u{BF}' | '\u{D7}' | '\u{F7}' | '\u{2000}'..='\u{206F}' | '\u{3000}'..='\u{303F}'
            | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}')
}

/// KMP: for each prefix of `p`, the length of its longest proper prefix that is also a suffix.
fn failure_table(p: &[char]) -> Vec<usize> {
    let mut fail = vec![0; p.len()];
    let mut k = 0;
    for i in 1..p.len() {
        while k > 0 && p[i] != p[k] {
            k = fail[k - 1];
        }
        if p[i] == p[k] {
            k += 1;
        }
        fail[i] = k;
    }
    fail
}

/// Another nick to offer when `nick` is in use: `nick` with a number after it, `attempt` counting from 1
/// ("alice" → "alice2", "alice3", …; "alice2" → "alice3"). Stays within the 1023 bytes a nick may have.
pub fn suggest_nick(nick: &str, attempt: u32) -> String {
    let nick = nick.trim();
    let digits = nick.len() - nick.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, start) = match nick[nick.len() - digits..].parse::<u32>() {
        Ok(n) if digits > 0 && digits < nick.len() => (&nick[..nick.len() - digits], n),
        _ => (nick, 1),
    };
    let number = start.saturating_add(attempt.max(1)).to_string();
    let mut stem = stem.to_owned();
    while stem.len() + number.len() > 1023 {
        stem.pop();
    }
    stem + &number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_case_insensitive() {
        for body in ["alice", "Alice: hi", "hi @alice!", "hey ALICE, look", "(alice)", "thanks, alice"] {
            assert!(mentions(body, "alice"), "{body:?}");
        }
        for body in ["malice", "alice2", "alice_", "palisade", "", "al ice"] {
            assert!(!mentions(body, "alice"), "{body:?}");
        }
        assert!(mentions("Die STRASSE heißt so", "straße"), "folding expands ß to ss");
        assert!(mentions("ÉLODIE, tu viens ?", "élodie"));
        assert!(mentions("Σοφία… ναι", "ΣΟΦΊΑ"));
        assert!(mentions("«alice»", "alice") && mentions("alice。", "alice"), "punctuation ends a word");
        assert!(!mentions("aliceé", "alice"), "a letter after the nick continues the word");
        assert!(!mentions("anything", "   "), "an empty nick mentions nothing");
    }

    #[test]
    fn nicks_with_punctuation_and_overlapping_occurrences() {
        assert!(mentions("hello [bot]!", "[bot]"));
        assert!(mentions("x[bot]", "[bot]"), "a nick starting with punctuation needs no boundary before it");
        // The first occurrence is inside a word; an overlapping later one is whole.
        assert!(mentions("ba.a.a", "a.a"));
        assert!(mentions("aab aa", "aa"));
        assert!(!mentions("aaaa", "aa"));
    }

    #[test]
    fn linear_on_hostile_input() {
        // Quadratic matching would take minutes here; KMP takes a few milliseconds even unoptimized.
        let body = "a".repeat(200_000);
        let nick = "a".repeat(1_000);
        assert!(!mentions(&body, &nick));
        assert!(mentions(&(body.clone() + " " + &nick), &nick));
    }

    #[test]
    fn suggestions_count_up() {
        assert_eq!(suggest_nick("alice", 1), "alice2");
        assert_eq!(suggest_nick("alice", 2), "alice3");
        assert_eq!(suggest_nick("alice2", 1), "alice3");
        assert_eq!(suggest_nick("2001", 1), "20012", "all digits: a number is appended");
        assert_eq!(suggest_nick(&"x".repeat(1023), 1).len(), 1023);
        assert_eq!(suggest_nick("bob99999999999999999999", 1), "bob999999999999999999992", "too long to count on");
    }
}
