//! The critical-initialisation solver: the σ_w² at which χ₁ = 1 at a variance
//! fixed point that the variance map actually reaches (spec 2.3, 2.4;
//! Schoenholz et al. 2017, spec 5).
//!
//! χ₁ = σ_w² μ₂ E[φ′(√q* z)²] is the per-layer factor of the gradient's second
//! moment (spec 2.11) and the slope of the correlation map at c = 1 without
//! noise. A σ_w² with χ₁ = 1 at a fixed point q* is a critical initialisation
//! only if inputs reach q*: the map's slope V′(q*) = σ_w² μ₂ E[φ′² + φφ″] must
//! be below 1 (a stable fixed point), or q* = 0 must be approached from above.
//! Every answer is classified ([`CriticalKind`]):
//!
//! * **every q** — the ReLU family without bias or additive noise: σ_w² =
//!   2/(μ₂(1 + α²)) makes every q a fixed point (closed form, Table 1);
//! * **stable** — χ₁ = 1 at a stable fixed point q* > 0 (the edge of chaos,
//!   e.g. tanh with bias). Found by writing the fixed-point condition as
//!   σ_w²(q) = (q − σ_b²)/(μ₂ E[φ(√q z)²] + σ_ε²), so that χ₁ and V′ become
//!   functions of q alone, scanning q on a log grid for crossings of χ₁ = 1
//!   (refined by Brent's method) and keeping the first stable one;
//! * **zero (approached from above)** — without bias and additive noise and
//!   with φ(0) = 0, q* = 0 is a fixed point with χ₁(0) = σ_w² μ₂ (φ′(0⁺)² +
//!   φ′(0⁻)²)/2, the average of the two one-sided slopes at a kink (SELU:
//!   λ²(1 + α²)/2). It is critical only if the map bends below the identity
//!   (V(q) < q for small q > 0, as for tanh and erf): the variance then
//!   shrinks to 0 as a power law instead of exponentially. Where the map bends
//!   upward (GELU, SiLU) q* = 0 repels and any q⁰ > 0 runs away, so it is no
//!   critical point;
//! * **none** — with the reason, naming the fixed points that were searched.

use serde::{Deserialize, Serialize};

use crate::mean_field::MeanField;
use crate::number::fmt_short;
use crate::roots::brent;

/// What kind of critical point a network has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CriticalKind {
    /// Every q is a fixed point (ReLU family, no bias, no additive noise): the
    /// variance is preserved at any depth.
    EveryQ,
    /// A stable fixed point q* > 0 with χ₁ = 1: inputs converge to q* and
    /// gradients keep their size there.
    Stable,
    /// q* = 0, approached from above (marginal, like tanh at σ_w = 1): the
    /// variance shrinks to 0 slowly, as a power law, and χ₁ → 1.
    #[serde(rename = "zero-from-above")]
    Zero,
    /// No critical point.
    None,
}

impl CriticalKind {
    /// The kebab-case name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CriticalKind::EveryQ => "every-q",
            CriticalKind::Stable => "stable",
            CriticalKind::Zero => "zero-from-above",
            CriticalKind::None => "none",
        }
    }

    /// What the kind means for a network initialised there, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            CriticalKind::EveryQ => {
                "every variance is a fixed point: signals keep their size at any depth and gradients neither explode nor vanish"
            }
            CriticalKind::Stable => {
                "inputs converge to the stable fixed point q*, where gradients keep their size (χ₁ = 1)"
            }
            CriticalKind::Zero => {
                "the variance shrinks towards 0 slowly, as a power law instead of exponentially; gradients shrink alike"
            }
            CriticalKind::None => "no σ_w² keeps signals and gradients from exploding or vanishing",
        }
    }
}

impl std::fmt::Display for CriticalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A critical initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CriticalPoint {
    /// σ_w² with χ₁ = 1.
    pub sigma_w2: f64,
    /// The variance fixed point there (0 for [`CriticalKind::Zero`]); `None`
    /// when every q is one.
    pub q_star: Option<f64>,
    /// The kind.
    pub kind: CriticalKind,
    /// Slope of the variance map at q* (1 when every q is a fixed point or
    /// q* = 0).
    pub map_slope: f64,
    /// The unstable fixed point above q*, when there is one: inputs with
    /// q⁰ below it converge to q*, above it the variance runs away.
    pub basin_upper: Option<f64>,
}

