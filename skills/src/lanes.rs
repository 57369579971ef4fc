//! Four f32 lanes for the browser's inference math ([`crate::attention`],
//! [`crate::fastmath`]'s GELU): a wasm `v128`, whose multiply-add is one
//! `f32x4.relaxed_madd` in the relaxed SIMD build (one `vfmadd` where the
//! CPU has FMA) and `f32x4.mul` then `f32x4.add` otherwise; natively an
//! array (which the compiler vectorises), for the tests.

pub use imp::*;

#[cfg(target_arch = "wasm32")]
mod imp {
    use core::arch::wasm32::*;

    pub type F4 = v128;

    #[inline(always)]
    pub fn zero() -> F4 {
        f32x4_splat(0.0)
    }
    #[inline(always)]
    pub fn splat(x: f32) -> F4 {
        f32x4_splat(x)
    }
    /// # Safety
    /// `p` points at 4 readable values.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> F4 {
        unsafe { v128_load(p as *const v128) }
    }
    /// # Safety
    /// `p` points at a readable value.
    #[inline(always)]
    pub unsafe fn splat_at(p: *const f32) -> F4 {
        unsafe { v128_load32_splat(p as *const u32) }
    }
    /// # Safety
    /// `p` points at 4 writable values.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, x: F4) {
        unsafe { v128_store(p as *mut v128, x) }
    }
    #[inline(always)]
    pub fn mul(a: F4, b: F4) -> F4 {
        f32x4_mul(a, b)
    }
    #[inline(always)]
    pub fn add(a: F4, b: F4) -> F4 {
        f32x4_add(a, b)
    }
    #[inline(always)]
    pub fn sub(a: F4, b: F4) -> F4 {
        f32x4_sub(a, b)
    }
    /// `b` where `a < b`, else `a`, for numbers (what NaN gives is not
    /// said: in the relaxed SIMD build LLVM emits `f32x4.relaxed_max`):
    /// `f32x4.pmax`, one `maxps`, where `f32x4.max` (NaN and ±0 rules) is
    /// several instructions.
    #[inline(always)]
    pub fn max(a: F4, b: F4) -> F4 {
        f32x4_pmax(a, b)
    }
    /// `b` where `b < a`, else `a`, for numbers (NaN: as [`max`]):
    /// `f32x4.pmin`, one `minps`.
    #[inline(always)]
    pub fn min(a: F4, b: F4) -> F4 {
        f32x4_pmin(a, b)
    }
    #[inline(always)]
    pub fn div(a: F4, b: F4) -> F4 {
        f32x4_div(a, b)
    }
    #[inline(always)]
    pub fn hmax(a: F4) -> f32 {
        let m = f32x4_pmax(a, i32x4_shuffle::<2, 3, 0, 1>(a, a));
        f32x4_extract_lane::<0>(f32x4_pmax(m, i32x4_shuffle::<1, 0, 3, 2>(m, m)))
    }
    #[cfg(test)]
    pub fn to_array(a: F4) -> [f32; 4] {
        [
            f32x4_extract_lane::<0>(a),
            f32x4_extract_lane::<1>(a),
            f32x4_extract_lane::<2>(a),
            f32x4_extract_lane::<3>(a),
        ]
    }
    #[inline(always)]
    pub fn hsum(a: F4) -> f32 {
        let m = f32x4_add(a, i32x4_shuffle::<2, 3, 0, 1>(a, a));
        f32x4_extract_lane::<0>(f32x4_add(m, i32x4_shuffle::<1, 0, 3, 2>(m, m)))
    }
    /// 2ⁿ from `t = n + 1.5 · 2²³` (whose bits are 0x4B40_0000 + n).
    #[inline(always)]
    pub fn pow2_of_shifted(t: F4) -> F4 {
        i32x4_shl(
            i32x4_add(i32x4_sub(t, i32x4_splat(0x4B40_0000)), i32x4_splat(127)),
            23,
        )
    }
    /// `a · b + c`: one fused multiply-add in the relaxed SIMD build where
    /// the CPU has FMA.
    #[inline(always)]
    pub fn madd(a: F4, b: F4, c: F4) -> F4 {
        #[cfg(feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(a, b, c)
        }
        #[cfg(not(feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(a, b), c)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub type F4 = [f32; 4];

    #[inline(always)]
    pub fn zero() -> F4 {
        [0.0; 4]
    }
    #[inline(always)]
    pub fn splat(x: f32) -> F4 {
        [x; 4]
    }
    /// # Safety
    /// `p` points at 4 readable values.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> F4 {
        unsafe { (p as *const F4).read_unaligned() }
    }
    /// # Safety
    /// `p` points at a readable value.
    #[inline(always)]
    pub unsafe fn splat_at(p: *const f32) -> F4 {
        unsafe { [p.read(); 4] }
    }
    /// # Safety
    /// `p` points at 4 writable values.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, x: F4) {
        unsafe { (p as *mut F4).write_unaligned(x) }
    }
    #[inline(always)]
    pub fn mul(a: F4, b: F4) -> F4 {
        std::array::from_fn(|i| a[i] * b[i])
    }
    #[inline(always)]
    pub fn add(a: F4, b: F4) -> F4 {
        std::array::from_fn(|i| a[i] + b[i])
    }
    #[inline(always)]
    pub fn sub(a: F4, b: F4) -> F4 {
        std::array::from_fn(|i| a[i] - b[i])
    }
    /// `b` where `a < b`, else `a` (NaN in `a` kept, in `b` skipped).
    #[inline(always)]
    pub fn max(a: F4, b: F4) -> F4 {
        std::array::from_fn(|i| if a[i] < b[i] { b[i] } else { a[i] })
    }
    /// `b` where `b < a`, else `a`.
    #[inline(always)]
    pub fn min(a: F4, b: F4) -> F4 {
        std::array::from_fn(|i| if b[i] < a[i] { b[i] } else { a[i] })
    }
    #[inline(always)]
    pub fn div(a: F4, b: F4) -> F4 {
        std::array::from_fn(|i| a[i] / b[i])
    }
    #[inline(always)]
    pub fn hmax(a: F4) -> f32 {
        let m = max(a, [a[2], a[3], a[0], a[1]]);
        max(m, [m[1], m[0], m[3], m[2]])[0]
    }
    #[cfg(test)]
    pub fn to_array(a: F4) -> [f32; 4] {
        a
    }
    #[inline(always)]
    pub fn hsum(a: F4) -> f32 {
        (a[0] + a[2]) + (a[1] + a[3])
    }
    /// 2ⁿ from `t = n + 1.5 · 2²³` (whose bits are 0x4B40_0000 + n).
    #[inline(always)]
    pub fn pow2_of_shifted(t: F4) -> F4 {
        t.map(|t| f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127) << 23))
    }
    #[inline(always)]
    pub fn madd(a: F4, b: F4, c: F4) -> F4 {
        std::array::from_fn(|i| a[i] * b[i] + c[i])
    }
}

