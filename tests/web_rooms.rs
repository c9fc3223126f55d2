//! Browser tests of group chat (src/ui/rooms/): joining and leaving, every join error in words with what to do,
//! a room of 5,000 people (the occupant list keeps a few dozen rows on the page), a 1,000-message burst,
//! mentions counted apart from unread, kicks shown, invitations (Join / Decline send the right commands),
//! bookmarks listed and joined, our messages delivered when reflected, and a page of the room's archive shown
//! before the live messages, each message once.
//!
//! The session is played by the test ([`SessionHandle::fake`]): commands are recorded, events go in through
//! [`SessionHandle::receive`] as the transport delivers them.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_rooms`
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use natter::transport::TransportEvent;
use natter::ui::rooms::{self, model::Status};
use natter::xmpp::client::BookmarkEvent;
use natter::xmpp::client::mam::{ArchivePage, ArchiveQuery, ArchivedMessage};
use natter::xmpp::client::muc::{Departure, JoinError, Occupant, OccupantChange, RoomCommand, RoomEvent, RoomMessage};
use natter::xmpp::jid::Jid;
use natter::xmpp::stanza::bookmarks::Bookmark;
use natter::xmpp::stanza::error::{ErrorType, StanzaError};
use natter::xmpp::stanza::message::{Message, MessageType};
use natter::xmpp::stanza::muc::{Affiliation, Invite, Role};
use natter::xmpp::{Command, Event};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/web.rs"]
mod web;

use web::{Screen, bare, joined, member, occupant, roster_item, settle};

const LOBBY: &str = "lobby@conference.example.org";

fn room_event(ev: RoomEvent) -> TransportEvent {
    TransportEvent::Core(Event::Room(ev))
}

/// A groupchat message from `nick` in the lobby.
fn from_room(nick: &str, body: &str, stanza_id: &str, mentions_me: bool) -> RoomEvent {
    let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
    m.kind = MessageType::Groupchat;
    m.from = Some(Jid::parse(&format!("{LOBBY}/{nick}")).unwrap());
    m.stanza_id = Some(stanza_id.into());
    RoomEvent::Message(RoomMessage {
        room: bare(LOBBY),
        nick: Some(nick.into()),
        occupant_id: None,
        message: m,
        own: false,
        mentions_me,
    })
}

struct Harness {
    screen: Screen,
    taken: web::Taken,
}

web::deref_to_screen!(Harness);

impl Harness {
    async fn new() -> Harness {
        web::set_url_fragment("");
        let (session, taken) = web::recording();
        let screen = Screen::main(session);
        screen.sign_in(vec![roster_item("bob@example.org", Some("Bob"), &[])]);
        settle().await;
        Harness { screen, taken }
    }

    fn room_commands(&self) -> Vec<RoomCommand> {
        self.taken
            .borrow()
            .iter()
            .filter_map(|c| if let Command::Room(r) = c { Some(r.clone()) } else { None })
            .collect()
    }

    fn last_room_command(&self) -> RoomCommand {
        self.room_commands().pop().expect("a room command")
    }

    /// Joins the lobby through the "Join a room" form as `nick`, and the room confirms with `others`.
    async fn join_lobby(&self, nick: &str, others: Vec<Occupant>) {
        self.one("details.join-room").set_attribute("open", "").unwrap();
        self.type_into("#join-address", LOBBY);
        self.type_into("#join-nick", nick);
        self.one("#join-submit").click();
        settle().await;
        self.receive(room_event(joined(bare(LOBBY), member(nick), others)));
        settle().await;
    }
}

