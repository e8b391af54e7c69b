//! `noisyprop trajectory`: q^l and c^l layer by layer, with the backward factors.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use noisyprop_theory::{MeanField, Network};

use crate::args::{IntegrationArgs, NetArgs, mean_field, network};
use crate::output::{g, print_csv, print_json};

/// Theory trajectories of the variance q^l and the correlation c^l of two
/// inputs, and of the back-propagated gradient (spec 2.1, 2.7, 2.11)
#[derive(Debug, Args)]
pub struct TrajectoryArgs {
    #[command(flatten)]
    pub net: NetArgs,

    /// Number of layers
    #[arg(long, short = 'L', default_value_t = 30, value_name = "L")]
    pub depth: usize,

    /// Input variance q⁰ (both inputs)
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "Q",
        allow_negative_numbers = true
    )]
    pub q0: f64,

    /// Input correlation c⁰
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub c0: f64,

    /// Correlation of the two inputs' gradients at the top layer
    #[arg(
        long = "top-grad-correlation",
        default_value_t = 1.0,
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub top_grad_correlation: f64,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub format: crate::args::Format,
}

/// One layer of a trajectory.
#[derive(Debug, Serialize)]
pub struct TrajectoryLayer {
    pub layer: usize,
    pub q: f64,
    pub c: f64,
    /// χ₁ at q^l: factor of the gradient's second moment from layer l+1 to l.
    pub chi_1: f64,
    /// E[(δ^l)²] relative to the top layer.
    pub grad_second_moment: f64,
    /// Correlation of the two inputs' gradients at layer l.
    pub grad_correlation: f64,
}

#[derive(Serialize)]
struct TrajectoryRecord<'a> {
    activation: String,
    noise: String,
    sigma_w2: f64,
    sigma_b2: f64,
    q0: f64,
    c0: f64,
    depth: usize,
    layers: &'a [TrajectoryLayer],
}

/// The theory trajectory of `net` (library calls only).
pub fn layers(
    mf: &MeanField,
    q0: f64,
    c0: f64,
    depth: usize,
    top_grad_correlation: f64,
) -> Vec<TrajectoryLayer> {
    let fwd = mf.correlation_trajectory(q0, c0, depth);
    let grad = mf.gradient_trajectory(&fwd, top_grad_correlation);
    fwd.iter()
        .zip(&grad)
        .enumerate()
        .map(|(l, (&(q, c), gl))| TrajectoryLayer {
            layer: l,
            q,
            c,
            chi_1: mf.chi_1(q),
            grad_second_moment: gl.second_moment,
            grad_correlation: gl.correlation,
        })
        .collect()
}

pub fn run(args: &TrajectoryArgs, out: &mut impl Write) -> Result<()> {
    if !(args.q0 > 0.0 && args.q0.is_finite()) {
        bail!("--q0 {} is out of range; valid range is (0, inf)", args.q0);
    }
    for (flag, c) in [
        ("--c0", args.c0),
        ("--top-grad-correlation", args.top_grad_correlation),
    ] {
        if !(-1.0..=1.0).contains(&c) {
            bail!("{flag} {c} is out of range; valid range is [-1, 1]");
        }
    }
    if args.depth > 1_000_000 {
        bail!(
            "--depth {} is out of range; valid range is [0, 1000000]",
            args.depth
        );
    }
    let integration = args.integration.integration()?;
    let (net, _): (Network, _) = network(&args.net, integration)?;
    let mf = mean_field(&net, integration);
    let rows = layers(&mf, args.q0, args.c0, args.depth, args.top_grad_correlation);
    if args.format.csv {
        return print_csv(out, &rows);
    }
    if args.format.json {
        let rec = TrajectoryRecord {
            activation: net.activation().spec(),
            noise: net.noise().to_string(),
            sigma_w2: net.sigma_w2(),
            sigma_b2: net.sigma_b2(),
            q0: args.q0,
            c0: args.c0,
            depth: args.depth,
            layers: &rows,
        };
        return print_json(out, "trajectory", &rec);
    }
    writeln!(
        out,
        "{} with noise {}, σ_w² = {}, σ_b² = {}",
        net.activation(),
        net.noise(),
        g(net.sigma_w2()),
        g(net.sigma_b2())
    )?;
    writeln!(
        out,
        "{:>5}  {:>12}  {:>10}  {:>10}  {:>14}  {:>12}",
        "layer", "q", "c", "χ₁", "grad E[δ²]", "grad corr"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:>5}  {:>12}  {:>10}  {:>10}  {:>14}  {:>12}",
            r.layer,
            g(r.q),
            g(r.c),
            g(r.chi_1),
            g(r.grad_second_moment),
            g(r.grad_correlation)
        )?;
    }
    Ok(())
}
