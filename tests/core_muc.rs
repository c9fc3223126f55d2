#![cfg(not(target_arch = "wasm32"))]
//! Group chat (XEP-0045), bookmarks (XEP-0402), invitations (XEP-0249), caps (XEP-0115) and self-pings
//! (XEP-0410), driven by a scripted fake server in virtual time. Stanzas are XEP-0045's own examples where
//! they fit (the room `coven@chat.shakespeare.lit`), and hostile input is part of it: floods, huge nicks,
//! forged room messages, forged bookmark notifications, spoofed answers.

mod support {
    pub mod fake;
}

use std::time::Duration;

use natter::xmpp::client::RequestError;
use natter::xmpp::client::bookmarks::{BookmarkAction, BookmarkEvent};
use natter::xmpp::client::muc::{
    self, Departure, JoinError, ListError, OccupantChange, RoomAction, RoomCommand, RoomEvent, SavedRoom,
};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::bookmarks::Bookmark;
use natter::xmpp::stanza::caps;
use natter::xmpp::stanza::dataform::{DataForm, FormType};
use natter::xmpp::stanza::disco::Identity;
use natter::xmpp::stanza::muc::{Affiliation, Role, RoomSettings};
use natter::xmpp::stanza::presence::{Availability, Show};
use natter::xmpp::xml::Element;
use natter::xmpp::{Command, CommandError, Config, Event};
use support::fake::*;

const ROOM: &str = "coven@chat.shakespeare.lit";
const MUC: &str = "http://jabber.org/protocol/muc";
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
const MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";
const MUC_ADMIN: &str = "http://jabber.org/protocol/muc#admin";
const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const MAM: &str = "urn:xmpp:mam:2";
const OCC_ID: &str = "urn:xmpp:occupant-id:0";
const SM: &str = "<sm xmlns='urn:xmpp:sm:3'/>";

fn room() -> BareJid {
    jid(ROOM)
}

fn online() -> Harness {
    Harness::online_plain("<item jid='crone1@shakespeare.lit' subscription='both'/>")
}

fn room_events(h: &mut Harness) -> Vec<RoomEvent> {
    h.take_events().into_iter().filter_map(|e| if let Event::Room(r) = e { Some(r) } else { None }).collect()
}

fn cmd(h: &mut Harness, c: RoomCommand) -> Result<(), CommandError> {
    h.command(Command::Room(c))
}

/// The disco#info iq the client just sent to `to`, answered with these features (a room's identity too).
fn answer_disco(h: &mut Harness, to: &str, features: &[&str]) {
    let iq = h.sent().into_iter().find(|e| e.get_child(DISCO_INFO, "query").is_some()).expect("disco#info asked");
    assert_eq!(iq.attr("to"), Some(to));
    let features: String = features.iter().map(|f| format!("<feature var='{f}'/>")).collect();
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}' from='{to}'><query xmlns='{DISCO_INFO}'><identity category='conference' type='text' name='A Dark Cave'/><feature var='{MUC}'/>{features}</query></iq>",
        iq.attr("id").unwrap()
    ));
}

/// An occupant's presence from the room (XEP-0045 example 21 shape).
fn occupant(nick: &str, affiliation: &str, role: &str, extra: &str) -> String {
    format!(
        "<presence xmlns='jabber:client' from='{ROOM}/{nick}' to='alice@example.com/web'><x xmlns='{MUC_USER}'><item affiliation='{affiliation}' role='{role}'/></x>{extra}</presence>"
    )
}

fn self_presence(nick: &str, codes: &[u16], extra: &str) -> String {
    let codes: String = codes.iter().map(|c| format!("<status code='{c}'/>")).collect();
    format!(
        "<presence xmlns='jabber:client' from='{ROOM}/{nick}' to='alice@example.com/web'><x xmlns='{MUC_USER}'><item affiliation='member' role='participant'/><status code='110'/>{codes}</x>{extra}</presence>"
    )
}

/// Joins `ROOM` as `nick` with a room offering `features`; `others` are the presences the room sends
/// before ours. Returns the Joined event's parts.
fn join_with(h: &mut Harness, nick: &str, features: &[&str], others: &[String]) -> RoomEvent {
    cmd(h, RoomCommand::Join { room: room(), nick: nick.into(), password: None, history: None }).unwrap();
    answer_disco(h, ROOM, features);
    let p = h.sent_one();
    assert_eq!(p.attr("to"), Some(format!("{ROOM}/{nick}").as_str()));
    for o in others {
        h.recv(o);
    }
    h.recv(&self_presence(nick, &[], ""));
    let events = room_events(h);
    events.into_iter().find(|e| matches!(e, RoomEvent::Joined { .. })).expect("joined")
}

fn joined(h: &mut Harness) {
    join_with(h, "thirdwitch", &[MAM, OCC_ID], &[occupant("firstwitch", "owner", "moderator", "")]);
}

fn groupchat(nick: &str, id: &str, body: &str, extra: &str) -> String {
    format!(
        "<message xmlns='jabber:client' from='{ROOM}/{nick}' to='alice@example.com/web' type='groupchat' id='{id}'><body>{body}</body>{extra}</message>"
    )
}

fn stanza_id(id: &str, by: &str) -> String {
    format!("<stanza-id xmlns='urn:xmpp:sid:0' id='{id}' by='{by}'/>")
}

fn occupants_changes(events: &[RoomEvent]) -> Vec<OccupantChange> {
    events
        .iter()
        .filter_map(|e| if let RoomEvent::Occupants { changes, .. } = e { Some(changes.clone()) } else { None })
        .flatten()
        .collect()
}

fn iq_result(h: &mut Harness, iq: &Element, payload: &str) {
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='result' id='{}' from='{}'>{payload}</iq>",
        iq.attr("id").unwrap(),
        iq.attr("to").unwrap_or("alice@example.com")
    ));
}

fn iq_error(h: &mut Harness, iq: &Element, kind: &str, condition: &str) {
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='error' id='{}' from='{}'><error type='{kind}'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        iq.attr("id").unwrap(),
        iq.attr("to").unwrap_or("alice@example.com")
    ));
}

// ---- joining ------------------------------------------------------------------------------------------

#[test]
fn join_asks_disco_first_then_joins_without_legacy_history_when_the_room_has_an_archive() {
    let mut h = online();
    cmd(
        &mut h,
        RoomCommand::Join {
            room: room(),
            nick: "thirdwitch".into(),
            password: Some("cauldronburn".into()),
            history: None,
        },
    )
    .unwrap();
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joining { nick, .. }] if nick == "thirdwitch"));
    answer_disco(&mut h, ROOM, &[MAM, "muc_passwordprotected"]);
    // XEP-0045 example 18 (with the password of example 28 and the history of example 37).
    let p = h.sent_one();
    assert!(p.is("jabber:client", "presence") && p.attr("type").is_none());
    assert_eq!(p.attr("to"), Some("coven@chat.shakespeare.lit/thirdwitch"));
    let x = p.get_child(MUC, "x").expect("<x xmlns='…muc'/>");
    assert_eq!(x.get_child(MUC, "history").unwrap().attr("maxchars"), Some("0"));
    assert_eq!(x.get_child(MUC, "password").unwrap().text(), "cauldronburn");
    assert!(p.get_child("http://jabber.org/protocol/caps", "c").is_some(), "our caps go to rooms too");
    let info = room_events(&mut h);
    assert!(matches!(&info[..], [RoomEvent::Info { info, .. }] if info.mam && info.password_protected));

    // XEP-0045 examples 21–24: the occupants first, then us with status 110, then the subject (example 25).
    h.recv("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' to='alice@example.com/web'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>");
    h.recv("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' to='alice@example.com/web'><show>away</show><status>stirring</status><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='admin' role='moderator' jid='wiccarocks@shakespeare.lit/laptop'/></x></presence>");
    assert!(room_events(&mut h).is_empty(), "nothing reported until the join is confirmed");
    h.recv("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' to='alice@example.com/web'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/><status code='170'/></x></presence>");
    let events = room_events(&mut h);
    let [RoomEvent::Joined { me, occupants, unlisted, created, info, .. }] = &events[..] else { panic!("{events:?}") };
    assert_eq!((me.nick.as_str(), me.role, me.affiliation), ("thirdwitch", Role::Participant, Affiliation::Member));
    assert_eq!((occupants.len(), *unlisted, *created), (2, 0, false));
    let second = occupants.iter().find(|o| o.nick == "secondwitch").unwrap();
    assert_eq!(second.presence.show, Show::Away);
    assert_eq!(second.presence.status.as_deref(), Some("stirring"));
    assert_eq!(second.jid.as_ref().map(|j| j.to_string()).as_deref(), Some("wiccarocks@shakespeare.lit/laptop"));
    assert!(info.as_ref().is_some_and(|i| i.mam));
    h.recv("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' to='alice@example.com/web' type='groupchat' id='lh2bs617'><subject>Fire Burn and Cauldron Bubble!</subject></message>");
    let subject = room_events(&mut h);
    assert!(
        matches!(&subject[..], [RoomEvent::Subject { subject: Some(s), by: Some(b), at_join: true, .. }] if s == "Fire Burn and Cauldron Bubble!" && b == "secondwitch")
    );
    h.recv("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' to='alice@example.com/web' type='groupchat' id='s2'><subject>Cauldron Bubble</subject></message>");
    assert!(
        matches!(&room_events(&mut h)[..], [RoomEvent::Subject { at_join: false, by: Some(b), .. }] if b == "firstwitch")
    );
    h.recv("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' type='groupchat' id='s3'><subject></subject></message>");
    assert!(
        matches!(&room_events(&mut h)[..], [RoomEvent::Subject { subject: None, .. }]),
        "an empty subject clears it"
    );
}

