//! GCS resumable uploads: the session request, chunk headers, and reading how much the
//! server has. Pure; `upload` drives them. Chunks other than the last must be multiples
//! of 256 KiB.

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::http::{Body, HttpRequest, Method};
use crate::protocol::text;

pub const CHUNK_GRANULARITY: u64 = 256 * 1024;

/// `Content-Range` for a chunk of `length` bytes at `offset` (`length` may be 0 for the
/// final, empty chunk of a stream that ended on a chunk boundary).
pub fn chunk_content_range(offset: u64, length: u64, total: Option<u64>) -> String {
    let total = total.map(|total| text!(total)).unwrap_or_else(|| "*".to_string());
    if length == 0 {
        text!("bytes */", total)
    } else {
        text!("bytes ", offset, "-", offset + length - 1, "/", total)
    }
}

/// One chunk sent to the session; the body is the caller's bytes.
pub fn chunk_request(session: &str, offset: u64, length: u64, total: Option<u64>) -> HttpRequest {
    let mut request = HttpRequest::new(Method::Put, session.to_string())
        .header("Content-Range", chunk_content_range(offset, length, total));
    if length > 0 {
        request.body = Body::Content;
    }
    request
}

/// A try that streams the rest of a source from `offset` in one request, its end unknown
/// when it starts (`Content-Range: bytes N-*/total`, `*` while the total is unknown): the
/// session takes the end of the body as the end of the object.
pub fn stream_request(session: &str, offset: u64, total: Option<u64>) -> HttpRequest {
    let total = total.map(|total| text!(total)).unwrap_or_else(|| "*".to_string());
    let mut request = HttpRequest::new(Method::Put, session.to_string())
        .header("Content-Range", text!("bytes ", offset, "-*/", total));
    request.body = Body::Content;
    request
}

/// Asks the session how many bytes it holds (answered with 308 and a `Range`).
pub fn status_request(session: &str, total: Option<u64>) -> HttpRequest {
    HttpRequest::new(Method::Put, session.to_string()).header("Content-Range", chunk_content_range(0, 0, total))
}

/// Ends a session the caller gave up on.
pub fn cancel_request(session: &str) -> HttpRequest {
    HttpRequest::new(Method::Delete, session.to_string())
}

/// Bytes the server holds, from a 308's `Range: bytes=0-N` (absent: none yet).
pub fn persisted_bytes(range_header: Option<&str>) -> Option<u64> {
    let Some(value) = range_header else { return Some(0) };
    let (start, end) = text::split_once(value.trim_ascii().strip_prefix("bytes=")?, b'-')?;
    if start.trim_ascii() != "0" {
        return None;
    }
    text::parse_u64(end.trim_ascii())?.checked_add(1)
}

/// How far an upload's bytes have gone into its hash. A resumable upload may send bytes again
/// (a try resumes from what the session holds, which may be less than was sent); each byte goes
/// into the CRC32C once, in order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HashFrontier {
    /// Bytes `0..hashed_to` are in the hash.
    pub hashed_to: u64,
}

impl HashFrontier {
    /// Of `length` bytes at `offset`, about to be sent, the part not hashed yet, as
    /// `(start within them, end within them)`; the frontier moves past them. `None` when all
    /// were hashed before, or when they start past the frontier (a gap: a session claiming
    /// bytes never sent), which the final check then reports as a mismatch.
    pub fn fresh(&mut self, offset: u64, length: u64) -> Option<(u64, u64)> {
        let end = offset.checked_add(length)?;
        if offset > self.hashed_to || end <= self.hashed_to {
            return None;
        }
        let start = self.hashed_to - offset;
        self.hashed_to = end;
        Some((start, length))
    }
}

/// Where a resumable upload stands between tries: the offset of the next send, and whether
/// the session must be asked first (after a failure the client cannot know what arrived).
/// The upload loop does the I/O; this decides from what the session said.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UploadCursor {
    offset: u64,
    ask_first: bool,
}

/// What the upload loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the bytes from `offset`.
    Send { offset: u64 },
    /// Ask the session how much it holds.
    AskStatus,
}

