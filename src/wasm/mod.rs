//! The JavaScript side: sends the protocol's requests over the global `fetch`, keeps bodies as
//! JS values, and converts arguments and results at the boundary of the exported `Core`.

#[cfg(feature = "server")]
pub mod acl;
pub mod attempt;
pub mod auth;
pub mod backoff;
pub mod body;
pub mod call_context;
pub mod download;
pub mod exchange;
pub mod exports;
pub mod interop;
pub mod listing;
pub mod metadata;
#[cfg(feature = "server")]
pub mod object_paths;
pub mod platform;
#[cfg(feature = "server")]
pub mod serving;
pub mod set_metadata;
#[cfg(feature = "server")]
pub mod sidecar_requests;
#[cfg(feature = "server")]
pub mod signing;
#[cfg(feature = "server")]
pub mod single_flight;
pub mod storage;
#[cfg(feature = "server")]
pub mod streamed_upload;
pub mod timers;
pub mod transport;
pub mod upload;
pub mod url_transfer;

/// Why the browser build cannot find a bucket or a token by itself (js/web/client.mjs says so
/// at length, with what to do, before the core runs).
#[cfg(not(feature = "server"))]
pub const NO_SIDECAR: &str = "the browser build has no Replit sidecar: pass bucketId and accessToken";
