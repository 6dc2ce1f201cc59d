//! Request and response bodies as JavaScript values: what uploads accept, gzip through
//! the runtime's `CompressionStream`, and downloads read into one pre-sized buffer. The
//! bytes stay in JS memory; none of them is copied into wasm memory here.

use js_sys::{Array, ArrayBuffer, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader, Response};

use crate::error::{ErrorKind, StorageError};
use crate::{interop, transport};

/// Upload content, sorted by what it is.
pub enum Content {
    Text(JsValue),
    Bytes(JsValue),
    Blob(Blob),
    Stream(ReadableStream),
}

impl Content {
    /// Accepts a string, a `Uint8Array` (so a Node `Buffer`), any other `ArrayBuffer` view,
    /// an `ArrayBuffer`, a `Blob` (so a `File`) or a `ReadableStream`.
    pub fn from_js(value: JsValue) -> Result<Content, StorageError> {
        if value.is_string() {
            return Ok(Content::Text(value));
        }
        if value.is_instance_of::<Uint8Array>() || value.is_instance_of::<ArrayBuffer>() || ArrayBuffer::is_view(&value) {
            return Ok(Content::Bytes(value));
        }
        if let Some(blob) = value.dyn_ref::<Blob>() {
            return Ok(Content::Blob(blob.clone()));
        }
        if let Some(stream) = value.dyn_ref::<ReadableStream>() {
            return Ok(Content::Stream(stream.clone()));
        }
        Err(StorageError::invalid_argument(
            "contents must be a string, Uint8Array/Buffer, ArrayBuffer, Blob or ReadableStream",
        ))
    }

    pub fn into_js(self) -> JsValue {
        match self {
            Content::Text(value) | Content::Bytes(value) => value,
            Content::Blob(blob) => blob.into(),
            Content::Stream(stream) => stream.into(),
        }
    }

    /// Whether the body can be sent a second time (a stream is consumed by the first try).
    pub fn is_replayable(&self) -> bool {
        !matches!(self, Content::Stream(_))
    }

    fn into_stream(self) -> Result<ReadableStream, StorageError> {
        let blob = match self {
            Content::Stream(stream) => return Ok(stream),
            Content::Blob(blob) => blob,
            Content::Text(value) | Content::Bytes(value) => Blob::new_with_u8_array_sequence(&Array::of1(&value))
                .map_err(|error| interop::error_from_js(&error, ErrorKind::InvalidArgument))?,
        };
        Ok(blob.stream())
    }

    /// The content gzipped as it streams, with the runtime's `CompressionStream`.
    pub fn gzip(self) -> Result<Content, StorageError> {
        let constructor = Reflect::get(&js_sys::global(), &"CompressionStream".into())
            .ok()
            .and_then(|value| value.dyn_into::<Function>().ok())
            .ok_or_else(|| StorageError::new(ErrorKind::Unsupported, "compress: true needs CompressionStream, which this runtime lacks"))?;
        let compressor = Reflect::construct(&constructor, &Array::of1(&"gzip".into()))
            .map_err(|error| interop::error_from_js(&error, ErrorKind::Unsupported))?;
        let stream = self.into_stream()?;
        let pipe_through = interop::property::<Function>(&stream, "pipeThrough")
            .ok_or_else(|| StorageError::new(ErrorKind::Unsupported, "ReadableStream.pipeThrough is missing"))?;
        let compressed = pipe_through
            .call1(&stream, &compressor)
            .map_err(|error| interop::error_from_js(&error, ErrorKind::Unknown))?;
        compressed
            .dyn_into::<ReadableStream>()
            .map(Content::Stream)
            .map_err(|_| StorageError::new(ErrorKind::Unknown, "pipeThrough did not return a stream"))
    }
}

/// The length the body will have, when the answer says and nothing re-encodes it.
fn declared_length(response: &Response) -> Option<u32> {
    if transport::header(response, "content-encoding").is_some_and(|encoding| !encoding.eq_ignore_ascii_case("identity")) {
        return None;
    }
    transport::header(response, "content-length")?.trim().parse().ok()
}

/// Reads the whole body into one `Uint8Array`: pre-sized from `Content-Length` when known
/// (a reader loop, much faster than `arrayBuffer()` in Node), else gathered then joined.
pub async fn read_all(response: &Response) -> Result<Uint8Array, StorageError> {
    let Some(body) = response.body() else {
        return Ok(Uint8Array::new_with_length(0));
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| StorageError::new(ErrorKind::Unknown, "the response body has no default reader"))?;
    let mut buffer = declared_length(response).map(Uint8Array::new_with_length);
    let mut chunks: Vec<Uint8Array> = Vec::new();
    let mut filled: u32 = 0;
    loop {
        let step = JsFuture::from(reader.read()).await.map_err(|error| {
            let error = interop::error_from_js(&error, ErrorKind::Network);
            StorageError::new(error.kind, format!("the download broke off after {filled} bytes: {}", error.message))
        })?;
        if interop::property::<JsValue>(&step, "done").is_some_and(|done| done.is_truthy()) {
            break;
        }
        let chunk: Uint8Array = interop::property(&step, "value")
            .ok_or_else(|| StorageError::new(ErrorKind::Unknown, "the response body gave a chunk that is not bytes"))?;
        let length = chunk.length();
        match buffer.as_ref() {
            Some(target) if filled + length <= target.length() => target.set(&chunk, filled),
            _ => {
                // More than declared (or nothing declared): gather instead.
                if let Some(target) = buffer.take() {
                    chunks.push(target.subarray(0, filled));
                }
                chunks.push(chunk);
            }
        }
        filled += length;
    }
    Ok(match buffer {
        Some(target) => target.subarray(0, filled),
        None => join(&chunks, filled),
    })
}

fn join(chunks: &[Uint8Array], total: u32) -> Uint8Array {
    if let [only] = chunks {
        return only.clone();
    }
    let joined = Uint8Array::new_with_length(total);
    let mut offset = 0;
    for chunk in chunks {
        joined.set(chunk, offset);
        offset += chunk.length();
    }
    joined
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextDecoder)]
    type Utf8Decoder;
    #[wasm_bindgen(constructor, js_class = "TextDecoder")]
    fn new(label: &str, options: &JsValue) -> Utf8Decoder;
    #[wasm_bindgen(method, js_class = "TextDecoder")]
    fn decode(this: &Utf8Decoder, input: &Uint8Array) -> JsValue;
}

/// UTF-8 text as @replit/object-storage gives it: invalid bytes become U+FFFD, a BOM stays.
pub fn decode_utf8(bytes: &Uint8Array) -> JsValue {
    let options = Object::new();
    let _ = Reflect::set(&options, &"ignoreBOM".into(), &JsValue::TRUE);
    Utf8Decoder::new("utf-8", &options).decode(bytes)
}
