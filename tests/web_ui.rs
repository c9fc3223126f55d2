//! Browser tests of the UI: components mounted into the DOM, fed through `ui::state::apply` exactly as the
//! transport would feed them, then asserted on the DOM (leptos `examples/counter/tests/web.rs` style).
//! No server is needed: commands sent while no session runs fail with "not connected", which one test uses.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_ui`
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use natter::transport::TransportEvent;
use natter::ui::login::{LoginForm, LoginScreen, validate};
use natter::ui::model::{self, Contact};
use natter::ui::sidebar::layout::{self, Metrics, Step};
use natter::ui::state::{self, AppState, Connection, SessionHandle, apply};
use natter::xmpp::Event;
use natter::xmpp::jid::Jid;
use natter::xmpp::stanza::error::{ErrorType, StanzaError};
use natter::xmpp::stanza::message::{ChatState, Message};
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::stanza::roster::{RosterItem, Subscription};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, core, next_frame, roster_item, settle};

fn available(show: Show, status: Option<&str>) -> Option<Availability> {
    Some(Availability { show, status: status.map(str::to_owned), priority: 0 })
}

fn incoming(from: &str, body: &str) -> Message {
    let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
    m.from = Some(Jid::parse(from).unwrap());
    m.id = Some(format!("in-{}", body.len()));
    m
}

/// The chat screen mounted in a fresh element, logged in as alice with Bob, Carol and Dave in the roster.
struct Harness {
    screen: Screen,
}

web::deref_to_screen!(Harness);

impl Harness {
    async fn main_screen() -> Harness {
        Harness::mount(false).await
    }

    /// With the app's real stylesheet, which the roster's virtualization relies on (fixed row heights, the
    /// sidebar's scroller); removed again when the harness is dropped.
    async fn main_screen_styled() -> Harness {
        Harness::mount(true).await
    }

    async fn mount(styled: bool) -> Harness {
        web::fresh_page("").await;
        let document = document();
        if styled {
            let style = document.create_element("style").unwrap();
            style.set_id("natter-css");
            style.set_text_content(Some(include_str!("../style/main.css")));
            document.head().unwrap().append_child(&style).unwrap();
        }
        let screen = Screen::main(SessionHandle::new());
        screen.sign_in(vec![
            roster_item("dave@example.org", None, &[]),
            roster_item("bob@example.org", Some("Bob"), &[]),
            roster_item("carol@example.org", Some("Carol"), &[]),
        ]);
        settle().await;
        Harness { screen }
    }

    /// The roster row button whose name starts with `name`.
    fn contact(&self, name: &str) -> web_sys::HtmlElement {
        self.all("button.contact-main")
            .into_iter()
            .find(|b| b.query_selector(".contact-name").unwrap().unwrap().text_content().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no contact {name}; DOM: {}", self.root.inner_html()))
    }

    /// The sidebar's scrolling element (the roster's scroller).
    fn scroller(&self) -> web_sys::HtmlElement {
        self.one(".sidebar-scroll")
    }

    /// Scrolls the sidebar to `top` pixels from the top of the roster list, and lets the roster catch up.
    async fn scroll_list_to(&self, top: f64) {
        let list_top = self.one("ul.groups").offset_top();
        self.scroller().set_scroll_top(list_top + top.round() as i32);
        settle().await;
        settle().await;
    }

    /// The rendered rows of group `group`: (aria-posinset, name as shown without the presence words, jid).
    fn rows_of(&self, group: &str) -> Vec<(usize, String, String)> {
        self.all(&format!("li.group[data-group=\"{group}\"] li.contact"))
            .iter()
            .map(|li| {
                let pos = li.get_attribute("aria-posinset").unwrap().parse().unwrap();
                let name = li.query_selector(".contact-name").unwrap().unwrap().first_child().unwrap().text_content();
                let jid = li.query_selector("button.contact-main").unwrap().unwrap().get_attribute("data-jid");
                (pos, name.unwrap(), jid.unwrap())
            })
            .collect()
    }

    /// The focused element's `data-jid`.
    fn focused_jid(&self) -> Option<String> {
        document().active_element().and_then(|e| e.get_attribute("data-jid"))
    }

    fn badge(&self, name: &str) -> Option<String> {
        self.contact(name).query_selector(".badge").unwrap().map(|b| b.text_content().unwrap_or_default())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(style) = document().get_element_by_id("natter-css") {
            style.remove();
        }
    }
}

#[wasm_bindgen_test]
async fn roster_is_sorted_by_presence_then_name_with_presence_in_words() {
    let h = Harness::main_screen().await;
    apply(
        h.store,
        core(Event::ContactPresence { jid: bare("bob@example.org"), presence: available(Show::Away, None) }),
    );
    apply(
        h.store,
        core(Event::ContactPresence {
            jid: bare("carol@example.org"),
            presence: available(Show::Available, Some("In the garden")),
        }),
    );
    settle().await;

    // Carol (available) before Bob (away) before Dave (offline, shown by address); presence in words for
    // screen readers is part of each name.
    assert_eq!(
        h.texts("button.contact-main .contact-name"),
        vec!["Carol — available", "Bob — away", "dave@example.org — offline"]
    );
    assert_eq!(h.texts("button.contact-main .contact-status")[0], "In the garden");
    assert!(h.one("button.contact-main .dot").class_list().contains("available"));
    assert_eq!(h.texts(".group-name"), vec![model::DEFAULT_GROUP]);

    // Bob comes online: he moves up, his row changes, the others stay.
    apply(
        h.store,
        core(Event::ContactPresence { jid: bare("bob@example.org"), presence: available(Show::Chat, None) }),
    );
    settle().await;
    assert_eq!(
        h.texts("button.contact-main .contact-name"),
        vec!["Bob — free to chat", "Carol — available", "dave@example.org — offline"]
    );

    // Groups: a roster push moves Dave into "Work", which is listed before the ungrouped "Contacts".
    apply(
        h.store,
        core(Event::RosterPush { item: roster_item("dave@example.org", Some("Dave"), &["Work"]), ver: None }),
    );
    settle().await;
    assert_eq!(h.texts(".group-name"), vec!["Work", model::DEFAULT_GROUP]);
    assert_eq!(h.texts("button.contact-main .contact-name").last().unwrap(), "Carol — available");

    // Removal takes the row away.
    let mut gone = roster_item("dave@example.org", None, &[]);
    gone.subscription = Subscription::Remove;
    apply(h.store, core(Event::RosterPush { item: gone, ver: None }));
    settle().await;
    assert_eq!(h.all("button.contact-main").len(), 2);
}

#[wasm_bindgen_test]
async fn markup_from_a_peer_is_rendered_as_text() {
    let h = Harness::main_screen().await;
    state::select(h.store, bare("bob@example.org"));
    settle().await;
    let evil = "<img src=x onerror=alert(1)> <b>bold</b> <script>alert(2)</script>";
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", evil))));
    settle().await;

    let body = h.one(".transcript .message-body");
    assert_eq!(body.text_content().unwrap(), evil);
    assert!(h.root.query_selector("img").unwrap().is_none(), "an <img> was created");
    assert!(h.root.query_selector(".transcript b").unwrap().is_none(), "a <b> was created");
    assert!(h.root.query_selector(".transcript script").unwrap().is_none(), "a <script> was created");
    assert_eq!(h.texts(".transcript .message-sender"), vec!["Bob"]);
    // The transcript is a polite live log.
    let log = h.one("[role=log]");
    assert_eq!(log.get_attribute("aria-live").as_deref(), Some("polite"));
}

#[wasm_bindgen_test]
async fn links_are_anchors_and_me_messages_are_actions() {
    let h = Harness::main_screen().await;
    state::select(h.store, bare("bob@example.org"));
    let body = "see https://example.org/a?b=1, or javascript:alert(1), www.example.net, mailto:carol@example.org \
                and xmpp:eve@example.net?message";
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", body))));
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "/me waves"))));
    settle().await;

    let links = h.all(".transcript a");
    let attr = |a: &web_sys::HtmlElement, name: &str| a.get_attribute(name);
    let hrefs: Vec<_> = links.iter().map(|a| attr(a, "href").unwrap()).collect();
    assert_eq!(
        hrefs,
        [
            "https://example.org/a?b=1",
            "https://www.example.net",
            "mailto:carol@example.org",
            "xmpp:eve@example.net?message"
        ],
        "javascript: is not a link"
    );
    assert_eq!(links.iter().map(|a| a.text_content().unwrap()).collect::<Vec<_>>()[1], "www.example.net");
    for web in &links[..2] {
        assert_eq!(attr(web, "rel").as_deref(), Some("noopener noreferrer"));
        assert_eq!(attr(web, "target").as_deref(), Some("_blank"));
    }
    assert_eq!(attr(&links[2], "target").as_deref(), Some("_self"), "mailto: opens the mail program, not a tab");
    assert_eq!(h.texts(".transcript .message-body")[0], body);

    // The xmpp: link opens Eve's conversation inside Natter; the page does not navigate: only the fragment that
    // names the open conversation changes (src/ui/history.rs).
    let location = web_sys::window().unwrap().location();
    let page =
        |l: &web_sys::Location| format!("{}{}{}", l.origin().unwrap(), l.pathname().unwrap(), l.search().unwrap());
    let before = page(&location);
    links[3].click();
    settle().await;
    assert_eq!(h.store.selected.get_untracked(), Some(bare("eve@example.net")));
    assert_eq!(h.one("#conversation-title").text_content().unwrap(), "eve@example.net");
    assert_eq!(page(&location), before);
    assert_eq!(location.hash().unwrap(), "#/chat/eve%40example.net");

    state::select(h.store, bare("bob@example.org"));
    settle().await;
    let action = h.all(".transcript .message.action");
    assert_eq!(action.len(), 1);
    assert_eq!(action[0].query_selector(".message-body").unwrap().unwrap().text_content().unwrap(), "* Bob waves");
}

