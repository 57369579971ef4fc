//! Integer matrix products for inference ([`crate::model::Compute::Int8`]).
//!
//! A linear layer's weight is quantized once, at load, with one scale per
//! output row, to 7 bits (symmetric: `w ≈ scale · q`, `q ∈ [-63, 63]`, so
//! that it fits relaxed SIMD's 7-bit operand, below); each call quantizes
//! its input to int8 (`q ∈ [-127, 127]`), one scale per row. The products
//! are exact integer dot products, rescaled once per output:
//! `y[r, j] = sx[r] · sw[j] · Σₖ qx[r, k] · qw[j, k] + b[j]`. Every kernel
//! computes the same integer sums and rescales them with the same f32
//! operations in the same order, so every build gives bit-identical
//! outputs. (7-bit weights against 8-bit: strict span F1 on the dev
//! splits 0.453 / 0.486 against 0.456 / 0.483, F32 0.458 / 0.479.)
//!
//! The portable kernel holds values as `i16` so that WebAssembly's
//! `i32x4.dot_i16x8_s` (eight multiply-adds in one instruction, what
//! onnxruntime-web's int8 kernels use) applies directly; on x86-64 the same
//! kernel uses SSE2's `pmaddwd` (what that wasm instruction compiles to),
//! elsewhere plain Rust. Weights and inputs are packed so that a 4-row ×
//! 2-output tile reads both in order. Sums cannot overflow: |qx| ≤ 127 and
//! |qw| ≤ 63, so even 200,000 products stay below 2³¹.
//!
//! In wasm built with the `relaxed-simd` feature, [`tile_relaxed`] uses
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s` (sixteen multiply-adds per
//! instruction) on `i8` inputs and weights stored plus 64 (`1..=127`, the
//! 7-bit operand, whose top bit is clear: every engine computes the same
//! exact result then); `64 · Σ x` comes off each row's sums. Such a module
//! only validates where the browser has relaxed SIMD, so the app builds
//! its worker both ways and loads this one where it validates.
//!
//! Natively on x86-64 CPUs with AVX-512 VNNI the weights are held as `i8`
//! instead, in chunks of 16, and the inputs as `u8` (`q + 128`): one
//! `vpdpbusd` does 64 multiply-adds, and the offset comes off with each
//! weight row's sum (`Σ (q + 128) · w = Σ q · w + 128 · Σ w`), so the
//! sums are the same exact integers (both sides are computed modulo 2³²,
//! which leaves the difference exact wherever the true sum fits). The
//! relaxed kernel's raw sums (`Σ x · (w + 64)`) wrap the same way.
//!
//! Tried and measured in Chromium (128 tokens, int8 forward ≈ 43 ms):
//! blocking the rows so that weights stream from memory 8× less often
//! (no gain: 44.8 ms; the kernel is not memory-bound) and 6 × 2 tiles
//! (62.8 ms: 12 accumulators spill registers in V8's code), the k loop
//! unrolled by two (52.6 ms), and 2 × 4 tiles whose four sums per row
//! come out of one shuffle tree (43.2 ms: the epilogue is not the cost).

/// A weight matrix `[n, k]` (output rows × inputs), quantized per row and
/// packed for its kernel: rows in pairs, each pair's two rows interleaved
/// in chunks (`k` padded with zeros to `kp`, `n` to a multiple of 2), so
/// that one pointer walks a tile's weights in order.
#[derive(Debug, Clone)]
pub struct Int8Matrix {
    n: usize,
    k: usize,
    /// `k` rounded up to a multiple of the kernel's chunk.
    kp: usize,
    weights: Weights,
    /// One scale per row.
    scale: Vec<f32>,
}

#[derive(Debug, Clone)]
enum Weights {
    /// For [`tile`]: `n / 2` (rounded up) pairs of `2 · kp` values in
    /// `[-63, 63]`, in chunks of 8.
    Portable(Vec<i16>),
    /// For [`tile_vnni`]: the same values as `i8` in chunks of 16, and
    /// `128 · Σ` of each row (the inputs' offset).
    #[cfg(target_arch = "x86_64")]
    Vnni { packed: Vec<i8>, offset: Vec<i32> },
    /// For [`tile_relaxed`]: the same values as `i8` in chunks of 16,
    /// plus 64 (1..=127, relaxed SIMD's 7-bit operand).
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    Relaxed(Vec<i8>),
}

impl Weights {
    /// Bytes per packed weight value.
    fn bytes(&self) -> usize {
        match self {
            Weights::Portable(_) => 2,
            #[cfg(target_arch = "x86_64")]
            Weights::Vnni { .. } => 1,
            #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
            Weights::Relaxed(_) => 1,
        }
    }
}

/// Rows per tile (inputs) and outputs per tile (weight rows): 8
/// accumulators and 6 loads per step stay in the 16 SIMD registers.
const TR: usize = 4;
const TC: usize = 2;
/// Values per SIMD load (8 × i16).
const L: usize = 8;

/// The largest quantized input and weight: inputs use int8's range;
/// weights 7 bits (±63) so that they fit relaxed SIMD's 7-bit operand.
const INPUT_MAX: f32 = 127.0;
const WEIGHT_MAX: f32 = 63.0;

/// How values are packed: `CHUNK` values of a row at a time, quantized
/// from f32 times `inv` (rounded half to even, clamped to ±127; NaN and
/// infinity as 0), as `Self`.
trait Packing: Copy + Default {
    const CHUNK: usize;
    fn quantize(v: &[f32], inv: f32, out: &mut [Self]);
}

impl Packing for i16 {
    const CHUNK: usize = L;
    #[inline(always)]
    fn quantize(v: &[f32], inv: f32, out: &mut [i16]) {
        quantize8(v.try_into().expect("chunks of 8"), inv, out);
    }
}

/// Weights for [`tile_vnni`] (at load: speed does not matter), and
/// inputs for [`tile_relaxed`].
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", feature = "relaxed-simd")
))]
impl Packing for i8 {
    const CHUNK: usize = 2 * L;
    #[inline(always)]
    fn quantize(v: &[f32], inv: f32, out: &mut [i8]) {
        let mut q = [0i16; 2 * L];
        for (v, q) in v.chunks_exact(L).zip(q.chunks_exact_mut(L)) {
            quantize8(v.try_into().expect("chunks of 8"), inv, q);
        }
        #[cfg(target_arch = "wasm32")]
        {
            use core::arch::wasm32::*;
            assert_eq!(out.len(), 2 * L);
            // SAFETY: q holds 16 i16 (two loads), out 16 bytes (one store).
            unsafe {
                let p = q.as_ptr() as *const v128;
                let bytes = i8x16_narrow_i16x8(v128_load(p), v128_load(p.add(1)));
                v128_store(out.as_mut_ptr() as *mut v128, bytes);
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        for (o, q) in out.iter_mut().zip(q) {
            *o = q as i8;
        }
    }
}

/// Inputs for [`tile_vnni`]: `q + 128` (1..=255) as `u8`.
#[cfg(target_arch = "x86_64")]
impl Packing for u8 {
    const CHUNK: usize = 2 * L;
    #[inline(always)]
    fn quantize(v: &[f32], inv: f32, out: &mut [u8]) {
        use core::arch::x86_64::*;
        assert!(v.len() == 16 && out.len() == 16);
        // SAFETY: SSE2 is part of x86-64; four 16-byte loads of v's 16
        // f32, one 16-byte store into out's 16 bytes.
        unsafe {
            let q = |i: usize| quantize4_sse2(_mm_loadu_ps(v.as_ptr().add(4 * i)), inv);
            let lo = _mm_packs_epi32(q(0), q(1));
            let hi = _mm_packs_epi32(q(2), q(3));
            let off = _mm_set1_epi16(128);
            let bytes = _mm_packus_epi16(_mm_add_epi16(lo, off), _mm_add_epi16(hi, off));
            _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, bytes);
        }
    }
}

/// `values` (whole rows of `k`) quantized per row, straight into the
/// packed layout: groups of `g` rows interleaved in chunks of [`L`] (group
/// by group, chunk by chunk, row by row; `k` padded with zeros to `kp`, a
/// multiple of 8, and the last group with rows of zeros). Returns the
/// packed values, one scale per row (0 for a row of zeros) and `kp`.
///
/// NaN and infinity cannot be represented: they quantize as 0 and leave
/// the scale finite (the f32 path would propagate them).
pub fn quantize_packed(values: &[f32], k: usize, g: usize) -> (Vec<i16>, Vec<f32>, usize) {
    quantize_as::<i16>(values, k, g, INPUT_MAX)
}

/// [`quantize_packed`] for any [`Packing`] (chunks of `E::CHUNK`; padding
/// is the quantized 0, which for `u8` is 128).
fn quantize_as<E: Packing>(
    values: &[f32],
    k: usize,
    g: usize,
    max: f32,
) -> (Vec<E>, Vec<f32>, usize) {
    let ch = E::CHUNK;
    let rows = values.len().checked_div(k).unwrap_or(0);
    let kp = k.div_ceil(ch) * ch;
    let mut zero = [E::default(); 2 * L];
    E::quantize(&[0f32; 2 * L][..ch], 0.0, &mut zero[..ch]);
    let mut out = vec![zero[0]; rows.div_ceil(g) * g * kp];
    let mut scale = Vec::with_capacity(rows);
    let mut last = [0f32; 2 * L];
    for (r, row) in values.chunks_exact(k.max(1)).take(rows).enumerate() {
        let s = max_abs_finite(row) / max;
        let inv = if s > 0.0 { 1.0 / s } else { 0.0 };
        let base = (r / g) * g * kp + (r % g) * ch;
        let mut chunks = row.chunks_exact(ch);
        for (c, chunk) in chunks.by_ref().enumerate() {
            let at = base + c * g * ch;
            E::quantize(chunk, inv, &mut out[at..at + ch]);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            last[..rest.len()].copy_from_slice(rest);
            last[rest.len()..].fill(0.0);
            let at = base + (k / ch) * g * ch;
            E::quantize(&last[..ch], inv, &mut out[at..at + ch]);
        }
        scale.push(s);
    }
    (out, scale, kp)
}

/// The largest finite |v| of `row` (0 if none), in 8 lanes.
fn max_abs_finite(row: &[f32]) -> f32 {
    let mut m = [0f32; L];
    let mut chunks = row.chunks_exact(L);
    for chunk in chunks.by_ref() {
        for (m, &v) in m.iter_mut().zip(chunk) {
            // NaN and infinity fail the first test: skipped.
            let a = v.abs();
            let a = if a < f32::INFINITY { a } else { 0.0 };
            *m = if a > *m { a } else { *m };
        }
    }
    for (m, &v) in m.iter_mut().zip(chunks.remainder()) {
        let a = v.abs();
        if a < f32::INFINITY && a > *m {
            *m = a;
        }
    }
    m.into_iter().fold(0f32, f32::max)
}

/// Eight values times `inv`, rounded half to even, clamped to ±127; NaN
/// and infinity as 0.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn quantize8(v: &[f32; L], inv: f32, out: &mut [i16]) {
    use core::arch::wasm32::*;
    assert_eq!(out.len(), L);
    // SAFETY: v holds 8 f32 and out 8 i16: two 16-byte loads, one store.
    unsafe {
        let p = v.as_ptr() as *const v128;
        let half = |x: v128| {
            let x = f32x4_mul(x, f32x4_splat(inv));
            let finite = f32x4_lt(f32x4_abs(x), f32x4_splat(f32::INFINITY));
            let x = f32x4_nearest(v128_and(x, finite));
            let x = f32x4_pmin(f32x4_pmax(x, f32x4_splat(-127.0)), f32x4_splat(127.0));
            i32x4_trunc_sat_f32x4(x)
        };
        let q = i16x8_narrow_i32x4(half(v128_load(p)), half(v128_load(p.add(1))));
        v128_store(out.as_mut_ptr() as *mut v128, q);
    }
}

/// The same with SSE2: `cvtps2dq` rounds half to even (the default MXCSR
/// mode), `packssdw` narrows.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn quantize8(v: &[f32; L], inv: f32, out: &mut [i16]) {
    use core::arch::x86_64::*;
    assert_eq!(out.len(), L);
    // SAFETY: SSE2 is part of x86-64; v holds 8 f32 and out 8 i16.
    unsafe {
        let lo = quantize4_sse2(_mm_loadu_ps(v.as_ptr()), inv);
        let hi = quantize4_sse2(_mm_loadu_ps(v.as_ptr().add(4)), inv);
        _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, _mm_packs_epi32(lo, hi));
    }
}

/// Four values times `inv`, rounded half to even, clamped to ±127, NaN and
/// infinity as 0, as i32.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn quantize4_sse2(x: core::arch::x86_64::__m128, inv: f32) -> core::arch::x86_64::__m128i {
    use core::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86-64; register operations only.
    unsafe {
        let x = _mm_mul_ps(x, _mm_set1_ps(inv));
        let abs = _mm_andnot_ps(_mm_set1_ps(-0.0), x);
        let finite = _mm_cmplt_ps(abs, _mm_set1_ps(f32::INFINITY));
        let x = _mm_and_ps(x, finite);
        let x = _mm_min_ps(_mm_max_ps(x, _mm_set1_ps(-127.0)), _mm_set1_ps(127.0));
        _mm_cvtps_epi32(x)
    }
}

/// The same in plain Rust.
#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
fn quantize8(v: &[f32; L], inv: f32, out: &mut [i16]) {
    for (o, &x) in out.iter_mut().zip(v) {
        let x = x * inv;
        *o = if x.is_finite() {
            x.round_ties_even().clamp(-127.0, 127.0) as i16
        } else {
            0
        };
    }
}

/// The sums of one tile call: `[row][output]` for up to [`WIDE`] pairs.
type Sums = [[i32; TC * WIDE]; TR];

impl Int8Matrix {
    /// Quantizes `w`, `n` rows of `k` values (row-major), for the widest
    /// kernel this CPU runs.
    pub fn from_f32(w: &[f32], n: usize, k: usize) -> Self {
        Self::from_f32_for(Kernel::detect(), w, n, k)
    }

    fn from_f32_for(kernel: Kernel, w: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k, "a {n} × {k} matrix has {} values", n * k);
        match kernel {
            Kernel::Portable => {
                let (packed, scale, kp) = quantize_as::<i16>(w, k, TC, WEIGHT_MAX);
                Self {
                    n,
                    k,
                    kp,
                    weights: Weights::Portable(packed),
                    scale,
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Vnni => {
                let (packed, scale, kp) = quantize_as::<i8>(w, k, TC, WEIGHT_MAX);
                // Row j's values: chunk by chunk, the pair's rows interleaved.
                let ch = <i8 as Packing>::CHUNK;
                let offset = (0..n)
                    .map(|j| {
                        let base = (j / TC) * TC * kp + (j % TC) * ch;
                        let sum: i32 = (0..kp / ch)
                            .flat_map(|c| &packed[base + c * TC * ch..][..ch])
                            .map(|&q| q as i32)
                            .sum();
                        sum.wrapping_mul(128)
                    })
                    .collect();
                Self {
                    n,
                    k,
                    kp,
                    weights: Weights::Vnni { packed, offset },
                    scale,
                }
            }
            #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
            Kernel::Relaxed => {
                let (mut packed, scale, kp) = quantize_as::<i8>(w, k, TC, WEIGHT_MAX);
                for q in &mut packed {
                    *q += 64;
                }
                Self {
                    n,
                    k,
                    kp,
                    weights: Weights::Relaxed(packed),
                    scale,
                }
            }
        }
    }

    /// Outputs (rows of the weight).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Inputs (columns of the weight).
    pub fn k(&self) -> usize {
        self.k
    }

    /// `x · wᵀ + bias` for `x` holding whole rows of `k` values; returns
    /// `rows × n` values.
    pub fn matmul(&self, x: &[f32], bias: &[f32]) -> Vec<f32> {
        assert_eq!(
            x.len() % self.k.max(1),
            0,
            "x holds whole rows of {}",
            self.k
        );
        assert_eq!(bias.len(), self.n, "one bias per output");
        let rows = x.len().checked_div(self.k).unwrap_or(0);
        let mut out = vec![0f32; rows * self.n];
        if self.n == 0 {
            return out;
        }
        let kp = self.kp;
        match &self.weights {
            Weights::Portable(w) => {
                let (xp, sx, _) = quantize_as::<i16>(x, self.k, TR, INPUT_MAX);
                let tiles = |g: usize, p: usize, _avail: usize, sums: &mut Sums| {
                    let t = tile(&xp[g * TR * kp..(g + 1) * TR * kp], &w[p * TC * kp..], kp);
                    for (s, t) in sums.iter_mut().zip(t) {
                        s[..TC].copy_from_slice(&t);
                    }
                    1
                };
                self.run(&mut out, &sx, bias, tiles, |_| 0);
            }
            #[cfg(target_arch = "x86_64")]
            Weights::Vnni { packed, offset } => {
                let (xp, sx, _) = quantize_as::<u8>(x, self.k, TR, INPUT_MAX);
                let tiles = |g: usize, p: usize, avail: usize, sums: &mut Sums| {
                    let x = &xp[g * TR * kp..(g + 1) * TR * kp];
                    let w = &packed[p * TC * kp..];
                    let pairs = if avail >= WIDE { WIDE } else { 1 };
                    assert!(w.len() >= pairs * TC * kp && kp.is_multiple_of(16));
                    // SAFETY: `Kernel::Vnni` was detected on this CPU (the
                    // matrix was built for it); the tile reads TR · kp
                    // values of x and pairs · TC · kp of w, asserted above.
                    unsafe {
                        if pairs == WIDE {
                            tile_vnni::<WIDE>(x.as_ptr(), w.as_ptr(), kp, sums)
                        } else {
                            tile_vnni::<1>(x.as_ptr(), w.as_ptr(), kp, sums)
                        }
                    }
                    pairs
                };
                self.run(&mut out, &sx, bias, tiles, |j| offset[j]);
            }
            #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
            Weights::Relaxed(w) => self.matmul_relaxed(w, x, bias, &mut out),
        }
        out
    }

    /// [`Int8Matrix::matmul`] with [`tile_relaxed`]: pair by pair (its
    /// weights stay in the cache while every row group passes), the
    /// integer sums into a row-major buffer, then scaled in one SIMD pass.
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    #[target_feature(enable = "relaxed-simd")]
    fn matmul_relaxed(&self, w: &[i8], x: &[f32], bias: &[f32], out: &mut [f32]) {
        use core::arch::wasm32::*;
        let (n, kp) = (self.n, self.kp);
        let rows = out.len() / n;
        if rows == 0 || kp == 0 {
            // No rows, or no inputs: the products are 0.
            for row in out.chunks_exact_mut(n) {
                row.copy_from_slice(bias);
            }
            return;
        }
        let (xp, sx, _) = quantize_as::<i8>(x, self.k, TR, INPUT_MAX);
        let split = RELAXED_SPLIT.load(std::sync::atomic::Ordering::Relaxed);
        // Through black_box: a constant's `i32x4.dot_i16x8_s` could be
        // folded into the `extadd_pairwise` form that V8 fuses back.
        let ones = std::hint::black_box(i16x8_splat(1));
        let groups = rows.div_ceil(TR);
        let np = n.div_ceil(TC) * TC;
        let mut sums = vec![0i32; groups * TR * np];
        for p in 0..np / TC {
            let wp = &w[p * TC * kp..(p + 1) * TC * kp];
            for g in 0..groups {
                let xg = &xp[g * TR * kp..(g + 1) * TR * kp];
                let [r01, r23] = if split {
                    tile_relaxed::<false>(xg, wp, kp, ones)
                } else {
                    tile_relaxed::<true>(xg, wp, kp, ones)
                };
                let at = g * TR * np + p * TC;
                let dst = &mut sums[at..at + 3 * np + TC];
                // SAFETY: each store writes two i32 at the start of row
                // 0..4 of the tile in `dst` (3 · np + 2 values).
                unsafe {
                    let d = dst.as_mut_ptr();
                    v128_store64_lane::<0>(r01, d as *mut u64);
                    v128_store64_lane::<1>(r01, d.add(np) as *mut u64);
                    v128_store64_lane::<0>(r23, d.add(2 * np) as *mut u64);
                    v128_store64_lane::<1>(r23, d.add(3 * np) as *mut u64);
                }
            }
        }
        // The weights' +64 added 64 · Σ x to every sum of a row.
        let offsets = row_sums(&xp, kp);
        for (r, out) in out.chunks_exact_mut(n).enumerate() {
            let sums = &sums[r * np..r * np + n];
            let off = offsets[r].wrapping_mul(64);
            let (o4, s4) = (i32x4_splat(off), f32x4_splat(sx[r]));
            let mut j = 0;
            while j + 4 <= n {
                // SAFETY: j + 4 ≤ n, the length of `out`, `sums`, `bias`
                // and `self.scale`.
                // The same operations in the same order as the other
                // kernels' (`groups_into`), so that the outputs are
                // bit-identical.
                unsafe {
                    let d = i32x4_sub(v128_load(sums.as_ptr().add(j) as *const v128), o4);
                    let sc = v128_load(self.scale.as_ptr().add(j) as *const v128);
                    let b = v128_load(bias.as_ptr().add(j) as *const v128);
                    let y = f32x4_add(f32x4_mul(f32x4_mul(f32x4_convert_i32x4(d), s4), sc), b);
                    v128_store(out.as_mut_ptr().add(j) as *mut v128, y);
                }
                j += 4;
            }
            for j in j..n {
                out[j] = sums[j].wrapping_sub(off) as f32 * sx[r] * self.scale[j] + bias[j];
            }
        }
    }

    /// Fills `out` (`rows × n`) from the quantized inputs' scales `sx`:
    /// `tiles(group, pair, pairs left in the block, sums)` computes a
    /// tile's integer sums and says how many pairs it did; `offset(j)`
    /// comes off output `j`'s sums. Natively the row groups are shared out
    /// over rayon's threads (`RAYON_NUM_THREADS`), each writing its own
    /// rows of `out`.
    fn run(
        &self,
        out: &mut [f32],
        sx: &[f32],
        bias: &[f32],
        tiles: impl Fn(usize, usize, usize, &mut Sums) -> usize + Sync,
        offset: impl Fn(usize) -> i32 + Sync,
    ) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (n, rows) = (self.n, out.len() / self.n);
            let groups = rows.div_ceil(TR);
            let threads = rayon::current_num_threads().min(groups);
            if threads > 1 && rows * n * self.kp >= PARALLEL_MIN_PRODUCTS {
                use rayon::prelude::*;
                let per = groups.div_ceil(threads);
                out.par_chunks_mut(per * TR * n)
                    .enumerate()
                    .for_each(|(i, chunk)| {
                        self.groups_into(&tiles, &offset, sx, bias, i * per, chunk)
                    });
                return;
            }
        }
        self.groups_into(&tiles, &offset, sx, bias, 0, out);
    }

    /// The rows of `out` (whole rows of `n`) from row group `g0` on:
    /// output blocks whose weights stay in the cache while every row group
    /// of `out` passes over them, tile by tile.
    fn groups_into(
        &self,
        tiles: &impl Fn(usize, usize, usize, &mut Sums) -> usize,
        offset: &impl Fn(usize) -> i32,
        sx: &[f32],
        bias: &[f32],
        g0: usize,
        out: &mut [f32],
    ) {
        let n = self.n;
        let rows = out.len() / n;
        let pairs = n.div_ceil(TC);
        let block = block_pairs(TC * self.kp * self.weights.bytes()).min(pairs);
        let mut sums = [[0i32; TC * WIDE]; TR];
        for p0 in (0..pairs).step_by(block) {
            let p1 = (p0 + block).min(pairs);
            for g in 0..rows.div_ceil(TR) {
                let mut p = p0;
                while p < p1 {
                    let done = tiles(g0 + g, p, p1 - p, &mut sums);
                    for (i, row) in sums.iter().enumerate() {
                        let r = g * TR + i;
                        if r >= rows {
                            break;
                        }
                        let s = sx[g0 * TR + r];
                        for (o, &dot) in row[..done * TC].iter().enumerate() {
                            let j = p * TC + o;
                            if j < n {
                                out[r * n + j] =
                                    dot.wrapping_sub(offset(j)) as f32 * s * self.scale[j]
                                        + bias[j];
                            }
                        }
                    }
                    p += done;
                }
            }
        }
    }
}

/// Below this many multiply-adds (≈ 0.3 ms of work) a product stays on one
/// thread: on smaller ones rayon's hand-off cost more than it gained (2
/// threads, batch 1: 8,698 tokens/s with 2²¹ against 11,060 with 2²⁶).
#[cfg(not(target_arch = "wasm32"))]
const PARALLEL_MIN_PRODUCTS: usize = 1 << 26;

/// Weight pairs per output block, for pairs of `pair_bytes`: natively as
/// many as fit in 256 KiB (a core's L2 holds them while the row groups
/// stream past); in wasm all of them (blocking measured no gain there: the
/// kernel is not memory-bound; 64 KiB blocks made a keystroke's re-tagging
/// slower, 13.9–15.1 vs 12.3 ms).
fn block_pairs(pair_bytes: usize) -> usize {
    if cfg!(target_arch = "wasm32") {
        usize::MAX
    } else {
        ((256 << 10) / pair_bytes.max(1))
            .max(1)
            .next_multiple_of(WIDE)
    }
}

/// Weight pairs per wide tile: 4 rows × 8 outputs.
const WIDE: usize = 4;

/// Whether the relaxed SIMD kernel uses its split form (see
/// [`tile_relaxed`]); set by [`choose_kernel`] or [`use_relaxed_split`].
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
static RELAXED_SPLIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// In the relaxed SIMD build: whether matrices are packed for SIMD128's
/// [`tile`] instead ([`choose_kernel`] found it faster on this CPU: without
/// AVX-VNNI, V8 turns the relaxed dot product into several instructions).
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
static RELAXED_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Picks, where a build has more than one way to the same integer sums,
/// the fastest on this machine by timing each on a product of a
/// transformer's size (`now`: a clock in milliseconds, e.g.
/// `performance.now`); 15–30 ms. Every way gives bit-identical
/// outputs. Today: in the relaxed SIMD build, its fused and split dot
/// products ([`tile_relaxed`]) and SIMD128's [`tile`], which CPUs without
/// AVX-VNNI (where V8 cannot lower the relaxed dot product to `vpdpbusd`)
/// may run faster; elsewhere nothing to choose. Run it before the model's
/// matrices are built ([`Int8Matrix::from_f32`] packs them for the kernel
/// chosen); matrices built before keep theirs and stay correct. Returns
/// [`kernel_name`].
pub fn choose_kernel(now: &dyn Fn() -> f64) -> &'static str {
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    {
        let (rows, n, k) = (64, 256, 768);
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i as u64 * 7919) % 255) as f32 / 127.0 - 1.0)
            .collect();
        let x: Vec<f32> = (0..rows * k)
            .map(|i| ((i as u64 * 104_729) % 251) as f32 / 125.0 - 1.0)
            .collect();
        let relaxed = Int8Matrix::from_f32_for(Kernel::Relaxed, &w, n, k);
        let simd128 = Int8Matrix::from_f32_for(Kernel::Portable, &w, n, k);
        let bias = vec![0f32; n];
        // Fused relaxed, split relaxed, SIMD128, interleaved: one untimed
        // round first (V8 starts a module in its baseline compiler, whose
        // relative speeds are not those of the optimised code it tiers up
        // to after a function's first calls), then the best of three timed
        // rounds of 6 products each (≈ 1–2 ms a sample: where a page is not
        // cross-origin isolated, `performance.now()` moves in steps of
        // 0.1 ms, too coarse for a single 0.2 ms product).
        let mut best = [f64::INFINITY; 3];
        for round in 0..4 {
            let reps = if round == 0 { 2 } else { 6 };
            for (way, best) in best.iter_mut().enumerate() {
                use_relaxed_split(way == 1);
                let m = if way == 2 { &simd128 } else { &relaxed };
                let t = now();
                for _ in 0..reps {
                    std::hint::black_box(m.matmul(std::hint::black_box(&x), &bias));
                }
                if round > 0 {
                    *best = best.min(now() - t);
                }
            }
        }
        // The fused form unless another is clearly faster.
        let (way, fastest) = (0..3).fold((0, best[0]), |(w, b), i| {
            if best[i] < b {
                (i, best[i])
            } else {
                (w, b)
            }
        });
        let way = if fastest < 0.95 * best[0] { way } else { 0 };
        use_relaxed_split(way == 1);
        RELAXED_OFF.store(way == 2, std::sync::atomic::Ordering::Relaxed);
    }
    let _ = now;
    kernel_name()
}

/// Makes the relaxed SIMD kernel use its split form (`true`) or the fused
/// one (tests and benchmarks; [`choose_kernel`] picks by timing). No effect
/// in other builds.
pub fn use_relaxed_split(split: bool) {
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    RELAXED_SPLIT.store(split, std::sync::atomic::Ordering::Relaxed);
    let _ = split;
}

/// The int8 kernel this build uses on this CPU: `relaxed-simd` (fused dot
/// products), `relaxed-simd-split` (see [`tile_relaxed`]),
/// `simd128-in-relaxed-build` (see [`choose_kernel`]) or `simd128` in wasm,
/// `avx512-vnni` or `sse2` on x86-64, else `portable`.
pub fn kernel_name() -> &'static str {
    match Kernel::detect() {
        #[cfg(target_arch = "x86_64")]
        Kernel::Vnni => "avx512-vnni",
        #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
        Kernel::Relaxed if RELAXED_SPLIT.load(std::sync::atomic::Ordering::Relaxed) => {
            "relaxed-simd-split"
        }
        #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
        Kernel::Relaxed => "relaxed-simd",
        Kernel::Portable if cfg!(all(target_arch = "wasm32", feature = "relaxed-simd")) => {
            "simd128-in-relaxed-build"
        }
        Kernel::Portable if cfg!(target_arch = "x86_64") => "sse2",
        Kernel::Portable if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) => {
            "simd128"
        }
        Kernel::Portable => "portable",
    }
}

/// Which kernel a matrix is built for: [`tile`] (wasm SIMD128, SSE2 or
/// plain Rust), on x86-64 CPUs with AVX-512 VNNI [`tile_vnni`], or in wasm
/// built with the `relaxed-simd` feature [`tile_relaxed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Vnni,
    #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
    Relaxed,
}

