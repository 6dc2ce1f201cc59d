//! The retry budget of an operation, over the pure policy (`protocol::retry`): counts failures,
//! and waits out each backoff under the caller's signal.

use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::retry::RetryPolicy;
use crate::wasm::call_context::CallContext;

/// The retry budget of one operation (or of one stretch of a transfer without progress):
/// counts failures, and after each either waits the backoff or gives up.
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
    since_ms: f64,
}

impl Backoff {
    pub fn new(policy: RetryPolicy) -> Backoff {
        Backoff { policy, failures: 0, since_ms: js_sys::Date::now() }
    }

    /// Progress was made: the next failure starts a fresh budget.
    pub fn reset(&mut self) {
        self.failures = 0;
        self.since_ms = js_sys::Date::now();
    }

    /// After `failure`: waits out the backoff (or `Retry-After`) and returns `Ok` to try
    /// again; or returns the failure, with the number of tries, when it is permanent, was
    /// an abort, or the budget is spent.
    pub async fn wait(
        &mut self,
        failure: StorageError,
        retry_after_ms: Option<f64>,
        context: &CallContext,
    ) -> Result<(), StorageError> {
        self.failures += 1;
        let delay = self.policy.delay_ms(self.failures, js_sys::Math::random(), retry_after_ms);
        let elapsed = js_sys::Date::now() - self.since_ms;
        if failure.kind == ErrorKind::Aborted || !self.policy.allows(self.failures, elapsed, delay, &failure) {
            return Err(failure.after_attempts(self.failures));
        }
        context.sleep(delay).await
    }
}
