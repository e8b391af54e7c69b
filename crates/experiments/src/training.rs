//! Training one noisy MLP on real data (spec §4): the paper's reconstruction
//! (MSE autoencoding) task or classification, with per-epoch train and
//! validation losses.
//!
//! Protocol (spec §4): the batch order is the same every epoch (no
//! reshuffling, the data were shuffled once when prepared); the training loss
//! of an epoch is the mean over its batches of the loss computed in the same
//! step as the update (pre-update weights, noise active); the validation loss
//! is the mean over validation batches without noise. The noise of step t is
//! keyed by t, so a run is reproducible from its seed.

use serde::{Deserialize, Serialize};

use noisyprop_data::Examples;
use noisyprop_engine::{Loss, Mlp, MlpConfig, Optimizer, Target, Threads, Trainer};
use noisyprop_theory::{Activation, Integration, MeanField, Network, Noise, NoiseLaw};

use crate::ExperimentError;

/// What the network learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Reproduce the input (MSE), the paper's Figure 6 task.
    Reconstruction,
    /// Predict the label (softmax cross-entropy, accuracy).
    Classification,
}

/// How the weights are initialised: W ~ N(0, σ_w²/fan_in).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Init {
    /// The critical σ_w² of the activation and noise (2p for ReLU with dropout).
    Critical,
    /// σ_w² = 2.
    He,
    /// σ_w² = 1.
    Xavier,
    /// A given σ_w².
    SigmaW2 {
        /// σ_w².
        value: f64,
    },
}

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OptimizerSpec {
    /// SGD with momentum (0 = plain SGD, the paper's).
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum.
        momentum: f64,
    },
    /// Adam (β₁ 0.9, β₂ 0.999, ε 1e-8).
    Adam {
        /// Learning rate.
        lr: f64,
    },
}

/// Everything that defines a training run (a grid cell).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    /// Dataset name (`mnist`, `fashion-mnist`, `cifar10`).
    pub dataset: String,
    /// Where the data came from (file paths or "embedded subset").
    pub data_source: String,
    /// Examples used (after the cap), before the validation split.
    pub examples: usize,
    /// Fraction held out for validation.
    pub val_fraction: f64,
    /// Task.
    pub task: Task,
    /// Hidden layers.
    pub depth: usize,
    /// Hidden width.
    pub width: usize,
    /// φ (canonical spec string, e.g. `relu`).
    pub activation: String,
    /// Noise (canonical spec strings, applied in order).
    pub noise: Vec<String>,
    /// Weight initialisation.
    pub init: Init,
    /// Optimiser.
    pub optimizer: OptimizerSpec,
    /// Batch size.
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Seed of weights, noise and the data shuffle.
    pub seed: u64,
}

impl TrainSpec {
    /// φ.
    ///
    /// # Errors
    /// A malformed stored spec.
    pub fn activation(&self) -> Result<Activation, ExperimentError> {
        Ok(self.activation.parse()?)
    }

    /// The noise stack.
    ///
    /// # Errors
    /// A malformed stored spec.
    pub fn noise(&self) -> Result<Noise, ExperimentError> {
        Ok(Noise::parse_all(&self.noise)?)
    }

    /// σ_w² of the initialisation.
    ///
    /// # Errors
    /// No critical point for this activation and noise.
    pub fn sigma_w2(&self) -> Result<f64, ExperimentError> {
        match self.init {
            Init::He => Ok(2.0),
            Init::Xavier => Ok(1.0),
            Init::SigmaW2 { value } => Ok(value),
            Init::Critical => {
                let net = Network::new(self.activation()?, self.noise()?, 1.0, 0.0)?;
                MeanField::new(&net, Integration::default())
                    .critical_sigma_w2()
                    .map(|c| c.sigma_w2)
                    .map_err(|e| ExperimentError::NoCriticalPoint {
                        what: format!("{} with noise {}", net.activation(), net.noise()),
                        reason: e.reason,
                    })
            }
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |name, value: String, valid| {
            Err(ExperimentError::InvalidParameter { name, value, valid })
        };
        if self.width == 0 {
            return bad("width", self.width.to_string(), "[1, inf)");
        }
        if self.batch == 0 {
            return bad("batch", self.batch.to_string(), "[1, inf)");
        }
        if self.epochs == 0 {
            return bad("epochs", self.epochs.to_string(), "[1, inf)");
        }
        let lr = match self.optimizer {
            OptimizerSpec::Sgd { lr, .. } | OptimizerSpec::Adam { lr } => lr,
        };
        if !(lr > 0.0 && lr.is_finite()) {
            return bad("lr", lr.to_string(), "(0, inf)");
        }
        Ok(())
    }
}

/// One epoch of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss of the epoch (noise on).
    pub train_loss: f64,
    /// Validation loss (noise off).
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
    /// Validation loss before training.
    pub val_loss_init: f64,
    /// Validation loss of the best input-independent prediction learned
    /// from the training set — the mean training image (reconstruction) or
    /// the class frequencies (classification): what a network reaches when
    /// no information about the input reaches its output.
    pub val_loss_baseline: f64,
    /// Validation accuracy before training (classification).
    pub val_accuracy_init: Option<f64>,
    /// Per-epoch logs.
    pub epochs: Vec<EpochLog>,
    /// The loss became non-finite (training stopped there).
    pub diverged: bool,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl TrainResult {
    /// The last epoch's validation loss.
    pub fn final_val_loss(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.val_loss)
    }

