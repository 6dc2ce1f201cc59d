//! Pure builders for every GCS JSON API request the client sends, after OpenDAL's
//! `gcs_*_request` functions: names in, `HttpRequest` out, no I/O.

use crate::prelude::*;
use crate::protocol::error::StorageError;
use crate::protocol::http::{with_query, Body, HttpRequest, Method};
use crate::protocol::json::JsonObject;
use crate::protocol::metadata_patch::MetadataPatch;
use crate::protocol::object_metadata;
use crate::protocol::object_name::encode_component;
use crate::protocol::options::{CopyOptions, Generation};
use crate::protocol::text;

/// The filters `list` accepts, as GCS names them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
/// Borrowed from the caller's options: a listing sends the same filters with every page.
pub struct ListParams<'a> {
    pub prefix: Option<&'a str>,
    pub delimiter: Option<&'a str>,
    pub start_offset: Option<&'a str>,
    pub end_offset: Option<&'a str>,
    pub match_glob: Option<&'a str>,
    /// Objects wanted on this page (GCS serves at most 1000).
    pub page_size: Option<u32>,
    pub fields: ListFields,
}

/// What a listing's answer must hold, sent as its `fields` projection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ListFields {
    /// Names only: what `list` returns.
    #[default]
    Names,
    /// Each object's metadata (the fields `ObjectMetadata` reads), and the delimiter's prefixes.
    Metadata,
}

impl ListFields {
    fn projection(self) -> String {
        match self {
            ListFields::Names => "items(name),nextPageToken".into(),
            ListFields::Metadata => text!("items(", object_metadata::projection(), "),prefixes,nextPageToken"),
        }
    }
}

/// The query parameters of `optional` that have a value (an empty one counts as none).
fn given<'a>(optional: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, &'a str)> {
    optional
        .iter()
        .filter_map(|(key, value)| value.filter(|value| !value.is_empty()).map(|value| (*key, value)))
        .collect()
}

/// Which generation of an object a delete removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion<'a> {
    /// The live one, whatever its generation.
    Live,
    /// The live one only while its generation is this (`ifGenerationMatch`; else 412).
    LiveIf(&'a Generation),
    /// Exactly this generation (`generation`).
    Generation(&'a str),
}

/// Metadata and preconditions of an upload.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UploadParams<'a> {
    pub content_type: &'a str,
    pub content_encoding: Option<&'a str>,
    pub content_disposition: Option<&'a str>,
    pub cache_control: Option<&'a str>,
    /// Custom metadata.
    pub metadata: &'a [(String, String)],
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

    /// Whether the upload sets fields that only an object resource carries (a media
    /// upload's query cannot): one-request uploads then go as multipart.
    pub fn has_resource_fields(&self) -> bool {
        self.content_disposition.is_some() || self.cache_control.is_some() || !self.metadata.is_empty()
    }

    /// The object resource as JSON, for a resumable session or a multipart upload.
    fn metadata_json(&self, object: &str) -> String {
        let optional = [
            ("contentEncoding", self.content_encoding),
            ("contentDisposition", self.content_disposition),
            ("cacheControl", self.cache_control),
        ];
        let mut resource = JsonObject::default();
        resource.string("name", Some(object)).string("contentType", Some(self.content_type));
        for (key, value) in optional {
            if value.is_some() {
                resource.string(key, value);
            }
        }
        if !self.metadata.is_empty() {
            let mut custom = JsonObject::default();
            for (key, value) in self.metadata {
                custom.string(key, Some(value));
            }
            resource.object("metadata", custom);
        }
        resource.finish()
    }
}

/// A multipart upload: its request, and the text that goes before and after the content in
/// its body. The caller joins the three (as a `Blob`, so the content is never copied here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    pub request: HttpRequest,
    pub preamble: String,
    pub closing: String,
}

