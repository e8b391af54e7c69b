//! Does the simulation agree with the theory? One PASS/FAIL for a run.
//!
//! **Rule.** Every layer l ≥ 1 of every input class gives one check per
//! quantity (q, c when there are pairs, and with the backward pass the
//! gradient's second moment below the top layer and its correlation). A check
//! passes when
//!
//! |theory − mean over networks| ≤ t·SE + a,
//!
//! with SE the standard error over networks, t the Student-t quantile at the
//! Bonferroni level 1 − 0.05/(2m) for m checks (so a correct theory fails
//! the run with probability ≲ 5 %), and a the finite-width allowance
//! 1/√width — relative (× |theory|) for q and the gradient's second moment,
//! absolute for correlations — which covers the O(1/width) bias of the
//! estimators and the O(1/√width) effects the infinite-width theory leaves
//! out. Where a network overflowed, the check fails unless the theory itself
//! leaves the floating-point range there. The run passes when every check
//! does.

use serde::{Deserialize, Serialize};

use crate::stats::{Summary, t_quantile};
use crate::theory::TheoryLayers;
use crate::{ClassResult, Precision};

/// The quantity a check compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// The variance q^l.
    Q,
    /// The correlation c^l of input pairs.
    C,
    /// The gradient's second moment.
    GradQ,
    /// The correlation of the two inputs' gradients.
    GradC,
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quantity::Q => "q",
            Quantity::C => "c",
            Quantity::GradQ => "grad_q",
            Quantity::GradC => "grad_c",
        })
    }
}

/// One comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Input class index.
    pub class: usize,
    /// Layer.
    pub layer: usize,
    /// `q`, `c`, `grad_q` or `grad_c`.
    pub quantity: Quantity,
    /// Theory value.
    pub theory: f64,
    /// Simulation mean.
    pub sim_mean: f64,
    /// Allowed |theory − mean|.
    pub band: f64,
    /// Whether it passed.
    pub pass: bool,
}

/// The outcome of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// PASS (true) or FAIL.
    pub pass: bool,
    /// Number of checks.
    pub checks: usize,
    /// Number that failed.
    pub failed: usize,
    /// t multiplier used.
    pub t: f64,
    /// Finite-width allowance 1/√width.
    pub allowance: f64,
    /// The rule in words ([`RULE`]).
    pub rule: String,
    /// The failed checks, worst (largest excess over the band) first, at most 20.
    pub failures: Vec<Check>,
}

impl noisyprop_theory::record::Kind for Verdict {
    const KIND: &'static str = "verdict";
}

/// The rule in one sentence (for reports).
pub const RULE: &str = "every layer's |theory − mean| ≤ t·SE + a, t at the Bonferroni level 1 − 0.05/(2m) over the m checks, a = 1/√width (relative for q, absolute for correlations)";

/// Compares `sim` with `theory` (same classes and layers).
pub fn verdict(
    sim: &[ClassResult],
    theory: &[TheoryLayers],
    width: usize,
    precision: Precision,
) -> Verdict {
    let allowance = 1.0 / (width as f64).sqrt();
    let max = match precision {
        Precision::F32 => f32::MAX as f64,
        Precision::F64 => f64::MAX,
    };
    type Get = fn(&crate::LayerSummary) -> Option<Summary>;
    type TheoryGet = fn(&TheoryLayers) -> &Vec<f64>;
    let quantities: [(Quantity, bool, Get, TheoryGet); 4] = [
        (Quantity::Q, true, |l| Some(l.q), |t| &t.q),
        (Quantity::C, false, |l| l.c, |t| &t.c),
        (Quantity::GradQ, true, |l| l.grad_q, |t| &t.grad_q),
        (Quantity::GradC, false, |l| l.grad_c, |t| &t.grad_c),
    ];
    // Collect the comparisons first to know m.
    let mut pending = Vec::new();
    for (ci, (class, th)) in sim.iter().zip(theory).enumerate() {
        let depth = class.layers.len() - 1;
        for layer in &class.layers {
            if layer.layer == 0 {
                continue;
            }
            for (name, relative, get, tget) in quantities {
                let grad = matches!(name, Quantity::GradQ | Quantity::GradC);
                if grad && layer.layer == depth {
                    continue;
                }
                let (Some(s), Some(&t)) = (get(layer), tget(th).get(layer.layer)) else {
                    continue;
                };
                if t.is_nan() {
                    continue;
                }
                pending.push((ci, layer.layer, name, relative, s, t));
            }
        }
    }
    let n = sim
        .first()
        .and_then(|c| c.layers.first())
        .map_or(2, |l| l.q.n + l.q.nonfinite);
    judge(pending, n, allowance, max)
}

