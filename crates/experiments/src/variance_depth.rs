//! The variance-depth experiment of Figure 6(a)/(d) (spec 3.6): real images
//! through deep random noisy ReLU networks in f32 over a σ_w² sweep, with
//! the depth at which the variance leaves the f32 range beside the theory's
//! L* (spec 2.6).
//!
//! Network (as the original code): width 1000, no biases, no output layer;
//! φ and the noise are applied to the raw pixels too (φ = ReLU is the
//! identity on pixels), so q¹ = σ_w² μ₂ E\[x²\] and q^l = q¹·g^{l−1} with the
//! per-layer growth g = σ_w² μ₂/2. Every layer records q^l, the mean over
//! 128-image batches of (1/1000)Σᵢ (h_i^l)² (computed in f64 from the f32
//! activations, so it can be compared with the f32 range), and the largest
//! |h_i^l|.
//!
//! Two exits are reported for each σ_w²:
//! * `first_unstable_layer`: the first layer whose variance q^l is outside
//!   [f32 smallest normal, f32 max] — the quantity the theory's L* is about;
//! * `first_element_exit_layer`: the first layer where an activation itself
//!   is infinite or every activation is below the smallest normal. An
//!   activation is about √q, so this comes near 2·L*: the variance leaves the
//!   range long before the network's values do.
//!
//! Theory: `theory_depth` = 1 + ln(K/q¹)/ln g with the data's E\[x²\] (the
//! correction of spec D9), and `paper_theory_depth` = ln K/ln g (q⁰ = 1, the
//! paper's formula). The run continues past the exit (up to `max_depth`)
//! until every activation has left the range, so black in the figure means
//! "out of range", not "not computed" (spec D10).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use noisyprop_engine::{Key, NoiseSampler, Threads, act, gemm_nt, rng};
use noisyprop_plot::{
    Colormap, HeatMap, LegendPos, Marker, RefLine, RefLineKind, Series, categorical_position,
    edges_from_centers,
};
use noisyprop_theory::{
    Activation, FloatFormat, Integration, MeanField, Network, Noise, NoiseLaw, fmt_short,
};

use crate::ExperimentError;
use crate::output::{ensure_dir, write_csv, write_json};

/// Settings of the experiment.
#[derive(Debug, Clone)]
pub struct VarianceDepthSpec {
    /// Multiplicative noise (paper: dropout keep 0.6).
    pub noise: Noise,
    /// σ_w² values (paper: linspace(0.1, 2.5, 25)).
    pub sigma_w2: Vec<f64>,
    /// Deepest layer computed (paper: 1000).
    pub max_depth: usize,
    /// Hidden width (paper: 1000).
    pub width: usize,
    /// Batch over which a layer's variance is averaged before averaging
    /// batches (paper: 128).
    pub batch: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for VarianceDepthSpec {
    fn default() -> Self {
        VarianceDepthSpec {
            noise: Noise::from_law(NoiseLaw::Dropout { keep: 0.6 }),
            sigma_w2: (1..=25).map(|i| i as f64 / 10.0).collect(),
            max_depth: 1000,
            width: 1000,
            batch: 128,
            seed: 0,
        }
    }
}

/// σ_w² values computed at the same time (one per core).
fn workers(spec: &VarianceDepthSpec) -> f64 {
    spec.sigma_w2.len().min(rayon::current_num_threads().max(1)) as f64
}

impl VarianceDepthSpec {
    /// Checks the settings, and that the weight matrices of the σ_w² values
    /// computed at once fit in memory (before any data is loaded).
    ///
    /// # Errors
    /// [`ExperimentError::InvalidParameter`] naming the value;
    /// [`noisyprop_engine::EngineError::TooLarge`] for a width whose weights
    /// would not fit.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        let spec = self;
        let bad = |name, value: String, valid| {
            Err(ExperimentError::InvalidParameter { name, value, valid })
        };
        if spec.noise.additive_variance() > 0.0 {
            return bad(
                "noise",
                spec.noise.to_string(),
                "multiplicative noise only (L* assumes qˡ = q¹·gˡ⁻¹)",
            );
        }
        if spec.sigma_w2.is_empty() || spec.sigma_w2.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return bad(
                "sigma_w2",
                format!("{:?}", spec.sigma_w2),
                "non-empty, each in (0, inf)",
            );
        }
        if spec.max_depth == 0 || spec.max_depth > 100_000 {
            return bad("max_depth", spec.max_depth.to_string(), "[1, 100000]");
        }
        if spec.width == 0 {
            return bad("width", spec.width.to_string(), "[1, inf)");
        }
        if spec.batch == 0 {
            return bad("batch", spec.batch.to_string(), "[1, inf)");
        }
        let weights = 4.0 * (self.width as f64) * (self.width as f64) * workers(self);
        noisyprop_engine::check_memory("the variance-depth weight matrices", weights)?;
        Ok(())
    }
}

