//! The `Content-Type` an upload gets when the caller names none: guessed from the object
//! name's extension, as @google-cloud/storage does.

pub const FALLBACK: &str = "application/octet-stream";

pub fn guess(object_name: &str) -> String {
    mime_guess::from_path(object_name).first_raw().unwrap_or(FALLBACK).to_string()
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
    }

    #[test]
    fn falls_back_to_octet_stream() {
        assert_eq!(guess("no-extension"), FALLBACK);
        assert_eq!(guess("dir.txt/file"), FALLBACK);
        assert_eq!(guess("weird.zzzz"), FALLBACK);
    }
}
