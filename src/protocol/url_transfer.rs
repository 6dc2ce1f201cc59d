//! Transfers through a signed URL (`uploadToUrl`, `downloadFromUrl`), in every build (the
//! signing itself is `signed_url`'s, server-only). The URL carries the authorisation, so its
//! signature is a secret to keep out of messages; its gateway (GCS's XML API) answers failures
//! as `<Error><Code>…</Code><Message>…</Message></Error>`, mapped here to error kinds.

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::gcs_responses::{kind_for_status, Target};
use crate::protocol::text::{find, split_once};

/// The signature in a signed URL's query (`X-Goog-Signature` of V4, `Signature` of V2): a
/// credential, removed from every message about the transfer.
pub fn signature(url: &str) -> Option<&str> {
    let query = url.get(find(url, "?")?..)?;
    let value = query.get(find(query, "Signature=")? + "Signature=".len()..)?;
    let end = value.bytes().position(|byte| byte == b'&' || byte == b'#').unwrap_or(value.len());
    value.get(..end).filter(|value| !value.is_empty())
}

/// An error answer of GCS's XML API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub code: String,
    pub message: Option<String>,
    /// What GCS adds for some codes (whose access was denied, when the URL expired).
    pub details: Option<String>,
}

/// The `<Error>` document of a failed answer, if the body is one.
pub fn parse_xml_error(body: &str) -> Option<XmlError> {
    let error = body.get(find(body, "<Error>")?..)?;
    Some(XmlError {
        code: element(error, "<Code>", "</Code>").filter(|code| !code.is_empty())?,
        message: element(error, "<Message>", "</Message>").filter(|message| !message.is_empty()),
        details: element(error, "<Details>", "</Details>").filter(|details| !details.is_empty()),
    })
}

/// The text between the first `open` tag in `xml` and the `close` after it, trimmed, its
/// entities decoded.
fn element(xml: &str, open: &str, close: &str) -> Option<String> {
    let rest = xml.get(find(xml, open)? + open.len()..)?;
    Some(unescape(rest.get(..find(rest, close)?)?.trim_ascii()))
}

