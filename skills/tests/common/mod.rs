//! Tiny bundles for the bundle tests, natively and in the browser: a
//! random-init tagger on the tiny fixture tokenizer, a three-concept lexicon.
#![allow(dead_code)]

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use skills::bundle::{self, BundleParts};
use skills::encode::WordPieces;
use skills::lexicon::Lexicon;
use skills::model::{Config, Head, Tagger, TaggerConfig};

pub const TOKENIZER: &str = include_str!("../../../tests/fixtures/tiny-model/tokenizer.json");

pub fn lexicon() -> Lexicon {
    Lexicon::parse(
        r#"[{"id":"t","title":"test","package":"none","sha256":"","path":"","licence":"CC0","attribution":"none"}]"#,
        "{\"name\":\"Python\",\"source\":\"t\"}\n{\"name\":\"machine learning\",\"source\":\"t\",\"aliases\":[\"ML\"]}\n{\"name\":\"Docker\",\"source\":\"t\"}\n",
    )
    .expect("test lexicon parses")
}

/// A random-init tiny tagger (vocabulary `vocab`, or the tokenizer's).
pub fn tagger(head: Head, vocab: Option<usize>) -> (VarMap, Tagger) {
    let pieces = WordPieces::from_json(TOKENIZER.as_bytes(), 32).unwrap();
    let mut cfg = Config::tiny(vocab.unwrap_or(pieces.vocab_size()));
    cfg.dropout = 0.0;
    cfg.attention_dropout = 0.0;
    let varmap = VarMap::new();
    let tagger = Tagger::load(
        VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        &TaggerConfig::new(cfg, head),
    )
    .unwrap();
    // candle's initialisers draw from an unseeded generator, and the var map
    // is a hash map: reseed every randomly initialised tensor, in name
    // order, so that the tests see the same weights on every run (the
    // constant ones, norms' scales and shifts, stay as they are).
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut vars: Vec<_> = varmap.data().lock().unwrap().clone().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, var) in vars {
        let t = var.as_tensor();
        let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        let constant = v.iter().all(|x| *x == v[0]);
        if t.rank() > 2 || (t.rank() == 1 && constant) {
            continue;
        }
        // Linear layers' bound for matrices, a bias's as if of a square one.
        let bound = if t.rank() == 2 {
            (3.0 / t.dim(1).unwrap() as f32).sqrt()
        } else {
            1.0 / (t.elem_count() as f32).sqrt()
        };
        let v: Vec<f32> = (0..t.elem_count())
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        var.set(&Tensor::from_vec(v, t.shape(), &Device::Cpu).unwrap())
            .unwrap();
    }
    (varmap, tagger)
}

/// The tagger's tensors, matrices stored as `dtype`.
pub fn tensors(varmap: &VarMap, dtype: GgmlDType) -> Vec<(String, QTensor)> {
    varmap
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(name, var)| {
            let t = var.as_tensor();
            let d = if t.rank() == 2 && !name.starts_with("crf") && !name.starts_with("classifier")
            {
                dtype
            } else {
                GgmlDType::F32
            };
            (name.clone(), QTensor::quantize(t, d).unwrap())
        })
        .collect()
}

/// A bundle of `tagger`'s weights.
pub fn bundle_bytes(varmap: &VarMap, tagger: &Tagger, dtype: GgmlDType) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    bundle::write(
        &mut out,
        BundleParts {
            name: "tiny",
            config: &tagger.config,
            tokenizer_json: TOKENIZER,
            lexicon: &lexicon(),
            metadata: &serde_json::json!({"test": true}),
            tensors: tensors(varmap, dtype),
        },
    )
    .unwrap();
    out.into_inner()
}

/// A tiny q8_0 bundle with a linear head.
pub fn tiny_bundle() -> Vec<u8> {
    let (varmap, tagger) = tagger(Head::Linear, None);
    bundle_bytes(&varmap, &tagger, GgmlDType::Q8_0)
}

/// The offset of `key`'s value in a bundle (after the key and its u32 type).
pub fn value_offset(bytes: &[u8], key: &str) -> usize {
    let k = key.as_bytes();
    let at = bytes
        .windows(k.len())
        .position(|w| w == k)
        .expect("key present");
    at + k.len() + 4
}
