//! The Fig. 6 grid: one [`GpuGrid`] per depth, one network per keep probability, all
//! stepping on the same batches; and its throughput benchmark (GPU tooling, feature
//! `gpu-tools`). The grid's depths and keep probabilities are arguments: the paper's are
//! defined once, in `noisyprop_experiments::paper`.

use std::sync::Arc;
use std::time::Instant;

use super::device::{Device, DeviceMatrix, Phase};
use super::error::CudaError;
use super::grid::{GpuGrid, GridConfig, NetSpec, Precision};
use super::parity::{json_num, json_str};
use crate::optim::OptimizerConfig;
use crate::rng::Key;

/// The paper's seeding: run (keep index i, depth index j) has seed 10·i + j.
pub fn paper_seed(keep_index: usize, depth_index: usize) -> u64 {
    (10 * keep_index + depth_index) as u64
}

/// Grids of critical-dropout networks: `grids()[j]` has depth `depths[j]` and network i
/// keeps with probability `keeps[i]` (σ_w² = 2·`keeps[i]`).
#[derive(Debug)]
pub struct PaperGrid {
    grids: Vec<GpuGrid>,
    depths: Vec<usize>,
    keeps: Vec<f64>,
}

impl PaperGrid {
    /// Builds one grid per depth from `base` (its `depth` is replaced), with
    /// `seed(keep_index, depth_index)` as each network's seed (e.g. [`paper_seed`]).
    ///
    /// # Errors
    /// See [`GpuGrid::new`].
    pub fn new(
        dev: &Arc<Device>,
        base: &GridConfig,
        depths: &[usize],
        keeps: &[f64],
        seed: impl Fn(usize, usize) -> u64,
    ) -> Result<Self, CudaError> {
        let mut grids = Vec::with_capacity(depths.len());
        for (j, &depth) in depths.iter().enumerate() {
            let cfg = GridConfig {
                depth,
                ..base.clone()
            };
            let nets: Vec<NetSpec> = keeps
                .iter()
                .enumerate()
                .map(|(i, &p)| NetSpec::critical_dropout(p, seed(i, j)))
                .collect::<Result<_, _>>()?;
            grids.push(GpuGrid::new(dev, cfg, &nets)?);
        }
        Ok(PaperGrid {
            grids,
            depths: depths.to_vec(),
            keeps: keeps.to_vec(),
        })
    }

    /// The grids, one per depth.
    pub fn grids(&self) -> &[GpuGrid] {
        &self.grids
    }

    /// Mutable access to the grids.
    pub fn grids_mut(&mut self) -> &mut [GpuGrid] {
        &mut self.grids
    }

    /// The depths.
    pub fn depths(&self) -> &[usize] {
        &self.depths
    }

    /// The keep probabilities.
    pub fn keeps(&self) -> &[f64] {
        &self.keeps
    }

    /// Total number of networks.
    pub fn networks(&self) -> usize {
        self.grids.iter().map(GpuGrid::networks).sum()
    }

    /// Device memory of all grids.
    pub fn device_bytes(&self) -> usize {
        self.grids.iter().map(GpuGrid::device_bytes).sum()
    }

    /// Loads rows `row0 .. row0 + rows` of device matrices as every grid's batch.
    ///
    /// # Errors
    /// See [`GpuGrid::load_batch_device`].
    pub fn load_batch_device(
        &mut self,
        x: &DeviceMatrix,
        y: Option<&DeviceMatrix>,
        row0: usize,
        rows: usize,
    ) -> Result<(), CudaError> {
        for g in &mut self.grids {
            g.load_batch_device(x, y, row0, rows)?;
        }
        Ok(())
    }

    /// One SGD step of every network (a "grid-step"); asynchronous.
    ///
    /// # Errors
    /// See [`GpuGrid::step`].
    pub fn step(&mut self) -> Result<(), CudaError> {
        for g in &mut self.grids {
            g.step()?;
        }
        Ok(())
    }

    /// One grid-step launched directly with per-kernel timing (see
    /// [`GpuGrid::profile_step`]): milliseconds of device time per [`Phase`], summed over
    /// the depths. Synchronises.
    ///
    /// # Errors
    /// See [`GpuGrid::profile_step`].
    pub fn profile_step(&mut self) -> Result<Vec<(Phase, f64)>, CudaError> {
        let mut ms = [0f64; Phase::ALL.len()];
        for g in &mut self.grids {
            for (p, t) in g.profile_step()? {
                ms[p as usize] += t;
            }
        }
        Ok(Phase::nonzero(&ms))
    }

