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
    #[error("{what} = {value} is out of range; valid range is {valid}")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// The value given.
        value: f64,
        /// The valid range.
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
