//! Unique and stable stanza ids (XEP-0359): `<origin-id/>` on what we send, `<stanza-id by=…/>` from archives.
//!
//! A `stanza-id` is only worth anything when its `by` is an entity we trust to have stamped it (our own
//! account's server for one-to-one messages): anyone else can put any `stanza-id` in a message. This module
//! only reads and writes the elements; which `by` to trust is the caller's argument.

use crate::xmpp::jid::BareJid;
use crate::xmpp::xml::Element;

pub const SID_NS: &str = "urn:xmpp:sid:0";

/// Longest id kept (longer ones are treated as absent, so a peer cannot make us remember megabytes).
pub const MAX_ID: usize = 256;

/// The message's `<origin-id id=…/>` (the first one), when present and of sane length.
pub fn origin_id(el: &Element) -> Option<String> {
    let id = el.get_child(SID_NS, "origin-id")?.attr("id")?;
    (!id.is_empty() && id.len() <= MAX_ID).then(|| id.to_owned())
}

/// The `<stanza-id id=…/>` whose `by` is exactly `by` (XEP-0359 §4: the only one that can be trusted);
/// stanza-ids by anyone else are ignored.
pub fn stanza_id_by(el: &Element, by: &BareJid) -> Option<String> {
    el.children_named(SID_NS, "stanza-id")
        .filter(|s| s.attr("by").and_then(|b| BareJid::parse(b).ok()).is_some_and(|b| &b == by))
        .find_map(|s| s.attr("id").filter(|id| !id.is_empty() && id.len() <= MAX_ID).map(str::to_owned))
}

/// `<origin-id id=…/>`.
pub fn origin_id_element(id: &str) -> Element {
    Element::new(SID_NS, "origin-id").with_attr("id", id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_and_forged_stanza_ids() {
        // XEP-0359 example 1, plus a stanza-id a peer forged with another `by`.
        let el = Element::parse("<message xmlns='jabber:client' to='romeo@montague.lit/orchard' from='juliet@capulet.lit/balcony'><body>Art thou not Romeo, and a Montague?</body><stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='juliet@capulet.lit'/><stanza-id xmlns='urn:xmpp:sid:0' id='5f3dbc5e-e1d3-4077-a492-693f3769c7ad' by='romeo@montague.lit'/><origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546013'/></message>").unwrap();
        let romeo = BareJid::parse("romeo@montague.lit").unwrap();
        assert_eq!(stanza_id_by(&el, &romeo).as_deref(), Some("5f3dbc5e-e1d3-4077-a492-693f3769c7ad"));
        assert_eq!(stanza_id_by(&el, &BareJid::parse("other@montague.lit").unwrap()), None);
        assert_eq!(origin_id(&el).as_deref(), Some("de305d54-75b4-431b-adb2-eb6b9e546013"));
    }
}