/// `eˣ` for `x ≤ 0` ([`crate::fastmath::exp`]'s Cephes polynomial, with
/// multiply-adds): inputs below −87.3 give e^−87.3 (≈ 10⁻³⁸, where the
/// scalar one gives 0; nothing in a softmax row). NaN gives NaN natively
/// and in the SIMD128 build, not always in the relaxed one (see [`max`]):
/// callers that must keep NaN check for it.
#[inline(always)]
pub fn exp_le0(x: F4) -> F4 {
    use crate::fastmath::{EXP_LN2_HI, EXP_LN2_LO, EXP_MIN, EXP_POLY, EXP_SHIFT};
    let x = max(x, splat(EXP_MIN));
    let t = madd(x, splat(std::f32::consts::LOG2_E), splat(EXP_SHIFT));
    let n = sub(t, splat(EXP_SHIFT));
    let r = madd(n, splat(-EXP_LN2_HI), x);
    let r = madd(n, splat(-EXP_LN2_LO), r);
    let mut p = splat(EXP_POLY[0]);
    for c in &EXP_POLY[1..] {
        p = madd(p, r, splat(*c));
    }
    let y = add(madd(p, mul(r, r), r), splat(1.0));
    mul(y, pow2_of_shifted(t))
}

/// Exact (erf) GELU of four values: [`crate::fastmath::erf`]'s rational
/// approximation with multiply-adds, `x/2 + x/2 · erf(x/√2)`.
#[inline(always)]
pub fn gelu(x: F4) -> F4 {
    use crate::fastmath::{ERF_P, ERF_Q};
    let z = mul(x, splat(std::f32::consts::FRAC_1_SQRT_2));
    let z = min(max(z, splat(-4.0)), splat(4.0));
    let z2 = mul(z, z);
    let mut p = splat(ERF_P[0]);
    for c in &ERF_P[1..] {
        p = madd(p, z2, splat(*c));
    }
    let mut q = splat(ERF_Q[0]);
    for c in &ERF_Q[1..] {
        q = madd(q, z2, splat(*c));
    }
    let erf = div(mul(p, z), q);
    let h = mul(x, splat(0.5));
    madd(h, erf, h)
}
