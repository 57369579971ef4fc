//! The worker's side of highlighting: a [`Highlighter`] behind a
//! per-sentence cache, answering in UTF-16 offsets.
//!
//! As the user types, only the sentence being edited changes; every other
//! sentence is looked up by its exact text. A sentence's spans do not depend
//! on its neighbours ([`Highlighter::highlight_sentences`] tags each one on
//! its own), so cached and fresh results are the same.

use crate::protocol::Span;
use skills::bundle::{Bundle, BundleError};
use skills::highlight::{HighlightError, Highlighter, SkillSpan};
use skills::model::Compute;
use skills::offsets::OffsetMap;
use skills::roles::{Evidence, Ranking, RoleMatch, RoleModel};
use skills::style::{Style, StyleChoice};
use skills::text::SentenceSplitter;
use std::collections::HashMap;
use std::ops::Range;

/// Sub-words per model window (the model's training length).
pub const MAX_LEN: usize = 128;
/// Cached sentences kept before the least recently used are dropped.
const CACHE_CAPACITY: usize = 4096;

/// A sentence's spans, as byte ranges relative to the sentence's start,
/// and its evidence for role mapping once asked for.
#[derive(Clone)]
struct Cached {
    spans: Vec<(Range<usize>, Option<String>, f32)>,
    evidence: Option<Evidence>,
    last_used: u64,
}

/// The model and its sentence caches, one per style the sentences were
/// read in (a model without style markers has only `None`'s).
pub struct Engine {
    highlighter: Highlighter,
    splitter: SentenceSplitter,
    caches: HashMap<Option<Style>, HashMap<String, Cached>>,
    clock: u64,
}

/// The style a text was read in, its sentences, and how many were tagged.
type Tagging = (Option<Style>, Vec<Range<usize>>, usize);

/// What one [`Engine::highlight`] call did.
pub struct Highlighted {
    pub spans: Vec<Span>,
    /// Sentences in the text, and how many of them the model tagged.
    pub sentences: usize,
    pub tagged: usize,
}

impl Engine {
    /// Reads and verifies `bundle` and builds the highlighter.
    pub fn from_bundle(bundle: &[u8]) -> Result<(Self, String), BundleError> {
        Self::from_bundle_timed(bundle, &mut Vec::new())
    }

    /// [`Engine::from_bundle_timed`] without the file's checksum, which the
    /// caller computes itself (the browser's WebCrypto, see
    /// `loader::start_digest`) and must check with
    /// `skills::bundle::verify_digest` against the returned recorded one
    /// before the engine answers anything.
    pub fn from_bundle_unverified_timed(
        bundle: &[u8],
        steps: &mut Vec<(String, f64)>,
    ) -> Result<(Self, String, String), BundleError> {
        Self::build(bundle, false, steps)
    }

    /// [`Engine::from_bundle`], adding each step's milliseconds to `steps`
    /// (those of [`Bundle::highlighter_steps`], the bundle's as `bundle_*`:
    /// `bundle_header`, `bundle_tensors`, `bundle_checksum` when verified,
    /// `bundle_tokenizer`, `bundle_lexicon_linker`, `bundle_metadata`, then
    /// `tagger_build`).
    pub fn from_bundle_timed(
        bundle: &[u8],
        steps: &mut Vec<(String, f64)>,
    ) -> Result<(Self, String), BundleError> {
        Self::build(bundle, true, steps).map(|(engine, name, _)| (engine, name))
    }

    /// The engine, its bundle's name and its recorded checksum.
    fn build(
        bundle: &[u8],
        verify: bool,
        steps: &mut Vec<(String, f64)>,
    ) -> Result<(Self, String, String), BundleError> {
        let now = crate::service::now_ms;
        let mut t = now();
        let mut step = |name: &str| {
            let n = now();
            steps.push((name.to_owned(), n - t));
            t = n;
        };
        // The bundle's own steps as `bundle_*`, the highlighter's as it is.
        let mut named = |name: &str| match name {
            "tagger_build" => step(name),
            _ => step(&format!("bundle_{name}")),
        };
        let (highlighter, name, recorded) =
            Bundle::highlighter_steps(bundle, verify, MAX_LEN, Compute::Int8, &mut named)?;
        Ok((Self::new(highlighter), name, recorded))
    }

    pub fn new(highlighter: Highlighter) -> Self {
        Self {
            splitter: highlighter.splitter.clone(),
            highlighter,
            caches: HashMap::new(),
            clock: 0,
        }
    }

    /// The skills of `text` read as `choice` says: spans sorted, disjoint,
    /// in UTF-16 units.
    pub fn highlight(
        &mut self,
        text: &str,
        choice: StyleChoice,
    ) -> Result<Highlighted, HighlightError> {
        let (style, sentences, tagged) = self.tag(text, choice)?;
        let cache = self.caches.entry(style).or_default();
        let map = OffsetMap::new(text);
        let mut spans = Vec::new();
        for r in &sentences {
            let cached = cache
                .get(&text[r.clone()])
                .expect("every sentence was cached by tag");
            for (bytes, skill, score) in &cached.spans {
                let abs = bytes.start + r.start..bytes.end + r.start;
                let u = map
                    .bytes_to_utf16(abs)
                    .expect("spans lie on character boundaries");
                spans.push(Span {
                    start: u.start,
                    end: u.end,
                    skill: skill.clone(),
                    score: *score,
                });
            }
        }
        self.evict();
        Ok(Highlighted {
            spans,
            sentences: sentences.len(),
            tagged,
        })
    }

