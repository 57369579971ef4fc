//! Multi-head scaled dot-product attention for inference in the browser:
//! `softmax(q_h · k_hᵀ / √d + bias) · v_h` for every head `h`, read straight
//! from the `[B, T, dim]` query, key and value rows and written straight
//! into the `[B, T, dim]` context (no split or merge of the heads).
//!
//! Both products are register tiles of 4 rows × 8 columns in four-lane
//! vectors. In the relaxed SIMD build (skills' `relaxed-simd` feature) each
//! multiply-add is `f32x4.relaxed_madd`, which V8 lowers to one `vfmadd`
//! where the CPU has FMA (every x86-64 CPU with AVX2); in the SIMD128 build
//! it is `f32x4.mul` then `f32x4.add`. candle's matrix products (the
//! `gemm` crate) take neither FMA nor the head layout in wasm: at 128
//! tokens they were 6 ms of a 38 ms forward (BENCHMARKS.md). Natively the
//! model keeps candle's products (FMA, threads); this code's portable form
//! is what the native tests check.
//!
//! The sums run in another order than candle's (and, with FMA, round
//! once per multiply-add): the context differs from candle's in its last
//! bits, as wasm's and native f32 results already did
//! (`tests/common/shipped.rs`).

use crate::lanes;
use crate::profile::lap;

/// Rows per tile.
const R: usize = 4;
/// Columns per tile: two vectors.
const C: usize = 8;

/// Queries, keys and values of `B · T` tokens, `dim` values each: row `i`
/// of each at `i · stride` of its slice. Three `[B, T, dim]` tensors have
/// stride `dim`; the fused q, k, v product `[B, T, 3 · dim]` is read in
/// place, its three column blocks at stride `3 · dim`.
#[derive(Clone, Copy)]
pub struct Qkv<'a> {
    pub q: &'a [f32],
    pub k: &'a [f32],
    pub v: &'a [f32],
    pub stride: usize,
    pub dim: usize,
}

/// Whether [`attention`] tiles `heads` heads of a `dim`-wide model: a head
/// width that is a multiple of 8.
pub fn tiles(dim: usize, heads: usize) -> bool {
    heads > 0 && dim.is_multiple_of(heads) && (dim / heads).is_multiple_of(C)
}

