//! Text normalisation and sentence splitting for job posts and CVs.
//!
//! Two kinds of normalisation live here, for two different jobs:
//! - [`clean`] repairs text that enters the *datasets* (mis-decoded Windows
//!   punctuation, NFC). It changes lengths, so it is never applied to text
//!   whose offsets a user will see.
//! - [`fold`] makes the key under which the phrase matcher compares one word
//!   (case, compatibility forms, typographic punctuation). It never touches
//!   offsets: the matcher folds each word separately and keeps the word's
//!   original byte range.

use std::ops::Range;
use unicode_normalization::UnicodeNormalization;

/// Repairs text for the datasets: C1 control characters that are really
/// Windows-1252 punctuation decoded as Latin-1 (SkillSpan writes `We\u{92}re`
/// for "We’re") become that punctuation, the rest of the C0/C1 controls except
/// tab and newline are dropped, and the result is NFC.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\u{91}' => Some('\u{2018}'),
            '\u{92}' => Some('\u{2019}'),
            '\u{93}' => Some('\u{201C}'),
            '\u{94}' => Some('\u{201D}'),
            '\u{95}' => Some('\u{2022}'),
            '\u{96}' => Some('\u{2013}'),
            '\u{97}' => Some('\u{2014}'),
            '\u{85}' => Some('\u{2026}'),
            '\t' | '\n' => Some(c),
            c if c.is_control() => None,
            c => Some(c),
        })
        .nfc()
        .collect()
}

/// The matching key of one word: NFKC, lower case, typographic quotes and
/// dashes made ASCII, and whitespace removed (NFKC can introduce spaces, and
/// the matcher relies on keys without them). Equal keys mean "the same word"
/// to the phrase matcher.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.nfkc().flat_map(char::to_lowercase) {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' | '\u{B4}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Splits job posts and CVs into sentence-like segments: at line breaks, at
/// bullets, at sentence-final punctuation, and—when a segment is still longer
/// than [`SentenceSplitter::max_chars`] (long comma-separated skill lists
/// are common in both)—at commas and semicolons.
#[derive(Debug, Clone)]
pub struct SentenceSplitter {
    max_chars: usize,
}

impl Default for SentenceSplitter {
    fn default() -> Self {
        Self { max_chars: 400 }
    }
}

/// Characters that open a list item when they start a line, or separate
/// items inside one line.
const BULLETS: &[char] = &[
    '•', '●', '▪', '◦', '‣', '∙', '■', '□', '➢', '►', '▶', '✓', '✔', '|', '·',
];

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "inc", "ltd", "co", "corp", "jr",
    "sr", "st", "no", "approx", "incl", "dept", "fig", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "b.sc", "m.sc", "b.s", "m.s", "b.a", "m.a", "ph.d",
    "b.tech", "m.tech", "u.s", "u.k",
];

impl SentenceSplitter {
    /// A splitter with the default segment limit (400 code points).
    pub fn new() -> Self {
        Self::default()
    }

    /// Segments longer than this many code points are split further at
    /// commas and semicolons (and, failing those, at spaces).
    pub fn max_chars(mut self, max_chars: usize) -> Self {
        self.max_chars = max_chars.max(1);
        self
    }

    /// Byte ranges of the segments of `text`.
    ///
    /// Invariants: ranges are non-empty, on character boundaries, in bounds,
    /// sorted and disjoint; each starts and ends with a non-whitespace
    /// character; every alphanumeric character of `text` lies in exactly
    /// one range, except those of list markers such as `1.` or `a)`.
    pub fn split(&self, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        for line in split_lines(text) {
            for item in split_items(text, line) {
                for sentence in split_sentences(text, item) {
                    self.split_long(text, sentence, &mut out);
                }
            }
        }
        out
    }

