#![cfg(not(target_arch = "wasm32"))]
//! History from the archive (XEP-0313) driven by a scripted server and a scripted archive, in virtual time:
//! catch-up, a stale cursor, forged results, live messages during catch-up, drops and gaps, scroll-back,
//! and hostile sizes.

mod support {
    pub mod archive;
    pub mod fake;
}

use std::time::Duration;

use natter::xmpp::client::{ArchiveError, ArchiveQuery, Gap, GapEnd, HistoryConfig, HistoryPoint, mam::MAX_QUERIES};
use natter::xmpp::stanza::mam::{Fin, MAM_EXTENDED, MAM_NS, Page};
use natter::xmpp::{ClientError, Command, CommandError, Config, Event};
use support::archive::*;
use support::fake::*;

const ALICE: &str = "alice@example.com";
const ME: &str = "alice@example.com/web";
const BOB: &str = "bob@example.com";

fn config(history: HistoryConfig) -> Config {
    let mut c = plain_config();
    c.history = history;
    c
}

fn cursor_at(id: &str, n: usize) -> HistoryConfig {
    HistoryConfig { last_id: Some(id.into()), last_time: Some(time_of(n)), ..HistoryConfig::default() }
}

/// Logs in as alice with an archive offering `features`; the catch-up's first query (if any) is left unanswered.
fn online(history: HistoryConfig, features: &[&str]) -> Harness {
    let mut h = Harness::new(config(history));
    login_until_roster(&mut h);
    h.online_with_archive(features);
    h
}

const EXTENDED: &[&str] = &[MAM_NS, MAM_EXTENDED];
const PLAIN: &[&str] = &[MAM_NS];

/// `login_plain` up to the roster result: carbons and the archive's features are asked, not answered.
fn login_until_roster(h: &mut Harness) {
    h.plain_until_roster("");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='both'/></query></iq>");
}

fn cursors(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| if let Event::ArchiveCursor { id } = e { Some(id.clone()) } else { None }).collect()
}

fn bob_archive(count: usize) -> Archive {
    let mut a = Archive::new(ALICE, ME);
    a.fill(BOB, 1, count);
    a
}

/// A live chat message from bob, stamped by our server with stanza-id `sid`.
fn live(body: &str, sid: &str) -> String {
    format!(
        "<message xmlns='jabber:client' type='chat' from='bob@example.com/phone' to='{ME}' id='x-{sid}'><body>{body}</body><stanza-id xmlns='urn:xmpp:sid:0' by='{ALICE}' id='{sid}'/></message>"
    )
}

// ---- catch-up ------------------------------------------------------------------------------------------

#[test]
fn catch_up_pages_after_the_cursor_until_complete() {
    for features in [EXTENDED, PLAIN] {
        let mut archive = bob_archive(130);
        archive.extended = features == EXTENDED;
        archive.with_from = features == PLAIN; // ejabberd stamps results from our bare JID
        let mut h = online(cursor_at("a10", 10), features);
        assert_eq!(serve(&mut h, &mut archive), 3, "pages of 50, 50 and 20");
        // The cursor is an RSM id on every archive (Prosody ignores a `before-id` beside an empty `<before/>`;
        // `#extended` ids only bound a gap's far end).
        let first = &archive.asked[0];
        assert_eq!((first.filter.after_id.as_deref(), &first.page), (None, &Page::After("a10".into())));
        assert_eq!(first.max, 250, "the catch-up asks for large pages; this archive, like Prosody, sends 50");
        let events = h.take_events();
        let pages = pages(&events);
        assert_eq!(pages.len(), 3);
        assert!(pages.iter().all(|p| p.query == ArchiveQuery::CatchUp && p.archive == jid(ALICE)));
        assert_eq!(pages.iter().map(|p| p.complete).collect::<Vec<_>>(), [false, false, true]);
        assert_eq!(bodies(&pages), range(11, 130));
        assert_eq!(cursors(&events), ["a60", "a110", "a130"]);
        assert_eq!(events.last(), Some(&Event::CaughtUp));
        let m = &pages[0].messages[0];
        assert_eq!((m.id.as_str(), m.unix_ms, &m.with, m.outgoing), ("a11", Some(time_of(11)), &jid(BOB), false));
        assert_eq!(m.message.delay.as_deref(), Some("2024-01-01T00:11:00.000Z"));
        assert!(gaps(&events).is_empty());
    }
}

#[test]
fn the_catch_up_says_when_it_starts() {
    // As the session goes online, before the archive's features are asked (the UI waits for the catch-up before
    // asking for a conversation's newest page, so nothing may come between).
    let mut h = Harness::new(config(cursor_at("a10", 10)));
    login_until_roster(&mut h);
    let events = h.online_with_archive(EXTENDED);
    let online = events.iter().position(|e| matches!(e, Event::Online { .. }));
    let started = events.iter().position(|e| *e == Event::CatchingUp);
    assert!(online.is_some() && started.is_some(), "{events:?}");
    assert_eq!(events.iter().filter(|e| **e == Event::CatchingUp).count(), 1, "{events:?}");
    // Without an archive, its end says so.
    let mut h = Harness::new(config(cursor_at("a10", 10)));
    login_until_roster(&mut h);
    let events = h.online_with_archive(&[]);
    let started = events.iter().position(|e| *e == Event::CatchingUp);
    let failed = events.iter().position(|e| {
        matches!(e, Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error: ArchiveError::Unsupported })
    });
    assert!(started.is_some() && failed.is_some() && started < failed, "{events:?}");
}

