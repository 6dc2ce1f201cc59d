//! Byte ranges for partial downloads: `{start, end}` (end inclusive, as in HTTP and in
//! @google-cloud/storage) or `{suffix: n}`, checked and turned into a `Range` header.

use crate::prelude::*;
use crate::protocol::document::{Document, FieldError, Fields, FromDocument};
use crate::protocol::error::StorageError;
use crate::protocol::text;

/// The `range` option as JavaScript gives it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RangeOption {
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub suffix: Option<u64>,
}

impl FromDocument for RangeOption {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(RangeOption { start: fields.whole("start")?, end: fields.whole("end")?, suffix: fields.whole("suffix")? })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From `start` to `end` inclusive, or to the end of the object.
    From { start: u64, end: Option<u64> },
    /// The last `length` bytes.
    Suffix { length: u64 },
}

impl RangeOption {
    pub fn to_range(self) -> Result<ByteRange, StorageError> {
        match (self.start, self.end, self.suffix) {
            (None, None, Some(length)) if length > 0 => Ok(ByteRange::Suffix { length }),
            (None, None, Some(_)) => Err(StorageError::invalid_argument("range.suffix must be at least 1")),
            (_, _, Some(_)) => {
                Err(StorageError::invalid_argument("range takes either {start, end} or {suffix}, not both"))
            }
            (start, end, None) => {
                let start = start.unwrap_or(0);
                if end.is_some_and(|end| end < start) {
                    return Err(StorageError::invalid_argument(text!(
                        "range.end (",
                        end.unwrap_or_default(),
                        ") is before range.start (",
                        start,
                        "); end is inclusive"
                    )));
                }
                Ok(ByteRange::From { start, end })
            }
        }
    }
}

impl ByteRange {
    pub fn header_value(self) -> String {
        match self {
            ByteRange::From { start, end: Some(end) } => text!("bytes=", start, "-", end),
            ByteRange::From { start, end: None } => text!("bytes=", start, "-"),
            ByteRange::Suffix { length } => text!("bytes=-", length),
        }
    }

    /// The rest of this range after `received` bytes of it arrived, to resume a download.
    pub fn after(self, received: u64, object_size: Option<u64>) -> ByteRange {
        match self {
            ByteRange::From { start, end } => ByteRange::From { start: start + received, end },
            ByteRange::Suffix { length } => match object_size {
                Some(size) => ByteRange::From { start: size.saturating_sub(length) + received, end: None },
                None => ByteRange::Suffix { length: length.saturating_sub(received).max(1) },
            },
        }
    }

    /// Whether this range asks for the whole object (so a whole-object hash applies).
    pub fn is_whole(self) -> bool {
        matches!(self, ByteRange::From { start: 0, end: None })
    }
}

/// The object's total size from a `Content-Range: bytes a-b/total` answer.
pub fn total_from_content_range(value: &str) -> Option<u64> {
    text::parse_u64(text::rsplit_once(value.trim_ascii(), b'/')?.1.trim_ascii())
}

/// Checks a 206 answer's `Content-Range` against the range asked: it must start where the
/// range does (a suffix: that many bytes before the end). A header the runtime hides (CORS)
/// cannot be checked, and passes.
pub fn check_answer(asked: ByteRange, content_range: Option<&str>) -> Result<(), StorageError> {
    let Some(value) = content_range else { return Ok(()) };
    let first =
        text::split_once(value.trim_ascii(), b'-').and_then(|(unit, _)| text::parse_u64(unit.strip_prefix("bytes ")?));
    let expected = match asked {
        ByteRange::From { start, .. } => Some(start),
        ByteRange::Suffix { length } => total_from_content_range(value).map(|total| total.saturating_sub(length)),
    };
    if first.is_some() && (expected.is_none() || first == expected) {
        return Ok(());
    }
    Err(StorageError::malformed_response(
        "the server",
        &text!("its Content-Range (", value, ") is not the range asked for (", asked.header_value(), ")"),
    ))
}

