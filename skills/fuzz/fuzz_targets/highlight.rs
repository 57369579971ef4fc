//! Arbitrary text (any bytes, made UTF-8 the way a browser's TextDecoder
//! does) through the highlighter of a tiny random-weight bundle: no panic;
//! spans sorted, disjoint, in bounds, on character boundaries; UTF-16 and
//! code-point offsets agree with independent counts.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use skills::highlight::Highlighter;
use skills::offsets::OffsetMap;
use std::sync::OnceLock;

fn highlighter() -> &'static Highlighter {
    static H: OnceLock<Highlighter> = OnceLock::new();
    H.get_or_init(|| {
        let (varmap, tagger) = common::tagger(skills::model::Head::Crf, None);
        skills::bundle::Bundle::read(&common::bundle_bytes(
            &varmap,
            &tagger,
            candle_core::quantized::GgmlDType::Q8_0,
        ))
        .unwrap()
        .into_highlighter(32, skills::model::Compute::F32)
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let spans = highlighter()
        .highlight(&text)
        .expect("highlighting text never fails");
    let map = OffsetMap::new(&text);
    let (mut last, mut units, mut chars) = (0, 0, 0);
    for s in &spans {
        assert!(s.bytes.start >= last && s.bytes.start < s.bytes.end && s.bytes.end <= text.len());
        assert!(text.is_char_boundary(s.bytes.start) && text.is_char_boundary(s.bytes.end));
        assert!((0.0..=1.0).contains(&s.score));
        let u = map.bytes_to_utf16(s.bytes.clone()).unwrap();
        let c = map.bytes_to_chars(s.bytes.clone()).unwrap();
        let gap = &text[last..s.bytes.start];
        assert_eq!(u.start, units + gap.encode_utf16().count());
        assert_eq!(c.start, chars + gap.chars().count());
        assert_eq!(
            u.end - u.start,
            text[s.bytes.clone()].encode_utf16().count()
        );
        assert_eq!(c.end - c.start, text[s.bytes.clone()].chars().count());
        (units, chars, last) = (u.end, c.end, s.bytes.end);
    }
});
