//! Pure builders for every GCS JSON API request the client sends, after OpenDAL's
//! `gcs_*_request` functions: names in, `HttpRequest` out, no I/O.

use crate::prelude::*;
use crate::protocol::http::{with_query, HttpRequest, Method};
use crate::protocol::object_name::encode_component;

/// The filters `list` accepts, as GCS names them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub start_offset: Option<String>,
    pub end_offset: Option<String>,
    pub match_glob: Option<String>,
    /// Objects wanted on this page (GCS serves at most 1000).
    pub page_size: Option<u32>,
}

/// Metadata and preconditions of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadParams<'a> {
    pub content_type: &'a str,
    pub content_encoding: Option<&'a str>,
    /// Write only if the object's generation is this (`"0"`: only if it does not exist).
    pub if_generation_match: Option<&'a str>,
}

impl UploadParams<'_> {
    fn query<'q>(&'q self, upload_type: &'q str, object: &'q str) -> Vec<(&'q str, &'q str)> {
        let mut query = vec![("uploadType", upload_type), ("name", object)];
        if let Some(generation) = self.if_generation_match {
            query.push(("ifGenerationMatch", generation));
        }
        query
    }

    /// The object resource's metadata as JSON, for a resumable session.
    fn metadata_json(&self, object: &str) -> String {
        let mut fields = vec![("name", object), ("contentType", self.content_type)];
        if let Some(encoding) = self.content_encoding {
            fields.push(("contentEncoding", encoding));
        }
        let members: Vec<String> =
            fields.iter().map(|(key, value)| text!("\"", key, "\":", json_string(value))).collect();
        text!("{", members.join(","), "}")
    }
}

/// A JSON string literal.
fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[(control as usize >> 4) & 0xf]));
                out.push(char::from(HEX[control as usize & 0xf]));
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// Requests against one bucket of one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Bucket<'a> {
    pub endpoint: &'a str,
    pub name: &'a str,
}

impl<'a> Bucket<'a> {
    pub fn new(endpoint: &'a str, name: &'a str) -> Self {
        Bucket { endpoint, name }
    }

    fn bucket_url(&self) -> String {
        text!(self.endpoint, "/storage/v1/b/", encode_component(self.name))
    }

    fn object_url(&self, object: &str) -> String {
        text!(self.bucket_url(), "/o/", encode_component(object))
    }

    /// The bucket's own resource: asked for to tell a missing bucket from a missing object.
    pub fn get_bucket(&self) -> HttpRequest {
        HttpRequest::new(Method::Get, with_query(self.bucket_url(), &[("fields", "name")]))
    }

    pub fn get_metadata(&self, object: &str) -> HttpRequest {
        HttpRequest::new(Method::Get, self.object_url(object))
    }

    /// The object's bytes; pinned to `generation` when resuming, so a resumed download
    /// cannot splice two versions of an object together.
    pub fn download(&self, object: &str, generation: Option<&str>) -> HttpRequest {
        let mut query = vec![("alt", "media")];
        if let Some(generation) = generation {
            query.push(("ifGenerationMatch", generation));
        }
        HttpRequest::new(Method::Get, with_query(self.object_url(object), &query))
    }

    /// Deletes the live object, or exactly `generation` of it.
    pub fn delete(&self, object: &str, generation: Option<&str>) -> HttpRequest {
        let query: Vec<(&str, &str)> = generation.map(|generation| ("generation", generation)).into_iter().collect();
        HttpRequest::new(Method::Delete, with_query(self.object_url(object), &query))
    }

    /// One step of a server-side copy; repeat with the returned token until `done`.
    pub fn rewrite(&self, source: &str, destination: &str, rewrite_token: Option<&str>) -> HttpRequest {
        let url = text!(
            self.object_url(source),
            "/rewriteTo/b/",
            encode_component(self.name),
            "/o/",
            encode_component(destination)
        );
        let query: Vec<(&str, &str)> = rewrite_token.map(|token| ("rewriteToken", token)).into_iter().collect();
        HttpRequest::new(Method::Post, with_query(url, &query)).text_body("application/json", "{}".to_string())
    }

    pub fn list(&self, params: &ListParams, page_token: Option<&str>) -> HttpRequest {
        let page_size = params.page_size.map(|size| text!(size));
        let optional = [
            ("prefix", params.prefix.as_deref()),
            ("delimiter", params.delimiter.as_deref()),
            ("startOffset", params.start_offset.as_deref()),
            ("endOffset", params.end_offset.as_deref()),
            ("matchGlob", params.match_glob.as_deref()),
            ("maxResults", page_size.as_deref()),
            ("pageToken", page_token),
        ];
        let mut query: Vec<(&str, &str)> = optional
            .iter()
            .filter_map(|(key, value)| value.filter(|value| !value.is_empty()).map(|value| (*key, value)))
            .collect();
        query.push(("versions", "false"));
        HttpRequest::new(Method::Get, with_query(text!(self.bucket_url(), "/o"), &query))
    }

    fn upload_url(&self) -> String {
        text!(self.endpoint, "/upload/storage/v1/b/", encode_component(self.name), "/o")
    }

    /// A single-request upload whose body is the caller's content, sent as it is.
    pub fn upload_media(&self, object: &str, params: &UploadParams) -> HttpRequest {
        let mut query = params.query("media", object);
        if let Some(encoding) = params.content_encoding {
            query.push(("contentEncoding", encoding));
        }
        let mut request = HttpRequest::new(Method::Post, with_query(self.upload_url(), &query))
            .header("Content-Type", params.content_type);
        request.body = crate::protocol::http::Body::Content;
        request
    }