#[test]
fn after_catching_up_live_messages_move_the_cursor() {
    let mut archive = bob_archive(5);
    let mut h = online(cursor_at("a5", 5), EXTENDED);
    serve(&mut h, &mut archive);
    let events = h.take_events();
    assert!(pages(&events)[0].messages.is_empty() && pages(&events)[0].complete);
    assert!(cursors(&events).is_empty(), "nothing new: the cursor stays");
    h.recv(&live("hello", "s6"));
    let events = h.take_events();
    assert!(matches!(&events[0], Event::Message(m) if m.body(None) == Some("hello")));
    assert_eq!(cursors(&events), ["s6"]);
}

#[test]
fn an_empty_archive_is_caught_up_at_once() {
    let mut archive = Archive::new(ALICE, ME);
    let mut h = online(HistoryConfig::default(), EXTENDED);
    assert_eq!(serve(&mut h, &mut archive), 1);
    assert_eq!(archive.asked[0].page, Page::Last);
    let events = h.take_events();
    let pages = pages(&events);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].messages.is_empty() && pages[0].complete && pages[0].newest.is_none());
    assert!(cursors(&events).is_empty());
    assert_eq!(events.last(), Some(&Event::CaughtUp));
}

#[test]
fn a_new_device_fetches_only_the_newest_page_of_the_whole_archive() {
    let mut archive = bob_archive(120);
    archive.push(121, ME, "carol@example.com", "to carol");
    let mut h = online(HistoryConfig::default(), EXTENDED);
    assert_eq!(serve(&mut h, &mut archive), 1);
    let q = &archive.asked[0];
    assert_eq!((&q.page, &q.filter.with), (&Page::Last, &None));
    let events = h.take_events();
    let pages = pages(&events);
    assert_eq!(bodies(&pages), [range(72, 120), vec!["to carol".to_owned()]].concat());
    assert!(!pages[0].complete, "older history exists: scroll-back reaches it");
    let sent = pages[0].messages.last().unwrap();
    assert!(sent.outgoing && sent.with == jid("carol@example.com"));
    assert_eq!(cursors(&events), ["a121"]);
    assert!(gaps(&events).is_empty(), "older history is not a gap, it is what scroll-back loads");
    assert_eq!(events.last(), Some(&Event::CaughtUp));
}

#[test]
fn a_stale_cursor_falls_back_to_the_time_of_the_last_message_held() {
    let mut archive = bob_archive(150);
    // The device held up to message 60 (by a server that has since lost its ids).
    let mut h = online(cursor_at("gone", 60), EXTENDED);
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked.len(), 3);
    assert_eq!(archive.asked[0].page, Page::After("gone".into()));
    let retry = &archive.asked[1];
    assert_eq!(retry.filter.start, Some(time_of(60) - 5 * 60 * 1000), "from 5 minutes before, for clock skew");
    assert_eq!((&retry.filter.after_id, &retry.page), (&None, &Page::First));
    // The second page reads on after the first.
    assert_eq!(archive.asked[2].page, Page::After("a104".into()));
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(55, 150), "messages 55-60 come again: the store keeps one copy");
    assert_eq!(cursors(&events).last().map(String::as_str), Some("a150"));
    assert_eq!(events.last(), Some(&Event::CaughtUp));
    assert!(!events.iter().any(|e| matches!(e, Event::ArchiveFailed { .. })));
}

#[test]
fn a_stale_cursor_answered_with_an_empty_page_is_caught_by_asking_for_the_newest_message() {
    // Prosody 13 answers an RSM id it does not hold with an empty, complete page: "nothing new".
    let mut archive = bob_archive(80);
    archive.unknown_ids_are_empty = true;
    let mut h = online(cursor_at("gone", 60), EXTENDED);
    serve(&mut h, &mut archive);
    let asked: Vec<(Page, usize)> = archive.asked.iter().map(|q| (q.page.clone(), q.max)).collect();
    assert_eq!(asked[..2], [(Page::After("gone".into()), 250), (Page::Last, 1)], "the newest is not our cursor");
    assert_eq!(archive.asked[2].filter.start, Some(time_of(60) - 5 * 60 * 1000));
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(55, 80));
    assert_eq!(events.last(), Some(&Event::CaughtUp));

    // With a cursor that is the newest message, the check costs one small query and shows nothing.
    let mut h = online(cursor_at("a80", 80), EXTENDED);
    archive.asked.clear();
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked.len(), 2);
    let events = h.take_events();
    assert!(bodies(&pages(&events)).is_empty() && cursors(&events).is_empty());
    assert_eq!(events.last(), Some(&Event::CaughtUp));
}

