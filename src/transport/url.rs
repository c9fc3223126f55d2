//! Which WebSocket URLs Natter agrees to send credentials to. Pure string checks, tested natively.
//!
//! The rule: `wss://` anywhere; `ws://` only to this computer, because SASL PLAIN or a SCRAM exchange over
//! plain ws elsewhere would travel unencrypted; anything else is not a WebSocket address.
//!
//! "This computer" is spelled the way the page's Content-Security-Policy (`connect-src` in `index.html`) can
//! allow it: `127.0.0.1`, `localhost` and `*.localhost`. CSP host sources have no IPv6 literals (Chromium
//! ignores `ws://[::1]:*` with a console error) and no address ranges, so `ws://[::1]/` or `ws://127.0.0.2/`,
//! though loopback, would pass a wider check and then be blocked by the browser without a word; they are
//! refused here instead, with a message saying how to write them ([`TransportError::LoopbackSpelling`]).
//! `tests/ws-urls.txt` lists the cases; this module's tests and the end-to-end suite (against the real CSP)
//! both check them.
//!
//! What this does NOT do: it is not a full WHATWG URL parser. It only has to decide "loopback or not" safely,
//! so every doubt is resolved towards "not loopback": percent-escapes, `\`, whitespace, control characters,
//! unusual IPv4 spellings (`127.1`, `0x7f.0.0.1`, leading zeros) and IPv4-mapped IPv6 are never taken as
//! loopback. The browser's own parser still validates the URL when the socket is created.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::TransportError;

/// The parts of a ws/wss URL this module cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WsUrl<'a> {
    secure: bool,
    /// The host as written: a name, an IPv4 address, or an IPv6 address in brackets.
    host: &'a str,
}

fn parse(url: &str) -> Option<WsUrl<'_>> {
    // Whitespace, control characters and `\` are either stripped or reinterpreted by browsers; refuse them so
    // what we check is what the browser connects to.
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let secure = if scheme.eq_ignore_ascii_case("wss") {
        true
    } else if scheme.eq_ignore_ascii_case("ws") {
        false
    } else {
        return None;
    };
    // RFC 6455 §3: WebSocket URIs have no fragment (the browser throws a SyntaxError on one).
    if rest.contains('#') {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    // Userinfo is not something a WebSocket URL needs; the host is what follows the last `@` (as browsers do).
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        let (host, after) = host_port.split_at(end + 1);
        check_port(after)?;
        host
    } else {
        let (host, port) = match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        };
        if let Some(p) = port {
            check_port(&format!(":{p}"))?;
        }
        host
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    Some(WsUrl { secure, host })
}

/// `""` or `":"` followed by 1–5 digits up to 65535.
fn check_port(s: &str) -> Option<()> {
    if s.is_empty() {
        return Some(());
    }
    let digits = s.strip_prefix(':')?;
    if digits.is_empty() {
        return Some(()); // "host:" means the default port in WHATWG URLs
    }
    if digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok().map(|_| ())
}

/// Whether `host` (as written in a URL: name, IPv4, or `[IPv6]`) certainly designates this computer.
pub fn is_loopback_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return false;
    }
    let host = host.to_ascii_lowercase();
    host == "localhost" || (host.ends_with(".localhost") && !host.split('.').any(str::is_empty))
}

/// Whether the page's CSP lets `ws://` reach `host` (as written in a URL, after any userinfo): `127.0.0.1`,
/// `localhost` or a name under `.localhost` (case-insensitive; no trailing dot, which the CSP's host sources
/// would not match).
pub fn csp_allows_ws_host(host: &str) -> bool {
    if host == "127.0.0.1" {
        return true;
    }
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return false;
    }
    let host = host.to_ascii_lowercase();
    host == "localhost" || (host.ends_with(".localhost") && !host.split('.').any(str::is_empty))
}

/// Whether `url` is a ws:// or wss:// URL to this computer (for the UI, e.g. to say "local test server").
pub fn is_loopback_url(url: &str) -> bool {
    parse(url.trim()).is_some_and(|u| is_loopback_host(u.host))
}

/// Whether `url` is a wss:// URL (a browser-encrypted connection).
pub fn is_secure_url(url: &str) -> bool {
    parse(url.trim()).is_some_and(|u| u.secure)
}

