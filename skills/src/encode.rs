//! Words → WordPiece sub-words for the tagger, and batches of them.
//!
//! Labels and predictions live on words; the encoder sees sub-words. Each
//! word is scored by its *first* sub-word (the usual token-classification
//! convention); its other sub-words carry no label. A word that the
//! tokenizer turns into no sub-word at all, or that falls beyond the
//! length limit, has no first sub-word: it is left out of the loss and
//! predicted `O`.

use crate::model::Batch;
use candle_core::{Device, Result as CandleResult, Tensor};
use tokenizers::Tokenizer;

/// A tokenizer that cannot be used for the tagger.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("tokenizer.json cannot be read: {0}")]
    Json(String),
    #[error("the tokenizer has no {0} token")]
    MissingToken(&'static str),
    #[error("tokenizing failed: {0}")]
    Tokenize(String),
}

/// A BERT WordPiece tokenizer prepared for word-level tagging.
#[derive(Clone)]
pub struct WordPieces {
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    pad: u32,
    max_len: usize,
}

/// One sentence as sub-words.
///
/// Invariants: `ids` starts with `[CLS]`, ends with `[SEP]`, and has at
/// most `max_len` entries; `first[w]`, when set, is an index in
/// `1..ids.len() - 1`, strictly increasing over `w`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub first: Vec<Option<usize>>,
}

impl WordPieces {
    /// Reads a `tokenizer.json`, switching off any truncation and padding it
    /// has built in (all-MiniLM-L6-v2's pads everything to 128), and keeps
    /// sentences to `max_len` sub-words including `[CLS]` and `[SEP]`.
    pub fn from_json(json: &[u8], max_len: usize) -> Result<Self, EncodeError> {
        // tokenizers 0.23.2 panics (`expect("Helper")` in its decoder's
        // Deserialize) on a syntax error inside the decoder section instead
        // of returning an error; found by fuzzing the bundle reader. Checking
        // the syntax first turns that into an error (every valid JSON value
        // is accepted there).
        serde_json::from_slice::<serde::de::IgnoredAny>(json)
            .map_err(|e| EncodeError::Json(e.to_string()))?;
        let mut tokenizer =
            Tokenizer::from_bytes(json).map_err(|e| EncodeError::Json(e.to_string()))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| EncodeError::Json(e.to_string()))?;
        tokenizer.with_padding(None);
        let id = |t: &'static str| tokenizer.token_to_id(t).ok_or(EncodeError::MissingToken(t));
        Ok(Self {
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            pad: id("[PAD]")?,
            max_len: max_len.max(3),
            tokenizer,
        })
    }

    /// The same tokenizer, for sentences of up to `max_len` sub-words.
    pub fn with_max_len(self, max_len: usize) -> Self {
        Self {
            max_len: max_len.max(3),
            ..self
        }
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The sub-word length limit.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Encodes one sentence given as words.
    pub fn encode(&self, words: &[&str]) -> Result<Encoded, EncodeError> {
        let mut ids = vec![self.cls];
        let mut first = vec![None; words.len()];
        if !words.is_empty() {
            let enc = self
                .tokenizer
                .encode(words, false)
                .map_err(|e| EncodeError::Tokenize(e.to_string()))?;
            let budget = self.max_len - 2;
            for (&id, word) in enc.get_ids().iter().zip(enc.get_word_ids()).take(budget) {
                if let Some(w) = word.map(|w| w as usize).filter(|&w| w < first.len()) {
                    first[w].get_or_insert(ids.len());
                }
                ids.push(id);
            }
        }
        ids.push(self.sep);
        Ok(Encoded { ids, first })
    }

    /// Pads sentences into one [`Batch`] on `device`.
    pub fn batch(&self, sentences: &[&Encoded], device: &Device) -> CandleResult<Batch> {
        let t = sentences.iter().map(|s| s.ids.len()).max().unwrap_or(2);
        let w = sentences
            .iter()
            .map(|s| s.first.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let b = sentences.len();
        let (mut ids, mut att) = (vec![self.pad; b * t], vec![0u8; b * t]);
        let (mut pos, mut mask) = (vec![0u32; b * w], vec![0u8; b * w]);
        for (i, s) in sentences.iter().enumerate() {
            ids[i * t..i * t + s.ids.len()].copy_from_slice(&s.ids);
            att[i * t..i * t + s.ids.len()].fill(1);
            for (j, f) in s.first.iter().enumerate() {
                if let Some(f) = f {
                    pos[i * w + j] = *f as u32;
                    mask[i * w + j] = 1;
                }
            }
        }
        Ok(Batch {
            ids: Tensor::from_vec(ids, (b, t), device)?,
            attention: Tensor::from_vec(att, (b, t), device)?,
            word_pos: Tensor::from_vec(pos, (b, w), device)?,
            word_mask: Tensor::from_vec(mask, (b, w), device)?,
        })
    }
}
