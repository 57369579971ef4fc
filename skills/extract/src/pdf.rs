//! PDF: `pdf-extract` interprets the pages' content streams (fonts,
//! encodings, ToUnicode maps) and hands each glyph to [`Lines`], which
//! lays them out as text in the stream's order: a new line where the
//! baseline moves or the text jumps back left, a space where a word starts
//! clear of the previous one, a blank line at a paragraph gap, a column
//! jump or a page break; then a paragraph's wrapped lines are joined again
//! (a line that reaches its block's right edge continues on the next one),
//! so that a sentence is one line, as it was typed.
//!
//! Stream order is the producer's reading order: word processors, LaTeX and
//! layout libraries write a column, a table cell or a text box whole, so
//! two-column CVs read column by column (the fixtures' two-column layout
//! checks it).

use crate::{ExtractError, Format};
use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// The text and the number of pages.
pub fn extract(bytes: &[u8]) -> Result<(String, u32), ExtractError> {
    let corrupt = |detail: String| ExtractError::Corrupt {
        format: Format::Pdf,
        detail,
    };
    check_raw_streams(bytes)?;
    let mut doc = match lopdf::Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(lopdf::Error::Decryption(_)) => return Err(ExtractError::Encrypted),
        Err(e) => return Err(corrupt(e.to_string())),
    };
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(ExtractError::Encrypted);
    }
    check_streams(&doc)?;
    let pages = doc.get_pages().len() as u32;
    if pages == 0 {
        return Err(corrupt("it has no pages".into()));
    }
    let mut paths = 0;
    for (_, page) in doc.get_pages() {
        let resources = doc
            .get_dictionary(page)
            .ok()
            .and_then(|d| d.get(b"Resources").ok())
            .and_then(|r| resolve_dict(&doc, r));
        if let Some(r) = resources {
            check_forms(&doc, r, &mut Vec::new(), &mut paths)?;
        }
    }
    let mut lines = Lines::default();
    pdf_extract::output_doc(&doc, &mut lines).map_err(|e| match e {
        OutputError::PdfError(lopdf::Error::Decryption(_)) => ExtractError::Encrypted,
        e => corrupt(e.to_string()),
    })?;
    Ok((lines.text(), pages))
}

/// The most bytes all of a PDF's Flate streams may unpack to together
/// (each at most [`crate::MAX_UNPACKED_BYTES`]).
const MAX_PDF_UNPACKED_BYTES: u64 = 4 * crate::MAX_UNPACKED_BYTES;

/// Refuses a PDF whose Flate streams unpack to more than the bounds before
/// the reader sees it: `lopdf` unpacks cross-reference streams and object
/// streams (`/Type /ObjStm`, which hold the file's other objects) whole
/// while it loads the file, before [`check_streams`] can measure them. Every
/// `stream` keyword's data is unpacked here as Flate data ([`unpacked_len`])
/// through a bounded reader and thrown away (a deflate stream ends itself,
/// so no `/Length` is needed; data that is not one soon fails).
/// Encrypted streams are not zlib data until decrypted: [`check_streams`]
/// measures those after loading, as it does every stream. Not covered: an
/// encrypted file's object streams, which `lopdf` decrypts and unpacks
/// while it loads (its load filter is not called for encrypted files).
fn check_raw_streams(bytes: &[u8]) -> Result<(), ExtractError> {
    let mut budget = Budget::default();
    let mut at = 0;
    while let Some(found) = crate::find(&bytes[at..], b"stream") {
        let keyword = at + found;
        at = keyword + b"stream".len();
        if bytes[..keyword].ends_with(b"end") {
            continue;
        }
        // The keyword ends its line with CR LF or LF (PDF 32000-1, 7.3.8.1).
        let data = match &bytes[at..] {
            [b'\r', b'\n', ..] => at + 2,
            [b'\n', ..] | [b'\r', ..] => at + 1,
            _ => continue,
        };
        budget.take(&bytes[data..], || format!("stream at byte {data}"))?;
    }
    Ok(())
}

