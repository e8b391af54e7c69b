//! Backward-pass theory (spec 2.11).
//!
//! With the layer layout h^{l+1} = W^{l+1}(ε^l ⊙ φ(h^l)) and the same noise in
//! the backward pass, δ^l = φ′(h^l) ⊙ ε^l ⊙ (W^{l+1})ᵀ δ^{l+1}. Under the
//! gradient-independence assumption, for equal widths,
//!
//! * E[(δ^l)²] = χ₁(q^l) E[(δ^{l+1})²], χ₁(q) = σ_w² μ₂ E[φ′(√q z)²];
//! * E[δ^l_a δ^l_b] = σ_w² E[φ′(u_a)φ′(u_b)] E[ε_a ε_b] E[δ^{l+1}_a δ^{l+1}_b]
//!   with E[ε_a ε_b] = 1 (independent draws, mean 1), so the gradient
//!   correlation between two inputs changes by the factor
//!   σ_w² E[φ′(u_a)φ′(u_b)] / χ₁ per layer — χ_c at criticality (spec 2.11).
//!
//! Additive noise does not enter the backward factors (∂x̃/∂x = 1).

use serde::{Deserialize, Serialize};

use crate::error::{TheoryError, check};
use crate::mean_field::MeanField;

/// Theory of one layer of the backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradientLayer {
    /// Layer index l (the gradient with respect to h^l).
    pub layer: usize,
    /// E[(δ^l)²] relative to the top layer.
    pub second_moment: f64,
    /// Correlation of δ^l between the two inputs.
    pub correlation: f64,
}

impl MeanField {
    /// σ_w² E[φ′(u_a)φ′(u_b)] at equal variances q and correlation c: the
    /// per-layer factor of the gradient covariance of two inputs.
    pub fn gradient_covariance_factor(&self, q: f64, c: f64) -> f64 {
        self.sigma_w2 * self.kernel.cross(q, q, c).dphi_dphi
    }

    /// Backward theory along a forward trajectory `forward` = [(q^l, c^l)],
    /// l = 0..=L, with the top gradient δ^L of second moment 1 and
    /// correlation `top_correlation` between the inputs. Returns layers
    /// 0..=L.
    pub fn gradient_trajectory(
        &self,
        forward: &[(f64, f64)],
        top_correlation: f64,
    ) -> Vec<GradientLayer> {
        let Some(top) = forward.len().checked_sub(1) else {
            return Vec::new();
        };
        let mut out = vec![
            GradientLayer {
                layer: top,
                second_moment: 1.0,
                correlation: top_correlation,
            };
            forward.len()
        ];
        // The correlation is carried as a product of per-layer ratios
        // (covariance factor / χ₁), not as covariance / second moment, so it
        // stays defined where both underflow.
        let (mut second, mut corr) = (1.0, top_correlation);
        for l in (0..top).rev() {
            let (q, c) = forward[l];
            let chi_1 = self.chi_1(q);
            second *= chi_1;
            corr *= if chi_1 > 0.0 {
                self.gradient_covariance_factor(q, c) / chi_1
            } else {
                f64::NAN
            };
            out[l] = GradientLayer {
                layer: l,
                second_moment: second,
                correlation: corr,
            };
        }
        out
    }
}

/// One layer of a forward-and-backward trajectory ([`MeanField::trajectory`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryLayer {
    /// Layer l (0 = input).
    pub layer: usize,
    /// q^l.
    pub q: f64,
    /// c^l.
    pub c: f64,
    /// χ₁ at q^l: factor of the gradient's second moment from layer l+1 to l.
    pub chi_1: f64,
    /// E[(δ^l)²] relative to the top layer.
    pub grad_second_moment: f64,
    /// Correlation of the two inputs' gradients at layer l.
    pub grad_correlation: f64,
}

/// Deepest trajectory [`MeanField::trajectory`] computes.
pub const MAX_TRAJECTORY_DEPTH: usize = 1_000_000;

impl MeanField {
    /// The variance q^l and correlation c^l of two inputs of variance `q0` and
    /// correlation `c0` for l = 0..=`depth` (spec 2.1, 2.7), with χ₁(q^l) and
    /// the backward theory from a top gradient of correlation
    /// `top_grad_correlation` (spec 2.11).
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`]: q⁰ ∉ (0, ∞), c⁰ or the top
    /// correlation ∉ [−1, 1], depth > [`MAX_TRAJECTORY_DEPTH`].
    pub fn trajectory(
        &self,
        q0: f64,
        c0: f64,
        depth: usize,
        top_grad_correlation: f64,
    ) -> Result<Vec<TrajectoryLayer>, TheoryError> {
        check("", "q0", q0, "(0, inf)", |q| q > 0.0)?;
        check("", "c0", c0, "[-1, 1]", |c| (-1.0..=1.0).contains(&c))?;
        check(
            "",
            "top_grad_correlation",
            top_grad_correlation,
            "[-1, 1]",
            |c| (-1.0..=1.0).contains(&c),
        )?;
        check("", "depth", depth as f64, "[0, 1000000]", |d| {
            d <= MAX_TRAJECTORY_DEPTH as f64
        })?;
        let fwd = self.correlation_trajectory(q0, c0, depth);
        let grad = self.gradient_trajectory(&fwd, top_grad_correlation);
        Ok(fwd
            .iter()
            .zip(&grad)
            .enumerate()
            .map(|(l, (&(q, c), gl))| TrajectoryLayer {
                layer: l,
                q,
                c,
                chi_1: self.chi_1(q),
                grad_second_moment: gl.second_moment,
                grad_correlation: gl.correlation,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Activation, Integration, MeanField, Network, Noise, NoiseLaw};

    #[test]
    fn critical_relu_gradients_keep_their_norm_and_lose_correlation_at_chi_c() {
        let p = 0.6;
        let net = Network::new(
            Activation::Relu,
            Noise::from_law(NoiseLaw::Dropout { keep: p }),
            2.0 * p,
            0.0,
        )
        .unwrap();
        let mf = MeanField::new(&net, Integration::default());
        // c* of dropout p = 0.6 (spec 2.10: 0.2839; tests/golden/depth_scales.csv:
        // 0.283908654), to 2e-6: the identity below holds for any c.
        let c_star = 0.283_910_5;
        let fwd = vec![(3.0, c_star); 11];
        let g = mf.gradient_trajectory(&fwd, 1.0);
        assert!((g[0].second_moment - 1.0).abs() < 1e-12);
        // per layer: σ_w²(1/4 + asin(c)/(2π)) = χ_c (spec 2.11).
        let chi_c = (0.5 + c_star.asin() / std::f64::consts::PI) / (1.0 / p);
        assert!((g[0].correlation - chi_c.powi(10)).abs() < 1e-10);
        // off criticality the norm changes by σ_w² μ₂ / 2 per layer.
        let m2 = mf.with_sigma_w2(1.5);
        let g = m2.gradient_trajectory(&fwd, 0.5);
        assert!((g[0].second_moment - (1.5 / p / 2.0f64).powi(10)).abs() < 1e-9);
    }
}
