//! Serving an object over HTTP, decided without I/O: from the object's metadata and the
//! request's method and headers, the status, headers and body an answer has, as the npm `send`
//! package answers (Content-Type, Content-Length, ETag, Last-Modified, Accept-Ranges,
//! Cache-Control; one `Range` on a GET → 206, an unsatisfiable one → 416; conditional requests
//! → 304 or 412; HEAD → headers only), and the short answers for failures (404, 5xx) that never
//! carry an error's message. Where `send` departs from RFC 9110, the RFC wins (see
//! `conditional`; and a HEAD ignores `Range`, §14.2).
//!
//! Every header value it answers with can be sent by every runtime: stored metadata that cannot
//! (a character beyond Latin-1, a control character) makes the answer a failure, as does an
//! option that cannot; a header is never dropped, as a missing `Content-Disposition:
//! attachment` would let a browser render what the app meant to be downloaded.
//!
//! The ETag is `"<generation>-<metageneration>"`: strong, as one generation's bytes never
//! change, and new whenever the bytes change (a new generation) or the metadata the answer's
//! headers come from does (a new metageneration).

use crate::prelude::*;
use crate::protocol::conditional::{self, Current, Outcome, Validators};
use crate::protocol::content_disposition::{self, Disposition};
use crate::protocol::content_type;
use crate::protocol::document::{Document, FieldError, Fields, FromDocument};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::http_date;
use crate::protocol::object_metadata::{is_coded, ObjectMetadata};
use crate::protocol::range_header::{self, RangeRequest};

/// What `send` sends when nothing else says: cacheable, but revalidated on every use.
pub const DEFAULT_CACHE_CONTROL: &str = "public, max-age=0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeMethod {
    Get,
    Head,
    /// Anything else: 405.
    Other,
}

impl ServeMethod {
    /// From a request's method (case-insensitive; a missing one is GET).
    pub fn parse(method: Option<&str>) -> ServeMethod {
        match method {
            None => ServeMethod::Get,
            Some(name) if name.eq_ignore_ascii_case("GET") => ServeMethod::Get,
            Some(name) if name.eq_ignore_ascii_case("HEAD") => ServeMethod::Head,
            Some(_) => ServeMethod::Other,
        }
    }
}

/// What the request says that serving reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeRequest {
    pub method: ServeMethod,
    pub range: Option<String>,
    pub validators: Validators,
}

/// The names of the request headers `ServeRequest` is read from, lowercase.
pub const REQUEST_HEADERS: [&str; 6] =
    ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range"];

impl ServeRequest {
    /// From the method and the values of `REQUEST_HEADERS`, in that order.
    pub fn new(method: ServeMethod, headers: [Option<String>; 6]) -> ServeRequest {
        let [range, if_match, if_none_match, if_modified_since, if_unmodified_since, if_range] = headers;
        let validators = Validators { if_match, if_none_match, if_modified_since, if_unmodified_since, if_range };
        ServeRequest { method, range, validators }
    }
}

/// `serve`'s options besides the signal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// `Cache-Control` of the answer; default: the object's own, else `public, max-age=0`.
    pub cache_control: Option<String>,
    pub disposition: Option<Disposition>,
    /// The name a download is saved under; default: the object name's last segment.
    pub filename: Option<String>,
}

impl FromDocument for ServeOptions {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        let disposition = match fields.string("disposition")? {
            None => None,
            Some(value) => Some(
                Disposition::parse(&value)
                    .ok_or_else(|| String::from("`disposition` must be \"inline\" or \"attachment\""))?,
            ),
        };
        let cache_control = fields.string("cacheControl")?;
        if cache_control.as_deref().is_some_and(|value| !sendable(value)) {
            return Err(String::from("`cacheControl` must be Latin-1 text without control characters"));
        }
        Ok(ServeOptions { cache_control, disposition, filename: fields.string("filename")? })
    }
}

/// What follows an answer's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing (HEAD, 304).
    Empty,
    /// The object's bytes: all of them, or `start..=end`.
    Object { range: Option<(u64, u64)> },
    /// A short text, for answers that are not the object.
    Text(&'static str),
}

/// An answer: status, headers, and what its body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