/// What a PDF's Flate streams may still unpack to: each at most
/// [`crate::MAX_UNPACKED_BYTES`], all together [`MAX_PDF_UNPACKED_BYTES`].
#[derive(Default)]
struct Budget {
    spent: u64,
}

impl Budget {
    /// Measures the zlib data at the start of `data` against what is left,
    /// refusing the PDF (naming the stream by `member`) past it.
    fn take(&mut self, data: &[u8], member: impl FnOnce() -> String) -> Result<(), ExtractError> {
        let limit = crate::MAX_UNPACKED_BYTES.min(MAX_PDF_UNPACKED_BYTES - self.spent);
        let n = unpacked_len(data, limit);
        if n > limit {
            return Err(ExtractError::ZipBomb {
                format: Format::Pdf,
                member: member(),
                limit,
            });
        }
        self.spent += n;
        Ok(())
    }
}

/// How many bytes the Flate data at the start of `data` unpacks to as
/// `lopdf` unpacks it, read up to `limit + 1` (so a result over `limit`
/// means "too many"); what it unpacks to before an error counts. Like
/// `lopdf` (`Stream::decompress_zlib`), data that gives nothing as a zlib
/// stream (a damaged header, say) is read again as raw deflate after its
/// first two bytes; data that is neither gives 0.
fn unpacked_len(data: &[u8], limit: u64) -> u64 {
    let n = read_len(flate2::read::ZlibDecoder::new(data), limit);
    if n == 0 && data.len() > 2 {
        return read_len(flate2::read::DeflateDecoder::new(&data[2..]), limit);
    }
    n
}

/// How many bytes `reader` gives before its end or an error, up to
/// `limit + 1`.
fn read_len(reader: impl std::io::Read, limit: u64) -> u64 {
    use std::io::Read;
    let mut reader = reader.take(limit + 1);
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    while let Ok(read @ 1..) = reader.read(&mut buf) {
        n += read as u64;
    }
    n
}

/// Refuses a PDF whose Flate streams unpack to more than the bounds: the
/// reader would unpack each whole into memory (a few kB can hold
/// gigabytes). Each stream is unpacked here through a bounded reader and
/// thrown away; a damaged stream is left to the reader, which reports it.
/// (Run on the loaded document, so on encrypted files' decrypted streams.)
fn check_streams(doc: &lopdf::Document) -> Result<(), ExtractError> {
    let mut budget = Budget::default();
    for (id, object) in &doc.objects {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        let first_filter = match stream.dict.get(b"Filter") {
            Ok(lopdf::Object::Name(name)) => Some(name.as_slice()),
            Ok(lopdf::Object::Array(filters)) => filters.first().and_then(|f| f.as_name().ok()),
            _ => None,
        };
        if first_filter != Some(b"FlateDecode".as_slice()) {
            continue;
        }
        budget.take(&stream.content, || format!("stream {} {}", id.0, id.1))?;
    }
    Ok(())
}

/// Pages with more lines than this are not reflowed (comparing every line
/// with every other would take too long on a hostile file).
const MAX_REFLOW_LINES: usize = 2000;

/// How deep form XObjects may nest (each drawing the next); deeper, or a
/// form that draws itself, and the PDF is refused (the reader would
/// recurse without end).
const MAX_FORM_DEPTH: usize = 8;

/// How many form XObjects (counted along every path from a page) a PDF may
/// hold before it is refused: a few nested forms each naming the next
/// many times would take the reader exponential time.
const MAX_FORM_PATHS: usize = 10_000;

/// One line of glyphs as laid out on the page.
#[derive(Default)]
struct Line {
    text: String,
    /// Where its first glyph starts and its last ends (x), and the largest
    /// glyph size.
    x0: f64,
    x1: f64,
    size: f64,
    /// The width of its first word (where the first space or gap came).
    first_word: Option<f64>,
    page: u32,
    /// A paragraph gap, a column jump or a page break comes before it.
    breaks: bool,
}

