//! The GPU training path (feature `cuda`): networks of one shape trained
//! together as one [`GpuGrid`], following the protocol of
//! [`crate::training::train`] step for step (batch order, step index of the
//! noise keys, loss weighting, validation, divergence stop).

use std::sync::Arc;
use std::time::Instant;

use noisyprop_data::Examples;
use noisyprop_engine::cuda::{
    CudaError, Device, DeviceMatrix, GpuGrid, GridConfig, NetSpec, Precision,
};

use crate::ExperimentError;
use crate::training::{
    EpochLog, OptimizerSpec, Task, TrainResult, TrainSpec, baseline, check_cuda_support,
};

/// The training and validation images on the device (uploaded once per run).
pub(crate) struct Uploaded {
    dev: Arc<Device>,
    train: DeviceMatrix,
    val: DeviceMatrix,
}

impl Uploaded {
    /// Uploads both splits.
    ///
    /// # Errors
    /// An empty split, splits of different dimensions, device errors.
    pub(crate) fn new(
        dev: &Arc<Device>,
        train: &Examples,
        val: &Examples,
    ) -> Result<Self, ExperimentError> {
        if train.n == 0 || val.n == 0 {
            return Err(ExperimentError::InvalidParameter {
                name: "examples",
                value: format!("{} training / {} validation", train.n, val.n),
                valid: "at least one of each",
            });
        }
        if train.dim != val.dim || train.dim == 0 {
            return Err(ExperimentError::InvalidParameter {
                name: "dim",
                value: format!("{} training / {} validation", train.dim, val.dim),
                valid: "equal and positive",
            });
        }
        Ok(Uploaded {
            dev: dev.clone(),
            train: dev.upload_matrix(&train.x, train.dim)?,
            val: dev.upload_matrix(&val.x, val.dim)?,
        })
    }
}

/// Whether two specs can share a grid (everything but seed, noise and
/// initialisation equal).
fn same_shape(a: &TrainSpec, b: &TrainSpec) -> bool {
    a.task == b.task
        && a.depth == b.depth
        && a.width == b.width
        && a.activation == b.activation
        && a.optimizer == b.optimizer
        && a.batch == b.batch
        && a.epochs == b.epochs
}

/// Mean noise-free MSE of every network over the rows of `data`, each batch
/// weighted by its rows (as the CPU `evaluate`): the full batches are
/// averaged by the device's accumulator, the last partial batch separately.
fn evaluate(
    grid: &mut GpuGrid,
    data: &DeviceMatrix,
    batch: usize,
) -> Result<Vec<f64>, ExperimentError> {
    let n = data.rows();
    let (full, rem) = (n / batch, n % batch);
    let mut acc = vec![0.0f64; grid.networks()];
    let mut add = |losses: Vec<f64>, rows: usize| {
        for (a, l) in acc.iter_mut().zip(losses) {
            *a += l * rows as f64;
        }
    };
    if full > 0 {
        for i in 0..full {
            grid.load_batch_device(data, None, i * batch, batch)?;
            grid.eval_batch()?;
        }
        add(grid.take_eval_losses()?, full * batch);
    }
    if rem > 0 {
        grid.load_batch_device(data, None, full * batch, rem)?;
        grid.eval_batch()?;
        add(grid.take_eval_losses()?, rem);
    }
    Ok(acc.into_iter().map(|a| a / n.max(1) as f64).collect())
}

