#![cfg(not(target_arch = "wasm32"))]
//! History from the archive (XEP-0313) against the four real servers (Prosody 0.12 and 13, ejabberd 23.01 and
//! 24.12): catch-up across pages after time away, with and without the server's offline storage; a stale
//! cursor; the limit's gap filled; scroll-back to a conversation's first message.
//!
//! Like `tests/servers.rs`, each test runs against every server whose environment is set (the README test
//! command sets all four) and says so when none is. Every test uses fresh accounts: tests run in parallel,
//! and another test's session of a demo account would take messages sent to its bare JID.

mod support {
    pub mod native_ws;
}

use natter::xmpp::client::{ArchiveQuery, Gap, GapEnd, HistoryConfig};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::roster::Subscription;
use natter::xmpp::{Command, Config, Event};
use support::native_ws::{self, Conn, PATIENCE, Server, fresh_account};

fn servers() -> Vec<(Server, &'static str)> {
    native_ws::servers().into_iter().map(|(s, _, script)| (s, script)).collect()
}

/// The three parties of a test: `me` (whose history is caught up), `peer` (who writes), and `me`'s phone, a
/// second device that stays online without catching up, so that what `peer` writes while this device is away
/// is delivered there and not kept in the server's offline storage: only the archive has it for this device.
struct Cast {
    server: Server,
    me: (String, String),
    me_jid: BareJid,
    peer_jid: BareJid,
    peer: Conn,
    phone: Conn,
}

fn cast(server: &Server, script: &str, tag: &str) -> Cast {
    let me = fresh_account(script, &format!("{tag}m"));
    let peer = fresh_account(script, &format!("{tag}p"));
    let quiet = |(u, p): &(String, String)| server.config(u, p);
    let mut phone = Conn::online(server, quiet(&me));
    phone.pump_until_quiet();
    let mut peer_conn = Conn::online(server, quiet(&peer));
    peer_conn.pump_until_quiet();
    Cast {
        me_jid: server.jid(&me.0),
        peer_jid: server.jid(&peer.0),
        server: server.clone(),
        me,
        peer: peer_conn,
        phone,
    }
}

impl Cast {
    /// `me`'s config for this device, holding `history` (with the catch-up on, unless `history` says not).
    fn device(&self, history: HistoryConfig) -> Config {
        let mut c = self.server.config(&self.me.0, &self.me.1);
        c.history = history;
        c
    }

    /// `peer` writes `bodies` to `me`; returns once the phone has the last (so the archive has them all).
    fn peer_writes(&mut self, bodies: &[String]) {
        for b in bodies {
            self.peer.command(Command::SendMessage { to: self.me_jid.clone(), body: b.clone(), id: b.clone() });
        }
        let last = bodies.last().unwrap().clone();
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if self.phone.events.iter().any(|e| matches!(e, Event::Message(m) if m.body(None) == Some(last.as_str()))) {
                self.phone.events.clear();
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{}: the phone never got {last}", self.server.name);
            // Only the phone: each step waits for a frame, and the peer's acknowledgements can wait.
            self.phone.step();
        }
    }

    /// A first message `peer` writes while this device is online: its stanza-id is the device's cursor.
    fn cursor(&mut self) -> HistoryConfig {
        let mut device = Conn::online(&self.server, self.device(HistoryConfig::default()));
        until(&mut device, "the first catch-up", caught_up);
        self.peer_writes(&["first".into()]);
        let e = device.wait_for("the cursor", |e| matches!(e, Event::ArchiveCursor { .. }));
        let Event::ArchiveCursor { id } = e else { unreachable!() };
        device.close();
        HistoryConfig { last_id: Some(id), last_time: Some(unix_ms_now()), ..HistoryConfig::default() }
    }
}

fn unix_ms_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn caught_up(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(e, Event::CaughtUp | Event::ArchiveFailed { query: ArchiveQuery::CatchUp, .. } | Event::Closed { .. })
    })
}

