/*!
Flag groups shared by several subcommands, each defined once, and turning
them into library values (no math and no file formats here).
*/

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use noisyprop_ops::{DataParams, DeviceParams, RecipeParams, TrainingParams};

/// Activation, noise and bias variance of a network.
#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Activation φ: relu, leaky-relu:slope=A, linear, abs, erf, tanh, sigmoid,
    /// gelu, silu, elu[:alpha=A], selu, softplus
    #[arg(long, short = 'a', default_value = noisyprop_ops::ACTIVATION, value_name = "NAME")]
    pub activation: String,

    /// Noise on each layer's input (after φ), KIND:PARAM=VALUE, e.g.
    /// dropout:keep=0.8, dropout:drop=0.2, gauss-mult:std=0.5, gauss-add:std=1,
    /// or a framework spelling such as 'Dropout(0.2)'. Repeat to stack noises;
    /// they apply in the order given
    #[arg(long, short = 'n', value_name = "SPEC", default_value = noisyprop_ops::NO_NOISE)]
    pub noise: Vec<String>,

    /// Bias variance σ_b²
    #[arg(
        long = "sigma-b2",
        value_name = "Y",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub sigma_b2: f64,
}

/// Where σ_w² came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SigmaSource {
    /// Given with --sigma-w2.
    Given,
    /// The critical value.
    Critical,
}

/// The weight variance: given, or the critical one.
#[derive(Debug, Clone, Args)]
pub struct SigmaW2Args {
    /// Weight variance σ_w² (weights ~ N(0, σ_w²/fan_in)); default: critical
    #[arg(
        long = "sigma-w2",
        value_name = "X",
        conflicts_with = "critical",
        allow_negative_numbers = true
    )]
    pub sigma_w2: Option<f64>,

    /// Use the critical σ_w² (χ₁ = 1 at q*); the default when --sigma-w2 is absent
    #[arg(long)]
    pub critical: bool,
}

impl NetArgs {
    /// The operations' parameters.
    pub fn params(&self) -> noisyprop_ops::NetworkParams {
        noisyprop_ops::NetworkParams {
            activation: self.activation.clone(),
            noise: self.noise.clone(),
            sigma_b2: self.sigma_b2,
        }
    }
}

impl SigmaW2Args {
    /// The σ_w² given, `None` for the critical one.
    pub fn given(&self) -> Option<f64> {
        self.sigma_w2.filter(|_| !self.critical)
    }
}

/// How Gaussian expectations are integrated.
#[derive(Debug, Clone, Args)]
pub struct IntegrationArgs {
    /// Integrate by quadrature even where closed forms exist (a cross-check)
    #[arg(long)]
    pub quadrature: bool,

    /// Quadrature nodes per dimension (4..=1024, rounded up to a power of two);
    /// default: raised until n and 2n nodes agree to 1e-10
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,

    /// Quadrature rule for activations without closed forms
    #[arg(long, value_enum, default_value_t = RuleArg::Legendre)]
    pub rule: RuleArg,
}

/// Quadrature rule names.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RuleArg {
    /// Gauss–Legendre, split at the kink and in polar sectors (default)
    Legendre,
    /// Tensor Gauss–Hermite (for cross-checks; slow to converge for steep φ)
    Hermite,
}

impl IntegrationArgs {
    /// The operations' parameters.
    pub fn params(&self) -> noisyprop_ops::IntegrationParams {
        noisyprop_ops::IntegrationParams {
            quadrature: self.quadrature,
            rule: match self.rule {
                RuleArg::Legendre => noisyprop_ops::Rule::Legendre,
                RuleArg::Hermite => noisyprop_ops::Rule::Hermite,
            },
            nodes: self.nodes,
        }
    }
}

/// `--depth-multiplier`: k of the trainable-depth prediction k·ξ_c.
#[derive(Debug, Clone, Copy, Args)]
pub struct DepthMultiplier {
    /// k in the trainable-depth prediction k·ξ_c
    #[arg(
        long = "depth-multiplier",
        default_value_t = noisyprop_ops::DEPTH_MULTIPLIER,
        value_name = "K",
        allow_negative_numbers = true
    )]
    pub depth_multiplier: f64,
}

/// `--q0`: the input variance of the theory commands.
#[derive(Debug, Clone, Copy, Args)]
pub struct Q0 {
    /// Variance q⁰ of the input (treated as a pre-activation, spec 1.2)
    #[arg(
        long,
        default_value_t = noisyprop_ops::Q0,
        value_name = "Q",
        allow_negative_numbers = true
    )]
    pub q0: f64,
}

/// `--json` for commands that print one record.
#[derive(Debug, Clone, Copy, Args)]
pub struct Json {
    /// Print one JSON object instead of the table
    #[arg(long)]
    pub json: bool,
}

