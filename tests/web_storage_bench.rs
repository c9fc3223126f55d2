//! Figures for the local store in headless Chromium (printed, never asserted: no test here fails on timing).
//!
//! Run (release profile, as shipped; `--nocapture` shows the table):
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release --target
//! wasm32-unknown-unknown --test web_storage_bench -- --nocapture`
//!
//! The data set of issue 13: a 2,000-contact roster, 50 conversations, 10,000 messages (200 per conversation).
//! Measured, each as the median (min–max) of [`RUNS`] runs:
//! - writing that data set in one transaction (setup, once);
//! - open + snapshot, from `open(account)` to the snapshot decoded into Rust records: the roster, the 50
//!   conversations, and the latest 50 messages of the open conversation (what an instant start paints), and
//!   again with the latest 50 of all 50 conversations;
//! - a 1,000-message burst through the [`Writer`]: 1,000 pushes in one turn until it is written (one transaction),
//!   with ids (each looked up for duplicates) and without;
//! - one page of scroll-back (`page_before`, 50 messages).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use natter::storage::indexed::IdbBackend;
use natter::storage::writer::Writer;
use natter::storage::{
    Backend, ConversationKind, ConversationRecord, MessageRecord, MessageState, MetaKey, Op, SnapshotRequest, Store,
};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::roster::{RosterItem, Subscription};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 5;
const CONTACTS: usize = 2_000;
const CONVERSATIONS: usize = 50;
const MESSAGES: usize = 10_000;
const BURST: usize = 1_000;

fn now() -> f64 {
    web_sys::window().expect("window").performance().expect("performance").now()
}

fn jid(s: &str) -> BareJid {
    BareJid::parse(s).expect("JID")
}

fn peer(i: usize) -> BareJid {
    jid(&format!("contact{i:04}@example.org"))
}

/// A message of typical size (a sentence), with the ids a real one carries.
fn message(account: &BareJid, i: usize, time: i64) -> MessageRecord {
    let conversation = peer(i % CONVERSATIONS);
    let from_me = i.is_multiple_of(3);
    MessageRecord {
        sender: if from_me { account.clone() } else { conversation.clone() },
        conversation,
        time,
        from_me,
        body: format!("Message number {i}: a sentence of about the length people type in a chat."),
        is_me_action: false,
        nick: None,
        id: Some(format!("id-{i:08}")),
        origin_id: Some(format!("origin-{i:08}")),
        stanza_id: Some(format!("archive-{i:08}")),
        state: if from_me { MessageState::Delivered } else { MessageState::Received },
    }
}

/// "median ms (min–max)".
fn figure(mut samples: Vec<f64>) -> String {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    format!("{median:.1} ms ({:.1}–{:.1})", samples[0], samples[samples.len() - 1])
}

