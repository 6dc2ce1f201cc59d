//! Uploads. Bodies of known size up to `resumableThreshold` go up in one request with
//! their CRC32C; larger ones, streams and files go as a GCS resumable upload in chunks,
//! and after a failed chunk the upload asks the server how much it holds and continues
//! from there. The finished object's CRC32C and size are checked against what was sent.

use alloc::boxed::Box;
#[cfg(feature = "server")]
use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader, Response};

use crate::protocol::config::{DEFAULT_BUFFERED_CHUNK_SIZE, DEFAULT_STREAM_CHUNK_SIZE};
use crate::protocol::content_type;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_requests::{Deletion, UploadParams};
use crate::protocol::http::{is_success, HttpRequest};
use crate::protocol::integrity::{self, Crc32c};
use crate::protocol::object_metadata::ObjectMetadata;
use crate::protocol::options::{Generation, UploadOptions};
use crate::protocol::resumable::{self, HashFrontier, Next, UploadCursor};
use crate::protocol::retry::{self, Operation, Precondition};
use crate::wasm::backoff::Backoff;
use crate::wasm::body::{self, Content};
use crate::wasm::call_context::CallContext;
use crate::wasm::interop;
use crate::wasm::platform::{self, source_failed};
use crate::wasm::storage::{Answer, Call, Exchange, Refusal, Retry, Storage};
#[cfg(feature = "server")]
use crate::wasm::{streamed_upload::Whole, transport};

/// Upload content in the forms the protocol needs: random-access bytes or blob, or a
/// stream read once, front to back.
enum Source {
    Bytes(Uint8Array),
    Blob(Blob),
    Stream(StreamChunks),
}

impl Source {
    fn from_content(content: Content) -> Result<Source, StorageError> {
        Ok(match content {
            Content::Bytes(bytes) => Source::Bytes(bytes),
            Content::Blob(blob) => Source::Blob(blob),
            Content::Stream(stream) => Source::Stream(StreamChunks::new(&stream)?),
        })
    }

    /// The bytes or Blob (a stream has no value to read again).
    #[cfg(feature = "server")]
    fn value(&self) -> JsValue {
        match self {
            Source::Bytes(bytes) => bytes.into(),
            Source::Blob(blob) => blob.into(),
            Source::Stream(_) => JsValue::UNDEFINED,
        }
    }

    fn size(&self) -> Option<u64> {
        match self {
            Source::Bytes(bytes) => Some(bytes.length() as u64),
            Source::Blob(blob) => Some(blob.size() as u64),
            Source::Stream(_) => None,
        }
    }
}

/// What an upload has hashed so far.
#[derive(Default, Clone, Copy)]
pub struct Hashing {
    pub crc: Crc32c,
    pub frontier: HashFrontier,
}

impl Hashing {
    /// Hashes the part of `piece` (at `offset` of the upload) not hashed before.
    pub fn take(&mut self, offset: u64, piece: &Uint8Array) -> bool {
        match self.frontier.fresh(offset, piece.length() as u64) {
            Some((start, end)) => {
                body::hash(&mut self.crc, &piece.subarray(start as u32, end as u32));
                true
            }
            None => false,
        }
    }
}

/// An upload's hashing, shared with its tries' streamed bodies (cells, not a `RefCell`: a body
/// pulled while the loop reads it cannot make either panic).
#[derive(Default)]
pub struct Tally {
    pub hashing: Cell<Hashing>,
    /// Why the source could not be read, when a try failed for that (no retry helps).
    #[cfg(feature = "server")]
    pub source_error: Cell<Option<StorageError>>,
    /// Counts failed tries. A try's streamed body reads only while this is what it was when
    /// the body was made: fetch may go on pulling the body of a request that already failed,
    /// which would read a stream past what the next try can still send.
    #[cfg(feature = "server")]
    pub failed_tries: Cell<u32>,
}

/// One chunk to send: its bytes, where it starts, and whether it is the last.
struct Chunk {
    /// A `Uint8Array`, or a `Blob` slice that fetch streams from its source (a file).
    body: JsValue,
    length: u64,
    offset: u64,
    last: bool,
}

