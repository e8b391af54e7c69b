//! `noisyprop variance-depth`: Figure 6(a)/(d).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use noisyprop_experiments::record::VarianceDepthRecord;
use noisyprop_experiments::variance_depth::{VarianceDepthSpec, variance_depth, write_outputs};
use noisyprop_theory::{Noise, Sweep};

use crate::args::{DataArgs, Json, Quiet, Seed, Width};
use crate::output::{g, opt, print_record};
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
    pub sigma_w2: Sweep,

    /// Deepest layer computed
    #[arg(long = "max-depth", default_value_t = 1000, value_name = "L")]
    pub max_depth: usize,

    #[command(flatten)]
    pub width: Width,

    /// Images pushed through each network (the paper used all 60 000)
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub examples: usize,

    #[command(flatten)]
    pub seed: Seed,

    /// Output directory for CSV, JSON and PNG
    #[arg(
        long,
        short = 'o',
        default_value = "variance-depth",
        value_name = "DIR"
    )]
    pub out: PathBuf,

    #[command(flatten)]
    pub json: Json,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &VarianceDepthArgs, out: &mut impl Write) -> Result<()> {
    if args.examples == 0 {
        bail!("--examples 0 is out of range; valid range is [1, inf)");
    }
    let spec = VarianceDepthSpec {
        noise: Noise::parse_all(&args.noise)?,
        sigma_w2: args.sigma_w2.checked_values("--sigma-w2-range")?,
        max_depth: args.max_depth,
        width: args.width.width,
        batch: 128,
        seed: args.seed.seed,
    };
    spec.validate()?;
    let data = args.data.choice()?;
    let prepared = data.load(args.seed.seed, 0.0, Some(args.examples))?;
    let progress = Progress::new(spec.sigma_w2.len() as u64, "σ_w² values", args.quiet.quiet);
    let x = &prepared.train;
    let rows = variance_depth(&spec, &x.x, x.dim, &|| progress.inc())?;
    progress.finish();
    let files = write_outputs(&args.out, &spec, &rows, data.name.as_str(), x.n)?;
    let rec = VarianceDepthRecord {
        dataset: data.name.to_string(),
        examples: x.n,
        noise: spec.noise.to_string(),
        width: spec.width,
        max_depth: spec.max_depth,
        sigma_w2: rows.iter().map(|r| r.summary()).collect(),
        files,
    };
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
