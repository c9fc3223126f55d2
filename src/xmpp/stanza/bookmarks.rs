//! Bookmarks of rooms (XEP-0402), kept in the account's PEP node `urn:xmpp:bookmarks:1` (XEP-0060/0163).
//!
//! One PEP item per room, its id the room's JID, holding `<conference name autojoin><nick/><password/>
//! <extensions/></conference>`. Built here: the fetch, the publish with the publish-options XEP-0402 asks
//! for (items persist, as many as needed, never re-sent on presence, visible only to ourselves), the same
//! settings as a node configuration (for servers that refuse them as publish-options), the retraction. Parsed: a fetch result and a notification (items published or retracted, or the node purged).
//! Bounded: at most [`MAX_BOOKMARKS`] per fetch or notification, texts cut at [`MAX_TEXT`](super::muc::MAX_TEXT)
//! bytes, `<extensions/>` kept (and written back unchanged, as XEP-0402 asks) only up to [`MAX_EXTENSIONS`]
//! bytes.
//!
//! What this module does NOT do: check who sent a notification (only our own account may: the session's
//! rule), or decide to join a room.

use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::dataform::DataForm;
use crate::xmpp::stanza::muc::{MAX_TEXT, cut};
use crate::xmpp::xml::Element;

pub const BOOKMARKS_NS: &str = "urn:xmpp:bookmarks:1";
/// Added to our caps features to get notifications of the node (XEP-0163 §4).
pub const BOOKMARKS_NOTIFY: &str = "urn:xmpp:bookmarks:1+notify";
pub const PUBSUB_NS: &str = "http://jabber.org/protocol/pubsub";
pub const PUBSUB_EVENT_NS: &str = "http://jabber.org/protocol/pubsub#event";
pub const PUBSUB_OWNER_NS: &str = "http://jabber.org/protocol/pubsub#owner";
const PUBLISH_OPTIONS: &str = "http://jabber.org/protocol/pubsub#publish-options";
const NODE_CONFIG: &str = "http://jabber.org/protocol/pubsub#node_config";

/// Bookmarks kept from one fetch or notification.
pub const MAX_BOOKMARKS: usize = 1_000;
/// Largest `<extensions/>` kept, as serialized.
pub const MAX_EXTENSIONS: usize = 4 * 1024;

/// A bookmarked room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    pub room: BareJid,
    pub name: Option<String>,
    /// Join it at login (and when another device adds it).
    pub autojoin: bool,
    pub nick: Option<String>,
    pub password: Option<String>,
    /// Other clients' data, written back unchanged.
    pub extensions: Option<Element>,
}

impl Bookmark {
    pub fn new(room: BareJid) -> Bookmark {
        Bookmark { room, name: None, autojoin: false, nick: None, password: None, extensions: None }
    }

    /// Parses a PEP `<item id=room><conference/></item>`; `None` when the id is not a room JID.
    pub fn parse_item(item: &Element) -> Option<Bookmark> {
        let room = BareJid::parse(item.attr("id")?).ok().filter(|r| r.local().is_some())?;
        let c = item.get_child(BOOKMARKS_NS, "conference")?;
        let text = |name| c.get_child(BOOKMARKS_NS, name).map(|e| cut(e.text(), MAX_TEXT)).filter(|t| !t.is_empty());
        Some(Bookmark {
            room,
            name: c.attr("name").map(|n| cut(n.to_owned(), MAX_TEXT)).filter(|n| !n.is_empty()),
            autojoin: matches!(c.attr("autojoin"), Some("true" | "1")),
            nick: text("nick"),
            password: text("password"),
            extensions: c.get_child(BOOKMARKS_NS, "extensions").filter(|e| e.to_xml().len() <= MAX_EXTENSIONS).cloned(),
        })
    }

    /// `<item id=room><conference/></item>`.
    pub fn to_item(&self) -> Element {
        let mut c = Element::new(BOOKMARKS_NS, "conference");
        if let Some(n) = &self.name {
            c.set_attr("name", n);
        }
        if self.autojoin {
            c.set_attr("autojoin", "true");
        }
        if let Some(n) = &self.nick {
            c.push_child(Element::new(BOOKMARKS_NS, "nick").with_text(n));
        }
        if let Some(p) = &self.password {
            c.push_child(Element::new(BOOKMARKS_NS, "password").with_text(p));
        }
        if let Some(e) = &self.extensions {
            c.push_child(e.clone());
        }
        Element::new(PUBSUB_NS, "item").with_attr("id", self.room.to_string()).with_child(c)
    }
}

