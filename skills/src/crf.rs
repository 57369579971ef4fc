//! A linear-chain conditional random field (CRF) over word-level BIO tags.
//!
//! For one sentence of `n` words with emission scores `e[t][k]` (from the
//! encoder's classifier) and a tag sequence `y = (y_0, …, y_{n-1})`, the CRF
//! scores the whole sequence as
//!
//! ```text
//! s(y) = start[y_0] + Σ_{t<n} e[t][y_t] + Σ_{0<t<n} transitions[y_{t-1}][y_t] + end[y_{n-1}]
//! ```
//!
//! and defines `p(y | e) = exp(s(y)) / Z` with `Z = Σ_y' exp(s(y'))` over all
//! `K^n` sequences. Training minimises the negative log-likelihood
//! `log Z - s(gold)`; decoding takes `argmax_y s(y)`.
//!
//! - `log Z` comes from the forward algorithm:
//!   `α_0[j] = start[j] + e[0][j]`,
//!   `α_t[j] = logsumexp_i(α_{t-1}[i] + transitions[i][j]) + e[t][j]`,
//!   `log Z = logsumexp_j(α_{n-1}[j] + end[j])`.
//! - The best sequence comes from the Viterbi algorithm: the same recursion
//!   with `max` in place of `logsumexp`, plus back-pointers.
//!
//! Batches are padded to a common length `T` and carry a mask: each row's real
//! positions form a prefix. The loss is built only from differentiable tensor
//! operations (comparisons, `where_cond`, `exp`/`log`, `max`/`sum` over a
//! dimension, `matmul`), never from candle-nn's fused kernels, which have no
//! backward pass; it stays on the tensors' device. Padded positions are
//! replaced by constants before any arithmetic, so their values (even NaN)
//! change neither the loss nor its gradients.

use candle_core::{bail, DType, Result, Tensor};
use candle_nn::VarBuilder;

/// Linear-chain CRF parameters for `K` tags.
///
/// Invariants: `K >= 1`; `transitions` is `[K, K]`, `start` and `end` are
/// `[K]`; all three share one dtype and one device.
#[derive(Debug, Clone)]
pub struct Crf {
    /// `transitions[i][j]`: score of tag `i` followed by tag `j`.
    transitions: Tensor,
    /// `start[j]`: score of a sequence beginning with tag `j`.
    start: Tensor,
    /// `end[j]`: score of a sequence ending with tag `j`.
    end: Tensor,
}

impl Crf {
    /// Builds a CRF from explicit parameters: `transitions` `[K, K]`
    /// (`transitions[i][j]` scores tag `i` followed by tag `j`), `start` and
    /// `end` `[K]`. Errors unless the shapes agree, `K >= 1`, and the three
    /// tensors share a dtype and a device.
    pub fn new(transitions: Tensor, start: Tensor, end: Tensor) -> Result<Self> {
        let (k, k2) = transitions.dims2()?;
        if k == 0 || k != k2 {
            bail!(
                "crf: transitions must be [K, K] with K >= 1, got {:?}",
                transitions.shape()
            )
        }
        for (name, t) in [("start", &start), ("end", &end)] {
            if t.dims() != [k] {
                bail!("crf: {name} must be [{k}], got {:?}", t.shape())
            }
            if t.dtype() != transitions.dtype() {
                bail!(
                    "crf: {name} is {:?}, transitions are {:?}",
                    t.dtype(),
                    transitions.dtype()
                )
            }
            if !t.device().same_device(transitions.device()) {
                bail!("crf: {name} and transitions are on different devices")
            }
        }
        Ok(Self {
            transitions,
            start,
            end,
        })
    }

    /// Loads the parameters `transitions` `[K, K]`, `start` `[K]` and `end`
    /// `[K]` from `vb`. With a `VarMap`-backed builder, missing parameters are
    /// created zero-initialised ([`candle_nn::init::ZERO`]) as trainable
    /// variables. Errors when `num_tags` is 0 or a stored shape differs.
    pub fn load(vb: VarBuilder, num_tags: usize) -> Result<Self> {
        let zero = candle_nn::init::ZERO;
        let transitions = vb.get_with_hints((num_tags, num_tags), "transitions", zero)?;
        let start = vb.get_with_hints(num_tags, "start", zero)?;
        let end = vb.get_with_hints(num_tags, "end", zero)?;
        Self::new(transitions, start, end)
    }

