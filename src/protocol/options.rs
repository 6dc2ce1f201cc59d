//! The per-call option objects of the public API, as Rust types. Pure readers, so the
//! accepted shapes are unit-tested; the wasm side reads JS objects into them.

use crate::prelude::*;
use crate::protocol::document::{string_entries, whole_number, Document, FieldError, Fields, FromDocument};
use crate::protocol::gcs_requests::{ListFields, ListParams};
use crate::protocol::range::RangeOption;

/// The options of `delete` and `copy` besides the signal, read by one reader (one copy of it
/// in the wasm); each call uses its own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// `delete`: a missing object is success.
    pub ignore_not_found: Option<bool>,
    /// Delete the object, or write the copy's destination, only while its generation is this
    /// (`0`: only if it does not exist).
    pub if_generation_match: Option<Generation>,
    /// `copy`: only while the source's generation is this.
    pub if_source_generation_match: Option<Generation>,
}

pub type DeleteOptions = WriteOptions;
pub type CopyOptions = WriteOptions;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DownloadOptions {
    pub decompress: Option<bool>,
    pub range: Option<RangeOption>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListOptions {
    pub prefix: Option<String>,
    pub start_offset: Option<String>,
    pub end_offset: Option<String>,
    pub match_glob: Option<String>,
    pub max_results: Option<u32>,
    /// Full metadata for each object instead of just its name.
    pub with_metadata: Option<bool>,
}

/// `listPage`: one page of a listing, its filters as `list` takes them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListPageOptions {
    /// `maxResults` is the page size here.
    pub filters: ListOptions,
    pub delimiter: Option<String>,
    pub page_token: Option<String>,
}

/// `setMetadata`'s options besides the signal.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SetMetadataOptions {
    /// Change the metadata only while it is this version (`metageneration`).
    pub if_metageneration_match: Option<Generation>,
}

impl FromDocument for WriteOptions {
    // Field by field on purpose (see the comment below): not a struct literal.
    #[allow(clippy::field_reassign_with_default)]
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let mut options = WriteOptions::default();
        options.ignore_not_found = fields.boolean("ignoreNotFound")?;
        options.if_generation_match = Generation::field(fields, "ifGenerationMatch")?;
        options.if_source_generation_match = Generation::field(fields, "ifSourceGenerationMatch")?;
        Ok(options)
    }
}

impl FromDocument for DownloadOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(DownloadOptions { decompress: fields.boolean("decompress")?, range: fields.object("range")? })
    }
}

// Readers of several strings fill a default value field by field: a struct literal of fields
// read with `?` drops every field read so far on each early return, each on its own.
impl FromDocument for ListOptions {
    // Field by field on purpose (see the comment above): not a struct literal.
    #[allow(clippy::field_reassign_with_default)]
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let mut options = ListOptions::default();
        options.prefix = fields.string("prefix")?;
        options.start_offset = fields.string("startOffset")?;
        options.end_offset = fields.string("endOffset")?;
        options.match_glob = fields.string("matchGlob")?;
        options.max_results = fields.count("maxResults")?;
        options.with_metadata = fields.boolean("withMetadata")?;
        Ok(options)
    }
}

impl FromDocument for ListPageOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let filters = ListOptions::read(fields)?;
        if filters.max_results == Some(0) {
            return Err("`maxResults` must be at least 1".into());
        }
        Ok(ListPageOptions { filters, delimiter: fields.string("delimiter")?, page_token: fields.string("pageToken")? })
    }
}

impl ListPageOptions {
    /// The request filters. A page holds at most what GCS serves (1000), however many are
    /// asked for; without `maxResults` the server chooses (GCS: 1000).
    pub fn params(&self) -> ListParams<'_> {
        ListParams {
            delimiter: self.delimiter.as_deref(),
            fields: ListFields::Metadata,
            ..self.filters.params(self.filters.max_results)
        }
    }
}

impl FromDocument for SetMetadataOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(SetMetadataOptions { if_metageneration_match: Generation::field(fields, "ifMetagenerationMatch")? })
    }
}

/// GCS serves at most this many objects a page.
pub const MAX_PAGE_SIZE: u32 = 1000;

impl ListOptions {
    /// The request filters; the page size is what is still wanted, capped at GCS's maximum.
    pub fn params(&self, still_wanted: Option<u32>) -> ListParams<'_> {
        ListParams {
            prefix: self.prefix.as_deref(),
            delimiter: None,
            start_offset: self.start_offset.as_deref(),
            end_offset: self.end_offset.as_deref(),
            match_glob: self.match_glob.as_deref(),
            page_size: still_wanted.map(|wanted| wanted.min(MAX_PAGE_SIZE)),
            fields: if self.with_metadata == Some(true) { ListFields::Metadata } else { ListFields::Names },
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    pub compress: Option<bool>,
    pub content_type: Option<String>,
    pub if_generation_match: Option<Generation>,
    /// Use a resumable upload whatever the size (files always do).
    pub resumable: Option<bool>,
    /// The length of a stream's contents, when the caller knows it (for progress totals and
    /// the session's declared size).
    pub content_length: Option<u64>,
    /// Custom metadata of the new object.
    pub metadata: Vec<(String, String)>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
}

/// An object generation: GCS's 64-bit numbers, given as a number or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generation {
    Number(u64),
    Text(String),
}

