//! The local store's behaviour, one set of test bodies for both implementations.
//!
//! - Natively (`cargo test --test web_storage`): every case against the in-memory store.
//! - In headless Chromium (`CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=180 cargo test --target
//!   wasm32-unknown-unknown --test web_storage`): every case against IndexedDB and again against the in-memory
//!   store, plus what only IndexedDB has (upgrading an older layout, refusing a newer one, records that do not
//!   decode, the writer's event-loop batching, `navigator.storage.persist()`).
//!
//! Each case works on accounts of its own (deleted first), so the cases never see each other's data. No case
//! measures time: `tests/web_storage_bench.rs` prints the figures.

use natter::storage::{
    Applied, Backend, ConversationKind, ConversationRecord, GapRecord, MessageKey, MessageRecord, MessageState, Meta,
    MetaKey, Op, OutboxRecord, PagePoint, SnapshotRequest, StorageError, Store, StoredMessage,
};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::roster::{RosterItem, Subscription};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Defines each case once per implementation: natively in memory; in the browser in IndexedDB and in memory.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        mod in_memory {
            $(#[test]
            fn $case() {
                futures::executor::block_on(super::$case(&natter::storage::memory::MemoryBackend::new()));
            })*
        }
        #[cfg(target_arch = "wasm32")]
        mod in_memory_in_the_browser {
            use wasm_bindgen_test::wasm_bindgen_test;
            $(#[wasm_bindgen_test]
            async fn $case() {
                super::$case(&natter::storage::memory::MemoryBackend::new()).await;
            })*
        }
        #[cfg(target_arch = "wasm32")]
        mod indexed_db {
            use wasm_bindgen_test::wasm_bindgen_test;
            $(#[wasm_bindgen_test]
            async fn $case() {
                super::$case(&natter::storage::indexed::IdbBackend).await;
            })*
        }
    };
}

cases!(
    every_record_type_round_trips,
    removals_and_replacements,
    the_snapshot_reads_the_open_and_the_most_recent_conversations,
    paging_walks_back_to_the_first_message_once_each,
    messages_are_found_by_stanza_id_and_by_origin_id,
    a_message_is_stored_once,
    own_messages_change_state,
    a_batch_is_one_transaction,
    the_writer_writes_what_is_queued_in_one_transaction,
    two_accounts_never_see_each_other,
    deleting_removes_everything_and_closes_open_handles,
    a_closed_store_refuses_and_a_reopened_one_has_the_data,
    a_one_megabyte_body_round_trips,
    ten_thousand_messages_page_back_in_order,
    an_account_with_the_longest_jid_opens,
);

fn jid(s: &str) -> BareJid {
    BareJid::parse(s).expect("test JID")
}

/// The account of a case, its store deleted first.
async fn fresh<B: Backend>(backend: &B, name: &str) -> (BareJid, B::Store) {
    let account = jid(&format!("{name}@storage.test"));
    backend.delete(&account).await.expect("delete");
    let store = backend.open(&account).await.expect("open");
    (account, store)
}

fn message(conversation: &BareJid, sender: &BareJid, time: i64, body: &str) -> MessageRecord {
    MessageRecord {
        conversation: conversation.clone(),
        time,
        sender: sender.clone(),
        from_me: false,
        body: body.to_owned(),
        is_me_action: false,
        nick: None,
        id: None,
        origin_id: None,
        stanza_id: None,
        state: MessageState::Received,
    }
}

fn own(account: &BareJid, to: &BareJid, time: i64, id: &str, state: MessageState) -> MessageRecord {
    MessageRecord {
        from_me: true,
        id: Some(id.to_owned()),
        origin_id: Some(id.to_owned()),
        state,
        ..message(to, account, time, &format!("mine {id}"))
    }
}

fn conversation(jid: &BareJid, last_activity: i64) -> ConversationRecord {
    ConversationRecord {
        jid: jid.clone(),
        kind: ConversationKind::Chat,
        last_read: None,
        unread: 0,
        mentions: 0,
        peer_read: None,
        draft: String::new(),
        last_activity,
        nick: None,
        history: None,
        joined: false,
    }
}

fn contact(jid_: &str, subscription: Subscription) -> RosterItem {
    let mut item = RosterItem::new(jid(jid_));
    item.subscription = subscription;
    item
}

fn bodies(messages: &[StoredMessage]) -> Vec<String> {
    messages.iter().map(|m| m.message.body.clone()).collect()
}

fn everything() -> SnapshotRequest {
    SnapshotRequest { open: None, recent: usize::MAX, page: usize::MAX }
}

