//! `noisyprop reproduce`: the whole paper, judged claim by claim, as a
//! report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use noisyprop_experiments::reproduce::{Verdict, fmt_seconds};
use noisyprop_ops::Spelling;
use noisyprop_ops::reproduce::{
    Reproduce, ReproduceRequest, SlurmOutcome, run_shard, submit_slurm,
};

use crate::Outcome;
use crate::args::{DataArgs, DeviceArgs, Json, Quiet, Seed, run_op};
use crate::output::print_record;
use crate::progress::Bar;

/// Reproduce the paper: the critical-initialisation and depth-scale tables,
/// Figures 2–5 by simulation and Figure 6 on real data, each claim checked
/// against the paper's number. Writes DIR/report.html (self-contained) and
/// DIR/report.json; a rerun reuses finished parts and grid cells. Exit
/// status 1 when a claim fails
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// quick (small widths, the embedded MNIST subset: minutes on 2 cores)
    /// or paper (the paper's settings: hours)
    #[arg(long, default_value_t = ReproduceRequest::default().preset, value_name = "NAME")]
    pub preset: String,

    /// Output directory
    #[arg(long, short = 'o', default_value_os_t = ReproduceRequest::default().out, value_name = "DIR")]
    pub out: PathBuf,

    /// Parts to run, comma separated: tables, fig2, fig3, fig4, fig5,
    /// variance-depth, trainable-depth [default: all]
    #[arg(long, value_delimiter = ',', value_name = "PARTS")]
    pub parts: Vec<String>,

    /// Where the work runs: local (this machine) or slurm (an sbatch job
    /// array of --slurm-array-size shards into the shared --out directory,
    /// then a report job)
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,

    /// Array tasks of a Slurm run (each takes about 1/N of the work)
    #[arg(long = "slurm-array-size", default_value_t = ReproduceRequest::default().slurm_array_size, value_name = "N")]
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
    pub shard: Option<String>,

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
    let request = ReproduceRequest {
        preset: args.preset.clone(),
        out: args.out.clone(),
        parts: args.parts.clone(),
        executor: match args.executor {
            Executor::Local => "local".into(),
            Executor::Slurm => "slurm".into(),
        },
        slurm_array_size: args.slurm_array_size,
        slurm_partition: args.slurm_partition.clone(),
        slurm_time: args.slurm_time.clone(),
        slurm_gres: args.slurm_gres.clone(),
        dry_run: args.dry_run,
        shard: args.shard.clone(),
        assemble: args.assemble,
        array_job: args.array_job.clone(),
        data: args.data.params(),
        device: args.device.params(),
        seed: args.seed.seed,
    };
    let cli = |e: noisyprop_ops::Error| anyhow::anyhow!(e.render(Spelling::Cli));
    let bar = Bar::new(args.quiet.quiet);
    if args.executor == Executor::Slurm {
        let exe = std::env::current_exe()?;
        match submit_slurm(&request, &exe).map_err(cli)? {
            SlurmOutcome::NothingToDo => writeln!(
                out,
                "nothing to submit: every part and grid cell is done; assembling the report here"
            )?,
            done => {
                slurm_report(args, &done, out)?;
                return Ok(Outcome::Success);
            }
        }
    } else if request.shard.is_some() {
        let shard = run_shard(&request, &bar).map_err(cli)?;
        writeln!(
            out,
            "shard {shard} done: its parts stored under {}",
            args.out.join("parts").display()
        )?;
        return Ok(Outcome::Success);
    }
    let local = ReproduceRequest {
        executor: "local".into(),
        ..request
    };
    let report = run_op::<Reproduce>(&local, &bar)?;
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
                "FAIL {}: expected {}, ours {} ({})",
                claim.id, claim.expected, claim.ours, claim.rule
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

/// What the Slurm executor did, in words.
fn slurm_report(args: &ReproduceArgs, done: &SlurmOutcome, out: &mut impl Write) -> Result<()> {
    match done {
        SlurmOutcome::Scripts(scripts) => {
            writeln!(out, "# {}/slurm/reproduce-array.sbatch", args.out.display())?;
            write!(out, "{}", scripts.array)?;
            writeln!(
                out,
                "\n# {}/slurm/reproduce-report.sbatch (submitted with --dependency=afterany:<array job> and the array job id as $1)",
                args.out.display()
            )?;
            write!(out, "{}", scripts.report)?;
        }
        SlurmOutcome::Submitted { jobs, pending } => {
            writeln!(
                out,
                "submitted array job {} ({} tasks: {} part(s), {} grid cell(s) to compute) and report job {} (after it)",
                jobs.array_job,
                args.slurm_array_size,
                pending.parts.len(),
                pending.cells,
                jobs.report_job
            )?;
            writeln!(
                out,
                "scripts: {}, {}",
                jobs.scripts[0].display(),
                jobs.scripts[1].display()
            )?;
            writeln!(
                out,
                "logs in {}; the report will be {}",
                args.out.join("slurm").join("logs").display(),
                args.out.join("report.html").display()
            )?;
        }
        SlurmOutcome::NothingToDo => {}
    }
    Ok(())
}
