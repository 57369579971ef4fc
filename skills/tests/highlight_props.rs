//! Whatever text users paste, the highlighter answers without panicking,
//! with spans that are sorted, disjoint, in bounds and on character
//! boundaries, whose UTF-16 and code-point offsets agree. Run on a tiny
//! random-weight bundle, whose spans fall anywhere.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use proptest::prelude::*;
use skills::bundle::Bundle;
use skills::highlight::Highlighter;
use skills::model::Compute;
use skills::offsets::OffsetMap;
use std::sync::OnceLock;

fn highlighter() -> &'static Highlighter {
    static H: OnceLock<Highlighter> = OnceLock::new();
    H.get_or_init(|| {
        let (varmap, tagger) = common::tagger(skills::model::Head::Crf, None);
        Bundle::read(&common::bundle_bytes(
            &varmap,
            &tagger,
            candle_core::quantized::GgmlDType::Q8_0,
        ))
        .unwrap()
        .into_highlighter(32, Compute::F32)
        .unwrap()
    })
}

/// Checks every invariant of `highlight`'s answer on `text`.
fn check(text: &str) {
    let h = highlighter();
    let spans = h.highlight(text).expect("highlighting never fails on text");
    let map = OffsetMap::new(text);
    let (mut last, mut units, mut chars) = (0, 0, 0);
    for s in &spans {
        assert!(s.bytes.start >= last, "sorted and disjoint: {spans:?}");
        assert!(s.bytes.start < s.bytes.end && s.bytes.end <= text.len());
        assert!(text.is_char_boundary(s.bytes.start) && text.is_char_boundary(s.bytes.end));
        assert!((0.0..=1.0).contains(&s.score), "{}", s.score);
        let u = map.bytes_to_utf16(s.bytes.clone()).unwrap();
        let c = map.bytes_to_chars(s.bytes.clone()).unwrap();
        let slice = &text[s.bytes.clone()];
        assert_eq!(u.end - u.start, slice.encode_utf16().count());
        assert_eq!(c.end - c.start, slice.chars().count());
        // Offsets counted independently of OffsetMap, from the previous span's end.
        let gap = &text[last..s.bytes.start];
        assert_eq!(u.start, units + gap.encode_utf16().count());
        assert_eq!(c.start, chars + gap.chars().count());
        (units, chars) = (u.end, c.end);
        last = s.bytes.end;
    }
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z+#.]{1,12}",
        Just("Python".to_owned()),
        Just("machine learning".to_owned()),
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("\0".to_owned()),
        Just("\u{FFFD}".to_owned()), // what a lone surrogate from JavaScript becomes
        Just("👩‍💻".to_owned()),       // ZWJ sequence
        Just("🇩🇪".to_owned()),       // regional indicators
        Just("e\u{301}\u{302}\u{303}".to_owned()), // stacked combining marks
        Just("\u{301}".to_owned()),  // a combining mark with nothing to combine with
        Just("مهارات التواصل".to_owned()),
        Just("\u{202E}abc\u{202C}".to_owned()), // bidi override
        Just("機械学習".to_owned()),
        Just("• ".to_owned()),
        Just("\u{F0B7}".to_owned()), // Word's private-use bullet
        Just("...".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{FEFF}".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gives_well_formed_spans(parts in prop::collection::vec(piece(), 0..40)) {
        check(&parts.concat());
    }
}

#[test]
fn a_one_megabyte_line_finishes() {
    // No sentence break anywhere: the highlighter cuts it into windows.
    let line = "python sql docker kubernetes excel, ".repeat(1 << 20 >> 5);
    assert!(line.len() >= 1 << 20);
    check(&line);
    // One 1 MB word (no spaces at all) and a megabyte of combining marks.
    check(&"x".repeat(1 << 20));
    check(&"\u{301}".repeat(1 << 19));
}

#[test]
fn edge_texts() {
    for t in [
        "",
        " ",
        "\0",
        "\u{301}",
        "👩‍💻",
        "\n\n\n",
        "•",
        ".",
        "a",
        "Python",
        "\u{FEFF}Python",
    ] {
        check(t);
    }
}
