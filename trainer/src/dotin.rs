//! Reader for the Dotin resume NER annotations: one CV per XML file, text
//! with inline `<label type="...">span</label>` elements.
//!
//! RoleMapper's `SKILL` is `Job Specific Skills` ∪ `Tech Tools` ∪ `Soft
//! Skills`; every other label is ordinary text.

use anyhow::{bail, Context, Result};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::ops::Range;

/// Label types that count as `SKILL`.
pub const SKILL_TYPES: [&str; 3] = ["Job Specific Skills", "Tech Tools", "Soft Skills"];

/// One CV: its raw text and its `SKILL` spans as byte ranges into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cv {
    pub text: String,
    pub spans: Vec<Range<usize>>,
}

/// The Dotin CV files under the reference data folder `shared`
/// (`dotin-cv/train/*.xml`), sorted by path.
pub fn files(shared: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let dir = shared.join("dotin-cv").join("train");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {} (see --shared)", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Parses one Dotin XML document.
pub fn parse(xml: &str) -> Result<Cv> {
    let mut reader = Reader::from_str(xml);
    let mut text = String::new();
    let mut spans = Vec::new();
    // Open labels: (start byte in `text`, is a skill label).
    let mut open: Vec<(usize, bool)> = Vec::new();
    // Text outside the root element (whitespace around it) is not CV text.
    let mut depth = 0usize;
    loop {
        let pos = reader.buffer_position();
        match reader
            .read_event()
            .with_context(|| format!("XML error near byte {pos}"))?
        {
            Event::Start(e) if e.name().as_ref() != b"label" => depth += 1,
            Event::End(e) if e.name().as_ref() != b"label" => depth = depth.saturating_sub(1),
            Event::Start(e) => {
                let kind = match e.try_get_attribute("type")? {
                    Some(a) => a.unescape_value()?.into_owned(),
                    None => String::new(),
                };
                open.push((text.len(), SKILL_TYPES.contains(&kind.as_str())));
            }
            Event::End(_) => {
                let Some((start, is_skill)) = open.pop() else {
                    bail!("</label> without <label> near byte {pos}")
                };
                if is_skill && start < text.len() {
                    spans.push(start..text.len());
                }
            }
            Event::Text(t) if depth > 0 => text.push_str(&decode_escaped_utf8(&t.unescape()?)),
            Event::CData(t) if depth > 0 => text.push_str(std::str::from_utf8(&t)?),
            Event::Eof => break,
            _ => {}
        }
    }
    if !open.is_empty() {
        bail!("{} <label> elements are never closed", open.len());
    }
    spans.sort_by_key(|s| (s.start, s.end));
    Ok(Cv { text, spans })
}

/// Some CVs were exported with their non-ASCII characters written out as
/// literal escapes (`\xe2\x80\xa2` for `•`). Runs of `\xHH` that decode
/// to valid UTF-8 become those characters; anything else is left as it is.
pub fn decode_escaped_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\\x") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let mut bytes = Vec::new();
        let mut run = rest;
        while let Some(b) = run
            .strip_prefix("\\x")
            .and_then(|r| r.get(..2))
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            bytes.push(b);
            run = &run[4..];
        }
        match String::from_utf8(bytes) {
            Ok(decoded) if !decoded.is_empty() => {
                out.push_str(&decoded);
                rest = run;
            }
            _ => {
                out.push_str("\\x");
                rest = &rest[2..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_skill_spans() {
        let xml = "<?xml version=\"1.0\"?>\n<cv>\n<label type=\"Name\">Ann</label> uses <label type=\"Tech Tools\">C&amp;C++</label>,\n\
                   <label type=\"Soft Skills\">teamwork</label> at <label type=\"Companies worked at\">Acme</label>.</cv>";
        let cv = parse(xml).unwrap();
        assert_eq!(cv.text, "\nAnn uses C&C++,\nteamwork at Acme.");
        let got: Vec<&str> = cv.spans.iter().map(|s| &cv.text[s.clone()]).collect();
        assert_eq!(got, ["C&C++", "teamwork"]);
    }

    #[test]
    fn literal_utf8_escapes_are_decoded() {
        assert_eq!(
            decode_escaped_utf8(r"\xe2\x80\xa2 Java \xc3\xa9t\xc3\xa9"),
            "• Java été"
        );
        assert_eq!(
            decode_escaped_utf8(r"C:\x \xff\xfe \xe2"),
            r"C:\x \xff\xfe \xe2",
            "invalid runs stay"
        );
        assert_eq!(decode_escaped_utf8("plain"), "plain");
        let cv = parse(r#"<cv><label type="Tech Tools">caf\xc3\xa9</label> \xe2\x80\xa2 x</cv>"#)
            .unwrap();
        assert_eq!(cv.text, "café • x");
        assert_eq!(&cv.text[cv.spans[0].clone()], "café");
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(parse("<cv><label type=\"Tech Tools\">x</cv>").is_err());
        assert!(parse("<cv><label type=\"Tech Tools\">x</label></label></cv>").is_err());
        assert!(parse("<cv>a &bogus; b</cv>").is_err());
    }
}
