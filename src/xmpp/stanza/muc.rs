//! Multi-user chat on the wire (XEP-0045), with direct invitations (XEP-0249) and occupant ids (XEP-0421).
//!
//! Parsed: an occupant's presence ([`MucPresence`]: the `muc#user` item with affiliation, role, real JID,
//! new nick, actor and reason; the status codes; a room's destruction), mediated and direct invitations, and
//! a room's disco#info ([`RoomInfo`]). Built: the join presence's `<x xmlns='…muc'/>`, the `muc#admin` and
//! `muc#owner` queries (roles, affiliations, configuration, destruction), subject changes, invitations and
//! declines. Bounded like everything from peers: at most [`MAX_ITEMS`] items and [`MAX_STATUSES`] status
//! codes per `<x/>`, and texts a room sends about itself or its occupants cut at [`MAX_TEXT`] bytes.
//!
//! What this module does NOT do: keep a room's state (that is `client::muc`).

use crate::xmpp::framing::CLIENT_NS;
use crate::xmpp::jid::{BareJid, Jid};
use crate::xmpp::stanza::dataform::{DataForm, FormType};
use crate::xmpp::stanza::disco::DiscoInfo;
use crate::xmpp::stanza::error::StanzaError;
use crate::xmpp::stanza::presence::{Availability, PresenceKind, PresenceStanza};
use crate::xmpp::xml::Element;

pub const MUC_NS: &str = "http://jabber.org/protocol/muc";
pub const MUC_USER_NS: &str = "http://jabber.org/protocol/muc#user";
pub const MUC_ADMIN_NS: &str = "http://jabber.org/protocol/muc#admin";
pub const MUC_OWNER_NS: &str = "http://jabber.org/protocol/muc#owner";
pub const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";
pub const ROOMINFO: &str = "http://jabber.org/protocol/muc#roominfo";
/// XEP-0249 Direct MUC Invitations.
pub const CONFERENCE_NS: &str = "jabber:x:conference";
/// XEP-0421 Anonymous unique occupant identifiers.
pub const OCCUPANT_ID_NS: &str = "urn:xmpp:occupant-id:0";
/// XEP-0410: the room answers self-pings itself.
pub const SELF_PING_OPTIMIZATION: &str = "http://jabber.org/protocol/muc#self-ping-optimization";
const MAM_NS: &str = "urn:xmpp:mam:2";

/// Items kept from one `muc#user` element.
pub const MAX_ITEMS: usize = 8;
/// Status codes kept from one `muc#user` element.
pub const MAX_STATUSES: usize = 16;
/// Longest reason, status, subject-less text, room name or description kept (longer ones are cut).
pub const MAX_TEXT: usize = 1024;
/// Longest occupant id kept (XEP-0421 ids are short; longer ones are ignored).
pub const MAX_OCCUPANT_ID: usize = 128;

/// Status codes (XEP-0045 §15.6) the client acts on.
pub mod status {
    /// Real JIDs are visible to everyone.
    pub const NON_ANONYMOUS: u16 = 100;
    /// The room's configuration changed.
    pub const CONFIG_CHANGED: u16 = 104;
    /// This presence is about ourselves.
    pub const SELF: u16 = 110;
    /// The room is logged (archived).
    pub const LOGGED: u16 = 170;
    /// A new room was created (locked until configured).
    pub const CREATED: u16 = 201;
    /// The service changed our nick.
    pub const NICK_MODIFIED: u16 = 210;
    pub const BANNED: u16 = 301;
    pub const NICK_CHANGED: u16 = 303;
    pub const KICKED: u16 = 307;
    pub const AFFILIATION_CHANGED: u16 = 321;
    pub const MEMBERS_ONLY: u16 = 322;
    pub const SHUTDOWN: u16 = 332;
    /// Removed because of a technical problem (also "recipient unavailable": a server restart's cleanup).
    pub const TECHNICAL: u16 = 333;
}

/// Cuts `s` at a character boundary to at most `max` bytes.
pub fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn text_of(el: &Element, ns: &str, name: &str) -> Option<String> {
    el.get_child(ns, name).map(|c| cut(c.text(), MAX_TEXT))
}

/// A long-lived association with the room (XEP-0045 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Affiliation {
    Owner,
    Admin,
    Member,
    /// Banned.
    Outcast,
    None,
}

