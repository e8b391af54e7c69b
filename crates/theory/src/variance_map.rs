//! The variance (length) map, its trajectories and its fixed point (spec 2.1–2.4).
//!
//! $$q^l = σ_w² \big(A·E_z[φ(\sqrt{q^{l-1}} z)²] + B\big) + σ_b²$$
//!
//! with (A, B) the noise's action on second moments ([`crate::Noise::affine`]):
//! (μ₂, 0) for multiplicative noise (V-mult), (1, σ_ε²) for additive noise
//! (V-add). Its slope is dq^l/dq^{l−1} = σ_w² A E[φ′² + φφ″].

use serde::{Deserialize, Serialize};

use crate::mean_field::MeanField;
use crate::number::fmt_short;
use crate::roots::brent;

/// χ within this of 1 counts as 1 (an infinite depth scale): beyond it ξ
/// would exceed 10¹⁰ layers, where quadrature error, not the map, decides.
/// Shared by ξ_q here and ξ_c of the correlation map, which depends on this
/// module (not the other way round).
pub const CHI_ONE_TOL: f64 = 1e-10;

/// |a − 1| below this counts as exactly critical for the piecewise-linear
/// (ReLU-family) map q ↦ a·q + β.
pub const CRITICAL_TOL: f64 = 1e-12;

/// Where the variance goes with depth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "regime", rename_all = "kebab-case")]
pub enum VarianceRegime {
    /// Converges to a stable fixed point q* > 0 with map slope `slope` < 1
    /// there (|q^l − q*| ~ slope^l).
    FixedPoint {
        /// q*.
        q_star: f64,
        /// dq^l/dq^{l−1} at q*.
        slope: f64,
    },
    /// Every q is a fixed point (slope exactly 1): the critical ReLU-family
    /// network without bias or additive noise (spec 2.4).
    Marginal,
    /// q^l → 0, by the factor `rate` per layer as q → 0 (power-law decay
    /// when `rate` = 1).
    Vanishing {
        /// Per-layer factor near q = 0.
        rate: f64,
    },
    /// q^l grows like `growth`^l.
    ExplodingExponential {
        /// Per-layer factor (asymptotic for large q).
        growth: f64,
    },
    /// q^l grows by `increment` per layer (spec 2.3: additive noise at
    /// σ_w² = 2 for ReLU).
    ExplodingLinear {
        /// Per-layer increase (asymptotic for large q).
        increment: f64,
    },
}

/// The name of a [`VarianceRegime`], without its numbers (kebab-case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegimeKind {
    /// [`VarianceRegime::FixedPoint`].
    FixedPoint,
    /// [`VarianceRegime::Marginal`].
    Marginal,
    /// [`VarianceRegime::Vanishing`].
    Vanishing,
    /// [`VarianceRegime::ExplodingExponential`].
    ExplodingExponential,
    /// [`VarianceRegime::ExplodingLinear`].
    ExplodingLinear,
}

impl RegimeKind {
    /// The kebab-case name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            RegimeKind::FixedPoint => "fixed-point",
            RegimeKind::Marginal => "marginal",
            RegimeKind::Vanishing => "vanishing",
            RegimeKind::ExplodingExponential => "exploding-exponential",
            RegimeKind::ExplodingLinear => "exploding-linear",
        }
    }
}

impl std::fmt::Display for RegimeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl VarianceRegime {
    /// The regime's kind.
    pub fn kind(&self) -> RegimeKind {
        match self {
            VarianceRegime::FixedPoint { .. } => RegimeKind::FixedPoint,
            VarianceRegime::Marginal => RegimeKind::Marginal,
            VarianceRegime::Vanishing { .. } => RegimeKind::Vanishing,
            VarianceRegime::ExplodingExponential { .. } => RegimeKind::ExplodingExponential,
            VarianceRegime::ExplodingLinear { .. } => RegimeKind::ExplodingLinear,
        }
    }

    /// Short kebab-case name, as in JSON.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// q* when it exists: the fixed point, or q⁰ in the marginal case.
    pub fn q_star(&self, q0: f64) -> Option<f64> {
        match *self {
            VarianceRegime::FixedPoint { q_star, .. } => Some(q_star),
            VarianceRegime::Marginal => Some(q0),
            _ => None,
        }
    }

