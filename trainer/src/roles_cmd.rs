//! `rolemapper roles`: build the role table (`--build`) from the ESCO,
//! Nesta and O*NET files in `../shared/data/roles`, and rank the roles of
//! texts (one JSON line per file).
//!
//! The build is a pure function of those files (each pinned by SHA-256) and
//! the committed lexicon, whose canonical names the table uses: ESCO skills
//! are linked to lexicon concepts through their labels, O*NET technology
//! names through theirs, so a span's `skill` finds its occupations without
//! the lexicon or the bundle knowing about them.

use anyhow::{bail, Context, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use skills::highlight::{Highlighter, Linker};
use skills::lexicon::{clean_label, phrase_key};
use skills::roles::{
    clean_title, OnetOccupation, RoleModel, RoleTable, Sector, SourceFile, SubSector,
    TableOccupation, TableSkill, TableSource, FORMAT, OCCUPATION_URI_PREFIX, SKILL_URI_PREFIX,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// The committed table, relative to the repository root.
pub const TABLE: &str = "skills/roles/roles.json.gz";
const TABLE_FILE: &str = "roles.json.gz";

/// Input files under the shared data folder, pinned.
const ESCO_CLASSIFICATION: (&str, &str) = (
    "roles/esco-1.1.1/classification-en-csv.zip",
    "d86de115d120e9266fa7d86f104466fd72a63f8233110028b10e430372bc58a7",
);
const ESCO_RELATIONS: (&str, &str) = (
    "roles/esco-1.1.1/relations-csv.zip",
    "1612e3e01fbcbb4f37f69e0fe58d441db233142f1e9488280f041b2726977996",
);
const NESTA_SECTORS: (&str, &str) = (
    "roles/nesta/mcc_skills_based_sectors.csv",
    "a8ef832bbf74cdd107185d6e84d4b9c011a8e8a9c7a53668481ee78d0c1bae04",
);
const NESTA_MEMBERSHIP: (&str, &str) = (
    "roles/nesta/mcc_skills_based_sectors_All_ESCO.csv",
    "95a683fe18cb9e671caa99932128bd4ccc9de24c187080184c305f4f217eb335",
);
const NESTA_CROSSWALK: (&str, &str) = (
    "roles/nesta/esco_onet_crosswalk_Nov2020.csv",
    "b9a1ec484c99f282a3124f99678b8b39e847b3b7689410bb6d6b51807bd9d534",
);
const ONET_OCCUPATIONS: (&str, &str) = (
    "roles/onet-29.2/Occupation Data.xlsx",
    "13b2aa4c08e6c9a3708d5e5ac83e13da5cc184e3798313c8942a266d00593ace",
);
const ONET_TECHNOLOGY: (&str, &str) = (
    "roles/onet-29.2/Technology Skills.xlsx",
    "076c6dfb5cdd4ca5c45a24b163c625d27b249fe8a9bea6525bee0d7a84aafe7c",
);
const ONET_TITLES: (&str, &str) = (
    "roles/onet-29.2/Alternate Titles.xlsx",
    "2dd1ee54ed76a005e099cfb19ac7afea3bcd0528f1c919330f23f80d22d6ef77",
);

/// O*NET-SOC 2010 codes in Nesta's crosswalk that O*NET 29.2 (SOC 2019)
/// has neither under the same code, nor under the same title, nor as the
/// `.00` occupation of the same detailed code: the 2019 occupation that took
/// each over in the SOC 2010 → 2018 revision. Codes without a successor
/// (computer operators; excavating and dragline operators) are left out.
const SOC_2010_TO_2019: &[(&str, &str)] = &[
    ("11-2031.00", "11-2032.00"), // public relations and fundraising managers
    ("13-2021.01", "13-2023.00"), // assessors
    ("13-2021.02", "13-2023.00"), // appraisers, real estate
    ("15-1132.00", "15-1252.00"), // software developers, applications
    ("15-1133.00", "15-1252.00"), // software developers, systems software
    ("15-1199.01", "15-1253.00"), // software quality assurance engineers and testers
    ("15-1199.04", "15-1299.02"), // geospatial information scientists and technologists
    ("19-3031.02", "19-3033.00"), // clinical psychologists
    ("19-4041.01", "19-4043.00"), // geophysical data technicians
    ("25-4021.00", "25-4022.00"), // librarians
    ("25-9041.00", "25-9042.00"), // teacher assistants
    ("27-3022.00", "27-3023.00"), // reporters and correspondents
    ("29-1062.00", "29-1215.00"), // family and general practitioners
    ("29-1067.00", "29-1249.00"), // surgeons
    ("29-2041.00", "29-2042.00"), // emergency medical technicians and paramedics
    ("29-2054.00", "29-1126.00"), // respiratory therapy technicians
    ("29-2071.00", "29-2072.00"), // medical records and health information technicians
    ("39-1011.00", "39-1013.00"), // gaming supervisors
    ("43-5081.01", "53-7065.00"), // stock clerks, sales floor
    ("43-5081.03", "53-7065.00"), // stock clerks, stockroom, warehouse, or storage yard
    ("45-3011.00", "45-3031.00"), // fishers and related fishing workers
    ("45-3021.00", "45-3031.00"), // hunters and trappers
    ("47-5042.00", "47-5049.00"), // mine cutting and channeling machine operators
    ("51-4011.00", "51-9161.00"), // computer-controlled machine tool operators
    ("51-4012.00", "51-9162.00"), // CNC machine tool programmers
    ("51-9122.00", "51-9124.00"), // painters, transportation equipment
    ("53-3041.00", "53-3054.00"), // taxi drivers and chauffeurs
    ("53-4021.00", "53-4022.00"), // railroad brake, signal, and switch operators
];

/// Software vendors whose product names CVs use without the vendor
/// (`Excel`, `Photoshop`, `AutoCAD`): a technology named `Vendor Product`
/// also links through `Product` (see [`tech_forms`]).
const VENDORS: &[&str] = &["Microsoft", "Adobe", "Autodesk", "IBM", "SAP"];
/// A vendor-less product name must be this widespread in O*NET (occupations
/// listing it), which keeps out rare products named by a common word
/// (`Adobe Persuasion`).
const VENDOR_MIN_OCCUPATIONS: usize = 5;

/// Everything the build reads, parsed: the testable core ([`assemble`])
/// takes this and no files.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// ESCO occupations: URI, ISCO group, preferred label, alternative and hidden labels.
    pub occupations: Vec<EscoOccupation>,
    /// ESCO skills by URI: preferred label, then alternative labels.
    pub skills: HashMap<String, Vec<String>>,
    /// (occupation URI, essential, skill URI).
    pub relations: Vec<(String, bool, String)>,
    /// (narrower occupation URI, broader occupation URI).
    pub broader: Vec<(String, String)>,
    pub sectors: Vec<Sector>,
    /// Occupation URI → Nesta sub-sector code.
    pub sub_sector: HashMap<String, String>,
    /// (ESCO occupation URI, O*NET-SOC 2010 code, O*NET 2010 title).
    pub crosswalk: Vec<(String, String, String)>,
    /// O*NET 29.2 code → title.
    pub onet: BTreeMap<String, String>,
    /// (O*NET code, technology example).
    pub tech: Vec<(String, String)>,
    /// (O*NET code, alternate title).
    pub onet_titles: Vec<(String, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct EscoOccupation {
    pub uri: String,
    pub isco: String,
    pub title: String,
    pub labels: Vec<String>,
}

/// What the build linked and dropped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub occupations: usize,
    pub relations: usize,
    /// Relations whose skill links to a lexicon concept.
    pub relations_linked: usize,
    pub esco_skills: usize,
    pub esco_skills_linked: usize,
    pub skills: usize,
    pub with_sub_sector: usize,
    pub crosswalked_directly: usize,
    pub crosswalked_by_parent: usize,
    pub crosswalk_codes_unmapped: Vec<String>,
    pub onet: usize,
    pub tech_links: usize,
    pub tech_unlinked: usize,
    pub titles: usize,
}

/// Builds the table from `inputs`, naming skills by `linker`'s canonical
/// names. Deterministic: the same inputs in any order give the same table.
pub fn assemble(
    inputs: &Inputs,
    linker: &Linker,
    lexicon_sha256: &str,
    sources: Vec<TableSource>,
) -> (RoleTable, Report) {
    let mut report = Report::default();
    let strip = |uri: &str, prefix: &str| uri.strip_prefix(prefix).unwrap_or(uri).to_owned();

    // 1. Skills: ESCO skills named by the lexicon concept their labels link to.
    let used: BTreeSet<&str> = inputs
        .relations
        .iter()
        .map(|(_, _, s)| s.as_str())
        .collect();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Name → (phrase key → other label), the name itself left out.
    let mut other_labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut esco_name: HashMap<&str, String> = HashMap::new();
    for &uri in &used {
        let Some(labels) = inputs.skills.get(uri) else {
            continue;
        };
        report.esco_skills += 1;
        let linked = labels
            .iter()
            .flat_map(|l| clean_label(l))
            .find_map(|f| linker.link(&f).map(str::to_owned));
        if linked.is_some() {
            report.esco_skills_linked += 1;
        }
        let Some(name) = linked.or_else(|| labels.first().map(|l| collapse(l))) else {
            continue;
        };
        names
            .entry(name.clone())
            .or_default()
            .insert(strip(uri, SKILL_URI_PREFIX));
        let own = phrase_key(&name);
        let other = other_labels.entry(name.clone()).or_default();
        for form in labels.iter().flat_map(|l| clean_label(l)) {
            if let Some(k) = phrase_key(&form).filter(|k| Some(k) != own.as_ref()) {
                other.entry(k).or_insert(form);
            }
        }
        esco_name.insert(uri, name);
    }
    // O*NET technologies: linked through their cleaned names only.
    let mut spread: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (code, example) in &inputs.tech {
        spread
            .entry(example.as_str())
            .or_default()
            .insert(code.as_str());
    }
    let mut tech_name: HashMap<&str, Vec<String>> = HashMap::new();
    for (&example, codes) in &spread {
        let linked = tech_forms(example, codes.len())
            .iter()
            .filter_map(|f| linker.link(f).map(str::to_owned))
            .collect::<BTreeSet<_>>();
        if linked.is_empty() {
            report.tech_unlinked += 1;
        }
        for n in &linked {
            names.entry(n.clone()).or_default();
        }
        tech_name.insert(example, linked.into_iter().collect());
    }
    let skill_index: HashMap<&str, u32> = names
        .keys()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    report.skills = names.len();

    // 2. O*NET occupations that the crosswalk reaches.
    let onet_by_title: HashMap<String, &str> = inputs
        .onet
        .iter()
        .map(|(c, t)| (t.to_lowercase(), c.as_str()))
        .collect();
    let successor: HashMap<&str, &str> = SOC_2010_TO_2019.iter().copied().collect();
    let resolve = |code: &str, title: &str| -> Option<String> {
        if inputs.onet.contains_key(code) {
            return Some(code.to_owned());
        }
        if let Some(c) = onet_by_title.get(&title.to_lowercase()) {
            return Some((*c).to_owned());
        }
        if let Some(c) = successor.get(code) {
            return Some((*c).to_owned());
        }
        let base = format!("{}.00", code.split('.').next().unwrap_or(code));
        inputs.onet.contains_key(&base).then_some(base)
    };
    let mut direct: HashMap<&str, String> = HashMap::new();
    let mut unmapped = BTreeSet::new();
    for (uri, code, title) in &inputs.crosswalk {
        match resolve(code, title) {
            Some(c) => {
                direct.insert(uri.as_str(), c);
            }
            None => {
                unmapped.insert(code.clone());
            }
        }
    }
    report.crosswalk_codes_unmapped = unmapped.into_iter().collect();
    // Narrower occupations inherit the code of their nearest broader one.
    let parent: HashMap<&str, &str> = inputs
        .broader
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_str()))
        .collect();
    let onet_of = |uri: &str| -> Option<(String, bool)> {
        let mut at = uri;
        for depth in 0..16 {
            if let Some(c) = direct.get(at) {
                return Some((c.clone(), depth == 0));
            }
            at = parent.get(at)?;
        }
        None
    };
    let mut occupations: Vec<&EscoOccupation> = inputs.occupations.iter().collect();
    occupations.sort_by(|a, b| a.uri.cmp(&b.uri));
    occupations.dedup_by(|a, b| a.uri == b.uri);
    let occ_onet: Vec<Option<String>> = occupations
        .iter()
        .map(|o| {
            let found = onet_of(&o.uri);
            match &found {
                Some((_, true)) => report.crosswalked_directly += 1,
                Some((_, false)) => report.crosswalked_by_parent += 1,
                None => {}
            }
            found.map(|(c, _)| c)
        })
        .collect();
    let codes: BTreeSet<&str> = occ_onet.iter().flatten().map(String::as_str).collect();
    let onet_index: HashMap<&str, u32> = codes
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, i as u32))
        .collect();
    let mut onet: Vec<OnetOccupation> = codes
        .iter()
        .map(|&c| OnetOccupation {
            code: c.to_owned(),
            title: inputs.onet.get(c).cloned().unwrap_or_default(),
            tech: Vec::new(),
            titles: Vec::new(),
        })
        .collect();
    let mut tech: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); onet.len()];
    for (code, example) in &inputs.tech {
        if let Some(&j) = onet_index.get(code.as_str()) {
            for n in &tech_name[example.as_str()] {
                tech[j as usize].insert(skill_index[n.as_str()]);
            }
        }
    }
    let mut onet_titles: Vec<Vec<&str>> = vec![Vec::new(); onet.len()];
    for (code, title) in &inputs.onet_titles {
        if let Some(&j) = onet_index.get(code.as_str()) {
            onet_titles[j as usize].push(title);
        }
    }
    for ((o, t), titles) in onet.iter_mut().zip(tech).zip(onet_titles) {
        report.tech_links += t.len();
        o.tech = t.into_iter().collect();
        o.titles = titles_of(&o.title, titles, linker);
    }
    report.onet = onet.len();

    // 3. ESCO occupations with their skills, field and crosswalk.
    let mut essential: HashMap<&str, BTreeSet<u32>> = HashMap::new();
    let mut optional: HashMap<&str, BTreeSet<u32>> = HashMap::new();
    for (occ, is_essential, skill) in &inputs.relations {
        report.relations += 1;
        let Some(name) = esco_name.get(skill.as_str()) else {
            continue;
        };
        if linker.link(name).is_some() {
            report.relations_linked += 1;
        }
        let s = skill_index[name.as_str()];
        let side = if *is_essential {
            &mut essential
        } else {
            &mut optional
        };
        side.entry(occ.as_str()).or_default().insert(s);
    }
    let table_occupations: Vec<TableOccupation> = occupations
        .iter()
        .zip(&occ_onet)
        .map(|(o, code)| {
            let ess = essential.remove(o.uri.as_str()).unwrap_or_default();
            let opt: Vec<u32> = optional
                .remove(o.uri.as_str())
                .unwrap_or_default()
                .into_iter()
                .filter(|s| !ess.contains(s))
                .collect();
            let sub_sector = inputs.sub_sector.get(&o.uri).cloned();
            report.with_sub_sector += usize::from(sub_sector.is_some());
            TableOccupation {
                uri: strip(&o.uri, OCCUPATION_URI_PREFIX),
                title: o.title.clone(),
                isco: o.isco.clone(),
                sub_sector,
                onet: code.as_deref().map(|c| onet_index[c]),
                essential: ess.into_iter().collect(),
                optional: opt,
                titles: titles_of(
                    &o.title,
                    o.labels.iter().map(String::as_str).collect(),
                    linker,
                ),
            }
        })
        .collect();
    report.occupations = table_occupations.len();
    report.titles = table_occupations
        .iter()
        .map(|o| 1 + o.titles.len())
        .chain(onet.iter().map(|o| 1 + o.titles.len()))
        .sum();

    let table = RoleTable {
        format: FORMAT,
        lexicon_sha256: lexicon_sha256.to_owned(),
        sources,
        sectors: inputs.sectors.clone(),
        skills: names
            .into_iter()
            .map(|(name, esco)| TableSkill {
                labels: other_labels
                    .remove(&name)
                    .map(|l| l.into_values().collect())
                    .unwrap_or_default(),
                name,
                esco: esco.into_iter().collect(),
            })
            .collect(),
        occupations: table_occupations,
        onet,
    };
    (table, report)
}

