//! The body of a resumable session sent as one streamed request, where the runtime streams
//! request bodies (Node, Deno, Bun): each try sends everything from the offset the session
//! holds, read from the bytes or the Blob (a file) as fetch asks for it. Bytes are hashed as
//! they go, each once however often tries resend them, and told as progress. A chunk a round
//! trip cost on every 8-16 MiB; one request streams at the link's speed.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultController, ReadableStreamDefaultReader};

use crate::protocol::error::{ErrorKind, StorageError};
use crate::wasm::call_context::CallContext;
use crate::wasm::upload::Tally;
use crate::wasm::{body, interop, transport};

/// Bytes are handed to fetch in pieces of at most this size (Blobs come in their own).
const PIECE: u32 = 256 * 1024;

/// Where a try's pieces come from.
enum Pieces {
    Bytes { bytes: Uint8Array, at: u32 },
    Reader(ReadableStreamDefaultReader),
}

/// The source from `offset` to its end (`total`), as a stream made for one try.
pub fn body(
    source: &JsValue,
    offset: u64,
    total: u64,
    tally: &Rc<Tally>,
    context: &CallContext,
) -> Result<ReadableStream, StorageError> {
    let pieces = match (source.dyn_ref::<Uint8Array>(), source.dyn_ref::<Blob>()) {
        (Some(bytes), _) => Pieces::Bytes { bytes: bytes.subarray(offset as u32, total as u32), at: 0 },
        (_, Some(blob)) => {
            let rest = blob
                .slice_with_f64_and_f64(offset as f64, total as f64)
                .map_err(|error| interop::error_from_js(&error, ErrorKind::LocalFile))?;
            Pieces::Reader(rest.stream().get_reader().unchecked_into())
        }
        _ => return Err(StorageError::new(ErrorKind::Unknown, "a streamed session needs bytes or a Blob")),
    };
    let pieces = Rc::new(RefCell::new(pieces));
    let position = Rc::new(Cell::new(offset));
    let (tally, context, cancelled) = (tally.clone(), context.clone(), pieces.clone());
    let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> Promise>::new(
        move |controller: ReadableStreamDefaultController| {
            let (pieces, position, tally, context) = (pieces.clone(), position.clone(), tally.clone(), context.clone());
            wasm_bindgen_futures::future_to_promise(async move {
                let piece = match next_piece(&pieces).await {
                    Ok(piece) => piece,
                    Err(error) => {
                        let failure = StorageError::new(
                            ErrorKind::LocalFile,
                            text!("reading the source failed: ", interop::thrown_message(&error)),
                        );
                        tally.source_error.set(Some(failure));
                        return Err(error);
                    }
                };
                let Some(piece) = piece else {
                    controller.close()?;
                    return Ok(JsValue::UNDEFINED);
                };
                let at = position.get();
                position.set(at + piece.length() as u64);
                let mut hashing = tally.hashing.get();
                let fresh = hashing.take(at, &piece);
                tally.hashing.set(hashing);
                controller.enqueue_with_chunk(&piece)?;
                if fresh {
                    context.progress(hashing.frontier.hashed_to, Some(total));
                }
                Ok(JsValue::UNDEFINED)
            })
        },
    );
    let cancel = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |reason: JsValue| match &*cancelled.borrow() {
        Pieces::Reader(reader) => reader.cancel_with_reason(&reason),
        Pieces::Bytes { .. } => Promise::resolve(&JsValue::UNDEFINED),
    });
    transport::pulled_stream(pull.into_js_value(), Some(cancel.into_js_value()))
}

async fn next_piece(pieces: &RefCell<Pieces>) -> Result<Option<Uint8Array>, JsValue> {
    let reader = match &mut *pieces.borrow_mut() {
        Pieces::Bytes { bytes, at } => {
            let start = *at;
            if start >= bytes.length() {
                return Ok(None);
            }
            *at = bytes.length().min(start + PIECE);
            return Ok(Some(bytes.subarray(start, *at)));
        }
        Pieces::Reader(reader) => reader.clone(),
    };
    Ok(body::next_value(&reader).await?.as_ref().and_then(body::as_bytes))
}
