//! Training noisy MLPs on real data (spec §4): the paper's reconstruction
//! (MSE autoencoding) task or classification, with per-epoch train and
//! validation losses, on the CPU engine or a CUDA GPU through one protocol.
//!
//! | module | contents |
//! |---|---|
//! | [`spec`] | [`TrainSpec`] (a run, a grid cell's identity), [`Task`], [`Init`], [`OptimizerSpec`] |
//! | [`recipe`] | [`Recipe`] presets (paper, quick), [`RecipeOverrides`], [`DataChoice`] |
//! | [`protocol`] | the protocol, written once over the [`Backend`] trait; [`TrainResult`], [`EpochLog`], [`baseline`] |
//! | [`cpu`] | the CPU engine as a backend |
//! | `cuda` | the GPU grid as a backend (feature `cuda`) |
//! | [`device`] | [`Device`] (`--device`, `--precision`), its one [`Device::supports`] answer, [`Session`] |
//!
//! One run, start to end:
//!
//! ```no_run
//! # use noisyprop_experiments::training::*;
//! # use noisyprop_engine::Threads;
//! # fn main() -> Result<(), noisyprop_experiments::ExperimentError> {
//! let recipe = Recipe::quick();
//! let data = DataChoice { name: "mnist".parse()?, dir: None }.prepare(&recipe)?;
//! let spec = recipe.spec(&data, 6, "dropout:keep=0.8".parse()?)?;
//! let device = Device::Cpu;
//! device.supports(&spec)?;
//! let open = device.open()?;
//! let result = train(&open, &spec, &data, &mut |log| {
//!     println!("{log:?}");
//!     true // go on (false stops the run: ExperimentError::Cancelled)
//! })?;
//! println!("σ_w² = {}, final validation loss {}", result.sigma_w2, result.final_val_loss());
//! # Ok(()) }
//! ```

pub mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
pub mod device;
pub mod protocol;
pub mod recipe;
pub mod spec;

pub use device::{Device, DeviceKind, OpenDevice, Session};
pub use protocol::{Backend, EpochLog, Metrics, StepMetrics, TrainResult, Which, baseline};
pub use recipe::{DataChoice, OptimizerKind, Preset, Recipe, RecipeOverrides};
pub use spec::{Init, MAX_DEPTH, OptimizerSpec, Task, TrainSpec};

use noisyprop_data::Prepared;
use noisyprop_engine::Threads;

use crate::ExperimentError;

/// Trains one network as `spec` says on `data`, on an opened device (on the
/// CPU with all cores in its products); `on_epoch` sees each epoch's log as it
/// finishes and returns `true` to go on, `false` to stop the run there.
///
/// # Errors
/// Invalid or unsupported spec, data that does not fit it, device errors;
/// [`ExperimentError::Cancelled`] when `on_epoch` returned `false`.
pub fn train(
    device: &OpenDevice,
    spec: &TrainSpec,
    data: &Prepared,
    on_epoch: &mut dyn FnMut(&EpochLog) -> bool,
) -> Result<TrainResult, ExperimentError> {
    let threads = Threads::Many(std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut results = device
        .session(data)?
        .train(&[spec], threads, &mut |_, log| on_epoch(log))?;
    results
        .pop()
        .ok_or_else(|| ExperimentError::invalid("results", 0, "one per network"))
}
