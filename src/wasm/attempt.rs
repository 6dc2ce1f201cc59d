//! One try of a request: its own AbortController, tripped by the caller's signal or by a stall
//! timer, so that a failure can be told apart as `Aborted`, `Timeout` or `Network`; and
//! `guarded_send`, which sends under it and hands the answer on as an `Exchange`.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

#[cfg(feature = "server")]
use js_sys::Date;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::http::HttpRequest;
use crate::protocol::stall;
use crate::wasm::call_context::CallContext;
use crate::wasm::exchange::Exchange;
use crate::wasm::timers::{clear_timeout, set_timeout};
use crate::wasm::{interop, transport};

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
    /// The try's `Request` where one was made (`transport::send`), kept while its body is read:
    /// undici follows its abort signal weakly, so a collected Request could no longer be stopped.
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
            *guard.request.borrow_mut() = fetch_request;
            Ok(Exchange { response, guard, bearer: bearer.map(str::to_string), source })
        }
        Err(error) => Err(guard.classify(error)),
    }
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        self.disarm();
        if let (Some(signal), Some(closure)) = (&self.caller, &self.on_caller_abort) {
            let _ = signal.remove_event_listener_with_callback("abort", closure.as_ref().unchecked_ref());
        }
    }
}
