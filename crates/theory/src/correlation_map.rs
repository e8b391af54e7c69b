//! Covariance and correlation maps, the correlation fixed point c*, its slope
//! χ_c and the depth scale ξ_c (spec 2.7–2.9; Schoenholz et al. 2017, spec 5).
//!
//! Two inputs a, b get independent noise, so noise enters only the diagonal
//! (spec 2.7):
//!
//! $$q^l_{ab} = σ_w² E[φ(u_a)φ(u_b)] + σ_b², \qquad c^l = q^l_{ab} / \sqrt{q^l_{aa} q^l_{bb}}$$
//!
//! with u_a, u_b as in [`crate::gauss`] and q^l_aa from the noisy variance map.
//! At equal input variances q the map is
//! F(c) = (σ_w² E[φ(u_a)φ(u_b)] + σ_b²) / V(q), and by Price's theorem
//! F′(c) = σ_w² q E[φ′(u_a)φ′(u_b)] / V(q), which at q = q* is
//! χ_c = σ_w² E[φ′(u_a)φ′(u_b)] (spec 2.9). For ReLU with multiplicative
//! noise and σ_b = 0 this is the closed form (C-map)
//! f(c) = (1/μ₂)[(c·asin c + √(1 − c²))/π + c/2], valid off criticality too
//! (spec D7).

use serde::{Deserialize, Serialize};

use crate::Activation;
use crate::gauss::{DualSeries, GaussKernel};
use crate::mean_field::MeanField;
use crate::roots::{brent, newton_bracketed};
use crate::variance_map::VarianceRegime;

/// At which input variance the correlation map was evaluated for its fixed
/// point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CorrelationBasis {
    /// At the variance fixed point q*.
    FixedPoint,
    /// The map does not depend on q (positively homogeneous φ, no bias, no
    /// additive noise), so c* holds at every depth.
    Homogeneous,
    /// In the limit q → 0 that the variance vanishes towards.
    VanishingLimit,
    /// In the limit q → ∞ that the variance explodes towards, where bias and
    /// additive noise become negligible and φ acts as its linear asymptotes.
    Asymptotic,
}

impl CorrelationBasis {
    /// One line for people.
    pub fn describe(&self) -> &'static str {
        match self {
            CorrelationBasis::FixedPoint => "at q*",
            CorrelationBasis::Homogeneous => "independent of q",
            CorrelationBasis::VanishingLimit => "limit q → 0",
            CorrelationBasis::Asymptotic => "limit q → ∞ (bias and additive noise negligible)",
        }
    }
}

/// The correlation map at a fixed input variance q_in (both inputs):
/// c ↦ (σ_w² E[φ(u_a)φ(u_b)] + σ_b²)/q_out with q_out = V(q_in).
/// Smooth activations evaluate it through their [`DualSeries`] when it
/// converges, else by 2-D quadrature.
#[derive(Debug, Clone)]
pub struct CorrelationMap {
    kernel: GaussKernel,
    series: Option<DualSeries>,
    sigma_w2: f64,
    sigma_b2: f64,
    q_in: f64,
    q_out: f64,
    noiseless: bool,
    basis: CorrelationBasis,
    /// μ₂ of the multiplicative noise (for χ₁).
    mu2: f64,
    /// Square of a scale applied to φ (s₊² for the asymptotic map).
    scale2: f64,
    /// Whether F(c) = c for every c: a linearised map with equal slopes
    /// and no noise (φ linear near 0 or at ∞, noiseless).
    identity: bool,
}

/// The attracting fixed point of a correlation map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CorrelationFixedPoint {
    /// c*.
    pub c_star: f64,
    /// χ_c = F′(c*).
    pub chi_c: f64,
    /// ξ_c = −1/ln χ_c; `None` (infinite) when χ_c ≥ 1.
    pub xi_c: Option<f64>,
}

/// χ within this of 1 counts as 1 (an infinite depth scale); defined with the
/// variance map, whose ξ_q uses it too, so that the dependency between the two
/// maps runs one way (this module on `variance_map`).
pub use crate::variance_map::CHI_ONE_TOL;

/// ξ = −1/ln χ for 0 < χ < 1 − [`CHI_ONE_TOL`]; `None` (infinite) above; 0
/// for χ ≤ 0.
pub fn depth_scale(chi: f64) -> Option<f64> {
    if chi >= 1.0 - CHI_ONE_TOL {
        None
    } else if chi <= 0.0 {
        Some(0.0)
    } else {
        Some(-1.0 / chi.ln())
    }
}

impl CorrelationMap {
    /// F(c).
    pub fn eval(&self, c: f64) -> f64 {
        self.eval_with_slope(c).0
    }

