//! Login round trips and wall time against the real servers, the three ways Natter logs in: legacy SASL +
//! bind (RFC 6120), SASL2 + Bind2 (XEP-0388/0386) with a password, and FAST (XEP-0484) with a token.
//!
//! Run by `scripts/bench.sh` (section 4), or by hand with the servers' env loaded:
//! `cargo run --release --example login_timing [-- ROUNDS]`. For every server whose `NATTER_<NAME>_WS` is
//! set it logs in as alice ROUNDS times each way (SASL2 and FAST only where offered) and prints a Markdown
//! table: the round trips to online (the client's flights of frames, each waiting for the server's answer,
//! up to the roster request; XEP-0198 `<r/>`/`<a/>` alone is no flight: nothing waits on it) and the time from the open socket to `Event::Online` (median, min). Figures
//! only: it never fails on timing. Same native core and loop as `tests/servers.rs` (tungstenite, loopback).

#[path = "../tests/support/native_ws.rs"]
mod native_ws;

use std::net::TcpStream;
use std::time::Duration;

use native_ws::Server;
use natter::xmpp::sasl::{Credentials, FastToken};
use natter::xmpp::xml::Element;
use natter::xmpp::{Client, Config, Event};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};
use web_time::Instant;

const SERVERS: [(&str, &str); 4] = [
    ("prosody", "NATTER_PROSODY"),
    ("prosody13", "NATTER_PROSODY13"),
    ("ejabberd", "NATTER_EJABBERD"),
    ("ejabberd24", "NATTER_EJABBERD24"),
];

/// One login: round trips to online, the time it took, and the events (for the token).
struct Login {
    flights: u32,
    time: Duration,
    events: Vec<Event>,
}

fn socket(server: &Server) -> WebSocket<MaybeTlsStream<TcpStream>> {
    let mut req = server.ws_url.as_str().into_client_request().unwrap();
    req.headers_mut().insert("Sec-WebSocket-Protocol", "xmpp".parse().unwrap());
    let (ws, _) = tungstenite::connect(req).unwrap_or_else(|e| panic!("{}: {e}", server.name));
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
    }
    ws
}

/// Sends what the client queued; returns how many frames went out that the login waits on (XEP-0198 ack
/// traffic, `<r/>` and `<a/>`, goes out too but gates nothing).
fn flush(ws: &mut WebSocket<MaybeTlsStream<TcpStream>>, client: &mut Client, events: &mut Vec<Event>) -> usize {
    let mut n = 0;
    while let Some(frame) = client.poll_transmit() {
        let ack =
            Element::parse(&frame).is_ok_and(|el| el.ns == "urn:xmpp:sm:3" && matches!(el.name.as_str(), "r" | "a"));
        ws.send(Message::text(frame)).unwrap();
        n += usize::from(!ack);
    }
    events.extend(std::iter::from_fn(|| client.poll_event()));
    n
}

/// Logs in with `config` (the socket already open, as the browser's `on_open`), until online; then closes.
fn log_in(server: &Server, config: Config) -> Login {
    let mut ws = socket(server);
    let mut events = Vec::new();
    let start = Instant::now();
    let mut client = Client::new(config, start);
    let mut flights = u32::from(flush(&mut ws, &mut client, &mut events) > 0);
    while !events.iter().any(|e| matches!(e, Event::Online { .. })) {
        if let Some(Event::Closed { error }) = events.iter().find(|e| matches!(e, Event::Closed { .. })) {
            panic!("{}: login failed: {error:?}", server.name);
        }
        match ws.read().unwrap_or_else(|e| panic!("{}: {e}", server.name)) {
            Message::Text(t) => client.handle_frame(t.as_str(), Instant::now()),
            Message::Close(_) => panic!("{}: socket closed", server.name),
            _ => continue,
        }
        // The client's answer to this frame is the next flight; `Online` itself needs no answer.
        if flush(&mut ws, &mut client, &mut events) > 0 && !events.iter().any(|e| matches!(e, Event::Online { .. })) {
            flights += 1;
        }
    }
    let time = start.elapsed();
    let _ = client.handle_command(natter::xmpp::Command::Close, Instant::now());
    flush(&mut ws, &mut client, &mut Vec::new());
    let _ = ws.close(None);
    Login { flights, time, events }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    println!("| server | login | round trips to online | time to online, median (min) of {rounds} |");
    println!("|---|---|---:|---:|");
    for (name, prefix) in SERVERS {
        let Some(server) = Server::from_env(name, prefix) else {
            eprintln!("{prefix}_WS not set: {name} not measured");
            continue;
        };
        let password = std::env::var("NATTER_DEMO_ALICE_PASSWORD").unwrap_or_else(|_| "alice-demo-pw".into());
        // One device for every login of this server (FAST tokens belong to it); fresh nonces each time.
        let device = server.config("alice", &password);
        let fresh = |credentials: Credentials, sasl2: bool| {
            let c = server.config("alice", &password);
            Config { credentials, sasl2, client_nonce: c.client_nonce, id_seed: c.id_seed, ..device.clone() }
        };
        let password_credentials = Credentials::Password(password.clone());
        let run = |label: &str, make: &mut dyn FnMut() -> Config| {
            log_in(&server, make()); // warm-up (and the server's caches)
            let logins: Vec<Login> = (0..rounds).map(|_| log_in(&server, make())).collect();
            let flights = logins[0].flights;
            assert!(logins.iter().all(|l| l.flights == flights), "{name} {label}: round trips vary");
            let times: Vec<Duration> = logins.iter().map(|l| l.time).collect();
            let min = *times.iter().min().unwrap();
            println!("| {name} | {label} | {flights} | {} ({}) |", ms(median(times)), ms(min));
            logins
        };
        run("legacy SASL + bind, SCRAM", &mut || fresh(password_credentials.clone(), false));
        // SASL2 where offered: on the stable servers this is the legacy path again, so it is not repeated.
        if !matches!(name, "prosody13" | "ejabberd24") {
            continue;
        }
        run("SASL2 + Bind2, SCRAM", &mut || fresh(password_credentials.clone(), true));
        let mut asking = fresh(password_credentials.clone(), true);
        asking.request_fast_token = true;
        let issued = log_in(&server, asking).events.into_iter().find_map(|e| match e {
            Event::FastToken(t) => Some(t),
            _ => None,
        });
        let Some(mut token): Option<FastToken> = issued else {
            eprintln!("{name}: no FAST token issued: FAST not measured");
            continue;
        };
        run("FAST (HT-SHA-256-NONE), token", &mut || {
            let config = fresh(Credentials::Token(token.clone()), true);
            token.count += 1; // what the core emits at each attempt, kept as the UI would
            config
        });
    }
}
