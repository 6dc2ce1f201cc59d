//! Request and response bodies as JavaScript values: what uploads accept, gzip through
//! the runtime's `CompressionStream`, hashing in windows, and downloads gathered into one
//! pre-sized buffer. Bytes stay in JS memory; only hashing copies them, a window at a time.

use core::cell::UnsafeCell;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStream, ReadableStreamDefaultReader};

use crate::prelude::*;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::integrity::Crc32c;
use crate::wasm::{interop, platform};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextEncoder)]
    type Utf8Encoder;
    #[wasm_bindgen(constructor, js_class = "TextEncoder")]
    fn new() -> Utf8Encoder;
    #[wasm_bindgen(method, js_class = "TextEncoder")]
    fn encode(this: &Utf8Encoder, input: &JsValue) -> Uint8Array;
    /// The runtime's `CompressionStream`: `new` throws where there is none.
    #[wasm_bindgen(js_name = CompressionStream)]
    type Compressor;
    #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
    fn new(format: &str) -> Result<Compressor, JsValue>;
    #[wasm_bindgen(js_name = ReadableStream)]
    type Piped;
    #[wasm_bindgen(method, catch, js_class = "ReadableStream", js_name = pipeThrough)]
    fn pipe_through(this: &Piped, transform: &Compressor) -> Result<ReadableStream, JsValue>;
}

/// A string, an `ArrayBuffer` or any view of one as a `Uint8Array` (strings encoded as
/// UTF-8 by the runtime, views over the same memory); `None` for anything else.
pub fn as_bytes(value: &JsValue) -> Option<Uint8Array> {
    if value.is_string() {
        return Some(Utf8Encoder::new().encode(value));
    }
    // `isView` checks the brand, and is false for a Proxy of a view (whose getters throw).
    if !ArrayBuffer::is_view(value) {
        value.dyn_ref::<ArrayBuffer>()?;
        // Read through `get`, which catches: a Proxy of a buffer throws, and is no bytes.
        let length = interop::get(value, "byteLength").as_f64()?;
        // Empty, or detached (transferred away), where `new Uint8Array` would throw: no bytes,
        // as a view of a detached buffer has none.
        return Some(if length == 0.0 { Uint8Array::new_with_length(0) } else { Uint8Array::new(value) });
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Some(bytes.clone());
    }
    let buffer = interop::property::<ArrayBuffer>(value, "buffer")?;
    let offset = interop::property::<JsValue>(value, "byteOffset").and_then(|v| v.as_f64())?;
    let length = interop::property::<JsValue>(value, "byteLength").and_then(|v| v.as_f64())?;
    Some(Uint8Array::new_with_byte_offset_and_length(&buffer, offset as u32, length as u32))
}

/// The next value a stream's reader gives, `None` at its end; the error is what the
/// stream failed with.
pub async fn next_value(reader: &ReadableStreamDefaultReader) -> Result<Option<JsValue>, JsValue> {
    let step = JsFuture::from(platform::read(reader)?).await?;
    if interop::property::<JsValue>(&step, "done").is_some_and(|done| done.is_truthy()) {
        return Ok(None);
    }
    Ok(Some(interop::property::<JsValue>(&step, "value").unwrap_or(JsValue::UNDEFINED)))
}

/// Upload content, sorted by what it is. Text and every kind of byte array are bytes.
pub enum Content {
    Bytes(Uint8Array),
    Blob(Blob),
    Stream(ReadableStream),
}

impl Content {
    /// Accepts a string, a `Uint8Array` (so a Node `Buffer`), any other `ArrayBuffer` view,
    /// an `ArrayBuffer`, a `Blob` (so a `File`) or a `ReadableStream`.
    pub fn from_js(value: JsValue) -> Result<Content, StorageError> {
        if let Some(bytes) = as_bytes(&value) {
            return Ok(Content::Bytes(bytes));
        }
        if let Some(blob) = value.dyn_ref::<Blob>().filter(|_| interop::branded(&value, "size")) {
            return Ok(Content::Blob(blob.clone()));
        }
        if let Some(stream) = value.dyn_ref::<ReadableStream>().filter(|_| interop::branded(&value, "locked")) {
            if stream.locked() {
                return Err(StorageError::invalid_argument("contents: the stream is locked (a reader has it)"));
            }
            return Ok(Content::Stream(stream.clone()));
        }
        Err(StorageError::invalid_argument(
            "contents must be a string, Uint8Array/Buffer, ArrayBuffer, Blob or ReadableStream",
        ))
    }

    /// The size, where it is known before reading.
    pub fn known_size(&self) -> Option<u64> {
        match self {
            Content::Bytes(bytes) => Some(bytes.length() as u64),
            Content::Blob(blob) => Some(blob.size() as u64),
            Content::Stream(_) => None,
        }
    }

