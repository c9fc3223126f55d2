//! The XSS corpus (`tests/xss/payloads.txt`) put into every peer- or server-supplied text the UI shows, in
//! headless Chromium: the UI is mounted and fed core events through `ui::state::apply`, as `tests/web_ui.rs`
//! does. For each payload and each field, the test asserts that
//! - it renders as text: the element that shows it has exactly that text (or contains it, where the UI wraps
//!   it in words: error texts);
//! - it creates no element: the page has the same elements, in the same order, as with plain words in every
//!   field (links inside message bodies aside, which must be `<a>`s to the allowed schemes holding only text);
//! - no element carries an event handler or a script-loading attribute (`on…`, `src`, `srcdoc`, `action`, …);
//! - it runs nothing: `alert`/`confirm`/`prompt` and `window.__natter_xss` stay untouched, checked after a
//!   control `<img onerror>` of the test's own has fired (which shows the detector works and waited long enough).
//!
//! The test page has no Content-Security-Policy, so a payload that got into the DOM would run: what keeps them
//! inert here is the UI itself (text nodes only), not the CSP.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_xss`
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use natter::transport::discovery::DiscoveryError;
use natter::transport::{TransportError, TransportEvent};
use natter::ui::login::{LoginForm, LoginScreen};
use natter::ui::model;
use natter::ui::sidebar::MainScreen;
use natter::ui::state::{self, Connection, SessionHandle, apply};
use natter::xmpp::client::{ArchivePage, ArchiveQuery, ArchivedMessage, RequestError, RosterAction};
use natter::xmpp::framing::StreamError;
use natter::xmpp::jid::Jid;
use natter::xmpp::sasl::SaslFailure;
use natter::xmpp::stanza::error::{ErrorType, StanzaError};
use natter::xmpp::stanza::message::Message;
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::{ClientError, Event};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, next_frame, roster_item, settle};

/// The corpus: one payload per line, `#` comments and blank lines skipped, `\u{HEX}` decoded.
fn payloads() -> Vec<String> {
    include_str!("xss/payloads.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut out = String::new();
            let mut rest = line;
            while let Some(at) = rest.find("\\u{") {
                out.push_str(&rest[..at]);
                let end = rest[at..].find('}').expect("\\u{…} is closed") + at;
                let code = u32::from_str_radix(&rest[at + 3..end], 16).expect("hex in \\u{…}");
                out.push(char::from_u32(code).expect("a character"));
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            out
        })
        .collect()
}

const PLAIN: &str = "plain words";

/// The login screen or the chat screen, with a session that never connects.
struct Mounted {
    screen: Screen,
}

web::deref_to_screen!(Mounted);

impl Mounted {
    /// Mounts once the URL names no conversation or room ([`web::fresh_page`]).
    async fn new(login: bool) -> Mounted {
        web::fresh_page("").await;
        let screen = Screen::mount_with(SessionHandle::new(), LoginForm::default(), move |_| {
            if login { view! { <LoginScreen /> }.into_any() } else { view! { <MainScreen /> }.into_any() }
        });
        Mounted { screen }
    }

    /// Every element's tag name in document order, leaving out the links inside message bodies (whose count
    /// depends on the text) — those are checked by [`Mounted::links_are_safe`].
    fn shape(&self) -> Vec<String> {
        let all = self.root.query_selector_all("*").unwrap();
        (0..all.length())
            .filter_map(|i| all.item(i)?.dyn_into::<web_sys::Element>().ok())
            .filter(|e| !(e.tag_name() == "A" && e.closest(".message-body").ok().flatten().is_some()))
            .map(|e| e.tag_name())
            .collect()
    }

