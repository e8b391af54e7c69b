//! What a training run is: [`TrainSpec`] and its parts. The spec is also the
//! identity of a grid cell: its JSON (fixed field order; activation and noise
//! as their canonical spec strings) is what the cell key hashes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use noisyprop_theory::{Activation, Family, Integration, Network, Noise, fmt_short};

use crate::ExperimentError;

/// Deepest network a run accepts (hidden layers).
pub const MAX_DEPTH: usize = 10_000;

/// What the network learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Reproduce the input (MSE), the paper's Figure 6 task.
    Reconstruction,
    /// Predict the label (softmax cross-entropy, accuracy).
    Classification,
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Reconstruction => "reconstruction",
            Task::Classification => "classification",
        })
    }
}

impl FromStr for Task {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Self, ExperimentError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reconstruction" => Ok(Task::Reconstruction),
            "classification" => Ok(Task::Classification),
            _ => Err(ExperimentError::invalid(
                "task",
                format!("`{s}`"),
                "reconstruction or classification",
            )),
        }
    }
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

impl FromStr for Init {
    type Err = ExperimentError;

    /// `critical`, `he`, `xavier` (or `glorot`), or a σ_w² value in (0, ∞).
    fn from_str(s: &str) -> Result<Self, ExperimentError> {
        const VALID: &str = "critical, he, xavier or a σ_w² in (0, inf)";
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Init::Critical,
            "he" => Init::He,
            "xavier" | "glorot" => Init::Xavier,
            other => match other.parse::<f64>() {
                Ok(v) if v > 0.0 && v.is_finite() => Init::SigmaW2 { value: v },
                Ok(v) => return Err(ExperimentError::invalid("init", v, VALID)),
                Err(_) => return Err(ExperimentError::invalid("init", format!("`{s}`"), VALID)),
            },
        })
    }
}

impl fmt::Display for Init {
    /// `critical σ_w²`, `He σ_w² = 2`, `Xavier σ_w² = 1` or `σ_w² = v`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Init::Critical => write!(f, "critical σ_w²"),
            Init::He => write!(f, "He σ_w² = 2"),
            Init::Xavier => write!(f, "Xavier σ_w² = 1"),
            Init::SigmaW2 { value } => write!(f, "σ_w² = {}", fmt_short(value)),
        }
    }
}

/// The optimiser of a run: the engine's description, the one the CPU trainer builds
/// and the GPU grid runs. Its JSON (`{"kind":"sgd","lr":…,"momentum":…}`,
/// `{"kind":"adam","lr":…}`; Adam's β₁, β₂, ε only where not the defaults) is part of
/// the cell key.
pub use noisyprop_engine::OptimizerConfig as OptimizerSpec;

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
    /// φ (serialised as its canonical spec, e.g. `"relu"`).
    pub activation: Activation,
    /// Noise on every layer input (serialised as the list of its laws'
    /// canonical specs, `["none"]` without noise).
    pub noise: Noise,
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
    /// The network the spec initialises (biases zero): σ_w² from
    /// [`TrainSpec::init`], the critical one resolved by
    /// [`Family::critical`](noisyprop_theory::Family::critical).
    ///
    /// # Errors
    /// [`noisyprop_theory::TheoryError::NoCriticalPoint`] for `--init critical`
    /// without a critical point; parameters out of range.
    pub fn network(&self) -> Result<Network, ExperimentError> {
        let noise = self.noise.clone();
        Ok(match self.init {
            Init::He => Network::new(self.activation, noise, 2.0, 0.0)?,
            Init::Xavier => Network::new(self.activation, noise, 1.0, 0.0)?,
            Init::SigmaW2 { value } => Network::new(self.activation, noise, value, 0.0)?,
            Init::Critical => {
                Family::new(self.activation, noise, 0.0)?
                    .critical(Integration::default())?
                    .0
            }
        })
    }

    /// Checks the sizes and the optimiser.
    ///
    /// # Errors
    /// [`ExperimentError::InvalidParameter`] naming the value and its range.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        if !(1..=MAX_DEPTH).contains(&self.depth) {
            return Err(ExperimentError::invalid("depth", self.depth, "[1, 10000]"));
        }
        if self.width == 0 {
            return Err(ExperimentError::invalid("width", self.width, "[1, inf)"));
        }
        if self.batch == 0 {
            return Err(ExperimentError::invalid("batch", self.batch, "[1, inf)"));
        }
        if self.epochs == 0 {
            return Err(ExperimentError::invalid("epochs", self.epochs, "[1, inf)"));
        }
        let lr = self.optimizer.lr();
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(ExperimentError::invalid("lr", lr, "(0, inf)"));
        }
        if let OptimizerSpec::Sgd { momentum, .. } = self.optimizer
            && !(0.0..1.0).contains(&momentum)
        {
            return Err(ExperimentError::invalid("momentum", momentum, "[0, 1)"));
        }
        // Adam's β₁, β₂, ε (read from a record: the recipes use the defaults).
        self.optimizer.validate()?;
        Ok(())
    }

    /// Whether two runs can train side by side on the same batches (one
    /// GPU grid): everything but seed, noise and initialisation equal.
    pub fn same_shape(&self, other: &TrainSpec) -> bool {
        self.task == other.task
            && self.depth == other.depth
            && self.width == other.width
            && self.activation == other.activation
            && self.optimizer == other.optimizer
            && self.batch == other.batch
            && self.epochs == other.epochs
    }
}

#[cfg(test)]
mod tests {
    use super::OptimizerSpec;

    /// The optimiser's JSON is part of every cell key: the form of the records written
    /// before the engine's description replaced the experiments' own type.
    #[test]
    fn optimizer_json_keeps_the_recorded_form() {
        let cases = [
            (
                OptimizerSpec::sgd(1e-3),
                r#"{"kind":"sgd","lr":0.001,"momentum":0.0}"#,
            ),
            (
                OptimizerSpec::Sgd {
                    lr: 0.05,
                    momentum: 0.9,
                },
                r#"{"kind":"sgd","lr":0.05,"momentum":0.9}"#,
            ),
            (OptimizerSpec::adam(1e-3), r#"{"kind":"adam","lr":0.001}"#),
            (
                OptimizerSpec::Adam {
                    lr: 1e-3,
                    beta1: 0.8,
                    beta2: 0.999,
                    eps: 1e-8,
                },
                r#"{"kind":"adam","lr":0.001,"beta1":0.8}"#,
            ),
        ];
        for (spec, json) in cases {
            assert_eq!(serde_json::to_string(&spec).unwrap(), json);
            assert_eq!(serde_json::from_str::<OptimizerSpec>(json).unwrap(), spec);
        }
    }
}
