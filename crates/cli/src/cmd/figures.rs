//! `noisyprop figures`: regenerate the paper's simulated Figures 2–5.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use noisyprop_ops::figures::{Figures, FiguresRequest};

use crate::args::{Json, Quiet, Seed, run_op};
use crate::output::print_record;
use crate::progress::Bar;

/// Regenerate the data (CSV) and PNG of the paper's Figures 2, 3, 4 and 5
/// with the original settings: theory as lines, simulation as points with
/// ±1 std bands; Figure 5 fits ξ_c to the simulated correlations
#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Figures to make (comma separated: 2,3,4,5)
    #[arg(
        long = "fig",
        value_delimiter = ',',
        default_values_t = FiguresRequest::default().fig,
        value_name = "N"
    )]
    pub figures: Vec<u8>,

    /// Output directory
    #[arg(long, short = 'o', default_value_os_t = FiguresRequest::default().out, value_name = "DIR")]
    pub out: PathBuf,

    /// Width of every layer (paper: 1000)
    #[arg(long, default_value_t = FiguresRequest::default().width, value_name = "N")]
    pub width: usize,

    /// Networks per setting (paper: 50)
    #[arg(long, default_value_t = FiguresRequest::default().networks, value_name = "N")]
    pub networks: usize,

    /// Partners per base input in Figures 4(b) and 5 (paper: 100)
    #[arg(long, default_value_t = FiguresRequest::default().partners, value_name = "N")]
    pub partners: usize,

    #[command(flatten)]
    pub seed: Seed,

    #[command(flatten)]
    pub json: Json,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &FiguresArgs, out: &mut impl Write) -> Result<()> {
    let request = FiguresRequest {
        fig: args.figures.clone(),
        out: args.out.clone(),
        width: args.width,
        networks: args.networks,
        partners: args.partners,
        seed: args.seed.seed,
    };
    let rec = run_op::<Figures>(&request, &Bar::new(args.quiet.quiet))?;
    if args.json.json {
        return print_record(out, rec);
    }
    let reports = &rec.figures;
    for r in reports {
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
