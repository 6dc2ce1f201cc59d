//! Per-call context (the caller's AbortSignal and progress callback) and per-attempt
//! guards: each try gets its own AbortController, aborted by the caller's signal or by a
//! stall timer, so a failure can be told apart as `Aborted`, `Timeout` or `Network`.
//! Timers come from `globalThis.setTimeout`, which every runtime has. An `Exchange` is an
//! answer still under its try's guard.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use core::future::Future;

use js_sys::{Date, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Response};

use crate::prelude::*;
use crate::protocol::document::FromDocument;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_responses::ErrorEnvelope;
#[cfg(feature = "server")]
use crate::protocol::http::is_success;
use crate::protocol::http::HttpRequest;
use crate::protocol::retry;
use crate::protocol::retry::RetryPolicy;
use crate::protocol::stall;
use crate::wasm::{interop, transport};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, milliseconds: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

type AbortListener = Closure<dyn FnMut()>;

/// What the caller passed alongside the operation's own options.
#[derive(Clone, Default)]
pub struct CallContext {
    pub signal: Option<AbortSignal>,
    pub on_progress: Option<Function>,
    pub on_integrity: Option<Function>,
    /// How the runtime layer sends this call's requests instead of `fetch` (see `transport::send`).
    pub send: Option<Function>,
}

impl CallContext {
    /// Reads `signal` and `onProgress` from an options object.
    pub fn from_options(options: &JsValue) -> Result<CallContext, StorageError> {
        let signal = match interop::raw_option(options, "signal") {
            None => None,
            Some(value) => Some(
                value
                    .dyn_into::<AbortSignal>()
                    .map_err(|_| StorageError::invalid_argument("option `signal` must be an AbortSignal"))?,
            ),
        };
        let callback = |key: &str| match interop::raw_option(options, key) {
            None => Ok(None),
            Some(value) => value
                .dyn_into::<Function>()
                .map(Some)
                .map_err(|_| StorageError::invalid_argument(text!("option `", key, "` must be a function"))),
        };
        Ok(CallContext {
            signal,
            on_progress: callback("onProgress")?,
            on_integrity: callback("onIntegrity")?,
            send: None,
        })
    }

    pub fn check_aborted(&self) -> Result<(), StorageError> {
        match &self.signal {
            Some(signal) if signal.aborted() => Err(StorageError::aborted()),
            _ => Ok(()),
        }
    }

    /// Tells the caller how far a transfer got. A callback that throws is ignored: progress
    /// reporting never breaks a transfer.
    pub fn progress(&self, bytes: u64, total: Option<u64>) {
        let Some(callback) = &self.on_progress else { return };
        let report = Object::new();
        let bytes = JsValue::from_f64(bytes as f64);
        // `loaded` is the browser's ProgressEvent name for it (the same number).
        let _ = Reflect::set(&report, &"bytes".into(), &bytes);
        let _ = Reflect::set(&report, &"loaded".into(), &bytes);
        let total = total.map(|total| JsValue::from_f64(total as f64)).unwrap_or(JsValue::UNDEFINED);
        let _ = Reflect::set(&report, &"total".into(), &total);
        let _ = callback.call1(&JsValue::UNDEFINED, &report);
    }

    /// Awaits `promise`, or fails with `Aborted` as soon as the signal fires. The promise
    /// itself goes on (a shared lookup stays useful to whoever else waits on it).
    pub async fn unless_aborted(&self, promise: Promise) -> Result<Result<JsValue, JsValue>, StorageError> {
        self.check_aborted()?;
        let Some(signal) = &self.signal else { return Ok(JsFuture::from(promise).await) };
        let fired = Rc::new(Cell::new(false));
        let listener: Rc<RefCell<Option<AbortListener>>> = Rc::default();
        let abort = {
            let (fired, listener) = (fired.clone(), listener.clone());
            Promise::new(&mut |_, reject| {
                let fired = fired.clone();
                let on_abort = Closure::<dyn FnMut()>::new(move || {
                    fired.set(true);
                    let _ = reject.call0(&JsValue::UNDEFINED);
                });
                let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
                *listener.borrow_mut() = Some(on_abort);
            })
        };
        let outcome = JsFuture::from(Promise::race(&js_sys::Array::of2(&promise, &abort))).await;
        if let Some(on_abort) = listener.borrow_mut().take() {
            // Once removed, the abort promise can never reject unhandled.
            let _ = signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        }
        if fired.get() {
            return Err(StorageError::aborted());
        }
        Ok(outcome)
    }

