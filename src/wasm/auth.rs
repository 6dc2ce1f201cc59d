//! Bearer tokens for GCS requests: none (emulator), the caller's (`accessToken`), or the
//! Replit sidecar's token exchange, cached and refreshed 5 minutes before expiry with one
//! refresh in flight however many calls wait. The exchange is server-only: the browser build
//! has no sidecar to ask, so it takes only the caller's tokens.

#[cfg(feature = "server")]
use alloc::rc::Rc;
#[cfg(feature = "server")]
use core::cell::RefCell;

#[cfg(feature = "server")]
use js_sys::Date;
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;

use crate::prelude::*;
#[cfg(feature = "server")]
use crate::protocol::document::FromDocument;
use crate::protocol::error::{ErrorKind, StorageError};
#[cfg(feature = "server")]
use crate::protocol::gcs_responses::ErrorEnvelope;
#[cfg(feature = "server")]
use crate::protocol::http::HttpRequest;
#[cfg(feature = "server")]
use crate::protocol::sidecar::{self, AccessToken, SubjectTokenBody, TokenBody};
use crate::wasm::call_context::CallContext;
use crate::wasm::interop;
#[cfg(feature = "server")]
use crate::wasm::sidecar_requests::ask_sidecar;
#[cfg(feature = "server")]
use crate::wasm::single_flight::SingleFlight;

pub enum Credentials {
    Anonymous,
    Fixed(String),
    Provider(Function),
    #[cfg(feature = "server")]
    Sidecar(SidecarTokens),
}

#[cfg(feature = "server")]
pub struct SidecarTokens {
    endpoint: String,
    timeout_ms: f64,
    cached: Rc<RefCell<Option<AccessToken>>>,
    refresh: SingleFlight,
}

#[cfg(feature = "server")]
impl SidecarTokens {
    pub fn new(endpoint: String, timeout_ms: f64) -> Self {
        SidecarTokens { endpoint, timeout_ms, cached: Rc::default(), refresh: SingleFlight::default() }
    }

    /// A fresh token; `refused` is one the server just turned down, never handed out again.
    async fn token(&self, refused: Option<&str>, context: &CallContext) -> Result<String, StorageError> {
        if let Some(cached) = self.cached.borrow().as_ref() {
            if cached.is_fresh(Date::now()) && refused != Some(cached.token.as_str()) {
                return Ok(cached.token.clone());
            }
        }
        let endpoint = self.endpoint.clone();
        let timeout_ms = self.timeout_ms;
        let cache = self.cached.clone();
        let token = self
            .refresh
            .join(context, move || async move {
                let token = exchange(&endpoint, timeout_ms).await?;
                let value = JsValue::from_str(&token.token);
                *cache.borrow_mut() = Some(token);
                Ok(value)
            })
            .await?;
        token.as_string().ok_or_else(|| StorageError::new(ErrorKind::Unknown, "token refresh returned no token"))
    }
}

/// The external-account flow: a subject token from `/credential`, exchanged at `/token`. A
/// sidecar that does not answer is named, with what to set off Replit.
#[cfg(feature = "server")]
async fn exchange(endpoint: &str, timeout_ms: f64) -> Result<AccessToken, StorageError> {
    exchange_steps(endpoint, timeout_ms).await.map_err(|error| sidecar::token_unreachable(endpoint, error))
}

#[cfg(feature = "server")]
async fn exchange_steps(endpoint: &str, timeout_ms: f64) -> Result<AccessToken, StorageError> {
    let subject: SubjectTokenBody =
        ask(&sidecar::credential_request(endpoint), timeout_ms, "credential request").await?;
    let subject_token = sidecar::parse_subject_token(&subject)?;
    let request = sidecar::token_exchange_request(endpoint, &subject_token);
    let body: TokenBody =
        ask(&request, timeout_ms, "token exchange").await.map_err(|error| error.redacted(Some(&subject_token)))?;
    sidecar::parse_token(&body, Date::now())
}

/// One step of the exchange: its JSON answer, or the refusal as an `Unauthorized` error.
#[cfg(feature = "server")]
async fn ask<T: FromDocument>(request: &HttpRequest, timeout_ms: f64, step: &str) -> Result<T, StorageError> {
    let refused = |status, body: Option<&ErrorEnvelope>| sidecar::credential_failure(step, status, body);
    interop::decode_response(&ask_sidecar(request, timeout_ms, &refused).await?, "the Replit sidecar")
}

impl Credentials {
    /// The bearer token for the next request, or none for anonymous access. `refused` is
    /// the token a 401 just came back for.
    pub async fn bearer(&self, refused: Option<&str>, context: &CallContext) -> Result<Option<String>, StorageError> {
        #[cfg(not(feature = "server"))]
        let _ = refused;
        match self {
            Credentials::Anonymous => Ok(None),
            Credentials::Fixed(token) => Ok(Some(token.clone())),
            Credentials::Provider(provider) => call_provider(provider, context).await.map(Some),
            #[cfg(feature = "server")]
            Credentials::Sidecar(tokens) => tokens.token(refused, context).await.map(Some),
        }
    }

    /// Whether asking again after a 401 can give a different token.
    pub fn can_refresh(&self) -> bool {
        match self {
            Credentials::Anonymous | Credentials::Fixed(_) => false,
            Credentials::Provider(_) => true,
            #[cfg(feature = "server")]
            Credentials::Sidecar(_) => true,
        }
    }
}

async fn call_provider(provider: &Function, context: &CallContext) -> Result<String, StorageError> {
    let failed = |error: &JsValue| {
        StorageError::new(
            ErrorKind::Unauthorized,
            text!("the accessToken function failed: ", interop::thrown_message(error)),
        )
    };
    let returned = provider.call0(&JsValue::UNDEFINED).map_err(|error| failed(&error))?;
    let settled = context.unless_aborted(Promise::resolve(&returned)).await?.map_err(|error| failed(&error))?;
    match settled.as_string() {
        Some(token) if !token.is_empty() => Ok(token),
        _ => Err(StorageError::invalid_argument(
            "the accessToken function must return a non-empty string (or a promise of one)",
        )),
    }
}
