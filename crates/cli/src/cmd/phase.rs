//! `noisyprop phase`: phase diagrams over (σ_w², σ_b²) or (σ_w², μ₂).

use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use serde::Serialize;

use noisyprop_plot::{Colormap, HeatMap, Series, contour, edges_from_centers, render_heatmap};
use noisyprop_theory::{Grid, PhaseAxis, PhaseCell, PhaseDiagram, PhaseSpec, phase_diagram};

use crate::args::{IntegrationArgs, NetArgs, activation_and_noise};
use crate::output::{Report, g, print_csv, print_json};

/// Phase diagram over σ_w² (x) and σ_b² or μ₂ (y): variance regime, c*, χ_c,
/// ξ_c and trainable depth per cell, the critical line χ₁ = 1, and a PNG heat
/// map with the critical line and k·ξ_c contours
#[derive(Debug, Args)]
pub struct PhaseArgs {
    #[command(flatten)]
    pub net: NetArgs,

    /// What the y axis varies: mu2 (replaces the multiplicative noise; additive
    /// noise is kept) or sigma-b2
    #[arg(long, value_enum, default_value_t = YAxis::Mu2)]
    pub y: YAxis,

    /// σ_w² grid, MIN:MAX:N
    #[arg(
        long = "x-range",
        default_value = "0.1:4:200",
        value_name = "MIN:MAX:N"
    )]
    pub x_range: GridArg,

    /// y grid, MIN:MAX:N (default 1:3:200 for mu2, 0:1:200 for sigma-b2)
    #[arg(long = "y-range", value_name = "MIN:MAX:N")]
    pub y_range: Option<GridArg>,

    /// Logarithmic y spacing
    #[arg(long = "log-y")]
    pub log_y: bool,

    /// Variance q⁰ that classifies the regime
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "Q",
        allow_negative_numbers = true
    )]
    pub q0: f64,

    #[command(flatten)]
    pub k: crate::args::DepthMultiplier,

    /// Depths at which k·ξ_c contours are drawn, comma separated
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,10,20",
        value_name = "L",
        allow_negative_numbers = true
    )]
    pub contours: Vec<f64>,

    /// Quantity shown in the heat map
    #[arg(long, value_enum, default_value_t = ColorBy::TrainableDepth)]
    pub color: ColorBy,

    /// Write the heat map to this PNG file
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub format: crate::args::Format,
}

/// The y axis.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum YAxis {
    /// μ₂ of the multiplicative noise
    Mu2,
    /// bias variance σ_b²
    SigmaB2,
}

/// Heat map quantity.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorBy {
    /// log₁₀ of k·ξ_c (capped at 10⁴ layers; ∞ shown at the cap)
    TrainableDepth,
    /// c*
    CStar,
    /// χ_c
    ChiC,
    /// χ₁
    Chi1,
}

/// A `MIN:MAX:N` grid flag.
#[derive(Debug, Clone, Copy)]
pub struct GridArg {
    min: f64,
    max: f64,
    n: usize,
}

impl GridArg {
    /// The grid's values, checked (n ≥ 1, finite, min ≤ max).
    pub fn values(&self) -> Result<Vec<f64>> {
        if self.n == 0 || !(self.min.is_finite() && self.max.is_finite()) || self.min > self.max {
            return Err(anyhow!(
                "grid {}:{}:{} is invalid; it needs finite MIN ≤ MAX and N ≥ 1",
                self.min,
                self.max,
                self.n
            ));
        }
        Ok(Grid {
            min: self.min,
            max: self.max,
            n: self.n,
            log: false,
        }
        .values())
    }
}

