//! From highlighted spans to what the panels show: distinct skills with
//! their occurrences, the CV ↔ job comparison, and the exports (plain
//! text, JSON, CSV).
//!
//! A skill's identity is its canonical name when the lexicon links the
//! phrase, else the phrase lower-cased with its whitespace collapsed, so
//! that "Python" and "python" count once and a CV and a job post agree on
//! what is shared.

use crate::marks::span_text_in;
use crate::protocol::Span;
use serde::Serialize;

/// One distinct skill of a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skill {
    /// Identity (see the module doc).
    pub key: String,
    /// What the panel shows: the canonical name, or the first phrase seen.
    pub label: String,
    /// Whether the lexicon linked it to a canonical skill.
    pub linked: bool,
    pub occurrences: Vec<Occurrence>,
}

/// One place a skill occurs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occurrence {
    /// UTF-16 offsets into the text.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub score: f32,
}

impl Skill {
    pub fn count(&self) -> usize {
        self.occurrences.len()
    }

    /// Mean confidence over the occurrences.
    pub fn score(&self) -> f32 {
        self.occurrences.iter().map(|o| o.score).sum::<f32>() / self.count().max(1) as f32
    }
}

/// The identity of a phrase with this canonical name (or none).
pub fn key_of(phrase: &str, skill: Option<&str>) -> String {
    match skill {
        Some(name) => name.to_owned(),
        None => phrase
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    }
}

/// What the panel shows for a phrase: its canonical name, except that a
/// lower-case name ("rust", "etl pipelines": the lexicon's sources often
/// lose capitals) shows as the phrase was written.
fn label_of(phrase: &str, skill: Option<&str>) -> String {
    match skill {
        Some(name) if name.to_lowercase() != name || phrase.to_lowercase() != name => {
            name.to_owned()
        }
        _ => phrase.to_owned(),
    }
}

/// Distinct skills of `text`, most frequent first, then in order of first
/// occurrence. Spans outside the text are skipped.
pub fn collect(text: &str, spans: &[Span]) -> Vec<Skill> {
    let mut out: Vec<Skill> = Vec::new();
    let units: Vec<u16> = text.encode_utf16().collect();
    for s in spans {
        let Some(phrase) = span_text_in(&units, s) else {
            continue;
        };
        let key = key_of(&phrase, s.skill.as_deref());
        let occurrence = Occurrence {
            start: s.start,
            end: s.end,
            text: phrase.clone(),
            score: s.score,
        };
        let label = label_of(&phrase, s.skill.as_deref());
        match out.iter_mut().find(|k| k.key == key) {
            Some(k) => {
                if s.skill.is_some() && !k.linked {
                    k.label = label;
                    k.linked = true;
                }
                k.occurrences.push(occurrence)
            }
            None => out.push(Skill {
                label,
                key,
                linked: s.skill.is_some(),
                occurrences: vec![occurrence],
            }),
        }
    }
    // Stable: ties keep the order of first occurrence.
    out.sort_by_key(|k| std::cmp::Reverse(k.count()));
    out
}

/// A CV against a job post.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Job skills the CV has.
    pub shared: Vec<Entry>,
    /// Job skills the CV lacks.
    pub missing: Vec<Entry>,
    /// CV skills the job does not ask for.
    pub extra: Vec<Entry>,
}

/// A skill in a [`Match`] list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub label: String,
}

impl Match {
    pub fn new(cv: &[Skill], job: &[Skill]) -> Self {
        let has = |set: &[Skill], k: &Skill| set.iter().any(|x| x.key == k.key);
        let labels = |set: &[Skill], other: &[Skill], want: bool| -> Vec<Entry> {
            set.iter()
                .filter(|k| has(other, k) == want)
                .map(|k| Entry {
                    key: k.key.clone(),
                    label: k.label.clone(),
                })
                .collect()
        };
        Self {
            shared: labels(job, cv, true),
            missing: labels(job, cv, false),
            extra: labels(cv, job, false),
        }
    }

