//! The CUDA device: context, stream, cuBLAS handle and the NVRTC-compiled kernels;
//! the availability probe.
//!
//! | file | contents |
//! |---|---|
//! | `mod.rs` | [`Device`]: memory, copies, launches, GEMMs, graphs, profiling |
//! | `probe.rs` | [`available`], the library probe, the panic guard, NVRTC compilation |
//! | `types.rs` | buffers, graphs, [`Phase`], [`DeviceMatrix`] |
//!
//! Kernel ids and arguments, launch dimensions and GEMM calls are in `cuda/calls.rs`
//! (shared with the emulator, which does not depend on this module).

use std::sync::Arc;

use cudarc::cublas::CudaBlas;
use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cublasOperation_t, cudaDataType};
use cudarc::driver::sys::{CUevent_flags, CUgraphInstantiate_flags, CUstreamCaptureMode};
use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaModule, CudaSlice, CudaStream, DevicePtr,
    LaunchConfig, PushKernelArg,
};

use super::error::CudaError;

mod probe;
mod types;

pub(crate) use super::calls::{Arg, Dims, GemmCall, KernelId};
pub use probe::available;
use probe::compile_kernels;
pub(crate) use probe::{guard, probe_libraries};
use types::BufInner;
pub(crate) use types::{DevBuf, Elem, Graph};
pub use types::{DeviceMatrix, Phase};

/// Bytes of the cuBLAS workspace (NVIDIA's recommendation for Hopper). Set explicitly so
/// that cuBLAS allocates nothing while a CUDA graph is being captured.
const CUBLAS_WORKSPACE_BYTES: usize = 32 << 20;

struct CudaBackend {
    // Field order = drop order: the cuBLAS handle and buffers before the stream/context.
    /// Timing events of a [`Device::start_profile`] run, each closing a span of `Phase`.
    profile: std::sync::Mutex<Option<Vec<(Phase, CudaEvent)>>>,
    blas: CudaBlas,
    _workspace: CudaSlice<u8>,
    functions: Vec<CudaFunction>,
    _module: Arc<CudaModule>,
    stream: Arc<CudaStream>,
    _ctx: Arc<CudaContext>,
}

enum Backend {
    Cuda(CudaBackend),
    #[cfg(any(test, feature = "cuda-emulator"))]
    Emu(crate::cuda::emu::Emu),
}

/// One CUDA device with everything the trainers need.
///
/// All work goes to one non-blocking stream, so device buffers are ordered by that
/// stream alone; cudarc's per-buffer event tracking is switched off (it would add
/// event waits that CUDA graph capture does not allow).
pub struct Device {
    backend: Backend,
    name: String,
    compute_capability: (i32, i32),
    total_memory: usize,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("compute_capability", &self.compute_capability)
            .field("total_memory", &self.total_memory)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Opens device `ordinal`: probes the libraries, creates a stream and a cuBLAS handle,
    /// and compiles the kernels with NVRTC (about a second).
    ///
    /// # Errors
    /// [`CudaError::Unavailable`] when the libraries or the device are missing; other
    /// variants when a later step fails. Never panics on a machine without CUDA.
    pub fn new(ordinal: usize) -> Result<Arc<Self>, CudaError> {
        probe_libraries()?;
        guard(|| Self::open(ordinal)).map(Arc::new)
    }

    fn open(ordinal: usize) -> Result<Self, CudaError> {
        let ctx = CudaContext::new(ordinal)
            .map_err(|e| CudaError::Unavailable(format!("device {ordinal}: {e}")))?;
        // SAFETY: every buffer of this backend is used on the single stream created below,
        // so the ordering of that stream is all the synchronisation needed.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream()?;
        let name = ctx.name()?;
        let compute_capability = ctx.compute_capability()?;
        let total_memory = ctx.total_mem()?;

        let ptx = compile_kernels(compute_capability)?;
        let module = ctx.load_module(ptx)?;
        let functions = KernelId::ALL
            .iter()
            .map(|k| module.load_function(k.name()))
            .collect::<Result<Vec<_>, _>>()?;

        let blas = CudaBlas::new(stream.clone())?;
        let workspace = stream.alloc_zeros::<u8>(CUBLAS_WORKSPACE_BYTES)?;
        {
            let (ptr, _sync) = workspace.device_ptr(&stream);
            // SAFETY: the workspace outlives the handle (field order) and is used by cuBLAS on
            // the handle's stream only.
            unsafe {
                cudarc::cublas::sys::cublasSetWorkspace_v2(
                    *blas.handle(),
                    ptr as *mut std::ffi::c_void,
                    CUBLAS_WORKSPACE_BYTES,
                )
                .result()?;
            }
        }
        stream.synchronize()?;
        Ok(Device {
            backend: Backend::Cuda(CudaBackend {
                profile: std::sync::Mutex::new(None),
                blas,
                _workspace: workspace,
                functions,
                _module: module,
                stream,
                _ctx: ctx,
            }),
            name,
            compute_capability,
            total_memory,
        })
    }

