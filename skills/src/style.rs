//! Which kind of text the tagger reads: a CV or a job post.
//!
//! The human-labelled corpora follow different annotation guidelines (CVs
//! label short tool and skill names, job posts longer clause-like phrases),
//! so a tagger may be trained with a *style marker*: a vocabulary token put
//! right after `[CLS]` in every sentence ([`crate::encode::WordPieces::encode_marked`])
//! that says which kind of text the sentence comes from. A model trained so
//! names its markers in [`crate::model::TaggerConfig::styles`]; one trained
//! without them ignores the style.
//!
//! When the caller does not know the kind of text ([`StyleChoice::Auto`]),
//! [`StyleDetector`] tells it from the words: a naive Bayes log-count ratio
//! over the words a text contains, learned from the training corpora
//! ([`StyleDetector::fit`]) and carried in the model's config.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A kind of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// A job post (SkillSpan's and Green et al.'s guidelines).
    Job,
    /// A CV (Dotin's guidelines).
    Cv,
}

impl Style {
    pub const ALL: [Style; 2] = [Style::Job, Style::Cv];

    pub fn as_str(self) -> &'static str {
        match self {
            Style::Job => "job",
            Style::Cv => "cv",
        }
    }
}

impl std::fmt::Display for Style {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the caller asks for: a known kind of text, or [`StyleChoice::Auto`]
/// to let the detector decide from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StyleChoice {
    #[default]
    Auto,
    Job,
    Cv,
}

impl StyleChoice {
    /// The style asked for, if it is not `Auto`.
    pub fn fixed(self) -> Option<Style> {
        match self {
            StyleChoice::Auto => None,
            StyleChoice::Job => Some(Style::Job),
            StyleChoice::Cv => Some(Style::Cv),
        }
    }
}

impl std::str::FromStr for StyleChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(StyleChoice::Auto),
            "job" => Ok(StyleChoice::Job),
            "cv" => Ok(StyleChoice::Cv),
            _ => Err(format!("unknown style {s:?}: use auto, job or cv")),
        }
    }
}

/// Tells CVs from job posts by the words they contain.
///
/// `score(text) = bias + Σ weight(w)` over the distinct folded words `w` of
/// the text that have a weight; a positive score means CV. Weights are
/// naive Bayes log-count ratios of the fraction of CV and of job documents
/// that contain the word (add-one smoothed), for the `top` words whose
/// ratios are largest in size among those seen in at least `min_docs`
/// documents; `bias` is the log ratio of the two classes' sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StyleDetector {
    pub bias: f32,
    pub weights: BTreeMap<String, f32>,
}

/// The words a detector looks at: runs of letters (any script) of at most
/// 24 characters, lowercased by `f` (which gets the lowercase form; ASCII
/// words are lowercased into one reused buffer, others by
/// `str::to_lowercase`, whose result is the same for ASCII).
fn each_feature(text: &str, mut f: impl FnMut(&str)) {
    let mut buf = String::new();
    for w in text.split(|c: char| !c.is_alphabetic()) {
        if w.is_empty() {
            continue;
        }
        if w.is_ascii() {
            if w.len() <= 24 {
                buf.clear();
                buf.push_str(w);
                buf.make_ascii_lowercase();
                f(&buf);
            }
        } else if w.chars().count() <= 24 {
            f(&w.to_lowercase());
        }
    }
}

/// The distinct words a detector looks at.
fn features(text: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    each_feature(text, |w| {
        if !set.contains(w) {
            set.insert(w.to_owned());
        }
    });
    set
}

impl StyleDetector {
    /// Learns a detector from labelled documents.
    pub fn fit<'a>(
        docs: impl IntoIterator<Item = (Style, &'a str)>,
        top: usize,
        min_docs: usize,
    ) -> Self {
        let mut counts: BTreeMap<String, [u32; 2]> = BTreeMap::new();
        let mut n = [0u32; 2];
        for (style, text) in docs {
            let k = usize::from(style == Style::Cv);
            n[k] += 1;
            for w in features(text) {
                counts.entry(w).or_default()[k] += 1;
            }
        }
        let ratio = |c: [u32; 2]| {
            let p_cv = (f64::from(c[1]) + 1.0) / (f64::from(n[1]) + 2.0);
            let p_job = (f64::from(c[0]) + 1.0) / (f64::from(n[0]) + 2.0);
            (p_cv / p_job).ln()
        };
        let mut scored: Vec<(String, f64)> = counts
            .into_iter()
            .filter(|(_, c)| (c[0] + c[1]) as usize >= min_docs)
            .map(|(w, c)| (w, ratio(c)))
            .collect();
        // Largest ratios first; ties by word, so the table is deterministic.
        scored.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(top);
        let bias = ((f64::from(n[1]) + 1.0) / (f64::from(n[0]) + 1.0)).ln();
        Self {
            bias: bias as f32,
            // Rounded so that the table reads the same wherever it is written.
            weights: scored
                .into_iter()
                .map(|(w, r)| (w, ((r * 1e4).round() / 1e4) as f32))
                .collect(),
        }
    }