impl Line {
    fn first_word_width(&self) -> f64 {
        self.first_word.unwrap_or(self.x1 - self.x0)
    }
}

/// A dictionary, or the dictionary a reference leads to.
fn resolve_dict<'a>(
    doc: &'a lopdf::Document,
    o: &'a lopdf::Object,
) -> Option<&'a lopdf::Dictionary> {
    match o {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
        lopdf::Object::Dictionary(d) => Some(d),
        _ => None,
    }
}

/// Refuses resources whose form XObjects nest deeper than
/// [`MAX_FORM_DEPTH`], draw themselves (`path`: the forms drawing this
/// one), or add up to more than [`MAX_FORM_PATHS`] (`paths`, so far).
fn check_forms(
    doc: &lopdf::Document,
    resources: &lopdf::Dictionary,
    path: &mut Vec<lopdf::ObjectId>,
    paths: &mut usize,
) -> Result<(), ExtractError> {
    let Some(xobjects) = resources
        .get(b"XObject")
        .ok()
        .and_then(|x| resolve_dict(doc, x))
    else {
        return Ok(());
    };
    for (_, x) in xobjects.iter() {
        let lopdf::Object::Reference(id) = x else {
            continue;
        };
        *paths += 1;
        if path.contains(id) || path.len() >= MAX_FORM_DEPTH || *paths > MAX_FORM_PATHS {
            return Err(ExtractError::Corrupt {
                format: Format::Pdf,
                detail: "its drawings nest without end".into(),
            });
        }
        let Ok(lopdf::Object::Stream(stream)) = doc.get_object(*id) else {
            continue;
        };
        let Some(inner) = stream
            .dict
            .get(b"Resources")
            .ok()
            .and_then(|r| resolve_dict(doc, r))
        else {
            continue;
        };
        path.push(*id);
        check_forms(doc, inner, path, paths)?;
        path.pop();
    }
    Ok(())
}

/// An [`OutputDev`] that collects glyphs into [`Line`]s; [`Lines::text`]
/// then reflows them.
#[derive(Default)]
struct Lines {
    lines: Vec<Line>,
    /// Page space with y down (PDF's y goes up).
    flip: Option<Transform>,
    /// Where the previous glyph ended (x) and its baseline (y), and its size.
    last: Option<(f64, f64, f64)>,
    /// The next glyph starts a word (`begin_word`): a gap before it is a space.
    word_start: bool,
    /// The next line comes after a page break.
    page_break: bool,
    page: u32,
}

