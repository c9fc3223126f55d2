//! The browser half of the transport: one `WebSocket`, one `setTimeout`, `crypto.getRandomValues`, `fetch`, and
//! `String.prototype.normalize` for the core's stringprep.
//!
//! State lives in one `Rc<Inner>`; the `Session` handles hold it strongly, every browser callback (socket
//! handlers, the timer, the discovery task, event delivery) holds it weakly, so dropping the last `Session`
//! drops `Inner`, whose `Drop` sends a `<close/>` if a stream is up, closes the socket, detaches its handlers
//! and clears the timer.
//!
//! Re-entrancy: no `RefCell` borrow is ever held while calling `on_event` or any browser API that could run
//! our callbacks synchronously (none of `send`, `close`, `setTimeout`, `clearTimeout` do). Events are queued
//! and handed to `on_event` from a separate microtask, so `on_event` may call `Session::send`/`close` (which
//! only queue more events) and may drop the `Session`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{BinaryType, MessageEvent, WebSocket};
use web_time::Instant;

use super::discovery::{self, CONFIG_URL};
use super::url::check_ws_url;
use super::{ConnectOptions, TransportError, TransportEvent};
use crate::xmpp::sasl::Credentials;
use crate::xmpp::{Client, Command, CommandError, Config, Event};

/// How long the WebSocket handshake may take before we call the server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long each discovery fetch (config.json, host-meta.json, host-meta) may take.
const FETCH_TIMEOUT_MS: u32 = 10_000;
/// Random bytes behind the SCRAM client nonce (→ 24 base64url characters, no `,`).
const NONCE_BYTES: usize = 18;
/// Random bytes behind the stanza-id prefix (→ 12 base64url characters).
const ID_SEED_BYTES: usize = 9;

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
        match &mut state.stage {
            Stage::Streaming { client, .. } => {
                // Close is always accepted by the core.
                let _ = client.handle_command(Command::Close, Instant::now());
                drop(state);
                inner.drain();
            }
            Stage::Discovering | Stage::Opening { .. } => {
                state.stage = Stage::Finished;
                drop(state);
                inner.arm_timer(None);
                inner.emit(TransportEvent::Core(Event::Closed { error: None }));
            }
            Stage::Finished => {}
        }
    }

    /// Whether the session has ended (a final event was queued); `send` then always fails.
    pub fn is_finished(&self) -> bool {
        matches!(self.inner.state.borrow().stage, Stage::Finished)
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
    let ConnectOptions { jid, password, server_url } = options;
    let domain = jid.domain().to_owned();
    // Nonce and id seed are drawn fresh for every socket, in `on_open`.
    let config = Config::new(jid, Credentials::Password(password), String::new(), String::new());
    let inner = Rc::new_cyclic(|weak: &Weak<Inner>| {
        let weak = weak.clone();
        Inner {
            on_event: Box::new(on_event),
            state: RefCell::new(State { stage: Stage::Discovering, config, redirected: false, generation: 0 }),
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
        Some(url) => check_ws_url(&url),
        None => {
            match weak.upgrade() {
                Some(inner) => inner.emit(TransportEvent::Discovering),
                None => return,
            }
            discover(&domain).await
        }
    };
    let Some(inner) = weak.upgrade() else { return };
    if !matches!(inner.state.borrow().stage, Stage::Discovering) {
        return; // closed while discovering
    }
    match result {
        Ok(url) => inner.open(url),
        Err(e) => inner.fail(e),
    }
}

/// config.json, then host-meta.json, then host-meta; the first acceptable WebSocket URL wins.
async fn discover(domain: &str) -> Result<String, TransportError> {
    if let Some(text) = fetch_text(CONFIG_URL).await
        && let Some(url) = discovery::config_websocket_url(&text, domain)
    {
        // The operator named the endpoint explicitly: its verdict (even "insecure") is final.
        return check_ws_url(&url);
    }
    let [json_url, xml_url] = discovery::host_meta_urls(domain);
    type Parse = fn(&str) -> Vec<String>;
    let sources: [(String, Parse); 2] = [
        (json_url, discovery::host_meta_json_websockets),
        (xml_url, discovery::host_meta_xml_websockets),
    ];
    let mut refused = None;
    for (url, parse) in sources {
        let Some(text) = fetch_text(&url).await else { continue };
        for href in parse(&text) {
            match check_ws_url(&href) {
                Ok(url) => return Ok(url),
                Err(e) => {
                    refused.get_or_insert(e);
                }
            }
        }
    }
    Err(refused.unwrap_or_else(|| TransportError::NoEndpoint { domain: domain.to_owned() }))
}

/// The body of a successful (2xx) GET, or `None` on any failure (network, CORS, timeout, 404, …).
async fn fetch_text(url: &str) -> Option<String> {
    let signal = web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS);
    let response = gloo_net::http::Request::get(url).abort_signal(Some(&signal)).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    response.text().await.ok()
}

/// NFKC normalization for the core's stringprep (`crate::xmpp::prep`), from the browser's own Unicode data
/// (`String.prototype.normalize`), so the wasm file carries no normalization tables. The core declares this
/// function, with exactly this signature, and calls it only for non-ASCII JIDs and credentials.
#[unsafe(no_mangle)]
fn natter_nfkc(s: &str) -> String {
    js_sys::JsString::from(s).normalize("NFKC").into()
}

/// `n` bytes from `crypto.getRandomValues`, base64url without padding (printable, never `,`).
fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .expect("crypto.getRandomValues is available wherever WebAssembly and WebSocket are");
    URL_SAFE_NO_PAD.encode(&bytes)
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
}

