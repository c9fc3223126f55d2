#![cfg(not(target_arch = "wasm32"))]
//! Stream management (XEP-0198), ids and de-duplication (XEP-0359), receipts and markers (XEP-0184, XEP-0333),
//! client state (XEP-0352) and late timers, driven by a scripted fake server in virtual time.

mod support {
    pub mod fake;
}

use std::time::Duration;

use natter::xmpp::client::{ClientError, WallClock};
use natter::xmpp::jid::BareJid;
use natter::xmpp::xml::Element;
use natter::xmpp::{Command, CommandError, Config, Event};
use support::fake::*;

const SM_NS: &str = "urn:xmpp:sm:3";
const SM: &str = "<sm xmlns='urn:xmpp:sm:3'/>";
const CSI: &str = "<csi xmlns='urn:xmpp:csi:0'/>";
const BOB_BOTH: &str =
    "<item jid='bob@example.com' subscription='both'/><item jid='tom@example.com' subscription='to'/>";

fn send(h: &mut Harness, id: &str, body: &str) -> Result<(), CommandError> {
    h.command(Command::SendMessage { to: jid("bob@example.com"), body: body.into(), id: id.into() })
}

fn acked(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| if let Event::MessageAcked { id } = e { Some(id.clone()) } else { None }).collect()
}

fn shown(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| if let Event::Message(m) = e { m.body(None).map(str::to_owned) } else { None })
        .collect()
}

fn is_sm(e: &Element, name: &str) -> bool {
    e.is(SM_NS, name)
}

/// Fresh bind with stream management: bind, `<enable/>`, roster, presence, carbons. Returns what was sent.
fn bind_with_sm(h: &mut Harness, session: &str, resource: &str) -> Vec<Element> {
    let mut all = Vec::new();
    let sent = h.sent();
    let bind = iq_id(&sent, |e| e.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some());
    all.extend(sent);
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{bind}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/{resource}</jid></bind></iq>"));
    let sent = h.sent();
    assert!(is_sm(&sent[0], "enable"), "enable comes right after bind: {sent:?}");
    assert_eq!(sent[0].attr("resume"), Some("true"));
    let roster = iq_id(&sent, |e| e.get_child("jabber:iq:roster", "query").is_some());
    all.extend(sent);
    h.recv(&format!("<enabled xmlns='urn:xmpp:sm:3' id='{session}' resume='true' max='300'/>"));
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='{roster}'><query xmlns='jabber:iq:roster'>{BOB_BOTH}</query></iq>"
    ));
    let sent = h.sent();
    let carbons = iq_id(&sent, |e| e.get_child("urn:xmpp:carbons:2", "enable").is_some());
    all.extend(sent);
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{carbons}'/>"));
    all.extend(h.sent());
    assert!(h.client.is_online());
    all
}

/// Logged in with SCRAM and stream management enabled as session `S1`; 2 stanzas received (roster and
/// carbons results), 3 sent (roster get, presence, carbons), none acknowledged yet.
fn login_sm(config: Config) -> Harness {
    let mut h = Harness::new(config);
    h.scram_auth();
    h.bind_features(&format!("{SM}{CSI}"));
    bind_with_sm(&mut h, "S1", "r1");
    h.take_events();
    h
}

fn next_config(h: &Harness) -> Config {
    h.client.resumption().expect("a SCRAM session can be picked up")
}

// ---- enable, counting, acknowledgements ----------------------------------------------------------------

#[test]
fn enable_follows_bind_and_h_counts_stanzas_not_nonzas() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent_one().attr("h"), Some("2"), "roster and carbons results; <enabled/> is no stanza");
    h.recv("<message xmlns='jabber:client' from='bob@example.com/a' type='chat' id='b1'><body>one</body></message>");
    h.recv("<a xmlns='urn:xmpp:sm:3' h='0'/>");
    h.recv("<r xmlns='urn:xmpp:sm:3'/>");
    let a: Vec<_> = h.sent().into_iter().filter(|e| is_sm(e, "a")).collect();
    assert_eq!(a.last().unwrap().attr("h"), Some("3"));
}

