//! A small owned XML element tree: what one RFC 7395 frame parses into, and what we serialize stanzas from.
//!
//! Parsing is namespace-aware (quick-xml's `NsReader`): every element carries its resolved namespace, so code
//! matches by (namespace, local name), never by prefix. Serialization writes straight into a `String`, with
//! every attribute value and text run passed through quick-xml's escape functions, so peer data is always
//! escaped. This module knows nothing about XMPP semantics (see `framing` for that), does no I/O, and keeps
//! no state between documents: one call to [`Element::parse`] per WebSocket frame.
//!
//! Frames come from servers and peers, so parsing is bounded in what one frame can cost: a namespace name is
//! stored once per frame and shared by every element in it ([`Ns`]: the well-known XMPP namespaces are static
//! strings, others one reference-counted string per distinct name and frame), a namespace name is at most
//! [`MAX_NS_LEN`] bytes, elements nest at most [`MAX_DEPTH`] deep, and a frame holds at most one element or
//! text run per [`BYTES_PER_ELEMENT`] bytes (plus [`MIN_ELEMENT_ALLOWANCE`]). With quick-xml's own cap on namespace
//! declarations in scope, parsing any frame holds at most a constant times the frame's size in memory
//! (`tests/xml_memory.rs` measures it with a counting allocator).

/// An XML element with its resolved namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Resolved namespace URI ("" when none). Compares with `&str` (`el.ns == CLIENT_NS`) and derefs to `str`.
    pub ns: Ns,
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

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use quick_xml::escape::{partial_escape, resolve_xml_entity};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};
use quick_xml::{NsReader, XmlVersion};

/// Maximum element nesting accepted by [`Element::parse`]. The tree is dropped, compared and serialized
/// recursively, so an unbounded depth would let a peer overflow the (small, on wasm) stack with one frame of
/// `<a><a><a>…`. Real XMPP payloads nest a handful of levels.
pub const MAX_DEPTH: usize = 256;

/// Longest namespace name accepted by [`Element::parse`], in bytes (and six times that as written, escaped).
/// XMPP's are under 100.
pub const MAX_NS_LEN: usize = 256;

/// [`Element::parse`] accepts at most one node (element or text run) per this many bytes of document, on
/// average (plus [`MIN_ELEMENT_ALLOWANCE`]). Every node costs about a hundred bytes of tree, so this keeps a
/// frame of `<a/><a/>…` from costing 25 times its size, and 100,000 of them from costing 10 MB; real stanzas
/// average well over 25 bytes per element (a roster item with a group: about 40).
pub const BYTES_PER_ELEMENT: usize = 16;

/// Nodes any document may hold whatever its size (see [`BYTES_PER_ELEMENT`]): enough to nest [`MAX_DEPTH`] deep.
pub const MIN_ELEMENT_ALLOWANCE: usize = MAX_DEPTH;

/// The namespace the `xml:` prefix is bound to by definition.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Namespaces common enough in XMPP to be stored as static strings (no allocation at all).
const KNOWN_NS: &[&str] = &[
    "",
    "jabber:client",
    "http://etherx.jabber.org/streams",
    "urn:ietf:params:xml:ns:xmpp-framing",
    "urn:ietf:params:xml:ns:xmpp-sasl",
    "urn:ietf:params:xml:ns:xmpp-streams",
    "urn:ietf:params:xml:ns:xmpp-stanzas",
    "urn:ietf:params:xml:ns:xmpp-bind",
    "urn:ietf:params:xml:ns:xmpp-session",
    "jabber:iq:roster",
    "urn:xmpp:features:rosterver",
    "urn:xmpp:ping",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/chatstates",
    "urn:xmpp:carbons:2",
    "urn:xmpp:forward:0",
    "urn:xmpp:delay",
    "urn:xmpp:hints",
    "urn:xmpp:sm:3",
    "urn:xmpp:csi:0",
    "urn:xmpp:receipts",
    "urn:xmpp:chat-markers:0",
    "urn:xmpp:sid:0",
    "urn:xmpp:mam:2",
    "urn:xmpp:sasl-cb:0",
    "urn:xmpp:blocking",
    "jabber:x:data",
    "jabber:iq:version",
    "vcard-temp:x:update",
    XML_NS,
];

/// A namespace name: a static string for the well-known ones, otherwise one shared string per distinct
/// name and frame, so that a thousand children of one element in a long namespace cost one copy of it, not a
/// thousand. Cloning never copies the text.
///
/// It reads like the `String` it replaces: `el.ns == CLIENT_NS`, `el.ns == "urn:x"`, `el.ns.as_str()`, and
/// `&el.ns` where a `&str` is expected (it derefs to `str`). Equality, ordering and hashing are those of the
/// text.
#[derive(Clone)]
pub struct Ns(NsRepr);

#[derive(Clone)]
enum NsRepr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Ns {
    /// No namespace.
    pub const EMPTY: Ns = Ns(NsRepr::Static(""));

    /// A namespace from a string constant (no allocation).
    pub const fn from_static(ns: &'static str) -> Ns {
        Ns(NsRepr::Static(ns))
    }

    /// A namespace from any text: a well-known one is static, another is copied once into a shared string.
    pub fn new(ns: &str) -> Ns {
        Ns::known(ns).unwrap_or_else(|| Ns(NsRepr::Shared(Arc::from(ns))))
    }

    /// The well-known namespace `ns`, if it is one ([`KNOWN_NS`]).
    fn known(ns: &str) -> Option<Ns> {
        KNOWN_NS.iter().find(|k| **k == ns).map(|k| Ns::from_static(k))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            NsRepr::Static(s) => s,
            NsRepr::Shared(s) => s,
        }
    }
}

impl Default for Ns {
    fn default() -> Ns {
        Ns::EMPTY
    }
}

