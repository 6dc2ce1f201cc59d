//! Signed URLs, which only the Replit sidecar can make (`@google-cloud/storage`'s own signing
//! fails on Replit for want of a `client_email`): the options of `signUrl` and
//! `createUploadUrl`, the sidecar request, and the reading of its answer or refusal. Pure; the
//! wasm side (`wasm::signing`) sends the request and adds the clock.

use crate::prelude::*;
use crate::protocol::document::{whole_number, Document, FieldError, Fields, FromDocument};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_responses::{kind_for_status, ErrorEnvelope};
use crate::protocol::http::{is_http_url, HttpRequest, Method};
use crate::protocol::json::JsonObject;

/// What a URL is signed for when the caller does not say.
pub const DEFAULT_EXPIRES_IN_S: u32 = 900;
/// GCS's limit for V4 signed URLs: 7 days.
pub const MAX_EXPIRES_IN_S: u32 = 7 * 24 * 60 * 60;

/// The HTTP methods the sidecar signs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedMethod {
    Get,
    Put,
    Delete,
    Head,
}

impl SignedMethod {
    pub const ALL: [SignedMethod; 4] = [SignedMethod::Get, SignedMethod::Put, SignedMethod::Delete, SignedMethod::Head];

    pub fn as_str(self) -> &'static str {
        match self {
            SignedMethod::Get => "GET",
            SignedMethod::Put => "PUT",
            SignedMethod::Delete => "DELETE",
            SignedMethod::Head => "HEAD",
        }
    }

    /// The method named in any letter case, as `fetch` normalises these four (`'get'` is GET).
    pub fn parse(name: &str) -> Option<SignedMethod> {
        SignedMethod::ALL.into_iter().find(|method| method.as_str().eq_ignore_ascii_case(name))
    }
}

/// `signUrl`'s options besides the signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUrlOptions {
    pub method: SignedMethod,
    pub expires_in_s: u32,
}

impl Default for SignUrlOptions {
    fn default() -> Self {
        SignUrlOptions { method: SignedMethod::Get, expires_in_s: DEFAULT_EXPIRES_IN_S }
    }
}

/// `createUploadUrl`'s options besides the signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadUrlOptions {
    /// The type the browser must send; `None` means the one guessed from the object's name.
    pub content_type: Option<String>,
    pub expires_in_s: u32,
}

impl Default for UploadUrlOptions {
    fn default() -> Self {
        UploadUrlOptions { content_type: None, expires_in_s: DEFAULT_EXPIRES_IN_S }
    }
}

/// `expiresIn`: whole seconds, 1 to 7 days; absent means 15 minutes.
fn expires_in<D: Document>(fields: &Fields<'_, D>) -> Result<u32, FieldError> {
    let Some(value) = fields.raw("expiresIn") else { return Ok(DEFAULT_EXPIRES_IN_S) };
    value
        .as_number()
        .and_then(whole_number)
        .and_then(|seconds| u32::try_from(seconds).ok())
        .filter(|seconds| (1..=MAX_EXPIRES_IN_S).contains(seconds))
        .ok_or_else(|| text!("`expiresIn` must be a whole number of seconds from 1 to ", MAX_EXPIRES_IN_S, " (7 days)"))
}

impl FromDocument for SignUrlOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let method = match fields.raw("method") {
            None => SignedMethod::Get,
            Some(value) => value
                .as_string()
                .and_then(|name| SignedMethod::parse(&name))
                .ok_or("`method` must be \"GET\", \"PUT\", \"DELETE\" or \"HEAD\"")?,
        };
        Ok(SignUrlOptions { method, expires_in_s: expires_in(fields)? })
    }
}

impl FromDocument for UploadUrlOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let content_type = fields.string("contentType")?;
        // It becomes a header the browser sends: one non-empty line.
        if content_type
            .as_deref()
            .is_some_and(|value| value.trim_ascii().is_empty() || value.chars().any(char::is_control))
        {
            return Err("`contentType` must be a non-empty media type on one line, such as \"image/png\"".into());
        }
        Ok(UploadUrlOptions { content_type, expires_in_s: expires_in(fields)? })
    }
}

/// `POST {sidecar}/object-storage/signed-object-url` with the JSON body Replit's generated
/// apps send. `expires_at` is an ISO 8601 UTC time (JavaScript's `Date#toISOString`).
pub fn signed_url_request(
    sidecar: &str,
    bucket: &str,
    object: &str,
    method: SignedMethod,
    expires_at: &str,
) -> HttpRequest {
    let mut body = JsonObject::default();
    body.string("bucket_name", Some(bucket))
        .string("object_name", Some(object))
        .string("method", Some(method.as_str()))
        .string("expires_at", Some(expires_at));
    HttpRequest::new(Method::Post, text!(sidecar, "/object-storage/signed-object-url"))
        .text_body("application/json", body.finish())
}

