//! Role mapping: from the skills found in a text, and any job title it
//! names, to the occupations it fits and the field they belong to.
//!
//! The data is a [`RoleTable`]: ESCO v1.1.1 occupations with their essential
//! and optional skills, Nesta's skills-based sectors, and O*NET 29.2
//! technology skills and alternate titles through Nesta's ESCO↔O*NET
//! crosswalk. `rolemapper roles --build` derives it from those files and
//! writes it as gzip-compressed JSON (`skills/roles/roles.json.gz`). Skills
//! in the table are named by the skill lexicon's canonical names, so neither
//! the lexicon nor the model bundle needs to know about occupations.
//!
//! [`RoleModel`] indexes a table for ranking. Nothing here touches files or
//! threads: the browser loads the same bytes and ranks the same way.
//!
//! The path, in the CLI and the app alike: `Highlighter::highlight` → spans;
//! [`RoleModel::evidence`] → the text's skill mentions (the spans, plus the
//! lexicon phrases outside them when given the highlighter's linker) and job
//! titles; [`RoleModel::rank`] → the field and the roles. Evidence is
//! per text but can be built per sentence and concatenated (only titles'
//! byte ranges then refer to their sentence), so an editor re-ranks from
//! cached sentences on every keystroke.
//!
//! ```
//! use skills::roles::{Evidence, RoleModel, RoleTable};
//! # fn table() -> RoleTable { skills::roles::tests_support::tiny_table() }
//! let model = RoleModel::new(table()).unwrap();
//! let mut evidence = Evidence::from_skills(&["SQL", "data visualisation"]);
//! evidence.titles = model.find_titles("Junior Data Analyst");
//! let ranking = model.rank(&evidence, 5);
//! assert_eq!(ranking.roles[0].title, "data analyst");
//! assert_eq!(ranking.field.unwrap().sector, "ict workers");
//! ```
//!
//! # The score
//!
//! Skills are matched by their terms ([`phrase_terms`]: words and pairs of
//! neighbouring words), since texts and ESCO word skills differently: a
//! post's "forklift truck" is ESCO's "operate forklift", "budgets" its
//! "prepare budgets". An occupation's profile holds the terms of its
//! skills' names and the words of their other ESCO labels, each with a
//! weight `w(o, t)`: 1 from an essential skill, [`ScoreConfig::optional`] from an optional one,
//! [`ScoreConfig::tech`] from an O*NET technology skill of the O*NET
//! occupation it is crosswalked to (the strongest if several). A term's
//! specificity is `idf(t) = ln(N / df(t))` over the N occupations: "customer"
//! says little, "forklift" or "Tableau" a lot. The text's terms are those of
//! its skill mentions (a span's canonical name when the lexicon linked it,
//! else the phrase as written), `c(t)` times each. Then
//!
//! - explained share `E(o) = Σ_t w(o, t) q(t) / Σ_t q(t)` with
//!   `q(t) = idf(t)^p · (1 + ln c(t))`: how much of the text's skills the
//!   occupation accounts for;
//! - covered share `C(o) = Σ_{t in text} w(o, t) idf(t)^p / Σ_{t in o} w(o, t) idf(t)^p`:
//!   how much of the occupation's profile the text shows;
//! - skill score `S(o) = E(o)^(1-λ) · C(o)^λ` with λ = [`ScoreConfig::coverage`]
//!   and p = [`ScoreConfig::idf_power`];
//! - title score `H(o)`: the specificity of the most specific job title
//!   found in the text that names `o` (an ESCO label of `o`, or else an
//!   O*NET alternate title of its crosswalked occupation), `ln(N / n) / ln N`
//!   for a title shared by `n` occupations;
//! - score `(1 - τ) · S(o) + τ · H(o)` with τ = [`ScoreConfig::title`], in `0..=1`.
//!
//! Explained share alone favours occupations with long skill lists, covered
//! share alone favours short ones; a geometric mean is high only for an
//! occupation that both accounts for the text and is well shown by it. The
//! weights were chosen on a development split and measured on held-out
//! texts (README, "Role mapping").
//!
//! Fields: every ranked role votes for its Nesta sector (and sub-sector)
//! with weight `exp((score - best score) / T)`, T =
//! [`ScoreConfig::field_temperature`]; a field's score is its share of the votes.
//!
//! The list of roles gives way to other sectors and ISCO groups: a role is
//! listed as if its score were `score · (1 - d_s)^a · (1 - d_g)^b`, where `a`
//! and `b` count the roles already listed from its sector and its ISCO unit
//! group (d_s = [`ScoreConfig::sector_diversity`], d_g =
//! [`ScoreConfig::group_diversity`]), so that a CV with skills from two
//! fields shows roles from both rather than ten variants of one job (each
//! role keeps its own score).

use crate::highlight::{Linker, SkillSpan};
use crate::lexicon::{clean_label, phrase_keys};
use crate::text::fold;
use crate::words::words;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::ops::Range;

/// The table layout this build reads and writes.
pub const FORMAT: u32 = 1;
/// ESCO occupation URIs are this prefix and the table's [`TableOccupation::uri`].
pub const OCCUPATION_URI_PREFIX: &str = "http://data.europa.eu/esco/occupation/";
/// ESCO skill URIs are this prefix and an entry of [`TableSkill::esco`].
pub const SKILL_URI_PREFIX: &str = "http://data.europa.eu/esco/skill/";
/// Longest lexicon phrase looked for outside the spans, in words (as the
/// lexicon's own longest surface form).
const MAX_PHRASE_WORDS: usize = 8;
/// Longest job title matched, in words.
pub const MAX_TITLE_WORDS: usize = 8;
/// A decompressed table larger than this is refused (the real one is ~5 MB).
const MAX_JSON_BYTES: u64 = 64 << 20;

/// The role table as stored: everything [`RoleModel`] needs, and the credit
/// its sources ask for. Indices are positions in the table's own lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleTable {
    /// [`FORMAT`].
    pub format: u32,
    /// SHA-256 (hex) of the lexicon's `concepts.jsonl` whose canonical names
    /// [`TableSkill::name`] uses.
    pub lexicon_sha256: String,
    /// Where the data came from, with licences and credit lines.
    pub sources: Vec<TableSource>,
    /// Nesta's skills-based sectors, each with its sub-sectors.
    pub sectors: Vec<Sector>,
    pub skills: Vec<TableSkill>,
    /// ESCO occupations, sorted by URI.
    pub occupations: Vec<TableOccupation>,
    /// O*NET occupations that some ESCO occupation is crosswalked to.
    pub onet: Vec<OnetOccupation>,
}

/// One input of the table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableSource {
    pub id: String,
    pub title: String,
    /// Files read, with their SHA-256.
    pub files: Vec<SourceFile>,
    pub licence: String,
    /// The credit line to show wherever the data is used.
    pub credit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sector {
    /// Nesta's code, e.g. `6`.
    pub code: String,
    pub name: String,
    pub sub_sectors: Vec<SubSector>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubSector {
    /// Nesta's code, e.g. `6.3`.
    pub code: String,
    pub name: String,
}

/// A skill as text names it: a lexicon canonical name, and the ESCO skills
/// it stands for (none for an O*NET technology that ESCO lacks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableSkill {
    /// The lexicon's canonical name; for an ESCO skill the lexicon cannot
    /// link, its preferred label (shown among missing skills, never matched
    /// by a span's canonical name unless they coincide).
    pub name: String,
    /// ESCO skill ids (URI without [`SKILL_URI_PREFIX`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub esco: Vec<String>,
    /// Other ESCO labels of those skills, cleaned: more words to match by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// One ESCO occupation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableOccupation {
    /// ESCO id (URI without [`OCCUPATION_URI_PREFIX`]).
    pub uri: String,
    /// ESCO preferred label.
    pub title: String,
    /// ISCO-08 unit group, 4 digits.
    pub isco: String,
    /// Nesta sub-sector code ([`SubSector::code`]), when Nesta placed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_sector: Option<String>,
    /// Index into [`RoleTable::onet`] of the crosswalked O*NET occupation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onet: Option<u32>,
    /// Essential skills (indices into [`RoleTable::skills`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub essential: Vec<u32>,
    /// Optional skills.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional: Vec<u32>,
    /// Other job titles: ESCO alternative and hidden labels, cleaned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<String>,
}