/// A boundary that does not occur in `resource` (the JSON part): `nonce` (random, so the
/// content is most unlikely to hold it either), lengthened until the JSON does not hold it.
fn multipart_boundary(resource: &str, nonce: u64) -> String {
    let mut boundary = text!("replit-objstore-", nonce);
    while text::contains(resource, &boundary) {
        boundary.push('-');
    }
    boundary
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

    /// Changes the metadata fields `patch` names (`objects.patch`); with
    /// `if_metageneration_match`, only while the metadata is still that version.
    pub fn patch_metadata(
        &self,
        object: &str,
        patch: &MetadataPatch,
        if_metageneration_match: Option<&str>,
    ) -> HttpRequest {
        let query: Vec<(&str, &str)> = if_metageneration_match
            .map(|metageneration| ("ifMetagenerationMatch", metageneration))
            .into_iter()
            .collect();
        HttpRequest::new(Method::Patch, with_query(self.object_url(object), &query))
            .text_body("application/json", patch.to_json())
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

    /// Deletes the object, as `target` says which generation.
    pub fn delete(&self, object: &str, target: Deletion<'_>) -> HttpRequest {
        let (key, generation) = match target {
            Deletion::Live => return HttpRequest::new(Method::Delete, self.object_url(object)),
            Deletion::LiveIf(generation) => ("ifGenerationMatch", generation.to_query()),
            Deletion::Generation(generation) => ("generation", generation.to_string()),
        };
        HttpRequest::new(Method::Delete, with_query(self.object_url(object), &[(key, &generation)]))
    }

    /// One step of a server-side copy, under the preconditions of `options`; repeat with the
    /// returned token (and the same preconditions) until `done`.
    pub fn rewrite(
        &self,
        source: &str,
        destination: &str,
        options: &CopyOptions,
        rewrite_token: Option<&str>,
    ) -> HttpRequest {
        let url = text!(
            self.object_url(source),
            "/rewriteTo/b/",
            encode_component(self.name),
            "/o/",
            encode_component(destination)
        );
        let generation = options.if_generation_match.as_ref().map(Generation::to_query);
        let source_generation = options.if_source_generation_match.as_ref().map(Generation::to_query);
        let query = given(&[
            ("ifGenerationMatch", generation.as_deref()),
            ("ifSourceGenerationMatch", source_generation.as_deref()),
            ("rewriteToken", rewrite_token),
        ]);
        HttpRequest::new(Method::Post, with_query(url, &query)).text_body("application/json", "{}".to_string())
    }

    pub fn list(&self, params: &ListParams, page_token: Option<&str>) -> HttpRequest {
        let page_size = params.page_size.map(|size| text!(size));
        let mut query = given(&[
            ("prefix", params.prefix),
            ("delimiter", params.delimiter),
            ("startOffset", params.start_offset),
            ("endOffset", params.end_offset),
            ("matchGlob", params.match_glob),
            ("maxResults", page_size.as_deref()),
            ("pageToken", page_token),
        ]);
        let projection = params.fields.projection();
        query.extend([("versions", "false"), ("prettyPrint", "false"), ("fields", &projection)]);
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
        request.body = Body::Content;
        request
    }

    /// A single-request upload that carries the object resource (`params` has fields a media
    /// upload cannot send): `multipart/related`, the resource as JSON, then the content.
    pub fn upload_multipart(
        &self,
        object: &str,
        params: &UploadParams,
        nonce: u64,
    ) -> Result<MultipartUpload, StorageError> {
        if text::contains_any(params.content_type, b"\r\n") {
            return Err(StorageError::invalid_argument("contentType must not contain line breaks"));
        }
        let resource = params.metadata_json(object);
        let boundary = multipart_boundary(&resource, nonce);
        let preamble = text!(
            "--",
            boundary,
            "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n",
            resource,
            "\r\n--",
            boundary,
            "\r\nContent-Type: ",
            params.content_type,
            "\r\n\r\n"
        );
        let closing = text!("\r\n--", boundary, "--\r\n");
        let url = with_query(self.upload_url(), &params.query("multipart", object));
        let mut request =
            HttpRequest::new(Method::Post, url).header("Content-Type", text!("multipart/related; boundary=", boundary));
        request.body = Body::Content;
        Ok(MultipartUpload { request, preamble, closing })
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
    use crate::protocol::document::from_json;

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
        let request = BUCKET.delete("a/b", Deletion::Live);
        assert_eq!(request.method, Method::Delete);
        assert!(request.url.ends_with("/b/replit-objstore-x/o/a%2Fb"));
        assert!(BUCKET.delete("a", Deletion::Generation("7")).url.ends_with("/o/a?generation=7"));
        assert!(BUCKET.delete("a", Deletion::LiveIf(&Generation::Number(0))).url.ends_with("/o/a?ifGenerationMatch=0"));
        let text = Generation::Text("1700000000000001".into());
        assert!(BUCKET.delete("a", Deletion::LiveIf(&text)).url.ends_with("/o/a?ifGenerationMatch=1700000000000001"));
    }

    #[test]
    fn resumable_sessions_carry_metadata_as_json() {
        let params = UploadParams {
            content_type: "text/plain",
            content_encoding: Some("gzip"),
            if_generation_match: Some("0"),
            ..Default::default()
        };
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
    }

    fn with_resource_fields(metadata: &[(String, String)]) -> UploadParams<'_> {
        UploadParams {
            content_type: "image/png",
            content_disposition: Some("attachment; filename=\"a.png\""),
            cache_control: Some("public, max-age=60"),
            metadata,
            ..Default::default()
        }
    }

    fn custom() -> Vec<(String, String)> {
        vec![("custom:aclPolicy".into(), r#"{"owner":"u1"}"#.into()), ("k".into(), "v".into())]
    }

    const RESOURCE: &str = r#"{"name":"a.png","contentType":"image/png","contentDisposition":"attachment; filename=\"a.png\"","cacheControl":"public, max-age=60","metadata":{"custom:aclPolicy":"{\"owner\":\"u1\"}","k":"v"}}"#;

    #[test]
    fn resumable_sessions_carry_disposition_cache_control_and_custom_metadata() {
        let metadata = custom();
        let request = BUCKET.start_resumable("a.png", &with_resource_fields(&metadata), None);
        assert_eq!(request.body, Body::Text(RESOURCE.into()));
        assert_eq!(request.header_value("X-Upload-Content-Length"), None);
    }

    #[test]
    fn only_uploads_with_resource_fields_need_a_resource() {
        let metadata = custom();
        assert!(with_resource_fields(&metadata).has_resource_fields());
        assert!(with_resource_fields(&[]).has_resource_fields());
        let plain = UploadParams { content_type: "text/plain", content_encoding: Some("gzip"), ..Default::default() };
        assert!(!plain.has_resource_fields());
        assert!(UploadParams { metadata: &metadata, ..plain.clone() }.has_resource_fields());
        assert!(UploadParams { cache_control: Some(""), ..plain.clone() }.has_resource_fields());
        assert!(UploadParams { content_disposition: Some("inline"), ..plain }.has_resource_fields());
    }

    #[test]
    fn multipart_uploads_send_the_resource_then_the_content() {
        let metadata = custom();
        let params = UploadParams { if_generation_match: Some("0"), ..with_resource_fields(&metadata) };
        let upload = BUCKET.upload_multipart("a.png", &params, 42).unwrap();
        assert_eq!(upload.request.method, Method::Post);
        assert_eq!(
            upload.request.url,
            "https://storage.googleapis.com/upload/storage/v1/b/replit-objstore-x/o?uploadType=multipart&name=a.png&ifGenerationMatch=0"
        );
        assert_eq!(upload.request.header_value("Content-Type"), Some("multipart/related; boundary=replit-objstore-42"));
        assert_eq!(upload.request.body, Body::Content);
        assert_eq!(
            upload.preamble,
            format!(
                "--replit-objstore-42\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{RESOURCE}\r\n\
                 --replit-objstore-42\r\nContent-Type: image/png\r\n\r\n"
            )
        );
        assert_eq!(upload.closing, "\r\n--replit-objstore-42--\r\n");
    }

    #[test]
    fn a_gzip_multipart_upload_names_its_encoding_in_the_resource_not_the_query() {
        let metadata = custom();
        let params = UploadParams { content_encoding: Some("gzip"), ..with_resource_fields(&metadata) };
        let upload = BUCKET.upload_multipart("a.png", &params, 1).unwrap();
        assert!(!upload.request.url.contains("contentEncoding"));
        assert!(upload.preamble.contains(r#""contentType":"image/png","contentEncoding":"gzip","contentDisposition""#));
    }

    #[test]
    fn a_content_type_cannot_break_out_of_its_part_header() {
        let params = UploadParams { content_type: "text/plain\r\nX-Evil: 1", ..with_resource_fields(&[]) };
        let error = BUCKET.upload_multipart("a", &params, 1).unwrap_err();
        assert_eq!(error.kind, crate::protocol::error::ErrorKind::InvalidArgument);
        assert_eq!(error.message, "contentType must not contain line breaks");
    }

    proptest::proptest! {
        #[test]
        fn the_boundary_never_occurs_in_the_json_part(
            nonce in 0u64..20,
            name in "(replit-objstore-1?[0-9]?-{0,3}|[a-z]){0,6}",
            value in "(replit-objstore-1?[0-9]?-{0,3}){0,4}",
        ) {
            let metadata = vec![("k".to_string(), value)];
            let params = UploadParams { content_type: "text/plain", metadata: &metadata, ..Default::default() };
            let upload = BUCKET.upload_multipart(&name, &params, nonce).unwrap();
            let boundary = upload.request.header_value("Content-Type").unwrap().strip_prefix("multipart/related; boundary=").unwrap();
            let resource = params.metadata_json(&name);
            proptest::prop_assert!(!resource.contains(boundary), "{} in {}", boundary, resource);
            let expected_start = format!("replit-objstore-{}", nonce);
            proptest::prop_assert!(boundary.starts_with(&expected_start));
        }
    }

    #[test]
    fn patches_send_the_fields_given_and_the_precondition() {
        let patch: MetadataPatch =
            from_json(r#"{"cacheControl": null, "metadata": {"gone": null, "k": "v"}}"#).unwrap();
        let request = BUCKET.patch_metadata(HOSTILE, &patch, None);
        assert_eq!(request.method, Method::Patch);
        assert_eq!(
            request.url,
            format!("https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o/{HOSTILE_ENCODED}")
        );
        assert_eq!(request.body, Body::Text(r#"{"cacheControl":null,"metadata":{"gone":null,"k":"v"}}"#.into()));
        assert_eq!(request.header_value("Content-Type"), Some("application/json"));
        let guarded = BUCKET.patch_metadata("a", &MetadataPatch::default(), Some("3"));
        assert_eq!(
            guarded.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o/a?ifMetagenerationMatch=3"
        );
        assert_eq!(guarded.body, Body::Text("{}".into()));
    }

    #[test]
    fn rewrite_names_source_and_destination_and_carries_the_token() {
        let first = BUCKET.rewrite("a b", "c/d", &CopyOptions::default(), None);
        assert_eq!(first.method, Method::Post);
        assert_eq!(
            first.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o/a%20b/rewriteTo/b/replit-objstore-x/o/c%2Fd"
        );
        assert_eq!(first.body, Body::Text("{}".into()));
        assert_eq!(first.header_value("content-type"), Some("application/json"));
        let next = BUCKET.rewrite("a", "b", &CopyOptions::default(), Some("tok/en+="));
        assert!(next.url.ends_with("?rewriteToken=tok%2Fen%2B%3D"));
        let both = CopyOptions {
            if_generation_match: Some(Generation::Number(0)),
            if_source_generation_match: Some(Generation::Text("17".into())),
            ignore_not_found: None,
        };
        assert!(BUCKET.rewrite("a", "b", &both, Some("t")).url.ends_with(
            "/o/a/rewriteTo/b/replit-objstore-x/o/b?ifGenerationMatch=0&ifSourceGenerationMatch=17&rewriteToken=t"
        ));
        let destination_only = CopyOptions { if_generation_match: Some(Generation::Number(5)), ..Default::default() };
        assert!(BUCKET.rewrite("a", "b", &destination_only, None).url.ends_with("/o/b?ifGenerationMatch=5"));
    }

    #[test]
    fn list_sends_only_the_filters_given() {
        let plain = BUCKET.list(&ListParams::default(), None);
        assert_eq!(
            plain.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o?versions=false&prettyPrint=false&fields=items%28name%29%2CnextPageToken"
        );
        let params = ListParams {
            prefix: Some("dir/"),
            start_offset: Some("a"),
            end_offset: Some("z"),
            match_glob: Some("**/*.png"),
            page_size: Some(10),
            delimiter: Some("/"),
            fields: ListFields::Names,
        };
        let request = BUCKET.list(&params, Some("next page"));
        assert_eq!(
            request.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o?prefix=dir%2F&delimiter=%2F&startOffset=a&endOffset=z&matchGlob=%2A%2A%2F%2A.png&maxResults=10&pageToken=next%20page&versions=false&prettyPrint=false&fields=items%28name%29%2CnextPageToken"
        );
    }

    #[test]
    fn a_listing_with_metadata_asks_for_every_field_object_metadata_reads_and_the_prefixes() {
        let request = BUCKET.list(&ListParams { fields: ListFields::Metadata, ..Default::default() }, None);
        assert_eq!(
            request.url,
            "https://storage.googleapis.com/storage/v1/b/replit-objstore-x/o?versions=false&prettyPrint=false&fields=items%28name%2Csize%2Cmetadata%2Cbucket%2CcontentType%2CcontentEncoding%2CcontentDisposition%2CcacheControl%2Cetag%2Cgeneration%2Cmetageneration%2CtimeCreated%2Cupdated%2Ccrc32c%2Cmd5Hash%29%2Cprefixes%2CnextPageToken"
        );
    }

    #[test]
    fn an_empty_prefix_is_not_sent() {
        let request = BUCKET.list(&ListParams { prefix: Some(""), ..Default::default() }, None);
        assert!(!request.url.contains("prefix"));
    }

    #[test]
    fn media_upload_names_the_object_in_the_query() {
        let params = UploadParams { content_type: "text/plain", content_encoding: Some("gzip"), ..Default::default() };
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
