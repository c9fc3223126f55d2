//! A small owned XML element tree: what one RFC 7395 frame parses into, and what we serialize stanzas from.
//!
//! Parsing is namespace-aware (quick-xml's `NsReader`): every element carries its resolved namespace, so code
//! matches by (namespace, local name), never by prefix. Serialization goes through quick-xml's writer so peer
//! data is always escaped. This module knows nothing about XMPP semantics; see `framing` for that.

/// An XML element with its resolved namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Resolved namespace URI ("" when none).
    pub ns: String,
    /// Local name (no prefix).
    pub name: String,
    /// Attributes in document order, keyed by local name; `xml:lang` is kept as "xml:lang".
    /// Namespace declarations (`xmlns`, `xmlns:*`) are not attributes and are not kept here.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child of an element: an element or a run of (unescaped) text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}
