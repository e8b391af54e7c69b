//! `noisyprop variance-depth`: Figure 6(a)/(d).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use noisyprop_ops::form::Range;
use noisyprop_ops::variance_depth::{VarianceDepth, VarianceDepthRequest};

use crate::args::{DataArgs, Json, Quiet, Seed, run_op};
use crate::output::{g, opt, print_record};
use crate::progress::Bar;

/// Push real images through deep random noisy ReLU networks in f32 over a
/// σ_w² sweep and report, per σ_w², the first layer whose variance leaves the
/// f32 range beside the theory's L* (paper Figure 6a/d); writes CSV, JSON and
/// a PNG heat map of ln q^l with the L* curve
#[derive(Debug, Args)]
pub struct VarianceDepthArgs {
    #[command(flatten)]
    pub data: DataArgs,

    /// Multiplicative noise on every layer's input (and the pixels)
    #[arg(
        long,
        short = 'n',
        default_values_t = VarianceDepthRequest::default().noise,
        value_name = "SPEC"
    )]
    pub noise: Vec<String>,

    /// σ_w² grid, MIN:MAX:N
    #[arg(
        long = "sigma-w2-range",
        default_value_t = VarianceDepthRequest::default().sigma_w2_range,
        value_name = "MIN:MAX:N"
    )]
    pub sigma_w2: Range,

    /// Deepest layer computed
    #[arg(long = "max-depth", default_value_t = VarianceDepthRequest::default().max_depth, value_name = "L")]
    pub max_depth: usize,

    /// Width of every hidden layer
    #[arg(long, default_value_t = VarianceDepthRequest::default().width, value_name = "N")]
    pub width: usize,

    /// Images pushed through each network (the paper used all 60 000)
    #[arg(long, default_value_t = VarianceDepthRequest::default().examples, value_name = "N")]
    pub examples: usize,

    #[command(flatten)]
    pub seed: Seed,

    /// Output directory for CSV, JSON and PNG
    #[arg(
        long,
        short = 'o',
        default_value_os_t = VarianceDepthRequest::default().out,
        value_name = "DIR"
    )]
    pub out: PathBuf,

    #[command(flatten)]
    pub json: Json,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &VarianceDepthArgs, out: &mut impl Write) -> Result<()> {
    let request = VarianceDepthRequest {
        data: args.data.params(),
        noise: args.noise.clone(),
        sigma_w2_range: args.sigma_w2,
        max_depth: args.max_depth,
        width: args.width,
        examples: args.examples,
        seed: args.seed.seed,
        out: args.out.clone(),
    };
    let rec = run_op::<VarianceDepth>(&request, &Bar::new(args.quiet.quiet))?;
    if args.json.json {
        return print_record(out, rec);
    }
    writeln!(
        out,
        "variance depth of {} ({} images), noise {}, width {}",
        rec.dataset, rec.examples, rec.noise, rec.width
    )?;
    writeln!(
        out,
        "{:>6}  {:>22}  {:>14}  {:>12}  {:>20}",
        "σ_w²", "variance leaves f32", "theory (D9)", "paper L*", "an activation leaves"
    )?;
    for r in &rec.sigma_w2 {
        let exit = match (r.first_unstable_layer, r.overflow) {
            (Some(l), Some(true)) => format!("{l} (overflow)"),
            (Some(l), _) => format!("{l} (underflow)"),
            (None, _) => format!("never (≤ {})", rec.max_depth),
        };
        writeln!(
            out,
            "{:>6}  {:>22}  {:>14}  {:>12}  {:>20}",
            g(r.sigma_w2),
            exit,
            opt(r.theory_depth, "∞"),
            opt(r.paper_theory_depth, "∞"),
            r.first_element_exit_layer
                .map_or_else(|| "never".to_string(), |l| l.to_string())
        )?;
    }
    for f in &rec.files {
        writeln!(out, "wrote {}", f.display())?;
    }
    Ok(())
}
