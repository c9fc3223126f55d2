//! Browser tests of our own messages from Send to Read (src/ui/outbox.rs): the outbox while there is no
//! session, the order and the single hand-over when it is back, Cancel, messages a lost session gives back,
//! the states in words and marks, receipts and markers only from the right contact, `displayed` markers for what
//! the person can see, and leaving the page with something unsent.
//!
//! The session is played by the test: a [`SessionHandle::fake`] records the commands the UI sends and answers
//! them as a session in the state the test sets would (online, offline, a backlog), and events go in through
//! [`SessionHandle::receive`] exactly as the transport delivers them.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_outbox`
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use natter::transport::{TransportError, TransportEvent};
use natter::ui::model::{self, Delivery};
use natter::ui::outbox;
use natter::ui::state;
use natter::xmpp::client::PendingMessage;
use natter::xmpp::jid::Jid;
use natter::xmpp::stanza::error::{ErrorType, StanzaError};
use natter::xmpp::stanza::message::Message;
use natter::xmpp::{Command, CommandError, Event};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, roster_item, settle, sleep};

fn online() -> TransportEvent {
    core(Event::Online { jid: Jid::parse("alice@example.org/web").unwrap(), resumed: true })
}

fn reconnecting() -> TransportEvent {
    TransportEvent::Reconnecting {
        attempt: 1,
        delay: std::time::Duration::from_secs(30),
        reason: "The connection was lost.".into(),
    }
}

/// A message from `from` that asks for receipts and markers, with id `id`.
fn incoming(from: &str, body: &str, id: &str) -> Message {
    let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
    m.from = Some(Jid::parse(from).unwrap());
    m.id = Some(id.into());
    m.receipt_request = true;
    m.markable = true;
    m
}

/// What the fake session answers to a command.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Online,
    Offline,
    /// Online, but this many more messages are taken before `Backlog`.
    Backlog(usize),
    /// Online, but every message is too large.
    TooLarge,
}

/// The chat screen, logged in as alice@example.org with Bob (both ways) and Carol, and a fake session.
struct Harness {
    screen: Screen,
    /// Commands the fake session took (refused ones are not here).
    taken: web::Taken,
    mode: Rc<Cell<Mode>>,
}

web::deref_to_screen!(Harness);

impl Harness {
    async fn new() -> Harness {
        // No conversation named in the URL (an earlier test's screen may have left one).
        web::set_url_fragment("");
        let mode = Rc::new(Cell::new(Mode::Online));
        let (session, taken) = {
            let mode = mode.clone();
            web::recording_unless(move |cmd| {
                match (mode.get(), cmd) {
                    (Mode::Offline, _) => return Err(CommandError::NotOnline),
                    (Mode::Backlog(0), Command::SendMessage { .. }) => {
                        return Err(CommandError::Backlog { waiting: 2000 });
                    }
                    (Mode::Backlog(n), Command::SendMessage { .. }) => mode.set(Mode::Backlog(n - 1)),
                    (Mode::TooLarge, Command::SendMessage { .. }) => {
                        return Err(CommandError::TooLarge { size: 2048, max: 1024 });
                    }
                    _ => {}
                }
                Ok(())
            })
        };
        let screen = Screen::main(session);
        screen.sign_in(vec![
            roster_item("bob@example.org", Some("Bob"), &[]),
            roster_item("carol@example.org", Some("Carol"), &[]),
        ]);
        settle().await;
        Harness { screen, taken, mode }
    }

    async fn open(&self, jid: &str) {
        state::select(self.store, bare(jid));
        settle().await;
    }

    /// Types `text` into the composer and presses Send.
    async fn send(&self, text: &str) {
        let composer: web_sys::HtmlTextAreaElement = self.one("textarea#composer").unchecked_into();
        composer.set_value(text);
        self.one("button.send").click();
        settle().await;
        assert_eq!(composer.value(), "", "the composer is emptied for {text:?}");
    }

