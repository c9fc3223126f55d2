use super::*;
use crate::storage::records::{Meta, Page, SnapshotRequest, StoredMessage};
use crate::storage::{Backend, MessageKey, Store, memory::MemoryBackend};
use crate::xmpp::client::{ArchiveQuery, ArchivedMessage, HistoryPoint};
use crate::xmpp::jid::Jid;
use crate::xmpp::stanza::error::{ErrorType, StanzaError};

fn jid(s: &str) -> BareJid {
    BareJid::parse(s).unwrap()
}

fn alice() -> BareJid {
    jid("alice@example.org")
}

fn incoming(from: &str, body: &str, id: &str, stanza_id: Option<&str>) -> Message {
    let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
    m.from = Some(Jid::parse(from).unwrap());
    m.id = Some(id.into());
    m.origin_id = Some(id.into());
    m.stanza_id = stanza_id.map(str::to_owned);
    m
}

fn messages(ops: &[Op]) -> Vec<&MessageRecord> {
    ops.iter().filter_map(|op| if let Op::AddMessage(m) = op { Some(m) } else { None }).collect()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

#[test]
fn roster_and_its_version_are_kept() {
    let mut m = Mirror::new(alice(), false);
    let items = vec![RosterItem::new(jid("bob@example.org"))];
    let ops = m.on_event(&Event::Roster { items: items.clone(), ver: Some("v1".into()) }, 0);
    assert_eq!(ops, vec![Op::ReplaceRoster(items), Op::SetMeta(MetaKey::RosterVer, Some("v1".into()))]);
    let mut gone = RosterItem::new(jid("bob@example.org"));
    gone.subscription = Subscription::Remove;
    let ops = m.on_event(&Event::RosterPush { item: gone, ver: Some("v2".into()) }, 0);
    assert_eq!(
        ops,
        vec![Op::RemoveRosterItem(jid("bob@example.org")), Op::SetMeta(MetaKey::RosterVer, Some("v2".into()))]
    );
    let ops = m.on_event(&Event::RosterPush { item: RosterItem::new(jid("carol@example.org")), ver: None }, 0);
    assert_eq!(ops.len(), 1, "no version: the stored one stays");
}

#[test]
fn a_received_message_is_stored_with_its_ids_and_moves_its_conversation() {
    let mut m = Mirror::new(alice(), false);
    let mut msg = incoming("bob@example.org/phone", "/me waves", "o1", Some("s1"));
    msg.delay = Some("2026-12-05T10:00:00Z".into());
    let ops = m.on_event(&Event::Message(msg), 5);
    let stored = messages(&ops);
    assert_eq!(stored.len(), 1);
    let r = stored[0];
    assert_eq!(
        (r.conversation.clone(), r.sender.clone(), r.from_me),
        (jid("bob@example.org"), jid("bob@example.org"), false)
    );
    assert_eq!((r.body.as_str(), r.is_me_action), ("waves", true));
    assert_eq!((r.origin_id.as_deref(), r.stanza_id.as_deref()), (Some("o1"), Some("s1")));
    assert_eq!(r.time, 1_796_464_800_000, "the delay stamp's time");
    assert_eq!(r.state, MessageState::Received);
    assert!(ops.iter().any(|op| matches!(op, Op::PutConversation(c) if c.last_activity == r.time)));
    // An older message does not move the conversation back.
    let ops = m.on_event(&Event::Message(incoming("bob@example.org", "older", "o0", None)), 1);
    assert_eq!(ops.len(), 1, "{ops:?}");
}

#[test]
fn own_messages_are_stored_at_send_and_follow_their_states() {
    let mut m = Mirror::new(alice(), false);
    let ops = m.on_send(&jid("bob@example.org"), "id1", "hello", 10);
    let r = messages(&ops)[0];
    assert_eq!(
        (r.from_me, r.state.clone(), r.origin_id.as_deref(), r.id.as_deref()),
        (true, MessageState::Pending, Some("id1"), Some("id1"))
    );
    assert_eq!(r.sender, alice());
    let bob = jid("bob@example.org");
    let cases = [
        (Event::MessageAcked { id: "id1".into() }, MessageState::Sent),
        (Event::Receipt { from: bob.clone(), id: "id1".into() }, MessageState::Delivered),
        (Event::Displayed { from: bob.clone(), id: "id1".into() }, MessageState::Read),
    ];
    for (event, state) in cases {
        // (A marker also moves the conversation's read point: tested below.)
        assert_eq!(m.on_event(&event, 0)[0], Op::SetMessageState { id: "id1".into(), state });
    }
    let error = StanzaError::new(ErrorType::Cancel, "service-unavailable");
    let ops = m.on_event(&Event::MessageError { with: bob, id: Some("id1".into()), error }, 0);
    assert!(
        matches!(&ops[..], [Op::SetMessageState { state: MessageState::Failed(why), .. }] if why.starts_with("Not delivered"))
    );
}

#[test]
fn a_carbon_of_another_device_is_stored_as_sent_and_our_own_copy_once() {
    run(async {
        let store = MemoryBackend::default().open(&alice()).await.unwrap();
        let mut m = Mirror::new(alice(), false);
        store.apply(m.on_send(&jid("bob@example.org"), "id1", "hi", 10)).await.unwrap();
        let mut ours = Message::chat(Jid::parse("bob@example.org").unwrap(), "hi");
        ours.id = Some("id1".into());
        ours.origin_id = Some("id1".into());
        let mut other = ours.clone();
        other.id = Some("id2".into());
        other.origin_id = Some("id2".into());
        let mut ops = m.on_event(&Event::MessageSent(ours), 11);
        ops.extend(m.on_event(&Event::MessageSent(other), 12));
        let applied = store.apply(ops).await.unwrap();
        assert_eq!((applied.added, applied.duplicates), (1, 1));
        let page = store.page_before(&jid("bob@example.org"), None, 10).await.unwrap();
        let states: Vec<_> = page.messages.iter().map(|s| s.message.state.clone()).collect();
        assert_eq!(states, vec![MessageState::Pending, MessageState::Sent]);
    });
}

fn archived(id: &str, with: &str, from: &str, outgoing: bool, t: Option<u64>) -> ArchivedMessage {
    let mut msg = incoming(from, &format!("body {id}"), &format!("o-{id}"), None);
    if outgoing {
        msg.to = Some(Jid::parse(with).unwrap());
    }
    ArchivedMessage { id: id.into(), unix_ms: t, with: jid(with), outgoing, message: msg }
}

#[test]
fn account_archive_pages_go_to_their_conversations_and_room_pages_to_the_room() {
    let mut m = Mirror::new(alice(), false);
    let page = ArchivePage {
        archive: alice(),
        query: ArchiveQuery::CatchUp,
        messages: vec![
            archived("a1", "bob@example.org", "bob@example.org/x", false, Some(100)),
            archived("a2", "bob@example.org", "alice@example.org/web", true, Some(200)),
            archived("a3", "carol@example.org", "carol@example.org", false, None),
        ],
        oldest: None,
        newest: None,
        complete: true,
    };
    let ops = m.on_event(&Event::ArchivePage(page), 1_000);
    let stored = messages(&ops);
    assert_eq!(stored.len(), 3);
    assert_eq!((stored[0].stanza_id.as_deref(), stored[0].state.clone()), (Some("a1"), MessageState::Received));
    assert_eq!(
        (stored[1].sender.clone(), stored[1].from_me, stored[1].state.clone()),
        (alice(), true, MessageState::Sent)
    );
    assert_eq!(stored[2].conversation, jid("carol@example.org"));
    assert_eq!(stored[2].time, 1_002, "no stamp: now, in page order");
    assert_eq!(m.conversation(&jid("bob@example.org")).unwrap().last_activity, 200);

    let room = jid("room@muc.example.org");
    let page = ArchivePage {
        archive: room.clone(),
        query: ArchiveQuery::CatchUp,
        messages: vec![archived("r1", "room@muc.example.org", "room@muc.example.org/bob", false, Some(300))],
        oldest: None,
        newest: None,
        complete: false,
    };
    let ops = m.on_event(&Event::ArchivePage(page), 1_000);
    let r = messages(&ops)[0];
    assert_eq!(r.conversation, room);
    assert_eq!(r.stanza_id.as_deref(), Some("room@muc.example.org r1"), "a room cannot claim an account archive id");
    assert_eq!(m.conversation(&room).unwrap().kind, ConversationKind::Groupchat);
}

#[test]
fn cursor_gaps_and_their_filling_are_kept() {
    let mut m = Mirror::new(alice(), false);
    assert_eq!(
        m.on_event(&Event::ArchiveCursor { id: "c9".into() }, 0),
        vec![Op::SetMeta(MetaKey::MamLastId, Some("c9".into()))]
    );
    let gap = Gap {
        archive: alice(),
        with: None,
        after: HistoryPoint { id: Some("a".into()), unix_ms: Some(10) },
        before: Some(HistoryPoint { id: Some("b".into()), unix_ms: Some(90) }),
    };
    let ops = m.on_event(&Event::ArchiveGap(gap.clone()), 0);
    let expected =
        GapRecord { conversation: None, start: 10, end: 90, after_id: Some("a".into()), before_id: Some("b".into()) };
    assert_eq!(ops, vec![Op::PutGap(expected)]);
    let rest = Gap { after: HistoryPoint { id: Some("m".into()), unix_ms: Some(50) }, ..gap.clone() };
    let ops = m.on_event(&Event::GapFilled { gap: gap.clone(), rest: Some(rest) }, 0);
    assert_eq!(ops[0], Op::RemoveGap { conversation: None, start: 10 });
    assert!(matches!(&ops[1], Op::PutGap(g) if g.start == 50 && g.after_id.as_deref() == Some("m")));
    assert_eq!(m.on_event(&Event::GapFilled { gap, rest: None }, 0).len(), 1);
}

#[test]
fn tokens_are_kept_only_when_staying_logged_in_and_read_back_exactly() {
    let mut token =
        FastToken::issued(Mechanism::HtSha256None, "s3cr\net with\nnewlines", Some("2027-01-01T00:00:00Z")).unwrap();
    token.count = 7;
    assert!(Mirror::new(alice(), false).on_event(&Event::FastToken(token.clone()), 0).is_empty());
    let ops = Mirror::new(alice(), true).on_event(&Event::FastToken(token.clone()), 0);
    let [Op::SetMeta(MetaKey::FastToken, Some(text))] = &ops[..] else { panic!("{ops:?}") };
    assert_eq!(decode_token(text), Some(token));
    assert_eq!(
        Mirror::new(alice(), false).on_event(&Event::FastTokenInvalidated, 0),
        vec![Op::SetMeta(MetaKey::FastToken, None)]
    );
    assert_eq!(decode_token("garbage"), None);
    assert_eq!(decode_token("HT-SHA-256-NONE\nx\n\nsecret"), None);
    assert_eq!(decode_token("HT-SHA-256-NONE\n1\n\n"), None, "an empty secret is no token");
}

#[test]
fn unread_and_drafts_write_only_when_they_change() {
    let mut m = Mirror::new(alice(), false);
    let bob = jid("bob@example.org");
    assert_eq!(m.on_conversation(&bob, 0, ""), None, "nothing to keep about a conversation never used");
    let Some(Op::PutConversation(c)) = m.on_conversation(&bob, 2, "half a sen") else { panic!() };
    assert_eq!((c.unread, c.draft.as_str()), (2, "half a sen"));
    assert_eq!(m.on_conversation(&bob, 2, "half a sen"), None);
    m.on_event(&Event::Message(incoming("bob@example.org", "x", "o", None)), 500);
    let Some(Op::PutConversation(c)) = m.on_conversation(&bob, 0, "") else { panic!() };
    assert_eq!((c.unread, c.last_read, c.last_activity), (0, Some(500), 500));
}

#[test]
fn a_snapshot_seeds_the_core() {
    let bob = jid("bob@example.org");
    let stored = |key, time, stanza: Option<&str>, origin: &str| StoredMessage {
        key: MessageKey(key),
        message: MessageRecord {
            conversation: bob.clone(),
            time,
            sender: bob.clone(),
            from_me: false,
            body: "hi".into(),
            is_me_action: false,
            nick: None,
            id: Some(origin.into()),
            origin_id: Some(origin.into()),
            stanza_id: stanza.map(str::to_owned),
            state: MessageState::Received,
        },
    };
    let snapshot = Snapshot {
        meta: Meta { roster_ver: Some("v3".into()), mam_last_id: Some("c1".into()), ..Meta::default() },
        roster: vec![RosterItem::new(bob.clone())],
        pages: vec![(
            bob.clone(),
            Page { messages: vec![stored(1, 100, Some("s1"), "o1"), stored(2, 300, None, "o2")], complete: true },
        )],
        ..Snapshot::default()
    };
    let seed = Seed::from_snapshot(&snapshot);
    assert_eq!(seed.roster.as_ref().map(|(v, items)| (v.as_str(), items.len())), Some(("v3", 1)));
    assert_eq!((seed.last_id.as_deref(), seed.last_time), (Some("c1"), Some(300)));
    let mut seen = seed.seen.clone();
    assert!(seen.check_and_insert(SeenKey::of(&bob, Some("s1"), None, None, "")), "the stored stanza-id is known");
    assert!(seen.check_and_insert(SeenKey::of(&bob, None, Some("o2"), None, "")), "so is the origin-id");
    assert!(!seen.check_and_insert(SeenKey::of(&bob, Some("s9"), Some("o9"), None, "")));
    // Without a roster version the stored roster is not offered (the server would not send changes to it).
    let unversioned = Snapshot { meta: Meta::default(), ..snapshot };
    assert!(Seed::from_snapshot(&unversioned).roster.is_none());
    let (mut roster, mut history, mut seen) = (None, HistoryConfig::default(), SeenMessages::default());
    seed.apply(&mut roster, &mut history, &mut seen, &mut Vec::new());
    assert_eq!((history.last_id.as_deref(), history.last_time, seen.len()), (Some("c1"), Some(300), 5));
}

fn room() -> BareJid {
    jid("room@muc.example.org")
}

fn room_message(nick: &str, body: &str, stanza_id: &str, own: bool) -> Event {
    let mut message = incoming(&format!("room@muc.example.org/{nick}"), body, &format!("o-{stanza_id}"), None);
    message.kind = MessageType::Groupchat;
    message.stanza_id = Some(stanza_id.into());
    Event::Room(RoomEvent::Message(RoomMessage {
        room: room(),
        nick: Some(nick.into()),
        occupant_id: None,
        message,
        own,
        mentions_me: false,
    }))
}

fn me(nick: &str) -> crate::xmpp::client::muc::Occupant {
    use crate::xmpp::stanza::muc::{Affiliation, Role};
    crate::xmpp::client::muc::Occupant {
        nick: nick.into(),
        jid: None,
        affiliation: Affiliation::None,
        role: Role::Participant,
        presence: Default::default(),
        occupant_id: None,
    }
}

#[test]
fn a_live_room_message_and_its_archived_copy_are_one_record() {
    run(async {
        let store = MemoryBackend::default().open(&alice()).await.unwrap();
        let mut m = Mirror::new(alice(), false);
        let ops = m.on_event(&room_message("bob", "hello room", "r1", false), 500);
        let live = messages(&ops)[0].clone();
        assert_eq!(
            (live.conversation.clone(), live.sender.clone(), live.nick.as_deref(), live.stanza_id.as_deref()),
            (room(), room(), Some("bob"), Some("room@muc.example.org r1")),
            "keyed like the room's archive pages"
        );
        assert_eq!(m.conversation(&room()).unwrap().kind, ConversationKind::Groupchat);
        store.apply(ops).await.unwrap();
        let page = ArchivePage {
            archive: room(),
            query: ArchiveQuery::RoomCatchUp { room: room() },
            messages: vec![
                archived("r1", "room@muc.example.org", "room@muc.example.org/bob", false, Some(400)),
                archived("r2", "room@muc.example.org", "room@muc.example.org/carol", false, Some(450)),
            ],
            oldest: None,
            newest: None,
            complete: true,
        };
        let ops = m.on_event(&Event::ArchivePage(page), 600);
        assert_eq!(messages(&ops)[1].nick.as_deref(), Some("carol"), "archived ones keep their nick too");
        let applied = store.apply(ops).await.unwrap();
        assert_eq!((applied.added, applied.duplicates), (1, 1));
        let page = store.page_before(&room(), None, 10).await.unwrap();
        let bodies: Vec<&str> = page.messages.iter().map(|s| s.message.body.as_str()).collect();
        assert_eq!(bodies, ["body r2", "hello room"], "r1 once");
    });
}

#[test]
fn our_room_messages_are_stored_at_send_and_get_their_archive_id_when_reflected() {
    run(async {
        let store = MemoryBackend::default().open(&alice()).await.unwrap();
        let mut m = Mirror::new(alice(), false);
        let joined = RoomEvent::Joined {
            room: room(),
            me: me("ali"),
            occupants: Vec::new(),
            unlisted: 0,
            created: false,
            info: None,
        };
        store.apply(m.on_event(&Event::Room(joined), 1)).await.unwrap();
        let mut sent = Message::chat(Jid::parse("room@muc.example.org").unwrap(), "hi all");
        sent.kind = MessageType::Groupchat;
        sent.id = Some("m1".into());
        sent.origin_id = Some("m1".into());
        let ops = m.on_event(&Event::MessageSent(sent), 10);
        let r = messages(&ops)[0].clone();
        assert_eq!((r.conversation.clone(), r.from_me, r.nick.as_deref()), (room(), true, Some("ali")));
        store.apply(ops).await.unwrap();
        let ops = m.on_event(
            &Event::Room(RoomEvent::Reflected { room: room(), id: "m1".into(), stanza_id: Some("r9".into()) }),
            11,
        );
        store.apply(ops).await.unwrap();
        // The room's archive has it (outgoing, with our origin-id): still one record.
        let mut copy = archived("r9", "room@muc.example.org", "room@muc.example.org/ali", true, Some(12));
        copy.message.origin_id = Some("m1".into());
        let page = ArchivePage {
            archive: room(),
            query: ArchiveQuery::RoomCatchUp { room: room() },
            messages: vec![copy],
            oldest: None,
            newest: None,
            complete: true,
        };
        let applied = store.apply(m.on_event(&Event::ArchivePage(page), 20)).await.unwrap();
        assert_eq!(applied.added, 0);
        let page = store.page_before(&room(), None, 10).await.unwrap();
        assert_eq!(page.messages.len(), 1);
        let kept = &page.messages[0].message;
        assert_eq!(kept.stanza_id.as_deref(), Some("room@muc.example.org r9"));
        assert_eq!(kept.state, MessageState::Delivered);
        assert_eq!(kept.body, "hi all");
        let snapshot = store.snapshot(&SnapshotRequest { open: None, recent: 5, page: 5 }).await.unwrap();
        assert!(snapshot.conversations.iter().all(|c| c.kind == ConversationKind::Groupchat), "no chat with the room");
    });
}

#[test]
fn a_private_message_in_a_room_is_not_stored_as_a_chat_with_the_room() {
    let mut m = Mirror::new(alice(), false);
    m.on_event(
        &Event::Room(RoomEvent::Joined {
            room: room(),
            me: me("ali"),
            occupants: Vec::new(),
            unlisted: 0,
            created: false,
            info: None,
        }),
        1,
    );
    let mut pm = Message::chat(Jid::parse("room@muc.example.org/bob").unwrap(), "psst");
    pm.id = Some("p1".into());
    assert!(messages(&m.on_event(&Event::MessageSent(pm), 2)).is_empty());
}

#[test]
fn a_room_keeps_its_nick_whether_we_are_in_and_its_history_point_and_seeds_the_rejoin() {
    let mut m = Mirror::new(alice(), false);
    let put = |m: &mut Mirror, event: RoomEvent| -> Vec<Op> { m.on_event(&Event::Room(event), 1) };
    let joined = RoomEvent::Joined {
        room: room(),
        me: me("ali"),
        occupants: Vec::new(),
        unlisted: 0,
        created: false,
        info: None,
    };
    assert_eq!(put(&mut m, joined.clone()).len(), 1);
    assert!(put(&mut m, joined).is_empty(), "unchanged: nothing written");
    put(&mut m, RoomEvent::NickChanged { room: room(), nick: "ali2".into() });
    let point = HistoryPoint { id: Some("r7".into()), unix_ms: Some(700) };
    let ops = put(&mut m, RoomEvent::HistoryCursor { room: room(), point: point.clone() });
    let Some(Op::PutConversation(c)) = ops.first() else { panic!("{ops:?}") };
    assert_eq!(
        (c.kind, c.nick.as_deref(), c.joined, c.history.clone()),
        (ConversationKind::Groupchat, Some("ali2"), true, Some(point))
    );
    let other = ConversationRecord { jid: jid("gone@muc.example.org"), joined: false, ..c.clone() };
    let snapshot = Snapshot { conversations: vec![c.clone(), other], ..Snapshot::default() };
    let seed = Seed::from_snapshot(&snapshot);
    assert_eq!(seed.rooms.len(), 1, "only the room we were in is joined again");
    let saved = &seed.rooms[0];
    assert_eq!((&saved.room, saved.nick.as_str(), saved.last_stanza_id.as_deref()), (&room(), "ali2", Some("r7")));
    let mut rooms = Vec::new();
    seed.apply(&mut None, &mut HistoryConfig::default(), &mut SeenMessages::default(), &mut rooms);
    assert_eq!(rooms.len(), 1);

    let ops =
        put(&mut m, RoomEvent::Left { room: room(), why: crate::xmpp::client::muc::Departure::Left { status: None } });
    let Some(Op::PutConversation(c)) = ops.first() else { panic!("{ops:?}") };
    assert!(!c.joined && c.nick.as_deref() == Some("ali2"), "the nick outlives the stay");
}

/// What a conversation record says our stored message shows as.
fn shown(m: &Mirror, with: &BareJid, time: i64, state: MessageState) -> MessageState {
    let record = MessageRecord {
        conversation: with.clone(),
        time,
        sender: alice(),
        from_me: true,
        body: "x".into(),
        is_me_action: false,
        nick: None,
        id: None,
        origin_id: None,
        stanza_id: None,
        state,
    };
    m.conversation(with).unwrap().shown_state(&record)
}

#[test]
fn a_displayed_marker_makes_our_earlier_messages_read_without_rewriting_them() {
    let mut m = Mirror::new(alice(), false);
    let (bob, carol) = (jid("bob@example.org"), jid("carol@example.org"));
    for (id, t) in [("a", 10), ("b", 20), ("c", 30)] {
        m.on_send(&bob, id, "hi", t);
    }
    m.on_send(&carol, "k", "hi", 25);
    let ops = m.on_event(&Event::Displayed { from: bob.clone(), id: "b".into() }, 99);
    // One state change (the named message) and one record (the read point): nothing per earlier message.
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(ops[0], Op::SetMessageState { id: "b".into(), state: MessageState::Read });
    let Op::PutConversation(c) = &ops[1] else { panic!("{ops:?}") };
    assert_eq!(c.peer_read, Some(20));
    assert_eq!(shown(&m, &bob, 10, MessageState::Delivered), MessageState::Read, "earlier: covered");
    assert_eq!(shown(&m, &bob, 10, MessageState::Sent), MessageState::Read);
    assert_eq!(shown(&m, &bob, 30, MessageState::Delivered), MessageState::Delivered, "later: not yet");
    assert_eq!(shown(&m, &bob, 5, MessageState::Pending), MessageState::Pending, "never sent: not read");
    let failed = MessageState::Failed("bounced".into());
    assert_eq!(shown(&m, &bob, 5, failed.clone()), failed);
    // A late marker for an older message moves nothing back.
    let ops = m.on_event(&Event::Displayed { from: bob.clone(), id: "a".into() }, 99);
    assert_eq!(ops.len(), 1, "{ops:?}");
    // A marker from someone else for bob's message id counts for nothing.
    let ops = m.on_event(&Event::Displayed { from: carol.clone(), id: "c".into() }, 99);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(m.conversation(&carol).unwrap().peer_read, None);
    // And carol's own marker covers carol's.
    let ops = m.on_event(&Event::Displayed { from: carol.clone(), id: "k".into() }, 99);
    assert!(matches!(&ops[..], [_, Op::PutConversation(c)] if c.peer_read == Some(25)), "{ops:?}");
}

#[test]
fn markers_are_resolved_for_messages_from_the_stored_pages_and_the_times_kept_are_bounded() {
    let bob = jid("bob@example.org");
    let stored = MessageRecord {
        conversation: bob.clone(),
        time: 40,
        sender: alice(),
        from_me: true,
        body: "before the reload".into(),
        is_me_action: false,
        nick: None,
        id: Some("old".into()),
        origin_id: Some("old".into()),
        stanza_id: None,
        state: MessageState::Delivered,
    };
    let page = Page { messages: vec![StoredMessage { key: MessageKey(1), message: stored.clone() }], complete: true };
    let snapshot = Snapshot {
        conversations: vec![new_conversation(&bob, ConversationKind::Chat)],
        pages: vec![(bob.clone(), page)],
        ..Snapshot::default()
    };
    let mut m = Mirror::from_snapshot(alice(), false, &snapshot);
    let ops = m.on_event(&Event::Displayed { from: bob.clone(), id: "old".into() }, 99);
    assert!(matches!(&ops[..], [_, Op::PutConversation(c)] if c.peer_read == Some(40)), "{ops:?}");

    // Many sends later the oldest is forgotten: its marker still makes it read, only not the ones before.
    for i in 0..=MAX_OWN_TIMES {
        m.on_send(&bob, &format!("n{i}"), "x", 100 + i as i64);
    }
    assert!(m.own_times.len() <= MAX_OWN_TIMES);
    let ops = m.on_event(&Event::Displayed { from: bob.clone(), id: "n0".into() }, 99);
    assert_eq!(ops, vec![Op::SetMessageState { id: "n0".into(), state: MessageState::Read }]);
    let last = format!("n{MAX_OWN_TIMES}");
    let ops = m.on_event(&Event::Displayed { from: bob.clone(), id: last }, 99);
    assert!(matches!(&ops[..], [_, Op::PutConversation(c)] if c.peer_read == Some(100 + MAX_OWN_TIMES as i64)));
}

#[test]
fn a_rooms_unread_and_mention_counts_are_kept_and_cleared_when_read() {
    let mut m = Mirror::new(alice(), false);
    assert_eq!(m.on_room_unread(&room(), 3, 1), None, "a room never stored: nothing");
    m.on_event(&room_message("bob", "hi ali", "r1", false), 700);
    let Some(Op::PutConversation(c)) = m.on_room_unread(&room(), 3, 1) else { panic!() };
    assert_eq!((c.kind, c.unread, c.mentions, c.last_read), (ConversationKind::Groupchat, 3, 1, None));
    assert_eq!(m.on_room_unread(&room(), 3, 1), None, "unchanged: nothing written");
    assert_eq!(m.on_conversation(&room(), 0, ""), None, "a chat's save never touches a room's counts");
    let Some(Op::PutConversation(c)) = m.on_room_unread(&room(), 4, 1) else { panic!() };
    assert_eq!((c.unread, c.mentions), (4, 1));
    let Some(Op::PutConversation(c)) = m.on_room_unread(&room(), 0, 0) else { panic!() };
    assert_eq!((c.unread, c.mentions, c.last_read), (0, 0, Some(c.last_activity)));
    // The counts travel with the record (what a new page paints).
    assert_eq!(m.conversation(&room()).map(|c| (c.unread, c.mentions)), Some((0, 0)));
}
