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
use crate::protocol::text;

pub const WHOLE: ByteRange = ByteRange::From { start: 0, end: None };
pub const CODED_SKIPPED: &str =
    "skipped: the object is stored encoded and arrives decoded; its CRC32C is of the stored bytes";

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
    /// The body arrives decoded (`Content-Encoding` or GCS's `X-Goog-Stored-Content-Encoding`
    /// names a coding, see `is_coded`): `Content-Length` is not the length delivered.
    pub coded: bool,
}

/// The CRC32C of the bytes delivered so far, and the one the server gave for the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashed {
    pub crc: Crc32c,
    pub expected: Option<u32>,
}

/// What to do with an answer the cursor took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Read its body.
    Read,
    /// Drop it and ask again, now without `Range`: it was a piece of encoded bytes (GCS applies
    /// `Range` to the stored bytes of an object stored with any coding but gzip), of which
    /// fetch cannot decode a piece.
    AskWhole,
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
    /// The current answer is the whole object for a range request: it goes on past the range.
    surplus: bool,
    /// The most bytes to deliver when the answer ignored `Range` and did not say the object's
    /// size (an object that arrives decoded): `{start, end}`'s length.
    limit: Option<u64>,
    /// For a `{suffix}` in that case: the whole object is read and its last this many bytes
    /// kept (`Tail`).
    tail: Option<u64>,
    hashed: Option<Hashed>,
    /// Why the integrity check does not apply, when it does not.
    skipped: Option<&'static str>,
    /// `received` at the last failure: more since means progress.
    received_at_failure: u64,
    /// The object arrives decoded: every request asks for the whole and the range is cut out.
    whole_only: bool,
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
            surplus: false,
            limit: None,
            tail: None,
            hashed: None,
            skipped: None,
            received_at_failure: 0,
            whole_only: false,
        }
    }

    /// The part of the range to ask for next: all of it at first, the rest after a break
    /// (the whole object is asked for without `Range`).
    pub fn request(&self) -> ByteRange {
        if self.received == 0 {
            return self.range;
        }
        let range = match (self.range, self.length) {
            // A suffix longer than the object is all of it: the rest is what the length says.
            (ByteRange::Suffix { .. }, Some(length)) => ByteRange::Suffix { length },
            (range, _) => range,
        };
        range.after(self.received, self.object_size)
    }

    /// Whether the next request carries `request`'s range as `Range` (else it asks for the
    /// whole object, from which the range is cut as it passes).
    pub fn sends_range(&self) -> bool {
        !self.whole_only
    }

    /// A 416 to the next request. Before any byte arrived: the range is past the object's
    /// end (the error). After: the object ends where the bytes delivered do (its length was
    /// not told, and the body broke after its last byte), so the range is complete.
    pub fn refused(&mut self) -> Result<(), StorageError> {
        if self.received == 0 {
            return Err(range::unsatisfiable(self.range, self.object_size));
        }
        self.length = Some(self.received);
        Ok(())
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

    /// Takes an answer to the request for `remaining` (what `request` said): the error when
    /// it is not of the same object (a resumption) or not the part asked for (the caller then
    /// drops it).
    pub fn answered(&mut self, remaining: ByteRange, answer: &Answer) -> Result<Taken, StorageError> {
        if answer.coded && answer.partial && !self.whole_only {
            self.whole_only = true;
            return Ok(Taken::AskWhole);
        }
        self.whole_only |= answer.coded;
        let resuming = self.received > 0;
        let body_length = if answer.coded {
            None
        } else {
            answer.content_length.as_deref().and_then(|value| text::parse_u64(value.trim_ascii()))
        };
        // A resumed answer must be of the same object (a signed URL cannot pin its generation).
        if resuming && self.generation.is_some() && answer.generation != self.generation {
            return Err(changed_error());
        }
        let content_range = answer.content_range.as_deref();
        // (A size once told stays known: an answer that hides it is of the same object.)
        self.surplus = !answer.partial && !remaining.is_whole();
        if answer.partial {
            range::check_answer(remaining, content_range)?;
            self.object_size = content_range.and_then(range::total_from_content_range).or(self.object_size);
            self.skip = 0;
        } else {
            // The whole object, for a range request: skip to the range.
            self.object_size = body_length.or(self.object_size);
            self.skip = match (remaining, self.object_size) {
                (ByteRange::From { start, .. }, _) => start,
                (ByteRange::Suffix { length }, Some(size)) => size.saturating_sub(length),
                // Where the rest of a suffix starts cannot be told, and the bytes delivered
                // already cannot be taken back to keep a tail instead.
                (ByteRange::Suffix { .. }, None) if resuming => {
                    return Err(StorageError::malformed_response("the server", "Range ignored on resume, size unknown"))
                }
                (ByteRange::Suffix { .. }, None) => 0,
            };
        }
        // The range's length, where this answer tells it (a resumed 206: the rest's).
        let told = match (answer.partial, self.range) {
            (true, _) => body_length.map(|rest| self.received + rest),
            (false, range) if range.is_whole() => body_length,
            (false, ByteRange::From { start, end }) => {
                self.object_size.map(|size| end.map_or(size, |end| end + 1).min(size) - start.min(size))
            }
            (false, ByteRange::Suffix { length }) => self.object_size.map(|size| length.min(size)),
        };
        if !resuming || self.length.is_none() {
            self.length = told;
        }
        if resuming {
            return Ok(Taken::Read);
        }
        if self.generation.is_none() {
            self.generation.clone_from(&answer.generation);
        }
        if self.surplus && self.object_size.is_none() {
            // The whole object came back for a range, of a length nobody said (decoded: GCS
            // serves a gzip-stored object decompressed and then ignores `Range`; any other
            // coding is asked for whole): cut the range out as it passes, never handing over
            // other bytes as the range.
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
        } else if answer.coded {
            self.skipped = Some(CODED_SKIPPED);
        } else {
            let expected = answer.goog_hash.as_deref().and_then(integrity::crc32c_from_goog_hash);
            self.hashed = Some(Hashed { crc: Crc32c::default(), expected });
        }
        Ok(Taken::Read)
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
        self.surplus && self.has_all()
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
        if self.has_all() && failure.kind != ErrorKind::Aborted {
            return AfterBreak::Complete;
        }
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn from(start: u64, end: Option<u64>) -> ByteRange {
        ByteRange::From { start, end }
    }

    fn whole_answer(length: u64) -> Answer {
        Answer { content_length: Some(text!(length)), ..Answer::default() }
    }

    fn partial_answer(first: u64, last: u64, total: u64) -> Answer {
        Answer {
            partial: true,
            content_length: Some(text!(last + 1 - first)),
            content_range: Some(text!("bytes ", first, "-", last, "/", total)),
            ..Answer::default()
        }
    }

    /// The `Range` header of the next request.
    fn header(cursor: &DownloadCursor) -> Option<String> {
        let range = cursor.request();
        (cursor.sends_range() && !range.is_whole()).then(|| range.header_value())
    }

    fn broken() -> StorageError {
        StorageError::new(ErrorKind::Network, "reset")
    }

    #[test]
    fn a_whole_object_is_asked_for_without_range_then_resumed_from_the_byte_it_stopped_at() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        assert_eq!(header(&cursor), None);
        cursor.answered(cursor.request(), &Answer { generation: Some("7".into()), ..whole_answer(10) }).unwrap();
        assert_eq!(cursor.length(), Some(10));
        assert_eq!(cursor.deliver(4), Some(0..4));
        assert_eq!(cursor.after_break(&broken()), AfterBreak::Resume { fresh_budget: true });
        assert_eq!(header(&cursor).as_deref(), Some("bytes=4-"));
        assert_eq!(cursor.after_break(&broken()), AfterBreak::Resume { fresh_budget: false }, "no bytes since");
        let resumed = Answer { generation: Some("7".into()), ..partial_answer(4, 9, 10) };
        cursor.answered(cursor.request(), &resumed).unwrap();
        assert_eq!(cursor.deliver(6), Some(0..6));
        assert!(cursor.has_all());
        assert_eq!(cursor.ended(), Ok(()));
    }

    #[test]
    fn a_resumed_answer_that_hides_its_length_keeps_the_length_known_and_progress_counts_on() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor.answered(cursor.request(), &whole_answer(10)).unwrap();
        cursor.deliver(4);
        assert_eq!(cursor.received(), 4, "progress: the bytes delivered");
        cursor.after_break(&broken());
        let hidden = Answer { content_length: None, ..partial_answer(4, 9, 10) };
        cursor.answered(cursor.request(), &hidden).unwrap();
        assert_eq!(cursor.length(), Some(10));
        cursor.deliver(3);
        assert_eq!(cursor.received(), 7);
        assert_eq!(cursor.ended().unwrap_err().kind, ErrorKind::Network, "3 bytes short is a break, not the end");
    }

    #[test]
    fn a_check_found_not_to_apply_says_why() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor.answered(cursor.request(), &whole_answer(10)).unwrap();
        assert_eq!(cursor.skipped(), None);
        cursor.skip_check(CODED_SKIPPED);
        assert_eq!(cursor.skipped(), Some(CODED_SKIPPED));
    }

    #[test]
    fn a_resumed_answer_of_another_generation_is_precondition_failed() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor.answered(cursor.request(), &Answer { generation: Some("7".into()), ..whole_answer(10) }).unwrap();
        cursor.deliver(4);
        let error = cursor
            .answered(cursor.request(), &Answer { generation: Some("8".into()), ..partial_answer(4, 9, 10) })
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::PreconditionFailed);
        // A given generation is pinned from the first request on, and the first answer's taken.
        assert_eq!(DownloadCursor::new(WHOLE, Some("3".into())).generation(), Some("3"));
        assert_eq!(cursor.generation(), Some("7"));
    }

    #[test]
    fn a_partial_answer_that_starts_elsewhere_is_refused() {
        let mut cursor = DownloadCursor::new(from(10, Some(19)), None);
        assert_eq!(header(&cursor).as_deref(), Some("bytes=10-19"));
        let error = cursor.answered(cursor.request(), &partial_answer(0, 19, 100)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unknown);
    }

    #[test]
    fn a_range_answered_with_the_whole_object_is_cut_out_of_it() {
        let mut cursor = DownloadCursor::new(from(10, Some(19)), None);
        cursor.answered(cursor.request(), &whole_answer(100)).unwrap();
        assert_eq!(cursor.length(), Some(10));
        assert_eq!(cursor.deliver(8), None, "before the range");
        assert_eq!(cursor.deliver(8), Some(2..8));
        assert_eq!(cursor.deliver(8), Some(0..4), "nothing past the range's end");
        assert_eq!(cursor.deliver(8), None);
        assert_eq!(cursor.take_hash(), None);
        assert_eq!(cursor.skipped(), Some("skipped: a byte range has no checksum of its own"));
    }

    #[test]
    fn a_suffix_is_resumed_from_its_absolute_position_once_the_size_is_known() {
        let mut cursor = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        assert_eq!(header(&cursor).as_deref(), Some("bytes=-10"));
        cursor.answered(cursor.request(), &partial_answer(90, 99, 100)).unwrap();
        cursor.deliver(3);
        assert_eq!(header(&cursor).as_deref(), Some("bytes=93-"));
        // Where CORS hides Content-Range, the rest is asked for as a shorter suffix.
        let mut hidden = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        hidden.answered(hidden.request(), &Answer { content_range: None, ..partial_answer(90, 99, 100) }).unwrap();
        hidden.deliver(3);
        assert_eq!(header(&hidden).as_deref(), Some("bytes=-7"));
    }

    #[test]
    fn a_suffix_answered_with_the_whole_object_skips_to_its_last_bytes() {
        let mut cursor = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        cursor.answered(cursor.request(), &whole_answer(100)).unwrap();
        assert_eq!(cursor.length(), Some(10));
        assert_eq!(cursor.deliver(95), Some(90..95));
        assert_eq!(cursor.deliver(5), Some(0..5));
    }

    #[test]
    fn a_decoded_answer_to_a_range_is_cut_by_the_ranges_length_or_kept_as_a_tail() {
        let gzip = Answer { coded: true, content_length: Some("40".into()), ..Answer::default() };
        let mut cursor = DownloadCursor::new(from(10, Some(19)), None);
        cursor.answered(cursor.request(), &gzip.clone()).unwrap();
        assert_eq!(cursor.length(), None, "a decompressed body's length is not Content-Length");
        assert_eq!(cursor.deliver(15), Some(10..15));
        assert!(!cursor.rest_unwanted());
        assert_eq!(cursor.deliver(15), Some(0..5));
        assert!(cursor.rest_unwanted(), "the rest of the object is not read");

        let mut suffix = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        suffix.answered(suffix.request(), &gzip.clone()).unwrap();
        assert_eq!(suffix.tail(), Some(10));
        assert_eq!(suffix.deliver(30), Some(0..30), "the whole passes, for the tail to keep its end");
        suffix.after_break(&broken());
        assert_eq!(header(&suffix), None, "resumed as a whole, without Range");

        let mut whole = DownloadCursor::new(WHOLE, None);
        whole.answered(whole.request(), &gzip).unwrap();
        assert_eq!(whole.take_hash(), None);
        assert_eq!(whole.skipped(), Some(CODED_SKIPPED));
    }

    #[test]
    fn a_piece_of_encoded_bytes_is_dropped_for_the_whole_object_never_read() {
        // GCS applies `Range` to the stored bytes of a br-stored object; fetch cannot decode them.
        let piece = Answer { coded: true, ..partial_answer(10, 19, 32) };
        let mut cursor = DownloadCursor::new(from(10, Some(19)), None);
        assert_eq!(header(&cursor).as_deref(), Some("bytes=10-19"));
        assert_eq!(cursor.answered(cursor.request(), &piece), Ok(Taken::AskWhole));
        assert_eq!(header(&cursor), None, "asked again for the whole");
        let whole = Answer { coded: true, content_length: Some("32".into()), ..Answer::default() };
        assert_eq!(cursor.answered(cursor.request(), &whole), Ok(Taken::Read));
        assert_eq!(cursor.deliver(25), Some(10..20), "the range cut out of the decoded whole");
        assert!(cursor.rest_unwanted());

        let mut stubborn = DownloadCursor::new(from(10, Some(19)), None);
        assert_eq!(stubborn.answered(stubborn.request(), &piece), Ok(Taken::AskWhole));
        assert_eq!(stubborn.answered(stubborn.request(), &piece), Ok(Taken::Read), "asked again once, not in a loop");
    }

    #[test]
    fn a_whole_object_is_hashed_against_x_goog_hash() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor
            .answered(cursor.request(), &Answer { goog_hash: Some("crc32c=AAAAAA==,md5=x".into()), ..whole_answer(3) })
            .unwrap();
        cursor.deliver(3);
        if let Some(hasher) = cursor.hasher() {
            hasher.update(b"abc");
        }
        let mut crc = Crc32c::default();
        crc.update(b"abc");
        assert_eq!(cursor.take_hash(), Some(Hashed { crc, expected: Some(0) }));
        assert_eq!(cursor.take_hash(), None, "taken once");
    }

    #[test]
    fn a_body_that_ends_short_is_a_network_failure_to_resume_after() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor.answered(cursor.request(), &whole_answer(10)).unwrap();
        cursor.deliver(4);
        let failure = cursor.ended().unwrap_err();
        assert_eq!(failure.kind, ErrorKind::Network);
        assert_eq!(failure.message, "the connection closed after 4 of 10 bytes");
        // Without a length (chunked, or decompressed), the end is the end.
        let mut unknown = DownloadCursor::new(WHOLE, None);
        unknown.answered(unknown.request(), &Answer::default()).unwrap();
        unknown.deliver(4);
        assert_eq!(unknown.ended(), Ok(()));
    }

    #[test]
    fn a_416_before_any_byte_names_the_range_and_after_some_ends_the_download() {
        let error = DownloadCursor::new(from(5, None), None).refused().unwrap_err();
        assert_eq!((error.kind, error.status_code), (ErrorKind::InvalidArgument, Some(416)));
        assert!(error.message.contains("bytes=5-"), "{}", error.message);
        // A whole object of untold length whose body broke after its last byte: the resume
        // asks for bytes past the end.
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor.answered(cursor.request(), &Answer::default()).unwrap();
        cursor.deliver(10);
        cursor.after_break(&broken());
        assert_eq!(header(&cursor).as_deref(), Some("bytes=10-"));
        assert_eq!(cursor.refused(), Ok(()));
        assert!(cursor.has_all());
        assert_eq!(cursor.ended(), Ok(()));
    }

    #[test]
    fn a_body_that_breaks_after_the_ranges_last_byte_is_complete_unless_aborted() {
        let mut cursor = DownloadCursor::new(from(0, Some(9)), None);
        cursor.answered(cursor.request(), &partial_answer(0, 9, 100)).unwrap();
        cursor.deliver(10);
        assert_eq!(cursor.after_break(&StorageError::aborted()), AfterBreak::Resume { fresh_budget: true });
        assert_eq!(cursor.after_break(&broken()), AfterBreak::Complete, "never asks for bytes=10-9");
    }

    #[test]
    fn a_resumed_partial_answer_tells_the_length_the_first_did_not() {
        let mut cursor = DownloadCursor::new(WHOLE, None);
        cursor.answered(cursor.request(), &Answer::default()).unwrap();
        cursor.deliver(4);
        cursor.after_break(&broken());
        cursor.answered(cursor.request(), &partial_answer(4, 9, 10)).unwrap();
        assert_eq!(cursor.length(), Some(10));
        cursor.deliver(2);
        assert_eq!(cursor.ended().unwrap_err().kind, ErrorKind::Network, "a short body is not the end");
    }

    #[test]
    fn a_suffix_longer_than_the_object_resumes_after_what_the_length_said() {
        // 206 with Content-Range hidden: the object (5 bytes) is shorter than the suffix.
        let mut cursor = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        cursor.answered(cursor.request(), &Answer { content_range: None, ..partial_answer(0, 4, 5) }).unwrap();
        cursor.deliver(2);
        assert_eq!(header(&cursor).as_deref(), Some("bytes=-3"), "not bytes=-8, which would repeat bytes");
    }

    #[test]
    fn a_resumed_suffix_answered_with_the_whole_object_of_untold_size_is_refused() {
        let mut cursor = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        cursor.answered(cursor.request(), &Answer { content_range: None, ..partial_answer(90, 99, 100) }).unwrap();
        cursor.deliver(2);
        let error = cursor.answered(cursor.request(), &Answer::default()).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unknown);
        // Once the size was told, it stays known, and the rest is asked for where it is.
        let mut told = DownloadCursor::new(ByteRange::Suffix { length: 10 }, None);
        told.answered(told.request(), &partial_answer(90, 99, 100)).unwrap();
        told.deliver(2);
        told.answered(told.request(), &Answer { content_range: None, ..partial_answer(92, 99, 100) }).unwrap();
        told.deliver(1);
        assert_eq!(header(&told).as_deref(), Some("bytes=93-"));
    }

    #[test]
    fn the_rest_of_a_whole_object_sent_for_a_range_is_not_read() {
        let mut cursor = DownloadCursor::new(from(10, Some(19)), None);
        cursor.answered(cursor.request(), &whole_answer(1000)).unwrap();
        cursor.deliver(15);
        assert!(!cursor.rest_unwanted());
        cursor.deliver(15);
        assert!(cursor.rest_unwanted());
        // A partial answer ends where the range does: read to its end as usual.
        let mut partial = DownloadCursor::new(from(10, Some(19)), None);
        partial.answered(partial.request(), &partial_answer(10, 19, 1000)).unwrap();
        partial.deliver(10);
        assert!(!partial.rest_unwanted());
    }

    impl Chunk for Vec<u8> {
        fn size(&self) -> u64 {
            self.len() as u64
        }

        fn without_first(&self, start: u64) -> Vec<u8> {
            self[start as usize..].to_vec()
        }
    }

    fn tail_of(chunks: &[&[u8]], want: u64) -> Vec<u8> {
        let mut tail = Tail::new(want);
        let mut passed = 0;
        for chunk in chunks {
            tail.push(chunk.to_vec());
            passed += chunk.len() as u64;
            // The memory bound: no chunk is held that the last `want` bytes do not need, so
            // what follows the first chunk held is less than `want`.
            let first = tail.chunks.front().map_or(0, Vec::len) as u64;
            assert!(tail.held - first < want, "{} held, the first {first}, for {want}", tail.held);
            assert_eq!(tail.held, tail.chunks.iter().map(|chunk| chunk.len() as u64).sum::<u64>());
        }
        assert!(!tail.ended());
        tail.end();
        assert!(tail.ended());
        assert_eq!(tail.held, want.min(passed), "what is held once the body ended");
        let mut out = Vec::new();
        while let Some(chunk) = tail.pop() {
            out.extend(chunk);
        }
        out
    }

    #[test]
    fn a_tail_keeps_the_last_bytes_across_chunks() {
        assert_eq!(tail_of(&[b"abc", b"def", b"gh"], 4), b"efgh");
        assert_eq!(tail_of(&[b"abc", b"def"], 3), b"def");
        assert_eq!(tail_of(&[b"ab"], 5), b"ab", "an object shorter than the suffix is all of it");
        assert_eq!(tail_of(&[], 5), b"");
    }

    proptest! {
        #[test]
        fn a_tail_is_the_end_of_what_passed(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..10), want in 1u64..100) {
            let all: Vec<u8> = chunks.concat();
            let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(tail_of(&refs, want), all[all.len() - (want as usize).min(all.len())..].to_vec());
        }
    }

    /// A download driven as `wasm::download` drives it, against a simulated server.
    mod simulation {
        use super::*;

        /// How one answer of the simulated server misbehaves (the default: not at all).
        #[derive(Debug, Clone, Default)]
        struct Quirks {
            /// 200 with the whole object, as if the request had no `Range`.
            ignore_range: bool,
            /// Headers CORS hides.
            hide_content_range: bool,
            hide_content_length: bool,
            /// A 206 whose `Content-Range` (and body) start a byte after the one asked for.
            shifted: bool,
            /// The body fails after this share (in 1/256ths, 256: after its last byte).
            cut: Option<u16>,
            /// The cut is a clean end instead of a failure (where `Content-Length` tells).
            clean_end: bool,
            chunk: usize,
        }

        fn quirks() -> impl Strategy<Value = Quirks> {
            (any::<[bool; 5]>(), prop::option::of(0u16..=256), 1usize..40).prop_map(|(flags, cut, chunk)| Quirks {
                ignore_range: flags[0],
                hide_content_range: flags[1],
                hide_content_length: flags[2],
                shifted: flags[3],
                cut,
                clean_end: flags[4],
                chunk,
            })
        }

        /// How the object is stored.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Stored {
            Plain,
            /// Gzipped: served decompressed, whole, whatever the `Range`, its length untold.
            Gzip,
            /// With another coding (br): served as stored, with `Range` applied to the stored
            /// bytes (fewer than the decoded ones here), and decoded by fetch, which fails on a
            /// piece of them.
            Coded,
        }

        fn stored() -> impl Strategy<Value = Stored> {
            prop_oneof![Just(Stored::Plain), Just(Stored::Gzip), Just(Stored::Coded)]
        }

        struct Server {
            /// The object as the caller reads it (decoded).
            object: Vec<u8>,
            stored: Stored,
        }

        /// An answer and its body's bytes, in chunks, then a failure or not.
        struct Served {
            answer: Answer,
            chunks: Vec<Vec<u8>>,
            fails: bool,
        }

        /// The bytes `first..=last` a `Range` header asks of `size` bytes (`None`: the whole
        /// object), or `Err` for a 416.
        fn asked(header: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
            let (first, last) = header.strip_prefix("bytes=").and_then(|spec| spec.split_once('-')).unwrap();
            if first.is_empty() {
                let length: u64 = last.parse().unwrap();
                return match (length, size) {
                    (0, _) => Err(()),
                    (_, 0) => Ok(None),
                    _ => Ok(Some((size - length.min(size), size - 1))),
                };
            }
            let first: u64 = first.parse().unwrap();
            let last = if last.is_empty() { u64::MAX } else { last.parse().unwrap() };
            if first >= size || last < first {
                return Err(());
            }
            Ok(Some((first, last.min(size - 1))))
        }

        impl Server {
            fn size(&self) -> u64 {
                self.object.len() as u64
            }

            /// The size `Range` applies to.
            fn stored_size(&self) -> u64 {
                match self.stored {
                    Stored::Coded => self.size() / 2 + 1,
                    _ => self.size(),
                }
            }

            /// Whether GCS answers 416 to a first request for `range` (whatever the decoded
            /// size: a range past the stored bytes of a br-stored object is refused).
            fn refuses(&self, range: ByteRange) -> bool {
                self.stored != Stored::Gzip
                    && !range.is_whole()
                    && asked(&range.header_value(), self.stored_size()).is_err()
            }

            /// `None`: 416.
            fn answer(&self, range: Option<&str>, quirks: &Quirks) -> Option<Served> {
                let stored_size = self.stored_size();
                let coded = self.stored != Stored::Plain;
                let asked = match range {
                    Some(header) if self.stored != Stored::Gzip && !quirks.ignore_range => {
                        asked(header, stored_size).ok()?
                    }
                    _ => None,
                };
                // GCS's CRC32C is of the stored bytes.
                let stored_crc = crc32c::crc32c_append(crc32c::crc32c(&self.object), if coded { b"~" } else { b"" });
                let mut answer = Answer {
                    generation: Some("1".into()),
                    goog_hash: Some(text!("crc32c=", integrity::encode(stored_crc))),
                    coded,
                    ..Answer::default()
                };
                let (body, length) = match asked {
                    None => (&self.object[..], stored_size),
                    Some((mut first, last)) => {
                        if quirks.shifted && !quirks.hide_content_range && first < last {
                            first += 1;
                        }
                        answer.partial = true;
                        answer.content_range = Some(text!("bytes ", first, "-", last, "/", stored_size));
                        // A piece of encoded bytes: fetch's decoding fails at once.
                        let piece = if coded { &[][..] } else { &self.object[first as usize..=last as usize] };
                        (piece, last + 1 - first)
                    }
                };
                answer.content_length = Some(text!(length));
                if quirks.hide_content_range {
                    answer.content_range = None;
                }
                // Browsers show Content-Length (CORS-safelisted), and GCS sends it with every
                // 206: only a whole object comes without (chunked, or decompressed).
                let length_shown = (!quirks.hide_content_length || answer.partial) && self.stored != Stored::Gzip;
                if !length_shown {
                    answer.content_length = None;
                }
                let sent = quirks.cut.map_or(body.len(), |cut| body.len() * usize::from(cut) / 256);
                // A body that ends early where nothing tells its length is a failure, as in
                // fetch, and so is one fetch cannot decode to its end.
                let fails = (quirks.cut.is_some() && !(quirks.clean_end && length_shown && !coded))
                    || (coded && answer.partial);
                Some(Served { answer, chunks: body[..sent].chunks(quirks.chunk).map(<[u8]>::to_vec).collect(), fails })
            }
        }

        /// What the range is of `size` bytes, as `first..end`.
        fn expected(range: ByteRange, size: u64) -> Range<u64> {
            match range {
                ByteRange::From { start, end } => {
                    start.min(size)..end.map_or(size, |end| (end + 1).min(size)).max(start.min(size))
                }
                ByteRange::Suffix { length } => size - length.min(size)..size,
            }
        }

        /// Tries after failures without progress, as `Backoff` allows.
        const BUDGET: u32 = 3;

        /// Downloads `range` as `wasm::download` does; `script` says how each answer
        /// misbehaves (after it, none do). Checks as it goes that every request after the
        /// first asks for the byte after the last one delivered.
        fn download(server: &Server, range: ByteRange, script: &[Quirks]) -> Result<Vec<u8>, StorageError> {
            let size = server.size();
            let mut cursor = DownloadCursor::new(range, None);
            let mut tail: Option<Tail<Vec<u8>>> = None;
            let mut delivered = Vec::new();
            let mut failures = 0;
            let well_behaved = Quirks { chunk: 7, ..Quirks::default() };
            // (One more for the whole object asked for after a piece of encoded bytes.)
            for request in 0..script.len() + 2 {
                let header = header(&cursor);
                if cursor.received() > 0 {
                    // Resumed from the next byte wanted: the range's next, or the whole's
                    // (a suffix kept as the tail of the whole).
                    let next =
                        if cursor.tail().is_some() { 0 } else { expected(range, size).start } + cursor.received();
                    let first =
                        header.as_deref().and_then(|header| asked(header, size).ok().flatten()).map(|(first, _)| first);
                    let whole = header.is_none() && !cursor.sends_range();
                    assert!(
                        next >= size || first == Some(next) || whole,
                        "asked {header:?} after {} bytes",
                        cursor.received()
                    );
                }
                let quirks = script.get(request).unwrap_or(&well_behaved);
                let Some(served) = server.answer(header.as_deref(), quirks) else {
                    cursor.refused()?;
                    return finish(cursor, tail, delivered);
                };
                if cursor.answered(cursor.request(), &served.answer)? == Taken::AskWhole {
                    continue;
                }
                if let (None, Some(want)) = (&tail, cursor.tail()) {
                    tail = Some(Tail::new(want));
                }
                let mut failure = None;
                for chunk in &served.chunks {
                    if cursor.rest_unwanted() {
                        break;
                    }
                    if let Some(kept) = cursor.deliver(chunk.len() as u64) {
                        let kept = &chunk[kept.start as usize..kept.end as usize];
                        if let Some(hasher) = cursor.hasher() {
                            hasher.update(kept);
                        }
                        match tail.as_mut() {
                            Some(tail) => tail.push(kept.to_vec()),
                            None => delivered.extend_from_slice(kept),
                        }
                    }
                }
                if served.fails && !cursor.rest_unwanted() {
                    failure = Some(StorageError::new(ErrorKind::Network, "the body broke"));
                }
                let failure = match failure {
                    Some(failure) => failure,
                    None => match cursor.ended() {
                        Ok(()) => return finish(cursor, tail, delivered),
                        Err(failure) => failure,
                    },
                };
                match cursor.after_break(&failure) {
                    AfterBreak::Complete => return finish(cursor, tail, delivered),
                    AfterBreak::Resume { fresh_budget } => {
                        failures = if fresh_budget { 1 } else { failures + 1 };
                        if failures > BUDGET {
                            return Err(failure);
                        }
                    }
                }
            }
            panic!("a well-behaved answer did not finish the download");
        }

        fn finish(
            mut cursor: DownloadCursor,
            tail: Option<Tail<Vec<u8>>>,
            mut delivered: Vec<u8>,
        ) -> Result<Vec<u8>, StorageError> {
            if let Some(Hashed { crc, expected: Some(expected) }) = cursor.take_hash() {
                integrity::check("download", crc.value(), expected)?;
            }
            if let Some(mut tail) = tail {
                tail.end();
                while let Some(chunk) = tail.pop() {
                    delivered.extend(chunk);
                }
            }
            Ok(delivered)
        }

        fn ranges() -> impl Strategy<Value = ByteRange> {
            prop_oneof![
                Just(WHOLE),
                (0u64..120, prop::option::of(0u64..120))
                    .prop_map(|(start, length)| ByteRange::From { start, end: length.map(|length| start + length) }),
                (1u64..120).prop_map(|length| ByteRange::Suffix { length }),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn every_byte_of_the_range_is_delivered_once_in_order_or_a_typed_error_says_why(
                object in prop::collection::vec(any::<u8>(), 0..100),
                stored in stored(),
                range in ranges(),
                script in prop::collection::vec(quirks(), 0..8),
            ) {
                let server = Server { object, stored };
                let wanted = expected(range, server.size());
                let outcome = download(&server, range, &script);
                match outcome {
                    Ok(bytes) => prop_assert_eq!(bytes, &server.object[wanted.start as usize..wanted.end as usize]),
                    Err(error) => {
                        let unsatisfiable = error.status_code == Some(416);
                        prop_assert!(
                            matches!(error.kind, ErrorKind::Network | ErrorKind::Unknown) || unsatisfiable,
                            "{error:?}"
                        );
                        prop_assert!(!unsatisfiable || wanted.is_empty() || server.refuses(range), "{error:?}");
                    }
                }
            }

            #[test]
            fn breaks_and_ignored_ranges_alone_end_in_success(
                object in prop::collection::vec(any::<u8>(), 1..100),
                stored in stored(),
                range in ranges(),
                script in prop::collection::vec(quirks(), 0..=BUDGET as usize),
            ) {
                // An honest server (every header it shows is right, and it says the length of
                // what it sends) that fails no more often than the budget allows.
                let script: Vec<Quirks> =
                    script.into_iter().map(|quirks| Quirks { shifted: false, hide_content_length: false, ..quirks }).collect();
                let server = Server { object, stored };
                let wanted = expected(range, server.size());
                match download(&server, range, &script) {
                    Ok(bytes) => prop_assert_eq!(bytes, &server.object[wanted.start as usize..wanted.end as usize]),
                    Err(error) => prop_assert!(
                        (wanted.is_empty() || server.refuses(range)) && error.status_code == Some(416),
                        "{error:?}"
                    ),
                }
            }
        }
    }
}
