//! The grid's report files: `trainable-depth.csv`, `trainable-depth.json` and
//! the final training and validation loss heat maps, drawn as categories (one
//! equal cell per keep probability and depth, ticks at the grid's own values)
//! with the k·ξ_c curve through them.

use std::path::PathBuf;

use noisyprop_plot::{
    Colormap, HeatMap, LegendPos, Series, categorical_position, render_heatmap, robust_color_range,
};
use noisyprop_theory::fmt_short;

use rayon::prelude::*;

use super::report::{GridReport, predict};
use super::spec::GridSpec;
use crate::ExperimentError;
use crate::output::{write_csv, write_json};
use crate::training::Init;

/// Writes the CSV, the JSON and the two heat maps into the store; returns the
/// files written.
///
/// # Errors
/// File errors naming the file.
pub fn write_report(spec: &GridSpec, rep: &GridReport) -> Result<Vec<PathBuf>, ExperimentError> {
    let dir = spec.store();
    let mut files = vec![
        write_csv(&dir.join("trainable-depth.csv"), &rep.cells)?,
        write_json(&dir.join("trainable-depth.json"), rep)?,
    ];
    let curve = prediction_curve(spec, rep);
    for (name, pick) in [("train", 0usize), ("val", 1usize)] {
        let map = heat_map(spec, rep, &curve, name, pick);
        let path = dir.join(format!("trainable-depth-{name}.png"));
        render_heatmap(&map, &path, noisyprop_plot::DEFAULT_SIZE).map_err(|cause| {
            ExperimentError::Plot {
                path: path.clone(),
                cause,
            }
        })?;
        files.push(path);
    }
    Ok(files)
}

/// The categorical coordinate of `v` among `centers` (increasing), extended
/// half a cell beyond the first and last centres at the neighbouring
/// spacing, so a curve reaches the edges of the axes; `None` beyond them.
fn position_to_edges(centers: &[f64], v: f64) -> Option<f64> {
    if let Some(p) = categorical_position(centers, v) {
        return Some(p);
    }
    let n = centers.len();
    if n < 2 || !v.is_finite() {
        return None;
    }
    let (first, last) = (centers[0], centers[n - 1]);
    let p = if v < first {
        0.5 - (first - v) / (centers[1] - first)
    } else {
        n as f64 - 0.5 + (v - last) / (last - centers[n - 2])
    };
    (0.0..=n as f64).contains(&p).then_some(p)
}

/// Samples of the k·ξ_c curve between the smallest and largest keep.
const CURVE_SAMPLES: usize = 100;

/// The k·ξ_c curve through the categorical cells: x is the position of p
/// among the keeps, y the position of k·ξ_c(p) among the depths; empty
/// where there is no prediction (the curve is drawn where one exists). The
/// samples are analysed in parallel (a quadrature activation takes ~0.1 s
/// each), and not at all when no keep of the grid has a finite prediction.
fn prediction_curve(spec: &GridSpec, rep: &GridReport) -> Vec<(f64, f64)> {
    if rep.predictions.iter().all(|(_, p)| p.depth.is_none()) {
        return Vec::new();
    }
    let mut keeps = spec.keeps().to_vec();
    keeps.sort_by(f64::total_cmp);
    let mut depths = spec.depths().to_vec();
    depths.sort_unstable();
    let ys: Vec<f64> = depths.iter().map(|&d| d as f64).collect();
    let (lo, hi) = (keeps[0], keeps[keeps.len() - 1]);
    let k = spec.depth_multiplier();
    let points: Vec<Option<(f64, f64)>> = (0..=CURVE_SAMPLES)
        .into_par_iter()
        .map(|i| {
            let p = lo + (hi - lo) * i as f64 / CURVE_SAMPLES as f64;
            let x = categorical_position(&keeps, p)?;
            let d = predict(spec.base(), p, k).depth?;
            Some((x, position_to_edges(&ys, d).unwrap_or(f64::NAN)))
        })
        .collect();
    // Inside the axes only: the curve leaves through the top or bottom edge.
    let mut curve = Vec::new();
    for (x, y) in points.into_iter().flatten() {
        if y.is_finite() {
            curve.push((x, y));
        } else if !curve.is_empty() {
            break;
        }
    }
    curve
}

/// The heat map of the final training (`pick` 0) or validation (1) losses.
fn heat_map(
    spec: &GridSpec,
    rep: &GridReport,
    curve: &[(f64, f64)],
    name: &str,
    pick: usize,
) -> HeatMap {
    let mut keeps = spec.keeps().to_vec();
    keeps.sort_by(f64::total_cmp);
    let mut depths = spec.depths().to_vec();
    depths.sort_unstable();
    let (nx, ny) = (keeps.len(), depths.len());
    let mut values = vec![f64::NAN; nx * ny];
    // Diverged cells are marked ×, so a partial shard's missing cells are not
    // read as failures.
    let mut diverged = Vec::new();
    let mut missing = false;
    for c in &rep.cells {
        let (Some(ix), Some(iy)) = (
            keeps.iter().position(|&x| x == c.keep),
            depths.iter().position(|&d| d == c.depth),
        ) else {
            continue;
        };
        let v = if pick == 0 { c.train_loss } else { c.val_loss };
        values[iy * nx + ix] = v.unwrap_or(f64::NAN);
        if c.diverged == Some(true) || (c.done && v.is_none()) {
            diverged.push((ix as f64 + 0.5, iy as f64 + 0.5, "×".to_string()));
        } else if !c.done {
            missing = true;
        }
    }
    let non_finite_label = match (missing, diverged.is_empty()) {
        (true, false) => "not computed (× diverged)",
        (false, false) => "× diverged",
        _ => "not computed",
    };
    // Without any finite loss yet (nothing computed, or every cell
    // diverged) the map is still drawn, all cells in the non-finite colour.
    let (color_range, capped) = match robust_color_range(&values) {
        Some((r, capped)) => (Some(r), capped),
        None => (Some((0.0, 1.0)), false),
    };
    let b = spec.base();
    HeatMap {
        title: format!(
            "{} loss after {} epoch{} ({}, {}, width {})",
            if pick == 0 { "Training" } else { "Validation" },
            b.epochs,
            if b.epochs == 1 { "" } else { "s" },
            b.dataset,
            b.task,
            b.width
        ),
        x_label: format!(
            "dropout keep probability p ({}, {})",
            b.activation,
            match b.init {
                Init::Critical => "critical σ_{w}^{2}".to_string(),
                Init::He => "He: σ_{w}^{2} = 2".to_string(),
                Init::Xavier => "Xavier: σ_{w}^{2} = 1".to_string(),
                Init::SigmaW2 { value } => format!("σ_{{w}}^{{2}} = {}", fmt_short(value)),
            }
        ),
        y_label: "hidden layers".into(),
        color_label: match (capped, color_range) {
            (true, Some((_, top))) => format!("{name} loss (top colour: ≥ {})", fmt_short(top)),
            _ => format!("{name} loss"),
        },
        color_range,
        x_categories: Some(keeps.iter().map(|&p| fmt_short(p)).collect()),
        y_categories: Some(depths.iter().map(|d| d.to_string()).collect()),
        values,
        colormap: Colormap::SpectralR,
        non_finite_label: Some(non_finite_label.into()),
        annotations: diverged,
        overlays: if curve.is_empty() {
            Vec::new()
        } else {
            vec![
                Series::line(
                    format!("{}ξ_{{c}}", fmt_short(spec.depth_multiplier())),
                    curve.to_vec(),
                )
                .with_color((20, 20, 20)),
            ]
        },
        legend: LegendPos::Top,
        ..Default::default()
    }
}
