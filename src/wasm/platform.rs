//! The runtime's own methods of Blobs and streams, called through their classes' prototypes
//! (wasm-bindgen's `final`), not looked up on the value. An upload's Blob or stream may be a
//! subclass whose overrides throw or hand back anything (a `getReader` giving a plain object),
//! and a throw inside wasm would leave its call hanging; the prototypes' methods give the
//! runtime's own readers, streams and promises, which read the value's real contents.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Blob)]
    type OwnBlob;
    #[wasm_bindgen(method, final, getter, js_class = "Blob")]
    fn size(this: &OwnBlob) -> f64;
    #[wasm_bindgen(method, final, js_class = "Blob")]
    fn stream(this: &OwnBlob) -> ReadableStream;
    #[wasm_bindgen(method, final, js_class = "Blob")]
    fn slice(this: &OwnBlob, start: f64, end: f64) -> Blob;

    #[wasm_bindgen(js_name = ReadableStream)]
    type OwnStream;
    /// Throws when the stream is locked.
    #[wasm_bindgen(method, final, catch, js_class = "ReadableStream", js_name = getReader)]
    fn get_reader(this: &OwnStream) -> Result<ReadableStreamDefaultReader, JsValue>;

    #[wasm_bindgen(js_name = ReadableStreamDefaultReader)]
    type OwnReader;
    #[wasm_bindgen(method, final, js_class = "ReadableStreamDefaultReader")]
    fn read(this: &OwnReader) -> Promise;
    #[wasm_bindgen(method, final, js_class = "ReadableStreamDefaultReader")]
    fn cancel(this: &OwnReader) -> Promise;
}

pub fn size(blob: &Blob) -> f64 {
    blob.unchecked_ref::<OwnBlob>().size()
}

pub fn stream(blob: &Blob) -> ReadableStream {
    blob.unchecked_ref::<OwnBlob>().stream()
}

pub fn slice(blob: &Blob, start: f64, end: f64) -> Blob {
    blob.unchecked_ref::<OwnBlob>().slice(start, end)
}

/// A default reader of `stream`, which locks it; `Err` when a reader has it already.
pub fn reader(stream: &ReadableStream) -> Result<ReadableStreamDefaultReader, JsValue> {
    stream.unchecked_ref::<OwnStream>().get_reader()
}

pub fn read(reader: &ReadableStreamDefaultReader) -> Promise {
    reader.unchecked_ref::<OwnReader>().read()
}

pub fn cancel(reader: &ReadableStreamDefaultReader) -> Promise {
    reader.unchecked_ref::<OwnReader>().cancel()
}
