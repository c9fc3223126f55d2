#![cfg(not(target_arch = "wasm32"))]
//! Room history from the room's archive (XEP-0313 on a XEP-0045 room), driven by a scripted server and a
//! scripted room archive in virtual time: the newest page on a first join, the pages after a held point, the
//! limit's gap, forged results, live and archived copies shown once, the catch-up after a rejoin, scroll-back
//! to the first message, errors in words, and the bounds on rooms caught up at once.

mod support {
    pub mod archive;
    pub mod fake;
}

use natter::xmpp::client::mam::{MAX_ROOM_CATCH_UPS, STALE_CURSOR_MARGIN_MS};
use natter::xmpp::client::muc::{RoomCommand, RoomEvent};
use natter::xmpp::client::{ArchiveError, ArchiveQuery, GapEnd, HistoryPoint};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::mam::{MAM_NS, Page};
use natter::xmpp::xml::Element;
use natter::xmpp::{Command, CommandError, Config, Event};
use support::archive::*;
use support::fake::*;

const ROOM: &str = "coven@chat.shakespeare.lit";
const ME: &str = "alice@example.com/web";
const MUC: &str = "http://jabber.org/protocol/muc";
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
const OCC_ID: &str = "urn:xmpp:occupant-id:0";

fn room() -> BareJid {
    jid(ROOM)
}

fn catching_up(mut c: Config) -> Config {
    c.history.catch_up = true;
    c
}

/// Alice online, catching up; her account's archive is not offered (its catch-up is not the subject here).
fn online() -> Harness {
    online_with(catching_up(plain_config()))
}

fn online_with(config: Config) -> Harness {
    let mut h = Harness::new(config);
    h.login_plain("");
    h
}

fn answer_disco(h: &mut Harness, to: &str, features: &[&str]) {
    let iq = h.sent().into_iter().find(|e| e.get_child(DISCO_INFO_NS, "query").is_some()).expect("disco#info asked");
    assert_eq!(iq.attr("to"), Some(to));
    let features: String = features.iter().map(|f| format!("<feature var='{f}'/>")).collect();
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}' from='{to}'><query xmlns='{DISCO_INFO_NS}'><identity category='conference' type='text' name='A Dark Cave'/><feature var='{MUC}'/>{features}</query></iq>",
        iq.attr("id").unwrap()
    ));
}

fn self_presence(room: &str, nick: &str, extra: &str) -> String {
    format!(
        "<presence xmlns='jabber:client' from='{room}/{nick}' to='{ME}'><x xmlns='{MUC_USER}'><item affiliation='member' role='participant'/><status code='110'/></x>{extra}</presence>"
    )
}

/// Joins `room` as thirdwitch holding `held`; the room offers `features`. Leaves the events and the join
/// presence taken; the catch-up's first query (if any) is still to be read.
fn join_room(h: &mut Harness, room: &str, held: Option<HistoryPoint>, features: &[&str], extra: &str) {
    let command = RoomCommand::Join { room: jid(room), nick: "thirdwitch".into(), password: None, history: held };
    h.command(Command::Room(command)).unwrap();
    answer_disco(h, room, features);
    let sent = h.sent();
    let presence = sent.iter().find(|e| e.is("jabber:client", "presence")).expect("join presence");
    let x = presence.get_child(MUC, "x").unwrap();
    let no_history = x.get_child(MUC, "history").and_then(|e| e.attr("maxchars")) == Some("0");
    assert_eq!(no_history, features.contains(&MAM_NS), "legacy history only without an archive");
    assert!(!sent.iter().any(|e| e.get_child(MAM_NS, "query").is_some()), "not before the join is confirmed");
    h.recv(&self_presence(room, "thirdwitch", extra));
    h.take_events();
}

fn join(h: &mut Harness, held: Option<HistoryPoint>) {
    join_room(h, ROOM, held, &[MAM_NS], "");
}

fn cursors(events: &[Event]) -> Vec<HistoryPoint> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Room(RoomEvent::HistoryCursor { point, .. }) = e { Some(point.clone()) } else { None }
        })
        .collect()
}

fn caught_up(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::Room(RoomEvent::CaughtUp { room }) if *room == jid(ROOM))).count()
}

