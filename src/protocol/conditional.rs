//! Conditional requests for served objects (RFC 9110 §13): `If-Match`, `If-Unmodified-Since`,
//! `If-None-Match`, `If-Modified-Since` and `If-Range`, evaluated in the RFC's order against the
//! object's ETag and Last-Modified. Where the npm `send` and `fresh` packages depart from the
//! RFC, the RFC wins: `If-Match` and `If-Range` compare ETags strongly, an `If-Range` date never
//! lets a range apply (see `range_applies`), and a request's `Cache-Control: no-cache` does not
//! rule out a 304 (`fresh` answers such requests in full, but §13.1.2 says an origin MUST answer
//! 304, and fetch adds `no-cache` to every request an app sets a validator on).

use crate::prelude::*;
use crate::protocol::http_date;

/// The validators a request sent (header values as received).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub if_unmodified_since: Option<String>,
    pub if_range: Option<String>,
}

/// What the object's validators are: its ETag (quoted, strong) and Last-Modified (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<u64>,
}

/// The outcome of the preconditions, before any `Range` is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Serve the object (or the range asked for).
    Proceed,
    /// 304: the cache's copy is current.
    NotModified,
    /// 412: a precondition the request set does not hold.
    Failed,
}

/// One entity tag of a list: `W/` or not, and its opaque part with its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

impl<'a> EntityTag<'a> {
    /// A whole header value that is one entity tag (`If-Range`, our own ETag).
    fn single(value: &'a str) -> Option<Self> {
        match tags(value)?.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    fn strong_eq(self, other: EntityTag<'_>) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    fn weak_eq(self, other: EntityTag<'_>) -> bool {
        self.opaque == other.opaque
    }
}

/// The entity tags of a `#entity-tag` list, or `None` when it is malformed.
fn tags(list: &str) -> Option<Vec<EntityTag<'_>>> {
    let mut found = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(found);
        }
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let after_quote = rest.strip_prefix('"')?;
        let close = after_quote.bytes().position(|byte| byte == b'"')?;
        let opaque = &rest[..close + 2];
        found.push(EntityTag { weak, opaque });
        rest = &rest[close + 2..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t', ','])) {
            return None;
        }
    }
}

fn is_star(value: &str) -> bool {
    value.trim_ascii() == "*"
}

/// `If-Match`: true when the object's strong ETag is listed (or `*`, as the object exists).
fn if_match_holds(header: &str, etag: Option<EntityTag<'_>>) -> bool {
    if is_star(header) {
        return true;
    }
    let (Some(listed), Some(etag)) = (tags(header), etag) else { return false };
    listed.iter().any(|tag| tag.strong_eq(etag))
}

/// `If-None-Match`: true when the object's ETag is listed, weakly compared (or `*`).
fn none_match_matches(header: &str, etag: Option<EntityTag<'_>>) -> bool {
    if is_star(header) {
        return true;
    }
    let (Some(listed), Some(etag)) = (tags(header), etag) else { return false };
    listed.iter().any(|tag| tag.weak_eq(etag))
}

/// The preconditions of a GET or HEAD, in RFC 9110 §13.2.2's order. A date that does not
/// parse makes its header ignored, as the RFC says.
pub fn evaluate(request: &Validators, current: Current<'_>) -> Outcome {
    let etag = current.etag.and_then(EntityTag::single);
    if let Some(header) = &request.if_match {
        if !if_match_holds(header, etag) {
            return Outcome::Failed;
        }
    } else if let Some(since) = request.if_unmodified_since.as_deref().and_then(http_date::parse) {
        if current.last_modified.is_none_or(|modified| modified > since) {
            return Outcome::Failed;
        }
    }
    let fresh = if let Some(header) = &request.if_none_match {
        none_match_matches(header, etag)
    } else if let Some(since) = request.if_modified_since.as_deref().and_then(http_date::parse) {
        current.last_modified.is_some_and(|modified| modified <= since)
    } else {
        false
    };
    if fresh {
        Outcome::NotModified
    } else {
        Outcome::Proceed
    }
}

