//! The `Range` header of a request for a served object (RFC 9110 §14.2), read as the npm `send`
//! package reads it (`range-parser` with `combine: true`): byte ranges that overlap or touch are
//! merged, and only a request that comes down to one range gets a partial answer. A header that
//! is not `bytes=` syntax is ignored (the whole object); a range whose last byte is before its
//! first cannot be satisfied, as `range-parser` has it (RFC 9110 lets a server ignore or refuse
//! it). Two differences, both RFC 9110's: the unit is case-insensitive, and a suffix of an
//! empty object is the (empty) whole object rather than a 416.

use crate::prelude::*;
use crate::protocol::text;

/// What a `Range` header asks of an object of a known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: absent, another unit, invalid syntax, several separate ranges, or a
    /// suffix of an empty object. Answer with the whole object.
    Whole,
    /// Bytes `start..=end`, within the object.
    Partial { start: u64, end: u64 },
    /// Valid syntax, but no range overlaps the object: 416.
    Unsatisfiable,
}

/// One `range-spec`, before the object's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-` or `first-last`.
    From { first: u64, last: Option<u64> },
    /// `-length`: the last `length` bytes.
    Suffix { length: u64 },
}

/// Decimal digits (at least one), saturating: a position past any object is unsatisfiable,
/// not invalid.
fn position(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |value, digit| value.saturating_mul(10).saturating_add(u64::from(digit - b'0'))))
}

/// One element of the list; `None` when it is not `first-last`, `first-` or `-length`.
/// A last position before the first makes a range that nothing satisfies.
fn spec(text: &str) -> Option<Spec> {
    let (first, last) = text::split_once(text, b'-')?;
    let (first, last) = (first.trim_ascii(), last.trim_ascii());
    if first.is_empty() {
        return Some(Spec::Suffix { length: position(last)? });
    }
    let first = position(first)?;
    if last.is_empty() {
        return Some(Spec::From { first, last: None });
    }
    Some(Spec::From { first, last: Some(position(last)?) })
}

/// The specs of a `bytes=` header, or `None` when it is not one or any element is malformed.
fn specs(header: &str) -> Option<Vec<Spec>> {
    let (unit, set) = text::split_once(header.trim_ascii(), b'=')?;
    if !unit.trim_ascii().eq_ignore_ascii_case("bytes") {
        return None;
    }
    text::split(set, b',').map(spec).collect()
}

