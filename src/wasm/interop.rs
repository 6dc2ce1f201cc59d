//! Conversions between JavaScript values and Rust: arguments and option objects in,
//! `{ok, value}` / `{ok: false, error}` results out. The exported class uses only these.

use core::future::Future;
use core::pin::Pin;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use crate::prelude::*;
use crate::protocol::document::{self, Document, FromDocument};
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::{object_name, text};

#[wasm_bindgen]
extern "C" {
    // Caught: a revoked Proxy throws from both, a Proxy's `ownKeys` trap from `keys`, and a JS
    // exception out of a future's poll would end the process. Such values read as no object.
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn is_array(value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    pub fn keys_of(value: &JsValue) -> Result<Array, JsValue>;
}

pub fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a plain data property on a fresh object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `target[key]`, or `undefined` when `target` is not an object.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if !target.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A future as a JS promise. Boxed into one type first, so that `future_to_promise` and its
/// machinery are compiled once rather than once per caller (~1.5 KiB gz of the wasm).
pub fn promise(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    let future: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>> = Box::pin(future);
    future_to_promise(future)
}

pub fn ok(value: &JsValue) -> JsValue {
    let result = Object::new();
    set(&result, "ok", &JsValue::TRUE);
    set(&result, "value", value);
    result.into()
}

pub fn error_to_js(error: &StorageError) -> JsValue {
    let object = Object::new();
    set(&object, "kind", &JsValue::from_str(error.kind.as_str()));
    set(&object, "message", &JsValue::from_str(&error.message));
    if let Some(status) = error.status_code {
        set(&object, "statusCode", &JsValue::from(status));
    }
    if let Some(attempts) = error.attempts {
        set(&object, "attempts", &JsValue::from(attempts));
    }
    object.into()
}

/// `error` as JS sees it, from a call made with `signal`: an abort keeps the signal's reason
/// as `cause` and says why (a `TimeoutError` reason, from `AbortSignal.timeout`, makes it a
/// `Timeout`).
pub fn failure_to_js(error: StorageError, signal: Option<&AbortSignal>) -> JsValue {
    let reason = match signal {
        Some(signal) if error.kind == ErrorKind::Aborted && signal.aborted() => get(signal, "reason"),
        _ => return error_to_js(&error),
    };
    let said = |key| get(&reason, key).as_string();
    let object = error_to_js(&error.aborted_because(said("name").as_deref(), said("message").as_deref()));
    set(object.unchecked_ref(), "cause", &reason);
    object
}

/// An operation's outcome as the `{ok, value}` / `{ok: false, error}` object; `signal` is the
/// call's (see `failure_to_js`).
pub fn result(outcome: Result<JsValue, StorageError>, signal: Option<&AbortSignal>) -> JsValue {
    match outcome {
        Ok(value) => ok(&value),
        Err(error) => {
            let result = Object::new();
            set(&result, "ok", &JsValue::FALSE);
            set(&result, "error", &failure_to_js(error, signal));
            result.into()
        }
    }
}

/// The message of a thrown value: an `Error`'s message (and its `cause`'s, as Node's
/// fetch hides the reason there), or the value as text.
pub fn thrown_message(value: &JsValue) -> String {
    let message =
        get(value, "message").as_string().or_else(|| value.as_string()).unwrap_or_else(|| "unknown error".into());
    let cause = get(&get(value, "cause"), "message").as_string().filter(|cause| !cause.is_empty() && *cause != message);
    match cause {
        Some(cause) => text!(message, ": ", cause),
        None => message,
    }
}

/// A thrown value as a typed error: one of ours passes through; an abort or timeout keeps
/// its meaning; anything else gets `fallback`.
pub fn error_from_js(value: &JsValue, fallback: ErrorKind) -> StorageError {
    if let Some(kind) = get(value, "kind").as_string().and_then(|kind| ErrorKind::parse(&kind)) {
        if let Some(message) = get(value, "message").as_string() {
            let status = get(value, "statusCode").as_f64().filter(|s| (100.0..600.0).contains(s)).map(|s| s as u16);
            let attempts = get(value, "attempts").as_f64().filter(|n| *n >= 1.0 && *n < 1e6).map(|n| n as u32);
            // One of ours back from JS, which does not carry transience: marked as when made.
            let error = StorageError::new(kind, message);
            let mut error = match status {
                Some(status) => error.with_status(status),
                None => error,
            };
            error.attempts = attempts;
            return error;
        }
    }
    let kind = match get(value, "name").as_string().as_deref() {
        Some("AbortError") => ErrorKind::Aborted,
        Some("TimeoutError") => ErrorKind::Timeout,
        _ => fallback,
    };
    StorageError::new(kind, thrown_message(value))
}

/// `value` as a Rust string; `None` when it is not a string, or when it holds a lone UTF-16
/// surrogate: UTF-8 has no form for one, and the conversion would make it U+FFFD, so the
/// string would not be stored (or name an object) as it was given.
fn exact_string(value: &JsValue) -> Option<String> {
    value.as_string().filter(|text| !text::contains(text, "\u{FFFD}") || JsValue::from_str(text) == *value)
}

/// The property `key` of an object, or NaN when reading it throws (a getter, a Proxy trap):
/// NaN no reader accepts, nor is it an object, so the property is refused under its name
/// rather than read as absent, which could drop a precondition (`ifGenerationMatch`). A
/// revoked Proxy, which throws from every look, is no object here: it has no properties.
fn read_property(object: &JsValue, key: &JsValue) -> Option<JsValue> {
    match Reflect::get(object, key) {
        Ok(value) => Some(value),
        // Asked only after a throw: answers (and server JSON) are read without the extra call.
        Err(_) if !Document::is_object(object) => None,
        Err(_) => Some(JsValue::from_f64(f64::NAN)),
    }
}

impl Document for JsValue {
    fn get(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        read_property(self, &JsValue::from_str(key)).filter(|value| !value.is_undefined() && !value.is_null())
    }
    fn as_string(&self) -> Option<String> {
        exact_string(self)
    }
    fn as_number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn as_bool(&self) -> Option<bool> {
        JsValue::as_bool(self)
    }
    fn as_array(&self) -> Option<Vec<Self>> {
        matches!(is_array(self), Ok(true)).then(|| self.unchecked_ref::<Array>().iter().collect())
    }
    fn is_object(&self) -> bool {
        JsValue::is_object(self) && matches!(is_array(self), Ok(false))
    }
    fn entries(&self) -> Option<Vec<(String, Option<Self>)>> {
        if !Document::is_object(self) {
            return None;
        }
        // The keys, then each value as `get` reads it: `Object.entries` would throw for one
        // throwing getter, and the property it failed on could not be named.
        let keys = keys_of(self).ok()?;
        Some(
            keys.iter()
                .filter_map(|key| {
                    let value = read_property(self, &key).filter(|value| !value.is_undefined())?;
                    // A key `exact_string` refuses comes with itself as its value, which every
                    // reader refuses as it refuses the key (naming it), rather than reading the
                    // value under an altered key.
                    let (key, value) = match exact_string(&key) {
                        Some(text) => (text, value),
                        None => (key.as_string()?, key),
                    };
                    Some((key, Some(value).filter(|value| !value.is_null())))
                })
                .collect(),
        )
    }
}

/// Reads a server's JSON (already parsed by `JSON.parse`) into a Rust type.
pub fn decode_response<T: FromDocument>(value: &JsValue, source: &str) -> Result<T, StorageError> {
    document::decode(value).map_err(|error| StorageError::malformed_response(source, &error))
}

/// Reads an options argument; `undefined` and `null` mean "all defaults".
pub fn decode_options<T: FromDocument + Default>(value: &JsValue, what: &str) -> Result<T, StorageError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    document::decode(value).map_err(|error| options_error(what, error))
}