/// `out[b, i, h·d..(h+1)·d] = softmax(q_h k_hᵀ / √d + bias[b]) v_h` for
/// `b < B`, `i < T`, every head `h` (`d = dim / heads`), `out` row-major
/// `[B, T, dim]`; `bias` (none: no padding) holds one row of `T` values
/// per sentence, added to every score row of that sentence (0 for real
/// keys, −1e9 for padding). Returns `false`, leaving `out` alone, for
/// shapes it does not tile (`d` not a multiple of 8); the caller then uses
/// candle's ops.
pub fn attention(
    x: Qkv,
    b: usize,
    t: usize,
    heads: usize,
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> bool {
    let (n, dim) = (b * t, x.dim);
    if n == 0 || heads == 0 {
        return true;
    }
    if dim == 0 || !tiles(dim, heads) {
        return false;
    }
    assert!(x.stride >= dim, "rows of {dim} values, {} apart", x.stride);
    for (what, len) in [("q", x.q.len()), ("k", x.k.len()), ("v", x.v.len())] {
        assert!((n - 1) * x.stride + dim <= len, "{what} holds {n} rows");
    }
    assert_eq!(out.len(), n * dim, "out holds {n} rows of {dim}");
    if let Some(bias) = bias {
        assert!(bias.len() >= n, "one bias row per sentence");
    }
    run(x, b, t, heads, bias, out);
    true
}

#[cfg_attr(
    all(target_arch = "wasm32", feature = "relaxed-simd"),
    target_feature(enable = "relaxed-simd")
)]
fn run(x: Qkv, b: usize, t: usize, heads: usize, bias: Option<&[f32]>, out: &mut [f32]) {
    let (dim, ld) = (x.dim, x.stride);
    let d = dim / heads;
    // Every score row's scale, one per row of a tile.
    let scale = [1.0 / (d as f32).sqrt(); R];
    // Keys transposed, `[dim, tp]`: row `h·d + e` holds every key's value
    // `e` of head `h`; the columns past `t` stay 0.
    let tp = t.next_multiple_of(C);
    let mut kt = vec![0f32; dim * tp];
    let mut scores = vec![0f32; t * tp];
    let mut inv_sums = vec![0f32; t];
    for s in 0..b {
        // This sentence's rows: from row s · t on (the last row is only dim
        // long).
        let at = |m: &'_ [f32]| -> *const f32 { m[s * t * ld..].as_ptr() };
        let (q, v) = (at(x.q), at(x.v));
        let out = &mut out[s * t * dim..(s + 1) * t * dim];
        // Column by column: the writes run along kt's rows, the reads
        // stay in the t keys' cache lines.
        let keys = &x.k[s * t * ld..];
        for (c, row) in kt.chunks_exact_mut(tp).enumerate() {
            for (j, y) in row[..t].iter_mut().enumerate() {
                *y = keys[j * ld + c];
            }
        }
        lap("split_heads");
        for h in 0..heads {
            let col = h * d;
            let mut i = 0;
            while i < t {
                let r = (t - i).min(R);
                for j in (0..tp).step_by(C) {
                    // SAFETY: rows i..i + r < t of q (read at col..col + d
                    // ≤ dim of each; `attention` checked that every row's
                    // dim values lie in q), rows col..col + d of kt (each
                    // tp values, read at j..j + C ≤ tp), rows i..i + r of
                    // scores (tp values each, written at j..j + C).
                    unsafe {
                        let (qp, kp, sp) = (
                            q.add(i * ld + col),
                            kt.as_ptr().add(col * tp + j),
                            scores.as_mut_ptr().add(i * tp + j),
                        );
                        let strides = (ld, tp, tp);
                        if r == R {
                            tile::<R>(qp, kp, d, &scale, sp, strides)
                        } else {
                            for x in 0..r {
                                let (qp, sp) = (qp.add(x * ld), sp.add(x * tp));
                                tile::<1>(qp, kp, d, &scale, sp, strides)
                            }
                        }
                    }
                }
                i += r;
            }
            lap("qk_matmul");
            for (row, inv) in scores.chunks_exact_mut(tp).zip(&mut inv_sums) {
                *inv = softmax_unscaled(row, t, bias.map(|b| &b[s * t..(s + 1) * t]));
            }
            lap("softmax");
            let mut i = 0;
            while i < t {
                let r = (t - i).min(R);
                for e in (0..d).step_by(C) {
                    // SAFETY: rows i..i + r of scores (read at 0..t ≤ tp),
                    // rows 0..t of v (read at col + e..col + e + C ≤ dim),
                    // rows i..i + r of out (dim values each, written at the
                    // same columns).
                    unsafe {
                        let (pp, vp, op) = (
                            scores.as_ptr().add(i * tp),
                            v.add(col + e),
                            out.as_mut_ptr().add(i * dim + col + e),
                        );
                        let inv = &inv_sums[i..i + r];
                        let strides = (tp, ld, dim);
                        if r == R {
                            tile::<R>(pp, vp, t, inv, op, strides)
                        } else {
                            for x in 0..r {
                                let (p, o) = (pp.add(x * tp), op.add(x * dim));
                                tile::<1>(p, vp, t, &inv[x..], o, strides)
                            }
                        }
                    }
                }
                i += r;
            }
            lap("pv_matmul");
        }
    }
}

/// `N` rows × 8 columns of a product: `out[r][c] = s[r] · Σ_{j < len}
/// a[r][j] · b[j][c]`, with `a`'s rows (`len` values each), `b`'s (8
/// values each) and `out`'s lying `strides` apart. Q·Kᵀ: the queries
/// times the transposed keys, `s` = 1/√d; P·V: the unnormalised
/// probabilities times the values, `s` = 1 / each row's sum.
///
/// # Safety
/// `a` holds `N` rows of `len`, `b` `len` rows of 8, `out` `N` rows of 8,
/// at those strides; `s` holds `N` values.
#[inline(always)]
unsafe fn tile<const N: usize>(
    a: *const f32,
    b: *const f32,
    len: usize,
    s: &[f32],
    out: *mut f32,
    (sa, sb, so): (usize, usize, usize),
) {
    debug_assert!(s.len() >= N, "one scale per row");
    let mut acc = [[lanes::zero(); 2]; N];
    for j in 0..len {
        // SAFETY: the caller's bounds (see `run`).
        unsafe {
            let b0 = lanes::load(b.add(j * sb));
            let b1 = lanes::load(b.add(j * sb + 4));
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = lanes::splat_at(a.add(r * sa + j));
                acc[0] = lanes::madd(x, b0, acc[0]);
                acc[1] = lanes::madd(x, b1, acc[1]);
            }
        }
    }
    for (r, (acc, &s)) in acc.iter().zip(s).enumerate() {
        let s = lanes::splat(s);
        // SAFETY: as above.
        unsafe {
            lanes::store(out.add(r * so), lanes::mul(acc[0], s));
            lanes::store(out.add(r * so + 4), lanes::mul(acc[1], s));
        }
    }
}