impl Deref for Ns {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Ns {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Ns {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Ns {
    fn eq(&self, other: &Ns) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Ns {}

impl Hash for Ns {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Ns {
    fn partial_cmp(&self, other: &Ns) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ns {
    fn cmp(&self, other: &Ns) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Ns {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Ns {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Ns {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Ns> for str {
    fn eq(&self, other: &Ns) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Ns> for &str {
    fn eq(&self, other: &Ns) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Ns> for String {
    fn eq(&self, other: &Ns) -> bool {
        self == other.as_str()
    }
}

impl From<&str> for Ns {
    fn from(ns: &str) -> Ns {
        Ns::new(ns)
    }
}

impl From<String> for Ns {
    fn from(ns: String) -> Ns {
        Ns::new(&ns)
    }
}

impl From<Ns> for String {
    fn from(ns: Ns) -> String {
        ns.as_str().to_owned()
    }
}

/// Why a document was rejected, named by cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// Empty input, or only whitespace: no root element.
    NoRoot,
    /// A second element after the root was closed.
    MultipleRoots,
    /// Non-whitespace character data before or after the root element.
    TextOutsideRoot,
    /// The input ended inside an element, tag, attribute value, CDATA section or similar.
    Truncated,
    /// A construct XMPP forbids: "DTD", "processing instruction", "comment", "XML declaration" (when not first).
    Forbidden(&'static str),
    /// An element or attribute used a prefix that no `xmlns:prefix` declares.
    UndeclaredPrefix(String),
    /// An entity reference other than the five predefined ones.
    UnknownEntity(String),
    /// A character XML does not allow (raw or via a character reference), as a code point.
    InvalidChar(u32),
    /// An end tag that does not close the innermost open element.
    MismatchedEndTag { expected: String, found: String },
    /// Elements nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A namespace name longer than [`MAX_NS_LEN`] bytes.
    NamespaceTooLong,
    /// More elements (and text runs between them) than the document's size allows ([`BYTES_PER_ELEMENT`]).
    TooManyElements,
    /// More namespace declarations in scope at once than the parser keeps (quick-xml's limit, 128).
    TooManyNamespaces,
    /// Any other well-formedness problem; carries quick-xml's (or our) description, for logs only.
    Malformed(String),
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::NoRoot => f.write_str("no root element"),
            XmlError::MultipleRoots => f.write_str("more than one root element"),
            XmlError::TextOutsideRoot => f.write_str("character data outside the root element"),
            XmlError::Truncated => f.write_str("input ends inside an element"),
            XmlError::Forbidden(what) => write!(f, "{what} not allowed in XMPP"),
            XmlError::UndeclaredPrefix(p) => write!(f, "undeclared namespace prefix `{p}`"),
            XmlError::UnknownEntity(e) => write!(f, "unknown entity `&{e};`"),
            XmlError::InvalidChar(c) => write!(f, "character U+{c:04X} not allowed in XML"),
            XmlError::MismatchedEndTag { expected, found } => {
                write!(f, "expected `</{expected}>`, found `</{found}>`")
            }
            XmlError::TooDeep => write!(f, "elements nested deeper than {MAX_DEPTH}"),
            // Plain words without numbers: formatting them costs wasm size for a log line.
            XmlError::NamespaceTooLong => f.write_str("a namespace name too long"),
            XmlError::TooManyElements => f.write_str("too many elements for its size"),
            XmlError::TooManyNamespaces => f.write_str("too many namespace declarations"),
            XmlError::Malformed(msg) => write!(f, "malformed XML: {msg}"),
        }
    }
}

impl std::error::Error for XmlError {}

impl XmlError {
    /// Whether the document was refused for exceeding one of this parser's limits (depth, element count,
    /// namespace length or count) rather than for breaking XML's rules.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            XmlError::TooDeep | XmlError::TooManyElements | XmlError::NamespaceTooLong | XmlError::TooManyNamespaces
        )
    }
}

impl From<quick_xml::Error> for XmlError {
    fn from(e: quick_xml::Error) -> Self {
        use quick_xml::errors::{IllFormedError, SyntaxError};
        use quick_xml::escape::{EscapeError, ParseCharRefError};
        use quick_xml::name::NamespaceError;
        // Our own words, not quick-xml's Display: that one brings its every message and std's I/O error texts
        // into the browser build for a log line.
        let malformed = |what: &str| XmlError::Malformed(what.to_owned());
        match e {
            quick_xml::Error::Syntax(SyntaxError::InvalidBangMarkup) => malformed("unknown markup after `<!`"),
            // Every other syntax error is "input ended before the closing `>` / `?>` / `]]>` / quote".
            quick_xml::Error::Syntax(_) => XmlError::Truncated,
            quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                XmlError::MismatchedEndTag { expected, found }
            }
            quick_xml::Error::IllFormed(IllFormedError::DoubleHyphenInComment) => malformed("`--` in a comment"),
            quick_xml::Error::IllFormed(_) => malformed("ill-formed declaration, tag or reference"),
            quick_xml::Error::Namespace(NamespaceError::UnknownPrefix(p)) => XmlError::UndeclaredPrefix(p),
            quick_xml::Error::Namespace(NamespaceError::TooManyBindings(_)) => XmlError::TooManyNamespaces,
            quick_xml::Error::Namespace(NamespaceError::TooDeeplyNested(_)) => XmlError::TooDeep,
            quick_xml::Error::Namespace(_) => malformed("invalid namespace declaration"),
            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => XmlError::UnknownEntity(name),
            quick_xml::Error::Escape(EscapeError::InvalidCharRef(
                ParseCharRefError::IllegalCharacter(c) | ParseCharRefError::InvalidCodepoint(c),
            )) => XmlError::InvalidChar(c),
            quick_xml::Error::Escape(_) => malformed("invalid entity or character reference"),
            quick_xml::Error::InvalidAttr(e) => e.into(),
            quick_xml::Error::Encoding(_) => malformed("not UTF-8"),
            quick_xml::Error::Io(_) => malformed("read error"),
        }
    }
}

impl From<quick_xml::events::attributes::AttrError> for XmlError {
    fn from(e: quick_xml::events::attributes::AttrError) -> Self {
        use quick_xml::events::attributes::AttrError;
        XmlError::Malformed(
            match e {
                AttrError::Duplicated(..) => "repeated attribute",
                _ => "attribute is not of the form name='value'",
            }
            .to_owned(),
        )
    }
}

// ---------------------------------------------------------------------------------------------------------
// Building and reading
// ---------------------------------------------------------------------------------------------------------

impl Element {
    /// A new element with no attributes and no children. `name` must be a plain local name (no prefix).
    pub fn new(ns: &str, name: &str) -> Element {
        Element { ns: Ns::new(ns), name: name.to_owned(), attrs: Vec::new(), children: Vec::new() }
    }

    /// Appends an attribute (no check for an existing one with the same name; see [`Element::set_attr`]).
    /// Keys are plain names, or `xml:lang`.
    pub fn with_attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Appends a child element.
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Appends a run of text (kept even when empty: the caller decides).
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Appends a child element.
    pub fn push_child(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// Sets an attribute, replacing the value of an existing one with the same key.
    pub fn set_attr(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.attrs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.attrs.push((key, value)),
        }
    }

    /// The value of the attribute `key` (a local name, or `xml:lang`).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Whether this element is `name` in namespace `ns`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// The first child element `name` in namespace `ns`.
    pub fn get_child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// The child elements, in document order (text is skipped).
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The child elements `name` in namespace `ns`, in document order.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The direct text children, concatenated (text inside child elements is not included).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------

impl Element {
    /// Parses one complete document: an optional XML declaration, then exactly one root element, with only
    /// whitespace around it. DTDs, processing instructions and comments are rejected (RFC 6120 §11.1), as are
    /// undeclared prefixes, entities other than the five predefined ones, characters XML forbids, and
    /// anything unclosed.
    ///
    /// Text is stored unescaped, with XML end-of-line normalization applied; CDATA sections become text and
    /// adjacent runs merge into one [`Node::Text`]. Whitespace inside the root is kept as text. Attributes
    /// are keyed by local name; `xml:*` attributes as `xml:local`; other namespaced attributes are dropped.
    pub fn parse(s: &str) -> Result<Element, XmlError> {
        check_chars(s)?;
        let mut reader = NsReader::from_str(s);
        // Open elements, innermost last, each with the text run not yet flushed into its children.
        let mut stack: Vec<(Element, String)> = Vec::new();
        let mut root: Option<Element> = None;
        let mut first = true;
        let mut names = NsTable::default();
        // Elements and text runs still allowed in a document of this size.
        let mut nodes_left = MIN_ELEMENT_ALLOWANCE + s.len() / BYTES_PER_ELEMENT;
        loop {
            let event = reader.read_event()?;
            let was_first = std::mem::replace(&mut first, false);
            match event {
                Event::Start(start) => {
                    if root.is_some() {
                        return Err(XmlError::MultipleRoots);
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    take_one(&mut nodes_left)?;
                    let parent = match stack.last_mut() {
                        Some((parent, pending)) => {
                            flush_text(parent, pending, &mut nodes_left)?;
                            Some(&parent.ns)
                        }
                        None => None,
                    };
                    let el = start_element(&reader, &start, parent, &mut names)?;
                    stack.push((el, String::new()));
                }
                Event::Empty(start) => {
                    if root.is_some() {
                        return Err(XmlError::MultipleRoots);
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    take_one(&mut nodes_left)?;
                    let el = start_element(&reader, &start, stack.last().map(|(p, _)| &p.ns), &mut names)?;
                    match stack.last_mut() {
                        Some((parent, pending)) => {
                            flush_text(parent, pending, &mut nodes_left)?;
                            parent.children.push(Node::Element(el));
                        }
                        None => root = Some(el),
                    }
                }
                Event::End(_) => {
                    // quick-xml has already checked that the name matches the innermost open tag.
                    let Some((mut el, mut pending)) = stack.pop() else {
                        return Err(XmlError::Malformed("end tag without start tag".into()));
                    };
                    flush_text(&mut el, &mut pending, &mut nodes_left)?;
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(Node::Element(el)),
                        None => root = Some(el),
                    }
                }
                Event::Text(text) => match stack.last_mut() {
                    Some((_, pending)) => {
                        if text.contains("]]>") {
                            return Err(XmlError::Malformed("`]]>` in character data".into()));
                        }
                        push_str_or_move(pending, text.xml10_content());
                    }
                    None => {
                        if !text.bytes().all(is_xml_space) {
                            return Err(XmlError::TextOutsideRoot);
                        }
                    }
                },
                Event::CData(cdata) => match stack.last_mut() {
                    Some((_, pending)) => push_str_or_move(pending, cdata.xml10_content()),
                    None => return Err(XmlError::TextOutsideRoot),
                },
                Event::GeneralRef(reference) => {
                    let Some((_, pending)) = stack.last_mut() else {
                        return Err(XmlError::TextOutsideRoot);
                    };
                    match reference.resolve_char_ref()? {
                        Some(c) => {
                            if !is_xml_char(c) {
                                return Err(XmlError::InvalidChar(c as u32));
                            }
                            pending.push(c);
                        }
                        None => match resolve_xml_entity(&reference) {
                            Some(v) => pending.push_str(v),
                            None => return Err(XmlError::UnknownEntity(reference.to_string())),
                        },
                    }
                }
                Event::Decl(decl) => {
                    if !was_first {
                        return Err(XmlError::Forbidden("XML declaration"));
                    }
                    if decl.version()?.as_ref() != "1.0" {
                        return Err(XmlError::Malformed("XML version other than 1.0".into()));
                    }
                    if let Some(enc) = decl.encoding()
                        && !enc?.eq_ignore_ascii_case("utf-8")
                    {
                        return Err(XmlError::Malformed("encoding other than UTF-8".into()));
                    }
                }
                Event::PI(_) => return Err(XmlError::Forbidden("processing instruction")),
                Event::DocType(_) => return Err(XmlError::Forbidden("DTD")),
                Event::Comment(_) => return Err(XmlError::Forbidden("comment")),
                Event::Eof => {
                    return match (stack.is_empty(), root) {
                        (true, Some(root)) => Ok(root),
                        (true, None) => Err(XmlError::NoRoot),
                        (false, _) => Err(XmlError::Truncated),
                    };
                }
            }
        }
    }
}

/// The namespace names of one document, each stored once: an element takes its parent's [`Ns`] when the names
/// match (the common case, compared without hashing), a well-known one, or a shared string from the last
/// [`NsTable::SIZE`] distinct names seen (found by a 64-bit hash, then compared).
///
/// Why this is enough: an element's namespace is always one of the at most 128 declarations in scope
/// (quick-xml's limit), so a namespace in use drops out of the table only after `SIZE` newer distinct names,
/// each declared somewhere in the frame; copying it again then costs at most its length, 256 bytes, per 256
/// declarations. A `HashSet` would do the same job for 1.6 KB more wasm.
#[derive(Default)]
struct NsTable {
    /// (FNV-1a hash, name), at most `SIZE`; when full, `next` is the oldest, replaced next.
    seen: Vec<(u64, Ns)>,
    next: usize,
}

impl NsTable {
    const SIZE: usize = 256;

    /// The namespace for `raw`, the name as the resolver has it (as written in the declaration, escaped).
    fn get(&mut self, raw: &str, parent: Option<&Ns>) -> Result<Ns, XmlError> {
        // Every element in the namespace repeats this work, so the spelling is bounded before unescaping too:
        // six bytes a character is as long as our own serialization ever writes one (`&apos;`), so whatever
        // we write parses back.
        if raw.len() > 6 * MAX_NS_LEN {
            return Err(XmlError::NamespaceTooLong);
        }
        let ns = &*unescape_ns(raw)?;
        if ns.len() > MAX_NS_LEN {
            return Err(XmlError::NamespaceTooLong);
        }
        if let Some(parent) = parent.filter(|p| p.as_str() == ns) {
            return Ok(parent.clone());
        }
        if let Some(known) = Ns::known(ns) {
            return Ok(known);
        }
        let hash = ns.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        if let Some((_, seen)) = self.seen.iter().find(|(h, n)| *h == hash && n.as_str() == ns) {
            return Ok(seen.clone());
        }
        let new = Ns(NsRepr::Shared(Arc::from(ns)));
        if self.seen.len() < Self::SIZE {
            self.seen.push((hash, new.clone()));
        } else {
            self.seen[self.next] = (hash, new.clone());
            self.next = (self.next + 1) % Self::SIZE;
        }
        Ok(new)
    }
}

/// Builds the element for a start (or empty-element) tag: resolved namespace, local name, attributes.
fn start_element(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    parent: Option<&Ns>,
    names: &mut NsTable,
) -> Result<Element, XmlError> {
    let resolver = reader.resolver();
    let qname = start.name();
    check_qname(qname.as_ref())?;
    if qname.as_ref().starts_with("xmlns:") {
        return Err(XmlError::Malformed("element with the reserved prefix `xmlns`".into()));
    }
    let (resolved, local) = resolver.resolve_element(qname);
    let ns = match resolved {
        ResolveResult::Bound(ns) => names.get(ns.into_inner(), parent)?,
        ResolveResult::Unbound => Ns::EMPTY,
        ResolveResult::Unknown(prefix) => return Err(XmlError::UndeclaredPrefix(prefix)),
    };
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr?;
        let key = attr.key.as_ref();
        check_qname(key)?;
        if attr.key.as_namespace_binding().is_some() {
            // xmlns / xmlns:p: already applied by the resolver; only well-formedness left to check.
            if attr.value.contains('<') {
                return Err(XmlError::Malformed("`<` in attribute value".into()));
            }
            continue;
        }
        let (resolved, local) = resolver.resolve_attribute(attr.key);
        let key = match resolved {
            ResolveResult::Unbound => local.into_inner().to_owned(),
            ResolveResult::Bound(ns) if ns.into_inner() == XML_NS => key.to_owned(),
            ResolveResult::Bound(_) => continue, // other namespaced attributes are not kept
            ResolveResult::Unknown(prefix) => return Err(XmlError::UndeclaredPrefix(prefix)),
        };
        let value = attr_value(&attr.value)?;
        attrs.push((key, value));
    }
    attrs.shrink_to_fit(); // a first push reserves room for four: 100 bytes a child in `<y a='1'/><y a='2'/>…`
    Ok(Element { ns, name: local.into_inner().to_owned(), attrs, children: Vec::new() })
}

/// Attribute-value normalization (XML 1.0 §3.3.3) with only the predefined entities; rejects a raw `<`.
fn attr_value(raw: &str) -> Result<String, XmlError> {
    if !raw.bytes().any(|b| matches!(b, b'<' | b'&' | b'\t' | b'\n' | b'\r')) {
        return Ok(raw.to_owned());
    }
    if raw.contains('<') {
        return Err(XmlError::Malformed("`<` in attribute value".into()));
    }
    let attr = Attribute { key: QName(""), value: Cow::Borrowed(raw) };
    let value = attr.normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_xml_entity)?.into_owned();
    if raw.contains("&#") {
        check_chars(&value)?; // character references can produce what the raw scan could not see
    }
    Ok(value)
}

/// The namespace name from a declaration, which the resolver keeps escaped as written.
fn unescape_ns(raw: &str) -> Result<Cow<'_, str>, XmlError> {
    if raw.bytes().any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r')) {
        attr_value(raw).map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(raw))
    }
}

/// Moves the pending text run (if any) into `el` as one text node.
fn flush_text(el: &mut Element, pending: &mut String, nodes_left: &mut usize) -> Result<(), XmlError> {
    if !pending.is_empty() {
        take_one(nodes_left)?;
        el.children.push(Node::Text(std::mem::take(pending)));
    }
    Ok(())
}

/// Counts one more element or text run against the document's allowance.
fn take_one(nodes_left: &mut usize) -> Result<(), XmlError> {
    *nodes_left = nodes_left.checked_sub(1).ok_or(XmlError::TooManyElements)?;
    Ok(())
}

/// Appends `s` to `buf`, taking over an owned `s` instead of copying when `buf` is still empty.
fn push_str_or_move(buf: &mut String, s: Cow<'_, str>) {
    match s {
        Cow::Owned(s) if buf.is_empty() => *buf = s,
        s => buf.push_str(&s),
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// XML 1.0 `Char`: `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Rejects characters XML forbids anywhere in a document. A `&str` has no surrogates, so that leaves the
/// C0 controls other than tab/LF/CR, and U+FFFE/U+FFFF (UTF-8 `EF BF BE`/`EF BF BF`).
fn check_chars(s: &str) -> Result<(), XmlError> {
    const CHUNK: usize = 32;
    let bytes = s.as_bytes();
    for (n, chunk) in bytes.chunks(CHUNK).enumerate() {
        // Non-short-circuiting so the compiler vectorizes it; only suspicious chunks get a precise look.
        let suspicious = chunk
            .iter()
            .fold(false, |acc, &b| acc | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF));
        if suspicious {
            let start = n * CHUNK;
            check_chars_precisely(bytes, start, start + chunk.len())?;
        }
    }
    Ok(())
}

fn check_chars_precisely(bytes: &[u8], start: usize, end: usize) -> Result<(), XmlError> {
    for i in start..end {
        let b = bytes[i];
        if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') {
            return Err(XmlError::InvalidChar(u32::from(b)));
        }
        if b == 0xEF
            && bytes.get(i + 1) == Some(&0xBF)
            && let Some(&last @ (0xBE | 0xBF)) = bytes.get(i + 2)
        {
            return Err(XmlError::InvalidChar(0xFFC0 | u32::from(last & 0x3F)));
        }
    }
    Ok(())
}

/// Checks an element or attribute name against the Namespaces in XML `QName` production (quick-xml does not).
fn check_qname(name: &str) -> Result<(), XmlError> {
    let ok = match name.split_once(':') {
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
        None => is_ncname(name),
    };
    if ok { Ok(()) } else { Err(XmlError::Malformed(format!("invalid name `{name}`"))) }
}

/// XML 1.0 `Name` without colons.
fn is_ncname(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.is_ascii() {
        return matches!(bytes.first(), Some(&b) if b.is_ascii_alphabetic() || b == b'_')
            && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start_char(c) => chars.all(is_name_char),
        _ => false,
    }
}

fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

// ---------------------------------------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------------------------------------

impl Element {
    /// Serializes this element as a standalone document fragment: it declares its own namespace (the
    /// default namespace, `xmlns='…'`), and each descendant re-declares only when its namespace differs
    /// from its parent's. Empty elements are written `<x/>`. All attribute values and text are escaped.
    ///
    /// `parse(&e.to_xml()) == Ok(e)` holds for trees that `parse` could have produced: plain or `xml:*`
    /// attribute keys, no empty or adjacent text nodes.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(128);
        self.write_to(&mut out);
        out
    }

