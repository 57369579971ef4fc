//! The text → words → matches → offsets path, run in headless Chromium
//! (`cargo test -p skills --target wasm32-unknown-unknown`): the
//! tokenizers crate's wasm build must split words exactly as natively, and
//! UTF-16 ranges must select the same characters through JavaScript's own
//! `String.prototype.slice` as the byte ranges do in Rust.
#![cfg(target_arch = "wasm32")]

use js_sys::JsString;
use skills::matcher::PhraseMatcher;
use skills::offsets::OffsetMap;
use skills::text::sentences;
use skills::words::words;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TEXT: &str = "Über 👩‍💻 engineer: Python, SQL Server & 機械学習.\nמפתח • C++ and node.JS 😀";

#[wasm_bindgen_test]
fn utf16_ranges_select_the_same_text_in_javascript() {
    let js = JsString::from(TEXT);
    let map = OffsetMap::new(TEXT);
    assert_eq!(map.utf16_len(), js.length() as usize);
    for w in words(TEXT) {
        let u = map
            .bytes_to_utf16(w.clone())
            .expect("words lie on boundaries");
        assert_eq!(
            String::from(js.slice(u.start as u32, u.end as u32)),
            &TEXT[w]
        );
    }
}

#[wasm_bindgen_test]
fn matcher_and_splitter_work_in_the_browser() {
    let m =
        PhraseMatcher::new([("Python", 0), ("SQL Server", 1), ("C++", 2), ("Node.js", 3)]).unwrap();
    let found: Vec<&str> = m.find(TEXT).into_iter().map(|x| &TEXT[x.bytes]).collect();
    assert_eq!(found, ["Python", "SQL Server", "C++", "node.JS"]);
    let sents: Vec<&str> = sentences(TEXT).into_iter().map(|r| &TEXT[r]).collect();
    assert_eq!(
        sents,
        [
            "Über 👩‍💻 engineer: Python, SQL Server & 機械学習.",
            "מפתח",
            "C++ and node.JS 😀"
        ]
    );
}
