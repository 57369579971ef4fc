//! candle-wasm side of the browser benchmark (`tests/bench/browser.mjs`).
//!
//! - [`Encoder`]: the shipped bundle's encoder (f32 or quantized compute);
//!   `forward(t)` runs it once on `t` token ids at batch 1. The page times
//!   the calls with `performance.now()`.
//! - [`profile`]: where the time of one forward goes, op by op, by running
//!   the encoder's own sequence of candle operations (the ones in
//!   `skills::model`) on weights of the same shapes and timing each kind.
//! - [`simd_peak_gflops`]: a tight f32x4 multiply-add loop, the practical
//!   peak of wasm SIMD128 (no fused multiply-add without relaxed-simd).

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};
use skills::bundle::Bundle;
use skills::model::{Compute, Mode, Tagger};
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
    /// Reads a bundle; `compute` is "f32" or "quantized".
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &[u8], compute: &str) -> Result<Encoder, JsError> {
        let compute = match compute {
            "f32" => Compute::F32,
            "quantized" => Compute::Quantized,
            other => return Err(js(format!("compute is f32 or quantized, not {other}"))),
        };
        let tagger = Bundle::read(bundle).map_err(js)?.tagger(&Device::Cpu, compute).map_err(js)?;
        Ok(Encoder { tagger })
    }

    /// One forward pass at batch 1 over `t` token ids ([CLS] … [SEP]);
    /// returns the first hidden value so that nothing can be skipped.
    pub fn forward(&self, t: usize) -> Result<f32, JsError> {
        let (ids, att) = inputs(t).map_err(js)?;
        let h = self.tagger.encoder.forward(&ids, &att, Mode::Infer).map_err(js)?;
        h.flatten_all().and_then(|h| h.get(0)).and_then(|v| v.to_scalar::<f32>()).map_err(js)
    }
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

/// A linear layer as the model computes it (f32 weight [out, in] or Q8_0).
enum Lin {
    F32(candle_nn::Linear),
    Q(QMatMul, Tensor),
}

impl Lin {
    fn new(d_in: usize, d_out: usize, quantized: bool) -> candle_core::Result<Self> {
        let dev = Device::Cpu;
        let w = (Tensor::randn(0f32, 0.05, (d_out, d_in), &dev)?).contiguous()?;
        let b = Tensor::zeros(d_out, DType::F32, &dev)?;
        Ok(if quantized {
            Lin::Q(QMatMul::from_qtensor(QTensor::quantize(&w, GgmlDType::Q8_0)?)?, b)
        } else {
            Lin::F32(candle_nn::Linear::new(w, Some(b)))
        })
    }
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Lin::F32(l) => l.forward(xs),
            Lin::Q(w, b) => w.forward(&xs.contiguous()?)?.broadcast_add(b),
        }
    }
}

/// Milliseconds per forward at `t` tokens, by kind of operation, averaged
/// over `reps` runs of the encoder's op sequence (6 layers, dim 384, 12
/// heads, FFN 1536), as JSON. `compute` as in [`Encoder::new`]. Random
/// weights: timing does not depend on their values.
#[wasm_bindgen]
pub fn profile(t: usize, reps: usize, compute: &str) -> Result<String, JsError> {
    profile_inner(t, reps, compute == "quantized").map_err(js)
}

