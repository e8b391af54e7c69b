//! [`GpuGrid`]: G noisy MLPs of one shape trained side by side on the same batches.

use std::str::FromStr;
use std::sync::Arc;

use cudarc::cublas::sys::{cublasComputeType_t, cudaDataType};
use noisyprop_theory::{Activation, Noise, NoiseLaw};

use super::device::{Arg, DevBuf, Device, DeviceMatrix, Dims, GemmCall, Graph, KernelId, Phase};
use super::error::CudaError;
use super::kernels::{MAX_STAGES, act_code, noise_kind, opt_code};
use crate::noise::{NoiseSampler, Stage};
use crate::rng::{Key, fill_normal_f32, tags};

/// Arithmetic of the matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// fp32 storage and fp32 FMA math (`CUBLAS_COMPUTE_32F_PEDANTIC`: no TF32, no
    /// reduced-precision shortcuts).
    Fp32,
    /// fp32 storage, TF32 tensor-core math (`CUBLAS_COMPUTE_32F_FAST_TF32`).
    Tf32,
    /// bf16 storage of the product operands (weights, layer inputs, deltas) with fp32
    /// accumulation; fp32 master weights receive the update, and the bias, loss and
    /// element-wise work stay in fp32.
    Bf16,
}

impl Precision {
    /// All precisions, most exact first.
    pub const ALL: [Precision; 3] = [Precision::Fp32, Precision::Tf32, Precision::Bf16];

    /// "fp32", "tf32" or "bf16".
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Tf32 => "tf32",
            Precision::Bf16 => "bf16",
        }
    }

    /// Relative tolerance of the CPU-vs-GPU parity check for a smooth φ (see
    /// [`super::parity::parity_tolerances`] for ReLU):
    ///
    /// * fp32: both sides round each product to fp32 with different summation orders:
    ///   about √k·2⁻²⁴ ≈ 2·10⁻⁶ relative per product for k ≤ 1000, growing over a few
    ///   layers and steps; 10⁻⁴ leaves a margin of ~25 while catching any logic error.
    /// * tf32: operands rounded to 10 mantissa bits (2⁻¹¹ ≈ 5·10⁻⁴ each), so products
    ///   are off by ~10⁻³ relative; 10⁻² leaves a margin of ~10.
    /// * bf16: 7 mantissa bits (2⁻⁸ ≈ 4·10⁻³ per rounding), and the layer inputs and
    ///   deltas are rounded again at every layer: ~10⁻² after a few layers; 5·10⁻².
    pub fn parity_tolerance(self) -> f64 {
        match self {
            Precision::Fp32 => 1e-4,
            Precision::Tf32 => 1e-2,
            Precision::Bf16 => 5e-2,
        }
    }

    pub(crate) fn is_bf16(self) -> bool {
        self == Precision::Bf16
    }

    /// Bytes of one product operand.
    pub(crate) fn operand_bytes(self) -> usize {
        if self.is_bf16() { 2 } else { 4 }
    }

    fn operand_type(self) -> cudaDataType {
        if self.is_bf16() {
            cudaDataType::CUDA_R_16BF
        } else {
            cudaDataType::CUDA_R_32F
        }
    }

    fn compute_type(self) -> cublasComputeType_t {
        match self {
            Precision::Fp32 => cublasComputeType_t::CUBLAS_COMPUTE_32F_PEDANTIC,
            Precision::Tf32 => cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32,
            Precision::Bf16 => cublasComputeType_t::CUBLAS_COMPUTE_32F,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = CudaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" => Ok(Precision::Fp32),
            "tf32" => Ok(Precision::Tf32),
            "bf16" => Ok(Precision::Bf16),
            other => Err(CudaError::Config(format!(
                "precision `{other}` is not one of fp32, tf32, bf16"
            ))),
        }
    }
}

/// The optimiser of a grid: the arithmetic of `optim.rs`, element by element (kernel
/// `np_opt_apply`); hyper-parameters are rounded to f32 as the CPU optimiser rounds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridOptimizer {
    /// SGD with momentum μ ∈ [0, 1): `v ← μ·v + g; w ← w − lr·v`. With μ = 0 (plain SGD)
    /// the update is fused into the weight-gradient GEMM (β = 1) and no velocity is kept.
    Sgd {
        /// μ.
        momentum: f32,
    },
    /// Adam with bias correction (`optim::Adam`): first/second moments per parameter,
    /// the update count t kept on the device.
    Adam {
        /// β₁ ∈ [0, 1).
        beta1: f64,
        /// β₂ ∈ [0, 1).
        beta2: f64,
        /// ε > 0.
        eps: f64,
    },
}

impl GridOptimizer {
    /// Plain SGD.
    pub const SGD: GridOptimizer = GridOptimizer::Sgd { momentum: 0.0 };

    /// Adam with the CPU engine's defaults (β₁ 0.9, β₂ 0.999, ε 10⁻⁸).
    pub const ADAM: GridOptimizer = GridOptimizer::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };

    /// SGD with momentum μ.
    pub fn sgd(momentum: f32) -> Self {
        GridOptimizer::Sgd { momentum }
    }

    /// The kernel's optimiser code (`NP_OPT_*`).
    fn code(self) -> i32 {
        match self {
            GridOptimizer::Sgd { momentum: 0.0 } => opt_code::SGD,
            GridOptimizer::Sgd { .. } => opt_code::MOMENTUM,
            GridOptimizer::Adam { .. } => opt_code::ADAM,
        }
    }

    fn validate(self) -> Result<(), CudaError> {
        let unit = |v: f64| v.is_finite() && (0.0..1.0).contains(&v);
        let ok = match self {
            GridOptimizer::Sgd { momentum } => unit(f64::from(momentum)),
            GridOptimizer::Adam { beta1, beta2, eps } => {
                unit(beta1) && unit(beta2) && eps.is_finite() && eps > 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(CudaError::Config(format!(
                "optimiser {self:?} is out of range; valid: momentum, β₁, β₂ in [0, 1), ε > 0"
            )))
        }
    }
}

impl std::fmt::Display for GridOptimizer {
    /// "sgd", "sgd momentum 0.9" or "adam".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GridOptimizer::Sgd { momentum: 0.0 } => f.write_str("sgd"),
            GridOptimizer::Sgd { momentum } => write!(f, "sgd momentum {momentum}"),
            GridOptimizer::Adam { .. } => f.write_str("adam"),
        }
    }
}

/// The loss of a grid (`loss.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridLoss {
    /// Mean squared error against the targets (the inputs for reconstruction).
    Mse,
    /// Softmax cross-entropy against one-hot targets (rows × d_out, one 1 per row: the
    /// class is the first largest entry); per-network accuracy is tracked too.
    SoftmaxCrossEntropy,
}

