//! Browser tests of what outlives the page (src/ui/persist.rs over IndexedDB): instant start from a seeded
//! store, core events and the person's own messages kept, "Stay logged in" keeping the token (and only then),
//! log out and "Forget this device's data", and two accounts on one browser never seeing each other's data.
//!
//! The session is played by the test ([`SessionHandle::fake`] takes the commands; events go in through
//! [`SessionHandle::receive`], exactly as the transport delivers them).
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_persist`
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use natter::storage::indexed::IdbBackend;
use natter::storage::sync::{decode_token, encode_token};
use natter::storage::{
    Backend, ConversationKind, ConversationRecord, MessageRecord, MessageState, MetaKey, Op, OutboxRecord,
    SnapshotRequest, Store,
};
use natter::ui::login::LoginForm;
use natter::ui::persist;
use natter::ui::state::{self, Connection, SessionHandle};
use natter::xmpp::client::{ArchivePage, ArchiveQuery, ArchivedMessage};
use natter::xmpp::jid::Jid;
use natter::xmpp::sasl::{FastToken, Mechanism};
use natter::xmpp::stanza::message::Message;
use natter::xmpp::{Command, Event};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, roster_item, seed, settle, sleep};

fn local(key: &str) -> Option<String> {
    web_sys::window().unwrap().local_storage().unwrap().unwrap().get_item(key).unwrap()
}

fn token(secret: &str) -> FastToken {
    FastToken::issued(Mechanism::HtSha256None, secret, None).unwrap()
}

fn message(conversation: &str, sender: &str, body: &str, time: i64, id: &str, state: MessageState) -> MessageRecord {
    MessageRecord {
        conversation: bare(conversation),
        time,
        sender: bare(sender),
        from_me: state != MessageState::Received,
        body: body.into(),
        is_me_action: false,
        nick: None,
        id: Some(id.into()),
        origin_id: Some(id.into()),
        stanza_id: None,
        state,
    }
}

/// What the account's database holds now.
async fn stored(account: &str) -> natter::storage::Snapshot {
    persist::flush().await;
    let store = IdbBackend.open(&bare(account)).await.unwrap();
    let snapshot = store.snapshot(&SnapshotRequest { open: None, recent: 50, page: 100 }).await.unwrap();
    store.close();
    snapshot
}

/// The chat screen with a fake session; nothing loaded yet.
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

    fn online(&self, account: &str) {
        let jid = Jid::parse(&format!("{account}/web")).unwrap();
        self.receive(core(Event::Online { jid, resumed: false }));
    }

    fn sent(&self) -> Vec<(String, String)> {
        self.taken
            .borrow()
            .iter()
            .filter_map(|c| match c {
                Command::SendMessage { body, id, .. } => Some((body.clone(), id.clone())),
                _ => None,
            })
            .collect()
    }
}

#[wasm_bindgen_test]
async fn instant_start_paints_the_stored_account_before_the_network_answers() {
    let (alice, bob) = ("alice@example.org", "bob@example.org");
    let bob_conv = ConversationRecord {
        jid: bare(bob),
        kind: ConversationKind::Chat,
        last_read: None,
        unread: 2,
        mentions: 0,
        peer_read: None,
        draft: "half a thought".into(),
        last_activity: 3_000,
        nick: None,
        history: None,
        joined: false,
    };
    seed(
        alice,
        vec![
            Op::ReplaceRoster(vec![
                roster_item(bob, Some("Bob"), &[]),
                roster_item("carol@example.org", Some("Carol"), &[]),
            ]),
            Op::SetMeta(MetaKey::RosterVer, Some("v5".into())),
            Op::SetMeta(MetaKey::MamLastId, Some("cursor-9".into())),
            Op::SetMeta(MetaKey::DeviceId, Some("device-1".into())),
            Op::PutConversation(bob_conv),
            Op::AddMessage(message(bob, bob, "stored hello", 1_000, "b1", MessageState::Received)),
            Op::AddMessage(message(bob, alice, "stored reply", 2_000, "a1", MessageState::Delivered)),
            // Handed to a session that never confirmed it before the page closed: it goes out again.
            Op::AddMessage(message(bob, alice, "unconfirmed", 2_500, "a2", MessageState::Pending)),
            Op::SetOutbox(vec![OutboxRecord {
                id: "a3".into(),
                to: bare(bob),
                body: "typed offline".into(),
                created: 2_600,
            }]),
        ],
    )
    .await;
    let h = Harness::new();
    let options = h.log_in(alice, false).await;
    // The core starts from the store: roster + version, archive cursor, de-dup keys, this device's id.
    let seed = options.seed.expect("seeded");
    assert_eq!(seed.roster.as_ref().map(|(v, items)| (v.as_str(), items.len())), Some(("v5", 2)));
    assert_eq!(seed.last_id.as_deref(), Some("cursor-9"));
    assert!(!seed.seen.is_empty());
    assert_eq!(options.device_id.as_deref(), Some("device-1"));
    assert!(options.stay_logged_in, "a token is asked for (kept in memory) for reconnects");

    // Painted before any event from the network: contacts, unread count, the transcript, the outbox.
    h.store.connection.set(Connection::Starting);
    settle().await;
    assert!(
        h.contents(".contact").iter().any(|t| t.contains("Bob") && t.contains('2')),
        "{:?}",
        h.contents(".contact")
    );
    state::select(h.store, bare(bob));
    settle().await;
    let bodies = h.contents(".message-body");
    assert_eq!(bodies, ["stored hello", "stored reply", "unconfirmed", "typed offline"], "{bodies:?}");
    let draft = h.store.conversations.with_untracked(|c| c.get(&bare(bob)).map(|c| c.draft.clone()));
    assert_eq!(draft.as_deref(), Some("half a thought"));
    assert_eq!(h.store.outbox.with_untracked(|o| o.iter().map(|e| e.id.clone()).collect::<Vec<_>>()), ["a3", "a2"]);

    // All of it is in the store: leaving the page loses nothing, so it does not ask.
    sleep(400).await;
    persist::flush().await;
    assert!(!h.store.has_unsent(), "the store keeps the outbox and the unconfirmed message");
    let outbox = stored(alice).await.outbox;
    assert_eq!(outbox.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["a3", "a2"]);

    // Online: the outbox goes out, each once, with its id.
    h.online(alice);
    settle().await;
    let ids: Vec<String> = h.sent().into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, ["a3", "a2"]);
    // A message just sent and not confirmed: leaving asks until the store has it written, then not.
    natter::ui::outbox::send(h.store, h.session, &bare(bob), "just now".into()).unwrap();
    assert!(h.store.has_unsent(), "not written yet: the browser asks");
    persist::flush().await;
    sleep(50).await;
    assert!(!h.store.has_unsent(), "written: a reload sends it again, nothing to ask");
    persist::close().await;
}

#[wasm_bindgen_test]
async fn what_the_session_says_is_kept_in_one_place() {
    let (alice, bob) = ("alice@example.org", "bob@example.org");
    seed(alice, vec![]).await;
    let h = Harness::new();
    h.log_in(alice, false).await;
    h.online(alice);
    h.receive(core(Event::Roster { items: vec![roster_item(bob, Some("Bob"), &[])], ver: Some("r1".into()) }));
    let mut hello = Message::chat(Jid::parse("alice@example.org/web").unwrap(), "hello from bob");
    hello.from = Some(Jid::parse("bob@example.org/phone").unwrap());
    hello.id = Some("m1".into());
    hello.origin_id = Some("m1".into());
    hello.stanza_id = Some("s1".into());
    h.receive(core(Event::Message(hello.clone())));
    // The same message again, from the archive's catch-up (its stanza-id): stored once.
    h.receive(core(Event::ArchivePage(ArchivePage {
        archive: bare(alice),
        query: ArchiveQuery::CatchUp,
        messages: vec![ArchivedMessage {
            id: "s1".into(),
            unix_ms: Some(5),
            with: bare(bob),
            outgoing: false,
            message: hello,
        }],
        oldest: None,
        newest: None,
        complete: true,
    })));
    h.receive(core(Event::ArchiveCursor { id: "s1".into() }));
    settle().await;
    natter::ui::outbox::send(h.store, h.session, &bare(bob), "my answer".into()).unwrap();
    let (_, id) = h.sent().pop().unwrap();
    h.receive(core(Event::MessageAcked { id: id.clone() }));
    h.receive(core(Event::Receipt { from: bare(bob), id: id.clone() }));
    sleep(400).await; // the debounced save of unread counts
    let snapshot = stored(alice).await;
    assert_eq!(snapshot.meta.roster_ver.as_deref(), Some("r1"));
    assert_eq!(snapshot.meta.mam_last_id.as_deref(), Some("s1"));
    assert_eq!(snapshot.roster.len(), 1);
    let page = &snapshot.pages.iter().find(|(j, _)| j == &bare(bob)).unwrap().1;
    let got: Vec<_> = page.messages.iter().map(|m| (m.message.body.as_str(), m.message.state.clone())).collect();
    assert_eq!(got, [("hello from bob", MessageState::Received), ("my answer", MessageState::Delivered)]);
    let conv = snapshot.conversations.iter().find(|c| c.jid == bare(bob)).unwrap();
    assert_eq!(conv.unread, 1, "the conversation is not open: one unread");
    // A token is kept only when the person asked to stay logged in.
    h.receive(core(Event::FastToken(token("not-kept"))));
    assert_eq!(stored(alice).await.meta.fast_token, None);
    persist::close().await;
}

#[wasm_bindgen_test]
async fn staying_logged_in_keeps_the_token_and_a_refused_one_is_deleted() {
    let alice = "alice@example.org";
    seed(alice, vec![]).await;
    let h = Harness::new();
    h.log_in(alice, true).await;
    assert_eq!(local(persist::LAST_ACCOUNT).as_deref(), Some(alice));
    h.online(alice);
    h.receive(core(Event::FastToken(token("secret-1"))));
    let kept = stored(alice).await.meta.fast_token.and_then(|t| decode_token(&t)).unwrap();
    assert_eq!(kept.secret, "secret-1");
    persist::close().await;
    drop(h);

    // A reload: the token is found, the store painted, and the login goes without a password.
    let h = Harness::new();
    let options = persist::resume(h.store, bare(alice), None).await.expect("a token is kept");
    assert_eq!(options.token.as_ref().map(|t| t.secret.as_str()), Some("secret-1"));
    assert!(options.password.is_empty());
    assert!(options.seed.is_some() && options.device_id.is_some());
    // The server refuses it: it is deleted, and the login form comes back.
    h.store.connection.set(Connection::Starting);
    let refused = natter::xmpp::ClientError::FastTokenRefused {
        failure: natter::xmpp::sasl::SaslFailure::NotAuthorized,
        text: None,
    };
    h.receive(core(Event::Closed { error: Some(refused) }));
    assert_eq!(h.store.connection.get_untracked(), Connection::LoggedOut);
    assert!(h.store.login_error.get_untracked().is_some());
    assert_eq!(stored(alice).await.meta.fast_token, None);
    assert!(persist::resume(h.store, bare(alice), None).await.is_none(), "nothing to log in with any more");
    persist::close().await;
}

#[wasm_bindgen_test]
async fn log_out_deletes_the_token_and_forgetting_deletes_everything() {
    let (alice, bob) = ("alice@example.org", "bob@example.org");
    seed(alice, vec![Op::SetMeta(MetaKey::FastToken, Some(encode_token(&token("t1"))))]).await;
    let h = Harness::new();
    h.log_in(alice, true).await;
    h.receive(core(Event::Message({
        let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), "keep me");
        m.from = Some(Jid::parse(bob).unwrap());
        m
    })));
    // Log out without forgetting: the token goes, the messages and the address stay.
    persist::log_out(h.store, h.session, false).await;
    let kept = stored(alice).await;
    assert_eq!(kept.meta.fast_token, None);
    assert_eq!(kept.pages.iter().map(|(_, p)| p.messages.len()).sum::<usize>(), 1);
    assert_eq!(local(persist::LAST_ACCOUNT).as_deref(), Some(alice));
    assert_eq!(h.store.connection.get_untracked(), Connection::LoggedOut);
    assert!(h.store.contacts.with_untracked(|c| c.is_empty()), "nothing of the account stays on screen");

    // Log in again and forget: the database and the last-account record are gone.
    h.log_in(alice, false).await;
    persist::log_out(h.store, h.session, true).await;
    assert_eq!(local(persist::LAST_ACCOUNT), None);
    let empty = stored(alice).await;
    assert!(empty.pages.is_empty() && empty.conversations.is_empty() && empty.meta.device_id.is_none(), "{empty:?}");
}

#[wasm_bindgen_test]
async fn another_account_on_this_browser_never_sees_the_first_ones_data() {
    let (alice, bob, carol) = ("alice@example.org", "bob@example.org", "carol@example.org");
    seed(
        alice,
        vec![
            Op::ReplaceRoster(vec![roster_item(bob, Some("Bob"), &[])]),
            Op::AddMessage(message(bob, bob, "for alice only", 1_000, "x1", MessageState::Received)),
        ],
    )
    .await;
    seed(carol, vec![]).await;
    let h = Harness::new();
    h.log_in(alice, false).await;
    assert!(h.store.contacts.with_untracked(|c| c.contains_key(&bare(bob))));
    h.store.connection.set(Connection::LoggedOut);
    h.log_in(carol, false).await;
    h.online(carol);
    state::select(h.store, bare(bob));
    settle().await;
    assert!(h.contents(".message-body").is_empty(), "{:?}", h.contents(".message-body"));
    assert!(!h.store.contacts.with_untracked(|c| c.get(&bare(bob)).is_some_and(|c| c.in_roster)));
    let carols = stored(carol).await;
    assert!(carols.roster.is_empty() && carols.pages.iter().all(|(_, p)| p.messages.is_empty()));
    persist::close().await;
}

#[wasm_bindgen_test]
async fn the_login_form_offers_to_forget_what_this_device_keeps() {
    let alice = "alice@example.org";
    seed(alice, vec![Op::AddMessage(message(alice, "bob@example.org", "old", 1, "q1", MessageState::Received))]).await;
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item(persist::LAST_ACCOUNT, alice).unwrap();
    let screen = Screen::mount_with(SessionHandle::new(), LoginForm::default(), |_| {
        view! { <natter::ui::login::LoginScreen /> }.into_any()
    });
    let root = &screen.root;
    settle().await;
    let text = root.text_content().unwrap_or_default();
    assert!(text.contains("keeps the messages and contacts of alice@example.org"), "{text}");
    let buttons = root.query_selector_all("button").unwrap();
    let forget = (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .find(|b| b.text_content().unwrap_or_default() == "Forget this device's data")
        .expect("the button");
    forget.unchecked_into::<web_sys::HtmlElement>().click();
    for _ in 0..50 {
        if local(persist::LAST_ACCOUNT).is_none() && !root.text_content().unwrap_or_default().contains("keeps the") {
            break;
        }
        sleep(20).await;
    }
    assert_eq!(local(persist::LAST_ACCOUNT), None);
    assert!(!root.text_content().unwrap_or_default().contains("keeps the messages"));
    let left = stored(alice).await;
    assert!(left.pages.is_empty() && left.conversations.is_empty(), "{left:?}");
}

#[wasm_bindgen_test]
async fn a_stored_room_is_not_painted_as_a_contact() {
    let (alice, room) = ("alice@example.org", "lobby@conference.example.org");
    let conversation = ConversationRecord {
        jid: bare(room),
        kind: ConversationKind::Groupchat,
        last_read: None,
        unread: 4,
        mentions: 0,
        peer_read: None,
        draft: String::new(),
        last_activity: 9_000,
        nick: Some("alice".into()),
        history: None,
        joined: false,
    };
    seed(
        alice,
        vec![
            Op::PutConversation(conversation),
            Op::AddMessage(message(room, room, "room talk", 9_000, "r1", MessageState::Received)),
        ],
    )
    .await;
    let h = Harness::new();
    h.log_in(alice, false).await;
    assert!(!h.store.contacts.with_untracked(|c| c.contains_key(&bare(room))), "rooms are the group chat UI's");
    assert!(!h.store.conversations.with_untracked(|c| c.contains_key(&bare(room))));
    // … and stay stored.
    assert_eq!(stored(alice).await.conversations.iter().filter(|c| c.kind == ConversationKind::Groupchat).count(), 1);
    persist::close().await;
}

#[wasm_bindgen_test]
async fn older_stored_messages_page_back_to_the_first() {
    let (alice, bob) = ("alice@example.org", "bob@example.org");
    let ops = (1..=120)
        .map(|i| Op::AddMessage(message(bob, bob, &format!("m{i}"), i * 10, &format!("p{i}"), MessageState::Received)));
    seed(alice, ops.collect()).await;
    let h = Harness::new();
    h.log_in(alice, false).await;
    let mut before = None;
    let mut seen = Vec::new();
    loop {
        let page = persist::older(&bare(bob), before, 50).await.unwrap();
        let bodies: Vec<String> = page.messages.iter().map(|m| m.message.body.clone()).collect();
        seen.splice(0..0, bodies);
        before = page.messages.first().map(|m| m.point());
        if page.complete {
            break;
        }
    }
    assert_eq!(seen, (1..=120).map(|i| format!("m{i}")).collect::<Vec<_>>(), "every message once, in order");
    persist::close().await;
    assert_eq!(persist::older(&bare(bob), None, 50).await, Err(natter::storage::StorageError::Closed));
}

#[wasm_bindgen_test]
async fn a_displayed_marker_shows_every_earlier_message_read_after_a_reload() {
    let (alice, bob) = ("alice@example.org", "bob@example.org");
    let bob_conv = ConversationRecord {
        jid: bare(bob),
        kind: ConversationKind::Chat,
        last_read: None,
        unread: 0,
        mentions: 0,
        peer_read: None,
        draft: String::new(),
        last_activity: 3_000,
        nick: None,
        history: None,
        joined: false,
    };
    seed(
        alice,
        vec![
            Op::PutConversation(bob_conv),
            Op::AddMessage(message(bob, alice, "one", 1_000, "a1", MessageState::Delivered)),
            Op::AddMessage(message(bob, alice, "two", 2_000, "a2", MessageState::Sent)),
            Op::AddMessage(message(bob, alice, "three", 3_000, "a3", MessageState::Delivered)),
        ],
    )
    .await;
    {
        let h = Harness::new();
        h.log_in(alice, false).await;
        // Bob displayed "two": it and everything before it are read.
        h.receive(core(Event::Displayed { from: bare(bob), id: "a2".into() }));
        persist::flush().await;
        persist::close().await;
    }
    let h = Harness::new();
    h.log_in(alice, false).await;
    state::select(h.store, bare(bob));
    settle().await;
    let list = h.root.query_selector_all(".message-state").unwrap();
    let states: Vec<String> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.unchecked_into::<web_sys::Element>().get_attribute("data-state"))
        .collect();
    assert_eq!(states, ["read", "read", "delivered"], "the marker counts for the earlier message too");
    persist::close().await;
}
