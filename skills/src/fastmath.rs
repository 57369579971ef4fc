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

/// `eˣ` (Cephes' `expf`: range reduction by ln 2 in two parts, a degree-5
/// polynomial, the power of two built in the exponent bits). Inputs below
/// −87.3 give 0 (within 10⁻³⁸), above 88.3 are clamped; NaN gives NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    let nan = x.is_nan();
    let tiny = x < -87.3;
    let x = x.clamp(-87.3, 88.3);
    // Ties to even: one SIMD instruction (f32x4.nearest, roundps), where
    // `round`'s ties away from zero is a libm call.
    let n = (x * LOG2E).round_ties_even();
    let r = x - n * C1 - n * C2;
    let r2 = r * r;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let y = p * r2 + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) << 23) as u32);
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
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024_1e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_600e-3;
    p = p * x2 - 1.609_603_3e-2;
    let p = p * x;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_474e-2;
    p / q
}

/// Exact (erf) GELU, in place: `x · (1 + erf(x / √2)) / 2`.
pub fn gelu_in_place(xs: &mut [f32]) {
    for v in xs.iter_mut() {
        let x = *v;
        *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Softmax of each row of `n` values, in place.
pub fn softmax_rows_in_place(xs: &mut [f32], n: usize) {
    if n == 0 {
        return;
    }
    for row in xs.chunks_exact_mut(n) {
        let max = lanes(row, f32::NEG_INFINITY, |m, v| if v > m { v } else { m });
        // Separate passes, and sums in 8 lanes: a single running sum would
        // keep the compiler from vectorising (float addition is not
        // reassociated).
        for v in row.iter_mut() {
            *v = exp(*v - max);
        }
        let inv = 1.0 / lanes(row, 0.0, |s, v| s + v);
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

/// Folds `xs` with `f` in 8 independent lanes, then folds the lanes.
#[inline(always)]
fn lanes(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] = f(acc[i], c[i]);
        }
    }
    let mut r = init;
    for &v in acc.iter().chain(chunks.remainder()) {
        r = f(r, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

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
