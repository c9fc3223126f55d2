//! The browser half of the transport: one `WebSocket`, one `setTimeout`, `crypto.getRandomValues`, and
//! `String.prototype.normalize` for the core's stringprep (discovery's fetching is [`super::lookup`]).
//!
//! State lives in one `Rc<Inner>`; the `Session` handles hold it strongly, every browser callback (socket
//! handlers, the timer, the discovery task, event delivery) holds it weakly, so dropping the last `Session`
//! drops `Inner`, whose `Drop` sends a `<close/>` if a stream is up, closes the socket, detaches its handlers
//! and clears the timer.
//!
//! Reconnecting (see the module docs of [`super`]) adds one stage, `Waiting` for the next attempt, and three
//! browser listeners (`online`, `offline`, `visibilitychange`) owned by `Inner` and removed on its `Drop`.
//!
//! Re-entrancy: no `RefCell` borrow is ever held while calling `on_event` or any browser API that could run
//! our callbacks synchronously (none of `send`, `close`, `setTimeout`, `clearTimeout` do). Events are queued
//! and handed to `on_event` from a separate microtask, so `on_event` may call `Session::send`/`close` (which
//! only queue more events) and may drop the `Session`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{BinaryType, MessageEvent, WebSocket};
use web_time::Instant;

use super::lookup;
use super::url::{check_redirect, check_ws_url};
use super::{ConnectOptions, MAX_ATTEMPTS, TransportError, TransportEvent, session_config, stream_from_allowed};
use crate::xmpp::client::{PendingMessage, WallClock};
use crate::xmpp::reconnect::{Backoff, worth_retrying};
use crate::xmpp::sasl::Credentials;
use crate::xmpp::{Client, Command, CommandError, Config, Event};

/// How long the WebSocket handshake may take before we call the server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Random bytes behind the SCRAM client nonce (→ 24 base64url characters, no `,`).
const NONCE_BYTES: usize = 18;
/// Random bytes behind the stanza-id prefix (→ 12 base64url characters).
const ID_SEED_BYTES: usize = 9;
/// Random bytes behind a message id (→ 22 base64url characters).
const MESSAGE_ID_BYTES: usize = 16;
/// A page hidden at least this long may have slept: when it shows again, a pending reconnect starts at once.
const LONG_HIDDEN: Duration = Duration::from_secs(30);

/// A running session. Cloning shares it; dropping the last clone closes the socket and frees its callbacks.
///
/// Do not capture a `Session` inside the `on_event` closure given to [`connect`] (that would be a reference
/// cycle: the session would never be dropped, though its socket still closes when the session ends); keep it
/// in a signal or `StoredValue` instead.
#[derive(Clone)]
pub struct Session {
    inner: Rc<Inner>,
}

impl Session {
    /// Carries out a user action; frames go out immediately, resulting events arrive through `on_event`.
    /// `Err(NotOnline)` while the connection is not up yet or is over. `Command::Close` is [`Session::close`].
    pub fn send(&self, command: Command) -> Result<(), CommandError> {
        if let Command::Close = command {
            self.close();
            return Ok(());
        }
        let result = match &mut self.inner.state.borrow_mut().stage {
            Stage::Streaming { client, .. } => client.handle_command(command, Instant::now()),
            _ => Err(CommandError::NotOnline),
        };
        self.inner.drain();
        result
    }

    /// Closes politely: sends `<close/>`, waits (at most a few seconds) for the server's, then closes the socket;
    /// ends with `Core(Event::Closed { error: None })`. Before the stream is up it cancels the attempt, with the
    /// same final event. Does nothing once the session is over.
    pub fn close(&self) {
        let inner = &self.inner;
        let mut state = inner.state.borrow_mut();
        // Whatever happens next, no reconnect: forget the keys (or the password of a login still running).
        state.forget_credentials();
        match &mut state.stage {
            Stage::Streaming { client, .. } => {
                // Close is always accepted by the core.
                let _ = client.handle_command(Command::Close, Instant::now());
                drop(state);
                inner.drain();
            }
            Stage::Discovering | Stage::Opening { .. } | Stage::Waiting { .. } => {
                state.stage = Stage::Finished;
                let unsent = state.take_unsent();
                drop(state);
                inner.arm_timer(None);
                inner.emit_unsent(unsent);
                inner.emit(TransportEvent::Core(Event::Closed { error: None }));
            }
            Stage::Finished => {}
        }
    }