    /// The last epoch's training loss.
    pub fn final_train_loss(&self) -> f64 {
        self.epochs.last().map_or(f64::NAN, |e| e.train_loss)
    }
}

fn target<'a>(task: Task, x: &'a [f32], labels: &'a [u8]) -> Target<'a, f32> {
    match task {
        Task::Reconstruction => Target::Values(x),
        Task::Classification => Target::Labels(labels),
    }
}

/// Mean loss (and accuracy) of `data` without noise, in batches.
fn evaluate(
    trainer: &mut Trainer<f32>,
    task: Task,
    data: &Examples,
    batch: usize,
) -> Result<(f64, Option<f64>), ExperimentError> {
    let (mut loss, mut acc, mut n) = (0.0, 0.0, 0usize);
    for start in (0..data.n).step_by(batch) {
        let b = batch.min(data.n - start);
        let x = &data.x[start * data.dim..(start + b) * data.dim];
        let e = trainer.evaluate(x, target(task, x, &data.labels[start..start + b]), b)?;
        loss += e.loss * b as f64;
        acc += e.accuracy.unwrap_or(0.0) * b as f64;
        n += b;
    }
    let n = n.max(1) as f64;
    Ok((loss / n, (task == Task::Classification).then_some(acc / n)))
}

/// Validation loss of the input-independent predictor fitted on `train`:
/// MSE of the mean training image, or the cross-entropy of the training
/// class frequencies.
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

/// The network a spec describes, with its initialisation.
///
/// # Errors
/// Invalid spec or engine configuration.
pub fn build(
    spec: &TrainSpec,
    d_in: usize,
    threads: Threads,
) -> Result<Trainer<f32>, ExperimentError> {
    spec.validate()?;
    let d_out = match spec.task {
        Task::Reconstruction => d_in,
        Task::Classification => 10,
    };
    let config = MlpConfig {
        activation: spec.activation()?,
        noise: spec.noise()?,
        sigma_w2: spec.sigma_w2()?,
        seed: spec.seed,
        ..MlpConfig::new(d_in, spec.width, spec.depth, d_out)
    };
    let mut mlp = Mlp::new(config)?;
    mlp.set_threads(threads);
    let loss = match spec.task {
        Task::Reconstruction => Loss::Mse,
        Task::Classification => Loss::SoftmaxCrossEntropy,
    };
    let optimizer = match spec.optimizer {
        OptimizerSpec::Sgd { lr, momentum } => Optimizer::sgd(lr, momentum)?,
        OptimizerSpec::Adam { lr } => Optimizer::adam(lr)?,
    };
    Ok(Trainer::new(mlp, loss, optimizer))
}

