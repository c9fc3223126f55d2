//! Finding the WebSocket endpoint for a domain: the documents' contents, as typed values, and the rules
//! applied to them; pure and tested natively.
//!
//! Sources, in the order the transport tries them (the fetching lives in the browser-only [`super::lookup`]):
//! 1. `config.json` next to `index.html`: `{"websocket_url": "...", "domain": "...", "timeout_seconds": 30}`,
//!    all optional ([`AppConfig`]); the URL applies when `domain` is absent or equals the account's domain, and
//!    `timeout_seconds` to the sessions of a login that read it.
//! 2. XEP-0156 JSON: `https://{domain}/.well-known/host-meta.json`, `links` with
//!    `rel = "urn:xmpp:alt-connections:websocket"` ([`HostMetaLink`], [`websocket_hrefs`]).
//! 3. XEP-0156 XRD: `https://{domain}/.well-known/host-meta`, `<Link/>` elements in the XRD namespace with the
//!    same `rel` ([`host_meta_xml_websockets`]).
//!
//! Each body is read up to [`MAX_BODY`] bytes and for at most [`FETCH_TIMEOUT_MS`]; what goes wrong on the way
//! is a [`DiscoveryError`] in words. The JSON documents are parsed by the browser's own `JSON.parse` (no JSON
//! library in the wasm) into the typed values here ([`super::lookup`], tested in `tests/web_discovery.rs`).
//!
//! What this does NOT do: no fetching, no JSON parsing, and no judging of the URLs found (see [`super::url`]).

use std::fmt;
use std::time::Duration;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

/// The link relation XEP-0156 assigns to WebSocket endpoints (RFC 7395 §4).
pub const WEBSOCKET_REL: &str = "urn:xmpp:alt-connections:websocket";
/// The XRD 1.0 namespace of `host-meta`.
pub const XRD_NS: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";

/// The app's own `config.json`, relative to the app's files.
pub const CONFIG_URL: &str = "config.json";

/// The most a discovery document may weigh: far more than any real one (a few hundred bytes), little enough
/// that a hostile or broken server cannot make the page hold a large body.
pub const MAX_BODY: usize = 64 * 1024;

/// How long each discovery fetch (headers and body) may take.
pub const FETCH_TIMEOUT_MS: u32 = 10_000;

/// The two XEP-0156 URLs for `domain`, JSON first.
pub fn host_meta_urls(domain: &str) -> [String; 2] {
    [format!("https://{domain}/.well-known/host-meta.json"), format!("https://{domain}/.well-known/host-meta")]
}

/// The app's `config.json`: every member optional (`null` counts as absent), other members ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppConfig {
    pub websocket_url: Option<String>,
    pub domain: Option<String>,
    /// How long the server may take to answer (each login step, each request, the acknowledgement of what was
    /// sent, a ping) before the connection counts as dead and Natter reconnects; see [`AppConfig::timeout`].
    pub timeout_seconds: Option<u32>,
}

/// The range `timeout_seconds` is held to: below it a busy server or a slow phone network would look dead;
/// above it a dead connection would go unnoticed for too long.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 5..=300;

impl AppConfig {
    /// The operator's response timeout, held to [`TIMEOUT_RANGE`] (`None`: the default, 30 s).
    pub fn timeout(&self) -> Option<Duration> {
        let s = self.timeout_seconds?.clamp(*TIMEOUT_RANGE.start(), *TIMEOUT_RANGE.end());
        Some(Duration::from_secs(u64::from(s)))
    }

    /// The configured WebSocket URL, if there is one and it applies to accounts of `domain`.
    pub fn websocket_url_for(&self, domain: &str) -> Option<&str> {
        let url = self.websocket_url.as_deref().filter(|u| !u.trim().is_empty())?;
        match &self.domain {
            Some(d) if !d.trim().eq_ignore_ascii_case(domain) => None,
            _ => Some(url),
        }
    }
}

/// One entry of a `host-meta.json` document's `links` (RFC 6415 JRD) that has a string `rel` and `href`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMetaLink {
    pub rel: String,
    pub href: String,
}

