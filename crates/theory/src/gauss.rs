//! Gaussian expectations of an activation: the building blocks of every map.
//!
//! With z, z₁, z₂ iid N(0, 1) (spec 1.3),
//!
//! * one input: u = √q·z and [`Moments`] = (E[φ(u)], E[φ(u)²], E[φ′(u)²],
//!   d/dq E[φ(u)²] = E[φ′(u)² + φ(u)φ″(u)]);
//! * two inputs (spec 2.7): u_a = √q_a·z₁, u_b = √q_b·(c·z₁ + √(1 − c²)·z₂) and
//!   [`CrossMoments`] = (E[φ(u_a)φ(u_b)], E[φ′(u_a)φ′(u_b)]). By Price's
//!   theorem ∂E[φ(u_a)φ(u_b)]/∂Σ_ab = E[φ′(u_a)φ′(u_b)], Σ_ab = c√(q_a q_b),
//!   which gives the slopes of the correlation map.
//!
//! A [`GaussKernel`] evaluates these by closed form (ReLU family, erf) or by
//! quadrature of a fixed order (see [`crate::activation`] for the accuracy of
//! each activation).
//!
//! ## Why Gauss–Legendre and not Gauss–Hermite
//!
//! Gauss–Hermite is the textbook rule for Gaussian expectations, but it
//! converges slowly when φ(√q z) has complex singularities close to the
//! real axis — tanh(√q z) has poles at z = ±iπ/(2√q) — and not at all
//! faster than O(1/n) at kinks. Measured for E[tanh(2z)²] (q = 4; exact
//! 0.635261234256940): Gauss–Hermite with 32/64/128/256 nodes is off by
//! 2.3e-3/8.6e-5/6.9e-7/6.3e-10, while Gauss–Legendre on [−10, 0] ∪ [0, 10]
//! with 32 nodes per side is off by 1.7e-10 and with 64 by < 1e-15. The 2-D
//! polar rule behaves the same way (tanh, gelu and selu cross moments agree to
//! 1e-15 between 32 and 64 nodes for q ≤ 10 and c up to 0.9999, while
//! Gauss–Hermite still changes in the 4th digit at 128 nodes for q = 10).
//! So every quadrature activation uses [`Method::GaussLegendre`] by default;
//! [`Method::GaussHermite`] remains selectable for cross-checks.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

use crate::activation::Activation;
use crate::quadrature;

/// One-input Gaussian moments at variance q.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// E[φ(√q z)].
    pub mean: f64,
    /// E[φ(√q z)²].
    pub second: f64,
    /// E[φ′(√q z)²].
    pub deriv_second: f64,
    /// d/dq E[φ(√q z)²] = E[φ′² + φφ″].
    pub second_slope: f64,
}

/// Two-input Gaussian moments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossMoments {
    /// E[φ(u_a)φ(u_b)].
    pub phi_phi: f64,
    /// E[φ′(u_a)φ′(u_b)].
    pub dphi_dphi: f64,
}

/// How a kernel integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Method {
    /// Exact closed forms.
    ClosedForm,
    /// Gauss–Legendre with the normal density in the weights: 1-D on
    /// [−10, 0] and [0, 10] (split at the kink x = 0), 2-D in polar
    /// coordinates with the angle split at the kink lines of both inputs;
    /// `nodes` per piece and dimension. The default: see the module docs.
    GaussLegendre {
        /// Nodes per piece and dimension.
        nodes: usize,
    },
    /// Tensor Gauss–Hermite, `nodes` per dimension. Kept for cross-checks:
    /// it converges slowly once φ(√q z) varies on a scale below 1 (tanh at
    /// q = 4 needs 256 nodes for 1e-9) and is wrong at kinks.
    GaussHermite {
        /// Nodes per dimension.
        nodes: usize,
    },
}

impl Method {
    /// Quadrature nodes per dimension (0 for closed forms).
    pub fn nodes(&self) -> usize {
        match *self {
            Method::ClosedForm => 0,
            Method::GaussHermite { nodes } | Method::GaussLegendre { nodes } => nodes,
        }
    }
}

/// Evaluates [`Moments`] and [`CrossMoments`] of one activation by one method.
#[derive(Debug, Clone, Copy)]
pub struct GaussKernel {
    act: Activation,
    method: Method,
}

