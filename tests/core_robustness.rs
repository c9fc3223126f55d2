#![cfg(not(target_arch = "wasm32"))]
//! Hostile and broken input: every frame a server sends during a login (legacy PLAIN, SASL2 with a FAST
//! token, PLAIN with a catch-up from the archive, and PLAIN rejoining a room caught up from its archive), truncated at every byte or with bytes flipped, must end
//! in a typed outcome (an event, an error), never a panic or a hang.

mod support {
    pub mod fake;
}

use natter::xmpp::Event;
use support::fake::*;

/// The server's frames of a PLAIN login up to the bind result (`alice@example.com/web`), then `$rest`.
macro_rules! after_plain_login {
    ($($rest:expr),* $(,)?) => {
        &[
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>",
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s2' version='1.0'/>",
            "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
            "<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/web</jid></bind></iq>",
            $($rest),*
        ]
    };
}

/// The server's side of a PLAIN login plus some online traffic, frame by frame.
const SCRIPT: &[&str] = after_plain_login![
    "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster' ver='1'><item jid='bob@example.com' name='Bob' subscription='both'><group>G</group></item></query></iq>",
    "<presence xmlns='jabber:client' from='bob@example.com/x'><show>away</show><status>s</status><priority>3</priority></presence>",
    "<message xmlns='jabber:client' from='bob@example.com/x' type='chat' id='m'><body>hi &amp; &#x1F600;</body></message>",
    "<iq xmlns='jabber:client' type='set' id='p' from='alice@example.com'><query xmlns='jabber:iq:roster'><item jid='c@example.com'/></query></iq>",
    "<iq xmlns='jabber:client' type='get' id='q' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<presence xmlns='jabber:client' from='carol@example.com' type='subscribe'/>",
    "<message xmlns='jabber:client' from='bob@example.com' type='error' id='x'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
];

/// The server's side of a FAST login (SASL2 + Bind2, a rotated token) with the same online traffic.
const FAST_SCRIPT: &[&str] = &[
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>",
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'><authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-1</mechanism><inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/></inline></bind><fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast></inline></authentication></stream:features>",
    // The responder hash Prosody 13 sent for FAST_TOKEN (captured on the wire).
    "<success xmlns='urn:xmpp:sasl:2'><additional-data>z0Pl2HhOSh2K9t59O0D/vxnTKwbTSPmwF1Lx5jlPvnw=</additional-data><bound xmlns='urn:xmpp:bind:0'/><token xmlns='urn:xmpp:fast:0' expiry='2027-01-03T23:52:00Z' token='next-token'/><authorization-identifier>user@example.com/Natter.x</authorization-identifier></success>",
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>",
    "<iq xmlns='jabber:client' type='result' id='t-1'><query xmlns='jabber:iq:roster' ver='1'><item jid='bob@example.com' name='Bob' subscription='both'><group>G</group></item></query></iq>",
    "<presence xmlns='jabber:client' from='bob@example.com/x'><show>away</show><status>s</status><priority>3</priority></presence>",
    "<message xmlns='jabber:client' from='bob@example.com/x' type='chat' id='m'><body>hi &amp; &#x1F600;</body></message>",
    "<iq xmlns='jabber:client' type='get' id='q' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
];
const FAST_TOKEN: &str = "secret-token:fast-xQeB7xxFOTqjNYobUtYqCrA4Ib63Inu5gmxZ";

fn fast_config() -> natter::xmpp::Config {
    let mut c = modern_config();
    let token = natter::xmpp::sasl::FastToken::issued(natter::xmpp::sasl::Mechanism::HtSha256None, FAST_TOKEN, None);
    c.credentials = natter::xmpp::sasl::Credentials::Token(token.unwrap());
    c
}

