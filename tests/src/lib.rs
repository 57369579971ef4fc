//! Shared helpers for RoleMapper's cross-crate tests (in `tests/tests/`).

use std::path::PathBuf;

/// The fixture folder shaped like `../shared/data` (hand-written text, not
/// copied from the reference data).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fresh empty folder under the system temp dir, unique to this process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolemapper-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// Trains the tiny random-init model (`fixtures/tiny-model`) on the toy set
/// (`fixtures/toy`) until it has learnt it, into `out`; returns the model
/// folder (`out/best`).
pub fn tiny_trained_model(out: &std::path::Path) -> PathBuf {
    use trainer::train::{train, TrainConfig};
    let cfg = TrainConfig {
        init: fixtures().join("tiny-model"),
        data: fixtures().join("toy"),
        head: skills::model::Head::Linear,
        mix: vec![("toy".into(), 1.0)],
        select: vec!["toy".into()],
        max_len: 32,
        batch_size: 8,
        steps: 300,
        lr: 3e-3,
        head_lr_scale: 1.0,
        warmup: 10,
        weight_decay: 0.01,
        clip: 1.0,
        eval_every: 50,
        patience: 100,
        seed: 7,
        freeze_word_embeddings: false,
        max_dev: 100,
        styles: false,
    };
    let outcome =
        train(&cfg, out, false, &candle_core::Device::Cpu, None).expect("training the tiny model");
    assert_eq!(
        outcome.state.best_score, 1.0,
        "the tiny model must learn the toy set"
    );
    out.join("best")
}