/// One O*NET occupation: supporting evidence for the ESCO occupations
/// crosswalked to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OnetOccupation {
    /// O*NET-SOC 2019 code, e.g. `15-2051.01`.
    pub code: String,
    pub title: String,
    /// Technology skills (indices into [`RoleTable::skills`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tech: Vec<u32>,
    /// Alternate titles, cleaned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<String>,
}

/// A role table that cannot be used. Each message says what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    #[error("the role table is not gzip-compressed JSON: {0}")]
    Gzip(std::io::Error),
    #[error("the role table decompresses to more than {MAX_JSON_BYTES} bytes; it is not a RoleMapper role table")]
    TooLarge,
    #[error("the role table is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("role table format {0} is not supported: this build reads format {FORMAT}; rebuild it with `rolemapper roles --build` or update RoleMapper")]
    Format(u32),
    #[error("the role table is inconsistent: {0}")]
    Invalid(String),
}

impl RoleTable {
    /// Parses gzip-compressed JSON (the shipped file).
    pub fn from_gzip(bytes: &[u8]) -> Result<Self, RolesError> {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_JSON_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(RolesError::Gzip)?;
        if json.len() as u64 > MAX_JSON_BYTES {
            return Err(RolesError::TooLarge);
        }
        Self::from_json(&json)
    }

    /// Parses JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RolesError> {
        // The format is checked before the rest, so a newer table says so
        // rather than failing on a field it does not know.
        #[derive(Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head = serde_json::from_slice(bytes)?;
        if head.format != FORMAT {
            return Err(RolesError::Format(head.format));
        }
        let table: Self = serde_json::from_slice(bytes)?;
        table.validate()?;
        Ok(table)
    }

    /// The JSON text: one line, fields in declaration order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the role table serialises")
    }

    /// [`RoleTable::to_json`], gzip-compressed. The same table always gives
    /// the same bytes: no time stamp, and one fixed deflate implementation
    /// (miniz_oxide at level 9), whatever backend flate2 has in the build.
    pub fn to_gzip(&self) -> Vec<u8> {
        let json = self.to_json();
        let deflated = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 9);
        // RFC 1952: magic, deflate, no flags, no time, maximum compression, unknown OS.
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
        out.extend_from_slice(&deflated);
        out.extend_from_slice(&crc32fast::hash(json.as_bytes()).to_le_bytes());
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out
    }

    /// Whether this table was built against `lexicon` (the SHA-256 of its
    /// `concepts.jsonl` is the one recorded): otherwise some skill names may
    /// no longer be canonical names and match only by their words.
    pub fn made_for(&self, lexicon: &crate::lexicon::Lexicon) -> bool {
        use sha2::{Digest, Sha256};
        format!("{:x}", Sha256::digest(lexicon.concepts_jsonl().as_bytes())) == self.lexicon_sha256
    }

    /// Every index in range and every sub-sector known.
    fn validate(&self) -> Result<(), RolesError> {
        let bad = |what: String| Err(RolesError::Invalid(what));
        let n_skills = self.skills.len();
        let n_onet = self.onet.len();
        let sub_sectors: FxHashSet<&str> = self
            .sectors
            .iter()
            .flat_map(|s| s.sub_sectors.iter().map(|x| x.code.as_str()))
            .collect();
        if self.occupations.len() >= 1 << 30 || u32::try_from(n_skills).is_err() {
            return bad("too many occupations or skills for the index's ids".into());
        }
        for o in &self.occupations {
            if let Some(&s) = o
                .essential
                .iter()
                .chain(&o.optional)
                .find(|&&s| s as usize >= n_skills)
            {
                return bad(format!(
                    "occupation {:?} names skill {s}, but there are {n_skills}",
                    o.title
                ));
            }
            if let Some(j) = o.onet.filter(|&j| j as usize >= n_onet) {
                return bad(format!(
                    "occupation {:?} names O*NET occupation {j}, but there are {n_onet}",
                    o.title
                ));
            }
            if let Some(code) = o.sub_sector.as_deref().filter(|c| !sub_sectors.contains(c)) {
                return bad(format!(
                    "occupation {:?} is in sub-sector {code:?}, which the table does not list",
                    o.title
                ));
            }
        }
        for j in &self.onet {
            if let Some(&s) = j.tech.iter().find(|&&s| s as usize >= n_skills) {
                return bad(format!(
                    "O*NET occupation {} names skill {s}, but there are {n_skills}",
                    j.code
                ));
            }
        }
        Ok(())
    }
}

/// The weights of the score (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreConfig {
    /// Weight of an optional ESCO skill (an essential one weighs 1).
    pub optional: f32,
    /// Weight of an O*NET technology skill that ESCO does not list for the occupation.
    pub tech: f32,
    /// λ: 0 ranks by the share of the text explained, 1 by the share of the
    /// occupation's profile covered.
    pub coverage: f32,
    /// τ: weight of a job title named in the text, in `0..=1`.
    pub title: f32,
    /// Exponent of the specificity (0 weighs every term alike).
    pub idf_power: f32,
    /// Softness of the field vote: roles within about this much of the best
    /// score vote with comparable weight.
    pub field_temperature: f32,
    /// How much a role gives way to one from a sector not yet listed: the
    /// k-th role of a sector competes with `score · (1 - sector_diversity)^k`,
    /// so that a text with skills from two fields shows roles from both.
    pub sector_diversity: f32,
    /// The same for the ISCO unit group: ten variants of one job say less
    /// than five jobs.
    pub group_diversity: f32,
}

impl Default for ScoreConfig {
    /// The weights `rolemapper roles --eval` selects on its development
    /// split (README, "Role mapping"): the best of its grid with τ ≥ 0.15
    /// (titles cannot be measured on the labelled sets, and 0.15 costs
    /// nothing there), optional below essential and technology skills
    /// counted; the list's diversity from the ablations on the same split.
    fn default() -> Self {
        Self {
            optional: 0.5,
            tech: 0.25,
            coverage: 0.25,
            title: 0.15,
            idf_power: 1.0,
            field_temperature: 0.02,
            sector_diversity: 0.0,
            group_diversity: 0.2,
        }
    }
}

/// How an occupation holds a skill (or a term of one), strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Relation {
    Essential,
    Optional,
    Tech,
}

/// A posting: an occupation and how it holds a term, in one `u32`
/// (occupation << 2 | relation), so that the index of a million postings
/// stays small in the browser and sorts by occupation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Posting(u32);

impl Posting {
    fn new(occupation: u32, r: Relation) -> Self {
        Self(occupation << 2 | r as u32)
    }

    fn occupation(self) -> u32 {
        self.0 >> 2
    }

    fn relation(self) -> Relation {
        match self.0 & 3 {
            0 => Relation::Essential,
            1 => Relation::Optional,
            _ => Relation::Tech,
        }
    }
}

/// One skill phrase of a text: as written, and its canonical name when the
/// lexicon links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub text: String,
    pub skill: Option<String>,
}

/// What a text offers as evidence: its skill phrases and the job titles
/// found in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub mentions: Vec<Mention>,
    pub titles: Vec<TitleMatch>,
}