/// A stream cut into chunks of a fixed size in one reused buffer. Bytes are hashed as
/// they are read; a chunk stays in the buffer until the server holds all of it.
struct StreamChunks {
    reader: Option<ReadableStreamDefaultReader>,
    buffer: Option<Uint8Array>,
    /// Bytes read but not yet in a chunk.
    leftover: Option<Uint8Array>,
    /// Offset of the chunk in the buffer, and its length.
    start: u64,
    filled: u32,
    ended: bool,
}

impl StreamChunks {
    fn new(stream: &ReadableStream) -> Result<StreamChunks, StorageError> {
        let reader = Some(platform::reader(stream)?);
        Ok(StreamChunks { reader, buffer: None, leftover: None, start: 0, filled: 0, ended: false })
    }

    async fn read(&mut self) -> Result<Option<Uint8Array>, StorageError> {
        let Some(reader) = &self.reader else { return Ok(None) };
        let Some(value) = body::next_value(reader).await.map_err(|error| source_failed(&error))? else {
            return Ok(None);
        };
        body::as_bytes(&value)
            .map(Some)
            .ok_or_else(|| StorageError::invalid_argument("the source stream must give bytes or strings"))
    }

    /// The chunk starting at `offset`: the current one again (or its unsent tail), or
    /// the next one, filled from the stream and hashed.
    async fn chunk(&mut self, offset: u64, size: u32, hasher: &mut Crc32c) -> Result<Chunk, StorageError> {
        let buffer = self.buffer.get_or_insert_with(|| Uint8Array::new_with_length(size)).clone();
        if offset < self.start {
            return Err(StorageError::new(
                ErrorKind::Unknown,
                "the server lost bytes of a stream upload that cannot be read again",
            ));
        }
        if offset >= self.start + self.filled as u64 && !(self.ended && self.leftover.is_none()) {
            self.start = offset;
            self.filled = 0;
            while self.filled < size {
                let piece = match self.leftover.take() {
                    Some(piece) => piece,
                    None => match self.read().await? {
                        Some(piece) => piece,
                        None => {
                            self.ended = true;
                            break;
                        }
                    },
                };
                let room = size - self.filled;
                let taken = piece.subarray(0, room.min(piece.length()));
                buffer.set(&taken, self.filled);
                body::hash(hasher, &taken);
                self.filled += taken.length();
                if piece.length() > room {
                    self.leftover = Some(piece.subarray(room, piece.length()));
                }
            }
            if !self.ended && self.leftover.is_none() {
                // Look one piece ahead: a stream that ends on a chunk boundary makes this the last chunk.
                match self.read().await? {
                    Some(piece) => self.leftover = Some(piece),
                    None => self.ended = true,
                }
            }
        }
        let within = (offset - self.start) as u32;
        Ok(Chunk {
            body: buffer.subarray(within, self.filled).into(),
            length: (self.filled - within) as u64,
            offset,
            last: self.ended && self.leftover.is_none(),
        })
    }

    async fn cancel(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = JsFuture::from(platform::cancel(&reader)).await;
        }
    }
}

/// A stream that gave more or fewer bytes than the caller declared.
pub fn length_differs(total: u64) -> StorageError {
    StorageError::invalid_argument(text!("the stream's length differs from the ", total, " bytes declared"))
}

/// Feeds a blob to a CRC32C as it streams (a file is read, never held in memory).
async fn hash_blob(hasher: &mut Crc32c, blob: &Blob) -> Result<(), StorageError> {
    let reader = platform::reader(&platform::stream(blob)?)?;
    while let Some(value) = body::next_value(&reader).await.map_err(|error| source_failed(&error))? {
        if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            body::hash(hasher, bytes);
        }
    }
    Ok(())
}

