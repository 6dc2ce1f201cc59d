//! `uploadToUrl` and `downloadFromUrl`: transfers through a signed URL, which carries its own
//! authorisation, so they need no client: each runs over a `Storage` without credentials and
//! with the default policies, through the same requests, retries and error mapping as every
//! call (`map_error_response` reads the XML API's errors). A download is a `Download` from the
//! URL, retried and resumed like any. An upload is one PUT sent by the runtime layer's `send`
//! (XMLHttpRequest in browsers, for real upload progress; fetch counting the bytes it reads in
//! Node), repeated after a transient failure only under `x-goog-if-generation-match`, as
//! one-request uploads are only under `ifGenerationMatch`; it has no stall timeout, since a
//! large body on a slow link is not a stall (the caller's signal bounds it). No message keeps
//! the URL's signature.

use alloc::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::prelude::*;
use crate::protocol::config::{ClientConfig, ClientOptions};
use crate::protocol::document::string_entries;
use crate::protocol::error::StorageError;
use crate::protocol::http::{is_success, Body, HttpRequest, Method};
use crate::protocol::retry::{Operation, Precondition};
use crate::protocol::url_transfer as signed;
use crate::wasm::auth::Credentials;
use crate::wasm::body::Content;
use crate::wasm::call_context::CallContext;
use crate::wasm::download::Download;
use crate::wasm::interop;
use crate::wasm::storage::{Answer, Call, Storage};

/// One transfer through a signed URL. With `send`, `uploadToUrl`: PUTs `body` (bytes, a Blob
/// or a string) through `send(request, body)`, which resolves to a `Response` (and reports
/// upload progress itself); `options` may hold `headers`, `onProgress`, `signal`. Without,
/// `downloadFromUrl`: resolves to the bytes at `url` (or `range` of them) in one `Uint8Array`;
/// `options` may hold `range`, `onProgress`, `signal`.
#[wasm_bindgen(js_name = urlTransfer)]
pub fn url_transfer(url: JsValue, options: JsValue, body: JsValue, send: Option<Function>) -> Promise {
    let url = url.as_string();
    interop::promise(async move {
        let outcome = transfer(url.clone(), &options, body, send).await;
        let outcome = outcome.map_err(|error| signed::scrubbed(error, url.as_deref().unwrap_or_default()));
        Ok(interop::result(outcome, interop::property(&options, "signal").as_ref()))
    })
}

async fn transfer(
    url: Option<String>,
    options: &JsValue,
    body: JsValue,
    send: Option<Function>,
) -> Result<JsValue, StorageError> {
    let url = url.ok_or_else(|| StorageError::invalid_argument("url must be a string"))?;
    signed::check_url(&url)?;
    let object = signed::TARGET.object.unwrap_or_default();
    let uploading = send.is_some();
    let config = ClientConfig::resolve(ClientOptions {
        request_timeout_ms: uploading.then_some(0.0),
        ..ClientOptions::default()
    })?;
    let storage = Rc::new(Storage::new(config, Credentials::Anonymous));
    if !uploading {
        let download = Download::open(storage, object.to_string(), Some(url), options).await?;
        return download.read_all().await.map(JsValue::from);
    }
    let (body, total) = match Content::from_js(body) {
        Ok(Content::Bytes(bytes)) => {
            let total = bytes.length() as u64;
            (JsValue::from(bytes), total)
        }
        Ok(Content::Blob(blob)) => {
            let total = blob.size() as u64;
            (JsValue::from(blob), total)
        }
        _ => {
            return Err(StorageError::invalid_argument(
                "body must be a Blob or File, bytes (Uint8Array, ArrayBuffer, Buffer) or a string",
            ))
        }
    };
    let mut context = CallContext::from_options(options)?;
    context.send = send;
    let mut request = HttpRequest::new(Method::Put, url);
    request.body = Body::Content;
    if let Some(headers) = interop::raw_option(options, "headers") {
        let headers = string_entries(&headers, "headers", "a string").map_err(StorageError::invalid_argument)?;
        for (name, value) in headers {
            if let Some(value) = value {
                request = request.named_header(name, value);
            }
        }
    }
    // An unconditional overwrite repeated could undo another writer's upload.
    let retry =
        storage.retry(Operation::Insert, Precondition::given(request.header_value("x-goog-if-generation-match")));
    let call = Call { bucket: "", object: Some(object), context: &context };
    storage.request(call, &request, Some(&body), retry, is_success, Answer::Headers).await?.0.discard().await;
    context.progress(total, Some(total));
    Ok(JsValue::NULL)
}
