//! `noisyprop train` and `noisyprop trainable-depth`: training noisy MLPs on
//! real data.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use noisyprop_engine::Threads;
use noisyprop_experiments::trainable_depth::{
    GridSpec, RunOptions, report, run_grid, write_report,
};
use noisyprop_experiments::training::{EpochLog, Init, OptimizerSpec, Task, TrainSpec, train};
#[cfg(feature = "cuda")]
use noisyprop_experiments::{
    trainable_depth::run_grid_cuda,
    training::{check_cuda_support, cuda_device_label, train_cuda},
};
use noisyprop_theory::{Activation, Noise};

use crate::data::DataArgs;
use crate::output::{g, opt, print_csv, print_json};
use crate::progress::Progress;

/// The task.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TaskArg {
    /// Reproduce the input, MSE (the paper's Figure 6 task)
    Reconstruction,
    /// Predict the label, softmax cross-entropy
    Classification,
}

/// The optimiser.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OptimizerArg {
    /// SGD (with --momentum)
    Sgd,
    /// Adam
    Adam,
}

/// The device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// The CPU engine (gemm)
    Cpu,
    /// An NVIDIA GPU (binary built with --features cuda)
    Cuda,
}

/// Flags of the training recipe shared by `train` and `trainable-depth`.
#[derive(Debug, Clone, Args)]
pub struct RecipeArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Task
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,

    /// Hidden layer width
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,

    /// Activation φ
    #[arg(long, short = 'a', value_name = "NAME")]
    pub activation: Option<String>,

    /// Initialisation: critical, he, xavier, or a σ_w² value
    #[arg(long, value_name = "INIT")]
    pub init: Option<String>,

    /// Optimiser
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerArg>,

    /// Learning rate
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,

    /// SGD momentum
    #[arg(long, value_name = "M")]
    pub momentum: Option<f64>,

    /// Batch size
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,

    /// Epochs
    #[arg(long, value_name = "E")]
    pub epochs: Option<usize>,

    /// Examples used (after the shuffle, before the 90/10 split); default all
    #[arg(long, value_name = "N")]
    pub examples: Option<usize>,

    /// Seed of weights, noise and shuffle
    #[arg(long)]
    pub seed: Option<u64>,

    /// Device
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,

    /// GPU arithmetic of the products, with --device cuda only (default fp32;
    /// the CPU engine computes in fp32)
    #[arg(long, value_enum)]
    pub precision: Option<PrecisionArg>,
}

/// GPU precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// Strict fp32
    Fp32,
    /// TF32 tensor cores, fp32 accumulation
    Tf32,
    /// bf16 storage in the products, fp32 accumulation
    Bf16,
}

/// Where the training runs, as the flags ask (a GPU is opened only once the
/// spec is known to be supported there).
#[derive(Debug, Clone, Copy)]
enum Backend {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda(noisyprop_engine::cuda::Precision),
}

#[cfg(feature = "cuda")]
fn cuda_backend(p: PrecisionArg) -> Result<Backend> {
    use noisyprop_engine::cuda::Precision;
    Ok(Backend::Cuda(match p {
        PrecisionArg::Fp32 => Precision::Fp32,
        PrecisionArg::Tf32 => Precision::Tf32,
        PrecisionArg::Bf16 => Precision::Bf16,
    }))
}

#[cfg(not(feature = "cuda"))]
fn cuda_backend(_: PrecisionArg) -> Result<Backend> {
    bail!(
        "--device cuda: this binary was built without CUDA support; rebuild it with \
         `cargo build --release -p noisyprop --features cuda`"
    )
}

/// A backend ready to train: the CPU, or an opened GPU.
enum Runner {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda {
        dev: std::sync::Arc<noisyprop_engine::cuda::Device>,
        precision: noisyprop_engine::cuda::Precision,
    },
}

