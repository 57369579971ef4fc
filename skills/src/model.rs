//! The skill tagger: a DistilBERT encoder with a token-classification head
//! (linear, or linear + CRF), defined once for training and inference.
//!
//! - Layer names mirror Hugging Face's `DistilBertForTokenClassification`
//!   (`embeddings.*`, `transformer.layer.N.*`, `classifier.*`), so a
//!   DistilBERT checkpoint—real, or converted from BERT/MiniLM by
//!   `model-export convert`—loads as it is; a `distilbert.` prefix is
//!   accepted too.
//! - [`Mode`] switches the few operations that differ between the two uses.
//!   Inference takes candle's fused LayerNorm kernel and, on the CPU,
//!   [`crate::fastmath`]'s vectorised softmax and GELU; training
//!   takes the same functions written with differentiable operations (the
//!   fused kernels have no backward pass, and gradients would silently stop
//!   at them) and applies dropout with a seeded generator, so that a resumed
//!   run draws exactly the masks an uninterrupted run would.
//! - The attention mask follows the Hugging Face convention: 1 = a real
//!   token, 0 = padding.
//! - Weights come through [`Weights`]: a `VarBuilder` (f32, trainable) and,
//!   for quantized bundles, a set of quantized matrices by name. Linear layers
//!   and embeddings are enums over the two storages, so the fp32 and the
//!   quantized model are the same code.

