//! `trajectory`: the variance q^l and correlation c^l of two inputs layer by
//! layer, and the back-propagated gradient's second moment and correlation
//! (spec 2.1, 2.7, 2.11).

use serde::{Deserialize, Serialize};

use noisyprop_theory::MeanField;
use noisyprop_theory::record::TrajectoryRecord;

use crate::network::{ACTIVATION, family, integration, network, no_noise};
use crate::{Error, Hint, Observer, Operation, Q0, Rule, form};

/// What `trajectory` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrajectoryRequest {
    /// φ.
    pub activation: String,
    /// The noise on each layer's input, in order.
    #[serde(deserialize_with = "form::strings")]
    pub noise: Vec<String>,
    /// σ_b².
    pub sigma_b2: f64,
    /// σ_w²; `None` for the critical one.
    pub sigma_w2: Option<f64>,
    /// Number of layers.
    pub depth: usize,
    /// The input variance q⁰.
    pub q0: f64,
    /// The input correlation c⁰.
    pub c0: f64,
    /// Correlation of the two inputs' gradients at the top layer.
    pub top_grad_correlation: f64,
    /// Quadrature even where closed forms exist.
    pub quadrature: bool,
    /// The quadrature rule.
    pub rule: Rule,
    /// A fixed quadrature order.
    pub nodes: Option<usize>,
}

impl Default for TrajectoryRequest {
    fn default() -> Self {
        TrajectoryRequest {
            activation: ACTIVATION.into(),
            noise: no_noise(),
            sigma_b2: 0.0,
            sigma_w2: None,
            depth: 30,
            q0: Q0,
            c0: 0.5,
            top_grad_correlation: 1.0,
            quadrature: false,
            rule: Rule::Legendre,
            nodes: None,
        }
    }
}

/// The `trajectory` command.
pub struct Trajectory;

impl Operation for Trajectory {
    const NAME: &'static str = "trajectory";
    type Request = TrajectoryRequest;
    type Record = TrajectoryRecord;

    fn run(r: &TrajectoryRequest, _: &dyn Observer) -> Result<TrajectoryRecord, Error> {
        let integration = integration(r.quadrature, r.rule, r.nodes)?;
        let family = family(&r.activation, &r.noise, r.sigma_b2)?;
        let net = network(&family, r.sigma_w2, integration, Hint::GiveSigmaW2)?;
        let layers = MeanField::at_fixed_order(&net, integration).trajectory(
            r.q0,
            r.c0,
            r.depth,
            r.top_grad_correlation,
        )?;
        Ok(TrajectoryRecord::new(&net, r.q0, r.c0, layers))
    }
}
