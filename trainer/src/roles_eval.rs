//! `rolemapper roles --eval`: how often the role ranking finds the right
//! ISCO-08 unit group and Nesta sector, on two labelled sets built from data
//! available here, against two baselines.
//!
//! - `onet_tasks`: each O*NET occupation's task statements (PyPI
//!   `laiser==1.0`) as one job-post-like text; the gold occupations are the
//!   ESCO occupations the role table attaches to that O*NET occupation
//!   (Nesta's crosswalk), with their ISCO groups and sectors. Split by a hash
//!   of the O*NET code: `dev` (30 %) chose the score's weights, `test`
//!   reports.
//! - `dotin`: the Dotin CVs whose first `Designation` (the CV's own job
//!   title) is, as a whole, an ESCO occupation label (after dropping a
//!   seniority word such as "Senior"); every labelled designation is blanked
//!   out of the text, so the ranking cannot read the answer. Never used for
//!   tuning.
//!
//! Top-k at the ISCO level: one of the first k roles is in a gold ISCO group;
//! at the sector level: one of the first k fields is a gold sector.

use crate::dataset::bucket;
use crate::{dotin, pypi};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use skills::highlight::{Highlighter, Linker, SkillSpan};
use skills::lexicon::{phrase_key, Lexicon};
use skills::matcher::PhraseMatcher;
use skills::roles::{Evidence, RoleModel, ScoreConfig};
use skills::text::SentenceSplitter;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const ONET_TASKS_CSV: &str = "laiser/public/task_taxonomy.csv";
/// Titles carry weight at least this (τ): job titles are part of the
/// product's evidence, but the labelled sets cannot measure them (O*NET
/// tasks name other occupations; the Dotin labels are the titles).
const TITLE_FLOOR: f32 = 0.15;
/// Share of O*NET occupations in the development split.
const DEV_PERCENT: u64 = 30;
/// Words that qualify a job title without changing the occupation.
const SENIORITY: &[&str] = &[
    "senior",
    "sr",
    "junior",
    "jr",
    "associate",
    "trainee",
    "lead",
    "principal",
    "chief",
];

/// The weights the product admits: titles count (see [`TITLE_FLOOR`]),
/// essential skills weigh more than optional ones, and O*NET technology
/// skills count as supporting evidence. Within the grid the differences
/// these constraints exclude are within the noise of the dev split.
fn admissible(c: &ScoreConfig) -> bool {
    c.title >= TITLE_FLOOR && c.optional < 1.0 && c.tech > 0.0
}

/// One labelled text.
#[derive(Debug, Clone)]
pub struct Doc {
    pub id: String,
    /// `onet_tasks` or `dotin`.
    pub set: &'static str,
    /// `dev` or `test`.
    pub split: &'static str,
    pub text: String,
    pub gold_isco: BTreeSet<String>,
    pub gold_sectors: BTreeSet<String>,
}

/// The O*NET task-statement texts, labelled through the role table.
pub fn onet_docs(roles: &RoleModel, cache: &Path) -> Result<Vec<Doc>> {
    let laiser = pypi::fetch(cache, &pypi::LAISER)?;
    let (rows, _) = pypi::read_csv(&laiser, ONET_TASKS_CSV)?;
    let mut tasks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &rows {
        if r.get(2) != Some("onet_task") {
            continue;
        }
        let (Some(task), Some(desc)) = (r.get(0), r.get(1)) else {
            continue;
        };
        let title = desc.split(" | ").next().unwrap_or_default();
        tasks
            .entry(title.to_owned())
            .or_default()
            .push(task.to_owned());
    }
    let table = roles.table();
    let mut docs = Vec::new();
    for (j, onet) in table.onet.iter().enumerate() {
        let Some(statements) = tasks.get(&onet.title) else {
            continue;
        };
        let gold: Vec<usize> = (0..table.occupations.len())
            .filter(|&o| table.occupations[o].onet == Some(j as u32))
            .collect();
        docs.push(Doc {
            id: onet.code.clone(),
            set: "onet_tasks",
            split: if bucket("roles-eval-v1", &onet.code) < DEV_PERCENT {
                "dev"
            } else {
                "test"
            },
            text: statements.join("\n"),
            gold_isco: gold
                .iter()
                .map(|&o| table.occupations[o].isco.clone())
                .collect(),
            gold_sectors: gold.iter().filter_map(|&o| sector_of(roles, o)).collect(),
        });
    }
    Ok(docs)
}

