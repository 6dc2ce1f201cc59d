//! An object's metadata as GCS's object resource gives it, read once for every use: the
//! public `getMetadata`/`listPage` results, the integrity checks of downloads and uploads,
//! and the headers `serve` sends. Field names follow GCS (and `@google-cloud/storage`), so code
//! moving from Google's client keeps working; 64-bit numbers arrive as strings.

use crate::prelude::*;
use crate::protocol::document::{required, string_entries, Document, FieldError, Fields, FromDocument};
use crate::protocol::text;

/// The fields of an object resource the client reads or hands on. Absent fields are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMetadata {
    pub name: String,
    pub bucket: Option<String>,
    /// Bytes stored (GCS sends it as a decimal string).
    pub size: Option<u64>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub cache_control: Option<String>,
    pub etag: Option<String>,
    /// Kept as the decimal string GCS sends: generations exceed 2^53.
    pub generation: Option<String>,
    pub metageneration: Option<String>,
    pub time_created: Option<String>,
    pub updated: Option<String>,
    /// Base64 of the big-endian CRC32C, as GCS gives it.
    pub crc32c: Option<String>,
    pub md5_hash: Option<String>,
    /// Custom metadata (`metadata` in the resource), in the order the answer lists it.
    pub metadata: Vec<(String, String)>,
}

/// The optional string fields, GCS's name beside where each goes. One table serves reading
/// here and the conversion to JavaScript, so the two cannot disagree on a name.
pub const STRING_FIELDS: [&str; 12] = [
    "bucket",
    "contentType",
    "contentEncoding",
    "contentDisposition",
    "cacheControl",
    "etag",
    "generation",
    "metageneration",
    "timeCreated",
    "updated",
    "crc32c",
    "md5Hash",
];

/// Every field read here, as a `fields` projection names them, so a listing asks for no more.
pub fn projection() -> String {
    let mut fields = String::from("name,size,metadata");
    for field in STRING_FIELDS {
        fields.push(',');
        fields.push_str(field);
    }
    fields
}

impl ObjectMetadata {
    /// The optional string fields in `STRING_FIELDS` order.
    pub fn string_fields(&self) -> [Option<&str>; 12] {
        [
            self.bucket.as_deref(),
            self.content_type.as_deref(),
            self.content_encoding.as_deref(),
            self.content_disposition.as_deref(),
            self.cache_control.as_deref(),
            self.etag.as_deref(),
            self.generation.as_deref(),
            self.metageneration.as_deref(),
            self.time_created.as_deref(),
            self.updated.as_deref(),
            self.crc32c.as_deref(),
            self.md5_hash.as_deref(),
        ]
    }

    /// The custom metadata value under `key`.
    pub fn custom(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }
}

/// Whether a body sent with this `Content-Encoding` (or stored with this `contentEncoding`)
/// reaches the caller decoded: fetch decodes the codings it knows (gzip, deflate, br, zstd)
/// whatever was asked, and GCS serves a gzip-stored object decompressed, so the bytes are not
/// the ones its length and CRC32C describe, and no `Range` of them can be read (GCS applies it
/// to the stored bytes, of which fetch cannot decode a piece, or, for gzip, ignores it).
pub fn is_coded(encoding: Option<&str>) -> bool {
    encoding.is_some_and(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
}

impl FromDocument for ObjectMetadata {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        // Filled in place: a struct literal of fourteen fields read with `?` compiles a drop of
        // each field already read on every early return (~3 KiB of wasm).
        let mut meta = ObjectMetadata::default();
        for (slot, key) in meta.string_slots().into_iter().zip(STRING_FIELDS) {
            *slot = fields.string(key)?;
        }
        meta.name = required("name", fields.string("name")?)?;
        meta.size = fields.string("size")?.map(|size| decimal("size", &size)).transpose()?;
        meta.metadata = custom_metadata(fields)?;
        Ok(meta)
    }
}

impl ObjectMetadata {
    /// The optional string fields in `STRING_FIELDS` order, to fill.
    fn string_slots(&mut self) -> [&mut Option<String>; 12] {
        [
            &mut self.bucket,
            &mut self.content_type,
            &mut self.content_encoding,
            &mut self.content_disposition,
            &mut self.cache_control,
            &mut self.etag,
            &mut self.generation,
            &mut self.metageneration,
            &mut self.time_created,
            &mut self.updated,
            &mut self.crc32c,
            &mut self.md5_hash,
        ]
    }
}

/// A 64-bit count sent as a decimal string.
fn decimal(key: &str, value: &str) -> Result<u64, FieldError> {
    let digits = !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit());
    digits.then(|| text::parse_u64(value)).flatten().ok_or_else(|| text!("`", key, "` must be a decimal string"))
}

