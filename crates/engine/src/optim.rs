//! Optimisers on flat parameter and gradient buffers (`docs/engine-semantics.md`).
//!
//! Element-wise, in the parameters' type, in this order of operations (the
//! GPU backend computes the same expressions):
//!
//! * SGD: `v ← μ·v + g; w ← w − lr·v`; with μ = 0 no velocity is kept and
//!   `w ← w − lr·g`.
//! * Adam: `m ← β₁·m + (1−β₁)·g; v ← β₂·v + (1−β₂)·(g·g);
//!   w ← w − (lr·(m/c₁)) / (√(v/c₂) + ε)` with c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ
//!   (computed in f64 by binary powering, [`powi`], and rounded), t = 1, 2, … the
//!   number of updates so far.
//!   Constants (lr, β, 1 − β, ε, c) are rounded from f64 to the type once.
//!
//! [`OptimizerConfig`] describes an optimiser and its hyper-parameters (in f64): the CPU
//! engine builds its [`Optimizer`] from it, the GPU grid runs it (`cuda::GridConfig`,
//! rounding to f32 as above) and the experiments record it.

use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::matmul::Threads;
use crate::real::Real;

/// Element-wise updates smaller than this run on the calling thread.
const PAR_MIN: usize = 64 * 1024;

/// `a`ⁿ by binary powering (square-and-multiply from the low bit), the order of
/// operations the GPU kernels repeat for Adam's bias corrections.
pub fn powi(mut a: f64, mut n: u64) -> f64 {
    let mut r = 1.0;
    loop {
        if n & 1 == 1 {
            r *= a;
        }
        n >>= 1;
        if n == 0 {
            return r;
        }
        a *= a;
    }
}

/// An optimiser and its hyper-parameters, in f64 (rounded to the parameters' type once,
/// at each update, as the module documentation says).
///
/// Serialised (serde) internally tagged: `{"kind":"sgd","lr":…,"momentum":…}` or
/// `{"kind":"adam","lr":…}`; Adam's β₁, β₂ and ε are written only where they differ
/// from the defaults ([`OptimizerConfig::ADAM_BETA1`], [`OptimizerConfig::ADAM_BETA2`],
/// [`OptimizerConfig::ADAM_EPS`]) and read as the defaults where absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OptimizerConfig {
    /// SGD with momentum μ ∈ [0, 1) (0 = plain SGD, the paper's):
    /// `v ← μ·v + g; w ← w − lr·v` ([`Sgd`]).
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum μ.
        momentum: f64,
    },
    /// Adam with bias correction ([`Adam`]).
    Adam {
        /// Learning rate.
        lr: f64,
        /// β₁ ∈ [0, 1).
        #[serde(
            default = "adam_defaults::beta1",
            skip_serializing_if = "adam_defaults::is_beta1"
        )]
        beta1: f64,
        /// β₂ ∈ [0, 1).
        #[serde(
            default = "adam_defaults::beta2",
            skip_serializing_if = "adam_defaults::is_beta2"
        )]
        beta2: f64,
        /// ε > 0.
        #[serde(
            default = "adam_defaults::eps",
            skip_serializing_if = "adam_defaults::is_eps"
        )]
        eps: f64,
    },
}

/// Serde defaults of [`OptimizerConfig::Adam`] (compared bit for bit).
mod adam_defaults {
    use super::OptimizerConfig as C;

    pub(super) fn beta1() -> f64 {
        C::ADAM_BETA1
    }
    pub(super) fn beta2() -> f64 {
        C::ADAM_BETA2
    }
    pub(super) fn eps() -> f64 {
        C::ADAM_EPS
    }
    pub(super) fn is_beta1(v: &f64) -> bool {
        v.to_bits() == C::ADAM_BETA1.to_bits()
    }
    pub(super) fn is_beta2(v: &f64) -> bool {
        v.to_bits() == C::ADAM_BETA2.to_bits()
    }
    pub(super) fn is_eps(v: &f64) -> bool {
        v.to_bits() == C::ADAM_EPS.to_bits()
    }
}

impl OptimizerConfig {
    /// Adam's default β₁.
    pub const ADAM_BETA1: f64 = 0.9;
    /// Adam's default β₂.
    pub const ADAM_BETA2: f64 = 0.999;
    /// Adam's default ε.
    pub const ADAM_EPS: f64 = 1e-8;