impl GaussKernel {
    /// Closed forms when the activation has them, else quadrature with `nodes`
    /// per dimension.
    pub fn auto(act: Activation, nodes: usize) -> Self {
        if act.has_closed_form() {
            GaussKernel {
                act,
                method: Method::ClosedForm,
            }
        } else {
            GaussKernel::quadrature(act, nodes)
        }
    }

    /// Gauss–Legendre quadrature ([`Method::GaussLegendre`]), even where a
    /// closed form exists. `nodes` is rounded to a power of two in [4, 1024].
    pub fn quadrature(act: Activation, nodes: usize) -> Self {
        GaussKernel {
            act,
            method: Method::GaussLegendre {
                nodes: quadrature::round_order(nodes),
            },
        }
    }

    /// Tensor Gauss–Hermite quadrature ([`Method::GaussHermite`]).
    pub fn hermite(act: Activation, nodes: usize) -> Self {
        GaussKernel {
            act,
            method: Method::GaussHermite {
                nodes: quadrature::round_order(nodes),
            },
        }
    }

    /// The same kind of kernel with `nodes` per dimension (closed forms stay).
    pub fn with_nodes(&self, nodes: usize) -> Self {
        match self.method {
            Method::ClosedForm => *self,
            Method::GaussLegendre { .. } => GaussKernel::quadrature(self.act, nodes),
            Method::GaussHermite { .. } => GaussKernel::hermite(self.act, nodes),
        }
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.act
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// One-input moments at variance `q` ≥ 0.
    pub fn moments(&self, q: f64) -> Moments {
        let q = q.max(0.0);
        if self.method == Method::ClosedForm {
            if let Some(a) = self.act.negative_slope() {
                let g = 0.5 * (1.0 + a * a);
                return Moments {
                    mean: (1.0 - a) * (q / (2.0 * PI)).sqrt(),
                    second: g * q,
                    deriv_second: g,
                    second_slope: g,
                };
            }
            if self.act == Activation::Erf {
                let s = (1.0 + 4.0 * q).sqrt();
                return Moments {
                    mean: 0.0,
                    second: 2.0 / PI * (2.0 * q / (1.0 + 2.0 * q)).asin(),
                    deriv_second: 4.0 / PI / s,
                    second_slope: 4.0 / PI / ((1.0 + 2.0 * q) * s),
                };
            }
        }
        let sq = q.sqrt();
        let (mut m1, mut m2, mut d2, mut sl) = (0.0, 0.0, 0.0, 0.0);
        let mut add = |z: f64, w: f64| {
            let (f, d, dd) = self.act.eval_d2(sq * z);
            m1 += w * f;
            m2 += w * f * f;
            d2 += w * d * d;
            sl += w * (d * d + f * dd);
        };
        match self.method {
            Method::GaussHermite { nodes } => {
                let rule = quadrature::hermite(nodes);
                for (&z, &w) in rule.nodes.iter().zip(&rule.weights) {
                    add(z, w);
                }
            }
            _ => quadrature::legendre_1d(self.method.nodes().max(4), quadrature::inner_cut(q), add),
        }
        Moments {
            mean: m1,
            second: m2,
            deriv_second: d2,
            second_slope: sl,
        }
    }

    /// The Mehler expansion at equal variances q, for smooth activations
    /// under Gauss–Legendre quadrature; `None` for closed forms, kinked or
    /// Gauss–Hermite kernels, q ≤ 1e-8, or when 4n nodes per piece and 2n
    /// terms do not meet the Parseval checks (see [`DualSeries`]).
    pub fn dual_series(&self, q: f64) -> Option<DualSeries> {
        let Method::GaussLegendre { nodes } = self.method else {
            return None;
        };
        if self.act.is_kinked() || q.is_nan() || q <= 1e-8 || q.is_infinite() {
            return None;
        }
        let terms = (2 * nodes).min(256);
        let sqrt_k: Vec<f64> = (0..=terms + 1).map(|k| (k as f64).sqrt()).collect();
        let mut a = vec![0.0; terms + 1];
        let (mut m2, mut d2) = (0.0, 0.0);
        let sq = q.sqrt();
        quadrature::legendre_1d((4 * nodes).min(1024), quadrature::inner_cut(q), |z, w| {
            let (f, d) = self.act.eval_d(sq * z);
            m2 += w * f * f;
            d2 += w * d * d;
            let wf = w * f;
            let (mut h0, mut h1) = (1.0, z);
            a[0] += wf;
            if terms >= 1 {
                a[1] += wf * z;
            }
            for k in 1..terms {
                let h2 = (z * h1 - sqrt_k[k] * h0) / sqrt_k[k + 1];
                a[k + 1] += wf * h2;
                h0 = h1;
                h1 = h2;
            }
        });
        let coef: Vec<f64> = a.iter().map(|x| x * x).collect();
        let s0: f64 = coef.iter().sum();
        let s1: f64 = coef.iter().enumerate().map(|(k, c)| k as f64 * c).sum();
        // |c|^{K+1}·T₀ ≤ tol·E[φ²] and |c|^K·T₁ ≤ tol·qE[φ′²].
        let kf = terms as f64;
        let limit = |tail: f64, scale: f64, power: f64| {
            if tail <= SERIES_TOL * scale {
                1.0
            } else {
                (SERIES_TOL * scale / tail).powf(1.0 / power)
            }
        };
        let c_limit = limit(m2 - s0, m2, kf + 1.0).min(limit(q * d2 - s1, q * d2, kf));
        (c_limit > 0.05 && m2 > 0.0).then_some(DualSeries { coef, q, c_limit })
    }

    /// Two-input moments for variances `qa`, `qb` ≥ 0 and correlation `c`
    /// (clamped to [−1, 1]).
    pub fn cross(&self, qa: f64, qb: f64, c: f64) -> CrossMoments {
        let c = c.clamp(-1.0, 1.0);
        let (qa, qb) = (qa.max(0.0), qb.max(0.0));
        let (sa, sb) = (qa.sqrt(), qb.sqrt());
        match self.method {
            Method::ClosedForm => {
                if let Some(a) = self.act.negative_slope() {
                    let (phi_phi, dphi_dphi) = relu_family_cross(a, c);
                    return CrossMoments {
                        phi_phi: sa * sb * phi_phi,
                        dphi_dphi,
                    };
                }
                // erf (Williams 1997).
                let sab = c * sa * sb;
                let d = (1.0 + 2.0 * qa) * (1.0 + 2.0 * qb);
                CrossMoments {
                    phi_phi: 2.0 / PI * (2.0 * sab / d.sqrt()).clamp(-1.0, 1.0).asin(),
                    dphi_dphi: 4.0 / PI / (d - 4.0 * sab * sab).sqrt(),
                }
            }
            Method::GaussHermite { nodes } => {
                let rule = quadrature::hermite(nodes);
                let s = ((1.0 - c) * (1.0 + c)).sqrt();
                let (mut pp, mut dd) = (0.0, 0.0);
                for (&z1, &w1) in rule.nodes.iter().zip(&rule.weights) {
                    let (fa, da) = self.act.eval_d(sa * z1);
                    let base = sb * c * z1;
                    let (mut accf, mut accd) = (0.0, 0.0);
                    for (&z2, &w2) in rule.nodes.iter().zip(&rule.weights) {
                        let (fb, db) = self.act.eval_d(base + sb * s * z2);
                        accf += w2 * fb;
                        accd += w2 * db;
                    }
                    pp += w1 * fa * accf;
                    dd += w1 * da * accd;
                }
                CrossMoments {
                    phi_phi: pp,
                    dphi_dphi: dd,
                }
            }
            Method::GaussLegendre { nodes } => {
                // u_a = √q_a r cos θ, u_b = √q_b r cos(θ − θ_c) with cos θ_c = c:
                // kinks where either cosine vanishes.
                let theta_c = c.acos();
                let (stc, ctc) = theta_c.sin_cos();
                let h = PI / 2.0;
                let kinks = [h, -h, theta_c + h, theta_c - h];
                let cut = quadrature::inner_cut(qa.max(qb));
                let (pp, dd) = quadrature::polar_legendre_sectors(
                    &kinks,
                    nodes / 2,
                    nodes,
                    cut,
                    |r, ct, st| {
                        let (fa, da) = self.act.eval_d(sa * r * ct);
                        let (fb, db) = self.act.eval_d(sb * r * (ct * ctc + st * stc));
                        (fa * fb, da * db)
                    },
                );
                CrossMoments {
                    phi_phi: pp,
                    dphi_dphi: dd,
                }
            }
        }
    }
}

/// The Mehler (Hermite) expansion of the two-input moments at equal
/// variances q (the "dual activation", Daniely et al. 2016):
///
/// E[φ(u_a)φ(u_b)] = Σ_k a_k² c^k, a_k = E[φ(√q z) h_k(z)],
/// E[φ′(u_a)φ′(u_b)] = (1/q) Σ_k (k+1) a_{k+1}² c^k (Price's theorem),
///
/// with h_k the orthonormal Hermite polynomials. The a_k² are non-negative,
/// so truncating after K terms errs by at most |c|^{K+1}·T₀ and |c|^K·T₁ with
/// the Parseval defects T₀ = E\[φ²\] − Σ_k a_k² and T₁ = q E[φ′²] − Σ_k k a_k².
/// The series is therefore trusted only for |c| ≤ [`DualSeries::c_limit`],
/// where both bounds are below 1e-13 relative; [`DualSeries::eval`] returns
/// `None` beyond. For smooth activations at moderate q it turns each
/// evaluation of the correlation map into a polynomial instead of a 2-D
/// quadrature.
#[derive(Debug, Clone)]
pub struct DualSeries {
    coef: Vec<f64>,
    q: f64,
    c_limit: f64,
}

/// Relative truncation tolerance of [`DualSeries`].
const SERIES_TOL: f64 = 1e-13;

impl DualSeries {
    /// The largest |c| at which the truncation bound holds.
    pub fn c_limit(&self) -> f64 {
        self.c_limit
    }