use crate::bio::Tag;
use crate::crf::Crf;
use crate::fastmath;
use crate::int8::Int8Matrix;
use crate::profile::lap;
use crate::style::{Style, StyleDetector};
use candle_core::quantized::k_quants::{BlockQ4_0, BlockQ8_0, GgmlType};
use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::VarBuilder;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Encoder hyper-parameters, readable from a Hugging Face DistilBERT `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub dim: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    /// Width of the feed-forward layer.
    pub hidden_dim: usize,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub pad_token_id: u32,
    /// Dropout on embeddings and feed-forward outputs during training.
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    /// Dropout on attention probabilities during training.
    #[serde(default = "default_dropout")]
    pub attention_dropout: f32,
    #[serde(default = "default_activation")]
    pub activation: String,
}

fn default_max_positions() -> usize {
    512
}
fn default_dropout() -> f32 {
    0.1
}
fn default_activation() -> String {
    "gelu".into()
}

impl Config {
    /// A tiny encoder for tests and smoke runs.
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            vocab_size,
            dim: 32,
            n_layers: 2,
            n_heads: 4,
            hidden_dim: 64,
            max_position_embeddings: 128,
            pad_token_id: 0,
            dropout: 0.1,
            attention_dropout: 0.1,
            activation: "gelu".into(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.n_heads == 0 || self.dim % self.n_heads != 0 {
            candle_core::bail!(
                "dim {} is not a multiple of n_heads {}",
                self.dim,
                self.n_heads
            )
        }
        if self.activation != "gelu" {
            candle_core::bail!(
                "activation {:?} is not supported (only exact \"gelu\")",
                self.activation
            )
        }
        Ok(())
    }
}

/// How a forward pass runs.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// Fast fused kernels, no dropout, no gradients needed.
    Infer,
    /// Differentiable kernels; dropout masks drawn from `rng`.
    Train { rng: &'a RefCell<ChaCha8Rng> },
}

impl Mode<'_> {
    fn dropout(&self, xs: &Tensor, p: f32) -> Result<Tensor> {
        let Mode::Train { rng } = self else {
            return Ok(xs.clone());
        };
        if p <= 0.0 {
            return Ok(xs.clone());
        }
        let scale = 1.0 / (1.0 - p);
        let n = xs.elem_count();
        let mut rng = rng.borrow_mut();
        let mask: Vec<f32> = (0..n)
            .map(|_| if rng.random::<f32>() < p { 0.0 } else { scale })
            .collect();
        let mask = Tensor::from_vec(mask, xs.shape(), xs.device())?.to_dtype(xs.dtype())?;
        xs * mask
    }

    fn is_train(&self) -> bool {
        matches!(self, Mode::Train { .. })
    }
}

/// Layer normalisation over the last dimension, eps 1e-12 as in BERT.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub fn load(vb: VarBuilder, dim: usize) -> Result<Self> {
        let weight = vb.get_with_hints(dim, "weight", candle_nn::Init::Const(1.0))?;
        let bias = vb.get_with_hints(dim, "bias", candle_nn::Init::Const(0.0))?;
        Ok(Self {
            weight,
            bias,
            eps: 1e-12,
        })
    }

    /// `xs + residual`, normalised; at inference on the CPU one pass of
    /// [`fastmath::add_layer_norm_in_place`] instead of candle's add and
    /// layer norm.
    pub fn forward_residual(&self, xs: &Tensor, residual: &Tensor, mode: Mode) -> Result<Tensor> {
        if mode.is_train() || !on_cpu_f32(xs) || xs.shape() != residual.shape() {
            return self.forward(&(xs + residual)?, mode);
        }
        let mut v = xs.flatten_all()?.to_vec1::<f32>()?;
        self.residual_in_place(&mut v, residual)?;
        Tensor::from_vec(v, xs.shape(), xs.device())
    }

    /// [`LayerNorm::forward_residual`] at inference on the CPU, in place on
    /// the values of `xs` (`residual`'s shape, row-major).
    fn residual_in_place(&self, xs: &mut [f32], residual: &Tensor) -> Result<()> {
        if xs.len() != residual.elem_count() {
            candle_core::bail!(
                "{} values and a residual of shape {:?}",
                xs.len(),
                residual.shape()
            )
        }
        let (w, b) = (self.weight.to_vec1::<f32>()?, self.bias.to_vec1::<f32>()?);
        with_f32(residual, |r| {
            fastmath::add_layer_norm_in_place(xs, r, &w, &b, self.eps as f32)
        })
    }

    pub fn forward(&self, xs: &Tensor, mode: Mode) -> Result<Tensor> {
        if !mode.is_train() {
            return candle_nn::ops::layer_norm(
                &xs.contiguous()?,
                &self.weight,
                &self.bias,
                self.eps as f32,
            );
        }
        let mean = xs.mean_keepdim(D::Minus1)?;
        let centered = xs.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// Quantized matrices by full tensor name (`transformer.layer.0.ffn.lin1.weight`).
pub type QuantizedTensors = HashMap<String, Arc<QTensor>>;

/// Where a model's weights come from: f32 tensors through a `VarBuilder`
/// (the trainable path, or a bundle's higher-precision tensors) and, for
/// quantized bundles, matrices that stay quantized in memory.
#[derive(Clone)]
pub struct Weights<'a> {
    vb: VarBuilder<'a>,
    quantized: Option<Arc<QuantizedTensors>>,
    compute: Compute,
}

/// How quantized linear layers compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compute {
    /// Quantized matrix products (candle's `QMatMul`): least memory.
    #[default]
    Quantized,
    /// Matrices dequantized to f32 once at load, then f32 products: the
    /// same numbers as `Quantized` up to rounding, often faster (f32 gemm
    /// kernels beat candle's quantized dot products on small batches), at
    /// four bytes per weight in memory. Embedding tables stay quantized.
    F32,
    /// Matrices requantized at load to 7-bit integers with one scale per
    /// output row, inputs quantized to int8 per row on each call, exact
    /// integer dot products ([`crate::int8`]; WebAssembly SIMD's
    /// `i32x4.dot_i16x8_s`, or relaxed SIMD's
    /// `i32x4.relaxed_dot_i8x16_i7x16_add_s` with the `relaxed-simd`
    /// feature, AVX-512 VNNI natively where the CPU has it). The fastest, in
    /// the browser and natively; CPU only, inference only.
    Int8,
}

/// `quantized`, `f32` or `int8` (the names the bundle's serde form uses).
impl std::str::FromStr for Compute {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "quantized" => Ok(Self::Quantized),
            "f32" => Ok(Self::F32),
            "int8" => Ok(Self::Int8),
            _ => Err(format!("compute is f32, quantized or int8, not {s}")),
        }
    }
}

impl<'a> Weights<'a> {
    /// Every tensor from `vb` (f32).
    pub fn float(vb: VarBuilder<'a>) -> Self {
        Self {
            vb,
            quantized: None,
            compute: Compute::Quantized,
        }
    }

    /// Linear weights and embedding tables named in `quantized` are taken
    /// from there; everything else from `vb`.
    pub fn with_quantized(
        vb: VarBuilder<'a>,
        quantized: QuantizedTensors,
        compute: Compute,
    ) -> Self {
        Self {
            vb,
            quantized: Some(Arc::new(quantized)),
            compute,
        }
    }

    fn pp(&self, name: impl ToString) -> Self {
        Self {
            vb: self.vb.pp(name),
            quantized: self.quantized.clone(),
            compute: self.compute,
        }
    }

    fn quantized(&self, name: &str) -> Option<Arc<QTensor>> {
        let prefix = self.vb.prefix();
        let full = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        self.quantized.as_ref()?.get(&full).cloned()
    }

    fn contains(&self, name: &str) -> bool {
        self.vb.contains_tensor(name) || self.quantized(name).is_some()
    }

    /// This prefix's quantized weight (checked to be `[d_out, d_in]`) and
    /// its bias; `None` when the weight is not quantized.
    fn quantized_layer(&self, d_in: usize, d_out: usize) -> Result<Option<(Arc<QTensor>, Tensor)>> {
        let Some(w) = self.quantized("weight") else {
            return Ok(None);
        };
        check_shape(&w, &[d_out, d_in], &self.vb.prefix())?;
        Ok(Some((w, self.vb.get(d_out, "bias")?)))
    }

    fn linear(&self, d_in: usize, d_out: usize) -> Result<Linear> {
        match self.quantized_layer(d_in, d_out)? {
            Some((w, bias)) => {
                Ok(match self.compute {
                    Compute::Quantized => Linear::Quantized {
                        weight: QMatMul::from_arc(w)?,
                        bias,
                    },
                    // Inference only: the weight is stored transposed, so the
                    // matrix product reads it in order instead of repacking a
                    // transposed view on every call (BENCHMARKS.md).
                    Compute::F32 => Linear::Transposed {
                        wt: w.dequantize(self.vb.device())?.t()?.contiguous()?,
                        bias,
                    },
                    Compute::Int8 => Linear::Int8(Int8Linear::new(&[(w, bias)], d_in)?),
                })
            }
            None => Ok(Linear::Float(candle_nn::linear(
                d_in,
                d_out,
                self.vb.clone(),
            )?)),
        }
    }

    /// The linear layers `names` (each `d_in` → `d_out`) as one
    /// [`Int8Linear`], when they compute as [`Compute::Int8`] from quantized
    /// weights (`None` otherwise).
    fn fused_int8(&self, names: &[&str], d_in: usize, d_out: usize) -> Result<Option<Int8Linear>> {
        if self.compute != Compute::Int8 {
            return Ok(None);
        }
        let mut layers = Vec::with_capacity(names.len());
        for name in names {
            match self.pp(name).quantized_layer(d_in, d_out)? {
                Some(layer) => layers.push(layer),
                None => return Ok(None),
            }
        }
        Int8Linear::new(&layers, d_in).map(Some)
    }

    fn embedding(&self, rows: usize, dim: usize) -> Result<Embedding> {
        match self.quantized("weight") {
            Some(w) => {
                check_shape(&w, &[rows, dim], &self.vb.prefix())?;
                Ok(match QuantizedRows::new(&w)? {
                    Some(r) => Embedding::Rows(r),
                    None => Embedding::Quantized(w),
                })
            }
            None => Ok(Embedding::Float(candle_nn::embedding(
                rows,
                dim,
                self.vb.clone(),
            )?)),
        }
    }
}

fn check_shape(w: &QTensor, expected: &[usize], name: &str) -> Result<()> {
    if w.shape().dims() != expected {
        candle_core::bail!(
            "{name}.weight has shape {:?}, the model config expects {expected:?}",
            w.shape().dims()
        )
    }
    Ok(())
}

/// A linear layer whose weight is f32 (trainable), f32 stored transposed
/// (`[in, out]`, inference from a bundle) or quantized.
enum Linear {
    Float(candle_nn::Linear),
    Transposed { wt: Tensor, bias: Tensor },
    Quantized { weight: QMatMul, bias: Tensor },
    Int8(Int8Linear),
}

impl Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Linear::Float(l) => l.forward(xs),
            Linear::Transposed { wt, bias } => {
                let (d_in, d_out) = wt.dims2()?;
                let mut lead = xs.dims().to_vec();
                lead.pop();
                let rows = lead.iter().product::<usize>();
                let ys = xs.reshape((rows, d_in))?.matmul(wt)?;
                lead.push(d_out);
                ys.reshape(lead)?.broadcast_add(bias)
            }
            Linear::Quantized { weight, bias } => {
                weight.forward(&xs.contiguous()?)?.broadcast_add(bias)
            }
            Linear::Int8(l) => l.forward(xs),
        }
    }
}

/// Int8 products of one linear layer, or of several with the same input
/// (attention's queries, keys and values) with their weight rows side by
/// side: each output row keeps its own scale, so each layer's outputs are
/// those it would have alone, bit for bit, and the input is quantized once,
/// not once per layer.
struct Int8Linear {
    weight: Int8Matrix,
    bias: Vec<f32>,
    /// Layers, of `weight.n() / parts` outputs each.
    parts: usize,
}

impl Int8Linear {
    /// From quantized weights `[d_out, d_in]` (dequantized, then quantized
    /// again per row) and their biases.
    fn new(layers: &[(Arc<QTensor>, Tensor)], d_in: usize) -> Result<Self> {
        let (mut weights, mut bias) = (Vec::new(), Vec::new());
        for (w, b) in layers {
            weights.extend(
                w.dequantize(&Device::Cpu)?
                    .flatten_all()?
                    .to_vec1::<f32>()?,
            );
            bias.extend(b.to_vec1::<f32>()?);
        }
        Ok(Self {
            weight: Int8Matrix::from_f32(&weights, bias.len(), d_in),
            bias,
            parts: layers.len(),
        })
    }

    /// Every layer's outputs side by side (`[.., n]`) and their shape.
    fn products(&self, xs: &Tensor) -> Result<(Vec<f32>, Vec<usize>)> {
        let mut dims = xs.dims().to_vec();
        if dims.last() != Some(&self.weight.k()) {
            candle_core::bail!(
                "a linear layer with {} inputs got shape {dims:?}",
                self.weight.k()
            )
        }
        let ys = with_f32(xs, |x| self.weight.matmul(x, &self.bias))?;
        *dims.last_mut().expect("checked above") = self.weight.n();
        Ok((ys, dims))
    }

    /// The outputs of all layers side by side.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (ys, dims) = self.products(xs)?;
        Tensor::from_vec(ys, dims, xs.device())
    }

    /// Each layer's outputs, in the order the layers were given.
    fn forward_parts(&self, xs: &Tensor) -> Result<Vec<Tensor>> {
        let (ys, mut dims) = self.products(xs)?;
        let n = self.weight.n();
        let d = n / self.parts;
        let rows = ys.len() / n.max(1);
        let mut parts: Vec<Vec<f32>> = (0..self.parts)
            .map(|_| Vec::with_capacity(rows * d))
            .collect();
        for row in ys.chunks_exact(n) {
            for (part, values) in parts.iter_mut().zip(row.chunks_exact(d)) {
                part.extend_from_slice(values);
            }
        }
        *dims.last_mut().expect("products checked the shape") = d;
        parts
            .into_iter()
            .map(|p| Tensor::from_vec(p, dims.clone(), xs.device()))
            .collect()
    }
}

/// An embedding table, f32 (trainable) or quantized (rows dequantized on
/// lookup: by the block type's own `to_float`, or by candle for block types
/// [`QuantizedRows`] does not hold).
enum Embedding {
    Float(candle_nn::Embedding),
    Rows(QuantizedRows),
    Quantized(Arc<QTensor>),
}

impl Embedding {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        match self {
            Embedding::Float(e) => e.forward(ids),
            Embedding::Rows(r) => {
                let mut dims = ids.dims().to_vec();
                let ids = ids.flatten_all()?.to_vec1::<u32>()?;
                dims.push(r.dim);
                Tensor::from_vec(r.lookup(&ids)?, dims, &Device::Cpu)
            }
            Embedding::Quantized(q) => q.embedding(ids),
        }
    }
}

/// A quantized table's blocks: the types bundles store embeddings in
/// (model-export's default q4_0, and q8_0); others go through candle.
enum Blocks {
    Q4_0(Vec<BlockQ4_0>),
    Q8_0(Vec<BlockQ8_0>),
}

/// A quantized embedding table on the CPU whose rows are dequantized as
/// candle's `QTensor::embedding` does (each row's blocks through the block
/// type's `to_float`), without its trip through candle's generic dtype
/// conversion of the ids: that function is one of the largest of the
/// browser's wasm, and the engine compiles a function's optimised code once
/// it has been called often enough, however little each call does.
struct QuantizedRows {
    rows: usize,
    dim: usize,
    blocks: Blocks,
}

impl QuantizedRows {
    /// `None` for a block type it does not hold or a table not on the CPU.
    fn new(q: &QTensor) -> Result<Option<Self>> {
        use candle_core::quantized::GgmlDType as G;
        let (rows, dim) = q.shape().dims2()?;
        if !q.device().is_cpu() || dim % q.dtype().block_size() != 0 {
            return Ok(None);
        }
        let data = q.data()?;
        let blocks = match q.dtype() {
            G::Q4_0 => typed_blocks(&data).map(Blocks::Q4_0),
            G::Q8_0 => typed_blocks(&data).map(Blocks::Q8_0),
            _ => None,
        };
        Ok(blocks.map(|blocks| Self { rows, dim, blocks }))
    }

    /// The rows `ids`, one after another (`ids.len() × dim` values).
    fn lookup(&self, ids: &[u32]) -> Result<Vec<f32>> {
        let (rows, dim) = (self.rows, self.dim);
        match &self.blocks {
            Blocks::Q4_0(b) => rows_of(b, ids, rows, dim),
            Blocks::Q8_0(b) => rows_of(b, ids, rows, dim),
        }
    }
}

/// A quantized tensor's bytes as its blocks (`None` if they do not divide).
fn typed_blocks<T: GgmlType>(data: &[u8]) -> Option<Vec<T>> {
    let size = std::mem::size_of::<T>();
    if size == 0 || data.len() % size != 0 {
        return None;
    }
    Some(
        data.chunks_exact(size)
            // SAFETY: `T` is one of candle's `#[repr(C)]` block types, made
            // of f16 scales and integer arrays only, so any bytes are a
            // valid value; `chunks_exact` gives `size_of::<T>()` bytes, read
            // without assuming their alignment.
            .map(|c| unsafe { std::ptr::read_unaligned(c.as_ptr().cast::<T>()) })
            .collect(),
    )
}

