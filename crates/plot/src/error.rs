//! Error type.

use std::path::PathBuf;

/// Why a figure could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// There is nothing to draw (or nothing to infer an axis or colour range from).
    #[error("nothing to plot: {what}")]
    EmptyData {
        /// What was empty, e.g. "line chart has no finite points".
        what: String,
    },
    /// A data array has the wrong length.
    #[error("{what}: expected {expected} values, got {got}")]
    ShapeMismatch {
        /// Which array.
        what: String,
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An argument is unusable (non-increasing edges, empty range, bad image size, …).
    #[error("invalid input: {what}")]
    InvalidInput {
        /// The problem, in words.
        what: String,
    },
    /// The output file could not be created or written.
    #[error("cannot write {}: {cause}", path.display())]
    Io {
        /// The output path.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// The embedded font could not be loaded or used.
    #[error("font error: {0}")]
    Font(String),
    /// The plotters backend failed (e.g. while encoding the PNG).
    #[error("rendering backend error: {0}")]
    Backend(String),
}
