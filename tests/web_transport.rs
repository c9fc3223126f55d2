//! Browser tests of the web-sys transport against the real Prosody on loopback (`scripts/prosody.sh start`).
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_transport`
//! (the runner comes from `.cargo/config.toml`; Chromium flags from `webdriver.json`).
//!
//! Every wait is "until this event arrives, at most N seconds"; on a timeout the test fails listing the events
//! it saw. The server URL and passwords come from `scripts/prosody.sh env` at build time when exported,
//! else from the demo defaults.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, unbounded};
use futures::future::{Either, select};
use natter::transport::{ConnectOptions, Session, TransportError, TransportEvent, connect, discovery, lookup};
use natter::xmpp::jid::BareJid;
use natter::xmpp::sasl::{FastToken, Mechanism, SaslError};
use natter::xmpp::{ClientError, Command, CommandError, Event, Phase};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WS_URL: &str = match option_env!("NATTER_PROSODY_WS") {
    Some(url) => url,
    None => "ws://127.0.0.1:5280/xmpp-websocket",
};
const DOMAIN: &str = match option_env!("NATTER_PROSODY_DOMAIN") {
    Some(d) => d,
    None => "localhost",
};
/// The second host of the scripts' Prosody, which keeps passwords salted and hashed (same demo accounts).
const HASHED_DOMAIN: &str = match option_env!("NATTER_PROSODY_HASHED_DOMAIN") {
    Some(d) => d,
    None => "hashed.localhost",
};
const ALICE_PW: &str = match option_env!("NATTER_DEMO_ALICE_PASSWORD") {
    Some(p) => p,
    None => "alice-demo-pw",
};
const BOB_PW: &str = match option_env!("NATTER_DEMO_BOB_PASSWORD") {
    Some(p) => p,
    None => "bob-demo-pw",
};

/// Prosody 13 (SASL2, FAST) when `scripts/prosody13.sh env` was exported at build time (the README test command
/// does); the FAST test is skipped otherwise.
const WS_URL_13: Option<&str> = option_env!("NATTER_PROSODY13_WS");
const DOMAIN_13: &str = match option_env!("NATTER_PROSODY13_DOMAIN") {
    Some(d) => d,
    None => "localhost",
};

/// Longest wait for any one expected event (a login on loopback takes ~10 ms; this only bounds failures).
const WAIT: Duration = Duration::from_secs(15);

/// `local@DOMAIN`, or the address itself when it already names a host.
fn jid(local: &str) -> BareJid {
    let address = if local.contains('@') { local.to_owned() } else { format!("{local}@{DOMAIN}") };
    BareJid::parse(&address).expect("valid test JID")
}

/// A demo account on the host with hashed password storage.
fn hashed(local: &str) -> String {
    format!("{local}@{HASHED_DOMAIN}")
}

/// A connection under test: its session and everything it reported, in order.
struct Probe {
    name: &'static str,
    session: Option<Session>,
    rx: UnboundedReceiver<TransportEvent>,
    seen: Vec<TransportEvent>,
}

impl Probe {
    fn start(name: &'static str, local: &str, password: &str, server_url: Option<&str>) -> Probe {
        Probe::with(name, ConnectOptions::with_password(jid(local), password.to_owned(), server_url.map(str::to_owned)))
    }

    fn with(name: &'static str, options: ConnectOptions) -> Probe {
        let (tx, rx) = unbounded();
        let session = connect(options, move |event| {
            let _ = tx.unbounded_send(event);
        });
        Probe { name, session: Some(session), rx, seen: Vec::new() }
    }

    fn session(&self) -> &Session {
        self.session.as_ref().expect("session not dropped yet")
    }

    /// Waits for the first event (after those already consumed) that `pred` accepts; returns it.
    async fn expect(&mut self, what: &str, pred: impl Fn(&TransportEvent) -> bool) -> TransportEvent {
        let deadline = web_time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(web_time::Instant::now());
            match select(self.rx.next(), Box::pin(sleep(left))).await {
                Either::Left((Some(event), _)) => {
                    self.seen.push(event.clone());
                    if pred(&event) {
                        return event;
                    }
                }
                Either::Left((None, _)) => {
                    panic!("{}: event stream ended while waiting for {what}; saw {:#?}", self.name, self.seen)
                }
                Either::Right(_) => panic!("{}: no {what} within {WAIT:?}; saw {:#?}", self.name, self.seen),
            }
        }
    }

    async fn online(&mut self) {
        self.expect("Online", |e| matches!(e, TransportEvent::Core(Event::Online { .. }))).await;
    }

    /// Waits for the final event (`Failed` or `Core(Closed)`).
    /// Closes the session politely and checks that it ends the way a polite close does.
    async fn close_cleanly(&mut self) {
        self.session().close();
        let end = self.finished().await;
        assert!(matches!(end, TransportEvent::Core(Event::Closed { error: None })), "{}: {end:?}", self.name);
    }

    async fn finished(&mut self) -> TransportEvent {
        self.expect("a final event", |e| {
            matches!(e, TransportEvent::Failed(_) | TransportEvent::Core(Event::Closed { .. }))
        })
        .await
    }

    /// Waits until `on_event` has been dropped (the channel ends), keeping what was delivered before.
    async fn ended(&mut self) {
        loop {
            match select(self.rx.next(), Box::pin(sleep(WAIT))).await {
                Either::Left((Some(event), _)) => self.seen.push(event),
                Either::Left((None, _)) => return,
                Either::Right(_) => panic!("{}: on_event still alive after {WAIT:?}; saw {:#?}", self.name, self.seen),
            }
        }
    }

    /// Asserts nothing more arrives for a short while (only used after a final event).
    async fn quiet(&mut self) {
        match select(self.rx.next(), Box::pin(sleep(Duration::from_millis(300)))).await {
            Either::Left((Some(event), _)) => {
                panic!("{}: event after the final one: {event:?}; saw {:#?}", self.name, self.seen)
            }
            Either::Left((None, _)) | Either::Right(_) => {}
        }
    }
}

/// Resolves after `d` (a setTimeout wrapped in a Promise).
async fn sleep(d: Duration) {
    let ms = i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("timer promise");
}

fn is_final(e: &TransportEvent) -> bool {
    matches!(e, TransportEvent::Failed(_) | TransportEvent::Core(Event::Closed { .. }))
}

#[wasm_bindgen_test]
async fn alice_logs_in_sees_bob_and_closes_politely() {
    let mut alice = Probe::start("alice", "alice", ALICE_PW, Some(WS_URL));
    let first = alice.expect("Connecting", |_| true).await;
    assert!(matches!(&first, TransportEvent::Connecting { url } if url == WS_URL), "first event: {first:?}");
    assert_eq!(
        alice.session().send(Command::SendMessage {
            to: jid("bob"),
            body: "early".into(),
            id: natter::transport::message_id()
        }),
        Err(CommandError::NotOnline)
    );

    alice.online().await;
    let roster_has_bob = alice.seen.iter().any(|e| match e {
        TransportEvent::Core(Event::Roster { items, .. }) => items.iter().any(|i| i.jid == jid("bob")),
        _ => false,
    });
    assert!(roster_has_bob, "no roster with bob before Online; saw {:#?}", alice.seen);
    assert!(!alice.seen.iter().any(is_final), "a final event before Online: {:#?}", alice.seen);

    alice.session().close();
    let last = alice.finished().await;
    assert!(matches!(last, TransportEvent::Core(Event::Closed { error: None })), "last: {last:?}");
    assert!(alice.session().is_finished());
    assert_eq!(
        alice.session().send(Command::SendMessage {
            to: jid("bob"),
            body: "late".into(),
            id: natter::transport::message_id()
        }),
        Err(CommandError::NotOnline)
    );
    alice.session().close(); // a second close does nothing
    alice.quiet().await;
}

#[wasm_bindgen_test]
async fn a_message_from_alice_arrives_at_bob() {
    let mut bob = Probe::start("bob", "bob", BOB_PW, Some(WS_URL));
    bob.online().await;
    let mut alice = Probe::start("alice", "alice", ALICE_PW, Some(WS_URL));
    alice.online().await;

    let body = format!("hello bob, from the browser test {}", js_sys::Math::random());
    alice
        .session()
        .send(Command::SendMessage { to: jid("bob"), body: body.clone(), id: natter::transport::message_id() })
        .expect("send");
    let sent = alice.expect("MessageSent", |e| matches!(e, TransportEvent::Core(Event::MessageSent(_)))).await;
    assert!(matches!(&sent, TransportEvent::Core(Event::MessageSent(m)) if m.body(None) == Some(body.as_str())));

    let got = bob
        .expect(
            "the message",
            |e| matches!(e, TransportEvent::Core(Event::Message(m)) if m.body(None) == Some(body.as_str())),
        )
        .await;
    let TransportEvent::Core(Event::Message(m)) = got else { unreachable!() };
    assert_eq!(m.from.as_ref().map(|j| j.bare().clone()), Some(jid("alice")));

    alice.close_cleanly().await;
    bob.close_cleanly().await;
}

#[wasm_bindgen_test]
async fn dropping_the_last_session_closes_the_connection() {
    let mut bob = Probe::start("bob", "bob", BOB_PW, Some(WS_URL));
    bob.online().await;
    let mut alice = Probe::start("alice", "alice", ALICE_PW, Some(WS_URL));
    alice.online().await;
    let alice_online = |e: &TransportEvent| matches!(e, TransportEvent::Core(Event::ContactPresence { jid: j, presence: Some(_) }) if *j == jid("alice"));
    if !bob.seen.iter().any(alice_online) {
        bob.expect("alice's presence", alice_online).await;
    }

    let clone = alice.session().clone();
    drop(clone); // not the last one: nothing happens
    alice.session = None; // the last one: the socket closes (after a <close/>)
    bob.expect(
        "alice going offline",
        |e| matches!(e, TransportEvent::Core(Event::ContactPresence { jid: j, presence: None }) if *j == jid("alice")),
    )
    .await;
    // Alice's callbacks went with her session: her channel ends (what it still holds was delivered before).
    alice.ended().await;

    bob.close_cleanly().await;
}

#[wasm_bindgen_test]
async fn a_wrong_password_ends_in_auth_failed() {
    let mut alice = Probe::start("alice (wrong password)", "alice", "not-the-password", Some(WS_URL));
    let last = alice.finished().await;
    assert!(
        matches!(last, TransportEvent::Core(Event::Closed { error: Some(ClientError::AuthFailed { .. }) })),
        "last: {last:?}; saw {:#?}",
        alice.seen
    );
    alice.quiet().await;
}

#[wasm_bindgen_test]
async fn ws_to_another_host_is_refused_before_connecting() {
    let mut p = Probe::start("insecure", "alice", ALICE_PW, Some("ws://example.org/xmpp-websocket"));
    let first = p.expect("an event", |_| true).await;
    let url = "ws://example.org/xmpp-websocket".to_owned();
    assert_eq!(first, TransportEvent::Failed(TransportError::InsecureUrl { url }));
    p.quiet().await;

    let mut p = Probe::start("invalid", "alice", ALICE_PW, Some("http://127.0.0.1:5280/xmpp-websocket"));
    let first = p.expect("an event", |_| true).await;
    assert!(matches!(first, TransportEvent::Failed(TransportError::InvalidUrl { .. })), "{first:?}");
}

#[wasm_bindgen_test]
async fn a_closed_port_is_unreachable() {
    let url = "ws://127.0.0.1:1/";
    let mut p = Probe::start("closed port", "alice", ALICE_PW, Some(url));
    let last = p.finished().await;
    assert!(matches!(&last, TransportEvent::Failed(TransportError::Unreachable { url: u }) if u == url), "{last:?}");
    assert!(matches!(p.seen.first(), Some(TransportEvent::Connecting { .. })), "{:#?}", p.seen);
    p.quiet().await;
}

#[wasm_bindgen_test]
async fn a_web_server_that_is_not_a_websocket_endpoint_is_named_as_such() {
    // Issue 16, item 13: Prosody's HTTP port answers this path with a 404; that is not "could not be reached".
    // The app tells the two apart with a plain cross-origin request, which a cross-origin-isolated page (the
    // test runner's default) may not make: scripts/test.sh sets WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION=1.
    let isolated =
        js_sys::Reflect::get(&js_sys::global(), &"crossOriginIsolated".into()).ok().and_then(|v| v.as_bool());
    assert_ne!(
        isolated,
        Some(true),
        "run with WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION=1 (the app is not isolated either)"
    );
    let url = WS_URL.replace("/xmpp-websocket", "/not-a-websocket");
    let mut p = Probe::start("404", "alice", ALICE_PW, Some(&url));
    let last = p.finished().await;
    assert!(
        matches!(&last, TransportEvent::Failed(TransportError::NotXmppEndpoint { url: u }) if *u == url),
        "{last:?}"
    );
    let words = match last {
        TransportEvent::Failed(e) => e.to_string(),
        _ => unreachable!(),
    };
    assert!(words.contains("answered, but it is not an XMPP WebSocket endpoint"), "{words}");
    p.quiet().await;
}

#[wasm_bindgen_test]
async fn closing_while_connecting_cancels_with_closed() {
    let mut p = Probe::start("cancelled", "alice", ALICE_PW, Some(WS_URL));
    p.session().close(); // before the socket even exists
    let last = p.finished().await;
    assert!(matches!(last, TransportEvent::Core(Event::Closed { error: None })), "{last:?}");
    p.quiet().await;
}

#[wasm_bindgen_test]
async fn discovery_without_config_or_host_meta_finds_no_endpoint() {
    // The test page has no config.json (404) and https://localhost/ has no server: nothing to find.
    let mut p = Probe::start("discovery", "alice", ALICE_PW, None);
    let first = p.expect("Discovering", |_| true).await;
    assert!(matches!(first, TransportEvent::Discovering), "{first:?}");
    let last = p.finished().await;
    assert!(
        matches!(&last, TransportEvent::Failed(TransportError::NoEndpoint { domain, problems })
            if domain == DOMAIN && problems.is_empty()),
        "missing documents are not problems worth naming: {last:?}"
    );
}

#[wasm_bindgen_test]
async fn the_real_host_meta_documents_parse() {
    // Prosody serves XEP-0156 over plain http on loopback (discovery itself only asks https://{domain}), so
    // fetch its documents here and check the parsers find the WebSocket endpoint in both formats.
    let base = WS_URL.replace("ws://", "http://").replace("/xmpp-websocket", "");
    let json_url = format!("{base}/.well-known/host-meta.json");
    let json = lookup::fetch_text(&json_url).await.expect("fetch host-meta.json");
    let links = lookup::parse_host_meta(&json_url, &json).expect("a JRD document");
    assert_eq!(discovery::websocket_hrefs(&links), [WS_URL], "{json}");
    let xml = lookup::fetch_text(&format!("{base}/.well-known/host-meta")).await.expect("fetch host-meta");
    assert_eq!(discovery::host_meta_xml_websockets(&xml), [WS_URL], "{xml}");
}

#[wasm_bindgen_test]
fn non_ascii_jids_and_credentials_are_prepared_with_the_browsers_nfkc() {
    // The core's stringprep takes NFKC from the browser (`natter_nfkc` in the transport calls
    // String.prototype.normalize); the expected values are the `stringprep` crate's, which the native tests
    // compare the core with.
    use natter::xmpp::jid::Jid;
    use natter::xmpp::sasl::{SaslError, SaslprepError, SaslprepField, saslprep};

    let jid = |s: &str| Jid::parse(s).map(|j| j.to_string());
    assert_eq!(jid("Ｊｕｌｉｅｔ@ＥＸＡＭＰＬＥ.com/ﬁ\u{AD}le").as_deref(), Ok("juliet@example.com/file"));
    assert_eq!(jid("Straße@bücher.example/①").as_deref(), Ok("strasse@bücher.example/1"));
    assert_eq!(jid("e\u{301}Ǆ@x.example/\u{1100}\u{1161}").as_deref(), Ok("édž@x.example/가"));

    let password = |s: &str| saslprep(SaslprepField::Password, s);
    assert_eq!(password("\u{2168}").as_deref(), Ok("IX"));
    assert_eq!(password("I\u{AD}X").as_deref(), Ok("IX"));
    assert_eq!(password("\u{AA}").as_deref(), Ok("a"));
    assert_eq!(password("Пароль\u{A0}1").as_deref(), Ok("Пароль 1"));
    let refusal = |s: &str| match password(s) {
        Err(SaslError::Saslprep { reason, .. }) => reason,
        other => panic!("{s:?}: {other:?}"),
    };
    assert_eq!(refusal("\u{627}1"), SaslprepError::BidiViolation);
    assert_eq!(refusal("pass\u{221}"), SaslprepError::UnassignedCodePoint);
}

/// Tells the page the network went away, as the browser does (`offline` on window).
fn browser_says_offline() {
    let event = web_sys::Event::new("offline").expect("event");
    web_sys::window().expect("window").dispatch_event(&event).expect("dispatch");
}

/// Waits for the end of a reconnect attempt: `true` once online again, `false` when the server refused the
/// kept keys (the session then ends for good).
async fn reconnected(p: &mut Probe) -> bool {
    let end =
        p.expect("Online or the end", |e| matches!(e, TransportEvent::Core(Event::Online { .. })) || is_final(e)).await;
    match end {
        TransportEvent::Core(Event::Online { .. }) => true,
        TransportEvent::Core(Event::Closed { error: Some(ClientError::Sasl(SaslError::KeysStale)) }) => {
            p.quiet().await; // final: no more attempts
            false
        }
        other => panic!("{}: reconnect ended with {other:?}; saw {:#?}", p.name, p.seen),
    }
}

#[wasm_bindgen_test]
async fn a_lost_session_logs_in_again_with_its_keys_only() {
    // hashed.localhost keeps one salt per account, so the keys of the first login fit the next one.
    let mut alice = Probe::start("alice", &hashed("alice"), ALICE_PW, Some(WS_URL));
    alice.online().await;

    // A message written right before the network goes: the core keeps it until the server acknowledges it.
    let last_word = natter::transport::message_id();
    alice
        .session()
        .send(Command::SendMessage { to: jid(&hashed("carol")), body: "last word".into(), id: last_word.clone() })
        .expect("sent");
    browser_says_offline();
    let lost = alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    let TransportEvent::Reconnecting { attempt, delay, reason } = lost else { unreachable!() };
    assert_eq!(attempt, 1);
    assert!(delay >= Duration::from_millis(500) && delay <= Duration::from_secs(1), "first delay {delay:?}");
    assert_eq!(reason, ClientError::ConnectionLost.describe());
    assert!(!alice.seen.iter().any(is_final), "a final event: {:#?}", alice.seen);
    assert_eq!(
        alice.session().send(Command::SendMessage {
            to: jid(&hashed("bob")),
            body: "while away".into(),
            id: natter::transport::message_id()
        }),
        Err(CommandError::NotOnline)
    );
    let again = alice.expect("Connecting again", |e| matches!(e, TransportEvent::Connecting { .. })).await;
    assert_eq!(again, TransportEvent::Connecting { url: WS_URL.to_owned() }, "the same server, no discovery");
    // The password was dropped once the first session was online: this attempt can only use the keys, and
    // only their mechanism.
    let auth = alice
        .expect("authenticating", |e| matches!(e, TransportEvent::Core(Event::Phase(Phase::Authenticating(_)))))
        .await;
    let first = alice.seen.iter().find(|e| matches!(e, TransportEvent::Core(Event::Phase(Phase::Authenticating(_)))));
    assert_eq!(Some(&auth), first, "the same mechanism as the first login");

    assert!(reconnected(&mut alice).await, "the kept keys log in again; saw {:#?}", alice.seen);
    // The server kept the session (XEP-0198): it is resumed, nothing is reloaded.
    let onlines: Vec<bool> = alice
        .seen
        .iter()
        .filter_map(|e| if let TransportEvent::Core(Event::Online { resumed, .. }) = e { Some(*resumed) } else { None })
        .collect();
    assert_eq!(onlines, [false, true], "resumed");
    let rosters = alice.seen.iter().filter(|e| matches!(e, TransportEvent::Core(Event::Roster { .. }))).count();
    assert_eq!(rosters, 1, "the roster is not loaded again");
    let acked = |e: &TransportEvent| matches!(e, TransportEvent::Core(Event::MessageAcked { id }) if *id == last_word);
    if !alice.seen.iter().any(acked) {
        alice.expect("the last word acknowledged", acked).await;
    }
    // (The `offline` event reaches every session of the page: bob starts only now.)
    let mut bob = Probe::start("bob", &hashed("bob"), BOB_PW, Some(WS_URL));
    bob.online().await;
    let body = format!("after the reconnect {}", js_sys::Math::random());
    bob.session()
        .send(Command::SendMessage {
            to: jid(&hashed("alice")),
            body: body.clone(),
            id: natter::transport::message_id(),
        })
        .expect("bob sends");
    alice
        .expect(
            "bob's message",
            |e| matches!(e, TransportEvent::Core(Event::Message(m)) if m.body(None) == Some(body.as_str())),
        )
        .await;
    alice.close_cleanly().await;
    bob.close_cleanly().await;
}

#[wasm_bindgen_test]
async fn a_server_that_draws_a_new_salt_refuses_the_kept_keys() {
    // localhost stores passwords in plain (for SCRAM-SHA-256) and so draws a new salt at every login: the keys
    // of the first login cannot log in again, and without the password the session ends, once, with KeysStale.
    let mut alice = Probe::start("alice", "alice", ALICE_PW, Some(WS_URL));
    alice.online().await;
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    alice.session().reconnect_now();
    assert!(!reconnected(&mut alice).await, "keys from another salt must not log in; saw {:#?}", alice.seen);
    assert!(alice.session().is_finished());
}

#[wasm_bindgen_test]
async fn closing_while_waiting_to_reconnect_cancels_it() {
    let mut alice = Probe::start("alice", "alice", ALICE_PW, Some(WS_URL));
    alice.online().await;
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    alice.session().close();
    let last = alice.finished().await;
    assert!(matches!(last, TransportEvent::Core(Event::Closed { error: None })), "{last:?}");
    assert!(alice.session().is_finished());
    alice.session().reconnect_now(); // nothing left to reconnect
    // Longer than the first backoff delay (at most 1 s): no attempt follows.
    if let Either::Left((Some(event), _)) = select(alice.rx.next(), Box::pin(sleep(Duration::from_millis(1500)))).await
    {
        panic!("event after the close: {event:?}");
    }
}

#[wasm_bindgen_test]
async fn reconnect_now_does_not_wait_for_the_backoff() {
    let mut alice = Probe::start("alice", &hashed("alice"), ALICE_PW, Some(WS_URL));
    alice.online().await;
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    assert!(format!("{:?}", alice.session()).contains("waiting"), "{:?}", alice.session());
    alice.session().reconnect_now();
    assert!(format!("{:?}", alice.session()).contains("opening"), "the socket opens at once: {:?}", alice.session());
    assert!(reconnected(&mut alice).await, "online again; saw {:#?}", alice.seen);
    alice.close_cleanly().await;
}

#[wasm_bindgen_test]
async fn the_browser_coming_back_online_starts_the_attempt_at_once() {
    let mut alice = Probe::start("alice", &hashed("alice"), ALICE_PW, Some(WS_URL));
    alice.online().await;
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    assert!(format!("{:?}", alice.session()).contains("waiting"), "{:?}", alice.session());
    let online = web_sys::Event::new("online").expect("event");
    web_sys::window().expect("window").dispatch_event(&online).expect("dispatch");
    assert!(format!("{:?}", alice.session()).contains("opening"), "no waiting for the backoff: {:?}", alice.session());
    assert!(reconnected(&mut alice).await, "online again; saw {:#?}", alice.seen);
    alice.close_cleanly().await;
}

fn fast_tokens(seen: &[TransportEvent]) -> Vec<FastToken> {
    seen.iter()
        .filter_map(|e| if let TransportEvent::Core(Event::FastToken(t)) = e { Some(t.clone()) } else { None })
        .collect()
}

#[wasm_bindgen_test]
async fn staying_logged_in_reconnects_reloads_and_logs_out_with_a_fast_token() {
    let Some(url) = WS_URL_13 else {
        web_sys::console::log_1(&"NATTER_PROSODY13_WS not set at build time: FAST transport test not run".into());
        return;
    };
    // `localhost` stores passwords in plain: kept SCRAM keys never log in there again (test above), a token does.
    let account = BareJid::parse(&format!("alice@{DOMAIN_13}")).unwrap();
    let device = natter::transport::new_device_id();
    let login = ConnectOptions {
        device_id: Some(device.clone()),
        stay_logged_in: true,
        ..ConnectOptions::with_password(account.clone(), ALICE_PW.to_owned(), Some(url.to_owned()))
    };
    let mut alice = Probe::with("alice", login);
    alice.online().await;
    let issued = fast_tokens(&alice.seen);
    assert_eq!(issued.len(), 1, "one token for the UI to keep; saw {:#?}", alice.seen);
    assert_eq!(issued[0].count, 0);

    // The connection drops: the reconnect logs in with the token, in one round trip.
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    alice.session().reconnect_now();
    alice
        .expect("FAST", |e| {
            matches!(e, TransportEvent::Core(Event::Phase(Phase::Authenticating(Mechanism::HtSha256None))))
        })
        .await;
    assert!(reconnected(&mut alice).await, "the token logs in again; saw {:#?}", alice.seen);
    let tokens = fast_tokens(&alice.seen);
    assert_eq!((tokens[1].secret.as_str(), tokens[1].count), (issued[0].secret.as_str(), 1), "the count advanced");
    // Prosody 13 also hands out a new token when the session is resumed inside SASL2 (the resumed session still
    // carries the first login's token request): then that one is what the UI keeps.
    let kept = tokens.last().unwrap().clone();
    assert!(tokens.len() == 2 || (tokens.len() == 3 && kept.count == 0), "{tokens:?}");
    alice.close_cleanly().await;

    // A reload: the UI hands the kept token back instead of a password.
    let reload = ConnectOptions {
        token: Some(kept.clone()),
        device_id: Some(device.clone()),
        ..ConnectOptions::with_password(account.clone(), String::new(), Some(url.to_owned()))
    };
    let mut again = Probe::with("reloaded", reload.clone());
    again.online().await;
    let before = kept.count;
    let kept = fast_tokens(&again.seen).pop().unwrap();
    assert_eq!(kept.count, before + 1);
    again.close_cleanly().await;

    // Log out: the server revokes the token; after that it is refused, with the error that asks for the password.
    let mut out = Probe::with("log out", ConnectOptions { token: Some(kept.clone()), log_out: true, ..reload.clone() });
    out.expect("invalidated", |e| matches!(e, TransportEvent::Core(Event::FastTokenInvalidated))).await;
    let end = out.finished().await;
    assert_eq!(end, TransportEvent::Core(Event::Closed { error: None }));
    let mut refused = Probe::with("after log out", ConnectOptions { token: Some(kept), ..reload });
    match refused.finished().await {
        TransportEvent::Core(Event::Closed { error: Some(e) }) => {
            assert!(matches!(e, ClientError::FastTokenRefused { .. }) && e.needs_password(), "{e:?}")
        }
        other => panic!("a revoked token must be refused: {other:?}; saw {:#?}", refused.seen),
    }
    refused.quiet().await;
}

/// Records every frame the page's WebSockets send (from now until [`FrameTap::drop`]).
struct FrameTap;

impl FrameTap {
    fn new() -> FrameTap {
        js("const p = WebSocket.prototype; if (!p.__natterSend) { p.__natterSend = p.send; \
            p.send = function (d) { window.__natterFrames.push(String(d)); return p.__natterSend.call(this, d); }; } \
            window.__natterFrames = [];");
        FrameTap
    }

    /// The frames sent so far that contain `needle`.
    fn sent(&self, needle: &str) -> Vec<String> {
        let frames: js_sys::Array = js("return window.__natterFrames;").into();
        frames.iter().filter_map(|f| f.as_string()).filter(|f| f.contains(needle)).collect()
    }
}

impl Drop for FrameTap {
    fn drop(&mut self) {
        js("const p = WebSocket.prototype; if (p.__natterSend) { p.send = p.__natterSend; delete p.__natterSend; }");
    }
}

fn js(body: &str) -> wasm_bindgen::JsValue {
    js_sys::Function::new_no_args(body).call0(&wasm_bindgen::JsValue::NULL).expect("script runs")
}

/// Makes the page look hidden or visible (headless Chromium is always visible): `document.hidden` is shadowed
/// on the document, then `visibilitychange` is dispatched, as a browser does when the tab changes.
fn set_hidden(hidden: bool) {
    js(&format!(
        "Object.defineProperty(document, 'hidden', {{ configurable: true, get: () => {hidden} }});\
         Object.defineProperty(document, 'visibilityState', {{ configurable: true, get: () => '{}' }});\
         document.dispatchEvent(new Event('visibilitychange', {{ bubbles: true }}));",
        if hidden { "hidden" } else { "visible" }
    ));
}

#[wasm_bindgen_test]
async fn a_hidden_page_tells_the_server_it_is_inactive_and_active_again_when_shown() {
    let tap = FrameTap::new();
    let mut alice = Probe::start("alice", &hashed("alice"), ALICE_PW, Some(WS_URL));
    alice.online().await;
    assert!(tap.sent("urn:xmpp:csi:0").is_empty(), "a visible page says nothing");
    set_hidden(true);
    let inactive = tap.sent("urn:xmpp:csi:0");
    assert_eq!(inactive.len(), 1, "{inactive:?}");
    assert!(inactive[0].starts_with("<inactive"), "{inactive:?}");
    // Still hidden, the session stays up, and a message still arrives (CSI lets the server delay unimportant
    // traffic, never messages).
    let mut bob = Probe::start("bob", &hashed("bob"), BOB_PW, Some(WS_URL));
    bob.online().await;
    let body = format!("while hidden {}", js_sys::Math::random());
    let id = natter::transport::message_id();
    bob.session().send(Command::SendMessage { to: jid(&hashed("alice")), body: body.clone(), id }).expect("sent");
    alice
        .expect(
            "bob's message",
            |e| matches!(e, TransportEvent::Core(Event::Message(m)) if m.body(None) == Some(body.as_str())),
        )
        .await;
    // Bob's session, started while the page was hidden, began inactive too; shown again, both say active.
    assert_eq!(tap.sent("urn:xmpp:csi:0").len(), 2);
    set_hidden(false);
    let csi = tap.sent("urn:xmpp:csi:0");
    assert_eq!(csi.len(), 4, "{csi:?}");
    assert!(
        csi[..2].iter().all(|f| f.starts_with("<inactive")) && csi[2..].iter().all(|f| f.starts_with("<active")),
        "{csi:?}"
    );
    assert!(!alice.seen.iter().any(|e| matches!(e, TransportEvent::Reconnecting { .. }) || is_final(e)));
    alice.close_cleanly().await;
    bob.close_cleanly().await;
}

#[wasm_bindgen_test]
async fn a_session_that_cannot_come_back_gives_back_what_the_server_never_confirmed() {
    // localhost draws a new salt at every login, so the reconnect fails for good (KeysStale) and the messages
    // the lost session still owned come back as `Unsent`, right before the final event, with their ids.
    let mut alice = Probe::start("alice", "alice", ALICE_PW, Some(WS_URL));
    alice.online().await;
    let id = natter::transport::message_id();
    alice
        .session()
        .send(Command::SendMessage { to: jid("carol"), body: "unconfirmed".into(), id: id.clone() })
        .expect("sent");
    // In the same task: the server's acknowledgement cannot have arrived yet.
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    alice.session().reconnect_now();
    assert!(!reconnected(&mut alice).await, "saw {:#?}", alice.seen);
    let last_two = &alice.seen[alice.seen.len() - 2..];
    let TransportEvent::Unsent(back) = &last_two[0] else { panic!("no Unsent before the end: {:#?}", alice.seen) };
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].message.id.as_deref(), Some(id.as_str()));
    assert_eq!(back[0].message.body(None), Some("unconfirmed"));
    assert!(back[0].sent_unix_ms.is_some(), "with the time it was first sent");
    assert!(!alice.seen.iter().any(|e| matches!(e, TransportEvent::Core(Event::MessageAcked { .. }))));
}

#[wasm_bindgen_test]
async fn a_reconnect_lost_before_it_logged_in_tries_again_with_the_same_keys() {
    // Found by the fault-injection test (e2e/tests/09-fault.mjs): a reconnect attempt whose connection drops
    // before it authenticated has derived no keys of its own; it must not end as "cannot reconnect".
    let mut alice = Probe::start("alice", &hashed("alice"), ALICE_PW, Some(WS_URL));
    alice.online().await;
    let id = natter::transport::message_id();
    alice
        .session()
        .send(Command::SendMessage { to: jid(&hashed("bob")), body: "kept".into(), id: id.clone() })
        .expect("sent");
    browser_says_offline();
    alice.expect("Reconnecting", |e| matches!(e, TransportEvent::Reconnecting { .. })).await;
    alice.session().reconnect_now();
    // The new stream is open and not authenticated yet (the server's answer arrives in a later task).
    alice.expect("the new stream", |e| matches!(e, TransportEvent::Core(Event::Phase(Phase::Connecting)))).await;
    browser_says_offline();
    let again =
        alice.expect("Reconnecting again", |e| matches!(e, TransportEvent::Reconnecting { .. }) || is_final(e)).await;
    assert!(matches!(again, TransportEvent::Reconnecting { .. }), "{again:?}; saw {:#?}", alice.seen);
    alice.session().reconnect_now();
    assert!(reconnected(&mut alice).await, "saw {:#?}", alice.seen);
    let resumed = alice.seen.iter().rev().find_map(|e| match e {
        TransportEvent::Core(Event::Online { resumed, .. }) => Some(*resumed),
        _ => None,
    });
    assert_eq!(resumed, Some(true), "the lost session itself is resumed");
    let acked = |e: &TransportEvent| matches!(e, TransportEvent::Core(Event::MessageAcked { id: a }) if *a == id);
    if !alice.seen.iter().any(acked) {
        alice.expect("the message acknowledged", acked).await;
    }
    alice.close_cleanly().await;
}
