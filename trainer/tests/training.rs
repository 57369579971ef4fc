//! Training on a toy set with the tiny random-init model
//! (`tests/fixtures/tiny-model`): it must overfit to F1 = 1.0, and a run
//! killed with SIGKILL and resumed must end with the weights of a run that
//! was never interrupted.

use skills::model::Head;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use trainer::train::{train, TrainConfig};

fn tiny_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny-model")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolemapper-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The toy set (`tests/fixtures/toy`): ten sentences, train = dev.
fn toy_data(dir: &Path) {
    let toy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/toy");
    for split in ["train", "dev"] {
        let name = format!("toy.{split}.jsonl");
        std::fs::copy(toy.join(&name), dir.join(&name)).unwrap();
    }
}

fn config(data: &Path, head: Head, steps: usize, eval_every: usize) -> TrainConfig {
    TrainConfig {
        init: tiny_model(),
        data: data.to_owned(),
        head,
        mix: vec![("toy".into(), 1.0)],
        select: vec!["toy".into()],
        max_len: 32,
        batch_size: 8,
        steps,
        lr: 3e-3,
        head_lr_scale: 1.0,
        warmup: 10,
        weight_decay: 0.01,
        clip: 1.0,
        eval_every,
        patience: 100,
        seed: 7,
        freeze_word_embeddings: false,
        max_dev: 100,
        styles: false,
    }
}

#[test]
fn tiny_model_overfits_toy_set() {
    let data = scratch("overfit-data");
    toy_data(&data);
    for head in [Head::Linear, Head::Crf] {
        let out = data.join(format!("run-{head:?}"));
        let started = Instant::now();
        let outcome = train(
            &config(&data, head, 300, 50),
            &out,
            false,
            &candle_core::Device::Cpu,
            None,
        )
        .unwrap();
        eprintln!(
            "{head:?}: best F1 {} at step {} in {:?}",
            outcome.state.best_score,
            outcome.state.best_step,
            started.elapsed()
        );
        assert_eq!(
            outcome.state.best_score, 1.0,
            "{head:?} did not overfit: {:?}",
            outcome.state.evals
        );
        assert!(
            outcome.random_init.len() > 10,
            "no pretrained weights: everything starts random"
        );
        for f in [
            "best/model.safetensors",
            "best/tagger.json",
            "best/tokenizer.json",
            "metrics.json",
            "loss.svg",
            "dev_f1.svg",
        ] {
            assert!(out.join(f).exists(), "{f} missing");
        }
    }
    std::fs::remove_dir_all(data).unwrap();
}

fn rolemapper_train(data: &Path, out: &Path, resume: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rolemapper"));
    c.args(["train", "--init"])
        .arg(tiny_model())
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out);
    c.args([
        "--mix",
        "toy=1",
        "--select",
        "toy",
        "--max-len",
        "32",
        "--batch-size",
        "8",
        "--steps",
        "400",
        "--lr",
        "3e-3",
    ]);
    c.args([
        "--warmup",
        "10",
        "--eval-every",
        "20",
        "--patience",
        "1000",
        "--seed",
        "7",
        "--train-word-embeddings",
    ]);
    if resume {
        c.arg("--resume");
    }
    c
}

