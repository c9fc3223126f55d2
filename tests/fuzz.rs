#![cfg(not(target_arch = "wasm32"))]
//! A structure-aware fuzzer of the core, deterministic from a seed: XMPP-shaped frames from a small grammar
//! (stream open and close, features, SASL, iq, message, presence, stream errors, nonzas, with random
//! attributes, namespaces and prefixes, nesting, entities, CDATA and awkward Unicode), some of them then
//! mutated byte by byte, fed to `parse_frame` and to an online `Client` (logged in through the scripted server
//! of `support/fake.rs`, and again whenever a frame ended its session).
//!
//! For every frame it checks: no panic; memory bounded by the frame's size (peak heap while parsing and while
//! the client handles it, from the counting allocator); work bounded by the frame's size (heap allocations,
//! counted in calls and in bytes, per frame); output bounded (events and bytes sent per frame); everything the
//! client sends is well-formed XML; a parsed tree serializes and parses back to itself; a JID that parses
//! displays as a string that parses back to the same JID; and no redirect the transport would follow drops
//! `wss://` or leaves the host before the server proved itself. A long-lived client fed only well-formed
//! stanzas must not grow without bound.
//!
//! `cargo test` runs 20,000 frames (seed 1). More, and another seed:
//! `NATTER_FUZZ_FRAMES=1000000 NATTER_FUZZ_SEED=7 cargo test --profile fuzz --test fuzz -- --nocapture`
//! (`scripts/fuzz.sh` does that). A failure prints the seed, the frame's number and the frame.

mod support {
    pub mod alloc;
    pub mod fake;
}

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use natter::transport::url::{check_redirect, is_secure_url};
use natter::xmpp::framing::{DEFAULT_MAX_FRAME, parse_frame};
use natter::xmpp::jid::Jid;
use natter::xmpp::xml::Element;
use support::alloc::{CountingAlloc, live, peak, reset_peak};
use support::fake::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

// ---- a small deterministic generator ------------------------------------------------------------------

/// SplitMix64: tiny, fast, and good enough to pick grammar rules (not for anything secret).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const NAMESPACES: &[&str] = &[
    "jabber:client",
    "http://etherx.jabber.org/streams",
    "urn:ietf:params:xml:ns:xmpp-framing",
    "urn:ietf:params:xml:ns:xmpp-sasl",
    "urn:ietf:params:xml:ns:xmpp-streams",
    "urn:ietf:params:xml:ns:xmpp-stanzas",
    "urn:ietf:params:xml:ns:xmpp-bind",
    "jabber:iq:roster",
    "urn:xmpp:ping",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/chatstates",
    "urn:xmpp:carbons:2",
    "urn:xmpp:forward:0",
    "urn:xmpp:delay",
    "urn:xmpp:sm:3",
    "",
    "urn:x-fuzz",
];

/// Frames grow to about this many bytes at most (the core's default limit is 256 KiB).
const FRAME_BUDGET: usize = 200 * 1024;

const JIDS: &[&str] = &[
    "alice@example.com",
    "alice@example.com/web",
    "alice@example.com/other",
    "example.com",
    "bob@example.com",
    "bob@example.com/phone",
    "bob@example.com/desk",
    "carol@example.net",
    "carol@example.net/x",
    "Bob@EXAMPLE.com/Phone",
    "m@\u{FF3B}a\u{FF3D}\u{FF0F}b\u{FF3D}",
    "m@[::1]/r",
    "m@[a]",
    "a@b@c",
    "@example.com",
    "user@",
    "us er@example.com",
    "x@\u{0661}\u{0041}.com",
    "\u{FF41}\u{FF20}example.com/\u{202E}r",
    "",
];

const WORDS: &[&str] = &[
    "hi",
    "Wherefore art thou",
    "chat",
    "away",
    "dnd",
    "xa",
    "both",
    "to",
    "from",
    "none",
    "remove",
    "subscribe",
    "result",
    "error",
    "get",
    "set",
    "cancel",
    "modify",
    "PLAIN",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "=",
    "1.0",
    "en",
    "-1",
    "127",
    "128",
    "99999999999",
    "t-1",
    "t-2",
    "http://x/y",
    "wss://other.example.com/ws",
    "ws://localhost/ws",
];

