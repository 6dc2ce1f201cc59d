//! Turns the constructor's options (and, in Node, `STORAGE_EMULATOR_HOST`) into the
//! endpoints and auth mode a client uses. Pure, so every rule here is unit-tested.

use crate::prelude::*;
use crate::protocol::document::{Document, FieldError, Fields, FromDocument};
use crate::protocol::error::StorageError;
use crate::protocol::resumable;
use crate::protocol::retry::{RetryPolicy, RetryStrategy};
use crate::protocol::text;

pub const DEFAULT_API_ENDPOINT: &str = "https://storage.googleapis.com";
pub const DEFAULT_SIDECAR_ENDPOINT: &str = "http://127.0.0.1:1106";

/// The options as the caller gave them, before defaults (`accessToken` itself, which may
/// be a function, is read by the wasm side).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClientOptions {
    pub bucket_id: Option<String>,
    pub api_endpoint: Option<String>,
    pub sidecar_endpoint: Option<String>,
    pub max_retries: Option<u32>,
    pub retry_deadline_ms: Option<f64>,
    pub retry_initial_delay_ms: Option<f64>,
    pub retry_max_delay_ms: Option<f64>,
    pub retry_strategy: Option<String>,
    pub request_timeout_ms: Option<f64>,
    pub upload_chunk_size: Option<u64>,
    pub resumable_threshold: Option<u64>,
    /// Whether the caller supplies tokens itself (`accessToken`).
    pub has_access_token: bool,
    /// `STORAGE_EMULATOR_HOST`, where the runtime has an environment.
    pub emulator_host: Option<String>,
    /// `DEFAULT_OBJECT_STORAGE_BUCKET_ID`, where the runtime has an environment.
    #[cfg(feature = "server")]
    pub default_bucket_id: Option<String>,
    /// `PUBLIC_OBJECT_SEARCH_PATHS`, where the runtime has an environment (read by `findPublic`).
    #[cfg(feature = "server")]
    pub public_search_paths: Option<String>,
}

impl FromDocument for ClientOptions {
    // Field by field on purpose (see the comment above): not a struct literal.
    #[allow(clippy::field_reassign_with_default)]
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        // Filled field by field: a struct literal of fields read with `?` drops every field
        // read so far on each early return, each on its own.
        let mut options = ClientOptions::default();
        options.bucket_id = fields.string("bucketId")?;
        options.api_endpoint = fields.string("apiEndpoint")?;
        options.sidecar_endpoint = fields.string("sidecarEndpoint")?;
        options.max_retries = fields.count("maxRetries")?;
        options.retry_deadline_ms = fields.number("retryDeadlineMs")?;
        options.retry_initial_delay_ms = fields.number("retryInitialDelayMs")?;
        options.retry_max_delay_ms = fields.number("retryMaxDelayMs")?;
        options.retry_strategy = fields.string("retryStrategy")?;
        options.request_timeout_ms = fields.number("requestTimeoutMs")?;
        options.upload_chunk_size = fields.whole("uploadChunkSize")?;
        options.resumable_threshold = fields.whole("resumableThreshold")?;
        Ok(options)
    }
}

/// The environment variables the client reads where the runtime has an environment (Node's,
/// Deno's and Bun's `process.env`); browsers have none, and their build leaves this out.
#[cfg(feature = "server")]
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Environment {
    /// An emulator's address (`STORAGE_EMULATOR_HOST`, as Google's clients take it).
    pub storage_emulator_host: Option<String>,
    /// The Repl's default bucket, when Replit has set it: used before asking the sidecar,
    /// which can answer an empty `bucketId` right after a bucket is created.
    pub default_object_storage_bucket_id: Option<String>,
    /// `/bucket/prefix` where the app keeps private objects (see `object_paths`).
    pub private_object_dir: Option<String>,
    /// `/bucket/prefix` paths (comma-separated) where public objects are looked for.
    pub public_object_search_paths: Option<String>,
}

