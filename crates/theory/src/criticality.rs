//! The critical-initialisation solver: the σ_w² at which χ₁ = 1 at the
//! variance fixed point (spec 2.3, 2.4; Schoenholz et al. 2017, spec 5).
//!
//! χ₁ = σ_w² μ₂ E[φ′(√q* z)²] is the per-layer factor of the gradient's
//! second moment (spec 2.11) and the slope of the correlation map at c = 1
//! without noise. For the ReLU family the answer is closed form,
//! σ_w² = 2/(μ₂(1 + α²)) (σ_w² = 2/μ₂ for ReLU, Table 1), and exists only
//! without bias and additive noise. For other activations the fixed-point
//! condition is solved for σ_w² as a function of q* —
//! σ_w²(q) = (q − σ_b²)/(μ₂ E[φ(√q z)²] + σ_ε²) — so χ₁ becomes a function of
//! q alone; its first crossing of 1 on a log grid of q is refined by Brent's
//! method and kept if the fixed point is stable.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::TheoryError;
use crate::mean_field::{Integration, MeanField, Network};
use crate::noise::Noise;
use crate::roots::brent;
use crate::spec::{fmt_num, fmt_short};

/// A critical initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CriticalPoint {
    /// σ_w² with χ₁ = 1.
    pub sigma_w2: f64,
    /// The variance fixed point there; `None` when every q is one (ReLU
    /// family without bias and additive noise).
    pub q_star: Option<f64>,
}

/// Why no critical initialisation exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoCriticalPoint {
    /// Machine-readable reason: `additive-noise`, `bias`, `no-crossing`.
    pub code: &'static str,
    /// The reason in words.
    pub reason: String,
}

impl Network {
    /// The network of `activation` and `noise` at its critical σ_w² for
    /// `sigma_b2` (χ₁ = 1 at q*), with the critical point: the one place a
    /// critical initialisation is resolved (CLI, training, predictions). The
    /// mean field is evaluated at a fixed order ([`MeanField::at_fixed_order`]).
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] for invalid parameters, and
    /// [`TheoryError::NoCriticalPoint`] with the reason when none exists.
    pub fn critical(
        activation: Activation,
        noise: Noise,
        sigma_b2: f64,
        integration: Integration,
    ) -> Result<(Network, CriticalPoint), TheoryError> {
        let probe = Network::new(activation, noise, 1.0, sigma_b2)?;
        let cp = MeanField::at_fixed_order(&probe, integration)
            .critical_sigma_w2()
            .map_err(|e| TheoryError::NoCriticalPoint {
                network: format!("`{activation}` with noise `{}`", probe.noise()),
                sigma_b2,
                code: e.code,
                reason: e.reason,
            })?;
        Ok((probe.with_sigma_w2(cp.sigma_w2)?, cp))
    }
}

impl MeanField {
    /// χ₁ = σ_w² μ₂ E[φ′(√q z)²] at input variance q (spec 2.11).
    pub fn chi_1(&self, q: f64) -> f64 {
        self.sigma_w2 * self.a * self.kernel.moments(q).deriv_second
    }