impl Affiliation {
    pub fn parse(s: Option<&str>) -> Affiliation {
        match s {
            Some("owner") => Affiliation::Owner,
            Some("admin") => Affiliation::Admin,
            Some("member") => Affiliation::Member,
            Some("outcast") => Affiliation::Outcast,
            _ => Affiliation::None,
        }
    }

    pub fn wire(self) -> &'static str {
        match self {
            Affiliation::Owner => "owner",
            Affiliation::Admin => "admin",
            Affiliation::Member => "member",
            Affiliation::Outcast => "outcast",
            Affiliation::None => "none",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Affiliation::Owner => "owner",
            Affiliation::Admin => "admin",
            Affiliation::Member => "member",
            Affiliation::Outcast => "banned",
            Affiliation::None => "no affiliation",
        }
    }
}

/// A role in the room for this visit (XEP-0045 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Moderator,
    Participant,
    /// May read but not speak (in a moderated room).
    Visitor,
    /// Not in the room; setting it kicks.
    None,
}

impl Role {
    pub fn parse(s: Option<&str>) -> Role {
        match s {
            Some("moderator") => Role::Moderator,
            Some("participant") => Role::Participant,
            Some("visitor") => Role::Visitor,
            _ => Role::None,
        }
    }

    pub fn wire(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Participant => "participant",
            Role::Visitor => "visitor",
            Role::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Participant => "participant",
            Role::Visitor => "visitor",
            Role::None => "not in the room",
        }
    }
}

/// An `<item/>` of `muc#user` (or `muc#admin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MucItem {
    pub affiliation: Affiliation,
    pub role: Role,
    /// The occupant's real JID, when the room shows it to us.
    pub jid: Option<Jid>,
    /// A new nick (with status 303), or the nick a `muc#admin` item is about.
    pub nick: Option<String>,
    /// Who did it (`<actor nick/jid/>`): a nick, else a JID.
    pub actor: Option<String>,
    pub reason: Option<String>,
}

impl MucItem {
    fn parse(el: &Element, ns: &str) -> MucItem {
        let actor = el.get_child(ns, "actor").and_then(|a| a.attr("nick").or_else(|| a.attr("jid")));
        MucItem {
            affiliation: Affiliation::parse(el.attr("affiliation")),
            role: Role::parse(el.attr("role")),
            jid: el.attr("jid").and_then(|j| Jid::parse(j).ok()),
            nick: el.attr("nick").filter(|n| !n.is_empty()).map(str::to_owned),
            actor: actor.map(|a| cut(a.to_owned(), MAX_TEXT)),
            reason: text_of(el, ns, "reason"),
        }
    }
}

/// A room's destruction (`<destroy/>` in `muc#user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destroyed {
    /// Where to go instead, if the owner said.
    pub alternate: Option<BareJid>,
    pub reason: Option<String>,
    pub password: Option<String>,
}

/// An invitation relayed by the room (XEP-0045 §7.8.2), or a decline of ours relayed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mediated {
    /// Who invited (or declined), as the room says.
    pub from: Option<BareJid>,
    pub reason: Option<String>,
}

/// `<x xmlns='…muc#user'/>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MucUser {
    pub items: Vec<MucItem>,
    pub statuses: Vec<u16>,
    pub destroy: Option<Destroyed>,
    pub invite: Option<Mediated>,
    pub decline: Option<Mediated>,
    pub password: Option<String>,
}

impl MucUser {
    pub fn parse(x: &Element) -> MucUser {
        let ns = MUC_USER_NS;
        let mediated = |name| {
            x.get_child(ns, name).map(|i| Mediated {
                from: i.attr("from").and_then(|f| Jid::parse(f).ok()).map(Jid::into_bare),
                reason: text_of(i, ns, "reason"),
            })
        };
        MucUser {
            items: x.children_named(ns, "item").take(MAX_ITEMS).map(|i| MucItem::parse(i, ns)).collect(),
            statuses: x
                .children_named(ns, "status")
                .filter_map(|s| s.attr("code")?.trim().parse().ok())
                .take(MAX_STATUSES)
                .collect(),
            destroy: x.get_child(ns, "destroy").map(|d| Destroyed {
                alternate: d.attr("jid").and_then(|j| BareJid::parse(j).ok()),
                reason: text_of(d, ns, "reason"),
                password: text_of(d, ns, "password"),
            }),
            invite: mediated("invite"),
            decline: mediated("decline"),
            password: text_of(x, ns, "password"),
        }
    }

    /// The `muc#user` element of a stanza, parsed.
    pub fn of(stanza: &Element) -> Option<MucUser> {
        stanza.get_child(MUC_USER_NS, "x").map(MucUser::parse)
    }

