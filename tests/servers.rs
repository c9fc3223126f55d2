#![cfg(not(target_arch = "wasm32"))]
//! The core against real Prosody and real ejabberd, each in two generations (Prosody 0.12 and 13, ejabberd
//! 23.01 and 24.12), over a native WebSocket, on loopback.
//!
//! The servers are started by the project's scripts (the README test command does it) and described by
//! the variables `scripts/{prosody,prosody13,ejabberd,ejabberd24}.sh env` print. When a server's variables are
//! absent (a plain `cargo test` on a machine without them) its tests say so and return; when they are set,
//! the server must answer.

mod support {
    pub mod native_ws;
}

use natter::xmpp::ClientError;
use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::{Credentials, Mechanism, SaslFailure};
use natter::xmpp::stanza::message::ChatState;
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::stanza::roster::{RosterItem, Subscription};
use natter::xmpp::{Command, Event};
use support::native_ws::{self, Conn, SERVERS, Server, fresh_account, fresh_account_at};

/// The servers whose env is set, with the script that runs each.
fn servers() -> Vec<(Server, &'static str)> {
    native_ws::servers().into_iter().map(|(s, _, script)| (s, script)).collect()
}

/// The modern generation (SASL2, Bind2, FAST).
fn is_modern(server: &Server) -> bool {
    matches!(server.name, "prosody13" | "ejabberd24")
}

fn env_prefix(server: &Server) -> &'static str {
    SERVERS.iter().find(|(n, ..)| *n == server.name).map(|(_, p, _)| *p).unwrap()
}

/// A fresh account for a test that changes roster state, so reruns against a running server stay clean.
/// SCRAM variants each server offers on this setup (see ../shared notes and the server configs).
fn scram_variants(server: &Server) -> &'static [Mechanism] {
    match server.name {
        "prosody" | "prosody13" => &[Mechanism::ScramSha1, Mechanism::ScramSha256],
        _ => &[Mechanism::ScramSha1, Mechanism::ScramSha256, Mechanism::ScramSha512],
    }
}

#[test]
fn logs_in_with_every_scram_variant_binds_and_loads_the_roster() {
    for (server, _) in servers() {
        for &mech in scram_variants(&server) {
            let mut config = server.config("alice", "alice-demo-pw");
            config.mechanisms = vec![mech];
            let mut c = Conn::open(&server, config);
            let used =
                c.wait_for("authenticating", |e| matches!(e, Event::Phase(natter::xmpp::Phase::Authenticating(_))));
            assert_eq!(used, Event::Phase(natter::xmpp::Phase::Authenticating(mech)), "{}", server.name);
            let roster = c.wait_for("roster", |e| matches!(e, Event::Roster { .. }));
            let resumed = c.client.resumption().expect("keys to log in again");
            assert!(
                matches!(&resumed.credentials, Credentials::Keys(k) if k.hash.mechanism() == mech),
                "{}: {:?}",
                server.name,
                resumed.credentials
            );
            let Event::Roster { items, .. } = roster else { unreachable!() };
            let bob = items
                .iter()
                .find(|i| i.jid == server.jid("bob"))
                .unwrap_or_else(|| panic!("{}: bob not in alice's roster: {items:?}", server.name));
            assert_eq!(bob.subscription, Subscription::Both, "{}", server.name);
            let online = c.wait_for("online", |e| matches!(e, Event::Online { .. }));
            let Event::Online { jid, .. } = online else { unreachable!() };
            assert_eq!(jid.bare(), &server.jid("alice"));
            assert!(jid.resource().is_some());
            c.close();
        }
    }
}

#[test]
fn the_strongest_offered_mechanism_is_chosen() {
    for (server, _) in servers() {
        let mut c = Conn::open(&server, server.config("alice", "alice-demo-pw"));
        let strongest = *scram_variants(&server).last().unwrap();
        assert_eq!(
            c.wait_for("auth", |e| matches!(e, Event::Phase(natter::xmpp::Phase::Authenticating(_)))),
            Event::Phase(natter::xmpp::Phase::Authenticating(strongest))
        );
        c.wait_for("online", |e| matches!(e, Event::Online { .. }));
        c.close();
    }
}

#[test]
fn wrong_password_is_not_authorized() {
    for (server, _) in servers() {
        let mut c = Conn::open(&server, server.config("alice", "not-the-password"));
        match c.wait_closed() {
            Some(ClientError::AuthFailed { failure: SaslFailure::NotAuthorized, .. }) => {}
            other => panic!("{}: expected not-authorized, got {other:?}", server.name),
        }
    }
}