#[wasm_bindgen_test]
async fn join_from_the_form_then_leave() {
    let h = Harness::new().await;
    h.one("details.join-room").set_attribute("open", "").unwrap();
    h.type_into("#join-address", LOBBY);
    h.type_into("#join-nick", "alice");
    h.one("#join-submit").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Join { room: bare(LOBBY), nick: "alice".into(), password: None, history: None },
        "the form sends one Join"
    );
    assert_eq!(h.text(".room-status"), "Joining…");
    assert!(h.text(&format!("li.room-row[data-room='{LOBBY}']")).contains("Joining…"), "listed as joining");
    assert_eq!(web_sys::window().unwrap().location().hash().unwrap(), "#/room/lobby%40conference.example.org");

    h.receive(room_event(joined(bare(LOBBY), member("alice"), vec![occupant("bob", Role::Moderator)])));
    settle().await;
    assert!(h.all(".room-status").is_empty(), "joined: no status line");
    assert_eq!(h.text("#people-toggle"), "2 people");
    assert_eq!(h.all(".occupant-heading").len(), 2, "moderators and participants");
    assert_eq!(h.text(".occupant-row.me .occupant-nick"), "alice", "own entry marked");
    assert!(h.text(".room-event").contains("You joined the room"));

    // Talk: our message is sending, then delivered when the room reflects it.
    let composer: web_sys::HtmlTextAreaElement = h.one("#room-composer").unchecked_into();
    composer.set_value("hello room");
    h.one(".room .composer button.send").click();
    settle().await;
    let RoomCommand::Send { room, body, id } = h.last_room_command() else { panic!("a Send") };
    assert_eq!((room, body.as_str()), (bare(LOBBY), "hello room"));
    assert_eq!(h.one(".message.from-me .message-state").get_attribute("data-state").as_deref(), Some("sending"));
    h.receive(room_event(RoomEvent::Reflected { room: bare(LOBBY), id, stanza_id: Some("s-1".into()) }));
    settle().await;
    assert_eq!(h.one(".message.from-me .message-state").get_attribute("data-state").as_deref(), Some("delivered"));

    h.one("#room-leave").click();
    settle().await;
    assert_eq!(h.last_room_command(), RoomCommand::Leave { room: bare(LOBBY), status: None });
    h.receive(room_event(RoomEvent::Left { room: bare(LOBBY), why: Departure::Left { status: None } }));
    settle().await;
    assert!(h.text(".room-status").contains("You left the room"));
    h.one("#room-rejoin").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Join { room: bare(LOBBY), nick: "alice".into(), password: None, history: None }
    );
}

#[wasm_bindgen_test]
async fn every_join_error_in_words_with_what_to_do() {
    let h = Harness::new().await;
    let cases: Vec<(JoinError, &str)> = vec![
        (JoinError::NickInUse, "#join-other-nick"),
        (JoinError::NickLocked, "#join-other-nick"),
        (JoinError::PasswordRequired, "#room-password"),
        (JoinError::NotFound, "#room-create"),
        (JoinError::Full, "#join-retry"),
        (JoinError::Timeout, "#join-retry"),
        (JoinError::MembersOnly, ".room-advice"),
        (JoinError::Banned, ".room-advice"),
        (JoinError::CreationRefused, ".room-advice"),
        (JoinError::NotARoom, ".room-advice"),
        (JoinError::TooManyRooms, ".room-advice"),
        (JoinError::AlreadyExists, ".room-advice"),
        (
            JoinError::Other(StanzaError {
                kind: ErrorType::Cancel,
                condition: "undefined-condition".into(),
                text: None,
            }),
            "#join-retry",
        ),
    ];
    rooms::join(h.store, h.session, &bare(LOBBY), "alice", None).unwrap();
    rooms::open(h.store, bare(LOBBY));
    for (error, action) in cases {
        h.receive(room_event(RoomEvent::JoinFailed { room: bare(LOBBY), error: error.clone() }));
        settle().await;
        let shown = h.text(".room-status.failed");
        assert!(shown.contains(&error.describe()), "{error:?}: {shown:?}");
        assert!(!h.all(&format!(".room-status.failed {action}")).is_empty(), "{error:?}: offers {action}");
    }

    // Nick in use: the suggestion joins under another nick.
    h.receive(room_event(RoomEvent::JoinFailed { room: bare(LOBBY), error: JoinError::NickInUse }));
    settle().await;
    let offer = h.text("#join-other-nick");
    assert!(offer.starts_with("Join as alice"), "{offer:?}");
    h.one("#join-other-nick").click();
    settle().await;
    let RoomCommand::Join { nick, .. } = h.last_room_command() else { panic!("a Join") };
    assert_eq!(nick, "alice2");
    // Taken too: the next one.
    h.receive(room_event(RoomEvent::JoinFailed { room: bare(LOBBY), error: JoinError::NickInUse }));
    settle().await;
    assert_eq!(h.text("#join-other-nick"), "Join as alice3");

    // Password: asked for, sent with the join.
    h.receive(room_event(RoomEvent::JoinFailed { room: bare(LOBBY), error: JoinError::PasswordRequired }));
    settle().await;
    h.type_into("#room-password", "s3cret");
    h.one(".room-password button[type=submit]").click();
    settle().await;
    let RoomCommand::Join { password, .. } = h.last_room_command() else { panic!("a Join") };
    assert_eq!(password.as_deref(), Some("s3cret"));

    // Not found: created on request.
    h.receive(room_event(RoomEvent::JoinFailed { room: bare(LOBBY), error: JoinError::NotFound }));
    settle().await;
    h.one("#room-create").click();
    settle().await;
    assert!(matches!(h.last_room_command(), RoomCommand::Create { settings: None, .. }));
}

