//! XEP-0388 SASL2 with its inline companions XEP-0386 Bind2 and XEP-0484 FAST: the offer in
//! `<stream:features/>`, the `<authenticate/>` we send, and the `<success/>` / `<failure/>` we get back.
//!
//! ```text
//!  <authentication xmlns='urn:xmpp:sasl:2'>           ──parse──▶ Sasl2Offer
//!    <mechanism/>… <inline><bind xmlns='urn:xmpp:bind:0'/><sm/><fast><mechanism/>…</fast></inline>
//!  authenticate(mechanism, initial response, user agent, [bind2_request, request_token | fast_login, …])
//!  <success>additional-data, authorization-identifier, <bound/>, <token/>…</success> ──parse──▶ Success
//!  <failure><condition/><text/></failure>              ──parse──▶ Failure
//! ```
//!
//! What this module does NOT do: decide anything (which mechanism, whether to ask for a token: that is
//! `client::sasl2`) or check any proof (`sasl`). It reads elements by (namespace, local name) and bounds what it
//! keeps: the mechanism lists are as long as the features frame allows, a token too long is dropped.

use crate::xmpp::sasl::base64::BASE64;
use crate::xmpp::sasl::{FastToken, Mechanism, SaslFailure};
use crate::xmpp::xml::Element;

pub const SASL2_NS: &str = "urn:xmpp:sasl:2";
pub const BIND2_NS: &str = "urn:xmpp:bind:0";
pub const FAST_NS: &str = "urn:xmpp:fast:0";
/// XEP-0198, as offered and answered inline.
pub const SM_NS: &str = "urn:xmpp:sm:3";
const SASL_NS: &str = crate::xmpp::framing::SASL_NS;

/// What the server offers in `<authentication xmlns='urn:xmpp:sasl:2'/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sasl2Offer {
    /// Every `<mechanism/>`, as sent (also the ones we do not implement: XEP-0474 hashes them all).
    pub mechanisms: Vec<String>,
    /// Bind2 is offered, with the `var`s of the features it can enable inline (carbons, CSI, SM, …).
    pub bind2: Option<Vec<String>>,
    /// XEP-0198 can be enabled or resumed inline.
    pub sm: bool,
    /// The FAST mechanisms offered (empty: no FAST; servers offer it only when the stream header names the
    /// account).
    pub fast: Vec<String>,
}

impl Sasl2Offer {
    /// The SASL2 offer inside `<stream:features/>`, if there is one.
    pub fn parse(features: &Element) -> Option<Sasl2Offer> {
        let auth = features.get_child(SASL2_NS, "authentication")?;
        let text_of = |e: &Element| e.text().trim().to_owned();
        let mechanisms = auth.children_named(SASL2_NS, "mechanism").map(text_of).collect();
        let inline = auth.get_child(SASL2_NS, "inline");
        let bind2 = inline.and_then(|i| i.get_child(BIND2_NS, "bind")).map(|b| {
            b.children_named(BIND2_NS, "inline")
                .flat_map(|i| i.children_named(BIND2_NS, "feature"))
                .filter_map(|f| f.attr("var"))
                .map(str::to_owned)
                .collect()
        });
        let sm = inline.is_some_and(|i| i.get_child(SM_NS, "sm").is_some());
        let fast = inline
            .and_then(|i| i.get_child(FAST_NS, "fast"))
            .map(|f| f.children_named(FAST_NS, "mechanism").map(text_of).collect())
            .unwrap_or_default();
        Some(Sasl2Offer { mechanisms, bind2, sm, fast })
    }

    /// Whether Bind2 can enable `var` (e.g. carbons) in the same exchange.
    pub fn bind2_can(&self, var: &str) -> bool {
        self.bind2.as_ref().is_some_and(|vars| vars.iter().any(|v| v == var))
    }
}

/// XEP-0388 `<user-agent/>`: who is logging in. Servers list devices by it, and FAST tokens are bound to its
/// `id`, which must stay the same for a device (a random UUID drawn once and kept by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent {
    pub id: String,
    /// The client software, e.g. "Natter".
    pub software: Option<String>,
    /// A name for the device a person would recognise, e.g. "Firefox on Linux".
    pub device: Option<String>,
}

impl UserAgent {
    pub fn to_element(&self) -> Element {
        let mut el = Element::new(SASL2_NS, "user-agent").with_attr("id", self.id.as_str());
        for (name, value) in [("software", &self.software), ("device", &self.device)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                el.push_child(Element::new(SASL2_NS, name).with_text(v));
            }
        }
        el
    }
}

