//! Browser tests of what a new user tripped over (issue 16): contacts that are added twice or do not exist,
//! notices, words for screen readers, right-to-left text, composer commands, keyboard paths, leaving with a
//! draft, and logging in again with the password while the conversation stays in view.
//!
//! Components are mounted into the DOM and fed through `ui::state::apply` as the transport would (no server;
//! commands sent without a session fail with "not connected", and some tests rely on nothing being sent).
//!
//! Run: `wasm-pack test --headless --chrome --mode no-install -- --test web_ux` (CHROMEDRIVER as in README).
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use natter::transport::TransportEvent;
use natter::ui::model;
use natter::ui::state::{self, Connection, NoticeKind, SessionHandle, apply};
use natter::xmpp::Event;
use natter::xmpp::jid::{BareJid, Jid};
use natter::xmpp::stanza::error::{ErrorType, StanzaError};
use natter::xmpp::stanza::message::Message;
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::stanza::roster::{RosterItem, Subscription};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, next_frame, roster_item, settle, type_into};

fn item(jid: &str, name: Option<&str>, subscription: Subscription, ask: bool) -> RosterItem {
    let mut i = roster_item(jid, name, &[]);
    i.subscription = subscription;
    i.pending_out = ask;
    i
}

fn incoming(from: &str, body: &str) -> Message {
    let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
    m.from = Some(Jid::parse(from).unwrap());
    m
}

/// Sends a keydown for `key` to `el`, as a person pressing it there.
fn press(el: &web_sys::Element, key: &str) {
    let f = js_sys::Function::new_with_args(
        "el, key",
        "el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }))",
    );
    f.call2(&JsValue::NULL, el, &key.into()).unwrap();
}

/// Runs `body` as a JS function of `el` (for the few DOM calls the app itself never needs).
fn js(el: &JsValue, body: &str) -> JsValue {
    js_sys::Function::new_with_args("el", body).call1(&JsValue::NULL, el).unwrap()
}

/// What a screen reader reads of `el`: its text without the parts marked `aria-hidden`.
fn spoken(el: &web_sys::Node) -> String {
    let mut out = String::new();
    let children = el.child_nodes();
    for i in 0..children.length() {
        let n = children.item(i).unwrap();
        match n.dyn_ref::<web_sys::Element>() {
            Some(e) if e.get_attribute("aria-hidden").as_deref() == Some("true") => {}
            // (aria-hidden="false" is spoken like no attribute)
            Some(_) => out.push_str(&spoken(&n)),
            None => out.push_str(&n.text_content().unwrap_or_default()),
        }
    }
    out
}

/// The chat screen logged in as alice@example.org: Bob (both ways), Carol (our request pending), Dave (none).
struct Harness {
    screen: Screen,
}

web::deref_to_screen!(Harness);

impl Harness {
    async fn new() -> Harness {
        Harness::at("").await
    }

    /// With the page's URL fragment set to `hash` first (what a reload or a bookmark brings).
    async fn at(hash: &str) -> Harness {
        web::fresh_page(hash).await;
        let screen = Screen::main(SessionHandle::new());
        screen.sign_in(vec![
            item("bob@example.org", Some("Bob"), Subscription::Both, false),
            item("carol@example.org", None, Subscription::None, true),
            item("dave@example.org", Some("Dave"), Subscription::From, false),
        ]);
        settle().await;
        Harness { screen }
    }

    fn row(&self, jid: &str) -> web_sys::HtmlElement {
        self.one(&format!("button.contact-main[data-jid=\"{jid}\"]"))
    }

    fn notices(&self) -> Vec<String> {
        self.texts(".notice p")
    }

    /// Opens "Add contact", types `address`, and submits.
    async fn add(&self, address: &str) {
        let details: web_sys::HtmlDetailsElement = self.one("details.add-contact").unchecked_into();
        details.set_open(true);
        settle().await;
        type_into(&self.one("#add-address"), address);
        js(&self.one("form.add-contact-form"), "el.requestSubmit()");
        settle().await;
    }

    fn selected(&self) -> Option<BareJid> {
        self.store.selected.get_untracked()
    }
}

// ---- contacts (items 1, 3, 4, 5) ---------------------------------------------------------------------