    /// CPU emulator of the device for tests, slow (feature `cuda-emulator`): the kernels of
    /// [`KERNELS_CU`](super::KERNELS_CU) compiled as C++ by the host compiler (`$CXX`, else
    /// `c++`) and run on the CPU, the GEMMs as plain loops with cuBLAS's semantics (TF32
    /// operand rounding included): the whole GPU code path without a GPU. Its name is
    /// "emulator". Orders of magnitude slower than a GPU (and than the CPU engine): use it
    /// for small tests only.
    ///
    /// # Errors
    /// [`CudaError::Unavailable`] without a C++ compiler; [`CudaError::Config`] when the
    /// kernels do not compile as C++.
    #[cfg(any(test, feature = "cuda-emulator"))]
    pub fn emulated() -> Result<Arc<Self>, CudaError> {
        Ok(Arc::new(Device {
            backend: Backend::Emu(crate::cuda::emu::Emu::new()?),
            name: "emulator".to_string(),
            compute_capability: (0, 0),
            total_memory: 0,
        }))
    }

    /// The device's name (e.g. "NVIDIA H100 80GB HBM3").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compute capability (major, minor).
    pub fn compute_capability(&self) -> (i32, i32) {
        self.compute_capability
    }

    /// Total device memory in bytes.
    pub fn total_memory(&self) -> usize {
        self.total_memory
    }

    /// Waits until all queued work has finished.
    ///
    /// # Errors
    /// A driver error (including errors of earlier asynchronous work).
    pub fn synchronize(&self) -> Result<(), CudaError> {
        match &self.backend {
            Backend::Cuda(c) => guard(|| Ok(c.stream.synchronize()?)),
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(_) => Ok(()),
        }
    }

    /// Uploads a row-major `rows × cols` matrix (a data set kept on the device, from which
    /// trainers copy their batches without a host round trip).
    ///
    /// # Errors
    /// [`CudaError::Config`] when `data.len()` is not a multiple of `cols`; driver errors.
    pub fn upload_matrix(&self, data: &[f32], cols: usize) -> Result<DeviceMatrix, CudaError> {
        if cols == 0 || !data.len().is_multiple_of(cols) {
            return Err(CudaError::Config(format!(
                "a matrix of {} values does not have rows of {cols}",
                data.len()
            )));
        }
        Ok(DeviceMatrix {
            data: self.upload(data)?,
            rows: data.len() / cols,
            cols,
        })
    }

    // ---- buffers (all on the one stream) ----

    /// A zeroed buffer of `len` elements (at least one).
    pub(crate) fn alloc<T: Elem>(&self, len: usize) -> Result<DevBuf<T>, CudaError> {
        let len = len.max(1);
        let inner = match &self.backend {
            Backend::Cuda(c) => BufInner::Cuda(guard(|| Ok(c.stream.alloc_zeros::<T>(len)?))?),
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(e) => {
                let v = vec![T::default(); len];
                e.register(v.as_ptr() as u64, len * std::mem::size_of::<T>());
                BufInner::Host(v)
            }
        };
        Ok(DevBuf { inner })
    }

    /// A buffer holding `data`.
    pub(crate) fn upload<T: Elem>(&self, data: &[T]) -> Result<DevBuf<T>, CudaError> {
        let mut b = self.alloc::<T>(data.len())?;
        self.write(&mut b, 0, data)?;
        Ok(b)
    }