/// One pending comparison: class, layer, quantity, relative allowance?,
/// the simulation's summary, the theory value.
type Pending = (usize, usize, Quantity, bool, Summary, f64);

/// The verdict of `pending` comparisons over `n` networks (the band rule of
/// [`RULE`]).
fn judge(pending: Vec<Pending>, n: usize, allowance: f64, max: f64) -> Verdict {
    let m = pending.len().max(1);
    let t = t_quantile(1.0 - 0.05 / (2.0 * m as f64), (n.max(2) - 1) as f64);
    let mut checks: Vec<Check> = pending
        .into_iter()
        .map(|(class, layer, quantity, relative, s, th)| {
            let a = if relative {
                allowance * th.abs()
            } else {
                allowance
            };
            let band = t * s.standard_error() + a;
            let pass = if s.nonfinite > 0 {
                th.abs() > max
            } else {
                (th - s.mean).abs() <= band
            };
            Check {
                class,
                layer,
                quantity,
                theory: th,
                sim_mean: s.mean,
                band,
                pass,
            }
        })
        .collect();
    let total = checks.len();
    checks.retain(|c| !c.pass);
    checks.sort_by(|a, b| {
        let ex =
            |c: &Check| ((c.theory - c.sim_mean).abs() - c.band) / c.band.max(f64::MIN_POSITIVE);
        ex(b)
            .partial_cmp(&ex(a))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let failed = checks.len();
    checks.truncate(20);
    Verdict {
        pass: failed == 0 && total > 0,
        checks: total,
        failed,
        t,
        allowance,
        rule: RULE.to_string(),
        failures: checks,
    }
}

/// The verdict (same rule, [`RULE`]) for one quantity measured layer by layer
/// in independent networks built elsewhere, e.g. a PyTorch or Keras model
/// initialised by noisyprop: `samples[k][l]` is network k's value at layer
/// l + 1 (the mean over units and inputs, e.g. of h² for q), `theory[l]`
/// the theory's, `width` the layer width (for the finite-width allowance).
/// Theory values that are NaN are not checked.
pub fn verdict_of_layers(
    quantity: Quantity,
    theory: &[f64],
    samples: &[Vec<f64>],
    width: usize,
) -> Verdict {
    let relative = matches!(quantity, Quantity::Q | Quantity::GradQ);
    let pending = theory
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.is_nan())
        .map(|(l, &t)| {
            let values: Vec<f64> = samples
                .iter()
                .map(|net| net.get(l).copied().unwrap_or(f64::NAN))
                .collect();
            let s = if relative {
                Summary::nonnegative(&values)
            } else {
                Summary::correlation(&values)
            };
            (0, l + 1, quantity, relative, s, t)
        })
        .collect();
    judge(
        pending,
        samples.len(),
        1.0 / (width.max(1) as f64).sqrt(),
        f64::MAX,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic spread: network k's value is `centre · (1 + 0.05·u_k)`
    /// with u_k evenly spaced in [−1, 1].
    fn samples(centre: &[f64], networks: usize) -> Vec<Vec<f64>> {
        (0..networks)
            .map(|k| {
                let u = 2.0 * k as f64 / (networks - 1) as f64 - 1.0;
                centre.iter().map(|c| c * (1.0 + 0.05 * u)).collect()
            })
            .collect()
    }

    #[test]
    fn layers_measured_elsewhere_pass_at_the_theory_and_fail_off_it() {
        let theory = vec![1.0; 50];
        let v = verdict_of_layers(Quantity::Q, &theory, &samples(&theory, 8), 256);
        assert!(v.pass, "{v:?}");
        assert_eq!(v.checks, 50);
        // 30 % off at every layer: far outside t·SE + 1/16 relative.
        let off: Vec<f64> = theory.iter().map(|t| t * 1.3).collect();
        let v = verdict_of_layers(Quantity::Q, &theory, &samples(&off, 8), 256);
        assert!(!v.pass);
        assert_eq!(v.failed, 50);
        // A drift that only leaves the band at depth fails there only.
        let drift: Vec<f64> = (0..50).map(|l| 1.02f64.powi(l)).collect();
        let v = verdict_of_layers(Quantity::Q, &theory, &samples(&drift, 8), 256);
        assert!(!v.pass && v.failed < 50 && v.failed > 0, "{v:?}");
        // NaN theory values are not checked; NaN samples fail.
        let mut th = theory.clone();
        th[3] = f64::NAN;
        let v = verdict_of_layers(Quantity::Q, &th, &samples(&theory, 8), 256);
        assert_eq!(v.checks, 49);
        let mut bad = samples(&theory, 8);
        bad[0][7] = f64::INFINITY;
        assert!(!verdict_of_layers(Quantity::Q, &theory, &bad, 256).pass);
    }
}
