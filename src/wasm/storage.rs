//! The operations of the client, written once over the pure builders and parsers. Every
//! request goes through `request`: authenticate (refreshing once after a 401), send with
//! a per-try timeout and the caller's signal, map failures to typed errors, and retry
//! transient ones with backoff where the call is safe to repeat.

#[cfg(feature = "server")]
use alloc::rc::Rc;
#[cfg(feature = "server")]
use core::cell::RefCell;

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::prelude::*;
use crate::protocol::config::ClientConfig;
use crate::protocol::document::FromDocument;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_requests::{Bucket, Deletion};
use crate::protocol::gcs_responses::{self, ListPage, RewriteResponse, Target};
use crate::protocol::http::{is_success, HttpRequest};
use crate::protocol::list_paging::ListPaging;
use crate::protocol::options::{CopyOptions, DeleteOptions, ListOptions};
use crate::protocol::retry::{self, Operation, Precondition};
#[cfg(feature = "server")]
use crate::protocol::sidecar::{self, DefaultBucketBody};
use crate::wasm::attempt::guarded_send;
use crate::wasm::auth::Credentials;
use crate::wasm::backoff::Backoff;
use crate::wasm::call_context::CallContext;
pub use crate::wasm::exchange::Exchange;
use crate::wasm::metadata::metadata_to_js;
#[cfg(feature = "server")]
use crate::wasm::sidecar_requests::ask_sidecar;
#[cfg(feature = "server")]
use crate::wasm::single_flight::SingleFlight;

pub struct Storage {
    pub config: ClientConfig,
    credentials: Credentials,
    #[cfg(feature = "server")]
    default_bucket: Rc<RefCell<Option<String>>>,
    #[cfg(feature = "server")]
    bucket_lookup: SingleFlight,
}

/// `request_json`'s future: the body's, then the reading of it into `T` (a plain generic
/// function, where an `async fn` would be a state machine for every `T`).
pub struct Decoded<'a, T> {
    body: Pin<Box<dyn Future<Output = Result<JsValue, StorageError>> + 'a>>,
    /// Who answered, for the message about a malformed answer.
    source: &'static str,
    into: PhantomData<fn() -> T>,
}

impl<'a, T> Decoded<'a, T> {
    pub fn new(body: impl Future<Output = Result<JsValue, StorageError>> + 'a, source: &'static str) -> Self {
        Decoded { body: Box::pin(body), source, into: PhantomData }
    }
}

impl<T: FromDocument> Future for Decoded<'_, T> {
    type Output = Result<T, StorageError>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let source = self.source;
        self.body.as_mut().poll(context).map(|body| crate::wasm::interop::decode_response(&body?, source))
    }
}

/// A failed try, with how long the server asked to wait before the next one.
pub struct Refusal {
    pub error: StorageError,
    /// Milliseconds from the answer's `Retry-After`, when it had one.
    pub retry_after: Option<f64>,
}

impl From<StorageError> for Refusal {
    /// A failure that came with no request to wait.
    fn from(error: StorageError) -> Self {
        Refusal { error, retry_after: None }
    }
}

/// What a request is about and on whose behalf: for error messages, and for the
/// caller's signal and progress callback.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub bucket: &'a str,
    pub object: Option<&'a str>,
    pub context: &'a CallContext,
}

impl Call<'_> {
    fn target(&self) -> Target<'_> {
        Target { bucket: self.bucket, object: self.object }
    }
}

/// Whether a request may be sent again after a transient failure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, and writes the client's `retryStrategy` lets repeat (`Storage::retry`). Under
    /// `'never'` the backoff itself refuses every retry.
    Safe,
    /// Writes that may not be repeated (without a precondition, under `'conditional'`).
    Never,
}

/// What `Storage::request` reads of an accepted answer inside its retry loop.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Nothing: the caller reads the body (or only the status and headers).
    Headers,
    /// The JSON body too, so a connection that breaks or stalls mid-body is tried again.
    Json,
}

impl Storage {
    pub fn new(config: ClientConfig, credentials: Credentials) -> Self {
        Storage {
            config,
            credentials,
            #[cfg(feature = "server")]
            default_bucket: Rc::default(),
            #[cfg(feature = "server")]
            bucket_lookup: SingleFlight::default(),
        }
    }