#[cfg(feature = "server")]
impl FromDocument for Environment {
    fn read<D: Document>(fields: &Fields<'_, D>) -> Result<Self, FieldError> {
        Ok(Environment {
            storage_emulator_host: fields.string("STORAGE_EMULATOR_HOST")?,
            default_object_storage_bucket_id: fields.string("DEFAULT_OBJECT_STORAGE_BUCKET_ID")?,
            private_object_dir: fields.string("PRIVATE_OBJECT_DIR")?,
            public_object_search_paths: fields.string("PUBLIC_OBJECT_SEARCH_PATHS")?,
        })
    }
}

#[cfg(feature = "server")]
impl Environment {
    /// The options as a client made here sees them: the caller's, plus what the environment says.
    pub fn apply_to(self, options: &mut ClientOptions) {
        options.emulator_host = self.storage_emulator_host;
        options.default_bucket_id = self.default_object_storage_bucket_id;
        options.public_search_paths = self.public_object_search_paths;
    }
}

/// A request waits at most this long for its answer, or between chunks of a body.
pub const DEFAULT_REQUEST_TIMEOUT_MS: f64 = 60_000.0;
/// Resumable uploads of streams (and files, which stream) send chunks of this size. Each is
/// held until the server has it, so the size bounds memory: for 1 GiB uploads, 16 MiB chunks
/// measured +78 to +94 MiB of peak RSS, 8 MiB +56 to +62 MiB, 4 MiB ~+53 to +60 MiB (the
/// budget is 64 MiB).
pub const DEFAULT_STREAM_CHUNK_SIZE: u64 = 4 * 1024 * 1024;
/// A stream sent as one request keeps its newest bytes sent, this many at least, to send again
/// when a try fails and the session holds less than was sent (bytes in flight are lost; GCS
/// keeps what arrived). A session holding less than this covers cannot be resumed.
pub const STREAM_REPLAY_BYTES: u64 = 8 * 1024 * 1024;
/// Bytes and Blobs are already in memory (and go to fetch without a copy), so their chunks
/// cost no memory: larger ones mean fewer round trips.
pub const DEFAULT_BUFFERED_CHUNK_SIZE: u64 = 16 * 1024 * 1024;
/// Bodies of known size up to this go up in one request; larger ones resumably.
pub const DEFAULT_RESUMABLE_THRESHOLD: u64 = 8 * 1024 * 1024;

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

#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub api_endpoint: String,
    pub sidecar_endpoint: String,
    pub bucket_id: Option<String>,
    pub auth: AuthMode,
    pub retry: RetryPolicy,
    pub request_timeout_ms: f64,
    /// `uploadChunkSize`, when given; else a default by kind of source.
    pub chunk_size: Option<u64>,
    pub resumable_threshold: u64,
    /// `PUBLIC_OBJECT_SEARCH_PATHS` as the environment gave it, parsed when `findPublic` needs it.
    #[cfg(feature = "server")]
    pub public_search_paths: Option<String>,
}

/// A duration option: a finite, non-negative number of milliseconds.
fn milliseconds(option: &str, value: Option<f64>, default: f64) -> Result<f64, StorageError> {
    match value {
        None => Ok(default),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(ms),
        Some(_) => {
            Err(StorageError::invalid_argument(text!(option, " must be a finite, non-negative number of milliseconds")))
        }
    }
}

