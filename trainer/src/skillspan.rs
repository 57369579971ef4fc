//! Reader for BIO-tagged CoNLL files with one or more tag columns:
//! SkillSpan (Zhang et al., NAACL 2022), `token \t Skill-tag \t
//! Knowledge-tag`, and Green et al. (LREC 2022) in NNOSE's release,
//! `token \t Skill-tag`; a blank line between sentences.
//!
//! RoleMapper's `SKILL` is the union of the tag columns (for SkillSpan,
//! Skill ∪ Knowledge): the spans of every column are pooled, and
//! overlapping spans are merged into their outer extent (a span of one
//! column inside a span of the other keeps the outer one).

use skills::bio::{tags_to_spans, Tag};
use std::ops::Range;

/// One sentence: its tokens and merged `SKILL` spans (token ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub tokens: Vec<String>,
    pub spans: Vec<Range<usize>>,
}

/// Parses a SkillSpan file (two tag columns); see [`parse_columns`].
pub fn parse(text: &str) -> (Vec<Sentence>, usize) {
    parse_columns(text, 2)
}

/// Parses a CoNLL file whose lines are a token and `tag_columns` BIO tags.
/// Returns the sentences and the number of malformed lines (not
/// `1 + tag_columns` tab-separated columns, or an unknown tag), which are
/// skipped or read as `O`.
pub fn parse_columns(text: &str, tag_columns: usize) -> (Vec<Sentence>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    let mut tokens = Vec::new();
    let mut columns: Vec<Vec<Tag>> = vec![Vec::new(); tag_columns];
    let mut flush = |tokens: &mut Vec<String>, columns: &mut [Vec<Tag>]| {
        if !tokens.is_empty() {
            let spans = columns
                .iter()
                .fold(Vec::new(), |acc, c| merge(&acc, &tags_to_spans(c)));
            out.push(Sentence {
                tokens: std::mem::take(tokens),
                spans,
            });
        }
        columns.iter_mut().for_each(Vec::clear);
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut tokens, &mut columns);
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 1 + tag_columns || cols[0].is_empty() {
            bad += 1;
            continue;
        }
        let mut ok = true;
        for (column, label) in columns.iter_mut().zip(&cols[1..]) {
            let (t, known) = tag(label);
            ok &= known;
            column.push(t);
        }
        bad += usize::from(!ok);
        tokens.push(cols[0].to_owned());
    }
    flush(&mut tokens, &mut columns);
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
    fn one_tag_column() {
        let conll = "ability\tB-Skill\nto\tI-Skill\nprioritise\tI-Skill\n.\tO\n\nExcel\tB-Skill\nWord\tB-Skill\nthree\tcolumns\tO\n";
        let (sents, bad) = parse_columns(conll, 1);
        assert_eq!(bad, 1, "a SkillSpan line in a one-column file is malformed");
        assert_eq!(sents.len(), 2);
        assert_eq!(sents[0].spans, vec![0..3]);
        assert_eq!(sents[1].spans, vec![0..1, 1..2]);
        assert_eq!(parse_columns("", 1), (vec![], 0));
    }

    #[test]
    fn crossing_spans_merge_into_union() {
        assert_eq!(merge(&[0..3], &[2..5]), vec![0..5]);
        assert_eq!(merge(&[], &[]), Vec::<Range<usize>>::new());
    }
}