pub async fn upload(
    storage: &Storage,
    object: &str,
    content: Content,
    options: &UploadOptions,
    context: &CallContext,
) -> Result<(), StorageError> {
    let bucket = storage.bucket(context).await?;
    let call = Call { bucket: &bucket, object: Some(object), context };
    let guessed;
    let content_type = match options.content_type.as_deref() {
        Some(given) if !given.is_empty() => given,
        _ => {
            guessed = content_type::guess(object);
            &guessed
        }
    };
    let compress = options.compress == Some(true);
    let generation = options.if_generation_match.as_ref().map(Generation::to_query);
    let params = UploadParams {
        content_type,
        content_encoding: compress.then_some("gzip"),
        content_disposition: options.content_disposition.as_deref(),
        cache_control: options.cache_control.as_deref(),
        metadata: &options.metadata,
        if_generation_match: generation.as_deref(),
    };
    let threshold = storage.config.resumable_threshold;
    let source = if compress {
        let original_size = content.known_size();
        match (original_size, content.gzip()?) {
            // Small bodies stay one request: their gzip is gathered first.
            (Some(size), Content::Stream(stream)) if size <= threshold => Source::Bytes(collect(&stream).await?),
            (_, gzipped) => Source::from_content(gzipped)?,
        }
    } else {
        Source::from_content(content)?
    };
    // A stream's declared length holds only while nothing (gzip) changes the bytes.
    let declared = if compress { None } else { options.content_length };
    let total = source.size().or(declared);
    let one_request = options.resumable != Some(true) && source.size().is_some_and(|size| size <= threshold);
    if one_request {
        single_request(storage, call, &params, source).await
    } else {
        resumable_upload(storage, call, &params, source, total).await
    }
}

async fn collect(stream: &ReadableStream) -> Result<Uint8Array, StorageError> {
    let response = Response::new_with_opt_readable_stream(Some(stream))
        .map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))?;
    let promise = response.array_buffer().map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))?;
    let buffer = JsFuture::from(promise).await.map_err(|error| {
        StorageError::new(
            ErrorKind::LocalFile,
            text!("compressing the contents failed: ", interop::thrown_message(&error)),
        )
    })?;
    Ok(Uint8Array::new(&buffer))
}

async fn single_request(
    storage: &Storage,
    call: Call<'_>,
    params: &UploadParams<'_>,
    source: Source,
) -> Result<(), StorageError> {
    let mut crc = Crc32c::default();
    let (body, size): (JsValue, u64) = match source {
        Source::Bytes(bytes) => {
            body::hash(&mut crc, &bytes);
            let size = bytes.length() as u64;
            (bytes.into(), size)
        }
        Source::Blob(blob) => {
            hash_blob(&mut crc, &blob).await?;
            let size = blob.size() as u64;
            (blob.into(), size)
        }
        Source::Stream(_) => {
            return Err(StorageError::new(ErrorKind::Unknown, "a stream has no size for a one-request upload"))
        }
    };
    let object = call.object.unwrap_or_default();
    let requests = storage.requests(call.bucket);
    let (request, body) = if params.has_resource_fields() {
        // A media upload cannot carry these fields: the resource goes first, in one body.
        let nonce = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let multipart = requests.upload_multipart(object, params, nonce)?;
        let parts = Array::of3(&JsValue::from_str(&multipart.preamble), &body, &JsValue::from_str(&multipart.closing));
        // (`new Blob(parts)` takes strings and Blobs alike: the one binding body.rs uses too.)
        let joined = Blob::new_with_u8_array_sequence(&parts)
            .map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))?;
        (multipart.request, joined.into())
    } else {
        (requests.upload_media(object, params), body)
    };
    let request = request.header("X-Goog-Hash", integrity::goog_hash_header(crc));
    // Repeating an unconditional overwrite could undo another writer's; with a
    // precondition it cannot, so only then is it retried (unless `retryStrategy` says otherwise).
    let retry = storage.retry(Operation::Insert, Precondition::given(params.if_generation_match.as_ref()));
    let (exchange, _) = storage.request(call, &request, Some(&body), retry, is_success, Answer::Headers).await?;
    let (resource, described) = match exchange.json::<ObjectMetadata>().await {
        Ok(resource) => (resource, Described::ByTheUpload),
        // The object was written but its description was lost on the way: ask for it.
        Err(error) if retry::is_transient(&error) => {
            let metadata = storage.requests(call.bucket).get_metadata(call.object.unwrap_or_default());
            (storage.request_json(call, &metadata, None, Retry::Safe).await?, Described::ReadBack)
        }
        Err(error) => return Err(error),
    };
    verify(storage, call, &resource, described, crc, size).await?;
    call.context.progress(size, Some(size));
    Ok(())
}

