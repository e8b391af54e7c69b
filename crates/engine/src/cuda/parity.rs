//! CPU-vs-GPU parity: the same tiny networks trained for a few steps on both sides.

use std::sync::Arc;

use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

use super::device::Device;
use super::error::CudaError;
use super::grid::{GpuGrid, GridConfig, NetParams, NetSpec, Precision, init_params};
use super::reference::{CpuTrainer, EngineTrainer, ReferenceNet};
use crate::loss::Loss;
use crate::optim::OptimizerConfig;
use crate::rng::Key;

/// The networks of a parity check: d_in → depth × width → d_in reconstruction with MSE
/// (or d_in → … → `classes` classification with softmax cross-entropy), critical dropout
/// (σ_w² = 2p) with one keep probability per network, plain SGD (or another optimiser).
#[derive(Debug, Clone, PartialEq)]
pub struct ParityConfig {
    /// Input (= output) dimension.
    pub d_in: usize,
    /// Hidden width.
    pub width: usize,
    /// Hidden layers.
    pub depth: usize,
    /// Batch size.
    pub batch: usize,
    /// Keep probability of each network.
    pub keeps: Vec<f64>,
    /// SGD steps.
    pub steps: usize,
    /// Network i has seed `seed + i`.
    pub seed: u64,
    /// φ.
    pub activation: Activation,
    /// The optimiser and its learning rate. The default lr is large (0.2) on purpose:
    /// with the reconstruction MSE (mean over 784 outputs) the gradients are ~10⁻⁴, and
    /// the update must stand well above the fp32 rounding of the weights for the update
    /// comparison to mean anything.
    pub optimizer: OptimizerConfig,
    /// 0: reconstruction (MSE); otherwise classification into this many classes with
    /// softmax cross-entropy (labels drawn from the seed).
    pub classes: usize,
}

impl Default for ParityConfig {
    /// 784 → 3 × 64 → 784, batch 16, keeps {0.8, 0.5, 1.0}, 4 steps, lr 0.2, ReLU.
    fn default() -> Self {
        ParityConfig {
            d_in: 784,
            width: 64,
            depth: 3,
            batch: 16,
            keeps: vec![0.8, 0.5, 1.0],
            steps: 4,
            seed: 7,
            activation: Activation::Relu,
            optimizer: OptimizerConfig::sgd(0.2),
            classes: 0,
        }
    }
}

impl ParityConfig {
    /// The default networks with tanh: every rounding difference stays small and smooth,
    /// so the precision's tolerance applies to the updates as well (see
    /// [`parity_tolerances`]).
    pub fn smooth() -> Self {
        ParityConfig {
            activation: Activation::Tanh,
            ..ParityConfig::default()
        }
    }

    /// The default networks trained with Adam (lr 10⁻³, as the quick preset).
    pub fn adam() -> Self {
        ParityConfig {
            optimizer: OptimizerConfig::adam(1e-3),
            ..ParityConfig::default()
        }
    }