fn final_weights(out: &Path) -> Vec<(String, Vec<f32>)> {
    let latest = std::fs::read_to_string(out.join("latest")).unwrap();
    assert_eq!(latest.trim(), "ckpt-00000400");
    let t = candle_core::safetensors::load(
        out.join(latest.trim()).join("model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let mut v: Vec<_> = t
        .into_iter()
        .map(|(k, x)| (k, x.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A scratch folder with the toy data and, in `whole/`, the run that the
/// interrupted ones must end up equal to.
fn uninterrupted_run(name: &str) -> (PathBuf, PathBuf) {
    let data = scratch(name);
    toy_data(&data);
    let whole = data.join("whole");
    assert!(rolemapper_train(&data, &whole, false)
        .status()
        .unwrap()
        .success());
    (data, whole)
}

#[test]
fn resume_after_sigkill_matches_an_uninterrupted_run() {
    let (data, whole) = uninterrupted_run("resume");

    let killed = data.join("killed");
    let mut child = rolemapper_train(&data, &killed, false).spawn().unwrap();
    let started = Instant::now();
    loop {
        let at = std::fs::read_to_string(killed.join("latest")).unwrap_or_default();
        if at.trim() >= "ckpt-00000060" {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = std::fs::read_to_string(killed.join("latest")).unwrap();
    assert_ne!(
        at_kill.trim(),
        "ckpt-00000400",
        "killed too late to test anything"
    );

    let status = rolemapper_train(&data, &killed, true).status().unwrap();
    assert!(status.success());
    let (a, b) = (final_weights(&whole), final_weights(&killed));
    assert_eq!(a.len(), b.len());
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        let d = va
            .iter()
            .zip(vb)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(
            d < 1e-5,
            "{na}: max |diff| {d} after resuming from {at_kill}"
        );
    }
    // The curves are whole too: every step's loss, every evaluation.
    let metrics = |o: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(o.join("metrics.json")).unwrap()).unwrap()
    };
    assert_eq!(metrics(&whole)["evals"].as_array().unwrap().len(), 20);
    assert_eq!(metrics(&killed)["evals"].as_array().unwrap().len(), 20);
    // A second run into a used folder is refused rather than overwriting it.
    let out = rolemapper_train(&data, &whole, false).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
    std::fs::remove_dir_all(data).unwrap();
}

/// Every file a killed run left behind that a reader would open is whole.
fn assert_no_half_written_files(out: &Path) {
    if let Ok(latest) = std::fs::read_to_string(out.join("latest")) {
        let ck = out.join(latest.trim());
        candle_core::safetensors::load(ck.join("model.safetensors"), &candle_core::Device::Cpu)
            .unwrap_or_else(|e| panic!("{}: {e}", ck.display()));
        for f in std::fs::read_dir(&ck).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "json") {
                serde_json::from_slice::<serde_json::Value>(&std::fs::read(&p).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            }
        }
    }
    if out.join("best").exists() {
        candle_core::safetensors::load(
            out.join("best/model.safetensors"),
            &candle_core::Device::Cpu,
        )
        .expect("best/ is whole");
    }
    for f in ["metrics.json", "train.json"] {
        if out.join(f).exists() {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(out.join(f)).unwrap())
                .unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }
}

#[test]
fn sigkills_at_random_moments_lose_nothing() {
    let (data, whole) = uninterrupted_run("random-kills");
    let killed = data.join("killed");
    // Delays drawn once from a seeded generator: the moments differ in what
    // they interrupt (start-up, a step, a checkpoint, an evaluation).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    for _ in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(30 + x % 400);
        let resume = killed.join("train.json").exists();
        let mut child = rolemapper_train(&data, &killed, resume).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_some() {
            break; // it finished before this kill
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        assert_no_half_written_files(&killed);
    }
    let resume = killed.join("train.json").exists();
    let status = rolemapper_train(&data, &killed, resume).status().unwrap();
    assert!(status.success());
    let (a, b) = (final_weights(&whole), final_weights(&killed));
    for ((na, va), (_, vb)) in a.iter().zip(&b) {
        let d = va
            .iter()
            .zip(vb)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(d < 1e-5, "{na}: max |diff| {d} after {kills} kills");
    }
    assert!(
        kills >= 3,
        "only {kills} kills landed before the run finished"
    );
    std::fs::remove_dir_all(data).unwrap();
}

#[test]
fn corrupt_dataset_rows_are_counted_not_fatal() {
    let data = scratch("corrupt");
    toy_data(&data);
    let train = data.join("toy.train.jsonl");
    let mut bytes = std::fs::read(&train).unwrap();
    bytes.extend_from_slice(b"{\"id\": \"cut-off\", \"words\": [\"py\n");
    bytes.extend_from_slice(b"\xff\xfe not UTF-8 at all\n");
    bytes.extend_from_slice(b"{\"id\":\"x\",\"source\":\"toy\",\"split\":\"train\",\"text\":\"a b\",\"words\":[\"a\",\"b\"],\"offsets\":[[0,1]],\"tags\":[\"O\",\"O\"],\"spans\":[]}\n");
    std::fs::write(&train, bytes).unwrap();
    let out = data.join("run");
    let res = rolemapper_train(&data, &out, false)
        .args(["--steps", "20"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{err}");
    assert!(err.contains("3 malformed lines skipped"), "{err}");
    std::fs::remove_dir_all(data).unwrap();
}