    /// The detector's score of `text`: above 0 reads as a CV.
    ///
    /// The weights of the distinct words found, summed in the words' order
    /// (as a set of all the text's words would give them), without a copy
    /// of each word: the browser scores the whole text at every keystroke.
    pub fn score(&self, text: &str) -> f32 {
        let mut found: BTreeMap<&str, f32> = BTreeMap::new();
        each_feature(text, |w| {
            if let Some((key, &weight)) = self.weights.get_key_value(w) {
                found.insert(key, weight);
            }
        });
        self.bias + found.values().sum::<f32>()
    }

    /// The kind of text `text` reads as.
    pub fn detect(&self, text: &str) -> Style {
        if self.score(text) > 0.0 {
            Style::Cv
        } else {
            Style::Job
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> StyleDetector {
        let docs = [
            (
                Style::Cv,
                "I managed a team. My skills: Python, SQL. Education: BSc 2015 - 2019",
            ),
            (
                Style::Cv,
                "Experience 2018 - 2021 I built dashboards. My projects used Excel",
            ),
            (
                Style::Cv,
                "Education MSc. I led sales; my languages: English",
            ),
            (
                Style::Job,
                "You will join our team. We are looking for a candidate with SQL",
            ),
            (
                Style::Job,
                "The successful candidate will have Excel skills. You must apply",
            ),
            (
                Style::Job,
                "We offer a salary. You will report to our manager",
            ),
        ];
        StyleDetector::fit(docs, 50, 2)
    }

    #[test]
    fn learns_the_cues_of_each_kind() {
        let d = detector();
        assert!(d.weights["my"] > 0.0 && d.weights["you"] < 0.0);
        assert!(
            !d.weights.contains_key("python"),
            "seen once: below min_docs"
        );
        assert_eq!(d.detect("My education: I studied in 2019"), Style::Cv);
        assert_eq!(
            d.detect("You will work with our team, candidate"),
            Style::Job
        );
    }

    #[test]
    fn empty_and_unknown_text_fall_back_on_the_prior() {
        let d = detector();
        assert_eq!(d.score(""), d.bias);
        assert_eq!(d.score("日本語 😀 1234"), d.bias);
        assert_eq!(
            d.detect(""),
            Style::Job,
            "equal classes: bias 0 reads as a job post"
        );
    }

    #[test]
    fn scores_are_the_sums_over_the_set_of_folded_words() {
        // The definition: the weights of the distinct lowercase words, in
        // their order (bit for bit, as the score is compared with 0).
        let d = detector();
        let texts = [
            "My skills: Python, SQL. MY team; my TEAM. Education 2019",
            "You will join OUR team — Σύνοψη ΣΟΦΊΑ İstanbul straße STRASSE",
            "abcdefghijklmnopqrstuvwxyzab candidate candidates, you, YOU",
            "Ἀθῆναι ǅemal ﬁnance 日本語 you",
        ];
        for text in texts {
            let reference = d.bias
                + features_reference(text)
                    .iter()
                    .filter_map(|w| d.weights.get(w))
                    .sum::<f32>();
            assert_eq!(d.score(text).to_bits(), reference.to_bits(), "{text}");
            assert_eq!(features(text), features_reference(text), "{text}");
        }
    }

    fn features_reference(text: &str) -> BTreeSet<String> {
        text.split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty() && w.chars().count() <= 24)
            .map(str::to_lowercase)
            .collect()
    }

    #[test]
    fn fitting_is_deterministic_and_round_trips() {
        let a = detector();
        assert_eq!(a, detector());
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<StyleDetector>(&json).unwrap(), a);
    }

    #[test]
    fn choices_parse() {
        assert_eq!("cv".parse::<StyleChoice>(), Ok(StyleChoice::Cv));
        assert_eq!("auto".parse::<StyleChoice>().unwrap().fixed(), None);
        assert!("CV!".parse::<StyleChoice>().is_err());
    }
}