#[test]
fn a_message_is_acked_by_the_servers_h_and_requests_one_ack_per_batch() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    send(&mut h, "m1", "one").unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "the message and one <r/>: {sent:?}");
    let m = &sent[0];
    assert_eq!(m.attr("id"), Some("m1"));
    assert_eq!(m.get_child("urn:xmpp:sid:0", "origin-id").unwrap().attr("id"), Some("m1"));
    assert!(m.get_child("urn:xmpp:receipts", "request").is_some());
    assert!(m.get_child("urn:xmpp:chat-markers:0", "markable").is_some());
    assert!(is_sm(&sent[1], "r"));
    let events = h.take_events();
    assert!(matches!(&events[0], Event::MessageSent(m) if m.id.as_deref() == Some("m1")));
    assert!(acked(&events).is_empty(), "not acknowledged before the server says so");
    h.recv("<a xmlns='urn:xmpp:sm:3' h='4'/>");
    assert_eq!(acked(&h.take_events()), ["m1"]);
    assert!(h.client.pending_messages().is_empty());
}

#[test]
fn partial_acks_acknowledge_in_order_and_ask_again_for_the_rest() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    for (id, body) in [("m1", "one"), ("m2", "two"), ("m3", "three")] {
        send(&mut h, id, body).unwrap();
    }
    let sent = h.sent();
    assert_eq!(sent.iter().filter(|e| is_sm(e, "r")).count(), 1, "one <r/> outstanding at a time");
    h.recv("<a xmlns='urn:xmpp:sm:3' h='4'/>");
    assert_eq!(acked(&h.take_events()), ["m1"]);
    assert!(is_sm(&h.sent_one(), "r"), "m2 and m3 still unacknowledged");
    h.recv("<a xmlns='urn:xmpp:sm:3' h='6'/>");
    assert_eq!(acked(&h.take_events()), ["m2", "m3"]);
    assert!(h.sent().is_empty());
}

#[test]
fn a_servers_r_while_messages_are_queued_is_answered_and_keeps_them() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    send(&mut h, "m2", "two").unwrap();
    h.sent();
    h.recv("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent_one().attr("h"), Some("2"));
    assert!(acked(&h.take_events()).is_empty());
    let pending: Vec<_> = h.client.pending_messages().into_iter().map(|p| p.message.id.unwrap()).collect();
    assert_eq!(pending, ["m1", "m2"]);
}

#[test]
fn an_h_acknowledging_more_than_was_sent_is_a_protocol_error_in_words() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.recv("<a xmlns='urn:xmpp:sm:3' h='99'/>");
    let e = closed_error(&h.events).expect("the session ends");
    assert!(matches!(e, ClientError::Protocol(_)));
    assert!(e.describe().contains("acknowledged more"), "{}", e.describe());
}

#[test]
fn a_server_without_stream_management_keeps_todays_behaviour() {
    let mut h = Harness::online_plain("");
    h.command(Command::SendMessage { to: jid("bob@example.com"), body: "hi".into(), id: "m1".into() }).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "no <enable/>, no <r/>: {sent:?}");
    let events = h.take_events();
    assert!(matches!(&events[0], Event::MessageSent(_)));
    assert_eq!(acked(&events), ["m1"], "sent = written to the open stream");
    assert!(h.client.resumption().is_none(), "PLAIN: nothing to log in again with, as before");
}

#[test]
fn a_refused_enable_counts_what_was_written_as_sent() {
    let mut h = Harness::new(rfc7677_config());
    h.scram_auth();
    h.bind_features(SM);
    h.sent();
    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid></bind></iq>");
    h.recv("<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>");
    assert!(h.client.is_online());
    h.sent();
    send(&mut h, "m1", "one").unwrap();
    assert_eq!(h.sent().len(), 1, "no <r/> without stream management");
    assert_eq!(acked(&h.take_events()), ["m1"]);
}

// ---- resumption ----------------------------------------------------------------------------------------