    /// The roles `text` fits (the first `top`) and, given an occupation's
    /// URI, its fit to that one: [`RoleModel::evidence_by_sentence`] and
    /// [`RoleModel::rank`] as `rolemapper roles` computes them, from the
    /// sentence cache (a sentence's evidence is found once, so a keystroke
    /// costs one sentence's evidence and the ranking).
    pub fn roles(
        &mut self,
        text: &str,
        choice: StyleChoice,
        model: &RoleModel,
        top: usize,
        fit: Option<&str>,
    ) -> Result<(Ranking, Option<RoleMatch>), HighlightError> {
        let (style, sentences, _) = self.tag(text, choice)?;
        let linker = self.highlighter.linker.as_ref();
        let cache = self.caches.entry(style).or_default();
        let mut evidence = Evidence::default();
        for r in &sentences {
            let sentence = &text[r.clone()];
            let cached = cache
                .get_mut(sentence)
                .expect("every sentence was cached by tag");
            let found = cached.evidence.get_or_insert_with(|| {
                let spans: Vec<SkillSpan> = cached
                    .spans
                    .iter()
                    .map(|(bytes, skill, score)| SkillSpan {
                        bytes: bytes.clone(),
                        skill: skill.clone(),
                        score: *score,
                    })
                    .collect();
                model.evidence(sentence, &spans, linker)
            });
            evidence.append(found, r.start);
        }
        self.evict();
        let ranking = model.rank(&evidence, top);
        let fit = fit.and_then(|uri| model.fit(&evidence, uri));
        Ok((ranking, fit))
    }

    /// Tags the sentences of `text` that are not cached (each once) and
    /// marks every sentence used: the style read, the sentences, and how
    /// many were tagged.
    fn tag(&mut self, text: &str, choice: StyleChoice) -> Result<Tagging, HighlightError> {
        self.clock += 1;
        let style = self.highlighter.style_of(text, choice);
        let sentences = self.splitter.split(text);
        let cache = self.caches.entry(style).or_default();
        let missing: Vec<Range<usize>> = sentences
            .iter()
            .filter(|r| !cache.contains_key(&text[(*r).clone()]))
            .cloned()
            .collect();
        // A sentence that occurs twice is tagged once.
        let mut unique: Vec<Range<usize>> = Vec::new();
        for r in missing {
            if !unique.iter().any(|u| text[u.clone()] == text[r.clone()]) {
                unique.push(r);
            }
        }
        let fresh = self.highlighter.highlight_sentences(text, &unique, style)?;
        for (r, spans) in unique.iter().zip(fresh) {
            let relative = spans
                .into_iter()
                .map(|s| {
                    (
                        s.bytes.start - r.start..s.bytes.end - r.start,
                        s.skill,
                        s.score,
                    )
                })
                .collect();
            cache.insert(
                text[r.clone()].to_owned(),
                Cached {
                    spans: relative,
                    evidence: None,
                    last_used: self.clock,
                },
            );
        }
        for r in &sentences {
            if let Some(cached) = cache.get_mut(&text[r.clone()]) {
                cached.last_used = self.clock;
            }
        }
        Ok((style, sentences, unique.len()))
    }

    /// Drops the least recently used half when the caches are full.
    fn evict(&mut self) {
        if self.cached_sentences() <= CACHE_CAPACITY {
            return;
        }
        let mut ages: Vec<u64> = self
            .caches
            .values()
            .flat_map(|c| c.values().map(|c| c.last_used))
            .collect();
        ages.sort_unstable();
        let cut = ages[ages.len() / 2];
        for cache in self.caches.values_mut() {
            cache.retain(|_, c| c.last_used > cut);
        }
    }

    /// Sentences currently cached.
    pub fn cached_sentences(&self) -> usize {
        self.caches.values().map(HashMap::len).sum()
    }

    /// The sentences of `text` that are not cached for `choice` (each once).
    pub fn uncached(&self, text: &str, choice: StyleChoice) -> Vec<String> {
        let cache = self.caches.get(&self.highlighter.style_of(text, choice));
        let mut out: Vec<String> = Vec::new();
        for r in self.splitter.split(text) {
            let s = &text[r];
            if !cache.is_some_and(|c| c.contains_key(s)) && !out.iter().any(|o| o == s) {
                out.push(s.to_owned());
            }
        }
        out
    }

    /// Drops these sentences from the caches (of every style).
    pub fn forget(&mut self, sentences: &[String]) {
        for cache in self.caches.values_mut() {
            for s in sentences {
                cache.remove(s);
            }
        }
    }
}
