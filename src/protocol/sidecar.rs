//! The Replit sidecar's protocol: the default bucket and the external-account token
//! exchange (RFC 8693). Pure builders and parsers; `auth` and `client` do the sending.

use crate::prelude::*;
use crate::protocol::document::{Document, FieldError, Fields, FromDocument};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_responses::ErrorEnvelope;
use crate::protocol::http::{HttpRequest, Method};
use crate::protocol::object_name::encode_component;

pub const TOKEN_SCOPES: &str =
    "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/devstorage.full_control";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultBucketBody {
    pub bucket_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectTokenBody {
    pub access_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenBody {
    pub access_token: Option<String>,
    pub expires_in: Option<f64>,
}

impl FromDocument for DefaultBucketBody {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(DefaultBucketBody { bucket_id: fields.string("bucketId")? })
    }
}

impl FromDocument for SubjectTokenBody {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(SubjectTokenBody { access_token: fields.string("access_token")? })
    }
}

impl FromDocument for TokenBody {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(TokenBody { access_token: fields.string("access_token")?, expires_in: fields.number("expires_in")? })
    }
}

/// A bearer token and when it stops working, in milliseconds since the epoch.
#[derive(Clone, PartialEq)]
pub struct AccessToken {
    pub token: String,
    pub expires_at_ms: f64,
}

// Tokens never appear in debug output.
impl core::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AccessToken").field("token", &"<redacted>").field("expires_at_ms", &self.expires_at_ms).finish()
    }
}

/// Google's libraries refresh this long before expiry.
pub const REFRESH_MARGIN_MS: f64 = 5.0 * 60.0 * 1000.0;
/// Lifetime assumed when the token answer does not say.
const DEFAULT_LIFETIME_S: f64 = 3600.0;

impl AccessToken {
    pub fn is_fresh(&self, now_ms: f64) -> bool {
        now_ms + REFRESH_MARGIN_MS < self.expires_at_ms
    }
}

pub fn default_bucket_request(sidecar: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, text!(sidecar, "/object-storage/default-bucket"))
}

pub fn credential_request(sidecar: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, text!(sidecar, "/credential"))
}

pub fn token_exchange_request(sidecar: &str, subject_token: &str) -> HttpRequest {
    let fields = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("audience", "replit"),
        ("scope", TOKEN_SCOPES),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("subject_token", subject_token),
        ("subject_token_type", "access_token"),
    ];
    let form = fields.iter().map(|(key, value)| text!(key, "=", encode_component(value))).collect::<Vec<_>>().join("&");
    HttpRequest::new(Method::Post, text!(sidecar, "/token")).text_body("application/x-www-form-urlencoded", form)
}

const NOT_ON_REPLIT: &str = "make sure you're running on Replit, or pass `bucketId`";

/// The sidecar's refusal to name a default bucket.
pub fn default_bucket_refused(status: u16) -> StorageError {
    StorageError::new(
        ErrorKind::DefaultBucket,
        text!("Failed to fetch default bucket, errorcode: ", status, ", ", NOT_ON_REPLIT),
    )
    .with_status(status)
}

/// The default bucket from the sidecar's successful answer.
pub fn parse_default_bucket(body: &DefaultBucketBody) -> Result<String, StorageError> {
    match body.bucket_id.as_deref() {
        Some(bucket) if !bucket.is_empty() => Ok(bucket.to_string()),
        Some(_) => Err(StorageError::new(
            ErrorKind::DefaultBucket,
            "No default bucket: App Storage has no bucket for this Repl yet (create one in the App Storage tool), or pass `bucketId`",
        )),
        None => Err(StorageError::new(
            ErrorKind::DefaultBucket,
            text!("Failed to fetch default bucket: the answer has no bucketId, ", NOT_ON_REPLIT),
        )),
    }
}

/// When the sidecar cannot be reached, or its answer cannot be read, that too is "no
/// default bucket".
pub fn default_bucket_unreachable(sidecar: &str, cause: &StorageError) -> StorageError {
    StorageError::new(
        ErrorKind::DefaultBucket,
        text!(
            "Failed to fetch default bucket from the Replit sidecar at ",
            sidecar,
            " (",
            cause.message,
            "), ",
            NOT_ON_REPLIT
        ),
    )
}

/// What to set away from Replit, where no sidecar answers.
const OFF_REPLIT: &str =
    "off Replit, set STORAGE_EMULATOR_HOST to use an emulator, or pass `accessToken` (and `bucketId`) for GCS";

