//! Figures for group chat in headless Chromium with a scripted session (printed, never asserted: no test here
//! fails on timing; each run checks that the page shows the right thing).
//!
//! Run (release profile, as shipped; `--nocapture` shows the figures):
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release --target
//! wasm32-unknown-unknown --test web_rooms_bench -- --nocapture`
//!
//! Scenarios of issue 15, each the median (min–max) of [`RUNS`] runs in a fresh mount:
//! - join-5000: the room confirms our join with 5,000 occupants and a page of 1,000 archived messages arrives →
//!   the people count and the newest message painted (the events applied, then the next frame and a task after it);
//!   then the JS heap in use and the wasm memory;
//! - burst-1000: 1,000 messages from the room in one turn into the open room → the last one painted;
//! - churn-500: 500 people join and leave over 10 s, as the core delivers them (a batch every 100 ms, 10 changes
//!   each) → per batch, from its delivery to the frame painted after it; the backlog grows if the later batches
//!   take longer than the first ones (the figure compares the first and last ten).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use natter::ui::state::SessionHandle;
use natter::xmpp::Event;
use natter::xmpp::client::mam::{ArchivePage, ArchiveQuery, ArchivedMessage};
use natter::xmpp::client::muc::{Departure, Occupant, OccupantChange, RoomEvent, RoomMessage};
use natter::xmpp::jid::Jid;
use natter::xmpp::stanza::message::{Message, MessageType};
use natter::xmpp::stanza::muc::Role;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, joined, next_frame, occupant, sleep};

const RUNS: usize = 5;
const ROOM: &str = "bench@conference.example.org";

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

/// The next frame, and a task after it (the frame's paint is done by then).
async fn painted() {
    next_frame().await;
    sleep(0).await;
}

fn person(nick: &str) -> Occupant {
    occupant(nick, Role::Participant)
}

fn message(nick: &str, body: &str) -> Message {
    let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
    m.kind = MessageType::Groupchat;
    m.from = Some(Jid::parse(&format!("{ROOM}/{nick}")).unwrap());
    m
}

struct Mounted {
    screen: Screen,
}

web::deref_to_screen!(Mounted);

impl Mounted {
    async fn new() -> Mounted {
        web::fresh_page("").await;
        let m = Mounted { screen: Screen::main(SessionHandle::fake(Rc::new(|_| Ok(())))) };
        m.receive(Event::Online { jid: Jid::parse(web::ALICE_WEB).unwrap(), resumed: false });
        m.receive(Event::Room(RoomEvent::Joining { room: bare(ROOM), nick: "alice".into() }));
        natter::ui::rooms::open(m.store, bare(ROOM));
        painted().await;
        m
    }

    /// A core event (a [`Screen::receive`] of it).
    fn receive(&self, event: Event) {
        self.screen.receive(core(event));
    }

    fn last_body(&self) -> String {
        let all = self.root.query_selector_all(".room .message .message-body").unwrap();
        all.item(all.length().saturating_sub(1)).and_then(|n| n.text_content()).unwrap_or_default()
    }

    async fn join_big(&self) {
        let occupants = (0..5000).map(|i| person(&format!("user{i:04}"))).collect();
        self.receive(Event::Room(joined(bare(ROOM), person("alice"), occupants)));
        let messages = (0..1000)
            .map(|i| ArchivedMessage {
                id: format!("a-{i}"),
                unix_ms: None,
                with: bare(ROOM),
                outgoing: false,
                message: message(&format!("user{:04}", i % 5000), &format!("archived {i}")),
            })
            .collect();
        self.receive(Event::ArchivePage(ArchivePage {
            archive: bare(ROOM),
            query: ArchiveQuery::Older { with: bare(ROOM) },
            messages,
            oldest: None,
            newest: None,
            complete: false,
        }));
    }
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    format!("{:.0} ms ({:.0}–{:.0})", v[v.len() / 2], v[0], v[v.len() - 1])
}

fn memory() -> (f64, f64) {
    let perf = web_sys::window().unwrap().performance().unwrap();
    let heap = js_sys::Reflect::get(&perf, &"memory".into())
        .ok()
        .and_then(|m| js_sys::Reflect::get(&m, &"usedJSHeapSize".into()).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NAN);
    let wasm = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
    let bytes = wasm.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64;
    (heap / 1048576.0, bytes / 1048576.0)
}

#[wasm_bindgen_test]
async fn figures() {
    let mut join = Vec::new();
    let mut burst = Vec::new();
    let mut mem = (0.0, 0.0);
    for _ in 0..RUNS {
        let m = Mounted::new().await;
        let t0 = now();
        m.join_big().await;
        painted().await;
        join.push(now() - t0);
        assert_eq!(m.text("#people-toggle"), "5,001 people");
        assert_eq!(m.last_body(), "archived 999");
        mem = memory();

        let t0 = now();
        for i in 0..1000 {
            let event = RoomMessage {
                room: bare(ROOM),
                nick: Some("user0001".into()),
                occupant_id: None,
                message: message("user0001", &format!("burst {i}")),
                own: false,
                mentions_me: false,
            };
            m.receive(Event::Room(RoomEvent::Message(event)));
        }
        painted().await;
        burst.push(now() - t0);
        assert_eq!(m.last_body(), "burst 999");
    }
    console_log!("join-5000 (5,000 occupants + 1,000 archived messages → painted): {}", stats(join));
    console_log!("  after it: JS heap {:.1} MiB, wasm memory {:.1} MiB", mem.0, mem.1);
    console_log!("burst-1000 (1,000 messages in one turn → last painted): {}", stats(burst));

    // churn-500: 100 batches, one every 100 ms, of 5 joins and 5 leaves (500 people in, 500 out).
    let m = Mounted::new().await;
    m.join_big().await;
    painted().await;
    let start = now();
    let mut lags = Vec::new();
    for b in 0..100 {
        let due = start + f64::from(b) * 100.0;
        let wait = (due - now()).max(0.0) as i32;
        sleep(wait).await;
        let mut changes: Vec<OccupantChange> =
            (0..5).map(|i| OccupantChange::Joined { occupant: person(&format!("new{b}-{i}")), was: None }).collect();
        changes.extend((0..5).map(|i| OccupantChange::Left {
            occupant: person(&format!("user{:04}", b * 5 + i)),
            why: Departure::Left { status: None },
        }));
        m.receive(Event::Room(RoomEvent::Occupants { room: bare(ROOM), changes, unlisted: 0 }));
        painted().await;
        lags.push(now() - due);
    }
    let total = now() - start;
    assert_eq!(m.text("#people-toggle"), "5,001 people");
    let first = stats(lags[..10].to_vec());
    let last = stats(lags[90..].to_vec());
    console_log!(
        "churn-500 (100 batches of 10 changes, one per 100 ms): 10 s of batches done in {:.0} ms; delivery → painted {}; first ten {first}, last ten {last}",
        total,
        stats(lags)
    );
}