    fn into_stream(self) -> Result<ReadableStream, StorageError> {
        let blob = match self {
            Content::Stream(stream) => return Ok(stream),
            Content::Blob(blob) => blob,
            Content::Bytes(bytes) => Blob::new_with_u8_array_sequence(&Array::of1(&bytes))
                .map_err(|error| interop::error_from_js(&error, ErrorKind::InvalidArgument))?,
        };
        platform::stream(&blob)
    }

    /// The content gzipped as it streams, with the runtime's `CompressionStream`.
    pub fn gzip(self) -> Result<Content, StorageError> {
        let compressor = Compressor::new("gzip").map_err(|error| {
            StorageError::new(ErrorKind::Unsupported, text!("compress: true: ", interop::thrown_message(&error)))
        })?;
        let stream = self.into_stream()?;
        stream
            .unchecked_ref::<Piped>()
            .pipe_through(&compressor)
            .map(Content::Stream)
            .map_err(|error| platform::source_failed(&error))
    }
}

/// Hashing copies bytes into wasm memory at most this many at a time.
const HASH_WINDOW: usize = 256 * 1024;

/// The one buffer every hash copies through, reserved with the module's memory: a buffer
/// allocated per call, its size varying with the chunks, fragmented the heap until wasm
/// memory grew with object size (+6 MiB over a 1 GiB stream upload, measured).
struct Window(UnsafeCell<[u8; HASH_WINDOW]>);

// Safety: the wasm is single-threaded, and `hash` (its only user) never yields or calls code
// that could call it again, so the window is never borrowed twice.
unsafe impl Sync for Window {}

// Zeros, so it costs nothing: the linker leaves zeroed statics out of the data section.
static WINDOW: Window = Window(UnsafeCell::new([0; HASH_WINDOW]));

#[wasm_bindgen]
extern "C" {
    /// `Uint8Array.prototype.set.call(target, source)`: copies `source` into wasm memory, as
    /// js-sys's `copy_to` does but without its length `assert_eq!`, whose panic message would
    /// bring `core::fmt` into the wasm. The lengths are equal wherever it is called.
    #[wasm_bindgen(js_namespace = Uint8Array, js_name = "prototype.set.call")]
    fn copy_into(target: &mut [u8], source: &Uint8Array);
}

/// Feeds a JS byte array to a CRC32C, window by window.
pub fn hash(hasher: &mut Crc32c, bytes: &Uint8Array) {
    // Safety: see `Window`; this is the only borrow while it lives.
    let window = unsafe { &mut *WINDOW.0.get() };
    let total = bytes.length();
    let mut offset = 0;
    while offset < total {
        let length = (HASH_WINDOW as u32).min(total - offset);
        let window = window.get_mut(..length as usize).unwrap_or_default();
        copy_into(window, &bytes.subarray(offset, offset + length));
        hasher.update(window);
        offset += length;
    }
}

/// Chunks gathered into one `Uint8Array`: written straight into a buffer of the announced
/// size, or collected and joined once when the size is unknown or exceeded.
pub struct Gathered {
    buffer: Option<Uint8Array>,
    chunks: Vec<Uint8Array>,
    filled: u32,
}

impl Gathered {
    pub fn with_capacity(length: Option<u64>) -> Gathered {
        let buffer =
            length.filter(|length| *length <= u32::MAX as u64).map(|length| Uint8Array::new_with_length(length as u32));
        Gathered { buffer, chunks: Vec::new(), filled: 0 }
    }

    pub fn push(&mut self, chunk: &Uint8Array) -> Result<(), StorageError> {
        let length = chunk.length();
        let filled = self.filled.checked_add(length).ok_or_else(|| {
            StorageError::new(
                ErrorKind::Unsupported,
                "the object is too large for one byte array; use downloadAsStream or downloadToFilename",
            )
        })?;
        match &self.buffer {
            Some(target) if filled <= target.length() => target.set(chunk, self.filled),
            _ => {
                if let Some(target) = self.buffer.take() {
                    self.chunks.push(target.subarray(0, self.filled));
                }
                self.chunks.push(chunk.clone());
            }
        }
        self.filled = filled;
        Ok(())
    }

    pub fn finish(self) -> Uint8Array {
        if let Some(target) = self.buffer {
            return target.subarray(0, self.filled);
        }
        if let [only] = self.chunks.as_slice() {
            return only.clone();
        }
        let joined = Uint8Array::new_with_length(self.filled);
        let mut offset = 0;
        for chunk in &self.chunks {
            joined.set(chunk, offset);
            offset += chunk.length();
        }
        joined
    }
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
