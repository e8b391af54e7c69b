//! The records every command prints with `--json` (and the rows of `--csv`),
//! as public types that serialise and deserialise.
//!
//! # Wire format
//!
//! `--json` prints one JSON object: [`Record`]`<T>`, i.e. the fields of `T`
//! with two more in front — `kind` (the command's record kind, e.g.
//! `"analysis"`, [`Kind::KIND`]) and `schema_version` ([`SCHEMA_VERSION`]).
//! Keys are snake_case and the same in CSV; fields are only ever added (a
//! removal or rename bumps the schema version), so readers must ignore
//! unknown fields. Infinite or undefined numbers are `null`, never a large
//! finite stand-in. A test deserialises each command's real output into its
//! type and serialises it back to the same JSON.
//!
//! | command | kind | type |
//! |---|---|---|
//! | `analyze` | `analysis` | [`AnalysisRecord`] |
//! | `init` | `init` | [`InitRecord`] |
//! | `critical` | `critical_table` | [`CriticalTableRecord`] (CSV: its `rows`) |
//! | `trajectory` | `trajectory` | [`TrajectoryRecord`] |
//! | `phase` | `phase` | [`PhaseRecord`] (CSV: its `cells`) |
//! | `simulate` | `simulation` | [`SimulationRecord`] (CSV: [`SimulationRow`]) |
//! | `figures` | `figures` | [`FiguresRecord`] |
//! | `variance-depth` | `variance_depth` | [`VarianceDepthRecord`] |
//! | `train` | `training` | [`TrainingRecord`] (CSV: [`EpochLog`]) |
//! | `trainable-depth` | `trainable_depth` | [`TrainableDepthRecord`] |

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_sim::{ClassResult, Precision, TheoryLayers, Verdict};
pub use noisyprop_theory::record::{
    AnalysisRecord, CriticalTableRecord, InitRecord, Kind, PhaseRecord, Record, SCHEMA_VERSION,
    TrajectoryRecord,
};

use crate::figs::FigureReport;
use crate::grid::{GridReport, GridRun};
use crate::training::{EpochLog, TrainResult, TrainSpec};
use crate::variance_depth::SummaryRow;

/// Per-layer arrays of one input class of a simulation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LayerArrays {
    /// Layer index.
    pub layer: Vec<usize>,
    /// Mean q^l over networks.
    pub q_sim: Vec<f64>,
    /// Its standard deviation.
    pub q_sim_std: Vec<f64>,
    /// Lower end of its 95 % interval (≥ 0: a variance).
    pub q_sim_ci_low: Vec<f64>,
    /// Upper end.
    pub q_sim_ci_high: Vec<f64>,
    /// Theory q^l.
    pub q_theory: Vec<f64>,
    /// Mean c^l (with pairs).
    pub c_sim: Vec<Option<f64>>,
    /// Its standard deviation.
    pub c_sim_std: Vec<Option<f64>>,
    /// Mean Pearson correlation (the original code's estimator).
    pub c_pearson_sim: Vec<Option<f64>>,
    /// Theory c^l.
    pub c_theory: Vec<Option<f64>>,
    /// Mean gradient second moment (backward pass).
    pub grad_q_sim: Vec<Option<f64>>,
    /// Its standard deviation.
    pub grad_q_sim_std: Vec<Option<f64>>,
    /// Theory.
    pub grad_q_theory: Vec<Option<f64>>,
    /// Mean gradient correlation.
    pub grad_c_sim: Vec<Option<f64>>,
    /// Theory.
    pub grad_c_theory: Vec<Option<f64>>,
    /// Networks whose q^l was not finite.
    pub nonfinite: Vec<usize>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl LayerArrays {
    /// The arrays of one class and its theory.
    pub fn new(class: &ClassResult, th: &TheoryLayers, backward: bool) -> Self {
        let mut a = LayerArrays::default();
        for l in &class.layers {
            let i = l.layer;
            a.layer.push(i);
            a.q_sim.push(l.q.mean);
            a.q_sim_std.push(l.q.std);
            a.q_sim_ci_low.push(l.q.ci_low);
            a.q_sim_ci_high.push(l.q.ci_high);
            a.q_theory.push(th.q[i]);
            a.c_sim.push(l.c.map(|s| s.mean));
            a.c_sim_std.push(l.c.map(|s| s.std));
            a.c_pearson_sim.push(l.c_pearson.map(|s| s.mean));
            a.c_theory.push(l.c.and(finite(th.c[i])));
            a.grad_q_sim.push(l.grad_q.map(|s| s.mean));
            a.grad_q_sim_std.push(l.grad_q.map(|s| s.std));
            a.grad_q_theory.push(backward.then(|| th.grad_q[i]));
            a.grad_c_sim.push(l.grad_c.map(|s| s.mean));
            a.grad_c_theory.push(l.grad_c.and(finite(th.grad_c[i])));
            a.nonfinite.push(l.q.nonfinite);
        }
        a
    }
}

