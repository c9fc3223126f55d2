//! The SASL stage (RFC 6120 §6) and the bind stage (§7) of the session; SASL2 (`sasl2.rs`) starts from here
//! when the server offers it.

use crate::xmpp::sasl::base64::BASE64;
use web_time::Instant;

use super::{Client, ClientError, Event, Pending, Phase, Stage, sm};
use crate::xmpp::framing::SASL_NS;
use crate::xmpp::sasl::{
    self, Credentials, DowngradeInfo, HtAwaitingSuccess, Mechanism, SaslError, SaslFailure, ScramAwaitingChallenge,
    ScramAwaitingSuccess, ScramKeys, ScramServerVerified,
};
use crate::xmpp::stanza::roster;
use crate::xmpp::stanza::sasl2::Sasl2Offer;
use crate::xmpp::xml::Element;
use zeroize::Zeroizing;

const BIND_NS: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const SESSION_NS: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// XEP-0440: channel-binding types the server supports (needed for XEP-0474's hash).
const SASL_CB_NS: &str = "urn:xmpp:sasl-cb:0";
/// XEP-0352 Client State Indication.
pub(super) const CSI_NS: &str = "urn:xmpp:csi:0";

/// Where a SASL exchange is (legacy or SASL2); each variant holds exactly the state valid while waiting for
/// that message.
pub(super) enum Auth {
    ScramChallenge(ScramAwaitingChallenge),
    ScramSuccess(ScramAwaitingSuccess),
    ScramVerified(ScramServerVerified),
    Plain,
    /// XEP-0484: a FAST token was sent (SASL2 only).
    Fast(HtAwaitingSuccess),
}

impl Auth {
    /// Answers a `<challenge/>` (payload decoded): the reply to send and the next state. `Err(None)`: no
    /// challenge was expected now.
    pub(super) fn answer_challenge(self, data: &[u8]) -> Result<(Auth, Vec<u8>), Option<SaslError>> {
        match self {
            Auth::ScramChallenge(state) => state.handle_challenge(data).map(|(s, r)| (Auth::ScramSuccess(s), r)),
            // Some servers send the server-final-message in a challenge (RFC 6120 §6.3.10).
            Auth::ScramSuccess(state) => {
                state.handle_server_final_challenge(data).map(|(s, r)| (Auth::ScramVerified(s), r))
            }
            Auth::ScramVerified(_) | Auth::Plain | Auth::Fast(_) => return Err(None),
        }
        .map_err(Some)
    }

    /// Checks a `<success/>`'s data (the server-final-message, or FAST's responder hash): SCRAM yields the
    /// keys for a later login. `Err(None)`: success before the exchange could have proved anything.
    pub(super) fn verify_success(self, data: Option<&[u8]>) -> Result<Option<ScramKeys>, Option<SaslError>> {
        match self {
            Auth::ScramSuccess(state) => state.handle_success(data).map(Some).map_err(Some),
            Auth::ScramVerified(state) => state.handle_success(data).map(Some).map_err(Some),
            Auth::Plain => Ok(None),
            Auth::Fast(state) => state.handle_success(data).map(|()| None).map_err(Some),
            Auth::ScramChallenge(_) => Err(None),
        }
    }
}

/// SASL payloads are base64; an empty payload is sent as `=` (RFC 6120 §6.4.2).
fn encode(data: &[u8]) -> String {
    if data.is_empty() { "=".to_owned() } else { BASE64.encode(data) }
}

pub(super) fn decode(el: &Element) -> Result<Option<Vec<u8>>, ClientError> {
    let text = el.text();
    let text = text.trim();
    match text {
        "" => Ok(None),
        "=" => Ok(Some(Vec::new())),
        t => BASE64.decode(t).map(Some).map_err(|_| ClientError::Protocol("a SASL payload is not valid base64")),
    }
}