/// SASL payloads are base64; an empty one is `=` (XEP-0388 follows RFC 6120 §6.4.2 here).
fn encode(data: &[u8]) -> String {
    if data.is_empty() { "=".to_owned() } else { BASE64.encode(data) }
}

/// `<authenticate mechanism='…'><initial-response/><user-agent/>…inline requests…</authenticate>`.
pub fn authenticate(
    mechanism: Mechanism,
    initial_response: &[u8],
    user_agent: Option<&UserAgent>,
    inline: Vec<Element>,
) -> Element {
    let mut el = Element::new(SASL2_NS, "authenticate")
        .with_attr("mechanism", mechanism.name())
        .with_child(Element::new(SASL2_NS, "initial-response").with_text(encode(initial_response)));
    if let Some(ua) = user_agent {
        el.push_child(ua.to_element());
    }
    for child in inline {
        el.push_child(child);
    }
    el
}

/// `<response/>` to a `<challenge/>`.
pub fn response(data: &[u8]) -> Element {
    Element::new(SASL2_NS, "response").with_text(encode(data))
}

/// `<abort/>`: we give up on this exchange (a check of ours failed).
pub fn abort() -> Element {
    Element::new(SASL2_NS, "abort")
}

/// XEP-0386 `<bind><tag/>…</bind>`: bind a resource named after `tag` (the server adds a unique part), and
/// enable `inline` features (e.g. carbons) in the same step.
pub fn bind2_request(tag: &str, inline: Vec<Element>) -> Element {
    let mut el = Element::new(BIND2_NS, "bind");
    if !tag.is_empty() {
        el.push_child(Element::new(BIND2_NS, "tag").with_text(tag));
    }
    for child in inline {
        el.push_child(child);
    }
    el
}

/// XEP-0484 `<request-token mechanism='…'/>`: issue a token for later logins from this device.
pub fn request_token(mechanism: Mechanism) -> Element {
    Element::new(FAST_NS, "request-token").with_attr("mechanism", mechanism.name())
}

/// XEP-0484 `<fast count='…'/>`: this login uses a token; `invalidate` asks the server to revoke it once
/// this login succeeds (logging out).
pub fn fast_login(count: u32, invalidate: bool) -> Element {
    let mut el = Element::new(FAST_NS, "fast").with_attr("count", count.to_string());
    if invalidate {
        el.set_attr("invalidate", "true");
    }
    el
}

/// Why a `<success/>` cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuccessError {
    /// `<additional-data/>` is not base64.
    AdditionalDataNotBase64,
}

/// A parsed SASL2 `<success/>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Success<'a> {
    /// The decoded `<additional-data/>` (for SCRAM the server-final-message, for HT the responder hash).
    pub additional_data: Option<Vec<u8>>,
    /// `<authorization-identifier/>`: the account, or the full JID when Bind2 bound a resource.
    pub authorization_identifier: Option<String>,
    /// XEP-0386 `<bound/>`, with the answers of the features enabled inline (e.g. XEP-0198 `<enabled/>`).
    pub bound: Option<&'a Element>,
    /// XEP-0484 `<token/>`: the secret and expiry, unchecked (see [`Success::token_for`]).
    token: Option<(&'a str, Option<&'a str>)>,
    /// The whole element, for inline answers this module does not know (XEP-0198 `<resumed/>`, `<failed/>`).
    pub element: &'a Element,
}

impl<'a> Success<'a> {
    pub fn parse(el: &'a Element) -> Result<Success<'a>, SuccessError> {
        let additional_data = match el.get_child(SASL2_NS, "additional-data").map(|d| d.text()) {
            None => None,
            Some(t) => match t.trim() {
                "" => None,
                "=" => Some(Vec::new()),
                t => Some(BASE64.decode(t).map_err(|_| SuccessError::AdditionalDataNotBase64)?),
            },
        };
        let authorization_identifier =
            el.get_child(SASL2_NS, "authorization-identifier").map(|a| a.text().trim().to_owned());
        let token = el.get_child(FAST_NS, "token").and_then(|t| Some((t.attr("token")?, t.attr("expiry"))));
        Ok(Success {
            additional_data,
            authorization_identifier,
            bound: el.get_child(BIND2_NS, "bound"),
            token,
            element: el,
        })
    }

    /// The token the server issued, as a token for `mechanism` (the one requested, or the one in use when the
    /// server rotates it); `None` when there is none or it is unusable (empty, too long).
    pub fn token_for(&self, mechanism: Mechanism) -> Option<FastToken> {
        let (secret, expiry) = self.token?;
        FastToken::issued(mechanism, secret, expiry)
    }
}

/// A parsed SASL2 `<failure/>`: the RFC 6120 condition and the server's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub condition: SaslFailure,
    pub text: Option<String>,
}