    /// The messages the fake session took: (to, body, id).
    fn sent(&self) -> Vec<(String, String, String)> {
        self.taken
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Command::SendMessage { to, body, id } => Some((to.to_string(), body.clone(), id.clone())),
                _ => None,
            })
            .collect()
    }

    /// The `displayed` markers the fake session took: (to, id).
    fn markers(&self) -> Vec<(String, String)> {
        self.taken
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Command::SendDisplayed { to, id } => Some((to.to_string(), id.clone())),
                _ => None,
            })
            .collect()
    }

    /// Our messages in the open transcript: (body, data-state or "failed", the state's words).
    fn own(&self) -> Vec<(String, String, String)> {
        self.all(".transcript .message.from-me")
            .iter()
            .map(|li| {
                let body = li.query_selector(".message-body").unwrap().unwrap().text_content().unwrap();
                let (state, words) = match li.query_selector(".message-state").unwrap() {
                    Some(s) => (
                        s.get_attribute("data-state").unwrap(),
                        s.query_selector(".message-state-text").unwrap().unwrap().text_content().unwrap(),
                    ),
                    None => {
                        let error = li.query_selector(".message-error").unwrap().unwrap().text_content().unwrap();
                        ("failed".to_owned(), error.trim_start_matches('!').to_owned())
                    }
                };
                (body, state, words)
            })
            .collect()
    }

    fn states(&self) -> Vec<String> {
        self.own().into_iter().map(|(_, s, _)| s).collect()
    }

    /// The id our message with this body was drawn with.
    fn id_of(&self, body: &str) -> String {
        let ids = self.store.own_ids.get_value();
        let found = ids.iter().find(|(_, (with, seq))| {
            self.store.conversations.with_untracked(|c| {
                let pages = &c[with].pages;
                model::position(pages, *seq).is_some_and(|(p, i)| pages[p].messages[i].body == body)
            })
        });
        found.map(|(id, _)| id.clone()).unwrap_or_else(|| panic!("no message of ours reads {body:?}"))
    }
}

/// Dispatches a cancelable `beforeunload` on the window; says whether something asked to stay.
fn leave_page() -> bool {
    let body = "const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented;";
    js_sys::Function::new_no_args(body).call0(&JsValue::NULL).unwrap().as_bool().unwrap()
}

/// Makes the page look hidden or visible to the app (headless Chromium is always visible): `document.hidden`
/// is shadowed on the document, then `visibilitychange` is dispatched, as a browser does when the tab changes.
fn set_hidden(hidden: bool) {
    let body = format!(
        "Object.defineProperty(document, 'hidden', {{ configurable: true, get: () => {hidden} }});\
         Object.defineProperty(document, 'visibilityState', {{ configurable: true, get: () => '{}' }});\
         document.dispatchEvent(new Event('visibilitychange', {{ bubbles: true }}));",
        if hidden { "hidden" } else { "visible" }
    );
    js_sys::Function::new_no_args(&body).call0(&JsValue::NULL).unwrap();
}

// ---- the outbox ----------------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn messages_sent_without_a_session_wait_in_order_with_the_reason_and_go_out_once_when_it_is_back() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.mode.set(Mode::Offline);
    h.receive(reconnecting());
    settle().await;
    h.send("one").await;
    h.send("two").await;
    h.open("carol@example.org").await;
    h.send("for carol").await;
    h.open("bob@example.org").await;
    h.send("/me three").await;
    assert!(h.sent().is_empty(), "nothing went out");
    let waiting = "Not sent yet: reconnecting to the server.";
    assert_eq!(
        h.own(),
        [
            ("one".into(), "pending".into(), waiting.into()),
            ("two".into(), "pending".into(), waiting.into()),
            ("* alice three".into(), "pending".into(), waiting.into()),
        ]
    );
    assert_eq!(h.all(".message.unsent").len(), 3, "shown as not sent");
    assert_eq!(h.all(".message-state button").len(), 3, "each can be cancelled");
    let outbox: Vec<String> = h.store.outbox.get_untracked().iter().map(|e| e.body.clone()).collect();
    assert_eq!(outbox, ["one", "two", "for carol", "/me three"]);

    // The session comes back: everything goes out once, in the order it was sent, with the ids shown.
    h.mode.set(Mode::Online);
    h.receive(online());
    settle().await;
    let sent = h.sent();
    let bodies: Vec<&str> = sent.iter().map(|(_, b, _)| b.as_str()).collect();
    assert_eq!(bodies, ["one", "two", "for carol", "/me three"]);
    assert_eq!(sent[2].0, "carol@example.org");
    assert_eq!(sent[0].2, h.id_of("one"));
    assert!(h.store.outbox.get_untracked().is_empty());
    assert_eq!(h.states(), ["sending", "sending", "sending"]);
    assert!(h.all(".message-state button").is_empty(), "no Cancel once the session has it");
    assert!(h.all(".message.unsent").is_empty());

    // The core says it went out (MessageSent): nothing new is shown. Coming online again sends nothing twice.
    for (to, body, id) in &sent {
        let mut m = Message::chat(Jid::parse(to).unwrap(), body);
        m.id = Some(id.clone());
        h.receive(core(Event::MessageSent(m)));
    }
    h.receive(online());
    settle().await;
    assert_eq!(h.own().len(), 3);
    assert_eq!(h.sent().len(), 4);
}