fn profile_inner(t: usize, reps: usize, quantized: bool) -> candle_core::Result<String> {
    let (dim, heads, hidden, layers) = (384usize, 12usize, 1536usize, 6usize);
    let hd = dim / heads;
    let dev = Device::Cpu;
    let qkv: Vec<Lin> = (0..3).map(|_| Lin::new(dim, dim, quantized)).collect::<candle_core::Result<_>>()?;
    let out = Lin::new(dim, dim, quantized)?;
    let lin1 = Lin::new(dim, hidden, quantized)?;
    let lin2 = Lin::new(hidden, dim, quantized)?;
    let (g, b) = (Tensor::ones(dim, DType::F32, &dev)?, Tensor::zeros(dim, DType::F32, &dev)?);
    let word = QTensor::quantize(&Tensor::randn(0f32, 0.05, (30522, dim), &dev)?, GgmlDType::Q4_0)?;
    let pos = QTensor::quantize(&Tensor::randn(0f32, 0.05, (512, dim), &dev)?, GgmlDType::Q4_0)?;
    let (ids, att) = inputs(t)?;
    let names = [
        "embeddings", "qkv_linear", "split_heads", "qk_matmul", "mask_add", "softmax", "pv_matmul",
        "merge_heads", "out_linear", "residual_add", "layernorm", "ffn_lin1", "gelu_erf", "ffn_lin2",
    ];
    let mut ms = vec![0f64; names.len()];
    let mut total = 0f64;
    for _ in 0..reps.max(1) {
        let start = now();
        let mut clock = now();
        let mut lap = |k: usize, ms: &mut Vec<f64>| {
            let n = now();
            ms[k] += n - clock;
            clock = n;
        };
        let bias = ((att.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((1, 1, 1, t))?;
        let positions = Tensor::arange(0u32, t as u32, &dev)?;
        let xs = word.embedding(&ids)?.broadcast_add(&pos.embedding(&positions)?)?;
        let mut xs = candle_nn::ops::layer_norm(&xs.contiguous()?, &g, &b, 1e-12)?;
        lap(0, &mut ms);
        for _ in 0..layers {
            let q = qkv[0].forward(&xs)?;
            let k = qkv[1].forward(&xs)?;
            let v = qkv[2].forward(&xs)?;
            lap(1, &mut ms);
            let split = |x: Tensor| x.reshape((1, t, heads, hd))?.transpose(1, 2)?.contiguous();
            let q = (split(q)? / (hd as f64).sqrt())?;
            let k = split(k)?;
            let v = split(v)?;
            lap(2, &mut ms);
            let scores = q.matmul(&k.t()?)?;
            lap(3, &mut ms);
            let scores = scores.broadcast_add(&bias)?;
            lap(4, &mut ms);
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            lap(5, &mut ms);
            let ctx = probs.matmul(&v)?;
            lap(6, &mut ms);
            let ctx = ctx.transpose(1, 2)?.reshape((1, t, dim))?;
            lap(7, &mut ms);
            let sa = out.forward(&ctx)?;
            lap(8, &mut ms);
            let r = (sa + &xs)?;
            lap(9, &mut ms);
            let x1 = candle_nn::ops::layer_norm(&r.contiguous()?, &g, &b, 1e-12)?;
            lap(10, &mut ms);
            let h = lin1.forward(&x1)?;
            lap(11, &mut ms);
            let h = h.gelu_erf()?;
            lap(12, &mut ms);
            let f = lin2.forward(&h)?;
            lap(13, &mut ms);
            let r = (f + &x1)?;
            lap(9, &mut ms);
            xs = candle_nn::ops::layer_norm(&r.contiguous()?, &g, &b, 1e-12)?;
            lap(10, &mut ms);
        }
        total += now() - start;
    }
    // Candidates, timed apart (not in `total`): every linear layer with its
    // weight stored transposed and contiguous ([in, out]), so that gemm packs
    // contiguous rows instead of gathering a strided transpose element by
    // element; and q, k, v as one fused [384 → 1152] product.
    let pre = |d_in: usize, d_out: usize| -> candle_core::Result<(Tensor, Tensor)> {
        Ok((
            Tensor::randn(0f32, 0.05, (d_in, d_out), &dev)?,
            Tensor::zeros(d_out, DType::F32, &dev)?,
        ))
    };
    let apply = |x: &Tensor, (w, b): &(Tensor, Tensor)| x.broadcast_matmul(w)?.broadcast_add(b);
    let (sq, so, s1, s2, sf) = (pre(dim, dim)?, pre(dim, dim)?, pre(dim, hidden)?, pre(hidden, dim)?, pre(dim, 3 * dim)?);
    let x = Tensor::randn(0f32, 1.0, (1, t, dim), &dev)?;
    let h = Tensor::randn(0f32, 1.0, (1, t, hidden), &dev)?;
    let mut alt = [0f64; 2];
    for _ in 0..reps.max(1) {
        for _ in 0..layers {
            let t0 = now();
            for _ in 0..3 {
                apply(&x, &sq)?;
            }
            apply(&x, &so)?;
            apply(&x, &s1)?;
            apply(&h, &s2)?;
            let t1 = now();
            apply(&x, &sf)?;
            apply(&x, &so)?;
            apply(&x, &s1)?;
            apply(&h, &s2)?;
            alt[0] += t1 - t0;
            alt[1] += now() - t1;
        }
    }
    let n = reps.max(1) as f64;
    let mut map = serde_json::Map::new();
    map.insert("alt_linears_pretransposed".into(), (alt[0] / n).into());
    map.insert("alt_linears_pretransposed_qkv_fused".into(), (alt[1] / n).into());
    for (name, v) in names.iter().zip(&ms) {
        map.insert((*name).into(), (v / n).into());
    }
    map.insert("total".into(), (total / n).into());
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