    fn split_long(&self, text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
        let mut rest = r;
        while text[rest.clone()].chars().count() > self.max_chars {
            let limit = rest.start
                + text[rest.clone()]
                    .char_indices()
                    .nth(self.max_chars)
                    .map_or(rest.len(), |(i, _)| i);
            let window = &text[rest.start..limit];
            // Prefer a list separator, then a space; cut after it.
            let cut = window
                .rfind([',', ';'])
                .filter(|&i| i > 0)
                .map(|i| i + 1)
                .or_else(|| window.rfind(char::is_whitespace).filter(|&i| i > 0))
                .map_or(limit, |i| rest.start + i);
            if let Some(head) = trim(text, rest.start..cut) {
                out.push(head);
            }
            match trim(text, cut..rest.end) {
                Some(tail) => rest = tail,
                None => return,
            }
        }
        out.push(rest);
    }
}

/// Splits `text` into sentence-like segments with the default splitter.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    SentenceSplitter::default().split(text)
}

/// `r` without surrounding whitespace, or `None` if nothing is left.
fn trim(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = &text[r.clone()];
    let start = r.start + (s.len() - s.trim_start().len());
    let end = r.start + s.trim_end().len();
    (start < end).then_some(start..end)
}

fn split_lines(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(
            c,
            '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{0B}' | '\u{0C}' | '\u{85}'
        ) {
            out.extend(trim(text, start..i));
            start = i + c.len_utf8();
        }
    }
    out.extend(trim(text, start..text.len()));
    out
}

/// Splits one line at bullets (and strips a leading `-`, `*` or `1.` marker).
fn split_items(text: &str, line: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = line.start;
    for (i, c) in text[line.clone()].char_indices() {
        // Private-use characters are symbol-font bullets pasted from word processors.
        if BULLETS.contains(&c) || ('\u{E000}'..='\u{F8FF}').contains(&c) {
            out.extend(trim(text, start..line.start + i));
            start = line.start + i + c.len_utf8();
        }
    }
    out.extend(trim(text, start..line.end));
    out.into_iter()
        .filter_map(|r| strip_list_marker(text, r))
        .collect()
}

fn strip_list_marker(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = &text[r.clone()];
    let marker_len = if let Some(rest) = s.strip_prefix(['-', '*', '–', '—', '>', '+']) {
        // "-5%" or "+1" are not markers; "- Python" is.
        if rest.starts_with(char::is_whitespace) {
            s.len() - rest.len()
        } else {
            0
        }
    } else {
        // "1." / "2)" / "a)" followed by a space.
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let n = if digits > 0 && digits <= 3 {
            digits
        } else if s.len() > 1 && s.as_bytes()[0].is_ascii_lowercase() && s.as_bytes()[1] == b')' {
            1
        } else {
            0
        };
        match s.as_bytes().get(n..n + 2) {
            Some([b'.' | b')', b' ' | b'\t']) if n > 0 => n + 1,
            _ => 0,
        }
    };
    trim(text, r.start + marker_len..r.end)
}

