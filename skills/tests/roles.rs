//! Role mapping end to end with what ships: the bundle's tagger and lexicon
//! find the skills, the committed role table ranks occupations. Texts
//! written for these tests (`tests/fixtures/roles/`): the first five roles
//! hold the right ISCO-08 unit group and the field is the right sector.
#![cfg(not(target_arch = "wasm32"))]

use skills::highlight::Highlighter;
use skills::model::Compute;
use skills::roles::{Evidence, RoleModel, RoleTable};
use std::sync::OnceLock;

const BUNDLE: &[u8] = include_bytes!("../../public/model/rolemapper.gguf");
const TABLE: &[u8] = include_bytes!("../roles/roles.json.gz");

fn highlighter() -> &'static Highlighter {
    static H: OnceLock<Highlighter> = OnceLock::new();
    H.get_or_init(|| {
        skills::bundle::Bundle::read(BUNDLE)
            .unwrap()
            .into_highlighter(128, Compute::Int8)
            .unwrap()
    })
}

fn roles() -> &'static RoleModel {
    static R: OnceLock<RoleModel> = OnceLock::new();
    R.get_or_init(|| RoleModel::from_gzip(TABLE).expect("the committed role table loads"))
}

/// What `rolemapper roles` and the app do: spans, then the evidence (with
/// the bundle's lexicon for phrases outside the spans), then the ranking.
fn rank(text: &str, top: usize) -> skills::roles::Ranking {
    let h = highlighter();
    let spans = h.highlight(text).unwrap();
    let evidence =
        roles().evidence_by_sentence(text, &h.splitter.split(text), &spans, h.linker.as_ref());
    roles().rank(&evidence, top)
}

/// The ranked roles as (ISCO code, title), for failure messages.
fn isco_and_titles(r: &skills::roles::Ranking) -> Vec<(&str, &str)> {
    r.roles
        .iter()
        .map(|x| (x.isco.as_str(), x.title.as_str()))
        .collect()
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../tests/fixtures/roles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_fits(name: &str, isco: &str, sector: &str) {
    let r = rank(&fixture(name), 5);
    let found = isco_and_titles(&r);
    assert!(
        r.roles.iter().any(|x| x.isco == isco),
        "{name}: ISCO {isco} not in the top 5: {found:?}"
    );
    let field = r.field.as_ref().expect("a field");
    assert_eq!(field.sector, sector, "{name}: {found:?}");
    assert!(field.score > 0.0 && field.score <= 1.0);
    for role in &r.roles {
        assert!(role.uri.starts_with(skills::roles::OCCUPATION_URI_PREFIX));
        assert_eq!(role.isco.len(), 4);
        assert!(role.score > 0.0 && role.score <= 1.0);
    }
}

#[test]
fn a_data_analyst_cv_maps_to_data_analysts() {
    // ISCO 2511: systems analysts (ESCO's "data analyst").
    assert_fits("data-analyst-cv.txt", "2511", "ict workers");
}

#[test]
fn a_paralegal_post_maps_to_legal_associate_professionals() {
    // ISCO 3411: legal and related associate professionals.
    assert_fits(
        "paralegal-job.txt",
        "3411",
        "business & administration workers",
    );
}

#[test]
fn a_warehouse_post_maps_to_freight_handlers() {
    // ISCO 9333: freight handlers (ESCO's "warehouse worker").
    assert_fits(
        "warehouse-job.txt",
        "9333",
        "technicians, construction, transport & security workers",
    );
}

#[test]
fn a_cv_with_skills_from_two_fields_shows_both() {
    let text = "Registered nurse, now retraining as a software developer.\n\
        Skills: wound care, administering medication, patient assessment, infection control.\n\
        Projects: web applications in JavaScript and Python with SQL databases, Git, unit testing.";
    let r = rank(text, 10);
    let found = isco_and_titles(&r);
    assert!(
        r.roles.iter().any(|x| x.isco.starts_with("22")),
        "no health professional: {found:?}"
    );
    assert!(
        r.roles.iter().any(|x| x.isco.starts_with("25")),
        "no ICT professional: {found:?}"
    );
    let sectors: Vec<&str> = r.fields.iter().map(|f| f.sector.as_str()).collect();
    assert!(sectors.contains(&"ict workers"), "{sectors:?}");
    assert!(sectors.contains(&"healthcare workers"), "{sectors:?}");
}

#[test]
fn empty_and_unknown_text_give_an_empty_ranking() {
    for text in ["", "   \n\t", "zxqv blorp quux", "🙂🙂🙂", "12345 67890"] {
        let r = rank(text, 10);
        assert!(r.roles.is_empty() && r.field.is_none(), "{text:?}: {r:?}");
    }
}

#[test]
fn a_long_text_ranks_quickly() {
    // 1 MB of CV-like lines, as mentions and titles (the tagger's own speed
    // on long texts is the highlighter's concern).
    let line = "Warehouse Operative: forklift truck, stock control, Python, SQL and payroll.\n";
    let text = line.repeat(1_000_000 / line.len());
    let model = roles();
    let titles = model.find_titles(&text);
    assert!(titles.len() >= 1_000_000 / line.len());
    let mut evidence =
        Evidence::from_skills(&["forklift truck", "stock control", "Python"].repeat(5000));
    evidence.titles = titles;
    let r = model.rank(&evidence, 10);
    assert_eq!(r.roles.len(), 10);
}

#[test]
fn the_table_is_what_its_reader_writes() {
    let table = RoleTable::from_gzip(TABLE).unwrap();
    assert!(
        table.to_gzip() == TABLE,
        "skills/roles/roles.json.gz was not written by `rolemapper roles --build`"
    );
    let known: std::collections::HashSet<&str> =
        table.skills.iter().map(|s| s.name.as_str()).collect();
    assert!(known.contains("Python") && known.contains("SQL"));
    let bundle = skills::bundle::Bundle::read(BUNDLE).unwrap();
    assert!(
        table.made_for(&bundle.lexicon),
        "the role table was built against another lexicon than the shipped bundle's: run `rolemapper roles --build`"
    );
}