    /// Per-layer growth factor of the regime (1 when marginal or linear).
    pub fn per_layer_factor(&self) -> f64 {
        match *self {
            VarianceRegime::FixedPoint { slope, .. } => slope,
            VarianceRegime::Marginal | VarianceRegime::ExplodingLinear { .. } => 1.0,
            VarianceRegime::Vanishing { rate } => rate,
            VarianceRegime::ExplodingExponential { growth } => growth,
        }
    }

    /// Variance depth scale ξ_q = −1/ln|slope| at a stable fixed point.
    pub fn depth_scale(&self) -> Option<f64> {
        match *self {
            VarianceRegime::FixedPoint { slope, .. } if slope.abs() < 1.0 - CHI_ONE_TOL => {
                Some(-1.0 / slope.abs().ln())
            }
            _ => None,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match *self {
            VarianceRegime::FixedPoint { q_star, slope } => {
                format!(
                    "converges to the fixed point q* = {} (map slope {} there)",
                    fmt_short(q_star),
                    fmt_short(slope)
                )
            }
            VarianceRegime::Marginal => {
                "marginal (critical): every q is a fixed point, q is preserved at any depth".into()
            }
            VarianceRegime::Vanishing { rate } if (rate - 1.0).abs() < 1e-9 => {
                "vanishes to 0 as a power law (map slope 1 at q = 0)".into()
            }
            VarianceRegime::Vanishing { rate } => {
                format!("vanishes to 0, ×{} per layer", fmt_short(rate))
            }
            VarianceRegime::ExplodingExponential { growth } => {
                format!("explodes exponentially, ×{} per layer", fmt_short(growth))
            }
            VarianceRegime::ExplodingLinear { increment } => {
                format!("explodes linearly, +{} per layer", fmt_short(increment))
            }
        }
    }
}

impl MeanField {
    /// One step of the variance map: q^{l−1} ↦ q^l (spec 2.1).
    pub fn variance_map(&self, q: f64) -> f64 {
        let m = self.kernel.moments(q);
        self.sigma_w2 * (self.a * m.second + self.b) + self.sigma_b2
    }

    /// dq^l/dq^{l−1} = σ_w² A E[φ′² + φφ″] at q.
    pub fn variance_map_slope(&self, q: f64) -> f64 {
        self.sigma_w2 * self.a * self.kernel.moments(q).second_slope
    }

    /// q⁰, q¹, …, q^depth.
    pub fn variance_trajectory(&self, q0: f64, depth: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(depth + 1);
        let mut q = q0;
        out.push(q);
        for _ in 0..depth {
            q = self.variance_map(q);
            out.push(q);
        }
        out
    }

    /// For the ReLU family the map is exactly affine, q ↦ a·q + β (spec 2.3,
    /// 2.4); returns (a, β) then.
    pub fn affine_variance_map(&self) -> Option<(f64, f64)> {
        if !self.activation().is_positively_homogeneous() {
            return None;
        }
        let a = self.sigma_w2 * self.a * self.kernel.moments(1.0).second;
        let beta = self.sigma_w2 * self.b + self.sigma_b2;
        Some((a, beta))
    }