impl UploadCursor {
    pub fn next(&self) -> Next {
        if self.ask_first {
            Next::AskStatus
        } else {
            Next::Send { offset: self.offset }
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The session holds `persisted` bytes (a 308 to a send or to a status query). `Ok(true)`
    /// when that is more than before (the caller's backoff starts over). A status answer is
    /// the truth, even below what was sent (bytes in flight are lost). A send answered with
    /// no more than before is an error: a server or proxy hiding `Range` would otherwise make
    /// the loop send the same bytes forever.
    pub fn persisted(&mut self, persisted: u64) -> Result<bool, StorageError> {
        let advanced = persisted > self.offset;
        if self.ask_first || advanced {
            self.offset = persisted;
            self.ask_first = false;
            return Ok(advanced);
        }
        Err(StorageError::new(
            ErrorKind::Network,
            text!(
                "the upload session reports ",
                persisted,
                " bytes after a send at ",
                self.offset,
                "; is its Range header hidden (CORS)?"
            ),
        ))
    }

    /// A try failed (or its answer was unreadable): the next asks the session first.
    pub fn failed(&mut self) {
        self.ask_first = true;
    }
}

/// A chunk size that GCS accepts: a positive multiple of 256 KiB.
pub fn normalise_chunk_size(requested: u64) -> u64 {
    (requested / CHUNK_GRANULARITY).max(1) * CHUNK_GRANULARITY
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn content_ranges_for_middle_last_and_empty_chunks() {
        assert_eq!(chunk_content_range(0, 262_144, None), "bytes 0-262143/*");
        assert_eq!(chunk_content_range(262_144, 10, Some(262_154)), "bytes 262144-262153/262154");
        assert_eq!(chunk_content_range(524_288, 0, Some(524_288)), "bytes */524288");
    }

    #[test]
    fn chunk_and_status_requests() {
        let chunk = chunk_request("http://h/upload?upload_id=x", 0, 5, Some(5));
        assert_eq!(chunk.method, Method::Put);
        assert_eq!(chunk.body, Body::Content);
        assert_eq!(chunk.header_value("Content-Range"), Some("bytes 0-4/5"));
        let streamed = stream_request("http://h/upload?upload_id=x", 262_144, None);
        assert_eq!(streamed.header_value("Content-Range"), Some("bytes 262144-*/*"));
        assert_eq!(streamed.body, Body::Content);
        let declared = stream_request("http://h/upload?upload_id=x", 0, Some(9));
        assert_eq!(declared.header_value("Content-Range"), Some("bytes 0-*/9"));
        let status = status_request("http://h/upload?upload_id=x", None);
        assert_eq!(status.header_value("Content-Range"), Some("bytes */*"));
        assert_eq!(status.body, Body::Empty);
        assert_eq!(cancel_request("http://h/s").method, Method::Delete);
        // The empty last chunk of a body whose size was a multiple of the chunk size.
        let last = chunk_request("http://h/upload?upload_id=x", 5, 0, Some(5));
        assert_eq!(last.header_value("Content-Range"), Some("bytes */5"));
        assert_eq!(last.body, Body::Empty);
    }

    #[test]
    fn reads_what_the_server_holds() {
        assert_eq!(persisted_bytes(None), Some(0));
        assert_eq!(persisted_bytes(Some("bytes=0-262143")), Some(262_144));
        assert_eq!(persisted_bytes(Some("bytes=5-9")), None);
        assert_eq!(persisted_bytes(Some("nonsense")), None);
    }

    #[test]
    fn chunk_sizes_are_multiples_of_256_kib() {
        assert_eq!(normalise_chunk_size(0), CHUNK_GRANULARITY);
        assert_eq!(normalise_chunk_size(8 * 1024 * 1024 + 5), 8 * 1024 * 1024);
    }

    #[test]
    fn the_cursor_sends_from_what_the_session_holds() {
        let mut cursor = UploadCursor::default();
        assert_eq!(cursor.next(), Next::Send { offset: 0 });
        assert_eq!(cursor.persisted(10), Ok(true));
        assert_eq!(cursor.next(), Next::Send { offset: 10 });
        let stuck = cursor.persisted(10).unwrap_err();
        assert_eq!(stuck.kind, ErrorKind::Network);
        assert!(stuck.message.contains("reports 10 bytes after a send at 10"), "{}", stuck.message);
        assert!(cursor.persisted(4).is_err(), "a send answered with less than before");
        cursor.failed();
        assert_eq!(cursor.next(), Next::AskStatus);
        assert_eq!(cursor.persisted(4), Ok(false), "a status answer is the truth, even below what was sent");
        assert_eq!(cursor.next(), Next::Send { offset: 4 });
        cursor.failed();
        assert_eq!(cursor.persisted(4), Ok(false), "asked again: the same holding is no error");
        assert_eq!(cursor.offset(), 4);
        cursor.failed();
        assert_eq!(cursor.persisted(9), Ok(true));
        assert_eq!(cursor.next(), Next::Send { offset: 9 });
    }

    /// How a simulated upload ended without the source stored.
    #[derive(Debug)]
    enum Ended {
        Forgotten,
        BudgetSpent,
    }

    struct Simulated {
        held: u64,
        hashed: Vec<u64>,
    }

    /// Runs the upload loop as `upload` does, against a session that takes the faults in
    /// turn: (0: none, 1: the try breaks after a part and the session keeps part of that,
    /// 2: the answer is lost after everything arrived, 3: the status query fails) with the
    /// two fractions choosing where.
    fn simulate_upload(
        size: u64,
        capacity: u64,
        chunk: Option<u64>,
        faults: &[(u8, f64, f64)],
    ) -> Result<Simulated, Ended> {
        use crate::protocol::replay_buffer::ReplayBuffer;
        let source: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
        let mut faults = faults.iter().copied();
        let mut held = 0u64; // what the session holds
        let mut complete = false;
        let mut cursor = UploadCursor::default();
        let mut frontier = HashFrontier::default();
        let mut hashed = Vec::new();
        let mut replay: ReplayBuffer<Vec<u8>> = ReplayBuffer::new(capacity);
        let mut failures = 0;
        for _ in 0..200 {
            if failures > 8 {
                return Err(Ended::BudgetSpent);
            }
            let (fault, where_, kept) = faults.next().unwrap_or((0, 0.0, 0.0));
            match cursor.next() {
                Next::AskStatus => {
                    if fault == 3 {
                        failures += 1;
                        cursor.failed();
                        continue;
                    }
                    if complete {
                        break;
                    }
                    let _ = cursor.persisted(held);
                }
                Next::Send { offset } => {
                    assert_eq!(offset, held, "every send starts where the session stops");
                    // The bytes this try sends: a chunk of re-readable bytes, or the rest of
                    // the stream (what the replay buffer holds, then newly read pieces).
                    let end = chunk.map_or(size, |chunk| (offset + chunk).min(size));
                    let sent: Vec<u8> = match chunk {
                        Some(_) => source[offset as usize..end as usize].to_vec(),
                        None => {
                            // As the streamed body's pulls do: from the buffer while the
                            // position is behind what was read, else a new piece of 97 bytes.
                            let (mut at, mut sent) = (offset, Vec::new());
                            while at < size {
                                let piece = match replay.piece_at(at).map_err(|_| Ended::Forgotten)? {
                                    Some(piece) => piece,
                                    None => {
                                        let piece = source[at as usize..(at + 97).min(size) as usize].to_vec();
                                        replay.keep(piece.clone());
                                        piece
                                    }
                                };
                                at += piece.len() as u64;
                                sent.extend_from_slice(&piece);
                            }
                            sent
                        }
                    };
                    assert_eq!(sent, source[offset as usize..end as usize], "nothing past the source, nothing else");
                    if let Some((start, stop)) = frontier.fresh(offset, end - offset) {
                        hashed.extend(offset + start..offset + stop);
                    }
                    match fault {
                        1 => {
                            let arrived = ((end - offset) as f64 * where_) as u64;
                            held = offset + (arrived as f64 * kept) as u64;
                            failures += 1;
                            cursor.failed();
                        }
                        2 => {
                            held = end;
                            complete = end == size;
                            failures += 1;
                            cursor.failed();
                        }
                        _ => {
                            held = end;
                            if end == size {
                                complete = true;
                                break;
                            }
                            if cursor.persisted(held).is_err() {
                                failures += 1;
                                cursor.failed();
                            }
                        }
                    }
                    if chunk.is_none() {
                        replay.confirm(cursor.offset());
                    }
                }
            }
        }
        assert!(complete, "the loop ended without finishing or failing");
        Ok(Simulated { held, hashed })
    }

    #[test]
    fn the_frontier_hashes_only_what_is_new() {
        let mut frontier = HashFrontier::default();
        assert_eq!(frontier.fresh(0, 10), Some((0, 10)));
        assert_eq!(frontier.fresh(0, 10), None, "sent again: hashed already");
        assert_eq!(frontier.fresh(4, 10), Some((6, 10)), "resumed before the frontier: only the new tail");
        assert_eq!(frontier.hashed_to, 14);
        assert_eq!(frontier.fresh(14, 0), None);
        assert_eq!(frontier.fresh(15, 5), None, "a gap is never hashed");
        assert_eq!(frontier.hashed_to, 14);
        assert_eq!(frontier.fresh(u64::MAX, 1), None);
    }

    proptest! {
        /// Whatever offsets the tries resume from (never past what was sent), the hashed
        /// pieces are the bytes from 0 to the furthest end, each once and in order.
        #[test]
        fn every_byte_is_hashed_once_in_order(sends in proptest::collection::vec((0.0f64..=1.0, 0u64..64), 1..40)) {
            let mut frontier = HashFrontier::default();
            let mut hashed: Vec<u64> = Vec::new();
            let mut furthest = 0u64;
            for (back, length) in sends {
                let offset = (furthest as f64 * back) as u64;
                if let Some((start, end)) = frontier.fresh(offset, length) {
                    hashed.extend(offset + start..offset + end);
                }
                furthest = furthest.max(offset + length);
            }
            prop_assert_eq!(hashed, (0..furthest).collect::<Vec<_>>());
            prop_assert_eq!(frontier.hashed_to, furthest);
        }

        /// The upload loop's decisions against a simulated session that breaks tries at random
        /// points and keeps a random part of what arrived (GCS keeps what arrived; bytes in
        /// flight are lost): whole-stream tries from a replay buffer, or chunks of bytes that
        /// can be read again. Every send starts where the session stops, every byte is hashed
        /// once and in order, nothing past the source is sent, and the upload ends with the
        /// session holding exactly the source, or a typed error: the replay buffer no longer
        /// holds what the session lost, or the retry budget ran out.
        #[test]
        fn the_upload_loop_ends_with_the_source_stored_or_a_typed_error(
            size in 0u64..4096,
            capacity in 1u64..2048,
            chunk in prop_oneof![Just(None), (64u64..1024).prop_map(Some)],
            faults in proptest::collection::vec((0u8..4, 0.0f64..=1.0, 0.0f64..=1.0), 0..12),
        ) {
            let outcome = simulate_upload(size, capacity, chunk, &faults);
            match outcome {
                Ok(simulated) => {
                    prop_assert_eq!(simulated.held, size);
                    prop_assert_eq!(simulated.hashed, (0..size).collect::<Vec<_>>());
                }
                Err(Ended::Forgotten) => prop_assert!(chunk.is_none(), "chunks of re-readable bytes never lose data"),
                Err(Ended::BudgetSpent) => {}
            }
        }
        #[test]
        fn persisted_bytes_never_panics(value in ".*") {
            let _ = persisted_bytes(Some(&value));
        }

        #[test]
        fn content_range_covers_exactly_the_chunk(offset in 0u64..1 << 40, length in 1u64..1 << 30) {
            let header = chunk_content_range(offset, length, None);
            let (first, last) = header.strip_prefix("bytes ").unwrap().strip_suffix("/*").unwrap().split_once('-').unwrap();
            prop_assert_eq!(last.parse::<u64>().unwrap() - first.parse::<u64>().unwrap() + 1, length);
        }
    }
}