impl CriticalPoint {
    /// The critical point in words.
    pub fn describe(&self) -> String {
        match (self.kind, self.q_star) {
            (CriticalKind::Stable, Some(q)) => format!(
                "χ₁ = 1 at the stable fixed point q* = {} (map slope {} there){}",
                fmt_short(q),
                fmt_short(self.map_slope),
                match self.basin_upper {
                    Some(u) => format!(
                        "; inputs with q⁰ < {} converge to it, above that the variance runs away",
                        fmt_short(u)
                    ),
                    None => String::new(),
                }
            ),
            (CriticalKind::Zero, _) => {
                "χ₁ → 1 as q → 0, and the map approaches q* = 0 from above (V(q) < q): q shrinks slowly, as a power law".into()
            }
            _ => "every q is a fixed point and χ₁ = 1 at all of them".into(),
        }
    }
}

/// Why no critical initialisation exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoCriticalPoint {
    /// Machine-readable reason: `additive-noise`, `bias`,
    /// `unstable-fixed-points`, `no-crossing`.
    pub code: String,
    /// The reason in words.
    pub reason: String,
}

/// Lowest q of the scan (q* of a critical point is resolved above it).
const Q_LO: f64 = 1e-9;
/// Highest q of the scan.
const Q_HI: f64 = 1e8;
/// Log-spaced scan points between them.
const SCAN_STEPS: usize = 136;
/// |V′(q*) − 1| below this counts as a slope of exactly 1.
const SLOPE_TOL: f64 = 1e-9;

impl MeanField {
    /// χ₁ = σ_w² μ₂ E[φ′(√q z)²] at input variance q (spec 2.11).
    pub fn chi_1(&self, q: f64) -> f64 {
        self.sigma_w2 * self.a * self.kernel.moments(q).deriv_second
    }

    /// The critical σ_w² for this activation, noise and σ_b² (σ_w² of `self`
    /// is ignored), classified by [`CriticalKind`], or why there is none.
    pub fn critical_sigma_w2(&self) -> Result<CriticalPoint, NoCriticalPoint> {
        if self.activation().is_positively_homogeneous() {
            return self.homogeneous_critical();
        }
        let (a, b, sb2) = (self.a, self.b, self.sigma_b2);
        // σ_w² that makes q a fixed point, χ₁ − 1 and the map slope there.
        let at = |q: f64| {
            let m = self.kernel.moments(q);
            let sw2 = (q - sb2) / (a * m.second + b);
            (
                sw2,
                sw2 * a * m.deriv_second - 1.0,
                sw2 * a * m.second_slope,
            )
        };
        let q_lo = sb2 * (1.0 + 1e-9) + Q_LO;
        let ratio = (Q_HI / q_lo).powf(1.0 / SCAN_STEPS as f64);
        let (mut q_prev, (_, mut h_prev, _)) = (q_lo, at(q_lo));
        let mut max_stable_chi: Option<f64> = None;
        let mut unstable: Option<(f64, f64, f64)> = None;
        for k in 0..=SCAN_STEPS {
            let q = if k == 0 {
                q_lo
            } else {
                q_lo * ratio.powi(k as i32)
            };
            let (sw2, h, slope) = at(q);
            if sw2 > 0.0 && slope < 1.0 {
                max_stable_chi = Some(max_stable_chi.map_or(h + 1.0, |m| m.max(h + 1.0)));
            }
            // A crossing counts when χ₁ − 1 is resolved on at least one side:
            // as q → 0 with φ(0) = 0 and no offset, χ₁ → 1 and its sign is noise.
            let resolved = h_prev.abs().max(h.abs()) > 1e-10;
            let crossing = k > 0
                && resolved
                && h_prev.is_finite()
                && h.is_finite()
                && (h_prev <= 0.0) != (h <= 0.0);
            if let Some(root) = crossing
                .then(|| brent(|x| at(x).1, q_prev, q, 1e-300, 4.0 * f64::EPSILON, 200))
                .flatten()
            {
                let (sw2, _, slope) = at(root);
                let semi = slope <= 1.0 + SLOPE_TOL && self.attracts_from_above(sw2, root);
                if sw2 > 0.0 && (slope < 1.0 - SLOPE_TOL || semi) {
                    return Ok(CriticalPoint {
                        sigma_w2: sw2,
                        q_star: Some(root),
                        kind: CriticalKind::Stable,
                        map_slope: slope,
                        basin_upper: self.with_sigma_w2(sw2).unstable_fixed_point_above(root),
                    });
                }
                if sw2 > 0.0 && unstable.is_none() {
                    unstable = Some((sw2, root, slope));
                }
            }
            q_prev = q;
            h_prev = h;
        }
        let zero = self.zero_critical();
        if let Ok(cp) = zero {
            return Ok(cp);
        }
        let mut reason = match (unstable, max_stable_chi) {
            (Some((sw2, q, slope)), _) => format!(
                "χ₁ = 1 only at unstable fixed points of the variance map (at σ_w² = {}: q* = {}, map slope {} > 1, so the variance runs away from it)",
                fmt_short(sw2),
                fmt_short(q),
                fmt_short(slope)
            ),
            (None, Some(m)) => format!(
                "χ₁ stays below 1 at every stable fixed point of the variance map (the largest χ₁ there is {}, searched for q* up to {Q_HI:e})",
                fmt_short(m)
            ),
            (None, None) => format!(
                "the variance map has no stable fixed point with χ₁ = 1 for q* up to {Q_HI:e}"
            ),
        };
        if let Err(why) = zero {
            reason.push_str("; ");
            reason.push_str(&why);
        }
        Err(NoCriticalPoint {
            code: if unstable.is_some() {
                "unstable-fixed-points".into()
            } else {
                "no-crossing".into()
            },
            reason,
        })
    }