/// The sidecar's successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrlBody {
    pub signed_url: Option<String>,
}

impl FromDocument for SignedUrlBody {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(SignedUrlBody { signed_url: fields.string("signed_url")? })
    }
}

const SIDECAR: &str = "the Replit sidecar";

/// The URL in the answer, which must be an absolute http(s) URL.
pub fn parse_signed_url(body: &SignedUrlBody) -> Result<String, StorageError> {
    match body.signed_url.as_deref() {
        Some(url) if is_http_url(url) => Ok(url.to_string()),
        Some(_) => Err(StorageError::malformed_response(SIDECAR, "`signed_url` is not an http(s) URL")),
        None => Err(StorageError::malformed_response(SIDECAR, "the answer has no `signed_url`")),
    }
}

/// A refusal to sign, typed by its status as GCS's answers are (403 `Forbidden`, 404
/// `ObjectNotFound`, 5xx `ServerError`, ...), with the sidecar's own words when it sent any.
pub fn signing_refused(status: u16, body: Option<&ErrorEnvelope>, bucket: &str, object: &str) -> StorageError {
    let detail = body.and_then(ErrorEnvelope::message).unwrap_or_else(|| text!("HTTP ", status));
    StorageError::new(
        kind_for_status(status),
        text!("the Replit sidecar refused to sign a URL for ", bucket, "/", object, ": ", detail),
    )
    .with_status(status)
}