    /// Whether the session has ended (a final event was queued); `send` then always fails.
    pub fn is_finished(&self) -> bool {
        matches!(self.inner.state.borrow().stage, Stage::Finished)
    }

    /// While waiting to reconnect: try now, with the backoff reset. Otherwise nothing.
    pub fn reconnect_now(&self) {
        self.inner.reconnect_now();
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stage = self.inner.state.try_borrow().map(|s| s.stage.name()).unwrap_or("busy");
        f.debug_struct("Session").field("stage", &stage).finish()
    }
}

/// Starts discovery and connection; events arrive through `on_event` (always asynchronously). Keep the
/// returned `Session`: dropping it cancels everything.
pub fn connect(options: ConnectOptions, on_event: impl Fn(TransportEvent) + 'static) -> Session {
    let domain = options.jid.domain().to_owned();
    let server_url = options.server_url.clone();
    // Nonce and id seed are drawn fresh for every socket, in `on_open`.
    let config = session_config(options);
    let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
        let listeners = browser_listeners(weak);
        let weak = weak.clone();
        Inner {
            on_event: Box::new(on_event),
            state: RefCell::new(State {
                stage: Stage::Discovering,
                config,
                redirects: 0,
                generation: 0,
                url: String::new(),
                online_once: false,
                backoff: Backoff::default(),
                hidden_since: None,
            }),
            _listeners: listeners,
            outbox: RefCell::new(VecDeque::new()),
            delivery_scheduled: Cell::new(false),
            timer_handle: Cell::new(None),
            timer_callback: Closure::new(move || {
                if let Some(inner) = weak.upgrade() {
                    inner.on_timer();
                }
            }),
        }
    });
    spawn_local(start(Rc::downgrade(&inner), server_url, domain));
    Session { inner }
}

/// Resolves the URL (given, or discovered), then opens the socket.
async fn start(weak: Weak<Inner>, server_url: Option<String>, domain: String) {
    let result = match server_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => check_ws_url(&url).map(|url| (url, None)),
        None => {
            match weak.upgrade() {
                Some(inner) => inner.emit(TransportEvent::Discovering),
                None => return,
            }
            lookup::discover(&domain).await
        }
    };
    let Some(inner) = weak.upgrade() else { return };
    if !matches!(inner.state.borrow().stage, Stage::Discovering) {
        return; // closed while discovering
    }
    match result {
        Ok((url, timeout)) => {
            if let Some(timeout) = timeout {
                inner.state.borrow_mut().config.request_timeout = timeout;
            }
            inner.open(url)
        }
        Err(e) => inner.fail(e),
    }
}

/// Ends an attempt whose WebSocket handshake failed at `url`: `NotXmppEndpoint` when a web server answers a
/// plain request there (any status; `no-cors`, so nothing is read), `Unreachable` when nothing does. Does
/// nothing if the session was closed meanwhile.
async fn explain_failed_handshake(weak: Weak<Inner>, url: String) {
    let http = match url.split_once("://") {
        Some(("wss", rest)) => format!("https://{rest}"),
        Some((_, rest)) => format!("http://{rest}"),
        None => url.clone(),
    };
    let answered = super::lookup::answers_http(&http).await;
    let Some(inner) = weak.upgrade() else { return };
    if !matches!(inner.state.borrow().stage, Stage::Discovering) {
        return; // closed meanwhile
    }
    inner.fail(if answered { TransportError::NotXmppEndpoint { url } } else { TransportError::Unreachable { url } });
}