impl Kernel {
    /// The widest kernel: natively the one the CPU runs (chosen at run time;
    /// `ROLEMAPPER_INT8_KERNEL=portable` picks [`tile`], for benchmarks), in
    /// wasm the one the build has (relaxed SIMD with the feature, unless
    /// [`choose_kernel`] found SIMD128's faster).
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            static KERNEL: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
            *KERNEL.get_or_init(|| {
                let portable =
                    std::env::var_os("ROLEMAPPER_INT8_KERNEL").is_some_and(|k| k == "portable");
                if !portable
                    && std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512bw")
                    && std::is_x86_feature_detected!("avx512vnni")
                {
                    Kernel::Vnni
                } else {
                    Kernel::Portable
                }
            })
        }
        #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
        return if RELAXED_OFF.load(std::sync::atomic::Ordering::Relaxed) {
            Kernel::Portable
        } else {
            Kernel::Relaxed
        };
        #[allow(unreachable_code)]
        #[cfg(not(target_arch = "x86_64"))]
        Kernel::Portable
    }
}

/// `P` weight pairs against one row group, `u8` inputs times `i8` weights:
/// each step loads the group's chunk (4 rows × 16 values, one 512-bit
/// register) once and each weight row's 16 values broadcast to the four
/// 128-bit lanes, so lane `r` of an accumulator sums row `r` against one
/// weight row; `vpdpbusd` does 64 multiply-adds per instruction.
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI; `x` holds `TR · kp` values and `w`
/// `P · TC · kp`, `kp` a multiple of 16; `P` is 1 to [`WIDE`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile_vnni<const P: usize>(x: *const u8, w: *const i8, kp: usize, sums: &mut Sums) {
    use core::arch::x86_64::*;
    const CH: usize = 2 * L;
    let mut acc = [[_mm512_setzero_si512(); TC]; P];
    for c in 0..kp / CH {
        let xv = _mm512_loadu_si512(x.add(c * TR * CH) as *const _);
        for (p, a) in acc.iter_mut().enumerate() {
            let wc = w.add(p * TC * kp + c * TC * CH);
            for (o, a) in a.iter_mut().enumerate() {
                let wo = _mm512_broadcast_i32x4(_mm_loadu_si128(wc.add(o * CH) as *const __m128i));
                *a = _mm512_dpbusd_epi32(*a, xv, wo);
            }
        }
    }
    // Two pairs (four accumulators) at a time: within each 128-bit lane
    // (one row), two rounds of unpack-and-add leave the four outputs' sums
    // in order.
    let z = _mm512_setzero_si512();
    for q in 0..P.div_ceil(2) {
        let a = [
            acc[2 * q][0],
            acc[2 * q][1],
            if 2 * q + 1 < P { acc[2 * q + 1][0] } else { z },
            if 2 * q + 1 < P { acc[2 * q + 1][1] } else { z },
        ];
        let s01 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(a[0], a[1]),
            _mm512_unpackhi_epi32(a[0], a[1]),
        );
        let s23 = _mm512_add_epi32(
            _mm512_unpacklo_epi32(a[2], a[3]),
            _mm512_unpackhi_epi32(a[2], a[3]),
        );
        let all = _mm512_add_epi32(
            _mm512_unpacklo_epi64(s01, s23),
            _mm512_unpackhi_epi64(s01, s23),
        );
        let mut lanes = [0i32; 16];
        _mm512_storeu_si512(lanes.as_mut_ptr() as *mut _, all);
        for (r, row) in sums.iter_mut().enumerate() {
            let n = (2 * TC).min(TC * P - 4 * q);
            row[q * 4..q * 4 + n].copy_from_slice(&lanes[r * 4..r * 4 + n]);
        }
    }
}