    /// The regime of the variance trajectory started at q⁰ > 0, with its
    /// fixed point when there is one.
    ///
    /// ReLU family: closed form from (a, β). Other activations: the fixed
    /// point the trajectory from q⁰ moves towards is bracketed by geometric
    /// steps in the direction of motion and found by Brent's method; if none
    /// is found down to q = 1e-30 the variance vanishes, if none up to 1e15 it
    /// explodes, with the growth of the activation's linear asymptotes.
    pub fn variance_fixed_point(&self, q0: f64) -> VarianceRegime {
        if let Some((a, beta)) = self.affine_variance_map() {
            let critical = (a - 1.0).abs() <= CRITICAL_TOL;
            return match (beta > 0.0, critical, a < 1.0) {
                (false, true, _) => VarianceRegime::Marginal,
                (false, false, true) => VarianceRegime::Vanishing { rate: a },
                (true, false, true) => VarianceRegime::FixedPoint {
                    q_star: beta / (1.0 - a),
                    slope: a,
                },
                (true, true, _) => VarianceRegime::ExplodingLinear { increment: beta },
                (_, false, false) => VarianceRegime::ExplodingExponential { growth: a },
            };
        }
        let g = |q: f64| self.variance_map(q) - q;
        let fixed = |lo: f64, hi: f64| {
            let q = brent(g, lo, hi, 1e-300, 4.0 * f64::EPSILON, 200).unwrap_or(0.5 * (lo + hi));
            VarianceRegime::FixedPoint {
                q_star: q,
                slope: self.variance_map_slope(q),
            }
        };
        let g0 = g(q0);
        if g0 == 0.0 {
            return fixed(q0, q0);
        }
        if g0 < 0.0 {
            let mut hi = q0;
            while hi > 1e-30 {
                let lo = hi / 8.0;
                // V(q) − q must be resolved, not rounding noise of a map that
                // approaches q = 0 tangentially (tanh at σ_w = 1).
                if g(lo) >= 1e-13 * lo {
                    return fixed(lo, hi);
                }
                hi = lo;
            }
            // The slope as q → 0⁺ (both sides of a kink at 0 count; at q = 0
            // itself a kinked φ would be evaluated on one side only).
            VarianceRegime::Vanishing {
                rate: self.variance_map_slope(1e-30),
            }
        } else {
            // A bounded φ bounds the map (V(q) ≤ σ_w²μ₂·sup φ² + σ_b² + the
            // additive variance), so a fixed point exists at any scale: search
            // up to the float range. An unbounded one explodes past 1e15.
            let limit = if self.activation().asymptotic_slopes().is_none() {
                f64::MAX / 16.0
            } else {
                1e15
            };
            let mut lo = q0;
            while lo < limit {
                let hi = lo * 8.0;
                if g(hi) <= 0.0 {
                    return fixed(lo, hi);
                }
                lo = hi;
            }
            let growth = self.asymptotic_growth();
            if growth > 1.0 + 1e-9 {
                VarianceRegime::ExplodingExponential { growth }
            } else {
                let q = 1e4;
                VarianceRegime::ExplodingLinear {
                    increment: self.variance_map(q) - q,
                }
            }
        }
    }