/// NFKC normalization for the core's stringprep (`crate::xmpp::prep`), from the browser's own Unicode data
/// (`String.prototype.normalize`), so the wasm file carries no normalization tables. The core declares this
/// function, with exactly this signature, and calls it only for non-ASCII JIDs and credentials.
#[unsafe(no_mangle)]
fn natter_nfkc(s: &str) -> String {
    js_sys::JsString::from(s).normalize("NFKC").into()
}

/// A fresh id for a message the person sends (XEP-0359 origin-id): 128 random bits, 22 characters.
pub fn message_id() -> String {
    random_token(MESSAGE_ID_BYTES)
}

/// The browser's wall clock, for the core's XEP-0203 stamps (the core reads no clock).
fn wall_clock() -> WallClock {
    WallClock { at: Instant::now(), unix_ms: js_sys::Date::now().max(0.0) as u64 }
}

/// `n` bytes from `crypto.getRandomValues`, base64url without padding (printable, never `,`).
/// A fresh XEP-0388 user-agent id for this device (a random version 4 UUID): draw it once, keep it with the
/// account, and pass it in [`ConnectOptions::device_id`] at every login; FAST tokens are bound to it.
pub fn new_device_id() -> String {
    let mut bytes = [0u8; 16];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .expect("crypto.getRandomValues is available wherever WebAssembly and WebSocket are");
    super::uuid_v4(bytes)
}

fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .expect("crypto.getRandomValues is available wherever WebAssembly and WebSocket are");
    Base64UrlUnpadded::encode_string(&bytes)
}

struct Inner {
    on_event: Box<dyn Fn(TransportEvent)>,
    state: RefCell<State>,
    /// Events waiting for the delivery microtask.
    outbox: RefCell<VecDeque<TransportEvent>>,
    delivery_scheduled: Cell<bool>,
    /// The one armed `setTimeout`, if any.
    timer_handle: Cell<Option<i32>>,
    timer_callback: Closure<dyn FnMut()>,
    _listeners: Vec<Listener>,
}

struct State {
    stage: Stage,
    /// The session settings; each socket gets a copy with a fresh nonce and id seed.
    config: Config,
    /// `see-other-uri` redirects followed since the last time a session got online.
    redirects: u32,
    /// Numbers sockets, so a late callback from an old socket is recognised and ignored.
    generation: u32,
    /// The URL of the last socket: where a reconnect goes.
    url: String,
    /// The session has been online: from then on a transient loss means reconnecting.
    online_once: bool,
    backoff: Backoff,
    /// When the page was hidden (`visibilitychange`), while it is.
    hidden_since: Option<Instant>,
}

impl State {
    /// Drops the password or keys the next socket would log in with (the core keeps its own copy of the keys).
    fn forget_credentials(&mut self) {
        self.config.credentials = Credentials::Password(String::new());
    }

    /// The messages a lost session still owned (carried in the config for the next attempt), taken out.
    fn take_unsent(&mut self) -> Vec<PendingMessage> {
        self.config.stream.take().map(|s| s.pending_messages().cloned().collect()).unwrap_or_default()
    }
}

/// Where the connection is, carrying exactly what is valid there.
enum Stage {
    /// Waiting for the URL (config.json / XEP-0156, or just the URL check).
    Discovering,
    /// WebSocket handshake in progress; `deadline` bounds it.
    Opening { socket: Socket, deadline: Instant },
    /// Socket open, the core running.
    Streaming { socket: Socket, client: Box<Client> },
    /// The session was lost; the next attempt starts at `until` (if the browser is online then).
    Waiting { until: Instant },
    /// Over: the final event is queued; nothing is held.
    Finished,
}

impl Stage {
    fn name(&self) -> &'static str {
        match self {
            Stage::Discovering => "discovering",
            Stage::Opening { .. } => "opening",
            Stage::Streaming { .. } => "streaming",
            Stage::Waiting { .. } => "waiting",
            Stage::Finished => "finished",
        }
    }
}