/// Whether a `Range` applies under `If-Range` (RFC 9110 §13.1.5): always without one; with an
/// entity tag, when it strongly matches the object's. Never with a date: a date is a strong
/// validator only where the server knows the object did not change twice within that second
/// (§8.8.2.2), and nothing tells (two uploads within a second share a Last-Modified, and the
/// range of one spliced onto the other's bytes is what If-Range exists to prevent), so the
/// condition is false. Anything else (a weak tag, garbage) means "send the whole" too.
pub fn range_applies(request: &Validators, current: Current<'_>) -> bool {
    let Some(header) = request.if_range.as_deref() else { return true };
    match (EntityTag::single(header.trim_ascii()), current.etag.and_then(EntityTag::single)) {
        (Some(given), Some(etag)) => given.strong_eq(etag),
        _ => false,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const ETAG: &str = "\"1700000000000001-2\"";
    /// Sun, 06 Nov 1994 08:49:37 GMT
    const MODIFIED: u64 = 784_111_777;
    const CURRENT: Current<'static> = Current { etag: Some(ETAG), last_modified: Some(MODIFIED) };

    fn with(set: impl FnOnce(&mut Validators)) -> Validators {
        let mut request = Validators::default();
        set(&mut request);
        request
    }

    fn outcome(set: impl FnOnce(&mut Validators)) -> Outcome {
        evaluate(&with(set), CURRENT)
    }

    fn some(value: &str) -> Option<String> {
        Some(value.to_string())
    }

    #[test]
    fn no_validators_proceed() {
        assert_eq!(outcome(|_| {}), Outcome::Proceed);
    }

    #[test]
    fn if_none_match_gives_304_when_listed_weakly_or_star() {
        for header in
            [ETAG, "\"x\", \"1700000000000001-2\"", "W/\"1700000000000001-2\"", "*", "\"a\",W/\"1700000000000001-2\""]
        {
            assert_eq!(outcome(|r| r.if_none_match = some(header)), Outcome::NotModified, "{header}");
        }
        for header in ["\"1700000000000001-1\"", "\"x\"", "1700000000000001-2", "", "\"unterminated"] {
            assert_eq!(outcome(|r| r.if_none_match = some(header)), Outcome::Proceed, "{header}");
        }
    }

    #[test]
    fn if_modified_since_gives_304_unless_modified_after() {
        let at = |secs: u64| outcome(|r| r.if_modified_since = Some(http_date::format(secs)));
        assert_eq!(at(MODIFIED), Outcome::NotModified);
        assert_eq!(at(MODIFIED + 1), Outcome::NotModified);
        assert_eq!(at(MODIFIED - 1), Outcome::Proceed);
        assert_eq!(outcome(|r| r.if_modified_since = some("not a date")), Outcome::Proceed);
    }

    #[test]
    fn if_none_match_outranks_if_modified_since() {
        let request = |r: &mut Validators| {
            r.if_none_match = some("\"other\"");
            r.if_modified_since = Some(http_date::format(MODIFIED));
        };
        assert_eq!(outcome(request), Outcome::Proceed);
    }

    #[test]
    fn if_match_fails_unless_strongly_listed() {
        for header in [ETAG, "*", "\"a\", \"1700000000000001-2\""] {
            assert_eq!(outcome(|r| r.if_match = some(header)), Outcome::Proceed, "{header}");
        }
        for header in ["\"a\"", "W/\"1700000000000001-2\"", "garbage", ""] {
            assert_eq!(outcome(|r| r.if_match = some(header)), Outcome::Failed, "{header}");
        }
        assert_eq!(
            evaluate(&with(|r| r.if_match = some(ETAG)), Current { etag: None, last_modified: None }),
            Outcome::Failed
        );
    }

    #[test]
    fn if_unmodified_since_fails_when_modified_after() {
        let at = |secs: u64| outcome(|r| r.if_unmodified_since = Some(http_date::format(secs)));
        assert_eq!(at(MODIFIED), Outcome::Proceed);
        assert_eq!(at(MODIFIED + 1), Outcome::Proceed);
        assert_eq!(at(MODIFIED - 1), Outcome::Failed);
        assert_eq!(outcome(|r| r.if_unmodified_since = some("garbage")), Outcome::Proceed);
    }

    #[test]
    fn if_match_outranks_if_unmodified_since_and_412_outranks_304() {
        let request = |r: &mut Validators| {
            r.if_match = some(ETAG);
            r.if_unmodified_since = Some(http_date::format(MODIFIED - 100));
        };
        assert_eq!(outcome(request), Outcome::Proceed);
        let both = |r: &mut Validators| {
            r.if_match = some("\"a\"");
            r.if_none_match = some(ETAG);
        };
        assert_eq!(outcome(both), Outcome::Failed);
    }

    #[test]
    fn if_range_takes_a_strong_etag_never_a_date() {
        let applies = |header: &str| range_applies(&with(|r| r.if_range = some(header)), CURRENT);
        assert!(range_applies(&Validators::default(), CURRENT));
        assert!(applies(ETAG));
        assert!(applies(&format!(" {ETAG} ")));
        assert!(!applies(&http_date::format(MODIFIED)), "Last-Modified itself: it may stand for two versions");
        assert!(!applies("\"other\""));
        assert!(!applies("W/\"1700000000000001-2\""));
        assert!(!applies(&http_date::format(MODIFIED + 1)));
        assert!(!applies(&http_date::format(MODIFIED - 1)));
        assert!(!applies("garbage"));
        assert!(!applies("\"a\", \"b\""));
    }

    #[test]
    fn entity_tag_lists_parse_strictly() {
        assert_eq!(tags("").unwrap().len(), 0);
        assert_eq!(tags(" \"a\" ,W/\"b\",, \"c,d\"").unwrap().len(), 3);
        assert!(tags("\"a\"\"b\"").is_none());
        assert!(tags("a").is_none());
        assert!(tags("W/a").is_none());
    }
}
