//! cargo-fuzz target `ranges`: the checks are in harness/ranges.rs (shared with
//! the stable replay test of the crate that owns the code).
#![no_main]

#[path = "../harness/ranges.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
