//! Browser tests of rooms that outlive the page (src/ui/rooms/keep.rs over IndexedDB, `storage::sync`'s room
//! mapping): a reload shows the stored room before the network answers, the join carries the stored history
//! point and its catch-up lands after the stored lines, scroll-back reads the store then the room's archive,
//! a live and an archived copy of a room message are kept and shown once, and a room's unread and mention
//! counts survive a reload until the room is read.
//!
//! The session is played by the test ([`SessionHandle::fake`] takes the commands; events go in through
//! [`SessionHandle::receive`], exactly as the transport delivers them).
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_rooms_keep`
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use natter::storage::indexed::IdbBackend;
use natter::storage::{
    Backend, ConversationKind, ConversationRecord, MessageRecord, MessageState, Op, SnapshotRequest, Store,
};
use natter::ui::persist;
use natter::ui::rooms;
use natter::xmpp::client::muc::{RoomCommand, RoomEvent, RoomMessage};
use natter::xmpp::client::{ArchivePage, ArchiveQuery, ArchivedMessage, HistoryPoint};
use natter::xmpp::jid::Jid;
use natter::xmpp::stanza::message::{Message, MessageType};
use natter::xmpp::{Command, Event};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, settle, sleep};

const ALICE: &str = "alice@example.org";
const ROOM: &str = "lobby@conference.example.org";

/// A stored room message from `nick` with the room archive id `id` (stored as "room id").
fn stored_message(nick: &str, body: &str, time: i64, id: &str) -> MessageRecord {
    MessageRecord {
        conversation: bare(ROOM),
        time,
        sender: bare(ROOM),
        from_me: false,
        body: body.into(),
        is_me_action: false,
        nick: Some(nick.into()),
        id: None,
        origin_id: None,
        stanza_id: Some(format!("{ROOM} {id}")),
        state: MessageState::Received,
    }
}

fn room_record(joined: bool, history: Option<&str>) -> ConversationRecord {
    ConversationRecord {
        jid: bare(ROOM),
        kind: ConversationKind::Groupchat,
        last_read: None,
        unread: 0,
        mentions: 0,
        peer_read: None,
        draft: String::new(),
        last_activity: 9_000,
        nick: Some("ali".into()),
        history: history.map(|id| HistoryPoint { id: Some(id.into()), unix_ms: Some(9_000) }),
        joined,
    }
}

async fn stored_room() -> Vec<MessageRecord> {
    persist::flush().await;
    let store = IdbBackend.open(&bare(ALICE)).await.unwrap();
    let snapshot = store.snapshot(&SnapshotRequest { open: Some(bare(ROOM)), recent: 50, page: 500 }).await.unwrap();
    store.close();
    snapshot
        .pages
        .into_iter()
        .filter(|(j, _)| j == &bare(ROOM))
        .flat_map(|(_, p)| p.messages)
        .map(|m| m.message)
        .collect()
}

fn archived(nick: &str, body: &str, id: &str, t: u64) -> ArchivedMessage {
    let mut message = Message::chat(Jid::parse(ALICE).unwrap(), body);
    message.kind = MessageType::Groupchat;
    message.from = Some(Jid::parse(&format!("{ROOM}/{nick}")).unwrap());
    ArchivedMessage { id: id.into(), unix_ms: Some(t), with: bare(ROOM), outgoing: false, message }
}

fn page(query: ArchiveQuery, messages: Vec<ArchivedMessage>, complete: bool) -> Event {
    let oldest = messages.first().map(|m| HistoryPoint { id: Some(m.id.clone()), unix_ms: m.unix_ms });
    Event::ArchivePage(ArchivePage { archive: bare(ROOM), query, messages, oldest, newest: None, complete })
}

async fn seed(ops: Vec<Op>) {
    web::seed(ALICE, ops).await;
}

/// The core's word that we are in the room (as the member "ali", nobody else listed).
fn joined() -> Event {
    Event::Room(web::joined(bare(ROOM), web::member("ali"), Vec::new()))
}

struct Harness {
    screen: Screen,
    taken: web::Taken,
}

web::deref_to_screen!(Harness);

impl Harness {
    fn new() -> Harness {
        web::set_url_fragment("");
        let (session, taken) = web::recording();
        Harness { screen: Screen::main_kept(session), taken }
    }

    /// A core event (a [`Screen::receive`] of it).
    fn receive(&self, event: Event) {
        self.screen.receive(core(event));
    }

    /// The bodies of the room's message rows, in order.
    fn bodies(&self) -> Vec<String> {
        self.contents(".room .message .message-body")
    }

    fn load_older_commands(&self) -> Vec<Option<HistoryPoint>> {
        self.taken
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Command::LoadOlder { with, before } if with == &bare(ROOM) => Some(before.clone()),
                _ => None,
            })
            .collect()
    }
}

#[wasm_bindgen_test]
async fn a_reload_shows_the_stored_room_and_its_join_catches_up_from_the_stored_point() {
    seed(vec![
        Op::PutConversation(room_record(true, Some("r2"))),
        Op::AddMessage(stored_message("bob", "first <b>words</b>", 1_000, "r1")),
        Op::AddMessage(stored_message("carol", "second", 2_000, "r2")),
    ])
    .await;
    let h = Harness::new();
    let options = h.log_in(ALICE, false).await;
    // The core is told to join the room again, from the stored point, under the stored nick.
    let rooms_to_join = &options.seed.as_ref().unwrap().rooms;
    assert_eq!(rooms_to_join.len(), 1);
    assert_eq!((rooms_to_join[0].nick.as_str(), rooms_to_join[0].last_stanza_id.as_deref()), ("ali", Some("r2")));
    // Before the network answers: the room in the sidebar, its stored lines in the open room, as text.
    assert!(h.store.rooms.rooms.with_untracked(|r| r.contains_key(&bare(ROOM))));
    rooms::open(h.store, bare(ROOM));
    settle().await;
    assert_eq!(h.bodies(), ["first <b>words</b>", "second"]);
    assert!(h.page_text().contains("carol"), "the sender's nick is kept");
    assert_eq!(rooms::nick_for(h.store, &bare(ROOM)), "ali");

    // A join from the UI carries the stored point.
    rooms::join(h.store, h.session, &bare(ROOM), "ali", None).unwrap();
    let history = h.taken.borrow().iter().find_map(|c| match c {
        Command::Room(RoomCommand::Join { history, .. }) => Some(history.clone()),
        _ => None,
    });
    assert_eq!(history, Some(Some(HistoryPoint { id: Some("r2".into()), unix_ms: Some(9_000) })));

    // Joined; a live message comes before the catch-up's page, which goes after the stored lines.
    h.receive(joined());
    let mut live = Message::chat(Jid::parse(ALICE).unwrap(), "live now");
    live.kind = MessageType::Groupchat;
    live.from = Some(Jid::parse(&format!("{ROOM}/bob")).unwrap());
    live.stanza_id = Some("r5".into());
    h.receive(Event::Room(RoomEvent::Message(RoomMessage {
        room: bare(ROOM),
        nick: Some("bob".into()),
        occupant_id: None,
        message: live,
        own: false,
        mentions_me: false,
    })));
    let catch_up = ArchiveQuery::RoomCatchUp { room: bare(ROOM) };
    h.receive(page(
        catch_up,
        vec![archived("carol", "second", "r2", 2_000), archived("dave", "missed while away", "r3", 3_000)],
        true,
    ));
    h.receive(Event::Room(RoomEvent::HistoryCursor {
        room: bare(ROOM),
        point: HistoryPoint { id: Some("r5".into()), unix_ms: Some(5_000) },
    }));
    settle().await;
    assert_eq!(h.bodies(), ["first <b>words</b>", "second", "missed while away", "live now"], "each once, in order");
    let kept: Vec<String> = stored_room().await.into_iter().map(|m| m.body).collect();
    assert_eq!(kept, ["first <b>words</b>", "second", "missed while away", "live now"]);
    persist::close().await;
    // The next page load joins from the newest point.
    let store = IdbBackend.open(&bare(ALICE)).await.unwrap();
    let snapshot = store.snapshot(&SnapshotRequest { open: None, recent: 5, page: 5 }).await.unwrap();
    store.close();
    let room = snapshot.conversations.iter().find(|c| c.jid == bare(ROOM)).unwrap();
    assert_eq!((room.history.as_ref().and_then(|h| h.id.as_deref()), room.joined), (Some("r5"), true));
}

#[wasm_bindgen_test]
async fn scroll_back_reads_the_store_then_the_rooms_archive() {
    let mut ops = vec![Op::PutConversation(room_record(true, Some("s60")))];
    ops.extend((1..=60).map(|i| Op::AddMessage(stored_message("bob", &format!("m{i}"), i * 10, &format!("s{i}")))));
    seed(ops).await;
    let h = Harness::new();
    h.log_in(ALICE, false).await;
    rooms::open(h.store, bare(ROOM));
    settle().await;
    assert_eq!(h.bodies().len(), 50, "the latest stored page");
    assert_eq!(h.bodies()[0], "m11");

    h.button("Load older messages").click();
    persist::flush().await;
    settle().await;
    settle().await;
    let bodies = h.bodies();
    assert_eq!(bodies.len(), 60, "the rest from the store");
    assert_eq!(bodies[0], "m1");
    assert!(h.load_older_commands().is_empty(), "the store first: no archive query yet");

    h.button("Load older messages").click();
    settle().await;
    assert_eq!(
        h.load_older_commands(),
        [Some(HistoryPoint { id: Some("s1".into()), unix_ms: Some(10) })],
        "then the room's archive, before the oldest stored message"
    );
    assert!(h.page_text().contains("Loading older messages…"));
    h.receive(page(
        ArchiveQuery::Older { with: bare(ROOM) },
        vec![archived("eve", "the very first", "s0", 5), archived("bob", "m1", "s1", 10)],
        true,
    ));
    settle().await;
    let bodies = h.bodies();
    assert_eq!((bodies.len(), bodies[0].as_str(), bodies[1].as_str()), (61, "the very first", "m1"), "m1 once");
    assert!(h.page_text().contains("Start of the room's history"));
    persist::close().await;
}

#[wasm_bindgen_test]
async fn our_room_message_is_kept_once_in_the_room_and_never_as_a_chat_with_the_room() {
    seed(vec![]).await;
    let h = Harness::new();
    h.log_in(ALICE, false).await;
    h.receive(joined());
    rooms::open(h.store, bare(ROOM));
    rooms::send(h.store, h.session, &bare(ROOM), "hello all".into()).unwrap();
    let id = h
        .taken
        .borrow()
        .iter()
        .find_map(|c| match c {
            Command::Room(RoomCommand::Send { id, .. }) => Some(id.clone()),
            _ => None,
        })
        .unwrap();
    // What the core says next: sent, acknowledged, reflected by the room with its archive id.
    let mut sent = Message::chat(Jid::parse(ROOM).unwrap(), "hello all");
    sent.kind = MessageType::Groupchat;
    sent.id = Some(id.clone());
    sent.origin_id = Some(id.clone());
    h.receive(Event::MessageSent(sent));
    h.receive(Event::MessageAcked { id: id.clone() });
    h.receive(Event::Room(RoomEvent::Reflected { room: bare(ROOM), id: id.clone(), stanza_id: Some("r7".into()) }));
    settle().await;
    assert_eq!(h.bodies(), ["hello all"]);
    assert!(!h.store.conversations.with_untracked(|c| c.contains_key(&bare(ROOM))), "no chat with the room");
    // The room's archive has it too (a catch-up after a rejoin): shown and kept once.
    let mut copy = archived("ali", "hello all", "r7", 7_000);
    copy.outgoing = true;
    copy.message.origin_id = Some(id.clone());
    h.receive(page(ArchiveQuery::RoomCatchUp { room: bare(ROOM) }, vec![copy], true));
    settle().await;
    assert_eq!(h.bodies(), ["hello all"]);
    let kept = stored_room().await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        (kept[0].stanza_id.as_deref(), &kept[0].state, kept[0].from_me),
        (Some("lobby@conference.example.org r7"), &MessageState::Delivered, true)
    );
    persist::close().await;
}

/// A live message in the room from `nick` (`mentions_me`: it names our nick).
fn live(nick: &str, body: &str, id: &str, mentions_me: bool) -> Event {
    let mut message = Message::chat(Jid::parse(ALICE).unwrap(), body);
    message.kind = MessageType::Groupchat;
    message.from = Some(Jid::parse(&format!("{ROOM}/{nick}")).unwrap());
    message.stanza_id = Some(id.into());
    Event::Room(RoomEvent::Message(RoomMessage {
        room: bare(ROOM),
        nick: Some(nick.into()),
        occupant_id: None,
        message,
        own: false,
        mentions_me,
    }))
}

/// The room row's unread and mention badges as shown ("" when hidden).
fn badges(root: &web_sys::HtmlElement) -> (String, String) {
    let badge = |class: &str| {
        let el: web_sys::HtmlElement = root
            .query_selector(&format!(".room-row[data-room='{ROOM}'] .{class}"))
            .unwrap()
            .unwrap_or_else(|| panic!("no {class}"))
            .unchecked_into();
        if el.hidden() { String::new() } else { el.text_content().unwrap_or_default() }
    };
    (badge("room-unread"), badge("room-mentions"))
}

async fn stored_record() -> ConversationRecord {
    let store = IdbBackend.open(&bare(ALICE)).await.unwrap();
    let snapshot = store.snapshot(&SnapshotRequest { open: None, recent: 5, page: 5 }).await.unwrap();
    store.close();
    snapshot.conversations.into_iter().find(|c| c.jid == bare(ROOM)).unwrap()
}

#[wasm_bindgen_test]
async fn a_rooms_unread_and_mention_counts_survive_a_reload_until_it_is_read() {
    seed(vec![
        Op::PutConversation(room_record(true, None)),
        Op::AddMessage(stored_message("bob", "before", 1_000, "r1")),
    ])
    .await;
    {
        let h = Harness::new();
        h.log_in(ALICE, false).await;
        h.receive(joined());
        h.receive(live("bob", "hello all", "r2", false));
        h.receive(live("carol", "ali, look", "r3", true));
        h.receive(live("bob", "and ali again", "r4", true));
        settle().await;
        assert_eq!(badges(&h.root), ("3 unread".to_owned(), "@2 mentioning you".to_owned()));
        sleep(400).await; // the debounced save
        persist::close().await;
    }
    let kept = stored_record().await;
    assert_eq!((kept.unread, kept.mentions), (3, 2));

    // The next page: the counts show in the Rooms section before the network answers.
    let h = Harness::new();
    h.log_in(ALICE, false).await;
    assert_eq!(badges(&h.root), ("3 unread".to_owned(), "@2 mentioning you".to_owned()));
    assert!(h.taken.borrow().is_empty(), "nothing asked of the network");

    // Read: cleared on screen and in the store, read up to the newest message.
    rooms::open(h.store, bare(ROOM));
    settle().await;
    assert_eq!(badges(&h.root), (String::new(), String::new()));
    sleep(400).await;
    persist::close().await;
    let kept = stored_record().await;
    assert_eq!((kept.unread, kept.mentions, kept.last_read), (0, 0, Some(kept.last_activity)));
}

/// The transcript's rows as (body, top relative to the transcript's visible top) in px (the transcript is made
/// their offset parent: `position: relative`).
fn row_tops(root: &web_sys::HtmlElement) -> (web_sys::HtmlElement, Vec<(String, f64)>) {
    let transcript: web_sys::HtmlElement = root.query_selector("#room-transcript").unwrap().unwrap().unchecked_into();
    let top = transcript.scroll_top();
    let list = transcript.query_selector_all(".message").unwrap();
    let rows = (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| {
            let el: web_sys::HtmlElement = n.unchecked_into();
            let body = el.query_selector(".message-body").unwrap().and_then(|b| b.text_content()).unwrap_or_default();
            (body, f64::from(el.offset_top() - top))
        })
        .collect();
    (transcript, rows)
}

/// The first row at or below the transcript's top edge: (its body, its offset).
fn first_visible(root: &web_sys::HtmlElement) -> (String, f64) {
    row_tops(root).1.into_iter().find(|(_, y)| *y >= 0.0).expect("a visible row")
}

/// Scrolls the transcript to its top, as a person does (the scroll event asks for the next page).
async fn scroll_to_top(root: &web_sys::HtmlElement) {
    let (transcript, _) = row_tops(root);
    transcript.set_scroll_top(0);
    transcript.dispatch_event(&web_sys::Event::new("scroll").unwrap()).unwrap();
    settle().await;
}

#[wasm_bindgen_test]
async fn the_rows_in_view_stay_put_while_older_pages_are_prepended() {
    let mut ops = vec![Op::PutConversation(room_record(true, Some("s60")))];
    ops.extend((1..=60).map(|i| Op::AddMessage(stored_message("bob", &format!("m{i}"), i * 10, &format!("s{i}")))));
    seed(ops).await;
    let h = Harness::new();
    h.log_in(ALICE, false).await;
    rooms::open(h.store, bare(ROOM));
    settle().await;
    // A phone-sized transcript (the test page has no stylesheet).
    let (transcript, _) = row_tops(&h.root);
    transcript.style().set_property("height", "300px").unwrap();
    transcript.style().set_property("overflow-y", "auto").unwrap();
    transcript.style().set_property("position", "relative").unwrap();
    settle().await;
    assert!(transcript.scroll_height() > transcript.client_height() + 200, "it scrolls");
    assert_eq!(h.bodies()[0], "m11");

    // Near the top, "Load older messages": the store's older page (m1–m10) comes in above, and the rows in
    // view do not move.
    transcript.set_scroll_top(60);
    settle().await;
    assert_eq!(h.bodies().len(), 50, "not at the top yet: nothing loaded");
    let before = first_visible(&h.root);
    h.button("Load older messages").click();
    persist::flush().await;
    settle().await;
    settle().await;
    assert_eq!(h.bodies().len(), 60, "the older page came in");
    let (_, rows) = row_tops(&h.root);
    let after = rows.iter().find(|(b, _)| b == &before.0).expect("the row is still there").1;
    assert!((after - before.1).abs() <= 4.0, "{} moved from {} to {after}", before.0, before.1);
    assert!(transcript.scroll_top() > 0, "scrolled past what was added");

    // Again at the top: the store has nothing older, the room's archive answers; the rows stay put again.
    scroll_to_top(&h.root).await;
    persist::flush().await;
    settle().await;
    settle().await;
    assert_eq!(h.load_older_commands().len(), 1, "{:?}", h.load_older_commands());
    let before = first_visible(&h.root);
    let older: Vec<ArchivedMessage> =
        (0..20).map(|i| archived("eve", &format!("a{i}"), &format!("a{i}"), 1 + i as u64 / 10)).collect();
    h.receive(page(ArchiveQuery::Older { with: bare(ROOM) }, older, true));
    settle().await;
    settle().await;
    assert_eq!(h.bodies().len(), 80);
    let (_, rows) = row_tops(&h.root);
    let after = rows.iter().find(|(b, _)| b == &before.0).expect("the row is still there").1;
    assert!((after - before.1).abs() <= 4.0, "{} moved from {} to {after}", before.0, before.1);
    persist::close().await;
}

/// What a room's catch-up brings from the point this device held (what was said while we were away) counts as
/// unread, mentions too; what we had shown already does not, nor what came before our own line (we were there,
/// on another device), nor a first join's history (no point held: context, not missed).
#[wasm_bindgen_test]
async fn a_rooms_catch_up_from_a_held_point_counts_what_was_missed_as_unread() {
    seed(vec![
        Op::PutConversation(room_record(true, Some("r2"))),
        Op::AddMessage(stored_message("bob", "before", 1_000, "r1")),
        Op::AddMessage(stored_message("carol", "seen", 2_000, "r2")),
    ])
    .await;
    let h = Harness::new();
    h.log_in(ALICE, false).await;
    h.receive(joined());
    let catch_up = ArchiveQuery::RoomCatchUp { room: bare(ROOM) };
    let mut ours = archived("ali", "I was here", "r4", 4_000);
    ours.outgoing = true;
    h.receive(page(
        catch_up.clone(),
        vec![
            archived("carol", "seen", "r2", 2_000),
            archived("dave", "before ours", "r3", 3_000),
            ours,
            archived("bob", "missed", "r5", 5_000),
            archived("carol", "ali, missed too", "r6", 6_000),
        ],
        false,
    ));
    settle().await;
    assert_eq!(badges(&h.root), ("2 unread".to_owned(), "@1 mentioning you".to_owned()));
    // The same page again (a retry) counts nothing twice.
    h.receive(page(catch_up, vec![archived("carol", "ali, missed too", "r6", 6_000)], true));
    settle().await;
    assert_eq!(badges(&h.root), ("2 unread".to_owned(), "@1 mentioning you".to_owned()));
    persist::close().await;
}

#[wasm_bindgen_test]
async fn a_first_joins_history_is_not_unread() {
    seed(vec![]).await;
    let h = Harness::new();
    h.log_in(ALICE, false).await;
    rooms::join(h.store, h.session, &bare(ROOM), "ali", None).unwrap();
    h.receive(joined());
    let catch_up = ArchiveQuery::RoomCatchUp { room: bare(ROOM) };
    h.receive(page(
        catch_up,
        vec![archived("bob", "old news", "r1", 1_000), archived("carol", "ali?", "r2", 2_000)],
        true,
    ));
    settle().await;
    assert_eq!(badges(&h.root), (String::new(), String::new()));
    rooms::open(h.store, bare(ROOM));
    settle().await;
    assert!(h.page_text().contains("old news"), "shown, just not unread");
    persist::close().await;
}