/// XML character data with its five named entities decoded (GCS's messages need no numeric
/// references); any other `&` is kept as it is.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((before, after)) = split_once(rest, b'&') {
        out.push_str(before);
        match split_once(after, b';').and_then(|(entity, tail)| Some((entity_char(entity)?, tail))) {
            Some((decoded, tail)) => {
                out.push(decoded);
                rest = tail;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity_char(entity: &str) -> Option<char> {
    Some(match entity {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// What a request through a signed URL is about, for messages (a URL names no bucket).
pub const TARGET: Target = Target { bucket: "", object: Some("the signed URL's object") };

/// The error for an XML error answer, on its code (else its status). An expired URL is
/// `Forbidden`, as a wrong signature is: the URL no longer grants the request, and the remedy
/// is the same (ask the server for a new one); its status stays 400, as GCS sends it.
pub fn xml_failure(status: u16, xml: XmlError) -> StorageError {
    // The status says the rest: 403 (`AccessDenied`, `SignatureDoesNotMatch`) is `Forbidden`,
    // 404 (`NoSuchKey`) `ObjectNotFound`, 412 `PreconditionFailed`, 429 and 5xx as elsewhere.
    let kind = match xml.code.as_str() {
        "NoSuchBucket" => ErrorKind::BucketNotFound,
        "ExpiredToken" => ErrorKind::Forbidden,
        _ => kind_for_status(status),
    };
    let expired = xml.code == "ExpiredToken";
    let mut message = xml.code;
    if let Some(said) = xml.message {
        message = text!(message, ": ", said);
    }
    if let Some(details) = xml.details {
        message = text!(message, " ", details);
    }
    if expired {
        message = text!("the signed URL has expired: ask for a new one (", message, ")");
    }
    StorageError::new(kind, message).with_status(status)
}

/// A failure's message scrubbed of the URL's signature.
pub fn scrubbed(error: StorageError, url: &str) -> StorageError {
    error.redacted(signature(url))
}

/// Whether `url` is one the client can send to (an absolute http or https URL).
pub fn check_url(url: &str) -> Result<(), StorageError> {
    if crate::protocol::http::is_http_url(url) {
        return Ok(());
    }
    Err(StorageError::invalid_argument("url must be an http:// or https:// URL (a signed URL from your server)"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SIGNED: &str = "https://storage.googleapis.com/b/o.png?X-Goog-Algorithm=GOOG4-RSA-SHA256\
        &X-Goog-Credential=sa%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260101T000000Z\
        &X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=0a1b2c3d4e5f";

    fn xml(code: &str, message: &str) -> String {
        format!("<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>")
    }

    #[test]
    fn finds_the_signature_of_v4_and_v2_urls() {
        assert_eq!(signature(SIGNED), Some("0a1b2c3d4e5f"));
        assert_eq!(signature("https://h/b/o?a=1&X-Goog-Signature=abc#frag"), Some("abc"));
        assert_eq!(signature("https://h/b/o?GoogleAccessId=a&Expires=1&Signature=ab%2Bc%3D"), Some("ab%2Bc%3D"));
        assert_eq!(signature("https://h/b/o?X-Goog-Signature="), None);
        assert_eq!(signature("https://h/b/o"), None);
        assert_eq!(signature("https://h/b/Signature=x/o"), None);
    }

    #[test]
    fn messages_never_keep_the_signature() {
        let error = StorageError::new(ErrorKind::Network, text!("request failed: Failed to parse URL from ", SIGNED));
        let scrubbed = scrubbed(error, SIGNED);
        assert!(!scrubbed.message.contains("0a1b2c3d4e5f"), "{}", scrubbed.message);
        assert!(scrubbed.message.contains("X-Goog-Signature=[redacted]"), "{}", scrubbed.message);
    }

    #[test]
    fn reads_gcs_xml_errors() {
        let body = "<?xml version='1.0' encoding='UTF-8'?>\n<Error>\n  <Code>AccessDenied</Code>\n  \
            <Message>Access denied.</Message>\n  <Details>sa@p.iam does not have storage.objects.create access.</Details>\n</Error>";
        let parsed = parse_xml_error(body).unwrap();
        assert_eq!(parsed.code, "AccessDenied");
        assert_eq!(parsed.message.as_deref(), Some("Access denied."));
        assert_eq!(parsed.details.as_deref(), Some("sa@p.iam does not have storage.objects.create access."));
        assert_eq!(parse_xml_error(r#"{"error":{"code":403}}"#), None);
        assert_eq!(parse_xml_error("<Error><Message>no code</Message></Error>"), None);
        assert_eq!(parse_xml_error("<Error><Code>X</Code>").map(|e| e.message), Some(None));
    }

    fn mapped(status: u16, body: &str) -> StorageError {
        xml_failure(status, parse_xml_error(body).unwrap())
    }

    #[test]
    fn maps_codes_and_statuses_to_kinds() {
        let cases = [
            (403, "SignatureDoesNotMatch", ErrorKind::Forbidden),
            (403, "AccessDenied", ErrorKind::Forbidden),
            (400, "ExpiredToken", ErrorKind::Forbidden),
            (404, "NoSuchKey", ErrorKind::ObjectNotFound),
            (404, "NoSuchBucket", ErrorKind::BucketNotFound),
            (412, "PreconditionFailed", ErrorKind::PreconditionFailed),
            (400, "InvalidArgument", ErrorKind::InvalidArgument),
            (429, "SlowDown", ErrorKind::TooManyRequests),
            (503, "ServiceUnavailable", ErrorKind::ServerError),
            (500, "InternalError", ErrorKind::ServerError),
        ];
        for (status, code, kind) in cases {
            let error = mapped(status, &xml(code, "said"));
            assert_eq!((error.kind, error.status_code), (kind, Some(status)), "{status} {code}");
            assert!(error.message.contains(&format!("{code}: said")), "{}", error.message);
        }
        let details =
            "<Error><Code>AccessDenied</Code><Message>Access denied.</Message><Details>sa lacks it.</Details></Error>";
        assert_eq!(mapped(403, details).message, "AccessDenied: Access denied. sa lacks it.");
        assert_eq!(mapped(403, "<Error><Code>AccessDenied</Code></Error>").message, "AccessDenied");
    }

    #[test]
    fn an_expired_url_says_so() {
        let error = mapped(400, &xml("ExpiredToken", "Invalid argument."));
        assert_eq!(error.kind, ErrorKind::Forbidden);
        assert_eq!(error.message, "the signed URL has expired: ask for a new one (ExpiredToken: Invalid argument.)");
    }

    #[test]
    fn decodes_entities_and_keeps_stray_ampersands() {
        assert_eq!(unescape("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;"), "a <b> & \"c\" 'd'");
        assert_eq!(unescape("AT&T; & &unknown; &#65; &"), "AT&T; & &unknown; &#65; &");
    }

    #[test]
    fn urls_must_be_http() {
        assert!(check_url(SIGNED).is_ok());
        assert!(check_url("http://127.0.0.1:4480/b/o").is_ok());
        for bad in ["", "/relative", "ftp://h/o", "javascript:alert(1)", "http:/x"] {
            assert_eq!(check_url(bad).unwrap_err().kind, ErrorKind::InvalidArgument, "{bad}");
        }
    }

    proptest! {
        /// The decoder against quick-xml's: whatever quick-xml escapes comes back unchanged, and
        /// where quick-xml can unescape a text, both read it alike.
        #[test]
        fn unescape_agrees_with_quick_xml(text in "\\PC*", raw in "[a-z&;<> ]*") {
            let escaped = quick_xml::escape::escape(text.as_str());
            prop_assert_eq!(unescape(&escaped), text.clone());
            let body = xml("SignatureDoesNotMatch", &escaped);
            let parsed = parse_xml_error(&body).unwrap().message;
            prop_assert_eq!(parsed, Some(text.trim_ascii().to_string()).filter(|t| !t.is_empty()));
            if let Ok(theirs) = quick_xml::escape::unescape(&raw) {
                prop_assert_eq!(unescape(&raw), theirs.into_owned());
            }
        }

        #[test]
        fn parsing_and_mapping_never_panic(body in ".*", status in 100u16..600) {
            if let Some(xml) = parse_xml_error(&body) {
                let _ = xml_failure(status, xml);
            }
            let _ = signature(&body);
        }
    }
}
