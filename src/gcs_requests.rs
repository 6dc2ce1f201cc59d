//! Pure builders for every GCS JSON API request the client sends, after OpenDAL's
//! `gcs_*_request` functions: names in, `HttpRequest` out, no I/O.

use crate::http::{with_query, HttpRequest, Method};
use crate::object_name::encode_component;

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

/// Metadata of an upload that goes in the query of a media upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadParams<'a> {
    pub content_type: &'a str,
    pub content_encoding: Option<&'a str>,
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
        format!("{}/storage/v1/b/{}", self.endpoint, encode_component(self.name))
    }

    fn object_url(&self, object: &str) -> String {
        format!("{}/o/{}", self.bucket_url(), encode_component(object))
    }

    /// The bucket's own resource: asked for to tell a missing bucket from a missing object.
    pub fn get_bucket(&self) -> HttpRequest {
        HttpRequest::new(Method::Get, with_query(self.bucket_url(), &[("fields", "name")]))
    }

    pub fn get_metadata(&self, object: &str) -> HttpRequest {
        HttpRequest::new(Method::Get, self.object_url(object))
    }

    pub fn download(&self, object: &str) -> HttpRequest {
        HttpRequest::new(Method::Get, with_query(self.object_url(object), &[("alt", "media")]))
    }

    pub fn delete(&self, object: &str) -> HttpRequest {
        HttpRequest::new(Method::Delete, self.object_url(object))
    }

    /// One step of a server-side copy; repeat with the returned token until `done`.
    pub fn rewrite(&self, source: &str, destination: &str, rewrite_token: Option<&str>) -> HttpRequest {
        let url = format!(
            "{}/rewriteTo/b/{}/o/{}",
            self.object_url(source),
            encode_component(self.name),
            encode_component(destination)
        );
        let query: Vec<(&str, &str)> = rewrite_token.map(|token| ("rewriteToken", token)).into_iter().collect();
        HttpRequest::new(Method::Post, with_query(url, &query)).text_body("application/json", "{}".to_string())
    }

    pub fn list(&self, params: &ListParams, page_token: Option<&str>) -> HttpRequest {
        let page_size = params.page_size.map(|size| size.to_string());
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
        HttpRequest::new(Method::Get, with_query(format!("{}/o", self.bucket_url()), &query))
    }

    /// A single-request upload whose body is the caller's content, sent as it is.
    pub fn upload_media(&self, object: &str, params: &UploadParams) -> HttpRequest {
        let url = format!("{}/upload/storage/v1/b/{}/o", self.endpoint, encode_component(self.name));
        let mut query = vec![("uploadType", "media"), ("name", object)];
        if let Some(encoding) = params.content_encoding {
            query.push(("contentEncoding", encoding));
        }
        let mut request = HttpRequest::new(Method::Post, with_query(url, &query))
            .header("Content-Type", params.content_type);
        request.body = crate::http::Body::Content;
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;

    const BUCKET: Bucket = Bucket { endpoint: "https://storage.googleapis.com", name: "replit-objstore-x" };
    const HOSTILE: &str = "dir/sp ace#?ü+%.txt";
    const HOSTILE_ENCODED: &str = "dir%2Fsp%20ace%23%3F%C3%BC%2B%25.txt";

    #[test]
    fn metadata_and_download_put_the_name_in_one_segment() {
        let metadata = BUCKET.get_metadata(HOSTILE);
        assert_eq!(metadata.method, Method::Get);
        assert_eq!(metadata.url, format!("https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o/{HOSTILE_ENCODED}"));
        let download = BUCKET.download(HOSTILE);
        assert_eq!(download.url, format!("{}?alt=media", metadata.url));
        assert_eq!(download.body, Body::Empty);
    }

    #[test]
    fn delete_uses_the_object_url() {
        let request = BUCKET.delete("a/b");
        assert_eq!(request.method, Method::Delete);
        assert!(request.url.ends_with("/b/replit-objstore-x/o/a%2Fb"));
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
        let request = BUCKET.upload_media(HOSTILE, &UploadParams { content_type: "text/plain", content_encoding: Some("gzip") });
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
        assert_eq!(BUCKET.get_bucket().url, "https://storage.googleapis.com/storage/v1/b/replit-objstore-x?fields=name");
    }
}