    /// (E[φ(u_a)φ(u_b)], E[φ′(u_a)φ′(u_b)]) at correlation c, or `None` when
    /// |c| exceeds [`DualSeries::c_limit`].
    pub fn eval(&self, c: f64) -> Option<CrossMoments> {
        let c = c.clamp(-1.0, 1.0);
        if c.abs() > self.c_limit {
            return None;
        }
        let (mut f, mut d) = (0.0, 0.0);
        for (k, &a2) in self.coef.iter().enumerate().rev() {
            f = f * c + a2;
            if k > 0 {
                d = d * c + k as f64 * a2;
            }
        }
        Some(CrossMoments {
            phi_phi: f,
            dphi_dphi: d / self.q,
        })
    }

    /// Number of terms.
    pub fn len(&self) -> usize {
        self.coef.len()
    }

    /// Whether the series is empty (never for a built series).
    pub fn is_empty(&self) -> bool {
        self.coef.is_empty()
    }
}

/// Normalised two-input moments of φ(x) = x (x ≥ 0), a·x (x < 0) at unit
/// variances: (E\[φφ\], E[φ′φ′]) as functions of c, from
/// φ = a·x + (1 − a)·relu(x) and the arc-cosine kernel (spec 2.7):
/// E\[φφ\] = a·c + (1 − a)²·(√(1 − c²) + (π − acos c)·c)/(2π),
/// E[φ′φ′] = a + (1 − a)²·(1/4 + asin(c)/(2π)).
#[inline]
pub fn relu_family_cross(a: f64, c: f64) -> (f64, f64) {
    let b = (1.0 - a) * (1.0 - a);
    let s = ((1.0 - c) * (1.0 + c)).max(0.0).sqrt();
    let asin = c.asin();
    // π − acos c = π/2 + asin c.
    let k = (s + (0.5 * PI + asin) * c) / (2.0 * PI);
    (a * c + b * k, a + b * (0.25 + asin / (2.0 * PI)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn hermite_and_legendre_agree_on_smooth_activations() {
        for act in [Activation::Tanh, Activation::Gelu, Activation::Sigmoid] {
            let gh = GaussKernel::hermite(act, 256);
            let gl = GaussKernel::quadrature(act, 64);
            for (q, c) in [(0.5, 0.3), (2.0, 0.9)] {
                assert!(
                    close(gh.moments(q).second, gl.moments(q).second, 1e-9),
                    "{act}"
                );
                let (a, b) = (gh.cross(q, q, c), gl.cross(q, q, c));
                assert!(
                    close(a.phi_phi, b.phi_phi, 1e-9) && close(a.dphi_dphi, b.dphi_dphi, 1e-8),
                    "{act} {a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn quadrature_matches_closed_forms() {
        let acts = [
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.1 },
            Activation::LeakyRelu { slope: -0.4 },
            Activation::Linear,
            Activation::Abs,
            Activation::Erf,
        ];
        for act in acts {
            let exact = GaussKernel::auto(act, 64);
            for q in [1e-3, 0.3, 1.0, 4.0, 25.0] {
                // erf(√q z) steepens with q: 64 nodes hold 1e-11 up to q ≈ 10,
                // q = 25 needs 128 (the adaptive analysis finds this itself).
                let quad = GaussKernel::quadrature(act, if q > 10.0 { 128 } else { 64 });
                let (e, n) = (exact.moments(q), quad.moments(q));
                assert!(
                    close(n.mean, e.mean, 1e-12),
                    "{act} q={q} mean {n:?} vs {e:?}"
                );
                assert!(
                    close(n.second, e.second, 1e-12),
                    "{act} q={q} second {n:?} vs {e:?}"
                );
                assert!(close(n.deriv_second, e.deriv_second, 1e-12), "{act} q={q}");
                assert!(close(n.second_slope, e.second_slope, 1e-10), "{act} q={q}");
                for c in [-0.9, -0.2, 0.0, 0.5, 0.9, 0.999, 1.0 - 1e-9, 1.0] {
                    let (e2, n2) = (exact.cross(q, 1.3 * q, c), quad.cross(q, 1.3 * q, c));
                    assert!(
                        close(n2.phi_phi, e2.phi_phi, 1e-11),
                        "{act} q={q} c={c}: {n2:?} vs {e2:?}"
                    );
                    assert!(
                        close(n2.dphi_dphi, e2.dphi_dphi, 1e-11),
                        "{act} q={q} c={c}: {n2:?} vs {e2:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn second_moment_slope_matches_finite_difference() {
        let acts = [
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::Silu,
            Activation::Softplus,
            Activation::Elu { alpha: 1.0 },
            Activation::Selu,
            Activation::Erf,
        ];
        for act in acts {
            let k = GaussKernel::auto(act, 128);
            for q in [0.05, 0.7, 3.0, 12.0] {
                let h = 1e-5 * q;
                let fd = (k.moments(q + h).second - k.moments(q - h).second) / (2.0 * h);
                let an = k.moments(q).second_slope;
                assert!(close(an, fd, 1e-7), "{act} q={q}: {an} vs {fd}");
            }
        }
    }

    #[test]
    fn dual_series_matches_2d_quadrature() {
        for act in [
            Activation::Tanh,
            Activation::Gelu,
            Activation::Sigmoid,
            Activation::Silu,
            Activation::Softplus,
        ] {
            let k = GaussKernel::quadrature(act, 64);
            for q in [0.05, 0.8, 3.0] {
                let Some(series) = k.dual_series(q) else {
                    panic!("{act} q={q}: no series");
                };
                for c in [-0.7, 0.0, 0.4, 0.99, 1.0] {
                    let Some(a) = series.eval(c) else {
                        assert!(c.abs() > series.c_limit());
                        continue;
                    };
                    let b = k.cross(q, q, c);
                    assert!(
                        close(a.phi_phi, b.phi_phi, 1e-12),
                        "{act} q={q} c={c} {a:?} {b:?}"
                    );
                    assert!(
                        close(a.dphi_dphi, b.dphi_dphi, 1e-11),
                        "{act} q={q} c={c} {a:?} {b:?}"
                    );
                }
            }
        }
        // Kinked activations have slowly decaying coefficients: no series.
        assert!(
            GaussKernel::quadrature(Activation::Selu, 64)
                .dual_series(1.0)
                .is_none()
        );
        // Smooth and flat: valid up to c = 1; steep: only for smaller |c|.
        assert_eq!(
            GaussKernel::quadrature(Activation::Tanh, 64)
                .dual_series(0.3)
                .unwrap()
                .c_limit(),
            1.0
        );
        let steep = GaussKernel::quadrature(Activation::Tanh, 64)
            .dual_series(3.0)
            .unwrap();
        assert!(
            steep.c_limit() > 0.5 && steep.c_limit() < 1.0,
            "{}",
            steep.c_limit()
        );
    }

    #[test]
    fn cross_at_c_one_equals_one_input_moments() {
        for act in [
            Activation::Tanh,
            Activation::Gelu,
            Activation::Selu,
            Activation::Softplus,
        ] {
            let k = GaussKernel::auto(act, 64);
            for q in [0.2, 2.0] {
                let m = k.moments(q);
                let x = k.cross(q, q, 1.0);
                assert!(close(x.phi_phi, m.second, 1e-12), "{act}");
                assert!(close(x.dphi_dphi, m.deriv_second, 1e-11), "{act}");
                // Price: ∂E[φφ]/∂c = q·E[φ′φ′].
                let c = 0.4;
                let h = 1e-6;
                let fd = (k.cross(q, q, c + h).phi_phi - k.cross(q, q, c - h).phi_phi) / (2.0 * h);
                assert!(
                    close(fd, q * k.cross(q, q, c).dphi_dphi, 1e-7),
                    "{act} q={q}"
                );
            }
        }
    }
}