impl Lines {
    /// The text: a paragraph's lines joined where the text was wrapped, a
    /// blank line between blocks. A line was wrapped when the next line, in
    /// the same size, has a first word that would not have fitted between
    /// its end and its column's right edge (the farthest a line of the page
    /// in that size, starting where the block starts, reaches), unless the
    /// next line starts with a bullet or either holds a tab (a table row); a
    /// word hyphenated at a wrap is joined whole.
    fn text(&self) -> String {
        let mut out = String::new();
        // Each page's lines (they come page by page).
        let mut pages: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            match pages.last_mut() {
                Some(r) if self.lines[r.start].page == l.page => r.end = i + 1,
                _ => pages.push(i..i + 1),
            }
        }
        let mut start = 0;
        while start < self.lines.len() {
            let mut end = start + 1;
            while end < self.lines.len() && !self.lines[end].breaks {
                end += 1;
            }
            let block = &self.lines[start..end];
            let left = block.iter().map(|l| l.x0).fold(f64::MAX, f64::min);
            let same_size = |a: f64, b: f64| (a - b).abs() <= 0.1 * a.max(b);
            let page = pages
                .iter()
                .find(|r| r.contains(&start))
                .map_or(&self.lines[start..end], |r| &self.lines[r.clone()]);
            // The column's right edge for text of a size: the farthest a
            // line of the page in that size, starting where the block
            // starts, reaches (`None`: no such line, or a page with too
            // many lines to compare them all, whose lines stay as they are).
            let mut edges: Vec<(f64, Option<f64>)> = Vec::new();
            let mut right = |size: f64| {
                if page.len() > MAX_REFLOW_LINES {
                    return None;
                }
                if let Some(&(_, edge)) = edges.iter().find(|(s, _)| *s == size) {
                    return edge;
                }
                let edge = page
                    .iter()
                    .filter(|l| (l.x0 - left).abs() <= 1.5 * size && same_size(l.size, size))
                    .map(|l| l.x1)
                    .reduce(f64::max)
                    .filter(|x| x.is_finite());
                edges.push((size, edge));
                edge
            };
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            for (i, line) in block.iter().enumerate() {
                out.push_str(line.text.trim_end());
                let Some(next) = block.get(i + 1) else { break };
                let wrapped = same_size(line.size, next.size)
                    && right(line.size)
                        .is_some_and(|edge| edge - line.x1 < next.first_word_width() + line.size)
                    && !starts_with_bullet(&next.text)
                    && !line.text.contains('\t')
                    && !next.text.contains('\t');
                if !wrapped {
                    out.push('\n');
                } else if crate::text::joins_hyphenated(&out, next.text.trim_start()) {
                    out.pop();
                } else {
                    out.push(' ');
                }
            }
            start = end;
        }
        out
    }

    fn push_line(&mut self, breaks: bool) {
        self.lines.push(Line {
            breaks: breaks || self.page_break || self.lines.is_empty(),
            page: self.page,
            ..Line::default()
        });
        self.page_break = false;
    }
}

/// A list bullet, or a symbol font's private-use character (a bullet as
/// Word's PDFs map it).
fn starts_with_bullet(line: &str) -> bool {
    line.trim_start().starts_with(|c: char| {
        matches!(
            c,
            '•' | '●' | '▪' | '◦' | '‣' | '-' | '–' | '*' | '\u{f0b7}' | '\u{f0a7}'
        ) || ('\u{e000}'..='\u{f8ff}').contains(&c)
    })
}

impl OutputDev for Lines {
    fn begin_page(
        &mut self,
        page: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.flip = Some(Transform::row_major(
            1.,
            0.,
            0.,
            -1.,
            0.,
            media_box.ury - media_box.lly,
        ));
        self.page_break = true;
        self.page = page;
        self.last = None;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        let at = match &self.flip {
            Some(flip) => trm.post_transform(flip),
            None => *trm,
        };
        // The glyph's size on the page, whatever its rotation: the font size
        // times the square root of the text matrix's area scale.
        let det = trm.m11 * trm.m22 - trm.m12 * trm.m21;
        let size = (font_size * det.abs().sqrt()).abs().max(1e-3);
        let (x, y) = (at.m31, at.m32);
        match self.last {
            None => self.push_line(true),
            Some((end, last_y, last_size)) => {
                let dy = y - last_y;
                let line = size.max(last_size);
                if dy.abs() > 0.5 * line || x < end - 2.0 * line {
                    // A new line; a gap of more than a line and a half
                    // between baselines, or a jump up (the next column),
                    // starts a new block.
                    self.push_line(dy > 1.9 * line || dy < -0.5 * line);
                } else if self.word_start && x > end + 0.12 * size {
                    let gap = if x > end + 2.5 * size { '\t' } else { ' ' };
                    if let Some(l) = self.lines.last_mut() {
                        l.first_word.get_or_insert(l.x1 - l.x0);
                        l.text.push(gap);
                    }
                }
            }
        }
        let l = self.lines.last_mut().expect("a line was pushed");
        if l.text.is_empty() {
            l.x0 = x;
        } else if char.trim().is_empty() {
            l.first_word.get_or_insert(l.x1 - l.x0);
        }
        l.text.push_str(char);
        l.x1 = x + width * size;
        l.size = l.size.max(size);
        self.word_start = false;
        self.last = Some((x + width * size, y, size));
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.word_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