#[test]
fn a_lost_session_resumes_drops_what_h_acks_and_replays_the_rest() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<presence xmlns='jabber:client' from='bob@example.com/a'/>");
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    send(&mut h, "m1", "one").unwrap();
    send(&mut h, "m2", "two").unwrap();
    let m2_xml = h.sent().into_iter().find(|e| e.attr("id") == Some("m2")).unwrap();
    h.client.handle_transport_closed();
    h.take_events();

    let config = next_config(&h);
    assert!(config.stream.as_ref().unwrap().resumable());
    let mut h = Harness::new(config);
    h.scram_auth();
    h.bind_features(SM);
    let resume = h.sent_one();
    assert!(is_sm(&resume, "resume"), "resume instead of bind: {resume:?}");
    assert_eq!((resume.attr("previd"), resume.attr("h")), (Some("S1"), Some("3")));

    // The server got m1 but not m2.
    h.recv("<resumed xmlns='urn:xmpp:sm:3' previd='S1' h='4'/>");
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "m2 replayed, then <r/>: {sent:?}");
    assert_eq!(sent[0], m2_xml);
    assert!(is_sm(&sent[1], "r"));
    let events = h.take_events();
    assert_eq!(acked(&events), ["m1"]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Online { jid, resumed: true } if jid.to_string() == "user@example.com/r1"))
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Roster { .. })), "nothing reloaded");
    assert!(events.iter().any(|e| matches!(e, Event::ContactPresence { jid, presence: Some(_) } if jid == &BareJid::parse("bob@example.com").unwrap())), "presences re-reported");
    assert!(h.client.is_online());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='5'/>");
    assert_eq!(acked(&h.take_events()), ["m2"]);
    // The resumed stream counts on: one more stanza from the server makes h 4.
    h.recv("<message xmlns='jabber:client' from='bob@example.com/a' type='chat' id='b1'><body>x</body></message>");
    h.recv("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent().last().unwrap().attr("h"), Some("4"));
}

fn failed_resume_resends(failed: &str, expect_acked: &[&str], expect_resent: &[&str]) {
    let mut config = rfc7677_config();
    let mut h = Harness::new(config.clone());
    config.clock = Some(WallClock { at: h.now, unix_ms: 1_700_000_000_000 });
    h = Harness::new(config);
    h.scram_auth();
    h.bind_features(SM);
    bind_with_sm(&mut h, "S1", "r1");
    h.take_events();
    h.advance(Duration::from_millis(1500));
    send(&mut h, "m1", "one").unwrap();
    send(&mut h, "m2", "two").unwrap();
    h.client.handle_transport_closed();
    let mut h = Harness::new(next_config(&h));
    h.scram_auth();
    h.bind_features(SM);
    assert!(is_sm(&h.sent_one(), "resume"));
    h.recv(failed);
    let events = h.take_events();
    assert_eq!(acked(&events), expect_acked);
    let sent = bind_with_sm(&mut h, "S2", "r2");
    let resent: Vec<&Element> = sent.iter().filter(|e| e.name == "message").collect();
    let ids: Vec<&str> = resent.iter().map(|m| m.attr("id").unwrap()).collect();
    assert_eq!(ids, expect_resent, "resent once each, in order, with their original ids");
    for m in &resent {
        assert_eq!(m.get_child("urn:xmpp:sid:0", "origin-id").unwrap().attr("id"), m.attr("id"));
        // First sent 1.5 s after the clock reading of 2023-11-14T22:13:20Z.
        assert_eq!(m.get_child("urn:xmpp:delay", "delay").unwrap().attr("stamp"), Some("2023-11-14T22:13:21.500Z"));
    }
    let events = h.take_events();
    assert!(events.iter().any(|e| matches!(e, Event::Online { resumed: false, .. })));
    assert!(events.iter().any(|e| matches!(e, Event::Roster { .. })), "a fresh session loads the roster");
    assert!(!events.iter().any(|e| matches!(e, Event::MessageSent(_))), "the UI already shows them");
    // Acknowledged on the new session: roster get, presence, carbons, then the resent messages.
    h.recv(&format!("<a xmlns='urn:xmpp:sm:3' h='{}'/>", 3 + expect_resent.len()));
    assert_eq!(acked(&h.take_events()), expect_resent);
    assert!(h.client.pending_messages().is_empty());
}