/// The forms under which a technology example can link: its cleaned forms
/// and, for a widespread product of a [`VENDORS`] vendor, the product name
/// alone when it is written with a capital (`Microsoft Excel` → `Excel`).
fn tech_forms(example: &str, occupations: usize) -> Vec<String> {
    let mut forms = clean_label(example);
    if occupations >= VENDOR_MIN_OCCUPATIONS {
        for f in forms.clone() {
            let Some((vendor, product)) = f.split_once(' ') else {
                continue;
            };
            if VENDORS.contains(&vendor) && product.chars().any(char::is_uppercase) {
                forms.push(product.to_owned());
            }
        }
    }
    forms
}

/// Cleaned titles other than `own`, each once (compared by phrase key), in
/// sorted order. A one-word title that the lexicon knows as a skill
/// (`mining`, `education`) is left out: in text it names a skill or a
/// domain far more often than a job.
fn titles_of(own: &str, labels: Vec<&str>, linker: &Linker) -> Vec<String> {
    let own_key = phrase_key(own);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for l in labels {
        for t in clean_title(l) {
            if !t.contains(' ') && linker.link(&t).is_some() {
                continue;
            }
            if let Some(k) = phrase_key(&t).filter(|k| Some(k) != own_key.as_ref()) {
                seen.entry(k).or_insert(t);
            }
        }
    }
    let mut out: Vec<String> = seen.into_values().collect();
    out.sort();
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a pinned input file, checking its hash.
fn read_pinned(shared: &Path, (path, sha256): (&str, &str)) -> Result<Vec<u8>> {
    let full = shared.join(path);
    let bytes = std::fs::read(&full)
        .with_context(|| format!("reading {} (see --shared)", full.display()))?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    if actual != sha256 {
        bail!(
            "{} has SHA-256 {actual}, but the role table is built from the version with {sha256}; restore that file (or update the pin in trainer/src/roles_cmd.rs on purpose)",
            full.display()
        );
    }
    Ok(bytes)
}

/// CSV rows as maps from header to value.
fn csv_rows(bytes: &[u8], what: &str, columns: &[&str]) -> Result<Vec<Vec<String>>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader
        .headers()
        .with_context(|| format!("{what}: no header"))?
        .clone();
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .with_context(|| format!("{what} has no column {c:?}"))
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{what}: row {}", i + 2))?;
        out.push(
            idx.iter()
                .map(|&k| row.get(k).unwrap_or("").to_owned())
                .collect(),
        );
    }
    Ok(out)
}

