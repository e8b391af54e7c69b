//! The cell store: one JSON file per finished cell, `<store>/cells/<key>.json`,
//! written to a temporary name and renamed into place, so a complete file
//! means a finished cell. A file that exists but cannot be read back is
//! *corrupt*: it is reported by name, never silently taken for a missing cell.

use std::path::Path;

use serde::{Deserialize, Serialize};

use noisyprop_theory::fmt_short;

use super::key::{CELL_SCHEMA_VERSION, cell_key};
use super::spec::{Cell, GridSpec};
use crate::ExperimentError;
use crate::output::write_json;
use crate::training::{TrainResult, TrainSpec};

/// A finished cell as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRecord {
    /// [`CELL_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `trainable_depth_cell`.
    pub kind: String,
    /// The cell's key (its file name).
    pub key: String,
    /// Keep probability.
    pub keep: f64,
    /// The parameters.
    pub spec: TrainSpec,
    /// The outcome.
    pub result: TrainResult,
    /// `cpu` or `cuda:<device name>:<precision>`.
    pub device: String,
    /// Version of noisyprop that computed it.
    pub noisyprop_version: String,
}

/// What the store holds for a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum CellStatus {
    /// No file.
    Missing,
    /// A finished cell.
    Done(Box<CellRecord>),
    /// A file that cannot be read back, and why.
    Corrupt(String),
}

/// Reads the file of cell `key`.
///
/// # Errors
/// A file that exists but cannot be read (permissions, I/O), naming it.
pub fn read_cell(path: &Path, key: &str) -> Result<CellStatus, ExperimentError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CellStatus::Missing),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Ok(CellStatus::Corrupt(format!("not UTF-8 text ({e})")));
        }
        Err(cause) => {
            return Err(ExperimentError::Io {
                path: path.to_path_buf(),
                cause,
            });
        }
    };
    let rec: CellRecord = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => return Ok(CellStatus::Corrupt(format!("not a cell record ({e})"))),
    };
    if rec.key != key {
        return Ok(CellStatus::Corrupt(format!(
            "it holds cell `{}`, not `{key}`",
            rec.key
        )));
    }
    // A hand-edited or mixed-up file: its spec must still hash to its key,
    // its keep must be the spec's, and losses are never negative.
    match cell_key(&rec.spec) {
        Ok(k) if k == key => {}
        _ => {
            return Ok(CellStatus::Corrupt(
                "its training spec does not match its key (edited?)".into(),
            ));
        }
    }
    if GridSpec::noise(rec.keep) != rec.spec.noise {
        return Ok(CellStatus::Corrupt(format!(
            "its keep {} is not its spec's noise `{}`",
            fmt_short(rec.keep),
            rec.spec.noise
        )));
    }
    let r = &rec.result;
    let losses = [
        ("final training loss", r.final_train_loss()),
        ("final validation loss", r.final_val_loss()),
        ("validation loss at initialisation", r.val_loss_init),
        ("baseline loss", r.val_loss_baseline),
    ];
    if let Some((name, v)) = losses.iter().find(|(_, v)| *v < 0.0) {
        return Ok(CellStatus::Corrupt(format!(
            "its {name} is {}, but losses are never negative",
            fmt_short(*v)
        )));
    }
    Ok(CellStatus::Done(Box::new(rec)))
}

/// Reads a cell of `spec`: `None` when missing.
///
/// # Errors
/// [`ExperimentError::CorruptCell`] naming a file that cannot be read back.
pub fn load_cell(spec: &GridSpec, cell: &Cell) -> Result<Option<CellRecord>, ExperimentError> {
    let path = spec.cell_path(&cell.key);
    match read_cell(&path, &cell.key)? {
        CellStatus::Missing => Ok(None),
        CellStatus::Done(r) => Ok(Some(*r)),
        CellStatus::Corrupt(reason) => Err(ExperimentError::CorruptCell { path, reason }),
    }
}

/// Writes a finished cell into the store (atomically) and returns its record.
///
/// # Errors
/// The file cannot be written (named).
pub fn store_cell(
    spec: &GridSpec,
    cell: &Cell,
    result: TrainResult,
    device: String,
) -> Result<CellRecord, ExperimentError> {
    let record = CellRecord {
        schema_version: CELL_SCHEMA_VERSION,
        kind: "trainable_depth_cell".into(),
        key: cell.key.clone(),
        keep: cell.keep,
        spec: cell.spec.clone(),
        result,
        device,
        noisyprop_version: env!("CARGO_PKG_VERSION").into(),
    };
    write_json(&spec.cell_path(&cell.key), &record)?;
    Ok(record)
}
