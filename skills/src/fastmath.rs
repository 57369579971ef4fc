//! `exp`, `erf`, softmax and exact GELU for inference, written so that the
//! compiler vectorises them (WebAssembly SIMD128 included): polynomials,
//! `min`/`max`, rounding and bit shifts, no calls into libm. candle's CPU
//! softmax and `gelu_erf` call libm's `expf` / `erff` one value at a time,
//! which in the browser was a fifth of a forward pass (BENCHMARKS.md).
//!
//! Accuracy (tested against the standard library over dense grids):
//! `exp` within 2 · 10⁻⁷ relative, `erf` within 10⁻⁶ absolute — far below
//! the weights' quantization error. Training keeps candle's differentiable
//! ops.

/// Cephes' `expf` ([`exp`], and the browser's four-lane
/// [`crate::lanes::exp_le0`]): ln 2 in two parts, the shift that rounds
/// `x · log₂e` to an integer (1.5 · 2²³), the inputs' range, and the
/// polynomial's coefficients, highest degree first.
pub(crate) const EXP_LN2_HI: f32 = 0.693_359_4;
pub(crate) const EXP_LN2_LO: f32 = -2.121_944_4e-4;
pub(crate) const EXP_SHIFT: f32 = 12_582_912.0;
pub(crate) const EXP_MIN: f32 = -87.3;
const EXP_MAX: f32 = 88.3;
#[allow(clippy::excessive_precision)] // Cephes' digits
pub(crate) const EXP_POLY: [f32; 6] = [
    1.987_569_2e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5.000_000_1e-1,
];

/// [`erf`]'s rational approximation (Eigen's and XLA's for f32, with the
/// browser's four-lane [`crate::lanes::gelu`]): the numerator's and the
/// denominator's coefficients in `x²`, highest degree first.
#[allow(clippy::excessive_precision)] // Eigen's digits
pub(crate) const ERF_P: [f32; 7] = [
    -2.726_142_3e-10,
    2.770_681_4e-8,
    -2.101_024_1e-6,
    -5.692_506_4e-5,
    -7.349_906_3e-4,
    -2.954_600e-3,
    -1.609_603_3e-2,
];
pub(crate) const ERF_Q: [f32; 5] = [
    -1.456_607_2e-5,
    -2.133_740_6e-4,
    -1.682_827e-3,
    -7.373_329e-3,
    -1.426_474e-2,
];

/// `eˣ` (Cephes' `expf`: range reduction by ln 2 in two parts, a degree-5
/// polynomial, the power of two built in the exponent bits). Inputs below
/// −87.3 give 0 (within 10⁻³⁸), above 88.3 are clamped; NaN gives NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Rounding by adding 1.5 · 2²³ (EXP_SHIFT: to nearest, ties to even,
    // exact here: |x · log₂e| ≤ 128), 2ⁿ from the sum's bits, comparisons
    // rather than `clamp`: all plain SIMD arithmetic on any target.
    // `round_ties_even` is one instruction only where the target has it
    // (wasm's f32x4.nearest, SSE4.1's roundps): on x86-64's baseline it was
    // a libm call per value, and the saturating `as i32` kept the loop
    // scalar (native softmax 10 → 2 ns a value).
    let nan = x.is_nan();
    let tiny = x < EXP_MIN;
    let x = if x > EXP_MAX { EXP_MAX } else { x };
    let x = if x < EXP_MIN { EXP_MIN } else { x };
    let t = x * LOG2E + EXP_SHIFT;
    let n = t - EXP_SHIFT;
    let r = x - n * EXP_LN2_HI - n * EXP_LN2_LO;
    let r2 = r * r;
    let mut p = EXP_POLY[0];
    for c in &EXP_POLY[1..] {
        p = p * r + c;
    }
    let y = p * r2 + r + 1.0;
    // t's bits are 0x4B40_0000 + n.
    let scale = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127) << 23);
    let v = y * scale;
    if nan {
        f32::NAN
    } else if tiny {
        0.0
    } else {
        v
    }
}

