//! XEP-0198 Stream Management: counting, acknowledgements, the queue of unacknowledged stanzas, and what a
//! lost session hands to the next one so that it can resume (or resend).
//!
//! ```text
//!  bound ─▶ <enable resume='true'/> ─▶ <enabled id=…/>     count in/out, <r/> ⇄ <a h=…/>, keep unacked
//!  lost  ─▶ Client::resumption() ─▶ StreamSnapshot in Config ─▶ new Client, after SASL:
//!           <resume previd h/> ─▶ <resumed h/>  drop what h acknowledges, replay the rest (same stream)
//!                              └▶ <failed h?/> bind fresh, enable, resend the unacked MESSAGES once
//!                                             (original ids, XEP-0203 delay stamp), nothing else
//! ```
//!
//! Counters are `u32` and wrap at 2^32 (XEP-0198 §4); an `h` that acknowledges more than was sent is a typed
//! protocol error, never a panic. Nonzas (`<r/>`, `<a/>`, …) are never counted.
//!
//! Bounds (our own memory, whatever the server does): at most [`MAX_UNACKED_MESSAGES`] messages wait for the
//! server's acknowledgement — a further `SendMessage` is refused with `CommandError::Backlog` (the UI keeps it
//! in its outbox and hands it over after the next `MessageAcked`); at most [`MAX_UNACKED`] stanzas of any
//! kind — past that the server is not acknowledging at all and the session ends with a timeout, which the
//! transport treats like a lost connection (resume or resend, nothing dropped).
//!
//! What this module does NOT do: no timers of its own (the session asks for deadlines), no parsing of the
//! stanzas it queues (messages are queued with their typed form beside the XML), no I/O.

use std::collections::VecDeque;

use web_time::Instant;

use crate::xmpp::stanza::message::Message;
use crate::xmpp::xml::Element;

pub const SM_NS: &str = "urn:xmpp:sm:3";

/// Messages that may wait for the server's acknowledgement at once.
pub const MAX_UNACKED_MESSAGES: usize = 2_000;
/// Stanzas of any kind that may wait for the server's acknowledgement at once.
pub const MAX_UNACKED: usize = 5_000;

/// A message we sent that the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    /// As sent: `id` = `origin-id` = the id the caller gave.
    pub message: Message,
    /// When it was first sent (ms since the Unix epoch, from `Config::clock`), for the delay stamp of a resend.
    pub sent_unix_ms: Option<u64>,
}

#[derive(Debug, Clone)]
struct Unacked {
    xml: String,
    message: Option<PendingMessage>,
}

/// Where XEP-0198 is on the current stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not enabled (not offered, refused, or not yet asked).
    Off,
    /// `<enable/>` sent: our stanzas count from here; theirs from `<enabled/>`.
    Enabling,
    /// Enabled or resumed.
    On,
}

/// Why an acknowledgement could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AckTooHigh;

/// The XEP-0198 state a lost session hands to the next one, inside the `Config` that `Client::resumption`
/// returns. Opaque but for what the UI and a store may need to know.
#[derive(Debug, Clone, Default)]
pub struct StreamSnapshot {
    /// `(id, location)` of a session the server lets us resume.
    resume: Option<(String, Option<String>)>,
    inbound: u32,
    acked: u32,
    unacked: VecDeque<Unacked>,
    resend: Vec<PendingMessage>,
    pub(super) session: Option<super::CarriedSession>,
}

impl StreamSnapshot {
    /// The messages the core still owns (sent, not acknowledged by the server), oldest first.
    pub fn pending_messages(&self) -> impl Iterator<Item = &PendingMessage> {
        self.resend.iter().chain(self.unacked.iter().filter_map(|u| u.message.as_ref()))
    }

    /// Whether the server offered to resume this session.
    pub fn resumable(&self) -> bool {
        self.resume.is_some()
    }

    /// The `location` the server gave for resuming (a host[:port] hint; a WebSocket client has no use for it
    /// beyond logs: the URL stays the one that worked).
    pub fn location(&self) -> Option<&str> {
        self.resume.as_ref().and_then(|(_, l)| l.as_deref())
    }
}

/// The live XEP-0198 state of one client.
#[derive(Debug)]
pub(super) struct Sm {
    link: Link,
    resume: Option<(String, Option<String>)>,
    /// Stanzas handled from the server (our `h`).
    inbound: u32,
    /// The server's last `h`: how many of ours it has handled.
    acked: u32,
    unacked: VecDeque<Unacked>,
    /// Messages of a session that could not be resumed, to send again once online.
    resend: Vec<PendingMessage>,
    /// Stanzas went out since the last `<r/>`.
    ack_due: bool,
    /// An `<r/>` is outstanding; its answer is due by then.
    pub(super) ack_deadline: Option<Instant>,
}