impl FromDocument for UploadOptions {
    // Field by field on purpose (see the comment above): not a struct literal.
    #[allow(clippy::field_reassign_with_default)]
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let mut options = UploadOptions::default();
        options.compress = fields.boolean("compress")?;
        options.content_type = fields.string("contentType")?;
        options.if_generation_match = Generation::field(fields, "ifGenerationMatch")?;
        options.resumable = fields.boolean("resumable")?;
        options.content_length = fields.whole("contentLength")?;
        options.metadata = custom_metadata(fields)?;
        options.cache_control = fields.string("cacheControl")?;
        options.content_disposition = fields.string("contentDisposition")?;
        Ok(options)
    }
}

/// An upload's custom metadata: an object of strings.
fn custom_metadata<D: Document>(fields: &Fields<'_, D>) -> Result<Vec<(String, String)>, FieldError> {
    let Some(object) = fields.raw("metadata") else { return Ok(Vec::new()) };
    let mut metadata = Vec::new();
    for (key, value) in string_entries(&object, "metadata", "a string")? {
        let value = value.ok_or_else(|| text!("`metadata.", key, "` must be a string"))?;
        metadata.push((key, value));
    }
    Ok(metadata)
}

impl Generation {
    /// The generation as a query parameter's value. Not inlined: every request builder with a
    /// precondition shares it.
    #[inline(never)]
    pub fn to_query(&self) -> String {
        text!(self)
    }

    /// The field `key`: a non-negative integer, or a string of digits (for generations
    /// beyond 2^53).
    fn field<D: Document>(fields: &Fields<'_, D>, key: &str) -> Result<Option<Generation>, FieldError> {
        let Some(value) = fields.raw(key) else { return Ok(None) };
        if let Some(text) = value.as_string() {
            if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
                return Ok(Some(Generation::Text(text)));
            }
        } else if let Some(number) = value.as_number().and_then(whole_number) {
            return Ok(Some(Generation::Number(number)));
        }
        Err(text!("`", key, "` must be a non-negative integer or a string of digits"))
    }
}

