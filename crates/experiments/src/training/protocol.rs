//! The training protocol (spec §4), written once over a [`Backend`]: the CPU
//! engine and the CUDA grid implement the steps, this module decides what a
//! run is.
//!
//! For G networks of one shape ([`TrainSpec::same_shape`]) trained side by side
//! on the same data:
//!
//! * the batch order is the same every epoch (no reshuffling: the data were
//!   shuffled once when prepared), batches of `batch` rows with a shorter last
//!   one;
//! * optimisation step t (from 0) draws the noise keyed by t, so a run is
//!   reproducible from its seed and the same on every backend;
//! * an epoch's training loss is the mean of its step losses (computed in the
//!   step, pre-update weights, noise on), each weighted by its batch's rows;
//! * the validation loss (noise off) is measured before training and after
//!   every epoch, as the row-weighted mean over validation batches;
//! * a network whose loss becomes non-finite logs that epoch and stops (the
//!   others go on);
//! * the caller's epoch callback can stop the whole run between epochs
//!   ([`ExperimentError::Cancelled`]: no result is returned).

use std::ops::Range;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use noisyprop_data::Examples;

use super::spec::{Task, TrainSpec};
use crate::ExperimentError;

/// Which split an evaluation runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The training split.
    Train,
    /// The validation split.
    Validation,
}

/// Per-network metrics of an evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metrics {
    /// Mean loss per network.
    pub loss: Vec<f64>,
    /// Mean accuracy per network (classification).
    pub accuracy: Option<Vec<f64>>,
}

/// Per-step, per-network metrics of training steps: `loss[step][network]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepMetrics {
    /// Loss of each step and network (noise on, pre-update weights).
    pub loss: Vec<Vec<f64>>,
    /// Accuracy of each step and network (classification).
    pub accuracy: Option<Vec<Vec<f64>>>,
}

/// G networks of one shape that train on the same batches: what a device
/// must do for [`run`].
pub trait Backend {
    /// G.
    fn networks(&self) -> usize;

    /// One optimisation step of every network that has not retired, on
    /// training rows `rows`, with the noise of step `step`.
    ///
    /// # Errors
    /// Device or data errors.
    fn step(&mut self, rows: Range<usize>, step: u64) -> Result<(), ExperimentError>;

    /// The metrics of the steps since the last call, in step order.
    ///
    /// # Errors
    /// Device errors.
    fn take_step_metrics(&mut self) -> Result<StepMetrics, ExperimentError>;

    /// Noise-free metrics of every network on a split, in batches of the
    /// run's batch size, each batch weighted by its rows.
    ///
    /// # Errors
    /// Device errors.
    fn evaluate(&mut self, which: Which) -> Result<Metrics, ExperimentError>;

    /// Network `i` has stopped (its loss diverged): the backend may skip it
    /// from now on; its later metrics are ignored.
    fn retire(&mut self, i: usize);
}

/// One epoch of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss of the epoch (noise on; `null` in JSON once it
    /// diverged).
    #[serde(deserialize_with = "crate::output::f64_or_nan")]
    pub train_loss: f64,
    /// Validation loss (noise off; `null` in JSON once it diverged).
    #[serde(deserialize_with = "crate::output::f64_or_nan")]
    pub val_loss: f64,
    /// Training accuracy (classification).
    pub train_accuracy: Option<f64>,
    /// Validation accuracy (classification).
    pub val_accuracy: Option<f64>,
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// σ_w² used.
    pub sigma_w2: f64,
    /// Validation loss before training (`null` in JSON when not finite).
    #[serde(deserialize_with = "crate::output::f64_or_nan")]
    pub val_loss_init: f64,
    /// Validation loss of the best input-independent prediction learned
    /// from the training set — the mean training image (reconstruction) or
    /// the class frequencies (classification): what a network reaches when
    /// no information about the input reaches its output.
    #[serde(deserialize_with = "crate::output::f64_or_nan")]
    pub val_loss_baseline: f64,
    /// Validation accuracy before training (classification).
    pub val_accuracy_init: Option<f64>,
    /// Per-epoch logs.
    pub epochs: Vec<EpochLog>,
    /// The loss became non-finite (training stopped there).
    pub diverged: bool,
    /// Wall time in seconds (of the whole group trained together).
    pub seconds: f64,
}

impl TrainResult {
    /// The last epoch's validation loss (NaN before any epoch).
    pub fn final_val_loss(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.val_loss)
    }

    /// The last epoch's training loss (NaN before any epoch).
    pub fn final_train_loss(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.train_loss)
    }
}

/// Validation loss of the input-independent predictor fitted on `train`:
/// MSE of the mean training image, or the cross-entropy of the training
/// class frequencies (add-½ smoothed).
pub fn baseline(task: Task, train: &Examples, val: &Examples) -> f64 {
    match task {
        Task::Reconstruction => {
            let d = train.dim;
            let mut mean = vec![0.0f64; d];
            for row in train.x.chunks_exact(d) {
                mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
            }
            mean.iter_mut().for_each(|m| *m /= train.n.max(1) as f64);
            let sse: f64 = val
                .x
                .chunks_exact(d)
                .map(|row| {
                    row.iter()
                        .zip(&mean)
                        .map(|(&v, m)| (v as f64 - m).powi(2))
                        .sum::<f64>()
                })
                .sum();
            sse / (val.n.max(1) * d) as f64
        }
        Task::Classification => {
            let mut freq = [0.0f64; 10];
            for &l in &train.labels {
                freq[(l as usize).min(9)] += 1.0;
            }
            let total = train.n.max(1) as f64;
            let ce: f64 = val
                .labels
                .iter()
                .map(|&l| -((freq[(l as usize).min(9)] + 0.5) / (total + 5.0)).ln())
                .sum();
            ce / val.n.max(1) as f64
        }
    }
}