    /// (F(c), F′(c)).
    pub fn eval_with_slope(&self, c: f64) -> (f64, f64) {
        let x = self.cross(c);
        (
            (self.sigma_w2 * x.phi_phi + self.sigma_b2) / self.q_out,
            self.sigma_w2 * self.q_in * x.dphi_dphi / self.q_out,
        )
    }

    fn cross(&self, c: f64) -> crate::CrossMoments {
        self.series
            .as_ref()
            .and_then(|s| s.eval(c))
            .unwrap_or_else(|| self.kernel.cross(self.q_in, self.q_in, c))
    }

    /// The input variance the map was built at.
    pub fn q_in(&self) -> f64 {
        self.q_in
    }

    /// Which variance the map stands for.
    pub fn basis(&self) -> CorrelationBasis {
        self.basis
    }

    /// Whether the map is the identity, F(c) = c: a limit map of a φ that is
    /// linear there, without noise. Every c is then a fixed point; the
    /// reported c* = 1 is not an attractor, and the correlations of a real
    /// network move only through the corrections to the limit.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// χ₁ = σ_w² μ₂ E[φ′(√q z)²] at the map's input variance.
    pub fn chi_1(&self) -> f64 {
        self.sigma_w2 * self.mu2 * self.scale2 * self.kernel.moments(self.q_in).deriv_second
    }

    /// σ_w² E[φ′(u_a)φ′(u_b)] at the map's input variance: the per-layer
    /// factor of the gradient covariance (spec 2.11).
    pub fn gradient_covariance_factor(&self, c: f64) -> f64 {
        self.sigma_w2 * self.scale2 * self.cross(c).dphi_dphi
    }

    /// The attracting fixed point in [0, 1] by bracketed Newton (not plain
    /// iteration, whose convergence is only linear with rate χ_c).
    ///
    /// F is increasing and convex on [0, 1] (its Hermite coefficients are
    /// squares), so: with noise, F(1) < 1 and the unique root of F(c) − c
    /// lies in [F(0), F(1)], approached monotonically by Newton from F(0);
    /// without noise c = 1 is a fixed point, attracting when F′(1) ≤ 1
    /// (ordered phase, c* = 1), else the attractor is the root below the
    /// point where F′ = 1 (chaotic phase).
    pub fn fixed_point(&self) -> CorrelationFixedPoint {
        let g = |c: f64| {
            let (f, d) = self.eval_with_slope(c);
            (f - c, d - 1.0)
        };
        let slope = |c: f64| self.eval_with_slope(c).1;
        let c_star = if self.noiseless {
            let chi1 = slope(1.0);
            if chi1 <= 1.0 + 1e-12 {
                1.0
            } else {
                let cm = if slope(0.0) >= 1.0 {
                    0.0
                } else {
                    brent(|c| slope(c) - 1.0, 0.0, 1.0, 1e-14, 1e-14, 200).unwrap_or(0.0)
                };
                if self.eval(0.0) <= 0.0 || cm == 0.0 {
                    0.0
                } else {
                    newton_bracketed(g, 0.0, cm, true, 0.0, 1e-15, 200)
                }
            }
        } else {
            // c* ≥ F(0) (F increasing), and g(F(0)) ≥ 0; g(1) = F(1) − 1 < 0.
            let lo = self.eval(0.0).max(0.0);
            newton_bracketed(g, lo, 1.0, true, lo, 1e-15, 200)
        };
        // A c* within 1e-13 of 0 is 0 up to the quadrature's rounding (an odd
        // φ without bias has c* = 0 exactly).
        let c_star = if c_star.abs() < 1e-13 { 0.0 } else { c_star };
        let chi_c = slope(c_star);
        CorrelationFixedPoint {
            c_star,
            chi_c,
            xi_c: depth_scale(chi_c),
        }
    }
}

impl MeanField {
    /// The covariance map q^l_ab = σ_w² E[φ(u_a)φ(u_b)] + σ_b² for input
    /// variances q_aa, q_bb and correlation c (spec 2.7).
    pub fn covariance_map(&self, q_aa: f64, q_bb: f64, c: f64) -> f64 {
        self.sigma_w2 * self.kernel.cross(q_aa, q_bb, c).phi_phi + self.sigma_b2
    }

    /// One step of the correlation map for two inputs of variance q and
    /// correlation c: c^l = q^l_ab / q^l with q^l = V(q) (spec 2.7).
    pub fn correlation_map(&self, q: f64, c: f64) -> f64 {
        self.covariance_map(q, q, c) / self.variance_map(q)
    }