#[wasm_bindgen_test]
async fn adding_a_contact_already_in_the_list_opens_it_and_sends_nothing() {
    let h = Harness::new().await;
    h.add("Bob@Example.org").await;
    // No session runs here: had anything been sent, the form would say "Not connected".
    assert!(h.one("#add-address-error").hidden(), "{:?}", h.texts("#add-address-error"));
    assert_eq!(h.selected(), Some(bare("bob@example.org")), "Bob's conversation is open");
    assert_eq!(h.notices(), ["Bob is already in your contacts."]);
    assert_eq!(h.store.with_contact(&bare("bob@example.org"), |c| c.name.clone()).flatten().as_deref(), Some("Bob"));
}

#[wasm_bindgen_test]
async fn the_add_form_wants_a_user_at_a_server_and_suggests_ours_for_a_bare_word() {
    let h = Harness::new().await;
    let error = || h.one("#add-address-error").text_content().unwrap();
    h.add("erin").await;
    assert_eq!(error(), "An address needs a server: did you mean erin@example.org?");
    assert_eq!(h.one("#add-address").get_attribute("aria-invalid").as_deref(), Some("true"));
    h.add("jabber.example").await;
    assert!(error().starts_with("jabber.example is a server, not a person"), "{}", error());
    h.add("alice@example.org").await;
    assert_eq!(error(), "That is your own address.");
    h.add("").await;
    assert!(error().starts_with("Enter the address"), "{}", error());
    // A valid new address gets past the checks (and then finds no session here).
    h.add("erin@example.org").await;
    assert_eq!(error(), "Not connected.");

    assert_eq!(model::contact_address(" x@y.example ", None), Ok(bare("x@y.example")));
    assert!(model::contact_address("erin", None).unwrap_err().contains("erin is a server"));
    assert!(model::contact_address("a@b@c", None).unwrap_err().starts_with("This is not a valid address"));
}

#[wasm_bindgen_test]
async fn a_pending_request_says_who_it_waits_for_and_a_bounce_says_why() {
    let h = Harness::new().await;
    let carol = h.row("carol@example.org");
    assert_eq!(
        carol.query_selector(".contact-status").unwrap().unwrap().text_content().unwrap(),
        "Waiting for carol to accept"
    );
    assert!(carol.query_selector(".tag").unwrap().is_none(), "no bare \"pending\" tag");

    apply(
        h.store,
        core(Event::PresenceError {
            from: bare("carol@example.org"),
            error: StanzaError::new(ErrorType::Cancel, "remote-server-not-found"),
        }),
    );
    settle().await;
    let status = h.row("carol@example.org").query_selector(".contact-status").unwrap().unwrap();
    assert_eq!(status.text_content().unwrap(), "Could not reach: the recipient's server could not be found");
    assert!(status.class_list().contains("failed"));
    assert_eq!(
        h.texts(".notice-error p"),
        ["Could not ask carol@example.org to share their presence: the recipient's server could not be found."]
    );

    // A bounce from a contact we did not ask only shows on the contact.
    apply(
        h.store,
        core(Event::PresenceError {
            from: bare("bob@example.org"),
            error: StanzaError::new(ErrorType::Cancel, "gone"),
        }),
    );
    settle().await;
    assert_eq!(h.all(".notice-error").len(), 1);
    assert!(h.row("bob@example.org").text_content().unwrap().contains("no longer in use"));
    // Presence from them clears it.
    apply(
        h.store,
        core(Event::ContactPresence {
            jid: bare("bob@example.org"),
            presence: Some(Availability { show: Show::Away, status: None, priority: 0 }),
        }),
    );
    settle().await;
    assert!(!h.row("bob@example.org").text_content().unwrap().contains("no longer in use"));
}

#[wasm_bindgen_test]
async fn a_refusal_reads_as_declined_and_a_revocation_as_stopped() {
    let h = Harness::new().await;
    // The server clears `ask` (a roster push) before it delivers Carol's refusal: still a refusal.
    apply(
        h.store,
        core(Event::RosterPush { item: item("carol@example.org", None, Subscription::None, false), ver: None }),
    );
    apply(h.store, core(Event::SubscriptionRevoked { from: bare("carol@example.org") }));
    // Bob saw us; now he stops.
    apply(h.store, core(Event::SubscriptionRevoked { from: bare("bob@example.org") }));
    settle().await;
    assert_eq!(
        h.notices(),
        [
            "carol@example.org declined to share their presence with you.",
            "Bob stopped sharing their presence with you."
        ]
    );
}

