//! Sampling the noise laws of [`noisyprop_theory::NoiseLaw`] on buffers.
//!
//! Element i of a buffer gets its noise from counter i of the stage's stream
//! ([`crate::rng::Key`]), so a draw does not depend on how the work is split
//! between threads or devices. Dropout uses 32 random bits per element
//! (keep when the bits are below keep·2³²); Gaussian laws use Box–Muller on
//! one 64-bit draw per pair of elements; Laplace and uniform laws invert their
//! CDF; Poisson and Gamma draw from `rand_distr` with a generator seeded per
//! element (CPU only, slower).

use noisyprop_theory::{Noise, NoiseLaw};
use rand_distr::{Distribution, Gamma, Poisson};

use crate::error::EngineError;
use crate::real::Real;
use crate::rng::{self, Key};

/// One samplable stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// Inverted dropout with keep probability `keep`.
    Dropout {
        /// Keep probability.
        keep: f64,
        /// keep·2³² as the comparison threshold.
        threshold: u64,
    },
    /// Multiplicative N(1, std²).
    GaussMult(f64),
    /// Multiplicative Laplace(1, scale).
    LaplaceMult(f64),
    /// X/rate, X ~ Poisson(rate).
    Poisson(f64),
    /// Gamma(shape, 1/shape).
    Gamma(f64),
    /// Uniform(1 − a, 1 + a).
    UniformMult(f64),
    /// Additive N(0, std²).
    GaussAdd(f64),
    /// Additive Laplace(0, scale).
    LaplaceAdd(f64),
}

impl Stage {
    fn from_law(law: NoiseLaw) -> Result<Option<Stage>, EngineError> {
        Ok(Some(match law {
            NoiseLaw::None => return Ok(None),
            NoiseLaw::Dropout { keep } if keep >= 1.0 => return Ok(None),
            NoiseLaw::Dropout { keep } => Stage::Dropout {
                keep,
                threshold: (keep * 4_294_967_296.0) as u64,
            },
            NoiseLaw::GaussMult { std } => Stage::GaussMult(std),
            NoiseLaw::LaplaceMult { scale } => Stage::LaplaceMult(scale),
            NoiseLaw::Poisson { rate } => Stage::Poisson(rate),
            NoiseLaw::Gamma { shape } => Stage::Gamma(shape),
            NoiseLaw::UniformMult { half_width } => Stage::UniformMult(half_width),
            NoiseLaw::GaussAdd { std } => Stage::GaussAdd(std),
            NoiseLaw::LaplaceAdd { scale } => Stage::LaplaceAdd(scale),
            NoiseLaw::Mult { .. } | NoiseLaw::Add { .. } => {
                return Err(EngineError::NotSamplable {
                    law: law.to_string(),
                });
            }
        }))
    }

    /// Whether the stage multiplies (else adds).
    pub fn is_multiplicative(&self) -> bool {
        match self {
            Stage::Dropout { .. }
            | Stage::GaussMult(_)
            | Stage::LaplaceMult(_)
            | Stage::Poisson(_)
            | Stage::Gamma(_)
            | Stage::UniformMult(_) => true,
            Stage::GaussAdd(_) | Stage::LaplaceAdd(_) => false,
        }
    }

    /// The law this stage samples.
    pub fn law(&self) -> NoiseLaw {
        match *self {
            Stage::Dropout { keep, .. } => NoiseLaw::Dropout { keep },
            Stage::GaussMult(std) => NoiseLaw::GaussMult { std },
            Stage::LaplaceMult(scale) => NoiseLaw::LaplaceMult { scale },
            Stage::Poisson(rate) => NoiseLaw::Poisson { rate },
            Stage::Gamma(shape) => NoiseLaw::Gamma { shape },
            Stage::UniformMult(half_width) => NoiseLaw::UniformMult { half_width },
            Stage::GaussAdd(std) => NoiseLaw::GaussAdd { std },
            Stage::LaplaceAdd(scale) => NoiseLaw::LaplaceAdd { scale },
        }
    }
}

/// A noise stack ready to sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoiseSampler {
    stages: Vec<Stage>,
}

#[inline]
fn laplace(u: f64) -> f64 {
    // Inverse CDF of Laplace(0, 1) at u ∈ [0, 1).
    let v = u - 0.5;
    -v.signum() * (1.0 - 2.0 * v.abs()).max(f64::MIN_POSITIVE).ln()
}