/// The [`TR`] × [`TC`] dot products of a packed group of input rows and a
/// packed pair of weight rows, `kp` values each.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn tile(x: &[i16], w: &[i16], kp: usize) -> [[i32; TC]; TR] {
    use core::arch::wasm32::*;
    assert!(x.len() >= TR * kp && w.len() >= TC * kp && kp.is_multiple_of(L));
    let (mut a00, mut a01, mut a10, mut a11) = (
        i32x4_splat(0),
        i32x4_splat(0),
        i32x4_splat(0),
        i32x4_splat(0),
    );
    let (mut a20, mut a21, mut a30, mut a31) = (
        i32x4_splat(0),
        i32x4_splat(0),
        i32x4_splat(0),
        i32x4_splat(0),
    );
    let (xs, ws) = (x.as_ptr(), w.as_ptr());
    for c in 0..kp / L {
        // SAFETY: chunk c of the group lies at c·TR·L..(c+1)·TR·L of x and
        // c·TC·L..(c+1)·TC·L of w, inside the lengths asserted above.
        unsafe {
            let xc = xs.add(c * TR * L);
            let wc = ws.add(c * TC * L);
            let w0 = v128_load(wc as *const v128);
            let w1 = v128_load(wc.add(L) as *const v128);
            let x0 = v128_load(xc as *const v128);
            a00 = i32x4_add(a00, i32x4_dot_i16x8(x0, w0));
            a01 = i32x4_add(a01, i32x4_dot_i16x8(x0, w1));
            let x1 = v128_load(xc.add(L) as *const v128);
            a10 = i32x4_add(a10, i32x4_dot_i16x8(x1, w0));
            a11 = i32x4_add(a11, i32x4_dot_i16x8(x1, w1));
            let x2 = v128_load(xc.add(2 * L) as *const v128);
            a20 = i32x4_add(a20, i32x4_dot_i16x8(x2, w0));
            a21 = i32x4_add(a21, i32x4_dot_i16x8(x2, w1));
            let x3 = v128_load(xc.add(3 * L) as *const v128);
            a30 = i32x4_add(a30, i32x4_dot_i16x8(x3, w0));
            a31 = i32x4_add(a31, i32x4_dot_i16x8(x3, w1));
        }
    }
    let sum = |v: v128| {
        i32x4_extract_lane::<0>(v)
            + i32x4_extract_lane::<1>(v)
            + i32x4_extract_lane::<2>(v)
            + i32x4_extract_lane::<3>(v)
    };
    [
        [sum(a00), sum(a01)],
        [sum(a10), sum(a11)],
        [sum(a20), sum(a21)],
        [sum(a30), sum(a31)],
    ]
}

