//! A native WebSocket transport (tungstenite, dev-dependency only) driving the same sans-IO core against
//! the real servers the project's scripts start. The loop is the browser transport's: feed, drain, send,
//! and honour one deadline.

#![allow(dead_code)]

use std::net::TcpStream;
use std::time::Duration;

use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::Credentials;
use natter::xmpp::{Client, Command, Config, Event};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};
use web_time::Instant;

/// How long any single expectation may take against a server on loopback.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Every server the project's scripts run: (name, env prefix, script). The stable generation is Debian 12's
/// Prosody 0.12 and ejabberd 23.01; the modern one Prosody 13 and ejabberd 24.12 from bookworm-backports.
pub const SERVERS: [(&str, &str, &str); 4] = [
    ("prosody", "NATTER_PROSODY", "scripts/prosody.sh"),
    ("prosody13", "NATTER_PROSODY13", "scripts/prosody13.sh"),
    ("ejabberd", "NATTER_EJABBERD", "scripts/ejabberd.sh"),
    ("ejabberd24", "NATTER_EJABBERD24", "scripts/ejabberd24.sh"),
];

/// The servers whose env is set, each with its env prefix and the script that runs it; says which are not.
pub fn servers() -> Vec<(Server, &'static str, &'static str)> {
    let mut v = Vec::new();
    for (name, prefix, script) in SERVERS {
        match Server::from_env(name, prefix) {
            Some(s) => v.push((s, prefix, script)),
            None => eprintln!("{prefix}_WS not set: {name} tests not run (use the README test command)"),
        }
    }
    v
}

/// A server under test, from the environment the project's scripts print (`scripts/*.sh env`).
#[derive(Clone, Debug)]
pub struct Server {
    pub name: &'static str,
    pub ws_url: String,
    pub domain: String,
}

impl Server {
    /// The server described by `{PREFIX}_WS` and `{PREFIX}_DOMAIN`; `None` when the variables are unset.
    pub fn from_env(name: &'static str, prefix: &str) -> Option<Server> {
        let ws_url = std::env::var(format!("{prefix}_WS")).ok()?;
        let domain = std::env::var(format!("{prefix}_DOMAIN")).unwrap_or_else(|_| "localhost".into());
        Some(Server { name, ws_url, domain })
    }

    pub fn jid(&self, user: &str) -> BareJid {
        BareJid::parse(&format!("{user}@{}", self.domain)).unwrap()
    }

    /// A config for `user` as the browser transport makes it: the account on the stream header (loopback) and
    /// a user agent with a device id of its own (FAST tokens are per device: tests never share one); without
    /// the bookmarks fetch at login (the demo accounts have the demo room bookmarked with autojoin: tests that
    /// want it turn it on), and without the catch-up from the archive, the account's and the rooms' (it would
    /// show a test's messages in an `ArchivePage` and then drop the live copy as the same message, which the
    /// tests of other things do not look for; `tests/servers_mam.rs` and the room history test of
    /// `tests/servers_muc.rs` turn it on).
    pub fn config(&self, user: &str, password: &str) -> Config {
        let n = NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut config = Config::new(
            self.jid(user),
            Credentials::Password(password.into()),
            format!("nativetestnonce{n:08}xyz"),
            format!("n{n}"),
        );
        config.stream_from = true;
        config.bookmarks = false;
        config.history.catch_up = false;
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        config.user_agent = Some(natter::xmpp::client::UserAgent {
            id: format!("{:08x}-{:04x}-4000-8000-{:012x}", std::process::id(), n & 0xffff, t & 0xffff_ffff_ffff),
            software: Some("Natter tests".into()),
            device: None,
        });
        config
    }
}

/// Creates the account `user` with `password` by `script adduser` (on `host`, else the script's default domain).
pub fn adduser(script: &str, user: &str, password: &str, host: Option<&str>) {
    let mut args = vec!["adduser", user, password];
    args.extend(host);
    let status =
        std::process::Command::new(format!("{}/{script}", env!("CARGO_MANIFEST_DIR"))).args(args).status().unwrap();
    assert!(status.success(), "{script} adduser {user} failed");
}

/// A fresh account `{prefix}{n}` with password `pw-{n}` on `host` (the script's default domain when `None`).
pub fn fresh_account_at(script: &str, prefix: &str, host: Option<&str>) -> (String, String) {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000;
    let (user, password) = (format!("{prefix}{n}"), format!("pw-{n}"));
    adduser(script, &user, &password, host);
    (user, password)
}