impl Sm {
    /// The state a new client starts with: what a lost session left (if any). Without a resumable session,
    /// its unacknowledged messages become messages to resend.
    pub(super) fn new(snapshot: Option<StreamSnapshot>) -> (Sm, Option<super::CarriedSession>) {
        let s = snapshot.unwrap_or_default();
        let mut sm = Sm {
            link: Link::Off,
            resume: s.resume,
            inbound: s.inbound,
            acked: s.acked,
            unacked: s.unacked,
            resend: s.resend,
            ack_due: false,
            ack_deadline: None,
        };
        if sm.resume.is_none() {
            sm.give_up_resumption();
        }
        (sm, s.session)
    }

    pub(super) fn snapshot(&self, session: Option<super::CarriedSession>) -> StreamSnapshot {
        StreamSnapshot {
            resume: self.resume.clone(),
            inbound: self.inbound,
            acked: self.acked,
            unacked: self.unacked.clone(),
            resend: self.resend.clone(),
            session: session.filter(|_| self.resume.is_some()),
        }
    }

    pub(super) fn is_on(&self) -> bool {
        self.link == Link::On
    }

    /// `<resume/>` for the session we may resume, if any.
    pub(super) fn resume_request(&self) -> Option<Element> {
        let (id, _) = self.resume.as_ref()?;
        Some(Element::new(SM_NS, "resume").with_attr("h", self.inbound.to_string()).with_attr("previd", id.as_str()))
    }

    /// `<enable/>` is being sent on a freshly bound stream: both counters start at zero.
    pub(super) fn enable(&mut self) -> Element {
        debug_assert!(self.unacked.is_empty());
        self.link = Link::Enabling;
        self.inbound = 0;
        self.acked = 0;
        self.unacked.clear();
        Element::new(SM_NS, "enable").with_attr("resume", "true")
    }

    /// `<enabled/>`: counting the server's stanzas starts now.
    pub(super) fn enabled(&mut self, el: &Element) {
        self.link = Link::On;
        let resume = matches!(el.attr("resume"), Some("true" | "1"));
        self.resume = match el.attr("id") {
            Some(id) if resume && !id.is_empty() => Some((id.to_owned(), el.attr("location").map(str::to_owned))),
            _ => None,
        };
    }

    /// The server refused `<enable/>`: no acknowledgements will come; what was written counts as sent.
    pub(super) fn enable_failed(&mut self) -> Vec<String> {
        self.link = Link::Off;
        self.resume = None;
        self.ack_deadline = None;
        self.unacked.drain(..).filter_map(|u| u.message.and_then(|m| m.message.id)).collect()
    }

    /// `<resumed h=…/>`: drops what `h` acknowledges; returns their message ids and the stanzas to replay.
    pub(super) fn resumed(&mut self, h: u32) -> Result<(Vec<String>, Vec<String>), AckTooHigh> {
        let acked = self.ack(h)?;
        self.link = Link::On;
        let replay = self.unacked.iter().map(|u| u.xml.clone()).collect();
        self.ack_due = !self.unacked.is_empty();
        Ok((acked, replay))
    }

    /// `<failed/>` to our `<resume/>` (or no resumption offered on the new stream): applies `h` when the
    /// server gave one, then keeps only the unacknowledged messages, to resend on the fresh session.
    pub(super) fn resume_failed(&mut self, h: Option<u32>) -> Result<Vec<String>, AckTooHigh> {
        let acked = match h {
            Some(h) => self.ack(h)?,
            None => Vec::new(),
        };
        self.give_up_resumption();
        Ok(acked)
    }

    fn give_up_resumption(&mut self) {
        self.resume = None;
        self.link = Link::Off;
        let old = std::mem::take(&mut self.unacked);
        self.resend.extend(old.into_iter().filter_map(|u| u.message));
        self.inbound = 0;
        self.acked = 0;
        self.ack_deadline = None;
    }

    /// Messages to send again on this session (once online), oldest first.
    pub(super) fn take_resend(&mut self) -> Vec<PendingMessage> {
        std::mem::take(&mut self.resend)
    }

    /// A stanza arrived from the server.
    pub(super) fn count_inbound(&mut self) {
        if self.link == Link::On {
            self.inbound = self.inbound.wrapping_add(1);
        }
    }

    /// A stanza is being sent: keeps it until acknowledged. `false` when XEP-0198 is off (nothing kept).
    pub(super) fn record_outbound(&mut self, xml: &str, message: Option<PendingMessage>) -> bool {
        if self.link == Link::Off {
            return false;
        }
        self.unacked.push_back(Unacked { xml: xml.to_owned(), message });
        self.ack_due = true;
        true
    }

    /// Messages waiting for an acknowledgement (or for a resend).
    pub(super) fn pending_messages(&self) -> usize {
        self.resend.len() + self.unacked.iter().filter(|u| u.message.is_some()).count()
    }

    pub(super) fn overflowing(&self) -> bool {
        self.unacked.len() > MAX_UNACKED
    }