#[test]
fn a_stale_cursor_without_a_time_fetches_the_newest_page() {
    let mut archive = bob_archive(100);
    let history = HistoryConfig { last_id: Some("gone".into()), ..HistoryConfig::default() };
    let mut h = online(history, PLAIN);
    archive.extended = false;
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked.len(), 2);
    assert_eq!(archive.asked[1].page, Page::Last);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(51, 100));
    assert_eq!(events.last(), Some(&Event::CaughtUp));
}

#[test]
fn beyond_the_catch_up_limit_the_newest_page_is_fetched_and_the_rest_is_a_gap() {
    let mut archive = bob_archive(400);
    let history = HistoryConfig { catch_up_limit: 100, ..cursor_at("a10", 10) };
    let mut h = online(history, EXTENDED);
    assert_eq!(serve(&mut h, &mut archive), 3);
    assert_eq!(archive.asked[2].page, Page::Last);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), [range(11, 110), range(351, 400)].concat());
    let gap = Gap {
        archive: jid(ALICE),
        with: None,
        after: HistoryPoint { id: Some("a110".into()), unix_ms: Some(time_of(110)) },
        before: Some(HistoryPoint { id: Some("a351".into()), unix_ms: Some(time_of(351)) }),
    };
    assert_eq!(gaps(&events), std::slice::from_ref(&gap));
    assert_eq!(cursors(&events), ["a60", "a110", "a400"]);
    assert_eq!(events.last(), Some(&Event::CaughtUp));

    // Filling it from the older end, a page at a time, until nothing is left.
    let mut gap = Some(gap);
    let mut filled = Vec::new();
    while let Some(g) = gap.take() {
        h.command(Command::FillGap { gap: g.clone(), from: GapEnd::Older }).unwrap();
        serve(&mut h, &mut archive);
        let events = h.take_events();
        filled.extend(bodies(&pages(&events)));
        let Some(Event::GapFilled { gap: was, rest }) = events.last() else { panic!("{events:?}") };
        assert_eq!(was, &g);
        gap = rest.clone();
    }
    assert_eq!(filled, range(111, 350));
    let last = archive.asked.last().unwrap();
    assert_eq!(last.filter.before_id.as_deref(), Some("a351"), "bounded by the gap's newer end");
}

#[test]
fn when_the_newest_page_overlaps_what_the_limit_left_there_is_no_gap() {
    let mut archive = bob_archive(130);
    let history = HistoryConfig { catch_up_limit: 100, ..cursor_at("a10", 10) };
    let mut h = online(history, EXTENDED);
    assert_eq!(serve(&mut h, &mut archive), 3, "11-60, 61-110, then the newest page 81-130");
    let events = h.take_events();
    assert!(gaps(&events).is_empty(), "{:?}", gaps(&events));
    assert_eq!(bodies(&pages(&events)), range(11, 130), "81-110 are not repeated");
    assert_eq!(cursors(&events), ["a60", "a110", "a130"]);
}

#[test]
fn time_bounds_cover_the_whole_millisecond_of_a_microsecond_stamp() {
    // ejabberd stamps microseconds and has no `#extended`: a gap's far end is bounded by its time, which
    // Natter knows to the millisecond. Here 30 messages share one millisecond.
    let mut archive = bob_archive(30);
    archive.extended = false;
    for (i, item) in archive.items.iter_mut().enumerate() {
        item.unix_ms = time_of(1);
        item.micros = 10 * i as u16 + 5;
    }
    let point = |n: usize| HistoryPoint { id: Some(format!("a{n}")), unix_ms: Some(time_of(1)) };
    let gap = Gap { archive: jid(ALICE), with: None, after: point(5), before: Some(point(25)) };
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, PLAIN);
    let mut got = Vec::new();
    let mut rest = Some(gap);
    let mut from = GapEnd::Older;
    while let Some(gap) = rest.take() {
        h.command(Command::FillGap { gap, from }).unwrap();
        serve(&mut h, &mut archive);
        let events = h.take_events();
        got.extend(bodies(&pages(&events)));
        let Some(Event::GapFilled { rest: r, .. }) = events.last() else { panic!("{events:?}") };
        rest = r.clone();
        from = GapEnd::Newer;
    }
    got.sort_by_key(|b| b[1..].parse::<usize>().unwrap());
    assert_eq!(got, range(6, 24));
    assert_eq!(archive.asked[0].filter.end, Some(time_of(1) + 1), "the end bound covers its millisecond");
}

// ---- trust ---------------------------------------------------------------------------------------------

