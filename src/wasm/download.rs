//! Downloads: one object (or a byte range of it) read chunk by chunk as JS values, from the
//! client's bucket or from a signed URL. A connection that breaks mid-body is resumed from the
//! byte it stopped at, pinned to the same generation; whole-object downloads are checked
//! against GCS's CRC32C as the bytes pass; a stalled server trips `requestTimeoutMs`. Bytes
//! never pile up in wasm memory.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader};

use crate::prelude::*;
use crate::protocol::download_cursor::{
    changed_error, AfterBreak, Answer, Chunk, DownloadCursor, Tail, Taken, CODED_SKIPPED, WHOLE,
};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::http::{is_success, HttpRequest, Method};
use crate::protocol::integrity;
use crate::protocol::object_metadata::{is_coded, ObjectMetadata};
use crate::protocol::options::DownloadOptions;
use crate::protocol::range::ByteRange;
use crate::wasm::backoff::Backoff;
use crate::wasm::body;
use crate::wasm::call_context::CallContext;
use crate::wasm::storage::{Call, Exchange, Refusal, Retry, Storage};
use crate::wasm::{interop, platform};

const READ_AHEAD_CHUNKS: f64 = 8.0;

pub struct Download {
    storage: Rc<Storage>,
    bucket: String,
    object: String,
    /// A signed URL to read instead of the object (then `bucket` is empty, `object` a description).
    url: Option<String>,
    context: CallContext,
    exchange: Option<Exchange>,
    reader: Option<ReadableStreamDefaultReader>,
    /// What to ask for, what to keep of each answer, what to hash.
    cursor: DownloadCursor,
    /// For a `{suffix}` whose answer ignored `Range` without saying the object's size: the
    /// object's last bytes, kept as the whole passes.
    tail: Option<Tail<Uint8Array>>,
    /// The retry budget, shared by the first request and every resumption.
    backoff: Backoff,
    /// The integrity check (or the report that it was skipped) is done.
    #[cfg(feature = "server")]
    checked: bool,
    /// The call a stream of it belongs to, which its failures name (see `into_stream`).
    operation: String,
}

impl Chunk for Uint8Array {
    fn size(&self) -> u64 {
        self.length() as u64
    }

    fn without_first(&self, start: u64) -> Uint8Array {
        self.subarray(start as u32, self.length())
    }
}

fn encoded(exchange: &Exchange) -> bool {
    let coded = |name: &str| is_coded(exchange.header(name).as_deref());
    coded("content-encoding") || coded("x-goog-stored-content-encoding")
}

impl Download {
    /// Sends the first request and checks what came back; the body is read by `next_chunk`.
    /// `url`: a signed URL to read instead of `object` (the bucket is then not looked up).
    /// `options` as the public methods take them (`range`, `decompress`, `signal`, …).
    pub async fn open(
        storage: Rc<Storage>,
        object: String,
        url: Option<String>,
        options: &JsValue,
    ) -> Result<Download, StorageError> {
        let context = CallContext::from_options(options)?;
        let options: DownloadOptions = interop::decode_options(options, "download options")?;
        let range = options.range.map(|option| option.to_range()).transpose()?.unwrap_or(WHOLE);
        let bucket = if url.is_some() { String::new() } else { storage.bucket(&context).await? };
        let mut download = Download::new(storage, bucket, object, url, range, None, context);
        download.connect().await?;
        // (The first try's answer is there: only a resumption can end without one.)
        if options.decompress == Some(false) && download.exchange.as_ref().is_some_and(encoded) {
            download.cancel().await;
            return Err(StorageError::new(
                ErrorKind::Unsupported,
                "decompress: false cannot be honoured: fetch always decodes encoded answers; download with \
                 decompress: true for the original contents",
            ));
        }
        Ok(download)
    }