/// `metadata`: an object whose values are strings. A `null` value (a key being removed, as
/// some servers echo it) is left out.
fn custom_metadata<D: Document>(fields: &Fields<'_, D>) -> Result<Vec<(String, String)>, FieldError> {
    let Some(object) = fields.raw("metadata") else { return Ok(Vec::new()) };
    let entries = string_entries(&object, "metadata", "a string")?;
    Ok(entries.into_iter().filter_map(|(key, value)| Some((key, value?))).collect())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;

    const FULL: &str = r#"{
        "kind": "storage#object", "id": "b/dir/a.txt/1700000000000001", "name": "dir/a.txt",
        "bucket": "b", "generation": "1700000000000001", "metageneration": "3",
        "contentType": "text/plain", "contentEncoding": "gzip", "contentDisposition": "inline",
        "cacheControl": "no-cache", "size": "18446744073709551615", "md5Hash": "XrY7u+Ae7tCTyyK7j1rNww==",
        "crc32c": "yZRlqg==", "etag": "CIGAgICAgICAAxAD", "timeCreated": "2026-01-02T03:04:05.678Z",
        "updated": "2026-01-02T03:04:06.000Z", "metadata": {"custom:aclPolicy": "{\"owner\":\"u1\"}", "k": "v"}
    }"#;

    #[test]
    fn every_field_of_a_full_resource_is_read() {
        let meta: ObjectMetadata = from_json(FULL).unwrap();
        assert_eq!(meta.name, "dir/a.txt");
        assert_eq!(meta.size, Some(u64::MAX));
        assert_eq!(
            meta.string_fields(),
            [
                Some("b"),
                Some("text/plain"),
                Some("gzip"),
                Some("inline"),
                Some("no-cache"),
                Some("CIGAgICAgICAAxAD"),
                Some("1700000000000001"),
                Some("3"),
                Some("2026-01-02T03:04:05.678Z"),
                Some("2026-01-02T03:04:06.000Z"),
                Some("yZRlqg=="),
                Some("XrY7u+Ae7tCTyyK7j1rNww=="),
            ]
        );
        assert_eq!(
            meta.metadata,
            vec![("custom:aclPolicy".into(), r#"{"owner":"u1"}"#.into()), ("k".into(), "v".into())]
        );
        assert_eq!(meta.custom("k"), Some("v"));
        assert_eq!(meta.custom("missing"), None);
    }

    #[test]
    fn absent_fields_stay_absent() {
        let meta: ObjectMetadata = from_json(r#"{"name": "a"}"#).unwrap();
        assert_eq!(meta, ObjectMetadata { name: "a".into(), ..Default::default() });
    }

    #[test]
    fn null_custom_values_are_left_out() {
        let meta: ObjectMetadata = from_json(r#"{"name": "a", "metadata": {"gone": null, "kept": ""}}"#).unwrap();
        assert_eq!(meta.metadata, vec![("kept".into(), String::new())]);
    }

    #[test]
    fn malformed_resources_name_the_field() {
        assert_eq!(from_json::<ObjectMetadata>(r#"{"size": "1"}"#).unwrap_err(), "`name` is missing");
        // "+1" is one Rust's u64 parser takes: the digits are checked first.
        for size in [r#""""#, r#""-1""#, r#""+1""#, r#""1.5""#, r#""18446744073709551616""#, r#"" 1""#] {
            let json = format!(r#"{{"name": "a", "size": {size}}}"#);
            assert_eq!(from_json::<ObjectMetadata>(&json).unwrap_err(), "`size` must be a decimal string", "{size}");
        }
        assert_eq!(from_json::<ObjectMetadata>(r#"{"name": "a", "size": 5}"#).unwrap_err(), "`size` must be a string");
        assert_eq!(
            from_json::<ObjectMetadata>(r#"{"name": "a", "metadata": {"n": 1}}"#).unwrap_err(),
            "`metadata.n` must be a string"
        );
        assert_eq!(
            from_json::<ObjectMetadata>(r#"{"name": "a", "metadata": ["x"]}"#).unwrap_err(),
            "`metadata` must be an object"
        );
        assert_eq!(from_json::<ObjectMetadata>(r#"{"name": "a", "etag": 7}"#).unwrap_err(), "`etag` must be a string");
    }

    proptest::proptest! {
        #[test]
        fn sizes_round_trip(size: u64) {
            let meta: ObjectMetadata = from_json(&format!(r#"{{"name": "a", "size": "{size}"}}"#)).unwrap();
            proptest::prop_assert_eq!(meta.size, Some(size));
        }
    }
}