fn rows_of<T: GgmlType>(blocks: &[T], ids: &[u32], rows: usize, dim: usize) -> Result<Vec<f32>> {
    let per_row = dim / T::BLCK_SIZE;
    if blocks.len() != rows * per_row {
        candle_core::bail!(
            "quantized table has {} blocks, expected {}",
            blocks.len(),
            rows * per_row
        )
    }
    let mut out = vec![0f32; ids.len() * dim];
    for (dst, &id) in out.chunks_exact_mut(dim).zip(ids) {
        let row = id as usize;
        if row >= rows {
            candle_core::bail!("embedding id {row} is out of range for {rows} rows")
        }
        T::to_float(&blocks[row * per_row..(row + 1) * per_row], dst);
    }
    Ok(out)
}

fn softmax_last(xs: &Tensor, mode: Mode) -> Result<Tensor> {
    if mode.is_train() {
        let max = xs.max_keepdim(D::Minus1)?.detach();
        let e = xs.broadcast_sub(&max)?.exp()?;
        e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
    } else if on_cpu_f32(xs) {
        let n = xs.dims().last().copied().unwrap_or(0);
        in_place(xs, |v| fastmath::softmax_rows_in_place(v, n))
    } else {
        candle_nn::ops::softmax_last_dim(xs)
    }
}

/// Exact (erf) GELU.
fn gelu(xs: &Tensor, mode: Mode) -> Result<Tensor> {
    if !mode.is_train() && on_cpu_f32(xs) {
        in_place(xs, fastmath::gelu_in_place)
    } else {
        xs.gelu_erf()
    }
}

/// `t` in `dtype`: itself when it is, converted otherwise. Calling
/// candle's generic `to_dtype` only to convert keeps it off the load and
/// request paths: it is one of the largest functions of the browser's wasm,
/// and the engine compiles a function's optimised code (on the page's
/// cores) once it has been called often enough, however little each call
/// does.
pub fn as_dtype(t: &Tensor, dtype: DType) -> Result<Tensor> {
    if t.dtype() == dtype {
        Ok(t.clone())
    } else {
        t.to_dtype(dtype)
    }
}

/// Whether inference can use [`fastmath`]'s vectorised CPU code.
fn on_cpu_f32(xs: &Tensor) -> bool {
    xs.device().is_cpu() && xs.dtype() == DType::F32
}

