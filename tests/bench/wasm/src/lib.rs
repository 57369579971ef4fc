//! candle-wasm side of the browser benchmark (`tests/bench/browser.mjs`).
//!
//! - [`Encoder`]: the shipped bundle's encoder (f32 or quantized compute);
//!   `forward(t)` runs it once on `t` token ids at batch 1. The page times
//!   the calls with `performance.now()`.
//! - [`profile`]: where the time of one forward goes, op by op: the
//!   encoder's own operations timed by `skills::profile`.
//! - [`simd_peak_gflops`]: a tight f32x4 multiply-add loop, the practical
//!   peak of wasm SIMD128 (no fused multiply-add without relaxed-simd).

use candle_core::{DType, Device, Tensor};
use skills::bundle::Bundle;
use skills::model::{Compute, Mode, Tagger};
use skills::style::StyleChoice;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance)]
    fn now() -> f64;
}

fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen]
pub struct Encoder {
    tagger: Tagger,
}

#[wasm_bindgen]
impl Encoder {
    /// Reads a bundle; `compute` is "f32", "quantized" or "int8".
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &[u8], compute: &str) -> Result<Encoder, JsError> {
        let compute: Compute = compute.parse().map_err(js)?;
        // As the app's worker does before it builds the model.
        skills::int8::choose_kernel(&now);
        let tagger = Bundle::read(bundle)
            .map_err(js)?
            .tagger(&Device::Cpu, compute)
            .map_err(js)?;
        Ok(Encoder { tagger })
    }

    /// One forward pass at batch 1 over `t` token ids ([CLS] … [SEP]);
    /// returns the first hidden value so that nothing can be skipped.
    pub fn forward(&self, t: usize) -> Result<f32, JsError> {
        let (ids, att) = inputs(t).map_err(js)?;
        let h = self
            .tagger
            .encoder
            .forward(&ids, &att, Mode::Infer)
            .map_err(js)?;
        h.flatten_all()
            .and_then(|h| h.get(0))
            .and_then(|v| v.to_scalar::<f32>())
            .map_err(js)
    }
}

/// The int8 kernel the encoder computes with (after `Encoder::new`'s
/// timed choice, as the app's worker makes it).
#[wasm_bindgen]
pub fn int8_kernel() -> String {
    skills::int8::kernel_name().into()
}

/// The benchmark's token ids: [CLS], `t - 2` ordinary word pieces, [SEP]
/// (the same ids `browser.mjs` gives onnxruntime-web).
pub fn token_ids(t: usize) -> Vec<u32> {
    (0..t)
        .map(|i| match i {
            0 => 101,
            _ if i == t - 1 => 102,
            _ => 2000 + ((i as u32 * 37) % 20000),
        })
        .collect()
}

fn inputs(t: usize) -> candle_core::Result<(Tensor, Tensor)> {
    let ids = Tensor::from_vec(token_ids(t), (1, t), &Device::Cpu)?;
    let att = Tensor::ones((1, t), DType::U8, &Device::Cpu)?;
    Ok((ids, att))
}

