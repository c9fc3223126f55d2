#![cfg(not(target_arch = "wasm32"))]
//! SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST (XEP-0484) driven by a scripted server in virtual time: every
//! path of a modern login, and the legacy path where SASL2 is not offered (or not wanted).

mod support {
    pub mod fake;
}
#[path = "../benches/core/scram_server.rs"]
mod scram_server;

use hmac::{Hmac, Mac};
use natter::xmpp::client::ClientError;
use natter::xmpp::sasl::{Credentials, DowngradeInfo, FastToken, Mechanism, SaslError, SaslFailure, ScramHash};
use natter::xmpp::xml::Element;
use natter::xmpp::{Event, Phase};
use sha2::Sha256;
use support::fake::*;

const SASL2: &str = "urn:xmpp:sasl:2";
const BIND2: &str = "urn:xmpp:bind:0";
const FAST: &str = "urn:xmpp:fast:0";
const CARBONS: &str = "urn:xmpp:carbons:2";
const TOKEN: &str = "secret-token:fast-xQeB7xxFOTqjNYobUtYqCrA4Ib63Inu5gmxZ";
const BOUND_JID: &str = "user@example.com/Natter.4232f4d4";

fn phases(events: &[Event]) -> Vec<Phase> {
    events.iter().filter_map(|e| if let Event::Phase(p) = e { Some(*p) } else { None }).collect()
}

fn tokens(events: &[Event]) -> Vec<FastToken> {
    events.iter().filter_map(|e| if let Event::FastToken(t) = e { Some(t.clone()) } else { None }).collect()
}

fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn kept_token(count: u32) -> FastToken {
    let mut t = FastToken::issued(Mechanism::HtSha256None, TOKEN, Some("2026-12-25T23:54:51Z")).unwrap();
    t.count = count;
    t
}

fn token_config(count: u32) -> natter::xmpp::Config {
    let mut c = modern_config();
    c.credentials = Credentials::Token(kept_token(count));
    c
}

fn challenge(server_first: &str) -> String {
    format!("<challenge xmlns='urn:xmpp:sasl:2'>{}</challenge>", b64(server_first))
}

/// `<success/>` with the server-final-message (or responder hash, already base64) and the identifier.
fn success(additional_data_b64: &str, authz: &str, extra: &str) -> String {
    format!(
        "<success xmlns='urn:xmpp:sasl:2'><additional-data>{additional_data_b64}</additional-data><authorization-identifier>{authz}</authorization-identifier>{extra}</success>"
    )
}

fn bound() -> &'static str {
    "<bound xmlns='urn:xmpp:bind:0'/>"
}

fn issued(token: &str) -> String {
    format!("<token xmlns='urn:xmpp:fast:0' expiry='2027-01-03T23:52:00Z' token='{token}'/>")
}

fn post_auth_features() -> &'static str {
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'><ver xmlns='urn:xmpp:features:rosterver'/><csi xmlns='urn:xmpp:csi:0'/></stream:features>"
}

/// The server opens and offers `offer`; returns the one `<authenticate/>` the client answered with (frames
/// sent before, the opening `<open/>`, are dropped).
fn authenticate_after(h: &mut Harness, offer: &Sasl2Offer) -> Element {
    h.sent();
    h.server_open();
    h.recv(&offer.features());
    h.sent_one()
}

/// Runs the SCRAM part of an RFC 7677 SASL2 login; returns the `<authenticate/>` the client sent.
fn scram_until_success(h: &mut Harness, offer: &Sasl2Offer) -> Element {
    let authenticate = authenticate_after(h, offer);
    h.recv(&challenge(RFC7677_SERVER_FIRST));
    let response = h.sent_one();
    assert!(response.is(SASL2, "response"));
    assert_eq!(unb64(&response.text()), RFC7677_CLIENT_FINAL);
    authenticate
}

// ---- SASL2 with a password ----------------------------------------------------------------------------