/// `<pubsub><items node='urn:xmpp:bookmarks:1'/></pubsub>` (an iq get to our own account).
pub fn fetch() -> Element {
    Element::new(PUBSUB_NS, "pubsub").with_child(Element::new(PUBSUB_NS, "items").with_attr("node", BOOKMARKS_NS))
}

/// The bookmarks of a fetch result (the iq's `<pubsub/>`).
pub fn parse_fetch(iq: &Element) -> Vec<Bookmark> {
    let Some(items) = iq.get_child(PUBSUB_NS, "pubsub").and_then(|p| p.get_child(PUBSUB_NS, "items")) else {
        return Vec::new();
    };
    items.children_named(PUBSUB_NS, "item").filter_map(Bookmark::parse_item).take(MAX_BOOKMARKS).collect()
}

/// Publishes `bookmark`. `all_options`: the four publish-options of XEP-0402 §3.1; without, only the two
/// that matter most (persistent items, whitelist access) for servers that refuse the others (ejabberd
/// 23.01 answers "Unknown field" to `pubsub#max_items` and `pubsub#send_last_published_item`).
pub fn publish(bookmark: &Bookmark, all_options: bool) -> Element {
    let mut options = DataForm::submit_of(PUBLISH_OPTIONS);
    let mut add = |var: &str, value: &str| {
        options.fields.push(crate::xmpp::stanza::dataform::Field::new(var, vec![value.to_owned()]));
    };
    add("pubsub#persist_items", "true");
    if all_options {
        add("pubsub#max_items", "max");
        add("pubsub#send_last_published_item", "never");
    }
    add("pubsub#access_model", "whitelist");
    Element::new(PUBSUB_NS, "pubsub")
        .with_child(Element::new(PUBSUB_NS, "publish").with_attr("node", BOOKMARKS_NS).with_child(bookmark.to_item()))
        .with_child(Element::new(PUBSUB_NS, "publish-options").with_child(options.to_element()))
}

/// Configures our bookmarks node (XEP-0060 §8.2) as XEP-0402 wants it: `max_items` items, persistent,
/// whitelist, never re-sent on presence, removals notified. For servers that refuse these as publish-options.
pub fn configure_node(max_items: usize) -> Element {
    let mut form = DataForm::submit_of(NODE_CONFIG);
    for (var, value) in [
        ("pubsub#persist_items", "true".to_owned()),
        ("pubsub#max_items", max_items.to_string()),
        ("pubsub#send_last_published_item", "never".to_owned()),
        ("pubsub#access_model", "whitelist".to_owned()),
        // Our other devices hear of removals (ejabberd 23.01's PEP nodes do not say unless told to).
        ("pubsub#notify_retract", "true".to_owned()),
    ] {
        form.fields.push(crate::xmpp::stanza::dataform::Field::new(var, vec![value]));
    }
    Element::new(PUBSUB_OWNER_NS, "pubsub").with_child(
        Element::new(PUBSUB_OWNER_NS, "configure").with_attr("node", BOOKMARKS_NS).with_child(form.to_element()),
    )
}

/// Removes the bookmark of `room` (and notifies our other devices).
pub fn retract(room: &BareJid) -> Element {
    Element::new(PUBSUB_NS, "pubsub").with_child(
        Element::new(PUBSUB_NS, "retract")
            .with_attr("node", BOOKMARKS_NS)
            .with_attr("notify", "true")
            .with_child(Element::new(PUBSUB_NS, "item").with_attr("id", room.to_string())),
    )
}

/// What a bookmarks notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// Added or changed.
    Published(Vec<Bookmark>),
    Retracted(Vec<BareJid>),
    /// Every bookmark is gone.
    Purged,
}