/// Entities and characters that are fine in XML text, awkward as they may be.
const PIECES: &[&str] = &[
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&apos;",
    "&#65;",
    "&#x1F600;",
    "&#x202E;",
    ">",
    "\u{e9}",
    "\u{4E2D}",
    "\u{1F642}",
    "\u{202E}",
    "\u{200B}",
    "\u{FF20}",
    "\u{FF0F}",
    "\u{FFFD}",
    "\u{301}",
    "\r\n",
    "\t",
    " ",
    "'",
    "\"",
    "<![CDATA[<&>]]>",
];

/// And some that are not.
const BAD_PIECES: &[&str] = &["&#1;", "&#xFFFE;", "&#0;", "&nbsp;", "&", "<", "]]>", "\u{1}", "\u{FFFE}", "&#xD800;"];

/// Text: words, entities and awkward characters; now and then long.
fn text(r: &mut Rng) -> String {
    let mut s = String::new();
    let n = if r.chance(2) { 200 + r.below(4000) } else { r.below(6) };
    for _ in 0..n {
        if r.below(1000) < 3 {
            s.push_str(r.pick(BAD_PIECES));
        } else if r.chance(30) {
            s.push_str(r.pick(PIECES));
        } else {
            s.push_str(r.pick(WORDS));
        }
        if r.chance(50) {
            s.push(' ');
        }
    }
    if r.chance(5) {
        s = format!("<![CDATA[{s}]]>").replace("]]>]]>", "]]>");
    }
    s
}

/// An attribute value (escaped for its quote, mostly).
fn value(r: &mut Rng, quote: char) -> String {
    let raw = if r.chance(40) { jid(r) } else { text(r) };
    if r.below(1000) < 995 {
        raw.replace('<', "&lt;").replace(quote, if quote == '\'' { "&apos;" } else { "&quot;" })
    } else {
        raw
    }
}

struct Out {
    s: String,
}

impl Out {
    fn attr(&mut self, r: &mut Rng, key: &str, val: &str) {
        let q = if r.chance(70) { '\'' } else { '"' };
        let sp = if r.chance(95) { " " } else { "\n\t " };
        self.s.push_str(&format!("{sp}{key}={q}{val}{q}"));
    }

    fn random_attrs(&mut self, r: &mut Rng) {
        for _ in 0..r.below(3) {
            let key =
                r.pick(&["to", "from", "id", "type", "xml:lang", "x", "jid", "name", "subscription", "ver", "p:q"]);
            let q = if r.chance(70) { '\'' } else { '"' };
            let v = value(r, q);
            self.attr(r, key, &v);
        }
    }

    /// `<name xmlns=ns …>children</name>`, with the namespace written as a default or through a prefix.
    fn element(
        &mut self,
        r: &mut Rng,
        ns: &str,
        name: &str,
        attrs: &[(&str, String)],
        depth: usize,
        children: impl FnOnce(&mut Out, &mut Rng),
    ) {
        let prefixed = r.chance(10);
        let qname = if prefixed { format!("p{}:{name}", r.below(3)) } else { name.to_owned() };
        self.s.push('<');
        self.s.push_str(&qname);
        if prefixed {
            let p = &qname[..qname.find(':').unwrap()];
            self.attr(r, &format!("xmlns:{p}"), ns);
        } else if !ns.is_empty() || r.chance(10) {
            self.attr(r, "xmlns", ns);
        }
        for (k, v) in attrs {
            self.attr(r, k, v);
        }
        if r.chance(5) {
            self.random_attrs(r);
        }
        if r.chance(10) || self.s.len() > FRAME_BUDGET {
            self.s.push_str("/>");
            return;
        }
        self.s.push('>');
        children(self, r);
        if r.chance(10) {
            self.random_child(r, depth + 1);
        }
        self.s.push_str(&format!("</{qname}>"));
    }

    fn text_child(&mut self, r: &mut Rng, ns: &str, name: &str, depth: usize) {
        let t = text(r);
        self.element(r, ns, name, &[], depth, |o, _| o.s.push_str(&t));
    }