impl Answer {
    /// A short `text/plain` answer (its headers say its length even when HEAD drops it).
    fn text(status: u16, message: &'static str, head: bool) -> Answer {
        let headers = vec![
            ("Content-Type", String::from("text/plain; charset=utf-8")),
            ("Content-Length", text!(message.len())),
            ("X-Content-Type-Options", String::from("nosniff")),
        ];
        Answer { status, headers, body: if head { Body::Empty } else { Body::Text(message) } }
    }

    fn with(mut self, name: &'static str, value: String) -> Answer {
        self.headers.push((name, value));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// 405 for a method other than GET and HEAD.
    pub fn method_not_allowed() -> Answer {
        Answer::text(405, "Method Not Allowed", false).with("Allow", String::from("GET, HEAD"))
    }

    /// 404: no such object (or a name no object can have).
    pub fn not_found(method: ServeMethod) -> Answer {
        Answer::text(404, "Not Found", method == ServeMethod::Head)
    }

    /// The answer for a failure before any byte of the object was sent: 404 for a missing
    /// object, 5xx otherwise (504 for a timeout, 503 for what may pass, 502 for a storage
    /// answer that could not be used, 500 for a bad call). Only the status's reason is sent,
    /// never the error's message.
    pub fn failure(error: &StorageError, method: ServeMethod) -> Answer {
        let head = method == ServeMethod::Head;
        match error.kind {
            ErrorKind::ObjectNotFound => Answer::not_found(method),
            ErrorKind::Timeout => Answer::text(504, "Gateway Timeout", head),
            ErrorKind::TooManyRequests
            | ErrorKind::Aborted
            | ErrorKind::DefaultBucket
            | ErrorKind::PreconditionFailed => Answer::text(503, "Service Unavailable", head),
            ErrorKind::InvalidArgument | ErrorKind::Unsupported => Answer::text(500, "Internal Server Error", head),
            _ => Answer::text(502, "Bad Gateway", head),
        }
    }
}

/// Whether every runtime sends `value` as a header value: tabs, visible ASCII, spaces, and
/// Latin-1's upper half (Node's rule, the strictest; fetch's `Headers` also refuses anything
/// beyond Latin-1).
fn sendable(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || (' '..='~').contains(&c) || ('\u{80}'..='\u{ff}').contains(&c))
}

/// `answer` as it is, or the failure its first header no runtime can send stands for.
fn sendable_answer(answer: Answer) -> Result<Answer, StorageError> {
    match answer.headers.iter().find(|(_, value)| !sendable(value)) {
        None => Ok(answer),
        Some((name, _)) => Err(StorageError::new(
            ErrorKind::Unknown,
            text!(
                "the object's metadata cannot be sent as its ",
                name,
                " header: it holds a character beyond Latin-1 or a control character"
            ),
        )),
    }
}

/// The strong ETag of an object's current generation and metageneration.
pub fn etag(meta: &ObjectMetadata) -> Option<String> {
    let generation = meta.generation.as_deref()?;
    Some(match meta.metageneration.as_deref() {
        Some(metageneration) => text!("\"", generation, "-", metageneration, "\""),
        None => text!("\"", generation, "\""),
    })
}

/// Last-Modified, in seconds: the object's `updated` (its last change, data or metadata).
pub fn last_modified(meta: &ObjectMetadata) -> Option<u64> {
    meta.updated.as_deref().or(meta.time_created.as_deref()).and_then(http_date::parse_rfc3339)
}

/// The answer for a GET or HEAD of the object `meta` describes, or the failure (`Unknown`) of
/// metadata that makes a header no runtime can send.
pub fn answer(meta: &ObjectMetadata, request: &ServeRequest, options: &ServeOptions) -> Result<Answer, StorageError> {
    sendable_answer(decide(meta, request, options))
}

