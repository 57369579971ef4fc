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

mod common;
#[path = "common/shipped.rs"]
mod shipped;

use skills::bundle::{Bundle, BundleError, FORMAT_VERSION};
use skills::model::Compute;

#[wasm_bindgen_test]
fn a_bundle_reads_and_highlights_in_the_browser() {
    let h = Bundle::read(&common::tiny_bundle())
        .unwrap()
        .into_highlighter(32, Compute::Quantized)
        .unwrap();
    let text = "We use Docker and ML daily 😀.";
    for s in h.highlight(text).unwrap() {
        assert!(text.is_char_boundary(s.bytes.start) && text.is_char_boundary(s.bytes.end));
    }
}

#[wasm_bindgen_test]
fn damaged_bundles_are_refused_in_the_browser() {
    let bytes = common::tiny_bundle();
    // Every cut in the first 4 KiB (header and metadata), then every 61st.
    for len in (0..bytes.len()).filter(|&l| l < 4096 || l % 61 == 0) {
        assert!(
            matches!(Bundle::read(&bytes[..len]), Err(BundleError::Truncated(_))),
            "cut at {len}"
        );
    }
    for pos in (0..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[pos] ^= 0x10;
        assert!(Bundle::read(&b).is_err(), "flip at {pos}");
    }
    let mut b = bytes.clone();
    let at = common::value_offset(&b, "rolemapper.format_version");
    b[at..at + 4].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        Bundle::read(&b),
        Err(BundleError::UnsupportedVersion { .. })
    ));
    let random: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(matches!(
        Bundle::read(&random),
        Err(BundleError::NotABundle(_))
    ));
}

#[wasm_bindgen_test]
fn the_shipped_bundle_gives_the_native_answer_in_the_browser() {
    let expected: shipped::Answer = serde_json::from_str(shipped::SHIPPED_ANSWER).unwrap();
    let got = shipped::answer(shipped::SHIPPED, &expected.text);
    let worst = shipped::assert_same_answer(&got, &expected);
    console_log!(
        "shipped bundle in the browser: {} spans identical to native, max |Δ emission| {worst:e}",
        got.spans.len()
    );
}

#[wasm_bindgen_test]
fn lone_surrogates_from_javascript_keep_offsets_aligned() {
    // "Python \uD800 SQL \uDC00x 😀": two lone surrogates, one real pair.
    let units: Vec<u16> = "Python \u{0} SQL \u{0}x 😀"
        .encode_utf16()
        .enumerate()
        .map(|(i, u)| match (i, u) {
            (7, 0) => 0xD800,
            (13, 0) => 0xDC00,
            (_, u) => u,
        })
        .collect();
    let js = JsString::from_char_code(&units);
    assert_eq!(js.length() as usize, units.len());
    // wasm-bindgen's conversion replaces each lone surrogate by U+FFFD, one
    // UTF-16 unit for one: offsets computed on the Rust string stay valid
    // in the JavaScript string.
    let text = String::from(js.clone());
    let map = OffsetMap::new(&text);
    assert_eq!(map.utf16_len(), js.length() as usize);
    let h = Bundle::read(&common::tiny_bundle())
        .unwrap()
        .into_highlighter(32, Compute::F32)
        .unwrap();
    for s in h.highlight(&text).unwrap() {
        let u = map.bytes_to_utf16(s.bytes.clone()).unwrap();
        assert_eq!(
            String::from(js.slice(u.start as u32, u.end as u32)),
            &text[s.bytes]
        );
    }
    for w in words(&text) {
        let u = map.bytes_to_utf16(w.clone()).unwrap();
        assert_eq!(
            String::from(js.slice(u.start as u32, u.end as u32)),
            &text[w]
        );
    }
}

/// The int8 kernel's wasm path (SIMD128, or relaxed SIMD when built with
/// skills' `relaxed-simd` feature; `int8::kernel_name` says which): exact
/// on data that quantizes exactly (integer input rows whose largest value
/// is 127, weight rows whose largest is 63), at every tile edge.
#[wasm_bindgen_test]
fn int8_products_are_exact_in_the_browser() {
    console_log!("int8 kernel: {}", skills::int8::kernel_name());
    #[cfg(feature = "relaxed-simd")]
    assert_eq!(skills::int8::kernel_name(), "relaxed-simd");
    exact_products();
    // The relaxed build's split dot products: the same exact sums.
    #[cfg(feature = "relaxed-simd")]
    {
        skills::int8::use_relaxed_split(true);
        assert_eq!(skills::int8::kernel_name(), "relaxed-simd-split");
        exact_products();
        skills::int8::use_relaxed_split(false);
        // The timed choice picks one of the two and says which.
        let now = || js_sys::Date::now();
        let chosen = skills::int8::choose_kernel(&now);
        console_log!("chosen by timing: {chosen}");
        assert!(chosen.starts_with("relaxed-simd"), "{chosen}");
        skills::int8::use_relaxed_split(false);
    }
}

/// The browser's attention (`skills::attention`: f32x4 tiles, fused
/// multiply-adds in the relaxed SIMD build) against plain f64 loops, on
/// sentences around its tile edges, with and without padding, read from
/// separate q, k, v and in place from the fused product; a NaN query
/// keeps its row NaN (the relaxed build's max leaves NaN to the engine).
#[wasm_bindgen_test]
fn attention_matches_plain_loops_in_the_browser() {
    skills::attention::check_against_reference();
}

fn exact_products() {
    use skills::int8::Int8Matrix;
    let mut seed = 11u64;
    let mut next = move |max: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % (2 * max + 1)) as f32 - max as f32
    };
    for (rows, n, k) in [
        (1, 1, 8),
        (5, 3, 384),
        (7, 9, 40),
        (4, 2, 13),
        (3, 5, 1536),
        (9, 11, 48),
    ] {
        let mut ints = |len: usize, max: u64| -> Vec<f32> {
            let mut v: Vec<f32> = (0..len).map(|_| next(max)).collect();
            for row in v.chunks_mut(k) {
                row[0] = max as f32;
            }
            v
        };
        let (x, w) = (ints(rows * k, 127), ints(n * k, 63));
        let bias: Vec<f32> = (0..n).map(|j| j as f32 - 1.5).collect();
        let got = Int8Matrix::from_f32(&w, n, k).matmul(&x, &bias);
        for r in 0..rows {
            for j in 0..n {
                let dot: i64 = (0..k)
                    .map(|i| x[r * k + i] as i64 * w[j * k + i] as i64)
                    .sum();
                assert_eq!(
                    got[r * n + j],
                    dot as f32 + bias[j],
                    "{rows}×{n}×{k} at ({r}, {j})"
                );
            }
        }
    }
}