    /// Plain SGD (momentum 0) with learning rate `lr`.
    pub const fn sgd(lr: f64) -> Self {
        OptimizerConfig::Sgd { lr, momentum: 0.0 }
    }

    /// Adam with learning rate `lr` and the default β₁, β₂, ε.
    pub const fn adam(lr: f64) -> Self {
        OptimizerConfig::Adam {
            lr,
            beta1: Self::ADAM_BETA1,
            beta2: Self::ADAM_BETA2,
            eps: Self::ADAM_EPS,
        }
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } => lr,
        }
    }

    /// The same optimiser with learning rate `lr`.
    #[must_use]
    pub fn with_lr(mut self, lr: f64) -> Self {
        match &mut self {
            OptimizerConfig::Sgd { lr: l, .. } | OptimizerConfig::Adam { lr: l, .. } => *l = lr,
        }
        self
    }

    /// Whether this is SGD without momentum.
    pub fn is_plain_sgd(&self) -> bool {
        matches!(*self, OptimizerConfig::Sgd { momentum, .. } if momentum == 0.0)
    }

    /// Checks the hyper-parameters: lr > 0, μ, β₁, β₂ ∈ [0, 1), ε > 0, all finite.
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] naming the first value out of range.
    pub fn validate(&self) -> Result<(), EngineError> {
        self.build::<f64>().map(drop)
    }

    /// The CPU optimiser (no state yet).
    ///
    /// # Errors
    /// As [`OptimizerConfig::validate`].
    pub fn build<T: Real>(&self) -> Result<Optimizer<T>, EngineError> {
        match *self {
            OptimizerConfig::Sgd { lr, momentum } => Optimizer::sgd(lr, momentum),
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Adam::with_params(lr, beta1, beta2, eps).map(Optimizer::Adam),
        }
    }
}

impl fmt::Display for OptimizerConfig {
    /// "sgd", "sgd momentum μ" or "adam".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OptimizerConfig::Sgd { momentum: 0.0, .. } => f.write_str("sgd"),
            OptimizerConfig::Sgd { momentum, .. } => write!(f, "sgd momentum {momentum}"),
            OptimizerConfig::Adam { .. } => f.write_str("adam"),
        }
    }
}

/// Stochastic gradient descent with optional momentum.
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd<T = f32> {
    lr: f64,
    momentum: f64,
    velocity: Vec<T>,
}

/// Adam with bias correction.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<T = f32> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    m: Vec<T>,
    v: Vec<T>,
    t: u64,
}

/// An optimiser.
#[derive(Debug, Clone, PartialEq)]
pub enum Optimizer<T = f32> {
    /// SGD (μ = 0: plain).
    Sgd(Sgd<T>),
    /// Adam.
    Adam(Adam<T>),
}

fn check(what: &'static str, value: f64, ok: bool, valid: &'static str) -> Result<(), EngineError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(EngineError::InvalidParameter { what, value, valid })
    }
}

fn check_lr(lr: f64) -> Result<(), EngineError> {
    check("learning rate", lr, lr > 0.0, "(0, inf)")
}

fn check_len(params: usize, grads: usize) -> Result<(), EngineError> {
    if params == grads {
        Ok(())
    } else {
        Err(EngineError::LengthMismatch {
            what: "gradients",
            len: grads,
            expected: params,
        })
    }
}

/// Elements per rayon task for `threads` (None: run on the calling thread).
fn chunk_len(len: usize, threads: Threads) -> Option<usize> {
    let nt = match threads {
        Threads::One => 1,
        Threads::Many(n) => n.max(1),
    };
    (nt > 1 && len >= PAR_MIN).then(|| len.div_ceil(nt))
}