    /// Classification into 10 classes with softmax cross-entropy, tanh, SGD with
    /// momentum 0.9 (lr 0.1).
    pub fn classification() -> Self {
        ParityConfig {
            activation: Activation::Tanh,
            optimizer: OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.9,
            },
            classes: 10,
            ..ParityConfig::default()
        }
    }

    /// A short label of the setup ("relu, sgd, mse").
    pub fn label(&self) -> String {
        let loss = if self.classes == 0 {
            "mse".to_string()
        } else {
            format!("cross-entropy ({} classes)", self.classes)
        };
        format!("{}, {}, {loss}", self.activation, self.optimizer)
    }

    /// The output dimension.
    fn d_out(&self) -> usize {
        if self.classes == 0 {
            self.d_in
        } else {
            self.classes
        }
    }

    /// The grid configuration (CUDA graphs on: step 0 runs directly, step 1 is captured,
    /// the rest are replays, so both paths are compared).
    pub fn grid_config(&self, precision: Precision) -> GridConfig {
        GridConfig {
            d_in: self.d_in,
            width: self.width,
            depth: self.depth,
            d_out: self.d_out(),
            batch: self.batch,
            input_activation: true,
            input_noise: true,
            optimizer: self.optimizer,
            loss: if self.classes == 0 {
                Loss::Mse
            } else {
                Loss::SoftmaxCrossEntropy
            },
            precision,
            use_graphs: true,
            loss_history: 64,
            first_step: 0,
        }
    }

    /// The network specs: φ of the set-up, dropout with `keeps[i]` at σ_w² = 2·`keeps[i]`,
    /// seed `seed + i`.
    ///
    /// # Errors
    /// A keep probability outside (0, 1].
    pub fn nets(&self) -> Result<Vec<NetSpec>, CudaError> {
        self.keeps
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let network = Network::new(
                    self.activation,
                    Noise::from_law(NoiseLaw::Dropout { keep: p }),
                    2.0 * p,
                    0.0,
                )
                .map_err(|e| CudaError::Config(e.to_string()))?;
                Ok(NetSpec::new(network, self.seed + i as u64))
            })
            .collect()
    }

    /// `steps × batch` rows of pixel-like inputs in [0, 1): about 60 % zeros, as MNIST.
    pub fn data(&self) -> Vec<f32> {
        let k = Key::new(self.seed).child(0xDA7A);
        (0..(self.steps * self.batch * self.d_in) as u64)
            .map(|i| {
                let u = k.uniform(i);
                if u < 0.6 {
                    0.0
                } else {
                    ((u - 0.6) / 0.4) as f32
                }
            })
            .collect()
    }

    /// The targets of [`ParityConfig::data`]: `None` for reconstruction, else one-hot rows
    /// (steps × batch × classes) of labels drawn from the seed.
    pub fn targets(&self) -> Option<Vec<f32>> {
        (self.classes > 0).then(|| {
            let k = Key::new(self.seed).child(0x1AB);
            let mut y = vec![0f32; self.steps * self.batch * self.classes];
            for (r, row) in y.chunks_exact_mut(self.classes).enumerate() {
                row[(k.bits(r as u64) % self.classes as u64) as usize] = 1.0;
            }
            y
        })
    }
}

/// The outcome of a parity check.
#[derive(Debug, Clone, PartialEq)]
pub struct ParityReport {
    /// Precision of the GPU run.
    pub precision: Precision,
    /// Networks compared.
    pub networks: usize,
    /// Steps compared.
    pub steps: usize,
    /// max over steps and networks of |loss_gpu − loss_cpu| / |loss_cpu|.
    pub max_loss_rel_err: f64,
    /// max over networks and parameter tensors of ‖Δ_gpu − Δ_cpu‖₂ / ‖Δ_cpu‖₂, Δ the change
    /// of the tensor over the run (the parameters themselves would agree trivially).
    pub max_update_rel_err: f64,
    /// Where `max_update_rel_err` occurs ("network i W3": W³ of network i).
    pub worst_tensor: String,
    /// φ of the networks.
    pub activation: Activation,
    /// φ, optimiser and loss ([`ParityConfig::label`]).
    pub setup: String,
    /// Bound on `max_loss_rel_err` ([`parity_tolerances`]).
    pub loss_tolerance: f64,
    /// Bound on `max_update_rel_err` ([`parity_tolerances`]).
    pub update_tolerance: f64,
    /// Both errors within their bounds.
    pub passed: bool,
    /// Whether the GPU steps ran through CUDA graphs (and the capture error if not).
    pub graphs: Result<bool, String>,
    /// CPU losses, `[step][network]`.
    pub cpu_losses: Vec<Vec<f32>>,
    /// GPU losses, `[step][network]`.
    pub gpu_losses: Vec<Vec<f32>>,
}

