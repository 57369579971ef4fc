//! DOCX (Office Open XML) and ODT (OpenDocument Text): a zip of XML parts,
//! read with `zip` and `quick-xml`. The body's paragraphs, headings, list
//! items and table rows become lines; list items start with `• `, table
//! cells are separated by a tab. Headers, footers, comments and styles are
//! left out. A member is unpacked through a counting reader that stops at
//! [`crate::MAX_UNPACKED_BYTES`], whatever the zip's directory claims.

use crate::{ExtractError, Format, MAX_UNPACKED_BYTES};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::io::{Cursor, Read};

/// DOCX or ODT from a zip's members (`None`: a zip, but neither); a zip
/// that does not open (truncated, damaged) is refused as the format its
/// name says (`ext`), DOCX by default.
pub fn detect(bytes: &[u8], ext: &str) -> Result<Option<Format>, ExtractError> {
    let format = if ext == "odt" {
        Format::Odt
    } else {
        Format::Docx
    };
    let mut zip = open(bytes, format)?;
    if zip.index_for_name("word/document.xml").is_some() {
        return Ok(Some(Format::Docx));
    }
    if zip.index_for_name("content.xml").is_some() {
        let mime = member(&mut zip, Format::Odt, "mimetype")?;
        if mime.starts_with(b"application/vnd.oasis.opendocument.text") {
            return Ok(Some(Format::Odt));
        }
    }
    Ok(None)
}

/// One member's bytes, at most [`MAX_UNPACKED_BYTES`].
fn member(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    format: Format,
    name: &str,
) -> Result<Vec<u8>, ExtractError> {
    let corrupt = |detail: String| ExtractError::Corrupt { format, detail };
    let file = zip
        .by_name(name)
        .map_err(|e| corrupt(format!("{name}: {e}")))?;
    let mut out = Vec::new();
    let read = file
        .take(MAX_UNPACKED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(format!("{name}: {e}")))?;
    if read as u64 > MAX_UNPACKED_BYTES {
        return Err(ExtractError::ZipBomb {
            format,
            member: name.to_string(),
            limit: MAX_UNPACKED_BYTES,
        });
    }
    Ok(out)
}

fn open(bytes: &[u8], format: Format) -> Result<zip::ZipArchive<Cursor<&[u8]>>, ExtractError> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ExtractError::Corrupt {
        format,
        detail: format!("its zip structure is broken: {e}"),
    })
}

/// The text of a DOCX's `word/document.xml`.
pub fn docx(bytes: &[u8]) -> Result<String, ExtractError> {
    let xml = member(
        &mut open(bytes, Format::Docx)?,
        Format::Docx,
        "word/document.xml",
    )?;
    walk(&xml, Format::Docx, |tag, start, e, doc| {
        match (tag, start) {
            (b"w:p", true) => doc.paragraph_start(),
            (b"w:p", false) => doc.paragraph_end(),
            // Word puts a list paragraph's numbering in its properties, or in
            // its style ("List Bullet", "List Paragraph").
            (b"w:numPr", true) => doc.list_item = true,
            // `w:numId 0` means "no numbering".
            (b"w:numId", true) if attr(e, b"w:val").as_deref() == Some("0") => {
                doc.list_item = false
            }
            // Text boxes come twice: as DrawingML (`mc:Choice`) and as VML for
            // older readers (`mc:Fallback`); the second is left out.
            (b"mc:Fallback", true) => doc.skip += 1,
            (b"mc:Fallback", false) => doc.skip = doc.skip.saturating_sub(1),
            (b"w:pStyle", true) if attr(e, b"w:val").is_some_and(|v| v.starts_with("List")) => {
                doc.list_item = true
            }
            (b"w:tab", true) if doc.in_paragraph => doc.para.push('\t'),
            (b"w:br" | b"w:cr", true) => doc.para.push('\n'),
            (b"w:t", true) => doc.text = true,
            (b"w:t", false) => doc.text = false,
            (b"w:tc", true) => doc.cell_start(),
            (b"w:tc", false) => doc.cell_end(),
            (b"w:tr", true) => doc.row_start(),
            (b"w:tr", false) => doc.row_end(),
            (b"w:sym", true) => {
                // A symbol-font character (Wingdings bullets and the like).
                if let Some(c) = attr(e, b"w:char").and_then(|v| u32::from_str_radix(&v, 16).ok()) {
                    doc.para.extend(char::from_u32(c));
                }
            }
            _ => {}
        }
    })
}

