//! Stanza errors (RFC 6120 §8.3): `<error type=…><condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>`.

use crate::xmpp::xml::Element;

pub const STANZAS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// The `type` attribute of an `<error/>`: what the sender may do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Auth,
    Cancel,
    Continue,
    Modify,
    Wait,
}

/// A stanza-level error, parsed or to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaError {
    pub kind: ErrorType,
    /// The defined condition's element name, e.g. `service-unavailable`, `item-not-found`.
    pub condition: String,
    pub text: Option<String>,
}

impl StanzaError {
    pub fn new(kind: ErrorType, condition: &str) -> StanzaError {
        StanzaError { kind, condition: condition.to_owned(), text: None }
    }

    /// Parses the `<error/>` child of a stanza (in `ns`, the stanza's namespace). A missing or garbled error
    /// element still yields an error (`undefined-condition`) so it is never silently lost.
    pub fn from_stanza(stanza: &Element) -> StanzaError {
        let Some(err) = stanza.get_child(&stanza.ns, "error") else {
            return StanzaError::new(ErrorType::Cancel, "undefined-condition");
        };
        let kind = match err.attr("type") {
            Some("auth") => ErrorType::Auth,
            Some("continue") => ErrorType::Continue,
            Some("modify") => ErrorType::Modify,
            Some("wait") => ErrorType::Wait,
            _ => ErrorType::Cancel,
        };
        let mut condition = "undefined-condition".to_owned();
        let mut text = None;
        for child in err.elements().filter(|c| c.ns == STANZAS_NS) {
            if child.name == "text" {
                text = Some(child.text());
            } else {
                condition = child.name.clone();
            }
        }
        StanzaError { kind, condition, text }
    }

    /// The `<error/>` element to put inside a reply stanza in namespace `ns`.
    pub fn to_element(&self, ns: &str) -> Element {
        let kind = match self.kind {
            ErrorType::Auth => "auth",
            ErrorType::Cancel => "cancel",
            ErrorType::Continue => "continue",
            ErrorType::Modify => "modify",
            ErrorType::Wait => "wait",
        };
        let mut e =
            Element::new(ns, "error").with_attr("type", kind).with_child(Element::new(STANZAS_NS, &self.condition));
        if let Some(t) = &self.text {
            e.push_child(Element::new(STANZAS_NS, "text").with_text(t));
        }
        e
    }

    /// Words a person understands, for the UI. The server's own text, when present, is appended.
    pub fn describe(&self) -> String {
        let base = match self.condition.as_str() {
            "service-unavailable" => "the recipient or service is not available",
            "item-not-found" => "no such item or address",
            "recipient-unavailable" => "the recipient is not online",
            "remote-server-not-found" => "the recipient's server could not be found",
            "remote-server-timeout" => "the recipient's server did not answer",
            "not-authorized" | "forbidden" => "not allowed",
            "not-allowed" => "not allowed",
            "bad-request" => "the server did not understand the request",
            "feature-not-implemented" => "the server does not support this",
            "jid-malformed" => "the address is not valid",
            "resource-constraint" => "the server is busy, try again later",
            "policy-violation" => "refused by the server's policy",
            "conflict" => "conflict with an existing session or item",
            "internal-server-error" => "the server had an internal error",
            "gone" => "the address is no longer in use",
            "not-acceptable" => "the server did not accept it",
            "registration-required" | "subscription-required" => "a subscription or registration is required",
            "unexpected-request" => "the server did not expect this request",
            _ => "an error occurred",
        };
        match &self.text {
            Some(t) if !t.trim().is_empty() => format!("{base} ({})", t.trim()),
            _ => base.to_owned(),
        }
    }
}
