//! `noisyprop reproduce`: the whole paper re-run and judged claim by claim
//! (docs/paper-spec.md §2.5, §2.10, §3.1–3.6), as `report.json` and a
//! self-contained `report.html`.
//!
//! | module | contents |
//! |---|---|
//! | [`claims`] | [`Claim`], [`Verdict`], the rounding and simulation rules |
//! | [`expected`] | the paper's numbers as printed in the spec |
//! | `parts` | one function per part: the tables, Figures 2–5, Figure 6 |
//! | [`html`] | the HTML page (figures inline, no external resources) |
//! | [`provenance`] | version, git revision, data checksum, wall times |
//! | [`slurm`] | the sbatch array script and the dependent report job |
//!
//! Every part's result is stored under `DIR/parts/` with the settings it was
//! computed for, so a finished run costs nothing to rerun and an
//! interrupted one resumes (the trainable-depth grid resumes cell by cell
//! in its own store, `DIR/trainable-depth/`).

pub mod claims;
pub mod expected;
pub mod html;
mod parts;
pub mod provenance;
pub mod slurm;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use claims::{Claim, Counts, Verdict};
pub use provenance::Provenance;

use crate::ExperimentError;
use crate::figs::FigOptions;
use crate::grid::Shard;
use crate::output::{ensure_dir, write_json};
use crate::training::{DataChoice, OpenDevice, Preset};

/// One part of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// Table 1 (§2.5) and the depth-scale table (§2.10).
    Tables,
    /// Figure 2 (§3.1).
    Fig2,
    /// Figure 3 (§3.2).
    Fig3,
    /// Figure 4 (§3.3).
    Fig4,
    /// Figure 5 (§3.5).
    Fig5,
    /// Figure 6(a/d), variance propagation depth (§3.6).
    VarianceDepth,
    /// Figure 6(b/c), trainable depth at criticality (§3.6).
    TrainableDepth,
}

impl Part {
    /// Every part, in report order.
    pub const ALL: [Part; 7] = [
        Part::Tables,
        Part::Fig2,
        Part::Fig3,
        Part::Fig4,
        Part::Fig5,
        Part::VarianceDepth,
        Part::TrainableDepth,
    ];

    /// The kebab-case name (`fig2`, `variance-depth`).
    pub fn name(self) -> &'static str {
        match self {
            Part::Tables => "tables",
            Part::Fig2 => "fig2",
            Part::Fig3 => "fig3",
            Part::Fig4 => "fig4",
            Part::Fig5 => "fig5",
            Part::VarianceDepth => "variance-depth",
            Part::TrainableDepth => "trainable-depth",
        }
    }

    /// The heading in the report.
    pub fn title(self) -> &'static str {
        match self {
            Part::Tables => "Critical initialisations and depth scales (Table 1, §2.10)",
            Part::Fig2 => "Figure 2: deep signal propagation with and without noise",
            Part::Fig3 => "Figure 3: critical initialisation for noisy ReLU networks",
            Part::Fig4 => "Figure 4: propagating correlation information",
            Part::Fig5 => "Figure 5: noise-dependent depth scales",
            Part::VarianceDepth => "Figure 6(a): variance propagation depth on real data",
            Part::TrainableDepth => "Figure 6(b/c): trainable depth at criticality",
        }
    }

    /// The spec sections it checks.
    pub fn section(self) -> &'static str {
        match self {
            Part::Tables => "§2.5, §2.10",
            Part::Fig2 => "§3.1",
            Part::Fig3 => "§3.2",
            Part::Fig4 => "§3.3, §3.4",
            Part::Fig5 => "§3.5",
            Part::VarianceDepth => "§2.6, §3.6",
            Part::TrainableDepth => "§2.9, §3.6",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Part {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Part, ExperimentError> {
        let t = s.trim().to_ascii_lowercase();
        Part::ALL
            .into_iter()
            .find(|p| p.name() == t)
            .ok_or_else(|| {
                ExperimentError::invalid(
                    "part",
                    format!("`{s}`"),
                    "tables, fig2, fig3, fig4, fig5, variance-depth or trainable-depth",
                )
            })
    }
}

/// What `reproduce` runs and where.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    /// quick (minutes on 2 cores) or paper (the paper's settings).
    pub preset: Preset,
    /// Output directory (report, figures, stores).
    pub out: PathBuf,
    /// The data set of Figure 6.
    pub data: DataChoice,
    /// Parts to run, in report order.
    pub parts: Vec<Part>,
    /// Base seed of every random part.
    pub seed: u64,
}

