//! The bound session: stanzas in (iq, message, presence), commands out, request tracking and keepalive.
//!
//! Receipts and markers (XEP-0184, XEP-0333): our chat messages request both. We answer a receipt request,
//! and send `displayed` markers, only to contacts whose roster subscription lets them see our presence
//! (`from` or `both`): a receipt tells that we are online, which is exactly what presence tells, so whoever
//! may not see our presence gets neither (strangers, `none`, `to`, or only a pending request). Receipts and
//! markers we get become `Receipt`/`Displayed` events carrying the sender's bare JID; the UI applies them
//! only to our own message with that id in the conversation with that JID (carbons of our other devices'
//! conversations count, forged carbons are dropped before).

use web_time::Instant;

use super::{Client, ClientError, Command, CommandError, Event, Pending, Phase, RequestError, RosterAction, Stage};
use crate::xmpp::framing::{self, CLIENT_NS};
use crate::xmpp::jid::{BareJid, Jid};
use crate::xmpp::stanza::bookmarks::BOOKMARKS_NOTIFY;
use crate::xmpp::stanza::caps::{self, CAPS_NS};
use crate::xmpp::stanza::disco::Identity;
use crate::xmpp::stanza::error::{ErrorType, StanzaError};
use crate::xmpp::stanza::mam::ResultRef;
use crate::xmpp::stanza::message::{self, CARBONS_NS, CHATSTATES_NS, CarbonDirection, ChatState, Message, MessageType};
use crate::xmpp::stanza::muc::{CONFERENCE_NS, MUC_NS};
use crate::xmpp::stanza::presence::{self, Availability, PresenceKind, PresenceStanza};
use crate::xmpp::stanza::receipts::{self, Ack};
use crate::xmpp::stanza::roster::{self, ROSTER_NS, RosterItem, RosterQuery, Subscription};
use crate::xmpp::stanza::sid;
use crate::xmpp::xml::Element;

use super::SeenKey;
use super::mam::{ArchiveError, History};
use super::sm::{MAX_UNACKED_MESSAGES, PendingMessage};

pub(super) const PING_NS: &str = "urn:xmpp:ping";
const DISCO_INFO_NS: &str = "http://jabber.org/protocol/disco#info";

/// What we tell others we support (XEP-0030, and in our presence through XEP-0115 caps), sorted. With
/// `Config::bookmarks`, also [`BOOKMARKS_NOTIFY`] (see [`features`]).
pub const FEATURES: &[&str] = &[
    CAPS_NS,
    CHATSTATES_NS,
    DISCO_INFO_NS,
    MUC_NS,
    CONFERENCE_NS,
    receipts::MARKERS_NS,
    PING_NS,
    receipts::RECEIPTS_NS,
];

/// Our features, sorted; `bookmarks`: `urn:xmpp:bookmarks:1+notify` too, which asks the server for
/// notifications of our bookmarks (XEP-0402 through XEP-0163). A session that does not keep bookmarks does
/// not ask (servers may send the last one again at every presence).
pub fn features(bookmarks: bool) -> Vec<&'static str> {
    let mut f = FEATURES.to_vec();
    if bookmarks {
        f.insert(f.partition_point(|x| *x < BOOKMARKS_NOTIFY), BOOKMARKS_NOTIFY);
    }
    f
}

/// What we are (XEP-0030 identity).
fn identity() -> Identity {
    Identity::new("client", "web", Some("Natter"))
}

/// Our XEP-0115 verification string.
pub(super) fn caps_ver(bookmarks: bool) -> String {
    caps::ver(&[identity()], &features(bookmarks))
}