/// The XEP-0440 channel-binding types advertised (for XEP-0474's hash); empty when none are.
pub(super) fn channel_bindings(features: &Element) -> Vec<String> {
    features
        .get_child(SASL_CB_NS, "sasl-channel-binding")
        .map(|cb| {
            cb.children_named(SASL_CB_NS, "channel-binding").filter_map(|c| c.attr("type")).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

impl Client {
    pub(super) fn start_auth(&mut self, features: &Element, now: Instant) -> Stage {
        if self.config.sasl2
            && let Some(offer) = Sasl2Offer::parse(features)
        {
            return self.start_sasl2(features, offer, now);
        }
        if let Credentials::Token(_) = self.config.credentials {
            // A token logs in only through SASL2 with FAST.
            return self.fail_auth(ClientError::Sasl(SaslError::FastUnavailable));
        }
        let Some(mechs) = features.get_child(SASL_NS, "mechanisms") else {
            self.protocol_error("the server offers no SASL authentication");
            return Stage::Closed;
        };
        let offered: Vec<String> =
            mechs.children_named(SASL_NS, "mechanism").map(|m| m.text().trim().to_owned()).collect();
        match self.start_password_auth(offered, channel_bindings(features)) {
            Ok((auth, mechanism, first)) => {
                let el =
                    Element::new(SASL_NS, "auth").with_attr("mechanism", mechanism.name()).with_text(encode(&first));
                self.send(&el);
                self.stage_deadline = Some(now + self.config.request_timeout);
                self.events.push_back(Event::Phase(Phase::Authenticating(mechanism)));
                Stage::Auth(auth)
            }
            Err(e) => self.fail_auth(e),
        }
    }

    /// Chooses the strongest mechanism among `offered` that the config allows and starts it with the password
    /// or the kept keys: the state, the mechanism and the initial response. `offered` is the whole list of the
    /// SASL profile in use (legacy `<mechanisms/>` or SASL2 `<authentication/>`), as XEP-0474 hashes it.
    pub(super) fn start_password_auth(
        &mut self,
        offered: Vec<String>,
        channel_bindings: Vec<String>,
    ) -> Result<(Auth, Mechanism, Zeroizing<Vec<u8>>), ClientError> {
        // Mechanisms the caller ruled out are dropped; names we do not implement stay, so that an offered
        // SCRAM variant we cannot use still rules out PLAIN.
        // Derived keys fit one mechanism only (their hash), whatever the config allows.
        let allowed = |m: Mechanism| match &self.config.credentials {
            Credentials::Keys(k) => k.hash.mechanism() == m,
            Credentials::Password(_) => self.config.mechanisms.contains(&m) && !m.is_fast(),
            Credentials::Token(_) => false,
        };
        let usable: Vec<String> =
            offered.iter().filter(|name| Mechanism::from_name(name).is_none_or(allowed)).cloned().collect();
        let mechanism = sasl::select_mechanism(&usable, self.config.allow_plain).map_err(ClientError::Sasl)?;
        let Some(username) = self.config.jid.local().map(str::to_owned) else {
            return Err(ClientError::Sasl(SaslError::NoAcceptableMechanism { offered }));
        };
        // The credentials move into the exchange: the config holds no password from here on (the keys come back
        // into it once the server has accepted them, see `authenticated`).
        let credentials = std::mem::replace(&mut self.config.credentials, Credentials::Password(String::new()));
        let started = match (mechanism.scram_hash(), &credentials) {
            (Some(hash), _) => sasl::scram_start(
                hash,
                &username,
                credentials,
                &self.config.client_nonce,
                self.config.scram_limits,
                Some(DowngradeInfo { mechanisms: offered, channel_bindings }),
            )
            .map(|(state, first)| (Auth::ScramChallenge(state), Zeroizing::new(first))),
            (None, Credentials::Password(password)) => {
                // `<auth/>` carries the password itself; the frame that carries it is not ours to wipe.
                sasl::plain_initial_response(&username, password).map(|first| (Auth::Plain, Zeroizing::new(first)))
            }
            (None, Credentials::Keys(_)) => Err(SaslError::KeysStale),
            (None, Credentials::Token(_)) => Err(SaslError::FastUnavailable),
        };
        started.map(|(auth, first)| (auth, mechanism, first)).map_err(ClientError::Sasl)
    }

    pub(super) fn continue_auth(&mut self, auth: Auth, el: &Element, now: Instant) -> Stage {
        if el.name == "failure" {
            let condition = el.elements().find(|c| c.ns == SASL_NS && c.name != "text").map(|c| c.name.as_str());
            let failure = SaslFailure::from_condition(condition.unwrap_or("not-authorized"));
            let text = el.get_child(SASL_NS, "text").map(Element::text);
            // The stream stays open after a SASL failure (RFC 6120 §6.4.5); we end it.
            self.send_raw(crate::xmpp::framing::close(None));
            self.finish(Some(ClientError::AuthFailed { failure, text }));
            return Stage::Closed;
        }
        let data = match decode(el) {
            Ok(d) => d,
            Err(e) => return self.fail_auth(e),
        };
        self.stage_deadline = Some(now + self.config.request_timeout);
        let step: Result<Stage, Option<SaslError>> = match el.name.as_str() {
            "challenge" => auth.answer_challenge(data.as_deref().unwrap_or_default()).map(|(next, reply)| {
                self.send(&Element::new(SASL_NS, "response").with_text(encode(&reply)));
                Stage::Auth(next)
            }),
            "success" => auth.verify_success(data.as_deref()).map(|keys| self.authenticated(keys, now)),
            _ => Err(None),
        };
        match step {
            Ok(stage) => stage,
            Err(None) => {
                self.protocol_error("an unexpected SASL element arrived");
                Stage::Closed
            }
            Err(Some(e)) => {
                // Tell the server we give up, then close (RFC 6120 §6.4.4 abort).
                self.send(&Element::new(SASL_NS, "abort"));
                self.fail_auth(ClientError::Sasl(e))
            }
        }
    }

    fn authenticated(&mut self, keys: Option<sasl::ScramKeys>, now: Instant) -> Stage {
        if let Some(keys) = keys {
            // The only copy the session keeps: for `resumption`.
            self.config.credentials = Credentials::Keys(keys);
            self.server_verified = true;
        }
        // RFC 6120 §6.4.6 / RFC 7395 §3.5: restart the stream with a fresh <open/>.
        self.open_stream(true, now);
        Stage::AwaitOpen { authenticated: true }
    }

    pub(super) fn fail_auth(&mut self, error: ClientError) -> Stage {
        self.send_raw(crate::xmpp::framing::close(None));
        self.finish(Some(error));
        Stage::Closed
    }

    pub(super) fn start_bind(&mut self, features: &Element, now: Instant) -> Stage {
        self.stage_deadline = None;
        self.roster_versioning = features.get_child(roster::ROSTER_VER_NS, "ver").is_some();
        self.sm_offered = features.get_child(sm::SM_NS, "sm").is_some();
        self.csi_offered = features.get_child(CSI_NS, "csi").is_some();
        if self.bound.is_some() {
            // Bound inline by Bind2 (XEP-0386) during SASL2: these are the features of the bound stream.
            self.request_roster(now);
            return Stage::LoadingRoster;
        }
        if features.get_child(BIND_NS, "bind").is_none() {
            self.protocol_error("the server offers no resource binding");
            return Stage::Closed;
        }
        // The legacy session iq (RFC 3921) is needed only when the server marks it as not optional.
        self.session_needed =
            features.get_child(SESSION_NS, "session").is_some_and(|s| s.get_child(SESSION_NS, "optional").is_none());
        if let Some(resume) = self.sm.resume_request() {
            if self.sm_offered {
                self.send(&resume);
                self.stage_deadline = Some(now + self.config.request_timeout);
                self.events.push_back(Event::Phase(Phase::Resuming));
                return Stage::Resuming;
            }
            // Stream management is gone from this server: start afresh (the unacked messages are resent).
            self.resume_failed(None);
            if self.is_closed() {
                return Stage::Closed;
            }
        }
        self.send_bind(now)
    }

    pub(super) fn send_bind(&mut self, now: Instant) -> Stage {
        let mut bind = Element::new(BIND_NS, "bind");
        if let Some(res) = self.config.resource.clone().filter(|r| !r.is_empty()) {
            bind.push_child(Element::new(BIND_NS, "resource").with_text(res));
        }
        self.send_iq("set", None, bind, Pending::Bind, now);
        self.events.push_back(Event::Phase(Phase::Binding));
        Stage::Binding
    }

    /// Handles the result of our bind request: records the JID, then the session iq or the roster.
    pub(super) fn bound(&mut self, result: &Element, now: Instant) {
        let jid = result
            .get_child(BIND_NS, "bind")
            .and_then(|b| b.get_child(BIND_NS, "jid"))
            .and_then(|j| crate::xmpp::jid::Jid::parse(j.text().trim()).ok());
        match jid {
            Some(jid) if jid.bare() == &self.config.jid && !jid.is_bare() => {
                self.bound = Some(jid);
                if self.sm_offered {
                    // Before anything else, so that every stanza of the session is counted (XEP-0198 §3).
                    let enable = self.sm.enable();
                    self.send(&enable);
                }
                if self.session_needed {
                    self.send_iq("set", None, Element::new(SESSION_NS, "session"), Pending::Session, now);
                } else {
                    self.request_roster(now);
                }
            }
            _ => self.protocol_error("the server bound a JID that is not ours"),
        }
    }

    pub(super) fn request_roster(&mut self, now: Instant) {
        let ver = match (&self.config.cached_roster, self.roster_versioning) {
            (Some((ver, _)), true) => Some(ver.clone()),
            (None, true) => Some(String::new()),
            _ => None,
        };
        self.send_iq("get", None, roster::get_query(ver.as_deref()), Pending::RosterGet, now);
        self.stage = Stage::LoadingRoster;
        self.events.push_back(Event::Phase(Phase::LoadingRoster));
    }
}