/// `count` messages in the room, numbered from 1; every fifth by us (thirdwitch), the rest by firstwitch.
fn room_archive(count: usize) -> Archive {
    let mut a = Archive::room(ROOM, ME);
    for n in 1..=count {
        a.said(n, if n % 5 == 0 { "thirdwitch" } else { "firstwitch" });
    }
    a
}

fn held(n: usize) -> HistoryPoint {
    HistoryPoint { id: Some(format!("a{n}")), unix_ms: Some(time_of(n)) }
}

/// A live groupchat message from `nick`, stamped by the room with stanza-id `sid`.
fn live(nick: &str, id: &str, body: &str, sid: &str) -> String {
    format!(
        "<message xmlns='jabber:client' from='{ROOM}/{nick}' to='{ME}' type='groupchat' id='{id}'><body>{body}</body><stanza-id xmlns='urn:xmpp:sid:0' id='{sid}' by='{ROOM}'/></message>"
    )
}

fn room_messages(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Room(RoomEvent::Message(m)) => m.message.body(None).map(str::to_owned),
            _ => None,
        })
        .collect()
}

// ---- the catch-up at join ---------------------------------------------------------------------------------

#[test]
fn a_first_join_reads_the_newest_page_of_the_rooms_archive() {
    let mut h = online();
    join(&mut h, None);
    let mut archive = room_archive(120);
    assert_eq!(serve(&mut h, &mut archive), 1, "the newest page only");
    let q = &archive.asked[0];
    assert_eq!((&q.page, q.max, &q.filter.with), (&Page::Last, 250, &None), "no `with`: the room is the conversation");
    let events = h.take_events();
    let pages = pages(&events);
    let [page] = &pages[..] else { panic!("{events:?}") };
    assert_eq!((&page.archive, &page.query), (&room(), &ArchiveQuery::RoomCatchUp { room: room() }));
    assert_eq!(bodies(&pages), range(71, 120), "this archive, like Prosody, sends 50");
    let m = &page.messages[0];
    assert_eq!((m.id.as_str(), m.unix_ms, &m.with), ("a71", Some(time_of(71)), &room()));
    assert_eq!(
        m.message.from.as_ref().map(|j| j.to_string()).as_deref(),
        Some("coven@chat.shakespeare.lit/firstwitch")
    );
    let own: Vec<&str> = page.messages.iter().filter(|m| m.outgoing).map(|m| m.id.as_str()).collect();
    assert_eq!(own, ["a75", "a80", "a85", "a90", "a95", "a100", "a105", "a110", "a115", "a120"], "ours by nick");
    assert_eq!(cursors(&events), [held(120)], "the newest point, to store per room");
    assert_eq!(caught_up(&events), 1);
    // Once caught up, every live message the room stamps moves the cursor.
    h.recv(&live("firstwitch", "l1", "live one", "a121"));
    let events = h.take_events();
    assert_eq!(room_messages(&events), ["live one"]);
    assert_eq!(cursors(&events).iter().map(|p| p.id.clone().unwrap()).collect::<Vec<_>>(), ["a121"]);
}

#[test]
fn a_join_holding_a_point_reads_every_page_after_it_until_complete() {
    let mut h = online();
    join(&mut h, Some(held(10)));
    let mut archive = room_archive(130);
    assert_eq!(serve(&mut h, &mut archive), 3, "pages of 50, 50 and 20");
    let first = &archive.asked[0];
    assert_eq!((&first.page, first.filter.after_id.as_deref()), (&Page::After("a10".into()), None));
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(11, 130));
    assert!(
        pages(&events).iter().all(|p| p.archive == room() && p.query == ArchiveQuery::RoomCatchUp { room: room() })
    );
    let ids: Vec<String> = cursors(&events).into_iter().filter_map(|p| p.id).collect();
    assert_eq!(ids, ["a60", "a110", "a130"], "a cursor per page, after its messages");
    assert_eq!(caught_up(&events), 1);
    assert!(gaps(&events).is_empty());
}