/// Checks that `specs` can train side by side and returns the first.
///
/// # Errors
/// No spec, an invalid one, or specs of different shapes.
pub(crate) fn common_shape<'a>(specs: &[&'a TrainSpec]) -> Result<&'a TrainSpec, ExperimentError> {
    let Some(&first) = specs.first() else {
        return Err(ExperimentError::invalid("networks", 0, "[1, inf)"));
    };
    for s in specs {
        s.validate()?;
        if !first.same_shape(s) {
            return Err(ExperimentError::invalid(
                "group",
                format!(
                    "networks of depth {} and {}, width {} and {}",
                    first.depth, s.depth, first.width, s.width
                ),
                "networks trained together share shape, task, φ, optimiser, batch and epochs",
            ));
        }
    }
    Ok(first)
}

/// Trains `specs` (one shape) on `backend`, which holds their networks in
/// the same order, following the protocol of the module docs; `on_epoch(i,
/// log)` sees network i's epochs as they finish and returns `true` to go on,
/// `false` to stop the run there (no further step is taken). Returns one
/// result per spec.
///
/// # Errors
/// Specs of different shapes, data that does not fit them, backend errors;
/// [`ExperimentError::Cancelled`] when `on_epoch` returned `false`.
pub fn run(
    backend: &mut dyn Backend,
    specs: &[&TrainSpec],
    train: &Examples,
    val: &Examples,
    on_epoch: &mut dyn FnMut(usize, &EpochLog) -> bool,
) -> Result<Vec<TrainResult>, ExperimentError> {
    let start = Instant::now();
    let first = common_shape(specs)?;
    let g = specs.len();
    if backend.networks() != g {
        return Err(ExperimentError::invalid(
            "networks",
            backend.networks(),
            "one per spec",
        ));
    }
    if train.n == 0 || val.n == 0 {
        return Err(ExperimentError::invalid(
            "examples",
            format!("{} training / {} validation", train.n, val.n),
            "at least one of each",
        ));
    }
    let sigma_w2 = specs
        .iter()
        .map(|s| Ok(s.network()?.sigma_w2()))
        .collect::<Result<Vec<f64>, ExperimentError>>()?;
    let (n, batch) = (train.n, first.batch);
    let val_loss_baseline = baseline(first.task, train, val);
    let init = backend.evaluate(Which::Validation)?;
    let mut epochs: Vec<Vec<EpochLog>> = vec![Vec::with_capacity(first.epochs); g];
    let mut diverged = vec![false; g];
    let mut finished = vec![false; g];
    let mut rows = Vec::with_capacity(n.div_ceil(batch));
    let mut step = 0u64;
    for epoch in 1..=first.epochs {
        rows.clear();
        for s in (0..n).step_by(batch) {
            let b = batch.min(n - s);
            backend.step(s..s + b, step)?;
            step += 1;
            rows.push(b);
        }
        let m = backend.take_step_metrics()?;
        if m.loss.len() != rows.len() || m.loss.iter().any(|l| l.len() != g) {
            return Err(ExperimentError::invalid(
                "step metrics",
                format!("{} steps reported for {} run", m.loss.len(), rows.len()),
                "one per step and network",
            ));
        }
        let mut sums = vec![0.0f64; g];
        let mut hits = vec![0.0f64; g];
        for (k, &b) in rows.iter().enumerate() {
            for i in 0..g {
                let loss = m.loss[k][i];
                if !loss.is_finite() {
                    diverged[i] = true;
                }
                sums[i] += loss * b as f64;
                if let Some(acc) = &m.accuracy {
                    hits[i] += acc[k][i] * b as f64;
                }
            }
        }
        let v = backend.evaluate(Which::Validation)?;
        for i in 0..g {
            if finished[i] {
                continue;
            }
            let log = EpochLog {
                epoch,
                train_loss: sums[i] / n as f64,
                val_loss: v.loss[i],
                train_accuracy: m.accuracy.as_ref().map(|_| hits[i] / n as f64),
                val_accuracy: v.accuracy.as_ref().map(|a| a[i]),
            };
            if !on_epoch(i, &log) {
                return Err(ExperimentError::Cancelled);
            }
            epochs[i].push(log);
            if diverged[i] || !v.loss[i].is_finite() {
                diverged[i] = true;
                finished[i] = true;
                backend.retire(i);
            }
        }
        if finished.iter().all(|&f| f) {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(epochs
        .into_iter()
        .enumerate()
        .map(|(i, epochs)| TrainResult {
            sigma_w2: sigma_w2[i],
            val_loss_init: init.loss[i],
            val_loss_baseline,
            val_accuracy_init: init.accuracy.as_ref().map(|a| a[i]),
            epochs,
            diverged: diverged[i],
            seconds,
        })
        .collect())
}
