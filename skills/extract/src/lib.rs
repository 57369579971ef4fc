//! Plain text from CV files: PDF, DOCX, ODT, RTF, HTML and plain text, the
//! same code natively (`rolemapper tag cv.pdf`) and in the browser (the
//! page's file worker).
//!
//! [`extract`] takes a file's name and bytes and returns its text. A
//! plain text file's characters are kept as they are (decoded from UTF-16
//! or Windows-1252 where they are not UTF-8; a byte-order mark dropped), so
//! offsets into the text are offsets into the file. Other formats come out
//! with sensible line breaks: a paragraph, heading, list item or table row a
//! line, bullets as `• ` at the start of their line, PDF lines joined where
//! a word was hyphenated across them, ligatures (`ﬁ`) and soft hyphens
//! undone. The format is told by its magic bytes first and by the name's
//! extension only where the bytes cannot tell (HTML, text).
//!
//! Every refusal is an [`ExtractError`] whose message says what is wrong
//! and what to do, and resources are bounded: files over [`MAX_FILE_BYTES`]
//! are refused before parsing, and a zip member (DOCX, ODT) is never
//! unpacked past [`MAX_UNPACKED_BYTES`] (a zip bomb is refused, not
//! expanded). Parsing code from other crates that panics on malformed input
//! is contained natively (`catch_unwind`); in wasm a panic ends the worker,
//! which the page reports as a failed read.
//!
//! The libraries: `pdf-extract` (on `lopdf`) for PDF, `zip` and
//! `quick-xml` for DOCX and ODT, `rtf-parser` for RTF, `html2text` (on
//! `html5ever`) for HTML.

mod html;
mod office;
mod pdf;
mod rtf;
mod text;

use std::fmt;

/// Files larger than this are refused before any parsing: a CV is rarely
/// over 5 MB, and a bigger file would hold the page's memory and time.
pub const MAX_FILE_BYTES: usize = 20_000_000;

/// The most one member of a DOCX or ODT zip may unpack to; past it the file
/// is refused as a likely zip bomb (a whole book's text is under 5 MB).
pub const MAX_UNPACKED_BYTES: u64 = 64_000_000;

/// A file format [`extract`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Pdf,
    Docx,
    Odt,
    Rtf,
    Html,
    Text,
}

impl Format {
    /// The usual short name (`PDF`, `DOCX`, …), for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
            Format::Odt => "ODT",
            Format::Rtf => "RTF",
            Format::Html => "HTML",
            Format::Text => "text",
        }
    }

    /// The lower-case name used in JSON (`pdf`, `docx`, …).
    pub fn id(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Odt => "odt",
            Format::Rtf => "rtf",
            Format::Html => "html",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A file's text and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text. For every format but plain text: `\n` between lines, no
    /// trailing spaces, at most one blank line in a row, none at either
    /// end, and never empty.
    pub text: String,
    pub format: Format,
    /// Pages, for PDF.
    pub pages: Option<u32>,
}

/// Why a file was not read. The `Display` text is meant for users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error(
        "the file is {}; files up to {} are read (a CV is rarely over 5 MB, and a larger file \
         would hold this page's memory and time)",
        megabytes(*.bytes),
        megabytes(*.limit)
    )]
    TooLarge { bytes: usize, limit: usize },
    #[error("{0}. RoleMapper reads PDF, DOCX, ODT, RTF, HTML and plain text files")]
    UnknownFormat(String),
    #[error("this PDF is password-protected: save a copy without a password and open that")]
    Encrypted,
    #[error(
        "this PDF has no text layer: it is probably a scan. Open the document it was made \
         from, or run text recognition (OCR) on it first"
    )]
    NoTextLayer,
    #[error("this {format} file is damaged or truncated ({detail}); save it again and retry")]
    Corrupt { format: Format, detail: String },
    #[error(
        "this {format} file's {member} unpacks to more than {} (a likely zip bomb): refused",
        megabytes(*.limit as usize)
    )]
    ZipBomb {
        format: Format,
        member: String,
        limit: u64,
    },
    #[error("this {0} file holds no text")]
    Empty(Format),
}

/// `12.3 MB` (decimal megabytes, as file managers show them).
fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The format of a file from its bytes (magic numbers; for a zip, the
/// members that make it DOCX or ODT) and, where the bytes cannot tell, its
/// name's extension. `Err` says what the file looks like instead.
pub fn detect(name: &str, bytes: &[u8]) -> Result<Format, ExtractError> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_some() {
        return Ok(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return office::detect(bytes, &ext)?.ok_or_else(|| {
            ExtractError::UnknownFormat(format!(
                "this is a zip archive ({}) but not a DOCX or ODT document",
                if ext.is_empty() { "no extension" } else { &ext }
            ))
        });
    }
    let trimmed = text::skip_bom_and_space(head);
    if trimmed.starts_with(b"{\\rtf") {
        return Ok(Format::Rtf);
    }
    for (magic, what) in BINARY_MAGIC {
        if bytes.starts_with(magic) {
            return Err(ExtractError::UnknownFormat(format!("this is {what}")));
        }
    }
    if ext == "pdf" || ext == "docx" || ext == "odt" || ext == "rtf" {
        // The name promises a format whose bytes are not there.
        let format = match ext.as_str() {
            "pdf" => Format::Pdf,
            "docx" => Format::Docx,
            "odt" => Format::Odt,
            _ => Format::Rtf,
        };
        return Err(ExtractError::Corrupt {
            format,
            detail: "it does not start as one".into(),
        });
    }
    if !text::looks_like_text(bytes) {
        return Err(ExtractError::UnknownFormat(format!(
            "this file ({}) is binary data of a kind RoleMapper does not know",
            if ext.is_empty() {
                "no extension".to_string()
            } else {
                format!(".{ext}")
            }
        )));
    }
    if ext == "html" || ext == "htm" || ext == "xhtml" || html::looks_like_html(trimmed) {
        return Ok(Format::Html);
    }
    Ok(Format::Text)
}

/// Binary formats people might drop by mistake, by their first bytes.
const BINARY_MAGIC: &[(&[u8], &str)] = &[
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Word (.doc) or Office 97 file: save it as DOCX or PDF and open that",
    ),
    (b"\x89PNG", "a PNG image (a picture of text is not text)"),
    (
        b"\xff\xd8\xff",
        "a JPEG image (a picture of text is not text)",
    ),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
];

