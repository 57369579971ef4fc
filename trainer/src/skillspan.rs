//! Reader for SkillSpan (Zhang et al., NAACL 2022) CoNLL files:
//! `token \t Skill-tag \t Knowledge-tag`, a blank line between sentences.
//!
//! RoleMapper's `SKILL` is Skill ∪ Knowledge: the spans of both columns are
//! pooled, and overlapping spans are merged into their outer extent (a span
//! of one column inside a span of the other keeps the outer one).

use skills::bio::{tags_to_spans, Tag};
use std::ops::Range;

/// One sentence: its tokens and merged `SKILL` spans (token ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub tokens: Vec<String>,
    pub spans: Vec<Range<usize>>,
}

/// Parses a CoNLL file. Returns the sentences and the number of malformed
/// lines (not three tab-separated columns, or an unknown tag), which are
/// skipped or read as `O`.
pub fn parse(text: &str) -> (Vec<Sentence>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    let (mut tokens, mut skill, mut knowledge) = (Vec::new(), Vec::new(), Vec::new());
    let mut flush = |tokens: &mut Vec<String>, skill: &mut Vec<Tag>, knowledge: &mut Vec<Tag>| {
        if !tokens.is_empty() {
            out.push(Sentence {
                tokens: std::mem::take(tokens),
                spans: merge(&tags_to_spans(skill), &tags_to_spans(knowledge)),
            });
        }
        skill.clear();
        knowledge.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut tokens, &mut skill, &mut knowledge);
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 3 || cols[0].is_empty() {
            bad += 1;
            continue;
        }
        let (s, ok_s) = tag(cols[1]);
        let (k, ok_k) = tag(cols[2]);
        bad += usize::from(!(ok_s && ok_k));
        tokens.push(cols[0].to_owned());
        skill.push(s);
        knowledge.push(k);
    }
    flush(&mut tokens, &mut skill, &mut knowledge);
    (out, bad)
}

fn tag(label: &str) -> (Tag, bool) {
    match label.split_once('-') {
        _ if label == "O" => (Tag::O, true),
        Some(("B", _)) => (Tag::B, true),
        Some(("I", _)) => (Tag::I, true),
        _ => (Tag::O, false),
    }
}

/// Pools two span lists and merges overlapping spans into their union.
/// Touching spans (one ends where the next starts) stay apart.
fn merge(a: &[Range<usize>], b: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut all: Vec<Range<usize>> = a.iter().chain(b).cloned().collect();
    all.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out: Vec<Range<usize>> = Vec::new();
    for s in all {
        match out.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_columns_keeping_outer_spans() {
        let conll = "implementing\tB-Skill\tO\nall\tI-Skill\tO\nQA\tI-Skill\tB-Knowledge\ntopics\tI-Skill\tO\non\tO\tO\n\n\
                     Java\tO\tB-Knowledge\nSQL\tO\tB-Knowledge\nbroken line\nx\tB-Skill\tweird\n\n";
        let (sents, bad) = parse(conll);
        assert_eq!(bad, 2);
        assert_eq!(sents.len(), 2);
        assert_eq!(
            sents[0].spans,
            vec![0..4],
            "QA inside the Skill span: outer kept"
        );
        assert_eq!(sents[1].tokens, ["Java", "SQL", "x"]);
        assert_eq!(
            sents[1].spans,
            vec![0..1, 1..2, 2..3],
            "adjacent spans stay apart"
        );
    }

    #[test]
    fn crossing_spans_merge_into_union() {
        assert_eq!(merge(&[0..3], &[2..5]), vec![0..5]);
        assert_eq!(merge(&[], &[]), Vec::<Range<usize>>::new());
    }
}
