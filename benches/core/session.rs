//! Driving a [`Client`] without a socket, in virtual time: the server's side of a login, condensed from
//! `tests/support/fake.rs` (benches do not depend on `tests/`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use natter::xmpp::client::UserAgent;
use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::{Credentials, FastToken, Mechanism};
use natter::xmpp::xml::Element;
use natter::xmpp::{Client, Config, Event};
use sha2::Sha256;
use web_time::Instant;

use crate::corpus::{ACCOUNT, BOUND};
use crate::scram_server::ScramServer;

/// Ids the client gives its bind and roster requests with this seed: `t-1`, `t-2`.
pub const ID_SEED: &str = "t";
pub const ROSTER_ID: &str = "t-2";

const OPEN: &str =
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' version='1.0' xml:lang='en'/>";
const SASL_NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

/// Everything the client emitted, kept so dropping it happens outside the timed code.
#[derive(Default)]
pub struct Sink {
    pub frames: Vec<String>,
    pub events: Vec<Event>,
}

impl Sink {
    /// What the transport does after every input: take every frame to send and every event.
    #[inline]
    pub fn drain(&mut self, client: &mut Client) {
        while let Some(f) = client.poll_transmit() {
            self.frames.push(f);
        }
        while let Some(e) = client.poll_event() {
            self.events.push(e);
        }
    }
}

/// An account that may log in with `password`; frames up to `max_frame` bytes.
pub fn config(password: &str, allow_plain: bool, max_frame: usize) -> Config {
    let jid = BareJid::parse(ACCOUNT).unwrap();
    let mut c = Config::new(jid, Credentials::Password(password.into()), "rOprNGfwEbeRWgbNEkqO".into(), ID_SEED.into());
    c.allow_plain = allow_plain;
    c.max_frame = max_frame;
    // No catch-up from the archive (XEP-0313): the `apply` figures measure the same work as before it came;
    // `apply/catch-up-*` turns it on.
    c.history.catch_up = false;
    c
}

fn features(mechanism: &str) -> String {
    format!(
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms \
         xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>{mechanism}</mechanism></mechanisms></stream:features>"
    )
}

fn sasl(name: &str, data: &[u8]) -> String {
    Element::new(SASL_NS, name).with_text(B64.encode(data)).to_xml()
}

/// The payload of the last SASL element the client sent.
fn last_sasl_payload(sink: &Sink) -> Vec<u8> {
    let el = Element::parse(sink.frames.last().expect("client sent a SASL element")).unwrap();
    assert_eq!(el.ns, SASL_NS, "expected a SASL element, got {el:?}");
    B64.decode(el.text().trim()).unwrap()
}

/// After SASL success: stream restart, bind. Leaves the client waiting for the roster result (`t-2`).
fn bind(client: &mut Client, sink: &mut Sink, now: Instant) {
    for frame in [
        OPEN,
        "<stream:features xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>\
         <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
        &format!(
            "<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>{BOUND}</jid></bind></iq>"
        ),
    ] {
        client.handle_frame(frame, now);
        sink.drain(client);
    }
}

/// A client logged in with PLAIN and bound, its roster request (`t-2`) outstanding.
pub fn loading_roster(config: Config, now: Instant) -> Client {
    let mut client = Client::new(config, now);
    let mut sink = Sink::default();
    sink.drain(&mut client);
    for frame in [OPEN, &features("PLAIN"), "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"] {
        client.handle_frame(frame, now);
        sink.drain(&mut client);
    }
    bind(&mut client, &mut sink, now);
    client
}

/// A client online with the roster in `roster_result` (which must answer id `t-2`).
pub fn online(config: Config, roster_result: &str, now: Instant) -> Client {
    let mut client = loading_roster(config, now);
    client.handle_frame(roster_result, now);
    let mut sink = Sink::default();
    sink.drain(&mut client);
    assert!(client.is_online(), "not online: {:?}", sink.events);
    client
}

/// A whole login, from `Client::new` to online with an empty roster, with SCRAM against `server` (which
/// must hold the config's password). Returns the client and what it emitted.
pub fn scram_login(server: &ScramServer, mechanism: &str, config: Config, now: Instant) -> (Client, Sink) {
    let mut client = Client::new(config, now);
    let mut sink = Sink::default();
    sink.drain(&mut client);
    client.handle_frame(OPEN, now);
    client.handle_frame(&features(mechanism), now);
    sink.drain(&mut client);
    let (server, first) = server.first(&last_sasl_payload(&sink));
    client.handle_frame(&sasl("challenge", &first), now);
    sink.drain(&mut client);
    let last = server.last(&last_sasl_payload(&sink));
    client.handle_frame(&sasl("success", &last), now);
    sink.drain(&mut client);
    bind(&mut client, &mut sink, now);
    client.handle_frame("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>", now);
    sink.drain(&mut client);
    (client, sink)
}

