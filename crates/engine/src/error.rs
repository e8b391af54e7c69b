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
}