/// The text of a file (see the crate's doc). `name` is only used for its
/// extension where the bytes cannot tell the format.
pub fn extract(name: &str, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ExtractError::TooLarge {
            bytes: bytes.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let format = detect(name, bytes)?;
    let (raw, pages) = contained(format, || match format {
        Format::Pdf => pdf::extract(bytes).map(|(t, p)| (t, Some(p))),
        Format::Docx => office::docx(bytes).map(|t| (t, None)),
        Format::Odt => office::odt(bytes).map(|t| (t, None)),
        Format::Rtf => rtf::extract(bytes).map(|t| (t, None)),
        Format::Html => html::extract(bytes).map(|t| (t, None)),
        Format::Text => Ok((text::decode(bytes), None)),
    })?;
    if format == Format::Text {
        // A text file's characters stay as they are, so that offsets into
        // the text are offsets into the file (after a byte-order mark).
        return Ok(Extracted {
            text: raw,
            format,
            pages,
        });
    }
    let text = text::tidy(&raw, format == Format::Pdf);
    if text.is_empty() {
        return Err(match format {
            Format::Pdf => ExtractError::NoTextLayer,
            _ => ExtractError::Empty(format),
        });
    }
    Ok(Extracted {
        text,
        format,
        pages,
    })
}

/// Runs a parser; natively a panic inside it (the PDF and RTF crates
/// `unwrap` on some malformed input) becomes [`ExtractError::Corrupt`],
/// with the default panic message kept off standard error.
fn contained<T>(
    format: Format,
    run: impl FnOnce() -> Result<T, ExtractError>,
) -> Result<T, ExtractError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::panic;
        use std::sync::Mutex;
        // The panic hook is process-wide: one extraction swaps it at a time.
        static HOOK: Mutex<()> = Mutex::new(());
        let _guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
        let previous = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let result = panic::catch_unwind(panic::AssertUnwindSafe(run));
        panic::set_hook(previous);
        match result {
            Ok(r) => r,
            Err(payload) => {
                let detail = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "the reader failed".into());
                Err(ExtractError::Corrupt {
                    format,
                    detail: format!("the {} reader failed: {detail}", format.name()),
                })
            }
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = format;
        run()
    }
}

/// The first index of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_bytes_before_names() {
        assert_eq!(detect("cv.txt", b"%PDF-1.7\n").unwrap(), Format::Pdf);
        assert_eq!(detect("cv", b"{\\rtf1 hi}").unwrap(), Format::Rtf);
        assert_eq!(detect("cv.html", b"Python").unwrap(), Format::Html);
        assert_eq!(detect("cv", b"<!DOCTYPE html><p>x").unwrap(), Format::Html);
        assert_eq!(
            detect("cv.md", "Zoë — SQL".as_bytes()).unwrap(),
            Format::Text
        );
        assert!(matches!(
            detect("cv.pdf", b"hello"),
            Err(ExtractError::Corrupt {
                format: Format::Pdf,
                ..
            })
        ));
        assert!(matches!(
            detect("photo.png", b"\x89PNG\r\n\x1a\n\0\0"),
            Err(ExtractError::UnknownFormat(_))
        ));
        assert!(matches!(
            detect("a.bin", &[0u8, 1, 2, 3, 0, 0, 7, 8]),
            Err(ExtractError::UnknownFormat(_))
        ));
    }

    #[test]
    fn refuses_large_and_empty_files() {
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        let e = extract("big.txt", &big).unwrap_err();
        assert!(matches!(e, ExtractError::TooLarge { .. }));
        assert!(e.to_string().contains("20.0 MB"), "{e}");
        assert_eq!(extract("e.txt", b" \n").unwrap().text, " \n");
        assert_eq!(
            extract("e.html", b"<html><p> </p>").unwrap_err(),
            ExtractError::Empty(Format::Html)
        );
    }

    #[test]
    fn plain_text_keeps_its_lines() {
        let e = extract(
            "cv.txt",
            "\u{feff}Zoë Ærø\r\n\r\n\r\n• Python, SQL  \r\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(e.text, "Zoë Ærø\r\n\r\n\r\n• Python, SQL  \r\n");
        assert_eq!(e.format, Format::Text);
    }
}