async fn every_record_type_round_trips<B: Backend>(backend: &B) {
    let (me, store) = fresh(backend, "roundtrip").await;
    let bob = jid("bob@example.org");
    let room = jid("room@conference.example.org");
    let mut friend = contact("bob@example.org", Subscription::Both);
    friend.name = Some("Bob «the builder» 🛠".into());
    friend.groups = vec!["Friends".into(), "Work".into()];
    let mut asking = contact("carol@example.org", Subscription::None);
    asking.pending_out = true;
    let mut approved = contact("dave@example.org", Subscription::From);
    approved.approved = true;
    let roster = vec![friend, asking, approved, contact("erin@example.org", Subscription::To)];
    let chat = ConversationRecord {
        last_read: Some(1_700_000_000_500),
        unread: 3,
        mentions: 0,
        peer_read: Some(1_700_000_000_800),
        draft: "half a thought <b>not html</b>".into(),
        ..conversation(&bob, 1_700_000_001_000)
    };
    let groupchat = ConversationRecord {
        kind: ConversationKind::Groupchat,
        nick: Some("me".into()),
        history: Some(natter::xmpp::client::HistoryPoint {
            id: Some("room-42".into()),
            unix_ms: Some(1_700_000_000_000),
        }),
        joined: true,
        unread: 5,
        mentions: 2,
        ..conversation(&room, 1_700_000_000_000)
    };
    let states = [
        MessageState::Pending,
        MessageState::Sent,
        MessageState::Delivered,
        MessageState::Read,
        MessageState::Failed("service-unavailable: the server said no".into()),
    ];
    let mut messages: Vec<MessageRecord> = states
        .iter()
        .enumerate()
        .map(|(i, s)| own(&me, &bob, 1_700_000_000_100 + i as i64, &format!("id{i}"), s.clone()))
        .collect();
    messages.push(MessageRecord {
        is_me_action: true,
        id: Some("their-id".into()),
        origin_id: Some("their-origin".into()),
        stanza_id: Some("archive-1".into()),
        ..message(&bob, &bob, 1_700_000_000_900, "waves")
    });
    let room_message = MessageRecord {
        nick: Some("Bob «in the room» 🛠".into()),
        stanza_id: Some(format!("{room} room-42")),
        ..message(&room, &room, 1_700_000_000_950, "room talk")
    };
    let outbox = vec![
        OutboxRecord { id: "o1".into(), to: bob.clone(), body: "first".into(), created: 5 },
        OutboxRecord { id: "o2".into(), to: room.clone(), body: "second".into(), created: 4 },
    ];
    let gaps = vec![
        GapRecord { conversation: None, start: 10, end: 20, after_id: Some("a".into()), before_id: None },
        GapRecord { conversation: Some(bob.clone()), start: 30, end: 40, after_id: None, before_id: Some("b".into()) },
    ];
    let mut ops: Vec<Op> = MetaKey::ALL.into_iter().map(|k| Op::SetMeta(k, Some(format!("{k:?} value")))).collect();
    ops.extend(roster.iter().cloned().map(Op::PutRosterItem));
    ops.push(Op::PutConversation(chat.clone()));
    ops.push(Op::PutConversation(groupchat.clone()));
    ops.extend(messages.iter().cloned().map(Op::AddMessage));
    ops.push(Op::AddMessage(room_message.clone()));
    ops.push(Op::SetOutbox(outbox.clone()));
    ops.extend(gaps.iter().cloned().map(Op::PutGap));
    let applied = store.apply(ops).await.expect("apply");
    assert_eq!(applied, Applied { added: messages.len() + 1, duplicates: 0 });

    let mut snapshot = store.snapshot(&everything()).await.expect("snapshot");
    // The roster and the gaps come in no particular order.
    snapshot.roster.sort_by(|a, b| a.jid.cmp(&b.jid));
    snapshot.gaps.sort_by_key(|g| (g.conversation.clone(), g.start));
    let mut meta = Meta::default();
    for k in MetaKey::ALL {
        meta.set(k, Some(format!("{k:?} value")));
    }
    assert_eq!(snapshot.meta, meta);
    assert_eq!(snapshot.roster, roster);
    assert_eq!(snapshot.conversations, vec![chat, groupchat], "most recent first");
    assert_eq!(snapshot.outbox, outbox, "the outbox keeps its order");
    assert_eq!(snapshot.gaps, gaps);
    assert_eq!(snapshot.skipped, 0);
    assert_eq!(snapshot.pages.len(), 2);
    let (with, page) = &snapshot.pages[0];
    assert_eq!(with, &bob);
    assert!(page.complete);
    let read_back: Vec<MessageRecord> = page.messages.iter().map(|m| m.message.clone()).collect();
    assert_eq!(read_back, messages, "every field of every message, in time order");
    assert!(page.messages.windows(2).all(|w| w[0].key < w[1].key));
    assert_eq!(snapshot.pages[1].0, room);
    let room_page: Vec<MessageRecord> = snapshot.pages[1].1.messages.iter().map(|m| m.message.clone()).collect();
    assert_eq!(room_page, vec![room_message], "a room message keeps its nick");
}