impl Inner {
    /// Queues `event` for `on_event` and makes sure a delivery microtask is scheduled.
    fn emit(self: &Rc<Self>, event: TransportEvent) {
        self.outbox.borrow_mut().push_back(event);
        if !self.delivery_scheduled.replace(true) {
            spawn_local(deliver(Rc::downgrade(self)));
        }
    }

    /// Hands back, before a final event, the messages the core still owned (see `TransportEvent::Unsent`).
    fn emit_unsent(self: &Rc<Self>, unsent: Vec<PendingMessage>) {
        if !unsent.is_empty() {
            self.emit(TransportEvent::Unsent(unsent));
        }
    }

    fn open(self: &Rc<Self>, url: String) {
        self.emit(TransportEvent::Connecting { url: url.clone() });
        let generation = {
            let mut state = self.state.borrow_mut();
            state.url.clone_from(&url);
            state.generation = state.generation.wrapping_add(1);
            state.generation
        };
        match Socket::open(&url, generation, Rc::downgrade(self)) {
            Ok(socket) => {
                let deadline = Instant::now() + CONNECT_TIMEOUT;
                self.state.borrow_mut().stage = Stage::Opening { socket, deadline };
                self.arm_timer(Some(deadline));
            }
            // The browser's own parser refused it (our check is stricter, so this is rare).
            Err(_) => self.fail(TransportError::InvalidUrl { url }),
        }
    }

    /// Ends the attempt with `Failed(error)`, releasing the socket and the timer; an unreachable server
    /// during a reconnect only means waiting for the next attempt.
    fn fail(self: &Rc<Self>, error: TransportError) {
        let transient = matches!(error, TransportError::Unreachable { .. } | TransportError::NotXmppEndpoint { .. });
        if transient && self.state.borrow().online_once {
            self.retry_later(error.to_string());
            return;
        }
        let unsent = {
            let mut state = self.state.borrow_mut();
            state.stage = Stage::Finished;
            state.take_unsent()
        };
        self.arm_timer(None);
        self.emit_unsent(unsent);
        self.emit(TransportEvent::Failed(error));
    }

    fn on_open(self: &Rc<Self>, generation: u32) {
        {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            match std::mem::replace(&mut state.stage, Stage::Finished) {
                Stage::Opening { socket, .. } if socket.generation == generation => {
                    let mut config = state.config.clone();
                    config.client_nonce = random_token(NONCE_BYTES);
                    config.id_seed = random_token(ID_SEED_BYTES);
                    config.stream_from = stream_from_allowed(&socket.url);
                    config.clock = Some(wall_clock());
                    config.inactive = page_hidden();
                    let client = Box::new(Client::new(config, Instant::now()));
                    state.stage = Stage::Streaming { socket, client };
                }
                other => {
                    state.stage = other;
                    return;
                }
            }
        }
        self.drain();
    }

    fn on_message(self: &Rc<Self>, generation: u32, data: JsValue) {
        let text = match data.as_string() {
            Some(text) => text,
            // RFC 7395 §3.2 wants text frames; a binary one is decoded and left to the core to judge.
            None => match data.dyn_ref::<js_sys::ArrayBuffer>() {
                Some(buffer) => String::from_utf8_lossy(&js_sys::Uint8Array::new(buffer).to_vec()).into_owned(),
                None => return,
            },
        };
        match &mut self.state.borrow_mut().stage {
            Stage::Streaming { socket, client } if socket.generation == generation => {
                client.handle_frame(&text, Instant::now());
            }
            _ => return,
        }
        self.drain();
    }

