//! Finding the WebSocket endpoint for a domain: the documents' parsing, pure and tested natively.
//!
//! Sources, in the order the transport tries them (the fetching itself lives in the browser-only part):
//! 1. `config.json` next to `index.html`: `{"websocket_url": "...", "domain": "..."}`, both optional; the URL
//!    applies when `domain` is absent or equals the account's domain ([`config_websocket_url`]).
//! 2. XEP-0156 JSON: `https://{domain}/.well-known/host-meta.json`, links with
//!    `rel = "urn:xmpp:alt-connections:websocket"` ([`host_meta_json_websockets`]).
//! 3. XEP-0156 XRD: `https://{domain}/.well-known/host-meta`, `<Link/>` elements in the XRD namespace with the
//!    same `rel` ([`host_meta_xml_websockets`]).
//!
//! What this does NOT do: no fetching, and no judging of the URLs found (see [`super::url`]); a malformed
//! document simply yields nothing, so discovery moves on to the next source.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

/// The link relation XEP-0156 assigns to WebSocket endpoints (RFC 7395 §4).
pub const WEBSOCKET_REL: &str = "urn:xmpp:alt-connections:websocket";
/// The XRD 1.0 namespace of `host-meta`.
pub const XRD_NS: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";

/// The app's own `config.json`, relative to the page.
pub const CONFIG_URL: &str = "config.json";

/// The two XEP-0156 URLs for `domain`, JSON first.
pub fn host_meta_urls(domain: &str) -> [String; 2] {
    [
        format!("https://{domain}/.well-known/host-meta.json"),
        format!("https://{domain}/.well-known/host-meta"),
    ]
}

/// The `websocket_url` of a `config.json` document, if it applies to `domain`.
pub fn config_websocket_url(json: &str, domain: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct AppConfig {
        websocket_url: Option<String>,
        domain: Option<String>,
    }
    let config: AppConfig = serde_json::from_str(json).ok()?;
    let url = config.websocket_url.filter(|u| !u.trim().is_empty())?;
    match config.domain {
        Some(d) if !d.trim().eq_ignore_ascii_case(domain) => None,
        _ => Some(url),
    }
}

/// The WebSocket hrefs of a `host-meta.json` document (RFC 6415 JRD), in document order.
pub fn host_meta_json_websockets(json: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let Some(links) = doc.get("links").and_then(|l| l.as_array()) else {
        return Vec::new();
    };
    links
        .iter()
        .filter(|link| link.get("rel").and_then(|r| r.as_str()) == Some(WEBSOCKET_REL))
        .filter_map(|link| link.get("href").and_then(|h| h.as_str()))
        .filter(|href| !href.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

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

    #[test]
    fn config_json() {
        let both = r#"{"websocket_url": "ws://127.0.0.1:5280/xmpp-websocket", "domain": "localhost"}"#;
        assert_eq!(config_websocket_url(both, "localhost").as_deref(), Some("ws://127.0.0.1:5280/xmpp-websocket"));
        assert_eq!(config_websocket_url(both, "example.org"), None);
        let any_domain = r#"{"websocket_url": "wss://chat.example.org/ws"}"#;
        assert_eq!(config_websocket_url(any_domain, "example.org").as_deref(), Some("wss://chat.example.org/ws"));
        let upper = r#"{"websocket_url": "wss://x/ws", "domain": "Example.ORG"}"#;
        assert_eq!(config_websocket_url(upper, "example.org").as_deref(), Some("wss://x/ws"));
        assert_eq!(config_websocket_url(r#"{"domain": "localhost"}"#, "localhost"), None);
        assert_eq!(config_websocket_url(r#"{"websocket_url": ""}"#, "localhost"), None);
        assert_eq!(config_websocket_url("{}", "localhost"), None);
        assert_eq!(config_websocket_url("<html>404</html>", "localhost"), None);
        assert_eq!(config_websocket_url(r#"{"websocket_url": 5}"#, "localhost"), None);
    }

    #[test]
    fn host_meta_json_example_from_xep_0156() {
        // XEP-0156 §3.2 example, extended with a WebSocket link (RFC 7395 §4 names the relation).
        let json = r#"{
          "links": [
            {"rel": "urn:xmpp:alt-connections:xbosh", "href": "https://web.example.com:5280/bosh"},
            {"rel": "urn:xmpp:alt-connections:websocket", "href": "wss://web.example.com:443/ws"},
            {"rel": "urn:xmpp:alt-connections:websocket", "href": "wss://backup.example.com/ws"},
            {"rel": "urn:xmpp:alt-connections:websocket"}
          ]
        }"#;
        assert_eq!(host_meta_json_websockets(json), ["wss://web.example.com:443/ws", "wss://backup.example.com/ws"]);
        assert!(host_meta_json_websockets(r#"{"links": []}"#).is_empty());
        assert!(host_meta_json_websockets(r#"{"links": 3}"#).is_empty());
        assert!(host_meta_json_websockets("not json").is_empty());
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
    fn urls() {
        assert_eq!(
            host_meta_urls("example.org"),
            ["https://example.org/.well-known/host-meta.json", "https://example.org/.well-known/host-meta"]
        );
    }
}
