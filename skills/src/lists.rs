//! List completion: in a comma list where the model found skills, an item
//! it left untagged that is, as a whole, a skill the lexicon knows is
//! tagged too.
//!
//! Why: on real CVs the shipped model's most-missed exact spans were plain
//! tools the lexicon knows, inside comma lists (`SAP, SQL, Oracle,
//! Eclipse, Blue Prism`): the model reads a long list's middle less surely
//! than its ends. A list is a run of short items joined by one connector
//! each (`,` `;` `|` `and` `or` `&`) with at least one comma; it counts as a
//! skill list when the model tagged one of its items (a middle item
//! exactly, the first item's end, the last item's start). Items are never
//! cut: only a whole item of at most [`MAX_ITEM_WORDS`] words that the
//! [`Linker`] links, and that the model left all `O`, becomes a span.

use crate::bio::Tag;
use crate::highlight::Linker;
use std::ops::Range;

/// The longest item that may be added (in words).
pub const MAX_ITEM_WORDS: usize = 4;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    /// Joins two items of a list; `true` for a comma.
    Connector(bool),
    /// Ends a list (and starts the next): `:`, brackets, dashes, bullets, full stops.
    Boundary,
}

fn kind(w: &str) -> Kind {
    match w {
        "," => Kind::Connector(true),
        ";" | "|" | "&" => Kind::Connector(false),
        _ if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") => {
            Kind::Connector(false)
        }
        ":" | "(" | ")" | "[" | "]" | "-" | "–" | "—" | "•" | "·" | "*" | "." | "!" | "?" => {
            Kind::Boundary
        }
        _ => Kind::Word,
    }
}

/// Tags the untagged, lexicon-linked items of `words`' skill lists (see
/// the module doc) in `tags` (one per word); returns how many spans it
/// added.
pub fn complete(words: &[&str], tags: &mut [Tag], linker: &Linker) -> usize {
    assert_eq!(words.len(), tags.len(), "a tag per word");
    let kinds: Vec<Kind> = words.iter().map(|w| kind(w)).collect();
    // Lists: runs of items, each pair joined by exactly one connector.
    let mut lists: Vec<(Vec<Range<usize>>, bool)> = Vec::new();
    let mut items: Vec<Range<usize>> = Vec::new();
    let mut comma = false;
    let mut i = 0;
    let flush = |items: &mut Vec<Range<usize>>, comma: &mut bool, lists: &mut Vec<_>| {
        if items.len() >= 2 && *comma {
            lists.push((std::mem::take(items), true));
        }
        items.clear();
        *comma = false;
    };
    while i < words.len() {
        match kinds[i] {
            Kind::Word => {
                let start = i;
                while i < words.len() && kinds[i] == Kind::Word {
                    i += 1;
                }
                items.push(start..i);
                // The next item must follow a single connector.
                match kinds.get(i) {
                    Some(Kind::Connector(c)) if kinds.get(i + 1) == Some(&Kind::Word) => {
                        comma |= *c;
                        i += 1;
                    }
                    _ => flush(&mut items, &mut comma, &mut lists),
                }
            }
            _ => {
                flush(&mut items, &mut comma, &mut lists);
                i += 1;
            }
        }
    }
    flush(&mut items, &mut comma, &mut lists);

    let mut added = 0;
    for (items, _) in lists {
        let last = items.len() - 1;
        let evidence = items.iter().enumerate().any(|(k, r)| {
            let starts = tags[r.start] == Tag::B;
            let ends = tags[r.end - 1] != Tag::O && tags.get(r.end) != Some(&Tag::I);
            match k {
                0 => ends,
                k if k == last => starts,
                _ => starts && ends && tags[r.start + 1..r.end].iter().all(|t| *t == Tag::I),
            }
        });
        if !evidence {
            continue;
        }
        for r in items {
            if r.len() > MAX_ITEM_WORDS || tags[r.clone()].iter().any(|t| *t != Tag::O) {
                continue;
            }
            let phrase = words[r.clone()].join(" ");
            if linker.link(&phrase).is_some() {
                tags[r.start] = Tag::B;
                tags[r.start + 1..r.end].fill(Tag::I);
                added += 1;
            }
        }
    }
    added
}

