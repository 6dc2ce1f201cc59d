//! What a call brings besides its arguments: the caller's AbortSignal (which every wait of the
//! call races), its progress and integrity callbacks, and how the runtime layer sends requests.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use crate::protocol::error::StorageError;
use crate::wasm::interop;
use crate::wasm::timers::{clear_timeout, set_timeout};

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
                    .ok()
                    .filter(|signal| interop::branded(signal, "aborted"))
                    .ok_or_else(|| StorageError::invalid_argument("option `signal` must be an AbortSignal"))?,
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
            Promise::new_typed::<JsValue>(&mut |_, reject| {
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
        let elapsed =
            Promise::new_typed::<JsValue>(&mut |resolve, _| timer = set_timeout(resolve.unchecked_ref(), milliseconds));
        let outcome = self.unless_aborted(elapsed).await;
        if outcome.is_err() {
            clear_timeout(&timer);
        }
        outcome.map(|_| ())
    }
}
