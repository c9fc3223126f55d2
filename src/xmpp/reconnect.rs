//! When and how soon to reconnect after a session ended: a pure policy the transport executes.
//!
//! A dropped network or a silent server is worth retrying (with the SCRAM keys of the session, so the
//! password is not needed again); a refused login, a protocol violation or being replaced by another
//! session is not. Delays grow exponentially with jitter so that many clients do not return at once after
//! a server restart. The jitter is an input (`0.0..1.0` from the caller's RNG): no randomness in here.

use std::time::Duration;

use crate::xmpp::client::ClientError;

/// Whether a session that ended with `error` should be re-established automatically.
pub fn worth_retrying(error: &ClientError) -> bool {
    match error {
        ClientError::ConnectionLost | ClientError::Timeout { .. } => true,
        ClientError::Stream(e) => matches!(
            e.condition.as_str(),
            "system-shutdown" | "connection-timeout" | "reset" | "internal-server-error" | "remote-connection-failed"
        ),
        // Wrong credentials, a misbehaving server, or another login with our resource: retrying would
        // repeat the failure (or fight the other session).
        ClientError::AuthFailed { .. }
        | ClientError::FastTokenRefused { .. }
        | ClientError::Sasl(_)
        | ClientError::BindFailed(_)
        | ClientError::Framing(_)
        | ClientError::Protocol(_) => false,
    }
}

/// Exponential backoff: 1 s, 2 s, 4 s … up to `max`, each scaled into `[½, 1]` of itself by the jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    base: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { attempt: 0, base: Duration::from_secs(1), max: Duration::from_secs(60) }
    }
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff { attempt: 0, base, max }
    }

    /// The delay before the next attempt; `jitter` in `0.0..1.0` (values outside are clamped).
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(16));
        let full = self.base.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        // In whole milliseconds (`Duration::mul_f64` would bring its float-to-duration checks into the wasm).
        let ms = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(ms / 2 + (ms as f64 * 0.5 * jitter.clamp(0.0, 1.0)) as u64)
    }

    /// How many attempts were made since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Call once a session is online again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmpp::framing::StreamError;
    use crate::xmpp::sasl::SaslFailure;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let mut b = Backoff::default();
        let full: Vec<u64> = (0..9).map(|_| b.next_delay(1.0).as_secs()).collect();
        assert_eq!(full, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.attempts(), 9);
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500), "no jitter = half the delay");
    }

    #[test]
    fn jitter_is_clamped() {
        let mut b = Backoff::default();
        assert_eq!(b.next_delay(7.0), Duration::from_secs(1));
        assert_eq!(b.next_delay(-3.0), Duration::from_secs(1));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(worth_retrying(&ClientError::ConnectionLost));
        assert!(worth_retrying(&ClientError::Timeout { stage: "keepalive" }));
        let stream =
            |c: &str| ClientError::Stream(StreamError { condition: c.into(), text: None, see_other_host: None });
        assert!(worth_retrying(&stream("system-shutdown")));
        assert!(!worth_retrying(&stream("conflict")));
        assert!(!worth_retrying(&ClientError::AuthFailed { failure: SaslFailure::NotAuthorized, text: None }));
    }
}
