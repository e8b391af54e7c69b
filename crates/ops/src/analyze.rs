//! `analyze`: everything the theory says about one network — variance and
//! correlation maps, fixed points, χ₁, depth scales, the critical σ_w² and
//! its kind, trainable depth and float overflow depths (spec 2).

use serde::{Deserialize, Serialize};

use noisyprop_theory::{Analysis, AnalysisOptions};

use crate::network::{IntegrationParams, NetworkParams, network};
use crate::{DEPTH_MULTIPLIER, Error, Hint, Observer, Operation, Q0};

/// What `analyze` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalyzeRequest {
    /// φ, the noise and σ_b².
    #[serde(flatten)]
    pub network: NetworkParams,
    /// σ_w²; `None` for the critical one.
    pub sigma_w2: Option<f64>,
    /// The input variance q⁰.
    pub q0: f64,
    /// k of the trainable depth k·ξ_c.
    pub depth_multiplier: f64,
    /// The depth (layers) of your network, to hold against the trainable
    /// depth; `None` for no comparison.
    pub depth: Option<usize>,
    /// How Gaussian expectations are integrated.
    #[serde(flatten)]
    pub integration: IntegrationParams,
}

impl Default for AnalyzeRequest {
    fn default() -> Self {
        AnalyzeRequest {
            network: NetworkParams::default(),
            sigma_w2: None,
            q0: Q0,
            depth_multiplier: DEPTH_MULTIPLIER,
            depth: None,
            integration: IntegrationParams::default(),
        }
    }
}

/// The `analyze` command.
pub struct Analyze;

impl Operation for Analyze {
    const NAME: &'static str = "analyze";
    type Request = AnalyzeRequest;
    type Record = Analysis;

    fn run(r: &AnalyzeRequest, _: &dyn Observer) -> Result<Analysis, Error> {
        let integration = r.integration.integration()?;
        let family = r.network.family()?;
        let net = network(&family, r.sigma_w2, integration, Hint::GiveSigmaW2)?;
        let options = AnalysisOptions {
            q0: r.q0,
            depth_multiplier: r.depth_multiplier,
            integration,
        };
        let mut a = noisyprop_theory::analyze(&net, &options)?;
        if let (Some(l), Some(d)) = (r.depth, a.trainable_depth)
            && l as f64 > d
        {
            a.warnings.push(format!(
                "a network of {l} layers is deeper than the predicted trainable depth {}·ξ_c = {}: expect it not to train (spec 2.9)",
                noisyprop_theory::fmt_short(a.depth_multiplier),
                noisyprop_theory::fmt_short(d)
            ));
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Quiet, Spelling};

    /// A network deeper than k·ξ_c is told so; one within it is not.
    #[test]
    fn the_depth_of_a_network_is_held_against_its_trainable_depth() {
        let at = |depth| {
            let mut r = AnalyzeRequest {
                depth: Some(depth),
                ..Default::default()
            };
            r.network.noise = vec!["dropout:keep=0.8".into()];
            Analyze::run(&r, &Quiet).expect("analysis").warnings
        };
        // keep 0.8: 6ξ_c = 9.32 layers (spec 2.10's table).
        assert!(
            at(30)
                .iter()
                .any(|w| w.contains("30 layers is deeper than"))
        );
        assert!(!at(9).iter().any(|w| w.contains("is deeper than")));
    }

    #[test]
    fn bad_parameters_are_named_before_any_work() {
        let bad = |r: AnalyzeRequest| {
            Analyze::run(&r, &Quiet)
                .expect_err("bad input")
                .render(Spelling::Python)
        };
        let d = AnalyzeRequest::default();
        assert_eq!(
            bad(AnalyzeRequest {
                sigma_w2: Some(-1.0),
                ..d.clone()
            }),
            "sigma_w2=-1 is out of range; valid range is (0, inf)"
        );
        assert_eq!(
            bad(AnalyzeRequest {
                q0: 0.0,
                ..d.clone()
            }),
            "q0=0 is out of range; valid range is (0, inf)"
        );
        assert_eq!(
            bad(AnalyzeRequest {
                integration: IntegrationParams {
                    quadrature: true,
                    nodes: Some(2),
                    ..Default::default()
                },
                ..d.clone()
            }),
            "nodes=2 is out of range; valid range is [4, 1024]"
        );
        let net = |activation: &str, noise: &str| NetworkParams {
            activation: activation.into(),
            noise: vec![noise.into()],
            sigma_b2: 0.0,
        };
        let stacked = bad(AnalyzeRequest {
            network: net("relu", "dropout:keep=0.8, gauss-add:std=1"),
            ..d.clone()
        });
        assert!(
            stacked.ends_with("hint: to stack noises, give them one by one: noise=[A, B]"),
            "{stacked}"
        );
        let none = bad(AnalyzeRequest {
            network: net("gelu", "dropout:keep=0.8"),
            ..d
        });
        assert!(none.starts_with("no critical σ_w² exists"), "{none}");
        assert!(none.ends_with("hint: give sigma_w2"), "{none}");
    }

    #[test]
    fn a_request_reads_from_json_with_defaults_and_names_a_field_of_the_wrong_type() {
        let r: AnalyzeRequest = crate::read_request(&mut serde_json::Deserializer::from_str(
            r#"{"noise": "dropout:keep=0.6"}"#,
        ))
        .expect("request");
        assert_eq!(r.network.noise, ["dropout:keep=0.6"]);
        assert_eq!(r.q0, Q0);
        let a = Analyze::run(&r, &Quiet).expect("analysis");
        // spec 2.10: dropout keep 0.6 at the critical σ_w² = 2·0.6 has
        // c* = 0.28391, ξ_c = 0.96553 (the paper's table).
        assert!((a.sigma_w2 - 1.2).abs() < 1e-12);
        assert!((a.c_star - 0.28391).abs() < 1e-5, "{}", a.c_star);
        let e = crate::read_request::<AnalyzeRequest, _>(&mut serde_json::Deserializer::from_str(
            r#"{"q0": "one"}"#,
        ))
        .expect_err("a string for q0");
        assert_eq!(e.param(), Some("q0"));
    }
}
