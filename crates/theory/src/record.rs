//! The records of the theory commands (`analyze`, `init`, `critical`,
//! `trajectory`, `phase`) and the envelope every `--json` record is printed
//! in: one definition for the CLI, the Python package and readers of the
//! JSON. `noisyprop-experiments` re-exports them beside the records of the
//! simulation and training commands (its `record` module has the table).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Analysis, CriticalKind, CriticalRow, Framework, Network, NoiseLaw, NoiseStage, PhaseDiagram,
    TrajectoryLayer, init_code,
};

/// Version of every record.
pub const SCHEMA_VERSION: u32 = 1;

/// A record type and its `kind`.
pub trait Kind {
    /// The `kind` field of the record.
    const KIND: &'static str;
}

/// A record as printed: `kind` and `schema_version`, then the fields of `T`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<T> {
    /// [`Kind::KIND`] of `T`.
    pub kind: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The record's own fields.
    #[serde(flatten)]
    pub data: T,
}

impl<T: Kind> Record<T> {
    /// `data` with its kind and the current schema version.
    pub fn new(data: T) -> Self {
        Record {
            kind: T::KIND.to_string(),
            schema_version: SCHEMA_VERSION,
            data,
        }
    }
}

/// `analyze`: everything the theory says about one network.
pub type AnalysisRecord = Analysis;

impl Kind for Analysis {
    const KIND: &'static str = "analysis";
}

/// `init`: the critical initialisation and its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitRecord {
    /// Canonical activation spec.
    pub activation: String,
    /// Canonical noise description.
    pub noise: String,
    /// The noise stages, with framework conventions where used.
    pub noise_stages: Vec<NoiseStage>,
    /// μ₂.
    pub mu2: f64,
    /// The critical σ_w².
    pub sigma_w2: f64,
    /// √σ_w².
    pub sigma_w: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// Fan-in of the printed weight std.
    pub fan_in: usize,
    /// √(σ_w²/fan_in).
    pub weight_std: f64,
    /// The kind of critical point (`every-q`, `stable`, `zero-from-above`).
    pub critical_kind: CriticalKind,
    /// Its fixed point q* (`null` when every q is one).
    pub critical_q_star: Option<f64>,
    /// The critical point in words.
    pub critical_reason: String,
    /// c*.
    pub c_star: f64,
    /// ξ_c (`null` = unbounded).
    pub xi_c: Option<f64>,
    /// k·ξ_c (`null` where the signal does not survive or ξ_c is unbounded;
    /// `trainable_depth_unbounded` and `depth_limit` say which).
    pub trainable_depth: Option<f64>,
    /// ξ_c = ∞: no depth is too deep.
    pub trainable_depth_unbounded: bool,
    /// What limits the depth, in words.
    pub depth_limit: String,
    /// Where the fixed-point numbers do not describe the first layers.
    pub warnings: Vec<String>,
    /// k.
    pub depth_multiplier: f64,
    /// Code per framework.
    pub code: BTreeMap<Framework, String>,
}

impl Kind for InitRecord {
    const KIND: &'static str = "init";
}

/// `critical`: the critical initialisation of each activation, noise and σ_b².
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalTableRecord {
    /// One row per combination.
    pub rows: Vec<CriticalRow>,
}

impl Kind for CriticalTableRecord {
    const KIND: &'static str = "critical_table";
}

/// `trajectory`: q^l, c^l and the backward factors layer by layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryRecord {
    /// Canonical activation spec.
    pub activation: String,
    /// Canonical noise description.
    pub noise: String,
    /// σ_w².
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// q⁰.
    pub q0: f64,
    /// c⁰.
    pub c0: f64,
    /// Layers.
    pub depth: usize,
    /// Layers 0..=depth.
    pub layers: Vec<TrajectoryLayer>,
}

impl Kind for TrajectoryRecord {
    const KIND: &'static str = "trajectory";
}

/// `phase`: a phase diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// Canonical activation spec.
    pub activation: String,
    /// Canonical noise description.
    pub noise: String,
    /// The diagram.
    #[serde(flatten)]
    pub diagram: PhaseDiagram,
}

impl Kind for PhaseRecord {
    const KIND: &'static str = "phase";
}

impl InitRecord {
    /// The record of `init` for the analysis `a` of a network at its
    /// critical σ_w², with the weight std at `fan_in` and code for
    /// `frameworks`.
    pub fn new(a: &Analysis, net: &Network, fan_in: usize, frameworks: &[Framework]) -> Self {
        let laws: Vec<NoiseLaw> = net.noise().laws().collect();
        InitRecord {
            activation: a.activation.clone(),
            noise: a.noise.clone(),
            noise_stages: a.noise_stages.clone(),
            mu2: a.mu2,
            sigma_w2: a.sigma_w2,
            sigma_w: a.sigma_w2.sqrt(),
            sigma_b2: a.sigma_b2,
            fan_in,
            weight_std: (a.sigma_w2 / fan_in as f64).sqrt(),
            critical_kind: a.critical_kind,
            critical_q_star: a.critical_q_star,
            critical_reason: a.critical_reason.clone().unwrap_or_default(),
            c_star: a.c_star,
            xi_c: a.xi_c,
            trainable_depth: a.trainable_depth,
            trainable_depth_unbounded: a.trainable_depth_unbounded,
            depth_limit: a.depth_limit.clone(),
            warnings: a.warnings.clone(),
            depth_multiplier: a.depth_multiplier,
            code: frameworks
                .iter()
                .map(|&f| (f, init_code(f, a.sigma_w2, a.sigma_b2, &laws)))
                .collect(),
        }
    }
}

impl TrajectoryRecord {
    /// The record of `trajectory` for `net` from (q⁰, c⁰).
    pub fn new(net: &Network, q0: f64, c0: f64, layers: Vec<TrajectoryLayer>) -> Self {
        TrajectoryRecord {
            activation: net.activation().spec(),
            noise: net.noise().to_string(),
            sigma_w2: net.sigma_w2(),
            sigma_b2: net.sigma_b2(),
            q0,
            c0,
            depth: layers.len().saturating_sub(1),
            layers,
        }
    }
}
