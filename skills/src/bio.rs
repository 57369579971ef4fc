//! BIO tags over words, and the conversions between tags and spans.
//!
//! RoleMapper has one entity type, `SKILL`, so the tag set is `O`,
//! `B-SKILL`, `I-SKILL`. `B` starts every span, which keeps two adjacent
//! skills ("Python SQL") apart.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// One word's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tag {
    #[serde(rename = "O")]
    O,
    #[serde(rename = "B-SKILL")]
    B,
    #[serde(rename = "I-SKILL")]
    I,
}

impl Tag {
    /// The labels in the order of the tagger's output classes.
    pub const ALL: [Tag; 3] = [Tag::O, Tag::B, Tag::I];

    /// The tag's label as written in datasets and CoNLL output.
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::O => "O",
            Tag::B => "B-SKILL",
            Tag::I => "I-SKILL",
        }
    }

    /// Index of the tag among [`Tag::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the word is part of a skill.
    pub fn is_skill(self) -> bool {
        self != Tag::O
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label that is not one of `O`, `B-SKILL`, `I-SKILL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tag {0:?}: expected O, B-SKILL or I-SKILL")]
pub struct UnknownTag(pub String);

impl FromStr for Tag {
    type Err = UnknownTag;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "O" => Ok(Tag::O),
            "B-SKILL" => Ok(Tag::B),
            "I-SKILL" => Ok(Tag::I),
            _ => Err(UnknownTag(s.to_owned())),
        }
    }
}

/// Word ranges of the spans that `tags` encode. An `I` that follows `O` (or
/// starts the sequence) opens a span, as in the CoNLL evaluation script, so
/// no tagged word is ever lost.
pub fn tags_to_spans(tags: &[Tag]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut open: Option<usize> = None;
    for (i, &t) in tags.iter().enumerate() {
        match t {
            Tag::O => {
                if let Some(s) = open.take() {
                    spans.push(s..i);
                }
            }
            Tag::B => {
                if let Some(s) = open.replace(i) {
                    spans.push(s..i);
                }
            }
            Tag::I => {
                open.get_or_insert(i);
            }
        }
    }
    if let Some(s) = open {
        spans.push(s..tags.len());
    }
    spans
}

/// Tags for `n` words with the given word-range spans. Spans must be sorted,
/// disjoint, non-empty and within `0..n`; otherwise the call answers
/// `None`.
pub fn spans_to_tags(n: usize, spans: &[Range<usize>]) -> Option<Vec<Tag>> {
    let mut tags = vec![Tag::O; n];
    let mut last_end = 0;
    for s in spans {
        if s.is_empty() || s.start < last_end || s.end > n {
            return None;
        }
        tags[s.start] = Tag::B;
        tags[s.start + 1..s.end].fill(Tag::I);
        last_end = s.end;
    }
    Some(tags)
}

/// Projects byte-range spans onto words: a span covers every word it
/// overlaps, so a span that starts or ends inside a word grows to the whole
/// word. Spans that touch no word are dropped, and spans that end up
/// sharing a word are merged (the outer extent is kept).
///
/// `words` must be sorted and disjoint (as [`crate::words::words`] returns).
pub fn project_spans(words: &[Range<usize>], spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut sorted: Vec<&Range<usize>> = spans.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| (s.start, s.end));
    for s in sorted {
        let first = words.partition_point(|w| w.end <= s.start);
        let last = words.partition_point(|w| w.start < s.end);
        if first >= last {
            continue;
        }
        match out.last_mut() {
            Some(prev) if prev.end > first => prev.end = prev.end.max(last),
            _ => out.push(first..last),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tag::{B, I, O};

    const NONE: Vec<Range<usize>> = Vec::new();

    #[test]
    fn spans_from_tags() {
        assert_eq!(tags_to_spans(&[]), NONE);
        assert_eq!(tags_to_spans(&[O, O]), NONE);
        assert_eq!(tags_to_spans(&[B, I, O, B, B, I]), vec![0..2, 3..4, 4..6]);
        assert_eq!(
            tags_to_spans(&[I, I, O, I]),
            vec![0..2, 3..4],
            "I after O opens a span"
        );
        assert_eq!(tags_to_spans(&[O, B]), vec![1..2], "a span at the very end");
    }

    #[test]
    fn tags_from_spans_round_trip() {
        let tags = spans_to_tags(6, &[0..2, 3..4, 4..6]).unwrap();
        assert_eq!(tags, vec![B, I, O, B, B, I]);
        assert_eq!(tags_to_spans(&tags), vec![0..2, 3..4, 4..6]);
        assert_eq!(spans_to_tags(3, &[1..4]), None, "out of bounds");
        assert_eq!(spans_to_tags(3, &[1..2, 0..1]), None, "unsorted");
        assert_eq!(spans_to_tags(3, &[1..1]), None, "empty");
        assert_eq!(spans_to_tags(0, &[]), Some(vec![]));
    }

    #[test]
    fn labels_parse_and_print() {
        for t in Tag::ALL {
            assert_eq!(t.as_str().parse::<Tag>(), Ok(t));
            assert_eq!(Tag::ALL[t.index()], t);
        }
        assert!("B-Skill".parse::<Tag>().is_err());
        assert_eq!(serde_json::to_string(&B).unwrap(), "\"B-SKILL\"");
    }

    #[test]
    fn projection_grows_to_words_and_merges() {
        // "Java SQL Server, Excel"
        let words = [0..4, 5..8, 9..15, 15..16, 17..22];
        assert_eq!(project_spans(&words, &[5..15]), vec![1..3]);
        assert_eq!(
            project_spans(&words, &[6..10]),
            vec![1..3],
            "partial words grow"
        );
        assert_eq!(
            project_spans(&words, &[17..22, 0..4]),
            vec![0..1, 4..5],
            "sorted"
        );
        assert_eq!(
            project_spans(&words, &[0..6, 5..8]),
            vec![0..2],
            "sharing a word merges"
        );
        assert_eq!(
            project_spans(&words, &[4..5, 16..17, 3..3]),
            NONE,
            "gaps and empties vanish"
        );
        assert_eq!(project_spans(&[], &[0..3]), NONE);
    }
}
