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

/// Refuses an option the call does not take. Signing is where an option silently ignored does
/// harm: `@google-cloud/storage`'s `{ action: 'write', expires }` would otherwise give a GET URL
/// for 15 minutes, and a `responseDisposition` or `contentType` would seem to bind the URL
/// when the sidecar signs only the method, the object and the expiry.
fn only_options<D: Document>(fields: &Fields<'_, D>, takes: &[&str], list: &str) -> Result<(), FieldError> {
    for (key, _) in fields.members()? {
        if key == "signal" || takes.contains(&key.as_str()) {
            continue;
        }
        let instead = match key.as_str() {
            "action" => "; the method is `method` (\"GET\", \"PUT\", \"DELETE\" or \"HEAD\")",
            "expires" => "; the lifetime is `expiresIn`, in whole seconds from now",
            _ => "; the Replit sidecar signs only the method, the object and the expiry",
        };
        return Err(text!("`", key, "` is not an option here (it takes ", list, " and `signal`)", instead));
    }
    Ok(())
}

/// Whether a URL can address `object`: a URL's `.` and `..` path segments are resolved before
/// it is sent (`a/../b` is asked for as `b`, and `%2E` counts as a dot), so a URL for a name
/// holding one would address another object, and its signature would not match.
pub fn check_addressable(object: &str) -> Result<(), StorageError> {
    if object.split('/').any(|segment| segment == "." || segment == "..") {
        return Err(StorageError::invalid_argument(
            "a signed URL cannot address an object name with a `.` or `..` segment: URLs resolve them (`a/../b` becomes `b`)",
        ));
    }
    Ok(())
}

impl FromDocument for SignUrlOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        only_options(fields, &["method", "expiresIn"], "`method`, `expiresIn`")?;
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
        only_options(fields, &["contentType", "expiresIn"], "`contentType`, `expiresIn`")?;
        let content_type = fields.string("contentType")?;
        // It becomes a header the browser sends: one non-empty line, in ASCII (`fetch` and
        // `XMLHttpRequest` refuse a header with characters past U+00FF).
        if content_type.as_deref().is_some_and(|value| {
            value.trim_ascii().is_empty()
                || !value.is_ascii()
                || value.chars().any(|c| c.is_ascii_control() && c != '\t')
        }) {
            return Err(
                "`contentType` must be a non-empty media type on one line, in ASCII, such as \"image/png\"".into()
            );
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
        let tabbed: UploadUrlOptions = from_json(r#"{"contentType":"text/plain;\tcharset=utf-8"}"#).unwrap();
        assert_eq!(tabbed.content_type.as_deref(), Some("text/plain;\tcharset=utf-8"));
        let bad_types = [
            r#""""#,
            r#""  ""#,
            r#""text/plain\r\nX-Evil: 1""#,
            "5",
            r#""text/plain; name=\u20ac""#,
            r#""a/b; n=\u00e9""#,
            r#""a/b\u0000""#,
        ];
        for bad in bad_types {
            assert!(from_json::<UploadUrlOptions>(&format!(r#"{{"contentType":{bad}}}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_the_call_does_not_take_are_refused_by_name() {
        let error = from_json::<SignUrlOptions>(r#"{"action":"write","expires":1700000000000}"#).unwrap_err();
        assert_eq!(
            error,
            "`action` is not an option here (it takes `method`, `expiresIn` and `signal`); the method is `method` (\"GET\", \"PUT\", \"DELETE\" or \"HEAD\")"
        );
        let error = from_json::<UploadUrlOptions>(r#"{"expires":1700000000000}"#).unwrap_err();
        assert!(error.ends_with("the lifetime is `expiresIn`, in whole seconds from now"), "{error}");
        for (json, key) in [
            (r#"{"contentType":"image/png"}"#, "contentType"),
            (r#"{"method":"PUT","responseDisposition":"x"}"#, "responseDisposition"),
        ] {
            let error = from_json::<SignUrlOptions>(json).unwrap_err();
            assert!(error.starts_with(&format!("`{key}` is not an option here")), "{error}");
            assert!(error.ends_with("the Replit sidecar signs only the method, the object and the expiry"), "{error}");
        }
        assert!(from_json::<UploadUrlOptions>(r#"{"method":"PUT"}"#)
            .unwrap_err()
            .starts_with("`method` is not an option here"));
        assert!(from_json::<SignUrlOptions>(r#"{"method":"PUT","expiresIn":60,"signal":null}"#).is_ok());
        assert!(from_json::<UploadUrlOptions>(r#"{"contentType":"a/b","expiresIn":60,"signal":null}"#).is_ok());
    }

    #[test]
    fn names_with_dot_segments_cannot_be_addressed_by_a_url() {
        for name in ["a/../b", "a/./b", "../x", "x/..", "./x", "a/b/."] {
            let error = check_addressable(name).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{name}");
            assert!(error.message.contains("`a/../b` becomes `b`"), "{name}");
        }
        for name in ["a..b", ".hidden", "a/.../b", "a//b", "dir/", "..a/b.", "%2E%2E/x"] {
            assert_eq!(check_addressable(name), Ok(()), "{name}");
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
