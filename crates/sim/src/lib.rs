//! # noisyprop-sim
//!
//! Monte-Carlo simulation of random finite-width noisy networks and its
//! comparison with the mean-field theory, layer by layer (paper spec §3,
//! Figures 2–5): variance q^l and correlation c^l of the forward pass, second
//! moment and correlation of the back-propagated gradient, summarised over
//! independent networks with 95 % intervals, and a PASS/FAIL [`verdict`](fn@verdict).
//!
//! Networks run in parallel (rayon), one network per task; every random draw
//! is keyed by (seed, network, layer, …), so the same seed gives bit-identical
//! results for any thread count.
//!
//! | module | contents |
//! |---|---|
//! | [`config`] | [`SimConfig`], [`InputClass`], validation |
//! | [`inputs`] | inputs with exact variance and correlation |
//! | [`net`] | one network's forward/backward pass and statistics |
//! | [`stats`] | summaries and intervals |
//! | [`theory`](mod@theory) | the theory in the simulation's conventions |
//! | [`verdict`](mod@verdict) | the PASS/FAIL rule |

#![deny(missing_docs)]

pub mod config;
mod error;
pub mod inputs;
pub mod net;
pub mod stats;
pub mod theory;
pub mod verdict;

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use noisyprop_engine::Threads;

pub use config::{InputClass, Precision, SimConfig};
pub use error::SimError;
pub use stats::Summary;
pub use theory::{TheoryLayers, theory};
pub use verdict::{Check, Quantity, Verdict, verdict, verdict_of_layers};

/// Summaries of one layer of one input class. Intervals lie in each
/// quantity's range: [0, ∞) for `q` and `grad_q`, [−1, 1] for the
/// correlations (see [`Summary`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Layer index (0 = input).
    pub layer: usize,
    /// q^l.
    pub q: Summary,
    /// Uncentred correlation c^l (with pairs).
    pub c: Option<Summary>,
    /// Pearson correlation across units (the original code's estimator).
    pub c_pearson: Option<Summary>,
    /// Gradient second moment relative to the top layer (backward pass).
    pub grad_q: Option<Summary>,
    /// Gradient correlation (backward pass, with pairs).
    pub grad_c: Option<Summary>,
}

/// Results for one input class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassResult {
    /// The class.
    pub class: InputClass,
    /// Layers 0..=depth.
    pub layers: Vec<LayerSummary>,
}

/// The result of [`simulate`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimResult {
    /// Per input class.
    pub classes: Vec<ClassResult>,
}

/// Runs `cfg.networks` random networks, in parallel over networks, calling
/// `progress` after each one (from the worker threads): `true` goes on,
/// `false` stops the run. Once any call returned `false`, networks not yet
/// started are skipped and the result is [`SimError::Cancelled`]; a run that
/// is not stopped is the same, bit for bit, whatever the callback.
///
/// # Errors
/// Invalid configuration ([`SimConfig::validate`]); [`SimError::Cancelled`]
/// when `progress` returned `false`.
pub fn simulate(
    cfg: &SimConfig,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<SimResult, SimError> {
    let sampler = cfg.validate()?;
    let pool = rayon::current_num_threads().max(1);
    // Few networks: give each one's products several threads (gemm's results
    // do not depend on the thread count).
    let threads = if cfg.networks >= pool {
        Threads::One
    } else {
        Threads::Many(pool / cfg.networks)
    };
    // Set once a `progress` returned false: networks not yet started are
    // skipped.
    let stop = AtomicBool::new(false);
    let runs: Vec<Option<net::NetworkStats>> = (0..cfg.networks)
        .into_par_iter()
        .map(|i| {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let s = match cfg.precision {
                Precision::F32 => net::run::<f32>(cfg, &sampler, i, threads),
                Precision::F64 => net::run::<f64>(cfg, &sampler, i, threads),
            };
            if !progress() {
                stop.store(true, Ordering::Relaxed);
            }
            Some(s)
        })
        .collect();
    if stop.into_inner() {
        return Err(SimError::Cancelled);
    }
    let runs: Vec<net::NetworkStats> = runs.into_iter().flatten().collect();
    let has_pairs = |ci: usize| cfg.inputs[ci].pairs() > 0;
    let classes = cfg
        .inputs
        .iter()
        .enumerate()
        .map(|(ci, class)| {
            let gather = |f: &dyn Fn(&net::NetworkStats) -> &Vec<Vec<f64>>, l: usize| -> Vec<f64> {
                runs.iter()
                    .map(|r| {
                        f(r).get(ci)
                            .and_then(|v| v.get(l))
                            .copied()
                            .unwrap_or(f64::NAN)
                    })
                    .collect()
            };
            let layers = (0..=cfg.depth)
                .map(|l| LayerSummary {
                    layer: l,
                    q: Summary::nonnegative(&gather(&|r| &r.q, l)),
                    c: has_pairs(ci).then(|| Summary::correlation(&gather(&|r| &r.c, l))),
                    c_pearson: has_pairs(ci)
                        .then(|| Summary::correlation(&gather(&|r| &r.c_pearson, l))),
                    grad_q: cfg
                        .backward
                        .then(|| Summary::nonnegative(&gather(&|r| &r.grad_q, l))),
                    grad_c: (cfg.backward && has_pairs(ci))
                        .then(|| Summary::correlation(&gather(&|r| &r.grad_c, l))),
                })
                .collect();
            ClassResult {
                class: *class,
                layers,
            }
        })
        .collect();
    Ok(SimResult { classes })
}