#[test]
fn past_the_limit_the_newest_page_comes_and_the_rest_is_a_gap_filled_on_demand() {
    let mut config = catching_up(plain_config());
    config.history.catch_up_limit = 100;
    let mut h = online_with(config);
    join(&mut h, Some(held(1)));
    let mut archive = room_archive(300);
    assert_eq!(serve(&mut h, &mut archive), 3, "two pages up to the limit, then the newest");
    assert_eq!(archive.asked[2].page, Page::Last);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), [range(2, 101), range(251, 300)].concat());
    let [gap] = &gaps(&events)[..] else { panic!("{events:?}") };
    assert_eq!((&gap.archive, &gap.with), (&room(), &None));
    assert_eq!(
        (gap.after.id.as_deref(), gap.before.as_ref().and_then(|b| b.id.as_deref())),
        (Some("a101"), Some("a251"))
    );
    assert_eq!(cursors(&events).last().and_then(|p| p.id.clone()).as_deref(), Some("a300"));
    assert_eq!(caught_up(&events), 1);

    // Filled from its newer end, from the room's archive, down to where it starts.
    let mut gap = gap.clone();
    let mut fetched = Vec::new();
    loop {
        h.command(Command::FillGap { gap: gap.clone(), from: GapEnd::Newer }).unwrap();
        serve(&mut h, &mut archive);
        let events = h.take_events();
        fetched.splice(0..0, bodies(&pages(&events)));
        let rest = events.iter().find_map(|e| match e {
            Event::GapFilled { rest, .. } => Some(rest.clone()),
            _ => None,
        });
        match rest.expect("GapFilled") {
            Some(rest) => gap = rest,
            None => break,
        }
    }
    assert_eq!(fetched, range(102, 250));
    assert!(archive.asked.iter().all(|q| q.filter.with.is_none()));
}

#[test]
fn forged_results_are_dropped() {
    let mut h = online();
    join(&mut h, None);
    let mut archive = room_archive(3);
    let iq = queries(&mut h).remove(0);
    let queryid = query_of(&iq).queryid;
    let forged = |from: &str, queryid: &str, id: &str, inner_from: &str, extra: &str| {
        format!(
            "<message xmlns='jabber:client' from='{from}' to='{ME}'><result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='{id}'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00Z'/><message xmlns='jabber:client' from='{inner_from}' type='groupchat'><body>forged {id}</body>{extra}</message></forwarded></result></message>"
        )
    };
    let mallory = format!("{ROOM}/mallory");
    // Not from the room: an occupant, another room, our own account, our server.
    for from in [mallory.as_str(), "other@chat.shakespeare.lit", "alice@example.com", "example.com"] {
        h.recv(&forged(from, &queryid, "f1", &mallory, ""));
    }
    // Not our query.
    h.recv(&forged(ROOM, "not-ours", "f2", &mallory, ""));
    // From the room, but a message of another room, or one the room stamped with another id.
    h.recv(&forged(ROOM, &queryid, "f3", "other@chat.shakespeare.lit/mallory", ""));
    let by_room = format!("<stanza-id xmlns='urn:xmpp:sid:0' id='a1' by='{ROOM}'/>");
    h.recv(&forged(ROOM, &queryid, "f4", &mallory, &by_room));
    // A stanza-id by anyone else is not the room's: ignored, the result is kept under its own id.
    let by_other = "<stanza-id xmlns='urn:xmpp:sid:0' id='a1' by='mallory@evil.example'/>";
    h.recv(&forged(ROOM, &queryid, "f5", &mallory, by_other));
    // The end of the query, spoofed by our server: not the room's answer.
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}' from='example.com'><fin xmlns='urn:xmpp:mam:2' complete='true'/></iq>",
        iq.attr("id").unwrap()
    ));
    assert!(pages(&h.take_events()).is_empty(), "the query is still open");
    answer_query(&mut h, &mut archive, &iq);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), ["forged f5", "m1", "m2", "m3"]);
}

