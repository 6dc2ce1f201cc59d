//! Searching, splitting and replacing in the client's short texts (error messages, header
//! values). `str::contains(&str)` and `str::replace` bring core's two-way searcher and its
//! panic paths into the wasm, ~3 KiB for texts of a few hundred bytes; char patterns bring
//! the char searchers. These work on bytes: every separator the protocol uses is ASCII, so
//! a split at one leaves whole UTF-8 on both sides.

use crate::prelude::*;

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.as_bytes().windows(needle.len()).position(|window| window == needle.as_bytes())
}

pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// What `text!` joins.
pub trait Piece {
    fn append_to(&self, out: &mut String);
}

impl Piece for str {
    fn append_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn append_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn append_to(&self, out: &mut String) {
        (**self).append_to(out);
    }
}

impl Piece for u64 {
    /// In decimal. Leading digits first, by recursion: an indexed digit buffer would bring in
    /// core's bounds-check panic, and with it `core::fmt`'s number formatting.
    fn append_to(&self, out: &mut String) {
        if *self >= 10 {
            (*self / 10).append_to(out);
        }
        out.push(char::from(b'0' + (*self % 10) as u8));
    }
}

macro_rules! widened_piece {
    ($($narrow:ty),+) => {$(
        impl Piece for $narrow {
            fn append_to(&self, out: &mut String) {
                (*self as u64).append_to(out);
            }
        }
    )+};
}
widened_piece!(u32, u16, usize);

/// `text` around the first `separator` (ASCII).
pub fn split_once(text: &str, separator: u8) -> Option<(&str, &str)> {
    split_at(text, text.bytes().position(|byte| byte == separator)?)
}

/// The pieces of `text` between `separator`s (ASCII), as `str::split` gives them.
pub fn split(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let current = rest?;
        let (piece, after) =
            split_once(current, separator).map_or((current, None), |(piece, after)| (piece, Some(after)));
        rest = after;
        Some(piece)
    })
}

/// `text` around the last `separator` (ASCII).
pub fn rsplit_once(text: &str, separator: u8) -> Option<(&str, &str)> {
    split_at(text, text.bytes().rposition(|byte| byte == separator)?)
}

fn split_at(text: &str, at: usize) -> Option<(&str, &str)> {
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` as a decimal `u64`, as `str::parse` reads one (an optional `+`, then digits, and
/// none when it overflows): core's is generic over radix and sign, 0.35 KiB of wasm.
pub fn parse_u64(text: &str) -> Option<u64> {
    let digits = match text.as_bytes() {
        [b'+', rest @ ..] => rest,
        all => all,
    };
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |number, &byte| {
        byte.is_ascii_digit().then_some(())?;
        number.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
    })
}

/// Whether `text` holds any of `bytes` (ASCII).
pub fn contains_any(text: &str, bytes: &[u8]) -> bool {
    text.bytes().any(|byte| is_one_of(byte, bytes))
}

/// Whether `byte` is in `set`, a few bytes: `<[u8]>::contains` is core's memchr, 0.35 KiB
/// of wasm for sets this small.
#[allow(clippy::manual_contains)]
pub fn is_one_of(byte: u8, set: &[u8]) -> bool {
    set.iter().any(|&member| member == byte)
}

/// `haystack` with every occurrence of `needle` (not empty) replaced by `with`.
pub fn replace(haystack: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = find(rest, needle).filter(|_| !needle.is_empty()) {
        // `at` and `at + needle.len()` are char boundaries (`needle` is whole UTF-8), so
        // `get` always succeeds; unlike indexing it has no panic path.
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push_str(with);
        rest = rest.get(at + needle.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_and_replaces() {
        assert!(contains("No such object: b/o", "No such object"));
        assert!(!contains("abc", "abcd"));
        assert_eq!(replace("a token ya29 and ya29.", "ya29", "[x]"), "a token [x] and [x].");
        assert_eq!(replace("ééé", "é", "e"), "eee");
        assert_eq!(replace("abc", "", "x"), "abc");
    }

    #[test]
    fn joins_texts_and_numbers() {
        assert_eq!(text!("a", String::from("b"), 0u64, " ", u64::MAX, 7u16, 42usize), "ab0 18446744073709551615742");
        assert_eq!(text!("x", 10u32), "x10");
    }

    proptest! {
        #[test]
        fn numbers_read_as_core_writes_them(number: u64) {
            prop_assert_eq!(text!(number), number.to_string());
        }

        #[test]
        fn splits_as_core_does(text in "[a,/é€]{0,12}", separator in "[,/]") {
            let byte = separator.as_bytes()[0];
            prop_assert_eq!(split_once(&text, byte), text.split_once(separator.as_str()));
            prop_assert_eq!(split(&text, byte).collect::<Vec<_>>(), text.split(separator.as_str()).collect::<Vec<_>>());
            prop_assert_eq!(rsplit_once(&text, byte), text.rsplit_once(separator.as_str()));
            prop_assert_eq!(contains_any(&text, b",/"), text.contains([',', '/']));
        }

        #[test]
        fn reads_numbers_as_core_does(text in "[+0-9a ]{0,22}|[0-9]{19,21}") {
            prop_assert_eq!(parse_u64(&text), text.parse::<u64>().ok());
        }

        #[test]
        fn finds_a_byte_as_core_does(byte: u8, set in proptest::collection::vec(proptest::num::u8::ANY, 0..6)) {
            prop_assert_eq!(is_one_of(byte, &set), set.contains(&byte));
        }

        #[test]
        fn agrees_with_core(haystack in "[ab€]{0,12}", needle in "[ab€]{0,3}", with in "[xy]{0,2}") {
            prop_assert_eq!(contains(&haystack, &needle), haystack.contains(needle.as_str()));
            prop_assert_eq!(find(&haystack, &needle), haystack.find(needle.as_str()));
            if !needle.is_empty() {
                prop_assert_eq!(replace(&haystack, &needle, &with), haystack.replace(needle.as_str(), &with));
            }
        }
    }
}