    /// `buf[offset .. offset + data.len()] = data` (host to device; the host memory is
    /// pageable, so this waits for the stream).
    pub(crate) fn write<T: Elem>(
        &self,
        buf: &mut DevBuf<T>,
        offset: usize,
        data: &[T],
    ) -> Result<(), CudaError> {
        check_range(offset, data.len(), buf.len())?;
        if data.is_empty() {
            return Ok(());
        }
        match (&self.backend, &mut buf.inner) {
            (Backend::Cuda(c), BufInner::Cuda(s)) => guard(|| {
                let mut v = s.slice_mut(offset..offset + data.len());
                Ok(c.stream.memcpy_htod(data, &mut v)?)
            }),
            #[cfg(any(test, feature = "cuda-emulator"))]
            (Backend::Emu(_), BufInner::Host(v)) => {
                v[offset..offset + data.len()].copy_from_slice(data);
                Ok(())
            }
            #[cfg(any(test, feature = "cuda-emulator"))]
            _ => Err(CudaError::Config("buffer of another device".to_string())),
        }
    }

    /// The whole buffer, on the host (synchronises).
    pub(crate) fn read<T: Elem>(&self, buf: &DevBuf<T>) -> Result<Vec<T>, CudaError> {
        match (&self.backend, &buf.inner) {
            (Backend::Cuda(c), BufInner::Cuda(s)) => guard(|| {
                let v = c.stream.clone_dtoh(s)?;
                c.stream.synchronize()?;
                Ok(v)
            }),
            #[cfg(any(test, feature = "cuda-emulator"))]
            (Backend::Emu(_), BufInner::Host(v)) => Ok(v.clone()),
            #[cfg(any(test, feature = "cuda-emulator"))]
            _ => Err(CudaError::Config("buffer of another device".to_string())),
        }
    }

    /// `dst[dst_off ..][..len] = src[src_off ..][..len]` (device to device, asynchronous).
    pub(crate) fn copy<T: Elem>(
        &self,
        src: &DevBuf<T>,
        src_off: usize,
        dst: &mut DevBuf<T>,
        dst_off: usize,
        len: usize,
    ) -> Result<(), CudaError> {
        check_range(src_off, len, src.len())?;
        check_range(dst_off, len, dst.len())?;
        if len == 0 {
            return Ok(());
        }
        match (&self.backend, &src.inner, &mut dst.inner) {
            (Backend::Cuda(c), BufInner::Cuda(s), BufInner::Cuda(d)) => guard(|| {
                let sv = s.slice(src_off..src_off + len);
                let mut dv = d.slice_mut(dst_off..dst_off + len);
                Ok(c.stream.memcpy_dtod(&sv, &mut dv)?)
            }),
            #[cfg(any(test, feature = "cuda-emulator"))]
            (Backend::Emu(_), BufInner::Host(s), BufInner::Host(d)) => {
                d[dst_off..dst_off + len].copy_from_slice(&s[src_off..src_off + len]);
                Ok(())
            }
            #[cfg(any(test, feature = "cuda-emulator"))]
            _ => Err(CudaError::Config("buffer of another device".to_string())),
        }
    }

    /// Sets the buffer to zero (asynchronous).
    pub(crate) fn zero<T: Elem>(&self, buf: &mut DevBuf<T>) -> Result<(), CudaError> {
        match (&self.backend, &mut buf.inner) {
            (Backend::Cuda(c), BufInner::Cuda(s)) => guard(|| Ok(c.stream.memset_zeros(s)?)),
            #[cfg(any(test, feature = "cuda-emulator"))]
            (Backend::Emu(_), BufInner::Host(v)) => {
                v.iter_mut().for_each(|x| *x = T::default());
                Ok(())
            }
            #[cfg(any(test, feature = "cuda-emulator"))]
            _ => Err(CudaError::Config("buffer of another device".to_string())),
        }
    }

    /// The device address of a buffer (for kernel arguments and GEMM operands).
    pub(crate) fn ptr<T: Elem>(&self, buf: &DevBuf<T>) -> u64 {
        match (&self.backend, &buf.inner) {
            (Backend::Cuda(c), BufInner::Cuda(s)) => {
                let (p, _sync) = s.device_ptr(&c.stream);
                p
            }
            #[cfg(any(test, feature = "cuda-emulator"))]
            (_, BufInner::Host(v)) => v.as_ptr() as u64,
            #[cfg(any(test, feature = "cuda-emulator"))]
            (_, BufInner::Cuda(_)) => 0,
        }
    }