/// The error for a range GCS could not satisfy (416).
pub fn unsatisfiable(range: ByteRange, object_size: Option<u64>) -> StorageError {
    let size = object_size.map(|size| text!(" of ", size, " bytes")).unwrap_or_default();
    StorageError::invalid_argument(text!("range ", range.header_value(), " is past the end of the object", size))
        .with_status(416)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::error::ErrorKind;

    fn range(start: Option<u64>, end: Option<u64>, suffix: Option<u64>) -> Result<ByteRange, StorageError> {
        RangeOption { start, end, suffix }.to_range()
    }

    #[test]
    fn headers_for_first_middle_open_and_suffix_ranges() {
        assert_eq!(range(None, Some(9), None).unwrap().header_value(), "bytes=0-9");
        assert_eq!(range(Some(10), Some(19), None).unwrap().header_value(), "bytes=10-19");
        assert_eq!(range(Some(10), None, None).unwrap().header_value(), "bytes=10-");
        assert_eq!(range(None, None, Some(5)).unwrap().header_value(), "bytes=-5");
        assert!(range(None, None, None).unwrap().is_whole());
        assert!(!range(Some(1), None, None).unwrap().is_whole());
    }

    #[test]
    fn contradictory_ranges_are_invalid_arguments() {
        for bad in [range(Some(5), Some(4), None), range(Some(1), None, Some(2)), range(None, None, Some(0))] {
            assert_eq!(bad.unwrap_err().kind, ErrorKind::InvalidArgument);
        }
        assert_eq!(range(Some(5), Some(5), None).unwrap().header_value(), "bytes=5-5");
    }

    #[test]
    fn resuming_continues_after_what_arrived() {
        assert_eq!(
            ByteRange::From { start: 10, end: Some(99) }.after(5, None),
            ByteRange::From { start: 15, end: Some(99) }
        );
        assert_eq!(ByteRange::Suffix { length: 10 }.after(4, Some(100)), ByteRange::From { start: 94, end: None });
        assert_eq!(ByteRange::Suffix { length: 10 }.after(4, None), ByteRange::Suffix { length: 6 });
    }

    #[test]
    fn a_suffix_resumed_in_full_never_asks_for_zero_bytes() {
        // `bytes=-0` is unsatisfiable on GCS (416): a resume must always ask for a byte.
        for received in [10, 11, 1000] {
            let resumed = ByteRange::Suffix { length: 10 }.after(received, None);
            assert_eq!(resumed, ByteRange::Suffix { length: 1 }, "after {received}");
            assert_eq!(resumed.header_value(), "bytes=-1");
        }
    }

    #[test]
    fn reads_the_total_from_content_range() {
        assert_eq!(total_from_content_range("bytes 0-9/100"), Some(100));
        assert_eq!(total_from_content_range("bytes */100"), Some(100));
        assert_eq!(total_from_content_range("bytes 0-9/*"), None);
        assert_eq!(total_from_content_range("garbage"), None);
    }

    #[test]
    fn a_partial_answer_must_start_where_the_range_does() {
        let from = |start, end| ByteRange::From { start, end };
        let suffix = ByteRange::Suffix { length: 10 };
        for (asked, header) in [
            (from(10, Some(19)), "bytes 10-19/100"),
            (from(10, Some(200)), "bytes 10-99/100"),
            (from(10, None), "bytes 10-99/*"),
            (suffix, "bytes 90-99/100"),
            (suffix, "bytes 0-4/5"),
            (suffix, "bytes 7-9/*"),
        ] {
            assert_eq!(check_answer(asked, Some(header)), Ok(()), "{header}");
        }
        assert_eq!(check_answer(from(10, Some(19)), None), Ok(()), "a hidden header passes");
        for (asked, header) in [
            (from(10, Some(19)), "bytes 0-19/100"),
            (suffix, "bytes 80-89/100"),
            (from(0, None), "garbage"),
            (from(0, None), "items 0-4/100"),
        ] {
            let error = check_answer(asked, Some(header)).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Unknown, "{header}");
            assert!(error.message.contains(header), "{}", error.message);
        }
    }

    #[test]
    fn past_the_end_names_the_range_and_size() {
        let error = unsatisfiable(ByteRange::From { start: 500, end: None }, Some(100));
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert_eq!(error.status_code, Some(416));
        assert!(error.message.contains("bytes=500-") && error.message.contains("100 bytes"), "{}", error.message);
    }
}