/// Each row's sum of a packed group layout of `i8` inputs (chunks of 16).
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
fn row_sums(xp: &[i8], kp: usize) -> Vec<i32> {
    use core::arch::wasm32::*;
    const CH: usize = 2 * L;
    let mut out = Vec::with_capacity(xp.len() / kp.max(1));
    for group in xp.chunks_exact(TR * kp) {
        let mut s = [i32x4_splat(0); TR];
        for chunk in group.chunks_exact(TR * CH) {
            for (s, row) in s.iter_mut().zip(chunk.chunks_exact(CH)) {
                // SAFETY: `row` holds 16 bytes.
                let v = unsafe { v128_load(row.as_ptr() as *const v128) };
                *s = i32x4_add(
                    *s,
                    i32x4_extadd_pairwise_i16x8(i16x8_extadd_pairwise_i8x16(v)),
                );
            }
        }
        out.extend(s.map(|v| {
            i32x4_extract_lane::<0>(v)
                + i32x4_extract_lane::<1>(v)
                + i32x4_extract_lane::<2>(v)
                + i32x4_extract_lane::<3>(v)
        }));
    }
    out
}

/// [`tile`] with relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s`:
/// sixteen multiply-adds per instruction, `i8` inputs times 7-bit
/// weights (stored plus 64; the caller takes `64 · Σ x` off).
///
/// With `FUSED` false, each of those is `i16x8.relaxed_dot_i8x16_i7x16_s`
/// (pairs of products, which fit i16 exactly: |x| ≤ 127, 1 ≤ w ≤ 127), then
/// `i32x4.dot_i16x8_s` by `ones` (eight 1s: adjacent pairs summed into
/// i32) and `i32x4.add`: the same exact sums. On x86-64 CPUs without
/// AVX-VNNI that is `vpmaddubsw`, `vpmaddwd` and `vpaddd`, three
/// instructions for sixteen multiply-adds where SIMD128's [`tile`] needs
/// four (two `vpmaddwd`, two `vpaddd`). V8 lowers the fused instruction
/// there to the same three plus two that rebuild a ones vector each time
/// (`vpcmpeqd`, `vpsrlw`), and it fuses `i32x4.extadd_pairwise_i16x8_s`
/// of the i16 dot product back into that form, hence `i32x4.dot_i16x8_s`
/// by a register of ones (Chromium 156, `--no-enable-avx-vnni`,
/// 128 × 1536 × 384: fused 26.8, extadd form 27.0, this form 51.7 G
/// multiply-adds/s, SIMD128's tile 41.0). Where V8 has AVX-VNNI the fused
/// one is a single `vpdpbusd` (85.8 against 52.4). [`choose_kernel`] times
/// both.
#[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
#[target_feature(enable = "relaxed-simd")]
#[inline]
fn tile_relaxed<const FUSED: bool>(
    x: &[i8],
    w: &[i8],
    kp: usize,
    ones: core::arch::wasm32::v128,
) -> [core::arch::wasm32::v128; 2] {
    use core::arch::wasm32::*;
    const CH: usize = 2 * L;
    #[inline(always)]
    fn dot<const FUSED: bool>(x: v128, w: v128, acc: v128, ones: v128) -> v128 {
        if FUSED {
            i32x4_relaxed_dot_i8x16_i7x16_add(x, w, acc)
        } else {
            i32x4_add(
                acc,
                i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(x, w), ones),
            )
        }
    }
    assert!(x.len() >= TR * kp && w.len() >= TC * kp && kp.is_multiple_of(CH));
    let z = i32x4_splat(0);
    let (mut a00, mut a01, mut a10, mut a11) = (z, z, z, z);
    let (mut a20, mut a21, mut a30, mut a31) = (z, z, z, z);
    let (xs, ws) = (x.as_ptr(), w.as_ptr());
    for c in 0..kp / CH {
        // SAFETY: chunk c of the group lies at c·TR·16..(c+1)·TR·16 of x and
        // c·TC·16..(c+1)·TC·16 of w, inside the lengths asserted above.
        unsafe {
            let xc = xs.add(c * TR * CH);
            let wc = ws.add(c * TC * CH);
            let w0 = v128_load(wc as *const v128);
            let w1 = v128_load(wc.add(CH) as *const v128);
            let x0 = v128_load(xc as *const v128);
            a00 = dot::<FUSED>(x0, w0, a00, ones);
            a01 = dot::<FUSED>(x0, w1, a01, ones);
            let x1 = v128_load(xc.add(CH) as *const v128);
            a10 = dot::<FUSED>(x1, w0, a10, ones);
            a11 = dot::<FUSED>(x1, w1, a11, ones);
            let x2 = v128_load(xc.add(2 * CH) as *const v128);
            a20 = dot::<FUSED>(x2, w0, a20, ones);
            a21 = dot::<FUSED>(x2, w1, a21, ones);
            let x3 = v128_load(xc.add(3 * CH) as *const v128);
            a30 = dot::<FUSED>(x3, w0, a30, ones);
            a31 = dot::<FUSED>(x3, w1, a31, ones);
        }
    }
    // Two rows' four sums: two rounds of unpack-and-add (lanes 0, 1: the
    // first row's two outputs; 2, 3: the second row's).
    let rows = |a: v128, b: v128, c: v128, d: v128| {
        let ab = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(a, b),
            i32x4_shuffle::<2, 6, 3, 7>(a, b),
        );
        let cd = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(c, d),
            i32x4_shuffle::<2, 6, 3, 7>(c, d),
        );
        i32x4_add(i64x2_shuffle::<0, 2>(ab, cd), i64x2_shuffle::<1, 3>(ab, cd))
    };
    [rows(a00, a01, a10, a11), rows(a20, a21, a30, a31)]
}

