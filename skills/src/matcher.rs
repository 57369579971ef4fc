//! The phrase matcher: finds lexicon phrases in text, case-insensitively,
//! on whole words, leftmost-longest, with every match's byte and word range.
//!
//! Text and phrases are both turned into the same form—each word
//! [`fold`]ed and wrapped in one space on each side (see [`phrase_key`])—and
//! searched with one Aho-Corasick automaton. Because a key starts and ends
//! with a space that no folded word contains, a match can only begin and end
//! on word boundaries; because neighbouring words do not share their spaces,
//! two phrases can match side by side ("Python SQL" → two skills).

use crate::bio::{spans_to_tags, Tag};
use crate::lexicon::{phrase_keys, ConceptId, Lexicon};
use crate::text::fold;
use crate::words::words;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashSet;
use std::ops::Range;

/// One phrase found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseMatch {
    /// Range of words (indices into the word list the search used).
    pub words: Range<usize>,
    /// Byte range in the text: from the first word's start to the last word's end.
    pub bytes: Range<usize>,
    /// The concept the phrase belongs to.
    pub concept: ConceptId,
}

/// A compiled set of phrases.
#[derive(Debug, Clone)]
pub struct PhraseMatcher {
    automaton: AhoCorasick,
    /// Concept of each automaton pattern.
    concepts: Vec<ConceptId>,
}