// ---- SASL2 + Bind2 and FAST ---------------------------------------------------------------------------------

const SASL2_NS: &str = "urn:xmpp:sasl:2";
const SASL2_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>\
     <authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism><inline>\
     <bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/></inline></bind>\
     <fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast></inline></authentication>\
     </stream:features>";
const BOUND_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>\
     <ver xmlns='urn:xmpp:features:rosterver'/></stream:features>";
/// After SASL2 + Bind2 the roster request is the client's first iq.
const SASL2_ROSTER_RESULT: &str =
    "<iq xmlns='jabber:client' type='result' id='t-1'><query xmlns='jabber:iq:roster' ver='1'/></iq>";
pub const TOKEN: &str = "secret-token:fast-bench-0123456789abcdefghij";

/// [`config`] ready for SASL2 and FAST (the account on the stream header, a user agent).
pub fn modern_config(credentials: Credentials) -> Config {
    let mut c = config(PASSWORD_UNUSED, false, natter::xmpp::framing::DEFAULT_MAX_FRAME);
    c.credentials = credentials;
    c.stream_from = true;
    c.user_agent = Some(UserAgent { id: "d4565fa7-4d72-4749-b3d3-740edbf87770".into(), software: None, device: None });
    c
}
const PASSWORD_UNUSED: &str = "";

/// The kept token of the FAST benchmarks.
pub fn token() -> FastToken {
    FastToken::issued(Mechanism::HtSha256None, TOKEN, None).unwrap()
}

/// The text of the SASL2 child `name` of the last element the client sent, base64-decoded.
fn last_sasl2_payload(sink: &Sink, child: Option<&str>) -> Vec<u8> {
    let el = Element::parse(sink.frames.last().expect("client sent a SASL2 element")).unwrap();
    assert_eq!(el.ns, SASL2_NS, "expected a SASL2 element, got {el:?}");
    let text = match child {
        Some(name) => el.get_child(SASL2_NS, name).expect("payload child").text(),
        None => el.text(),
    };
    B64.decode(text.trim()).unwrap()
}

/// From `<success/>` on: the bound stream's features and the roster; returns once online.
fn after_sasl2(client: &mut Client, sink: &mut Sink, success: &str, now: Instant) {
    for frame in [success, BOUND_FEATURES, SASL2_ROSTER_RESULT] {
        client.handle_frame(frame, now);
        sink.drain(client);
    }
}

/// A whole SASL2 login with SCRAM and Bind2 (carbons inline), from `Client::new` to online.
pub fn sasl2_login(server: &ScramServer, config: Config, now: Instant) -> (Client, Sink) {
    let mut client = Client::new(config, now);
    let mut sink = Sink::default();
    sink.drain(&mut client);
    client.handle_frame(OPEN, now);
    client.handle_frame(SASL2_FEATURES, now);
    sink.drain(&mut client);
    let (server, first) = server.first(&last_sasl2_payload(&sink, Some("initial-response")));
    client.handle_frame(&Element::new(SASL2_NS, "challenge").with_text(B64.encode(first)).to_xml(), now);
    sink.drain(&mut client);
    let last = server.last(&last_sasl2_payload(&sink, None));
    let success = format!(
        "<success xmlns='urn:xmpp:sasl:2'><additional-data>{}</additional-data>\
         <authorization-identifier>{BOUND}</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>",
        B64.encode(last)
    );
    after_sasl2(&mut client, &mut sink, &success, now);
    (client, sink)
}

/// A whole FAST login with [`token`] (SASL2 + Bind2), from `Client::new` to online.
pub fn fast_login(config: Config, now: Instant) -> (Client, Sink) {
    let mut client = Client::new(config, now);
    let mut sink = Sink::default();
    sink.drain(&mut client);
    client.handle_frame(OPEN, now);
    client.handle_frame(SASL2_FEATURES, now);
    sink.drain(&mut client);
    let mut responder = <Hmac<Sha256> as Mac>::new_from_slice(TOKEN.as_bytes()).unwrap();
    responder.update(b"Responder");
    let success = format!(
        "<success xmlns='urn:xmpp:sasl:2'><additional-data>{}</additional-data>\
         <authorization-identifier>{BOUND}</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>",
        B64.encode(responder.finalize().into_bytes())
    );
    after_sasl2(&mut client, &mut sink, &success, now);
    (client, sink)
}