#[test]
fn presence_and_messages_flow_both_ways() {
    for (server, _) in servers() {
        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        bob.command(Command::SetPresence(Availability { show: Show::Away, status: Some("lunch".into()), priority: 1 }));
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        let bob_jid = server.jid("bob");
        let p = alice.wait_for(
            "bob's presence",
            |e| matches!(e, Event::ContactPresence { jid, presence: Some(_) } if *jid == bob_jid),
        );
        let Event::ContactPresence { presence: Some(a), .. } = p else { unreachable!() };
        assert_eq!((a.show, a.status.as_deref()), (Show::Away, Some("lunch")), "{}", server.name);
        let alice_jid = server.jid("alice");
        bob.wait_for(
            "alice's presence",
            |e| matches!(e, Event::ContactPresence { jid, presence: Some(_) } if *jid == alice_jid),
        );

        alice.command(Command::SendMessage {
            to: bob_jid.clone(),
            body: "hi bob <3 & \u{1F600}".into(),
            id: "m0".into(),
        });
        // Tests run in parallel on the same server: match this test's own message, not any message.
        let m = bob.wait_for(
            "alice's message",
            |e| matches!(e, Event::Message(m) if m.from.as_ref().is_some_and(|f| f.bare() == &alice_jid)),
        );
        let Event::Message(m) = m else { unreachable!() };
        assert_eq!(m.body(None), Some("hi bob <3 & \u{1F600}"));
        assert_eq!(m.from.as_ref().unwrap().bare(), &alice_jid);

        bob.command(Command::SendMessage { to: alice_jid.clone(), body: "/me waves back".into(), id: "m1".into() });
        let m = alice.wait_for(
            "bob's message",
            |e| matches!(e, Event::Message(m) if m.from.as_ref().is_some_and(|f| f.bare() == &bob_jid)),
        );
        let Event::Message(m) = m else { unreachable!() };
        assert_eq!(m.me_action(), Some("waves back"));
        assert_eq!(m.chat_state, Some(ChatState::Active), "{}: <active/> rides on messages", server.name);

        // A standalone chat state (with its <no-store/> hint) gets through the server; bob's messages carried
        // <active/>, so alice's core now sends them to him.
        alice.command(Command::SendChatState { to: bob_jid.clone(), state: ChatState::Composing });
        let s = bob.wait_for("alice typing", |e| matches!(e, Event::ChatState { from, .. } if *from == alice_jid));
        assert_eq!(s, Event::ChatState { from: alice_jid.clone(), state: ChatState::Composing }, "{}", server.name);

        bob.close();
        alice.wait_for(
            "bob offline",
            |e| matches!(e, Event::ContactPresence { jid, presence: None } if *jid == bob_jid),
        );
        alice.close();
    }
}

#[test]
fn adding_and_removing_a_contact_with_the_subscription_handshake() {
    for (server, script) in servers() {
        let (u1, p1) = fresh_account(script, "ann");
        let (u2, p2) = fresh_account(script, "ben");
        let (j1, j2) = (server.jid(&u1), server.jid(&u2));
        let mut ann = Conn::online(&server, server.config(&u1, &p1));
        let mut ben = Conn::online(&server, server.config(&u2, &p2));

        ann.command(Command::AddContact { jid: j2.clone(), name: Some("Ben".into()), groups: vec!["Test".into()] });
        ann.wait_for(
            "roster push with pending request",
            |e| matches!(e, Event::RosterPush { item, .. } if item.jid == j2 && item.name.as_deref() == Some("Ben")),
        );
        ben.wait_for("subscription request", |e| matches!(e, Event::SubscriptionRequest { from, .. } if *from == j1));
        ben.command(Command::ApproveSubscription { jid: j1.clone() });
        // The approval, Ben's presence and his request back (he asked when approving) arrive in an order of the
        // server's choosing: wait for all three without dropping the ones that came first.
        until(&mut ann, "approval, ben online and ben's request", |ev| {
            ev.iter().any(|e| matches!(e, Event::SubscriptionApproved { from } if *from == j2))
                && ev.iter().any(|e| matches!(e, Event::ContactPresence { jid, presence: Some(_) } if *jid == j2))
                && ev.iter().any(|e| matches!(e, Event::SubscriptionRequest { from, .. } if *from == j2))
        });
        ann.command(Command::ApproveSubscription { jid: j2.clone() });
        ben.wait_for("mutual", |e| matches!(e, Event::RosterPush { item, .. } if item.jid == j1 && item.subscription == Subscription::Both));

        ann.command(Command::RemoveContact { jid: j2.clone() });
        ann.wait_for("removal push", |e| matches!(e, Event::RosterPush { item, .. } if item.jid == j2 && item.subscription == Subscription::Remove));
        ben.wait_for(
            "ann gone offline for ben",
            |e| matches!(e, Event::ContactPresence { jid, presence: None } if *jid == j1),
        );
        ann.close();
        ben.close();
    }
}

/// The roster item for `jid` as a fresh login of the account sees it (what the server stored).
fn stored_item(server: &Server, user: &str, password: &str, jid: &BareJid) -> RosterItem {
    let mut c = Conn::open(server, server.config(user, password));
    let Event::Roster { items, .. } = c.wait_for("roster", |e| matches!(e, Event::Roster { .. })) else {
        unreachable!()
    };
    c.wait_for("online", |e| matches!(e, Event::Online { .. }));
    c.close();
    items.into_iter().find(|i| i.jid == *jid).unwrap_or_else(|| panic!("{}: {jid} not in the roster", server.name))
}

