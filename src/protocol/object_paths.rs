//! Replit's App Storage environment: `PRIVATE_OBJECT_DIR` and `PUBLIC_OBJECT_SEARCH_PATHS`,
//! the `/bucket/prefix` paths the App Storage tool sets, read into a bucket and a prefix as
//! the generated apps' `objectStorage.ts` reads them (a missing leading `/` tolerated, blank
//! entries skipped, repeats dropped), with trailing slashes trimmed, a JSON array accepted
//! for the search paths, and an error naming the variable for anything it cannot use.

use crate::prelude::*;
use crate::protocol::bucket_name;
use crate::protocol::error::StorageError;
use crate::protocol::object_name;
use crate::protocol::text;

pub const PRIVATE_OBJECT_DIR: &str = "PRIVATE_OBJECT_DIR";
pub const PUBLIC_OBJECT_SEARCH_PATHS: &str = "PUBLIC_OBJECT_SEARCH_PATHS";

/// A folder of a bucket: the objects in it are named `prefix/…` (just `…` when the prefix is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDir {
    pub bucket_id: String,
    /// Without trailing `/`; empty for the whole bucket.
    pub prefix: String,
}

/// What `objectPaths()` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPaths {
    pub private_dir: ObjectDir,
    /// In the order given; empty when `PUBLIC_OBJECT_SEARCH_PATHS` is unset.
    pub public_paths: Vec<ObjectDir>,
}

/// Both variables (`None`: unset). `PRIVATE_OBJECT_DIR` is required (every generated app
/// keeps its uploads there); `PUBLIC_OBJECT_SEARCH_PATHS` may be unset (no public paths),
/// since `findPublic` reports that itself when it is called.
pub fn object_paths(private_dir: Option<&str>, public_paths: Option<&str>) -> Result<ObjectPaths, StorageError> {
    Ok(ObjectPaths { private_dir: private_dir_from(private_dir)?, public_paths: public_paths_from(public_paths)? })
}

/// `PRIVATE_OBJECT_DIR`: one path.
pub fn private_dir_from(value: Option<&str>) -> Result<ObjectDir, StorageError> {
    match value.map(str::trim_ascii).filter(|value| !value.is_empty()) {
        Some(path) => parse_dir(PRIVATE_OBJECT_DIR, path),
        None => Err(not_set(PRIVATE_OBJECT_DIR, "a path such as /<bucket>/.private")),
    }
}

