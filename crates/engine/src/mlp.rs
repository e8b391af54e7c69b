//! The dense noisy MLP: configuration, parameters, forward and backward
//! passes, exactly as `docs/engine-semantics.md` defines them.
//!
//! ```text
//! a⁰ = x
//! for l = 0 ..= depth:  x̃ˡ = noise_l(φ(aˡ)),  aˡ⁺¹ = x̃ˡ·(Wˡ⁺¹)ᵀ + bˡ⁺¹
//! output = a^{depth+1}
//! ```
//!
//! Layer index `i = 0 ..= depth` in this API is the weight matrix `W^{i+1}`
//! (out × in, row-major) and bias `b^{i+1}`; all parameters live in one flat
//! buffer ([`Mlp::params`]) in the order W¹, b¹, W², b², …, and the
//! gradients in a buffer of the same layout ([`Mlp::grads`]).
//!
//! The forward pass keeps, per layer input l, the noisy input x̃ˡ and the
//! backward factor gˡ = φ′(aˡ)·εˡ (εˡ the product of the multiplicative noise
//! draws), in workspaces that grow to the largest batch seen and are reused,
//! so a training step allocates nothing after the first. Activation, bias and
//! noise are fused into one pass over each pre-activation buffer; the draws
//! are bit-identical to [`NoiseSampler::apply`] on the same buffer.
//!
//! Results are bit-identical for any [`Threads`]: `gemm` never splits a
//! reduction, element-wise work is split by rows (each element's noise comes
//! from its own counter), and the bias-gradient reduction uses fixed blocks of
//! [`COLSUM_BLOCK`] rows, summed in block order, whatever the thread count.

use noisyprop_theory::{Activation, Noise, NoiseLaw};
use rayon::prelude::*;

use crate::act;
use crate::error::EngineError;
use crate::matmul::{Threads, gemm_nn, gemm_nt, gemm_tn};
use crate::noise::{NoiseSampler, Stage};
use crate::real::Real;
use crate::rng::{Key, box_muller, fill_normal_f32, tags};

/// Rows per block of the bias-gradient reduction: the bias gradient of a
/// column is Σ over blocks (in order) of Σ over the block's rows (in order).
pub const COLSUM_BLOCK: usize = 32;

/// Longest noise stack drawn inside the fused pass.
const MAX_FUSED_STAGES: usize = 4;

/// Element-wise passes smaller than this run on the calling thread.
const PAR_MIN_ELEMS: usize = 16 * 1024;

/// The architecture, initialisation and noise of an [`Mlp`].
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
    /// φ, applied to every layer input (the raw input too unless
    /// `input_activation` is false).
    pub activation: Activation,
    /// The noise stack applied to every layer input after φ (the raw input too
    /// unless `input_noise` is false). Must be samplable.
    pub noise: Noise,
    /// Weight variance scale: W ~ N(0, σ_w²/fan_in). Finite, > 0.
    pub sigma_w2: f64,
    /// Bias variance: b ~ N(0, σ_b²), zero when σ_b² = 0. Finite, ≥ 0.
    pub sigma_b2: f64,
    /// σ_w² of the output layer; `None` = `sigma_w2`.
    pub output_sigma_w2: Option<f64>,
    /// Apply φ to the raw input (the paper code's convention: true).
    pub input_activation: bool,
    /// Apply the noise to the raw input (the paper code's convention: true).
    pub input_noise: bool,
    /// Seed of the weights, biases and noise draws.
    pub seed: u64,
}

impl MlpConfig {
    /// A ReLU network without noise, σ_w² = 2, σ_b² = 0, φ and noise on the
    /// input (paper convention), seed 0.
    pub fn new(d_in: usize, width: usize, depth: usize, d_out: usize) -> Self {
        MlpConfig {
            d_in,
            width,
            depth,
            d_out,
            activation: Activation::Relu,
            noise: Noise::none(),
            sigma_w2: 2.0,
            sigma_b2: 0.0,
            output_sigma_w2: None,
            input_activation: true,
            input_noise: true,
            seed: 0,
        }
    }