async fn removals_and_replacements<B: Backend>(backend: &B) {
    let (_, store) = fresh(backend, "removals").await;
    let bob = jid("bob@example.org");
    store
        .apply(vec![
            Op::SetMeta(MetaKey::RosterVer, Some("v1".into())),
            Op::SetMeta(MetaKey::MamLastId, Some("m1".into())),
            Op::PutRosterItem(contact("bob@example.org", Subscription::Both)),
            Op::PutRosterItem(contact("carol@example.org", Subscription::Both)),
            Op::PutGap(GapRecord {
                conversation: Some(bob.clone()),
                start: 1,
                end: 2,
                after_id: None,
                before_id: None,
            }),
            Op::PutGap(GapRecord { conversation: None, start: 1, end: 2, after_id: None, before_id: None }),
            Op::SetOutbox(vec![OutboxRecord { id: "x".into(), to: bob.clone(), body: "x".into(), created: 1 }]),
        ])
        .await
        .expect("first batch");
    store
        .apply(vec![
            Op::SetMeta(MetaKey::MamLastId, None),
            Op::SetMeta(MetaKey::RosterVer, Some("v2".into())),
            Op::RemoveRosterItem(jid("carol@example.org")),
            Op::PutRosterItem(contact("dave@example.org", Subscription::To)),
            Op::RemoveGap { conversation: Some(bob.clone()), start: 1 },
            Op::SetOutbox(Vec::new()),
        ])
        .await
        .expect("second batch");
    let snapshot = store.snapshot(&everything()).await.expect("snapshot");
    assert_eq!(snapshot.meta.get(MetaKey::RosterVer), Some("v2"));
    assert_eq!(snapshot.meta.get(MetaKey::MamLastId), None);
    let mut roster: Vec<String> = snapshot.roster.iter().map(|i| i.jid.to_string()).collect();
    roster.sort();
    assert_eq!(roster, ["bob@example.org", "dave@example.org"]);
    assert_eq!(snapshot.gaps.len(), 1);
    assert_eq!(snapshot.gaps[0].conversation, None, "only the other gap went");
    assert!(snapshot.outbox.is_empty());

    store.apply(vec![Op::ReplaceRoster(vec![contact("erin@example.org", Subscription::None)])]).await.expect("replace");
    let snapshot = store.snapshot(&everything()).await.expect("snapshot");
    assert_eq!(snapshot.roster, vec![contact("erin@example.org", Subscription::None)]);
}

async fn the_snapshot_reads_the_open_and_the_most_recent_conversations<B: Backend>(backend: &B) {
    let (me, store) = fresh(backend, "snapshot").await;
    let peers: Vec<BareJid> = (0..5).map(|i| jid(&format!("peer{i}@example.org"))).collect();
    let mut ops = Vec::new();
    for (i, peer) in peers.iter().enumerate() {
        // peer0 is the least recently active, peer4 the most.
        ops.push(Op::PutConversation(conversation(peer, 1000 * i as i64)));
        for n in 0..(2 + i) {
            ops.push(Op::AddMessage(message(peer, peer, 100 * n as i64, &format!("{i}:{n}"))));
        }
    }
    // An own message in peer4's conversation, newest.
    ops.push(Op::AddMessage(own(&me, &peers[4], 10_000, "last", MessageState::Sent)));
    store.apply(ops).await.expect("apply");

    let request = SnapshotRequest { open: Some(peers[0].clone()), recent: 2, page: 3 };
    let snapshot = store.snapshot(&request).await.expect("snapshot");
    let order: Vec<&BareJid> = snapshot.conversations.iter().map(|c| &c.jid).collect();
    assert_eq!(order, peers.iter().rev().collect::<Vec<_>>(), "every conversation, most recent first");
    let pages: Vec<(&BareJid, Vec<String>, bool)> =
        snapshot.pages.iter().map(|(j, p)| (j, bodies(&p.messages), p.complete)).collect();
    assert_eq!(
        pages,
        vec![
            (&peers[0], vec!["0:0".into(), "0:1".into()], true),
            (&peers[4], vec!["4:4".into(), "4:5".into(), "mine last".into()], false),
            (&peers[3], vec!["3:2".into(), "3:3".into(), "3:4".into()], false),
        ],
        "the open conversation, then the two most recent, each its latest page, oldest first"
    );

    // An open conversation with no record and no messages still gets its (empty) page.
    let nobody = jid("nobody@example.org");
    let snapshot =
        store.snapshot(&SnapshotRequest { open: Some(nobody.clone()), recent: 0, page: 50 }).await.expect("snapshot");
    assert_eq!(snapshot.pages.len(), 1);
    assert_eq!(snapshot.pages[0].0, nobody);
    assert!(snapshot.pages[0].1.messages.is_empty() && snapshot.pages[0].1.complete);
}

