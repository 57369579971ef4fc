//! Native encoder benchmark for `scripts/bench.sh`.
//!
//! - `ids`: tokenizes a dataset's sentences with the bundle's tokenizer and
//!   writes their sub-word ids as JSON, so candle and onnxruntime run on the
//!   very same inputs.
//! - `hidden`: hidden states [T, 384] of the encoder for the first sentences
//!   of an ids file, one at a time (batch 1, no padding), as JSON: the
//!   reference the ONNX exports are checked against.
//! - `bench`: encoder-only forward throughput (sub-word tokens/s counting
//!   real tokens, padding excluded) over an ids file in batches; with
//!   `--profile 1` also the milliseconds per model operation of one more
//!   pass (`skills::profile`), under `profile_ms`.
//!
//! Threads: candle's CPU kernels follow `RAYON_NUM_THREADS`.

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use skills::bundle::Bundle;
use skills::encode::WordPieces;
use skills::model::{Compute, Config, DistilBert, Mode, Tagger, TaggerConfig};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        bail!("usage: rolemapper-bench-native ids|hidden|bench --flag value …")
    };
    let mut flags = HashMap::new();
    for pair in args[1..].chunks(2) {
        let [k, v] = pair else {
            bail!("flag {pair:?} has no value")
        };
        let k = k.strip_prefix("--").context("flags start with --")?;
        flags.insert(k.to_owned(), v.clone());
    }
    let get = |k: &str| {
        flags
            .get(k)
            .cloned()
            .with_context(|| format!("--{k} is required"))
    };
    match cmd.as_str() {
        "ids" => ids(
            &get("bundle")?,
            &get("data")?,
            get("sentences")?.parse()?,
            &get("out")?,
        ),
        "hidden" => hidden(&flags, &get("ids")?, get("n")?.parse()?, &get("out")?),
        "bench" => bench(
            &get("bundle")?,
            compute(&get("compute")?)?,
            &get("ids")?,
            get("batch")?.parse()?,
            get("repeat")?.parse()?,
            flags.get("profile").is_some_and(|p| p == "1"),
        ),
        other => bail!("unknown command {other}"),
    }
}

fn compute(s: &str) -> Result<Compute> {
    s.parse().map_err(|e| anyhow::anyhow!("--{e}"))
}

fn read_ids(path: &str) -> Result<Vec<Vec<u32>>> {
    Ok(serde_json::from_slice(
        &std::fs::read(path).with_context(|| path.to_owned())?,
    )?)
}

fn ids(bundle: &str, data: &str, n: usize, out: &str) -> Result<()> {
    let bundle = Bundle::read_file(Path::new(bundle))?;
    let pieces = WordPieces::from_json(bundle.tokenizer_json.as_bytes(), 128)?;
    let mut all = Vec::new();
    for line in std::fs::read_to_string(data)?.lines().take(n) {
        let record: serde_json::Value = serde_json::from_str(line)?;
        let words: Vec<&str> = record["words"]
            .as_array()
            .context("record without words")?
            .iter()
            .filter_map(|w| w.as_str())
            .collect();
        all.push(pieces.encode(&words)?.ids);
    }
    std::fs::write(out, serde_json::to_vec(&all)?)?;
    Ok(())
}

/// An encoder's forward pass: (ids, attention mask) → hidden states.
type Encoder = Box<dyn Fn(&Tensor, &Tensor) -> Result<Tensor>>;

