//! `init`: the critical initialisation of an activation and noise, with
//! its kind, the predicted trainable depth and code for each framework.

use serde::{Deserialize, Serialize};

use noisyprop_theory::record::InitRecord;
use noisyprop_theory::{AnalysisOptions, Framework, analyze};

use crate::network::{ACTIVATION, family, integration, network, no_noise};
use crate::{DEPTH_MULTIPLIER, Error, Hint, Observer, Operation, Rule, form};

/// What `init` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InitRequest {
    /// φ.
    pub activation: String,
    /// The noise on each layer's input, in order.
    #[serde(deserialize_with = "form::strings")]
    pub noise: Vec<String>,
    /// σ_b².
    pub sigma_b2: f64,
    /// Frameworks to write code for (pytorch, keras, flax, burn, candle);
    /// empty for all.
    #[serde(deserialize_with = "form::strings")]
    pub framework: Vec<String>,
    /// Fan-in of the printed weight standard deviation σ_w/√fan_in.
    pub fan_in: usize,
    /// k of the trainable depth k·ξ_c.
    pub depth_multiplier: f64,
    /// Quadrature even where closed forms exist.
    pub quadrature: bool,
    /// The quadrature rule.
    pub rule: Rule,
    /// A fixed quadrature order.
    pub nodes: Option<usize>,
}

impl Default for InitRequest {
    fn default() -> Self {
        InitRequest {
            activation: ACTIVATION.into(),
            noise: no_noise(),
            sigma_b2: 0.0,
            framework: Vec::new(),
            fan_in: 1000,
            depth_multiplier: DEPTH_MULTIPLIER,
            quadrature: false,
            rule: Rule::Legendre,
            nodes: None,
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
        let integration = integration(r.quadrature, r.rule, r.nodes)?;
        let family = family(&r.activation, &r.noise, r.sigma_b2)?;
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