#[wasm_bindgen_test]
async fn a_message_sent_while_online_goes_out_at_once_and_shows_each_state_in_words_and_a_mark() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.send("hello").await;
    h.send("still there?").await;
    assert_eq!(h.sent().len(), 2, "at once");
    let (first, second) = (h.id_of("hello"), h.id_of("still there?"));
    assert_eq!(h.states(), ["sending", "sending"]);
    let words = |i: usize| h.all(".message-state-text")[i].clone();
    assert!(words(0).class_list().contains("visually-hidden"), "online, \"Sending\" is for screen readers");
    assert_eq!(words(0).text_content().unwrap(), "Sending");

    // Only that row changes: the other row's state element is the same element afterwards.
    let other = h.all(".message-state")[1].clone();
    h.receive(core(Event::MessageAcked { id: first.clone() }));
    settle().await;
    assert_eq!(h.states(), ["sent", "sending"]);
    assert!(h.all(".message-state")[1] == other, "the other row was not rebuilt");
    let mark = h.one(".state-sent .message-state-mark");
    assert_eq!((mark.text_content().unwrap(), mark.title()), ("✓".into(), "Sent".into()));
    assert_eq!(mark.get_attribute("aria-hidden").as_deref(), Some("true"));

    h.receive(core(Event::MessageAcked { id: second.clone() }));
    h.receive(core(Event::Receipt { from: bare("bob@example.org"), id: first.clone() }));
    settle().await;
    assert_eq!(h.states(), ["delivered", "sent"]);
    assert_eq!(words(0).text_content().unwrap(), "Delivered");
    // A marker for the second means both were seen (XEP-0333); the mark says so.
    h.receive(core(Event::Displayed { from: bare("bob@example.org"), id: second.clone() }));
    settle().await;
    assert_eq!(h.states(), ["read", "read"]);
    assert_eq!(words(1).text_content().unwrap(), "Read");
    // Never back: a late receipt or acknowledgement leaves them read.
    h.receive(core(Event::Receipt { from: bare("bob@example.org"), id: second.clone() }));
    h.receive(core(Event::MessageAcked { id: first.clone() }));
    settle().await;
    assert_eq!(h.states(), ["read", "read"]);

    // A bounce says why, in words.
    h.send("third").await;
    let third = h.id_of("third");
    h.receive(core(Event::MessageError {
        with: bare("bob@example.org"),
        id: Some(third),
        error: StanzaError::new(ErrorType::Cancel, "service-unavailable"),
    }));
    settle().await;
    let (_, state, words) = h.own().pop().unwrap();
    assert_eq!(state, "failed");
    assert!(words.starts_with("Not delivered:"), "{words}");
}