impl NoiseSampler {
    /// Prepares `noise` for sampling.
    ///
    /// # Errors
    /// [`EngineError::NotSamplable`] for laws given only by a moment
    /// (`mult:mu2=…`, `add:var=…`).
    pub fn new(noise: &Noise) -> Result<Self, EngineError> {
        let mut stages = Vec::new();
        for law in noise.laws() {
            if let Some(s) = Stage::from_law(law)? {
                stages.push(s);
            }
        }
        Ok(NoiseSampler { stages })
    }

    /// The stages.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Whether sampling changes nothing.
    pub fn is_identity(&self) -> bool {
        self.stages.is_empty()
    }

    /// Applies the stack in place to `x`, a buffer whose element i is
    /// counter `offset + i` of each stage's stream (stage s uses
    /// `key.child(s)`). When `factor` is given it receives ∂x̃/∂x, the
    /// product of the multiplicative draws (for the backward pass).
    pub fn apply<T: Real>(&self, key: Key, offset: u64, x: &mut [T], mut factor: Option<&mut [T]>) {
        if let Some(f) = factor.as_deref_mut() {
            f.iter_mut().for_each(|v| *v = T::ONE);
        }
        for (s, stage) in self.stages.iter().enumerate() {
            let k = key.child(s as u64);
            match *stage {
                Stage::Dropout { keep, threshold } => {
                    dropout(
                        k,
                        offset,
                        threshold,
                        T::from_f64(1.0 / keep),
                        x,
                        factor.as_deref_mut(),
                    );
                }
                Stage::GaussMult(std) | Stage::GaussAdd(std) => {
                    let mut z = vec![0f32; x.len()];
                    rng::normals(k, offset, &mut z);
                    let std = std as f32;
                    if stage.is_multiplicative() {
                        let e = |zi: f32| T::ONE + T::from_f64((std * zi) as f64);
                        match factor.as_deref_mut() {
                            Some(f) => {
                                for ((v, fv), &zi) in x.iter_mut().zip(f.iter_mut()).zip(&z) {
                                    let e = e(zi);
                                    *v *= e;
                                    *fv *= e;
                                }
                            }
                            None => x.iter_mut().zip(&z).for_each(|(v, &zi)| *v *= e(zi)),
                        }
                    } else {
                        x.iter_mut()
                            .zip(&z)
                            .for_each(|(v, &zi)| *v += T::from_f64((std * zi) as f64));
                    }
                }
                Stage::LaplaceMult(b) | Stage::LaplaceAdd(b) => {
                    let mult = stage.is_multiplicative();
                    for (i, v) in x.iter_mut().enumerate() {
                        let e = T::from_f64(b * laplace(k.uniform(offset + i as u64)));
                        if mult {
                            let e = T::ONE + e;
                            *v *= e;
                            if let Some(f) = factor.as_deref_mut() {
                                f[i] *= e;
                            }
                        } else {
                            *v += e;
                        }
                    }
                }
                Stage::UniformMult(a) => {
                    for (i, v) in x.iter_mut().enumerate() {
                        let e = T::from_f64(1.0 + a * (2.0 * k.uniform(offset + i as u64) - 1.0));
                        *v *= e;
                        if let Some(f) = factor.as_deref_mut() {
                            f[i] *= e;
                        }
                    }
                }
                Stage::Poisson(rate) => {
                    let d = Poisson::new(rate).ok();
                    for (i, v) in x.iter_mut().enumerate() {
                        let mut rng = Key(k.bits(offset + i as u64)).sequential();
                        let draw: f64 = d.map_or(0.0, |d| d.sample(&mut rng));
                        let e = T::from_f64(draw / rate);
                        *v *= e;
                        if let Some(f) = factor.as_deref_mut() {
                            f[i] *= e;
                        }
                    }
                }
                Stage::Gamma(shape) => {
                    let d = Gamma::new(shape, 1.0 / shape).ok();
                    for (i, v) in x.iter_mut().enumerate() {
                        let mut rng = Key(k.bits(offset + i as u64)).sequential();
                        let e = T::from_f64(d.map_or(1.0, |d| d.sample(&mut rng)));
                        *v *= e;
                        if let Some(f) = factor.as_deref_mut() {
                            f[i] *= e;
                        }
                    }
                }
            }
        }
    }
}