/// What `header` asks of an object of `size` bytes.
pub fn parse(header: &str, size: u64) -> RangeRequest {
    let Some(specs) = specs(header) else { return RangeRequest::Whole };
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut empty_suffix = false;
    for spec in specs {
        let range = match spec {
            Spec::From { first, .. } if first >= size => None,
            Spec::From { first, last: Some(last) } if last < first => None,
            Spec::From { first, last } => Some((first, last.map_or(size - 1, |last| last.min(size - 1)))),
            Spec::Suffix { length: 0 } => None,
            Spec::Suffix { .. } if size == 0 => {
                empty_suffix = true;
                None
            }
            Spec::Suffix { length } => Some((size - length.min(size), size - 1)),
        };
        ranges.extend(range);
    }
    if ranges.is_empty() {
        // A non-empty suffix of an empty object is satisfiable but has no bytes to send in a
        // 206 (`Content-Range` cannot say an empty range): send the (empty) whole.
        return if empty_suffix { RangeRequest::Whole } else { RangeRequest::Unsatisfiable };
    }
    ranges.sort_unstable();
    let (start, mut end) = ranges[0];
    for &(next_start, next_end) in &ranges[1..] {
        if next_start > end.saturating_add(1) {
            return RangeRequest::Whole; // separate ranges: no multipart answers, as `send`
        }
        end = end.max(next_end);
    }
    RangeRequest::Partial { start, end }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use RangeRequest::{Partial, Unsatisfiable, Whole};

    #[test]
    fn first_last_open_ended_and_suffix() {
        assert_eq!(parse("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(parse("bytes=10-", 100), Partial { start: 10, end: 99 });
        assert_eq!(parse("bytes=-5", 100), Partial { start: 95, end: 99 });
        assert_eq!(parse("bytes=5-5", 100), Partial { start: 5, end: 5 });
    }

    #[test]
    fn ranges_are_clipped_to_the_object() {
        assert_eq!(parse("bytes=90-1000", 100), Partial { start: 90, end: 99 });
        assert_eq!(parse("bytes=-1000", 100), Partial { start: 0, end: 99 });
        assert_eq!(parse("bytes=99-", 100), Partial { start: 99, end: 99 });
        assert_eq!(parse("bytes=0-", 100), Partial { start: 0, end: 99 });
        assert_eq!(parse("bytes=0-99999999999999999999999", 100), Partial { start: 0, end: 99 });
    }

    #[test]
    fn past_the_end_is_unsatisfiable() {
        assert_eq!(parse("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(parse("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse("bytes=99999999999999999999999-", 100), Unsatisfiable);
        assert_eq!(parse("bytes=200-300,400-", 100), Unsatisfiable);
    }

    #[test]
    fn last_before_first_is_unsatisfiable_as_range_parser_has_it() {
        assert_eq!(parse("bytes=5-2", 100), Unsatisfiable);
        assert_eq!(parse("bytes=0-5,7-3", 100), Partial { start: 0, end: 5 });
    }

    #[test]
    fn a_suffix_of_an_empty_object_is_the_empty_whole() {
        assert_eq!(parse("bytes=-5", 0), Whole);
        assert_eq!(parse("bytes=-0", 0), Unsatisfiable);
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=0-1,",
            "bytes=0-1, ,",
            "bytes=abc",
            "bytes=-",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=0x10-",
            "items=0-5",
            "bytes=0-5,abc",
            "0-5",
        ] {
            assert_eq!(parse(header, 100), Whole, "{header:?}");
        }
    }

    #[test]
    fn units_and_whitespace_are_tolerated() {
        assert_eq!(parse("Bytes=0-1", 100), Partial { start: 0, end: 1 });
        assert_eq!(parse(" bytes = 0-1 ", 100), Partial { start: 0, end: 1 });
        assert_eq!(parse("bytes=1 - 2", 100), Partial { start: 1, end: 2 });
        assert_eq!(parse("bytes= 0-1 , 2-3", 100), Partial { start: 0, end: 3 });
    }

    #[test]
    fn several_ranges_combine_when_they_touch_or_overlap_else_whole() {
        assert_eq!(parse("bytes=0-4,5-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(parse("bytes=5-9,0-6", 100), Partial { start: 0, end: 9 });
        assert_eq!(parse("bytes=0-4,-96", 100), Partial { start: 0, end: 99 });
        assert_eq!(parse("bytes=0-4,6-9", 100), Whole);
        assert_eq!(parse("bytes=0-0,-1", 100), Whole);
        // Unsatisfiable members are dropped; what remains decides.
        assert_eq!(parse("bytes=0-4,500-", 100), Partial { start: 0, end: 4 });
    }

    proptest! {
        #[test]
        fn a_single_range_stays_within_the_object(first in 0u64..300, length in 0u64..300, size in 0u64..200) {
            let last = first + length;
            match parse(&format!("bytes={first}-{last}"), size) {
                Partial { start, end } => {
                    prop_assert_eq!(start, first);
                    prop_assert_eq!(end, last.min(size - 1));
                }
                Unsatisfiable => prop_assert!(first >= size),
                Whole => prop_assert!(false, "a valid single range is never ignored"),
            }
        }

        #[test]
        fn a_suffix_is_the_tail(length in 1u64..300, size in 1u64..200) {
            prop_assert_eq!(parse(&format!("bytes=-{length}"), size), Partial { start: size - length.min(size), end: size - 1 });
        }

        #[test]
        fn any_header_gives_a_range_inside_the_object(header in "(bytes|x)=[0-9,\\- ]{0,16}", size in 0u64..50) {
            if let Partial { start, end } = parse(&header, size) {
                prop_assert!(start <= end && end < size, "{header} on {size}: {start}-{end}");
            }
        }
    }
}
