//! `phase`: a phase diagram over σ_w² (x) and μ₂ or σ_b² (y) — variance
//! regime, c*, χ_c, ξ_c and trainable depth per cell, the critical line
//! χ₁ = 1 — and, when asked, its heat map as a PNG.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::figs::phase::{ColorBy, PhaseFigure, check_png_path, write_phase_png};
use noisyprop_theory::record::PhaseRecord;
use noisyprop_theory::{
    PHASE_NODES, PhaseAxis, PhaseSpec, TheoryError, phase_diagram_with_progress,
};

use crate::form::Range;
use crate::network::{NetworkParams, integration};
use crate::{DEPTH_MULTIPLIER, Error, Hint, Observer, Operation, Q0, Rule, form};

/// What `phase` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhaseRequest {
    /// φ, the noise (only additive noise with `y = mu2`, which sweeps the
    /// multiplicative part) and σ_b² (0 with `y = sigma_b2`, which sweeps it).
    #[serde(flatten)]
    pub network: NetworkParams,
    /// What the y axis varies.
    pub y: PhaseAxis,
    /// The σ_w² sweep.
    pub x_range: Range,
    /// The y sweep; `None` for the axis' default (μ₂ 1…3, σ_b² 0…1, 200).
    pub y_range: Option<Range>,
    /// Logarithmic y spacing.
    pub log_y: bool,
    /// The input variance q⁰ of the regime classification.
    pub q0: f64,
    /// k of the trainable depth k·ξ_c.
    pub depth_multiplier: f64,
    /// Depths at which the heat map draws k·ξ_c contours.
    #[serde(deserialize_with = "form::numbers")]
    pub contours: Vec<f64>,
    /// What the heat map shows: trainable-depth, c-star, chi-c or chi1.
    pub color: String,
    /// Write the heat map to this PNG file (checked before any work).
    pub png: Option<PathBuf>,
    /// Quadrature nodes per cell for activations without closed forms.
    pub nodes: Option<usize>,
}

impl Default for PhaseRequest {
    fn default() -> Self {
        PhaseRequest {
            network: NetworkParams::default(),
            y: PhaseAxis::Mu2,
            x_range: Range(0.1, 4.0, 200),
            y_range: None,
            log_y: false,
            q0: Q0,
            depth_multiplier: DEPTH_MULTIPLIER,
            contours: vec![5.0, 10.0, 20.0],
            color: ColorBy::TrainableDepth.to_string(),
            png: None,
            nodes: None,
        }
    }
}

/// The `phase` command.
pub struct Phase;

impl Operation for Phase {
    const NAME: &'static str = "phase";
    type Request = PhaseRequest;
    type Record = PhaseRecord;
    const LONG_RUNNING: bool = true;

    fn run(r: &PhaseRequest, observer: &dyn Observer) -> Result<PhaseRecord, Error> {
        integration(false, Rule::Legendre, r.nodes)?;
        let family = r.network.family()?;
        r.y.check_free(&family).map_err(|e| {
            Error::from(e).with_hint(match r.y {
                PhaseAxis::Mu2 => Hint::PhaseMu2Axis,
                PhaseAxis::SigmaB2 => Hint::PhaseSigmaB2Axis,
            })
        })?;
        let figure = PhaseFigure {
            color: r.color.parse()?,
            contours: r.contours.clone(),
            log_y: r.log_y,
            what: format!("{}, noise {}", family.activation(), family.noise()),
        };
        figure.validate()?;
        if let Some(p) = &r.png {
            check_png_path(p)?;
        }
        let spec = PhaseSpec {
            x: r.x_range.sweep(false),
            y: r.y_range
                .unwrap_or_else(|| r.y.default_sweep().into())
                .sweep(r.log_y),
            y_axis: r.y,
            q0: r.q0,
            depth_multiplier: r.depth_multiplier,
            nodes: r.nodes.unwrap_or(PHASE_NODES),
        };
        observer.start(spec.y.n as u64, "rows");
        let diagram = phase_diagram_with_progress(&family, &spec, &|| observer.tick());
        observer.finish();
        // The sweeps are checked by the theory under the axis' name.
        let diagram = diagram.map_err(|e| match e {
            TheoryError::InvalidGrid { axis, reason } if axis == "sigma_w2" => {
                Error::invalid("x_range", reason)
            }
            TheoryError::InvalidGrid { axis, reason } if axis == "mu2" || axis == "sigma_b2" => {
                Error::invalid("y_range", reason)
            }
            e => e.into(),
        })?;
        if let Some(path) = &r.png {
            write_phase_png(&diagram, &figure, path)?;
        }
        Ok(PhaseRecord {
            activation: family.activation().spec(),
            noise: family.noise().to_string(),
            diagram,
        })
    }
}