#[test]
fn a_room_without_an_archive_is_joined_with_its_legacy_history_and_the_info_is_cached() {
    let mut h = online();
    join_with(&mut h, "thirdwitch", &[], &[]);
    cmd(&mut h, RoomCommand::Leave { room: room(), status: None }).unwrap();
    h.sent();
    cmd(&mut h, RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: None, history: None }).unwrap();
    let p = h.sent_one();
    assert!(p.is("jabber:client", "presence"), "the cached info spares the disco: {p:?}");
    assert!(p.get_child(MUC, "x").unwrap().get_child(MUC, "history").is_none());
}

#[test]
fn join_errors_are_typed_and_in_words() {
    for (condition, kind, expected) in [
        ("conflict", "cancel", JoinError::NickInUse),
        ("not-authorized", "auth", JoinError::PasswordRequired),
        ("registration-required", "auth", JoinError::MembersOnly),
        ("forbidden", "auth", JoinError::Banned),
        ("service-unavailable", "wait", JoinError::Full),
        ("not-acceptable", "cancel", JoinError::NickLocked),
        ("not-allowed", "cancel", JoinError::CreationRefused),
    ] {
        let mut h = online();
        cmd(&mut h, RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: None, history: None })
            .unwrap();
        answer_disco(&mut h, ROOM, &[]);
        h.sent();
        room_events(&mut h);
        // XEP-0045 example 27 shape.
        h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' to='alice@example.com/web' type='error'><x xmlns='{MUC}'/><error by='{ROOM}' type='{kind}'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"));
        let events = room_events(&mut h);
        let [RoomEvent::JoinFailed { error, .. }] = &events[..] else { panic!("{condition}: {events:?}") };
        assert_eq!(error, &expected, "{condition}");
        assert!(error.describe().ends_with('.'), "{}", error.describe());
        // The room is forgotten: a command about it is refused, a later presence is not ours.
        assert_eq!(
            cmd(&mut h, RoomCommand::Send { room: room(), body: "x".into(), id: "m".into() }),
            Err(CommandError::NotInRoom)
        );
    }
    assert_eq!(muc::suggest_nick("thirdwitch", 1), "thirdwitch2", "what the UI offers after NickInUse");
}

#[test]
fn a_room_that_does_not_exist_is_not_created_by_a_join() {
    let mut h = online();
    cmd(
        &mut h,
        RoomCommand::Join { room: jid("nosuch@chat.shakespeare.lit"), nick: "x".into(), password: None, history: None },
    )
    .unwrap();
    let iq = h.sent_one();
    iq_error(&mut h, &iq, "cancel", "item-not-found");
    assert!(h.sent().is_empty(), "no join presence");
    let events = room_events(&mut h);
    assert!(matches!(events.last(), Some(RoomEvent::JoinFailed { error: JoinError::NotFound, .. })), "{events:?}");
    // An address that answers but is no room.
    cmd(
        &mut h,
        RoomCommand::Join { room: jid("user@shakespeare.lit"), nick: "x".into(), password: None, history: None },
    )
    .unwrap();
    let iq = h.sent_one();
    iq_result(
        &mut h,
        &iq,
        &format!("<query xmlns='{DISCO_INFO}'><identity category='account' type='registered'/></query>"),
    );
    assert!(matches!(room_events(&mut h).last(), Some(RoomEvent::JoinFailed { error: JoinError::NotARoom, .. })));
}

#[test]
fn bad_addresses_and_nicks_are_refused_before_anything_is_sent() {
    let mut h = online();
    let huge = "n".repeat(1024 * 1024);
    assert!(matches!(
        cmd(&mut h, RoomCommand::Join { room: room(), nick: huge, password: None, history: None }),
        Err(CommandError::InvalidJid(_))
    ));
    assert!(matches!(
        cmd(
            &mut h,
            RoomCommand::Join { room: jid("chat.shakespeare.lit"), nick: "x".into(), password: None, history: None }
        ),
        Err(CommandError::InvalidJid(_))
    ));
    assert!(h.sent().is_empty());
}

#[test]
fn an_instant_room_is_created_and_unlocked() {
    let mut h = online();
    cmd(&mut h, RoomCommand::Create { room: room(), nick: "firstwitch".into(), settings: None }).unwrap();
    let iq = h.sent_one();
    iq_error(&mut h, &iq, "cancel", "item-not-found");
    assert_eq!(h.sent_one().attr("to"), Some("coven@chat.shakespeare.lit/firstwitch"));
    // XEP-0045 example 154: the new room, locked (201).
    h.recv(&self_presence("firstwitch", &[201], ""));
    let events = room_events(&mut h);
    assert!(events.iter().any(|e| matches!(e, RoomEvent::Joined { created: true, .. })));
    // Example 156: an empty submit form accepts the defaults.
    let set = h.sent_one();
    assert_eq!((set.attr("type"), set.attr("to")), (Some("set"), Some(ROOM)));
    let form = DataForm::find_in(set.get_child(MUC_OWNER, "query").unwrap()).unwrap();
    assert_eq!((form.kind, form.fields.len()), (FormType::Submit, 0));
    iq_result(&mut h, &set, "");
    assert!(room_events(&mut h).iter().any(|e| matches!(e, RoomEvent::Done { action: RoomAction::Create, .. })));
    assert!(h.sent_one().get_child(DISCO_INFO, "query").is_some(), "what the configured room offers is asked");
}

#[test]
fn a_configured_room_gets_its_name_description_membership_and_persistence() {
    let mut h = online();
    let settings = RoomSettings {
        name: Some("A Dark Cave".into()),
        description: Some("The place for all good witches!".into()),
        members_only: true,
        persistent: true,
    };
    cmd(&mut h, RoomCommand::Create { room: room(), nick: "firstwitch".into(), settings: Some(settings) }).unwrap();
    let iq = h.sent_one();
    iq_error(&mut h, &iq, "cancel", "item-not-found");
    h.sent();
    h.recv(&self_presence("firstwitch", &[201], ""));
    room_events(&mut h);
    let get = h.sent_one();
    assert_eq!(get.attr("type"), Some("get"));
    assert!(get.get_child(MUC_OWNER, "query").is_some());
    // XEP-0045 example 165, shortened.
    iq_result(
        &mut h,
        &get,
        &format!(
            "<query xmlns='{MUC_OWNER}'><x xmlns='jabber:x:data' type='form'><field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field><field type='text-single' var='muc#roomconfig_roomname'/><field type='text-single' var='muc#roomconfig_roomdesc'/><field type='boolean' var='muc#roomconfig_membersonly'><value>0</value></field><field type='boolean' var='muc#roomconfig_persistentroom'><value>0</value></field><field type='boolean' var='muc#roomconfig_moderatedroom'><value>1</value></field></x></query>"
        ),
    );
    let set = h.sent_one();
    let form = DataForm::find_in(set.get_child(MUC_OWNER, "query").unwrap()).unwrap();
    assert_eq!(form.kind, FormType::Submit);
    assert_eq!(form.value("muc#roomconfig_roomname"), Some("A Dark Cave"));
    assert_eq!(form.value("muc#roomconfig_roomdesc"), Some("The place for all good witches!"));
    assert_eq!(form.value("muc#roomconfig_membersonly"), Some("1"));
    assert_eq!(form.value("muc#roomconfig_persistentroom"), Some("1"));
    assert_eq!(form.value("muc#roomconfig_moderatedroom"), Some("1"), "the rest as the service proposed");
    iq_error(&mut h, &set, "modify", "not-acceptable");
    let events = room_events(&mut h);
    assert!(matches!(
        &events[..],
        [RoomEvent::RequestFailed { action: RoomAction::Create, error: RequestError::Stanza(_), .. }]
    ));
}

#[test]
fn creating_a_room_that_exists_fails() {
    let mut h = online();
    cmd(&mut h, RoomCommand::Create { room: room(), nick: "x".into(), settings: None }).unwrap();
    answer_disco(&mut h, ROOM, &[]);
    assert!(h.sent().is_empty());
    assert!(
        room_events(&mut h).iter().any(|e| matches!(e, RoomEvent::JoinFailed { error: JoinError::AlreadyExists, .. }))
    );
}

#[test]
fn leaving_says_so_at_once_and_the_rooms_last_presences_are_not_contacts() {
    let mut h = online();
    joined(&mut h);
    cmd(&mut h, RoomCommand::Leave { room: room(), status: Some("bye".into()) }).unwrap();
    let p = h.sent_one();
    assert_eq!((p.attr("type"), p.attr("to")), (Some("unavailable"), Some("coven@chat.shakespeare.lit/thirdwitch")));
    assert_eq!(p.get_child("jabber:client", "status").unwrap().text(), "bye");
    let events = room_events(&mut h);
    assert!(matches!(&events[..], [RoomEvent::Left { why: Departure::Left { .. }, .. }]));
    h.recv(&occupant("firstwitch", "owner", "moderator", ""));
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='member' role='none'/><status code='110'/></x></presence>"));
    assert!(h.take_events().is_empty(), "swallowed: no room event, no contact presence");
    assert_eq!(cmd(&mut h, RoomCommand::Leave { room: room(), status: None }), Err(CommandError::NotInRoom));
}

#[test]
fn joining_again_right_after_leaving_is_not_undone_by_the_answer_to_the_leave() {
    let mut h = online();
    joined(&mut h);
    cmd(&mut h, RoomCommand::Leave { room: room(), status: None }).unwrap();
    cmd(&mut h, RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: None, history: None }).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "the leave, then the join (the room's info is cached): {sent:?}");
    room_events(&mut h);
    // The room answers in order: first the leave (our unavailable), then the new join.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='member' role='none'/><status code='110'/></x></presence>"));
    assert!(room_events(&mut h).is_empty(), "the answer to the leave ends the leave, not the new join");
    h.recv(&occupant("firstwitch", "owner", "moderator", ""));
    h.recv(&self_presence("thirdwitch", &[], ""));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joined { occupants, .. }] if occupants.len() == 1));
    // Once in, our unavailable is ours again: a kick is a departure.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='member' role='none'/><status code='110'/><status code='307'/></x></presence>"));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Left { why: Departure::Kicked { .. }, .. }]));
}

