//! RoleMapper's model worker, for any web page: the Rust half of the npm
//! package `rolemapper` (`scripts/build-package.sh` builds it with
//! `wasm-pack`; `js/` holds its JavaScript half) and the worker of
//! RoleMapper's own app, which loads this package's files (one path).
//!
//! The worker fetches the model bundle, checks it against its manifest,
//! keeps it in the Cache API ([`loader`]), builds the highlighter
//! ([`engine`]) and answers the page's JSON messages ([`protocol`],
//! [`service`]). It owns no model code: that is `skills`.

pub mod engine;
pub mod examples;
pub mod loader;
pub mod protocol;
pub mod service;

#[cfg(feature = "entry")]
use wasm_bindgen::prelude::*;

/// The most characters of one text that are highlighted: the rest of a
/// longer text is not read. This bounds the worker's work and the messages
/// (a 10 MB paste would otherwise keep the worker busy for seconds).
pub const MAX_CHARS: usize = 100_000;

/// The part of `text` that is highlighted: its first [`MAX_CHARS`] characters.
pub fn limited(text: &str) -> &str {
    if text.len() <= MAX_CHARS {
        return text;
    }
    match text.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// [`limited`] of an owned text: the text itself when it fits, else its
/// first [`MAX_CHARS`] characters.
pub fn into_limited(mut text: String) -> String {
    let n = limited(&text).len();
    text.truncate(n);
    text
}

/// Starts the worker (called by `js/worker.js` once the wasm is
/// instantiated): it listens for [`protocol::ToWorker`] messages and says
/// [`protocol::FromWorker::Started`].
#[cfg(feature = "entry")]
#[wasm_bindgen]
pub fn start_worker() {
    console_error_panic_hook::set_once();
    service::run();
}
