//! A scripted XMPP peer for the end-to-end tests (e2e/): the project's own sans-IO core driven over a native
//! WebSocket (tungstenite), controlled with JSON lines on stdin and reporting JSON lines on stdout.
//!
//! ```text
//! cargo run --example peer -- --ws ws://127.0.0.1:5280/xmpp-websocket --jid bob@localhost --password bob-demo-pw \
//!     [--show away] [--status "At lunch"] [--priority 10]
//! ```
//!
//! Commands (one JSON object per line on stdin; those given before the session is online wait for it):
//! ```text
//! {"cmd":"send","to":"alice@localhost","body":"hi"}                 optional "id" (default: drawn here)
//! {"cmd":"presence","show":"away","status":"At lunch","priority":10}   show: available|chat|away|xa|dnd
//! {"cmd":"subscribe","to":"alice@localhost"}
//! {"cmd":"approve","jid":"alice@localhost"}
//! {"cmd":"deny","jid":"alice@localhost"}
//! {"cmd":"burst","to":"alice@localhost","count":1000,"prefix":"m"}   bodies m-0001 … m-1000
//! {"cmd":"chatstate","to":"alice@localhost","state":"composing"}   active|composing|paused|inactive|gone
//! {"cmd":"join","room":"lobby@conference.localhost","nick":"bob"}   optional "password"
//! {"cmd":"room_send","room":"lobby@conference.localhost","body":"hi"}   optional "id"
//! {"cmd":"leave","room":"lobby@conference.localhost"}
//! {"cmd":"create","room":"new@conference.localhost","nick":"bob"}   an instant room (the service's defaults)
//! {"cmd":"displayed","to":"alice@localhost","id":"…"}     XEP-0333: that message and those before it were seen
//! {"cmd":"check","from":"alice@localhost","prefix":"f-","count":300}
//!     of the messages received from `from` whose body is `prefix` + a number: were 1…count each received
//!     exactly once and in order? Answers with a `check` event (below).
//! {"cmd":"close"}                                            (end of stdin closes too)
//! ```
//! Events (one JSON object per line on stdout, flushed after each):
//! ```text
//! {"event":"online","jid":"bob@localhost/res"}
//! {"event":"roster","items":[{"jid":…,"name":…,"subscription":…}]}
//! {"event":"message","from":"alice@localhost","resource":…,"body":"hi","id":…}
//! {"event":"sent","to":"alice@localhost","body":"hi","id":…}
//! {"event":"acked","id":…}  {"event":"receipt","from":…,"id":…}  {"event":"displayed","from":…,"id":…}
//! {"event":"chatstate","from":"alice@localhost","state":"composing"}    (only those sent without a body)
//! {"event":"burst_done","to":…,"count":1000}
//! {"event":"presence","jid":"alice@localhost","show":"away"|…|null,"status":…}   null = offline
//! {"event":"subscription_request","from":…,"status":…}
//! {"event":"subscription_approved","from":…}
//! {"event":"subscription_revoked","from":…}
//! {"event":"message_error","with":…,"id":…,"error":…}
//! {"event":"request_failed","action":…,"error":…}
//! {"event":"room_joined","room":…,"nick":…,"occupants":N}   {"event":"room_join_failed","room":…,"error":…}
//! {"event":"room_message","room":…,"nick":…,"body":…,"mentions_me":bool}   {"event":"room_reflected","room":…,"id":…}
//! {"event":"room_left","room":…,"why":…}   {"event":"room_invited","room":…,"from":…}   {"event":"room_created","room":…}
//! {"event":"command_error","cmd":…,"error":…}
//! {"event":"check","from":…,"prefix":…,"ok":true|false,"received":N,"missing":[…],"duplicates":[…],"out_of_order":[…]}
//! {"event":"closed","error":null|"words"}
//! ```
//! The process exits 0 after a polite close, 1 when the session ended with an error, 2 on bad arguments.
//!
//! Native only: on wasm32 this example compiles to an empty `main` so `cargo build --target wasm32-unknown-unknown
//! --examples` keeps working.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(native::run());
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::VecDeque;
    use std::hash::{BuildHasher, Hasher};
    use std::io::{BufRead, Write};
    use std::net::TcpStream;
    use std::sync::mpsc;
    use std::time::Duration;

    use natter::xmpp::client::muc::{RoomAction, RoomCommand, RoomEvent};
    use natter::xmpp::jid::BareJid;
    use natter::xmpp::sasl::Credentials;
    use natter::xmpp::stanza::message::ChatState;
    use natter::xmpp::stanza::presence::{Availability, Show};
    use natter::xmpp::{Client, Command, Config, Event};
    use serde_json::{Value, json};
    use tungstenite::client::IntoClientRequest;
    use tungstenite::stream::MaybeTlsStream;
    use tungstenite::{Message, WebSocket};
    use web_time::Instant;

    struct Args {
        ws: String,
        jid: String,
        password: String,
        resource: Option<String>,
        show: Option<String>,
        status: Option<String>,
        priority: i8,
    }

    fn parse_args() -> Result<Args, String> {
        let mut ws = None;
        let mut jid = None;
        let mut password = None;
        let mut resource = None;
        let mut show = None;
        let mut status = None;
        let mut priority = 0;
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--ws" => ws = Some(value()?),
                "--jid" => jid = Some(value()?),
                "--password" => password = Some(value()?),
                "--resource" => resource = Some(value()?),
                "--show" => show = Some(value()?),
                "--status" => status = Some(value()?),
                "--priority" => priority = value()?.parse().map_err(|e| format!("--priority: {e}"))?,
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(Args {
            ws: ws.ok_or("--ws URL is required")?,
            jid: jid.ok_or("--jid JID is required")?,
            password: password.ok_or("--password PASSWORD is required")?,
            resource,
            show,
            status,
            priority,
        })
    }

    /// One JSON line on stdout, flushed (the test runner reads line by line).
    fn emit(v: Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{v}");
        let _ = out.flush();
    }

    /// Fresh randomness without a crate: std's per-process random hash keys mixed with the clock and pid.
    fn random_hex() -> String {
        let mut s = String::new();
        for i in 0..2u64 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(i);
            h.write_u128(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
            );
            h.write_u32(std::process::id());
            s.push_str(&format!("{:016x}", h.finish()));
        }
        s
    }

    fn show_parse(s: &str) -> Result<Show, String> {
        Ok(match s {
            "available" | "online" | "" => Show::Available,
            "chat" => Show::Chat,
            "away" => Show::Away,
            "xa" => Show::Xa,
            "dnd" => Show::Dnd,
            other => return Err(format!("unknown show {other:?}")),
        })
    }

    fn show_name(s: Show) -> &'static str {
        match s {
            Show::Available => "available",
            Show::Chat => "chat",
            Show::Away => "away",
            Show::Xa => "xa",
            Show::Dnd => "dnd",
        }
    }

    fn availability(show: Option<&str>, status: Option<&str>, priority: i8) -> Result<Availability, String> {
        Ok(Availability {
            show: show_parse(show.unwrap_or("available"))?,
            status: status.filter(|s| !s.is_empty()).map(str::to_owned),
            priority,
        })
    }

    fn jid_field(v: &Value, key: &str) -> Result<BareJid, String> {
        let s = v.get(key).and_then(Value::as_str).ok_or_else(|| format!("\"{key}\" (a bare JID) is required"))?;
        BareJid::parse(s).map_err(|e| format!("\"{key}\": {e}"))
    }

    fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        v.get(key).and_then(Value::as_str)
    }

    /// A message id unique to this process run: the start time in nanoseconds and a counter.
    fn message_id() -> String {
        use std::sync::OnceLock;
        use std::sync::atomic::{AtomicU64, Ordering};
        static START: OnceLock<u128> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let start = START.get_or_init(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
        });
        format!("peer-{start:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// What a stdin line asks for.
    enum Request {
        Core(Command),
        Burst { to: BareJid, count: u64, prefix: String },
        Check { from: BareJid, prefix: String, count: u64 },
    }

    fn parse_request(v: &Value) -> Result<Request, String> {
        let cmd = str_field(v, "cmd").ok_or("\"cmd\" is required")?;
        Ok(match cmd {
            "send" => Request::Core(Command::SendMessage {
                to: jid_field(v, "to")?,
                body: str_field(v, "body").ok_or("\"body\" is required")?.to_owned(),
                id: str_field(v, "id").map_or_else(message_id, str::to_owned),
            }),
            "presence" => Request::Core(Command::SetPresence(availability(
                str_field(v, "show"),
                str_field(v, "status"),
                match v.get("priority") {
                    None => 0,
                    Some(p) => p
                        .as_i64()
                        .and_then(|p| i8::try_from(p).ok())
                        .ok_or("\"priority\" is a number from -128 to 127")?,
                },
            )?)),
            "subscribe" => Request::Core(Command::Subscribe { jid: jid_field(v, "to")? }),
            "approve" => Request::Core(Command::ApproveSubscription { jid: jid_field(v, "jid")? }),
            "deny" => Request::Core(Command::DenySubscription { jid: jid_field(v, "jid")? }),
            "burst" => Request::Burst {
                to: jid_field(v, "to")?,
                count: v.get("count").and_then(Value::as_u64).ok_or("\"count\" (a number) is required")?,
                prefix: str_field(v, "prefix").unwrap_or("m").to_owned(),
            },
            "chatstate" => Request::Core(Command::SendChatState {
                to: jid_field(v, "to")?,
                state: match str_field(v, "state") {
                    Some("active") => ChatState::Active,
                    Some("composing") => ChatState::Composing,
                    Some("paused") => ChatState::Paused,
                    Some("inactive") => ChatState::Inactive,
                    Some("gone") => ChatState::Gone,
                    _ => return Err("\"state\" is active|composing|paused|inactive|gone".into()),
                },
            }),
            "join" => Request::Core(Command::Room(RoomCommand::Join {
                room: jid_field(v, "room")?,
                nick: str_field(v, "nick").ok_or("\"nick\" is required")?.to_owned(),
                password: str_field(v, "password").map(str::to_owned),
                history: None,
            })),
            "room_send" => Request::Core(Command::Room(RoomCommand::Send {
                room: jid_field(v, "room")?,
                body: str_field(v, "body").ok_or("\"body\" is required")?.to_owned(),
                id: str_field(v, "id").map_or_else(message_id, str::to_owned),
            })),
            "leave" => Request::Core(Command::Room(RoomCommand::Leave { room: jid_field(v, "room")?, status: None })),
            "create" => Request::Core(Command::Room(RoomCommand::Create {
                room: jid_field(v, "room")?,
                nick: str_field(v, "nick").ok_or("\"nick\" is required")?.to_owned(),
                settings: None,
            })),
            "displayed" => Request::Core(Command::SendDisplayed {
                to: jid_field(v, "to")?,
                id: str_field(v, "id").ok_or("\"id\" is required")?.to_owned(),
            }),
            "check" => Request::Check {
                from: jid_field(v, "from")?,
                prefix: str_field(v, "prefix").ok_or("\"prefix\" is required")?.to_owned(),
                count: v.get("count").and_then(Value::as_u64).ok_or("\"count\" (a number) is required")?,
            },
            "close" => Request::Core(Command::Close),
            other => return Err(format!("unknown cmd {other:?}")),
        })
    }

    struct Peer {
        ws: WebSocket<MaybeTlsStream<TcpStream>>,
        client: Client,
        /// Requests that arrived before the session was online.
        waiting: VecDeque<(String, Request)>,
        /// Every message received: (sender's bare JID, body), in order.
        received: Vec<(String, String)>,
        closed: Option<Option<String>>,
    }

    impl Peer {
        /// Sends what the core wants sent and reports its events.
        fn flush(&mut self) {
            while let Some(frame) = self.client.poll_transmit() {
                // The server may already be gone after a close; the core hears about it from the read side.
                let _ = self.ws.send(Message::text(frame));
            }
            while let Some(e) = self.client.poll_event() {
                self.report(e);
            }
        }

        fn report(&mut self, e: Event) {
            match e {
                Event::Online { jid, resumed } => {
                    emit(json!({"event": "online", "jid": jid.to_string(), "resumed": resumed}))
                }
                Event::MessageAcked { id } => emit(json!({"event": "acked", "id": id})),
                Event::Receipt { from, id } => emit(json!({"event": "receipt", "from": from.to_string(), "id": id})),
                Event::Displayed { from, id } => {
                    emit(json!({"event": "displayed", "from": from.to_string(), "id": id}))
                }
                Event::ReadElsewhere { with, id } => {
                    emit(json!({"event": "read-elsewhere", "with": with.to_string(), "id": id}))
                }
                Event::Roster { items, .. } => emit(json!({
                    "event": "roster",
                    "items": items.iter().map(|i| json!({
                        "jid": i.jid.to_string(),
                        "name": i.name,
                        "subscription": format!("{:?}", i.subscription).to_lowercase(),
                    })).collect::<Vec<_>>(),
                })),
                Event::Message(m) => {
                    let from = m.from.as_ref().map(|j| j.bare().to_string()).unwrap_or_default();
                    self.received.push((from, m.body(None).unwrap_or_default().to_owned()));
                    emit(json!({
                    "event": "message",
                    "from": m.from.as_ref().map(|j| j.bare().to_string()),
                    "resource": m.from.as_ref().and_then(|j| j.resource()),
                    "body": m.body(None),
                    "id": m.id,
                    }))
                }
                Event::MessageSent(m) => emit(json!({
                    "event": "sent",
                    "to": m.to.as_ref().map(|j| j.bare().to_string()),
                    "body": m.body(None),
                    "id": m.id,
                })),
                Event::ChatState { from, state } => {
                    emit(json!({"event": "chatstate", "from": from.to_string(), "state": state.wire()}))
                }
                Event::ContactPresence { jid, presence } => emit(json!({
                    "event": "presence",
                    "jid": jid.to_string(),
                    "show": presence.as_ref().map(|p| show_name(p.show)),
                    "status": presence.as_ref().and_then(|p| p.status.clone()),
                })),
                Event::SubscriptionRequest { from, status } => {
                    emit(json!({"event": "subscription_request", "from": from.to_string(), "status": status}))
                }
                Event::SubscriptionApproved { from } => {
                    emit(json!({"event": "subscription_approved", "from": from.to_string()}))
                }
                Event::SubscriptionRevoked { from } => {
                    emit(json!({"event": "subscription_revoked", "from": from.to_string()}))
                }
                Event::PresenceError { from, error } => emit(json!({
                    "event": "presence_error", "from": from.to_string(), "error": error.describe(),
                })),
                Event::MessageError { with, id, error } => emit(json!({
                    "event": "message_error", "with": with.to_string(), "id": id, "error": error.describe(),
                })),
                Event::RequestFailed { action, error } => emit(json!({
                    "event": "request_failed", "action": format!("{action:?}"), "error": error.to_string(),
                })),
                Event::Closed { error } => {
                    let error = error.map(|e| e.describe());
                    emit(json!({"event": "closed", "error": error}));
                    self.closed = Some(error);
                }
                Event::Redirect { uri } => emit(json!({"event": "redirect", "uri": uri})),
                Event::Room(RoomEvent::Joined { room, me, occupants, .. }) => emit(json!({
                    "event": "room_joined", "room": room.to_string(), "nick": me.nick, "occupants": occupants.len(),
                })),
                Event::Room(RoomEvent::JoinFailed { room, error }) => {
                    emit(json!({"event": "room_join_failed", "room": room.to_string(), "error": error.describe()}))
                }
                Event::Room(RoomEvent::Message(m)) => emit(json!({
                    "event": "room_message", "room": m.room.to_string(), "nick": m.nick,
                    "body": m.message.body(None), "mentions_me": m.mentions_me,
                })),
                Event::Room(RoomEvent::Reflected { room, id, .. }) => {
                    emit(json!({"event": "room_reflected", "room": room.to_string(), "id": id}))
                }
                Event::Room(RoomEvent::Done { room, action: RoomAction::Create }) => {
                    emit(json!({"event": "room_created", "room": room.to_string()}))
                }
                Event::Room(RoomEvent::Left { room, why }) => {
                    emit(json!({"event": "room_left", "room": room.to_string(), "why": why.describe("", true)}))
                }
                Event::Room(RoomEvent::Invited(i)) => {
                    emit(json!({"event": "room_invited", "room": i.room.to_string(), "from": i.from.to_string()}))
                }
                Event::ArchivePage(page) => emit(json!({
                    "event": "archive_page",
                    "messages": page.messages.iter().map(|m| json!({
                        "id": m.id, "with": m.with.to_string(), "outgoing": m.outgoing, "body": m.message.body(None),
                    })).collect::<Vec<_>>(),
                    "complete": page.complete,
                })),
                Event::ArchiveFailed { query, error } => emit(json!({
                    "event": "archive_failed", "query": format!("{query:?}"), "error": error.describe(),
                })),
                Event::Phase(_)
                | Event::FastToken(_)
                | Event::FastTokenInvalidated
                | Event::RosterPush { .. }
                | Event::Room(_)
                | Event::Bookmarks(_)
                | Event::ArchiveCursor { .. }
                | Event::CatchingUp
                | Event::CaughtUp
                | Event::ArchiveGap(_)
                | Event::GapFilled { .. } => {}
            }
        }

        /// The `check` request: numbers 1…count from `from` with `prefix`, each once, in order.
        fn check(&self, from: &BareJid, prefix: &str, count: u64) {
            let from = from.to_string();
            let numbers: Vec<u64> = self
                .received
                .iter()
                .filter(|(f, _)| *f == from)
                .filter_map(|(_, body)| body.strip_prefix(prefix)?.parse().ok())
                .collect();
            let mut seen = std::collections::HashSet::new();
            let duplicates: Vec<u64> = numbers.iter().copied().filter(|n| !seen.insert(*n)).collect();
            let missing: Vec<u64> = (1..=count).filter(|n| !seen.contains(n)).collect();
            let out_of_order: Vec<u64> = numbers.windows(2).filter(|w| w[1] <= w[0]).map(|w| w[1]).collect();
            let ok =
                duplicates.is_empty() && missing.is_empty() && out_of_order.is_empty() && numbers.len() as u64 == count;
            emit(json!({
                "event": "check", "from": from, "prefix": prefix, "ok": ok, "received": numbers.len(),
                "missing": missing, "duplicates": duplicates, "out_of_order": out_of_order,
            }));
        }

        fn request(&mut self, cmd: String, r: Request) {
            if let Request::Check { from, prefix, count } = &r {
                return self.check(from, prefix, *count);
            }
            if !self.client.is_online() && !matches!(r, Request::Core(Command::Close)) {
                self.waiting.push_back((cmd, r));
                return;
            }
            match r {
                Request::Core(c) => {
                    if let Err(e) = self.client.handle_command(c, Instant::now()) {
                        emit(json!({"event": "command_error", "cmd": cmd, "error": e.to_string()}));
                    }
                    self.flush();
                }
                Request::Check { .. } => {}
                Request::Burst { to, count, prefix } => {
                    let width = count.to_string().len().max(4);
                    for i in 1..=count {
                        let body = format!("{prefix}-{i:0width$}");
                        let c = Command::SendMessage { to: to.clone(), body, id: message_id() };
                        if let Err(e) = self.client.handle_command(c, Instant::now()) {
                            emit(json!({"event": "command_error", "cmd": cmd, "error": e.to_string()}));
                            break;
                        }
                        self.flush();
                    }
                    emit(json!({"event": "burst_done", "to": to.to_string(), "count": count}));
                }
            }
        }

        /// One turn: read what arrived (or time out briefly), fire the deadline if due, send, report.
        fn step(&mut self) {
            match self.ws.read() {
                Ok(Message::Text(t)) => self.client.handle_frame(t.as_str(), Instant::now()),
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
            if self.client.is_online() {
                while let Some((cmd, r)) = self.waiting.pop_front() {
                    self.request(cmd, r);
                }
            }
        }
    }

    pub fn run() -> i32 {
        let args = match parse_args() {
            Ok(a) => a,
            Err(e) => {
                eprintln!(
                    "peer: {e}\nusage: peer --ws URL --jid JID --password PASSWORD [--resource R] [--show S] [--status TEXT] [--priority N]"
                );
                return 2;
            }
        };
        let jid = match BareJid::parse(&args.jid) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("peer: --jid: {e}");
                return 2;
            }
        };
        let initial = match availability(args.show.as_deref(), args.status.as_deref(), args.priority) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("peer: {e}");
                return 2;
            }
        };
        let mut config =
            Config::new(jid, Credentials::Password(args.password), random_hex(), random_hex()[..8].to_owned());
        config.resource = args.resource;
        config.initial_presence = initial;
        // Rooms only when asked ("join"): the demo accounts' autojoin bookmark would put every peer in the lobby.
        config.bookmarks = false;

        let mut req = match args.ws.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("peer: --ws: {e}");
                return 2;
            }
        };
        req.headers_mut().insert("Sec-WebSocket-Protocol", "xmpp".parse().expect("a valid header value"));
        let ws = match tungstenite::connect(req) {
            Ok((ws, _)) => ws,
            Err(e) => {
                emit(json!({"event": "closed", "error": format!("cannot connect to {}: {e}", args.ws)}));
                return 1;
            }
        };
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
            let _ = s.set_nodelay(true);
        }

        // stdin → channel, so the socket loop never blocks on it. End of input counts as "close".
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    return;
                }
            }
            let _ = tx.send(r#"{"cmd":"close"}"#.to_owned());
        });

        let client = Client::new(config, Instant::now());
        let mut peer = Peer { ws, client, waiting: VecDeque::new(), received: Vec::new(), closed: None };
        peer.flush();
        let mut close_asked: Option<std::time::Instant> = None;
        while peer.closed.is_none() {
            peer.step();
            while let Ok(line) = rx.try_recv() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let parsed =
                    serde_json::from_str::<Value>(line).map_err(|e| e.to_string()).and_then(|v| parse_request(&v));
                match parsed {
                    Ok(r) => {
                        if matches!(r, Request::Core(Command::Close)) {
                            close_asked.get_or_insert_with(std::time::Instant::now);
                        }
                        peer.request(line.to_owned(), r);
                    }
                    Err(e) => emit(json!({"event": "command_error", "cmd": line, "error": e})),
                }
                if peer.closed.is_some() {
                    break;
                }
            }
            // A server that never answers our <close/> must not keep the peer alive forever.
            if close_asked.is_some_and(|t| t.elapsed() > Duration::from_secs(5)) && peer.closed.is_none() {
                peer.client.handle_transport_closed();
                peer.flush();
            }
        }
        let _ = peer.ws.close(None);
        let _ = peer.ws.flush();
        match peer.closed {
            Some(None) => 0,
            _ => 1,
        }
    }
}