    /// The socket's `close` or `error` event (an error is always followed by a close; whichever comes first
    /// counts, the second finds the socket gone).
    fn on_socket_closed(self: &Rc<Self>, generation: u32) {
        let mut state = self.state.borrow_mut();
        match &mut state.stage {
            Stage::Opening { socket, .. } if socket.generation == generation => {
                // The browser does not say why a handshake failed; asking the same address over HTTP tells a
                // server that is not there from one that answers but not as an XMPP WebSocket.
                let url = socket.url.clone();
                state.stage = Stage::Discovering;
                drop(state);
                self.arm_timer(None);
                spawn_local(explain_failed_handshake(Rc::downgrade(self), url));
            }
            Stage::Streaming { socket, client } if socket.generation == generation => {
                client.handle_transport_closed();
                drop(state);
                self.drain();
            }
            _ => {}
        }
    }

    fn on_timer(self: &Rc<Self>) {
        self.timer_handle.set(None);
        let now = Instant::now();
        let mut state = self.state.borrow_mut();
        match &mut state.stage {
            Stage::Opening { socket, deadline } => {
                if now >= *deadline {
                    let url = socket.url.clone();
                    drop(state);
                    self.fail(TransportError::Unreachable { url });
                } else {
                    let deadline = *deadline;
                    drop(state);
                    self.arm_timer(Some(deadline));
                }
            }
            Stage::Streaming { client, .. } => {
                client.handle_timeout(now);
                drop(state);
                self.drain();
            }
            Stage::Waiting { until } => {
                let until = *until;
                drop(state);
                if now < until {
                    self.arm_timer(Some(until));
                } else if browser_online() {
                    self.retry_now();
                } // else: the `online` event starts the attempt.
            }
            Stage::Discovering | Stage::Finished => {}
        }
    }

    /// Schedules the next attempt after a transient loss, or gives up after [`MAX_ATTEMPTS`].
    fn retry_later(self: &Rc<Self>, reason: String) {
        let mut state = self.state.borrow_mut();
        let attempts = state.backoff.attempts();
        if attempts >= MAX_ATTEMPTS {
            state.stage = Stage::Finished;
            state.forget_credentials();
            let unsent = state.take_unsent();
            drop(state);
            self.arm_timer(None);
            self.emit_unsent(unsent);
            self.emit(TransportEvent::Failed(TransportError::GaveUp { attempts, reason }));
            return;
        }
        let delay = state.backoff.next_delay(js_sys::Math::random());
        let until = Instant::now() + delay;
        state.stage = Stage::Waiting { until };
        drop(state);
        self.arm_timer(Some(until));
        self.emit(TransportEvent::Reconnecting { attempt: attempts + 1, delay, reason });
    }

    /// Starts a reconnect attempt now (from `Waiting`).
    fn retry_now(self: &Rc<Self>) {
        let url = self.state.borrow().url.clone();
        self.open(url);
    }

    /// `reconnect_now`, the `online` event and a long-hidden page showing again: a pending attempt starts
    /// now with the backoff reset; a socket the browser already closed counts as lost first.
    fn reconnect_now(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        match &state.stage {
            Stage::Waiting { .. } => {
                state.backoff.reset();
                drop(state);
                self.retry_now();
            }
            Stage::Streaming { socket, .. } if socket.ws.ready_state() != WebSocket::OPEN => {
                let generation = socket.generation;
                state.backoff.reset();
                drop(state);
                self.on_socket_closed(generation);
            }
            _ => {}
        }
    }

    /// The browser lost the network: the socket is as good as gone (it may take minutes to notice itself).
    fn on_offline(self: &Rc<Self>) {
        let generation = match &self.state.borrow().stage {
            Stage::Streaming { socket, .. } => socket.generation,
            _ => return,
        };
        self.on_socket_closed(generation);
    }

    fn on_visibility(self: &Rc<Self>) {
        let hidden = page_hidden();
        let mut state = self.state.borrow_mut();
        // XEP-0352: the server may hold back presence floods while nobody looks; becoming visible again also
        // probes a connection that has been silent (a sleeping laptop's socket may be dead without a close).
        if let Stage::Streaming { client, .. } = &mut state.stage {
            let _ = client.handle_command(Command::SetActive(!hidden), Instant::now());
            drop(state);
            self.drain();
            state = self.state.borrow_mut();
        }
        if hidden {
            state.hidden_since.get_or_insert_with(Instant::now);
            return;
        }
        let long = state.hidden_since.take().is_some_and(|t| t.elapsed() >= LONG_HIDDEN);
        drop(state);
        if long {
            self.reconnect_now();
        }
    }