impl Client {
    pub(super) fn handle_stanza(&mut self, el: &Element, now: Instant) {
        match el.name.as_str() {
            "iq" => self.handle_iq(el, now),
            // XEP-0313 results answer our queries; they are never live messages, trusted or not.
            "message" if ResultRef::is_result(el) => {
                let muc = &self.muc;
                self.history.result(el, |room| muc.room_self(room));
            }
            "message" if matches!(self.stage, Stage::Online) => match message::carbon(el) {
                // XEP-0280 §11: only our own account may send carbons; anyone else is forging messages.
                Some((direction, inner)) if self.is_own_bare(el.attr("from")) => {
                    self.handle_carbon(direction, inner, now)
                }
                Some(_) => {}
                // Group chat first: groupchat messages, invitations, PEP notifications, rooms' messages.
                None if self.muc_message(el, now) => {}
                None => self.handle_message(el, false, now),
            },
            // Presence from rooms before the rules for contacts (rooms are not in the roster).
            "presence" if matches!(self.stage, Stage::Online) && self.muc_presence(el, now) => {}
            "presence" if matches!(self.stage, Stage::Online) => self.handle_presence(el),
            // Messages and presence that arrive before the roster do not exist: the server only routes them
            // after our initial presence. Anything else is ignored as RFC 6120 allows for unknown stanzas.
            _ => {}
        }
    }

    /// Whether `from` is our server or our own account (where replies to our requests come from).
    fn is_from_our_server(&self, from: Option<&str>) -> bool {
        let Some(from) = from else { return true };
        let Ok(jid) = Jid::parse(from) else { return false };
        jid.bare() == &self.config.jid
            || (jid.bare().local().is_none() && jid.is_bare() && jid.bare().domain() == self.config.jid.domain())
    }

    fn handle_iq(&mut self, el: &Element, now: Instant) {
        let id = el.attr("id").map(str::to_owned);
        match el.attr("type") {
            Some(kind @ ("result" | "error")) => {
                let Some(id) = id else { return };
                let from_ok = match self.pending.get(&id) {
                    // Asked of a room, an occupant or a service: only it may answer.
                    Some((Pending::Muc { to: Some(to), .. }, _)) => {
                        el.attr("from").and_then(|f| Jid::parse(f).ok()).as_ref() == Some(to)
                    }
                    // A room's archive answers from the room.
                    Some((Pending::Archive(queryid), _)) => match self.history.room_of(queryid) {
                        Some(room) => el
                            .attr("from")
                            .and_then(|f| Jid::parse(f).ok())
                            .is_some_and(|j| j.is_bare() && j.bare() == room),
                        None => self.is_from_our_server(el.attr("from")),
                    },
                    Some(_) => self.is_from_our_server(el.attr("from")),
                    None => false,
                };
                if !from_ok {
                    return; // not an answer to anything we asked (or a spoofed one): ignore
                }
                let Some((what, _)) = self.pending.remove(&id) else { return };
                if kind == "result" {
                    self.iq_result(what, el, now);
                } else {
                    self.iq_error(what, StanzaError::from_stanza(el), now);
                }
            }
            Some(kind @ ("get" | "set")) => {
                let Some(id) = id else { return };
                let payloads: Vec<&Element> = el.elements().collect();
                let reply = match (kind, payloads.as_slice()) {
                    (_, [payload]) => self.answer_request(kind, payload, el.attr("from")),
                    _ => Err(StanzaError::new(ErrorType::Modify, "bad-request")),
                };
                let mut iq = Element::new(CLIENT_NS, "iq").with_attr("id", id);
                if let Some(from) = el.attr("from") {
                    iq.set_attr("to", from);
                }
                match reply {
                    Ok(payload) => {
                        iq.set_attr("type", "result");
                        if let Some(p) = payload {
                            iq.push_child(p);
                        }
                    }
                    Err(e) => {
                        iq.set_attr("type", "error");
                        iq.push_child(e.to_element(CLIENT_NS));
                    }
                }
                self.send(&iq);
            }
            _ => {}
        }
    }