/// One network of a grid: its seed, noise and initialisation variances.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSpec {
    /// The run's seed: weights from `Key::new(seed).child(WEIGHTS).child(l)`, noise from
    /// `Key::new(seed).child(NOISE).child(t).child(l)` (docs/engine-semantics.md).
    pub seed: u64,
    /// The noise stack on every layer input (dropout, gauss-mult and gauss-add stages).
    pub noise: Noise,
    /// σ_w² of the hidden layers (weights N(0, σ_w²/fan_in)).
    pub sigma_w2: f64,
    /// σ_w² of the output layer (`None`: the same as the hidden layers).
    pub sigma_w2_out: Option<f64>,
    /// σ_b² (0: zero biases).
    pub sigma_b2: f64,
}

impl NetSpec {
    /// Inverted dropout with keep probability `keep` at its critical initialisation
    /// σ_w² = 2·keep, zero biases (the Fig. 6 networks).
    pub fn critical_dropout(keep: f64, seed: u64) -> Self {
        NetSpec {
            seed,
            noise: Noise::from_law(NoiseLaw::Dropout { keep }),
            sigma_w2: 2.0 * keep,
            sigma_w2_out: None,
            sigma_b2: 0.0,
        }
    }
}

/// A network's parameters: `weights[l]` is W^{l+1} (row-major out × in), `biases[l]` is
/// b^{l+1}, for l = 0 ..= depth.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetParams {
    /// Weight matrices, input layer first.
    pub weights: Vec<Vec<f32>>,
    /// Bias vectors, input layer first.
    pub biases: Vec<Vec<f32>>,
}

/// Initialises a network of layer sizes `dims` (input, hidden…, output) as
/// docs/engine-semantics.md prescribes: W^l ~ N(0, σ_w²/fan_in) from the sequential stream
/// `Key::new(seed).child(WEIGHTS).child(l)` (row-major), biases zero or N(0, σ_b²) from
/// `child(BIASES).child(l)`.
pub fn init_params(dims: &[usize], spec: &NetSpec) -> NetParams {
    let root = Key::new(spec.seed);
    let layers = dims.len().saturating_sub(1);
    let mut p = NetParams::default();
    for l in 1..=layers {
        let (fan_in, out) = (dims[l - 1], dims[l]);
        let sigma_w2 = if l == layers {
            spec.sigma_w2_out.unwrap_or(spec.sigma_w2)
        } else {
            spec.sigma_w2
        };
        let mut w = vec![0f32; out * fan_in];
        let std = (sigma_w2 / fan_in as f64).sqrt() as f32;
        fill_normal_f32(&mut w, std, root.child(tags::WEIGHTS).child(l as u64));
        let mut b = vec![0f32; out];
        if spec.sigma_b2 > 0.0 {
            fill_normal_f32(
                &mut b,
                spec.sigma_b2.sqrt() as f32,
                root.child(tags::BIASES).child(l as u64),
            );
        }
        p.weights.push(w);
        p.biases.push(b);
    }
    p
}