#[test]
fn joining_too_many_rooms_is_refused_in_words() {
    let mut h = online();
    for i in 0..muc::MAX_ROOMS {
        cmd(
            &mut h,
            RoomCommand::Join {
                room: jid(&format!("r{i}@chat.shakespeare.lit")),
                nick: "x".into(),
                password: None,
                history: None,
            },
        )
        .unwrap();
    }
    h.sent();
    room_events(&mut h);
    cmd(
        &mut h,
        RoomCommand::Join {
            room: jid("one-more@chat.shakespeare.lit"),
            nick: "x".into(),
            password: None,
            history: None,
        },
    )
    .unwrap();
    assert!(h.sent().is_empty());
    let events = room_events(&mut h);
    let [RoomEvent::JoinFailed { error: JoinError::TooManyRooms, .. }] = &events[..] else { panic!("{events:?}") };
}

#[test]
fn a_join_the_room_never_confirms_times_out() {
    let mut h = online();
    cmd(&mut h, RoomCommand::Join { room: room(), nick: "x".into(), password: None, history: None }).unwrap();
    answer_disco(&mut h, ROOM, &[]);
    h.sent();
    room_events(&mut h);
    h.recv(&occupant("firstwitch", "owner", "moderator", ""));
    h.advance(Duration::from_secs(29));
    assert!(room_events(&mut h).is_empty(), "the room is still sending");
    h.advance(Duration::from_secs(2));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::JoinFailed { error: JoinError::Timeout, .. }]));
    assert_eq!(h.sent_one().attr("type"), Some("unavailable"), "the room is told we are not coming");
}

// ---- occupants -------------------------------------------------------------------------------------------

#[test]
fn occupant_changes_are_batched_and_reported_before_the_next_message() {
    let mut h = online();
    joined(&mut h);
    h.recv(&occupant("secondwitch", "member", "participant", ""));
    h.recv(&occupant("secondwitch", "member", "participant", "<show>away</show>"));
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/firstwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='owner' role='none'/></x><status>off to the heath</status></presence>"));
    assert!(room_events(&mut h).is_empty(), "batched");
    h.advance(muc::OCCUPANT_BATCH);
    let events = room_events(&mut h);
    assert_eq!(events.len(), 1, "one event for the batch: {events:?}");
    let changes = occupants_changes(&events);
    assert!(matches!(&changes[0], OccupantChange::Joined { occupant, was: None } if occupant.nick == "secondwitch"));
    assert!(matches!(&changes[1], OccupantChange::Changed(o) if o.presence.show == Show::Away));
    assert!(
        matches!(&changes[2], OccupantChange::Left { occupant, why: Departure::Left { status: Some(s) } } if occupant.nick == "firstwitch" && s == "off to the heath")
    );

    // A message right after a join: the join is reported first, whatever the batch's deadline.
    h.recv(&occupant("fourthwitch", "none", "participant", ""));
    h.recv(&groupchat("fourthwitch", "m1", "hail", &stanza_id("a1", ROOM)));
    let events = room_events(&mut h);
    assert!(matches!(&events[..], [RoomEvent::Occupants { .. }, RoomEvent::Message(_)]), "{events:?}");
}

#[test]
fn renames_kicks_bans_and_the_rest_say_who_and_why() {
    let mut h = online();
    joined(&mut h);
    // XEP-0045 examples 50–51: a nick change.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/firstwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='owner' role='moderator' nick='oldhag'/><status code='303'/></x></presence>"));
    h.recv(&occupant("oldhag", "owner", "moderator", ""));
    // Examples 91 (kick) and 118 (ban), seen by another occupant.
    h.recv(&occupant("pistol", "none", "participant", ""));
    h.recv(&occupant("cambridge", "none", "participant", ""));
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/pistol' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='none' role='none'><actor nick='Fluellen'/><reason>Avaunt, you cullion!</reason></item><status code='307'/></x></presence>"));
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/cambridge' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='outcast' role='none'><actor nick='kinghenryv'/><reason>Treason</reason></item><status code='301'/></x></presence>"));
    h.advance(muc::OCCUPANT_BATCH);
    let changes = occupants_changes(&room_events(&mut h));
    assert!(
        matches!(&changes[0], OccupantChange::Renamed { old_nick, occupant } if old_nick == "firstwitch" && occupant.nick == "oldhag")
    );
    let words: Vec<String> = changes
        .iter()
        .filter_map(|c| {
            if let OccupantChange::Left { occupant, why } = c {
                Some(why.describe(&occupant.nick, false))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        words,
        [
            "pistol was kicked by Fluellen: Avaunt, you cullion!",
            "cambridge was banned from the room by kinghenryv: Treason"
        ]
    );
}

#[test]
fn a_configuration_change_is_asked_about_and_a_destruction_without_110_is_still_ours() {
    let mut h = online();
    joined(&mut h);
    // XEP-0045 example 176: status 104 from the room itself.
    h.recv(&format!("<message xmlns='jabber:client' from='{ROOM}' type='groupchat' id='c1'><x xmlns='{MUC_USER}'><status code='104'/></x></message>"));
    answer_disco(&mut h, ROOM, &[MAM, "muc_membersonly"]);
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Info { info, .. }] if info.members_only));
    // ejabberd tells the owner of a destroyed room without status 110.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='none' role='none'/><destroy><reason>gone</reason></destroy></x></presence>"));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Left { why: Departure::Destroyed { .. }, .. }]));
}

#[test]
fn what_happens_to_us_is_said_in_words() {
    let cases = [
        (
            "<item affiliation='none' role='none'><actor nick='Fluellen'/><reason>Avaunt, you cullion!</reason></item><status code='307'/>",
            "You were kicked by Fluellen: Avaunt, you cullion!",
        ),
        (
            "<item affiliation='outcast' role='none'><actor jid='kinghenryv@shakespeare.lit'/><reason>Treason</reason></item><status code='301'/>",
            "You were banned from the room by kinghenryv@shakespeare.lit: Treason",
        ),
        (
            "<item affiliation='none' role='none'/><status code='321'/>",
            "You were removed from the room: membership changed",
        ),
        (
            "<item affiliation='none' role='none'/><status code='322'/>",
            "You were removed: the room is now for members only",
        ),
        ("<item affiliation='none' role='none'/><status code='332'/>", "The group chat service is shutting down"),
        (
            "<item affiliation='none' role='none'/><destroy jid='heath@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy>",
            "The room was destroyed: Macbeth doth come. (it continues at heath@chat.shakespeare.lit)",
        ),
    ];
    for (x, words) in cases {
        let mut h = online();
        joined(&mut h);
        h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'>{x}<status code='110'/></x></presence>"));
        let events = room_events(&mut h);
        let [RoomEvent::Left { why, .. }] = &events[..] else { panic!("{events:?}") };
        assert_eq!(why.describe("thirdwitch", true), words);
        assert_eq!(
            cmd(&mut h, RoomCommand::Send { room: room(), body: "x".into(), id: "m".into() }),
            Err(CommandError::NotInRoom),
            "not rejoined"
        );
    }
}

#[test]
fn occupant_ids_are_trusted_only_where_the_room_stamps_them() {
    let mut h = online();
    let id = |v: &str| format!("<occupant-id xmlns='{OCC_ID}' id='{v}'/>");
    let ev = join_with(&mut h, "thirdwitch", &[], &[occupant("firstwitch", "owner", "moderator", &id("forged"))]);
    let RoomEvent::Joined { occupants, .. } = ev else { unreachable!() };
    assert_eq!(occupants[0].occupant_id, None, "this room does not stamp ids: anyone could forge one");

    let mut h = online();
    let ev = join_with(&mut h, "thirdwitch", &[OCC_ID], &[occupant("firstwitch", "owner", "moderator", &id("w1"))]);
    let RoomEvent::Joined { occupants, .. } = ev else { unreachable!() };
    assert_eq!(occupants[0].occupant_id.as_deref(), Some("w1"));
    // The same person leaves and comes back under another nick.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/firstwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='owner' role='none'/></x>{}</presence>", id("w1")));
    h.recv(&occupant("crone", "owner", "moderator", &id("w1")));
    h.advance(muc::OCCUPANT_BATCH);
    let changes = occupants_changes(&room_events(&mut h));
    assert!(
        matches!(&changes[1], OccupantChange::Joined { occupant, was: Some(w) } if occupant.nick == "crone" && w == "firstwitch")
    );
}

#[test]
fn presence_from_rooms_never_becomes_a_contacts_presence() {
    let mut h = online();
    joined(&mut h);
    h.recv(&occupant("secondwitch", "none", "participant", ""));
    h.advance(muc::OCCUPANT_BATCH);
    assert!(!h.take_events().iter().any(|e| matches!(e, Event::ContactPresence { .. })));
}

// ---- messages ------------------------------------------------------------------------------------------

