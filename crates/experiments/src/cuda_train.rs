//! The GPU training path (feature `cuda`): networks of one shape trained
//! together as one [`GpuGrid`], following the protocol of
//! [`crate::training::train`] step for step (batch order, step index of the
//! noise keys, loss weighting, validation, divergence stop).

use std::sync::Arc;
use std::time::Instant;

use noisyprop_data::Examples;
use noisyprop_engine::cuda::{
    CudaError, Device, DeviceMatrix, GpuGrid, GridConfig, GridLoss, GridOptimizer, NetSpec,
    Precision,
};

use crate::ExperimentError;
use crate::training::{
    EpochLog, OptimizerSpec, Task, TrainResult, TrainSpec, baseline, check_cuda_support,
};

/// Classes of the classification task (every supported dataset has 10).
const CLASSES: usize = 10;

/// The training and validation images on the device (uploaded once per run), and their
/// labels as one-hot rows (the classification targets) where every label is a class.
pub(crate) struct Uploaded {
    dev: Arc<Device>,
    train: DeviceMatrix,
    val: DeviceMatrix,
    train_y: Option<DeviceMatrix>,
    val_y: Option<DeviceMatrix>,
}

/// One-hot rows of `labels` (`None` unless there is one label < 10 per example).
fn one_hot(dev: &Arc<Device>, e: &Examples) -> Result<Option<DeviceMatrix>, CudaError> {
    if e.labels.len() != e.n || e.labels.iter().any(|&l| usize::from(l) >= CLASSES) {
        return Ok(None);
    }
    let mut y = vec![0f32; e.n * CLASSES];
    for (row, &l) in y.chunks_exact_mut(CLASSES).zip(&e.labels) {
        row[usize::from(l)] = 1.0;
    }
    dev.upload_matrix(&y, CLASSES).map(Some)
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
            train_y: one_hot(dev, train)?,
            val_y: one_hot(dev, val)?,
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

/// Mean noise-free loss (and, with targets, accuracy) of every network over
/// the rows of `data`, each batch weighted by its rows (as the CPU
/// `evaluate`): the full batches are averaged by the device's accumulator,
/// the last partial batch separately.
fn evaluate(
    grid: &mut GpuGrid,
    data: &DeviceMatrix,
    targets: Option<&DeviceMatrix>,
    batch: usize,
) -> Result<(Vec<f64>, Option<Vec<f64>>), ExperimentError> {
    let n = data.rows();
    let (full, rem) = (n / batch, n % batch);
    let g = grid.networks();
    let (mut loss, mut acc) = (vec![0.0f64; g], vec![0.0f64; g]);
    let mut tracked = false;
    let mut add = |(l, a): (Vec<f64>, Option<Vec<f64>>), rows: usize| {
        let w = rows as f64;
        loss.iter_mut().zip(l).for_each(|(s, v)| *s += v * w);
        if let Some(a) = a {
            tracked = true;
            acc.iter_mut().zip(a).for_each(|(s, v)| *s += v * w);
        }
    };
    for (start, count, rows) in [(0, full, batch), (full * batch, usize::from(rem > 0), rem)] {
        if count == 0 {
            continue;
        }
        for i in 0..count {
            grid.load_batch_device(data, targets, start + i * batch, rows)?;
            grid.eval_batch()?;
        }
        add(grid.take_eval_metrics()?, count * rows);
    }
    let mean = |v: Vec<f64>| v.into_iter().map(|a| a / n.max(1) as f64).collect();
    Ok((mean(loss), tracked.then(|| mean(acc))))
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
    let (lr, optimizer) = match first.optimizer {
        OptimizerSpec::Sgd { lr, momentum } => (lr, GridOptimizer::sgd(momentum as f32)),
        OptimizerSpec::Adam { lr } => (lr, GridOptimizer::ADAM),
    };
    let classify = first.task == Task::Classification;
    let (train_y, val_y) = if classify {
        match (&data.train_y, &data.val_y) {
            (Some(t), Some(v)) => (Some(t), Some(v)),
            _ => {
                return Err(ExperimentError::InvalidParameter {
                    name: "labels",
                    value: format!(
                        "{} training / {} validation labels",
                        train.labels.len(),
                        val.labels.len()
                    ),
                    valid: "one label in 0..=9 per example (classification)",
                });
            }
        }
    } else {
        (None, None)
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
        d_out: if classify { CLASSES } else { train.dim },
        batch: batch.min(n.max(val.n)),
        activation: first.activation()?,
        input_activation: true,
        input_noise: true,
        lr: lr as f32,
        optimizer,
        loss: if classify {
            GridLoss::SoftmaxCrossEntropy
        } else {
            GridLoss::Mse
        },
        precision,
        use_graphs: true,
        loss_history: steps_per_epoch.clamp(1, 4096),
        first_step: 0,
    };
    let mut grid = GpuGrid::new(&data.dev, cfg, &nets)?;
    let g = nets.len();
    let val_loss_baseline = baseline(first.task, train, val);
    let (val_loss_init, val_accuracy_init) = evaluate(&mut grid, &data.val, val_y, batch)?;
    let mut epochs: Vec<Vec<EpochLog>> = vec![Vec::with_capacity(first.epochs); g];
    let mut diverged = vec![false; g];
    let mut finished = vec![false; g];
    let mut rows = Vec::with_capacity(steps_per_epoch);
    for epoch in 1..=first.epochs {
        rows.clear();
        for s in (0..n).step_by(batch) {
            let b = batch.min(n - s);
            grid.load_batch_device(&data.train, train_y, s, b)?;
            grid.step()?;
            rows.push(b);
        }
        let (losses, accuracies) = grid.take_train_metrics()?;
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
        let train_accuracy: Option<Vec<f64>> = accuracies.map(|steps| {
            (0..g)
                .map(|i| {
                    let hits: f64 = steps
                        .iter()
                        .zip(&rows)
                        .map(|(s, &b)| f64::from(s[i]) * b as f64)
                        .sum();
                    hits / n as f64
                })
                .collect()
        });
        let (val_losses, val_accuracy) = evaluate(&mut grid, &data.val, val_y, batch)?;
        for i in 0..g {
            if finished[i] {
                continue;
            }
            let log = EpochLog {
                epoch,
                train_loss: sums[i] / n as f64,
                val_loss: val_losses[i],
                train_accuracy: train_accuracy.as_ref().map(|a| a[i]),
                val_accuracy: val_accuracy.as_ref().map(|a| a[i]),
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
            val_accuracy_init: val_accuracy_init.as_ref().map(|a| a[i]),
            epochs,
            diverged: diverged[i],
            seconds,
        })
        .collect())
}
