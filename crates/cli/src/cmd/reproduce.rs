//! `noisyprop reproduce`: the whole paper, judged claim by claim, as a
//! report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use noisyprop_experiments::reproduce::{
    Hooks, Part, ReproduceOptions, Verdict, fmt_seconds, reproduce, units,
};
use noisyprop_experiments::training::Preset;

use crate::Outcome;
use crate::args::{DataArgs, DeviceArgs, Json, Quiet, Seed};
use crate::output::print_record;
use crate::progress::Progress;

/// Reproduce the paper: the critical-initialisation and depth-scale tables,
/// Figures 2–5 by simulation and Figure 6 on real data, each claim checked
/// against the paper's number. Writes DIR/report.html (self-contained) and
/// DIR/report.json; a rerun reuses finished parts and grid cells. Exit
/// status 1 when a claim fails
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// quick (small widths, the embedded MNIST subset: minutes on 2 cores)
    /// or paper (the paper's settings: hours)
    #[arg(long, default_value = "quick", value_name = "NAME")]
    pub preset: Preset,

    /// Output directory
    #[arg(long, short = 'o', default_value = "reproduction", value_name = "DIR")]
    pub out: PathBuf,

    /// Parts to run, comma separated: tables, fig2, fig3, fig4, fig5,
    /// variance-depth, trainable-depth [default: all]
    #[arg(long, value_delimiter = ',', value_name = "PARTS")]
    pub parts: Option<Vec<Part>>,

    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub device: DeviceArgs,

    #[command(flatten)]
    pub seed: Seed,

    #[command(flatten)]
    pub json: Json,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &ReproduceArgs, out: &mut impl Write) -> Result<Outcome> {
    let mut parts = args.parts.clone().unwrap_or_else(|| Part::ALL.to_vec());
    parts.sort();
    parts.dedup();
    let opts = ReproduceOptions {
        preset: args.preset,
        out: args.out.clone(),
        data: args.data.choice()?,
        parts,
        seed: args.seed.seed,
    };
    let device = args.device.device()?.open()?;
    let total: u64 = opts.parts.iter().map(|&p| units(p, &opts)).sum();
    let progress = Progress::staged(total, args.quiet.quiet);
    let report = reproduce(
        &opts,
        &device,
        &Hooks {
            part: &|p| progress.stage(p.title()),
            tick: &|| progress.inc(),
        },
    )?;
    progress.finish();
    let outcome = if report.counts.fail > 0 || report.failed_parts > 0 {
        Outcome::Negative
    } else {
        Outcome::Success
    };
    if args.json.json {
        print_record(out, report)?;
        return Ok(outcome);
    }
    writeln!(
        out,
        "{:<58}  {:>5}  {:>5}  {:>5}  {:>9}",
        "part", "PASS", "FAIL", "info", "time"
    )?;
    for p in &report.parts {
        let time = match (&p.error, p.reused) {
            (Some(_), _) => "failed".to_string(),
            (None, true) => "reused".to_string(),
            (None, false) => fmt_seconds(p.seconds),
        };
        writeln!(
            out,
            "{:<58}  {:>5}  {:>5}  {:>5}  {:>9}",
            p.title, p.counts.pass, p.counts.fail, p.counts.info, time
        )?;
    }
    let c = report.counts;
    writeln!(
        out,
        "{} claims: {} PASS, {} FAIL, {} info",
        c.pass + c.fail + c.info,
        c.pass,
        c.fail,
        c.info
    )?;
    for p in &report.parts {
        if let Some(e) = &p.error {
            writeln!(out, "{} did not run: {e}", p.part)?;
        }
        for claim in p.claims.iter().filter(|c| c.verdict == Verdict::Fail) {
            writeln!(
                out,
                "FAIL {}: paper {}, ours {} ({})",
                claim.id, claim.paper, claim.ours, claim.rule
            )?;
        }
    }
    writeln!(
        out,
        "wrote {} and {}",
        args.out.join("report.html").display(),
        args.out.join("report.json").display()
    )?;
    Ok(outcome)
}