fn until(c: &mut Conn, what: &str, done: impl Fn(&[Event]) -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !done(&c.events) {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}; events: {:?}", c.events);
        c.step();
    }
}

/// What a device was shown from `peer`: live messages and archived ones, in the order the events came.
#[derive(Debug, Default)]
struct Shown {
    live: Vec<String>,
    archived: Vec<String>,
    pages: usize,
    cursors: Vec<String>,
    gaps: Vec<Gap>,
}

fn shown(events: &[Event], peer: &BareJid) -> Shown {
    let mut s = Shown::default();
    for e in events {
        match e {
            Event::Message(m) if m.from.as_ref().is_some_and(|f| f.bare() == peer) => {
                s.live.push(m.body(None).unwrap().to_owned())
            }
            Event::ArchivePage(p) => {
                s.pages += 1;
                s.archived.extend(p.messages.iter().filter(|m| &m.with == peer).map(|m| {
                    assert!(!m.outgoing && m.unix_ms.is_some());
                    m.message.body(None).unwrap().to_owned()
                }));
            }
            Event::ArchiveCursor { id } => s.cursors.push(id.clone()),
            Event::ArchiveGap(g) => s.gaps.push(g.clone()),
            Event::ArchiveFailed { query, error } => panic!("{query:?} failed: {error:?}"),
            _ => {}
        }
    }
    s
}

fn numbered(prefix: &str, range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("{prefix}{n}")).collect()
}

#[test]
fn catch_up_after_time_away_pages_through_the_archive_and_shows_each_message_once() {
    for (server, script) in servers() {
        let name = server.name;
        let mut cast = cast(&server, script, "cu");
        // Pages of 50 (what Prosody serves; ejabberd would send all 120 in one page of the default 250).
        let history = HistoryConfig { catch_up_page_size: 50, ..cast.cursor() };

        // 120 messages while this device is away (the phone is online: nothing in offline storage).
        let sent = numbered("c", 1..=120);
        cast.peer_writes(&sent);
        let mut device = Conn::online(&server, cast.device(history));
        until(&mut device, "caught up", caught_up);
        let s = shown(&device.events, &cast.peer_jid);
        assert_eq!(s.archived, sent, "{name}: in order, each once");
        assert!(s.live.is_empty(), "{name}: {:?}", s.live);
        assert!(s.pages >= 3, "{name}: pages of at most 50: {}", s.pages);
        assert!(s.gaps.is_empty(), "{name}");
        assert!(s.cursors.last().is_some(), "{name}: the cursor moved");
        // What the next session of this device holds: the cursor and the keys of the messages shown, as
        // `Client::resumption` carries them (the browser's store seeds the same).
        let next = device.client.resumption().expect("keys");
        let (history, seen) = (next.history, next.seen);
        device.close();

        // Now fully away (the phone too): the server keeps 60 more in offline storage and in the archive, and
        // delivers both at the next login: shown once each. (Prosody also moves what the phone had not
        // acknowledged to offline storage when it closes: c… again, which the carried keys recognise.)
        cast.phone.command(Command::Close);
        cast.phone.wait_closed();
        let sent = numbered("d", 1..=60);
        for b in &sent {
            cast.peer.command(Command::SendMessage { to: cast.me_jid.clone(), body: b.clone(), id: b.clone() });
        }
        until(&mut cast.peer, "all acknowledged", |ev| {
            ev.iter().any(|e| matches!(e, Event::MessageAcked { id } if id == "d60"))
        });
        let mut config = cast.device(history);
        config.seen = seen;
        let mut device = Conn::online(&server, config);
        until(&mut device, "caught up", caught_up);
        device.pump_until_quiet();
        let s = shown(&device.events, &cast.peer_jid);
        let mut all: Vec<String> = s.live.iter().chain(&s.archived).cloned().collect();
        all.sort_by_key(|b| b[1..].parse::<usize>().unwrap());
        assert_eq!(all, sent, "{name}: each once, live (offline storage) or archived ({} live)", s.live.len());
        device.close();
        cast.peer.close();
    }
}

