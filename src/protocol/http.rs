//! A plain description of an HTTP request. Builders produce these without I/O, so every
//! request the client can send is unit-tested; only the transport turns one into `fetch`.

use alloc::borrow::Cow;

use crate::prelude::*;

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

/// A 2xx status.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

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
