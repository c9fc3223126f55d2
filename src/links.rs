//! Finding links in peer-supplied text: cuts a message body into plain text and links, in one linear pass.
//!
//! Recognised, at the start of a word (case-insensitive): `https://` and `http://` (web links), `www.` (a web
//! link to `https://www.…`), `mailto:` (a mail link, which must name an address with `@`), and `xmpp:` URIs
//! (RFC 5122) naming an address with a local part, which the UI opens as a conversation inside Natter. Nothing
//! else becomes a link: never `javascript:`, `data:` or any other scheme, so every `href` the UI builds from
//! these pieces starts with one of `https://`, `http://`, `mailto:` or `xmpp:`.
//!
//! A link ends at whitespace, a control, bidi or zero-width character, `<`, `>` or `"`; trailing punctuation
//! is not part of it (a closing `)` or `]` only when the link has fewer opening ones). A link longer than
//! [`MAX_LINK`] bytes stays text. The work is linear in the text's length whatever its shape: each byte is
//! looked at a bounded number of times (the bracket balance is a running count, and a word that starts like a
//! link but is not one is passed over whole), which `cargo test` checks by counting steps.
//!
//! What this does NOT do: render anything (the UI's `conversation::render_text` turns the pieces into text
//! nodes and anchors), check that a host exists, or look for addresses without a scheme (`alice@example.org`).
//! It is pure and compiles natively, so its tests run with plain `cargo test`.

use crate::xmpp::jid::{BareJid, Jid};

/// The longest link, in bytes; a longer one is left as text (browsers and servers commonly stop near 2–8 KB).
pub const MAX_LINK: usize = 4096;

/// A piece of message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    /// A web or mail link: `href` is what the anchor points at (`https://` put before a `www.` link), `text`
    /// what was written.
    Link {
        href: String,
        text: String,
    },
    /// An `xmpp:` URI naming `jid`: opens that conversation in Natter. `text` is the URI as written.
    Chat {
        jid: BareJid,
        text: String,
    },
}

/// Cuts `text` into plain text and links (see the module docs for what counts as a link).
pub fn linkify(text: &str) -> Vec<Segment> {
    linkify_counting(text, &mut 0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Web,
    Www,
    Mail,
    Xmpp,
}

/// [`linkify`], adding to `steps` one for every byte examined, so the tests can check the work is linear.
fn linkify_counting(text: &str, steps: &mut u64) -> Vec<Segment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        *steps += 1;
        let Some((kind, scheme_len)) = scheme_at(bytes, i) else {
            i += 1;
            continue;
        };
        // `i` is at an ASCII letter, so a char boundary; the word runs to the first delimiter.
        let (word_end, opens, closes) = word_end(text, i, steps);
        let url = trim_end(&text[i..word_end], opens, closes, steps);
        match segment(kind, scheme_len, url) {
            Some(link) => {
                if plain_start < i {
                    out.push(Segment::Text(text[plain_start..i].to_owned()));
                }
                out.push(link);
                i += url.len();
                plain_start = i;
            }
            // Not a link: the rest of the word stays text (and is not looked at again).
            None => i = word_end,
        }
    }
    if plain_start < text.len() {
        out.push(Segment::Text(text[plain_start..].to_owned()));
    }
    out
}

/// The kind of link and the length of its prefix, if one starts at byte `i` (at the start of a word).
fn scheme_at(bytes: &[u8], i: usize) -> Option<(Kind, usize)> {
    if !matches!(bytes[i] | 0x20, b'h' | b'w' | b'm' | b'x') {
        return None;
    }
    let prev = i.checked_sub(1).map(|p| bytes[p]);
    if prev.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let rest = &bytes[i..];
    let starts =
        |prefix: &str| rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
    if starts("https://") {
        Some((Kind::Web, 8))
    } else if starts("http://") {
        Some((Kind::Web, 7))
    } else if starts("mailto:") {
        Some((Kind::Mail, 7))
    } else if starts("xmpp:") {
        Some((Kind::Xmpp, 5))
    } else if starts("www.") && !prev.is_some_and(|b| matches!(b, b'.' | b'@' | b'/' | b'-' | b'_' | b':')) {
        // Not inside an address or a longer host name ("alice@www.example.org", "a.www.example.org").
        Some((Kind::Www, 4))
    } else {
        None
    }
}

