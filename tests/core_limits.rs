#![cfg(not(target_arch = "wasm32"))]
//! What a peer can make the core keep, at the worst case: a hundred thousand resources of one contact, a
//! hundred thousand strangers sending presence, chat states or subscription requests. Each must leave the
//! client's memory bounded (measured with a counting allocator) and report a bounded number of events.

mod support {
    pub mod alloc;
    pub mod fake;
}

use natter::xmpp::Event;
const MAX_CHAT_STATE_PEERS: usize = 1000;
const MAX_SUBSCRIPTION_REQUESTS: usize = 100;
use natter::xmpp::jid::BareJid;
const MAX_RESOURCES: usize = 32;
use natter::xmpp::{Command, stanza::message::ChatState};
use support::alloc::{CountingAlloc, live};
use support::fake::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const N: usize = 20_000;

fn online() -> Harness {
    Harness::online_plain("<item jid='bob@example.com' subscription='both'/>")
}

/// Feeds `frame(i)` for i in 0..N, dropping what the client sends; returns how many events other than
/// presence updates it reported, and how many bytes it holds afterwards beyond what it held before.
fn flood(h: &mut Harness, frame: impl Fn(usize) -> String) -> (usize, usize) {
    let before = live();
    let mut events = 0;
    for i in 0..N {
        h.recv(&frame(i));
        h.outbox.clear();
        events += h.take_events().iter().filter(|e| !matches!(e, Event::ContactPresence { .. })).count();
    }
    (events, live().saturating_sub(before))
}

#[test]
fn a_contact_with_a_hundred_thousand_resources() {
    let mut h = online();
    let mut presence_events = 0;
    let before = live();
    for i in 0..N {
        h.recv(&format!(
            "<presence xmlns='jabber:client' from='bob@example.com/r{i}'><priority>{}</priority></presence>",
            i % 100
        ));
        presence_events += h.take_events().len();
        h.outbox.clear();
    }
    let held = live().saturating_sub(before);
    assert!(held < 64 * 1024, "100k resources of one contact: the client holds {held} more bytes");
    assert!(
        presence_events <= MAX_RESOURCES,
        "{presence_events} presence events for {MAX_RESOURCES} tracked resources"
    );
    // The contact is still shown online, and the resources kept go offline as usual.
    for i in 0..2 * MAX_RESOURCES {
        h.recv(&format!("<presence xmlns='jabber:client' from='bob@example.com/r{i}' type='unavailable'/>"));
    }
    let last = h.take_events().into_iter().rev().find_map(|e| match e {
        Event::ContactPresence { presence, .. } => Some(presence),
        _ => None,
    });
    assert_eq!(last, Some(None), "offline once every tracked resource left");
}

#[test]
fn strangers_presence_is_not_kept() {
    let mut h = online();
    let (events, held) = flood(&mut h, |i| format!("<presence xmlns='jabber:client' from='s{i}@example.net/x'/>"));
    assert!(held < 64 * 1024, "presence of 100k strangers: the client holds {held} more bytes");
    assert_eq!(events, 0, "nothing to report about strangers' presence");
    // A contact's presence still counts.
    h.recv("<presence xmlns='jabber:client' from='bob@example.com/x'/>");
    assert!(h.take_events().iter().any(|e| matches!(e, Event::ContactPresence { presence: Some(_), .. })));
}

#[test]
fn subscription_requests_are_reported_once_each_and_capped() {
    let mut h = online();
    // The same request a hundred thousand times: one event.
    let (events, _) =
        flood(&mut h, |_| "<presence xmlns='jabber:client' from='carol@example.net' type='subscribe'/>".into());
    assert_eq!(events, 1, "one request, reported once");
    // A hundred thousand strangers asking: at most the cap, and bounded memory.
    let (events, held) =
        flood(&mut h, |i| format!("<presence xmlns='jabber:client' from='s{i}@example.net' type='subscribe'/>"));
    assert_eq!(events, MAX_SUBSCRIPTION_REQUESTS - 1, "requests past the cap wait for the next login");
    assert!(held < 64 * 1024, "100k requests: the client holds {held} more bytes");
    // Answering one makes room for the next; carol's presence is kept while she asks, dropped once denied.
    h.recv("<presence xmlns='jabber:client' from='carol@example.net/x'/>");
    assert!(
        h.take_events().iter().any(|e| matches!(e, Event::ContactPresence { .. })),
        "a requester's presence counts"
    );
    h.command(Command::DenySubscription { jid: BareJid::parse("carol@example.net").unwrap() }).unwrap();
    h.recv("<presence xmlns='jabber:client' from='late@example.net' type='subscribe'/>");
    assert!(h.take_events().iter().any(|e| matches!(e, Event::SubscriptionRequest { .. })));
    h.recv("<presence xmlns='jabber:client' from='carol@example.net/x' type='unavailable'/>");
    assert!(h.take_events().is_empty(), "carol is neither a contact nor asking any more");
}

#[test]
fn a_withdrawn_request_can_be_made_again() {
    let mut h = online();
    let ask = "<presence xmlns='jabber:client' from='carol@example.net' type='subscribe'/>";
    h.recv(ask);
    h.recv("<presence xmlns='jabber:client' from='carol@example.net' type='unsubscribe'/>");
    h.recv(ask);
    let asks = h.take_events().iter().filter(|e| matches!(e, Event::SubscriptionRequest { .. })).count();
    assert_eq!(asks, 2);
}

#[test]
fn chat_state_peers_are_capped() {
    let mut h = online();
    let (_, held) = flood(&mut h, |i| {
        format!(
            "<message xmlns='jabber:client' from='s{i}@example.net/x' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
        )
    });
    // About 80 bytes per remembered JID in a hash set: the cap, not a hundred thousand.
    assert!(held < MAX_CHAT_STATE_PEERS * 200, "chat states from 100k strangers: the client holds {held} more bytes");
    // The first ones are remembered (we send them our states), later ones not.
    h.command(Command::SendChatState { to: BareJid::parse("s0@example.net").unwrap(), state: ChatState::Composing })
        .unwrap();
    assert_eq!(h.sent().len(), 1);
    h.command(Command::SendChatState {
        to: BareJid::parse(&format!("s{}@example.net", N - 1)).unwrap(),
        state: ChatState::Composing,
    })
    .unwrap();
    assert!(h.sent().is_empty());
}
