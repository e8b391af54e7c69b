//! The phase-diagram figure: a heat map over (σ_w², σ_b²) or (σ_w², μ₂) of
//! the trainable depth, c*, χ_c or χ₁, with the critical line χ₁ = 1 and
//! k·ξ_c contours.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use noisyprop_plot::{Colormap, HeatMap, Series, contour, edges_from_centers, render_heatmap};
use noisyprop_theory::{PhaseAxis, PhaseCell, PhaseDiagram, RegimeKind, fmt_short};

use crate::ExperimentError;

/// The quantity a phase heat map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorBy {
    /// log₁₀ of k·ξ_c (capped at 10⁴ layers; unbounded shown at the cap).
    #[default]
    TrainableDepth,
    /// c*.
    CStar,
    /// χ_c.
    ChiC,
    /// log₁₀ χ₁.
    Chi1,
}

impl FromStr for ColorBy {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Self, ExperimentError> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "trainable-depth" => Ok(ColorBy::TrainableDepth),
            "c-star" => Ok(ColorBy::CStar),
            "chi-c" => Ok(ColorBy::ChiC),
            "chi1" | "chi-1" => Ok(ColorBy::Chi1),
            _ => Err(ExperimentError::invalid(
                "color",
                format!("`{s}`"),
                "trainable-depth, c-star, chi-c or chi1",
            )),
        }
    }
}

impl fmt::Display for ColorBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColorBy::TrainableDepth => "trainable-depth",
            ColorBy::CStar => "c-star",
            ColorBy::ChiC => "chi-c",
            ColorBy::Chi1 => "chi1",
        })
    }
}

/// Depth cap of the heat map's colour scale (layers).
pub const DEPTH_CAP: f64 = 1e4;

/// Settings of [`write_phase_png`].
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseFigure {
    /// What the colours show.
    pub color: ColorBy,
    /// Depths at which k·ξ_c contours are drawn.
    pub contours: Vec<f64>,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The network, in words, for the title.
    pub what: String,
}

impl PhaseFigure {
    /// Checks the contour depths (each in (0, ∞)).
    ///
    /// # Errors
    /// [`ExperimentError::InvalidParameter`] naming the first bad depth.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        match self.contours.iter().find(|&&l| !(l > 0.0 && l.is_finite())) {
            Some(&l) => Err(ExperimentError::invalid("contours", l, "(0, inf)")),
            None => Ok(()),
        }
    }
}

