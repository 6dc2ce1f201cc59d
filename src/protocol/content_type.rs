//! The `Content-Type` an upload gets when the caller names none: guessed from the object
//! name's extension, as @google-cloud/storage does (it asks the `mime` package, v3).
//!
//! A compact table of the common extensions instead of the `mime_guess` crate: that
//! crate's full table alone cost ~25 KB gzipped of the browser build's 64 KB budget
//! (measured: 242 -> 172 KB after `wasm-opt -Oz`). The types are `mime` 3's, so an upload
//! is labelled as @replit/object-storage labels it; anything else is `FALLBACK`, and a
//! caller who needs another type passes `contentType`.

use crate::prelude::*;
use crate::protocol::text;

pub const FALLBACK: &str = "application/octet-stream";

/// One `extension type` per line, sorted by extension: one string rather than a slice of
/// pairs, whose pointers and lengths (16 bytes an entry) weighed more in the wasm than the
/// text, and compress badly. A lookup reads the lines in order (under 100 short lines).
const TYPES: &str = "\
3gp video/3gpp\n\
7z application/x-7z-compressed\n\
aac audio/x-aac\n\
ai application/postscript\n\
apk application/vnd.android.package-archive\n\
apng image/apng\n\
avi video/x-msvideo\n\
avif image/avif\n\
bmp image/bmp\n\
bz2 application/x-bzip2\n\
cjs application/node\n\
css text/css\n\
csv text/csv\n\
doc application/msword\n\
docx application/vnd.openxmlformats-officedocument.wordprocessingml.document\n\
eot application/vnd.ms-fontobject\n\
eps application/postscript\n\
epub application/epub+zip\n\
flac audio/x-flac\n\
gif image/gif\n\
glb model/gltf-binary\n\
gltf model/gltf+json\n\
gz application/gzip\n\
heic image/heic\n\
heif image/heif\n\
htm text/html\n\
html text/html\n\
ico image/vnd.microsoft.icon\n\
ics text/calendar\n\
ini text/plain\n\
jar application/java-archive\n\
jpe image/jpeg\n\
jpeg image/jpeg\n\
jpg image/jpeg\n\
js application/javascript\n\
json application/json\n\
jsonld application/ld+json\n\
log text/plain\n\
m4a audio/mp4\n\
m4v video/x-m4v\n\
map application/json\n\
markdown text/markdown\n\
md text/markdown\n\
mid audio/midi\n\
midi audio/midi\n\
mjs application/javascript\n\
mkv video/x-matroska\n\
mov video/quicktime\n\
mp3 audio/mpeg\n\
mp4 video/mp4\n\
mpeg video/mpeg\n\
mpg video/mpeg\n\
odp application/vnd.oasis.opendocument.presentation\n\
ods application/vnd.oasis.opendocument.spreadsheet\n\
odt application/vnd.oasis.opendocument.text\n\
oga audio/ogg\n\
ogg audio/ogg\n\
ogv video/ogg\n\
opus audio/ogg\n\
otf font/otf\n\
pdf application/pdf\n\
png image/png\n\
ppt application/vnd.ms-powerpoint\n\
pptx application/vnd.openxmlformats-officedocument.presentationml.presentation\n\
ps application/postscript\n\
psd image/vnd.adobe.photoshop\n\
rar application/vnd.rar\n\
rtf application/rtf\n\
sh application/x-sh\n\
sql application/x-sql\n\
svg image/svg+xml\n\
tar application/x-tar\n\
text text/plain\n\
tif image/tiff\n\
tiff image/tiff\n\
toml application/toml\n\
tsv text/tab-separated-values\n\
ttf font/ttf\n\
txt text/plain\n\
vcf text/x-vcard\n\
wasm application/wasm\n\
wav audio/wav\n\
weba audio/webm\n\
webm video/webm\n\
webmanifest application/manifest+json\n\
webp image/webp\n\
woff font/woff\n\
woff2 font/woff2\n\
xls application/vnd.ms-excel\n\
xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n\
xml application/xml\n\
xz application/x-xz\n\
yaml text/yaml\n\
yml text/yaml\n\
zip application/zip";

/// The extension of the name's last `/`-separated segment: after its last dot, when
/// something comes before that dot (`.bashrc` has none).
fn extension(object_name: &str) -> Option<&str> {
    let leaf = text::rsplit_once(object_name, b'/').map_or(object_name, |(_, leaf)| leaf);
    match text::rsplit_once(leaf, b'.') {
        Some((stem, extension)) if !stem.is_empty() => Some(extension),
        _ => None,
    }
}

/// The `(extension, type)` pairs of `TYPES`.
fn types() -> impl Iterator<Item = (&'static str, &'static str)> {
    text::split(TYPES, b'\n').filter_map(|line| text::split_once(line, b' '))
}

pub fn guess(object_name: &str) -> String {
    let found = extension(object_name).and_then(|extension| {
        let extension = extension.to_ascii_lowercase();
        types().find(|(known, _)| *known == extension).map(|(_, content_type)| content_type)
    });
    found.unwrap_or(FALLBACK).to_string()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn guesses_from_the_extension() {
        assert_eq!(guess("notes/hello.txt"), "text/plain");
        assert_eq!(guess("a/b/photo.PNG"), "image/png");
        assert_eq!(guess("data.json"), "application/json");
        assert_eq!(guess("page.html"), "text/html");
        assert_eq!(guess("archive.tar.gz"), "application/gzip");
        assert_eq!(guess("report.docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    }

    #[test]
    fn falls_back_to_octet_stream() {
        assert_eq!(guess("no-extension"), FALLBACK);
        assert_eq!(guess("dir.txt/file"), FALLBACK);
        assert_eq!(guess("weird.zzzz"), FALLBACK);
        assert_eq!(guess("dir/.txt"), FALLBACK, "a dotfile has no extension");
        assert_eq!(guess("trailing."), FALLBACK);
        assert_eq!(guess("txt"), FALLBACK);
    }

    #[test]
    fn the_table_is_sorted_lowercase_and_unique() {
        let types: Vec<(&str, &str)> = types().collect();
        assert_eq!(types.len(), TYPES.lines().count(), "every line is `extension type`");
        for pair in types.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (extension, content_type) in &types {
            assert_eq!(*extension, extension.to_ascii_lowercase());
            assert!(!content_type.contains(' '), "{content_type}");
        }
    }
}
