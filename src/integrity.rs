//! CRC32C, the checksum GCS keeps for every object: computed as bytes pass, compared with
//! `X-Goog-Hash` or the object's metadata, and sent with uploads.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::{ErrorKind, StorageError};

/// A running CRC32C.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Crc32c(u32);

impl Crc32c {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0 = crc32c::crc32c_append(self.0, bytes);
    }

    pub fn value(self) -> u32 {
        self.0
    }

    /// GCS's form: base64 of the big-endian value.
    pub fn to_base64(self) -> String {
        encode(self.0)
    }
}

pub fn encode(crc: u32) -> String {
    STANDARD.encode(crc.to_be_bytes())
}

/// A base64 CRC32C as GCS sends it in resources and headers.
pub fn decode(value: &str) -> Option<u32> {
    let bytes = STANDARD.decode(value.trim()).ok()?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// The CRC32C in an `X-Goog-Hash: crc32c=...,md5=...` header.
pub fn crc32c_from_goog_hash(header: &str) -> Option<u32> {
    header.split(',').find_map(|part| part.trim().strip_prefix("crc32c=")).and_then(decode)
}

/// The header value that asks GCS to check an upload.
pub fn goog_hash_header(crc: Crc32c) -> String {
    format!("crc32c={}", crc.to_base64())
}

pub fn check(what: &str, computed: u32, expected: u32) -> Result<(), StorageError> {
    if computed == expected {
        return Ok(());
    }
    Err(StorageError::new(
        ErrorKind::IntegrityMismatch,
        format!("{what}: CRC32C mismatch (expected {}, computed {})", encode(expected), encode(computed)),
    ))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        let mut crc = Crc32c::default();
        crc.update(b"123456789");
        assert_eq!(crc.value(), 0xE306_9283);
        let mut empty = Crc32c::default();
        empty.update(b"");
        assert_eq!(empty.to_base64(), "AAAAAA==");
    }

    #[test]
    fn reads_gcs_header_and_resource_forms() {
        let mut crc = Crc32c::default();
        crc.update(b"hello world");
        let encoded = crc.to_base64();
        assert_eq!(decode(&encoded), Some(crc.value()));
        assert_eq!(crc32c_from_goog_hash(&format!("crc32c={encoded},md5=XrY7u+Ae7tCTyyK7j1rNww==")), Some(crc.value()));
        assert_eq!(crc32c_from_goog_hash(&format!("md5=abc, crc32c={encoded}")), Some(crc.value()));
        assert_eq!(crc32c_from_goog_hash("md5=abc"), None);
        assert_eq!(decode("not base64!"), None);
        assert_eq!(decode("AAAA"), None, "three bytes are not a CRC32C");
        assert_eq!(goog_hash_header(crc), format!("crc32c={encoded}"));
    }

    #[test]
    fn a_mismatch_is_an_integrity_error() {
        assert!(check("download", 1, 1).is_ok());
        let error = check("download", 1, 2).unwrap_err();
        assert_eq!(error.kind, ErrorKind::IntegrityMismatch);
        assert!(error.message.contains("AAAAAg==") && error.message.contains("AAAAAQ=="));
    }

    proptest! {
        #[test]
        fn hashing_in_chunks_equals_hashing_at_once(data in proptest::collection::vec(any::<u8>(), 0..4096), cut in 0usize..4096) {
            let cut = cut.min(data.len());
            let mut whole = Crc32c::default();
            whole.update(&data);
            let mut parts = Crc32c::default();
            parts.update(&data[..cut]);
            parts.update(&data[cut..]);
            prop_assert_eq!(whole, parts);
            prop_assert_eq!(decode(&whole.to_base64()), Some(whole.value()));
        }

        #[test]
        fn header_parsing_never_panics(value in ".*") {
            let _ = crc32c_from_goog_hash(&value);
        }
    }
}