#[wasm_bindgen_test]
async fn unread_counts_grow_for_other_conversations_and_clear_on_open() {
    let h = Harness::main_screen().await;
    h.contact("Bob").click();
    settle().await;
    assert_eq!(h.store.selected.get_untracked(), Some(bare("bob@example.org")));

    apply(h.store, core(Event::Message(incoming("carol@example.org/tablet", "one"))));
    apply(h.store, core(Event::Message(incoming("carol@example.org/tablet", "two"))));
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "to the open conversation"))));
    settle().await;
    assert_eq!(h.badge("Carol").as_deref(), Some("2 unread messages"));
    if state::page_visible() {
        assert_eq!(h.badge("Bob"), None, "the open conversation gains no unread count");
    }
    assert_eq!(document().title(), if state::page_visible() { "(2) Natter" } else { "(3) Natter" });

    // Bob's conversation keeps its own history.
    assert_eq!(h.texts(".transcript .message-body"), vec!["to the open conversation"]);

    // Opening Carol's conversation clears her count and shows her two messages.
    h.contact("Carol").click();
    settle().await;
    assert_eq!(h.badge("Carol"), None);
    assert_eq!(h.store.contacts.with_untracked(|c| c[&bare("carol@example.org")].unread), 0);
    assert_eq!(h.texts(".transcript .message-body"), vec!["one", "two"]);
    assert_eq!(h.contact("Carol").get_attribute("aria-current").as_deref(), Some("true"));
    assert_eq!(h.contact("Bob").get_attribute("aria-current"), None);

    // Someone outside the roster gets a row under its own heading.
    apply(h.store, core(Event::Message(incoming("eve@example.net/x", "hi, we met yesterday"))));
    settle().await;
    assert!(h.texts(".group-name").contains(&model::STRANGERS_GROUP.to_owned()));
    assert_eq!(h.badge("eve@example.net").as_deref(), Some("1 unread message"));
}

#[wasm_bindgen_test]
async fn typing_shows_in_the_row_and_the_open_conversation_until_they_stop_or_send() {
    let h = Harness::main_screen().await;
    apply(
        h.store,
        core(Event::ContactPresence { jid: bare("bob@example.org"), presence: available(Show::Away, None) }),
    );
    h.contact("Bob").click();
    settle().await;
    let status = |h: &Harness| h.contact("Bob").query_selector(".contact-status").unwrap().unwrap().text_content();
    let header = |h: &Harness| h.texts(".conversation-presence");
    assert_eq!(header(&h), vec!["Away"]);
    let chat_state = |state| core(Event::ChatState { from: bare("bob@example.org"), state });

    apply(h.store, chat_state(ChatState::Composing));
    settle().await;
    assert_eq!(status(&h).as_deref(), Some("typing…"));
    assert_eq!(header(&h), vec!["typing…"]);
    apply(h.store, chat_state(ChatState::Paused));
    settle().await;
    assert_eq!(status(&h).as_deref(), Some("away"));
    assert_eq!(header(&h), vec!["Away"]);

    // Their message ends it, and so does their going offline.
    apply(h.store, chat_state(ChatState::Composing));
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "there you go"))));
    settle().await;
    assert_eq!(header(&h), vec!["Away"]);
    apply(h.store, chat_state(ChatState::Composing));
    apply(h.store, core(Event::ContactPresence { jid: bare("bob@example.org"), presence: None }));
    settle().await;
    assert_eq!(header(&h), vec!["Offline"]);
    // Someone who is not a contact gets no row out of a chat state alone.
    apply(h.store, core(Event::ChatState { from: bare("eve@example.net"), state: ChatState::Composing }));
    settle().await;
    assert!(h.store.contacts.with_untracked(|c| !c.contains_key(&bare("eve@example.net"))));
}

