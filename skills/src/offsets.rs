//! Offsets into one text in the three units RoleMapper meets: UTF-8 bytes
//! (Rust strings, `tokenizers`), Unicode code points (the `rolemapper tag`
//! JSON contract, Python) and UTF-16 code units (JavaScript strings, the DOM).
//!
//! All ranges are half-open. A conversion answers `None` when the offset is
//! out of bounds or does not fall on a boundary of the target unit (a byte
//! inside a multi-byte character, a UTF-16 unit between the two halves of a
//! surrogate pair), so a caller can never silently highlight the wrong
//! characters.

use std::ops::Range;

/// A table of where every character of one text starts, in bytes and in
/// UTF-16 units. Built once per text in O(n); each conversion is O(1) from
/// code points and O(log n) towards code points.
///
/// Invariant: `bytes` and `utf16` both have `char_len + 1` strictly
/// increasing entries, the first 0 and the last the text's length in that
/// unit. Offsets are stored as `u32`, so texts are limited to 4 GiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetMap {
    bytes: Vec<u32>,
    utf16: Vec<u32>,
}

impl OffsetMap {
    /// Builds the table for `text`.
    ///
    /// # Panics
    /// If `text` is 4 GiB or longer.
    pub fn new(text: &str) -> Self {
        assert!(
            text.len() < u32::MAX as usize,
            "OffsetMap supports texts below 4 GiB"
        );
        let n = text.chars().count();
        let mut bytes = Vec::with_capacity(n + 1);
        let mut utf16 = Vec::with_capacity(n + 1);
        let mut u = 0u32;
        for (b, c) in text.char_indices() {
            bytes.push(b as u32);
            utf16.push(u);
            u += c.len_utf16() as u32;
        }
        bytes.push(text.len() as u32);
        utf16.push(u);
        Self { bytes, utf16 }
    }

    /// Number of code points in the text.
    pub fn char_len(&self) -> usize {
        self.bytes.len() - 1
    }

    /// Length of the text in bytes.
    pub fn byte_len(&self) -> usize {
        *self.bytes.last().expect("never empty") as usize
    }

    /// Length of the text in UTF-16 code units (JavaScript's `length`).
    pub fn utf16_len(&self) -> usize {
        *self.utf16.last().expect("never empty") as usize
    }

    /// Code-point offset of the character starting at byte `byte`
    /// (`char_len()` for the end of the text).
    pub fn byte_to_char(&self, byte: usize) -> Option<usize> {
        find(&self.bytes, byte)
    }

    /// Byte offset of code point `ch` (`byte_len()` for `ch == char_len()`).
    pub fn char_to_byte(&self, ch: usize) -> Option<usize> {
        self.bytes.get(ch).map(|&b| b as usize)
    }

    /// UTF-16 offset of code point `ch`.
    pub fn char_to_utf16(&self, ch: usize) -> Option<usize> {
        self.utf16.get(ch).map(|&u| u as usize)
    }

    /// Code-point offset at UTF-16 offset `unit`; `None` between the halves
    /// of a surrogate pair.
    pub fn utf16_to_char(&self, unit: usize) -> Option<usize> {
        find(&self.utf16, unit)
    }

    /// UTF-16 offset at byte `byte`.
    pub fn byte_to_utf16(&self, byte: usize) -> Option<usize> {
        self.byte_to_char(byte).and_then(|c| self.char_to_utf16(c))
    }

    /// Byte offset at UTF-16 offset `unit`.
    pub fn utf16_to_byte(&self, unit: usize) -> Option<usize> {
        self.utf16_to_char(unit).and_then(|c| self.char_to_byte(c))
    }

    /// A byte range as a code-point range.
    pub fn bytes_to_chars(&self, r: Range<usize>) -> Option<Range<usize>> {
        convert(r, |b| self.byte_to_char(b))
    }