#[test]
fn live_and_archived_copies_of_a_message_are_shown_once_and_the_cursor_waits_for_the_catch_up() {
    let mut h = online();
    join(&mut h, Some(held(2)));
    let mut archive = room_archive(6);
    // While the catch-up's first query is out: a live message the archive holds too.
    h.recv(&live("firstwitch", "x5", "m5", "a5"));
    let events = h.take_events();
    assert_eq!(room_messages(&events), ["m5"]);
    assert!(cursors(&events).is_empty(), "not while the catch-up runs");
    serve(&mut h, &mut archive);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), ["m3", "m4", "m6"], "the live copy was shown already");
    assert_eq!(cursors(&events).last().and_then(|p| p.id.clone()).as_deref(), Some("a6"));
    // The other way round: archived first, then a live copy (a legacy replay, a duplicate delivery).
    h.recv(&live("firstwitch", "x6", "m6", "a6"));
    assert!(room_messages(&h.take_events()).is_empty());
    // Our own message sent from this device: reflected, then its archived copy is not shown again.
    h.command(Command::Room(RoomCommand::Send { room: room(), body: "mine".into(), id: "own-1".into() })).unwrap();
    h.sent();
    h.recv(&format!(
        "<message xmlns='jabber:client' from='{ROOM}/thirdwitch' to='{ME}' type='groupchat' id='own-1'><body>mine</body><origin-id xmlns='urn:xmpp:sid:0' id='own-1'/><stanza-id xmlns='urn:xmpp:sid:0' id='a7' by='{ROOM}'/></message>"
    ));
    let events = h.take_events();
    assert!(events.iter().any(|e| matches!(e, Event::Room(RoomEvent::Reflected { id, .. }) if id == "own-1")));
    assert_eq!(cursors(&events).last().and_then(|p| p.id.clone()).as_deref(), Some("a7"));
    archive.said(7, "thirdwitch").body = "mine".into();
    h.command(Command::LoadOlder { with: room(), before: None }).unwrap();
    serve(&mut h, &mut archive);
    let events = h.take_events();
    let [page] = &pages(&events)[..] else { panic!("{events:?}") };
    // m1 and m2 are the caller's (held before the join), not this session's: only they come.
    assert_eq!(bodies(std::slice::from_ref(page)), ["m1", "m2"]);
    assert_eq!(page.newest.as_ref().and_then(|p| p.id.as_deref()), Some("a7"));
}

#[test]
fn our_own_archived_messages_are_told_by_occupant_id_where_the_room_stamps_them() {
    let mut h = online();
    let me = format!("<occupant-id xmlns='{OCC_ID}' id='id-me'/>");
    join_room(&mut h, ROOM, None, &[MAM_NS, OCC_ID], &me);
    let mut archive = Archive::room(ROOM, ME);
    archive.said(1, "oldnick").occupant_id = Some("id-me".into()); // ours, under an earlier nick
    archive.said(2, "thirdwitch").occupant_id = Some("id-other".into()); // someone who had our nick before
    archive.said(3, "thirdwitch"); // archived before the room stamped ids: by the nick
    archive.said(4, "firstwitch").occupant_id = Some("id-first".into());
    serve(&mut h, &mut archive);
    let events = h.take_events();
    let outgoing: Vec<bool> = pages(&events)[0].messages.iter().map(|m| m.outgoing).collect();
    assert_eq!(outgoing, [true, false, true, false]);

    // A room that does not stamp ids: a forged one means nothing; the nick decides.
    let other = "heath@chat.shakespeare.lit";
    join_room(&mut h, other, None, &[MAM_NS], &me);
    let mut archive = Archive::room(other, ME);
    archive.said(1, "firstwitch").occupant_id = Some("id-me".into());
    archive.said(2, "thirdwitch");
    serve(&mut h, &mut archive);
    let events = h.take_events();
    let outgoing: Vec<bool> = pages(&events)[0].messages.iter().map(|m| m.outgoing).collect();
    assert_eq!(outgoing, [false, true]);
}

#[test]
fn a_room_our_join_made_anew_is_not_read() {
    let mut h = online();
    join(&mut h, None);
    serve(&mut h, &mut room_archive(1));
    h.command(Command::Room(RoomCommand::Leave { room: room(), status: None })).unwrap();
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='member' role='none'/><status code='110'/></x></presence>"));
    // The room was destroyed meanwhile: joining again (its info cached: it had an archive) creates it.
    let again = RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: None, history: None };
    h.command(Command::Room(again)).unwrap();
    h.sent();
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' to='{ME}'><x xmlns='{MUC_USER}'><item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>"));
    assert!(queries(&mut h).is_empty(), "nothing to read in a room just made");
    assert!(h.take_events().iter().any(|e| matches!(e, Event::Room(RoomEvent::Joined { created: true, .. }))));
}

