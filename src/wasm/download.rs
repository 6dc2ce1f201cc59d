//! Downloads: one object (or a byte range of it) read chunk by chunk as JS values, from the
//! client's bucket or from a signed URL. A connection that breaks mid-body is resumed from the
//! byte it stopped at, pinned to the same generation; whole-object downloads are checked
//! against GCS's CRC32C as the bytes pass; a stalled server trips `requestTimeoutMs`. Bytes
//! never pile up in wasm memory.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader};

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::http::{is_success, HttpRequest, Method};
use crate::protocol::integrity::{self, Crc32c};
use crate::protocol::object_metadata::ObjectMetadata;
use crate::protocol::options::DownloadOptions;
use crate::protocol::range::{self, ByteRange};
use crate::protocol::text;
use crate::wasm::backoff::Backoff;
use crate::wasm::body;
use crate::wasm::call_context::CallContext;
use crate::wasm::interop;
use crate::wasm::storage::{Call, Exchange, Refusal, Retry, Storage};

pub const WHOLE: ByteRange = ByteRange::From { start: 0, end: None };
const READ_AHEAD_CHUNKS: f64 = 8.0;
const GZIP_SKIPPED: &str =
    "skipped: the object is stored gzipped and served decompressed; its CRC32C is of the stored bytes";

pub struct Download {
    storage: Rc<Storage>,
    bucket: String,
    object: String,
    /// A signed URL to read instead of the object (then `bucket` is empty, `object` a description).
    url: Option<String>,
    range: ByteRange,
    context: CallContext,
    exchange: Option<Exchange>,
    reader: Option<ReadableStreamDefaultReader>,
    generation: Option<String>,
    /// Bytes of the range delivered so far.
    received: u64,
    /// The range's length, when the answer said and nothing re-encodes the body.
    length: Option<u64>,
    object_size: Option<u64>,
    /// Bytes to drop from the front of the current answer (a server that ignored `Range`).
    skip: u64,
    /// The most bytes to deliver when the answer ignored `Range` and did not say the object's
    /// size (a gzip-stored object, served decompressed): `{start, end}`'s length.
    limit: Option<u64>,
    /// For a `{suffix}` in that case: the object's last bytes, kept as the whole passes.
    tail: Option<Tail>,
    hasher: Option<Crc32c>,
    expected_crc: Option<u32>,
    /// Why the integrity check does not apply, when it does not.
    skipped: Option<&'static str>,
    /// The retry budget, shared by the first request and every resumption.
    backoff: Backoff,
    /// `received` at the last failure: more since means progress.
    received_at_failure: u64,
    /// The integrity check (or the report that it was skipped) is done.
    #[cfg(feature = "server")]
    checked: bool,
}

/// The last `want` bytes of a stream of unknown length, as the chunks that hold them (JS
/// values: at most `want` bytes plus one chunk are held).
struct Tail {
    want: u64,
    chunks: VecDeque<Uint8Array>,
    held: u64,
    /// The stream has ended: `chunks` are trimmed and being handed out.
    ended: bool,
}

impl Tail {
    fn new(want: u64) -> Tail {
        Tail { want, chunks: VecDeque::new(), held: 0, ended: false }
    }

    fn push(&mut self, chunk: Uint8Array) {
        self.held += chunk.length() as u64;
        self.chunks.push_back(chunk);
        while let Some(front) = self.chunks.front() {
            let front = front.length() as u64;
            if self.held - front < self.want {
                break;
            }
            self.held -= front;
            self.chunks.pop_front();
        }
    }

    /// Ends the stream: the first chunk loses what lies before the last `want` bytes.
    fn end(&mut self) {
        self.ended = true;
        let extra = self.held.saturating_sub(self.want);
        if let Some(front) = self.chunks.front_mut() {
            *front = front.subarray(extra as u32, front.length());
        }
        self.held -= extra;
    }
}

fn changed_error() -> StorageError {
    StorageError::new(ErrorKind::PreconditionFailed, "the object changed while it was being downloaded")
}

fn is_gzip(encoding: &str) -> bool {
    text::contains(&encoding.to_ascii_lowercase(), "gzip")
}