struct State {
    stage: Stage,
    /// The session settings; each socket gets a copy with a fresh nonce and id seed.
    config: Config,
    /// A `see-other-uri` redirect was already followed.
    redirected: bool,
    /// Numbers sockets, so a late callback from an old socket is recognised and ignored.
    generation: u32,
}

/// Where the connection is, carrying exactly what is valid there.
enum Stage {
    /// Waiting for the URL (config.json / XEP-0156, or just the URL check).
    Discovering,
    /// WebSocket handshake in progress; `deadline` bounds it.
    Opening { socket: Socket, deadline: Instant },
    /// Socket open, the core running.
    Streaming { socket: Socket, client: Box<Client> },
    /// Over: the final event is queued; nothing is held.
    Finished,
}

impl Stage {
    fn name(&self) -> &'static str {
        match self {
            Stage::Discovering => "discovering",
            Stage::Opening { .. } => "opening",
            Stage::Streaming { .. } => "streaming",
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

    fn open(self: &Rc<Self>, url: String) {
        self.emit(TransportEvent::Connecting { url: url.clone() });
        let generation = {
            let mut state = self.state.borrow_mut();
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

    /// Ends the attempt with `Failed(error)`, releasing the socket and the timer.
    fn fail(self: &Rc<Self>, error: TransportError) {
        self.state.borrow_mut().stage = Stage::Finished;
        self.arm_timer(None);
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
                let url = socket.url.clone();
                drop(state);
                self.fail(TransportError::Unreachable { url });
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
            Stage::Discovering | Stage::Finished => {}
        }
    }

    /// After any input to the core: send its frames, queue its events, re-arm the timer; once the core is
    /// finished, close the socket (after the last frames) and follow a redirect if there was one.
    fn drain(self: &Rc<Self>) {
        let mut events = Vec::new();
        let mut redirect = None;
        let next_timeout = {
            let mut state = self.state.borrow_mut();
            let Stage::Streaming { socket, client } = &mut state.stage else { return };
            while let Some(frame) = client.poll_transmit() {
                socket.send(&frame);
            }
            while let Some(event) = client.poll_event() {
                match event {
                    Event::Redirect { uri } => redirect = Some(uri),
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
        if let Some(uri) = redirect {
            self.follow_redirect(uri);
        }
    }

    fn follow_redirect(self: &Rc<Self>, uri: String) {
        let already = std::mem::replace(&mut self.state.borrow_mut().redirected, true);
        if already {
            self.fail(TransportError::TooManyRedirects { url: uri });
            return;
        }
        match check_ws_url(&uri) {
            Ok(url) => self.open(url),
            Err(e) => self.fail(e),
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
