//! Device emulator (tests, and `Device::emulated` under the feature `cuda-emulator`): the kernels of [`KERNELS_CU`] compiled as C++ for the host
//! (the threads of a block that synchronises run as coroutines) and called through
//! the same argument array `cuLaunchKernel` receives, with each argument's size checked
//! against the kernel's parameter; the GEMMs as plain loops with cuBLAS's column-major
//! strided-batched semantics, every operand checked to lie inside one allocation.
//!
//! This runs the whole GPU code path (layouts, strides, argument lists, graph capture and
//! replay) on a machine without a GPU; what it cannot check is cudarc/cuBLAS/NVRTC
//! behaviour itself.

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::{Mutex, OnceLock};

use cudarc::cublas::sys::{cublasComputeType_t, cudaDataType};

use super::calls::{Arg, Dims, GemmCall, KernelId};
use super::error::CudaError;
use super::kernels::KERNELS_CU;

/// A recorded operation (the emulated graph).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Launch(KernelId, Dims, Vec<Arg>),
    Gemm(GemmCall, cudaDataType, cudaDataType, cublasComputeType_t),
}

type LaunchFn = unsafe extern "C" fn(
    name: *const c_char,
    gx: u32,
    gy: u32,
    gz: u32,
    bx: u32,
    by: u32,
    bz: u32,
    args: *mut *mut c_void,
    sizes: *const c_int,
    n: c_int,
) -> c_int;

unsafe extern "C" {
    fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}
const RTLD_NOW: c_int = 2;

const SHIM: &str = r#"
#include <math.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>
#include <utility>
#include <ucontext.h>

struct np_dim3 { unsigned x, y, z; };
static np_dim3 threadIdx, blockIdx, blockDim, gridDim;

// Threads of a block that synchronises run as coroutines on one OS thread: __syncthreads
// passes control to the next thread; the last one to arrive resumes the first.
static ucontext_t np_main_ctx;
static std::vector<ucontext_t> np_ctx;
static std::vector<np_dim3> np_tid;
static int np_nt = 0, np_cur = 0;
static std::function<void()> np_body;

static inline void __syncthreads() {
    int me = np_cur;
    int next = (me + 1) % np_nt;
    np_cur = next;
    threadIdx = np_tid[next];
    swapcontext(&np_ctx[me], &np_ctx[next]);
    np_cur = me;
    threadIdx = np_tid[me];
}

static void np_entry(int i) {
    np_cur = i;
    threadIdx = np_tid[i];
    np_body();
    if (i + 1 < np_nt) {
        np_cur = i + 1;
        threadIdx = np_tid[i + 1];
        setcontext(&np_ctx[i + 1]);
    } else {
        setcontext(&np_main_ctx);
    }
}

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
static inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned int u) { float f; std::memcpy(&f, &u, 4); return f; }
"#;

const LAUNCHER: &str = r#"
template <typename... A, std::size_t... I>
static void np_call(void (*f)(A...), void** args, std::index_sequence<I...>) {
    f(*static_cast<A*>(args[I])...);
}

template <typename... A>
static int np_run(void (*f)(A...), bool sync, np_dim3 g, np_dim3 b, void** args,
                  const int* sizes, int n) {
    constexpr int N = sizeof...(A);
    if (n != N) return 1000 + n;
    const int want[N] = { (int)sizeof(A)... };
    for (int i = 0; i < N; ++i) if (want[i] != sizes[i]) return 100 + i;
    gridDim = g;
    blockDim = b;
    const size_t stack = 64 * 1024;
    const int nt = (int)(b.x * b.y * b.z);
    std::unique_ptr<char[]> stacks(sync ? new char[stack * nt] : nullptr);
    for (unsigned z = 0; z < g.z; ++z)
    for (unsigned y = 0; y < g.y; ++y)
    for (unsigned x = 0; x < g.x; ++x) {
        np_dim3 blk{x, y, z};
        if (!sync) {
            blockIdx = blk;
            for (unsigned tz = 0; tz < b.z; ++tz)
            for (unsigned ty = 0; ty < b.y; ++ty)
            for (unsigned tx = 0; tx < b.x; ++tx) {
                threadIdx = np_dim3{tx, ty, tz};
                np_call(f, args, std::index_sequence_for<A...>{});
            }
        } else {
            np_nt = nt;
            np_ctx.assign(nt, ucontext_t{});
            np_tid.resize(nt);
            blockIdx = blk;
            np_body = [&]() { np_call(f, args, std::index_sequence_for<A...>{}); };
            for (int t = 0; t < nt; ++t) {
                np_tid[t] = np_dim3{t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
                getcontext(&np_ctx[t]);
                np_ctx[t].uc_stack.ss_sp = stacks.get() + stack * t;
                np_ctx[t].uc_stack.ss_size = stack;
                np_ctx[t].uc_link = nullptr;
                makecontext(&np_ctx[t], (void (*)())np_entry, 1, t);
            }
            swapcontext(&np_main_ctx, &np_ctx[0]);
        }
    }
    return 0;
}

extern "C" int np_emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz,
                             unsigned bx, unsigned by, unsigned bz, void** args,
                             const int* sizes, int n) {
    np_dim3 g{gx, gy, gz}, b{bx, by, bz};
#define NP_K(fn, sync) if (std::strcmp(name, #fn) == 0) return np_run(fn, sync, g, b, args, sizes, n);
    NP_K(np_step_keys, false)
    NP_K(np_advance_step, false)
    NP_K(np_input, false)
    NP_K(np_hidden, false)
    NP_K(np_mse, true)
    NP_K(np_loss, false)
    NP_K(np_backward, false)
    NP_K(np_bias_update, true)
    NP_K(np_weight_update, false)
    NP_K(np_to_bf16, false)
    NP_K(np_adam_step, false)
    NP_K(np_xent, true)
    return -1;
}
"#;

