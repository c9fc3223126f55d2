#![cfg(not(target_arch = "wasm32"))]
//! Group chat against the four real servers (Prosody 0.12 and 13, ejabberd 23.01 and 24.12) over a native
//! WebSocket on loopback: the demo room both ways with a mention, a taken nick, a kick seen by the kicked,
//! creating, configuring and destroying a room, bookmarks seen by a second client of the account, a direct
//! invitation, browsing the service, self-pings, and rejoining after the server restarts.
//!
//! Apart from `tests/servers.rs` because one test restarts the servers (`scripts/*.sh reboot`, which keeps
//! their data): the tests here hold a lock, shared by all but that one, and test binaries run one at a time,
//! so no other test's connection is cut. Rooms are fresh per test (or nicks unique in the demo room), so
//! tests running at once do not meet.

mod support {
    pub mod native_ws;
}

use std::process::Command as Process;
use std::sync::RwLock;
use std::time::Duration;

use natter::xmpp::client::bookmarks::BookmarkEvent;
use natter::xmpp::client::muc::{self, Departure, JoinError, OccupantChange, RoomAction, RoomCommand, RoomEvent};
use natter::xmpp::client::{ArchivePage, ArchiveQuery};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::bookmarks::Bookmark;
use natter::xmpp::stanza::muc::{Role, RoomSettings};
use natter::xmpp::{Command, Config, Event};
use support::native_ws::{Conn, fresh_account, servers};

/// Held shared by every test but the one that restarts the servers (which holds it alone).
static SERVERS_UP: RwLock<()> = RwLock::new(());

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000_000;
    format!("{prefix}{n}")
}

fn muc_service(prefix: &str) -> String {
    std::env::var(format!("{prefix}_MUC")).unwrap_or_else(|_| "conference.localhost".into())
}

fn fresh_room(prefix: &str) -> BareJid {
    BareJid::parse(&format!("{}@{}", unique("t"), muc_service(prefix))).unwrap()
}

/// The next room event about `room` matching `pred`.
fn room_event(c: &mut Conn, room: &BareJid, what: &str, pred: impl Fn(&RoomEvent) -> bool) -> RoomEvent {
    let e = c.wait_for(what, |e| match e {
        Event::Room(r @ RoomEvent::JoinFailed { room: r_room, .. }) if r_room == room && !pred(r) => {
            panic!("join of {room} failed while waiting for {what}: {r:?}")
        }
        Event::Room(r) => room_of(r) == Some(room) && pred(r),
        _ => false,
    });
    let Event::Room(r) = e else { unreachable!() };
    r
}

fn room_of(e: &RoomEvent) -> Option<&BareJid> {
    match e {
        RoomEvent::Joining { room, .. }
        | RoomEvent::Joined { room, .. }
        | RoomEvent::JoinFailed { room, .. }
        | RoomEvent::Occupants { room, .. }
        | RoomEvent::Me { room, .. }
        | RoomEvent::NickChanged { room, .. }
        | RoomEvent::NickChangeFailed { room, .. }
        | RoomEvent::Subject { room, .. }
        | RoomEvent::Reflected { room, .. }
        | RoomEvent::PrivateMessage { room, .. }
        | RoomEvent::Left { room, .. }
        | RoomEvent::ConfigForm { room, .. }
        | RoomEvent::Done { room, .. }
        | RoomEvent::RequestFailed { room, .. }
        | RoomEvent::Info { room, .. }
        | RoomEvent::HistoryCursor { room, .. }
        | RoomEvent::CaughtUp { room }
        | RoomEvent::Rooms { service: room, .. } => Some(room),
        RoomEvent::Message(m) => Some(&m.room),
        RoomEvent::Invited(i) => Some(&i.room),
        RoomEvent::ListFailed { .. } => None,
    }
}

fn join(c: &mut Conn, room: &BareJid, nick: &str) -> RoomEvent {
    c.command(Command::Room(RoomCommand::Join {
        room: room.clone(),
        nick: nick.into(),
        password: None,
        history: None,
    }));
    room_event(c, room, "joined", |e| matches!(e, RoomEvent::Joined { .. }))
}