    /// The ReLU family: closed form, or why there is none.
    fn homogeneous_critical(&self) -> Result<CriticalPoint, NoCriticalPoint> {
        let (a, b, sb2) = (self.a, self.b, self.sigma_b2);
        let g = self.kernel.moments(1.0).deriv_second;
        let sigma_w2 = 1.0 / (a * g);
        if b > 0.0 {
            return Err(NoCriticalPoint {
                code: "additive-noise".into(),
                reason: format!(
                    "additive noise adds σ_w²·σ_ε² = {}{} per layer at σ_w² = {}, the only σ_w² with χ₁ = 1, \
                     so the variance grows linearly without a fixed point; below it q* exists but χ₁ < 1 (docs/paper-spec.md §2.3)",
                    fmt_short(sigma_w2 * b),
                    if sb2 > 0.0 {
                        format!(" (and the bias σ_b² = {})", fmt_short(sb2))
                    } else {
                        String::new()
                    },
                    fmt_short(sigma_w2)
                ),
            });
        }
        if sb2 > 0.0 {
            return Err(NoCriticalPoint {
                code: "bias".into(),
                reason: format!(
                    "the bias adds σ_b² = {} per layer at σ_w² = {}, the only σ_w² with χ₁ = 1, \
                     so the variance grows linearly without a fixed point; set σ_b² = 0 (docs/paper-spec.md §2.4)",
                    fmt_short(sb2),
                    fmt_short(sigma_w2)
                ),
            });
        }
        Ok(CriticalPoint {
            sigma_w2,
            q_star: None,
            kind: CriticalKind::EveryQ,
            map_slope: 1.0,
            basin_upper: None,
        })
    }

