//! The trainable-depth grid of Figure 6(b)/(c)/(e)/(f) (spec 3.6, §4):
//! networks at critical initialisation over dropout keep probability ×
//! depth, trained on real data, against the predicted trainable depth 6ξ_c.
//!
//! **Store.** Every cell is one file `<store>/cells/<key>.json`, where `key`
//! is the SHA-256 of the cell's canonical parameters (its [`TrainSpec`] as
//! JSON, in fixed field order) and the schema version. A cell is written to a
//! temporary name and renamed into place when it finishes, so a complete file
//! means a finished cell; a rerun skips every cell whose file is there, so an
//! interrupted grid resumes without losing work, and any sharding of the
//! grid (`--shard i/n`: cells i, i+n, …) writes to the same store. A worker
//! never rewrites another cell's file.
//!
//! **Boundary.** A cell *trained* when its final validation loss is at least
//! 10 % below the loss of the best input-independent prediction (the mean
//! training image for reconstruction, the class frequencies for
//! classification). Measuring against the loss at initialisation instead
//! would call every network trained: even a network whose signal dies in the
//! first layers learns the mean image through its output bias, which already
//! halves the MSE of a zero-initialised output. The theory *predicts* a cell
//! trainable when depth < k·ξ_c(p) (k = 6).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use noisyprop_data::Prepared;
use noisyprop_engine::Threads;
use noisyprop_plot::{Colormap, HeatMap, LegendPos, Series, edges_from_centers};
use noisyprop_theory::{AnalysisOptions, Network, analyze};

use crate::ExperimentError;
use crate::output::{ensure_dir, write_csv, write_json};
use crate::training::{TrainResult, TrainSpec, train};

/// Version of the cell files (part of every key).
pub const CELL_SCHEMA_VERSION: u32 = 2;

/// A grid: a base spec whose depth and dropout keep probability vary.
#[derive(Debug, Clone)]
pub struct GridSpec {
    /// Everything but depth and noise.
    pub base: TrainSpec,
    /// Keep probabilities (paper: 0.1, 0.2, …, 1.0).
    pub keeps: Vec<f64>,
    /// Depths (paper: 2, 6, 10, 14, 18, 23, 27, 31, 35, 40).
    pub depths: Vec<usize>,
    /// Multiplier k of the prediction k·ξ_c.
    pub depth_multiplier: f64,
    /// Directory of the cell files and the report.
    pub store: PathBuf,
}

/// One cell: its spec and key.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Keep probability.
    pub keep: f64,
    /// Depth.
    pub depth: usize,
    /// The full spec.
    pub spec: TrainSpec,
    /// Canonical key.
    pub key: String,
}

/// A finished cell as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRecord {
    /// [`CELL_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `trainable_depth_cell`.
    pub kind: String,
    /// The cell's key (its file name).
    pub key: String,
    /// Keep probability.
    pub keep: f64,
    /// The parameters.
    pub spec: TrainSpec,
    /// The outcome.
    pub result: TrainResult,
    /// `cpu` or `cuda`.
    pub device: String,
    /// Version of noisyprop that computed it.
    pub noisyprop_version: String,
}

