//! Shapes of GCS's answers and the mapping of failed answers to error kinds. Pure: the
//! wasm side reads parsed JSON into these types; `cargo test` feeds them from serde_json.

use crate::prelude::*;
use crate::protocol::document::{required, Document, FieldError, Fields, FromDocument};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::object_metadata::ObjectMetadata;
use crate::protocol::text;
use crate::protocol::url_transfer;

/// One page of a listing; `items` is absent when the page is empty, `prefixes` when no
/// delimiter was given or none matched. Items hold the fields the request's projection asked
/// for (only `name` for a plain `list`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    pub items: Vec<ObjectMetadata>,
    /// The "folders" a delimiter cut the names at.
    pub prefixes: Vec<String>,
    pub next_page_token: Option<String>,
}

impl ListPage {
    /// The token of the next page; an empty token means there is none.
    pub fn next_page(&self) -> Option<&str> {
        self.next_page_token.as_deref().filter(|token| !token.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteResponse {
    pub done: bool,
    pub rewrite_token: Option<String>,
}

impl RewriteResponse {
    /// The token to continue with, or an error when the server says "not done" without one.
    pub fn continuation(&self) -> Result<Option<&str>, StorageError> {
        match (self.done, self.rewrite_token.as_deref()) {
            (true, _) => Ok(None),
            (false, Some(token)) if !token.is_empty() => Ok(Some(token)),
            (false, _) => Err(StorageError::malformed_response("GCS", "rewrite not done but no rewriteToken")),
        }
    }
}

/// Either error body the client meets: GCS's `{"error": {"code", "message"}}` or
/// OAuth's `{"error": "invalid_grant", "error_description": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorEnvelope {
    pub error: Option<ErrorField>,
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorField {
    OAuth(String),
    Gcs(GcsError),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcsError {
    pub message: Option<String>,
}

impl FromDocument for ListPage {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(ListPage {
            items: fields.list("items")?,
            prefixes: fields.strings("prefixes")?,
            next_page_token: fields.string("nextPageToken")?,
        })
    }
}

impl FromDocument for RewriteResponse {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(RewriteResponse {
            done: required("done", fields.boolean("done")?)?,
            rewrite_token: fields.string("rewriteToken")?,
        })
    }
}

impl FromDocument for ErrorEnvelope {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        // `error` is a GCS error object or an OAuth error code.
        let error = match fields.raw("error") {
            None => None,
            Some(error) => match error.as_string() {
                Some(code) => Some(ErrorField::OAuth(code)),
                None => Some(ErrorField::Gcs(fields.object("error")?.unwrap_or_default())),
            },
        };
        Ok(ErrorEnvelope { error, error_description: fields.string("error_description")? })
    }
}

impl FromDocument for GcsError {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(GcsError { message: fields.string("message")? })
    }
}

impl ErrorEnvelope {
    /// The most useful human text in the body, if it has any.
    pub fn message(&self) -> Option<String> {
        let text = match (&self.error, &self.error_description) {
            (Some(ErrorField::Gcs(GcsError { message: Some(message) })), _) => message.clone(),
            (Some(ErrorField::OAuth(code)), Some(description)) => text!(code, ": ", description),
            (Some(ErrorField::OAuth(code)), None) => code.clone(),
            (_, Some(description)) => description.clone(),
            _ => return None,
        };
        Some(text).filter(|text| !text.trim_ascii().is_empty())
    }
}

/// What a request was about, so a vague 404 can still name what is missing.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub bucket: &'a str,
    pub object: Option<&'a str>,
}

/// A failed answer mapped to an error. `unclear_not_found` is set when a 404 did not say
/// whether the bucket or the object is missing (emulators answer just `Not Found`): the
/// client then asks for the bucket instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedError {
    pub error: StorageError,
    pub unclear_not_found: bool,
}

pub const BUCKET_MISSING_MESSAGE: &str = "The specified bucket does not exist.";
const RAW_MESSAGE_LIMIT: usize = 300;