/// One row of scores (`t` of its values, plus `bias` when some keys are
/// padding; the rest up to its length, a multiple of 4, is ignored)
/// replaced by `e^(x − max)` (padding keys and the columns past `t` get
/// e^−87.3 ≈ 10⁻³⁸, nothing next to the row's largest, which gives 1);
/// returns 1 / their sum, which the P·V [`tile`] applies: NaN when a score
/// is NaN or infinite, so that the row's context is NaN, as candle's.
#[inline(always)]
fn softmax_unscaled(row: &mut [f32], t: usize, bias: Option<&[f32]>) -> f32 {
    if let Some(bias) = bias {
        for (x, b) in row.iter_mut().zip(bias) {
            *x += b;
        }
    }
    // Past t: a score whose e^(x − max) is nothing.
    row[t..].fill(f32::MIN);
    // `lanes::max` does not say what NaN gives (in the relaxed SIMD build
    // it is `f32x4.relaxed_max`), so x − x (NaN for NaN and ±∞, else 0)
    // is summed on the side.
    let (mut m, mut bad) = (lanes::splat(f32::MIN), lanes::zero());
    for c in row.chunks_exact(4) {
        // SAFETY: c holds 4 values.
        let x = unsafe { lanes::load(c.as_ptr()) };
        m = lanes::max(m, x);
        bad = lanes::add(bad, lanes::sub(x, x));
    }
    if lanes::hsum(bad).is_nan() {
        return f32::NAN;
    }
    let max = lanes::splat(lanes::hmax(m));
    let mut sum = lanes::zero();
    for c in row.chunks_exact_mut(4) {
        // SAFETY: c holds 4 values.
        unsafe {
            let e = lanes::exp_le0(lanes::sub(lanes::load(c.as_ptr()), max));
            sum = lanes::add(sum, e);
            lanes::store(c.as_mut_ptr(), e);
        }
    }
    1.0 / lanes::hsum(sum)
}

/// The same in plain loops (f64 sums), for [`check_against_reference`].
fn reference(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    b: usize,
    t: usize,
    heads: usize,
    bias: Option<&[f32]>,
) -> Vec<f32> {
    let dim = q.len() / (b * t).max(1);
    let d = dim / heads.max(1);
    let mut out = vec![0f32; q.len()];
    for s in 0..b {
        for h in 0..heads {
            for i in 0..t {
                let row = |m: &[f32], j: usize| -> Vec<f64> {
                    m[(s * t + j) * dim + h * d..][..d]
                        .iter()
                        .map(|&x| x as f64)
                        .collect()
                };
                let qi = row(q, i);
                let mut sc: Vec<f64> = (0..t)
                    .map(|j| {
                        let kj = row(k, j);
                        let dot: f64 = qi.iter().zip(&kj).map(|(a, b)| a * b).sum();
                        dot / (d as f64).sqrt() + bias.map_or(0.0, |b| b[s * t + j] as f64)
                    })
                    .collect();
                let max = sc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                sc.iter_mut().for_each(|x| *x = (*x - max).exp());
                let total: f64 = sc.iter().sum();
                for e in 0..d {
                    let y: f64 = (0..t)
                        .map(|j| sc[j] / total * v[(s * t + j) * dim + h * d + e] as f64)
                        .sum();
                    out[(s * t + i) * dim + h * d + e] = y as f32;
                }
            }
        }
    }
    out
}

/// Checks [`attention`] against [`reference`] (panics on a difference):
/// sentence lengths around the 4-row and 8-column tiles, head widths of
/// 8–64 (MiniLM's 32, distilbert-base's 64), one to three sentences, with
/// and without padding, q, k, v apart and read in place from a fused
/// product; and that a NaN query makes its own row of its head NaN, no
/// other. The native tests run it, and `tests/browser.rs` in both wasm
/// builds.
#[doc(hidden)]
pub fn check_against_reference() {
    check_tiles();
    check_nan_row();
}

fn values(n: usize, seed: &mut u64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 6.0
        })
        .collect()
}

fn check(got: &[f32], want: &[f32], what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "{what}: value {i}: {g} vs {w}"
        );
    }
}

