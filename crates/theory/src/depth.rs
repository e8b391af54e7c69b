//! Depth predictions: the trainable depth k·ξ_c (spec 2.9) and the depth at
//! which the variance leaves a floating-point format's range (spec 2.6).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::mean_field::MeanField;
use crate::variance_map::{CRITICAL_TOL, VarianceRegime};

/// k of the trainable-depth prediction k·ξ_c unless asked otherwise: networks
/// deeper than about 6ξ_c do not train (spec 2.9; Schoenholz et al. 2017).
pub const DEPTH_MULTIPLIER: f64 = 6.0;

/// Predicted trainable depth k·ξ_c (Schoenholz et al.'s k = 6 by default);
/// `None` when ξ_c is infinite.
pub fn trainable_depth(xi_c: Option<f64>, k: f64) -> Option<f64> {
    xi_c.map(|x| k * x)
}

/// A floating-point format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FloatFormat {
    /// IEEE half precision.
    F16,
    /// bfloat16.
    Bf16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
}

impl FloatFormat {
    /// All formats, narrowest first.
    pub const ALL: [FloatFormat; 4] = [
        FloatFormat::F16,
        FloatFormat::Bf16,
        FloatFormat::F32,
        FloatFormat::F64,
    ];

    /// Largest finite value.
    pub fn max(self) -> f64 {
        match self {
            FloatFormat::F16 => 65504.0,
            FloatFormat::Bf16 => 3.389_531_389_251_535_5e38,
            FloatFormat::F32 => f32::MAX as f64,
            FloatFormat::F64 => f64::MAX,
        }
    }

    /// Smallest positive normal value (spec 2.6 uses numpy's `finfo.tiny`).
    pub fn min_normal(self) -> f64 {
        match self {
            FloatFormat::F16 => 6.103_515_625e-5,
            FloatFormat::Bf16 | FloatFormat::F32 => f32::MIN_POSITIVE as f64,
            FloatFormat::F64 => f64::MIN_POSITIVE,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            FloatFormat::F16 => "f16",
            FloatFormat::Bf16 => "bf16",
            FloatFormat::F32 => "f32",
            FloatFormat::F64 => "f64",
        }
    }
}

impl fmt::Display for FloatFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which edge of the range the variance leaves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RangeExit {
    /// Above the largest finite value.
    Overflow,
    /// Below the smallest normal value.
    Underflow,
}

impl MeanField {
    /// The (fractional) depth L* at which the variance q^L leaves the range
    /// of `format`, starting from q⁰ (spec 2.6):
    /// L* = ln(K/q⁰)/ln(σ_w²μ₂/2) for ReLU without bias or additive noise,
    /// with K the format's largest value (overflow) or smallest normal value
    /// (underflow). The ReLU family uses the exact affine solution
    /// q^L = a^L(q⁰ − q*) + q* also with bias and additive noise (linear
    /// growth: (K − q⁰)/β). Other activations iterate the map through its
    /// transient and extrapolate with the regime's asymptotic rate. `None`
    /// when the variance stays in range at every depth.
    pub fn range_exit_depth(
        &self,
        regime: &VarianceRegime,
        q0: f64,
        format: FloatFormat,
    ) -> Option<(f64, RangeExit)> {
        let (lo, hi) = (format.min_normal(), format.max());
        if q0 > hi {
            return Some((0.0, RangeExit::Overflow));
        }
        if q0 < lo {
            return Some((0.0, RangeExit::Underflow));
        }
        if let Some((a, beta)) = self.affine_variance_map() {
            return affine_exit(a, beta, q0, lo, hi);
        }
        self.iterated_exit(regime, q0, lo, hi)
    }

    fn iterated_exit(
        &self,
        regime: &VarianceRegime,
        q0: f64,
        lo: f64,
        hi: f64,
    ) -> Option<(f64, RangeExit)> {
        let limit = match *regime {
            VarianceRegime::FixedPoint { q_star, .. } if q_star > hi || q_star < lo => 100_000,
            VarianceRegime::FixedPoint { .. } | VarianceRegime::Marginal => return None,
            _ => 10_000,
        };
        let mut q = q0;
        for l in 1..=limit {
            let next = self.variance_map(q);
            let step = |k: f64, exit| {
                let frac = (k / q).ln() / (next / q).ln();
                Some(((l - 1) as f64 + frac, exit))
            };
            if next > hi {
                return step(hi, RangeExit::Overflow);
            }
            if next < lo {
                return step(lo, RangeExit::Underflow);
            }
            q = next;
            let transient_over = match *regime {
                VarianceRegime::Vanishing { .. } => q < 1e-8 * q0,
                VarianceRegime::ExplodingExponential { .. }
                | VarianceRegime::ExplodingLinear { .. } => q > 1e8 * q0.max(1.0),
                _ => false,
            };
            if transient_over || l == limit {
                return extrapolate(regime, l as f64, q, lo, hi);
            }
        }
        None
    }
}

/// Continues a trajectory at layer `l`, variance `q`, with the regime's
/// asymptotic rate until it leaves [lo, hi].
fn extrapolate(
    regime: &VarianceRegime,
    l: f64,
    q: f64,
    lo: f64,
    hi: f64,
) -> Option<(f64, RangeExit)> {
    match *regime {
        VarianceRegime::Vanishing { rate } if rate < 1.0 - 1e-9 => {
            Some((l + (lo / q).ln() / rate.ln(), RangeExit::Underflow))
        }
        // Power-law decay q^l ∝ 1/l.
        VarianceRegime::Vanishing { .. } => Some((l * q / lo, RangeExit::Underflow)),
        VarianceRegime::ExplodingExponential { growth } => {
            Some((l + (hi / q).ln() / growth.ln(), RangeExit::Overflow))
        }
        VarianceRegime::ExplodingLinear { increment } => {
            Some((l + (hi - q) / increment, RangeExit::Overflow))
        }
        _ => None,
    }
}