/// The shape and training setup shared by the networks of a [`GpuGrid`].
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
    /// φ: Relu, LeakyRelu, Linear, Abs or Tanh.
    pub activation: Activation,
    /// Apply φ to the raw input (the paper code's convention).
    pub input_activation: bool,
    /// Apply the noise to the raw input.
    pub input_noise: bool,
    /// Learning rate.
    pub lr: f32,
    /// The optimiser.
    pub optimizer: GridOptimizer,
    /// The loss.
    pub loss: GridLoss,
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
    /// The Fig. 6 MNIST setup at `depth`: 784 → depth × 1000 → 784, ReLU (also on the
    /// input, a no-op on pixels), noise on the input too, batch 128, plain SGD lr 10⁻³.
    pub fn paper(depth: usize, precision: Precision) -> Self {
        GridConfig {
            d_in: 784,
            width: 1000,
            depth,
            d_out: 784,
            batch: 128,
            activation: Activation::Relu,
            input_activation: true,
            input_noise: true,
            lr: 1e-3,
            optimizer: GridOptimizer::SGD,
            loss: GridLoss::Mse,
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

    fn validate(&self) -> Result<(), CudaError> {
        let bad = |what: &str| Err(CudaError::Config(what.to_string()));
        if self.d_in == 0 || self.d_out == 0 || (self.depth > 0 && self.width == 0) {
            return bad("layer sizes must be positive");
        }
        if self.batch == 0 {
            return bad("batch must be positive");
        }
        if !self.lr.is_finite() {
            return bad("lr must be finite");
        }
        self.optimizer.validate()?;
        if self.loss_history == 0 {
            return bad("loss_history must be positive");
        }
        activation_code(self.activation)?;
        Ok(())
    }
}

fn activation_code(act: Activation) -> Result<(i32, f32), CudaError> {
    Ok(match act {
        Activation::Relu => (act_code::RELU, 0.0),
        Activation::LeakyRelu { slope } => (act_code::LEAKY_RELU, slope as f32),
        Activation::Linear => (act_code::LINEAR, 0.0),
        Activation::Abs => (act_code::ABS, 0.0),
        Activation::Tanh => (act_code::TANH, 0.0),
        other => {
            return Err(CudaError::Config(format!(
                "activation {other} is not implemented on the GPU (relu, leaky-relu, linear, abs, tanh are)"
            )));
        }
    })
}

/// (kind, dropout threshold, parameter) per stage: the dropout scale 1/keep or the
/// Gaussian std, rounded to f32 as the CPU sampler does.
fn noise_stages(noise: &Noise) -> Result<Vec<(u32, u64, f32)>, CudaError> {
    let sampler = NoiseSampler::new(noise).map_err(|e| CudaError::Config(e.to_string()))?;
    let stages = sampler
        .stages()
        .iter()
        .map(|s| match *s {
            Stage::Dropout { keep, threshold } => {
                Ok((noise_kind::DROPOUT, threshold, (1.0 / keep) as f32))
            }
            Stage::GaussMult(std) => Ok((noise_kind::GAUSS_MULT, 0, std as f32)),
            Stage::GaussAdd(std) => Ok((noise_kind::GAUSS_ADD, 0, std as f32)),
            other => Err(CudaError::Config(format!(
                "noise stage {other:?} is not implemented on the GPU (dropout, gauss-mult, gauss-add are)"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if stages.len() > MAX_STAGES {
        return Err(CudaError::Config(format!(
            "{} noise stages; the GPU supports at most {MAX_STAGES}",
            stages.len()
        )));
    }
    Ok(stages)
}

/// Threads per block of the element-wise kernels.
const THREADS: u32 = 256;

fn ew_dims(total: usize, g: usize, max_blocks: usize) -> Dims {
    let blocks = total.div_ceil(THREADS as usize).clamp(1, max_blocks) as u32;
    Dims {
        grid: (blocks, g as u32, 1),
        block: (THREADS, 1, 1),
    }
}

/// Blocks per network of the MSE reduction (a function of the batch only, so the loss is
/// deterministic).
fn mse_blocks(total: usize) -> usize {
    total.div_ceil(THREADS as usize).clamp(1, 64)
}

const SINGLE: Dims = Dims {
    grid: (1, 1, 1),
    block: (1, 1, 1),
};

/// G networks of the same shape, differing in seed, noise and initialisation, trained
/// on the same batches. The matrix products of all G networks are single cuBLAS
/// strided-batched GEMMs; the element-wise work is fused kernels (see the module docs).
pub struct GpuGrid {
    // Graphs first: they are destroyed before the buffers they reference.
    /// Captured steps by (batch rows, targets = inputs).
    graphs: Vec<((usize, bool), Graph)>,
    warmed: Vec<(usize, bool)>,
    graph_error: Option<String>,
    dev: Arc<Device>,
    cfg: GridConfig,
    g: usize,
    dims: Vec<usize>,
    act: (i32, f32),
    has_noise: bool,
    // Parameters: [layer][network][out][in] fp32 master, bf16 copy; the optimiser's
    // first moment (momentum velocity or Adam's m) and second moment (Adam's v), the
    // gradient of one layer (unless plain SGD fuses the update into the GEMM).
    w: DevBuf<f32>,
    w_half: Option<DevBuf<u16>>,
    w_m: Option<DevBuf<f32>>,
    w_v: Option<DevBuf<f32>>,
    w_grad: Option<DevBuf<f32>>,
    w_off: Vec<usize>,
    b: DevBuf<f32>,
    b_m: Option<DevBuf<f32>>,
    b_v: Option<DevBuf<f32>>,
    b_off: Vec<usize>,
    // Adam's update count and bias corrections (1 − β₁ᵗ, 1 − β₂ᵗ).
    adam_t: DevBuf<u64>,
    adam_bc: DevBuf<f32>,
    // The batch (shared by the networks).
    x_in: DevBuf<f32>,
    y: DevBuf<f32>,
    rows: usize,
    reconstruct: bool,
    // Activations: x̃ˡ per layer input in the operand type, backward factors for l ≥ 1.
    xt: Vec<DevBuf<u8>>,
    fac: Vec<DevBuf<f32>>,
    z: DevBuf<f32>,
    delta: DevBuf<f32>,
    delta_h: Option<DevBuf<u16>>,
    partial: DevBuf<f32>,
    // Noise: per-network stages, root keys, per-step keys, the step counter.
    st_kind: DevBuf<u32>,
    st_thr: DevBuf<u64>,
    st_par: DevBuf<f32>,
    root: DevBuf<u64>,
    keys: DevBuf<u64>,
    step_dev: DevBuf<u64>,
    // Losses (and accuracies, softmax cross-entropy only): per-step history, the
    // evaluation accumulator [G losses, G accuracies].
    hist: DevBuf<f32>,
    hist_acc: DevBuf<f32>,
    eval_acc: DevBuf<f64>,
    eval_batches: usize,
    step: u64,
    pending_from: u64,
    host_losses: Vec<Vec<f32>>,
    host_accuracies: Vec<Vec<f32>>,
}

impl std::fmt::Debug for GpuGrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuGrid")
            .field("networks", &self.g)
            .field("dims", &self.dims)
            .field("precision", &self.cfg.precision)
            .field("step", &self.step)
            .field("graphs", &self.graphs.len())
            .finish_non_exhaustive()
    }
}

/// Offsets of consecutive blocks of `sizes` elements, each rounded up to 128 elements
/// (256-byte alignment for bf16 and 512 for fp32), plus the total at the end.
fn offsets(sizes: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut off = vec![0];
    let mut total = 0;
    for s in sizes {
        total += s.div_ceil(128) * 128;
        off.push(total);
    }
    off
}

/// Byte address of element `elems` of a buffer of `T` starting at `base`.
fn at<T>(base: u64, elems: usize) -> u64 {
    base + (elems * std::mem::size_of::<T>()) as u64
}

impl GpuGrid {
    /// G = `nets.len()` networks initialised on the CPU with [`init_params`].
    ///
    /// # Errors
    /// Invalid or unsupported configuration; device errors (e.g. out of memory).
    pub fn new(dev: &Arc<Device>, cfg: GridConfig, nets: &[NetSpec]) -> Result<Self, CudaError> {
        cfg.validate()?;
        let dims = cfg.dims();
        let params = init_parallel(&dims, nets);
        Self::with_params(dev, cfg, nets, &params)
    }

    /// G networks with the given parameters (e.g. those of the CPU engine's networks).
    ///
    /// # Errors
    /// Shapes that do not match `cfg`; see [`GpuGrid::new`].
    pub fn with_params(
        dev: &Arc<Device>,
        cfg: GridConfig,
        nets: &[NetSpec],
        params: &[NetParams],
    ) -> Result<Self, CudaError> {
        cfg.validate()?;
        let g = nets.len();
        if g == 0 || g > 65_535 || params.len() != g {
            return Err(CudaError::Config(format!(
                "{g} network specs and {} parameter sets; need 1 ..= 65535 of each, equally many",
                params.len()
            )));
        }
        let dims = cfg.dims();
        let layers = dims.len() - 1;
        for (i, p) in params.iter().enumerate() {
            let ok = p.weights.len() == layers
                && p.biases.len() == layers
                && (0..layers).all(|l| {
                    p.weights[l].len() == dims[l + 1] * dims[l] && p.biases[l].len() == dims[l + 1]
                });
            if !ok {
                return Err(CudaError::Config(format!(
                    "parameters of network {i} do not match the layer sizes {dims:?}"
                )));
            }
        }
        let mut stages = Vec::with_capacity(g);
        for n in nets {
            stages.push(noise_stages(&n.noise)?);
        }
        Self::build(dev, cfg, nets, params, &stages, dims)
    }

    fn build(
        dev: &Arc<Device>,
        cfg: GridConfig,
        nets: &[NetSpec],
        params: &[NetParams],
        stages: &[Vec<(u32, u64, f32)>],
        dims: Vec<usize>,
    ) -> Result<Self, CudaError> {
        let g = nets.len();
        let layers = dims.len() - 1;
        let bf16 = cfg.precision.is_bf16();
        let bmax = cfg.batch;
        let max_n = dims.iter().copied().max().unwrap_or(1);

        // Parameters.
        let w_off = offsets((0..layers).map(|l| g * dims[l + 1] * dims[l]));
        let b_off = offsets((0..layers).map(|l| g * dims[l + 1]));
        let mut w = dev.alloc::<f32>(w_off[layers])?;
        let mut b = dev.alloc::<f32>(b_off[layers])?;
        for l in 0..layers {
            let mut host_w = Vec::with_capacity(w_off[l + 1] - w_off[l]);
            let mut host_b = Vec::with_capacity(b_off[l + 1] - b_off[l]);
            for p in params {
                host_w.extend_from_slice(&p.weights[l]);
                host_b.extend_from_slice(&p.biases[l]);
            }
            dev.write(&mut w, w_off[l], &host_w)?;
            dev.write(&mut b, b_off[l], &host_b)?;
        }
        let w_half = if bf16 {
            Some(dev.alloc::<u16>(w_off[layers])?)
        } else {
            None
        };
        let code = cfg.optimizer.code();
        let (first, second) = (code != opt_code::SGD, code == opt_code::ADAM);
        let moment = |on: bool, len: usize| on.then(|| dev.alloc::<f32>(len)).transpose();
        let max_layer = (0..layers)
            .map(|l| w_off[l + 1] - w_off[l])
            .max()
            .unwrap_or(1);
        let (w_m, w_v, w_grad) = (
            moment(first, w_off[layers])?,
            moment(second, w_off[layers])?,
            moment(first, max_layer)?,
        );
        let (b_m, b_v) = (
            moment(first, b_off[layers])?,
            moment(second, b_off[layers])?,
        );
        let adam_t = dev.alloc::<u64>(1)?;
        let adam_bc = dev.upload(&[1f32, 1f32])?;

        // Batch and activations.
        let x_in = dev.alloc::<f32>(bmax * cfg.d_in)?;
        let y = dev.alloc::<f32>(bmax * cfg.d_out)?;
        let op_bytes = cfg.precision.operand_bytes();
        let mut xt = Vec::with_capacity(layers);
        for &n in &dims[..layers] {
            xt.push(dev.alloc::<u8>(g * bmax * n * op_bytes)?);
        }
        let mut fac = Vec::with_capacity(cfg.depth);
        for &n in &dims[1..layers] {
            fac.push(dev.alloc::<f32>(g * bmax * n)?);
        }
        let z = dev.alloc::<f32>(g * bmax * max_n)?;
        let delta = dev.alloc::<f32>(g * bmax * max_n)?;
        let delta_h = if bf16 {
            Some(dev.alloc::<u16>(g * bmax * max_n)?)
        } else {
            None
        };
        let partial = dev.alloc::<f32>(g * 64)?;

        // Noise.
        let mut kind = vec![0u32; g * MAX_STAGES];
        let mut thr = vec![0u64; g * MAX_STAGES];
        let mut par = vec![0f32; g * MAX_STAGES];
        for (i, st) in stages.iter().enumerate() {
            for (s, &(k, t, p)) in st.iter().enumerate() {
                kind[i * MAX_STAGES + s] = k;
                thr[i * MAX_STAGES + s] = t;
                par[i * MAX_STAGES + s] = p;
            }
        }
        let has_noise = kind.iter().any(|&k| k != 0);
        let roots: Vec<u64> = nets
            .iter()
            .map(|n| Key::new(n.seed).child(tags::NOISE).0)
            .collect();
        let st_kind = dev.upload(&kind)?;
        let st_thr = dev.upload(&thr)?;
        let st_par = dev.upload(&par)?;
        let root = dev.upload(&roots)?;
        let keys = dev.alloc::<u64>(g * layers * MAX_STAGES)?;
        let step_dev = dev.upload(&[cfg.first_step])?;

        let hist = dev.alloc::<f32>(cfg.loss_history * g)?;
        let hist_acc = dev.alloc::<f32>(match cfg.loss {
            GridLoss::Mse => 1,
            GridLoss::SoftmaxCrossEntropy => cfg.loss_history * g,
        })?;
        let eval_acc = dev.alloc::<f64>(2 * g)?;
        let act = activation_code(cfg.activation)?;
        let step = cfg.first_step;

        let grid = GpuGrid {
            graphs: Vec::new(),
            warmed: Vec::new(),
            graph_error: None,
            dev: dev.clone(),
            g,
            dims,
            act,
            has_noise,
            w,
            w_half,
            w_m,
            w_v,
            w_grad,
            w_off,
            b,
            b_m,
            b_v,
            b_off,
            adam_t,
            adam_bc,
            x_in,
            y,
            rows: 0,
            reconstruct: true,
            xt,
            fac,
            z,
            delta,
            delta_h,
            partial,
            st_kind,
            st_thr,
            st_par,
            root,
            keys,
            step_dev,
            hist,
            hist_acc,
            eval_acc,
            eval_batches: 0,
            step,
            pending_from: step,
            host_losses: Vec::new(),
            host_accuracies: Vec::new(),
            cfg,
        };
        grid.enqueue_to_bf16()?;
        dev.synchronize()?;
        Ok(grid)
    }

    /// The configuration.
    pub fn config(&self) -> &GridConfig {
        &self.cfg
    }

    /// Number of networks G.
    pub fn networks(&self) -> usize {
        self.g
    }

    /// Index of the next optimisation step.
    pub fn step_index(&self) -> u64 {
        self.step
    }

    /// Whether steps run as a replayed CUDA graph (after the first step of a batch size),
    /// or why not.
    pub fn graph_status(&self) -> Result<bool, String> {
        match &self.graph_error {
            Some(e) => Err(e.clone()),
            None => Ok(self.cfg.use_graphs),
        }
    }

    /// Device memory held by this grid's buffers, in bytes.
    pub fn device_bytes(&self) -> usize {
        let f = |b: &DevBuf<f32>| b.len() * 4;
        let params = f(&self.w)
            + f(&self.b)
            + self.w_half.as_ref().map_or(0, |h| h.len() * 2)
            + [&self.w_m, &self.w_v, &self.w_grad, &self.b_m, &self.b_v]
                .iter()
                .map(|b| b.as_ref().map_or(0, f))
                .sum::<usize>();
        let acts = self.xt.iter().map(DevBuf::len).sum::<usize>()
            + self.fac.iter().map(f).sum::<usize>()
            + f(&self.z)
            + f(&self.delta)
            + self.delta_h.as_ref().map_or(0, |d| d.len() * 2);
        params + acts
    }

    /// Copies a host batch (`rows` × d_in, and `rows` × d_out targets; `None`: targets =
    /// inputs, the reconstruction task). Synchronises with the device (pageable copy);
    /// prefer [`GpuGrid::load_batch_device`] in loops.
    ///
    /// # Errors
    /// Sizes that do not match; device errors.
    pub fn load_batch(
        &mut self,
        x: &[f32],
        y: Option<&[f32]>,
        rows: usize,
    ) -> Result<(), CudaError> {
        self.check_batch(rows, x.len(), y.map(<[f32]>::len))?;
        self.dev
            .write(&mut self.x_in, 0, &x[..rows * self.cfg.d_in])?;
        if let Some(y) = y {
            self.dev
                .write(&mut self.y, 0, &y[..rows * self.cfg.d_out])?;
        }
        self.rows = rows;
        self.reconstruct = y.is_none();
        Ok(())
    }

    /// Copies rows `row0 .. row0 + rows` of device matrices as the batch (no host sync).
    /// `y = None`: targets = inputs.
    ///
    /// # Errors
    /// Sizes that do not match; device errors.
    pub fn load_batch_device(
        &mut self,
        x: &DeviceMatrix,
        y: Option<&DeviceMatrix>,
        row0: usize,
        rows: usize,
    ) -> Result<(), CudaError> {
        let end = row0 + rows;
        if x.cols() != self.cfg.d_in || end > x.rows() {
            return Err(CudaError::Config(format!(
                "rows {row0}..{end} of a {}×{} input matrix for d_in = {}",
                x.rows(),
                x.cols(),
                self.cfg.d_in
            )));
        }
        if let Some(y) = y
            && (y.cols() != self.cfg.d_out || end > y.rows())
        {
            return Err(CudaError::Config(format!(
                "rows {row0}..{end} of a {}×{} target matrix for d_out = {}",
                y.rows(),
                y.cols(),
                self.cfg.d_out
            )));
        }
        self.check_batch(rows, rows * x.cols(), y.map(|m| rows * m.cols()))?;
        let (di, dout) = (self.cfg.d_in, self.cfg.d_out);
        self.dev
            .copy(&x.data, row0 * di, &mut self.x_in, 0, rows * di)?;
        if let Some(y) = y {
            self.dev
                .copy(&y.data, row0 * dout, &mut self.y, 0, rows * dout)?;
        }
        self.rows = rows;
        self.reconstruct = y.is_none();
        Ok(())
    }

    fn check_batch(
        &self,
        rows: usize,
        x_len: usize,
        y_len: Option<usize>,
    ) -> Result<(), CudaError> {
        if rows == 0 || rows > self.cfg.batch {
            return Err(CudaError::Config(format!(
                "a batch of {rows} rows; this grid takes 1 ..= {}",
                self.cfg.batch
            )));
        }
        if x_len < rows * self.cfg.d_in || y_len.is_some_and(|l| l < rows * self.cfg.d_out) {
            return Err(CudaError::Config(format!(
                "batch buffers too short for {rows} rows of {} → {}",
                self.cfg.d_in, self.cfg.d_out
            )));
        }
        if y_len.is_none() && self.cfg.loss == GridLoss::SoftmaxCrossEntropy {
            return Err(CudaError::Config(
                "softmax cross-entropy needs one-hot targets (rows × d_out)".to_string(),
            ));
        }
        if y_len.is_none() && self.cfg.d_in != self.cfg.d_out {
            return Err(CudaError::Config(
                "targets are needed when d_in ≠ d_out (reconstruction takes targets = inputs)"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// One SGD step of every network on the loaded batch (asynchronous: nothing waits for
    /// the device, except a loss read-back every `loss_history` steps). The loss of each
    /// network (computed before the update, noise on) is kept for
    /// [`GpuGrid::take_train_losses`].
    ///
    /// # Errors
    /// No batch loaded; device errors.
    pub fn step(&mut self) -> Result<(), CudaError> {
        let rows = self.begin_step()?;
        self.run_step(rows)?;
        self.step += 1;
        Ok(())
    }

    /// One training step like [`GpuGrid::step`], launched directly (no graph) with a CUDA
    /// event after every kernel and product: milliseconds of device time per [`Phase`]
    /// (empty on the emulator). Synchronises; slower than [`GpuGrid::step`] by the event
    /// records and the launch overhead a graph saves.
    ///
    /// # Errors
    /// As [`GpuGrid::step`].
    pub fn profile_step(&mut self) -> Result<Vec<(Phase, f64)>, CudaError> {
        let rows = self.begin_step()?;
        self.dev.synchronize()?;
        self.dev.start_profile()?;
        let run = self.enqueue_step(rows);
        let profile = self.dev.finish_profile();
        run?;
        self.step += 1;
        profile
    }

    /// The rows of the loaded batch, after making room in the device's loss history.
    fn begin_step(&mut self) -> Result<usize, CudaError> {
        if self.rows == 0 {
            return Err(CudaError::Config("no batch loaded".to_string()));
        }
        if self.step - self.pending_from >= self.cfg.loss_history as u64 {
            self.flush_losses()?;
        }
        Ok(self.rows)
    }

    fn run_step(&mut self, rows: usize) -> Result<(), CudaError> {
        if !self.cfg.use_graphs || self.graph_error.is_some() {
            return self.enqueue_step(rows);
        }
        // A graph bakes in the batch size and the target buffer.
        let key = (rows, self.reconstruct);
        if let Some((_, graph)) = self.graphs.iter().find(|(k, _)| *k == key) {
            return self.dev.launch_graph(graph);
        }
        // The first step of a kind runs directly (cuBLAS may initialise lazily, which
        // stream capture does not allow); the next one is captured, then replayed.
        if !self.warmed.contains(&key) {
            self.enqueue_step(rows)?;
            self.warmed.push(key);
            return Ok(());
        }
        match self.capture(rows) {
            Ok(graph) => {
                self.dev.launch_graph(&graph)?;
                self.graphs.push((key, graph));
                Ok(())
            }
            Err(e) => {
                // Nothing of a failed capture ran: do the step directly, and stay direct.
                self.graph_error = Some(format!("CUDA graph capture failed: {e}"));
                self.enqueue_step(rows)
            }
        }
    }

    fn capture(&self, rows: usize) -> Result<Graph, CudaError> {
        self.dev.begin_capture()?;
        let enqueued = self.enqueue_step(rows);
        let ended = self.dev.end_capture();
        enqueued?;
        ended
    }

    /// Reads the device's loss history into the host buffer (one synchronisation).
    fn flush_losses(&mut self) -> Result<(), CudaError> {
        if self.step == self.pending_from {
            return Ok(());
        }
        let host = self.dev.read(&self.hist)?;
        let accs = match self.cfg.loss {
            GridLoss::Mse => None,
            GridLoss::SoftmaxCrossEntropy => Some(self.dev.read(&self.hist_acc)?),
        };
        let cap = self.cfg.loss_history as u64;
        for t in self.pending_from..self.step {
            let slot = (t % cap) as usize;
            let range = slot * self.g..(slot + 1) * self.g;
            self.host_losses.push(host[range.clone()].to_vec());
            if let Some(a) = &accs {
                self.host_accuracies.push(a[range].to_vec());
            }
        }
        self.pending_from = self.step;
        Ok(())
    }

    /// The training losses of the steps since the last call: one `Vec` of G losses per
    /// step (MSE of the batch, noise on, before the update). Synchronises.
    ///
    /// # Errors
    /// Device errors (including those of earlier asynchronous work).
    pub fn take_train_losses(&mut self) -> Result<Vec<Vec<f32>>, CudaError> {
        Ok(self.take_train_metrics()?.0)
    }

    /// The training losses and (softmax cross-entropy) accuracies of the steps since the
    /// last call: `[step][network]` each; the accuracy is the hit rate of the noisy
    /// training forward pass, as the CPU trainer reports it. Synchronises.
    ///
    /// # Errors
    /// Device errors (including those of earlier asynchronous work).
    #[allow(clippy::type_complexity)]
    pub fn take_train_metrics(
        &mut self,
    ) -> Result<(Vec<Vec<f32>>, Option<Vec<Vec<f32>>>), CudaError> {
        self.flush_losses()?;
        let losses = std::mem::take(&mut self.host_losses);
        let accs = std::mem::take(&mut self.host_accuracies);
        Ok((
            losses,
            (self.cfg.loss == GridLoss::SoftmaxCrossEntropy).then_some(accs),
        ))
    }

    /// Evaluates the loaded batch without noise and adds each network's MSE to the
    /// evaluation accumulator (asynchronous).
    ///
    /// # Errors
    /// No batch loaded; device errors.
    pub fn eval_batch(&mut self) -> Result<(), CudaError> {
        let rows = self.rows;
        if rows == 0 {
            return Err(CudaError::Config("no batch loaded".to_string()));
        }
        self.enqueue_forward(rows, false)?;
        self.enqueue_loss(rows, false)?;
        self.eval_batches += 1;
        Ok(())
    }

    /// Mean over the evaluated batches of each network's noise-free batch MSE (as the
    /// paper's validation loss), then resets the accumulator. Synchronises.
    ///
    /// # Errors
    /// No batch evaluated since the last call; device errors.
    pub fn take_eval_losses(&mut self) -> Result<Vec<f64>, CudaError> {
        Ok(self.take_eval_metrics()?.0)
    }

    /// Mean over the evaluated batches of each network's noise-free loss and (softmax
    /// cross-entropy) accuracy, then resets the accumulator. Synchronises.
    ///
    /// # Errors
    /// No batch evaluated since the last call; device errors.
    pub fn take_eval_metrics(&mut self) -> Result<(Vec<f64>, Option<Vec<f64>>), CudaError> {
        if self.eval_batches == 0 {
            return Err(CudaError::Config("no batch evaluated".to_string()));
        }
        let acc = self.dev.read(&self.eval_acc)?;
        self.dev.zero(&mut self.eval_acc)?;
        let n = self.eval_batches as f64;
        self.eval_batches = 0;
        let mean = |r: std::ops::Range<usize>| acc[r].iter().map(|v| v / n).collect();
        Ok((
            mean(0..self.g),
            (self.cfg.loss == GridLoss::SoftmaxCrossEntropy).then(|| mean(self.g..2 * self.g)),
        ))
    }

    /// Downloads every network's parameters (fp32 master weights). Synchronises.
    ///
    /// # Errors
    /// Device errors.
    pub fn params(&self) -> Result<Vec<NetParams>, CudaError> {
        let w = self.dev.read(&self.w)?;
        let b = self.dev.read(&self.b)?;
        let layers = self.dims.len() - 1;
        Ok((0..self.g)
            .map(|i| {
                let mut p = NetParams::default();
                for l in 0..layers {
                    let (nin, nout) = (self.dims[l], self.dims[l + 1]);
                    let w0 = self.w_off[l] + i * nout * nin;
                    let b0 = self.b_off[l] + i * nout;
                    p.weights.push(w[w0..w0 + nout * nin].to_vec());
                    p.biases.push(b[b0..b0 + nout].to_vec());
                }
                p
            })
            .collect())
    }

    /// Changes the learning rate (captured graphs are dropped and re-captured).
    ///
    /// # Errors
    /// A non-finite rate.
    pub fn set_lr(&mut self, lr: f32) -> Result<(), CudaError> {
        if !lr.is_finite() {
            return Err(CudaError::Config(format!("learning rate {lr}")));
        }
        self.cfg.lr = lr;
        self.graphs.clear();
        Ok(())
    }

    /// Sets the index of the next optimisation step (e.g. to resume); pending losses are
    /// read back first.
    ///
    /// # Errors
    /// Device errors.
    pub fn set_step(&mut self, step: u64) -> Result<(), CudaError> {
        self.flush_losses()?;
        self.dev.write(&mut self.step_dev, 0, &[step])?;
        self.step = step;
        self.pending_from = step;
        Ok(())
    }

    /// Waits for the queued work of the device (all grids on it).
    ///
    /// # Errors
    /// Device errors.
    pub fn synchronize(&self) -> Result<(), CudaError> {
        self.dev.synchronize()
    }

    // ---- enqueueing (no synchronisation; also what a captured graph contains) ----

    fn enqueue_step(&self, rows: usize) -> Result<(), CudaError> {
        if self.has_noise {
            self.enqueue_step_keys()?;
            self.dev.mark(Phase::NoiseKeys)?;
        }
        self.enqueue_forward(rows, true)?;
        self.enqueue_loss(rows, true)?;
        self.dev.mark(Phase::Loss)?;
        if let GridOptimizer::Adam { beta1, beta2, .. } = self.cfg.optimizer {
            // adam_t holds 1 u64, adam_bc 2 floats.
            self.dev.launch(
                KernelId::AdamStep,
                SINGLE,
                &[
                    Arg::Ptr(self.dev.ptr(&self.adam_t)),
                    Arg::Ptr(self.dev.ptr(&self.adam_bc)),
                    Arg::F64(beta1),
                    Arg::F64(beta2),
                ],
            )?;
            self.dev.mark(Phase::Other)?;
        }
        self.enqueue_backward(rows)?;
        let step = self.dev.ptr(&self.step_dev);
        self.dev
            .launch(KernelId::AdvanceStep, SINGLE, &[Arg::Ptr(step)])?;
        self.dev.mark(Phase::Other)
    }

    fn enqueue_step_keys(&self) -> Result<(), CudaError> {
        let d = &self.dev;
        let layers = self.dims.len() - 1;
        // keys[G·layers·MAX_STAGES] from root[G] and the step counter.
        d.launch(
            KernelId::StepKeys,
            Dims {
                grid: (1, 1, 1),
                block: (256, 1, 1),
            },
            &[
                Arg::Ptr(d.ptr(&self.root)),
                Arg::Ptr(d.ptr(&self.keys)),
                Arg::Ptr(d.ptr(&self.step_dev)),
                Arg::I32(self.g as i32),
                Arg::I32(layers as i32),
                Arg::I32(MAX_STAGES as i32),
            ],
        )
    }

    /// The pointer of weight layer `l` in the operand type of the products.
    fn weight_operand(&self, l: usize) -> u64 {
        match &self.w_half {
            Some(h) => at::<u16>(self.dev.ptr(h), self.w_off[l]),
            None => at::<f32>(self.dev.ptr(&self.w), self.w_off[l]),
        }
    }

    /// A GEMM of operands in the precision's operand type into an fp32 output.
    fn gemm(&self, call: &GemmCall) -> Result<(), CudaError> {
        let p = self.cfg.precision;
        self.dev.gemm(
            call,
            p.operand_type(),
            cudaDataType::CUDA_R_32F,
            p.compute_type(),
        )
    }

    fn enqueue_forward(&self, rows: usize, train: bool) -> Result<(), CudaError> {
        let d = &self.dev;
        let (g, bmax, layers) = (self.g, self.cfg.batch, self.dims.len() - 1);
        let bf16 = Arg::I32(i32::from(self.cfg.precision.is_bf16()));
        let noise_on = i32::from(train && self.has_noise);
        let (act, slope) = (Arg::I32(self.act.0), Arg::F32(self.act.1));
        let (ms, nl) = (Arg::I32(MAX_STAGES as i32), Arg::I32(layers as i32));
        let noise_tables = [
            Arg::Ptr(d.ptr(&self.st_kind)),
            Arg::Ptr(d.ptr(&self.st_thr)),
            Arg::Ptr(d.ptr(&self.st_par)),
            Arg::Ptr(d.ptr(&self.keys)),
        ];
        let rows_i = Arg::I32(rows as i32);
        // Layer 0: x̃⁰ = noise(φ(x)) per network.
        let n = self.dims[0];
        let mut args = vec![
            Arg::Ptr(d.ptr(&self.x_in)),
            Arg::Ptr(d.ptr(&self.xt[0])),
            rows_i,
            Arg::I32(n as i32),
            Arg::I64((bmax * n) as i64),
            act,
            slope,
            Arg::I32(i32::from(self.cfg.input_activation)),
            Arg::I32(noise_on * i32::from(self.cfg.input_noise)),
            ms,
            nl,
        ];
        args.extend(noise_tables);
        args.push(bf16);
        // x_in holds B_max·d_in floats, xt[0] G·B_max·d_in operands; the noise tables
        // G·MAX_STAGES entries, the keys G·layers·MAX_STAGES.
        d.launch(KernelId::Input, ew_dims(rows * n, g, 4096), &args)?;
        d.mark(Phase::ForwardElementwise)?;

        let z = d.ptr(&self.z);
        for l in 0..layers {
            let (nin, nout) = (self.dims[l], self.dims[l + 1]);
            // Z (rows × out per network) = x̃ˡ·Wᵀ: column-major Zᵀ = op_T(Wᵀ)·x̃ˡᵀ.
            self.gemm(&GemmCall {
                trans_a: true,
                trans_b: false,
                m: nout,
                n: rows,
                k: nin,
                a: self.weight_operand(l),
                lda: nin,
                stride_a: nout * nin,
                b: d.ptr(&self.xt[l]),
                ldb: nin,
                stride_b: bmax * nin,
                c: z,
                ldc: nout,
                stride_c: bmax * nout,
                batch: g,
                alpha: 1.0,
                beta: 0.0,
            })?;
            d.mark(Phase::ForwardProducts)?;
            if l + 1 == layers {
                break;
            }
            let mut args = vec![
                Arg::Ptr(z),
                Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[l])),
                Arg::Ptr(d.ptr(&self.xt[l + 1])),
                Arg::Ptr(if train { d.ptr(&self.fac[l]) } else { 0 }),
                rows_i,
                Arg::I32(nout as i32),
                Arg::I64((bmax * nout) as i64),
                act,
                slope,
                Arg::I32(noise_on),
                ms,
                nl,
                Arg::I32((l + 1) as i32),
            ];
            args.extend(noise_tables);
            args.push(bf16);
            // z holds G·B_max·max_n floats, the bias layer G·nout, xt/fac of layer l+1
            // G·B_max·nout elements.
            d.launch(KernelId::Hidden, ew_dims(rows * nout, g, 4096), &args)?;
            d.mark(Phase::ForwardElementwise)?;
        }
        Ok(())
    }

    fn enqueue_loss(&self, rows: usize, train: bool) -> Result<(), CudaError> {
        let d = &self.dev;
        let layers = self.dims.len() - 1;
        let n = self.cfg.d_out;
        let total = rows * n;
        let blocks = mse_blocks(total);
        let y = if self.reconstruct {
            d.ptr(&self.x_in)
        } else {
            d.ptr(&self.y)
        };
        let delta_h = match (&self.delta_h, train) {
            (Some(h), true) => d.ptr(h),
            _ => 0,
        };
        if self.cfg.loss == GridLoss::SoftmaxCrossEntropy {
            // z/delta hold G·B_max·d_out, y B_max·d_out, hist/hist_acc loss_history·G
            // floats, eval_acc 2·G doubles.
            return d.launch(
                KernelId::Xent,
                Dims {
                    grid: (self.g as u32, 1, 1),
                    block: (128, 1, 1),
                },
                &[
                    Arg::Ptr(d.ptr(&self.z)),
                    Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[layers - 1])),
                    Arg::Ptr(y),
                    Arg::Ptr(if train { d.ptr(&self.delta) } else { 0 }),
                    Arg::Ptr(delta_h),
                    Arg::I32(rows as i32),
                    Arg::I32(n as i32),
                    Arg::I64((self.cfg.batch * n) as i64),
                    Arg::F64(1.0 / rows as f64),
                    Arg::Ptr(d.ptr(&self.step_dev)),
                    Arg::Ptr(d.ptr(&self.hist)),
                    Arg::Ptr(d.ptr(&self.hist_acc)),
                    Arg::I32(self.cfg.loss_history as i32),
                    Arg::Ptr(d.ptr(&self.eval_acc)),
                    Arg::I32(i32::from(!train)),
                ],
            );
        }
        let partial = d.ptr(&self.partial);
        // As loss::mse: the scale 2/count rounded once from f64.
        let scale = (2.0f64 / total as f64) as f32;
        // z/delta hold G·B_max·d_out, y B_max·d_out, partial G·64 ≥ G·blocks.
        d.launch(
            KernelId::Mse,
            Dims {
                grid: (blocks as u32, self.g as u32, 1),
                block: (THREADS, 1, 1),
            },
            &[
                Arg::Ptr(d.ptr(&self.z)),
                Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[layers - 1])),
                Arg::Ptr(y),
                Arg::Ptr(if train { d.ptr(&self.delta) } else { 0 }),
                Arg::Ptr(delta_h),
                Arg::Ptr(partial),
                Arg::I32(rows as i32),
                Arg::I32(n as i32),
                Arg::I64((self.cfg.batch * n) as i64),
                Arg::F32(scale),
            ],
        )?;
        // hist holds loss_history·G floats and eval_acc G doubles.
        d.launch(
            KernelId::Loss,
            Dims {
                grid: (self.g as u32, 1, 1),
                block: (1, 1, 1),
            },
            &[
                Arg::Ptr(partial),
                Arg::I32(blocks as i32),
                Arg::Ptr(d.ptr(&self.step_dev)),
                Arg::Ptr(d.ptr(&self.hist)),
                Arg::I32(self.cfg.loss_history as i32),
                Arg::Ptr(d.ptr(&self.eval_acc)),
                Arg::F64(1.0 / total as f64),
                Arg::I32(i32::from(!train)),
            ],
        )
    }

    fn enqueue_backward(&self, rows: usize) -> Result<(), CudaError> {
        let d = &self.dev;
        let (g, bmax, layers) = (self.g, self.cfg.batch, self.dims.len() - 1);
        let lr = self.cfg.lr;
        let opt = self.optimizer_args();
        let z = d.ptr(&self.z);
        let delta = d.ptr(&self.delta);
        let delta_h = self.delta_h.as_ref().map_or(0, |h| d.ptr(h));
        let d_op = if delta_h != 0 { delta_h } else { delta };
        for l in (0..layers).rev() {
            let (nin, nout) = (self.dims[l], self.dims[l + 1]);
            let wl = self.weight_operand(l);
            if l >= 1 {
                // ∂loss/∂x̃ˡ (rows × in) = δ·W^{l+1} with the pre-update weights, into the
                // scratch: column-major (δ·W)ᵀ = Wᵀ·δᵀ.
                self.gemm(&GemmCall {
                    trans_a: false,
                    trans_b: false,
                    m: nin,
                    n: rows,
                    k: nout,
                    a: wl,
                    lda: nin,
                    stride_a: nout * nin,
                    b: d_op,
                    ldb: nout,
                    stride_b: bmax * nout,
                    c: z,
                    ldc: nin,
                    stride_c: bmax * nin,
                    batch: g,
                    alpha: 1.0,
                    beta: 0.0,
                })?;
                d.mark(Phase::InputGradProducts)?;
            }
            // Plain SGD: W ← W − lr·δᵀ·x̃ˡ fused into the GEMM (β = 1); otherwise the
            // gradient, then the optimiser's kernel. Column-major (δᵀ·x̃)ᵀ = x̃ᵀ·δ.
            let w_master = at::<f32>(d.ptr(&self.w), self.w_off[l]);
            let mut call = GemmCall {
                trans_a: false,
                trans_b: true,
                m: nin,
                n: nout,
                k: rows,
                a: d.ptr(&self.xt[l]),
                lda: nin,
                stride_a: bmax * nin,
                b: d_op,
                ldb: nout,
                stride_b: bmax * nout,
                c: w_master,
                ldc: nin,
                stride_c: nout * nin,
                batch: g,
                alpha: -lr,
                beta: 1.0,
            };
            let moment = |b: &Option<DevBuf<f32>>, off: usize| {
                b.as_ref().map_or(0, |b| at::<f32>(d.ptr(b), off))
            };
            if let Some(grad) = &self.w_grad {
                call.c = d.ptr(grad);
                call.alpha = 1.0;
                call.beta = 0.0;
                self.gemm(&call)?;
                d.mark(Phase::WeightProducts)?;
                let count = g * nout * nin;
                // The layer's weights and moments hold `count` floats, the gradient
                // buffer at least that many (the largest layer).
                let mut args = vec![
                    Arg::Ptr(w_master),
                    Arg::Ptr(moment(&self.w_m, self.w_off[l])),
                    Arg::Ptr(moment(&self.w_v, self.w_off[l])),
                    Arg::Ptr(call.c),
                    Arg::I64(count as i64),
                ];
                args.extend(opt);
                d.launch(KernelId::WeightUpdate, ew_dims(count, 1, 8192), &args)?;
                d.mark(Phase::WeightUpdate)?;
            } else {
                self.gemm(&call)?;
                d.mark(Phase::WeightProducts)?;
            }
            // W^l's bf16 copy is not read again this step (δ·W^l came first).
            self.enqueue_to_bf16_range(self.w_off[l], g * nout * nin)?;
            // Bias: column sums of δ and the update. delta holds G·B_max·nout floats
            // here, the bias layer and its moments G·nout.
            let mut args = vec![
                Arg::Ptr(delta),
                Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[l])),
                Arg::Ptr(moment(&self.b_m, self.b_off[l])),
                Arg::Ptr(moment(&self.b_v, self.b_off[l])),
                Arg::I32(rows as i32),
                Arg::I32(nout as i32),
                Arg::I64((bmax * nout) as i64),
            ];
            args.extend(opt);
            d.launch(
                KernelId::BiasUpdate,
                Dims {
                    grid: (nout.div_ceil(32) as u32, g as u32, 1),
                    block: (32, 8, 1),
                },
                &args,
            )?;
            d.mark(Phase::BiasUpdate)?;
            if l >= 1 {
                // δˡ = (δ·W) ⊙ φ′(aˡ) ⊙ εˡ; z, fac and delta hold G·B_max·nin floats.
                d.launch(
                    KernelId::Backward,
                    ew_dims(rows * nin, g, 4096),
                    &[
                        Arg::Ptr(z),
                        Arg::Ptr(d.ptr(&self.fac[l - 1])),
                        Arg::Ptr(delta),
                        Arg::Ptr(delta_h),
                        Arg::I32(rows as i32),
                        Arg::I32(nin as i32),
                        Arg::I64((bmax * nin) as i64),
                    ],
                )?;
                d.mark(Phase::BackwardElementwise)?;
            }
        }
        Ok(())
    }

    /// The optimiser arguments of `np_bias_update` / `np_weight_update`: code, lr, b1 (μ
    /// or β₁), b2, c1 = 1 − β₁, c2 = 1 − β₂, ε (each rounded from f64 to f32 as
    /// `optim.rs` does), the bias corrections.
    fn optimizer_args(&self) -> [Arg; 8] {
        let f = |v: f64| Arg::F32(v as f32);
        let (b1, b2, c1, c2, eps) = match self.cfg.optimizer {
            GridOptimizer::Sgd { momentum } => (Arg::F32(momentum), f(0.0), f(0.0), f(0.0), f(0.0)),
            GridOptimizer::Adam { beta1, beta2, eps } => {
                (f(beta1), f(beta2), f(1.0 - beta1), f(1.0 - beta2), f(eps))
            }
        };
        [
            Arg::I32(self.cfg.optimizer.code()),
            Arg::F32(self.cfg.lr),
            b1,
            b2,
            c1,
            c2,
            eps,
            Arg::Ptr(self.dev.ptr(&self.adam_bc)),
        ]
    }

    /// Refreshes the bf16 copy of all weights from the fp32 masters.
    fn enqueue_to_bf16(&self) -> Result<(), CudaError> {
        self.enqueue_to_bf16_range(0, self.w.len())
    }

    /// Refreshes elements `offset .. offset + count` of the bf16 copy. The backward pass
    /// does this per layer right after the layer's update, while the fp32 weights it
    /// just wrote are still in L2 (a layer of the paper grid is 40 MB; an H100's L2 50 MB).
    fn enqueue_to_bf16_range(&self, offset: usize, count: usize) -> Result<(), CudaError> {
        let Some(half) = &self.w_half else {
            return Ok(());
        };
        let d = &self.dev;
        // Both buffers hold w.len() ≥ offset + count elements.
        d.launch(
            KernelId::ToBf16,
            ew_dims(count, 1, 8192),
            &[
                Arg::Ptr(at::<f32>(d.ptr(&self.w), offset)),
                Arg::Ptr(at::<u16>(d.ptr(half), offset)),
                Arg::I64(count as i64),
            ],
        )?;
        d.mark(Phase::Bf16Copy)
    }
}

/// [`init_params`] for each network, on up to one thread per network.
pub(crate) fn init_parallel(dims: &[usize], nets: &[NetSpec]) -> Vec<NetParams> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, nets.len().max(1));
    let per = nets.len().div_ceil(threads).max(1);
    let mut out = vec![NetParams::default(); nets.len()];
    std::thread::scope(|sc| {
        for (o, n) in out.chunks_mut(per).zip(nets.chunks(per)) {
            sc.spawn(move || {
                for (p, spec) in o.iter_mut().zip(n) {
                    *p = init_params(dims, spec);
                }
            });
        }
    });
    out
}