impl Backend {
    /// Checks that the backend trains `spec` (the GPU path's limits), then
    /// opens the device (0) after checking that CUDA can run here.
    fn open(self, spec: &TrainSpec) -> Result<Runner> {
        match self {
            Backend::Cpu => {
                let _ = spec;
                Ok(Runner::Cpu)
            }
            #[cfg(feature = "cuda")]
            Backend::Cuda(precision) => {
                check_cuda_support(spec)?;
                if let Err(reason) = noisyprop_engine::cuda::available() {
                    bail!("CUDA not available: {reason}");
                }
                let dev = noisyprop_engine::cuda::Device::new(0)?;
                Ok(Runner::Cuda { dev, precision })
            }
        }
    }
}

impl Runner {
    /// `cpu` or `cuda:<device name>:<precision>` (as in the cell records).
    fn label(&self) -> String {
        match self {
            Runner::Cpu => "cpu".into(),
            #[cfg(feature = "cuda")]
            Runner::Cuda { dev, precision } => cuda_device_label(dev, *precision),
        }
    }
}

/// Defaults a preset fills in.
#[derive(Debug, Clone)]
pub struct Recipe {
    task: Task,
    width: usize,
    activation: String,
    init: Init,
    optimizer: OptimizerSpec,
    batch: usize,
    epochs: usize,
    examples: Option<usize>,
    seed: u64,
}

impl Recipe {
    /// The paper's recipe (spec §4).
    pub fn paper() -> Self {
        Recipe {
            task: Task::Reconstruction,
            width: 1000,
            activation: "relu".into(),
            init: Init::Critical,
            optimizer: OptimizerSpec::Sgd {
                lr: 1e-3,
                momentum: 0.0,
            },
            batch: 128,
            epochs: 200,
            examples: None,
            seed: 0,
        }
    }

    /// A recipe that finishes in minutes on two cores.
    pub fn quick() -> Self {
        Recipe {
            width: 256,
            optimizer: OptimizerSpec::Adam { lr: 1e-3 },
            epochs: 10,
            examples: Some(4000),
            ..Recipe::paper()
        }
    }
}

fn parse_init(s: &str) -> Result<Init> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "critical" => Init::Critical,
        "he" => Init::He,
        "xavier" | "glorot" => Init::Xavier,
        other => match other.parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => Init::SigmaW2 { value: v },
            Ok(v) => bail!(
                "--init {v} is out of range; valid: critical, he, xavier or a σ_w² in (0, inf)"
            ),
            Err(_) => bail!("--init `{s}` is unknown; valid: critical, he, xavier or a σ_w² value"),
        },
    })
}

impl RecipeArgs {
    /// The device the flags select (checked before any data is loaded).
    fn backend(&self) -> Result<Backend> {
        match (self.device, self.precision) {
            (DeviceArg::Cpu, Some(_)) => {
                bail!("--precision applies to --device cuda only; the CPU engine computes in fp32")
            }
            (DeviceArg::Cpu, None) => Ok(Backend::Cpu),
            (DeviceArg::Cuda, p) => cuda_backend(p.unwrap_or(PrecisionArg::Fp32)),
        }
    }