    /// Any element: a random name in a random namespace, with random children; now and then very wide (flat)
    /// or deep. Frames stop growing at about [`FRAME_BUDGET`] bytes.
    fn random_child(&mut self, r: &mut Rng, depth: usize) {
        let wide = r.below(1000) < 3;
        // A wide element in a long namespace is the shape that once cost the namespace's length per child.
        let ns = &if wide && r.chance(50) { format!("urn:{}", "w".repeat(200 + r.below(100))) } else { namespace(r) };
        let name = r.pick(&["x", "body", "item", "query", "error", "text", "r", "a", "c", "group", "feature"]);
        let deep = !wide && r.chance(3);
        self.element(r, ns, name, &[], depth, |o, r| {
            if wide {
                let child = r.pick(&["<y/>", "t<y/>", "<p:y xmlns:p='urn:x'/>", "<y a='1' b='2'/>"]);
                o.s.push_str(&child.repeat(1 + r.below(FRAME_BUDGET / child.len())));
                return;
            }
            for _ in 0..if deep { 1 } else { r.below(3) } {
                if o.s.len() > FRAME_BUDGET {
                    return;
                }
                if depth < 300 && (deep || r.chance(30)) {
                    o.random_child(r, depth + 1);
                } else if r.chance(50) {
                    o.s.push_str("<y/>");
                } else {
                    o.s.push_str(&text(r));
                }
            }
        });
    }
}

/// A JID: a fixed set of the usual and the awkward, or one of many resources of a contact or many strangers
/// (what a peer would use to grow the client's per-peer state).
fn jid(r: &mut Rng) -> String {
    match r.below(10) {
        0 => format!("bob@example.com/r{}", r.below(100_000)),
        1 => format!("s{}@example.net/x", r.below(100_000)),
        _ => r.pick(JIDS).to_string(),
    }
}

/// A namespace: mostly the usual ones, now and then a long one of its own (up to past the parser's limit).
fn namespace(r: &mut Rng) -> String {
    if r.chance(2) {
        format!("urn:{}:{}", "n".repeat(r.below(300)), r.below(10))
    } else {
        r.pick(NAMESPACES).to_string()
    }
}