impl ParityReport {
    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        let losses = |l: &[Vec<f32>]| {
            let steps: Vec<String> = l
                .iter()
                .map(|s| {
                    let v: Vec<String> = s.iter().map(|&x| json_num(f64::from(x))).collect();
                    format!("[{}]", v.join(","))
                })
                .collect();
            format!("[{}]", steps.join(","))
        };
        let (graphs, graph_error) = match &self.graphs {
            Ok(g) => (g.to_string(), "null".to_string()),
            Err(e) => ("false".to_string(), json_str(e)),
        };
        format!(
            "{{\"check\":\"parity\",\"precision\":\"{}\",\"networks\":{},\"steps\":{},\"max_loss_rel_err\":{},\"max_update_rel_err\":{},\"worst_tensor\":{},\"activation\":\"{}\",\"setup\":{},\"loss_tolerance\":{},\"update_tolerance\":{},\"passed\":{},\"graphs\":{},\"graph_error\":{},\"cpu_losses\":{},\"gpu_losses\":{}}}",
            self.precision,
            self.networks,
            self.steps,
            json_num(self.max_loss_rel_err),
            json_num(self.max_update_rel_err),
            json_str(&self.worst_tensor),
            self.activation,
            json_str(&self.setup),
            json_num(self.loss_tolerance),
            json_num(self.update_tolerance),
            self.passed,
            graphs,
            graph_error,
            losses(&self.cpu_losses),
            losses(&self.gpu_losses),
        )
    }
}

/// (loss, update) bounds of a parity check.
///
/// * Smooth φ (tanh, …) and any φ in fp32: [`Precision::parity_tolerance`] for both
///   (fp32 10⁻⁴, tf32 10⁻², bf16 5·10⁻²; measured on the emulator: ~4·10⁻⁶, ~8·10⁻⁴,
///   ~7·10⁻³).
/// * A kinked φ (ReLU, leaky ReLU, |x|) in tf32/bf16: a pre-activation within rounding
///   distance of 0 takes the other branch of φ′ on one side, which switches that unit's
///   whole backward contribution. Such flips make the update error scale like the square
///   root of their (tiny) frequency: measured on the emulator over 8 runs of the default
///   check, loss errors up to 9·10⁻³ (tf32) / 7·10⁻³ (bf16) and update errors up to
///   7·10⁻² / 10⁻¹. The bounds (5·10⁻² for losses, 0.25 for updates) still catch any
///   layout, type or missing-step bug, which gives errors of order 1.
/// * Adam: the update m̂/√v̂ divides each gradient by its own size, so a parameter whose
///   gradient is small (rounding-dominated) moves by ±lr whatever its sign, and the
///   update error no longer shrinks with the rounding. The update bound is 10⁻³ in fp32
///   (measured on the emulator: 2·10⁻⁵) and 0.25 in tf32/bf16 (measured: 1.4·10⁻²,
///   0.12 with ReLU).
pub fn parity_tolerances(
    precision: Precision,
    activation: Activation,
    optimizer: OptimizerConfig,
) -> (f64, f64) {
    let kinked = matches!(
        activation,
        Activation::Relu | Activation::LeakyRelu { .. } | Activation::Abs
    );
    let adam = matches!(optimizer, OptimizerConfig::Adam { .. });
    let tol = precision.parity_tolerance();
    match (precision, kinked || adam) {
        (Precision::Fp32, _) if adam => (tol, 1e-3),
        (Precision::Tf32 | Precision::Bf16, true) => (5e-2, 0.25),
        _ => (tol, tol),
    }
}

/// A JSON number (`null` for NaN/∞).
pub(crate) fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:e}")
    } else {
        "null".to_string()
    }
}

