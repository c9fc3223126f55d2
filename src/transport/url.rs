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
//! Redirects (`<close see-other-uri=…/>`, RFC 7395 §3.6.1) are decided here too, by [`check_redirect`]: never
//! from `wss://` to `ws://` (a lower security context, which RFC 7395 forbids), never to another host before
//! the server has proved on this stream that it knows our credentials (SCRAM's server signature: a browser
//! cannot check the new host's certificate against the XMPP domain as RFC 6120 §4.9.3.19 asks, and a host
//! that is not the server would otherwise choose the salt and iteration count and receive a proof to attack
//! offline), and at most [`MAX_REDIRECTS`] in a row.
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

/// Redirects followed in a row (until a session gets online) before giving up.
pub const MAX_REDIRECTS: u32 = 3;

/// Why a `see-other-uri` redirect is not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectRefusal {
    /// [`MAX_REDIRECTS`] were followed already.
    TooMany,
    /// From `wss://` to `ws://`.
    Downgrade,
    /// To another host, before the server proved it knows our credentials.
    OtherHostBeforeAuth,
    /// `ws://` to a host that is not this computer.
    Insecure,
    /// Not a ws:// or wss:// URL.
    Invalid,
}

impl std::fmt::Display for RedirectRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectRefusal::TooMany => f.write_str("it was redirected too many times in a row"),
            RedirectRefusal::Downgrade => f.write_str("it would drop encryption (wss:// to ws://)"),
            RedirectRefusal::OtherHostBeforeAuth => {
                f.write_str("it is another host, named before the server proved it knows your password")
            }
            RedirectRefusal::Insecure => f.write_str("ws:// is only allowed to this computer"),
            RedirectRefusal::Invalid => f.write_str("it is not a WebSocket address"),
        }
    }
}

/// Whether to follow the server's redirect from `current` (the URL of this socket) to `target`, with
/// `followed` redirects already followed in a row and `server_verified` telling whether the server proved on
/// this stream that it knows our credentials. Returns the URL to open (trimmed).
pub fn check_redirect(
    current: &str,
    target: &str,
    server_verified: bool,
    followed: u32,
) -> Result<String, RedirectRefusal> {
    if followed >= MAX_REDIRECTS {
        return Err(RedirectRefusal::TooMany);
    }
    let url = check_ws_url(target).map_err(|e| match e {
        TransportError::InsecureUrl { .. } => RedirectRefusal::Insecure,
        _ => RedirectRefusal::Invalid,
    })?;
    let (Some(from), Some(to)) = (parse(current.trim()), parse(&url)) else {
        return Err(RedirectRefusal::Invalid);
    };
    if from.secure && !to.secure {
        return Err(RedirectRefusal::Downgrade);
    }
    if !server_verified && !same_host(from.host, to.host) {
        return Err(RedirectRefusal::OtherHostBeforeAuth);
    }
    Ok(url)
}

/// Whether two hosts as written in URLs are the same, without regard to ASCII case or a trailing dot. Two
/// spellings of one IPv6 address count as different hosts: refusing is the safe side.
fn same_host(a: &str, b: &str) -> bool {
    let name = |h: &str| h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
    name(a) == name(b)
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
    fn redirects_never_downgrade_never_leave_the_host_before_auth_and_are_capped() {
        use RedirectRefusal::*;
        let r = check_redirect;
        // The same host (another path or port) is fine at any time; another host only after the server proved
        // itself.
        assert_eq!(
            r("wss://a.example/ws", "wss://a.example:5281/other", false, 0),
            Ok("wss://a.example:5281/other".into())
        );
        assert_eq!(r("wss://a.example/ws", "wss://A.EXAMPLE./ws", false, 0), Ok("wss://A.EXAMPLE./ws".into()));
        assert_eq!(r("wss://a.example/ws", "wss://b.example/ws", false, 0), Err(OtherHostBeforeAuth));
        assert_eq!(r("wss://a.example/ws", "wss://a.example.evil/ws", false, 0), Err(OtherHostBeforeAuth));
        assert_eq!(r("wss://a.example/ws", "wss://user@b.example/ws", false, 0), Err(OtherHostBeforeAuth));
        assert_eq!(r("wss://a.example/ws", "wss://b.example/ws", true, 0), Ok("wss://b.example/ws".into()));
        assert_eq!(
            r("wss://[2001:db8::1]/ws", "wss://[2001:DB8::1]:443/x", false, 0),
            Ok("wss://[2001:DB8::1]:443/x".into())
        );
        // Another spelling of the same address counts as another host: the safe side.
        assert_eq!(r("wss://[2001:db8::1]/ws", "wss://[2001:db8:0::1]/x", false, 0), Err(OtherHostBeforeAuth));
        // The attack: a wss endpoint sending the client to ws://localhost, before or after SASL.
        assert_eq!(r("wss://a.example/ws", "ws://localhost:5280/ws", false, 0), Err(Downgrade));
        assert_eq!(r("wss://a.example/ws", "ws://localhost:5280/ws", true, 0), Err(Downgrade));
        assert_eq!(r("wss://localhost/ws", "ws://localhost/ws", true, 0), Err(Downgrade));
        // ws:// between loopback addresses stays allowed (test servers); ws:// elsewhere never.
        assert_eq!(
            r("ws://127.0.0.1:5280/ws", "ws://127.0.0.1:5290/ws", false, 0),
            Ok("ws://127.0.0.1:5290/ws".into())
        );
        assert_eq!(r("ws://127.0.0.1:5280/ws", "wss://127.0.0.1/ws", false, 0), Ok("wss://127.0.0.1/ws".into()));
        assert_eq!(r("ws://localhost/ws", "ws://example.org/ws", true, 0), Err(Insecure));
        assert_eq!(r("wss://a.example/ws", "https://a.example/bosh", true, 0), Err(Invalid));
        assert_eq!(r("wss://a.example/ws", " wss://a.example/ws2 ", false, 0), Ok("wss://a.example/ws2".into()));
        // A cap on redirects in a row.
        assert!(r("wss://a.example/ws", "wss://a.example/ws", false, MAX_REDIRECTS - 1).is_ok());
        assert_eq!(r("wss://a.example/ws", "wss://a.example/ws", true, MAX_REDIRECTS), Err(TooMany));
        assert!(!TooMany.to_string().is_empty());
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
