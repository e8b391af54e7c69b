//! A minimal CPU trainer written straight from docs/engine-semantics.md with the engine's
//! CPU primitives (`gemm`, `act`, `NoiseSampler`): the other side of the parity check.
//!
//! It exists so that the GPU backend can be checked against the documented semantics on
//! its own; the engine's full CPU trainer plugs into the same check through
//! [`CpuTrainer`] (see [`super::parity::parity_with`]).

use noisyprop_theory::Activation;

use super::error::CudaError;
use super::grid::{GridConfig, NetParams, NetSpec};
use crate::act;
use crate::error::EngineError;
use crate::loss::{Loss, Target};
use crate::matmul::{Threads, gemm_nn, gemm_nt, gemm_tn};
use crate::mlp::{Mlp, MlpConfig};
use crate::noise::NoiseSampler;
use crate::optim::OptimizerConfig;
use crate::rng::{Key, tags};
use crate::train::Trainer;

/// A CPU network the parity check can drive.
pub trait CpuTrainer {
    /// The current parameters (the GPU grid starts from the initial ones).
    fn params(&self) -> NetParams;

    /// One optimisation step on `rows` rows of `x` (rows × d_in) with targets `y`
    /// (rows × d_out; one-hot for softmax cross-entropy); the noise of step t (t = 0, 1, …
    /// counted by the trainer). Returns the batch loss computed before the update, noise
    /// on.
    ///
    /// # Errors
    /// Whatever the trainer reports.
    fn train_step(&mut self, x: &[f32], y: &[f32], rows: usize) -> Result<f32, CudaError>;
}

/// The reference network: f32 throughout, single-threaded products, MSE loss, SGD with
/// optional momentum (Adam and softmax cross-entropy are checked against the engine's
/// trainer, [`EngineTrainer`], only).
#[derive(Debug, Clone)]
pub struct ReferenceNet {
    dims: Vec<usize>,
    act: Activation,
    input_activation: bool,
    input_noise: bool,
    sampler: NoiseSampler,
    noise_key: Key,
    params: NetParams,
    velocity: Option<NetParams>,
    lr: f32,
    momentum: f32,
    step: u64,
}

impl ReferenceNet {
    /// A network of `cfg`'s shape and training setup with `spec`'s noise and seed,
    /// starting from `params`.
    ///
    /// # Errors
    /// A noise law that cannot be sampled; parameters of the wrong shape.
    pub fn new(cfg: &GridConfig, spec: &NetSpec, params: NetParams) -> Result<Self, CudaError> {
        let dims = cfg.dims();
        let layers = dims.len() - 1;
        if params.weights.len() != layers
            || params.biases.len() != layers
            || (0..layers).any(|l| {
                params.weights[l].len() != dims[l] * dims[l + 1]
                    || params.biases[l].len() != dims[l + 1]
            })
        {
            return Err(CudaError::Config(format!(
                "parameters do not match the layer sizes {dims:?}"
            )));
        }
        let OptimizerConfig::Sgd { lr, momentum } = cfg.optimizer else {
            return Err(CudaError::Config(
                "the reference network implements SGD only (EngineTrainer has Adam)".to_string(),
            ));
        };
        if cfg.loss != Loss::Mse {
            return Err(CudaError::Config(
                "the reference network implements MSE only (EngineTrainer has cross-entropy)"
                    .to_string(),
            ));
        }
        // The f32 constants the GPU kernels (and the CPU optimiser) use.
        let (lr, momentum) = (lr as f32, momentum as f32);
        let velocity = (momentum != 0.0).then(|| NetParams {
            weights: params.weights.iter().map(|w| vec![0.0; w.len()]).collect(),
            biases: params.biases.iter().map(|b| vec![0.0; b.len()]).collect(),
        });
        Ok(ReferenceNet {
            dims,
            act: spec.network.activation(),
            input_activation: cfg.input_activation,
            input_noise: cfg.input_noise,
            sampler: NoiseSampler::new(spec.network.noise())
                .map_err(|e| CudaError::Config(e.to_string()))?,
            noise_key: Key::new(spec.seed).child(tags::NOISE),
            params,
            velocity,
            lr,
            momentum,
            step: cfg.first_step,
        })
    }
}

impl CpuTrainer for ReferenceNet {
    fn params(&self) -> NetParams {
        self.params.clone()
    }

