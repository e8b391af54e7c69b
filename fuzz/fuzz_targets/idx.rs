//! cargo-fuzz target `idx`: the checks are in harness/idx.rs (shared with
//! the stable replay test of the crate that owns the code).
#![no_main]

#[path = "../harness/idx.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
