//! Browser tests of one-to-one history from the archive in the transcript (src/ui/archive.rs and the
//! transcript's rows in src/ui/conversation.rs): the newest page asked for when a conversation opens empty,
//! older pages put in front in order with the view kept where it was, the loading row, the start marker,
//! errors with Retry, gap rows and their button, the same message live and archived shown once, catch-up pages
//! merged with live messages by time, unread counts (and read on another device lowering them; the archive's
//! receipts and markers on our messages), and hostile pages (10,000 messages, huge bodies) kept to
//! a bounded window.
//!
//! The session is played by the test ([`SessionHandle::fake`] records the commands; events go in through
//! [`SessionHandle::receive`] as the transport delivers them).
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_history`
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use natter::transport::TransportEvent;
use natter::ui::archive::MAX_HELD;
use natter::ui::model;
use natter::ui::state;
use natter::xmpp::client::{ArchiveError, ArchivePage, ArchiveQuery, ArchivedMessage, Gap, GapEnd, HistoryPoint};
use natter::xmpp::jid::Jid;
use natter::xmpp::stanza::error::{ErrorType, StanzaError};
use natter::xmpp::stanza::message::Message;
use natter::xmpp::{Command, CommandError, Event};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, roster_item, sleep};

/// 2023-11-14, in ms: the archive's times in these tests count from here.
const T0: u64 = 1_700_000_000_000;
const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";

/// [`web::settle`] over two animation frames (what these tests have always waited for).
async fn settle() {
    web::settle_frames(2).await;
}

/// Message `n` of the conversation with Bob as the archive has it: id `a{n}`, `T0 + n` seconds, body `m{n}`.
fn archived(n: u64, outgoing: bool) -> ArchivedMessage {
    archived_body(n, outgoing, &format!("m{n}"))
}

fn archived_body(n: u64, outgoing: bool, body: &str) -> ArchivedMessage {
    let (from, to) = if outgoing { ("alice@example.org/phone", BOB) } else { ("bob@example.org/pc", ALICE) };
    let mut message = Message::chat(Jid::parse(to).unwrap(), body);
    message.from = Some(Jid::parse(from).unwrap());
    message.id = Some(format!("o{n}"));
    if outgoing {
        message.origin_id = Some(format!("o{n}"));
    }
    ArchivedMessage { id: format!("a{n}"), unix_ms: Some(T0 + n * 1000), with: bare(BOB), outgoing, message }
}

fn point(n: u64) -> HistoryPoint {
    HistoryPoint { id: Some(format!("a{n}")), unix_ms: Some(T0 + n * 1000) }
}

/// A page of messages `range` (oldest first) of the conversation with Bob.
fn page(query: ArchiveQuery, range: std::ops::Range<u64>, complete: bool) -> TransportEvent {
    let messages: Vec<ArchivedMessage> = range.clone().map(|n| archived(n, false)).collect();
    page_of(query, messages, complete)
}

fn page_of(query: ArchiveQuery, messages: Vec<ArchivedMessage>, complete: bool) -> TransportEvent {
    let at = |m: Option<&ArchivedMessage>| m.map(|m| HistoryPoint { id: Some(m.id.clone()), unix_ms: m.unix_ms });
    let (oldest, newest) = (at(messages.first()), at(messages.last()));
    core(Event::ArchivePage(ArchivePage { archive: bare(ALICE), query, messages, oldest, newest, complete }))
}

fn older() -> ArchiveQuery {
    ArchiveQuery::Older { with: bare(BOB) }
}

/// The chat screen, logged in as Alice with Bob and Carol in the roster, and a fake session.
struct Harness {
    screen: Screen,
    taken: web::Taken,
    /// The fake session refuses archive commands as busy while this is set.
    busy: Rc<Cell<bool>>,
}

web::deref_to_screen!(Harness);

impl Harness {
    async fn new() -> Harness {
        web::set_url_fragment("");
        let document = document();
        // The app's stylesheet (the transcript scrolls inside the screen), with instant scrolling (the test
        // sets scroll positions and reads them at once).
        if document.get_element_by_id("natter-css").is_none() {
            let style = document.create_element("style").unwrap();
            style.set_id("natter-css");
            let css = concat!(include_str!("../style/main.css"), "\n.transcript { scroll-behavior: auto !important; }");
            style.set_text_content(Some(css));
            document.head().unwrap().append_child(&style).unwrap();
        }
        let busy = Rc::new(Cell::new(false));
        let (session, taken) = {
            let busy = busy.clone();
            web::recording_unless(move |cmd| match cmd {
                Command::LoadOlder { .. } | Command::FillGap { .. } if busy.get() => {
                    Err(CommandError::Archive(ArchiveError::Busy))
                }
                _ => Ok(()),
            })
        };
        let screen = Screen::main(session);
        screen.sign_in(vec![roster_item(BOB, Some("Bob"), &[]), roster_item("carol@example.org", Some("Carol"), &[])]);
        settle().await;
        Harness { screen, taken, busy }
    }

    fn transcript(&self) -> web_sys::HtmlElement {
        self.one("#transcript")
    }

    /// The message bodies of the open transcript, top to bottom.
    fn bodies(&self) -> Vec<String> {
        self.all(".transcript .message-body").iter().map(|b| b.text_content().unwrap()).collect()
    }

    /// The `LoadOlder` commands taken: their `before` points.
    fn load_older(&self) -> Vec<Option<HistoryPoint>> {
        self.taken
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Command::LoadOlder { with, before } if *with == bare(BOB) => Some(before.clone()),
                _ => None,
            })
            .collect()
    }

    fn held(&self) -> usize {
        self.store.conversations.with_untracked(|c| c.get(&bare(BOB)).map_or(0, |c| model::message_count(&c.pages)))
    }

    fn unread(&self, jid: &str) -> u32 {
        self.store.contacts.with_untracked(|c| c[&bare(jid)].unread)
    }

    async fn open(&self, jid: &str) {
        state::select(self.store, bare(jid));
        settle().await;
    }
}

fn bodies(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(|n| format!("m{n}")).collect()
}

#[wasm_bindgen_test]
async fn an_empty_conversation_asks_for_its_newest_page_then_older_ones_in_front_keeping_the_view() {
    let h = Harness::new().await;
    h.open(BOB).await;
    settle().await; // this device's store is asked first (none is open here), then the archive
    assert_eq!(h.load_older(), [None], "opened with nothing held: the newest page");
    assert_eq!(h.one(".history-row").text_content().unwrap(), "Loading earlier messages…");
    assert!(!h.has(".transcript-empty"), "no 'start of your conversation' while loading");

    h.receive(page(older(), 100..160, false));
    settle().await;
    assert_eq!(h.bodies(), bodies(100..160));
    assert!(!h.has(".history-row"), "loaded: no loading row, and not the start yet");
    let t = h.transcript();
    assert!(t.scroll_height() > t.client_height(), "the test needs a transcript that scrolls");
    assert!(t.scroll_top() > 0, "opened at the bottom");

    // Scrolling to the top asks for the page before the oldest held (the page's oldest result).
    t.set_scroll_top(0);
    settle().await;
    assert_eq!(h.load_older().last().unwrap().as_ref(), Some(&point(100)));
    assert!(h.one(".history-row").text_content().unwrap().contains("Loading earlier messages"));
    let anchor = |h: &Harness| {
        let row =
            h.all(".transcript .message").into_iter().find(|r| r.text_content().unwrap().contains("m100")).unwrap();
        let top = js_sys::Function::new_with_args("e", "return e.getBoundingClientRect().top");
        top.call1(&JsValue::NULL, &row).unwrap().as_f64().unwrap()
    };
    let before = anchor(&h);
    let m100 = h.all(".transcript .message")[0].clone();
    h.receive(page(older(), 40..100, false));
    settle().await;
    assert_eq!(h.bodies(), bodies(40..160), "prepended in order");
    // (Within a few pixels: the page is what is kept in place, and its first row's top margin changes when rows
    // come before it, 0.15rem, as does the page's own spacing.)
    assert!((anchor(&h) - before).abs() <= 6.0, "the view stays where it was: {before} → {}", anchor(&h));
    assert!(m100.is_connected(), "rows shown already are kept, not built again");

    // Up again; the page before m40 holds only a receipt (the archive keeps receipts and markers too): nothing
    // to show, so the next page is asked at once, without another scroll.
    h.transcript().set_scroll_top(0);
    settle().await;
    assert_eq!(h.load_older().last().unwrap().as_ref(), Some(&point(40)));
    let asked = h.load_older().len();
    let mut receipt = archived(39, true);
    receipt.message.bodies.clear();
    h.receive(page_of(older(), vec![receipt], false));
    settle().await;
    assert_eq!(h.load_older().len(), asked + 1, "asked again without scrolling");
    assert_eq!(h.load_older().last().unwrap().as_ref(), Some(&point(39)));
    assert_eq!(h.bodies(), bodies(40..160));

    // The start: the marker, and no more asking.
    h.receive(page(older(), 0..39, true));
    settle().await;
    assert_eq!(h.bodies(), (0..39).chain(40..160).map(|n| format!("m{n}")).collect::<Vec<_>>());
    assert_eq!(h.one(".history-row").text_content().unwrap(), "Start of the conversation");
    let asked = h.load_older().len();
    h.transcript().set_scroll_top(10);
    settle().await;
    h.transcript().set_scroll_top(0);
    settle().await;
    assert_eq!(h.load_older().len(), asked, "nothing older to ask for");
}

#[wasm_bindgen_test]
async fn errors_say_why_with_retry_and_a_busy_archive_is_asked_again_quietly() {
    let h = Harness::new().await;
    h.open(BOB).await;
    assert_eq!(h.load_older().len(), 1);
    let error = StanzaError { kind: ErrorType::Wait, condition: "resource-constraint".into(), text: None };
    h.receive(core(Event::ArchiveFailed { query: older(), error: ArchiveError::Stanza(error) }));
    settle().await;
    let row = h.one(".history-error");
    assert!(
        row.text_content().unwrap().starts_with("The server could not load the history"),
        "{:?}",
        row.text_content()
    );
    assert_eq!(h.load_older().len(), 1, "not asked again by itself");
    h.one(".history-error button").click();
    settle().await;
    assert_eq!(h.load_older().len(), 2, "Retry asks again");
    assert!(h.one(".history-row").text_content().unwrap().contains("Loading"));

    // Busy (answered by the session, or refused at once): the loading row stays and it is asked again.
    h.receive(core(Event::ArchiveFailed { query: older(), error: ArchiveError::Busy }));
    settle().await;
    assert!(!h.has(".history-error"), "busy is no error");
    assert!(h.one(".history-row").text_content().unwrap().contains("Loading"));
    sleep(1000).await;
    assert_eq!(h.load_older().len(), 3, "asked again after a moment");
    h.busy.set(true);
    h.receive(core(Event::ArchiveFailed { query: older(), error: ArchiveError::Busy }));
    sleep(1000).await;
    h.busy.set(false);
    sleep(1000).await;
    assert_eq!(h.load_older().len(), 4, "refused as busy: asked again until taken");
    h.receive(page(older(), 0..3, true));
    settle().await;
    assert_eq!(h.bodies(), bodies(0..3));
}

#[wasm_bindgen_test]
async fn a_gap_is_a_row_whose_button_loads_it_and_the_page_lands_in_its_place() {
    let h = Harness::new().await;
    h.open(BOB).await;
    let mut held: Vec<ArchivedMessage> = (0..10).map(|n| archived(n, false)).collect();
    held.extend((20..30).map(|n| archived(n, false)));
    h.receive(page_of(older(), held, true));
    let gap = Gap { archive: bare(ALICE), with: Some(bare(BOB)), after: point(9), before: Some(point(20)) };
    h.receive(core(Event::ArchiveGap(gap.clone())));
    settle().await;
    // The row sits between m9 and m20: never a continuous transcript across it.
    let rows: Vec<String> = h.all(".transcript .messages li").iter().map(|r| r.class_name()).collect();
    let at = rows.iter().position(|c| c == "gap-row").expect("a gap row");
    assert_eq!(at, 10, "after the tenth message: {rows:?}");
    assert!(h.one(".gap-row").text_content().unwrap().contains("Some messages are not loaded yet"));
    h.one(".gap-row button").click();
    settle().await;
    let fills: Vec<Command> =
        h.taken.borrow().iter().filter(|c| matches!(c, Command::FillGap { .. })).cloned().collect();
    assert_eq!(fills.len(), 1);
    assert!(matches!(&fills[0], Command::FillGap { gap: g, from: GapEnd::Older } if *g == gap));
    assert_eq!(h.one(".gap-row button").text_content().unwrap(), "Loading…");

    // A page of it, and what is left: the row moves after the newest message loaded.
    h.receive(page(ArchiveQuery::Gap { gap: gap.clone(), from: GapEnd::Older }, 10..15, false));
    let rest = Gap { after: point(14), ..gap.clone() };
    h.receive(core(Event::GapFilled { gap: gap.clone(), rest: Some(rest.clone()) }));
    settle().await;
    let expected: Vec<String> = (0..15).chain(20..30).map(|n| format!("m{n}")).collect();
    assert_eq!(h.bodies(), expected);
    let rows: Vec<String> = h.all(".transcript .messages li").iter().map(|r| r.class_name()).collect();
    assert_eq!(rows.iter().position(|c| c == "gap-row"), Some(15), "{rows:?}");
    h.receive(page(ArchiveQuery::Gap { gap: rest.clone(), from: GapEnd::Older }, 15..20, true));
    h.receive(core(Event::GapFilled { gap: rest, rest: None }));
    settle().await;
    assert_eq!(h.bodies(), bodies(0..30));
    assert!(!h.has(".gap-row"), "filled: the row is gone");
}

#[wasm_bindgen_test]
async fn catch_up_merges_by_time_shows_each_message_once_and_counts_unread() {
    let h = Harness::new().await;
    // Live first (the catch-up runs beside live traffic): m50, stamped by our server as a50.
    let mut live = archived(50, false).message;
    live.stanza_id = Some("a50".into());
    live.delay = None;
    h.receive(core(Event::Message(live)));
    assert_eq!(h.unread(BOB), 1);
    // A catch-up page: older ones, the live one again, one of ours from another device, a newer one.
    let mut messages = vec![archived(10, false), archived(20, true), archived(30, false)];
    let mut again = archived(50, false);
    again.unix_ms = Some(T0 + 50_000);
    messages.push(again);
    messages.push(archived(60, false));
    h.receive(page_of(ArchiveQuery::CatchUp, messages, false));
    settle().await;
    // m30 and m60 are newer than our last message (m20): unread, with the live one.
    assert_eq!(h.unread(BOB), 3);
    h.open(BOB).await;
    let shown = h.bodies();
    // The live one was stamped "now" (no delay), after the archive's times: the archive's go before it.
    assert_eq!(shown.iter().filter(|b| *b == "m50").count(), 1, "the live message and its archived copy: once");
    assert_eq!(shown.len(), 5, "{shown:?}");
    let pos = |b: &str| shown.iter().position(|s| s == b).unwrap();
    assert!(pos("m10") < pos("m20") && pos("m20") < pos("m30") && pos("m30") < pos("m60"), "{shown:?}");
    // Ours from another device: shown as ours, sent.
    let own = h.one(".transcript .message.from-me");
    assert_eq!(own.query_selector(".message-body").unwrap().unwrap().text_content().unwrap(), "m20");
    assert_eq!(own.query_selector(".message-state").unwrap().unwrap().get_attribute("data-state").unwrap(), "sent");
    assert_eq!(own.query_selector(".message-sender").unwrap().unwrap().text_content().unwrap(), "alice");

    // One we send here, then its archived copy (same origin-id): once, and the archive says the server has it.
    let composer: web_sys::HtmlTextAreaElement = h.one("textarea#composer").unchecked_into();
    composer.set_value("from here");
    h.one("button.send").click();
    settle().await;
    let id = h
        .taken
        .borrow()
        .iter()
        .find_map(|c| match c {
            Command::SendMessage { id, .. } => Some(id.clone()),
            _ => None,
        })
        .unwrap();
    let mut copy = archived_body(70, true, "from here");
    copy.message.origin_id = Some(id.clone());
    copy.message.id = Some(id);
    h.receive(page_of(ArchiveQuery::CatchUp, vec![copy], false));
    settle().await;
    assert_eq!(h.bodies().iter().filter(|b| *b == "from here").count(), 1);
    let states: Vec<String> = h
        .all(".transcript .message.from-me .message-state")
        .iter()
        .map(|s| s.get_attribute("data-state").unwrap())
        .collect();
    assert_eq!(states, ["sent", "sent"]);

    // An archived message older than what is shown goes in its place, not at the bottom.
    h.receive(page_of(ArchiveQuery::CatchUp, vec![archived(15, false)], false));
    settle().await;
    let shown = h.bodies();
    assert_eq!(&shown[..3], ["m10", "m15", "m20"], "{shown:?}");
    assert_eq!(shown.last().unwrap(), "from here");
}

#[wasm_bindgen_test]
async fn ten_thousand_archived_messages_and_huge_bodies_stay_in_a_bounded_window() {
    let h = Harness::new().await;
    h.open(BOB).await;
    // The catch-up brings 10,000 messages in pages of 250: the newest stay, the oldest go (scroll-back again).
    for p in 0..40u64 {
        h.receive(page(ArchiveQuery::CatchUp, p * 250..(p + 1) * 250, false));
        if p % 10 == 9 {
            settle().await;
        }
    }
    settle().await;
    assert!(h.held() <= MAX_HELD, "{} held", h.held());
    let rows = h.all(".transcript .message").len();
    assert!((MAX_HELD - 250..=MAX_HELD).contains(&rows), "{rows} rows");
    assert_eq!(h.bodies().last().unwrap(), "m9999");
    let first: u64 = h.bodies()[0][1..].parse().unwrap();
    assert_eq!(h.bodies(), bodies(first..10_000), "in order, without holes");

    // Scrolling back through all of them: the window slides, the newest go and can come back.
    let mut before = first;
    while before > 0 {
        let from = before.saturating_sub(250);
        h.receive(page(older(), from..before, from == 0));
        before = from;
    }
    settle().await;
    assert!(h.held() <= MAX_HELD, "{} held after scrolling back", h.held());
    assert_eq!(h.bodies()[0], "m0");
    assert_eq!(h.one(".history-row").text_content().unwrap(), "Start of the conversation");
    let newest = h.all(".history-row").into_iter().find(|r| r.text_content().unwrap().contains("Newer messages"));
    let newest = newest.expect("a row to bring the newest back");
    let asked = h.load_older().len();
    newest.query_selector("button").unwrap().unwrap().unchecked_into::<web_sys::HtmlElement>().click();
    settle().await;
    assert_eq!(h.load_older().len(), asked + 1);
    assert_eq!(h.load_older().last().unwrap(), &None, "the newest page");
    assert_eq!(h.held(), 0);

    // Huge bodies: shown as text, whole.
    let huge = "<b>x</b>".repeat(128 * 1024);
    h.receive(page_of(older(), vec![archived_body(20_000, false, &huge), archived_body(20_001, false, &huge)], false));
    settle().await;
    assert_eq!(h.bodies(), [huge.clone(), huge]);
    assert!(h.all(".transcript .message-body b").is_empty(), "text, not markup");
}

/// Prosody 0.12 stamps its archive in whole seconds: a catch-up of hundreds of messages sent within a second
/// has one time for all. Its pages, into an open conversation that held nothing, stay in archive order, and
/// the conversation waits for the catch-up instead of asking for the archive's newest page meanwhile (that page
/// is the catch-up's own range: the two could not be merged by time).
#[wasm_bindgen_test]
async fn a_catch_up_within_one_second_into_an_empty_open_conversation_keeps_archive_order() {
    let h = Harness::new().await;
    h.receive(core(Event::CatchingUp));
    h.open(BOB).await;
    sleep(50).await;
    assert!(h.load_older().is_empty(), "no newest page asked while the catch-up runs: {:?}", h.load_older());
    assert!(h.has(".transcript .history-row"), "a loading row meanwhile");
    let same_second = |range: std::ops::Range<u64>| -> Vec<ArchivedMessage> {
        range
            .map(|n| {
                let mut m = archived(n, false);
                m.unix_ms = Some(T0);
                m
            })
            .collect()
    };
    for start in (0..300).step_by(50) {
        h.receive(page_of(ArchiveQuery::CatchUp, same_second(start..start + 50), false));
        settle().await;
    }
    assert_eq!(h.bodies(), bodies(0..300), "archive order, one page after the other");
    assert!(h.load_older().is_empty(), "still nothing asked before the catch-up is over");
    // Over: the transcript reads on from its oldest message, never the newest page.
    h.receive(core(Event::CaughtUp));
    settle().await;
    sleep(50).await;
    settle().await;
    let asked = h.load_older();
    assert!(asked.iter().all(Option::is_some), "scroll-back reads before what is held: {asked:?}");
    // A scroll-back page of the same second goes in front.
    h.receive(page_of(older(), same_second(1000..1010), false));
    settle().await;
    let shown = h.bodies();
    assert_eq!(&shown[..10], bodies(1000..1010).as_slice());
    assert_eq!(&shown[10..], bodies(0..300).as_slice());
}

/// A stored time beyond what a date can be (storage anything on the machine can write) shows as now, not as a
/// thrown RangeError; an ordinary one keeps its instant.
#[wasm_bindgen_test]
fn a_time_out_of_range_is_shown_as_now() {
    let before = js_sys::Date::now() as u64;
    let s = state::Stamp::from_ms(u64::MAX);
    assert!(s.unix_ms >= before && !s.iso.is_empty(), "{}", s.iso);
    assert_eq!(state::Stamp::from_ms(T0).unix_ms, T0);
}

#[wasm_bindgen_test]
async fn read_on_another_device_leaves_only_what_came_after_unread_and_archived_markers_mark_ours_read() {
    let h = Harness::new().await;
    // A catch-up: Bob's m1–m4, ours m5 from another device, then (as the core says after the page) our other
    // device's marker for m2, and Bob's receipt and marker for our m5.
    let messages =
        vec![archived(1, false), archived(2, false), archived(3, false), archived(4, false), archived(5, true)];
    h.receive(page_of(ArchiveQuery::CatchUp, messages, true));
    settle().await;
    assert_eq!(h.unread(BOB), 0, "ours (m5) is the newest: nothing of Bob's before it counts");
    // Two new ones from Bob, live: unread.
    for n in [6, 7] {
        h.receive(core(Event::Message(archived(n, false).message)));
    }
    settle().await;
    assert_eq!(h.unread(BOB), 2);
    // The badge's number (its words for screen readers follow it).
    let badge = || {
        let texts = h.all(".badge").iter().map(|b| b.text_content().unwrap()).collect::<Vec<_>>();
        texts.iter().map(|t| t.split_whitespace().next().unwrap_or_default().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(badge(), ["2"]);
    // Read elsewhere up to m6: m7 only. An id this page does not show, or one of ours, changes nothing; and
    // an older marker never counts more again.
    h.receive(core(Event::ReadElsewhere { with: bare(BOB), id: "o6".into() }));
    settle().await;
    assert_eq!(h.unread(BOB), 1);
    assert_eq!(badge(), ["1"]);
    for id in ["unknown", "o5", "o1"] {
        h.receive(core(Event::ReadElsewhere { with: bare(BOB), id: id.into() }));
    }
    settle().await;
    assert_eq!(h.unread(BOB), 1, "an unknown id, one of ours, an older one: no change");
    // Carol's marker for Bob's message id reads nothing of Bob's.
    h.receive(core(Event::ReadElsewhere { with: bare("carol@example.org"), id: "o7".into() }));
    h.receive(core(Event::ReadElsewhere { with: bare(BOB), id: "o7".into() }));
    settle().await;
    assert_eq!(h.unread(BOB), 0);
    assert!(badge().is_empty(), "{:?}", badge());

    // Ours from another device, archived as sent: Bob's receipt, then his marker.
    h.open(BOB).await;
    let state = || h.one(".transcript .message.from-me .message-state").get_attribute("data-state").unwrap();
    assert_eq!(state(), "sent");
    h.receive(core(Event::Receipt { from: bare(BOB), id: "o5".into() }));
    settle().await;
    assert_eq!(state(), "delivered");
    h.receive(core(Event::Displayed { from: bare(BOB), id: "o5".into() }));
    settle().await;
    assert_eq!(state(), "read");
}
