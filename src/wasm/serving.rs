//! `serve` for JavaScript: an object as a web `Response` (for Hono, Next.js route handlers,
//! Deno, Bun and Workers; the Node layer's `serveTo` writes the same answer to a
//! `ServerResponse`). Reads the request's method and headers from a `Request` or anything with
//! `method` and `headers` (a `Headers`, a plain object, Node's `IncomingMessage` headers), asks
//! `protocol::serving` what to answer, and streams the body from a download pinned to the
//! generation the headers describe. Never rejects: every failure is an answer (404, 5xx).

use alloc::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Response, ResponseInit};

use crate::prelude::*;
use crate::protocol::document::Document;
use crate::protocol::download_cursor::WHOLE;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::object_metadata::ObjectMetadata;
use crate::protocol::range::ByteRange;
use crate::protocol::serving::{self, Answer, Body, ServeMethod, ServeOptions, ServeRequest, REQUEST_HEADERS};
use crate::wasm::call_context::CallContext;
use crate::wasm::download::Download;
use crate::wasm::exports::Core;
use crate::wasm::interop::{self, get as property, object_name_arg, set};
use crate::wasm::storage::Storage;

/// How many times the object may change between its metadata and its download before the
/// answer is a 503 rather than another try.
const TRIES: u32 = 3;

/// A header's value as a string: strings as they are, arrays (Node's repeated headers)
/// joined with `, `.
fn header_text(value: JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    let parts: Vec<String> = Document::as_array(&value)?.iter().filter_map(|part| part.as_string()).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// One header of `headers`: a `Headers` (or anything with a `get` method), or a plain object
/// whose keys are matched without regard to case.
fn header(headers: &JsValue, name: &str) -> Option<String> {
    if !headers.is_object() {
        return None;
    }
    if let Ok(get) = property(headers, "get").dyn_into::<Function>() {
        return get.call1(headers, &JsValue::from_str(name)).ok().and_then(header_text);
    }
    let exact = property(headers, name);
    if !exact.is_undefined() {
        return header_text(exact);
    }
    let keys = interop::keys_of(headers).ok()?;
    let key = keys.iter().filter_map(|key| key.as_string()).find(|key| key.eq_ignore_ascii_case(name))?;
    header_text(property(headers, &key))
}

/// What serving reads of the request (a missing request is a plain GET).
fn read_request(request: &JsValue) -> ServeRequest {
    let method = ServeMethod::parse(property(request, "method").as_string().as_deref());
    let headers = property(request, "headers");
    ServeRequest::new(method, REQUEST_HEADERS.map(|name| header(&headers, name)))
}

/// The call's signal: `options.signal`, else the request's own (which servers such as
/// `Deno.serve` abort when the client goes away).
fn call_context(options: &JsValue, request: &JsValue) -> Result<CallContext, StorageError> {
    let mut context = CallContext::from_options(options)?;
    if context.signal.is_none() {
        context.signal = property(request, "signal").dyn_into::<AbortSignal>().ok();
    }
    Ok(context)
}

/// The web `Response` of an answer, with `body` as its stream when it has the object's bytes.
fn to_response(answer: &Answer, body: Option<&web_sys::ReadableStream>) -> Result<Response, JsValue> {
    let headers = Object::new();
    for (name, value) in &answer.headers {
        set(&headers, name, &JsValue::from_str(value));
    }
    let init = ResponseInit::new();
    init.set_status(answer.status);
    init.set_headers(&headers);
    match (answer.body, body) {
        (_, Some(stream)) => Response::new_with_opt_readable_stream_and_init(Some(stream), &init),
        (Body::Text(text), None) => Response::new_with_opt_str_and_init(Some(text), &init),
        _ => Response::new_with_opt_str_and_init(None, &init),
    }
}

/// The answer to `request` and, when it carries the object's bytes, their download (pinned
/// to the generation whose metadata made the headers). An object that changes between the
/// two reads is read again.
async fn plan(
    storage: &Rc<Storage>,
    name: &str,
    request: &ServeRequest,
    options: &ServeOptions,
    context: &CallContext,
) -> Result<(Answer, Option<Download>), StorageError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let meta: ObjectMetadata = storage.get_metadata(name, context).await?;
        let answer = serving::answer(&meta, request, options)?;
        let Body::Object { range } = answer.body else { return Ok((answer, None)) };
        let range = range.map_or(WHOLE, |(start, end)| ByteRange::From { start, end: Some(end) });
        let opened =
            Download::open_generation(storage.clone(), name.into(), range, meta.generation.clone(), context.clone())
                .await;
        match opened {
            Ok(download) => return Ok((answer, Some(download))),
            Err(error) if error.kind == ErrorKind::PreconditionFailed && tries < TRIES => continue,
            Err(error) => return Err(error),
        }
    }
}

