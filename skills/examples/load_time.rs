//! Where loading the shipped bundle's highlighter spends its time.
//! `cargo run --release -p skills --example load_time [BUNDLE]`
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "public/model/rolemapper.gguf".into());
    let bytes = std::fs::read(&path).expect("bundle file");
    let t = Instant::now();
    let b = skills::bundle::Bundle::read(&bytes).expect("bundle reads");
    let read = t.elapsed();
    let t = Instant::now();
    let tagger = b
        .tagger(&candle_core::Device::Cpu, skills::model::Compute::Int8)
        .unwrap();
    let tag = t.elapsed();
    println!("phrase keys alone {:?}", keys_only(&b));
    let t = Instant::now();
    let linker = skills::highlight::Linker::new(&b.lexicon).unwrap();
    let link = t.elapsed();
    let t = Instant::now();
    let pieces = skills::encode::WordPieces::from_json(b.tokenizer_json.as_bytes(), 128).unwrap();
    let tok = t.elapsed();
    let h =
        skills::highlight::Highlighter::new(tagger, pieces, Some(linker), candle_core::Device::Cpu);
    let t = Instant::now();
    let n = h
        .highlight("Experience with Python, SQL and machine learning.")
        .unwrap()
        .len();
    println!(
        "read+verify {read:?}, tagger {tag:?}, linker {link:?}, tokenizer {tok:?}, first highlight {:?} ({n} spans)",
        t.elapsed()
    );
    // The browser worker's way: the lexicon read straight into the linker.
    let mut steps = Vec::new();
    let mut last = Instant::now();
    let t = Instant::now();
    skills::bundle::Bundle::highlighter_steps(
        &bytes,
        true,
        128,
        skills::model::Compute::Int8,
        &mut |name| {
            steps.push(format!("{name} {:?}", last.elapsed()));
            last = Instant::now();
        },
    )
    .unwrap();
    println!("highlighter_steps {:?}: {}", t.elapsed(), steps.join(", "));
}

#[allow(dead_code)]
fn keys_only(b: &skills::bundle::Bundle) -> std::time::Duration {
    let t = Instant::now();
    let n = b
        .lexicon
        .surface_forms()
        .filter_map(|(p, _)| skills::lexicon::phrase_key(p))
        .count();
    assert!(n > 0);
    t.elapsed()
}