    /// The spec (without depth/noise, set by the caller) and the data.
    fn spec(
        &self,
        preset: Recipe,
        depth: usize,
        noise: Vec<String>,
    ) -> Result<(TrainSpec, noisyprop_data::Prepared)> {
        let seed = self.seed.unwrap_or(preset.seed);
        let examples = self.examples.or(preset.examples);
        if examples == Some(0) {
            bail!("--examples 0 is out of range; valid range is [2, inf)");
        }
        let data = self.data.prepare(seed, 0.1, examples)?;
        let lr = self.lr;
        let optimizer = match (self.optimizer, preset.optimizer) {
            (Some(OptimizerArg::Adam), _) => OptimizerSpec::Adam {
                lr: lr.unwrap_or(1e-3),
            },
            (Some(OptimizerArg::Sgd), _) => OptimizerSpec::Sgd {
                lr: lr.unwrap_or(1e-3),
                momentum: self.momentum.unwrap_or(0.0),
            },
            (None, OptimizerSpec::Adam { lr: l }) => OptimizerSpec::Adam {
                lr: lr.unwrap_or(l),
            },
            (None, OptimizerSpec::Sgd { lr: l, momentum }) => OptimizerSpec::Sgd {
                lr: lr.unwrap_or(l),
                momentum: self.momentum.unwrap_or(momentum),
            },
        };
        if let Some(m) = self.momentum
            && !(0.0..1.0).contains(&m)
        {
            bail!("--momentum {m} is out of range; valid range is [0, 1)");
        }
        let activation: Activation = self
            .activation
            .as_deref()
            .unwrap_or(&preset.activation)
            .parse()?;
        let spec = TrainSpec {
            dataset: self.data.dataset.clone(),
            data_source: data.source.clone(),
            examples: data.train.n + data.val.n,
            val_fraction: 0.1,
            task: match self.task {
                Some(TaskArg::Reconstruction) => Task::Reconstruction,
                Some(TaskArg::Classification) => Task::Classification,
                None => preset.task,
            },
            depth,
            width: self.width.unwrap_or(preset.width),
            activation: activation.spec(),
            noise,
            init: match &self.init {
                Some(s) => parse_init(s)?,
                None => preset.init,
            },
            optimizer,
            batch: self.batch.unwrap_or(preset.batch),
            epochs: self.epochs.unwrap_or(preset.epochs),
            seed,
        };
        Ok((spec, data))
    }
}

/// Train one noisy MLP on real data: per-epoch training loss (noise on) and
/// validation loss (noise off), as a table, JSON or CSV
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub recipe: RecipeArgs,

    /// Hidden layers
    #[arg(long, short = 'L', default_value_t = 6, value_name = "L")]
    pub depth: usize,

    /// Noise on every layer's input (repeatable)
    #[arg(
        long,
        short = 'n',
        default_value = "dropout:keep=0.9",
        value_name = "SPEC"
    )]
    pub noise: Vec<String>,

    /// Start from the quick preset (small width, Adam, few epochs) instead of
    /// the paper's recipe
    #[arg(long)]
    pub quick: bool,

    /// Print JSON (per-epoch arrays `train_loss`, `val_loss`)
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print CSV (one row per epoch)
    #[arg(long)]
    pub csv: bool,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Serialize)]
struct TrainRecord<'a> {
    #[serde(flatten)]
    spec: &'a TrainSpec,
    sigma_w2: f64,
    device: String,
    val_loss_init: f64,
    val_loss_baseline: f64,
    train_loss: Vec<f64>,
    val_loss: Vec<f64>,
    train_accuracy: Option<Vec<f64>>,
    val_accuracy: Option<Vec<f64>>,
    diverged: bool,
    seconds: f64,
}