#[test]
fn groupchat_messages_are_shown_once_by_the_rooms_stanza_id() {
    let mut h = online();
    joined(&mut h);
    // XEP-0045 example 47, with the room's stanza-id and a forged one by someone else.
    let extra = format!("{}{}", stanza_id("forged", "firstwitch@shakespeare.lit"), stanza_id("a1", ROOM));
    h.recv(&groupchat("firstwitch", "162BEBB1", "Thrice the brinded cat hath mew'd.", &extra));
    let events = room_events(&mut h);
    let [RoomEvent::Message(m)] = &events[..] else { panic!("{events:?}") };
    assert_eq!((m.nick.as_deref(), m.own, m.mentions_me), (Some("firstwitch"), false, false));
    assert_eq!(m.message.stanza_id.as_deref(), Some("a1"));
    assert_eq!(m.message.body(None), Some("Thrice the brinded cat hath mew'd."));
    // The same message again (legacy history on a rejoin, say): dropped.
    h.recv(&groupchat("firstwitch", "other-id", "Thrice the brinded cat hath mew'd.", &stanza_id("a1", ROOM)));
    assert!(room_events(&mut h).is_empty());
    // Without a stanza-id, by the sender's id and body.
    h.recv(&groupchat("firstwitch", "x1", "Round about the cauldron go", ""));
    h.recv(&groupchat("firstwitch", "x1", "Round about the cauldron go", ""));
    assert_eq!(room_events(&mut h).len(), 1);
    assert_eq!(
        h.client.resumption().map(|c| c.rooms),
        None,
        "PLAIN: no resumption (the SCRAM tests below carry rooms)"
    );
}

#[test]
fn own_messages_are_sent_then_reflected_and_mentions_are_flagged() {
    let mut h = online();
    joined(&mut h);
    cmd(&mut h, RoomCommand::Send { room: room(), body: "Harpier cries".into(), id: "m1".into() }).unwrap();
    let m = h.sent_one();
    assert_eq!((m.attr("type"), m.attr("to"), m.attr("id")), (Some("groupchat"), Some(ROOM), Some("m1")));
    assert_eq!(m.get_child("urn:xmpp:sid:0", "origin-id").unwrap().attr("id"), Some("m1"));
    assert!(m.get_child("urn:xmpp:receipts", "request").is_none(), "no receipts in groupchat (XEP-0184 §5.3)");
    let events = h.take_events();
    assert!(matches!(&events[0], Event::MessageSent(s) if s.id.as_deref() == Some("m1")));
    assert!(events.iter().any(|e| matches!(e, Event::MessageAcked { id } if id == "m1")), "no SM: sent = acked");
    h.recv(&groupchat(
        "thirdwitch",
        "m1",
        "Harpier cries",
        &format!("<origin-id xmlns='urn:xmpp:sid:0' id='m1'/>{}", stanza_id("a9", ROOM)),
    ));
    let events = room_events(&mut h);
    assert!(
        matches!(&events[..], [RoomEvent::Reflected { id, stanza_id: Some(s), .. }] if id == "m1" && s == "a9"),
        "{events:?}"
    );
    // Our nick mentioned, as a word, case-insensitively.
    h.recv(&groupchat("firstwitch", "q1", "ThirdWitch: 'tis time!", ""));
    h.recv(&groupchat("firstwitch", "q2", "thirdwitches are not us", ""));
    let flags: Vec<bool> = room_events(&mut h)
        .iter()
        .filter_map(|e| if let RoomEvent::Message(m) = e { Some(m.mentions_me) } else { None })
        .collect();
    assert_eq!(flags, [true, false]);
    // Our own message from another device: own, never a mention.
    h.recv(&groupchat("thirdwitch", "o1", "thirdwitch here", ""));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Message(m)] if m.own && !m.mentions_me));
}

#[test]
fn forged_groupchat_from_outside_our_rooms_is_dropped() {
    let mut h = online();
    joined(&mut h);
    for from in ["mallory@evil.example/coven", "otherroom@chat.shakespeare.lit/firstwitch", "chat.shakespeare.lit"] {
        h.recv(&format!(
            "<message xmlns='jabber:client' from='{from}' type='groupchat' id='f'><body>obey</body>{}</message>",
            stanza_id("f1", ROOM)
        ));
    }
    assert!(h.take_events().is_empty(), "neither room messages nor chat messages");
    // And a room we only asked about (disco in flight) cannot talk yet either.
    cmd(
        &mut h,
        RoomCommand::Join { room: jid("heath@chat.shakespeare.lit"), nick: "x".into(), password: None, history: None },
    )
    .unwrap();
    room_events(&mut h);
    h.recv("<message xmlns='jabber:client' from='heath@chat.shakespeare.lit/a' type='groupchat'><body>early</body></message>");
    assert!(room_events(&mut h).is_empty());
}

#[test]
fn private_messages_go_to_one_occupant_and_come_back_with_the_nick() {
    let mut h = online();
    joined(&mut h);
    cmd(
        &mut h,
        RoomCommand::SendPrivate { room: room(), nick: "firstwitch".into(), body: "psst".into(), id: "p1".into() },
    )
    .unwrap();
    // XEP-0045 example 48.
    let m = h.sent_one();
    assert_eq!((m.attr("type"), m.attr("to")), (Some("chat"), Some("coven@chat.shakespeare.lit/firstwitch")));
    assert!(m.get_child(MUC_USER, "x").is_some());
    h.take_events();
    h.recv(&format!("<message xmlns='jabber:client' from='{ROOM}/firstwitch' type='chat' id='p2'><body>I'll give thee a wind.</body><x xmlns='{MUC_USER}'/></message>"));
    let events = room_events(&mut h);
    assert!(matches!(&events[..], [RoomEvent::PrivateMessage { nick, outgoing: false, .. }] if nick == "firstwitch"));
    assert!(!h.take_events().iter().any(|e| matches!(e, Event::Message(_))), "not a one-to-one message");
}

#[test]
fn a_refused_subject_change_is_a_failed_request_and_other_errors_a_message_error() {
    let mut h = online();
    joined(&mut h);
    cmd(&mut h, RoomCommand::SetSubject { room: room(), subject: "Fire Burn".into() }).unwrap();
    let m = h.sent_one();
    assert_eq!(m.get_child("jabber:client", "subject").unwrap().text(), "Fire Burn");
    // XEP-0045 example 86.
    h.recv(&format!("<message xmlns='jabber:client' from='{ROOM}' type='error' id='{}'><subject>Fire Burn</subject><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>", m.attr("id").unwrap()));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::RequestFailed { action: RoomAction::SetSubject, .. }]));
    cmd(&mut h, RoomCommand::Send { room: room(), body: "hi".into(), id: "m7".into() }).unwrap();
    h.sent();
    h.take_events();
    h.recv(&format!("<message xmlns='jabber:client' from='{ROOM}' type='error' id='m7'><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"));
    let events = h.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::MessageError { with, id: Some(id), .. } if with == &room() && id == "m7"))
    );
    let ping = h.sent_one();
    assert!(ping.get_child("urn:xmpp:ping", "ping").is_some(), "not an occupant any more? ask the room");
    assert_eq!(ping.attr("to"), Some("coven@chat.shakespeare.lit/thirdwitch"));
}

// ---- nick changes ------------------------------------------------------------------------------------------

#[test]
fn our_nick_changes_with_303_and_a_taken_one_fails_in_words() {
    let mut h = online();
    joined(&mut h);
    cmd(&mut h, RoomCommand::ChangeNick { room: room(), nick: "oldhag".into() }).unwrap();
    assert_eq!(h.sent_one().attr("to"), Some("coven@chat.shakespeare.lit/oldhag"));
    // XEP-0045 examples 50–51 for ourselves.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/thirdwitch' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='member' role='participant' nick='oldhag'/><status code='303'/><status code='110'/></x></presence>"));
    h.recv(&self_presence("oldhag", &[], ""));
    let events = room_events(&mut h);
    assert!(matches!(&events[0], RoomEvent::NickChanged { nick, .. } if nick == "oldhag"), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, RoomEvent::Left { .. })), "a nick change is not leaving");
    // Example 46-style conflict.
    cmd(&mut h, RoomCommand::ChangeNick { room: room(), nick: "firstwitch".into() }).unwrap();
    h.sent();
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/firstwitch' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"));
    let events = room_events(&mut h);
    assert!(
        matches!(&events[..], [RoomEvent::NickChangeFailed { error: JoinError::NickInUse, nick, .. }] if nick == "firstwitch")
    );
    cmd(&mut h, RoomCommand::Send { room: room(), body: "still here".into(), id: "s1".into() }).unwrap();
}

#[test]
fn the_service_may_change_our_nick_when_we_join() {
    let mut h = online();
    cmd(&mut h, RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: None, history: None }).unwrap();
    answer_disco(&mut h, ROOM, &[]);
    h.sent();
    // XEP-0045 example 24 (status 210).
    h.recv(&self_presence("oldhag", &[210], ""));
    let events = room_events(&mut h);
    assert!(events.iter().any(|e| matches!(e, RoomEvent::Joined { me, .. } if me.nick == "oldhag")));
    h.recv(&groupchat("firstwitch", "m", "hello oldhag", ""));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Message(m)] if m.mentions_me));
}

// ---- moderation and configuration ----------------------------------------------------------------------

