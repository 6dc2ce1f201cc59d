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
    /// Whether another try may go otherwise: marked where the failure is made (no usable
    /// answer; a status Google's clients retry), read by the retry policy. Not shown to JS.
    pub transient: bool,
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
    /// A failure without an HTTP status: transient when no usable answer came (`Network`,
    /// `Timeout`).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let transient = matches!(kind, ErrorKind::Network | ErrorKind::Timeout);
        Failure { kind, message: message.into(), status_code: None, attempts: None, transient }.into()
    }

    /// The failure as an answer of HTTP `status` caused it: transient when the status is one
    /// worth another try (`retry::is_retryable_status`), whatever the kind.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status_code = Some(status);
        self.transient = crate::protocol::retry::is_retryable_status(status);
        self
    }

    /// Records the number of tries behind this error (kept only when it is above one).
    pub fn after_attempts(mut self, attempts: u32) -> Self {
        self.attempts = (attempts > 1).then_some(attempts);
        self
    }

    /// Removes a secret (a token a server may have echoed back) from the message, as it is
    /// and percent-encoded. One under `MIN_SECRET` characters is left alone: no real token is
    /// that short, and replacing one (a test's `"t"`) would shred every word it occurs in.
    pub fn redacted(mut self, secret: Option<&str>) -> Self {
        if let Some(secret) = secret.filter(|secret| secret.len() >= MIN_SECRET) {
            let encoded = crate::protocol::object_name::encode_component(secret);
            self.message = redact_all(&self.message, &[secret, &encoded]);
        }
        self
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        StorageError::new(ErrorKind::InvalidArgument, message)
    }

    /// The caller's signal fired.
    pub fn aborted() -> Self {
        StorageError::new(ErrorKind::Aborted, ABORTED)
    }

    /// An abort as the caller is told of it, given the signal's reason (its `name` and
    /// `message`): a `TimeoutError` (`AbortSignal.timeout`) timed the call out; any other
    /// reason than the default `AbortError` is named. Other errors are returned as they are.
    pub fn aborted_because(self, name: Option<&str>, message: Option<&str>) -> Self {
        if self.kind != ErrorKind::Aborted {
            return self;
        }
        let said = message.filter(|message| !message.is_empty());
        match (name, said) {
            // The caller's own deadline, which another try would not meet: not transient.
            (Some("TimeoutError"), _) => Failure {
                kind: ErrorKind::Timeout,
                message: text!("the call's signal timed out: ", said.unwrap_or("TimeoutError")),
                status_code: None,
                attempts: None,
                transient: false,
            }
            .into(),
            (Some("AbortError"), _) | (_, None) => self,
            (_, Some(said)) => StorageError::new(ErrorKind::Aborted, text!(ABORTED, ": ", said)),
        }
    }

    /// Names the operation a failure to get an answer (`Network`, `Timeout`) happened in:
    /// the only kinds whose message does not already say what was being done.
    pub fn during(mut self, operation: &str) -> Self {
        if matches!(self.kind, ErrorKind::Network | ErrorKind::Timeout) && !operation.is_empty() {
            self.message = text!(operation, ": ", self.message);
        }
        self
    }

    /// A server answer that is not what the protocol promises (bad JSON, wrong types).
    pub fn malformed_response(what: &str, detail: &str) -> Self {
        StorageError::new(ErrorKind::Unknown, text!("malformed response from ", what, ": ", detail))
    }
}

/// Secrets shorter than this are not scrubbed from messages (see `StorageError::redacted`).
const MIN_SECRET: usize = 8;