/// [`fresh_account_at`] the script's default domain.
pub fn fresh_account(script: &str, prefix: &str) -> (String, String) {
    fresh_account_at(script, prefix, None)
}

static NONCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub struct Conn {
    pub ws: WebSocket<MaybeTlsStream<TcpStream>>,
    pub client: Client,
    /// Events not yet consumed by `wait_for`.
    pub events: Vec<Event>,
    /// Every frame the client sent, in order.
    pub sent: Vec<String>,
}

impl Conn {
    pub fn open(server: &Server, config: Config) -> Conn {
        let mut req = server.ws_url.as_str().into_client_request().unwrap();
        req.headers_mut().insert("Sec-WebSocket-Protocol", "xmpp".parse().unwrap());
        let (ws, resp) = tungstenite::connect(req)
            .unwrap_or_else(|e| panic!("{}: cannot connect to {}: {e}", server.name, server.ws_url));
        assert_eq!(resp.headers().get("Sec-WebSocket-Protocol").map(|v| v.to_str().unwrap()), Some("xmpp"));
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            s.set_nodelay(true).unwrap();
        }
        let client = Client::new(config, Instant::now());
        let mut c = Conn { ws, client, events: Vec::new(), sent: Vec::new() };
        c.flush();
        c
    }

    fn flush(&mut self) {
        while let Some(frame) = self.client.poll_transmit() {
            if std::env::var_os("NATTER_TRACE").is_some() {
                eprintln!("-> {frame}");
            }
            // The server may already have gone (after a close); that is not a test failure in itself.
            let _ = self.ws.send(Message::text(frame.clone()));
            self.sent.push(frame);
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    /// One turn of the loop: read what arrived (or time out briefly), fire the deadline if due.
    pub fn step(&mut self) {
        match self.ws.read() {
            Ok(Message::Text(t)) => {
                if std::env::var_os("NATTER_TRACE").is_some() {
                    eprintln!("<- {t}");
                }
                self.client.handle_frame(t.as_str(), Instant::now())
            }
            Ok(Message::Close(_)) => self.client.handle_transport_closed(),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => self.client.handle_transport_closed(),
        }
        let now = Instant::now();
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.flush();
    }

    /// Runs the loop until an event matching `pred` arrives; returns it (and drops earlier events).
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self.events.iter().position(&pred) {
                let e = self.events.remove(i);
                self.events.drain(..i);
                return e;
            }
            if let Some(Event::Closed { error }) = self.events.iter().find(|e| matches!(e, Event::Closed { .. })) {
                panic!("session closed ({error:?}) while waiting for {what}");
            }
            assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}; events: {:?}", self.events);
            self.step();
        }
    }

    /// Runs until the session is online or closed; returns every event up to and including that one.
    pub fn until_online_or_closed(&mut self) -> Vec<Event> {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self.events.iter().position(|e| matches!(e, Event::Online { .. } | Event::Closed { .. })) {
                return self.events.drain(..=i).collect();
            }
            assert!(std::time::Instant::now() < deadline, "neither online nor closed; events: {:?}", self.events);
            self.step();
        }
    }

    /// Runs until the session is closed, returning the Closed event's error.
    pub fn wait_closed(&mut self) -> Option<natter::xmpp::ClientError> {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(Event::Closed { error }) = self.events.iter().find(|e| matches!(e, Event::Closed { .. })) {
                return error.clone();
            }
            assert!(std::time::Instant::now() < deadline, "timed out waiting for close; events: {:?}", self.events);
            self.step();
        }
    }

    /// Turns the loop until no request of ours is outstanding (e.g. the carbons enable has been answered).
    pub fn pump_until_quiet(&mut self) {
        let deadline = std::time::Instant::now() + PATIENCE;
        while self.client.has_pending_requests() {
            assert!(std::time::Instant::now() < deadline, "requests still unanswered; events: {:?}", self.events);
            self.step();
        }
    }

    pub fn command(&mut self, c: Command) {
        self.client.handle_command(c, Instant::now()).unwrap();
        self.flush();
    }

    pub fn online(server: &Server, config: Config) -> Conn {
        let mut c = Conn::open(server, config);
        c.wait_for("online", |e| matches!(e, Event::Online { .. }));
        c
    }

    pub fn close(mut self) {
        self.command(Command::Close);
        assert_eq!(self.wait_closed(), None, "polite close");
    }
}