/// Trains the networks of `specs` (one shape; seeds, noise and
/// initialisation may differ) together as one [`GpuGrid`] on `data` (the
/// device copy of `train` and `val`), returning one result per spec in
/// order. `on_epoch(i, log)` sees network i's epoch logs as they finish.
///
/// Each network follows [`crate::training::train`]: the same batches in the
/// same order every epoch, optimisation step t keyed by t from 0, the epoch's
/// training loss the mean of its step losses weighted by batch rows, the
/// validation loss before training and after each epoch without noise, and
/// no further epochs once its loss is non-finite (the other networks go on).
pub(crate) fn train_networks(
    specs: &[&TrainSpec],
    train: &Examples,
    val: &Examples,
    data: &Uploaded,
    precision: Precision,
    on_epoch: &mut dyn FnMut(usize, &EpochLog),
) -> Result<Vec<TrainResult>, ExperimentError> {
    let start = Instant::now();
    let Some(&first) = specs.first() else {
        return Ok(Vec::new());
    };
    for s in specs {
        check_cuda_support(s)?;
        if !same_shape(first, s) {
            return Err(ExperimentError::InvalidParameter {
                name: "grid",
                value: format!(
                    "networks of depth {} and {}, width {} and {}",
                    first.depth, s.depth, first.width, s.width
                ),
                valid: "one GPU grid trains networks of one shape, task, optimiser, batch and epochs",
            });
        }
    }
    if train.dim != data.train.cols() || train.n != data.train.rows() || val.n != data.val.rows() {
        return Err(ExperimentError::InvalidParameter {
            name: "data",
            value: format!(
                "{}×{} / {} rows on the host, {}×{} / {} rows on the device",
                train.n,
                train.dim,
                val.n,
                data.train.rows(),
                data.train.cols(),
                data.val.rows()
            ),
            valid: "the device copy of the same data",
        });
    }
    let (lr, momentum) = match first.optimizer {
        OptimizerSpec::Sgd { lr, momentum } => (lr, momentum),
        OptimizerSpec::Adam { .. } => {
            return Err(ExperimentError::GpuUnsupported {
                what: "the Adam optimiser".into(),
                supported: "SGD only",
            });
        }
    };
    let nets = specs
        .iter()
        .map(|s| {
            Ok(NetSpec {
                seed: s.seed,
                noise: s.noise()?,
                sigma_w2: s.sigma_w2()?,
                sigma_w2_out: None,
                sigma_b2: 0.0,
            })
        })
        .collect::<Result<Vec<_>, ExperimentError>>()?;
    let (n, batch) = (train.n, first.batch);
    let steps_per_epoch = n.div_ceil(batch);
    let cfg = GridConfig {
        d_in: train.dim,
        width: first.width,
        depth: first.depth,
        d_out: train.dim,
        batch: batch.min(n.max(val.n)),
        activation: first.activation()?,
        input_activation: true,
        input_noise: true,
        lr: lr as f32,
        momentum: momentum as f32,
        precision,
        use_graphs: true,
        loss_history: steps_per_epoch.clamp(1, 4096),
        first_step: 0,
    };
    let mut grid = GpuGrid::new(&data.dev, cfg, &nets)?;
    let g = nets.len();
    let val_loss_baseline = baseline(Task::Reconstruction, train, val);
    let val_loss_init = evaluate(&mut grid, &data.val, batch)?;
    let mut epochs: Vec<Vec<EpochLog>> = vec![Vec::with_capacity(first.epochs); g];
    let mut diverged = vec![false; g];
    let mut finished = vec![false; g];
    let mut rows = Vec::with_capacity(steps_per_epoch);
    for epoch in 1..=first.epochs {
        rows.clear();
        for s in (0..n).step_by(batch) {
            let b = batch.min(n - s);
            grid.load_batch_device(&data.train, None, s, b)?;
            grid.step()?;
            rows.push(b);
        }
        let losses = grid.take_train_losses()?;
        if losses.len() != rows.len() || losses.iter().any(|l| l.len() != g) {
            return Err(CudaError::Config(format!(
                "{} steps ran but {} step losses came back",
                rows.len(),
                losses.len()
            ))
            .into());
        }
        let mut sums = vec![0.0f64; g];
        for (step, &b) in losses.iter().zip(&rows) {
            for (i, &loss) in step.iter().enumerate() {
                let loss = f64::from(loss);
                if !loss.is_finite() {
                    diverged[i] = true;
                }
                sums[i] += loss * b as f64;
            }
        }
        let val_losses = evaluate(&mut grid, &data.val, batch)?;
        for i in 0..g {
            if finished[i] {
                continue;
            }
            let log = EpochLog {
                epoch,
                train_loss: sums[i] / n as f64,
                val_loss: val_losses[i],
                train_accuracy: None,
                val_accuracy: None,
            };
            on_epoch(i, &log);
            epochs[i].push(log);
            if diverged[i] || !val_losses[i].is_finite() {
                diverged[i] = true;
                finished[i] = true;
            }
        }
        if finished.iter().all(|&f| f) {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(nets
        .iter()
        .zip(epochs)
        .enumerate()
        .map(|(i, (net, epochs))| TrainResult {
            sigma_w2: net.sigma_w2,
            val_loss_init: val_loss_init[i],
            val_loss_baseline,
            val_accuracy_init: None,
            epochs,
            diverged: diverged[i],
            seconds,
        })
        .collect())
}