#[wasm_bindgen_test]
async fn notices_can_be_dismissed_do_not_repeat_and_retire_by_themselves() {
    let h = Harness::new().await;
    let now = js_sys::Date::now() as u64;
    state::notify(h.store, NoticeKind::Error, "Could not remove Bob: not allowed.".into());
    state::notify(h.store, NoticeKind::Info, "Asked x@example.org to share their presence with you.".into());
    state::notify(h.store, NoticeKind::Info, "Asked x@example.org to share their presence with you.".into());
    settle().await;
    assert_eq!(h.all(".notice").len(), 2, "the same notice twice is shown once: {:?}", h.notices());
    for i in 0..10 {
        state::notify(h.store, NoticeKind::Info, format!("notice {i}"));
    }
    settle().await;
    assert_eq!(h.all(".notice").len(), state::MAX_NOTICES, "old ones give way");

    // Time passes (the timers do this by themselves; here the clock is given).
    state::notify(h.store, NoticeKind::Error, "an error".into());
    state::notify(h.store, NoticeKind::Info, "some news".into());
    let info_life = NoticeKind::Info.lifetime().as_millis() as u64;
    let error_life = NoticeKind::Error.lifetime().as_millis() as u64;
    state::retire_notices(h.store, now + info_life + 5_000);
    settle().await;
    assert_eq!(h.notices(), ["an error"], "information fades first");
    state::retire_notices(h.store, now + error_life + 5_000);
    settle().await;
    assert!(h.notices().is_empty(), "errors retire too");

    state::notify(h.store, NoticeKind::Error, "dismiss me".into());
    settle().await;
    h.one(".notice button[aria-label=Dismiss]").click();
    settle().await;
    assert!(h.notices().is_empty());
}

#[wasm_bindgen_test]
async fn a_row_names_the_presence_once_for_screen_readers() {
    let h = Harness::new().await;
    let bob = spoken(&h.row("bob@example.org"));
    assert_eq!(bob.trim(), "Bob — offline", "the presence word once");
    apply(
        h.store,
        core(Event::ContactPresence {
            jid: bare("bob@example.org"),
            presence: Some(Availability { show: Show::Away, status: Some("at lunch".into()), priority: 0 }),
        }),
    );
    settle().await;
    assert_eq!(spoken(&h.row("bob@example.org")).trim(), "Bob — awayat lunch");
}

// ---- right-to-left text (item 6) ----------------------------------------------------------------------

#[wasm_bindgen_test]
async fn peer_text_takes_its_own_direction() {
    let h = Harness::new().await;
    let hebrew = "שלום, this is English inside";
    apply(
        h.store,
        core(Event::RosterPush { item: item("bob@example.org", Some("בוב"), Subscription::Both, false), ver: None }),
    );
    apply(
        h.store,
        core(Event::ContactPresence {
            jid: bare("bob@example.org"),
            presence: Some(Availability { show: Show::Available, status: Some("مرحبا".into()), priority: 0 }),
        }),
    );
    state::select(h.store, bare("bob@example.org"));
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", hebrew))));
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "/me يلوح"))));
    settle().await;
    let body = h.one(".transcript .message-body");
    assert_eq!((body.text_content().unwrap().as_str(), body.dir().as_str()), (hebrew, "auto"));
    assert!(h.all(".transcript .message-body").iter().all(|b| b.dir() == "auto"));
    // Names inside a line are isolated (an element with `dir` is, like <bdi>).
    for selector in [".transcript .message-sender", ".transcript .action-sender", ".contact-name > span:first-child"] {
        assert!(h.all(selector).iter().all(|e| e.dir() == "auto"), "{selector} isolates the name");
        assert!(!h.all(selector).is_empty(), "{selector}");
    }
    let isolated =
        web_sys::window().unwrap().get_computed_style(&h.one(".transcript .message-sender")).unwrap().unwrap();
    assert_eq!(isolated.get_property_value("unicode-bidi").unwrap(), "isolate");
    assert_eq!(h.one("#conversation-title").dir(), "auto");
    assert_eq!(h.one(".conversation-presence").dir(), "auto");
    assert_eq!(
        h.row("bob@example.org")
            .query_selector(".contact-status")
            .unwrap()
            .unwrap()
            .unchecked_into::<web_sys::HtmlElement>()
            .dir(),
        "auto"
    );
}

