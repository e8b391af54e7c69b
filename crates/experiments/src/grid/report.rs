//! The boundary report of a grid: which cells trained, against the
//! prediction depth < k·ξ_c at critical initialisation.
//!
//! A cell *trained* when its final validation loss is at least 10 % below the
//! loss of the best input-independent prediction (the mean training image
//! for reconstruction, the class frequencies for classification). Measuring
//! against the loss at initialisation instead would call every network
//! trained: even a network whose signal dies in the first layers learns the
//! mean image through its output bias, which already halves the MSE of a
//! zero-initialised output.

use serde::{Deserialize, Serialize};

use noisyprop_theory::{Activation, AnalysisOptions, Integration, Network, analyze};

use super::spec::GridSpec;
use super::store::load_cell;
use crate::ExperimentError;

/// Fraction of the baseline loss a trained cell must stay below.
pub const TRAINED_FRACTION: f64 = 0.9;

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// Keep probability.
    pub keep: f64,
    /// Depth.
    pub depth: usize,
    /// σ_w² used (`None` until computed).
    pub sigma_w2: Option<f64>,
    /// Final training loss.
    pub train_loss: Option<f64>,
    /// Final validation loss.
    pub val_loss: Option<f64>,
    /// Validation loss at initialisation.
    pub val_loss_init: Option<f64>,
    /// Validation loss of the input-independent predictor.
    pub val_loss_baseline: Option<f64>,
    /// Final validation loss ≤ 0.9 × the baseline.
    pub trained: Option<bool>,
    /// The loss became non-finite and training stopped (its losses are then
    /// `None`).
    pub diverged: Option<bool>,
    /// k·ξ_c(p) (`None` = unbounded, no noise).
    pub predicted_depth: Option<f64>,
    /// depth < k·ξ_c(p).
    pub predicted_trainable: bool,
    /// Whether the cell has been computed.
    pub done: bool,
}

/// The boundary summary of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridReport {
    /// Cells computed so far.
    pub done: usize,
    /// Cells in the grid.
    pub total: usize,
    /// Cells that trained and were predicted trainable.
    pub trained_and_predicted: usize,
    /// Trained although predicted untrainable.
    pub trained_not_predicted: usize,
    /// Predicted trainable but did not train.
    pub predicted_not_trained: usize,
    /// Neither.
    pub neither: usize,
    /// Fraction of finished cells where "trained" equals "depth < k·ξ_c"
    /// (`None` before any cell finished).
    pub agreement: Option<f64>,
    /// Every cell, keep-major.
    pub cells: Vec<CellSummary>,
}

/// k·ξ_c at the critical initialisation of `activation` with dropout of keep
/// probability `keep` (`None` when unbounded or when no critical point
/// exists).
pub fn predicted_depth(activation: Activation, keep: f64, k: f64) -> Option<f64> {
    let (net, _) = Network::critical(
        activation,
        GridSpec::noise(keep),
        0.0,
        Integration::default(),
    )
    .ok()?;
    analyze(
        &net,
        &AnalysisOptions {
            depth_multiplier: k,
            ..Default::default()
        },
    )
    .ok()?
    .trainable_depth
}

/// Reads every finished cell and compares "trained" with the prediction.
///
/// # Errors
/// A corrupt cell file (named) or one that cannot be read.
pub fn report(spec: &GridSpec) -> Result<GridReport, ExperimentError> {
    let act = spec.base().activation;
    let k = spec.depth_multiplier();
    let predicted: Vec<Option<f64>> = spec
        .keeps()
        .iter()
        .map(|&p| predicted_depth(act, p, k))
        .collect();
    let mut rep = GridReport {
        done: 0,
        total: 0,
        trained_and_predicted: 0,
        trained_not_predicted: 0,
        predicted_not_trained: 0,
        neither: 0,
        agreement: None,
        cells: Vec::new(),
    };
    for cell in spec.cells()? {
        let ik = spec
            .keeps()
            .iter()
            .position(|&p| p == cell.keep)
            .unwrap_or(0);
        let pd = predicted.get(ik).copied().flatten();
        let predicted_trainable = pd.is_none_or(|d| (cell.depth as f64) < d);
        let summary = match load_cell(spec, &cell)? {
            Some(r) => {
                rep.done += 1;
                let v = r.result.final_val_loss();
                let vb = r.result.val_loss_baseline;
                let trained = v.is_finite() && v <= TRAINED_FRACTION * vb;
                match (trained, predicted_trainable) {
                    (true, true) => rep.trained_and_predicted += 1,
                    (true, false) => rep.trained_not_predicted += 1,
                    (false, true) => rep.predicted_not_trained += 1,
                    (false, false) => rep.neither += 1,
                }
                let finite = |x: f64| x.is_finite().then_some(x);
                CellSummary {
                    keep: cell.keep,
                    depth: cell.depth,
                    sigma_w2: Some(r.result.sigma_w2),
                    train_loss: finite(r.result.final_train_loss()),
                    val_loss: finite(v),
                    val_loss_init: finite(r.result.val_loss_init),
                    val_loss_baseline: finite(vb),
                    trained: Some(trained),
                    diverged: Some(r.result.diverged),
                    predicted_depth: pd,
                    predicted_trainable,
                    done: true,
                }
            }
            None => CellSummary {
                keep: cell.keep,
                depth: cell.depth,
                sigma_w2: None,
                train_loss: None,
                val_loss: None,
                val_loss_init: None,
                val_loss_baseline: None,
                trained: None,
                diverged: None,
                predicted_depth: pd,
                predicted_trainable,
                done: false,
            },
        };
        rep.cells.push(summary);
    }
    rep.total = rep.cells.len();
    rep.agreement =
        (rep.done > 0).then(|| (rep.trained_and_predicted + rep.neither) as f64 / rep.done as f64);
    Ok(rep)
}