    /// After any input to the core: send its frames, queue its events, re-arm the timer; once the core is
    /// finished, close the socket (after the last frames) and follow a redirect if there was one.
    fn drain(self: &Rc<Self>) {
        let mut events = Vec::new();
        let mut redirect = None;
        let mut retry = None;
        let next_timeout = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let Stage::Streaming { socket, client } = &mut state.stage else { return };
            while let Some(frame) = client.poll_transmit() {
                socket.send(&frame);
            }
            while let Some(event) = client.poll_event() {
                match event {
                    Event::Redirect { uri } => {
                        // After the login the password is gone: the redirected session logs in with the keys.
                        if let Some(config) = client.resumption().filter(|_| state.online_once) {
                            state.config = config;
                        }
                        redirect = Some((uri, client.is_server_verified()));
                    }
                    Event::Online { jid, resumed } => {
                        state.online_once = true;
                        state.redirects = 0;
                        state.backoff.reset();
                        // From now on the password is not needed: reconnects use the session's keys.
                        state.config.credentials = Credentials::Password(String::new()); // (`stage` is borrowed here)
                        events.push(TransportEvent::Core(Event::Online { jid, resumed }));
                    }
                    Event::Closed { error: Some(error) } if state.online_once && worth_retrying(&error) => {
                        // An attempt lost before it authenticated has no keys of its own to hand on; the config
                        // it started from (the lost session's keys and stream state) is still the one to use.
                        let kept =
                            matches!(state.config.credentials, Credentials::Keys(_)).then(|| state.config.clone());
                        retry = Some(match client.resumption().or(kept) {
                            Some(config) => Ok((config, error.describe())),
                            None => Err((error.describe(), client.pending_messages())),
                        });
                    }
                    event @ Event::Closed { .. } => {
                        let unsent = client.pending_messages();
                        if !unsent.is_empty() {
                            events.push(TransportEvent::Unsent(unsent));
                        }
                        events.push(TransportEvent::Core(event));
                    }
                    event => events.push(TransportEvent::Core(event)),
                }
            }
            if client.is_closed() {
                // Dropping the socket closes it (code 1000) after the frames queued above.
                state.stage = Stage::Finished;
                None
            } else {
                client.poll_timeout()
            }
        };
        self.arm_timer(next_timeout);
        for event in events {
            self.emit(event);
        }
        if let Some((uri, server_verified)) = redirect {
            self.follow_redirect(uri, server_verified);
        }
        match retry {
            Some(Ok((config, reason))) => {
                self.state.borrow_mut().config = config;
                self.retry_later(reason);
            }
            Some(Err((reason, unsent))) => {
                self.emit_unsent(unsent);
                self.emit(TransportEvent::Failed(TransportError::CannotReconnect { reason }));
            }
            None => {}
        }
    }

    /// Opens the redirect's target if [`check_redirect`] allows it, else ends with the reason.
    fn follow_redirect(self: &Rc<Self>, uri: String, server_verified: bool) {
        let decision = {
            let mut state = self.state.borrow_mut();
            state.redirects += 1;
            check_redirect(&state.url, &uri, server_verified, state.redirects - 1)
        };
        match decision {
            Ok(url) => self.open(url),
            Err(why) => self.fail(TransportError::RedirectRefused { url: uri, why }),
        }
    }

    /// (Re)arms the one timer for `deadline`, or just clears it.
    fn arm_timer(&self, deadline: Option<Instant>) {
        let Some(window) = web_sys::window() else { return };
        if let Some(handle) = self.timer_handle.take() {
            window.clear_timeout_with_handle(handle);
        }
        let Some(deadline) = deadline else { return };
        // Round up so the timer never fires before the deadline (the core would just ask again).
        let ms = deadline.saturating_duration_since(Instant::now()).as_millis().saturating_add(1);
        let ms = i32::try_from(ms).unwrap_or(i32::MAX);
        let callback: &js_sys::Function = self.timer_callback.as_ref().unchecked_ref();
        if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback, ms) {
            self.timer_handle.set(Some(handle));
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let (Some(handle), Some(window)) = (self.timer_handle.take(), web_sys::window()) {
            window.clear_timeout_with_handle(handle);
        }
        if let Stage::Streaming { socket, client } = &mut self.state.get_mut().stage {
            // A last polite word: the server gets `<close/>` right before the WebSocket close frame.
            let _ = client.handle_command(Command::Close, Instant::now());
            while let Some(frame) = client.poll_transmit() {
                socket.send(&frame);
            }
        }
        // The fields drop next: the Socket closes and detaches its handlers; the timer closure is released.
    }
}

