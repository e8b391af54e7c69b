//! Writing experiment outputs: CSV tables, JSON summaries and PNG figures,
//! each error naming the file.

use std::path::{Path, PathBuf};

use serde::Serialize;

use noisyprop_plot::{Panel, render_panels};

use crate::ExperimentError;

/// Creates `dir` (and parents).
///
/// # Errors
/// [`ExperimentError::Io`] naming the directory.
pub fn ensure_dir(dir: &Path) -> Result<(), ExperimentError> {
    std::fs::create_dir_all(dir).map_err(|cause| ExperimentError::Io {
        path: dir.to_path_buf(),
        cause,
    })
}

/// Writes `rows` as CSV (header from the field names) to `path`, through a
/// temporary file renamed into place.
///
/// # Errors
/// [`ExperimentError::Csv`] or [`ExperimentError::Io`] naming the file.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<PathBuf, ExperimentError> {
    let tmp = path.with_extension("csv.tmp");
    let csv_err = |e: csv::Error| ExperimentError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    {
        let mut w = csv::Writer::from_path(&tmp).map_err(csv_err)?;
        for r in rows {
            w.serialize(r).map_err(csv_err)?;
        }
        w.flush().map_err(|cause| ExperimentError::Io {
            path: tmp.clone(),
            cause,
        })?;
    }
    rename(&tmp, path)?;
    Ok(path.to_path_buf())
}

/// Writes `value` as pretty JSON to `path` (temporary file, then rename).
///
/// # Errors
/// [`ExperimentError::Io`] naming the file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<PathBuf, ExperimentError> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(value).map_err(|e| ExperimentError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(&tmp, text + "\n").map_err(|cause| ExperimentError::Io {
        path: tmp.clone(),
        cause,
    })?;
    rename(&tmp, path)?;
    Ok(path.to_path_buf())
}

fn rename(from: &Path, to: &Path) -> Result<(), ExperimentError> {
    std::fs::rename(from, to).map_err(|cause| ExperimentError::Io {
        path: to.to_path_buf(),
        cause,
    })
}

/// Renders panels side by side into `path`.
///
/// # Errors
/// [`ExperimentError::Plot`] naming the file.
pub fn write_png(
    path: &Path,
    panels: &[Panel],
    cols: usize,
    title: &str,
) -> Result<PathBuf, ExperimentError> {
    render_panels(panels, cols, path, (900, 650), Some(title)).map_err(|cause| {
        ExperimentError::Plot {
            path: path.to_path_buf(),
            cause,
        }
    })?;
    Ok(path.to_path_buf())
}

/// Reads a float that JSON wrote as `null` because it was NaN or infinite
/// (serde_json writes non-finite floats so) back as NaN.
///
/// # Errors
/// A value that is neither a number nor `null`.
pub fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