async fn paging_walks_back_to_the_first_message_once_each<B: Backend>(backend: &B) {
    let (_, store) = fresh(backend, "paging").await;
    let bob = jid("bob@example.org");
    let other = jid("other@example.org");
    // 25 messages; several share a time (second-resolution delay stamps do), and keep their stored order.
    let times = [1, 2, 2, 2, 3, 5, 5, 8, 9, 9, 9, 9, 10, 11, 12, 12, 13, 14, 15, 16, 16, 17, 18, 19, 20];
    let mut ops: Vec<Op> =
        times.iter().enumerate().map(|(i, t)| Op::AddMessage(message(&bob, &bob, *t, &format!("m{i:02}")))).collect();
    // Another conversation's messages, older and newer, never leak into bob's pages.
    ops.push(Op::AddMessage(message(&other, &other, 0, "other-old")));
    ops.push(Op::AddMessage(message(&other, &other, 100, "other-new")));
    store.apply(ops).await.expect("apply");

    let mut seen: Vec<String> = Vec::new();
    let mut before: Option<PagePoint> = None;
    let mut pages = 0;
    loop {
        let page = store.page_before(&bob, before, 10).await.expect("page");
        pages += 1;
        assert!(page.messages.len() <= 10);
        let mut run = bodies(&page.messages);
        run.extend(seen);
        seen = run;
        before = page.messages.first().map(StoredMessage::point);
        if page.complete {
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    let expected: Vec<String> = (0..25).map(|i| format!("m{i:02}")).collect();
    assert_eq!(seen, expected, "every message once, in order");
    assert_eq!(pages, 3);
    // Past the first message: nothing, complete.
    let first = store.page_before(&bob, None, 25).await.expect("page");
    assert!(first.complete, "exactly `limit` messages stored: nothing older");
    let past = store.page_before(&bob, Some(first.messages[0].point()), 10).await.expect("page");
    assert!(past.messages.is_empty() && past.complete);
    let none = store.page_before(&bob, None, 0).await.expect("empty page");
    assert!(none.messages.is_empty() && !none.complete, "a zero-length page says there is more");
}

async fn messages_are_found_by_stanza_id_and_by_origin_id<B: Backend>(backend: &B) {
    let (me, store) = fresh(backend, "lookups").await;
    let bob = jid("bob@example.org");
    let carol = jid("carol@example.org");
    store
        .apply(vec![
            Op::AddMessage(MessageRecord {
                origin_id: Some("same".into()),
                stanza_id: Some("arch-1".into()),
                ..message(&bob, &bob, 1, "from bob")
            }),
            Op::AddMessage(MessageRecord {
                origin_id: Some("same".into()),
                ..message(&carol, &carol, 2, "from carol")
            }),
            Op::AddMessage(own(&me, &bob, 3, "mine", MessageState::Sent)),
        ])
        .await
        .expect("apply");
    let by_stanza = store.find_by_stanza_id("arch-1").await.expect("lookup").expect("found");
    assert_eq!(by_stanza.message.body, "from bob");
    let bobs = store.find_by_origin_id(&bob, "same").await.expect("lookup").expect("found");
    assert_eq!(bobs.message.body, "from bob");
    let carols = store.find_by_origin_id(&carol, "same").await.expect("lookup").expect("found");
    assert_eq!(carols.message.body, "from carol", "origin ids are per sender");
    let mine = store.find_by_origin_id(&me, "mine").await.expect("lookup").expect("found");
    assert_eq!(mine.message.state, MessageState::Sent);
    assert_eq!(bobs.key, by_stanza.key);
    assert_eq!(store.find_by_stanza_id("arch-2").await.expect("lookup"), None);
    assert_eq!(store.find_by_origin_id(&me, "same").await.expect("lookup"), None);
}

async fn a_message_is_stored_once<B: Backend>(backend: &B) {
    let (_, store) = fresh(backend, "dedup").await;
    let bob = jid("bob@example.org");
    let live = MessageRecord { origin_id: Some("o1".into()), ..message(&bob, &bob, 1, "hello") };
    assert_eq!(
        store.apply(vec![Op::AddMessage(live.clone())]).await.expect("live"),
        Applied { added: 1, duplicates: 0 }
    );
    // The same message again from the archive, with its stanza-id: not stored twice, but the id is kept.
    let archived = MessageRecord { stanza_id: Some("arch-9".into()), ..live.clone() };
    let applied = store.apply(vec![Op::AddMessage(archived.clone()), Op::AddMessage(archived)]).await.expect("mam");
    assert_eq!(applied, Applied { added: 0, duplicates: 2 });
    let found = store.find_by_stanza_id("arch-9").await.expect("lookup").expect("merged");
    assert_eq!(found.message.body, "hello");
    // A copy with only the stanza-id (no origin-id) is the same message too.
    let bare = MessageRecord { origin_id: None, stanza_id: Some("arch-9".into()), ..live };
    assert_eq!(store.apply(vec![Op::AddMessage(bare)]).await.expect("again").duplicates, 1);
    let page = store.page_before(&bob, None, 10).await.expect("page");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].key, found.key);
}