    /// A byte range as a UTF-16 range.
    pub fn bytes_to_utf16(&self, r: Range<usize>) -> Option<Range<usize>> {
        convert(r, |b| self.byte_to_utf16(b))
    }

    /// A code-point range as a byte range.
    pub fn chars_to_bytes(&self, r: Range<usize>) -> Option<Range<usize>> {
        convert(r, |c| self.char_to_byte(c))
    }

    /// A code-point range as a UTF-16 range.
    pub fn chars_to_utf16(&self, r: Range<usize>) -> Option<Range<usize>> {
        convert(r, |c| self.char_to_utf16(c))
    }

    /// A UTF-16 range as a byte range.
    pub fn utf16_to_bytes(&self, r: Range<usize>) -> Option<Range<usize>> {
        convert(r, |u| self.utf16_to_byte(u))
    }
}

fn find(table: &[u32], offset: usize) -> Option<usize> {
    let offset = u32::try_from(offset).ok()?;
    table.binary_search(&offset).ok()
}

fn convert(r: Range<usize>, f: impl Fn(usize) -> Option<usize>) -> Option<Range<usize>> {
    if r.start > r.end {
        return None;
    }
    Some(f(r.start)?..f(r.end)?)
}

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_text() {
        let m = OffsetMap::new("");
        assert_eq!((m.char_len(), m.byte_len(), m.utf16_len()), (0, 0, 0));
        assert_eq!(m.byte_to_char(0), Some(0));
        assert_eq!(m.byte_to_char(1), None);
        assert_eq!(m.bytes_to_utf16(0..0), Some(0..0));
    }

    #[test]
    fn mixed_widths() {
        // a (1 byte, 1 unit), é (2, 1), 中 (3, 1), 😀 (4, 2)
        let m = OffsetMap::new("aé中😀b");
        assert_eq!(m.char_len(), 5);
        assert_eq!(m.byte_len(), 11);
        assert_eq!(m.utf16_len(), 6);
        assert_eq!(m.byte_to_char(6), Some(3));
        assert_eq!(m.byte_to_char(7), None, "inside the emoji");
        assert_eq!(m.char_to_utf16(4), Some(5));
        assert_eq!(m.utf16_to_char(4), None, "between surrogate halves");
        assert_eq!(m.bytes_to_utf16(6..10), Some(3..5));
        assert_eq!(m.utf16_to_bytes(3..5), Some(6..10));
        assert_eq!(
            m.bytes_to_chars(Range { start: 3, end: 1 }),
            None,
            "reversed range"
        );
        assert_eq!(m.char_to_byte(6), None, "past the end");
    }

    proptest! {
        #[test]
        fn conversions_round_trip(text in "\\PC{0,40}", a in 0usize..200, b in 0usize..200) {
            let m = OffsetMap::new(&text);
            prop_assert_eq!(m.byte_len(), text.len());
            prop_assert_eq!(m.utf16_len(), text.encode_utf16().count());
            for (ci, (bi, _)) in text.char_indices().enumerate() {
                prop_assert_eq!(m.byte_to_char(bi), Some(ci));
                let u = m.char_to_utf16(ci).unwrap();
                prop_assert_eq!(u, text[..bi].encode_utf16().count());
                prop_assert_eq!(m.utf16_to_byte(u), Some(bi));
            }
            // Any byte offset either maps to a boundary or to nothing.
            let (lo, hi) = (a.min(b), a.max(b));
            match m.bytes_to_chars(lo..hi) {
                Some(r) => {
                    prop_assert!(text.is_char_boundary(lo) && text.is_char_boundary(hi) && hi <= text.len());
                    prop_assert_eq!(text[lo..hi].chars().count(), r.len());
                    let u = m.chars_to_utf16(r).unwrap();
                    prop_assert_eq!(text[lo..hi].encode_utf16().count(), u.len());
                }
                None => prop_assert!(hi > text.len() || !text.is_char_boundary(lo) || !text.is_char_boundary(hi)),
            }
        }
    }
}