/// Splits at `.`, `!` and `?` followed by whitespace and then not by a
/// lower-case letter, unless the full stop ends a known abbreviation or a
/// single-letter initial.
fn split_sentences(text: &str, r: Range<usize>) -> Vec<Range<usize>> {
    let s = &text[r.clone()];
    let mut out = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if !matches!(c, '.' | '!' | '?' | '。' | '！' | '？') {
            continue;
        }
        // Swallow runs like "?!" or "...".
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = iter.peek() {
            if matches!(d, '.' | '!' | '?' | ')' | '"' | '\'' | '”' | '’') {
                end = j + d.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
        let after = &s[end..];
        let next = after.trim_start().chars().next();
        let ideographic = matches!(c, '。' | '！' | '？');
        let boundary = match next {
            None => false,
            Some(n) => (ideographic || after.starts_with(char::is_whitespace)) && !n.is_lowercase(),
        };
        if boundary && !(c == '.' && ends_with_abbreviation(&s[start..i])) {
            out.extend(trim(text, r.start + start..r.start + end));
            start = end;
        }
    }
    out.extend(trim(text, r.start + start..r.end));
    out
}

fn ends_with_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    word.chars().count() == 1 || ABBREVIATIONS.contains(&lower.as_str())
}

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn clean_repairs_windows_punctuation() {
        assert_eq!(clean("We\u{92}re \u{93}agile\u{94}\u{0}"), "We’re “agile”");
        assert_eq!(clean("Cafe\u{301}"), "Café");
    }

    #[test]
    fn fold_makes_one_key() {
        assert_eq!(fold("Node.JS"), "node.js");
        assert_eq!(fold("ＳＱＬ"), "sql");
        assert_eq!(fold("O’Reilly"), "o'reilly");
        assert_eq!(fold("ﬁle"), "file");
        assert_eq!(fold("¨"), "\u{308}", "NFKC's space is removed");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn splits_sentences_but_not_abbreviations() {
        assert_eq!(
            texts("We use Python, e.g. pandas. You know SQL! Dr. Smith and J. Doe lead v2.1 work.\nNext line"),
            ["We use Python, e.g. pandas.", "You know SQL!", "Dr. Smith and J. Doe lead v2.1 work.", "Next line"]
        );
        assert_eq!(
            texts("built with node.js and vue.js"),
            ["built with node.js and vue.js"]
        );
        assert_eq!(
            texts("ends with a lower-case word. then continues"),
            ["ends with a lower-case word. then continues"]
        );
    }

    #[test]
    fn splits_bullets_and_numbered_lists() {
        assert_eq!(
            texts("Skills:\n• Java • Python\n- SQL\n* Excel\n1. Teamwork\n2) Leadership\n-5% costs\r\nA | B \u{F0A7} C"),
            ["Skills:", "Java", "Python", "SQL", "Excel", "Teamwork", "Leadership", "-5% costs", "A", "B", "C"]
        );
    }

    #[test]
    fn splits_long_comma_lists() {
        let list = (0..60)
            .map(|i| format!("skill{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let parts = SentenceSplitter::new().max_chars(50).split(&list);
        assert!(parts.len() > 5);
        for p in &parts {
            assert!(
                list[p.clone()].chars().count() <= 50,
                "{:?}",
                &list[p.clone()]
            );
            assert!(!list[p.clone()].starts_with(','));
        }
        // A long run with no separator at all is still cut.
        let word = "x".repeat(120);
        assert_eq!(
            SentenceSplitter::new().max_chars(50).split(&word),
            [0..50, 50..100, 100..120]
        );
    }

    #[test]
    fn empty_and_blank() {
        assert!(sentences("").is_empty());
        assert!(sentences(" \n\t \r\n• ").is_empty());
    }

    proptest! {
        #[test]
        fn sentence_invariants(text in "(\\PC|[\n .!?,;•|\\-0-9]){0,300}", max in 1usize..80) {
            let ranges = SentenceSplitter::new().max_chars(max).split(&text);
            let mut last_end = 0;
            for r in &ranges {
                prop_assert!(r.start < r.end && r.end <= text.len());
                prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                prop_assert!(r.start >= last_end, "sorted and disjoint");
                last_end = r.end;
                let s = &text[r.clone()];
                prop_assert_eq!(s.trim(), s);
                prop_assert!(s.chars().count() <= max);
            }
            for (i, c) in text.char_indices() {
                let n = ranges.iter().filter(|r| r.contains(&i)).count();
                prop_assert!(n <= 1);
                // List markers ("1.", "a)") are dropped; everything else alphanumeric is kept.
                let marker = c.is_ascii_digit() || text[i + c.len_utf8()..].starts_with(')');
                if c.is_alphanumeric() && !marker {
                    prop_assert_eq!(n, 1, "char {:?} at {}", c, i);
                }
            }
        }
    }
}