fn check_tiles() {
    let mut seed = 7;
    // Sentence lengths around the 4-row and 8-column tiles, head widths
    // of MiniLM (32) and distilbert-base (64), with and without padding.
    for (b, t, heads, d) in [
        (1, 1, 2, 8),
        (1, 3, 3, 16),
        (1, 9, 12, 32),
        (2, 13, 4, 64),
        (3, 8, 2, 8),
        (1, 37, 6, 32),
        (1, 6, 2, 8),
        (2, 14, 3, 16),
    ] {
        let n = b * t * heads * d;
        let (q, k, v) = (
            values(n, &mut seed),
            values(n, &mut seed),
            values(n, &mut seed),
        );
        for padded in [false, true] {
            // The last two keys of every sentence but the first are padding.
            let bias: Vec<f32> = (0..b * t)
                .map(|i| {
                    if i / t > 0 && i % t + 2 >= t && t > 2 {
                        -1e9
                    } else {
                        0.0
                    }
                })
                .collect();
            let bias = padded.then_some(&bias[..]);
            let want = reference(&q, &k, &v, b, t, heads, bias);
            let dim = heads * d;
            let mut got = vec![f32::NAN; n];
            let x = Qkv {
                q: &q,
                k: &k,
                v: &v,
                stride: dim,
                dim,
            };
            assert!(attention(x, b, t, heads, bias, &mut got));
            check(
                &got,
                &want,
                &format!("b {b} t {t} heads {heads} d {d} padded {padded}"),
            );
            // The same read in place from a fused [B, T, 3 · dim] product.
            let fused: Vec<f32> = (0..b * t)
                .flat_map(|i| [&q, &k, &v].map(|m| &m[i * dim..(i + 1) * dim]).concat())
                .collect();
            let x = Qkv {
                q: &fused,
                k: &fused[dim..],
                v: &fused[2 * dim..],
                stride: 3 * dim,
                dim,
            };
            let mut got = vec![f32::NAN; n];
            assert!(attention(x, b, t, heads, bias, &mut got));
            check(
                &got,
                &want,
                &format!("fused, b {b} t {t} heads {heads} d {d} padded {padded}"),
            );
        }
    }
}

fn check_nan_row() {
    let (t, heads, d) = (5, 2, 8);
    let mut seed = 3;
    let n = t * heads * d;
    let (mut q, k, v) = (
        values(n, &mut seed),
        values(n, &mut seed),
        values(n, &mut seed),
    );
    q[2 * heads * d + 1] = f32::NAN; // row 2, head 0
    let dim = heads * d;
    let mut got = vec![0f32; n];
    let x = Qkv {
        q: &q,
        k: &k,
        v: &v,
        stride: dim,
        dim,
    };
    assert!(attention(x, 1, t, heads, None, &mut got));
    for (i, row) in got.chunks_exact(dim).enumerate() {
        assert_eq!(
            row[..d].iter().all(|x| x.is_nan()),
            i == 2,
            "row {i} head 0"
        );
        assert!(row[d..].iter().all(|x| x.is_finite()), "row {i} head 1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_at_every_tile_edge_and_keeps_nan() {
        check_against_reference();
    }

    #[test]
    fn exp_is_within_3e_7_relative_down_to_the_floor() {
        let mut worst = 0f64;
        for i in 0..=200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let got = lanes::to_array(lanes::exp_le0(lanes::splat(x)))[0] as f64;
            let want = (x as f64).exp();
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert!(lanes::to_array(lanes::exp_le0(lanes::splat(f32::NAN)))[0].is_nan());
        assert!(lanes::to_array(lanes::exp_le0(lanes::splat(-1e30)))[0] < 1e-37);
        assert_eq!(lanes::to_array(lanes::exp_le0(lanes::splat(0.0)))[0], 1.0);
    }

    #[test]
    fn head_widths_it_does_not_tile_are_left_to_the_caller() {
        let q = vec![1f32; 2 * 12];
        let mut out = vec![7f32; q.len()];
        let x = Qkv {
            q: &q,
            k: &q,
            v: &q,
            stride: 12,
            dim: 12,
        };
        assert!(!attention(x, 1, 2, 2, None, &mut out));
        assert!(out.iter().all(|&x| x == 7.0));
        let x = Qkv {
            q: &[],
            k: &[],
            v: &[],
            stride: 12,
            dim: 12,
        };
        assert!(attention(x, 0, 0, 2, None, &mut []));
    }
}
