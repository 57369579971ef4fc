//! Highlights on a text that keeps changing: spans computed for an older
//! text are carried over to the current one, and the text is cut into the
//! plain and marked pieces the editor's backdrop shows.
//!
//! All offsets are UTF-16 code units (JavaScript string indices), the units
//! of `textarea.value` and `setSelectionRange`.

use crate::protocol::Span;

/// Spans of `old` moved onto `new`: the edit is the part between the two
/// texts' common prefix and common suffix; spans before it stay, spans after
/// it shift by the change in length, spans touching it are dropped until
/// the worker answers for the new text. This keeps highlights steady while
/// the user types, with no request in flight.
pub fn carry_over(old: &str, spans: &[Span], new: &str) -> Vec<Span> {
    if old == new {
        return spans.to_vec();
    }
    let a: Vec<u16> = old.encode_utf16().collect();
    let b: Vec<u16> = new.encode_utf16().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let (edit_start, old_edit_end) = (prefix, a.len() - suffix);
    let delta = b.len() as isize - a.len() as isize;
    // A span next to the edit survives only if the edit did not join a word
    // to it ("SQL" → "SQLite", "SQL" → "MySQL"); the others keep the
    // characters around them ("scikit-learn." far before the edit stays).
    let word = |at: Option<usize>| {
        at.and_then(|i| b.get(i))
            .and_then(|&u| char::from_u32(u32::from(u)))
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-' | '_'))
    };
    spans
        .iter()
        .filter_map(|s| {
            if s.end <= edit_start {
                (s.end < edit_start || !word(Some(s.end))).then(|| s.clone())
            } else if s.start >= old_edit_end {
                let start = (s.start as isize + delta) as usize;
                (s.start > old_edit_end || !word(start.checked_sub(1))).then(|| Span {
                    start,
                    end: (s.end as isize + delta) as usize,
                    ..s.clone()
                })
            } else {
                None
            }
        })
        .collect()
}

/// A piece of the text: plain, or the span with index `mark`.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub mark: Option<usize>,
}

/// Cuts `text` at the spans (sorted, disjoint, UTF-16 offsets within the
/// text; others are skipped) into pieces that concatenate to `text`.
pub fn pieces(text: &str, spans: &[Span]) -> Vec<Piece> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut out = Vec::new();
    let mut at = 0;
    let plain = |r: std::ops::Range<usize>| String::from_utf16_lossy(&units[r]);
    for (i, s) in spans.iter().enumerate() {
        if s.start < at || s.end > units.len() || s.start >= s.end {
            continue;
        }
        if s.start > at {
            out.push(Piece {
                text: plain(at..s.start),
                mark: None,
            });
        }
        out.push(Piece {
            text: plain(s.start..s.end),
            mark: Some(i),
        });
        at = s.end;
    }
    if at < units.len() {
        out.push(Piece {
            text: plain(at..units.len()),
            mark: None,
        });
    }
    out
}

/// A piece of one line of the backdrop: plain, or (part of) span `mark`;
/// `start` is its first UTF-16 unit counted from the line's start.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePiece {
    pub text: String,
    pub mark: Option<usize>,
    pub start: usize,
}

/// `text`'s lines (cut at each `\n`, which no line keeps; a text has one
/// more line than line breaks), each cut into pieces at the spans as
/// [`pieces`] does.
pub fn lines(text: &str, spans: &[Span]) -> Vec<Vec<LinePiece>> {
    let mut out = vec![Vec::new()];
    let (mut at, mut line_start) = (0, 0);
    for p in pieces(text, spans) {
        for (j, segment) in p.text.split('\n').enumerate() {
            if j > 0 {
                at += 1;
                line_start = at;
                out.push(Vec::new());
            }
            if !segment.is_empty() {
                out.last_mut().expect("one line at least").push(LinePiece {
                    text: segment.to_owned(),
                    mark: p.mark,
                    start: at - line_start,
                });
                at += segment.encode_utf16().count();
            }
        }
    }
    out
}

/// The HTML of each of the backdrop's lines (see [`lines`]): its text
/// escaped, each span in a `<mark>` (`data-start`: its first UTF-16 unit
/// counted from the line's start; class `linked` when it has a canonical
/// skill, `active` for span `active`).
///
/// The backdrop is one `<div>` per line, so that an edit redraws the lines
/// it changed only (see `dom::patch_backdrop`): offsets relative to the line
/// keep the other lines' HTML as it was. Replacing the whole backdrop made
/// the browser parse, lay out, shape and paint all of it, twice per
/// keystroke (the carried-over spans, then the answer).
pub fn backdrop_lines(text: &str, spans: &[Span], active: Option<usize>) -> Vec<String> {
    use std::fmt::Write;
    lines(text, spans)
        .iter()
        .map(|line| {
            let mut html = String::new();
            for p in line {
                match p.mark {
                    None => escape_into(&mut html, &p.text),
                    Some(i) => {
                        let _ = match mark_class(&spans[i], active == Some(i)) {
                            "" => write!(html, "<mark data-start=\"{}\">", p.start),
                            class => {
                                write!(html, "<mark class=\"{class}\" data-start=\"{}\">", p.start)
                            }
                        };
                        escape_into(&mut html, &p.text);
                        html.push_str("</mark>");
                    }
                }
            }
            html
        })
        .collect()
}