#[wasm_bindgen_test]
async fn five_thousand_occupants_keep_the_list_small() {
    let h = Harness::new().await;
    let others: Vec<Occupant> = (0..5000)
        .map(|i| occupant(&format!("user{i:04}"), if i < 10 { Role::Moderator } else { Role::Participant }))
        .collect();
    h.join_lobby("alice", others).await;
    settle().await;
    assert_eq!(h.text("#people-toggle"), "5,001 people");
    assert_eq!(h.one(".occupant-list").get_attribute("data-rows").as_deref(), Some("5003"), "all rows counted");
    let rendered = h.all(".occupant-list > li").len();
    assert!(rendered > 0 && rendered <= 120, "{rendered} occupant rows on the page");

    // 500 join and 500 leave in one batch: one update, one summary row.
    let mut changes: Vec<OccupantChange> = (0..500)
        .map(|i| OccupantChange::Joined { occupant: occupant(&format!("new{i}"), Role::Participant), was: None })
        .collect();
    changes.extend((0..500).map(|i| OccupantChange::Left {
        occupant: occupant(&format!("user{:04}", 1000 + i), Role::Participant),
        why: Departure::Left { status: None },
    }));
    h.receive(room_event(RoomEvent::Occupants { room: bare(LOBBY), changes, unlisted: 0 }));
    settle().await;
    assert_eq!(h.text("#people-toggle"), "5,001 people");
    let events: Vec<String> = h.all(".room-event").iter().map(|e| e.text_content().unwrap()).collect();
    assert!(events.iter().any(|e| e.contains("500 people joined, 500 people left")), "{events:?}");
    assert!(h.all(".occupant-list > li").len() <= 120);
}

#[wasm_bindgen_test]
async fn a_burst_of_a_thousand_messages_is_all_shown() {
    let h = Harness::new().await;
    h.join_lobby("alice", vec![occupant("bob", Role::Participant)]).await;
    for i in 0..1000 {
        h.receive(room_event(from_room("bob", &format!("message {i}"), &format!("id-{i}"), false)));
    }
    settle().await;
    let rows = h.all(".room .message");
    assert_eq!(rows.len(), 1000);
    assert_eq!(
        rows.last().unwrap().query_selector(".message-body").unwrap().unwrap().text_content().unwrap(),
        "message 999"
    );
    // The same archive id again is not shown twice.
    h.receive(room_event(from_room("bob", "message 999", "id-999", false)));
    settle().await;
    assert_eq!(h.all(".room .message").len(), 1000);
}

#[wasm_bindgen_test]
async fn mentions_are_counted_apart_from_unread_and_highlighted() {
    let h = Harness::new().await;
    h.join_lobby("alice", vec![occupant("bob", Role::Participant)]).await;
    // Another conversation in front: the room's messages are unread.
    natter::ui::state::select(h.store, bare("bob@example.org"));
    settle().await;
    h.receive(room_event(from_room("bob", "hi all", "m1", false)));
    h.receive(room_event(from_room("bob", "alice: look", "m2", true)));
    h.receive(room_event(from_room("bob", "bye", "m3", false)));
    settle().await;
    let row = format!("li.room-row[data-room='{LOBBY}']");
    assert!(h.text(&format!("{row} .room-unread")).starts_with('3'), "unread");
    assert!(h.text(&format!("{row} .room-mentions")).starts_with("@1"), "mentions");
    let title = web_sys::window().unwrap().document().unwrap().title();
    assert_eq!(title, "(3) Natter", "the page's title counts the room's unread messages");
    h.one(&format!("{row} button")).click();
    settle().await;
    settle().await;
    assert!(h.one(&format!("{row} .room-unread")).has_attribute("hidden"), "read once open");
    assert!(h.one(&format!("{row} .room-mentions")).has_attribute("hidden"));
    assert_eq!(h.all(".message.mention").len(), 1, "the mention is highlighted");
    assert_eq!(h.text(".message.mention .message-body"), "alice: look");
}

