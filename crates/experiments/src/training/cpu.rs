//! The CPU engine as a training [`Backend`]: one engine [`Trainer`] per
//! network, the networks of a step run side by side (rayon) when there are
//! several.

use std::ops::Range;

use noisyprop_data::Examples;
use noisyprop_engine::loss::accuracy;
use noisyprop_engine::{Loss, Mlp, MlpConfig, Target, Threads, Trainer, TrainerGroup};

use super::protocol::{Backend, Metrics, StepMetrics, Which};
use super::spec::{Task, TrainSpec};
use crate::ExperimentError;

/// Classes of the classification task (every supported dataset has 10).
pub(crate) const CLASSES: usize = 10;

/// The engine network, loss and optimiser a spec describes, initialised.
///
/// # Errors
/// Invalid spec (or no critical point for `--init critical`), or an engine
/// configuration it refuses.
pub fn build(
    spec: &TrainSpec,
    d_in: usize,
    threads: Threads,
) -> Result<Trainer<f32>, ExperimentError> {
    spec.validate()?;
    let d_out = match spec.task {
        Task::Reconstruction => d_in,
        Task::Classification => CLASSES,
    };
    let config = MlpConfig {
        seed: spec.seed,
        ..MlpConfig::new(d_in, spec.width, spec.depth, d_out).with_network(spec.network()?)
    };
    let mut mlp = Mlp::new(config)?;
    mlp.set_threads(threads);
    let loss = match spec.task {
        Task::Reconstruction => Loss::Mse,
        Task::Classification => Loss::SoftmaxCrossEntropy,
    };
    let optimizer = spec.optimizer.build()?;
    Ok(Trainer::new(mlp, loss, optimizer))
}

fn target<'a>(task: Task, x: &'a [f32], labels: &'a [u8]) -> Target<'a, f32> {
    match task {
        Task::Reconstruction => Target::Values(x),
        Task::Classification => Target::Labels(labels),
    }
}

/// Networks of one shape on the CPU.
pub struct CpuBackend<'a> {
    group: TrainerGroup<f32>,
    retired: Vec<bool>,
    task: Task,
    batch: usize,
    train: &'a Examples,
    val: &'a Examples,
    losses: Vec<Vec<f64>>,
    accuracies: Vec<Vec<f64>>,
}

impl<'a> CpuBackend<'a> {
    /// The networks of `specs` (one shape) on `train`/`val`; each network's
    /// products use `threads` (results do not depend on it).
    ///
    /// # Errors
    /// As [`build`].
    pub fn new(
        specs: &[&TrainSpec],
        train: &'a Examples,
        val: &'a Examples,
        threads: Threads,
    ) -> Result<Self, ExperimentError> {
        let first = super::protocol::common_shape(specs)?;
        let trainers = specs
            .iter()
            .map(|s| build(s, train.dim, threads))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CpuBackend {
            retired: vec![false; trainers.len()],
            group: TrainerGroup::new(trainers),
            task: first.task,
            batch: first.batch,
            train,
            val,
            losses: Vec::new(),
            accuracies: Vec::new(),
        })
    }
}

impl Backend for CpuBackend<'_> {
    fn networks(&self) -> usize {
        self.group.len()
    }

    fn step(&mut self, rows: Range<usize>, step: u64) -> Result<(), ExperimentError> {
        let (task, data) = (self.task, self.train);
        let b = rows.len();
        let x = &data.x[rows.start * data.dim..rows.end * data.dim];
        let labels = &data.labels[rows.clone()];
        let retired = &self.retired;
        let out = self
            .group
            .map(|i, t| -> Result<(f64, f64), ExperimentError> {
                if retired[i] {
                    return Ok((f64::NAN, f64::NAN));
                }
                let loss = t.train_step(x, target(task, x, labels), b, step)?;
                let acc = match task {
                    Task::Classification => accuracy(t.mlp().output(), labels, CLASSES),
                    Task::Reconstruction => f64::NAN,
                };
                Ok((loss, acc))
            });
        let out = out.into_iter().collect::<Result<Vec<_>, _>>()?;
        self.losses.push(out.iter().map(|p| p.0).collect());
        self.accuracies.push(out.iter().map(|p| p.1).collect());
        Ok(())
    }

    fn take_step_metrics(&mut self) -> Result<StepMetrics, ExperimentError> {
        let accuracies = std::mem::take(&mut self.accuracies);
        Ok(StepMetrics {
            loss: std::mem::take(&mut self.losses),
            accuracy: (self.task == Task::Classification).then_some(accuracies),
        })
    }

    fn evaluate(&mut self, which: Which) -> Result<Metrics, ExperimentError> {
        let (task, batch) = (self.task, self.batch);
        let data = match which {
            Which::Train => self.train,
            Which::Validation => self.val,
        };
        let out = self
            .group
            .map(|_, t| -> Result<(f64, f64), ExperimentError> {
                let (mut loss, mut acc) = (0.0, 0.0);
                for start in (0..data.n).step_by(batch) {
                    let b = batch.min(data.n - start);
                    let x = &data.x[start * data.dim..(start + b) * data.dim];
                    let e = t.evaluate(x, target(task, x, &data.labels[start..start + b]), b)?;
                    loss += e.loss * b as f64;
                    acc += e.accuracy.unwrap_or(0.0) * b as f64;
                }
                let n = data.n.max(1) as f64;
                Ok((loss / n, acc / n))
            });
        let out = out.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(Metrics {
            loss: out.iter().map(|p| p.0).collect(),
            accuracy: (task == Task::Classification).then(|| out.iter().map(|p| p.1).collect()),
        })
    }

    fn retire(&mut self, i: usize) {
        if let Some(r) = self.retired.get_mut(i) {
            *r = true;
        }
    }
}

/// Trains `specs` (one shape) side by side on the CPU with the protocol of
/// [`super::protocol`]; each network's products use `threads`. `on_epoch(i,
/// log)` sees network i's epochs; `false` stops the run.
///
/// # Errors
/// As [`super::protocol::run`] (including [`ExperimentError::Cancelled`]).
pub fn train_group(
    specs: &[&TrainSpec],
    train: &Examples,
    val: &Examples,
    threads: Threads,
    on_epoch: &mut dyn FnMut(usize, &super::protocol::EpochLog) -> bool,
) -> Result<Vec<super::protocol::TrainResult>, ExperimentError> {
    let mut backend = CpuBackend::new(specs, train, val, threads)?;
    super::protocol::run(&mut backend, specs, train, val, on_epoch)
}
