#![cfg(not(target_arch = "wasm32"))]
//! Memory bounds of the XML parser, measured with a counting allocator: parsing any frame, well-formed or
//! refused, must never hold more than a small constant times the frame's size (plus a little). Each shape here
//! is one a hostile server or peer can send; the first is the one that used to cost L × N bytes (every empty
//! child owned a copy of a long namespace: a 65 KB frame peaked at 256 MiB).

mod support {
    pub mod alloc;
}

use natter::xmpp::framing::{self, DEFAULT_MAX_FRAME};
use natter::xmpp::xml::{Element, MAX_NS_LEN};
use support::alloc::{CountingAlloc, peak_during};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Peak bytes allowed per byte of frame.
const PER_BYTE: usize = 32;
/// Plus this much, whatever the frame: the parser's buffers, and the elements any frame may hold
/// (`MIN_ELEMENT_ALLOWANCE`, enough to nest as deep as allowed).
const FIXED: usize = 128 * 1024;

/// Frames of about `size` bytes, by name.
fn shapes(size: usize) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    // The shape: one long namespace, inherited by as many empty children as fit. Longer namespaces
    // than MAX_NS_LEN are refused; the longest allowed one must be shared, not copied into every child.
    let long = |fill: char| format!("urn:{}", fill.to_string().repeat(MAX_NS_LEN - 4));
    let ns = long('x');
    let kids = |n: usize, tag: &str| tag.repeat(n);
    out.push((
        "long namespace × many children",
        format!("<x xmlns='{ns}'>{}</x>", kids((size - ns.len()) / 4, "<y/>")),
    ));
    out.push(("too long a namespace", format!("<x xmlns='{ns}x'>{}</x>", kids(size / 8, "<y/>"))));
    // The same through a prefix, and through a namespace spelled with character references.
    out.push((
        "long prefixed namespace × many children",
        format!("<x xmlns:p='{ns}'>{}</x>", kids((size - ns.len()) / 6, "<p:y/>")),
    ));
    let escaped = format!("urn:{}", "&#120;".repeat(MAX_NS_LEN - 4));
    out.push((
        "escaped long namespace × many children",
        format!("<x xmlns='{escaped}'>{}</x>", kids(size.saturating_sub(escaped.len()) / 4, "<y/>")),
    ));
    // A hundred long namespaces bound to prefixes on the root, used in turn by the children (each child's
    // namespace differs from its parent's, so none is found by comparing with the parent).
    let decls: String = (0..100).map(|i| format!(" xmlns:p{i}='{}{i:02}'", &long('n')[2..])).collect();
    let users: String =
        (0..size.saturating_sub(decls.len()) / 24).map(|i| format!("<p{}:y a='123456789'/>", i % 100)).collect();
    out.push(("a hundred long namespaces in turn", format!("<x{decls}>{users}</x>")));
    // A long namespace in use while hundreds of others are declared around it (each used once): the parser's
    // table of names keeps the last 256, so the long one drops out and comes back, at most once per 256 others.
    let churn: String = (0..size.saturating_sub(ns.len()) / 50)
        .map(|i| format!("<y xmlns='urn:{i}' a='0'/><p:y b='0123456789'/>"))
        .collect();
    out.push(("a long namespace among many others", format!("<x xmlns:p='{ns}'>{churn}</x>")));
    // Children far enough apart to stay under the element allowance: all of them are kept, sharing one string.
    out.push((
        "long namespace × many attributed children",
        format!("<x xmlns='{ns}'>{}</x>", kids((size - ns.len()) / 19, "<y a='0123456789'/>")),
    ));
    // A namespace declared by each child (each declaration is in the frame).
    let ns_small = "n".repeat(60);
    out.push((
        "a namespace per child",
        format!("<x>{}</x>", (0..size / 80).map(|i| format!("<y xmlns='urn:{ns_small}{i}'/>")).collect::<String>()),
    ));
    // Wide: as many empty children as fit.
    out.push(("wide", format!("<x>{}</x>", "<y/>".repeat(size / 4))));
    // Deep, as deep as allowed, then wide at the bottom.
    let depth = natter::xmpp::xml::MAX_DEPTH - 1;
    out.push((
        "deep then wide",
        format!("{}{}{}", "<a>".repeat(depth), "<b/>".repeat((size - 7 * depth) / 4), "</a>".repeat(depth)),
    ));
    // Many attributes on one element, and a few on each of many elements.
    out.push(("many attributes", format!("<x {}/>", (0..size / 12).map(|i| format!("a{i}='' ")).collect::<String>())));
    out.push(("attributes on every child", format!("<x>{}</x>", "<y a='' b='' c=''/>".repeat(size / 20))));
    // Found by the fuzzer: sixteen bytes per child (as dense as allowed), each with two short attributes.
    out.push(("two attributes on every child", format!("<x>{}</x>", "<y a='1' b='2'/>".repeat(size / 16 - 20))));
    // Long names.
    let name = "n".repeat(size / 3);
    out.push(("long names", format!("<{name} {name}='v'></{name}>")));
    // Text that is mostly entities, and many text runs between elements.
    out.push(("entities", format!("<x>{}</x>", "&amp;&#x1F600;".repeat(size / 13))));
    out.push(("text runs", format!("<x>{}</x>", "t<y/>".repeat(size / 5))));
    // A stanza the client actually handles: a message with many empty extension children in a long namespace.
    out.push((
        "message with long-namespace payloads",
        format!(
            "<message xmlns='jabber:client' from='a@b/c' type='chat'><body>hi</body><z xmlns='urn:{}'>{}</z></message>",
            "z".repeat(MAX_NS_LEN - 4),
            "<w/>".repeat(size / 2 / 4)
        ),
    ));
    out
}

#[test]
fn parsing_any_frame_holds_at_most_a_constant_times_its_size() {
    // Sizes a little past a power of two as well: the most children per frame just after a vector doubled.
    for size in [4 * 1024, 64 * 1024, 67_553, 270_000] {
        for (name, frame) in shapes(size) {
            let (peak, result) = peak_during(|| Element::parse(&frame).map(drop));
            let bound = PER_BYTE * frame.len() + FIXED;
            println!(
                "{name:45} {:>7} bytes: peak {:>10} ({:>5.1}×) {result:?}",
                frame.len(),
                peak,
                peak as f64 / frame.len() as f64
            );
            assert!(peak <= bound, "{name}, {} bytes: peak {peak} > {bound} ({result:?})", frame.len());
            let (peak, _) = peak_during(|| framing::parse_frame(&frame, DEFAULT_MAX_FRAME * 2).map(drop));
            assert!(peak <= bound, "parse_frame: {name}, {} bytes: peak {peak} > {bound}", frame.len());
        }
    }
}
