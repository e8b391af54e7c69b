//! `critical`: the critical initialisation of several activations, noises
//! and bias variances at once, each with its kind (spec 2.4).

use serde::{Deserialize, Serialize};

use noisyprop_theory::record::CriticalTableRecord;
use noisyprop_theory::{Activation, Noise, TABLE_ACTIVATIONS, critical_table};

use crate::network::{IntegrationParams, activation};
use crate::{Error, Hint, Observer, Operation, form};

/// What `critical` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CriticalRequest {
    /// Activations; empty for the table's nine (ReLU family, ELU, SELU,
    /// GELU, SiLU, tanh, erf, softplus).
    #[serde(deserialize_with = "form::strings")]
    pub activations: Vec<String>,
    /// Noises, each one stack (written `A, then B` inside one).
    #[serde(deserialize_with = "form::strings")]
    pub noises: Vec<String>,
    /// Bias variances σ_b².
    #[serde(deserialize_with = "form::numbers")]
    pub sigma_b2s: Vec<f64>,
    /// How Gaussian expectations are integrated.
    #[serde(flatten)]
    pub integration: IntegrationParams,
}

impl Default for CriticalRequest {
    fn default() -> Self {
        CriticalRequest {
            activations: Vec::new(),
            noises: vec!["none".into(), "dropout:keep=0.8".into()],
            sigma_b2s: vec![0.0, 0.05],
            integration: IntegrationParams::default(),
        }
    }
}

/// The `critical` command.
pub struct Critical;

impl Operation for Critical {
    const NAME: &'static str = "critical";
    type Request = CriticalRequest;
    type Record = CriticalTableRecord;

    fn run(r: &CriticalRequest, _: &dyn Observer) -> Result<CriticalTableRecord, Error> {
        let activations: Vec<Activation> = if r.activations.is_empty() {
            TABLE_ACTIVATIONS.to_vec()
        } else {
            r.activations
                .iter()
                .map(|a| activation(a))
                .collect::<Result<_, _>>()?
        };
        let noises = r
            .noises
            .iter()
            .map(|n| {
                n.parse::<Noise>().map_err(|e| {
                    let e = Error::from(e);
                    if n.contains(',') && !n.contains(", then ") {
                        e.with_hint(Hint::SeparateTableNoises)
                    } else {
                        e
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let integration = r.integration.integration()?;
        let rows = critical_table(&activations, &noises, &r.sigma_b2s, integration)?;
        Ok(CriticalTableRecord { rows })
    }
}