#[wasm_bindgen_test]
async fn kicks_are_shown_in_words() {
    let h = Harness::new().await;
    let mut boss = member("alice");
    boss.role = Role::Moderator;
    h.receive(room_event(RoomEvent::Joining { room: bare(LOBBY), nick: "alice".into() }));
    rooms::open(h.store, bare(LOBBY));
    h.receive(room_event(joined(
        bare(LOBBY),
        boss,
        vec![occupant("bob", Role::Participant), occupant("carol", Role::Participant)],
    )));
    settle().await;
    // As a moderator: kick bob with a reason.
    h.one("button.occupant[data-nick='bob']").click();
    settle().await;
    h.type_into("#moderation-reason", "spam");
    h.one("#occupant-kick").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::SetRole { room: bare(LOBBY), nick: "bob".into(), role: Role::None, reason: Some("spam".into()) }
    );
    h.receive(room_event(RoomEvent::Occupants {
        room: bare(LOBBY),
        changes: vec![OccupantChange::Left {
            occupant: occupant("bob", Role::Participant),
            why: Departure::Kicked { actor: Some("alice".into()), reason: Some("spam".into()) },
        }],
        unlisted: 0,
    }));
    settle().await;
    let events: Vec<String> = h.all(".room-event").iter().map(|e| e.text_content().unwrap()).collect();
    assert!(events.iter().any(|e| e.contains("bob was kicked by alice: spam")), "{events:?}");
    assert!(h.all("button.occupant[data-nick='bob']").is_empty(), "bob is gone from the list");

    // We are kicked: said in words, with "Join again".
    h.receive(room_event(RoomEvent::Left {
        room: bare(LOBBY),
        why: Departure::Kicked { actor: Some("carol".into()), reason: Some("flood".into()) },
    }));
    settle().await;
    assert!(h.text(".room-status").contains("You were kicked by carol: flood"));
    assert!(!h.all("#room-rejoin").is_empty());
    // Banned: no "Join again".
    h.receive(room_event(RoomEvent::Left { room: bare(LOBBY), why: Departure::Banned { actor: None, reason: None } }));
    settle().await;
    assert!(h.text(".room-status").contains("You were banned from the room"));
    assert!(h.all("#room-rejoin").is_empty());
    // After a reconnect the core rejoins: "Rejoining…".
    h.receive(room_event(joined(bare(LOBBY), member("alice"), vec![])));
    h.receive(room_event(RoomEvent::Joining { room: bare(LOBBY), nick: "alice".into() }));
    settle().await;
    assert_eq!(h.text(".room-status"), "Rejoining…");
}

#[wasm_bindgen_test]
async fn invitations_join_and_decline() {
    let h = Harness::new().await;
    let invite = |room: &str, mediated: bool| Invite {
        room: bare(room),
        from: bare("bob@example.org"),
        reason: Some("come and see".into()),
        password: None,
        mediated,
    };
    h.receive(room_event(RoomEvent::Invited(invite(LOBBY, true))));
    h.receive(room_event(RoomEvent::Invited(invite("dev@conference.example.org", false))));
    settle().await;
    assert_eq!(h.all(".invite").len(), 2);
    assert!(h.text(".invite").contains("Bob invites you to"));
    assert_eq!(h.text(".invite-reason"), "come and see");
    // Only a mediated invitation can be declined (a direct one is dismissed).
    let decline = h.all(".invite-decline");
    assert_eq!(decline[0].text_content().unwrap(), "Decline");
    assert_eq!(decline[1].text_content().unwrap(), "Dismiss");
    decline[0].click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Decline { room: bare(LOBBY), inviter: bare("bob@example.org"), reason: None }
    );
    assert_eq!(h.all(".invite").len(), 1);
    h.one(".invite-join").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Join {
            room: bare("dev@conference.example.org"),
            nick: "alice".into(),
            password: None,
            history: None
        }
    );
    assert!(h.all(".invite").is_empty());

    // Inviting a contact from the room.
    h.receive(room_event(joined(bare("dev@conference.example.org"), member("alice"), vec![])));
    settle().await;
    h.one("#room-invite").click();
    settle().await;
    h.type_into("#room-panel-field", "bob@example.org");
    h.one("#room-panel button[type=submit]").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Invite {
            room: bare("dev@conference.example.org"),
            to: bare("bob@example.org"),
            reason: None,
            password: None
        }
    );
}

