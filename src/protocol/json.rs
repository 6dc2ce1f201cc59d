//! The JSON the client sends (an upload's object resource, a metadata patch), written by
//! hand: the one JSON writer of the crate. serde_json's serializer would weigh more in the
//! wasm than these few lines; the property tests check what they write against serde_json.

use crate::prelude::*;

/// Appends `value` as a JSON string literal.
pub fn push_string(out: &mut String, value: &str) {
    out.push('"');
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            control if (control as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[(control as usize >> 4) & 0xf]));
                out.push(char::from(HEX[control as usize & 0xf]));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// A JSON object, written member by member in the order given.
#[derive(Debug)]
pub struct JsonObject {
    out: String,
}

impl Default for JsonObject {
    fn default() -> Self {
        JsonObject { out: String::from("{") }
    }
}

impl JsonObject {
    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        push_string(&mut self.out, key);
        self.out.push(':');
    }

    /// `"key":"value"`, or `"key":null` for `None`.
    pub fn string(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.key(key);
        match value {
            Some(value) => push_string(&mut self.out, value),
            None => self.out.push_str("null"),
        }
        self
    }

    /// `"key":{…}`, an object written before.
    pub fn object(&mut self, key: &str, value: JsonObject) -> &mut Self {
        self.key(key);
        self.out.push_str(&value.finish());
        self
    }

    /// `"key":[{…},…]`, objects written before.
    pub fn objects(&mut self, key: &str, values: Vec<JsonObject>) -> &mut Self {
        self.key(key);
        self.out.push('[');
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.out.push(',');
            }
            self.out.push_str(&value.finish());
        }
        self.out.push(']');
        self
    }

    /// The object's text.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn string(value: &str) -> String {
        let mut out = String::new();
        push_string(&mut out, value);
        out
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(string("a\u{1}\u{8}\n\\\"é\u{7f}"), format!(r#""a\u0001\b\n\\\"é{}""#, '\u{7f}'));
        assert_eq!(string(""), r#""""#);
    }

    #[test]
    fn writes_members_in_order_with_nulls_and_nested_objects() {
        assert_eq!(JsonObject::default().finish(), "{}");
        let mut inner = JsonObject::default();
        inner.string("k", Some("v")).string("gone", None);
        let mut outer = JsonObject::default();
        outer.string("name", Some("a")).string("cacheControl", None).object("metadata", inner);
        assert_eq!(outer.finish(), r#"{"name":"a","cacheControl":null,"metadata":{"k":"v","gone":null}}"#);
    }

    /// Text rich in what JSON escapes: `any::<String>()` draws from `\PC*`, which has no
    /// control characters at all, so it alone would leave every escape but `"` and `\` untried.
    fn text_to_escape() -> impl Strategy<Value = String> {
        let character =
            prop_oneof![(0u8..0x20).prop_map(char::from), Just('"'), Just('\\'), Just('\u{7f}'), any::<char>()];
        proptest::collection::vec(character, 0..24).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn strings_read_back_as_serde_json_reads_them(value in text_to_escape()) {
            let written = string(&value);
            prop_assert_eq!(serde_json::from_str::<String>(&written).unwrap(), value.clone());
            // Only what JSON requires is escaped: serde_json writes the same text.
            prop_assert_eq!(written, serde_json::to_string(&value).unwrap());
        }

        #[test]
        fn objects_read_back_as_serde_json_reads_them(
            members in proptest::collection::btree_map(text_to_escape(), proptest::option::of(text_to_escape()), 0..6),
            nested in proptest::collection::btree_map("[a-z:]{1,5}", text_to_escape(), 0..3),
        ) {
            let mut object = JsonObject::default();
            let mut expected = serde_json::Map::new();
            for (key, value) in &members {
                object.string(key, value.as_deref());
                expected.insert(key.clone(), value.as_ref().map_or(Value::Null, |v| json!(v)));
            }
            let mut inner = JsonObject::default();
            for (key, value) in &nested {
                inner.string(key, Some(value));
            }
            object.object("\u{0}nested", inner);
            expected.insert("\u{0}nested".into(), json!(nested));
            let parsed: Value = serde_json::from_str(&object.finish()).unwrap();
            prop_assert_eq!(parsed, Value::Object(expected));
        }
    }
}