#[test]
fn failed_resumption_with_h_rebinds_and_resends_only_the_unacknowledged_messages() {
    failed_resume_resends(
        "<failed xmlns='urn:xmpp:sm:3' h='4'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
        &["m1"],
        &["m2"],
    );
}

#[test]
fn failed_resumption_without_h_resends_every_unacknowledged_message() {
    failed_resume_resends(
        "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
        &[],
        &["m1", "m2"],
    );
}

#[test]
fn a_bogus_h_in_failed_loses_nothing() {
    failed_resume_resends("<failed xmlns='urn:xmpp:sm:3' h='77'/>", &[], &["m1", "m2"]);
}

#[test]
fn a_resumption_that_times_out_is_carried_to_the_next_attempt() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.client.handle_transport_closed();
    let mut h = Harness::new(next_config(&h));
    h.scram_auth();
    h.bind_features(SM);
    assert!(is_sm(&h.sent_one(), "resume"));
    h.advance(Duration::from_secs(31));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })));
    let config = next_config(&h);
    let snapshot = config.stream.as_ref().unwrap();
    assert!(snapshot.resumable());
    assert_eq!(snapshot.pending_messages().map(|p| p.message.id.clone().unwrap()).collect::<Vec<_>>(), ["m1"]);
}

#[test]
fn a_server_that_stopped_offering_stream_management_gets_the_messages_resent() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.client.handle_transport_closed();
    let mut h = Harness::new(next_config(&h));
    h.scram_auth();
    h.bind_features("");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r2</jid></bind></iq>");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>");
    let sent = h.sent();
    assert_eq!(sent.iter().filter(|e| e.attr("id") == Some("m1")).count(), 1);
    assert_eq!(acked(&h.take_events()), ["m1"], "written to an open stream without XEP-0198");
}

// ---- backlog bound ---------------------------------------------------------------------------------------

#[test]
fn the_unacknowledged_queue_is_bounded_and_refuses_with_a_reason() {
    let mut h = login_sm(rfc7677_config());
    for i in 0..2000 {
        send(&mut h, &format!("m{i}"), "x").unwrap();
    }
    h.sent();
    let refused = send(&mut h, "late", "x");
    assert_eq!(refused, Err(CommandError::Backlog { waiting: 2000 }));
    assert!(refused.unwrap_err().to_string().contains("waiting for the server"));
    h.recv("<a xmlns='urn:xmpp:sm:3' h='4'/>");
    send(&mut h, "late", "x").unwrap();
}

#[test]
fn a_server_that_never_acknowledges_ends_the_session_without_losing_the_queue() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    for i in 0..5000 {
        h.client.handle_frame(
            &format!(
                "<iq xmlns='jabber:client' type='get' id='p{i}' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
            ),
            h.now,
        );
        if h.client.is_closed() {
            break;
        }
    }
    h.drain();
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })), "retried like a lost connection");
    let config = next_config(&h);
    assert_eq!(config.stream.unwrap().pending_messages().count(), 1, "m1 is still owned, to resume or resend");
}

// ---- late timers and client state ----------------------------------------------------------------------

#[test]
fn a_late_ack_timer_probes_once_instead_of_failing() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.sent();
    // The page slept: the timer for the ack deadline (30 s) fires after 5 minutes.
    h.advance(Duration::from_secs(300));
    assert!(h.client.is_online(), "a late timer is no proof of a dead server");
    assert!(is_sm(&h.sent_one(), "r"), "a fresh probe");
    // Nothing heard within the fresh window, the timer on time: now it is dead.
    h.advance(Duration::from_secs(31));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })));
}

#[test]
fn a_stalled_stream_is_given_up_without_closing_the_session_the_server_keeps() {
    // Found by the fault-injection test: the `<close/>` the client wrote into a stalled (blackholed) stream
    // reached the server when the stall ended, after the client had moved on; the server then ended the
    // session it was keeping for resumption, and bounced the message waiting in it ("User session
    // terminated", ejabberd). A stream given up as dead is left without a word, as a lost connection is.
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.sent();
    h.advance(Duration::from_secs(31));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })));
    let close = h.sent().into_iter().find(|e| e.is("urn:ietf:params:xml:ns:xmpp-framing", "close"));
    assert!(close.is_none(), "no <close/> into a stream the server may still resume: {close:?}");
    assert!(next_config(&h).stream.unwrap().resumable(), "the next client resumes it");
}