#[wasm_bindgen_test]
async fn receipts_and_markers_count_only_from_that_conversation_s_contact_and_known_ids() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.send("for bob").await;
    let id = h.id_of("for bob");
    h.receive(core(Event::MessageAcked { id: id.clone() }));
    // Carol names Bob's message: nothing changes. So do unknown ids, and a flood of them stays cheap (a map
    // lookup each; nothing walks the transcript).
    h.receive(core(Event::Receipt { from: bare("carol@example.org"), id: id.clone() }));
    h.receive(core(Event::Displayed { from: bare("carol@example.org"), id: id.clone() }));
    for i in 0..10_000 {
        let id = format!("forged-{i}");
        h.receive(core(Event::Receipt { from: bare("bob@example.org"), id: id.clone() }));
        h.receive(core(Event::Displayed { from: bare("bob@example.org"), id }));
    }
    settle().await;
    assert_eq!(h.states(), ["sent"]);
    // Nor does a message of theirs that carries the same id.
    h.receive(core(Event::Message(incoming("bob@example.org/phone", "same id", &id))));
    h.receive(core(Event::Receipt { from: bare("bob@example.org"), id: id.clone() }));
    settle().await;
    assert_eq!(h.states(), ["delivered"]);
    assert_eq!(h.all(".transcript .message:not(.from-me) .message-state").len(), 0, "theirs show no state");
}

#[wasm_bindgen_test]
async fn a_message_that_can_never_be_sent_is_refused_next_to_the_composer_and_not_kept() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.mode.set(Mode::TooLarge);
    let composer: web_sys::HtmlTextAreaElement = h.one("textarea#composer").unchecked_into();
    composer.set_value("hello?");
    h.one("button.send").click();
    settle().await;
    assert_eq!(h.one("#composer-error").text_content().unwrap(), "The message is too long (2 KiB, at most 1 KiB).");
    assert!(composer.is_connected(), "the composer was re-created");
    assert_eq!(composer.value(), "hello?", "the text is kept to be shortened");
    assert_eq!(composer.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert!(h.all(".transcript .message").is_empty(), "nothing shown");
    // Without a session the composer checks the size itself, so nothing waits that could never go out.
    h.mode.set(Mode::Offline);
    let long = "x".repeat(natter::transport::MAX_FRAME);
    let refused = outbox::send(h.store, h.session, &bare("bob@example.org"), long).unwrap_err();
    assert!(refused.starts_with("The message is too long"), "{refused}");
    assert!(h.store.outbox.get_untracked().is_empty(), "nothing kept");
    assert!(h.all(".transcript .message").is_empty(), "nothing shown");
}

#[wasm_bindgen_test]
async fn a_backlog_keeps_the_rest_waiting_until_the_server_confirms() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.mode.set(Mode::Backlog(1));
    h.send("a").await;
    h.send("b").await;
    h.send("c").await;
    assert_eq!(h.sent().len(), 1);
    assert_eq!(h.states(), ["sending", "pending", "pending"]);
    let waiting = "Not sent yet: waiting for the server to confirm earlier messages.";
    assert_eq!(h.own()[1].2, waiting);
    // An acknowledgement: the session takes more, in order.
    h.mode.set(Mode::Online);
    h.receive(core(Event::MessageAcked { id: h.id_of("a") }));
    settle().await;
    let bodies: Vec<String> = h.sent().into_iter().map(|(_, b, _)| b).collect();
    assert_eq!(bodies, ["a", "b", "c"]);
    assert_eq!(h.states(), ["sent", "sending", "sending"]);
}

#[wasm_bindgen_test]
async fn cancel_takes_a_waiting_message_out_and_it_is_never_sent() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.mode.set(Mode::Offline);
    h.receive(reconnecting());
    h.send("keep").await;
    h.send("oops").await;
    h.send("keep too").await;
    h.all(".message-state button")[1].click();
    settle().await;
    assert_eq!(h.own()[1], ("oops".into(), "failed".into(), outbox::CANCELLED.into()));
    assert_eq!(h.all(".message-state button").len(), 2);
    h.mode.set(Mode::Online);
    h.receive(online());
    settle().await;
    let bodies: Vec<String> = h.sent().into_iter().map(|(_, b, _)| b).collect();
    assert_eq!(bodies, ["keep", "keep too"]);
}