#[test]
fn one_exchange_authenticates_binds_enables_carbons_and_gets_a_token() {
    let mut config = modern_config();
    config.request_fast_token = true;
    let mut h = Harness::new(config);
    let open = h.sent_one();
    assert_eq!(open.attr("from"), Some("user@example.com"), "the account is named on the stream header");
    let authenticate = scram_until_success(&mut h, &Sasl2Offer::default());

    assert!(authenticate.is(SASL2, "authenticate"));
    assert_eq!(authenticate.attr("mechanism"), Some("SCRAM-SHA-256"));
    let initial = authenticate.get_child(SASL2, "initial-response").unwrap();
    assert_eq!(unb64(&initial.text()), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "the same SCRAM as RFC 7677");
    let ua = authenticate.get_child(SASL2, "user-agent").unwrap();
    assert_eq!(ua.attr("id"), Some(DEVICE_ID));
    assert_eq!(ua.get_child(SASL2, "software").map(Element::text).as_deref(), Some("Natter"));
    let bind = authenticate.get_child(BIND2, "bind").expect("Bind2 inline");
    assert_eq!(bind.get_child(BIND2, "tag").map(Element::text).as_deref(), Some("Natter"));
    assert!(bind.get_child(CARBONS, "enable").is_some(), "carbons enabled in the same exchange");
    let request = authenticate.get_child(FAST, "request-token").expect("a token is asked for");
    assert_eq!(request.attr("mechanism"), Some("HT-SHA-256-NONE"));
    assert!(authenticate.get_child(FAST, "fast").is_none());

    h.recv(&success(&b64(RFC7677_SERVER_FINAL), BOUND_JID, &format!("{}{}", bound(), issued(TOKEN))));
    assert!(h.sent().is_empty(), "no stream restart and no bind request after SASL2");
    h.recv(post_auth_features());
    let roster = h.sent_one();
    assert!(roster.get_child("jabber:iq:roster", "query").is_some());
    assert_eq!(roster.get_child("jabber:iq:roster", "query").unwrap().attr("ver"), Some(""), "rosterver offered");
    let id = roster.attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "initial presence only: carbons are already on: {sent:?}");
    assert!(sent[0].is("jabber:client", "presence"));

    let events = h.take_events();
    assert_eq!(
        phases(&events),
        [Phase::Connecting, Phase::Authenticating(Mechanism::ScramSha256), Phase::LoadingRoster, Phase::Online]
    );
    let issued = tokens(&events);
    assert_eq!(issued.len(), 1);
    assert_eq!((issued[0].secret.as_str(), issued[0].count), (TOKEN, 0));
    assert_eq!(issued[0].mechanism, Mechanism::HtSha256None);
    assert_eq!(issued[0].expiry.as_deref(), Some("2027-01-03T23:52:00Z"));
    assert!(events.iter().any(|e| matches!(e, Event::Online { jid, resumed: false } if jid.to_string() == BOUND_JID)));
    // A reconnect logs in with the token, whatever the server's password storage.
    let again = h.client.resumption().unwrap();
    assert_eq!(again.credentials, Credentials::Token(issued[0].clone()));
    assert!(!again.request_fast_token);
}

#[test]
fn without_a_token_request_none_is_asked_for_and_resumption_keeps_the_keys() {
    let mut h = Harness::new(modern_config());
    let authenticate = scram_until_success(&mut h, &Sasl2Offer::default());
    assert!(authenticate.get_child(FAST, "request-token").is_none());
    h.recv(&success(&b64(RFC7677_SERVER_FINAL), BOUND_JID, bound()));
    h.recv(post_auth_features());
    assert!(tokens(&h.take_events()).is_empty());
    assert!(matches!(h.client.resumption().unwrap().credentials, Credentials::Keys(_)));
}

#[test]
fn a_token_is_requested_only_where_fast_can_work() {
    // No user agent: FAST tokens are bound to its id.
    let mut config = modern_config();
    config.request_fast_token = true;
    config.user_agent = None;
    let mut h = Harness::new(config);
    let authenticate = scram_until_success(&mut h, &Sasl2Offer::default());
    assert!(authenticate.get_child(FAST, "request-token").is_none());
    assert!(authenticate.get_child(SASL2, "user-agent").is_none());
    // FAST not offered (servers offer it only when the stream header names the account).
    let mut config = modern_config();
    config.request_fast_token = true;
    let mut h = Harness::new(config);
    let authenticate = scram_until_success(&mut h, &Sasl2Offer { fast: &[], ..Sasl2Offer::default() });
    assert!(authenticate.get_child(FAST, "request-token").is_none());
    // Only mechanisms with channel binding, which a browser cannot do.
    let mut config = modern_config();
    config.request_fast_token = true;
    let mut h = Harness::new(config);
    let offer = Sasl2Offer { fast: &["HT-SHA-256-ENDP", "HT-SHA-256-EXPR"], ..Sasl2Offer::default() };
    let authenticate = scram_until_success(&mut h, &offer);
    assert!(authenticate.get_child(FAST, "request-token").is_none());
}