#[wasm_bindgen_test]
async fn bookmarks_are_listed_and_joined() {
    let h = Harness::new().await;
    let mut b = Bookmark::new(bare(LOBBY));
    b.name = Some("The Lobby".into());
    b.nick = Some("ally".into());
    let other = Bookmark::new(bare("dev@conference.example.org"));
    h.receive(TransportEvent::Core(Event::Bookmarks(BookmarkEvent::Loaded(vec![b, other]))));
    settle().await;
    let names: Vec<String> = h.all(".room-row .room-name").iter().map(|e| e.text_content().unwrap()).collect();
    assert_eq!(names, vec!["dev@conference.example.org", "The Lobby"]);
    h.one(&format!("li.room-row[data-room='{LOBBY}'] button")).click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Join { room: bare(LOBBY), nick: "ally".into(), password: None, history: None }
    );
    assert_eq!(h.text("#room-bookmark"), "Remove bookmark");
    h.one("#room-bookmark").click();
    settle().await;
    assert!(matches!(h.taken.borrow().last(), Some(Command::RemoveBookmark { room }) if *room == bare(LOBBY)));
    h.receive(TransportEvent::Core(Event::Bookmarks(BookmarkEvent::Removed(bare(LOBBY)))));
    settle().await;
    assert_eq!(h.text("#room-bookmark"), "Bookmark");
    // Still listed while the room is joined or joining.
    assert_eq!(h.all(".room-row").len(), 2);
}

#[wasm_bindgen_test]
async fn a_page_of_the_rooms_archive_goes_before_live_messages_once() {
    let h = Harness::new().await;
    h.join_lobby("alice", vec![occupant("bob", Role::Participant)]).await;
    h.receive(room_event(from_room("bob", "live one", "a-3", false)));
    settle().await;
    let archived = |id: &str, nick: &str, body: &str, outgoing: bool| {
        let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), body);
        m.kind = MessageType::Groupchat;
        m.from = Some(Jid::parse(&format!("{LOBBY}/{nick}")).unwrap());
        ArchivedMessage { id: id.into(), unix_ms: None, with: bare(LOBBY), outgoing, message: m }
    };
    let page = ArchivePage {
        archive: bare(LOBBY),
        query: ArchiveQuery::Older { with: bare(LOBBY) },
        messages: vec![
            archived("a-1", "bob", "old one", false),
            archived("a-2", "alice", "my old one", true),
            archived("a-3", "bob", "live one", false),
        ],
        oldest: None,
        newest: None,
        complete: true,
    };
    h.receive(TransportEvent::Core(Event::ArchivePage(page)));
    settle().await;
    let bodies: Vec<String> = h.all(".room .message .message-body").iter().map(|e| e.text_content().unwrap()).collect();
    assert_eq!(bodies, vec!["old one", "my old one", "live one"]);
    assert_eq!(h.all(".room .message.from-me").len(), 1, "ours shown as ours");
    assert!(matches!(
        h.store.rooms.rooms.with_untracked(|r| r.get(&bare(LOBBY)).map(|r| r.status.clone())),
        Some(Status::Joined)
    ));
}