#[wasm_bindgen_test]
async fn messages_a_lost_session_gives_back_wait_first_and_go_out_with_their_ids_after_logging_in_again() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    h.send("first").await;
    h.send("second").await;
    h.send("third").await;
    let taken = h.sent();
    h.receive(core(Event::MessageAcked { id: taken[0].2.clone() }));
    h.receive(core(Event::Receipt { from: bare("bob@example.org"), id: taken[2].2.clone() }));
    // The connection drops; something is sent meanwhile; then the transport gives up and hands back what the
    // server never confirmed (the second and third: the third reached Bob, so it is not sent again).
    h.mode.set(Mode::Offline);
    h.receive(reconnecting());
    h.send("while away").await;
    let back: Vec<PendingMessage> = taken[1..]
        .iter()
        .map(|(to, body, id)| {
            let mut message = Message::chat(Jid::parse(to).unwrap(), body);
            message.id = Some(id.clone());
            PendingMessage { message, sent_unix_ms: Some(1_700_000_000_000) }
        })
        .collect();
    h.receive(TransportEvent::Unsent(back));
    h.receive(TransportEvent::Failed(TransportError::GaveUp { attempts: 10, reason: "Lost.".into() }));
    settle().await;
    let offline = "Not sent yet: you are offline.";
    assert_eq!(
        h.own(),
        [
            ("first".into(), "sent".into(), "Sent".into()),
            ("second".into(), "pending".into(), offline.into()),
            ("third".into(), "delivered".into(), "Delivered".into()),
            ("while away".into(), "pending".into(), offline.into()),
        ]
    );
    let outbox = h.store.outbox.get_untracked();
    assert_eq!(outbox.iter().map(|e| e.body.as_str()).collect::<Vec<_>>(), ["second", "while away"]);
    assert_eq!(outbox[0].created_ms, 1_700_000_000_000);
    assert!(leave_page(), "leaving now would lose them: the browser asks");

    // Logging in again: they go out in order, the given-back one with the id it had.
    h.mode.set(Mode::Online);
    h.receive(core(Event::Online { jid: Jid::parse("alice@example.org/new").unwrap(), resumed: false }));
    settle().await;
    let again = &h.sent()[3..];
    assert_eq!(again.iter().map(|(_, b, _)| b.as_str()).collect::<Vec<_>>(), ["second", "while away"]);
    assert_eq!(again[0].2, taken[1].2);
    assert_eq!(h.states(), ["sent", "sending", "delivered", "sending"]);
}

#[wasm_bindgen_test]
async fn leaving_the_page_asks_while_a_message_waits_or_is_not_confirmed() {
    let h = Harness::new().await;
    h.open("bob@example.org").await;
    assert!(!leave_page());
    h.mode.set(Mode::Offline);
    h.receive(reconnecting());
    h.send("queued").await;
    assert!(h.store.has_unsent());
    assert!(leave_page(), "in the outbox");
    h.mode.set(Mode::Online);
    h.receive(online());
    settle().await;
    assert_eq!(h.states(), ["sending"]);
    assert!(leave_page(), "the session has it, the server has not confirmed it");
    h.receive(core(Event::MessageAcked { id: h.id_of("queued") }));
    settle().await;
    assert!(!leave_page(), "confirmed: nothing to lose");
}