/// Creates `room` (instant without settings) and waits until it is configured.
fn create(c: &mut Conn, room: &BareJid, nick: &str, settings: Option<RoomSettings>) {
    c.command(Command::Room(RoomCommand::Create { room: room.clone(), nick: nick.into(), settings }));
    let joined = room_event(c, room, "created", |e| matches!(e, RoomEvent::Joined { .. }));
    assert!(matches!(joined, RoomEvent::Joined { created: true, .. }), "{joined:?}");
    room_event(c, room, "configured", |e| matches!(e, RoomEvent::Done { action: RoomAction::Create, .. }));
}

fn say(c: &mut Conn, room: &BareJid, id: &str, body: &str) -> Option<String> {
    c.command(Command::Room(RoomCommand::Send { room: room.clone(), body: body.into(), id: id.into() }));
    let r = room_event(c, room, "reflected", |e| matches!(e, RoomEvent::Reflected { id: i, .. } if i == id));
    let RoomEvent::Reflected { stanza_id, .. } = r else { unreachable!() };
    stanza_id
}

fn heard(c: &mut Conn, room: &BareJid, body: &str) -> muc::RoomMessage {
    let e = room_event(c, room, body, |e| matches!(e, RoomEvent::Message(m) if m.message.body(None) == Some(body)));
    let RoomEvent::Message(m) = e else { unreachable!() };
    m
}

#[test]
fn the_demo_room_both_ways_with_a_mention() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let name = server.name;
        let room = BareJid::parse(&std::env::var(format!("{prefix}_ROOM")).unwrap()).unwrap();
        let (a_nick, b_nick) = (unique("alice"), unique("bob"));
        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        join(&mut bob, &room, &b_nick);
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        let RoomEvent::Joined { me, occupants, info, .. } = join(&mut alice, &room, &a_nick) else { unreachable!() };
        assert_eq!(me.nick, a_nick, "{name}");
        assert!(occupants.iter().any(|o| o.nick == b_nick), "{name}: bob is listed");
        let info = info.expect("the room's disco#info");
        assert!(info.mam && info.persistent, "{name}: {info:?}");
        assert_eq!(info.occupant_ids, name != "ejabberd", "{name}: XEP-0421 where the server has it");
        let joined = room_event(
            &mut bob,
            &room,
            "alice's arrival",
            |e| matches!(e, RoomEvent::Occupants { changes, .. } if changes.iter().any(|c| matches!(c, OccupantChange::Joined { occupant, .. } if occupant.nick == a_nick))),
        );
        assert!(matches!(joined, RoomEvent::Occupants { .. }));

        let hello = format!("hello {b_nick}, how are you?");
        let stanza_id = say(&mut alice, &room, "hello-1", &hello);
        assert!(stanza_id.is_some(), "{name}: the room's archive id of our message");
        let m = heard(&mut bob, &room, &hello);
        assert_eq!(m.nick.as_deref(), Some(a_nick.as_str()), "{name}");
        assert!(m.mentions_me && !m.own, "{name}: a mention of bob");
        assert_eq!(m.message.stanza_id, stanza_id, "{name}: the same archive id for everyone");
        assert_eq!(m.occupant_id.is_some(), name != "ejabberd", "{name}: occupant id");

        say(&mut bob, &room, "reply-1", "fine, thanks");
        let m = heard(&mut alice, &room, "fine, thanks");
        assert!(!m.mentions_me && m.nick.as_deref() == Some(b_nick.as_str()), "{name}");

        alice.command(Command::Room(RoomCommand::Leave { room: room.clone(), status: None }));
        let left = room_event(
            &mut bob,
            &room,
            "alice leaves",
            |e| matches!(e, RoomEvent::Occupants { changes, .. } if changes.iter().any(|c| matches!(c, OccupantChange::Left { occupant, why: Departure::Left { .. } } if occupant.nick == a_nick))),
        );
        assert!(matches!(left, RoomEvent::Occupants { .. }));
        alice.close();
        bob.close();
    }
}