    /// No element carries an inline handler or an attribute that loads or runs something, and every link is an
    /// `<a>` inside a message body, to an allowed scheme, holding only text. Returns how many links there are.
    fn links_are_safe(&self, payload: &str) -> usize {
        let all = self.root.query_selector_all("*").unwrap();
        let mut links = 0;
        for e in (0..all.length()).filter_map(|i| all.item(i)?.dyn_into::<web_sys::Element>().ok()) {
            let names = e.get_attribute_names();
            for name in names.iter().filter_map(|n| n.as_string()) {
                let risky = name.starts_with("on")
                    || ["src", "srcdoc", "action", "formaction", "background", "xlink:href", "poster", "data"]
                        .contains(&name.as_str());
                assert!(!risky, "{payload:?}: <{}> has attribute {name}", e.tag_name());
            }
            if let Some(href) = e.get_attribute("href") {
                links += 1;
                assert_eq!(e.tag_name(), "A", "{payload:?}: href on <{}>", e.tag_name());
                assert!(e.closest(".message-body").unwrap().is_some(), "{payload:?}: a link outside a message body");
                let lower = href.to_ascii_lowercase();
                assert!(
                    ["https://", "http://", "mailto:", "xmpp:"].iter().any(|s| lower.starts_with(s)),
                    "{payload:?}: href {href:?}"
                );
                assert_eq!(e.child_element_count(), 0, "{payload:?}: elements inside a link");
            }
        }
        links
    }
}

fn stanza_error(text: &str) -> StanzaError {
    StanzaError { kind: ErrorType::Cancel, condition: "service-unavailable".into(), text: Some(text.into()) }
}

/// The chat screen with `p` in every field a peer or server fills: Bob's roster name and group, his status,
/// a message from him (from a resource named `p` when that is a valid resource), the error text of a bounce of
/// our message to him, a subscription request's status, and a refused roster change's error text (a notice).
async fn main_screen_with(p: &str) -> Mounted {
    let m = Mounted::new(false).await;
    let store = m.store;
    m.sign_in(vec![
        roster_item("bob@example.org", Some(p), &[p]),
        roster_item("carol@example.org", Some("Carol"), &[]),
    ]);
    let away = Availability { show: Show::Away, status: Some(p.to_owned()), priority: 0 };
    apply(store, core(Event::ContactPresence { jid: bare("bob@example.org"), presence: Some(away) }));
    state::select(store, bare("bob@example.org"));
    let from =
        Jid::parse(&format!("bob@example.org/{p}")).unwrap_or_else(|_| Jid::parse("bob@example.org/phone").unwrap());
    let mut incoming = Message::chat(Jid::parse("alice@example.org/web").unwrap(), p);
    incoming.from = Some(from);
    incoming.id = Some("in-1".into());
    apply(store, core(Event::Message(incoming)));
    // The same text from the archive (an older message of the catch-up): the same rendering.
    let mut archived = Message::chat(Jid::parse("alice@example.org").unwrap(), p);
    archived.from = Some(Jid::parse("bob@example.org/phone").unwrap());
    let archived = ArchivedMessage {
        id: "archived-1".into(),
        unix_ms: Some(1_600_000_000_000),
        with: bare("bob@example.org"),
        outgoing: false,
        message: archived,
    };
    let page = ArchivePage {
        archive: bare("alice@example.org"),
        query: ArchiveQuery::CatchUp,
        messages: vec![archived],
        oldest: None,
        newest: None,
        complete: false,
    };
    apply(store, core(Event::ArchivePage(page)));
    let mut ours = Message::chat(Jid::parse("bob@example.org").unwrap(), "are you there?");
    ours.id = Some("out-1".into());
    apply(store, core(Event::MessageSent(ours)));
    let bounce =
        Event::MessageError { with: bare("bob@example.org"), id: Some("out-1".into()), error: stanza_error(p) };
    apply(store, core(bounce));
    apply(store, core(Event::SubscriptionRequest { from: bare("eve@example.net"), status: Some(p.to_owned()) }));
    let refused = Event::RequestFailed {
        action: RosterAction::Update(bare("carol@example.org")),
        error: RequestError::Stanza(stanza_error(p)),
    };
    apply(store, core(refused));
    settle().await;
    m
}

