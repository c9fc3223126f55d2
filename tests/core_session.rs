#![cfg(not(target_arch = "wasm32"))]
//! The session state machine driven by a scripted fake server, in virtual time (no socket).

mod support {
    pub mod fake;
}

use std::time::Duration;

use natter::xmpp::client::{ClientError, RequestError, RosterAction};
use natter::xmpp::framing::FramingError;
use natter::xmpp::sasl::{Credentials, Mechanism, SaslError, SaslFailure};
use natter::xmpp::stanza::message::ChatState;
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::stanza::roster::Subscription;
use natter::xmpp::{Command, CommandError, Config, Event, Phase};
use support::fake::*;

// ---- login ---------------------------------------------------------------------------------------------

#[test]
fn full_login_with_scram_sha_256_matches_rfc7677_byte_for_byte() {
    let mut h = Harness::new(rfc7677_config());
    let open = h.sent_one();
    assert!(open.is("urn:ietf:params:xml:ns:xmpp-framing", "open"));
    assert_eq!(open.attr("to"), Some("example.com"));
    assert_eq!(open.attr("version"), Some("1.0"));

    h.server_open();
    h.sasl_features(&["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"]);
    let auth = h.sent_one();
    assert_eq!(auth.attr("mechanism"), Some("SCRAM-SHA-256"));
    assert_eq!(unb64(&auth.text()), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

    h.scram_challenge();
    let response = h.sent_one();
    assert!(response.is("urn:ietf:params:xml:ns:xmpp-sasl", "response"));
    assert_eq!(unb64(&response.text()), RFC7677_CLIENT_FINAL);

    h.scram_success();
    // The stream restarts with a fresh <open/>.
    assert!(h.sent_one().is("urn:ietf:params:xml:ns:xmpp-framing", "open"));
    h.server_open();
    h.bind_features("");
    let bind = h.sent_one();
    assert_eq!((bind.attr("type"), bind.attr("id")), (Some("set"), Some("t-1")));
    assert!(bind.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some());

    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid></bind></iq>");
    let roster_get = h.sent_one();
    assert!(roster_get.get_child("jabber:iq:roster", "query").is_some());
    assert_eq!(roster_get.attr("id"), Some("t-2"));

    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'><item jid='bob@example.com' name='Bob' subscription='both'><group>Friends</group></item></query></iq>");
    let sent = h.sent();
    assert!(sent[0].is("jabber:client", "presence") && sent[0].attr("type").is_none(), "initial presence");
    assert!(sent[1].get_child("urn:xmpp:carbons:2", "enable").is_some(), "carbons enabled");
    assert_eq!(sent.len(), 2, "no catch-up in this config (tests/core_mam.rs has it)");

    let events = h.take_events();
    let phases: Vec<Phase> =
        events.iter().filter_map(|e| if let Event::Phase(p) = e { Some(*p) } else { None }).collect();
    assert_eq!(
        phases,
        [
            Phase::Connecting,
            Phase::Authenticating(Mechanism::ScramSha256),
            Phase::Binding,
            Phase::LoadingRoster,
            Phase::Online
        ]
    );
    let resumed = h.client.resumption().expect("keys to log in again");
    assert!(matches!(&resumed.credentials, Credentials::Keys(k) if k.iterations == 4096));
    let roster = events
        .iter()
        .find_map(|e| if let Event::Roster { items, .. } = e { Some(items.clone()) } else { None })
        .unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].name.as_deref(), Some("Bob"));
    assert_eq!(roster[0].groups, ["Friends"]);
    assert_eq!(roster[0].subscription, Subscription::Both);
    assert!(events.iter().any(|e| matches!(e, Event::Online { jid, .. } if jid.to_string() == "user@example.com/r1")));
    assert!(h.client.is_online());
}

#[test]
fn derived_keys_log_in_again_without_the_password() {
    let mut h = Harness::new(rfc7677_config());
    h.server_open();
    h.sasl_features(&["SCRAM-SHA-256"]);
    h.scram_challenge();
    h.scram_success();
    let first_proof = h.sent()[2].text();

    let config = h.client.resumption().expect("keys to log in again");
    assert!(matches!(config.credentials, Credentials::Keys(_)));
    let mut h2 = Harness::new(config);
    h2.server_open();
    h2.sasl_features(&["SCRAM-SHA-256"]);
    h2.scram_challenge();
    assert_eq!(h2.sent()[2].text(), first_proof);
}

#[test]
fn features_without_jabber_client_namespace_are_understood() {
    // ejabberd's <stream:features> carries no xmlns='jabber:client'; Prosody's does. Both must work.
    let mut h = Harness::new(plain_config());
    h.server_open();
    h.recv("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>");
    let auth = h.sent().pop().unwrap();
    assert_eq!(auth.attr("mechanism"), Some("PLAIN"));
    assert_eq!(unb64(&auth.text()), "\0alice\0secret");
}

