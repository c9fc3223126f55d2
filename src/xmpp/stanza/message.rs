//! Messages (RFC 6121 §5): types, bodies with `xml:lang`, threads, `/me` (XEP-0245), delayed delivery
//! stamps (XEP-0203), chat states (XEP-0085), ids (XEP-0359) and receipt/marker requests (XEP-0184, XEP-0333)
//! are parsed; outgoing chat messages are built here.

use crate::xmpp::framing::CLIENT_NS;
use crate::xmpp::jid::Jid;
use crate::xmpp::stanza::error::StanzaError;
use crate::xmpp::stanza::{receipts, sid};
use crate::xmpp::xml::Element;

pub const DELAY_NS: &str = "urn:xmpp:delay";
/// XEP-0280 Message Carbons.
pub const CARBONS_NS: &str = "urn:xmpp:carbons:2";
/// XEP-0297 Stanza Forwarding (the wrapper inside a carbon).
pub const FORWARD_NS: &str = "urn:xmpp:forward:0";

/// XEP-0085 Chat State Notifications.
pub const CHATSTATES_NS: &str = "http://jabber.org/protocol/chatstates";
/// XEP-0334 Message Processing Hints (`<no-store/>` on standalone chat states).
pub const HINTS_NS: &str = "urn:xmpp:hints";

/// Where someone is in a conversation (XEP-0085): reading it, typing, stopped typing, away from it, gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatState {
    Active,
    Composing,
    Paused,
    Inactive,
    Gone,
}

impl ChatState {
    const ALL: [ChatState; 5] =
        [ChatState::Active, ChatState::Composing, ChatState::Paused, ChatState::Inactive, ChatState::Gone];

    pub fn wire(self) -> &'static str {
        match self {
            ChatState::Active => "active",
            ChatState::Composing => "composing",
            ChatState::Paused => "paused",
            ChatState::Inactive => "inactive",
            ChatState::Gone => "gone",
        }
    }

    /// The chat state a message carries, if any (the first one, should a sender put several).
    fn of(el: &Element) -> Option<ChatState> {
        el.elements().filter(|c| c.ns == CHATSTATES_NS).find_map(|c| Self::ALL.into_iter().find(|s| s.wire() == c.name))
    }
}

/// Which way a carbon-copied message went (XEP-0280).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarbonDirection {
    /// Another of our resources received it.
    Received,
    /// Another of our resources sent it.
    Sent,
}

/// If `el` is a carbon copy, its direction and the forwarded `<message/>` inside. Whether the carbon may be
/// trusted (it must come from our own bare JID) is the caller's check.
pub fn carbon(el: &Element) -> Option<(CarbonDirection, &Element)> {
    let (direction, wrapper) = match (el.get_child(CARBONS_NS, "received"), el.get_child(CARBONS_NS, "sent")) {
        (Some(w), None) => (CarbonDirection::Received, w),
        (None, Some(w)) => (CarbonDirection::Sent, w),
        _ => return None,
    };
    let inner = wrapper.get_child(FORWARD_NS, "forwarded")?.get_child(CLIENT_NS, "message")?;
    Some((direction, inner))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Chat,
    Normal,
    Headline,
    Groupchat,
    Error,
}

impl MessageType {
    fn parse(s: Option<&str>) -> MessageType {
        match s {
            Some("chat") => MessageType::Chat,
            Some("headline") => MessageType::Headline,
            Some("groupchat") => MessageType::Groupchat,
            Some("error") => MessageType::Error,
            // RFC 6121 §5.2.2: absent or unknown means normal.
            _ => MessageType::Normal,
        }
    }

    fn wire(self) -> &'static str {
        match self {
            MessageType::Chat => "chat",
            MessageType::Normal => "normal",
            MessageType::Headline => "headline",
            MessageType::Groupchat => "groupchat",
            MessageType::Error => "error",
        }
    }
}

/// A message, incoming or outgoing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Option<String>,
    pub from: Option<Jid>,
    pub to: Option<Jid>,
    pub kind: MessageType,
    /// Every `<body/>` with its `xml:lang` (None = the stream's default language).
    pub bodies: Vec<(Option<String>, String)>,
    pub subject: Option<String>,
    pub thread: Option<String>,
    /// XEP-0203 `<delay stamp=…/>`: when it was originally sent (ISO 8601, as received).
    pub delay: Option<String>,
    /// For `type='error'`: what went wrong.
    pub error: Option<StanzaError>,
    /// XEP-0085: the sender's chat state, sent with a body or alone.
    pub chat_state: Option<ChatState>,
    /// XEP-0359 `<origin-id/>`: the sender's own id for the message (ours equals the stanza `id`).
    pub origin_id: Option<String>,
    /// XEP-0359 `<stanza-id/>` stamped by our own account's server (never set by [`Message::parse`]: only the
    /// session knows whose stamp to trust; a `stanza-id` by anyone else is ignored). Not serialized.
    pub stanza_id: Option<String>,
    /// XEP-0184: a delivery receipt is requested (sent with ours; on incoming ones the session decides).
    pub receipt_request: bool,
    /// XEP-0333 `<markable/>`: the sender wants chat markers (sent with ours).
    pub markable: bool,
}

