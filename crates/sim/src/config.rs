//! What to simulate, validated at construction.

use serde::{Deserialize, Serialize};

use noisyprop_engine::NoiseSampler;
use noisyprop_theory::Network;

use crate::error::SimError;

/// Floating-point type of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
///
/// ```
/// use noisyprop_sim::{InputClass, Precision, SimConfig};
/// use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};
///
/// let network = Network::new(
///     Activation::Relu,
///     Noise::from_law(NoiseLaw::Dropout { keep: 0.8 }),
///     1.6,
///     0.0,
/// )?;
/// let cfg = SimConfig {
///     network,
///     width: 64,
///     input_dim: 64,
///     depth: 4,
///     networks: 3,
///     inputs: vec![InputClass { q0: 1.0, c0: Some(0.5), groups: 2, partners: 1 }],
///     input_activation: true,
///     backward: false,
///     precision: Precision::F32,
///     seed: 0,
///     memory_limit: 1 << 20,
/// };
/// assert!(cfg.validate().is_ok());
/// assert_eq!(cfg.batch(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimConfig {
    /// φ, the noise on each layer's input, σ_w² (weights ~ N(0, σ_w²/fan_in))
    /// and σ_b² (biases ~ N(0, σ_b²)); valid by construction.
    pub network: Network,
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

/// Most input vectors in one run (and partners per base vector).
const MAX_INPUTS: usize = 10_000_000;

fn range(name: &'static str, value: f64, valid: &'static str, ok: bool) -> Result<(), SimError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(SimError::InvalidParameter { name, value, valid })
    }
}

impl SimConfig {
    /// Checks every parameter not already checked by [`Network`] (its σ_w²,
    /// σ_b², activation and noise parameters are valid by construction);
    /// returns the noise sampler.
    ///
    /// # Errors
    /// [`SimError::InvalidParameter`] naming the field that is out of range
    /// (`groups` and `partners` are those of [`InputClass`]), or
    /// [`SimError::Engine`] for noise that cannot be sampled (a law given
    /// only by its moments) or a run that needs more memory than there is.
    pub fn validate(&self) -> Result<NoiseSampler, SimError> {
        let u = |name, v: usize, lo: usize, hi: usize, valid| {
            range(name, v as f64, valid, (lo..=hi).contains(&v))
        };
        u("width", self.width, 1, 100_000, "[1, 100000]")?;
        u("input_dim", self.input_dim, 1, 1_000_000, "[1, 1000000]")?;
        u("depth", self.depth, 1, 100_000, "[1, 100000]")?;
        u("networks", self.networks, 1, 100_000, "[1, 100000]")?;
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
            }
            // Bounded before the class's size is computed (which would
            // overflow for an absurd count).
            let (lo, valid) = if c.c0.is_some() {
                (1, "[1, 10000000] for a class with a correlation c⁰")
            } else {
                (0, "[0, 10000000]")
            };
            u("partners", c.partners, lo, MAX_INPUTS, valid)?;
            if c.c0.is_some() {
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
        u("inputs", total, 1, MAX_INPUTS, "[1, 10000000]")?;
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
        Ok(NoiseSampler::new(self.network.noise())?)
    }

    /// Total number of input vectors.
    pub fn batch(&self) -> usize {
        self.inputs.iter().map(InputClass::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> SimConfig {
        SimConfig {
            network: Network::default(),
            width: 8,
            input_dim: 8,
            depth: 2,
            networks: 2,
            inputs: vec![InputClass {
                q0: 1.0,
                c0: Some(0.5),
                groups: 3,
                partners: 1,
            }],
            input_activation: true,
            backward: false,
            precision: Precision::F32,
            seed: 0,
            memory_limit: 1 << 20,
        }
    }

    /// The name and message of the error `edit` provokes.
    fn rejected(edit: impl Fn(&mut InputClass)) -> (&'static str, String) {
        let mut cfg = good();
        edit(&mut cfg.inputs[0]);
        match cfg.validate() {
            Err(e @ SimError::InvalidParameter { name, .. }) => (name, e.to_string()),
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn groups_and_partners_are_named_for_what_is_wrong() {
        assert!(good().validate().is_ok());
        // No base vectors: groups, whatever the partners.
        let (name, msg) = rejected(|c| c.groups = 0);
        assert_eq!(name, "groups");
        assert!(msg.starts_with("groups = 0"), "{msg}");
        let (name, _) = rejected(|c| (c.groups, c.partners) = (0, 0));
        assert_eq!(name, "groups");
        let (name, _) = rejected(|c| c.groups = 2_000_000);
        assert_eq!(name, "groups");
        // No partners although c0 is given: partners, not groups.
        let (name, msg) = rejected(|c| c.partners = 0);
        assert_eq!(name, "partners");
        assert!(
            msg.starts_with("partners = 0") && msg.contains("with a correlation c⁰"),
            "{msg}"
        );
        // Absurd partner counts are partners too (not an overflow, not "inputs").
        for c0 in [Some(0.5), None] {
            let (name, msg) = rejected(|c| (c.c0, c.partners) = (c0, usize::MAX));
            assert_eq!(name, "partners", "{msg}");
        }
        // Independent inputs need no partners.
        let mut cfg = good();
        (cfg.inputs[0].c0, cfg.inputs[0].partners) = (None, 0);
        assert!(cfg.validate().is_ok());
        // Each within range but too many in all: inputs.
        let (name, _) = rejected(|c| (c.groups, c.partners) = (1_000_000, 10));
        assert_eq!(name, "inputs");
    }
}