    /// Tells the caller whether a download's bytes were checked, and how (or why not).
    pub fn integrity(&self, verified: bool, detail: &str) {
        let Some(callback) = &self.on_integrity else { return };
        let report = Object::new();
        let _ = Reflect::set(&report, &"verified".into(), &JsValue::from_bool(verified));
        let _ = Reflect::set(&report, &"detail".into(), &JsValue::from_str(detail));
        let _ = callback.call1(&JsValue::UNDEFINED, &report);
    }

    /// Waits `milliseconds`, or fails at once with `Aborted` when the signal fires.
    pub async fn sleep(&self, milliseconds: f64) -> Result<(), StorageError> {
        let mut timer = JsValue::UNDEFINED;
        let elapsed = Promise::new(&mut |resolve, _| timer = set_timeout(&resolve, milliseconds));
        let outcome = self.unless_aborted(elapsed).await;
        if outcome.is_err() {
            clear_timeout(&timer);
        }
        outcome.map(|_| ())
    }
}

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

/// A try's stall timer, shared with the body it sends: each piece the runtime takes
/// restarts it (see `protocol::stall`).
struct Stall {
    timeout_ms: f64,
    timer: RefCell<Option<JsValue>>,
    on_timeout: Closure<dyn FnMut()>,
    /// The wait last armed, for the message when it runs out.
    armed_ms: Cell<f64>,
    #[cfg(feature = "server")]
    clock: RefCell<stall::SendClock>,
    /// Whether pieces taken still count: not once the answer came.
    #[cfg(feature = "server")]
    watching: Cell<bool>,
}

impl Stall {
    fn arm_for(&self, milliseconds: f64) {
        self.disarm();
        if milliseconds > 0.0 && milliseconds.is_finite() {
            self.armed_ms.set(milliseconds);
            *self.timer.borrow_mut() = Some(set_timeout(self.on_timeout.as_ref().unchecked_ref(), milliseconds));
        }
    }

    fn disarm(&self) {
        if let Some(timer) = self.timer.borrow_mut().take() {
            clear_timeout(&timer);
        }
    }

    /// The runtime took `bytes` of the body (at most a send buffer's worth of them may still
    /// be on their way when `watched`, else all).
    #[cfg(feature = "server")]
    fn taken(&self, bytes: f64, watched: bool) {
        if !self.watching.get() {
            return;
        }
        let limit = if watched { stall::SEND_BUFFER } else { f64::INFINITY };
        let wait = self.clock.borrow_mut().taken(Date::now(), bytes, limit);
        self.arm_for(wait);
    }
}

/// One try of a request: its AbortController, tripped by the caller's signal or by the
/// stall timer while armed.
pub struct AttemptGuard {
    controller: AbortController,
    caller: Option<AbortSignal>,
    on_caller_abort: Option<Closure<dyn FnMut()>>,
    stall: Rc<Stall>,
    timed_out: Rc<Cell<bool>>,
    /// The try's `Request`, kept while its body is read: undici follows the abort signal
    /// through a weak reference to it, so a collected Request could no longer be stopped.
    request: RefCell<Option<web_sys::Request>>,
}