    /// Answers an iq get/set addressed to us: the result payload, or the error to return.
    fn answer_request(
        &mut self,
        kind: &str,
        payload: &Element,
        from: Option<&str>,
    ) -> Result<Option<Element>, StanzaError> {
        match (kind, payload.ns.as_str(), payload.name.as_str()) {
            ("get", PING_NS, "ping") => Ok(None),
            ("get", DISCO_INFO_NS, "query") => {
                let mut q = Element::new(DISCO_INFO_NS, "query");
                if let Some(node) = payload.attr("node") {
                    q.set_attr("node", node);
                }
                q.push_child(identity().to_element());
                for f in features(self.config.bookmarks) {
                    q.push_child(Element::new(DISCO_INFO_NS, "feature").with_attr("var", f));
                }
                Ok(Some(q))
            }
            ("set", ROSTER_NS, "query") if matches!(self.stage, Stage::Online) => {
                // RFC 6121 §2.1.6: a push not from our own account is a spoofing attempt.
                if !self.is_own_bare(from) {
                    return Err(StanzaError::new(ErrorType::Cancel, "service-unavailable"));
                }
                let push = RosterQuery::parse(payload);
                let [item] = push.items.as_slice() else {
                    return Err(StanzaError::new(ErrorType::Modify, "bad-request"));
                };
                self.apply_roster_item(item.clone());
                if push.ver.is_some() {
                    self.roster_ver.clone_from(&push.ver);
                }
                self.events.push_back(Event::RosterPush { item: item.clone(), ver: push.ver });
                Ok(None)
            }
            // RFC 6120 §8.4: an iq we do not understand gets service-unavailable.
            _ => Err(StanzaError::new(ErrorType::Cancel, "service-unavailable")),
        }
    }

    fn iq_result(&mut self, what: Pending, el: &Element, now: Instant) {
        match what {
            Pending::Bind => self.bound(el, now),
            Pending::Session => self.request_roster(now),
            Pending::RosterGet => {
                let (items, ver) = match el.get_child(ROSTER_NS, "query") {
                    Some(q) => {
                        let q = RosterQuery::parse(q);
                        (q.items, q.ver)
                    }
                    // RFC 6121 §2.6.3: an empty result means our cached roster is current.
                    None => match self.config.cached_roster.take() {
                        Some((ver, items)) => (items, Some(ver)),
                        None => (Vec::new(), None),
                    },
                };
                self.go_online(items, ver, now);
            }
            Pending::ArchiveFeatures => {
                self.history.features(Some(el), &mut self.events);
                self.send_archive_queries(now);
            }
            Pending::Archive(queryid) => {
                self.flush_archive_room(&queryid);
                self.history.finished(&queryid, el, &mut self.seen, &mut self.events);
                self.send_archive_queries(now);
            }
            Pending::RosterSet(_) | Pending::Ping | Pending::Carbons => {}
            Pending::Muc { req, .. } => self.muc_result(*req, el, now),
        }
    }

    fn iq_error(&mut self, what: Pending, error: StanzaError, now: Instant) {
        match what {
            Pending::Bind | Pending::Session => {
                self.send_raw(framing::close(None));
                self.finish(Some(ClientError::BindFailed(error)));
            }
            // Without a roster we can still chat: go online with an empty one.
            Pending::RosterGet => self.go_online(Vec::new(), None, now),
            Pending::RosterSet(action) => {
                self.events.push_back(Event::RequestFailed { action, error: RequestError::Stanza(error) })
            }
            // Any answer to a ping proves the connection is alive; a server without carbons is fine too.
            Pending::Ping | Pending::Carbons => {}
            Pending::Muc { req, .. } => self.muc_error(*req, error, now),
            Pending::ArchiveFeatures => {
                self.history.features(None, &mut self.events);
                self.send_archive_queries(now);
            }
            Pending::Archive(queryid) => {
                self.flush_archive_room(&queryid);
                self.history.failed(&queryid, ArchiveError::Stanza(error), &mut self.events);
                self.send_archive_queries(now);
            }
        }
    }