#[test]
fn forged_results_are_dropped_and_never_shown_as_live_messages() {
    let mut archive = bob_archive(3);
    let mut h = online(HistoryConfig::default(), EXTENDED);
    let iq = queries(&mut h).remove(0);
    let queryid = query_of(&iq).queryid;
    let item = archive.items[0].clone();
    let forged = |from: Option<&str>, queryid: &str, body: &str| {
        let mut it = item.clone();
        it.body = body.into();
        let mut m = archive.result(queryid, &it);
        if let Some(f) = from {
            m.set_attr("from", f);
        }
        m.to_xml()
    };
    h.recv(&forged(Some(BOB), &queryid, "from bob"));
    h.recv(&forged(Some("alice@example.com/other"), &queryid, "from a full JID"));
    h.recv(&forged(Some("example.com"), &queryid, "from the server"));
    h.recv(&forged(None, "someone-elses-query", "wrong queryid"));
    h.recv(&forged(None, "", "no queryid"));
    // A message in our archive between two other people is not ours either.
    let mut other = item.clone();
    other.from = "mallory@example.com/x".into();
    other.to = "carol@example.com".into();
    other.body = "between others".into();
    h.recv(&archive.result(&queryid, &other).to_xml());
    assert!(h.take_events().is_empty(), "nothing shown");
    let late = forged(None, &queryid, "late");
    answer_query(&mut h, &mut archive, &iq);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(1, 3));
    // After the fin, even a result with the right queryid is late and dropped.
    h.recv(&late);
    assert!(h.take_events().is_empty());
}

// ---- live messages and catch-up ------------------------------------------------------------------------

#[test]
fn a_live_message_during_catch_up_is_shown_once() {
    let mut archive = bob_archive(60);
    let mut h = online(cursor_at("a10", 10), EXTENDED);
    let iq = queries(&mut h).remove(0);
    // Message 61 arrives live while the first page is on its way; the archive has it too.
    archive.push(61, "bob@example.com/phone", ALICE, "m61");
    h.recv(&live("m61", "a61"));
    let events = h.take_events();
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Message(_))).count(), 1);
    assert!(cursors(&events).is_empty(), "live messages do not move the cursor during a catch-up");
    answer_query(&mut h, &mut archive, &iq);
    serve(&mut h, &mut archive);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(11, 60), "m61 is left out of the page: it was shown live");
    assert_eq!(cursors(&events).last().map(String::as_str), Some("a61"));
    // And the other way round: an archived message delivered again live (offline storage) is not shown twice.
    h.recv(&live("m60", "a60"));
    assert!(!h.take_events().iter().any(|e| matches!(e, Event::Message(_))));
}

#[test]
fn a_drop_mid_catch_up_leaves_a_gap_and_the_next_login_resumes() {
    let mut archive = bob_archive(120);
    let mut h = online(cursor_at("a10", 10), EXTENDED);
    let iq = queries(&mut h).remove(0);
    answer_query(&mut h, &mut archive, &iq);
    // Page 1 (11-60) is in; page 2 is asked for. Two live messages come, then the connection drops.
    assert_eq!(queries(&mut h).len(), 1);
    archive.push(121, "bob@example.com/phone", ALICE, "m121");
    archive.push(122, "bob@example.com/phone", ALICE, "m122");
    h.recv(&live("m121", "a121"));
    h.recv(&live("m122", "a122"));
    h.take_events();
    h.client.handle_transport_closed();
    h.drain();
    let events = h.take_events();
    let gap = Gap {
        archive: jid(ALICE),
        with: None,
        after: HistoryPoint { id: Some("a60".into()), unix_ms: Some(time_of(60)) },
        before: Some(HistoryPoint::id("a121")),
    };
    assert_eq!(
        events,
        [
            Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error: ArchiveError::ConnectionLost },
            Event::ArchiveGap(gap.clone()),
            Event::ArchiveCursor { id: "a122".into() },
            Event::Closed { error: Some(ClientError::ConnectionLost) },
        ]
    );

    // The next login catches up after the newest live message, and the gap is filled on request.
    let mut h = online(cursor_at("a122", 122), EXTENDED);
    archive.push(123, "bob@example.com/phone", ALICE, "m123");
    serve(&mut h, &mut archive);
    assert_eq!(bodies(&pages(&h.take_events())), ["m123"]);
    h.command(Command::FillGap { gap: gap.clone(), from: GapEnd::Newer }).unwrap();
    serve(&mut h, &mut archive);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(71, 120));
    let rest = Gap { before: Some(HistoryPoint { id: Some("a71".into()), unix_ms: Some(time_of(71)) }), ..gap.clone() };
    assert_eq!(events.last(), Some(&Event::GapFilled { gap: gap.clone(), rest: Some(rest.clone()) }));
    h.command(Command::FillGap { gap: rest.clone(), from: GapEnd::Newer }).unwrap();
    serve(&mut h, &mut archive);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(61, 70), "message 60, held already, is left out");
    assert_eq!(events.last(), Some(&Event::GapFilled { gap: rest, rest: None }));
}

#[test]
fn a_drop_mid_catch_up_without_live_messages_leaves_no_gap() {
    let mut archive = bob_archive(120);
    let mut h = online(cursor_at("a10", 10), EXTENDED);
    let iq = queries(&mut h).remove(0);
    answer_query(&mut h, &mut archive, &iq);
    h.take_events();
    h.client.handle_transport_closed();
    h.drain();
    let events = h.take_events();
    assert!(gaps(&events).is_empty() && cursors(&events).is_empty(), "{events:?}");
    // The first live message of a later moment would sit after a gap: it is reported then.
}