    /// A download of `range` pinned to `generation` from its first request on, so its bytes
    /// are those of the version whose metadata the caller read (`PreconditionFailed` when the
    /// object has changed since).
    #[cfg(feature = "server")]
    pub async fn open_generation(
        storage: Rc<Storage>,
        object: String,
        range: ByteRange,
        generation: Option<String>,
        context: CallContext,
    ) -> Result<Download, StorageError> {
        let bucket = storage.bucket(&context).await?;
        let mut download = Download::new(storage, bucket, object, None, range, generation, context);
        download.connect().await?;
        Ok(download)
    }

    /// Without a `generation`, the first answer's is pinned for resumptions.
    fn new(
        storage: Rc<Storage>,
        bucket: String,
        object: String,
        url: Option<String>,
        range: ByteRange,
        generation: Option<String>,
        context: CallContext,
    ) -> Download {
        let backoff = Backoff::new(storage.config.retry);
        Download {
            storage,
            bucket,
            object,
            url,
            context,
            exchange: None,
            reader: None,
            cursor: DownloadCursor::new(range, generation),
            tail: None,
            backoff,
            #[cfg(feature = "server")]
            checked: false,
            operation: String::new(),
        }
    }

    /// Requests the rest of the range (all of it at first) and has the cursor check the
    /// answer. Failures spend the download's one retry budget.
    async fn connect(&mut self) -> Result<(), StorageError> {
        // (Asked again at most once, after a piece of encoded bytes: then without `Range`.)
        loop {
            let mut request = match &self.url {
                Some(url) => HttpRequest::new(Method::Get, url.clone()),
                None => self.storage.requests(&self.bucket).download(&self.object, self.cursor.generation()),
            };
            let asked = self.cursor.request();
            if self.cursor.sends_range() && !asked.is_whole() {
                request = request.header("Range", asked.header_value());
            }
            let exchange = loop {
                let call = Call { bucket: &self.bucket, object: Some(&self.object), context: &self.context };
                match self.storage.try_once(call, &request, None, is_success).await {
                    Ok(exchange) => break exchange,
                    // (After bytes arrived: the object ends there, and with no body the next
                    // read finds the end.)
                    Err(Refusal { error, .. }) if error.status_code == Some(416) => return self.cursor.refused(),
                    Err(Refusal { error, retry_after }) => self.backoff.wait(error, retry_after, &self.context).await?,
                }
            };
            let answer = Answer {
                partial: exchange.status() == 206,
                content_length: exchange.header("content-length"),
                content_range: exchange.header("content-range"),
                generation: exchange.header("x-goog-generation"),
                goog_hash: exchange.header("x-goog-hash"),
                coded: encoded(&exchange),
            };
            match self.cursor.answered(asked, &answer) {
                Ok(Taken::Read) => {
                    if let (None, Some(want)) = (&self.tail, self.cursor.tail()) {
                        self.tail = Some(Tail::new(want));
                    }
                    // A fresh body, so never locked.
                    self.reader = exchange.response.body().and_then(|body| platform::reader(&body).ok());
                    self.exchange = Some(exchange);
                    return Ok(());
                }
                taken => {
                    exchange.guard.abort();
                    taken?;
                }
            }
        }
    }

    /// The next chunk, `None` at the end (after the integrity check). Breaks are resumed
    /// within the retry budget.
    pub async fn next_chunk(&mut self) -> Result<Option<Uint8Array>, StorageError> {
        if let Some(tail) = self.tail.as_mut().filter(|tail| tail.ended()) {
            return Ok(tail.pop());
        }
        loop {
            let failure = match self.read().await {
                Ok(Some(chunk)) => match self.accept(chunk) {
                    Some(chunk) if self.tail.is_some() => {
                        if let Some(tail) = self.tail.as_mut() {
                            tail.push(chunk);
                        }
                        continue;
                    }
                    Some(chunk) => {
                        // (Server builds only: serving is where a byte count decides.)
                        #[cfg(feature = "server")]
                        if self.cursor.has_all() {
                            // The last bytes go out only once they are checked, so a consumer
                            // that counts bytes (an HTTP client reading Content-Length) never
                            // takes a corrupted object for a whole one.
                            self.check().await?;
                        }
                        return Ok(Some(chunk));
                    }
                    None => continue,
                },
                Ok(None) => match self.cursor.ended() {
                    Ok(()) => {
                        self.exchange = None;
                        self.reader = None;
                        self.check().await?;
                        if let Some(tail) = self.tail.as_mut() {
                            tail.end();
                            return Ok(tail.pop());
                        }
                        return Ok(None);
                    }
                    Err(failure) => failure,
                },
                Err(error) => error,
            };
            self.resume_after(failure).await?;
        }
    }

