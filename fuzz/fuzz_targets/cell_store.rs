//! cargo-fuzz target `cell_store`: the checks are in harness/cell_store.rs (shared with
//! the stable replay test of the crate that owns the code).
#![no_main]

#[path = "../harness/cell_store.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