/// Where the description of the stored object came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Described {
    /// The upload's own answer: it is the object this upload wrote.
    ByTheUpload,
    /// Read back after the upload's answer was lost: the live object, which another writer
    /// may have replaced in between.
    ReadBack,
}

/// Checks the object GCS made against what was sent. A mismatch of the object this upload
/// wrote removes it (that generation only); one read back after a lost answer is reported
/// and left alone, since the client cannot prove it wrote it.
async fn verify(
    storage: &Storage,
    call: Call<'_>,
    resource: &ObjectMetadata,
    described: Described,
    crc: Crc32c,
    size: u64,
) -> Result<(), StorageError> {
    let object = call.object.unwrap_or_default();
    let mismatch = match (resource.crc32c.as_deref().and_then(integrity::decode), resource.size) {
        (_, Some(stored)) if stored != size => Some(StorageError::new(
            ErrorKind::IntegrityMismatch,
            text!("upload of ", object, ": the server stored ", stored, " bytes of ", size),
        )),
        (Some(stored), _) => integrity::check(&text!("upload of ", object), crc.value(), stored).err(),
        _ => None,
    };
    let Some(error) = mismatch else { return Ok(()) };
    if described == Described::ReadBack {
        return Err(StorageError::new(
            error.kind,
            text!(
                error.message,
                "; the upload's answer was lost, and the object read back may have been replaced by another writer: left as it is"
            ),
        ));
    }
    let target = resource.generation.as_deref().map_or(Deletion::Live, Deletion::Generation);
    let delete = storage.requests(call.bucket).delete(object, target);
    storage.clean_up(call.bucket, &delete).await;
    Err(error)
}

async fn resumable_upload(
    storage: &Storage,
    call: Call<'_>,
    params: &UploadParams<'_>,
    mut source: Source,
    total: Option<u64>,
) -> Result<(), StorageError> {
    let object = call.object.unwrap_or_default();
    let start = storage.requests(call.bucket).start_resumable(object, params, total);
    // Opened again after a transient failure, precondition or not: a session that never
    // receives data writes nothing.
    let retry = storage.retry(Operation::Session, Precondition::Absent);
    let (opened, _) = storage.request(call, &start, None, retry, is_success, Answer::Headers).await?;
    let session = opened.header("location").filter(|location| !location.is_empty());
    opened.discard().await;
    let session =
        session.ok_or_else(|| StorageError::malformed_response("GCS", "the resumable session has no Location"))?;
    let mut plan = Plan::choose(storage, &mut source, total);
    let outcome = send_session(storage, call, &session, &mut plan, total).await;
    if outcome.is_err() {
        // A session that will not be finished is ended, not left to expire.
        plan.cancel().await;
        storage.clean_up(call.bucket, &resumable::cancel_request(&session)).await;
    }
    outcome
}

/// What the session said after a chunk or a status query.
enum Sent {
    /// It holds this many bytes and wants more.
    Persisted(u64),
    /// The object is complete.
    Done(Box<ObjectMetadata>),
}

/// One request of a session: a send, or a status query.
pub struct Try {
    pub request: HttpRequest,
    pub body: Option<JsValue>,
}

/// How a session's data goes up: in chunks (each answered with what the session holds), or
/// whole, one streamed request per try (servers only).
enum Plan<'a> {
    Chunks {
        source: &'a mut Source,
        chunk_size: u64,
        total: Option<u64>,
        /// Where the last chunk prepared ends.
        end: u64,
    },
    #[cfg(feature = "server")]
    Whole { whole: Whole, source: &'a mut Source },
}

