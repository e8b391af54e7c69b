//! Phase diagrams over (σ_w², σ_b²) or (σ_w², μ₂) grids, computed in
//! parallel (rayon), with the critical line χ₁ = 1 of every row.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::signal_survives;
use crate::correlation_map::CorrelationBasis;
use crate::depth::trainable_depth;
use crate::error::{TheoryError, check};
use crate::family::Family;
use crate::mean_field::Integration;
use crate::variance_map::RegimeKind;

/// A sweep of `n` values from `min` to `max`, linear or logarithmic: one axis
/// of a phase diagram. Written `MIN:MAX:N` on the command line ([`FromStr`](std::str::FromStr)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// First value.
    pub min: f64,
    /// Last value.
    pub max: f64,
    /// Number of points (≥ 1; 1 means just `min`).
    pub n: usize,
    /// Logarithmic spacing.
    pub log: bool,
}

impl std::str::FromStr for Sweep {
    type Err = TheoryError;

    /// Reads `MIN:MAX:N` (linear), e.g. `0.1:4:200`.
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        let bad = || TheoryError::Malformed {
            what: "sweep",
            text: s.to_string(),
            hint: "it should be MIN:MAX:N, e.g. 0.1:4:200".into(),
        };
        let parts: Vec<&str> = s.split(':').collect();
        let [a, b, n] = parts.as_slice() else {
            return Err(bad());
        };
        Ok(Sweep {
            min: a.trim().parse().map_err(|_| bad())?,
            max: b.trim().parse().map_err(|_| bad())?,
            n: n.trim().parse().map_err(|_| bad())?,
            log: false,
        })
    }
}

impl Sweep {
    /// The values of a sweep given as flag `what`, checked: 1 to 10000 finite
    /// values with min ≤ max (and min > 0 when logarithmic).
    ///
    /// # Errors
    /// [`TheoryError::InvalidGrid`] naming the flag and what is wrong.
    pub fn checked_values(&self, what: &str) -> Result<Vec<f64>, TheoryError> {
        self.validate(what, f64::NEG_INFINITY, false)?;
        Ok(self.values())
    }

    /// The sweep's values.
    pub fn values(&self) -> Vec<f64> {
        if self.n == 1 {
            return vec![self.min];
        }
        let last = (self.n - 1) as f64;
        (0..self.n)
            .map(|i| {
                let t = i as f64 / last;
                if self.log {
                    (self.min.ln() + t * (self.max.ln() - self.min.ln())).exp()
                } else {
                    self.min + t * (self.max - self.min)
                }
            })
            .collect()
    }

    fn validate(&self, axis: &str, lower: f64, lower_open: bool) -> Result<(), TheoryError> {
        let bad = |reason: String| TheoryError::InvalidGrid {
            axis: axis.to_string(),
            reason,
        };
        if self.n == 0 || self.n > 10_000 {
            return Err(bad(format!(
                "{} points requested; valid range is [1, 10000]",
                self.n
            )));
        }
        if self.n == 1 && self.min != self.max {
            return Err(bad(format!(
                "1 point requested from {} to {}: a one-point sweep has min = max (ask for n ≥ 2 points to span the range)",
                self.min, self.max
            )));
        }
        if !(self.min.is_finite() && self.max.is_finite()) || self.min > self.max {
            return Err(bad(format!(
                "range {}..{} must be finite with min ≤ max",
                self.min, self.max
            )));
        }
        let below = if lower_open {
            self.min <= lower
        } else {
            self.min < lower
        };
        if below {
            let bracket = if lower_open { "(" } else { "[" };
            return Err(bad(format!(
                "min = {} is out of range; valid range is {bracket}{lower}, inf)",
                self.min
            )));
        }
        if self.log && self.min <= 0.0 {
            return Err(bad("a logarithmic grid needs min > 0".into()));
        }
        Ok(())
    }
}

/// What the y axis varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseAxis {
    /// σ_b², with the network's noise.
    #[serde(alias = "sigma-b2")]
    SigmaB2,
    /// μ₂ of the multiplicative noise (replacing the network's
    /// multiplicative stages; additive ones are kept, applied after it).
    Mu2,
}

impl PhaseAxis {
    /// The sweep used when none is given: μ₂ from 1 to 3, σ_b² from 0 to 1,
    /// 200 points each.
    pub fn default_sweep(self) -> Sweep {
        let (min, max) = match self {
            PhaseAxis::Mu2 => (1.0, 3.0),
            PhaseAxis::SigmaB2 => (0.0, 1.0),
        };
        Sweep {
            min,
            max,
            n: 200,
            log: false,
        }
    }