/// `PUBLIC_OBJECT_SEARCH_PATHS`: comma-separated paths, or a JSON array of them; blank
/// entries are skipped and repeats dropped. Empty when unset.
pub fn public_paths_from(value: Option<&str>) -> Result<Vec<ObjectDir>, StorageError> {
    let Some(value) = value.map(str::trim_ascii).filter(|value| !value.is_empty()) else { return Ok(Vec::new()) };
    let entries: Vec<String> = if value.starts_with('[') {
        json_strings(value).ok_or_else(|| {
            StorageError::invalid_argument(text!(
                PUBLIC_OBJECT_SEARCH_PATHS,
                " starts with '[' but is not a JSON array of strings: ",
                value
            ))
        })?
    } else {
        text::split(value, b',').map(String::from).collect()
    };
    let mut dirs: Vec<ObjectDir> = Vec::new();
    for entry in &entries {
        let entry = entry.trim_ascii();
        if entry.is_empty() {
            continue;
        }
        let dir = parse_dir(PUBLIC_OBJECT_SEARCH_PATHS, entry)?;
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    Ok(dirs)
}

/// The paths `findPublic` searches: at least one, else an error saying how to set them.
pub fn search_paths(value: Option<&str>) -> Result<Vec<ObjectDir>, StorageError> {
    let dirs = public_paths_from(value)?;
    if dirs.is_empty() {
        return Err(not_set(PUBLIC_OBJECT_SEARCH_PATHS, "comma-separated paths such as /<bucket>/public"));
    }
    Ok(dirs)
}

/// The full name of `relative_path` inside `dir` (leading slashes of `relative_path` ignored),
/// checked against GCS's naming rules.
pub fn object_in(dir: &ObjectDir, relative_path: &str) -> Result<String, StorageError> {
    let relative = relative_path.trim_start_matches('/');
    if relative.is_empty() {
        return Err(StorageError::invalid_argument("relativePath must name an object, not be empty"));
    }
    let name = if dir.prefix.is_empty() { relative.to_string() } else { text!(dir.prefix, "/", relative) };
    object_name::validate(&name)
        .map_err(|error| StorageError::invalid_argument(text!("relativePath: ", error.message)))?;
    Ok(name)
}

fn not_set(variable: &str, example: &str) -> StorageError {
    StorageError::invalid_argument(text!(
        variable,
        " is not set: create a bucket in the App Storage tool (which sets it), or set it to ",
        example
    ))
}

/// `/bucket/prefix/` as a bucket and a prefix.
fn parse_dir(variable: &str, path: &str) -> Result<ObjectDir, StorageError> {
    let malformed = |problem: &str| {
        StorageError::invalid_argument(text!(variable, ": \"", path, "\" is not a /<bucket>/<prefix> path: ", problem))
    };
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (bucket, prefix) = text::split_once(rest, b'/').unwrap_or((rest, ""));
    if let Some(problem) = bucket_name::problem(bucket) {
        return Err(malformed(&text!("\"", bucket, "\": ", problem)));
    }
    let prefix = prefix.trim_end_matches('/');
    if prefix.len() >= object_name::MAX_NAME_BYTES {
        return Err(malformed("the prefix leaves no room for an object name (1024 bytes at most)"));
    }
    if text::contains_any(prefix, b"\r\n") {
        return Err(malformed("the prefix holds a carriage return or line feed"));
    }
    Ok(ObjectDir { bucket_id: bucket.to_string(), prefix: prefix.to_string() })
}

/// A JSON array of strings, or `None` when `text` is anything else (as `JSON.parse` then a
/// check of every element would decide; property-tested against serde_json).
fn json_strings(text: &str) -> Option<Vec<String>> {
    let mut reader = JsonReader { rest: text.chars() };
    reader.skip_whitespace();
    reader.expect('[')?;
    let mut strings = Vec::new();
    reader.skip_whitespace();
    if !reader.peek_is(']') {
        loop {
            reader.skip_whitespace();
            reader.expect('"')?;
            strings.push(reader.string_body()?);
            reader.skip_whitespace();
            if !reader.peek_is(',') {
                break;
            }
            reader.rest.next();
        }
    }
    reader.expect(']')?;
    reader.skip_whitespace();
    reader.rest.next().is_none().then_some(strings)
}

struct JsonReader<'a> {
    rest: core::str::Chars<'a>,
}