/// The result for one σ_w².
#[derive(Debug, Clone, Serialize)]
pub struct VarianceDepthRow {
    /// σ_w².
    pub sigma_w2: f64,
    /// Per-layer growth g = σ_w² μ₂ / 2.
    pub growth: f64,
    /// First layer whose variance leaves the f32 range (`None`: none up to the depth run).
    pub first_unstable_layer: Option<usize>,
    /// Whether that exit is an overflow (else underflow).
    pub overflow: Option<bool>,
    /// Theory: 1 + ln(K/q¹)/ln g with q¹ = σ_w² μ₂ E\[x²\] (spec D9); `None` at criticality.
    pub theory_depth: Option<f64>,
    /// The paper's L* = ln K / ln g (q⁰ = 1, spec 2.6).
    pub paper_theory_depth: Option<f64>,
    /// First layer where an activation is non-finite or all are below the smallest normal.
    pub first_element_exit_layer: Option<usize>,
    /// Layers computed.
    pub depth_run: usize,
    /// ln q^l for l = 1..=depth_run (NaN where no batch had a finite variance).
    pub ln_q: Vec<f64>,
}

/// f32 range.
const F32_MAX: f64 = f32::MAX as f64;
const F32_TINY: f64 = f32::MIN_POSITIVE as f64;

/// Runs the experiment on `x` (n × dim pixels scaled to [0, 1]), σ_w² values
/// in parallel, calling `progress` after each one (from the worker threads):
/// `true` goes on, `false` stops the run. Once any call returned `false`,
/// σ_w² values not yet started are skipped and the result is
/// [`ExperimentError::Cancelled`]; rows of a run that is not stopped do not
/// depend on the callback.
///
/// # Errors
/// Invalid settings; [`ExperimentError::Cancelled`] when `progress`
/// returned `false`.
pub fn variance_depth(
    spec: &VarianceDepthSpec,
    x: &[f32],
    dim: usize,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<VarianceDepthRow>, ExperimentError> {
    spec.validate()?;
    let bad =
        |name, value: String, valid| Err(ExperimentError::InvalidParameter { name, value, valid });
    if dim == 0 || x.is_empty() || !x.len().is_multiple_of(dim) {
        return bad(
            "examples",
            x.len().to_string(),
            "a non-empty multiple of the input dimension",
        );
    }
    let n = x.len() / dim;
    let per_worker = 4.0 * (3 * n * spec.width.max(dim) + spec.width * spec.width.max(dim)) as f64;
    noisyprop_engine::check_memory("the variance-depth networks", per_worker * workers(spec))?;
    let sampler = NoiseSampler::new(&spec.noise)?;
    let mu2 = spec.noise.mu2();
    let ex2 = x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64;
    // Set once a `progress` returned false: σ_w² values not yet started are
    // skipped.
    let stop = AtomicBool::new(false);
    let rows: Vec<Option<VarianceDepthRow>> = spec
        .sigma_w2
        .par_iter()
        .enumerate()
        .map(|(i, &sw2)| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let r = run_one(spec, &sampler, x, dim, sw2, mu2, ex2, i as u64);
            if !progress() {
                stop.store(true, Ordering::Relaxed);
            }
            Some(r)
        })
        .collect();
    if stop.into_inner() {
        return Err(ExperimentError::Cancelled);
    }
    Ok(rows.into_iter().flatten().collect())
}