#[test]
fn a_timed_out_page_ends_the_catch_up_and_the_next_live_message_closes_the_gap() {
    let mut archive = bob_archive(120);
    let mut h = online(cursor_at("a10", 10), EXTENDED);
    let iq = queries(&mut h).remove(0);
    answer_query(&mut h, &mut archive, &iq);
    h.take_events();
    // The server never answers page 2 (but answers keepalive pings).
    h.advance(Duration::from_secs(31));
    let events = h.take_events();
    assert!(events.contains(&Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error: ArchiveError::Timeout }));
    assert!(h.client.is_online(), "a slow archive does not end the session");
    h.recv(&live("m121", "a121"));
    let events = h.take_events();
    assert_eq!(
        gaps(&events),
        [Gap {
            archive: jid(ALICE),
            with: None,
            after: HistoryPoint { id: Some("a60".into()), unix_ms: Some(time_of(60)) },
            before: Some(HistoryPoint::id("a121")),
        }]
    );
    assert_eq!(cursors(&events), ["a121"]);
}

// ---- scroll-back ---------------------------------------------------------------------------------------

#[test]
fn scroll_back_reaches_the_first_message_of_a_conversation() {
    for features in [EXTENDED, PLAIN] {
        let mut archive = Archive::new(ALICE, ME);
        archive.extended = features == EXTENDED;
        for n in 1..=130 {
            // Bob and carol alternate with a few of alice's own.
            match n % 3 {
                0 => archive.push(n, ME, BOB, &format!("m{n}")),
                1 => archive.push(n, "bob@example.com/phone", ALICE, &format!("m{n}")),
                _ => archive.push(n, "carol@example.com/pc", ALICE, &format!("m{n}")),
            };
        }
        // Caught up already (the cursor is at the newest message): then scroll back through bob's history.
        let mut h = online(cursor_at("a130", 130), features);
        assert_eq!(serve(&mut h, &mut archive), 2, "nothing after the cursor, which is the newest");
        archive.asked.clear();
        h.take_events();
        let mut before = None;
        let mut loaded: Vec<String> = Vec::new();
        let mut rounds = 0;
        loop {
            rounds += 1;
            h.command(Command::LoadOlder { with: jid(BOB), before: before.clone() }).unwrap();
            serve(&mut h, &mut archive);
            let events = h.take_events();
            let [page] = pages(&events).try_into().unwrap();
            assert_eq!(page.query, ArchiveQuery::Older { with: jid(BOB) });
            let mut older = bodies(std::slice::from_ref(&page));
            older.extend(loaded);
            loaded = older;
            before = page.oldest.clone();
            if page.complete {
                break;
            }
        }
        let expected: Vec<String> = (1..=130).filter(|n| n % 3 != 2).map(|n| format!("m{n}")).collect();
        assert_eq!(loaded, expected);
        assert_eq!(rounds, 2, "87 messages: pages of 50 and 37");
        let q = archive.asked.last().unwrap();
        assert_eq!(q.filter.with, Some(jid(BOB)));
        assert!(matches!(q.page, Page::Before(_)) && q.filter.before_id.is_none());
    }
}

#[test]
fn scroll_back_from_an_id_the_archive_forgot_goes_by_its_time() {
    let mut archive = bob_archive(100);
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, EXTENDED);
    let before = HistoryPoint { id: Some("gone".into()), unix_ms: Some(time_of(40)) };
    h.command(Command::LoadOlder { with: jid(BOB), before: Some(before) }).unwrap();
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked[1].filter.end, Some(time_of(40) + 1), "all of its millisecond");
    assert_eq!(archive.asked[1].filter.before_id, None);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(1, 40), "the message at that time itself comes too (the store has it)");
    // Without a time there is nothing to go by: the failure is reported.
    h.command(Command::LoadOlder { with: jid(BOB), before: Some(HistoryPoint::id("gone")) }).unwrap();
    serve(&mut h, &mut archive);
    let events = h.take_events();
    assert!(matches!(
        &events[..],
        [Event::ArchiveFailed { query: ArchiveQuery::Older { .. }, error: ArchiveError::Stanza(e) }] if e.condition == "item-not-found"
    ));
}

#[test]
fn without_catch_up_nothing_is_asked_at_login_and_scroll_back_pages_with_plain_rsm() {
    let mut archive = bob_archive(60);
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, EXTENDED);
    assert!(h.sent().is_empty(), "not even the archive's features");
    h.command(Command::LoadOlder { with: jid(BOB), before: Some(HistoryPoint::id("a40")) }).unwrap();
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked[0].page, Page::Before("a40".into()), "RSM ids work on every archive");
    assert_eq!(bodies(&pages(&h.take_events())), range(1, 39));
}

