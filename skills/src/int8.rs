//! Integer matrix products for inference ([`crate::model::Compute::Int8`]).
//!
//! A linear layer's weight is quantized once, at load, to int8 with one
//! scale per output row (symmetric: `w ≈ scale · q`, `q ∈ [-127, 127]`);
//! each call quantizes its input the same way, one scale per row. The
//! products are exact integer dot products, rescaled once per output:
//! `y[r, j] = sx[r] · sw[j] · Σₖ qx[r, k] · qw[j, k] + b[j]`.
//!
//! The values are held as `i16` so that WebAssembly's `i32x4.dot_i16x8_s`
//! (eight multiply-adds in one instruction, what onnxruntime-web's int8
//! kernels use) applies directly; on x86-64 the same kernel uses SSE2's
//! `pmaddwd` (what that wasm instruction compiles to), elsewhere plain
//! Rust. Weights and inputs are packed so that a 4-row × 2-output tile
//! reads both in order. Sums cannot overflow: |q| ≤ 127, so even 100,000
//! products stay below 2³¹.
//!
//! Tried and measured in Chromium (128 tokens, int8 forward ≈ 43 ms):
//! blocking the rows so that weights stream from memory 8× less often
//! (no gain: 44.8 ms; the kernel is not memory-bound) and 6 × 2 tiles
//! (62.8 ms: 12 accumulators spill registers in V8's code), the k loop
//! unrolled by two (52.6 ms), and 2 × 4 tiles whose four sums per row
//! come out of one shuffle tree (43.2 ms: the epilogue is not the cost).

/// A weight matrix `[n, k]` (output rows × inputs), quantized per row and
/// packed for [`tile`]: rows in pairs, each pair's two rows interleaved
/// in chunks of 8 inputs (`k` padded with zeros to a multiple of 8, `n` to
/// a multiple of 2), so that one pointer walks a tile's weights in order.
#[derive(Debug, Clone)]
pub struct Int8Matrix {
    n: usize,
    k: usize,
    /// `k` rounded up to a multiple of 8.
    kp: usize,
    /// `n / 2` (rounded up) pairs of `2 · kp` values in `[-127, 127]`.
    packed: Vec<i16>,
    /// One scale per row.
    scale: Vec<f32>,
}

/// Rows per tile (inputs) and outputs per tile (weight rows): 8
/// accumulators and 6 loads per step stay in the 16 SIMD registers.
const TR: usize = 4;
const TC: usize = 2;
/// Values per SIMD load (8 × i16).
const L: usize = 8;

/// `values` (whole rows of `k`) quantized per row: the `i16` values and
/// one scale per row. A row of zeros gets scale 0.
pub fn quantize_rows(values: &[f32], k: usize) -> (Vec<i16>, Vec<f32>) {
    let rows = if k == 0 { 0 } else { values.len() / k };
    let mut q = Vec::with_capacity(values.len());
    let mut scale = Vec::with_capacity(rows);
    for row in values.chunks_exact(k.max(1)).take(rows) {
        // NaN and infinity cannot be represented: they quantize as 0 and
        // leave the scale finite (the f32 path would propagate them).
        let max = row
            .iter()
            .filter(|v| v.is_finite())
            .fold(0f32, |m, v| m.max(v.abs()));
        let s = max / 127.0;
        let inv = if s > 0.0 { 1.0 / s } else { 0.0 };
        q.extend(row.iter().map(|v| {
            // Ties to even: one SIMD instruction, where `round` is a libm call.
            let x = (v * inv).round_ties_even();
            if x.is_finite() {
                x.clamp(-127.0, 127.0) as i16
            } else {
                0
            }
        }));
        scale.push(s);
    }
    (q, scale)
}

/// Interleaves groups of `g` rows of `q` (`k` values each) in chunks of
/// [`L`]: group by group, chunk by chunk, row by row; missing rows and
/// columns are zeros.
fn pack(q: &[i16], rows: usize, k: usize, g: usize) -> (Vec<i16>, usize) {
    let kp = k.div_ceil(L) * L;
    let groups = rows.div_ceil(g);
    let mut out = vec![0i16; groups * g * kp];
    for r in 0..rows {
        let (grp, i) = (r / g, r % g);
        for (c, chunk) in q[r * k..(r + 1) * k].chunks(L).enumerate() {
            let at = grp * g * kp + c * g * L + i * L;
            out[at..at + chunk.len()].copy_from_slice(chunk);
        }
    }
    (out, kp)
}

