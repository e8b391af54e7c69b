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

#[cfg(test)]
use crate::act;
use crate::error::EngineError;
use crate::matmul::{Threads, gemm_nn, gemm_nt, gemm_tn};
use crate::noise::NoiseSampler;
use crate::real::Real;
use crate::rng::{Key, fill_normal_f32, tags};

mod config;
mod fused;

pub use config::{Layer, MlpConfig};
use fused::{IDENTITY, NoiseArgs, NoisePlan, mul_colsum, transform};

/// Rows per block of the bias-gradient reduction: the bias gradient of a
/// column is Σ over blocks (in order) of Σ over the block's rows (in order).
pub const COLSUM_BLOCK: usize = 32;

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
        let sampler = NoiseSampler::new(config.network.noise())?;
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
                config.network.sigma_w2()
            };
            let std = (s2 / layer.n_in as f64).sqrt() as f32;
            draw.resize(layer.n_in * layer.n_out, 0.0f32);
            fill_normal_f32(&mut draw, std, root.child(tags::WEIGHTS).child(l));
            for (p, &v) in params[layer.weight_range()].iter_mut().zip(&draw) {
                *p = T::from_f64(v as f64);
            }
            if config.network.sigma_b2() > 0.0 {
                draw.resize(layer.n_out, 0.0);
                let std = config.network.sigma_b2().sqrt() as f32;
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
        let act0 = config
            .input_activation
            .then_some(config.network.activation());
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
                    Some(config.network.activation()),
                    &noise(i + 1),
                    scratch,
                    threads,
                );
                #[cfg(test)]
                if sabotage {
                    for ((g, &a), bj) in g.iter_mut().zip(&pre_copy).zip(b.iter().cycle()) {
                        *g = act::eval(config.network.activation(), a + *bj).1;
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

#[cfg(test)]
mod tests;
