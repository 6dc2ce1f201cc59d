//! The class JavaScript sees. Thin on purpose: it converts arguments, runs one `Storage`
//! operation and turns the outcome into a `{ok, value}` / `{ok: false, error}` object. Its
//! promises always resolve, whatever happens; failures are values.

use alloc::rc::Rc;
use core::future::Future;
use core::pin::Pin;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use crate::prelude::*;
#[cfg(feature = "server")]
use crate::protocol::config::Environment;
use crate::protocol::config::{AuthMode, ClientConfig, ClientOptions};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::options::{CopyOptions, DeleteOptions, ListOptions, UploadOptions};
use crate::wasm::auth::Credentials;
#[cfg(feature = "server")]
use crate::wasm::auth::SidecarTokens;
use crate::wasm::body::{self, Content};
use crate::wasm::call_context::CallContext;
use crate::wasm::download::Download;
use crate::wasm::interop::{self, object_name_arg};
use crate::wasm::storage::Storage;
use crate::wasm::upload;

/// The protocol core behind the runtime layers' `Client`. Creating one does no I/O; bad
/// options are reported by every call instead of a throw.
#[wasm_bindgen]
pub struct Core {
    storage: Result<Rc<Storage>, StorageError>,
}

fn credentials(config: &ClientConfig, access_token: Option<JsValue>) -> Result<Credentials, StorageError> {
    Ok(match (config.auth, access_token) {
        (AuthMode::Caller, Some(token)) => match (token.as_string(), token.dyn_into::<Function>()) {
            (Some(fixed), _) if !fixed.is_empty() => Credentials::Fixed(fixed),
            (_, Ok(provider)) => Credentials::Provider(provider),
            _ => return Err(StorageError::invalid_argument("accessToken must be a non-empty string or a function")),
        },
        (AuthMode::Anonymous, _) => Credentials::Anonymous,
        #[cfg(feature = "server")]
        _ => Credentials::Sidecar(SidecarTokens::new(config.sidecar_endpoint.clone(), config.request_timeout_ms)),
        // The browser build has no sidecar to get tokens from (js/web/client.mjs says so first).
        #[cfg(not(feature = "server"))]
        _ => return Err(StorageError::invalid_argument(crate::wasm::NO_SIDECAR)),
    })
}

fn build(options: &JsValue, environment: &JsValue) -> Result<Storage, StorageError> {
    let access_token = interop::raw_option(options, "accessToken");
    let mut given: ClientOptions = interop::decode_options(options, "Client options")?;
    given.has_access_token = access_token.is_some();
    // Only server runtimes have an environment: the browser build does not read one.
    #[cfg(feature = "server")]
    interop::decode_options::<Environment>(environment, "environment")?.apply_to(&mut given);
    #[cfg(not(feature = "server"))]
    let _ = environment;
    let config = ClientConfig::resolve(given)?;
    let credentials = credentials(&config, access_token)?;
    Ok(Storage::new(config, credentials))
}

#[wasm_bindgen]
impl Core {
    /// `options` as the public constructor takes them; `environment` is the runtime's
    /// environment variables (`process.env`) where it has them, else `undefined`: only the
    /// variables `config::Environment` names are read.
    #[cfg(feature = "server")]
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, environment: JsValue) -> Core {
        Core { storage: build(&options, &environment).map(Rc::new) }
    }

    /// The browser build's constructor: a browser has no environment.
    #[cfg(not(feature = "server"))]
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Core {
        Core { storage: build(&options, &JsValue::UNDEFINED).map(Rc::new) }
    }

    /// The storage behind this client, or why there is none (bad options).
    #[cfg(feature = "server")]
    pub(crate) fn storage(&self) -> Result<Rc<Storage>, StorageError> {
        self.storage.clone()
    }

    /// Runs the `Client` method `name`, whose options argument is `options`, as a promise
    /// of its result: a failure to get an answer names the method, an abort keeps the signal's
    /// reason (`interop::result`).
    pub(crate) fn run<F, T>(
        &self,
        name: String,
        options: &JsValue,
        operation: impl FnOnce(Rc<Storage>) -> F + 'static,
    ) -> Promise
    where
        F: Future<Output = Result<T, StorageError>> + 'static,
        T: Into<JsValue>,
    {
        let storage = self.storage.clone();
        let signal: Option<AbortSignal> = interop::property(options, "signal");
        interop::promise(async move {
            let outcome = match storage {
                Ok(storage) => operation(storage).await.map(Into::into),
                Err(error) => Err(error),
            };
            Ok(interop::result(outcome.map_err(|error| error.during(&name)), signal.as_ref()))
        })
    }

    /// Runs the operation named `operation` (the `Client` method's name) with its arguments
    /// in order, `undefined` for any it does not take. One export and one promise wrapper for
    /// every operation the browser build has: an export each cost ~0.2 KiB gz of it (measured).
    /// Server-only operations are methods of their own (`serve`, `getAclPolicy`, ...).
    pub fn call(&self, operation: JsValue, first: JsValue, second: JsValue, third: JsValue) -> Promise {
        let operation = operation.as_string().unwrap_or_default();
        // The options are the last argument given (the others are names and contents).
        let options = match (&first, &second, &third) {
            (_, _, given) | (_, given, _) | (given, _, _) if !given.is_undefined() => given.clone(),
            _ => JsValue::UNDEFINED,
        };
        self.run(operation.clone(), &options, move |storage| async move {
            operate(storage, &operation, first, second, third).await
        })
    }
}

