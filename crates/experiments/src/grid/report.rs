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

use noisyprop_theory::{AnalysisOptions, analyze};

use super::spec::GridSpec;
use super::store::load_cell;
use crate::ExperimentError;
use crate::training::TrainSpec;

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
    /// k·ξ_c(p) (`None` when unbounded or when there is no prediction, see
    /// [`GridReport::predictions`]).
    pub predicted_depth: Option<f64>,
    /// No depth is too deep (no noise).
    pub predicted_unbounded: bool,
    /// depth < k·ξ_c(p); `None` without a prediction.
    pub predicted_trainable: Option<bool>,
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
    /// Finished cells without a prediction (see [`GridReport::predictions`]).
    pub unpredicted: usize,
    /// Fraction of finished cells with a prediction where "trained" equals
    /// "depth < k·ξ_c" (`None` before any such cell finished).
    pub agreement: Option<f64>,
    /// The prediction for each keep probability, in the spec's order.
    pub predictions: Vec<(f64, Prediction)>,
    /// Every cell, keep-major.
    pub cells: Vec<CellSummary>,
}

/// What the theory predicts for one keep probability of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// k·ξ_c, where the signal survives and ξ_c is finite.
    pub depth: Option<f64>,
    /// No depth is too deep (no noise: ξ_c = ∞).
    pub unbounded: bool,
    /// Why there is no k·ξ_c otherwise (no critical point, or the variance
    /// vanishes or explodes at this σ_w²), `None` when there is one or it is
    /// unbounded.
    pub none_because: Option<String>,
}

impl Prediction {
    /// Whether a network of `depth` hidden layers is predicted to train
    /// (`None` without a prediction).
    pub fn trainable(&self, depth: usize) -> Option<bool> {
        match self.depth {
            Some(d) => Some((depth as f64) < d),
            None => self.unbounded.then_some(true),
        }
    }
}

/// The prediction depth < k·ξ_c for the network a grid cell of keep
/// probability `keep` initialises (`base`'s activation and initialisation,
/// dropout of that keep, biases zero).
pub fn predict(base: &TrainSpec, keep: f64, k: f64) -> Prediction {
    let none = |why: String| Prediction {
        depth: None,
        unbounded: false,
        none_because: Some(why),
    };
    let spec = TrainSpec {
        noise: GridSpec::noise(keep),
        ..base.clone()
    };
    let net = match spec.network() {
        Ok(n) => n,
        Err(e) => return none(e.to_string()),
    };
    let opts = AnalysisOptions {
        depth_multiplier: k,
        ..Default::default()
    };
    match analyze(&net, &opts) {
        Ok(a) => Prediction {
            depth: a.trainable_depth,
            unbounded: a.trainable_depth_unbounded,
            none_because: (a.trainable_depth.is_none() && !a.trainable_depth_unbounded)
                .then_some(a.depth_limit),
        },
        Err(e) => none(e.to_string()),
    }
}

/// Reads every finished cell and compares "trained" with the prediction.
///
/// # Errors
/// A corrupt cell file (named) or one that cannot be read.
pub fn report(spec: &GridSpec) -> Result<GridReport, ExperimentError> {
    let k = spec.depth_multiplier();
    let predicted: Vec<Prediction> = spec
        .keeps()
        .iter()
        .map(|&p| predict(spec.base(), p, k))
        .collect();
    let mut rep = GridReport {
        done: 0,
        total: 0,
        trained_and_predicted: 0,
        trained_not_predicted: 0,
        predicted_not_trained: 0,
        neither: 0,
        unpredicted: 0,
        agreement: None,
        predictions: spec
            .keeps()
            .iter()
            .copied()
            .zip(predicted.iter().cloned())
            .collect(),
        cells: Vec::new(),
    };
    for cell in spec.cells()? {
        let ik = spec
            .keeps()
            .iter()
            .position(|&p| p == cell.keep)
            .unwrap_or(0);
        let pred = &predicted[ik];
        let pd = pred.depth;
        let predicted_trainable = pred.trainable(cell.depth);
        let summary = match load_cell(spec, &cell)? {
            Some(r) => {
                rep.done += 1;
                let v = r.result.final_val_loss();
                let vb = r.result.val_loss_baseline;
                let trained = v.is_finite() && v <= TRAINED_FRACTION * vb;
                match (trained, predicted_trainable) {
                    (true, Some(true)) => rep.trained_and_predicted += 1,
                    (true, Some(false)) => rep.trained_not_predicted += 1,
                    (false, Some(true)) => rep.predicted_not_trained += 1,
                    (false, Some(false)) => rep.neither += 1,
                    (_, None) => rep.unpredicted += 1,
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
                    predicted_unbounded: pred.unbounded,
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
                predicted_unbounded: pred.unbounded,
                predicted_trainable,
                done: false,
            },
        };
        rep.cells.push(summary);
    }
    rep.total = rep.cells.len();
    let judged = rep.done - rep.unpredicted;
    rep.agreement =
        (judged > 0).then(|| (rep.trained_and_predicted + rep.neither) as f64 / judged as f64);
    Ok(rep)
}
