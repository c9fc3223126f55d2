//! The session's side of XEP-0198 and XEP-0352: the stream-management nonzas as they arrive, resuming a lost
//! session or starting afresh, what is sent once online, and the client state (active/inactive).
//!
//! The counting and the queue live in [`super::sm`]; this module only wires them into the session stages.

use web_time::Instant;

use super::auth::CSI_NS;
use super::{Client, Event, Phase, Stage, sm};
use crate::xmpp::stanza::delay;
use crate::xmpp::xml::Element;

const ACKED_TOO_MUCH: &str = "the server acknowledged more stanzas than Natter sent";

impl Client {
    /// An element in the XEP-0198 namespace, in `stage`; returns the next stage.
    pub(super) fn handle_sm(&mut self, stage: Stage, el: &Element, now: Instant) -> Stage {
        match (stage, el.name.as_str()) {
            (stage, "r") => {
                let a = self.sm.answer();
                self.send(&a);
                stage
            }
            (stage, "a") => {
                let Some(h) = sm::h_of(el) else { return stage };
                match self.sm.ack(h) {
                    Ok(ids) => {
                        self.acked(ids);
                        stage
                    }
                    Err(sm::AckTooHigh) => self.sm_error(),
                }
            }
            (stage @ (Stage::Binding | Stage::LoadingRoster | Stage::Online), "enabled") => {
                self.sm.enabled(el);
                stage
            }
            (stage @ (Stage::Binding | Stage::LoadingRoster | Stage::Online), "failed") => {
                // `<enable/>` refused: no acknowledgements will come, what was written counts as sent.
                let ids = self.sm.enable_failed();
                self.acked(ids);
                stage
            }
            (Stage::Resuming, "resumed") => match sm::h_of(el).map(|h| self.sm.resumed(h)) {
                Some(Ok((ids, replay))) => {
                    self.acked(ids);
                    self.resumed(replay, now)
                }
                Some(Err(sm::AckTooHigh)) => self.sm_error(),
                None => {
                    self.protocol_error("the server resumed the session without saying what it received");
                    Stage::Closed
                }
            },
            (Stage::Resuming, "failed") => {
                self.resume_failed(sm::h_of(el));
                if self.is_closed() {
                    return Stage::Closed;
                }
                self.stage_deadline = None;
                self.send_bind(now)
            }
            (stage, _) => stage,
        }
    }

    fn sm_error(&mut self) -> Stage {
        self.protocol_error(ACKED_TOO_MUCH);
        Stage::Closed
    }

    fn acked(&mut self, ids: Vec<String>) {
        self.events.extend(ids.into_iter().map(|id| Event::MessageAcked { id }));
    }

    /// The lost session is gone (or cannot be resumed here): its acknowledged messages are reported, the
    /// others wait to be resent once online; its roster and presences are forgotten (a fresh bind reloads).
    pub(super) fn resume_failed(&mut self, h: Option<u32>) {
        match self.sm.resume_failed(h) {
            Ok(ids) => self.acked(ids),
            // A bogus `h` on a session we are abandoning anyway: resend everything rather than lose a message.
            Err(sm::AckTooHigh) => {
                let _ = self.sm.resume_failed(None);
            }
        }
        self.carried = None;
    }

    /// `<resumed/>`: the lost session continues on this stream.
    fn resumed(&mut self, replay: Vec<String>, now: Instant) -> Stage {
        self.stage_deadline = None;
        let Some(carried) = self.carried.take() else {
            self.protocol_error("the server resumed a session this client does not know");
            return Stage::Closed;
        };
        // Replayed as they were: they are still in the queue, at the same counts.
        self.transmit.extend(replay);
        self.bound = Some(carried.jid.clone());
        self.roster = carried.roster;
        self.roster_ver = carried.roster_ver;
        self.presences = carried.presences;
        self.chat_state_peers = carried.chat_state_peers;
        // Still in every room, with the same occupants: nothing to rejoin.
        self.muc = carried.muc;
        self.history.resume_rooms(carried.room_history);
        self.stage = Stage::Online;
        self.events.push_back(Event::Phase(Phase::Online));
        self.events.push_back(Event::Online { jid: carried.jid, resumed: true });
        // The UI marked everyone offline while the connection was down; the session never lost them.
        let presences =
            self.presences.iter().map(|(j, p)| Event::ContactPresence { jid: j.clone(), presence: p.best().cloned() });
        self.events.extend(presences);
        self.after_online();
        self.start_history(true, now);
        self.send_archive_queries(now);
        Stage::Online
    }

    /// Once online (fresh or resumed): messages of a session that could not be resumed go out again, once,
    /// with their original ids and a delay stamp of when they were first sent; the client state is told.
    pub(super) fn after_online(&mut self) {
        for pending in self.sm.take_resend() {
            let mut msg = pending.message.clone();
            msg.delay = pending.sent_unix_ms.map(delay::stamp);
            self.expect_reflection(&msg);
            let xml = msg.to_element().to_xml();
            self.send_message(xml, pending);
        }
        if self.inactive && self.csi_offered {
            self.send(&Element::new(CSI_NS, "inactive"));
        }
    }

    /// The features of a stream resumed inside SASL2 (they follow `<success/>`): what it offers, and the
    /// client state the server should know.
    pub(super) fn post_resume_features(&mut self, features: &Element) {
        self.roster_versioning = features.get_child(crate::xmpp::stanza::roster::ROSTER_VER_NS, "ver").is_some();
        self.sm_offered = features.get_child(sm::SM_NS, "sm").is_some();
        self.csi_offered = features.get_child(CSI_NS, "csi").is_some();
        if self.inactive && self.csi_offered {
            self.send(&Element::new(CSI_NS, "inactive"));
        }
    }

    /// XEP-0352 (see `Command::SetActive`).
    pub(super) fn set_active(&mut self, active: bool, now: Instant) {
        let changed = self.inactive == active;
        self.inactive = !active;
        if !self.is_online() {
            return;
        }
        if changed && self.csi_offered {
            self.send(&Element::new(CSI_NS, if active { "active" } else { "inactive" }));
        }
        // Back after a silence (the page was hidden, the laptop slept): find out now whether the connection
        // still lives, instead of at the next keepalive.
        if active && !self.probing() && now >= self.last_heard + super::PROBE_WHEN_ACTIVE_AFTER {
            self.probe(now);
        }
        if active {
            self.muc_woke(super::PROBE_WHEN_ACTIVE_AFTER, now);
        }
    }
}
