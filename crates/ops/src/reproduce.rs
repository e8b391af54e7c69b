//! `reproduce`: the whole paper judged claim by claim into a report
//! (report.html, report.json) — here on this machine ([`Reproduce`]), as one
//! shard of a cluster run ([`run_shard`]), or submitted to Slurm as an
//! array of shards and a report job ([`submit_slurm`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::figs;
use noisyprop_experiments::grid::Shard;
use noisyprop_experiments::reproduce::slurm::{Scripts, SlurmOptions, Submitted, render, submit};
use noisyprop_experiments::reproduce::{
    Hooks, Mode, Part, Pending, Report, ReproduceOptions, fig_options, pending, reproduce, units,
};
use noisyprop_experiments::training::{Device, Preset};

use crate::recipe::{DataParams, DeviceParams, parse, parse_opt};
use crate::{Error, Hint, Observer, Operation, form};

/// What `reproduce` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReproduceRequest {
    /// quick (small widths, the embedded MNIST subset: minutes on 2 cores),
    /// paper (the paper's settings: hours) or smoke (seconds, for tests).
    pub preset: String,
    /// Output directory.
    pub out: PathBuf,
    /// Parts to run: tables, fig2, fig3, fig4, fig5, variance-depth,
    /// trainable-depth; empty for all.
    #[serde(deserialize_with = "form::strings")]
    pub parts: Vec<String>,
    /// Where the work runs: local (this machine) or slurm (an sbatch job
    /// array of `slurm_array_size` shards into `out`, then a report job).
    pub executor: String,
    /// Array tasks of a Slurm run (each takes about 1/N of the work).
    pub slurm_array_size: usize,
    /// Slurm partition.
    pub slurm_partition: Option<String>,
    /// Slurm time limit per array task, e.g. 02:00:00.
    pub slurm_time: Option<String>,
    /// Slurm generic resources per array task, e.g. gpu:1.
    pub slurm_gres: Option<String>,
    /// Give the Slurm scripts instead of submitting them.
    pub dry_run: bool,
    /// Run one shard's share and no report (`I/N`: what each array task
    /// runs).
    pub shard: Option<String>,
    /// Assemble the report of a run of N shards from what they stored,
    /// computing nothing (what the report job runs).
    pub assemble: Option<usize>,
    /// The array job whose logs the report names for missing work.
    pub array_job: Option<String>,
    /// The data of Figure 6.
    #[serde(flatten)]
    pub data: DataParams,
    /// The device of Figure 6's training.
    #[serde(flatten)]
    pub device: DeviceParams,
    /// Base seed of every random part.
    pub seed: u64,
}

impl Default for ReproduceRequest {
    fn default() -> Self {
        ReproduceRequest {
            preset: Preset::Quick.to_string(),
            out: "reproduction".into(),
            parts: Vec::new(),
            executor: "local".into(),
            slurm_array_size: 8,
            slurm_partition: None,
            slurm_time: None,
            slurm_gres: None,
            dry_run: false,
            shard: None,
            assemble: None,
            array_job: None,
            data: DataParams::default(),
            device: DeviceParams::default(),
            seed: 0,
        }
    }
}

/// Where a reproduction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    /// This machine.
    Local,
    /// A Slurm job array.
    Slurm,
}

impl ReproduceRequest {
    /// Where the work runs.
    ///
    /// # Errors
    /// Neither `local` nor `slurm`; Slurm-only settings with `local`.
    pub fn executor(&self) -> Result<Executor, Error> {
        let executor = match self.executor.trim().to_ascii_lowercase().as_str() {
            "local" => Executor::Local,
            "slurm" => Executor::Slurm,
            _ => {
                return Err(Error::out_of_range(
                    "executor",
                    format!("`{}`", self.executor),
                    "local or slurm",
                ));
            }
        };
        if executor == Executor::Local && self.dry_run {
            return Err(Error::invalid(
                "dry_run",
                "gives the Slurm scripts, which only the slurm executor writes",
            )
            .with_hint(Hint::DryRunNeedsSlurm));
        }
        Ok(executor)
    }

    /// The library's options, the device and the mode, all checked before
    /// any work.
    fn resolve(&self) -> Result<(ReproduceOptions, Device, Mode), Error> {
        let mut parts: Vec<Part> = if self.parts.is_empty() {
            Part::ALL.to_vec()
        } else {
            // `tables,fig2` as on a command line, or one part per entry.
            self.parts
                .iter()
                .flat_map(|p| p.split(','))
                .map(|p| parse("parts", p.trim()))
                .collect::<Result<_, _>>()?
        };
        parts.sort();
        parts.dedup();
        let opts = ReproduceOptions {
            preset: parse("preset", &self.preset)?,
            out: self.out.clone(),
            data: self.data.choice()?,
            parts,
            seed: self.seed,
        };
        let device = self.device.device()?;
        let shard: Option<Shard> = parse_opt("shard", &self.shard)?;
        let mode = match (shard, self.assemble) {
            (Some(s), _) => Mode::Shard(s),
            (None, Some(0)) => return Err(Error::out_of_range("assemble", 0, "[1, inf)")),
            (None, Some(n)) => Mode::Assemble {
                shards: n,
                array_job: self.array_job.clone(),
            },
            (None, None) => Mode::Full,
        };
        if self.executor()? == Executor::Slurm && mode != Mode::Full {
            return Err(Error::invalid(
                "executor",
                "slurm submits the shards and the report itself: a run with shard or assemble runs locally",
            ));
        }
        Ok((opts, device, mode))
    }
}