    pub(super) fn request_timed_out(&mut self, what: Pending, now: Instant) {
        let stage = match what {
            Pending::Muc { req, .. } => {
                self.muc_timed_out(*req, now);
                return;
            }
            Pending::ArchiveFeatures => {
                self.history.features(None, &mut self.events);
                self.send_archive_queries(now);
                return;
            }
            Pending::Archive(queryid) => {
                self.flush_archive_room(&queryid);
                self.history.failed(&queryid, ArchiveError::Timeout, &mut self.events);
                self.send_archive_queries(now);
                return;
            }
            Pending::RosterSet(action) => {
                self.events.push_back(Event::RequestFailed { action, error: RequestError::Timeout });
                return;
            }
            Pending::Carbons => return,
            Pending::Bind | Pending::Session => "binding a resource",
            Pending::RosterGet => "loading contacts",
            Pending::Ping => "keepalive",
        };
        self.send_raw(framing::close(None));
        self.finish(Some(ClientError::Timeout { stage }));
    }

    pub(super) fn maybe_keepalive(&mut self, now: Instant) {
        let Some(interval) = self.config.keepalive else { return };
        if self.is_online() && !self.probing() && now >= self.last_heard + interval {
            self.probe(now);
        }
    }

    /// Whether a liveness probe (ping or XEP-0198 `<r/>`) awaits its answer.
    pub(super) fn probing(&self) -> bool {
        self.sm.ack_deadline.is_some() || self.pending.values().any(|(p, _)| matches!(p, Pending::Ping))
    }

    /// Asks the server for a sign of life: `<r/>` when stream management is on (cheaper, no stanza), else a
    /// ping (XEP-0199).
    pub(super) fn probe(&mut self, now: Instant) {
        if self.sm.is_on() {
            let r = self.sm.probe(now + self.config.request_timeout);
            self.send(&r);
        } else {
            self.send_ping(now);
        }
    }

    pub(super) fn send_ping(&mut self, now: Instant) {
        let domain = self.config.jid.domain().to_owned();
        self.send_iq("get", Some(&domain), Element::new(PING_NS, "ping"), Pending::Ping, now);
    }

    fn go_online(&mut self, items: Vec<RosterItem>, ver: Option<String>, now: Instant) {
        self.roster = items.iter().map(|i| (i.jid.clone(), i.clone())).collect();
        self.roster_ver.clone_from(&ver);
        self.events.push_back(Event::Roster { items, ver });
        let initial = self.presence_element(&self.own_presence.clone());
        self.send(&initial);
        // XEP-0280: see what our other devices send and receive (unless Bind2 already enabled carbons).
        if !self.carbons_inline {
            self.send_iq("set", None, Element::new(CARBONS_NS, "enable"), Pending::Carbons, now);
        }
        self.stage = Stage::Online;
        self.events.push_back(Event::Phase(Phase::Online));
        if let Some(jid) = self.bound.clone() {
            self.events.push_back(Event::Online { jid, resumed: false });
        }
        // Rooms before the resent messages: a groupchat message needs its room joined first.
        self.muc_online(now);
        self.after_online();
        self.start_history(false, now);
    }

    /// Online (`resumed`: the lost session resumed): when catching up, ask what the account's archive offers;
    /// the catch-up starts with the answer (see `mam`).
    pub(super) fn start_history(&mut self, resumed: bool, now: Instant) {
        if self.history.online(resumed) {
            // Said at once, before anything (a transcript asking for a newest page) could race the catch-up.
            self.events.push_back(Event::CatchingUp);
            let own = self.config.jid.to_string();
            self.send_iq("get", Some(&own), History::features_query(), Pending::ArchiveFeatures, now);
        }
    }

    /// Before the events of a room's archive query: the room's occupant changes not reported yet (they come
    /// before any other event about the room).
    fn flush_archive_room(&mut self, queryid: &str) {
        if let Some(room) = self.history.room_of(queryid).cloned() {
            self.flush_occupants(&room);
        }
    }