async fn own_messages_change_state<B: Backend>(backend: &B) {
    let (me, store) = fresh(backend, "states").await;
    let bob = jid("bob@example.org");
    store
        .apply(vec![
            Op::AddMessage(own(&me, &bob, 1, "a", MessageState::Pending)),
            Op::AddMessage(own(&me, &bob, 2, "b", MessageState::Pending)),
            Op::SetMessageState { id: "a".into(), state: MessageState::Sent },
        ])
        .await
        .expect("apply");
    store
        .apply(vec![
            Op::SetMessageState { id: "a".into(), state: MessageState::Delivered },
            Op::SetMessageState { id: "a".into(), state: MessageState::Read },
            Op::SetMessageState { id: "b".into(), state: MessageState::Failed("recipient-unavailable".into()) },
            Op::SetMessageState { id: "nothing".into(), state: MessageState::Read },
        ])
        .await
        .expect("apply");
    let page = store.page_before(&bob, None, 10).await.expect("page");
    let states: Vec<&MessageState> = page.messages.iter().map(|m| &m.message.state).collect();
    assert_eq!(states, [&MessageState::Read, &MessageState::Failed("recipient-unavailable".into())]);
    assert_eq!(page.messages[0].key, MessageKey(1), "updated in place, not added");
}

async fn a_batch_is_one_transaction<B: Backend>(backend: &B) {
    let (_, store) = fresh(backend, "batch").await;
    let bob = jid("bob@example.org");
    let before = store.write_transactions();
    let ops: Vec<Op> = (0..500)
        .map(|i| match i % 5 {
            0 => Op::PutConversation(conversation(&bob, i)),
            1 => Op::PutRosterItem(contact(&format!("c{i}@example.org"), Subscription::Both)),
            _ => Op::AddMessage(message(&bob, &bob, i, &format!("{i}"))),
        })
        .collect();
    let applied = store.apply(ops).await.expect("apply");
    assert_eq!(applied.added, 300);
    assert_eq!(store.write_transactions() - before, 1);
    assert_eq!(store.page_before(&bob, None, 1000).await.expect("page").messages.len(), 300);
}

async fn the_writer_writes_what_is_queued_in_one_transaction<B: Backend>(backend: &B) {
    use std::cell::RefCell;
    use std::rc::Rc;

    use natter::storage::writer::Writer;

    let (_, store) = fresh(backend, "writer").await;
    let bob = jid("bob@example.org");
    let store = Rc::new(store);
    let errors = Rc::new(RefCell::new(Vec::new()));
    let seen = errors.clone();
    let writer = Writer::new(store.clone(), move |e| seen.borrow_mut().push(e));
    for i in 0..1000 {
        writer.push(Op::AddMessage(message(&bob, &bob, i, &format!("{i}"))));
    }
    assert_eq!(writer.queued(), 1000);
    writer.flush().await;
    assert_eq!(writer.queued(), 0);
    assert_eq!(store.write_transactions(), 1, "1,000 ops, one transaction");
    assert_eq!(store.page_before(&bob, None, 2000).await.expect("page").messages.len(), 1000);

    // A failed write is reported, not lost silently.
    store.close();
    writer.push(Op::SetMeta(MetaKey::RosterVer, Some("v".into())));
    writer.flush().await;
    assert_eq!(*errors.borrow(), vec![StorageError::Closed]);
}

async fn two_accounts_never_see_each_other<B: Backend>(backend: &B) {
    let (alice, a) = fresh(backend, "isolated-alice").await;
    let (_, b) = fresh(backend, "isolated-bob").await;
    let carol = jid("carol@example.org");
    a.apply(vec![
        Op::SetMeta(MetaKey::RosterVer, Some("alice's".into())),
        Op::PutRosterItem(contact("carol@example.org", Subscription::Both)),
        Op::PutConversation(conversation(&carol, 1)),
        Op::AddMessage(MessageRecord { stanza_id: Some("z".into()), ..message(&carol, &carol, 1, "for alice") }),
    ])
    .await
    .expect("apply");
    let seen_by_bob = b.snapshot(&SnapshotRequest { open: Some(carol.clone()), recent: 10, page: 10 }).await;
    let seen_by_bob = seen_by_bob.expect("snapshot");
    assert_eq!(seen_by_bob.meta, Meta::default());
    assert!(seen_by_bob.roster.is_empty() && seen_by_bob.conversations.is_empty());
    assert!(seen_by_bob.pages[0].1.messages.is_empty());
    assert_eq!(b.find_by_stanza_id("z").await.expect("lookup"), None);
    // Deleting bob's store leaves alice's.
    drop(b);
    backend.delete(&jid("isolated-bob@storage.test")).await.expect("delete");
    assert_eq!(a.snapshot(&everything()).await.expect("snapshot").roster.len(), 1);
    assert_eq!(a.account(), &alice);
}