    pub fn has(&self, code: u16) -> bool {
        self.statuses.contains(&code)
    }

    pub fn item(&self) -> Option<&MucItem> {
        self.items.first()
    }
}

/// What an occupant's presence says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OccupantPresence {
    Available(Availability),
    Unavailable { status: Option<String> },
    Error(StanzaError),
}

/// A presence from a room (`room@service/nick`, or the bare room for some errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MucPresence {
    pub room: BareJid,
    /// The occupant's nick (the resource); `None` from the bare room.
    pub nick: Option<String>,
    pub kind: OccupantPresence,
    pub user: MucUser,
    /// XEP-0421 id, when the stanza has one (trust it only when the room advertises the feature).
    pub occupant_id: Option<String>,
}

impl MucPresence {
    /// Parses a presence from a room; `None` for subscription traffic or without a usable `from`.
    pub fn parse(el: &Element) -> Option<MucPresence> {
        MucPresence::parse_from(el, Jid::parse(el.attr("from")?).ok()?)
    }

    /// [`MucPresence::parse`] with `from` parsed by the caller.
    pub fn parse_from(el: &Element, from: Jid) -> Option<MucPresence> {
        let p = PresenceStanza::parse_from(el, from);
        let kind = match p.kind {
            PresenceKind::Available(mut a) => {
                a.status = a.status.map(|s| cut(s, MAX_TEXT));
                OccupantPresence::Available(a)
            }
            PresenceKind::Unavailable { status } => {
                OccupantPresence::Unavailable { status: status.map(|s| cut(s, MAX_TEXT)) }
            }
            PresenceKind::Error(e) => OccupantPresence::Error(e),
            _ => return None,
        };
        let nick = p.from.resource().map(str::to_owned);
        Some(MucPresence {
            room: p.from.into_bare(),
            nick,
            kind,
            user: MucUser::of(el).unwrap_or_default(),
            occupant_id: occupant_id(el),
        })
    }
}

/// The XEP-0421 `<occupant-id id/>` of a stanza, if it has one of sane length.
pub fn occupant_id(el: &Element) -> Option<String> {
    let id = el.get_child(OCCUPANT_ID_NS, "occupant-id")?.attr("id")?;
    (!id.is_empty() && id.len() <= MAX_OCCUPANT_ID).then(|| id.to_owned())
}

/// The `<x xmlns='…muc'/>` of a join presence: no legacy history when `no_history` (the room has an
/// archive to read instead), and the password if any.
pub fn join_x(password: Option<&str>, no_history: bool) -> Element {
    let mut x = Element::new(MUC_NS, "x");
    if no_history {
        x.push_child(Element::new(MUC_NS, "history").with_attr("maxchars", "0"));
    }
    if let Some(p) = password {
        x.push_child(Element::new(MUC_NS, "password").with_text(p));
    }
    x
}

/// A `muc#admin` query changing one occupant's role (by nick; `Role::None` kicks).
pub fn set_role(nick: &str, role: Role, reason: Option<&str>) -> Element {
    admin_item(Element::new(MUC_ADMIN_NS, "item").with_attr("nick", nick).with_attr("role", role.wire()), reason)
}

/// A `muc#admin` query changing one user's affiliation (by bare JID; `Affiliation::Outcast` bans).
pub fn set_affiliation(jid: &BareJid, affiliation: Affiliation, reason: Option<&str>) -> Element {
    admin_item(
        Element::new(MUC_ADMIN_NS, "item")
            .with_attr("affiliation", affiliation.wire())
            .with_attr("jid", jid.to_string()),
        reason,
    )
}

fn admin_item(mut item: Element, reason: Option<&str>) -> Element {
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        item.push_child(Element::new(MUC_ADMIN_NS, "reason").with_text(r));
    }
    Element::new(MUC_ADMIN_NS, "query").with_child(item)
}

/// `muc#owner` query: empty to fetch the configuration form, or with a form to submit it.
pub fn owner_query(form: Option<&DataForm>) -> Element {
    let mut q = Element::new(MUC_OWNER_NS, "query");
    if let Some(f) = form {
        q.push_child(f.to_element());
    }
    q
}

/// `muc#owner` query destroying the room, naming an alternative venue and a reason when given.
pub fn destroy(alternate: Option<&BareJid>, reason: Option<&str>) -> Element {
    let mut d = Element::new(MUC_OWNER_NS, "destroy");
    if let Some(a) = alternate {
        d.set_attr("jid", a.to_string());
    }
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        d.push_child(Element::new(MUC_OWNER_NS, "reason").with_text(r));
    }
    Element::new(MUC_OWNER_NS, "query").with_child(d)
}