#[wasm_bindgen_test]
async fn a_bounced_message_is_marked_failed_in_place() {
    let h = Harness::main_screen().await;
    state::select(h.store, bare("bob@example.org"));
    let mut sent = Message::chat(Jid::parse("bob@example.org").unwrap(), "are you there?");
    sent.id = Some("m1".into());
    sent.from = Some(Jid::parse("alice@example.org/web").unwrap());
    let mut other = sent.clone();
    other.id = Some("m2".into());
    other.bodies = vec![(None, "second".into())];
    apply(h.store, core(Event::MessageSent(sent)));
    apply(h.store, core(Event::MessageSent(other)));
    settle().await;
    assert_eq!(h.all(".message.failed").len(), 0);

    apply(
        h.store,
        core(Event::MessageError {
            with: bare("bob@example.org"),
            id: Some("m1".into()),
            error: StanzaError::new(ErrorType::Cancel, "service-unavailable"),
        }),
    );
    settle().await;

    let failed = h.all(".message.failed");
    assert_eq!(failed.len(), 1, "exactly the bounced message is marked");
    let failed = &failed[0];
    assert!(failed.class_list().contains("from-me"));
    assert_eq!(failed.query_selector(".message-body").unwrap().unwrap().text_content().unwrap(), "are you there?");
    let error = failed.query_selector(".message-error").unwrap().unwrap().text_content().unwrap();
    assert!(error.contains("Not delivered"), "{error}");
    assert!(error.contains(&StanzaError::new(ErrorType::Cancel, "service-unavailable").describe()), "{error}");
    // No extra line: the error sits on the message it belongs to.
    assert_eq!(h.all(".transcript .message").len(), 2);

    // A bounce with an unknown id is still shown, as its own line.
    apply(
        h.store,
        core(Event::MessageError {
            with: bare("bob@example.org"),
            id: None,
            error: StanzaError::new(ErrorType::Cancel, "recipient-unavailable"),
        }),
    );
    settle().await;
    assert_eq!(h.all(".transcript .message").len(), 3);
    assert!(h.texts(".message-error").last().unwrap().contains("not online"));
}

#[wasm_bindgen_test]
async fn subscription_requests_and_connection_state_are_shown() {
    let h = Harness::main_screen().await;
    assert!(h.texts("[role=status].connection").iter().any(|t| t.contains("Online")));
    apply(
        h.store,
        core(Event::SubscriptionRequest {
            from: bare("zoe@example.org"),
            status: Some("It's Zoe from the club".into()),
        }),
    );
    settle().await;
    let request = h.one(".request");
    let text = request.text_content().unwrap();
    assert!(text.contains("zoe@example.org") && text.contains("wants to see") && text.contains("Zoe from the club"));
    let buttons = h.texts(".request button");
    assert_eq!(buttons, vec!["Approve", "Deny"]);

    // The session drops: the indicator says so, with the reason, and presence is no longer claimed.
    apply(
        h.store,
        core(Event::ContactPresence { jid: bare("bob@example.org"), presence: available(Show::Available, None) }),
    );
    apply(h.store, TransportEvent::Failed(natter::transport::TransportError::ConnectionLost));
    settle().await;
    assert!(h.texts("[role=status].connection").iter().any(|t| t.contains("Offline")));
    assert!(h.one(".banner[role=alert]").text_content().unwrap().contains("lost"));
    assert!(h.contact("Bob").text_content().unwrap().contains("Bob — offline"));
}

#[wasm_bindgen_test]
async fn login_checks_the_address_before_connecting() {
    let form = LoginForm::default();
    let screen = Screen::mount_with(SessionHandle::new(), form, |_| view! { <LoginScreen /> }.into_any());
    let (store, root) = (screen.store, &screen.root);
    settle().await;
    form.address.set("not an address".into());
    form.password.set("secret".into());
    settle().await;
    let submit: web_sys::HtmlElement = root.query_selector("button[type=submit]").unwrap().unwrap().unchecked_into();
    submit.click();
    settle().await;
    let error = root.query_selector("#login-address-error").unwrap().unwrap();
    assert!(
        error.text_content().unwrap().starts_with("This is not a valid address"),
        "{}",
        error.text_content().unwrap()
    );
    assert_eq!(store.connection.get_untracked(), Connection::LoggedOut, "no connection was attempted");
    let address = root.query_selector("#login-address").unwrap().unwrap();
    assert_eq!(address.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(address.get_attribute("aria-describedby").as_deref(), Some("login-address-error"));
    // The labels people (and tests) look for.
    let labels: Vec<String> = {
        let l = root.query_selector_all("label").unwrap();
        (0..l.length()).map(|i| l.item(i).unwrap().text_content().unwrap()).collect()
    };
    assert_eq!(labels, vec!["Address", "Password", "Stay logged in on this device", "Server URL"]);
    assert_eq!(
        root.query_selector("#login-password").unwrap().unwrap().get_attribute("autocomplete").as_deref(),
        Some("current-password")
    );
}

#[wasm_bindgen_test]
fn login_validation_rules() {
    assert!(validate("alice@example.org", "pw", "").is_ok_and(|o| o.server_url.is_none()));
    assert!(
        validate(" alice@example.org ", "pw", " wss://x/ws ")
            .is_ok_and(|o| o.server_url.as_deref() == Some("wss://x/ws"))
    );
    assert!(matches!(validate("", "pw", ""), Err((Some(_), None))));
    assert!(matches!(validate("example.org", "pw", ""), Err((Some(_), None))), "a server alone is not an account");
    assert!(matches!(validate("alice@example.org", "", ""), Err((None, Some(_)))));
    assert!(matches!(validate("alice@example.org/res", "pw", ""), Err((Some(_), None))));
}

/// A bare message: `seq`, sent by us or not, with stanza id `id`.
fn msg(seq: u64, from_me: bool, id: &str) -> model::ChatMessage {
    web::row(seq, id, from_me.then_some(model::Delivery::Sent))
}

#[wasm_bindgen_test]
fn grouping_and_unread() {
    let mut contacts = std::collections::HashMap::new();
    for (jid, name, groups, online) in [
        ("a@x", Some("Zed"), vec!["Work", "Friends"], true),
        ("b@x", Some("amy"), vec!["Work"], false),
        ("c@x", None, vec![], true),
    ] {
        let mut c = Contact::from_roster(&roster_item(jid, name, &groups));
        c.presence = online.then(Availability::default);
        contacts.insert(bare(jid), c);
    }
    contacts.insert(bare("s@y"), Contact::stranger(bare("s@y")));
    let groups = model::group_contacts(&contacts, "");
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, vec!["Friends", "Work", model::DEFAULT_GROUP, model::STRANGERS_GROUP]);
    let work = &groups[1];
    assert_eq!(work.jids, vec![bare("a@x"), bare("b@x")], "online first, then by name");
    assert_eq!(work.online, 1);
    let filtered = model::group_contacts(&contacts, "  AMY ");
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].jids, vec![bare("b@x")]);
    // Same presence and name: by address, local part first ("a.b" sorts after "a", though "a.b@" < "a@").
    let mut twins = std::collections::HashMap::new();
    for jid in ["a.b@x", "a@y", "a@x", "x"] {
        twins.insert(bare(jid), Contact::from_roster(&roster_item(jid, Some("Same"), &[])));
    }
    let order = &model::group_contacts(&twins, "")[0].jids;
    assert_eq!(order, &vec![bare("x"), bare("a@x"), bare("a@y"), bare("a.b@x")]);

    assert!(!model::counts_as_unread(Some(&bare("a@x")), &bare("a@x"), true));
    assert!(model::counts_as_unread(Some(&bare("a@x")), &bare("a@x"), false));
    assert!(model::counts_as_unread(None, &bare("a@x"), true));
    assert_eq!(model::parse_groups(" Work,, friends , Work,"), vec!["Work", "friends"]);
    assert!(model::parse_groups(" , ").is_empty());
}