#[test]
fn a_keepalive_ping_that_times_out_leaves_the_session_resumable() {
    let mut config = rfc7677_config();
    config.keepalive = Some(Duration::from_secs(60));
    let mut h = login_sm(config);
    h.sent();
    // Silence: first an <r/> probe (stream management is on), then its deadline.
    h.advance(Duration::from_secs(61));
    h.advance(Duration::from_secs(31));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })), "{:?}", h.events);
    assert!(!h.sent().iter().any(|e| e.is("urn:ietf:params:xml:ns:xmpp-framing", "close")));
}

#[test]
fn a_throttled_timer_cannot_keep_a_dead_connection_alive_forever() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.sent();
    // Hidden tab: timers once a minute, the server silent throughout.
    h.advance(Duration::from_secs(60));
    assert!(h.client.is_online());
    h.advance(Duration::from_secs(60));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })), "{:?}", h.events);
}

#[test]
fn an_answer_after_a_late_probe_keeps_the_session_and_renews_the_grace() {
    let mut h = login_sm(rfc7677_config());
    send(&mut h, "m1", "one").unwrap();
    h.sent();
    h.advance(Duration::from_secs(300));
    h.recv("<a xmlns='urn:xmpp:sm:3' h='4'/>");
    assert_eq!(acked(&h.take_events()), ["m1"]);
    send(&mut h, "m2", "two").unwrap();
    h.advance(Duration::from_secs(300));
    assert!(h.client.is_online(), "a new silence gets its own grace");
}

#[test]
fn a_late_keepalive_ping_without_stream_management_is_retried_once() {
    let mut h = Harness::online_plain("");
    h.advance(Duration::from_secs(61));
    assert!(h.sent_one().get_child("urn:xmpp:ping", "ping").is_some());
    h.advance(Duration::from_secs(200));
    assert!(h.client.is_online());
    assert!(h.sent_one().get_child("urn:xmpp:ping", "ping").is_some());
    h.advance(Duration::from_secs(31));
    assert_eq!(closed_error(&h.events), Some(ClientError::Timeout { stage: "keepalive" }));
}

#[test]
fn keepalive_with_stream_management_is_an_r() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    h.advance(Duration::from_secs(61));
    assert!(is_sm(&h.sent_one(), "r"));
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    h.advance(Duration::from_secs(40));
    assert!(h.client.is_online());
}

#[test]
fn client_state_is_told_and_told_again_after_a_fresh_bind() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    h.command(Command::SetActive(false)).unwrap();
    assert!(h.sent_one().is("urn:xmpp:csi:0", "inactive"));
    h.command(Command::SetActive(false)).unwrap();
    assert!(h.sent().is_empty(), "no change, nothing sent");
    h.client.handle_transport_closed();
    let config = next_config(&h);
    assert!(config.inactive);
    let mut h = Harness::new(config);
    h.scram_auth();
    h.bind_features(&format!("{SM}{CSI}"));
    h.sent();
    h.recv("<failed xmlns='urn:xmpp:sm:3'/>");
    let sent = bind_with_sm(&mut h, "S2", "r2");
    assert!(sent.iter().any(|e| e.is("urn:xmpp:csi:0", "inactive")), "inactive again on the new session");
    // Shown again after a silence: <active/> and a probe at once.
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    h.advance(Duration::from_secs(20));
    h.command(Command::SetActive(true)).unwrap();
    let sent = h.sent();
    assert!(sent[0].is("urn:xmpp:csi:0", "active"));
    assert!(sent.iter().any(|e| is_sm(e, "r")), "probe: {sent:?}");
}

// ---- de-duplication ------------------------------------------------------------------------------------

fn msg(from: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "<message xmlns='jabber:client' from='{from}' to='user@example.com/r1' type='chat' id='{id}'><body>{body}</body>{extra}</message>"
    )
}