/// A groupchat message changing the subject (empty: clears it).
pub fn subject_message(room: &BareJid, subject: &str, id: &str) -> Element {
    Element::new(CLIENT_NS, "message")
        .with_attr("to", room.to_string())
        .with_attr("type", "groupchat")
        .with_attr("id", id)
        .with_child(Element::new(CLIENT_NS, "subject").with_text(subject))
}

/// XEP-0249: an invitation sent straight to `to`.
pub fn direct_invite(to: &BareJid, room: &BareJid, reason: Option<&str>, password: Option<&str>, id: &str) -> Element {
    let mut x = Element::new(CONFERENCE_NS, "x").with_attr("jid", room.to_string());
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        x.set_attr("reason", r);
    }
    if let Some(p) = password {
        x.set_attr("password", p);
    }
    Element::new(CLIENT_NS, "message").with_attr("to", to.to_string()).with_attr("id", id).with_child(x)
}

/// XEP-0045 §7.8.2: declining an invitation the room relayed from `inviter`.
pub fn decline(room: &BareJid, inviter: &BareJid, reason: Option<&str>, id: &str) -> Element {
    let mut d = Element::new(MUC_USER_NS, "decline").with_attr("to", inviter.to_string());
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        d.push_child(Element::new(MUC_USER_NS, "reason").with_text(r));
    }
    Element::new(CLIENT_NS, "message")
        .with_attr("to", room.to_string())
        .with_attr("id", id)
        .with_child(Element::new(MUC_USER_NS, "x").with_child(d))
}

/// An invitation to a room, direct (XEP-0249) or relayed by the room (XEP-0045).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub room: BareJid,
    /// Who invites: the sender of a direct invitation, the `from` a room relays.
    pub from: BareJid,
    pub reason: Option<String>,
    pub password: Option<String>,
    /// Relayed by the room: decline it with `RoomCommand::Decline`.
    pub mediated: bool,
}

impl Invite {
    /// The invitation `message` carries, if any: a XEP-0249 `<x xmlns='jabber:x:conference'/>` from its
    /// sender, or a `muc#user` `<invite/>` from the room itself (`from` is the room's bare JID). Room JIDs must
    /// have a local part.
    pub fn of(message: &Element, from: &Jid) -> Option<Invite> {
        if let Some(x) = message.get_child(CONFERENCE_NS, "x") {
            let room = BareJid::parse(x.attr("jid")?).ok().filter(|r| r.local().is_some())?;
            return Some(Invite {
                room,
                from: from.bare().clone(),
                reason: x.attr("reason").map(|r| cut(r.to_owned(), MAX_TEXT)),
                password: x.attr("password").map(|p| cut(p.to_owned(), MAX_TEXT)),
                mediated: false,
            });
        }
        let user = MucUser::of(message)?;
        let invite = user.invite?;
        if !from.is_bare() || from.bare().local().is_none() {
            return None;
        }
        Some(Invite {
            room: from.bare().clone(),
            from: invite.from?,
            reason: invite.reason,
            password: user.password,
            mediated: true,
        })
    }
}

/// What a room's disco#info says about it (XEP-0045 §6.4), with the room-name and -description texts cut
/// at [`MAX_TEXT`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomInfo {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Occupants at the time of asking, when the room says.
    pub occupants: Option<u32>,
    /// The room keeps an archive (XEP-0313): history is read from it, not asked for at join.
    pub mam: bool,
    /// The room stamps XEP-0421 occupant ids (and strips forged ones): they can be trusted.
    pub occupant_ids: bool,
    pub members_only: bool,
    pub password_protected: bool,
    pub persistent: bool,
    pub public: bool,
    pub moderated: bool,
    /// Real JIDs are visible to every occupant.
    pub non_anonymous: bool,
    /// The room answers self-pings itself (XEP-0410).
    pub self_ping_optimized: bool,
}

