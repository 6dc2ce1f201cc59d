//! The per-call option objects of the public API, as Rust types. Pure readers, so the
//! accepted shapes are unit-tested; the wasm side reads JS objects into them.

use crate::prelude::*;
use crate::protocol::document::{whole_number, Document, FieldError, Fields, FromDocument};
use crate::protocol::gcs_requests::ListParams;
use crate::protocol::range::RangeOption;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeleteOptions {
    pub ignore_not_found: Option<bool>,
}

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
}

impl FromDocument for DeleteOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(DeleteOptions { ignore_not_found: fields.boolean("ignoreNotFound")? })
    }
}

impl FromDocument for DownloadOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(DownloadOptions { decompress: fields.boolean("decompress")?, range: fields.object("range")? })
    }
}

impl FromDocument for ListOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(ListOptions {
            prefix: fields.string("prefix")?,
            start_offset: fields.string("startOffset")?,
            end_offset: fields.string("endOffset")?,
            match_glob: fields.string("matchGlob")?,
            max_results: fields.count("maxResults")?,
        })
    }
}

/// GCS serves at most this many objects a page.
pub const MAX_PAGE_SIZE: u32 = 1000;

impl ListOptions {
    /// The request filters; the page size is what is still wanted, capped at GCS's maximum.
    pub fn params(&self, still_wanted: Option<u32>) -> ListParams {
        ListParams {
            prefix: self.prefix.clone(),
            delimiter: None,
            start_offset: self.start_offset.clone(),
            end_offset: self.end_offset.clone(),
            match_glob: self.match_glob.clone(),
            page_size: still_wanted.map(|wanted| wanted.min(MAX_PAGE_SIZE)),
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
}

/// An object generation: GCS's 64-bit numbers, given as a number or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generation {
    Number(u64),
    Text(String),
}

impl FromDocument for UploadOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(UploadOptions {
            compress: fields.boolean("compress")?,
            content_type: fields.string("contentType")?,
            if_generation_match: fields.raw("ifGenerationMatch").map(|value| Generation::read(&value)).transpose()?,
            resumable: fields.boolean("resumable")?,
            content_length: fields.whole("contentLength")?,
        })
    }
}

impl Generation {
    /// A non-negative integer, or a string of digits (for generations beyond 2^53).
    fn read<D: Document>(value: &D) -> Result<Generation, FieldError> {
        if let Some(text) = value.as_string() {
            if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
                return Ok(Generation::Text(text));
            }
        } else if let Some(number) = value.as_number().and_then(whole_number) {
            return Ok(Generation::Number(number));
        }
        Err("`ifGenerationMatch` must be a non-negative integer or a string of digits".into())
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
    fn wrong_types_are_refused() {
        assert!(from_json::<ListOptions>(r#"{"maxResults":-1}"#).is_err());
        assert!(from_json::<ListOptions>(r#"{"maxResults":"5"}"#).is_err());
        assert!(from_json::<DeleteOptions>(r#"{"ignoreNotFound":"yes"}"#).is_err());
    }

    #[test]
    fn page_size_is_what_is_still_wanted_capped_at_a_thousand() {
        let options = ListOptions { prefix: Some("p".into()), ..Default::default() };
        assert_eq!(options.params(None).page_size, None);
        assert_eq!(options.params(Some(7)).page_size, Some(7));
        assert_eq!(options.params(Some(2500)).page_size, Some(1000));
        assert_eq!(options.params(None).prefix.as_deref(), Some("p"));
    }
}