#[test]
fn kick_ban_configure_and_destroy_requests() {
    let mut h = online();
    joined(&mut h);
    let reason = Some("Avaunt, you cullion!".to_owned());
    cmd(&mut h, RoomCommand::SetRole { room: room(), nick: "pistol".into(), role: Role::None, reason }).unwrap();
    let kick = h.sent_one();
    let item = kick.get_child(MUC_ADMIN, "query").unwrap().get_child(MUC_ADMIN, "item").unwrap();
    assert_eq!((item.attr("nick"), item.attr("role")), (Some("pistol"), Some("none")));
    iq_result(&mut h, &kick, "");
    assert!(matches!(
        &room_events(&mut h)[..],
        [RoomEvent::Done { action: RoomAction::SetRole { role: Role::None, .. }, .. }]
    ));

    let ban = jid("earlofcambridge@shakespeare.lit");
    cmd(
        &mut h,
        RoomCommand::SetAffiliation { room: room(), jid: ban.clone(), affiliation: Affiliation::Outcast, reason: None },
    )
    .unwrap();
    let iq = h.sent_one();
    let item = iq.get_child(MUC_ADMIN, "query").unwrap().get_child(MUC_ADMIN, "item").unwrap();
    assert_eq!(
        (item.attr("jid"), item.attr("affiliation")),
        (Some("earlofcambridge@shakespeare.lit"), Some("outcast"))
    );
    iq_error(&mut h, &iq, "cancel", "not-allowed");
    assert!(
        matches!(&room_events(&mut h)[..], [RoomEvent::RequestFailed { action: RoomAction::SetAffiliation { .. }, error: RequestError::Stanza(e), .. }] if e.condition == "not-allowed")
    );

    cmd(&mut h, RoomCommand::FetchConfig { room: room() }).unwrap();
    let get = h.sent_one();
    iq_result(
        &mut h,
        &get,
        &format!(
            "<query xmlns='{MUC_OWNER}'><x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field><field var='muc#roomconfig_roomname' type='text-single' label='Name'><value>A Dark Cave</value></field></x></query>"
        ),
    );
    let events = room_events(&mut h);
    let [RoomEvent::ConfigForm { form, .. }] = &events[..] else { panic!("{events:?}") };
    let mut form = form.clone();
    form.set("muc#roomconfig_roomname", vec!["A Darker Cave".into()]);
    cmd(&mut h, RoomCommand::SubmitConfig { room: room(), form }).unwrap();
    let set = h.sent_one();
    let sent = DataForm::find_in(set.get_child(MUC_OWNER, "query").unwrap()).unwrap();
    assert_eq!((sent.kind, sent.value("muc#roomconfig_roomname")), (FormType::Submit, Some("A Darker Cave")));
    iq_result(&mut h, &set, "");
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Done { action: RoomAction::Configure, .. }]));

    // XEP-0045 example 202.
    cmd(
        &mut h,
        RoomCommand::Destroy {
            room: room(),
            reason: Some("Macbeth doth come.".into()),
            alternate: Some(jid("heath@chat.shakespeare.lit")),
        },
    )
    .unwrap();
    let d = h.sent_one();
    let destroy = d.get_child(MUC_OWNER, "query").unwrap().get_child(MUC_OWNER, "destroy").unwrap();
    assert_eq!(destroy.attr("jid"), Some("heath@chat.shakespeare.lit"));
    assert_eq!(destroy.get_child(MUC_OWNER, "reason").unwrap().text(), "Macbeth doth come.");
}

#[test]
fn answers_count_only_from_the_address_asked() {
    let mut h = online();
    cmd(&mut h, RoomCommand::Join { room: room(), nick: "x".into(), password: None, history: None }).unwrap();
    let iq = h.sent_one();
    // A spoofed answer (from our server, or a peer) claims the room does not exist.
    for from in ["example.com", "mallory@evil.example/x"] {
        h.recv(&format!("<iq xmlns='jabber:client' type='error' id='{}' from='{from}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", iq.attr("id").unwrap()));
    }
    assert!(!room_events(&mut h).iter().any(|e| matches!(e, RoomEvent::JoinFailed { .. })));
    iq_result(&mut h, &iq, &format!("<query xmlns='{DISCO_INFO}'><feature var='{MUC}'/></query>"));
    assert!(h.sent_one().is("jabber:client", "presence"), "the real answer counts");
}

// ---- staying in: self-ping ------------------------------------------------------------------------------

/// The self-ping just sent to our occupant JID (the server's keepalive ping, sent too after such a silence,
/// is answered).
fn self_ping(h: &mut Harness) -> Element {
    let mut found = None;
    for e in h.sent().into_iter().filter(|e| e.get_child("urn:xmpp:ping", "ping").is_some()) {
        if e.attr("to") == Some("coven@chat.shakespeare.lit/thirdwitch") {
            found = Some(e);
        } else {
            iq_result(h, &e, "");
        }
    }
    found.expect("a self-ping")
}

#[test]
fn a_silent_room_is_self_pinged_and_rejoined_when_it_lost_us() {
    let mut h = online();
    joined(&mut h);
    h.advance(muc::ROOM_SILENCE);
    let ping = self_ping(&mut h);
    iq_result(&mut h, &ping, "");
    assert!(room_events(&mut h).is_empty(), "still in");
    // ejabberd forwards the ping to us (Prosody answers itself): we answer it like any ping.
    h.recv(&format!(
        "<iq xmlns='jabber:client' type='get' id='fwd' from='{ROOM}/thirdwitch'><ping xmlns='urn:xmpp:ping'/></iq>"
    ));
    assert_eq!(h.sent_one().attr("type"), Some("result"));
    for (condition, rejoins) in [
        ("service-unavailable", false),
        ("feature-not-implemented", false),
        ("remote-server-timeout", false),
        ("not-acceptable", true),
        ("item-not-found", true),
        ("remote-server-not-found", true),
    ] {
        h.advance(muc::ROOM_SILENCE);
        let ping = self_ping(&mut h);
        iq_error(&mut h, &ping, "cancel", condition);
        let sent = h.sent();
        let events = room_events(&mut h);
        assert_eq!(events.iter().any(|e| matches!(e, RoomEvent::Joining { .. })), rejoins, "{condition}");
        assert_eq!(sent.iter().any(|e| e.is("jabber:client", "presence")), rejoins, "{condition}");
        if rejoins {
            h.recv(&occupant("firstwitch", "owner", "moderator", ""));
            h.recv(&self_presence("thirdwitch", &[], ""));
            let events = room_events(&mut h);
            assert!(
                matches!(&events[..], [RoomEvent::Joined { occupants, .. }] if occupants.len() == 1),
                "{condition}: {events:?}"
            );
        }
    }
}

// ---- staying in: a server restart's cleanup (status 333) ------------------------------------------------

/// Prosody 0.12's removal of an occupant whose session it lost (captured with `NATTER_TRACE=1` from
/// `tests/servers_muc.rs` across `scripts/prosody.sh reboot`): status 333, "Kicked: recipient unavailable",
/// with 110 and the real JID of the session it is about (`resource`).
fn removed_333(resource: &str) -> String {
    format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{ROOM}/thirdwitch' to='alice@example.com/web'><status>Kicked: recipient unavailable</status><x xmlns='{MUC_USER}'><status code='333'/><item jid='alice@example.com/{resource}' affiliation='owner' role='none'/><status code='110'/></x></presence>"
    )
}

fn join_presences(sent: &[Element]) -> usize {
    sent.iter().filter(|e| e.is("jabber:client", "presence") && e.get_child(MUC, "x").is_some()).count()
}

#[test]
fn removed_for_a_technical_reason_we_join_again_instead_of_leaving() {
    let mut h = online();
    joined(&mut h);
    h.recv(&removed_333("web"));
    let sent = h.sent();
    assert_eq!(join_presences(&sent), 1, "joined again at once: {sent:?}");
    let events = room_events(&mut h);
    assert!(matches!(&events[..], [RoomEvent::Joining { .. }]), "not Left: {events:?}");
    h.recv(&occupant("firstwitch", "owner", "moderator", ""));
    h.recv(&self_presence("thirdwitch", &[], ""));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joined { .. }]));
    // Still in: talk at once.
    cmd(&mut h, RoomCommand::Send { room: room(), body: "back".into(), id: "b1".into() }).unwrap();
}

#[test]
fn removals_for_a_technical_reason_that_keep_coming_end_with_a_left_in_words() {
    let mut h = online();
    joined(&mut h);
    // Removed again right after each join: at once, then after 1 s, 2 s, 4 s (nothing sent before).
    for delay in [0u64, 1, 2, 4] {
        h.recv(&removed_333("web"));
        let events = room_events(&mut h);
        assert!(matches!(&events[..], [RoomEvent::Joining { .. }]), "after {delay} s: {events:?}");
        if delay > 0 {
            h.advance(Duration::from_millis(delay * 1000 - 1));
            assert_eq!(join_presences(&h.sent()), 0, "not before {delay} s");
            h.advance(Duration::from_millis(1));
        }
        assert_eq!(join_presences(&h.sent()), 1, "joined again after {delay} s");
        h.recv(&self_presence("thirdwitch", &[], ""));
        assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joined { .. }]));
    }
    h.recv(&removed_333("web"));
    assert_eq!(join_presences(&h.sent()), 0, "no fifth join");
    let events = room_events(&mut h);
    let [RoomEvent::Left { why, .. }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(
        why.describe("thirdwitch", true),
        "You were removed from the room because of a technical problem: Kicked: recipient unavailable"
    );
    assert!(cmd(&mut h, RoomCommand::Send { room: room(), body: "x".into(), id: "x1".into() }).is_err());
}

#[test]
fn a_removal_for_a_technical_reason_long_after_the_last_counts_as_the_first() {
    let mut h = online();
    joined(&mut h);
    for _ in 0..muc::MAX_REJOINS + 2 {
        h.recv(&removed_333("web"));
        h.advance(Duration::from_secs(8)); // past any delay
        assert_eq!(join_presences(&h.sent()), 1);
        h.recv(&self_presence("thirdwitch", &[], ""));
        assert!(room_events(&mut h).iter().any(|e| matches!(e, RoomEvent::Joined { .. })));
        h.advance(muc::REJOINS_FORGOTTEN);
        for e in h.sent().into_iter().filter(|e| e.get_child("urn:xmpp:ping", "ping").is_some()) {
            iq_result(&mut h, &e, "");
        }
    }
}

#[test]
fn the_removal_of_our_session_from_before_a_restart_does_not_end_this_one() {
    let mut h = online();
    joined(&mut h);
    // The restarted room still lists the lost session (another resource of ours) under our nick, and removes it.
    h.recv(&removed_333("lost-before-restart"));
    assert_eq!(join_presences(&h.sent()), 0);
    assert!(room_events(&mut h).is_empty(), "still in");
    cmd(&mut h, RoomCommand::Send { room: room(), body: "here".into(), id: "h1".into() }).unwrap();
    // The same while joining again after a reconnect: the join is not ended either.
    h.recv(&removed_333("web"));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joining { .. }]));
    h.recv(&removed_333("lost-before-restart"));
    h.recv(&self_presence("thirdwitch", &[], ""));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joined { .. }]));
}

