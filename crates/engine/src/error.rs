//! Errors of the engine.

use thiserror::Error;

/// What can go wrong in the engine.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A noise law given only by its moments cannot be sampled.
    #[error(
        "noise `{law}` has no distribution to sample from; use a concrete law with the same second moment (e.g. gauss-mult:std=S or gauss-add:std=S)"
    )]
    NotSamplable {
        /// The law.
        law: String,
    },
    /// The buffers would not fit in memory.
    #[error(
        "{what}: about {needed_gib:.1} GiB of memory needed, more than the {available_gib:.1} GiB available; make it smaller"
    )]
    TooLarge {
        /// What was sized.
        what: String,
        /// Estimated need.
        needed_gib: f64,
        /// Available memory (MemAvailable, or 16 GiB when unknown).
        available_gib: f64,
    },
    /// A size or shape argument is invalid.
    #[error("{what} = {value} is out of range; valid range is {valid}")]
    InvalidSize {
        /// Which size.
        what: &'static str,
        /// The value given.
        value: usize,
        /// The valid range.
        valid: &'static str,
    },
    /// A real-valued parameter (a variance, a noise or optimiser setting) is
    /// invalid.
    #[error("{what} = {} is out of range; valid range is {valid}", noisyprop_theory::fmt_num(*.value))]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// The value given.
        value: f64,
        /// The valid range.
        valid: &'static str,
    },
    /// An unknown name (a precision, say).
    #[error("unknown {what} `{name}`; valid: {valid}")]
    Unknown {
        /// What kind of name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The valid names.
        valid: &'static str,
    },
    /// A buffer does not have the length its shape needs.
    #[error("{what} has {len} elements, expected {expected}")]
    LengthMismatch {
        /// Which buffer.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The length needed.
        expected: usize,
    },
    /// A class label is not below the number of outputs.
    #[error("label {label} of example {index} is out of range; valid labels are 0..{classes}")]
    InvalidLabel {
        /// The label.
        label: u8,
        /// The example (row of the batch).
        index: usize,
        /// The number of classes (network outputs).
        classes: usize,
    },
    /// The targets given do not suit the loss (values for cross-entropy,
    /// labels for MSE).
    #[error("the {loss} loss needs {needs} as targets")]
    TargetKind {
        /// The loss.
        loss: &'static str,
        /// What it needs.
        needs: &'static str,
    },
}

/// Refuses an allocation of about `bytes` bytes when it exceeds the memory
/// available (`MemAvailable` of /proc/meminfo; 16 GiB where that is not
/// readable), so an oversized request is an error rather than an abort.
///
/// # Errors
/// [`EngineError::TooLarge`].
pub fn check_memory(what: &str, bytes: f64) -> Result<(), EngineError> {
    let gib = (1u64 << 30) as f64;
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(16.0 * gib, |kib| kib * 1024.0);
    if bytes.is_finite() && bytes <= available {
        Ok(())
    } else {
        Err(EngineError::TooLarge {
            what: what.to_string(),
            needed_gib: bytes / gib,
            available_gib: available / gib,
        })
    }
}