impl Plan<'_> {
    /// One streamed request for everything the session lacks, where the runtime can (and no
    /// chunk size was asked for); else chunks.
    fn choose<'s>(storage: &Storage, source: &'s mut Source, total: Option<u64>) -> Plan<'s> {
        let chunk_size = storage.config.chunk_size.unwrap_or(match source {
            Source::Stream(_) => DEFAULT_STREAM_CHUNK_SIZE,
            Source::Bytes(_) | Source::Blob(_) => DEFAULT_BUFFERED_CHUNK_SIZE,
        });
        #[cfg(feature = "server")]
        if storage.config.chunk_size.is_none() && transport::streams_request_bodies() {
            let whole = match (&mut *source, total) {
                (Source::Stream(chunks), _) => chunks.reader.take().map(|reader| Whole::stream(reader, total)),
                (Source::Bytes(_) | Source::Blob(_), Some(total)) => {
                    Some(Whole::Rereadable { source: source.value(), total })
                }
                _ => None,
            };
            if let Some(whole) = whole {
                return Plan::Whole { whole, source };
            }
        }
        Plan::Chunks { source, chunk_size, total, end: 0 }
    }

    /// The object's size once the session has it all.
    fn finished_size(&self) -> u64 {
        match self {
            Plan::Chunks { end, .. } => *end,
            #[cfg(feature = "server")]
            Plan::Whole { whole, .. } => whole.read_to(),
        }
    }

    /// Hashes what a whole-source session holds but no try's body hashed (the session had it
    /// all before a try sent it again); a stream's bytes are all hashed as they are read.
    #[cfg(feature = "server")]
    async fn hash_the_rest(&mut self, tally: &Tally) -> Result<(), StorageError> {
        if let Plan::Whole { whole, source } = self {
            let size = whole.read_to();
            let mut hashing = tally.hashing.get();
            let hashed_to = hashing.frontier.hashed_to;
            if hashed_to < size && !matches!(source, Source::Stream(_)) {
                next_chunk(source, hashed_to, size - hashed_to, Some(size), &mut hashing).await?;
                tally.hashing.set(hashing);
            }
        }
        Ok(())
    }

    /// Whether each try's body tells its progress as it goes.
    fn streams(&self) -> bool {
        !matches!(self, Plan::Chunks { .. })
    }

    async fn cancel(&mut self) {
        match self {
            Plan::Chunks { source: Source::Stream(chunks), .. } => chunks.cancel().await,
            #[cfg(feature = "server")]
            Plan::Whole { whole, .. } => whole.cancel().await,
            _ => {}
        }
    }
}

/// The request for a chunk (or, after a failure, the status query that comes first); `end`
/// becomes where the chunk ends.
fn chunk_try(
    session: &str,
    next: Next,
    chunk: Chunk,
    total: Option<u64>,
    end: &mut u64,
    crc: Crc32c,
) -> Result<Try, StorageError> {
    *end = chunk.offset + chunk.length;
    if let Some(total) = total.filter(|total| *end > *total || (chunk.last != (*end == *total))) {
        return Err(length_differs(total));
    }
    let chunk_total = if chunk.last { Some(*end) } else { total };
    if next == Next::AskStatus {
        return Ok(Try { request: resumable::status_request(session, chunk_total), body: None });
    }
    let request = resumable::chunk_request(session, chunk.offset, chunk.length, chunk_total);
    let request = if chunk.last { request.header("X-Goog-Hash", integrity::goog_hash_header(crc)) } else { request };
    Ok(Try { request, body: (chunk.length > 0).then_some(chunk.body) })
}

/// The tally shared with each try's streamed body on servers; the browser build sends only chunks.
#[cfg(feature = "server")]
type TallyHandle = Rc<Tally>;
#[cfg(not(feature = "server"))]
type TallyHandle = Tally;