#[test]
fn a_new_name_and_new_groups_saved_together_are_both_kept_and_adding_again_loses_nothing() {
    for (server, script) in servers() {
        let (u1, p1) = fresh_account(script, "nia");
        let (u2, _) = fresh_account(script, "nob");
        let j2 = server.jid(&u2);
        let mut ann = Conn::online(&server, server.config(&u1, &p1));
        ann.command(Command::AddContact { jid: j2.clone(), name: Some("Nob".into()), groups: vec!["Test".into()] });
        ann.wait_for("added", |e| matches!(e, Event::RosterPush { item, .. } if item.jid == j2));

        // Issue 16, item 2: name and groups changed in one Save.
        ann.command(Command::UpdateContact {
            jid: j2.clone(),
            name: Some("Nobby".into()),
            groups: vec!["Choir".into(), "Work".into()],
        });
        let push = ann.wait_for(
            "the server's push of the change",
            |e| matches!(e, Event::RosterPush { item, .. } if item.jid == j2 && item.name.as_deref() == Some("Nobby")),
        );
        let Event::RosterPush { item, .. } = push else { unreachable!() };
        assert_eq!(item.groups, ["Choir", "Work"], "{}", server.name);

        // Issue 16, item 1: adding the same contact again (the add form has no name) keeps what is stored.
        ann.command(Command::AddContact { jid: j2.clone(), name: None, groups: vec![] });
        ann.pump_until_quiet();
        ann.close();
        let stored = stored_item(&server, &u1, &p1, &j2);
        assert_eq!(stored.name.as_deref(), Some("Nobby"), "{}", server.name);
        assert_eq!(stored.groups, ["Choir", "Work"], "{}", server.name);
        assert!(stored.pending_out, "{}: the request is still pending", server.name);
    }
}

#[test]
fn a_subscription_request_to_a_server_that_does_not_exist_comes_back_as_an_error() {
    for (server, script) in servers() {
        let (u1, p1) = fresh_account(script, "nid");
        let mut ann = Conn::online(&server, server.config(&u1, &p1));
        let nowhere = BareJid::parse("carol@nowhere.invalid").unwrap();
        ann.command(Command::AddContact { jid: nowhere.clone(), name: None, groups: vec![] });
        let e = ann.wait_for("the bounce", |e| matches!(e, Event::PresenceError { from, .. } if *from == nowhere));
        let Event::PresenceError { error, .. } = e else { unreachable!() };
        // Prosody: not-allowed ("Communication with remote domains is not enabled"); ejabberd: forbidden.
        assert!(!error.describe().is_empty(), "{}: {error:?}", server.name);
        ann.close();
    }
}

#[test]
fn carbons_show_what_our_other_session_sends() {
    for (server, _) in servers() {
        let (user, password) = fresh_account(script_of(&server), "cc");
        let me = server.jid(&user);
        let mut phone = Conn::online(&server, server.config(&user, &password));
        let mut laptop = Conn::online(&server, server.config(&user, &password));
        // Wait until the server has processed the laptop's carbons enable (its answer proves it).
        laptop.pump_until_quiet();
        // To carol: no other test waits for her messages.
        phone.command(Command::SendMessage {
            to: server.jid("carol"),
            body: "sent from the phone".into(),
            id: "m2".into(),
        });
        let e = laptop.wait_for("sent carbon", |e| matches!(e, Event::MessageSent(_)));
        let Event::MessageSent(m) = e else { unreachable!() };
        assert_eq!(m.to.as_ref().unwrap().bare(), &server.jid("carol"), "{}", server.name);
        assert_eq!(m.body(None), Some("sent from the phone"));
        assert_eq!(m.from.as_ref().unwrap().bare(), &me);
        phone.close();
        laptop.close();
    }
}

fn script_of(server: &Server) -> &'static str {
    SERVERS.iter().find(|(n, ..)| *n == server.name).map(|(.., s)| *s).unwrap()
}

/// A second session from the first one's `Client::resumption` (the SCRAM keys, never the password), as the
/// browser's reconnect does. `Ok` when it got online, `Err` with why it ended otherwise.
fn log_in_again_from_keys(server: &Server, mech: Mechanism) -> Result<(), Option<ClientError>> {
    let mut config = server.config("alice", "alice-demo-pw");
    config.mechanisms = vec![mech];
    let first = Conn::online(server, config);
    let mut again = first.client.resumption().expect("a SCRAM login leaves keys to resume with");
    let fresh = server.config("alice", "unused");
    (again.client_nonce, again.id_seed) = (fresh.client_nonce, fresh.id_seed);
    first.close();
    let mut c = Conn::open(server, again);
    let end = c.wait_for("online or closed", |e| matches!(e, Event::Online { .. } | Event::Closed { .. }));
    match end {
        Event::Online { .. } => {
            c.close();
            Ok(())
        }
        Event::Closed { error } => Err(error),
        _ => unreachable!(),
    }
}

