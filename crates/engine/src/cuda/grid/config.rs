//! The set-up of a [`GpuGrid`](super::GpuGrid): arithmetic, the networks ([`NetSpec`]) and
//! their shared shape and training setup ([`GridConfig`]: the optimiser is the CPU engine's
//! [`OptimizerConfig`], the loss its [`Loss`]).

use cudarc::cublas::sys::{cublasComputeType_t, cudaDataType};
use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

use crate::cuda::error::CudaError;
use crate::cuda::kernels::opt_code;
use crate::gpu_support::Precision;
use crate::loss::Loss;
use crate::optim::OptimizerConfig;

/// The cuBLAS operand type of a precision.
pub(super) fn operand_type(p: Precision) -> cudaDataType {
    if p.is_bf16() {
        cudaDataType::CUDA_R_16BF
    } else {
        cudaDataType::CUDA_R_32F
    }
}

/// The cuBLAS compute type of a precision.
pub(super) fn compute_type(p: Precision) -> cublasComputeType_t {
    match p {
        Precision::Fp32 => cublasComputeType_t::CUBLAS_COMPUTE_32F_PEDANTIC,
        Precision::Tf32 => cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32,
        Precision::Bf16 => cublasComputeType_t::CUBLAS_COMPUTE_32F,
    }
}

/// The kernel's optimiser code (`NP_OPT_*`) of `o`. Plain SGD (μ = 0 in f32) has the
/// update fused into the weight-gradient GEMM (β = 1) and keeps no velocity.
pub(super) fn kernel_opt_code(o: &OptimizerConfig) -> i32 {
    match *o {
        OptimizerConfig::Sgd { momentum, .. } if momentum as f32 == 0.0 => opt_code::SGD,
        OptimizerConfig::Sgd { .. } => opt_code::MOMENTUM,
        OptimizerConfig::Adam { .. } => opt_code::ADAM,
    }
}

/// Checks a grid's optimiser: a finite learning rate (0 and negative ones run too),
/// μ (as the kernels see it, in f32), β₁, β₂ in [0, 1), ε > 0.
fn validate_optimizer(o: &OptimizerConfig) -> Result<(), CudaError> {
    if !o.lr().is_finite() {
        return Err(CudaError::Config("lr must be finite".to_string()));
    }
    let unit = |v: f64| v.is_finite() && (0.0..1.0).contains(&v);
    let ok = match *o {
        OptimizerConfig::Sgd { momentum, .. } => unit(f64::from(momentum as f32)),
        OptimizerConfig::Adam {
            beta1, beta2, eps, ..
        } => unit(beta1) && unit(beta2) && eps.is_finite() && eps > 0.0,
    };
    if ok {
        Ok(())
    } else {
        Err(CudaError::Config(format!(
            "optimiser {o:?} is out of range; valid: momentum, β₁, β₂ in [0, 1), ε > 0"
        )))
    }
}

/// One network of a grid: its [`Network`] (φ, noise, σ_w², σ_b²) and seed. The networks
/// of one grid share φ (one kernel argument); noise and initialisation may differ.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSpec {
    /// φ (one the GPU implements, [`crate::gpu_support`]), the noise stack on every layer
    /// input (dropout, gauss-mult and gauss-add stages), W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²).
    pub network: Network,
    /// The run's seed: weights from `Key::new(seed).child(WEIGHTS).child(l)`, noise from
    /// `Key::new(seed).child(NOISE).child(t).child(l)` (docs/engine-semantics.md).
    pub seed: u64,
    /// σ_w² of the output layer (`None`: the same as the hidden layers).
    pub sigma_w2_out: Option<f64>,
}

impl NetSpec {
    /// `network` with `seed`, the output layer initialised as the hidden ones.
    pub fn new(network: Network, seed: u64) -> Self {
        NetSpec {
            network,
            seed,
            sigma_w2_out: None,
        }
    }

