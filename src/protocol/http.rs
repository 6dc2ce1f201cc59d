//! A plain description of an HTTP request. Builders produce these without I/O, so every
//! request the client can send is unit-tested; only the transport turns one into `fetch`.

use alloc::borrow::Cow;

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Empty,
    /// A small text body built here (JSON, a form).
    Text(String),
    /// The caller's content, a JavaScript value the transport passes to `fetch` untouched.
    Content,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// Names are the protocol's own, or (for a signed URL) the caller's.
    pub headers: Vec<(Cow<'static, str>, String)>,
    pub body: Body,
}

impl HttpRequest {
    pub fn new(method: Method, url: String) -> Self {
        HttpRequest { method, url, headers: Vec::new(), body: Body::Empty }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((Cow::Borrowed(name), value.into()));
        self
    }

    /// A header named at run time: the caller's, for a request to a signed URL.
    pub fn named_header(mut self, name: String, value: String) -> Self {
        self.headers.push((Cow::Owned(name), value));
        self
    }

    pub fn text_body(mut self, content_type: &str, text: String) -> Self {
        self.body = Body::Text(text);
        self.header("Content-Type", content_type)
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// Appends `key=value` pairs (values percent-encoded) to a URL that has no query yet.
pub fn with_query(url: String, pairs: &[(&str, &str)]) -> String {
    let mut url = url;
    for (index, (key, value)) in pairs.iter().enumerate() {
        url.push(if index == 0 { '?' } else { '&' });
        url.push_str(key);
        url.push('=');
        url.push_str(&crate::protocol::object_name::encode_component(value));
    }
    url
}

/// An absolute `http://` or `https://` URL: what a signed URL must be to be sent.
pub fn is_http_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// The scheme and host of a URL (`https://storage.googleapis.com`): where a request went, for
/// messages. Never the path or query, which may hold a signed URL's signature.
pub fn origin(url: &str) -> &str {
    let host_start = crate::protocol::text::find(url, "://").map_or(0, |scheme_end| scheme_end + 3);
    let host_length = url.bytes().skip(host_start).position(|byte| matches!(byte, b'/' | b'?' | b'#'));
    url.get(..host_length.map_or(url.len(), |length| host_start + length)).unwrap_or(url)
}

/// A request that got no answer at all, as a `Network` error naming the method and origin
/// (`detail` is what the runtime said). `cors`: the request came from a page, where a CORS
/// refusal fails the same way and scripts are not told which it was.
pub fn network_failure(method: Method, url: &str, detail: &str, cors: bool) -> StorageError {
    let endpoint = origin(url);
    let mut message = text!(method.as_str(), " ", endpoint, " failed: ", detail);
    if cors {
        message.push_str(&text!(" (a CORS refusal looks the same: check that ", endpoint, " allows this origin)"));
    }
    StorageError::new(ErrorKind::Network, message)
}

/// A 2xx status.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_scheme_and_host_only() {
        assert_eq!(
            origin("https://storage.googleapis.com/storage/v1/b/x/o?alt=media"),
            "https://storage.googleapis.com"
        );
        assert_eq!(origin("http://127.0.0.1:4443?x=1"), "http://127.0.0.1:4443");
        assert_eq!(origin("http://[::1]:9/#frag"), "http://[::1]:9");
        assert_eq!(origin("https://b.example"), "https://b.example");
        // A host shorter than the scheme: the host starts right after `://`.
        assert_eq!(origin("http://h/path"), "http://h");
        assert_eq!(origin("/relative/path"), "");
        assert_eq!(origin(""), "");
    }

    #[test]
    fn network_failures_name_method_and_origin_but_never_the_query() {
        let url = "https://storage.googleapis.com/b/o.txt?X-Goog-Signature=secret";
        let error = network_failure(Method::Put, url, "fetch failed: ECONNRESET", false);
        assert_eq!(error.kind, ErrorKind::Network);
        assert_eq!(error.message, "PUT https://storage.googleapis.com failed: fetch failed: ECONNRESET");
        let browser = network_failure(Method::Get, url, "Failed to fetch", true);
        assert_eq!(
            browser.message,
            "GET https://storage.googleapis.com failed: Failed to fetch (a CORS refusal looks the same: \
             check that https://storage.googleapis.com allows this origin)"
        );
        assert!(!browser.message.contains("secret"));
    }

    #[test]
    fn success_is_exactly_the_2xx_statuses() {
        for (status, success) in
            [(199, false), (200, true), (204, true), (206, true), (299, true), (300, false), (304, false), (308, false)]
        {
            assert_eq!(is_success(status), success, "{status}");
        }
    }

    #[test]
    fn methods_go_out_under_their_http_names() {
        // The transport sends `as_str` as the method: the request builders' tests compare the
        // enum, so only this says what reaches the wire.
        let methods = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];
        let names: Vec<&str> = methods.iter().map(|method| method.as_str()).collect();
        assert_eq!(names, ["GET", "POST", "PUT", "PATCH", "DELETE"]);
    }

    #[test]
    fn builds_a_query_with_encoded_values() {
        assert_eq!(with_query("http://h/p".into(), &[]), "http://h/p");
        assert_eq!(
            with_query("http://h/p".into(), &[("prefix", "a b/&c"), ("maxResults", "5")]),
            "http://h/p?prefix=a%20b%2F%26c&maxResults=5"
        );
    }

    #[test]
    fn headers_are_found_case_insensitively() {
        let request = HttpRequest::new(Method::Get, "http://h".into()).header("Range", "bytes=0-1");
        assert_eq!(request.header_value("range"), Some("bytes=0-1"));
        assert_eq!(request.header_value("accept"), None);
    }
}