/// How a `reproduce` process takes part in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Everything, then the report.
    Full,
    /// One array task: the parts assigned to this shard (round-robin over
    /// the parts other than the trainable-depth grid) and this shard's grid
    /// cells; no report.
    Shard(Shard),
    /// The report from what the shards stored; computes nothing. `shards`
    /// and the array job name the logs of shards whose work is missing.
    Assemble {
        /// Number of shards of the run.
        shards: usize,
        /// The array job (its logs are `DIR/slurm/logs/<job>_<i>.log`).
        array_job: Option<String>,
    },
}

impl ReproduceOptions {
    /// Which shard computes `part` in a run of `shards` shards (`None` for
    /// the trainable-depth grid, whose cells every shard shares).
    pub fn owner(&self, part: Part, shards: usize) -> Option<usize> {
        if part == Part::TrainableDepth {
            return None;
        }
        self.parts
            .iter()
            .filter(|&&p| p != Part::TrainableDepth)
            .position(|&p| p == part)
            .map(|k| k % shards.max(1))
    }
}

/// One part's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartReport {
    /// Which part.
    pub part: Part,
    /// Heading.
    pub title: String,
    /// Spec sections.
    pub section: String,
    /// The settings it ran with, in words.
    pub settings: String,
    /// Checked claims.
    pub claims: Vec<Claim>,
    /// Figures (PNG), relative to the output directory.
    pub figures: Vec<PathBuf>,
    /// Other files written (CSV, JSON), relative to the output directory.
    pub files: Vec<PathBuf>,
    /// Wall time of the computation in seconds (of the run that computed
    /// it, when reused).
    pub seconds: f64,
    /// Whether it was read back from an earlier run instead of computed.
    pub reused: bool,
    /// Why the part failed (its claims are then missing), with the log to
    /// read.
    pub error: Option<String>,
    /// Verdict counts of its claims.
    pub counts: Counts,
}

impl PartReport {
    /// One line on what the part found: `Figure 2 (§3.1): 24 PASS, 0 FAIL,
    /// 0 info in 3.2 s` (`reused` for a part read back, the error for one
    /// that failed).
    pub fn summary(&self) -> String {
        let Counts { pass, fail, info } = self.counts;
        let how = if self.reused {
            "reused".to_string()
        } else {
            format!("in {:.1} s", self.seconds)
        };
        match &self.error {
            Some(e) => format!("{} ({}): failed: {e}", self.title, self.section),
            None => format!(
                "{} ({}): {pass} PASS, {fail} FAIL, {info} info {how}",
                self.title, self.section
            ),
        }
    }
}

/// The whole report (`report.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Where and how it was made.
    pub provenance: Provenance,
    /// Verdict counts over every part.
    pub counts: Counts,
    /// Parts that failed to run.
    pub failed_parts: usize,
    /// The parts, in report order.
    pub parts: Vec<PartReport>,
}

impl crate::record::Kind for Report {
    const KIND: &'static str = "reproduce_report";
}

/// Progress hooks: `part` when a part starts, `tick` per unit of work
/// ([`units`]). Each returns `true` to go on, `false` to stop the run as
/// soon as possible ([`ExperimentError::Cancelled`]).
pub struct Hooks<'a> {
    /// A part starts; `false` stops the run before it.
    pub part: &'a (dyn Fn(Part) -> bool + Sync),
    /// `n` more units of work done (called from worker threads; all the
    /// units of a part reused from an earlier run at once, and `n` = 0
    /// between the epochs of a grid cell in training, only to ask); `false`
    /// stops the part under way at its next unit (or epoch).
    pub tick: &'a (dyn Fn(u64) -> bool + Sync),
    /// A part finished (computed, reused or assembled).
    pub finished: &'a (dyn Fn(&PartReport) + Sync),
}

/// Units of work of `part` (simulated networks, σ_w² values, grid cells),
/// for one progress bar over the whole run.
pub fn units(part: Part, opts: &ReproduceOptions) -> u64 {
    parts::units(part, opts)
}