/// The canonical key of a spec: hex SHA-256 of the schema version and the
/// spec as JSON.
pub fn cell_key(spec: &TrainSpec) -> String {
    let json = serde_json::to_string(spec).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(format!("noisyprop-cell-v{CELL_SCHEMA_VERSION}\n").as_bytes());
    h.update(json.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl GridSpec {
    /// The cells, keep-major.
    pub fn cells(&self) -> Vec<Cell> {
        let mut out = Vec::new();
        for &keep in &self.keeps {
            for &depth in &self.depths {
                let noise = if keep >= 1.0 {
                    "none".to_string()
                } else {
                    format!("dropout:keep={keep}")
                };
                let spec = TrainSpec {
                    depth,
                    noise: vec![noise],
                    ..self.base.clone()
                };
                let key = cell_key(&spec);
                out.push(Cell {
                    keep,
                    depth,
                    spec,
                    key,
                });
            }
        }
        out
    }

    fn cell_path(&self, key: &str) -> PathBuf {
        self.store.join("cells").join(format!("{key}.json"))
    }

    /// Checks keeps and depths.
    ///
    /// # Errors
    /// [`ExperimentError::InvalidParameter`].
    pub fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |name, value: String, valid| {
            Err(ExperimentError::InvalidParameter { name, value, valid })
        };
        if self.keeps.is_empty() || self.keeps.iter().any(|&p| !(p > 0.0 && p <= 1.0)) {
            return bad(
                "keeps",
                format!("{:?}", self.keeps),
                "non-empty, each in (0, 1]",
            );
        }
        if self.depths.is_empty() || self.depths.iter().any(|&d| d > 10_000) {
            return bad(
                "depths",
                format!("{:?}", self.depths),
                "non-empty, each in [0, 10000]",
            );
        }
        if !(self.depth_multiplier > 0.0 && self.depth_multiplier.is_finite()) {
            return bad(
                "depth_multiplier",
                self.depth_multiplier.to_string(),
                "(0, inf)",
            );
        }
        Ok(())
    }
}

/// Reads a finished cell, `None` when absent or unreadable.
pub fn read_cell(path: &Path) -> Option<CellRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// How a run of the grid went.
#[derive(Debug, Clone, Serialize)]
pub struct GridRun {
    /// Cells in the grid.
    pub total: usize,
    /// Cells of this shard.
    pub in_shard: usize,
    /// Cells already finished when the run started (skipped).
    pub skipped: usize,
    /// Cells computed now.
    pub computed: usize,
    /// Cells of this shard still missing (a cap or an error stopped them).
    pub missing: usize,
}

/// Options of [`run_grid`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Only cells with index ≡ i (mod n).
    pub shard: Option<(usize, usize)>,
    /// Stop starting new cells after this many (tests, partial runs).
    pub max_new_cells: Option<usize>,
}

/// The cells of a run (this shard's, and which of them the store still lacks):
/// the store semantics shared by [`run_grid`] and `run_grid_cuda`.
struct Pending {
    total: usize,
    in_shard: usize,
    /// Missing cells of this shard, in grid order (keep-major).
    cells: Vec<Cell>,
}

impl Pending {
    /// Validates the grid and the shard, creates `<store>/cells` and lists the
    /// cells of this shard without a finished file.
    fn scan(spec: &GridSpec, opts: &RunOptions) -> Result<Self, ExperimentError> {
        spec.validate()?;
        if let Some((i, n)) = opts.shard
            && (n == 0 || i >= n)
        {
            return Err(ExperimentError::InvalidParameter {
                name: "shard",
                value: format!("{i}/{n}"),
                valid: "i/n with 0 ≤ i < n",
            });
        }
        ensure_dir(&spec.store.join("cells"))?;
        let cells = spec.cells();
        let total = cells.len();
        let mine: Vec<Cell> = cells
            .into_iter()
            .enumerate()
            .filter(|(idx, _)| opts.shard.is_none_or(|(i, n)| idx % n == i))
            .map(|(_, c)| c)
            .collect();
        let in_shard = mine.len();
        let cells = mine
            .into_iter()
            .filter(|c| read_cell(&spec.cell_path(&c.key)).is_none())
            .collect();
        Ok(Pending {
            total,
            in_shard,
            cells,
        })
    }

    /// The summary once `computed` of the pending cells are stored.
    fn finish(&self, computed: usize) -> GridRun {
        let skipped = self.in_shard - self.cells.len();
        GridRun {
            total: self.total,
            in_shard: self.in_shard,
            skipped,
            computed,
            missing: self.in_shard - skipped - computed,
        }
    }
}

/// Writes a finished cell into the store (atomically: temporary file, then
/// rename) and returns its record.
fn store_cell(
    spec: &GridSpec,
    cell: &Cell,
    result: TrainResult,
    device: String,
) -> Result<CellRecord, ExperimentError> {
    let record = CellRecord {
        schema_version: CELL_SCHEMA_VERSION,
        kind: "trainable_depth_cell".into(),
        key: cell.key.clone(),
        keep: cell.keep,
        spec: cell.spec.clone(),
        result,
        device,
        noisyprop_version: env!("CARGO_PKG_VERSION").into(),
    };
    write_json(&spec.cell_path(&cell.key), &record)?;
    Ok(record)
}