/// The same with SSE2 (every x86-64 CPU): `pmaddwd` is what
/// `i32x4.dot_i16x8_s` compiles to.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tile(x: &[i16], w: &[i16], kp: usize) -> [[i32; TC]; TR] {
    use core::arch::x86_64::*;
    assert!(x.len() >= TR * kp && w.len() >= TC * kp && kp.is_multiple_of(L));
    // SAFETY: SSE2 is part of x86-64; every load reads 8 values of chunk
    // c, inside the lengths asserted above.
    unsafe {
        let z = _mm_setzero_si128();
        let mut acc = [[z; TC]; TR];
        let (xs, ws) = (x.as_ptr(), w.as_ptr());
        for c in 0..kp / L {
            let xc = xs.add(c * TR * L);
            let wc = ws.add(c * TC * L);
            let w0 = _mm_loadu_si128(wc as *const __m128i);
            let w1 = _mm_loadu_si128(wc.add(L) as *const __m128i);
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = _mm_loadu_si128(xc.add(r * L) as *const __m128i);
                a[0] = _mm_add_epi32(a[0], _mm_madd_epi16(xv, w0));
                a[1] = _mm_add_epi32(a[1], _mm_madd_epi16(xv, w1));
            }
        }
        acc.map(|row| {
            row.map(|v| {
                let mut lanes = [0i32; 4];
                _mm_storeu_si128(lanes.as_mut_ptr() as *mut __m128i, v);
                lanes.iter().sum()
            })
        })
    }
}

