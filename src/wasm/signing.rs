//! `signUrl` and `createUploadUrl`: URLs signed by the Replit sidecar, so a browser (or any
//! HTTP client) can read or write one object without a token. Server-only: no sidecar can
//! exist in a browser or a Worker.

use js_sys::{Date, Object, Promise};
use wasm_bindgen::prelude::*;

use crate::prelude::*;
use crate::protocol::content_type;
use crate::protocol::error::StorageError;
use crate::protocol::signed_url::{self, SignUrlOptions, SignedMethod, SignedUrlBody, UploadUrlOptions};
use crate::wasm::call_context::CallContext;
use crate::wasm::exports::Core;
use crate::wasm::interop::{self, object_name_arg, set};
use crate::wasm::sidecar_requests::ask_sidecar_for;
use crate::wasm::storage::Storage;

/// A URL the sidecar signed, and when it stops working (ms since the epoch).
struct SignedUrl {
    url: String,
    expires_at_ms: f64,
}

impl Storage {
    /// Asks the sidecar to sign `method` on `object` in the client's bucket for `expires_in_s`
    /// seconds from now. One try: the sidecar is local, and outside Replit nothing listens.
    async fn sign_url(
        &self,
        object: &str,
        method: SignedMethod,
        expires_in_s: u32,
        context: &CallContext,
    ) -> Result<SignedUrl, StorageError> {
        let bucket = self.bucket(context).await?;
        let expires_at_ms = Date::now() + f64::from(expires_in_s) * 1000.0;
        let expires_at = String::from(Date::new(&JsValue::from_f64(expires_at_ms)).to_iso_string());
        let sidecar = &self.config.sidecar_endpoint;
        let request = signed_url::signed_url_request(sidecar, &bucket, object, method, &expires_at);
        let refused = |status, body: Option<&_>| signed_url::signing_refused(status, body, &bucket, object);
        let unreachable = |error| signed_url::sidecar_unreachable(sidecar, error);
        let answer = ask_sidecar_for(context, &request, self.config.request_timeout_ms, &refused, &unreachable).await?;
        let body: SignedUrlBody = interop::decode_response(&answer, "the Replit sidecar")?;
        Ok(SignedUrl { url: signed_url::parse_signed_url(&body)?, expires_at_ms })
    }
}

/// `{url, method, expiresAt}`, and `headers` when given.
fn signed_to_js(signed: &SignedUrl, method: SignedMethod, headers: Option<&Object>) -> JsValue {
    let object = Object::new();
    set(&object, "url", &JsValue::from_str(&signed.url));
    set(&object, "method", &JsValue::from_str(method.as_str()));
    if let Some(headers) = headers {
        set(&object, "headers", headers);
    }
    set(&object, "expiresAt", &Date::new(&JsValue::from_f64(signed.expires_at_ms)));
    object.into()
}

#[wasm_bindgen]
impl Core {
    /// Resolves to a result holding `{url, method, expiresAt}`. `options` may hold `method`
    /// (GET, PUT, DELETE or HEAD, in any case; default GET), `expiresIn` (seconds, 1 to 7
    /// days; default 900) and `signal`.
    #[wasm_bindgen(js_name = signUrl)]
    pub fn sign_url(&self, name: JsValue, options: JsValue) -> Promise {
        self.run("signUrl".into(), &options.clone(), move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            signed_url::check_addressable(&name)?;
            let context = CallContext::from_options(&options)?;
            let options: SignUrlOptions = interop::decode_options(&options, "signUrl options")?;
            let signed = storage.sign_url(&name, options.method, options.expires_in_s, &context).await?;
            Ok(signed_to_js(&signed, options.method, None))
        })
    }

    /// Resolves to a result holding `{url, method: 'PUT', headers, expiresAt}`: a signed PUT
    /// and the headers the uploader must send with it (`Content-Type`: `contentType`, or the
    /// type guessed from the name as uploads guess it). `options` may hold `contentType`,
    /// `expiresIn` and `signal`.
    #[wasm_bindgen(js_name = createUploadUrl)]
    pub fn create_upload_url(&self, name: JsValue, options: JsValue) -> Promise {
        self.run("createUploadUrl".into(), &options.clone(), move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            signed_url::check_addressable(&name)?;
            let context = CallContext::from_options(&options)?;
            let options: UploadUrlOptions = interop::decode_options(&options, "createUploadUrl options")?;
            let content_type = options.content_type.unwrap_or_else(|| content_type::guess(&name));
            let signed = storage.sign_url(&name, SignedMethod::Put, options.expires_in_s, &context).await?;
            let headers = Object::new();
            set(&headers, "Content-Type", &JsValue::from_str(&content_type));
            Ok(signed_to_js(&signed, SignedMethod::Put, Some(&headers)))
        })
    }
}