/// The theory's L*: the depth at which the variance of the ReLU network at
/// `sigma_w2` with `noise` leaves the float32 range from `q0` (spec 2.6;
/// [`MeanField::range_exit_depth`]); `None` at criticality, where it stays.
fn lstar(noise: &Noise, sigma_w2: f64, q0: f64) -> Option<f64> {
    let net = Network::new(Activation::Relu, noise.clone(), sigma_w2, 0.0).ok()?;
    let mf = MeanField::new(&net, Integration::default());
    mf.range_exit_depth(&mf.variance_fixed_point(q0), q0, FloatFormat::F32)
        .map(|(l, _)| l)
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    spec: &VarianceDepthSpec,
    sampler: &NoiseSampler,
    x: &[f32],
    dim: usize,
    sw2: f64,
    mu2: f64,
    ex2: f64,
    index: u64,
) -> VarianceDepthRow {
    let n = x.len() / dim;
    let width = spec.width;
    // The ReLU map's growth per layer, q^{l+1} = (σ_w² μ₂ / 2) q^l (spec 2.6);
    // the first layer sees the raw pixels (spec D9): q¹ = σ_w² μ₂ E[x²].
    let growth = sw2 * mu2 / 2.0;
    let q1 = sw2 * mu2 * ex2;
    let theory_depth = lstar(&spec.noise, sw2, q1).map(|l| 1.0 + l);
    let paper_theory_depth = lstar(&spec.noise, sw2, 1.0);
    let key = Key::new(spec.seed)
        .child(rng::tags::SIMULATION)
        .child(index);
    let size = n * width.max(dim);
    let mut h: Vec<f32> = x.to_vec();
    h.resize(size, 0.0);
    let mut xt = vec![0f32; size];
    let mut w = vec![0f32; width * width.max(dim)];
    let mut next = vec![0f32; size];
    let mut ln_q = Vec::new();
    let (mut first_unstable, mut overflow, mut first_elem) = (None, None, None);
    for l in 0..spec.max_depth {
        let fan_in = if l == 0 { dim } else { width };
        act::forward(Activation::Relu, &h[..n * fan_in], &mut xt[..n * fan_in]);
        sampler.apply(
            key.child(rng::tags::NOISE).child(l as u64),
            0,
            &mut xt[..n * fan_in],
            None,
        );
        rng::fill_normal_f32(
            &mut w[..width * fan_in],
            (sw2 / fan_in as f64).sqrt() as f32,
            key.child(rng::tags::WEIGHTS).child(l as u64 + 1),
        );
        gemm_nt(
            n,
            width,
            fan_in,
            &mut next[..n * width],
            &xt[..n * fan_in],
            &w[..width * fan_in],
            1.0,
            0.0,
            Threads::One,
        );
        std::mem::swap(&mut h, &mut next);
        let layer = l + 1;
        // Per-batch variances (f64), averaged over batches with a finite one.
        let (mut sum, mut count) = (0.0f64, 0usize);
        let (mut any_inf, mut max_abs) = (false, 0.0f32);
        for chunk in h[..n * width].chunks(spec.batch * width) {
            let mut s = 0.0f64;
            for &v in chunk {
                if !v.is_finite() {
                    any_inf = true;
                } else {
                    max_abs = max_abs.max(v.abs());
                }
                s += (v as f64) * (v as f64);
            }
            let q = s / chunk.len() as f64;
            if q.is_finite() {
                sum += q;
                count += 1;
            }
        }
        let q = if count > 0 {
            sum / count as f64
        } else {
            f64::NAN
        };
        ln_q.push(q.ln());
        if first_unstable.is_none() && (!(q.is_finite()) || !(F32_TINY..=F32_MAX).contains(&q)) {
            first_unstable = Some(layer);
            // NaN (every batch non-finite) counts as overflow.
            overflow = Some(q.is_nan() || q > F32_MAX);
        }
        let elements_out = any_inf || (max_abs as f64) < F32_TINY;
        if first_elem.is_none() && elements_out {
            first_elem = Some(layer);
        }
        // Nothing left to propagate: every finite value is zero (underflow)
        // or there is none (overflow).
        if max_abs == 0.0 {
            break;
        }
    }
    VarianceDepthRow {
        sigma_w2: sw2,
        growth,
        first_unstable_layer: first_unstable,
        overflow,
        theory_depth,
        paper_theory_depth,
        first_element_exit_layer: first_elem,
        depth_run: ln_q.len(),
        ln_q,
    }
}

#[derive(Serialize)]
struct CsvRow {
    sigma_w2: f64,
    layer: usize,
    ln_q: f64,
}

#[derive(Serialize)]
struct Summary<'a> {
    noise: String,
    mu2: f64,
    width: usize,
    examples: usize,
    dataset: &'a str,
    rows: Vec<SummaryRow>,
}