/// Milliseconds per forward at `t` tokens by kind of operation, averaged
/// over `reps` forwards of the bundle's encoder (after one warm-up), as
/// JSON: `skills::profile` times the model's own operations with
/// `performance.now()`; `total` is the whole forward. `compute` as in
/// [`Encoder::new`].
#[wasm_bindgen]
pub fn profile(bundle: &[u8], t: usize, reps: usize, compute: &str) -> Result<String, JsError> {
    let enc = Encoder::new(bundle, compute)?;
    enc.forward(t)?;
    let reps = reps.max(1);
    let mut sums: Vec<(&'static str, f64)> = Vec::new();
    let mut total = 0.0;
    for _ in 0..reps {
        let start = now();
        let (r, ms) = skills::profile::profiled(now, || enc.forward(t));
        total += now() - start;
        r?;
        for (k, v) in ms {
            skills::profile::add(&mut sums, k, v);
        }
    }
    let mut map = serde_json::Map::new();
    for (k, v) in sums {
        map.insert(k.into(), (v / reps as f64).into());
    }
    map.insert("total".into(), (total / reps as f64).into());
    Ok(serde_json::Value::Object(map).to_string())
}

/// GFLOP/s of a tight loop of independent f32x4 multiply + add pairs (8
/// flops per pair): wasm SIMD128's practical peak on this CPU, one thread.
#[wasm_bindgen]
pub fn simd_peak_gflops(iters: u32) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        use core::arch::wasm32::*;
        let m = f32x4_splat(0.999_999);
        let a = f32x4_splat(1e-7);
        let mut acc = [f32x4_splat(1.0); 12];
        for (i, x) in acc.iter_mut().enumerate() {
            *x = f32x4_splat(1.0 + i as f32);
        }
        let start = now();
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = f32x4_add(f32x4_mul(*x, m), a);
            }
        }
        let ms = now() - start;
        let sum: f32 = acc.iter().map(|x| f32x4_extract_lane::<0>(*x)).sum();
        // Keep the loop observable.
        if sum == 12345.678 {
            return -1.0;
        }
        (iters as f64 * 12.0 * 8.0) / (ms * 1e-3) / 1e9
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = iters;
        0.0
    }
}

/// One keystroke's re-tag, as the app's worker does it: the sentence of
/// `text` that holds byte `at`, tagged alone by the shipped highlighter
/// (int8 compute). `tag` returns its milliseconds; `profile` times the
/// same call op by op (JSON, as [`profile`]).
#[wasm_bindgen]
pub struct Keystroke {
    h: skills::highlight::Highlighter,
}

#[wasm_bindgen]
impl Keystroke {
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &[u8]) -> Result<Keystroke, JsError> {
        // As the app's worker does before it builds the model.
        skills::int8::choose_kernel(&now);
        let h = Bundle::read(bundle)
            .map_err(js)?
            .into_highlighter(128, Compute::Int8)
            .map_err(js)?;
        Ok(Keystroke { h })
    }

    fn sentence(&self, text: &str, at: usize) -> Result<std::ops::Range<usize>, JsError> {
        self.h
            .splitter
            .split(text)
            .into_iter()
            .find(|r| r.start <= at && at < r.end)
            .ok_or_else(|| js("no sentence holds that offset"))
    }

    /// The sentence's sub-words (without [CLS] and [SEP]).
    pub fn sub_words(&self, text: &str, at: usize) -> Result<usize, JsError> {
        let s = &text[self.sentence(text, at)?];
        let ws = skills::words::words(s);
        let t = self
            .h
            .pieces
            .encode(&ws.iter().map(|w| &s[w.clone()]).collect::<Vec<_>>())
            .map_err(js)?;
        Ok(t.ids.len())
    }

    pub fn tag(&self, text: &str, at: usize) -> Result<f64, JsError> {
        let start = now();
        let s = self.sentence(text, at)?;
        // The style the text is read in, as the worker finds it for each edit.
        let style = self.h.style_of(text, StyleChoice::Auto);
        self.h
            .highlight_sentences(text, std::slice::from_ref(&s), style)
            .map_err(js)?;
        Ok(now() - start)
    }

    pub fn profile(&self, text: &str, at: usize) -> Result<String, JsError> {
        let s = self.sentence(text, at)?;
        let (r, ms) = skills::profile::profiled(now, || {
            let style = self.h.style_of(text, StyleChoice::Auto);
            self.h
                .highlight_sentences(text, std::slice::from_ref(&s), style)
        });
        r.map_err(js)?;
        let mut map = serde_json::Map::new();
        for (k, v) in ms {
            map.insert(k.into(), v.into());
        }
        Ok(serde_json::Value::Object(map).to_string())
    }
}