impl Evidence {
    /// Appends the evidence of a sentence that starts at byte `offset` of
    /// the text (its titles' ranges are moved there).
    pub fn append(&mut self, sentence: &Evidence, offset: usize) {
        self.mentions.extend_from_slice(&sentence.mentions);
        self.titles
            .extend(sentence.titles.iter().map(|t| TitleMatch {
                bytes: t.bytes.start + offset..t.bytes.end + offset,
                title: t.title,
            }));
    }

    /// Mentions of canonical skill names (no phrase as written).
    pub fn from_skills<S: AsRef<str>>(skills: &[S]) -> Self {
        Self {
            mentions: skills
                .iter()
                .map(|s| Mention {
                    text: s.as_ref().to_owned(),
                    skill: Some(s.as_ref().to_owned()),
                })
                .collect(),
            titles: Vec::new(),
        }
    }
}

/// A job title found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleMatch {
    /// Byte range in the text searched.
    pub bytes: Range<usize>,
    /// Which title ([`RoleModel::title_text`]).
    pub title: u32,
}

/// The answer for one text: the field, and the best roles first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// The winning sector; `None` when no role matched.
    pub field: Option<Field>,
    /// Every sector that received a vote, the winner first.
    pub fields: Vec<Field>,
    pub roles: Vec<RoleMatch>,
}

/// A field: a sector and its best-voted sub-sector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub sector: String,
    pub sub_sector: String,
    /// The sector's share of the votes, in `0..=1`.
    pub score: f32,
}

/// One ranked occupation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleMatch {
    /// ESCO occupation URI.
    pub uri: String,
    pub title: String,
    /// ISCO-08 unit group, 4 digits.
    pub isco: String,
    /// In `0..=1`.
    pub score: f32,
    /// The text's skills that support it (canonical names, or phrases as
    /// written when the lexicon has none), strongest first.
    pub matched: Vec<String>,
    /// Its essential skills the text does not show, most specific first.
    pub missing: Vec<String>,
    /// Index of the occupation in the table (not serialized: a ranking
    /// read back from JSON has 0 here).
    #[serde(skip)]
    pub occupation: u32,
}

/// A [`RoleTable`] indexed for ranking.
pub struct RoleModel {
    table: RoleTable,
    score: ScoreConfig,
    /// Term → id.
    terms: FxHashMap<String, u32>,
    /// Per term: ln(N / occupations whose skills contain it).
    term_idf: Vec<f32>,
    /// Per term: the occupations whose skills contain it, each with the
    /// strongest relation of such a skill, by occupation.
    postings: Vec<Vec<Posting>>,
    /// Per term: idf(t)^p under `score`.
    spec: Vec<f32>,
    /// Per occupation: Σ w(o, t) · idf(t)^p under `score`.
    mass: Vec<f32>,
    /// Per skill: the terms of its name.
    name_terms: Vec<Vec<u32>>,
    /// Per skill: ln(N / occupations that list it).
    skill_idf: Vec<f32>,
    /// Per occupation: its essential skills.
    essential: Vec<Vec<u32>>,
    titles: TitleIndex,
    /// Per occupation: (sector, sub-sector) indices.
    fields: Vec<Option<(u16, u16)>>,
}

/// Job titles by key, with the prefixes of every key so that a scan can stop
/// as soon as no title continues.
#[derive(Default)]
struct TitleIndex {
    /// Key, or key prefix → title id, `u32::MAX` for a prefix only.
    keys: FxHashMap<String, u32>,
    /// Per title: its first spelling, its occupations, its specificity.
    text: Vec<String>,
    occupations: Vec<Vec<u32>>,
    specificity: Vec<f32>,
}

const PREFIX_ONLY: u32 = u32::MAX;
/// Roles that vote for the field, at most (further ones weigh nothing at
/// any sensible temperature).
const VOTERS: usize = 200;

/// A text's terms with their counts, and what each mention contributes.
struct TextTerms {
    /// (term, count), by term; only terms some occupation has.
    counts: Vec<(u32, u32)>,
    /// Per mention: its display name and its known terms.
    mentions: Vec<(String, Vec<u32>)>,
}

impl RoleModel {
    /// Indexes a table, with the default [`ScoreConfig`].
    pub fn new(table: RoleTable) -> Result<Self, RolesError> {
        if table.format != FORMAT {
            return Err(RolesError::Format(table.format));
        }
        table.validate()?;
        let n_occ = table.occupations.len();

        // Terms of every skill: its name's, and the words of its other
        // labels (their word pairs would double the index for no measured gain).
        let mut terms: FxHashMap<String, u32> = FxHashMap::default();
        let mut intern = |t: String| -> u32 {
            let next = terms.len() as u32;
            *terms.entry(t).or_insert(next)
        };
        let mut name_terms = Vec::with_capacity(table.skills.len());
        let mut skill_terms = Vec::with_capacity(table.skills.len());
        for s in &table.skills {
            let mut name: Vec<u32> = phrase_terms(&s.name).into_iter().map(&mut intern).collect();
            name.sort_unstable();
            name.dedup();
            let mut all = name.clone();
            for l in &s.labels {
                all.extend(phrase_words(l).into_iter().map(&mut intern));
            }
            all.sort_unstable();
            all.dedup();
            name_terms.push(name);
            skill_terms.push(all);
        }
        let n_terms = terms.len();

        let mut postings: Vec<Vec<Posting>> = vec![Vec::new(); n_terms];
        let mut profile: Vec<(u32, Relation)> = Vec::new();
        let mut skill_df = vec![0u32; table.skills.len()];
        let mut essential = Vec::with_capacity(n_occ);
        for (o, occ) in table.occupations.iter().enumerate() {
            let tech = occ.onet.map(|j| table.onet[j as usize].tech.as_slice());
            let mut skills: Vec<(u32, Relation)> = occ
                .essential
                .iter()
                .map(|&s| (s, Relation::Essential))
                .chain(occ.optional.iter().map(|&s| (s, Relation::Optional)))
                .chain(
                    tech.unwrap_or_default()
                        .iter()
                        .map(|&s| (s, Relation::Tech)),
                )
                .collect();
            skills.sort_unstable();
            skills.dedup_by_key(|(s, _)| *s);
            for &(s, _) in &skills {
                skill_df[s as usize] += 1;
            }
            // Each term once, with the strongest relation of a skill that has it.
            profile.clear();
            profile.extend(
                skills
                    .iter()
                    .flat_map(|&(s, r)| skill_terms[s as usize].iter().map(move |&t| (t, r))),
            );
            profile.sort_unstable();
            profile.dedup_by_key(|(t, _)| *t);
            for &(t, r) in &profile {
                postings[t as usize].push(Posting::new(o as u32, r));
            }
            let mut ess = occ.essential.clone();
            ess.sort_unstable();
            ess.dedup();
            essential.push(ess);
        }
        let idf = |df: usize| {
            if df == 0 {
                0.0
            } else {
                (n_occ as f32 / df as f32).ln()
            }
        };
        let term_idf = postings.iter().map(|p| idf(p.len())).collect();
        let skill_idf = skill_df.iter().map(|&d| idf(d as usize)).collect();

        let mut sub_index = FxHashMap::default();
        for (i, s) in table.sectors.iter().enumerate() {
            for (j, sub) in s.sub_sectors.iter().enumerate() {
                sub_index.insert(sub.code.as_str(), (i as u16, j as u16));
            }
        }
        let fields = table
            .occupations
            .iter()
            .map(|o| {
                o.sub_sector
                    .as_deref()
                    .and_then(|c| sub_index.get(c).copied())
            })
            .collect();

        let titles = TitleIndex::new(&table);
        let mut model = Self {
            table,
            score: ScoreConfig::default(),
            terms,
            term_idf,
            postings,
            spec: Vec::new(),
            mass: Vec::new(),
            name_terms,
            skill_idf,
            essential,
            titles,
            fields,
        };
        model.set_score(ScoreConfig::default());
        Ok(model)
    }