/// The same login with a catch-up from the archive (XEP-0313): its features, two pages of results (stamps in
/// seconds, microseconds and with an offset), their ends, then a live message the archive also has.
const MAM_SCRIPT: &[&str] = after_plain_login![
    "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>",
    "<iq xmlns='jabber:client' type='result' id='t-3'/>",
    "<iq xmlns='jabber:client' type='result' id='t-4' from='alice@example.com'><query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:mam:2'/><feature var='urn:xmpp:mam:2#extended'/></query></iq>",
    "<message xmlns='jabber:client' to='alice@example.com/web'><result xmlns='urn:xmpp:mam:2' queryid='t-mam1' id='a1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:01:00Z'/><message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com' type='chat' id='m1'><body>one &amp; &#x1F600;</body><origin-id xmlns='urn:xmpp:sid:0' id='m1'/></message></forwarded></result></message>",
    "<message xmlns='jabber:client' to='alice@example.com/web' from='alice@example.com'><result xmlns='urn:xmpp:mam:2' queryid='t-mam1' id='a2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@example.com/phone' to='bob@example.com' type='chat' id='m2'><body>two</body></message><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:02:00.123456Z'/></forwarded></result></message>",
    "<iq xmlns='jabber:client' type='result' id='t-5'><fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><first>a1</first><last>a2</last><count>3</count></set></fin></iq>",
    "<message xmlns='jabber:client' to='alice@example.com/web'><result xmlns='urn:xmpp:mam:2' queryid='t-mam2' id='a3'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T02:03:00+02:00'/><message xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com' type='chat' id='m3'><body>three</body></message></forwarded></result></message>",
    "<iq xmlns='jabber:client' type='result' id='t-6'><fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><first>a3</first><last>a3</last><count>3</count></set></fin></iq>",
    "<message xmlns='jabber:client' from='bob@example.com/x' type='chat' id='m3'><body>three</body><stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='a3'/></message>",
];

/// A login that rejoins a room (from the previous session) and catches up with the room's archive from the
/// id it held: the room's answers, one page (an own message, one by another occupant), then their live copies
/// and a new live message.
const ROOM_SCRIPT: &[&str] = after_plain_login![
    "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>",
    "<iq xmlns='jabber:client' type='result' id='t-3'/>",
    "<iq xmlns='jabber:client' type='result' id='t-4' from='alice@example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    "<presence xmlns='jabber:client' from='coven@chat.example.com/firstwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>",
    "<presence xmlns='jabber:client' from='coven@chat.example.com/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>",
    "<message xmlns='jabber:client' from='coven@chat.example.com' to='alice@example.com/web'><result xmlns='urn:xmpp:mam:2' queryid='t-mam1' id='r1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:01:00Z'/><message xmlns='jabber:client' from='coven@chat.example.com/firstwitch' type='groupchat' id='m1'><body>one &amp; &#x1F600;</body><origin-id xmlns='urn:xmpp:sid:0' id='m1'/></message></forwarded></result></message>",
    "<message xmlns='jabber:client' from='coven@chat.example.com' to='alice@example.com/web'><result xmlns='urn:xmpp:mam:2' queryid='t-mam1' id='r2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='coven@chat.example.com/thirdwitch' type='groupchat' id='m2'><stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.example.com' id='r2'/><body>two</body></message><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:02:00.123456Z'/></forwarded></result></message>",
    "<iq xmlns='jabber:client' type='result' id='t-5' from='coven@chat.example.com'><fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><first>r1</first><last>r2</last><count>2</count></set></fin></iq>",
    "<message xmlns='jabber:client' from='coven@chat.example.com/firstwitch' type='groupchat' id='m1'><body>one &amp; &#x1F600;</body><stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.example.com' id='r1'/></message>",
    "<message xmlns='jabber:client' from='coven@chat.example.com/firstwitch' type='groupchat' id='m3'><body>three</body><stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.example.com' id='r3'/></message>",
];

fn in_a_room() -> natter::xmpp::Config {
    let mut c = plain_config();
    c.history.catch_up = true;
    c.rooms = vec![natter::xmpp::client::SavedRoom {
        room: natter::xmpp::jid::BareJid::parse("coven@chat.example.com").unwrap(),
        nick: "thirdwitch".into(),
        password: None,
        last_stanza_id: Some("r0".into()),
        info: Some(natter::xmpp::stanza::muc::RoomInfo { mam: true, ..Default::default() }),
    }];
    c
}