/// Runs the parts of `opts` into `opts.out` and writes `report.json` and
/// `report.html` (modes [`Mode::Full`] and [`Mode::Assemble`]), or runs one
/// shard's share and returns `None` ([`Mode::Shard`]). A part that fails is
/// recorded with its error and the others still run; parts finished by an
/// earlier run with the same settings are reused. A run stopped by a hook
/// writes no report; the parts (and grid cells) it finished stay stored, so
/// a rerun resumes.
///
/// # Errors
/// The output directory or the report files cannot be written;
/// [`ExperimentError::Cancelled`] when a hook returned `false`.
pub fn reproduce(
    opts: &ReproduceOptions,
    mode: &Mode,
    device: &OpenDevice,
    hooks: &Hooks<'_>,
) -> Result<Option<Report>, ExperimentError> {
    ensure_dir(&opts.out)?;
    ensure_dir(&opts.out.join("parts"))?;
    let started = Instant::now();
    let mut reports = Vec::new();
    for &part in &opts.parts {
        if !(hooks.part)(part) {
            return Err(ExperimentError::Cancelled);
        }
        let done = reports.len();
        match mode {
            Mode::Full => reports.push(parts::run_cached(part, opts, device, hooks.tick)?),
            Mode::Shard(shard) => {
                if part == Part::TrainableDepth {
                    reports.push(parts::run_grid_shard(opts, device, *shard, hooks.tick)?);
                } else if opts.owner(part, shard.count()) == Some(shard.index()) {
                    reports.push(parts::run_cached(part, opts, device, hooks.tick)?);
                }
            }
            Mode::Assemble { shards, array_job } => {
                reports.push(parts::assemble(
                    part,
                    opts,
                    device,
                    *shards,
                    array_job.as_deref(),
                ));
            }
        }
        if let Some(r) = reports.get(done) {
            (hooks.finished)(r);
        }
    }
    if let Mode::Shard(_) = mode {
        // A failed part fails the array task (Slurm marks it FAILED); the
        // report job names it.
        return match reports.iter().find(|p| p.error.is_some()) {
            Some(p) => Err(ExperimentError::PartFailed {
                part: p.part.name().into(),
                reason: p.error.clone().unwrap_or_default(),
            }),
            None => Ok(None),
        };
    }
    let report = assemble(opts, device, reports, started.elapsed().as_secs_f64());
    write_report(&opts.out, &report)?;
    Ok(Some(report))
}

/// What is left to compute: parts without a stored result for these
/// settings, and missing trainable-depth cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Parts to compute.
    pub parts: Vec<Part>,
    /// Grid cells to compute.
    pub cells: usize,
}

impl Pending {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.cells == 0
    }
}

/// What a run of `opts` would still compute.
///
/// # Errors
/// Data or cell-store errors (a corrupt cell, named).
pub fn pending(opts: &ReproduceOptions) -> Result<Pending, ExperimentError> {
    let mut out = Pending {
        parts: Vec::new(),
        cells: 0,
    };
    for &part in &opts.parts {
        if part == Part::TrainableDepth {
            out.cells = parts::missing_cells(opts)?;
            if out.cells > 0 {
                out.parts.push(part);
            }
        } else if parts::read_stored(part, opts).is_none() {
            out.parts.push(part);
        }
    }
    Ok(out)
}

/// The report of `reports`.
fn assemble(
    opts: &ReproduceOptions,
    device: &OpenDevice,
    reports: Vec<PartReport>,
    seconds: f64,
) -> Report {
    let counts = reports
        .iter()
        .fold(Counts::default(), |c, p| c.plus(p.counts));
    Report {
        provenance: Provenance::now(opts, device, &reports, seconds),
        counts,
        failed_parts: reports.iter().filter(|p| p.error.is_some()).count(),
        parts: reports,
    }
}

/// Writes `report.json` and `report.html` into `dir`.
///
/// # Errors
/// File errors naming the file.
pub fn write_report(dir: &Path, report: &Report) -> Result<(), ExperimentError> {
    write_json(
        &dir.join("report.json"),
        &crate::record::Record::new(report.clone()),
    )?;
    let page = html::render(report, dir)?;
    std::fs::write(dir.join("report.html"), page).map_err(|cause| ExperimentError::Io {
        path: dir.join("report.html"),
        cause,
    })
}

/// A wall time for people: `< 0.01 s`, `0.89 s`, `52.2 s`, `118 s`.
pub fn fmt_seconds(s: f64) -> String {
    if s < 0.01 {
        "< 0.01 s".into()
    } else if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 100.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

/// Figure settings of a preset for `part`. The quick preset runs Figures
/// 2–4 at width 256 with 16 networks (seconds) and Figure 5 at the paper's
/// width 1000 with 24 networks and 64 partners (under a minute on 2 cores):
/// fitting a depth scale needs the correlations' decay resolved over several
/// layers, which narrower networks blur (width 256: 14 of 22 settings within
/// 20 %, width 1000: 20 of 22, measured).
pub fn fig_options(opts: &ReproduceOptions, part: Part) -> FigOptions {
    let out_dir = opts.out.join("figures");
    match (opts.preset, part) {
        (Preset::Quick, Part::Fig5) => FigOptions {
            out_dir,
            width: 1000,
            networks: 24,
            partners: 64,
            seed: opts.seed,
        },
        (Preset::Quick, _) => FigOptions {
            out_dir,
            width: 256,
            networks: 16,
            partners: 24,
            seed: opts.seed,
        },
        (Preset::Paper, _) => FigOptions {
            out_dir,
            seed: opts.seed,
            ..FigOptions::default()
        },
        (Preset::Smoke, _) => FigOptions {
            out_dir,
            width: 32,
            networks: 3,
            partners: 4,
            seed: opts.seed,
        },
    }
}
