//! A scripted fake server driving the sans-IO core in virtual time: no socket, no clock, no randomness.
//!
//! The test plays the server: it reads what the client sent (`sent()`), replies with frames (`recv()`),
//! and moves time forward (`advance()`). Everything the client emits is collected for assertions.

#![allow(dead_code)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use natter::xmpp::client::ClientError;
use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::Credentials;
use natter::xmpp::xml::Element;
use natter::xmpp::{Client, Command, CommandError, Config, Event};
use web_time::Instant;

pub const FEATURES_NS_STREAMS: &str = "http://etherx.jabber.org/streams";
pub const DISCO_INFO_NS: &str = "http://jabber.org/protocol/disco#info";

pub struct Harness {
    pub client: Client,
    pub now: Instant,
    /// Every frame the client sent, in order, not yet taken.
    pub outbox: Vec<String>,
    /// Every event the client emitted, not yet taken.
    pub events: Vec<Event>,
}

/// RFC 7677's account: user `user`, password `pencil`, client nonce `rOprNGfwEbeRWgbNEkqO`. No bookmarks
/// fetch and no catch-up from the archive once online (their traffic is the subject of `tests/core_muc.rs`
/// and `tests/core_mam.rs`, which turn them on).
pub fn rfc7677_config() -> Config {
    let jid = BareJid::parse("user@example.com").unwrap();
    let mut c = Config::new(jid, Credentials::Password("pencil".into()), "rOprNGfwEbeRWgbNEkqO".into(), "t".into());
    c.bookmarks = false;
    c.history.catch_up = false;
    c
}

/// RFC 7677's SCRAM-SHA-256 exchange for [`rfc7677_config`]'s account: the server's first message, the
/// client's final one and the server's final one.
pub const RFC7677_SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
pub const RFC7677_CLIENT_FINAL: &str =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
pub const RFC7677_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/// An account that logs in with PLAIN (the server offers only PLAIN and the config allows it).
pub fn plain_config() -> Config {
    let jid = BareJid::parse("alice@example.com").unwrap();
    let mut c = Config::new(jid, Credentials::Password("secret".into()), "abcdefghijklmnopqrstuvwx".into(), "t".into());
    c.allow_plain = true;
    c.bookmarks = false;
    c.history.catch_up = false;
    c
}

/// The `<user-agent id>` the modern configs present (XEP-0388; FAST tokens are bound to it).
pub const DEVICE_ID: &str = "d4565fa7-4d72-4749-b3d3-740edbf87770";

/// [`rfc7677_config`] ready for SASL2 and FAST: the account on the stream header and a user agent.
pub fn modern_config() -> Config {
    let mut c = rfc7677_config();
    c.stream_from = true;
    c.user_agent = Some(natter::xmpp::client::UserAgent {
        id: DEVICE_ID.into(),
        software: Some("Natter".into()),
        device: Some("test".into()),
    });
    c
}

/// What a modern server offers inside `<authentication xmlns='urn:xmpp:sasl:2'>`, written as Prosody 13 does.
pub struct Sasl2Offer<'a> {
    pub mechanisms: &'a [&'a str],
    /// `None`: no Bind2; `Some(vars)`: Bind2 with these inline features.
    pub bind2: Option<&'a [&'a str]>,
    pub sm: bool,
    pub fast: &'a [&'a str],
    /// The legacy `<mechanisms/>` offered next to it.
    pub legacy: &'a [&'a str],
}

impl Default for Sasl2Offer<'_> {
    /// Prosody 13 on this project's setup (SCRAM-SHA-256 and -1, PLAIN; Bind2 with carbons, CSI, SM; FAST).
    fn default() -> Self {
        Sasl2Offer {
            mechanisms: &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"],
            bind2: Some(&["urn:xmpp:carbons:2", "urn:xmpp:csi:0", "urn:xmpp:sm:3"]),
            sm: true,
            fast: &["HT-SHA-256-NONE"],
            legacy: &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"],
        }
    }
}