async fn send_session(
    storage: &Storage,
    call: Call<'_>,
    session: &str,
    plan: &mut Plan<'_>,
    total: Option<u64>,
) -> Result<(), StorageError> {
    let tally = TallyHandle::default();
    let mut cursor = UploadCursor::default();
    let mut backoff = Backoff::new(storage.config.retry);
    loop {
        let Try { request, body } = match &mut *plan {
            Plan::Chunks { source, chunk_size, total, end } => {
                let mut hashing = tally.hashing.get();
                // Boxed, so that its state machine stays a function of its own: inlined into
                // the operations' one (its only caller in the browser build), it measured larger.
                let chunk: Pin<Box<dyn Future<Output = Result<Chunk, StorageError>> + '_>> =
                    Box::pin(next_chunk(source, cursor.offset(), *chunk_size, *total, &mut hashing));
                let chunk = chunk.await?;
                tally.hashing.set(hashing);
                chunk_try(session, cursor.next(), chunk, *total, end, hashing.crc)?
            }
            #[cfg(feature = "server")]
            Plan::Whole { whole, .. } => whole.try_for(session, cursor.next(), &tally, call.context)?,
        };
        let outcome = match storage.try_once(call, &request, body.as_ref(), settles).await {
            Ok(exchange) => settle(exchange).await,
            Err(refusal) => Err(refusal),
        };
        // One wait for every kind of failure: each `.await` site adds its own state to this loop.
        let Refusal { error: failure, retry_after } = match outcome {
            Ok(Sent::Done(resource)) => {
                #[cfg(feature = "server")]
                plan.hash_the_rest(&tally).await?;
                let size = plan.finished_size();
                call.context.progress(size, Some(size));
                let crc = tally.hashing.get().crc;
                return verify(storage, call, &resource, Described::ByTheUpload, crc, size).await;
            }
            Ok(Sent::Persisted(persisted)) => match cursor.persisted(persisted) {
                Ok(advanced) => {
                    if advanced {
                        backoff.reset();
                    }
                    if !plan.streams() {
                        // (A streamed body told its progress as it went.)
                        call.context.progress(cursor.offset(), total);
                    }
                    continue;
                }
                Err(stuck) => stuck.into(),
            },
            Err(refusal) => refusal,
        };
        #[cfg(feature = "server")]
        {
            tally.failed_tries.set(tally.failed_tries.get() + 1);
            if let Some(unreadable) = tally.source_error.take() {
                return Err(unreadable);
            }
        }
        backoff.wait(failure, retry_after, call.context).await?;
        cursor.failed();
    }
}

/// The chunk at `offset`, its bytes not hashed before hashed now (a chunk may be sent again
/// after a failure).
async fn next_chunk(
    source: &mut Source,
    offset: u64,
    chunk_size: u64,
    total: Option<u64>,
    hashing: &mut Hashing,
) -> Result<Chunk, StorageError> {
    let last = |length: u64| total.is_some_and(|total| offset + length >= total);
    match source {
        Source::Bytes(bytes) => {
            let end = offset.saturating_add(chunk_size).min(bytes.length() as u64);
            let chunk = bytes.subarray(offset as u32, end as u32);
            let length = end - offset;
            hashing.take(offset, &chunk);
            Ok(Chunk { body: chunk.into(), length, offset, last: last(length) })
        }
        Source::Blob(blob) => {
            let end = offset.saturating_add(chunk_size).min(blob.size() as u64);
            let length = end - offset;
            if let Some((fresh, _)) = hashing.frontier.fresh(offset, length) {
                hash_blob(&mut hashing.crc, &platform::slice(blob, offset + fresh, end)?).await?;
            }
            Ok(Chunk { body: platform::slice(blob, offset, end)?.into(), length, offset, last: last(length) })
        }
        Source::Stream(chunks) => chunks.chunk(offset, chunk_size as u32, &mut hashing.crc).await,
    }
}

/// The statuses `settle` reads; any other is a failure.
fn settles(status: u16) -> bool {
    matches!(status, 308 | 404 | 410) || is_success(status)
}

/// Reads a chunk's or status query's answer: 308 with what the server holds, or the
/// finished object (its description read here, so a body cut short is retried too).
async fn settle(exchange: Exchange) -> Result<Sent, Refusal> {
    let sent = match exchange.status() {
        308 => resumable::persisted_bytes(exchange.header("range").as_deref()).map(Sent::Persisted).ok_or_else(|| {
            StorageError::malformed_response("GCS", "a resumable upload answered with an unreadable Range")
        }),
        404 | 410 => Err(StorageError::new(
            ErrorKind::Unknown,
            "the resumable upload session expired or was cancelled; upload again",
        )),
        _ => {
            return exchange
                .json::<ObjectMetadata>()
                .await
                .map(|resource| Sent::Done(Box::new(resource)))
                .map_err(Refusal::from)
        }
    };
    // One discard for both: each `.await` site is a state of its own.
    exchange.discard().await;
    sent.map_err(Refusal::from)
}
