//! Words: the units that carry BIO tags.
//!
//! A word is exactly what the model's tokenizer (a BERT WordPiece tokenizer
//! with `BertNormalizer` and `BertPreTokenizer`) would hand to WordPiece: text
//! is split at whitespace, every punctuation character and every CJK
//! ideograph is a word of its own, and control and format characters (NUL,
//! zero-width space, …) vanish: a word made only of them is no word. Using the
//! tokenizer's own code for this, rather than a look-alike, guarantees that
//! the gazetteer's labels, the datasets' words and the tagger's sub-words
//! line up one to one.

use std::ops::Range;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
};

/// Byte ranges of the words of `text`, in order, disjoint, non-empty and on
/// character boundaries. A word never contains whitespace.
pub fn words(text: &str) -> Vec<Range<usize>> {
    let mut normalized = NormalizedString::from(text);
    // clean_text, handle_chinese_chars, no accent stripping, no lower-casing:
    // the matcher folds case itself and offsets must stay in the original.
    BertNormalizer::new(true, true, Some(false), false)
        .normalize(&mut normalized)
        .expect("BertNormalizer has no failing step");
    let mut pretokenized = PreTokenizedString::from(normalized);
    BertPreTokenizer
        .pre_tokenize(&mut pretokenized)
        .expect("splitting on characters cannot fail");
    pretokenized
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(_, (start, end), _)| start..end)
        .filter(|r| !r.is_empty())
        .collect()
}

/// Joins words with single spaces, returning the text and each word's byte
/// range in it: how a tokenized sentence (SkillSpan, CoNLL) becomes text
/// the matcher and the tagger can read.
pub fn join(words: &[&str]) -> (String, Vec<Range<usize>>) {
    let mut text = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
    let mut ranges = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        ranges.push(text.len()..text.len() + w.len());
        text.push_str(w);
    }
    (text, ranges)
}

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(text: &str) -> Vec<&str> {
        words(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn splits_like_bert() {
        assert_eq!(
            texts("C++, Node.js & end-to-end"),
            ["C", "+", "+", ",", "Node", ".", "js", "&", "end", "-", "to", "-", "end"]
        );
        assert_eq!(
            texts("数据分析 with SQL"),
            ["数", "据", "分", "析", "with", "SQL"]
        );
        assert_eq!(texts("naïve café"), ["naïve", "café"]);
        assert_eq!(
            texts("a\u{0}b \u{200B} x"),
            ["a\u{0}b", "x"],
            "control and format characters vanish"
        );
        assert!(texts("").is_empty());
        assert!(texts(" \t\n ").is_empty());
    }

    #[test]
    fn join_keeps_word_ranges() {
        let (text, ranges) = join(&["Über", "", "C++"]);
        assert_eq!(text, "Über  C++");
        assert_eq!(ranges, [0..5, 6..6, 7..10]);
        assert_eq!(join(&[]), (String::new(), vec![]));
    }

    proptest! {
        #[test]
        fn word_invariants(text in "\\PC{0,60}") {
            let ws = words(&text);
            let mut last = 0;
            for w in &ws {
                prop_assert!(w.start < w.end && w.end <= text.len() && w.start >= last);
                prop_assert!(text.is_char_boundary(w.start) && text.is_char_boundary(w.end));
                prop_assert!(!text[w.clone()].chars().any(char::is_whitespace));
                last = w.end;
            }
        }
    }
}