    /// The number of tags `K`.
    pub fn num_tags(&self) -> usize {
        self.start.dims()[0]
    }

    /// Mean negative log-likelihood of the gold tags over the batch: a scalar.
    ///
    /// - `emissions`: `[B, T, K]`, in the parameters' dtype (f32 in training).
    /// - `tags`: `[B, T]`, integer (u32); values at real positions must be
    ///   `< K`, values at padded positions are ignored.
    /// - `mask`: `[B, T]`, any dtype (f32 or u8), non-zero at real positions.
    ///   Each row's real positions must be a non-empty prefix (`1…1 0…0`).
    ///
    /// Padded positions do not affect the loss or its gradients. Errors on
    /// mismatched shapes or an empty batch; never leaves the device.
    pub fn neg_log_likelihood(
        &self,
        emissions: &Tensor,
        tags: &Tensor,
        mask: &Tensor,
    ) -> Result<Tensor> {
        let (b, t, k) = self.check_emissions(emissions)?;
        if b == 0 || t == 0 {
            bail!("crf: empty batch {:?}", emissions.shape())
        }
        for (name, x) in [("tags", tags), ("mask", mask)] {
            if x.dims() != [b, t] {
                bail!(
                    "crf: {name} must be [{b}, {t}] like the emissions, got {:?}",
                    x.shape()
                )
            }
        }
        let dtype = emissions.dtype();
        let real = mask.ne(0f64)?; // [B, T] u8
        let real_f = real.to_dtype(dtype)?;
        let real3 = real.unsqueeze(2)?.broadcast_as((b, t, k))?;
        // Padded emissions become 0, so their values cannot leak, not even as NaN gradients.
        let emissions = real3.where_cond(emissions, &emissions.zeros_like()?)?;

        // One-hot gold tags, zero at padded positions: [B, T, K].
        let tag_ids = Tensor::arange(0u32, k as u32, emissions.device())?.reshape((1, 1, k))?;
        let gold = tags
            .to_dtype(DType::U32)?
            .unsqueeze(2)?
            .broadcast_eq(&tag_ids)?
            .to_dtype(dtype)?
            .broadcast_mul(&real_f.unsqueeze(2)?)?;
        let gold_score = self.gold_score(&emissions, &gold, &real_f)?;
        let log_z = self.log_partition(&emissions, &real3)?;
        (log_z - gold_score)?.mean_all()
    }

    /// The best tag sequence of each row: row `b` decodes its first
    /// `lengths[b]` positions (an empty path when that is 0).
    ///
    /// `emissions`: `[B, T, K]`; `lengths`: `B` values, each `<= T`. Copies the
    /// emissions and parameters to the host and runs the dynamic programme
    /// there; ties go to the lowest tag index. Errors on mismatched shapes.
    pub fn viterbi(&self, emissions: &Tensor, lengths: &[usize]) -> Result<Vec<Vec<u32>>> {
        let (b, t, _) = self.check_emissions(emissions)?;
        if lengths.len() != b {
            bail!("crf: {} lengths for a batch of {b}", lengths.len())
        }
        if let Some(n) = lengths.iter().find(|&&n| n > t) {
            bail!("crf: length {n} exceeds the {t} positions")
        }
        let emissions: Vec<Vec<Vec<f32>>> =
            crate::model::as_dtype(emissions, DType::F32)?.to_vec3()?;
        let transitions: Vec<Vec<f32>> =
            crate::model::as_dtype(&self.transitions, DType::F32)?.to_vec2()?;
        let start: Vec<f32> = crate::model::as_dtype(&self.start, DType::F32)?.to_vec1()?;
        let end: Vec<f32> = crate::model::as_dtype(&self.end, DType::F32)?.to_vec1()?;
        Ok(emissions
            .iter()
            .zip(lengths)
            .map(|(row, &n)| best_path(&row[..n], &transitions, &start, &end))
            .collect())
    }

    /// `(B, T, K)` of rank-3 emissions whose last dimension is `K`.
    fn check_emissions(&self, emissions: &Tensor) -> Result<(usize, usize, usize)> {
        let (b, t, k) = emissions.dims3()?;
        if k != self.num_tags() {
            bail!(
                "crf: emissions have {k} tags, the CRF has {}",
                self.num_tags()
            )
        }
        Ok((b, t, k))
    }