#[test]
fn a_taken_nick_is_refused_in_words_and_the_suggested_one_works() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let room = fresh_room(prefix);
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        create(&mut alice, &room, "witch", None);
        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        bob.command(Command::Room(RoomCommand::Join {
            room: room.clone(),
            nick: "witch".into(),
            password: None,
            history: None,
        }));
        let failed = room_event(&mut bob, &room, "conflict", |e| matches!(e, RoomEvent::JoinFailed { .. }));
        assert!(
            matches!(failed, RoomEvent::JoinFailed { error: JoinError::NickInUse, .. }),
            "{}: {failed:?}",
            server.name
        );
        let RoomEvent::Joined { me, .. } = join(&mut bob, &room, &muc::suggest_nick("witch", 1)) else {
            unreachable!()
        };
        assert_eq!(me.nick, "witch2");
        alice.close();
        bob.close();
    }
}

#[test]
fn the_kicked_person_is_told_who_and_why() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let name = server.name;
        let room = fresh_room(prefix);
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        create(&mut alice, &room, "owner", None);
        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        join(&mut bob, &room, "pistol");
        let reason = Some("Avaunt, you cullion!".to_owned());
        alice.command(Command::Room(RoomCommand::SetRole {
            room: room.clone(),
            nick: "pistol".into(),
            role: Role::None,
            reason,
        }));
        room_event(&mut alice, &room, "kick done", |e| {
            matches!(e, RoomEvent::Done { action: RoomAction::SetRole { .. }, .. })
        });
        let left = room_event(&mut bob, &room, "kicked", |e| matches!(e, RoomEvent::Left { .. }));
        let RoomEvent::Left { why, .. } = left else { unreachable!() };
        assert!(
            matches!(&why, Departure::Kicked { reason: Some(r), .. } if r == "Avaunt, you cullion!"),
            "{name}: {why:?}"
        );
        let words = why.describe("pistol", true);
        assert!(words.starts_with("You were kicked") && words.ends_with(": Avaunt, you cullion!"), "{name}: {words}");
        bob.close();
        alice.close();
    }
}

#[test]
fn a_room_is_created_configured_queried_and_destroyed() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let name = server.name;
        let room = fresh_room(prefix);
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        let settings = RoomSettings {
            name: Some("A Dark Cave".into()),
            description: Some("The place for all good witches!".into()),
            members_only: true,
            persistent: true,
        };
        create(&mut alice, &room, "owner", Some(settings));
        alice.command(Command::Room(RoomCommand::QueryInfo { room: room.clone() }));
        let RoomEvent::Info { info, .. } =
            room_event(&mut alice, &room, "info", |e| matches!(e, RoomEvent::Info { info, .. } if info.name.is_some()))
        else {
            unreachable!()
        };
        assert_eq!(info.name.as_deref(), Some("A Dark Cave"), "{name}");
        assert!(info.members_only && info.persistent, "{name}: {info:?}");
        if name != "ejabberd" {
            assert_eq!(info.description.as_deref(), Some("The place for all good witches!"), "{name}");
        }

        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        bob.command(Command::Room(RoomCommand::Join {
            room: room.clone(),
            nick: "bob".into(),
            password: None,
            history: None,
        }));
        let failed = room_event(&mut bob, &room, "refused", |e| matches!(e, RoomEvent::JoinFailed { .. }));
        assert!(matches!(failed, RoomEvent::JoinFailed { error: JoinError::MembersOnly, .. }), "{name}: {failed:?}");

        alice.command(Command::Room(RoomCommand::FetchConfig { room: room.clone() }));
        let RoomEvent::ConfigForm { mut form, .. } =
            room_event(&mut alice, &room, "form", |e| matches!(e, RoomEvent::ConfigForm { .. }))
        else {
            unreachable!()
        };
        assert_eq!(form.value("muc#roomconfig_roomname"), Some("A Dark Cave"), "{name}");
        form.set("muc#roomconfig_roomname", vec!["A Darker Cave".into()]);
        alice.command(Command::Room(RoomCommand::SubmitConfig { room: room.clone(), form }));
        room_event(&mut alice, &room, "configured", |e| {
            matches!(e, RoomEvent::Done { action: RoomAction::Configure, .. })
        });

        let lobby = BareJid::parse(&std::env::var(format!("{prefix}_ROOM")).unwrap()).unwrap();
        alice.command(Command::Room(RoomCommand::Destroy {
            room: room.clone(),
            reason: Some("Macbeth doth come.".into()),
            alternate: Some(lobby.clone()),
        }));
        let left = room_event(&mut alice, &room, "destroyed", |e| matches!(e, RoomEvent::Left { .. }));
        let RoomEvent::Left { why: Departure::Destroyed { reason, alternate }, .. } = left else {
            panic!("{name}: {left:?}")
        };
        assert_eq!((reason.as_deref(), alternate.as_ref()), (Some("Macbeth doth come."), Some(&lobby)), "{name}");
        bob.close();
        alice.close();
    }
}

