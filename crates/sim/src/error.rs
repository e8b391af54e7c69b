//! Errors of the simulator.

use noisyprop_engine::EngineError;
use thiserror::Error;

/// What can go wrong in a simulation.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// A parameter is out of range.
    #[error("{name} = {} is out of range; valid range is {valid}", noisyprop_theory::fmt_num(*.value))]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range.
        valid: &'static str,
    },
    /// The engine refused something (e.g. a noise law that cannot be sampled).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The caller's progress callback asked the simulation to stop.
    #[error("stopped before it finished (interrupted)")]
    Cancelled,
}