#[test]
fn scroll_back_from_an_id_answered_with_an_empty_page_goes_by_its_time_too() {
    // Prosody 13 answers an id it does not hold with an empty, complete page: that is no start of history.
    let mut archive = bob_archive(100);
    archive.unknown_ids_are_empty = true;
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, EXTENDED);
    let before = HistoryPoint { id: Some("gone".into()), unix_ms: Some(time_of(40)) };
    h.command(Command::LoadOlder { with: jid(BOB), before: Some(before) }).unwrap();
    serve(&mut h, &mut archive);
    assert_eq!(archive.asked.len(), 2);
    let events = h.take_events();
    let [page] = pages(&events).try_into().unwrap();
    assert_eq!(bodies(std::slice::from_ref(&page)), range(1, 40));
    // At the real start of a history the second question costs one query and changes nothing.
    h.command(Command::LoadOlder { with: jid(BOB), before: page.oldest.clone() }).unwrap();
    serve(&mut h, &mut archive);
    let events = h.take_events();
    let [page] = pages(&events).try_into().unwrap();
    assert!(page.messages.is_empty() && page.complete);
}

#[test]
fn queries_in_flight_are_bounded() {
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, EXTENDED);
    h.command(Command::LoadOlder { with: jid(BOB), before: None }).unwrap();
    assert_eq!(
        h.command(Command::LoadOlder { with: jid(BOB), before: None }),
        Err(CommandError::Archive(ArchiveError::Busy)),
        "one page of a conversation at a time"
    );
    for i in 1..MAX_QUERIES {
        h.command(Command::LoadOlder { with: jid(&format!("c{i}@example.com")), before: None }).unwrap();
    }
    assert_eq!(
        h.command(Command::LoadOlder { with: jid("more@example.com"), before: None }),
        Err(CommandError::Archive(ArchiveError::Busy))
    );
    assert_eq!(queries(&mut h).len(), MAX_QUERIES);
    // The session ends: each query in flight is reported as failed.
    h.client.handle_transport_closed();
    h.drain();
    let failed = h.take_events().iter().filter(|e| matches!(e, Event::ArchiveFailed { .. })).count();
    assert_eq!(failed, MAX_QUERIES);
}

#[test]
fn a_server_without_an_archive_says_so() {
    let mut h = Harness::new(config(HistoryConfig::default()));
    login_until_roster(&mut h);
    let sent = h.sent();
    let disco = sent.iter().find(|e| e.get_child(DISCO_INFO_NS, "query").is_some()).unwrap();
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}' from='{ALICE}'><query xmlns='{DISCO_INFO_NS}'><feature var='urn:xmpp:carbons:2'/></query></iq>",
        disco.attr("id").unwrap()
    ));
    let events = h.take_events();
    assert!(events.contains(&Event::ArchiveFailed { query: ArchiveQuery::CatchUp, error: ArchiveError::Unsupported }));
    assert!(queries(&mut h).is_empty());
    assert_eq!(
        h.command(Command::LoadOlder { with: jid(BOB), before: None }),
        Err(CommandError::Archive(ArchiveError::Unsupported))
    );
}

// ---- hostile sizes -------------------------------------------------------------------------------------

#[test]
fn a_ten_thousand_result_page_is_capped_and_nothing_is_skipped() {
    let mut archive = bob_archive(10_000);
    archive.ignore_max = true;
    let mut h = online(cursor_at("a0", 0), EXTENDED);
    archive.items.insert(0, archive.items[0].clone());
    archive.items[0].id = "a0".into();
    archive.items[0].body = "m0".into();
    let iq = queries(&mut h).remove(0);
    let frames = archive.answer(&iq);
    assert_eq!(frames.len(), 10_001);
    for f in &frames {
        h.recv(f);
    }
    let events = h.take_events();
    let [page] = pages(&events).try_into().unwrap();
    assert_eq!(page.messages.len(), 250, "at most the page asked for is kept (the catch-up asks for 250)");
    assert!(!page.complete, "results were left out: not the end");
    assert_eq!(bodies(std::slice::from_ref(&page)), range(1, 250));
    let next = query_of(&queries(&mut h).remove(0));
    assert_eq!(next.page, Page::After("a250".into()), "the next page reads on after the last kept");

    // Paging backwards (scroll-back), the newest results are kept and the next page reads on before them.
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, EXTENDED);
    h.command(Command::LoadOlder { with: jid(BOB), before: None }).unwrap();
    let iq = queries(&mut h).remove(0);
    answer_query(&mut h, &mut archive, &iq);
    let events = h.take_events();
    let [page] = pages(&events).try_into().unwrap();
    assert_eq!(bodies(std::slice::from_ref(&page)), range(9_951, 10_000));
    assert_eq!(page.oldest.unwrap().id.as_deref(), Some("a9951"));
    assert!(!page.complete);
}

#[test]
fn huge_bodies_are_kept_whole_and_an_oversized_page_continues_next_time() {
    let big = "x".repeat(200 * 1024);
    let mut archive = Archive::new(ALICE, ME);
    for n in 1..=20 {
        archive.push(n, "bob@example.com/phone", ALICE, &format!("{n} {big}"));
    }
    let mut h = online(cursor_at("none-yet", 0), EXTENDED);
    // The archive knows no "none-yet": by time from 0 instead, which is everything.
    let mut sizes = Vec::new();
    loop {
        let qs = queries(&mut h);
        if qs.is_empty() {
            break;
        }
        for iq in qs {
            answer_query(&mut h, &mut archive, &iq);
        }
        sizes.extend(pages(&h.events).iter().map(|p| p.messages.len()));
        h.events.retain(|e| !matches!(e, Event::ArchivePage(_)));
    }
    // 20 × 200 KiB = 4 MiB: at most 2 MiB of text per page, so the 20 come in two pages, none lost.
    assert_eq!(sizes, [10, 10]);
    assert_eq!(h.take_events().last(), Some(&Event::CaughtUp));
}