pub fn run_train(args: &TrainArgs, out: &mut impl Write) -> Result<()> {
    let backend = args.recipe.backend()?;
    let noise = Noise::parse_all(&args.noise)?;
    let canonical: Vec<String> = noise.laws().map(|l| l.to_string()).collect();
    let preset = if args.quick {
        Recipe::quick()
    } else {
        Recipe::paper()
    };
    let (spec, data) = args.recipe.spec(
        preset,
        args.depth,
        if canonical.is_empty() {
            vec!["none".into()]
        } else {
            canonical
        },
    )?;
    let runner = backend.open(&spec)?;
    let progress = Progress::new(spec.epochs as u64, "epochs", args.quiet);
    let human = !args.json && !args.csv;
    if human {
        writeln!(
            out,
            "training {} on {} ({} train / {} validation images), depth {}, width {}, {}, noise {}",
            match spec.task {
                Task::Reconstruction => "reconstruction",
                Task::Classification => "classification",
            },
            spec.dataset,
            data.train.n,
            data.val.n,
            spec.depth,
            spec.width,
            spec.activation,
            spec.noise.join(", then ")
        )?;
    }
    let mut lines: Vec<EpochLog> = Vec::new();
    let mut on_epoch = |e: &EpochLog| {
        progress.inc();
        lines.push(e.clone());
    };
    let result = match &runner {
        Runner::Cpu => train(
            &spec,
            &data.train,
            &data.val,
            Threads::Many(rayon_threads()),
            &mut on_epoch,
        )?,
        #[cfg(feature = "cuda")]
        Runner::Cuda { dev, precision } => {
            if human {
                writeln!(out, "on {}", runner.label())?;
            }
            train_cuda(
                &spec,
                &data.train,
                &data.val,
                dev,
                *precision,
                &mut on_epoch,
            )?
        }
    };
    progress.finish();
    if args.csv {
        return print_csv(out, &result.epochs);
    }
    let classification = spec.task == Task::Classification;
    if args.json {
        let rec = TrainRecord {
            spec: &spec,
            sigma_w2: result.sigma_w2,
            device: runner.label(),
            val_loss_init: result.val_loss_init,
            val_loss_baseline: result.val_loss_baseline,
            train_loss: result.epochs.iter().map(|e| e.train_loss).collect(),
            val_loss: result.epochs.iter().map(|e| e.val_loss).collect(),
            train_accuracy: classification.then(|| {
                result
                    .epochs
                    .iter()
                    .filter_map(|e| e.train_accuracy)
                    .collect()
            }),
            val_accuracy: classification.then(|| {
                result
                    .epochs
                    .iter()
                    .filter_map(|e| e.val_accuracy)
                    .collect()
            }),
            diverged: result.diverged,
            seconds: result.seconds,
        };
        return print_json(out, "training", &rec);
    }
    writeln!(
        out,
        "σ_w² = {}, validation loss at initialisation {}, input-independent baseline {}",
        g(result.sigma_w2),
        g(result.val_loss_init),
        g(result.val_loss_baseline)
    )?;
    writeln!(
        out,
        "{:>5}  {:>12}  {:>12}{}",
        "epoch",
        "train loss",
        "val loss",
        if classification {
            "     val accuracy"
        } else {
            ""
        }
    )?;
    for e in &result.epochs {
        let acc = e
            .val_accuracy
            .map(|a| format!("  {:>15}", g(a)))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>5}  {:>12}  {:>12}{acc}",
            e.epoch,
            g(e.train_loss),
            g(e.val_loss)
        )?;
    }
    if result.diverged {
        writeln!(out, "the loss became non-finite; training stopped")?;
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Preset names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// 4000 MNIST images, width 256, depths 2–23, six keep rates, Adam, 10 epochs: under a minute on 2 cores
    Quick,
    /// The paper's recipe (spec §4): width 1000, 10 depths × 10 keep rates, SGD lr 1e-3, 200 epochs
    Paper,
}

/// The Figure 6(b)/(c) grid: networks at critical initialisation over dropout
/// keep probability × depth; each finished cell is stored as one file named
/// by a hash of its parameters, and a rerun skips finished cells. Writes loss
/// heat maps with the 6ξ_c curve, CSV, and a boundary summary
#[derive(Debug, Args)]
pub struct TrainableDepthArgs {
    /// Preset recipe; every flag below overrides it
    #[arg(long, value_enum, default_value_t = Preset::Quick)]
    pub preset: Preset,

    #[command(flatten)]
    pub recipe: RecipeArgs,

    /// Keep probabilities, comma separated
    #[arg(long, value_delimiter = ',', value_name = "P")]
    pub keeps: Option<Vec<f64>>,

    /// Depths, comma separated
    #[arg(long, value_delimiter = ',', value_name = "L")]
    pub depths: Option<Vec<usize>>,

    /// k of the predicted trainable depth k·ξ_c
    #[arg(long = "depth-multiplier", default_value_t = 6.0, value_name = "K")]
    pub depth_multiplier: f64,

    /// Directory of the cell files and the report
    #[arg(long, default_value = "trainable-depth", value_name = "DIR")]
    pub store: PathBuf,

