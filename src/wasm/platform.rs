//! The methods of Blobs and streams the client calls from wasm, so that none throws inside
//! it (which would leave its call hanging). A Blob or stream may be a subclass whose overrides
//! are meant (the Node layer's `FileBlob` reads files faster so) or not (a `getReader` that
//! gives a plain object): overrides are called, with what they throw caught. What they give
//! back needs no check: readers are read through the runtime's own methods (wasm-bindgen's
//! `final`), which refuse anything that is not a reader (most runtimes reject, as Web IDL has
//! it; workerd throws, which is caught too).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader};

use crate::protocol::error::{ErrorKind, StorageError};
use crate::wasm::interop;

#[wasm_bindgen]
extern "C" {
    /// A Blob or a ReadableStream, whose methods are called as its class or subclass has them.
    type Overridable;
    #[wasm_bindgen(method, catch)]
    fn stream(this: &Overridable) -> Result<ReadableStream, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn slice(this: &Overridable, start: f64, end: f64) -> Result<Blob, JsValue>;
    /// Throws when the stream is locked.
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn get_reader(this: &Overridable) -> Result<ReadableStreamDefaultReader, JsValue>;

    #[wasm_bindgen(js_name = ReadableStreamDefaultReader)]
    type OwnReader;
    #[wasm_bindgen(method, final, catch, js_class = "ReadableStreamDefaultReader")]
    fn read(this: &OwnReader) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, final, catch, js_class = "ReadableStreamDefaultReader")]
    fn cancel(this: &OwnReader) -> Result<Promise, JsValue>;
}

pub fn stream(blob: &Blob) -> Result<ReadableStream, StorageError> {
    blob.unchecked_ref::<Overridable>().stream().map_err(|error| source_failed(&error))
}

/// The Blob's bytes from `start` to `end`.
pub fn slice(blob: &Blob, start: u64, end: u64) -> Result<Blob, StorageError> {
    blob.unchecked_ref::<Overridable>().slice(start as f64, end as f64).map_err(|error| source_failed(&error))
}

/// A default reader of `stream`, which locks it; `Err` when a reader has it already.
pub fn reader(stream: &ReadableStream) -> Result<ReadableStreamDefaultReader, StorageError> {
    stream.unchecked_ref::<Overridable>().get_reader().map_err(|error| source_failed(&error))
}

/// An upload's source (its Blob, file or stream) failed to give its bytes.
pub fn source_failed(error: &JsValue) -> StorageError {
    StorageError::new(ErrorKind::LocalFile, text!("reading the source failed: ", interop::thrown_message(error)))
}

pub fn read(reader: &ReadableStreamDefaultReader) -> Result<Promise, JsValue> {
    reader.unchecked_ref::<OwnReader>().read()
}

/// Cancels the stream `reader` reads: the promise settles when that is done.
pub fn cancel(reader: &ReadableStreamDefaultReader) -> Promise {
    reader.unchecked_ref::<OwnReader>().cancel().unwrap_or_else(|_| Promise::resolve(&JsValue::UNDEFINED))
}