/// Joins adjacent spans that the lexicon knows as one skill: the model
/// sometimes splits a multi-word tool in two (`Apache` | `Spark`). A run of
/// at most [`MAX_ITEM_WORDS`] tagged words, holding two spans or more with
/// no word, punctuation or connector between them, becomes one span when
/// the [`Linker`] links the whole run. Returns how many runs it joined.
pub fn join_split(words: &[&str], tags: &mut [Tag], linker: &Linker) -> usize {
    assert_eq!(words.len(), tags.len(), "a tag per word");
    let mut joined = 0;
    let mut i = 0;
    while i < words.len() {
        if tags[i] == Tag::O {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < words.len() && tags[i] != Tag::O {
            i += 1;
        }
        let run = start..i;
        let spans = tags[run.clone()].iter().filter(|t| **t == Tag::B).count()
            + usize::from(tags[start] == Tag::I);
        if spans < 2
            || run.len() > MAX_ITEM_WORDS
            || words[run.clone()].iter().any(|w| kind(w) != Kind::Word)
        {
            continue;
        }
        if linker.link(&words[run.clone()].join(" ")).is_some() {
            tags[start] = Tag::B;
            tags[start + 1..run.end].fill(Tag::I);
            joined += 1;
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::{Concept, Lexicon};

    fn linker() -> Linker {
        let concepts = [
            "SAP",
            "SQL",
            "Oracle",
            "Eclipse",
            "Blue Prism",
            "Python",
            "teamwork",
            "Apache Spark",
            "Apache",
        ]
        .iter()
        .map(|n| Concept {
            name: n.to_string(),
            source: "test".into(),
            aliases: Vec::new(),
        })
        .collect();
        Linker::new(&Lexicon {
            sources: Vec::new(),
            concepts,
        })
        .unwrap()
    }

    fn run(sentence: &str, tagged: &[&str]) -> String {
        let words: Vec<&str> = sentence.split(' ').collect();
        let mut tags = vec![Tag::O; words.len()];
        for t in tagged {
            let n = t.split(' ').count();
            let at = (0..words.len())
                .find(|&i| words[i..].starts_with(&t.split(' ').collect::<Vec<_>>()))
                .unwrap();
            tags[at] = Tag::B;
            tags[at + 1..at + n].fill(Tag::I);
        }
        complete(&words, &mut tags, &linker());
        let mut spans = Vec::new();
        for r in crate::bio::tags_to_spans(&tags) {
            spans.push(words[r].join(" "));
        }
        spans.join(" | ")
    }

    #[test]
    fn joins_split_spans_the_lexicon_knows_whole() {
        let join = |sentence: &str, tags: &[Tag]| {
            let words: Vec<&str> = sentence.split(' ').collect();
            let mut tags = tags.to_vec();
            join_split(&words, &mut tags, &linker());
            crate::bio::tags_to_spans(&tags)
                .into_iter()
                .map(|r| words[r].join(" "))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        use Tag::{B, I, O};
        assert_eq!(
            join("SQL , Apache Spark , SAP", &[B, O, B, B, O, B]),
            "SQL | Apache Spark | SAP"
        );
        // Not a skill as a whole, or across punctuation: left as it is.
        assert_eq!(join("Python SQL", &[B, B]), "Python | SQL");
        assert_eq!(join("Apache , Spark", &[B, B, B]), "Apache | , | Spark");
        // One span already: unchanged.
        assert_eq!(join("Apache Spark", &[B, I]), "Apache Spark");
    }

    #[test]
    fn completes_skill_lists_only() {
        // The middle of a list the model started.
        assert_eq!(
            run(
                "Tools : SAP , SQL , Oracle , Eclipse and Blue Prism .",
                &["SAP", "Blue Prism"]
            ),
            "SAP | SQL | Oracle | Eclipse | Blue Prism"
        );
        // The first item's end is evidence; untagged long items stay as they are.
        assert_eq!(
            run("I used Python , SQL and Oracle daily", &["Python"]),
            "Python | SQL"
        );
        // No model evidence: nothing added.
        assert_eq!(run("SAP , SQL , Oracle", &[]), "");
        // Not a list (no comma), or an item the lexicon does not know.
        assert_eq!(run("Python and SQL", &["Python"]), "Python");
        assert_eq!(
            run("Python , my SQL , Oracle", &["Python"]),
            "Python | Oracle"
        );
        // Partly tagged items are left to the model.
        assert_eq!(
            run("Python , Blue Prism , SQL", &["Python", "Blue"]),
            "Python | Blue | SQL"
        );
    }
}