#[wasm_bindgen_test]
async fn owners_configure_with_the_rooms_form_and_destroy() {
    use natter::xmpp::stanza::dataform::{DataForm, Field, FieldOption, FieldType, FormType};
    let h = Harness::new().await;
    let mut owner = member("alice");
    owner.affiliation = Affiliation::Owner;
    owner.role = Role::Moderator;
    h.receive(room_event(RoomEvent::Joining { room: bare(LOBBY), nick: "alice".into() }));
    rooms::open(h.store, bare(LOBBY));
    h.receive(room_event(joined(bare(LOBBY), owner, vec![])));
    settle().await;
    h.one("#room-configure").click();
    settle().await;
    assert_eq!(h.last_room_command(), RoomCommand::FetchConfig { room: bare(LOBBY) });

    let field = |var: &str, kind: FieldType, values: &[&str]| {
        let mut f = Field::new(var, values.iter().map(|v| (*v).to_owned()).collect());
        f.kind = kind;
        f.label = Some(format!("Label of {var}"));
        f
    };
    let mut form = DataForm::new(FormType::Form);
    form.title = Some("Configure the lobby".into());
    form.fields = vec![
        field("FORM_TYPE", FieldType::Hidden, &["http://jabber.org/protocol/muc#roomconfig"]),
        field("intro", FieldType::Fixed, &["Settings of the room"]),
        field("muc#roomconfig_roomname", FieldType::TextSingle, &["Lobby"]),
        field("muc#roomconfig_roomdesc", FieldType::TextMulti, &["one", "two"]),
        field("muc#roomconfig_persistentroom", FieldType::Boolean, &["0"]),
        {
            let mut f = field("muc#roomconfig_whois", FieldType::ListSingle, &["moderators"]);
            f.options = vec![
                FieldOption { label: Some("Moderators".into()), value: "moderators".into() },
                FieldOption { label: Some("Anyone".into()), value: "anyone".into() },
            ];
            f
        },
        {
            let mut f = field("muc#roomconfig_presencebroadcast", FieldType::ListMulti, &["moderator"]);
            f.options = vec![
                FieldOption { label: None, value: "moderator".into() },
                FieldOption { label: None, value: "participant".into() },
            ];
            f
        },
    ];
    h.receive(room_event(RoomEvent::ConfigForm { room: bare(LOBBY), form }));
    settle().await;
    assert_eq!(h.text("#room-config h3"), "Configure the lobby");
    assert_eq!(h.text(".config-fixed"), "Settings of the room");
    // Every visible field has a control; the hidden one none.
    assert_eq!(h.all("#room-config .config-field").len(), 5);
    h.type_into("#config-field-2", "The Lobby");
    let persistent: web_sys::HtmlInputElement = h.one("#config-field-4").unchecked_into();
    persistent.click();
    let whois: web_sys::HtmlSelectElement = h.one("#config-field-5").unchecked_into();
    whois.set_value("anyone");
    whois.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    let boxes = h.all("#config-field-6 input[type=checkbox]");
    boxes[1].click();
    h.one("#room-config button[type=submit]").click();
    settle().await;
    let RoomCommand::SubmitConfig { room, form } = h.last_room_command() else { panic!("a SubmitConfig") };
    assert_eq!(room, bare(LOBBY));
    assert_eq!(form.kind, FormType::Submit);
    assert_eq!(form.value("muc#roomconfig_roomname"), Some("The Lobby"));
    assert_eq!(form.field("muc#roomconfig_roomdesc").unwrap().values, vec!["one", "two"]);
    assert_eq!(form.value("muc#roomconfig_persistentroom"), Some("1"));
    assert_eq!(form.value("muc#roomconfig_whois"), Some("anyone"));
    assert_eq!(form.field("muc#roomconfig_presencebroadcast").unwrap().values, vec!["moderator", "participant"]);
    assert_eq!(form.value("FORM_TYPE"), Some("http://jabber.org/protocol/muc#roomconfig"));
    assert!(form.field("intro").is_none(), "fixed fields are not submitted");
    assert!(h.all("#room-config").is_empty(), "the form closes");

    // Destroy, with a reason.
    h.one("#room-destroy").click();
    settle().await;
    h.type_into("#room-panel-field", "moving elsewhere");
    h.one("#room-panel button[type=submit]").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Destroy { room: bare(LOBBY), reason: Some("moving elsewhere".into()), alternate: None }
    );
    h.receive(room_event(RoomEvent::Left {
        room: bare(LOBBY),
        why: Departure::Destroyed { reason: Some("moving elsewhere".into()), alternate: None },
    }));
    settle().await;
    assert!(h.text(".room-status").contains("The room was destroyed: moving elsewhere"));
    assert!(h.all("#room-rejoin").is_empty(), "no rejoining a destroyed room");
}