/// 2,000 contacts named "User 0000" … "User 1999" in the groups Work, Family and Club (by `i % 3`).
const BIG: usize = 2000;

fn big_roster() -> Vec<RosterItem> {
    (0..BIG)
        .map(|i| {
            roster_item(
                &format!("user{i:04}@example.org"),
                Some(&format!("User {i:04}")),
                &[["Work", "Family", "Club"][i % 3]],
            )
        })
        .collect()
}

/// The harness with the big roster applied (the demo contacts dropped), and the groups as the model sorts them.
async fn big_harness() -> Harness {
    let h = Harness::main_screen_styled().await;
    apply(h.store, core(Event::Roster { items: big_roster(), ver: None }));
    settle().await;
    settle().await;
    h
}

fn sorted_groups(h: &Harness) -> Vec<model::RosterGroup> {
    h.store.contacts.with_untracked(|c| model::group_contacts(c, ""))
}

/// Every rendered row of `group` is the contact the model puts at its `aria-posinset`, and the positions run
/// without a gap. Returns the positions.
fn assert_rows_match_model(h: &Harness, groups: &[model::RosterGroup], group: &str) -> Vec<usize> {
    let g = groups.iter().find(|g| g.name == group).unwrap();
    let rows = h.rows_of(group);
    for (pos, _, jid) in &rows {
        assert_eq!(*jid, g.jids[pos - 1].to_string(), "row {pos} of {group}");
    }
    let positions: Vec<usize> = rows.iter().map(|r| r.0).collect();
    assert!(positions.windows(2).all(|w| w[1] == w[0] + 1), "{group}: rows in order, no gap: {positions:?}");
    positions
}

#[wasm_bindgen_test]
async fn a_large_roster_renders_only_the_rows_in_view() {
    let h = Harness::main_screen_styled().await;
    let perf = web_sys::window().unwrap().performance().unwrap();
    let t0 = perf.now();
    apply(h.store, core(Event::Roster { items: big_roster(), ver: None }));
    settle().await;
    let t1 = perf.now();
    settle().await;

    // A screenful plus the overscan, not 2,000 rows; only the first group's heading.
    let rendered = h.all("button.contact-main").len();
    assert!((8..60).contains(&rendered), "{rendered} rows in the DOM");
    assert_eq!(h.texts(".group-name"), vec!["Club"]);
    let club = h.one("li.group[data-group=\"Club\"]");
    assert_eq!(club.get_attribute("aria-setsize").as_deref(), Some("3"), "the number of groups is announced");
    assert_eq!(club.get_attribute("aria-posinset").as_deref(), Some("1"));
    assert_eq!(h.one("li.group .group-count").text_content().unwrap(), "0/666 online");
    // The first rows, in sorted order, each with the whole group's size for screen readers.
    let groups = sorted_groups(&h);
    assert_eq!(assert_rows_match_model(&h, &groups, "Club")[0], 1);
    let names: Vec<String> = h.rows_of("Club").into_iter().take(3).map(|r| r.1).collect();
    assert_eq!(names, vec!["User 0002", "User 0005", "User 0008"]);
    assert!(h.all("li.contact").iter().all(|li| li.get_attribute("aria-setsize").as_deref() == Some("666")));
    // The list keeps the height of the whole roster, so the scrollbar is right.
    let m = Metrics::default();
    let full = layout::total_height(&groups, |_| true, m);
    let list = h.one("ul.groups");
    assert!(
        (f64::from(list.offset_height()) - full).abs() <= 1.0,
        "list {} px, roster {full} px",
        list.offset_height()
    );

    // Collapsing the first group brings the next one up, from its first row.
    h.one("li.group[data-group=\"Club\"] .group-toggle").click();
    settle().await;
    settle().await;
    assert_eq!(h.texts(".group-name"), vec!["Club", "Family"]);
    assert!(h.rows_of("Club").is_empty());
    assert_eq!(assert_rows_match_model(&h, &groups, "Family")[0], 1);
    h.one("li.group[data-group=\"Club\"] .group-toggle").click();
    settle().await;
    assert_eq!(h.texts(".group-name"), vec!["Club"]);
    web_sys::console::log_1(&format!("{BIG} contacts: first screen of rows {:.0} ms", t1 - t0).into());
}

#[wasm_bindgen_test]
async fn scrolling_the_roster_renders_the_rows_at_that_position() {
    let h = big_harness().await;
    let groups = sorted_groups(&h);
    let m = Metrics::default();
    let open = |_: &str| true;

    // Row 300 of Family (the second group), far below the first screen.
    let y = layout::row_top(&groups, open, m, 1, 299);
    h.scroll_list_to(y).await;
    assert_eq!(h.texts(".group-name"), vec!["Family"], "only the group in view is rendered");
    let positions = assert_rows_match_model(&h, &groups, "Family");
    assert!(positions.contains(&300) && positions.len() < 60, "{positions:?}");
    // The row is where the arithmetic says: at the top of the view (the CSS heights and the code agree).
    let row = h
        .all("li.group[data-group=\"Family\"] li.contact")
        .into_iter()
        .find(|li| li.get_attribute("aria-posinset").as_deref() == Some("300"))
        .unwrap();
    let scroller = h.scroller();
    assert!(
        (row.offset_top() - scroller.scroll_top()).abs() <= 1,
        "row 300 at {} px, view at {} px",
        row.offset_top(),
        scroller.scroll_top()
    );
    assert_eq!(h.rows_of("Family").iter().find(|r| r.0 == 300).unwrap().1, "User 0898");

    // The very end: the last contact of the last group.
    h.scroll_list_to(1e9).await;
    assert_eq!(h.texts(".group-name"), vec!["Work"]);
    let positions = assert_rows_match_model(&h, &groups, "Work");
    assert_eq!(positions.last(), Some(&667));
    assert_eq!(h.rows_of("Work").last().unwrap().1, "User 1998");

    // Filtering while scrolled far down: the list shrinks and shows what matches.
    let filter: web_sys::HtmlInputElement = h.one("#contact-filter").unchecked_into();
    filter.set_value("user 1997");
    filter.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    settle().await;
    settle().await;
    settle().await;
    assert_eq!(h.texts("button.contact-main .contact-name"), vec!["User 1997 — offline"]);
    filter.set_value("");
    filter.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    settle().await;
    settle().await;
    assert!(h.all("button.contact-main").len() < 60);
}