#[test]
fn plain_is_refused_unless_allowed() {
    let mut config = plain_config();
    config.allow_plain = false;
    let mut h = Harness::new(config);
    h.server_open();
    h.sasl_features(&["PLAIN"]);
    assert!(matches!(closed_error(&h.events), Some(ClientError::Sasl(SaslError::NoAcceptableMechanism { .. }))));
    assert!(h.sent().iter().all(|e| e.name != "auth"), "no credentials may be sent");
}

#[test]
fn wrong_password_is_a_typed_auth_failure() {
    let mut h = Harness::new(plain_config());
    h.server_open();
    h.sasl_features(&["PLAIN"]);
    h.recv("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text xml:lang='en'>Invalid username or password</text></failure>");
    match closed_error(&h.events) {
        Some(e @ ClientError::AuthFailed { failure: SaslFailure::NotAuthorized, .. }) => {
            let ClientError::AuthFailed { text, .. } = &e else { unreachable!() };
            assert_eq!(text.as_deref(), Some("Invalid username or password"));
            assert!(
                !e.describe().contains("Invalid username"),
                "the server's jargon is not shown for a wrong password"
            );
        }
        other => panic!("expected AuthFailed, got {other:?}"),
    }
    assert!(h.client.is_closed());
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn account_disabled_is_its_own_failure() {
    let mut h = Harness::new(plain_config());
    h.server_open();
    h.sasl_features(&["PLAIN"]);
    h.recv("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><account-disabled/><text>Locked until Monday</text></failure>");
    let e = closed_error(&h.events).unwrap();
    assert!(matches!(e, ClientError::AuthFailed { failure: SaslFailure::AccountDisabled, .. }));
    assert!(
        e.describe().contains("Locked until Monday"),
        "other conditions keep the server's reason: {}",
        e.describe()
    );
}

#[test]
fn success_without_server_signature_is_a_failure() {
    let mut h = Harness::new(rfc7677_config());
    h.server_open();
    h.sasl_features(&["SCRAM-SHA-256"]);
    h.scram_challenge();
    h.recv("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    assert_eq!(closed_error(&h.events), Some(ClientError::Sasl(SaslError::MissingServerSignature)));
    assert!(!h.client.is_online());
}

#[test]
fn requested_resource_is_sent_and_session_iq_used_only_when_required() {
    let mut config = plain_config();
    config.resource = Some("laptop".into());
    let mut h = Harness::new(config);
    h.plain_auth();
    h.sent();
    h.bind_features("<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>");
    let bind = h.sent_one();
    let res = bind
        .get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind")
        .unwrap()
        .get_child("urn:ietf:params:xml:ns:xmpp-bind", "resource")
        .unwrap();
    assert_eq!(res.text(), "laptop");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/laptop</jid></bind></iq>");
    let session = h.sent_one();
    assert!(session.get_child("urn:ietf:params:xml:ns:xmpp-session", "session").is_some());
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'/>");
    assert!(h.sent_one().get_child("jabber:iq:roster", "query").is_some());
}

#[test]
fn bind_refused_ends_the_session() {
    let mut h = Harness::new(plain_config());
    h.plain_auth();
    h.bind_features("");
    h.recv("<iq xmlns='jabber:client' type='error' id='t-1'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert!(matches!(closed_error(&h.events), Some(ClientError::BindFailed(e)) if e.condition == "not-allowed"));
}

#[test]
fn bound_jid_of_another_account_is_refused() {
    let mut h = Harness::new(plain_config());
    h.plain_auth();
    h.bind_features("");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>mallory@example.com/x</jid></bind></iq>");
    assert!(matches!(closed_error(&h.events), Some(ClientError::Protocol(_))));
}

#[test]
fn roster_versioning_uses_the_cached_roster_on_an_empty_result() {
    let mut config = plain_config();
    let mut bob = natter::xmpp::stanza::roster::RosterItem::new(jid("bob@example.com"));
    bob.subscription = Subscription::Both;
    config.cached_roster = Some(("v7".into(), vec![bob.clone()]));
    let mut h = Harness::new(config);
    h.plain_until_roster("<ver xmlns='urn:xmpp:features:rosterver'/>");
    let get = h.sent().pop().unwrap();
    assert_eq!(get.get_child("jabber:iq:roster", "query").unwrap().attr("ver"), Some("v7"));
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'/>");
    assert!(h.events.iter().any(
        |e| matches!(e, Event::Roster { items, ver } if items == &vec![bob.clone()] && ver.as_deref() == Some("v7"))
    ));
}

#[test]
fn negotiation_times_out_without_features() {
    let mut h = Harness::new(plain_config());
    h.server_open();
    h.advance(Duration::from_secs(29));
    assert!(!h.client.is_closed());
    h.advance(Duration::from_secs(2));
    assert_eq!(closed_error(&h.events), Some(ClientError::Timeout { stage: "opening the stream" }));
}

// ---- online: roster ------------------------------------------------------------------------------------

#[test]
fn roster_push_from_own_account_is_applied_and_acknowledged() {
    let mut h = Harness::online_plain("");
    h.recv("<iq xmlns='jabber:client' type='set' id='p1' from='alice@example.com'><query xmlns='jabber:iq:roster' ver='v2'><item jid='carol@example.com' subscription='none' ask='subscribe'/></query></iq>");
    let ack = h.sent_one();
    assert_eq!((ack.attr("type"), ack.attr("id")), (Some("result"), Some("p1")));
    assert!(h.events.iter().any(|e| matches!(e, Event::RosterPush { item, ver } if item.jid == jid("carol@example.com") && item.pending_out && ver.as_deref() == Some("v2"))));
}

#[test]
fn spoofed_roster_push_is_rejected() {
    let mut h = Harness::online_plain("");
    h.recv("<iq xmlns='jabber:client' type='set' id='p1' from='mallory@evil.example'><query xmlns='jabber:iq:roster'><item jid='mallory@evil.example' subscription='both'/></query></iq>");
    let reply = h.sent_one();
    assert_eq!(reply.attr("type"), Some("error"));
    assert!(
        reply
            .get_child("jabber:client", "error")
            .unwrap()
            .get_child("urn:ietf:params:xml:ns:xmpp-stanzas", "service-unavailable")
            .is_some()
    );
    assert!(h.take_events().is_empty());
}

#[test]
fn add_rename_and_remove_contact_send_roster_sets() {
    let mut h =
        Harness::online_plain("<item jid='bob@example.com' name='Bob' subscription='both'><group>Work</group></item>");
    h.command(Command::AddContact { jid: jid("carol@example.com"), name: Some("Carol".into()), groups: vec![] })
        .unwrap();
    let sent = h.sent();
    let item = sent[0].get_child("jabber:iq:roster", "query").unwrap().get_child("jabber:iq:roster", "item").unwrap();
    assert_eq!((item.attr("jid"), item.attr("name")), (Some("carol@example.com"), Some("Carol")));
    assert_eq!((sent[1].attr("type"), sent[1].attr("to")), (Some("subscribe"), Some("carol@example.com")));

    h.command(Command::UpdateContact {
        jid: jid("bob@example.com"),
        name: Some("Robert".into()),
        groups: vec!["Work".into()],
    })
    .unwrap();
    let set = h.sent_one();
    let item = set.get_child("jabber:iq:roster", "query").unwrap().get_child("jabber:iq:roster", "item").unwrap();
    assert_eq!(item.attr("name"), Some("Robert"));
    assert_eq!(item.get_child("jabber:iq:roster", "group").map(|g| g.text()).as_deref(), Some("Work"));

    h.command(Command::RemoveContact { jid: jid("bob@example.com") }).unwrap();
    let set = h.sent_one();
    let item = set.get_child("jabber:iq:roster", "query").unwrap().get_child("jabber:iq:roster", "item").unwrap();
    assert_eq!(item.attr("subscription"), Some("remove"));
}

/// The `<item/>` of a roster set the client sent.
fn set_item(iq: &natter::xmpp::xml::Element) -> &natter::xmpp::xml::Element {
    iq.get_child("jabber:iq:roster", "query").unwrap().get_child("jabber:iq:roster", "item").unwrap()
}

fn groups_of(item: &natter::xmpp::xml::Element) -> Vec<String> {
    item.children_named("jabber:iq:roster", "group").map(|g| g.text()).collect()
}

#[test]
fn a_new_name_and_new_groups_saved_together_go_out_in_one_roster_set() {
    // Issue 16, item 2: the dialog used to send a rename and then a regroup; the regroup was built from the
    // roster before the server confirmed the rename, so it put the old name back. One set carries both now.
    let mut h = Harness::online_plain(
        "<item jid='bob@example.com' name='Bob' subscription='both' ask='subscribe'><group>Work</group></item>",
    );
    h.command(Command::UpdateContact {
        jid: jid("bob@example.com"),
        name: Some("Robert".into()),
        groups: vec!["Family".into(), "Friends".into()],
    })
    .unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "one roster set: {sent:?}");
    let item = set_item(&sent[0]);
    assert_eq!(item.attr("name"), Some("Robert"));
    assert_eq!(groups_of(item), ["Family", "Friends"]);
    // Subscription state is the server's: a set never carries it (RFC 6121 §2.1.2.5).
    assert_eq!((item.attr("subscription"), item.attr("ask")), (None, None));

    // An empty name clears it; the groups go with it in the same set.
    h.command(Command::UpdateContact { jid: jid("bob@example.com"), name: Some("  ".into()), groups: vec![] }).unwrap();
    let item = h.sent_one();
    let item = set_item(&item);
    assert_eq!(item.attr("name"), None);
    assert!(groups_of(item).is_empty());
}

#[test]
fn adding_a_contact_already_in_the_roster_keeps_its_name_and_groups() {
    // Issue 16, item 1: adding Bob again (the form has no name) renamed him to his address on the server.
    let mut h = Harness::online_plain(
        "<item jid='bob@example.com' name='Bob' subscription='both'><group>Work</group></item>\
         <item jid='carol@example.com' name='Carol' subscription='none'><group>Choir</group></item>\
         <item jid='dave@example.com' name='Dave' subscription='from' ask='subscribe'/>",
    );
    // Bob: nothing is missing, so nothing is sent at all.
    h.command(Command::AddContact { jid: jid("bob@example.com"), name: None, groups: vec![] }).unwrap();
    assert!(h.sent().is_empty(), "no roster set, no request");
    // Carol: only the subscription is missing: the request goes out again, the roster item is left alone.
    h.command(Command::AddContact { jid: jid("carol@example.com"), name: None, groups: vec![] }).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!((sent[0].name.as_str(), sent[0].attr("type")), ("presence", Some("subscribe")));
    // Dave: a request is pending already; a new name is saved with his groups and nothing else changes.
    h.command(Command::AddContact { jid: jid("dave@example.com"), name: Some("David".into()), groups: vec![] })
        .unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(set_item(&sent[0]).attr("name"), Some("David"));
    // Someone new: a roster set with what was typed, and the request.
    h.command(Command::AddContact { jid: jid("erin@example.com"), name: None, groups: vec![] }).unwrap();
    let sent = h.sent();
    assert_eq!((set_item(&sent[0]).attr("jid"), set_item(&sent[0]).attr("name")), (Some("erin@example.com"), None));
    assert_eq!(sent[1].attr("type"), Some("subscribe"));
}

#[test]
fn a_bounced_subscription_request_is_reported_for_that_contact() {
    let mut h = Harness::online_plain("<item jid='carol@nowhere.example' subscription='none' ask='subscribe'/>");
    h.recv("<presence xmlns='jabber:client' from='carol@nowhere.example' type='error'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    let events = h.take_events();
    assert!(
        events.iter().any(|e| matches!(e, Event::PresenceError { from, error }
            if from == &jid("carol@nowhere.example") && error.condition == "remote-server-not-found")),
        "{events:?}"
    );
    assert!(h.client.is_online());
}

#[test]
fn refused_and_unanswered_roster_sets_are_reported() {
    let mut h = Harness::online_plain("");
    h.command(Command::AddContact { jid: jid("x@example.com"), name: None, groups: vec![] }).unwrap();
    let id = h.sent()[0].attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='error' id='{id}'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
    assert!(h.take_events().iter().any(|e| matches!(e, Event::RequestFailed { action: RosterAction::Add(j), error: RequestError::Stanza(s) } if j == &jid("x@example.com") && s.condition == "not-acceptable")));

    h.command(Command::RemoveContact { jid: jid("x@example.com") }).unwrap();
    h.advance(Duration::from_secs(31));
    assert!(
        h.take_events().iter().any(|e| matches!(
            e,
            Event::RequestFailed { action: RosterAction::Remove(_), error: RequestError::Timeout }
        ))
    );
    assert!(h.client.is_online(), "a failed roster change does not end the session");
}

// ---- online: presence ----------------------------------------------------------------------------------

#[test]
fn presence_is_aggregated_per_contact() {
    let mut h = Harness::online_plain("<item jid='bob@example.com' subscription='both'/>");
    h.recv("<presence xmlns='jabber:client' from='bob@example.com/phone'><show>away</show><priority>1</priority></presence>");
    h.recv("<presence xmlns='jabber:client' from='bob@example.com/desk'><show>dnd</show><status>busy</status><priority>5</priority></presence>");
    let last = |h: &mut Harness| {
        h.take_events()
            .into_iter()
            .rev()
            .find_map(|e| if let Event::ContactPresence { presence, .. } = e { Some(presence) } else { None })
    };
    let best = last(&mut h).unwrap().unwrap();
    assert_eq!((best.show, best.status.as_deref(), best.priority), (Show::Dnd, Some("busy"), 5));
    h.recv("<presence xmlns='jabber:client' from='bob@example.com/desk' type='unavailable'/>");
    assert_eq!(last(&mut h).unwrap().unwrap().show, Show::Away);
    h.recv("<presence xmlns='jabber:client' from='bob@example.com/phone' type='unavailable'/>");
    assert_eq!(last(&mut h), Some(None), "offline once the last resource leaves");
}

#[test]
fn own_presence_is_broadcast() {
    let mut h = Harness::online_plain("");
    h.command(Command::SetPresence(Availability { show: Show::Dnd, status: Some("in a meeting".into()), priority: 0 }))
        .unwrap();
    let p = h.sent_one();
    assert_eq!(p.get_child("jabber:client", "show").unwrap().text(), "dnd");
    assert_eq!(p.get_child("jabber:client", "status").unwrap().text(), "in a meeting");
    assert!(p.attr("to").is_none());
}

#[test]
fn subscription_request_is_shown_and_approval_subscribes_back() {
    let mut h = Harness::online_plain("");
    h.recv("<presence xmlns='jabber:client' from='carol@example.com' type='subscribe'><status>hi, it's Carol</status></presence>");
    assert!(h.take_events().iter().any(|e| matches!(e, Event::SubscriptionRequest { from, status } if from == &jid("carol@example.com") && status.as_deref() == Some("hi, it's Carol"))));
    h.command(Command::ApproveSubscription { jid: jid("carol@example.com") }).unwrap();
    let sent = h.sent();
    assert_eq!(sent.iter().map(|p| p.attr("type").unwrap()).collect::<Vec<_>>(), ["subscribed", "subscribe"]);
    h.command(Command::DenySubscription { jid: jid("dave@example.com") }).unwrap();
    assert_eq!(h.sent_one().attr("type"), Some("unsubscribed"));
}

// ---- online: messages ----------------------------------------------------------------------------------

#[test]
fn incoming_message_with_language_thread_and_me_action() {
    let mut h = Harness::online_plain("");
    h.recv("<message xmlns='jabber:client' from='bob@example.com/desk' type='chat' id='m1'><body>/me waves</body><body xml:lang='de'>/me winkt</body><thread>th1</thread></message>");
    let msg = h.take_events().into_iter().find_map(|e| if let Event::Message(m) = e { Some(m) } else { None }).unwrap();
    assert_eq!(msg.body(Some("de")), Some("/me winkt"));
    assert_eq!(msg.body(None), Some("/me waves"));
    assert_eq!(msg.me_action(), Some("waves"));
    assert_eq!(msg.thread.as_deref(), Some("th1"));
    assert_eq!(msg.from.unwrap().bare(), &jid("bob@example.com"));
}

#[test]
fn carbons_of_our_other_devices_show_up_in_the_right_conversation() {
    let mut h = Harness::online_plain("");
    h.recv("<message xmlns='jabber:client' from='alice@example.com' to='alice@example.com/web' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@example.com/phone' to='bob@example.com' type='chat' id='c1'><body>from my phone</body></message></forwarded></sent></message>");
    h.recv("<message xmlns='jabber:client' from='alice@example.com' to='alice@example.com/web' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@example.com/desk' to='alice@example.com/phone' type='chat' id='c2'><body>to your phone</body></message></forwarded></received></message>");
    let events = h.take_events();
    assert!(
        matches!(&events[0], Event::MessageSent(m) if m.to.as_ref().unwrap().bare() == &jid("bob@example.com") && m.body(None) == Some("from my phone"))
    );
    assert!(
        matches!(&events[1], Event::Message(m) if m.from.as_ref().unwrap().bare() == &jid("bob@example.com") && m.body(None) == Some("to your phone"))
    );
    assert_eq!(events.len(), 2);
}

#[test]
fn forged_carbons_from_anyone_else_are_dropped() {
    // The classic carbon-forgery hole (CVE-2017-5589 and friends): a contact wraps a fake message in a carbon.
    let mut h = Harness::online_plain("");
    h.recv("<message xmlns='jabber:client' from='mallory@evil.example' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@example.com/desk' to='alice@example.com' type='chat'><body>send me your password</body></message></forwarded></received></message>");
    h.recv("<message xmlns='jabber:client' from='alice@example.com/phone' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='bob@example.com' type='chat'><body>x</body></message></forwarded></sent></message>");
    assert!(h.take_events().is_empty());
}

#[test]
fn messages_without_body_are_not_shown_but_their_chat_state_is() {
    let mut h = Harness::online_plain("");
    h.recv("<message xmlns='jabber:client' from='bob@example.com/desk' type='chat'><thread>t</thread></message>");
    assert!(h.take_events().is_empty());
    h.recv("<message xmlns='jabber:client' from='bob@example.com/desk' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert_eq!(h.take_events(), vec![Event::ChatState { from: jid("bob@example.com"), state: ChatState::Composing }]);
    // With a body, the state rides on the message (no separate event); unknown state names are no state.
    h.recv("<message xmlns='jabber:client' from='bob@example.com/desk' type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>");
    let events = h.take_events();
    assert!(matches!(&events[..], [Event::Message(m)] if m.chat_state == Some(ChatState::Active)), "{events:?}");
    h.recv("<message xmlns='jabber:client' from='bob@example.com/desk' type='chat'><dancing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert!(h.take_events().is_empty());
}

#[test]
fn chat_states_go_only_to_contacts_who_send_them() {
    let mut h = Harness::online_plain("");
    // Every message we send carries <active/> (how a contact finds out we support chat states) …
    h.command(Command::SendMessage { to: jid("bob@example.com"), body: "hi".into(), id: "m1".into() }).unwrap();
    assert!(h.sent_one().get_child("http://jabber.org/protocol/chatstates", "active").is_some());
    h.take_events();
    // … but standalone "typing" goes nowhere until bob has sent a chat state himself (XEP-0085 §5.1).
    h.command(Command::SendChatState { to: jid("bob@example.com"), state: ChatState::Composing }).unwrap();
    assert!(h.sent().is_empty());
    h.recv("<message xmlns='jabber:client' from='bob@example.com/desk' type='chat'><body>yo</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>");
    h.command(Command::SendChatState { to: jid("bob@example.com"), state: ChatState::Composing }).unwrap();
    let m = h.sent_one();
    assert_eq!((m.attr("type"), m.attr("to")), (Some("chat"), Some("bob@example.com")));
    assert!(m.get_child("http://jabber.org/protocol/chatstates", "composing").is_some());
    assert!(m.get_child("urn:xmpp:hints", "no-store").is_some(), "not archived or stored offline");
    assert!(m.get_child("jabber:client", "body").is_none());
    // Carol has never sent one.
    h.command(Command::SendChatState { to: jid("carol@example.com"), state: ChatState::Composing }).unwrap();
    assert!(h.sent().is_empty());
}

#[test]
fn sending_a_message_and_its_bounce_land_in_the_same_conversation() {
    let mut h = Harness::online_plain("");
    h.command(Command::SendMessage { to: jid("bob@example.com"), body: "hello <b>&".into(), id: "m2".into() }).unwrap();
    let m = h.sent_one();
    assert_eq!((m.attr("type"), m.attr("to")), (Some("chat"), Some("bob@example.com")));
    assert_eq!(m.get_child("jabber:client", "body").unwrap().text(), "hello <b>&");
    let id = m.attr("id").unwrap().to_owned();
    assert!(h.take_events().iter().any(|e| matches!(e, Event::MessageSent(s) if s.id.as_deref() == Some(id.as_str()))));

    h.recv(&format!("<message xmlns='jabber:client' from='bob@example.com' type='error' id='{id}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"));
    let err = h
        .take_events()
        .into_iter()
        .find_map(|e| if let Event::MessageError { with, id, error } = e { Some((with, id, error)) } else { None })
        .unwrap();
    assert_eq!(err.0, jid("bob@example.com"));
    assert_eq!(err.1.as_deref(), Some(id.as_str()));
    assert_eq!(err.2.condition, "service-unavailable");
}

#[test]
fn empty_and_oversized_messages_are_refused_before_sending() {
    let mut config = plain_config();
    config.max_frame = 1024;
    let mut h = Harness::new(config);
    h.login_plain("");
    assert_eq!(
        h.command(Command::SendMessage { to: jid("bob@example.com"), body: "  \n".into(), id: "m3".into() }),
        Err(CommandError::EmptyMessage)
    );
    assert!(matches!(
        h.command(Command::SendMessage { to: jid("bob@example.com"), body: "x".repeat(2000), id: "m4".into() }),
        Err(CommandError::TooLarge { max: 1024, .. })
    ));
    assert!(h.sent().is_empty());
}

#[test]
fn commands_before_online_are_refused() {
    let mut h = Harness::new(plain_config());
    assert_eq!(
        h.command(Command::SendMessage { to: jid("bob@example.com"), body: "hi".into(), id: "m5".into() }),
        Err(CommandError::NotOnline)
    );
}

// ---- online: iq from the server ------------------------------------------------------------------------

#[test]
fn ping_disco_and_unknown_requests_are_answered() {
    let mut h = Harness::online_plain("");
    h.recv("<iq xmlns='jabber:client' type='get' id='ping1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
    let pong = h.sent_one();
    assert_eq!(
        (pong.attr("type"), pong.attr("id"), pong.attr("to")),
        (Some("result"), Some("ping1"), Some("example.com"))
    );

    h.recv("<iq xmlns='jabber:client' type='get' id='d1' from='bob@example.com/desk'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    let disco = h.sent_one();
    let features = disco_features(&disco);
    assert!(features.contains(&"urn:xmpp:ping".to_owned()));
    assert!(features.contains(&"http://jabber.org/protocol/chatstates".to_owned()));

    h.recv("<iq xmlns='jabber:client' type='get' id='v1' from='bob@example.com/desk'><query xmlns='jabber:iq:version'/></iq>");
    let err = h.sent_one();
    assert_eq!(err.attr("type"), Some("error"));
    assert!(
        err.get_child("jabber:client", "error")
            .unwrap()
            .get_child("urn:ietf:params:xml:ns:xmpp-stanzas", "service-unavailable")
            .is_some()
    );

    // Results nobody asked for get no answer at all.
    h.recv("<iq xmlns='jabber:client' type='result' id='nope'/>");
    assert!(h.sent().is_empty());
}

#[test]
fn keepalive_pings_after_silence_and_a_dead_server_ends_the_session() {
    let mut h = Harness::online_plain("");
    h.advance(Duration::from_secs(59));
    assert!(h.sent().is_empty());
    h.advance(Duration::from_secs(2));
    let ping = h.sent_one();
    assert!(ping.get_child("urn:xmpp:ping", "ping").is_some());
    h.advance(Duration::from_secs(31));
    assert_eq!(closed_error(&h.events), Some(ClientError::Timeout { stage: "keepalive" }));
}

#[test]
fn an_answered_keepalive_keeps_the_session() {
    let mut h = Harness::online_plain("");
    h.advance(Duration::from_secs(61));
    let id = h.sent_one().attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}' from='example.com'/>"));
    h.advance(Duration::from_secs(40));
    assert!(h.client.is_online());
}

// ---- ending ---------------------------------------------------------------------------------------------

#[test]
fn polite_close_waits_for_the_servers_close() {
    let mut h = Harness::online_plain("");
    h.command(Command::Close).unwrap();
    assert!(h.sent_one().is("urn:ietf:params:xml:ns:xmpp-framing", "close"));
    assert!(!h.client.is_closed());
    h.recv("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    assert!(h.client.is_closed());
    assert!(h.events.contains(&Event::Closed { error: None }));
    assert!(h.sent().is_empty(), "no second close");
}

#[test]
fn stream_error_is_reported() {
    let mut h = Harness::online_plain("");
    h.recv("<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error>");
    match closed_error(&h.events) {
        Some(ClientError::Stream(e)) => assert_eq!(e.condition, "conflict"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_from_the_server_gets_a_stream_error() {
    let mut h = Harness::online_plain("");
    h.recv("<message xmlns='jabber:client'><body>unclosed");
    let sent = h.sent();
    assert!(sent[0].is("http://etherx.jabber.org/streams", "error"));
    assert!(sent[0].get_child("urn:ietf:params:xml:ns:xmpp-streams", "not-well-formed").is_some());
    assert!(sent[1].is("urn:ietf:params:xml:ns:xmpp-framing", "close"));
    assert!(matches!(closed_error(&h.events), Some(ClientError::Framing(_))));
}

#[test]
fn see_other_uri_redirects() {
    let mut h = Harness::new(plain_config());
    h.server_open();
    h.recv("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/ws'/>");
    assert!(h.events.contains(&Event::Redirect { uri: "wss://other.example.com/ws".into() }));
    assert!(h.client.is_closed());
}

#[test]
fn a_redirect_says_whether_the_server_proved_itself() {
    // Before SASL: not verified (the transport then follows it to the same host only).
    let mut h = Harness::new(rfc7677_config());
    h.server_open();
    assert!(!h.client.is_server_verified());
    // After a SCRAM login whose server signature checked out: verified.
    let mut h = Harness::new(rfc7677_config());
    scram_login_until_roster(&mut h, &["SCRAM-SHA-256"]);
    assert!(h.client.is_server_verified());
    h.recv("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/ws'/>");
    assert!(h.events.contains(&Event::Redirect { uri: "wss://other.example.com/ws".into() }));
    assert!(h.client.is_server_verified(), "still known when the transport handles the redirect");
    // PLAIN proves nothing about the server.
    let h = Harness::online_plain("");
    assert!(!h.client.is_server_verified());
}

#[test]
fn transport_loss_is_reported_once() {
    let mut h = Harness::online_plain("");
    h.client.handle_transport_closed();
    h.client.handle_transport_closed();
    h.drain();
    assert_eq!(h.take_events(), vec![Event::Closed { error: Some(ClientError::ConnectionLost) }]);
}

// ---- resuming after a lost connection ----------------------------------------------------------------

/// Drives an RFC 7677 SCRAM-SHA-256 login (server offering `mechanisms`) through bind with roster versioning;
/// returns the client's proof. The roster request is left unanswered.
fn scram_login_until_roster(h: &mut Harness, mechanisms: &[&str]) -> String {
    h.sent(); // the opening <open/>
    h.server_open();
    h.sasl_features(mechanisms);
    let auth = h.sent_one();
    assert_eq!(
        auth.attr("mechanism"),
        Some("SCRAM-SHA-256"),
        "the keys' mechanism, even when stronger ones are offered"
    );
    h.scram_challenge();
    let proof = h.sent_one().text();
    h.scram_success();
    h.server_open();
    h.bind_features("<ver xmlns='urn:xmpp:features:rosterver'/>");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid></bind></iq>");
    proof
}

#[test]
fn a_lost_session_resumes_with_its_keys_presence_and_versioned_roster() {
    let mut config = rfc7677_config();
    config.mechanisms = vec![Mechanism::ScramSha256];
    let mut h = Harness::new(config);
    assert!(h.client.resumption().is_none(), "no keys before authenticating");
    let first_proof = scram_login_until_roster(&mut h, &["SCRAM-SHA-256"]);
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster' ver='v1'><item jid='bob@example.com' subscription='both'/></query></iq>");
    assert!(h.client.is_online());
    h.command(Command::SetPresence(Availability { show: Show::Away, status: Some("lunch".into()), priority: 0 }))
        .unwrap();
    h.recv("<iq xmlns='jabber:client' type='set' id='p1' from='user@example.com'><query xmlns='jabber:iq:roster' ver='v2'><item jid='carol@example.com' subscription='to'/></query></iq>");
    h.client.handle_transport_closed();
    h.drain();
    assert!(matches!(closed_error(&h.events), Some(ClientError::ConnectionLost)));

    let resumed = h.client.resumption().expect("a SCRAM session can resume");
    assert!(matches!(&resumed.credentials, Credentials::Keys(k) if k.iterations == 4096), "{:?}", resumed.credentials);
    assert!(!format!("{:?}", resumed).contains("pencil"), "the password is not carried over");
    assert_eq!(resumed.mechanisms, [Mechanism::ScramSha256]);
    assert_eq!(resumed.initial_presence.show, Show::Away);
    let (ver, items) = resumed.cached_roster.clone().expect("the server versions rosters");
    assert_eq!(ver, "v2");
    let mut jids: Vec<String> = items.iter().map(|i| i.jid.to_string()).collect();
    jids.sort();
    assert_eq!(jids, ["bob@example.com", "carol@example.com"]);

    // The new session: the same proof without the password, the cached version asked for, presence kept.
    let mut h2 = Harness::new(resumed);
    let proof = scram_login_until_roster(&mut h2, &["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
    assert_eq!(proof, first_proof);
    let get = h2.sent().pop().unwrap();
    assert_eq!(get.get_child("jabber:iq:roster", "query").unwrap().attr("ver"), Some("v2"));
    h2.recv("<iq xmlns='jabber:client' type='result' id='t-2'/>");
    assert!(
        h2.events
            .iter()
            .any(|e| matches!(e, Event::Roster { items, ver } if items.len() == 2 && ver.as_deref() == Some("v2")))
    );
    let presence = h2.sent().into_iter().find(|e| e.is("jabber:client", "presence")).expect("initial presence");
    assert_eq!(presence.get_child("jabber:client", "show").unwrap().text(), "away");
    assert_eq!(presence.get_child("jabber:client", "status").unwrap().text(), "lunch");
}

#[test]
fn stale_keys_end_the_session_with_a_typed_error() {
    let mut h = Harness::new(rfc7677_config());
    scram_login_until_roster(&mut h, &["SCRAM-SHA-256"]);
    let resumed = h.client.resumption().unwrap();
    let mut h2 = Harness::new(resumed);
    h2.server_open();
    h2.sasl_features(&["SCRAM-SHA-256"]);
    // The password changed: a new salt.
    h2.recv(&format!(
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
        b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=QSXCR+Q6sek8bf92,i=4096")
    ));
    assert_eq!(closed_error(&h2.events), Some(ClientError::Sasl(SaslError::KeysStale)));
    assert!(!natter::xmpp::reconnect::worth_retrying(&ClientError::Sasl(SaslError::KeysStale)));
}

#[test]
fn a_plain_session_cannot_resume() {
    let h = Harness::online_plain("");
    assert!(h.client.resumption().is_none());
}

// ---- large rosters -------------------------------------------------------------------------------------

/// A roster result of `n` contacts, as one frame.
fn roster_result(n: usize) -> String {
    let items: String = (0..n)
        .map(|i| format!("<item jid='contact-{i:05}@example.com' name='Contact number {i}' subscription='both'><group>Group {}</group></item>", i % 40))
        .collect();
    format!("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'>{items}</query></iq>")
}

fn login_with_roster(config: Config, frame: &str) -> Harness {
    let mut h = Harness::new(config);
    h.plain_until_roster("");
    h.recv(frame);
    h
}

#[test]
fn the_browser_config_accepts_a_roster_larger_than_the_core_default() {
    let frame = roster_result(3_000);
    assert!(frame.len() > natter::xmpp::framing::DEFAULT_MAX_FRAME, "{} bytes", frame.len());

    // The core's default refuses it, with an error the UI can show.
    let h = login_with_roster(plain_config(), &frame);
    let error = closed_error(&h.events).expect("refused");
    assert!(matches!(error, ClientError::Framing(FramingError::TooLarge { .. })), "{error:?}");
    assert!(error.describe().contains("more than Natter accepts (256 KiB)"), "{}", error.describe());

    // The browser transport's config takes it.
    let options = natter::transport::ConnectOptions::with_password(jid("alice@example.com"), "secret".into(), None);
    let mut config = natter::transport::session_config(options);
    config.allow_plain = true;
    config.client_nonce = "abcdefghijklmnopqrstuvwx".into();
    config.id_seed = "t".into();
    let h = login_with_roster(config, &frame);
    assert!(h.client.is_online(), "{:?}", closed_error(&h.events));
    assert!(h.events.iter().any(|e| matches!(e, Event::Roster { items, .. } if items.len() == 3_000)));

    // And still has a limit.
    let too_big = "x".repeat(natter::transport::MAX_FRAME + 1);
    let mut h = h;
    h.recv(&too_big);
    assert!(matches!(closed_error(&h.events), Some(ClientError::Framing(FramingError::TooLarge { .. }))));
}