/// Where the word starting at `start` ends, and how many `(`/`[` and `)`/`]` it holds.
fn word_end(text: &str, start: usize, steps: &mut u64) -> (usize, [usize; 2], [usize; 2]) {
    let (mut opens, mut closes) = ([0; 2], [0; 2]);
    for (at, c) in text[start..].char_indices() {
        *steps += 1;
        match c {
            '(' => opens[0] += 1,
            '[' => opens[1] += 1,
            ')' => closes[0] += 1,
            ']' => closes[1] += 1,
            _ if ends_link(c) => return (start + at, opens, closes),
            _ => {}
        }
    }
    (text.len(), opens, closes)
}

/// Characters a link never contains: whitespace, controls, `<>"`, and the invisible ones that could make the
/// text shown differ from the address (zero-width characters, bidi marks, embeddings, overrides, isolates).
fn ends_link(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '<' | '>' | '"')
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// `url` without trailing punctuation; `opens` and `closes` count its brackets and are kept up to date as
/// closing brackets are cut, so each character is looked at once.
fn trim_end<'a>(mut url: &'a str, opens: [usize; 2], mut closes: [usize; 2], steps: &mut u64) -> &'a str {
    while let Some(last) = url.chars().next_back() {
        *steps += 1;
        let trim = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '}' | '*' => true,
            ')' | ']' => {
                let k = usize::from(last == ']');
                let unbalanced = opens[k] < closes[k];
                if unbalanced {
                    closes[k] -= 1;
                }
                unbalanced
            }
            _ => false,
        };
        if !trim {
            break;
        }
        url = &url[..url.len() - 1]; // all trimmed characters are ASCII
    }
    url
}

/// The link `url` (trimmed, starting with a `kind` prefix of `scheme_len` bytes) makes, if it is one.
fn segment(kind: Kind, scheme_len: usize, url: &str) -> Option<Segment> {
    // (The prefix is ASCII, so `scheme_len` is a char boundary when the url is that long.)
    let rest = url.get(scheme_len..).filter(|r| !r.is_empty() && url.len() <= MAX_LINK)?;
    let text = url.to_owned();
    match kind {
        Kind::Web => Some(Segment::Link { href: text.clone(), text }),
        Kind::Www => {
            rest.starts_with(char::is_alphanumeric).then(|| Segment::Link { href: format!("https://{text}"), text })
        }
        Kind::Mail => rest.contains('@').then(|| Segment::Link { href: text.clone(), text }),
        Kind::Xmpp => xmpp_uri_jid(rest).map(|jid| Segment::Chat { jid, text }),
    }
}

/// The address an `xmpp:` URI (RFC 5122) names, from what follows `xmpp:`: `[//authority/]jid[?query][#frag]`,
/// percent-decoded; only addresses with a local part (people, not servers). A resource is dropped.
fn xmpp_uri_jid(rest: &str) -> Option<BareJid> {
    let path = match rest.strip_prefix("//") {
        // The authority names the account to act as; the conversation is the path's.
        Some(authority_path) => authority_path.split_once('/')?.1,
        None => rest,
    };
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    let jid = Jid::parse(&percent_decode(path)?).ok()?.into_bare();
    jid.local().is_some().then_some(jid)
}

