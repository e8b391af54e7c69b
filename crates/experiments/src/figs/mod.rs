//! The paper's simulated figures (spec §3.1–3.5), regenerated with the
//! original settings by default: width 1000, 50 networks, q⁰ = 4 over 15
//! layers (Figs 2–3), c⁰ ∈ {0, 0.5, 0.9} over 30 layers with 100 partners
//! (Figs 4–5). Theory is drawn as lines, simulation as points with ±1 std
//! bands; every plotted series is also written as CSV.

pub mod correlation;
pub mod depth_scales;
pub mod phase;
pub mod variance;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_plot::{LegendPos, LineChart, RefLine, Rgb, Series};
use noisyprop_sim::{InputClass, Precision, SimConfig, SimResult, simulate};
use noisyprop_theory::{Activation, Network, Noise, NoiseLaw};

use crate::ExperimentError;

/// Settings shared by the figures.
#[derive(Debug, Clone)]
pub struct FigOptions {
    /// Where PNG and CSV files go.
    pub out_dir: PathBuf,
    /// Width of every layer (paper: 1000).
    pub width: usize,
    /// Independent networks (paper: 50).
    pub networks: usize,
    /// Partners per base input in the correlation figures (paper: 100).
    pub partners: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for FigOptions {
    fn default() -> Self {
        FigOptions {
            out_dir: PathBuf::from("figures"),
            width: 1000,
            networks: 50,
            partners: 100,
            seed: 0,
        }
    }
}

impl FigOptions {
    /// Checks the sizes.
    ///
    /// # Errors
    /// [`ExperimentError::InvalidParameter`] naming the value.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |name, value: usize, valid| ExperimentError::InvalidParameter {
            name,
            value: value.to_string(),
            valid,
        };
        if self.width < 2 {
            return Err(bad("width", self.width, "[2, inf)"));
        }
        if self.networks < 2 {
            return Err(bad("networks", self.networks, "[2, inf)"));
        }
        if self.partners < 1 {
            return Err(bad("partners", self.partners, "[1, inf)"));
        }
        Ok(())
    }
}

/// One number of a figure: the mean-field value and, where simulated, the
/// mean over networks with its standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The setting (its legend label in plain text).
    pub setting: String,
    /// The quantity, e.g. `q^15`, `c^30`, `c*`, `ξ_c`.
    pub quantity: String,
    /// Mean-field value.
    pub theory: f64,
    /// Simulated mean over networks (`None` for theory-only numbers, `null`
    /// in JSON where undefined).
    pub simulated: Option<f64>,
    /// Standard error of the simulated mean.
    pub std_error: Option<f64>,
    /// Why there is no simulated value where one was sought (a fit at its
    /// search bound, too few points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Files written, notes and measurements of one figure.
pub type FigureOutput = (Vec<PathBuf>, Vec<String>, Vec<Measurement>);

/// What a figure wrote and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureReport {
    /// Figure number.
    pub figure: u8,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// One-line findings (fitted values, verdicts).
    pub notes: Vec<String>,
    /// The figure's numbers, theory against simulation.
    pub measurements: Vec<Measurement>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl FigureReport {
    /// One line on the finished figure: `Figure 2: 24 numbers in 3.2 s →
    /// out/fig2.png`.
    pub fn summary(&self) -> String {
        let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        format!(
            "Figure {}: {} numbers in {:.1} s → {}",
            self.figure,
            self.measurements.len(),
            self.seconds,
            files.join(", ")
        )
    }
}

/// Width and network count below which Figure 5's fits mostly fail.
pub const FIG5_ADEQUATE: (usize, usize) = (500, 10);

/// A warning, before any work, where `opts` is too small for Figure 5 to
/// fit most of its depth scales ([`FIG5_ADEQUATE`]); `None` otherwise.
pub fn fig5_warning(opts: &FigOptions) -> Option<String> {
    let (width, networks) = FIG5_ADEQUATE;
    (opts.width < width || opts.networks < networks).then(|| {
        format!(
            "Figure 5 at width {} with {} networks: fitting a depth scale needs about width ≥ {width} and ≥ {networks} networks (measured: width 256 fits 14 of 22 settings within 20 %, width 1000 with 24 networks 20 of 22); expect rows that say \"no fit\"",
            opts.width, opts.networks
        )
    })
}

/// One network setting of a figure.
#[derive(Debug, Clone)]
pub struct Setting {
    /// Legend label.
    pub label: String,
    /// Colour.
    pub color: Rgb,
    /// φ, noise and σ_w² (σ_b² = 0 throughout the paper's figures).
    pub network: Network,
}

