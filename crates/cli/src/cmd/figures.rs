//! `noisyprop figures`: regenerate the paper's simulated Figures 2–5.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use noisyprop_experiments::figs::{self, FigOptions, FigureReport};

use crate::output::print_json;
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

    /// Layer width (paper: 1000)
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub width: usize,

    /// Networks per setting (paper: 50)
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub networks: usize,

    /// Partners per base input in Figures 4(b) and 5 (paper: 100)
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub partners: usize,

    /// Seed
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Print the reports as JSON
    #[arg(long)]
    pub json: bool,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,
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
        width: args.width,
        networks: args.networks,
        partners: args.partners,
        seed: args.seed,
    };
    opts.validate()?;
    let total: u64 = args
        .figures
        .iter()
        .map(|&f| figs::simulation_count(f, &opts))
        .sum();
    let progress = Progress::new(total, "networks", args.quiet);
    let mut reports: Vec<FigureReport> = Vec::new();
    for &f in &args.figures {
        reports.push(figs::run(f, &opts, &|| progress.inc())?);
    }
    progress.finish();
    if args.json {
        #[derive(serde::Serialize)]
        struct Reports<'a> {
            figures: &'a [FigureReport],
        }
        return print_json(out, "figures", &Reports { figures: &reports });
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