/// Sends a keydown for `key` to `el`, as a person pressing it there.
fn press(el: &web_sys::Element, key: &str) {
    let f = js_sys::Function::new_with_args(
        "el, key",
        "el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }))",
    );
    f.call2(&JsValue::NULL, el, &key.into()).unwrap();
}

#[wasm_bindgen_test]
async fn keyboard_reaches_rows_that_were_scrolled_out() {
    let h = big_harness().await;
    let first = h.one("button.contact-main");
    assert_eq!(first.get_attribute("tabindex").as_deref(), Some("0"), "the list is one tab stop");
    first.focus().unwrap();
    assert_eq!(h.focused_jid().as_deref(), Some("user0002@example.org"));

    // End: the last contact of the last group, scrolled into view, rendered, focused, in the tab order.
    press(&first, "End");
    settle().await;
    settle().await;
    assert_eq!(h.focused_jid().as_deref(), Some("user1998@example.org"));
    let focused: web_sys::HtmlElement = document().active_element().unwrap().unchecked_into();
    assert_eq!(focused.get_attribute("tabindex").as_deref(), Some("0"));
    let scroller = h.scroller();
    let li: web_sys::HtmlElement = focused.parent_element().unwrap().unchecked_into();
    let (top, bottom) = (scroller.scroll_top(), scroller.scroll_top() + scroller.client_height());
    assert!(li.offset_top() >= top && li.offset_top() + li.offset_height() <= bottom + 1, "the row is in view");
    assert!(h.all("button.contact-main").len() < 60);

    // Up one, then Home: the first contact of the first group, back at the top.
    press(&focused, "ArrowUp");
    settle().await;
    assert_eq!(h.focused_jid().as_deref(), Some("user1995@example.org"));
    press(&document().active_element().unwrap(), "Home");
    settle().await;
    settle().await;
    assert_eq!(h.focused_jid().as_deref(), Some("user0002@example.org"));
    assert!(h.scroller().scroll_top() <= 1, "scrolled back to the top");

    // Down from the last row of a group goes on to the next group's first row, rendering it.
    let groups = sorted_groups(&h);
    h.scroll_list_to(layout::row_top(&groups, |_| true, Metrics::default(), 0, 665)).await;
    let last_club = h
        .all("button.contact-main")
        .into_iter()
        .find(|b| b.get_attribute("data-jid").as_deref() == Some("user1997@example.org"))
        .unwrap();
    last_club.focus().unwrap();
    press(&last_club, "ArrowDown");
    settle().await;
    settle().await;
    assert_eq!(h.focused_jid().as_deref(), Some("user0001@example.org"), "first of Family");
}

#[wasm_bindgen_test]
async fn a_presence_change_off_screen_re_sorts_where_it_is_shown() {
    let h = big_harness().await;
    let before = h.all("button.contact-main");
    // user1500 is in Work, the last group, far out of view.
    let perf = web_sys::window().unwrap().performance().unwrap();
    let t0 = perf.now();
    apply(
        h.store,
        core(Event::ContactPresence { jid: bare("user1500@example.org"), presence: available(Show::Available, None) }),
    );
    settle().await;
    let t1 = perf.now();
    let after = h.all("button.contact-main");
    assert_eq!(before, after, "the rows in view are the same elements, none added or re-created");

    // Scrolled to Work: it leads the group, available; the rest follow in the model's order.
    let groups = sorted_groups(&h);
    assert_eq!(groups[2].jids[0], bare("user1500@example.org"));
    h.scroll_list_to(layout::row_top(&groups, |_| true, Metrics::default(), 2, 0)).await;
    let rows = h.rows_of("Work");
    assert_eq!(rows[0].0, 1);
    assert_eq!(rows[0].2, "user1500@example.org");
    assert_eq!(
        h.contact("User 1500").query_selector(".contact-name").unwrap().unwrap().text_content().unwrap(),
        "User 1500 — available"
    );
    assert!(h.one("li.group[data-group=\"Work\"] .group-count").text_content().unwrap().starts_with("1/667"));
    assert_rows_match_model(&h, &groups, "Work");
    // Where it used to be (row 501 of Work), the list closed up behind it.
    h.scroll_list_to(layout::row_top(&groups, |_| true, Metrics::default(), 2, 500)).await;
    assert_rows_match_model(&h, &groups, "Work");
    assert!(h.rows_of("Work").iter().all(|r| r.2 != "user1500@example.org"));

    // It goes offline again while in view: it moves back, and the row in view changes in place.
    let row = h.contact("User 1503");
    apply(h.store, core(Event::ContactPresence { jid: bare("user1500@example.org"), presence: None }));
    settle().await;
    settle().await;
    let groups = sorted_groups(&h);
    assert_rows_match_model(&h, &groups, "Work");
    assert!(h.contact("User 1500").text_content().unwrap().contains("offline"));
    assert!(h.contact("User 1503") == row, "a row that stays in view is kept");
    web_sys::console::log_1(&format!("{BIG} contacts: one presence change off screen {:.0} ms", t1 - t0).into());
}

#[wasm_bindgen_test]
fn roster_layout_arithmetic() {
    let g = |name: &str, n: usize| model::RosterGroup {
        name: name.into(),
        jids: (0..n).map(|i| bare(&format!("{name}{i}@x"))).collect(),
        online: 0,
    };
    let groups = vec![g("a", 3), g("b", 100), g("c", 2)];
    let m = Metrics { group: 10.0, heading: 8.0, row: 5.0 };
    let open = |_: &str| true;
    assert_eq!(layout::total_height(&groups, open, m), 30.0 + 105.0 * 5.0);
    assert_eq!(layout::row_top(&groups, open, m, 1, 0), 10.0 + 15.0 + 10.0);
    // A view inside group b: only b, rows from the one cut at the top to the one cut at the bottom.
    let w = layout::window(&groups, open, m, 40.0, 62.0);
    assert_eq!((w.groups.len(), w.groups[0].name.as_str(), w.groups[0].rows.clone()), (1, "b", 1..6));
    assert_eq!((w.groups_before, w.rows_before, w.total_groups, w.total_rows), (1, 3, 3, 105));
    // Collapsed groups take only their heading; a range past the end moves back to the end (here: all of c).
    let w = layout::window(&groups, |n| n != "b", m, 1000.0, 1020.0);
    assert_eq!((w.groups_before, w.rows_before, w.total_rows), (2, 3, 5));
    assert_eq!(w.groups.iter().map(|s| (s.name.as_str(), s.rows.clone())).collect::<Vec<_>>(), vec![("c", 0..2)]);
    // Keyboard steps cross groups and skip collapsed ones.
    let b0 = bare("b0@x");
    let a2 = bare("a2@x");
    assert_eq!(layout::step(&groups, open, Some((0, &a2)), Step::Next), Some((1, 0)));
    assert_eq!(layout::step(&groups, open, Some((1, &b0)), Step::Previous), Some((0, 2)));
    assert_eq!(layout::step(&groups, |n| n != "b", Some((0, &a2)), Step::Next), Some((2, 0)));
    assert_eq!(layout::step(&groups, open, None, Step::Last), Some((2, 1)));
    assert_eq!(layout::step(&groups, open, Some((2, &bare("c1@x"))), Step::Next), Some((2, 1)));
    assert_eq!(layout::first_row_below(&groups, open, m, 26.0), Some((1, 0)));
    assert_eq!(layout::first_row_below(&groups, open, m, 36.0), Some((1, 1)));
}

