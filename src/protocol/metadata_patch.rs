//! `setMetadata`'s patch: which of an object's metadata fields to set or clear, read from the
//! caller's object and written as the JSON body of GCS's `objects.patch`. Only the fields
//! given are sent: `null` clears a field, and under `metadata` removes that key.

use crate::prelude::*;
use crate::protocol::document::{string_entries, Document, FieldError, Fields, FromDocument};
use crate::protocol::json::JsonObject;

/// The fields a patch may set besides `metadata`, by GCS's names.
pub const PATCHABLE: [&str; 3] = ["contentType", "contentDisposition", "cacheControl"];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MetadataPatch {
    /// Fields of `PATCHABLE` in the order given, each with its new value (`None`: clear it).
    pub fields: Vec<(&'static str, Option<String>)>,
    /// When `metadata` was given: custom keys with their new values (`None`: remove the key).
    pub metadata: Option<Vec<(String, Option<String>)>>,
}

impl FromDocument for MetadataPatch {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let mut patch = MetadataPatch::default();
        for (key, value) in fields.members()? {
            if key == "metadata" {
                let object = value.ok_or_else(|| String::from("`metadata` must be an object"))?;
                patch.metadata = Some(string_entries(&object, "metadata", "a string or null")?);
                continue;
            }
            let Some(field) = PATCHABLE.into_iter().find(|field| *field == key) else {
                return Err(text!(
                    "`",
                    key,
                    "` cannot be set: a patch sets contentType, contentDisposition, cacheControl and metadata"
                ));
            };
            let value =
                value.map(|value| value.as_string().ok_or_else(|| text!("`", field, "` must be a string or null")));
            patch.fields.push((field, value.transpose()?));
        }
        Ok(patch)
    }
}

impl MetadataPatch {
    /// The request body: the fields given, `null` for those cleared.
    pub fn to_json(&self) -> String {
        let mut body = JsonObject::default();
        for (field, value) in &self.fields {
            body.string(field, value.as_deref());
        }
        if let Some(entries) = &self.metadata {
            let mut custom = JsonObject::default();
            for (key, value) in entries {
                custom.string(key, value.as_deref());
            }
            body.object("metadata", custom);
        }
        body.finish()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;

    #[test]
    fn sends_only_the_fields_given_with_nulls_for_those_cleared() {
        let patch: MetadataPatch = from_json(
            r#"{"cacheControl": "no-store", "contentType": null, "metadata": {"custom:aclPolicy": "{\"owner\":\"u\"}", "gone": null}}"#,
        )
        .unwrap();
        assert_eq!(patch.fields, vec![("cacheControl", Some("no-store".into())), ("contentType", None)]);
        assert_eq!(
            patch.to_json(),
            r#"{"cacheControl":"no-store","contentType":null,"metadata":{"custom:aclPolicy":"{\"owner\":\"u\"}","gone":null}}"#
        );
    }

    #[test]
    fn an_empty_patch_is_an_empty_object() {
        let patch: MetadataPatch = from_json("{}").unwrap();
        assert_eq!(patch, MetadataPatch::default());
        assert_eq!(patch.to_json(), "{}");
        let empty_metadata: MetadataPatch = from_json(r#"{"metadata": {}}"#).unwrap();
        assert_eq!(empty_metadata.to_json(), r#"{"metadata":{}}"#);
    }

    #[test]
    fn wrong_values_name_their_key() {
        for (json, message) in [
            (r#"{"metadata": {"n": 1}}"#, "`metadata.n` must be a string or null"),
            (r#"{"metadata": {"ok": "1", "o": {}}}"#, "`metadata.o` must be a string or null"),
            (r#"{"metadata": null}"#, "`metadata` must be an object"),
            (r#"{"metadata": ["x"]}"#, "`metadata` must be an object"),
            (r#"{"cacheControl": 5}"#, "`cacheControl` must be a string or null"),
            (
                r#"{"contentEncoding": "gzip"}"#,
                "`contentEncoding` cannot be set: a patch sets contentType, contentDisposition, cacheControl and metadata",
            ),
        ] {
            assert_eq!(from_json::<MetadataPatch>(json).unwrap_err(), message, "{json}");
        }
    }
}