    /// lim q^l/q^{l−1} as q → ∞: σ_w² A (s₊² + s₋²)/2 from the activation's
    /// linear asymptotes (0 for bounded activations).
    pub fn asymptotic_growth(&self) -> f64 {
        match self.activation().asymptotic_slopes() {
            Some((sp, sm)) => self.sigma_w2 * self.a * 0.5 * (sp * sp + sm * sm),
            None => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Activation, MeanField, Network, Noise, NoiseLaw, mean_field::Integration};

    use super::VarianceRegime;

    fn mf(act: Activation, noise: &[NoiseLaw], sw2: f64, sb2: f64) -> MeanField {
        let net = Network::new(act, Noise::from_laws(noise), sw2, sb2).unwrap();
        MeanField::new(&net, Integration::default())
    }

    #[test]
    fn fig2_trajectories() {
        // spec 3.1 (docs/paper-spec.md §3.1, derived there; printed to 3 decimals):
        // tanh σ_w = 1: 4 → 0.635 → 0.314 → 0.203 → 0.149 → … → 0.039 at l = 14,
        // q^l = E[tanh(√q^{l−1} z)²].
        let t = mf(Activation::Tanh, &[], 1.0, 0.0).variance_trajectory(4.0, 14);
        for (l, want) in [
            (1, "0.635"),
            (2, "0.314"),
            (3, "0.203"),
            (4, "0.149"),
            (14, "0.039"),
        ] {
            let (want, tol) = printed(want);
            assert!((t[l] - want).abs() < tol, "tanh l={l}: {} vs {want}", t[l]);
        }
        // tanh + additive N(0, 1): 4 → 1.635 → 1.484 → 1.466 → 1.464 = q* (spec 3.1;
        // q^l = E[tanh(√q^{l−1} z)²] + 1, checked with mpmath at 30 digits:
        // 1.6352612, 1.4839392, 1.4663308, 1.464159, q* = 1.4638509).
        let m = mf(
            Activation::Tanh,
            &[NoiseLaw::GaussAdd { std: 1.0 }],
            1.0,
            0.0,
        );
        let t = m.variance_trajectory(4.0, 4);
        for (l, want) in [(1, "1.635"), (2, "1.484"), (3, "1.466"), (4, "1.464")] {
            let (want, tol) = printed(want);
            assert!(
                (t[l] - want).abs() < tol,
                "tanh+noise l={l}: {} vs {want}",
                t[l]
            );
        }
        match m.variance_fixed_point(4.0) {
            VarianceRegime::FixedPoint { q_star, slope } => {
                assert!((q_star - 1.464).abs() < 5.0001e-4, "{q_star}");
                assert!((m.variance_map(q_star) - q_star).abs() < 1e-12);
                assert!(slope > 0.0 && slope < 1.0);
            }
            r => panic!("{r:?}"),
        }
        // ReLU He + additive N(0, 1): q^l = 4 + 2l, linear explosion.
        let m = mf(
            Activation::Relu,
            &[NoiseLaw::GaussAdd { std: 1.0 }],
            2.0,
            0.0,
        );
        let t = m.variance_trajectory(4.0, 14);
        for (l, q) in t.iter().enumerate() {
            assert!((q - (4.0 + 2.0 * l as f64)).abs() < 1e-12);
        }
        assert_eq!(
            m.variance_fixed_point(4.0),
            VarianceRegime::ExplodingLinear { increment: 2.0 }
        );
        // ReLU He noiseless: q ≡ 4, marginal.
        let m = mf(Activation::Relu, &[], 2.0, 0.0);
        assert_eq!(m.variance_fixed_point(4.0), VarianceRegime::Marginal);
        assert!(m.variance_trajectory(4.0, 14).iter().all(|&q| q == 4.0));
    }

    /// A value as printed in the spec and half a unit of its last digit.
    fn printed(s: &str) -> (f64, f64) {
        let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
        (
            s.parse().unwrap(),
            0.5 * 10f64.powi(-(decimals as i32)) * 1.0001,
        )
    }

    #[test]
    fn fig3_trajectories() {
        // spec 3.2 (docs/paper-spec.md §3.2, 3 significant digits), dropout p = 0.6:
        // over σ_w² = 1.15²·1.2, under 0.85²·1.2. ReLU without bias: q^l = 4·k^{2l}
        // for σ_w² = k²·2/μ₂ (4·1.15² = 5.29, 4·0.85^30 = 0.0305), and likewise
        // for the Gaussian rows below with k = 1.25, 0.75.
        let d = [NoiseLaw::Dropout { keep: 0.6 }];
        let over =
            mf(Activation::Relu, &d, 1.15f64.powi(2) * 1.2, 0.0).variance_trajectory(4.0, 15);
        for (l, want) in [
            (1, "5.29"),
            (2, "7.00"),
            (3, "9.25"),
            (5, "16.2"),
            (10, "65.5"),
            (15, "265"),
        ] {
            let (want, tol) = printed(want);
            assert!((over[l] - want).abs() < tol, "over l={l}: {}", over[l]);
        }
        let under =
            mf(Activation::Relu, &d, 0.85f64.powi(2) * 1.2, 0.0).variance_trajectory(4.0, 15);
        for (l, want) in [
            (1, "2.89"),
            (2, "2.09"),
            (3, "1.51"),
            (5, "0.79"),
            (10, "0.155"),
            (15, "0.031"),
        ] {
            let (want, tol) = printed(want);
            assert!((under[l] - want).abs() < tol, "under l={l}: {}", under[l]);
        }
        let crit = mf(Activation::Relu, &d, 1.2, 0.0);
        assert_eq!(crit.variance_fixed_point(4.0), VarianceRegime::Marginal);
        let g = [NoiseLaw::GaussMult { std: 0.25 }];
        let s = 2.0 / 1.0625;
        let over = mf(Activation::Relu, &g, 1.25f64.powi(2) * s, 0.0).variance_trajectory(4.0, 10);
        for (l, want) in [
            (1, "6.25"),
            (2, "9.77"),
            (3, "15.3"),
            (5, "37.3"),
            (10, "347"),
        ] {
            let (want, tol) = printed(want);
            assert!(
                (over[l] - want).abs() < tol,
                "gauss over l={l}: {}",
                over[l]
            );
        }
        let under = mf(Activation::Relu, &g, 0.75f64.powi(2) * s, 0.0).variance_trajectory(4.0, 10);
        for (l, want) in [
            (1, "2.25"),
            (2, "1.27"),
            (3, "0.71"),
            (5, "0.225"),
            (10, "0.013"),
        ] {
            let (want, tol) = printed(want);
            assert!(
                (under[l] - want).abs() < tol,
                "gauss under l={l}: {}",
                under[l]
            );
        }
    }

    #[test]
    fn regimes_of_relu_with_bias() {
        let d = [NoiseLaw::Dropout { keep: 0.5 }];
        // a = σ_w² μ₂ / 2 = 0.5, β = 0.1: q* = 0.2.
        let r = mf(Activation::Relu, &d, 0.5, 0.1).variance_fixed_point(1.0);
        assert_eq!(
            r,
            VarianceRegime::FixedPoint {
                q_star: 0.2,
                slope: 0.5
            }
        );
        assert!((r.depth_scale().unwrap() - 1.0 / 2f64.ln()).abs() < 1e-12);
        assert_eq!(
            mf(Activation::Relu, &d, 1.0, 0.1).variance_fixed_point(1.0),
            VarianceRegime::ExplodingLinear { increment: 0.1 }
        );
        assert_eq!(
            mf(Activation::Relu, &d, 0.5, 0.0).variance_fixed_point(1.0),
            VarianceRegime::Vanishing { rate: 0.5 }
        );
        assert_eq!(
            mf(Activation::Relu, &d, 1.5, 0.0).variance_fixed_point(1.0),
            VarianceRegime::ExplodingExponential { growth: 1.5 }
        );
    }

    #[test]
    fn regimes_of_smooth_activations() {
        // tanh σ_w² < 1, σ_b = 0: vanishes exponentially with rate σ_w².
        match mf(Activation::Tanh, &[], 0.8, 0.0).variance_fixed_point(1.0) {
            VarianceRegime::Vanishing { rate } => assert!((rate - 0.8).abs() < 1e-12),
            r => panic!("{r:?}"),
        }
        // ELU far above its critical point explodes with growth σ_w²/2.
        match mf(Activation::Elu { alpha: 1.0 }, &[], 3.0, 0.0).variance_fixed_point(1.0) {
            VarianceRegime::ExplodingExponential { growth } => {
                assert!((growth - 1.5).abs() < 1e-12)
            }
            r => panic!("{r:?}"),
        }
        // Sigmoid always has a fixed point (bounded, φ(0) = 1/2).
        for sw2 in [0.5, 4.0, 20.0] {
            let m = mf(
                Activation::Sigmoid,
                &[NoiseLaw::Dropout { keep: 0.7 }],
                sw2,
                0.0,
            );
            match m.variance_fixed_point(3.0) {
                VarianceRegime::FixedPoint { q_star, .. } => {
                    assert!((m.variance_map(q_star) - q_star).abs() < 1e-12 * q_star.max(1.0));
                }
                r => panic!("{r:?}"),
            }
        }
        // Slope of the map matches a finite difference.
        let m = mf(
            Activation::Gelu,
            &[NoiseLaw::GaussAdd { std: 0.3 }],
            1.7,
            0.1,
        );
        for q in [0.3, 2.0] {
            let h = 1e-5;
            let fd = (m.variance_map(q + h) - m.variance_map(q - h)) / (2.0 * h);
            assert!((fd - m.variance_map_slope(q)).abs() < 1e-7);
        }
    }
}
