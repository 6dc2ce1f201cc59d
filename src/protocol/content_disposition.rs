//! `Content-Disposition` for served objects (RFC 6266), written as the npm `content-disposition`
//! package writes it: the type, then `filename="…"` (quoted, `\` and `"` escaped) and, for a
//! name that a quoted string cannot carry faithfully, `filename*=UTF-8''…` (RFC 8187
//! percent-encoding). One deliberate difference: the fallback `filename` is ASCII (other
//! characters become `?`), where the package keeps ISO-8859-1 letters that browsers read
//! inconsistently.

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

fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for ch in value.chars() {
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
    let ascii = name.bytes().all(is_plain);
    let fallback: String = name.chars().map(|ch| if ch.is_ascii() && is_plain(ch as u8) { ch } else { '?' }).collect();
    let mut out = text!(disposition.as_str(), "; filename=", quoted(&fallback));
    if !ascii || has_hex_escape(name) {
        out.push_str("; filename*=UTF-8''");
        // RFC 8187 attr-char, less what the package also encodes (`#$&+^`|`).
        out.push_str(&percent_encode(name, b"-._~!"));
    }
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_are_quoted() {
        assert_eq!(header(Disposition::Attachment, "report.pdf"), "attachment; filename=\"report.pdf\"");
        assert_eq!(header(Disposition::Inline, "dir/sub/photo 1.png"), "inline; filename=\"photo 1.png\"");
        assert_eq!(header(Disposition::Attachment, "a\"b\\c.txt"), "attachment; filename=\"a\\\"b\\\\c.txt\"");
    }

    #[test]
    fn non_ascii_names_get_an_ascii_fallback_and_filename_star() {
        // As content-disposition@0.5.4 writes them (see tests/node/serving.test.mjs).
        assert_eq!(
            header(Disposition::Attachment, "日本語.txt"),
            "attachment; filename=\"???.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt"
        );
        assert_eq!(
            header(Disposition::Inline, "€ rates.pdf"),
            "inline; filename=\"? rates.pdf\"; filename*=UTF-8''%E2%82%AC%20rates.pdf"
        );
        // ISO-8859-1 letters too (the package would keep `é` in the quoted name).
        assert_eq!(
            header(Disposition::Attachment, "café.txt"),
            "attachment; filename=\"caf?.txt\"; filename*=UTF-8''caf%C3%A9.txt"
        );
        assert_eq!(
            header(Disposition::Attachment, "tab\there"),
            "attachment; filename=\"tab?here\"; filename*=UTF-8''tab%09here"
        );
    }

    #[test]
    fn percent_escapes_and_attr_chars() {
        assert_eq!(
            header(Disposition::Attachment, "100%25.txt"),
            "attachment; filename=\"100%25.txt\"; filename*=UTF-8''100%2525.txt"
        );
        assert_eq!(header(Disposition::Attachment, "100%.txt"), "attachment; filename=\"100%.txt\"");
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
