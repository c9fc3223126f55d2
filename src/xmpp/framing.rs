//! RFC 7395 framing: one WebSocket text message in, exactly one typed frame out (and back).
//!
//! Over WebSocket every message is one complete XML element that declares its own namespaces, so each frame
//! is parsed on its own with [`Element::parse`] — no parser state crosses frames. [`parse_frame`] then sorts
//! the element by (namespace, local name), never by prefix: Prosody writes
//! `<stream:features xmlns='jabber:client' xmlns:stream=…>`, ejabberd only `xmlns:stream`, and both are the
//! same element.
//!
//! What this module does NOT do: it keeps no stream state (whether an `<open/>` is expected now is the
//! session's business), interprets no stanza, and touches no socket. A [`FramingError`] tells the session
//! which stream-error condition to send ([`FramingError::condition`]) before it closes.

use std::fmt;

use super::xml::{Element, XmlError};

/// RFC 7395 `<open/>` and `<close/>`.
pub const FRAMING_NS: &str = "urn:ietf:params:xml:ns:xmpp-framing";
/// Stanzas of a client-to-server stream.
pub const CLIENT_NS: &str = "jabber:client";
/// `<stream:features/>` and `<stream:error/>`.
pub const STREAMS_NS: &str = "http://etherx.jabber.org/streams";
/// SASL negotiation (RFC 6120 §6).
pub const SASL_NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// Stream error conditions and their `<text/>`.
pub const STREAM_ERROR_NS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// Largest frame accepted by default, in bytes of UTF-8.
pub const DEFAULT_MAX_FRAME: usize = 256 * 1024;

/// The attributes of an RFC 7395 `<open/>`, all as received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Open {
    pub from: Option<String>,
    pub to: Option<String>,
    pub id: Option<String>,
    pub version: Option<String>,
    /// `xml:lang`.
    pub lang: Option<String>,
}

/// A `<stream:error/>` (RFC 6120 §4.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// Local name of the defined condition, e.g. "not-authorized", "see-other-host". A peer that sends no
    /// condition gets "undefined-condition" (the stream is over either way; the user still learns why).
    pub condition: String,
    /// Content of the `<text/>` child, if any.
    pub text: Option<String>,
    /// For `see-other-host`: the host (and optional port) to reconnect to.
    pub see_other_host: Option<String>,
}

/// One received WebSocket message, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `<open/>`: the server's stream header (again after each restart).
    Open(Open),
    /// `<close/>`: the end of the stream, or a redirect when `see_other_uri` is set.
    Close { see_other_uri: Option<String> },
    /// `<stream:features/>`.
    Features(Element),
    /// `<stream:error/>`.
    StreamError(StreamError),
    /// Any element in the SASL namespace (`<challenge/>`, `<success/>`, `<failure/>`, …).
    Sasl(Element),
    /// `<message/>`, `<presence/>` or `<iq/>` in `jabber:client`.
    Stanza(Element),
    /// Any other namespaced first-level element, e.g. XEP-0198 `<r/>`, `<a/>`, `<enabled/>`.
    Nonza(Element),
}

/// Why a frame was refused, named by cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// The message is larger than the configured maximum (checked before parsing).
    TooLarge { size: usize, max: usize },
    /// The message is not exactly one well-formed, namespace-well-formed XML element.
    Xml(XmlError),
    /// An element in no namespace, an unknown element in the framing namespace, or an element in
    /// `jabber:client` that is not a stanza.
    InvalidNamespace { ns: String, name: String },
    /// An unknown element in the streams namespace (such as `<stream:stream>`, which RFC 7395 replaces with
    /// `<open/>`).
    UnsupportedElement { ns: String, name: String },
}

impl FramingError {
    /// The RFC 6120 §4.9.3 stream error condition to answer this with.
    pub fn condition(&self) -> &'static str {
        match self {
            FramingError::TooLarge { .. } => "policy-violation",
            // Well-formed perhaps, but beyond what we accept (too deep, too many elements, …).
            FramingError::Xml(e) if e.is_limit() => "policy-violation",
            FramingError::Xml(_) => "not-well-formed",
            FramingError::InvalidNamespace { .. } => "invalid-namespace",
            FramingError::UnsupportedElement { .. } => "unsupported-stanza-type",
        }
    }
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::TooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the limit of {max}")
            }
            FramingError::Xml(e) => write!(f, "frame is not well-formed: {e}"),
            FramingError::InvalidNamespace { ns, name } => {
                write!(f, "element `{name}` in namespace `{ns}` is not allowed here")
            }
            FramingError::UnsupportedElement { ns, name } => {
                write!(f, "unsupported element `{name}` in namespace `{ns}`")
            }
        }
    }
}