impl Setting {
    /// A setting with a single noise law and no bias.
    ///
    /// # Errors
    /// A parameter out of range ([`Network::new`]).
    pub fn new(
        label: &str,
        color: Rgb,
        activation: Activation,
        law: NoiseLaw,
        sigma_w2: f64,
    ) -> Result<Self, ExperimentError> {
        Ok(Setting {
            label: label.to_string(),
            color,
            network: Network::new(activation, Noise::from_law(law), sigma_w2, 0.0)?,
        })
    }

    /// Simulates this setting, calling `progress` after each network
    /// (`false` stops it: [`simulate`]).
    ///
    /// # Errors
    /// Simulation errors; [`ExperimentError::Cancelled`] when `progress`
    /// returned `false`.
    pub fn simulate(
        &self,
        opts: &FigOptions,
        inputs: Vec<InputClass>,
        depth: usize,
        seed: u64,
        progress: &(dyn Fn() -> bool + Sync),
    ) -> Result<(SimConfig, SimResult), ExperimentError> {
        let cfg = SimConfig {
            network: self.network.clone(),
            width: opts.width,
            input_dim: opts.width,
            depth,
            networks: opts.networks,
            inputs,
            input_activation: true,
            backward: false,
            precision: Precision::F32,
            seed,
            memory_limit: 64 << 20,
        };
        let r = simulate(&cfg, progress)?;
        Ok((cfg, r))
    }
}

/// The three starting correlations of Figures 4(b) and 5, one base input
/// with `partners` partners each.
pub fn correlation_starts(partners: usize) -> Vec<InputClass> {
    STARTS
        .iter()
        .map(|&c0| InputClass {
            q0: 1.0,
            c0: Some(c0),
            groups: 1,
            partners,
        })
        .collect()
}

/// c⁰ of [`correlation_starts`].
pub const STARTS: [f64; 3] = [0.0, 0.5, 0.9];

/// Panel (a) of Figures 2–4: an iterative map with the identity line.
pub fn map_chart(
    title: &str,
    previous: &str,
    current: &str,
    x_range: (f64, f64),
    y_range: Option<(f64, f64)>,
    series: Vec<Series>,
) -> LineChart {
    LineChart {
        title: title.into(),
        x_label: previous.into(),
        y_label: current.into(),
        x_range: Some(x_range),
        y_range,
        series,
        ref_lines: vec![
            RefLine::identity()
                .with_dashed(true)
                .with_color((90, 90, 90)),
        ],
        legend: LegendPos::UpperLeft,
        ..Default::default()
    }
}

/// Panel (b) of Figures 2–4: a quantity against the layer.
pub fn dynamics_chart(
    title: &str,
    y_label: &str,
    y_range: Option<(f64, f64)>,
    log_y: bool,
    series: Vec<Series>,
) -> LineChart {
    LineChart {
        title: title.into(),
        x_label: "layer l".into(),
        y_label: y_label.into(),
        y_range,
        log_y,
        series,
        legend: LegendPos::Auto,
        ..Default::default()
    }
}

/// Evenly spaced values.
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n < 2 {
        return vec![a];
    }
    // The last point is exactly `b`, as numpy's linspace makes it.
    (0..n)
        .map(|i| {
            if i == n - 1 {
                b
            } else {
                a + (b - a) * i as f64 / (n - 1) as f64
            }
        })
        .collect()
}

/// Number of networks each figure simulates (for progress bars).
pub fn simulation_count(figure: u8, opts: &FigOptions) -> u64 {
    let n = opts.networks as u64;
    match figure {
        2 => 8 * n,
        3 => 12 * n,
        4 => 10 * n,
        5 => 22 * n,
        _ => 0,
    }
}

/// Runs figure `figure` (2–5), calling `progress` after each simulated
/// network: `true` goes on, `false` stops the figure as soon as the
/// networks running finish (nothing of it is written).
///
/// # Errors
/// Invalid options, simulation or file errors; [`ExperimentError::Cancelled`]
/// when `progress` returned `false`.
pub fn run(
    figure: u8,
    opts: &FigOptions,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<FigureReport, ExperimentError> {
    opts.validate()?;
    crate::output::ensure_dir(&opts.out_dir)?;
    let start = std::time::Instant::now();
    let (files, notes, measurements) = match figure {
        2 => variance::figure2(opts, progress)?,
        3 => variance::figure3(opts, progress)?,
        4 => correlation::figure4(opts, progress)?,
        5 => depth_scales::figure5(opts, progress)?,
        other => {
            return Err(ExperimentError::InvalidParameter {
                name: "figure",
                value: other.to_string(),
                valid: "2, 3, 4 or 5",
            });
        }
    };
    Ok(FigureReport {
        figure,
        files,
        notes,
        measurements,
        seconds: start.elapsed().as_secs_f64(),
    })
}
