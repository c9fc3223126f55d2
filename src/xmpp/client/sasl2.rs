//! The SASL2 stage (XEP-0388): authenticate, bind a resource with carbons on (XEP-0386 Bind2), and get or
//! use a FAST token (XEP-0484), all in one exchange. Taken whenever the server offers SASL2 (unless
//! `Config::sasl2` is off); `auth.rs` keeps the legacy path for servers without it.
//!
//! ```text
//!  features with <authentication xmlns='urn:xmpp:sasl:2'>
//!    ─▶ <authenticate mechanism> initial response, <user-agent id>, <bind><tag/><enable carbons/></bind>,
//!                                <request-token/> (password login, when asked) | <fast count/> (token login)
//!    ◀─ <challenge/> ─▶ <response/>          (SCRAM only; FAST needs no second round trip)
//!    ◀─ <success> additional-data (checked), authorization-identifier (our account; full JID when bound),
//!                 <bound/>, <token/> (new or rotated) </success>
//!    ◀─ <stream:features/> of the authenticated stream (no restart) ─▶ roster, or bind if Bind2 was not offered
//! ```
//!
//! Every check of the legacy path holds: the SCRAM nonce, iteration bounds and server signature (here in
//! `<additional-data/>`), and XEP-0474 downgrade protection, which hashes the mechanism list of the profile
//! in use: SASL2's `<authentication/>` list, not the legacy `<mechanisms/>` next to it (XEP-0474 §5.1). A
//! token login checks the server's responder hash the same way.
//!
//! XEP-0198 inline: where the server offers it, `<enable resume/>` goes inside Bind2 and, when a lost session
//! can be resumed, `<resume previd h/>` next to it, so that resuming costs no extra round trip either. The
//! answers come in `<success/>`: `<resumed/>` (the lost session continues: `Online { resumed: true }`, nothing
//! reloaded, as in `resume.rs`), or `<failed/>` and the new resource in `<bound/>` with `<enabled/>` (the
//! unacknowledged messages are resent once online, as after a failed legacy resumption).

use web_time::Instant;

use super::auth::{Auth, channel_bindings, decode};
use super::{Client, ClientError, Event, Phase, Stage, sm};
use crate::xmpp::framing;
use crate::xmpp::jid::Jid;
use crate::xmpp::sasl::{self, Credentials, Mechanism, SaslError};
use crate::xmpp::stanza::message::CARBONS_NS;
use crate::xmpp::stanza::sasl2::{self as el, Failure, SASL2_NS, Sasl2Offer, Success};
use crate::xmpp::xml::Element;

/// What a SASL2 exchange in flight asked for, next to the SASL state.
pub(super) struct Sasl2 {
    auth: Auth,
    /// Bind2 was requested (and carbons enabled with it when `carbons`).
    bind: bool,
    carbons: bool,
    /// The mechanism of a token the server may hand us: the one requested, or the one in use (rotation).
    token_mechanism: Option<Mechanism>,
    /// This login uses the kept token: a refusal means the token is no good.
    with_token: bool,
    /// The login revokes the token (logging out): no session follows.
    invalidate: bool,
    /// `<resume/>` (XEP-0198) was sent inline.
    resume: bool,
}

/// The Bind2 tag when the config names no resource: servers make the resource `Natter.<random>`.
const BIND2_TAG: &str = "Natter";

