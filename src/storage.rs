//! The operations of the client, written once over the pure builders and parsers: resolve
//! the bucket, authenticate, send, and map failures to typed errors.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;
use web_sys::{ReadableStream, Response};

use crate::auth::Credentials;
use crate::body::Content;
use crate::config::ClientConfig;
use crate::error::{ErrorKind, StorageError};
use crate::gcs_requests::{Bucket, UploadParams};
use crate::gcs_responses::{self, ListPage, RewriteResponse, Target};
use crate::http::HttpRequest;
use crate::options::{DownloadOptions, ListOptions, UploadOptions};
use crate::sidecar::{self, DefaultBucketBody};
use crate::single_flight::SingleFlight;
use crate::{content_type, transport};

pub struct Storage {
    config: ClientConfig,
    credentials: Credentials,
    default_bucket: Rc<RefCell<Option<String>>>,
    bucket_lookup: SingleFlight,
}

impl Storage {
    pub fn new(config: ClientConfig, credentials: Credentials) -> Self {
        Storage { config, credentials, default_bucket: Rc::default(), bucket_lookup: SingleFlight::default() }
    }

    /// The configured bucket, or the sidecar's default one, looked up on first use. A
    /// failed lookup is not cached: the next call asks again.
    async fn bucket(&self) -> Result<String, StorageError> {
        if let Some(bucket) = self.config.bucket_id.clone().or_else(|| self.default_bucket.borrow().clone()) {
            return Ok(bucket);
        }
        let sidecar = self.config.sidecar_endpoint.clone();
        let cache = self.default_bucket.clone();
        let bucket = self
            .bucket_lookup
            .join(move || async move {
                let bucket = lookup_default_bucket(&sidecar).await?;
                *cache.borrow_mut() = Some(bucket.clone());
                Ok(JsValue::from_str(&bucket))
            })
            .await?;
        bucket.as_string().ok_or_else(|| StorageError::new(ErrorKind::Unknown, "default bucket lookup returned no name"))
    }

    /// Sends an authenticated request; after a 401 it gets a new token and tries once more
    /// (when the token can change and the body can be sent again).
    async fn send(&self, request: &HttpRequest, content: Option<&JsValue>, replayable: bool) -> Result<Response, StorageError> {
        let token = self.credentials.bearer(None).await?;
        let response = transport::send(request, content, token.as_deref()).await?;
        if response.status() != 401 || !replayable || !self.credentials.can_refresh() {
            return Ok(response);
        }
        transport::discard(&response).await;
        let fresh = self.credentials.bearer(token.as_deref()).await?;
        transport::send(request, content, fresh.as_deref()).await
    }

    /// The typed error for a failed answer. A 404 that does not say whether the bucket or
    /// the object is missing is settled by asking for the bucket.
    async fn failure(&self, response: &Response, target: Target<'_>) -> StorageError {
        let (body, raw) = transport::error_body(response).await;
        let mapped = gcs_responses::map_error_response(response.status(), body.as_ref(), &raw, target);
        if mapped.unclear_not_found && self.bucket_is_missing(target.bucket).await {
            return gcs_responses::bucket_missing_error();
        }
        mapped.error
    }

    async fn bucket_is_missing(&self, bucket: &str) -> bool {
        let request = Bucket::new(&self.config.api_endpoint, bucket).get_bucket();
        match self.send(&request, None, true).await {
            Ok(response) => {
                transport::discard(&response).await;
                response.status() == 404
            }
            Err(_) => false,
        }
    }

    /// Sends a request about `object` and returns the answer if it succeeded.
    async fn expect_success(
        &self,
        bucket: &str,
        object: Option<&str>,
        request: &HttpRequest,
        content: Option<&JsValue>,
        replayable: bool,
    ) -> Result<Response, StorageError> {
        let response = self.send(request, content, replayable).await?;
        if response.ok() {
            Ok(response)
        } else {
            Err(self.failure(&response, Target { bucket, object }).await)
        }
    }

    pub async fn exists(&self, object: &str) -> Result<bool, StorageError> {
        let bucket = self.bucket().await?;
        let response = self.send(&Bucket::new(&self.config.api_endpoint, &bucket).get_metadata(object), None, true).await?;
        match response.status() {
            200..=299 => {
                transport::discard(&response).await;
                Ok(true)
            }
            404 => {
                transport::discard(&response).await;
                Ok(false)
            }
            _ => Err(self.failure(&response, Target { bucket: &bucket, object: Some(object) }).await),
        }
    }

