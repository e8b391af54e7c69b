//! # noisyprop-experiments
//!
//! The paper's experiments as reusable definitions (spec §3–4): the simulated
//! Figures 2–5 ([`figs`]), each writing its data as CSV and its figure as PNG.
//!
//! | module | contents |
//! |---|---|
//! | [`figs`] | Figures 2, 3, 4 and 5: settings, simulations, fits, plots |
//! | [`variance_depth`] | Figure 6(a)/(d): variance of real images through deep random nets vs L* |
//! | [`training`] | one noisy MLP trained on real data, per-epoch losses (CPU; `train_cuda` with the feature `cuda`) |
//! | [`trainable_depth`] | Figure 6(b)/(c)/(e)/(f): the keep × depth grid, resumable cell store, boundary vs 6ξ_c (CPU; `run_grid_cuda`: one GPU grid per depth) |
//! | [`output`] | CSV/PNG writing with errors that name the file |

#![deny(missing_docs)]

#[cfg(feature = "cuda")]
mod cuda_train;
pub mod figs;
pub mod output;
pub mod trainable_depth;
pub mod training;
pub mod variance_depth;

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong in an experiment.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// Reading or writing a file.
    #[error("`{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing CSV.
    #[error("`{path}`: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Rendering a figure.
    #[error("`{path}`: {source}")]
    Plot {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: noisyprop_plot::PlotError,
    },
    /// A simulation failed.
    #[error(transparent)]
    Sim(#[from] noisyprop_sim::SimError),
    /// Loading data failed.
    #[error(transparent)]
    Data(#[from] noisyprop_data::DataError),
    /// The engine refused something.
    #[error(transparent)]
    Engine(#[from] noisyprop_engine::EngineError),
    /// The theory refused a parameter.
    #[error(transparent)]
    Theory(#[from] noisyprop_theory::TheoryError),
    /// `--init critical` for a network without a critical point.
    #[error("no critical initialisation exists for {what}: {reason}")]
    NoCriticalPoint {
        /// Activation and noise.
        what: String,
        /// Why.
        reason: String,
    },
    /// Something the GPU training path (`--device cuda`) does not implement.
    #[error(
        "{what} is not supported on the GPU (--device cuda); the GPU path supports {supported}"
    )]
    GpuUnsupported {
        /// What was asked for.
        what: String,
        /// What is supported instead.
        supported: &'static str,
    },
    /// The CUDA backend failed.
    #[cfg(feature = "cuda")]
    #[error(transparent)]
    Cuda(#[from] noisyprop_engine::cuda::CudaError),
    /// A parameter is out of range.
    #[error("{name} = {value} is out of range; valid range is {valid}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: String,
        /// The valid range.
        valid: &'static str,
    },
}