impl RoomInfo {
    /// `None` when the entity is not a room (no `conference` identity and no MUC feature).
    pub fn from_disco(info: &DiscoInfo) -> Option<RoomInfo> {
        if !info.has_identity("conference", "text") && !info.has_feature(MUC_NS) {
            return None;
        }
        let form = info.form(ROOMINFO);
        let field = |var: &str| form.and_then(|f| f.value(var)).filter(|v| !v.trim().is_empty());
        let name = info
            .identities
            .iter()
            .find(|i| i.category == "conference")
            .and_then(|i| i.name.clone())
            .filter(|n| !n.trim().is_empty());
        Some(RoomInfo {
            name: name.map(|n| cut(n, MAX_TEXT)),
            description: field("muc#roominfo_description").map(|d| cut(d.to_owned(), MAX_TEXT)),
            occupants: field("muc#roominfo_occupants").and_then(|n| n.trim().parse().ok()),
            mam: info.has_feature(MAM_NS),
            occupant_ids: info.has_feature(OCCUPANT_ID_NS),
            members_only: info.has_feature("muc_membersonly"),
            password_protected: info.has_feature("muc_passwordprotected"),
            persistent: info.has_feature("muc_persistent"),
            public: info.has_feature("muc_public"),
            moderated: info.has_feature("muc_moderated"),
            non_anonymous: info.has_feature("muc_nonanonymous"),
            self_ping_optimized: info.has_feature(SELF_PING_OPTIMIZATION),
        })
    }
}

/// What a person sets when creating a configured room; the rest of the owner's form stays as the service
/// proposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub members_only: bool,
    pub persistent: bool,
}

impl RoomSettings {
    /// The room configuration `form` (as the service sent it) answered with these settings. Fields the
    /// service does not offer are left out.
    pub fn apply(&self, form: &DataForm) -> DataForm {
        let mut submit = if form.kind == FormType::Form { form.to_submit() } else { DataForm::submit_of(ROOMCONFIG) };
        if let Some(n) = &self.name {
            submit.set("muc#roomconfig_roomname", vec![n.clone()]);
        }
        if let Some(d) = &self.description {
            submit.set("muc#roomconfig_roomdesc", vec![d.clone()]);
        }
        submit.set_bool("muc#roomconfig_membersonly", self.members_only);
        submit.set_bool("muc#roomconfig_persistentroom", self.persistent);
        submit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        Element::parse(s).unwrap()
    }

    #[test]
    fn spec_occupant_presences() {
        // XEP-0045 example 22 (an occupant's presence in a non-anonymous room) and 24 (our own, with 110).
        let p = MucPresence::parse(&el("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' id='3DCB0401-D7CF-4E31-BE05-EDF8D057BFBD' to='hag66@shakespeare.lit/pda'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' jid='crone1@shakespeare.lit/desktop' role='moderator'/></x></presence>")).unwrap();
        assert_eq!(p.room.to_string(), "coven@chat.shakespeare.lit");
        assert_eq!(p.nick.as_deref(), Some("firstwitch"));
        let item = p.user.item().unwrap();
        assert_eq!((item.affiliation, item.role), (Affiliation::Owner, Role::Moderator));
        assert_eq!(item.jid.as_ref().map(ToString::to_string).as_deref(), Some("crone1@shakespeare.lit/desktop"));
        let me = MucPresence::parse(&el("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='n13mt3l' to='hag66@shakespeare.lit/pda'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='100'/><status code='110'/><status code='210'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/></presence>")).unwrap();
        assert!(me.user.has(status::SELF) && me.user.has(status::NICK_MODIFIED) && !me.user.has(status::KICKED));
        assert_eq!(me.occupant_id.as_deref(), Some("dd72603deec90a38ba552f7c68cbcc61bca202cd"));
    }

    #[test]
    fn spec_kick_ban_and_destroy() {
        // XEP-0045 example 91 (kicked, with actor and reason) and 206 (destroyed, with an alternate venue).
        let kicked = MucPresence::parse(&el("<presence xmlns='jabber:client' from='harfleur@chat.shakespeare.lit/pistol' to='pistol@shakespeare.lit/harfleur' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'><actor nick='Fluellen'/><reason>Avaunt, you cullion!</reason></item><status code='110'/><status code='307'/></x></presence>")).unwrap();
        assert!(matches!(kicked.kind, OccupantPresence::Unavailable { .. }));
        let item = kicked.user.item().unwrap();
        assert_eq!((item.actor.as_deref(), item.reason.as_deref()), (Some("Fluellen"), Some("Avaunt, you cullion!")));
        assert!(kicked.user.has(status::KICKED));
        let destroyed = MucPresence::parse(&el("<presence xmlns='jabber:client' from='heath@chat.shakespeare.lit/firstwitch' to='crone1@shakespeare.lit/desktop' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/><destroy jid='coven@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy></x></presence>")).unwrap();
        let d = destroyed.user.destroy.unwrap();
        assert_eq!(d.alternate.unwrap().to_string(), "coven@chat.shakespeare.lit");
        assert_eq!(d.reason.as_deref(), Some("Macbeth doth come."));
    }