#[test]
fn the_account_is_named_on_the_stream_header_only_when_allowed() {
    let mut h = Harness::new(rfc7677_config());
    assert_eq!(h.sent_one().attr("from"), None);
}

#[test]
fn a_wrong_server_signature_in_additional_data_is_refused_and_the_token_not_kept() {
    let mut config = modern_config();
    config.request_fast_token = true;
    let mut h = Harness::new(config);
    scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv(&success(
        &b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        BOUND_JID,
        &format!("{}{}", bound(), issued(TOKEN)),
    ));
    let events = h.take_events();
    assert_eq!(closed_error(&events), Some(ClientError::Sasl(SaslError::InvalidServerSignature)));
    assert!(tokens(&events).is_empty(), "a token from a server that did not prove itself is not kept");
    assert!(!events.iter().any(|e| matches!(e, Event::Online { .. })));
    assert!(h.client.resumption().is_none());
}

#[test]
fn a_success_without_the_server_signature_is_a_failure() {
    let mut h = Harness::new(modern_config());
    scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv(&format!(
        "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>{BOUND_JID}</authorization-identifier>{}</success>",
        bound()
    ));
    assert_eq!(closed_error(&h.take_events()), Some(ClientError::Sasl(SaslError::MissingServerSignature)));
}

#[test]
fn the_server_final_message_may_come_in_a_challenge() {
    let mut h = Harness::new(modern_config());
    scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv(&challenge(RFC7677_SERVER_FINAL));
    let empty = h.sent_one();
    assert!(empty.is(SASL2, "response"));
    assert_eq!(empty.text(), "=");
    h.recv(&format!(
        "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>{BOUND_JID}</authorization-identifier>{}</success>",
        bound()
    ));
    h.recv(post_auth_features());
    assert!(h.take_events().iter().any(|e| matches!(e, Event::Phase(Phase::LoadingRoster))));
}

#[test]
fn a_wrong_nonce_or_too_few_iterations_stop_before_the_proof() {
    for (server_first, expected) in [
        ("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", SaslError::ServerNonceMismatch),
        (
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
            SaslError::IterationsTooLow { got: 1, min: 4096 },
        ),
    ] {
        let mut h = Harness::new(modern_config());
        h.server_open();
        h.recv(&Sasl2Offer::default().features());
        h.sent();
        h.recv(&challenge(server_first));
        let sent = h.sent();
        assert!(sent.iter().all(|e| !e.is(SASL2, "response")), "no proof for a server that failed a check");
        assert!(sent.iter().any(|e| e.is(SASL2, "abort")));
        assert_eq!(closed_error(&h.take_events()), Some(ClientError::Sasl(expected)));
    }
}

/// XEP-0474 under SASL2 hashes SASL2's own mechanism list (§5.1: "only the mechanism list of the SASL
/// protocol the client uses"), not the legacy `<mechanisms/>` beside it.
#[test]
fn downgrade_protection_hashes_the_sasl2_mechanism_list() {
    let server = scram_server::ScramServer::new(ScramHash::Sha256, "pencil", 4096);
    let sasl2_list = ["SCRAM-SHA-256", "SCRAM-SHA-1"];
    let honest = DowngradeInfo { mechanisms: sasl2_list.map(str::to_owned).to_vec(), channel_bindings: vec![] };
    let h_attr = format!("h={}", natter_b64(&honest.ssdp_hash(ScramHash::Sha256)));

    // The legacy list differs (PLAIN too): the hash of the SASL2 list must verify, and the login completes.
    let mut h = Harness::new(modern_config());
    let offer = Sasl2Offer {
        mechanisms: &sasl2_list,
        legacy: &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"],
        ..Default::default()
    };
    let authenticate = authenticate_after(&mut h, &offer);
    let first = unb64(&authenticate.get_child(SASL2, "initial-response").unwrap().text());
    let (sent_first, server_first) = server.first_with(first.as_bytes(), Some(&h_attr));
    h.recv(&format!("<challenge xmlns='urn:xmpp:sasl:2'>{}</challenge>", natter_b64(&server_first)));
    let response = h.sent_one();
    assert!(response.is(SASL2, "response"), "the honest hash verifies");
    let server_final = sent_first.last(unb64(&response.text()).as_bytes());
    h.recv(&success(&natter_b64(&server_final), BOUND_JID, bound()));
    h.recv(post_auth_features());
    assert!(h.take_events().iter().any(|e| matches!(e, Event::Phase(Phase::LoadingRoster))));

    // Someone removed SCRAM-SHA-256 from the SASL2 list on the way, to force SCRAM-SHA-1.
    let server = scram_server::ScramServer::new(ScramHash::Sha1, "pencil", 4096);
    let h_attr = format!("h={}", natter_b64(&honest.ssdp_hash(ScramHash::Sha1)));
    let mut h = Harness::new(modern_config());
    let authenticate = authenticate_after(&mut h, &Sasl2Offer { mechanisms: &["SCRAM-SHA-1"], ..Default::default() });
    assert_eq!(authenticate.attr("mechanism"), Some("SCRAM-SHA-1"));
    let first = unb64(&authenticate.get_child(SASL2, "initial-response").unwrap().text());
    let (_, server_first) = server.first_with(first.as_bytes(), Some(&h_attr));
    h.recv(&format!("<challenge xmlns='urn:xmpp:sasl:2'>{}</challenge>", natter_b64(&server_first)));
    let sent = h.sent();
    assert!(sent.iter().all(|e| !e.is(SASL2, "response")), "no proof is sent to a downgraded exchange");
    assert_eq!(closed_error(&h.take_events()), Some(ClientError::Sasl(SaslError::Downgrade)));
}