/// A JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parity against the engine's CPU trainer ([`EngineTrainer`]: `Mlp` + MSE + SGD).
///
/// # Errors
/// Device errors; invalid configuration.
pub fn parity(
    dev: &Arc<Device>,
    cfg: &ParityConfig,
    precision: Precision,
) -> Result<ParityReport, CudaError> {
    let grid_cfg = cfg.grid_config(precision);
    let mut cpus = cfg
        .nets()?
        .iter()
        .map(|spec| EngineTrainer::new(&grid_cfg, spec))
        .collect::<Result<Vec<_>, _>>()?;
    parity_with(dev, cfg, precision, &mut cpus)
}

/// Parity against the minimal CPU reference of this module ([`ReferenceNet`]),
/// initialised with [`init_params`].
///
/// # Errors
/// Device errors; invalid configuration.
pub fn parity_reference(
    dev: &Arc<Device>,
    cfg: &ParityConfig,
    precision: Precision,
) -> Result<ParityReport, CudaError> {
    let grid_cfg = cfg.grid_config(precision);
    let dims = grid_cfg.dims();
    let mut cpus = cfg
        .nets()?
        .iter()
        .map(|spec| ReferenceNet::new(&grid_cfg, spec, init_params(&dims, spec)))
        .collect::<Result<Vec<_>, _>>()?;
    parity_with(dev, cfg, precision, &mut cpus)
}

/// Parity against any CPU trainer: `cpus[i]` must be network i of `cfg.nets()` (same seed,
/// noise and step counter starting at 0) of shape `cfg.grid_config(..)`; the GPU grid
/// starts from their current parameters. [`parity`] uses the engine's trainer,
/// [`parity_reference`] the minimal reference; any other CPU trainer plugs in here.
///
/// # Errors
/// Device errors; a CPU trainer's error; mismatched counts or shapes.
pub fn parity_with<C: CpuTrainer>(
    dev: &Arc<Device>,
    cfg: &ParityConfig,
    precision: Precision,
    cpus: &mut [C],
) -> Result<ParityReport, CudaError> {
    let grid_cfg = cfg.grid_config(precision);
    let nets = cfg.nets()?;
    if cpus.len() != nets.len() {
        return Err(CudaError::Config(format!(
            "{} CPU trainers for {} networks",
            cpus.len(),
            nets.len()
        )));
    }
    let p0: Vec<NetParams> = cpus.iter().map(CpuTrainer::params).collect();
    let mut grid = GpuGrid::with_params(dev, grid_cfg, &nets, &p0)?;
    let data = cfg.data();
    let targets = cfg.targets();
    let chunk = cfg.batch * cfg.d_in;
    let y_chunk = cfg.batch * cfg.d_out();
    let mut cpu_losses = Vec::with_capacity(cfg.steps);
    for t in 0..cfg.steps {
        let x = &data[t * chunk..(t + 1) * chunk];
        let y = targets.as_ref().map(|y| &y[t * y_chunk..(t + 1) * y_chunk]);
        let mut row = Vec::with_capacity(cpus.len());
        for c in cpus.iter_mut() {
            row.push(c.train_step(x, y.unwrap_or(x), cfg.batch)?);
        }
        cpu_losses.push(row);
        grid.load_batch(x, y, cfg.batch)?;
        grid.step()?;
    }
    let gpu_losses = grid.take_train_losses()?;
    let p_gpu = grid.params()?;
    let p_cpu: Vec<NetParams> = cpus.iter().map(CpuTrainer::params).collect();

    let mut max_loss = 0f64;
    for (c, g) in cpu_losses.iter().zip(&gpu_losses) {
        for (&c, &g) in c.iter().zip(g) {
            max_loss = max_loss.max(rel(f64::from(g), f64::from(c)));
        }
    }
    if gpu_losses.len() != cpu_losses.len() {
        max_loss = f64::INFINITY;
    }
    let mut max_update = 0f64;
    let mut worst = String::new();
    for (i, ((a, c), g)) in p0.iter().zip(&p_cpu).zip(&p_gpu).enumerate() {
        let tensors = a
            .weights
            .iter()
            .zip(&c.weights)
            .zip(&g.weights)
            .map(|t| ("W", t))
            .chain(
                a.biases
                    .iter()
                    .zip(&c.biases)
                    .zip(&g.biases)
                    .map(|t| ("b", t)),
            );
        let mut per_kind = [0usize; 2];
        for (kind, ((a, c), g)) in tensors {
            let k = usize::from(kind == "b");
            per_kind[k] += 1;
            let e = update_rel_err(a, c, g);
            if e > max_update || worst.is_empty() {
                max_update = max_update.max(e);
                worst = format!("network {i} {kind}{}", per_kind[k]);
            }
        }
    }
    let (loss_tolerance, update_tolerance) =
        parity_tolerances(precision, cfg.activation, cfg.optimizer);
    Ok(ParityReport {
        precision,
        networks: nets.len(),
        steps: cfg.steps,
        max_loss_rel_err: max_loss,
        max_update_rel_err: max_update,
        worst_tensor: worst,
        activation: cfg.activation,
        setup: cfg.label(),
        loss_tolerance,
        update_tolerance,
        passed: max_loss <= loss_tolerance && max_update <= update_tolerance,
        graphs: grid.graph_status(),
        cpu_losses,
        gpu_losses,
    })
}

