//! Harness of the fuzz target `ranges`: how the operations layer (crates/ops)
//! reads its range, grid and list arguments, as text and as JSON requests.
//!
//! * Text: `Range` / `Sweep` (`MIN:MAX:N`, `x_range`, `y_range`,
//!   `sigma_w2_range`) then `Sweep::checked_values`, `MaybeNumber` (`none`
//!   or a number), a `parts` list (`tables,fig2`: `Part`).
//! * JSON: `ops::read_request` of every command's request. The cheap
//!   commands run through `ops::execute`: `analyze`, `critical`,
//!   `trajectory`. Of the others only what is checked before any work runs:
//!   the sweeps of `phase` and `variance-depth` (`checked_values`,
//!   `VarianceDepthSpec::validate`), the `keeps` × `depths` grid of
//!   `trainable-depth` (`GridSpec::new` over the preset's recipe, no data or
//!   store touched), the `parts`, `preset`, `shard` and `executor` of
//!   `reproduce`.
//!
//! Size caps, so that no input makes one run take more than about 10 ms (a
//! request above a cap is read, not executed): `trajectory` depth ≤ 64;
//! fixed quadrature orders ≤ 64 nodes, and adaptive quadrature (an
//! activation without closed forms, or `quadrature = true`) only in
//! `analyze` of a single activation; `critical` ≤ 2 activations × 2 noises
//! × 2 σ_b², closed forms only; grids ≤ 16 keeps × 16 depths.
//!
//! Properties: no panic; every `Ok` is finite where it is a number the
//! request asked for (sweep values within [min, max], n of them).
//!
//! Shared by `fuzz/fuzz_targets/ranges.rs` and the ops crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/ranges/`).

use std::path::PathBuf;

use noisyprop_experiments::grid::{GridSpec, Shard};
use noisyprop_experiments::reproduce::Part;
use noisyprop_experiments::training::{Preset, TrainSpec};
use noisyprop_experiments::variance_depth::VarianceDepthSpec;
use noisyprop_ops::analyze::{Analyze, AnalyzeRequest};
use noisyprop_ops::critical::{Critical, CriticalRequest};
use noisyprop_ops::form::{MaybeNumber, Range};
use noisyprop_ops::phase::PhaseRequest;
use noisyprop_ops::reproduce::ReproduceRequest;
use noisyprop_ops::trainable_depth::TrainableDepthRequest;
use noisyprop_ops::trajectory::{Trajectory, TrajectoryRequest};
use noisyprop_ops::variance_depth::VarianceDepthRequest;
use noisyprop_ops::{IntegrationParams, Quiet, execute, read_request};
use noisyprop_theory::{Activation, Noise, Sweep};

/// Deepest trajectory run.
const MAX_DEPTH: usize = 64;
/// Largest fixed quadrature order run.
const MAX_NODES: usize = 64;
/// Most activations, noises and σ_b² of a `critical` run.
const MAX_TABLE: usize = 2;
/// Most keeps and depths of a grid built.
const MAX_GRID: usize = 16;

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        text_forms(text);
    }
    json_requests(data);
}

fn text_forms(text: &str) {
    if let Ok(r) = text.parse::<Range>() {
        check_sweep(r.sweep(false), text);
        check_sweep(r.sweep(true), text);
    }
    if let Ok(s) = text.parse::<Sweep>() {
        check_sweep(s, text);
    }
    if let Ok(MaybeNumber(Some(x))) = text.parse::<MaybeNumber>() {
        assert!(
            !x.is_nan() || text.to_ascii_lowercase().contains("nan"),
            "{text:?}"
        );
    }
    for p in text.split(',') {
        if let Ok(part) = p.trim().parse::<Part>() {
            assert_eq!(part.name().parse::<Part>().ok(), Some(part), "{p:?}");
        }
    }
}

/// A sweep that passes its checks has n finite values from min to max.
fn check_sweep(s: Sweep, input: &str) {
    let Ok(values) = s.checked_values("x_range") else {
        return;
    };
    assert_eq!(values.len(), s.n, "{input:?}: {s:?}");
    let (lo, hi) = (s.min.min(s.max), s.min.max(s.max));
    let slack = 1e-12 * lo.abs().max(hi.abs());
    for v in &values {
        assert!(
            v.is_finite() && *v >= lo - slack && *v <= hi + slack,
            "{input:?}: {s:?} has the value {v}"
        );
    }
}

fn request<R: serde::de::DeserializeOwned>(data: &[u8]) -> Option<R> {
    read_request(&mut serde_json::Deserializer::from_slice(data)).ok()
}

/// Whether the integration settings are cheap enough to run.
fn cheap_integration(i: &IntegrationParams, activations: &[&str], adaptive_ok: bool) -> bool {
    match i.nodes {
        Some(n) => n <= MAX_NODES,
        None => {
            adaptive_ok
                || (!i.quadrature
                    && activations.iter().all(|a| {
                        a.parse::<Activation>()
                            .map(|a| a.has_closed_form())
                            .unwrap_or(true)
                    }))
        }
    }
}

