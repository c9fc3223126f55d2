//! What the browser tests (`tests/web_*.rs`) share: waiting for the UI to settle, a clean URL, the chat screen
//! mounted into a fresh element of the page with a session (a real one that never connects, or a
//! [`SessionHandle::fake`] the test plays), alice@example.org coming online with her roster, and DOM queries.
//!
//! Include it with `#[path = "support/web.rs"] mod web;` in a test file that starts with
//! `#![cfg(target_arch = "wasm32")]`.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use natter::storage::indexed::IdbBackend;
use natter::storage::{Backend, Op, Store};
use natter::transport::{ConnectOptions, TransportEvent};
use natter::ui::login::LoginForm;
use natter::ui::model::{ChatMessage, Delivery};
use natter::ui::persist;
use natter::ui::sidebar::MainScreen;
use natter::ui::state::{AppState, Connection, SessionHandle};
use natter::xmpp::client::muc::{Occupant, RoomEvent};
use natter::xmpp::jid::{BareJid, Jid};
use natter::xmpp::stanza::muc::{Affiliation, Role};
use natter::xmpp::stanza::presence::Availability;
use natter::xmpp::stanza::roster::{RosterItem, Subscription};
use natter::xmpp::{Command, CommandError, Event};
use wasm_bindgen::{JsCast, JsValue};

/// The full address the tests log in as.
pub const ALICE_WEB: &str = "alice@example.org/web";

pub fn bare(s: &str) -> BareJid {
    BareJid::parse(s).unwrap()
}

pub fn core(ev: Event) -> TransportEvent {
    TransportEvent::Core(ev)
}

/// Resolves at the next animation frame (and nothing else).
pub async fn next_frame() {
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().request_animation_frame(&resolve).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(frame).await.unwrap();
}

/// Lets effects run and what waits for the next animation frame (the roster's re-sort, scrolling) happen.
pub async fn settle() {
    settle_frames(1).await;
}

/// [`settle`] over `frames` animation frames.
pub async fn settle_frames(frames: usize) {
    for _ in 0..frames {
        tick().await;
        next_frame().await;
    }
    tick().await;
}

/// Resolves after `ms` milliseconds (a timer task).
pub async fn sleep(ms: i32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(wait).await.unwrap();
}

/// Sets the page's URL fragment to `hash` ("" for none) without a navigation, and says whether it took:
/// Chromium ignores history changes beyond about 200 in 10 seconds (its flooding protection). The app opens
/// the conversation or room a fragment names (`#/chat/…`, `#/room/…`), so a fragment an earlier test's screen
/// left would leak its state into the next test.
pub fn set_url_fragment(hash: &str) -> bool {
    let window = web_sys::window().unwrap();
    let url = format!("{}{hash}", window.location().pathname().unwrap());
    window.history().unwrap().replace_state_with_url(&JsValue::NULL, "", Some(&url)).unwrap();
    window.location().hash().unwrap_or_default() == hash
}

/// Before a new screen: what the previous test's screen left behind (its history navigation, which is
/// asynchronous, its cleanup) settles first, then the URL fragment is set to `hash`, again every 500 ms until
/// it took.
pub async fn fresh_page(hash: &str) {
    next_frame().await;
    next_frame().await;
    while !set_url_fragment(hash) {
        sleep(500).await;
    }
}

/// A roster item both ways (`Subscription::Both`).
pub fn roster_item(jid: &str, name: Option<&str>, groups: &[&str]) -> RosterItem {
    let mut i = RosterItem::new(bare(jid));
    i.name = name.map(str::to_owned);
    i.subscription = Subscription::Both;
    i.groups = groups.iter().map(|g| (*g).to_owned()).collect();
    i
}

/// Empties the account's database on this device and writes `ops` into it.
pub async fn seed(account: &str, ops: Vec<Op>) {
    IdbBackend.delete(&bare(account)).await.unwrap();
    let store = IdbBackend.open(&bare(account)).await.unwrap();
    store.apply(ops).await.unwrap();
    store.close();
}

/// A transcript row with no text, sender or time: number `seq`, stanza id `id`, ours (in state `delivery`)
/// when `delivery` is given.
pub fn row(seq: u64, id: &str, delivery: Option<Delivery>) -> ChatMessage {
    ChatMessage {
        seq,
        id: Some(id.into()),
        from_me: delivery.is_some(),
        sender: String::new(),
        time: String::new(),
        time_full: String::new(),
        time_iso: String::new(),
        unix_ms: 0,
        archive_id: None,
        body: String::new(),
        is_me_action: false,
        continued: false,
        delivery,
        error: None,
    }
}

/// The commands a fake session took, in order.
pub type Taken = Rc<RefCell<Vec<Command>>>;

/// A fake session that takes every command (and records it).
pub fn recording() -> (SessionHandle, Taken) {
    recording_unless(|_| Ok(()))
}

/// A fake session that asks `refuse` first: what it refuses is answered with its error and not recorded.
pub fn recording_unless(refuse: impl Fn(&Command) -> Result<(), CommandError> + 'static) -> (SessionHandle, Taken) {
    let taken = Taken::default();
    let session = {
        let taken = taken.clone();
        SessionHandle::fake(Rc::new(move |cmd: Command| {
            refuse(&cmd)?;
            taken.borrow_mut().push(cmd);
            Ok(())
        }))
    };
    (session, taken)
}

/// The app mounted into a fresh element at the end of the page's body, with a store of its own; the element
/// is removed again on drop.
pub struct Screen {
    pub store: AppState,
    pub session: SessionHandle,
    pub root: web_sys::HtmlElement,
    _mounted: Box<dyn std::any::Any>,
}