/// The per-σ_w² summary without the per-layer arrays (see
/// [`VarianceDepthRow`] for the fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SummaryRow {
    pub sigma_w2: f64,
    pub first_unstable_layer: Option<usize>,
    pub overflow: Option<bool>,
    pub theory_depth: Option<f64>,
    pub paper_theory_depth: Option<f64>,
    pub first_element_exit_layer: Option<usize>,
    pub depth_run: usize,
}

impl VarianceDepthRow {
    /// The row without its per-layer arrays.
    pub fn summary(&self) -> SummaryRow {
        SummaryRow {
            sigma_w2: self.sigma_w2,
            first_unstable_layer: self.first_unstable_layer,
            overflow: self.overflow,
            theory_depth: self.theory_depth,
            paper_theory_depth: self.paper_theory_depth,
            first_element_exit_layer: self.first_element_exit_layer,
            depth_run: self.depth_run,
        }
    }
}

/// The heat map of ln q^l: one column per σ_w² run (a category labelled with
/// its value: the runs are samples, not a continuum), black where the
/// variance left the f32 range, the D9 theory's exit layer of each column as
/// a marker, and the critical σ_w² = 2/μ₂ on its column or, when no run is
/// critical, on the boundary between the columns that bracket it.
fn heat_map(spec: &VarianceDepthSpec, rows: &[VarianceDepthRow], dataset: &str) -> HeatMap {
    let xs: Vec<f64> = rows.iter().map(|r| r.sigma_w2).collect();
    let nx = xs.len();
    let depth = spec.max_depth;
    let (lo, hi) = (F32_TINY.ln(), F32_MAX.ln());
    let mut values = vec![f64::NAN; nx * depth];
    for (ix, r) in rows.iter().enumerate() {
        for (l, &v) in r.ln_q.iter().enumerate() {
            if v.is_finite() && (lo..=hi).contains(&v) {
                values[l * nx + ix] = v;
            }
        }
    }
    let theory: Vec<(f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.theory_depth
                .filter(|&d| d >= 1.0 && d <= depth as f64)
                .map(|d| (i as f64 + 0.5, d))
        })
        .collect();
    let crit = 2.0 / spec.noise.mu2();
    // The paper's L* (q⁰ = 1) as a curve through the columns (a uniform sweep
    // makes the column axis linear in σ_w²), split at criticality.
    let (x0, x1) = (xs[0], xs[nx - 1]);
    let mut curve = Vec::new();
    let mut crossed = false;
    for i in 0..=400 {
        let s = x0 + (x1 - x0) * i as f64 / 400.0;
        if s >= crit && !crossed {
            crossed = true;
            curve.push((f64::NAN, f64::NAN));
        }
        let Some(l) = lstar(&spec.noise, s, 1.0) else {
            continue;
        };
        if let (Some(x), true) = (categorical_position(&xs, s), l <= depth as f64) {
            curve.push((x, l));
        }
    }
    let mut ref_lines = Vec::new();
    let on_column = xs.iter().position(|&s| (s - crit).abs() <= 1e-9 * crit);
    let between = xs.windows(2).position(|w| w[0] < crit && crit < w[1]);
    if let Some(i) = on_column {
        ref_lines.push(RefLine {
            kind: RefLineKind::Vertical(i as f64 + 0.5),
            label: format!("critical σ_{{w}}^{{2}} = 2/μ_{{2}} = {}", fmt_short(crit)),
            color: (0, 0, 0),
            dashed: true,
        });
    } else if let (Some(_), Some(x)) = (between, categorical_position(&xs, crit)) {
        // Placed as the L* curve is: linearly between the two column centres.
        ref_lines.push(RefLine {
            kind: RefLineKind::Vertical(x),
            label: format!("critical σ_{{w}}^{{2}} = 2/μ_{{2}} = {}", fmt_short(crit)),
            color: (0, 0, 0),
            dashed: true,
        });
    }
    let mut annotations = Vec::new();
    let label_y = depth as f64 * 0.7;
    // Labels well inside the axes (a label is wider than a narrow column).
    if xs.first().is_some_and(|&s| s < crit) {
        annotations.push((0.12 * nx as f64, label_y, "Underflow".to_string()));
    }
    if xs.last().is_some_and(|&s| s > crit) && nx > 1 {
        annotations.push((0.88 * nx as f64, label_y, "Overflow".to_string()));
    }
    let ys: Vec<f64> = (1..=depth).map(|l| l as f64).collect();
    HeatMap {
        title: format!(
            "Variance propagation depth, noise {} ({dataset})",
            spec.noise
        ),
        x_label: "weight variance σ_{w}^{2}".into(),
        y_label: "layer l".into(),
        color_label: "ln q^{l}".into(),
        x_categories: Some(xs.iter().map(|&s| fmt_short(s)).collect()),
        y_edges: edges_from_centers(&ys, false),
        values,
        colormap: Colormap::Viridis,
        color_range: Some((lo, hi)),
        non_finite_label: Some("outside the f32 range".into()),
        overlays: [
            (curve.len() > 1).then(|| {
                Series::line("paper's L* (float32, q⁰ = 1)", curve).with_color((0, 230, 255))
            }),
            (!theory.is_empty()).then(|| {
                Series::points("variance leaves f32 (theory, D9)", theory)
                    .with_color((255, 80, 80))
                    .with_marker(Marker::Cross)
            }),
        ]
        .into_iter()
        .flatten()
        .collect(),
        ref_lines,
        annotations,
        legend: LegendPos::Top,
        ..Default::default()
    }
}