    /// `s(gold)` per row, `[B]`, from masked emissions `[B, T, K]`, the masked
    /// one-hot gold tags `[B, T, K]` and the real-position mask `[B, T]`.
    fn gold_score(&self, emissions: &Tensor, gold: &Tensor, real: &Tensor) -> Result<Tensor> {
        let (b, t, k) = gold.dims3()?;
        let emitted = (emissions * gold)?.sum((1, 2))?;
        let first = gold.narrow(1, 0, 1)?.squeeze(1)?;
        let started = first.broadcast_mul(&self.start)?.sum(1)?;
        // A real position followed by a padded one (or by the end of the row).
        let next_real = real.pad_with_zeros(1, 0, 1)?.narrow(1, 1, t)?;
        let last = gold
            .broadcast_mul(&(real - next_real)?.unsqueeze(2)?)?
            .sum(1)?;
        let ended = last.broadcast_mul(&self.end)?.sum(1)?;
        let score = ((emitted + started)? + ended)?;
        if t == 1 {
            return Ok(score);
        }
        // Row `prev[n]` of `prev · transitions` is transitions[y_{t-1}], and
        // the product with `next` picks transitions[y_{t-1}][y_t]; both one-hots
        // are zero at padded positions.
        let prev = gold.narrow(1, 0, t - 1)?.reshape((b * (t - 1), k))?;
        let next = gold.narrow(1, 1, t - 1)?.reshape((b * (t - 1), k))?;
        let moved = (prev.matmul(&self.transitions)? * next)?
            .reshape((b, (t - 1) * k))?
            .sum(1)?;
        score + moved
    }

    /// `log Z` per row, `[B]`, by the forward algorithm over masked emissions
    /// `[B, T, K]`; `real` (`[B, T, K]`, u8) keeps `α` unchanged past a row's end.
    fn log_partition(&self, emissions: &Tensor, real: &Tensor) -> Result<Tensor> {
        let t = emissions.dim(1)?;
        let mut alpha = emissions
            .narrow(1, 0, 1)?
            .squeeze(1)?
            .broadcast_add(&self.start)?;
        for i in 1..t {
            let emitted = emissions.narrow(1, i, 1)?.squeeze(1)?;
            // [B, K, 1] + [K, K] → [B, K (previous), K (next)].
            let next = (alpha
                .unsqueeze(2)?
                .broadcast_add(&self.transitions)?
                .log_sum_exp(1)?
                + emitted)?;
            alpha = real
                .narrow(1, i, 1)?
                .squeeze(1)?
                .where_cond(&next, &alpha)?;
        }
        alpha.broadcast_add(&self.end)?.log_sum_exp(1)
    }
}

/// Viterbi over one row's real positions (`emissions[t][k]`), on the host.
fn best_path(
    emissions: &[Vec<f32>],
    transitions: &[Vec<f32>],
    start: &[f32],
    end: &[f32],
) -> Vec<u32> {
    let Some((first, rest)) = emissions.split_first() else {
        return Vec::new();
    };
    let mut score: Vec<f32> = first.iter().zip(start).map(|(e, s)| e + s).collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(rest.len());
    for emitted in rest {
        let (next, from): (Vec<f32>, Vec<usize>) = emitted
            .iter()
            .enumerate()
            .map(|(j, e)| {
                let (i, best) = argmax(score.iter().zip(transitions).map(|(s, row)| s + row[j]));
                (best + e, i)
            })
            .unzip();
        score = next;
        back.push(from);
    }
    let (mut tag, _) = argmax(score.iter().zip(end).map(|(s, e)| s + e));
    let mut path = vec![tag as u32];
    for from in back.iter().rev() {
        tag = from[tag];
        path.push(tag as u32);
    }
    path.reverse();
    path
}

