//! `Content-Disposition` for served objects (RFC 6266), written as the npm `content-disposition`
//! package (2.x, the one Express 5 uses) writes it: the type, then `filename=` (a token as it
//! is, else quoted with `\` and `"` escaped) and, for a name beyond printable ASCII or holding a
//! `%XX` escape, an ASCII fallback (`?` for each UTF-16 unit of what is not) and
//! `filename*=UTF-8''…` (RFC 8187 percent-encoding). Unlike the package, only the name's last
//! `/`-separated segment is used.

use crate::prelude::*;
use crate::protocol::object_name::percent_encode;
use crate::protocol::text;

/// `inline` (show in the browser) or `attachment` (download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

impl Disposition {
    pub fn parse(value: &str) -> Option<Disposition> {
        match value {
            "inline" => Some(Disposition::Inline),
            "attachment" => Some(Disposition::Attachment),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Disposition::Inline => "inline",
            Disposition::Attachment => "attachment",
        }
    }
}

/// The last `/`-separated segment of a name or path (a download gets no directories).
pub fn basename(name: &str) -> &str {
    text::rsplit_once(name, b'/').map_or(name, |(_, leaf)| leaf)
}

fn is_plain(byte: u8) -> bool {
    (0x20..0x7f).contains(&byte)
}

/// Whether the name holds `%` and two hex digits, which some browsers would decode in a plain
/// `filename`: the exact name then goes in `filename*` too.
fn has_hex_escape(name: &str) -> bool {
    name.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// RFC 9110 `tchar`.
fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// A parameter value: a token as it is, anything else quoted.
fn value(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(is_token_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// The header value for `disposition` of a file called `filename` (its basename is used;
/// an empty one gives the type alone).
pub fn header(disposition: Disposition, filename: &str) -> String {
    let name = basename(filename);
    if name.is_empty() {
        return disposition.as_str().to_string();
    }
    if name.bytes().all(is_plain) && !has_hex_escape(name) {
        return text!(disposition.as_str(), "; filename=", value(name));
    }
    let mut fallback = String::with_capacity(name.len());
    for ch in name.chars() {
        if ch.is_ascii() && is_plain(ch as u8) {
            fallback.push(ch);
        } else {
            // One `?` per UTF-16 unit, as JavaScript's replace sees the string.
            for _ in 0..ch.len_utf16() {
                fallback.push('?');
            }
        }
    }
    // RFC 8187 attr-char, less what the package also encodes (`#$&+^`|`).
    text!(disposition.as_str(), "; filename=", value(&fallback), "; filename*=UTF-8''", percent_encode(name, b"-._~!"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    // Every expectation is what content-disposition@2.0.1's `create` writes for the basename.
    #[test]
    fn ascii_names_are_tokens_or_quoted() {
        assert_eq!(header(Disposition::Attachment, "report.pdf"), "attachment; filename=report.pdf");
        assert_eq!(header(Disposition::Inline, "dir/sub/photo 1.png"), "inline; filename=\"photo 1.png\"");
        assert_eq!(header(Disposition::Attachment, "a\"b\\c.txt"), "attachment; filename=\"a\\\"b\\\\c.txt\"");
        assert_eq!(header(Disposition::Attachment, "x(1).txt"), "attachment; filename=\"x(1).txt\"");
    }

    #[test]
    fn non_ascii_names_get_an_ascii_fallback_and_filename_star() {
        assert_eq!(
            header(Disposition::Attachment, "日本語.txt"),
            "attachment; filename=\"???.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt"
        );
        assert_eq!(
            header(Disposition::Inline, "€ rates.pdf"),
            "inline; filename=\"? rates.pdf\"; filename*=UTF-8''%E2%82%AC%20rates.pdf"
        );
        assert_eq!(
            header(Disposition::Attachment, "café.txt"),
            "attachment; filename=\"caf?.txt\"; filename*=UTF-8''caf%C3%A9.txt"
        );
        assert_eq!(
            header(Disposition::Attachment, "tab\there"),
            "attachment; filename=\"tab?here\"; filename*=UTF-8''tab%09here"
        );
        assert_eq!(
            header(Disposition::Attachment, "😀.png"),
            "attachment; filename=\"??.png\"; filename*=UTF-8''%F0%9F%98%80.png"
        );
    }

    #[test]
    fn percent_escapes_and_attr_chars() {
        assert_eq!(
            header(Disposition::Attachment, "100%25.txt"),
            "attachment; filename=100%25.txt; filename*=UTF-8''100%2525.txt"
        );
        assert_eq!(header(Disposition::Attachment, "100%.txt"), "attachment; filename=100%.txt");
        assert_eq!(
            header(Disposition::Attachment, "ü!#$&'()*+,;=~.txt"),
            "attachment; filename=\"?!#$&'()*+,;=~.txt\"; filename*=UTF-8''%C3%BC!%23%24%26%27%28%29%2A%2B%2C%3B%3D~.txt"
        );
    }

    #[test]
    fn an_empty_basename_gives_the_type_alone() {
        assert_eq!(header(Disposition::Attachment, "dir/"), "attachment");
        assert_eq!(header(Disposition::Inline, ""), "inline");
    }

    #[test]
    fn types_parse_exactly() {
        assert_eq!(Disposition::parse("inline"), Some(Disposition::Inline));
        assert_eq!(Disposition::parse("attachment"), Some(Disposition::Attachment));
        assert_eq!(Disposition::parse("Attachment"), None);
        assert_eq!(basename("a/b/c"), "c");
        assert_eq!(basename("c"), "c");
    }
}