impl Screen {
    /// `app` mounted with the store, `session` and `form` provided.
    pub fn mount_with(
        session: SessionHandle,
        form: LoginForm,
        app: impl FnOnce(AppState) -> AnyView + 'static,
    ) -> Screen {
        let root: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
        document().body().unwrap().append_child(&root).unwrap();
        let store = AppState::default();
        let mounted = mount_to(root.clone(), move || {
            provide_context(store);
            provide_context(session);
            provide_context(form);
            app(store)
        });
        Screen { store, session, root, _mounted: Box::new(mounted) }
    }

    /// The chat screen ([`MainScreen`]); nothing in the store yet.
    pub fn main(session: SessionHandle) -> Screen {
        Screen::mount_with(session, LoginForm::default(), |_| view! { <MainScreen /> }.into_any())
    }

    /// The chat screen with the store kept on this device ([`persist::watch`]).
    pub fn main_kept(session: SessionHandle) -> Screen {
        Screen::mount_with(session, LoginForm::default(), |store| {
            persist::watch(store);
            view! { <MainScreen /> }.into_any()
        })
    }

    /// The login path without the network, for a screen that keeps its store ([`Screen::main_kept`]): the
    /// account's store on this device opened and painted, the connect options seeded from it.
    pub async fn log_in(&self, account: &str, stay: bool) -> ConnectOptions {
        self.store.connection.set(Connection::LoggingIn);
        let options = ConnectOptions::with_password(bare(account), "pw".into(), None);
        let options = persist::load(self.store, options, stay).await;
        settle().await;
        options
    }

    /// An event of the session, as the transport delivers it ([`SessionHandle::receive`]).
    pub fn receive(&self, event: TransportEvent) {
        self.session.receive(self.store, event);
    }

    /// Alice online as [`ALICE_WEB`] (not resumed), then her roster of `items`.
    pub fn sign_in(&self, items: Vec<RosterItem>) {
        self.receive(core(Event::Online { jid: Jid::parse(ALICE_WEB).unwrap(), resumed: false }));
        self.receive(core(Event::Roster { items, ver: None }));
    }

    pub fn all(&self, selector: &str) -> Vec<web_sys::HtmlElement> {
        let list = self.root.query_selector_all(selector).unwrap();
        (0..list.length()).filter_map(|i| list.item(i)).map(|n| n.unchecked_into()).collect()
    }

    /// The first element that matches; panics with the DOM when none does.
    pub fn one(&self, selector: &str) -> web_sys::HtmlElement {
        self.root
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("no element matches {selector}; DOM: {}", self.root.inner_html()))
            .unchecked_into()
    }

    pub fn has(&self, selector: &str) -> bool {
        self.root.query_selector(selector).unwrap().is_some()
    }

    /// The text of the first element that matches.
    pub fn text(&self, selector: &str) -> String {
        self.one(selector).text_content().unwrap_or_default()
    }

    /// The texts of the elements that match, exactly as they are.
    pub fn contents(&self, selector: &str) -> Vec<String> {
        self.all(selector).iter().map(|e| e.text_content().unwrap_or_default()).collect()
    }

    /// The texts of the elements that match, white space around them trimmed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        self.all(selector).iter().map(|e| e.text_content().unwrap_or_default().trim().to_owned()).collect()
    }

    /// All the text on the screen.
    pub fn page_text(&self) -> String {
        self.root.text_content().unwrap_or_default()
    }

    /// The button whose text, trimmed, is `label`.
    pub fn button(&self, label: &str) -> web_sys::HtmlElement {
        self.all("button")
            .into_iter()
            .find(|b| b.text_content().unwrap_or_default().trim() == label)
            .unwrap_or_else(|| panic!("no button {label}; DOM: {}", self.root.inner_html()))
    }

    /// Types `text` into the input or textarea that matches `selector`.
    pub fn type_into(&self, selector: &str, text: &str) {
        type_into(&self.one(selector), text);
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.root.remove();
    }
}

/// `impl Deref<Target = Screen>` for a test's harness that holds its [`Screen`] in the field `screen`.
macro_rules! deref_to_screen {
    ($harness:ty) => {
        impl std::ops::Deref for $harness {
            type Target = $crate::web::Screen;
            fn deref(&self) -> &$crate::web::Screen {
                &self.screen
            }
        }
    };
}
pub(crate) use deref_to_screen;

/// Types `text` into the input or textarea `el` (its value, then an `input` event that bubbles, as typing does).
pub fn type_into(el: &web_sys::HtmlElement, text: &str) {
    js_sys::Reflect::set(el, &"value".into(), &text.into()).unwrap();
    let dispatch = js_sys::Function::new_with_args("el", "el.dispatchEvent(new Event('input', { bubbles: true }))");
    dispatch.call1(&JsValue::NULL, el).unwrap();
}

/// Someone in a room as `role`: no affiliation, available, no real address or occupant id.
pub fn occupant(nick: &str, role: Role) -> Occupant {
    Occupant {
        nick: nick.into(),
        jid: None,
        affiliation: Affiliation::None,
        role,
        presence: Availability::default(),
        occupant_id: None,
    }
}

/// A member of a room, taking part: what we are in the rooms of these tests.
pub fn member(nick: &str) -> Occupant {
    let mut m = occupant(nick, Role::Participant);
    m.affiliation = Affiliation::Member;
    m
}

/// The room's word that we are in it as `me`, with `occupants` listed (none unlisted; an existing room).
pub fn joined(room: BareJid, me: Occupant, occupants: Vec<Occupant>) -> RoomEvent {
    RoomEvent::Joined { room, me, occupants, unlisted: 0, created: false, info: None }
}