    /// The critical σ_w² for this activation, noise and σ_b² (σ_w² of `self`
    /// is ignored), or why there is none.
    pub fn critical_sigma_w2(&self) -> Result<CriticalPoint, NoCriticalPoint> {
        let (a, b, sb2) = (self.a, self.b, self.sigma_b2);
        if self.activation().is_positively_homogeneous() {
            let g = self.kernel.moments(1.0).deriv_second;
            let sigma_w2 = 1.0 / (a * g);
            if b > 0.0 {
                return Err(NoCriticalPoint {
                    code: "additive-noise",
                    reason: format!(
                        "additive noise adds σ_w²·σ_ε² = {} per layer at σ_w² = {}, the only σ_w² with χ₁ = 1, \
                         so the variance grows linearly without a fixed point; below it q* exists but χ₁ < 1 (spec 2.3)",
                        fmt_num(sigma_w2 * b),
                        fmt_num(sigma_w2)
                    ),
                });
            }
            if sb2 > 0.0 {
                return Err(NoCriticalPoint {
                    code: "bias",
                    reason: format!(
                        "the bias adds σ_b² = {} per layer at σ_w² = {}, the only σ_w² with χ₁ = 1, \
                         so the variance grows linearly without a fixed point; set σ_b² = 0 (spec 2.4)",
                        fmt_num(sb2),
                        fmt_num(sigma_w2)
                    ),
                });
            }
            return Ok(CriticalPoint {
                sigma_w2,
                q_star: None,
            });
        }
        // σ_w² that makes q a fixed point, and χ₁ there.
        let sigma_w2_at = |q: f64| {
            let m = self.kernel.moments(q);
            let sw2 = (q - sb2) / (a * m.second + b);
            (sw2, sw2 * a * m.deriv_second, m)
        };
        let h = |q: f64| sigma_w2_at(q).1 - 1.0;
        let q_lo = sb2 * (1.0 + 1e-9) + 1e-9;
        let q_hi = 1e8;
        let steps = 64;
        let ratio = (q_hi / q_lo).powf(1.0 / steps as f64);
        let mut q_prev = q_lo;
        let mut h_prev = h(q_prev);
        let mut max_chi = h_prev + 1.0;
        for k in 1..=steps {
            let q = q_lo * ratio.powi(k);
            let hq = h(q);
            max_chi = max_chi.max(hq + 1.0);
            // A crossing counts when χ₁ − 1 is resolved on at least one side:
            // as q → 0 with φ(0) = 0 and no offset, χ₁ → 1 and its sign is noise.
            let resolved = h_prev.abs().max(hq.abs()) > 1e-10;
            let crossing =
                resolved && h_prev.is_finite() && hq.is_finite() && (h_prev <= 0.0) != (hq <= 0.0);
            if let Some(root) = crossing
                .then(|| brent(h, q_prev, q, 1e-300, 4.0 * f64::EPSILON, 200))
                .flatten()
            {
                let (sw2, _, m) = sigma_w2_at(root);
                let slope = sw2 * a * m.second_slope;
                if sw2 > 0.0 && slope <= 1.0 + 1e-9 {
                    return Ok(CriticalPoint {
                        sigma_w2: sw2,
                        q_star: Some(root),
                    });
                }
            }
            q_prev = q;
            h_prev = hq;
        }
        // Without bias or additive noise and with φ(0) = 0, q* = 0 is a fixed
        // point with χ₁ = σ_w² μ₂ φ′(0)²: critical at σ_w² = 1/(μ₂ φ′(0)²)
        // (the edge of chaos of tanh at σ_b = 0).
        let (phi0, dphi0) = self.activation().eval_d(0.0);
        if b == 0.0 && sb2 == 0.0 && phi0 == 0.0 && dphi0 != 0.0 {
            return Ok(CriticalPoint {
                sigma_w2: 1.0 / (a * dphi0 * dphi0),
                q_star: Some(0.0),
            });
        }
        Err(NoCriticalPoint {
            code: "no-crossing",
            reason: format!(
                "χ₁ stays below 1 at every variance fixed point (largest χ₁ found {}, for q* up to {q_hi:e}); \
                 the variance diverges before the gradient becomes critical",
                fmt_short(max_chi)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Activation, Integration, MeanField, Network, Noise, NoiseLaw};

    fn mf(act: Activation, noise: &[NoiseLaw], sb2: f64) -> MeanField {
        MeanField::new(
            &Network::new(act, Noise::from_laws(noise), 1.0, sb2).unwrap(),
            Integration::default(),
        )
    }

    #[test]
    fn relu_table_1() {
        // spec 2.5: σ_w² = 2/μ₂.
        for (noise, want) in [
            (NoiseLaw::None, 2.0),
            (NoiseLaw::Dropout { keep: 0.6 }, 1.2),
            (NoiseLaw::GaussMult { std: 0.25 }, 2.0 / 1.0625),
            (NoiseLaw::LaplaceMult { scale: 0.5 }, 2.0 / 1.5),
            (NoiseLaw::Poisson { rate: 1.0 }, 1.0),
        ] {
            let cp = mf(Activation::Relu, &[noise], 0.0)
                .critical_sigma_w2()
                .unwrap();
            assert!(
                (cp.sigma_w2 - want).abs() < 1e-14,
                "{noise}: {}",
                cp.sigma_w2
            );
            assert_eq!(cp.q_star, None);
        }
        let cp = mf(
            Activation::LeakyRelu { slope: 0.5 },
            &[NoiseLaw::Dropout { keep: 0.8 }],
            0.0,
        )
        .critical_sigma_w2()
        .unwrap();
        assert!((cp.sigma_w2 - 2.0 * 0.8 / 1.25).abs() < 1e-14);
    }

    #[test]
    fn relu_with_additive_noise_or_bias_has_none() {
        // spec 2.3.
        let e = mf(Activation::Relu, &[NoiseLaw::GaussAdd { std: 1.0 }], 0.0)
            .critical_sigma_w2()
            .unwrap_err();
        assert_eq!(e.code, "additive-noise");
        assert!(e.reason.contains("linearly"));
        let e = mf(Activation::Relu, &[NoiseLaw::Dropout { keep: 0.5 }], 0.1)
            .critical_sigma_w2()
            .unwrap_err();
        assert_eq!(e.code, "bias");
    }

    #[test]
    fn tanh_edge_of_chaos() {
        // Schoenholz et al. 2017: σ_b² = 0.05 → σ_w² ≈ 1.761.
        let m = mf(Activation::Tanh, &[], 0.05);
        let cp = m.critical_sigma_w2().unwrap();
        assert!((cp.sigma_w2 - 1.761).abs() < 5e-4, "{}", cp.sigma_w2);
        let q = cp.q_star.unwrap();
        let at = m.with_sigma_w2(cp.sigma_w2);
        assert!((at.variance_map(q) - q).abs() < 1e-12);
        assert!((at.chi_1(q) - 1.0).abs() < 1e-12);
        // σ_b = 0: the edge is σ_w² = 1/μ₂ at q* = 0.
        let cp = mf(Activation::Tanh, &[NoiseLaw::Dropout { keep: 0.8 }], 0.0)
            .critical_sigma_w2()
            .unwrap();
        assert!((cp.sigma_w2 - 0.8).abs() < 1e-12);
        assert_eq!(cp.q_star, Some(0.0));
        // Noise moves the edge: tanh with dropout and bias has one, at larger σ_w².
        let noisy = mf(Activation::Tanh, &[NoiseLaw::Dropout { keep: 0.9 }], 0.05)
            .critical_sigma_w2()
            .unwrap();
        let at = mf(Activation::Tanh, &[NoiseLaw::Dropout { keep: 0.9 }], 0.05)
            .with_sigma_w2(noisy.sigma_w2);
        assert!((at.chi_1(noisy.q_star.unwrap()) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn elu_with_additive_noise_has_none() {
        let e = mf(
            Activation::Elu { alpha: 1.0 },
            &[NoiseLaw::GaussAdd { std: 0.5 }],
            0.0,
        )
        .critical_sigma_w2();
        // ELU behaves like ReLU for large q: χ₁ → 1 only as q* → ∞.
        if let Err(e) = e {
            assert_eq!(e.code, "no-crossing");
        }
    }
}