    async fn read(&mut self) -> Result<Option<Uint8Array>, StorageError> {
        if self.cursor.rest_unwanted() {
            // The range is complete; the rest of the whole object is not wanted.
            self.cancel().await;
            return Ok(None);
        }
        let (Some(reader), Some(exchange)) = (&self.reader, &self.exchange) else { return Ok(None) };
        exchange.guard.arm();
        let step = body::next_value(reader).await;
        exchange.guard.disarm();
        let Some(value) =
            step.map_err(|error| exchange.guard.classify(interop::error_from_js(&error, ErrorKind::Network)))?
        else {
            return Ok(None);
        };
        value
            .dyn_into::<Uint8Array>()
            .map(Some)
            .map_err(|_| StorageError::new(ErrorKind::Unknown, "the response body gave a chunk that is not bytes"))
    }

    /// The part of a chunk that is the range's next bytes, hashed and counted; `None` when
    /// none of it is.
    fn accept(&mut self, chunk: Uint8Array) -> Option<Uint8Array> {
        let length = chunk.length();
        let kept = self.cursor.deliver(length as u64)?;
        let chunk = if kept == (0..length as u64) { chunk } else { chunk.subarray(kept.start as u32, kept.end as u32) };
        if let Some(hasher) = self.cursor.hasher() {
            body::hash(hasher, &chunk);
        }
        self.context.progress(self.cursor.received(), self.cursor.length());
        Some(chunk)
    }

    async fn resume_after(&mut self, failure: StorageError) -> Result<(), StorageError> {
        if let Some(exchange) = self.exchange.take() {
            exchange.guard.abort();
        }
        self.reader = None;
        match self.cursor.after_break(&failure) {
            // With no body, the next read finds the end.
            AfterBreak::Complete => return Ok(()),
            AfterBreak::Resume { fresh_budget: true } => self.backoff.reset(),
            AfterBreak::Resume { fresh_budget: false } => {}
        }
        self.backoff.wait(failure, None, &self.context).await?;
        self.connect().await
    }

    /// The integrity check at the end of a whole-object download: against `X-Goog-Hash`,
    /// or the object's metadata where the runtime hides that header (browsers, CORS).
    /// Once per download (serving checks before the last bytes go out).
    async fn check(&mut self) -> Result<(), StorageError> {
        #[cfg(feature = "server")]
        {
            if self.checked {
                return Ok(());
            }
            self.checked = true;
        }
        let Some(hashed) = self.cursor.take_hash() else {
            self.context.integrity(false, self.cursor.skipped().unwrap_or("skipped"));
            return Ok(());
        };
        let expected = match hashed.expected {
            Some(crc) => Some(crc),
            None => self.metadata_crc().await?,
        };
        match expected {
            Some(expected) => {
                integrity::check(&text!("download of ", self.object), hashed.crc.value(), expected)?;
                self.context.integrity(true, &text!("crc32c ", integrity::encode(expected)));
                Ok(())
            }
            None => {
                self.context.integrity(
                    false,
                    self.cursor.skipped().unwrap_or("skipped: the server gave no CRC32C for this object"),
                );
                Ok(())
            }
        }
    }