thread_local! {
    static BROWSER_ATTENTION_NATIVELY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static EVERY_ROW: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// For tests: this thread's inference computes the last layer for every
/// row (`true`), as training does, or only for the rows the tagger reads
/// (`false`; the default, see [`DistilBert::forward_rows`]).
#[doc(hidden)]
pub fn use_every_row(on: bool) {
    EVERY_ROW.set(on)
}

/// Rows `rows` of `xs` read as `[R, d]` (`d` its last dimension): `[k, d]`.
fn select_rows(xs: &Tensor, rows: &[usize]) -> Result<Tensor> {
    let d = xs.dim(D::Minus1)?;
    let picked = with_f32(xs, |all| {
        let mut out = Vec::with_capacity(rows.len() * d);
        for &r in rows {
            out.extend_from_slice(&all[r * d..(r + 1) * d]);
        }
        out
    })?;
    Tensor::from_vec(picked, (rows.len(), d), xs.device())
}

/// `ys` (`[k, d]`) placed at rows `rows` of a tensor of `shape` (`[.., d]`)
/// whose other rows are 0.
fn scatter_rows(ys: &Tensor, rows: &[usize], shape: &candle_core::Shape) -> Result<Tensor> {
    let d = ys.dim(D::Minus1)?;
    let mut out = vec![0f32; shape.elem_count()];
    with_f32(ys, |values| {
        for (row, &r) in values.chunks_exact(d).zip(rows) {
            out[r * d..(r + 1) * d].copy_from_slice(row);
        }
    })?;
    Tensor::from_vec(out, shape, ys.device())
}

/// Whether inference takes [`crate::attention`]'s path: in the browser, and
/// natively on threads that asked for it ([`use_browser_attention`]).
fn browser_attention() -> bool {
    cfg!(target_arch = "wasm32") || BROWSER_ATTENTION_NATIVELY.get()
}

/// For tests: this thread's inference takes the browser's attention path
/// natively too (`true`), or candle's again (`false`; the default).
#[doc(hidden)]
pub fn use_browser_attention(on: bool) {
    BROWSER_ATTENTION_NATIVELY.set(on)
}

/// `f` of `xs`'s values in row-major order: borrowed from its CPU storage
/// where they lie there in order (no copy), else a copy.
fn with_f32<R>(xs: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    {
        let (storage, layout) = xs.storage_and_layout();
        if let (candle_core::Storage::Cpu(cpu), Some((start, end)), DType::F32) =
            (&*storage, layout.contiguous_offsets(), xs.dtype())
        {
            return Ok(f(&cpu.as_slice::<f32>()?[start..end]));
        }
    }
    Ok(f(&xs.flatten_all()?.to_vec1::<f32>()?))
}

/// `xs` with `f` applied to a copy of its values (in row-major order).
fn in_place(xs: &Tensor, f: impl FnOnce(&mut [f32])) -> Result<Tensor> {
    let mut v = xs.flatten_all()?.to_vec1::<f32>()?;
    f(&mut v);
    Tensor::from_vec(v, xs.shape(), xs.device())
}

/// Inference on a padded batch: the rows of the real tokens only, packed
/// `[N, dim]` (`N` = real tokens). Every per-token operation (the linear
/// layers, GELU, residual + layer norm) runs on them alone; attention
/// unpacks queries, keys and values to `[B, T, dim]` (padding rows zero,
/// masked out by the bias) and packs its output again. Each real row gets
/// the same operations as in the padded batch, so the result is the same;
/// on SkillSpan batches of 16, padded to their longest sentence, about two
/// rows in three are padding.
struct Packed {
    /// Indices of the real tokens' rows in `[B · T]`.
    keep: Vec<usize>,
    b: usize,
    t: usize,
}

/// Packing and unpacking copy rows by hand: candle's generic `index_select`
/// and `index_add` are among the largest functions of the browser's wasm
/// (60 and 143 kB), which the engine then compiles while the page is in use.
impl Packed {
    /// `None` when nothing is padding.
    fn new(mask: &[f32], b: usize, t: usize) -> Option<Self> {
        let keep: Vec<usize> = (0..mask.len()).filter(|&i| mask[i] >= 1.0).collect();
        (keep.len() != mask.len()).then_some(Self { keep, b, t })
    }

    /// `[B, T, d]` → the real rows `[N, d]` (F32).
    fn pack(&self, xs: &Tensor) -> Result<Tensor> {
        let d = xs.dim(D::Minus1)?;
        let all = xs.flatten_all()?.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(self.keep.len() * d);
        for &k in &self.keep {
            out.extend_from_slice(&all[k * d..(k + 1) * d]);
        }
        Tensor::from_vec(out, (self.keep.len(), d), xs.device())
    }

    /// `[N, d]` → `[B, T, d]`, padding rows zero (F32).
    fn unpack(&self, xs: &Tensor) -> Result<Tensor> {
        let d = xs.dim(D::Minus1)?;
        let rows = xs.flatten_all()?.to_vec1::<f32>()?;
        let mut out = vec![0f32; self.b * self.t * d];
        for (row, &k) in rows.chunks_exact(d).zip(&self.keep) {
            out[k * d..(k + 1) * d].copy_from_slice(row);
        }
        Tensor::from_vec(out, (self.b, self.t, d), xs.device())
    }
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    norm: LayerNorm,
}

impl Embeddings {
    fn load(w: Weights, c: &Config) -> Result<Self> {
        Ok(Self {
            word: w.pp("word_embeddings").embedding(c.vocab_size, c.dim)?,
            position: w
                .pp("position_embeddings")
                .embedding(c.max_position_embeddings, c.dim)?,
            norm: LayerNorm::load(w.vb.pp("LayerNorm"), c.dim)?,
        })
    }

    fn forward(&self, ids: &Tensor, c: &Config, mode: Mode, freeze_words: bool) -> Result<Tensor> {
        let (_, t) = ids.dims2()?;
        if t > c.max_position_embeddings {
            candle_core::bail!(
                "{t} tokens exceed the model's {} positions",
                c.max_position_embeddings
            )
        }
        let mut words = self.word.forward(ids)?;
        if freeze_words {
            words = words.detach();
        }
        let positions = Tensor::arange(0u32, t as u32, ids.device())?;
        let xs = words.broadcast_add(&self.position.forward(&positions)?)?;
        mode.dropout(&self.norm.forward(&xs, mode)?, c.dropout)
    }
}

struct Attention {
    qkv: Qkv,
    out: Linear,
    heads: usize,
}

/// Attention's query, key and value layers: one product when they compute
/// as `Int8` (see [`Int8Linear`]), else three.
enum Qkv {
    Separate { q: Linear, k: Linear, v: Linear },
    Fused(Int8Linear),
}

impl Attention {
    fn load(w: Weights, c: &Config) -> Result<Self> {
        Ok(Self {
            qkv: match w.fused_int8(&["q_lin", "k_lin", "v_lin"], c.dim, c.dim)? {
                Some(f) => Qkv::Fused(f),
                None => Qkv::Separate {
                    q: w.pp("q_lin").linear(c.dim, c.dim)?,
                    k: w.pp("k_lin").linear(c.dim, c.dim)?,
                    v: w.pp("v_lin").linear(c.dim, c.dim)?,
                },
            },
            out: w.pp("out_lin").linear(c.dim, c.dim)?,
            heads: c.n_heads,
        })
    }

    /// `bias`: [B, 1, 1, T], 0 for real keys and -1e9 for padding (none:
    /// no padding). With `rows`, the output is those rows' only (`[k,
    /// dim]`, rows of `xs` read as `[R, dim]`): every row is a key and a
    /// value, but only they go through the output layer.
    fn forward(
        &self,
        xs: &Tensor,
        bias: Option<&Tensor>,
        packed: Option<&Packed>,
        c: &Config,
        mode: Mode,
        rows: Option<&[usize]>,
    ) -> Result<Tensor> {
        let fast = browser_attention()
            && !mode.is_train()
            && on_cpu_f32(xs)
            && crate::attention::tiles(xs.dim(D::Minus1)?, self.heads);
        let ctx = match (&self.qkv, fast && packed.is_none()) {
            // The fused product's q, k and v read in place.
            (Qkv::Fused(f), true) => {
                let (ys, _) = f.products(xs)?;
                lap("qkv_linear");
                self.fast_attention(&ys, xs.dims3()?, bias)?
            }
            _ => None,
        };
        let ctx = match ctx {
            Some(ctx) => ctx,
            None => {
                let (q, k, v) = match &self.qkv {
                    Qkv::Fused(f) => {
                        let mut qkv = f.forward_parts(xs)?.into_iter();
                        match (qkv.next(), qkv.next(), qkv.next()) {
                            (Some(q), Some(k), Some(v)) => (q, k, v),
                            _ => candle_core::bail!("the fused q, k, v product has 3 parts"),
                        }
                    }
                    Qkv::Separate { q, k, v } => (q.forward(xs)?, k.forward(xs)?, v.forward(xs)?),
                };
                lap("qkv_linear");
                let (q, k, v) = match packed {
                    Some(p) => (p.unpack(&q)?, p.unpack(&k)?, p.unpack(&v)?),
                    None => (q, k, v),
                };
                lap("packing");
                let ctx = if fast {
                    let qkv = Tensor::cat(&[&q, &k, &v], D::Minus1)?;
                    self.fast_attention(&qkv.flatten_all()?.to_vec1()?, q.dims3()?, bias)?
                } else {
                    None
                };
                let ctx = match ctx {
                    Some(ctx) => ctx,
                    None => self.attention(q, k, v, bias, c, mode)?,
                };
                match packed {
                    Some(p) => p.pack(&ctx)?,
                    None => ctx,
                }
            }
        };
        lap("packing");
        let ctx = match rows {
            Some(rows) => select_rows(&ctx, rows)?,
            None => ctx,
        };
        let out = self.out.forward(&ctx)?;
        lap("out_linear");
        Ok(out)
    }

    /// In the browser, at inference: [`crate::attention`]'s heads in one
    /// pass over `qkv` (`[B, T, 3 · dim]`: q, k and v side by side, as the
    /// fused product gives them), `[B, T, dim]` context; none where it
    /// does not apply.
    fn fast_attention(
        &self,
        qkv: &[f32],
        (b, t, dim): (usize, usize, usize),
        bias: Option<&Tensor>,
    ) -> Result<Option<Tensor>> {
        if qkv.len() != b * t * 3 * dim {
            candle_core::bail!("q, k, v of {} values for {b} × {t} × 3 × {dim}", qkv.len())
        }
        let bias = bias
            .map(|b| b.flatten_all()?.to_vec1::<f32>())
            .transpose()?;
        let x = crate::attention::Qkv {
            q: qkv,
            k: qkv.get(dim..).unwrap_or_default(),
            v: qkv.get(2 * dim..).unwrap_or_default(),
            stride: 3 * dim,
            dim,
        };
        let mut ctx = vec![0f32; b * t * dim];
        if !crate::attention::attention(x, b, t, self.heads, bias.as_deref(), &mut ctx) {
            return Ok(None);
        }
        Ok(Some(Tensor::from_vec(ctx, (b, t, dim), &Device::Cpu)?))
    }

    /// Attention with candle's ops: `[B, T, dim]` context.
    fn attention(
        &self,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        bias: Option<&Tensor>,
        c: &Config,
        mode: Mode,
    ) -> Result<Tensor> {
        let (b, t, dim) = q.dims3()?;
        let hd = dim / self.heads;
        let split = |x: Tensor| {
            x.reshape((b, t, self.heads, hd))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = (split(q)? / (hd as f64).sqrt())?;
        let k = split(k)?;
        let v = split(v)?;
        lap("split_heads");
        let scores = q.matmul(&k.t()?)?;
        lap("qk_matmul");
        let probs = if !mode.is_train() && on_cpu_f32(&scores) {
            // Inference: the padding bias is added row by row inside the
            // softmax (one pass, no broadcast tensor).
            lap("mask_add");
            let bias = bias
                .map(|b| b.flatten_all()?.to_vec1::<f32>())
                .transpose()?;
            let rows_per_bias = self.heads * t;
            let p = in_place(&scores, |v| {
                fastmath::softmax_rows_in_place_biased(v, t, bias.as_deref(), rows_per_bias)
            })?;
            lap("softmax");
            p
        } else {
            let scores = match bias {
                Some(bias) => scores.broadcast_add(bias)?,
                None => scores,
            };
            lap("mask_add");
            let p = mode.dropout(&softmax_last(&scores, mode)?, c.attention_dropout)?;
            lap("softmax");
            p
        };
        let ctx = probs.matmul(&v)?;
        lap("pv_matmul");
        let ctx = ctx.transpose(1, 2)?.reshape((b, t, dim))?;
        lap("merge_heads");
        Ok(ctx)
    }
}

struct Block {
    attention: Attention,
    sa_norm: LayerNorm,
    lin1: Linear,
    lin2: Linear,
    out_norm: LayerNorm,
}

impl Block {
    fn load(w: Weights, c: &Config) -> Result<Self> {
        Ok(Self {
            attention: Attention::load(w.pp("attention"), c)?,
            sa_norm: LayerNorm::load(w.vb.pp("sa_layer_norm"), c.dim)?,
            lin1: w.pp("ffn").pp("lin1").linear(c.dim, c.hidden_dim)?,
            lin2: w.pp("ffn").pp("lin2").linear(c.hidden_dim, c.dim)?,
            out_norm: LayerNorm::load(w.vb.pp("output_layer_norm"), c.dim)?,
        })
    }

    /// The block's output for `xs`; with `rows` (of `xs` read as `[R,
    /// dim]`), those rows only, the others 0: a row's output depends on the
    /// other rows through attention alone, so each kept row gets exactly
    /// the operations it gets without `rows`.
    fn forward(
        &self,
        xs: &Tensor,
        bias: Option<&Tensor>,
        packed: Option<&Packed>,
        c: &Config,
        mode: Mode,
        rows: Option<&[usize]>,
    ) -> Result<Tensor> {
        let sa = self.attention.forward(xs, bias, packed, c, mode, rows)?;
        match rows {
            Some(rows) => {
                let out = self.feed_forward(&sa, &select_rows(xs, rows)?, c, mode)?;
                scatter_rows(&out, rows, xs.shape())
            }
            None => self.feed_forward(&sa, xs, c, mode),
        }
    }

    /// The rest of the block after attention's output `sa` for inputs `xs`:
    /// the residual layer norm, the feed-forward layers and their norm.
    fn feed_forward(&self, sa: &Tensor, xs: &Tensor, c: &Config, mode: Mode) -> Result<Tensor> {
        let xs = self.sa_norm.forward_residual(sa, xs, mode)?;
        lap("residual_layernorm");
        if let (Linear::Int8(lin1), Linear::Int8(lin2), false) =
            (&self.lin1, &self.lin2, mode.is_train())
        {
            // Int8 inference: GELU and the residual layer norm on the
            // products' own buffers (no tensor copies between them).
            let (mut h, dims) = lin1.products(&xs)?;
            lap("ffn_lin1");
            fastmath::gelu_in_place(&mut h);
            lap("gelu");
            let h = Tensor::from_vec(h, dims, xs.device())?;
            let (mut ff, dims) = lin2.products(&h)?;
            lap("ffn_lin2");
            self.out_norm.residual_in_place(&mut ff, &xs)?;
            let out = Tensor::from_vec(ff, dims, xs.device())?;
            lap("residual_layernorm");
            return Ok(out);
        }
        let h = self.lin1.forward(&xs)?;
        lap("ffn_lin1");
        let h = gelu(&h, mode)?;
        lap("gelu");
        let ff = mode.dropout(&self.lin2.forward(&h)?, c.dropout)?;
        lap("ffn_lin2");
        let out = self.out_norm.forward_residual(&ff, &xs, mode)?;
        lap("residual_layernorm");
        Ok(out)
    }
}

/// The DistilBERT encoder.
pub struct DistilBert {
    config: Config,
    embeddings: Embeddings,
    layers: Vec<Block>,
    /// Whether word embeddings are kept out of the gradient (a training choice).
    pub freeze_word_embeddings: bool,
}

impl DistilBert {
    /// Loads from `vb`, at its root or under `distilbert.` (real checkpoints).
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        Self::load_weights(Weights::float(vb), config)
    }

    /// Loads from f32 and quantized weights, at their root or under `distilbert.`.
    pub fn load_weights(w: Weights, config: &Config) -> Result<Self> {
        config.check()?;
        let root = if w.contains("embeddings.word_embeddings.weight")
            || !w.contains("distilbert.embeddings.word_embeddings.weight")
        {
            w
        } else {
            w.pp("distilbert")
        };
        let layers = (0..config.n_layers)
            .map(|i| Block::load(root.pp("transformer.layer").pp(i), config))
            .collect::<Result<_>>()?;
        Ok(Self {
            config: config.clone(),
            embeddings: Embeddings::load(root.pp("embeddings"), config)?,
            layers,
            freeze_word_embeddings: false,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Hidden states [B, T, dim] for token ids [B, T] (u32) and an attention
    /// mask [B, T] (1 = token, 0 = padding; any integer or float dtype).
    /// At inference on the CPU the padding positions are not computed and
    /// come out 0 (see `Packed`); in training they are computed as usual.
    pub fn forward(&self, ids: &Tensor, attention: &Tensor, mode: Mode) -> Result<Tensor> {
        self.forward_rows(ids, attention, mode, None)
    }

    /// [`DistilBert::forward`] where only the rows `rows` (indices of `[B ·
    /// T]`, real tokens) of the output are read: at inference on the CPU
    /// the last layer computes every row's key and value but the rest of
    /// the layer (output projection, feed-forward, layer norms) for those
    /// rows only, and the other rows come out 0. The rows computed are the
    /// same, bit for bit with int8 products (row by row). The tagger reads
    /// one row per word, its first sub-word: at the end of the app
    /// benchmark's typing about 40 % of the edited sentence's rows are not
    /// read (word pieces after the first, `[CLS]`, `[SEP]`, the style
    /// marker).
    pub fn forward_rows(
        &self,
        ids: &Tensor,
        attention: &Tensor,
        mode: Mode,
        rows: Option<&[usize]>,
    ) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        // The mask's values, read on the host (B × T numbers): candle's
        // generic dtype conversion and reductions are among the largest
        // functions of the browser's wasm, which the engine would compile
        // while the user types.
        let mask: Vec<f32> = match attention.dtype() {
            DType::U8 => attention
                .flatten_all()?
                .to_vec1::<u8>()?
                .into_iter()
                .map(f32::from)
                .collect(),
            DType::U32 => attention
                .flatten_all()?
                .to_vec1::<u32>()?
                .into_iter()
                .map(|v| v as f32)
                .collect(),
            DType::F32 => attention.flatten_all()?.to_vec1::<f32>()?,
            _ => attention
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?,
        };
        // Without padding (a single sentence, as in the browser) the bias
        // is all zeros: inference skips adding it.
        let padded = mode.is_train() || mask.is_empty() || mask.iter().any(|&v| v < 1.0);
        let bias = match padded {
            true => {
                let bias: Vec<f32> = mask.iter().map(|&v| (v - 1.0) * 1e9).collect();
                Some(Tensor::from_vec(bias, (b, 1, 1, t), attention.device())?)
            }
            false => None,
        };
        let mut xs =
            self.embeddings
                .forward(ids, &self.config, mode, self.freeze_word_embeddings)?;
        lap("embeddings");
        // Inference on the CPU with padding: the layers see the real rows only.
        let packed = match padded && !mode.is_train() && on_cpu_f32(&xs) {
            true => Packed::new(&mask, b, t),
            false => None,
        };
        if let Some(p) = &packed {
            xs = p.pack(&xs)?;
            lap("packing");
        }
        // The rows read, as rows of what the layers see (packed or not).
        let rows = match rows {
            Some(rows) if !mode.is_train() && on_cpu_f32(&xs) && !EVERY_ROW.get() => {
                let mut rows = rows.to_vec();
                rows.sort_unstable();
                rows.dedup();
                // A padding row (a masked word's position in a batch built
                // by hand) is 0 either way: not computed.
                if let Some(p) = &packed {
                    rows = rows
                        .iter()
                        .filter_map(|r| p.keep.binary_search(r).ok())
                        .collect();
                }
                if rows.last().is_some_and(|&r| r >= b * t) {
                    candle_core::bail!("row {rows:?} read of {b} × {t}")
                }
                Some(rows)
            }
            _ => None,
        };
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let rows = rows.as_deref().filter(|_| i == last);
            xs = layer.forward(
                &xs,
                bias.as_ref(),
                packed.as_ref(),
                &self.config,
                mode,
                rows,
            )?;
        }
        match &packed {
            Some(p) => p.unpack(&xs),
            None => Ok(xs),
        }
    }
}

/// Which head sits on the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Head {
    /// Per-word softmax over the tags; cross-entropy loss.
    #[default]
    Linear,
    /// Linear emissions + a linear-chain CRF; NLL loss and Viterbi decoding.
    Crf,
}

/// Everything needed to rebuild a tagger: the encoder, the head and the labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggerConfig {
    pub encoder: Config,
    #[serde(default)]
    pub head: Head,
    /// Tag labels in output order (`O`, `B-SKILL`, `I-SKILL`).
    pub labels: Vec<String>,
    /// Style markers (see [`crate::style`]): the vocabulary token put after
    /// `[CLS]` for each kind of text; empty for a model trained without
    /// them, which then reads every text the same way.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub styles: BTreeMap<Style, String>,
    /// Tells the kinds of text apart when the caller does not say which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style_detector: Option<StyleDetector>,
}