fn natter_b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn a_refused_password_is_an_auth_failure_with_the_servers_words() {
    let mut h = Harness::new(modern_config());
    scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv("<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Invalid username or password</text></failure>");
    let error = closed_error(&h.take_events()).unwrap();
    assert_eq!(
        error,
        ClientError::AuthFailed {
            failure: SaslFailure::NotAuthorized,
            text: Some("Invalid username or password".into())
        }
    );
    assert!(!error.needs_password(), "a wrong password is not a kept login gone stale");
}

#[test]
fn tasks_the_client_cannot_do_end_the_login_with_an_abort() {
    let mut h = Harness::new(modern_config());
    scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv("<continue xmlns='urn:xmpp:sasl:2'><additional-data>dj1tc3VjY2Vzcw==</additional-data><tasks><task>HOTP-EXAMPLE</task></tasks></continue>");
    assert!(h.sent().iter().any(|e| e.is(SASL2, "abort")));
    assert!(matches!(closed_error(&h.take_events()), Some(ClientError::Protocol(_))));
}

#[test]
fn plain_over_sasl2_only_when_allowed_and_no_scram_is_offered() {
    let mut config = modern_config();
    config.allow_plain = true;
    let mut h = Harness::new(config);
    let authenticate = authenticate_after(&mut h, &Sasl2Offer { mechanisms: &["PLAIN"], ..Default::default() });
    assert_eq!(authenticate.attr("mechanism"), Some("PLAIN"));
    assert_eq!(unb64(&authenticate.get_child(SASL2, "initial-response").unwrap().text()), "\0user\0pencil");
    h.recv(&format!(
        "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>{BOUND_JID}</authorization-identifier>{}</success>",
        bound()
    ));
    h.recv(post_auth_features());
    assert!(h.take_events().iter().any(|e| matches!(e, Event::Phase(Phase::LoadingRoster))));
    assert!(h.client.resumption().is_none(), "no keys and no token after PLAIN");

    let mut h = Harness::new(modern_config());
    h.server_open();
    h.recv(&Sasl2Offer { mechanisms: &["PLAIN"], ..Default::default() }.features());
    assert!(matches!(closed_error(&h.take_events()), Some(ClientError::Sasl(SaslError::NoAcceptableMechanism { .. }))));
    assert!(h.sent().iter().all(|e| !e.is(SASL2, "authenticate")), "no password sent");
}

// ---- Bind2 ----------------------------------------------------------------------------------------------

#[test]
fn the_bound_jid_must_be_ours_and_full() {
    for (authz, extra) in
        [("mallory@example.com/x", bound()), ("user@example.com", bound()), ("not a jid@@", bound()), ("", "")]
    {
        let mut h = Harness::new(modern_config());
        scram_until_success(&mut h, &Sasl2Offer::default());
        h.recv(&success(&b64(RFC7677_SERVER_FINAL), authz, extra));
        assert!(matches!(closed_error(&h.take_events()), Some(ClientError::Protocol(_))), "{authz:?}");
        assert!(!h.client.is_online());
    }
}