#[test]
fn a_result_without_ids_or_with_a_broken_stamp_does_no_harm() {
    let archive = bob_archive(2);
    let mut h = online(HistoryConfig::default(), EXTENDED);
    let iq = queries(&mut h).remove(0);
    let queryid = query_of(&iq).queryid;
    let mut broken = archive.result(&queryid, &archive.items[0]).to_xml();
    broken = broken.replace("2024-01-01T00:01:00.000Z", "yesterday");
    h.recv(&broken);
    h.recv(&archive.result(&queryid, &archive.items[1]).to_xml().replace("id='a2'", "id=''"));
    let fin = Fin { complete: true, ..Fin::default() };
    h.recv(&archive.fin(iq.attr("id").unwrap(), &fin));
    let events = h.take_events();
    let [page] = pages(&events).try_into().unwrap();
    assert_eq!(bodies(std::slice::from_ref(&page)), ["m1"]);
    assert_eq!(page.messages[0].unix_ms, None, "kept, ordered by its place in the page");
    assert_eq!(cursors(&events), ["a1"]);
}

// ---- across reconnects (XEP-0198) ----------------------------------------------------------------------

const USER: &str = "user@example.com";

/// The RFC 7677 SCRAM-SHA-256 exchange, up to the restarted stream's features, which offer bind and stream
/// management.
fn scram_until_bind(h: &mut Harness) {
    h.scram_auth();
    h.bind_features("<sm xmlns='urn:xmpp:sm:3'/>");
}

/// Answers what a fresh bind sends (bind, `<enable/>`, roster, carbons, the archive's features) and serves
/// the catch-up; returns how many stanzas the client sent after `<enable/>` (what the server's `h` counts).
fn bind_and_catch_up(h: &mut Harness, archive: &mut Archive) -> usize {
    let mut counted = 0;
    let mut answered = std::collections::HashSet::new();
    loop {
        let sent = h.sent();
        if sent.is_empty() {
            return counted;
        }
        let enabled = sent.iter().any(|e| e.is("urn:xmpp:sm:3", "enable"));
        for e in &sent {
            let stanza = e.ns == "jabber:client" && matches!(e.name.as_str(), "iq" | "message" | "presence");
            let is_bind = e.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some();
            counted += usize::from(stanza && !is_bind);
            if e.name != "iq" || e.attr("type") == Some("result") || !answered.insert(e.attr("id").unwrap().to_owned())
            {
                continue;
            }
            let id = e.attr("id").unwrap();
            if is_bind {
                h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{USER}/r1</jid></bind></iq>"));
            } else if e.get_child("jabber:iq:roster", "query").is_some() {
                h.recv(&format!(
                    "<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"
                ));
            } else if e.get_child(DISCO_INFO_NS, "query").is_some() {
                h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}' from='{USER}'><query xmlns='{DISCO_INFO_NS}'><feature var='{MAM_NS}'/></query></iq>"));
            } else if e.get_child(MAM_NS, "query").is_some() {
                answer_query(h, archive, e);
            } else {
                h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>"));
            }
        }
        if enabled {
            h.recv("<enabled xmlns='urn:xmpp:sm:3' id='S1' resume='true' max='300'/>");
        }
    }
}

