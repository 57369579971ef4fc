//! The worker's message logic and its sentence cache, in headless Chromium
//! (`wasm-pack test --headless --chrome app/package`), on the tiny
//! random-weight bundle that `skills`' own tests use.
#![cfg(target_arch = "wasm32")]

#[path = "../../../skills/tests/common/mod.rs"]
mod common;

use rolemapper_web::engine::Engine;
use rolemapper_web::protocol::{FromWorker, StyleChoice, ToWorker};
use rolemapper_web::service::{Service, WARM_UP_STEPS};
use skills::bundle::Bundle;
use skills::model::Compute;
use skills::offsets::OffsetMap;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TEXT: &str =
    "We use Docker and ML daily 😀.\nPython • machine learning\nDocker again, and Python.";

thread_local! {
    /// One bundle for all: candle initialises some tensors at random, so
    /// two tiny bundles need not agree.
    static BUNDLE: Vec<u8> = common::tiny_bundle();
}

fn highlighter() -> skills::highlight::Highlighter {
    BUNDLE.with(|b| {
        Bundle::read(b)
            .unwrap()
            .into_highlighter(32, Compute::F32)
            .unwrap()
    })
}

fn engine() -> Engine {
    Engine::new(highlighter())
}

/// The highlighter's own answer, in UTF-16 units.
fn reference(text: &str) -> Vec<(usize, usize, Option<String>)> {
    let h = highlighter();
    let map = OffsetMap::new(text);
    h.highlight(text)
        .unwrap()
        .into_iter()
        .map(|s| {
            let u = map.bytes_to_utf16(s.bytes).unwrap();
            (u.start, u.end, s.skill)
        })
        .collect()
}