    /// Loads gzip-compressed table bytes (`roles.json.gz`).
    pub fn from_gzip(bytes: &[u8]) -> Result<Self, RolesError> {
        Self::new(RoleTable::from_gzip(bytes)?)
    }

    /// The same model scoring with other weights.
    pub fn with_score(mut self, score: ScoreConfig) -> Self {
        self.set_score(score);
        self
    }

    /// Scores with other weights from now on.
    pub fn set_score(&mut self, score: ScoreConfig) {
        self.score = score;
        self.spec = self
            .term_idf
            .iter()
            .map(|idf| idf.powf(score.idf_power))
            .collect();
        self.mass = self.masses();
    }

    pub fn score_config(&self) -> &ScoreConfig {
        &self.score
    }

    pub fn table(&self) -> &RoleTable {
        &self.table
    }

    fn weight(&self, r: Relation) -> f32 {
        match r {
            Relation::Essential => 1.0,
            Relation::Optional => self.score.optional,
            Relation::Tech => self.score.tech,
        }
    }

    fn specificity(&self, term: u32) -> f32 {
        self.spec[term as usize]
    }

    fn masses(&self) -> Vec<f32> {
        let mut mass = vec![0f32; self.table.occupations.len()];
        for (t, postings) in self.postings.iter().enumerate() {
            let spec = self.specificity(t as u32);
            for p in postings {
                mass[p.occupation() as usize] += self.weight(p.relation()) * spec;
            }
        }
        mass
    }

    /// How occupation `o` holds term `t`, if it does.
    fn relation(&self, o: u32, t: u32) -> Option<Relation> {
        let postings = &self.postings[t as usize];
        postings
            .binary_search_by_key(&o, |p| p.occupation())
            .ok()
            .map(|i| postings[i].relation())
    }

    /// Whether some occupation's skills contain a term of `phrase`.
    pub fn knows(&self, phrase: &str) -> bool {
        phrase_terms(phrase).iter().any(|t| {
            self.terms
                .get(t)
                .is_some_and(|&t| !self.postings[t as usize].is_empty())
        })
    }

    /// The first spelling of a title found by [`RoleModel::find_titles`].
    pub fn title_text(&self, title: u32) -> Option<&str> {
        self.titles.text.get(title as usize).map(String::as_str)
    }