/// Compiles and loads the emulated kernels once per process.
fn launcher() -> Result<LaunchFn, CudaError> {
    static LIB: OnceLock<Result<usize, String>> = OnceLock::new();
    let addr = LIB.get_or_init(|| {
        let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
        let dir = std::env::temp_dir().join(format!("noisyprop-emu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let src = dir.join("kernels_emu.cpp");
        let lib = dir.join("libkernels_emu.so");
        std::fs::write(&src, format!("{SHIM}{KERNELS_CU}{LAUNCHER}")).map_err(|e| e.to_string())?;
        let out = std::process::Command::new(&cxx)
            .args([
                "-std=c++20",
                "-O2",
                "-shared",
                "-fPIC",
                "-pthread",
                "-ffp-contract=off",
            ])
            .args(["-Wall", "-Wno-unused-function", "-o"])
            .arg(&lib)
            .arg(&src)
            .output()
            .map_err(|e| format!("no C++ compiler ({cxx}: {e})"))?;
        if !out.status.success() {
            return Err(format!(
                "the kernels do not compile as C++:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let warnings = String::from_utf8_lossy(&out.stderr);
        if warnings.contains("warning") {
            return Err(format!("the kernels compile with warnings:\n{warnings}"));
        }
        let path = CString::new(lib.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
        // SAFETY: loading the library just built; its initialisers are the C++ runtime's.
        let handle = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
        let _ = std::fs::remove_dir_all(&dir);
        if handle.is_null() {
            return Err("dlopen of the emulated kernels failed".to_string());
        }
        // SAFETY: looking up a symbol of the loaded library.
        let sym = unsafe { dlsym(handle, c"np_emu_launch".as_ptr()) };
        if sym.is_null() {
            return Err("np_emu_launch not found".to_string());
        }
        Ok(sym as usize)
    });
    match addr {
        // SAFETY: the address is `np_emu_launch`, whose signature is `LaunchFn`.
        Ok(a) => Ok(unsafe { std::mem::transmute::<usize, LaunchFn>(*a) }),
        Err(e) if e.starts_with("no C++ compiler") => Err(CudaError::Unavailable(e.clone())),
        Err(e) => Err(CudaError::Config(format!("emulator: {e}"))),
    }
}

/// The emulated device state.
pub(crate) struct Emu {
    launch: LaunchFn,
    recording: Mutex<Option<Vec<Op>>>,
    allocations: Mutex<Vec<(u64, usize)>>,
}

impl Emu {
    pub(crate) fn new() -> Result<Self, CudaError> {
        Ok(Emu {
            launch: launcher()?,
            recording: Mutex::new(None),
            allocations: Mutex::new(Vec::new()),
        })
    }

    /// Registers a host buffer standing for a device allocation (for the GEMM range checks).
    pub(crate) fn register(&self, ptr: u64, bytes: usize) {
        if let Ok(mut a) = self.allocations.lock() {
            a.push((ptr, bytes));
        }
    }

    fn record(&self, op: &Op) -> Result<bool, CudaError> {
        let mut r = self
            .recording
            .lock()
            .map_err(|_| CudaError::Config("emulator lock".to_string()))?;
        Ok(match r.as_mut() {
            Some(ops) => {
                ops.push(op.clone());
                true
            }
            None => false,
        })
    }

    pub(crate) fn begin_capture(&self) -> Result<(), CudaError> {
        let mut r = self
            .recording
            .lock()
            .map_err(|_| CudaError::Config("emulator lock".to_string()))?;
        if r.is_some() {
            return Err(CudaError::Config("capture already in progress".to_string()));
        }
        *r = Some(Vec::new());
        Ok(())
    }

    pub(crate) fn end_capture(&self) -> Result<Vec<Op>, CudaError> {
        let mut r = self
            .recording
            .lock()
            .map_err(|_| CudaError::Config("emulator lock".to_string()))?;
        r.take()
            .ok_or_else(|| CudaError::Config("no capture in progress".to_string()))
    }

    pub(crate) fn replay(&self, ops: &[Op]) -> Result<(), CudaError> {
        for op in ops {
            match op {
                Op::Launch(k, d, a) => self.run_kernel(*k, *d, a)?,
                Op::Gemm(c, i, o, p) => self.run_gemm(c, *i, *o, *p)?,
            }
        }
        Ok(())
    }

    pub(crate) fn launch(&self, k: KernelId, dims: Dims, args: &[Arg]) -> Result<(), CudaError> {
        if self.record(&Op::Launch(k, dims, args.to_vec()))? {
            return Ok(());
        }
        self.run_kernel(k, dims, args)
    }

    pub(crate) fn gemm(
        &self,
        call: &GemmCall,
        input: cudaDataType,
        output: cudaDataType,
        compute: cublasComputeType_t,
    ) -> Result<(), CudaError> {
        if self.record(&Op::Gemm(*call, input, output, compute))? {
            return Ok(());
        }
        self.run_gemm(call, input, output, compute)
    }

    fn run_kernel(&self, k: KernelId, dims: Dims, args: &[Arg]) -> Result<(), CudaError> {
        let mut store: Vec<u64> = args
            .iter()
            .map(|a| match *a {
                Arg::Ptr(p) => p,
                Arg::I32(v) => u64::from(v as u32),
                Arg::I64(v) => v as u64,
                Arg::F32(v) => u64::from(v.to_bits()),
                Arg::F64(v) => v.to_bits(),
            })
            .collect();
        let sizes: Vec<c_int> = args
            .iter()
            .map(|a| match a {
                Arg::I32(_) | Arg::F32(_) => 4,
                _ => 8,
            })
            .collect();
        let mut ptrs: Vec<*mut c_void> = store
            .iter_mut()
            .map(|v| (v as *mut u64).cast::<c_void>())
            .collect();
        let name = CString::new(k.name()).map_err(|e| CudaError::Config(e.to_string()))?;
        let (g, b) = (dims.grid, dims.block);
        // The emulated launch state (grid and block sizes, the block barrier) is global:
        // one launch at a time in the process (tests run in parallel threads).
        static LAUNCH: Mutex<()> = Mutex::new(());
        let _one = LAUNCH
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: the argument array holds `args.len()` pointers to 8-byte slots (4-byte
        // values in the low half, little-endian), as cuLaunchKernel's `kernelParams`; the
        // launcher checks the count and sizes against the kernel's signature.
        let rc = unsafe {
            (self.launch)(
                name.as_ptr(),
                g.0,
                g.1,
                g.2,
                b.0,
                b.1,
                b.2,
                ptrs.as_mut_ptr(),
                sizes.as_ptr(),
                args.len() as c_int,
            )
        };
        if rc != 0 {
            return Err(CudaError::Config(format!(
                "emulated launch of {} failed with code {rc} (1000+n: wrong argument count n; 100+i: argument i has the wrong size)",
                k.name()
            )));
        }
        Ok(())
    }

    /// Checks that `len` elements of `esz` bytes at `ptr` lie inside one allocation.
    fn check(&self, what: &str, ptr: u64, len_elems: usize, esz: usize) -> Result<(), CudaError> {
        let bytes = (len_elems * esz) as u64;
        let ok = self.allocations.lock().is_ok_and(|a| {
            a.iter()
                .any(|&(p, n)| ptr >= p && ptr + bytes <= p + n as u64)
        });
        if ok {
            Ok(())
        } else {
            Err(CudaError::Config(format!(
                "GEMM operand {what}: {len_elems} elements at {ptr:#x} outside every allocation"
            )))
        }
    }

    fn run_gemm(
        &self,
        c: &GemmCall,
        input: cudaDataType,
        output: cudaDataType,
        compute: cublasComputeType_t,
    ) -> Result<(), CudaError> {
        let esz = |t: cudaDataType| match t {
            cudaDataType::CUDA_R_16BF => Ok(2usize),
            cudaDataType::CUDA_R_32F => Ok(4usize),
            other => Err(CudaError::Config(format!("emulated GEMM type {other:?}"))),
        };
        let (ein, eout) = (esz(input)?, esz(output)?);
        let valid = match compute {
            cublasComputeType_t::CUBLAS_COMPUTE_32F_PEDANTIC
            | cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32 => {
                input == cudaDataType::CUDA_R_32F && output == cudaDataType::CUDA_R_32F
            }
            cublasComputeType_t::CUBLAS_COMPUTE_32F => true,
            _ => false,
        };
        if !valid {
            return Err(CudaError::Config(format!(
                "GEMM types {input:?}/{output:?} with {compute:?}"
            )));
        }
        let tf32 = compute == cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32;
        let (ar, ac) = if c.trans_a { (c.k, c.m) } else { (c.m, c.k) };
        let (br, bc) = if c.trans_b { (c.n, c.k) } else { (c.k, c.n) };
        if c.lda < ar.max(1) || c.ldb < br.max(1) || c.ldc < c.m.max(1) {
            return Err(CudaError::Config(format!("GEMM leading dimensions {c:?}")));
        }
        let extent = |rows: usize, cols: usize, ld: usize| {
            if rows == 0 || cols == 0 {
                0
            } else {
                (cols - 1) * ld + rows
            }
        };
        for bi in 0..c.batch {
            let a = c.a + (bi * c.stride_a * ein) as u64;
            let b = c.b + (bi * c.stride_b * ein) as u64;
            let out = c.c + (bi * c.stride_c * eout) as u64;
            self.check("A", a, extent(ar, ac, c.lda), ein)?;
            self.check("B", b, extent(br, bc, c.ldb), ein)?;
            self.check("C", out, extent(c.m, c.n, c.ldc), eout)?;
            let get = |base: u64, idx: usize| {
                // SAFETY: inside an allocation (checked above).
                let v = unsafe {
                    if ein == 2 {
                        f32::from_bits(u32::from(*(base as *const u16).add(idx)) << 16)
                    } else {
                        *(base as *const f32).add(idx)
                    }
                };
                f64::from(if tf32 { round_tf32(v) } else { v })
            };
            let mut result = vec![0f32; c.m * c.n];
            for j in 0..c.n {
                for i in 0..c.m {
                    let mut acc = 0f64;
                    for p in 0..c.k {
                        let av = if c.trans_a {
                            get(a, p + i * c.lda)
                        } else {
                            get(a, i + p * c.lda)
                        };
                        let bv = if c.trans_b {
                            get(b, j + p * c.ldb)
                        } else {
                            get(b, p + j * c.ldb)
                        };
                        acc += av * bv;
                    }
                    let idx = i + j * c.ldc;
                    let old = if c.beta == 0.0 {
                        0.0
                    } else {
                        // SAFETY: inside an allocation (checked above).
                        f64::from(unsafe {
                            if eout == 2 {
                                f32::from_bits(u32::from(*(out as *const u16).add(idx)) << 16)
                            } else {
                                *(out as *const f32).add(idx)
                            }
                        })
                    };
                    result[i + j * c.m] = (f64::from(c.alpha) * f64::from(acc as f32)
                        + f64::from(c.beta) * old) as f32;
                }
            }
            for j in 0..c.n {
                for i in 0..c.m {
                    let idx = i + j * c.ldc;
                    let v = result[i + j * c.m];
                    // SAFETY: inside an allocation (checked above).
                    unsafe {
                        if eout == 2 {
                            *(out as *mut u16).add(idx) = bf16_bits(v);
                        } else {
                            *(out as *mut f32).add(idx) = v;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Rounds to TF32 (10 mantissa bits, to nearest even), as the tensor cores read operands.
fn round_tf32(v: f32) -> f32 {
    let b = v.to_bits();
    if !v.is_finite() {
        return v;
    }
    f32::from_bits((b + 0xFFF + ((b >> 13) & 1)) & !0x1FFF)
}

fn bf16_bits(v: f32) -> u16 {
    let u = v.to_bits();
    if v.is_nan() {
        return ((u >> 16) | 0x40) as u16;
    }
    ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) as u16
}
