//! The parameters of the commands that train or load real data: which
//! data, the training recipe's overrides, and the device; each read once.

use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::training::{
    DataChoice, Device, DeviceKind, OptimizerKind, Preset, Recipe, RecipeOverrides,
};

use noisyprop_engine::gpu_support::Precision;

use crate::{Error, Hint};

/// `text` read as a `T`, or an error naming `param`.
///
/// # Errors
/// `T`'s own error (a library error naming the parameter becomes the
/// request's), else [`crate::ErrorKind::Invalid`].
pub(crate) fn parse<T>(param: &str, text: &str) -> Result<T, Error>
where
    T: FromStr,
    T::Err: Into<Error>,
{
    text.parse().map_err(Into::into).map_err(|e: Error| {
        if e.param().is_some() {
            e
        } else {
            Error::invalid(param, e.render(crate::Spelling::Python))
        }
    })
}

/// [`parse`] of an optional text.
pub(crate) fn parse_opt<T>(param: &str, text: &Option<String>) -> Result<Option<T>, Error>
where
    T: FromStr,
    T::Err: Into<Error>,
{
    text.as_deref().map(|t| parse(param, t)).transpose()
}

/// Which data, from where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataParams {
    /// mnist (the embedded 10 000-image subset unless `data_dir` has a full
    /// copy), fashion-mnist (Debian's dataset-fashion-mnist or `data_dir`),
    /// cifar10 (`data_dir`).
    pub dataset: String,
    /// A directory with the dataset's files.
    pub data_dir: Option<PathBuf>,
}

impl Default for DataParams {
    fn default() -> Self {
        DataParams {
            dataset: "mnist".into(),
            data_dir: None,
        }
    }
}

impl DataParams {
    /// The library's data choice.
    ///
    /// # Errors
    /// An unknown dataset.
    pub fn choice(&self) -> Result<DataChoice, Error> {
        Ok(DataChoice {
            name: parse("dataset", &self.dataset)?,
            dir: self.data_dir.clone(),
        })
    }
}

/// The device the work runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceParams {
    /// cpu, or cuda (an NVIDIA GPU; a build with the `cuda` feature).
    pub device: String,
    /// GPU arithmetic of the products, with `device = cuda` only: fp32
    /// (default), tf32 or bf16.
    pub precision: Option<String>,
}

impl Default for DeviceParams {
    fn default() -> Self {
        DeviceParams {
            device: "cpu".into(),
            precision: None,
        }
    }
}

impl DeviceParams {
    /// The device (checked before any data is loaded).
    ///
    /// # Errors
    /// An unknown device or precision, a precision on the CPU, CUDA in a
    /// build without it.
    pub fn device(&self) -> Result<Device, Error> {
        let kind: DeviceKind = parse("device", &self.device)?;
        let precision: Option<Precision> = parse_opt("precision", &self.precision)?;
        if let (DeviceKind::Cpu, Some(p)) = (kind, precision) {
            return Err(Error::invalid(
                "precision",
                format!("`{p}` applies to the GPU only; the CPU engine computes in fp32"),
            )
            .with_hint(Hint::PrecisionNeedsCuda));
        }
        Ok(Device::new(kind, precision)?)
    }
}

/// What training on real data needs: the data, changes to the preset's
/// recipe, the device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingParams {
    /// The data.
    #[serde(flatten)]
    pub data: DataParams,
    /// Changes to the preset's recipe.
    #[serde(flatten)]
    pub recipe: RecipeParams,
    /// The device.
    #[serde(flatten)]
    pub device: DeviceParams,
}

/// Changes to a preset's training recipe (`None`: the preset's value).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecipeParams {
    /// reconstruction (MSE, the paper's) or classification.
    pub task: Option<String>,
    /// Hidden layer width.
    pub width: Option<usize>,
    /// φ.
    pub activation: Option<String>,
    /// critical, he, xavier, or a σ_w² value.
    #[serde(deserialize_with = "crate::form::text_or_number")]
    pub init: Option<String>,
    /// sgd or adam.
    pub optimizer: Option<String>,
    /// Learning rate.
    pub lr: Option<f64>,
    /// SGD momentum, in [0, 1).
    pub momentum: Option<f64>,
    /// Batch size.
    pub batch: Option<usize>,
    /// Epochs.
    pub epochs: Option<usize>,
    /// Examples used (after the shuffle, before the 90/10 split).
    pub examples: Option<usize>,
    /// Seed of weights, noise and shuffle.
    pub seed: Option<u64>,
}

impl RecipeParams {
    /// `preset`'s recipe with these changes.
    ///
    /// # Errors
    /// A value that cannot be read or is out of range.
    pub fn recipe(&self, preset: Preset) -> Result<Recipe, Error> {
        let optimizer = match self.optimizer.as_deref().map(str::to_ascii_lowercase) {
            None => None,
            Some(o) if o == "sgd" => Some(OptimizerKind::Sgd),
            Some(o) if o == "adam" => Some(OptimizerKind::Adam),
            Some(_) => {
                return Err(Error::out_of_range(
                    "optimizer",
                    format!("`{}`", self.optimizer.as_deref().unwrap_or_default()),
                    "sgd or adam",
                ));
            }
        };
        let overrides = RecipeOverrides {
            task: parse_opt("task", &self.task)?,
            width: self.width,
            activation: parse_opt("activation", &self.activation)?,
            init: parse_opt("init", &self.init)?,
            optimizer,
            lr: self.lr,
            momentum: self.momentum,
            batch: self.batch,
            epochs: self.epochs,
            examples: self.examples,
            seed: self.seed,
        };
        Ok(preset.recipe().with(&overrides)?)
    }
}
