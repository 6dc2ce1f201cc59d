//! The class JavaScript sees. Thin on purpose: it converts arguments, runs one `Storage`
//! operation and turns the outcome into a `{ok, value}` / `{ok: false, error}` object. Its
//! promises always resolve, whatever happens; failures are values.

use alloc::rc::Rc;
use core::future::Future;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[cfg(feature = "server")]
use crate::prelude::*;
#[cfg(feature = "server")]
use crate::protocol::config::Environment;
use crate::protocol::config::{AuthMode, ClientConfig, ClientOptions};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::options::{CopyOptions, DeleteOptions, ListOptions, UploadOptions};
use crate::wasm::attempt::CallContext;
use crate::wasm::auth::Credentials;
#[cfg(feature = "server")]
use crate::wasm::auth::SidecarTokens;
use crate::wasm::body::{self, Content};
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

    pub(crate) fn run<F, T>(&self, operation: impl FnOnce(Rc<Storage>) -> F + 'static) -> Promise
    where
        F: Future<Output = Result<T, StorageError>> + 'static,
        T: Into<JsValue>,
    {
        let storage = self.storage.clone();
        interop::promise(async move {
            let outcome = match storage {
                Ok(storage) => operation(storage).await.map(Into::into),
                Err(error) => Err(error),
            };
            Ok(interop::result(outcome))
        })
    }

    /// `options` may hold `ifGenerationMatch` (of the destination), `ifSourceGenerationMatch`
    /// and `signal` (an AbortSignal).
    pub fn copy(&self, source: JsValue, destination: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move {
            let source = object_name_arg(&source, "objectName")?;
            let destination = object_name_arg(&destination, "destObjectName")?;
            let context = CallContext::from_options(&options)?;
            let options: CopyOptions = interop::decode_options(&options, "copy options")?;
            storage.copy(&source, &destination, &options, &context).await.map(|()| JsValue::NULL)
        })
    }

    pub fn delete(&self, name: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            let context = CallContext::from_options(&options)?;
            let options: DeleteOptions = interop::decode_options(&options, "delete options")?;
            storage.delete(&name, &options, &context).await.map(|()| JsValue::NULL)
        })
    }

    pub fn exists(&self, name: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            let context = CallContext::from_options(&options)?;
            storage.exists(None, &name, &context).await.map(JsValue::from_bool)
        })
    }

    pub fn list(&self, options: JsValue) -> Promise {
        self.run(move |storage| async move {
            let context = CallContext::from_options(&options)?;
            let options: ListOptions = interop::decode_options(&options, "list options")?;
            storage.list(&options, &context).await
        })
    }

    /// Resolves to a result holding the object's contents (or `range` of them) as one
    /// `Uint8Array`. `options` may hold `decompress`, `range`, `signal`, `onProgress`.
    #[wasm_bindgen(js_name = downloadBytes)]
    pub fn download_bytes(&self, name: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move { open_download(storage, name, options).await?.read_all().await })
    }

    /// Resolves to a result holding the contents decoded as UTF-8 (BOM kept).
    #[wasm_bindgen(js_name = downloadText)]
    pub fn download_text(&self, name: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move {
            let bytes = open_download(storage, name, options).await?.read_all().await?;
            Ok(body::decode_utf8(&bytes))
        })
    }

    /// Resolves, once the answer's headers are in, to a result holding a `ReadableStream`
    /// of the contents; a later failure errors the stream with a RequestError object.
    #[wasm_bindgen(js_name = downloadStream)]
    pub fn download_stream(&self, name: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move { open_download(storage, name, options).await?.into_stream() })
    }

    /// Uploads a string, bytes, a `Blob` or a `ReadableStream`, overwriting. `options`
    /// may hold `compress`, `contentType`, `ifGenerationMatch`, `resumable`, `signal`,
    /// `onProgress`.
    pub fn upload(&self, name: JsValue, contents: JsValue, options: JsValue) -> Promise {
        self.run(move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            let content = Content::from_js(contents)?;
            let context = CallContext::from_options(&options)?;
            let options: UploadOptions = interop::decode_options(&options, "upload options")?;
            upload::upload(&storage, &name, content, &options, &context).await.map(|()| JsValue::NULL)
        })
    }
}

async fn open_download(storage: Rc<Storage>, name: JsValue, options: JsValue) -> Result<Download, StorageError> {
    let name = object_name_arg(&name, "objectName")?;
    Download::open(storage, name, None, &options).await
}

/// Any thrown or emitted value as a `RequestError` object: ours pass through, aborts and
/// timeouts keep their meaning, anything else becomes `fallbackKind` (default `Network`).
#[wasm_bindgen(js_name = toRequestError)]
pub fn to_request_error(value: JsValue, fallback_kind: JsValue) -> JsValue {
    // A `JsValue`, read as a string here: an `Option<String>` parameter costs string-passing glue.
    let fallback = fallback_kind.as_string().as_deref().and_then(ErrorKind::parse).unwrap_or(ErrorKind::Network);
    interop::error_to_js(&interop::error_from_js(&value, fallback))
}

/// A `RequestError` object made by the runtime layer (for failures only it can see, such
/// as local files), so every error has one shape. Node's layer uses it (and the two exports
/// below); the browser build's layer does not, so it leaves them out.
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = requestError)]
pub fn request_error(kind: &str, message: &str) -> JsValue {
    let kind = ErrorKind::parse(kind).unwrap_or(ErrorKind::Unknown);
    interop::error_to_js(&StorageError::new(kind, message))
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