/// The bookmarks notification a message carries (`<event xmlns='…pubsub#event'>` about our node), if any.
/// Whether it may be trusted is the caller's check.
pub fn notification(message: &Element) -> Option<Notification> {
    let event = message.get_child(PUBSUB_EVENT_NS, "event")?;
    if event.get_child(PUBSUB_EVENT_NS, "purge").is_some_and(|p| p.attr("node") == Some(BOOKMARKS_NS)) {
        return Some(Notification::Purged);
    }
    let items = event.get_child(PUBSUB_EVENT_NS, "items").filter(|i| i.attr("node") == Some(BOOKMARKS_NS))?;
    let retracted: Vec<BareJid> = items
        .children_named(PUBSUB_EVENT_NS, "retract")
        .filter_map(|r| BareJid::parse(r.attr("id")?).ok())
        .take(MAX_BOOKMARKS)
        .collect();
    if !retracted.is_empty() {
        return Some(Notification::Retracted(retracted));
    }
    // Items of a notification are in the pubsub#event namespace; their payload in the bookmarks one.
    let published =
        items.children_named(PUBSUB_EVENT_NS, "item").filter_map(Bookmark::parse_item).take(MAX_BOOKMARKS).collect();
    Some(Notification::Published(published))
}

/// Whether a message is a PEP notification at all (of any node): not a chat message, whoever sent it.
pub fn is_pubsub_event(message: &Element) -> bool {
    message.get_child(PUBSUB_EVENT_NS, "event").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_fetch_result_and_round_trip() {
        // XEP-0402 example 4 (the result of a fetch), with an extension another client keeps.
        let iq = Element::parse("<iq xmlns='jabber:client' type='result' to='juliet@capulet.lit/balcony' id='retrieve1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'><item id='theplay@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick><extensions><state xmlns='http://myclient.example/bookmark/state' minimized='true'/></extensions></conference></item><item id='orchard@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Orchard' autojoin='1'><nick>JC</nick></conference></item><item id='not a room'><conference xmlns='urn:xmpp:bookmarks:1'/></item></items></pubsub></iq>").unwrap();
        let bookmarks = parse_fetch(&iq);
        assert_eq!(bookmarks.len(), 2);
        let b = &bookmarks[0];
        assert_eq!(b.room.to_string(), "theplay@conference.shakespeare.lit");
        assert_eq!(
            (b.name.as_deref(), b.autojoin, b.nick.as_deref()),
            (Some("The Play's the Thing"), true, Some("JC"))
        );
        assert!(b.extensions.is_some());
        assert!(bookmarks[1].autojoin, "autojoin='1' counts");
        let item = Element::parse(&b.to_item().to_xml()).unwrap();
        assert_eq!(Bookmark::parse_item(&item).as_ref(), Some(b), "extensions written back unchanged");
    }

    #[test]
    fn publish_carries_the_options_of_the_spec() {
        let b = Bookmark::new(BareJid::parse("theplay@conference.shakespeare.lit").unwrap());
        let p = publish(&b, true);
        let form = DataForm::parse(
            p.get_child(PUBSUB_NS, "publish-options").unwrap().get_child("jabber:x:data", "x").unwrap(),
        )
        .unwrap();
        assert_eq!(form.value("pubsub#persist_items"), Some("true"));
        assert_eq!(form.value("pubsub#max_items"), Some("max"));
        assert_eq!(form.value("pubsub#send_last_published_item"), Some("never"));
        assert_eq!(form.value("pubsub#access_model"), Some("whitelist"));
        let fewer = publish(&b, false);
        let form = DataForm::find_in(fewer.get_child(PUBSUB_NS, "publish-options").unwrap()).unwrap();
        assert!(form.value("pubsub#max_items").is_none() && form.value("pubsub#access_model").is_some());
    }

    #[test]
    fn spec_notifications() {
        // XEP-0402 examples 9 (published) and 12 (retracted).
        let published = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit' to='juliet@capulet.lit/balcony' type='headline' id='new-room1'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'><item id='theplay@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick></conference></item></items></event></message>").unwrap();
        let Some(Notification::Published(b)) = notification(&published) else { panic!() };
        assert_eq!(b[0].nick.as_deref(), Some("JC"));
        let retracted = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit' to='juliet@capulet.lit/balcony' type='headline' id='removed-room1'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'><retract id='theplay@conference.shakespeare.lit'/></items></event></message>").unwrap();
        assert_eq!(
            notification(&retracted),
            Some(Notification::Retracted(vec![BareJid::parse("theplay@conference.shakespeare.lit").unwrap()]))
        );
        let other = Element::parse("<message xmlns='jabber:client'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'/></event></message>").unwrap();
        assert_eq!(notification(&other), None);
        assert!(is_pubsub_event(&other));
    }
}
