//! One list of error kinds: the TypeScript `ErrorKind` union in `js/types.d.ts` must name
//! exactly the kinds of Rust's `ErrorKind`, in the same order, since programs branch on them.
#![cfg(not(target_arch = "wasm32"))]

use replit_object_storage_wasm::protocol::error::ErrorKind;

fn typescript_union() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/types.d.ts");
    let source = std::fs::read_to_string(path).expect("js/types.d.ts is readable");
    let start = source.find("export type ErrorKind =").expect("js/types.d.ts declares ErrorKind");
    let declaration = &source[start..start + source[start..].find(';').expect("the union ends with ';'")];
    declaration.split('|').skip(1).map(|member| member.trim().trim_matches('\'').to_string()).collect()
}

#[test]
fn the_typescript_union_names_every_rust_kind_in_order() {
    let rust: Vec<String> = ErrorKind::ALL.iter().map(|kind| kind.as_str().to_string()).collect();
    assert_eq!(typescript_union(), rust);
}

#[test]
fn every_kind_name_parses_back_to_its_kind() {
    for kind in ErrorKind::ALL {
        assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(ErrorKind::parse("objectnotfound"), None);
}