    // ---- profiling ----

    /// The CUDA backend (`None` on the emulator).
    fn cuda(&self) -> Option<&CudaBackend> {
        match &self.backend {
            Backend::Cuda(c) => Some(c),
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(_) => None,
        }
    }

    /// Starts timing the device work enqueued from now on, one CUDA event after each
    /// kernel or product (`Device::mark`); [`Device::finish_profile`] sums the spans
    /// per [`Phase`]. Only for direct launches (not while a graph is being captured). A
    /// no-op on the emulator.
    ///
    /// # Errors
    /// Driver errors.
    pub fn start_profile(&self) -> Result<(), CudaError> {
        let Some(c) = self.cuda() else {
            return Ok(());
        };
        let start = guard(|| {
            Ok(c.stream
                .record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?)
        })?;
        let mut p = c
            .profile
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *p = Some(vec![(Phase::Other, start)]);
        Ok(())
    }

    /// Closes the current span as `phase` when profiling (see [`Device::start_profile`]).
    pub(crate) fn mark(&self, phase: Phase) -> Result<(), CudaError> {
        let Some(c) = self.cuda() else {
            return Ok(());
        };
        let mut p = c
            .profile
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(events) = p.as_mut() {
            let e = guard(|| {
                Ok(c.stream
                    .record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?)
            })?;
            events.push((phase, e));
        }
        Ok(())
    }

    /// Ends profiling (synchronises) and returns milliseconds of device time per phase,
    /// in [`Phase::ALL`] order (phases without work omitted). Empty on the emulator or
    /// when no profile was started.
    ///
    /// # Errors
    /// Driver errors (including those of the profiled work).
    pub fn finish_profile(&self) -> Result<Vec<(Phase, f64)>, CudaError> {
        let Some(c) = self.cuda() else {
            return Ok(Vec::new());
        };
        let events = c
            .profile
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        let mut ms = [0f64; Phase::ALL.len()];
        for w in events.windows(2) {
            let dt = guard(|| Ok(w[0].1.elapsed_ms(&w[1].1)?))?;
            ms[w[1].0 as usize] += f64::from(dt);
        }
        Ok(Phase::nonzero(&ms))
    }

    // ---- work ----

    /// Launches kernel `k` with `args` (in the order and types of its parameters).
    pub(crate) fn launch(&self, k: KernelId, dims: Dims, args: &[Arg]) -> Result<(), CudaError> {
        match &self.backend {
            Backend::Cuda(c) => {
                let f = &c.functions[k as usize];
                let mut b = c.stream.launch_builder(f);
                for a in args {
                    match a {
                        Arg::Ptr(v) => b.arg(v),
                        Arg::I32(v) => b.arg(v),
                        Arg::I64(v) => b.arg(v),
                        Arg::F32(v) => b.arg(v),
                        Arg::F64(v) => b.arg(v),
                    };
                }
                let cfg = LaunchConfig {
                    grid_dim: dims.grid,
                    block_dim: dims.block,
                    shared_mem_bytes: 0,
                };
                // SAFETY: the callers pass the kernel's parameters in order, with pointers to
                // buffers of this device sized for the launch (see the SAFETY notes there).
                guard(|| Ok(unsafe { b.launch(cfg) }.map(|_| ())?))
            }
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(e) => e.launch(k, dims, args),
        }
    }