/// One operation of `Core::call`:
/// - `copy(objectName, destObjectName, options)`: `options` may hold `ifGenerationMatch` (of
///   the destination), `ifSourceGenerationMatch` and `signal` (an AbortSignal);
/// - `delete(objectName, options)`, `exists(objectName, options)`, `list(options)`;
/// - `downloadAsBytes(objectName, options)`: the contents (or `range` of them) as one
///   `Uint8Array`; `downloadAsText`: decoded as UTF-8 (BOM kept); any other `download…`
///   (`downloadAsStream`, `downloadToFilename`): once the answer's headers are in, a
///   `ReadableStream` of them, which a later failure errors with a RequestError object.
///   `options` may hold `decompress`, `range`, `signal`, `onProgress`;
/// - `uploadFrom…(objectName, contents, options)`: a string, bytes, a `Blob` or a
///   `ReadableStream`, overwriting; `options` may hold `compress`, `contentType`, `ifGenerationMatch`,
///   `resumable`, `signal`, `onProgress`;
/// - `getMetadata(objectName, options)`, `setMetadata(objectName, patch, options)`,
///   `listPage(options)`.
async fn operate(
    storage: Rc<Storage>,
    operation: &str,
    first: JsValue,
    second: JsValue,
    third: JsValue,
) -> Result<JsValue, StorageError> {
    match operation {
        "copy" => {
            let source = object_name_arg(&first, "objectName")?;
            let destination = object_name_arg(&second, "destObjectName")?;
            let context = CallContext::from_options(&third)?;
            let options: CopyOptions = interop::decode_options(&third, "copy options")?;
            storage.copy(&source, &destination, &options, &context).await.map(|()| JsValue::NULL)
        }
        "delete" => {
            let name = object_name_arg(&first, "objectName")?;
            let context = CallContext::from_options(&second)?;
            let options: DeleteOptions = interop::decode_options(&second, "delete options")?;
            storage.delete(&name, &options, &context).await.map(|()| JsValue::NULL)
        }
        "exists" => {
            let name = object_name_arg(&first, "objectName")?;
            let context = CallContext::from_options(&second)?;
            storage.exists(None, &name, &context).await.map(JsValue::from_bool)
        }
        "list" => {
            let context = CallContext::from_options(&first)?;
            let options: ListOptions = interop::decode_options(&first, "list options")?;
            storage.list(&options, &context).await.map(Into::into)
        }
        _ if operation.starts_with("download") => {
            let name = object_name_arg(&first, "objectName")?;
            let download = Download::open(storage, name, None, &second).await?;
            match operation {
                "downloadAsBytes" | "downloadAsText" => {
                    // One await of the whole body for both (each await site is code of its own).
                    let bytes = download.read_all().await?;
                    Ok(if operation == "downloadAsText" { body::decode_utf8(&bytes) } else { bytes.into() })
                }
                _ => download.into_stream(operation.into()).map(Into::into),
            }
        }
        _ if operation.starts_with("uploadFrom") => {
            let name = object_name_arg(&first, "objectName")?;
            let content = Content::from_js(second)?;
            let context = CallContext::from_options(&third)?;
            let options: UploadOptions = interop::decode_options(&third, "upload options")?;
            // Boxed: its state machine a function of its own, not a part of the operations'
            // one; 0.3 KiB gz smaller in the browser build (measured).
            let upload: Pin<Box<dyn Future<Output = Result<(), StorageError>> + '_>> =
                Box::pin(upload::upload(&storage, &name, content, &options, &context));
            upload.await.map(|()| JsValue::NULL)
        }
        "getMetadata" => crate::wasm::metadata::get_metadata(&storage, first, second).await,
        "setMetadata" => crate::wasm::set_metadata::set_metadata(&storage, first, second, third).await,
        "listPage" => crate::wasm::listing::list_page(&storage, first).await,
        _ => Err(StorageError::new(ErrorKind::Unsupported, "no such operation")),
    }
}

/// Any thrown or emitted value as a `RequestError` object: ours pass through, aborts and
/// timeouts keep their meaning, anything else becomes `fallbackKind` (default `Network`).
#[wasm_bindgen(js_name = toRequestError)]
pub fn to_request_error(value: JsValue, fallback_kind: JsValue) -> JsValue {
    // A `JsValue`, read as a string here: an `Option<String>` parameter costs string-passing glue.
    let fallback = fallback_kind.as_string().as_deref().and_then(ErrorKind::parse).unwrap_or(ErrorKind::Network);
    interop::error_to_js(&interop::error_from_js(&value, fallback))
}

/// The size of this module's linear memory in bytes: a diagnostic for checking that
/// transfers do not grow it with object size.
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|memory| memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64)
        .unwrap_or(0.0)
}

/// The CRC32C of some bytes in GCS's form (base64 of the big-endian value), computed as
/// downloads and uploads compute it: window by window, never copying the whole array into
/// wasm memory. For checking local data against an object's `crc32c`, and for the benchmark.
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = crc32c)]
pub fn crc32c_of(bytes: &js_sys::Uint8Array) -> String {
    let mut crc = crate::protocol::integrity::Crc32c::default();
    body::hash(&mut crc, bytes);
    crc.to_base64()
}