/// Maps a non-2xx answer to an error on its status, with the server's message when it
/// sent one. `body` is the parsed JSON body if there was one, `raw` the body text (an XML
/// error document, from the XML API, is read by its code).
pub fn map_error_response(status: u16, body: Option<&ErrorEnvelope>, raw: &str, target: Target) -> MappedError {
    if let Some(xml) = url_transfer::parse_xml_error(raw) {
        // GCS's XML API (signed URLs) says what it means by its error code.
        return MappedError { error: url_transfer::xml_failure(status, xml), unclear_not_found: false };
    }
    let server_message = body.and_then(ErrorEnvelope::message).or_else(|| raw_message(raw));
    let mut unclear_not_found = false;
    let (kind, message) = match status {
        404 => match server_message.as_deref() {
            Some(message) if text::contains(message, BUCKET_MISSING_MESSAGE) => {
                (ErrorKind::BucketNotFound, bucket_missing_message(target.bucket))
            }
            Some(message) if text::contains(message, "No such object") => {
                (ErrorKind::ObjectNotFound, message.to_string())
            }
            _ => match target.object {
                Some(object) => {
                    unclear_not_found = true;
                    (ErrorKind::ObjectNotFound, object_missing_message(target.bucket, object))
                }
                None => (ErrorKind::BucketNotFound, bucket_missing_message(target.bucket)),
            },
        },
        400 if server_message.as_deref().is_some_and(is_hash_mismatch) => {
            (ErrorKind::IntegrityMismatch, server_message.unwrap_or_default())
        }
        _ => (kind_for_status(status), server_message.unwrap_or_else(|| status_message(status))),
    };
    MappedError { error: StorageError::new(kind, message).with_status(status), unclear_not_found }
}

/// GCS's refusal of an upload whose bytes do not match the hash sent with them
/// ("Provided CRC32C \"…\" doesn't match calculated CRC32C \"…\".").
fn is_hash_mismatch(message: &str) -> bool {
    (text::contains(message, "CRC32C") || text::contains(message, "MD5")) && text::contains(message, "match")
}

pub fn object_missing_message(bucket: &str, object: &str) -> String {
    if bucket.is_empty() {
        return text!("No such object: ", object);
    }
    text!("No such object: ", bucket, "/", object)
}

/// GCS's words, with the bucket named (GCS's own message does not say which).
fn bucket_missing_message(bucket: &str) -> String {
    if bucket.is_empty() {
        return BUCKET_MISSING_MESSAGE.to_string();
    }
    text!(BUCKET_MISSING_MESSAGE, " (bucket: ", bucket, ")")
}

/// What an unclear 404 becomes once the bucket turned out to be missing.
pub fn bucket_missing_error(bucket: &str) -> StorageError {
    StorageError::new(ErrorKind::BucketNotFound, bucket_missing_message(bucket)).with_status(404)
}

pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        400 | 411 | 413 | 414 | 416 => ErrorKind::InvalidArgument,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::ObjectNotFound,
        408 => ErrorKind::Timeout,
        409 | 412 => ErrorKind::PreconditionFailed,
        429 => ErrorKind::TooManyRequests,
        500..=599 => ErrorKind::ServerError,
        _ => ErrorKind::Unknown,
    }
}

fn status_message(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        412 => "Precondition Failed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    text!("HTTP ", status, " ", reason).trim_ascii_end().to_string()
}

