//! When and how long to wait before trying a request again, as Google's clients do:
//! transient statuses and connection failures, exponential backoff with full jitter,
//! `Retry-After` honoured, all within a total deadline. Pure; the wasm side sleeps.

use crate::protocol::error::{ErrorKind, StorageError};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries after the first; 0 turns retrying off.
    pub max_retries: u32,
    /// No retry starts later than this after the first try began.
    pub deadline_ms: f64,
    pub initial_delay_ms: f64,
    pub max_delay_ms: f64,
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    /// @google-cloud/storage's defaults: 3 retries, 1 s doubling to at most 64 s, 600 s in all.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            deadline_ms: 600_000.0,
            initial_delay_ms: 1_000.0,
            max_delay_ms: 64_000.0,
            multiplier: 2.0,
        }
    }
}

/// Statuses worth another try: the server said "later" or failed on its side.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Whether a failure is transient: a retryable status, or no usable answer at all.
pub fn is_transient(error: &StorageError) -> bool {
    match error.status_code {
        Some(status) => is_retryable_status(status),
        None => matches!(error.kind, ErrorKind::Network | ErrorKind::Timeout),
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): full jitter over the exponential
    /// ceiling (`random` in [0, 1)), or what `Retry-After` asked for when it asked longer.
    pub fn delay_ms(&self, retry: u32, random: f64, retry_after_ms: Option<f64>) -> f64 {
        let growth = (1..retry.min(65)).fold(1.0, |growth, _| growth * self.multiplier);
        let ceiling = (self.initial_delay_ms * growth).min(self.max_delay_ms);
        let jittered = ceiling * random.clamp(0.0, 1.0);
        match retry_after_ms {
            Some(asked) if asked > jittered => asked.min(self.deadline_ms),
            _ => jittered,
        }
    }

    /// Whether to try again after `attempts` tries, `elapsed_ms` since the first began,
    /// given the failure and the wait it would take.
    pub fn allows(&self, attempts: u32, elapsed_ms: f64, delay_ms: f64, error: &StorageError) -> bool {
        is_transient(error) && attempts <= self.max_retries && elapsed_ms + delay_ms <= self.deadline_ms
    }
}

/// `Retry-After` as milliseconds from now: delay-seconds, or an HTTP-date read by
/// `parse_date` (into ms since the epoch; the wasm side uses `Date.parse`).
pub fn parse_retry_after(value: &str, now_ms: f64, parse_date: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    let value = value.trim_ascii();
    let at_ms = match value.parse::<u64>() {
        Ok(seconds) => now_ms + seconds as f64 * 1000.0,
        Err(_) => parse_date(value).filter(|at_ms| at_ms.is_finite())?,
    };
    Some((at_ms - now_ms).clamp(0.0, MAX_RETRY_AFTER_MS))
}

/// Whether a write that is not idempotent by itself (a one-request upload, a metadata patch)
/// may be sent again after a transient failure: only under a precondition (its generation or
/// metageneration), which makes a repeat fail instead of undoing another writer's change.
/// Google's retry conformance rules: `objects.insert` and `objects.patch` are "conditionally
/// idempotent".
pub fn repeatable_write(precondition: Option<&str>) -> bool {
    precondition.is_some()
}

