//! # noisyprop-experiments
//!
//! The paper's experiments as reusable definitions (spec §3–4), and everything
//! a command needs beyond parsing its flags: presets, devices, grids, figures
//! and the records it prints.
//!
//! | module | contents |
//! |---|---|
//! | [`paper`] | the paper's settings, defined once (Figure 6 keeps and depths, the 90/10 split) |
//! | [`figs`] | Figures 2, 3, 4 and 5: settings, simulations, fits, plots; the phase-diagram figure |
//! | [`variance_depth`] | Figure 6(a)/(d): variance of real images through deep random nets vs L* |
//! | [`training`] | training runs on real data: spec, recipes, one protocol over CPU and GPU backends, devices |
//! | [`grid`] | Figure 6(b)/(c)/(e)/(f): the keep × depth grid, resumable cell store, shards, boundary vs 6ξ_c |
//! | [`record`] | the JSON records every command prints, as public types |
//! | [`output`] | CSV/JSON/PNG writing with errors that name the file |

#![deny(missing_docs)]

mod error;
pub mod figs;
pub mod grid;
pub mod output;
pub mod paper;
pub mod record;
pub mod reproduce;
pub mod training;
pub mod variance_depth;

pub use error::ExperimentError;