/// The login screen after the server redirected us to `p` and then refused the login with the text `p`, and
/// (second shape) after discovery found a document whose parser error quotes `p`.
async fn login_screen_with(p: &str) -> (Mounted, String, String, String) {
    let m = Mounted::new(true).await;
    let store = m.store;
    store.connection.set(Connection::LoggingIn);
    apply(store, core(Event::Redirect { uri: p.to_owned() }));
    settle().await;
    let progress = m.text("#login-status");
    let failure = ClientError::AuthFailed { failure: SaslFailure::AccountDisabled, text: Some(p.to_owned()) };
    apply(store, core(Event::Closed { error: Some(failure) }));
    settle().await;
    let refused = m.text(".login-error");
    store.connection.set(Connection::LoggingIn);
    let malformed =
        DiscoveryError::Malformed { url: "https://example.org/.well-known/host-meta.json".into(), reason: p.into() };
    let none = TransportError::NoEndpoint { domain: "example.org".into(), problems: vec![malformed] };
    apply(store, TransportEvent::Failed(none));
    settle().await;
    let discovery = m.text(".login-error");
    (m, progress, refused, discovery)
}

/// A room whose name, subject (and who set it), an occupant's nick, a message and its sender, a kick's actor and
/// reason, an invitation's reason, a browsed room's name and the reason of its destruction are all `p`. Returns
/// the texts seen before the room was destroyed (occupant nick, kick row) and the status after.
async fn room_screen_with(p: &str) -> (Mounted, String, String, String) {
    use natter::xmpp::client::muc::{Departure, Occupant, OccupantChange, RoomEvent, RoomListing, RoomMessage};
    use natter::xmpp::stanza::message::MessageType;
    use natter::xmpp::stanza::muc::{Affiliation, Invite, Role, RoomInfo};
    let m = Mounted::new(false).await;
    let store = m.store;
    let room = bare("lobby@conference.example.org");
    let ev = |e: RoomEvent| core(Event::Room(e));
    let person = |nick: &str, role| Occupant {
        nick: nick.to_owned(),
        jid: None,
        affiliation: Affiliation::None,
        role,
        presence: Availability::default(),
        occupant_id: None,
    };
    apply(store, core(Event::Online { jid: Jid::parse("alice@example.org/web").unwrap(), resumed: false }));
    let info = RoomInfo { name: Some(p.to_owned()), ..RoomInfo::default() };
    apply(store, ev(RoomEvent::Joining { room: room.clone(), nick: "alice".into() }));
    natter::ui::rooms::open(store, room.clone());
    apply(
        store,
        ev(RoomEvent::Joined {
            room: room.clone(),
            me: person("alice", Role::Participant),
            occupants: vec![person(p, Role::Moderator)],
            unlisted: 0,
            created: false,
            info: Some(info),
        }),
    );
    apply(
        store,
        ev(RoomEvent::Subject {
            room: room.clone(),
            subject: Some(p.to_owned()),
            by: Some(p.to_owned()),
            at_join: true,
        }),
    );
    let mut msg = Message::chat(Jid::parse("alice@example.org/web").unwrap(), p);
    msg.kind = MessageType::Groupchat;
    apply(
        store,
        ev(RoomEvent::Message(RoomMessage {
            room: room.clone(),
            nick: Some(p.to_owned()),
            occupant_id: None,
            message: msg,
            own: false,
            mentions_me: false,
        })),
    );
    let kicked = OccupantChange::Left {
        occupant: person("carol", Role::Participant),
        why: Departure::Kicked { actor: Some(p.to_owned()), reason: Some(p.to_owned()) },
    };
    apply(store, ev(RoomEvent::Occupants { room: room.clone(), changes: vec![kicked], unlisted: 0 }));
    let invite = Invite {
        room: bare("dev@conference.example.org"),
        from: bare("bob@example.org"),
        reason: Some(p.to_owned()),
        password: None,
        mediated: true,
    };
    apply(store, ev(RoomEvent::Invited(invite)));
    let listing = RoomListing { jid: bare("talk@conference.example.org"), name: Some(p.to_owned()) };
    apply(
        store,
        ev(RoomEvent::Rooms { service: bare("conference.example.org"), rooms: vec![listing], next: None, total: None }),
    );
    settle().await;
    let nick = m.text(".occupant-row:not(.me) .occupant-nick");
    let kick = m.text(".room-event:last-child");
    apply(
        store,
        ev(RoomEvent::Left {
            room: room.clone(),
            why: Departure::Destroyed { reason: Some(p.to_owned()), alternate: None },
        }),
    );
    settle().await;
    let destroyed = m.text(".room-status");
    (m, nick, kick, destroyed)
}

