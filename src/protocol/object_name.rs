//! Object names: GCS's naming rules, checked before any request, and the percent-encoding
//! that keeps every name inside its own URL segment or query value, whatever it contains.

use crate::prelude::*;
use crate::protocol::error::StorageError;
use crate::protocol::text;

pub const MAX_NAME_BYTES: usize = 1024;

/// Checks a name against GCS's rules; the error names the rule that was broken.
pub fn validate(name: &str) -> Result<(), StorageError> {
    if name.is_empty() {
        return Err(StorageError::invalid_argument("object name must not be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(StorageError::invalid_argument(text!(
            "object name must be at most ",
            MAX_NAME_BYTES,
            " bytes of UTF-8 (got ",
            name.len(),
            ")"
        )));
    }
    if text::contains_any(name, b"\r\n") {
        return Err(StorageError::invalid_argument("object name must not contain carriage return or line feed"));
    }
    if name == "." || name == ".." {
        return Err(StorageError::invalid_argument("object name must not be \".\" or \"..\""));
    }
    if name.starts_with(".well-known/acme-challenge/") {
        return Err(StorageError::invalid_argument("object name must not start with \".well-known/acme-challenge/\""));
    }
    Ok(())
}

/// Percent-encodes a value for one URL path segment or one query value: every byte but RFC
/// 3986's unreserved characters, so `/`, `?`, `#`, `%`, `+` and spaces can never change which
/// path or query is requested.
pub fn encode_component(value: &str) -> String {
    percent_encode(value, b"-._~")
}

/// Percent-encodes every byte of `value` but ASCII letters, digits and `keep`.
pub fn percent_encode(value: &str, keep: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || text::is_one_of(byte, keep) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::error::ErrorKind;

    #[test]
    fn encodes_a_hostile_name_as_one_segment() {
        assert_eq!(encode_component("dir/sp ace#?ü+%.txt"), "dir%2Fsp%20ace%23%3F%C3%BC%2B%25.txt");
        assert_eq!(encode_component("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode_component("../x"), "..%2Fx");
    }

    proptest::proptest! {
        #[test]
        fn encodes_as_the_percent_encoding_crate_does(value: String) {
            use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
            const UNRESERVED_KEPT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
            proptest::prop_assert_eq!(encode_component(&value), utf8_percent_encode(&value, UNRESERVED_KEPT).to_string());
        }
    }

    #[test]
    fn accepts_ordinary_and_unusual_but_legal_names() {
        for name in ["a", "dir/file.txt", "dir/../x", ". ", "ü/日本/😀", "%2F", &"x".repeat(1024)] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refuses_names_gcs_forbids_naming_the_rule() {
        let cases = [
            ("", "empty"),
            ("a\nb", "line feed"),
            ("a\rb", "carriage return"),
            (".", "\".\""),
            ("..", "\"..\""),
            (".well-known/acme-challenge/token", "acme-challenge"),
        ];
        for (name, rule) in cases {
            let error = validate(name).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument);
            assert!(error.message.contains(rule), "{name:?}: {}", error.message);
        }
        let long = "é".repeat(513);
        assert!(validate(&long).unwrap_err().message.contains("1024 bytes"));
    }
}