/// The WebSocket hrefs among `links`, in document order.
pub fn websocket_hrefs(links: &[HostMetaLink]) -> Vec<String> {
    links.iter().filter(|l| l.rel == WEBSOCKET_REL && !l.href.trim().is_empty()).map(|l| l.href.clone()).collect()
}

/// Why a discovery document could not be used, in words (Display).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryError {
    /// No answer: network, DNS, CORS, or a refused connection (the browser does not tell which).
    Unreachable { url: String },
    /// An answer other than 2xx.
    Status { url: String, status: u16 },
    /// The body is larger than [`MAX_BODY`] (reading stopped there).
    TooLarge { url: String },
    /// No complete answer within [`FETCH_TIMEOUT_MS`].
    TimedOut { url: String },
    /// Not a document of the expected shape: `reason` says what is wrong (the JSON parser's words, or ours).
    Malformed { url: String, reason: String },
}

impl DiscoveryError {
    /// Whether the person should hear about it when no endpoint is found: a missing document (no answer, 404)
    /// is the normal case for a domain without XEP-0156; a broken, huge or stalled one is not.
    pub fn worth_reporting(&self) -> bool {
        !matches!(self, DiscoveryError::Unreachable { .. } | DiscoveryError::Status { status: 404, .. })
    }
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryError::Unreachable { url } => write!(f, "{url} could not be fetched"),
            DiscoveryError::Status { url, status } => write!(f, "{url} answered with HTTP status {status}"),
            DiscoveryError::TooLarge { url } => write!(f, "{url} is larger than {} KiB", MAX_BODY / 1024),
            DiscoveryError::TimedOut { url } => {
                write!(f, "{url} did not answer within {} seconds", FETCH_TIMEOUT_MS / 1000)
            }
            DiscoveryError::Malformed { url, reason } => write!(f, "{url} is not valid: {reason}"),
        }
    }
}

impl std::error::Error for DiscoveryError {}

/// The WebSocket hrefs of a `host-meta` XRD document, in document order. Elements are matched by
/// (namespace, local name); the document is read up to the first XML error, keeping what came before.
pub fn host_meta_xml_websockets(xml: &str) -> Vec<String> {
    let mut reader = NsReader::from_str(xml);
    let mut found = Vec::new();
    loop {
        match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(ns), Event::Start(e) | Event::Empty(e)))
                if ns.into_inner() == XRD_NS && e.local_name().into_inner() == "Link" =>
            {
                if let Some(href) = websocket_href(&reader, &e) {
                    found.push(href);
                }
            }
            Ok((_, Event::Eof)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    found
}

