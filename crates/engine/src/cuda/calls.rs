//! What is asked of the device, in the terms both backends execute: kernel ids and their
//! arguments, launch dimensions, strided-batched GEMM calls. Shared by the CUDA
//! device (`device/`) and the CPU emulator (`emu.rs`); depends on neither, so that the
//! device depends on the emulator and not the other way round.

/// The kernels of [`KERNELS_CU`](crate::cuda::KERNELS_CU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KernelId {
    StepKeys,
    AdvanceStep,
    Input,
    Hidden,
    Mse,
    Loss,
    Backward,
    BiasUpdate,
    WeightUpdate,
    ToBf16,
    AdamStep,
    Xent,
}

impl KernelId {
    pub(crate) const ALL: [KernelId; 12] = [
        KernelId::StepKeys,
        KernelId::AdvanceStep,
        KernelId::Input,
        KernelId::Hidden,
        KernelId::Mse,
        KernelId::Loss,
        KernelId::Backward,
        KernelId::BiasUpdate,
        KernelId::WeightUpdate,
        KernelId::ToBf16,
        KernelId::AdamStep,
        KernelId::Xent,
    ];

    /// The `extern "C"` name in the source.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KernelId::StepKeys => "np_step_keys",
            KernelId::AdvanceStep => "np_advance_step",
            KernelId::Input => "np_input",
            KernelId::Hidden => "np_hidden",
            KernelId::Mse => "np_mse",
            KernelId::Loss => "np_loss",
            KernelId::Backward => "np_backward",
            KernelId::BiasUpdate => "np_bias_update",
            KernelId::WeightUpdate => "np_weight_update",
            KernelId::ToBf16 => "np_to_bf16",
            KernelId::AdamStep => "np_adam_step",
            KernelId::Xent => "np_xent",
        }
    }
}

/// A kernel argument: a device address or a scalar of the kernel's parameter type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Arg {
    /// A device pointer.
    Ptr(u64),
    /// `int`.
    I32(i32),
    /// `long long`.
    I64(i64),
    /// `float`.
    F32(f32),
    /// `double`.
    F64(f64),
}

/// A launch's grid and block dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dims {
    pub grid: (u32, u32, u32),
    pub block: (u32, u32, u32),
}

/// A strided-batched GEMM in cuBLAS's column-major terms (see `Device::gemm`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GemmCall {
    pub trans_a: bool,
    pub trans_b: bool,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: u64,
    pub lda: usize,
    pub stride_a: usize,
    pub b: u64,
    pub ldb: usize,
    pub stride_b: usize,
    pub c: u64,
    pub ldc: usize,
    pub stride_c: usize,
    pub batch: usize,
    pub alpha: f32,
    pub beta: f32,
}
