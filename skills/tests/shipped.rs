//! The shipped bundle (public/model/rolemapper.gguf) gives the recorded
//! answer on a fixed multilingual, emoji-laden text. The browser test
//! (`tests/browser.rs`) checks the same recording in headless Chromium, so
//! the two platforms agree: identical spans, emissions within
//! `EMISSION_TOLERANCE`.
//!
//! After shipping a new bundle, record its answer with
//! `ROLEMAPPER_UPDATE_FIXTURES=1 cargo test -p skills --test shipped`.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/shipped.rs"]
mod shipped;

use shipped::*;

const TEXT: &str =
    "Senior Data Engineer 👩‍💻 in München/Zürich: we need Python, SQL and Apache Spark; \
experience with machine learning (scikit-learn, PyTorch) is a plus 🙌.\n\
• Компетенции: project management, Docker и Kubernetes.\n\
• 日本語の資料: data analysis with Microsoft Excel and Power BI 📊.\n\
• Frontend: React ⚛️, TypeScript, Node.js; cloud ☁️: AWS, Azure.\n\
• العربية: customer service, communication skills.";

#[test]
fn the_shipped_bundle_gives_the_recorded_answer() {
    let got = answer(SHIPPED, TEXT);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/shipped-answer.json"
    );
    if std::env::var_os("ROLEMAPPER_UPDATE_FIXTURES").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    let expected: Answer = serde_json::from_str(SHIPPED_ANSWER).expect("the recording parses");
    assert_eq!(
        got.bundle_sha256, expected.bundle_sha256,
        "the shipped bundle changed: record its answer with ROLEMAPPER_UPDATE_FIXTURES=1 cargo test -p skills --test shipped"
    );
    assert_eq!(expected.text, TEXT);
    assert!(
        got.spans.len() >= 8,
        "the shipped model finds skills: {:?}",
        got.spans
    );
    let worst = assert_same_answer(&got, &expected);
    eprintln!("max |Δ emission| against the recording: {worst:e}");
}

/// The browser's attention path (`skills::attention`, which the model takes
/// in wasm), run natively: the same recorded answer, within the tolerances
/// between builds. The highlighter's batches of sentences take its padded
/// (packed) branch, the first sentence's emissions its in-place one.
#[test]
fn the_browsers_attention_path_gives_the_recorded_answer_natively() {
    let expected: Answer = serde_json::from_str(SHIPPED_ANSWER).expect("the recording parses");
    skills::model::use_browser_attention(true);
    let got = answer(SHIPPED, TEXT);
    skills::model::use_browser_attention(false);
    let worst = assert_same_answer(&got, &expected);
    eprintln!("browser attention natively: max |Δ emission| {worst:e}");
}
