//! Group chat workloads: a room's frames as a server sends them, and a client that has just asked to join.
//!
//! - the join of a room of `n` occupants: `n` occupant presences (with XEP-0421 ids and real JIDs, as a
//!   non-anonymous room sends them), then ours with status 110;
//! - a burst of messages in a joined room (each with the room's stanza-id and an origin-id);
//! - occupants joining and leaving a joined room, spread over virtual time (the UI's batches follow time);
//! - the room's archive answering the catch-up that follows a join (pages of results, each with its fin).

use natter::xmpp::client::HistoryPoint;
use natter::xmpp::client::muc::RoomCommand;
use natter::xmpp::xml::Element;
use natter::xmpp::{Client, Command, Config};
use web_time::Instant;

use crate::corpus::BOUND;
use crate::session::{self, Sink};

pub const ROOM: &str = "lobby@conference.example.com";
const NICK: &str = "alice";

fn presence(nick: &str, i: usize, leave: bool) -> String {
    let kind = if leave { " type='unavailable'" } else { "" };
    let role = if leave { "none" } else { "participant" };
    format!(
        "<presence xmlns='jabber:client' from='{ROOM}/{nick}' to='{BOUND}'{kind}><x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='none' role='{role}' jid='user{i}@example.net/phone'/></x>\
         <occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-{i:08x}'/></presence>"
    )
}

/// The frames of joining a room of `n` occupants, ours (status 110) last.
pub fn join_frames(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n).map(|i| presence(&format!("person {i}"), i, false)).collect();
    v.push(format!(
        "<presence xmlns='jabber:client' from='{ROOM}/{NICK}' to='{BOUND}'><x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='member' role='participant'/><status code='110'/></x></presence>"
    ));
    v
}

/// `n` messages from a few dozen occupants, every tenth mentioning us.
pub fn message_frames(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let body = if i % 10 == 0 { format!("{NICK}: line {i} for you") } else { format!("line {i} &amp; more") };
            format!(
                "<message xmlns='jabber:client' from='{ROOM}/person {}' to='{BOUND}' type='groupchat' id='m{i}'>\
                 <body>{body}</body><origin-id xmlns='urn:xmpp:sid:0' id='o{i}'/>\
                 <stanza-id xmlns='urn:xmpp:sid:0' id='s{i}' by='{ROOM}'/>\
                 <occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-{:08x}'/></message>",
                i % 40,
                i % 40
            )
        })
        .collect()
}

/// `n` newcomers each joining and, `n` presences later in the list, leaving (so all `2n` interleave).
pub fn churn_frames(n: usize) -> Vec<String> {
    let mut v = Vec::with_capacity(2 * n);
    for i in 0..n {
        v.push(presence(&format!("guest {i}"), 100_000 + i, false));
        if i >= n / 2 {
            let j = i - n / 2;
            v.push(presence(&format!("guest {j}"), 100_000 + j, true));
        }
    }
    for j in n / 2..n {
        v.push(presence(&format!("guest {j}"), 100_000 + j, true));
    }
    v
}

/// A client online that has asked to join [`ROOM`] (its disco#info answered: the room has an archive and
/// occupant ids), the join presence sent; ready for [`join_frames`].
pub fn joining(config: Config, roster_result: &str, now: Instant) -> Client {
    joining_holding(config, roster_result, None, now)
}

/// [`joining`], holding `history` of the room's archive (its catch-up starts there once the join is confirmed).
pub fn joining_holding(config: Config, roster_result: &str, history: Option<HistoryPoint>, now: Instant) -> Client {
    let mut client = session::online(config, roster_result, now);
    let mut sink = Sink::default();
    sink.drain(&mut client);
    let room = natter::xmpp::jid::BareJid::parse(ROOM).unwrap();
    client
        .handle_command(Command::Room(RoomCommand::Join { room, nick: NICK.into(), password: None, history }), now)
        .unwrap();
    sink.drain(&mut client);
    let disco = Element::parse(sink.frames.last().unwrap()).unwrap();
    let id = disco.attr("id").unwrap();
    client.handle_frame(
        &format!(
            "<iq xmlns='jabber:client' type='result' id='{id}' from='{ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='conference' type='text' name='Lobby'/><feature var='http://jabber.org/protocol/muc'/>\
             <feature var='urn:xmpp:mam:2'/><feature var='urn:xmpp:occupant-id:0'/></query></iq>"
        ),
        now,
    );
    sink.drain(&mut client);
    client
}

