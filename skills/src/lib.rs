//! RoleMapper's domain library, for native code and for the browser.
//!
//! Where a feature lives:
//! - [`offsets`]: byte ⇄ code point ⇄ UTF-16 offsets.
//! - [`text`]: dataset text repair, the matcher's word folding, sentence splitting.
//! - [`words`]: the model tokenizer's own word segmentation.
//! - [`bio`]: `O`/`B-SKILL`/`I-SKILL` tags and spans.
//! - [`lexicon`]: canonical skills, aliases, sources, and the builder that cleans them.
//! - [`matcher`]: the case-insensitive, whole-word, leftmost-longest phrase matcher.
//! - [`metrics`]: strict span, overlap and token P/R/F1.
//! - [`model`]: the DistilBERT tagger (linear or CRF head), one definition for training and inference.
//! - [`attention`]: multi-head attention for inference in the browser (FMA in the relaxed SIMD build).
//! - [`crf`]: the linear-chain CRF (NLL and Viterbi).
//! - [`encode`]: words → WordPiece sub-words and padded batches.
//! - [`bundle`]: the one-file model bundle (GGUF): weights, tokenizer, labels, config, lexicon, metadata.
//! - [`highlight`]: text → skill spans with confidence and canonical names.
//! - [`style`]: the kind of text (CV or job post): style markers and their detector.
//! - [`roles`]: skills and job titles → ranked occupations (ESCO) and their field (Nesta sectors).

pub mod attention;
pub mod bio;
pub mod bundle;
pub mod crf;
pub mod encode;
pub mod fastmath;
pub mod highlight;
pub mod int8;
mod lanes;
pub mod lexicon;
pub mod lists;
pub mod matcher;
pub mod metrics;
pub mod model;
pub mod offsets;
pub mod profile;
pub mod roles;
pub mod style;
pub mod text;
pub mod words;
