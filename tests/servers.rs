#![cfg(not(target_arch = "wasm32"))]
//! The core against real Prosody and real ejabberd over a native WebSocket, on loopback.
//!
//! The servers are started by the project's scripts (the README test command does it) and described by
//! the variables `scripts/prosody.sh env` / `scripts/ejabberd.sh env` print. When a server's variables are
//! absent (a plain `cargo test` on a machine without them) its tests say so and return; when they are set,
//! the server must answer.

mod support {
    pub mod native_ws;
}

use std::process::Command as Process;

use natter::xmpp::ClientError;
use natter::xmpp::sasl::{Credentials, Mechanism, SaslFailure};
use natter::xmpp::stanza::message::ChatState;
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::stanza::roster::Subscription;
use natter::xmpp::{Command, Event};
use support::native_ws::{Conn, Server};

fn servers() -> Vec<(Server, &'static str)> {
    let mut v = Vec::new();
    match Server::from_env("prosody", "NATTER_PROSODY") {
        Some(s) => v.push((s, "scripts/prosody.sh")),
        None => eprintln!("NATTER_PROSODY_WS not set: Prosody tests not run (use the README test command)"),
    }
    match Server::from_env("ejabberd", "NATTER_EJABBERD") {
        Some(s) => v.push((s, "scripts/ejabberd.sh")),
        None => eprintln!("NATTER_EJABBERD_WS not set: ejabberd tests not run (use the README test command)"),
    }
    v
}

/// A fresh account for a test that changes roster state, so reruns against a running server stay clean.
fn fresh_account(script: &str, prefix: &str) -> (String, String) {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000;
    let user = format!("{prefix}{n}");
    let password = format!("pw-{n}");
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Process::new(format!("{root}/{script}")).args(["adduser", &user, &password]).status().unwrap();
    assert!(status.success(), "{script} adduser {user} failed");
    (user, password)
}

/// SCRAM variants each server offers on this setup (see ../shared notes and the server configs).
fn scram_variants(server: &Server) -> &'static [Mechanism] {
    match server.name {
        "prosody" => &[Mechanism::ScramSha1, Mechanism::ScramSha256],
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
            let Event::Online { jid } = online else { unreachable!() };
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

        alice.command(Command::SendMessage { to: bob_jid.clone(), body: "hi bob <3 & \u{1F600}".into() });
        // Tests run in parallel on the same server: match this test's own message, not any message.
        let m = bob.wait_for(
            "alice's message",
            |e| matches!(e, Event::Message(m) if m.from.as_ref().is_some_and(|f| f.bare() == &alice_jid)),
        );
        let Event::Message(m) = m else { unreachable!() };
        assert_eq!(m.body(None), Some("hi bob <3 & \u{1F600}"));
        assert_eq!(m.from.as_ref().unwrap().bare(), &alice_jid);

        bob.command(Command::SendMessage { to: alice_jid.clone(), body: "/me waves back".into() });
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
        ann.wait_for("approval", |e| matches!(e, Event::SubscriptionApproved { from } if *from == j2));
        ann.wait_for("ben online", |e| matches!(e, Event::ContactPresence { jid, presence: Some(_) } if *jid == j2));
        // Ben asked back when approving: Ann sees his request.
        ann.wait_for("ben's request", |e| matches!(e, Event::SubscriptionRequest { from, .. } if *from == j2));
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
        phone.command(Command::SendMessage { to: server.jid("carol"), body: "sent from the phone".into() });
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
    if server.name == "prosody" { "scripts/prosody.sh" } else { "scripts/ejabberd.sh" }
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
        let prefix = if server.name == "prosody" { "NATTER_PROSODY" } else { "NATTER_EJABBERD" };
        let hashed = Server {
            domain: std::env::var(format!("{prefix}_HASHED_DOMAIN")).unwrap_or_else(|_| "hashed.localhost".into()),
            ..server.clone()
        };
        let r = log_in_again_from_keys(&hashed, Mechanism::ScramSha1);
        assert_eq!(r, Ok(()), "{} hashed.localhost", server.name);
    }
}