impl ClientConfig {
    pub fn resolve(options: ClientOptions) -> Result<ClientConfig, StorageError> {
        // Every check first, on borrowed options, in the order the errors are reported; the
        // fields are moved out only at the end (an early return after a partial move drops
        // each remaining field on its own, which weighed ~0.3 KiB of wasm).
        if options.bucket_id.as_deref() == Some("") {
            return Err(StorageError::invalid_argument("bucketId must not be empty"));
        }
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_retries: options.max_retries.unwrap_or(defaults.max_retries),
            deadline_ms: milliseconds("retryDeadlineMs", options.retry_deadline_ms, defaults.deadline_ms)?,
            initial_delay_ms: milliseconds(
                "retryInitialDelayMs",
                options.retry_initial_delay_ms,
                defaults.initial_delay_ms,
            )?,
            max_delay_ms: milliseconds("retryMaxDelayMs", options.retry_max_delay_ms, defaults.max_delay_ms)?,
            multiplier: defaults.multiplier,
            strategy: match options.retry_strategy.as_deref() {
                None => defaults.strategy,
                Some(name) => RetryStrategy::parse(name).ok_or_else(|| {
                    StorageError::invalid_argument("retryStrategy must be \"conditional\", \"always\" or \"never\"")
                })?,
            },
        };
        let request_timeout_ms =
            milliseconds("requestTimeoutMs", options.request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS)?;
        let emulator = options
            .emulator_host
            .as_deref()
            .map(str::trim_ascii)
            .filter(|host| !host.is_empty())
            .map(with_default_scheme);
        let from_emulator = options.api_endpoint.is_none() && emulator.is_some();
        let api_endpoint = endpoint(
            "apiEndpoint",
            options.api_endpoint.as_deref().or(emulator.as_deref()).unwrap_or(DEFAULT_API_ENDPOINT),
        )?;
        let sidecar_endpoint =
            endpoint("sidecarEndpoint", options.sidecar_endpoint.as_deref().unwrap_or(DEFAULT_SIDECAR_ENDPOINT))?;
        let auth = if options.has_access_token {
            AuthMode::Caller
        } else if from_emulator {
            AuthMode::Anonymous
        } else {
            AuthMode::Sidecar
        };
        let bucket_id = match options.bucket_id {
            #[cfg(feature = "server")]
            None => options
                .default_bucket_id
                .map(|bucket| bucket.trim_ascii().to_string())
                .filter(|bucket| !bucket.is_empty()),
            given => given,
        };
        Ok(ClientConfig {
            retry,
            request_timeout_ms,
            chunk_size: options.upload_chunk_size.map(resumable::normalise_chunk_size),
            resumable_threshold: options.resumable_threshold.unwrap_or(DEFAULT_RESUMABLE_THRESHOLD),
            api_endpoint,
            sidecar_endpoint,
            bucket_id,
            auth,
            #[cfg(feature = "server")]
            public_search_paths: options.public_search_paths,
        })
    }
}

/// `STORAGE_EMULATOR_HOST` may be given as `host:port`, as Google's clients accept it.
fn with_default_scheme(host: &str) -> String {
    if text::contains(host, "://") {
        host.to_string()
    } else {
        text!("http://", host)
    }
}