// ---- displayed markers ----------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn displayed_markers_go_for_the_newest_message_the_person_can_see() {
    let h = Harness::new().await;
    // Closed conversation: nothing is marked.
    h.receive(core(Event::Message(incoming("bob@example.org/phone", "one", "b1"))));
    h.receive(core(Event::Message(incoming("bob@example.org/phone", "two", "b2"))));
    settle().await;
    assert!(h.markers().is_empty());
    // Opened: the newest, once.
    h.open("bob@example.org").await;
    assert_eq!(h.markers(), [("bob@example.org".to_owned(), "b2".to_owned())]);
    // A new one while open and visible: marked once the half second since the last marker is over.
    h.receive(core(Event::Message(incoming("bob@example.org/phone", "three", "b3"))));
    settle().await;
    assert_eq!(h.markers().len(), 1, "not twice within half a second");
    sleep(600).await;
    assert_eq!(h.markers().len(), 2);
    assert_eq!(h.markers()[1].1, "b3");
    // A burst: its newest is marked, not each message.
    for i in 0..50 {
        h.receive(core(Event::Message(incoming("bob@example.org/phone", "burst", &format!("burst{i}")))));
    }
    settle().await;
    sleep(600).await;
    let markers = h.markers();
    assert!(markers.len() <= 4, "a burst of 50 sent {} markers", markers.len() - 2);
    assert_eq!(markers.last().unwrap().1, "burst49", "the burst's newest message is marked");
    let base = markers.len();
    sleep(600).await;
    // A message that does not ask for markers, or one from someone else, marks nothing.
    let mut plain = incoming("bob@example.org/phone", "plain", "b4");
    plain.markable = false;
    h.receive(core(Event::Message(plain)));
    h.receive(core(Event::Message(incoming("carol@example.org/x", "hi", "c1"))));
    settle().await;
    assert_eq!(h.markers().len(), base);

    // Hidden tab: not seen, so not marked; shown again: the newest is.
    set_hidden(true);
    settle().await;
    h.receive(core(Event::Message(incoming("bob@example.org/phone", "four", "b5"))));
    settle().await;
    assert_eq!(h.markers().len(), base, "nothing while hidden");
    set_hidden(false);
    settle().await;
    assert_eq!(h.markers().len(), base + 1);
    assert_eq!(h.markers()[base].1, "b5");

    // No session: marked once it is back.
    h.mode.set(Mode::Offline);
    h.receive(reconnecting());
    h.receive(core(Event::Message(incoming("bob@example.org/phone", "five", "b6"))));
    settle().await;
    assert_eq!(h.markers().len(), base + 1);
    h.mode.set(Mode::Online);
    h.receive(online());
    settle().await;
    sleep(600).await;
    assert_eq!(h.markers().len(), base + 2);
    assert_eq!(h.markers()[base + 1].1, "b6");
    // Reopening the conversation does not mark the same message again.
    h.open("carol@example.org").await;
    h.open("bob@example.org").await;
    assert_eq!(h.markers().iter().filter(|(to, _)| to == "bob@example.org").count(), base + 2);
    set_hidden(false);
}

// ---- the model's decisions --------------------------------------------------------------------------------

/// Our message (`delivery`) or theirs (`None`), numbered `seq`.
fn msg(seq: u64, delivery: Option<Delivery>) -> model::ChatMessage {
    web::row(seq, &format!("m{seq}"), delivery)
}

#[wasm_bindgen_test]
fn states_only_move_forward_and_a_marker_reads_everything_before_it_once() {
    let mut m = msg(1, Some(Delivery::Sending));
    assert!(m.advance(Delivery::Delivered), "a receipt may come before the acknowledgement");
    assert!(!m.advance(Delivery::Sent));
    assert!(m.advance(Delivery::Read));
    assert!(!m.advance(Delivery::Delivered));
    let mut failed = msg(2, Some(Delivery::Sent));
    failed.error = Some("bounced".into());
    assert!(!failed.advance(Delivery::Delivered), "failed stays failed");
    let mut theirs = msg(3, None);
    assert!(!theirs.advance(Delivery::Read));

    use Delivery::*;
    let states = |pages: &[model::MessagePage]| -> Vec<Option<Delivery>> {
        pages.iter().flat_map(|p| p.messages.iter().map(|m| m.delivery)).collect()
    };
    // Two pages: [Read, Sent, theirs, Pending] [Delivered, Sending, theirs, Sent]
    let mut pages = vec![
        model::MessagePage {
            messages: vec![msg(1, Some(Read)), msg(2, Some(Sent)), msg(3, None), msg(4, Some(Pending))],
        },
        model::MessagePage {
            messages: vec![msg(5, Some(Delivered)), msg(6, Some(Sending)), msg(7, None), msg(8, Some(Sent))],
        },
    ];
    let (p, i) = model::position(&pages, 6).unwrap();
    assert!(model::read_up_to(&mut pages, p, i));
    assert_eq!(
        states(&pages),
        [Some(Read), Some(Read), None, Some(Pending), Some(Read), Some(Read), None, Some(Sent)],
        "up to the marked one, back to the first already read; pending left as it is"
    );
    assert!(!model::read_up_to(&mut pages, p, i), "again: nothing to do");
    assert!(!model::read_up_to(&mut pages, 0, 0));
    assert!(model::read_up_to(&mut pages, 1, 3));
    assert_eq!(states(&pages)[7], Some(Read));
}