    fn train_step(&mut self, x: &[f32], y: &[f32], rows: usize) -> Result<f32, CudaError> {
        let dims = &self.dims;
        let layers = dims.len() - 1;
        let (d_in, d_out) = (dims[0], dims[layers]);
        if x.len() < rows * d_in || y.len() < rows * d_out {
            return Err(CudaError::Config("batch buffers too short".to_string()));
        }
        let step_key = self.noise_key.child(self.step);
        let one = Threads::One;

        // Forward: x̃ˡ = noise_l(φ(aˡ)), aˡ⁺¹ = x̃ˡ·(Wˡ⁺¹)ᵀ + bˡ⁺¹.
        let mut xt: Vec<Vec<f32>> = Vec::with_capacity(layers);
        let mut fac: Vec<Vec<f32>> = Vec::with_capacity(layers);
        let mut x0 = x[..rows * d_in].to_vec();
        if self.input_activation {
            let raw = x0.clone();
            act::forward(self.act, &raw, &mut x0);
        }
        if self.input_noise {
            self.sampler.apply(step_key.child(0), 0, &mut x0, None);
        }
        xt.push(x0);
        let mut out = Vec::new();
        for l in 0..layers {
            let (nin, nout) = (dims[l], dims[l + 1]);
            let mut a = vec![0f32; rows * nout];
            gemm_nt(
                rows,
                nout,
                nin,
                &mut a,
                &xt[l],
                &self.params.weights[l],
                1.0,
                0.0,
                one,
            );
            for row in a.chunks_mut(nout) {
                for (v, b) in row.iter_mut().zip(&self.params.biases[l]) {
                    *v += b;
                }
            }
            if l + 1 == layers {
                out = a;
                break;
            }
            let mut h = vec![0f32; a.len()];
            let mut d = vec![0f32; a.len()];
            act::forward_with_derivative(self.act, &a, &mut h, &mut d);
            let mut eps = vec![0f32; a.len()];
            self.sampler
                .apply(step_key.child((l + 1) as u64), 0, &mut h, Some(&mut eps));
            for (di, e) in d.iter_mut().zip(&eps) {
                *di *= e;
            }
            xt.push(h);
            fac.push(d);
        }

        // MSE and its gradient.
        let count = (rows * d_out) as f64;
        let scale = (2.0 / count) as f32;
        let mut loss = 0f64;
        let mut delta: Vec<f32> = out
            .iter()
            .zip(&y[..rows * d_out])
            .map(|(o, t)| {
                let diff = o - t;
                loss += f64::from(diff) * f64::from(diff);
                scale * diff
            })
            .collect();
        let loss = (loss / count) as f32;

        // Backward and SGD.
        for l in (0..layers).rev() {
            let (nin, nout) = (dims[l], dims[l + 1]);
            let mut gw = vec![0f32; nout * nin];
            gemm_tn(nout, nin, rows, &mut gw, &delta, &xt[l], 1.0, 0.0, one);
            let mut gb = vec![0f32; nout];
            for row in delta.chunks(nout) {
                for (s, d) in gb.iter_mut().zip(row) {
                    *s += d;
                }
            }
            let next = if l >= 1 {
                let mut g = vec![0f32; rows * nin];
                gemm_nn(
                    rows,
                    nin,
                    nout,
                    &mut g,
                    &delta,
                    &self.params.weights[l],
                    1.0,
                    0.0,
                    one,
                );
                for (gi, f) in g.iter_mut().zip(&fac[l - 1]) {
                    *gi *= f;
                }
                Some(g)
            } else {
                None
            };
            let (lr, mu) = (self.lr, self.momentum);
            let update = |w: &mut [f32], g: &[f32], v: Option<&mut [f32]>| match v {
                Some(v) => {
                    for ((w, g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                        *v = mu * *v + g;
                        *w -= lr * *v;
                    }
                }
                None => {
                    for (w, g) in w.iter_mut().zip(g) {
                        *w -= lr * g;
                    }
                }
            };
            match self.velocity.as_mut() {
                Some(v) => {
                    update(&mut self.params.weights[l], &gw, Some(&mut v.weights[l]));
                    update(&mut self.params.biases[l], &gb, Some(&mut v.biases[l]));
                }
                None => {
                    update(&mut self.params.weights[l], &gw, None);
                    update(&mut self.params.biases[l], &gb, None);
                }
            }
            if let Some(g) = next {
                delta = g;
            }
        }
        self.step += 1;
        Ok(loss)
    }
}

/// The engine's CPU trainer ([`Trainer`] on an f32 [`Mlp`] with the grid's loss and
/// optimiser) as a [`CpuTrainer`]: what the GPU grid is checked against by
/// [`super::parity::parity`].
#[derive(Debug, Clone)]
pub struct EngineTrainer {
    trainer: Trainer<f32>,
    step: u64,
}

impl EngineTrainer {
    /// Network `spec` of shape and training setup `cfg`, initialised by [`Mlp::new`].
    ///
    /// # Errors
    /// The engine's configuration errors.
    pub fn new(cfg: &GridConfig, spec: &NetSpec) -> Result<Self, CudaError> {
        let engine = |e: EngineError| CudaError::Config(e.to_string());
        let mc = MlpConfig {
            network: spec.network.clone(),
            output_sigma_w2: spec.sigma_w2_out,
            input_activation: cfg.input_activation,
            input_noise: cfg.input_noise,
            seed: spec.seed,
            ..MlpConfig::new(cfg.d_in, cfg.width, cfg.depth, cfg.d_out)
        };
        let mlp = Mlp::<f32>::new(mc).map_err(engine)?;
        let opt = cfg.optimizer.build().map_err(engine)?;
        Ok(EngineTrainer {
            trainer: Trainer::new(mlp, cfg.loss, opt),
            step: cfg.first_step,
        })
    }

