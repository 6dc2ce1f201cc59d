//! The one place that calls the global `fetch`: turns an `HttpRequest` into a fetch
//! call, and reads answers back. Works in every runtime (no `window` needed).

use js_sys::{JsString, Promise, Reflect};
#[cfg(feature = "server")]
use once_cell::race::OnceBool;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, ReadableStream, Request, RequestInit, Response};

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_responses::ErrorEnvelope;
use crate::protocol::http::{Body, HttpRequest};
use crate::wasm::{interop, platform};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;

    /// `JSON.parse` of a JS string as it is: js-sys's binding takes `&str`, which would copy
    /// the text into wasm memory and back out.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_json(text: &JsString) -> Result<JsValue, JsValue>;

    /// `Headers`, whose `get` is bound here as giving a JS value: web-sys's gives
    /// `Option<String>`, whose conversion is code of its own (0.4 KiB raw) beside the
    /// `as_string` every other string read shares.
    type HeaderValues;
    #[wasm_bindgen(method, catch)]
    fn get(headers: &HeaderValues, name: &str) -> Result<JsValue, JsValue>;
}

/// Error bodies are read only this far: they are messages, not data.
const ERROR_BODY_LIMIT: u32 = 4096;

/// Told how much of a request body the runtime took: `(bytes, watched)`, where `watched` says
/// the body goes piece by piece as the runtime asks (else it was handed over whole).
#[cfg(feature = "server")]
pub type Watch = alloc::rc::Rc<dyn Fn(f64, bool)>;
/// The browser build watches no body (see `body_value`).
#[cfg(not(feature = "server"))]
pub type Watch = ();

/// Sends a request. `content` is the caller's body for `Body::Content`; `bearer` the
/// token for `Authorization`; `signal` aborts it; `via`, when given, sends it instead of
/// `fetch`, as `via(request, content)` resolving to a `Response` (the runtime layer's PUT with
/// upload progress; `request` carries no body, `via` sends `content` as it is); `watch` hears
/// of the body's bytes as the runtime takes them. A failure to get any answer is a `Network`
/// error. The `Request`, when one was made (see `fetch_direct`), comes back with the answer:
/// whoever reads the body must keep it alive, since Node's fetch follows a Request's abort
/// signal only while that Request exists.
pub async fn send(
    request: &HttpRequest,
    content: Option<&JsValue>,
    bearer: Option<&str>,
    signal: Option<&AbortSignal>,
    via: Option<&js_sys::Function>,
    watch: &Watch,
) -> Result<(Response, Option<Request>), StorageError> {
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    // A browser may answer from its HTTP cache (heuristically, when an emulator sends no
    // Cache-Control): a download right after an overwrite got the old bytes. Objects are read
    // fresh, always.
    #[cfg(not(feature = "server"))]
    let _ = Reflect::set(&init, &"cache".into(), &"no-store".into());
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    let headers = Headers::new().map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))?;
    for (name, value) in &request.headers {
        headers.append(name, value).map_err(|_| {
            StorageError::invalid_argument(text!("header ", &**name, " has a name or value fetch refuses"))
        })?;
    }
    if let Some(token) = bearer {
        headers.append("Authorization", &text!("Bearer ", token)).map_err(|_| {
            StorageError::invalid_argument("the access token contains characters not allowed in a header")
        })?;
    }
    init.set_headers(&headers);
    let mut streamed = false;
    match (&request.body, content) {
        (Body::Empty, _) => {}
        (Body::Text(text), _) => init.set_body(&JsValue::from_str(text)),
        // `via` sends the body itself, as given: in the Request it would be a copy (bytes) or a
        // stream no one reads.
        (Body::Content, Some(body)) if via.is_some() => handed_over(body, watch),
        (Body::Content, Some(body)) => {
            #[cfg(feature = "server")]
            if body.is_instance_of::<ReadableStream>() {
                // A whole resumable session's body (`streamed_upload`) follows no redirect: to be
                // able to, fetch tees the body, and the branch it never reads keeps every piece (a
                // 1 GiB file upload grew RSS by 1 GiB). Its answer is final; a 308 ("incomplete")
                // fails the try, whose status query then says what the session holds. (A chunk's
                // answer is a 308 by design: chunks, a few MiB each, keep following.)
                let _ = Reflect::set(&init, &"redirect".into(), &"error".into());
            }
            let body = &body_value(body, watch)?;
            init.set_body(body);
            if body.is_instance_of::<ReadableStream>() {
                // Streamed request bodies must say so (fetch standard, "duplex").
                let _ = Reflect::set(&init, &"duplex".into(), &"half".into());
                streamed = true;
            }
        }
        (Body::Content, None) => return Err(StorageError::new(ErrorKind::Unknown, "request body missing")),
    }
    let (answer, fetch_request) = match fetch_direct(&request.url, &init, via, streamed) {
        Some(answer) => (Ok(answer), None),
        None => {
            let fetch_request = new_request(&request.url, &init)?;
            let answer = match via {
                None => Ok(global_fetch(&fetch_request)),
                Some(via) => via
                    .call2(&JsValue::UNDEFINED, &fetch_request, content.unwrap_or(&JsValue::UNDEFINED))
                    .map(|sent| Promise::resolve(&sent)),
            };
            (answer, Some(fetch_request))
        }
    };
    let answer = match answer {
        Ok(promise) => JsFuture::from(promise).await,
        Err(thrown) => Err(thrown),
    }
    .map_err(|error| failure(request, &init, &fetch_request, &error))?;
    let response = answer
        .dyn_into::<Response>()
        .map_err(|_| StorageError::new(ErrorKind::Unknown, "fetch returned something other than a Response"))?;
    Ok((response, fetch_request))
}

