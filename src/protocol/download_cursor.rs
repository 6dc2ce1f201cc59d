//! Where a download stands, apart from its bytes and its I/O. A download of a byte range may
//! take several answers: a body that breaks is resumed from the byte it stopped at, and a
//! server may ignore `Range` and send the whole object. The cursor says which `Range` to ask
//! for next, checks each answer against what was asked, says which part of each chunk of a
//! body belongs to the range (each byte once, in order, nothing past the range's end), what
//! goes into the CRC32C, and whether a body that ended or broke holds the whole range. Pure,
//! so it is tested natively against a simulated server; `wasm::download` reads the bodies.

use alloc::collections::VecDeque;
use core::ops::Range;

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::integrity::{self, Crc32c};
use crate::protocol::range::{self, ByteRange};

pub const WHOLE: ByteRange = ByteRange::From { start: 0, end: None };
pub const GZIP_SKIPPED: &str =
    "skipped: the object is stored gzipped and served decompressed; its CRC32C is of the stored bytes";

pub fn changed_error() -> StorageError {
    StorageError::new(ErrorKind::PreconditionFailed, "the object changed while it was being downloaded")
}

/// What an answer to a download request says: its status and headers as the runtime shows
/// them (a header that CORS hides is `None`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Answer {
    /// 206 Partial Content; any other success is the whole object.
    pub partial: bool,
    pub content_length: Option<String>,
    pub content_range: Option<String>,
    /// `X-Goog-Generation`.
    pub generation: Option<String>,
    /// `X-Goog-Hash`.
    pub goog_hash: Option<String>,
    /// The body is gzip that the runtime decompresses (`Content-Encoding`, or GCS's
    /// `X-Goog-Stored-Content-Encoding`): `Content-Length` is not the length delivered.
    pub gzip: bool,
}

/// The CRC32C of the bytes delivered so far, and the one the server gave for the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashed {
    pub crc: Crc32c,
    pub expected: Option<u32>,
}