    /// The wrapped trainer.
    pub fn trainer(&self) -> &Trainer<f32> {
        &self.trainer
    }
}

impl CpuTrainer for EngineTrainer {
    fn params(&self) -> NetParams {
        let m = self.trainer.mlp();
        let layers = m.config().depth + 1;
        NetParams {
            weights: (0..layers).map(|i| m.weights(i).to_vec()).collect(),
            biases: (0..layers).map(|i| m.bias(i).to_vec()).collect(),
        }
    }

    fn train_step(&mut self, x: &[f32], y: &[f32], rows: usize) -> Result<f32, CudaError> {
        let c = self.trainer.mlp().config();
        let (d_in, d_out) = (c.d_in, c.d_out);
        if x.len() < rows * d_in || y.len() < rows * d_out {
            return Err(CudaError::Config("batch buffers too short".to_string()));
        }
        let y = &y[..rows * d_out];
        let labels: Vec<u8>;
        let target = match self.trainer.loss() {
            Loss::Mse => Target::Values(y),
            Loss::SoftmaxCrossEntropy => {
                // The class of a one-hot row: its first largest entry (as the kernel).
                labels = y
                    .chunks_exact(d_out)
                    .map(|row| {
                        let j = row
                            .iter()
                            .enumerate()
                            .fold(0, |best, (j, &v)| if v > row[best] { j } else { best });
                        u8::try_from(j).unwrap_or(u8::MAX)
                    })
                    .collect();
                Target::Labels(&labels)
            }
        };
        let loss = self
            .trainer
            .train_step(&x[..rows * d_in], target, rows, self.step)
            .map_err(|e| CudaError::Config(e.to_string()))?;
        self.step += 1;
        Ok(loss as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cuda::grid::{Precision, init_params};
    use noisyprop_theory::{Network, Noise, NoiseLaw};

    fn tiny() -> GridConfig {
        GridConfig {
            d_in: 5,
            width: 4,
            depth: 2,
            d_out: 3,
            batch: 6,
            input_activation: true,
            input_noise: true,
            optimizer: OptimizerConfig::sgd(0.1),
            loss: Loss::Mse,
            precision: Precision::Fp32,
            use_graphs: false,
            loss_history: 8,
            first_step: 0,
        }
    }

    fn data(n: usize, seed: u64) -> Vec<f32> {
        let k = Key::new(seed);
        (0..n as u64)
            .map(|i| k.uniform(i) as f32 * 2.0 - 0.5)
            .collect()
    }

    /// The first update equals −lr × a central finite-difference gradient of the loss (the
    /// noise of step 0 is fixed by its key, so the loss is a function of the parameters).
    #[test]
    fn first_update_is_minus_lr_times_the_gradient() {
        for (act, noise) in [
            (
                Activation::Tanh,
                Noise::from_law(NoiseLaw::Dropout { keep: 0.7 }),
            ),
            (
                Activation::Tanh,
                Noise::from_laws(&[
                    NoiseLaw::GaussMult { std: 0.3 },
                    NoiseLaw::GaussAdd { std: 0.2 },
                ]),
            ),
            // (ReLU's kinks defeat finite differences in f32; its path is covered by
            // `reference_matches_the_engine_trainer`.)
        ] {
            let cfg = tiny();
            let spec = NetSpec::new(Network::new(act, noise, 1.5, 0.1).unwrap(), 11);
            let p0 = init_params(&cfg.dims(), &spec);
            let rows = 6;
            let x = data(rows * cfg.d_in, 1);
            let y = data(rows * cfg.d_out, 2);
            let loss_at = |p: &NetParams| {
                let mut n = ReferenceNet::new(&cfg, &spec, p.clone()).unwrap();
                n.train_step(&x, &y, rows).unwrap()
            };
            let mut net = ReferenceNet::new(&cfg, &spec, p0.clone()).unwrap();
            net.train_step(&x, &y, rows).unwrap();
            let p1 = net.params();
            let lr = cfg.optimizer.lr() as f32;
            let h = 1e-2f32;
            let mut worst = 0f32;
            for l in 0..p0.weights.len() {
                for i in 0..p0.weights[l].len() {
                    let mut pp = p0.clone();
                    pp.weights[l][i] += h;
                    let lp = loss_at(&pp);
                    pp.weights[l][i] -= 2.0 * h;
                    let lm = loss_at(&pp);
                    let fd = (lp - lm) / (2.0 * h);
                    let upd = (p0.weights[l][i] - p1.weights[l][i]) / lr;
                    worst = worst.max((fd - upd).abs() / (fd.abs() + 1e-2));
                }
                for i in 0..p0.biases[l].len() {
                    let mut pp = p0.clone();
                    pp.biases[l][i] += h;
                    let lp = loss_at(&pp);
                    pp.biases[l][i] -= 2.0 * h;
                    let lm = loss_at(&pp);
                    let fd = (lp - lm) / (2.0 * h);
                    let upd = (p0.biases[l][i] - p1.biases[l][i]) / lr;
                    worst = worst.max((fd - upd).abs() / (fd.abs() + 1e-2));
                }
            }
            assert!(worst < 0.05, "{act}: gradient mismatch {worst}");
        }
    }

    /// The reference (hence the semantics the GPU kernels follow) agrees with the engine's
    /// CPU trainer: same initial parameters, same noise, same losses and updates.
    #[test]
    fn reference_matches_the_engine_trainer() {
        use crate::cuda::parity::{ParityConfig, update_rel_err};
        for (pc, momentum) in [
            (
                ParityConfig {
                    d_in: 30,
                    width: 20,
                    depth: 3,
                    batch: 8,
                    steps: 5,
                    ..ParityConfig::default()
                },
                0.0,
            ),
            (
                ParityConfig {
                    d_in: 12,
                    width: 9,
                    depth: 1,
                    batch: 5,
                    steps: 4,
                    activation: Activation::Tanh,
                    keeps: vec![0.3, 0.9],
                    ..ParityConfig::default()
                },
                0.7,
            ),
        ] {
            let cfg = GridConfig {
                optimizer: OptimizerConfig::Sgd {
                    lr: pc.optimizer.lr(),
                    momentum,
                },
                first_step: 3,
                ..pc.grid_config(Precision::Fp32)
            };
            let data = pc.data();
            for spec in pc.nets().unwrap() {
                let mut engine = EngineTrainer::new(&cfg, &spec).unwrap();
                let p0 = engine.params();
                assert_eq!(p0, init_params(&cfg.dims(), &spec), "initialisation");
                let mut reference = ReferenceNet::new(&cfg, &spec, p0.clone()).unwrap();
                let chunk = pc.batch * pc.d_in;
                for t in 0..pc.steps {
                    let x = &data[t * chunk..(t + 1) * chunk];
                    let le = engine.train_step(x, x, pc.batch).unwrap();
                    let lr = reference.train_step(x, x, pc.batch).unwrap();
                    assert!((le - lr).abs() <= 1e-6 * le.abs(), "step {t}: {le} vs {lr}");
                }
                let (pe, pr) = (engine.params(), reference.params());
                for l in 0..p0.weights.len() {
                    let e = update_rel_err(&p0.weights[l], &pe.weights[l], &pr.weights[l]);
                    assert!(e < 1e-5, "weights {l}: {e}");
                    let e = update_rel_err(&p0.biases[l], &pe.biases[l], &pr.biases[l]);
                    assert!(e < 1e-5, "biases {l}: {e}");
                }
            }
        }
    }

    #[test]
    fn momentum_accumulates_and_training_reduces_the_loss() {
        let mut cfg = tiny();
        cfg.optimizer = OptimizerConfig::Sgd {
            lr: 0.05,
            momentum: 0.9,
        };
        let spec = NetSpec::critical_dropout(1.0, 3).unwrap();
        let p0 = init_params(&cfg.dims(), &spec);
        let mut net = ReferenceNet::new(&cfg, &spec, p0).unwrap();
        let rows = 6;
        let x = data(rows * cfg.d_in, 4);
        let y = data(rows * cfg.d_out, 5);
        let first = net.train_step(&x, &y, rows).unwrap();
        let mut last = first;
        for _ in 0..200 {
            last = net.train_step(&x, &y, rows).unwrap();
        }
        assert!(last < 0.5 * first, "{first} → {last}");
    }
}