/// A client in [`ROOM`] with `occupants` others.
pub fn joined(config: Config, roster_result: &str, occupants: usize, now: Instant) -> Client {
    let mut client = joining(config, roster_result, now);
    let mut sink = Sink::default();
    for f in join_frames(occupants) {
        client.handle_frame(&f, now);
        sink.drain(&mut client);
    }
    client
}

/// Feeds `frames` as the transport does, `step` of virtual time apart, firing the client's timer whenever
/// it is due (that is when batched occupant changes are reported).
pub fn feed_in_time(client: &mut Client, frames: &[String], start: Instant, step: std::time::Duration) -> Sink {
    let mut sink = Sink::default();
    let mut now = start;
    for f in frames {
        now += step;
        if client.poll_timeout().is_some_and(|t| t <= now) {
            client.handle_timeout(now);
        }
        client.handle_frame(f, now);
        sink.drain(client);
    }
    // The last batch, once its time has come.
    if let Some(t) = client.poll_timeout() {
        client.handle_timeout(t.max(now));
        sink.drain(client);
    }
    sink
}

/// One page of [`ROOM`]'s archive as a server sends it: results `first..first + n` (from a few dozen
/// occupants, with origin- and occupant ids) answering `queryid`, then the iq result `iq_id` (`complete` on
/// the last page).
pub fn archive_page(queryid: &str, iq_id: &str, first: usize, n: usize, complete: bool) -> Vec<String> {
    let mut v: Vec<String> = (first..first + n)
        .map(|i| {
            format!(
                "<message xmlns='jabber:client' from='{ROOM}' to='{BOUND}'><result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='r{i}'>\
                 <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-01T00:00:00.123456Z'/>\
                 <message xmlns='jabber:client' from='{ROOM}/person {}' type='groupchat' id='a{i}'>\
                 <body>archived line {i} &amp; more</body><origin-id xmlns='urn:xmpp:sid:0' id='a{i}'/>\
                 <occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-{:08x}'/></message></forwarded></result></message>",
                i % 40,
                i % 40
            )
        })
        .collect();
    v.push(format!(
        "<iq xmlns='jabber:client' type='result' id='{iq_id}' from='{ROOM}'><fin xmlns='urn:xmpp:mam:2' complete='{complete}'>\
         <set xmlns='http://jabber.org/protocol/rsm'><first>r{first}</first><last>r{}</last></set></fin></iq>",
        first + n - 1
    ));
    v
}

/// Feeds `frames` (a join ending with ours), then answers the room's catch-up that follows as its archive
/// does: `total` messages in pages of `page`, each query answered as it comes. Returns what the client made.
pub fn join_and_catch_up(client: &mut Client, frames: &[String], total: usize, page: usize, now: Instant) -> Sink {
    let mut sink = Sink::default();
    for f in frames {
        client.handle_frame(f, now);
        sink.drain(client);
    }
    let mut sent = 0;
    while sent < total {
        let query = sink.frames.iter().rev().find(|f| f.contains("urn:xmpp:mam:2")).expect("the room's archive asked");
        let el = Element::parse(query).unwrap();
        let iq_id = el.attr("id").unwrap().to_owned();
        let queryid = el.get_child("urn:xmpp:mam:2", "query").unwrap().attr("queryid").unwrap().to_owned();
        let n = page.min(total - sent);
        sink.frames.clear();
        for f in archive_page(&queryid, &iq_id, sent, n, sent + n == total) {
            client.handle_frame(&f, now);
            sink.drain(client);
        }
        sent += n;
    }
    sink
}
