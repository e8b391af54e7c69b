//! The trainable-depth grid of Figure 6(b)/(c)/(e)/(f) (spec 3.6, §4):
//! networks at critical initialisation over dropout keep probability ×
//! depth, trained on real data, against the predicted trainable depth 6ξ_c.
//!
//! | module | contents |
//! |---|---|
//! | [`spec`] | [`GridSpec`] (validated, normalised) and its [`Cell`]s |
//! | [`key`] | [`cell_key`]: the canonical, stable key of a cell |
//! | [`store`] | one file per finished cell, [`CellRecord`], corrupt files reported |
//! | [`shard`] | [`Shard`]: `--shard I/N` for cluster array jobs |
//! | [`report`](mod@report) | [`GridReport`]: trained vs predicted per cell |
//! | [`figure`] | the loss heat maps with the k·ξ_c curve, CSV and JSON |
//! | `setup` | [`setup`]: the data and grid of a recipe, the one setup of every grid run |
//!
//! **Store.** Every cell is one file `<store>/cells/<key>.json`. A rerun skips
//! every cell whose file is there, so an interrupted grid resumes without
//! losing work, and any sharding of the grid writes to the same store. A worker
//! never rewrites another cell's file. A file that cannot be read back stops
//! the run with its name, unless [`RunOptions::recompute_corrupt`] asks to
//! compute that cell again. A run stopped by its progress callback
//! ([`ExperimentError::Cancelled`]) keeps the cells it finished; a cell
//! whose training was stopped writes nothing.
//!
//! **Devices.** The pending cells train through [`crate::training`]'s one
//! protocol: on the CPU each cell is its own group, the groups side by side
//! on the cores (single-threaded products); on a GPU the pending cells of one
//! depth are one group (one batched grid), the data uploaded once.

pub mod figure;
pub mod key;
pub mod report;
mod setup;
pub mod shard;
pub mod spec;
pub mod store;

pub use figure::write_report;
pub use key::{CELL_SCHEMA_VERSION, cell_key};
pub use report::{CellSummary, GridReport, Prediction, TRAINED_FRACTION, predict, report};
pub use setup::setup;
pub use shard::Shard;
pub use spec::{Cell, GridSpec};
pub use store::{CellRecord, CellStatus, load_cell, read_cell, store_cell};

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use noisyprop_data::Prepared;
use noisyprop_engine::Threads;

use crate::ExperimentError;
use crate::output::ensure_dir;
use crate::training::OpenDevice;

/// How a run of the grid went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRun {
    /// Cells in the grid.
    pub total: usize,
    /// Cells of this shard.
    pub in_shard: usize,
    /// Cells already finished when the run started (skipped).
    pub skipped: usize,
    /// Cells computed now.
    pub computed: usize,
    /// Corrupt cell files computed again ([`RunOptions::recompute_corrupt`]).
    pub recomputed_corrupt: usize,
    /// Cells of this shard still missing (a cap stopped them).
    pub missing: usize,
}

/// Options of [`run_grid`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Only this shard's cells.
    pub shard: Option<Shard>,
    /// Start at most this many new cells (tests, partial runs).
    pub max_new_cells: Option<usize>,
    /// Compute cells whose files are corrupt again (replacing the files)
    /// instead of stopping with their names.
    pub recompute_corrupt: bool,
}

