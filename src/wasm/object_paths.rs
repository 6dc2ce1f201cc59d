//! Replit's App Storage environment for JavaScript: `objectPaths(env)` (the private folder and
//! public search paths the App Storage tool sets) and `Core.findPublic` (the generated apps'
//! `searchPublicObject`). The parsing is `protocol::object_paths`. Server-only.

use js_sys::{Array, Object, Promise};
use wasm_bindgen::prelude::*;

use crate::prelude::*;
use crate::protocol::config::Environment;
use crate::protocol::error::StorageError;
use crate::protocol::object_paths::{self, ObjectDir, ObjectPaths};
use crate::wasm::call_context::CallContext;
use crate::wasm::exports::Core;
use crate::wasm::interop::{self, set};

fn bucket_and(bucket_id: &str, key: &str, value: &str) -> JsValue {
    let object = Object::new();
    set(&object, "bucketId", &JsValue::from_str(bucket_id));
    set(&object, key, &JsValue::from_str(value));
    object.into()
}

fn dir_to_js(dir: &ObjectDir) -> JsValue {
    bucket_and(&dir.bucket_id, "prefix", &dir.prefix)
}

fn paths_to_js(paths: &ObjectPaths) -> JsValue {
    let object = Object::new();
    set(&object, "privateDir", &dir_to_js(&paths.private_dir));
    let public = Array::new();
    for dir in &paths.public_paths {
        public.push(&dir_to_js(dir));
    }
    set(&object, "publicPaths", &public);
    object.into()
}

fn read_object_paths(environment: &JsValue) -> Result<JsValue, StorageError> {
    let environment: Environment = interop::decode_options(environment, "environment")?;
    let paths = object_paths::object_paths(
        environment.private_object_dir.as_deref(),
        environment.public_object_search_paths.as_deref(),
    )?;
    Ok(paths_to_js(&paths))
}

/// `{privateDir: {bucketId, prefix}, publicPaths: [{bucketId, prefix}]}` from
/// `PRIVATE_OBJECT_DIR` and `PUBLIC_OBJECT_SEARCH_PATHS` of `environment` (`process.env`), as
/// a result: a missing or malformed variable is an `InvalidArgument` error naming it.
#[wasm_bindgen(js_name = objectPaths)]
pub fn object_paths_of(environment: JsValue) -> JsValue {
    interop::result(read_object_paths(&environment), None)
}

#[wasm_bindgen]
impl Core {
    /// Resolves to `{bucketId, objectName}` of the first public search path holding
    /// `relativePath` (in the order of `PUBLIC_OBJECT_SEARCH_PATHS`), or `null` when none does.
    #[wasm_bindgen(js_name = findPublic)]
    pub fn find_public(&self, relative_path: JsValue, options: JsValue) -> Promise {
        self.run("findPublic".into(), &options.clone(), move |storage| async move {
            let relative = relative_path
                .as_string()
                .ok_or_else(|| StorageError::invalid_argument("relativePath must be a string"))?;
            let context = CallContext::from_options(&options)?;
            let dirs = object_paths::search_paths(storage.config.public_search_paths.as_deref())?;
            let mut candidates = Vec::with_capacity(dirs.len());
            for dir in &dirs {
                candidates.push((dir.bucket_id.as_str(), object_paths::object_in(dir, &relative)?));
            }
            for (bucket, name) in candidates {
                if storage.exists(Some(bucket), &name, &context).await? {
                    return Ok(bucket_and(bucket, "objectName", &name));
                }
            }
            Ok(JsValue::NULL)
        })
    }
}
