//! Reading JSON-shaped values (a server's answer, an options object) into Rust types.
//! Hand-rolled instead of serde: serde's generic decoding, and the float formatting its
//! error messages pull in, weighed more in the wasm than the rest of the client's parsers.
//! A `Document` is a JS value on the wasm side (`interop`) and a `serde_json::Value` in
//! native tests, so every reader is unit-tested by `cargo test`.

use crate::prelude::*;

/// A JSON-shaped value the readers can look into.
pub trait Document: Sized {
    /// The property `key` of an object; `None` when it is missing, `undefined` or `null`,
    /// or when this is not an object.
    fn get(&self, key: &str) -> Option<Self>;
    fn as_string(&self) -> Option<String>;
    fn as_number(&self) -> Option<f64>;
    fn as_bool(&self) -> Option<bool>;
    /// The elements, when this is an array.
    fn as_array(&self) -> Option<Vec<Self>>;
    fn is_object(&self) -> bool;
    /// The properties of an object, in order; a `null` value is `None`, and properties whose
    /// value is `undefined` are left out (as `JSON.stringify` leaves them out). `None` when
    /// this is not an object.
    fn entries(&self) -> Option<Vec<(String, Option<Self>)>>;
}

/// What is wrong with a value, as a phrase naming the field: "`maxResults` must be ...".
pub type FieldError = String;

/// A Rust type read from a document's object.
pub trait FromDocument: Sized {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError>;
}

/// Reads `T` from `document`, which must be an object.
pub fn decode<T: FromDocument, D: Document>(document: &D) -> Result<T, FieldError> {
    if !document.is_object() {
        return Err("must be an object".into());
    }
    T::read(&Fields(document))
}

/// The fields of one object, each read as an optional value of a given type: missing and
/// `null` are `None`, a value of the wrong type is an error.
pub struct Fields<'a, D>(&'a D);

/// JavaScript numbers are exact integers up to 2^53.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

fn wrong(key: &str, expected: &str) -> FieldError {
    text!("`", key, "` must be ", expected)
}

/// An error of the object under `key`, prefixed with `key.`. Not generic, so that it is
/// compiled once rather than into every `object::<T>`.
#[inline(never)]
fn nested(key: &str, error: &str) -> FieldError {
    match error.strip_prefix("`") {
        Some(inner) => text!("`", key, ".", inner),
        None => text!("`", key, "` ", error),
    }
}

/// A field the answer must have.
pub fn required<T>(key: &str, value: Option<T>) -> Result<T, FieldError> {
    value.ok_or_else(|| text!("`", key, "` is missing"))
}

/// A whole number from 0 to 2^53 - 1, which is what a JS number can hold exactly.
pub fn whole_number(number: f64) -> Option<u64> {
    ((0.0..=MAX_SAFE_INTEGER).contains(&number) && number as u64 as f64 == number).then_some(number as u64)
}

