//! `noisyprop figures`: regenerate the paper's simulated Figures 2–5.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use noisyprop_experiments::figs::{self, FigOptions};
use noisyprop_experiments::record::FiguresRecord;

use crate::args::{Json, Quiet, Seed, Width};
use crate::output::print_record;
use crate::progress::Progress;

/// Regenerate the data (CSV) and PNG of the paper's Figures 2, 3, 4 and 5
/// with the original settings: theory as lines, simulation as points with
/// ±1 std bands; Figure 5 fits ξ_c to the simulated correlations
#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Figures to make (comma separated: 2,3,4,5)
    #[arg(
        long = "fig",
        value_delimiter = ',',
        default_value = "2,3,4,5",
        value_name = "N"
    )]
    pub figures: Vec<u8>,

    /// Output directory
    #[arg(long, short = 'o', default_value = "figures", value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub width: Width,

    /// Networks per setting (paper: 50)
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub networks: usize,

    /// Partners per base input in Figures 4(b) and 5 (paper: 100)
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub partners: usize,

    #[command(flatten)]
    pub seed: Seed,

    #[command(flatten)]
    pub json: Json,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &FiguresArgs, out: &mut impl Write) -> Result<()> {
    for &f in &args.figures {
        if !(2..=5).contains(&f) {
            bail!(
                "--fig {f} is out of range; valid figures are 2, 3, 4, 5 (Figure 6 is `variance-depth` and `trainable-depth`)"
            );
        }
    }
    let opts = FigOptions {
        out_dir: args.out.clone(),
        width: args.width.width,
        networks: args.networks,
        partners: args.partners,
        seed: args.seed.seed,
    };
    opts.validate()?;
    let total: u64 = args
        .figures
        .iter()
        .map(|&f| figs::simulation_count(f, &opts))
        .sum();
    let progress = Progress::new(total, "networks", args.quiet.quiet);
    let mut reports = Vec::new();
    for &f in &args.figures {
        reports.push(figs::run(f, &opts, &|| progress.inc())?);
    }
    progress.finish();
    if args.json.json {
        return print_record(out, FiguresRecord { figures: reports });
    }
    for r in &reports {
        writeln!(out, "Figure {}", r.figure)?;
        for n in &r.notes {
            writeln!(out, "  {n}")?;
        }
        for f in &r.files {
            writeln!(out, "  wrote {}", f.display())?;
        }
    }
    Ok(())
}