#[wasm_bindgen_test]
fn messages_are_kept_in_pages() {
    let mut pages: Vec<model::MessagePage> = Vec::new();
    assert_eq!(model::page_with_room(&pages), None, "no page yet");
    assert_eq!(model::message_count(&pages), 0);
    assert!(model::last_message(&pages).is_none());
    // Fill the pages the way apply() does: into the last page while it has room, else a new page.
    let total = model::PAGE_SIZE * 2 + 3;
    for seq in 1..=total as u64 {
        let m = msg(seq, seq % 2 == 0, &format!("id{}", seq % 7));
        match model::page_with_room(&pages) {
            Some(p) => pages[p].messages.push(m),
            None => pages.push(model::MessagePage::starting_with(m)),
        }
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.iter().map(|p| p.messages.len()).collect::<Vec<_>>(), vec![model::PAGE_SIZE, model::PAGE_SIZE, 3]);
    assert_eq!(model::message_count(&pages), total);
    assert_eq!(model::last_message(&pages).map(|m| m.seq), Some(total as u64));
    assert_eq!(model::page_with_room(&pages), Some(2));
    assert_eq!(pages[1].get(150).map(|m| m.seq), Some(150));
    assert!(pages[1].get(5).is_none(), "another page's message");
    // A message by its sequence number, on any page (the pages hold increasing numbers).
    for seq in [1, 99, 100, 101, 150, 200, 201, total as u64] {
        let (p, i) = model::position(&pages, seq).unwrap();
        assert_eq!(pages[p].messages[i].seq, seq);
    }
    assert_eq!(model::position(&pages, 0), None);
    assert_eq!(model::position(&pages, total as u64 + 1), None);
    // What can change of a page's rows: our messages' states and errors (the odd ones are received).
    pages[0].messages[4].error = Some("not delivered".into());
    let states = pages[0].states();
    assert_eq!(states.len(), model::PAGE_SIZE / 2 + 1);
    assert_eq!(states[0], (2, model::RowState { delivery: Some(model::Delivery::Sent), error: None }));
    assert_eq!(states[2], (5, model::RowState { delivery: None, error: Some("not delivered".into()) }));
}

#[wasm_bindgen_test]
fn the_transcript_follows_new_messages_until_the_reader_scrolls_up() {
    let slack = 48;
    // At (or near) the bottom: following, whatever came before.
    assert!(model::follows_after_scroll(false, 500, 900, 0, slack));
    assert!(model::follows_after_scroll(false, 950, 900, slack, slack));
    // Scrolled up, away from the bottom: not following.
    assert!(!model::follows_after_scroll(true, 900, 700, 200, slack));
    // Moving down but not at the bottom (our own smooth scroll while messages keep coming, or the reader
    // scrolling back down): unchanged.
    assert!(model::follows_after_scroll(true, 700, 800, 600, slack));
    assert!(!model::follows_after_scroll(false, 700, 800, 600, slack));
}

/// Waits for the next task of the event loop (a `MessageChannel` message: no timer clamping), the way each
/// WebSocket message arrives in a task of its own; the browser may render in between.
async fn next_task() {
    let global = js_sys::global();
    let channel_class: js_sys::Function =
        js_sys::Reflect::get(&global, &"MessageChannel".into()).unwrap().unchecked_into();
    let channel = js_sys::Reflect::construct(&channel_class, &js_sys::Array::new()).unwrap();
    let port = |name: &str| js_sys::Reflect::get(&channel, &name.into()).unwrap();
    let (port1, port2) = (port("port1"), port("port2"));
    let message = js_sys::Promise::new(&mut |resolve, _| {
        js_sys::Reflect::set(&port1, &"onmessage".into(), &resolve).unwrap();
    });
    let post: js_sys::Function = js_sys::Reflect::get(&port2, &"postMessage".into()).unwrap().unchecked_into();
    post.call1(&port2, &JsValue::NULL).unwrap();
    wasm_bindgen_futures::JsFuture::from(message).await.unwrap();
    js_sys::Reflect::set(&port1, &"onmessage".into(), &JsValue::NULL).unwrap();
}

/// A long burst into the open conversation: every message ends up in the transcript once and in order, each
/// delivered in a task of its own (as WebSocket messages arrive). Rows already shown stay the same elements, and
/// a bounce of a message sent before the burst (thousands of rows up) still marks that row in place.
/// `NATTER_UI_BURST` (read at compile time) changes the count (2,000).
#[wasm_bindgen_test]
async fn a_long_burst_into_the_open_conversation_shows_every_message_in_order() {
    let n: usize = option_env!("NATTER_UI_BURST").and_then(|v| v.parse().ok()).unwrap_or(2000);
    let h = Harness::main_screen().await;
    state::select(h.store, bare("bob@example.org"));
    let mut sent = Message::chat(Jid::parse("bob@example.org").unwrap(), "before the burst");
    sent.id = Some("early".into());
    sent.from = Some(Jid::parse("alice@example.org/web").unwrap());
    apply(h.store, core(Event::MessageSent(sent)));
    settle().await;
    let first = h.one(".transcript .message");

    let perf = web_sys::window().unwrap().performance().unwrap();
    let bodies: Vec<String> = (1..=n).map(|i| format!("m-{i:05}")).collect();
    // Timings are printed for information only; never asserted.
    let t0 = perf.now();
    for body in &bodies {
        apply(h.store, core(Event::Message(incoming("bob@example.org/phone", body))));
        next_task().await;
    }
    let t1 = perf.now();
    for _ in 0..100 {
        if h.all(".transcript .message").len() > n {
            break;
        }
        settle().await;
    }
    let t2 = perf.now();
    let mut expected = vec!["before the burst".to_owned()];
    expected.extend(bodies);
    assert_eq!(h.texts(".transcript .message-body"), expected, "every message once, in order");
    assert!(h.one(".transcript .message") == first, "the first row is the element it was before the burst");
    web_sys::console::log_1(
        &format!(
            "{n} messages into the open conversation: applied {:.0} ms, all rows shown {:.0} ms",
            t1 - t0,
            t2 - t0
        )
        .into(),
    );

    apply(
        h.store,
        core(Event::MessageError {
            with: bare("bob@example.org"),
            id: Some("early".into()),
            error: StanzaError::new(ErrorType::Cancel, "service-unavailable"),
        }),
    );
    settle().await;
    let failed = h.all(".message.failed");
    assert_eq!(failed.len(), 1, "exactly the bounced message is marked");
    assert!(failed[0] == first, "marked in place");
    assert!(first.query_selector(".message-error").unwrap().is_some());
    assert_eq!(h.all(".transcript .message").len(), n + 1);
}

