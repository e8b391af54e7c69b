//! `noisyprop phase`: phase diagrams over (σ_w², σ_b²) or (σ_w², μ₂).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use noisyprop_ops::form::Range;
use noisyprop_ops::phase::{Phase, PhaseRequest};
use noisyprop_theory::PhaseAxis;

use crate::args::{DepthMultiplier, Format, NetArgs, Q0, Quiet, run_op};
use crate::output::{Report, g, print_csv, print_record};
use crate::progress::Bar;

/// Phase diagram over σ_w² (x) and σ_b² or μ₂ (y): variance regime, c*, χ_c,
/// ξ_c and trainable depth per cell, the critical line χ₁ = 1, and a PNG heat
/// map with the critical line and k·ξ_c contours
#[derive(Debug, Args)]
pub struct PhaseArgs {
    #[command(flatten)]
    pub net: NetArgs,

    /// What the y axis varies: mu2 (the multiplicative noise's μ₂; give only
    /// additive --noise, it is kept) or sigma-b2
    #[arg(long, value_enum, default_value_t = YAxis::Mu2)]
    pub y: YAxis,

    /// σ_w² sweep, MIN:MAX:N
    #[arg(
        long = "x-range",
        default_value_t = PhaseRequest::default().x_range,
        value_name = "MIN:MAX:N",
        allow_hyphen_values = true
    )]
    pub x_range: Range,

    /// y sweep, MIN:MAX:N (default 1:3:200 for mu2, 0:1:200 for sigma-b2)
    #[arg(long = "y-range", value_name = "MIN:MAX:N", allow_hyphen_values = true)]
    pub y_range: Option<Range>,

    /// Logarithmic y spacing
    #[arg(long = "log-y")]
    pub log_y: bool,

    #[command(flatten)]
    pub q0: Q0,

    #[command(flatten)]
    pub k: DepthMultiplier,

    /// Depths at which k·ξ_c contours are drawn, comma separated
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = PhaseRequest::default().contours,
        value_name = "L",
        allow_negative_numbers = true
    )]
    pub contours: Vec<f64>,

    /// Quantity shown in the heat map: trainable-depth (log₁₀ k·ξ_c, capped at
    /// 10⁴ layers), c-star, chi-c or chi1 (log₁₀ χ₁)
    #[arg(long, default_value_t = PhaseRequest::default().color, value_name = "QUANTITY")]
    pub color: String,

    /// Write the heat map to this PNG file
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,

    /// Quadrature nodes per cell for activations without closed forms
    /// (4..=1024; default 32)
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,

    #[command(flatten)]
    pub format: Format,

    #[command(flatten)]
    pub quiet: Quiet,
}

/// The y axis.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum YAxis {
    /// μ₂ of the multiplicative noise
    Mu2,
    /// bias variance σ_b²
    SigmaB2,
}

pub fn run(args: &PhaseArgs, out: &mut impl Write) -> Result<()> {
    let request = PhaseRequest {
        network: args.net.params(),
        y: match args.y {
            YAxis::Mu2 => PhaseAxis::Mu2,
            YAxis::SigmaB2 => PhaseAxis::SigmaB2,
        },
        x_range: args.x_range,
        y_range: args.y_range,
        log_y: args.log_y,
        q0: args.q0.q0,
        depth_multiplier: args.k.depth_multiplier,
        contours: args.contours.clone(),
        color: args.color.clone(),
        png: args.png.clone(),
        nodes: args.nodes,
    };
    let rec = run_op::<Phase>(&request, &Bar::new(args.quiet.quiet))?;
    let (d, y_axis, activation) = (&rec.diagram, request.y, &rec.activation);
    if args.format.csv {
        return print_csv(out, &d.cells);
    }
    if args.format.json {
        return print_record(out, rec);
    }
    let mut r = Report::default();
    let yname = match y_axis {
        PhaseAxis::Mu2 => "μ₂",
        PhaseAxis::SigmaB2 => "σ_b²",
    };
    r.section(&format!(
        "phase diagram of {activation} with noise {}: {} × {} cells",
        rec.noise,
        d.x.len(),
        d.y.len()
    ));
    let span = |v: &[f64]| match v {
        [one] => g(*one),
        [first, .., last] => format!("{} … {}", g(*first), g(*last)),
        [] => "none".into(),
    };
    r.row("σ_w²", span(&d.x));
    r.row(yname, span(&d.y));
    let mut regimes: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in &d.cells {
        *regimes.entry(c.regime.name()).or_default() += 1;
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