// ---- the composer (item 8) ----------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn unknown_commands_and_a_bare_me_are_not_sent() {
    let h = Harness::new().await;
    state::select(h.store, bare("bob@example.org"));
    settle().await;
    let composer: web_sys::HtmlTextAreaElement = h.one("textarea#composer").unchecked_into();
    let error = || h.one("#composer-error").text_content().unwrap();
    for (typed, said) in [
        ("/help", "/help is not a command Natter knows"),
        ("/nick Bobby", "/nick is not a command Natter knows"),
        ("/me", "Write what you are doing after /me"),
        ("/me   ", "Write what you are doing after /me"),
    ] {
        composer.set_value(typed);
        press(&composer, "Enter");
        settle().await;
        assert!(error().starts_with(said), "{typed:?}: {}", error());
        assert_eq!(composer.value(), typed, "the text stays to be corrected");
    }
    // What can be sent gets past the check (no session here: it waits in the outbox, shown as an action).
    composer.set_value("/me waves");
    press(&composer, "Enter");
    settle().await;
    assert_eq!(error(), "");
    assert_eq!(composer.value(), "");
    assert_eq!(h.texts(".message.from-me.action .message-body"), ["* alice waves"]);
    assert_eq!(h.store.outbox.get_untracked()[0].body, "/me waves");

    assert_eq!(model::composer_text("/me waves"), Ok("/me waves".into()));
    assert_eq!(model::composer_text("//help me"), Ok("/help me".into()));
    assert_eq!(model::composer_text("/usr/bin is full"), Ok("/usr/bin is full".into()));
    assert_eq!(model::composer_text("/ 2 = half"), Ok("/ 2 = half".into()));
    assert_eq!(model::composer_text("hello /help"), Ok("hello /help".into()));
    assert!(model::composer_text("/shrug").unwrap_err().contains("type //shrug"));
}

// ---- keyboard (item 11) -------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn the_filter_leads_into_the_list_and_enter_opens_the_single_match() {
    let h = Harness::new().await;
    let filter = h.one("#contact-filter");
    press(&filter, "ArrowDown");
    settle().await;
    let active = document().active_element().unwrap();
    assert!(active.class_list().contains("contact-main"), "focus is on a row: {}", active.outer_html());

    type_into(&filter, "o"); // Bob and Carol
    settle().await;
    press(&filter, "Enter");
    settle().await;
    assert_eq!(h.selected(), None, "two matches: nothing opens");
    type_into(&filter, "car");
    settle().await;
    press(&filter, "Enter");
    settle().await;
    assert_eq!(h.selected(), Some(bare("carol@example.org")));

    // Escape in the conversation closes it (on a wide screen too).
    press(&h.one("textarea#composer"), "Escape");
    settle().await;
    assert_eq!(h.selected(), None);
}

/// Makes `matchMedia("(pointer: coarse)")` match (a touch screen) until the returned guard is dropped.
struct TouchScreen(JsValue);

impl TouchScreen {
    fn new() -> TouchScreen {
        let window = web_sys::window().unwrap();
        let original = js_sys::Reflect::get(&window, &"matchMedia".into()).unwrap();
        let stub = js_sys::Function::new_with_args(
            "original",
            "return function (q) { return q === '(pointer: coarse)' ? { matches: true, media: q } : original.call(window, q); }",
        )
        .call1(&JsValue::NULL, &original)
        .unwrap();
        js_sys::Reflect::set(&window, &"matchMedia".into(), &stub).unwrap();
        TouchScreen(original)
    }
}

impl Drop for TouchScreen {
    fn drop(&mut self) {
        js_sys::Reflect::set(&web_sys::window().unwrap(), &"matchMedia".into(), &self.0).unwrap();
    }
}