fn rel(x: f64, reference: f64) -> f64 {
    if x == reference {
        0.0
    } else {
        (x - reference).abs() / reference.abs().max(1e-30)
    }
}

/// ‖(g − a) − (c − a)‖ / ‖c − a‖ in f64 (NaN anywhere gives ∞).
pub(crate) fn update_rel_err(a: &[f32], c: &[f32], g: &[f32]) -> f64 {
    let (mut num, mut den) = (0f64, 0f64);
    for ((&a, &c), &g) in a.iter().zip(c).zip(g) {
        let dc = f64::from(c) - f64::from(a);
        let dg = f64::from(g) - f64::from(a);
        num += (dg - dc) * (dg - dc);
        den += dc * dc;
    }
    if num.is_nan() || den.is_nan() {
        return f64::INFINITY;
    }
    if num == 0.0 {
        0.0
    } else {
        (num / den.max(1e-300)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_and_json() {
        assert_eq!(update_rel_err(&[1.0, 2.0], &[1.5, 2.0], &[1.5, 2.0]), 0.0);
        let e = update_rel_err(&[0.0, 0.0], &[1.0, 0.0], &[1.1, 0.0]);
        assert!((e - 0.1).abs() < 1e-6);
        assert_eq!(update_rel_err(&[0.0], &[1.0], &[f32::NAN]), f64::INFINITY);
        assert_eq!(json_num(f64::NAN), "null");
        assert_eq!(json_str("a\"b\n"), "\"a\\\"b\\n\"");
        let cfg = ParityConfig::default();
        assert_eq!(cfg.data().len(), cfg.steps * cfg.batch * cfg.d_in);
        assert_eq!(cfg.nets().unwrap().len(), 3);
        assert_eq!(cfg.nets().unwrap()[0].network.sigma_w2(), 1.6);
        let r = ParityReport {
            precision: Precision::Bf16,
            networks: 1,
            steps: 1,
            max_loss_rel_err: 1e-3,
            max_update_rel_err: f64::NAN,
            worst_tensor: "network 0 W1".into(),
            activation: Activation::Relu,
            setup: "relu, sgd, mse".to_string(),
            loss_tolerance: 5e-2,
            update_tolerance: 0.25,
            passed: false,
            graphs: Err("x".into()),
            cpu_losses: vec![vec![0.5]],
            gpu_losses: vec![vec![0.5]],
        };
        let j = r.to_json();
        assert!(j.starts_with("{\"check\":\"parity\",\"precision\":\"bf16\""));
        assert!(j.contains("\"max_update_rel_err\":null"));
        assert!(j.contains("\"graph_error\":\"x\""));
    }
}