/// Watched bodies go to fetch in pieces of this size. 64 KiB pieces raised a 1 GiB
/// uploadFromFilename's peak RSS from 55 to 65 MiB over an idle client (measured), over budget.
#[cfg(feature = "server")]
const STREAM_PIECE: u32 = 256 * 1024;

/// Whether `fetch` takes streamed request bodies over HTTP/1.1: Node, and Deno and Bun,
/// which present themselves as Node. (Browsers need HTTP/2 for it, or lack it.)
#[cfg(feature = "server")]
pub fn streams_request_bodies() -> bool {
    static ANSWER: OnceBool = OnceBool::new();
    ANSWER.get_or_init(|| {
        js_sys::Reflect::get(&js_sys::global(), &"process".into())
            .and_then(|process| js_sys::Reflect::get(&process, &"versions".into()))
            .and_then(|versions| js_sys::Reflect::get(&versions, &"node".into()))
            .is_ok_and(|node| node.is_string())
    })
}

/// The body's size when it is bytes or a Blob (0 for anything else).
pub fn body_size(body: &JsValue) -> f64 {
    match body.dyn_ref::<js_sys::Uint8Array>() {
        Some(bytes) => bytes.length() as f64,
        None => body.dyn_ref::<web_sys::Blob>().map_or(0.0, web_sys::Blob::size),
    }
}

/// The body as `fetch` gets it. Where fetch streams request bodies, one larger than a piece
/// goes as a stream that tells `watch` of each piece as fetch takes it (the stall timer sees
/// the upload move): bytes as views of the same memory, made afresh for every send (so a
/// request can still be sent again; the fetch standard would copy a byte array whole), a Blob
/// (a file) read as fetch asks. Any other body is handed over whole, and `watch` told so.
#[cfg(feature = "server")]
fn body_value(body: &JsValue, watch: &Watch) -> Result<JsValue, StorageError> {
    if let Some(stream) = body.dyn_ref::<ReadableStream>() {
        // A stream made for this one try (`upload`'s streamed session): watched as it goes.
        return watched_stream(stream.clone(), watch.clone()).map(Into::into);
    }
    let size = body_size(body);
    if streams_request_bodies() && size > STREAM_PIECE as f64 {
        if let Some(bytes) = body.dyn_ref::<js_sys::Uint8Array>() {
            return byte_stream(bytes.clone(), watch.clone()).map(Into::into);
        }
        if let Some(blob) = body.dyn_ref::<web_sys::Blob>() {
            let stream = platform::stream(blob)?;
            return watched_stream(stream, watch.clone()).map(Into::into);
        }
    }
    watch(size, false);
    Ok(body.clone())
}

/// Tells `watch` that `body` went whole to whoever sends it.
#[cfg(feature = "server")]
fn handed_over(body: &JsValue, watch: &Watch) {
    watch(body_size(body), false);
}

#[cfg(not(feature = "server"))]
fn handed_over(_body: &JsValue, _watch: &Watch) {}