#[wasm_bindgen_test]
async fn after_login_the_filter_takes_focus_except_on_a_touch_screen() {
    let blur = || {
        if let Some(a) = document().active_element() {
            a.unchecked_into::<web_sys::HtmlElement>().blur().unwrap();
        }
    };
    settle().await; // (a focus rescue of the previous test's roster may still be due)
    blur();
    let h = Harness::new().await;
    settle().await;
    assert_eq!(document().active_element().map(|e| e.id()).as_deref(), Some("contact-filter"));
    drop(h);

    blur();
    let touch = TouchScreen::new();
    let h = Harness::new().await;
    settle().await;
    assert_ne!(document().active_element().map(|e| e.id()).as_deref(), Some("contact-filter"), "no keyboard pops up");
    drop(h);
    drop(touch);
}

// ---- leaving with a draft (item 12) --------------------------------------------------------------------

/// Dispatches a cancelable `beforeunload` on the window; says whether something asked to stay.
fn leave_page() -> bool {
    let body = "const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented;";
    js(&JsValue::NULL, body).as_bool().unwrap()
}

#[wasm_bindgen_test]
async fn leaving_with_a_draft_asks_first() {
    let h = Harness::new().await;
    assert!(!leave_page(), "nothing typed: leave freely");
    state::select(h.store, bare("bob@example.org"));
    settle().await;
    type_into(&h.one("textarea#composer"), "half a thought");
    assert!(h.store.has_unsent());
    assert!(leave_page(), "a draft: the browser asks");
    // Another conversation open: the draft still counts.
    state::select(h.store, bare("dave@example.org"));
    settle().await;
    assert!(leave_page());
    state::select(h.store, bare("bob@example.org"));
    settle().await;
    type_into(&h.one("textarea#composer"), "  ");
    assert!(!leave_page(), "only blanks: nothing to lose");
}

// ---- logging in again (item 14) -----------------------------------------------------------------------

#[wasm_bindgen_test]
async fn the_server_asking_for_the_password_keeps_the_conversation_and_offers_cancel() {
    use natter::xmpp::ClientError;
    use natter::xmpp::sasl::SaslError;
    let h = Harness::new().await;
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "still here"))));
    state::select(h.store, bare("bob@example.org"));
    apply(
        h.store,
        TransportEvent::Reconnecting { attempt: 1, delay: std::time::Duration::from_secs(1), reason: "lost".into() },
    );
    apply(h.store, core(Event::Closed { error: Some(ClientError::Sasl(SaslError::KeysStale)) }));
    settle().await;

    let prompt = h.one("form.banner-password");
    let text = prompt.text_content().unwrap();
    assert!(text.contains("Your server asks for your password again to reconnect."), "{text}");
    assert!(!text.contains("keys"), "no jargon: {text}");
    assert_eq!(h.one("#relogin-reason").get_attribute("role").as_deref(), Some("alert"));
    let field: web_sys::HtmlInputElement = h.one("#relogin-password").unchecked_into();
    assert_eq!(field.type_(), "password");
    assert_ne!(
        document().active_element().map(|e| e.id()).as_deref(),
        Some("relogin-password"),
        "it does not grab focus"
    );
    assert_eq!(h.texts("form.banner-password button"), ["Log in", "Cancel"]);
    assert!(h.texts(".transcript .message-body").contains(&"still here".to_owned()), "the conversation stays");
    assert!(h.texts("[role=status].connection").iter().any(|t| t.contains("Offline")));

    // Log in with an empty field does nothing.
    h.one("form.banner-password button[type=submit]").click();
    settle().await;
    assert!(matches!(h.store.connection.get_untracked(), Connection::PasswordNeeded { busy: false, .. }));

    // Cancel: offline, still on the chat screen, with the way to log in again.
    h.all("form.banner-password button")[1].click();
    settle().await;
    assert!(h.all("form.banner-password").is_empty());
    let banner = h.one(".banner[role=alert]").text_content().unwrap();
    assert!(banner.contains("You are offline.") && banner.contains("Log in again"), "{banner}");
    assert!(h.texts(".transcript .message-body").contains(&"still here".to_owned()));
    h.one(".banner[role=alert] button").click();
    settle().await;
    assert!(h.one("#relogin-reason").text_content().unwrap().contains("Enter your password"));
    assert_eq!(document().active_element().map(|e| e.id()).as_deref(), Some("relogin-password"), "asked for: focused");
    assert_eq!(
        h.store.connection.get_untracked().clone(),
        Connection::PasswordNeeded { reason: "Enter your password to log in again.".into(), busy: false }
    );
}