/// Runs the missing cells of the grid (in parallel, one cell per core with
/// single-threaded products), writing each when it finishes; `progress` is
/// called after each cell with its record.
///
/// # Errors
/// Invalid spec or data, or a cell file that cannot be written.
pub fn run_grid(
    spec: &GridSpec,
    data: &Prepared,
    opts: RunOptions,
    progress: &(dyn Fn(&CellRecord) + Sync),
) -> Result<GridRun, ExperimentError> {
    let pending = Pending::scan(spec, &opts)?;
    let started = AtomicUsize::new(0);
    let results: Vec<Result<bool, ExperimentError>> = pending
        .cells
        .par_iter()
        .map(|cell| {
            if let Some(cap) = opts.max_new_cells
                && started.fetch_add(1, Ordering::SeqCst) >= cap
            {
                return Ok(false);
            }
            let result = train(
                &cell.spec,
                &data.train,
                &data.val,
                Threads::One,
                &mut |_| {},
            )?;
            let record = store_cell(spec, cell, result, "cpu".into())?;
            progress(&record);
            Ok(true)
        })
        .collect();
    let mut computed = 0;
    for r in results {
        if r? {
            computed += 1;
        }
    }
    Ok(pending.finish(computed))
}

/// Runs the missing cells of the grid on a CUDA device, with the store,
/// skip/resume, shard and `max_new_cells` semantics of [`run_grid`]: the
/// pending cells of each depth train together as one
/// [`GpuGrid`](noisyprop_engine::cuda::GpuGrid) (one network per keep
/// probability, on the same batches in the same order as [`train`]), the data
/// uploaded to the device once. Each cell's record has the CPU schema, with
/// `device` = `cuda:<device name>:<precision>` and `seconds` the wall time of
/// its depth's grid (shared by the networks trained together); `progress` is
/// called for each cell when its depth's grid finishes.
///
/// The GPU path trains the reconstruction task with SGD (with or without
/// momentum), φ ∈ {relu, leaky-relu, linear, abs, tanh} and dropout or
/// Gaussian noise; anything else is refused with
/// [`ExperimentError::GpuUnsupported`] before any cell runs.
///
/// # Errors
/// Invalid or unsupported spec or data, a cell file that cannot be written,
/// or a CUDA error ([`ExperimentError::Cuda`]).
#[cfg(feature = "cuda")]
pub fn run_grid_cuda(
    spec: &GridSpec,
    data: &Prepared,
    opts: RunOptions,
    dev: &std::sync::Arc<noisyprop_engine::cuda::Device>,
    precision: noisyprop_engine::cuda::Precision,
    progress: &(dyn Fn(&CellRecord) + Sync),
) -> Result<GridRun, ExperimentError> {
    let pending = Pending::scan(spec, &opts)?;
    let cap = opts.max_new_cells.unwrap_or(usize::MAX);
    let todo: Vec<&Cell> = pending.cells.iter().take(cap).collect();
    for cell in &todo {
        crate::training::check_cuda_support(&cell.spec)?;
    }
    if todo.is_empty() {
        return Ok(pending.finish(0));
    }
    let device = crate::training::cuda_device_label(dev, precision);
    let uploaded = crate::cuda_train::Uploaded::new(dev, &data.train, &data.val)?;
    let mut depths: Vec<usize> = Vec::new();
    for c in &todo {
        if !depths.contains(&c.depth) {
            depths.push(c.depth);
        }
    }
    let mut computed = 0;
    for depth in depths {
        let group: Vec<&Cell> = todo.iter().copied().filter(|c| c.depth == depth).collect();
        let specs: Vec<&TrainSpec> = group.iter().map(|c| &c.spec).collect();
        let results = crate::cuda_train::train_networks(
            &specs,
            &data.train,
            &data.val,
            &uploaded,
            precision,
            &mut |_, _| {},
        )?;
        for (cell, result) in group.iter().zip(results) {
            let record = store_cell(spec, cell, result, device.clone())?;
            progress(&record);
            computed += 1;
        }
    }
    Ok(pending.finish(computed))
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct CellSummary {
    /// Keep probability.
    pub keep: f64,
    /// Depth.
    pub depth: usize,
    /// σ_w² used.
    pub sigma_w2: Option<f64>,
    /// Final training loss (NaN when missing).
    pub train_loss: f64,
    /// Final validation loss (NaN when missing).
    pub val_loss: f64,
    /// Validation loss at initialisation.
    pub val_loss_init: f64,
    /// Validation loss of the input-independent predictor.
    pub val_loss_baseline: f64,
    /// Final validation loss ≤ 0.9 × the baseline.
    pub trained: Option<bool>,
    /// k·ξ_c(p) (`None` = infinite).
    pub predicted_depth: Option<f64>,
    /// depth < k·ξ_c(p).
    pub predicted_trainable: bool,
    /// Whether the cell has been computed.
    pub done: bool,
}

/// The boundary summary of a grid.
#[derive(Debug, Clone, Serialize)]
pub struct GridReport {
    /// Cells computed so far / in the grid.
    pub done: usize,
    /// Cells in the grid.
    pub total: usize,
    /// Cells that trained and were predicted trainable.
    pub trained_and_predicted: usize,
    /// Trained although predicted untrainable.
    pub trained_not_predicted: usize,
    /// Predicted trainable but did not train.
    pub predicted_not_trained: usize,
    /// Neither.
    pub neither: usize,
    /// Fraction of finished cells where "trained" equals "depth < k·ξ_c".
    pub agreement: f64,
    /// Every cell.
    pub cells: Vec<CellSummary>,
}

/// k·ξ_c at the critical initialisation for dropout keep `p` and the grid's
/// activation (`None` when infinite).
fn predicted_depth(spec: &GridSpec, keep: f64) -> Option<f64> {
    let noise = if keep >= 1.0 {
        "none".to_string()
    } else {
        format!("dropout:keep={keep}")
    };
    let noise = noisyprop_theory::Noise::parse_all(&[noise]).ok()?;
    let probe = Network::new(spec.base.activation().ok()?, noise, 1.0, 0.0).ok()?;
    let mf = noisyprop_theory::MeanField::new(&probe, noisyprop_theory::Integration::default());
    let sw2 = mf.critical_sigma_w2().ok()?.sigma_w2;
    let a = analyze(
        &probe.with_sigma_w2(sw2).ok()?,
        &AnalysisOptions {
            depth_multiplier: spec.depth_multiplier,
            ..Default::default()
        },
    )
    .ok()?;
    a.trainable_depth
}

/// Reads every finished cell and compares "trained" with the prediction.
pub fn report(spec: &GridSpec) -> GridReport {
    let mut cells = Vec::new();
    let (mut tp, mut tn_, mut fp, mut fn_, mut done) = (0, 0, 0, 0, 0);
    for cell in spec.cells() {
        let rec = read_cell(&spec.cell_path(&cell.key));
        let pd = predicted_depth(spec, cell.keep);
        let predicted = pd.is_none_or(|d| (cell.depth as f64) < d);
        let s = match &rec {
            Some(r) => {
                done += 1;
                let (v, v0, vb) = (
                    r.result.final_val_loss(),
                    r.result.val_loss_init,
                    r.result.val_loss_baseline,
                );
                let trained = v.is_finite() && v <= 0.9 * vb;
                match (trained, predicted) {
                    (true, true) => tp += 1,
                    (true, false) => fp += 1,
                    (false, true) => fn_ += 1,
                    (false, false) => tn_ += 1,
                }
                CellSummary {
                    keep: cell.keep,
                    depth: cell.depth,
                    sigma_w2: Some(r.result.sigma_w2),
                    train_loss: r.result.final_train_loss(),
                    val_loss: v,
                    val_loss_init: v0,
                    val_loss_baseline: vb,
                    trained: Some(trained),
                    predicted_depth: pd,
                    predicted_trainable: predicted,
                    done: true,
                }
            }
            None => CellSummary {
                keep: cell.keep,
                depth: cell.depth,
                sigma_w2: None,
                train_loss: f64::NAN,
                val_loss: f64::NAN,
                val_loss_init: f64::NAN,
                val_loss_baseline: f64::NAN,
                trained: None,
                predicted_depth: pd,
                predicted_trainable: predicted,
                done: false,
            },
        };
        cells.push(s);
    }
    GridReport {
        done,
        total: cells.len(),
        trained_and_predicted: tp,
        trained_not_predicted: fp,
        predicted_not_trained: fn_,
        neither: tn_,
        agreement: if done > 0 {
            (tp + tn_) as f64 / done as f64
        } else {
            f64::NAN
        },
        cells,
    }
}

/// Writes `trainable-depth.csv`, `trainable-depth.json` and the train and
/// validation loss heat maps with the k·ξ_c curve into the store.
///
/// # Errors
/// File errors naming the file.
pub fn write_report(spec: &GridSpec, rep: &GridReport) -> Result<Vec<PathBuf>, ExperimentError> {
    let dir = &spec.store;
    let mut files = vec![
        write_csv(&dir.join("trainable-depth.csv"), &rep.cells)?,
        write_json(&dir.join("trainable-depth.json"), rep)?,
    ];
    let mut keeps = spec.keeps.clone();
    keeps.sort_by(f64::total_cmp);
    keeps.dedup();
    let mut depths = spec.depths.clone();
    depths.sort_unstable();
    depths.dedup();
    let xs = keeps.clone();
    let ys: Vec<f64> = depths.iter().map(|&d| d as f64).collect();
    let lo = keeps.first().copied().unwrap_or(0.1);
    let hi = keeps.last().copied().unwrap_or(1.0);
    let ymax = ys.last().copied().unwrap_or(1.0) + 2.0;
    let curve: Vec<(f64, f64)> = (0..=200)
        .map(|i| lo + (hi - lo) * i as f64 / 200.0)
        .filter_map(|p| predicted_depth(spec, p).map(|d| (p, d.min(ymax * 1.5))))
        .collect();
    let k = spec.depth_multiplier;
    for (name, pick) in [("train", 0usize), ("val", 1usize)] {
        let mut values = vec![f64::NAN; xs.len() * ys.len()];
        for c in &rep.cells {
            let (Some(ix), Some(iy)) = (
                xs.iter().position(|&x| x == c.keep),
                depths.iter().position(|&d| d == c.depth),
            ) else {
                continue;
            };
            values[iy * xs.len() + ix] = if pick == 0 { c.train_loss } else { c.val_loss };
        }
        // A diverging cell (a noisy training loss of 10¹⁸, say) must not turn every
        // other cell into the bottom colour.
        let (color_range, capped) = match noisyprop_plot::robust_color_range(&values) {
            Some((r, capped)) => (Some(r), capped),
            None => (None, false),
        };
        let map = HeatMap {
            title: format!(
                "{} loss after {} epochs ({}, {}, width {})",
                if pick == 0 { "Training" } else { "Validation" },
                spec.base.epochs,
                spec.base.dataset,
                match spec.base.task {
                    crate::training::Task::Reconstruction => "reconstruction",
                    crate::training::Task::Classification => "classification",
                },
                spec.base.width
            ),
            x_label: "dropout keep probability p (critical σ_{w}^{2} = 2p)".into(),
            y_label: "hidden layers".into(),
            color_label: match (capped, color_range) {
                (true, Some((_, top))) => format!("{name} loss (top colour: ≥ {top:.3})"),
                _ => format!("{name} loss"),
            },
            color_range,
            x_edges: edges_from_centers(&xs, false),
            y_edges: edges_from_centers(&ys, false),
            values,
            colormap: Colormap::SpectralR,
            overlays: vec![
                Series::line(format!("{}ξ_{{c}}", noisyprop_theory_fmt(k)), curve.clone())
                    .with_color((20, 20, 20)),
            ],
            legend: LegendPos::Top,
            ..Default::default()
        };
        let path = dir.join(format!("trainable-depth-{name}.png"));
        noisyprop_plot::render_heatmap(&map, &path, noisyprop_plot::DEFAULT_SIZE).map_err(
            |source| ExperimentError::Plot {
                path: path.clone(),
                source,
            },
        )?;
        files.push(path);
    }
    Ok(files)
}

fn noisyprop_theory_fmt(k: f64) -> String {
    if k.fract() == 0.0 {
        format!("{}", k as i64)
    } else {
        format!("{k}")
    }
}
