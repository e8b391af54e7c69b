//! The small types a [`Device`](super::Device) works with: device buffers and graphs,
//! profile phases, matrices (kernel ids, arguments, launch dimensions and GEMM calls,
//! which the emulator shares, are in `cuda/calls.rs`).

use cudarc::driver::{CudaGraph, CudaSlice, DeviceRepr};

/// Element types of device buffers.
pub(crate) trait Elem:
    DeviceRepr + cudarc::driver::ValidAsZeroBits + Copy + Default + std::fmt::Debug + 'static
{
}
impl Elem for u8 {}
impl Elem for u16 {}
impl Elem for u32 {}
impl Elem for u64 {}
impl Elem for f32 {}
impl Elem for f64 {}

/// A device buffer (on the GPU, or host memory under the test emulator).
pub(crate) struct DevBuf<T: Elem> {
    pub(super) inner: BufInner<T>,
}

pub(crate) enum BufInner<T: Elem> {
    Cuda(CudaSlice<T>),
    #[cfg(any(test, feature = "cuda-emulator"))]
    Host(Vec<T>),
}

impl<T: Elem> DevBuf<T> {
    pub(crate) fn len(&self) -> usize {
        match &self.inner {
            BufInner::Cuda(s) => s.len(),
            #[cfg(any(test, feature = "cuda-emulator"))]
            BufInner::Host(v) => v.len(),
        }
    }
}

/// A captured training step, replayed by [`Device::launch_graph`].
pub(crate) enum Graph {
    Cuda(CudaGraph),
    #[cfg(any(test, feature = "cuda-emulator"))]
    Emu(Vec<crate::cuda::emu::Op>),
}

/// What a span of device time of a training step was spent on (see
/// [`Device::start_profile`](super::Device::start_profile)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Per-step noise keys.
    NoiseKeys,
    /// Forward products x̃ˡ·Wᵀ.
    ForwardProducts,
    /// Fused bias + activation + noise (and the backward factor) of the forward pass.
    ForwardElementwise,
    /// Output layer: MSE, its gradient and the per-network loss.
    Loss,
    /// Products of the input gradients δ·W.
    InputGradProducts,
    /// Weight-gradient products (with plain SGD, the update fused in: β = 1).
    WeightProducts,
    /// The optimiser's update of the weights (momentum and Adam only).
    WeightUpdate,
    /// Bias gradient and update.
    BiasUpdate,
    /// δˡ = (δ·W) ⊙ φ′ ⊙ ε.
    BackwardElementwise,
    /// The bf16 copy of the fp32 master weights.
    Bf16Copy,
    /// Step counter and anything else.
    Other,
}

impl Phase {
    /// Every phase, in step order.
    pub const ALL: [Phase; 11] = [
        Phase::NoiseKeys,
        Phase::ForwardProducts,
        Phase::ForwardElementwise,
        Phase::Loss,
        Phase::InputGradProducts,
        Phase::WeightProducts,
        Phase::WeightUpdate,
        Phase::BiasUpdate,
        Phase::BackwardElementwise,
        Phase::Bf16Copy,
        Phase::Other,
    ];

    /// A snake_case name (JSON keys).
    pub fn name(self) -> &'static str {
        match self {
            Phase::NoiseKeys => "noise_keys",
            Phase::ForwardProducts => "forward_products",
            Phase::ForwardElementwise => "forward_elementwise",
            Phase::Loss => "loss",
            Phase::InputGradProducts => "input_grad_products",
            Phase::WeightProducts => "weight_products",
            Phase::WeightUpdate => "weight_update",
            Phase::BiasUpdate => "bias_update",
            Phase::BackwardElementwise => "backward_elementwise",
            Phase::Bf16Copy => "bf16_copy",
            Phase::Other => "other",
        }
    }

    /// The phases with non-zero time in `ms` (indexed as [`Phase::ALL`]), in that order.
    pub(crate) fn nonzero(ms: &[f64; Phase::ALL.len()]) -> Vec<(Phase, f64)> {
        Phase::ALL
            .iter()
            .zip(ms)
            .filter(|(_, t)| **t > 0.0)
            .map(|(&p, &t)| (p, t))
            .collect()
    }

    /// Whether the phase is a cuBLAS product.
    pub fn is_product(self) -> bool {
        matches!(
            self,
            Phase::ForwardProducts | Phase::InputGradProducts | Phase::WeightProducts
        )
    }
}

/// A row-major matrix in device memory (see [`Device::upload_matrix`](super::Device::upload_matrix)).
pub struct DeviceMatrix {
    pub(crate) data: DevBuf<f32>,
    pub(super) rows: usize,
    pub(super) cols: usize,
}

impl std::fmt::Debug for DeviceMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceMatrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .finish_non_exhaustive()
    }
}

impl DeviceMatrix {
    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}
