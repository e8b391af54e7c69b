//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong in an experiment. Messages are complete on their own
/// (a file error names the file and says why), so a printed chain never says
/// the same thing twice.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// Reading or writing a file.
    #[error("`{}`: {cause}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// Writing CSV or JSON.
    #[error("`{}`: {message}", .path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Rendering a figure.
    #[error("`{}`: {cause}", .path.display())]
    Plot {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: noisyprop_plot::PlotError,
    },
    /// A stored grid cell cannot be read back.
    #[error(
        "corrupt cell file `{}`: {reason}",
        .path.display()
    )]
    CorruptCell {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Submitting to Slurm failed.
    #[error("slurm: {0}")]
    Slurm(String),
    /// A part of a reproduction failed (in a shard, this fails the task).
    #[error("part `{part}` failed: {reason}")]
    PartFailed {
        /// The part's name.
        part: String,
        /// Its error.
        reason: String,
    },
    /// A simulation failed. (A simulation stopped by its callback converts
    /// to [`ExperimentError::Cancelled`] instead.)
    #[error(transparent)]
    Sim(noisyprop_sim::SimError),
    /// Loading data failed.
    #[error(transparent)]
    Data(#[from] noisyprop_data::DataError),
    /// The engine refused something.
    #[error(transparent)]
    Engine(#[from] noisyprop_engine::EngineError),
    /// The theory refused a parameter (or found no critical point). (A
    /// computation stopped by its callback converts to
    /// [`ExperimentError::Cancelled`] instead.)
    #[error(transparent)]
    Theory(noisyprop_theory::TheoryError),
    /// Something the GPU (`--device cuda`) does not implement.
    #[error(transparent)]
    GpuUnsupported(#[from] noisyprop_engine::gpu_support::Unsupported),
    /// `--device cuda` in a build without the `cuda` feature.
    #[error(
        "device `cuda`: this build has no CUDA support; rebuild with the `cuda` feature (the CLI: `cargo build --release -p noisyprop --features cuda`)"
    )]
    CudaNotBuilt,
    /// The CUDA backend failed.
    #[cfg(feature = "cuda")]
    #[error(transparent)]
    Cuda(#[from] noisyprop_engine::cuda::CudaError),
    /// `--precision` with the CPU.
    #[error(
        "precision `{precision}` applies to device `cuda` only; the CPU engine computes in fp32"
    )]
    PrecisionOnCpu {
        /// The precision asked for.
        precision: noisyprop_engine::gpu_support::Precision,
    },
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
    /// The caller's progress callback asked the work to stop (work finished
    /// before, such as grid cells and reproduction parts, stays stored).
    #[error("stopped before it finished (interrupted)")]
    Cancelled,
}

impl From<noisyprop_sim::SimError> for ExperimentError {
    fn from(e: noisyprop_sim::SimError) -> Self {
        match e {
            noisyprop_sim::SimError::Cancelled => ExperimentError::Cancelled,
            e => ExperimentError::Sim(e),
        }
    }
}

impl From<noisyprop_theory::TheoryError> for ExperimentError {
    fn from(e: noisyprop_theory::TheoryError) -> Self {
        match e {
            noisyprop_theory::TheoryError::Cancelled => ExperimentError::Cancelled,
            e => ExperimentError::Theory(e),
        }
    }
}

impl ExperimentError {
    /// [`ExperimentError::InvalidParameter`] with the value as text.
    pub(crate) fn invalid(name: &'static str, value: impl ToString, valid: &'static str) -> Self {
        ExperimentError::InvalidParameter {
            name,
            value: value.to_string(),
            valid,
        }
    }
}