fn sector_of(roles: &RoleModel, o: usize) -> Option<String> {
    let table = roles.table();
    let code = table.occupations[o].sub_sector.as_deref()?;
    table
        .sectors
        .iter()
        .find(|s| s.sub_sectors.iter().any(|x| x.code == code))
        .map(|s| s.name.clone())
}

/// The Dotin CVs whose own job title names an ESCO occupation, with every
/// designation blanked out. Also returns how many CVs were read.
pub fn dotin_docs(roles: &RoleModel, shared: &Path) -> Result<(Vec<Doc>, usize)> {
    let table = roles.table();
    // ESCO labels only: O*NET alternate titles reach occupations through the
    // crosswalk, which would make the gold label depend on it.
    let mut by_label: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for (o, occ) in table.occupations.iter().enumerate() {
        for t in std::iter::once(&occ.title).chain(&occ.titles) {
            if let Some(k) = phrase_key(t) {
                by_label.entry(k).or_default().insert(o);
            }
        }
    }
    let paths = crate::dotin::files(shared)?;
    let mut docs = Vec::new();
    let mut seen = BTreeSet::new();
    for p in &paths {
        let xml = std::fs::read_to_string(p)?;
        let Ok(cv) = designations(&xml) else { continue };
        if !seen.insert(cv.text.clone()) {
            continue;
        }
        let Some(first) = cv.spans.first() else {
            continue;
        };
        let Some(gold) = esco_title(&by_label, &cv.text[first.clone()]) else {
            continue;
        };
        let mut text = cv.text.clone();
        for s in &cv.spans {
            let blank: String = text[s.clone()]
                .chars()
                .map(|c| if c == '\n' { c } else { ' ' })
                .collect();
            text.replace_range(s.clone(), &blank);
        }
        docs.push(Doc {
            id: p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            set: "dotin",
            split: "test",
            text,
            gold_isco: gold
                .iter()
                .map(|&o| table.occupations[o].isco.clone())
                .collect(),
            gold_sectors: gold.iter().filter_map(|&o| sector_of(roles, o)).collect(),
        });
    }
    Ok((docs, seen.len()))
}

/// A Dotin CV with its `Designation` spans. The reader keeps the spans of
/// the skill label types only, so the designations are read as a skill type
/// under another name (and the skill types under none).
fn designations(xml: &str) -> Result<dotin::Cv> {
    let mut xml = xml.to_owned();
    for t in dotin::SKILL_TYPES {
        xml = xml.replace(&format!("type=\"{t}\""), "type=\"\"");
    }
    let xml = xml.replace(
        "type=\"Designation\"",
        &format!("type=\"{}\"", dotin::SKILL_TYPES[0]),
    );
    dotin::parse(&xml)
}

/// The ESCO occupations a job title names, as a whole or without its
/// seniority words.
fn esco_title<'a>(
    by_label: &'a HashMap<String, BTreeSet<usize>>,
    title: &str,
) -> Option<&'a BTreeSet<usize>> {
    by_label.get(&phrase_key(title)?).or_else(|| {
        let rest: Vec<&str> = title
            .split_whitespace()
            .skip_while(|w| SENIORITY.contains(&w.to_lowercase().trim_end_matches('.')))
            .collect();
        by_label.get(&phrase_key(&rest.join(" "))?)
    })
}

/// How the skills of a text are found.
#[derive(Clone, Copy)]
pub enum Skills<'a> {
    /// The tagger's spans, linked by the lexicon (what `rolemapper roles` and the app do).
    Model(&'a Highlighter),
    /// Every lexicon phrase in the text (the phrase matcher).
    Gazetteer(&'a PhraseMatcher, &'a Lexicon),
}

/// The skill spans of one text, cached.
#[derive(Serialize, Deserialize)]
struct Cached {
    id: String,
    sha256: String,
    /// (start byte, end byte, canonical skill name when the lexicon links it)
    spans: Vec<(usize, usize, Option<String>)>,
}