#[test]
fn bookmarks_added_and_removed_are_seen_by_a_second_client() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, script) in servers() {
        let name = server.name;
        let (user, password) = fresh_account(script, "bm");
        let with_bookmarks = || {
            let mut c: Config = server.config(&user, &password);
            c.bookmarks = true;
            c
        };
        let mut laptop = Conn::online(&server, with_bookmarks());
        laptop.wait_for("bookmarks", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Loaded(b)) if b.is_empty()));
        let mut phone = Conn::online(&server, with_bookmarks());
        phone.wait_for("bookmarks", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Loaded(_))));
        phone.pump_until_quiet();
        // The server asks the phone what its caps stand for before it sends notifications; let it.
        let until = std::time::Instant::now() + Duration::from_millis(500);
        while std::time::Instant::now() < until {
            phone.step();
        }

        // Two bookmarks (ejabberd 23.01's PEP nodes keep one item unless configured: the second must not
        // drop the first).
        let kept = Bookmark { name: Some("A Lonely Heath".into()), ..Bookmark::new(fresh_room(prefix)) };
        let room = fresh_room(prefix);
        let mut b = Bookmark::new(room.clone());
        b.name = Some("The Orchard".into());
        b.nick = Some("JC".into());
        for x in [&kept, &b] {
            laptop.command(Command::SetBookmark(x.clone()));
            laptop.wait_for("published", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Changed(y)) if y == x));
            let got = phone
                .wait_for("notified", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Changed(y)) if y.room == x.room));
            assert_eq!(got, Event::Bookmarks(BookmarkEvent::Changed(x.clone())), "{name}");
        }

        laptop.command(Command::RemoveBookmark { room: room.clone() });
        laptop.wait_for("retracted", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Removed(r)) if r == &room));
        // ejabberd 23.01 sends no retraction notifications (seen with `pubsub#notify_retract` set on the node
        // and `notify='true'` on the retract); 24.12 and Prosody do. The next login there has it right.
        if name != "ejabberd" {
            phone.wait_for(
                "retraction notified",
                |e| matches!(e, Event::Bookmarks(BookmarkEvent::Removed(r)) if r == &room),
            );
        }

        // And the next login has exactly the other one.
        let mut again = Conn::online(&server, with_bookmarks());
        let loaded = again.wait_for("bookmarks", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Loaded(_))));
        assert_eq!(loaded, Event::Bookmarks(BookmarkEvent::Loaded(vec![kept])), "{name}");
        again.close();
        phone.close();
        laptop.close();
    }
}

#[test]
fn the_demo_accounts_autojoin_the_demo_room_from_their_bookmark() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let lobby = BareJid::parse(&std::env::var(format!("{prefix}_ROOM")).unwrap()).unwrap();
        let mut config = server.config("carol", "carol-demo-pw");
        config.bookmarks = true;
        let mut carol = Conn::online(&server, config);
        let loaded = carol.wait_for("bookmarks", |e| matches!(e, Event::Bookmarks(BookmarkEvent::Loaded(_))));
        let Event::Bookmarks(BookmarkEvent::Loaded(list)) = loaded else { unreachable!() };
        assert!(list.iter().any(|b| b.room == lobby && b.autojoin), "{}: {list:?}", server.name);
        let joined = room_event(&mut carol, &lobby, "autojoined", |e| matches!(e, RoomEvent::Joined { .. }));
        let RoomEvent::Joined { me, .. } = joined else { unreachable!() };
        assert_eq!(me.affiliation, natter::xmpp::stanza::muc::Affiliation::Member, "{}", server.name);
        carol.close();
    }
}

