//! Object metadata for JavaScript: the `getMetadata` operation and the one conversion of
//! `ObjectMetadata` into the plain object every metadata-returning method resolves to.

use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::protocol::error::StorageError;
use crate::protocol::object_metadata::{ObjectMetadata, STRING_FIELDS};
use crate::wasm::call_context::CallContext;
use crate::wasm::interop::{object_name_arg, set};
use crate::wasm::storage::{Call, Retry, Storage};

/// `{name, bucket, size, contentType, …, metadata}` with GCS's field names; absent fields are
/// left out, `size` is a number and `metadata` is always an object (empty when there is none).
pub fn metadata_to_js(meta: &ObjectMetadata) -> JsValue {
    let object = Object::new();
    set(&object, "name", &JsValue::from_str(&meta.name));
    if let Some(size) = meta.size {
        set(&object, "size", &JsValue::from_f64(size as f64));
    }
    for (key, value) in STRING_FIELDS.iter().zip(meta.string_fields()) {
        if let Some(value) = value {
            set(&object, key, &JsValue::from_str(value));
        }
    }
    let custom = Object::new();
    for (key, value) in &meta.metadata {
        set(&custom, key, &JsValue::from_str(value));
    }
    set(&object, "metadata", &custom);
    object.into()
}

impl Storage {
    /// The live object's metadata (`ObjectNotFound` when there is none). A read: retried.
    pub async fn get_metadata(&self, object: &str, context: &CallContext) -> Result<ObjectMetadata, StorageError> {
        let bucket = self.bucket(context).await?;
        let call = Call { bucket: &bucket, object: Some(object), context };
        let request = self.requests(&bucket).get_metadata(object);
        self.request_json(call, &request, None, Retry::Safe).await
    }
}

/// `getMetadata(objectName, options)` of `Core::call`: the object's metadata. `options` may
/// hold `signal`.
pub async fn get_metadata(storage: &Storage, name: JsValue, options: JsValue) -> Result<JsValue, StorageError> {
    let name = object_name_arg(&name, "objectName")?;
    let context = CallContext::from_options(&options)?;
    storage.get_metadata(&name, &context).await.map(|meta| metadata_to_js(&meta))
}