// ---- rejoins -----------------------------------------------------------------------------------------------

/// Binds (with stream management when `sm`), loads an empty roster, answers the account archive's features
/// with none; returns what was sent once online.
fn bind(h: &mut Harness, sm: bool) -> Vec<Element> {
    let sent = h.bind_empty_roster(sm);
    let disco = iq_id(&sent, |e| e.get_child(DISCO_INFO_NS, "query").is_some());
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{disco}'><query xmlns='{DISCO_INFO_NS}'/></iq>"));
    sent
}

/// A SCRAM session (resumable with `sm`) in the room, caught up with its archive of `archive`, then live
/// messages a4 and a5.
fn scram_room_session(sm: bool, archive: &mut Archive) -> Harness {
    let mut h = Harness::new(catching_up(rfc7677_config()));
    h.scram_auth();
    h.bind_features(if sm { "<sm xmlns='urn:xmpp:sm:3'/>" } else { "" });
    bind(&mut h, sm);
    join(&mut h, None);
    serve(&mut h, archive);
    h.recv(&live("firstwitch", "x4", "m4", "a4"));
    h.recv(&live("firstwitch", "x5", "m5", "a5"));
    let events = h.take_events();
    assert_eq!(cursors(&events).last().and_then(|p| p.id.clone()).as_deref(), Some("a5"));
    h
}

#[test]
fn a_rejoin_after_a_failed_resumption_catches_up_from_the_last_id_seen() {
    let mut archive = room_archive(3);
    let mut h = scram_room_session(true, &mut archive);
    h.client.handle_transport_closed();
    let config = h.client.resumption().expect("SCRAM keys");
    assert_eq!(config.rooms[0].last_stanza_id.as_deref(), Some("a5"));
    // Meanwhile, in the room:
    for n in 4..=8 {
        archive.said(n, "firstwitch");
    }
    let mut h = Harness::new(config);
    h.scram_auth();
    h.bind_features("<sm xmlns='urn:xmpp:sm:3'/>");
    h.sent();
    h.recv("<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    let sent = bind(&mut h, true);
    assert!(sent.iter().any(|e| e.is("jabber:client", "presence") && e.attr("to") == Some("coven@chat.shakespeare.lit/thirdwitch")));
    assert!(queries(&mut h).is_empty(), "not before the rejoin is confirmed");
    h.recv(&self_presence(ROOM, "thirdwitch", ""));
    let asked = archive.asked.len();
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked[asked].page, Page::After("a5".into()));
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(6, 8));
    assert_eq!(cursors(&events).last().and_then(|p| p.id.clone()).as_deref(), Some("a8"));
}

#[test]
fn a_resumed_stream_keeps_the_rooms_cursor_moving_and_a_self_ping_rejoin_catches_up() {
    let mut archive = room_archive(3);
    let mut h = scram_room_session(true, &mut archive);
    h.client.handle_transport_closed();
    let mut h = Harness::new(h.client.resumption().unwrap());
    h.scram_auth();
    h.bind_features("<sm xmlns='urn:xmpp:sm:3'/>");
    h.sent();
    // The server got all seven stanzas: roster get, presence, carbons, the account's disco, the room's disco,
    // the join, the room's archive query.
    h.recv("<resumed xmlns='urn:xmpp:sm:3' previd='S1' h='7'/>");
    let sent = h.sent();
    assert!(!sent.iter().any(|e| e.get_child(MAM_NS, "query").is_some()), "caught up before the drop");
    let disco = iq_id(&sent, |e| e.get_child(DISCO_INFO_NS, "query").is_some());
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{disco}'><query xmlns='{DISCO_INFO_NS}'/></iq>"));
    h.take_events();
    h.recv(&live("firstwitch", "x6", "m6", "a6"));
    let events = h.take_events();
    assert_eq!(cursors(&events).last().and_then(|p| p.id.clone()).as_deref(), Some("a6"));

    // The room restarted and lost us: the self-ping says so, we rejoin and catch up from a6.
    for n in 6..=9 {
        archive.said(n, "firstwitch");
    }
    h.advance(natter::xmpp::client::muc::ROOM_SILENCE);
    let ping = h.sent().into_iter().find(|e| e.get_child("urn:xmpp:ping", "ping").is_some()).expect("self-ping");
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='error' id='{}' from='{}'><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        ping.attr("id").unwrap(),
        ping.attr("to").unwrap()
    ));
    h.sent();
    h.recv(&self_presence(ROOM, "thirdwitch", ""));
    let asked = archive.asked.len();
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked[asked].page, Page::After("a6".into()));
    assert_eq!(bodies(&pages(&h.take_events())), range(7, 9));
}