/// Kept out of `decode_options`, which is compiled once per options type.
#[inline(never)]
fn options_error(what: &str, error: document::FieldError) -> StorageError {
    StorageError::invalid_argument(text!(what, ": ", error))
}

/// An object-name argument: a string, or an object with a string `name` (what `list`
/// returns), checked against GCS's naming rules.
pub fn object_name_arg(value: &JsValue, parameter: &str) -> Result<String, StorageError> {
    let given = if value.is_string() { value.clone() } else { get(value, "name") };
    // Names differing only where a lone surrogate became U+FFFD would silently name one object.
    let name = exact_string(&given).ok_or_else(|| {
        StorageError::invalid_argument(match given.is_string() {
            true => text!(parameter, ": object name holds a lone UTF-16 surrogate"),
            false => text!(parameter, " must be a string or an object with a string `name`"),
        })
    })?;
    object_name::validate(&name)
        .map_err(|error| StorageError::invalid_argument(text!(parameter, ": ", error.message)))?;
    Ok(name)
}

/// An optional property of an options object, of whatever JS type.
pub fn raw_option(options: &JsValue, key: &str) -> Option<JsValue> {
    Document::get(options, key)
}

/// Whether `value` has the brand a getter of its class checks, by reading it: `instanceof`
/// alone is true for a Proxy of the class's objects too, and their getters and methods then
/// throw (the read here is caught, and reads as undefined).
#[inline(never)]
pub fn branded(value: &JsValue, getter: &str) -> bool {
    !get(value, getter).is_undefined()
}

/// Reads a property of a JS object as a given JS type.
pub fn property<T: JsCast>(target: &JsValue, key: &str) -> Option<T> {
    get(target, key).dyn_into::<T>().ok()
}
