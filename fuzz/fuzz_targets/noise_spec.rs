//! cargo-fuzz target `noise_spec`: the checks are in harness/noise_spec.rs (shared with
//! the stable replay test of the crate that owns the code).
#![no_main]

#[path = "../harness/noise_spec.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
