//! The roster (RFC 6121 §2): items, the `jabber:iq:roster` query both ways, and versioning.

use crate::xmpp::jid::BareJid;
use crate::xmpp::xml::Element;

pub const ROSTER_NS: &str = "jabber:iq:roster";
/// Stream feature announcing roster versioning (RFC 6121 §2.6).
pub const ROSTER_VER_NS: &str = "urn:xmpp:features:rosterver";

/// The subscription state of a roster item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subscription {
    None,
    /// We see their presence.
    To,
    /// They see ours.
    From,
    Both,
    /// Only in pushes and sets: the item is gone.
    Remove,
}

impl Subscription {
    fn parse(s: Option<&str>) -> Subscription {
        match s {
            Some("to") => Subscription::To,
            Some("from") => Subscription::From,
            Some("both") => Subscription::Both,
            Some("remove") => Subscription::Remove,
            _ => Subscription::None,
        }
    }

    fn wire(self) -> &'static str {
        match self {
            Subscription::None => "none",
            Subscription::To => "to",
            Subscription::From => "from",
            Subscription::Both => "both",
            Subscription::Remove => "remove",
        }
    }

    /// Whether we receive this contact's presence.
    pub fn sees_their_presence(self) -> bool {
        matches!(self, Subscription::To | Subscription::Both)
    }

    /// Whether they receive ours.
    pub fn shares_our_presence(self) -> bool {
        matches!(self, Subscription::From | Subscription::Both)
    }
}

/// One roster entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterItem {
    pub jid: BareJid,
    pub name: Option<String>,
    pub subscription: Subscription,
    /// `ask='subscribe'`: our subscription request is pending.
    pub pending_out: bool,
    /// `approved='true'`: we pre-approved their request.
    pub approved: bool,
    pub groups: Vec<String>,
}

impl RosterItem {
    pub fn new(jid: BareJid) -> RosterItem {
        RosterItem {
            jid,
            name: None,
            subscription: Subscription::None,
            pending_out: false,
            approved: false,
            groups: Vec::new(),
        }
    }

    /// Parses an `<item/>`; items with an invalid JID are skipped by the caller (returns `None`).
    pub fn parse(el: &Element) -> Option<RosterItem> {
        let jid = BareJid::parse(el.attr("jid")?).ok()?;
        let mut groups: Vec<String> = el
            .children_named(ROSTER_NS, "group")
            .map(|g| g.text().trim().to_owned())
            .filter(|g| !g.is_empty())
            .collect();
        groups.sort_unstable();
        groups.dedup();
        Some(RosterItem {
            jid,
            name: el.attr("name").map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned),
            subscription: Subscription::parse(el.attr("subscription")),
            pending_out: el.attr("ask") == Some("subscribe"),
            approved: matches!(el.attr("approved"), Some("true") | Some("1")),
            groups,
        })
    }

    /// The `<item/>` for a roster set: jid, name and groups only (the server owns subscription state),
    /// except `subscription='remove'` which asks for removal.
    pub fn to_set_element(&self) -> Element {
        let mut item = Element::new(ROSTER_NS, "item").with_attr("jid", self.jid.to_string());
        if self.subscription == Subscription::Remove {
            item.set_attr("subscription", Subscription::Remove.wire());
            return item;
        }
        if let Some(name) = &self.name {
            item.set_attr("name", name);
        }
        for g in &self.groups {
            item.push_child(Element::new(ROSTER_NS, "group").with_text(g));
        }
        item
    }

    /// Serializes every attribute (used by tests and the benchmark's synthetic rosters).
    pub fn to_full_element(&self) -> Element {
        let mut item = self.to_set_element();
        if self.subscription != Subscription::Remove {
            item.set_attr("subscription", self.subscription.wire());
        }
        if self.pending_out {
            item.set_attr("ask", "subscribe");
        }
        if self.approved {
            item.set_attr("approved", "true");
        }
        item
    }
}

/// A parsed `<query xmlns='jabber:iq:roster'/>`: a full result or a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterQuery {
    pub ver: Option<String>,
    pub items: Vec<RosterItem>,
}

impl RosterQuery {
    pub fn parse(query: &Element) -> RosterQuery {
        RosterQuery {
            ver: query.attr("ver").map(str::to_owned),
            items: query.children_named(ROSTER_NS, "item").filter_map(RosterItem::parse).collect(),
        }
    }
}

/// The roster get payload; `ver` is sent when the server supports versioning.
pub fn get_query(ver: Option<&str>) -> Element {
    let mut q = Element::new(ROSTER_NS, "query");
    if let Some(v) = ver {
        q.set_attr("ver", v);
    }
    q
}

/// The roster set payload for one item.
pub fn set_query(item: &RosterItem) -> Element {
    Element::new(ROSTER_NS, "query").with_child(item.to_set_element())
}