/// Index and value of the first maximum (index 0 for an empty iterator).
fn argmax(values: impl Iterator<Item = f32>) -> (usize, f32) {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};
    use candle_nn::VarMap;

    const K: usize = 3;

    /// A tiny deterministic generator (Knuth's MMIX LCG).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        /// Uniform in [-scale, scale).
        fn uniform(&mut self, scale: f32) -> f32 {
            (self.next() as f32 / (1u64 << 31) as f32 * 2.0 - 1.0) * scale
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
            (0..n).map(|_| self.uniform(scale)).collect()
        }
    }

    /// Host copies of the parameters, for the brute-force references.
    struct Params {
        transitions: Vec<Vec<f32>>,
        start: Vec<f32>,
        end: Vec<f32>,
    }

    impl Params {
        fn random(rng: &mut Lcg, scale: f32) -> Self {
            Self {
                transitions: (0..K).map(|_| rng.vec(K, scale)).collect(),
                start: rng.vec(K, scale),
                end: rng.vec(K, scale),
            }
        }

        fn crf(&self, dtype: DType) -> Crf {
            let dev = &Device::Cpu;
            let flat: Vec<f32> = self.transitions.concat();
            Crf::new(
                Tensor::from_vec(flat, (K, K), dev)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
                Tensor::new(self.start.as_slice(), dev)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
                Tensor::new(self.end.as_slice(), dev)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap(),
            )
            .unwrap()
        }

        /// `s(tags)` for one row's real positions.
        fn score(&self, emissions: &[Vec<f32>], tags: &[u32]) -> f64 {
            let y: Vec<usize> = tags.iter().map(|&t| t as usize).collect();
            let n = y.len();
            let mut s = self.start[y[0]] as f64 + self.end[y[n - 1]] as f64;
            for t in 0..n {
                s += emissions[t][y[t]] as f64;
                if t > 0 {
                    s += self.transitions[y[t - 1]][y[t]] as f64;
                }
            }
            s
        }

        /// Scores of all `K^n` sequences.
        fn all_scores(&self, emissions: &[Vec<f32>]) -> Vec<(Vec<u32>, f64)> {
            let n = emissions.len();
            (0..K.pow(n as u32))
                .map(|mut code| {
                    let mut y = vec![0u32; n];
                    for slot in y.iter_mut().rev() {
                        *slot = (code % K) as u32;
                        code /= K;
                    }
                    let s = self.score(emissions, &y);
                    (y, s)
                })
                .collect()
        }

        fn brute_best(&self, emissions: &[Vec<f32>]) -> (Vec<u32>, f64) {
            self.all_scores(emissions).into_iter().fold(
                (Vec::new(), f64::NEG_INFINITY),
                |best, (y, s)| if s > best.1 { (y, s) } else { best },
            )
        }

        fn brute_nll(&self, emissions: &[Vec<f32>], tags: &[u32]) -> f64 {
            let scores: Vec<f64> = self
                .all_scores(emissions)
                .into_iter()
                .map(|(_, s)| s)
                .collect();
            let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let log_z = max + scores.iter().map(|s| (s - max).exp()).sum::<f64>().ln();
            log_z - self.score(emissions, tags)
        }
    }

    /// A random padded batch: emissions `[B][T][K]`, tags `[B][T]` (random
    /// everywhere, padding included) and lengths (one row is full).
    struct Batch {
        emissions: Vec<Vec<Vec<f32>>>,
        tags: Vec<Vec<u32>>,
        lengths: Vec<usize>,
    }

    impl Batch {
        fn random(rng: &mut Lcg, b: usize, t: usize, scale: f32) -> Self {
            let lengths = (0..b)
                .map(|i| if i == 0 { t } else { 1 + rng.below(t) })
                .collect();
            Self {
                emissions: (0..b)
                    .map(|_| (0..t).map(|_| rng.vec(K, scale)).collect())
                    .collect(),
                tags: (0..b)
                    .map(|_| (0..t).map(|_| rng.below(K) as u32).collect())
                    .collect(),
                lengths,
            }
        }

        fn dims(&self) -> (usize, usize) {
            (self.emissions.len(), self.emissions[0].len())
        }

        fn emissions(&self, dtype: DType) -> Tensor {
            let flat: Vec<f32> = self.emissions.concat().concat();
            let (b, t) = self.dims();
            Tensor::from_vec(flat, (b, t, K), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
        }

        fn tags(&self) -> Tensor {
            Tensor::from_vec(self.tags.concat(), self.dims(), &Device::Cpu).unwrap()
        }

        fn mask(&self, dtype: DType) -> Tensor {
            let (_, t) = self.dims();
            let flat: Vec<f32> = self
                .lengths
                .iter()
                .flat_map(|&n| (0..t).map(move |i| if i < n { 1.0 } else { 0.0 }))
                .collect();
            Tensor::from_vec(flat, self.dims(), &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
        }

        fn brute_nll(&self, params: &Params, row: usize) -> f64 {
            let n = self.lengths[row];
            params.brute_nll(&self.emissions[row][..n], &self.tags[row][..n])
        }
    }

    #[test]
    fn viterbi_matches_brute_force() {
        let mut rng = Lcg(7);
        for case in 0..60 {
            let scale = [0.5, 2.0, 5.0][case % 3];
            let params = Params::random(&mut rng, scale);
            let crf = params.crf(DType::F32);
            let t = 1 + case % 5;
            let batch = Batch::random(&mut rng, 4, t, scale);
            let paths = crf
                .viterbi(&batch.emissions(DType::F32), &batch.lengths)
                .unwrap();
            for (row, path) in paths.iter().enumerate() {
                let emissions = &batch.emissions[row][..batch.lengths[row]];
                let (best, best_score) = params.brute_best(emissions);
                assert_eq!(path, &best, "case {case} row {row}");
                assert!((params.score(emissions, path) - best_score).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn nll_matches_brute_force() {
        let mut rng = Lcg(11);
        for case in 0..60 {
            let scale = [0.5, 2.0, 4.0][case % 3];
            let params = Params::random(&mut rng, scale);
            let crf = params.crf(DType::F32);
            let t = 1 + case % 5;
            let batch = Batch::random(&mut rng, 4, t, scale);
            let (emissions, tags) = (batch.emissions(DType::F32), batch.tags());
            let expected: Vec<f64> = (0..4).map(|row| batch.brute_nll(&params, row)).collect();
            let mean = expected.iter().sum::<f64>() / 4.0;
            for mask_dtype in [DType::F32, DType::U8] {
                let mask = batch.mask(mask_dtype);
                let got: f32 = crf
                    .neg_log_likelihood(&emissions, &tags, &mask)
                    .unwrap()
                    .to_scalar()
                    .unwrap();
                assert!(
                    (got as f64 - mean).abs() < 1e-4,
                    "case {case}: {got} vs {mean}"
                );
                for (row, want) in expected.iter().enumerate() {
                    let one = |x: &Tensor| x.narrow(0, row, 1).unwrap();
                    let got: f32 = crf
                        .neg_log_likelihood(&one(&emissions), &one(&tags), &one(&mask))
                        .unwrap()
                        .to_scalar()
                        .unwrap();
                    assert!(
                        (got as f64 - want).abs() < 1e-4,
                        "case {case} row {row}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn load_creates_zeroed_trainable_parameters_and_gradients_reach_them() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let crf = Crf::load(vb.pp("crf"), K).unwrap();
        assert_eq!(crf.num_tags(), K);
        assert_eq!(varmap.all_vars().len(), 3);
        let zeros: Vec<f32> = crf.transitions.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(zeros, vec![0.0; K * K]);

        let mut rng = Lcg(3);
        let params = Params::random(&mut rng, 1.0);
        let dev = &Device::Cpu;
        let mut varmap = varmap;
        varmap
            .set_one(
                "crf.transitions",
                Tensor::from_vec(params.transitions.concat(), (K, K), dev).unwrap(),
            )
            .unwrap();
        varmap
            .set_one(
                "crf.start",
                Tensor::new(params.start.as_slice(), dev).unwrap(),
            )
            .unwrap();
        varmap
            .set_one("crf.end", Tensor::new(params.end.as_slice(), dev).unwrap())
            .unwrap();

        let batch = Batch {
            lengths: vec![4, 2],
            ..Batch::random(&mut rng, 2, 4, 1.0)
        };
        let emissions = Var::from_tensor(&batch.emissions(DType::F32)).unwrap();
        let loss = crf
            .neg_log_likelihood(
                emissions.as_tensor(),
                &batch.tags(),
                &batch.mask(DType::F32),
            )
            .unwrap();
        let want = (batch.brute_nll(&params, 0) + batch.brute_nll(&params, 1)) / 2.0;
        assert!((loss.to_scalar::<f32>().unwrap() as f64 - want).abs() < 1e-4);

        let grads = loss.backward().unwrap();
        let data = varmap.data().lock().unwrap();
        for name in ["crf.transitions", "crf.start", "crf.end"] {
            let grad = grads
                .get(data[name].as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"));
            let norm: f32 = grad.abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
            assert!(norm > 1e-6, "zero gradient for {name}");
        }
        let grad: Vec<Vec<Vec<f32>>> = grads.get(emissions.as_tensor()).unwrap().to_vec3().unwrap();
        assert!(grad[0].iter().flatten().any(|g| g.abs() > 1e-6));
        assert!(grad[1][..2].iter().flatten().any(|g| g.abs() > 1e-6));
        assert!(
            grad[1][2..].iter().flatten().all(|&g| g == 0.0),
            "padding got a gradient"
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Lcg(5);
        let params = Params::random(&mut rng, 1.0);
        let batch = Batch {
            lengths: vec![3, 1, 2],
            ..Batch::random(&mut rng, 3, 3, 1.0)
        };
        let base = params.crf(DType::F64);
        let vars: Vec<Var> = [&base.transitions, &base.start, &base.end]
            .iter()
            .map(|t| Var::from_tensor(t).unwrap())
            .collect();
        let emissions = Var::from_tensor(&batch.emissions(DType::F64)).unwrap();
        let (tags, mask) = (batch.tags(), batch.mask(DType::U8));
        let loss = |p: [&Tensor; 4]| -> f64 {
            let crf = Crf::new(p[0].clone(), p[1].clone(), p[2].clone()).unwrap();
            crf.neg_log_likelihood(p[3], &tags, &mask)
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        let all = [
            vars[0].as_tensor(),
            vars[1].as_tensor(),
            vars[2].as_tensor(),
            emissions.as_tensor(),
        ];
        let grads = Crf::new(all[0].clone(), all[1].clone(), all[2].clone())
            .unwrap()
            .neg_log_likelihood(all[3], &tags, &mask)
            .unwrap()
            .backward()
            .unwrap();
        let eps = 1e-6;
        for which in 0..4 {
            let analytic: Vec<f64> = grads
                .get(all[which])
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let values: Vec<f64> = all[which].flatten_all().unwrap().to_vec1().unwrap();
            for (i, g) in analytic.iter().enumerate() {
                let shifted = |delta: f64| {
                    let mut v = values.clone();
                    v[i] += delta;
                    let t = Tensor::from_vec(v, all[which].shape(), &Device::Cpu).unwrap();
                    let mut p = all;
                    p[which] = &t;
                    loss(p)
                };
                let numeric = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
                assert!(
                    (numeric - g).abs() < 1e-6,
                    "tensor {which} index {i}: {numeric} vs {g}"
                );
            }
        }
    }

    #[test]
    fn padding_changes_neither_nll_nor_viterbi_nor_gradients() {
        let mut rng = Lcg(13);
        let dev = &Device::Cpu;
        for case in 0..20 {
            let params = Params::random(&mut rng, 2.0);
            let n = 1 + case % 4;
            let short = Batch {
                lengths: vec![n],
                ..Batch::random(&mut rng, 1, n, 2.0)
            };
            let mut long = Batch {
                emissions: short.emissions.clone(),
                tags: short.tags.clone(),
                lengths: vec![n],
            };
            for (i, junk) in [f32::NAN, 1e30, f32::NEG_INFINITY].into_iter().enumerate() {
                long.emissions[0].push(vec![junk, rng.uniform(50.0), -junk]);
                long.tags[0].push([2, 0, 1][i]);
            }
            let run = |batch: &Batch| {
                let crf = params.crf(DType::F32);
                let transitions = Var::from_tensor(&crf.transitions).unwrap();
                let crf = Crf::new(transitions.as_tensor().clone(), crf.start, crf.end).unwrap();
                let loss = crf
                    .neg_log_likelihood(
                        &batch.emissions(DType::F32),
                        &batch.tags(),
                        &batch.mask(DType::F32),
                    )
                    .unwrap();
                // A one-word row never uses the transitions: candle then has no gradient at all.
                let grad: Vec<f32> = match loss.backward().unwrap().get(transitions.as_tensor()) {
                    Some(g) => g.flatten_all().unwrap().to_vec1().unwrap(),
                    None => vec![0.0; K * K],
                };
                let path = crf
                    .viterbi(&batch.emissions(DType::F32), &batch.lengths)
                    .unwrap();
                (loss.to_scalar::<f32>().unwrap(), grad, path)
            };
            let (short_loss, short_grad, short_path) = run(&short);
            let (long_loss, long_grad, long_path) = run(&long);
            assert!(
                (short_loss - long_loss).abs() < 1e-5,
                "case {case}: {short_loss} vs {long_loss}"
            );
            assert!(
                short_grad
                    .iter()
                    .zip(&long_grad)
                    .all(|(a, b)| (a - b).abs() < 1e-5),
                "case {case}"
            );
            assert_eq!(short_path, long_path);
            // Out-of-range tags at padded positions are ignored as well.
            let tags = Tensor::new(&[[0u32, 1, 2, 9]], dev).unwrap();
            let mask = Tensor::new(&[[1u8, 1, 1, 0]], dev).unwrap();
            let emissions = Tensor::from_vec(rng.vec(4 * K, 1.0), (1, 4, K), dev).unwrap();
            let crf = params.crf(DType::F32);
            let padded: f32 = crf
                .neg_log_likelihood(&emissions, &tags, &mask)
                .unwrap()
                .to_scalar()
                .unwrap();
            let trimmed: f32 = crf
                .neg_log_likelihood(
                    &emissions.narrow(1, 0, 3).unwrap(),
                    &tags.narrow(1, 0, 3).unwrap(),
                    &mask.narrow(1, 0, 3).unwrap(),
                )
                .unwrap()
                .to_scalar()
                .unwrap();
            assert!((padded - trimmed).abs() < 1e-5);
        }
    }

    #[test]
    fn shape_errors_are_errors() {
        let dev = &Device::Cpu;
        let crf = Params::random(&mut Lcg(1), 1.0).crf(DType::F32);
        let emissions = Tensor::zeros((2, 3, K), DType::F32, dev).unwrap();
        let tags = Tensor::zeros((2, 3), DType::U32, dev).unwrap();
        let mask = Tensor::ones((2, 3), DType::F32, dev).unwrap();
        assert!(crf.neg_log_likelihood(&emissions, &tags, &mask).is_ok());

        let wrong_k = Tensor::zeros((2, 3, K + 1), DType::F32, dev).unwrap();
        assert!(crf.neg_log_likelihood(&wrong_k, &tags, &mask).is_err());
        assert!(crf.viterbi(&wrong_k, &[3, 3]).is_err());
        let rank2 = Tensor::zeros((2, K), DType::F32, dev).unwrap();
        assert!(crf.neg_log_likelihood(&rank2, &tags, &mask).is_err());
        assert!(crf.viterbi(&rank2, &[1, 1]).is_err());
        assert!(crf
            .neg_log_likelihood(&emissions, &tags.narrow(1, 0, 2).unwrap(), &mask)
            .is_err());
        assert!(crf
            .neg_log_likelihood(&emissions, &tags, &mask.narrow(0, 0, 1).unwrap())
            .is_err());
        let empty = Tensor::zeros((0, 3, K), DType::F32, dev).unwrap();
        assert!(crf
            .neg_log_likelihood(
                &empty,
                &tags.narrow(0, 0, 0).unwrap(),
                &mask.narrow(0, 0, 0).unwrap()
            )
            .is_err());
        assert!(crf.viterbi(&emissions, &[3]).is_err());
        assert!(crf.viterbi(&emissions, &[3, 4]).is_err());
        assert_eq!(
            crf.viterbi(&emissions, &[0, 2]).unwrap()[0],
            Vec::<u32>::new()
        );

        let square = Tensor::zeros((K, K), DType::F32, dev).unwrap();
        let vector = Tensor::zeros(K, DType::F32, dev).unwrap();
        let short = Tensor::zeros(K - 1, DType::F32, dev).unwrap();
        let oblong = Tensor::zeros((K, K + 1), DType::F32, dev).unwrap();
        assert!(Crf::new(oblong, vector.clone(), vector.clone()).is_err());
        assert!(Crf::new(square.clone(), short.clone(), vector.clone()).is_err());
        assert!(Crf::new(square.clone(), vector.clone(), short.clone()).is_err());
        assert!(Crf::new(
            square.clone(),
            vector.to_dtype(DType::F64).unwrap(),
            vector.clone()
        )
        .is_err());
        assert!(Crf::new(
            Tensor::zeros((0, 0), DType::F32, dev).unwrap(),
            short.narrow(0, 0, 0).unwrap(),
            vector.narrow(0, 0, 0).unwrap()
        )
        .is_err());

        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, dev);
        assert!(Crf::load(vb.pp("a"), 0).is_err());
        Crf::load(vb.pp("b"), K).unwrap();
        assert!(
            Crf::load(vb.pp("b"), K + 1).is_err(),
            "stored shape differs"
        );
    }
}
