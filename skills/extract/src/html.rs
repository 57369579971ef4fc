//! HTML: `html2text` (on `html5ever`, the browser's parsing algorithm)
//! renders block elements as lines, list items with a bullet, and table
//! cells in their rows, without wrapping. Its plain-text marks are
//! undone: `#` before headings, and `*` before list items becomes `•`.

use crate::{ExtractError, Format};

/// Whether the start of a file (after white space) looks like HTML.
pub fn looks_like_html(head: &[u8]) -> bool {
    let lower: Vec<u8> = head.iter().take(256).map(u8::to_ascii_lowercase).collect();
    [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<!--",
    ]
    .iter()
    .any(|m| lower.starts_with(m))
}

pub fn extract(bytes: &[u8]) -> Result<String, ExtractError> {
    let text = crate::text::decode(bytes);
    html2text::config::plain_no_decorate()
        .raw_mode(true)
        .allow_width_overflow()
        .no_link_wrapping()
        .string_from_read(text.as_bytes(), usize::MAX / 4)
        .map(|s| s.lines().map(unmark).collect::<Vec<_>>().join("\n"))
        .map_err(|e| ExtractError::Corrupt {
            format: Format::Html,
            detail: e.to_string(),
        })
}

/// A rendered line without html2text's heading marks, and with `• ` for its
/// list bullet.
fn unmark(line: &str) -> String {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        return line[hashes + 1..].to_string();
    }
    let indent = line.len() - line.trim_start().len();
    match line[indent..].strip_prefix("* ") {
        Some(rest) => format!("{}• {rest}", &line[..indent]),
        None => line.to_string(),
    }
}