// ---- scroll-back, errors, bounds ---------------------------------------------------------------------------

#[test]
fn scroll_back_in_a_room_reads_its_archive_to_the_first_message() {
    let mut h = online();
    join(&mut h, None);
    let mut archive = room_archive(120);
    serve(&mut h, &mut archive);
    let mut oldest = pages(&h.take_events())[0].oldest.clone();
    let mut shown = range(71, 120);
    loop {
        h.command(Command::LoadOlder { with: room(), before: oldest.clone() }).unwrap();
        serve(&mut h, &mut archive);
        let events = h.take_events();
        let [page] = &pages(&events)[..] else { panic!("{events:?}") };
        assert_eq!((&page.archive, &page.query), (&room(), &ArchiveQuery::Older { with: room() }));
        shown.splice(0..0, bodies(std::slice::from_ref(page)));
        oldest = page.oldest.clone();
        if page.complete {
            break;
        }
    }
    assert_eq!(shown, range(1, 120));
    assert!(archive.asked.iter().all(|q| q.filter.with.is_none()), "the room's archive, no `with`");
    // A room without an archive has no scroll-back; someone not a room is a one-to-one conversation.
    join_room(&mut h, "heath@chat.shakespeare.lit", None, &[], "");
    assert!(queries(&mut h).is_empty());
    let r = h.command(Command::LoadOlder { with: jid("heath@chat.shakespeare.lit"), before: None });
    assert_eq!(r, Err(CommandError::Archive(ArchiveError::Unsupported)));
}

#[test]
fn an_archive_error_is_said_in_words_and_a_forgotten_point_falls_back_to_its_time() {
    let mut h = online();
    join(&mut h, None);
    let iq = queries(&mut h).remove(0);
    let archive = room_archive(0);
    h.recv(&archive.error(iq.attr("id").unwrap(), "forbidden"));
    let events = h.take_events();
    let failure = events.iter().find_map(|e| match e {
        Event::ArchiveFailed { query: ArchiveQuery::RoomCatchUp { room }, error } if *room == jid(ROOM) => Some(error),
        _ => None,
    });
    let error = failure.expect("ArchiveFailed for the room's catch-up");
    assert!(matches!(error, ArchiveError::Stanza(e) if e.condition == "forbidden"));
    assert!(error.describe().starts_with("the server could not load the history"), "{}", error.describe());

    // A held id the archive no longer knows: read on from the held time (minus the margin).
    let other = "heath@chat.shakespeare.lit";
    join_room(&mut h, other, Some(HistoryPoint { id: Some("gone".into()), unix_ms: Some(time_of(5)) }), &[MAM_NS], "");
    let mut archive = Archive::room(other, ME);
    for n in 1..=8 {
        archive.said(n, "firstwitch");
    }
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked[0].page, Page::After("gone".into()));
    assert_eq!(archive.asked[1].filter.start, Some(time_of(5) - STALE_CURSOR_MARGIN_MS));
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(1, 8), "the margin re-reads a few; what is shown is not shown again");
}