/// The skill spans of each doc (the tagger's, or the phrase matcher's),
/// cached in `cache` (a JSONL file) by the text's hash, since the tagger
/// takes minutes over a set and scoring milliseconds.
pub fn doc_spans(
    docs: &[Doc],
    skills: Skills,
    cache: Option<&Path>,
) -> Result<Vec<Vec<SkillSpan>>> {
    let sha = |t: &str| format!("{:x}", Sha256::digest(t.as_bytes()));
    let mut known: HashMap<String, Vec<(usize, usize, Option<String>)>> = HashMap::new();
    if let Some(path) = cache.filter(|p| p.exists()) {
        for line in std::fs::read_to_string(path)?.lines() {
            if let Ok(c) = serde_json::from_str::<Cached>(line) {
                known.insert(c.sha256, c.spans);
            }
        }
    }
    let mut out = Vec::with_capacity(docs.len());
    let mut lines = String::new();
    for (i, d) in docs.iter().enumerate() {
        let key = sha(&d.text);
        let spans = match known.remove(&key) {
            Some(n) => n,
            None => {
                if i % 50 == 0 {
                    eprintln!(
                        "roles --eval: finding skills, {} {}/{}",
                        d.set,
                        i,
                        docs.len()
                    );
                }
                match skills {
                    Skills::Model(h) => h
                        .highlight(&d.text)?
                        .into_iter()
                        .map(|s| (s.bytes.start, s.bytes.end, s.skill))
                        .collect(),
                    Skills::Gazetteer(m, lex) => m
                        .find(&d.text)
                        .into_iter()
                        .map(|x| {
                            let name = lex.concept(x.concept).map(|c| c.name.clone());
                            (x.bytes.start, x.bytes.end, name)
                        })
                        .collect(),
                }
            }
        };
        lines += &serde_json::to_string(&Cached {
            id: d.id.clone(),
            sha256: key,
            spans: spans.clone(),
        })?;
        lines.push('\n');
        out.push(
            spans
                .into_iter()
                .map(|(start, end, skill)| SkillSpan {
                    bytes: start..end,
                    skill,
                    score: 1.0,
                })
                .collect(),
        );
    }
    if let Some(path) = cache {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::data::write_atomic(path, lines.as_bytes())?;
    }
    Ok(out)
}

/// Hits per measure over a set of docs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Accuracy {
    pub n: usize,
    pub isco_top1: f64,
    pub isco_top5: f64,
    pub sector_top1: f64,
    pub sector_top5: f64,
}

impl Accuracy {
    /// The selection objective: mean of the four.
    pub fn mean(&self) -> f64 {
        (self.isco_top1 + self.isco_top5 + self.sector_top1 + self.sector_top5) / 4.0
    }
}

/// Scores predicted (ISCO groups, sectors) lists, best first, against the docs' gold.
fn accuracy(
    docs: &[&Doc],
    predicted: impl Iterator<Item = (Vec<String>, Vec<String>)>,
) -> Accuracy {
    let mut a = Accuracy::default();
    for (d, (isco, sectors)) in docs.iter().zip(predicted) {
        let hit = |xs: &[String], gold: &BTreeSet<String>, k: usize| {
            f64::from(u8::from(xs.iter().take(k).any(|x| gold.contains(x))))
        };
        a.n += 1;
        a.isco_top1 += hit(&isco, &d.gold_isco, 1);
        a.isco_top5 += hit(&isco, &d.gold_isco, 5);
        a.sector_top1 += hit(&sectors, &d.gold_sectors, 1);
        a.sector_top5 += hit(&sectors, &d.gold_sectors, 5);
    }
    let n = a.n.max(1) as f64;
    a.isco_top1 /= n;
    a.isco_top5 /= n;
    a.sector_top1 /= n;
    a.sector_top5 /= n;
    a
}

/// The evidence of each doc, as `rolemapper roles` and the app find it
/// (sentence by sentence, [`RoleModel::evidence_by_sentence`]): its spans
/// and, with a linker, the lexicon phrases outside them.
pub fn evidence(
    roles: &RoleModel,
    docs: &[&Doc],
    spans: &[&Vec<SkillSpan>],
    linker: Option<&Linker>,
) -> Vec<Evidence> {
    let splitter = SentenceSplitter::new();
    docs.iter()
        .zip(spans)
        .map(|(d, s)| roles.evidence_by_sentence(&d.text, &splitter.split(&d.text), s, linker))
        .collect()
}

