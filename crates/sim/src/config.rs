//! What to simulate, validated at construction.

use serde::Serialize;

use noisyprop_engine::NoiseSampler;
use noisyprop_theory::{Activation, Noise};

use crate::error::SimError;

/// Floating-point type of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Single precision (the paper's numpy simulator).
    #[default]
    F32,
    /// Double precision.
    F64,
}

/// One class of inputs: `groups` base vectors with empirical variance
/// exactly q⁰, each with `partners` vectors of exact correlation c⁰ to it
/// (spec 3.3). Statistics are reported per class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InputClass {
    /// Variance q⁰ of every input vector (mean of its squared coordinates).
    pub q0: f64,
    /// Correlation of each partner with its base (`None` with no partners).
    pub c0: Option<f64>,
    /// Number of base vectors.
    pub groups: usize,
    /// Partners per base vector.
    pub partners: usize,
}

impl InputClass {
    /// Number of input vectors in the class.
    pub fn len(&self) -> usize {
        self.groups * (1 + self.partners)
    }

    /// Whether the class has no inputs (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of (base, partner) pairs.
    pub fn pairs(&self) -> usize {
        self.groups * self.partners
    }
}

/// A Monte-Carlo experiment: `networks` independent random networks, each fed
/// the input classes.
#[derive(Debug, Clone, Serialize)]
pub struct SimConfig {
    /// φ.
    pub activation: Activation,
    /// Noise on each layer's input.
    pub noise: Noise,
    /// σ_w² (weights ~ N(0, σ_w²/fan_in)).
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// Width of every hidden layer.
    pub width: usize,
    /// Dimension of the input vectors.
    pub input_dim: usize,
    /// Number of weight layers.
    pub depth: usize,
    /// Independent weight draws.
    pub networks: usize,
    /// Input classes.
    pub inputs: Vec<InputClass>,
    /// Apply φ and the noise to the raw input as the original code does
    /// (spec 1.2): the input is then a pre-activation h⁰ and the mean-field
    /// maps hold from layer 1. When false the first layer sees the raw input.
    pub input_activation: bool,
    /// Also run the backward pass.
    pub backward: bool,
    /// f32 or f64.
    pub precision: Precision,
    /// Master seed.
    pub seed: u64,
    /// Memory the stored layers of the backward pass may use (bytes); above
    /// it the forward pass is recomputed from √L checkpoints.
    pub memory_limit: usize,
}

fn range(name: &'static str, value: f64, valid: &'static str, ok: bool) -> Result<(), SimError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(SimError::InvalidParameter { name, value, valid })
    }
}

impl SimConfig {
    /// Checks every parameter; returns the noise sampler.
    ///
    /// # Errors
    /// [`SimError::InvalidParameter`] naming the bad value, or
    /// [`SimError::Engine`] for noise that cannot be sampled.
    pub fn validate(&self) -> Result<NoiseSampler, SimError> {
        let u = |name, v: usize, lo: usize, hi: usize, valid| {
            range(name, v as f64, valid, (lo..=hi).contains(&v))
        };
        u("width", self.width, 1, 100_000, "[1, 100000]")?;
        u("input_dim", self.input_dim, 1, 1_000_000, "[1, 1000000]")?;
        u("depth", self.depth, 1, 100_000, "[1, 100000]")?;
        u("networks", self.networks, 1, 100_000, "[1, 100000]")?;
        range("sigma_w2", self.sigma_w2, "(0, inf)", self.sigma_w2 > 0.0)?;
        range("sigma_b2", self.sigma_b2, "[0, inf)", self.sigma_b2 >= 0.0)?;
        if self.inputs.is_empty() {
            return Err(SimError::InvalidParameter {
                name: "input classes",
                value: 0.0,
                valid: "[1, inf)",
            });
        }
        for c in &self.inputs {
            range("q0", c.q0, "(0, inf)", c.q0 > 0.0)?;
            u("groups", c.groups, 1, 1_000_000, "[1, 1000000]")?;
            if let Some(c0) = c.c0 {
                range("c0", c0, "[-1, 1]", (-1.0..=1.0).contains(&c0))?;
                if c.partners == 0 {
                    return Err(SimError::InvalidParameter {
                        name: "partners",
                        value: 0.0,
                        valid: "[1, inf) when c0 is given",
                    });
                }
                u(
                    "input_dim",
                    self.input_dim,
                    2,
                    1_000_000,
                    "[2, 1000000] for correlated inputs",
                )?;
            }
        }
        let total: usize = self.inputs.iter().map(InputClass::len).sum();
        u("inputs", total, 1, 10_000_000, "[1, 10000000]")?;
        // Per concurrent network: activations, inputs, noise scratch and the
        // weight matrix (and the backward pass's buffers and checkpoints).
        let elem = match self.precision {
            Precision::F32 => 4.0,
            Precision::F64 => 8.0,
        };
        let dim = self.width.max(self.input_dim) as f64;
        let per_net =
            elem * dim * (total as f64 * if self.backward { 6.0 } else { 3.0 } + self.width as f64)
                + if self.backward {
                    self.memory_limit as f64
                } else {
                    0.0
                };
        let concurrent = self.networks.min(rayon::current_num_threads().max(1)) as f64;
        noisyprop_engine::check_memory("the simulation", per_net * concurrent)?;
        Ok(NoiseSampler::new(&self.noise)?)
    }

    /// Total number of input vectors.
    pub fn batch(&self) -> usize {
        self.inputs.iter().map(InputClass::len).sum()
    }
}