#[test]
fn a_server_that_did_not_bind_inline_gets_a_legacy_bind() {
    let mut h = Harness::new(modern_config());
    scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv(&success(&b64(RFC7677_SERVER_FINAL), "user@example.com", ""));
    h.bind_features("");
    let bind = h.sent_one();
    assert!(bind.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some());
    h.recv("<iq xmlns='jabber:client' type='result' id='t-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid></bind></iq>");
    h.recv("<iq xmlns='jabber:client' type='result' id='t-2'><query xmlns='jabber:iq:roster'/></iq>");
    let sent = h.sent();
    assert!(sent.iter().any(|e| e.get_child(CARBONS, "enable").is_some()), "carbons by iq, as on the legacy path");
    assert!(h.client.is_online());
}

#[test]
fn without_bind2_on_offer_the_resource_is_bound_the_legacy_way() {
    let mut h = Harness::new(modern_config());
    let authenticate = scram_until_success(&mut h, &Sasl2Offer { bind2: None, ..Default::default() });
    assert!(authenticate.get_child(BIND2, "bind").is_none());
    h.recv(&success(&b64(RFC7677_SERVER_FINAL), "user@example.com", ""));
    h.bind_features("");
    assert!(h.sent_one().get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some());
}

#[test]
fn carbons_are_enabled_inline_only_where_bind2_can() {
    let mut h = Harness::new(modern_config());
    let authenticate =
        scram_until_success(&mut h, &Sasl2Offer { bind2: Some(&["urn:xmpp:csi:0"]), ..Default::default() });
    assert!(authenticate.get_child(BIND2, "bind").unwrap().get_child(CARBONS, "enable").is_none());
    h.recv(&success(&b64(RFC7677_SERVER_FINAL), BOUND_JID, bound()));
    h.recv(post_auth_features());
    let id = h.sent_one().attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    assert!(h.sent().iter().any(|e| e.get_child(CARBONS, "enable").is_some()), "carbons by iq instead");
}

#[test]
fn the_configured_resource_is_the_bind2_tag() {
    let mut config = modern_config();
    config.resource = Some("laptop".into());
    let mut h = Harness::new(config);
    let authenticate = scram_until_success(&mut h, &Sasl2Offer::default());
    let tag = authenticate.get_child(BIND2, "bind").unwrap().get_child(BIND2, "tag").unwrap().text();
    assert_eq!(tag, "laptop");
}

// ---- FAST -----------------------------------------------------------------------------------------------

/// Logs in with the kept token up to `<success/>`; returns the `<authenticate/>` sent.
fn fast_until_success(h: &mut Harness, offer: &Sasl2Offer) -> Element {
    authenticate_after(h, offer)
}

fn responder(token: &str) -> String {
    natter_b64(&hmac256(token.as_bytes(), b"Responder"))
}

#[test]
fn a_token_logs_in_in_one_round_trip_with_the_count_advanced() {
    let mut h = Harness::new(token_config(4));
    let authenticate = fast_until_success(&mut h, &Sasl2Offer::default());
    assert_eq!(authenticate.attr("mechanism"), Some("HT-SHA-256-NONE"));
    let initial = natter_b64_decode(&authenticate.get_child(SASL2, "initial-response").unwrap().text());
    let mut expected = b"user\0".to_vec();
    expected.extend(hmac256(TOKEN.as_bytes(), b"Initiator"));
    assert_eq!(initial, expected, "authcid NUL HMAC-SHA-256(token, \"Initiator\")");
    let fast = authenticate.get_child(FAST, "fast").expect("<fast/> says a token is used");
    assert_eq!((fast.attr("count"), fast.attr("invalidate")), (Some("5"), None));
    assert!(authenticate.get_child(FAST, "request-token").is_none(), "the server rotates by itself");
    assert_eq!(authenticate.get_child(SASL2, "user-agent").unwrap().attr("id"), Some(DEVICE_ID));
    assert!(authenticate.get_child(BIND2, "bind").is_some());
    // The advanced count is the caller's to keep before the server even answers.
    let early = h.take_events();
    assert!(early.contains(&Event::Phase(Phase::Authenticating(Mechanism::HtSha256None))));
    let early = tokens(&early);
    assert_eq!(early.len(), 1);
    assert_eq!((early[0].secret.as_str(), early[0].count), (TOKEN, 5));

    h.recv(&success(&responder(TOKEN), BOUND_JID, bound()));
    h.recv(post_auth_features());
    let id = h.sent_one().attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    let events = h.take_events();
    assert_eq!(phases(&events), [Phase::LoadingRoster, Phase::Online]);
    assert!(tokens(&events).is_empty(), "no new token: nothing more to keep");
    // The next reconnect uses the same token with the count as last sent.
    assert_eq!(h.client.resumption().unwrap().credentials, Credentials::Token(kept_token(5)));
}