#[test]
fn a_stale_cursor_falls_back_to_the_time_of_the_last_message_held() {
    for (server, script) in servers() {
        let name = server.name;
        let mut cast = cast(&server, script, "st");
        let before = unix_ms_now();
        let sent = numbered("s", 1..=30);
        cast.peer_writes(&sent);
        // An id no archive has (Prosody answers item-not-found; ejabberd reads its ids as times and starts
        // from the beginning): either way everything after the time held comes, once.
        let history =
            HistoryConfig { last_id: Some("stale-cursor".into()), last_time: Some(before), ..HistoryConfig::default() };
        let mut device = Conn::online(&server, cast.device(history));
        until(&mut device, "caught up", caught_up);
        let s = shown(&device.events, &cast.peer_jid);
        assert_eq!(s.archived, sent, "{name}");
        assert!(s.cursors.last().is_some(), "{name}: a cursor the archive knows replaces the stale one");
        device.close();
        cast.peer.close();
        cast.phone.close();
    }
}

#[test]
fn the_gap_past_the_catch_up_limit_is_filled_from_either_end() {
    for (server, script) in servers() {
        let name = server.name;
        let mut cast = cast(&server, script, "gp");
        let history = cast.cursor();
        let sent = numbered("g", 1..=60);
        cast.peer_writes(&sent);
        // Pages of 10, at most 20 messages: g1-g20, then the newest page g51-g60, and a gap between.
        let history = HistoryConfig { page_size: 10, catch_up_page_size: 10, catch_up_limit: 20, ..history };
        let mut device = Conn::online(&server, cast.device(history));
        until(&mut device, "caught up", caught_up);
        let s = shown(&device.events, &cast.peer_jid);
        assert_eq!(s.archived, [numbered("g", 1..=20), numbered("g", 51..=60)].concat(), "{name}");
        let [gap] = s.gaps.try_into().expect("one gap");
        assert_eq!(gap.with, None);
        device.events.clear();

        // Filled a page at a time: first from its newer end, then from its older end, until nothing is left.
        let mut filled = Vec::new();
        let mut newer = Vec::new();
        let mut rest = Some(gap);
        let mut from = GapEnd::Newer;
        while let Some(gap) = rest.take() {
            device.command(Command::FillGap { gap: gap.clone(), from });
            until(&mut device, "the page of the gap", |ev| ev.iter().any(|e| matches!(e, Event::GapFilled { .. })));
            let s = shown(&device.events, &cast.peer_jid);
            let Some(Event::GapFilled { gap: was, rest: left }) = device.events.pop() else { panic!("{name}") };
            device.events.clear();
            match from {
                GapEnd::Newer => newer.splice(0..0, s.archived),
                GapEnd::Older => filled.splice(filled.len().., s.archived),
            };
            assert_eq!(was, gap);
            rest = left;
            from = GapEnd::Older;
        }
        filled.extend(newer);
        assert_eq!(filled, numbered("g", 21..=50), "{name}: the gap's messages, each once");
        device.close();
        cast.peer.close();
        cast.phone.close();
    }
}

#[test]
fn scroll_back_reaches_the_first_message_of_a_history() {
    for (server, script) in servers() {
        let name = server.name;
        let mut cast = cast(&server, script, "sb");
        let sent = numbered("h", 1..=120);
        cast.peer_writes(&sent);
        // A new device: the newest page of the whole archive only (of 50 here; ejabberd would send all 120 in
        // one page of the default 250).
        let history = HistoryConfig { catch_up_page_size: 50, ..HistoryConfig::default() };
        let mut device = Conn::online(&server, cast.device(history));
        until(&mut device, "caught up", caught_up);
        let s = shown(&device.events, &cast.peer_jid);
        assert_eq!(s.archived, numbered("h", 71..=120), "{name}: the newest page");
        // Scroll back from the oldest message held (h71: the page's oldest), a page at a time.
        let mut oldest = device.events.iter().find_map(|e| match e {
            Event::ArchivePage(p) => p.oldest.clone(),
            _ => None,
        });
        device.events.clear();
        let mut loaded = s.archived;
        let mut pages = 0;
        loop {
            device.command(Command::LoadOlder { with: cast.peer_jid.clone(), before: oldest.clone() });
            let e = device.wait_for("a page", |e| matches!(e, Event::ArchivePage(_)));
            let Event::ArchivePage(page) = e else { unreachable!() };
            pages += 1;
            let older: Vec<String> = page.messages.iter().map(|m| m.message.body(None).unwrap().to_owned()).collect();
            loaded.splice(0..0, older);
            oldest = page.oldest.clone();
            if page.complete {
                break;
            }
            assert!(pages < 10, "{name}: runaway scroll-back");
        }
        assert!(pages >= 2, "{name}: 70 older messages in pages of at most 50");
        assert_eq!(loaded, sent, "{name}: down to the first message, each once, in order");
        device.close();
        cast.peer.close();
        cast.phone.close();
    }
}