    /// Opens a resumable upload session; the answer's `Location` is the session URI.
    pub fn start_resumable(&self, object: &str, params: &UploadParams, total: Option<u64>) -> HttpRequest {
        let url = with_query(self.upload_url(), &params.query("resumable", object));
        let mut request = HttpRequest::new(Method::Post, url)
            .text_body("application/json; charset=UTF-8", params.metadata_json(object))
            .header("X-Upload-Content-Type", params.content_type);
        if let Some(total) = total {
            request = request.header("X-Upload-Content-Length", text!(total));
        }
        request
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::http::Body;

    const BUCKET: Bucket = Bucket { endpoint: "https://storage.googleapis.com", name: "replit-objstore-x" };
    const HOSTILE: &str = "dir/sp ace#?ü+%.txt";
    const HOSTILE_ENCODED: &str = "dir%2Fsp%20ace%23%3F%C3%BC%2B%25.txt";

    #[test]
    fn metadata_and_download_put_the_name_in_one_segment() {
        let metadata = BUCKET.get_metadata(HOSTILE);
        assert_eq!(metadata.method, Method::Get);
        assert_eq!(
            metadata.url,
            format!("https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o/{HOSTILE_ENCODED}")
        );
        let download = BUCKET.download(HOSTILE, None);
        assert_eq!(download.url, format!("{}?alt=media", metadata.url));
        assert_eq!(download.body, Body::Empty);
        let pinned = BUCKET.download(HOSTILE, Some("1700000000000001"));
        assert_eq!(pinned.url, format!("{}?alt=media&ifGenerationMatch=1700000000000001", metadata.url));
    }

    #[test]
    fn delete_uses_the_object_url() {
        let request = BUCKET.delete("a/b", None);
        assert_eq!(request.method, Method::Delete);
        assert!(request.url.ends_with("/b/replit-objstore-x/o/a%2Fb"));
        assert!(BUCKET.delete("a", Some("7")).url.ends_with("/o/a?generation=7"));
    }

    #[test]
    fn resumable_sessions_carry_metadata_as_json() {
        let params =
            UploadParams { content_type: "text/plain", content_encoding: Some("gzip"), if_generation_match: Some("0") };
        let request = BUCKET.start_resumable("dir/\"quoted\".txt", &params, Some(10));
        assert_eq!(
            request.url,
            "https://storage.googleapis.com/upload/storage/v1/b/replit-objstore-x/o?uploadType=resumable&name=dir%2F%22quoted%22.txt&ifGenerationMatch=0"
        );
        assert_eq!(
            request.body,
            Body::Text(r#"{"name":"dir/\"quoted\".txt","contentType":"text/plain","contentEncoding":"gzip"}"#.into())
        );
        assert_eq!(request.header_value("X-Upload-Content-Type"), Some("text/plain"));
        assert_eq!(request.header_value("X-Upload-Content-Length"), Some("10"));
        assert_eq!(json_string("a\u{1}\n\\"), r#""a\u0001\n\\""#);
    }

    #[test]
    fn rewrite_names_source_and_destination_and_carries_the_token() {
        let first = BUCKET.rewrite("a b", "c/d", None);
        assert_eq!(first.method, Method::Post);
        assert_eq!(
            first.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o/a%20b/rewriteTo/b/replit-objstore-x/o/c%2Fd"
        );
        assert_eq!(first.body, Body::Text("{}".into()));
        assert_eq!(first.header_value("content-type"), Some("application/json"));
        let next = BUCKET.rewrite("a", "b", Some("tok/en+="));
        assert!(next.url.ends_with("?rewriteToken=tok%2Fen%2B%3D"));
    }

    #[test]
    fn list_sends_only_the_filters_given() {
        let plain = BUCKET.list(&ListParams::default(), None);
        assert_eq!(plain.url, "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o?versions=false");
        let params = ListParams {
            prefix: Some("dir/".into()),
            start_offset: Some("a".into()),
            end_offset: Some("z".into()),
            match_glob: Some("**/*.png".into()),
            page_size: Some(10),
            delimiter: None,
        };
        let request = BUCKET.list(&params, Some("next page"));
        assert_eq!(
            request.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o?prefix=dir%2F&startOffset=a&endOffset=z&matchGlob=%2A%2A%2F%2A.png&maxResults=10&pageToken=next%20page&versions=false"
        );
    }

    #[test]
    fn an_empty_prefix_is_not_sent() {
        let request = BUCKET.list(&ListParams { prefix: Some(String::new()), ..Default::default() }, None);
        assert!(!request.url.contains("prefix"));
    }

    #[test]
    fn media_upload_names_the_object_in_the_query() {
        let params =
            UploadParams { content_type: "text/plain", content_encoding: Some("gzip"), if_generation_match: None };
        let request = BUCKET.upload_media(HOSTILE, &params);
        assert_eq!(request.method, Method::Post);
        assert_eq!(
            request.url,
            format!("https://storage.googleapis.com/upload/storage/v1/b/replit-objstore-x/o?uploadType=media&name={HOSTILE_ENCODED}&contentEncoding=gzip")
        );
        assert_eq!(request.header_value("Content-Type"), Some("text/plain"));
        assert_eq!(request.body, Body::Content);
    }

    #[test]
    fn bucket_lookup_asks_for_the_bucket_resource() {
        assert_eq!(
            BUCKET.get_bucket().url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x?fields=name"
        );
    }
}