impl<T: Real> Sgd<T> {
    /// SGD with learning rate `lr` and momentum `momentum` (0: plain).
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] unless lr > 0 and μ ∈ [0, 1).
    pub fn new(lr: f64, momentum: f64) -> Result<Self, EngineError> {
        check_lr(lr)?;
        check(
            "momentum",
            momentum,
            (0.0..1.0).contains(&momentum),
            "[0, 1)",
        )?;
        Ok(Sgd {
            lr,
            momentum,
            velocity: Vec::new(),
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Changes the learning rate.
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] unless lr > 0.
    pub fn set_lr(&mut self, lr: f64) -> Result<(), EngineError> {
        check_lr(lr)?;
        self.lr = lr;
        Ok(())
    }

    /// μ.
    pub fn momentum(&self) -> f64 {
        self.momentum
    }

    /// One update.
    ///
    /// # Errors
    /// [`EngineError::LengthMismatch`] when the lengths differ.
    pub fn update(
        &mut self,
        params: &mut [T],
        grads: &[T],
        threads: Threads,
    ) -> Result<(), EngineError> {
        check_len(params.len(), grads.len())?;
        let lr = T::from_f64(self.lr);
        if self.momentum == 0.0 {
            let f = |p: &mut [T], g: &[T]| {
                for (w, &g) in p.iter_mut().zip(g) {
                    *w = *w - lr * g;
                }
            };
            match chunk_len(params.len(), threads) {
                None => f(params, grads),
                Some(c) => params
                    .par_chunks_mut(c)
                    .zip(grads.par_chunks(c))
                    .for_each(|(p, g)| f(p, g)),
            }
        } else {
            let mu = T::from_f64(self.momentum);
            self.velocity.resize(params.len(), T::ZERO);
            let f = |p: &mut [T], g: &[T], v: &mut [T]| {
                for ((w, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
                    *v = mu * *v + g;
                    *w = *w - lr * *v;
                }
            };
            let v = &mut self.velocity[..];
            match chunk_len(params.len(), threads) {
                None => f(params, grads, v),
                Some(c) => params
                    .par_chunks_mut(c)
                    .zip(grads.par_chunks(c))
                    .zip(v.par_chunks_mut(c))
                    .for_each(|((p, g), v)| f(p, g, v)),
            }
        }
        Ok(())
    }
}

impl<T: Real> Adam<T> {
    /// Adam with learning rate `lr`, β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] unless lr > 0.
    pub fn new(lr: f64) -> Result<Self, EngineError> {
        Adam::with_params(
            lr,
            OptimizerConfig::ADAM_BETA1,
            OptimizerConfig::ADAM_BETA2,
            OptimizerConfig::ADAM_EPS,
        )
    }

    /// Adam with explicit β₁, β₂ ∈ [0, 1) and ε > 0.
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] for a value out of range.
    pub fn with_params(lr: f64, beta1: f64, beta2: f64, eps: f64) -> Result<Self, EngineError> {
        check_lr(lr)?;
        check("beta1", beta1, (0.0..1.0).contains(&beta1), "[0, 1)")?;
        check("beta2", beta2, (0.0..1.0).contains(&beta2), "[0, 1)")?;
        check("eps", eps, eps > 0.0, "(0, inf)")?;
        Ok(Adam {
            lr,
            beta1,
            beta2,
            eps,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Changes the learning rate.
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] unless lr > 0.
    pub fn set_lr(&mut self, lr: f64) -> Result<(), EngineError> {
        check_lr(lr)?;
        self.lr = lr;
        Ok(())
    }

    /// Updates done so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One update.
    ///
    /// # Errors
    /// [`EngineError::LengthMismatch`] when the lengths differ.
    pub fn update(
        &mut self,
        params: &mut [T],
        grads: &[T],
        threads: Threads,
    ) -> Result<(), EngineError> {
        check_len(params.len(), grads.len())?;
        self.m.resize(params.len(), T::ZERO);
        self.v.resize(params.len(), T::ZERO);
        self.t += 1;
        let (b1, b2) = (T::from_f64(self.beta1), T::from_f64(self.beta2));
        let (c1, c2) = (T::from_f64(1.0 - self.beta1), T::from_f64(1.0 - self.beta2));
        let bc1 = T::from_f64(1.0 - powi(self.beta1, self.t));
        let bc2 = T::from_f64(1.0 - powi(self.beta2, self.t));
        let (lr, eps) = (T::from_f64(self.lr), T::from_f64(self.eps));
        let f = |p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]| {
            for (((w, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + c1 * g;
                *v = b2 * *v + c2 * (g * g);
                let mhat = *m / bc1;
                let vhat = *v / bc2;
                // sqrt through f64 is the correctly rounded sqrt of the type
                // (exact for f32: f64 has more than 2·24 + 2 bits).
                let root = T::from_f64(vhat.to_f64().sqrt());
                *w = *w - (lr * mhat) / (root + eps);
            }
        };
        let (m, v) = (&mut self.m[..], &mut self.v[..]);
        match chunk_len(params.len(), threads) {
            None => f(params, grads, m, v),
            Some(c) => params
                .par_chunks_mut(c)
                .zip(grads.par_chunks(c))
                .zip(m.par_chunks_mut(c).zip(v.par_chunks_mut(c)))
                .for_each(|((p, g), (m, v))| f(p, g, m, v)),
        }
        Ok(())
    }
}

impl<T: Real> Optimizer<T> {
    /// SGD (see [`Sgd::new`]).
    ///
    /// # Errors
    /// As [`Sgd::new`].
    pub fn sgd(lr: f64, momentum: f64) -> Result<Self, EngineError> {
        Ok(Optimizer::Sgd(Sgd::new(lr, momentum)?))
    }

    /// Adam with the default β and ε (see [`Adam::new`]).
    ///
    /// # Errors
    /// As [`Adam::new`].
    pub fn adam(lr: f64) -> Result<Self, EngineError> {
        Ok(Optimizer::Adam(Adam::new(lr)?))
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            Optimizer::Sgd(s) => s.lr(),
            Optimizer::Adam(a) => a.lr(),
        }
    }

    /// Changes the learning rate.
    ///
    /// # Errors
    /// [`EngineError::InvalidParameter`] unless lr > 0.
    pub fn set_lr(&mut self, lr: f64) -> Result<(), EngineError> {
        match self {
            Optimizer::Sgd(s) => s.set_lr(lr),
            Optimizer::Adam(a) => a.set_lr(lr),
        }
    }

    /// The optimiser's description (its hyper-parameters; the state is not part of it).
    pub fn config(&self) -> OptimizerConfig {
        match self {
            Optimizer::Sgd(s) => OptimizerConfig::Sgd {
                lr: s.lr,
                momentum: s.momentum,
            },
            Optimizer::Adam(a) => OptimizerConfig::Adam {
                lr: a.lr,
                beta1: a.beta1,
                beta2: a.beta2,
                eps: a.eps,
            },
        }
    }

    /// Whether this is SGD without momentum (the update can be fused into the
    /// backward pass, [`crate::Mlp::backward_sgd`]).
    pub fn is_plain_sgd(&self) -> bool {
        matches!(self, Optimizer::Sgd(s) if s.momentum == 0.0)
    }

    /// One update of `params` from `grads`.
    ///
    /// # Errors
    /// [`EngineError::LengthMismatch`] when the lengths differ.
    pub fn update(
        &mut self,
        params: &mut [T],
        grads: &[T],
        threads: Threads,
    ) -> Result<(), EngineError> {
        match self {
            Optimizer::Sgd(s) => s.update(params, grads, threads),
            Optimizer::Adam(a) => a.update(params, grads, threads),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binary powering agrees with `f64::powi` (compiler-builtins' `__powidf2` uses the
    /// same square-and-multiply order) and with repeated multiplication where exact.
    #[test]
    fn powi_by_squaring() {
        for a in [0.9, 0.999, 0.5, 1.0 - 1e-9, 0.0] {
            for n in [0u64, 1, 2, 3, 7, 100, 1000, 123_457] {
                assert_eq!(powi(a, n), a.powi(n as i32), "{a}^{n}");
            }
        }
        assert_eq!(powi(2.0, 10), 1024.0);
        assert_eq!(powi(0.5, 3), 0.125);
    }

    #[test]
    fn sgd_with_momentum_follows_the_formula() {
        let mut opt = Sgd::<f64>::new(0.1, 0.9).unwrap();
        let mut w = vec![1.0, -2.0];
        opt.update(&mut w, &[1.0, 0.5], Threads::One).unwrap();
        assert_eq!(w, vec![1.0 - 0.1, -2.0 - 0.05]);
        opt.update(&mut w, &[1.0, 0.5], Threads::One).unwrap();
        // v = 0.9·1 + 1 = 1.9; w = 0.9 − 0.19.
        assert!((w[0] - (0.9 - 0.19)).abs() < 1e-15);
        let mut plain = Sgd::<f64>::new(0.5, 0.0).unwrap();
        let mut w = vec![1.0];
        plain.update(&mut w, &[2.0], Threads::One).unwrap();
        assert_eq!(w, vec![0.0]);
        assert!(plain.velocity.is_empty());
    }

    #[test]
    fn adam_first_steps_match_a_scalar_reference() {
        let mut opt = Adam::<f64>::new(0.01).unwrap();
        let mut w = vec![0.5, -0.5, 0.0];
        let gs = [[0.3, -2.0, 0.0], [0.1, 1.0, 0.0]];
        let (mut m, mut v, mut wr) = ([0.0; 3], [0.0; 3], [0.5, -0.5, 0.0]);
        for (t, g) in gs.iter().enumerate() {
            opt.update(&mut w, g, Threads::One).unwrap();
            for i in 0..3 {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                let mh = m[i] / (1.0 - 0.9f64.powi(t as i32 + 1));
                let vh = v[i] / (1.0 - 0.999f64.powi(t as i32 + 1));
                wr[i] -= 0.01 * mh / (vh.sqrt() + 1e-8);
            }
        }
        for i in 0..3 {
            assert!((w[i] - wr[i]).abs() < 1e-14, "{i}: {} vs {}", w[i], wr[i]);
        }
        // First step moves each weight by lr·sign(g).
        let mut opt = Adam::<f32>::new(0.01).unwrap();
        let mut w = vec![0.0f32; 2];
        opt.update(&mut w, &[3.0, -1e-3], Threads::One).unwrap();
        assert!((w[0] + 0.01).abs() < 1e-6 && (w[1] - 0.01).abs() < 1e-5);
    }

    #[test]
    fn updates_do_not_depend_on_threads_and_reject_bad_settings() {
        let n = 200_003;
        let g: Vec<f32> = (0..n)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        for mut opt in [
            Optimizer::<f32>::sgd(0.1, 0.0).unwrap(),
            Optimizer::sgd(0.1, 0.9).unwrap(),
            Optimizer::adam(1e-3).unwrap(),
        ] {
            let mut opt2 = opt.clone();
            let (mut w1, mut w2) = (vec![0.25f32; n], vec![0.25f32; n]);
            for _ in 0..3 {
                opt.update(&mut w1, &g, Threads::One).unwrap();
                opt2.update(&mut w2, &g, Threads::Many(3)).unwrap();
            }
            assert!(w1.iter().zip(&w2).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        assert!(Sgd::<f32>::new(0.0, 0.0).is_err());
        assert!(Sgd::<f32>::new(0.1, 1.0).is_err());
        assert!(Adam::<f32>::new(f64::NAN).is_err());
        assert!(Adam::<f32>::with_params(0.1, 0.9, 1.0, 1e-8).is_err());
        let mut opt = Optimizer::<f32>::sgd(0.1, 0.0).unwrap();
        assert!(matches!(
            opt.update(&mut [0.0; 2], &[0.0; 3], Threads::One),
            Err(EngineError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn configs_build_the_optimisers_they_describe() {
        let adam = OptimizerConfig::adam(1e-3);
        assert_eq!(
            adam.build::<f32>().unwrap(),
            Optimizer::<f32>::adam(1e-3).unwrap()
        );
        let momentum = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.9,
        };
        for c in [OptimizerConfig::sgd(0.5), momentum, adam] {
            assert_eq!(c.build::<f64>().unwrap().config(), c);
            assert_eq!(c.with_lr(0.25).lr(), 0.25);
        }
        assert!(OptimizerConfig::sgd(0.5).is_plain_sgd() && !momentum.is_plain_sgd());
        assert_eq!(
            [OptimizerConfig::sgd(0.5), momentum, adam].map(|c| c.to_string()),
            ["sgd", "sgd momentum 0.9", "adam"]
        );
        assert!(OptimizerConfig::sgd(0.0).validate().is_err());
        assert!(
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 1.0
            }
            .validate()
            .is_err()
        );
        let bad_eps = OptimizerConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 0.0,
        };
        assert!(bad_eps.validate().is_err());
    }
}
