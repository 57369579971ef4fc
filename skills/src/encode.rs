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
/// Invariants: `ids` starts with `[CLS]` (then the style marker, if any),
/// ends with `[SEP]`, and has at most `max_len` entries (`max_len` ≥ 4 with
/// a marker); `first[w]`, when set, is an index in `1..ids.len() - 1` (past
/// the marker), strictly increasing over `w`.
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

    /// The id of `token` in the vocabulary (e.g. a style marker such as
    /// `[unused1]`), if it has one.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    /// Encodes one sentence given as words.
    pub fn encode(&self, words: &[&str]) -> Result<Encoded, EncodeError> {
        self.encode_marked(words, None)
    }

    /// Encodes one sentence given as words, with token `marker` (a style
    /// marker, see [`crate::style`]) right after `[CLS]` when given: it takes
    /// one of the `max_len` places and no word starts on it.
    pub fn encode_marked(
        &self,
        words: &[&str],
        marker: Option<u32>,
    ) -> Result<Encoded, EncodeError> {
        let mut ids = vec![self.cls];
        ids.extend(marker);
        let mut first = vec![None; words.len()];
        if !words.is_empty() {
            let enc = self
                .tokenizer
                .encode(words, false)
                .map_err(|e| EncodeError::Tokenize(e.to_string()))?;
            let budget = (self.max_len - 2)
                .saturating_sub(usize::from(marker.is_some()))
                .max(1);
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

#[cfg(test)]
mod tests {
    use super::*;

    const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-model/tokenizer.json");

    #[test]
    fn a_marker_follows_cls_and_shifts_the_words() {
        let pieces = WordPieces::from_json(TOKENIZER, 32).unwrap();
        let words = ["we", "use", "docker"];
        let plain = pieces.encode(&words).unwrap();
        let marker = pieces.token_id("[PAD]").unwrap();
        let marked = pieces.encode_marked(&words, Some(marker)).unwrap();
        assert_eq!(marked.ids[0], plain.ids[0], "[CLS] first");
        assert_eq!(marked.ids[1], marker);
        assert_eq!(&marked.ids[2..], &plain.ids[1..]);
        let shifted: Vec<Option<usize>> = plain.first.iter().map(|f| f.map(|i| i + 1)).collect();
        assert_eq!(marked.first, shifted);
        assert_eq!(pieces.encode_marked(&words, None).unwrap(), plain);
        assert_eq!(pieces.token_id("no such token"), None);
    }

    #[test]
    fn a_marker_takes_one_place_of_the_limit() {
        let pieces = WordPieces::from_json(TOKENIZER, 5).unwrap();
        let words = ["we", "use", "docker", "and", "python"];
        let plain = pieces.encode(&words).unwrap();
        let marked = pieces
            .encode_marked(&words, pieces.token_id("[PAD]"))
            .unwrap();
        assert_eq!(plain.ids.len(), 5);
        assert_eq!(marked.ids.len(), 5);
        let seen = |e: &Encoded| e.first.iter().filter(|f| f.is_some()).count();
        assert_eq!(seen(&marked), seen(&plain) - 1);
        assert_eq!(pieces.encode_marked(&[], Some(0)).unwrap().ids.len(), 3);
    }
}
