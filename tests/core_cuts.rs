#![cfg(not(target_arch = "wasm32"))]
//! The promise of issue 12 in virtual time: a scripted exchange in which the server drops the connection
//! between ANY two frames (every cut point, one per run), after which the client resumes — or, when the server
//! forgot the session, fails to resume, binds afresh and resends. Every message in both directions is shown
//! exactly once and in order, and every own message ends acknowledged.

mod support {
    pub mod fake;
    pub mod sm_server;
}

use std::collections::{HashSet, VecDeque};

use natter::xmpp::client::WallClock;
use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::{Credentials, ScramKeys};
use natter::xmpp::{Client, Command, Config, Event};
use support::fake::rfc7677_config;
use support::sm_server::{OnCut, Server};
use web_time::Instant;

#[derive(Clone, Copy)]
enum Step {
    /// We send message number n.
    Send(u32),
    /// Bob sends message number n.
    Bob(u32),
}

const SCRIPT: &[Step] = &[
    Step::Send(1),
    Step::Bob(1),
    Step::Send(2),
    Step::Send(3),
    Step::Bob(2),
    Step::Bob(3),
    Step::Send(4),
    Step::Bob(4),
    Step::Send(5),
];

struct Run {
    client: Client,
    server: Server,
    to_server: VecDeque<String>,
    frames: usize,
    cut_at: Option<usize>,
    /// The connection is down; the next idle point reconnects (after Bob spoke, if it is his turn).
    down: bool,
    events: Vec<Event>,
    now: Instant,
    first_config: Config,
}

impl Run {
    /// `keys`: log in with derived keys (as after a first login) to skip PBKDF2 in each of the many runs.
    fn new(on_cut: OnCut, cut_at: Option<usize>, keys: Option<ScramKeys>) -> Run {
        let now = Instant::now();
        let mut config = rfc7677_config();
        if let Some(keys) = keys {
            config.credentials = Credentials::Keys(keys);
        }
        config.clock = Some(WallClock { at: now, unix_ms: 1_700_000_000_000 });
        Run {
            client: Client::new(config.clone(), now),
            server: Server::new(on_cut),
            to_server: VecDeque::new(),
            frames: 0,
            cut_at,
            down: false,
            events: Vec::new(),
            now,
            first_config: config,
        }
    }