/// Exit depth of q^l = a·q^{l−1} + β from q⁰ out of [lo, hi].
fn affine_exit(a: f64, beta: f64, q0: f64, lo: f64, hi: f64) -> Option<(f64, RangeExit)> {
    let critical = (a - 1.0).abs() <= CRITICAL_TOL;
    if critical {
        return (beta > 0.0).then(|| ((hi - q0) / beta, RangeExit::Overflow));
    }
    if a > 1.0 {
        // q^L + β/(a−1) = a^L (q⁰ + β/(a−1)).
        let s = beta / (a - 1.0);
        return Some((((hi + s) / (q0 + s)).ln() / a.ln(), RangeExit::Overflow));
    }
    // a < 1: q^L − q* = a^L (q⁰ − q*).
    let q_star = beta / (1.0 - a);
    if q_star > hi {
        Some((
            ((q_star - hi) / (q_star - q0)).ln() / a.ln(),
            RangeExit::Overflow,
        ))
    } else if q_star < lo {
        Some((
            ((lo - q_star) / (q0 - q_star)).ln() / a.ln(),
            RangeExit::Underflow,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Integration, Network, Noise, NoiseLaw};

    #[test]
    fn spec_2_6_table() {
        // Dropout p = 0.6, q⁰ = 1, float32: the L* row of the table in spec 2.6
        // (docs/paper-spec.md §2.6, one decimal), L* = ln K / ln(σ_w² μ₂ / 2) with
        // μ₂ = 5/3 and K = f32::MAX (overflow, σ_w² > 1.2) or f32::MIN_POSITIVE
        // (underflow, σ_w² < 1.2).
        let table = [
            (0.1, 35.1),
            (0.2, 48.7),
            (0.3, 63.0),
            (0.4, 79.5),
            (0.5, 99.8),
            (0.6, 126.0),
            (0.7, 162.0),
            (0.8, 215.4),
            (0.9, 303.6),
            (1.0, 479.0),
            (1.1, 1003.7),
            (1.3, 1108.4),
            (1.4, 575.6),
            (1.5, 397.6),
            (1.6, 308.4),
            (1.7, 254.7),
            (1.8, 218.8),
            (1.9, 193.1),
            (2.0, 173.7),
            (2.1, 158.5),
            (2.2, 146.4),
            (2.3, 136.4),
            (2.4, 128.0),
            (2.5, 120.9),
        ];
        let noise = Noise::from_law(NoiseLaw::Dropout { keep: 0.6 });
        for (sw2, want) in table {
            let mf = MeanField::new(
                &Network::new(Activation::Relu, noise.clone(), sw2, 0.0).unwrap(),
                Integration::default(),
            );
            let regime = mf.variance_fixed_point(1.0);
            let (depth, exit) = mf.range_exit_depth(&regime, 1.0, FloatFormat::F32).unwrap();
            assert!(
                (depth - want).abs() < 0.051,
                "σ_w²={sw2}: {depth} vs {want}"
            );
            assert_eq!(
                exit,
                if sw2 > 1.2 {
                    RangeExit::Overflow
                } else {
                    RangeExit::Underflow
                }
            );
        }
        let mf = MeanField::new(
            &Network::new(Activation::Relu, noise, 1.2, 0.0).unwrap(),
            Integration::default(),
        );
        assert_eq!(
            mf.range_exit_depth(&mf.variance_fixed_point(1.0), 1.0, FloatFormat::F32),
            None
        );
    }

    #[test]
    fn linear_growth_and_general_activations() {
        // ReLU He + N(0,1): q = 1 + 2l reaches 65504 at l = 32751.5.
        let mf = MeanField::new(
            &Network::new(
                Activation::Relu,
                Noise::from_law(NoiseLaw::GaussAdd { std: 1.0 }),
                2.0,
                0.0,
            )
            .unwrap(),
            Integration::default(),
        );
        let r = mf.variance_fixed_point(1.0);
        assert_eq!(
            mf.range_exit_depth(&r, 1.0, FloatFormat::F16),
            Some((32751.5, RangeExit::Overflow))
        );
        // ELU far from criticality: iterate-and-extrapolate agrees with brute force.
        let mf = MeanField::new(
            &Network::new(Activation::Elu { alpha: 1.0 }, Noise::none(), 3.0, 0.0).unwrap(),
            Integration::default(),
        );
        let r = mf.variance_fixed_point(1.0);
        let (depth, exit) = mf.range_exit_depth(&r, 1.0, FloatFormat::F32).unwrap();
        assert_eq!(exit, RangeExit::Overflow);
        let t = mf.variance_trajectory(1.0, 400);
        let first = t.iter().position(|&q| q > f32::MAX as f64).unwrap();
        assert!(
            (depth.ceil() as usize).abs_diff(first) <= 1,
            "{depth} vs {first}"
        );
        // Vanishing tanh.
        let mf = MeanField::new(
            &Network::new(Activation::Tanh, Noise::none(), 0.5, 0.0).unwrap(),
            Integration::default(),
        );
        let r = mf.variance_fixed_point(1.0);
        let (depth, exit) = mf.range_exit_depth(&r, 1.0, FloatFormat::F16).unwrap();
        assert_eq!(exit, RangeExit::Underflow);
        let t = mf.variance_trajectory(1.0, 100);
        // 2⁻¹⁴ = 6.103515625e-5, the smallest normal f16.
        let first = t.iter().position(|&q| q < 6.103_515_625e-5).unwrap();
        assert!(
            (depth.ceil() as usize).abs_diff(first) <= 1,
            "{depth} vs {first}"
        );
    }
}