#[test]
fn kept_keys_log_in_again_where_the_salt_is_stable_and_are_refused_where_it_is_not() {
    use natter::xmpp::sasl::SaslError;
    let stale = |r: &Result<(), Option<ClientError>>| matches!(r, Err(Some(ClientError::Sasl(SaslError::KeysStale))));
    for (server, _) in servers() {
        // localhost on both servers stores passwords in plain (so that every SCRAM variant can be offered) and
        // draws a new salt at every login: keys from one login cannot fit the next.
        for &mech in scram_variants(&server) {
            let r = log_in_again_from_keys(&server, mech);
            assert!(stale(&r), "{} localhost {mech:?}: {r:?}", server.name);
        }
        // hashed.localhost on both keeps one salt per account (salted+hashed storage, SCRAM-SHA-1): the keys log in.
        let hashed = Server {
            domain: std::env::var(format!("{}_HASHED_DOMAIN", env_prefix(&server)))
                .unwrap_or_else(|_| "hashed.localhost".into()),
            ..server.clone()
        };
        let r = log_in_again_from_keys(&hashed, Mechanism::ScramSha1);
        assert_eq!(r, Ok(()), "{} hashed.localhost", server.name);
    }
}

/// The stream features a modern server sends to a stream header with `from='alice@domain'` (Prosody 13 offers
/// FAST only then): one frame, read raw.
fn modern_features(server: &Server) -> natter::xmpp::xml::Element {
    use tungstenite::client::IntoClientRequest;
    let mut req = server.ws_url.as_str().into_client_request().unwrap();
    req.headers_mut().insert("Sec-WebSocket-Protocol", "xmpp".parse().unwrap());
    let (mut ws, _) = tungstenite::connect(req).unwrap();
    let open = format!(
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='{}' from='alice@{}' version='1.0'/>",
        server.domain, server.domain
    );
    ws.send(tungstenite::Message::text(open)).unwrap();
    loop {
        let frame = ws.read().unwrap();
        let Ok(text) = frame.to_text() else { continue };
        let el = natter::xmpp::xml::Element::parse(text).unwrap();
        if el.is("http://etherx.jabber.org/streams", "features") {
            let _ = ws.close(None);
            return el;
        }
    }
}

#[test]
fn the_modern_servers_offer_sasl2_with_bind2_inline_sm_and_fast() {
    const SASL2: &str = "urn:xmpp:sasl:2";
    for (server, _) in servers().into_iter().filter(|(s, _)| is_modern(s)) {
        let features = modern_features(&server);
        let auth = features
            .get_child(SASL2, "authentication")
            .unwrap_or_else(|| panic!("{}: no SASL2 <authentication/>: {}", server.name, features.to_xml()));
        let mechanisms: Vec<String> = auth.children_named(SASL2, "mechanism").map(|m| m.text()).collect();
        for &mech in scram_variants(&server) {
            assert!(mechanisms.iter().any(|m| m == mech.name()), "{}: {mech:?} not in {mechanisms:?}", server.name);
        }
        let inline = auth.get_child(SASL2, "inline").unwrap_or_else(|| panic!("{}: no <inline/>", server.name));
        let bind2 = inline.get_child("urn:xmpp:bind:0", "bind");
        assert!(bind2.is_some(), "{}: no Bind2 in {}", server.name, inline.to_xml());
        let bind_features: Vec<&str> =
            bind2.unwrap().elements().flat_map(|i| i.elements()).filter_map(|f| f.attr("var")).collect();
        assert!(bind_features.contains(&"urn:xmpp:carbons:2"), "{}: {bind_features:?}", server.name);
        assert!(bind_features.contains(&"urn:xmpp:sm:3"), "{}: {bind_features:?}", server.name);
        assert!(inline.get_child("urn:xmpp:sm:3", "sm").is_some(), "{}: no inline SM", server.name);
        let fast = inline.get_child("urn:xmpp:fast:0", "fast").unwrap_or_else(|| panic!("{}: no FAST", server.name));
        let fast_mechs: Vec<String> = fast.children_named("urn:xmpp:fast:0", "mechanism").map(|m| m.text()).collect();
        assert!(fast_mechs.iter().any(|m| m == "HT-SHA-256-NONE"), "{}: {fast_mechs:?}", server.name);
    }
}

