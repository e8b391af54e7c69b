//! The CUDA grid as a training [`Backend`] (feature `cuda`): the networks of
//! one shape train as one [`GpuGrid`], on data uploaded to the device once per
//! run ([`Uploaded`]).

use std::ops::Range;
use std::sync::Arc;

use noisyprop_data::Examples;
use noisyprop_engine::Loss;
use noisyprop_engine::cuda::{
    CudaError, Device, DeviceMatrix, GpuGrid, GridConfig, NetSpec, Precision,
};

use super::cpu::CLASSES;
use super::protocol::{Backend, Metrics, StepMetrics, Which, common_shape};
use super::spec::{Task, TrainSpec};
use crate::ExperimentError;

/// The training and validation images on the device, and their labels as
/// one-hot rows (the classification targets) where every label is a class.
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
            return Err(ExperimentError::invalid(
                "examples",
                format!("{} training / {} validation", train.n, val.n),
                "at least one of each",
            ));
        }
        if train.dim != val.dim || train.dim == 0 {
            return Err(ExperimentError::invalid(
                "dim",
                format!("{} training / {} validation", train.dim, val.dim),
                "equal and positive",
            ));
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

/// Networks of one shape as one GPU grid.
pub(crate) struct CudaBackend<'a> {
    grid: GpuGrid,
    data: &'a Uploaded,
    classify: bool,
    batch: usize,
}

impl<'a> CudaBackend<'a> {
    /// The grid of `specs` (one shape) on the uploaded data, in `precision`.
    ///
    /// # Errors
    /// Unsupported or invalid specs, labels missing for classification,
    /// device errors.
    pub(crate) fn new(
        specs: &[&TrainSpec],
        train: &Examples,
        val: &Examples,
        data: &'a Uploaded,
        precision: Precision,
    ) -> Result<Self, ExperimentError> {
        let first = common_shape(specs)?;
        if train.dim != data.train.cols()
            || train.n != data.train.rows()
            || val.n != data.val.rows()
        {
            return Err(ExperimentError::invalid(
                "data",
                format!(
                    "{}×{} / {} rows on the host, {}×{} / {} rows on the device",
                    train.n,
                    train.dim,
                    val.n,
                    data.train.rows(),
                    data.train.cols(),
                    data.val.rows()
                ),
                "the device copy of the same data",
            ));
        }
        let classify = first.task == Task::Classification;
        if classify && (data.train_y.is_none() || data.val_y.is_none()) {
            return Err(ExperimentError::invalid(
                "labels",
                format!(
                    "{} training / {} validation labels",
                    train.labels.len(),
                    val.labels.len()
                ),
                "one label in 0..=9 per example (classification)",
            ));
        }
        let nets = specs
            .iter()
            .map(|s| Ok(NetSpec::new(s.network()?, s.seed)))
            .collect::<Result<Vec<_>, ExperimentError>>()?;
        let (n, batch) = (train.n, first.batch);
        let cfg = GridConfig {
            d_in: train.dim,
            width: first.width,
            depth: first.depth,
            d_out: if classify { CLASSES } else { train.dim },
            batch: batch.min(n.max(val.n)),
            input_activation: true,
            input_noise: true,
            optimizer: first.optimizer,
            loss: if classify {
                Loss::SoftmaxCrossEntropy
            } else {
                Loss::Mse
            },
            precision,
            use_graphs: true,
            loss_history: n.div_ceil(batch).clamp(1, 4096),
            first_step: 0,
        };
        Ok(CudaBackend {
            grid: GpuGrid::new(&data.dev, cfg, &nets)?,
            data,
            classify,
            batch,
        })
    }
}

impl Backend for CudaBackend<'_> {
    fn networks(&self) -> usize {
        self.grid.networks()
    }

    fn step(&mut self, rows: Range<usize>, step: u64) -> Result<(), ExperimentError> {
        if self.grid.step_index() != step {
            self.grid.set_step(step)?;
        }
        let y = if self.classify {
            self.data.train_y.as_ref()
        } else {
            None
        };
        self.grid
            .load_batch_device(&self.data.train, y, rows.start, rows.len())?;
        self.grid.step()?;
        Ok(())
    }

    fn take_step_metrics(&mut self) -> Result<StepMetrics, ExperimentError> {
        let (loss, acc) = self.grid.take_train_metrics()?;
        let widen = |v: Vec<Vec<f32>>| -> Vec<Vec<f64>> {
            v.into_iter()
                .map(|s| s.into_iter().map(f64::from).collect())
                .collect()
        };
        Ok(StepMetrics {
            loss: widen(loss),
            accuracy: acc.map(widen),
        })
    }

    /// The full batches are averaged by the device's accumulator, the last
    /// partial batch separately, then weighted by rows (as on the CPU).
    fn evaluate(&mut self, which: Which) -> Result<Metrics, ExperimentError> {
        let (data, targets) = match which {
            Which::Train => (&self.data.train, self.data.train_y.as_ref()),
            Which::Validation => (&self.data.val, self.data.val_y.as_ref()),
        };
        let targets = if self.classify { targets } else { None };
        let (n, batch) = (data.rows(), self.batch);
        let (full, rem) = (n / batch, n % batch);
        let g = self.grid.networks();
        let (mut loss, mut acc) = (vec![0.0f64; g], vec![0.0f64; g]);
        let mut tracked = false;
        for (start, count, rows) in [(0, full, batch), (full * batch, usize::from(rem > 0), rem)] {
            if count == 0 {
                continue;
            }
            for i in 0..count {
                self.grid
                    .load_batch_device(data, targets, start + i * batch, rows)?;
                self.grid.eval_batch()?;
            }
            let (l, a) = self.grid.take_eval_metrics()?;
            let w = (count * rows) as f64;
            loss.iter_mut().zip(l).for_each(|(s, v)| *s += v * w);
            if let Some(a) = a {
                tracked = true;
                acc.iter_mut().zip(a).for_each(|(s, v)| *s += v * w);
            }
        }
        let mean = |v: Vec<f64>| v.into_iter().map(|a| a / n.max(1) as f64).collect();
        Ok(Metrics {
            loss: mean(loss),
            accuracy: tracked.then(|| mean(acc)),
        })
    }

    /// The grid steps all its networks together; a retired network's metrics
    /// are ignored by the protocol.
    fn retire(&mut self, _i: usize) {}
}
