//! Probing the CUDA libraries before cudarc touches them, catching cudarc's panics, and
//! compiling the kernels with NVRTC.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use cudarc::driver::CudaContext;
use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};

use crate::cuda::error::CudaError;
use crate::cuda::kernels::KERNELS_CU;

/// Runs `f`, turning a panic inside the CUDA bindings into [`CudaError::Panic`].
///
/// cudarc panics (instead of returning an error) when a library or a symbol cannot be
/// loaded. The libraries are probed before any cudarc call, so this is a second line of
/// defence (e.g. a driver older than the CUDA 13.0 bindings).
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, CudaError>) -> Result<T, CudaError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(CudaError::Panic(panic_message(payload.as_ref()))),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Symbols the backend needs from each library (checked before first use, because
/// cudarc resolves symbols lazily and panics on a missing one).
const DRIVER_SYMBOLS: &[&str] = &[
    "cuInit",
    "cuDeviceGet",
    "cuDeviceGetAttribute",
    "cuDeviceGetName",
    "cuDevicePrimaryCtxRetain",
    "cuCtxSetCurrent",
    "cuStreamCreate",
    "cuStreamSynchronize",
    "cuMemAlloc_v2",
    "cuMemcpyHtoDAsync_v2",
    "cuMemcpyDtoHAsync_v2",
    "cuMemcpyDtoDAsync_v2",
    "cuMemsetD8Async",
    "cuModuleLoadData",
    "cuModuleGetFunction",
    "cuLaunchKernel",
    "cuStreamBeginCapture_v2",
    "cuStreamEndCapture",
    "cuGraphInstantiateWithFlags",
    "cuGraphLaunch",
    "cuGraphExecDestroy",
    "cuGraphDestroy",
];
const NVRTC_SYMBOLS: &[&str] = &[
    "nvrtcCreateProgram",
    "nvrtcCompileProgram",
    "nvrtcGetPTXSize",
    "nvrtcGetPTX",
    "nvrtcGetProgramLogSize",
    "nvrtcGetProgramLog",
    "nvrtcDestroyProgram",
];
const CUBLAS_SYMBOLS: &[&str] = &[
    "cublasCreate_v2",
    "cublasDestroy_v2",
    "cublasSetStream_v2",
    "cublasSetWorkspace_v2",
    "cublasGemmStridedBatchedEx",
];

/// Checks that a library is present and has `symbols`; `$sys` is the cudarc `sys` module.
macro_rules! probe_library {
    ($sys:path, $what:expr, $names:expr, $symbols:expr) => {{
        use $sys as sys;
        // SAFETY: `is_culib_present` only dlopens/dlcloses the candidate file names.
        if !unsafe { sys::is_culib_present() } {
            return Err(CudaError::Unavailable(format!(
                "{} was not found (searched {} in the default library path{}); {}",
                $what,
                $names,
                std::env::var("LD_LIBRARY_PATH")
                    .map(|p| format!(" and LD_LIBRARY_PATH={p}"))
                    .unwrap_or_default(),
                "install the NVIDIA driver / CUDA 13 toolkit or add its lib64 to LD_LIBRARY_PATH"
            )));
        }
        // SAFETY: the library is present (checked above), so `culib` does not panic; looking
        // up a symbol does not call it.
        let lib = unsafe { sys::culib() };
        let missing: Vec<&str> = $symbols
            .iter()
            .copied()
            .filter(|name| unsafe { lib.get::<unsafe extern "C" fn()>(name.as_bytes()) }.is_err())
            .collect();
        if !missing.is_empty() {
            return Err(CudaError::Unavailable(format!(
                "{} lacks {missing:?} (too old for the CUDA 13.0 bindings?)",
                $what
            )));
        }
    }};
}

/// Checks that the CUDA driver, NVRTC and cuBLAS libraries can be loaded and have the
/// symbols the backend uses. Touches no cudarc function that could panic.
pub(crate) fn probe_libraries() -> Result<(), CudaError> {
    probe_library!(
        cudarc::driver::sys,
        "the CUDA driver library (libcuda.so.1)",
        "libcuda.so, libcuda.so.1",
        DRIVER_SYMBOLS
    );
    probe_library!(
        cudarc::nvrtc::sys,
        "NVRTC (libnvrtc.so.13)",
        "libnvrtc.so, libnvrtc.so.13",
        NVRTC_SYMBOLS
    );
    probe_library!(
        cudarc::cublas::sys,
        "cuBLAS (libcublas.so.13)",
        "libcublas.so, libcublas.so.13",
        CUBLAS_SYMBOLS
    );
    Ok(())
}

/// Whether the CUDA backend can run here: the libraries load and device 0 opens.
///
/// # Errors
/// A human-readable reason (missing library, no driver, no device, …). Never panics.
pub fn available() -> Result<(), String> {
    let reason = |e: CudaError| match e {
        CudaError::Unavailable(r) => r,
        other => other.to_string(),
    };
    probe_libraries().map_err(reason)?;
    guard(|| CudaContext::new(0).map(|_| ()).map_err(CudaError::from))
        .map_err(|e| format!("device 0 cannot be opened: {e}"))
}

/// The CUDA headers' directory, if one exists: `$CUDA_PATH/include`, `/usr/local/cuda/include`
/// or `/opt/cuda/include`. The kernels include no header, so this is only passed along.
fn cuda_include_dir() -> Option<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("CUDA_PATH") {
        roots.push(PathBuf::from(p));
    }
    roots.push(PathBuf::from("/usr/local/cuda"));
    roots.push(PathBuf::from("/opt/cuda"));
    roots
        .into_iter()
        .map(|r| r.join("include"))
        .find(|d| d.join("cuda.h").is_file())
}

/// Compiles [`KERNELS_CU`] for the device's architecture (falling back to NVRTC's default
/// architecture if NVRTC does not know it). `--fmad=false` keeps `a*b+c` as two roundings,
/// as the CPU computes it, so noise values match bit for bit where the math functions do.
pub(super) fn compile_kernels(cc: (i32, i32)) -> Result<cudarc::nvrtc::Ptx, CudaError> {
    let base = CompileOptions {
        fmad: Some(false),
        ftz: Some(false),
        prec_div: Some(true),
        prec_sqrt: Some(true),
        include_paths: cuda_include_dir()
            .map(|d| vec![d.to_string_lossy().into_owned()])
            .unwrap_or_default(),
        name: Some("noisyprop_kernels.cu".to_string()),
        ..Default::default()
    };
    let with_arch = CompileOptions {
        options: vec![format!("--gpu-architecture=compute_{}{}", cc.0, cc.1)],
        ..base.clone()
    };
    match compile_ptx_with_opts(KERNELS_CU, with_arch) {
        Ok(ptx) => Ok(ptx),
        Err(first) => compile_ptx_with_opts(KERNELS_CU, base).map_err(|_| CudaError::from(first)),
    }
}