    /// Whether a transient failure of `operation` may be tried again, under the client's
    /// `retryStrategy`, given the precondition the request carries or not. Not inlined: its
    /// callers are many.
    #[inline(never)]
    pub fn retry(&self, operation: Operation, precondition: Precondition) -> Retry {
        if self.config.retry.strategy.retries(operation, precondition) {
            Retry::Safe
        } else {
            Retry::Never
        }
    }

    pub fn requests<'a>(&'a self, bucket: &'a str) -> Bucket<'a> {
        Bucket::new(&self.config.api_endpoint, bucket)
    }

    /// The configured bucket, or the sidecar's default one, looked up on first use. A
    /// failed lookup is not cached: the next call asks again.
    #[cfg(feature = "server")]
    pub async fn bucket(&self, context: &CallContext) -> Result<String, StorageError> {
        if let Some(bucket) = self.config.bucket_id.clone().or_else(|| self.default_bucket.borrow().clone()) {
            return Ok(bucket);
        }
        let sidecar = self.config.sidecar_endpoint.clone();
        let timeout_ms = self.config.request_timeout_ms;
        let cache = self.default_bucket.clone();
        let bucket = self
            .bucket_lookup
            .join(context, move || async move {
                let bucket = lookup_default_bucket(&sidecar, timeout_ms).await?;
                *cache.borrow_mut() = Some(bucket.clone());
                Ok(JsValue::from_str(&bucket))
            })
            .await?;
        bucket
            .as_string()
            .ok_or_else(|| StorageError::new(ErrorKind::Unknown, "default bucket lookup returned no name"))
    }

    /// The configured bucket: the browser build has no sidecar to ask for a default one
    /// (js/web/client.mjs says so, with what to do, before the core runs).
    #[cfg(not(feature = "server"))]
    pub async fn bucket(&self, _context: &CallContext) -> Result<String, StorageError> {
        self.config
            .bucket_id
            .clone()
            .ok_or_else(|| StorageError::new(ErrorKind::DefaultBucket, crate::wasm::NO_SIDECAR))
    }

    /// Sends `request` until an answer with an `accepted` status, a permanent failure, or
    /// the end of the retry budget. Failures carry how many tries were made. With
    /// `Answer::Json` the answer's JSON body is read inside the retry loop and comes back
    /// beside it; with `Answer::Headers` that is `undefined`.
    pub async fn request(
        &self,
        call: Call<'_>,
        request: &HttpRequest,
        content: Option<&JsValue>,
        retry: Retry,
        accepted: fn(u16) -> bool,
        answer: Answer,
    ) -> Result<(Exchange, JsValue), StorageError> {
        let mut backoff = Backoff::new(self.config.retry);
        loop {
            let Refusal { error, retry_after } = match self.try_once(call, request, content, accepted).await {
                Ok(exchange) if answer == Answer::Headers => return Ok((exchange, JsValue::UNDEFINED)),
                Ok(exchange) => match exchange.json_value().await {
                    Ok(body) => return Ok((exchange, body)),
                    Err(error) => error.into(),
                },
                Err(refusal) => refusal,
            };
            if retry == Retry::Never {
                return Err(error);
            }
            backoff.wait(error, retry_after, call.context).await?;
        }
    }