// ---- Back and the URL (item 10) -----------------------------------------------------------------------

fn hash() -> String {
    web_sys::window().unwrap().location().hash().unwrap()
}

fn history_length() -> u32 {
    web_sys::window().unwrap().history().unwrap().length().unwrap()
}

/// Runs `history.back()` or `history.forward()` and waits for its `popstate`, then lets the UI catch up.
async fn navigate(how: &str) {
    let body = format!(
        "return new Promise(r => {{ window.addEventListener('popstate', () => r(), {{ once: true }}); history.{how}(); }})"
    );
    let p: js_sys::Promise = js(&JsValue::NULL, &body).into();
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
    settle().await;
}

#[wasm_bindgen_test]
async fn opening_a_conversation_is_a_history_entry_and_back_returns_to_the_list() {
    let h = Harness::new().await;
    let start = history_length();
    assert!(!hash().starts_with("#/chat/"));

    h.row("bob@example.org").click();
    settle().await;
    assert_eq!(hash(), "#/chat/bob%40example.org", "the URL names the conversation");
    assert_eq!(history_length(), start + 1);
    // Another conversation takes the entry's place: Back still leads to the list.
    h.row("carol@example.org").click();
    settle().await;
    assert_eq!(hash(), "#/chat/carol%40example.org");
    assert_eq!(history_length(), start + 1);

    navigate("back").await;
    assert_eq!(h.selected(), None, "Back closes the conversation instead of leaving the app");
    assert!(!hash().starts_with("#/chat/"));
    navigate("forward").await;
    assert_eq!(h.selected(), Some(bare("carol@example.org")), "Forward opens it again");

    // The Back button of the conversation (the one-pane layout) goes back in the history too.
    let back = h.one("button.back");
    back.click();
    settle().await;
    next_frame().await;
    settle().await;
    assert_eq!(h.selected(), None);
    assert!(!hash().starts_with("#/chat/"), "{}", hash());
}

#[wasm_bindgen_test]
async fn a_url_naming_a_conversation_opens_it_after_login_and_odd_ones_are_ignored() {
    let h = Harness::at("#/chat/dave%40example.org").await;
    assert_eq!(h.selected(), Some(bare("dave@example.org")));
    navigate("back").await;
    assert_eq!(h.selected(), None, "Back from a bookmarked conversation leads to the list");
    drop(h);

    for odd in ["#/chat/%E0%A4%A", "#/chat/not%20an%20address%40", "#/chat/", "#/elsewhere"] {
        let h = Harness::at(odd).await;
        assert_eq!(h.selected(), None, "{odd}");
        drop(h);
    }
    let h = Harness::at("#/chat/bob%40example.org").await;
    assert_eq!(h.selected(), Some(bare("bob@example.org")));
    drop(h); // logging out (the chat screen goes) takes the conversation out of the URL
    settle().await;
    assert!(!hash().starts_with("#/chat/"), "{}", hash());
    assert_eq!(
        natter::ui::history::parse_chat_hash("#/chat/a%2Fb%40c.example"),
        None,
        "a resource is not a bare address"
    );
    assert_eq!(natter::ui::history::chat_hash(&bare("zoë@example.org")), "#/chat/zo%C3%AB%40example.org");
}

// ---- desktop notifications and sound (item 9) ---------------------------------------------------------

/// Replaces `window.Notification` with a recorder and makes `AudioContext` oscillators count their starts
/// (silently) until dropped: the browser's permission answers `answer` when asked; `window.__natter` holds
/// what was asked, shown and played. (wasm-bindgen binds `AudioContext` when the module loads, so the
/// prototype is patched rather than the class replaced.)
struct StubbedAlerts(JsValue, JsValue);