#[test]
fn a_direct_invitation_reaches_the_contact() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let room = fresh_room(prefix);
        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        bob.pump_until_quiet();
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        create(&mut alice, &room, "alice", None);
        alice.command(Command::Room(RoomCommand::Invite {
            room: room.clone(),
            to: server.jid("bob"),
            reason: Some("tea?".into()),
            password: None,
        }));
        let RoomEvent::Invited(invite) = room_event(&mut bob, &room, "invited", |e| matches!(e, RoomEvent::Invited(_)))
        else {
            unreachable!()
        };
        assert_eq!(
            (invite.from, invite.reason.as_deref(), invite.mediated),
            (server.jid("alice"), Some("tea?"), false)
        );
        join(&mut bob, &room, "bob");
        alice.close();
        bob.close();
    }
}

#[test]
fn the_service_is_found_and_its_rooms_listed() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let lobby = BareJid::parse(&std::env::var(format!("{prefix}_ROOM")).unwrap()).unwrap();
        let mut alice = Conn::online(&server, server.config("alice", "alice-demo-pw"));
        let mut after = None;
        let mut seen = 0;
        for _page in 0..50 {
            alice.command(Command::Room(RoomCommand::ListRooms { service: None, after: after.clone() }));
            let e = alice.wait_for("rooms", |e| {
                matches!(e, Event::Room(RoomEvent::Rooms { .. } | RoomEvent::ListFailed { .. }))
            });
            let Event::Room(RoomEvent::Rooms { service, rooms, next, .. }) = e else {
                panic!("{}: {e:?}", server.name)
            };
            assert_eq!(service.to_string(), muc_service(prefix));
            assert!(rooms.len() <= muc::MAX_LISTED);
            seen += rooms.len();
            if rooms.iter().any(|r| r.jid == lobby) {
                break;
            }
            after = next;
            assert!(after.is_some(), "{}: the lobby is not among the {seen} rooms listed", server.name);
        }
        alice.close();
    }
}

/// Turns `c`'s loop until the room's catch-up from its archive is over; returns the events up to then.
fn room_caught_up(c: &mut Conn, room: &BareJid) -> Vec<Event> {
    let deadline = std::time::Instant::now() + support::native_ws::PATIENCE;
    let done = |e: &Event| match e {
        Event::Room(RoomEvent::CaughtUp { room: r }) => r == room,
        Event::ArchiveFailed { query: ArchiveQuery::RoomCatchUp { room: r }, error } if r == room => {
            panic!("{room}: the catch-up failed: {error:?}")
        }
        _ => false,
    };
    loop {
        if let Some(i) = c.events.iter().position(done) {
            return c.events.drain(..=i).collect();
        }
        assert!(std::time::Instant::now() < deadline, "{room} not caught up; events: {:?}", c.events);
        c.step();
    }
}

fn room_pages(events: &[Event], room: &BareJid) -> Vec<ArchivePage> {
    let pages = events.iter().filter_map(|e| if let Event::ArchivePage(p) = e { Some(p) } else { None });
    pages.filter(|p| &p.archive == room).cloned().collect()
}

fn page_bodies(pages: &[ArchivePage]) -> Vec<String> {
    pages.iter().flat_map(|p| p.messages.iter().map(|m| m.message.body(None).unwrap().to_owned())).collect()
}