/// A request to the sidecar that got no answer (`Network`, `Timeout`) means signing works only
/// on Replit: the message says so, and the kind stays the cause's. Other failures (an abort)
/// pass through as they are.
pub fn sidecar_unreachable(sidecar: &str, cause: StorageError) -> StorageError {
    if !matches!(cause.kind, ErrorKind::Network | ErrorKind::Timeout) {
        return cause;
    }
    let message = text!(
        "signing a URL needs the Replit sidecar at ",
        sidecar,
        ", which did not answer (",
        cause.message,
        "): signed URLs can only be made on Replit (in a Repl or a Deployment)"
    );
    StorageError::new(cause.kind, message)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;
    use crate::protocol::http::Body;
    use proptest::prelude::*;

    #[test]
    fn the_request_is_the_generated_apps_json() {
        let request = signed_url_request(
            "http://127.0.0.1:1106",
            "replit-objstore-1",
            "dir/a \"b\".png",
            SignedMethod::Put,
            "2026-12-02T14:35:00.000Z",
        );
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url, "http://127.0.0.1:1106/object-storage/signed-object-url");
        assert_eq!(request.header_value("content-type"), Some("application/json"));
        let Body::Text(json) = &request.body else { panic!("a JSON body expected") };
        let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "bucket_name": "replit-objstore-1",
                "object_name": "dir/a \"b\".png",
                "method": "PUT",
                "expires_at": "2026-12-02T14:35:00.000Z",
            })
        );
    }

    #[test]
    fn options_default_to_a_get_for_fifteen_minutes() {
        assert_eq!(from_json::<SignUrlOptions>("{}").unwrap(), SignUrlOptions::default());
        assert_eq!(SignUrlOptions::default(), SignUrlOptions { method: SignedMethod::Get, expires_in_s: 900 });
        assert_eq!(
            from_json::<UploadUrlOptions>("{}").unwrap(),
            UploadUrlOptions { content_type: None, expires_in_s: 900 }
        );
        let explicit: SignUrlOptions = from_json(r#"{"method":"delete","expiresIn":604800}"#).unwrap();
        assert_eq!(explicit, SignUrlOptions { method: SignedMethod::Delete, expires_in_s: MAX_EXPIRES_IN_S });
    }

    #[test]
    fn methods_are_the_four_in_any_case() {
        for method in SignedMethod::ALL {
            assert_eq!(SignedMethod::parse(method.as_str()), Some(method));
            assert_eq!(SignedMethod::parse(&method.as_str().to_ascii_lowercase()), Some(method));
        }
        for bad in [
            r#"{"method":"POST"}"#,
            r#"{"method":"PATCH"}"#,
            r#"{"method":""}"#,
            r#"{"method":" GET"}"#,
            r#"{"method":1}"#,
        ] {
            let error = from_json::<SignUrlOptions>(bad).unwrap_err();
            assert_eq!(error, r#"`method` must be "GET", "PUT", "DELETE" or "HEAD""#, "{bad}");
        }
    }

    #[test]
    fn expiry_is_whole_seconds_from_one_to_seven_days() {
        for good in [1, 60, 900, 86_400, 604_800] {
            let options: SignUrlOptions = from_json(&format!(r#"{{"expiresIn":{good}}}"#)).unwrap();
            assert_eq!(options.expires_in_s, good);
        }
        for bad in ["0", "-1", "604801", "1.5", "\"900\"", "true", "1e30", "{}"] {
            let error = from_json::<UploadUrlOptions>(&format!(r#"{{"expiresIn":{bad}}}"#)).unwrap_err();
            assert!(error.contains("`expiresIn` must be a whole number of seconds from 1 to 604800"), "{bad}: {error}");
        }
    }

    #[test]
    fn an_upload_content_type_is_one_non_empty_line() {
        let given: UploadUrlOptions = from_json(r#"{"contentType":"image/png"}"#).unwrap();
        assert_eq!(given.content_type.as_deref(), Some("image/png"));
        for bad in [r#""""#, r#""  ""#, r#""text/plain\r\nX-Evil: 1""#, "5"] {
            assert!(from_json::<UploadUrlOptions>(&format!(r#"{{"contentType":{bad}}}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_answer_must_hold_an_http_url() {
        let body: SignedUrlBody =
            from_json(r#"{"signed_url":"https://storage.googleapis.com/b/o?X-Goog-Signature=1"}"#).unwrap();
        assert_eq!(parse_signed_url(&body).unwrap(), "https://storage.googleapis.com/b/o?X-Goog-Signature=1");
        for bad in [r#"{}"#, r#"{"signed_url":""}"#, r#"{"signed_url":"ftp://x"}"#] {
            let error = parse_signed_url(&from_json(bad).unwrap()).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Unknown, "{bad}");
            assert!(
                error.message.starts_with("malformed response from the Replit sidecar"),
                "{bad}: {}",
                error.message
            );
        }
        assert!(from_json::<SignedUrlBody>(r#"{"signed_url":5}"#).is_err());
    }

    #[test]
    fn refusals_are_typed_by_status_and_keep_the_sidecars_words() {
        let body: ErrorEnvelope = from_json(r#"{"error":"no access to bucket b"}"#).unwrap();
        let error = signing_refused(403, Some(&body), "b", "o.txt");
        assert_eq!((error.kind, error.status_code), (ErrorKind::Forbidden, Some(403)));
        assert_eq!(error.message, "the Replit sidecar refused to sign a URL for b/o.txt: no access to bucket b");
        for (status, kind) in [
            (401, ErrorKind::Unauthorized),
            (404, ErrorKind::ObjectNotFound),
            (429, ErrorKind::TooManyRequests),
            (503, ErrorKind::ServerError),
        ] {
            let error = signing_refused(status, None, "b", "o");
            assert_eq!((error.kind, error.status_code), (kind, Some(status)));
            assert!(error.message.ends_with(&format!("HTTP {status}")));
        }
    }

    #[test]
    fn no_sidecar_says_signing_needs_replit() {
        for kind in [ErrorKind::Network, ErrorKind::Timeout] {
            let cause = StorageError::new(kind, "request failed: connect ECONNREFUSED");
            let error = sidecar_unreachable("http://127.0.0.1:1106", cause);
            assert_eq!((error.kind, error.status_code), (kind, None));
            assert!(error.message.contains("needs the Replit sidecar at http://127.0.0.1:1106"));
            assert!(error.message.contains("ECONNREFUSED"));
            assert!(error.message.contains("only be made on Replit"));
        }
        let aborted = StorageError::new(ErrorKind::Aborted, "the operation was aborted by its signal");
        assert_eq!(sidecar_unreachable("http://s", aborted.clone()), aborted);
    }

    proptest! {
        #[test]
        fn any_names_make_a_body_that_parses_back(bucket in any::<String>(), object in any::<String>(), at in "[0-9TZ:.-]{0,30}") {
            let request = signed_url_request("http://s", &bucket, &object, SignedMethod::Head, &at);
            let Body::Text(json) = &request.body else { panic!("a JSON body expected") };
            let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
            prop_assert_eq!(parsed, serde_json::json!({"bucket_name": bucket, "object_name": object, "method": "HEAD", "expires_at": at}));
        }

        #[test]
        fn expiry_accepts_exactly_the_whole_seconds_in_range(
            seconds in prop_oneof![(-10i64..700_000).prop_map(|whole| whole as f64), -10.0f64..700_000.0]
        ) {
            let parsed = from_json::<SignUrlOptions>(&format!(r#"{{"expiresIn":{seconds}}}"#));
            let valid = seconds.fract() == 0.0 && (1.0..=604_800.0).contains(&seconds);
            prop_assert_eq!(parsed.is_ok(), valid);
            if valid {
                prop_assert_eq!(parsed.unwrap().expires_in_s as f64, seconds);
            }
        }
    }
}