    fn drain_client(&mut self) {
        while let Some(f) = self.client.poll_transmit() {
            if !self.down {
                self.to_server.push_back(f);
            }
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    /// Delivers frames one at a time, alternating, until nothing moves; the cut point drops the frame in
    /// flight and everything queued behind it.
    fn pump(&mut self) {
        loop {
            self.drain_client();
            if self.down {
                return;
            }
            let (frame, to_server) = match (self.to_server.pop_front(), self.server.to_client.is_empty()) {
                (Some(f), _) => (f, true),
                (None, false) => (self.server.to_client.pop_front().unwrap(), false),
                (None, true) => return,
            };
            self.frames += 1;
            if self.cut_at == Some(self.frames) {
                self.cut();
                return;
            }
            if to_server {
                self.server.handle(&frame);
            } else {
                self.client.handle_frame(&frame, self.now);
            }
            assert!(!self.client.is_closed(), "the session ended: {:?}", self.events.last());
        }
    }

    fn cut(&mut self) {
        self.down = true;
        self.to_server.clear();
        self.server.to_client.clear();
        self.server.cut();
        self.client.handle_transport_closed();
        self.drain_client();
    }

    fn reconnect(&mut self) {
        // As the transport does: the lost session's resumption config, or (not logged in yet) a fresh login.
        let mut config = self.client.resumption().unwrap_or_else(|| self.first_config.clone());
        self.now += std::time::Duration::from_secs(2);
        config.clock = Some(WallClock { at: self.now, unix_ms: 1_700_000_002_000 });
        self.down = false;
        self.client = Client::new(config, self.now);
    }

    fn run(mut self) -> Run {
        let mut script = SCRIPT.iter().copied().peekable();
        loop {
            self.pump();
            if self.down {
                if let Some(Step::Bob(n)) = script.peek().copied() {
                    script.next();
                    self.server.bob_says(n, &format!("b{n}"));
                    continue;
                }
                self.reconnect();
                continue;
            }
            assert!(self.client.is_online(), "idle but not online: {:?}", self.events);
            match script.next() {
                Some(Step::Send(n)) => {
                    let to = BareJid::parse("bob@example.com").unwrap();
                    let command = Command::SendMessage { to, body: format!("a{n}"), id: format!("a{n}") };
                    self.client.handle_command(command, self.now).expect("online: accepted");
                }
                Some(Step::Bob(n)) => self.server.bob_says(n, &format!("b{n}")),
                None => return self,
            }
        }
    }
}

fn expected(prefix: &str) -> Vec<String> {
    let n = SCRIPT.iter().filter(|s| matches!((s, prefix), (Step::Send(_), "a") | (Step::Bob(_), "b"))).count();
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

fn check(run: &Run, what: &str) {
    // Incoming: shown exactly once, in order.
    let shown: Vec<String> = run
        .events
        .iter()
        .filter_map(|e| if let Event::Message(m) = e { m.body(None).map(str::to_owned) } else { None })
        .collect();
    assert_eq!(shown, expected("b"), "{what}: messages shown");

    // Outgoing: bob's client (de-duplicating by origin-id, as ours does) shows each once, in order.
    let mut seen = HashSet::new();
    let mut at_bob = Vec::new();
    for m in &run.server.bob_inbox {
        let origin = m.get_child("urn:xmpp:sid:0", "origin-id").and_then(|o| o.attr("id")).expect("origin-id");
        assert_eq!(Some(origin), m.attr("id"), "{what}: origin-id is the stanza id");
        if seen.insert(origin.to_owned()) {
            at_bob.push(m.get_child("jabber:client", "body").unwrap().text());
        } else {
            assert!(m.get_child("urn:xmpp:delay", "delay").is_some(), "{what}: a resent copy carries a delay stamp");
        }
    }
    assert_eq!(at_bob, expected("a"), "{what}: messages at bob");

    // Own messages' final states: each reported sent once and acknowledged once; nothing left pending.
    for id in expected("a") {
        let sent =
            run.events.iter().filter(|e| matches!(e, Event::MessageSent(m) if m.id.as_deref() == Some(&id))).count();
        let acked = run.events.iter().filter(|e| matches!(e, Event::MessageAcked { id: a } if *a == id)).count();
        assert_eq!((sent, acked), (1, 1), "{what}: {id} sent/acked");
    }
    assert!(!run.events.iter().any(|e| matches!(e, Event::MessageError { .. })), "{what}");
    assert!(run.client.pending_messages().is_empty(), "{what}");
}

fn every_cut(on_cut: OnCut) {
    let clean = Run::new(on_cut, None, None).run();
    check(&clean, "no cut");
    assert!(clean.frames > 40, "a real exchange: {} frames", clean.frames);
    // The keys the login derived, as the transport gets them for the next connection.
    let keys = clean.client.resumption().and_then(|c| match &c.credentials {
        natter::xmpp::sasl::Credentials::Keys(k) => Some(k.clone()),
        _ => None,
    });
    assert!(keys.is_some(), "the clean run's client keeps its SCRAM keys for resumption");
    let (mut resumed, mut resent, mut rebound) = (0, 0, 0);
    for cut in 1..=clean.frames + 5 {
        let run = Run::new(on_cut, Some(cut), keys.clone()).run();
        let what = format!("{on_cut:?}, cut at frame {cut}");
        check(&run, &what);
        if on_cut == OnCut::Keep {
            // Resumed (or never enabled yet): the server got each message exactly once.
            assert_eq!(run.server.bob_inbox.len(), expected("a").len(), "{what}: nothing sent twice");
        }
        let online: Vec<bool> = run
            .events
            .iter()
            .filter_map(|e| if let Event::Online { resumed, .. } = e { Some(*resumed) } else { None })
            .collect();
        resumed += usize::from(online.contains(&true));
        rebound += usize::from(online.iter().filter(|r| !**r).count() > 1);
        resent += usize::from(run.server.bob_inbox.len() > expected("a").len());
    }
    eprintln!(
        "{on_cut:?}: {} frames; {resumed} runs resumed, {rebound} bound afresh, {resent} resent a message",
        clean.frames
    );
    // The loop really exercised the paths it is about.
    match on_cut {
        OnCut::Keep => assert!(resumed > clean.frames / 2, "{resumed}"),
        // Without `h` the client cannot know what the server got: some messages reach bob twice (he drops them).
        OnCut::Forget => assert!(rebound > clean.frames / 2 && resent > 0, "{rebound} {resent}"),
        // With `h` it knows exactly: nothing reaches bob twice.
        OnCut::ForgetWithH => assert!(rebound > clean.frames / 2 && resent == 0, "{rebound} {resent}"),
    }
}

#[test]
fn a_cut_anywhere_then_resumption_shows_every_message_once() {
    every_cut(OnCut::Keep);
}

#[test]
fn a_cut_anywhere_then_failed_resumption_shows_every_message_once() {
    every_cut(OnCut::Forget);
}

#[test]
fn a_cut_anywhere_then_failed_resumption_with_h_shows_every_message_once() {
    every_cut(OnCut::ForgetWithH);
}