#[test]
fn messages_sent_before_we_join_come_from_the_rooms_archive_and_scroll_back_reaches_the_first() {
    let _shared = SERVERS_UP.read();
    const SAID: usize = 60;
    for (server, prefix, _) in servers() {
        let name = server.name;
        let room = fresh_room(prefix);
        let mut bob = Conn::online(&server, server.config("bob", "bob-demo-pw"));
        create(&mut bob, &room, "bob", None);
        let said: Vec<String> = (1..=SAID).map(|n| format!("said {n} before alice came")).collect();
        for (n, body) in said.iter().enumerate() {
            say(&mut bob, &room, &format!("before-{n}"), body);
        }
        let history_config = || {
            let mut config = server.config("alice", "alice-demo-pw");
            config.history.catch_up = true;
            config.history.page_size = 20;
            config
        };
        let mut alice = Conn::online(&server, history_config());
        let RoomEvent::Joined { info, .. } = join(&mut alice, &room, "alice") else { unreachable!() };
        assert!(info.is_some_and(|i| i.mam), "{name}: a fresh room is archived");
        let events = room_caught_up(&mut alice, &room);
        let pages = room_pages(&events, &room);
        let [first] = &pages[..] else { panic!("{name}: the newest page only: {pages:?}") };
        assert_eq!(first.query, ArchiveQuery::RoomCatchUp { room: room.clone() }, "{name}");
        let mut shown = page_bodies(&pages);
        assert!(!shown.is_empty() && said.ends_with(&shown), "{name}: the newest of what bob said: {shown:?}");
        for m in &first.messages {
            assert_eq!((&m.with, m.outgoing), (&room, false), "{name}");
            assert_eq!(m.message.from.as_ref().and_then(|f| f.resource()), Some("bob"), "{name}");
            assert!(m.unix_ms.is_some(), "{name}: stamped");
        }
        let cursor = events.iter().rev().find_map(|e| match e {
            Event::Room(RoomEvent::HistoryCursor { room: r, point }) if *r == room => Some(point.clone()),
            _ => None,
        });
        assert_eq!(cursor.as_ref().and_then(|p| p.id.clone()), first.newest.as_ref().and_then(|p| p.id.clone()));

        // Scroll back, a page at a time, to bob's first message.
        let mut before = first.oldest.clone();
        let mut complete = first.complete;
        while !complete {
            alice.command(Command::LoadOlder { with: room.clone(), before: before.clone() });
            let e = alice.wait_for("an older page", |e| matches!(e, Event::ArchivePage(p) if p.archive == room));
            let Event::ArchivePage(page) = e else { unreachable!() };
            assert_eq!(page.query, ArchiveQuery::Older { with: room.clone() }, "{name}");
            shown.splice(0..0, page_bodies(std::slice::from_ref(&page)));
            before = page.oldest.clone();
            complete = page.complete;
        }
        assert_eq!(shown, said, "{name}: every message once, in order, down to the first");

        // Alice leaves; bob says more; alice comes back holding the cursor: only what she missed comes.
        alice.command(Command::Room(RoomCommand::Leave { room: room.clone(), status: None }));
        room_event(
            &mut bob,
            &room,
            "alice leaves",
            |e| matches!(e, RoomEvent::Occupants { changes, .. } if changes.iter().any(|c| matches!(c, OccupantChange::Left { occupant, .. } if occupant.nick == "alice"))),
        );
        let missed: Vec<String> = (1..=3).map(|n| format!("said {n} while alice was away")).collect();
        for (n, body) in missed.iter().enumerate() {
            say(&mut bob, &room, &format!("away-{n}"), body);
        }
        alice.command(Command::Room(RoomCommand::Join {
            room: room.clone(),
            nick: "alice".into(),
            password: None,
            history: cursor.clone(),
        }));
        alice.wait_for("joined again", |e| matches!(e, Event::Room(RoomEvent::Joined { room: r, .. }) if *r == room));
        let events = room_caught_up(&mut alice, &room);
        assert_eq!(page_bodies(&room_pages(&events, &room)), missed, "{name}: after the point held");
        let cursor = events.iter().rev().find_map(|e| match e {
            Event::Room(RoomEvent::HistoryCursor { room: r, point }) if *r == room => Some(point.clone()),
            _ => None,
        });
        assert!(cursor.is_some(), "{name}: the point to store");
        // Our own message, reflected live; another device of ours, holding the point before it, gets it from
        // the archive as ours.
        say(&mut alice, &room, "mine-1", "alice's own words");
        alice.close();
        let mut again = Conn::online(&server, history_config());
        again.command(Command::Room(RoomCommand::Join {
            room: room.clone(),
            nick: "alice".into(),
            password: None,
            history: cursor,
        }));
        let events = room_caught_up(&mut again, &room);
        let pages = room_pages(&events, &room);
        let mine: Vec<(String, bool)> = pages
            .iter()
            .flat_map(|p| p.messages.iter().map(|m| (m.message.body(None).unwrap().to_owned(), m.outgoing)))
            .collect();
        assert_eq!(mine, [("alice's own words".to_owned(), true)], "{name}");
        again.close();
        bob.close();
    }
}

