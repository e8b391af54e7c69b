//! [`GpuGrid`]: G noisy MLPs of one shape trained side by side on the same batches.
//!
//! | file | contents |
//! |---|---|
//! | `config.rs` | [`Precision`], [`NetSpec`], [`GridConfig`] (optimiser [`OptimizerConfig`](crate::optim::OptimizerConfig), loss [`Loss`]) |
//! | `params.rs` | [`NetParams`], [`init_params`] (the CPU engine's initialisation) |
//! | `build.rs` | allocation and upload of a grid |
//! | `mod.rs` | the public API: batches, steps, evaluation, losses, parameters |
//! | `launch.rs` | enqueueing the kernels and GEMMs of a step (what a graph captures) |

use std::sync::Arc;

use noisyprop_theory::Activation;

use super::device::{DevBuf, Device, DeviceMatrix, Dims, Graph, Phase};
use super::error::CudaError;
use crate::gpu_support::{kernel_activation, kernel_stages};
use crate::loss::Loss;

mod build;
mod config;
mod launch;
mod params;

pub use crate::gpu_support::Precision;
pub use config::{GridConfig, NetSpec};
pub(crate) use params::init_parallel;
pub use params::{NetParams, init_params};

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
    activation: Activation,
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
        let activation = nets[0].network.activation();
        if let Some(other) = nets
            .iter()
            .map(|n| n.network.activation())
            .find(|&a| a != activation)
        {
            return Err(CudaError::Config(format!(
                "networks of one grid share φ; got {activation} and {other}"
            )));
        }
        let act = kernel_activation(activation)?;
        let mut stages = Vec::with_capacity(g);
        for n in nets {
            stages.push(kernel_stages(n.network.noise())?);
        }
        Self::build(dev, cfg, nets, (activation, act), params, &stages, dims)
    }

    // `build` (allocation and upload) is in build.rs.

    /// φ of the grid's networks.
    pub fn activation(&self) -> Activation {
        self.activation
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
        if y_len.is_none() && self.cfg.loss == Loss::SoftmaxCrossEntropy {
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
            Loss::Mse => None,
            Loss::SoftmaxCrossEntropy => Some(self.dev.read(&self.hist_acc)?),
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
            (self.cfg.loss == Loss::SoftmaxCrossEntropy).then_some(accs),
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
            (self.cfg.loss == Loss::SoftmaxCrossEntropy).then(|| mean(self.g..2 * self.g)),
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
    pub fn set_lr(&mut self, lr: f64) -> Result<(), CudaError> {
        if !lr.is_finite() {
            return Err(CudaError::Config(format!("learning rate {lr}")));
        }
        self.cfg.optimizer = self.cfg.optimizer.with_lr(lr);
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
}
