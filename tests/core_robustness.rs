#![cfg(not(target_arch = "wasm32"))]
//! Hostile and broken input: every frame a server sends during a login, truncated at every byte or with
//! bytes flipped, must end in a typed outcome (an event, an error), never a panic or a hang.

mod support {
    pub mod fake;
}

use natter::xmpp::Event;
use support::fake::*;

/// The server's side of a PLAIN login plus some online traffic, frame by frame.
const SCRIPT: &[&str] = &[
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>",
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s2' version='1.0'/>",
    "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    "<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/web</jid></bind></iq>",
    "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster' ver='1'><item jid='bob@example.com' name='Bob' subscription='both'><group>G</group></item></query></iq>",
    "<presence xmlns='jabber:client' from='bob@example.com/x'><show>away</show><status>s</status><priority>3</priority></presence>",
    "<message xmlns='jabber:client' from='bob@example.com/x' type='chat' id='m'><body>hi &amp; &#x1F600;</body></message>",
    "<iq xmlns='jabber:client' type='set' id='p' from='alice@example.com'><query xmlns='jabber:iq:roster'><item jid='c@example.com'/></query></iq>",
    "<iq xmlns='jabber:client' type='get' id='q' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<presence xmlns='jabber:client' from='carol@example.com' type='subscribe'/>",
    "<message xmlns='jabber:client' from='bob@example.com' type='error' id='x'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
];

fn run(mutated_index: usize, mutated: &str) -> Vec<Event> {
    let mut h = Harness::new(plain_config());
    for (i, frame) in SCRIPT.iter().enumerate() {
        if i == mutated_index {
            h.recv(mutated);
        } else {
            h.recv(frame);
        }
        // Every outgoing frame must itself be well-formed XML.
        for out in std::mem::take(&mut h.outbox) {
            natter::xmpp::xml::Element::parse(&out).unwrap_or_else(|e| panic!("client sent invalid XML {out:?}: {e}"));
        }
        if h.client.is_closed() {
            break;
        }
    }
    h.take_events()
}

#[test]
fn the_unmutated_script_reaches_online() {
    let events = run(usize::MAX, "");
    assert!(events.iter().any(|e| matches!(e, Event::Online { .. })));
    assert!(!events.iter().any(|e| matches!(e, Event::Closed { .. })));
}

#[test]
fn every_truncation_of_every_frame_is_survived() {
    let mut closed = 0;
    for (i, frame) in SCRIPT.iter().enumerate() {
        for cut in 0..frame.len() {
            if !frame.is_char_boundary(cut) {
                continue;
            }
            let events = run(i, &frame[..cut]);
            // A truncated frame is a framing error: the session must end with a typed error.
            if events.iter().any(|e| matches!(e, Event::Closed { error: Some(_) })) {
                closed += 1;
            }
        }
    }
    let total: usize = SCRIPT.iter().map(|f| f.len()).sum();
    assert_eq!(closed, total, "every truncated frame must close the session with an error");
}

#[test]
fn flipped_bytes_never_panic() {
    // A small deterministic generator: the test is reproducible without a RNG crate.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const NASTY: &[u8] = b"<>&'\"/=:x \0\x7f";
    for _ in 0..3000 {
        let i = (next() % SCRIPT.len() as u64) as usize;
        let mut bytes = SCRIPT[i].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let pos = (next() % bytes.len() as u64) as usize;
            bytes[pos] = NASTY[(next() % NASTY.len() as u64) as usize];
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = run(i, &text); // must not panic; outgoing XML is checked inside
    }
}