#[wasm_bindgen_test]
async fn private_messages_and_nick_changes() {
    let h = Harness::new().await;
    h.join_lobby("alice", vec![occupant("bob", Role::Participant)]).await;
    h.one("button.occupant[data-nick='bob']").click();
    settle().await;
    h.one("#occupant-pm").click();
    settle().await;
    assert!(h.text(".private-heading").contains("Private with bob"));
    h.type_into("#private-composer", "just between us");
    h.one(".private-chat form button[type=submit]").click();
    settle().await;
    let RoomCommand::SendPrivate { room, nick, body, .. } = h.last_room_command() else { panic!("a SendPrivate") };
    assert_eq!((room, nick.as_str(), body.as_str()), (bare(LOBBY), "bob", "just between us"));
    let mut answer = Message::chat(Jid::parse("alice@example.org/web").unwrap(), "sure");
    answer.from = Some(Jid::parse(&format!("{LOBBY}/bob")).unwrap());
    h.receive(room_event(RoomEvent::PrivateMessage {
        room: bare(LOBBY),
        nick: "bob".into(),
        message: answer,
        outgoing: false,
    }));
    settle().await;
    let bodies: Vec<String> =
        h.all(".private-messages .message-body").iter().map(|e| e.text_content().unwrap()).collect();
    assert_eq!(bodies, vec!["just between us", "sure"]);
    h.one("#private-close").click();
    settle().await;
    assert!(h.all(".private-chat").is_empty());
    assert!(!h.all("#room-transcript").is_empty(), "back to the room's transcript");

    // Nick change: asked, confirmed, or refused in words.
    h.one("#room-nick").click();
    settle().await;
    let field: web_sys::HtmlInputElement = h.one("#room-panel-field").unchecked_into();
    assert_eq!(field.value(), "alice", "the current nick to start from");
    h.type_into("#room-panel-field", "ally");
    h.one("#room-panel button[type=submit]").click();
    settle().await;
    assert_eq!(h.last_room_command(), RoomCommand::ChangeNick { room: bare(LOBBY), nick: "ally".into() });
    h.receive(room_event(RoomEvent::NickChanged { room: bare(LOBBY), nick: "ally".into() }));
    settle().await;
    let events: Vec<String> = h.all(".room-event").iter().map(|e| e.text_content().unwrap()).collect();
    assert!(events.iter().any(|e| e.contains("You are now known as ally")), "{events:?}");
    h.receive(room_event(RoomEvent::NickChangeFailed {
        room: bare(LOBBY),
        nick: "bob".into(),
        error: JoinError::NickInUse,
    }));
    settle().await;
    assert!(h.text(".room-error").contains("Could not change your nickname to bob: Someone in the room already uses"));
}

#[wasm_bindgen_test]
async fn private_messages_from_ever_new_nicks_are_bounded() {
    let h = Harness::new().await;
    h.join_lobby("alice", vec![]).await;
    for i in 0..rooms::MAX_PRIVATE_CHATS + 50 {
        let mut m = Message::chat(Jid::parse("alice@example.org/web").unwrap(), "psst");
        m.from = Some(Jid::parse(&format!("{LOBBY}/spammer{i}")).unwrap());
        h.receive(room_event(RoomEvent::PrivateMessage {
            room: bare(LOBBY),
            nick: format!("spammer{i}"),
            message: m,
            outgoing: false,
        }));
    }
    settle().await;
    assert_eq!(h.store.rooms.private.with_untracked(|p| p.len()), rooms::MAX_PRIVATE_CHATS);
    assert!(h.text(".notice-error").contains("Private messages from more than 200 people"));
}