fn sid(id: &str, by: &str) -> String {
    format!("<stanza-id xmlns='urn:xmpp:sid:0' id='{id}' by='{by}'/>")
}

fn oid(id: &str) -> String {
    format!("<origin-id xmlns='urn:xmpp:sid:0' id='{id}'/>")
}

#[test]
fn dedup_by_our_servers_stanza_id() {
    let mut h = login_sm(rfc7677_config());
    h.recv(&msg("bob@example.com/a", "x1", &sid("S-1", "user@example.com"), "hello"));
    // The same archived message again (say from offline storage after a failed resume), other ids around it.
    h.recv(&msg("bob@example.com/b", "x2", &sid("S-1", "user@example.com"), "hello"));
    assert_eq!(shown(&h.take_events()), ["hello"]);
    let events = {
        h.recv(&msg("bob@example.com/a", "x3", &sid("S-2", "user@example.com"), "again"));
        h.take_events()
    };
    let Event::Message(m) = &events[0] else { panic!() };
    assert_eq!(m.stanza_id.as_deref(), Some("S-2"), "the trusted stanza-id is handed on for the store");
}

#[test]
fn a_forged_stanza_id_is_ignored() {
    let mut h = login_sm(rfc7677_config());
    // Bob stamps a stanza-id "by" our account himself? Only the server's own stamp counts — here the
    // peer claims `by` = himself, twice with the same id, on two different messages: both are shown.
    h.recv(&msg("bob@example.com/a", "x1", &sid("F", "bob@example.com"), "first"));
    h.recv(&msg("bob@example.com/a", "x2", &sid("F", "bob@example.com"), "second"));
    // And a forged stanza-id cannot hide someone else's message: carol reuses the id bob's got from our server.
    h.recv(&msg("bob@example.com/a", "x3", &sid("S-9", "user@example.com"), "bob's"));
    h.recv(&msg("carol@example.com/a", "y1", &sid("S-9", "carol@example.com"), "carol's"));
    let events = h.take_events();
    assert_eq!(shown(&events), ["first", "second", "bob's", "carol's"]);
    let Event::Message(m) = &events[0] else { panic!() };
    assert_eq!(m.stanza_id, None, "a stanza-id by anyone but our account is not handed on");
}

#[test]
fn dedup_by_origin_id_and_sender() {
    let mut h = login_sm(rfc7677_config());
    h.recv(&msg("bob@example.com/a", "x1", &oid("o1"), "hi"));
    // Resent by bob's client after its own failed resumption: same origin-id, new stanza id.
    h.recv(&msg("bob@example.com/a", "x1-again", &format!("{}{}", oid("o1"), sid("S-5", "user@example.com")), "hi"));
    // Another sender with the same origin-id is another message.
    h.recv(&msg("carol@example.com/a", "y1", &oid("o1"), "hi"));
    assert_eq!(shown(&h.take_events()), ["hi", "hi"]);
}

#[test]
fn dedup_by_id_sender_and_body() {
    let mut h = login_sm(rfc7677_config());
    h.recv(&msg("bob@example.com/a", "x1", "", "hi"));
    h.recv(&msg("bob@example.com/b", "x1", "", "hi"));
    h.recv(&msg("bob@example.com/a", "x1", "", "another body"));
    h.recv(&msg("bob@example.com/a", "", "", "no id"));
    h.recv(&msg("bob@example.com/a", "", "", "no id"));
    assert_eq!(shown(&h.take_events()), ["hi", "another body", "no id", "no id"], "nothing to recognise the last by");
}

#[test]
fn a_carbon_of_a_message_already_shown_is_not_shown_again() {
    let mut h = login_sm(rfc7677_config());
    let inner = format!(
        "<message xmlns='jabber:client' from='bob@example.com/a' to='user@example.com/phone' type='chat' id='x1'><body>hi</body>{}</message>",
        oid("o1")
    );
    h.recv(&format!("<message xmlns='jabber:client' from='user@example.com' to='user@example.com/r1'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></received></message>"));
    h.recv(&msg("bob@example.com/a", "x1", &oid("o1"), "hi"));
    assert_eq!(shown(&h.take_events()), ["hi"]);
}

