//! `noisyprop critical`: the critical initialisation of several activations,
//! noises and bias variances at once, each with its kind.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_experiments::record::CriticalTableRecord;
use noisyprop_ops::Quiet;
use noisyprop_ops::critical::{Critical, CriticalRequest};
use noisyprop_theory::CriticalRow;

use crate::args::{Format, IntegrationArgs, run_op};
use crate::output::{g, opt, print_csv, print_record};

/// A table of critical initialisations: for each activation, noise and σ_b²,
/// the critical σ_w², its fixed point q* and its kind — every-q (ReLU
/// family), stable (χ₁ = 1 at a stable q* > 0), zero-from-above (q* = 0,
/// approached slowly), or none (with where the edge of chaos starts)
#[derive(Debug, Args)]
pub struct CriticalArgs {
    /// Activations, comma separated (default: relu, leaky-relu:slope=0.01,
    /// elu, selu, gelu, silu, tanh, erf, softplus)
    #[arg(
        long = "activations",
        short = 'a',
        value_delimiter = ',',
        value_name = "NAMES"
    )]
    pub activations: Vec<String>,

    /// Noises, separated by `;` (a stack inside one is `A, then B`)
    #[arg(
        long = "noises",
        short = 'n',
        value_delimiter = ';',
        default_values_t = CriticalRequest::default().noises,
        value_name = "SPECS"
    )]
    pub noises: Vec<String>,

    /// Bias variances σ_b², comma separated
    #[arg(
        long = "sigma-b2s",
        value_delimiter = ',',
        default_values_t = CriticalRequest::default().sigma_b2s,
        value_name = "Y"
    )]
    pub sigma_b2s: Vec<f64>,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub format: Format,
}

pub fn run(args: &CriticalArgs, out: &mut impl Write) -> Result<()> {
    let request = CriticalRequest {
        activations: args.activations.clone(),
        noises: args.noises.clone(),
        sigma_b2s: args.sigma_b2s.clone(),
        integration: args.integration.params(),
    };
    let rows = run_op::<Critical>(&request, &Quiet)?.rows;
    if args.format.csv {
        return print_csv(out, &rows);
    }
    if args.format.json {
        return print_record(out, CriticalTableRecord { rows });
    }
    // Columns as wide as their longest entry (stacked noises are long).
    let width =
        |f: &dyn Fn(&CriticalRow) -> usize, min: usize| rows.iter().map(f).fold(min, usize::max);
    let aw = width(&|r| r.activation.to_string().chars().count(), 10);
    let nw = width(&|r| r.noise.chars().count(), 5);
    writeln!(
        out,
        "{:<aw$}  {:<nw$}  {:>5}  {:<15}  {:>9}  {:>9}",
        "activation", "noise", "σ_b²", "kind", "σ_w²", "q*"
    )?;
    for r in &rows {
        let edge = r
            .edge_of_chaos_sigma_b2
            .map(|y| format!("  (edge of chaos from σ_b² = {})", g(y)))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<aw$}  {:<nw$}  {:>5}  {:<15}  {:>9}  {:>9}{edge}",
            r.activation.to_string(),
            r.noise,
            g(r.sigma_b2),
            r.kind.name(),
            opt(r.sigma_w2, "-"),
            opt(r.q_star, "-"),
        )?;
    }
    writeln!(out)?;
    for kind in [
        noisyprop_theory::CriticalKind::EveryQ,
        noisyprop_theory::CriticalKind::Stable,
        noisyprop_theory::CriticalKind::Zero,
        noisyprop_theory::CriticalKind::None,
    ] {
        if rows.iter().any(|r| r.kind == kind) {
            writeln!(out, "{}: {}", kind.name(), kind.meaning())?;
        }
    }
    Ok(())
}