    /// Noise-free evaluation of the loaded batch by every network.
    ///
    /// # Errors
    /// See [`GpuGrid::eval_batch`].
    pub fn eval_batch(&mut self) -> Result<(), CudaError> {
        for g in &mut self.grids {
            g.eval_batch()?;
        }
        Ok(())
    }

    /// Training losses since the last call, `[depth][step][keep]`.
    ///
    /// # Errors
    /// See [`GpuGrid::take_train_losses`].
    pub fn take_train_losses(&mut self) -> Result<Vec<Vec<Vec<f32>>>, CudaError> {
        self.grids
            .iter_mut()
            .map(GpuGrid::take_train_losses)
            .collect()
    }

    /// Mean evaluation losses since the last call, `[depth][keep]`.
    ///
    /// # Errors
    /// See [`GpuGrid::take_eval_losses`].
    pub fn take_eval_losses(&mut self) -> Result<Vec<Vec<f64>>, CudaError> {
        self.grids
            .iter_mut()
            .map(GpuGrid::take_eval_losses)
            .collect()
    }
}

/// The result of [`paper_grid_throughput`].
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    /// Precision of the products.
    pub precision: Precision,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// Networks in the grid (100 for the paper grid).
    pub networks: usize,
    /// Timed grid-steps.
    pub grid_steps: usize,
    /// Untimed warm-up grid-steps before them (they include the graph captures).
    pub warmup: usize,
    /// Wall time of the timed grid-steps, including the final loss read-back.
    pub seconds: f64,
    /// `grid_steps / seconds`: SGD steps of all networks per second.
    pub grid_steps_per_second: f64,
    /// Set-up time (CPU initialisation, upload).
    pub setup_seconds: f64,
    /// Device memory of the grid's buffers.
    pub device_bytes: usize,
    /// Whether steps ran as CUDA graphs (or the capture error).
    pub graphs: Result<bool, String>,
    /// Mean training loss of the last timed step over the networks.
    pub mean_last_loss: f64,
    /// Networks whose losses were all finite during the timed steps.
    pub finite_networks: usize,
    /// Device milliseconds per grid-step and [`Phase`], averaged over the profiled
    /// grid-steps (direct launches with an event after each kernel; empty if none).
    pub breakdown: Vec<(Phase, f64)>,
}

impl Throughput {
    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        let (graphs, graph_error) = match &self.graphs {
            Ok(g) => (g.to_string(), "null".to_string()),
            Err(e) => ("false".to_string(), json_str(e)),
        };
        let breakdown = if self.breakdown.is_empty() {
            String::new()
        } else {
            let sum = |f: &dyn Fn(Phase) -> bool| {
                self.breakdown
                    .iter()
                    .filter(|(p, _)| f(*p))
                    .map(|(_, t)| t)
                    .sum::<f64>()
            };
            let phases: Vec<String> = self
                .breakdown
                .iter()
                .map(|(p, t)| format!("\"{}\":{}", p.name(), json_num(*t)))
                .collect();
            format!(
                ",\"profile_ms\":{{{}}},\"products_ms\":{},\"other_ms\":{}",
                phases.join(","),
                json_num(sum(&|p: Phase| p.is_product())),
                json_num(sum(&|p: Phase| !p.is_product()))
            )
        };
        format!(
            "{{\"check\":\"throughput\",\"precision\":\"{}\",\"optimizer\":\"{}\",\"networks\":{},\"grid_steps\":{},\"warmup\":{},\"seconds\":{},\"grid_steps_per_second\":{},\"setup_seconds\":{},\"device_gib\":{},\"graphs\":{},\"graph_error\":{},\"mean_last_loss\":{},\"finite_networks\":{}{breakdown}}}",
            self.precision,
            self.optimizer,
            self.networks,
            self.grid_steps,
            self.warmup,
            json_num(self.seconds),
            json_num(self.grid_steps_per_second),
            json_num(self.setup_seconds),
            json_num(self.device_bytes as f64 / f64::from(1u32 << 30)),
            graphs,
            graph_error,
            json_num(self.mean_last_loss),
            self.finite_networks,
        )
    }
}

