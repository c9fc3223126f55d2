//! Delivery receipts (XEP-0184) and chat markers (XEP-0333): the elements on the wire, parsed and built.
//!
//! What this module does NOT do: decide whom to answer (that is the session's rule, in `client/online.rs`:
//! receipts and markers go only to contacts who may see our presence) or track message states (the UI does,
//! from the core's `Receipt` / `Displayed` events).

use crate::xmpp::framing::CLIENT_NS;
use crate::xmpp::jid::Jid;
use crate::xmpp::stanza::message::HINTS_NS;
use crate::xmpp::xml::Element;

/// XEP-0184 Message Delivery Receipts.
pub const RECEIPTS_NS: &str = "urn:xmpp:receipts";
/// XEP-0333 Chat Markers.
pub const MARKERS_NS: &str = "urn:xmpp:chat-markers:0";

/// Longest message id accepted in a receipt or marker (anything longer is not an id we sent).
const MAX_ID: usize = 256;

/// What a message tells about another message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// XEP-0184 `<received id=…/>`: the peer's client got the message.
    Received(String),
    /// XEP-0333 `<displayed id=…/>`: the peer has seen the message (and everything before it).
    Displayed(String),
}

impl Ack {
    /// The receipt or `displayed` marker a message carries, if any (markers other than `displayed` are ignored).
    pub fn of(el: &Element) -> Option<Ack> {
        let id = |c: &Element| c.attr("id").filter(|id| !id.is_empty() && id.len() <= MAX_ID).map(str::to_owned);
        if let Some(r) = el.get_child(RECEIPTS_NS, "received") {
            return id(r).map(Ack::Received);
        }
        el.get_child(MARKERS_NS, "displayed").and_then(id).map(Ack::Displayed)
    }

    /// A message carrying this receipt or marker to `to`, with its own stanza `id`. A `displayed` marker asks
    /// to be archived (XEP-0334 `<store/>`, as Conversations does): ejabberd keeps no bodyless message
    /// otherwise, and our other devices learn from the archive what was read here.
    pub fn to_message(&self, to: &Jid, id: &str) -> Element {
        let (ns, name, of) = match self {
            Ack::Received(of) => (RECEIPTS_NS, "received", of),
            Ack::Displayed(of) => (MARKERS_NS, "displayed", of),
        };
        let message = Element::new(CLIENT_NS, "message")
            .with_attr("type", "chat")
            .with_attr("id", id)
            .with_attr("to", to.to_string())
            .with_child(Element::new(ns, name).with_attr("id", of.as_str()));
        match self {
            Ack::Displayed(_) => message.with_child(Element::new(HINTS_NS, "store")),
            Ack::Received(_) => message,
        }
    }
}

/// Whether the sender asks for a receipt (XEP-0184 `<request/>`).
pub fn requests_receipt(el: &Element) -> bool {
    el.get_child(RECEIPTS_NS, "request").is_some()
}

/// Whether the sender wants chat markers for this message (XEP-0333 `<markable/>`).
pub fn is_markable(el: &Element) -> bool {
    el.get_child(MARKERS_NS, "markable").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples_parse() {
        // XEP-0184 example 2 and XEP-0333 example 4.
        let receipt = Element::parse("<message xmlns='jabber:client' from='kingrichard@royalty.england.lit/throne' id='bi29sg183b4v' to='northumberland@shakespeare.lit/westminster'><received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>").unwrap();
        assert_eq!(Ack::of(&receipt), Some(Ack::Received("richard2-4.1.247".into())));
        let marker = Element::parse("<message xmlns='jabber:client' from='kingrichard@royalty.england.lit/throne' to='northumberland@shakespeare.lit/westminster' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='message-1'/></message>").unwrap();
        assert_eq!(Ack::of(&marker), Some(Ack::Displayed("message-1".into())));
        let request = Element::parse("<message xmlns='jabber:client' to='a@b' id='x'><body>hi</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>").unwrap();
        assert!(requests_receipt(&request) && is_markable(&request));
        assert_eq!(Ack::of(&request), None);
    }

    #[test]
    fn empty_or_huge_ids_are_no_ack() {
        let empty =
            Element::parse("<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id=''/></message>")
                .unwrap();
        assert_eq!(Ack::of(&empty), None);
        let huge = format!(
            "<message xmlns='jabber:client'><displayed xmlns='urn:xmpp:chat-markers:0' id='{}'/></message>",
            "x".repeat(300)
        );
        assert_eq!(Ack::of(&Element::parse(&huge).unwrap()), None);
    }

    #[test]
    fn built_acks_round_trip() {
        let to = Jid::parse("bob@example.com/phone").unwrap();
        let el = Ack::Received("m1".into()).to_message(&to, "r1");
        assert_eq!(el.attr("to"), Some("bob@example.com/phone"));
        assert_eq!(Ack::of(&Element::parse(&el.to_xml()).unwrap()), Some(Ack::Received("m1".into())));
        let el = Ack::Displayed("m2".into()).to_message(&to, "r2");
        assert_eq!(Ack::of(&el), Some(Ack::Displayed("m2".into())));
    }
}
