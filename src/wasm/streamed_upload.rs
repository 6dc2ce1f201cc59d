//! A resumable session's data sent as one streamed request, where the runtime streams request
//! bodies (Node, Deno, Bun): each try sends everything from the offset the session holds. Bytes
//! and Blobs (files) are read again from that offset; a stream, read once, keeps its newest
//! bytes in a bounded replay buffer to send again. Bytes are hashed as they go, each once
//! however often tries resend them, and told as progress. A chunk costs a round trip every few
//! MiB; one request streams at the link's speed.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultController, ReadableStreamDefaultReader};

use crate::protocol::config::STREAM_REPLAY_BYTES;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::replay_buffer::{Gap, Piece, ReplayBuffer};
use crate::protocol::resumable::{self, Next};
use crate::wasm::call_context::CallContext;
use crate::wasm::platform::source_failed;
use crate::wasm::upload::{length_differs, Tally, Try};
use crate::wasm::{body, interop, platform, transport};

/// Bytes are handed to fetch in pieces of at most this size (Blobs and streams come in their own).
const PIECE: u32 = 256 * 1024;

impl Piece for Uint8Array {
    fn length(&self) -> u64 {
        Uint8Array::length(self) as u64
    }
    fn cut(&self, start: u64, end: u64) -> Self {
        self.subarray(start as u32, end as u32)
    }
}

/// A source sent whole, one streamed request per try.
pub enum Whole {
    /// Bytes or a Blob (a file): read again from any offset.
    Rereadable { source: JsValue, total: u64 },
    /// A stream: read once, its newest bytes kept to send again.
    Stream(Rc<StreamReplay>),
}

/// A stream's reader and what the tries have read from it. Shared by the tries' bodies: a
/// failed try's body may still be waiting for a read when the next try starts, so every piece
/// read is kept first, then served by its offset.
pub struct StreamReplay {
    reader: ReadableStreamDefaultReader,
    kept: RefCell<ReplayBuffer<Uint8Array>>,
    ended: Cell<bool>,
    /// The length the caller declared (`contentLength`), checked as the stream is read.
    declared: Option<u64>,
}

impl Whole {
    pub fn stream(reader: ReadableStreamDefaultReader, declared: Option<u64>) -> Whole {
        Whole::Stream(Rc::new(StreamReplay {
            reader,
            kept: RefCell::new(ReplayBuffer::new(STREAM_REPLAY_BYTES)),
            ended: Cell::new(false),
            declared,
        }))
    }

    /// The object's size when known: the bytes' or Blob's, a stream's declared length, or all
    /// it gave once it ended.
    pub fn total(&self) -> Option<u64> {
        match self {
            Whole::Rereadable { total, .. } => Some(*total),
            Whole::Stream(stream) => stream.declared.or_else(|| stream.ended.get().then(|| stream.read_to())),
        }
    }

    /// The bytes of the source read so far (all of it for bytes and Blobs).
    pub fn read_to(&self) -> u64 {
        match self {
            Whole::Rereadable { total, .. } => *total,
            Whole::Stream(stream) => stream.read_to(),
        }
    }

    /// The request for what the cursor says: a try sending everything from its offset (no
    /// body when nothing is left to send: the request then only completes the object), or
    /// the status query after a failure.
    pub fn try_for(
        &self,
        session: &str,
        next: Next,
        tally: &Rc<Tally>,
        context: &CallContext,
    ) -> Result<Try, StorageError> {
        let Next::Send { offset } = next else {
            return Ok(Try { request: resumable::status_request(session, self.total()), body: None });
        };
        let (pieces, total) = match self {
            Whole::Rereadable { source, total } => (rereading(source, offset, *total)?, Some(*total)),
            Whole::Stream(stream) => {
                stream.kept.borrow().piece_at(offset).map_err(|gap| lost(offset, gap))?;
                (Pieces::Stream(stream.clone()), stream.ended.get().then(|| stream.read_to()))
            }
        };
        let request = match total {
            Some(total) => resumable::chunk_request(session, offset, total - offset, Some(total)),
            None => resumable::stream_request(session, offset, self.total()),
        };
        let body =
            if total == Some(offset) { None } else { Some(body(pieces, offset, self.total(), tally, context)?.into()) };
        Ok(Try { request, body })
    }

    /// Ends reading a stream the upload gave up on.
    pub async fn cancel(&self) {
        if let Whole::Stream(stream) = self {
            let _ = wasm_bindgen_futures::JsFuture::from(platform::cancel(&stream.reader)).await;
        }
    }
}

impl StreamReplay {
    fn read_to(&self) -> u64 {
        self.kept.borrow().read_to()
    }

    /// The piece at `position`: from the buffer while the position is behind what was read,
    /// else read from the stream and kept.
    async fn piece_at(&self, position: u64) -> Result<Option<Uint8Array>, StorageError> {
        loop {
            let read_to = self.read_to();
            if position < read_to {
                return self.kept.borrow().piece_at(position).map_err(|gap| lost(position, gap));
            }
            if self.ended.get() {
                return match self.declared {
                    Some(declared) if declared != read_to => Err(length_differs(declared)),
                    _ => Ok(None),
                };
            }
            let Some(value) = body::next_value(&self.reader).await.map_err(|error| source_failed(&error))? else {
                self.ended.set(true);
                continue;
            };
            let piece = body::as_bytes(&value)
                .ok_or_else(|| StorageError::invalid_argument("the source stream must give bytes or strings"))?;
            let read_to = self.read_to() + piece.length() as u64;
            if self.declared.is_some_and(|declared| read_to > declared) {
                return Err(length_differs(self.declared.unwrap_or_default()));
            }
            self.kept.borrow_mut().keep(piece);
        }
    }
}