/// Makes `a` (`ja`) and `b` (`jb`) contacts both ways (markers and receipts go only to contacts).
fn befriend(a: &mut Conn, ja: &BareJid, b: &mut Conn, jb: &BareJid) {
    a.command(Command::AddContact { jid: jb.clone(), name: None, groups: Vec::new() });
    b.wait_for("the request", |e| matches!(e, Event::SubscriptionRequest { from, .. } if from == ja));
    b.command(Command::ApproveSubscription { jid: ja.clone() });
    until(a, "approved, and asked back", |ev| {
        ev.iter().any(|e| matches!(e, Event::SubscriptionApproved { from } if from == jb))
            && ev.iter().any(|e| matches!(e, Event::SubscriptionRequest { from, .. } if from == jb))
    });
    a.command(Command::ApproveSubscription { jid: jb.clone() });
    b.wait_for(
        "both ways",
        |e| matches!(e, Event::RosterPush { item, .. } if item.jid == *ja && item.subscription == Subscription::Both),
    );
    a.events.clear();
    b.events.clear();
}

#[test]
fn receipts_and_markers_come_back_from_the_archive_after_their_messages() {
    for (server, script) in servers() {
        let name = server.name;
        let mut cast = cast(&server, script, "mk");
        let (me, peer) = (cast.me_jid.clone(), cast.peer_jid.clone());
        befriend(&mut cast.phone, &me, &mut cast.peer, &peer);
        // Ours from the phone, which the peer displays; theirs, which the phone displays.
        cast.phone.command(Command::SendMessage { to: peer.clone(), body: "ours".into(), id: "ours".into() });
        cast.peer.wait_for("ours", |e| matches!(e, Event::Message(m) if m.id.as_deref() == Some("ours")));
        cast.peer.command(Command::SendDisplayed { to: me.clone(), id: "ours".into() });
        cast.phone.wait_for("the peer's marker", |e| matches!(e, Event::Displayed { id, .. } if id == "ours"));
        cast.peer_writes(&["theirs".into()]);
        cast.phone.command(Command::SendDisplayed { to: peer.clone(), id: "theirs".into() });
        cast.peer.wait_for("the phone's marker", |e| matches!(e, Event::Displayed { id, .. } if id == "theirs"));

        // A new device: the archive's newest page, then the markers among it.
        let mut device = Conn::online(&server, cast.device(HistoryConfig::default()));
        until(&mut device, "caught up", caught_up);
        let events = &device.events;
        let page = events
            .iter()
            .position(|e| matches!(e, Event::ArchivePage(p) if p.messages.iter().any(|m| m.message.body(None) == Some("theirs"))))
            .unwrap_or_else(|| panic!("{name}: no page with the messages: {events:?}"));
        let after = &events[page + 1..];
        assert!(after.contains(&Event::Displayed { from: peer.clone(), id: "ours".into() }), "{name}: {after:?}");
        assert!(after.contains(&Event::ReadElsewhere { with: peer.clone(), id: "theirs".into() }), "{name}: {after:?}");
        device.close();
        cast.peer.close();
        cast.phone.close();
    }
}
