//! GCS's rules for bucket names, checked where a bucket comes from text the client parses
//! (Replit's `/bucket/prefix` environment paths) so a typo is named before any request.

use crate::prelude::*;
use crate::protocol::text;

/// Why `name` is not a bucket name GCS accepts, or `None` when it is one. The rules
/// (cloud.google.com/storage/docs/buckets#naming): 3 to 63 characters (up to 222 with dots,
/// each dot-separated part at most 63); lowercase letters, digits, `-`, `_` and `.`; a letter
/// or digit first and last; not an IPv4 address; not starting with `goog`; no `google`.
pub fn problem(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    let dotted = text::is_one_of(b'.', bytes);
    if bytes.len() < 3 || bytes.len() > if dotted { 222 } else { 63 } {
        return Some("a bucket name has 3 to 63 characters (222 with dots)");
    }
    if !bytes.iter().all(|&byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || text::is_one_of(byte, b"-_.")) {
        return Some("a bucket name has only lowercase letters, digits, '-', '_' and '.'");
    }
    let alphanumeric = |byte: Option<&u8>| byte.is_some_and(|byte| byte.is_ascii_alphanumeric());
    if !alphanumeric(bytes.first()) || !alphanumeric(bytes.last()) {
        return Some("a bucket name starts and ends with a letter or digit");
    }
    if bytes.split(|&byte| byte == b'.').any(|part| part.is_empty() || part.len() > 63) {
        return Some("each dot-separated part of a bucket name has 1 to 63 characters");
    }
    if is_ipv4(bytes) {
        return Some("a bucket name cannot be an IP address");
    }
    if bytes.starts_with(b"goog") || bytes.windows(6).any(|window| window == b"google" || window == b"g00gle") {
        return Some("a bucket name cannot start with \"goog\" or contain \"google\"");
    }
    None
}

/// Four dot-separated decimal numbers, as GCS refuses them.
fn is_ipv4(bytes: &[u8]) -> bool {
    let parts: Vec<&[u8]> = bytes.split(|&byte| byte == b'.').collect();
    parts.len() == 4
        && parts.iter().all(|part| !part.is_empty() && part.len() <= 3 && part.iter().all(u8::is_ascii_digit))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_replit_buckets_and_gcs_examples() {
        for name in [
            "replit-objstore-0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "my-travel-maps",
            "0f75d593",
            "test_bucket",
            "example.com.bucket",
            "a.b.c",
        ] {
            assert_eq!(problem(name), None, "{name}");
        }
    }

    #[test]
    fn refuses_what_gcs_refuses() {
        for name in [
            "",
            "ab",
            "My-Bucket",
            "bucket!",
            "-bucket",
            "bucket-",
            "_bucket",
            "a..b",
            ".ab",
            "ab.",
            "192.168.5.4",
            "goog-bucket",
            "my-google-bucket",
            "g00gle-maps",
            "gs:",
            "bucket name",
        ] {
            assert!(problem(name).is_some(), "{name:?} should be refused");
        }
        assert!(problem(&"a".repeat(64)).is_some());
        assert_eq!(problem(&"a".repeat(63)), None);
        let long_dotted = [&"a".repeat(63)[..], &"b".repeat(63), &"c".repeat(63), &"d".repeat(30)].join(".");
        assert_eq!(long_dotted.len(), 222);
        assert_eq!(problem(&long_dotted), None);
        assert!(problem(&(long_dotted + "e")).is_some());
        assert!(problem(&format!("{}.b", "a".repeat(64))).is_some(), "a part over 63");
        assert_eq!(problem("192.168.5.4a"), None, "not an address");
    }

    proptest! {
        #[test]
        fn names_built_by_the_rules_are_accepted(name in "[a-z0-9][a-z0-9_-]{1,40}[a-z0-9]") {
            prop_assume!(!name.starts_with("goog") && !name.contains("google") && !name.contains("g00gle"));
            prop_assert_eq!(problem(&name), None);
        }

        #[test]
        fn any_uppercase_or_other_character_is_refused(
            before in "[a-z0-9]{1,10}",
            bad in "[A-Z !/:@#%+=\\\\\u{e9}\u{20ac}]",
            after in "[a-z0-9]{1,10}",
        ) {
            let name = format!("{before}{bad}{after}");
            prop_assert!(problem(&name).is_some(), "{} should be refused", name);
        }
    }
}