impl JsonReader<'_> {
    fn peek_is(&self, wanted: char) -> bool {
        self.rest.clone().next() == Some(wanted)
    }

    fn expect(&mut self, wanted: char) -> Option<()> {
        (self.rest.next()? == wanted).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while self.rest.clone().next().is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
            self.rest.next();
        }
    }

    /// The rest of a string whose opening quote was read, through its closing quote.
    fn string_body(&mut self) -> Option<String> {
        let mut out = String::new();
        loop {
            match self.rest.next()? {
                '"' => return Some(out),
                '\\' => out.push(self.escape()?),
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Option<char> {
        Some(match self.rest.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let unit = self.hex4()?;
                if (0xDC00..0xE000).contains(&unit) {
                    return None;
                }
                if (0xD800..0xDC00).contains(&unit) {
                    self.expect('\\')?;
                    self.expect('u')?;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(unit)?
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut value = 0;
        for _ in 0..4 {
            value = value * 16 + self.rest.next()?.to_digit(16)?;
        }
        Some(value)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::error::ErrorKind;
    use proptest::prelude::*;

    const BUCKET: &str = "replit-objstore-0a1b2c3d";

    fn dir(bucket: &str, prefix: &str) -> ObjectDir {
        ObjectDir { bucket_id: bucket.into(), prefix: prefix.into() }
    }

    #[test]
    fn reads_what_the_app_storage_tool_sets() {
        let paths =
            object_paths(Some("/replit-objstore-0a1b2c3d/.private"), Some("/replit-objstore-0a1b2c3d/public")).unwrap();
        assert_eq!(paths.private_dir, dir(BUCKET, ".private"));
        assert_eq!(paths.public_paths, vec![dir(BUCKET, "public")]);
    }

    #[test]
    fn tolerates_spaces_trailing_slashes_blank_entries_repeats_and_a_missing_slash() {
        let public = public_paths_from(Some(
            " /replit-objstore-0a1b2c3d/public/ , ,replit-objstore-0a1b2c3d/assets//,/other-bucket,/replit-objstore-0a1b2c3d/public",
        ))
        .unwrap();
        assert_eq!(public, vec![dir(BUCKET, "public"), dir(BUCKET, "assets"), dir("other-bucket", "")]);
        assert_eq!(private_dir_from(Some("/other-bucket/")).unwrap(), dir("other-bucket", ""));
        assert_eq!(private_dir_from(Some("/b-1/a/b/c/")).unwrap(), dir("b-1", "a/b/c"));
    }

    #[test]
    fn accepts_a_json_array() {
        let public =
            public_paths_from(Some(r#" ["/replit-objstore-0a1b2c3d/public", " /other-bucket/x/ "] "#)).unwrap();
        assert_eq!(public, vec![dir(BUCKET, "public"), dir("other-bucket", "x")]);
        assert_eq!(public_paths_from(Some("[]")).unwrap(), vec![]);
        let error = public_paths_from(Some(r#"["/a-bucket/x", 3]"#)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        assert!(
            error.message.contains("PUBLIC_OBJECT_SEARCH_PATHS") && error.message.contains("JSON"),
            "{}",
            error.message
        );
    }

    #[test]
    fn unset_variables_are_errors_naming_them_where_they_are_needed() {
        for unset in [None, Some(""), Some("  ")] {
            let error = object_paths(unset, Some("/a-bucket/public")).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument);
            assert!(error.message.starts_with("PRIVATE_OBJECT_DIR is not set"), "{}", error.message);
            let paths = object_paths(Some("/a-bucket/.private"), unset).unwrap();
            assert_eq!(paths.public_paths, vec![], "no public paths is not an error for objectPaths");
            let error = search_paths(unset).unwrap_err();
            assert!(error.message.starts_with("PUBLIC_OBJECT_SEARCH_PATHS is not set"), "{}", error.message);
        }
        assert!(search_paths(Some(" , ,")).unwrap_err().message.contains("is not set"));
    }

    #[test]
    fn malformed_paths_name_the_variable_and_the_rule() {
        for (value, rule) in [
            ("/", "3 to 63"),
            ("//prefix", "3 to 63"),
            ("/My_Bucket/x", "lowercase"),
            ("gs://a-bucket/x", "lowercase"),
            ("/a-bucket\n/x", "lowercase"),
            ("/goog-b/x", "goog"),
        ] {
            let error = private_dir_from(Some(value)).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument);
            assert!(error.message.starts_with("PRIVATE_OBJECT_DIR: "), "{}", error.message);
            assert!(error.message.contains(rule), "{value:?}: {}", error.message);
            let error = public_paths_from(Some(&format!("/ok-bucket/p,{value}"))).unwrap_err();
            assert!(error.message.starts_with("PUBLIC_OBJECT_SEARCH_PATHS: "), "{}", error.message);
        }
        assert!(private_dir_from(Some("/a-bucket/x\ry")).unwrap_err().message.contains("line feed"));
        assert!(private_dir_from(Some(&format!("/a-bucket/{}", "p".repeat(1024))))
            .unwrap_err()
            .message
            .contains("1024"));
    }

    #[test]
    fn objects_are_named_inside_their_folder() {
        assert_eq!(object_in(&dir(BUCKET, "public"), "img/a.png").unwrap(), "public/img/a.png");
        assert_eq!(object_in(&dir(BUCKET, "public"), "/img/a.png").unwrap(), "public/img/a.png");
        assert_eq!(object_in(&dir(BUCKET, ""), "a.png").unwrap(), "a.png");
        for bad in ["", "/", "a\nb"] {
            let error = object_in(&dir(BUCKET, "public"), bad).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidArgument);
            assert!(error.message.starts_with("relativePath"), "{}", error.message);
        }
        assert!(object_in(&dir(BUCKET, ""), "..").is_err(), "GCS's rules apply to the whole name");
    }

    #[test]
    fn reads_json_string_arrays_as_serde_json_does() {
        let cases = [
            r#"[]"#,
            r#"["a"]"#,
            r#" [ "a" , "b\"c\\d\/e\u00e9\ud83d\ude00\n" ] "#,
            r#"["\b\f\r\t"]"#,
            r#"["a",]"#,
            r#"["a" "b"]"#,
            r#"["\ud800"]"#,
            r#"["\udc00"]"#,
            r#"["\x"]"#,
            "[\"a\u{1}\"]",
            r#"[1]"#,
            r#"["a"] x"#,
            r#"["a""#,
            r#"[,"a"]"#,
        ];
        for case in cases {
            assert_eq!(json_strings(case), serde_json::from_str::<Vec<String>>(case).ok(), "{case}");
        }
    }

    proptest! {
        #[test]
        fn any_string_array_serde_json_writes_is_read_back(strings in proptest::collection::vec(any::<String>(), 0..5)) {
            let json = serde_json::to_string(&strings).unwrap();
            prop_assert_eq!(json_strings(&json), Some(strings));
        }

        #[test]
        fn any_text_is_read_as_serde_json_reads_it(text in r#"[\[\]",\\u0-9a-fA-F \n\tx\u{e9}]{0,16}"#) {
            prop_assert_eq!(json_strings(&text), serde_json::from_str::<Vec<String>>(&text).ok());
        }

        #[test]
        fn paths_written_either_way_read_back(
            dirs in proptest::collection::vec(("[a-z0-9][a-z0-9-]{1,12}[a-z0-9]", "([a-z.][a-z0-9._-]{0,6}(/[a-z0-9._-]{1,6}){0,2})?"), 1..4),
            pad in " {0,2}",
            trailing in "/{0,2}",
            leading_slash: bool,
        ) {
            prop_assume!(dirs.iter().all(|(bucket, _)| !bucket.starts_with("goog") && !bucket.contains("google") && !bucket.contains("g00gle")));
            let written: Vec<String> = dirs
                .iter()
                .map(|(bucket, prefix)| {
                    let slash = if leading_slash { "/" } else { "" };
                    let path = if prefix.is_empty() { format!("{slash}{bucket}") } else { format!("{slash}{bucket}/{prefix}") };
                    format!("{pad}{path}{trailing}{pad}")
                })
                .collect();
            let mut expected: Vec<ObjectDir> = Vec::new();
            for (bucket, prefix) in &dirs {
                let parsed = dir(bucket, prefix);
                if !expected.contains(&parsed) {
                    expected.push(parsed);
                }
            }
            prop_assert_eq!(public_paths_from(Some(&written.join(","))).unwrap(), expected.clone());
            prop_assert_eq!(public_paths_from(Some(&serde_json::to_string(&written).unwrap())).unwrap(), expected.clone());
            prop_assert_eq!(private_dir_from(Some(&written[0])).unwrap(), expected[0].clone());
        }

        #[test]
        fn no_text_makes_the_parsers_panic(text in "\\PC{0,40}") {
            let _ = object_paths(Some(&text), Some(&text));
            let _ = search_paths(Some(&text));
        }
    }
}
