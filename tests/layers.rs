//! The layering rule, checked: modules under `src/protocol/` are pure Rust and may not name a
//! JavaScript binding or reach into `src/wasm/`. (A pure module that did would stop building
//! natively only when the binding happened to be unavailable; this fails at once.)
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

const FORBIDDEN: [&str; 5] = ["wasm_bindgen", "js_sys", "web_sys", "crate::wasm", "JsValue"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/protocol is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn protocol_modules_name_no_javascript_binding() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/protocol");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() >= 10, "expected the protocol modules under {}", root.display());
    let mut offences = Vec::new();
    for file in &files {
        let source = fs::read_to_string(file).expect("a readable source file");
        for (number, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for name in FORBIDDEN {
                if code.contains(name) {
                    offences.push(format!("{}:{}: {}", file.display(), number + 1, line.trim()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "pure modules must not use JS bindings:\n{}", offences.join("\n"));
}