/// A plain-text body as a message: trimmed, one line, bounded.
fn raw_message(raw: &str) -> Option<String> {
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() || trimmed.starts_with("{") || trimmed.starts_with("[") || trimmed == "null" {
        return None;
    }
    // Joined by hand: `[&str]::join` brings in a slice copy whose length check formats a panic.
    let mut one_line = String::with_capacity(trimmed.len());
    for word in trimmed.split_ascii_whitespace() {
        if !one_line.is_empty() {
            one_line.push(' ');
        }
        one_line.push_str(word);
    }
    Some(match one_line.char_indices().nth(RAW_MESSAGE_LIMIT) {
        Some((cut, _)) => text!(one_line.get(..cut).unwrap_or_default(), "…"),
        None => one_line,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;

    fn envelope(json: &str) -> ErrorEnvelope {
        from_json(json).unwrap()
    }

    const OBJECT: Target = Target { bucket: "b", object: Some("dir/o.txt") };

    #[test]
    fn gcs_404s_say_which_thing_is_missing() {
        let bucket = envelope(r#"{"error":{"code":404,"message":"The specified bucket does not exist.","errors":[]}}"#);
        let mapped = map_error_response(404, Some(&bucket), "", OBJECT);
        assert_eq!(mapped.error.kind, ErrorKind::BucketNotFound);
        assert_eq!(mapped.error.message, "The specified bucket does not exist. (bucket: b)");
        assert_eq!(mapped.error.status_code, Some(404));
        assert!(!mapped.unclear_not_found);

        let object = envelope(r#"{"error":{"code":404,"message":"No such object: b/dir/o.txt"}}"#);
        let mapped = map_error_response(404, Some(&object), "", OBJECT);
        assert_eq!(mapped.error.kind, ErrorKind::ObjectNotFound);
        assert_eq!(mapped.error.message, "No such object: b/dir/o.txt");
        assert!(!mapped.unclear_not_found);
    }

    #[test]
    fn xml_api_errors_are_read_by_their_code() {
        let xml = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code>\
            <Message>The request signature we calculated does not match.</Message></Error>";
        let mapped = map_error_response(403, None, xml, crate::protocol::url_transfer::TARGET);
        assert_eq!((mapped.error.kind, mapped.error.status_code), (ErrorKind::Forbidden, Some(403)));
        assert_eq!(mapped.error.message, "SignatureDoesNotMatch: The request signature we calculated does not match.");
        assert!(!mapped.unclear_not_found);
    }

    #[test]
    fn a_vague_404_through_a_signed_url_names_no_bucket() {
        let mapped = map_error_response(404, None, "Not Found", crate::protocol::url_transfer::TARGET);
        assert_eq!(mapped.error.kind, ErrorKind::ObjectNotFound);
        assert_eq!(mapped.error.message, "No such object: the signed URL's object");
    }

    #[test]
    fn an_emulators_vague_404_is_flagged_unclear_with_a_gcs_like_message() {
        let vague = envelope(r#"{"error":{"code":404,"message":"Not Found","errors":[{"reason":"Not Found"}]}}"#);
        for (body, raw) in [(Some(&vague), ""), (None, ""), (None, "Not Found")] {
            let mapped = map_error_response(404, body, raw, OBJECT);
            assert_eq!(mapped.error.kind, ErrorKind::ObjectNotFound);
            assert_eq!(mapped.error.message, "No such object: b/dir/o.txt");
            assert!(mapped.unclear_not_found);
        }
        let missing = bucket_missing_error("photos");
        assert_eq!((missing.kind, missing.status_code), (ErrorKind::BucketNotFound, Some(404)));
        assert_eq!(missing.message, "The specified bucket does not exist. (bucket: photos)");
    }

    #[test]
    fn a_404_without_an_object_is_the_bucket() {
        let mapped = map_error_response(404, None, "", Target { bucket: "b", object: None });
        assert_eq!(mapped.error.kind, ErrorKind::BucketNotFound);
        assert_eq!(mapped.error.message, "The specified bucket does not exist. (bucket: b)");
        assert!(!mapped.unclear_not_found);
    }

    #[test]
    fn statuses_map_to_kinds() {
        let cases = [
            (400, ErrorKind::InvalidArgument),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Forbidden),
            (408, ErrorKind::Timeout),
            (412, ErrorKind::PreconditionFailed),
            (416, ErrorKind::InvalidArgument),
            (429, ErrorKind::TooManyRequests),
            (500, ErrorKind::ServerError),
            (503, ErrorKind::ServerError),
            (418, ErrorKind::Unknown),
        ];
        for (status, kind) in cases {
            let mapped = map_error_response(status, None, "", OBJECT);
            assert_eq!(mapped.error.kind, kind, "{status}");
            assert_eq!(mapped.error.status_code, Some(status));
            assert!(mapped.error.message.starts_with(&format!("HTTP {status}")));
        }
    }

    #[test]
    fn a_rejected_upload_hash_is_an_integrity_mismatch() {
        let body = envelope(
            r#"{"error":{"code":400,"message":"Provided CRC32C \"AAAAAA==\" doesn't match calculated CRC32C \"q83vEg==\"."}}"#,
        );
        assert_eq!(map_error_response(400, Some(&body), "", OBJECT).error.kind, ErrorKind::IntegrityMismatch);
        let other = envelope(r#"{"error":{"code":400,"message":"Invalid argument."}}"#);
        assert_eq!(map_error_response(400, Some(&other), "", OBJECT).error.kind, ErrorKind::InvalidArgument);
        // "match" alone is not a checksum refusal: only a CRC32C or MD5 one is.
        let unrelated = envelope(r#"{"error":{"code":400,"message":"The pattern does not match the glob syntax."}}"#);
        assert_eq!(map_error_response(400, Some(&unrelated), "", OBJECT).error.kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn a_conflict_is_a_failed_precondition_as_412_is() {
        // GCS answers 409 when a precondition meets a concurrent change (e.g. a rewrite).
        assert_eq!(kind_for_status(409), ErrorKind::PreconditionFailed);
        assert_eq!(kind_for_status(412), ErrorKind::PreconditionFailed);
        let body = envelope(r#"{"error":{"code":409,"message":"conflict"}}"#);
        assert_eq!(map_error_response(409, Some(&body), "", OBJECT).error.kind, ErrorKind::PreconditionFailed);
    }

    #[test]
    fn messages_come_from_json_then_plain_text_then_the_status() {
        let json = envelope(r#"{"error":{"code":403,"message":"caller lacks storage.objects.get"}}"#);
        assert_eq!(map_error_response(403, Some(&json), "", OBJECT).error.message, "caller lacks storage.objects.get");
        let text = map_error_response(503, None, "  upstream\n  overloaded ", OBJECT);
        assert_eq!(text.error.message, "upstream overloaded");
        let long = map_error_response(500, None, &"é".repeat(1000), OBJECT);
        assert_eq!(long.error.message.chars().count(), RAW_MESSAGE_LIMIT + 1);
        // JSON that is no error envelope is not shown as text either.
        for raw in ["null", "{\"unexpected\": true}", "[1, 2]"] {
            assert_eq!(map_error_response(502, None, raw, OBJECT).error.message, "HTTP 502 Bad Gateway", "{raw}");
        }
    }

    #[test]
    fn a_bodyless_error_is_named_by_its_status_and_reason_phrase() {
        // RFC 9110's phrases for the statuses GCS answers with; others go by number alone.
        for (status, message) in [
            (400, "HTTP 400 Bad Request"),
            (401, "HTTP 401 Unauthorized"),
            (403, "HTTP 403 Forbidden"),
            (404, "HTTP 404 Not Found"),
            (408, "HTTP 408 Request Timeout"),
            (409, "HTTP 409 Conflict"),
            (412, "HTTP 412 Precondition Failed"),
            (416, "HTTP 416 Range Not Satisfiable"),
            (429, "HTTP 429 Too Many Requests"),
            (500, "HTTP 500 Internal Server Error"),
            (502, "HTTP 502 Bad Gateway"),
            (503, "HTTP 503 Service Unavailable"),
            (504, "HTTP 504 Gateway Timeout"),
            (418, "HTTP 418"),
        ] {
            assert_eq!(status_message(status), message);
        }
    }

    #[test]
    fn oauth_errors_read_code_and_description() {
        let body = envelope(r#"{"error":"invalid_grant","error_description":"subject token expired"}"#);
        assert_eq!(body.message().as_deref(), Some("invalid_grant: subject token expired"));
        assert_eq!(envelope(r#"{"error":"invalid_request"}"#).message().as_deref(), Some("invalid_request"));
        // A description with no usable `error` beside it still says what went wrong.
        for body in [
            r#"{"error_description":"token expired"}"#,
            r#"{"error":{"code":401},"error_description":"token expired"}"#,
        ] {
            assert_eq!(envelope(body).message().as_deref(), Some("token expired"), "{body}");
        }
        assert_eq!(envelope(r#"{"error":{"message":"  "}}"#).message(), None);
    }

    #[test]
    fn list_pages_tolerate_absent_items_and_empty_tokens() {
        let empty: ListPage = from_json(r#"{"kind":"storage#objects"}"#).unwrap();
        assert!(empty.items.is_empty());
        assert_eq!(empty.next_page(), None);
        assert!(empty.prefixes.is_empty());
        let page: ListPage =
            from_json(r#"{"items":[{"name":"a","size":"3"},{"name":"b"}],"nextPageToken":"t"}"#).unwrap();
        let names: Vec<&str> = page.items.iter().map(|item| item.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(page.items[0].size, Some(3));
        assert_eq!(page.next_page(), Some("t"));
        let blank: ListPage = from_json(r#"{"nextPageToken":""}"#).unwrap();
        assert_eq!(blank.next_page(), None);
    }

    #[test]
    fn list_pages_read_each_item_as_object_metadata_and_the_prefixes() {
        let page: ListPage = from_json(
            r#"{"prefixes":["dir/a/","dir/b/"],"items":[{"name":"dir/x","size":"5","generation":"17","metadata":{"k":"v"}}]}"#,
        )
        .unwrap();
        assert_eq!(page.prefixes, ["dir/a/", "dir/b/"]);
        let expected = ObjectMetadata {
            name: "dir/x".into(),
            size: Some(5),
            generation: Some("17".into()),
            metadata: vec![("k".into(), "v".into())],
            ..Default::default()
        };
        assert_eq!(page.items, [expected]);
    }

    #[test]
    fn malformed_list_pages_are_errors_not_panics() {
        for (bad, message) in [
            (r#"{"prefixes":"a/"}"#, "`prefixes` must be an array of strings"),
            (r#"{"prefixes":["a/", 5]}"#, "`prefixes` must be an array of strings"),
            (r#"{"items":[{"name":"a","size":"x"}]}"#, "`items[]`: `size` must be a decimal string"),
        ] {
            assert_eq!(from_json::<ListPage>(bad).unwrap_err(), message, "{bad}");
        }
        for bad in [r#"{"items":{}}"#, r#"{"items":[{"size":"1"}]}"#, r#"{"items":[{"name":5}]}"#, "5", "null"] {
            assert!(from_json::<ListPage>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rewrite_continues_only_with_a_token() {
        let done: RewriteResponse = from_json(r#"{"done":true,"resource":{"name":"x"}}"#).unwrap();
        assert_eq!(done.continuation(), Ok(None));
        let more: RewriteResponse = from_json(r#"{"done":false,"rewriteToken":"abc"}"#).unwrap();
        assert_eq!(more.continuation(), Ok(Some("abc")));
        let broken: RewriteResponse = from_json(r#"{"done":false}"#).unwrap();
        assert_eq!(broken.continuation().unwrap_err().kind, ErrorKind::Unknown);
        // An empty token would restart the rewrite from its first step, forever.
        let blank: RewriteResponse = from_json(r#"{"done":false,"rewriteToken":""}"#).unwrap();
        assert_eq!(blank.continuation().unwrap_err().kind, ErrorKind::Unknown);
    }
}