impl AttemptGuard {
    pub fn new(context: &CallContext, timeout_ms: f64) -> Result<AttemptGuard, StorageError> {
        let controller =
            AbortController::new().map_err(|error| interop::error_from_js(&error, ErrorKind::Unsupported))?;
        let on_caller_abort = context.signal.as_ref().map(|signal| {
            let ours = controller.clone();
            let closure = Closure::<dyn FnMut()>::new(move || ours.abort());
            let _ = signal.add_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
            closure
        });
        let timed_out = Rc::new(Cell::new(false));
        let on_timeout = {
            let ours = controller.clone();
            let flag = timed_out.clone();
            Closure::<dyn FnMut()>::new(move || {
                flag.set(true);
                ours.abort();
            })
        };
        let stall = Rc::new(Stall {
            timeout_ms,
            timer: RefCell::new(None),
            on_timeout,
            armed_ms: Cell::new(timeout_ms),
            #[cfg(feature = "server")]
            clock: RefCell::new(stall::SendClock::new(timeout_ms)),
            #[cfg(feature = "server")]
            watching: Cell::new(true),
        });
        let guard = AttemptGuard {
            controller,
            caller: context.signal.clone(),
            on_caller_abort,
            stall,
            timed_out,
            request: RefCell::new(None),
        };
        if guard.caller.as_ref().is_some_and(AbortSignal::aborted) {
            guard.controller.abort();
        }
        Ok(guard)
    }

    /// What the body tells as the runtime takes it: bytes taken, and whether the runtime
    /// takes them piece by piece (watched) or whole.
    #[cfg(feature = "server")]
    fn watch(&self, _content: Option<&JsValue>) -> transport::Watch {
        let stall = Rc::downgrade(&self.stall);
        Rc::new(move |bytes, watched| {
            if let Some(stall) = stall.upgrade() {
                stall.taken(bytes, watched);
            }
        })
    }

    /// The browser build sees nothing of an upload's progress: the whole body gets its time
    /// (see `protocol::stall`) before the wait for the answer counts.
    #[cfg(not(feature = "server"))]
    fn watch(&self, content: Option<&JsValue>) -> transport::Watch {
        let bytes = content.map_or(0.0, transport::body_size);
        self.stall.arm_for(stall::wait_ms(self.stall.timeout_ms, bytes));
    }

    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }

    /// Starts (or restarts) the stall timer: waiting longer than the timeout for the
    /// answer or for the next chunk of it aborts the try.
    pub fn arm(&self) {
        self.stall.arm_for(self.stall.timeout_ms);
    }

    pub fn disarm(&self) {
        self.stall.disarm();
    }

    /// Stops the try's request and body (to drop a connection no longer wanted).
    pub fn abort(&self) {
        self.controller.abort();
    }

    /// Names a failure of this try by its cause: the caller, the timer, or the network.
    pub fn classify(&self, error: StorageError) -> StorageError {
        if self.caller.as_ref().is_some_and(AbortSignal::aborted) {
            return StorageError::aborted();
        }
        if self.timed_out.get() {
            return StorageError::new(
                ErrorKind::Timeout,
                text!("no answer for ", self.stall.armed_ms.get() as u64, " ms (requestTimeoutMs)"),
            );
        }
        error
    }
}

/// An answer and the guard of the try that got it: its timer still governs the body, so
/// every read of the body here is bounded by the stall timeout too.
pub struct Exchange {
    pub response: Response,
    pub guard: AttemptGuard,
    /// The token the request carried, kept out of any error made from the answer.
    pub bearer: Option<String>,
    /// Who answered, for messages about a malformed answer.
    source: &'static str,
}

impl Exchange {
    pub fn status(&self) -> u16 {
        self.response.status()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        transport::header(&self.response, name)
    }

    /// How long the server asked to wait before the next try (`Retry-After`), in ms.
    pub fn retry_after(&self) -> Option<f64> {
        self.header("retry-after")
            .and_then(|value| retry::parse_retry_after(&value, Date::now(), |date| Some(Date::parse(date))))
    }