fn catching_up() -> natter::xmpp::Config {
    let mut c = plain_config();
    c.history = natter::xmpp::client::HistoryConfig { last_id: Some("a0".into()), ..Default::default() };
    c
}

/// A server's frames, and the config of the client that logs in with them.
type Script = (&'static [&'static str], fn() -> natter::xmpp::Config);

/// The scripts, each with the config that logs in with it.
fn scripts() -> [Script; 4] {
    [(SCRIPT, plain_config), (FAST_SCRIPT, fast_config), (MAM_SCRIPT, catching_up), (ROOM_SCRIPT, in_a_room)]
}

fn run_script(
    script: &[&str],
    config: fn() -> natter::xmpp::Config,
    mutated_index: usize,
    mutated: &str,
) -> Vec<Event> {
    let mut h = Harness::new(config());
    for (i, frame) in script.iter().enumerate() {
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
fn the_unmutated_scripts_reach_online() {
    for (script, config) in scripts() {
        let events = run_script(script, config, usize::MAX, "");
        assert!(events.iter().any(|e| matches!(e, Event::Online { .. })), "{events:?}");
        assert!(!events.iter().any(|e| matches!(e, Event::Closed { .. })));
    }
}

#[test]
fn the_unmutated_catch_up_script_shows_each_message_once() {
    let events = run_script(MAM_SCRIPT, catching_up, usize::MAX, "");
    let archived: usize = events.iter().map(|e| if let Event::ArchivePage(p) = e { p.messages.len() } else { 0 }).sum();
    assert_eq!(archived, 3);
    assert!(events.iter().any(|e| matches!(e, Event::CaughtUp)));
    assert!(!events.iter().any(|e| matches!(e, Event::Message(_))), "the live copy of an archived message");
}

#[test]
fn the_unmutated_room_script_shows_each_message_once() {
    use natter::xmpp::client::RoomEvent;
    let events = run_script(ROOM_SCRIPT, in_a_room, usize::MAX, "");
    let archived: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| if let Event::ArchivePage(p) = e { Some(p) } else { None })
        .flat_map(|p| p.messages.iter().map(|m| (m.message.body(None).unwrap().to_owned(), m.outgoing)))
        .collect();
    assert_eq!(archived, [("one & 😀".to_owned(), false), ("two".to_owned(), true)]);
    let live: Vec<&str> = events
        .iter()
        .filter_map(|e| if let Event::Room(RoomEvent::Message(m)) = e { m.message.body(None) } else { None })
        .collect();
    assert_eq!(live, ["three"], "the live copy of an archived message is not shown again");
    assert!(events.iter().any(|e| matches!(e, Event::Room(RoomEvent::CaughtUp { .. }))));
}

#[test]
fn every_truncation_of_every_frame_is_survived() {
    for (script, config) in scripts() {
        let mut closed = 0;
        for (i, frame) in script.iter().enumerate() {
            for cut in 0..frame.len() {
                if !frame.is_char_boundary(cut) {
                    continue;
                }
                let events = run_script(script, config, i, &frame[..cut]);
                // A truncated frame is a framing error: the session must end with a typed error.
                if events.iter().any(|e| matches!(e, Event::Closed { error: Some(_) })) {
                    closed += 1;
                }
            }
        }
        let total: usize = script.iter().map(|f| f.len()).sum();
        assert_eq!(closed, total, "every truncated frame must close the session with an error");
    }
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
    for round in 0..9000 {
        let (script, config) = scripts()[round % 4];
        let i = (next() % script.len() as u64) as usize;
        let mut bytes = script[i].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let pos = (next() % bytes.len() as u64) as usize;
            bytes[pos] = NASTY[(next() % NASTY.len() as u64) as usize];
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let _ = run_script(script, config, i, &text); // must not panic; outgoing XML is checked inside
    }
}