/// A token exchange whose request to the sidecar got no answer: the message says where the
/// sidecar was expected and what to set away from Replit. A connection that failed (refused:
/// nothing listens there, as off Replit) is `Unauthorized` at once, where a `Network` error
/// would be retried for seconds to the same end; a sidecar that timed out stays a `Timeout`,
/// worth another try. Other failures (an abort, a malformed answer) pass through as they are.
pub fn token_unreachable(sidecar: &str, cause: StorageError) -> StorageError {
    let kind = match cause.kind {
        ErrorKind::Network => ErrorKind::Unauthorized,
        ErrorKind::Timeout => ErrorKind::Timeout,
        _ => return cause,
    };
    let message = text!(
        "getting an access token needs the Replit sidecar at ",
        sidecar,
        ", which did not answer (",
        cause.message,
        "): ",
        OFF_REPLIT
    );
    StorageError::new(kind, message)
}

/// A refusal from `/credential` or `/token`, as an `Unauthorized` error.
pub fn credential_failure(step: &str, status: u16, body: Option<&ErrorEnvelope>) -> StorageError {
    let detail = body.and_then(ErrorEnvelope::message).unwrap_or_else(|| text!("HTTP ", status));
    StorageError::new(ErrorKind::Unauthorized, text!("Replit sidecar refused the ", step, ": ", detail))
        .with_status(status)
}

pub fn parse_subject_token(body: &SubjectTokenBody) -> Result<String, StorageError> {
    body.access_token
        .clone()
        .filter(|token| !token.is_empty())
        .ok_or_else(|| StorageError::malformed_response("the Replit sidecar", "/credential answer has no access_token"))
}