    /// Sends the archive queries `history` asks for.
    pub(super) fn send_archive_queries(&mut self, now: Instant) {
        for q in self.history.take_outgoing() {
            let to = q.to.as_ref().map(BareJid::to_string);
            let queryid = q.query.queryid.clone();
            self.send_iq("set", to.as_deref(), q.query.to_element(), Pending::Archive(queryid), now);
        }
    }

    /// Our presence with `availability`, carrying our XEP-0115 caps (PEP sends bookmark notifications by them).
    pub(super) fn presence_element(&self, availability: &Availability) -> Element {
        let mut p = presence::own_presence(availability);
        p.push_child(caps::element(&self.caps_ver));
        p
    }

    fn apply_roster_item(&mut self, item: RosterItem) {
        if item.subscription.shares_our_presence() {
            self.subscription_requests.remove(&item.jid); // answered (perhaps from another device)
        }
        if item.subscription == Subscription::Remove {
            let jid = item.jid;
            self.roster.remove(&jid);
            self.forget_requester(&jid);
        } else {
            self.roster.insert(item.jid.clone(), item);
        }
    }

    /// Drops a pending request from `jid`, and its presence if it is not (or no longer) a contact.
    fn forget_requester(&mut self, jid: &BareJid) {
        self.subscription_requests.remove(jid);
        if !self.roster.contains_key(jid) {
            self.presences.remove(jid);
        }
    }

    /// An incoming message (`carbon`: a copy of one our other device received, which that device answers).
    fn handle_message(&mut self, el: &Element, carbon: bool, now: Instant) {
        let Some(mut msg) = Message::parse(el) else { return };
        // A message without `from` comes from our own server (RFC 6120 §8.1.2.1).
        let from = msg.from.get_or_insert_with(|| Jid::from(self.server_jid())).clone();
        match msg.kind {
            MessageType::Error => {
                let error = msg.error.unwrap_or_else(|| StanzaError::new(ErrorType::Cancel, "undefined-condition"));
                self.events.push_back(Event::MessageError { with: from.into_bare(), id: msg.id, error });
            }
            // Group chat is not joined by this client yet; a stray one is not a one-to-one message.
            MessageType::Groupchat => {}
            _ => {
                let bare = from.bare().clone();
                match Ack::of(el) {
                    Some(Ack::Received(id)) => self.events.push_back(Event::Receipt { from: bare.clone(), id }),
                    Some(Ack::Displayed(id)) => self.events.push_back(Event::Displayed { from: bare.clone(), id }),
                    None => {}
                }
                if msg.chat_state.is_some()
                    && self.chat_state_peers.len() < super::MAX_CHAT_STATE_PEERS
                    && !self.chat_state_peers.contains(&bare)
                {
                    self.chat_state_peers.insert(bare.clone());
                }
                if msg.bodies.is_empty() {
                    if let Some(state) = msg.chat_state {
                        self.events.push_back(Event::ChatState { from: bare, state });
                    }
                    return;
                }
                // Answered even for a duplicate: the sender may be asking again because our first receipt was lost.
                if msg.receipt_request && !carbon && self.may_see_our_presence(&bare) {
                    let id = msg.id.clone().filter(|id| !id.is_empty() && id.len() <= sid::MAX_ID);
                    if let Some(id) = id {
                        let reply_id = self.new_id();
                        self.send(&Ack::Received(id).to_message(&from, &reply_id));
                    }
                }
                msg.stanza_id = sid::stanza_id_by(el, &self.config.jid);
                if self.is_duplicate(&bare, &msg) {
                    return;
                }
                let archived = msg.stanza_id.clone();
                self.events.push_back(Event::Message(msg));
                self.shown_live(archived, now);
            }
        }
    }