/// Lines' HTML, each in a `<div>`.
pub fn wrap_lines(lines: &[String]) -> String {
    let mut html = String::with_capacity(lines.iter().map(|l| l.len() + 11).sum());
    for l in lines {
        html.push_str("<div>");
        html.push_str(l);
        html.push_str("</div>");
    }
    html
}

/// The line of UTF-16 offset `at` in `text` and `at` counted from that
/// line's start (`None` past the end).
pub fn line_of(text: &str, at: usize) -> Option<(usize, usize)> {
    if text.encode_utf16().count() < at {
        return None;
    }
    let (line, start) = line_starts(text)
        .take_while(|&s| s <= at)
        .enumerate()
        .last()
        .expect("the first line starts at 0");
    Some((line, at - start))
}

/// The index of the span at unit `start` of line `line` (what a backdrop
/// mark's line and `data-start` say).
pub fn span_at(text: &str, spans: &[Span], line: usize, start: usize) -> Option<usize> {
    let at = line_starts(text).nth(line)? + start;
    spans.iter().position(|s| s.start <= at && at < s.end)
}

/// The UTF-16 offset where each of `text`'s lines starts.
fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(
        text.encode_utf16()
            .enumerate()
            .filter(|&(_, u)| u == NEWLINE)
            .map(|(i, _)| i + 1),
    )
}

/// `\n` in UTF-16.
const NEWLINE: u16 = b'\n' as u16;

/// A backdrop mark's classes: `linked` when its span has a canonical skill,
/// `active` when it is the hovered one (`""` for neither).
pub fn mark_class(span: &Span, active: bool) -> &'static str {
    match (span.skill.is_some(), active) {
        (false, false) => "",
        (true, false) => "linked",
        (false, true) => "active",
        (true, true) => "linked active",
    }
}

/// `text` as HTML text content.
fn escape_into(html: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>']) {
        html.push_str(&rest[..at]);
        html.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        rest = &rest[at + 1..];
    }
    html.push_str(rest);
}

/// The text of `span` in `text`, or `None` when it lies outside.
pub fn span_text(text: &str, span: &Span) -> Option<String> {
    span_text_in(&text.encode_utf16().collect::<Vec<u16>>(), span)
}

/// [`span_text`] in a text's UTF-16 units (encode the text once for many
/// spans: per span it cost ≈ 1 ms per keystroke on a 600-word CV).
pub fn span_text_in(units: &[u16], span: &Span) -> Option<String> {
    (span.start <= span.end && span.end <= units.len())
        .then(|| String::from_utf16_lossy(&units[span.start..span.end]))
}