/// One frame from the grammar.
fn frame(r: &mut Rng) -> String {
    let mut o = Out { s: String::new() };
    let d = 0;
    // Stanzas most of the time: the frames that end an online session (stream-level ones, SASL) cost a fresh
    // login each.
    match r.below(30) {
        0 => {
            let attrs = [("from", jid(r)), ("id", text(r)), ("version", "1.0".to_owned())];
            o.element(r, "urn:ietf:params:xml:ns:xmpp-framing", "open", &attrs, d, |_, _| {});
        }
        1 => {
            let attrs: Vec<(&str, String)> =
                if r.chance(50) { vec![("see-other-uri", r.pick(WORDS).to_string())] } else { vec![] };
            o.element(r, "urn:ietf:params:xml:ns:xmpp-framing", "close", &attrs, d, |_, _| {});
        }
        2 => o.element(r, "http://etherx.jabber.org/streams", "features", &[], d, |o, r| {
            o.element(r, "urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms", &[], d + 1, |o, r| {
                for _ in 0..r.below(4) {
                    o.text_child(r, "urn:ietf:params:xml:ns:xmpp-sasl", "mechanism", d + 2);
                }
            });
            o.element(r, "urn:ietf:params:xml:ns:xmpp-bind", "bind", &[], d + 1, |_, _| {});
            o.element(r, "urn:xmpp:sm:3", "sm", &[], d + 1, |_, _| {});
        }),
        3 => {
            let name = r.pick(&["challenge", "success", "failure", "abort"]);
            o.element(r, "urn:ietf:params:xml:ns:xmpp-sasl", name, &[], d, |o, r| {
                if r.chance(50) {
                    o.s.push_str(r.pick(&[
                        "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=",
                        "=",
                        "not base64!",
                        "dj0=",
                    ]));
                } else {
                    o.text_child(r, "urn:ietf:params:xml:ns:xmpp-sasl", "not-authorized", d + 1);
                }
            });
        }
        4..=9 => {
            let attrs = [
                ("type", r.pick(&["get", "set", "result", "error", "x"]).to_string()),
                ("id", r.pick(&["t-1", "t-2", "t-3", "q"]).to_string()),
                ("from", jid(r)),
            ];
            o.element(r, "jabber:client", "iq", &attrs, d, |o, r| match r.below(5) {
                0 => o.element(r, "jabber:iq:roster", "query", &[("ver", "v1".into())], d + 1, |o, r| {
                    let n = if r.chance(3) { 2000 } else { r.below(4) };
                    for _ in 0..n {
                        let attrs = [
                            ("jid", jid(r)),
                            ("subscription", r.pick(&["both", "to", "from", "none", "remove", "x"]).to_string()),
                            ("name", text(r)),
                        ];
                        o.element(r, "jabber:iq:roster", "item", &attrs, d + 2, |o, r| {
                            o.text_child(r, "jabber:iq:roster", "group", d + 3)
                        });
                    }
                }),
                1 => o.element(r, "urn:xmpp:ping", "ping", &[], d + 1, |_, _| {}),
                2 => {
                    let node = [("node", text(r))];
                    o.element(r, "http://jabber.org/protocol/disco#info", "query", &node, d + 1, |_, _| {})
                }
                3 => o.element(r, "urn:ietf:params:xml:ns:xmpp-bind", "bind", &[], d + 1, |o, r| {
                    o.text_child(r, "urn:ietf:params:xml:ns:xmpp-bind", "jid", d + 2)
                }),
                _ => o.random_child(r, d + 1),
            });
        }
        10..=17 => {
            let attrs = [
                ("type", r.pick(&["chat", "normal", "error", "groupchat", "headline", "x"]).to_string()),
                ("from", jid(r)),
                ("to", jid(r)),
                ("id", text(r)),
            ];
            let carbon = r.chance(20);
            o.element(r, "jabber:client", "message", &attrs, d, |o, r| {
                let body = |o: &mut Out, r: &mut Rng, depth: usize| {
                    o.text_child(r, "jabber:client", "body", depth);
                    if r.chance(30) {
                        o.text_child(r, "jabber:client", "subject", depth);
                    }
                    let state = r.pick(&["active", "composing", "paused", "inactive", "gone", "x"]);
                    o.element(r, "http://jabber.org/protocol/chatstates", state, &[], depth, |_, _| {});
                    if r.chance(20) {
                        let stamp = [("stamp", text(r))];
                        o.element(r, "urn:xmpp:delay", "delay", &stamp, depth, |_, _| {});
                    }
                    if r.chance(20) {
                        o.element(r, "jabber:client", "error", &[("type", "cancel".into())], depth, |o, r| {
                            o.element(
                                r,
                                "urn:ietf:params:xml:ns:xmpp-stanzas",
                                "item-not-found",
                                &[],
                                depth + 1,
                                |_, _| {},
                            );
                            o.text_child(r, "urn:ietf:params:xml:ns:xmpp-stanzas", "text", depth + 1);
                        });
                    }
                };
                if carbon {
                    let dir = r.pick(&["sent", "received"]);
                    o.element(r, "urn:xmpp:carbons:2", dir, &[], d + 1, |o, r| {
                        o.element(r, "urn:xmpp:forward:0", "forwarded", &[], d + 2, |o, r| {
                            let inner = [("from", jid(r)), ("to", jid(r)), ("type", "chat".to_owned())];
                            o.element(r, "jabber:client", "message", &inner, d + 3, |o, r| body(o, r, d + 4));
                        });
                    });
                } else {
                    body(o, r, d + 1);
                }
            });
        }
        18..=25 => {
            let mut attrs = vec![("from", jid(r))];
            if r.chance(50) {
                attrs.push((
                    "type",
                    r.pick(&[
                        "unavailable",
                        "subscribe",
                        "subscribed",
                        "unsubscribe",
                        "unsubscribed",
                        "probe",
                        "error",
                        "x",
                    ])
                    .to_string(),
                ));
            }
            o.element(r, "jabber:client", "presence", &attrs, d, |o, r| {
                if r.chance(50) {
                    o.text_child(r, "jabber:client", "show", d + 1);
                }
                if r.chance(50) {
                    o.text_child(r, "jabber:client", "status", d + 1);
                }
                if r.chance(50) {
                    let p = r.pick(&["0", "5", "-128", "127", "300", "x"]).to_string();
                    o.element(r, "jabber:client", "priority", &[], d + 1, |o, _| o.s.push_str(&p));
                }
            });
        }
        26 => o.element(r, "http://etherx.jabber.org/streams", "error", &[], d, |o, r| {
            let cond = r.pick(&["conflict", "see-other-host", "system-shutdown", "x y"]);
            o.text_child(r, "urn:ietf:params:xml:ns:xmpp-streams", cond, d + 1);
            o.text_child(r, "urn:ietf:params:xml:ns:xmpp-streams", "text", d + 1);
        }),
        _ => o.random_child(r, d),
    }
    if r.chance(3) {
        o.s = format!("<?xml version='1.0'?>{}", o.s);
    }
    o.s
}

