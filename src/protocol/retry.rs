//! When and how long to wait before trying a request again, as Google's clients do:
//! transient statuses and connection failures, exponential backoff with full jitter,
//! `Retry-After` honoured, all within a total deadline; and which requests may be sent
//! again at all (Google's retry conformance rules, chosen by `retryStrategy`). Pure; the
//! wasm side sleeps.

use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::text;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries after the first; 0 turns retrying off.
    pub max_retries: u32,
    /// No retry starts later than this after the first try began.
    pub deadline_ms: f64,
    pub initial_delay_ms: f64,
    pub max_delay_ms: f64,
    pub multiplier: f64,
    pub strategy: RetryStrategy,
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
            strategy: RetryStrategy::Conditional,
        }
    }
}

/// Statuses worth another try: the server said "later" or failed on its side.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Whether a failure is transient, as marked where it was made (`StorageError::new` and
/// `with_status`): a retryable status, or no usable answer at all.
pub fn is_transient(error: &StorageError) -> bool {
    error.transient
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
    /// given the failure and the wait it would take. Never under `RetryStrategy::Never`.
    pub fn allows(&self, attempts: u32, elapsed_ms: f64, delay_ms: f64, error: &StorageError) -> bool {
        self.strategy != RetryStrategy::Never
            && is_transient(error)
            && attempts <= self.max_retries
            && elapsed_ms + delay_ms <= self.deadline_ms
    }
}

/// `Retry-After` as milliseconds from now: delay-seconds, or an HTTP-date read by
/// `parse_date` (into ms since the epoch; the wasm side uses `Date.parse`).
pub fn parse_retry_after(value: &str, now_ms: f64, parse_date: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    let value = value.trim_ascii();
    let at_ms = match text::parse_u64(value) {
        Some(seconds) => now_ms + seconds as f64 * 1000.0,
        None => parse_date(value).filter(|at_ms| at_ms.is_finite())?,
    };
    Some((at_ms - now_ms).clamp(0.0, MAX_RETRY_AFTER_MS))
}

/// Which requests are sent again after a transient failure: `retryStrategy`, as
/// `@google-cloud/storage`'s `idempotencyStrategy` (`RetryConditional`, `RetryAlways`,
/// `RetryNever`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStrategy {
    /// Reads always; writes only under a precondition that makes a repeat harmless (the default).
    Conditional,
    /// Writes too, with or without a precondition.
    Always,
    /// Nothing, reads included (as `@google-cloud/storage`, which then makes no retries at all).
    Never,
}

impl RetryStrategy {
    pub fn parse(name: &str) -> Option<RetryStrategy> {
        match name {
            "conditional" => Some(RetryStrategy::Conditional),
            "always" => Some(RetryStrategy::Always),
            "never" => Some(RetryStrategy::Never),
            _ => None,
        }
    }

    /// Whether a transient failure of `operation` may be tried again, given whether the
    /// request carries the precondition that guards it.
    pub fn retries(self, operation: Operation, precondition: Precondition) -> bool {
        match self {
            RetryStrategy::Never => false,
            RetryStrategy::Always => true,
            RetryStrategy::Conditional => precondition == Precondition::Carried || operation.idempotent(),
        }
    }
}

/// Whether a write carries the precondition that makes repeating it harmless:
/// `ifGenerationMatch` (for a copy, of the destination), `ifMetagenerationMatch` for a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    Carried,
    Absent,
}

impl Precondition {
    /// `Carried` when the request's precondition is `given`.
    pub fn given<T>(value: Option<T>) -> Precondition {
        if value.is_some() {
            Precondition::Carried
        } else {
            Precondition::Absent
        }
    }
}

/// What a request does, as Google's retry conformance rules (`storage/v1/retry_tests.json`)
/// class it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `objects.get`, `objects.list`, downloads: always idempotent.
    Read,
    /// Opening a resumable session, and its chunks and status queries: a session that never
    /// receives data writes nothing, and a chunk is resent from what the session holds.
    Session,
    /// `objects.insert` in one request (a media or multipart upload, a signed PUT).
    Insert,
    /// `objects.delete`.
    Delete,
    /// `objects.rewrite` (a copy).
    Rewrite,
    /// `objects.patch` (metadata).
    Patch,
}

impl Operation {
    /// Whether repeating it is harmless without a precondition. The writes are
    /// "conditionally idempotent": repeated unguarded, a write could undo another writer's
    /// change made in between (a delete removes an object stored meanwhile, a copy or an
    /// upload overwrites it, a patch reverts it).
    fn idempotent(self) -> bool {
        matches!(self, Operation::Read | Operation::Session)
    }
}