#[test]
fn the_dedup_memory_is_carried_across_a_reconnect() {
    let mut h = login_sm(rfc7677_config());
    h.recv(&msg("bob@example.com/a", "x1", &sid("S-1", "user@example.com"), "hello"));
    h.client.handle_transport_closed();
    let mut h = Harness::new(next_config(&h));
    h.scram_auth();
    h.bind_features(SM);
    h.recv("<failed xmlns='urn:xmpp:sm:3'/>");
    bind_with_sm(&mut h, "S2", "r2");
    h.take_events();
    // Offline storage delivers it again on the fresh session.
    h.recv(&msg(
        "bob@example.com/a",
        "x1",
        &format!("{}<delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/>", sid("S-1", "user@example.com")),
        "hello",
    ));
    assert!(shown(&h.take_events()).is_empty());
}

// ---- receipts and markers ------------------------------------------------------------------------------

#[test]
fn receipts_are_answered_only_to_contacts_who_may_see_our_presence() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    let request = "<request xmlns='urn:xmpp:receipts'/>";
    h.recv(&msg("bob@example.com/phone", "b1", request, "hi"));
    let sent: Vec<_> = h.sent().into_iter().filter(|e| e.name == "message").collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].attr("to"), Some("bob@example.com/phone"), "to the full JID that asked");
    assert_eq!(sent[0].get_child("urn:xmpp:receipts", "received").unwrap().attr("id"), Some("b1"));
    // A stranger, and a contact whose presence we see but who may not see ours ('to'): no receipt.
    h.recv(&msg("mallory@evil.example/x", "e1", request, "hi"));
    h.recv(&msg("tom@example.com/x", "t1", request, "hi"));
    assert!(h.sent().iter().all(|e| e.name != "message"), "no receipt to strangers");
}

#[test]
fn receipts_and_displayed_markers_become_events() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<message xmlns='jabber:client' from='bob@example.com/phone' id='r1'><received xmlns='urn:xmpp:receipts' id='m1'/></message>");
    h.recv("<message xmlns='jabber:client' from='bob@example.com/phone' type='chat' id='r2'><displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>");
    let events = h.take_events();
    assert!(events.contains(&Event::Receipt { from: jid("bob@example.com"), id: "m1".into() }));
    assert!(events.contains(&Event::Displayed { from: jid("bob@example.com"), id: "m1".into() }));
    assert!(shown(&events).is_empty());
}

#[test]
fn displayed_markers_are_sent_only_to_contacts_who_may_see_our_presence() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    h.command(Command::SendDisplayed { to: jid("bob@example.com"), id: "b7".into() }).unwrap();
    let sent = h.sent();
    assert_eq!(sent[0].get_child("urn:xmpp:chat-markers:0", "displayed").unwrap().attr("id"), Some("b7"));
    // Archived (ejabberd keeps no bodyless message without the hint): our other devices learn from it.
    assert!(sent[0].get_child("urn:xmpp:hints", "store").is_some());
    h.command(Command::SendDisplayed { to: jid("mallory@evil.example"), id: "e1".into() }).unwrap();
    assert!(h.sent().is_empty());
}

#[test]
fn disco_advertises_receipts_and_markers() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<iq xmlns='jabber:client' type='get' id='d1' from='bob@example.com/desk'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    let disco = h.sent().into_iter().find(|e| e.name == "iq").unwrap();
    let features = disco_features(&disco);
    assert!(features.contains(&"urn:xmpp:receipts".to_owned()));
    assert!(features.contains(&"urn:xmpp:chat-markers:0".to_owned()));
    let mut sorted = features.clone();
    sorted.sort();
    assert_eq!(features, sorted);
}

#[test]
fn an_ack_that_leaves_older_stanzas_unacknowledged_does_not_start_an_r_a_ping_pong() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    send(&mut h, "m1", "one").unwrap();
    assert!(h.sent().iter().any(|e| is_sm(e, "r")));
    // The server lost m1 somehow and answers with its old h: asking again at once would loop for ever.
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert!(h.sent().is_empty(), "no new <r/> right away");
    // The keepalive asks again later, and the message is still owned.
    h.advance(Duration::from_secs(61));
    assert!(is_sm(&h.sent_one(), "r"));
    assert_eq!(h.client.pending_messages().len(), 1);
}