/// Builds the Fig. 6 grid (`depths` × `keeps`, the paper's 10 × 10 from
/// `noisyprop_experiments::paper`; networks of `base`, e.g.
/// [`GridConfig::paper`] with its precision, optimiser or `use_graphs` changed; its depth
/// is ignored) on MNIST-sized synthetic data kept on the device, and times `steps`
/// grid-steps after `warmup` untimed ones (use ≥ 2 so that the CUDA graphs are captured
/// before timing), then profiles `profile_steps` more (per-phase device time,
/// [`Throughput::breakdown`]).
///
/// # Errors
/// Device errors (e.g. out of memory: the grid needs ~10 GiB in fp32/tf32, ~13.5 GiB in
/// bf16, plus the cuBLAS workspace; Adam ~2.5× that).
pub fn paper_grid_throughput(
    dev: &Arc<Device>,
    base: &GridConfig,
    depths: &[usize],
    keeps: &[f64],
    warmup: usize,
    steps: usize,
    profile_steps: usize,
) -> Result<Throughput, CudaError> {
    let setup = Instant::now();
    let mut grid = PaperGrid::new(dev, base, depths, keeps, paper_seed)?;
    let pool_rows = 8 * base.batch;
    let k = Key::new(2018).child(0xDA7A);
    let pixels: Vec<f32> = (0..(pool_rows * base.d_in) as u64)
        .map(|i| {
            let u = k.uniform(i);
            if u < 0.8 {
                0.0
            } else {
                ((u - 0.8) / 0.2) as f32
            }
        })
        .collect();
    let data = dev.upload_matrix(&pixels, base.d_in)?;
    dev.synchronize()?;
    let setup_seconds = setup.elapsed().as_secs_f64();

    let mut batch = 0usize;
    let mut next_batch = |grid: &mut PaperGrid| {
        let row0 = (batch % 8) * base.batch;
        batch += 1;
        grid.load_batch_device(&data, None, row0, base.batch)
    };
    for _ in 0..warmup {
        next_batch(&mut grid)?;
        grid.step()?;
    }
    grid.take_train_losses()?;
    dev.synchronize()?;

    let start = Instant::now();
    for _ in 0..steps {
        next_batch(&mut grid)?;
        grid.step()?;
    }
    let losses = grid.take_train_losses()?;
    let seconds = start.elapsed().as_secs_f64();

    let mut ms = [0f64; Phase::ALL.len()];
    for _ in 0..profile_steps {
        next_batch(&mut grid)?;
        for (p, t) in grid.profile_step()? {
            ms[p as usize] += t / profile_steps as f64;
        }
    }

    let mut finite_networks = 0;
    let (mut last_sum, mut last_n) = (0f64, 0usize);
    for per_depth in &losses {
        let nets = per_depth.first().map_or(0, Vec::len);
        for i in 0..nets {
            if per_depth.iter().all(|s| s[i].is_finite()) {
                finite_networks += 1;
            }
        }
        if let Some(last) = per_depth.last() {
            last_sum += last.iter().map(|&v| f64::from(v)).sum::<f64>();
            last_n += last.len();
        }
    }
    let graphs = grid
        .grids()
        .iter()
        .map(GpuGrid::graph_status)
        .find(Result::is_err)
        .unwrap_or(Ok(base.use_graphs));
    Ok(Throughput {
        precision: base.precision,
        optimizer: base.optimizer,
        networks: grid.networks(),
        grid_steps: steps,
        warmup,
        seconds,
        grid_steps_per_second: steps as f64 / seconds,
        setup_seconds,
        device_bytes: grid.device_bytes(),
        graphs,
        mean_last_loss: last_sum / last_n.max(1) as f64,
        finite_networks,
        breakdown: Phase::nonzero(&ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_grid_values() {
        assert_eq!(paper_seed(3, 4), 34);
        let t = Throughput {
            precision: Precision::Tf32,
            optimizer: OptimizerConfig::sgd(1e-3),
            networks: 100,
            grid_steps: 50,
            warmup: 3,
            seconds: 1.0,
            grid_steps_per_second: 50.0,
            setup_seconds: 2.0,
            device_bytes: 1 << 30,
            graphs: Ok(true),
            mean_last_loss: 0.1,
            finite_networks: 100,
            breakdown: vec![
                (Phase::ForwardProducts, 2.0),
                (Phase::ForwardElementwise, 0.5),
                (Phase::WeightProducts, 1.0),
            ],
        };
        let j = t.to_json();
        assert!(j.contains("\"grid_steps_per_second\":5e1"));
        assert!(j.contains("\"device_gib\":1e0"));
        assert!(j.contains("\"forward_products\":2e0,\"forward_elementwise\":5e-1"));
        assert!(j.contains("\"products_ms\":3e0,\"other_ms\":5e-1"));
    }
}
