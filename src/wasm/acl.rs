//! Access policies for JavaScript: `getAclPolicy`, `setAclPolicy` and `canAccess`, reading and
//! writing the JSON that Replit's generated apps keep under `custom:aclPolicy` (the rules are
//! in `protocol::acl`). Server-only: a page must not decide who may read what.

use js_sys::{Function, Object, Promise, JSON};
use wasm_bindgen::prelude::*;

use crate::prelude::*;
use crate::protocol::acl::{self, Decision, Group, Permission, Policy, POLICY_KEY};
use crate::protocol::document::decode;
use crate::protocol::error::{ErrorKind, StorageError};
use crate::protocol::metadata_patch::MetadataPatch;
use crate::protocol::options::SetMetadataOptions;
use crate::wasm::call_context::CallContext;
use crate::wasm::exports::Core;
use crate::wasm::interop::{self, object_name_arg, set};
use crate::wasm::storage::Storage;

/// The policy stored on `object`, if any. A stored value that is not a valid policy is an
/// error (`Unknown`, naming the object) rather than "no access": it needs a person to look.
async fn stored_policy(storage: &Storage, object: &str, context: &CallContext) -> Result<Option<Policy>, StorageError> {
    let meta = storage.get_metadata(object, context).await?;
    let Some(json) = meta.custom(POLICY_KEY) else { return Ok(None) };
    let malformed = |detail: &str| {
        StorageError::new(
            ErrorKind::Unknown,
            text!("the access policy stored on ", object, " (metadata `", POLICY_KEY, "`) is not valid: ", detail),
        )
    };
    let value = JSON::parse(json).map_err(|_| malformed("not JSON"))?;
    decode::<Policy, _>(&value).map(Some).map_err(|error| malformed(&error))
}

/// The policy as the plain object the generated apps' `JSON.parse` gives.
fn policy_to_js(policy: &Policy) -> JsValue {
    JSON::parse(&policy.to_json()).unwrap_or(JsValue::NULL)
}

fn group_to_js(group: &Group) -> JsValue {
    let object = Object::new();
    set(&object, "type", &JsValue::from_str(&group.kind));
    set(&object, "id", &JsValue::from_str(&group.id));
    object.into()
}

/// Whether `is_member(group, user)` says yes, awaiting it when it returns a promise.
async fn is_member(check: &Function, group: &Group, user: &str, context: &CallContext) -> Result<bool, StorageError> {
    let failed = |detail: String| StorageError::new(ErrorKind::Unknown, text!("isMember failed: ", detail));
    let answer = check
        .call2(&JsValue::UNDEFINED, &group_to_js(group), &JsValue::from_str(user))
        .map_err(|thrown| failed(interop::thrown_message(&thrown)))?;
    let settled = context.unless_aborted(Promise::resolve(&answer)).await?;
    settled.map(|value| value.is_truthy()).map_err(|thrown| failed(interop::thrown_message(&thrown)))
}

/// `{userId, permission, isMember}` of `canAccess`.
struct AccessQuery {
    user_id: Option<String>,
    permission: Permission,
    is_member: Option<Function>,
}

fn access_query(options: &JsValue) -> Result<AccessQuery, StorageError> {
    let user_id = match interop::raw_option(options, "userId") {
        None => None,
        Some(value) => {
            Some(value.as_string().ok_or_else(|| StorageError::invalid_argument("`userId` must be a string"))?)
        }
    };
    let permission = interop::raw_option(options, "permission")
        .and_then(|value| value.as_string())
        .and_then(|text| Permission::parse(&text))
        .ok_or_else(|| StorageError::invalid_argument("`permission` must be \"read\" or \"write\""))?;
    let is_member = match interop::raw_option(options, "isMember") {
        None => None,
        Some(value) => Some(
            value
                .dyn_into::<Function>()
                .map_err(|_| StorageError::invalid_argument("`isMember` must be a function"))?,
        ),
    };
    Ok(AccessQuery { user_id, permission, is_member })
}

#[wasm_bindgen]
impl Core {
    /// Resolves to the object's access policy, or `null` when it has none.
    #[wasm_bindgen(js_name = getAclPolicy)]
    pub fn get_acl_policy(&self, name: JsValue, options: JsValue) -> Promise {
        self.run("getAclPolicy".into(), &options.clone(), move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            let context = CallContext::from_options(&options)?;
            Ok(stored_policy(&storage, &name, &context).await?.as_ref().map_or(JsValue::NULL, policy_to_js))
        })
    }

    /// Stores `policy` on the object, leaving its other metadata as it is. `options` may hold
    /// `ifMetagenerationMatch` (without it, as for `setMetadata`, a transient failure is not
    /// retried under `retryStrategy: 'conditional'`) and `signal`.
    #[wasm_bindgen(js_name = setAclPolicy)]
    pub fn set_acl_policy(&self, name: JsValue, policy: JsValue, options: JsValue) -> Promise {
        self.run("setAclPolicy".into(), &options.clone(), move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            let context = CallContext::from_options(&options)?;
            let policy: Policy =
                decode(&policy).map_err(|error| StorageError::invalid_argument(text!("policy: ", error)))?;
            let patch =
                MetadataPatch { fields: Vec::new(), metadata: Some(vec![(POLICY_KEY.into(), Some(policy.to_json()))]) };
            let options: SetMetadataOptions = interop::decode_options(&options, "setAclPolicy options")?;
            storage.set_metadata(&name, &patch, &options, &context).await?;
            Ok(JsValue::NULL)
        })
    }

    /// Resolves to whether the user may read or write the object under its policy.
    #[wasm_bindgen(js_name = canAccess)]
    pub fn can_access(&self, name: JsValue, options: JsValue) -> Promise {
        self.run("canAccess".into(), &options.clone(), move |storage| async move {
            let name = object_name_arg(&name, "objectName")?;
            let context = CallContext::from_options(&options)?;
            let query = access_query(&options)?;
            let policy = stored_policy(&storage, &name, &context).await?;
            let allowed = match acl::decide(policy.as_ref(), query.user_id.as_deref(), query.permission) {
                Decision::Allowed => true,
                Decision::Denied => false,
                Decision::IfMemberOfAny(groups) => {
                    let (Some(check), Some(user)) = (&query.is_member, &query.user_id) else {
                        return Ok(JsValue::FALSE);
                    };
                    let mut found = false;
                    for group in groups {
                        if is_member(check, group, user, &context).await? {
                            found = true;
                            break;
                        }
                    }
                    found
                }
            };
            Ok(JsValue::from_bool(allowed))
        })
    }
}