async fn deleting_removes_everything_and_closes_open_handles<B: Backend>(backend: &B) {
    let (account, store) = fresh(backend, "delete").await;
    let bob = jid("bob@example.org");
    store
        .apply(vec![Op::PutConversation(conversation(&bob, 1)), Op::AddMessage(message(&bob, &bob, 1, "x"))])
        .await
        .expect("apply");
    // Deleting while a handle is open: the handle lets go (another tab's would too) and then refuses.
    backend.delete(&account).await.expect("delete");
    assert_eq!(store.snapshot(&everything()).await.err(), Some(StorageError::Closed));
    assert_eq!(store.apply(vec![Op::SetOutbox(Vec::new())]).await.err(), Some(StorageError::Closed));
    let reopened = backend.open(&account).await.expect("open again");
    let snapshot = reopened.snapshot(&SnapshotRequest { open: Some(bob.clone()), recent: 5, page: 5 }).await;
    let snapshot = snapshot.expect("snapshot");
    assert!(snapshot.conversations.is_empty());
    assert!(snapshot.pages[0].1.messages.is_empty());
}

async fn a_closed_store_refuses_and_a_reopened_one_has_the_data<B: Backend>(backend: &B) {
    let (account, store) = fresh(backend, "reopen").await;
    let bob = jid("bob@example.org");
    store
        .apply(vec![
            Op::SetMeta(MetaKey::DeviceId, Some("device-1".into())),
            Op::AddMessage(message(&bob, &bob, 7, "kept")),
        ])
        .await
        .expect("apply");
    store.close();
    assert_eq!(store.page_before(&bob, None, 5).await.err(), Some(StorageError::Closed));
    assert_eq!(store.find_by_stanza_id("x").await.err(), Some(StorageError::Closed));
    drop(store);
    let again = backend.open(&account).await.expect("reopen");
    let snapshot = again.snapshot(&SnapshotRequest { open: Some(bob.clone()), recent: 0, page: 5 }).await;
    let snapshot = snapshot.expect("snapshot");
    assert_eq!(snapshot.meta.get(MetaKey::DeviceId), Some("device-1"));
    assert_eq!(bodies(&snapshot.pages[0].1.messages), ["kept"]);
    // Keys keep growing after a reopen: a new message sorts after the old one at the same time.
    again.apply(vec![Op::AddMessage(message(&bob, &bob, 7, "later"))]).await.expect("apply");
    assert_eq!(bodies(&again.page_before(&bob, None, 5).await.expect("page").messages), ["kept", "later"]);
}

async fn a_one_megabyte_body_round_trips<B: Backend>(backend: &B) {
    let (_, store) = fresh(backend, "big-body").await;
    let bob = jid("bob@example.org");
    // 1 MiB of mixed text: ASCII, markup, and characters outside the BMP.
    let unit = "<script>alert(1)</script> ünïcødé 🙂 ";
    let body: String = unit.repeat((1 << 20) / unit.len() + 1);
    assert!(body.len() > 1 << 20);
    let draft = "d".repeat(1 << 20);
    store
        .apply(vec![
            Op::AddMessage(message(&bob, &bob, 1, &body)),
            Op::PutConversation(ConversationRecord { draft: draft.clone(), ..conversation(&bob, 1) }),
        ])
        .await
        .expect("apply");
    let snapshot = store.snapshot(&everything()).await.expect("snapshot");
    assert_eq!(snapshot.pages[0].1.messages[0].message.body, body);
    assert_eq!(snapshot.conversations[0].draft, draft);
}

async fn ten_thousand_messages_page_back_in_order<B: Backend>(backend: &B) {
    let (_, store) = fresh(backend, "ten-thousand").await;
    let bob = jid("bob@example.org");
    let ops: Vec<Op> = (0..10_000)
        .map(|i| {
            Op::AddMessage(MessageRecord {
                stanza_id: Some(format!("z{i}")),
                ..message(&bob, &bob, 1_000_000 + i / 3, &format!("{i}"))
            })
        })
        .collect();
    assert_eq!(store.apply(ops).await.expect("apply").added, 10_000);
    let latest = store.snapshot(&SnapshotRequest { open: Some(bob.clone()), recent: 0, page: 50 }).await;
    let latest = latest.expect("snapshot");
    let expected: Vec<String> = (9_950..10_000).map(|i| i.to_string()).collect();
    assert_eq!(bodies(&latest.pages[0].1.messages), expected);
    let mut count = latest.pages[0].1.messages.len();
    let mut before = latest.pages[0].1.messages.first().map(StoredMessage::point);
    let mut previous_first = 9_950;
    loop {
        let page = store.page_before(&bob, before, 500).await.expect("page");
        let numbers: Vec<i64> = page.messages.iter().map(|m| m.message.body.parse().expect("number")).collect();
        let want: Vec<i64> = (previous_first - numbers.len() as i64..previous_first).collect();
        assert_eq!(numbers, want, "each page is the run just before the previous one");
        previous_first -= numbers.len() as i64;
        count += numbers.len();
        before = page.messages.first().map(StoredMessage::point);
        if page.complete {
            break;
        }
    }
    assert_eq!(count, 10_000);
    assert_eq!(store.find_by_stanza_id("z0").await.expect("lookup").expect("found").message.body, "0");
}

