//! The grid's report files: `trainable-depth.csv`, `trainable-depth.json` and
//! the final training and validation loss heat maps, drawn as categories (one
//! equal cell per keep probability and depth, ticks at the grid's own values)
//! with the k·ξ_c curve through them.

use std::path::PathBuf;

use noisyprop_plot::{
    Colormap, HeatMap, LegendPos, Series, categorical_position, render_heatmap, robust_color_range,
};
use noisyprop_theory::fmt_short;

use super::report::{GridReport, predicted_depth};
use super::spec::GridSpec;
use crate::ExperimentError;
use crate::output::{write_csv, write_json};

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
    for (name, pick) in [("train", 0usize), ("val", 1usize)] {
        let map = heat_map(spec, rep, name, pick);
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

/// The heat map of the final training (`pick` 0) or validation (1) losses.
fn heat_map(spec: &GridSpec, rep: &GridReport, name: &str, pick: usize) -> HeatMap {
    let mut keeps = spec.keeps().to_vec();
    keeps.sort_by(f64::total_cmp);
    let mut depths = spec.depths().to_vec();
    depths.sort_unstable();
    let (nx, ny) = (keeps.len(), depths.len());
    let mut values = vec![f64::NAN; nx * ny];
    for c in &rep.cells {
        let (Some(ix), Some(iy)) = (
            keeps.iter().position(|&x| x == c.keep),
            depths.iter().position(|&d| d == c.depth),
        ) else {
            continue;
        };
        let v = if pick == 0 { c.train_loss } else { c.val_loss };
        values[iy * nx + ix] = v.unwrap_or(f64::NAN);
    }
    // The k·ξ_c curve through the categorical cells: x is the position of p
    // among the keeps, y the position of k·ξ_c(p) among the depths.
    let ys: Vec<f64> = depths.iter().map(|&d| d as f64).collect();
    let (lo, hi) = (keeps[0], keeps[nx - 1]);
    let k = spec.depth_multiplier();
    let act = spec.base().activation;
    let mut curve = Vec::new();
    for i in 0..=400 {
        let p = lo + (hi - lo) * i as f64 / 400.0;
        let (Some(x), Some(d)) = (categorical_position(&keeps, p), predicted_depth(act, p, k))
        else {
            continue;
        };
        // Inside the axes only: the curve leaves through the top or bottom edge.
        if let Some(y) = position_to_edges(&ys, d) {
            curve.push((x, y));
        } else if !curve.is_empty() {
            break;
        }
    }
    let (color_range, capped) = match robust_color_range(&values) {
        Some((r, capped)) => (Some(r), capped),
        None => (None, false),
    };
    let b = spec.base();
    HeatMap {
        title: format!(
            "{} loss after {} epochs ({}, {}, width {})",
            if pick == 0 { "Training" } else { "Validation" },
            b.epochs,
            b.dataset,
            b.task,
            b.width
        ),
        x_label: format!(
            "dropout keep probability p ({} at critical σ_{{w}}^{{2}})",
            b.activation
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
        non_finite_label: Some("not computed or diverged".into()),
        overlays: if curve.is_empty() {
            Vec::new()
        } else {
            vec![Series::line(format!("{}ξ_{{c}}", fmt_short(k)), curve).with_color((20, 20, 20))]
        },
        legend: LegendPos::Top,
        ..Default::default()
    }
}