/// An http(s) base URL without a trailing slash, query or fragment.
fn endpoint(option: &str, value: &str) -> Result<String, StorageError> {
    // fetch refuses a URL with credentials, and its error quotes the URL: on a server, where
    // messages reach logs, the password would leak. (A browser page ships its endpoint in its
    // own code, and its build's size budget has no room for this check.)
    #[cfg(feature = "server")]
    {
        let bytes = value.as_bytes();
        let authority = text::find(value, "://").map_or(bytes, |at| &bytes[at + 3..]);
        if authority.iter().take_while(|byte| !b"/?#".contains(byte)).any(|&byte| byte == b'@') {
            return Err(StorageError::invalid_argument(text!(
                option,
                " must not hold credentials (user:password@): fetch refuses them, and they would show in messages"
            )));
        }
    }
    let mut trimmed = value.trim_ascii();
    while let Some(shorter) = trimmed.strip_suffix("/") {
        trimmed = shorter;
    }
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://")).ok_or_else(|| {
        StorageError::invalid_argument(text!(option, " must be an http:// or https:// URL, got \"", value, "\""))
    })?;
    if rest.is_empty() || text::contains_any(rest, b"?# \r\n") {
        return Err(StorageError::invalid_argument(text!(
            option,
            " must be a base URL without query or fragment, got \"",
            value,
            "\""
        )));
    }
    Ok(trimmed.to_string())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::document::from_json;
    use crate::protocol::error::ErrorKind;

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
    fn upload_sizes_default_to_what_the_readme_promises_and_gcs_accepts() {
        const MIB: u64 = 1024 * 1024;
        let defaults =
            [DEFAULT_STREAM_CHUNK_SIZE, DEFAULT_BUFFERED_CHUNK_SIZE, DEFAULT_RESUMABLE_THRESHOLD, STREAM_REPLAY_BYTES];
        assert_eq!(defaults, [4 * MIB, 16 * MIB, 8 * MIB, 8 * MIB]);
        // GCS takes resumable chunks only in positive multiples of 256 KiB.
        for chunk_size in [DEFAULT_STREAM_CHUNK_SIZE, DEFAULT_BUFFERED_CHUNK_SIZE] {
            assert_eq!(resumable::normalise_chunk_size(chunk_size), chunk_size);
        }
    }

    #[test]
    fn tuning_options_have_google_like_defaults_and_are_checked() {
        let config = resolve(ClientOptions::default());
        assert_eq!(config.retry, RetryPolicy::default());
        assert_eq!(config.request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS);
        let tuned: ClientOptions = from_json(
            r#"{"maxRetries":0,"retryDeadlineMs":5000,"requestTimeoutMs":250,"uploadChunkSize":300000,"resumableThreshold":0}"#,
        )
        .unwrap();
        let config = resolve(tuned);
        assert_eq!(config.retry.max_retries, 0);
        assert_eq!(config.retry.deadline_ms, 5000.0);
        assert_eq!(config.request_timeout_ms, 250.0);
        assert_eq!(config.chunk_size, Some(262_144), "rounded down to a multiple of 256 KiB");
        assert_eq!(config.resumable_threshold, 0);
        let never: ClientOptions = from_json(r#"{"retryStrategy":"never"}"#).unwrap();
        assert_eq!(resolve(never).retry.strategy, RetryStrategy::Never);
        assert_eq!(config.retry.strategy, RetryStrategy::Conditional, "the default");
        let unknown: ClientOptions = from_json(r#"{"retryStrategy":"sometimes"}"#).unwrap();
        let error = ClientConfig::resolve(unknown).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert_eq!(error.message, "retryStrategy must be \"conditional\", \"always\" or \"never\"");
        assert_eq!(
            from_json::<ClientOptions>(r#"{"retryStrategy":2}"#).unwrap_err(),
            "`retryStrategy` must be a string"
        );
        let negative: ClientOptions = from_json(r#"{"requestTimeoutMs":-1}"#).unwrap();
        assert!(ClientConfig::resolve(negative).unwrap_err().message.contains("requestTimeoutMs"));
    }

    #[test]
    fn zero_milliseconds_is_a_valid_setting() {
        // 0 is the boundary: no delay, no deadline, no stall timer; only negatives are refused.
        let zeros: ClientOptions =
            from_json(r#"{"retryDeadlineMs":0,"retryInitialDelayMs":0,"retryMaxDelayMs":0,"requestTimeoutMs":0}"#)
                .unwrap();
        let config = resolve(zeros);
        assert_eq!(config.retry.deadline_ms, 0.0);
        assert_eq!(config.retry.initial_delay_ms, 0.0);
        assert_eq!(config.retry.max_delay_ms, 0.0);
        assert_eq!(config.request_timeout_ms, 0.0);
        for key in ["retryDeadlineMs", "retryInitialDelayMs", "retryMaxDelayMs", "requestTimeoutMs"] {
            let below: ClientOptions = from_json(&text!("{\"", key, "\":-0.001}")).unwrap();
            assert!(ClientConfig::resolve(below).unwrap_err().message.contains(key), "{key}");
        }
    }

    #[cfg(feature = "server")]
    #[test]
    fn the_environments_default_bucket_is_used_unless_a_bucket_is_given() {
        let from_env = |value: &str| ClientOptions { default_bucket_id: Some(value.into()), ..Default::default() };
        assert_eq!(resolve(from_env("replit-objstore-1")).bucket_id.as_deref(), Some("replit-objstore-1"));
        assert_eq!(resolve(from_env(" replit-objstore-1\n")).bucket_id.as_deref(), Some("replit-objstore-1"));
        assert_eq!(resolve(from_env("")).bucket_id, None, "empty: ask the sidecar");
        assert_eq!(resolve(from_env("  ")).bucket_id, None, "blank: ask the sidecar");
        let given = ClientOptions { bucket_id: Some("mine".into()), ..from_env("replit-objstore-1") };
        assert_eq!(resolve(given).bucket_id.as_deref(), Some("mine"), "the bucketId option wins");
    }

    #[cfg(feature = "server")]
    #[test]
    fn the_environment_is_read_by_its_variable_names() {
        let environment: Environment = from_json(
            r#"{"STORAGE_EMULATOR_HOST":"127.0.0.1:4443","DEFAULT_OBJECT_STORAGE_BUCKET_ID":"replit-objstore-1","PATH":"/bin"}"#,
        )
        .unwrap();
        let mut options = ClientOptions::default();
        environment.apply_to(&mut options);
        let config = resolve(options);
        assert_eq!(config.api_endpoint, "http://127.0.0.1:4443");
        assert_eq!(config.bucket_id.as_deref(), Some("replit-objstore-1"));
        assert!(from_json::<Environment>(r#"{"DEFAULT_OBJECT_STORAGE_BUCKET_ID":3}"#)
            .unwrap_err()
            .contains("DEFAULT_OBJECT_STORAGE_BUCKET_ID"));
    }

    #[test]
    fn an_empty_emulator_host_is_ignored() {
        assert_eq!(
            resolve(ClientOptions { emulator_host: Some(" ".into()), ..Default::default() }).auth,
            AuthMode::Sidecar
        );
    }

    #[test]
    fn bad_endpoints_and_empty_bucket_are_invalid_arguments() {
        for bad in ["ftp://x", "storage.googleapis.com", "https://", "http://a b", "https://x?y=1"] {
            let error = ClientConfig::resolve(ClientOptions { api_endpoint: Some(bad.into()), ..Default::default() })
                .unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument, "{bad}");
            assert!(error.message.contains("apiEndpoint"));
        }
        let error =
            ClientConfig::resolve(ClientOptions { bucket_id: Some(String::new()), ..Default::default() }).unwrap_err();
        assert!(error.message.contains("bucketId"));
    }

    #[cfg(feature = "server")]
    #[test]
    fn endpoints_with_credentials_are_refused_without_quoting_them() {
        for bad in ["http://user:s3cret@host", "https://s3cret@host/path", "ftp://user:s3cret@host", "user:s3cret@host"]
        {
            for options in [
                ClientOptions { api_endpoint: Some(bad.into()), ..Default::default() },
                ClientOptions { sidecar_endpoint: Some(bad.into()), ..Default::default() },
            ] {
                let error = ClientConfig::resolve(options).unwrap_err();
                assert_eq!(error.kind, ErrorKind::InvalidArgument, "{bad}");
                assert!(error.message.contains("credentials"), "{bad}: {}", error.message);
                assert!(!error.message.contains("s3cret"), "{bad}: {}", error.message);
            }
        }
        // An `@` after the host is a path's, not credentials.
        let config = ClientConfig::resolve(ClientOptions {
            api_endpoint: Some("http://127.0.0.1:4443/at@path".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.api_endpoint, "http://127.0.0.1:4443/at@path");
    }
}