#[wasm_bindgen_test]
async fn browse_page_by_page_with_a_filter_and_create_with_settings() {
    use natter::xmpp::client::muc::RoomListing;
    use natter::xmpp::stanza::muc::RoomSettings;
    let h = Harness::new().await;
    // Opening "Browse rooms" asks for the first page of the server's own service.
    let details: web_sys::HtmlDetailsElement = h.one("details.browse-rooms").unchecked_into();
    details.set_open(true);
    details.dispatch_event(&web_sys::Event::new("toggle").unwrap()).unwrap();
    settle().await;
    assert_eq!(h.last_room_command(), RoomCommand::ListRooms { service: None, after: None });
    assert_eq!(h.text(".browse-status"), "Loading rooms…");
    let listing = |local: &str, name: Option<&str>| RoomListing {
        jid: bare(&format!("{local}@conference.example.org")),
        name: name.map(str::to_owned),
    };
    h.receive(room_event(RoomEvent::Rooms {
        service: bare("conference.example.org"),
        rooms: vec![listing("lobby", Some("Lobby")), listing("dev", Some("Développeurs"))],
        next: Some("cursor-1".into()),
        total: Some(3),
    }));
    settle().await;
    assert_eq!(h.text(".browse-status"), "2 of 3 rooms");
    h.all(".browse button").into_iter().find(|b| b.text_content().unwrap() == "More rooms").unwrap().click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::ListRooms { service: Some(bare("conference.example.org")), after: Some("cursor-1".into()) }
    );
    h.receive(room_event(RoomEvent::Rooms {
        service: bare("conference.example.org"),
        rooms: vec![listing("random", None)],
        next: None,
        total: Some(3),
    }));
    settle().await;
    assert_eq!(h.all(".browse-room").len(), 3);
    // The filter matches names and addresses, without case or accents.
    h.type_into("#browse-filter", "develo");
    settle().await;
    let names: Vec<String> = h.all(".browse-name").iter().map(|e| e.text_content().unwrap()).collect();
    assert_eq!(names, vec!["Développeurs"]);
    h.one(".browse-room button").click();
    settle().await;
    assert_eq!(
        h.last_room_command(),
        RoomCommand::Join {
            room: bare("dev@conference.example.org"),
            nick: "alice".into(),
            password: None,
            history: None
        }
    );

    // Create with settings, bookmarked.
    h.one("details.join-room").set_attribute("open", "").unwrap();
    h.type_into("#join-address", "new@conference.example.org");
    h.type_into("#join-nick", "alice");
    let create: web_sys::HtmlInputElement = h.one("#join-create").unchecked_into();
    create.click();
    h.type_into("#create-name", "New room");
    let members: web_sys::HtmlInputElement = h.one("#create-members-only").unchecked_into();
    members.click();
    let bookmark: web_sys::HtmlInputElement = h.one("#join-bookmark").unchecked_into();
    bookmark.click();
    settle().await;
    assert_eq!(h.text("#join-submit"), "Create");
    h.one("#join-submit").click();
    settle().await;
    let settings =
        RoomSettings { name: Some("New room".into()), description: None, members_only: true, persistent: false };
    assert!(h.taken.borrow().iter().any(|c| matches!(c,
        Command::Room(RoomCommand::Create { room, nick, settings: Some(s) })
            if *room == bare("new@conference.example.org") && nick == "alice" && *s == settings)));
    assert!(matches!(h.taken.borrow().last(),
        Some(Command::SetBookmark(b)) if b.room == bare("new@conference.example.org") && b.autojoin && b.nick.as_deref() == Some("alice")));
    // A bad address is refused in words, nothing sent.
    let before = h.taken.borrow().len();
    h.one("details.join-room").set_attribute("open", "").unwrap();
    h.type_into("#join-address", "conference.example.org");
    h.one("#join-submit").click();
    settle().await;
    assert!(h.text("#join-error").contains("is a service, not a room"));
    assert_eq!(h.taken.borrow().len(), before);
}

#[wasm_bindgen_test]
async fn moderators_change_the_subject() {
    let h = Harness::new().await;
    let mut boss = member("alice");
    boss.role = Role::Moderator;
    h.receive(room_event(RoomEvent::Joining { room: bare(LOBBY), nick: "alice".into() }));
    rooms::open(h.store, bare(LOBBY));
    h.receive(room_event(joined(bare(LOBBY), boss, vec![])));
    h.receive(room_event(RoomEvent::Subject {
        room: bare(LOBBY),
        subject: Some("Old topic".into()),
        by: None,
        at_join: true,
    }));
    settle().await;
    assert_eq!(h.text("#room-subject"), "Old topic");
    h.one("#room-subject-edit").click();
    settle().await;
    let field: web_sys::HtmlInputElement = h.one("#room-panel-field").unchecked_into();
    assert_eq!(field.value(), "Old topic");
    h.type_into("#room-panel-field", "New topic");
    h.one("#room-panel button[type=submit]").click();
    settle().await;
    assert_eq!(h.last_room_command(), RoomCommand::SetSubject { room: bare(LOBBY), subject: "New topic".into() });
    h.receive(room_event(RoomEvent::Subject {
        room: bare(LOBBY),
        subject: Some("New topic".into()),
        by: Some("alice".into()),
        at_join: false,
    }));
    settle().await;
    assert_eq!(h.text("#room-subject"), "New topic");
    let events: Vec<String> = h.all(".room-event").iter().map(|e| e.text_content().unwrap()).collect();
    assert!(events.iter().any(|e| e.contains("alice changed the subject to: New topic")), "{events:?}");
    // A participant has no such button.
    h.receive(room_event(RoomEvent::Me { room: bare(LOBBY), me: member("alice") }));
    settle().await;
    assert!(h.all("#room-subject-edit").is_empty());
}