impl TaggerConfig {
    pub fn new(encoder: Config, head: Head) -> Self {
        Self {
            encoder,
            head,
            labels: Tag::ALL.iter().map(|t| t.as_str().to_owned()).collect(),
            styles: BTreeMap::new(),
            style_detector: None,
        }
    }
}

/// A batch of sentences as sub-word tensors plus where each word starts.
///
/// Invariants: `ids` and `attention` are [B, T]; `word_pos`, `word_mask` are
/// [B, W]; `word_pos[b][w]` is the index in `0..T` of word `w`'s first
/// sub-word where `word_mask[b][w]` is 1 (and 0, ignored, elsewhere).
pub struct Batch {
    pub ids: Tensor,
    pub attention: Tensor,
    pub word_pos: Tensor,
    pub word_mask: Tensor,
}

/// The tagger: encoder + classifier (+ CRF).
pub struct Tagger {
    pub config: TaggerConfig,
    pub encoder: DistilBert,
    classifier: Linear,
    crf: Option<Crf>,
}

impl Tagger {
    /// Loads a tagger; the encoder may live at the root or under `distilbert.`.
    pub fn load(vb: VarBuilder, config: &TaggerConfig) -> Result<Self> {
        Self::load_weights(Weights::float(vb), config)
    }

    /// Loads a tagger from f32 and quantized weights.
    pub fn load_weights(w: Weights, config: &TaggerConfig) -> Result<Self> {
        let k = config.labels.len();
        Ok(Self {
            encoder: DistilBert::load_weights(w.clone(), &config.encoder)?,
            classifier: w.pp("classifier").linear(config.encoder.dim, k)?,
            crf: match config.head {
                Head::Linear => None,
                Head::Crf => Some(Crf::load(w.vb.pp("crf"), k)?),
            },
            config: config.clone(),
        })
    }