impl std::error::Error for FramingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FramingError::Xml(e) => Some(e),
            _ => None,
        }
    }
}

impl From<XmlError> for FramingError {
    fn from(e: XmlError) -> Self {
        FramingError::Xml(e)
    }
}

/// Parses and classifies one WebSocket text message. Messages longer than `max_bytes` are refused before any
/// parsing.
pub fn parse_frame(text: &str, max_bytes: usize) -> Result<Frame, FramingError> {
    if text.len() > max_bytes {
        return Err(FramingError::TooLarge { size: text.len(), max: max_bytes });
    }
    let el = Element::parse(text)?;
    match (el.ns.as_str(), el.name.as_str()) {
        (FRAMING_NS, "open") => Ok(Frame::Open(Open {
            from: el.attr("from").map(str::to_owned),
            to: el.attr("to").map(str::to_owned),
            id: el.attr("id").map(str::to_owned),
            version: el.attr("version").map(str::to_owned),
            lang: el.attr("xml:lang").map(str::to_owned),
        })),
        (FRAMING_NS, "close") => Ok(Frame::Close { see_other_uri: el.attr("see-other-uri").map(str::to_owned) }),
        (STREAMS_NS, "features") => Ok(Frame::Features(el)),
        (STREAMS_NS, "error") => Ok(Frame::StreamError(stream_error_from(&el))),
        (STREAMS_NS, _) => Err(FramingError::UnsupportedElement { ns: el.ns.into(), name: el.name }),
        (SASL_NS, _) => Ok(Frame::Sasl(el)),
        (CLIENT_NS, "message" | "presence" | "iq") => Ok(Frame::Stanza(el)),
        ("" | FRAMING_NS | CLIENT_NS, _) => Err(FramingError::InvalidNamespace { ns: el.ns.into(), name: el.name }),
        _ => Ok(Frame::Nonza(el)),
    }
}

fn stream_error_from(el: &Element) -> StreamError {
    let condition = el.elements().find(|c| c.ns == STREAM_ERROR_NS && c.name != "text");
    let see_other_host = condition.filter(|c| c.name == "see-other-host").map(|c| c.text().trim().to_owned());
    StreamError {
        condition: condition.map_or_else(|| "undefined-condition".to_owned(), |c| c.name.clone()),
        text: el.get_child(STREAM_ERROR_NS, "text").map(Element::text),
        see_other_host,
    }
}

/// The client's stream header: `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='…' version='1.0'/>`,
/// with `from` (the account, RFC 6120 §4.7.1; XEP-0388 wants it for SASL2 and FAST) and `xml:lang` when given.
pub fn open(to: &str, from: Option<&str>, lang: Option<&str>) -> String {
    let mut el = Element::new(FRAMING_NS, "open").with_attr("to", to).with_attr("version", "1.0");
    if let Some(from) = from {
        el.set_attr("from", from);
    }
    if let Some(lang) = lang {
        el.set_attr("xml:lang", lang);
    }
    el.to_xml()
}

/// `<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`, with `see-other-uri` when given (servers only).
pub fn close(see_other_uri: Option<&str>) -> String {
    let mut el = Element::new(FRAMING_NS, "close");
    if let Some(uri) = see_other_uri {
        el.set_attr("see-other-uri", uri);
    }
    el.to_xml()
}

/// `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><CONDITION
/// xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text …>TEXT</text></stream:error>`.
///
/// `condition` is one of the RFC 6120 §4.9.3 names (as returned by [`FramingError::condition`]); a string
/// that is not an XML name is replaced by "undefined-condition" rather than written out.
pub fn stream_error(condition: &str, text: Option<&str>) -> String {
    let condition = if is_condition_name(condition) { condition } else { "undefined-condition" };
    let mut out = String::with_capacity(160);
    out.push_str("<stream:error xmlns:stream='");
    out.push_str(STREAMS_NS);
    out.push_str("'>");
    Element::new(STREAM_ERROR_NS, condition).write_to(&mut out);
    if let Some(text) = text {
        Element::new(STREAM_ERROR_NS, "text").with_text(text).write_to(&mut out);
    }
    out.push_str("</stream:error>");
    out
}