fn encoded(exchange: &Exchange) -> bool {
    let gzip = |name: &str| exchange.header(name).as_deref().is_some_and(is_gzip);
    gzip("content-encoding") || gzip("x-goog-stored-content-encoding")
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
        let exchange = download.exchange.as_ref().ok_or_else(|| StorageError::new(ErrorKind::Unknown, "no answer"))?;
        if options.decompress == Some(false) && encoded(exchange) {
            download.cancel().await;
            return Err(StorageError::new(
                ErrorKind::Unsupported,
                "decompress: false cannot be honoured: this runtime's fetch always decompresses gzip-encoded \
                 answers, so the stored bytes cannot be read; use decompress: true for the original contents",
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
            range,
            context,
            exchange: None,
            reader: None,
            generation,
            received: 0,
            length: None,
            object_size: None,
            skip: 0,
            limit: None,
            tail: None,
            hasher: None,
            expected_crc: None,
            skipped: None,
            backoff,
            received_at_failure: 0,
            #[cfg(feature = "server")]
            checked: false,
        }
    }

    /// Requests the rest of the range (all of it at first) and takes the answer's facts.
    /// Failures spend the download's one retry budget.
    async fn connect(&mut self) -> Result<(), StorageError> {
        let resuming = self.received > 0;
        let remaining = if resuming { self.range.after(self.received, self.object_size) } else { self.range };
        let mut request = match &self.url {
            Some(url) => HttpRequest::new(Method::Get, url.clone()),
            None => self.storage.requests(&self.bucket).download(&self.object, self.generation.as_deref()),
        };
        if !remaining.is_whole() {
            request = request.header("Range", remaining.header_value());
        }
        let exchange = loop {
            let call = Call { bucket: &self.bucket, object: Some(&self.object), context: &self.context };
            match self.storage.try_once(call, &request, None, is_success).await {
                Ok(exchange) => break exchange,
                Err(Refusal { error, .. }) if error.status_code == Some(416) => {
                    return Err(range::unsatisfiable(remaining, self.object_size))
                }
                Err(Refusal { error, retry_after }) => self.backoff.wait(error, retry_after, &self.context).await?,
            }
        };
        let partial = exchange.status() == 206;
        let encoded = encoded(&exchange);
        let body_length =
            if encoded { None } else { exchange.header("content-length").and_then(|v| v.trim_ascii().parse().ok()) };
        // A resumed answer must be of the same object (a signed URL cannot pin its generation).
        let changed = resuming && self.generation.is_some() && exchange.header("x-goog-generation") != self.generation;
        let content_range = exchange.header("content-range");
        let checked = match (changed, partial) {
            (true, _) => Err(changed_error()),
            (false, true) => range::check_answer(remaining, content_range.as_deref()),
            (false, false) => Ok(()),
        };
        if let Err(error) = checked {
            exchange.guard.abort();
            return Err(error);
        }
        if partial {
            self.object_size = content_range.as_deref().and_then(range::total_from_content_range);
        } else {
            self.object_size = body_length;
        }
        self.skip = if partial { 0 } else { self.skip_for_ignored_range(remaining) };
        if !resuming {
            if self.generation.is_none() {
                self.generation = exchange.header("x-goog-generation");
            }
            self.length = match (partial, self.range) {
                (true, _) => body_length,
                (false, range) if range.is_whole() => body_length,
                (false, ByteRange::From { start, end }) => {
                    self.object_size.map(|size| end.map_or(size, |end| end + 1).min(size) - start.min(size))
                }
                (false, ByteRange::Suffix { length }) => self.object_size.map(|size| length.min(size)),
            };
            if !partial && !remaining.is_whole() && self.object_size.is_none() {
                // The whole object came back for a range, of a length nobody said (GCS serves a
                // gzip-stored object decompressed and then ignores `Range`): cut the range out
                // as it passes, never handing over other bytes as the range.
                match self.range {
                    ByteRange::From { start, end } => self.limit = end.map(|end| end + 1 - start),
                    ByteRange::Suffix { length } => {
                        // Read the whole (resumable as such) and keep its last `length` bytes.
                        self.tail = Some(Tail::new(length));
                        self.range = WHOLE;
                    }
                }
            }
            if !self.range.is_whole() || self.tail.is_some() {
                self.skipped = Some("skipped: a byte range has no checksum of its own");
            } else if encoded {
                self.skipped = Some(GZIP_SKIPPED);
            } else {
                self.hasher = Some(Crc32c::default());
                self.expected_crc =
                    exchange.header("x-goog-hash").as_deref().and_then(integrity::crc32c_from_goog_hash);
            }
        }
        let reader =
            exchange.response.body().map(|body| body.get_reader().unchecked_into::<ReadableStreamDefaultReader>());
        self.reader = reader;
        self.exchange = Some(exchange);
        Ok(())
    }

    /// Bytes to drop when a server answered 200 with the whole object to a range request.
    fn skip_for_ignored_range(&self, asked: ByteRange) -> u64 {
        match asked {
            ByteRange::From { start, .. } => start,
            ByteRange::Suffix { length } => self.object_size.map_or(0, |size| size.saturating_sub(length)),
        }
    }

    /// The next chunk, `None` at the end (after the integrity check). Breaks are resumed
    /// within the retry budget.
    pub async fn next_chunk(&mut self) -> Result<Option<Uint8Array>, StorageError> {
        if let Some(tail) = self.tail.as_mut().filter(|tail| tail.ended) {
            return Ok(tail.chunks.pop_front());
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
                        if self.length == Some(self.received) {
                            // The last bytes go out only once they are checked, so a consumer
                            // that counts bytes (an HTTP client reading Content-Length) never
                            // takes a corrupted object for a whole one.
                            self.check().await?;
                        }
                        return Ok(Some(chunk));
                    }
                    None => continue,
                },
                Ok(None) if self.length.is_some_and(|length| self.received < length) => StorageError::new(
                    ErrorKind::Network,
                    text!(
                        "the connection closed after ",
                        self.received,
                        " of ",
                        self.length.unwrap_or_default(),
                        " bytes"
                    ),
                ),
                Ok(None) => {
                    self.exchange = None;
                    self.reader = None;
                    self.check().await?;
                    if let Some(tail) = self.tail.as_mut() {
                        tail.end();
                        return Ok(tail.chunks.pop_front());
                    }
                    return Ok(None);
                }
                Err(error) => error,
            };
            self.resume_after(failure).await?;
        }
    }

    async fn read(&mut self) -> Result<Option<Uint8Array>, StorageError> {
        if self.limit.is_some_and(|limit| self.received >= limit) {
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

    /// Trims, hashes and counts a chunk; `None` when all of it was skipped.
    fn accept(&mut self, chunk: Uint8Array) -> Option<Uint8Array> {
        let mut chunk = chunk;
        if self.skip > 0 {
            let dropped = self.skip.min(chunk.length() as u64) as u32;
            self.skip -= dropped as u64;
            chunk = chunk.subarray(dropped, chunk.length());
        }
        if let Some(length) = self.length.or(self.limit) {
            let room = length.saturating_sub(self.received).min(u32::MAX as u64) as u32;
            if chunk.length() > room {
                chunk = chunk.subarray(0, room);
            }
        }
        if chunk.length() == 0 {
            return None;
        }
        if let Some(hasher) = self.hasher.as_mut() {
            body::hash(hasher, &chunk);
        }
        self.received += chunk.length() as u64;
        self.context.progress(self.received, self.length);
        Some(chunk)
    }

    async fn resume_after(&mut self, failure: StorageError) -> Result<(), StorageError> {
        if let Some(exchange) = self.exchange.take() {
            exchange.guard.abort();
        }
        self.reader = None;
        if self.received > self.received_at_failure {
            // Progress since the last failure: this one starts a fresh budget, as uploads do.
            self.received_at_failure = self.received;
            self.backoff.reset();
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
        let Some(hasher) = self.hasher.take() else {
            self.context.integrity(false, self.skipped.unwrap_or("skipped"));
            return Ok(());
        };
        let expected = match self.expected_crc {
            Some(crc) => Some(crc),
            None => self.metadata_crc().await?,
        };
        match expected {
            Some(expected) => {
                integrity::check(&text!("download of ", self.object), hasher.value(), expected)?;
                self.context.integrity(true, &text!("crc32c ", integrity::encode(expected)));
                Ok(())
            }
            None => {
                self.context
                    .integrity(false, self.skipped.unwrap_or("skipped: the server gave no CRC32C for this object"));
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
        if self.generation.is_some() && resource.generation != self.generation {
            return Err(changed_error());
        }
        if resource.content_encoding.as_deref().is_some_and(is_gzip) {
            // Stored gzipped and served decompressed (the runtime hid the encoding headers):
            // GCS's CRC32C is of the stored bytes, so it cannot check these.
            self.skipped = Some(GZIP_SKIPPED);
            return Ok(None);
        }
        Ok(resource.crc32c.as_deref().and_then(integrity::decode))
    }

    pub async fn cancel(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = JsFuture::from(reader.cancel()).await;
        }
        if let Some(exchange) = self.exchange.take() {
            exchange.guard.abort();
        }
    }

    /// Every byte in one `Uint8Array`, pre-sized when the length is known.
    pub async fn read_all(mut self) -> Result<Uint8Array, StorageError> {
        let mut gathered = body::Gathered::with_capacity(self.length);
        while let Some(chunk) = self.next_chunk().await? {
            gathered.push(&chunk)?;
        }
        Ok(gathered.finish())
    }

    /// A `ReadableStream` that pulls chunks from this download as its reader asks, so
    /// nothing is buffered ahead of the consumer. Failures error the stream with a
    /// `RequestError` object.
    pub fn into_stream(self) -> Result<ReadableStream, StorageError> {
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
                        Err(error) => {
                            controller.error_with_e(&interop::failure_to_js(error, download.context.signal.as_ref()))
                        }
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