    #[test]
    fn spec_invitations() {
        // XEP-0045 example 57 (mediated, as the room relays it) and XEP-0249 example 1 (direct).
        let mediated = el(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='nzd143v8' to='hecate@shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='crone1@shakespeare.lit/desktop'><reason>Hey Hecate, this is the place for all good witches!</reason></invite><password>cauldronburn</password></x></message>",
        );
        let inv = Invite::of(&mediated, &Jid::parse("coven@chat.shakespeare.lit").unwrap()).unwrap();
        assert!(inv.mediated);
        assert_eq!(inv.from.to_string(), "crone1@shakespeare.lit");
        assert_eq!(inv.password.as_deref(), Some("cauldronburn"));
        let direct = el(
            "<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop' to='hecate@shakespeare.lit'><x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' password='cauldronburn' reason='Hey Hecate, this is the place for all good witches!'/></message>",
        );
        let inv = Invite::of(&direct, &Jid::parse("crone1@shakespeare.lit/desktop").unwrap()).unwrap();
        assert_eq!((inv.room.to_string(), inv.mediated), ("darkcave@macbeth.shakespeare.lit".to_owned(), false));
        // A relayed invitation that does not come from a room's bare JID is not one.
        assert!(Invite::of(&mediated, &Jid::parse("mallory@evil.example/x").unwrap()).is_none());
    }

    #[test]
    fn builders_match_the_spec_shapes() {
        // XEP-0045 example 89 (kick) and 110 (ban).
        let kick = set_role("pistol", Role::None, Some("Avaunt, you cullion!"));
        let item = kick.get_child(MUC_ADMIN_NS, "item").unwrap();
        assert_eq!((item.attr("nick"), item.attr("role")), (Some("pistol"), Some("none")));
        assert_eq!(item.get_child(MUC_ADMIN_NS, "reason").unwrap().text(), "Avaunt, you cullion!");
        let ban =
            set_affiliation(&BareJid::parse("earlofcambridge@shakespeare.lit").unwrap(), Affiliation::Outcast, None);
        let item = ban.get_child(MUC_ADMIN_NS, "item").unwrap();
        assert_eq!(
            (item.attr("jid"), item.attr("affiliation")),
            (Some("earlofcambridge@shakespeare.lit"), Some("outcast"))
        );
        let x = join_x(Some("cauldronburn"), true);
        assert_eq!(x.get_child(MUC_NS, "history").unwrap().attr("maxchars"), Some("0"));
        assert_eq!(x.get_child(MUC_NS, "password").unwrap().text(), "cauldronburn");
        let d = destroy(Some(&BareJid::parse("coven@chat.shakespeare.lit").unwrap()), Some("Macbeth doth come."));
        assert_eq!(d.get_child(MUC_OWNER_NS, "destroy").unwrap().attr("jid"), Some("coven@chat.shakespeare.lit"));
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        let s = cut("é".repeat(MAX_TEXT), MAX_TEXT + 1);
        assert_eq!(s.len(), MAX_TEXT);
        assert!(s.chars().all(|c| c == 'é'));
    }

    #[test]
    fn settings_fill_the_offered_fields() {
        let form = DataForm::parse(&el("<x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field><field var='muc#roomconfig_roomname' type='text-single'/><field var='muc#roomconfig_membersonly' type='boolean'><value>0</value></field><field var='muc#roomconfig_persistentroom' type='boolean'><value>0</value></field><field var='muc#roomconfig_whois' type='list-single'><value>moderators</value></field></x>")).unwrap();
        let s = RoomSettings {
            name: Some("Tea".into()),
            description: Some("no desc field".into()),
            members_only: true,
            persistent: true,
        };
        let submit = s.apply(&form);
        assert_eq!(submit.kind, FormType::Submit);
        assert_eq!(submit.value("muc#roomconfig_roomname"), Some("Tea"));
        assert_eq!(submit.value("muc#roomconfig_membersonly"), Some("1"));
        assert_eq!(submit.value("muc#roomconfig_persistentroom"), Some("1"));
        assert_eq!(submit.value("muc#roomconfig_whois"), Some("moderators"), "the rest as proposed");
        assert!(submit.field("muc#roomconfig_roomdesc").is_none(), "not offered, not added");
    }
}