/// The ranking's accuracy over docs with the given evidence.
pub fn score(roles: &RoleModel, docs: &[&Doc], evidence: &[Evidence]) -> Accuracy {
    accuracy(
        docs,
        evidence.iter().map(|e| {
            let r = roles.rank(e, 5);
            (
                r.roles.iter().map(|x| x.isco.clone()).collect(),
                r.fields.iter().map(|f| f.sector.clone()).collect(),
            )
        }),
    )
}

/// The most frequent gold ISCO groups and sectors of `train`, predicted for every doc.
pub fn most_frequent(train: &[&Doc], docs: &[&Doc]) -> Accuracy {
    let top = |f: &dyn Fn(&Doc) -> &BTreeSet<String>| -> Vec<String> {
        let mut n: BTreeMap<&str, usize> = BTreeMap::new();
        for d in train {
            for x in f(d) {
                *n.entry(x).or_default() += 1;
            }
        }
        let mut v: Vec<(&str, usize)> = n.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.into_iter().take(5).map(|(x, _)| x.to_owned()).collect()
    };
    let isco = top(&|d| &d.gold_isco);
    let sectors = top(&|d| &d.gold_sectors);
    accuracy(docs, docs.iter().map(|_| (isco.clone(), sectors.clone())))
}

/// The grid of weights searched on the development split (the list's
/// sector diversity, which cannot change a top-1, is set apart).
pub fn grid() -> Vec<ScoreConfig> {
    let mut out = Vec::new();
    for optional in [0.5, 1.0] {
        for tech in [0.0, 0.25, 0.5, 1.0] {
            for coverage in [0.0, 0.1, 0.25, 0.5] {
                for idf_power in [0.5, 1.0, 1.5, 2.0] {
                    for field_temperature in [0.01, 0.02, 0.05] {
                        for title in [0.0, 0.15, 0.3] {
                            out.push(ScoreConfig {
                                optional,
                                tech,
                                coverage,
                                idf_power,
                                field_temperature,
                                title,
                                ..ScoreConfig::default()
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// `| … |` row of a markdown table.
pub fn row(set: &str, method: &str, a: &Accuracy) -> String {
    format!(
        "| {set} | {method} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
        a.n, a.isco_top1, a.isco_top5, a.sector_top1, a.sector_top5
    )
}

pub const HEADER: &str = "| set | method | texts | ISCO top-1 | ISCO top-5 | sector top-1 | sector top-5 |\n|---|---|---:|---:|---:|---:|---:|";

/// Where `run` finds its inputs.
pub struct Options {
    /// The role table file (its loading is timed).
    pub table: PathBuf,
    pub shared: PathBuf,
    pub cache: PathBuf,
    /// Folder for the cached skills of each text (git-ignored `data/roles-eval`).
    pub work: PathBuf,
}

/// The whole evaluation: weights chosen on `onet_tasks` dev, then the
/// report table on `onet_tasks` test and `dotin`, as markdown.
pub fn run(
    roles: &mut RoleModel,
    highlighter: &Highlighter,
    lexicon: &Lexicon,
    opts: &Options,
) -> Result<String> {
    let started = std::time::Instant::now();
    let onet = onet_docs(roles, &opts.cache)?;
    let (dotin, cvs) = dotin_docs(roles, &opts.shared)?;
    let mut out = format!(
        "labelled sets: onet_tasks {} texts ({} dev, {} test); dotin {} of {} distinct CVs have an ESCO job title\n\n",
        onet.len(),
        onet.iter().filter(|d| d.split == "dev").count(),
        onet.iter().filter(|d| d.split == "test").count(),
        dotin.len(),
        cvs
    );
    let matcher = PhraseMatcher::from_lexicon(lexicon, |_| true)?;
    let cache = |mode: &str, set: &str| opts.work.join(format!("{mode}.{set}.jsonl"));
    let model_onet = doc_spans(
        &onet,
        Skills::Model(highlighter),
        Some(&cache("model", "onet_tasks")),
    )?;
    let model_dotin = doc_spans(
        &dotin,
        Skills::Model(highlighter),
        Some(&cache("model", "dotin")),
    )?;
    let gaz_onet = doc_spans(
        &onet,
        Skills::Gazetteer(&matcher, lexicon),
        Some(&cache("gazetteer", "onet_tasks")),
    )?;
    let gaz_dotin = doc_spans(
        &dotin,
        Skills::Gazetteer(&matcher, lexicon),
        Some(&cache("gazetteer", "dotin")),
    )?;
    let linker = highlighter.linker.as_ref();
    eprintln!(
        "roles --eval: skills found in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let pick = |split: &str| -> (Vec<&Doc>, Vec<&Vec<SkillSpan>>, Vec<&Vec<SkillSpan>>) {
        let idx: Vec<usize> = (0..onet.len())
            .filter(|&i| onet[i].split == split)
            .collect();
        (
            idx.iter().map(|&i| &onet[i]).collect(),
            idx.iter().map(|&i| &model_onet[i]).collect(),
            idx.iter().map(|&i| &gaz_onet[i]).collect(),
        )
    };
    let (dev, dev_model, _) = pick("dev");
    let (test, test_model, test_gaz) = pick("test");
    let dotin_refs: Vec<&Doc> = dotin.iter().collect();

    // 1. Weights: the grid on dev, model skills.
    let chosen = *roles.score_config();
    let dev_ev = evidence(roles, &dev, &dev_model, linker);
    let mut results: Vec<(ScoreConfig, Accuracy)> = grid()
        .into_iter()
        .map(|cfg| {
            roles.set_score(cfg);
            (cfg, score(roles, &dev, &dev_ev))
        })
        .collect();
    results.sort_by(|a, b| b.1.mean().total_cmp(&a.1.mean()));
    let selected = results
        .iter()
        .find(|(c, _)| admissible(c))
        .map(|(c, _)| *c)
        .expect("the grid has titled weights");
    out += "weights on onet_tasks dev (model skills), best 10 of the grid by the mean of the four measures:\n\n";
    out += "| optional | tech | coverage λ | idf power | field T | title τ | ISCO top-1 | ISCO top-5 | sector top-1 | sector top-5 |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (c, a) in results.iter().take(10) {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            c.optional,
            c.tech,
            c.coverage,
            c.idf_power,
            c.field_temperature,
            c.title,
            a.isco_top1,
            a.isco_top5,
            a.sector_top1,
            a.sector_top5
        );
    }
    out += &format!(
        "\nselected (the best with title τ ≥ {TITLE_FLOOR}, optional below essential, technology skills above 0): {selected:?}; {}\n",
        if selected == chosen {
            "ScoreConfig::default() is the same".to_owned()
        } else {
            format!("ScoreConfig::default() differs ({chosen:?}): update it and run again")
        }
    );
    // Each component of the chosen weights changed alone, on dev.
    out += "\nthe chosen weights (`ScoreConfig::default()`) and one change at a time, onet_tasks dev:\n\n";
    out += HEADER;
    out.push('\n');
    let variants: Vec<(&str, ScoreConfig)> = vec![
        ("chosen", chosen),
        (
            "no specificity (idf power 0)",
            ScoreConfig {
                idf_power: 0.0,
                ..chosen
            },
        ),
        if chosen.optional < 1.0 {
            (
                "optional = essential (β = 1)",
                ScoreConfig {
                    optional: 1.0,
                    ..chosen
                },
            )
        } else {
            (
                "optional at half weight (β = 0.5)",
                ScoreConfig {
                    optional: 0.5,
                    ..chosen
                },
            )
        },
        (
            "no O*NET technology skills (γ = 0)",
            ScoreConfig {
                tech: 0.0,
                ..chosen
            },
        ),
        (
            "explained share only (λ = 0)",
            ScoreConfig {
                coverage: 0.0,
                ..chosen
            },
        ),
        (
            "covered share only (λ = 1)",
            ScoreConfig {
                coverage: 1.0,
                ..chosen
            },
        ),
        (
            "no titles (τ = 0)",
            ScoreConfig {
                title: 0.0,
                ..chosen
            },
        ),
        (
            "field from the first roles only (T / 5)",
            ScoreConfig {
                field_temperature: chosen.field_temperature / 5.0,
                ..chosen
            },
        ),
        (
            "a plain list (no diversity: d_s = d_g = 0)",
            ScoreConfig {
                sector_diversity: 0.0,
                group_diversity: 0.0,
                ..chosen
            },
        ),
        (
            "ISCO-group diversity only (d_s = 0)",
            ScoreConfig {
                sector_diversity: 0.0,
                ..chosen
            },
        ),
        (
            "sector diversity only (d_g = 0)",
            ScoreConfig {
                group_diversity: 0.0,
                ..chosen
            },
        ),
        (
            "more sector diversity (d_s = 0.2)",
            ScoreConfig {
                sector_diversity: 0.2,
                ..chosen
            },
        ),
        (
            "more ISCO-group diversity (d_g = 0.4)",
            ScoreConfig {
                group_diversity: 0.4,
                ..chosen
            },
        ),
    ];
    for (name, cfg) in &variants {
        roles.set_score(*cfg);
        out += &row("onet_tasks dev", name, &score(roles, &dev, &dev_ev));
        out.push('\n');
    }

    // 2. The report: baselines and the chosen weights on held-out texts.
    out += "\nheld-out results:\n\n";
    out += HEADER;
    out.push('\n');
    let none: Vec<Vec<SkillSpan>> = vec![Vec::new(); onet.len().max(dotin.len())];
    struct HeldOut<'a> {
        name: &'a str,
        docs: &'a [&'a Doc],
        /// Where the most frequent labels are counted.
        train: &'a [&'a Doc],
        model: Vec<&'a Vec<SkillSpan>>,
        gaz: Vec<&'a Vec<SkillSpan>>,
    }
    let sets = [
        HeldOut {
            name: "onet_tasks test",
            docs: &test,
            train: &dev,
            model: test_model.clone(),
            gaz: test_gaz,
        },
        HeldOut {
            name: "dotin (titles blanked)",
            docs: &dotin_refs,
            train: &dotin_refs,
            model: model_dotin.iter().collect(),
            gaz: gaz_dotin.iter().collect(),
        },
    ];
    for HeldOut {
        name,
        docs,
        train,
        model,
        gaz,
    } in sets
    {
        out += &row(
            name,
            "most frequent (ISCO group / sector)",
            &most_frequent(train, docs),
        );
        out.push('\n');
        roles.set_score(ScoreConfig {
            title: 1.0,
            ..chosen
        });
        let titles_only = evidence(
            roles,
            docs,
            &none.iter().take(docs.len()).collect::<Vec<_>>(),
            None,
        );
        out += &row(name, "job title alone", &score(roles, docs, &titles_only));
        out.push('\n');
        roles.set_score(chosen);
        for (method, spans, linker) in [
            (
                "**RoleMapper** (tagger spans + lexicon phrases, as shipped)",
                &model,
                linker,
            ),
            ("RoleMapper, tagger spans only", &model, None),
            ("RoleMapper, phrase matcher only", &gaz, None),
        ] {
            out += &row(
                name,
                method,
                &score(roles, docs, &evidence(roles, docs, spans, linker)),
            );
            out.push('\n');
        }
    }
    roles.set_score(chosen);
    let ev = evidence(roles, &test, &test_model, linker);
    let mentions: usize = ev.iter().map(|e| e.mentions.len()).sum();
    // The best of five rounds: the machine may be busy with other work.
    let per_text = (0..5)
        .map(|_| {
            let timer = std::time::Instant::now();
            for e in &ev {
                std::hint::black_box(roles.rank(e, 10));
            }
            timer.elapsed().as_secs_f64() / ev.len().max(1) as f64
        })
        .fold(f64::INFINITY, f64::min);
    out += &format!(
        "\nranking time: {:.0} µs per text ({:.0} skill mentions on average, top 10 with matched and missing skills and fields; onet_tasks test, one thread, best of 5 rounds)\n",
        per_text * 1e6,
        mentions as f64 / ev.len().max(1) as f64
    );
    let bytes = std::fs::read(&opts.table)?;
    let mut load = f64::INFINITY;
    for _ in 0..3 {
        let timer = std::time::Instant::now();
        std::hint::black_box(RoleModel::from_gzip(&bytes)?);
        load = load.min(timer.elapsed().as_secs_f64());
    }
    out += &format!(
        "loading the table ({} bytes): {:.0} ms (decompress, parse, index; best of 3)\n",
        bytes.len(),
        load * 1e3
    );
    out += &format!("\n({:.0} s)\n", started.elapsed().as_secs_f64());
    Ok(out)
}
