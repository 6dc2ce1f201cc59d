//! `setMetadata`: one `objects.patch` of the fields the caller names, resolving to the
//! object's metadata as it is afterwards.

use wasm_bindgen::prelude::*;

use crate::protocol::error::StorageError;
use crate::protocol::metadata_patch::MetadataPatch;
use crate::protocol::object_metadata::ObjectMetadata;
use crate::protocol::options::{Generation, SetMetadataOptions};
use crate::protocol::retry::{Operation, Precondition};
use crate::wasm::call_context::CallContext;
use crate::wasm::interop::{self, object_name_arg};
use crate::wasm::metadata::metadata_to_js;
use crate::wasm::storage::{Call, Storage};

impl Storage {
    /// Applies `patch`. Repeated after a transient failure only with `ifMetagenerationMatch`
    /// (or `retryStrategy: 'always'`): without it a repeat could undo another writer's change
    /// made in between.
    pub async fn set_metadata(
        &self,
        object: &str,
        patch: &MetadataPatch,
        options: &SetMetadataOptions,
        context: &CallContext,
    ) -> Result<ObjectMetadata, StorageError> {
        let bucket = self.bucket(context).await?;
        let call = Call { bucket: &bucket, object: Some(object), context };
        let metageneration = options.if_metageneration_match.as_ref().map(Generation::to_query);
        let request = self.requests(&bucket).patch_metadata(object, patch, metageneration.as_deref());
        self.request_json(
            call,
            &request,
            None,
            self.retry(Operation::Patch, Precondition::given(metageneration.as_ref())),
        )
        .await
    }
}

/// `setMetadata(objectName, patch, options)` of `Core::call`: the updated metadata. `patch`
/// holds `contentType`, `contentDisposition`, `cacheControl` (`null` clears one) and `metadata`
/// (a `null` value removes that key); `options` may hold `ifMetagenerationMatch` and `signal`.
pub async fn set_metadata(
    storage: &Storage,
    name: JsValue,
    patch: JsValue,
    options: JsValue,
) -> Result<JsValue, StorageError> {
    let name = object_name_arg(&name, "objectName")?;
    let patch: MetadataPatch = interop::decode_options(&patch, "metadata")?;
    let context = CallContext::from_options(&options)?;
    let options: SetMetadataOptions = interop::decode_options(&options, "setMetadata options")?;
    storage.set_metadata(&name, &patch, &options, &context).await.map(|meta| metadata_to_js(&meta))
}