fn natter_b64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s.trim()).unwrap()
}

#[test]
fn a_rotated_token_replaces_the_kept_one_with_its_count_reset() {
    let mut h = Harness::new(token_config(0));
    fast_until_success(&mut h, &Sasl2Offer::default());
    h.take_events();
    h.recv(&success(&responder(TOKEN), BOUND_JID, &format!("{}{}", bound(), issued("the-next-token"))));
    let rotated = tokens(&h.take_events());
    assert_eq!(rotated.len(), 1);
    assert_eq!((rotated[0].secret.as_str(), rotated[0].count), ("the-next-token", 0));
    assert_eq!(rotated[0].mechanism, Mechanism::HtSha256None);
    assert_eq!(h.client.resumption().unwrap().credentials, Credentials::Token(rotated[0].clone()));
}

#[test]
fn a_refused_token_is_a_typed_error_that_asks_for_the_password() {
    for (condition, failure) in
        [("not-authorized", SaslFailure::NotAuthorized), ("credentials-expired", SaslFailure::CredentialsExpired)]
    {
        let mut h = Harness::new(token_config(2));
        fast_until_success(&mut h, &Sasl2Offer::default());
        h.recv(&format!(
            "<failure xmlns='urn:xmpp:sasl:2'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>"
        ));
        let events = h.take_events();
        let error = closed_error(&events).unwrap();
        assert_eq!(error, ClientError::FastTokenRefused { failure, text: None });
        assert!(error.needs_password());
        assert!(!natter::xmpp::reconnect::worth_retrying(&error), "retrying the same token would fail again");
        assert!(h.client.resumption().is_none(), "the refused token is not offered again");
        assert!(h.sent().iter().any(|e| e.is("urn:ietf:params:xml:ns:xmpp-framing", "close")));
    }
}

#[test]
fn a_server_that_does_not_know_the_token_is_not_believed() {
    let mut h = Harness::new(token_config(0));
    fast_until_success(&mut h, &Sasl2Offer::default());
    h.recv(&success(&responder("some other token"), BOUND_JID, bound()));
    assert_eq!(closed_error(&h.take_events()), Some(ClientError::Sasl(SaslError::InvalidServerSignature)));
    h.recv(post_auth_features());
    assert!(!h.client.is_online());
}

#[test]
fn a_token_without_fast_on_offer_ends_before_anything_is_sent() {
    let cases: [(&str, String); 4] = [
        ("no FAST (no from= on the header, say)", Sasl2Offer { fast: &[], ..Default::default() }.features()),
        ("only channel-binding FAST", Sasl2Offer { fast: &["HT-SHA-256-ENDP"], ..Default::default() }.features()),
        (
            "no SASL2 at all",
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>".into(),
        ),
        ("SASL2 turned off", Sasl2Offer::default().features()),
    ];
    for (what, features) in cases {
        let mut config = token_config(0);
        config.sasl2 = what != "SASL2 turned off";
        let mut h = Harness::new(config);
        h.sent();
        h.server_open();
        h.recv(&features);
        let sent = h.sent();
        assert!(sent.iter().all(|e| !e.is(SASL2, "authenticate") && e.name != "auth"), "{what}: {sent:?}");
        let error = closed_error(&h.take_events()).unwrap();
        assert_eq!(error, ClientError::Sasl(SaslError::FastUnavailable), "{what}");
        assert!(error.needs_password());
    }
    // Without a user agent there is no device for the token to belong to.
    let mut config = token_config(0);
    config.user_agent = None;
    let mut h = Harness::new(config);
    h.server_open();
    h.recv(&Sasl2Offer::default().features());
    assert_eq!(closed_error(&h.take_events()), Some(ClientError::Sasl(SaslError::FastUnavailable)));
}