/// Defined conditions are lowercase ASCII words joined by hyphens.
fn is_condition_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(s: &str) -> Frame {
        match parse_frame(s, DEFAULT_MAX_FRAME) {
            Ok(f) => f,
            Err(e) => panic!("parse_frame({s:?}) failed: {e:?}"),
        }
    }

    // RFC 7395's opening examples: the client's, then the server's response.
    #[test]
    fn rfc7395_open() {
        let client = frame(
            r#"<open xmlns="urn:ietf:params:xml:ns:xmpp-framing"
                     to="example.com"
                     version="1.0" />"#,
        );
        assert_eq!(
            client,
            Frame::Open(Open { to: Some("example.com".into()), version: Some("1.0".into()), ..Open::default() })
        );
        let server = frame(
            r#"<open xmlns="urn:ietf:params:xml:ns:xmpp-framing"
                     from="example.com"
                     id="++TR84Sm6A3hnt3Q065SnAbbk3Y="
                     xml:lang="en"
                     version="1.0" />"#,
        );
        assert_eq!(
            server,
            Frame::Open(Open {
                from: Some("example.com".into()),
                to: None,
                id: Some("++TR84Sm6A3hnt3Q065SnAbbk3Y=".into()),
                version: Some("1.0".into()),
                lang: Some("en".into()),
            })
        );
    }

    // RFC 7395's closing examples: plain, and the see-other-uri redirect.
    #[test]
    fn rfc7395_close() {
        assert_eq!(
            frame(r#"<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" />"#),
            Frame::Close { see_other_uri: None }
        );
        assert_eq!(
            frame(
                r#"<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"
                          see-other-uri="wss://otherendpoint.example/xmpp-bind" />"#
            ),
            Frame::Close { see_other_uri: Some("wss://otherendpoint.example/xmpp-bind".into()) }
        );
    }

    // RFC 7395's features example.
    #[test]
    fn rfc7395_features() {
        let Frame::Features(f) = frame(
            r#"<stream:features xmlns:stream="http://etherx.jabber.org/streams">
                 <mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl">
                   <mechanism>PLAIN</mechanism>
                 </mechanisms>
               </stream:features>"#,
        ) else {
            panic!("not features")
        };
        let mechs = f.get_child(SASL_NS, "mechanisms").expect("mechanisms");
        let names: Vec<String> = mechs.children_named(SASL_NS, "mechanism").map(Element::text).collect();
        assert_eq!(names, ["PLAIN"]);
    }

    fn mechanisms(f: &Frame) -> Vec<String> {
        let Frame::Features(f) = f else { panic!("not features: {f:?}") };
        f.get_child(SASL_NS, "mechanisms")
            .map(|m| m.children_named(SASL_NS, "mechanism").map(Element::text).collect())
            .unwrap_or_default()
    }

    #[test]
    fn prosody_and_ejabberd_features_are_the_same_element() {
        let prosody = frame(
            "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>\
             <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
             <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        );
        let ejabberd = frame(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
             <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
             <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        );
        assert_eq!(mechanisms(&prosody), ["SCRAM-SHA-1", "PLAIN"]);
        assert_eq!(prosody, ejabberd);
        // Post-auth features: bind and session in their own namespaces, sm as a sibling.
        let Frame::Features(f) = frame(
            "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>\
             <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind>\
             <sm xmlns='urn:xmpp:sm:3'/></stream:features>",
        ) else {
            panic!("not features")
        };
        assert!(f.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some());
        assert!(f.get_child("urn:xmpp:sm:3", "sm").is_some());
    }

    // RFC 6120 §4.9.3 examples, with the stream prefix declared as RFC 7395 requires.
    #[test]
    fn rfc6120_stream_errors() {
        assert_eq!(
            frame(
                "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>\
                 <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
            ),
            Frame::StreamError(StreamError { condition: "not-authorized".into(), text: None, see_other_host: None })
        );
        assert_eq!(
            frame(
                "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>\n  \
                 <see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:41D0:1:A49b::1]:9222</see-other-host>\n\
                 </stream:error>"
            ),
            Frame::StreamError(StreamError {
                condition: "see-other-host".into(),
                text: None,
                see_other_host: Some("[2001:41D0:1:A49b::1]:9222".into()),
            })
        );
        // Like the §4.9.4 example (condition, text, application-specific condition), but with <text/> first:
        // order must not matter, and the unprefixed spelling is the same element.
        assert_eq!(
            frame(
                "<error xmlns='http://etherx.jabber.org/streams'>\
                 <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Some special application diagnostic \
                 information!</text><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                 <escape-your-data xmlns='http://example.org/ns'/></error>"
            ),
            Frame::StreamError(StreamError {
                condition: "not-well-formed".into(),
                text: Some("Some special application diagnostic information!".into()),
                see_other_host: None,
            })
        );
        let Frame::StreamError(e) = frame("<stream:error xmlns:stream='http://etherx.jabber.org/streams'/>") else {
            panic!("not a stream error")
        };
        assert_eq!(e.condition, "undefined-condition");
    }

    #[test]
    fn sasl_stanzas_and_nonzas() {
        assert!(matches!(
            frame("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>"),
            Frame::Sasl(e) if e.name == "success"
        ));
        assert!(matches!(
            frame("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"),
            Frame::Sasl(e) if e.get_child(SASL_NS, "not-authorized").is_some()
        ));
        for s in [
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><body>hi</body></message>",
            "<presence xmlns='jabber:client'/>",
            "<iq xmlns='jabber:client' type='result' id='1'/>",
            "<cl:iq xmlns:cl='jabber:client' type='result' id='1'/>",
        ] {
            assert!(matches!(frame(s), Frame::Stanza(_)), "{s}");
        }
        for s in [
            "<r xmlns='urn:xmpp:sm:3'/>",
            "<a xmlns='urn:xmpp:sm:3' h='3'/>",
            "<enabled xmlns='urn:xmpp:sm:3' id='x' resume='true'/>",
        ] {
            assert!(matches!(frame(s), Frame::Nonza(_)), "{s}");
        }
    }

    #[test]
    fn invalid_namespaces_rejected() {
        for s in [
            "<message><body>hi</body></message>",
            "<foo xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
            "<stream xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
            "<features xmlns='jabber:client'/>",
            "<open xmlns='jabber:client' to='example.com'/>",
        ] {
            let err = parse_frame(s, DEFAULT_MAX_FRAME).expect_err(s);
            assert!(matches!(err, FramingError::InvalidNamespace { .. }), "{s}: {err:?}");
            assert_eq!(err.condition(), "invalid-namespace");
        }
        let err = parse_frame(
            "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='x'></stream:stream>",
            DEFAULT_MAX_FRAME,
        )
        .expect_err("stream:stream");
        assert!(matches!(err, FramingError::UnsupportedElement { .. }), "{err:?}");
    }

    #[test]
    fn not_well_formed_rejected() {
        let cases: &[(&str, XmlError)] = &[
            ("<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>", XmlError::MultipleRoots),
            ("<message xmlns='jabber:client'><body>hi</body>", XmlError::Truncated),
            ("<message xmlns='jabber:client'", XmlError::Truncated),
            ("<!DOCTYPE x><presence xmlns='jabber:client'/>", XmlError::Forbidden("DTD")),
            ("<?x y?><presence xmlns='jabber:client'/>", XmlError::Forbidden("processing instruction")),
            ("<presence xmlns='jabber:client'><!--x--></presence>", XmlError::Forbidden("comment")),
            ("", XmlError::NoRoot),
        ];
        for (s, want) in cases {
            let err = parse_frame(s, DEFAULT_MAX_FRAME).expect_err(s);
            assert_eq!(err, FramingError::Xml(want.clone()), "{s}");
            assert_eq!(err.condition(), "not-well-formed");
        }
    }

    #[test]
    fn frames_beyond_the_parser_limits_are_policy_violations() {
        let deep = format!("<message xmlns='jabber:client'>{}</message>", "<a>".repeat(300));
        let many = format!("<message xmlns='jabber:client'>{}</message>", "<a/>".repeat(10_000));
        let long_ns = format!("<message xmlns='jabber:client'><x xmlns='urn:{}'/></message>", "x".repeat(300));
        for (s, want) in
            [(deep, XmlError::TooDeep), (many, XmlError::TooManyElements), (long_ns, XmlError::NamespaceTooLong)]
        {
            let err = parse_frame(&s, DEFAULT_MAX_FRAME).expect_err(&s);
            assert_eq!(err, FramingError::Xml(want), "{s}");
            assert_eq!(err.condition(), "policy-violation");
        }
    }

    #[test]
    fn too_large_rejected_before_parsing() {
        let body = "x".repeat(100);
        let s = format!("<message xmlns='jabber:client'><body>{body}</body></message>");
        assert!(parse_frame(&s, s.len()).is_ok());
        let err = parse_frame(&s, s.len() - 1).expect_err("too large");
        assert_eq!(err, FramingError::TooLarge { size: s.len(), max: s.len() - 1 });
        assert_eq!(err.condition(), "policy-violation");
        // Checked before parsing: oversized garbage is TooLarge, not Xml.
        assert!(matches!(parse_frame("<<<<<<", 3), Err(FramingError::TooLarge { size: 6, max: 3 })));
    }

    #[test]
    fn open_names_the_account_when_asked() {
        assert_eq!(
            open("localhost", Some("alice@localhost"), None),
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0' from='alice@localhost'/>"
        );
    }

    #[test]
    fn open_and_close_serialize_and_parse_back() {
        assert_eq!(
            open("example.com", None, None),
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>"
        );
        assert_eq!(
            frame(&open("example.com", None, Some("en"))),
            Frame::Open(Open {
                to: Some("example.com".into()),
                version: Some("1.0".into()),
                lang: Some("en".into()),
                ..Open::default()
            })
        );
        let nasty = "a'b\"c<d>&e";
        assert_eq!(
            frame(&open(nasty, Some(nasty), Some(nasty))),
            Frame::Open(Open {
                to: Some(nasty.into()),
                from: Some(nasty.into()),
                version: Some("1.0".into()),
                lang: Some(nasty.into()),
                ..Open::default()
            })
        );
        assert_eq!(close(None), "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
        assert_eq!(frame(&close(None)), Frame::Close { see_other_uri: None });
        let uri = "wss://x.example/ws?a=1&b='2'";
        assert_eq!(frame(&close(Some(uri))), Frame::Close { see_other_uri: Some(uri.into()) });
    }

    #[test]
    fn stream_error_serializes_and_parses_back() {
        assert_eq!(
            stream_error("not-well-formed", None),
            "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>\
             <not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
        );
        let text = "bad <frame> & 'quotes' \"too\"";
        assert_eq!(
            frame(&stream_error("policy-violation", Some(text))),
            Frame::StreamError(StreamError {
                condition: "policy-violation".into(),
                text: Some(text.into()),
                see_other_host: None,
            })
        );
        let Frame::StreamError(e) = frame(&stream_error("x'/><evil/><y", None)) else { panic!("not an error") };
        assert_eq!(e.condition, "undefined-condition");
        let err = parse_frame("<a", DEFAULT_MAX_FRAME).expect_err("truncated");
        let Frame::StreamError(e) = frame(&stream_error(err.condition(), None)) else { panic!("not an error") };
        assert_eq!(e.condition, "not-well-formed");
    }

    #[test]
    fn escaping_entities_cdata_and_lang_in_stanzas() {
        let Frame::Stanza(m) = frame(
            "<message xmlns='jabber:client' xml:lang='de' to='a@b' id='&lt;&amp;&apos;&quot;&gt;'>\
             <body>1 &lt; 2 &amp;&amp; &#x263A; &#9731; <![CDATA[<not-a-tag/>]]></body></message>",
        ) else {
            panic!("not a stanza")
        };
        assert_eq!(m.attr("xml:lang"), Some("de"));
        assert_eq!(m.attr("id"), Some("<&'\">"));
        assert_eq!(
            m.get_child(CLIENT_NS, "body").map(Element::text).as_deref(),
            Some("1 < 2 && \u{263A} \u{2603} <not-a-tag/>")
        );
        assert_eq!(parse_frame(&m.to_xml(), DEFAULT_MAX_FRAME), Ok(Frame::Stanza(m)));
    }
}