impl<D: Document> Fields<'_, D> {
    /// The raw value of `key`, for fields that accept several types.
    pub fn raw(&self, key: &str) -> Option<D> {
        self.0.get(key)
    }

    fn typed<T>(&self, key: &str, expected: &str, read: impl Fn(&D) -> Option<T>) -> Result<Option<T>, FieldError> {
        self.0.get(key).map(|value| read(&value).ok_or_else(|| wrong(key, expected))).transpose()
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, FieldError> {
        self.typed(key, "a string", D::as_string)
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, FieldError> {
        self.typed(key, "a boolean", D::as_bool)
    }

    /// Any finite number.
    pub fn number(&self, key: &str) -> Result<Option<f64>, FieldError> {
        self.typed(key, "a finite number", |value| value.as_number().filter(|number| number.is_finite()))
    }

    pub fn whole(&self, key: &str) -> Result<Option<u64>, FieldError> {
        self.typed(key, "a non-negative integer", |value| value.as_number().and_then(whole_number))
    }

    pub fn count(&self, key: &str) -> Result<Option<u32>, FieldError> {
        self.typed(key, "a non-negative integer below 2^32", |value| {
            value.as_number().and_then(whole_number).and_then(|number| u32::try_from(number).ok())
        })
    }

    /// A nested object; its errors are prefixed with `key.`.
    pub fn object<T: FromDocument>(&self, key: &str) -> Result<Option<T>, FieldError> {
        let Some(value) = self.0.get(key) else { return Ok(None) };
        decode(&value).map(Some).map_err(|error| nested(key, &error))
    }

    /// An array of strings; missing means empty.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, FieldError> {
        let Some(value) = self.0.get(key) else { return Ok(Vec::new()) };
        let expected = || wrong(key, "an array of strings");
        let mut strings = Vec::new();
        for element in value.as_array().ok_or_else(expected)? {
            strings.push(element.as_string().ok_or_else(expected)?);
        }
        Ok(strings)
    }

    /// The object's own properties in order, a `null` value as `None`; an error when they
    /// cannot be listed (a Proxy whose `ownKeys` trap throws), rather than none.
    pub fn members(&self) -> Result<Vec<(String, Option<D>)>, FieldError> {
        self.0.entries().ok_or_else(|| "must be an object whose properties can be listed".into())
    }

    /// An array of objects; missing means empty.
    pub fn list<T: FromDocument>(&self, key: &str) -> Result<Vec<T>, FieldError> {
        let Some(value) = self.0.get(key) else { return Ok(Vec::new()) };
        let elements = value.as_array().ok_or_else(|| wrong(key, "an array"))?;
        elements.iter().map(|element| decode(element).map_err(|error| text!("`", key, "[]`: ", error))).collect()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
impl Document for serde_json::Value {
    fn get(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).filter(|value| !value.is_null()).cloned()
    }
    fn as_string(&self) -> Option<String> {
        self.as_str().map(String::from)
    }
    fn as_number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn as_bool(&self) -> Option<bool> {
        serde_json::Value::as_bool(self)
    }
    fn as_array(&self) -> Option<Vec<Self>> {
        serde_json::Value::as_array(self).cloned()
    }
    fn is_object(&self) -> bool {
        serde_json::Value::is_object(self)
    }
    fn entries(&self) -> Option<Vec<(String, Option<Self>)>> {
        let object = self.as_object()?;
        Some(object.iter().map(|(key, value)| (key.clone(), Some(value.clone()).filter(|v| !v.is_null()))).collect())
    }
}

/// The entries of `object` (the value of `key`), an object whose values are strings: a `null`
/// value is `None`; any other value that is not a string is an error naming its key.
pub fn string_entries<D: Document>(
    object: &D,
    key: &str,
    expected: &str,
) -> Result<Vec<(String, Option<String>)>, FieldError> {
    let entries = object.entries().ok_or_else(|| wrong(key, "an object"))?;
    let mut out = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let value = match value {
            None => None,
            Some(value) => Some(value.as_string().ok_or_else(|| text!("`", key, ".", name, "` must be ", expected))?),
        };
        out.push((name, value));
    }
    Ok(out)
}

