//! The one retry policy: which failed attempts may be sent again, and how long to wait.
//!
//! What may be retried depends on the verb. Reads (GET, LIST) change nothing, so 429, 5xx
//! (but 501), transport errors and timeouts are retried. A write is sent again only when
//! sending it twice cannot do harm: on 429 (the server refused before doing anything), or, for
//! 5xx, transport errors and timeouts, when it is a dry run or carries a resourceVersion
//! precondition (a write that did land the first time then fails with 409 Conflict instead of
//! applying twice). A write without a precondition (a server-side apply of a new object, a
//! create) is never sent again after an answer that leaves open whether it was applied.
//!
//! Waits: the server's `Retry-After` when it sent one (capped), else exponential backoff.
//! Timeouts get fewer attempts than other failures: a server too slow for the timeout once is
//! likely to be slow again, and the user asked for a bound.

use std::time::Duration;

/// The verb of a request, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Create,
    Patch,
    Delete,
}

impl Verb {
    pub fn is_read(self) -> bool {
        matches!(self, Verb::Get | Verb::List)
    }

    pub fn method(self) -> &'static str {
        match self {
            Verb::Get | Verb::List => "GET",
            Verb::Create => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// A request's verb and what makes sending it twice harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub verb: Verb,
    /// `dryRun=All`: the server persists nothing.
    pub dry_run: bool,
    /// The write carries a resourceVersion precondition.
    pub precondition: bool,
}

impl Call {
    pub fn read(verb: Verb) -> Call {
        Call { verb, dry_run: false, precondition: false }
    }

    /// Whether sending the request again cannot apply a change twice.
    pub fn replayable(&self) -> bool {
        self.verb.is_read() || self.dry_run || self.precondition
    }
}

/// How an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failed {
    Status(u16),
    Transport,
    Timeout,
}

/// Whether a failed attempt of `call` may be sent again (the bounds aside).
pub fn may_retry(call: Call, failed: Failed) -> bool {
    match failed {
        Failed::Status(429) => true,
        // Not implemented will not become implemented.
        Failed::Status(501) => false,
        Failed::Status(500..=599) => call.replayable(),
        Failed::Status(_) => false,
        Failed::Transport | Failed::Timeout => call.replayable(),
    }
}

/// How requests are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, the first one included (at least 1).
    pub max_attempts: u32,
    /// Attempts per request when they time out (at least 1; within `max_attempts`).
    pub timeout_attempts: u32,
    /// Backoff before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Longest backoff between two attempts.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; longer requests are cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            timeout_attempts: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Backoff after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait after failed attempt `attempt`: `Retry-After` (capped) when the server sent one.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_retry_after),
            None => self.backoff(attempt),
        }
    }

    /// Whether attempt `attempt` (1-based; `timeouts` of them timed out) of `call`, failed as
    /// `failed`, is followed by another.
    pub fn again(&self, call: Call, failed: Failed, attempt: u32, timeouts: u32) -> bool {
        if attempt >= self.max_attempts.max(1) || !may_retry(call, failed) {
            return false;
        }
        failed != Failed::Timeout || timeouts < self.timeout_attempts.max(1)
    }
}

/// A `Retry-After` header value: delay-seconds. (The HTTP-date form is not sent by API servers;
/// it, and anything unreadable, counts as absent, so the backoff applies.)
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u16) -> Failed = Failed::Status;

    fn write(verb: Verb, dry_run: bool, precondition: bool) -> Call {
        Call { verb, dry_run, precondition }
    }

    #[test]
    fn decision_table() {
        use Verb::*;
        let get = Call::read(Get);
        let list = Call::read(List);
        let patch_rv = write(Patch, false, true);
        let delete_rv = write(Delete, false, true);
        let apply = write(Patch, false, false);
        let create = write(Create, false, false);
        let dry_create = write(Create, true, false);
        // (call, failure, retried?)
        let table = [
            (get, S(429), true),
            (get, S(500), true),
            (get, S(502), true),
            (get, S(503), true),
            (get, S(501), false),
            (get, S(404), false),
            (get, S(403), false),
            (get, S(410), false),
            (get, Failed::Transport, true),
            (get, Failed::Timeout, true),
            (list, S(504), true),
            (list, Failed::Timeout, true),
            (patch_rv, S(429), true),
            (patch_rv, S(500), true),
            (patch_rv, Failed::Transport, true),
            (patch_rv, S(409), false),
            (patch_rv, S(422), false),
            (delete_rv, S(503), true),
            (delete_rv, S(404), false),
            (apply, S(429), true),
            (apply, S(500), false),
            (apply, S(503), false),
            (apply, Failed::Transport, false),
            (apply, Failed::Timeout, false),
            (create, S(429), true),
            (create, S(500), false),
            (create, Failed::Transport, false),
            (create, S(409), false),
            (dry_create, S(500), true),
            (dry_create, Failed::Transport, true),
        ];
        for (call, failed, expected) in table {
            assert_eq!(may_retry(call, failed), expected, "{call:?} {failed:?}");
        }
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        let get = Call::read(Verb::Get);
        assert!(p.again(get, S(500), 4, 0));
        assert!(!p.again(get, S(500), 5, 0));
        assert!(p.again(get, Failed::Timeout, 1, 1));
        assert!(!p.again(get, Failed::Timeout, 2, 2));
        let one = RetryPolicy { max_attempts: 0, ..RetryPolicy::default() };
        assert!(!one.again(get, S(429), 1, 0));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_millis(250));
        assert_eq!(p.backoff(2), Duration::from_millis(500));
        assert_eq!(p.backoff(10), Duration::from_secs(8));
        assert_eq!(p.backoff(100), Duration::from_secs(8));
    }

    #[test]
    fn retry_after_is_parsed_and_capped() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
        let p = RetryPolicy::default();
        assert_eq!(p.wait(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(p.wait(1, Some(Duration::from_secs(3600))), Duration::from_secs(60));
        assert_eq!(p.wait(2, None), Duration::from_millis(500));
        assert_eq!(p.wait(1, Some(Duration::ZERO)), Duration::ZERO);
    }
}
