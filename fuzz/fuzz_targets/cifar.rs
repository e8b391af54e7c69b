//! cargo-fuzz target `cifar`: the checks are in harness/cifar.rs (shared with
//! the stable replay test of the crate that owns the code).
#![no_main]

#[path = "../harness/cifar.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
