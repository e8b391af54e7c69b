//! Replays the kept fuzz corpora of the shard argument and the cell store
//! (`fuzz/corpus/shard_spec/`, `fuzz/corpus/cell_store/`) through the fuzz
//! targets' own checks (`fuzz/harness/<target>.rs`), on stable.
//! See fuzz/README.md.

#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[path = "../../../fuzz/harness/shard_spec.rs"]
mod shard_spec;

#[path = "../../../fuzz/harness/cell_store.rs"]
mod cell_store;

#[test]
fn shard_spec_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "shard_spec", shard_spec::run);
}

#[test]
fn cell_store_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "cell_store", cell_store::run);
}