/// What to do after a body failed (broke, or ended short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterBreak {
    /// Every byte of the range was delivered before the failure: the download is complete.
    Complete,
    /// Ask for the rest. `fresh_budget`: bytes arrived since the last failure, so the retry
    /// budget starts over, as uploads have it.
    Resume { fresh_budget: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadCursor {
    range: ByteRange,
    /// The generation every resumption is pinned to (the first answer's when none was given).
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
    /// For a `{suffix}` in that case: the whole object is read and its last this many bytes
    /// kept (`Tail`).
    tail: Option<u64>,
    hashed: Option<Hashed>,
    /// Why the integrity check does not apply, when it does not.
    skipped: Option<&'static str>,
    /// `received` at the last failure: more since means progress.
    received_at_failure: u64,
}

impl DownloadCursor {
    /// A download of `range`, pinned to `generation` from its first request on when given.
    pub fn new(range: ByteRange, generation: Option<String>) -> DownloadCursor {
        DownloadCursor {
            range,
            generation,
            received: 0,
            length: None,
            object_size: None,
            skip: 0,
            limit: None,
            tail: None,
            hashed: None,
            skipped: None,
            received_at_failure: 0,
        }
    }

    /// The part of the range still to come: all of it at first, the rest after a break.
    fn remaining(&self) -> ByteRange {
        if self.received > 0 {
            self.range.after(self.received, self.object_size)
        } else {
            self.range
        }
    }

    /// The `Range` header of the next request; `None` for the whole object.
    pub fn range_header(&self) -> Option<String> {
        let remaining = self.remaining();
        (!remaining.is_whole()).then(|| remaining.header_value())
    }

    /// The error for a 416 to the next request.
    pub fn unsatisfiable(&self) -> StorageError {
        range::unsatisfiable(self.remaining(), self.object_size)
    }

    pub fn generation(&self) -> Option<&str> {
        self.generation.as_deref()
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn length(&self) -> Option<u64> {
        self.length
    }

    /// For a `{suffix}` whose answer ignored `Range` without saying the object's size: how
    /// many bytes at the end of the whole object are the range (see `Tail`).
    pub fn tail(&self) -> Option<u64> {
        self.tail
    }

    /// Takes an answer to the request `range_header` described: the error when it is not
    /// of the same object (a resumption) or not the part asked for (the caller then drops it).
    pub fn answered(&mut self, answer: Answer) -> Result<(), StorageError> {
        let resuming = self.received > 0;
        let remaining = self.remaining();
        let body_length =
            if answer.gzip { None } else { answer.content_length.and_then(|value| value.trim_ascii().parse().ok()) };
        // A resumed answer must be of the same object (a signed URL cannot pin its generation).
        if resuming && self.generation.is_some() && answer.generation != self.generation {
            return Err(changed_error());
        }
        let content_range = answer.content_range.as_deref();
        if answer.partial {
            range::check_answer(remaining, content_range)?;
            self.object_size = content_range.and_then(range::total_from_content_range);
            self.skip = 0;
        } else {
            self.object_size = body_length;
            self.skip = self.skip_for_ignored_range(remaining);
        }
        if resuming {
            return Ok(());
        }
        if self.generation.is_none() {
            self.generation = answer.generation;
        }
        self.length = match (answer.partial, self.range) {
            (true, _) => body_length,
            (false, range) if range.is_whole() => body_length,
            (false, ByteRange::From { start, end }) => {
                self.object_size.map(|size| end.map_or(size, |end| end + 1).min(size) - start.min(size))
            }
            (false, ByteRange::Suffix { length }) => self.object_size.map(|size| length.min(size)),
        };
        if !answer.partial && !remaining.is_whole() && self.object_size.is_none() {
            // The whole object came back for a range, of a length nobody said (GCS serves a
            // gzip-stored object decompressed and then ignores `Range`): cut the range out
            // as it passes, never handing over other bytes as the range.
            match self.range {
                ByteRange::From { start, end } => self.limit = end.map(|end| end + 1 - start),
                ByteRange::Suffix { length } => {
                    // Read the whole (resumable as such) and keep its last `length` bytes.
                    self.tail = Some(length);
                    self.range = WHOLE;
                }
            }
        }
        if !self.range.is_whole() || self.tail.is_some() {
            self.skipped = Some("skipped: a byte range has no checksum of its own");
        } else if answer.gzip {
            self.skipped = Some(GZIP_SKIPPED);
        } else {
            let expected = answer.goog_hash.as_deref().and_then(integrity::crc32c_from_goog_hash);
            self.hashed = Some(Hashed { crc: Crc32c::default(), expected });
        }
        Ok(())
    }

    /// Bytes to drop when a server answered 200 with the whole object to a range request.
    fn skip_for_ignored_range(&self, asked: ByteRange) -> u64 {
        match asked {
            ByteRange::From { start, .. } => start,
            ByteRange::Suffix { length } => self.object_size.map_or(0, |size| size.saturating_sub(length)),
        }
    }

    /// Of the next `chunk` bytes of the current body, the ones that are the range's next bytes
    /// (counted as delivered; the caller hashes them into `hasher`); `None` when none are.
    pub fn deliver(&mut self, chunk: u64) -> Option<Range<u64>> {
        let start = self.skip.min(chunk);
        self.skip -= start;
        let mut end = chunk;
        if let Some(length) = self.length.or(self.limit) {
            end = end.min(start + length.saturating_sub(self.received));
        }
        if end == start {
            return None;
        }
        self.received += end - start;
        Some(start..end)
    }

    /// The hash the delivered bytes go into, when the range is checked as a whole object.
    pub fn hasher(&mut self) -> Option<&mut Crc32c> {
        self.hashed.as_mut().map(|hashed| &mut hashed.crc)
    }

    /// Every byte of the range is delivered, as far as its length is known.
    pub fn has_all(&self) -> bool {
        self.length.or(self.limit).is_some_and(|length| self.received >= length)
    }

    /// The current body need not be read further: the range is complete and the body is the
    /// whole object (a server that ignored `Range`), whose remaining bytes are not wanted.
    pub fn rest_unwanted(&self) -> bool {
        self.limit.is_some_and(|limit| self.received >= limit)
    }

    /// The body ended: `Ok` when it held the rest of the range, else the failure to resume
    /// after (`after_break`).
    pub fn ended(&self) -> Result<(), StorageError> {
        match self.length {
            Some(length) if self.received < length => Err(StorageError::new(
                ErrorKind::Network,
                text!("the connection closed after ", self.received, " of ", length, " bytes"),
            )),
            _ => Ok(()),
        }
    }

    /// What to do after the body failed with `failure`.
    pub fn after_break(&mut self, failure: &StorageError) -> AfterBreak {
        let _ = failure;
        let fresh_budget = self.received > self.received_at_failure;
        if fresh_budget {
            self.received_at_failure = self.received;
        }
        AfterBreak::Resume { fresh_budget }
    }

    /// The hash to check at the end, taken once; `None` when the check does not apply.
    pub fn take_hash(&mut self) -> Option<Hashed> {
        self.hashed.take()
    }

    /// Why the integrity check does not apply (`take_hash` gave `None`), when known.
    pub fn skipped(&self) -> Option<&'static str> {
        self.skipped
    }

    /// The check does not apply after all, for this reason.
    pub fn skip_check(&mut self, reason: &'static str) {
        self.skipped = Some(reason);
    }
}

/// A piece of a body that a `Tail` can measure and cut (a `Uint8Array` in the wasm build).
pub trait Chunk {
    fn size(&self) -> u64;
    /// The piece without its first `start` bytes.
    fn without_first(&self, start: u64) -> Self;
}

/// The last `want` bytes of a body of unknown length, as the chunks that hold them (at most
/// `want` bytes plus one chunk are held).
pub struct Tail<C> {
    want: u64,
    chunks: VecDeque<C>,
    held: u64,
    /// The body has ended: `chunks` are trimmed and being handed out.
    ended: bool,
}

impl<C: Chunk> Tail<C> {
    pub fn new(want: u64) -> Tail<C> {
        Tail { want, chunks: VecDeque::new(), held: 0, ended: false }
    }

    pub fn push(&mut self, chunk: C) {
        self.held += chunk.size();
        self.chunks.push_back(chunk);
        while let Some(front) = self.chunks.front() {
            let front = front.size();
            if self.held - front < self.want {
                break;
            }
            self.held -= front;
            self.chunks.pop_front();
        }
    }

    /// Ends the body: the first chunk loses what lies before the last `want` bytes.
    pub fn end(&mut self) {
        self.ended = true;
        let extra = self.held.saturating_sub(self.want);
        if let Some(front) = self.chunks.front_mut() {
            *front = front.without_first(extra);
        }
        self.held -= extra;
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The next chunk of the last `want` bytes, once the body has ended.
    pub fn pop(&mut self) -> Option<C> {
        self.chunks.pop_front()
    }
}
