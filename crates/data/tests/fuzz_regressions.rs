//! Replays the kept fuzz corpora of the IDX and CIFAR-10 readers
//! (`fuzz/corpus/idx/`, `fuzz/corpus/cifar/`) through the fuzz targets' own
//! checks (`fuzz/harness/<target>.rs`), on stable. See fuzz/README.md.

#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[path = "../../../fuzz/harness/idx.rs"]
mod idx;

#[path = "../../../fuzz/harness/cifar.rs"]
mod cifar;

#[test]
fn idx_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "idx", idx::run);
}

#[test]
fn cifar_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "cifar", cifar::run);
}
