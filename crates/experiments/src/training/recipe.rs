//! Training recipes: the paper's (spec §4) and a quick one, the user's
//! overrides on top, and the data they train on. A command turns flags into a
//! [`RecipeOverrides`] and calls [`Recipe::with`]; everything else is here.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use noisyprop_data::{DatasetName, PrepareOptions, Prepared, Split, load, prepare_with};
use noisyprop_theory::{Activation, Noise};

use super::spec::{Init, OptimizerSpec, Task, TrainSpec};
use crate::ExperimentError;
use crate::paper::{FIG6_DEPTHS, FIG6_KEEPS, QUICK_DEPTHS, QUICK_KEEPS, VAL_FRACTION};

/// A named recipe with its trainable-depth grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// 4000 MNIST images, width 256, Adam lr 1e-3, 10 epochs; depths 2–23 × six
    /// keep rates: about a minute on 2 cores.
    Quick,
    /// The paper's recipe (spec §4): width 1000, SGD lr 1e-3, batch 128,
    /// 200 epochs; 10 depths × 10 keep rates.
    Paper,
    /// For tests of the machinery (sharding, resuming, reports): 400 images,
    /// width 16, one epoch, 2 keeps × 2 depths; seconds, and its results mean
    /// nothing.
    Smoke,
}

impl Preset {
    /// The recipe.
    pub fn recipe(self) -> Recipe {
        match self {
            Preset::Quick => Recipe::quick(),
            Preset::Paper => Recipe::paper(),
            Preset::Smoke => Recipe {
                width: 16,
                epochs: 1,
                examples: Some(400),
                ..Recipe::quick()
            },
        }
    }

    /// Keep probabilities of its trainable-depth grid.
    pub fn keeps(self) -> Vec<f64> {
        match self {
            Preset::Quick => QUICK_KEEPS.to_vec(),
            Preset::Paper => FIG6_KEEPS.to_vec(),
            Preset::Smoke => vec![0.5, 1.0],
        }
    }

    /// Depths of its trainable-depth grid.
    pub fn depths(self) -> Vec<usize> {
        match self {
            Preset::Quick => QUICK_DEPTHS.to_vec(),
            Preset::Paper => FIG6_DEPTHS.to_vec(),
            Preset::Smoke => vec![1, 3],
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::Quick => "quick",
            Preset::Paper => "paper",
            Preset::Smoke => "smoke",
        })
    }
}

impl FromStr for Preset {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Self, ExperimentError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "quick" => Ok(Preset::Quick),
            "paper" => Ok(Preset::Paper),
            "smoke" => Ok(Preset::Smoke),
            _ => Err(ExperimentError::invalid(
                "preset",
                format!("`{s}`"),
                "quick, paper or smoke",
            )),
        }
    }
}

/// Everything of a training run but the network's depth and noise.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// Task.
    pub task: Task,
    /// Hidden width.
    pub width: usize,
    /// φ.
    pub activation: Activation,
    /// Initialisation.
    pub init: Init,
    /// Optimiser.
    pub optimizer: OptimizerSpec,
    /// Batch size.
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Examples used (after the shuffle, before the split); `None` = all.
    pub examples: Option<usize>,
    /// Seed of weights, noise and shuffle.
    pub seed: u64,
}

/// Which optimiser a user asked for (its settings come from the recipe or
/// the other overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerKind {
    /// SGD (with momentum).
    Sgd,
    /// Adam.
    Adam,
}

/// A user's changes to a recipe; `None` keeps the recipe's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipeOverrides {
    /// Task.
    pub task: Option<Task>,
    /// Hidden width.
    pub width: Option<usize>,
    /// φ.
    pub activation: Option<Activation>,
    /// Initialisation.
    pub init: Option<Init>,
    /// Optimiser kind.
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate.
    pub lr: Option<f64>,
    /// SGD momentum.
    pub momentum: Option<f64>,
    /// Batch size.
    pub batch: Option<usize>,
    /// Epochs.
    pub epochs: Option<usize>,
    /// Examples.
    pub examples: Option<usize>,
    /// Seed.
    pub seed: Option<u64>,
}