/// Runs `mode` of the reproduction with progress on `observer`.
fn run_mode(
    opts: &ReproduceOptions,
    device: Device,
    mode: &Mode,
    observer: &dyn Observer,
) -> Result<Option<Report>, Error> {
    let device = device.open()?;
    if opts.parts.contains(&Part::Fig5)
        && let Some(w) = figs::fig5_warning(&fig_options(opts, Part::Fig5))
    {
        observer.warn(&w);
    }
    let total: u64 = opts.parts.iter().map(|&p| units(p, opts)).sum();
    observer.start(total, "units");
    let report = reproduce(
        opts,
        mode,
        &device,
        &Hooks {
            part: &|p| {
                observer.stage(p.title());
                !observer.stop_requested()
            },
            tick: &|n| {
                observer.advance_by(n);
                !observer.stop_requested()
            },
            finished: &|r| observer.finished(&r.summary()),
        },
    );
    observer.finish();
    Ok(report?)
}

/// The `reproduce` command on this machine: every part (finished parts and
/// grid cells of an earlier run reused), or the report assembled from the
/// shards of a cluster run.
pub struct Reproduce;

impl Operation for Reproduce {
    const NAME: &'static str = "reproduce";
    type Request = ReproduceRequest;
    type Record = Report;
    const LONG_RUNNING: bool = true;
    const ALIASES: &'static [(&'static str, &'static str)] = &[("part", "parts")];

    fn run(r: &ReproduceRequest, observer: &dyn Observer) -> Result<Report, Error> {
        let (opts, device, mode) = r.resolve()?;
        if r.executor()? == Executor::Slurm {
            return Err(Error::invalid(
                "executor",
                "slurm submits jobs rather than making the report here: use submit_slurm",
            ));
        }
        if let Mode::Shard(_) = mode {
            return Err(Error::invalid(
                "shard",
                "a shard stores its share and makes no report: use run_shard",
            ));
        }
        run_mode(&opts, device, &mode, observer)?
            .ok_or_else(|| Error::invalid("shard", "the run made no report (it ran as a shard)"))
    }
}

/// One shard's share of a cluster run, stored under `out/parts` (and the
/// grid's cell store); no report. Returns the shard.
///
/// # Errors
/// As [`Reproduce`]; no `shard` in the request.
pub fn run_shard(r: &ReproduceRequest, observer: &dyn Observer) -> Result<Shard, Error> {
    let (opts, device, mode) = r.resolve()?;
    let Mode::Shard(shard) = mode else {
        return Err(Error::invalid("shard", "a shard I/N is needed to run one"));
    };
    run_mode(&opts, device, &mode, observer)?;
    Ok(shard)
}

/// What [`submit_slurm`] did.
#[derive(Debug, Clone)]
pub enum SlurmOutcome {
    /// `dry_run`: the scripts it would submit.
    Scripts(Scripts),
    /// Every part and grid cell is done: nothing was submitted (assemble
    /// the report with [`Reproduce`]).
    NothingToDo,
    /// The array job and the report job after it.
    Submitted {
        /// The job ids and scripts.
        jobs: Submitted,
        /// The work left when they were submitted.
        pending: Pending,
    },
}

/// The Slurm executor: the scripts (`dry_run`), or the array of shards and
/// the report job submitted, running `exe` (this program) in each task.
///
/// # Errors
/// A bad request; an array size outside [1, 1000]; `sbatch` failing.
pub fn submit_slurm(r: &ReproduceRequest, exe: &std::path::Path) -> Result<SlurmOutcome, Error> {
    let (opts, device, _) = r.resolve()?;
    if !(1..=1000).contains(&r.slurm_array_size) {
        return Err(Error::out_of_range(
            "slurm_array_size",
            r.slurm_array_size,
            "[1, 1000] (Slurm's default MaxArraySize is 1001)",
        ));
    }
    let scripts = render(
        &opts,
        &SlurmOptions {
            array_size: r.slurm_array_size,
            partition: r.slurm_partition.clone(),
            time: r.slurm_time.clone(),
            gres: r.slurm_gres.clone(),
        },
        device,
        exe,
    );
    if r.dry_run {
        return Ok(SlurmOutcome::Scripts(scripts));
    }
    let left = pending(&opts)?;
    if left.is_empty() {
        return Ok(SlurmOutcome::NothingToDo);
    }
    Ok(SlurmOutcome::Submitted {
        jobs: submit(&opts, &scripts)?,
        pending: left,
    })
}