#[test]
fn while_inactive_an_unanswered_probe_gets_one_more_window() {
    let mut h = login_sm(rfc7677_config());
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    h.command(Command::SetActive(false)).unwrap();
    send(&mut h, "m1", "one").unwrap();
    h.sent();
    // On time, but the server may be holding our <a/> back (CSI): probe again rather than give up.
    h.advance(Duration::from_secs(31));
    assert!(h.client.is_online());
    assert!(is_sm(&h.sent_one(), "r"));
    h.advance(Duration::from_secs(31));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Timeout { .. })), "but not for ever");
}

// ---- hostile stream-management input --------------------------------------------------------------------

/// A PLAIN login with stream management, then acks, requests and messages with ids, receipts and markers.
const SM_SCRIPT: &[&str] = &[
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0'/>",
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s2' version='1.0'/>",
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/><csi xmlns='urn:xmpp:csi:0'/></stream:features>",
    "<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/web</jid></bind></iq>",
    "<enabled xmlns='urn:xmpp:sm:3' id='S1' resume='true' location='[::1]:5222' max='300'/>",
    "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='both'/></query></iq>",
    "<a xmlns='urn:xmpp:sm:3' h='2'/>",
    "<r xmlns='urn:xmpp:sm:3'/>",
    "<message xmlns='jabber:client' from='bob@example.com/x' type='chat' id='m1'><body>hi</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/><origin-id xmlns='urn:xmpp:sid:0' id='m1'/><stanza-id xmlns='urn:xmpp:sid:0' id='S-1' by='alice@example.com'/></message>",
    "<message xmlns='jabber:client' from='bob@example.com/x' id='r1'><received xmlns='urn:xmpp:receipts' id='a1'/></message>",
    "<message xmlns='jabber:client' from='bob@example.com/x' type='chat' id='d1'><displayed xmlns='urn:xmpp:chat-markers:0' id='a1'/></message>",
    "<a xmlns='urn:xmpp:sm:3' h='4294967295'/>",
];

fn run_sm_script(mutated_index: usize, mutated: &str) -> Vec<Event> {
    let mut h = Harness::new(plain_config());
    for (i, frame) in SM_SCRIPT.iter().enumerate() {
        h.recv(if i == mutated_index { mutated } else { frame });
        if i == 7 && h.client.is_online() {
            let _ = send(&mut h, "a1", "mine");
        }
        for out in std::mem::take(&mut h.outbox) {
            Element::parse(&out).unwrap_or_else(|e| panic!("client sent invalid XML {out:?}: {e}"));
        }
        if h.client.is_closed() {
            break;
        }
    }
    h.take_events()
}

#[test]
fn hostile_stream_management_input_ends_in_words_never_a_panic() {
    // Unmutated: online, then the last <a/> acknowledges far more than was sent: a protocol error in words.
    let events = run_sm_script(usize::MAX, "");
    assert!(events.iter().any(|e| matches!(e, Event::Online { .. })));
    assert!(matches!(closed_error(&events), Some(ClientError::Protocol(_))));
    for (i, frame) in SM_SCRIPT.iter().enumerate() {
        for cut in (0..frame.len()).filter(|c| frame.is_char_boundary(*c)) {
            let events = run_sm_script(i, &frame[..cut]);
            assert!(closed_error(&events).is_some(), "a truncated frame ends the session with an error");
        }
    }
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const NASTY: &[u8] = b"<>&'\"/=:x0-9 \0";
    for _ in 0..2000 {
        let i = (next() % SM_SCRIPT.len() as u64) as usize;
        let mut bytes = SM_SCRIPT[i].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let pos = (next() % bytes.len() as u64) as usize;
            bytes[pos] = NASTY[(next() % NASTY.len() as u64) as usize];
        }
        let _ = run_sm_script(i, &String::from_utf8_lossy(&bytes));
    }
}