impl Failure {
    /// Servers put the condition in the SASL namespace (XEP-0388 §2.6.4); Prosody sends some in SASL2's
    /// own, so any child that is not `<text/>` counts.
    pub fn parse(el: &Element) -> Failure {
        let is_text = |c: &&Element| c.name == "text" && (c.ns == SASL2_NS || c.ns == SASL_NS);
        let condition = el.elements().find(|c| !is_text(c)).map_or("not-authorized", |c| c.name.as_str());
        let text = el.elements().find(is_text).map(Element::text).filter(|t| !t.trim().is_empty());
        Failure { condition: SaslFailure::from_condition(condition), text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    /// Prosody 13's features for `<open from='alice@localhost'/>`, as received (`xmlns='jabber:client'` on
    /// the features, SASL2 first).
    const PROSODY13: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'><authentication xmlns='urn:xmpp:sasl:2'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism><inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:csi:0'/><feature var='urn:xmpp:sm:3'/></inline></bind><sm xmlns='urn:xmpp:sm:3'/><fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast></inline></authentication><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>";
    /// ejabberd 24.12's (no `xmlns='jabber:client'`, legacy mechanisms first, inline before the mechanisms).
    const EJABBERD24: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-512</mechanism></mechanisms><authentication xmlns='urn:xmpp:sasl:2'><inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/><feature var='urn:xmpp:carbons:2'/></inline></bind><sm xmlns='urn:xmpp:sm:3'/><fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism><mechanism>HT-SHA-256-UNIQ</mechanism></fast></inline><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-512</mechanism></authentication></stream:features>";

    #[test]
    fn the_offers_of_both_modern_servers_parse() {
        let p = Sasl2Offer::parse(&parse(PROSODY13)).unwrap();
        assert_eq!(p.mechanisms, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"]);
        assert!(p.bind2_can("urn:xmpp:carbons:2") && p.bind2_can("urn:xmpp:sm:3") && p.bind2_can("urn:xmpp:csi:0"));
        assert!(p.sm);
        assert_eq!(p.fast, ["HT-SHA-256-NONE"]);
        let e = Sasl2Offer::parse(&parse(EJABBERD24)).unwrap();
        assert_eq!(e.mechanisms, ["PLAIN", "SCRAM-SHA-512"]);
        assert!(e.bind2_can("urn:xmpp:carbons:2") && !e.bind2_can("urn:xmpp:csi:0"));
        assert_eq!(e.fast, ["HT-SHA-256-NONE", "HT-SHA-256-UNIQ"]);
    }

    #[test]
    fn a_bare_offer_and_none_at_all() {
        let bare = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-1</mechanism></authentication></stream:features>";
        let o = Sasl2Offer::parse(&parse(bare)).unwrap();
        assert_eq!((o.bind2, o.sm, o.fast.len()), (None, false, 0));
        let legacy = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>";
        assert_eq!(Sasl2Offer::parse(&parse(legacy)), None);
        // By namespace, never by prefix or by a look-alike in another namespace.
        let wrong_ns = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><authentication xmlns='urn:xmpp:sasl:1'/></stream:features>";
        assert_eq!(Sasl2Offer::parse(&parse(wrong_ns)), None);
    }

    /// XEP-0388 §2.3 and XEP-0484 §3.2's examples, as we write them.
    #[test]
    fn authenticate_with_user_agent_bind2_and_a_token_request() {
        let ua = UserAgent {
            id: "d4565fa7-4d72-4749-b3d3-740edbf87770".into(),
            software: Some("AwesomeXMPP".into()),
            device: Some("Kiva's Phone".into()),
        };
        let el = authenticate(
            Mechanism::ScramSha1,
            b"n,,n=user,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6",
            Some(&ua),
            vec![bind2_request("AwesomeXMPP", vec![]), request_token(Mechanism::HtSha256None)],
        );
        assert_eq!(
            el.to_xml(),
            "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-1'><initial-response>biwsbj11c2VyLHI9MTJDNENENUMtRTM4RS00QTk4LThGNkQtMTVDMzhGNTFDQ0M2</initial-response><user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>AwesomeXMPP</software><device>Kiva's Phone</device></user-agent><bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag></bind><request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/></authenticate>"
        );
        assert_eq!(fast_login(123, true).to_xml(), "<fast xmlns='urn:xmpp:fast:0' count='123' invalidate='true'/>");
        assert_eq!(fast_login(1, false).to_xml(), "<fast xmlns='urn:xmpp:fast:0' count='1'/>");
        assert_eq!(response(b"").to_xml(), "<response xmlns='urn:xmpp:sasl:2'>=</response>");
    }

    #[test]
    fn success_with_bound_and_token_as_ejabberd_sends_it() {
        let el = parse(
            "<success xmlns='urn:xmpp:sasl:2'><token token='Q8b8BYYDqvJNTaBXJrqHODGsJI/tbHsrHqceFSmra7k=' expiry='2027-01-03T23:52:00Z' xmlns='urn:xmpp:fast:0'/><bound xmlns='urn:xmpp:bind:0'><enabled resume='true' max='300' id='g2g' xmlns='urn:xmpp:sm:3'/></bound><authorization-identifier>alice@localhost/Natter.6llATx1G5G</authorization-identifier><additional-data>dj11VG9yZ0RKZkdkbTByaDdWMENOM0FZUnB3RGU3blpqdERDaUVCMHZ2cU5zPQ==</additional-data></success>",
        );
        let s = Success::parse(&el).unwrap();
        assert_eq!(s.additional_data.as_deref(), Some(&b"v=uTorgDJfGdm0rh7V0CN3AYRpwDe7nZjtDCiEB0vvqNs="[..]));
        assert_eq!(s.authorization_identifier.as_deref(), Some("alice@localhost/Natter.6llATx1G5G"));
        assert!(s.bound.unwrap().get_child(SM_NS, "enabled").is_some());
        let t = s.token_for(Mechanism::HtSha256None).unwrap();
        assert_eq!(t.secret, "Q8b8BYYDqvJNTaBXJrqHODGsJI/tbHsrHqceFSmra7k=");
        assert_eq!(t.expiry.as_deref(), Some("2027-01-03T23:52:00Z"));
        assert_eq!(t.count, 0);
    }

    #[test]
    fn success_without_extras_and_with_broken_data() {
        let s = parse(
            "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>alice@localhost</authorization-identifier></success>",
        );
        let s = Success::parse(&s).unwrap();
        assert_eq!((&s.additional_data, s.bound, s.token_for(Mechanism::HtSha256None)), (&None, None, None));
        let broken = parse("<success xmlns='urn:xmpp:sasl:2'><additional-data>!!</additional-data></success>");
        assert_eq!(Success::parse(&broken), Err(SuccessError::AdditionalDataNotBase64));
        // A token too long to be one is not kept.
        let huge = format!(
            "<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' token='{}'/></success>",
            "a".repeat(crate::xmpp::sasl::MAX_TOKEN_LEN + 1)
        );
        assert_eq!(Success::parse(&parse(&huge)).unwrap().token_for(Mechanism::HtSha256None), None);
    }

    #[test]
    fn failures_from_both_servers() {
        let ej = parse(
            "<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Invalid username or password</text></failure>",
        );
        assert_eq!(
            Failure::parse(&ej),
            Failure { condition: SaslFailure::NotAuthorized, text: Some("Invalid username or password".into()) }
        );
        // Prosody's mod_sasl2_fast writes the condition in the SASL2 namespace.
        let prosody = parse(
            "<failure xmlns='urn:xmpp:sasl:2'><malformed-request/><text>FAST is not available on this stream</text></failure>",
        );
        assert_eq!(Failure::parse(&prosody).condition, SaslFailure::MalformedRequest);
        let expired = parse(
            "<failure xmlns='urn:xmpp:sasl:2'><credentials-expired xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>",
        );
        assert_eq!(Failure::parse(&expired), Failure { condition: SaslFailure::CredentialsExpired, text: None });
        let empty = parse("<failure xmlns='urn:xmpp:sasl:2'/>");
        assert_eq!(Failure::parse(&empty).condition, SaslFailure::NotAuthorized);
    }
}