#[test]
fn others_removed_for_a_technical_reason_are_shown_in_words() {
    let mut h = online();
    joined(&mut h);
    h.recv(&format!(
        "<presence xmlns='jabber:client' type='unavailable' from='{ROOM}/firstwitch' to='alice@example.com/web'><status>Kicked: recipient unavailable</status><x xmlns='{MUC_USER}'><status code='333'/><item affiliation='owner' role='none'/></x></presence>"
    ));
    h.advance(muc::OCCUPANT_BATCH);
    let changes = occupants_changes(&room_events(&mut h));
    let [OccupantChange::Left { why, .. }] = &changes[..] else { panic!("{changes:?}") };
    assert_eq!(
        why.describe("firstwitch", false),
        "firstwitch was removed from the room because of a technical problem: Kicked: recipient unavailable"
    );
}

#[test]
fn coming_back_to_the_page_pings_rooms_silent_since() {
    let mut h = online();
    joined(&mut h);
    h.command(Command::SetActive(false)).unwrap();
    h.sent();
    h.now += Duration::from_secs(60); // the page slept: no timer ran
    h.command(Command::SetActive(true)).unwrap();
    let sent = h.sent();
    assert!(
        sent.iter().any(|e| e.get_child("urn:xmpp:ping", "ping").is_some()
            && e.attr("to") == Some("coven@chat.shakespeare.lit/thirdwitch")),
        "{sent:?}"
    );
}

#[test]
fn our_presence_changes_reach_the_rooms() {
    let mut h = online();
    joined(&mut h);
    h.command(Command::SetPresence(Availability { show: Show::Away, status: None, priority: 0 })).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "broadcast, then to the room: {sent:?}");
    assert_eq!(sent[1].attr("to"), Some("coven@chat.shakespeare.lit/thirdwitch"));
    assert_eq!(sent[1].get_child("jabber:client", "show").unwrap().text(), "away");
}

// ---- staying in: reconnects -----------------------------------------------------------------------------

fn scram_room_session(sm: bool) -> Harness {
    let mut h = Harness::new(rfc7677_config());
    h.scram_auth();
    h.bind_features(if sm { SM } else { "" });
    h.bind_empty_roster(sm);
    h.take_events();
    cmd(
        &mut h,
        RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: Some("pw".into()), history: None },
    )
    .unwrap();
    answer_disco(&mut h, ROOM, &[MAM]);
    h.sent();
    h.recv(&self_presence("thirdwitch", &[], ""));
    h.recv(&groupchat("firstwitch", "m1", "first", &stanza_id("a1", ROOM)));
    h.recv(&groupchat("firstwitch", "m2", "second", &stanza_id("a2", ROOM)));
    h.take_events();
    h
}

#[test]
fn rooms_are_part_of_the_resumption_and_rejoined_after_a_reconnect_without_resume() {
    let mut h = scram_room_session(false);
    cmd(&mut h, RoomCommand::Send { room: room(), body: "unsure".into(), id: "u1".into() }).unwrap();
    h.client.handle_transport_closed();
    let config = h.client.resumption().expect("SCRAM keys");
    let saved = &config.rooms;
    assert_eq!(saved.len(), 1);
    let SavedRoom { room: r, nick, password, last_stanza_id, info } = &saved[0];
    assert_eq!((r, nick.as_str(), password.as_deref()), (&room(), "thirdwitch", Some("pw")));
    assert_eq!(last_stanza_id.as_deref(), Some("a2"), "history continues from the newest seen");
    assert!(info.as_ref().is_some_and(|i| i.mam));

    let mut h = Harness::new(config);
    h.scram_auth();
    h.bind_features("");
    let sent = h.bind_empty_roster(false);
    let join =
        sent.iter().find(|e| e.is("jabber:client", "presence") && e.attr("to").is_some()).expect("rejoined at once");
    assert_eq!(join.attr("to"), Some("coven@chat.shakespeare.lit/thirdwitch"));
    let x = join.get_child(MUC, "x").unwrap();
    assert_eq!(x.get_child(MUC, "password").unwrap().text(), "pw");
    assert_eq!(x.get_child(MUC, "history").unwrap().attr("maxchars"), Some("0"));
    assert!(!sent.iter().any(|e| e.get_child(DISCO_INFO, "query").is_some()), "the saved info spares the disco");
    let events = room_events(&mut h);
    assert!(matches!(&events[..], [RoomEvent::Joining { .. }]), "{events:?}");
    h.recv(&self_presence("thirdwitch", &[], ""));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Joined { .. }]));
    // The room's legacy copy of what we saw before is not shown twice.
    h.recv(&groupchat("firstwitch", "m2", "second", &stanza_id("a2", ROOM)));
    assert!(room_events(&mut h).is_empty());
}

#[test]
fn a_resumed_stream_is_still_in_its_rooms_and_sends_nothing_to_them() {
    let mut h = scram_room_session(true);
    h.client.handle_transport_closed();
    let mut h = Harness::new(h.client.resumption().unwrap());
    h.scram_auth();
    h.bind_features(SM);
    assert!(h.sent_one().is("urn:xmpp:sm:3", "resume"));
    // The server got all five stanzas: roster get, presence, carbons, the room's disco, the join.
    h.recv("<resumed xmlns='urn:xmpp:sm:3' previd='S1' h='5'/>");
    let sent = h.sent();
    assert!(!sent.iter().any(|e| e.is("jabber:client", "presence")), "no rejoin: {sent:?}");
    assert!(room_events(&mut h).is_empty());
    // Still in, with the state it had: talk at once, and the reflection is recognised.
    cmd(&mut h, RoomCommand::Send { room: room(), body: "back".into(), id: "b1".into() }).unwrap();
    h.recv(&groupchat("thirdwitch", "b1", "back", "<origin-id xmlns='urn:xmpp:sid:0' id='b1'/>"));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Reflected { .. }]));
}

#[test]
fn groupchat_messages_resent_after_a_failed_resumption_follow_the_rejoin() {
    let mut h = scram_room_session(true);
    cmd(&mut h, RoomCommand::Send { room: room(), body: "lost?".into(), id: "l1".into() }).unwrap();
    h.client.handle_transport_closed();
    let mut h = Harness::new(h.client.resumption().unwrap());
    h.scram_auth();
    h.bind_features(SM);
    h.sent();
    h.recv("<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
    let sent = h.bind_empty_roster(true);
    let join = sent.iter().position(|e| e.is("jabber:client", "presence") && e.attr("to").is_some()).unwrap();
    let resent = sent.iter().position(|e| e.attr("id") == Some("l1")).expect("resent");
    assert!(join < resent, "the room is joined before the message goes to it");
    h.recv(&self_presence("thirdwitch", &[], ""));
    h.recv(&groupchat("thirdwitch", "l1", "lost?", "<origin-id xmlns='urn:xmpp:sid:0' id='l1'/>"));
    assert!(room_events(&mut h).iter().any(|e| matches!(e, RoomEvent::Reflected { id, .. } if id == "l1")));
}

// ---- browsing -------------------------------------------------------------------------------------------

#[test]
fn the_service_is_found_by_disco_and_its_rooms_paged_with_rsm() {
    let mut h = online();
    cmd(&mut h, RoomCommand::ListRooms { service: None, after: None }).unwrap();
    let items = h.sent_one();
    assert_eq!(items.attr("to"), Some("example.com"));
    assert!(items.get_child(DISCO_ITEMS, "query").is_some());
    iq_result(
        &mut h,
        &items,
        &format!("<query xmlns='{DISCO_ITEMS}'><item jid='upload.example.com'/><item jid='chat.example.com'/></query>"),
    );
    let infos = h.sent();
    assert_eq!(infos.len(), 2);
    iq_result(
        &mut h,
        &infos[0],
        &format!("<query xmlns='{DISCO_INFO}'><identity category='store' type='file'/></query>"),
    );
    iq_result(
        &mut h,
        &infos[1],
        &format!(
            "<query xmlns='{DISCO_INFO}'><identity category='conference' type='text'/><feature var='{MUC}'/></query>"
        ),
    );
    let list = h.sent_one();
    assert_eq!(list.attr("to"), Some("chat.example.com"));
    let set = list.get_child(DISCO_ITEMS, "query").unwrap().get_child("http://jabber.org/protocol/rsm", "set").unwrap();
    assert_eq!(set.get_child("http://jabber.org/protocol/rsm", "max").unwrap().text(), muc::MAX_LISTED.to_string());
    let items: String =
        (0..muc::MAX_LISTED).map(|i| format!("<item jid='r{i}@chat.example.com' name='Room {i}'/>")).collect();
    iq_result(
        &mut h,
        &list,
        &format!(
            "<query xmlns='{DISCO_ITEMS}'>{items}<set xmlns='http://jabber.org/protocol/rsm'><first>r0@chat.example.com</first><last>r99@chat.example.com</last><count>250</count></set></query>"
        ),
    );
    let events = room_events(&mut h);
    let [RoomEvent::Rooms { service, rooms, next, total }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(
        (service.to_string(), rooms.len(), next.as_deref(), *total),
        ("chat.example.com".into(), 100, Some("r99@chat.example.com"), Some(250))
    );
    assert_eq!(rooms[1].name.as_deref(), Some("Room 1"));
    // The next page: the service is remembered.
    cmd(&mut h, RoomCommand::ListRooms { service: None, after: next.clone() }).unwrap();
    let list = h.sent_one();
    let set = list.get_child(DISCO_ITEMS, "query").unwrap().get_child("http://jabber.org/protocol/rsm", "set").unwrap();
    assert_eq!(set.get_child("http://jabber.org/protocol/rsm", "after").unwrap().text(), "r99@chat.example.com");
    iq_result(&mut h, &list, &format!("<query xmlns='{DISCO_ITEMS}'><item jid='r100@chat.example.com'/></query>"));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Rooms { next: None, .. }]));
}