    /// ReLU with inverted dropout of keep probability `keep` at its critical initialisation
    /// σ_w² = 2·keep, zero biases (the Fig. 6 networks).
    ///
    /// # Errors
    /// `keep` outside (0, 1].
    pub fn critical_dropout(keep: f64, seed: u64) -> Result<Self, CudaError> {
        let network = Network::new(
            Activation::Relu,
            Noise::from_law(NoiseLaw::Dropout { keep }),
            2.0 * keep,
            0.0,
        )
        .map_err(|e| CudaError::Config(e.to_string()))?;
        Ok(NetSpec::new(network, seed))
    }

    /// σ_w² of the output layer.
    pub fn output_sigma_w2(&self) -> f64 {
        self.sigma_w2_out.unwrap_or(self.network.sigma_w2())
    }
}

/// The shape and training setup shared by the networks of a [`GpuGrid`](super::GpuGrid).
#[derive(Debug, Clone, PartialEq)]
pub struct GridConfig {
    /// Input dimension.
    pub d_in: usize,
    /// Hidden width.
    pub width: usize,
    /// Number of hidden layers (`depth + 1` weight matrices).
    pub depth: usize,
    /// Output dimension.
    pub d_out: usize,
    /// Largest batch (buffers are sized for it; smaller batches run too).
    pub batch: usize,
    /// Apply φ to the raw input (the paper code's convention).
    pub input_activation: bool,
    /// Apply the noise to the raw input.
    pub input_noise: bool,
    /// The optimiser and its learning rate: the arithmetic of `optim.rs`, element by
    /// element (kernel `np_opt_apply`; Adam's update count t is kept on the device), lr
    /// and hyper-parameters rounded to f32 as the CPU optimiser rounds them. Plain SGD
    /// (μ = 0) is fused into the weight-gradient GEMM (β = 1) and keeps no velocity.
    pub optimizer: OptimizerConfig,
    /// The loss: MSE against the targets (the inputs for reconstruction), or softmax
    /// cross-entropy against one-hot targets (rows × d_out, one 1 per row: the class is
    /// the first largest entry), per-network accuracy tracked too.
    pub loss: Loss,
    /// Arithmetic of the products.
    pub precision: Precision,
    /// Capture one training step as a CUDA graph and replay it (falls back to direct
    /// launches if capture fails).
    pub use_graphs: bool,
    /// Steps of per-network losses kept on the device between read-backs.
    pub loss_history: usize,
    /// Optimisation step index of the first step (noise keys use it).
    pub first_step: u64,
}

impl GridConfig {
    /// The Fig. 6 MNIST setup at `depth`: 784 → depth × 1000 → 784, φ also on the
    /// input (ReLU: a no-op on pixels), noise on the input too, batch 128, plain SGD lr 10⁻³.
    pub fn paper(depth: usize, precision: Precision) -> Self {
        GridConfig {
            d_in: 784,
            width: 1000,
            depth,
            d_out: 784,
            batch: 128,
            input_activation: true,
            input_noise: true,
            optimizer: OptimizerConfig::sgd(1e-3),
            loss: Loss::Mse,
            precision,
            use_graphs: true,
            loss_history: 512,
            first_step: 0,
        }
    }

    /// Layer sizes: input, `depth` × width, output.
    pub fn dims(&self) -> Vec<usize> {
        let mut d = vec![self.d_in];
        d.extend(std::iter::repeat_n(self.width, self.depth));
        d.push(self.d_out);
        d
    }

    pub(super) fn validate(&self) -> Result<(), CudaError> {
        let bad = |what: &str| Err(CudaError::Config(what.to_string()));
        if self.d_in == 0 || self.d_out == 0 || (self.depth > 0 && self.width == 0) {
            return bad("layer sizes must be positive");
        }
        if self.batch == 0 {
            return bad("batch must be positive");
        }
        validate_optimizer(&self.optimizer)?;
        if self.loss_history == 0 {
            return bad("loss_history must be positive");
        }
        Ok(())
    }
}