impl Client {
    pub(super) fn start_sasl2(&mut self, features: &Element, offer: Sasl2Offer, now: Instant) -> Stage {
        let Some(username) = self.config.jid.local().map(str::to_owned) else {
            return self.fail_auth(ClientError::Sasl(SaslError::NoAcceptableMechanism { offered: offer.mechanisms }));
        };
        let invalidate = self.config.invalidate_fast_token && matches!(self.config.credentials, Credentials::Token(_));
        let mut inline = Vec::new();
        let mut token_mechanism = None;
        let (auth, mechanism, first) = if let Credentials::Token(kept) = &self.config.credentials {
            let fast = sasl::select_fast_mechanism(&offer.fast);
            if self.config.user_agent.is_none() || fast != Some(kept.mechanism) {
                return self.fail_auth(ClientError::Sasl(SaslError::FastUnavailable));
            }
            // XEP-0484 §3.4: one more at each attempt, never a count used before; the caller learns it now.
            let mut token = kept.clone();
            token.count = token.count.saturating_add(1);
            let (state, first) = match sasl::ht_start(&token, &username) {
                Ok(started) => started,
                Err(e) => return self.fail_auth(ClientError::Sasl(e)),
            };
            inline.push(el::fast_login(token.count, invalidate));
            token_mechanism = Some(token.mechanism);
            self.config.credentials = Credentials::Token(token.clone());
            self.fast_token = Some(token.clone());
            self.events.push_back(Event::FastToken(token.clone()));
            (Auth::Fast(state), token.mechanism, first)
        } else {
            match self.start_password_auth(offer.mechanisms.clone(), channel_bindings(features)) {
                Ok(started) => {
                    if self.config.request_fast_token
                        && self.config.user_agent.is_some()
                        && let Some(m) = sasl::select_fast_mechanism(&offer.fast)
                    {
                        inline.push(el::request_token(m));
                        token_mechanism = Some(m);
                    }
                    started
                }
                Err(e) => return self.fail_auth(e),
            }
        };
        let mut bind = false;
        let mut carbons = false;
        let mut resume = false;
        if !invalidate {
            // XEP-0198: resume the lost session in this very exchange (the bind below is the fallback).
            if let Some(request) = self.sm.resume_request().filter(|_| offer.sm) {
                inline.push(request);
                resume = true;
            }
            if offer.bind2.is_some() {
                let mut enable = Vec::new();
                if offer.bind2_can(CARBONS_NS) {
                    enable.push(Element::new(CARBONS_NS, "enable"));
                    carbons = true;
                }
                if offer.bind2_can(sm::SM_NS) {
                    // Not `Sm::enable` yet: the unacknowledged stanzas of a session we may resume are still
                    // queued; counting starts at `<enabled/>` in `<success/>` (see `sasl2_success`).
                    enable.push(Element::new(sm::SM_NS, "enable").with_attr("resume", "true"));
                }
                let tag = self.config.resource.clone().filter(|r| !r.is_empty());
                inline.push(el::bind2_request(tag.as_deref().unwrap_or(BIND2_TAG), enable));
                bind = true;
            }
        }
        let authenticate = el::authenticate(mechanism, &first, self.config.user_agent.as_ref(), inline);
        self.send(&authenticate);
        self.stage_deadline = Some(now + self.config.request_timeout);
        self.events.push_back(Event::Phase(Phase::Authenticating(mechanism)));
        let with_token = mechanism.is_fast();
        Stage::Sasl2(Sasl2 { auth, bind, carbons, token_mechanism, with_token, invalidate, resume })
    }

    /// An element in the SASL2 namespace while authenticating.
    pub(super) fn continue_sasl2(&mut self, state: Sasl2, el: &Element, now: Instant) -> Stage {
        self.stage_deadline = Some(now + self.config.request_timeout);
        match el.name.as_str() {
            "challenge" => {
                let data = match decode(el) {
                    Ok(d) => d.unwrap_or_default(),
                    Err(e) => return self.fail_auth(e),
                };
                match state.auth.answer_challenge(&data) {
                    Ok((auth, reply)) => {
                        self.send(&el::response(&reply));
                        Stage::Sasl2(Sasl2 { auth, ..state })
                    }
                    Err(e) => self.give_up_sasl2(e),
                }
            }
            "success" => self.sasl2_success(state, el, now),
            "failure" => {
                let Failure { condition: failure, text } = Failure::parse(el);
                self.send_raw(framing::close(None));
                let error = if state.with_token {
                    // XEP-0484 §4.1: a refused token is discarded; the person logs in with the password again.
                    self.fast_token = None;
                    ClientError::FastTokenRefused { failure, text }
                } else {
                    ClientError::AuthFailed { failure, text }
                };
                self.finish(Some(error));
                Stage::Closed
            }
            // Anything else, XEP-0388 `<continue/>` with its tasks (a second factor, a password change)
            // included: nothing Natter can go on with.
            _ => self.give_up_sasl2(None),
        }
    }

