//! `noisyprop variance-depth`: Figure 6(a)/(d).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use noisyprop_experiments::variance_depth::{
    SummaryRow, VarianceDepthSpec, variance_depth, write_outputs,
};
use noisyprop_theory::Noise;

use crate::cmd::phase::GridArg;
use crate::data::DataArgs;
use crate::output::{g, opt, print_json};
use crate::progress::Progress;

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
        default_value = "dropout:keep=0.6",
        value_name = "SPEC"
    )]
    pub noise: Vec<String>,

    /// σ_w² grid, MIN:MAX:N
    #[arg(
        long = "sigma-w2-range",
        default_value = "0.1:2.5:25",
        value_name = "MIN:MAX:N"
    )]
    pub sigma_w2: GridArg,

    /// Deepest layer computed
    #[arg(long = "max-depth", default_value_t = 1000, value_name = "L")]
    pub max_depth: usize,

    /// Width of every layer
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub width: usize,

    /// Images pushed through each network (the paper used all 60 000)
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub examples: usize,

    /// Seed
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Output directory for CSV, JSON and PNG
    #[arg(
        long,
        short = 'o',
        default_value = "variance-depth",
        value_name = "DIR"
    )]
    pub out: PathBuf,

    /// Print the per-σ_w² summary as JSON
    #[arg(long)]
    pub json: bool,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Serialize)]
struct Record<'a> {
    dataset: &'a str,
    examples: usize,
    noise: String,
    width: usize,
    max_depth: usize,
    sigma_w2: Vec<SummaryRow>,
    files: Vec<PathBuf>,
}

pub fn run(args: &VarianceDepthArgs, out: &mut impl Write) -> Result<()> {
    if args.examples == 0 {
        bail!("--examples 0 is out of range; valid range is [1, inf)");
    }
    let grid = args.sigma_w2.values();
    let noise = Noise::parse_all(&args.noise)?;
    let prepared = args.data.prepare(args.seed, 0.0, Some(args.examples))?;
    let spec = VarianceDepthSpec {
        noise,
        sigma_w2: grid?,
        max_depth: args.max_depth,
        width: args.width,
        batch: 128,
        seed: args.seed,
    };
    let progress = Progress::new(spec.sigma_w2.len() as u64, "σ_w² values", args.quiet);
    let x = &prepared.train;
    let rows = variance_depth(&spec, &x.x, x.dim, &|| progress.inc())?;
    progress.finish();
    let files = write_outputs(&args.out, &spec, &rows, &args.data.dataset, x.n)?;
    let rec = Record {
        dataset: &args.data.dataset,
        examples: x.n,
        noise: spec.noise.to_string(),
        width: spec.width,
        max_depth: spec.max_depth,
        sigma_w2: rows.iter().map(|r| r.summary()).collect(),
        files,
    };
    if args.json {
        return print_json(out, "variance_depth", &rec);
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