    /// A live message was shown; `stanza_id`, its id in our archive, moves the catch-up's cursor on (or
    /// closes a gap) — see `mam`.
    fn shown_live(&mut self, stanza_id: Option<String>, now: Instant) {
        if let Some(id) = stanza_id {
            let unix_ms = self.config.clock.map(|c| c.unix_ms_at(now));
            self.history.live(&id, unix_ms, &mut self.events);
        }
    }

    /// Whether `msg` from `sender` was shown already (see `dedup`); remembers it either way.
    fn is_duplicate(&mut self, sender: &BareJid, msg: &Message) -> bool {
        let body = msg.body(None).unwrap_or_default();
        let keys = SeenKey::of(sender, msg.stanza_id.as_deref(), msg.origin_id.as_deref(), msg.id.as_deref(), body);
        self.seen.check_and_insert(keys)
    }

    /// Receipts and markers go only to contacts allowed to see our presence (see the module docs).
    fn may_see_our_presence(&self, jid: &BareJid) -> bool {
        self.roster.get(jid).is_some_and(|i| i.subscription.shares_our_presence())
    }

    /// Whether `from` is absent or exactly our own bare JID.
    pub(super) fn is_own_bare(&self, from: Option<&str>) -> bool {
        match from.map(Jid::parse) {
            None => true,
            Some(Ok(j)) => j.is_bare() && j.bare() == &self.config.jid,
            Some(Err(_)) => false,
        }
    }

    fn handle_carbon(&mut self, direction: CarbonDirection, inner: &Element, now: Instant) {
        if self.muc_carbon(direction, inner) {
            return;
        }
        match direction {
            CarbonDirection::Received => self.handle_message(inner, true, now),
            CarbonDirection::Sent => {
                let Some(mut msg) = Message::parse(inner) else { return };
                if let (Some(to), Some(Ack::Displayed(id)), MessageType::Chat | MessageType::Normal) =
                    (&msg.to, Ack::of(inner), msg.kind)
                {
                    // Our other device showed their messages up to `id`.
                    self.events.push_back(Event::ReadElsewhere { with: to.bare().clone(), id });
                }
                if msg.to.is_some()
                    && !msg.bodies.is_empty()
                    && matches!(msg.kind, MessageType::Chat | MessageType::Normal)
                {
                    msg.stanza_id = sid::stanza_id_by(inner, &self.config.jid);
                    let own = self.config.jid.clone();
                    if !self.is_duplicate(&own, &msg) {
                        let archived = msg.stanza_id.clone();
                        self.events.push_back(Event::MessageSent(msg));
                        self.shown_live(archived, now);
                    }
                }
            }
        }
    }

    pub(super) fn server_jid(&self) -> BareJid {
        BareJid::new(None, self.config.jid.domain()).unwrap_or_else(|_| self.config.jid.clone())
    }