    /// The occupations a title names (indices into [`RoleTable::occupations`]).
    pub fn title_occupations(&self, title: u32) -> &[u32] {
        self.titles
            .occupations
            .get(title as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// Job titles in `text`: whole words, case-insensitive (but a one-word
    /// title must start with a capital), leftmost-longest, never
    /// overlapping; byte ranges of `text`.
    pub fn find_titles(&self, text: &str) -> Vec<TitleMatch> {
        let ws = words(text);
        let folded: Vec<String> = ws.iter().map(|w| fold(&text[w.clone()])).collect();
        let mut out = Vec::new();
        let mut key = String::new();
        let mut i = 0;
        while i < ws.len() {
            key.clear();
            let mut best = None;
            for (j, f) in folded[i..ws.len().min(i + MAX_TITLE_WORDS)]
                .iter()
                .enumerate()
            {
                key.push(' ');
                key.push_str(f);
                key.push(' ');
                match self.titles.keys.get(key.as_str()) {
                    None => break,
                    Some(&PREFIX_ONLY) => {}
                    // A one-word title counts only when capitalised, as in a
                    // heading: in running text "models", "hand" or "guide"
                    // are rarely jobs.
                    Some(_) if j == 0 && !starts_upper(&text[ws[i].clone()]) => {}
                    Some(&t) => best = Some((i + j + 1, t)),
                }
            }
            match best {
                Some((end, title)) => {
                    out.push(TitleMatch {
                        bytes: ws[i].start..ws[end - 1].end,
                        title,
                    });
                    i = end;
                }
                None => i += 1,
            }
        }
        out
    }

    /// The evidence in a highlighted text (`spans` as the highlighter
    /// gives them): its spans as mentions (their canonical names when the
    /// lexicon linked them; otherwise the phrases, matched to skills by
    /// their words); with a `linker`, also every lexicon phrase outside the
    /// spans (leftmost-longest, whole words); and the job titles in it.
    ///
    /// A title inside a longer skill span is not counted: "principal" in
    /// "principal component analysis" names no school principal.
    pub fn evidence(&self, text: &str, spans: &[SkillSpan], linker: Option<&Linker>) -> Evidence {
        let mut ranges: Vec<Range<usize>> = spans.iter().map(|s| s.bytes.clone()).collect();
        ranges.sort_by_key(|r| (r.start, r.end));
        // The span that starts last at or before `r` (spans do not overlap).
        let before = |r: &Range<usize>| {
            let i = ranges.partition_point(|s| s.start <= r.start);
            i.checked_sub(1).map(|i| &ranges[i])
        };
        let inside_longer =
            |r: &Range<usize>| before(r).is_some_and(|s| r.end <= s.end && s.len() > r.len());
        let overlaps = |r: &Range<usize>| {
            let i = ranges.partition_point(|s| s.end <= r.start);
            ranges.get(i).is_some_and(|s| s.start < r.end)
        };
        let mut titles = self.find_titles(text);
        titles.retain(|t| !inside_longer(&t.bytes));
        let mut mentions: Vec<(usize, Mention)> = spans
            .iter()
            .filter_map(|s| {
                let mention = Mention {
                    text: text.get(s.bytes.clone())?.to_owned(),
                    skill: s.skill.clone(),
                };
                Some((s.bytes.start, mention))
            })
            .collect();
        if let Some(linker) = linker {
            for (bytes, name) in lexicon_phrases(text, linker) {
                if !overlaps(&bytes) {
                    let mention = Mention {
                        text: text[bytes.clone()].to_owned(),
                        skill: Some(name.to_owned()),
                    };
                    mentions.push((bytes.start, mention));
                }
            }
        }
        mentions.sort_by_key(|(start, _)| *start);
        Evidence {
            mentions: mentions.into_iter().map(|(_, m)| m).collect(),
            titles,
        }
    }

    /// [`RoleModel::evidence`] of each sentence (`sentences`: byte ranges
    /// of `text`, in order, as `SentenceSplitter::split` gives them) with
    /// the spans inside it, concatenated ([`Evidence::append`]). This is
    /// what `rolemapper roles` and the app rank: the app keeps each
    /// sentence's evidence with its cached spans, so that a keystroke
    /// re-ranks without reading the whole text again. Spans across
    /// sentences (none from the highlighter) are left out.
    pub fn evidence_by_sentence(
        &self,
        text: &str,
        sentences: &[Range<usize>],
        spans: &[SkillSpan],
        linker: Option<&Linker>,
    ) -> Evidence {
        let mut out = Evidence::default();
        for r in sentences {
            let inside: Vec<SkillSpan> = spans
                .iter()
                .filter(|s| r.start <= s.bytes.start && s.bytes.end <= r.end)
                .map(|s| SkillSpan {
                    bytes: s.bytes.start - r.start..s.bytes.end - r.start,
                    skill: s.skill.clone(),
                    score: s.score,
                })
                .collect();
            let Some(sentence) = text.get(r.clone()) else {
                continue;
            };
            out.append(&self.evidence(sentence, &inside, linker), r.start);
        }
        out
    }

    /// The occupation with this ESCO URI (full, or the id after
    /// [`OCCUPATION_URI_PREFIX`]) scored against the evidence as
    /// [`RoleModel::rank`] scores it, with its matched and missing skills
    /// (score 0 when nothing in the text supports it); `None` for an
    /// unknown URI. The app shows a CV's fit to the job post's role.
    pub fn fit(&self, evidence: &Evidence, uri: &str) -> Option<RoleMatch> {
        let id = uri.strip_prefix(OCCUPATION_URI_PREFIX).unwrap_or(uri);
        let o = self.table.occupations.iter().position(|o| o.uri == id)? as u32;
        let text = self.text_terms(evidence);
        let score = self
            .scores(evidence, &text, 1)
            .map_or(0.0, |s| s.score[o as usize]);
        Some(self.role(o, score, &text))
    }

    /// The text's known terms with their counts, and each mention's.
    fn text_terms(&self, evidence: &Evidence) -> TextTerms {
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        let mut mentions: Vec<(String, Vec<u32>)> = Vec::new();
        let mut seen: FxHashMap<String, usize> = FxHashMap::default();
        for m in &evidence.mentions {
            let phrase = m.skill.as_deref().unwrap_or(&m.text);
            let mut ts: Vec<u32> = phrase_terms(phrase)
                .iter()
                .filter_map(|t| self.terms.get(t).copied())
                .filter(|&t| !self.postings[t as usize].is_empty())
                .collect();
            ts.sort_unstable();
            ts.dedup();
            if ts.is_empty() {
                continue;
            }
            for &t in &ts {
                *counts.entry(t).or_default() += 1;
            }
            let name = collapse(phrase);
            if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(name.to_lowercase()) {
                e.insert(mentions.len());
                mentions.push((name, ts));
            }
        }
        let mut counts: Vec<(u32, u32)> = counts.into_iter().collect();
        counts.sort_unstable();
        TextTerms { counts, mentions }
    }

    /// Ranks occupations by how well they explain the evidence; the first
    /// `top` roles (diversified across sectors, see the module
    /// documentation), and the fields. No known skill and no title: an
    /// empty ranking.
    pub fn rank(&self, evidence: &Evidence, top: usize) -> Ranking {
        let text = self.text_terms(evidence);
        let Some(scored) = self.scores(evidence, &text, top.max(VOTERS)) else {
            return Ranking::default();
        };
        let fields = self.vote(&scored.order, &scored.score);
        let roles = self
            .diversify(&scored.order, &scored.score, top)
            .into_iter()
            .map(|o| self.role(o, scored.score[o as usize], &text))
            .collect();
        Ranking {
            field: fields.first().cloned(),
            fields,
            roles,
        }
    }

    /// The first `top` of `order` (best first), each picked by its score
    /// times `(1 - sector_diversity)^a · (1 - group_diversity)^b`, where `a`
    /// and `b` count the roles already listed from its sector and its ISCO
    /// unit group; ties keep the order.
    fn diversify(&self, order: &[u32], score: &[f32], top: usize) -> Vec<u32> {
        let sector_keep = 1.0 - self.score.sector_diversity.clamp(0.0, 1.0);
        let group_keep = 1.0 - self.score.group_diversity.clamp(0.0, 1.0);
        let no_sector = self.table.sectors.len();
        let sector = |o: u32| self.fields[o as usize].map_or(no_sector, |(i, _)| i as usize);
        let mut sectors = vec![0i32; no_sector + 1];
        let mut groups: FxHashMap<&str, i32> = FxHashMap::default();
        let mut left: Vec<u32> = order.to_vec();
        let mut out = Vec::with_capacity(top.min(order.len()));
        while out.len() < top && !left.is_empty() {
            let adjusted = |o: u32| {
                let isco = self.table.occupations[o as usize].isco.as_str();
                score[o as usize]
                    * sector_keep.powi(sectors[sector(o)])
                    * group_keep.powi(groups.get(isco).copied().unwrap_or(0))
            };
            let mut best = 0;
            for i in 1..left.len() {
                if adjusted(left[i]) > adjusted(left[best]) {
                    best = i;
                }
            }
            let o = left.remove(best);
            sectors[sector(o)] += 1;
            *groups
                .entry(self.table.occupations[o as usize].isco.as_str())
                .or_default() += 1;
            out.push(o);
        }
        out
    }

    /// The best `keep` occupations with a positive score, best first (ties
    /// by table order), with the scores; `None` when nothing matched.
    fn scores(&self, evidence: &Evidence, text: &TextTerms, keep: usize) -> Option<Scored> {
        let n_occ = self.table.occupations.len();
        // Explained: weighted by how often the text uses a term; covered: not.
        let mut explained = vec![0f32; n_occ];
        let mut covered = vec![0f32; n_occ];
        let mut title = vec![0f32; n_occ];
        let mut seen = vec![false; n_occ];
        let mut touched: Vec<u32> = Vec::new();
        let mut touch = |o: u32| {
            if !std::mem::replace(&mut seen[o as usize], true) {
                touched.push(o);
            }
        };
        let mut text_mass = 0f32;
        for &(t, count) in &text.counts {
            let idf = self.specificity(t);
            let q = idf * (1.0 + (count as f32).ln());
            text_mass += q;
            for p in &self.postings[t as usize] {
                let o = p.occupation();
                touch(o);
                let w = self.weight(p.relation());
                explained[o as usize] += w * q;
                covered[o as usize] += w * idf;
            }
        }
        if self.score.title > 0.0 {
            for m in &evidence.titles {
                let Some(occupations) = self.titles.occupations.get(m.title as usize) else {
                    continue;
                };
                let spec = self.titles.specificity[m.title as usize];
                for &o in occupations {
                    touch(o);
                    title[o as usize] = title[o as usize].max(spec);
                }
            }
        }
        let lambda = self.score.coverage;
        let tau = self.score.title.clamp(0.0, 1.0);
        let mut score = vec![0f32; n_occ];
        for &o in &touched {
            let o = o as usize;
            let skill = if explained[o] > 0.0 && self.mass[o] > 0.0 {
                let e = (explained[o] / text_mass).min(1.0);
                let c = (covered[o] / self.mass[o]).min(1.0);
                ((1.0 - lambda) * e.ln() + lambda * c.ln()).exp()
            } else {
                0.0
            };
            score[o] = (1.0 - tau) * skill + tau * title[o];
        }
        let mut order: Vec<u32> = touched
            .into_iter()
            .filter(|&o| score[o as usize] > 0.0)
            .collect();
        if order.is_empty() {
            return None;
        }
        let better = |a: &u32, b: &u32| {
            score[*b as usize]
                .total_cmp(&score[*a as usize])
                .then(a.cmp(b))
        };
        // Only the first few are shown or vote: no need to sort thousands.
        if order.len() > keep {
            order.select_nth_unstable_by(keep - 1, better);
            order.truncate(keep);
        }
        order.sort_unstable_by(better);
        Some(Scored { order, score })
    }

    /// Sectors, best first: each ranked role votes for its sector with
    /// weight `exp((score - best) / temperature)`.
    fn vote(&self, order: &[u32], score: &[f32]) -> Vec<Field> {
        let n = self.table.sectors.len();
        let mut sector = vec![0f32; n];
        let mut sub: Vec<Vec<f32>> = self
            .table
            .sectors
            .iter()
            .map(|s| vec![0f32; s.sub_sectors.len()])
            .collect();
        let best = order.first().map_or(0.0, |&o| score[o as usize]);
        let temperature = self.score.field_temperature.max(1e-6);
        let mut total = 0f32;
        for &o in order {
            let Some((i, j)) = self.fields[o as usize] else {
                continue;
            };
            let w = ((score[o as usize] - best) / temperature).exp();
            if w < 1e-6 {
                break;
            }
            sector[i as usize] += w;
            sub[i as usize][j as usize] += w;
            total += w;
        }
        let mut ids: Vec<usize> = (0..n).filter(|&i| sector[i] > 0.0).collect();
        ids.sort_by(|&a, &b| sector[b].total_cmp(&sector[a]).then(a.cmp(&b)));
        ids.into_iter()
            .map(|i| {
                let s = &self.table.sectors[i];
                let best = (0..sub[i].len())
                    .max_by(|&a, &b| sub[i][a].total_cmp(&sub[i][b]).then(b.cmp(&a)))
                    .expect("a voted sector has a sub-sector");
                Field {
                    sector: s.name.clone(),
                    sub_sector: s.sub_sectors[best].name.clone(),
                    score: sector[i] / total,
                }
            })
            .collect()
    }

    /// An occupation's entry: the mentions it explains (at least half of a
    /// mention's specificity lies in its profile), strongest first, and the
    /// essential skills less than half of whose name the text shows.
    fn role(&self, o: u32, score: f32, text: &TextTerms) -> RoleMatch {
        let occ = &self.table.occupations[o as usize];
        let relation = |t: u32| self.relation(o, t);
        let mut matched: Vec<(f32, &str)> = text
            .mentions
            .iter()
            .filter_map(|(name, ts)| {
                let total: f32 = ts.iter().map(|&t| self.specificity(t)).sum();
                let (mut held, mut support) = (0f32, 0f32);
                for &t in ts {
                    if let Some(r) = relation(t) {
                        held += self.specificity(t);
                        support += self.weight(r) * self.specificity(t);
                    }
                }
                (total > 0.0 && held >= 0.5 * total).then_some((support, name.as_str()))
            })
            .collect();
        matched.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let in_text = |t: &u32| text.counts.binary_search_by_key(t, |&(x, _)| x).is_ok();
        let mut missing: Vec<u32> = self.essential[o as usize]
            .iter()
            .copied()
            .filter(|&s| {
                let ts = &self.name_terms[s as usize];
                let total: f32 = ts.iter().map(|&t| self.specificity(t)).sum();
                let shown: f32 = ts
                    .iter()
                    .filter(|t| in_text(t))
                    .map(|&t| self.specificity(t))
                    .sum();
                if total == 0.0 {
                    // Terms that every occupation has: missing unless shown.
                    ts.is_empty() || !ts.iter().all(in_text)
                } else {
                    shown < 0.5 * total
                }
            })
            .collect();
        missing.sort_by(|&a, &b| {
            self.skill_idf[b as usize]
                .total_cmp(&self.skill_idf[a as usize])
                .then(
                    self.table.skills[a as usize]
                        .name
                        .cmp(&self.table.skills[b as usize].name),
                )
        });
        RoleMatch {
            uri: format!("{OCCUPATION_URI_PREFIX}{}", occ.uri),
            title: occ.title.clone(),
            isco: occ.isco.clone(),
            score,
            matched: matched.into_iter().map(|(_, n)| n.to_owned()).collect(),
            missing: missing
                .into_iter()
                .map(|s| self.table.skills[s as usize].name.clone())
                .collect(),
            occupation: o,
        }
    }
}

struct Scored {
    order: Vec<u32>,
    score: Vec<f32>,
}

impl TitleIndex {
    fn new(table: &RoleTable) -> Self {
        // (title, occupation) pairs: each ESCO occupation's own labels, then
        // each O*NET occupation's titles for every ESCO occupation
        // crosswalked to it.
        let mut by_onet: Vec<Vec<u32>> = vec![Vec::new(); table.onet.len()];
        for (o, occ) in table.occupations.iter().enumerate() {
            if let Some(j) = occ.onet {
                by_onet[j as usize].push(o as u32);
            }
        }
        let mut labels: Vec<&str> = Vec::new();
        let mut owners: Vec<(&[u32], bool)> = Vec::new();
        let singles: Vec<u32> = (0..table.occupations.len() as u32).collect();
        for (o, occ) in table.occupations.iter().enumerate() {
            for t in std::iter::once(&occ.title).chain(&occ.titles) {
                labels.push(t);
                owners.push((&singles[o..o + 1], true));
            }
        }
        for (j, onet) in table.onet.iter().enumerate() {
            for t in std::iter::once(&onet.title).chain(&onet.titles) {
                labels.push(t);
                owners.push((&by_onet[j], false));
            }
        }
        // A title that is an ESCO label names those occupations only; an
        // O*NET title adds a key ESCO lacks, for every ESCO occupation
        // crosswalked to its O*NET occupation (ESCO labels come first).
        let mut index = Self::default();
        let mut ids: FxHashMap<String, (u32, bool)> = FxHashMap::default();
        for ((key, label), (owner, esco)) in
            phrase_keys(&labels).into_iter().zip(&labels).zip(owners)
        {
            let Some(key) = key else { continue };
            if owner.is_empty() || key.matches("  ").count() >= MAX_TITLE_WORDS {
                continue;
            }
            let next = index.text.len() as u32;
            let (id, from_esco) = *ids.entry(key).or_insert((next, esco));
            if id == next {
                index.text.push((*label).to_owned());
                index.occupations.push(Vec::new());
            }
            if from_esco == esco {
                index.occupations[id as usize].extend_from_slice(owner);
            }
        }
        let n = table.occupations.len().max(2) as f32;
        for occ in &mut index.occupations {
            occ.sort_unstable();
            occ.dedup();
            index
                .specificity
                .push(((n / occ.len() as f32).ln() / n.ln()).clamp(0.0, 1.0));
        }
        // Every word prefix of every key, so that a scan stops early.
        for (key, &(id, _)) in &ids {
            for (k, _) in key.match_indices("  ") {
                index
                    .keys
                    .entry(key[..k + 1].to_owned())
                    .or_insert(PREFIX_ONLY);
            }
            index.keys.insert(key.clone(), id);
        }
        index
    }
}

/// Lexicon phrases in `text` (byte ranges, canonical names): whole words,
/// leftmost-longest, looked up in the linker's map of surface forms.
pub fn lexicon_phrases<'l>(text: &str, linker: &'l Linker) -> Vec<(Range<usize>, &'l str)> {
    let ws = words(text);
    let folded: Vec<String> = ws.iter().map(|w| fold(&text[w.clone()])).collect();
    let mut out = Vec::new();
    let mut key = String::new();
    let mut ends: Vec<usize> = Vec::with_capacity(MAX_PHRASE_WORDS);
    let mut i = 0;
    while i < ws.len() {
        key.clear();
        ends.clear();
        for f in &folded[i..ws.len().min(i + MAX_PHRASE_WORDS)] {
            key.push(' ');
            key.push_str(f);
            key.push(' ');
            ends.push(key.len());
        }
        let longest = ends
            .iter()
            .enumerate()
            .rev()
            .find_map(|(j, &end)| linker.link_key(&key[..end]).map(|name| (j + 1, name)));
        match longest {
            Some((n, name)) => {
                out.push((ws[i].start..ws[i + n - 1].end, name));
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

/// The words of a phrase as [`phrase_terms`] has them, without the pairs.
fn phrase_words(phrase: &str) -> Vec<String> {
    phrase
        .split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#'))
        // One letter is a word only as a capital: `R`, `C`.
        .filter(|w| w.chars().nth(1).is_some() || w.chars().all(char::is_uppercase))
        .map(|w| {
            if w.is_ascii() {
                w.to_ascii_lowercase()
            } else {
                fold(w)
            }
        })
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
        .map(singular)
        .collect()
}

/// The terms a phrase is matched by: its words (lower case, a plural `s`
/// dropped; stop words and lower-case single letters left out) and each
/// pair of neighbouring words.
pub fn phrase_terms(phrase: &str) -> Vec<String> {
    let words = phrase_words(phrase);
    let mut out = words.clone();
    out.extend(words.windows(2).map(|p| format!("{} {}", p[0], p[1])));
    out
}

/// Words that say nothing about a skill.
const STOP_WORDS: &[&str] = &[
    "an", "the", "and", "or", "of", "to", "in", "for", "with", "on", "by", "at", "from", "as",
    "into", "about", "over", "under", "its", "their", "your", "our", "this", "that", "these",
    "those", "be", "is", "are", "was", "were", "been", "being", "use", "using", "used", "other",
    "such", "all", "any", "each", "per", "via", "within", "across",
];

/// `policies` → `policy`, `forklifts` → `forklift`; `process`, `status`,
/// `analysis` stay.
fn singular(w: String) -> String {
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        format!("{}y", &w[..n - 3])
    } else if n > 3 && w.ends_with('s') && !["ss", "us", "is"].iter().any(|e| w.ends_with(e)) {
        w[..n - 1].to_owned()
    } else {
        w
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cleans one raw job title into the forms that can occur in text:
/// [`clean_label`]'s forms, except that a parenthesised word is a
/// qualifier, not a synonym (`support worker (housing)` gives no
/// `housing`) unless it is an acronym (`(VOC)`); and a slash between
/// alternatives gives each (`waiter/waitress`, `piano maker/technician` →
/// `piano maker`, `piano technician`), unless a part is too short to be one
/// (`A/C mechanic`).
pub fn clean_title(label: &str) -> Vec<String> {
    let qualifier = label
        .split_once(" (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner.trim())
        .filter(|inner| !is_acronym(inner));
    let mut out = Vec::new();
    for form in clean_label(label) {
        if Some(form.as_str()) == qualifier {
            continue;
        }
        let parts: Vec<&str> = form.split('/').map(str::trim).collect();
        let word_len = |p: &str| p.split_whitespace().next().map_or(0, |w| w.chars().count());
        if parts.len() == 1 || parts.iter().any(|p| word_len(p) < 3) {
            out.push(form);
            continue;
        }
        let words = |p: &str| p.split_whitespace().count();
        let (first, rest) = (parts[0], &parts[1..]);
        if rest.iter().all(|p| words(p) == 1) && words(first) > 1 {
            // `piano maker/technician`: the alternatives replace the last word.
            let stem = &first[..first.rfind(' ').expect("more than one word")];
            out.push(first.to_owned());
            out.extend(rest.iter().map(|p| format!("{stem} {p}")));
        } else {
            out.extend(parts.iter().map(|p| (*p).to_owned()));
        }
    }
    let mut seen = FxHashSet::default();
    out.retain(|f| seen.insert(f.to_lowercase()));
    out
}

fn starts_upper(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// `VOC`, `HR`, `R&D`: capitals (and digits, `&`), at least two.
fn is_acronym(s: &str) -> bool {
    s.chars().filter(char::is_ascii_uppercase).count() >= 2
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '&')
}

/// A small hand-made table for examples and tests.
#[doc(hidden)]
pub mod tests_support {
    use super::*;

    pub fn tiny_table() -> RoleTable {
        let skill = |name: &str| TableSkill {
            name: name.into(),
            ..Default::default()
        };
        let occ = |uri: &str, title: &str, isco: &str, sub: &str, ess: Vec<u32>, opt: Vec<u32>| {
            TableOccupation {
                uri: uri.into(),
                title: title.into(),
                isco: isco.into(),
                sub_sector: Some(sub.into()),
                onet: None,
                essential: ess,
                optional: opt,
                titles: vec![],
            }
        };
        RoleTable {
            format: FORMAT,
            lexicon_sha256: String::new(),
            sources: vec![],
            sectors: vec![
                Sector {
                    code: "1".into(),
                    name: "ict workers".into(),
                    sub_sectors: vec![SubSector {
                        code: "1.1".into(),
                        name: "data workers".into(),
                    }],
                },
                Sector {
                    code: "2".into(),
                    name: "health workers".into(),
                    sub_sectors: vec![SubSector {
                        code: "2.1".into(),
                        name: "nurses".into(),
                    }],
                },
            ],
            skills: vec![
                skill("SQL"),                   // 0
                skill("data visualisation"),    // 1
                skill("Python"),                // 2
                skill("communication"),         // 3
                skill("administer medication"), // 4
                skill("wound care"),            // 5
                skill("statistics"),            // 6
            ],
            occupations: vec![
                occ(
                    "a",
                    "data analyst",
                    "2511",
                    "1.1",
                    vec![0, 1, 6],
                    vec![2, 3],
                ),
                occ(
                    "b",
                    "software developer",
                    "2512",
                    "1.1",
                    vec![2, 0],
                    vec![3],
                ),
                occ("c", "nurse", "2221", "2.1", vec![4, 5, 3], vec![]),
                occ("d", "statistician", "2120", "1.1", vec![6, 2], vec![3]),
            ],
            onet: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::tiny_table;
    use super::*;

    fn ev(skills: &[&str], titles: Vec<TitleMatch>) -> Evidence {
        Evidence {
            titles,
            ..Evidence::from_skills(skills)
        }
    }

    #[test]
    fn a_roles_fit_is_its_ranked_score_and_sentences_add_up() {
        let m = RoleModel::new(tiny_table()).unwrap();
        let e = ev(&["SQL", "Python", "statistics", "communication"], vec![]);
        let ranking = m.rank(&e, 10);
        assert!(ranking.roles.len() >= 3);
        for role in &ranking.roles {
            let fit = m.fit(&e, &role.uri).unwrap();
            assert_eq!(&fit, role, "fit and rank agree on {}", role.title);
            // The id after the prefix names it too.
            let id = role.uri.strip_prefix(OCCUPATION_URI_PREFIX).unwrap();
            assert_eq!(m.fit(&e, id).unwrap().title, role.title);
        }
        // The nurse shares only "communication", which every occupation
        // has (no specificity): a fit of 0 that does not count it as
        // support, but does not call it missing either; an unknown URI has
        // no fit.
        let nurse = m.fit(&e, "c").unwrap();
        assert_eq!((nurse.score, nurse.matched.len()), (0.0, 0));
        assert_eq!(nurse.missing, ["administer medication", "wound care"]);
        assert!(m.fit(&e, "nobody").is_none());
        let none = m.fit(&Evidence::default(), "a").unwrap();
        assert_eq!((none.score, none.matched.len()), (0.0, 0));

        // Per sentence: the same mentions in order, titles moved to the text.
        let text = "Data analyst. SQL and Python.";
        let spans = [
            SkillSpan {
                bytes: 14..17,
                skill: Some("SQL".into()),
                score: 1.0,
            },
            SkillSpan {
                bytes: 22..28,
                skill: Some("Python".into()),
                score: 1.0,
            },
        ];
        let by_sentence = m.evidence_by_sentence(text, &[0..13, 14..29], &spans, None);
        let whole = m.evidence(text, &spans, None);
        assert_eq!(by_sentence, whole);
        assert_eq!(m.rank(&by_sentence, 3), m.rank(&whole, 3));
    }

    #[test]
    fn empty_or_unknown_evidence_gives_an_empty_ranking() {
        let m = RoleModel::new(tiny_table()).unwrap();
        assert_eq!(m.rank(&Evidence::default(), 10), Ranking::default());
        assert_eq!(
            m.rank(&ev(&["juggling", ""], vec![]), 10),
            Ranking::default()
        );
        assert!(m.find_titles("").is_empty());
        assert!(m.find_titles("   \n").is_empty());
    }

    #[test]
    fn specific_skills_outweigh_common_ones() {
        let m = RoleModel::new(tiny_table()).unwrap();
        let r = m.rank(
            &ev(&["sql", "Data Visualisation", "communication"], vec![]),
            10,
        );
        assert_eq!(r.roles[0].title, "data analyst");
        // "communication" is everyone's (idf 0): it explains nothing.
        assert_eq!(r.roles[0].matched, ["Data Visualisation", "sql"]);
        assert_eq!(r.roles[0].missing, ["statistics"]);
        assert_eq!(r.roles[0].uri, format!("{OCCUPATION_URI_PREFIX}a"));
        let f = r.field.unwrap();
        assert_eq!(
            (f.sector.as_str(), f.sub_sector.as_str()),
            ("ict workers", "data workers")
        );
        assert!(f.score > 0.5 && f.score <= 1.0);
        for w in r.roles.windows(2) {
            assert!(w[0].score >= w[1].score);
        }
        assert!(r.roles.iter().all(|x| x.score > 0.0 && x.score <= 1.0));
    }

    #[test]
    fn unlinked_phrases_match_by_their_words() {
        let m = RoleModel::new(tiny_table()).unwrap();
        let e = Evidence {
            mentions: vec![Mention {
                text: "Wound-care procedures".into(),
                skill: None,
            }],
            titles: vec![],
        };
        let r = m.rank(&e, 10);
        assert_eq!(r.roles.len(), 1);
        assert_eq!(r.roles[0].title, "nurse");
        assert_eq!(r.roles[0].matched, ["Wound-care procedures"]);
        assert_eq!(
            r.roles[0].missing,
            ["administer medication", "communication"]
        );
    }

    #[test]
    fn spans_become_mentions_and_titles_inside_them_do_not_count() {
        let m = RoleModel::new(tiny_table()).unwrap();
        let text = "Nurse. Statistician statistics";
        let span = |bytes: Range<usize>, skill: Option<&str>| SkillSpan {
            bytes,
            skill: skill.map(str::to_owned),
            score: 0.9,
        };
        let e = m.evidence(
            text,
            &[span(7..19, None), span(20..30, Some("statistics"))],
            None,
        );
        // "Statistician" is the whole span 7..19, not inside a longer one: it counts.
        assert_eq!(e.titles.len(), 2, "{:?}", e.titles);
        assert_eq!(e.titles[0].bytes, 0..5);
        assert_eq!(e.mentions[0].text, "Statistician");
        assert_eq!(e.mentions[1].skill.as_deref(), Some("statistics"));
        let e = m.evidence(text, &[span(7..30, None)], None);
        assert_eq!(
            e.titles.len(),
            1,
            "a title inside a longer span: {:?}",
            e.titles
        );
    }

    #[test]
    fn a_linker_adds_lexicon_phrases_outside_the_spans() {
        let lexicon = crate::lexicon::Lexicon::parse(
            r#"[{"id":"x","title":"","package":"","sha256":"","path":"","licence":"","attribution":""}]"#,
            "{\"name\":\"wound care\",\"source\":\"x\"}\n\
             {\"name\":\"SQL\",\"source\":\"x\"}\n\
             {\"name\":\"Python\",\"source\":\"x\"}",
        )
        .unwrap();
        let linker = Linker::new(&lexicon).unwrap();
        let text = "PYTHON and SQL; wound care.";
        assert_eq!(
            lexicon_phrases(text, &linker),
            [(0..6, "Python"), (11..14, "SQL"), (16..26, "wound care")]
        );
        let m = RoleModel::new(tiny_table()).unwrap();
        let span = SkillSpan {
            bytes: 11..14,
            skill: Some("SQL".into()),
            score: 0.9,
        };
        let e = m.evidence(text, &[span], Some(&linker));
        let found: Vec<(&str, &str)> = e
            .mentions
            .iter()
            .map(|x| (x.text.as_str(), x.skill.as_deref().unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                ("PYTHON", "Python"),
                ("SQL", "SQL"),
                ("wound care", "wound care")
            ]
        );
    }

    #[test]
    fn terms_are_words_and_word_pairs() {
        assert_eq!(
            phrase_terms("Forklift trucks & the policies"),
            [
                "forklift",
                "truck",
                "policy",
                "forklift truck",
                "truck policy"
            ]
        );
        assert_eq!(
            phrase_terms("C# and C++ (analysis)"),
            ["c#", "c++", "analysis", "c# c++", "c++ analysis"]
        );
        assert!(phrase_terms("a , of").is_empty());
        assert_eq!(phrase_terms("R"), ["r"]);
    }

    #[test]
    fn two_fields_both_show() {
        let m = RoleModel::new(tiny_table()).unwrap();
        let r = m.rank(
            &ev(
                &[
                    "SQL",
                    "data visualisation",
                    "administer medication",
                    "wound care",
                ],
                vec![],
            ),
            10,
        );
        let titles: Vec<&str> = r.roles.iter().map(|x| x.title.as_str()).collect();
        assert!(
            titles.contains(&"nurse") && titles.contains(&"data analyst"),
            "{titles:?}"
        );
        assert_eq!(r.fields.len(), 2);
    }

    #[test]
    fn a_title_counts() {
        let m = RoleModel::new(tiny_table()).unwrap();
        let titles = m.find_titles("Senior NURSE, night shifts");
        assert_eq!(titles.len(), 1);
        assert_eq!(titles[0].bytes, 7..12);
        let r = m.rank(&ev(&[], titles), 3);
        assert_eq!(r.roles.len(), 1);
        assert_eq!(r.roles[0].title, "nurse");
        assert!(r.roles[0].matched.is_empty());
        assert_eq!(r.roles[0].missing.len(), 3);
        // The title tips a tie between two skill profiles.
        let both = ev(&["Python", "statistics"], m.find_titles("Statistician"));
        assert_eq!(m.rank(&both, 1).roles[0].title, "statistician");
    }

    #[test]
    fn titles_are_leftmost_longest_whole_words() {
        let mut t = tiny_table();
        t.occupations[0].titles = vec!["analyst".into(), "data analyst".into()];
        let m = RoleModel::new(t).unwrap();
        let found: Vec<&str> = m
            .find_titles("Data analyst; analysts; analyst, Analyst")
            .iter()
            .map(|x| m.title_text(x.title).unwrap())
            .collect();
        assert_eq!(found, ["data analyst", "analyst"]);
        assert_eq!(
            m.find_titles("Data analyst; analysts; analyst, Analyst")[1].bytes,
            33..40
        );
    }

    #[test]
    fn gzip_round_trip_is_exact_and_deterministic() {
        let t = tiny_table();
        let gz = t.to_gzip();
        assert_eq!(gz, t.to_gzip());
        assert_eq!(RoleTable::from_gzip(&gz).unwrap(), t);
    }

    #[test]
    fn bad_tables_are_refused_with_a_reason() {
        assert!(matches!(
            RoleTable::from_gzip(b"not gzip"),
            Err(RolesError::Gzip(_))
        ));
        let mut t = tiny_table();
        t.format = 2;
        let e = RoleTable::from_json(t.to_json().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("format 2 is not supported"), "{e}");
        let mut t = tiny_table();
        t.occupations[1].essential.push(99);
        let e = RoleTable::from_json(t.to_json().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("names skill 99"), "{e}");
        let mut t = tiny_table();
        t.occupations[1].sub_sector = Some("9.9".into());
        assert!(RoleModel::new(t).is_err());
        let gz = tiny_table().to_gzip();
        for cut in [1, gz.len() / 2, gz.len() - 1] {
            assert!(RoleTable::from_gzip(&gz[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn clean_title_splits_alternatives() {
        assert_eq!(clean_title("waiter/waitress"), ["waiter", "waitress"]);
        assert_eq!(
            clean_title("piano maker/technician"),
            ["piano maker", "piano technician"]
        );
        assert_eq!(
            clean_title("head waiter/head waitress"),
            ["head waiter", "head waitress"]
        );
        assert_eq!(
            clean_title("vessel operations coordinator (VOC)"),
            [
                "vessel operations coordinator",
                "VOC",
                "vessel operations coordinator (VOC)"
            ]
        );
        assert_eq!(
            clean_title("support worker (housing)"),
            ["support worker", "support worker (housing)"]
        );
        assert_eq!(clean_title("A/C Mechanic"), ["A/C Mechanic"]);
        assert!(clean_title("  ").is_empty());
    }
}