/// The same sums in plain Rust (lanes of 8).
#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
fn tile(x: &[i16], w: &[i16], kp: usize) -> [[i32; TC]; TR] {
    let mut acc = [[[0i32; L]; TC]; TR];
    for (xc, wc) in x[..TR * kp]
        .chunks_exact(TR * L)
        .zip(w[..TC * kp].chunks_exact(TC * L))
    {
        for (r, xr) in xc.chunks_exact(L).enumerate() {
            for (o, wo) in wc.chunks_exact(L).enumerate() {
                for l in 0..L {
                    acc[r][o][l] += xr[l] as i32 * wo[l] as i32;
                }
            }
        }
    }
    acc.map(|row| row.map(|lanes| lanes.iter().sum()))
}

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn reference(x: &[f32], w: &[f32], bias: &[f32], k: usize) -> Vec<f32> {
        let n = bias.len();
        let rows = x.len() / k;
        let mut out = vec![0f32; rows * n];
        for r in 0..rows {
            for j in 0..n {
                out[r * n + j] = (0..k).map(|i| x[r * k + i] * w[j * k + i]).sum::<f32>() + bias[j];
            }
        }
        out
    }

    /// Random inputs `[rows, k]`, weight `[n, k]` and bias for one shape.
    fn random_case(rows: usize, n: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut seed = seed;
        let x = (0..rows * k).map(|_| lcg(&mut seed)).collect();
        let w = (0..n * k).map(|_| lcg(&mut seed) * 0.1).collect();
        let bias = (0..n).map(|_| lcg(&mut seed)).collect();
        (x, w, bias)
    }

    /// Each product's relative error is at most about 2 / 127; over k
    /// terms of random sign the sum's error grows like √k.
    fn assert_near_f32(got: &[f32], x: &[f32], w: &[f32], bias: &[f32], k: usize, what: &str) {
        let tol = 0.1 * 2.0 / 127.0 * (k as f32).sqrt();
        for (g, e) in got.iter().zip(reference(x, w, bias, k)) {
            assert!((g - e).abs() <= tol, "{what}: {g} vs {e}");
        }
    }

    #[test]
    fn integer_products_are_exact_on_integer_data() {
        // Input rows whose largest value is 127 and weight rows whose
        // largest is 63 quantize exactly (scale 1).
        let (k, n, rows) = (16, 3, 5);
        let mut seed = 7;
        let mut ints = |len: usize, max: f32| -> Vec<f32> {
            let mut v: Vec<f32> = (0..len).map(|_| (lcg(&mut seed) * max).round()).collect();
            for row in v.chunks_mut(k) {
                row[0] = max;
            }
            v
        };
        let x = ints(rows * k, INPUT_MAX);
        let w = ints(n * k, WEIGHT_MAX);
        let bias = [0.5, -1.0, 2.0];
        let m = Int8Matrix::from_f32(&w, n, k);
        assert_eq!(m.matmul(&x, &bias), reference(&x, &w, &bias, k));
    }

    #[test]
    fn products_match_f32_within_quantization_error() {
        // Every tile shape: rows and outputs that are not multiples of the
        // 4 × 2 tile, inputs that are (384) and are not (13) multiples of 8.
        for (rows, n, k) in [
            (1, 1, 384),
            (5, 3, 384),
            (7, 9, 40),
            (4, 2, 13),
            (3, 5, 1536),
        ] {
            let (x, w, bias) = random_case(rows, n, k, (rows * 1000 + n * 10 + k) as u64);
            let got = Int8Matrix::from_f32(&w, n, k).matmul(&x, &bias);
            assert_near_f32(&got, &x, &w, &bias, k, &format!("{rows}×{n}×{k}"));
        }
    }

    #[test]
    fn every_kernel_and_thread_count_gives_the_same_sums() {
        // The integer sums are exact, so the wide kernel (AVX-512 VNNI where
        // the CPU has it), the output blocks and the row groups shared over
        // threads must give bit-identical results to one portable thread:
        // shapes with a partial row group, outputs that are not a multiple
        // of the wide tile, more pairs than one block, enough products for
        // the parallel path.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        eprintln!("kernel on this CPU: {:?}", Kernel::detect());
        let parallel = (261, 384, 672);
        assert!(parallel.0 * parallel.1 * parallel.2 >= PARALLEL_MIN_PRODUCTS);
        for (rows, n, k) in [
            parallel,
            (37, 300, 400),
            (5, 1536, 384),
            (130, 38, 1536),
            (2, 8, 8),
            (9, 11, 24),
        ] {
            let (x, w, bias) = random_case(rows, n, k, (rows * 7 + n * 3 + k) as u64);
            let portable = Int8Matrix::from_f32_for(Kernel::Portable, &w, n, k);
            let want = one.install(|| portable.matmul(&x, &bias));
            let got = three.install(|| Int8Matrix::from_f32(&w, n, k).matmul(&x, &bias));
            assert!(got == want, "{rows}×{n}×{k}");
            assert_near_f32(&got, &x, &w, &bias, k, &format!("{rows}×{n}×{k}"));
        }
    }

    #[test]
    fn quantized_values_land_in_the_packed_layout_rounded_half_to_even() {
        // Row 0's largest value is 127 (scale 1), so x.5 values are ties:
        // 2.5 → 2, 3.5 → 4, -2.5 → -2. Other rows: random values in groups
        // of 4 rows, k = 13 (a partial chunk), 6 rows (a partial group).
        let (k, g, rows) = (13, 4, 6);
        let mut seed = 11;
        let mut v: Vec<f32> = (0..rows * k).map(|_| lcg(&mut seed) * 3.0).collect();
        v[..6].copy_from_slice(&[127.0, 2.5, 3.5, -2.5, 0.5, -1.5]);
        let (q, s, kp) = quantize_packed(&v, k, g);
        assert_eq!((kp, q.len(), s.len()), (16, 2 * g * 16, rows));
        assert_eq!(&q[..6], &[127, 2, 4, -2, 0, -2]);
        for r in 0..8 {
            for c in 0..kp {
                let got = q[(r / g) * g * kp + (c / L) * g * L + (r % g) * L + c % L];
                let want = if r < rows && c < k {
                    let inv = if s[r] > 0.0 { 1.0 / s[r] } else { 0.0 };
                    (v[r * k + c] * inv).round_ties_even().clamp(-127.0, 127.0) as i16
                } else {
                    0
                };
                assert_eq!(got, want, "row {r}, column {c}");
            }
        }
    }

    #[test]
    fn rows_longer_than_a_cache_block_still_multiply() {
        // One weight pair of 2 × 140,000 values is larger than a 256 KiB
        // output block, and with the VNNI kernel's offset inputs the sums
        // (Σ 255 · 63) pass 2³¹ while the true ones (Σ 127 · 63) do not.
        let k = 140_000;
        for kernel in [Kernel::Portable, Kernel::detect()] {
            let (x, w, bias) = random_case(2, 2, k, 5);
            let got = Int8Matrix::from_f32_for(kernel, &w, 2, k).matmul(&x, &bias);
            assert_near_f32(&got, &x, &w, &bias, k, &format!("{kernel:?}"));
            let (x, w) = (vec![INPUT_MAX; 2 * k], vec![WEIGHT_MAX; 2 * k]);
            let got = Int8Matrix::from_f32_for(kernel, &w, 2, k).matmul(&x, &[0.0, 0.0]);
            let want = (INPUT_MAX as i64 * WEIGHT_MAX as i64 * k as i64) as f32;
            assert_eq!(got, vec![want; 4], "{kernel:?}");
        }
    }

    #[test]
    fn zeros_and_non_finite_values_do_not_poison_the_scale() {
        let (q, s, kp) = quantize_packed(&[0.0, 0.0, 0.0, f32::NAN, f32::INFINITY, -2.0], 3, 1);
        assert_eq!(kp, 8);
        assert_eq!(s[0], 0.0);
        assert_eq!(&q[..8], &[0; 8]);
        // NaN and infinity become 0; the row's finite values keep their scale.
        assert_eq!(s[1], 2.0 / 127.0);
        assert_eq!(&q[8..], &[0, 0, -127, 0, 0, 0, 0, 0]);
        let m = Int8Matrix::from_f32(&[1.0, 2.0], 1, 2);
        assert_eq!(m.matmul(&[0.0, 0.0], &[3.0]), vec![3.0]);
    }
}