#[test]
fn a_server_without_a_group_chat_service_says_so() {
    let mut h = online();
    cmd(&mut h, RoomCommand::ListRooms { service: None, after: None }).unwrap();
    let items = h.sent_one();
    iq_result(&mut h, &items, &format!("<query xmlns='{DISCO_ITEMS}'><item jid='upload.example.com'/></query>"));
    let info = h.sent_one();
    iq_error(&mut h, &info, "cancel", "service-unavailable");
    let events = room_events(&mut h);
    let [RoomEvent::ListFailed { error: ListError::NoService, .. }] = &events[..] else { panic!("{events:?}") };
    assert!(ListError::NoService.describe().contains("no group chat service"));
}

// ---- invitations ----------------------------------------------------------------------------------------

#[test]
fn invitations_direct_and_mediated_and_strangers_capped() {
    let mut h = online();
    // XEP-0249 example 1, from a contact.
    h.recv("<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop' to='alice@example.com'><x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' password='cauldronburn' reason='Hey Hecate, this is the place for all good witches!'/></message>");
    let events = room_events(&mut h);
    let [RoomEvent::Invited(inv)] = &events[..] else { panic!("{events:?}") };
    assert_eq!(
        (inv.room.to_string(), inv.password.as_deref(), inv.mediated),
        ("darkcave@macbeth.shakespeare.lit".into(), Some("cauldronburn"), false)
    );
    assert!(!h.take_events().iter().any(|e| matches!(e, Event::Message(_))));
    // XEP-0045 example 57: relayed by the room; declined (example 60).
    h.recv(&format!("<message xmlns='jabber:client' from='{ROOM}' id='nzd143v8' to='alice@example.com'><x xmlns='{MUC_USER}'><invite from='crone1@shakespeare.lit/desktop'><reason>Hey Hecate, this is the place for all good witches!</reason></invite><password>cauldronburn</password></x></message>"));
    assert!(matches!(&room_events(&mut h)[..], [RoomEvent::Invited(i)] if i.mediated && i.room == room()));
    cmd(
        &mut h,
        RoomCommand::Decline {
            room: room(),
            inviter: jid("crone1@shakespeare.lit"),
            reason: Some("Sorry, I'm too busy right now.".into()),
        },
    )
    .unwrap();
    let d = h.sent_one();
    assert_eq!(d.attr("to"), Some(ROOM));
    let decline = d.get_child(MUC_USER, "x").unwrap().get_child(MUC_USER, "decline").unwrap();
    assert_eq!(decline.attr("to"), Some("crone1@shakespeare.lit"));
    // Strangers: each invitation once, and only so many.
    for i in 0..(muc::MAX_STRANGER_INVITES + 5) {
        for _ in 0..2 {
            h.recv(&format!("<message xmlns='jabber:client' from='spam{i}@evil.example/x'><x xmlns='jabber:x:conference' jid='r{i}@chat.evil.example'/></message>"));
        }
    }
    assert_eq!(room_events(&mut h).len(), muc::MAX_STRANGER_INVITES);
    // A "relayed" invitation that does not come from a room's bare JID is a forgery.
    h.recv(&format!("<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop'><x xmlns='{MUC_USER}'><invite from='kinghenryv@shakespeare.lit'/></x></message>"));
    assert!(room_events(&mut h).is_empty());
    // Sending one (XEP-0249 example 1).
    cmd(
        &mut h,
        RoomCommand::Invite {
            room: room(),
            to: jid("hecate@shakespeare.lit"),
            reason: Some("come".into()),
            password: None,
        },
    )
    .unwrap();
    let m = h.sent_one();
    let x = m.get_child("jabber:x:conference", "x").unwrap();
    assert_eq!(
        (m.attr("to"), x.attr("jid"), x.attr("reason")),
        (Some("hecate@shakespeare.lit"), Some(ROOM), Some("come"))
    );
}

// ---- bookmarks and caps ---------------------------------------------------------------------------------

fn bookmark_config() -> Config {
    let mut c = plain_config();
    c.bookmarks = true;
    c
}

/// Logs in with bookmarks on; returns the fetch iq.
fn login_with_bookmarks(h: &mut Harness) -> Element {
    h.plain_until_roster("");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>");
    let sent = h.sent();
    h.take_events();
    sent.into_iter().find(|e| e.get_child(PUBSUB, "pubsub").is_some()).expect("bookmarks fetched once online")
}

fn bookmark_events(h: &mut Harness) -> Vec<BookmarkEvent> {
    h.events.iter().filter_map(|e| if let Event::Bookmarks(b) = e { Some(b.clone()) } else { None }).collect()
}

const ORCHARD: &str = "<item id='orchard@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Orchard'><nick>JC</nick></conference></item>";
const PLAY: &str = "<item id='theplay@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick></conference></item>";

#[test]
fn bookmarks_are_fetched_at_login_and_autojoined() {
    let mut h = Harness::new(bookmark_config());
    let fetch = login_with_bookmarks(&mut h);
    let items = fetch.get_child(PUBSUB, "pubsub").unwrap().get_child(PUBSUB, "items").unwrap();
    assert_eq!(items.attr("node"), Some("urn:xmpp:bookmarks:1"));
    // XEP-0402 example 4.
    iq_result(
        &mut h,
        &fetch,
        &format!("<pubsub xmlns='{PUBSUB}'><items node='urn:xmpp:bookmarks:1'>{PLAY}{ORCHARD}</items></pubsub>"),
    );
    let events = bookmark_events(&mut h);
    assert!(matches!(&events[..], [BookmarkEvent::Loaded(b)] if b.len() == 2));
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "only the autojoin room: {sent:?}");
    assert_eq!(sent[0].attr("to"), Some("theplay@conference.shakespeare.lit"), "its disco#info first");
    assert!(h.take_events().iter().any(|e| matches!(e, Event::Room(RoomEvent::Joining { nick, .. }) if nick == "JC")));
}

#[test]
fn a_server_without_bookmarks_gives_an_empty_list() {
    let mut h = Harness::new(bookmark_config());
    let fetch = login_with_bookmarks(&mut h);
    iq_error(&mut h, &fetch, "cancel", "item-not-found");
    assert_eq!(bookmark_events(&mut h), [BookmarkEvent::Loaded(vec![])]);
}

#[test]
fn notifications_from_our_account_only_change_bookmarks_and_join_what_is_new() {
    let mut h = Harness::new(bookmark_config());
    let fetch = login_with_bookmarks(&mut h);
    iq_result(
        &mut h,
        &fetch,
        &format!("<pubsub xmlns='{PUBSUB}'><items node='urn:xmpp:bookmarks:1'>{ORCHARD}</items></pubsub>"),
    );
    h.take_events();
    let notify = |from: &str, item: &str| {
        format!(
            "<message xmlns='jabber:client' from='{from}' to='alice@example.com/web' type='headline' id='n'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>{item}</items></event></message>"
        )
    };
    // Forged: from someone else, or from a full JID (even one of ours: the PEP service is our bare JID).
    h.recv(&notify("mallory@evil.example", PLAY));
    h.recv(&notify("alice@example.com/other", PLAY));
    assert!(h.take_events().is_empty() && h.sent().is_empty(), "forged notifications are dropped");
    // XEP-0402 example 9: from our own bare JID.
    h.recv(&notify("alice@example.com", PLAY));
    assert!(matches!(&bookmark_events(&mut h)[..], [BookmarkEvent::Changed(b)] if b.autojoin));
    assert_eq!(
        h.sent_one().attr("to"),
        Some("theplay@conference.shakespeare.lit"),
        "a new autojoin bookmark is joined"
    );
    h.take_events();
    // Sent again (some servers repeat the last item at each presence): nothing new, nothing joined again.
    cmd(&mut h, RoomCommand::Leave { room: jid("theplay@conference.shakespeare.lit"), status: None }).unwrap();
    h.take_events();
    h.recv(&notify("alice@example.com", PLAY));
    assert!(h.take_events().is_empty() && h.sent().is_empty());
    // Example 12: retracted.
    h.recv(&notify("alice@example.com", "<retract id='orchard@conference.shakespeare.lit'/>"));
    assert_eq!(bookmark_events(&mut h), [BookmarkEvent::Removed(jid("orchard@conference.shakespeare.lit"))]);
}

#[test]
fn a_session_without_bookmarks_neither_asks_for_their_notifications_nor_acts_on_them() {
    // ejabberd 23.01 sends the last bookmark at every presence: with autojoin, a session that keeps no
    // bookmarks (the browser's, until the group chat UI exists) joined a room nobody could see.
    let mut h = online();
    h.recv(&format!("<message xmlns='jabber:client' from='alice@example.com' to='alice@example.com/web' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>{PLAY}</items></event></message>"));
    assert!(h.take_events().is_empty());
    assert!(h.sent().is_empty(), "nothing joined");
}