    /// Word-level emission scores [B, W, K] (logits of the first sub-word).
    pub fn word_emissions(&self, batch: &Batch, mode: Mode) -> Result<Tensor> {
        // The rows gathered below: each word's first sub-word (row 0 where
        // the word is padding).
        // (On the CPU only: elsewhere every row is computed anyway.)
        let rows = match !mode.is_train() && batch.ids.device().is_cpu() {
            false => None,
            true => {
                let t = batch.ids.dim(1)?;
                let pos = match batch.word_pos.dtype() {
                    DType::U32 => batch.word_pos.to_vec2::<u32>()?,
                    _ => batch.word_pos.to_dtype(DType::U32)?.to_vec2::<u32>()?,
                };
                Some(
                    pos.iter()
                        .enumerate()
                        .flat_map(|(b, ps)| ps.iter().map(move |&p| b * t + p as usize))
                        .collect::<Vec<_>>(),
                )
            }
        };
        let hidden =
            self.encoder
                .forward_rows(&batch.ids, &batch.attention, mode, rows.as_deref())?;
        let hidden = mode.dropout(&hidden, self.config.encoder.dropout)?;
        let logits = self.classifier.forward(&hidden)?;
        let (b, w) = batch.word_pos.dims2()?;
        let k = self.config.labels.len();
        let index = batch
            .word_pos
            .unsqueeze(2)?
            .broadcast_as((b, w, k))?
            .contiguous()?;
        logits.contiguous()?.gather(&index, 1)
    }