impl StubbedAlerts {
    fn new(permission: &str, answer: &str) -> StubbedAlerts {
        let window = web_sys::window().unwrap();
        let notification = js_sys::Reflect::get(&window, &"Notification".into()).unwrap();
        let install = js_sys::Function::new_with_args(
            "permission, answer",
            "const log = window.__natter = { asked: 0, shown: [], tones: 0 };
             class Notification {
               constructor(title, options) { this.title = title; this.body = options.body; this.tag = options.tag;
                 this.closed = false; log.shown.push(this); }
               close() { this.closed = true; }
               static requestPermission() { log.asked++; Notification.permission = answer; return Promise.resolve(answer); }
             }
             Notification.permission = permission;
             window.Notification = Notification;
             const create = AudioContext.prototype.createOscillator;
             AudioContext.prototype.createOscillator = function () {
               const tone = create.call(this);
               tone.start = () => { log.tones++; };
               tone.stop = () => {};
               return tone;
             };
             return create;",
        );
        let create = install.call2(&JsValue::NULL, &permission.into(), &answer.into()).unwrap();
        StubbedAlerts(notification, create)
    }
    fn log(&self, what: &str) -> JsValue {
        js(&what.into(), "return window.__natter[el]")
    }

    fn asked(&self) -> u32 {
        self.log("asked").as_f64().unwrap() as u32
    }

    fn tones(&self) -> u32 {
        self.log("tones").as_f64().unwrap() as u32
    }

    /// (title, body, tag) of each notification shown.
    fn shown(&self) -> Vec<(String, String, String)> {
        let list: js_sys::Array = self.log("shown").into();
        let field = |n: &JsValue, f: &str| js_sys::Reflect::get(n, &f.into()).unwrap().as_string().unwrap_or_default();
        list.iter().map(|n| (field(&n, "title"), field(&n, "body"), field(&n, "tag"))).collect()
    }

    /// (tag, closed) of each notification shown.
    fn closed(&self) -> Vec<(String, bool)> {
        let list: js_sys::Array = self.log("shown").into();
        let get = |n: &JsValue, f: &str| js_sys::Reflect::get(n, &f.into()).unwrap();
        list.iter().map(|n| (get(&n, "tag").as_string().unwrap_or_default(), get(&n, "closed").is_truthy())).collect()
    }

    /// Clicks the `i`-th notification shown (the browser calls its `onclick` with it as the target).
    fn click(&self, i: u32) {
        let list: js_sys::Array = self.log("shown").into();
        js(&list.get(i), "el.onclick({ target: el })");
    }
}

impl Drop for StubbedAlerts {
    fn drop(&mut self) {
        js_sys::Reflect::set(&web_sys::window().unwrap(), &"Notification".into(), &self.0).unwrap();
        js(&self.1, "AudioContext.prototype.createOscillator = el");
    }
}

fn switch(h: &Harness, id: &str) -> web_sys::HtmlInputElement {
    h.one(&format!("input#{id}")).unchecked_into()
}

/// Flips the switch `id` as a click does (checked, then `change`).
async fn toggle(h: &Harness, id: &str) {
    let input = switch(h, id);
    input.set_checked(!input.checked());
    js(&input, "el.dispatchEvent(new Event('change', { bubbles: true }))");
    settle().await;
    settle().await;
}

