//! `uploadToUrl` and `downloadFromUrl`: transfers through a signed URL, which carries its own
//! authorisation, so they need no client. A download is a `Download` from the URL (retried and
//! resumed like any). An upload is one PUT, sent by the runtime layer's `send` (XMLHttpRequest
//! in browsers, for real upload progress; fetch counting the bytes it reads in Node) under this
//! side's guard, and sent again after a transient failure only when a generation precondition
//! makes that safe, as one-request uploads are. No message keeps the URL's signature.

use alloc::rc::Rc;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::prelude::*;
use crate::protocol::config::DEFAULT_REQUEST_TIMEOUT_MS;
use crate::protocol::error::StorageError;
use crate::protocol::http::{is_success, HttpRequest};
use crate::protocol::options::DownloadOptions;
use crate::protocol::retry::{self, RetryPolicy};
use crate::protocol::signed_url;
use crate::wasm::attempt::{guarded_send, AttemptGuard, Backoff, CallContext};
use crate::wasm::body::Content;
use crate::wasm::download::{self, Download, Source};
use crate::wasm::storage::{Exchange, Refusal};
use crate::wasm::{interop, transport};

/// Resolves to a result holding the bytes at `url` (or `range` of them) in one `Uint8Array`.
/// `options` may hold `range`, `onProgress`, `signal`.
#[wasm_bindgen(js_name = downloadFromUrl)]
pub fn download_from_url(url: JsValue, options: JsValue) -> Promise {
    let url = url.as_string();
    interop::promise(async move {
        let outcome = async {
            let url = checked(url.clone())?;
            let context = CallContext::from_options(&options)?;
            let options: DownloadOptions = interop::decode_options(&options, "downloadFromUrl options")?;
            let range = download::wanted_range(&options)?;
            let bytes = Download::open(Source::Url(url), range, &options, context).await?.read_all().await?;
            Ok(bytes.into())
        };
        Ok(settle(outcome.await, url))
    })
}

/// PUTs `body` (bytes, a Blob or a string) to `url` through `send(url, init, progress)`, which
/// resolves to a `Response` and calls `progress(loaded)` as bytes go up. `options` may hold
/// `headers`, `onProgress`, `signal`.
#[wasm_bindgen(js_name = uploadToUrl)]
pub fn upload_to_url(url: JsValue, body: JsValue, options: JsValue, send: Function) -> Promise {
    let url = url.as_string();
    interop::promise(async move {
        let outcome = upload(checked(url.clone()), body, &options, &send).await.map(|()| JsValue::NULL);
        Ok(settle(outcome, url))
    })
}

fn checked(url: Option<String>) -> Result<String, StorageError> {
    let url = url.ok_or_else(|| StorageError::invalid_argument("url must be a string"))?;
    signed_url::check_url(&url)?;
    Ok(url)
}

fn settle(outcome: Result<JsValue, StorageError>, url: Option<String>) -> JsValue {
    interop::result(outcome.map_err(|error| signed_url::scrubbed(error, url.as_deref().unwrap_or_default())))
}

/// One try of a GET from a signed URL, judged: a 2xx answer, or the typed failure.
pub async fn try_get(context: &CallContext, request: &HttpRequest) -> Result<Exchange, Refusal> {
    let exchange = guarded_send(context, DEFAULT_REQUEST_TIMEOUT_MS, request, None, None, "the signed URL")
        .await
        .map_err(|error| (error, None))?;
    if is_success(exchange.status()) {
        return Ok(exchange);
    }
    let (envelope, raw) = exchange.error_body().await;
    Err((signed_url::failure(exchange.status(), envelope.as_ref(), &raw), exchange.retry_after()))
}

async fn upload(
    url: Result<String, StorageError>,
    body: JsValue,
    options: &JsValue,
    send: &Function,
) -> Result<(), StorageError> {
    let url = url?;
    let (body, total): (JsValue, u64) = match Content::from_js(body) {
        Ok(Content::Bytes(bytes)) => {
            let total = bytes.length() as u64;
            (bytes.into(), total)
        }
        Ok(Content::Blob(blob)) => {
            let total = blob.size() as u64;
            (blob.into(), total)
        }
        _ => {
            return Err(StorageError::invalid_argument(
                "body must be a Blob or File, bytes (Uint8Array, ArrayBuffer, Buffer) or a string",
            ))
        }
    };
    let context = CallContext::from_options(options)?;
    let init = RequestInit::new();
    init.set_method("PUT");
    let headers = interop::raw_option(options, "headers");
    if let Some(headers) = &headers {
        if !headers.is_object() {
            return Err(StorageError::invalid_argument("option `headers` must be an object of names and values"));
        }
        init.set_headers(headers);
    }
    // fetch and XMLHttpRequest would refuse a header or the URL only once sent: find out now.
    Request::new_with_str_and_init(&url, &init).map_err(|error| {
        StorageError::invalid_argument(text!("cannot build the request: ", interop::thrown_message(&error)))
    })?;
    init.set_body(&body);
    let precondition = headers.and_then(|headers| {
        Object::keys(headers.unchecked_ref::<Object>())
            .iter()
            .filter_map(|key| key.as_string())
            .find(|key| signed_url::is_precondition(key))
    });
    let mut backoff = Backoff::new(RetryPolicy::default());
    loop {
        match put(&url, &init, send, &context, total).await {
            Ok(()) => {
                context.progress(total, Some(total));
                return Ok(());
            }
            // An unconditional overwrite repeated could undo another writer's upload.
            Err((error, retry_after)) if retry::repeatable_write(precondition.as_deref()) => {
                backoff.wait(error, retry_after, &context).await?
            }
            Err((error, _)) => return Err(error),
        }
    }
}

/// One PUT under its own guard: the caller's signal and the stall timer abort it, and each
/// step of progress restarts the timer (a slow upload is not a stalled one).
async fn put(url: &str, init: &RequestInit, send: &Function, context: &CallContext, total: u64) -> Result<(), Refusal> {
    let guard = Rc::new(AttemptGuard::new(context, DEFAULT_REQUEST_TIMEOUT_MS).map_err(|error| (error, None))?);
    init.set_signal(Some(&guard.signal()));
    let progress = {
        let (guard, context) = (guard.clone(), context.clone());
        Closure::<dyn FnMut(f64)>::new(move |loaded: f64| {
            guard.arm();
            context.progress((loaded as u64).min(total), Some(total));
        })
    };
    guard.arm();
    let sent = match send.call3(&JsValue::UNDEFINED, &JsValue::from_str(url), init, progress.as_ref()) {
        Ok(promise) => JsFuture::from(Promise::resolve(&promise)).await,
        Err(thrown) => Err(thrown),
    };
    guard.disarm();
    let response: Response =
        sent.map_err(|thrown| (guard.classify(transport::network_error(&thrown)), None))?.unchecked_into();
    if is_success(response.status()) {
        transport::discard(&response).await;
        return Ok(());
    }
    guard.arm();
    let (envelope, raw) = transport::error_body(&response).await;
    guard.disarm();
    Err((signed_url::failure(response.status(), envelope.as_ref(), &raw), None))
}
