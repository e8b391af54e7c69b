//! `noisyprop reproduce`: the whole paper, judged claim by claim, as a
//! report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};

use noisyprop_experiments::grid::Shard;
use noisyprop_experiments::reproduce::slurm::{SlurmOptions, render, submit};
use noisyprop_experiments::reproduce::{
    Hooks, Mode, Part, ReproduceOptions, Verdict, fmt_seconds, pending, reproduce, units,
};
use noisyprop_experiments::training::Device;
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

    /// Where the work runs: local (this machine) or slurm (an sbatch job
    /// array of --slurm-array-size shards into the shared --out directory,
    /// then a report job)
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,

    /// Array tasks of a Slurm run (each takes about 1/N of the work)
    #[arg(long = "slurm-array-size", default_value_t = 8, value_name = "N")]
    pub slurm_array_size: usize,

    /// Slurm partition
    #[arg(long = "slurm-partition", value_name = "P")]
    pub slurm_partition: Option<String>,

    /// Slurm time limit per array task, e.g. 02:00:00
    #[arg(long = "slurm-time", value_name = "T")]
    pub slurm_time: Option<String>,

    /// Slurm generic resources per array task, e.g. gpu:1 (with --device cuda)
    #[arg(long = "slurm-gres", value_name = "G")]
    pub slurm_gres: Option<String>,

    /// Print the Slurm scripts instead of submitting them
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Run one shard's share and no report (what each array task runs)
    #[arg(long, value_name = "I/N", conflicts_with_all = ["assemble", "dry_run"])]
    pub shard: Option<Shard>,

    /// Assemble the report of a run of N shards from what they stored,
    /// computing nothing (what the report job runs)
    #[arg(long, value_name = "N", conflicts_with = "dry_run")]
    pub assemble: Option<usize>,

    /// The array job whose logs the report names for missing work
    #[arg(long = "array-job", value_name = "ID", requires = "assemble")]
    pub array_job: Option<String>,

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

/// Where the work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Executor {
    /// This machine
    Local,
    /// A Slurm job array
    Slurm,
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
    let device_choice = args.device.device()?;
    let mode = match (args.shard, args.assemble) {
        (Some(s), _) => Mode::Shard(s),
        (None, Some(0)) => bail!("--assemble 0 is out of range; valid range is [1, inf)"),
        (None, Some(n)) => Mode::Assemble {
            shards: n,
            array_job: args.array_job.clone(),
        },
        (None, None) => Mode::Full,
    };
    if args.executor == Executor::Slurm {
        if mode != Mode::Full {
            bail!(
                "--executor slurm submits the shards and the report itself; drop --shard/--assemble"
            );
        }
        if let Some(done) = slurm(args, &opts, device_choice, out)? {
            return Ok(done);
        }
    } else if args.dry_run {
        bail!("--dry-run prints the Slurm scripts; add --executor slurm");
    }
    let device = device_choice.open()?;
    let total: u64 = opts.parts.iter().map(|&p| units(p, &opts)).sum();
    let progress = Progress::staged(total, args.quiet.quiet);
    let report = reproduce(
        &opts,
        &mode,
        &device,
        &Hooks {
            part: &|p| progress.stage(p.title()),
            tick: &|| progress.inc(),
        },
    )?;
    progress.finish();
    let Some(report) = report else {
        writeln!(
            out,
            "shard {} done: its parts stored under {}",
            args.shard.map(|s| s.to_string()).unwrap_or_default(),
            args.out.join("parts").display()
        )?;
        return Ok(Outcome::Success);
    };
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

/// `--executor slurm`: prints (--dry-run) or submits the scripts; when
/// nothing is left to compute, submits nothing and returns `None` so the
/// report is assembled here.
fn slurm(
    args: &ReproduceArgs,
    opts: &ReproduceOptions,
    device: Device,
    out: &mut impl Write,
) -> Result<Option<Outcome>> {
    if args.slurm_array_size == 0 {
        bail!("--slurm-array-size 0 is out of range; valid range is [1, 1000]");
    }
    if args.slurm_array_size > 1000 {
        bail!(
            "--slurm-array-size {} is out of range; valid range is [1, 1000] (Slurm's default MaxArraySize is 1001)",
            args.slurm_array_size
        );
    }
    let scripts = render(
        opts,
        &SlurmOptions {
            array_size: args.slurm_array_size,
            partition: args.slurm_partition.clone(),
            time: args.slurm_time.clone(),
            gres: args.slurm_gres.clone(),
        },
        device,
        &std::env::current_exe()?,
    );
    if args.dry_run {
        writeln!(out, "# {}/slurm/reproduce-array.sbatch", args.out.display())?;
        write!(out, "{}", scripts.array)?;
        writeln!(
            out,
            "\n# {}/slurm/reproduce-report.sbatch (submitted with --dependency=afterany:<array job> and the array job id as $1)",
            args.out.display()
        )?;
        write!(out, "{}", scripts.report)?;
        return Ok(Some(Outcome::Success));
    }
    let left = pending(opts)?;
    if left.is_empty() {
        writeln!(
            out,
            "nothing to submit: every part and grid cell is done; assembling the report here"
        )?;
        return Ok(None);
    }
    let s = submit(opts, &scripts)?;
    writeln!(
        out,
        "submitted array job {} ({} tasks: {} part(s), {} grid cell(s) to compute) and report job {} (after it)",
        s.array_job,
        args.slurm_array_size,
        left.parts.len(),
        left.cells,
        s.report_job
    )?;
    writeln!(
        out,
        "scripts: {}, {}",
        s.scripts[0].display(),
        s.scripts[1].display()
    )?;
    writeln!(
        out,
        "logs in {}; the report will be {}",
        args.out.join("slurm").join("logs").display(),
        args.out.join("report.html").display()
    )?;
    Ok(Some(Outcome::Success))
}