impl Recipe {
    /// The paper's recipe (spec §4): reconstruction, width 1000, ReLU at
    /// critical initialisation, plain SGD lr 1e-3, batch 128, 200 epochs, all
    /// examples, seed 0.
    pub fn paper() -> Self {
        Recipe {
            task: Task::Reconstruction,
            width: 1000,
            activation: Activation::Relu,
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

    /// A recipe that finishes in minutes on two cores: width 256, Adam lr
    /// 1e-3, 10 epochs, 4000 examples.
    pub fn quick() -> Self {
        Recipe {
            width: 256,
            optimizer: OptimizerSpec::adam(1e-3),
            epochs: 10,
            examples: Some(4000),
            ..Recipe::paper()
        }
    }

    /// The recipe with the user's overrides. Choosing the optimiser without a
    /// learning rate gives it lr 1e-3; `lr`/`momentum` alone change the
    /// recipe's optimiser.
    ///
    /// # Errors
    /// `momentum` outside [0, 1), `momentum` with Adam, `examples` < 10.
    pub fn with(&self, o: &RecipeOverrides) -> Result<Recipe, ExperimentError> {
        if let Some(m) = o.momentum
            && !(0.0..1.0).contains(&m)
        {
            return Err(ExperimentError::invalid("momentum", m, "[0, 1)"));
        }
        if let Some(n) = o.examples
            && n < MIN_EXAMPLES
        {
            return Err(ExperimentError::invalid(
                "examples",
                n,
                "[10, inf) (a tenth is held out for validation)",
            ));
        }
        let optimizer = match (o.optimizer, self.optimizer) {
            (Some(OptimizerKind::Adam), _) | (None, OptimizerSpec::Adam { .. })
                if o.momentum.is_some() =>
            {
                return Err(ExperimentError::invalid(
                    "momentum",
                    o.momentum.unwrap_or_default(),
                    "SGD only (Adam has no momentum setting)",
                ));
            }
            (Some(OptimizerKind::Adam), _) => OptimizerSpec::adam(o.lr.unwrap_or(1e-3)),
            (Some(OptimizerKind::Sgd), _) => OptimizerSpec::Sgd {
                lr: o.lr.unwrap_or(1e-3),
                momentum: o.momentum.unwrap_or(0.0),
            },
            (None, adam @ OptimizerSpec::Adam { lr, .. }) => adam.with_lr(o.lr.unwrap_or(lr)),
            (None, OptimizerSpec::Sgd { lr, momentum }) => OptimizerSpec::Sgd {
                lr: o.lr.unwrap_or(lr),
                momentum: o.momentum.unwrap_or(momentum),
            },
        };
        Ok(Recipe {
            task: o.task.unwrap_or(self.task),
            width: o.width.unwrap_or(self.width),
            activation: o.activation.unwrap_or(self.activation),
            init: o.init.unwrap_or(self.init),
            optimizer,
            batch: o.batch.unwrap_or(self.batch),
            epochs: o.epochs.unwrap_or(self.epochs),
            examples: o.examples.or(self.examples),
            seed: o.seed.unwrap_or(self.seed),
        })
    }

    /// The spec of one run of this recipe on `data` (prepared by
    /// [`DataChoice::prepare`] with this recipe), validated.
    ///
    /// # Errors
    /// See [`TrainSpec::validate`].
    pub fn spec(
        &self,
        data: &Prepared,
        depth: usize,
        noise: Noise,
    ) -> Result<TrainSpec, ExperimentError> {
        let spec = TrainSpec {
            dataset: data.name.to_string(),
            data_source: data.source.clone(),
            examples: data.train.n + data.val.n,
            val_fraction: VAL_FRACTION,
            task: self.task,
            depth,
            width: self.width,
            activation: self.activation,
            noise,
            init: self.init,
            optimizer: self.optimizer,
            batch: self.batch,
            epochs: self.epochs,
            seed: self.seed,
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Fewest examples a run takes: with [`VAL_FRACTION`] = 0.1 held out, at
/// least one validation example.
pub const MIN_EXAMPLES: usize = 10;

/// Which data set, from where.
#[derive(Debug, Clone, PartialEq)]
pub struct DataChoice {
    /// The data set.
    pub name: DatasetName,
    /// A directory with its files; `None`: the embedded MNIST subset, or where
    /// Debian installs Fashion-MNIST.
    pub dir: Option<PathBuf>,
}

impl DataChoice {
    /// Loads the training split, shuffles it once with `recipe.seed`, keeps
    /// `recipe.examples` and holds out [`VAL_FRACTION`] for validation.
    ///
    /// # Errors
    /// Missing, corrupt or truncated files (named); too few examples.
    pub fn prepare(&self, recipe: &Recipe) -> Result<Prepared, ExperimentError> {
        let data = self.load(recipe.seed, VAL_FRACTION, recipe.examples)?;
        if data.train.n == 0 || data.val.n == 0 {
            return Err(ExperimentError::invalid(
                "examples",
                format!("{} training / {} validation", data.train.n, data.val.n),
                "at least one of each",
            ));
        }
        Ok(data)
    }

    /// Loads the training split, shuffles it once with `seed`, keeps at most
    /// `max_examples` and holds out `val_fraction` (0: every example is in
    /// `train`).
    ///
    /// # Errors
    /// Missing, corrupt or truncated files (named); a fraction outside [0, 1).
    pub fn load(
        &self,
        seed: u64,
        val_fraction: f64,
        max_examples: Option<usize>,
    ) -> Result<Prepared, ExperimentError> {
        let raw = load(self.name, self.dir.as_deref(), Split::Train)?;
        Ok(prepare_with(
            &raw,
            &PrepareOptions {
                seed,
                val_fraction,
                max_examples,
            },
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_change_only_what_they_name() {
        let q = Recipe::quick();
        assert_eq!(q.with(&RecipeOverrides::default()).unwrap(), q);
        let r = q
            .with(&RecipeOverrides {
                lr: Some(0.01),
                width: Some(64),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.optimizer, OptimizerSpec::adam(0.01));
        assert_eq!(r.width, 64);
        assert_eq!(r.epochs, q.epochs);
        let s = Recipe::paper()
            .with(&RecipeOverrides {
                momentum: Some(0.9),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            s.optimizer,
            OptimizerSpec::Sgd {
                lr: 1e-3,
                momentum: 0.9
            }
        );
        let e = q
            .with(&RecipeOverrides {
                momentum: Some(0.9),
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("momentum") && e.contains("Adam"), "{e}");
        let e = q
            .with(&RecipeOverrides {
                momentum: Some(1.0),
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("momentum = 1") && e.contains("[0, 1)"), "{e}");
        assert!("PAPER".parse::<Preset>().unwrap() == Preset::Paper);
        assert!("huge".parse::<Preset>().is_err());
        assert_eq!(
            Preset::Paper.keeps().len() * Preset::Paper.depths().len(),
            100
        );
    }
}