    pub async fn delete(&self, object: &str, ignore_not_found: bool) -> Result<(), StorageError> {
        let bucket = self.bucket().await?;
        let request = Bucket::new(&self.config.api_endpoint, &bucket).delete(object);
        match self.expect_success(&bucket, Some(object), &request, None, true).await {
            Ok(response) => {
                transport::discard(&response).await;
                Ok(())
            }
            Err(error) if ignore_not_found && error.kind == ErrorKind::ObjectNotFound => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A server-side copy, following rewrite tokens until GCS says it is done.
    pub async fn copy(&self, source: &str, destination: &str) -> Result<(), StorageError> {
        let bucket = self.bucket().await?;
        let requests = Bucket::new(&self.config.api_endpoint, &bucket);
        let mut token: Option<String> = None;
        loop {
            let request = requests.rewrite(source, destination, token.as_deref());
            let response = self.expect_success(&bucket, Some(source), &request, None, true).await?;
            let step: RewriteResponse = transport::json(&response, "GCS").await?;
            match step.continuation()? {
                None => return Ok(()),
                Some(next) => token = Some(next.to_string()),
            }
        }
    }

    /// Names in lexicographic order, following pages until there are no more or
    /// `maxResults` objects have been gathered.
    pub async fn list(&self, options: &ListOptions) -> Result<Array, StorageError> {
        let bucket = self.bucket().await?;
        let requests = Bucket::new(&self.config.api_endpoint, &bucket);
        let names = Array::new();
        let mut page_token: Option<String> = None;
        loop {
            let still_wanted = options.max_results.map(|max| max.saturating_sub(names.length()));
            if still_wanted == Some(0) {
                return Ok(names);
            }
            let request = requests.list(&options.params(still_wanted), page_token.as_deref());
            let response = self.expect_success(&bucket, None, &request, None, true).await?;
            let page: ListPage = transport::json(&response, "GCS").await?;
            for item in &page.items {
                if options.max_results.is_some_and(|max| names.length() >= max) {
                    break;
                }
                names.push(&storage_object(&item.name));
            }
            match page.next_page() {
                Some(next) if Some(next) != page_token.as_deref() => page_token = Some(next.to_string()),
                _ => return Ok(names),
            }
        }
    }

    /// Starts a download; the caller reads the body of the answer.
    pub async fn download(&self, object: &str, options: &DownloadOptions) -> Result<Response, StorageError> {
        let bucket = self.bucket().await?;
        let request = Bucket::new(&self.config.api_endpoint, &bucket).download(object);
        let response = self.expect_success(&bucket, Some(object), &request, None, true).await?;
        if options.decompress == Some(false) && is_gzip_stored(&response) {
            transport::discard(&response).await;
            return Err(StorageError::new(
                ErrorKind::Unsupported,
                "decompress: false cannot be honoured here: this runtime's fetch always decompresses gzip-encoded \
                 answers, so the stored (compressed) bytes of this object cannot be read; download it with the \
                 default decompress: true to get its original contents",
            ));
        }
        Ok(response)
    }

    pub async fn download_stream(&self, object: &str, options: &DownloadOptions) -> Result<ReadableStream, StorageError> {
        let response = self.download(object, options).await?;
        match response.body() {
            Some(body) => Ok(body),
            None => empty_stream(),
        }
    }

    pub async fn upload(&self, object: &str, content: Content, options: &UploadOptions) -> Result<(), StorageError> {
        let bucket = self.bucket().await?;
        let guessed;
        let content_type = match options.content_type.as_deref() {
            Some(given) if !given.is_empty() => given,
            _ => {
                guessed = content_type::guess(object);
                &guessed
            }
        };
        let compress = options.compress == Some(true);
        let content = if compress { content.gzip()? } else { content };
        let params = UploadParams { content_type, content_encoding: compress.then_some("gzip") };
        let request = Bucket::new(&self.config.api_endpoint, &bucket).upload_media(object, &params);
        let replayable = content.is_replayable();
        let body = content.into_js();
        let response = self.expect_success(&bucket, Some(object), &request, Some(&body), replayable).await?;
        transport::discard(&response).await;
        Ok(())
    }
}

async fn lookup_default_bucket(sidecar_endpoint: &str) -> Result<String, StorageError> {
    let response = transport::send(&sidecar::default_bucket_request(sidecar_endpoint), None, None)
        .await
        .map_err(|error| sidecar::default_bucket_unreachable(&error))?;
    if !response.ok() {
        transport::discard(&response).await;
        return sidecar::parse_default_bucket(response.status(), None);
    }
    let body: Option<DefaultBucketBody> = transport::json(&response, "the Replit sidecar").await.ok();
    sidecar::parse_default_bucket(response.status(), body.as_ref())
}

fn is_gzip_stored(response: &Response) -> bool {
    ["x-goog-stored-content-encoding", "content-encoding"]
        .iter()
        .filter_map(|name| transport::header(response, name))
        .any(|encoding| encoding.to_ascii_lowercase().contains("gzip"))
}

/// `{name}` exactly, as @replit/object-storage's `list` returns (tests deep-compare it).
fn storage_object(name: &str) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"name".into(), &JsValue::from_str(name));
    object.into()
}

/// A stream that ends at once, for answers without a body.
fn empty_stream() -> Result<ReadableStream, StorageError> {
    web_sys::Blob::new()
        .map(|blob| blob.stream())
        .map_err(|error| crate::interop::error_from_js(&error, ErrorKind::Unknown))
}
