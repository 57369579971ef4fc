//! Precision, recall and F1 for skill spans, three ways.
//!
//! - **strict span** (the headline): a predicted span is correct only if a
//!   gold span has exactly the same start and end.
//! - **overlap**: precision counts predicted spans that overlap some gold
//!   span, recall counts gold spans that overlap some predicted span.
//! - **token**: every word is a binary decision, inside a skill (`B` or `I`)
//!   or not; boundaries between adjacent spans are ignored.
//!
//! All three are micro-averaged: counts are summed over sentences before
//! the ratios are taken. A ratio with a zero denominator is 0, except that
//! a metric over no gold and no predictions at all is a perfect 1.

use crate::bio::{tags_to_spans, Tag};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Raw counts behind one precision/recall pair.
///
/// `pred_correct` and `gold_found` differ only for the overlap metric,
/// where one predicted span can cover two gold spans or the reverse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Predictions judged correct.
    pub pred_correct: u64,
    /// Predictions made.
    pub pred: u64,
    /// Gold items found.
    pub gold_found: u64,
    /// Gold items.
    pub gold: u64,
}

/// Precision, recall and F1 in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: Counts) {
        self.pred_correct += other.pred_correct;
        self.pred += other.pred;
        self.gold_found += other.gold_found;
        self.gold += other.gold;
    }

    /// The ratios of these counts.
    pub fn prf(&self) -> Prf {
        if self.pred == 0 && self.gold == 0 {
            return Prf {
                precision: 1.0,
                recall: 1.0,
                f1: 1.0,
            };
        }
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.pred_correct, self.pred);
        let recall = ratio(self.gold_found, self.gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// Strict span counts for one sentence. Duplicate spans count once.
pub fn strict_counts(gold: &[Range<usize>], pred: &[Range<usize>]) -> Counts {
    let gold = dedup(gold);
    let pred = dedup(pred);
    let hits = pred
        .iter()
        .filter(|p| {
            gold.binary_search_by_key(&(p.start, p.end), |g| (g.start, g.end))
                .is_ok()
        })
        .count() as u64;
    Counts {
        pred_correct: hits,
        pred: pred.len() as u64,
        gold_found: hits,
        gold: gold.len() as u64,
    }
}

/// Overlap counts for one sentence.
pub fn overlap_counts(gold: &[Range<usize>], pred: &[Range<usize>]) -> Counts {
    let overlaps = |a: &Range<usize>, b: &Range<usize>| a.start < b.end && b.start < a.end;
    let gold = dedup(gold);
    let pred = dedup(pred);
    Counts {
        pred_correct: pred
            .iter()
            .filter(|p| gold.iter().any(|g| overlaps(p, g)))
            .count() as u64,
        pred: pred.len() as u64,
        gold_found: gold
            .iter()
            .filter(|g| pred.iter().any(|p| overlaps(p, g)))
            .count() as u64,
        gold: gold.len() as u64,
    }
}

/// Token counts for one sentence; `gold` and `pred` tag the same words.
///
/// # Panics
/// If the two sequences differ in length: that is a bug in the caller.
pub fn token_counts(gold: &[Tag], pred: &[Tag]) -> Counts {
    assert_eq!(
        gold.len(),
        pred.len(),
        "gold and predicted tags must cover the same words"
    );
    let both = gold
        .iter()
        .zip(pred)
        .filter(|(g, p)| g.is_skill() && p.is_skill())
        .count() as u64;
    let pred_n = pred.iter().filter(|t| t.is_skill()).count() as u64;
    let gold_n = gold.iter().filter(|t| t.is_skill()).count() as u64;
    Counts {
        pred_correct: both,
        pred: pred_n,
        gold_found: both,
        gold: gold_n,
    }
}

fn dedup(spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut v = spans.to_vec();
    v.sort_by_key(|s| (s.start, s.end));
    v.dedup();
    v
}

/// Running totals of all three metrics over many sentences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    pub strict: Counts,
    pub overlap: Counts,
    pub token: Counts,
    /// Sentences scored.
    pub sentences: u64,
}