fn decide(meta: &ObjectMetadata, request: &ServeRequest, options: &ServeOptions) -> Answer {
    if request.method == ServeMethod::Other {
        return Answer::method_not_allowed();
    }
    let head = request.method == ServeMethod::Head;
    let etag = etag(meta);
    let last_modified = last_modified(meta);
    let current = Current { etag: etag.as_deref(), last_modified };
    let cache_control = options
        .cache_control
        .clone()
        .or_else(|| meta.cache_control.clone())
        .unwrap_or_else(|| String::from(DEFAULT_CACHE_CONTROL));
    let mut validators = Vec::new();
    if let Some(etag) = &etag {
        validators.push(("ETag", etag.clone()));
    }
    if let Some(secs) = last_modified {
        validators.push(("Last-Modified", http_date::format(secs)));
    }
    validators.push(("Cache-Control", cache_control));
    // Stored with a coding: it reaches us decoded (GCS decompresses gzip, fetch decodes the
    // rest), of a length nobody knows, and no range of it can be read.
    let decoded = is_coded(meta.content_encoding.as_deref());
    // Kept on a 304, as `send` keeps it.
    validators.push(("Accept-Ranges", String::from(if decoded { "none" } else { "bytes" })));

    match conditional::evaluate(&request.validators, current) {
        Outcome::Failed => return Answer::text(412, "Precondition Failed", head),
        Outcome::NotModified => return Answer { status: 304, headers: validators, body: Body::Empty },
        Outcome::Proceed => {}
    }

    let size = meta.size.unwrap_or(0);
    let range = match &request.range {
        Some(header) if !head && !decoded && conditional::range_applies(&request.validators, current) => {
            range_header::parse(header, size)
        }
        _ => RangeRequest::Whole,
    };
    if range == RangeRequest::Unsatisfiable {
        return Answer::text(416, "Range Not Satisfiable", head).with("Content-Range", text!("bytes */", size));
    }

    let content_type = meta.content_type.clone().unwrap_or_else(|| content_type::guess(&meta.name));
    let mut headers = vec![("Content-Type", content_type)];
    headers.append(&mut validators);
    let disposition = match (options.disposition, &options.filename) {
        (None, None) => meta.content_disposition.clone(),
        (disposition, filename) => Some(content_disposition::header(
            disposition.unwrap_or(Disposition::Attachment),
            filename.as_deref().unwrap_or(&meta.name),
        )),
    };
    if let Some(disposition) = disposition {
        headers.push(("Content-Disposition", disposition));
    }
    let (status, range) = match range {
        RangeRequest::Partial { start, end } => {
            headers.push(("Content-Range", text!("bytes ", start, "-", end, "/", size)));
            headers.push(("Content-Length", text!(end - start + 1)));
            (206, Some((start, end)))
        }
        _ => {
            if !decoded {
                headers.push(("Content-Length", text!(size)));
            }
            (200, None)
        }
    };
    Answer { status, headers, body: if head { Body::Empty } else { Body::Object { range } } }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;

    /// Sun, 06 Nov 1994 08:49:37 GMT
    const UPDATED: &str = "1994-11-06T08:49:37.120Z";
    const LAST_MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const ETAG: &str = "\"1700000000000001-3\"";

    fn meta() -> ObjectMetadata {
        ObjectMetadata {
            name: String::from("photos/cat.png"),
            size: Some(1000),
            content_type: Some(String::from("image/png")),
            generation: Some(String::from("1700000000000001")),
            metageneration: Some(String::from("3")),
            updated: Some(String::from(UPDATED)),
            ..ObjectMetadata::default()
        }
    }

    fn get(headers: &[(&str, &str)]) -> ServeRequest {
        request(ServeMethod::Get, headers)
    }

    fn request(method: ServeMethod, headers: &[(&str, &str)]) -> ServeRequest {
        let values = REQUEST_HEADERS
            .map(|name| headers.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string()));
        ServeRequest::new(method, values)
    }

    /// The answers of metadata every runtime can send.
    fn answer(meta: &ObjectMetadata, request: &ServeRequest, options: &ServeOptions) -> Answer {
        super::answer(meta, request, options).unwrap()
    }

    fn serve(request: &ServeRequest) -> Answer {
        answer(&meta(), request, &ServeOptions::default())
    }

    fn headers(answer: &Answer) -> Vec<(&str, &str)> {
        answer.headers.iter().map(|(name, value)| (*name, value.as_str())).collect()
    }

    #[test]
    fn a_plain_get_is_the_whole_object_with_sends_headers() {
        let answer = serve(&get(&[]));
        assert_eq!(answer.status, 200);
        assert_eq!(
            headers(&answer),
            [
                ("Content-Type", "image/png"),
                ("ETag", ETAG),
                ("Last-Modified", LAST_MODIFIED),
                ("Cache-Control", "public, max-age=0"),
                ("Accept-Ranges", "bytes"),
                ("Content-Length", "1000"),
            ]
        );
        assert_eq!(answer.body, Body::Object { range: None });
    }

    #[test]
    fn head_has_the_same_headers_and_no_body() {
        for headers in [&[][..], &[("if-none-match", ETAG)], &[("if-match", "\"other\"")]] {
            let get = serve(&get(headers));
            let head = serve(&request(ServeMethod::Head, headers));
            assert_eq!((head.status, &head.headers), (get.status, &get.headers), "{headers:?}");
            assert_eq!(head.body, Body::Empty);
        }
    }

    #[test]
    fn head_ignores_range_as_rfc_9110_says() {
        let whole = serve(&get(&[]));
        for range in ["bytes=0-9", "bytes=5000-"] {
            let head = serve(&request(ServeMethod::Head, &[("range", range)]));
            assert_eq!((head.status, &head.headers, head.body), (200, &whole.headers, Body::Empty), "{range}");
        }
    }

    #[test]
    fn one_range_is_206_with_content_range() {
        let answer = serve(&get(&[("range", "bytes=10-19")]));
        assert_eq!(answer.status, 206);
        assert_eq!(answer.header("Content-Range"), Some("bytes 10-19/1000"));
        assert_eq!(answer.header("Content-Length"), Some("10"));
        assert_eq!(answer.body, Body::Object { range: Some((10, 19)) });
        let last = serve(&get(&[("range", "bytes=-1")]));
        assert_eq!(
            (last.header("Content-Range"), last.body),
            (Some("bytes 999-999/1000"), Body::Object { range: Some((999, 999)) })
        );
    }

    #[test]
    fn past_the_end_is_416_with_the_size() {
        let answer = serve(&get(&[("range", "bytes=1000-")]));
        assert_eq!(answer.status, 416);
        assert_eq!(answer.header("Content-Range"), Some("bytes */1000"));
        assert_eq!(answer.body, Body::Text("Range Not Satisfiable"));
    }

    #[test]
    fn malformed_or_separate_ranges_are_the_whole_object() {
        for header in ["bytes=5-x", "bytes=abc", "bytes=0-1,5-6", "lines=1-2"] {
            let answer = serve(&get(&[("range", header)]));
            assert_eq!((answer.status, answer.header("Content-Length")), (200, Some("1000")), "{header}");
        }
    }

    #[test]
    fn validators_give_304_with_validators_cache_control_and_accept_ranges() {
        for (name, value) in [("if-none-match", ETAG), ("if-modified-since", LAST_MODIFIED)] {
            let answer = serve(&get(&[(name, value)]));
            assert_eq!(answer.status, 304, "{name}");
            assert_eq!(
                headers(&answer),
                [
                    ("ETag", ETAG),
                    ("Last-Modified", LAST_MODIFIED),
                    ("Cache-Control", "public, max-age=0"),
                    ("Accept-Ranges", "bytes")
                ]
            );
            assert_eq!(answer.body, Body::Empty);
        }
    }

    #[test]
    fn failed_preconditions_are_412() {
        for (name, value) in
            [("if-match", "\"1700000000000001-2\""), ("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT")]
        {
            let answer = serve(&get(&[(name, value)]));
            assert_eq!((answer.status, answer.body), (412, Body::Text("Precondition Failed")), "{name}");
        }
        assert_eq!(serve(&get(&[("if-match", ETAG)])).status, 200);
    }

    #[test]
    fn if_range_decides_between_206_and_200() {
        let partial = |if_range: &str| serve(&get(&[("range", "bytes=0-0"), ("if-range", if_range)])).status;
        assert_eq!(partial(ETAG), 206);
        assert_eq!(partial(LAST_MODIFIED), 200, "a date may stand for two versions uploaded within its second");
        assert_eq!(partial("\"1700000000000001-2\""), 200);
        assert_eq!(partial("Sun, 06 Nov 1994 08:49:36 GMT"), 200);
        // A stale If-Range means the whole object, even when the range is past its end.
        assert_eq!(serve(&get(&[("range", "bytes=5000-"), ("if-range", "\"old\"")])).status, 200);
    }

    #[test]
    fn the_etag_changes_with_generation_and_metageneration() {
        let base = etag(&meta());
        let newer = ObjectMetadata { generation: Some(String::from("1700000000000002")), ..meta() };
        let patched = ObjectMetadata { metageneration: Some(String::from("4")), ..meta() };
        assert_eq!(base.as_deref(), Some(ETAG));
        assert_ne!(etag(&newer), base);
        assert_ne!(etag(&patched), base);
        assert_eq!(etag(&ObjectMetadata::default()), None);
    }

    #[test]
    fn cache_control_comes_from_the_option_then_the_object() {
        let stored = ObjectMetadata { cache_control: Some(String::from("private, max-age=60")), ..meta() };
        assert_eq!(
            answer(&stored, &get(&[]), &ServeOptions::default()).header("Cache-Control"),
            Some("private, max-age=60")
        );
        let options = ServeOptions { cache_control: Some(String::from("no-store")), ..ServeOptions::default() };
        assert_eq!(answer(&stored, &get(&[]), &options).header("Cache-Control"), Some("no-store"));
    }

    #[test]
    fn content_type_falls_back_to_the_name() {
        let untyped = ObjectMetadata { content_type: None, name: String::from("notes/a.txt"), ..meta() };
        assert_eq!(answer(&untyped, &get(&[]), &ServeOptions::default()).header("Content-Type"), Some("text/plain"));
    }

    #[test]
    fn content_disposition_from_options_else_the_object() {
        let plain = serve(&get(&[]));
        assert_eq!(plain.header("Content-Disposition"), None);
        let stored = ObjectMetadata { content_disposition: Some(String::from("inline")), ..meta() };
        assert_eq!(answer(&stored, &get(&[]), &ServeOptions::default()).header("Content-Disposition"), Some("inline"));
        let attachment = ServeOptions { disposition: Some(Disposition::Attachment), ..ServeOptions::default() };
        assert_eq!(
            answer(&stored, &get(&[]), &attachment).header("Content-Disposition"),
            Some("attachment; filename=cat.png")
        );
        let named = ServeOptions { filename: Some(String::from("Kätzchen.png")), ..ServeOptions::default() };
        assert_eq!(
            answer(&meta(), &get(&[]), &named).header("Content-Disposition"),
            Some("attachment; filename=\"K?tzchen.png\"; filename*=UTF-8''K%C3%A4tzchen.png")
        );
    }

    #[test]
    fn objects_stored_with_a_coding_are_whole_with_no_length_or_ranges() {
        for coding in ["gzip", "br", "BR", "deflate", "zstd"] {
            let coded = ObjectMetadata { content_encoding: Some(String::from(coding)), ..meta() };
            let answer = answer(&coded, &get(&[("range", "bytes=0-9")]), &ServeOptions::default());
            assert_eq!(answer.status, 200, "{coding}");
            assert_eq!(answer.header("Content-Length"), None, "{coding}");
            assert_eq!(answer.header("Accept-Ranges"), Some("none"), "{coding}");
            assert_eq!(answer.header("Content-Encoding"), None, "{coding}");
        }
        for plain in ["identity", "Identity", ""] {
            let stored = ObjectMetadata { content_encoding: Some(String::from(plain)), ..meta() };
            let answer = answer(&stored, &get(&[("range", "bytes=0-9")]), &ServeOptions::default());
            assert_eq!((answer.status, answer.header("Content-Length")), (206, Some("10")), "{plain:?}");
        }
    }

    #[test]
    fn metadata_no_runtime_can_send_is_a_failure_never_a_dropped_header() {
        let cases = [
            (
                ObjectMetadata {
                    content_disposition: Some(String::from("attachment; filename=\"猫.png\"")), ..meta()
                },
                "Content-Disposition",
            ),
            (
                ObjectMetadata { content_type: Some(String::from("text/html\r\nSet-Cookie: a=b")), ..meta() },
                "Content-Type",
            ),
            (ObjectMetadata { cache_control: Some(String::from("max-age=60\u{7f}")), ..meta() }, "Cache-Control"),
        ];
        for (stored, name) in cases {
            for request in [get(&[]), get(&[("range", "bytes=0-0")]), request(ServeMethod::Head, &[])] {
                let error = super::answer(&stored, &request, &ServeOptions::default()).expect_err(name);
                assert_eq!(error.kind, ErrorKind::Unknown);
                assert!(error.message.contains(name), "{}", error.message);
                assert_eq!(Answer::failure(&error, request.method).status, 502);
            }
            // A 304 sends Cache-Control but neither of the others.
            let revalidated = super::answer(&stored, &get(&[("if-none-match", ETAG)]), &ServeOptions::default());
            assert_eq!(
                revalidated.map(|answer| answer.status).ok(),
                (name != "Cache-Control").then_some(304),
                "{name}"
            );
        }
        let latin =
            ObjectMetadata { content_disposition: Some(String::from("inline; filename=\"café.png\"\t")), ..meta() };
        assert_eq!(answer(&latin, &get(&[]), &ServeOptions::default()).status, 200);
    }

    #[test]
    fn an_empty_object_is_200_empty() {
        let empty = ObjectMetadata { size: Some(0), ..meta() };
        let whole = answer(&empty, &get(&[]), &ServeOptions::default());
        assert_eq!((whole.status, whole.header("Content-Length")), (200, Some("0")));
        assert_eq!(answer(&empty, &get(&[("range", "bytes=0-")]), &ServeOptions::default()).status, 416);
    }

    #[test]
    fn other_methods_are_405() {
        let answer = serve(&request(ServeMethod::Other, &[]));
        assert_eq!((answer.status, answer.header("Allow")), (405, Some("GET, HEAD")));
        assert_eq!(ServeMethod::parse(Some("get")), ServeMethod::Get);
        assert_eq!(ServeMethod::parse(Some("GET")), ServeMethod::Get);
        assert_eq!(ServeMethod::parse(Some("head")), ServeMethod::Head);
        assert_eq!(ServeMethod::parse(None), ServeMethod::Get);
        assert_eq!(ServeMethod::parse(Some("POST")), ServeMethod::Other);
    }

    #[test]
    fn failures_are_short_and_never_carry_the_message() {
        let cases = [
            (ErrorKind::ObjectNotFound, 404, "Not Found"),
            (ErrorKind::Timeout, 504, "Gateway Timeout"),
            (ErrorKind::TooManyRequests, 503, "Service Unavailable"),
            (ErrorKind::ServerError, 502, "Bad Gateway"),
            (ErrorKind::Unauthorized, 502, "Bad Gateway"),
            (ErrorKind::BucketNotFound, 502, "Bad Gateway"),
            (ErrorKind::InvalidArgument, 500, "Internal Server Error"),
        ];
        for (kind, status, text) in cases {
            let answer = Answer::failure(&StorageError::new(kind, "token ya29.secret leaked"), ServeMethod::Get);
            assert_eq!((answer.status, answer.body), (status, Body::Text(text)), "{kind:?}");
            assert_eq!(answer.header("Content-Length"), Some(text!(text.len()).as_str()));
            let head = Answer::failure(&StorageError::new(kind, "x"), ServeMethod::Head);
            assert_eq!((head.status, head.body), (status, Body::Empty));
        }
    }

    #[test]
    fn options_read_and_check_the_disposition() {
        let options: ServeOptions =
            from_json(r#"{"cacheControl":"no-store","disposition":"inline","filename":"a.txt"}"#).unwrap();
        assert_eq!(options.disposition, Some(Disposition::Inline));
        assert_eq!(options.filename.as_deref(), Some("a.txt"));
        assert_eq!(
            from_json::<ServeOptions>(r#"{"disposition":"download"}"#).unwrap_err(),
            "`disposition` must be \"inline\" or \"attachment\""
        );
        assert_eq!(from_json::<ServeOptions>(r#"{"filename":1}"#).unwrap_err(), "`filename` must be a string");
        assert_eq!(
            from_json::<ServeOptions>(r#"{"cacheControl":"max-age=60\r\nSet-Cookie: a=b"}"#).unwrap_err(),
            "`cacheControl` must be Latin-1 text without control characters"
        );
    }
}