/// `--json` / `--csv` for commands that print rows.
#[derive(Debug, Clone, Copy, Args)]
pub struct Format {
    /// Print one JSON object instead of the table
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print CSV rows instead of the table
    #[arg(long)]
    pub csv: bool,
}

/// `--quiet` for commands with a progress bar.
#[derive(Debug, Clone, Copy, Args)]
pub struct Quiet {
    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--seed` of a command's random draws.
#[derive(Debug, Clone, Copy, Args)]
pub struct Seed {
    /// Seed of every random draw (the same seed gives the same numbers on
    /// any number of threads)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Which data, from where.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// mnist (the embedded 10 000-image subset unless --data-dir has a full
    /// copy), fashion-mnist (Debian's dataset-fashion-mnist or --data-dir),
    /// cifar10 (--data-dir)
    #[arg(long, default_value_t = DataParams::default().dataset, value_name = "NAME")]
    pub dataset: String,

    /// Directory with the dataset's files (IDX for (Fashion-)MNIST, the
    /// binary batches for CIFAR-10)
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    /// The operations' parameters.
    pub fn params(&self) -> DataParams {
        DataParams {
            dataset: self.dataset.clone(),
            data_dir: self.data_dir.clone(),
        }
    }
}

/// `--device` and `--precision`.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// Device: cpu, or cuda (an NVIDIA GPU; a binary built with --features cuda)
    #[arg(long, default_value_t = DeviceParams::default().device, value_name = "DEVICE")]
    pub device: String,

    /// GPU arithmetic of the products, with --device cuda only: fp32 (default),
    /// tf32 or bf16 (the CPU engine computes in fp32)
    #[arg(long, value_name = "P")]
    pub precision: Option<String>,
}

impl DeviceArgs {
    /// The operations' parameters.
    pub fn params(&self) -> DeviceParams {
        DeviceParams {
            device: self.device.clone(),
            precision: self.precision.clone(),
        }
    }
}

/// Flags of the training recipe shared by `train` and `trainable-depth`
/// (each overrides the preset's value).
#[derive(Debug, Clone, Args)]
pub struct RecipeArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Task: reconstruction (MSE, the paper's) or classification [default:
    /// reconstruction]
    #[arg(long, value_name = "TASK")]
    pub task: Option<String>,

    /// Hidden layer width [default: 1000; quick 256]
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,

    /// Activation φ: relu, leaky-relu:slope=A, linear, abs, erf, tanh,
    /// sigmoid, gelu, silu, elu[:alpha=A], selu, softplus [default: relu]
    #[arg(long, short = 'a', value_name = "NAME")]
    pub activation: Option<String>,

    /// Initialisation: critical, he, xavier, or a σ_w² value [default:
    /// critical]
    #[arg(long, value_name = "INIT")]
    pub init: Option<String>,

    /// Optimiser: sgd (with --momentum) or adam [default: sgd; quick adam]
    #[arg(long, value_name = "NAME")]
    pub optimizer: Option<String>,

    /// Learning rate [default: 1e-3]
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,

    /// SGD momentum, in [0, 1) [default: 0]
    #[arg(long, value_name = "M")]
    pub momentum: Option<f64>,

    /// Batch size [default: 128]
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,

    /// Epochs [default: 200; quick 10]
    #[arg(long, value_name = "E")]
    pub epochs: Option<usize>,

    /// Examples used (after the shuffle, before the 90/10 split) [default:
    /// all; quick 4000]
    #[arg(long, value_name = "N")]
    pub examples: Option<usize>,

    /// Seed of weights, noise and shuffle [default: 0]
    #[arg(long)]
    pub seed: Option<u64>,

    #[command(flatten)]
    pub device: DeviceArgs,
}

impl RecipeArgs {
    /// The data, the user's changes to the preset and the device.
    pub fn params(&self) -> TrainingParams {
        TrainingParams {
            data: self.data.params(),
            recipe: self.recipe(),
            device: self.device.params(),
        }
    }

    fn recipe(&self) -> RecipeParams {
        RecipeParams {
            task: self.task.clone(),
            width: self.width,
            activation: self.activation.clone(),
            init: self.init.clone(),
            optimizer: self.optimizer.clone(),
            lr: self.lr,
            momentum: self.momentum,
            batch: self.batch,
            epochs: self.epochs,
            examples: self.examples,
            seed: self.seed,
        }
    }
}

/// Runs operation `O` on `request`, its errors in the CLI's spelling
/// (`--sigma-w2`, not `sigma_w2`).
pub fn run_op<O: noisyprop_ops::Operation>(
    request: &O::Request,
    observer: &dyn noisyprop_ops::Observer,
) -> Result<O::Record> {
    noisyprop_ops::execute::<O>(request, observer)
        .map_err(|e| anyhow::anyhow!(e.render(noisyprop_ops::Spelling::Cli)))
}
