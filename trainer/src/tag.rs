//! `rolemapper tag` output formats (the contract in DESIGN.md).

use anyhow::Result;
use serde_json::json;
use skills::highlight::{char_ranges, Highlighter};
use skills::style::StyleChoice;

/// One JSON line: `{"file", "spans": [{"start", "end", "text", "skill", "score"}]}`,
/// offsets in code points, `text` exactly that slice.
pub fn json_line(h: &Highlighter, file: &str, text: &str, style: StyleChoice) -> Result<String> {
    let spans = h.highlight_as(text, style)?;
    let chars = char_ranges(text, &spans);
    let spans: Vec<_> = spans
        .iter()
        .zip(chars)
        .map(|(s, c)| json!({"start": c.start, "end": c.end, "text": &text[s.bytes.clone()], "skill": s.skill, "score": (f64::from(s.score) * 1e4).round() / 1e4}))
        .collect();
    Ok(serde_json::to_string(
        &json!({"file": file, "spans": spans}),
    )?)
}

/// A JSON object line (`tag`'s or `roles`') with a `"text"` member added
/// (`--print-text`).
pub fn with_text(line: &str, text: &str) -> Result<String> {
    let mut value: serde_json::Value = serde_json::from_str(line)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("text".into(), text.into());
    }
    Ok(serde_json::to_string(&value)?)
}

/// CoNLL in (token in the first column, blank line between sentences), the
/// same lines out with a tab and the predicted tag. With `Auto`, the style
/// is told from the whole file's text.
pub fn conll(h: &Highlighter, text: &str, choice: StyleChoice) -> Result<String> {
    let style = h.style_of(text, choice);
    let mut out = String::new();
    let mut sentence: Vec<&str> = Vec::new();
    let flush = |sentence: &mut Vec<&str>, out: &mut String| -> Result<()> {
        if sentence.is_empty() {
            return Ok(());
        }
        let tokens: Vec<&str> = sentence
            .iter()
            .map(|l| l.split(['\t', ' ']).next().unwrap_or(""))
            .collect();
        let tags = h.tag_words(&tokens, style)?;
        for (line, tag) in sentence.iter().zip(tags) {
            out.push_str(line);
            out.push('\t');
            out.push_str(tag.as_str());
            out.push('\n');
        }
        sentence.clear();
        Ok(())
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut sentence, &mut out)?;
            out.push('\n');
        } else {
            sentence.push(line);
        }
    }
    flush(&mut sentence, &mut out)?;
    Ok(out)
}
