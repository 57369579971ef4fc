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
    // to it ("SQL" → "SQLite", "SQL" → "MySQL").
    let word = |at: Option<usize>| {
        at.and_then(|i| b.get(i))
            .and_then(|&u| char::from_u32(u32::from(u)))
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-' | '_'))
    };
    spans
        .iter()
        .filter_map(|s| {
            if s.end <= edit_start && !word(Some(s.end)) {
                Some(s.clone())
            } else if s.start >= old_edit_end {
                let start = (s.start as isize + delta) as usize;
                (!word(start.checked_sub(1))).then(|| Span {
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

/// The backdrop's HTML: `text` with each span in a `<mark>` (`data-i`: its
/// index, `data-start`: its first UTF-16 unit; class `linked` when it has a
/// canonical skill, `active` for span `active`), everything else escaped,
/// and a final space (a last line break needs a character after it to take
/// up a line).
///
/// One string for the whole backdrop, set as its `innerHTML`: building the
/// same nodes one by one through the DOM bindings took 4–5 ms of the main
/// thread per keystroke on a 600-word CV (two re-renders per keystroke:
/// the carried-over spans, then the answer).
pub fn backdrop_html(text: &str, spans: &[Span], active: Option<usize>) -> String {
    use std::fmt::Write;
    let mut html = String::with_capacity(text.len() + spans.len() * 56 + 1);
    for p in pieces(text, spans) {
        match p.mark {
            None => escape_into(&mut html, &p.text),
            Some(i) => {
                let s = &spans[i];
                let _ = match mark_class(s, active == Some(i)) {
                    "" => write!(html, "<mark data-i=\"{i}\" data-start=\"{}\">", s.start),
                    class => write!(
                        html,
                        "<mark class=\"{class}\" data-i=\"{i}\" data-start=\"{}\">",
                        s.start
                    ),
                };
                escape_into(&mut html, &p.text);
                html.push_str("</mark>");
            }
        }
    }
    html.push(' ');
    html
}

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
            backdrop_html(text, &spans, Some(1)),
            "a &lt;b&gt;<mark data-i=\"0\" data-start=\"5\">Rust</mark>&lt;/b&gt; &amp; \"C\" 😀 \
             <mark class=\"linked active\" data-i=\"1\" data-start=\"23\">Go</mark> "
        );
        assert_eq!(backdrop_html("", &[], None), " ");
        assert_eq!(
            backdrop_html("x\n", &[span(0, 1)], Some(0)),
            "<mark class=\"active\" data-i=\"0\" data-start=\"0\">x</mark>\n "
        );
    }
}