pub fn parse_token(body: &TokenBody, now_ms: f64) -> Result<AccessToken, StorageError> {
    let token =
        body.access_token.clone().filter(|token| !token.is_empty()).ok_or_else(|| {
            StorageError::malformed_response("the Replit sidecar", "/token answer has no access_token")
        })?;
    let lifetime_s =
        body.expires_in.filter(|seconds| seconds.is_finite() && *seconds > 0.0).unwrap_or(DEFAULT_LIFETIME_S);
    Ok(AccessToken { token, expires_at_ms: now_ms + lifetime_s * 1000.0 })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::http::Body;

    #[test]
    fn token_exchange_sends_every_field_form_encoded() {
        let request = token_exchange_request("http://127.0.0.1:1106", "sub+ject/token=");
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url, "http://127.0.0.1:1106/token");
        assert_eq!(request.header_value("Content-Type"), Some("application/x-www-form-urlencoded"));
        let Body::Text(form) = &request.body else { panic!("form body expected") };
        let fields: Vec<&str> = form.split('&').collect();
        assert_eq!(
            fields,
            vec![
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange",
                "audience=replit",
                "scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.full_control",
                "requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token",
                "subject_token=sub%2Bject%2Ftoken%3D",
                "subject_token_type=access_token",
            ]
        );
    }

    #[test]
    fn sidecar_paths() {
        assert_eq!(default_bucket_request("http://s").url, "http://s/object-storage/default-bucket");
        assert_eq!(credential_request("http://s").url, "http://s/credential");
    }

    #[test]
    fn default_bucket_failures_are_all_default_bucket_errors() {
        let ok = DefaultBucketBody { bucket_id: Some("replit-objstore-1".into()) };
        assert_eq!(parse_default_bucket(&ok), Ok("replit-objstore-1".into()));
        for body in [DefaultBucketBody { bucket_id: Some(String::new()) }, DefaultBucketBody { bucket_id: None }] {
            let error = parse_default_bucket(&body).unwrap_err();
            assert_eq!((error.kind, error.status_code), (ErrorKind::DefaultBucket, None), "{body:?}");
        }
        for status in [404, 500, 403] {
            let error = default_bucket_refused(status);
            assert_eq!((error.kind, error.status_code), (ErrorKind::DefaultBucket, Some(status)));
            assert!(error.message.contains(&format!("errorcode: {status}")));
        }
        let cause = StorageError::new(ErrorKind::Network, "GET http://127.0.0.1:1106 failed: connection refused");
        let unreachable = default_bucket_unreachable("http://127.0.0.1:1106", &cause);
        assert_eq!(unreachable.kind, ErrorKind::DefaultBucket);
        assert_eq!(
            unreachable.message,
            "Failed to fetch default bucket from the Replit sidecar at http://127.0.0.1:1106 \
             (GET http://127.0.0.1:1106 failed: connection refused), make sure you're running on Replit, or pass `bucketId`"
        );
    }

    #[test]
    fn a_sidecar_that_is_not_there_is_named_with_what_to_set_off_replit() {
        let refused = StorageError::new(ErrorKind::Network, "GET http://127.0.0.1:1106 failed: ECONNREFUSED");
        let error = token_unreachable("http://127.0.0.1:1106", refused);
        assert_eq!(error.kind, ErrorKind::Unauthorized, "not a Network error: those are retried for seconds");
        assert_eq!(
            error.message,
            "getting an access token needs the Replit sidecar at http://127.0.0.1:1106, which did not answer \
             (GET http://127.0.0.1:1106 failed: ECONNREFUSED): off Replit, set STORAGE_EMULATOR_HOST to use an \
             emulator, or pass `accessToken` (and `bucketId`) for GCS"
        );
        let slow = token_unreachable("http://s", StorageError::new(ErrorKind::Timeout, "no answer for 5 ms"));
        assert_eq!(slow.kind, ErrorKind::Timeout, "a sidecar that is there but slow is tried again");
        assert!(slow.message.contains("needs the Replit sidecar at http://s"), "{}", slow.message);
        for kind in [ErrorKind::Aborted, ErrorKind::Unknown, ErrorKind::Unauthorized] {
            let cause = StorageError::new(kind, "m");
            assert_eq!(token_unreachable("http://s", cause.clone()), cause);
        }
    }

    #[test]
    fn tokens_expire_with_a_five_minute_margin() {
        let body = TokenBody { access_token: Some("t".into()), expires_in: Some(3600.0) };
        let token = parse_token(&body, 1_000.0).unwrap();
        assert_eq!(token.expires_at_ms, 1_000.0 + 3_600_000.0);
        assert!(token.is_fresh(1_000.0));
        assert!(token.is_fresh(1_000.0 + 3_600_000.0 - REFRESH_MARGIN_MS - 1.0));
        assert!(!token.is_fresh(1_000.0 + 3_600_000.0 - REFRESH_MARGIN_MS));
        let short = parse_token(&TokenBody { access_token: Some("t".into()), expires_in: Some(200.0) }, 0.0).unwrap();
        assert!(!short.is_fresh(0.0), "a token shorter-lived than the margin is refreshed every time");
    }

    #[test]
    fn token_answers_without_a_token_are_malformed() {
        assert!(parse_token(&TokenBody { access_token: None, expires_in: None }, 0.0).is_err());
        assert!(parse_token(&TokenBody { access_token: Some(String::new()), expires_in: None }, 0.0).is_err());
        let no_lifetime =
            parse_token(&TokenBody { access_token: Some("t".into()), expires_in: Some(f64::NAN) }, 0.0).unwrap();
        assert_eq!(no_lifetime.expires_at_ms, 3_600_000.0);
        // A lifetime of 0 s is no lifetime either (a token that expired as it came).
        let zero = parse_token(&TokenBody { access_token: Some("t".into()), expires_in: Some(0.0) }, 0.0).unwrap();
        assert_eq!(zero.expires_at_ms, 3_600_000.0);
        let infinite = TokenBody { access_token: Some("t".into()), expires_in: Some(f64::INFINITY) };
        assert_eq!(parse_token(&infinite, 0.0).unwrap().expires_at_ms, 3_600_000.0);
        assert!(parse_subject_token(&SubjectTokenBody { access_token: None }).is_err());
        assert!(parse_subject_token(&SubjectTokenBody { access_token: Some(String::new()) }).is_err());
        let subject = SubjectTokenBody { access_token: Some("s".into()) };
        assert_eq!(parse_subject_token(&subject).unwrap(), "s");
    }

    #[test]
    fn oauth_refusals_are_unauthorized_and_keep_the_status() {
        let body: ErrorEnvelope = crate::protocol::document::from_json(
            r#"{"error":"invalid_grant","error_description":"bad subject token"}"#,
        )
        .unwrap();
        let error = credential_failure("token exchange", 400, Some(&body));
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        assert_eq!(error.status_code, Some(400));
        assert!(error.message.contains("invalid_grant: bad subject token"));
    }

    #[test]
    fn tokens_are_redacted_from_debug_output() {
        let token = AccessToken { token: "secret-token".into(), expires_at_ms: 0.0 };
        assert_eq!(format!("{token:?}"), r#"AccessToken { token: "<redacted>", expires_at_ms: 0.0 }"#);
    }
}
