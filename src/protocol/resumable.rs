//! GCS resumable uploads: the session request, chunk headers, and reading how much the
//! server has. Pure; `upload` drives them. Chunks other than the last must be multiples
//! of 256 KiB.

use crate::prelude::*;
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
    end.trim_ascii().parse::<u64>().ok()?.checked_add(1)
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