impl crate::protocol::text::Piece for Generation {
    fn append_to(&self, out: &mut String) {
        match self {
            Generation::Number(number) => number.append_to(out),
            Generation::Text(text) => out.push_str(text),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;

    #[test]
    fn options_read_camel_case_and_ignore_unknown_fields() {
        let list: ListOptions =
            from_json(r#"{"prefix":"p/","startOffset":"a","endOffset":"b","matchGlob":"*","maxResults":5,"x":1}"#)
                .unwrap();
        assert_eq!(list.max_results, Some(5));
        assert_eq!(list.start_offset.as_deref(), Some("a"));
        let delete: DeleteOptions = from_json(r#"{"ignoreNotFound":true}"#).unwrap();
        assert_eq!(delete.ignore_not_found, Some(true));
        let upload: UploadOptions =
            from_json(r#"{"compress":true,"contentType":"text/csv","ifGenerationMatch":0}"#).unwrap();
        assert_eq!(upload.content_type.as_deref(), Some("text/csv"));
        assert_eq!(upload.if_generation_match.map(|g| text!(g)).as_deref(), Some("0"));
        let text: UploadOptions = from_json(r#"{"ifGenerationMatch":"1700000000000001"}"#).unwrap();
        assert_eq!(text.if_generation_match.map(|g| text!(g)).as_deref(), Some("1700000000000001"));
        let ranged: DownloadOptions = from_json(r#"{"range":{"start":5,"end":9}}"#).unwrap();
        assert_eq!(ranged.range.map(|r| (r.start, r.end)), Some((Some(5), Some(9))));
    }

    #[test]
    fn generations_are_digits_only() {
        for bad in [
            r#"{"ifGenerationMatch":"12a"}"#,
            r#"{"ifGenerationMatch":-1}"#,
            r#"{"ifGenerationMatch":1.5}"#,
            r#"{"ifGenerationMatch":""}"#,
        ] {
            assert!(from_json::<UploadOptions>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delete_and_copy_take_generations_as_uploads_do() {
        let delete: DeleteOptions =
            from_json(r#"{"ignoreNotFound":false,"ifGenerationMatch":"1700000000000001"}"#).unwrap();
        assert_eq!(delete.if_generation_match.map(|g| text!(g)).as_deref(), Some("1700000000000001"));
        let copy: CopyOptions = from_json(r#"{"ifGenerationMatch":0,"ifSourceGenerationMatch":"42"}"#).unwrap();
        assert_eq!(copy.if_generation_match.map(|g| text!(g)).as_deref(), Some("0"));
        assert_eq!(copy.if_source_generation_match.map(|g| text!(g)).as_deref(), Some("42"));
        assert_eq!(from_json::<CopyOptions>("{}").unwrap(), CopyOptions::default());
        for (bad, key) in [
            (r#"{"ifGenerationMatch":-1}"#, "ifGenerationMatch"),
            (r#"{"ifGenerationMatch":"7x"}"#, "ifGenerationMatch"),
            (r#"{"ifSourceGenerationMatch":1.5}"#, "ifSourceGenerationMatch"),
            (r#"{"ifSourceGenerationMatch":true}"#, "ifSourceGenerationMatch"),
        ] {
            let message = text!("`", key, "` must be a non-negative integer or a string of digits");
            assert_eq!(from_json::<CopyOptions>(bad).unwrap_err(), message, "{bad}");
        }
        assert!(from_json::<DeleteOptions>(r#"{"ifGenerationMatch":""}"#).is_err());
    }

    #[test]
    fn wrong_types_are_refused() {
        assert!(from_json::<ListOptions>(r#"{"maxResults":-1}"#).is_err());
        assert!(from_json::<ListOptions>(r#"{"maxResults":"5"}"#).is_err());
        assert!(from_json::<DeleteOptions>(r#"{"ignoreNotFound":"yes"}"#).is_err());
    }

    #[test]
    fn upload_options_read_custom_metadata_cache_control_and_disposition() {
        let upload: UploadOptions = from_json(
            r#"{"metadata":{"b":"","custom:aclPolicy":"{}"},"cacheControl":"no-store","contentDisposition":"inline"}"#,
        )
        .unwrap();
        assert_eq!(upload.metadata, vec![("b".into(), String::new()), ("custom:aclPolicy".into(), "{}".into())]);
        assert_eq!(upload.cache_control.as_deref(), Some("no-store"));
        assert_eq!(upload.content_disposition.as_deref(), Some("inline"));
        for (bad, message) in [
            (r#"{"metadata":{"k":null}}"#, "`metadata.k` must be a string"),
            (r#"{"metadata":{"k":1}}"#, "`metadata.k` must be a string"),
            (r#"{"metadata":"k=v"}"#, "`metadata` must be an object"),
            (r#"{"cacheControl":0}"#, "`cacheControl` must be a string"),
        ] {
            assert_eq!(from_json::<UploadOptions>(bad).unwrap_err(), message, "{bad}");
        }
    }

    #[test]
    fn set_metadata_takes_a_metageneration_as_generations_are_taken() {
        for (json, expected) in [
            (r#"{"ifMetagenerationMatch":3}"#, Some("3")),
            (r#"{"ifMetagenerationMatch":"12"}"#, Some("12")),
            ("{}", None),
        ] {
            let options: SetMetadataOptions = from_json(json).unwrap();
            assert_eq!(options.if_metageneration_match.map(|m| text!(m)).as_deref(), expected, "{json}");
        }
        assert_eq!(
            from_json::<SetMetadataOptions>(r#"{"ifMetagenerationMatch":"x"}"#).unwrap_err(),
            "`ifMetagenerationMatch` must be a non-negative integer or a string of digits"
        );
    }

    #[test]
    fn list_page_options_ask_for_one_page_with_metadata_and_prefixes() {
        let options: ListPageOptions = from_json(
            r#"{"prefix":"p/","delimiter":"/","startOffset":"a","endOffset":"z","matchGlob":"**","maxResults":7,"pageToken":"t"}"#,
        )
        .unwrap();
        assert_eq!(options.page_token.as_deref(), Some("t"));
        assert_eq!(
            options.params(),
            ListParams {
                prefix: Some("p/"),
                delimiter: Some("/"),
                start_offset: Some("a"),
                end_offset: Some("z"),
                match_glob: Some("**"),
                page_size: Some(7),
                fields: ListFields::Metadata,
            }
        );
        let big: ListPageOptions = from_json(r#"{"maxResults":5000}"#).unwrap();
        assert_eq!(big.params().page_size, Some(1000));
        let unsized_page: ListPageOptions = from_json("{}").unwrap();
        assert_eq!(unsized_page.params().page_size, None);
        assert_eq!(from_json::<ListPageOptions>(r#"{"maxResults":0}"#).unwrap_err(), "`maxResults` must be at least 1");
        assert_eq!(from_json::<ListPageOptions>(r#"{"delimiter":1}"#).unwrap_err(), "`delimiter` must be a string");
    }

    #[test]
    fn list_asks_for_names_unless_metadata_is_wanted() {
        assert_eq!(ListOptions::default().params(None).fields, ListFields::Names);
        let with: ListOptions = from_json(r#"{"withMetadata":true}"#).unwrap();
        assert_eq!(with.params(Some(3)).fields, ListFields::Metadata);
        let without: ListOptions = from_json(r#"{"withMetadata":false}"#).unwrap();
        assert_eq!(without.params(None).fields, ListFields::Names);
    }

    #[test]
    fn page_size_is_what_is_still_wanted_capped_at_a_thousand() {
        let options = ListOptions { prefix: Some("p".into()), ..Default::default() };
        assert_eq!(options.params(None).page_size, None);
        assert_eq!(options.params(Some(7)).page_size, Some(7));
        assert_eq!(options.params(Some(2500)).page_size, Some(1000));
        assert_eq!(options.params(None).prefix, Some("p"));
    }
}
