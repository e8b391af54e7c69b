//! `trajectory`: the variance q^l and correlation c^l of two inputs layer by
//! layer, and the back-propagated gradient's second moment and correlation
//! (spec 2.1, 2.7, 2.11).

use serde::{Deserialize, Serialize};

use noisyprop_theory::MeanField;
use noisyprop_theory::record::TrajectoryRecord;

use crate::network::{IntegrationParams, NetworkParams, network};
use crate::{Error, Hint, Observer, Operation, Q0};

/// What `trajectory` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrajectoryRequest {
    /// φ, the noise and σ_b².
    #[serde(flatten)]
    pub network: NetworkParams,
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
    /// How Gaussian expectations are integrated.
    #[serde(flatten)]
    pub integration: IntegrationParams,
}

impl Default for TrajectoryRequest {
    fn default() -> Self {
        TrajectoryRequest {
            network: NetworkParams::default(),
            sigma_w2: None,
            depth: 30,
            q0: Q0,
            c0: 0.5,
            top_grad_correlation: 1.0,
            integration: IntegrationParams::default(),
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
        let integration = r.integration.integration()?;
        let family = r.network.family()?;
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