    /// Mean loss over the batch's words: cross-entropy (linear head) or CRF
    /// negative log-likelihood per sentence (CRF head). `tags`: [B, W] u32.
    pub fn loss(&self, emissions: &Tensor, tags: &Tensor, word_mask: &Tensor) -> Result<Tensor> {
        match &self.crf {
            Some(crf) => crf.neg_log_likelihood(emissions, tags, word_mask),
            None => {
                let max = emissions.max_keepdim(D::Minus1)?.detach();
                let shifted = emissions.broadcast_sub(&max)?;
                let log_z = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
                let gold = shifted.gather(&tags.unsqueeze(2)?.contiguous()?, 2)?;
                let nll = (log_z - gold)?.squeeze(2)?;
                let mask = word_mask.to_dtype(DType::F32)?;
                (nll * &mask)?.sum_all()? / mask.sum_all()?.to_scalar::<f32>()?.max(1.0) as f64
            }
        }
    }

    /// Best tags for each sentence's first `lengths[b]` words.
    pub fn decode(&self, emissions: &Tensor, lengths: &[usize]) -> Result<Vec<Vec<Tag>>> {
        let paths: Vec<Vec<u32>> = match &self.crf {
            Some(crf) => crf.viterbi(emissions, lengths)?,
            None => {
                let best: Vec<Vec<u32>> = emissions
                    .argmax(D::Minus1)?
                    .to_dtype(DType::U32)?
                    .to_vec2()?;
                best.into_iter()
                    .zip(lengths)
                    .map(|(row, &n)| row.into_iter().take(n).collect())
                    .collect()
            }
        };
        Ok(paths
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|i| Tag::ALL.get(i as usize).copied().unwrap_or(Tag::O))
                    .collect()
            })
            .collect())
    }

    /// Per-word tag probabilities (softmax of the emissions) [B, W, K].
    pub fn probabilities(emissions: &Tensor) -> Result<Tensor> {
        candle_nn::ops::softmax_last_dim(&emissions.contiguous()?)
    }
}