#[wasm_bindgen_test]
async fn notifications_are_asked_for_only_when_turned_on_and_announce_unread_messages_as_text() {
    let stub = StubbedAlerts::new("default", "granted");
    let h = Harness::new().await;
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "before they are on"))));
    settle().await;
    assert_eq!((stub.asked(), stub.shown().len()), (0, 0), "nothing asked at load, nothing shown while off");
    assert_eq!(switch(&h, "alert-desktop").get_attribute("role").as_deref(), Some("switch"));
    assert!(!switch(&h, "alert-desktop").checked() && !switch(&h, "alert-sound").checked(), "both off by default");

    toggle(&h, "alert-desktop").await;
    assert_eq!(stub.asked(), 1, "the permission is asked when the switch is turned on");
    assert!(h.store.alert_desktop.get_untracked());

    // Bob writes while his conversation is not open: sender and the start of the text, as text.
    let long = format!("<b>hi</b> {}", "word ".repeat(40));
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", &long))));
    settle().await;
    let shown = stub.shown();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].0, "Bob");
    assert!(shown[0].1.starts_with("<b>hi</b> word word") && shown[0].1.ends_with('…'), "{:?}", shown[0].1);
    assert!(shown[0].1.chars().count() <= model::ALERT_PREVIEW_CHARS + 1, "{:?}", shown[0].1);
    assert_eq!(shown[0].2, "bob@example.org", "one per conversation (the tag)");
    assert_eq!(stub.tones(), 0, "no sound unless that is on too");

    // In the open conversation of a visible page: read at once, nothing announced. Our own messages and the
    // carbons of what we send elsewhere: never.
    state::select(h.store, bare("carol@example.org"));
    apply(h.store, core(Event::Message(incoming("carol@example.org/phone", "you see this already"))));
    let mut mine = Message::chat(Jid::parse("bob@example.org").unwrap(), "my own words");
    mine.from = Some(Jid::parse("alice@example.org/phone").unwrap());
    apply(h.store, core(Event::MessageSent(mine)));
    settle().await;
    assert_eq!(stub.shown().len(), 1, "{:?}", stub.shown());

    // Clicking the notification opens Bob's conversation.
    stub.click(0);
    settle().await;
    assert_eq!(h.selected(), Some(bare("bob@example.org")));

    // The sound, once on, plays once for a burst.
    toggle(&h, "alert-sound").await;
    apply(h.store, core(Event::Message(incoming("dave@example.org/phone", "/me waves"))));
    apply(h.store, core(Event::Message(incoming("dave@example.org/phone", "and again"))));
    settle().await;
    assert_eq!(stub.tones(), 1, "one tone for a burst");
    let last = stub.shown().pop().unwrap();
    assert_eq!((last.0.as_str(), last.2.as_str()), ("Dave", "dave@example.org"));

    // Off again: silence.
    toggle(&h, "alert-desktop").await;
    toggle(&h, "alert-sound").await;
    apply(h.store, core(Event::Message(incoming("dave@example.org/phone", "quiet now"))));
    settle().await;
    assert_eq!((stub.shown().len(), stub.tones()), (3, 1), "Bob, Dave twice (one tag: the browser replaces), one tone");
}

#[wasm_bindgen_test]
async fn a_notification_closes_once_its_conversation_is_read_here_or_on_another_device() {
    let stub = StubbedAlerts::new("granted", "granted");
    let h = Harness::new().await;
    toggle(&h, "alert-desktop").await;
    for (from, id) in [("bob@example.org/phone", "b1"), ("bob@example.org/phone", "b2"), ("carol@example.org/x", "c1")]
    {
        let mut m = incoming(from, id);
        m.id = Some(id.into());
        apply(h.store, core(Event::Message(m)));
    }
    settle().await;
    let bob = || stub.closed().into_iter().rfind(|(tag, _)| tag == "bob@example.org").unwrap().1;
    let carol = || stub.closed().into_iter().rfind(|(tag, _)| tag == "carol@example.org").unwrap().1;
    assert!(!bob() && !carol());
    // Bob's first is read on the phone: his second is still unread, so his notification stays.
    apply(h.store, core(Event::ReadElsewhere { with: bare("bob@example.org"), id: "b1".into() }));
    settle().await;
    assert!(!bob(), "one of Bob's is still unread");
    apply(h.store, core(Event::ReadElsewhere { with: bare("bob@example.org"), id: "b2".into() }));
    settle().await;
    assert!(bob(), "all of Bob's read on another device: his notification goes");
    assert!(!carol(), "Carol's is another conversation");
    // Carol's conversation opened here.
    state::select(h.store, bare("carol@example.org"));
    settle().await;
    assert!(carol(), "read here: hers goes too");
}

#[wasm_bindgen_test]
async fn a_refused_permission_leaves_the_switch_off_and_says_where_to_change_it() {
    for (permission, answer, asks) in [("denied", "denied", 0), ("default", "denied", 1)] {
        let stub = StubbedAlerts::new(permission, answer);
        let h = Harness::new().await;
        toggle(&h, "alert-desktop").await;
        assert_eq!(stub.asked(), asks, "{permission}");
        assert!(!switch(&h, "alert-desktop").checked(), "{permission}");
        assert!(!h.store.alert_desktop.get_untracked());
        assert!(h.one("#alert-problem").text_content().unwrap().contains("blocked for this site"));
        apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "hello"))));
        settle().await;
        assert!(stub.shown().is_empty());
        drop(h);
        drop(stub);
    }
    assert_eq!(model::alert_text("/me waves", false, "Bob"), "/me waves");
    assert_eq!(model::alert_text(" waves\nhello ", true, "Bob"), "* Bob waves hello");
}
