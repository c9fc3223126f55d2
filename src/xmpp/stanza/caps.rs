//! Entity capabilities (XEP-0115): the verification string of what we support, and the `<c/>` element our
//! presence carries, so that servers and peers know our features without asking each time.
//!
//! It matters for PEP (XEP-0163): a server sends bookmark notifications (XEP-0402) only to resources whose
//! capabilities include `urn:xmpp:bookmarks:1+notify`. It asks us once, with a disco#info to `NODE#ver`,
//! which the session answers with the same identity and features.
//!
//! What this module does NOT do: cache or verify other entities' capabilities (we never need theirs).

use sha1::{Digest, Sha1};

use crate::xmpp::sasl::base64::BASE64;
use crate::xmpp::stanza::disco::Identity;
use crate::xmpp::xml::Element;

pub const CAPS_NS: &str = "http://jabber.org/protocol/caps";
/// Our caps node: names the software (a URI, XEP-0115 §4).
pub const NODE: &str = "urn:natter:caps";

/// The verification string of `identities` and `features` (XEP-0115 §5.1, without extended forms): joined
/// with `<`, hashed with SHA-1, in base64. Both must come in the order §5.1 sorts them into (identities by
/// `category/type/lang/name`, features by name, no duplicates): ours are kept sorted where they are defined,
/// which spares the wasm two sorting routines.
pub fn ver(identities: &[Identity], features: &[&str]) -> String {
    let ids: Vec<String> = identities
        .iter()
        .map(|i| {
            format!("{}/{}/{}/{}", i.category, i.kind, i.lang.as_deref().unwrap_or(""), i.name.as_deref().unwrap_or(""))
        })
        .collect();
    debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "identities not sorted: {ids:?}");
    debug_assert!(features.windows(2).all(|w| w[0] < w[1]), "features not sorted: {features:?}");
    let mut s = String::new();
    for part in ids.iter().map(String::as_str).chain(features.iter().copied()) {
        s.push_str(part);
        s.push('<');
    }
    BASE64.encode(Sha1::digest(s.as_bytes()))
}

/// `<c xmlns='…caps' hash='sha-1' node=… ver=…/>` for our presence.
pub fn element(ver: &str) -> Element {
    Element::new(CAPS_NS, "c").with_attr("hash", "sha-1").with_attr("node", NODE).with_attr("ver", ver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_simple_example() {
        // XEP-0115 §5.2.
        let ids = [Identity::new("client", "pc", Some("Exodus 0.9.1"))];
        let features = [
            "http://jabber.org/protocol/caps",
            "http://jabber.org/protocol/disco#info",
            "http://jabber.org/protocol/disco#items",
            "http://jabber.org/protocol/muc",
        ];
        assert_eq!(ver(&ids, &features), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    }

    #[test]
    fn spec_complex_example_identities_sorted_with_lang() {
        // XEP-0115 §5.3, without its extended form: the identities and features part of the string.
        let mut en = Identity::new("client", "pc", Some("Psi 0.11"));
        en.lang = Some("en".into());
        let mut el = Identity::new("client", "pc", Some("Ψ 0.11"));
        el.lang = Some("el".into());
        let s = ver(&[el, en], &["urn:x"]);
        let expected = BASE64.encode(Sha1::digest("client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<urn:x<".as_bytes()));
        assert_eq!(s, expected);
    }
}