/// Parses JSON text and reads `T` from it (native tests only).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub fn from_json<T: FromDocument>(json: &str) -> Result<T, FieldError> {
    decode(&serde_json::from_str::<serde_json::Value>(json).map_err(|error| error.to_string())?)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Inner {
        start: Option<u64>,
    }
    impl FromDocument for Inner {
        fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
            Ok(Inner { start: fields.whole("start")? })
        }
    }

    #[derive(Debug, PartialEq)]
    struct Outer {
        name: Option<String>,
        on: Option<bool>,
        ms: Option<f64>,
        count: Option<u32>,
        inner: Option<Inner>,
        items: Vec<Inner>,
    }
    impl FromDocument for Outer {
        fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
            Ok(Outer {
                name: fields.string("name")?,
                on: fields.boolean("on")?,
                ms: fields.number("ms")?,
                count: fields.count("count")?,
                inner: fields.object("inner")?,
                items: fields.list("items")?,
            })
        }
    }

    #[test]
    fn reads_every_field_type_and_ignores_unknown_fields() {
        let outer: Outer = from_json(
            r#"{"name":"n","on":true,"ms":1.5,"count":7,"inner":{"start":3},"items":[{"start":1},{}],"x":[]}"#,
        )
        .unwrap();
        assert_eq!(
            outer,
            Outer {
                name: Some("n".into()),
                on: Some(true),
                ms: Some(1.5),
                count: Some(7),
                inner: Some(Inner { start: Some(3) }),
                items: vec![Inner { start: Some(1) }, Inner { start: None }],
            }
        );
    }

    #[test]
    fn missing_and_null_are_none() {
        let outer: Outer = from_json(r#"{"name":null,"inner":null,"items":null}"#).unwrap();
        assert_eq!(outer, Outer { name: None, on: None, ms: None, count: None, inner: None, items: vec![] });
    }

    #[test]
    fn wrong_types_name_the_field() {
        for (json, field) in [
            (r#"{"name":5}"#, "`name` must be a string"),
            (r#"{"on":"yes"}"#, "`on` must be a boolean"),
            (r#"{"count":-1}"#, "`count` must be a non-negative integer below 2^32"),
            (r#"{"count":1.5}"#, "`count` must be a non-negative integer below 2^32"),
            (r#"{"count":4294967296}"#, "`count` must be a non-negative integer below 2^32"),
            (r#"{"inner":{"start":"3"}}"#, "`inner.start` must be a non-negative integer"),
            (r#"{"inner":7}"#, "`inner` must be an object"),
            (r#"{"items":{}}"#, "`items` must be an array"),
            (r#"{"items":[{"start":-2}]}"#, "`items[]`: `start` must be a non-negative integer"),
        ] {
            assert_eq!(from_json::<Outer>(json).unwrap_err(), field, "{json}");
        }
        assert_eq!(from_json::<Outer>("[]").unwrap_err(), "must be an object");
    }

    #[test]
    fn reads_string_arrays_members_and_string_entries() {
        let document: serde_json::Value =
            serde_json::from_str(r#"{"list":["a","b"],"map":{"k":"v","gone":null},"bad":{"n":1}}"#).unwrap();
        let fields = Fields(&document);
        assert_eq!(fields.strings("list").unwrap(), ["a", "b"]);
        assert_eq!(fields.strings("missing").unwrap(), Vec::<String>::new());
        assert_eq!(fields.strings("map").unwrap_err(), "`map` must be an array of strings");
        let keys: Vec<String> = fields.members().unwrap().into_iter().map(|(key, _)| key).collect();
        assert_eq!(keys, ["bad", "list", "map"]);
        let map = fields.raw("map").unwrap();
        assert_eq!(
            string_entries(&map, "map", "a string or null").unwrap(),
            [("gone".to_string(), None), ("k".to_string(), Some("v".to_string()))]
        );
        assert_eq!(
            string_entries(&fields.raw("bad").unwrap(), "bad", "a string").unwrap_err(),
            "`bad.n` must be a string"
        );
        assert_eq!(
            string_entries(&fields.raw("list").unwrap(), "list", "a string").unwrap_err(),
            "`list` must be an object"
        );
    }

    #[test]
    fn whole_numbers_stop_at_two_to_the_53() {
        assert_eq!(whole_number(0.0), Some(0));
        assert_eq!(whole_number(MAX_SAFE_INTEGER), Some(9_007_199_254_740_991));
        assert_eq!(whole_number(MAX_SAFE_INTEGER + 1.0), None);
        assert_eq!(whole_number(-1.0), None);
        assert_eq!(whole_number(f64::NAN), None);
    }
}