    /// Share of the job's skills that the CV covers, in percent; `None`
    /// when the job post has no skills.
    pub fn score(&self) -> Option<u32> {
        let total = self.shared.len() + self.missing.len();
        (total > 0).then(|| (100.0 * self.shared.len() as f64 / total as f64).round() as u32)
    }
}

/// The skills as plain text, one a line: `label (count)`.
pub fn to_text(skills: &[Skill]) -> String {
    skills
        .iter()
        .map(|k| {
            if k.count() > 1 {
                format!("{} ({})\n", k.label, k.count())
            } else {
                format!("{}\n", k.label)
            }
        })
        .collect()
}

/// One skill as the JSON exports write it.
#[derive(Serialize)]
struct Row<'a> {
    skill: &'a str,
    linked: bool,
    count: usize,
    score: f32,
    occurrences: &'a [Occurrence],
}

fn rows(skills: &[Skill]) -> Vec<Row<'_>> {
    skills
        .iter()
        .map(|k| Row {
            skill: &k.label,
            linked: k.linked,
            count: k.count(),
            score: (k.score() * 1000.0).round() / 1000.0,
            occurrences: &k.occurrences,
        })
        .collect()
}

/// The skills as pretty JSON.
pub fn to_json(skills: &[Skill]) -> String {
    #[derive(Serialize)]
    struct Export<'a> {
        generator: &'static str,
        skills: Vec<Row<'a>>,
    }
    serde_json::to_string_pretty(&Export {
        generator: "RoleMapper",
        skills: rows(skills),
    })
    .expect("skills serialize")
}