#[wasm_bindgen_test]
async fn storage_figures() {
    let account = jid("bench@storage.test");
    IdbBackend.delete(&account).await.expect("delete");
    let store = IdbBackend.open(&account).await.expect("open");

    // The data set, in one transaction.
    let mut ops = Vec::with_capacity(CONVERSATIONS + MESSAGES + 2);
    let roster: Vec<RosterItem> = (0..CONTACTS)
        .map(|i| {
            let mut item = RosterItem::new(peer(i));
            item.name = Some(format!("Contact {i}"));
            item.subscription = Subscription::Both;
            item.groups = vec![format!("Group {}", i % 10)];
            item
        })
        .collect();
    ops.push(Op::ReplaceRoster(roster));
    ops.push(Op::SetMeta(MetaKey::RosterVer, Some("ver-1".into())));
    let start_time = 1_700_000_000_000;
    for i in 0..CONVERSATIONS {
        ops.push(Op::PutConversation(ConversationRecord {
            jid: peer(i),
            kind: ConversationKind::Chat,
            last_read: None,
            unread: (i % 4) as u32,
            mentions: 0,
            peer_read: None,
            draft: String::new(),
            last_activity: start_time + (MESSAGES - CONVERSATIONS + i) as i64 * 1000,
            nick: None,
            history: None,
            joined: false,
        }));
    }
    for i in 0..MESSAGES {
        ops.push(Op::AddMessage(message(&account, i, start_time + i as i64 * 1000)));
    }
    let t = now();
    let applied = store.apply(ops).await.expect("write the data set");
    let write_all = now() - t;
    assert_eq!(applied.added, MESSAGES);
    store.close();
    drop(store);

    // Open + snapshot, the way a reload starts.
    let open_one = SnapshotRequest { open: Some(peer(CONVERSATIONS - 1)), recent: 0, page: 50 };
    let open_all = SnapshotRequest { open: Some(peer(CONVERSATIONS - 1)), recent: CONVERSATIONS, page: 50 };
    let (mut opens, mut one, mut all, mut totals_one) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t0 = now();
        let store = IdbBackend.open(&account).await.expect("open");
        let t1 = now();
        let snapshot = store.snapshot(&open_one).await.expect("snapshot");
        let t2 = now();
        assert_eq!(snapshot.roster.len(), CONTACTS);
        assert_eq!(snapshot.conversations.len(), CONVERSATIONS);
        assert_eq!(snapshot.pages[0].1.messages.len(), 50);
        let t3 = now();
        let snapshot = store.snapshot(&open_all).await.expect("snapshot");
        let t4 = now();
        assert_eq!(snapshot.pages.iter().map(|(_, p)| p.messages.len()).sum::<usize>(), 50 * CONVERSATIONS);
        opens.push(t1 - t0);
        one.push(t2 - t1);
        totals_one.push(t2 - t0);
        all.push(t4 - t3);
        drop(store);
    }

    // A burst through the writer: pushes in one turn, then written together.
    let store = Rc::new(IdbBackend.open(&account).await.expect("open"));
    let writer = Writer::new(store.clone(), |e| panic!("write failed: {e}"));
    let mut bursts = Vec::new();
    for run in 0..RUNS {
        let before = store.write_transactions();
        let base = MESSAGES + run * BURST;
        let t = now();
        for i in base..base + BURST {
            writer.push(Op::AddMessage(message(&account, i, start_time + i as i64 * 1000)));
        }
        writer.flush().await;
        bursts.push(now() - t);
        assert_eq!(store.write_transactions() - before, 1);
    }

    // The same burst without stanza-id or origin-id: no duplicate look-ups (what they cost).
    let mut plain = Vec::new();
    for run in 0..RUNS {
        let base = MESSAGES + (RUNS + run) * BURST;
        let t = now();
        for i in base..base + BURST {
            let m = message(&account, i, start_time + i as i64 * 1000);
            writer.push(Op::AddMessage(MessageRecord { id: None, origin_id: None, stanza_id: None, ..m }));
        }
        writer.flush().await;
        plain.push(now() - t);
    }

    // Scrolling back: the 50 messages before the 100th newest of a conversation.
    let open_jid = peer(CONVERSATIONS - 1);
    let latest = store.page_before(&open_jid, None, 100).await.expect("page");
    let point = latest.messages.first().map(|m| m.point());
    let mut pages = Vec::new();
    for _ in 0..RUNS {
        let t = now();
        let page = store.page_before(&open_jid, point, 50).await.expect("page");
        pages.push(now() - t);
        assert_eq!(page.messages.len(), 50);
    }

    let rows = [
        ("write the whole data set (one transaction, once)".to_owned(), format!("{write_all:.1} ms")),
        ("open (IndexedDB connection, layout and schema check)".into(), figure(opens)),
        (
            "snapshot: meta, roster, conversations, outbox, gaps + latest 50 of the open conversation".into(),
            figure(one),
        ),
        ("open + that snapshot".into(), figure(totals_one)),
        (format!("snapshot with the latest 50 of all {CONVERSATIONS} conversations (2,500 messages)"), figure(all)),
        (format!("{BURST}-message burst through the Writer (one transaction, duplicate look-ups)"), figure(bursts)),
        ("the same burst without stanza-id or origin-id (no look-ups)".into(), figure(plain)),
        ("scroll back: the 50 messages before a point (`page_before`)".into(), figure(pages)),
    ];
    console_log!(
        "| what ({CONTACTS} contacts, {CONVERSATIONS} conversations, {MESSAGES} messages) | median (min–max) of {RUNS} |"
    );
    console_log!("|---|---|");
    for (what, figure) in rows {
        console_log!("| {what} | {figure} |");
    }
    drop(writer);
    drop(store);
    IdbBackend.delete(&account).await.expect("delete");
}
