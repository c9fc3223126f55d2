// Probe: every entry point of natter::storage (the IndexedDB store) reached from main().
use std::rc::Rc;
use natter::storage::indexed::{IdbBackend, request_persistence};
use natter::storage::writer::Writer;
use natter::storage::{Backend, MessageRecord, MessageState, MetaKey, Op, SnapshotRequest, Store};
use natter::xmpp::jid::BareJid;
pub async fn probe() -> Result<u32, natter::storage::StorageError> {
    let _ = request_persistence().await;
    let account = BareJid::parse("probe@example.org").unwrap();
    let bob = BareJid::parse("bob@example.org").unwrap();
    let store = Rc::new(IdbBackend.open(&account).await?);
    let writer = Writer::new(store.clone(), |e| web_sys::console::error_1(&e.to_string().into()));
    writer.push(Op::SetMeta(MetaKey::RosterVer, Some("1".into())));
    writer.push(Op::AddMessage(MessageRecord { conversation: bob.clone(), time: js_sys::Date::now() as i64, sender: bob.clone(), from_me: false, body: "hi".into(), is_me_action: false, id: None, origin_id: Some("o".into()), stanza_id: Some("z".into()), state: MessageState::Received }));
    writer.push(Op::SetMessageState { id: "o".into(), state: MessageState::Read });
    writer.flush().await;
    let snapshot = store.snapshot(&SnapshotRequest { open: Some(bob.clone()), recent: 10, page: 50 }).await?;
    let n = snapshot.pages[0].1.messages.len();
    let older = store.page_before(&bob, snapshot.pages[0].1.messages.first().map(|m| m.point()), 50).await?;
    let found = store.find_by_stanza_id("z").await?.is_some() as usize + store.find_by_origin_id(&bob, "o").await?.is_some() as usize;
    if n > 100 { IdbBackend.delete(&account).await?; }
    Ok((n + older.messages.len() + found + snapshot.roster.len()) as u32)
}