/// The error function (the rational approximation Eigen and XLA use for
/// f32: odd numerator of degree 13 over an even denominator of degree 8,
/// input clamped to ±4, where erf is ±1 in f32).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = ERF_P[0];
    for c in &ERF_P[1..] {
        p = p * x2 + c;
    }
    let p = p * x;
    let mut q = ERF_Q[0];
    for c in &ERF_Q[1..] {
        q = q * x2 + c;
    }
    p / q
}

/// Exact (erf) GELU, in place: `x · (1 + erf(x / √2)) / 2`. In the
/// browser four lanes at a time ([`crate::lanes::gelu`]: multiply-adds,
/// fused in the relaxed SIMD build).
pub fn gelu_in_place(xs: &mut [f32]) {
    #[cfg(target_arch = "wasm32")]
    gelu_lanes(xs);
    #[cfg(not(target_arch = "wasm32"))]
    par_rows(xs, 1, |_, part| {
        for v in part.iter_mut() {
            let x = *v;
            *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
        }
    });
}

/// [`gelu_in_place`] with [`crate::lanes::gelu`].
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "relaxed-simd"),
    target_feature(enable = "relaxed-simd")
)]
fn gelu_lanes(xs: &mut [f32]) {
    use crate::lanes;
    let mut chunks = xs.chunks_exact_mut(4);
    for c in chunks.by_ref() {
        // SAFETY: c holds 4 values.
        unsafe { lanes::store(c.as_mut_ptr(), lanes::gelu(lanes::load(c.as_ptr()))) }
    }
    for v in chunks.into_remainder() {
        let x = *v;
        *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Softmax of each row of `n` values, in place.
pub fn softmax_rows_in_place(xs: &mut [f32], n: usize) {
    softmax_rows_in_place_biased(xs, n, None, 1)
}

/// Softmax of each row of `n` values plus a bias row, in place: row `r`
/// gets `bias[(r / rows_per_bias) · n..][..n]` added first (attention's
/// padding mask: one bias row per sentence, `heads · T` score rows each).
/// Natively, large inputs are shared out over rayon's threads.
pub fn softmax_rows_in_place_biased(
    xs: &mut [f32],
    n: usize,
    bias: Option<&[f32]>,
    rows_per_bias: usize,
) {
    if n == 0 {
        return;
    }
    let rows_per_bias = rows_per_bias.max(1);
    if let Some(b) = bias {
        assert!(
            b.len() >= (xs.len() / n).div_ceil(rows_per_bias) * n,
            "one bias row per {rows_per_bias} rows"
        );
    }
    let softmax = |first_row: usize, part: &mut [f32]| {
        for (i, row) in part.chunks_exact_mut(n).enumerate() {
            if let Some(b) = bias {
                let at = (first_row + i) / rows_per_bias * n;
                for (v, b) in row.iter_mut().zip(&b[at..at + n]) {
                    *v += b;
                }
            }
            softmax_row(row);
        }
    };
    par_rows(xs, n, softmax);
}

/// Calls `f(first row, rows)` on all of `xs` (rows of `n`), natively in
/// parts over rayon's threads when there is enough work to share.
fn par_rows(xs: &mut [f32], n: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        const PARALLEL_MIN_VALUES: usize = 1 << 18;
        let threads = rayon::current_num_threads();
        let rows = xs.len() / n.max(1);
        if threads > 1 && xs.len() >= PARALLEL_MIN_VALUES && n > 0 && rows > 0 {
            use rayon::prelude::*;
            let per = rows.div_ceil(threads);
            xs.par_chunks_mut(per * n)
                .enumerate()
                .for_each(|(i, part)| f(i * per, part));
            return;
        }
    }
    let _ = n;
    f(0, xs)
}

/// Softmax of one row, in place.
pub(crate) fn softmax_row(row: &mut [f32]) {
    let max = lanes(
        row,
        f32::NEG_INFINITY,
        |v| v,
        |m, v| if v > m { v } else { m },
    );
    // Separate passes, and sums in 8 lanes: a single running sum would
    // keep the compiler from vectorising (float addition is not
    // reassociated).
    for v in row.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / sum(row, |v| v);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// Layer normalisation of `xs + residual`, row by row (rows of
/// `weight.len()` values), into `xs`: `(x − mean) / √(var + eps) · weight
/// + bias`, the mean and the (biased) variance in two passes.
pub fn add_layer_norm_in_place(
    xs: &mut [f32],
    residual: &[f32],
    weight: &[f32],
    bias: &[f32],
    eps: f32,
) {
    let n = weight.len();
    assert!(n > 0 && bias.len() == n && xs.len() == residual.len() && xs.len().is_multiple_of(n));
    for (row, res) in xs.chunks_exact_mut(n).zip(residual.chunks_exact(n)) {
        for (v, r) in row.iter_mut().zip(res) {
            *v += r;
        }
        let mean = sum(row, |v| v) / n as f32;
        for v in row.iter_mut() {
            *v -= mean;
        }
        let var = sum(row, |v| v * v) / n as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = *v * inv * w + b;
        }
    }
}

/// The sum of `map` over `xs`, in 8 lanes.
#[inline(always)]
fn sum(xs: &[f32], map: impl Fn(f32) -> f32) -> f32 {
    lanes(xs, 0.0, map, |s, v| s + v)
}

/// Folds `map(x)` for each `x` of `xs` with `f` in 8 independent lanes,
/// then folds the lanes and the values past the last whole 8.
#[inline(always)]
fn lanes(xs: &[f32], init: f32, map: impl Fn(f32) -> f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] = f(acc[i], map(c[i]));
        }
    }
    let mut r = init;
    for &v in &acc {
        r = f(r, v);
    }
    for &v in chunks.remainder() {
        r = f(r, map(v));
    }
    r
}