impl Scores {
    /// Scores one sentence given as word tags.
    pub fn add_tags(&mut self, gold: &[Tag], pred: &[Tag]) {
        let (g, p) = (tags_to_spans(gold), tags_to_spans(pred));
        self.strict.add(strict_counts(&g, &p));
        self.overlap.add(overlap_counts(&g, &p));
        self.token.add(token_counts(gold, pred));
        self.sentences += 1;
    }

    /// Adds another set of totals.
    pub fn merge(&mut self, other: &Scores) {
        self.strict.add(other.strict);
        self.overlap.add(other.overlap);
        self.token.add(other.token);
        self.sentences += other.sentences;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tag::{B, I, O};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn strict_needs_both_ends() {
        let c = strict_counts(&[0..2, 5..6], &[0..2, 4..6, 8..9]);
        assert_eq!(
            c,
            Counts {
                pred_correct: 1,
                pred: 3,
                gold_found: 1,
                gold: 2
            }
        );
        let prf = c.prf();
        assert!(close(prf.precision, 1.0 / 3.0) && close(prf.recall, 0.5) && close(prf.f1, 0.4));
    }

    #[test]
    fn overlap_counts_each_side() {
        // One long prediction covering two gold spans.
        let c = overlap_counts(&[0..1, 2..3], &[0..3]);
        assert_eq!(
            c,
            Counts {
                pred_correct: 1,
                pred: 1,
                gold_found: 2,
                gold: 2
            }
        );
        // Touching is not overlapping (half-open ranges).
        assert_eq!(overlap_counts(&[0..2], &[2..4]).pred_correct, 0);
    }

    #[test]
    fn token_level_ignores_boundaries() {
        // gold: one span of 3 words; pred: B B I — same words, different spans.
        let c = token_counts(&[B, I, I, O], &[B, B, I, O]);
        assert_eq!(
            c,
            Counts {
                pred_correct: 3,
                pred: 3,
                gold_found: 3,
                gold: 3
            }
        );
        let mut s = Scores::default();
        s.add_tags(&[B, I, I, O], &[B, B, I, O]);
        assert_eq!(s.strict.prf().f1, 0.0);
        assert_eq!(s.token.prf().f1, 1.0);
        assert_eq!(s.overlap.prf().f1, 1.0);
    }

    #[test]
    fn i_after_o_is_a_span() {
        let mut s = Scores::default();
        s.add_tags(&[O, B, I], &[O, I, I]);
        assert_eq!(s.strict.prf().f1, 1.0);
    }

    #[test]
    fn empty_sets() {
        assert_eq!(
            strict_counts(&[], &[]).prf().f1,
            1.0,
            "nothing to find, nothing found"
        );
        let p = strict_counts(&[], &[0..1]).prf();
        assert_eq!((p.precision, p.recall, p.f1), (0.0, 0.0, 0.0));
        let p = strict_counts(&[0..1], &[]).prf();
        assert_eq!((p.precision, p.recall, p.f1), (0.0, 0.0, 0.0));
        assert_eq!(Scores::default().strict.prf().f1, 1.0);
    }

    #[test]
    fn duplicates_count_once_and_totals_are_micro() {
        assert_eq!(
            strict_counts(&[0..1, 0..1], &[0..1, 0..1]),
            Counts {
                pred_correct: 1,
                pred: 1,
                gold_found: 1,
                gold: 1
            }
        );
        let mut a = Scores::default();
        a.add_tags(&[B, O], &[B, O]); // 1/1
        a.add_tags(&[B, O, B, O, B], &[O, O, O, O, B]); // 1/1 pred, 1/3 gold
        let prf = a.strict.prf();
        assert!(close(prf.precision, 1.0) && close(prf.recall, 0.5));
        let mut b = Scores::default();
        b.merge(&a);
        assert_eq!(b, a);
    }
}