/// What `serve` comes to: the answer, the download of its body (if it has the object's
/// bytes), and the failure it reports (if it is one).
pub struct Served {
    pub answer: Answer,
    pub body: Option<web_sys::ReadableStream>,
    pub error: Option<StorageError>,
}

impl Served {
    fn failed(error: StorageError, method: ServeMethod) -> Served {
        Served { answer: Answer::failure(&error, method), body: None, error: Some(error) }
    }
}

/// The whole of `serve`; failures become answers here.
pub async fn serve(
    storage: Result<Rc<Storage>, StorageError>,
    name: &JsValue,
    request: &JsValue,
    options: &JsValue,
) -> Served {
    let serve_request = read_request(request);
    let method = serve_request.method;
    if method == ServeMethod::Other {
        let error = StorageError::invalid_argument("serve answers GET and HEAD only");
        return Served { answer: Answer::method_not_allowed(), body: None, error: Some(error) };
    }
    // A name no object can have (`..`, too long) names nothing: 404, as for a missing object.
    let name = match object_name_arg(name, "objectName") {
        Ok(name) => name,
        Err(error) => return Served { answer: Answer::not_found(method), body: None, error: Some(error) },
    };
    let prepared = storage.and_then(|storage| {
        let context = call_context(options, request)?;
        let options: ServeOptions = interop::decode_options(options, "serve options")?;
        Ok((storage, context, options))
    });
    let outcome = match prepared {
        Ok((storage, context, options)) => plan(&storage, &name, &serve_request, &options, &context).await,
        Err(error) => Err(error),
    };
    match outcome.and_then(|(answer, download)| {
        Ok((answer, download.map(|download| download.into_stream("serve".into())).transpose()?))
    }) {
        Ok((answer, body)) => Served { answer, body, error: None },
        Err(error) => Served::failed(error, method),
    }
}

/// `{status, headers, body, error?}` for the Node layer's `serveTo`: `headers` as `[name,
/// value]` pairs, `body` a `ReadableStream` of the object's bytes, a string, or null; `error`
/// the RequestError a failure answer stands for.
fn served_to_js(served: &Served) -> JsValue {
    let object = Object::new();
    set(&object, "status", &JsValue::from(served.answer.status));
    let headers = Array::new();
    for (name, value) in &served.answer.headers {
        headers.push(&Array::of2(&JsValue::from_str(name), &JsValue::from_str(value)));
    }
    set(&object, "headers", &headers);
    let body = match (served.answer.body, &served.body) {
        (_, Some(stream)) => stream.into(),
        (Body::Text(text), None) => JsValue::from_str(text),
        _ => JsValue::NULL,
    };
    set(&object, "body", &body);
    if let Some(error) = &served.error {
        set(&object, "error", &interop::error_to_js(error));
    }
    object.into()
}

#[wasm_bindgen]
impl Core {
    /// Resolves to a web `Response` serving the object to `request` (never rejects).
    /// `options` may hold `cacheControl`, `disposition`, `filename`, `signal`.
    pub fn serve(&self, name: JsValue, request: JsValue, options: JsValue) -> Promise {
        let storage = self.storage();
        interop::promise(async move {
            let served = serve(storage, &name, &request, &options).await;
            to_response(&served.answer, served.body.as_ref()).map(JsValue::from)
        })
    }

    /// Resolves to the answer as a plain `{status, headers, body, error?}` object, for runtime
    /// layers that write answers themselves (Node's `ServerResponse`).
    #[wasm_bindgen(js_name = serveAnswer)]
    pub fn serve_answer(&self, name: JsValue, request: JsValue, options: JsValue) -> Promise {
        let storage = self.storage();
        interop::promise(async move { Ok(served_to_js(&serve(storage, &name, &request, &options).await)) })
    }
}
