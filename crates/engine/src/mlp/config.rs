//! [`MlpConfig`]: the shape, the [`Network`] (φ, noise, σ_w², σ_b²) and the
//! conventions of an [`Mlp`](super::Mlp), and [`Layer`], where each weight
//! matrix sits in the flat parameter buffer.

use noisyprop_theory::Network;

use crate::error::EngineError;
use crate::noise::NoiseSampler;

/// The architecture, initialisation and noise of an [`Mlp`](super::Mlp).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpConfig {
    /// Input dimension (≥ 1).
    pub d_in: usize,
    /// Width of the hidden layers (≥ 1).
    pub width: usize,
    /// Number of hidden layers (0 = one affine map from input to output).
    pub depth: usize,
    /// Output dimension (≥ 1).
    pub d_out: usize,
    /// φ (applied to every layer input, the raw input too unless
    /// `input_activation` is false), the noise stack after φ (the raw input
    /// too unless `input_noise` is false; must be samplable), and the
    /// initialisation W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²) (zero when
    /// σ_b² = 0). Validated when it was built.
    pub network: Network,
    /// σ_w² of the output layer; `None` = the network's σ_w².
    pub output_sigma_w2: Option<f64>,
    /// Apply φ to the raw input (the paper code's convention: true).
    pub input_activation: bool,
    /// Apply the noise to the raw input (the paper code's convention: true).
    pub input_noise: bool,
    /// Seed of the weights, biases and noise draws.
    pub seed: u64,
}

impl MlpConfig {
    /// A ReLU network without noise, σ_w² = 2, σ_b² = 0 ([`Network::default`]),
    /// φ and noise on the input (paper convention), seed 0.
    pub fn new(d_in: usize, width: usize, depth: usize, d_out: usize) -> Self {
        MlpConfig {
            d_in,
            width,
            depth,
            d_out,
            network: Network::default(),
            output_sigma_w2: None,
            input_activation: true,
            input_noise: true,
            seed: 0,
        }
    }

    /// The same configuration with another network.
    pub fn with_network(self, network: Network) -> Self {
        MlpConfig { network, ..self }
    }

    /// σ_w² of the hidden layers.
    pub fn sigma_w2(&self) -> f64 {
        self.network.sigma_w2()
    }

    /// σ_w² of the output layer.
    pub fn output_sigma_w2(&self) -> f64 {
        self.output_sigma_w2.unwrap_or(self.network.sigma_w2())
    }

    /// Checks what the [`Network`] does not: the dimensions, the output σ_w²,
    /// that the noise can be sampled, and the memory the parameters need.
    ///
    /// # Errors
    /// [`EngineError::InvalidSize`] for a zero dimension,
    /// [`EngineError::InvalidParameter`] for the output σ_w²,
    /// [`EngineError::NotSamplable`] for a noise law given only by a moment,
    /// [`EngineError::TooLarge`] when the parameters would not fit in memory.
    pub fn validate(&self) -> Result<(), EngineError> {
        for (what, value) in [
            ("d_in", self.d_in),
            ("width", self.width),
            ("d_out", self.d_out),
        ] {
            if value == 0 {
                return Err(EngineError::InvalidSize {
                    what,
                    value,
                    valid: "1 ..",
                });
            }
        }
        if let Some(s) = self.output_sigma_w2
            && !(s.is_finite() && s > 0.0)
        {
            return Err(EngineError::InvalidParameter {
                what: "output_sigma_w2",
                value: s,
                valid: "(0, inf)",
            });
        }
        NoiseSampler::new(self.network.noise())?;
        let params = self.param_count_checked()?;
        // Parameters, gradients and up to two optimiser moments, in f32.
        crate::error::check_memory("the network parameters", params as f64 * 16.0)?;
        Ok(())
    }

    fn param_count_checked(&self) -> Result<usize, EngineError> {
        let mut total = 0usize;
        for (n_in, n_out) in self.shapes() {
            total = n_in
                .checked_add(1)
                .and_then(|k| k.checked_mul(n_out))
                .and_then(|k| k.checked_add(total))
                .ok_or(EngineError::InvalidSize {
                    what: "parameter count",
                    value: usize::MAX,
                    valid: "below usize::MAX",
                })?;
        }
        Ok(total)
    }

    /// (fan_in, fan_out) of each weight matrix W¹ … W^{depth+1}.
    pub(crate) fn shapes(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..=self.depth).map(|i| {
            let n_in = if i == 0 { self.d_in } else { self.width };
            let n_out = if i == self.depth {
                self.d_out
            } else {
                self.width
            };
            (n_in, n_out)
        })
    }
}

/// Where one weight matrix and its bias sit in the flat parameter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Fan-in (columns of W).
    pub n_in: usize,
    /// Fan-out (rows of W, length of b).
    pub n_out: usize,
    /// Offset of W (n_out × n_in, row-major).
    pub weight_offset: usize,
    /// Offset of b (n_out).
    pub bias_offset: usize,
}

impl Layer {
    /// The range of W in the flat buffer.
    pub fn weight_range(&self) -> std::ops::Range<usize> {
        self.weight_offset..self.weight_offset + self.n_in * self.n_out
    }

    /// The range of b in the flat buffer.
    pub fn bias_range(&self) -> std::ops::Range<usize> {
        self.bias_offset..self.bias_offset + self.n_out
    }
}