    fn handle_presence(&mut self, el: &Element) {
        let Some(p) = PresenceStanza::parse(el) else { return };
        let bare = p.from.bare().clone();
        if bare == self.config.jid {
            return; // our other resources; not shown as a contact
        }
        // Only contacts and those asking to subscribe have a presence worth keeping (and a subscription state
        // that `subscribed`/`unsubscribed` can change); anyone else could only fill memory.
        let known = self.roster.contains_key(&bare) || self.subscription_requests.contains(&bare);
        if !known && !matches!(p.kind, PresenceKind::Subscribe { .. }) {
            return;
        }
        let resource = p.from.resource().unwrap_or("").to_owned();
        match p.kind {
            PresenceKind::Available(a) => self.update_presence(bare, |c| c.update(&resource, Some(a))),
            PresenceKind::Unavailable { .. } if resource.is_empty() => self.update_presence(bare, |c| {
                let had = c.online_resources() > 0;
                c.clear();
                had
            }),
            PresenceKind::Unavailable { .. } => self.update_presence(bare, |c| c.update(&resource, None)),
            PresenceKind::Subscribe { status } => {
                // Pre-approved or already allowed: the server answers for us; only ask the person otherwise.
                let allowed = self.roster.get(&bare).is_some_and(|i| i.subscription.shares_our_presence());
                if allowed {
                    self.send(&presence::subscription("subscribed", &bare.to_string()));
                } else if self.subscription_requests.len() < super::MAX_SUBSCRIPTION_REQUESTS
                    && self.subscription_requests.insert(bare.clone())
                {
                    // Reported once per JID: a repeated request (or a flood of them) changes nothing.
                    self.events.push_back(Event::SubscriptionRequest { from: bare, status });
                }
            }
            // They withdrew their request (RFC 6121 §3.3): nothing left to answer.
            PresenceKind::Unsubscribe => {
                self.subscription_requests.remove(&bare);
            }
            PresenceKind::Subscribed => self.events.push_back(Event::SubscriptionApproved { from: bare }),
            PresenceKind::Unsubscribed => {
                self.update_presence(bare.clone(), |c| {
                    let had = c.online_resources() > 0;
                    c.clear();
                    had
                });
                self.events.push_back(Event::SubscriptionRevoked { from: bare });
            }
            PresenceKind::Error(error) => {
                self.update_presence(bare.clone(), |c| {
                    let had = c.online_resources() > 0;
                    c.clear();
                    had
                });
                self.events.push_back(Event::PresenceError { from: bare, error });
            }
            PresenceKind::Probe => {}
        }
    }

    fn update_presence(&mut self, jid: BareJid, f: impl FnOnce(&mut presence::ContactPresence) -> bool) {
        let entry = self.presences.entry(jid.clone()).or_default();
        if f(entry) {
            let best = entry.best().cloned();
            if best.is_none() {
                self.presences.remove(&jid);
            }
            self.events.push_back(Event::ContactPresence { jid, presence: best });
        }
    }