fn zip_member(zip_bytes: &[u8], member: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))?;
    let mut entry = zip
        .by_name(member)
        .with_context(|| format!("no {member}"))?;
    let mut out = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut out)?;
    Ok(out)
}

/// The first sheet's rows, the named columns of each, after checking the header.
fn xlsx_rows(bytes: Vec<u8>, what: &str, columns: &[&str]) -> Result<Vec<Vec<String>>> {
    use calamine::{Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes))
        .with_context(|| format!("{what} is not an xlsx file"))?;
    let range = book
        .worksheet_range_at(0)
        .with_context(|| format!("{what} has no sheet"))?
        .with_context(|| format!("reading {what}"))?;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .with_context(|| format!("{what} is empty"))?
        .iter()
        .map(|c| c.to_string())
        .collect();
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == c)
                .with_context(|| format!("{what} has no column {c:?}"))
        })
        .collect::<Result<_>>()?;
    Ok(rows
        .map(|r| {
            idx.iter()
                .map(|&k| r.get(k).map(|c| c.to_string()).unwrap_or_default())
                .collect()
        })
        .collect())
}

fn lines(field: &str) -> impl Iterator<Item = &str> {
    field.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Reads and parses every input under `shared` (the shared data folder).
pub fn read_inputs(shared: &Path) -> Result<(Inputs, Vec<TableSource>)> {
    let mut inputs = Inputs::default();
    let file = |pin: (&str, &str)| SourceFile {
        path: pin.0.to_owned(),
        sha256: pin.1.to_owned(),
    };

    let classification = read_pinned(shared, ESCO_CLASSIFICATION)?;
    let relations = read_pinned(shared, ESCO_RELATIONS)?;
    for r in csv_rows(
        &zip_member(&classification, "occupations_en.csv")?,
        "occupations_en.csv",
        &[
            "conceptUri",
            "iscoGroup",
            "preferredLabel",
            "altLabels",
            "hiddenLabels",
        ],
    )? {
        inputs.occupations.push(EscoOccupation {
            uri: r[0].clone(),
            isco: r[1].clone(),
            title: collapse(&r[2]),
            labels: lines(&r[3])
                .chain(lines(&r[4]))
                .map(str::to_owned)
                .collect(),
        });
    }
    for r in csv_rows(
        &zip_member(&classification, "skills_en.csv")?,
        "skills_en.csv",
        &["conceptUri", "preferredLabel", "altLabels"],
    )? {
        let labels = std::iter::once(r[1].trim())
            .chain(lines(&r[2]))
            .map(str::to_owned)
            .collect();
        inputs.skills.insert(r[0].clone(), labels);
    }
    for r in csv_rows(
        &zip_member(&relations, "occupationSkillRelations.csv")?,
        "occupationSkillRelations.csv",
        &["occupationUri", "relationType", "skillUri"],
    )? {
        let essential = match r[1].as_str() {
            "essential" => true,
            "optional" => false,
            other => bail!("occupationSkillRelations.csv: unknown relation type {other:?}"),
        };
        inputs
            .relations
            .push((r[0].clone(), essential, r[2].clone()));
    }
    for r in csv_rows(
        &zip_member(&relations, "broaderRelationsOccPillar.csv")?,
        "broaderRelationsOccPillar.csv",
        &["conceptType", "conceptUri", "broaderType", "broaderUri"],
    )? {
        if r[0] == "Occupation" && r[2] == "Occupation" {
            inputs.broader.push((r[1].clone(), r[3].clone()));
        }
    }

    let sectors = read_pinned(shared, NESTA_SECTORS)?;
    for r in csv_rows(
        &sectors,
        "mcc_skills_based_sectors.csv",
        &[
            "skills_based_sector_code",
            "skills_based_sector",
            "sub_sector_code",
            "sub_sector",
        ],
    )? {
        if inputs.sectors.last().is_none_or(|s| s.code != r[0]) {
            inputs.sectors.push(Sector {
                code: r[0].clone(),
                name: collapse(&r[1]),
                sub_sectors: Vec::new(),
            });
        }
        let sector = inputs.sectors.last_mut().expect("pushed above");
        sector.sub_sectors.push(SubSector {
            code: r[2].clone(),
            name: collapse(&r[3]),
        });
    }
    let membership = read_pinned(shared, NESTA_MEMBERSHIP)?;
    for r in csv_rows(
        &membership,
        "mcc_skills_based_sectors_All_ESCO.csv",
        &["concept_uri", "sub_sector_code"],
    )? {
        inputs.sub_sector.insert(r[0].clone(), r[1].clone());
    }
    let crosswalk = read_pinned(shared, NESTA_CROSSWALK)?;
    for r in csv_rows(
        &crosswalk,
        "esco_onet_crosswalk_Nov2020.csv",
        &["concept_uri", "onet_code", "onet_occupation"],
    )? {
        inputs
            .crosswalk
            .push((r[0].clone(), r[1].clone(), r[2].clone()));
    }

    for r in xlsx_rows(
        read_pinned(shared, ONET_OCCUPATIONS)?,
        "Occupation Data.xlsx",
        &["O*NET-SOC Code", "Title"],
    )? {
        inputs.onet.insert(r[0].clone(), r[1].clone());
    }
    for r in xlsx_rows(
        read_pinned(shared, ONET_TECHNOLOGY)?,
        "Technology Skills.xlsx",
        &["O*NET-SOC Code", "Example"],
    )? {
        inputs.tech.push((r[0].clone(), r[1].clone()));
    }
    for r in xlsx_rows(
        read_pinned(shared, ONET_TITLES)?,
        "Alternate Titles.xlsx",
        &["O*NET-SOC Code", "Alternate Title", "Short Title"],
    )? {
        inputs.onet_titles.push((r[0].clone(), r[1].clone()));
        if !r[2].trim().is_empty() {
            inputs.onet_titles.push((r[0].clone(), r[2].clone()));
        }
    }

    let sources = vec![
        TableSource {
            id: "esco".into(),
            title: "ESCO v1.1.1 occupations, skills, occupation–skill relations and ISCO-08 groups".into(),
            files: vec![file(ESCO_CLASSIFICATION), file(ESCO_RELATIONS)],
            licence: "European Commission: reuse authorised with acknowledgement (Decision 2011/833/EU; CC BY 4.0 compatible)".into(),
            credit: "This service uses the ESCO classification of the European Commission.".into(),
        },
        TableSource {
            id: "nesta".into(),
            title: "Nesta's skills-based sectors (14 sectors, 54 sub-sectors) and ESCO↔O*NET crosswalk (Mapping Career Causeways)".into(),
            files: vec![file(NESTA_SECTORS), file(NESTA_MEMBERSHIP), file(NESTA_CROSSWALK)],
            licence: "MIT (Nesta)".into(),
            credit: "Skills-based sectors and the ESCO–O*NET crosswalk from Nesta's Mapping Career Causeways (Kanders, Djumalieva, Sleeman and Orlik, 2020), MIT licence.".into(),
        },
        TableSource {
            id: "onet".into(),
            title: "O*NET 29.2 occupations, technology skills and alternate titles".into(),
            files: vec![file(ONET_OCCUPATIONS), file(ONET_TECHNOLOGY), file(ONET_TITLES)],
            licence: "CC BY 4.0".into(),
            credit: "This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA. RoleMapper has modified all or some of this information: technology names are linked to its skill lexicon, titles cleaned, and occupations attached to ESCO occupations through Nesta's crosswalk (SOC 2010 codes moved to SOC 2019); USDOL/ETA has not approved, endorsed, or tested these modifications.".into(),
        },
    ];
    Ok((inputs, sources))
}

/// Builds the table from `shared` and the lexicon in `lexicon_dir`, writes
/// `roles.json.gz` and `README.md` to `out_dir`; returns the build report.
pub fn build(shared: &Path, lexicon_dir: &Path, out_dir: &Path) -> Result<String> {
    let concepts = std::fs::read(lexicon_dir.join("concepts.jsonl"))
        .with_context(|| format!("reading {}/concepts.jsonl", lexicon_dir.display()))?;
    let lexicon_sha256 = format!("{:x}", Sha256::digest(&concepts));
    let lexicon = crate::lexicon_cmd::load(lexicon_dir)?;
    let linker = Linker::new(&lexicon)?;
    let (inputs, sources) = read_inputs(shared)?;
    let (table, report) = assemble(&inputs, &linker, &lexicon_sha256, sources);
    let gz = table.to_gzip();
    // What is written must load.
    RoleModel::new(RoleTable::from_gzip(&gz)?)?;
    std::fs::create_dir_all(out_dir)?;
    crate::data::write_atomic(&out_dir.join(TABLE_FILE), &gz)?;
    let summary = summary(&table, &report, gz.len());
    crate::data::write_atomic(
        &out_dir.join("README.md"),
        readme(&table, &summary).as_bytes(),
    )?;
    Ok(summary)
}

fn summary(table: &RoleTable, r: &Report, bytes: usize) -> String {
    let essential: usize = table.occupations.iter().map(|o| o.essential.len()).sum();
    let optional: usize = table.occupations.iter().map(|o| o.optional.len()).sum();
    format!(
        "{} ESCO occupations ({} in a Nesta sub-sector; {} crosswalked to O*NET directly, {} through a broader occupation), {} sectors\n\
         {} skills: {} of {} ESCO skills linked to a lexicon concept ({} of {} occupation–skill relations), the rest by ESCO label; {essential} essential + {optional} optional links\n\
         {} O*NET occupations: {} technology links ({} technology names not in the lexicon); crosswalk codes without an O*NET 29.2 occupation: {}\n\
         {} job titles; {} bytes gzip-compressed",
        r.occupations,
        r.with_sub_sector,
        r.crosswalked_directly,
        r.crosswalked_by_parent,
        table.sectors.len(),
        r.skills,
        r.esco_skills_linked,
        r.esco_skills,
        r.relations_linked,
        r.relations,
        r.onet,
        r.tech_links,
        r.tech_unlinked,
        if r.crosswalk_codes_unmapped.is_empty() {
            "none".to_owned()
        } else {
            r.crosswalk_codes_unmapped.join(", ")
        },
        r.titles,
        bytes,
    )
}

fn readme(table: &RoleTable, summary: &str) -> String {
    let mut s = String::from(
        "# Role table: occupations, fields, skills and titles\n\n\
         Generated by `rolemapper roles --build` from `../shared/data/roles`; do not edit by hand.\n\n\
         `roles.json.gz` is one JSON object, gzip-compressed, read by `skills::roles::RoleTable`:\n\
         `format`; `lexicon_sha256` (the `skills/lexicon/concepts.jsonl` whose canonical names it uses);\n\
         `sources` (files, SHA-256, licences, credit lines); `sectors` (Nesta's 14 sectors with their\n\
         sub-sectors); `skills` (`name`: the lexicon's canonical name, else the ESCO label; `esco`: ESCO\n\
         skill ids; `labels`: their other ESCO labels); `occupations` (ESCO id, `title`, 4-digit `isco`,\n\
         `sub_sector`, `onet`: index of the crosswalked O*NET occupation, `essential` and `optional`:\n\
         skill indices, `titles`: other ESCO labels); `onet` (O*NET-SOC code, title, `tech`: technology\n\
         skill indices, `titles`: alternate titles).\n\n",
    );
    s += &format!(
        "Format version {}; lexicon SHA-256 `{}`.\n\n```\n{summary}\n```\n\n## Sources and credit\n\n",
        table.format, table.lexicon_sha256
    );
    for src in &table.sources {
        s += &format!(
            "### {}\n- licence: {}\n- credit: {}\n- files:\n",
            src.title, src.licence, src.credit
        );
        for f in &src.files {
            s += &format!("  - `{}` (sha256 `{}`)\n", f.path, f.sha256);
        }
        s += "\n";
    }
    s
}

/// A file's text (`-`: standard input): plain text as it is, or the text
/// extracted from a CV file (PDF, DOCX, ODT, RTF, HTML; told by its bytes,
/// see the `extract` crate), to which offsets then refer.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)?;
        v
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
    };
    let name = path.display().to_string();
    extract::extract(&name, &bytes)
        .map(|e| e.text)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))
}

