//! # noisyprop-ops
//!
//! The operations behind every command of the CLI and every function of the
//! Python package: for each command a **request** (serde, its defaults in
//! its `Default`), one **`run`** function and the **record** it returns (the
//! record `--json` prints). The CLI turns flags into a request and prints
//! the record; the Python package turns keyword arguments into the same
//! request and wraps the same record. Neither holds a default, a range
//! check, a fallback or a number of its own (cargo's `ops`, uv's command
//! layer).
//!
//! Request fields are the CLI's long flags in snake_case (`--sigma-b2` →
//! `sigma_b2`), which are Python's keyword arguments, so an [`Error`] names
//! the parameter once and each front-end spells it ([`Spelling`]).
//!
//! ```
//! use noisyprop_ops::{Operation, Quiet, analyze::{Analyze, AnalyzeRequest}};
//!
//! let req = AnalyzeRequest { noise: vec!["dropout:keep=0.6".into()], ..Default::default() };
//! let a = Analyze::run(&req, &Quiet)?;
//! assert!((a.sigma_w2 - 1.2).abs() < 1e-12); // the critical σ_w² = 2/μ₂
//! # Ok::<(), noisyprop_ops::Error>(())
//! ```
//!
//! | module | command |
//! |---|---|
//! | [`analyze`] | everything the theory says about one network |
//! | [`init`] | the critical initialisation as code |
//! | [`critical`] | the table of critical initialisations |
//! | [`trajectory`] | q, c and gradients layer by layer |
//! | [`phase`] | phase diagrams |
//! | [`verdict`] | the simulator's PASS/FAIL rule for someone else's measurements |
//! | [`form`] | how requests read values written in several forms |
//! | [`observe`] | progress and stopping |

#![deny(missing_docs)]

pub mod analyze;
pub mod critical;
mod error;
pub mod form;
pub mod init;
mod network;
pub mod observe;
pub mod phase;
pub mod trajectory;
pub mod verdict;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{Error, ErrorKind, Hint, Spelling};
pub use network::{ACTIVATION, DEPTH_MULTIPLIER, NO_NOISE, Q0, Rule};
pub use observe::{Observer, Quiet};

use noisyprop_theory::record::Kind;

/// One command: its request, its record and how one becomes the other.
pub trait Operation {
    /// The command's name, as the CLI spells it (`trainable-depth`).
    const NAME: &'static str;
    /// What the caller asks (fields = the CLI's long flags in snake_case).
    type Request: Default + Serialize + DeserializeOwned;
    /// What the command returns (the record `--json` prints).
    type Record: Kind + Serialize;
    /// Whether it takes long enough (seconds) that a front-end runs it
    /// where it can be interrupted and shows progress.
    const LONG_RUNNING: bool = false;

    /// Runs the request, reporting progress to `observer` and stopping
    /// (with [`ErrorKind::Cancelled`]) when it asks.
    ///
    /// # Errors
    /// Bad parameters (named), or what the library refused.
    fn run(request: &Self::Request, observer: &dyn Observer) -> Result<Self::Record, Error>;
}

/// A request read from any serde source (a Python dict, JSON): a field of
/// the wrong type is an [`ErrorKind::Invalid`] naming the field.
///
/// # Errors
/// The field that could not be read and why.
pub fn read_request<'de, R, D>(source: D) -> Result<R, Error>
where
    R: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde_path_to_error::deserialize(source).map_err(|e| {
        let param = e.path().to_string();
        Error::invalid(param, e.into_inner().to_string())
    })
}