async fn an_account_with_the_longest_jid_opens<B: Backend>(backend: &B) {
    // 1023 bytes of local part, the most RFC 7622 allows, with characters outside ASCII.
    let local = "é".repeat(511) + "x";
    let account = jid(&format!("{local}@example.org"));
    backend.delete(&account).await.expect("delete");
    let store = backend.open(&account).await.expect("open");
    store.apply(vec![Op::SetMeta(MetaKey::RosterVer, Some("1".into()))]).await.expect("apply");
    assert_eq!(store.snapshot(&everything()).await.expect("snapshot").meta.get(MetaKey::RosterVer), Some("1"));
    drop(store);
    backend.delete(&account).await.expect("delete");
}

/// What only IndexedDB has: layouts on disk, records written by something else, the event loop.
#[cfg(target_arch = "wasm32")]
mod indexed_db_only {
    use std::cell::RefCell;
    use std::rc::Rc;

    use natter::storage::indexed::{IdbBackend, Persistence, request_persistence};
    use natter::storage::writer::Writer;
    use natter::storage::{Backend, MetaKey, Op, SnapshotRequest, StorageError, Store, database_name};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::wasm_bindgen_test;
    use web_sys::{IdbDatabase, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

    use super::{jid, message};

    /// Waits for a request's success (its handlers are the promise's own functions: nothing to free).
    async fn done(request: &IdbRequest) -> JsValue {
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            request.set_onsuccess(Some(&resolve));
            request.set_onerror(Some(&reject));
        });
        JsFuture::from(promise).await.expect("request");
        request.result().expect("result")
    }

    /// Opens `name` raw at `version`; `upgrade` runs on the new database when the browser asks.
    async fn raw_open(name: &str, version: Option<u32>, upgrade: Option<fn(&IdbDatabase)>) -> IdbDatabase {
        let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
        let request: IdbOpenDbRequest = match version {
            Some(v) => factory.open_with_u32(name, v).unwrap(),
            None => factory.open(name).unwrap(),
        };
        let closure = upgrade.map(|f| {
            let request = request.clone();
            wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                f(&request.result().unwrap().dyn_into().unwrap());
            })
        });
        if let Some(c) = &closure {
            request.set_onupgradeneeded(Some(c.as_ref().unchecked_ref()));
        }
        let db: IdbDatabase = done(&request).await.dyn_into().unwrap();
        request.set_onupgradeneeded(None);
        db
    }

    async fn raw_put(db: &IdbDatabase, store: &str, value: &JsValue) {
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite).unwrap();
        let request = tx.object_store(store).unwrap().put(value).unwrap();
        done(&request).await;
    }

    fn object(fields: &[(&str, JsValue)]) -> JsValue {
        let o = js_sys::Object::new();
        for (k, v) in fields {
            js_sys::Reflect::set(&o, &(*k).into(), v).unwrap();
        }
        o.into()
    }

    #[wasm_bindgen_test]
    async fn an_older_layout_is_upgraded_and_keeps_its_data() {
        let account = jid("upgrade@storage.test");
        IdbBackend.delete(&account).await.expect("delete");
        // The "v0" fixture: a database of an earlier layout, with only a `meta` store and a value in it.
        let db = raw_open(
            &database_name(&account),
            Some(1),
            Some(|db| {
                let params = IdbObjectStoreParameters::new();
                params.set_key_path(&"k".into());
                db.create_object_store_with_optional_parameters("meta", &params).unwrap();
            }),
        )
        .await;
        raw_put(&db, "meta", &object(&[("k", "roster_ver".into()), ("v", "old-ver".into())])).await;
        db.close();

        let store = IdbBackend.open(&account).await.expect("the upgrade adds what is missing");
        let snapshot = store.snapshot(&SnapshotRequest { open: None, recent: 0, page: 1 }).await.expect("snapshot");
        assert_eq!(snapshot.meta.get(MetaKey::RosterVer), Some("old-ver"), "the old data is kept");
        let bob = jid("bob@example.org");
        store.apply(vec![Op::AddMessage(message(&bob, &bob, 1, "after the upgrade"))]).await.expect("apply");
        assert_eq!(store.page_before(&bob, None, 5).await.expect("page").messages.len(), 1);
        drop(store);
        let db = raw_open(&database_name(&account), None, None).await;
        assert_eq!(db.version(), 2.0, "one version up");
        let names = db.object_store_names();
        assert_eq!(names.length(), 6);
        db.close();
        // Opening again needs no upgrade.
        let store = IdbBackend.open(&account).await.expect("open");
        drop(store);
        let db = raw_open(&database_name(&account), None, None).await;
        assert_eq!(db.version(), 2.0);
        db.close();
    }

    #[wasm_bindgen_test]
    async fn a_newer_layout_is_refused_in_words() {
        let account = jid("newer@storage.test");
        IdbBackend.delete(&account).await.expect("delete");
        drop(IdbBackend.open(&account).await.expect("create"));
        let db = raw_open(&database_name(&account), None, None).await;
        raw_put(&db, "meta", &object(&[("k", "schema".into()), ("v", 99.into())])).await;
        db.close();
        let error = IdbBackend.open(&account).await.err().expect("refused");
        assert_eq!(error, StorageError::NewerSchema { found: 99, supported: 1 });
        assert!(error.to_string().contains("newer version of Natter"));
        IdbBackend.delete(&account).await.expect("delete");
    }

    #[wasm_bindgen_test]
    async fn records_that_do_not_decode_are_skipped_and_counted() {
        let account = jid("broken@storage.test");
        IdbBackend.delete(&account).await.expect("delete");
        let store = IdbBackend.open(&account).await.expect("open");
        let bob = jid("bob@example.org");
        store
            .apply(vec![
                Op::PutRosterItem(natter::xmpp::stanza::roster::RosterItem::new(bob.clone())),
                Op::AddMessage(message(&bob, &bob, 1, "good")),
            ])
            .await
            .expect("apply");
        drop(store);
        let db = raw_open(&database_name(&account), None, None).await;
        // A roster entry whose JID does not parse, one with an unknown subscription, and a message of an
        // unknown state, as a newer or broken version might leave them.
        raw_put(&db, "roster", &object(&[("j", "not a jid@@".into()), ("s", "none".into())])).await;
        raw_put(&db, "roster", &object(&[("j", "x@example.org".into()), ("s", "sideways".into())])).await;
        let bad = object(&[
            ("c", "bob@example.org".into()),
            ("t", 2.into()),
            ("s", "bob@example.org".into()),
            ("b", "from the future".into()),
            ("st", 42.into()),
        ]);
        raw_put(&db, "messages", &bad).await;
        db.close();
        let store = IdbBackend.open(&account).await.expect("open");
        let snapshot = store.snapshot(&SnapshotRequest { open: Some(bob.clone()), recent: 0, page: 10 }).await;
        let snapshot = snapshot.expect("one bad record never hides the rest");
        assert_eq!(snapshot.roster.len(), 1);
        assert_eq!(super::bodies(&snapshot.pages[0].1.messages), ["good"]);
        assert_eq!(snapshot.skipped, 3);
    }

    /// Resolves after `ms` milliseconds (a later turn of the event loop).
    async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
        });
        JsFuture::from(promise).await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn the_writer_batches_by_event_loop_turn() {
        let account = jid("turns@storage.test");
        IdbBackend.delete(&account).await.expect("delete");
        let store = Rc::new(IdbBackend.open(&account).await.expect("open"));
        let errors = Rc::new(RefCell::new(Vec::new()));
        let seen = errors.clone();
        let writer = Writer::new(store.clone(), move |e| seen.borrow_mut().push(e));
        let bob = jid("bob@example.org");
        // One turn's pushes: written by themselves, in one transaction, without a flush.
        for i in 0..200 {
            writer.push(Op::AddMessage(message(&bob, &bob, i, &format!("{i}"))));
        }
        assert_eq!(store.write_transactions(), 0, "nothing is written during the turn that queues");
        for _ in 0..100 {
            if writer.queued() == 0 && store.write_transactions() == 1 {
                break;
            }
            sleep(10).await;
        }
        sleep(50).await;
        assert_eq!(store.write_transactions(), 1, "200 pushes in one turn: one transaction");
        // Pushes in two later turns, far apart: two transactions.
        writer.push(Op::SetMeta(MetaKey::RosterVer, Some("a".into())));
        sleep(100).await;
        writer.push(Op::SetMeta(MetaKey::RosterVer, Some("b".into())));
        writer.flush().await;
        assert_eq!(store.write_transactions(), 3);
        assert!(errors.borrow().is_empty());
        let page = store.page_before(&bob, None, 500).await.expect("page");
        assert_eq!(page.messages.len(), 200);
        let snapshot = store.snapshot(&SnapshotRequest { open: None, recent: 0, page: 1 }).await.expect("snapshot");
        assert_eq!(snapshot.meta.get(MetaKey::RosterVer), Some("b"));
    }

    #[wasm_bindgen_test]
    async fn persistence_is_asked_once_and_answered() {
        let first = request_persistence().await;
        assert_ne!(first, Persistence::Unsupported, "the test page is a secure context (loopback)");
        assert_eq!(request_persistence().await, first);
    }
}
