//! AdamW with decoupled weight decay, whose state can be saved and
//! restored exactly (candle-nn's `AdamW` keeps its moments private, and an
//! exact `--resume` needs them).

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use std::collections::HashMap;

/// One trainable tensor and its optimiser state.
struct Param {
    name: String,
    var: Var,
    m: Tensor,
    v: Tensor,
    decay: bool,
    /// This tensor's learning rate is the step's times this.
    lr_scale: f64,
}

/// AdamW over named variables.
pub struct AdamW {
    params: Vec<Param>,
    /// Steps taken so far.
    pub t: u64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamW {
    /// Weight decay applies to matrices only, not to biases, LayerNorm or CRF vectors.
    pub fn new(vars: Vec<(String, Var)>, weight_decay: f64) -> Result<Self> {
        let params = vars
            .into_iter()
            .map(|(name, var)| {
                let decay = var.rank() >= 2
                    && !name.contains("LayerNorm")
                    && !name.contains("layer_norm")
                    && !name.starts_with("crf.");
                Ok(Param {
                    m: var.zeros_like()?,
                    v: var.zeros_like()?,
                    name,
                    var,
                    decay,
                    lr_scale: 1.0,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            params,
            t: 0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        })
    }

    /// Multiplies the learning rate of the tagging head (the classifier and
    /// the CRF: `classifier.*`, `crf.*`) by `scale`; the encoder keeps the
    /// step's rate. Returns how many tensors it applies to.
    pub fn scale_head_lr(&mut self, scale: f64) -> usize {
        let mut n = 0;
        for p in &mut self.params {
            if p.name.starts_with("classifier.") || p.name.starts_with("crf.") {
                p.lr_scale = scale;
                n += 1;
            }
        }
        n
    }

    /// Global L2 norm of the gradients of the optimised variables.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut sum = 0f64;
        for p in &self.params {
            if let Some(g) = grads.get(p.var.as_tensor()) {
                sum += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            }
        }
        Ok(sum.sqrt())
    }

    /// One update with learning rate `lr`, gradients multiplied by `scale`
    /// (for clipping). Variables without a gradient are left alone.
    pub fn step(&mut self, grads: &GradStore, lr: f64, scale: f64) -> Result<()> {
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        for p in &mut self.params {
            let Some(g) = grads.get(p.var.as_tensor()) else {
                continue;
            };
            let g = (g * scale)?;
            p.m = ((&p.m * b1)? + (&g * (1.0 - b1))?)?;
            p.v = ((&p.v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let update = ((&p.m / c1)? / ((&p.v / c2)?.sqrt()? + self.eps)?)?;
            let lr = lr * p.lr_scale;
            let mut theta = p.var.as_tensor().clone();
            if p.decay {
                theta = (theta * (1.0 - lr * self.weight_decay))?;
            }
            p.var.set(&(theta - (update * lr)?)?)?;
        }
        Ok(())
    }

    /// The moments, as tensors named `m.<var>` and `v.<var>`.
    pub fn state(&self) -> HashMap<String, Tensor> {
        let mut out = HashMap::new();
        for p in &self.params {
            out.insert(format!("m.{}", p.name), p.m.clone());
            out.insert(format!("v.{}", p.name), p.v.clone());
        }
        out
    }

    /// Restores moments saved by [`AdamW::state`] and the step count.
    pub fn restore(&mut self, state: &HashMap<String, Tensor>, t: u64) -> Result<()> {
        for p in &mut self.params {
            let (Some(m), Some(v)) = (
                state.get(&format!("m.{}", p.name)),
                state.get(&format!("v.{}", p.name)),
            ) else {
                candle_core::bail!("optimizer state has no moments for {}", p.name)
            };
            p.m = m.to_device(p.var.device())?;
            p.v = v.to_device(p.var.device())?;
        }
        self.t = t;
        Ok(())
    }
}

/// Learning rate at `step` (0-based): linear warm-up to `peak` over
/// `warmup` steps, then linear decay to 0 at `total`.
pub fn lr_at(step: usize, peak: f64, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        peak * (step + 1) as f64 / warmup as f64
    } else {
        peak * (total.saturating_sub(step)) as f64 / (total - warmup).max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedule_warms_up_then_decays() {
        assert_eq!(lr_at(0, 1.0, 4, 10), 0.25);
        assert_eq!(lr_at(3, 1.0, 4, 10), 1.0);
        assert_eq!(lr_at(4, 1.0, 4, 10), 1.0);
        assert!((lr_at(7, 1.0, 4, 10) - 0.5).abs() < 1e-12);
        assert_eq!(lr_at(10, 1.0, 4, 10), 0.0);
        assert_eq!(lr_at(0, 1.0, 0, 10), 1.0);
    }

    #[test]
    fn the_head_learning_rate_is_scaled_and_the_encoder_kept() {
        let vars: Vec<(String, Var)> = [
            "classifier.weight",
            "crf.transitions",
            "transformer.layer.0.w",
        ]
        .into_iter()
        .map(|n| {
            (
                n.to_owned(),
                Var::from_vec(vec![1f32; 4], (2, 2), &Device::Cpu).unwrap(),
            )
        })
        .collect();
        let mut opt = AdamW::new(vars.clone(), 0.0).unwrap();
        assert_eq!(opt.scale_head_lr(10.0), 2);
        let loss = vars
            .iter()
            .map(|(_, v)| v.as_tensor().sum_all().unwrap())
            .reduce(|a, b| (a + b).unwrap())
            .unwrap();
        opt.step(&loss.backward().unwrap(), 0.001, 1.0).unwrap();
        // Adam's first step moves every value by the learning rate.
        let moved: Vec<f32> = vars
            .iter()
            .map(|(_, v)| {
                1.0 - v
                    .as_tensor()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()[0]
            })
            .collect();
        for (m, want) in moved.iter().zip([0.01f32, 0.01, 0.001]) {
            assert!((m - want).abs() < 1e-6, "{moved:?}");
        }
    }

    #[test]
    fn minimises_a_quadratic_and_restores_exactly() {
        let x = Var::from_vec(vec![3f32, -2.0], 2, &Device::Cpu).unwrap();
        let mut opt = AdamW::new(vec![("x".into(), x.clone())], 0.0).unwrap();
        for _ in 0..300 {
            let loss = x.as_tensor().sqr().unwrap().sum_all().unwrap();
            opt.step(&loss.backward().unwrap(), 0.05, 1.0).unwrap();
        }
        let v: Vec<f32> = x.as_tensor().to_vec1().unwrap();
        assert!(v.iter().all(|a| a.abs() < 0.05), "{v:?}");
        // A restored optimiser continues exactly like the original.
        let y = Var::from_vec(v.clone(), 2, &Device::Cpu).unwrap();
        let mut copy = AdamW::new(vec![("x".into(), y.clone())], 0.0).unwrap();
        copy.restore(&opt.state(), opt.t).unwrap();
        for (var, o) in [(&x, &mut opt), (&y, &mut copy)] {
            let loss = var.as_tensor().sqr().unwrap().sum_all().unwrap();
            o.step(&loss.backward().unwrap(), 0.05, 1.0).unwrap();
        }
        assert_eq!(
            x.as_tensor().to_vec1::<f32>().unwrap(),
            y.as_tensor().to_vec1::<f32>().unwrap()
        );
    }
}