/// The browser build's body as it is, handed over whole: browsers stream request bodies only
/// over HTTP/2 and tell fetch's caller nothing of an upload's progress (the attempt allows
/// for the whole body before it sends).
#[cfg(not(feature = "server"))]
fn body_value(body: &JsValue, _watch: &Watch) -> Result<JsValue, StorageError> {
    Ok(body.clone())
}

#[cfg(feature = "server")]
fn byte_stream(bytes: js_sys::Uint8Array, watch: Watch) -> Result<ReadableStream, StorageError> {
    let offset = core::cell::Cell::new(0u32);
    let pull = Closure::<dyn FnMut(web_sys::ReadableStreamDefaultController)>::new(
        move |controller: web_sys::ReadableStreamDefaultController| {
            let start = offset.get();
            if start >= bytes.length() {
                let _ = controller.close();
                return;
            }
            let end = bytes.length().min(start + STREAM_PIECE);
            let _ = controller.enqueue_with_chunk(&bytes.subarray(start, end));
            offset.set(end);
            watch((end - start) as f64, true);
        },
    );
    pulled_stream(pull.into_js_value(), None)
}

/// `source` passed on a piece at a time as fetch asks, each piece told to `watch`.
#[cfg(feature = "server")]
fn watched_stream(source: ReadableStream, watch: Watch) -> Result<ReadableStream, StorageError> {
    let reader = platform::reader(&source)?;
    // A try that stops early (aborted, failed) passes the cancel on, so a file is let go.
    let cancelled = reader.clone();
    let pull = Closure::<dyn FnMut(web_sys::ReadableStreamDefaultController) -> Promise>::new(
        move |controller: web_sys::ReadableStreamDefaultController| {
            let (reader, watch) = (reader.clone(), watch.clone());
            interop::promise(async move {
                match crate::wasm::body::next_value(&reader).await? {
                    None => controller.close()?,
                    Some(piece) => {
                        let length = Reflect::get(&piece, &"byteLength".into())?.as_f64().unwrap_or(0.0);
                        controller.enqueue_with_chunk(&piece)?;
                        watch(length, true);
                    }
                }
                Ok(JsValue::UNDEFINED)
            })
        },
    );
    let cancel =
        Closure::<dyn FnMut(JsValue) -> Promise>::new(move |reason: JsValue| cancelled.cancel_with_reason(&reason));
    pulled_stream(pull.into_js_value(), Some(cancel.into_js_value()))
}

/// A ReadableStream that asks `pull` for a piece only when its reader wants one (no read-ahead);
/// `cancel`, when given, hears of a reader that stopped early (fetch aborted).
#[cfg(feature = "server")]
pub fn pulled_stream(pull: JsValue, cancel: Option<JsValue>) -> Result<ReadableStream, StorageError> {
    let source = js_sys::Object::new();
    let _ = Reflect::set(&source, &"pull".into(), &pull);
    if let Some(cancel) = cancel {
        let _ = Reflect::set(&source, &"cancel".into(), &cancel);
    }
    let strategy = web_sys::QueuingStrategy::new();
    strategy.set_high_water_mark(0.0);
    ReadableStream::new_with_underlying_source_and_strategy(&source, &strategy)
        .map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))
}

/// What fetch threw, typed: an abort or timeout keeps its kind; anything else is a `Network`
/// failure naming the request (in the browser build, with the CORS hint).
fn network_error(request: &HttpRequest, thrown: &JsValue) -> StorageError {
    let error = interop::error_from_js(thrown, ErrorKind::Network);
    match error.kind {
        ErrorKind::Network => {
            crate::protocol::http::network_failure(request.method, &request.url, &error.message, under_cors())
        }
        _ => error,
    }
}

/// Whether CORS governs requests here: in the browser build, run by a page or a browser's
/// worker (which have a `location`; Cloudflare Workers have none), not by Deno (which has one
/// when started with `--location`, and no CORS).
fn under_cors() -> bool {
    if cfg!(feature = "server") {
        return false;
    }
    let global = js_sys::global();
    !interop::get(&global, "location").is_undefined() && interop::get(&global, "Deno").is_undefined()
}

pub fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().unchecked_ref::<HeaderValues>().get(name).ok()?.as_string()
}

/// The whole body as a JS string (never copied into wasm memory here).
pub async fn text(response: &Response) -> Result<JsString, StorageError> {
    let promise = response.text().map_err(|error| read_error(&error))?;
    let value = JsFuture::from(promise).await.map_err(|error| read_error(&error))?;
    value.dyn_into::<JsString>().map_err(|_| StorageError::new(ErrorKind::Unknown, "response text is not a string"))
}