/// The device training and inference run on by default: CUDA when this
/// crate is built with the `cuda` feature and a GPU is present, else CPU.
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = Device::new_cuda(0) {
        return d;
    }
    Device::Cpu
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::WordPieces;
    use candle_nn::VarMap;
    use rand::SeedableRng;

    const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-model/tokenizer.json");

    fn setup(head: Head, dropout: f32) -> (VarMap, Tagger, Batch, Tensor) {
        let pieces = WordPieces::from_json(TOKENIZER, 32).unwrap();
        let mut cfg = Config::tiny(pieces.vocab_size());
        cfg.dropout = dropout;
        cfg.attention_dropout = dropout;
        let varmap = VarMap::new();
        let tagger = Tagger::load(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            &TaggerConfig::new(cfg, head),
        )
        .unwrap();
        let a = pieces
            .encode(&["strong", "python", "and", "machine", "learning", "skills"])
            .unwrap();
        let b = pieces.encode(&["we", "use", "docker"]).unwrap();
        let batch = pieces.batch(&[&a, &b], &Device::Cpu).unwrap();
        let tags = Tensor::new(&[[0u32, 1, 0, 1, 2, 0], [0, 0, 1, 0, 0, 0]], &Device::Cpu).unwrap();
        (varmap, tagger, batch, tags)
    }

    /// Gradients of one training-mode loss (seeded dropout).
    fn train_gradients(
        tagger: &Tagger,
        batch: &Batch,
        tags: &Tensor,
    ) -> candle_core::backprop::GradStore {
        let rng = RefCell::new(ChaCha8Rng::seed_from_u64(1));
        let em = tagger
            .word_emissions(batch, Mode::Train { rng: &rng })
            .unwrap();
        tagger
            .loss(&em, tags, &batch.word_mask)
            .unwrap()
            .backward()
            .unwrap()
    }

    #[test]
    fn every_trainable_tensor_gets_a_gradient() {
        for head in [Head::Linear, Head::Crf] {
            let (varmap, tagger, batch, tags) = setup(head, 0.1);
            let grads = train_gradients(&tagger, &batch, &tags);
            let vars = varmap.data().lock().unwrap();
            let expected =
                4 + 16 * tagger.config.encoder.n_layers + 2 + if head == Head::Crf { 3 } else { 0 };
            assert_eq!(vars.len(), expected);
            for (name, var) in vars.iter() {
                let g = grads
                    .get(var.as_tensor())
                    .unwrap_or_else(|| panic!("{head:?}: no gradient for {name}"));
                let norm: f32 = g.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
                assert!(
                    norm > 0.0 && norm.is_finite(),
                    "{head:?}: gradient of {name} is {norm}"
                );
            }
        }
    }

    #[test]
    fn frozen_word_embeddings_get_no_gradient() {
        let (varmap, mut tagger, batch, tags) = setup(Head::Linear, 0.0);
        tagger.encoder.freeze_word_embeddings = true;
        let grads = train_gradients(&tagger, &batch, &tags);
        let vars = varmap.data().lock().unwrap();
        assert!(grads
            .get(vars["embeddings.word_embeddings.weight"].as_tensor())
            .is_none());
        assert!(grads
            .get(vars["embeddings.position_embeddings.weight"].as_tensor())
            .is_some());
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    #[test]
    fn training_kernels_compute_the_inference_function() {
        let (_, tagger, batch, _) = setup(Head::Linear, 0.0);
        let rng = RefCell::new(ChaCha8Rng::seed_from_u64(1));
        let train = tagger
            .word_emissions(&batch, Mode::Train { rng: &rng })
            .unwrap();
        let infer = tagger.word_emissions(&batch, Mode::Infer).unwrap();
        let d = max_abs_diff(&train, &infer);
        assert!(d < 1e-5, "max |train - infer| = {d}");
    }

    #[test]
    fn the_browsers_attention_path_computes_candles_function() {
        // F32 compute (separate q, k, v): a padded batch of two sentences
        // (packed rows, unpacked for attention) and each sentence alone.
        let (_, tagger, batch, _) = setup(Head::Crf, 0.0);
        let pieces = WordPieces::from_json(TOKENIZER, 32).unwrap();
        let alone = pieces.encode(&["we", "use", "docker"]).unwrap();
        let alone = pieces.batch(&[&alone], &Device::Cpu).unwrap();
        for batch in [&batch, &alone] {
            let candle = tagger.word_emissions(batch, Mode::Infer).unwrap();
            use_browser_attention(true);
            let fast = tagger.word_emissions(batch, Mode::Infer);
            use_browser_attention(false);
            let d = max_abs_diff(&candle, &fast.unwrap());
            assert!(d < 1e-5, "max |candle - browser attention| = {d}");
        }
    }

    #[test]
    fn dropout_is_seeded() {
        let (_, tagger, batch, _) = setup(Head::Linear, 0.5);
        let run = |seed| {
            let rng = RefCell::new(ChaCha8Rng::seed_from_u64(seed));
            tagger
                .word_emissions(&batch, Mode::Train { rng: &rng })
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn a_fused_product_gives_the_separate_products_bit_for_bit() {
        let dev = Device::Cpu;
        let (d_in, d) = (96, 40);
        let values = |n: usize| {
            Tensor::randn(0f32, 1., n, &dev)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        let ws: Vec<Vec<f32>> = (0..3).map(|_| values(d * d_in)).collect();
        let bs: Vec<Vec<f32>> = (0..3).map(|_| values(d)).collect();
        let fused = Int8Linear {
            weight: Int8Matrix::from_f32(&ws.concat(), 3 * d, d_in),
            bias: bs.concat(),
            parts: 3,
        };
        let xs = Tensor::randn(0f32, 1., (2, 7, d_in), &dev).unwrap();
        let x = xs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let parts = fused.forward_parts(&xs).unwrap();
        assert_eq!(parts.len(), 3);
        for (i, part) in parts.iter().enumerate() {
            assert_eq!(part.dims(), &[2, 7, d]);
            let alone = Int8Matrix::from_f32(&ws[i], d, d_in).matmul(&x, &bs[i]);
            let got = part.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(got, alone, "part {i}");
        }
        assert!(fused
            .forward_parts(&Tensor::zeros((3, 5), DType::F32, &dev).unwrap())
            .is_err());
    }

    #[test]
    fn quantized_rows_are_candles_own_embedding() {
        use candle_core::quantized::GgmlDType as G;
        let dev = Device::Cpu;
        let (rows, dim) = (7, 512);
        let table = Tensor::randn(0f32, 1., (rows, dim), &dev).unwrap();
        let ids = Tensor::new(&[[3u32, 0, 6], [6, 1, 2]], &dev).unwrap();
        for dtype in [G::Q4_0, G::Q8_0] {
            let q = QTensor::quantize(&table, dtype).unwrap();
            let rows = Embedding::Rows(QuantizedRows::new(&q).unwrap().expect("held"));
            let ours = rows.forward(&ids).unwrap();
            let candle = q.embedding(&ids).unwrap();
            assert_eq!(ours.dims(), candle.dims(), "{dtype:?}");
            let v = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(v(&ours), v(&candle), "{dtype:?}");
            let out_of_range = Tensor::new(&[[7u32]], &dev).unwrap();
            assert!(rows.forward(&out_of_range).is_err(), "{dtype:?}");
        }
        for other in [G::F16, G::Q4K, G::Q6K] {
            let q = QTensor::quantize(&table, other).unwrap();
            assert!(QuantizedRows::new(&q).unwrap().is_none(), "{other:?}");
        }
    }

    #[test]
    fn compute_names_are_the_serde_names() {
        for c in [Compute::Quantized, Compute::F32, Compute::Int8] {
            let name = serde_json::to_value(c).unwrap();
            assert_eq!(name.as_str().unwrap().parse::<Compute>(), Ok(c));
        }
        assert!("int4".parse::<Compute>().unwrap_err().contains("int4"));
    }

    #[test]
    fn bad_configs_are_errors() {
        let mut cfg = Config::tiny(10);
        cfg.n_heads = 5;
        let varmap = VarMap::new();
        assert!(DistilBert::load(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            &cfg
        )
        .is_err());
        cfg.n_heads = 4;
        cfg.activation = "relu".into();
        assert!(DistilBert::load(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            &cfg
        )
        .is_err());
    }
}
