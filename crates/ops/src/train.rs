//! `train`: one noisy MLP trained on real data, per-epoch training loss
//! (noise on) and validation loss (noise off).

use serde::{Deserialize, Serialize};

use noisyprop_experiments::record::TrainingRecord;
use noisyprop_experiments::training::{EpochLog, Preset, train};

use crate::network::noise;
use crate::recipe::TrainingParams;
use crate::{Error, Observer, Operation, form};

/// What `train` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainRequest {
    /// The data, changes to the recipe, the device.
    #[serde(flatten)]
    pub training: TrainingParams,
    /// Hidden layers.
    pub depth: usize,
    /// Noise on every layer's input, in order.
    #[serde(deserialize_with = "form::strings")]
    pub noise: Vec<String>,
    /// Start from the quick preset (small width, Adam, few epochs) instead
    /// of the paper's recipe (200 epochs).
    pub quick: bool,
}

impl Default for TrainRequest {
    fn default() -> Self {
        TrainRequest {
            training: TrainingParams::default(),
            depth: 6,
            noise: vec!["dropout:keep=0.9".into()],
            quick: false,
        }
    }
}

/// The `train` command.
pub struct Train;

impl Operation for Train {
    const NAME: &'static str = "train";
    type Request = TrainRequest;
    type Record = TrainingRecord;
    const LONG_RUNNING: bool = true;

    fn run(r: &TrainRequest, observer: &dyn Observer) -> Result<TrainingRecord, Error> {
        let device = r.training.device.device()?;
        let preset = if r.quick {
            Preset::Quick
        } else {
            Preset::Paper
        };
        let recipe = r.training.recipe.recipe(preset)?;
        let noise = noise(&r.noise)?;
        // Everything that can be checked before loading data or opening a
        // device is.
        let data = r.training.data.choice()?.prepare(&recipe)?;
        let spec = recipe.spec(&data, r.depth, noise)?;
        device.supports(&spec)?;
        let open = device.open()?;
        observer.start(spec.epochs as u64, "epochs");
        let result = train(&open, &spec, &data, &mut |_: &EpochLog| observer.tick());
        observer.finish();
        Ok(TrainingRecord::new(&spec, open.label(), &result?))
    }
}