    /// σ_w² of the output layer.
    pub fn output_sigma_w2(&self) -> f64 {
        self.output_sigma_w2.unwrap_or(self.sigma_w2)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`EngineError::InvalidSize`] for a zero dimension,
    /// [`EngineError::InvalidParameter`] for a variance, an activation
    /// parameter or a noise parameter out of range, and
    /// [`EngineError::NotSamplable`] for a noise law given only by a moment.
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
        positive("sigma_w2", self.sigma_w2)?;
        if let Some(s) = self.output_sigma_w2 {
            positive("output_sigma_w2", s)?;
        }
        if !(self.sigma_b2.is_finite() && self.sigma_b2 >= 0.0) {
            return Err(EngineError::InvalidParameter {
                what: "sigma_b2",
                value: self.sigma_b2,
                valid: "[0, inf)",
            });
        }
        match self.activation {
            Activation::LeakyRelu { slope } if !slope.is_finite() => {
                return Err(EngineError::InvalidParameter {
                    what: "leaky-relu slope",
                    value: slope,
                    valid: "finite",
                });
            }
            Activation::Elu { alpha } => positive("elu alpha", alpha)?,
            _ => {}
        }
        for law in self.noise.laws() {
            validate_law(law)?;
        }
        NoiseSampler::new(&self.noise)?;
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
    fn shapes(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
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

fn positive(what: &'static str, value: f64) -> Result<(), EngineError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(EngineError::InvalidParameter {
            what,
            value,
            valid: "(0, inf)",
        })
    }
}

