//! What the CUDA kernels implement: the one answer to "can the GPU train
//! this network?", available without the `cuda` feature and without a device
//! (the CLI asks before it opens one). The kernel codes of each activation and
//! noise stage are defined here too, so the answer and the kernels cannot
//! drift apart: [`kernel_activation`] and [`kernel_stages`] are what the
//! backend passes to the kernels, and [`supports`] is `Ok` exactly when both
//! succeed.
//!
//! Every `match` here is exhaustive: a new activation or noise law fails to
//! compile until it is either implemented on the GPU or listed as unsupported.

use std::fmt;
use std::str::FromStr;

use noisyprop_theory::{Activation, Family, Noise};

use crate::error::EngineError;
use crate::noise::{NoiseSampler, Stage};

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
    /// `cuda::parity_tolerances` for ReLU):
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

    /// Whether the product operands are bf16.
    pub fn is_bf16(self) -> bool {
        self == Precision::Bf16
    }

    /// Bytes of one product operand.
    pub fn operand_bytes(self) -> usize {
        if self.is_bf16() { 2 } else { 4 }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "fp32" | "f32" => Ok(Precision::Fp32),
            "tf32" => Ok(Precision::Tf32),
            "bf16" => Ok(Precision::Bf16),
            _ => Err(EngineError::Unknown {
                what: "precision",
                name: s.to_string(),
                valid: "fp32, tf32, bf16",
            }),
        }
    }
}

/// Maximum number of noise stages per network on the GPU.
pub const MAX_STAGES: usize = 4;

/// What the GPU supports, in words (error messages, `--help`).
pub const SUPPORTED: &str = "φ ∈ {relu, leaky-relu, linear, abs, tanh}, noise stacks of up to 4 \
     dropout, gauss-mult and gauss-add stages, SGD (with momentum) or Adam, MSE or softmax \
     cross-entropy";

/// Activation codes of the kernels (`NP_ACT_*` in `kernels.cu`).
pub mod act_code {
    /// φ(x) = x.
    pub const LINEAR: i32 = 0;
    /// max(0, x).
    pub const RELU: i32 = 1;
    /// Leaky ReLU (slope as the kernel parameter).
    pub const LEAKY_RELU: i32 = 2;
    /// |x|.
    pub const ABS: i32 = 3;
    /// tanh(x).
    pub const TANH: i32 = 4;
}

/// Noise stage kinds of the kernels (`NP_NOISE_*` in `kernels.cu`).
pub mod noise_kind {
    /// Inverted dropout (threshold, 1/keep).
    pub const DROPOUT: u32 = 1;
    /// Multiplicative N(1, std²).
    pub const GAUSS_MULT: u32 = 2;
    /// Additive N(0, std²).
    pub const GAUSS_ADD: u32 = 3;
}

/// Something the GPU does not implement, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// What was asked for (`activation gelu`, `noise poisson:rate=2`).
    pub what: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not supported on the GPU (--device cuda); the GPU supports {SUPPORTED}",
            self.what
        )
    }
}

impl std::error::Error for Unsupported {}

/// The kernel's activation code and parameter for φ.
///
/// # Errors
/// [`Unsupported`] for activations the kernels do not implement.
pub fn kernel_activation(act: Activation) -> Result<(i32, f32), Unsupported> {
    let unsupported = || Unsupported {
        what: format!("activation {act}"),
    };
    match act {
        Activation::Relu => Ok((act_code::RELU, 0.0)),
        Activation::LeakyRelu { slope } => Ok((act_code::LEAKY_RELU, slope as f32)),
        Activation::Linear => Ok((act_code::LINEAR, 0.0)),
        Activation::Abs => Ok((act_code::ABS, 0.0)),
        Activation::Tanh => Ok((act_code::TANH, 0.0)),
        Activation::Erf
        | Activation::Sigmoid
        | Activation::Gelu
        | Activation::Silu
        | Activation::Elu { .. }
        | Activation::Selu
        | Activation::Softplus => Err(unsupported()),
    }
}

/// (kind, dropout threshold, parameter) per stage of `noise`: the dropout
/// scale 1/keep or the Gaussian std, rounded to f32 as the CPU sampler does.
///
/// # Errors
/// [`Unsupported`] for laws the kernels do not draw, laws given only by a
/// moment, or more than [`MAX_STAGES`] stages.
pub fn kernel_stages(noise: &Noise) -> Result<Vec<(u32, u64, f32)>, Unsupported> {
    let sampler = NoiseSampler::new(noise).map_err(|e| Unsupported {
        what: match e {
            EngineError::NotSamplable { law } => format!("noise {law} (given only by a moment)"),
            other => format!("noise {noise} ({other})"),
        },
    })?;
    let stages = sampler
        .stages()
        .iter()
        .map(|s| match *s {
            Stage::Dropout { keep, threshold } => {
                Ok((noise_kind::DROPOUT, threshold, (1.0 / keep) as f32))
            }
            Stage::GaussMult(std) => Ok((noise_kind::GAUSS_MULT, 0, std as f32)),
            Stage::GaussAdd(std) => Ok((noise_kind::GAUSS_ADD, 0, std as f32)),
            Stage::LaplaceMult(_)
            | Stage::Poisson(_)
            | Stage::Gamma(_)
            | Stage::UniformMult(_)
            | Stage::LaplaceAdd(_) => Err(Unsupported {
                what: format!("noise stage {}", s.law()),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if stages.len() > MAX_STAGES {
        return Err(Unsupported {
            what: format!("a stack of {} noise stages", stages.len()),
        });
    }
    Ok(stages)
}

/// Whether the GPU trains the networks of `family` (their activation and
/// noise, whatever σ_w²; every optimiser, loss and size of the CPU engine is
/// supported).
///
/// # Errors
/// [`Unsupported`] naming the first thing that is not.
pub fn supports(family: &Family) -> Result<(), Unsupported> {
    kernel_activation(family.activation())?;
    kernel_stages(family.noise())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use noisyprop_theory::NoiseLaw;

    fn net(a: &str, noise: &[&str]) -> Family {
        Family::new(a.parse().unwrap(), Noise::parse_all(noise).unwrap(), 0.0).unwrap()
    }

    #[test]
    fn the_answer_matches_the_kernels() {
        for a in ["relu", "leaky-relu:slope=0.2", "linear", "abs", "tanh"] {
            assert!(supports(&net(a, &["dropout:keep=0.5"])).is_ok(), "{a}");
        }
        for a in ["gelu", "silu", "selu", "elu", "erf", "sigmoid", "softplus"] {
            let e = supports(&net(a, &[])).unwrap_err().to_string();
            assert!(e.contains(a) && e.contains("relu, leaky-relu"), "{e}");
        }
        let ok = net(
            "relu",
            &[
                "dropout:keep=0.7",
                "gauss-add:std=0.3",
                "gauss-mult:std=0.2",
            ],
        );
        assert_eq!(kernel_stages(ok.noise()).unwrap().len(), 3);
        for bad in ["poisson:rate=2", "laplace-mult:scale=0.3", "mult:mu2=2"] {
            let e = supports(&net("relu", &[bad])).unwrap_err().to_string();
            assert!(e.contains(bad.split(':').next().unwrap()), "{e}");
        }
        let five = Noise::from_laws(&[NoiseLaw::GaussAdd { std: 0.1 }; 5]);
        let e = kernel_stages(&five).unwrap_err().to_string();
        assert!(e.contains("5 noise stages"), "{e}");
    }
}
