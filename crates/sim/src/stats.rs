//! Summaries over networks: mean, standard deviation and confidence intervals.

use serde::Serialize;

/// Mean, sample standard deviation and the 95 % confidence interval of the
/// mean (Student t) of a quantity over networks; non-finite values are
/// counted and left out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Mean over the finite values.
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one value.
    pub std: f64,
    /// Lower end of the 95 % interval of the mean.
    pub ci_low: f64,
    /// Upper end of the 95 % interval of the mean.
    pub ci_high: f64,
    /// Number of finite values.
    pub n: usize,
    /// Number of non-finite values (overflow, 0/0).
    pub nonfinite: usize,
}

impl Summary {
    /// Summarises `values`.
    pub fn of(values: &[f64]) -> Summary {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = finite.len();
        let nonfinite = values.len() - n;
        if n == 0 {
            return Summary {
                mean: f64::NAN,
                std: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
                n,
                nonfinite,
            };
        }
        let mean = finite.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let half = if n > 1 {
            t_quantile(0.975, (n - 1) as f64) * std / (n as f64).sqrt()
        } else {
            f64::INFINITY
        };
        Summary {
            mean,
            std,
            ci_low: mean - half,
            ci_high: mean + half,
            n,
            nonfinite,
        }
    }

    /// Standard error of the mean.
    pub fn standard_error(&self) -> f64 {
        if self.n > 1 {
            self.std / (self.n as f64).sqrt()
        } else {
            f64::INFINITY
        }
    }
}

/// Standard normal quantile (Acklam's rational approximation refined by one
/// Halley step; |error| < 1e-12).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let plow = 0.024_25;
    let x = if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step on Φ(x) − p.
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Student-t quantile with `dof` degrees of freedom (Cornish–Fisher
/// expansion around the normal quantile; relative error below 1e-4 for
/// dof ≥ 3 and p ≤ 0.9999, which is ample for interval widths).
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    let z = normal_quantile(p);
    if !dof.is_finite() || dof > 1e7 {
        return z;
    }
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    let g1 = (z3 + z) / 4.0;
    let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    let g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    z + g1 / dof + g2 / dof.powi(2) + g3 / dof.powi(3) + g4 / dof.powi(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813).abs() < 1e-8);
        // scipy.stats.t.ppf(0.975, [4, 19, 49]) = 2.776445, 2.093024, 2.009575.
        for (dof, want) in [(4.0, 2.776_445), (19.0, 2.093_024), (49.0, 2.009_575)] {
            assert!(
                (t_quantile(0.975, dof) - want).abs() < 2e-3 * want,
                "{dof}: {}",
                t_quantile(0.975, dof)
            );
        }
        // t.ppf(0.9995, 19) = 3.883406.
        assert!((t_quantile(0.9995, 19.0) - 3.883_406).abs() < 0.02);
    }

    #[test]
    fn summary() {
        let s = Summary::of(&[1.0, 2.0, 3.0, f64::INFINITY]);
        assert_eq!((s.mean, s.n, s.nonfinite), (2.0, 3, 1));
        assert!((s.std - 1.0).abs() < 1e-15);
        assert!(s.ci_low < 2.0 && s.ci_high > 2.0);
    }
}
