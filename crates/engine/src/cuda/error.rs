//! Errors of the CUDA backend.

use thiserror::Error;

/// What can go wrong in the CUDA backend.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CudaError {
    /// No usable CUDA installation or device (missing library, no driver, no GPU).
    #[error("CUDA not available: {0}")]
    Unavailable(String),
    /// A CUDA driver call failed.
    #[error("CUDA driver error: {0}")]
    Driver(String),
    /// A cuBLAS call failed.
    #[error("cuBLAS error: {0}")]
    Blas(String),
    /// NVRTC could not compile the kernels.
    #[error("NVRTC could not compile the kernels: {0}")]
    Compile(String),
    /// The configuration is invalid.
    #[error("invalid GPU configuration: {0}")]
    Config(String),
    /// The network asks for something the kernels do not implement.
    #[error(transparent)]
    Unsupported(#[from] crate::gpu_support::Unsupported),
    /// cudarc panicked (e.g. a symbol missing from an older library); caught.
    #[error("the CUDA bindings panicked: {0}")]
    Panic(String),
}

impl From<cudarc::driver::DriverError> for CudaError {
    fn from(e: cudarc::driver::DriverError) -> Self {
        CudaError::Driver(format!("{e:?}"))
    }
}

impl From<cudarc::cublas::result::CublasError> for CudaError {
    fn from(e: cudarc::cublas::result::CublasError) -> Self {
        CudaError::Blas(format!("{e:?}"))
    }
}

impl From<cudarc::nvrtc::CompileError> for CudaError {
    fn from(e: cudarc::nvrtc::CompileError) -> Self {
        match e {
            cudarc::nvrtc::CompileError::CompileError {
                nvrtc,
                options,
                log,
            } => CudaError::Compile(format!(
                "{nvrtc:?} with options {options:?}:\n{}",
                log.to_string_lossy()
            )),
            other => CudaError::Compile(format!("{other:?}")),
        }
    }
}