    pub(super) fn run_command(&mut self, command: Command, now: Instant) -> Result<(), CommandError> {
        match command {
            Command::SendMessage { to, body, id } => {
                if body.trim().is_empty() {
                    return Err(CommandError::EmptyMessage);
                }
                if id.is_empty() || id.len() > sid::MAX_ID {
                    return Err(CommandError::InvalidId);
                }
                let waiting = self.sm.pending_messages();
                if waiting >= MAX_UNACKED_MESSAGES {
                    return Err(CommandError::Backlog { waiting });
                }
                let mut msg = Message::chat(Jid::from(to), &body);
                // The caller's id is both the stanza id and the XEP-0359 origin-id (it survives resends).
                msg.id = Some(id.clone());
                msg.origin_id = Some(id);
                // XEP-0085 §5.1: a first message may carry `<active/>` to find out whether the contact uses them.
                msg.chat_state = Some(ChatState::Active);
                msg.receipt_request = true;
                msg.markable = true;
                let xml = msg.to_element().to_xml();
                if xml.len() > self.config.max_frame {
                    return Err(CommandError::TooLarge { size: xml.len(), max: self.config.max_frame });
                }
                let sent_unix_ms = self.config.clock.map(|c| c.unix_ms_at(now));
                let own = self.config.jid.clone();
                self.is_duplicate(&own, &msg); // our own echo (a carbon, an archive) is then known
                let pending = PendingMessage { message: msg.clone(), sent_unix_ms };
                msg.from = self.bound.clone();
                self.events.push_back(Event::MessageSent(msg));
                self.send_message(xml, pending);
            }
            Command::SendDisplayed { to, id } => {
                if self.may_see_our_presence(&to) && !id.is_empty() && id.len() <= sid::MAX_ID {
                    let reply_id = self.new_id();
                    self.send(&Ack::Displayed(id).to_message(&Jid::from(to), &reply_id));
                }
            }
            Command::SetActive(active) => self.set_active(active, now), // (handled before; kept total)
            Command::SendChatState { to, state } => {
                if self.chat_state_peers.contains(&to) {
                    self.send(&Message::chat_state(Jid::from(to), state).to_element());
                }
            }
            Command::SetPresence(a) => {
                self.send(&self.presence_element(&a));
                self.own_presence = a;
                self.muc_presence_changed();
            }
            Command::Room(c) => return self.room_command(c, now),
            Command::SetBookmark(b) => self.set_bookmark(b, now),
            Command::RemoveBookmark { room } => self.remove_bookmark(room, now),
            Command::AddContact { jid, name, groups } => self.add_contact(jid, name, groups, now),
            Command::UpdateContact { jid, name, groups } => {
                let mut item = self.roster.get(&jid).cloned().unwrap_or_else(|| RosterItem::new(jid.clone()));
                item.name = name.filter(|n| !n.trim().is_empty());
                item.groups = groups;
                self.roster_set(&item, RosterAction::Update(jid), now);
            }
            Command::RemoveContact { jid } => {
                let mut item = RosterItem::new(jid.clone());
                item.subscription = Subscription::Remove;
                self.roster_set(&item, RosterAction::Remove(jid), now);
            }
            Command::ApproveSubscription { jid } => {
                self.subscription_requests.remove(&jid);
                self.send(&presence::subscription("subscribed", &jid.to_string()));
                // Approving someone usually means wanting to see them too: ask back unless already done.
                let ours = self.roster.get(&jid);
                if !ours.is_some_and(|i| i.subscription.sees_their_presence() || i.pending_out) {
                    self.send(&presence::subscription("subscribe", &jid.to_string()));
                }
            }
            Command::DenySubscription { jid } => {
                self.forget_requester(&jid);
                self.send(&presence::subscription("unsubscribed", &jid.to_string()));
            }
            Command::Subscribe { jid } => self.send(&presence::subscription("subscribe", &jid.to_string())),
            Command::Unsubscribe { jid } => self.send(&presence::subscription("unsubscribe", &jid.to_string())),
            Command::LoadOlder { with, before } => {
                // A room we are in: its own archive (when it has one).
                let room = match self.muc.has_archive(&with) {
                    Some(true) => true,
                    Some(false) => return Err(CommandError::Archive(ArchiveError::Unsupported)),
                    None => false,
                };
                self.history.load_older(with, room, before).map_err(CommandError::Archive)?;
                self.send_archive_queries(now);
            }
            Command::FillGap { gap, from } => {
                self.history.fill_gap(gap, from).map_err(CommandError::Archive)?;
                self.send_archive_queries(now);
            }
            Command::Close => self.close(now),
        }
        Ok(())
    }

    /// Adds a contact, or, for one already in the roster, keeps its name and groups (a name or groups given
    /// here replace them) and sends a roster set only when something changes. The subscription request goes out
    /// unless we already see their presence or our request is still pending.
    fn add_contact(&mut self, jid: BareJid, name: Option<String>, groups: Vec<String>, now: Instant) {
        let name = name.filter(|n| !n.trim().is_empty());
        let existing = self.roster.get(&jid).cloned();
        let wanted = match &existing {
            Some(old) => {
                let mut item = old.clone();
                if name.is_some() {
                    item.name = name;
                }
                if !groups.is_empty() {
                    item.groups = groups;
                }
                (item.name != old.name || item.groups != old.groups).then_some(item)
            }
            None => {
                let mut item = RosterItem::new(jid.clone());
                item.name = name;
                item.groups = groups;
                Some(item)
            }
        };
        if let Some(item) = wanted {
            self.roster_set(&item, RosterAction::Add(jid.clone()), now);
        }
        if !existing.is_some_and(|i| i.subscription.sees_their_presence() || i.pending_out) {
            self.send(&presence::subscription("subscribe", &jid.to_string()));
        }
    }

    fn roster_set(&mut self, item: &RosterItem, action: RosterAction, now: Instant) {
        self.send_iq("set", None, roster::set_query(item), Pending::RosterSet(action), now);
    }
}