    /// Our check of the server failed (`Some`), or it sent what does not fit (`None`): abort and close.
    fn give_up_sasl2(&mut self, error: Option<SaslError>) -> Stage {
        self.send(&el::abort());
        match error {
            Some(e) => self.fail_auth(ClientError::Sasl(e)),
            None => {
                self.protocol_error("an unexpected SASL2 element arrived");
                Stage::Closed
            }
        }
    }

    fn sasl2_success(&mut self, state: Sasl2, el: &Element, now: Instant) -> Stage {
        let Ok(success) = Success::parse(el) else {
            return self.fail_auth(ClientError::Protocol("a SASL payload is not valid base64"));
        };
        let keys = match state.auth.verify_success(success.additional_data.as_deref()) {
            Ok(keys) => keys,
            // The server says we are in but did not prove it knows the password (or token): we are not.
            Err(Some(e)) => return self.fail_auth(ClientError::Sasl(e)),
            Err(None) => {
                self.protocol_error("the server declared success before the authentication was complete");
                return Stage::Closed;
            }
        };
        let jid = success.authorization_identifier.as_deref().and_then(|a| Jid::parse(a).ok());
        let jid = match jid {
            Some(jid) if jid.bare() == &self.config.jid => jid,
            _ => {
                self.protocol_error("the server authenticated us as an account that is not ours");
                return Stage::Closed;
            }
        };
        // The server proved it knows our password (SCRAM's signature) or token (FAST's responder hash).
        self.server_verified = true;
        if let Some(keys) = keys {
            // The only copy the session keeps: for `resumption`.
            self.config.credentials = Credentials::Keys(keys);
        }
        if let Some(token) = state.token_mechanism.and_then(|m| success.token_for(m)) {
            self.fast_token = Some(token.clone());
            self.events.push_back(Event::FastToken(token));
        }
        if state.invalidate {
            // Logged out on the server: the token is dead; no session was asked for, so end this one.
            self.fast_token = None;
            self.events.push_back(Event::FastTokenInvalidated);
            self.send_raw(framing::close(None));
            self.stage_deadline = Some(now + self.config.request_timeout.min(std::time::Duration::from_secs(5)));
            self.events.push_back(Event::Phase(Phase::Closing));
            return Stage::Closing;
        }
        if state.resume {
            if let Some(resumed) = success.element.get_child(sm::SM_NS, "resumed") {
                // The lost session continues on this stream; the features that follow change nothing.
                self.sasl2_features_due = true;
                return self.handle_sm(Stage::Resuming, resumed, now);
            }
            // Not resumed (`<failed/>`, or no answer): start afresh, resending the unacknowledged messages.
            self.resume_failed(success.element.get_child(sm::SM_NS, "failed").and_then(sm::h_of));
            if self.is_closed() {
                return Stage::Closed;
            }
        }
        if let (true, Some(bound)) = (state.bind, success.bound) {
            if jid.is_bare() {
                self.protocol_error("the server bound no resource although it said so");
                return Stage::Closed;
            }
            self.bound = Some(jid);
            self.carbons_inline = state.carbons;
            if self.sm.resume_request().is_some() {
                // A session we could have resumed, on a server that offered no inline resumption.
                self.resume_failed(None);
            }
            if let Some(enabled) = bound.get_child(sm::SM_NS, "enabled") {
                self.sm.enable();
                self.sm.enabled(enabled);
            }
        }
        // No restart in SASL2: the features of the authenticated stream come next.
        Stage::AwaitFeatures { authenticated: true }
    }
}

/// Whether an element is one of SASL2's (they arrive as nonzas: RFC 7395 framing knows only legacy SASL).
pub(super) fn is_sasl2(el: &Element) -> bool {
    el.ns == SASL2_NS
}
