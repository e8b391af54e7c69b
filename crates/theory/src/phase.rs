//! Phase diagrams over (σ_w², σ_b²) or (σ_w², μ₂) grids, computed in
//! parallel (rayon), with the critical line χ₁ = 1 of every row.

use rayon::prelude::*;
use serde::Serialize;

use crate::correlation_map::CorrelationBasis;
use crate::depth::trainable_depth;
use crate::error::{TheoryError, check};
use crate::mean_field::{Integration, MeanField, Network};

/// A 1-D grid of `n` points from `min` to `max`, linear or logarithmic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Grid {
    /// First value.
    pub min: f64,
    /// Last value.
    pub max: f64,
    /// Number of points (≥ 1; 1 means just `min`).
    pub n: usize,
    /// Logarithmic spacing.
    pub log: bool,
}

impl Grid {
    /// The grid's values.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseAxis {
    /// σ_b², with the network's noise.
    SigmaB2,
    /// μ₂ of the multiplicative noise (replacing the network's
    /// multiplicative stages; additive ones are kept, applied after it).
    Mu2,
}

/// One cell of a phase diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PhaseCell {
    /// σ_w² (x).
    pub sigma_w2: f64,
    /// σ_b² or μ₂ (y).
    pub y: f64,
    /// Variance regime name.
    pub regime: &'static str,
    /// q*, when it exists.
    pub q_star: Option<f64>,
    /// χ₁.
    pub chi_1: f64,
    /// c*.
    pub c_star: f64,
    /// χ_c.
    pub chi_c: f64,
    /// ξ_c (`None` = infinite).
    pub xi_c: Option<f64>,
    /// k·ξ_c (`None` = infinite).
    pub trainable_depth: Option<f64>,
    /// Where the correlation map was evaluated.
    pub correlation_basis: CorrelationBasis,
}

/// A phase diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// Settings of [`phase_diagram`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseSpec {
    /// σ_w² grid.
    pub x: Grid,
    /// y grid.
    pub y: Grid,
    /// What y is.
    pub y_axis: PhaseAxis,
    /// Starting variance for the regime classification.
    pub q0: f64,
    /// k of k·ξ_c.
    pub depth_multiplier: f64,
    /// Quadrature nodes for activations without closed forms.
    pub nodes: usize,
}

/// Computes a phase diagram of `net`'s activation and noise (its σ_w² and σ_b²
/// are replaced by the grid values), rows in parallel.
///
/// # Errors
/// [`TheoryError::InvalidGrid`] / [`TheoryError::InvalidParameter`] for bad
/// grids, q⁰ or k.
pub fn phase_diagram(net: &Network, spec: &PhaseSpec) -> Result<PhaseDiagram, TheoryError> {
    spec.x.validate("sigma_w2", 0.0, true)?;
    match spec.y_axis {
        PhaseAxis::SigmaB2 => spec.y.validate("sigma_b2", 0.0, false)?,
        PhaseAxis::Mu2 => spec.y.validate("mu2", 1.0, false)?,
    }
    check("--q0", "q0", spec.q0, "(0, inf)", |x| x > 0.0)?;
    check(
        "--depth-multiplier",
        "depth_multiplier",
        spec.depth_multiplier,
        "(0, inf)",
        |x| x > 0.0,
    )?;
    let base = MeanField::new(
        net,
        Integration {
            nodes: Some(spec.nodes),
            ..Integration::default()
        },
    );
    let additive = net.noise().with_mu2(1.0).additive_variance();
    let xs = spec.x.values();
    let ys = spec.y.values();
    let row_field = |y: f64| match spec.y_axis {
        PhaseAxis::SigmaB2 => base.with_sigma_b2(y),
        PhaseAxis::Mu2 => base.with_mu2(y, additive),
    };
    let rows: Vec<(Vec<PhaseCell>, Option<f64>)> = ys
        .par_iter()
        .map(|&y| {
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
                        y,
                        regime: regime.name(),
                        q_star: regime.q_star(spec.q0),
                        chi_1: match map.basis() {
                            CorrelationBasis::Asymptotic => mf.asymptotic_growth(),
                            _ => map.chi_1(),
                        },
                        c_star: fp.c_star,
                        chi_c: fp.chi_c,
                        xi_c: fp.xi_c,
                        trainable_depth: trainable_depth(fp.xi_c, spec.depth_multiplier),
                        correlation_basis: map.basis(),
                    }
                })
                .collect();
            (cells, row.critical_sigma_w2().ok().map(|c| c.sigma_w2))
        })
        .collect();
    let mut cells = Vec::with_capacity(xs.len() * ys.len());
    let mut critical_line = Vec::with_capacity(ys.len());
    for (row, crit) in rows {
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

    fn spec(y_axis: PhaseAxis, y: Grid) -> PhaseSpec {
        PhaseSpec {
            x: Grid {
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
        let net = Network::new(Activation::Relu, Noise::none(), 1.0, 0.0).unwrap();
        let d = phase_diagram(
            &net,
            &spec(
                PhaseAxis::Mu2,
                Grid {
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
                    assert_eq!(cell.regime, want);
                }
            }
        }
    }

    #[test]
    fn tanh_sigma_b2_diagram() {
        let net = Network::new(Activation::Tanh, Noise::none(), 1.0, 0.0).unwrap();
        let d = phase_diagram(
            &net,
            &spec(
                PhaseAxis::SigmaB2,
                Grid {
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
        let net = Network::new(Activation::Relu, Noise::none(), 1.0, 0.0).unwrap();
        let e = phase_diagram(
            &net,
            &spec(
                PhaseAxis::Mu2,
                Grid {
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
                Grid {
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
            Grid {
                min: 0.0,
                max: 1.0,
                n: 2,
                log: false,
            },
        );
        s.x.min = 0.0;
        assert!(phase_diagram(&net, &s).is_err());
    }
}