#[wasm_bindgen_test]
fn names_sort_and_filter_without_regard_to_case_in_any_script() {
    assert_eq!(model::fold_case("ÉLODIE Ünal"), "elodie unal");
    assert_eq!(model::fold_case("ΣΟΦΊΑ"), "σοφια");
    assert_eq!(model::fold_case("Bob"), "bob");
    assert_eq!(model::upper_case('ß'), "SS");
    assert_eq!(model::initial("élodie"), "É");
    assert_eq!(model::sentence("über alles"), "Über alles.");

    let mut contacts = std::collections::HashMap::new();
    for (jid, name) in [("z@example.org", "zoë"), ("e@example.org", "ÉMILE"), ("a@example.org", "Anna")] {
        let c = Contact::from_roster(&roster_item(jid, Some(name), &[]));
        contacts.insert(c.jid.clone(), c);
    }
    let names = |filter: &str| -> Vec<String> {
        model::group_contacts(&contacts, filter)
            .into_iter()
            .flat_map(|g| g.jids)
            .map(|j| contacts[&j].display_name().to_string())
            .collect()
    };
    // Case and accents do not count: "ÉMILE" sorts among the e's, not after "z" as its code point would.
    assert_eq!(names(""), vec!["Anna", "ÉMILE", "zoë"]);
    assert_eq!(names("émi"), vec!["ÉMILE"]);
    assert_eq!(names("emi"), vec!["ÉMILE"]);
    assert_eq!(names("ZOË"), vec!["zoë"]);
    assert_eq!(names("zoe"), vec!["zoë"]);
}

// ---- reconnecting (src/ui/connection.rs, src/ui/state.rs) ---------------------------------------------

fn reconnecting(delay_secs: u64) -> TransportEvent {
    TransportEvent::Reconnecting {
        attempt: 1,
        delay: std::time::Duration::from_secs(delay_secs),
        reason: "The connection was lost.".into(),
    }
}

#[wasm_bindgen_test]
async fn a_lost_connection_shows_reconnecting_keeps_the_roster_and_draft_then_comes_back() {
    let h = Harness::main_screen().await;
    apply(
        h.store,
        core(Event::ContactPresence { jid: bare("bob@example.org"), presence: available(Show::Available, None) }),
    );
    state::select(h.store, bare("bob@example.org"));
    settle().await;
    let send: web_sys::HtmlButtonElement = h.one("button.send").unchecked_into();
    assert!(h.one("#composer-offline").hidden());

    apply(h.store, reconnecting(9));
    settle().await;
    assert!(
        h.texts("[role=status].connection").iter().any(|t| t.contains("Reconnecting…")),
        "{:?}",
        h.texts("[role=status].connection")
    );
    let banner = h.one(".banner-reconnecting").text_content().unwrap();
    assert!(banner.contains("Connection lost.") && banner.contains("Reconnecting in 9 s…"), "{banner}");
    assert!(!banner.contains("The connection was lost"), "the generic reason is not repeated: {banner}");
    assert_eq!(h.texts(".banner-reconnecting button"), ["Reconnect now", "Log out"]);
    assert!(h.all(".banner[role=alert]").is_empty(), "not the offline banner yet");
    assert!(h.contact("Bob").text_content().unwrap().contains("Bob — offline"), "contacts go offline");
    assert_eq!(h.all("button.contact-main").len(), 3, "the roster stays");
    assert!(!send.disabled(), "Send works while reconnecting (the outbox keeps what is sent)");
    let hint = h.one("#composer-offline");
    assert!(!hint.hidden(), "and the composer says what happens");
    assert!(hint.text_content().unwrap().contains("waits and goes out when the connection is back"));
    let composer: web_sys::HtmlTextAreaElement = h.one("textarea#composer").unchecked_into();
    composer.set_value("typed while offline");
    composer.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    // "Reconnect now" with no session behind it does nothing but must not fail.
    h.all(".banner-reconnecting button")[0].click();

    // The attempt starts: no countdown any more.
    apply(h.store, TransportEvent::Connecting { url: "wss://example.org/ws".into() });
    settle().await;
    let banner = h.one(".banner-reconnecting").text_content().unwrap();
    assert!(banner.contains("Reconnecting…") && !banner.contains(" s…"), "{banner}");
    assert!(h.store.progress.get_untracked().is_none(), "the login screen's progress is not used");

    // Back online: the banner goes, the roster is refreshed, the draft is still there and can be sent.
    apply(h.store, core(Event::Online { jid: Jid::parse("alice@example.org/web2").unwrap(), resumed: false }));
    apply(
        h.store,
        core(Event::Roster {
            items: vec![
                roster_item("bob@example.org", Some("Bob"), &[]),
                roster_item("erin@example.org", Some("Erin"), &[]),
            ],
            ver: Some("v2".into()),
        }),
    );
    settle().await;
    assert!(
        h.all(".banner-reconnecting").is_empty() && h.all(".banner[role=alert]").is_empty(),
        "{}",
        h.root.inner_html()
    );
    assert!(h.texts("[role=status].connection").iter().any(|t| t.contains("Online")));
    assert!(
        h.texts("button.contact-main .contact-name").iter().any(|t| t.starts_with("Erin")),
        "the new roster is shown"
    );
    assert!(h.one("#composer-offline").hidden());
    assert_eq!(composer.value(), "typed while offline");
    assert_eq!(
        h.store.conversations.with_untracked(|c| c[&bare("bob@example.org")].draft.clone()),
        "typed while offline"
    );
}