#[test]
fn the_stable_servers_offer_no_sasl2() {
    // The legacy path is what these test: were SASL2 to appear here, the matrix would have lost it.
    for (server, _) in servers().into_iter().filter(|(s, _)| !is_modern(s)) {
        let features = modern_features(&server);
        assert!(features.get_child("urn:xmpp:sasl:2", "authentication").is_none(), "{}", server.name);
        assert!(features.get_child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms").is_some(), "{}", server.name);
    }
}

// ---- SASL2, Bind2 and FAST (the modern servers), and the legacy path everywhere ------------------------

#[test]
fn the_legacy_login_works_on_every_server() {
    // SASL2 off: RFC 6120 SASL, a stream restart and a bind iq, as on servers without SASL2.
    for (server, _) in servers() {
        let mut config = server.config("alice", "alice-demo-pw");
        config.sasl2 = false;
        let mut c = Conn::open(&server, config);
        c.wait_for("binding", |e| matches!(e, Event::Phase(natter::xmpp::Phase::Binding)));
        let Event::Online { jid, .. } = c.wait_for("online", |e| matches!(e, Event::Online { .. })) else {
            unreachable!()
        };
        let kept = c.client.resumption().map(|cfg| cfg.credentials);
        assert!(matches!(kept, Some(Credentials::Keys(_))), "{}: the keys to log in again", server.name);
        assert_eq!(jid.bare(), &server.jid("alice"), "{}", server.name);
        c.close();
    }
}

#[test]
fn sasl2_binds_inline_on_the_modern_servers() {
    for (server, _) in servers().into_iter().filter(|(s, _)| is_modern(s)) {
        let strongest = *scram_variants(&server).last().unwrap();
        let (c, seen) = log_in(&server, server.config("alice", "alice-demo-pw"));
        let Some(Event::Online { jid, .. }) = seen.last() else { panic!("{}: {seen:?}", server.name) };
        assert_eq!(jid.bare(), &server.jid("alice"), "{}", server.name);
        // Bind2 names the resource after the tag (Prosody `Natter~…`, ejabberd `Natter.…`).
        assert!(jid.resource().is_some_and(|r| r.starts_with("Natter")), "{}: {jid}", server.name);
        assert!(seen.contains(&Event::Phase(natter::xmpp::Phase::Authenticating(strongest))), "{}", server.name);
        assert!(!seen.contains(&Event::Phase(natter::xmpp::Phase::Binding)), "{}: no bind iq after SASL2", server.name);
        let kept = c.client.resumption().map(|cfg| cfg.credentials);
        assert!(matches!(kept, Some(Credentials::Keys(_))), "{}: the keys to log in again", server.name);
        // Nothing asked, nothing issued.
        assert!(!seen.iter().any(|e| matches!(e, Event::FastToken(_))), "{}", server.name);
        c.close();
    }
}

#[test]
fn the_stable_servers_log_in_the_legacy_way_even_when_sasl2_is_wanted() {
    for (server, _) in servers().into_iter().filter(|(s, _)| !is_modern(s)) {
        let mut config = server.config("alice", "alice-demo-pw");
        config.request_fast_token = true;
        let mut c = Conn::open(&server, config);
        c.wait_for("bind", |e| matches!(e, Event::Phase(natter::xmpp::Phase::Binding)));
        c.wait_for("online", |e| matches!(e, Event::Online { .. }));
        assert!(!c.events.iter().any(|e| matches!(e, Event::FastToken(_))), "{}", server.name);
        c.close();
    }
}

/// Logs in (until online, or closed) and returns every event up to there.
fn log_in(server: &Server, config: natter::xmpp::Config) -> (Conn, Vec<Event>) {
    let mut c = Conn::open(server, config);
    let events = c.until_online_or_closed();
    (c, events)
}

fn tokens_of(events: &[Event]) -> Vec<natter::xmpp::sasl::FastToken> {
    events.iter().filter_map(|e| if let Event::FastToken(t) = e { Some(t.clone()) } else { None }).collect()
}

fn closed_with(events: &[Event]) -> Option<Option<ClientError>> {
    events.iter().find_map(|e| if let Event::Closed { error } = e { Some(error.clone()) } else { None })
}

/// A password login on `server` asking for a token: the config (its device) and the token issued.
fn token_from_password(server: &Server) -> (natter::xmpp::Config, natter::xmpp::sasl::FastToken) {
    let mut config = server.config("alice", "alice-demo-pw");
    config.request_fast_token = true;
    let (c, events) = log_in(server, config.clone());
    let issued = tokens_of(&events);
    assert_eq!(issued.len(), 1, "{}: one token issued: {events:?}", server.name);
    assert_eq!(issued[0].count, 0);
    assert!(issued[0].expiry.is_some(), "{}: the token says when it expires", server.name);
    c.close();
    (config, issued[0].clone())
}

/// The same device logging in with `token` (a fresh nonce and id seed, as the transport draws).
fn with_token(
    server: &Server,
    device: &natter::xmpp::Config,
    token: natter::xmpp::sasl::FastToken,
) -> natter::xmpp::Config {
    let fresh = server.config("alice", "unused");
    natter::xmpp::Config {
        credentials: natter::xmpp::sasl::Credentials::Token(token),
        request_fast_token: false,
        client_nonce: fresh.client_nonce,
        id_seed: fresh.id_seed,
        ..device.clone()
    }
}

#[test]
fn fast_a_token_is_issued_used_and_invalidated_on_the_modern_servers() {
    use natter::xmpp::sasl::SaslFailure;
    for (server, _) in servers().into_iter().filter(|(s, _)| is_modern(s)) {
        let (device, token) = token_from_password(&server);

        // Used: one round trip, no password, no SCRAM keys; the count went up by one.
        let (c, events) = log_in(&server, with_token(&server, &device, token.clone()));
        assert!(events.contains(&Event::Phase(natter::xmpp::Phase::Authenticating(Mechanism::HtSha256None))));
        let Some(Event::Online { jid, .. }) = events.last() else { panic!("{}: {events:?}", server.name) };
        assert_eq!(jid.bare(), &server.jid("alice"));
        let kept = c.client.resumption().map(|cfg| cfg.credentials);
        assert!(matches!(kept, Some(Credentials::Token(_))), "{}: no SCRAM keys, the token", server.name);
        let advanced = tokens_of(&events);
        assert_eq!(advanced.first().map(|t| (t.secret.clone(), t.count)), Some((token.secret.clone(), 1)));
        c.close();

        // Invalidated (logging out): the server confirms, and the token is dead from then on.
        let mut logout = with_token(&server, &device, advanced[0].clone());
        logout.invalidate_fast_token = true;
        let mut c = Conn::open(&server, logout);
        assert_eq!(c.wait_closed(), None, "{}: a polite end after the invalidation", server.name);
        assert!(c.events.contains(&Event::FastTokenInvalidated), "{}: {:?}", server.name, c.events);
        let (_, events) = log_in(&server, with_token(&server, &device, advanced[0].clone()));
        match closed_with(&events) {
            Some(Some(ClientError::FastTokenRefused { failure: SaslFailure::NotAuthorized, .. })) => {}
            other => panic!("{}: an invalidated token must be refused, got {other:?}", server.name),
        }
    }
}

#[test]
fn fast_a_forged_token_is_refused_cleanly() {
    for (server, _) in servers().into_iter().filter(|(s, _)| is_modern(s)) {
        let device = server.config("alice", "alice-demo-pw");
        let forged =
            natter::xmpp::sasl::FastToken::issued(Mechanism::HtSha256None, "secret-token:forged", None).unwrap();
        let (_, events) = log_in(&server, with_token(&server, &device, forged));
        let error = closed_with(&events).flatten();
        assert!(
            matches!(error, Some(ClientError::FastTokenRefused { .. })),
            "{}: a forged token is a typed refusal: {error:?}",
            server.name
        );
        assert!(error.unwrap().needs_password());
        assert!(!events.iter().any(|e| matches!(e, Event::Online { .. })));
    }
}

#[test]
fn fast_a_reconnect_uses_the_token_where_kept_keys_are_refused() {
    // `localhost` stores passwords in plain: a new salt at every login, so SCRAM keys never fit twice
    // (kept_keys_log_in_again… above). With a token from the first login, the reconnect works there too.
    for (server, _) in servers().into_iter().filter(|(s, _)| is_modern(s)) {
        let mut config = server.config("alice", "alice-demo-pw");
        config.request_fast_token = true;
        let first = Conn::online(&server, config);
        let mut again = first.client.resumption().expect("a token (and keys) to log in again with");
        assert!(matches!(again.credentials, natter::xmpp::sasl::Credentials::Token(_)), "{}", server.name);
        let fresh = server.config("alice", "unused");
        (again.client_nonce, again.id_seed) = (fresh.client_nonce, fresh.id_seed);
        first.close();
        let (c, events) = log_in(&server, again);
        assert!(matches!(events.last(), Some(Event::Online { .. })), "{}: {events:?}", server.name);
        c.close();
    }
}

/// Prosody 13's `shortfast.localhost` rotates a token older than 2 s and expires it after 10 s.
fn short_fast_server() -> Option<Server> {
    let (server, _) = servers().into_iter().find(|(s, _)| s.name == "prosody13")?;
    let domain = std::env::var("NATTER_PROSODY13_SHORT_FAST_DOMAIN").ok()?;
    Some(Server { domain, ..server })
}

#[test]
fn fast_a_token_is_rotated_and_the_older_one_retired() {
    use natter::xmpp::sasl::SaslFailure;
    let Some(server) = short_fast_server() else {
        eprintln!("NATTER_PROSODY13_SHORT_FAST_DOMAIN not set: rotation not tested");
        return;
    };
    let (device, token) = token_from_password(&server);
    // Fresh: kept as it is.
    let (c, events) = log_in(&server, with_token(&server, &device, token.clone()));
    assert_eq!(tokens_of(&events).len(), 1, "only the advanced count: {events:?}");
    c.close();
    // Older than 2 s: the server hands out a new token in <success/>, whose count starts again.
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    let mut used = token.clone();
    used.count = 1;
    let (c, events) = log_in(&server, with_token(&server, &device, used));
    let handed = tokens_of(&events);
    assert_eq!(handed.len(), 2, "the advanced count, then the rotated token: {events:?}");
    let rotated = handed[1].clone();
    assert_ne!(rotated.secret, token.secret);
    assert_eq!(rotated.count, 0);
    assert_eq!(c.client.resumption().unwrap().credentials, natter::xmpp::sasl::Credentials::Token(rotated.clone()));
    c.close();
    // The new token works; once it has been used, the old one is retired (XEP-0484 §3.5).
    let (c, events) = log_in(&server, with_token(&server, &device, rotated));
    assert!(matches!(events.last(), Some(Event::Online { .. })), "{events:?}");
    c.close();
    let (_, events) = log_in(&server, with_token(&server, &device, token));
    assert!(
        matches!(
            closed_with(&events),
            Some(Some(ClientError::FastTokenRefused { failure: SaslFailure::NotAuthorized, .. }))
        ),
        "{events:?}"
    );
}

#[test]
fn fast_an_expired_token_is_refused_cleanly() {
    let Some(server) = short_fast_server() else {
        eprintln!("NATTER_PROSODY13_SHORT_FAST_DOMAIN not set: expiry not tested");
        return;
    };
    let (device, token) = token_from_password(&server);
    // shortfast.localhost's tokens expire after 10 s (a wait for the server, not a timing assertion).
    std::thread::sleep(std::time::Duration::from_millis(10_500));
    let (_, events) = log_in(&server, with_token(&server, &device, token));
    match closed_with(&events) {
        Some(Some(e @ ClientError::FastTokenRefused { .. })) => assert!(e.needs_password()),
        other => panic!("an expired token must be refused, got {other:?}: {events:?}"),
    }
}

/// Bodies of the messages from `from` that `c` shows until one with body `last` (included); fails after
/// the usual patience. Events other than messages from `from` are kept.
fn bodies_until(c: &mut Conn, from: &natter::xmpp::jid::BareJid, last: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + support::native_ws::PATIENCE;
    let mut bodies = Vec::new();
    loop {
        let mut rest = Vec::new();
        for e in std::mem::take(&mut c.events) {
            match e {
                Event::Message(m) if m.from.as_ref().is_some_and(|f| f.bare() == from) => {
                    bodies.push(m.body(None).unwrap_or_default().to_owned())
                }
                e => rest.push(e),
            }
        }
        c.events = rest;
        if bodies.iter().any(|b| b == last) {
            return bodies;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {last:?}; got {bodies:?}");
        c.step();
    }
}

/// Turns `c`'s loop until its events (kept, not consumed) satisfy `done`.
fn until(c: &mut Conn, what: &str, done: impl Fn(&[Event]) -> bool) {
    let deadline = std::time::Instant::now() + support::native_ws::PATIENCE;
    while !done(&c.events) {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}; events: {:?}", c.events);
        c.step();
    }
}

fn acked(events: &[Event], id: &str) -> usize {
    events.iter().filter(|e| matches!(e, Event::MessageAcked { id: a } if a == id)).count()
}

fn send(c: &mut Conn, to: &natter::xmpp::jid::BareJid, id: &str) {
    c.command(Command::SendMessage { to: to.clone(), body: id.into(), id: id.into() });
}

/// The next session of `c`'s account, as the browser's reconnect makes it: `Client::resumption` with a fresh
/// nonce and id seed.
fn next_config(server: &Server, c: &Conn) -> natter::xmpp::Config {
    let mut config = c.client.resumption().expect("a SCRAM login leaves keys");
    let fresh = server.config("unused", "unused");
    (config.client_nonce, config.id_seed) = (fresh.client_nonce, fresh.id_seed);
    config
}

#[test]
fn stream_management_acks_resumes_after_an_abrupt_close_and_rebinds_when_the_session_is_gone() {
    for (server, script) in servers() {
        let name = server.name;
        // Keys log in again only where the salt is stable: the hashed host (see the test above). Fresh accounts:
        // another test's session of a demo account would take the messages sent to the bare JID.
        let prefix = if name == "prosody" { "NATTER_PROSODY" } else { "NATTER_EJABBERD" };
        let server = Server {
            domain: std::env::var(format!("{prefix}_HASHED_DOMAIN")).unwrap_or_else(|_| "hashed.localhost".into()),
            ..server.clone()
        };
        let (a, a_pw) = fresh_account_at(script, "sma", Some(&server.domain));
        let (b, b_pw) = fresh_account_at(script, "smb", Some(&server.domain));
        let (alice_jid, bob_jid) = (server.jid(&a), server.jid(&b));
        let mut bob = Conn::online(&server, server.config(&b, &b_pw));
        bob.pump_until_quiet();
        let mut alice = Conn::online(&server, server.config(&a, &a_pw));
        alice.pump_until_quiet();

        // Enabled, counted and acknowledged: the server's <a h/> names our message.
        send(&mut alice, &bob_jid, "sm-1");
        alice.wait_for("sm-1 acked", |e| matches!(e, Event::MessageAcked { id } if id == "sm-1"));
        assert!(alice.client.resumption().unwrap().stream.unwrap().resumable(), "{name}: resumable session");
        // CSI is accepted (the stream goes on). Back to active: Prosody 0.12's csi_simple may hold back what it
        // had already written when <inactive/> arrives, until something important comes (seen here).
        alice.command(Command::SetActive(false));
        alice.command(Command::SetActive(true));
        let got = bob.wait_for("sm-1", |e| matches!(e, Event::Message(m) if m.body(None) == Some("sm-1")));
        let Event::Message(m) = got else { unreachable!() };
        assert_eq!(m.origin_id.as_deref(), Some("sm-1"), "{name}: origin-id");
        if name == "prosody" {
            assert!(m.stanza_id.is_some(), "the archive's stanza-id by our account's server (mod_mam) is kept");
        }
        assert!(m.receipt_request && m.markable, "{name}: receipt and markers requested");

        // Abrupt close (no <close/>, no WebSocket close frame) right after a message: the server keeps the
        // session; bob writes while alice is away.
        send(&mut alice, &bob_jid, "sm-2");
        let config = next_config(&server, &alice);
        drop(alice);
        send(&mut bob, &alice_jid, "while-away");
        until(&mut bob, "while-away acked", |ev| acked(ev, "while-away") == 1);

        let mut alice = Conn::open(&server, config);
        // (`<resumed h/>` acknowledges sm-2 before Online when the server got it; else it is replayed.)
        until(&mut alice, "resumed and sm-2 acked", |ev| {
            ev.iter().any(|e| matches!(e, Event::Online { resumed: true, .. })) && acked(ev, "sm-2") == 1
        });
        assert!(!alice.events.iter().any(|e| matches!(e, Event::Roster { .. })), "{name}: nothing reloaded");
        assert_eq!(bodies_until(&mut alice, &bob_jid, "while-away"), ["while-away"], "{name}: shown once");
        send(&mut alice, &bob_jid, "sm-3");
        assert_eq!(bodies_until(&mut bob, &alice_jid, "sm-3"), ["sm-2", "sm-3"], "{name}: exactly once, in order");

        // The session ends on the server (a polite close), then a resumption of it is attempted: <failed/>,
        // a fresh bind, and the message sent right before the close is not lost nor shown twice.
        send(&mut alice, &bob_jid, "sm-4");
        let config = next_config(&server, &alice);
        alice.close();
        let mut alice = Conn::open(&server, config);
        until(&mut alice, "bound afresh and sm-4 acked", |ev| {
            ev.iter().any(|e| matches!(e, Event::Online { resumed: false, .. })) && acked(ev, "sm-4") == 1
        });
        assert!(alice.events.iter().any(|e| matches!(e, Event::Roster { .. })), "{name}: a fresh session");
        send(&mut alice, &bob_jid, "sm-5");
        assert_eq!(bodies_until(&mut bob, &alice_jid, "sm-5"), ["sm-4", "sm-5"], "{name}: exactly once, in order");
        alice.close();
        bob.close();
    }
}

#[test]
fn fast_and_inline_resumption_bring_a_dropped_session_back_in_one_exchange() {
    // `localhost` (plain storage: kept keys would be refused) with a FAST token, on the modern servers: the
    // reconnect authenticates with the token and resumes the XEP-0198 session inside the same SASL2 exchange.
    for (server, script) in servers().into_iter().filter(|(s, _)| is_modern(s)) {
        let name = server.name;
        let (a, a_pw) = fresh_account(script, "fir");
        let (b, b_pw) = fresh_account(script, "fis");
        let (alice_jid, bob_jid) = (server.jid(&a), server.jid(&b));
        let mut bob = Conn::online(&server, server.config(&b, &b_pw));
        bob.pump_until_quiet();
        let mut config = server.config(&a, &a_pw);
        config.request_fast_token = true;
        let mut alice = Conn::online(&server, config);
        alice.pump_until_quiet();
        send(&mut alice, &bob_jid, "fir-1");
        alice.wait_for("fir-1 acked", |e| matches!(e, Event::MessageAcked { id } if id == "fir-1"));
        // Dropped right after a message; bob writes while alice is away.
        send(&mut alice, &bob_jid, "fir-2");
        let config = next_config(&server, &alice);
        assert!(matches!(config.credentials, natter::xmpp::sasl::Credentials::Token(_)), "{name}");
        drop(alice);
        send(&mut bob, &alice_jid, "while-away");
        until(&mut bob, "while-away acked", |ev| acked(ev, "while-away") == 1);

        let mut alice = Conn::open(&server, config);
        let events = alice.until_online_or_closed();
        let Some(Event::Online { resumed, .. }) = events.last() else { panic!("{name}: {events:?}") };
        assert!(*resumed, "{name}: resumed: {events:?}");
        let fast = natter::xmpp::Phase::Authenticating(Mechanism::HtSha256None);
        assert!(events.contains(&Event::Phase(fast)), "{name}: logged in with the token: {events:?}");
        for phase in [natter::xmpp::Phase::Resuming, natter::xmpp::Phase::Binding, natter::xmpp::Phase::LoadingRoster] {
            assert!(!events.contains(&Event::Phase(phase)), "{name}: {phase:?} means another round trip: {events:?}");
        }
        alice.events.extend(events);
        assert_eq!(bodies_until(&mut alice, &bob_jid, "while-away"), ["while-away"], "{name}: shown once");
        send(&mut alice, &bob_jid, "fir-3");
        assert_eq!(bodies_until(&mut bob, &alice_jid, "fir-3"), ["fir-1", "fir-2", "fir-3"], "{name}: once, in order");
        alice.close();
        bob.close();
    }
}