/// One input class of a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRecord {
    /// q⁰.
    pub q0: f64,
    /// c⁰.
    pub c0: Option<f64>,
    /// Base inputs.
    pub groups: usize,
    /// Partners per base input.
    pub partners: usize,
    /// Per-layer arrays.
    pub layers: LayerArrays,
}

/// `simulate`: Monte-Carlo networks against the theory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationRecord {
    /// Canonical activation spec.
    pub activation: String,
    /// Canonical noise description.
    pub noise: String,
    /// The noise the theory was computed with.
    pub theory_noise: String,
    /// σ_w².
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// Width.
    pub width: usize,
    /// Input dimension.
    pub input_dim: usize,
    /// Weight layers.
    pub depth: usize,
    /// Networks.
    pub networks: usize,
    /// Seed.
    pub seed: u64,
    /// f32 or f64.
    pub precision: Precision,
    /// φ and noise on the raw input.
    pub input_activation: bool,
    /// Backward pass simulated.
    pub backward: bool,
    /// Wall time.
    pub seconds: f64,
    /// The first input class's layers (all classes are under `classes`).
    pub layers: LayerArrays,
    /// Every input class.
    pub classes: Vec<ClassRecord>,
    /// The verdict.
    pub verdict: Verdict,
}

impl Kind for SimulationRecord {
    const KIND: &'static str = "simulation";
}

/// One CSV row of `simulate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationRow {
    /// Input class index.
    pub class: usize,
    /// q⁰.
    pub q0: f64,
    /// c⁰.
    pub c0: Option<f64>,
    /// Layer.
    pub layer: usize,
    /// Mean q^l.
    pub q_sim: f64,
    /// Its std.
    pub q_sim_std: f64,
    /// 95 % interval, low (≥ 0).
    pub q_sim_ci_low: f64,
    /// 95 % interval, high.
    pub q_sim_ci_high: f64,
    /// Theory q^l.
    pub q_theory: f64,
    /// Mean c^l.
    pub c_sim: Option<f64>,
    /// Its std.
    pub c_sim_std: Option<f64>,
    /// Mean Pearson correlation.
    pub c_pearson_sim: Option<f64>,
    /// Theory c^l.
    pub c_theory: Option<f64>,
    /// Mean gradient second moment.
    pub grad_q_sim: Option<f64>,
    /// Theory.
    pub grad_q_theory: Option<f64>,
    /// Mean gradient correlation.
    pub grad_c_sim: Option<f64>,
    /// Theory.
    pub grad_c_theory: Option<f64>,
}

impl SimulationRecord {
    /// The CSV rows: one per class and layer.
    pub fn rows(&self) -> Vec<SimulationRow> {
        let mut rows = Vec::new();
        for (ci, c) in self.classes.iter().enumerate() {
            let a = &c.layers;
            for i in 0..a.layer.len() {
                rows.push(SimulationRow {
                    class: ci,
                    q0: c.q0,
                    c0: c.c0,
                    layer: a.layer[i],
                    q_sim: a.q_sim[i],
                    q_sim_std: a.q_sim_std[i],
                    q_sim_ci_low: a.q_sim_ci_low[i],
                    q_sim_ci_high: a.q_sim_ci_high[i],
                    q_theory: a.q_theory[i],
                    c_sim: a.c_sim[i],
                    c_sim_std: a.c_sim_std[i],
                    c_pearson_sim: a.c_pearson_sim[i],
                    c_theory: a.c_theory[i],
                    grad_q_sim: a.grad_q_sim[i],
                    grad_q_theory: a.grad_q_theory[i],
                    grad_c_sim: a.grad_c_sim[i],
                    grad_c_theory: a.grad_c_theory[i],
                });
            }
        }
        rows
    }
}