impl Int8Matrix {
    /// Quantizes `w`, `n` rows of `k` values (row-major).
    pub fn from_f32(w: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(w.len(), n * k, "a {n} × {k} matrix has {} values", n * k);
        let (q, scale) = quantize_rows(w, k);
        let (packed, kp) = pack(&q, n, k, TC);
        Self {
            n,
            k,
            kp,
            packed,
            scale,
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
        let rows = if self.k == 0 { 0 } else { x.len() / self.k };
        let (qx, sx) = quantize_rows(x, self.k);
        let (xp, _) = pack(&qx, rows, self.k, TR);
        let (n, kp) = (self.n, self.kp);
        let mut out = vec![0f32; rows * n];
        for g in 0..rows.div_ceil(TR) {
            let xg = &xp[g * TR * kp..(g + 1) * TR * kp];
            for p in 0..n.div_ceil(TC) {
                let wp = &self.packed[p * TC * kp..(p + 1) * TC * kp];
                let sums = tile(xg, wp, kp);
                for (i, row) in sums.iter().enumerate() {
                    let r = g * TR + i;
                    if r >= rows {
                        break;
                    }
                    for (o, &dot) in row.iter().enumerate() {
                        let j = p * TC + o;
                        if j < n {
                            out[r * n + j] = dot as f32 * sx[r] * self.scale[j] + bias[j];
                        }
                    }
                }
            }
        }
        out
    }
}

/// The [`TR`] × [`TC`] dot products of a packed group of input rows and a
/// packed pair of weight rows, `kp` values each.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn tile(x: &[i16], w: &[i16], kp: usize) -> [[i32; TC]; TR] {
    use core::arch::wasm32::*;
    assert!(x.len() >= TR * kp && w.len() >= TC * kp && kp % L == 0);
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

/// The same with SSE2 (every x86-64 CPU): `pmaddwd` is what
/// `i32x4.dot_i16x8_s` compiles to.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tile(x: &[i16], w: &[i16], kp: usize) -> [[i32; TC]; TR] {
    use core::arch::x86_64::*;
    assert!(x.len() >= TR * kp && w.len() >= TC * kp && kp % L == 0);
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

#[cfg(test)]
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

    #[test]
    fn integer_products_are_exact_on_integer_data() {
        // Rows whose largest value is 127 quantize exactly (scale 1).
        let (k, n, rows) = (16, 3, 5);
        let mut seed = 7;
        let mut ints = |len: usize| -> Vec<f32> {
            let mut v: Vec<f32> = (0..len).map(|_| (lcg(&mut seed) * 127.0).round()).collect();
            for row in v.chunks_mut(k) {
                row[0] = 127.0;
            }
            v
        };
        let x = ints(rows * k);
        let w = ints(n * k);
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
            let mut seed = (rows * 1000 + n * 10 + k) as u64;
            let x: Vec<f32> = (0..rows * k).map(|_| lcg(&mut seed)).collect();
            let w: Vec<f32> = (0..n * k).map(|_| lcg(&mut seed) * 0.1).collect();
            let bias: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
            let got = Int8Matrix::from_f32(&w, n, k).matmul(&x, &bias);
            let want = reference(&x, &w, &bias, k);
            // Each product's relative error is at most about 2 / 127; over
            // k terms of random sign the sum's error grows like √k.
            let tol = 0.1 * 2.0 / 127.0 * (k as f32).sqrt();
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() <= tol, "{rows}×{n}×{k}: {g} vs {e}");
            }
        }
    }

    #[test]
    fn zeros_and_non_finite_values_do_not_poison_the_scale() {
        let (q, s) = quantize_rows(&[0.0, 0.0, 0.0, f32::NAN, f32::INFINITY, -2.0], 3);
        assert_eq!(s[0], 0.0);
        assert_eq!(&q[..3], &[0, 0, 0]);
        // NaN and infinity become 0; the row's finite values keep their scale.
        assert_eq!(s[1], 2.0 / 127.0);
        assert_eq!(&q[3..], &[0, 0, -127]);
        let m = Int8Matrix::from_f32(&[1.0, 2.0], 1, 2);
        assert_eq!(m.matmul(&[0.0, 0.0], &[3.0]), vec![3.0]);
    }
}