/// Checks a WebSocket URL against the rule above; returns it trimmed of surrounding whitespace.
pub fn check_ws_url(url: &str) -> Result<String, TransportError> {
    let trimmed = url.trim();
    match parse(trimmed) {
        None => Err(TransportError::InvalidUrl { url: url.to_owned() }),
        Some(u) if u.secure || csp_allows_ws_host(u.host) => Ok(trimmed.to_owned()),
        Some(u) if is_loopback_host(u.host) => Err(TransportError::LoopbackSpelling { url: trimmed.to_owned() }),
        Some(_) => Err(TransportError::InsecureUrl { url: trimmed.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) {
        assert_eq!(check_ws_url(url), Ok(url.trim().to_owned()), "{url}");
    }
    fn insecure(url: &str) {
        assert!(matches!(check_ws_url(url), Err(TransportError::InsecureUrl { .. })), "{url}: {:?}", check_ws_url(url));
    }
    fn loopback_spelling(url: &str) {
        let verdict = check_ws_url(url);
        assert!(matches!(verdict, Err(TransportError::LoopbackSpelling { .. })), "{url}: {verdict:?}");
    }
    fn invalid(url: &str) {
        assert!(matches!(check_ws_url(url), Err(TransportError::InvalidUrl { .. })), "{url}: {:?}", check_ws_url(url));
    }

    #[test]
    fn wss_is_allowed_anywhere() {
        ok("wss://example.org/xmpp-websocket");
        ok("wss://example.org:5281/xmpp-websocket");
        ok("WSS://Example.org");
        ok("wss://[2001:db8::1]:443/ws");
        ok("wss://203.0.113.7/ws?x=1");
        ok("  wss://example.org/ws  ");
    }

    #[test]
    fn ws_is_allowed_to_loopback_only() {
        ok("ws://127.0.0.1:5280/xmpp-websocket");
        ok("ws://localhost:5280/xmpp-websocket");
        ok("ws://LOCALHOST");
        ok("ws://chat.localhost:5280/ws");
        ok("ws://127.0.0.1:/ws");
        // Loopback, but not in a form the page's CSP can allow: refused with a word on how to write it.
        loopback_spelling("ws://[::1]:5280/xmpp-websocket");
        loopback_spelling("ws://127.3.4.5/");
        loopback_spelling("ws://localhost./ws");
        loopback_spelling("ws://a.localhost./ws");
        insecure("ws://example.org/xmpp-websocket");
        insecure("ws://192.168.1.2:5280/ws");
        insecure("ws://128.0.0.1/");
        insecure("ws://[2001:db8::1]/");
        insecure("ws://localhost.example.org/");
        insecure("ws://notlocalhost/");
    }

    #[test]
    fn doubtful_hosts_are_not_loopback() {
        // Userinfo: the host is after the last '@'.
        insecure("ws://127.0.0.1@example.org/");
        ok("ws://user@127.0.0.1/");
        // Spellings browsers map elsewhere or that need decoding are refused as loopback.
        insecure("ws://127.1/");
        insecure("ws://0x7f.0.0.1/");
        insecure("ws://0127.0.0.1/");
        insecure("ws://%6cocalhost/");
        insecure("ws://[::ffff:127.0.0.1]/");
        insecure("ws://a..localhost/");
        // A backslash is a path separator to browsers: "example.org" would be the host.
        invalid("ws://example.org\\@127.0.0.1/");
        invalid("ws://127.0.0.1\n.example.org/");
    }

    #[test]
    fn other_urls_are_invalid() {
        invalid("");
        invalid("example.org");
        invalid("http://127.0.0.1:5280/xmpp-websocket");
        invalid("https://example.org/ws");
        invalid("ftp://example.org");
        invalid("ws://");
        invalid("ws:///path");
        invalid("ws://:5280/");
        invalid("wss://example.org/ws#frag");
        invalid("wss://example.org:99999/");
        invalid("wss://example.org:80x/");
        invalid("wss://[::1/");
        invalid("ws://[]/");
        invalid("wss://exa mple.org/");
    }

    /// The shared list: what this module accepts, the page's CSP lets through (e2e/tests/08-deploy.mjs checks
    /// that side in Chromium).
    #[test]
    fn the_shared_list_of_urls() {
        let list = include_str!("../../tests/ws-urls.txt");
        let mut counts = [0; 2];
        for line in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            match line.split_once(' ') {
                Some(("accept", url)) => {
                    ok(url);
                    counts[0] += 1;
                }
                Some(("refuse", url)) => {
                    assert!(check_ws_url(url).is_err(), "{url}");
                    counts[1] += 1;
                }
                _ => panic!("tests/ws-urls.txt: not `accept URL` or `refuse URL`: {line}"),
            }
        }
        assert!(counts[0] >= 5 && counts[1] >= 5, "{counts:?}");
    }

    #[test]
    fn helpers() {
        assert!(is_loopback_url("ws://127.0.0.1:5280/xmpp-websocket"));
        assert!(is_loopback_url("wss://localhost/ws"));
        assert!(!is_loopback_url("wss://example.org/ws"));
        assert!(!is_loopback_url("not a url"));
        assert!(is_secure_url("wss://example.org/ws"));
        assert!(!is_secure_url("ws://127.0.0.1/ws"));
        assert!(is_loopback_host("[::1]"));
        assert!(!is_loopback_host("::1"));
        assert!(csp_allows_ws_host("127.0.0.1") && csp_allows_ws_host("Chat.LocalHost"));
        assert!(!csp_allows_ws_host("[::1]") && !csp_allows_ws_host("127.0.0.2") && !csp_allows_ws_host("localhost."));
    }
}