#[test]
fn bookmarks_are_published_with_the_options_of_the_spec_and_retried_with_fewer() {
    let mut h = Harness::new(bookmark_config());
    let fetch = login_with_bookmarks(&mut h);
    iq_error(&mut h, &fetch, "cancel", "item-not-found");
    h.take_events();
    let mut b = Bookmark::new(room());
    b.autojoin = true;
    b.nick = Some("thirdwitch".into());
    h.command(Command::SetBookmark(b.clone())).unwrap();
    let publish = h.sent_one();
    let options =
        DataForm::find_in(publish.get_child(PUBSUB, "pubsub").unwrap().get_child(PUBSUB, "publish-options").unwrap())
            .unwrap();
    assert_eq!(options.value("pubsub#max_items"), Some("max"));
    // Another change asked meanwhile waits for this one.
    let mut other = Bookmark::new(jid("heath@chat.shakespeare.lit"));
    other.name = Some("A Lonely Heath".into());
    h.command(Command::SetBookmark(other.clone())).unwrap();
    assert!(h.sent().is_empty(), "one change at a time");
    // ejabberd 23.01: "Unknown field" (and its PEP nodes keep one item unless configured otherwise).
    h.recv(&format!("<iq xmlns='jabber:client' type='error' id='{}'><error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'</text></error></iq>", publish.attr("id").unwrap()));
    let configure = h.sent_one();
    let c = configure
        .get_child("http://jabber.org/protocol/pubsub#owner", "pubsub")
        .unwrap()
        .get_child("http://jabber.org/protocol/pubsub#owner", "configure")
        .unwrap();
    assert_eq!(c.attr("node"), Some("urn:xmpp:bookmarks:1"));
    let config = DataForm::find_in(c).unwrap();
    assert_eq!(config.form_type(), Some("http://jabber.org/protocol/pubsub#node_config"));
    assert_eq!(config.value("pubsub#max_items"), Some("1000"));
    assert_eq!(config.value("pubsub#send_last_published_item"), Some("never"));
    iq_result(&mut h, &configure, "");
    let again = h.sent_one();
    let options =
        DataForm::find_in(again.get_child(PUBSUB, "pubsub").unwrap().get_child(PUBSUB, "publish-options").unwrap())
            .unwrap();
    assert_eq!((options.value("pubsub#max_items"), options.value("pubsub#access_model")), (None, Some("whitelist")));
    iq_result(&mut h, &again, "");
    assert_eq!(bookmark_events(&mut h), [BookmarkEvent::Changed(b.clone())]);
    h.take_events();
    // Now the other one; this time the node is missing when configured (a first bookmark): configured after.
    let publish = h.sent_one();
    iq_error(&mut h, &publish, "wait", "resource-constraint");
    let configure = h.sent_one();
    iq_error(&mut h, &configure, "cancel", "item-not-found");
    let fewer = h.sent_one();
    assert!(fewer.get_child(PUBSUB, "pubsub").unwrap().get_child(PUBSUB, "publish").is_some());
    iq_result(&mut h, &fewer, "");
    assert_eq!(bookmark_events(&mut h), [BookmarkEvent::Changed(other)]);
    h.take_events();
    let after = h.sent_one();
    assert!(after.get_child("http://jabber.org/protocol/pubsub#owner", "pubsub").is_some(), "configured right after");
    iq_result(&mut h, &after, "");
    h.command(Command::RemoveBookmark { room: room() }).unwrap();
    let retract = h.sent_one();
    let r = retract.get_child(PUBSUB, "pubsub").unwrap().get_child(PUBSUB, "retract").unwrap();
    assert_eq!((r.attr("node"), r.attr("notify")), (Some("urn:xmpp:bookmarks:1"), Some("true")));
    iq_error(&mut h, &retract, "wait", "resource-constraint");
    assert!(
        matches!(&bookmark_events(&mut h)[..], [BookmarkEvent::Failed { action: BookmarkAction::Remove(r), .. }] if r == &room())
    );
}

#[test]
fn our_presence_carries_caps_and_disco_answers_the_caps_node_with_bookmark_notifications() {
    let (ver, features) = caps_of(bookmark_config());
    assert!(features.iter().any(|f| f == "urn:xmpp:bookmarks:1+notify"));
    let (ver_without, features) = caps_of(plain_config());
    assert!(!features.iter().any(|f| f == "urn:xmpp:bookmarks:1+notify"), "no bookmarks kept: none asked for");
    assert_ne!(ver, ver_without);
}

/// Logs in with `config`; returns our caps' ver and the features our answer to the caps node lists, after
/// checking that the ver is the hash of that answer.
fn caps_of(config: Config) -> (String, Vec<String>) {
    let mut h = Harness::new(config);
    h.plain_until_roster("");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>");
    let presence = h.sent().into_iter().find(|e| e.is("jabber:client", "presence")).unwrap();
    let c = presence.get_child("http://jabber.org/protocol/caps", "c").expect("caps");
    assert_eq!((c.attr("hash"), c.attr("node")), (Some("sha-1"), Some(caps::NODE)));
    let ver = c.attr("ver").unwrap().to_owned();
    // The server's PEP asks what the hash stands for (XEP-0115 example 4).
    h.recv(&format!("<iq xmlns='jabber:client' type='get' id='disco1' from='example.com'><query xmlns='{DISCO_INFO}' node='{}#{ver}'/></iq>", caps::NODE));
    let answer = h.sent_one();
    let q = answer.get_child(DISCO_INFO, "query").unwrap();
    assert_eq!(q.attr("node"), Some(format!("{}#{ver}", caps::NODE).as_str()));
    let features: Vec<&str> = q.children_named(DISCO_INFO, "feature").filter_map(|f| f.attr("var")).collect();
    for f in [MUC, "jabber:x:conference", "http://jabber.org/protocol/caps"] {
        assert!(features.contains(&f), "{f}");
    }
    let id = q.get_child(DISCO_INFO, "identity").unwrap();
    let identity = Identity::new(id.attr("category").unwrap(), id.attr("type").unwrap(), id.attr("name"));
    assert_eq!(caps::ver(&[identity], &features), ver, "the hash is of what we answer");
    (ver, features.into_iter().map(str::to_owned).collect())
}

// ---- hostile input and scale --------------------------------------------------------------------------

#[test]
fn a_flood_of_100000_occupants_is_capped_and_counted() {
    let mut h = online();
    cmd(&mut h, RoomCommand::Join { room: room(), nick: "thirdwitch".into(), password: None, history: None }).unwrap();
    answer_disco(&mut h, ROOM, &[]);
    h.sent();
    for i in 0..100_000 {
        h.client.handle_frame(&occupant(&format!("n{i}"), "none", "participant", ""), h.now);
    }
    h.recv(&self_presence("thirdwitch", &[], ""));
    let events = room_events(&mut h);
    let RoomEvent::Joined { occupants, unlisted, .. } = events.last().unwrap() else { panic!() };
    assert_eq!((occupants.len(), *unlisted), (muc::MAX_OCCUPANTS, 100_000 - muc::MAX_OCCUPANTS));
    // Leaves of unlisted ones bring the count down; the UI hears it in the next batch.
    h.recv(&format!("<presence xmlns='jabber:client' from='{ROOM}/n99999' type='unavailable'><x xmlns='{MUC_USER}'><item affiliation='none' role='none'/></x></presence>"));
    h.advance(muc::OCCUPANT_BATCH);
    assert!(
        matches!(&room_events(&mut h)[..], [RoomEvent::Occupants { unlisted, .. }] if *unlisted == 100_000 - muc::MAX_OCCUPANTS - 1)
    );
}

#[test]
fn a_presence_storm_after_the_join_comes_in_bounded_batches() {
    let mut h = online();
    joined(&mut h);
    // 5,000 presence changes of one occupant, all before the batch is due: not one 5,000-change event.
    for i in 0..5_000 {
        h.client.handle_frame(&occupant("firstwitch", "owner", "moderator", &format!("<status>{i}</status>")), h.now);
    }
    h.drain();
    h.advance(muc::OCCUPANT_BATCH);
    let sizes: Vec<usize> = room_events(&mut h)
        .iter()
        .filter_map(|e| if let RoomEvent::Occupants { changes, .. } = e { Some(changes.len()) } else { None })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 5_000);
    assert!(sizes.iter().all(|&n| n <= muc::MAX_BATCH), "{sizes:?}");
}

#[test]
fn huge_nicks_statuses_and_subjects_are_refused_or_cut() {
    let mut h = online();
    joined(&mut h);
    let big = "x".repeat(200 * 1024);
    h.recv(&occupant(&big, "none", "participant", ""));
    h.recv(&occupant("long", "none", "participant", &format!("<status>{big}</status>")));
    h.recv(&format!(
        "<message xmlns='jabber:client' from='{ROOM}/firstwitch' type='groupchat'><subject>{big}</subject></message>"
    ));
    h.advance(muc::OCCUPANT_BATCH);
    let events = room_events(&mut h);
    let changes = occupants_changes(&events);
    assert_eq!(changes.len(), 1, "the 200 KB nick is no JID resource: dropped");
    let OccupantChange::Joined { occupant, .. } = &changes[0] else { panic!() };
    assert_eq!(occupant.presence.status.as_ref().map(String::len), Some(natter::xmpp::stanza::muc::MAX_TEXT));
    assert!(events.iter().any(
        |e| matches!(e, RoomEvent::Subject { subject: Some(s), .. } if s.len() == natter::xmpp::stanza::muc::MAX_TEXT)
    ));
}

#[test]
fn carbons_of_private_messages_stay_with_the_room() {
    let mut h = online();
    joined(&mut h);
    let carbon = |dir: &str, attrs: &str| {
        format!(
            "<message xmlns='jabber:client' from='alice@example.com' to='alice@example.com/web'><{dir} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' type='chat' id='c-{dir}' {attrs}><body>psst</body><x xmlns='{MUC_USER}'/></message></forwarded></{dir}></message>"
        )
    };
    h.recv(&carbon("sent", &format!("from='alice@example.com/phone' to='{ROOM}/firstwitch'")));
    h.recv(&carbon("received", &format!("from='{ROOM}/firstwitch' to='alice@example.com/phone'")));
    let events = h.take_events();
    let pms: Vec<bool> = events
        .iter()
        .filter_map(|e| {
            if let Event::Room(RoomEvent::PrivateMessage { nick, outgoing, .. }) = e {
                assert_eq!(nick, "firstwitch");
                Some(*outgoing)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(pms, [true, false]);
    assert!(!events.iter().any(|e| matches!(e, Event::Message(_) | Event::MessageSent(_))), "{events:?}");
}