    /// `out = α·op(A)·op(B) + β·out` for each of `batch` matrix triples (column-major, as
    /// cuBLAS sees them), with inputs of type `input`, output `output` and compute type
    /// `compute`.
    pub(crate) fn gemm(
        &self,
        call: &GemmCall,
        input: cudaDataType,
        output: cudaDataType,
        compute: cublasComputeType_t,
    ) -> Result<(), CudaError> {
        let int = |v: usize, what: &str| {
            i32::try_from(v).map_err(|_| {
                CudaError::Config(format!("{what} = {v} exceeds cuBLAS's 32-bit range"))
            })
        };
        let (m, n, k) = (int(call.m, "m")?, int(call.n, "n")?, int(call.k, "k")?);
        let (lda, ldb, ldc) = (
            int(call.lda, "lda")?,
            int(call.ldb, "ldb")?,
            int(call.ldc, "ldc")?,
        );
        let batch = int(call.batch, "batch")?;
        // (Only the test build has a second backend.)
        #[allow(clippy::infallible_destructuring_match)]
        let c = match &self.backend {
            Backend::Cuda(c) => c,
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(e) => return e.gemm(call, input, output, compute),
        };
        let op = |t: bool| {
            if t {
                cublasOperation_t::CUBLAS_OP_T
            } else {
                cublasOperation_t::CUBLAS_OP_N
            }
        };
        let long = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        // SAFETY: the pointers address device buffers of this context that the caller sized
        // for these shapes and strides; α and β are host values read during the call.
        guard(|| unsafe {
            Ok(cudarc::cublas::result::gemm_strided_batched_ex(
                *c.blas.handle(),
                op(call.trans_a),
                op(call.trans_b),
                m,
                n,
                k,
                (&raw const call.alpha).cast(),
                call.a as *const std::ffi::c_void,
                input,
                lda,
                long(call.stride_a),
                call.b as *const std::ffi::c_void,
                input,
                ldb,
                long(call.stride_b),
                (&raw const call.beta).cast(),
                call.c as *mut std::ffi::c_void,
                output,
                ldc,
                long(call.stride_c),
                batch,
                compute,
                cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
            )?)
        })
    }

    /// Starts recording the stream's work as a graph.
    pub(crate) fn begin_capture(&self) -> Result<(), CudaError> {
        match &self.backend {
            Backend::Cuda(c) => guard(|| {
                Ok(c.stream
                    .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)?)
            }),
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(e) => e.begin_capture(),
        }
    }

    /// Ends the recording started by [`Device::begin_capture`] and instantiates the graph.
    pub(crate) fn end_capture(&self) -> Result<Graph, CudaError> {
        match &self.backend {
            Backend::Cuda(c) => guard(|| {
                c.stream
                    .end_capture(CUgraphInstantiate_flags(0))?
                    .map(Graph::Cuda)
                    .ok_or_else(|| {
                        CudaError::Config("stream capture returned no graph".to_string())
                    })
            }),
            #[cfg(any(test, feature = "cuda-emulator"))]
            Backend::Emu(e) => e.end_capture().map(Graph::Emu),
        }
    }

    /// Replays a captured graph.
    pub(crate) fn launch_graph(&self, g: &Graph) -> Result<(), CudaError> {
        match (&self.backend, g) {
            (Backend::Cuda(_), Graph::Cuda(g)) => guard(|| Ok(g.launch()?)),
            #[cfg(any(test, feature = "cuda-emulator"))]
            (Backend::Emu(e), Graph::Emu(ops)) => e.replay(ops),
            #[cfg(any(test, feature = "cuda-emulator"))]
            _ => Err(CudaError::Config("graph of another device".to_string())),
        }
    }
}

fn check_range(offset: usize, len: usize, size: usize) -> Result<(), CudaError> {
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(CudaError::Config(format!(
            "range {offset}..+{len} outside a buffer of {size}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NVRTC needs no GPU: where `libnvrtc.so.13` can be loaded (e.g. from the PyPI wheel
    /// `nvidia-cuda-nvrtc` via `LD_LIBRARY_PATH`), the kernel source must compile for
    /// Hopper and define every kernel the device loads. Skips where NVRTC is absent.
    #[test]
    fn kernels_compile_with_nvrtc_when_present() {
        // SAFETY: only dlopens/dlcloses the candidate file names.
        if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
            eprintln!("NVRTC not found; skipping the NVRTC compile check");
            return;
        }
        let ptx = compile_kernels((9, 0)).expect("kernels.cu compiles with NVRTC");
        let src = ptx.to_src();
        assert!(src.contains(".target sm_90"), "compiled for compute_90");
        for id in KernelId::ALL {
            assert!(
                src.contains(&format!(".entry {}(", id.name())),
                "{}",
                id.name()
            );
        }
    }
}