/// The report (what the printed report shows) as pretty JSON: the text,
/// its highlights (code-point offsets, as `rolemapper tag` gives them),
/// the skills, and, where roles were ranked for this text, the field and
/// the top roles with their matched and missing skills.
pub fn report_json(
    text: &str,
    spans: &[Span],
    skills: &[Skill],
    ranking: Option<&skills::roles::Ranking>,
) -> String {
    #[derive(Serialize)]
    struct Highlight<'a> {
        start: usize,
        end: usize,
        text: &'a str,
        skill: Option<&'a str>,
        score: f32,
    }
    #[derive(Serialize)]
    struct Report<'a> {
        generator: &'static str,
        text: &'a str,
        highlights: Vec<Highlight<'a>>,
        skills: Vec<Row<'a>>,
        field: Option<&'a skills::roles::Field>,
        roles: &'a [skills::roles::RoleMatch],
    }
    let map = skills::offsets::OffsetMap::new(text);
    let highlights = spans
        .iter()
        .filter_map(|s| {
            let chars = map.utf16_to_char(s.start)?..map.utf16_to_char(s.end)?;
            let bytes = map.utf16_to_bytes(s.start..s.end)?;
            Some(Highlight {
                start: chars.start,
                end: chars.end,
                text: &text[bytes],
                skill: s.skill.as_deref(),
                score: (s.score * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    serde_json::to_string_pretty(&Report {
        generator: "RoleMapper",
        text,
        highlights,
        skills: rows(skills),
        field: ranking.and_then(|r| r.field.as_ref()),
        roles: ranking.map_or(&[], |r| &r.roles),
    })
    .expect("the report serializes")
}

/// The skills as CSV (RFC 4180): `skill,linked,count,score,phrases`.
/// Fields that a spreadsheet would run as a formula are prefixed with `'`.
pub fn to_csv(skills: &[Skill]) -> String {
    let mut out = String::from("skill,linked,count,score,phrases\r\n");
    for k in skills {
        let mut phrases: Vec<&str> = Vec::new();
        for o in &k.occurrences {
            if !phrases.contains(&o.text.as_str()) {
                phrases.push(&o.text);
            }
        }
        out.push_str(&format!(
            "{},{},{},{:.3},{}\r\n",
            csv_field(&k.label),
            k.linked,
            k.count(),
            k.score(),
            csv_field(&phrases.join("; "))
        ));
    }
    out
}

fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, phrase: &str, nth: usize, skill: Option<&str>) -> Span {
        let byte = text.match_indices(phrase).nth(nth).unwrap().0;
        let start = text[..byte].encode_utf16().count();
        Span {
            start,
            end: start + phrase.encode_utf16().count(),
            skill: skill.map(str::to_owned),
            score: 0.5,
        }
    }

    #[test]
    fn skills_are_counted_by_canonical_name_or_folded_phrase() {
        let text = "python, Python and Machine  Learning; machine learning, ML";
        let spans = [
            span(text, "python", 0, Some("Python")),
            span(text, "Python", 0, Some("Python")),
            span(text, "Machine  Learning", 0, None),
            span(text, "machine learning", 0, None),
            span(text, "ML", 0, Some("machine learning")),
        ];
        let skills = collect(text, &spans);
        let summary: Vec<(&str, usize, bool)> = skills
            .iter()
            .map(|k| (k.label.as_str(), k.count(), k.linked))
            .collect();
        assert_eq!(
            summary,
            [("machine learning", 3, true), ("Python", 2, true)]
        );
        assert_eq!(skills[1].occurrences[1].text, "Python");
    }

    #[test]
    fn lower_case_canonical_names_show_as_written() {
        assert_eq!(
            label_of("ETL pipelines", Some("etl pipelines")),
            "ETL pipelines"
        );
        assert_eq!(
            label_of("pipelines", Some("etl pipelines")),
            "etl pipelines"
        );
        assert_eq!(label_of("python", Some("Python")), "Python");
        assert_eq!(label_of("Go", None), "Go");
    }

    #[test]
    fn match_scores_the_share_of_job_skills_covered() {
        let cv_text = "Rust and SQL and Docker";
        let job_text = "SQL, Kubernetes, rust";
        let cv = collect(
            cv_text,
            &[
                span(cv_text, "Rust", 0, Some("Rust")),
                span(cv_text, "SQL", 0, Some("SQL")),
                span(cv_text, "Docker", 0, None),
            ],
        );
        let job = collect(
            job_text,
            &[
                span(job_text, "SQL", 0, Some("SQL")),
                span(job_text, "Kubernetes", 0, None),
                span(job_text, "rust", 0, Some("Rust")),
            ],
        );
        let m = Match::new(&cv, &job);
        let labels = |es: &[Entry]| es.iter().map(|e| e.label.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&m.shared), ["SQL", "Rust"]);
        assert_eq!(labels(&m.missing), ["Kubernetes"]);
        assert_eq!(labels(&m.extra), ["Docker"]);
        assert_eq!(m.score(), Some(67));
        assert_eq!(Match::new(&cv, &[]).score(), None);
    }

    #[test]
    fn exports_quote_and_defuse_fields() {
        let text = "=HYPERLINK(x), \"C, C++\"";
        let spans = [
            span(text, "=HYPERLINK(x)", 0, None),
            span(text, "\"C, C++\"", 0, Some("C, \"C++\"")),
        ];
        let skills = collect(text, &spans);
        let csv = to_csv(&skills);
        assert_eq!(
            csv,
            "skill,linked,count,score,phrases\r\n\
             '=HYPERLINK(x),false,1,0.500,'=HYPERLINK(x)\r\n\
             \"C, \"\"C++\"\"\",true,1,0.500,\"\"\"C, C++\"\"\"\r\n"
        );
        let json: serde_json::Value = serde_json::from_str(&to_json(&skills)).unwrap();
        assert_eq!(json["skills"][1]["skill"], "C, \"C++\"");
        assert_eq!(json["skills"][1]["occurrences"][0]["start"], 15);
        assert_eq!(to_text(&skills), "=HYPERLINK(x)\nC, \"C++\"\n");
    }
}
