//! Turns the constructor's options (and, in Node, `STORAGE_EMULATOR_HOST`) into the
//! endpoints and auth mode a client uses. Pure, so every rule here is unit-tested.

use crate::error::StorageError;

pub const DEFAULT_API_ENDPOINT: &str = "https://storage.googleapis.com";
pub const DEFAULT_SIDECAR_ENDPOINT: &str = "http://127.0.0.1:1106";

/// The options as the caller gave them, before defaults.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    pub bucket_id: Option<String>,
    pub api_endpoint: Option<String>,
    pub sidecar_endpoint: Option<String>,
    /// Whether the caller supplies tokens itself (`accessToken`).
    pub has_access_token: bool,
    /// `STORAGE_EMULATOR_HOST`, where the runtime has an environment.
    pub emulator_host: Option<String>,
}

/// Where bearer tokens come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// The Replit sidecar's token exchange.
    Sidecar,
    /// The caller's `accessToken`.
    Caller,
    /// No credentials: an emulator named by `STORAGE_EMULATOR_HOST`.
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub api_endpoint: String,
    pub sidecar_endpoint: String,
    pub bucket_id: Option<String>,
    pub auth: AuthMode,
}

impl ClientConfig {
    pub fn resolve(options: ClientOptions) -> Result<ClientConfig, StorageError> {
        let emulator = options
            .emulator_host
            .filter(|host| !host.trim().is_empty())
            .map(|host| with_default_scheme(host.trim()));
        let (api_endpoint, from_emulator) = match (options.api_endpoint, emulator) {
            (Some(endpoint), _) => (endpoint, false),
            (None, Some(emulator)) => (emulator, true),
            (None, None) => (DEFAULT_API_ENDPOINT.to_string(), false),
        };
        let auth = if options.has_access_token {
            AuthMode::Caller
        } else if from_emulator {
            AuthMode::Anonymous
        } else {
            AuthMode::Sidecar
        };
        let bucket_id = match options.bucket_id {
            Some(bucket) if bucket.is_empty() => {
                return Err(StorageError::invalid_argument("bucketId must not be empty"))
            }
            other => other,
        };
        Ok(ClientConfig {
            api_endpoint: endpoint("apiEndpoint", &api_endpoint)?,
            sidecar_endpoint: endpoint(
                "sidecarEndpoint",
                options.sidecar_endpoint.as_deref().unwrap_or(DEFAULT_SIDECAR_ENDPOINT),
            )?,
            bucket_id,
            auth,
        })
    }
}

/// `STORAGE_EMULATOR_HOST` may be given as `host:port`, as Google's clients accept it.
fn with_default_scheme(host: &str) -> String {
    if host.contains("://") {
        host.to_string()
    } else {
        format!("http://{host}")
    }
}

/// An http(s) base URL without a trailing slash, query or fragment.
fn endpoint(option: &str, value: &str) -> Result<String, StorageError> {
    let trimmed = value.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| StorageError::invalid_argument(format!("{option} must be an http:// or https:// URL, got {value:?}")))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ', '\r', '\n']) {
        return Err(StorageError::invalid_argument(format!(
            "{option} must be a base URL without query or fragment, got {value:?}"
        )));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn resolve(options: ClientOptions) -> ClientConfig {
        ClientConfig::resolve(options).unwrap()
    }

    #[test]
    fn defaults_to_google_and_the_sidecar() {
        let config = resolve(ClientOptions::default());
        assert_eq!(config.api_endpoint, DEFAULT_API_ENDPOINT);
        assert_eq!(config.sidecar_endpoint, DEFAULT_SIDECAR_ENDPOINT);
        assert_eq!(config.auth, AuthMode::Sidecar);
        assert_eq!(config.bucket_id, None);
    }

    #[test]
    fn emulator_host_sets_the_endpoint_and_turns_auth_off() {
        let config = resolve(ClientOptions { emulator_host: Some("127.0.0.1:4443".into()), ..Default::default() });
        assert_eq!(config.api_endpoint, "http://127.0.0.1:4443");
        assert_eq!(config.auth, AuthMode::Anonymous);
        let with_scheme =
            resolve(ClientOptions { emulator_host: Some("http://localhost:9000/".into()), ..Default::default() });
        assert_eq!(with_scheme.api_endpoint, "http://localhost:9000");
    }

    #[test]
    fn an_access_token_keeps_auth_on_against_the_emulator() {
        let config = resolve(ClientOptions {
            emulator_host: Some("http://127.0.0.1:4443".into()),
            has_access_token: true,
            ..Default::default()
        });
        assert_eq!(config.api_endpoint, "http://127.0.0.1:4443");
        assert_eq!(config.auth, AuthMode::Caller);
    }

    #[test]
    fn an_explicit_endpoint_wins_over_the_emulator_and_keeps_sidecar_auth() {
        let config = resolve(ClientOptions {
            api_endpoint: Some("http://127.0.0.1:4480/".into()),
            emulator_host: Some("http://127.0.0.1:4443".into()),
            ..Default::default()
        });
        assert_eq!(config.api_endpoint, "http://127.0.0.1:4480");
        assert_eq!(config.auth, AuthMode::Sidecar);
    }

    #[test]
    fn an_empty_emulator_host_is_ignored() {
        assert_eq!(resolve(ClientOptions { emulator_host: Some(" ".into()), ..Default::default() }).auth, AuthMode::Sidecar);
    }

    #[test]
    fn bad_endpoints_and_empty_bucket_are_invalid_arguments() {
        for bad in ["ftp://x", "storage.googleapis.com", "https://", "http://a b", "https://x?y=1"] {
            let error = ClientConfig::resolve(ClientOptions { api_endpoint: Some(bad.into()), ..Default::default() })
                .unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{bad}");
            assert!(error.message.contains("apiEndpoint"));
        }
        let error = ClientConfig::resolve(ClientOptions { bucket_id: Some(String::new()), ..Default::default() })
            .unwrap_err();
        assert!(error.message.contains("bucketId"));
    }
}