    /// Checks that `family` leaves this axis to the sweep rather than having it
    /// silently replaced: no multiplicative noise for a μ₂ axis (additive
    /// noise is kept), σ_b² = 0 for a σ_b² axis.
    ///
    /// # Errors
    /// [`TheoryError::InvalidGrid`] naming what would be replaced.
    pub fn check_free(self, family: &Family) -> Result<(), TheoryError> {
        match self {
            PhaseAxis::Mu2 if family.noise().mu2() != 1.0 => Err(TheoryError::InvalidGrid {
                axis: "mu2".into(),
                reason: format!(
                    "a μ₂ sweep would replace the multiplicative noise `{}`; give only \
                     additive noise, or sweep sigma_b2 to keep it",
                    family.noise()
                ),
            }),
            PhaseAxis::SigmaB2 if family.sigma_b2() != 0.0 => Err(TheoryError::InvalidGrid {
                axis: "sigma_b2".into(),
                reason: format!(
                    "σ_b² is swept on the y axis, so σ_b² = {} would be replaced; leave \
                     it at 0 and set the y range",
                    crate::fmt_short(family.sigma_b2())
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// Quadrature nodes per phase-diagram cell unless given (n and 2n nodes
/// agree to ≈ 1e-10 at q ≈ 1).
pub const PHASE_NODES: usize = 32;

/// One cell of a phase diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhaseCell {
    /// σ_w² (x).
    pub sigma_w2: f64,
    /// σ_b² of the cell (y with [`PhaseAxis::SigmaB2`]).
    pub sigma_b2: f64,
    /// μ₂ of the cell's multiplicative noise (y with [`PhaseAxis::Mu2`]).
    pub mu2: f64,
    /// Variance regime name.
    pub regime: RegimeKind,
    /// q*, when it exists.
    pub q_star: Option<f64>,
    /// χ₁.
    pub chi_1: f64,
    /// c*.
    pub c_star: f64,
    /// χ_c.
    pub chi_c: f64,
    /// ξ_c, `None` only when infinite; where the variance vanishes or
    /// explodes, the limit value named by `correlation_basis`.
    pub xi_c: Option<f64>,
    /// k·ξ_c where the signal survives; `None` where ξ_c is infinite or the
    /// variance vanishes or explodes (`regime` says which).
    pub trainable_depth: Option<f64>,
    /// Where the correlation map was evaluated.
    pub correlation_basis: CorrelationBasis,
    /// The y coordinate (σ_b² or μ₂, as the diagram's axis says).
    pub y: f64,
}

/// A phase diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseDiagram {
    /// The y axis.
    pub y_axis: PhaseAxis,
    /// σ_w² values.
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
    /// Cells, row-major: `cells[iy * x.len() + ix]`.
    pub cells: Vec<PhaseCell>,
    /// Critical σ_w² of each row (χ₁ = 1 at q*), `None` where none exists.
    pub critical_line: Vec<Option<f64>>,
    /// k of k·ξ_c.
    pub depth_multiplier: f64,
}

/// Most cells a phase diagram computes (a 5000 × 5000 grid).
pub const MAX_CELLS: usize = 25_000_000;

/// Settings of [`phase_diagram`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseSpec {
    /// σ_w² grid.
    pub x: Sweep,
    /// y grid.
    pub y: Sweep,
    /// What y is.
    pub y_axis: PhaseAxis,
    /// Starting variance for the regime classification.
    pub q0: f64,
    /// k of k·ξ_c.
    pub depth_multiplier: f64,
    /// Quadrature nodes for activations without closed forms.
    pub nodes: usize,
}

/// Computes a phase diagram of `family`'s activation and noise (σ_w² and σ_b²
/// are replaced by the grid values), rows in parallel.
///
/// # Errors
/// [`TheoryError::InvalidGrid`] / [`TheoryError::InvalidParameter`] for bad
/// grids, q⁰ or k.
pub fn phase_diagram(family: &Family, spec: &PhaseSpec) -> Result<PhaseDiagram, TheoryError> {
    phase_diagram_with_progress(family, spec, &|| true)
}

/// [`phase_diagram`], calling `row_done` after each row (from the worker
/// threads) so a caller can show progress and stop the work: `true` goes on,
/// `false` stops it. Once any call returned `false`, rows not yet started are
/// skipped and the result is [`TheoryError::Cancelled`]; a diagram that is
/// not stopped is the same, bit for bit, as [`phase_diagram`]'s.
///
/// # Errors
/// As [`phase_diagram`]; [`TheoryError::Cancelled`] when `row_done`
/// returned `false`.
pub fn phase_diagram_with_progress(
    family: &Family,
    spec: &PhaseSpec,
    row_done: &(dyn Fn() -> bool + Sync),
) -> Result<PhaseDiagram, TheoryError> {
    spec.x.validate("sigma_w2", 0.0, true)?;
    match spec.y_axis {
        PhaseAxis::SigmaB2 => spec.y.validate("sigma_b2", 0.0, false)?,
        PhaseAxis::Mu2 => spec.y.validate("mu2", 1.0, false)?,
    }
    check("", "q0", spec.q0, "(0, inf)", |x| x > 0.0)?;
    check(
        "",
        "depth_multiplier",
        spec.depth_multiplier,
        "(0, inf)",
        |x| x > 0.0,
    )?;
    // The grid replaces σ_w² (and σ_b² or μ₂) cell by cell.
    let base = family.mean_field(Integration {
        nodes: Some(spec.nodes),
        ..Integration::default()
    });
    let additive = family.noise().with_mu2(1.0).additive_variance();
    let cells = spec.x.n.saturating_mul(spec.y.n);
    if cells > MAX_CELLS {
        return Err(TheoryError::InvalidGrid {
            axis: "sigma_w2 × y".into(),
            reason: format!(
                "{} × {} = {cells} cells; at most {MAX_CELLS} (about {} GB of results)",
                spec.x.n,
                spec.y.n,
                MAX_CELLS * std::mem::size_of::<PhaseCell>() / 1_000_000_000
            ),
        });
    }
    let xs = spec.x.values();
    let ys = spec.y.values();
    let row_field = |y: f64| match spec.y_axis {
        PhaseAxis::SigmaB2 => base.with_sigma_b2(y),
        PhaseAxis::Mu2 => base.with_mu2(y, additive),
    };
    // Set once a `row_done` returned false: rows not yet started are skipped.
    let stop = AtomicBool::new(false);
    let rows: Vec<Option<(Vec<PhaseCell>, Option<f64>)>> = ys
        .par_iter()
        .map(|&y| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let row = row_field(y);
            let cells = xs
                .iter()
                .map(|&x| {
                    let mf = row.with_sigma_w2(x);
                    let regime = mf.variance_fixed_point(spec.q0);
                    let map = mf.limiting_correlation_map(&regime);
                    let fp = map.fixed_point();
                    PhaseCell {
                        sigma_w2: x,
                        sigma_b2: mf.sigma_b2(),
                        mu2: mf.mu2(),
                        y,
                        regime: regime.kind(),
                        q_star: regime.q_star(spec.q0),
                        chi_1: match map.basis() {
                            CorrelationBasis::Asymptotic => mf.asymptotic_growth(),
                            _ => map.chi_1(),
                        },
                        c_star: fp.c_star,
                        chi_c: fp.chi_c,
                        xi_c: fp.xi_c,
                        trainable_depth: signal_survives(&regime)
                            .then(|| trainable_depth(fp.xi_c, spec.depth_multiplier))
                            .flatten(),
                        correlation_basis: map.basis(),
                    }
                })
                .collect();
            let critical = row.critical_sigma_w2().ok().map(|c| c.sigma_w2);
            if !row_done() {
                stop.store(true, Ordering::Relaxed);
            }
            Some((cells, critical))
        })
        .collect();
    if stop.into_inner() {
        return Err(TheoryError::Cancelled);
    }
    let mut cells = Vec::with_capacity(xs.len() * ys.len());
    let mut critical_line = Vec::with_capacity(ys.len());
    for (row, crit) in rows.into_iter().flatten() {
        cells.extend(row);
        critical_line.push(crit);
    }
    Ok(PhaseDiagram {
        y_axis: spec.y_axis,
        x: xs,
        y: ys,
        cells,
        critical_line,
        depth_multiplier: spec.depth_multiplier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Noise};

    fn spec(y_axis: PhaseAxis, y: Sweep) -> PhaseSpec {
        PhaseSpec {
            x: Sweep {
                min: 0.5,
                max: 3.0,
                n: 6,
                log: false,
            },
            y,
            y_axis,
            q0: 1.0,
            depth_multiplier: 6.0,
            nodes: 32,
        }
    }

    #[test]
    fn relu_mu2_diagram_has_the_critical_line_two_over_mu2() {
        let net = Family::new(Activation::Relu, Noise::none(), 0.0).unwrap();
        let d = phase_diagram(
            &net,
            &spec(
                PhaseAxis::Mu2,
                Sweep {
                    min: 1.0,
                    max: 2.0,
                    n: 5,
                    log: false,
                },
            ),
        )
        .unwrap();
        assert_eq!(d.cells.len(), 30);
        for (iy, &mu2) in d.y.iter().enumerate() {
            assert!((d.critical_line[iy].unwrap() - 2.0 / mu2).abs() < 1e-14);
            for ix in 0..d.x.len() {
                let cell = d.cells[iy * d.x.len() + ix];
                // c* only depends on μ₂ for ReLU without bias (spec 2.7).
                assert!((cell.c_star - d.cells[iy * d.x.len()].c_star).abs() < 1e-14);
                let want = if cell.sigma_w2 * mu2 / 2.0 > 1.0 {
                    "exploding-exponential"
                } else {
                    "vanishing"
                };
                if (cell.sigma_w2 * mu2 / 2.0 - 1.0).abs() > 1e-9 {
                    assert_eq!(cell.regime.name(), want);
                }
            }
        }
    }

    #[test]
    fn tanh_sigma_b2_diagram() {
        let net = Family::new(Activation::Tanh, Noise::none(), 0.0).unwrap();
        let d = phase_diagram(
            &net,
            &spec(
                PhaseAxis::SigmaB2,
                Sweep {
                    min: 0.0,
                    max: 0.2,
                    n: 3,
                    log: false,
                },
            ),
        )
        .unwrap();
        assert!((d.critical_line[0].unwrap() - 1.0).abs() < 1e-12);
        assert!(d.critical_line[1].unwrap() > 1.0);
        assert!(d.cells.iter().all(|c| c.c_star.is_finite()));
    }

    #[test]
    fn bad_grids_are_rejected() {
        let net = Family::new(Activation::Relu, Noise::none(), 0.0).unwrap();
        let e = phase_diagram(
            &net,
            &spec(
                PhaseAxis::Mu2,
                Sweep {
                    min: 0.5,
                    max: 2.0,
                    n: 5,
                    log: false,
                },
            ),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("mu2") && e.to_string().contains("[1, inf)"),
            "{e}"
        );
        let e = phase_diagram(
            &net,
            &spec(
                PhaseAxis::SigmaB2,
                Sweep {
                    min: 0.0,
                    max: 1.0,
                    n: 0,
                    log: false,
                },
            ),
        )
        .unwrap_err();
        assert!(e.to_string().contains("0 points"), "{e}");
        let mut s = spec(
            PhaseAxis::SigmaB2,
            Sweep {
                min: 0.0,
                max: 1.0,
                n: 2,
                log: false,
            },
        );
        s.x.min = 0.0;
        assert!(phase_diagram(&net, &s).is_err());
    }

    #[test]
    fn a_phase_diagram_stops_when_its_callback_says_so() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let net = Family::new(Activation::Tanh, Noise::none(), 0.0).unwrap();
        let s = spec(
            PhaseAxis::SigmaB2,
            Sweep {
                min: 0.0,
                max: 1.0,
                n: 400,
                log: false,
            },
        );
        // Go on for 2 rows, then stop.
        let rows = AtomicUsize::new(0);
        let e = phase_diagram_with_progress(&net, &s, &|| rows.fetch_add(1, Ordering::SeqCst) < 2)
            .unwrap_err();
        assert_eq!(e, TheoryError::Cancelled);
        assert_eq!(e.to_string(), "stopped before it finished (interrupted)");
        // Rows already running when the stop came finish; no other row starts.
        let done = rows.load(Ordering::SeqCst);
        let threads = rayon::current_num_threads();
        assert!(
            (3..=3 + threads).contains(&done) && done < 400,
            "{done} of 400 rows with {threads} threads"
        );
        // A callback that always goes on gives phase_diagram's diagram.
        let small = spec(PhaseAxis::SigmaB2, Sweep { n: 4, ..s.y });
        let a = phase_diagram(&net, &small).unwrap();
        let b = phase_diagram_with_progress(&net, &small, &|| true).unwrap();
        // (Debug prints every f64 exactly, and NaN equal to NaN.)
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }
}