fn json_requests(data: &[u8]) {
    if let Some(r) = request::<AnalyzeRequest>(data)
        && cheap_integration(&r.integration, &[&r.network.activation], true)
        && let Ok(a) = execute::<Analyze>(&r, &Quiet)
    {
        assert!(
            a.sigma_w2.is_finite() && a.sigma_w2 > 0.0,
            "analyze {:?}: σ_w² = {}",
            String::from_utf8_lossy(data),
            a.sigma_w2
        );
    }
    if let Some(r) = request::<CriticalRequest>(data) {
        let acts: Vec<&str> = r.activations.iter().map(String::as_str).collect();
        if !acts.is_empty()
            && acts.len() <= MAX_TABLE
            && r.noises.len() <= MAX_TABLE
            && r.sigma_b2s.len() <= MAX_TABLE
            && cheap_integration(&r.integration, &acts, false)
            && let Ok(t) = execute::<Critical>(&r, &Quiet)
        {
            assert!(t.rows.len() <= acts.len() * r.noises.len() * r.sigma_b2s.len());
        }
    }
    if let Some(r) = request::<TrajectoryRequest>(data)
        && r.depth <= MAX_DEPTH
        && cheap_integration(&r.integration, &[&r.network.activation], false)
        && let Ok(t) = execute::<Trajectory>(&r, &Quiet)
    {
        let _ = serde_json::to_string(&t);
    }
    if let Some(r) = request::<PhaseRequest>(data) {
        check_sweep(r.x_range.sweep(false), "x_range");
        if let Some(y) = r.y_range {
            check_sweep(y.sweep(r.log_y), "y_range");
        }
        if let Ok(noise) = Noise::parse_all(&r.network.noise)
            && let Ok(act) = r.network.activation.parse::<Activation>()
            && let Ok(family) = noisyprop_theory::Family::new(act, noise, r.network.sigma_b2)
        {
            let _ = r.y.check_free(&family);
        }
    }
    if let Some(r) = request::<VarianceDepthRequest>(data)
        && let Ok(noise) = Noise::parse_all(&r.noise)
        && let Ok(sigma_w2) = r
            .sigma_w2_range
            .sweep(false)
            .checked_values("sigma_w2_range")
    {
        let spec = VarianceDepthSpec {
            noise,
            sigma_w2,
            max_depth: r.max_depth,
            width: r.width,
            batch: VarianceDepthSpec::default().batch,
            seed: r.seed,
        };
        let _ = spec.validate();
    }
    if let Some(r) = request::<TrainableDepthRequest>(data) {
        trainable_depth_grid(&r);
    }
    if let Some(r) = request::<ReproduceRequest>(data) {
        for p in r.parts.iter().flat_map(|p| p.split(',')) {
            let _ = p.trim().parse::<Part>();
        }
        let _ = r.preset.parse::<Preset>();
        if let Some(s) = &r.shard
            && let Ok(s) = s.parse::<Shard>()
        {
            assert!(s.index() < s.count());
        }
        let _ = r.executor();
    }
    // The rest are read only (their runs are minutes of work).
    let _ = request::<noisyprop_ops::init::InitRequest>(data);
    let _ = request::<noisyprop_ops::simulate::SimulateRequest>(data);
    let _ = request::<noisyprop_ops::train::TrainRequest>(data);
    let _ = request::<noisyprop_ops::figures::FiguresRequest>(data);
    let _ = request::<noisyprop_ops::verdict::VerdictRequest>(data);
}

/// The grid `trainable-depth` would build, over the preset's recipe with
/// the request's changes, without data or a store.
fn trainable_depth_grid(r: &TrainableDepthRequest) {
    if r.keeps.len() > MAX_GRID || r.depths.len() > MAX_GRID {
        return;
    }
    let Ok(preset) = r.preset.parse::<Preset>() else {
        return;
    };
    let Ok(recipe) = r.training.recipe.recipe(preset) else {
        return;
    };
    let _ = r.training.device.device();
    let (keeps, depths) = r.keeps_and_depths(preset);
    let base = TrainSpec {
        dataset: "mnist".into(),
        data_source: "fuzz".into(),
        examples: 100,
        val_fraction: 0.1,
        task: recipe.task,
        depth: 1,
        width: recipe.width,
        activation: recipe.activation,
        noise: GridSpec::noise(1.0),
        init: recipe.init,
        optimizer: recipe.optimizer,
        batch: recipe.batch,
        epochs: recipe.epochs,
        seed: recipe.seed,
    };
    if let Ok(grid) = GridSpec::new(
        base,
        &keeps,
        &depths,
        r.depth_multiplier,
        PathBuf::from("/nonexistent-fuzz-store"),
    ) {
        for &k in grid.keeps() {
            assert!(k > 0.0 && k <= 1.0, "keep {k}");
        }
        for &d in grid.depths() {
            assert!((1..=10_000).contains(&d), "depth {d}");
        }
        let cells = grid.cells().unwrap_or_default();
        assert_eq!(cells.len(), grid.keeps().len() * grid.depths().len());
        for c in &cells {
            if let Err(e) = GridSpec::noise(c.keep).validate() {
                panic!("keep {} gives a noise validate() refuses: {e}", c.keep);
            }
        }
    }
}
