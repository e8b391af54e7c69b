//! The canonical key of a cell: hex SHA-256 of the schema version and the
//! cell's [`TrainSpec`] as JSON (fixed field order; activation and noise as
//! their canonical spec strings). Stable across versions for the same spec:
//! a test keeps a cell written by an earlier version and finds it.

use sha2::{Digest, Sha256};

use crate::ExperimentError;
use crate::training::TrainSpec;

/// Version of the cell files (part of every key).
pub const CELL_SCHEMA_VERSION: u32 = 2;

/// The canonical key of `spec`.
///
/// # Errors
/// A spec that cannot be written as JSON (never for a valid spec); never an
/// empty or partial key.
pub fn cell_key(spec: &TrainSpec) -> Result<String, ExperimentError> {
    let json = serde_json::to_string(spec).map_err(|e| {
        ExperimentError::invalid("spec", e, "a training spec that can be written as JSON")
    })?;
    let mut h = Sha256::new();
    h.update(format!("noisyprop-cell-v{CELL_SCHEMA_VERSION}\n").as_bytes());
    h.update(json.as_bytes());
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