fn validate_law(law: NoiseLaw) -> Result<(), EngineError> {
    let bad = |what, value, valid| Err(EngineError::InvalidParameter { what, value, valid });
    let nonneg = |v: f64| v.is_finite() && v >= 0.0;
    let pos = |v: f64| v.is_finite() && v > 0.0;
    match law {
        NoiseLaw::Dropout { keep } if !(keep > 0.0 && keep <= 1.0) => {
            bad("dropout keep probability", keep, "(0, 1]")
        }
        NoiseLaw::GaussMult { std } if !nonneg(std) => bad("gauss-mult std", std, "[0, inf)"),
        NoiseLaw::GaussAdd { std } if !nonneg(std) => bad("gauss-add std", std, "[0, inf)"),
        NoiseLaw::LaplaceMult { scale } if !nonneg(scale) => {
            bad("laplace-mult scale", scale, "[0, inf)")
        }
        NoiseLaw::LaplaceAdd { scale } if !nonneg(scale) => {
            bad("laplace-add scale", scale, "[0, inf)")
        }
        NoiseLaw::Poisson { rate } if !pos(rate) => bad("poisson rate", rate, "(0, inf)"),
        NoiseLaw::Gamma { shape } if !pos(shape) => bad("gamma shape", shape, "(0, inf)"),
        NoiseLaw::UniformMult { half_width } if !nonneg(half_width) => {
            bad("uniform-mult half-width", half_width, "[0, inf)")
        }
        _ => Ok(()),
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

/// How the forward pass samples the noise of one stack.
#[derive(Debug, Clone, PartialEq)]
enum NoisePlan {
    /// No stage.
    Identity,
    /// Only dropout and Gaussian stages: drawn inside the fused pass.
    Fused(Vec<FusedStage>),
    /// Some stage only [`NoiseSampler::apply`] can draw: φ pass, then apply.
    Sampler,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FusedStage {
    Dropout { threshold: u64, inv_keep: f64 },
    GaussMult(f32),
    GaussAdd(f32),
}

impl NoisePlan {
    fn new(sampler: &NoiseSampler) -> Self {
        if sampler.is_identity() {
            return NoisePlan::Identity;
        }
        if sampler.stages().len() > MAX_FUSED_STAGES {
            return NoisePlan::Sampler;
        }
        let mut fused = Vec::new();
        for stage in sampler.stages() {
            fused.push(match *stage {
                Stage::Dropout { keep, threshold } => FusedStage::Dropout {
                    threshold,
                    inv_keep: 1.0 / keep,
                },
                Stage::GaussMult(std) => FusedStage::GaussMult(std as f32),
                Stage::GaussAdd(std) => FusedStage::GaussAdd(std as f32),
                _ => return NoisePlan::Sampler,
            });
        }
        NoisePlan::Fused(fused)
    }
}

/// A dense noisy MLP in `T` (f32 for training; f64 for reference checks).
///
/// The f64 network is initialised with exactly the f32 network's values (the
/// f32 weight stream, widened), so the two can be compared directly.
#[derive(Debug, Clone)]
pub struct Mlp<T: Real = f32> {
    config: MlpConfig,
    layers: Vec<Layer>,
    params: Vec<T>,
    grads: Vec<T>,
    sampler: NoiseSampler,
    plan: NoisePlan,
    threads: Threads,
    root: Key,
    /// Rows the workspaces hold.
    capacity: usize,
    /// Batch of the last forward pass (0: none yet).
    batch: usize,
    /// x̃ˡ, l = 0 ..= depth (capacity × n_l).
    inputs: Vec<Vec<T>>,
    /// gˡ = φ′(aˡ)·εˡ, l = 1 ..= depth (index 0 unused, empty).
    factors: Vec<Vec<T>>,
    /// The output (capacity × d_out).
    output: Vec<T>,
    /// δ ping-pong buffers (capacity × width).
    delta: [Vec<T>; 2],
    /// Bias-gradient partial sums (blocks × max width).
    partial: Vec<T>,
    /// Multiplicative noise factor for the [`NoisePlan::Sampler`] path.
    scratch: Vec<T>,
    /// Test hook: compute the backward factor without the noise (a
    /// deliberately wrong backward, which the gradient check must catch).
    #[cfg(test)]
    pub(crate) sabotage_noise_factor: bool,
}

impl<T: Real> Mlp<T> {
    /// Builds and initialises a network: W^l ~ N(0, σ_w²/fan_in) from the
    /// stream `Key::new(seed).child(WEIGHTS).child(l)`, b^l zero or
    /// N(0, σ_b²) from `child(BIASES).child(l)` (l = 1 ..= depth + 1).
    /// Products use one thread until [`Mlp::set_threads`].
    ///
    /// # Errors
    /// See [`MlpConfig::validate`].
    pub fn new(config: MlpConfig) -> Result<Self, EngineError> {
        config.validate()?;
        let sampler = NoiseSampler::new(&config.noise)?;
        let plan = NoisePlan::new(&sampler);
        let mut layers = Vec::with_capacity(config.depth + 1);
        let mut offset = 0;
        for (n_in, n_out) in config.shapes() {
            layers.push(Layer {
                n_in,
                n_out,
                weight_offset: offset,
                bias_offset: offset + n_in * n_out,
            });
            offset += (n_in + 1) * n_out;
        }
        let root = Key::new(config.seed);
        let mut params = vec![T::ZERO; offset];
        let mut draw = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let l = i as u64 + 1;
            let s2 = if i == config.depth {
                config.output_sigma_w2()
            } else {
                config.sigma_w2
            };
            let std = (s2 / layer.n_in as f64).sqrt() as f32;
            draw.resize(layer.n_in * layer.n_out, 0.0f32);
            fill_normal_f32(&mut draw, std, root.child(tags::WEIGHTS).child(l));
            for (p, &v) in params[layer.weight_range()].iter_mut().zip(&draw) {
                *p = T::from_f64(v as f64);
            }
            if config.sigma_b2 > 0.0 {
                draw.resize(layer.n_out, 0.0);
                let std = config.sigma_b2.sqrt() as f32;
                fill_normal_f32(&mut draw, std, root.child(tags::BIASES).child(l));
                for (p, &v) in params[layer.bias_range()].iter_mut().zip(&draw) {
                    *p = T::from_f64(v as f64);
                }
            }
        }
        let depth = config.depth;
        Ok(Mlp {
            grads: vec![T::ZERO; offset],
            params,
            layers,
            sampler,
            plan,
            threads: Threads::One,
            root,
            capacity: 0,
            batch: 0,
            inputs: vec![Vec::new(); depth + 1],
            factors: vec![Vec::new(); depth + 1],
            output: Vec::new(),
            delta: [Vec::new(), Vec::new()],
            partial: Vec::new(),
            scratch: Vec::new(),
            config,
            #[cfg(test)]
            sabotage_noise_factor: false,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The layers (index i is W^{i+1}, b^{i+1}).
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Threads of the products and element-wise passes.
    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// Sets the threads (results do not depend on it).
    pub fn set_threads(&mut self, threads: Threads) {
        self.threads = threads;
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }

    /// All parameters: W¹, b¹, W², b², … (see [`Layer`]).
    pub fn params(&self) -> &[T] {
        &self.params
    }

    /// All parameters, mutable (loading, finite differences).
    pub fn params_mut(&mut self) -> &mut [T] {
        &mut self.params
    }

    /// Replaces all parameters.
    ///
    /// # Errors
    /// [`EngineError::LengthMismatch`] when `params` has the wrong length.
    pub fn set_params(&mut self, params: &[T]) -> Result<(), EngineError> {
        if params.len() != self.params.len() {
            return Err(EngineError::LengthMismatch {
                what: "parameters",
                len: params.len(),
                expected: self.params.len(),
            });
        }
        self.params.copy_from_slice(params);
        Ok(())
    }

    /// The gradients of the last [`Mlp::backward`], same layout as
    /// [`Mlp::params`]. After [`Mlp::backward_sgd`] only the bias entries
    /// are filled.
    pub fn grads(&self) -> &[T] {
        &self.grads
    }

    /// The parameters (mutable) and the gradients, for an optimiser.
    pub fn params_and_grads(&mut self) -> (&mut [T], &[T]) {
        (&mut self.params, &self.grads)
    }

    /// W^{i+1} (n_out × n_in, row-major).
    pub fn weights(&self, i: usize) -> &[T] {
        &self.params[self.layers[i].weight_range()]
    }

    /// b^{i+1}.
    pub fn bias(&self, i: usize) -> &[T] {
        &self.params[self.layers[i].bias_range()]
    }

    /// ∂loss/∂W^{i+1}.
    pub fn weight_grad(&self, i: usize) -> &[T] {
        &self.grads[self.layers[i].weight_range()]
    }

    /// ∂loss/∂b^{i+1}.
    pub fn bias_grad(&self, i: usize) -> &[T] {
        &self.grads[self.layers[i].bias_range()]
    }

    /// The batch of the last forward pass (0 before the first).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// x̃ˡ of the last forward pass (batch × n_l), l = 0 ..= depth: the
    /// input of W^{l+1}.
    pub fn layer_input(&self, l: usize) -> &[T] {
        let n = self.layers[l].n_in;
        &self.inputs[l][..self.batch * n]
    }

    /// gˡ = φ′(aˡ)·εˡ of the last forward pass (batch × width), l = 1 ..=
    /// depth: ∂loss/∂aˡ = gˡ ⊙ (δ·W^{l+1}).
    pub fn backward_factor(&self, l: usize) -> &[T] {
        assert!(
            (1..=self.config.depth).contains(&l),
            "backward factors exist for l = 1 ..= depth, not {l}"
        );
        &self.factors[l][..self.batch * self.config.width]
    }

    /// The output of the last forward pass (batch × d_out).
    pub fn output(&self) -> &[T] {
        &self.output[..self.batch * self.config.d_out]
    }

    fn reserve(&mut self, batch: usize) {
        if batch <= self.capacity {
            return;
        }
        let c = &self.config;
        for (l, buf) in self.inputs.iter_mut().enumerate() {
            buf.resize(batch * self.layers[l].n_in, T::ZERO);
        }
        for buf in self.factors.iter_mut().skip(1) {
            buf.resize(batch * c.width, T::ZERO);
        }
        self.output.resize(batch * c.d_out, T::ZERO);
        for buf in &mut self.delta {
            buf.resize(batch * c.width, T::ZERO);
        }
        self.partial
            .resize(batch.div_ceil(COLSUM_BLOCK) * c.width.max(c.d_out), T::ZERO);
        self.scratch.resize(batch * c.width.max(c.d_in), T::ZERO);
        self.capacity = batch;
    }

    /// The forward pass on a batch `x` (batch × d_in, row-major); returns the
    /// output (batch × d_out). With `train` the noise is drawn for
    /// optimisation step `step` (layer input l uses
    /// `Key::new(seed).child(NOISE).child(step).child(l)`); without it there
    /// is no noise. Either way the pass keeps what [`Mlp::backward`] needs.
    ///
    /// # Panics
    /// When `batch` is 0 or `x.len() != batch·d_in`.
    pub fn forward(&mut self, x: &[T], batch: usize, train: bool, step: u64) -> &[T] {
        assert!(batch > 0, "batch must be at least 1");
        assert_eq!(
            x.len(),
            batch * self.config.d_in,
            "input has {} elements, expected batch {batch} × d_in {}",
            x.len(),
            self.config.d_in
        );
        self.reserve(batch);
        self.batch = batch;
        let noise_key = self.root.child(tags::NOISE).child(step);
        #[cfg(test)]
        let sabotage = self.sabotage_noise_factor;
        let Mlp {
            config,
            layers,
            params,
            sampler,
            plan,
            threads,
            inputs,
            factors,
            output,
            scratch,
            ..
        } = self;
        let threads = *threads;
        let (plan, sampler): (&NoisePlan, &NoiseSampler) = (plan, sampler);
        let noise = |l: usize| NoiseArgs {
            plan: if train && (l > 0 || config.input_noise) {
                plan
            } else {
                &IDENTITY
            },
            sampler,
            key: noise_key.child(l as u64),
        };

        let x0 = &mut inputs[0][..x.len()];
        x0.copy_from_slice(x);
        let act0 = config.input_activation.then_some(config.activation);
        transform(
            x0,
            None,
            config.d_in,
            None,
            act0,
            &noise(0),
            scratch,
            threads,
        );
        for (i, layer) in layers.iter().enumerate() {
            let (n_in, n_out) = (layer.n_in, layer.n_out);
            let w = &params[layer.weight_range()];
            let b = &params[layer.bias_range()];
            let (done, rest) = inputs.split_at_mut(i + 1);
            let input = &done[i][..batch * n_in];
            if i < config.depth {
                let pre = &mut rest[0][..batch * n_out];
                gemm_nt(batch, n_out, n_in, pre, input, w, T::ONE, T::ZERO, threads);
                #[cfg(test)]
                let pre_copy = pre.to_vec();
                let g = &mut factors[i + 1][..batch * n_out];
                transform(
                    pre,
                    Some(g),
                    n_out,
                    Some(b),
                    Some(config.activation),
                    &noise(i + 1),
                    scratch,
                    threads,
                );
                #[cfg(test)]
                if sabotage {
                    for ((g, &a), bj) in g.iter_mut().zip(&pre_copy).zip(b.iter().cycle()) {
                        *g = act::eval(config.activation, a + *bj).1;
                    }
                }
            } else {
                let out = &mut output[..batch * n_out];
                gemm_nt(batch, n_out, n_in, out, input, w, T::ONE, T::ZERO, threads);
                for row in out.chunks_exact_mut(n_out) {
                    for (o, &bj) in row.iter_mut().zip(b) {
                        *o += bj;
                    }
                }
            }
        }
        &self.output[..batch * self.config.d_out]
    }

    /// The backward pass for the last forward pass: fills [`Mlp::grads`]
    /// from ∂loss/∂output (batch × d_out).
    ///
    /// # Panics
    /// Before any forward pass, or when `dloss` has the wrong length.
    pub fn backward(&mut self, dloss: &[T]) {
        self.backward_impl(dloss, None);
    }

    /// The backward pass fused with a plain SGD step `w ← w − lr·∂w`: each
    /// weight gradient goes straight into the weights through the product
    /// (`W ← W − lr·δᵀ·x̃` in one `gemm` call, after W has been used for
    /// δ·W), so no weight-gradient buffer is written or read. Equal to
    /// [`Mlp::backward`] followed by plain SGD up to rounding (the product is
    /// accumulated onto W instead of rounded first). Only the bias gradients
    /// are left in [`Mlp::grads`].
    ///
    /// # Panics
    /// As [`Mlp::backward`].
    pub fn backward_sgd(&mut self, dloss: &[T], lr: T) {
        self.backward_impl(dloss, Some(lr));
    }

    fn backward_impl(&mut self, dloss: &[T], sgd: Option<T>) {
        let batch = self.batch;
        assert!(batch > 0, "backward needs a forward pass first");
        assert_eq!(
            dloss.len(),
            batch * self.config.d_out,
            "dloss has {} elements, expected batch {batch} × d_out {}",
            dloss.len(),
            self.config.d_out
        );
        let Mlp {
            config,
            layers,
            params,
            grads,
            threads,
            inputs,
            factors,
            delta,
            partial,
            ..
        } = self;
        let threads = *threads;
        let depth = config.depth;
        let top = layers[depth];
        mul_colsum(
            None,
            None,
            dloss,
            top.n_out,
            &mut grads[top.bias_range()],
            partial,
            threads,
        );
        let [d0, d1] = delta;
        for i in (0..=depth).rev() {
            let layer = layers[i];
            let (n_in, n_out) = (layer.n_in, layer.n_out);
            // δ = ∂loss/∂a^{i+1} (batch × n_out); the next δ goes to `next`.
            let k = depth - i;
            let (src, next): (&[T], &mut Vec<T>) = if k == 0 {
                (dloss, &mut *d0)
            } else if k % 2 == 1 {
                (&d0[..batch * n_out], &mut *d1)
            } else {
                (&d1[..batch * n_out], &mut *d0)
            };
            if i > 0 {
                let prev = layers[i - 1];
                let next = &mut next[..batch * n_in];
                let w = &params[layer.weight_range()];
                gemm_nn(batch, n_in, n_out, next, src, w, T::ONE, T::ZERO, threads);
                mul_colsum(
                    Some(&mut *next),
                    Some(&factors[i][..batch * n_in]),
                    &[],
                    n_in,
                    &mut grads[prev.bias_range()],
                    partial,
                    threads,
                );
            }
            let input = &inputs[i][..batch * n_in];
            match sgd {
                None => {
                    let gw = &mut grads[layer.weight_range()];
                    gemm_tn(n_out, n_in, batch, gw, src, input, T::ONE, T::ZERO, threads);
                }
                Some(lr) => {
                    let w = &mut params[layer.weight_range()];
                    gemm_tn(n_out, n_in, batch, w, src, input, -lr, T::ONE, threads);
                    let (b, gb) = (layer.bias_range(), layer.bias_range());
                    for (p, &g) in params[b].iter_mut().zip(&grads[gb]) {
                        *p = *p - lr * g;
                    }
                }
            }
        }
    }
}

static IDENTITY: NoisePlan = NoisePlan::Identity;

/// The noise of one layer input in one forward pass.
struct NoiseArgs<'a> {
    plan: &'a NoisePlan,
    sampler: &'a NoiseSampler,
    key: Key,
}

fn workers(threads: Threads) -> usize {
    match threads {
        Threads::One => 1,
        Threads::Many(n) => n.max(1),
    }
}

/// In place on `buf` (rows × n): `buf ← noise(φ(buf + bias))` and, when
/// given, `deriv ← φ′(buf + bias)·ε` (ε the multiplicative draws). `act`
/// `None` is the identity.
#[allow(clippy::too_many_arguments)]
fn transform<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
    threads: Threads,
) {
    let rows = buf.len() / n;
    let nt = workers(threads).min(rows);
    let scratch = &mut scratch[..buf.len()];
    if nt <= 1 || buf.len() < PAR_MIN_ELEMS {
        transform_rows(buf, deriv, n, 0, bias, act, noise, scratch);
        return;
    }
    let chunk = rows.div_ceil(nt) * n;
    match deriv {
        Some(d) => buf
            .par_chunks_mut(chunk)
            .zip(d.par_chunks_mut(chunk))
            .zip(scratch.par_chunks_mut(chunk))
            .enumerate()
            .for_each(|(c, ((b, d), s))| {
                transform_rows(b, Some(d), n, c * (chunk / n), bias, act, noise, s);
            }),
        None => buf
            .par_chunks_mut(chunk)
            .zip(scratch.par_chunks_mut(chunk))
            .enumerate()
            .for_each(|(c, (b, s))| {
                transform_rows(b, None, n, c * (chunk / n), bias, act, noise, s);
            }),
    }
}

#[inline(always)]
fn relu<T: Real>(x: T) -> (T, T) {
    if x > T::ZERO {
        (x, T::ONE)
    } else {
        (T::ZERO, T::ZERO)
    }
}

#[inline(always)]
fn identity<T: Real>(x: T) -> (T, T) {
    (x, T::ONE)
}

/// Rows `row0 ..` of a layer input (the rows of `buf`). On x86-64 with
/// AVX-512 the same code is compiled for it (the 64-bit multiplies of the
/// counter hash vectorise); the results are bit-identical (the same IEEE
/// operations, no contraction into FMAs).
#[allow(clippy::too_many_arguments)]
fn transform_rows<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    if crate::real::has_avx512() {
        // SAFETY: the target features of `transform_rows_v4` were detected
        // on this CPU just above.
        unsafe { transform_rows_v4(buf, deriv, n, row0, bias, act, noise, scratch) };
        return;
    }
    transform_rows_any(buf, deriv, n, row0, bias, act, noise, scratch);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
#[allow(clippy::too_many_arguments)]
fn transform_rows_v4<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
) {
    transform_rows_any(buf, deriv, n, row0, bias, act, noise, scratch);
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn transform_rows_any<T: Real>(
    buf: &mut [T],
    deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    act: Option<Activation>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
) {
    match act {
        None | Some(Activation::Linear) => {
            with_act(buf, deriv, n, row0, bias, noise, scratch, identity)
        }
        Some(Activation::Relu) => with_act(buf, deriv, n, row0, bias, noise, scratch, relu),
        Some(a) => with_act(buf, deriv, n, row0, bias, noise, scratch, move |x| {
            act::eval(a, x)
        }),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn with_act<T: Real, A: Fn(T) -> (T, T) + Copy>(
    buf: &mut [T],
    mut deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    noise: &NoiseArgs<'_>,
    scratch: &mut [T],
    a: A,
) {
    let key = noise.key;
    match noise.plan {
        NoisePlan::Identity => rows(buf, deriv, n, row0, bias, a, |_, f| (f, T::ONE)),
        NoisePlan::Fused(stages) => match stages.as_slice() {
            [
                FusedStage::Dropout {
                    threshold,
                    inv_keep,
                },
            ] => {
                // The common case, exactly as NoiseSampler::apply draws it.
                let (k, threshold, scale) = (key.child(0), *threshold, T::from_f64(*inv_keep));
                rows(buf, deriv, n, row0, bias, a, move |c, f| {
                    let e = if k.bits(c) >> 32 < threshold {
                        scale
                    } else {
                        T::ZERO
                    };
                    (f * e, e)
                });
            }
            stages => {
                let mut draw = StackDraw::new(stages, key);
                rows(buf, deriv, n, row0, bias, a, |c, f| draw.apply(c, f));
            }
        },
        NoisePlan::Sampler => {
            rows(buf, deriv.as_deref_mut(), n, row0, bias, a, |_, f| {
                (f, T::ONE)
            });
            let offset = (row0 * n) as u64;
            match deriv {
                Some(d) => {
                    noise.sampler.apply(key, offset, buf, Some(&mut *scratch));
                    for (d, &e) in d.iter_mut().zip(scratch.iter()) {
                        *d *= e;
                    }
                }
                None => noise.sampler.apply(key, offset, buf, None),
            }
        }
    }
}

/// The fused draw of a stack of dropout / Gaussian stages, element by
/// element, exactly as [`NoiseSampler::apply`] draws them. Box–Muller pairs
/// are cached so each 64-bit draw is transformed once.
struct StackDraw<T> {
    len: usize,
    /// Per stage: key, stage, dropout scale.
    stages: [(Key, FusedStage, T); MAX_FUSED_STAGES],
    /// Per stage: the pair counter last transformed and its two normals.
    cache: [(u64, f32, f32); MAX_FUSED_STAGES],
}

impl<T: Real> StackDraw<T> {
    fn new(stages: &[FusedStage], key: Key) -> Self {
        let mut out = StackDraw {
            len: stages.len().min(MAX_FUSED_STAGES),
            stages: [(key, FusedStage::GaussAdd(0.0), T::ONE); MAX_FUSED_STAGES],
            cache: [(u64::MAX, 0.0, 0.0); MAX_FUSED_STAGES],
        };
        for (s, (slot, st)) in out.stages.iter_mut().zip(stages).enumerate() {
            let scale = match st {
                FusedStage::Dropout { inv_keep, .. } => T::from_f64(*inv_keep),
                _ => T::ONE,
            };
            *slot = (key.child(s as u64), *st, scale);
        }
        out
    }

    #[inline]
    fn apply(&mut self, c: u64, mut v: T) -> (T, T) {
        let mut factor = T::ONE;
        let n = self.len;
        for ((k, stage, scale), cache) in self.stages[..n].iter().zip(&mut self.cache[..n]) {
            match *stage {
                FusedStage::Dropout { threshold, .. } => {
                    let e = if k.bits(c) >> 32 < threshold {
                        *scale
                    } else {
                        T::ZERO
                    };
                    v *= e;
                    factor *= e;
                }
                FusedStage::GaussMult(std) | FusedStage::GaussAdd(std) => {
                    let pair = c >> 1;
                    if cache.0 != pair {
                        let (z0, z1) = box_muller(k.bits(pair));
                        *cache = (pair, z0, z1);
                    }
                    let z = if c & 1 == 0 { cache.1 } else { cache.2 };
                    let e = T::from_f64((std * z) as f64);
                    if matches!(stage, FusedStage::GaussMult(_)) {
                        let e = T::ONE + e;
                        v *= e;
                        factor *= e;
                    } else {
                        v += e;
                    }
                }
            }
        }
        (v, factor)
    }
}

/// The element loop: `h = buf + bias`, `(f, f′) = a(h)`, `(x̃, ε) =
/// noise(counter, f)`, `buf ← x̃`, `deriv ← f′·ε`.
#[inline(always)]
fn rows<T: Real, A: Fn(T) -> (T, T), N: FnMut(u64, T) -> (T, T)>(
    buf: &mut [T],
    mut deriv: Option<&mut [T]>,
    n: usize,
    row0: usize,
    bias: Option<&[T]>,
    a: A,
    mut noise: N,
) {
    for (r, row) in buf.chunks_exact_mut(n).enumerate() {
        let c0 = ((row0 + r) * n) as u64;
        let counters = c0..c0 + n as u64;
        match (bias, deriv.as_deref_mut()) {
            (Some(b), Some(d)) => {
                let d = &mut d[r * n..(r + 1) * n];
                for (((v, dv), &bj), c) in row.iter_mut().zip(d).zip(b).zip(counters) {
                    let (f, df) = a(*v + bj);
                    let (x, e) = noise(c, f);
                    *v = x;
                    *dv = df * e;
                }
            }
            (None, Some(d)) => {
                let d = &mut d[r * n..(r + 1) * n];
                for ((v, dv), c) in row.iter_mut().zip(d).zip(counters) {
                    let (f, df) = a(*v);
                    let (x, e) = noise(c, f);
                    *v = x;
                    *dv = df * e;
                }
            }
            (Some(b), None) => {
                for ((v, &bj), c) in row.iter_mut().zip(b).zip(counters) {
                    *v = noise(c, a(*v + bj).0).0;
                }
            }
            (None, None) => {
                for (v, c) in row.iter_mut().zip(counters) {
                    *v = noise(c, a(*v).0).0;
                }
            }
        }
    }
}

/// Column sums of a batch of δ (rows × n) into `sums`, after multiplying δ
/// by `factor` in place when both are given (`delta`/`factor`), or of the
/// read-only `src` otherwise. The sum of column j is Σ over blocks of
/// [`COLSUM_BLOCK`] rows, in block order, of the block's sum in row order —
/// the same for any thread count.
fn mul_colsum<T: Real>(
    delta: Option<&mut [T]>,
    factor: Option<&[T]>,
    src: &[T],
    n: usize,
    sums: &mut [T],
    partial: &mut [T],
    threads: Threads,
) {
    let len = delta.as_ref().map_or(src.len(), |d| d.len());
    let rows = len / n;
    let blocks = rows.div_ceil(COLSUM_BLOCK);
    let partial = &mut partial[..blocks * n];
    let block_len = COLSUM_BLOCK * n;
    let nt = workers(threads).min(blocks);
    let per_task = blocks.div_ceil(nt.max(1));
    match (delta, factor) {
        (Some(delta), Some(factor)) => {
            let job = |(d, (f, p)): (&mut [T], (&[T], &mut [T]))| {
                for ((d, f), p) in d
                    .chunks_mut(block_len)
                    .zip(f.chunks(block_len))
                    .zip(p.chunks_exact_mut(n))
                {
                    p.fill(T::ZERO);
                    for (drow, frow) in d.chunks_exact_mut(n).zip(f.chunks_exact(n)) {
                        for ((dv, &fv), pv) in drow.iter_mut().zip(frow).zip(p.iter_mut()) {
                            *dv *= fv;
                            *pv += *dv;
                        }
                    }
                }
            };
            if nt <= 1 || len < PAR_MIN_ELEMS {
                job((delta, (factor, partial)));
            } else {
                delta
                    .par_chunks_mut(per_task * block_len)
                    .zip(
                        factor
                            .par_chunks(per_task * block_len)
                            .zip(partial.par_chunks_mut(per_task * n)),
                    )
                    .for_each(job);
            }
        }
        _ => {
            // Read-only (the top layer's δ, small): one thread.
            for (s, p) in src.chunks(block_len).zip(partial.chunks_exact_mut(n)) {
                p.fill(T::ZERO);
                for row in s.chunks_exact(n) {
                    for (pv, &v) in p.iter_mut().zip(row) {
                        *pv += v;
                    }
                }
            }
        }
    }
    sums.fill(T::ZERO);
    for p in partial.chunks_exact(n) {
        for (s, &v) in sums.iter_mut().zip(p) {
            *s += v;
        }
    }
}

#[cfg(test)]
mod tests;