#[test]
fn a_self_ping_after_silence_finds_us_still_in() {
    let _shared = SERVERS_UP.read();
    for (server, prefix, _) in servers() {
        let name = server.name;
        let room = fresh_room(prefix);
        let mut config = server.config("alice", "alice-demo-pw");
        config.room_silence = Duration::from_secs(1);
        let mut alice = Conn::online(&server, config);
        create(&mut alice, &room, "pinger", None);
        let occupant = format!("{room}/pinger");
        let pinged = |c: &Conn| c.sent.iter().any(|f| f.contains("urn:xmpp:ping") && f.contains(&occupant));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !pinged(&alice) {
            assert!(std::time::Instant::now() < deadline, "{name}: no self-ping");
            alice.step();
        }
        // Prosody answers itself; ejabberd forwards the ping to us, the core answers, the room relays that.
        let sent_before = alice.sent.len();
        alice.pump_until_quiet();
        let rejoined = alice.sent[sent_before..].iter().any(|f| f.starts_with("<presence") && f.contains(&occupant));
        assert!(!rejoined, "{name}: still in, no rejoin");
        assert!(
            !alice.events.iter().any(|e| matches!(e, Event::Room(RoomEvent::Joining { .. } | RoomEvent::Left { .. }))),
            "{name}"
        );
        say(&mut alice, &room, "after-ping", "still here");
        alice.close();
    }
}

#[test]
fn rooms_are_joined_again_after_the_server_restarts() {
    let _alone = SERVERS_UP.write();
    for (server, prefix, script) in servers() {
        let name = server.name;
        let (user, password) = fresh_account(script, "rj");
        let room = fresh_room(prefix);
        let mut before = Conn::online(&server, server.config(&user, &password));
        let persistent = RoomSettings { persistent: true, ..RoomSettings::default() };
        create(&mut before, &room, "survivor", Some(persistent));
        let first = say(&mut before, &room, "before-restart", "before the restart");

        let status = Process::new(format!("{}/{script}", env!("CARGO_MANIFEST_DIR"))).arg("reboot").status().unwrap();
        assert!(status.success(), "{script} reboot");
        before.wait_closed();
        // The rooms are taken once the connection is lost, as the web transport does. Prosody 0.12 may remove
        // us while shutting down (333, "Kicked: recipient unavailable"): that must not drop the room.
        let removed = before.events.iter().any(|e| matches!(e, Event::Room(RoomEvent::Left { .. })));
        assert!(!removed, "{name}: no Left: {:?}", before.events.iter().rev().take(5).collect::<Vec<_>>());
        let rooms = before.client.resumption().expect("SCRAM keys").rooms;
        assert_eq!(rooms.len(), 1, "{name}: the room is kept to join again");
        assert_eq!(rooms[0].last_stanza_id, first, "{name}: the history point is the newest message seen");

        // The plain-storage host draws a new salt at each login (the keys would be refused): a new login with
        // the password, handed the rooms the lost session was in, as the transport does with its keys.
        let mut config = server.config(&user, &password);
        config.rooms = rooms;
        let mut after = Conn::open(&server, config);
        room_event(&mut after, &room, "joining again", |e| matches!(e, RoomEvent::Joining { .. }));
        let joined = room_event(&mut after, &room, "joined again", |e| matches!(e, RoomEvent::Joined { .. }));
        assert!(
            matches!(joined, RoomEvent::Joined { created: false, .. }),
            "{name}: the persistent room survived: {joined:?}"
        );
        say(&mut after, &room, "after-restart", "after the restart");
        after.close();
    }
}