/// The encoder named by `--bundle B --compute C` or `--checkpoint DIR`
/// (a folder with config.json, a DistilBERT checkpoint, or tagger.json, a
/// trained tagger).
fn encoder(flags: &HashMap<String, String>) -> Result<Encoder> {
    let dev = Device::Cpu;
    if let Some(b) = flags.get("bundle") {
        let c = compute(flags.get("compute").map(String::as_str).unwrap_or("f32"))?;
        let tagger = Bundle::read_file(Path::new(b))?.tagger(&dev, c)?;
        return Ok(Box::new(move |i, a| {
            Ok(tagger.encoder.forward(i, a, Mode::Infer)?)
        }));
    }
    let dir = Path::new(
        flags
            .get("checkpoint")
            .context("--bundle or --checkpoint")?,
    );
    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &dev)?
    };
    if dir.join("tagger.json").exists() {
        let config: TaggerConfig =
            serde_json::from_slice(&std::fs::read(dir.join("tagger.json"))?)?;
        let tagger = Tagger::load(vb, &config)?;
        Ok(Box::new(move |i, a| {
            Ok(tagger.encoder.forward(i, a, Mode::Infer)?)
        }))
    } else {
        let config: Config = serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)?;
        let model = DistilBert::load(vb, &config)?;
        Ok(Box::new(move |i, a| {
            Ok(model.forward(i, a, Mode::Infer)?)
        }))
    }
}

fn hidden(flags: &HashMap<String, String>, ids_path: &str, n: usize, out: &str) -> Result<()> {
    let forward = encoder(flags)?;
    let mut rows = Vec::new();
    for s in read_ids(ids_path)?.into_iter().take(n) {
        let t = s.len();
        let ids = Tensor::from_vec(s.clone(), (1, t), &Device::Cpu)?;
        let att = Tensor::ones((1, t), DType::U8, &Device::Cpu)?;
        let h: Vec<f32> = forward(&ids, &att)?.flatten_all()?.to_vec1()?;
        rows.push(serde_json::json!({"ids": s, "hidden": h}));
    }
    std::fs::write(out, serde_json::to_vec(&rows)?)?;
    Ok(())
}

/// Pads `sentences` into ids and attention tensors [B, T].
fn pad(sentences: &[Vec<u32>]) -> Result<(Tensor, Tensor)> {
    let t = sentences.iter().map(Vec::len).max().unwrap_or(2);
    let b = sentences.len();
    let (mut ids, mut att) = (vec![0u32; b * t], vec![0u8; b * t]);
    for (i, s) in sentences.iter().enumerate() {
        ids[i * t..i * t + s.len()].copy_from_slice(s);
        att[i * t..i * t + s.len()].fill(1);
    }
    Ok((
        Tensor::from_vec(ids, (b, t), &Device::Cpu)?,
        Tensor::from_vec(att, (b, t), &Device::Cpu)?,
    ))
}

fn bench(
    bundle: &str,
    compute: Compute,
    ids_path: &str,
    batch: usize,
    repeat: usize,
    profile: bool,
) -> Result<()> {
    let tagger = Bundle::read_file(Path::new(bundle))?.tagger(&Device::Cpu, compute)?;
    let sentences = read_ids(ids_path)?;
    let tokens: usize = sentences.iter().map(Vec::len).sum();
    let batches = sentences
        .chunks(batch.max(1))
        .map(pad)
        .collect::<Result<Vec<_>>>()?;
    let pass = || -> Result<f64> {
        let start = Instant::now();
        for (ids, att) in &batches {
            tagger.encoder.forward(ids, att, Mode::Infer)?;
        }
        Ok(start.elapsed().as_secs_f64())
    };
    pass()?; // warm-up
    let mut best = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        best = best.min(pass()?);
    }
    let profile_ms = if profile {
        fn clock() -> f64 {
            thread_local!(static START: Instant = Instant::now());
            START.with(|s| s.elapsed().as_secs_f64() * 1e3)
        }
        let (r, ms) = skills::profile::profiled(clock, pass);
        r?;
        serde_json::Value::from_iter(
            ms.into_iter()
                .map(|(k, v)| (k.to_owned(), serde_json::json!(v))),
        )
    } else {
        serde_json::Value::Null
    };
    println!(
        "{}",
        serde_json::json!({
            "engine": "candle",
            "compute": format!("{compute:?}").to_lowercase(),
            "sentences": sentences.len(),
            "tokens": tokens,
            "batch": batch,
            "threads": std::env::var("RAYON_NUM_THREADS").ok(),
            "seconds": best,
            "tokens_per_s": tokens as f64 / best,
            "profile_ms": profile_ms,
        })
    );
    Ok(())
}
