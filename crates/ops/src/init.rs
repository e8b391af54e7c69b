//! `init`: the critical initialisation of an activation and noise, with
//! its kind, the predicted trainable depth and code for each framework.

use serde::{Deserialize, Serialize};

use noisyprop_theory::record::InitRecord;
use noisyprop_theory::{AnalysisOptions, Framework, analyze};

use crate::network::{IntegrationParams, NetworkParams, network};
use crate::{DEPTH_MULTIPLIER, Error, Hint, Observer, Operation, form};

/// What `init` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InitRequest {
    /// φ, the noise and σ_b².
    #[serde(flatten)]
    pub network: NetworkParams,
    /// Frameworks to write code for (pytorch, keras, flax, burn, candle);
    /// empty for all.
    #[serde(deserialize_with = "form::strings")]
    pub framework: Vec<String>,
    /// Fan-in of the printed weight standard deviation σ_w/√fan_in.
    pub fan_in: usize,
    /// k of the trainable depth k·ξ_c.
    pub depth_multiplier: f64,
    /// How Gaussian expectations are integrated.
    #[serde(flatten)]
    pub integration: IntegrationParams,
}

impl Default for InitRequest {
    fn default() -> Self {
        InitRequest {
            network: NetworkParams::default(),
            framework: Vec::new(),
            fan_in: 1000,
            depth_multiplier: DEPTH_MULTIPLIER,
            integration: IntegrationParams::default(),
        }
    }
}

/// The `init` command.
pub struct Init;

impl Operation for Init {
    const NAME: &'static str = "init";
    type Request = InitRequest;
    type Record = InitRecord;

    fn run(r: &InitRequest, _: &dyn Observer) -> Result<InitRecord, Error> {
        if r.fan_in == 0 {
            return Err(Error::out_of_range("fan_in", 0, "[1, inf)"));
        }
        let frameworks: Vec<Framework> = if r.framework.is_empty() {
            Framework::ALL.to_vec()
        } else {
            r.framework
                .iter()
                .map(|f| f.parse())
                .collect::<Result<_, _>>()?
        };
        let integration = r.integration.integration()?;
        let family = r.network.family()?;
        let net = network(&family, None, integration, Hint::InitIsCritical)?;
        let a = analyze(
            &net,
            &AnalysisOptions {
                depth_multiplier: r.depth_multiplier,
                integration,
                ..Default::default()
            },
        )?;
        Ok(InitRecord::new(&a, &net, r.fan_in, &frameworks))
    }
}