/// Whether a delete guarded by `ifGenerationMatch` that ends in `error` did what was asked.
/// When a try failed transiently (so `attempts` is counted) and a later one answers 404, the
/// failed try may have deleted the object before its answer was lost; either way the
/// generation the caller named is gone, which is what a delete under `ifGenerationMatch`
/// asks for, so it counts as deleted (Google's conformance suite expects such retried
/// deletes to succeed). Without a precondition a 404 stays `ObjectNotFound`: the name alone
/// does not say the object ever existed.
pub fn deleted_before_retry(error: &StorageError, precondition: Precondition) -> bool {
    precondition == Precondition::Carried && error.kind == ErrorKind::ObjectNotFound && error.attempts.is_some()
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
        let error = StorageError::new(kind, "");
        match status {
            Some(status) => error.with_status(status),
            None => error,
        }
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
    fn which_operations_are_retried_under_each_strategy() {
        use Operation::*;
        use RetryStrategy::{Always, Conditional, Never};
        // (operation, precondition given, strategy) -> retried: retry_tests.json scenarios 1
        // (always idempotent), 2 (conditionally idempotent, precondition present: retried) and
        // 3 (precondition absent: not retried), and the other two strategies.
        let table = [
            (Read, false, Conditional, true),
            (Session, false, Conditional, true),
            (Insert, true, Conditional, true),
            (Insert, false, Conditional, false),
            (Delete, true, Conditional, true),
            (Delete, false, Conditional, false),
            (Rewrite, true, Conditional, true),
            (Rewrite, false, Conditional, false),
            (Patch, true, Conditional, true),
            (Patch, false, Conditional, false),
            (Read, false, Always, true),
            (Session, false, Always, true),
            (Insert, false, Always, true),
            (Delete, false, Always, true),
            (Rewrite, false, Always, true),
            (Patch, false, Always, true),
            (Delete, true, Always, true),
            (Read, false, Never, false),
            (Session, false, Never, false),
            (Insert, true, Never, false),
            (Delete, true, Never, false),
            (Rewrite, true, Never, false),
            (Patch, true, Never, false),
            (Delete, false, Never, false),
        ];
        for (operation, carried, strategy, retried) in table {
            let precondition = Precondition::given(carried.then_some(()));
            assert_eq!(
                strategy.retries(operation, precondition),
                retried,
                "{operation:?} {precondition:?} {strategy:?}"
            );
        }
    }

    #[test]
    fn strategies_are_read_by_their_names() {
        assert_eq!(RetryStrategy::parse("conditional"), Some(RetryStrategy::Conditional));
        assert_eq!(RetryStrategy::parse("always"), Some(RetryStrategy::Always));
        assert_eq!(RetryStrategy::parse("never"), Some(RetryStrategy::Never));
        for other in ["", "Always", "RetryNever", " never"] {
            assert_eq!(RetryStrategy::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn never_stops_every_retry_loop_even_of_reads() {
        // Downloads resuming and resumable chunks go through `allows` alone.
        let never = RetryPolicy { strategy: RetryStrategy::Never, ..Default::default() };
        assert!(!never.allows(1, 0.0, 0.0, &error(ErrorKind::ServerError, Some(503))));
        assert!(!never.allows(1, 0.0, 0.0, &error(ErrorKind::Network, None)));
        let always = RetryPolicy { strategy: RetryStrategy::Always, ..Default::default() };
        assert!(always.allows(1, 0.0, 0.0, &error(ErrorKind::Network, None)));
        assert!(!always.allows(1, 0.0, 0.0, &error(ErrorKind::ObjectNotFound, Some(404))), "only transient failures");
    }

    #[test]
    fn a_guarded_delete_that_finds_its_object_gone_on_a_retry_did_its_work() {
        let not_found = error(ErrorKind::ObjectNotFound, Some(404));
        let after_retry = not_found.clone().after_attempts(2);
        assert!(deleted_before_retry(&after_retry, Precondition::Carried));
        assert!(!deleted_before_retry(&after_retry, Precondition::Absent), "without ifGenerationMatch");
        assert!(!deleted_before_retry(&not_found, Precondition::Carried), "a first answer of 404: it was never there");
        let bucket = error(ErrorKind::BucketNotFound, Some(404)).after_attempts(2);
        assert!(!deleted_before_retry(&bucket, Precondition::Carried));
        let refused = error(ErrorKind::PreconditionFailed, Some(412)).after_attempts(2);
        assert!(!deleted_before_retry(&refused, Precondition::Carried), "another generation is live");
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
        // A tie keeps the backoff, which already waits as long as asked: the deadline's cap,
        // meant for a longer wish, must not cut that wait short.
        let short = RetryPolicy { deadline_ms: 500.0, ..Default::default() };
        assert_eq!(short.delay_ms(1, 1.0, Some(1_000.0)), 1_000.0);
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