const ABORTED: &str = "the operation was aborted by its signal";

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
    fn each_occurrence_is_replaced_once_without_garbling_the_marker() {
        // "redacted" itself holds the token: replacing form by form would search the markers again.
        let secret = "redacted";
        let error = StorageError::new(ErrorKind::Unknown, "redacted and redacted!").redacted(Some(secret));
        assert_eq!(error.message, "[redacted] and [redacted]!");
    }

    #[test]
    fn secrets_under_eight_characters_are_left_alone() {
        let error = StorageError::new(ErrorKind::ObjectNotFound, "No such object: t").redacted(Some("t"));
        assert_eq!(error.message, "No such object: t");
        let seven = StorageError::new(ErrorKind::Unknown, "token 1234567").redacted(Some("1234567"));
        assert_eq!(seven.message, "token 1234567");
        let eight = StorageError::new(ErrorKind::Unknown, "token 12345678").redacted(Some("12345678"));
        assert_eq!(eight.message, "token [redacted]");
    }

    #[test]
    fn both_the_secret_and_its_percent_encoding_are_redacted() {
        let error =
            StorageError::new(ErrorKind::Unknown, "a b c d e and a%20b%20c%20d%20e").redacted(Some("a b c d e"));
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
        fn no_form_survives_between_markers(message in "[abc% ]{0,60}", secret in "[abc ]{8,10}") {
            let encoded = crate::protocol::object_name::encode_component(&secret);
            let out = redact_all(&message, &[&secret, &encoded]);
            for piece in out.split(REDACTED) {
                prop_assert!(!piece.contains(secret.as_str()), "{:?} left in {:?}", secret, out);
                prop_assert!(!piece.contains(encoded.as_str()), "{:?} left in {:?}", encoded, out);
            }
        }
    }

    #[test]
    fn an_abort_says_why_and_a_timeout_reason_is_a_timeout() {
        let aborted = StorageError::aborted;
        assert_eq!(aborted().aborted_because(Some("AbortError"), Some("This operation was aborted")), aborted());
        assert_eq!(aborted().aborted_because(None, None), aborted());
        let user = aborted().aborted_because(Some("Error"), Some("user cancelled"));
        assert_eq!(
            (user.kind, user.message.as_str()),
            (ErrorKind::Aborted, "the operation was aborted by its signal: user cancelled")
        );
        let timeout = aborted().aborted_because(Some("TimeoutError"), Some("The operation timed out."));
        assert_eq!(
            (timeout.kind, timeout.message.as_str()),
            (ErrorKind::Timeout, "the call's signal timed out: The operation timed out.")
        );
        let bare_timeout = aborted().aborted_because(Some("TimeoutError"), Some(""));
        assert_eq!(bare_timeout.message, "the call's signal timed out: TimeoutError");
        let network = StorageError::new(ErrorKind::Network, "x");
        assert_eq!(network.clone().aborted_because(Some("TimeoutError"), None), network, "only aborts change");
    }

    #[test]
    fn transience_is_marked_where_a_failure_is_made() {
        for kind in ErrorKind::ALL {
            let expected = matches!(kind, ErrorKind::Network | ErrorKind::Timeout);
            assert_eq!(StorageError::new(kind, "x").transient, expected, "{kind:?} without an answer");
        }
        // An answer's status decides, whatever kind it was mapped to.
        assert!(StorageError::new(ErrorKind::ServerError, "x").with_status(503).transient);
        assert!(StorageError::new(ErrorKind::Unknown, "x").with_status(408).transient);
        assert!(!StorageError::new(ErrorKind::ServerError, "x").with_status(501).transient);
        assert!(!StorageError::new(ErrorKind::Network, "x").with_status(400).transient);
        // The caller's own deadline passed: another try would not meet it.
        let deadline = StorageError::aborted().aborted_because(Some("TimeoutError"), None);
        assert_eq!((deadline.kind, deadline.transient), (ErrorKind::Timeout, false));
    }

    #[test]
    fn only_failures_to_get_an_answer_are_told_their_operation() {
        let network = StorageError::new(ErrorKind::Network, "GET http://h failed: refused").during("exists");
        assert_eq!(network.message, "exists: GET http://h failed: refused");
        assert_eq!(StorageError::new(ErrorKind::Timeout, "no answer").during("copy").message, "copy: no answer");
        for kind in ErrorKind::ALL.into_iter().filter(|kind| !matches!(kind, ErrorKind::Network | ErrorKind::Timeout)) {
            assert_eq!(StorageError::new(kind, "m").during("copy").message, "m", "{kind:?}");
        }
        assert_eq!(StorageError::new(ErrorKind::Network, "m").during("").message, "m");
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