/// Characters (UTF-16 units) inside marks: what the end-to-end test counts.
pub fn marked_units(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.end - s.start).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize) -> Span {
        Span {
            start,
            end,
            skill: None,
            score: 1.0,
        }
    }

    fn texts(text: &str, spans: &[Span]) -> Vec<String> {
        spans.iter().map(|s| span_text(text, s).unwrap()).collect()
    }

    #[test]
    fn spans_follow_an_edit_before_them_and_stay_before_it() {
        let old = "Python and SQL";
        let spans = [span(0, 6), span(11, 14)];
        let new = "Python and also SQL";
        assert_eq!(texts(new, &carry_over(old, &spans, new)), ["Python", "SQL"]);
        // Deleting before a span.
        let new = "Python SQL";
        assert_eq!(texts(new, &carry_over(old, &spans, new)), ["Python", "SQL"]);
    }

    #[test]
    fn spans_away_from_the_edit_stay_whatever_is_next_to_them() {
        // Marks before a full stop or after a "#" are not next to the edit:
        // they must not blink off at every keystroke.
        let old = "Rust. I use C# and .NET. Also Go.";
        let spans = [span(0, 4), span(12, 14), span(19, 23), span(30, 32)];
        let new = "Rust. I use C# and .NET. Also Go.".replace("Also", "Also x");
        assert_eq!(
            texts(&new, &carry_over(old, &spans, &new)),
            ["Rust", "C#", ".NET", "Go"]
        );
        // Next to the edit, a joined word still drops the span.
        let new = "Rust. I use C# and .NETX. Also Go.";
        assert_eq!(
            texts(new, &carry_over(old, &spans, new)),
            ["Rust", "C#", "Go"]
        );
    }

    #[test]
    fn a_span_being_typed_in_is_dropped_until_the_answer() {
        let old = "Python and SQL";
        let spans = [span(0, 6), span(11, 14)];
        let new = "Python and SQLite";
        assert_eq!(texts(new, &carry_over(old, &spans, new)), ["Python"]);
        let new = "Pyhon and SQL";
        assert_eq!(texts(new, &carry_over(old, &spans, new)), ["SQL"]);
    }

    #[test]
    fn offsets_are_utf16_units() {
        let old = "😀 Rust";
        let spans = [span(3, 7)];
        assert_eq!(texts(old, &spans), ["Rust"]);
        let new = "😀😀 Rust";
        assert_eq!(texts(new, &carry_over(old, &spans, new)), ["Rust"]);
        let p = pieces(new, &carry_over(old, &spans, new));
        assert_eq!(p.iter().map(|p| p.text.as_str()).collect::<String>(), new);
        assert_eq!(p.last().unwrap().mark, Some(0));
    }

    #[test]
    fn pieces_cover_the_text_and_skip_bad_spans() {
        let text = "a <b>Rust</b> c";
        let spans = [span(5, 9), span(6, 8), span(14, 40)];
        let p = pieces(text, &spans);
        assert_eq!(
            p,
            [
                Piece {
                    text: "a <b>".into(),
                    mark: None
                },
                Piece {
                    text: "Rust".into(),
                    mark: Some(0)
                },
                Piece {
                    text: "</b> c".into(),
                    mark: None
                },
            ]
        );
        assert!(pieces("", &[]).is_empty());
    }

    #[test]
    fn the_backdrop_is_the_text_escaped_with_marks() {
        let text = "a <b>Rust</b> & \"C\" 😀 Go";
        let linked = Span {
            skill: Some("Go".into()),
            ..span(23, 25)
        };
        let spans = [span(5, 9), linked];
        assert_eq!(
            wrap_lines(&backdrop_lines(text, &spans, Some(1))),
            "<div>a &lt;b&gt;<mark data-start=\"5\">Rust</mark>&lt;/b&gt; &amp; \"C\" 😀 \
             <mark class=\"linked active\" data-start=\"23\">Go</mark></div>"
        );
        // Empty lines are empty divs (the style gives them a line's height).
        assert_eq!(wrap_lines(&backdrop_lines("", &[], None)), "<div></div>");
        assert_eq!(
            wrap_lines(&backdrop_lines("x\n", &[span(0, 1)], Some(0))),
            "<div><mark class=\"active\" data-start=\"0\">x</mark></div><div></div>"
        );
    }

    #[test]
    fn a_line_s_html_does_not_depend_on_the_other_lines() {
        // Marks count from their line's start, so an edit on one line leaves
        // the others' HTML as it was.
        let text = "Rust\n😀 Go and SQL";
        let spans = [span(0, 4), span(8, 10), span(15, 18)];
        let lines = backdrop_lines(text, &spans, None);
        assert_eq!(
            lines,
            [
                "<mark data-start=\"0\">Rust</mark>",
                "😀 <mark data-start=\"3\">Go</mark> and <mark data-start=\"10\">SQL</mark>",
            ]
        );
        let edited = "Rust, C\n😀 Go and SQL";
        let moved = carry_over(text, &spans, edited);
        assert_eq!(backdrop_lines(edited, &moved, None)[1], lines[1]);
        // A mark's line and data-start lead back to its span, in UTF-16 units.
        assert_eq!(line_of(text, 8), Some((1, 3)));
        assert_eq!(line_of(text, 15), Some((1, 10)));
        assert_eq!(line_of(text, 18), Some((1, 13)));
        assert_eq!(line_of(text, 19), None);
        assert_eq!(span_at(text, &spans, 0, 0), Some(0));
        assert_eq!(span_at(text, &spans, 1, 3), Some(1));
        assert_eq!(span_at(text, &spans, 1, 10), Some(2));
        assert_eq!(span_at(text, &spans, 1, 0), None);
        assert_eq!(span_at(text, &spans, 2, 0), None);
    }

    #[test]
    fn lines_split_a_span_across_a_line_break() {
        let p = lines("a\nb c\n", &[span(0, 3)]);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[0],
            [LinePiece {
                text: "a".into(),
                mark: Some(0),
                start: 0
            }]
        );
        assert_eq!(p[1][0].mark, Some(0));
        assert_eq!((p[1][0].text.as_str(), p[1][0].start), ("b", 0));
        assert_eq!((p[1][1].text.as_str(), p[1][1].mark), (" c", None));
        assert!(p[2].is_empty());
    }
}