fn websocket_href(reader: &NsReader<&[u8]>, e: &BytesStart<'_>) -> Option<String> {
    let mut rel = None;
    let mut href = None;
    for attr in e.attributes() {
        let attr = attr.ok()?;
        let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
        if !matches!(resolved, ResolveResult::Unbound) {
            continue;
        }
        let value = attr.normalized_value(XmlVersion::Implicit1_0).ok()?.into_owned();
        match local.into_inner() {
            "rel" => rel = Some(value),
            "href" => href = Some(value),
            _ => {}
        }
    }
    (rel.as_deref() == Some(WEBSOCKET_REL)).then_some(href).flatten().filter(|h| !h.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: Option<&str>, domain: Option<&str>) -> AppConfig {
        AppConfig { websocket_url: url.map(str::to_owned), domain: domain.map(str::to_owned), timeout_seconds: None }
    }

    #[test]
    fn the_timeout_is_held_to_its_range() {
        let with = |s| AppConfig { timeout_seconds: Some(s), ..AppConfig::default() }.timeout();
        assert_eq!(AppConfig::default().timeout(), None);
        assert_eq!(with(12), Some(Duration::from_secs(12)));
        assert_eq!(with(0), Some(Duration::from_secs(5)));
        assert_eq!(with(4_000_000_000), Some(Duration::from_secs(300)));
    }

    #[test]
    fn config_applies_to_its_domain_or_to_all() {
        let both = config(Some("ws://127.0.0.1:5280/xmpp-websocket"), Some("localhost"));
        assert_eq!(both.websocket_url_for("localhost"), Some("ws://127.0.0.1:5280/xmpp-websocket"));
        assert_eq!(both.websocket_url_for("example.org"), None);
        let any_domain = config(Some("wss://chat.example.org/ws"), None);
        assert_eq!(any_domain.websocket_url_for("example.org"), Some("wss://chat.example.org/ws"));
        let upper = config(Some("wss://x/ws"), Some(" Example.ORG"));
        assert_eq!(upper.websocket_url_for("example.org"), Some("wss://x/ws"));
        assert_eq!(config(None, Some("localhost")).websocket_url_for("localhost"), None);
        assert_eq!(config(Some(" "), None).websocket_url_for("localhost"), None);
        assert_eq!(AppConfig::default().websocket_url_for("localhost"), None);
    }

    #[test]
    fn host_meta_links_example_from_xep_0156() {
        // XEP-0156 §3.2 example, extended with WebSocket links (RFC 7395 §4 names the relation).
        let link = |rel: &str, href: &str| HostMetaLink { rel: rel.into(), href: href.into() };
        let links = [
            link("urn:xmpp:alt-connections:xbosh", "https://web.example.com:5280/bosh"),
            link(WEBSOCKET_REL, "wss://web.example.com:443/ws"),
            link(WEBSOCKET_REL, " "),
            link(WEBSOCKET_REL, "wss://backup.example.com/ws"),
        ];
        assert_eq!(websocket_hrefs(&links), ["wss://web.example.com:443/ws", "wss://backup.example.com/ws"]);
        assert!(websocket_hrefs(&[]).is_empty());
    }

    #[test]
    fn host_meta_xml_example_from_xep_0156() {
        // XEP-0156 §3.2 / RFC 7395 §4 example.
        let xml = r#"<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel="urn:xmpp:alt-connections:xbosh"
        href="https://web.example.com:5280/bosh" />
  <Link rel="urn:xmpp:alt-connections:websocket"
        href="wss://web.example.com:443/ws" />
</XRD>"#;
        assert_eq!(host_meta_xml_websockets(xml), ["wss://web.example.com:443/ws"]);
    }

    #[test]
    fn host_meta_xml_is_namespace_aware() {
        let prefixed = r#"<x:XRD xmlns:x='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <!-- a comment is fine here -->
  <x:Link rel="urn:xmpp:alt-connections:websocket" href="wss://a.example/ws?x=1&amp;y=2"></x:Link>
</x:XRD>"#;
        assert_eq!(host_meta_xml_websockets(prefixed), ["wss://a.example/ws?x=1&y=2"]);
        let wrong_ns = r#"<XRD xmlns='urn:other'>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://b.example/ws"/></XRD>"#;
        assert!(host_meta_xml_websockets(wrong_ns).is_empty());
        let no_ns = r#"<XRD><Link rel="urn:xmpp:alt-connections:websocket" href="wss://c.example/ws"/></XRD>"#;
        assert!(host_meta_xml_websockets(no_ns).is_empty());
    }

    #[test]
    fn host_meta_xml_malformed_keeps_what_came_before() {
        let truncated = r#"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://d.example/ws"/>
  <Link rel="#;
        assert_eq!(host_meta_xml_websockets(truncated), ["wss://d.example/ws"]);
        assert!(host_meta_xml_websockets("").is_empty());
        assert!(host_meta_xml_websockets("<html><body>Not found</body></html>").is_empty());
    }

    #[test]
    fn errors_in_words() {
        let url = "https://example.org/.well-known/host-meta.json".to_owned();
        let big = DiscoveryError::TooLarge { url: url.clone() };
        assert_eq!(big.to_string(), format!("{url} is larger than 64 KiB"));
        assert!(big.worth_reporting());
        assert!(DiscoveryError::TimedOut { url: url.clone() }.to_string().ends_with("within 10 seconds"));
        assert!(!DiscoveryError::Status { url: url.clone(), status: 404 }.worth_reporting());
        assert!(DiscoveryError::Status { url: url.clone(), status: 500 }.worth_reporting());
        assert!(!DiscoveryError::Unreachable { url }.worth_reporting());
    }

    #[test]
    fn urls() {
        assert_eq!(
            host_meta_urls("example.org"),
            ["https://example.org/.well-known/host-meta.json", "https://example.org/.well-known/host-meta"]
        );
    }
}
