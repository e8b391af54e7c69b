//! The table of critical initialisations: for each activation, noise and
//! σ_b², the critical σ_w², its fixed point q* and its kind (spec 2.4), or
//! why there is none and where the edge of chaos starts.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::criticality::CriticalKind;
use crate::error::{TheoryError, check};
use crate::family::Family;
use crate::mean_field::Integration;
use crate::noise::Noise;

/// The activations of the critical-initialisation table ([`critical_table`]):
/// the ReLU family's representatives and the smooth ones in common use.
pub const TABLE_ACTIVATIONS: [Activation; 9] = [
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.01 },
    Activation::Elu { alpha: 1.0 },
    Activation::Selu,
    Activation::Gelu,
    Activation::Silu,
    Activation::Tanh,
    Activation::Erf,
    Activation::Softplus,
];

/// One row of the critical-initialisation table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalRow {
    /// φ.
    pub activation: Activation,
    /// The noise stack, as its canonical spec.
    pub noise: String,
    /// σ_b².
    pub sigma_b2: f64,
    /// The kind (`none` without a critical point).
    pub kind: CriticalKind,
    /// The critical σ_w².
    pub sigma_w2: Option<f64>,
    /// Its fixed point q* (0 for `zero-from-above`, `None` for `every-q`).
    pub q_star: Option<f64>,
    /// Where the edge of chaos starts when there is none at this σ_b².
    pub edge_of_chaos_sigma_b2: Option<f64>,
    /// The critical point or why there is none, in words.
    pub reason: String,
}

/// The critical initialisation of every combination of `activations`,
/// `noises` and `sigma_b2s` (in that nesting order), at a fixed quadrature
/// order.
///
/// # Errors
/// Invalid parameters.
pub fn critical_table(
    activations: &[Activation],
    noises: &[Noise],
    sigma_b2s: &[f64],
    integration: Integration,
) -> Result<Vec<CriticalRow>, TheoryError> {
    for &sigma_b2 in sigma_b2s {
        check("", "sigma_b2s", sigma_b2, "[0, inf)", |y| {
            y >= 0.0 && y.is_finite()
        })?;
    }
    let mut rows = Vec::new();
    for &activation in activations {
        for noise in noises {
            for &sigma_b2 in sigma_b2s {
                let mf = Family::new(activation, noise.clone(), sigma_b2)?.mean_field(integration);
                let row = match mf.critical_sigma_w2() {
                    Ok(cp) => CriticalRow {
                        activation,
                        noise: noise.to_string(),
                        sigma_b2,
                        kind: cp.kind,
                        sigma_w2: Some(cp.sigma_w2),
                        q_star: cp.q_star,
                        edge_of_chaos_sigma_b2: None,
                        reason: cp.describe(),
                    },
                    Err(e) => CriticalRow {
                        activation,
                        noise: noise.to_string(),
                        sigma_b2,
                        kind: CriticalKind::None,
                        sigma_w2: None,
                        q_star: None,
                        edge_of_chaos_sigma_b2: mf.nearest_critical_sigma_b2(),
                        reason: e.reason,
                    },
                };
                rows.push(row);
            }
        }
    }
    Ok(rows)
}
