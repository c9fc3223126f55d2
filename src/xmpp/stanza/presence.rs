//! Presence (RFC 6121 §4): availability with show/status/priority, and subscription management stanzas.
//!
//! Parsing turns a `<presence/>` into a [`PresenceStanza`]; [`ContactPresence`] aggregates one contact's
//! resources so the UI can show one dot per contact (highest priority wins, then the "most available" show).

use crate::xmpp::framing::CLIENT_NS;
use crate::xmpp::jid::Jid;
use crate::xmpp::stanza::error::StanzaError;
use crate::xmpp::xml::Element;

/// How available an online resource says it is (`<show/>`; absent means plain available).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Show {
    /// Free for chat.
    Chat,
    Available,
    Away,
    /// Extended away.
    Xa,
    /// Do not disturb.
    Dnd,
}

impl Show {
    fn parse(s: &str) -> Show {
        match s.trim() {
            "chat" => Show::Chat,
            "away" => Show::Away,
            "xa" => Show::Xa,
            "dnd" => Show::Dnd,
            // RFC 6121: an unknown show value is treated as plain available.
            _ => Show::Available,
        }
    }

    fn wire(self) -> Option<&'static str> {
        match self {
            Show::Available => None,
            Show::Chat => Some("chat"),
            Show::Away => Some("away"),
            Show::Xa => Some("xa"),
            Show::Dnd => Some("dnd"),
        }
    }

    /// Words for people and screen readers.
    pub fn label(self) -> &'static str {
        match self {
            Show::Chat => "free to chat",
            Show::Available => "available",
            Show::Away => "away",
            Show::Xa => "extended away",
            Show::Dnd => "do not disturb",
        }
    }

    /// Lower is more reachable; used to sort contacts and pick a contact's best resource.
    pub fn rank(self) -> u8 {
        match self {
            Show::Chat => 0,
            Show::Available => 1,
            Show::Away => 2,
            Show::Dnd => 3,
            Show::Xa => 4,
        }
    }
}

/// What one available resource announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub show: Show,
    pub status: Option<String>,
    pub priority: i8,
}

impl Default for Availability {
    fn default() -> Self {
        Availability { show: Show::Available, status: None, priority: 0 }
    }
}

/// The kinds of `<presence/>` (its `type` attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceKind {
    Available(Availability),
    Unavailable {
        status: Option<String>,
    },
    Subscribe {
        status: Option<String>,
    },
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Probe,
    /// `type='error'`: the server bounced something we sent to this address (a subscription request to a
    /// server that does not exist, say).
    Error(StanzaError),
}

/// A parsed incoming presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceStanza {
    pub from: Jid,
    pub kind: PresenceKind,
}

fn status_of(el: &Element) -> Option<String> {
    // Several <status xml:lang=…/> may appear; take the first non-empty one.
    el.children_named(CLIENT_NS, "status").map(|s| s.text()).find(|s| !s.trim().is_empty())
}

impl PresenceStanza {
    /// Parses a `<presence/>`. Returns `None` when there is no usable `from` (the caller treats that as from
    /// the server or ignores it as appropriate).
    pub fn parse(el: &Element) -> Option<PresenceStanza> {
        Some(PresenceStanza::parse_from(el, Jid::parse(el.attr("from")?).ok()?))
    }

    /// Parses a `<presence/>` whose `from` the caller has parsed already.
    pub fn parse_from(el: &Element, from: Jid) -> PresenceStanza {
        let kind = match el.attr("type") {
            None => {
                let show = el.get_child(CLIENT_NS, "show").map(|s| Show::parse(&s.text())).unwrap_or(Show::Available);
                let priority =
                    el.get_child(CLIENT_NS, "priority").and_then(|p| p.text().trim().parse::<i8>().ok()).unwrap_or(0);
                PresenceKind::Available(Availability { show, status: status_of(el), priority })
            }
            Some("unavailable") => PresenceKind::Unavailable { status: status_of(el) },
            Some("subscribe") => PresenceKind::Subscribe { status: status_of(el) },
            Some("subscribed") => PresenceKind::Subscribed,
            Some("unsubscribe") => PresenceKind::Unsubscribe,
            Some("unsubscribed") => PresenceKind::Unsubscribed,
            Some("probe") => PresenceKind::Probe,
            _ => PresenceKind::Error(StanzaError::from_stanza(el)),
        };
        PresenceStanza { from, kind }
    }
}

/// Our own broadcast presence (no `to`).
pub fn own_presence(availability: &Availability) -> Element {
    let mut p = Element::new(CLIENT_NS, "presence");
    if let Some(show) = availability.show.wire() {
        p.push_child(Element::new(CLIENT_NS, "show").with_text(show));
    }
    if let Some(status) = availability.status.as_deref().filter(|s| !s.is_empty()) {
        p.push_child(Element::new(CLIENT_NS, "status").with_text(status));
    }
    if availability.priority != 0 {
        p.push_child(Element::new(CLIENT_NS, "priority").with_text(availability.priority.to_string()));
    }
    p
}

/// `<presence type='unavailable'/>`, optionally with a status.
pub fn unavailable(status: Option<&str>) -> Element {
    let mut p = Element::new(CLIENT_NS, "presence").with_attr("type", "unavailable");
    if let Some(s) = status.filter(|s| !s.is_empty()) {
        p.push_child(Element::new(CLIENT_NS, "status").with_text(s));
    }
    p
}

/// A directed subscription-management presence: `subscribe`, `subscribed`, `unsubscribe`, `unsubscribed`.
pub fn subscription(kind: &str, to: &str) -> Element {
    Element::new(CLIENT_NS, "presence").with_attr("to", to).with_attr("type", kind)
}

/// Online resources kept per contact. People have a handful; a contact (or its server) announcing more is
/// either broken or hostile, and the ones past this are not tracked (see [`ContactPresence::update`]).
pub const MAX_RESOURCES: usize = 32;

/// One contact's online resources, aggregated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPresence {
    /// (resource, availability), in arrival order, at most [`MAX_RESOURCES`]. Every update also picks the
    /// best resource, a pass over all of them, so it is the cap that keeps an update cheap; a map would cost
    /// wasm size and speed up only the lookup.
    resources: Vec<(String, Availability)>,
}

impl ContactPresence {
    /// Records a resource's availability (`None` = it went offline). Returns whether anything changed.
    /// A new resource past [`MAX_RESOURCES`] is ignored (nothing changes) until others go offline.
    pub fn update(&mut self, resource: &str, availability: Option<Availability>) -> bool {
        let known = self.resources.iter().position(|(r, _)| r == resource);
        match (availability, known) {
            (Some(a), Some(i)) => std::mem::replace(&mut self.resources[i].1, a.clone()) != a,
            (Some(_), None) if self.resources.len() >= MAX_RESOURCES => false,
            (Some(a), None) => {
                self.resources.push((resource.to_owned(), a));
                true
            }
            (None, Some(i)) => {
                self.resources.swap_remove(i);
                true
            }
            (None, None) => false,
        }
    }

    /// The resource to show: highest priority, then most reachable show, then name for stability.
    /// Negative-priority resources count as online too (they just never receive bare-JID messages).
    pub fn best(&self) -> Option<&Availability> {
        self.resources
            .iter()
            .min_by(|(ra, a), (rb, b)| {
                b.priority.cmp(&a.priority).then(a.show.rank().cmp(&b.show.rank())).then(ra.cmp(rb))
            })
            .map(|(_, a)| a)
    }

    pub fn online_resources(&self) -> usize {
        self.resources.len()
    }

    pub fn clear(&mut self) {
        self.resources.clear();
    }
}