#[test]
fn logging_out_invalidates_the_token_and_closes() {
    let mut config = token_config(7);
    config.invalidate_fast_token = true;
    let mut h = Harness::new(config);
    let authenticate = fast_until_success(&mut h, &Sasl2Offer::default());
    let fast = authenticate.get_child(FAST, "fast").unwrap();
    assert_eq!((fast.attr("count"), fast.attr("invalidate")), (Some("8"), Some("true")));
    assert!(authenticate.get_child(BIND2, "bind").is_none(), "no session is wanted");
    h.take_events();
    h.recv(&success(&responder(TOKEN), "user@example.com", ""));
    assert!(h.sent_one().is("urn:ietf:params:xml:ns:xmpp-framing", "close"));
    let events = h.take_events();
    assert!(events.contains(&Event::FastTokenInvalidated));
    assert!(!events.iter().any(|e| matches!(e, Event::Online { .. })));
    h.recv("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    assert_eq!(h.take_events(), [Event::Closed { error: None }]);
    assert!(h.client.resumption().is_none(), "nothing to log in again with");
}

// ---- the legacy path --------------------------------------------------------------------------------------

#[test]
fn sasl2_off_takes_the_legacy_path_even_where_it_is_offered() {
    let mut config = modern_config();
    config.sasl2 = false;
    config.request_fast_token = true;
    let mut h = Harness::new(config);
    h.sent();
    h.server_open();
    h.recv(&Sasl2Offer::default().features());
    let auth = h.sent_one();
    assert!(auth.is("urn:ietf:params:xml:ns:xmpp-sasl", "auth"));
    assert_eq!(auth.attr("mechanism"), Some("SCRAM-SHA-256"));
}

#[test]
fn a_server_without_sasl2_gets_the_legacy_login_unchanged() {
    let mut config = modern_config();
    config.request_fast_token = true;
    let mut h = Harness::new(config);
    h.sent();
    h.server_open();
    h.sasl_features(&["SCRAM-SHA-1", "SCRAM-SHA-256"]);
    let auth = h.sent_one();
    assert!(auth.is("urn:ietf:params:xml:ns:xmpp-sasl", "auth"));
    assert_eq!(unb64(&auth.text()), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
}

// ---- XEP-0198 inline: enabled inside Bind2, resumed inside SASL2 ----------------------------------------

const SM: &str = "urn:xmpp:sm:3";

fn send_message(h: &mut Harness, id: &str, body: &str) {
    let to = natter::xmpp::jid::BareJid::parse("bob@example.com").unwrap();
    h.command(natter::xmpp::Command::SendMessage { to, body: body.into(), id: id.into() }).unwrap();
}

fn acked(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| if let Event::MessageAcked { id } = e { Some(id.clone()) } else { None }).collect()
}

/// A SASL2 login whose Bind2 enables stream management (session `S1`): online, roster get and presence sent
/// (2 stanzas out), the roster result received (1 in).
fn login_with_inline_sm() -> (Harness, Element) {
    let mut h = Harness::new(modern_config());
    let authenticate = scram_until_success(&mut h, &Sasl2Offer::default());
    h.recv(&success(
        &b64(RFC7677_SERVER_FINAL),
        BOUND_JID,
        "<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='S1' resume='1' max='60'/></bound>",
    ));
    h.recv(post_auth_features());
    let mut sent = h.sent();
    let id = sent.iter().find(|e| e.name == "iq").unwrap().attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    assert!(h.client.is_online());
    sent.extend(h.sent());
    assert!(sent.iter().any(|e| e.is(SM, "r")), "stream management is on: our stanzas are acknowledged: {sent:?}");
    h.take_events();
    (h, authenticate)
}

#[test]
fn stream_management_is_enabled_inside_bind2_and_counts_from_success() {
    let (mut h, authenticate) = login_with_inline_sm();
    let bind = authenticate.get_child(BIND2, "bind").unwrap();
    let enable = bind.get_child(SM, "enable").expect("XEP-0198 enabled inside Bind2");
    assert_eq!(enable.attr("resume"), Some("true"));
    assert!(authenticate.get_child(SM, "resume").is_none(), "nothing to resume on a first login");
    // The roster result is the one stanza received since <success/> (features and <success/> are no stanzas).
    h.recv("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent_one().attr("h"), Some("1"));
    send_message(&mut h, "m1", "one");
    // Ours: roster get, presence, m1.
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert_eq!(acked(&h.take_events()), ["m1"]);
    assert!(h.client.resumption().unwrap().stream.unwrap().resumable());
}

/// The session of [`login_with_inline_sm`] with `m1` sent and not acknowledged, then the connection lost; the
/// next client (from `resumption()`: the keys, the stream state) up to its `<authenticate/>`.
fn lost_with_m1(offer: &Sasl2Offer) -> (Harness, Element, Element) {
    let (mut h, _) = login_with_inline_sm();
    send_message(&mut h, "m1", "one");
    let m1 = h.sent().into_iter().find(|e| e.attr("id") == Some("m1")).unwrap();
    h.client.handle_transport_closed();
    let config = h.client.resumption().unwrap();
    assert!(matches!(config.credentials, Credentials::Keys(_)));
    let mut h = Harness::new(config);
    let authenticate = scram_until_success(&mut h, offer);
    (h, authenticate, m1)
}

#[test]
fn a_lost_session_resumes_inside_the_sasl2_exchange() {
    let (mut h, authenticate, m1) = lost_with_m1(&Sasl2Offer::default());
    let resume = authenticate.get_child(SM, "resume").expect("<resume/> inline");
    assert_eq!((resume.attr("previd"), resume.attr("h")), (Some("S1"), Some("1")));
    assert!(authenticate.get_child(BIND2, "bind").is_some(), "a bind in case the session is gone");
    h.take_events();
    // The server had our roster get and presence (h=2), not m1.
    h.recv(&success(&b64(RFC7677_SERVER_FINAL), BOUND_JID, "<resumed xmlns='urn:xmpp:sm:3' previd='S1' h='2'/>"));
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "m1 replayed, then <r/>: {sent:?}");
    assert_eq!(sent[0], m1);
    assert!(sent[1].is(SM, "r"));
    let events = h.take_events();
    assert!(events.iter().any(|e| matches!(e, Event::Online { jid, resumed: true } if jid.to_string() == BOUND_JID)));
    assert!(!events.iter().any(|e| matches!(e, Event::Roster { .. })), "nothing reloaded");
    // The new stream's features still come; they change nothing.
    h.recv(post_auth_features());
    assert!(h.client.is_online(), "{:?}", h.take_events());
    assert!(h.sent().is_empty(), "no roster request, no bind: {:?}", h.outbox);
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert_eq!(acked(&h.take_events()), ["m1"]);
}

#[test]
fn a_failed_inline_resumption_binds_in_the_same_exchange_and_resends() {
    let (mut h, _, _) = lost_with_m1(&Sasl2Offer::default());
    h.take_events();
    h.recv(&success(
        &b64(RFC7677_SERVER_FINAL),
        "user@example.com/Natter.new",
        "<failed xmlns='urn:xmpp:sm:3' h='2'/><bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='S2' resume='1'/></bound>",
    ));
    h.recv(post_auth_features());
    let roster = h.sent().into_iter().find(|e| e.name == "iq").expect("a fresh session loads the roster");
    let id = roster.attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    let sent = h.sent();
    let resent: Vec<&Element> = sent.iter().filter(|e| e.name == "message").collect();
    assert_eq!(resent.len(), 1, "m1 resent once: {sent:?}");
    assert_eq!(resent[0].attr("id"), Some("m1"));
    let events = h.take_events();
    assert!(events.iter().any(|e| matches!(e, Event::Online { resumed: false, .. })));
    // Counting on the new session: roster get, presence, m1.
    h.recv("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert_eq!(acked(&h.take_events()), ["m1"]);
}

#[test]
fn without_inline_stream_management_a_resumable_session_starts_afresh() {
    let offer = Sasl2Offer { sm: false, bind2: Some(&["urn:xmpp:carbons:2"]), ..Sasl2Offer::default() };
    let (mut h, authenticate, _) = lost_with_m1(&offer);
    assert!(authenticate.get_child(SM, "resume").is_none());
    assert!(authenticate.get_child(BIND2, "bind").unwrap().get_child(SM, "enable").is_none());
    h.recv(&success(&b64(RFC7677_SERVER_FINAL), BOUND_JID, bound()));
    h.recv(post_auth_features());
    let id = h.sent().into_iter().find(|e| e.name == "iq").unwrap().attr("id").unwrap().to_owned();
    h.recv(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    let resent: Vec<Element> = h.sent().into_iter().filter(|e| e.name == "message").collect();
    assert_eq!(resent.len(), 1);
    // Without stream management a message counts as sent once written.
    assert_eq!(acked(&h.take_events()), ["m1"]);
}
