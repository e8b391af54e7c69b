//! End-to-end tests of the `noisyprop` binary, one module per area:
//! `cli` (theory subcommands: schema, values, bad input), `sim` (simulate
//! and figures), `train` (training commands, resumable grid, cell store),
//! `records` (every `--json` reads back into its library type), `readme` (the
//! README examples print what the README shows), `new_user` (what a new
//! user met off the README's path), `reproduce` (the report, in a browser
//! too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod common;
mod new_user;
mod readme;
mod records;
mod reproduce;
mod sim;
mod slurm;
mod train;