impl Message {
    /// A chat message with one body.
    pub fn chat(to: Jid, body: &str) -> Message {
        Message {
            id: None,
            from: None,
            to: Some(to),
            kind: MessageType::Chat,
            bodies: vec![(None, body.to_owned())],
            subject: None,
            thread: None,
            delay: None,
            error: None,
            chat_state: None,
            origin_id: None,
            stanza_id: None,
            receipt_request: false,
            markable: false,
        }
    }

    /// A chat state on its own (XEP-0085 §5.5), marked not to be stored in archives or offline queues.
    pub fn chat_state(to: Jid, state: ChatState) -> Message {
        Message { bodies: Vec::new(), chat_state: Some(state), ..Message::chat(to, "") }
    }

    /// Parses a `<message/>` stanza. A `from` that is not a valid JID makes the message unusable (`None`).
    pub fn parse(el: &Element) -> Option<Message> {
        let from = match el.attr("from") {
            Some(f) => Some(Jid::parse(f).ok()?),
            None => None,
        };
        let to = el.attr("to").and_then(|t| Jid::parse(t).ok());
        let kind = MessageType::parse(el.attr("type"));
        let bodies =
            el.children_named(CLIENT_NS, "body").map(|b| (b.attr("xml:lang").map(str::to_owned), b.text())).collect();
        Some(Message {
            id: el.attr("id").map(str::to_owned),
            from,
            to,
            kind,
            bodies,
            subject: el.get_child(CLIENT_NS, "subject").map(Element::text),
            thread: el.get_child(CLIENT_NS, "thread").map(Element::text),
            delay: el.get_child(DELAY_NS, "delay").and_then(|d| d.attr("stamp")).map(str::to_owned),
            error: (kind == MessageType::Error).then(|| StanzaError::from_stanza(el)),
            chat_state: ChatState::of(el),
            origin_id: sid::origin_id(el),
            stanza_id: None,
            receipt_request: receipts::requests_receipt(el),
            markable: receipts::is_markable(el),
        })
    }

    /// The body to show for a reader preferring `lang`: that language, else the default, else the first.
    pub fn body(&self, lang: Option<&str>) -> Option<&str> {
        let pick = |want: Option<&str>| self.bodies.iter().find(|(l, _)| l.as_deref() == want);
        lang.and_then(|l| pick(Some(l))).or_else(|| pick(None)).or_else(|| self.bodies.first()).map(|(_, b)| b.as_str())
    }

    /// XEP-0245: a body starting with `/me ` is an action ("* alice waves").
    pub fn me_action(&self) -> Option<&str> {
        self.body(None).and_then(|b| b.strip_prefix("/me "))
    }

    pub fn to_element(&self) -> Element {
        let mut m = Element::new(CLIENT_NS, "message").with_attr("type", self.kind.wire());
        if let Some(id) = &self.id {
            m.set_attr("id", id);
        }
        if let Some(to) = &self.to {
            m.set_attr("to", to.to_string());
        }
        if let Some(from) = &self.from {
            m.set_attr("from", from.to_string());
        }
        if let Some(subject) = &self.subject {
            m.push_child(Element::new(CLIENT_NS, "subject").with_text(subject));
        }
        for (lang, body) in &self.bodies {
            let mut b = Element::new(CLIENT_NS, "body").with_text(body);
            if let Some(l) = lang {
                b.set_attr("xml:lang", l);
            }
            m.push_child(b);
        }
        if let Some(thread) = &self.thread {
            m.push_child(Element::new(CLIENT_NS, "thread").with_text(thread));
        }
        if let Some(state) = self.chat_state {
            m.push_child(Element::new(CHATSTATES_NS, state.wire()));
            if self.bodies.is_empty() {
                m.push_child(Element::new(HINTS_NS, "no-store"));
            }
        }
        if let Some(id) = &self.origin_id {
            m.push_child(sid::origin_id_element(id));
        }
        if self.receipt_request {
            m.push_child(Element::new(receipts::RECEIPTS_NS, "request"));
        }
        if self.markable {
            m.push_child(Element::new(receipts::MARKERS_NS, "markable"));
        }
        if let Some(stamp) = &self.delay {
            m.push_child(Element::new(DELAY_NS, "delay").with_attr("stamp", stamp));
        }
        m
    }
}

/// XEP-0245: a body as shown — the action's text and `true` for `/me …`, else the body and `false`.
pub fn split_me(body: &str) -> (String, bool) {
    match body.strip_prefix("/me ") {
        Some(action) => (action.to_owned(), true),
        None => (body.to_owned(), false),
    }
}
