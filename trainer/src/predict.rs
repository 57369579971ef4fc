//! Batched word tagging with a trained tagger, and loading trained models.

use crate::data::Record;
use anyhow::{Context, Result};
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use skills::bio::Tag;
use skills::encode::{Encoded, WordPieces};
use skills::highlight::{style_marker, Engine};
use skills::model::{Compute, Tagger, TaggerConfig};
use skills::style::Style;
use std::path::Path;

/// A trained tagger with its tokenizer, from a model folder (`tagger.json`,
/// `model.safetensors`, `tokenizer.json`) or a bundle file.
pub struct Model {
    pub tagger: Tagger,
    pub pieces: WordPieces,
    pub device: Device,
    /// The lexicon a bundle carries (a model folder has none).
    pub lexicon: Option<skills::lexicon::Lexicon>,
}

impl Model {
    /// Loads a model folder on `device`, or a bundle file (always on the CPU,
    /// where its quantized matrices run).
    pub fn load(path: &Path, device: &Device, max_len: usize, compute: Compute) -> Result<Self> {
        if path.is_file() {
            let bundle = skills::bundle::Bundle::read_file(path)
                .with_context(|| format!("{} cannot be used", path.display()))?;
            let device = Device::Cpu;
            let tagger = bundle.tagger(&device, compute)?;
            let pieces = bundle.pieces.with_max_len(max_len);
            return Ok(Self {
                tagger,
                pieces,
                device,
                lexicon: Some(bundle.lexicon),
            });
        }
        let dir = path;
        let cfg: TaggerConfig = serde_json::from_slice(
            &std::fs::read(dir.join("tagger.json"))
                .with_context(|| format!("reading {}/tagger.json", dir.display()))?,
        )?;
        let weights = dir.join("model.safetensors");
        // SAFETY: the file is not modified while mapped (model folders are written once, atomically).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, device) }
            .with_context(|| format!("reading {}", weights.display()))?;
        let tagger = Tagger::load(vb, &cfg)?;
        let pieces = WordPieces::from_json(&std::fs::read(dir.join("tokenizer.json"))?, max_len)?;
        Ok(Self {
            tagger,
            pieces,
            device: device.clone(),
            lexicon: None,
        })
    }
}

/// Tags records' words exactly as `rolemapper tag` would (long sentences in
/// windows), batching windows of similar length together, read in `style`
/// (for a model with style markers).
pub fn tag_records(
    tagger: &Tagger,
    pieces: &WordPieces,
    records: &[Record],
    device: &Device,
    batch_size: usize,
    style: Option<Style>,
) -> Result<Vec<Vec<Tag>>> {
    let engine = Engine {
        tagger,
        pieces,
        device,
        batch_size,
        marker: style_marker(tagger, pieces, style),
        o_bias: 0.0,
    };
    let sentences: Vec<Vec<&str>> = records
        .iter()
        .map(|r| r.words.iter().map(String::as_str).collect())
        .collect();
    Ok(engine.tag_word_lists(&sentences)?)
}

/// Encodes records' words, with style marker `marker` if any.
pub fn encode_records(
    pieces: &WordPieces,
    records: &[Record],
    marker: Option<u32>,
) -> Result<Vec<Encoded>> {
    records
        .iter()
        .map(|r| {
            let words: Vec<&str> = r.words.iter().map(String::as_str).collect();
            pieces
                .encode_marked(&words, marker)
                .map_err(anyhow::Error::from)
        })
        .collect()
}