    /// The body read into `T` (by the future `request_json` uses too, so that each `T` is
    /// read by one compiled copy).
    pub fn json<T: FromDocument>(&self) -> crate::wasm::storage::Decoded<'_, T> {
        crate::wasm::storage::Decoded::new(self.json_value(), self.source)
    }

    /// The body parsed as JSON.
    pub async fn json_value(&self) -> Result<JsValue, StorageError> {
        let body = self.timed(transport::json_value(&self.response, self.source)).await;
        body.map_err(|error| self.guard.classify(error))
    }

    /// A failed answer's body, bounded: its JSON error envelope if it has one, and its text.
    /// (Forwarders here return the inner future rather than wrap it in one more `async fn`.)
    pub fn error_body(&self) -> impl Future<Output = (Option<ErrorEnvelope>, String)> + '_ {
        self.timed(transport::error_body(&self.response))
    }

    async fn timed<T>(&self, reading: impl Future<Output = T>) -> T {
        self.guard.arm();
        let outcome = reading.await;
        self.guard.disarm();
        outcome
    }

    pub async fn discard(self) {
        transport::discard(&self.response).await
    }
}

/// Sends one try of a request under a fresh guard: the caller's signal and the stall
/// timer abort it, and a failure is named by its cause. `source` names who answers.
pub async fn guarded_send(
    context: &CallContext,
    timeout_ms: f64,
    request: &HttpRequest,
    content: Option<&JsValue>,
    bearer: Option<&str>,
    source: &'static str,
) -> Result<Exchange, StorageError> {
    let guard = AttemptGuard::new(context, timeout_ms)?;
    guard.arm();
    let watch = guard.watch(content);
    let sent = transport::send(request, content, bearer, Some(&guard.signal()), context.send.as_ref(), &watch).await;
    // Pieces the runtime takes after the answer came (a server may answer early) change nothing.
    #[cfg(feature = "server")]
    guard.stall.watching.set(false);
    guard.disarm();
    match sent {
        Ok((response, fetch_request)) => {
            *guard.request.borrow_mut() = Some(fetch_request);
            Ok(Exchange { response, guard, bearer: bearer.map(str::to_string), source })
        }
        Err(error) => Err(guard.classify(error)),
    }
}

/// Asks the Replit sidecar on no caller's behalf (its lookups are shared by every waiting
/// call) for a JSON answer, bounded by `timeout_ms` from the request to the body's last
/// stalled chunk, so a hung sidecar cannot hang them. A failed status is `refused`'s error.
#[cfg(feature = "server")]
pub async fn ask_sidecar(
    request: &HttpRequest,
    timeout_ms: f64,
    refused: &dyn Fn(u16, Option<&ErrorEnvelope>) -> StorageError,
) -> Result<JsValue, StorageError> {
    ask_sidecar_for(&CallContext::default(), request, timeout_ms, refused, &|error| error).await
}

/// `ask_sidecar` on one caller's behalf (its signal stops it); a request that gets no answer
/// at all fails with `unreachable`'s error.
#[cfg(feature = "server")]
pub async fn ask_sidecar_for(
    context: &CallContext,
    request: &HttpRequest,
    timeout_ms: f64,
    refused: &dyn Fn(u16, Option<&ErrorEnvelope>) -> StorageError,
    unreachable: &dyn Fn(StorageError) -> StorageError,
) -> Result<JsValue, StorageError> {
    let answer =
        guarded_send(context, timeout_ms, request, None, None, "the Replit sidecar").await.map_err(unreachable)?;
    if !is_success(answer.status()) {
        let (body, _) = answer.error_body().await;
        return Err(refused(answer.status(), body.as_ref()));
    }
    answer.json_value().await
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        self.disarm();
        if let (Some(signal), Some(closure)) = (&self.caller, &self.on_caller_abort) {
            let _ = signal.remove_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
        }
    }
}