impl Sasl2Offer<'_> {
    pub fn features(&self) -> String {
        let mechs = |ms: &[&str]| ms.iter().map(|m| format!("<mechanism>{m}</mechanism>")).collect::<String>();
        let bind2 = self.bind2.map_or(String::new(), |vars| {
            let vars: String = vars.iter().map(|v| format!("<feature var='{v}'/>")).collect();
            format!("<bind xmlns='urn:xmpp:bind:0'><inline>{vars}</inline></bind>")
        });
        let sm = if self.sm { "<sm xmlns='urn:xmpp:sm:3'/>" } else { "" };
        let fast = if self.fast.is_empty() {
            String::new()
        } else {
            format!("<fast xmlns='urn:xmpp:fast:0'>{}</fast>", mechs(self.fast))
        };
        format!(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'><authentication xmlns='urn:xmpp:sasl:2'>{}<inline>{bind2}{sm}{fast}</inline></authentication><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</mechanisms></stream:features>",
            mechs(self.mechanisms),
            mechs(self.legacy)
        )
    }
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        let now = Instant::now();
        let client = Client::new(config, now);
        let mut h = Harness { client, now, outbox: Vec::new(), events: Vec::new() };
        h.drain();
        h
    }

    /// A client on [`plain_config`], online after [`Harness::login_plain`] with `roster_items`.
    pub fn online_plain(roster_items: &str) -> Harness {
        let mut h = Harness::new(plain_config());
        h.login_plain(roster_items);
        h
    }

    pub fn drain(&mut self) {
        while let Some(f) = self.client.poll_transmit() {
            self.outbox.push(f);
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    /// The server sends one frame.
    pub fn recv(&mut self, frame: &str) {
        self.client.handle_frame(frame, self.now);
        self.drain();
    }

    /// Virtual time passes; fires the client's timer if it is due.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
        self.drain();
    }

    pub fn command(&mut self, c: Command) -> Result<(), CommandError> {
        let r = self.client.handle_command(c, self.now);
        self.drain();
        r
    }

    /// Takes the frames sent so far, parsed.
    pub fn sent(&mut self) -> Vec<Element> {
        std::mem::take(&mut self.outbox).iter().map(|f| Element::parse(f).expect("client sent invalid XML")).collect()
    }

    /// Takes the one frame sent since the last call.
    pub fn sent_one(&mut self) -> Element {
        let mut s = self.sent();
        assert_eq!(s.len(), 1, "expected exactly one frame, got {s:?}");
        s.remove(0)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn server_open(&mut self) {
        self.recv("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>");
    }

    pub fn sasl_features(&mut self, mechanisms: &[&str]) {
        let mechs: String = mechanisms.iter().map(|m| format!("<mechanism>{m}</mechanism>")).collect();
        self.recv(&format!(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{mechs}</mechanisms></stream:features>"
        ));
    }

    pub fn bind_features(&mut self, extra: &str) {
        self.recv(&format!(
            "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>{extra}</stream:features>"
        ));
    }

    /// The server's SASL `<challenge/>` with [`RFC7677_SERVER_FIRST`].
    pub fn scram_challenge(&mut self) {
        self.recv(&format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            b64(RFC7677_SERVER_FIRST)
        ));
    }

    /// The server's SASL `<success/>` with [`RFC7677_SERVER_FINAL`].
    pub fn scram_success(&mut self) {
        self.recv(&format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
            b64(RFC7677_SERVER_FINAL)
        ));
    }

    /// The RFC 7677 SCRAM-SHA-256 exchange (fixed nonce: the same frames work for the keys of a resumption),
    /// up to the restarted stream's `<open/>`; leaves the sent frames taken.
    pub fn scram_auth(&mut self) {
        self.server_open();
        self.sasl_features(&["SCRAM-SHA-256"]);
        self.scram_challenge();
        self.scram_success();
        self.server_open();
        self.sent();
    }

    /// After the bind features: binds as `user@example.com/r1` (with stream management enabled as `S1` when
    /// `sm`) and loads an empty roster; returns what was sent once online.
    pub fn bind_empty_roster(&mut self, sm: bool) -> Vec<Element> {
        let sent = self.sent();
        let bind = iq_id(&sent, |e| e.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some());
        self.recv(&format!("<iq xmlns='jabber:client' type='result' id='{bind}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid></bind></iq>"));
        let sent = self.sent();
        let roster = iq_id(&sent, |e| e.get_child("jabber:iq:roster", "query").is_some());
        if sm {
            self.recv("<enabled xmlns='urn:xmpp:sm:3' id='S1' resume='true' max='300'/>");
        }
        self.recv(&format!(
            "<iq xmlns='jabber:client' type='result' id='{roster}'><query xmlns='jabber:iq:roster'/></iq>"
        ));
        assert!(self.client.is_online());
        self.sent()
    }

    /// The server's side of a PLAIN login ([`plain_config`]) up to the restarted stream's `<open/>`.
    pub fn plain_auth(&mut self) {
        self.server_open();
        self.sasl_features(&["PLAIN"]);
        self.recv("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        self.server_open();
    }

    /// [`Harness::plain_auth`], then the bind features (with `extra`) and the bind result
    /// (`alice@example.com/web`); the roster request (`t-2`) that follows is left unanswered.
    pub fn plain_until_roster(&mut self, extra: &str) {
        self.plain_auth();
        self.bind_features(extra);
        self.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.com/web</jid></bind></iq>");
    }

    /// Drives a PLAIN login up to (and including) the roster result with `roster_items` XML; leaves the
    /// client online with the sent frames and events taken.
    pub fn login_plain(&mut self, roster_items: &str) {
        self.plain_until_roster("");
        self.recv(&format!(
            "<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'>{roster_items}</query></iq>"
        ));
        self.online_with_archive(&[]);
    }

    /// Right after the roster result: answers carbons, and (when the client asked, i.e. it catches up) the
    /// disco#info of our account with these `features`; leaves sent frames and events taken.
    pub fn online_with_archive(&mut self, features: &[&str]) -> Vec<Event> {
        assert!(self.client.is_online(), "login did not reach online: {:?}", self.events);
        let sent = self.sent();
        let carbons = sent.iter().find(|e| e.get_child("urn:xmpp:carbons:2", "enable").is_some());
        let id = carbons.expect("carbons are enabled once online").attr("id").unwrap().to_owned();
        self.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>"));
        let Some(disco) = sent.iter().find(|e| e.get_child(DISCO_INFO_NS, "query").is_some()) else {
            return self.take_events();
        };
        let features: String = features.iter().map(|f| format!("<feature var='{f}'/>")).collect();
        self.recv(&format!(
            "<iq xmlns='jabber:client' type='result' id='{}' from='{}'><query xmlns='{DISCO_INFO_NS}'>{features}</query></iq>",
            disco.attr("id").unwrap(),
            disco.attr("to").unwrap()
        ));
        self.take_events()
    }
}

pub fn jid(s: &str) -> BareJid {
    BareJid::parse(s).unwrap()
}

/// The error the session was closed with (`None`: not closed, or closed without one).
pub fn closed_error(events: &[Event]) -> Option<ClientError> {
    events.iter().find_map(|e| match e {
        Event::Closed { error } => Some(error.clone()),
        _ => None,
    })?
}

/// The id of the first `<iq/>` in `sent` that `pred` picks.
pub fn iq_id(sent: &[Element], pred: impl Fn(&Element) -> bool) -> String {
    sent.iter().find(|e| e.name == "iq" && pred(e)).expect("iq sent").attr("id").unwrap().to_owned()
}

/// The `var`s of the features in the disco#info result `disco`, in order.
pub fn disco_features(disco: &Element) -> Vec<String> {
    disco
        .get_child(DISCO_INFO_NS, "query")
        .unwrap()
        .children_named(DISCO_INFO_NS, "feature")
        .map(|f| f.attr("var").unwrap().to_owned())
        .collect()
}

pub fn b64(s: &str) -> String {
    B64.encode(s)
}

pub fn unb64(s: &str) -> String {
    String::from_utf8(B64.decode(s.trim()).unwrap()).unwrap()
}