/// Runs the missing cells of this shard, writing each as soon as it (or, on
/// a GPU, its depth's group) finishes. `progress` is called (from the worker
/// threads) with `Some(record)` for every new cell stored, and with `None`
/// after each epoch of a cell in training (nothing to count: a chance to
/// stop); it returns `true` to go on, `false` to stop the run. Once it
/// returned `false` it is not called again, no further cell starts, cells in
/// training stop at their next epoch and write nothing, and the result is
/// [`ExperimentError::Cancelled`]; the cells stored before stay (a rerun
/// skips them). Cells of a run that is not stopped do not depend on the
/// callback.
///
/// # Errors
/// Invalid or unsupported spec (before any cell runs), a corrupt cell file
/// without [`RunOptions::recompute_corrupt`], a cell file that cannot be
/// written, device errors; [`ExperimentError::Cancelled`] when `progress`
/// returned `false`.
pub fn run_grid(
    spec: &GridSpec,
    data: &Prepared,
    opts: RunOptions,
    device: &OpenDevice,
    progress: &(dyn Fn(Option<&CellRecord>) -> bool + Sync),
) -> Result<GridRun, ExperimentError> {
    ensure_dir(&spec.store().join("cells"))?;
    let cells = spec.cells()?;
    let total = cells.len();
    let mine: Vec<_> = cells
        .into_iter()
        .enumerate()
        .filter(|(i, _)| opts.shard.is_none_or(|s| s.contains(*i)))
        .map(|(_, c)| c)
        .collect();
    let in_shard = mine.len();
    let (mut pending, mut corrupt) = (Vec::new(), 0);
    for cell in mine {
        let path = spec.cell_path(&cell.key);
        match read_cell(&path, &cell.key)? {
            CellStatus::Done(_) => {}
            CellStatus::Missing => pending.push(cell),
            CellStatus::Corrupt(_) if opts.recompute_corrupt => {
                corrupt += 1;
                pending.push(cell);
            }
            CellStatus::Corrupt(reason) => {
                return Err(ExperimentError::CorruptCell { path, reason });
            }
        }
    }
    let skipped = in_shard - pending.len();
    pending.truncate(opts.max_new_cells.unwrap_or(usize::MAX));
    for cell in &pending {
        device.supports(&cell.spec)?;
    }
    let label = device.label();
    // Set once `progress` returned false: it is not asked again, no cell
    // starts and the cells in training stop at their next epoch.
    let stop = AtomicBool::new(false);
    let go_on = |record: Option<&CellRecord>| {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let on = progress(record);
        if !on {
            stop.store(true, Ordering::Relaxed);
        }
        on
    };
    let computed = if pending.is_empty() {
        0
    } else if device.is_cpu() {
        // One cell per core, single-threaded products.
        let computed = pending
            .par_iter()
            .map(|cell| {
                if stop.load(Ordering::Relaxed) {
                    return Ok(0);
                }
                let mut r = crate::training::cpu::train_group(
                    &[&cell.spec],
                    &data.train,
                    &data.val,
                    Threads::One,
                    &mut |_, _| go_on(None),
                )?;
                let result = r
                    .pop()
                    .ok_or_else(|| ExperimentError::invalid("results", 0, "one per cell"))?;
                go_on(Some(&store_cell(spec, cell, result, label.clone())?));
                Ok(1)
            })
            .collect::<Result<Vec<usize>, ExperimentError>>();
        match computed {
            Err(ExperimentError::Cancelled) => 0,
            other => other?.into_iter().sum(),
        }
    } else {
        let session = device.session(data)?;
        let mut depths: Vec<usize> = Vec::new();
        for c in &pending {
            if !depths.contains(&c.depth) {
                depths.push(c.depth);
            }
        }
        let mut n = 0;
        for depth in depths {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let group: Vec<_> = pending.iter().filter(|c| c.depth == depth).collect();
            let specs: Vec<_> = group.iter().map(|c| &c.spec).collect();
            let results = match session.train(&specs, Threads::One, &mut |_, _| go_on(None)) {
                Err(ExperimentError::Cancelled) => break,
                other => other?,
            };
            // The group finished: every cell of it is stored, even after a stop.
            for (cell, result) in group.into_iter().zip(results) {
                go_on(Some(&store_cell(spec, cell, result, label.clone())?));
                n += 1;
            }
        }
        n
    };
    if stop.load(Ordering::Relaxed) {
        return Err(ExperimentError::Cancelled);
    }
    Ok(GridRun {
        total,
        in_shard,
        skipped,
        computed,
        recomputed_corrupt: corrupt.min(computed),
        missing: in_shard - skipped - computed,
    })
}