fn read_error(thrown: &JsValue) -> StorageError {
    let error = interop::error_from_js(thrown, ErrorKind::Network);
    StorageError::new(error.kind, text!("reading the response failed: ", error.message))
}

/// A JSON body parsed by `JSON.parse`. A body cut short is a `Network` error (it can be
/// fetched again); a whole body that is not JSON is a malformed answer.
pub async fn json_value(response: &Response, source: &str) -> Result<JsValue, StorageError> {
    let body = text(response).await?;
    parse_json(&body).map_err(|_| StorageError::malformed_response(source, "the body is not JSON"))
}

/// A failed answer's body, bounded: its JSON error envelope if it has one, and its text.
pub async fn error_body(response: &Response) -> (Option<ErrorEnvelope>, String) {
    let Ok(body) = text(response).await else {
        return (None, String::new());
    };
    let bounded = body.slice(0, ERROR_BODY_LIMIT);
    let envelope = parse_json(&bounded)
        .ok()
        .and_then(|parsed| crate::protocol::document::decode::<ErrorEnvelope, _>(&parsed).ok());
    (envelope, String::from(bounded))
}

/// Drops a body the client does not need, so the connection is released.
pub async fn discard(response: &Response) {
    // Through a reader, as every stream the client reads is cancelled; a locked body (being
    // read elsewhere) gives none and is left alone.
    if let Some(reader) = response.body().and_then(|body| platform::reader(&body).ok()) {
        let _ = JsFuture::from(platform::cancel(&reader)).await;
    }
}

/// Node's `fetch(request)` makes a Request of its own from the one given, which costs as much
/// again as making the first (4-5% of a small upload and download's CPU, measured), and
/// follows the given one's abort signal only while that one exists. So the server build hands
/// a request to `fetch(url, init)` as it is, and makes no Request: the one fetch makes follows
/// the try's signal itself, and stays reachable while its body is read (the tests that collect
/// garbage while a body stalls pass; not holding ours fails them). Not when `via` sends; nor for a
/// streamed body (a resumable session's whole data, bytes or a file sent piece by piece: the
/// kinds with `duplex` set): in fetch's init, a 1 GiB stream upload peaked at +106 to +112 MiB
/// over an idle client, against +65 to +88 in a Request, at the same speed (plain fetch sending
/// the same: +52 to +63).
#[cfg(feature = "server")]
fn fetch_direct(url: &str, init: &RequestInit, via: Option<&js_sys::Function>, streamed: bool) -> Option<Promise> {
    (via.is_none() && !streamed).then(|| global_fetch_with(url, init))
}

/// Browsers get a Request, as they did: their fetch is native code, and the browser build's
/// bytes are few.
#[cfg(not(feature = "server"))]
fn fetch_direct(_url: &str, _init: &RequestInit, _via: Option<&js_sys::Function>, _streamed: bool) -> Option<Promise> {
    None
}

// Inlined, as `failure` is: called out of line, the two cost the browser build 43 bytes.
#[inline(always)]
fn new_request(url: &str, init: &RequestInit) -> Result<Request, StorageError> {
    Request::new_with_str_and_init(url, init).map_err(|error| {
        StorageError::invalid_argument(text!("cannot build request: ", interop::thrown_message(&error)))
    })
}

/// What fetch threw, typed (see `network_error`). A request `fetch(url, init)` refused to make
/// (an endpoint with credentials in it, say) is the `InvalidArgument` that making the Request
/// would have thrown, not a network failure to retry.
#[cfg(feature = "server")]
fn failure(request: &HttpRequest, init: &RequestInit, made: &Option<Request>, thrown: &JsValue) -> StorageError {
    match made {
        None => new_request(&request.url, init).err().unwrap_or_else(|| network_error(request, thrown)),
        Some(_) => network_error(request, thrown),
    }
}

#[cfg(not(feature = "server"))]
#[inline(always)]
fn failure(request: &HttpRequest, _init: &RequestInit, _made: &Option<Request>, thrown: &JsValue) -> StorageError {
    network_error(request, thrown)
}

#[cfg(feature = "server")]
#[wasm_bindgen]
extern "C" {
    /// `fetch(url, init)`, for requests made without a Request (see `fetch_direct`).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch_with(url: &str, init: &RequestInit) -> Promise;
}
