//! `verdict`: does a measurement agree with the theory? The simulator's
//! PASS/FAIL rule ([`noisyprop_sim::verdict::RULE`]) for a quantity measured
//! layer by layer in someone else's networks (a PyTorch model, say).

use serde::{Deserialize, Serialize};

use noisyprop_sim::{Quantity, Verdict, verdict_of_layers};

use crate::{Error, Observer, Operation};

/// What `verdict` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerdictRequest {
    /// The theory at layers 1..=L.
    pub theory: Vec<f64>,
    /// `samples[k][l]`: network k's value at layer l + 1 (≥ 2 networks).
    pub samples: Vec<Vec<f64>>,
    /// The networks' width (the rule's finite-width allowance 1/√width).
    pub width: usize,
    /// What was measured.
    pub quantity: Quantity,
}

impl Default for VerdictRequest {
    fn default() -> Self {
        VerdictRequest {
            theory: Vec::new(),
            samples: Vec::new(),
            width: 0,
            quantity: Quantity::Q,
        }
    }
}

/// The `verdict` operation.
pub struct VerdictOf;

impl Operation for VerdictOf {
    const NAME: &'static str = "verdict";
    type Request = VerdictRequest;
    type Record = Verdict;

    fn run(r: &VerdictRequest, _: &dyn Observer) -> Result<Verdict, Error> {
        if r.width == 0 {
            return Err(Error::out_of_range("width", 0, "[1, inf)"));
        }
        if r.samples.len() < 2 {
            return Err(Error::invalid(
                "samples",
                format!(
                    "{} network(s) measured; the verdict needs at least 2 (it uses their spread)",
                    r.samples.len()
                ),
            ));
        }
        if let Some(bad) = r.samples.iter().find(|s| s.len() != r.theory.len()) {
            return Err(Error::invalid(
                "samples",
                format!(
                    "a network has {} layers measured but the theory has {}",
                    bad.len(),
                    r.theory.len()
                ),
            ));
        }
        let bad: Vec<String> = (1..)
            .zip(&r.theory)
            .filter(|(_, t)| !t.is_finite())
            .map(|(l, _)| l.to_string())
            .take(5)
            .collect();
        if !bad.is_empty() {
            return Err(Error::invalid(
                "theory",
                format!(
                    "not finite at layer(s) {}: nothing to compare there; drop those layers from theory and samples",
                    bad.join(", ")
                ),
            ));
        }
        Ok(verdict_of_layers(
            r.quantity, &r.theory, &r.samples, r.width,
        ))
    }
}
