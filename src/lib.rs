//! replit-object-storage-wasm: a client for Replit App Storage (Google Cloud Storage) that
//! runs wherever JavaScript has `fetch`. The protocol lives in pure modules (requests,
//! responses, sidecar, names, config); the wasm modules send them and adapt to JS.

#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude would give; every module imports it, so the crate builds without std.
mod prelude {
    pub use alloc::boxed::Box;
    #[cfg(test)]
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

/// A `String` of the pieces given, in order: texts and whole numbers, as in
/// `text!("got ", size, " bytes")`. The client's messages and URLs are made with it instead of
/// `format!`: its `core::fmt` machinery cost 0.6 KiB gz of wasm (measured).
macro_rules! text {
    ($($piece:expr),+ $(,)?) => {{
        let mut out = $crate::prelude::String::new();
        $( $crate::text::Piece::append_to(&$piece, &mut out); )+
        out
    }};
}

pub mod config;
pub mod content_type;
pub mod document;
pub mod error;
pub mod gcs_requests;
pub mod gcs_responses;
pub mod http;
pub mod integrity;
pub mod object_name;
pub mod options;
pub mod range;
pub mod resumable;
pub mod retry;
pub mod sidecar;
pub mod text;

// The wasm side: sending requests and adapting to JavaScript.
mod attempt;
mod auth;
mod body;
mod download;
mod exports;
mod interop;
mod single_flight;
mod storage;
mod transport;
mod upload;

pub use exports::Core;

// Without std, a panic (a bug: the client returns errors, it does not panic) traps the wasm
// instance, which JS sees as a `RuntimeError`; std's handler would only add message
// formatting nobody reads in a browser.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
// Safety: this wasm is single-threaded (no `atomics` target feature), so no lock is needed.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