/// The text of an ODT's `content.xml`.
pub fn odt(bytes: &[u8]) -> Result<String, ExtractError> {
    let xml = member(&mut open(bytes, Format::Odt)?, Format::Odt, "content.xml")?;
    walk(&xml, Format::Odt, |tag, start, e, doc| match (tag, start) {
        (b"text:p" | b"text:h", true) => {
            doc.paragraph_start();
            doc.text = true;
        }
        (b"text:p" | b"text:h", false) => {
            doc.paragraph_end();
            doc.text = doc.in_paragraph;
        }
        (b"text:list-item", true) => {
            doc.list_depth += 1;
            doc.list_item = true;
        }
        (b"text:list-item", false) => {
            doc.list_depth = doc.list_depth.saturating_sub(1);
            doc.list_item = doc.list_depth > 0;
        }
        (b"text:tab", true) => doc.para.push('\t'),
        (b"text:line-break", true) => doc.para.push('\n'),
        (b"text:s", true) => {
            let n = attr(e, b"text:c")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1usize);
            doc.para.extend(std::iter::repeat_n(' ', n.min(64)));
        }
        (b"table:table-cell", true) => doc.cell_start(),
        (b"table:table-cell", false) => doc.cell_end(),
        (b"table:table-row", true) => doc.row_start(),
        (b"table:table-row", false) => doc.row_end(),
        // Notes' text would land in the middle of a sentence.
        (b"text:note" | b"office:annotation", true) => doc.skip += 1,
        (b"text:note" | b"office:annotation", false) => doc.skip = doc.skip.saturating_sub(1),
        _ => {}
    })
}

/// The text built while walking a document: a paragraph a line (a list
/// item's with `• `), a table row a line of tab-separated cells (a cell's
/// paragraphs joined by spaces). Tables inside cells add to their cell.
#[derive(Default)]
struct Doc {
    out: String,
    /// Character data is document text here.
    text: bool,
    in_paragraph: bool,
    list_item: bool,
    /// ODT list items open (lists nest).
    list_depth: usize,
    /// Paragraphs interrupted by a paragraph inside them (a DOCX text box,
    /// an ODT frame): their text so far and list mark, resumed after it.
    outer: Vec<(String, bool)>,
    /// DOCX marks a list paragraph in its own properties (so the mark ends
    /// with it); ODT's list item stays open over its paragraphs.
    list_per_paragraph: bool,
    /// Inside elements whose text is left out.
    skip: usize,
    para: String,
    /// Table nesting: rows, and cells, open.
    rows: usize,
    cells: usize,
    row: Vec<String>,
    cell: Vec<String>,
}

impl Doc {
    fn paragraph_start(&mut self) {
        if self.skip > 0 {
            return;
        }
        if self.in_paragraph {
            self.outer
                .push((std::mem::take(&mut self.para), self.list_item));
            self.list_item = false;
        }
        self.in_paragraph = true;
        self.para.clear();
    }

    fn paragraph_end(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.in_paragraph = false;
        let text = std::mem::take(&mut self.para);
        let text = text.trim();
        let line = if self.list_item && !text.is_empty() {
            format!("• {text}")
        } else {
            text.to_string()
        };
        if self.list_per_paragraph {
            self.list_item = false;
        }
        if self.cells > 0 {
            self.cell.push(line);
        } else if !line.is_empty() || self.outer.is_empty() {
            self.out.push_str(&line);
            self.out.push('\n');
        }
        if let Some((para, list_item)) = self.outer.pop() {
            // The interrupted paragraph goes on.
            self.para = para;
            self.list_item = list_item;
            self.in_paragraph = true;
        }
    }

    fn row_start(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.rows += 1;
        if self.rows == 1 {
            self.row.clear();
        }
    }

    fn cell_start(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.cells += 1;
    }

    fn cell_end(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.cells = self.cells.saturating_sub(1);
        if self.cells == 0 {
            let cell: Vec<String> = std::mem::take(&mut self.cell)
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            self.row.push(cell.join(" "));
        }
    }

    fn row_end(&mut self) {
        if self.skip > 0 {
            return;
        }
        self.rows = self.rows.saturating_sub(1);
        if self.rows == 0 {
            let row = std::mem::take(&mut self.row);
            self.out.push_str(row.join("\t").trim_end());
            self.out.push('\n');
        }
    }
}

/// An attribute's unescaped value.
fn attr(e: &quick_xml::events::BytesStart, name: &[u8]) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Walks `xml`'s elements, calling `on(tag, is_start, element, doc)` at
/// each start (and empty) and end tag, and appending character data to the
/// paragraph where `doc.text` says it is document text.
fn walk(
    xml: &[u8],
    format: Format,
    mut on: impl FnMut(&[u8], bool, &quick_xml::events::BytesStart, &mut Doc),
) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut doc = Doc {
        list_per_paragraph: format == Format::Docx,
        ..Doc::default()
    };
    let empty = quick_xml::events::BytesStart::new("");
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ExtractError::Corrupt {
                format,
                detail: format!(
                    "its XML is malformed at byte {}: {e}",
                    reader.error_position()
                ),
            })?;
        match &event {
            Event::Start(e) => on(e.name().as_ref(), true, e, &mut doc),
            Event::Empty(e) => {
                on(e.name().as_ref(), true, e, &mut doc);
                on(e.name().as_ref(), false, e, &mut doc);
            }
            Event::End(e) => on(e.name().as_ref(), false, &empty, &mut doc),
            Event::Text(t) if doc.text && doc.skip == 0 => {
                let t = t.unescape().map_err(|e| ExtractError::Corrupt {
                    format,
                    detail: e.to_string(),
                })?;
                doc.para.push_str(&t);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(doc.out)
}