/// Trains as `spec` says on `train`, validating on `val` after every epoch;
/// `on_epoch` sees each epoch's log as it finishes.
///
/// # Errors
/// Invalid spec, or data that does not fit it.
pub fn train(
    spec: &TrainSpec,
    train: &Examples,
    val: &Examples,
    threads: Threads,
    on_epoch: &mut dyn FnMut(&EpochLog),
) -> Result<TrainResult, ExperimentError> {
    let start = std::time::Instant::now();
    if train.n == 0 || val.n == 0 {
        return Err(ExperimentError::InvalidParameter {
            name: "examples",
            value: format!("{} training / {} validation", train.n, val.n),
            valid: "at least one of each",
        });
    }
    let mut trainer = build(spec, train.dim, threads)?;
    let sigma_w2 = spec.sigma_w2()?;
    let (val_loss_init, val_accuracy_init) = evaluate(&mut trainer, spec.task, val, spec.batch)?;
    let val_loss_baseline = baseline(spec.task, train, val);
    let mut epochs = Vec::with_capacity(spec.epochs);
    let mut step = 0u64;
    let mut diverged = false;
    for epoch in 1..=spec.epochs {
        let (mut sum, mut n, mut acc) = (0.0, 0usize, 0.0);
        for s in (0..train.n).step_by(spec.batch) {
            let b = spec.batch.min(train.n - s);
            let x = &train.x[s * train.dim..(s + b) * train.dim];
            let loss =
                trainer.train_step(x, target(spec.task, x, &train.labels[s..s + b]), b, step)?;
            step += 1;
            if !loss.is_finite() {
                diverged = true;
            }
            sum += loss * b as f64;
            n += b;
            if spec.task == Task::Classification {
                let out = trainer.mlp().output();
                acc +=
                    noisyprop_engine::loss::accuracy(out, &train.labels[s..s + b], 10) * b as f64;
            }
        }
        let (val_loss, val_accuracy) = evaluate(&mut trainer, spec.task, val, spec.batch)?;
        let log = EpochLog {
            epoch,
            train_loss: sum / n.max(1) as f64,
            val_loss,
            train_accuracy: (spec.task == Task::Classification).then(|| acc / n.max(1) as f64),
            val_accuracy,
        };
        on_epoch(&log);
        epochs.push(log);
        if diverged || !val_loss.is_finite() {
            diverged = true;
            break;
        }
    }
    Ok(TrainResult {
        sigma_w2,
        val_loss_init,
        val_loss_baseline,
        val_accuracy_init,
        epochs,
        diverged,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Whether the GPU training path (`train_cuda`, `run_grid_cuda`, feature
/// `cuda`) implements `spec`: both tasks, SGD (with or without momentum) and
/// Adam, φ ∈ {relu, leaky-relu, linear, abs, tanh} and noise stacks of
/// dropout, gauss-mult and gauss-add. Needs no device.
///
/// # Errors
/// [`ExperimentError::GpuUnsupported`] naming what is not supported and what
/// is; an invalid spec.
pub fn check_cuda_support(spec: &TrainSpec) -> Result<(), ExperimentError> {
    spec.validate()?;
    let unsupported =
        |what: String, supported| Err(ExperimentError::GpuUnsupported { what, supported });
    match spec.activation()? {
        Activation::Relu
        | Activation::LeakyRelu { .. }
        | Activation::Linear
        | Activation::Abs
        | Activation::Tanh => {}
        other => {
            return unsupported(
                format!("activation {other}"),
                "the activations relu, leaky-relu, linear, abs and tanh",
            );
        }
    }
    for law in spec.noise()?.laws() {
        match law {
            NoiseLaw::None
            | NoiseLaw::Dropout { .. }
            | NoiseLaw::GaussMult { .. }
            | NoiseLaw::GaussAdd { .. } => {}
            other => {
                return unsupported(
                    format!("noise {other}"),
                    "the noise laws none, dropout, gauss-mult and gauss-add (at most 4 stages)",
                );
            }
        }
    }
    Ok(())
}

/// How GPU results name their device (the `device` field of a cell record):
/// `cuda:<device name>:<precision>`, e.g. `cuda:NVIDIA H100 80GB HBM3:tf32`.
#[cfg(feature = "cuda")]
pub fn cuda_device_label(
    dev: &noisyprop_engine::cuda::Device,
    precision: noisyprop_engine::cuda::Precision,
) -> String {
    format!("cuda:{}:{precision}", dev.name())
}

/// [`train`] on a CUDA device (feature `cuda`): the same protocol (batch
/// order, per-epoch train loss weighted by batch rows, validation before
/// training and after each epoch without noise, divergence stop) and the
/// same noise draws and initialisation (docs/engine-semantics.md), computed
/// by a [`GpuGrid`](noisyprop_engine::cuda::GpuGrid) of one network in
/// `precision`. See [`check_cuda_support`] for what the GPU path trains.
///
/// # Errors
/// Invalid or unsupported spec ([`ExperimentError::GpuUnsupported`]), data
/// that does not fit it, or a CUDA error ([`ExperimentError::Cuda`]).
#[cfg(feature = "cuda")]
pub fn train_cuda(
    spec: &TrainSpec,
    train: &Examples,
    val: &Examples,
    dev: &std::sync::Arc<noisyprop_engine::cuda::Device>,
    precision: noisyprop_engine::cuda::Precision,
    on_epoch: &mut dyn FnMut(&EpochLog),
) -> Result<TrainResult, ExperimentError> {
    check_cuda_support(spec)?;
    let data = crate::cuda_train::Uploaded::new(dev, train, val)?;
    let mut results =
        crate::cuda_train::train_networks(&[spec], train, val, &data, precision, &mut |_, e| {
            on_epoch(e);
        })?;
    results.pop().ok_or_else(|| {
        ExperimentError::Cuda(noisyprop_engine::cuda::CudaError::Config(
            "the GPU grid returned no result".into(),
        ))
    })
}
