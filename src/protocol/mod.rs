//! The protocol, with no JavaScript in it: what to send to GCS and the Replit sidecar, how to
//! read their answers, and the policies between (errors, retries, names, ranges, integrity).
//! Every module here builds and runs natively, so `cargo test` covers it without a runtime;
//! none may use `wasm_bindgen`, `js_sys` or `web_sys` (checked by `tests/layers.rs`).

#[cfg(feature = "server")]
pub mod acl;
#[cfg(feature = "server")]
pub mod bucket_name;
#[cfg(feature = "server")]
pub mod conditional;
pub mod config;
#[cfg(feature = "server")]
pub mod content_disposition;
pub mod content_type;
pub mod document;
pub mod download_cursor;
pub mod error;
pub mod gcs_requests;
pub mod gcs_responses;
pub mod http;
#[cfg(feature = "server")]
pub mod http_date;
pub mod integrity;
pub mod json;
pub mod list_paging;
pub mod metadata_patch;
pub mod object_metadata;
pub mod object_name;
#[cfg(feature = "server")]
pub mod object_paths;
pub mod options;
pub mod range;
#[cfg(feature = "server")]
pub mod range_header;
// (Also in the native tests of every build: `resumable`'s simulation keeps a stream's bytes.)
#[cfg(any(feature = "server", test))]
pub mod replay_buffer;
pub mod resumable;
pub mod retry;
#[cfg(feature = "server")]
pub mod serving;
#[cfg(feature = "server")]
pub mod sidecar;
#[cfg(feature = "server")]
pub mod signed_url;
pub mod stall;
pub mod text;
pub mod url_transfer;
