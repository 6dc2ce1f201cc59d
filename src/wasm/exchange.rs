//! An answer still under its try's guard: every read of its body is bounded by the stall timer.

use core::future::Future;

use js_sys::Date;
use wasm_bindgen::JsValue;
use web_sys::Response;

use crate::prelude::*;
use crate::protocol::document::FromDocument;
use crate::protocol::error::StorageError;
use crate::protocol::gcs_responses::ErrorEnvelope;
use crate::protocol::retry;
use crate::wasm::attempt::AttemptGuard;
use crate::wasm::transport;

/// An answer and the guard of the try that got it: its timer still governs the body, so
/// every read of the body here is bounded by the stall timeout too.
pub struct Exchange {
    pub response: Response,
    pub guard: AttemptGuard,
    /// The token the request carried, kept out of any error made from the answer.
    pub bearer: Option<String>,
    /// Who answered, for messages about a malformed answer.
    pub source: &'static str,
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
