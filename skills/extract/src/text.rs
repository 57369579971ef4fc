//! Plain text files (encodings) and the tidying every format's text gets.

use unicode_normalization::UnicodeNormalization;

/// `bytes` after a UTF-8 byte-order mark and leading white space.
pub fn skip_bom_and_space(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// Whether `bytes` read as text: a UTF-16 byte-order mark, or no NUL byte
/// and few control characters in the first 8 KB.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return true;
    }
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|&&c| c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    !head.contains(&0) && controls * 100 <= head.len()
}

/// A text file's characters: UTF-16 where a byte-order mark says so, UTF-8
/// where the bytes are valid UTF-8, else Windows-1252 (what older Windows
/// editors save).
pub fn decode(bytes: &[u8]) -> String {
    if bytes.starts_with(b"\xff\xfe") {
        return encoding_rs::UTF_16LE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned();
    }
    if bytes.starts_with(b"\xfe\xff") {
        return encoding_rs::UTF_16BE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned();
    }
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(b).0.into_owned(),
    }
}

/// The text every extractor's output goes through: `\n` line ends, soft
/// hyphens dropped, ligatures (`ﬁ`) and symbol-font bullets undone, spaces
/// at line ends dropped, at most one blank line in a row, none at either
/// end. `pdf`: runs of spaces become one, and a word hyphenated across a
/// line end is joined (`manage-` + `ment`; the next line must start with a
/// lower-case letter, so `Python-` + `Based` and list dashes stay).
pub fn tidy(raw: &str, pdf: bool) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut blank = true;
    let raw = raw.replace("\r\n", "\n");
    for line in raw.split(['\n', '\r', '\u{2028}', '\u{2029}', '\u{0c}', '\u{0b}']) {
        let mut l = String::with_capacity(line.len());
        let mut space = false;
        for c in line.chars() {
            match c {
                '\u{ad}' | '\u{200b}' | '\u{feff}' => continue,
                '\u{fb00}'..='\u{fb06}' => l.extend(c.nfkc()),
                // Symbol and Wingdings bullets, as PDFs made by Word map them.
                '\u{f0b7}' | '\u{f0a7}' | '\u{f076}' | '\u{f0d8}' | '\u{f0fc}' | '\u{25cf}' => {
                    l.push('•')
                }
                ' ' | '\u{a0}' if pdf => {
                    if !space {
                        l.push(' ');
                    }
                    space = true;
                    continue;
                }
                '\u{a0}' => l.push(' '),
                c if c.is_control() && c != '\t' => continue,
                c => l.push(c),
            }
            space = false;
        }
        let l = l.trim_end();
        let l = if pdf { l.trim_start() } else { l };
        if l.is_empty() {
            if !blank {
                lines.push(String::new());
            }
            blank = true;
            continue;
        }
        if pdf {
            if let Some(prev) = lines.last_mut() {
                if joins_hyphenated(prev, l) {
                    prev.pop();
                    prev.push_str(l);
                    blank = false;
                    continue;
                }
            }
        }
        lines.push(l.to_string());
        blank = false;
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// `prev` ends with a letter and a hyphen and `next` starts with a
/// lower-case letter: a word split at a line end.
pub fn joins_hyphenated(prev: &str, next: &str) -> bool {
    let mut tail = prev.chars().rev();
    tail.next() == Some('-')
        && tail.next().is_some_and(char::is_alphabetic)
        && next.chars().next().is_some_and(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidies_lines() {
        assert_eq!(
            tidy("\n\n  con\u{ad}ﬁgure   it \r\n\n\n\nnext\t\n\n", false),
            "  configure   it\n\nnext"
        );
        assert_eq!(
            tidy("  manage-\nment of   Python-\nBased\n\u{f0b7} SQL", true),
            "management of Python-\nBased\n• SQL"
        );
        assert_eq!(tidy("", true), "");
    }

    #[test]
    fn decodes_encodings() {
        assert_eq!(decode(b"\xff\xfeZ\0\xeb\0"), "Zë");
        assert_eq!(decode(b"\xfe\xff\0Z\0\xeb"), "Zë");
        assert_eq!(decode(b"Caf\xe9"), "Café");
        assert_eq!(decode("Café".as_bytes()), "Café");
        assert!(looks_like_text("Zoë\n".as_bytes()));
        assert!(!looks_like_text(b"\0\0\0\x01"));
    }
}
