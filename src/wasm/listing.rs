//! `listPage`: one page of a listing, each object with its metadata and the "folders" a
//! delimiter cut the names at, for callers that page through a bucket themselves.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;

use crate::protocol::error::StorageError;
use crate::protocol::gcs_responses::ListPage;
use crate::protocol::options::ListPageOptions;
use crate::wasm::call_context::CallContext;
use crate::wasm::interop::{self, set};
use crate::wasm::metadata::metadata_to_js;
use crate::wasm::storage::{Call, Retry, Storage};

impl Storage {
    /// The page `options.page_token` names (the first without one). A read: retried.
    pub async fn list_page(&self, options: &ListPageOptions, context: &CallContext) -> Result<ListPage, StorageError> {
        let bucket = self.bucket(context).await?;
        let call = Call { bucket: &bucket, object: None, context };
        let request = self.requests(&bucket).list(&options.params(), options.page_token.as_deref());
        self.request_json(call, &request, None, Retry::Safe).await
    }
}

/// `{objects, prefixes, nextPageToken?}`: `prefixes` always an array, `nextPageToken` absent
/// on the last page.
fn page_to_js(page: &ListPage) -> JsValue {
    let result = Object::new();
    let objects: Array = page.items.iter().map(metadata_to_js).collect();
    set(&result, "objects", &objects);
    let prefixes: Array = page.prefixes.iter().map(|prefix| JsValue::from_str(prefix)).collect();
    set(&result, "prefixes", &prefixes);
    if let Some(token) = page.next_page() {
        set(&result, "nextPageToken", &JsValue::from_str(token));
    }
    result.into()
}

/// `listPage(options)` of `Core::call`: one page. `options` may hold the filters of `list`,
/// `delimiter`, `pageToken` and `signal`; `maxResults` is the page size.
pub async fn list_page(storage: &Storage, options: JsValue) -> Result<JsValue, StorageError> {
    let context = CallContext::from_options(&options)?;
    let options: ListPageOptions = interop::decode_options(&options, "listPage options")?;
    storage.list_page(&options, &context).await.map(|page| page_to_js(&page))
}