/// Loads a role table file.
pub fn load(path: &Path) -> Result<RoleModel> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "reading the role table {} (run from the repository root, or pass --roles)",
            path.display()
        )
    })?;
    RoleModel::from_gzip(&bytes).with_context(|| format!("{} cannot be used", path.display()))
}

/// One JSON line of `rolemapper roles`: `{"file", "field": {"sector",
/// "sub_sector", "score"} | null, "roles": [{"uri", "title", "isco",
/// "score", "matched", "missing"}]}`.
pub fn json_line(
    h: &Highlighter,
    roles: &RoleModel,
    file: &str,
    text: &str,
    top: usize,
    explain: bool,
) -> Result<String> {
    let spans = h.highlight(text)?;
    let evidence =
        roles.evidence_by_sentence(text, &h.splitter.split(text), &spans, h.linker.as_ref());
    let shown = explain.then(|| {
        let titles: Vec<_> = evidence
            .titles
            .iter()
            .map(|t| {
                json!({"text": &text[t.bytes.clone()], "title": roles.title_text(t.title),
                       "occupations": roles.title_occupations(t.title).len()})
            })
            .collect();
        let (known, unknown): (Vec<_>, Vec<_>) = evidence
            .mentions
            .iter()
            .map(|m| m.skill.as_deref().unwrap_or(&m.text))
            .partition(|p| roles.knows(p));
        json!({"skills": known, "skills_without_occupations": unknown, "titles": titles})
    });
    let ranking = roles.rank(&evidence, top);
    let round = |x: f32| (f64::from(x) * 1e4).round() / 1e4;
    let field = ranking
        .field
        .map(|f| json!({"sector": f.sector, "sub_sector": f.sub_sector, "score": round(f.score)}));
    let roles: Vec<_> = ranking
        .roles
        .iter()
        .map(|r| {
            json!({"uri": r.uri, "title": r.title, "isco": r.isco, "score": round(r.score),
                   "matched": r.matched, "missing": r.missing})
        })
        .collect();
    let mut line = json!({"file": file, "field": field, "roles": roles});
    if let Some(e) = shown {
        line["evidence"] = e;
    }
    Ok(serde_json::to_string(&line)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills::lexicon::Lexicon;

    fn linker() -> Linker {
        let sources = r#"[{"id":"esco","title":"","package":"","sha256":"","path":"","licence":"","attribution":""}]"#;
        let concepts = [
            r#"{"name":"Python","source":"esco"}"#,
            r#"{"name":"SQL","source":"esco","aliases":["structured query language"]}"#,
            r#"{"name":"excel","source":"esco"}"#,
            r#"{"name":"nursing","source":"esco"}"#,
        ]
        .join("\n");
        Linker::new(&Lexicon::parse(sources, &concepts).unwrap()).unwrap()
    }

    fn inputs() -> Inputs {
        let occ = |uri: &str, isco: &str, title: &str, labels: &[&str]| EscoOccupation {
            uri: format!("{OCCUPATION_URI_PREFIX}{uri}"),
            isco: isco.into(),
            title: title.into(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        };
        let skill = |u: &str| format!("{SKILL_URI_PREFIX}{u}");
        Inputs {
            occupations: vec![
                occ(
                    "o1",
                    "2511",
                    "data analyst",
                    &["data analyst/scientist", "analyst"],
                ),
                occ("o2", "2221", "nurse", &["staff nurse"]),
                occ("o3", "2511", "junior data analyst", &[]),
            ],
            skills: [
                ("s1", vec!["Python (computer programming)"]),
                ("s2", vec!["query languages", "structured query language"]),
                ("s3", vec!["perform nursing care"]),
            ]
            .into_iter()
            .map(|(u, l)| (skill(u), l.into_iter().map(str::to_owned).collect()))
            .collect(),
            relations: vec![
                (format!("{OCCUPATION_URI_PREFIX}o1"), true, skill("s1")),
                (format!("{OCCUPATION_URI_PREFIX}o1"), false, skill("s2")),
                (format!("{OCCUPATION_URI_PREFIX}o1"), true, skill("s2")),
                (format!("{OCCUPATION_URI_PREFIX}o2"), true, skill("s3")),
            ],
            broader: vec![(
                format!("{OCCUPATION_URI_PREFIX}o3"),
                format!("{OCCUPATION_URI_PREFIX}o1"),
            )],
            sectors: vec![Sector {
                code: "1".into(),
                name: "ict".into(),
                sub_sectors: vec![SubSector {
                    code: "1.1".into(),
                    name: "data".into(),
                }],
            }],
            sub_sector: [(format!("{OCCUPATION_URI_PREFIX}o1"), "1.1".to_owned())].into(),
            crosswalk: vec![(
                format!("{OCCUPATION_URI_PREFIX}o1"),
                "15-2041.01".into(),
                "data analysts (2010)".into(),
            )],
            onet: [("15-2041.00".to_owned(), "Statisticians".to_owned())].into(),
            tech: vec![
                ("15-2041.00".into(), "Microsoft Excel".into()),
                ("15-2041.00".into(), "Structured query language SQL".into()),
                ("15-2041.00".into(), "Some Unknown Tool".into()),
            ],
            onet_titles: vec![("15-2041.00".into(), "Data Analyst".into())],
        }
    }

    #[test]
    fn assembles_links_and_inherits() {
        let (t, r) = assemble(&inputs(), &linker(), "sha", vec![]);
        let names: Vec<&str> = t.skills.iter().map(|s| s.name.as_str()).collect();
        // ESCO labels link to lexicon names; unlinkable skills keep their label.
        assert_eq!(names, ["Python", "SQL", "perform nursing care"]);
        assert_eq!(t.skills[1].esco, ["s2"]);
        let o1 = &t.occupations[0];
        assert_eq!(
            (o1.uri.as_str(), o1.essential.as_slice()),
            ("o1", &[0, 1][..])
        );
        assert!(o1.optional.is_empty(), "essential wins over optional");
        assert_eq!(o1.titles, ["analyst", "data scientist"]);
        assert_eq!(o1.onet, Some(0));
        // o3 inherits o1's O*NET occupation through the broader relation.
        assert_eq!(t.occupations[2].onet, Some(0));
        assert_eq!((r.crosswalked_directly, r.crosswalked_by_parent), (1, 1));
        // Excel links only without its vendor (too rare here), SQL by its acronym.
        assert_eq!(t.onet[0].tech, [1]);
        assert_eq!(r.tech_unlinked, 2);
        assert_eq!(t.onet[0].titles, ["Data Analyst"]);
        RoleModel::new(t).unwrap();
    }

    #[test]
    fn assembly_does_not_depend_on_input_order() {
        let a = inputs();
        let mut b = inputs();
        b.occupations.reverse();
        b.relations.reverse();
        b.tech.reverse();
        b.onet_titles.reverse();
        b.broader.reverse();
        let (ta, _) = assemble(&a, &linker(), "sha", vec![]);
        let (tb, _) = assemble(&b, &linker(), "sha", vec![]);
        assert_eq!(ta.to_gzip(), tb.to_gzip());
    }

    #[test]
    fn vendor_products_link_without_the_vendor_when_widespread() {
        assert_eq!(
            tech_forms("Microsoft Excel", 100),
            ["Microsoft Excel", "Excel"]
        );
        assert_eq!(tech_forms("Microsoft Excel", 1), ["Microsoft Excel"]);
        assert_eq!(
            tech_forms("Microsoft operating system", 100),
            ["Microsoft operating system"]
        );
    }
}