/// `figures`: the reports of the figures made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiguresRecord {
    /// One report per figure.
    pub figures: Vec<FigureReport>,
}

impl Kind for FiguresRecord {
    const KIND: &'static str = "figures";
}

/// `variance-depth`: where the variance leaves the f32 range, per σ_w².
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarianceDepthRecord {
    /// Dataset name.
    pub dataset: String,
    /// Images pushed through.
    pub examples: usize,
    /// Canonical noise description.
    pub noise: String,
    /// Width.
    pub width: usize,
    /// Deepest layer run.
    pub max_depth: usize,
    /// One row per σ_w².
    pub sigma_w2: Vec<SummaryRow>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl Kind for VarianceDepthRecord {
    const KIND: &'static str = "variance_depth";
}

/// `train`: one training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// The run's parameters.
    #[serde(flatten)]
    pub spec: TrainSpec,
    /// σ_w² used.
    pub sigma_w2: f64,
    /// `cpu` or `cuda:<device name>:<precision>`.
    pub device: String,
    /// Validation loss before training.
    pub val_loss_init: f64,
    /// Validation loss of the input-independent predictor.
    pub val_loss_baseline: f64,
    /// Training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Validation loss per epoch.
    pub val_loss: Vec<f64>,
    /// Training accuracy per epoch (classification).
    pub train_accuracy: Option<Vec<f64>>,
    /// Validation accuracy per epoch (classification).
    pub val_accuracy: Option<Vec<f64>>,
    /// The loss became non-finite.
    pub diverged: bool,
    /// Wall time.
    pub seconds: f64,
}

impl TrainingRecord {
    /// The record of a finished run.
    pub fn new(spec: &TrainSpec, device: String, r: &TrainResult) -> Self {
        let per = |f: fn(&EpochLog) -> Option<f64>| -> Option<Vec<f64>> {
            r.epochs.iter().map(f).collect()
        };
        TrainingRecord {
            spec: spec.clone(),
            sigma_w2: r.sigma_w2,
            device,
            val_loss_init: r.val_loss_init,
            val_loss_baseline: r.val_loss_baseline,
            train_loss: r.epochs.iter().map(|e| e.train_loss).collect(),
            val_loss: r.epochs.iter().map(|e| e.val_loss).collect(),
            train_accuracy: per(|e| e.train_accuracy),
            val_accuracy: per(|e| e.val_accuracy),
            diverged: r.diverged,
            seconds: r.seconds,
        }
    }
}

impl TrainingRecord {
    /// The (training, validation) examples of the run.
    pub fn split(&self) -> (usize, usize) {
        noisyprop_data::split_sizes(self.spec.examples, self.spec.val_fraction)
    }

    /// The run epoch by epoch (the CSV of `train`).
    pub fn epochs(&self) -> Vec<EpochLog> {
        let at = |v: &Option<Vec<f64>>, i: usize| v.as_ref().and_then(|v| v.get(i).copied());
        (0..self.train_loss.len())
            .map(|i| EpochLog {
                epoch: i + 1,
                train_loss: self.train_loss[i],
                val_loss: self.val_loss.get(i).copied().unwrap_or(f64::NAN),
                train_accuracy: at(&self.train_accuracy, i),
                val_accuracy: at(&self.val_accuracy, i),
            })
            .collect()
    }
}

impl Kind for TrainingRecord {
    const KIND: &'static str = "training";
}

/// `trainable-depth`: the run, the boundary report and the files written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainableDepthRecord {
    /// φ of every cell.
    #[serde(default)]
    pub activation: String,
    /// The initialisation of every cell.
    #[serde(default)]
    pub init: String,
    /// k of the prediction k·ξ_c.
    #[serde(default)]
    pub depth_multiplier: f64,
    /// The cell store.
    #[serde(default)]
    pub store: PathBuf,
    /// Where the cells ran (`cpu`, or the GPU and its precision).
    #[serde(default)]
    pub device: String,
    /// How the run went.
    pub run: GridRun,
    /// The boundary report.
    pub report: GridReport,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl Kind for TrainableDepthRecord {
    const KIND: &'static str = "trainable_depth";
}