    /// Run only cells i, i+n, i+2n, … (e.g. one Slurm array task)
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run_trainable_depth(args: &TrainableDepthArgs, out: &mut impl Write) -> Result<()> {
    let backend = args.recipe.backend()?;
    let (preset, keeps, depths) = match args.preset {
        Preset::Quick => (
            Recipe::quick(),
            vec![0.1, 0.3, 0.5, 0.7, 0.9, 1.0],
            vec![2, 6, 10, 14, 18, 23],
        ),
        Preset::Paper => (
            Recipe::paper(),
            (1..=10).map(|i| i as f64 / 10.0).collect(),
            vec![2, 6, 10, 14, 18, 23, 27, 31, 35, 40],
        ),
    };
    let shard = match &args.shard {
        None => None,
        Some(s) => {
            let parsed = s.split_once('/').and_then(|(a, b)| {
                Some((
                    a.trim().parse::<usize>().ok()?,
                    b.trim().parse::<usize>().ok()?,
                ))
            });
            match parsed {
                Some((i, n)) if n > 0 && i < n => Some((i, n)),
                _ => bail!("--shard `{s}` is invalid; it should be I/N with 0 ≤ I < N"),
            }
        }
    };
    let (base, data) = args.recipe.spec(preset, 0, vec!["none".into()])?;
    let grid = GridSpec {
        base,
        keeps: args.keeps.clone().unwrap_or(keeps),
        depths: args.depths.clone().unwrap_or(depths),
        depth_multiplier: args.depth_multiplier,
        store: args.store.clone(),
    };
    grid.validate()?;
    let total = grid.keeps.len() * grid.depths.len();
    let opts = RunOptions {
        shard,
        max_new_cells: None,
    };
    let runner = backend.open(&grid.base)?;
    let progress = Progress::new(total as u64, "cells", args.quiet);
    let run = match &runner {
        Runner::Cpu => run_grid(&grid, &data, opts, &|_| progress.inc())?,
        #[cfg(feature = "cuda")]
        Runner::Cuda { dev, precision } => {
            run_grid_cuda(&grid, &data, opts, dev, *precision, &|_| progress.inc())?
        }
    };
    progress.finish();
    let rep = report(&grid);
    let files = write_report(&grid, &rep)?;
    if args.json {
        #[derive(Serialize)]
        struct Rec<'a> {
            run: &'a noisyprop_experiments::trainable_depth::GridRun,
            report: &'a noisyprop_experiments::trainable_depth::GridReport,
            files: &'a [PathBuf],
        }
        return print_json(
            out,
            "trainable_depth",
            &Rec {
                run: &run,
                report: &rep,
                files: &files,
            },
        );
    }
    writeln!(
        out,
        "trainable depth: {} cells ({} computed now, {} already done{}), store {}",
        run.total,
        run.computed,
        run.skipped,
        if run.in_shard < run.total {
            format!(", shard of {}", run.in_shard)
        } else {
            String::new()
        },
        grid.store.display()
    )?;
    if !matches!(runner, Runner::Cpu) {
        writeln!(out, "on {}", runner.label())?;
    }
    writeln!(
        out,
        "{:>6}  {:>6}  {:>10}  {:>10}  {:>10}  {:>8}  {:>10}",
        "keep", "depth", "train", "val", "baseline", "trained", "6ξ_c"
    )?;
    for c in &rep.cells {
        writeln!(
            out,
            "{:>6}  {:>6}  {:>10}  {:>10}  {:>10}  {:>8}  {:>10}",
            g(c.keep),
            c.depth,
            g(c.train_loss),
            g(c.val_loss),
            g(c.val_loss_baseline),
            c.trained.map_or("-", |t| if t { "yes" } else { "no" }),
            opt(c.predicted_depth, "∞")
        )?;
    }
    writeln!(
        out,
        "boundary: {} of {} finished cells agree with depth < {}ξ_c ({} trained as predicted, {} untrainable as predicted, {} trained beyond, {} failed within)",
        rep.trained_and_predicted + rep.neither,
        rep.done,
        g(grid.depth_multiplier),
        rep.trained_and_predicted,
        rep.neither,
        rep.trained_not_predicted,
        rep.predicted_not_trained
    )?;
    for f in &files {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(())
}