/// A server's wish is honoured up to a day (the retry deadline usually ends it sooner).
const MAX_RETRY_AFTER_MS: f64 = 86_400_000.0;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An HTTP-date in ms since the epoch, as `Date.parse` gives it on the wasm side.
    fn http_date(text: &str) -> Option<f64> {
        let at = httpdate::parse_http_date(text).ok()?;
        Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as f64)
    }

    fn parse(value: &str, now_ms: f64) -> Option<f64> {
        parse_retry_after(value, now_ms, http_date)
    }

    fn error(kind: ErrorKind, status: Option<u16>) -> StorageError {
        crate::protocol::error::Failure {
            kind,
            message: alloc::string::String::new(),
            status_code: status,
            attempts: None,
        }
        .into()
    }

    #[test]
    fn transient_failures_are_google_s_list() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_transient(&error(ErrorKind::ServerError, Some(status))), "{status}");
        }
        for status in [400, 401, 403, 404, 412, 501] {
            assert!(!is_transient(&error(ErrorKind::Unknown, Some(status))), "{status}");
        }
        assert!(is_transient(&error(ErrorKind::Network, None)));
        assert!(is_transient(&error(ErrorKind::Timeout, None)));
        assert!(!is_transient(&error(ErrorKind::Aborted, None)));
        assert!(!is_transient(&error(ErrorKind::IntegrityMismatch, None)));
    }

    #[test]
    fn writes_are_repeated_only_under_a_precondition() {
        assert!(repeatable_write(Some("0")));
        assert!(repeatable_write(Some("1700000000000001")));
        assert!(!repeatable_write(None));
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_ms(1, 1.0, None), 1_000.0);
        assert_eq!(policy.delay_ms(2, 1.0, None), 2_000.0);
        assert_eq!(policy.delay_ms(4, 1.0, None), 8_000.0);
        assert_eq!(policy.delay_ms(30, 1.0, None), 64_000.0);
        assert_eq!(policy.delay_ms(3, 0.0, None), 0.0);
        assert_eq!(policy.delay_ms(3, 0.5, None), 2_000.0);
    }

    #[test]
    fn retry_after_wins_when_it_asks_for_longer() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_ms(1, 0.5, Some(3_000.0)), 3_000.0);
        assert_eq!(policy.delay_ms(1, 0.5, Some(10.0)), 500.0);
    }

    #[test]
    fn a_retry_may_end_exactly_at_the_deadline_but_not_past_it() {
        let policy = RetryPolicy { max_retries: 5, deadline_ms: 10_000.0, ..Default::default() };
        let busy = error(ErrorKind::ServerError, Some(503));
        assert!(policy.allows(1, 9_000.0, 1_000.0, &busy));
        assert!(!policy.allows(1, 9_000.0, 1_000.5, &busy));
        assert!(!policy.allows(1, 10_000.5, 0.0, &busy));
    }

    #[test]
    fn retries_stop_at_the_count_and_the_deadline() {
        let policy = RetryPolicy { max_retries: 2, deadline_ms: 10_000.0, ..Default::default() };
        let busy = error(ErrorKind::ServerError, Some(503));
        assert!(policy.allows(1, 0.0, 100.0, &busy));
        assert!(policy.allows(2, 0.0, 100.0, &busy));
        assert!(!policy.allows(3, 0.0, 100.0, &busy));
        assert!(!policy.allows(1, 9_950.0, 100.0, &busy));
        assert!(!policy.allows(1, 0.0, 100.0, &error(ErrorKind::ObjectNotFound, Some(404))));
        let off = RetryPolicy { max_retries: 0, ..Default::default() };
        assert!(!off.allows(1, 0.0, 0.0, &busy));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse("2", 0.0), Some(2_000.0));
        assert_eq!(parse(" 0 ", 0.0), Some(0.0));
        let now = 784_111_777_000.0; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(10_000.0));
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:30 GMT", now), Some(0.0));
        assert_eq!(parse("soon", now), None);
        assert_eq!(parse("-1", now), None);
    }

    proptest! {
        #[test]
        fn delays_stay_within_bounds(retry in 0u32..200, random in 0.0f64..1.0, asked in proptest::option::of(0.0f64..1e9)) {
            let policy = RetryPolicy::default();
            let delay = policy.delay_ms(retry, random, asked);
            prop_assert!(delay >= 0.0 && delay.is_finite());
            prop_assert!(delay <= policy.deadline_ms.max(policy.max_delay_ms));
        }

        #[test]
        fn retry_after_never_panics(value in ".*", now in 0.0f64..4e12) {
            let _ = parse(&value, now);
        }
    }
}
