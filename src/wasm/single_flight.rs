//! One lookup in flight however many calls wait on it: the default bucket and token
//! refreshes go through here, so a burst of first calls asks the sidecar once.

use core::cell::RefCell;
use core::future::Future;

use js_sys::{Object, Promise};
use wasm_bindgen::JsValue;

use crate::protocol::error::{ErrorKind, StorageError};
use crate::wasm::call_context::CallContext;
use crate::wasm::interop;

#[derive(Default)]
pub struct SingleFlight {
    pending: RefCell<Option<Promise>>,
}

impl SingleFlight {
    /// Joins the lookup in flight, or starts one with `start`. Every waiter gets its outcome,
    /// unless its own signal fires first.
    pub fn join<'a, F>(
        &'a self,
        context: &'a CallContext,
        start: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<JsValue, StorageError>> + 'a
    where
        F: Future<Output = Result<JsValue, StorageError>> + 'static,
    {
        let existing = self.pending.borrow().clone();
        let promise = existing.unwrap_or_else(|| {
            let lookup = start();
            let promise = interop::promise(async move { lookup.await.map_err(|error| interop::error_to_js(&error)) });
            *self.pending.borrow_mut() = Some(promise.clone());
            promise
        });
        self.wait(context, promise)
    }

    /// Not generic, so that it is compiled once for every kind of lookup.
    async fn wait(&self, context: &CallContext, promise: Promise) -> Result<JsValue, StorageError> {
        let outcome = context.unless_aborted(promise.clone()).await?;
        let mut pending = self.pending.borrow_mut();
        if pending.as_ref().is_some_and(|current| Object::is(current, &promise)) {
            *pending = None;
        }
        outcome.map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))
    }
}