#[test]
fn the_cursor_crosses_a_reconnect_and_a_resumed_session_that_had_caught_up_asks_nothing() {
    let mut archive = Archive::new(USER, &format!("{USER}/r1"));
    archive.extended = false;
    archive.fill(BOB, 1, 30);
    let mut config = rfc7677_config();
    config.history =
        HistoryConfig { last_id: Some("a10".into()), last_time: Some(time_of(10)), ..HistoryConfig::default() };
    let mut h = Harness::new(config);
    scram_until_bind(&mut h);
    let sent = bind_and_catch_up(&mut h, &mut archive);
    let events = h.take_events();
    assert_eq!(bodies(&pages(&events)), range(11, 30));
    assert_eq!(events.last(), Some(&Event::CaughtUp));
    archive.fill(BOB, 31, 1);
    h.recv(&format!("<message xmlns='jabber:client' type='chat' from='bob@example.com/phone' to='{USER}/r1' id='x31'><body>m31</body><stanza-id xmlns='urn:xmpp:sid:0' by='{USER}' id='a31'/></message>"));
    assert_eq!(cursors(&h.take_events()), ["a31"]);
    h.client.handle_transport_closed();
    let next = h.client.resumption().unwrap();
    assert_eq!((next.history.last_id.as_deref(), next.history.caught_up), (Some("a31"), true));
    assert_eq!(
        next.history.last_time,
        Some(time_of(30)),
        "the newest archive time seen (the live one has no clock here)"
    );

    // Resumed: the lost session had caught up, nothing was missed, nothing is asked.
    let mut again = Harness::new(next.clone());
    scram_until_bind(&mut again);
    assert!(again.sent_one().is("urn:xmpp:sm:3", "resume"));
    again.recv(&format!("<resumed xmlns='urn:xmpp:sm:3' previd='S1' h='{sent}'/>"));
    assert!(again.client.is_online());
    let sent = again.sent();
    assert!(sent.iter().all(|e| e.name != "iq"), "no disco, no query: {sent:?}");

    // Resumption refused: a fresh session, and a catch-up from the cursor.
    archive.fill(BOB, 32, 3);
    let mut fresh = Harness::new(next);
    scram_until_bind(&mut fresh);
    assert!(fresh.sent_one().is("urn:xmpp:sm:3", "resume"));
    fresh.recv("<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    bind_and_catch_up(&mut fresh, &mut archive);
    assert_eq!(archive.asked.last().unwrap().page, Page::After("a31".into()));
    let events = fresh.take_events();
    assert_eq!(bodies(&pages(&events)), range(32, 34));
    assert_eq!(cursors(&events), ["a34"]);
}

// ---- receipts and markers in the archive ---------------------------------------------------------------

/// Appends item `n`, bodyless, from `from` to `to`, carrying `marker` (`received` or `displayed`) of `of`.
fn push_mark(archive: &mut Archive, n: usize, from: &str, to: &str, marker: &str, of: &str) {
    let ns = if marker == "received" { "urn:xmpp:receipts" } else { "urn:xmpp:chat-markers:0" };
    archive.push(n, from, to, "");
    archive.items.last_mut().unwrap().extra = vec![natter::xmpp::xml::Element::new(ns, marker).with_attr("id", of)];
}

#[test]
fn receipts_and_markers_in_the_archive_follow_their_page_as_the_events_they_were() {
    // Bob's messages a1–a2, ours o3 (sent from another device), then Bob's receipt and marker for o3 and our
    // other device's marker for Bob's o2: a new device shows o3 as read and Bob's messages as read elsewhere.
    let mut archive = Archive::new(ALICE, ME);
    archive.fill(BOB, 1, 2);
    archive.push(3, "alice@example.com/phone", BOB, "mine");
    push_mark(&mut archive, 4, "bob@example.com/phone", ALICE, "received", "o3");
    push_mark(&mut archive, 5, "bob@example.com/phone", ALICE, "displayed", "o3");
    push_mark(&mut archive, 6, "alice@example.com/phone", BOB, "displayed", "o2");
    // A receipt that is ours (our device answering Bob) and one between two others say nothing.
    push_mark(&mut archive, 7, "alice@example.com/phone", BOB, "received", "o2");
    push_mark(&mut archive, 8, "carol@example.com/x", BOB, "displayed", "o3");
    let mut h = online(HistoryConfig::default(), EXTENDED);
    serve(&mut h, &mut archive);
    let events = h.take_events();
    let page = events.iter().position(|e| matches!(e, Event::ArchivePage(_))).expect("a page");
    let bob = jid(BOB);
    assert_eq!(
        events[page + 1..page + 4],
        [
            Event::Receipt { from: bob.clone(), id: "o3".into() },
            Event::Displayed { from: bob.clone(), id: "o3".into() },
            Event::ReadElsewhere { with: bob.clone(), id: "o2".into() },
        ],
        "after the page that holds the messages they are about, in the archive's order: {events:?}"
    );
    assert!(matches!(events[page + 4], Event::ArchiveCursor { .. }), "{events:?}");
    assert_eq!(bodies(&pages(&events)), ["m1", "m2", "mine"], "the bodyless results are no rows");
}

#[test]
fn a_marker_of_another_device_in_a_sent_carbon_says_read_elsewhere() {
    let mut h = online(HistoryConfig { catch_up: false, ..HistoryConfig::default() }, PLAIN);
    h.take_events();
    let carbon = |inner: &str| {
        format!(
            "<message xmlns='jabber:client' from='{ALICE}' to='{ME}'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></sent></message>"
        )
    };
    h.recv(&carbon(
        "<message xmlns='jabber:client' type='chat' from='alice@example.com/phone' to='bob@example.com' id='d1'><displayed xmlns='urn:xmpp:chat-markers:0' id='b7'/></message>",
    ));
    // A receipt our other device sent is no read, and a forged carbon (not from our bare JID) is dropped.
    h.recv(&carbon(
        "<message xmlns='jabber:client' type='chat' from='alice@example.com/phone' to='bob@example.com' id='d2'><received xmlns='urn:xmpp:receipts' id='b8'/></message>",
    ));
    h.recv(&format!(
        "<message xmlns='jabber:client' from='mallory@evil.example' to='{ME}'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' type='chat' from='alice@example.com/phone' to='bob@example.com'><displayed xmlns='urn:xmpp:chat-markers:0' id='b9'/></message></forwarded></sent></message>"
    ));
    let reads: Vec<Event> = h.take_events().into_iter().filter(|e| matches!(e, Event::ReadElsewhere { .. })).collect();
    assert_eq!(reads, [Event::ReadElsewhere { with: jid(BOB), id: "b7".into() }]);
}