fn spans_of(msg: &FromWorker) -> Vec<(usize, usize, Option<String>)> {
    match msg {
        FromWorker::Spans { spans, .. } => spans
            .iter()
            .map(|s| (s.start, s.end, s.skill.clone()))
            .collect(),
        other => panic!("expected spans, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn requests_before_the_model_are_answered_when_it_is_ready() {
    let mut service = Service::new();
    assert!(service.begin_load());
    assert!(!service.begin_load(), "one load at a time");
    assert_eq!(
        service.highlight(1, "Python".into(), StyleChoice::Auto),
        None
    );
    assert_eq!(service.highlight(2, TEXT.into(), StyleChoice::Auto), None);
    let answers = service.ready(engine());
    let ids: Vec<u64> = answers
        .iter()
        .map(|a| match a {
            FromWorker::Spans { id, .. } => *id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(spans_of(&answers[1]), reference(TEXT));
    assert!(!service.begin_load(), "no reload once a model is there");
    let again = service
        .highlight(3, TEXT.into(), StyleChoice::Auto)
        .unwrap();
    assert_eq!(spans_of(&again), reference(TEXT));
}

#[wasm_bindgen_test]
fn the_warm_up_tags_and_then_leaves_the_cache_and_answers_as_they_were() {
    let mut service = Service::new();
    assert!(
        !service.warm_up_step(0),
        "nothing to warm up without a model"
    );
    service.ready(engine());
    let before = spans_of(
        &service
            .highlight(1, TEXT.into(), StyleChoice::Auto)
            .unwrap(),
    );
    let cached = service.cached_sentences();
    assert!(service.warm_up_step(0));
    assert!(
        service.cached_sentences() > cached,
        "the warm-up tags sentences"
    );
    let mut step = 1;
    while service.warm_up_step(step) {
        step += 1;
    }
    assert_eq!(step, WARM_UP_STEPS);
    assert_eq!(
        service.cached_sentences(),
        cached,
        "its sentences are dropped"
    );
    let after = service
        .highlight(2, TEXT.into(), StyleChoice::Auto)
        .unwrap();
    assert!(
        matches!(after, FromWorker::Spans { tagged: 0, .. }),
        "{after:?}"
    );
    assert_eq!(spans_of(&after), before);
}

#[wasm_bindgen_test]
fn only_changed_sentences_are_tagged_and_answers_do_not_change() {
    let mut e = engine();
    let first = e.highlight(TEXT, StyleChoice::Auto).unwrap();
    // "Python • machine learning" is two list items.
    assert_eq!(first.sentences, 4);
    assert_eq!(first.tagged, 4);
    let again = e.highlight(TEXT, StyleChoice::Auto).unwrap();
    assert_eq!(again.tagged, 0, "all from the cache");
    assert_eq!(again.spans, first.spans);

    // Edit the middle sentence: one sentence is tagged, the answer is the
    // highlighter's own for the new text.
    let edited = TEXT.replace("• machine learning", "• deep machine learning");
    let h = e.highlight(&edited, StyleChoice::Auto).unwrap();
    assert_eq!(h.tagged, 1);
    let got: Vec<_> = h
        .spans
        .iter()
        .map(|s| (s.start, s.end, s.skill.clone()))
        .collect();
    assert_eq!(got, reference(&edited));
    // A repeated sentence is tagged once.
    let twice = "Rust and Go.\nRust and Go.";
    assert_eq!(e.highlight(twice, StyleChoice::Auto).unwrap().tagged, 1);
    assert!(e.highlight("", StyleChoice::Auto).unwrap().spans.is_empty());
}

#[wasm_bindgen_test]
fn messages_are_json_strings() {
    let msg = ToWorker::Highlight {
        id: 9,
        text: "<script>alert(1)</script>".into(),
        style: StyleChoice::Job,
    };
    let js = wasm_bindgen::JsValue::from_str(&msg.to_json());
    assert_eq!(ToWorker::from_json(&js.as_string().unwrap()).unwrap(), msg);
}

/// The worker checks the bundle's checksum with WebCrypto, over the
/// bundle's own bytes (its checksum digits read as the placeholder for the
/// call, then put back), and builds the engine from the unverified bytes:
/// that digest must be the one `skills` computes, the bytes must be as they
/// were, and a changed byte must be refused.
#[wasm_bindgen_test(async)]
async fn the_webcrypto_checksum_is_the_bundles_own() {
    use rolemapper_web::loader::{finish_digest, start_digest};
    use skills::bundle::{checksum_of, verify_digest};
    let original = BUNDLE.with(|b| b.clone());
    let mut bytes = original.clone();
    let digest = finish_digest(start_digest(&mut bytes).expect("this page has WebCrypto"))
        .await
        .unwrap();
    assert!(bytes == original, "the checksum's digits were not put back");
    assert_eq!(digest, checksum_of(&bytes).unwrap());
    let (engine, _, recorded) =
        Engine::from_bundle_unverified_timed(&bytes, &mut Vec::new()).unwrap();
    drop(engine);
    verify_digest(&recorded, &digest).unwrap();
    // A byte of tensor data changed: the unverified read may accept it, the
    // digest does not.
    let mut damaged = bytes.clone();
    let at = damaged.len() - 100;
    damaged[at] ^= 0x40;
    let digest = finish_digest(start_digest(&mut damaged).unwrap())
        .await
        .unwrap();
    let (_, _, recorded) = Engine::from_bundle_unverified_timed(&damaged, &mut Vec::new()).unwrap();
    assert!(verify_digest(&recorded, &digest).is_err());
    assert!(Engine::from_bundle(&damaged).is_err());
}

/// The role table the site ships.
static ROLES: &[u8] = include_bytes!("../../../skills/roles/roles.json.gz");

/// The worker's roles come from its sentence cache and are what
/// `rolemapper roles` computes from the same spans
/// (`RoleModel::evidence_by_sentence`, then `rank`), as the text changes;
/// a role's fit is its ranked score.
#[wasm_bindgen_test]
fn roles_from_the_sentence_cache_are_the_clis() {
    use skills::roles::RoleModel;
    let model = RoleModel::from_gzip(ROLES).unwrap();
    let h = highlighter();
    let mut e = engine();
    let texts = [
        TEXT.to_owned(),
        TEXT.replace(
            "• machine learning",
            "• machine learning, SQL and data analysis",
        ),
        "Senior data analyst.\nSQL, Tableau and Python; statistics and data visualisation."
            .to_owned(),
    ];
    for text in &texts {
        e.highlight(text, StyleChoice::Auto).unwrap();
        let spans = h.highlight(text).unwrap();
        let evidence =
            model.evidence_by_sentence(text, &h.splitter.split(text), &spans, h.linker.as_ref());
        let expected = model.rank(&evidence, 5);
        assert!(!expected.roles.is_empty(), "{text:?} has roles");
        let second = expected.roles.get(1).unwrap_or(&expected.roles[0]).clone();
        let (ranking, fit) = e
            .roles(text, StyleChoice::Auto, &model, 5, Some(&second.uri))
            .unwrap();
        assert_eq!(ranking, expected, "{text:?}");
        assert_eq!(fit.as_ref(), Some(&second));
    }
    // Without a highlight first, the roles request tags the text itself.
    let fresh = "Warehouse operative: forklift truck, stock control.";
    let (ranking, _) = Engine::new(highlighter())
        .roles(fresh, StyleChoice::Auto, &model, 3, None)
        .unwrap();
    let spans = h.highlight(fresh).unwrap();
    let evidence =
        model.evidence_by_sentence(fresh, &h.splitter.split(fresh), &spans, h.linker.as_ref());
    assert_eq!(ranking, model.rank(&evidence, 3));
}

/// Roles are answered once the model and the role data are loaded; a
/// damaged table is refused with a message and highlighting goes on.
#[wasm_bindgen_test]
fn roles_wait_for_the_role_data_and_a_damaged_table_is_refused() {
    let mut s = Service::new();
    s.ready(engine());
    assert!(s
        .roles(1, TEXT.into(), StyleChoice::Auto, 5, None)
        .is_none());
    match s.load_roles(&ROLES[..ROLES.len() / 2], 0.0) {
        FromWorker::RolesFailed { message } => {
            assert!(message.contains("role data"), "{message}")
        }
        other => panic!("a truncated table loaded: {other:?}"),
    }
    assert!(!s.has_roles());
    assert!(s.highlight(2, TEXT.into(), StyleChoice::Auto).is_some());
    match s.load_roles(ROLES, 0.0) {
        FromWorker::RolesReady {
            occupations,
            credits,
            ..
        } => {
            assert!(occupations > 1000, "{occupations} occupations");
            assert!(credits.iter().any(|c| c.contains("ESCO")));
            assert!(credits.iter().any(|c| c.contains("O*NET")));
        }
        other => panic!("the table did not load: {other:?}"),
    }
    match s.roles(3, TEXT.into(), StyleChoice::Auto, 5, None) {
        Some(FromWorker::Roles { id: 3, ranking, .. }) => assert!(!ranking.roles.is_empty()),
        other => panic!("expected roles, got {other:?}"),
    }
}