/// The phrases could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the phrase automaton: {0}")]
pub struct MatcherError(#[from] aho_corasick::BuildError);

impl PhraseMatcher {
    /// Compiles `(phrase, concept)` pairs. A phrase whose key was already
    /// given keeps its first concept; phrases without a key are skipped.
    pub fn new<'a>(
        phrases: impl IntoIterator<Item = (&'a str, ConceptId)>,
    ) -> Result<Self, MatcherError> {
        let (texts, ids): (Vec<&str>, Vec<ConceptId>) = phrases.into_iter().unzip();
        let mut seen = HashSet::new();
        let mut patterns = Vec::new();
        let mut concepts = Vec::new();
        for (key, concept) in phrase_keys(&texts).into_iter().zip(ids) {
            if let Some(key) = key {
                if seen.insert(key.clone()) {
                    patterns.push(key);
                    concepts.push(concept);
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)?;
        Ok(Self {
            automaton,
            concepts,
        })
    }

    /// Compiles every surface form of `lexicon` whose concept `keep` accepts.
    pub fn from_lexicon(
        lexicon: &Lexicon,
        keep: impl Fn(ConceptId) -> bool,
    ) -> Result<Self, MatcherError> {
        Self::new(lexicon.surface_forms().filter(|&(_, c)| keep(c)))
    }

    /// Number of distinct phrases compiled.
    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    /// Whether no phrase was compiled.
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// Finds phrases in `text`, splitting it into words first.
    pub fn find(&self, text: &str) -> Vec<PhraseMatch> {
        self.find_in_words(text, &words(text))
    }

    /// Finds phrases in `text` whose words are `words` (sorted, disjoint byte
    /// ranges, as [`words`] returns; SkillSpan's given tokens work too).
    /// Matches are sorted, disjoint and non-empty.
    pub fn find_in_words(&self, text: &str, words: &[Range<usize>]) -> Vec<PhraseMatch> {
        let mut haystack = String::with_capacity(text.len() + 2 * words.len());
        let mut starts = Vec::with_capacity(words.len());
        let mut ends = Vec::with_capacity(words.len());
        for w in words {
            starts.push(haystack.len());
            haystack.push(' ');
            haystack.push_str(&fold(&text[w.clone()]));
            haystack.push(' ');
            ends.push(haystack.len());
        }
        self.automaton
            .find_iter(&haystack)
            .filter_map(|m| {
                // Keys start and end with a wrapping space, so these always hit.
                let first = starts.binary_search(&m.start()).ok()?;
                let last = ends.binary_search(&m.end()).ok()?;
                Some(PhraseMatch {
                    words: first..last + 1,
                    bytes: words[first].start..words[last].end,
                    concept: self.concepts[m.pattern().as_usize()],
                })
            })
            .collect()
    }

    /// The concept of `phrase` when the whole phrase (not just a part of it)
    /// is one compiled phrase: how spans are linked to canonical names.
    pub fn lookup(&self, phrase: &str) -> Option<ConceptId> {
        let ws = words(phrase);
        match self.find_in_words(phrase, &ws).as_slice() {
            [m] if m.words == (0..ws.len()) => Some(m.concept),
            _ => None,
        }
    }

    /// BIO tags for `words` of `text`: the matcher as a tagger.
    pub fn tag_words(&self, text: &str, words: &[Range<usize>]) -> Vec<Tag> {
        let spans: Vec<_> = self
            .find_in_words(text, words)
            .into_iter()
            .map(|m| m.words)
            .collect();
        spans_to_tags(words.len(), &spans).expect("matches are sorted, disjoint and in bounds")
    }
}

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn matcher() -> PhraseMatcher {
        PhraseMatcher::new([
            ("Python", 0),
            ("SQL", 1),
            ("SQL Server", 2),
            ("machine learning", 3),
            ("C++", 4),
            ("Node.js", 5),
            ("java", 6),
            ("JavaScript", 7),
            ("python", 9), // duplicate key: keeps concept 0
        ])
        .unwrap()
    }

    fn found(text: &str) -> Vec<(&str, ConceptId)> {
        matcher()
            .find(text)
            .into_iter()
            .map(|m| (&text[m.bytes], m.concept))
            .collect()
    }

    #[test]
    fn whole_words_case_insensitive_leftmost_longest() {
        assert_eq!(matcher().len(), 8);
        assert_eq!(
            found("PYTHON, sql server and Machine  Learning."),
            [("PYTHON", 0), ("sql server", 2), ("Machine  Learning", 3)]
        );
        assert_eq!(
            found("JavaScript is not java"),
            [("JavaScript", 7), ("java", 6)]
        );
        assert_eq!(found("pythonic sqlite"), [], "no partial words");
        assert_eq!(found("C++/Node.js"), [("C++", 4), ("Node.js", 5)]);
        assert_eq!(
            found("Python SQL"),
            [("Python", 0), ("SQL", 1)],
            "adjacent phrases stay apart"
        );
        assert_eq!(
            found("ＰＹＴＨＯＮ"),
            [("ＰＹＴＨＯＮ", 0)],
            "compatibility forms fold"
        );
        assert_eq!(found(""), []);
    }

    #[test]
    fn word_ranges_and_tags() {
        let text = "Use SQL Server daily";
        let ws = words(text);
        let m = matcher().find_in_words(text, &ws);
        assert_eq!(
            m,
            [PhraseMatch {
                words: 1..3,
                bytes: 4..14,
                concept: 2
            }]
        );
        assert_eq!(
            matcher().tag_words(text, &ws),
            [Tag::O, Tag::B, Tag::I, Tag::O]
        );
    }

    #[test]
    fn lookup_needs_the_whole_phrase() {
        assert_eq!(matcher().lookup("sql  SERVER"), Some(2));
        assert_eq!(matcher().lookup("sql server skills"), None);
        assert_eq!(matcher().lookup(""), None);
    }

    #[test]
    fn empty_matcher_finds_nothing() {
        let m = PhraseMatcher::new([]).unwrap();
        assert!(m.is_empty());
        assert!(m.find("anything at all").is_empty());
    }

    proptest! {
        #[test]
        fn matches_are_sorted_disjoint_on_words(text in "(\\PC|python|sql|server| |,|\\+){0,40}") {
            let ws = words(&text);
            let ms = matcher().find_in_words(&text, &ws);
            let mut last = 0;
            for m in &ms {
                prop_assert!(m.words.start >= last && m.words.start < m.words.end && m.words.end <= ws.len());
                prop_assert_eq!(m.bytes.clone(), ws[m.words.start].start..ws[m.words.end - 1].end);
                last = m.words.end;
            }
        }
    }
}