/// Why a stream cannot be sent on from `offset`.
fn lost(offset: u64, gap: Gap) -> StorageError {
    match gap {
        Gap::Forgotten { kept_from } => StorageError::new(
            ErrorKind::Network,
            text!(
                "the upload was interrupted and its session holds ",
                offset,
                " bytes, but a stream keeps only its newest bytes sent (from ",
                kept_from,
                ") to send again: upload again, or set uploadChunkSize to send streams in chunks the session confirms"
            ),
        ),
        Gap::NeverSent { read_to } => StorageError::malformed_response(
            "GCS",
            &text!("the upload session claims ", offset, " bytes of a stream read to ", read_to),
        ),
    }
}

/// Where a try's pieces come from.
enum Pieces {
    Bytes { bytes: Uint8Array, at: u32 },
    Reader(ReadableStreamDefaultReader),
    Stream(Rc<StreamReplay>),
}

/// Bytes or a Blob from `offset` to their end.
fn rereading(source: &JsValue, offset: u64, total: u64) -> Result<Pieces, StorageError> {
    match (source.dyn_ref::<Uint8Array>(), source.dyn_ref::<Blob>()) {
        (Some(bytes), _) => Ok(Pieces::Bytes { bytes: bytes.subarray(offset as u32, total as u32), at: 0 }),
        (_, Some(blob)) => {
            let rest = platform::slice(blob, offset, total)?;
            Ok(Pieces::Reader(platform::reader(&platform::stream(&rest)?)?))
        }
        _ => Err(StorageError::new(ErrorKind::Unknown, "a streamed session needs bytes, a Blob or a stream")),
    }
}

/// The pieces from `offset` on, as a stream made for one try.
fn body(
    pieces: Pieces,
    offset: u64,
    total: Option<u64>,
    tally: &Rc<Tally>,
    context: &CallContext,
) -> Result<ReadableStream, StorageError> {
    let pieces = Rc::new(RefCell::new(pieces));
    let position = Rc::new(Cell::new(offset));
    let this_try = tally.failed_tries.get();
    let (tally, context, cancelled) = (tally.clone(), context.clone(), pieces.clone());
    let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> Promise>::new(
        move |controller: ReadableStreamDefaultController| {
            let (pieces, position, tally, context) = (pieces.clone(), position.clone(), tally.clone(), context.clone());
            interop::promise(async move {
                if tally.failed_tries.get() != this_try {
                    return Err(js_sys::Error::new("this try of the upload failed").into());
                }
                let at = position.get();
                let piece = match next_piece(&pieces, at).await {
                    Ok(Some(piece)) => piece,
                    Ok(None) => {
                        controller.close()?;
                        return Ok(JsValue::UNDEFINED);
                    }
                    Err(failure) => {
                        let thrown = js_sys::Error::new(&failure.message);
                        tally.source_error.set(Some(failure));
                        return Err(thrown.into());
                    }
                };
                position.set(at + piece.length() as u64);
                let mut hashing = tally.hashing.get();
                let fresh = hashing.take(at, &piece);
                tally.hashing.set(hashing);
                controller.enqueue_with_chunk(&piece)?;
                if fresh {
                    context.progress(hashing.frontier.hashed_to, total);
                }
                Ok(JsValue::UNDEFINED)
            })
        },
    );
    // A Blob's reader is this try's own; a stream's serves the tries after it.
    let cancel = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |reason: JsValue| match &*cancelled.borrow() {
        Pieces::Reader(reader) => reader.cancel_with_reason(&reason),
        Pieces::Bytes { .. } | Pieces::Stream(_) => Promise::resolve(&JsValue::UNDEFINED),
    });
    transport::pulled_stream(pull.into_js_value(), Some(cancel.into_js_value()))
}

async fn next_piece(pieces: &RefCell<Pieces>, position: u64) -> Result<Option<Uint8Array>, StorageError> {
    /// What a piece is awaited from (a `RefCell` borrow may not be held across the wait).
    enum Awaited {
        Reader(ReadableStreamDefaultReader),
        Stream(Rc<StreamReplay>),
    }
    let awaited = match &mut *pieces.borrow_mut() {
        Pieces::Bytes { bytes, at } => {
            let start = *at;
            if start >= bytes.length() {
                return Ok(None);
            }
            *at = bytes.length().min(start + PIECE);
            return Ok(Some(bytes.subarray(start, *at)));
        }
        Pieces::Reader(reader) => Awaited::Reader(reader.clone()),
        Pieces::Stream(stream) => Awaited::Stream(stream.clone()),
    };
    match awaited {
        Awaited::Reader(reader) => {
            let value = body::next_value(&reader).await.map_err(|error| source_failed(&error))?;
            Ok(value.as_ref().and_then(body::as_bytes))
        }
        Awaited::Stream(stream) => stream.piece_at(position).await,
    }
}