/// Byte mutations: flips, nasty bytes, deletions, duplications, truncation, splices.
fn mutate(r: &mut Rng, frame: &str, other: &str) -> String {
    let mut b = frame.as_bytes().to_vec();
    const NASTY: &[u8] = b"<>&;'\"/=:x \0\x7f\xff\xc3\xef\xbf\xbe#[]!?-";
    for _ in 0..1 + r.below(4) {
        if b.is_empty() {
            break;
        }
        let i = r.below(b.len());
        match r.below(6) {
            0 => b[i] = r.pick(NASTY),
            1 => b.insert(i, r.pick(NASTY)),
            2 => {
                let end = (i + 1 + r.below(16)).min(b.len());
                b.drain(i..end);
            }
            3 => {
                let end = (i + 1 + r.below(32)).min(b.len());
                let piece = b[i..end].to_vec();
                b.splice(i..i, piece);
            }
            4 => b.truncate(i),
            _ => {
                let o = other.as_bytes();
                if !o.is_empty() {
                    let j = r.below(o.len());
                    b.splice(i..i, o[j..(j + 1 + r.below(64)).min(o.len())].iter().copied());
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

// ---- the checks -----------------------------------------------------------------------------------------

/// Heap bytes parsing a frame may hold at once (as in `tests/xml_memory.rs`), the client handling it too, and
/// both may allocate in all, per byte of frame (plus a constant).
const PARSE_PEAK_PER_BYTE: usize = 32;
const PARSE_PEAK_FIXED: usize = 128 * 1024;
const CLIENT_PEAK_PER_BYTE: usize = 64;
const CLIENT_PEAK_FIXED: usize = 256 * 1024;
const ALLOCATED_PER_BYTE: usize = 128;
const ALLOCATED_FIXED: usize = 1024 * 1024;
/// Allocation calls per byte of frame (plus a constant): the work the frame caused.
const CALLS_PER_BYTE: usize = 2;
const CALLS_FIXED: usize = 4096;
/// Events and bytes sent per frame.
const MAX_EVENTS: usize = 8;
const SENT_PER_BYTE: usize = 4;
const SENT_FIXED: usize = 4096;

#[derive(Default)]
struct Stats {
    frames: usize,
    parsed: usize,
    logins: usize,
    /// Frames of 64 KiB or more, and the worst ratios to their size seen in them.
    big: usize,
    worst_peak: f64,
    worst_calls: f64,
    worst_allocated: f64,
}

fn online() -> Harness {
    Harness::online_plain(
        "<item jid='bob@example.com' subscription='both'/><item jid='carol@example.net' subscription='from'/>",
    )
}

/// Checks one frame against the parser and the client. Panics (with a message) on any violation. Returns
/// whether the frame is a well-formed stanza.
fn check(frame: &str, h: &mut Harness, stats: &mut Stats) -> bool {
    let len = frame.len();

    // The parser: bounded memory and work; a tree it returns serializes and parses back to itself.
    let base = live();
    reset_peak();
    let (calls0, bytes0) = support::alloc::totals();
    let parsed = parse_frame(frame, DEFAULT_MAX_FRAME);
    let (calls1, bytes1) = support::alloc::totals();
    let held = peak() - base;
    assert!(
        held <= PARSE_PEAK_PER_BYTE * len + PARSE_PEAK_FIXED,
        "parse_frame held {held} bytes for a {len}-byte frame"
    );
    assert!(calls1 - calls0 <= CALLS_PER_BYTE * len + CALLS_FIXED, "parse_frame: {} allocations", calls1 - calls0);
    assert!(
        bytes1 - bytes0 <= ALLOCATED_PER_BYTE * len + ALLOCATED_FIXED,
        "parse_frame: {} bytes allocated",
        bytes1 - bytes0
    );
    if len >= 64 * 1024 {
        stats.big += 1;
        stats.worst_peak = stats.worst_peak.max(held as f64 / len as f64);
        stats.worst_calls = stats.worst_calls.max((calls1 - calls0) as f64 / len as f64);
        stats.worst_allocated = stats.worst_allocated.max((bytes1 - bytes0) as f64 / len as f64);
    }
    use natter::xmpp::framing::Frame;
    let stanza = matches!(parsed, Ok(Frame::Stanza(_)));
    let element = match parsed {
        Ok(Frame::Features(el) | Frame::Sasl(el) | Frame::Stanza(el) | Frame::Nonza(el)) => Some(el),
        _ => None,
    };
    if let Some(el) = element {
        stats.parsed += 1;
        let xml = el.to_xml();
        assert_eq!(Element::parse(&xml).as_ref(), Ok(&el), "does not round-trip through {xml:?}");
        // JIDs in the root's attributes display as what they parse from.
        for (_, v) in &el.attrs {
            if let Ok(j) = Jid::parse(v) {
                assert_eq!(Jid::parse(&j.to_string()), Ok(j.clone()), "JID {v:?} shown as {j}");
            }
            // Redirects: never a downgrade, never another host before the server proved itself.
            for verified in [false, true] {
                if let Ok(url) = check_redirect("wss://example.com/ws", v, verified, 0) {
                    assert!(is_secure_url(&url), "followed {v:?} from wss to {url}");
                    assert!(
                        verified || url.to_ascii_lowercase().starts_with("wss://example.com"),
                        "followed {v:?} to {url}"
                    );
                }
            }
        }
    }

    // The online client: bounded memory, work and output; only well-formed XML goes out.
    let base = live();
    reset_peak();
    let (calls0, _) = support::alloc::totals();
    h.recv(frame);
    let (calls1, _) = support::alloc::totals();
    let held = peak() - base;
    assert!(
        held <= CLIENT_PEAK_PER_BYTE * len + CLIENT_PEAK_FIXED,
        "the client held {held} bytes for a {len}-byte frame"
    );
    assert!(calls1 - calls0 <= CALLS_PER_BYTE * len + CALLS_FIXED, "the client: {} allocations", calls1 - calls0);
    let events = h.take_events();
    assert!(events.len() <= MAX_EVENTS, "{} events for one frame: {events:?}", events.len());
    let sent: usize = h.outbox.iter().map(String::len).sum();
    assert!(sent <= SENT_PER_BYTE * len + SENT_FIXED, "{sent} bytes sent for a {len}-byte frame");
    for out in std::mem::take(&mut h.outbox) {
        if let Err(e) = Element::parse(&out) {
            panic!("the client sent invalid XML ({e}): {out:?}");
        }
    }
    if h.client.is_closed() {
        *h = online();
        stats.logins += 1;
    }
    stats.frames += 1;
    stanza
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

#[test]
fn fuzz_the_parser_and_an_online_client() {
    let frames = env("NATTER_FUZZ_FRAMES", 20_000);
    let seed = env("NATTER_FUZZ_SEED", 1);
    let mut r = Rng(seed);
    let mut h = online();
    // A second client sees only well-formed stanzas (no frame ends its session): it must not grow for ever.
    let mut steady = online();
    let steady_base = live();
    let mut stats = Stats::default();
    let mut previous = frame(&mut r);
    for n in 0..frames {
        let generated = frame(&mut r);
        let mutated = r.chance(30);
        let input = if mutated { mutate(&mut r, &generated, &previous) } else { generated.clone() };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let stanza = check(&input, &mut h, &mut stats);
            if !mutated && stanza {
                steady.recv(&input);
                steady.take_events();
                steady.outbox.clear();
                if steady.client.is_closed() {
                    steady = online();
                }
            }
        }));
        if let Err(panic) = outcome {
            let shown: String = input.chars().take(2000).collect();
            eprintln!("fuzz: seed {seed}, frame {n} ({} bytes, mutated: {mutated}) failed:\n{shown}", input.len());
            resume_unwind(panic);
        }
        previous = generated;
    }
    let steady_held = live().saturating_sub(steady_base);
    println!(
        "fuzz: seed {seed}: {} frames ({} parsed, {} of 64 KiB or more), {} fresh logins; parsing a frame of 64 KiB or more \
         held at most {:.1}× its size, allocated {:.1}× its size in {:.2} calls per byte; the steady client holds \
         {steady_held} bytes more than at the start",
        stats.frames, stats.parsed, stats.big, stats.logins, stats.worst_peak, stats.worst_allocated, stats.worst_calls
    );
    assert_eq!(stats.frames as u64, frames);
    // What may legitimately grow: the roster (pushes from our own account), the capped per-peer sets and the
    // de-duplication memory (digests, capped at a fixed size). A byte per frame is far above the rest and far
    // below what unbounded per-peer state grows by (about 8 bytes per frame with the fuzzer's many resources
    // and strangers).
    let steady_bound = 64 * 1024 + frames as usize + natter::xmpp::client::SeenMessages::MAX_HEAP_BYTES;
    assert!(steady_held < steady_bound, "a client fed only well-formed stanzas grew by {steady_held} bytes");
}