#[wasm_bindgen_test]
async fn giving_up_or_no_keys_ends_in_the_offline_banner_with_the_reason() {
    use natter::transport::TransportError;
    let h = Harness::main_screen().await;
    apply(h.store, reconnecting(1));
    apply(
        h.store,
        TransportEvent::Failed(TransportError::GaveUp { attempts: 10, reason: "The connection was lost.".into() }),
    );
    settle().await;
    assert!(h.all(".banner-reconnecting").is_empty());
    let banner = h.one(".banner[role=alert]").text_content().unwrap();
    assert!(banner.contains("You are offline.") && banner.contains("Gave up after 10 attempts"), "{banner}");
    assert!(h.texts("[role=status].connection").iter().any(|t| t.contains("Offline")));

    let h = Harness::main_screen().await;
    apply(
        h.store,
        TransportEvent::Failed(TransportError::CannotReconnect { reason: "The connection was lost.".into() }),
    );
    settle().await;
    let banner = h.one(".banner[role=alert]").text_content().unwrap();
    assert!(banner.contains("cannot reconnect by itself") && banner.contains("PLAIN"), "{banner}");
}

#[wasm_bindgen_test]
async fn log_out_from_the_reconnecting_banner_returns_to_the_login_form() {
    let h = Harness::main_screen().await;
    apply(h.store, reconnecting(30));
    settle().await;
    h.all(".banner-reconnecting button")[1].click();
    settle().await;
    assert_eq!(h.store.connection.get_untracked(), Connection::LoggedOut);
    assert!(h.store.contacts.with_untracked(|c| c.is_empty()), "logging out forgets the session");
}

#[wasm_bindgen_test]
async fn log_in_again_keeps_the_conversations_of_the_same_account_only() {
    use natter::xmpp::ClientError;
    use natter::xmpp::sasl::SaslError;
    let h = Harness::main_screen().await;
    apply(h.store, core(Event::Message(incoming("bob@example.org/phone", "kept across logins"))));
    apply(h.store, reconnecting(1));
    apply(h.store, core(Event::Closed { error: Some(ClientError::Sasl(SaslError::KeysStale)) }));
    settle().await;
    // The password prompt stays on the chat screen (tests/web_ux.rs tries it out).
    let prompt = h.one("form.banner-password").text_content().unwrap();
    assert!(prompt.contains("Your server asks for your password again"), "{prompt}");
    let messages = |store: AppState| {
        store.conversations.with_untracked(|c| {
            c.get(&bare("bob@example.org")).map_or(0, |c| c.pages.iter().map(|p| p.messages.len()).sum::<usize>())
        })
    };
    assert_eq!(messages(h.store), 1, "kept while logging in again");

    apply(h.store, core(Event::Online { jid: Jid::parse("alice@example.org/again").unwrap(), resumed: false }));
    assert_eq!(messages(h.store), 1, "the same account finds its conversations");
    assert_eq!(h.store.contacts.with_untracked(|c| c.len()), 3);

    apply(h.store, core(Event::Closed { error: None }));
    h.store.connection.set(Connection::LoggedOut);
    apply(h.store, core(Event::Online { jid: Jid::parse("zoe@example.org/web").unwrap(), resumed: false }));
    assert_eq!(messages(h.store), 0, "another account starts empty");
    assert!(h.store.contacts.with_untracked(|c| c.is_empty()));
    assert_eq!(h.store.connection.get_untracked(), Connection::Online);
}

#[wasm_bindgen_test]
async fn a_specific_reason_for_the_lost_connection_is_shown() {
    let h = Harness::main_screen().await;
    apply(
        h.store,
        TransportEvent::Reconnecting {
            attempt: 2,
            delay: std::time::Duration::from_secs(4),
            reason: "The server is shutting down.".into(),
        },
    );
    settle().await;
    let banner = h.one(".banner-reconnecting").text_content().unwrap();
    assert!(banner.contains("(The server is shutting down)"), "{banner}");
}

#[wasm_bindgen_test]
async fn focus_stays_in_the_roster_when_its_row_scrolls_away() {
    let h = big_harness().await;
    let first = h.one("button.contact-main");
    first.focus().unwrap();
    assert_eq!(h.focused_jid().as_deref(), Some("user0002@example.org"));

    // The mouse wheel takes the list far down: the focused row is no longer on the page.
    h.scroll_list_to(30_000.0).await;
    settle().await;
    assert!(!first.is_connected(), "the row left the DOM");
    let active = document().active_element().expect("something has focus");
    assert!(active.class_list().contains("groups"), "focus is parked on the list, not the page: {}", active.tag_name());

    // The keyboard goes on from the row that had focus: the next contact after it, scrolled into view.
    press(&active, "ArrowDown");
    settle().await;
    settle().await;
    assert_eq!(h.focused_jid().as_deref(), Some("user0005@example.org"));

    // The focused row scrolls away and, before the rescue runs (next frame), the roster goes away too (log out):
    // the rescue must not touch the disposed roster (a panic here would stop the app).
    let scroller = h.scroller();
    scroller.set_scroll_top(scroller.scroll_top() + 30_000);
    let body: web_sys::Element = document().body().unwrap().into();
    while document().active_element() != Some(body.clone()) {
        next_frame().await;
    }
    // A panic in a frame callback does not fail the test by itself: the hook notes it.
    static PANICKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
    drop(h);
    settle().await;
    settle().await;
    assert!(document().query_selector("ul.groups").unwrap().is_none());
    assert!(!PANICKED.load(std::sync::atomic::Ordering::SeqCst), "the focus rescue panicked on a disposed roster");
}

#[wasm_bindgen_test]
async fn a_flood_of_strangers_and_requests_is_capped_and_said_so() {
    let h = Harness::main_screen().await;
    for i in 0..1000 {
        apply(h.store, core(Event::Message(incoming(&format!("s{i}@example.net/x"), "buy now"))));
        apply(h.store, core(Event::SubscriptionRequest { from: bare(&format!("s{i}@example.net")), status: None }));
    }
    settle().await;
    let strangers = h.store.contacts.with_untracked(|c| c.values().filter(|c| !c.in_roster).count());
    assert_eq!(strangers, model::MAX_STRANGERS, "strangers with an entry");
    assert_eq!(h.store.conversations.with_untracked(|c| c.len()), model::MAX_STRANGERS, "no conversation for the rest");
    assert_eq!(h.store.requests.with_untracked(Vec::len), natter::xmpp::client::MAX_SUBSCRIPTION_REQUESTS);
    let said = h.store.notices.with_untracked(|n| n.iter().filter(|n| n.text.contains("not in your contacts")).count());
    assert_eq!(said, 1, "one notice says why, however many were refused");
    assert!(
        h.texts("[role=alert]").iter().any(|t| t.contains("not in your contacts")),
        "{:?}",
        h.texts("[role=alert]")
    );
    // Strangers already shown and contacts still get through.
    apply(h.store, core(Event::Message(incoming("s0@example.net/x", "second"))));
    apply(h.store, core(Event::Message(incoming("carol@example.org/x", "hello"))));
    let count =
        |j: &str| h.store.with_conversation(&bare(j), |c| c.pages.iter().map(|p| p.messages.len()).sum::<usize>());
    assert_eq!((count("s0@example.net"), count("carol@example.org")), (Some(2), Some(1)));
}