    /// The object's CRC32C from its metadata (a signed URL grants no metadata read: none).
    async fn metadata_crc(&mut self) -> Result<Option<u32>, StorageError> {
        if self.url.is_some() {
            return Ok(None);
        }
        let call = Call { bucket: &self.bucket, object: Some(&self.object), context: &self.context };
        let request = self.storage.requests(&self.bucket).get_metadata(&self.object);
        let resource: ObjectMetadata = self.storage.request_json(call, &request, None, Retry::Safe).await?;
        if self.cursor.generation().is_some() && resource.generation.as_deref() != self.cursor.generation() {
            return Err(changed_error());
        }
        if is_coded(resource.content_encoding.as_deref()) {
            // Stored encoded and delivered decoded (the runtime hid the encoding headers):
            // GCS's CRC32C is of the stored bytes, so it cannot check these.
            self.cursor.skip_check(CODED_SKIPPED);
            return Ok(None);
        }
        Ok(resource.crc32c.as_deref().and_then(integrity::decode))
    }

    pub async fn cancel(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = JsFuture::from(platform::cancel(&reader)).await;
        }
        if let Some(exchange) = self.exchange.take() {
            exchange.guard.abort();
        }
    }

    /// Every byte in one `Uint8Array`, pre-sized when the length is known.
    pub async fn read_all(mut self) -> Result<Uint8Array, StorageError> {
        let mut gathered = body::Gathered::with_capacity(self.cursor.length());
        while let Some(chunk) = self.next_chunk().await? {
            gathered.push(&chunk)?;
        }
        Ok(gathered.finish())
    }

    /// A `ReadableStream` that pulls chunks from this download as its reader asks, so
    /// nothing is buffered ahead of the consumer. Failures error the stream with a
    /// `RequestError` object whose message names `operation`, as a failed call's does.
    pub fn into_stream(mut self, operation: String) -> Result<ReadableStream, StorageError> {
        self.operation = operation;
        let state = Rc::new(RefCell::new(Some(self)));
        let cancelled = Rc::new(Cell::new(false));
        let source = Object::new();

        let pull_state = state.clone();
        let pull_cancelled = cancelled.clone();
        let pull = Closure::<dyn FnMut(web_sys::ReadableStreamDefaultController) -> Promise>::new(
            move |controller: web_sys::ReadableStreamDefaultController| {
                let state = pull_state.clone();
                let cancelled = pull_cancelled.clone();
                interop::promise(async move {
                    let Some(mut download) = state.borrow_mut().take() else { return Ok(JsValue::UNDEFINED) };
                    let step = download.next_chunk().await;
                    if cancelled.get() {
                        download.cancel().await;
                        return Ok(JsValue::UNDEFINED);
                    }
                    match step {
                        Ok(Some(chunk)) => {
                            let _ = controller.enqueue_with_chunk(&chunk);
                            *state.borrow_mut() = Some(download);
                        }
                        Ok(None) => {
                            let _ = controller.close();
                        }
                        Err(error) => controller.error_with_e(&interop::failure_to_js(
                            error.during(&download.operation),
                            download.context.signal.as_ref(),
                        )),
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let cancel_state = state;
        let cancel = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_reason: JsValue| {
            cancelled.set(true);
            let taken = cancel_state.borrow_mut().take();
            interop::promise(async move {
                if let Some(mut download) = taken {
                    download.cancel().await;
                }
                Ok(JsValue::UNDEFINED)
            })
        });
        let _ = Reflect::set(&source, &"pull".into(), &pull.into_js_value());
        let _ = Reflect::set(&source, &"cancel".into(), &cancel.into_js_value());
        // A few chunks of read-ahead, so fetching the next chunk overlaps the consumer's work.
        let strategy = web_sys::QueuingStrategy::new();
        strategy.set_high_water_mark(READ_AHEAD_CHUNKS);
        ReadableStream::new_with_underlying_source_and_strategy(&source, &strategy)
            .map_err(|error| interop::error_from_js(&error, ErrorKind::Unsupported))
    }
}