/// Checks a PNG path before any work is done: a `.png` name whose directory
/// exists.
///
/// # Errors
/// [`ExperimentError::InvalidParameter`] naming the path and what is wrong.
pub fn check_png_path(path: &Path) -> Result<(), ExperimentError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !ext.eq_ignore_ascii_case("png") {
        return Err(ExperimentError::invalid(
            "png",
            format!("`{}`", path.display()),
            "a file name ending in .png",
        ));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(d) = dir
        && !d.is_dir()
    {
        return Err(ExperimentError::invalid(
            "png",
            format!("`{}`", path.display()),
            "a file in an existing directory",
        ));
    }
    // Writable now, so a long grid is not computed for nothing: open it
    // for writing (and remove it again if it did not exist).
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|cause| ExperimentError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Draws the heat map of `d` into `path`.
///
/// # Errors
/// Invalid contours, or the file cannot be written (named).
pub fn write_phase_png(
    d: &PhaseDiagram,
    fig: &PhaseFigure,
    path: &Path,
) -> Result<(), ExperimentError> {
    fig.validate()?;
    let map = heat_map(d, fig);
    render_heatmap(&map, path, noisyprop_plot::DEFAULT_SIZE).map_err(|cause| {
        ExperimentError::Plot {
            path: path.to_path_buf(),
            cause,
        }
    })
}

/// log₁₀ k·ξ_c of a cell: capped at [`DEPTH_CAP`] (unbounded ξ_c drawn at the
/// cap), NaN where the variance vanishes or explodes (no trainable depth).
fn depth_value(c: &PhaseCell) -> f64 {
    match (c.trainable_depth, c.regime) {
        (Some(d), _) => d.min(DEPTH_CAP).log10(),
        (None, RegimeKind::FixedPoint | RegimeKind::Marginal) => DEPTH_CAP.log10(),
        (None, _) => f64::NAN,
    }
}

fn heat_map(d: &PhaseDiagram, fig: &PhaseFigure) -> HeatMap {
    let nx = d.x.len();
    let k = fmt_short(d.depth_multiplier);
    // Where no cell keeps its signal (a ReLU-type φ with multiplicative
    // noise survives only on the critical line), a depth map would be all
    // black: colour by χ₁ instead and say so.
    let no_depth = fig.color == ColorBy::TrainableDepth
        && !d.cells.iter().map(depth_value).any(f64::is_finite);
    let color = if no_depth { ColorBy::Chi1 } else { fig.color };
    let (values, mut label, colormap): (Vec<f64>, String, Colormap) = match color {
        ColorBy::TrainableDepth => (
            d.cells.iter().map(depth_value).collect(),
            format!("log_{{10}}({k}ξ_{{c}}) (layers; ≥ 10^{{4}} at the top)"),
            Colormap::Viridis,
        ),
        ColorBy::CStar => (
            d.cells.iter().map(|c| c.c_star).collect(),
            "c*".into(),
            Colormap::Viridis,
        ),
        ColorBy::ChiC => (
            d.cells.iter().map(|c| c.chi_c).collect(),
            "χ_{c}".into(),
            Colormap::Viridis,
        ),
        ColorBy::Chi1 => (
            d.cells.iter().map(|c| c.chi_1.log10()).collect(),
            "log_{10} χ_{1}".into(),
            Colormap::RdBuR,
        ),
    };
    if no_depth {
        label =
            format!("log_{{10}} χ_{{1}} (no cell off the critical line has a finite {k}ξ_{{c}})");
    }
    // The diverging χ₁ map is centred on χ₁ = 1 (white on the critical line).
    let color_range = (color == ColorBy::Chi1)
        .then(|| {
            values
                .iter()
                .filter(|v| v.is_finite())
                .fold(0.0f64, |m, v| m.max(v.abs()))
        })
        .filter(|&m| m > 0.0)
        .map(|m| (-m, m));
    let yname = match d.y_axis {
        PhaseAxis::Mu2 => "noise second moment μ_{2}",
        PhaseAxis::SigmaB2 => "bias variance σ_{b}^{2}",
    };
    let mut overlays = Vec::new();
    let crit: Vec<(f64, f64)> =
        d.y.iter()
            .zip(&d.critical_line)
            .map(|(&y, s)| (s.unwrap_or(f64::NAN), y))
            .collect();
    if crit.iter().any(|p| p.0.is_finite()) {
        overlays
            .push(Series::line("critical σ_{w}^{2} (χ_{1} = 1)", crit).with_color((0, 230, 255)));
    }
    if nx > 1 && d.y.len() > 1 {
        let logd: Vec<f64> = d.cells.iter().map(depth_value).collect();
        let shades = [
            (255, 160, 40),
            (255, 70, 70),
            (240, 80, 240),
            (255, 255, 255),
        ];
        for (i, &l) in fig.contours.iter().enumerate() {
            let mut pts = Vec::new();
            for line in contour(&d.x, &d.y, &logd, l.log10()) {
                pts.extend(line);
                pts.push((f64::NAN, f64::NAN));
            }
            if pts.len() > 1 {
                overlays.push(
                    Series::line(format!("{k}ξ_{{c}} = {} layers", fmt_short(l)), pts)
                        .with_color(shades[i % shades.len()])
                        .with_dashed(true),
                );
            }
        }
    }
    HeatMap {
        title: format!("Phase diagram: {}", fig.what),
        x_label: "weight variance σ_{w}^{2}".into(),
        y_label: yname.into(),
        color_label: label,
        x_edges: edges_from_centers(&d.x, false),
        y_edges: edges_from_centers(&d.y, fig.log_y),
        values,
        colormap,
        overlays,
        log_y: fig.log_y,
        color_range,
        non_finite_label: Some(match color {
            ColorBy::TrainableDepth => "variance vanishes or explodes".into(),
            ColorBy::CStar | ColorBy::ChiC | ColorBy::Chi1 => "not defined".into(),
        }),
        ..HeatMap::default()
    }
}