// Native: these use native-only dev-dependencies (proptest, libm, rayon);
// the library's browser tests are tests/browser.rs.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_four_lane_gelu_matches_the_scalar_one() {
        // 41 values: whole chunks of 4 and a remainder; past ±4·√2 erf is ±1.
        let xs: Vec<f32> = (0..=40_000)
            .map(|i| (i as f32 - 20_000.0) / 2_000.0)
            .collect();
        for part in [&xs[..], &xs[..41]] {
            let mut got = part.to_vec();
            gelu_lanes(&mut got);
            for (&x, &g) in part.iter().zip(&got) {
                let want = 0.5 * x as f64 * (1.0 + libm::erf(x as f64 / std::f64::consts::SQRT_2));
                assert!(
                    (g as f64 - want).abs() <= 2e-6 * (1.0 + want.abs()),
                    "gelu({x}) = {g}, want {want}"
                );
            }
        }
        let mut nan = [f32::NAN; 5];
        gelu_lanes(&mut nan);
        assert!(nan.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn add_layer_norm_matches_a_double_precision_reference() {
        let n = 13;
        let xs: Vec<f32> = (0..3 * n)
            .map(|i| ((i * 37) % 23) as f32 * 0.7 - 5.0)
            .collect();
        let res: Vec<f32> = (0..3 * n).map(|i| ((i * 11) % 7) as f32 * 100.0).collect();
        let w: Vec<f32> = (0..n).map(|i| 0.5 + i as f32 * 0.1).collect();
        let b: Vec<f32> = (0..n).map(|i| i as f32 * -0.2).collect();
        let mut got = xs.clone();
        add_layer_norm_in_place(&mut got, &res, &w, &b, 1e-12);
        for r in 0..3 {
            let x: Vec<f64> = (0..n)
                .map(|i| xs[r * n + i] as f64 + res[r * n + i] as f64)
                .collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            for i in 0..n {
                let want = (x[i] - mean) / (var + 1e-12).sqrt() * w[i] as f64 + b[i] as f64;
                let g = got[r * n + i] as f64;
                assert!(
                    (g - want).abs() < 1e-5 * (1.0 + want.abs()),
                    "row {r} [{i}]: {g} vs {want}"
                );
            }
        }
    }

    #[test]
    fn biased_softmax_adds_each_sentences_bias_row() {
        // 2 sentences × 3 rows of 4 scores; sentence 1 masks its last key.
        let n = 4;
        let xs: Vec<f32> = (0..24).map(|i| (i as f32 * 0.37).sin()).collect();
        let bias = [0.0, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0, -1e9];
        let mut got = xs.clone();
        softmax_rows_in_place_biased(&mut got, n, Some(&bias), 3);
        for r in 0..6 {
            let b = &bias[(r / 3) * n..][..n];
            let mut row: Vec<f32> = (0..n).map(|i| xs[r * n + i] + b[i]).collect();
            softmax_rows_in_place(&mut row, n);
            for i in 0..n {
                assert!((got[r * n + i] - row[i]).abs() < 1e-7, "row {r}");
            }
        }
        assert_eq!(got[23], 0.0);
    }

    #[test]
    fn exp_is_bit_identical_to_its_libm_rounding_form() {
        // The form before the SIMD-friendly rounding: the shipped model's
        // answers (and their test fixtures) must not move.
        fn reference(x: f32) -> f32 {
            let nan = x.is_nan();
            let tiny = x < -87.3;
            let x = x.clamp(-87.3, 88.3);
            let n = (x * std::f32::consts::LOG2_E).round_ties_even();
            let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
            let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r
                + 4.166_579_6e-2)
                * r
                + 1.666_666_5e-1)
                * r
                + 5.000_000_1e-1;
            let y = p * (r * r) + r + 1.0;
            let v = y * f32::from_bits(((n as i32 + 127) << 23) as u32);
            if nan {
                f32::NAN
            } else if tiny {
                0.0
            } else {
                v
            }
        }
        let grid = (-1_000_000..=1_000_000).map(|k| k as f32 * 1e-4);
        let edges = [
            -100.0,
            -87.3,
            -87.2,
            88.2,
            88.3,
            88.4,
            1e9,
            -1e9,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        for x in grid.chain(edges) {
            assert_eq!(exp(x).to_bits(), reference(x).to_bits(), "{x}");
        }
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn exp_matches_the_standard_library() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.3 {
            let want = (x as f64).exp();
            let rel = ((exp(x) as f64 - want) / want).abs();
            worst = worst.max(rel);
            x += 0.0137;
        }
        assert!(worst < 2e-7, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1000.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn erf_matches_the_standard_library() {
        let mut worst = 0f64;
        let mut x = -6.0f32;
        while x < 6.0 {
            let want = libm::erf(x as f64);
            worst = worst.max((erf(x) as f64 - want).abs());
            x += 0.001;
        }
        assert!(worst < 1e-6, "worst absolute error {worst:e}");
        assert_eq!(erf(0.0), 0.0);
        assert!((erf(10.0) - 1.0).abs() < 1e-6);
        assert!((erf(-10.0) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn softmax_and_gelu_match_candle() {
        use candle_core::{Device, Tensor};
        let n = 37;
        let xs: Vec<f32> = (0..5 * n)
            .map(|i| ((i * 7919) % 201) as f32 / 10.0 - 10.0)
            .collect();
        let t = Tensor::from_vec(xs.clone(), (5, n), &Device::Cpu).unwrap();
        let want = candle_nn::ops::softmax_last_dim(&t)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let mut got = xs.clone();
        softmax_rows_in_place(&mut got, n);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "softmax {g} vs {w}");
        }
        let want = t
            .gelu_erf()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let mut got = xs;
        gelu_in_place(&mut got);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 2e-5 * w.abs().max(1.0), "gelu {g} vs {w}");
        }
    }
}
