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
//! let mut req = AnalyzeRequest::default();
//! req.network.noise = vec!["dropout:keep=0.6".into()];
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
//! | [`figures`] | the paper's simulated Figures 2–5 |
//! | [`simulate`] | Monte-Carlo networks against the theory, with a verdict |
//! | [`variance_depth`] | Figure 6(a): real images through deep random networks vs L* |
//! | [`train`] | one noisy MLP trained on real data |
//! | [`trainable_depth`] | Figure 6(b): the keep × depth grid, resumable, against k·ξ_c |
//! | [`reproduce`] | the paper judged claim by claim: here, as a shard, or on Slurm |
//! | [`verdict`] | the simulator's PASS/FAIL rule for someone else's measurements |
//! | [`form`] | how requests read values written in several forms |
//! | [`observe`] | progress and stopping |

#![deny(missing_docs)]

pub mod analyze;
pub mod critical;
mod error;
pub mod figures;
pub mod form;
pub mod init;
mod network;
pub mod observe;
pub mod phase;
mod recipe;
pub mod reproduce;
pub mod simulate;
pub mod train;
pub mod trainable_depth;
pub mod trajectory;
pub mod variance_depth;
pub mod verdict;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{Error, ErrorKind, Hint, Spelling};
pub use network::{
    ACTIVATION, DEPTH_MULTIPLIER, IntegrationParams, NO_NOISE, NetworkParams, Q0, Rule,
};
pub use observe::{Observer, Quiet};
pub use recipe::{DataParams, DeviceParams, RecipeParams, TrainingParams};

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
    /// Names the libraries give this request's parameters (`keep` of one
    /// cell for `keeps`): (library name, request field).
    const ALIASES: &'static [(&'static str, &'static str)] = &[];

    /// Runs the request, reporting progress to `observer` and stopping
    /// (with [`ErrorKind::Cancelled`]) when it asks.
    ///
    /// # Errors
    /// Bad parameters (named), or what the library refused.
    fn run(request: &Self::Request, observer: &dyn Observer) -> Result<Self::Record, Error>;
}

/// Runs `O` on `request`: what front-ends call. An error about a parameter
/// that is not one of the request's own (a library's inner name, such as
/// `keep` of one grid cell) keeps the library's wording, so no front-end
/// spells it as a flag or keyword that does not exist.
///
/// # Errors
/// As [`Operation::run`].
pub fn execute<O: Operation>(
    request: &O::Request,
    observer: &dyn Observer,
) -> Result<O::Record, Error> {
    O::run(request, observer).map_err(|e| match e.param() {
        Some(p) if !is_field::<O::Request>(p) => {
            match O::ALIASES.iter().find(|(library, _)| *library == p) {
                Some(&(_, field)) => e.renamed(field),
                None => e.unnamed(),
            }
        }
        _ => e,
    })
}

/// Whether `name` is a top-level field of requests of type `R`.
fn is_field<R: Default + Serialize>(name: &str) -> bool {
    serde_json::to_value(R::default())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.contains_key(name)))
        .unwrap_or(false)
}

/// A request read from any serde source (a Python dict, JSON): a field of
/// the wrong type is an [`ErrorKind::Invalid`] naming the field (the
/// request itself, `""`, for a field of a flattened group: serde does not
/// say which; the Python package finds it by reading each argument alone).
/// Missing fields take the request's defaults; unknown ones are ignored
/// (flattened groups cannot refuse them), which the Python package's
/// signatures refuse first.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request's defaults read back as themselves (the Python
    /// package's signatures are these defaults, sent back as arguments).
    #[test]
    fn defaults_read_back_as_themselves() {
        fn round_trip<O: Operation>()
        where
            O::Request: PartialEq + std::fmt::Debug,
        {
            let d = O::Request::default();
            let json = serde_json::to_string(&d).expect("serialise");
            let back: O::Request =
                read_request(&mut serde_json::Deserializer::from_str(&json)).expect(O::NAME);
            assert_eq!(back, d, "{}", O::NAME);
        }
        round_trip::<analyze::Analyze>();
        round_trip::<init::Init>();
        round_trip::<critical::Critical>();
        round_trip::<trajectory::Trajectory>();
        round_trip::<phase::Phase>();
        round_trip::<verdict::VerdictOf>();
        round_trip::<simulate::Simulate>();
        round_trip::<train::Train>();
        round_trip::<variance_depth::VarianceDepth>();
        round_trip::<trainable_depth::TrainableDepth>();
        round_trip::<reproduce::Reproduce>();
        round_trip::<figures::Figures>();
    }

    /// A library's name for a parameter (a grid cell's `keep`) is spelled
    /// as the request's (`keeps`); one the request does not have keeps the
    /// library's wording.
    #[test]
    fn library_names_become_the_requests_or_keep_their_wording() {
        let r = trainable_depth::TrainableDepthRequest {
            keeps: vec![1.5],
            ..Default::default()
        };
        let e = execute::<trainable_depth::TrainableDepth>(&r, &Quiet).expect_err("keep 1.5");
        assert_eq!(e.param(), Some("keeps"));
        assert_eq!(
            e.render(Spelling::Cli),
            "--keeps 1.5 is out of range; valid range is (0, 1]"
        );
        let inner = Error::out_of_range("groups", 0, "[1, 1000000]").unnamed();
        assert_eq!(inner.param(), None);
        assert_eq!(
            inner.render(Spelling::Cli),
            "groups = 0 is out of range; valid range is [1, 1000000]"
        );
        let r = simulate::SimulateRequest {
            width: 0,
            ..Default::default()
        };
        let e = execute::<simulate::Simulate>(&r, &Quiet).expect_err("width 0");
        assert_eq!(e.param(), Some("width"));
        assert!(
            e.render(Spelling::Cli)
                .starts_with("--width 0 is out of range"),
            "{e}"
        );
    }
}
