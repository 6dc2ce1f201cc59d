//! The per-call option objects of the public API, as Rust types. Pure serde types, so the
//! accepted shapes are unit-tested; the wasm side decodes JS objects into them.

use serde::Deserialize;

use crate::gcs_requests::ListParams;
use crate::range::RangeOption;

#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    #[serde(default)]
    pub ignore_not_found: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadOptions {
    #[serde(default)]
    pub decompress: Option<bool>,
    #[serde(default)]
    pub range: Option<RangeOption>,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ListOptions {
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub start_offset: Option<String>,
    #[serde(default)]
    pub end_offset: Option<String>,
    #[serde(default)]
    pub match_glob: Option<String>,
    #[serde(default)]
    pub max_results: Option<u32>,
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

#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UploadOptions {
    #[serde(default)]
    pub compress: Option<bool>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub if_generation_match: Option<Generation>,
    /// Use a resumable upload whatever the size (files always do).
    #[serde(default)]
    pub resumable: Option<bool>,
    /// The length of a stream's contents, when the caller knows it (for progress totals and
    /// the session's declared size).
    #[serde(default)]
    pub content_length: Option<u64>,
}

/// An object generation: GCS's 64-bit numbers, given as a number or a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generation {
    Number(u64),
    Text(String),
}

// By hand rather than `#[serde(untagged)]`, which buffers through serde's costly `Content`.
impl<'de> Deserialize<'de> for Generation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GenerationVisitor;
        impl serde::de::Visitor<'_> for GenerationVisitor {
            type Value = Generation;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a generation number (a non-negative integer or a string of digits)")
            }
            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Generation, E> {
                Ok(Generation::Number(number))
            }
            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Generation, E> {
                u64::try_from(number)
                    .map(Generation::Number)
                    .map_err(|_| E::custom("a generation must be a non-negative integer"))
            }
            fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<Generation, E> {
                if number >= 0.0 && number.fract() == 0.0 && number < 9.007_199_254_740_992e15 {
                    Ok(Generation::Number(number as u64))
                } else {
                    Err(E::custom("a generation must be a non-negative integer"))
                }
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Generation, E> {
                if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
                    Ok(Generation::Text(text.to_string()))
                } else {
                    Err(E::custom("a generation must be a string of digits"))
                }
            }
        }
        deserializer.deserialize_any(GenerationVisitor)
    }
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Generation::Number(number) => write!(f, "{number}"),
            Generation::Text(text) => f.write_str(text),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn options_read_camel_case_and_ignore_unknown_fields() {
        let list: ListOptions = serde_json::from_str(
            r#"{"prefix":"p/","startOffset":"a","endOffset":"b","matchGlob":"*","maxResults":5,"x":1}"#,
        )
        .unwrap();
        assert_eq!(list.max_results, Some(5));
        assert_eq!(list.start_offset.as_deref(), Some("a"));
        let delete: DeleteOptions = serde_json::from_str(r#"{"ignoreNotFound":true}"#).unwrap();
        assert_eq!(delete.ignore_not_found, Some(true));
        let upload: UploadOptions =
            serde_json::from_str(r#"{"compress":true,"contentType":"text/csv","ifGenerationMatch":0}"#).unwrap();
        assert_eq!(upload.content_type.as_deref(), Some("text/csv"));
        assert_eq!(upload.if_generation_match.map(|g| g.to_string()).as_deref(), Some("0"));
        let text: UploadOptions = serde_json::from_str(r#"{"ifGenerationMatch":"1700000000000001"}"#).unwrap();
        assert_eq!(text.if_generation_match.map(|g| g.to_string()).as_deref(), Some("1700000000000001"));
        let ranged: DownloadOptions = serde_json::from_str(r#"{"range":{"start":5,"end":9}}"#).unwrap();
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
            assert!(serde_json::from_str::<UploadOptions>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wrong_types_are_refused() {
        assert!(serde_json::from_str::<ListOptions>(r#"{"maxResults":-1}"#).is_err());
        assert!(serde_json::from_str::<ListOptions>(r#"{"maxResults":"5"}"#).is_err());
        assert!(serde_json::from_str::<DeleteOptions>(r#"{"ignoreNotFound":"yes"}"#).is_err());
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