    /// `request` for an answer whose JSON body is wanted: the body is read inside the
    /// retry loop, so a connection that breaks or stalls mid-body is tried again too.
    pub fn request_json<'a, T: FromDocument>(
        &'a self,
        call: Call<'a>,
        request: &'a HttpRequest,
        content: Option<&'a JsValue>,
        retry: Retry,
    ) -> Decoded<'a, T> {
        Decoded::new(self.request_body(call, request, content, retry), "GCS")
    }

    /// The JSON body of `request_json`, before it is read into a type: not generic, so that
    /// its state machine is compiled once.
    async fn request_body(
        &self,
        call: Call<'_>,
        request: &HttpRequest,
        content: Option<&JsValue>,
        retry: Retry,
    ) -> Result<JsValue, StorageError> {
        let (_, body) = self.request(call, request, content, retry, is_success, Answer::Json).await?;
        Ok(body)
    }

    /// One try, judged: an answer with an `accepted` status, or the typed failure.
    pub async fn try_once(
        &self,
        call: Call<'_>,
        request: &HttpRequest,
        content: Option<&JsValue>,
        accepted: fn(u16) -> bool,
    ) -> Result<Exchange, Refusal> {
        match self.attempt(call, request, content).await {
            Ok(exchange) if accepted(exchange.status()) => Ok(exchange),
            Ok(exchange) => {
                Err(Refusal { error: self.failure(&exchange, call).await, retry_after: exchange.retry_after() })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// One try; after a 401 it gets a new token and sends once more (when the token can
    /// change). Every body the client sends is a byte array or a Blob, so it can be sent again.
    pub async fn attempt(
        &self,
        call: Call<'_>,
        request: &HttpRequest,
        content: Option<&JsValue>,
    ) -> Result<Exchange, StorageError> {
        call.context.check_aborted()?;
        let token = self.credentials.bearer(None, call.context).await?;
        let exchange = self.send_once(call.context, request, content, token.as_deref()).await?;
        if exchange.status() != 401 || !self.credentials.can_refresh() {
            return Ok(exchange);
        }
        exchange.discard().await;
        let fresh = self.credentials.bearer(token.as_deref(), call.context).await?;
        self.send_once(call.context, request, content, fresh.as_deref()).await
    }

    /// `guarded_send`'s own future, not an `async fn` around it: a wrapper would be one more
    /// state machine holding the whole of it.
    fn send_once<'a>(
        &self,
        context: &'a CallContext,
        request: &'a HttpRequest,
        content: Option<&'a JsValue>,
        bearer: Option<&'a str>,
    ) -> impl Future<Output = Result<Exchange, StorageError>> + 'a {
        guarded_send(context, self.config.request_timeout_ms, request, content, bearer, "GCS")
    }

    /// Sends a clean-up request (the delete of a rejected upload, the end of an abandoned
    /// session) with the client's credentials but under no caller's signal: it must happen
    /// even after the caller gave up. Its outcome changes nothing for the caller.
    pub async fn clean_up(&self, bucket: &str, request: &HttpRequest) {
        let detached = CallContext::default();
        let call = Call { bucket, object: None, context: &detached };
        if let Ok(exchange) = self.attempt(call, request, None).await {
            exchange.discard().await;
        }
    }

    /// The typed error for a failed answer. A 404 that does not say whether the bucket or
    /// the object is missing is settled by asking for the bucket (when there is one: a signed
    /// URL names none).
    pub async fn failure(&self, exchange: &Exchange, call: Call<'_>) -> StorageError {
        let (body, raw) = exchange.error_body().await;
        let mapped = gcs_responses::map_error_response(exchange.status(), body.as_ref(), &raw, call.target());
        if mapped.unclear_not_found && !call.bucket.is_empty() && self.bucket_is_missing(call).await {
            return gcs_responses::bucket_missing_error(call.bucket);
        }
        mapped.error.redacted(exchange.bearer.as_deref())
    }

    async fn bucket_is_missing(&self, call: Call<'_>) -> bool {
        let request = self.requests(call.bucket).get_bucket();
        match self.attempt(call, &request, None).await {
            Ok(exchange) => {
                let missing = exchange.status() == 404;
                exchange.discard().await;
                missing
            }
            Err(_) => false,
        }
    }

    /// Whether `object` exists in `bucket` (the client's when `None`); false for a missing
    /// object or bucket.
    pub async fn exists(
        &self,
        bucket: Option<&str>,
        object: &str,
        context: &CallContext,
    ) -> Result<bool, StorageError> {
        let bucket = match bucket {
            // Only server code (findPublic) names another bucket.
            #[cfg(feature = "server")]
            Some(bucket) => bucket.to_string(),
            _ => self.bucket(context).await?,
        };
        let call = Call { bucket: &bucket, object: Some(object), context };
        let request = self.requests(&bucket).get_metadata(object);
        let (exchange, _) = self
            .request(call, &request, None, Retry::Safe, |status| status == 404 || is_success(status), Answer::Headers)
            .await?;
        let found = is_success(exchange.status());
        exchange.discard().await;
        Ok(found)
    }

    /// Deletes the object (only at generation `ifGenerationMatch` when given). Retried only
    /// under that precondition (or `retryStrategy: 'always'`); under it, a 404 on a retry
    /// means the generation is gone, maybe by an earlier try (`retry::deleted_before_retry`).
    pub async fn delete(
        &self,
        object: &str,
        options: &DeleteOptions,
        context: &CallContext,
    ) -> Result<(), StorageError> {
        let bucket = self.bucket(context).await?;
        let call = Call { bucket: &bucket, object: Some(object), context };
        let guarded = Precondition::given(options.if_generation_match.as_ref());
        let target = options.if_generation_match.as_ref().map_or(Deletion::Live, Deletion::LiveIf);
        let request = self.requests(&bucket).delete(object, target);
        let retry = self.retry(Operation::Delete, guarded);
        match self.request(call, &request, None, retry, is_success, Answer::Headers).await {
            Ok((exchange, _)) => {
                exchange.discard().await;
                Ok(())
            }
            Err(error)
                if (options.ignore_not_found == Some(true) && error.kind == ErrorKind::ObjectNotFound)
                    || retry::deleted_before_retry(&error, guarded) =>
            {
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// A server-side copy, following rewrite tokens until GCS says it is done. A repeated
    /// step could overwrite what another writer stored at the destination in between, so
    /// steps are retried only under the destination's `ifGenerationMatch` (as
    /// `@google-cloud/storage`'s `File#copy`; the source's precondition guards nothing there).
    pub async fn copy(
        &self,
        source: &str,
        destination: &str,
        options: &CopyOptions,
        context: &CallContext,
    ) -> Result<(), StorageError> {
        let bucket = self.bucket(context).await?;
        let call = Call { bucket: &bucket, object: Some(source), context };
        let retry = self.retry(Operation::Rewrite, Precondition::given(options.if_generation_match.as_ref()));
        let mut token: Option<String> = None;
        loop {
            let request = self.requests(&bucket).rewrite(source, destination, options, token.as_deref());
            let step: RewriteResponse = self.request_json(call, &request, None, retry).await?;
            if step.continuation()?.is_none() {
                return Ok(());
            }
            // Moved, not copied: `continuation` said it is there and not empty.
            token = step.rewrite_token;
        }
    }

    /// Names (or, `withMetadata`, whole metadata) in lexicographic order, following pages
    /// until there are no more or `maxResults` objects have been gathered.
    pub async fn list(&self, options: &ListOptions, context: &CallContext) -> Result<Array, StorageError> {
        let bucket = self.bucket(context).await?;
        let call = Call { bucket: &bucket, object: None, context };
        let names = Array::new();
        let mut paging = ListPaging::new(options.max_results);
        while let Some(next) = paging.next_page() {
            let request = self.requests(&bucket).list(&options.params(next.still_wanted), next.token);
            let page: ListPage = self.request_json(call, &request, None, Retry::Safe).await?;
            let kept = paging.took(page.items.len(), page.next_page());
            for item in page.items.iter().take(kept) {
                let element =
                    if options.with_metadata == Some(true) { metadata_to_js(item) } else { storage_object(&item.name) };
                names.push(&element);
            }
        }
        Ok(names)
    }
}

#[cfg(feature = "server")]
async fn lookup_default_bucket(sidecar_endpoint: &str, timeout_ms: f64) -> Result<String, StorageError> {
    let request = sidecar::default_bucket_request(sidecar_endpoint);
    let answer = ask_sidecar(&request, timeout_ms, &|status, _| sidecar::default_bucket_refused(status))
        .await
        .and_then(|body| crate::wasm::interop::decode_response::<DefaultBucketBody>(&body, "the Replit sidecar"));
    match answer {
        Ok(body) => sidecar::parse_default_bucket(&body),
        Err(error) if error.kind == ErrorKind::DefaultBucket => Err(error),
        Err(error) => Err(sidecar::default_bucket_unreachable(sidecar_endpoint, &error)),
    }
}

/// `{name}` exactly, as @replit/object-storage's `list` returns (tests deep-compare it).
fn storage_object(name: &str) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"name".into(), &JsValue::from_str(name));
    object.into()
}
