//! The one error type every operation returns. Callers branch on `kind`, never on message
//! text; the kind names are the TypeScript `ErrorKind` union, letter for letter.

use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    ObjectNotFound,
    BucketNotFound,
    DefaultBucket,
    Unauthorized,
    Forbidden,
    TooManyRequests,
    PreconditionFailed,
    InvalidArgument,
    Network,
    Timeout,
    Aborted,
    ServerError,
    IntegrityMismatch,
    LocalFile,
    Unsupported,
    Unknown,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 16] = [
        ErrorKind::ObjectNotFound,
        ErrorKind::BucketNotFound,
        ErrorKind::DefaultBucket,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::TooManyRequests,
        ErrorKind::PreconditionFailed,
        ErrorKind::InvalidArgument,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::Aborted,
        ErrorKind::ServerError,
        ErrorKind::IntegrityMismatch,
        ErrorKind::LocalFile,
        ErrorKind::Unsupported,
        ErrorKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ObjectNotFound => "ObjectNotFound",
            ErrorKind::BucketNotFound => "BucketNotFound",
            ErrorKind::DefaultBucket => "DefaultBucket",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::TooManyRequests => "TooManyRequests",
            ErrorKind::PreconditionFailed => "PreconditionFailed",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::Network => "Network",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Aborted => "Aborted",
            ErrorKind::ServerError => "ServerError",
            ErrorKind::IntegrityMismatch => "IntegrityMismatch",
            ErrorKind::LocalFile => "LocalFile",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::Unknown => "Unknown",
        }
    }

    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// A failed operation: what kind of failure, a readable message, and the HTTP status when
/// one caused it. `interop` turns it into the plain `{kind, message, statusCode?}` object JS sees.
///
/// Boxed: every `Result` in the client carries one, and moving a pointer instead of the
/// fields through each async state machine made the wasm 5.8 KiB (gz) smaller. Its fields read
/// as `error.kind` through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", self.kind.as_str(), self.message)]
pub struct StorageError(Box<Failure>);

/// The fields of a `StorageError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub status_code: Option<u16>,
    /// How many tries were made, when there was more than one.
    pub attempts: Option<u32>,
}

impl From<Failure> for StorageError {
    fn from(failure: Failure) -> Self {
        StorageError(Box::new(failure))
    }
}

impl core::ops::Deref for StorageError {
    type Target = Failure;
    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl core::ops::DerefMut for StorageError {
    fn deref_mut(&mut self) -> &mut Failure {
        &mut self.0
    }
}

impl StorageError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure { kind, message: message.into(), status_code: None, attempts: None }.into()
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status_code = Some(status);
        self
    }

    /// Records the number of tries behind this error (kept only when it is above one).
    pub fn after_attempts(mut self, attempts: u32) -> Self {
        self.attempts = (attempts > 1).then_some(attempts);
        self
    }

    /// Removes a secret (a token a server may have echoed back) from the message, as it is
    /// and percent-encoded.
    pub fn redacted(mut self, secret: Option<&str>) -> Self {
        if let Some(secret) = secret.filter(|secret| !secret.is_empty()) {
            let encoded = crate::protocol::object_name::encode_component(secret);
            self.message = redact_all(&self.message, &[secret, &encoded]);
        }
        self
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        StorageError::new(ErrorKind::InvalidArgument, message)
    }

    /// A server answer that is not what the protocol promises (bad JSON, wrong types).
    pub fn malformed_response(what: &str, detail: &str) -> Self {
        StorageError::new(ErrorKind::Unknown, text!("malformed response from ", what, ": ", detail))
    }
}

/// What a secret becomes in a message.
const REDACTED: &str = "[redacted]";

/// `message` with every occurrence of any of `forms` (the earliest first; at one place, the
/// longest) replaced by `[redacted]`, in one pass over the original text: a replacement is
/// never searched again, so a short secret cannot match inside an earlier `[redacted]`.
fn redact_all(message: &str, forms: &[&str]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        let mut earliest: Option<(usize, usize)> = None;
        for form in forms.iter().filter(|form| !form.is_empty()) {
            if let Some(at) = crate::protocol::text::find(rest, form) {
                if earliest.is_none_or(|(first, len)| at < first || (at == first && form.len() > len)) {
                    earliest = Some((at, form.len()));
                }
            }
        }
        let Some((at, len)) = earliest else { break };
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push_str(REDACTED);
        rest = rest.get(at + len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_short_secret_is_redacted_without_garbling_the_marker() {
        // The token "t" also occurs in "[redacted]": replacing form by form garbled it.
        let error = StorageError::new(ErrorKind::ObjectNotFound, "No such object: t").redacted(Some("t"));
        assert_eq!(error.message, "No such objec[redacted]: [redacted]");
        let error = StorageError::new(ErrorKind::Unknown, "e d e").redacted(Some("e"));
        assert_eq!(error.message, "[redacted] d [redacted]");
    }

    #[test]
    fn both_the_secret_and_its_percent_encoding_are_redacted() {
        let error = StorageError::new(ErrorKind::Unknown, "a b and a%20b").redacted(Some("a b"));
        assert_eq!(error.message, "[redacted] and [redacted]");
    }

    #[test]
    fn the_earliest_form_is_redacted_first_and_at_one_place_the_longest() {
        // Redacting "b" first would leave "a" and "c" of the longer form in the message.
        assert_eq!(redact_all("abc abc", &["b", "abc"]), "[redacted] [redacted]");
        for forms in [["abc", "ab"], ["ab", "abc"]] {
            assert_eq!(redact_all("abc", &forms), "[redacted]", "{forms:?}");
        }
    }

    proptest! {
        /// Between the markers, nothing of either form is left.
        #[test]
        fn no_form_survives_between_markers(message in "[abc% ]{0,40}", secret in "[abc ]{1,4}") {
            let encoded = crate::protocol::object_name::encode_component(&secret);
            let out = redact_all(&message, &[&secret, &encoded]);
            for piece in out.split(REDACTED) {
                prop_assert!(!piece.contains(secret.as_str()), "{:?} left in {:?}", secret, out);
                prop_assert!(!piece.contains(encoded.as_str()), "{:?} left in {:?}", encoded, out);
            }
        }
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::parse("NotAKind"), None);
    }

    #[test]
    fn secrets_are_redacted_in_every_form() {
        let error = StorageError::new(ErrorKind::Unauthorized, "bad token ya29.a/b+c= (ya29.a%2Fb%2Bc%3D)")
            .redacted(Some("ya29.a/b+c="));
        assert_eq!(error.message, "bad token [redacted] ([redacted])");
        assert_eq!(StorageError::new(ErrorKind::Unknown, "x").redacted(Some("")).message, "x");
    }

    #[test]
    fn attempts_are_kept_only_when_there_was_more_than_one() {
        let retried = StorageError::new(ErrorKind::ServerError, "busy").with_status(503).after_attempts(4);
        assert_eq!((retried.status_code, retried.attempts), (Some(503), Some(4)));
        assert_eq!(StorageError::invalid_argument("x").after_attempts(1).attempts, None);
        assert_eq!(retried.to_string(), "ServerError: busy");
    }
}