impl FromStr for GridArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad = || format!("`{s}` is not MIN:MAX:N (e.g. 0.1:4:200)");
        let [a, b, n] = parts.as_slice() else {
            return Err(bad());
        };
        Ok(GridArg {
            min: a.trim().parse().map_err(|_| bad())?,
            max: b.trim().parse().map_err(|_| bad())?,
            n: n.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// One CSV row (the csv crate cannot serialise flattened structs).
#[derive(Serialize)]
struct CellRow {
    sigma_w2: f64,
    sigma_b2: f64,
    mu2: f64,
    regime: &'static str,
    q_star: Option<f64>,
    chi_1: f64,
    c_star: f64,
    chi_c: f64,
    xi_c: Option<f64>,
    trainable_depth: Option<f64>,
    correlation_basis: noisyprop_theory::CorrelationBasis,
}

#[derive(Serialize)]
struct PhaseRecord<'a> {
    activation: String,
    noise: String,
    #[serde(flatten)]
    diagram: &'a PhaseDiagram,
}

/// Quadrature nodes per cell unless --nodes is given (n vs 2n ≈ 1e-10 at q ≈ 1).
const PHASE_NODES: usize = 32;

/// Depth cap of the heat map's colour scale.
const DEPTH_CAP: f64 = 1e4;

pub fn run(args: &PhaseArgs, out: &mut impl Write) -> Result<()> {
    let integration = args.integration.integration()?;
    let (activation, noise) = activation_and_noise(&args.net)?;
    let net = noisyprop_theory::Network::new(activation, noise, 1.0, args.net.sigma_b2)?;
    let (y_axis, default_y) = match args.y {
        YAxis::Mu2 => (
            PhaseAxis::Mu2,
            GridArg {
                min: 1.0,
                max: 3.0,
                n: 200,
            },
        ),
        YAxis::SigmaB2 => (
            PhaseAxis::SigmaB2,
            GridArg {
                min: 0.0,
                max: 1.0,
                n: 200,
            },
        ),
    };
    let yg = args.y_range.unwrap_or(default_y);
    let spec = PhaseSpec {
        x: Grid {
            min: args.x_range.min,
            max: args.x_range.max,
            n: args.x_range.n,
            log: false,
        },
        y: Grid {
            min: yg.min,
            max: yg.max,
            n: yg.n,
            log: args.log_y,
        },
        y_axis,
        q0: args.q0,
        depth_multiplier: args.k.depth_multiplier,
        nodes: integration.nodes.unwrap_or(PHASE_NODES),
    };
    for &l in &args.contours {
        if !(l > 0.0 && l.is_finite()) {
            return Err(anyhow!(
                "--contours {l} is out of range; valid range is (0, inf)"
            ));
        }
    }
    let d = phase_diagram(&net, &spec)?;
    if let Some(path) = &args.png {
        heat_map(&d, args, &format!("{activation}, noise {}", net.noise()))
            .and_then(|map| {
                render_heatmap(&map, path, noisyprop_plot::DEFAULT_SIZE).map_err(Into::into)
            })
            .with_context(|| format!("writing `{}`", path.display()))?;
    }
    if args.format.csv {
        let fixed_mu2 = net.noise().mu2();
        let rows: Vec<CellRow> = d
            .cells
            .iter()
            .map(|c| CellRow {
                sigma_w2: c.sigma_w2,
                sigma_b2: if matches!(y_axis, PhaseAxis::SigmaB2) {
                    c.y
                } else {
                    net.sigma_b2()
                },
                mu2: if matches!(y_axis, PhaseAxis::Mu2) {
                    c.y
                } else {
                    fixed_mu2
                },
                regime: c.regime,
                q_star: c.q_star,
                chi_1: c.chi_1,
                c_star: c.c_star,
                chi_c: c.chi_c,
                xi_c: c.xi_c,
                trainable_depth: c.trainable_depth,
                correlation_basis: c.correlation_basis,
            })
            .collect();
        return print_csv(out, &rows);
    }
    if args.format.json {
        let rec = PhaseRecord {
            activation: activation.spec(),
            noise: net.noise().to_string(),
            diagram: &d,
        };
        return print_json(out, "phase", &rec);
    }
    let mut r = Report::default();
    let yname = y_name(y_axis);
    r.section(&format!(
        "phase diagram of {activation} with noise {}: {} × {} cells",
        net.noise(),
        d.x.len(),
        d.y.len()
    ));
    r.row("σ_w²", format!("{} … {}", g(spec.x.min), g(spec.x.max)));
    r.row(yname, format!("{} … {}", g(yg.min), g(yg.max)));
    let mut regimes: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in &d.cells {
        *regimes.entry(c.regime).or_default() += 1;
    }
    for (name, n) in regimes {
        r.row(&format!("cells {name}"), n.to_string());
    }
    let depths: Vec<f64> = d.cells.iter().filter_map(|c| c.trainable_depth).collect();
    if let (Some(lo), Some(hi)) = (
        depths.iter().copied().reduce(f64::min),
        depths.iter().copied().reduce(f64::max),
    ) {
        r.row(
            &format!("{}·ξ_c", g(d.depth_multiplier)),
            format!("{} … {} layers", g(lo), g(hi)),
        );
    }
    r.section(&format!("critical line (χ₁ = 1), σ_w² by {yname}"));
    let step = (d.y.len() / 8).max(1);
    for (i, (y, s)) in d.y.iter().zip(&d.critical_line).enumerate() {
        if i % step == 0 || i + 1 == d.y.len() {
            r.row(
                &format!("{yname} = {}", g(*y)),
                s.map(g).unwrap_or_else(|| "none".into()),
            );
        }
    }
    if let Some(path) = &args.png {
        r.section(&format!("wrote {}", path.display()));
    }
    r.write(out)
}

fn y_name(axis: PhaseAxis) -> &'static str {
    match axis {
        PhaseAxis::Mu2 => "μ₂",
        PhaseAxis::SigmaB2 => "σ_b²",
    }
}

fn heat_map(d: &PhaseDiagram, args: &PhaseArgs, what: &str) -> Result<HeatMap> {
    let nx = d.x.len();
    let depth_value = |c: &PhaseCell| {
        c.trainable_depth
            .unwrap_or(f64::INFINITY)
            .min(DEPTH_CAP)
            .log10()
    };
    let (values, label, colormap): (Vec<f64>, String, Colormap) = match args.color {
        ColorBy::TrainableDepth => (
            d.cells.iter().map(depth_value).collect(),
            format!("log_{{10}}({}ξ_{{c}}) (layers)", g(d.depth_multiplier)),
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
        for (i, &l) in args.contours.iter().enumerate() {
            let lines = contour(&d.x, &d.y, &logd, l.log10());
            let mut pts = Vec::new();
            for line in lines {
                pts.extend(line);
                pts.push((f64::NAN, f64::NAN));
            }
            if pts.len() > 1 {
                overlays.push(
                    Series::line(
                        format!("{}ξ_{{c}} = {} layers", g(d.depth_multiplier), g(l)),
                        pts,
                    )
                    .with_color(shades[i % shades.len()])
                    .with_dashed(true),
                );
            }
        }
    }
    Ok(HeatMap {
        title: format!("Phase diagram: {what}"),
        x_label: "weight variance σ_{w}^{2}".into(),
        y_label: yname.into(),
        color_label: label,
        x_edges: edges_from_centers(&d.x, false),
        y_edges: edges_from_centers(&d.y, args.log_y),
        values,
        colormap,
        overlays,
        log_y: args.log_y,
        ..HeatMap::default()
    })
}