#[test]
fn rooms_are_caught_up_a_few_at_a_time_and_a_room_left_is_forgotten() {
    let mut h = online();
    let rooms: Vec<String> = (0..MAX_ROOM_CATCH_UPS + 2).map(|i| format!("r{i}@chat.shakespeare.lit")).collect();
    let mut sent = Vec::new();
    for r in &rooms {
        join_room(&mut h, r, None, &[MAM_NS], "");
        sent.extend(queries(&mut h));
    }
    assert_eq!(sent.len(), MAX_ROOM_CATCH_UPS, "the rest wait their turn");
    // Scroll-back is not held up by them, not even in a room waiting its turn.
    let last = jid(&rooms[MAX_ROOM_CATCH_UPS + 1]);
    h.command(Command::LoadOlder { with: last.clone(), before: None }).unwrap();
    assert_eq!(queries(&mut h)[0].attr("to"), Some(last.to_string().as_str()));
    // The first room is left before its archive answers: the answer is ignored, the next room starts.
    h.command(Command::Room(RoomCommand::Leave { room: jid(&rooms[0]), status: None })).unwrap();
    let next = queries(&mut h);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].attr("to"), Some(rooms[MAX_ROOM_CATCH_UPS].as_str()));
    let mut first = Archive::room(&rooms[0], ME);
    first.said(1, "firstwitch");
    h.take_events();
    answer_query(&mut h, &mut first, &sent[0]);
    assert!(pages(&h.take_events()).is_empty());
}

#[test]
fn a_room_sending_more_than_asked_is_cut_to_the_page_and_nothing_is_lost() {
    let mut h = online();
    join(&mut h, Some(held(1)));
    let mut archive = room_archive(600);
    archive.ignore_max = true; // every matching result, whatever `<max/>` says
    serve(&mut h, &mut archive);
    let events = h.take_events();
    let pages = pages(&events);
    assert!(pages.iter().all(|p| p.messages.len() <= 250), "at most the page asked for");
    assert_eq!(bodies(&pages), range(2, 600), "the rest of each oversized page came with the next");
    assert_eq!(caught_up(&events), 1);
}

#[test]
fn a_room_archive_that_never_answers_times_out_in_words_and_lets_the_next_room_start() {
    let mut h = online();
    let rooms: Vec<String> = (0..=MAX_ROOM_CATCH_UPS).map(|i| format!("r{i}@chat.shakespeare.lit")).collect();
    let mut asked = 0;
    for r in &rooms {
        join_room(&mut h, r, None, &[MAM_NS], "");
        asked += queries(&mut h).len();
    }
    assert_eq!(asked, MAX_ROOM_CATCH_UPS);
    h.advance(std::time::Duration::from_secs(31));
    let events = h.take_events();
    let timeouts = events
        .iter()
        .filter(|e| {
            matches!(e, Event::ArchiveFailed { query: ArchiveQuery::RoomCatchUp { .. }, error: ArchiveError::Timeout })
        })
        .count();
    assert_eq!(timeouts, MAX_ROOM_CATCH_UPS);
    assert_eq!(ArchiveError::Timeout.describe(), "the server did not send the history in time");
    let next = queries(&mut h);
    assert_eq!(next.len(), 1, "the room that waited starts");
    assert_eq!(next[0].attr("to"), Some(rooms[MAX_ROOM_CATCH_UPS].as_str()));
}

#[test]
fn a_catch_up_cut_by_a_drop_goes_on_when_the_stream_is_resumed() {
    let mut h = Harness::new(catching_up(rfc7677_config()));
    h.scram_auth();
    h.bind_features("<sm xmlns='urn:xmpp:sm:3'/>");
    bind(&mut h, true);
    join(&mut h, Some(held(2)));
    let mut archive = room_archive(5);
    let first = queries(&mut h).remove(0);
    assert_eq!(query_of(&first).page, Page::After("a2".into()));
    h.client.handle_transport_closed();
    h.drain();
    let events = h.take_events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::ArchiveFailed { query: ArchiveQuery::RoomCatchUp { .. }, error: ArchiveError::ConnectionLost }
    )));
    let mut h = Harness::new(h.client.resumption().unwrap());
    h.scram_auth();
    h.bind_features("<sm xmlns='urn:xmpp:sm:3'/>");
    h.sent();
    h.recv("<resumed xmlns='urn:xmpp:sm:3' previd='S1' h='7'/>");
    let asked = queries(&mut h);
    assert_eq!(asked.len(), 1, "the room's catch-up again, still in the room");
    assert_eq!(query_of(&asked[0]).page, Page::After("a2".into()));
    answer_query(&mut h, &mut archive, &asked[0]);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(3, 5));
    assert_eq!(caught_up(&events), 1);
}
