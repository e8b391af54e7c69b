//! `noisyprop trajectory`: q^l and c^l layer by layer, with the backward factors.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_ops::Quiet;
use noisyprop_ops::trajectory::{Trajectory, TrajectoryRequest};

use crate::args::{Format, IntegrationArgs, NetArgs, Q0, SigmaW2Args, run_op};
use crate::output::{g, print_csv, print_record};

/// Theory trajectories of the variance q^l and the correlation c^l of two
/// inputs, and of the back-propagated gradient (spec 2.1, 2.7, 2.11)
#[derive(Debug, Args)]
pub struct TrajectoryArgs {
    #[command(flatten)]
    pub net: NetArgs,

    #[command(flatten)]
    pub sigma: SigmaW2Args,

    /// Number of layers
    #[arg(long, short = 'L', default_value_t = TrajectoryRequest::default().depth, value_name = "L")]
    pub depth: usize,

    #[command(flatten)]
    pub q0: Q0,

    /// Input correlation c⁰
    #[arg(
        long,
        default_value_t = TrajectoryRequest::default().c0,
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub c0: f64,

    /// Correlation of the two inputs' gradients at the top layer
    #[arg(
        long = "top-grad-correlation",
        default_value_t = TrajectoryRequest::default().top_grad_correlation,
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub top_grad_correlation: f64,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub format: Format,
}

pub fn run(args: &TrajectoryArgs, out: &mut impl Write) -> Result<()> {
    let request = TrajectoryRequest {
        network: args.net.params(),
        sigma_w2: args.sigma.given(),
        depth: args.depth,
        q0: args.q0.q0,
        c0: args.c0,
        top_grad_correlation: args.top_grad_correlation,
        integration: args.integration.params(),
    };
    let rec = run_op::<Trajectory>(&request, &Quiet)?;
    if args.format.csv {
        return print_csv(out, &rec.layers);
    }
    if args.format.json {
        return print_record(out, rec);
    }
    writeln!(
        out,
        "{} with noise {}, σ_w² = {}, σ_b² = {}",
        rec.activation,
        rec.noise,
        g(rec.sigma_w2),
        g(rec.sigma_b2)
    )?;
    writeln!(
        out,
        "{:>5}  {:>12}  {:>10}  {:>10}  {:>14}  {:>12}",
        "layer", "q", "c", "χ₁", "grad E[δ²]", "grad corr"
    )?;
    // Undefined values (a correlation once q has left the f64 range) are
    // printed as "–", and the first such layer is named below the table.
    let cell = |x: f64| if x.is_nan() { "–".to_string() } else { g(x) };
    for r in &rec.layers {
        writeln!(
            out,
            "{:>5}  {:>12}  {:>10}  {:>10}  {:>14}  {:>12}",
            r.layer,
            g(r.q),
            cell(r.c),
            cell(r.chi_1),
            g(r.grad_second_moment),
            cell(r.grad_correlation)
        )?;
    }
    if let Some(r) = rec.layers.iter().find(|r| r.q == 0.0 || r.q.is_infinite()) {
        writeln!(
            out,
            "q {} the f64 range at layer {}: correlations are undefined (–) from there",
            if r.q == 0.0 {
                "underflows"
            } else {
                "overflows"
            },
            r.layer
        )?;
    }
    Ok(())
}