/// Writes `variance-depth.csv` (σ_w², layer, ln q), `variance-depth.json`
/// and `variance-depth.png` into `dir`.
///
/// # Errors
/// File errors naming the file.
pub fn write_outputs(
    dir: &std::path::Path,
    spec: &VarianceDepthSpec,
    rows: &[VarianceDepthRow],
    dataset: &str,
    examples: usize,
) -> Result<Vec<PathBuf>, ExperimentError> {
    ensure_dir(dir)?;
    let csv: Vec<CsvRow> = rows
        .iter()
        .flat_map(|r| {
            r.ln_q.iter().enumerate().map(|(i, &v)| CsvRow {
                sigma_w2: r.sigma_w2,
                layer: i + 1,
                ln_q: v,
            })
        })
        .collect();
    let mu2 = spec.noise.mu2();
    let summary = Summary {
        noise: spec.noise.to_string(),
        mu2,
        width: spec.width,
        examples,
        dataset,
        rows: rows.iter().map(VarianceDepthRow::summary).collect(),
    };
    let mut files = vec![
        write_csv(&dir.join("variance-depth.csv"), &csv)?,
        write_json(&dir.join("variance-depth.json"), &summary)?,
    ];
    let png = dir.join("variance-depth.png");
    let map = heat_map(spec, rows, dataset);
    noisyprop_plot::render_heatmap(&map, &png, noisyprop_plot::DEFAULT_SIZE).map_err(|cause| {
        ExperimentError::Plot {
            path: png.clone(),
            cause,
        }
    })?;
    files.push(png);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_follow_the_theory_on_synthetic_pixels() {
        let dim = 64;
        let n = 40;
        let x: Vec<f32> = (0..n * dim)
            .map(|i| ((i * 37) % 101) as f32 / 101.0)
            .collect();
        let spec = VarianceDepthSpec {
            sigma_w2: vec![0.6, 1.2, 2.0],
            max_depth: 400,
            width: 200,
            batch: 16,
            ..Default::default()
        };
        let rows = variance_depth(&spec, &x, dim, &|| true).unwrap();
        // Critical: no exit, variance constant ≈ q¹ = 2E[x²].
        assert_eq!(rows[1].first_unstable_layer, None);
        assert_eq!(rows[1].depth_run, 400);
        // Off-critical: the variance exits within a few layers of the corrected theory.
        for r in [&rows[0], &rows[2]] {
            let (got, want) = (
                r.first_unstable_layer.unwrap() as f64,
                r.theory_depth.unwrap(),
            );
            assert!(
                (got - want).abs() <= 0.06 * want + 3.0,
                "σ_w² {}: {got} vs {want}",
                r.sigma_w2
            );
            // The activations themselves survive much longer.
            let elem = r.first_element_exit_layer.unwrap_or(usize::MAX) as f64;
            assert!(elem > 1.5 * got, "{elem} vs {got}");
        }
        assert_eq!(rows[2].overflow, Some(true));
        assert_eq!(rows[0].overflow, Some(false));
        let additive = VarianceDepthSpec {
            noise: Noise::from_law(NoiseLaw::GaussAdd { std: 1.0 }),
            ..spec
        };
        assert!(variance_depth(&additive, &x, dim, &|| true).is_err());
    }
}