    /// (q^l, c^l) for l = 0..=depth from two inputs of variance q⁰ and
    /// correlation c⁰, iterating the joint map (valid for any σ_b and off
    /// criticality).
    pub fn correlation_trajectory(&self, q0: f64, c0: f64, depth: usize) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(depth + 1);
        let (mut q, mut c) = (q0, c0);
        out.push((q, c));
        for _ in 0..depth {
            let q_next = self.variance_map(q);
            c = (self.covariance_map(q, q, c) / q_next).clamp(-1.0, 1.0);
            q = q_next;
            out.push((q, c));
        }
        out
    }

    /// The correlation map at input variance `q_in`.
    pub fn correlation_map_at(&self, q_in: f64) -> CorrelationMap {
        CorrelationMap {
            kernel: self.kernel,
            series: self.kernel.dual_series(q_in),
            sigma_w2: self.sigma_w2,
            sigma_b2: self.sigma_b2,
            q_in,
            q_out: self.variance_map(q_in),
            noiseless: self.a == 1.0 && self.b == 0.0,
            basis: CorrelationBasis::FixedPoint,
            mu2: self.a,
            scale2: 1.0,
            identity: false,
        }
    }

    /// The correlation map that governs deep layers in the given variance
    /// regime (see [`CorrelationBasis`]).
    pub fn limiting_correlation_map(&self, regime: &VarianceRegime) -> CorrelationMap {
        let homogeneous = self.activation().is_positively_homogeneous();
        let no_offset = self.b == 0.0 && self.sigma_b2 == 0.0;
        let (q_in, basis) = match *regime {
            VarianceRegime::FixedPoint { q_star, .. } => (q_star, CorrelationBasis::FixedPoint),
            _ if homogeneous && no_offset => (1.0, CorrelationBasis::Homogeneous),
            VarianceRegime::Vanishing { .. } => match self.activation().origin_slopes() {
                Some((sp, sm)) => return self.linearised_correlation_map(sp, sm, false),
                None => (1e-10, CorrelationBasis::VanishingLimit),
            },
            VarianceRegime::Marginal => (1.0, CorrelationBasis::Homogeneous),
            VarianceRegime::ExplodingExponential { .. }
            | VarianceRegime::ExplodingLinear { .. } => {
                let (sp, sm) = self.activation().asymptotic_slopes().unwrap_or((1.0, 0.0));
                return self.linearised_correlation_map(sp, sm, true);
            }
        };
        CorrelationMap {
            basis,
            ..self.correlation_map_at(q_in)
        }
    }

    /// The correlation map of φ replaced by a piecewise-linear function with
    /// slopes (s₊, s₋) — a leaky ReLU with slope s₋/s₊ scaled by s₊ — with no
    /// bias and no additive noise. `asymptotic`: the q → ∞ map (s₊, s₋ the
    /// slopes of φ's linear asymptotes; bias and additive noise become
    /// negligible); else the q → 0 map of a vanishing variance (s₊, s₋ the
    /// slopes of φ at 0, [`Activation::origin_slopes`]; there is no bias or
    /// additive noise, or the variance could not vanish). Both are exact
    /// limits: χ₁ of a φ smooth at 0 is then exactly σ_w²μ₂φ′(0)² (spec 2.7).
    fn linearised_correlation_map(&self, sp: f64, sm: f64, asymptotic: bool) -> CorrelationMap {
        let kernel = GaussKernel::auto(Activation::LeakyRelu { slope: sm / sp }, 0);
        let q_out = self.sigma_w2 * self.a * kernel.moments(1.0).second;
        CorrelationMap {
            kernel,
            series: None,
            sigma_w2: self.sigma_w2,
            sigma_b2: 0.0,
            q_in: 1.0,
            q_out,
            noiseless: self.a == 1.0,
            basis: if asymptotic {
                CorrelationBasis::Asymptotic
            } else {
                CorrelationBasis::VanishingLimit
            },
            mu2: self.a,
            scale2: sp * sp,
            identity: sp == sm && self.a == 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Integration, Network, Noise, NoiseLaw};

    fn relu(noise: NoiseLaw, sw2: f64) -> MeanField {
        MeanField::new(
            &Network::new(Activation::Relu, Noise::from_law(noise), sw2, 0.0).unwrap(),
            Integration::default(),
        )
    }

    /// spec 2.10 (docs/paper-spec.md §2.10, computed there with scipy brentq,
    /// xtol 1e-15, printed to 4 significant digits): (p, c*, χ_c, ξ_c, 6ξ_c)
    /// for dropout at criticality σ_w² = 2p, μ₂ = 1/p, with c* the root of
    /// f(c) = (1/μ₂)[(c·asin c + √(1 − c²))/π + c/2] = c, χ_c = (1/μ₂)(asin(c*)/π + 1/2)
    /// and ξ_c = −1/ln χ_c. The same rows to 20 digits (mpmath, 30 digits) are
    /// `tests/golden/depth_scales.csv`, from `tests/golden/depth_scales.py`.
    const DROPOUT_TABLE: [(f64, f64, f64, f64, f64); 11] = [
        (0.10, 0.0335, 0.0511, 0.336, 2.02),
        (0.20, 0.0709, 0.1045, 0.443, 2.66),
        (0.30, 0.1131, 0.1608, 0.547, 3.28),
        (0.40, 0.1612, 0.2206, 0.662, 3.97),
        (0.50, 0.2172, 0.2849, 0.796, 4.78),
        (0.60, 0.2839, 0.3550, 0.966, 5.79),
        (0.70, 0.3660, 0.4335, 1.196, 7.18),
        (0.80, 0.4728, 0.5254, 1.554, 9.32),
        (0.90, 0.6271, 0.6442, 2.274, 13.64),
        (0.95, 0.7448, 0.7291, 3.165, 18.99),
        (0.99, 0.9029, 0.8500, 6.153, 36.92),
    ];

    /// spec 2.10: multiplicative Gaussian σ_ε rows, as [`DROPOUT_TABLE`] with
    /// μ₂ = 1 + σ_ε² and σ_w² = 2/μ₂.
    const GAUSS_TABLE: [(f64, f64, f64, f64, f64); 13] = [
        (0.10, 0.9035, 0.8505, 6.177, 37.06),
        (0.25, 0.7204, 0.7116, 2.939, 17.63),
        (0.40, 0.5601, 0.5942, 1.921, 11.53),
        (0.55, 0.4348, 0.4938, 1.417, 8.50),
        (0.70, 0.3403, 0.4098, 1.121, 6.73),
        (0.85, 0.2699, 0.3408, 0.929, 5.57),
        (1.00, 0.2172, 0.2849, 0.796, 4.78),
        (1.15, 0.1774, 0.2397, 0.700, 4.20),
        (1.30, 0.1469, 0.2033, 0.628, 3.77),
        (1.45, 0.1232, 0.1738, 0.572, 3.43),
        (1.60, 0.1046, 0.1498, 0.527, 3.16),
        (1.75, 0.0897, 0.1301, 0.490, 2.94),
        (1.90, 0.0777, 0.1138, 0.460, 2.76),
    ];

    fn check_row(mf: &MeanField, row: (f64, f64, f64, f64, f64), what: &str) {
        let (_, c, chi, xi, six) = row;
        let fp = mf
            .limiting_correlation_map(&mf.variance_fixed_point(1.0))
            .fixed_point();
        let xi_c = fp.xi_c.unwrap();
        assert!(
            (fp.c_star - c).abs() <= 5e-5,
            "{what}: c* {} vs {c}",
            fp.c_star
        );
        assert!(
            (fp.chi_c - chi).abs() <= 5e-5,
            "{what}: χ_c {} vs {chi}",
            fp.chi_c
        );
        assert!((xi_c - xi).abs() <= 5e-4, "{what}: ξ_c {xi_c} vs {xi}");
        assert!(
            (6.0 * xi_c - six).abs() <= 5e-3,
            "{what}: 6ξ_c {} vs {six}",
            6.0 * xi_c
        );
    }

    #[test]
    fn spec_table_2_10() {
        for row in DROPOUT_TABLE {
            let p = row.0;
            check_row(
                &relu(NoiseLaw::Dropout { keep: p }, 2.0 * p),
                row,
                &format!("dropout p={p}"),
            );
        }
        for row in GAUSS_TABLE {
            let s = row.0;
            check_row(
                &relu(NoiseLaw::GaussMult { std: s }, 2.0 / (1.0 + s * s)),
                row,
                &format!("gauss σ={s}"),
            );
        }
        check_row(
            &relu(NoiseLaw::LaplaceMult { scale: 0.5 }, 2.0 / 1.5),
            (0.5, 0.3365, 0.4062, 1.110, 6.66),
            "laplace",
        );
        check_row(
            &relu(NoiseLaw::Poisson { rate: 1.0 }, 1.0),
            (1.0, 0.2172, 0.2849, 0.796, 4.78),
            "poisson",
        );
        // The brief's five-digit golden values: p = 0.6 → c* = 0.28391, ξ_c = 0.96553
        // (`tests/golden/depth_scales.csv`, mpmath 30 digits: c* = 0.283908653549875,
        // ξ_c = 0.965533025650831; formulas as in DROPOUT_TABLE with μ₂ = 5/3).
        let fp = relu(NoiseLaw::Dropout { keep: 0.6 }, 1.2)
            .limiting_correlation_map(&VarianceRegime::Marginal)
            .fixed_point();
        assert!((fp.c_star - 0.28391).abs() < 5e-6, "{}", fp.c_star);
        assert!((fp.xi_c.unwrap() - 0.96553).abs() < 5e-6, "{:?}", fp.xi_c);
        // No noise: c* = 1 at the edge of chaos, ξ_c infinite.
        let fp = relu(NoiseLaw::None, 2.0)
            .limiting_correlation_map(&VarianceRegime::Marginal)
            .fixed_point();
        assert_eq!((fp.c_star, fp.xi_c), (1.0, None));
    }

    #[test]
    fn c_map_is_independent_of_sigma_w_for_relu_without_bias() {
        // spec D7: off criticality the noisy ReLU C-map does not depend on σ_w.
        let c_at = |sw2: f64| relu(NoiseLaw::Dropout { keep: 0.8 }, sw2).correlation_map(3.0, 0.3);
        let f =
            |c: f64| 0.8 * ((c * c.asin() + (1.0 - c * c).sqrt()) / std::f64::consts::PI + c / 2.0);
        for sw2 in [0.5, 1.6, 3.0] {
            assert!((c_at(sw2) - f(0.3)).abs() < 1e-15);
        }
    }

    #[test]
    fn small_noise_asymptotics() {
        // spec 2.8: μ₂ − 1 = 1e-3 → 1 − c* = 0.02197 (the root of f(c) = c of
        // DROPOUT_TABLE at μ₂ = 1.001; mpmath 30 digits: 1 − c* = 0.0219651768).
        let mf = relu(NoiseLaw::Mult { mu2: 1.001 }, 2.0 / 1.001);
        let fp = mf
            .limiting_correlation_map(&VarianceRegime::Marginal)
            .fixed_point();
        assert!(
            ((1.0 - fp.c_star) - 0.02197).abs() < 5e-6,
            "{}",
            1.0 - fp.c_star
        );
    }

    #[test]
    fn noiseless_tanh_phases() {
        let tanh = |sw2: f64, sb2: f64| {
            MeanField::new(
                &Network::new(Activation::Tanh, Noise::none(), sw2, sb2).unwrap(),
                Integration::default(),
            )
        };
        // Ordered: c* = 1 with χ₁ < 1.
        let m = tanh(1.2, 0.3);
        let fp = m
            .limiting_correlation_map(&m.variance_fixed_point(1.0))
            .fixed_point();
        assert_eq!(fp.c_star, 1.0);
        assert!(fp.chi_c < 1.0);
        // Chaotic: c* < 1, attracting, a fixed point.
        let m = tanh(3.0, 0.05);
        let map = m.limiting_correlation_map(&m.variance_fixed_point(1.0));
        let fp = map.fixed_point();
        assert!(fp.c_star > 0.0 && fp.c_star < 1.0, "{fp:?}");
        assert!((map.eval(fp.c_star) - fp.c_star).abs() < 1e-13);
        assert!(fp.chi_c < 1.0);
        // Without bias the chaotic attractor of an odd φ is c* = 0.
        let m = tanh(3.0, 0.0);
        let fp = m
            .limiting_correlation_map(&m.variance_fixed_point(1.0))
            .fixed_point();
        assert!(fp.c_star.abs() < 1e-14, "{fp:?}");
    }

    #[test]
    fn slope_matches_finite_difference() {
        for (act, noise, sw2, sb2) in [
            (Activation::Tanh, NoiseLaw::Dropout { keep: 0.9 }, 1.8, 0.05),
            (Activation::Relu, NoiseLaw::GaussAdd { std: 0.5 }, 1.5, 0.2),
            (Activation::Selu, NoiseLaw::Dropout { keep: 0.8 }, 1.0, 0.0),
            (Activation::Erf, NoiseLaw::GaussMult { std: 0.3 }, 2.5, 0.1),
        ] {
            let mf = MeanField::new(
                &Network::new(act, Noise::from_law(noise), sw2, sb2).unwrap(),
                Integration::default(),
            );
            let map = mf.correlation_map_at(1.3);
            for c in [0.1, 0.5, 0.95] {
                let h = 1e-6;
                let fd = (map.eval(c + h) - map.eval(c - h)) / (2.0 * h);
                assert!((fd - map.eval_with_slope(c).1).abs() < 1e-7, "{act} c={c}");
            }
        }
    }
}