/// Dropout on `x` (and the factor): element i keeps when the top 32 bits of
/// counter `offset + i` are below `threshold`. On x86-64 with AVX-512 the same
/// loop is compiled for it (the 64-bit multiplies of the hash vectorise);
/// the values are bit-identical.
fn dropout<T: Real>(
    k: Key,
    offset: u64,
    threshold: u64,
    scale: T,
    x: &mut [T],
    factor: Option<&mut [T]>,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::real::has_avx512() {
        // SAFETY: the target features of `dropout_v4` were detected just above.
        unsafe { dropout_v4(k, offset, threshold, scale, x, factor) };
        return;
    }
    dropout_any(k, offset, threshold, scale, x, factor);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn dropout_v4<T: Real>(
    k: Key,
    offset: u64,
    threshold: u64,
    scale: T,
    x: &mut [T],
    factor: Option<&mut [T]>,
) {
    dropout_any(k, offset, threshold, scale, x, factor);
}

#[inline(always)]
fn dropout_any<T: Real>(
    k: Key,
    offset: u64,
    threshold: u64,
    scale: T,
    x: &mut [T],
    factor: Option<&mut [T]>,
) {
    let mask = |i: usize| {
        if k.bits(offset + i as u64) >> 32 < threshold {
            scale
        } else {
            T::ZERO
        }
    };
    match factor {
        Some(f) => {
            for (i, (v, fv)) in x.iter_mut().zip(f.iter_mut()).enumerate() {
                let e = mask(i);
                *v *= e;
                *fv *= e;
            }
        }
        None => {
            for (i, v) in x.iter_mut().enumerate() {
                *v *= mask(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every samplable law has mean 1 (multiplicative) or 0 (additive) and the
    /// second moment of the theory crate.
    #[test]
    fn sampled_moments_match_the_theory() {
        let laws = [
            NoiseLaw::Dropout { keep: 0.6 },
            NoiseLaw::GaussMult { std: 0.5 },
            NoiseLaw::LaplaceMult { scale: 0.4 },
            NoiseLaw::Poisson { rate: 2.0 },
            NoiseLaw::Gamma { shape: 3.0 },
            NoiseLaw::UniformMult { half_width: 0.8 },
            NoiseLaw::GaussAdd { std: 1.5 },
            NoiseLaw::LaplaceAdd { scale: 0.7 },
        ];
        let n = 400_000;
        for law in laws {
            let s = NoiseSampler::new(&Noise::from_law(law)).unwrap();
            let mult = s.stages()[0].is_multiplicative();
            let mut x = vec![if mult { 1.0f64 } else { 0.0 }; n];
            s.apply(Key::new(3), 0, &mut x, None);
            let m1 = x.iter().sum::<f64>() / n as f64;
            let m2 = x.iter().map(|v| v * v).sum::<f64>() / n as f64;
            let (want1, want2) = match law.effect() {
                noisyprop_theory::NoiseEffect::Multiplicative { mu2 } => (1.0, mu2),
                noisyprop_theory::NoiseEffect::Additive { var } => (0.0, var),
                _ => unreachable!(),
            };
            let tol = 6.0 * ((want2 * 4.0) / n as f64).sqrt();
            assert!((m1 - want1).abs() < tol, "{law}: mean {m1}");
            assert!(
                (m2 - want2).abs() < 4.0 * tol * want2.max(1.0),
                "{law}: second moment {m2} vs {want2}"
            );
        }
    }

    #[test]
    fn draws_do_not_depend_on_how_the_buffer_is_split() {
        let s = NoiseSampler::new(&Noise::from_laws(&[
            NoiseLaw::Dropout { keep: 0.7 },
            NoiseLaw::GaussAdd { std: 1.0 },
        ]))
        .unwrap();
        let mut whole = vec![1.0f32; 1001];
        let mut factor = vec![0.0f32; 1001];
        s.apply(Key::new(9), 0, &mut whole, Some(&mut factor));
        let mut parts = vec![1.0f32; 1001];
        let (a, b) = parts.split_at_mut(333);
        s.apply(Key::new(9), 0, a, None);
        s.apply(Key::new(9), 333, b, None);
        assert_eq!(whole, parts);
        // The factor is the dropout mask only (additive noise has slope 1).
        assert!(
            factor
                .iter()
                .all(|&f| f == 0.0 || (f - 1.0 / 0.7).abs() < 1e-6)
        );
        assert!(NoiseSampler::new(&Noise::from_law(NoiseLaw::Mult { mu2: 2.0 })).is_err());
    }
}
