//! Requests to the Replit sidecar (default bucket, tokens, signing): one guarded try each, its
//! JSON answer or a typed refusal. Server build only: browsers have no sidecar.

use wasm_bindgen::JsValue;

use crate::protocol::error::StorageError;
use crate::protocol::gcs_responses::ErrorEnvelope;
use crate::protocol::http::{is_success, HttpRequest};
use crate::wasm::attempt::guarded_send;
use crate::wasm::call_context::CallContext;

/// Asks the Replit sidecar on no caller's behalf (its lookups are shared by every waiting
/// call) for a JSON answer, bounded by `timeout_ms` from the request to the body's last
/// stalled chunk, so a hung sidecar cannot hang them. A failed status is `refused`'s error.
pub async fn ask_sidecar(
    request: &HttpRequest,
    timeout_ms: f64,
    refused: &dyn Fn(u16, Option<&ErrorEnvelope>) -> StorageError,
) -> Result<JsValue, StorageError> {
    ask_sidecar_for(&CallContext::default(), request, timeout_ms, refused, &|error| error).await
}

/// `ask_sidecar` on one caller's behalf (its signal stops it); a request that gets no answer
/// at all fails with `unreachable`'s error.
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