/// Hands queued events to `on_event`, one at a time, holding no borrow while it runs.
async fn deliver(weak: Weak<Inner>) {
    let Some(inner) = weak.upgrade() else { return };
    loop {
        let next = inner.outbox.borrow_mut().pop_front();
        match next {
            Some(event) => (inner.on_event)(event),
            None => break,
        }
    }
    inner.delivery_scheduled.set(false);
}

/// A browser WebSocket and its four handlers. Dropping it detaches the handlers and closes the socket.
struct Socket {
    ws: WebSocket,
    url: String,
    generation: u32,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(web_sys::Event)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Socket {
    fn open(url: &str, generation: u32, inner: Weak<Inner>) -> Result<Socket, JsValue> {
        let ws = WebSocket::new_with_str(url, "xmpp")?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let weak = inner.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            if let Some(inner) = weak.upgrade() {
                inner.on_open(generation);
            }
        });
        let weak = inner.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                inner.on_message(generation, e.data());
            }
        });
        let weak = inner.clone();
        let on_close = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            if let Some(inner) = weak.upgrade() {
                inner.on_socket_closed(generation);
            }
        });
        let weak = inner;
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            if let Some(inner) = weak.upgrade() {
                inner.on_socket_closed(generation);
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            url: url.to_owned(),
            generation,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    fn send(&self, frame: &str) {
        // Only throws while CONNECTING, which `Streaming` rules out; once closing, the browser drops data.
        if let Err(e) = self.ws.send_with_str(frame) {
            web_sys::console::warn_2(&"natter: WebSocket send failed".into(), &e);
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        if matches!(self.ws.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN) {
            let _ = self.ws.close_with_code(1000);
        }
    }
}

/// `document.hidden` (false when unknown).
fn page_hidden() -> bool {
    web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden())
}

/// `navigator.onLine` (true when unknown).
fn browser_online() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"navigator".into()).ok())
        .and_then(|n| js_sys::Reflect::get(&n, &"onLine".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// One event listener on the window or the document; removed when dropped.
struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// The browser's hints that the network came back, went away, or the page woke up.
fn browser_listeners(weak: &Weak<Inner>) -> Vec<Listener> {
    let Some(window) = web_sys::window() else { return Vec::new() };
    let document = window.document();
    [
        listen(&window, "online", weak, Inner::reconnect_now),
        listen(&window, "offline", weak, Inner::on_offline),
        document.and_then(|d| listen(&d, "visibilitychange", weak, Inner::on_visibility)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn listen(
    target: &web_sys::EventTarget,
    kind: &'static str,
    weak: &Weak<Inner>,
    handler: fn(&Rc<Inner>),
) -> Option<Listener> {
    let weak = weak.clone();
    let callback = Closure::<dyn FnMut()>::new(move || {
        if let Some(inner) = weak.upgrade() {
            handler(&inner);
        }
    });
    target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref()).ok()?;
    Some(Listener { target: target.clone(), kind, callback })
}
