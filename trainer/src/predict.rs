//! Batched word tagging with a trained tagger, and loading trained models.

use crate::data::Record;
use anyhow::{Context, Result};
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use skills::bio::Tag;
use skills::encode::{Encoded, WordPieces};
use skills::model::{Mode, Tagger, TaggerConfig};
use std::path::Path;

/// A trained tagger with its tokenizer, as saved in a model folder
/// (`tagger.json`, `model.safetensors`, `tokenizer.json`).
pub struct Model {
    pub tagger: Tagger,
    pub pieces: WordPieces,
    pub device: Device,
}

impl Model {
    pub fn load(dir: &Path, device: &Device, max_len: usize) -> Result<Self> {
        let cfg: TaggerConfig = serde_json::from_slice(&std::fs::read(dir.join("tagger.json")).with_context(|| format!("reading {}/tagger.json", dir.display()))?)?;
        let weights = dir.join("model.safetensors");
        // SAFETY: the file is not modified while mapped (model folders are written once, atomically).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, device) }.with_context(|| format!("reading {}", weights.display()))?;
        let tagger = Tagger::load(vb, &cfg)?;
        let pieces = WordPieces::from_json(&std::fs::read(dir.join("tokenizer.json"))?, max_len)?;
        Ok(Self { tagger, pieces, device: device.clone() })
    }
}

/// Tags many sentences (each a list of words), batching sentences of
/// similar length together. Words the tokenizer cannot see are `O`.
pub fn tag_sentences(tagger: &Tagger, pieces: &WordPieces, encoded: &[Encoded], device: &Device, batch_size: usize) -> Result<Vec<Vec<Tag>>> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].ids.len());
    let mut out = vec![Vec::new(); encoded.len()];
    for chunk in order.chunks(batch_size.max(1)) {
        // Only words with a first sub-word take part; they form a prefix-free list.
        let compact: Vec<Encoded> = chunk
            .iter()
            .map(|&i| Encoded { ids: encoded[i].ids.clone(), first: encoded[i].first.iter().flatten().map(|&f| Some(f)).collect() })
            .collect();
        let refs: Vec<&Encoded> = compact.iter().collect();
        let batch = pieces.batch(&refs, device)?;
        let emissions = tagger.word_emissions(&batch, Mode::Infer)?;
        let lengths: Vec<usize> = compact.iter().map(|e| e.first.len()).collect();
        let decoded = tagger.decode(&emissions, &lengths)?;
        for (&i, tags) in chunk.iter().zip(decoded) {
            let mut it = tags.into_iter();
            out[i] = encoded[i].first.iter().map(|f| if f.is_some() { it.next().unwrap_or(Tag::O) } else { Tag::O }).collect();
        }
    }
    Ok(out)
}

/// Encodes records' words.
pub fn encode_records(pieces: &WordPieces, records: &[Record]) -> Result<Vec<Encoded>> {
    records
        .iter()
        .map(|r| {
            let words: Vec<&str> = r.words.iter().map(String::as_str).collect();
            pieces.encode(&words).map_err(anyhow::Error::from)
        })
        .collect()
}