    /// Appends the serialization of [`Element::to_xml`] to `out`.
    pub fn write_to(&self, out: &mut String) {
        self.write_inner(out, "");
    }

    fn write_inner(&self, out: &mut String, parent_ns: &str) {
        debug_assert!(check_qname(&self.name).is_ok() && !self.name.contains(':'), "bad name {:?}", self.name);
        out.push('<');
        out.push_str(&self.name);
        if self.ns.as_str() != parent_ns {
            out.push_str(" xmlns='");
            push_attr_escaped(out, &self.ns);
            out.push('\'');
        }
        for (key, value) in &self.attrs {
            debug_assert!(check_qname(key).is_ok(), "bad attribute name {key:?}");
            out.push(' ');
            out.push_str(key);
            out.push_str("='");
            push_attr_escaped(out, value);
            out.push('\'');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Element(e) => e.write_inner(out, &self.ns),
                // `<`, `&`, `>` (so `]]>` cannot appear) and `\r` (which parsing would normalize away).
                Node::Text(t) => out.push_str(&partial_escape(t.as_str())),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Escapes an attribute value: quick-xml's `escape` (`<>&'"` and `\r`), plus `\t` and `\n`, which
/// attribute-value normalization would otherwise turn into spaces.
fn push_attr_escaped(out: &mut String, mut value: &str) {
    while let Some(i) = value.find(['\t', '\n']) {
        out.push_str(&quick_xml::escape::escape(&value[..i]));
        out.push_str(if value.as_bytes()[i] == b'\t' { "&#9;" } else { "&#10;" });
        value = &value[i + 1..];
    }
    out.push_str(&quick_xml::escape::escape(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Element {
        match Element::parse(s) {
            Ok(e) => e,
            Err(err) => panic!("parse({s:?}) failed: {err:?}"),
        }
    }

    fn round_trip(e: &Element) {
        let xml = e.to_xml();
        assert_eq!(Element::parse(&xml).as_ref(), Ok(e), "via {xml}");
    }

    #[test]
    fn builder_and_accessors() {
        let mut e = Element::new("jabber:client", "message")
            .with_attr("to", "juliet@example.com")
            .with_attr("type", "chat")
            .with_child(Element::new("jabber:client", "body").with_text("Art thou not Romeo?"))
            .with_child(Element::new("urn:xmpp:receipts", "request"))
            .with_child(Element::new("jabber:client", "body").with_text("second"));
        e.set_attr("type", "normal");
        e.set_attr("id", "m1");
        e.push_child(Element::new("jabber:client", "thread").with_text("t").with_text("1"));
        assert_eq!(e.attr("type"), Some("normal"));
        assert_eq!(e.attr("id"), Some("m1"));
        assert_eq!(e.attr("from"), None);
        assert!(e.is("jabber:client", "message"));
        assert!(!e.is("jabber:server", "message"));
        assert_eq!(e.get_child("jabber:client", "body").map(Element::text).as_deref(), Some("Art thou not Romeo?"));
        assert!(e.get_child("urn:xmpp:receipts", "request").is_some());
        assert!(e.get_child("jabber:client", "request").is_none());
        assert_eq!(e.elements().count(), 4);
        assert_eq!(e.children_named("jabber:client", "body").count(), 2);
        assert_eq!(e.get_child("jabber:client", "thread").map(Element::text).as_deref(), Some("t1"));
    }

    #[test]
    fn parses_namespaces_by_uri_not_prefix() {
        let a = parse(
            "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>\
            <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>\
            </stream:features>",
        );
        let b = parse(
            "<features xmlns='http://etherx.jabber.org/streams'>\
            <sasl:mechanisms xmlns:sasl='urn:ietf:params:xml:ns:xmpp-sasl'><sasl:mechanism>PLAIN</sasl:mechanism>\
            </sasl:mechanisms></features>",
        );
        assert_eq!(a, b);
        assert!(a.is("http://etherx.jabber.org/streams", "features"));
        let mechs = a.get_child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms").expect("mechanisms");
        let mech = mechs.get_child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanism").expect("mechanism");
        assert_eq!(mech.text(), "PLAIN");
        assert!(a.attrs.is_empty(), "namespace declarations are not attributes");
    }

    #[test]
    fn unbound_element_has_empty_namespace() {
        assert_eq!(parse("<a/>").ns, "");
        let e = parse("<a xmlns='urn:x'><b xmlns=''/></a>");
        assert_eq!(e.elements().next().map(|b| b.ns.as_str()), Some(""));
        round_trip(&e);
    }

    #[test]
    fn entities_and_char_refs_decoded() {
        let e = parse("<a t='&lt;&amp;&gt;&quot;&apos;&#65;&#x42;'>&lt;&amp;&gt;&quot;&apos; &#65;&#x1F600;x</a>");
        assert_eq!(e.attr("t"), Some("<&>\"'AB"));
        assert_eq!(e.text(), "<&>\"' A\u{1F600}x");
        assert_eq!(e.children.len(), 1, "runs merge into one text node");
    }

    #[test]
    fn unknown_entity_rejected() {
        assert_eq!(Element::parse("<a>&nbsp;</a>"), Err(XmlError::UnknownEntity("nbsp".into())));
        assert_eq!(Element::parse("<a b='&nbsp;'/>"), Err(XmlError::UnknownEntity("nbsp".into())));
    }

    #[test]
    fn invalid_chars_rejected() {
        assert_eq!(Element::parse("<a>\u{1}</a>"), Err(XmlError::InvalidChar(1)));
        assert_eq!(Element::parse("<a>\u{FFFF}</a>"), Err(XmlError::InvalidChar(0xFFFF)));
        assert_eq!(Element::parse("<a>&#0;</a>"), Err(XmlError::InvalidChar(0)));
        assert_eq!(Element::parse("<a>&#1;</a>"), Err(XmlError::InvalidChar(1)));
        assert_eq!(Element::parse("<a>&#xD800;</a>"), Err(XmlError::InvalidChar(0xD800)));
        assert_eq!(Element::parse("<a b='&#2;'/>"), Err(XmlError::InvalidChar(2)));
        assert_eq!(Element::parse("<a\u{0}/>"), Err(XmlError::InvalidChar(0)));
        assert!(matches!(Element::parse("<a>&#xZZ;</a>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn char_check_is_exact_at_every_offset() {
        // The scan works in chunks; put the bad (or merely suspicious) character at every position.
        for pad in 0..70 {
            let text = "x".repeat(pad);
            let fffe = format!("<a>{text}\u{FFFE}</a>");
            assert_eq!(Element::parse(&fffe), Err(XmlError::InvalidChar(0xFFFE)), "pad {pad}");
            let ctrl = format!("<a>{text}\u{1F}</a>");
            assert_eq!(Element::parse(&ctrl), Err(XmlError::InvalidChar(0x1F)), "pad {pad}");
            // U+FE0F (EF B8 8F), U+FFFD (EF BF BD), tab/LF/CR are fine.
            let ok = format!("<a>{text}\u{2764}\u{FE0F}\u{FFFD}\t\n\r</a>");
            assert!(Element::parse(&ok).is_ok(), "pad {pad}");
        }
    }

    #[test]
    fn cdata_becomes_text() {
        let e = parse("<a>x<![CDATA[<b>&amp;]]>y</a>");
        assert_eq!(e.children, vec![Node::Text("x<b>&amp;y".into())]);
        round_trip(&e);
    }

    #[test]
    fn xml_lang_kept_other_namespaced_attrs_dropped() {
        let e = parse("<message xmlns='jabber:client' xmlns:foo='urn:foo' xml:lang='en' foo:bar='x' to='a@b'/>");
        assert_eq!(e.attrs, vec![("xml:lang".to_owned(), "en".to_owned()), ("to".to_owned(), "a@b".to_owned())]);
        assert_eq!(e.attr("xml:lang"), Some("en"));
        round_trip(&e);
    }

    #[test]
    fn xml_declaration_only_at_start() {
        assert!(Element::parse("<?xml version='1.0'?><a/>").is_ok());
        assert!(Element::parse("<?xml version='1.0' encoding='UTF-8'?>\n<a/>").is_ok());
        assert_eq!(Element::parse(" <?xml version='1.0'?><a/>"), Err(XmlError::Forbidden("XML declaration")));
        assert_eq!(Element::parse("<a/><?xml version='1.0'?>"), Err(XmlError::Forbidden("XML declaration")));
        assert!(matches!(
            Element::parse("<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
            Err(XmlError::Malformed(_))
        ));
    }

    #[test]
    fn dtd_pi_comment_rejected() {
        assert_eq!(Element::parse("<!DOCTYPE a><a/>"), Err(XmlError::Forbidden("DTD")));
        assert_eq!(Element::parse("<!DOCTYPE a [<!ENTITY x 'boom'>]><a>&x;</a>"), Err(XmlError::Forbidden("DTD")));
        assert_eq!(Element::parse("<?foo bar?><a/>"), Err(XmlError::Forbidden("processing instruction")));
        assert_eq!(Element::parse("<a><?foo?></a>"), Err(XmlError::Forbidden("processing instruction")));
        assert_eq!(Element::parse("<a><!-- hi --></a>"), Err(XmlError::Forbidden("comment")));
        assert_eq!(Element::parse("<a/><!-- hi -->"), Err(XmlError::Forbidden("comment")));
    }

    #[test]
    fn document_shape() {
        assert_eq!(Element::parse(""), Err(XmlError::NoRoot));
        assert_eq!(Element::parse(" \r\n\t"), Err(XmlError::NoRoot));
        assert_eq!(Element::parse("<a/><b/>"), Err(XmlError::MultipleRoots));
        assert_eq!(Element::parse("<a></a><b></b>"), Err(XmlError::MultipleRoots));
        assert_eq!(Element::parse("x<a/>"), Err(XmlError::TextOutsideRoot));
        assert_eq!(Element::parse("<a/>x"), Err(XmlError::TextOutsideRoot));
        assert_eq!(Element::parse("<a/>&amp;"), Err(XmlError::TextOutsideRoot));
        assert_eq!(Element::parse("<a/><![CDATA[x]]>"), Err(XmlError::TextOutsideRoot));
        assert!(Element::parse("\n <a/> \r\n").is_ok());
    }

    #[test]
    fn truncated_rejected() {
        for s in ["<a>", "<a><b/>", "<a><b></b>text", "<a", "<a b='1", "<a><b", "<a><![CDATA[x", "<a></a"] {
            assert_eq!(Element::parse(s), Err(XmlError::Truncated), "{s:?}");
        }
    }

    #[test]
    fn malformed_rejected() {
        assert_eq!(
            Element::parse("<a><b></a>"),
            Err(XmlError::MismatchedEndTag { expected: "b".into(), found: "a".into() })
        );
        // Prefixes must match literally in end tags, even when bound to the same namespace.
        assert!(matches!(
            Element::parse("<p:a xmlns:p='urn:x' xmlns:q='urn:x'></q:a>"),
            Err(XmlError::MismatchedEndTag { .. })
        ));
        for s in [
            "</a>",
            "<a b='1' b='2'/>",
            "<a b=1/>",
            "<a b/>",
            "<a b='<'/>",
            "<a>]]></a>",
            "<a>&</a>",
            "<1a/>",
            "<a 1b='x'/>",
            "<:a/>",
            "<a:/>",
            "<xmlns:a/>",
        ] {
            assert!(Element::parse(s).is_err(), "{s:?} accepted");
        }
    }

    #[test]
    fn undeclared_prefix_rejected() {
        assert_eq!(Element::parse("<p:a/>"), Err(XmlError::UndeclaredPrefix("p".into())));
        assert_eq!(Element::parse("<a xmlns='urn:x'><p:b/></a>"), Err(XmlError::UndeclaredPrefix("p".into())));
        assert_eq!(Element::parse("<a p:b='1'/>"), Err(XmlError::UndeclaredPrefix("p".into())));
    }

    #[test]
    fn too_deep_rejected() {
        let ok = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert!(Element::parse(&ok).is_ok());
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(Element::parse(&deep), Err(XmlError::TooDeep));
        let deep_empty = "<a>".repeat(MAX_DEPTH) + "<b/>" + &"</a>".repeat(MAX_DEPTH);
        assert_eq!(Element::parse(&deep_empty), Err(XmlError::TooDeep));
        // The attack this bounds: one 256 KiB frame of nested tags.
        let huge = "<a>".repeat(80_000);
        assert_eq!(Element::parse(&huge), Err(XmlError::TooDeep));
    }

    #[test]
    fn line_endings_normalized_in_text_and_attrs() {
        let e = parse("<a b='x\r\ny\tz'>1\r\n2\r3</a>");
        assert_eq!(e.attr("b"), Some("x y z"));
        assert_eq!(e.text(), "1\n2\n3");
        let e = parse("<a b='x&#13;&#10;&#9;y'>1&#13;2</a>");
        assert_eq!(e.attr("b"), Some("x\r\n\ty"));
        assert_eq!(e.text(), "1\r2");
        round_trip(&e);
    }

    #[test]
    fn serializes_with_minimal_namespace_declarations() {
        let e = Element::new("jabber:client", "iq")
            .with_attr("type", "get")
            .with_attr("id", "r1")
            .with_child(Element::new("jabber:iq:roster", "query").with_child(Element::new("jabber:iq:roster", "item")));
        assert_eq!(
            e.to_xml(),
            "<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster'><item/></query></iq>"
        );
        round_trip(&e);
        assert_eq!(Element::new("", "a").with_child(Element::new("urn:x", "b")).to_xml(), "<a><b xmlns='urn:x'/></a>");
        assert_eq!(
            Element::new("urn:x", "a").with_child(Element::new("", "b")).to_xml(),
            "<a xmlns='urn:x'><b xmlns=''/></a>"
        );
        let mut out = String::from("prefix:");
        Element::new("urn:x", "a").write_to(&mut out);
        assert_eq!(out, "prefix:<a xmlns='urn:x'/>");
    }

    #[test]
    fn escaping_round_trips() {
        let nasty = "<&'\">]]> \t\n\r x&amp;";
        let e = Element::new("urn:x&'<y", "a")
            .with_attr("v", nasty)
            .with_attr("xml:lang", "en")
            .with_child(Element::new("urn:x", "b").with_text(nasty))
            .with_text(nasty);
        let xml = e.to_xml();
        assert!(!xml.contains("]]>"), "{xml}");
        assert!(!xml.contains("x&amp;\""), "{xml}");
        round_trip(&e);
        assert_eq!(
            Element::new("", "a").with_attr("v", "<&'\">").with_text("<&'\">").to_xml(),
            "<a v='&lt;&amp;&apos;&quot;&gt;'>&lt;&amp;'\"&gt;</a>"
        );
    }

    #[test]
    fn round_trips_parsed_stanzas() {
        for s in [
            "<message xmlns='jabber:client' from='juliet@example.com/balcony' to='romeo@example.net' type='chat' \
             xml:lang='en'><body>Wherefore art thou, Romeo?</body><thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>\
             <active xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<presence xmlns='jabber:client'><show>away</show>\n  <status>brb &lt;3</status></presence>",
            "<iq xmlns=\"jabber:client\" type=\"result\" id=\"x\"><query xmlns=\"jabber:iq:roster\" ver=\"ver7\">\
             <item jid=\"nurse@example.com\" name=\"Nurse\" subscription=\"both\"><group>Servants</group></item></query></iq>",
        ] {
            round_trip(&parse(s));
        }
    }

    #[test]
    fn ns_reads_like_a_string() {
        const NS: &str = "jabber:client";
        let e = parse("<message xmlns='jabber:client'><x xmlns='urn:other'/></message>");
        // Each form other code uses must compile: `==` and `!=` with a constant, a literal, either side.
        let forms = [e.ns == NS, e.ns == "jabber:client", NS == e.ns, e.ns != "urn:x"];
        assert_eq!(forms, [true; 4]);
        assert_eq!(e.ns, NS);
        assert_eq!(e.ns.as_str(), NS);
        assert_eq!(e.ns, String::from(NS));
        assert_eq!(format!("{:?} {}", e.ns, e.ns), "\"jabber:client\" jabber:client");
        let x = e.get_child("urn:other", "x").expect("x");
        assert!(e.get_child(&x.ns, "x").is_some(), "&Ns is a &str");
        assert_eq!(Element::new(NS, "message").ns, e.ns);
        assert_eq!(Ns::new("urn:other"), x.ns);
        assert_eq!(String::from(x.ns.clone()), "urn:other");
        assert!(matches!(Ns::new(NS).0, NsRepr::Static(_)), "well-known namespaces are static");
        assert!(matches!(Ns::default().0, NsRepr::Static("")));
    }

    #[test]
    fn a_frame_shares_each_namespace_name() {
        let e = parse(
            "<a xmlns='urn:long' xmlns:p='urn:long'><b/><c><d/></c><p:e/><f xmlns='urn:long'/><g xmlns='urn:2'><p:h/></g></a>",
        );
        let shared = |x: &Element| match &x.ns.0 {
            NsRepr::Shared(s) => Arc::as_ptr(s).cast::<u8>(),
            NsRepr::Static(s) => panic!("{s} is not a shared namespace"),
        };
        let all: Vec<&Element> = std::iter::once(&e)
            .chain(e.elements())
            .chain(e.elements().flat_map(|c| c.elements()))
            .filter(|x| x.ns == "urn:long")
            .collect();
        assert_eq!(all.len(), 7, "{all:?}");
        assert!(all.iter().all(|x| shared(x) == shared(&e)), "one string for every element in urn:long");
    }

    #[test]
    fn long_namespace_refused() {
        let ok = format!("urn:{}", "x".repeat(MAX_NS_LEN - 4));
        assert_eq!(parse(&format!("<a xmlns='{ok}'/>")).ns, ok);
        let long = format!("<a xmlns='{ok}x'/>");
        assert_eq!(Element::parse(&long), Err(XmlError::NamespaceTooLong));
        // An escaped spelling counts at its unescaped length, up to six bytes per character as written: what
        // serialization writes (`&apos;` for `'`) parses back.
        let escaped = format!("<a xmlns='urn:{}'/>", "&#120;".repeat(MAX_NS_LEN - 4));
        assert_eq!(parse(&escaped).ns, ok);
        let quotes = parse(&format!("<a xmlns=\"urn:{}\"/>", "'".repeat(MAX_NS_LEN - 4)));
        round_trip(&quotes);
        let padded = format!("<a xmlns='urn:{}'/>", "&#0000000120;".repeat(MAX_NS_LEN / 2));
        assert_eq!(Element::parse(&padded), Err(XmlError::NamespaceTooLong));
        // A long declaration nothing uses costs nothing.
        assert!(Element::parse(&format!("<a xmlns:p='{ok}xyz'/>")).is_ok());
    }

    #[test]
    fn element_count_is_bounded_by_the_frame_size() {
        let within = |n: usize| format!("<a>{}</a>", "<b/>".repeat(n));
        // 4 bytes per element: allowed up to the allowance, refused past it.
        let n = (MIN_ELEMENT_ALLOWANCE * BYTES_PER_ELEMENT) / (BYTES_PER_ELEMENT - 4) - 1;
        assert!(Element::parse(&within(n / 2)).is_ok());
        assert_eq!(Element::parse(&within(10 * n)), Err(XmlError::TooManyElements));
        // Text runs between elements count too.
        assert_eq!(Element::parse(&format!("<a>{}</a>", "t<b/>".repeat(10 * n))), Err(XmlError::TooManyElements));
        // Sixteen bytes per element: any number.
        assert!(Element::parse(&format!("<a>{}</a>", "<b c='01234567'/>".repeat(100_000))).is_ok());
    }

    #[test]
    fn errors_display_and_are_std_errors() {
        let err: Box<dyn std::error::Error> = Box::new(XmlError::UnknownEntity("x".into()));
        assert!(!err.to_string().is_empty());
    }
}