    /// `<a h=…/>` (or the `h` of `<resumed/>`/`<failed/>`): drops what it acknowledges, returning the ids of
    /// the messages among them.
    pub(super) fn ack(&mut self, h: u32) -> Result<Vec<String>, AckTooHigh> {
        let n = h.wrapping_sub(self.acked) as usize;
        if n > self.unacked.len() {
            return Err(AckTooHigh);
        }
        self.acked = h;
        self.ack_deadline = None;
        // Stanzas sent after our `<r/>` keep `ack_due` set, so one more `<r/>` follows for them; an `<a/>` that
        // leaves stanzas sent BEFORE that `<r/>` unacknowledged does not make us ask again at once (that would
        // be an endless `<r/>`–`<a/>` ping-pong with a server that lost them): the keepalive asks later.
        let ids = self.unacked.drain(..n).filter_map(|u| u.message.and_then(|m| m.message.id)).collect();
        if self.unacked.is_empty() {
            self.ack_due = false;
        }
        Ok(ids)
    }

    /// `<a h=…/>` answering the server's `<r/>`.
    pub(super) fn answer(&self) -> Element {
        Element::new(SM_NS, "a").with_attr("h", self.inbound.to_string())
    }

    /// An `<r/>` when stanzas went out since the last one and none is outstanding (one per batch of input).
    pub(super) fn request_if_due(&mut self, deadline: Instant) -> Option<Element> {
        if self.link != Link::On || !self.ack_due || self.ack_deadline.is_some() {
            return None;
        }
        self.ack_due = false;
        self.ack_deadline = Some(deadline);
        Some(Element::new(SM_NS, "r"))
    }

    /// An `<r/>` as a liveness probe (keepalive, a late timer, the page shown again).
    pub(super) fn probe(&mut self, deadline: Instant) -> Element {
        self.ack_due = false;
        self.ack_deadline = Some(deadline);
        Element::new(SM_NS, "r")
    }
}

/// The `h` attribute of `<a/>`, `<resumed/>` or `<failed/>`.
pub(super) fn h_of(el: &Element) -> Option<u32> {
    el.attr("h").and_then(|h| h.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::jid::Jid;

    fn msg(id: &str) -> PendingMessage {
        let mut m = Message::chat(Jid::parse("bob@example.com").unwrap(), id);
        m.id = Some(id.to_owned());
        PendingMessage { message: m, sent_unix_ms: None }
    }

    fn enabled() -> Sm {
        let (mut sm, _) = Sm::new(None);
        sm.enable();
        sm.enabled(&Element::new(SM_NS, "enabled").with_attr("id", "s1").with_attr("resume", "true"));
        sm
    }

    #[test]
    fn counters_wrap_at_two_to_the_32() {
        let mut sm = enabled();
        sm.inbound = u32::MAX - 1;
        sm.acked = u32::MAX - 1;
        for _ in 0..3 {
            sm.count_inbound();
        }
        assert_eq!(sm.answer().attr("h"), Some("1"), "inbound h wraps: MAX-1 + 3 = 1");
        for id in ["a", "b", "c", "d"] {
            sm.record_outbound("<message/>", Some(msg(id)));
        }
        // The server has handled three of them: its h wrapped past 2^32 to 1.
        assert_eq!(sm.ack(1).unwrap(), ["a", "b", "c"]);
        assert_eq!(sm.pending_messages(), 1);
        assert_eq!(sm.ack(2).unwrap(), ["d"]);
        assert_eq!(sm.ack(3), Err(AckTooHigh), "acknowledging more than was sent is an error");
        assert_eq!(sm.ack(2).unwrap(), Vec::<String>::new(), "the same h again acknowledges nothing");
    }

    #[test]
    fn failed_resumption_keeps_only_messages_after_h() {
        let mut sm = enabled();
        sm.record_outbound("<presence/>", None);
        sm.record_outbound("<message/>", Some(msg("m1")));
        sm.record_outbound("<message/>", Some(msg("m2")));
        let snap = sm.snapshot(None);
        let (mut next, _) = Sm::new(Some(snap));
        assert!(next.resume_request().is_some());
        assert_eq!(next.resume_failed(Some(2)).unwrap(), ["m1"]);
        let resend: Vec<_> = next.take_resend().into_iter().map(|m| m.message.id.unwrap()).collect();
        assert_eq!(resend, ["m2"]);
        assert!(next.resume_request().is_none());
    }

    #[test]
    fn a_session_without_resumption_resends_its_messages_on_the_next() {
        let (mut sm, _) = Sm::new(None);
        sm.enable();
        sm.enabled(&Element::new(SM_NS, "enabled")); // no resume='true'
        sm.record_outbound("<message/>", Some(msg("m1")));
        let (mut next, _) = Sm::new(Some(sm.snapshot(None)));
        assert!(next.resume_request().is_none());
        assert_eq!(next.take_resend().len(), 1);
    }
}