/// `%XX` escapes decoded; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::Text;

    fn link(text: &str) -> Segment {
        Segment::Link { href: text.into(), text: text.into() }
    }
    fn text(s: &str) -> Segment {
        Text(s.into())
    }
    fn chat(jid: &str, text: &str) -> Segment {
        Segment::Chat { jid: BareJid::parse(jid).unwrap(), text: text.into() }
    }

    #[test]
    fn web_links_and_trailing_punctuation() {
        assert_eq!(linkify("plain"), [text("plain")]);
        assert_eq!(linkify(""), []);
        assert_eq!(
            linkify("go to https://a.example/x. Then (see http://b.example/y_(z)) ok"),
            [
                text("go to "),
                link("https://a.example/x"),
                text(". Then (see "),
                link("http://b.example/y_(z)"),
                text(") ok"),
            ]
        );
        assert_eq!(linkify("xhttps://no.example"), [text("xhttps://no.example")]);
        assert_eq!(linkify("https://"), [text("https://")]);
        assert_eq!(linkify("https://...)"), [text("https://...)")]);
        assert_eq!(linkify("ünïcode https://ä.example/ö"), [text("ünïcode "), link("https://ä.example/ö")]);
        assert_eq!(linkify("HTTPS://A.example"), [link("HTTPS://A.example")]);
        assert_eq!(linkify("[http://[::1]:5280/x]"), [text("["), link("http://[::1]:5280/x"), text("]")]);
        assert_eq!(linkify("'https://a.example/it's'!"), [text("'"), link("https://a.example/it's"), text("'!")]);
        assert_eq!(linkify("<https://a.example>"), [text("<"), link("https://a.example"), text(">")]);
        assert_eq!(
            linkify("a https://x.example b https://y.example"),
            [text("a "), link("https://x.example"), text(" b "), link("https://y.example")]
        );
    }

    #[test]
    fn only_the_allowed_schemes() {
        for s in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "ftp://example.org",
            "xmpp:",
            "mailto:",
            "mailto:nobody",
            "www.",
            "www..example",
        ] {
            assert_eq!(linkify(s), [text(s)], "{s}");
        }
        // A link to javascript: hidden inside another scheme's word stays inside that (harmless) link.
        assert_eq!(linkify("https://javascript:alert(1)"), [link("https://javascript:alert(1)")]);
        for segment in linkify("x javascript:alert(1) data:, https://a.example www.b.example mailto:c@d xmpp:e@f") {
            if let Segment::Link { href, .. } = segment {
                assert!(
                    ["https://", "http://", "mailto:"].iter().any(|s| href.to_ascii_lowercase().starts_with(s)),
                    "{href}"
                );
            }
        }
    }

    #[test]
    fn www_links_get_https() {
        assert_eq!(
            linkify("see www.example.org/a."),
            [
                text("see "),
                Segment::Link { href: "https://www.example.org/a".into(), text: "www.example.org/a".into() },
                text("."),
            ]
        );
        assert_eq!(
            linkify("(WWW.Example.org)"),
            [
                text("("),
                Segment::Link { href: "https://WWW.Example.org".into(), text: "WWW.Example.org".into() },
                text(")"),
            ]
        );
        // Inside an address or a longer name it is not a link of its own.
        assert_eq!(linkify("alice@www.example.org"), [text("alice@www.example.org")]);
        assert_eq!(linkify("a.www.example.org"), [text("a.www.example.org")]);
        assert_eq!(linkify("awww.example.org"), [text("awww.example.org")]);
        assert_eq!(linkify("https://www.example.org"), [link("https://www.example.org")]);
    }

    #[test]
    fn mailto_links() {
        assert_eq!(
            linkify("write to mailto:alice@example.org?subject=Hi, please"),
            [text("write to "), link("mailto:alice@example.org?subject=Hi"), text(", please")]
        );
        assert_eq!(linkify("MAILTO:a@b"), [link("MAILTO:a@b")]);
    }

    #[test]
    fn xmpp_uris_name_a_conversation() {
        assert_eq!(
            linkify("ask xmpp:romeo@montague.net?message!"),
            [text("ask "), chat("romeo@montague.net", "xmpp:romeo@montague.net?message"), text("!")]
        );
        // RFC 5122 §2.5 examples: a resource is dropped; an authority names the account, not the peer.
        assert_eq!(
            linkify("xmpp:romeo@montague.net/orchard"),
            [chat("romeo@montague.net", "xmpp:romeo@montague.net/orchard")]
        );
        assert_eq!(
            linkify("xmpp://guest@example.com/support@example.com?message"),
            [chat("support@example.com", "xmpp://guest@example.com/support@example.com?message")]
        );
        // Percent-encoded (RFC 5122 §2.7.2), and prepared like any address.
        assert_eq!(linkify("xmpp:n%C3%A9e@Example.ORG"), [chat("née@example.org", "xmpp:n%C3%A9e@Example.ORG")]);
        // Servers, malformed escapes and what is not an address stay text.
        for s in ["xmpp:example.org", "xmpp:a%zz@b", "xmpp:a%ff@b", "xmpp:a b@c", "xmpp:<x>@y", "xmpp:@example.org"] {
            assert_eq!(linkify(s).iter().filter(|s| !matches!(s, Text(_))).count(), 0, "{s}: {:?}", linkify(s));
        }
    }

    #[test]
    fn invisible_and_control_characters_end_a_link() {
        // A right-to-left override would show the address reversed; a zero-width space hides where it ends.
        assert_eq!(
            linkify("https://a.example\u{202E}moc.lizap"),
            [link("https://a.example"), text("\u{202E}moc.lizap")]
        );
        assert_eq!(linkify("https://a.example\u{200B}x"), [link("https://a.example"), text("\u{200B}x")]);
        assert_eq!(linkify("https://a.example\u{0}x"), [link("https://a.example"), text("\u{0}x")]);
    }

    #[test]
    fn long_links_stay_text() {
        let long = format!("https://a.example/{}", "x".repeat(MAX_LINK));
        assert_eq!(linkify(&long), [text(&long)]);
        let fits = format!("https://a.example/{}", "x".repeat(MAX_LINK - 18));
        assert_eq!(fits.len(), MAX_LINK);
        assert_eq!(linkify(&fits), [link(&fits)]);
    }

    /// The steps `linkify` takes for `text`, and that the pieces put back together are `text`.
    fn steps(text: &str) -> u64 {
        let mut steps = 0;
        let pieces = linkify_counting(text, &mut steps);
        let joined: String = pieces
            .iter()
            .map(|p| match p {
                Text(t) | Segment::Link { text: t, .. } | Segment::Chat { text: t, .. } => t.as_str(),
            })
            .collect();
        assert_eq!(joined, text);
        steps
    }

    /// The worst case (`https://a` and 80,000 `)` took 33 s, re-counting the brackets for every one cut)
    /// and other shapes: the work is a small constant times the length, and doubling the input doubles it.
    #[test]
    fn work_is_linear_in_the_worst_cases() {
        type Shape = (&'static str, fn(usize) -> String);
        let shapes: [Shape; 8] = [
            ("https://a + ')'×n", |n| format!("https://a{}", ")".repeat(n))),
            ("https://a( + ')'×n", |n| format!("https://a({}", ")".repeat(n))),
            ("'https://' + ')'×n", |n| format!("https://{}", ")".repeat(n))),
            ("'https://'×n", |n| "https://".repeat(n / 8)),
            ("'xmpp:@'×n", |n| "xmpp:@".repeat(n / 6)),
            ("'(www.'×n", |n| "(www.".repeat(n / 5)),
            ("'https://a.b/ '×n", |n| "https://a.b/ ".repeat(n / 13)),
            ("'https://a.b/' + '.'×n", |n| format!("https://a.b/{}", ".".repeat(n))),
        ];
        for (name, make) in shapes {
            let (n, n2) = (make(40_000), make(80_000));
            let (s, s2) = (steps(&n), steps(&n2));
            assert!(s <= 4 * n.len() as u64, "{name}: {s} steps for {} bytes", n.len());
            assert!(s2 <= 2 * s + 100, "{name}: {s} steps at n, {s2} at 2n");
        }
        // The body exactly: the link is "https://a", the brackets are text.
        let body = format!("https://a{}", ")".repeat(80_000));
        assert_eq!(linkify(&body), [link("https://a"), text(&")".repeat(80_000))]);
    }
}