    /// q* = 0 with χ₁(0) = 1: without bias and additive noise and with
    /// φ(0) = 0, at σ_w² = 1/(μ₂ (φ′(0⁺)² + φ′(0⁻)²)/2), when the map
    /// approaches 0 from above; else why not (`Err` with the reason).
    fn zero_critical(&self) -> Result<CriticalPoint, String> {
        let act = self.activation();
        let (sp, sm, phi0) = act.slopes_at_zero();
        if self.b != 0.0 || self.sigma_b2 != 0.0 || phi0 != 0.0 {
            return Err(if phi0 != 0.0 {
                format!(
                    "q* = 0 is no fixed point since φ(0) = {} ≠ 0",
                    fmt_short(phi0)
                )
            } else {
                "q* = 0 is no fixed point with bias or additive noise".into()
            });
        }
        let s2 = 0.5 * (sp * sp + sm * sm);
        if s2 <= 0.0 {
            return Err("φ′(0) = 0, so χ₁ → 0 as q → 0".into());
        }
        let sigma_w2 = 1.0 / (self.a * s2);
        let mf = self.with_sigma_w2(sigma_w2);
        // The map must stay below the identity from small q up to typical
        // input variances, so that inputs drift down to 0.
        let above: Vec<f64> = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0]
            .into_iter()
            .filter(|&q| mf.variance_map(q) >= q * (1.0 - 1e-13))
            .collect();
        match above.first() {
            None => Ok(CriticalPoint {
                sigma_w2,
                q_star: Some(0.0),
                kind: CriticalKind::Zero,
                map_slope: 1.0,
                basin_upper: mf.unstable_fixed_point_above(0.0),
            }),
            Some(&q) if q < 1e-3 => Err(format!(
                "q* = 0 has χ₁ = 1 at σ_w² = {} but is unstable: the map bends upward there (V(q) > q for small q > 0), so any q⁰ > 0 runs away from it",
                fmt_short(sigma_w2)
            )),
            Some(&q) => Err(format!(
                "q* = 0 has χ₁ = 1 at σ_w² = {} but inputs with q⁰ ≥ {} do not reach it (V(q) ≥ q there)",
                fmt_short(sigma_w2),
                fmt_short(q)
            )),
        }
    }

    /// The first fixed point above `q` where the map crosses the identity
    /// upward (V(q) − q goes from negative to positive), scanning to 10⁸.
    fn unstable_fixed_point_above(&self, q: f64) -> Option<f64> {
        let g = |x: f64| self.variance_map(x) - x;
        let mut lo = if q > 0.0 { q * 1.01 } else { 1e-6 };
        let mut g_lo = g(lo);
        while lo < Q_HI {
            let hi = lo * 1.25;
            let g_hi = g(hi);
            if g_lo < 0.0 && g_hi > 0.0 {
                return brent(g, lo, hi, 1e-300, 4.0 * f64::EPSILON, 200);
            }
            (lo, g_lo) = (hi, g_hi);
        }
        None
    }

    /// Whether a fixed point q* with map slope 1 attracts from above (the
    /// second-order term bends the map below the identity there).
    fn attracts_from_above(&self, sigma_w2: f64, q: f64) -> bool {
        let mf = self.with_sigma_w2(sigma_w2);
        let d = 1e-3 * q.max(1e-12);
        mf.variance_map(q + d) < q + d
    }

    /// The smallest σ_b² in (σ_b² of `self`, 10] at which a critical point
    /// exists (to 10⁻⁷ relative), when the current σ_b² has none: where the
    /// edge of chaos starts.
    pub fn nearest_critical_sigma_b2(&self) -> Option<f64> {
        let has = |sb2: f64| self.with_sigma_b2(sb2).critical_sigma_w2().is_ok();
        let start = self.sigma_b2;
        let mut lo = start;
        let mut probe = if start > 0.0 { start * 1.25 } else { 1e-4 };
        while probe <= 10.0 {
            if has(probe) {
                let mut hi = probe;
                while (hi - lo) > 1e-7 * hi {
                    let mid = 0.5 * (lo + hi);
                    if has(mid) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                return Some(hi);
            }
            lo = probe;
            probe *= 1.25;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::{Activation, CriticalKind, Integration, MeanField, Network, Noise, NoiseLaw};

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
        // ReLU family: σ_w² = 2/(μ₂(1 + α²)) with μ₂ = 1/0.8, α = 0.5.
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
        // Schoenholz et al. 2017: σ_b² = 0.05 → σ_w² ≈ 1.761; to 15 digits
        // 1.76095463960674 (tests/golden/critical.csv, row tanh,1,0.05, from
        // tests/golden/critical.py: mpmath 30 digits).
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

    /// ELU (α = 1) with additive noise σ_ε² = 0.25, σ_b² = 0: unlike ReLU, whose
    /// χ₁ reaches 1 only as q* → ∞, E[φ′(√q z)²] > 1/2 at every finite q, and
    /// the critical equation q = (E[φ²] + σ_ε²)/E[φ′²] has exactly one root
    /// (its left side minus its right changes sign once on q ∈ [0.01, 1e5]).
    /// The solver finds it stable, as an independent mpmath computation does
    /// (30 digits, `quad` split at 0, `findroot` from q = 8.5): q* =
    /// 8.56880622069901, σ_w² = 1/E[φ′²](q*) = 1.76582524530851, map slope
    /// σ_w² E[φ′² + φφ″](q*) = 0.898008745364971.
    #[test]
    fn elu_with_additive_noise_is_critical_at_finite_q() {
        let result = mf(
            Activation::Elu { alpha: 1.0 },
            &[NoiseLaw::GaussAdd { std: 0.5 }],
            0.0,
        )
        .critical_sigma_w2();
        let cp = match result {
            Ok(cp) => cp,
            Err(e) => panic!("ELU with additive noise has a critical point: {e:?}"),
        };
        assert_eq!(cp.kind, CriticalKind::Stable);
        let q_star = cp.q_star.expect("a finite q*");
        assert!((q_star - 8.56880622069901).abs() < 1e-6, "q* = {q_star}");
        assert!(
            (cp.sigma_w2 - 1.76582524530851).abs() < 1e-8,
            "σ_w² = {}",
            cp.sigma_w2
        );
        assert!(
            (cp.map_slope - 0.898008745364971).abs() < 1e-6,
            "slope = {}",
            cp.map_slope
        );
    }

    /// Issue 9: GELU and SiLU at q* = 0 are not critical (the map bends
    /// upward there); the reason says so, and where the edge of chaos starts.
    #[test]
    fn issue_9_gelu_zero_is_unstable() {
        for act in [Activation::Gelu, Activation::Silu] {
            let m = mf(act, &[NoiseLaw::Dropout { keep: 0.8 }], 0.0);
            let e = m.critical_sigma_w2().unwrap_err();
            assert!(
                e.reason.contains("unstable") && e.reason.contains("bends upward"),
                "{act}: {}",
                e.reason
            );
            // At the would-be σ_w² = 1/(μ₂ φ′(0)²) a small variance runs away.
            let at = m.with_sigma_w2(1.0 / (1.25 * 0.25));
            assert!(at.variance_map(1e-3) > 1e-3);
            let edge = m.nearest_critical_sigma_b2().unwrap();
            assert!(m.with_sigma_b2(edge).critical_sigma_w2().is_ok());
            assert!(m.with_sigma_b2(edge * 0.99).critical_sigma_w2().is_err());
        }
    }

    /// Issue 9: with bias, GELU reaches χ₁ = 1 only at unstable fixed points,
    /// and the message says which fixed points were searched.
    #[test]
    fn issue_9_gelu_with_bias_names_the_unstable_fixed_point() {
        let e = mf(Activation::Gelu, &[NoiseLaw::Dropout { keep: 0.8 }], 0.1)
            .critical_sigma_w2()
            .unwrap_err();
        assert_eq!(e.code, "unstable-fixed-points");
        assert!(
            e.reason.contains("only at unstable fixed points"),
            "{}",
            e.reason
        );
        assert!(!e.reason.contains("stays below 1"), "{}", e.reason);
    }

    /// Issue 9: SELU's kink averages both one-sided slopes as q → 0:
    /// σ_w² = 2/(λ²(1 + α²)), not 1/(λα)².
    #[test]
    fn issue_9_selu_uses_both_sides_of_its_kink() {
        use crate::activation::{SELU_ALPHA, SELU_LAMBDA};
        let cp = mf(Activation::Selu, &[], 0.0).critical_sigma_w2().unwrap();
        let want = 2.0 / (SELU_LAMBDA * SELU_LAMBDA * (1.0 + SELU_ALPHA * SELU_ALPHA));
        assert!(
            (cp.sigma_w2 - want).abs() < 1e-12,
            "{} vs {want}",
            cp.sigma_w2
        );
        // 2/(λ²(1 + α²)) = 0.476771017882753 (λ = 1.0507009873554805,
        // α = 1.6732632423543772; tests/golden/critical.csv row selu,1,0, mpmath).
        assert!((cp.sigma_w2 - 0.4768).abs() < 1e-4);
        assert_eq!(cp.kind, CriticalKind::Zero);
        // χ₁ → 1 from the quadrature at small q (both sides integrated).
        let at = mf(Activation::Selu, &[], 0.0).with_sigma_w2(cp.sigma_w2);
        assert!((at.chi_1(1e-8) - 1.0).abs() < 1e-3, "{}", at.chi_1(1e-8));
        // ELU with α ≠ 1 likewise: 2/(1 + α²).
        let cp = mf(Activation::Elu { alpha: 0.5 }, &[], 0.0)
            .critical_sigma_w2()
            .unwrap();
        assert!((cp.sigma_w2 - 2.0 / 1.25).abs() < 1e-12, "{}", cp.sigma_w2);
    }

    /// Every critical point found is one the map reaches: stable (slope < 1)
    /// or q* = 0 approached from above.
    #[test]
    fn critical_points_are_reached() {
        for act in crate::critical_table::TABLE_ACTIVATIONS {
            for noise in [vec![], vec![NoiseLaw::Dropout { keep: 0.7 }]] {
                for sb2 in [0.0, 0.05, 0.3] {
                    let m = mf(act, &noise, sb2);
                    let Ok(cp) = m.critical_sigma_w2() else {
                        continue;
                    };
                    let at = m.with_sigma_w2(cp.sigma_w2);
                    match (cp.kind, cp.q_star) {
                        (CriticalKind::Stable, Some(q)) => {
                            assert!(at.variance_map_slope(q) < 1.0, "{act} {sb2}");
                            assert!((at.chi_1(q) - 1.0).abs() < 1e-9, "{act} {sb2}");
                            // From above and below, trajectories converge to q*.
                            let top = cp.basin_upper.map_or(5.0 * q, |u| (5.0 * q).min(0.9 * u));
                            for q0 in [0.2 * q + 0.01, top] {
                                let t = at.variance_trajectory(q0, 3000);
                                assert!(
                                    (t[3000] - q).abs() < 1e-6 * q.max(1.0),
                                    "{act} {sb2} {q0}"
                                );
                            }
                        }
                        (CriticalKind::Zero, Some(q)) => {
                            assert_eq!(q, 0.0);
                            let t = at.variance_trajectory(1.0, 200);
                            assert!(t.windows(2).all(|w| w[1] < w[0]), "{act}");
                        }
                        (CriticalKind::EveryQ, None) => {
                            assert!((at.variance_map(3.0) - 3.0).abs() < 1e-12)
                        }
                        other => panic!("{act} {sb2}: {other:?}"),
                    }
                }
            }
        }
    }

    /// Issue 9: at a kink, the correlation map near c = 1 has the slope of
    /// both sides: without noise F′(1) = σ_w² E[φ′²] = χ₁ = 1 at a stable
    /// critical point, for SELU and ELU with α ≠ 1 as for tanh. A kink in φ′
    /// makes F′ approach 1 like 1 − K√(1 − c) (as arccos does for ReLU), a
    /// smooth φ linearly; one side alone would miss 1 by O(1).
    #[test]
    fn issue_9_correlation_map_near_one_at_a_kink() {
        for (act, kinked) in [
            (Activation::Selu, true),
            (Activation::Elu { alpha: 0.4 }, true),
            (Activation::Tanh, false),
        ] {
            let m = mf(act, &[], 0.05);
            let cp = m.critical_sigma_w2().unwrap();
            assert_eq!(cp.kind, CriticalKind::Stable, "{act}");
            let at = m.with_sigma_w2(cp.sigma_w2);
            let map = at.correlation_map_at(cp.q_star.unwrap());
            let dev = |e: f64| 1.0 - map.eval_with_slope(1.0 - e).1;
            let (d6, d9) = (dev(1e-6), dev(1e-9));
            assert!(d9.abs() < 1e-4, "{act}: F′(1 − 1e-9) = {}", 1.0 - d9);
            if kinked {
                let ratio = d6 / d9;
                assert!(
                    (ratio / 1000f64.sqrt() - 1.0).abs() < 0.3,
                    "{act}: {d6} / {d9}"
                );
            } else {
                assert!(d6.abs() < 1e-5, "{act}: {d6}");
            }
            let (f, _) = map.eval_with_slope(1.0 - 1e-9);
            assert!(f <= 1.0 + 1e-12 && f > 1.0 - 2e-9, "{act}: F = {f}");
        }
    }
}
