//! replit-object-storage-wasm: a client for Replit App Storage (Google Cloud Storage) that
//! runs wherever JavaScript has `fetch`. Two layers, one folder each:
//! - `protocol/`: pure Rust, no JS bindings (requests, responses, errors, names, ranges, retry,
//!   integrity, sidecar exchange, configuration), tested natively with `cargo test`;
//!   `tests/layers.rs` fails the build's tests if a module there names a JS binding;
//! - `wasm/`: sends those requests over the global `fetch` and adapts values to JavaScript
//!   (transport, bodies, auth, attempts, the operations, the exported class).

#![no_std]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude would give; every module imports it, so the crate builds without std.
mod prelude {
    pub use alloc::boxed::Box;
    // Only the native tests use it; the crate's tests built for wasm32 (with `std`) do not.
    #[cfg(all(test, not(target_arch = "wasm32")))]
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
        $( $crate::protocol::text::Piece::append_to(&$piece, &mut out); )+
        out
    }};
}

pub mod protocol;
mod wasm;

pub use wasm::exports::Core;
pub use wasm::url_transfer::url_transfer;

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