/// The chat screen while reconnecting after a stream error with the text `p`, then offline after another.
async fn banners_with(p: &str) -> (Mounted, String, String) {
    let m = Mounted::new(false).await;
    let store = m.store;
    apply(store, core(Event::Online { jid: Jid::parse("alice@example.org/web").unwrap(), resumed: false }));
    let stream = |text: &str| {
        ClientError::Stream(StreamError {
            condition: "undefined-condition".into(),
            text: Some(text.into()),
            see_other_host: None,
        })
    };
    let reason = stream(p).describe();
    apply(store, TransportEvent::Reconnecting { attempt: 1, delay: std::time::Duration::from_secs(60), reason });
    settle().await;
    let reconnecting = m.text(".banner-reconnecting");
    apply(store, core(Event::Closed { error: Some(stream(p)) }));
    settle().await;
    let offline = m.text(".banner-error");
    (m, reconnecting, offline)
}

/// The test's own proof that a handler in the DOM would be seen: an `<img onerror>` it adds itself, awaited
/// until it has run. Returns the counter afterwards.
async fn control_fires() -> f64 {
    let before = xss_count();
    let probe = document().create_element("div").unwrap();
    probe.set_inner_html(r#"<img src="natter-xss-control-missing.png" onerror="alert('control')">"#);
    document().body().unwrap().append_child(&probe).unwrap();
    for _ in 0..1200 {
        if xss_count() > before {
            break;
        }
        next_frame().await;
    }
    probe.remove();
    let after = xss_count();
    assert_eq!(after, before + 1.0, "the control handler ran once");
    after
}

fn xss_count() -> f64 {
    let w = web_sys::window().unwrap();
    js_sys::Reflect::get(&w, &"__natter_xss".into()).unwrap().as_f64().unwrap_or(0.0)
}

/// `alert`, `confirm`, `prompt` and `print` count instead of opening dialogs; so does setting __natter_xss.
fn install_detector() {
    js_sys::Function::new_no_args(
        r#"
        window.__natter_xss = 0;
        const hit = () => { window.__natter_xss = (+window.__natter_xss || 0) + 1; };
        window.alert = window.confirm = window.prompt = window.print = hit;
        "#,
    )
    .call0(&JsValue::NULL)
    .unwrap();
}

#[wasm_bindgen_test]
async fn every_payload_in_every_field_renders_as_text_and_runs_nothing() {
    let corpus = payloads();
    assert!(corpus.len() >= 100, "the corpus has {} payloads", corpus.len());
    install_detector();
    control_fires().await;
    let start = xss_count();

    // The shapes with plain words: every payload must give exactly these elements.
    let (main_shape, login_shape, banner_shape, room_shape) = {
        let main = main_screen_with(PLAIN).await;
        assert_eq!(main.links_are_safe(PLAIN), 0);
        let (login, ..) = login_screen_with(PLAIN).await;
        let (banners, ..) = banners_with(PLAIN).await;
        let (room, ..) = room_screen_with(PLAIN).await;
        (main.shape(), login.shape(), banners.shape(), room.shape())
    };
    let (mut resources, mut links) = (0, 0);
    for p in &corpus {
        let shown = model::display_name(&bare("bob@example.org"), Some(p));
        let trimmed = p.trim();

        let (m, nick, kick, destroyed) = room_screen_with(p).await;
        assert_eq!(m.shape(), room_shape, "{p:?}: the room's elements changed");
        links += m.links_are_safe(p);
        let room_title = natter::ui::rooms::model::room_title(&bare("lobby@conference.example.org"), Some(p));
        assert_eq!(m.text("#room-title"), room_title, "room name");
        assert_eq!(m.text("li.room-row[data-room='lobby@conference.example.org'] .room-name"), room_title);
        assert_eq!(m.text("#room-subject"), *p, "room subject");
        assert_eq!(nick, *p, "occupant nick");
        assert!(kick.contains(&format!("carol was kicked by {p}")), "{p:?}: kick actor and reason: {kick:?}");
        assert_eq!(m.text(".room .message .message-body"), *p, "room message body");
        assert_eq!(m.text(".room .message .message-sender"), *p, "room message sender (nick)");
        assert_eq!(m.text(".invite-reason"), *p, "invitation reason");
        let listed = natter::ui::rooms::model::room_title(&bare("talk@conference.example.org"), Some(p));
        assert_eq!(m.text(".browse-name"), listed, "browsed room name");
        assert!(destroyed.contains(trimmed), "{p:?}: destruction reason: {destroyed:?}");
        drop(m);

        let m = main_screen_with(p).await;
        assert_eq!(m.shape(), main_shape, "{p:?}: the chat screen's elements changed");
        links += m.links_are_safe(p);
        assert_eq!(m.text(".transcript li:not(.from-me) .message-body"), *p, "message body (archived)");
        let bodies = m.root.query_selector_all(".transcript li:not(.from-me) .message-body").unwrap();
        assert_eq!(bodies.length(), 2, "{p:?}: the archived message and the live one");
        assert_eq!(bodies.item(1).unwrap().text_content().unwrap(), *p, "message body (live)");
        assert_eq!(m.text("#conversation-title"), shown, "conversation title (roster name)");
        assert_eq!(m.text(".transcript li:not(.from-me) .message-sender"), shown, "message sender (roster name)");
        let name_node = m.one("button.contact-main[data-jid='bob@example.org'] .contact-name").first_child().unwrap();
        assert_eq!(name_node.text_content().unwrap(), shown, "roster row name");
        assert_eq!(m.text(".group-name"), *p, "roster group");
        let status_shown = if trimmed.is_empty() { "away" } else { p.as_str() };
        assert_eq!(m.text("button.contact-main[data-jid='bob@example.org'] .contact-status"), status_shown, "status");
        let presence = if trimmed.is_empty() { "Away".to_owned() } else { format!("Away — {p}") };
        assert_eq!(m.text(".conversation-presence"), presence, "status in the conversation header");
        assert_eq!(m.text(".request-status"), *p, "subscription request status");
        assert_eq!(m.text(".request-who"), "eve@example.net");
        assert!(m.text(".from-me .message-error").contains(trimmed), "{p:?}: stanza error text");
        assert!(m.text(".notice-error p").contains(trimmed), "{p:?}: refused roster change (notice)");
        resources += usize::from(Jid::parse(&format!("bob@example.org/{p}")).is_ok());
        drop(m);

        let (m, progress, refused, discovery) = login_screen_with(p).await;
        assert_eq!(m.shape(), login_shape, "{p:?}: the login screen's elements changed");
        m.links_are_safe(p);
        assert!(progress.contains(p.as_str()), "{p:?}: redirect URL in the login progress: {progress:?}");
        assert!(refused.contains(trimmed), "{p:?}: login refused with a server text: {refused:?}");
        assert!(discovery.contains(p.as_str()), "{p:?}: discovery error: {discovery:?}");
        drop(m);

        let (m, reconnecting, offline) = banners_with(p).await;
        assert_eq!(m.shape(), banner_shape, "{p:?}: the banners' elements changed");
        m.links_are_safe(p);
        assert!(reconnecting.contains(p.as_str()), "{p:?}: stream error while reconnecting: {reconnecting:?}");
        assert!(offline.contains(p.as_str()), "{p:?}: stream error when offline");
    }
    // Some payloads are links (to allowed schemes), and most are valid resources: both paths were taken.
    assert!(links >= 10, "{links} links");
    assert!(resources >= corpus.len() / 2, "{resources} of {} payloads were valid resources", corpus.len());

    // Nothing ran: a second control fires (any payload handler, queued before it, would have run by then).
    assert_eq!(control_fires().await, start + 1.0, "a payload ran script");
    // The figure for the README: payloads × fields (body, roster name, roster group, status, resource, request
    // status, bounce error text, roster error text, redirect URL, login failure text, discovery error, stream
    // error text).
    // Group chat: room name, subject, occupant nick, room message body and sender, kick actor and reason,
    // invitation reason, browsed room name, destruction reason.
    web_sys::console::log_1(&format!("web_xss: {} payloads × 22 fields rendered as text", corpus.len()).into());
}
