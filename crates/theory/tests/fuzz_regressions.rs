//! Replays the kept fuzz corpora of the noise and activation parsers
//! (`fuzz/corpus/noise_spec/`, `fuzz/corpus/activation_spec/`) through the
//! fuzz targets' own checks (`fuzz/harness/<target>.rs`), on stable.
//! See fuzz/README.md.

#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[path = "../../../fuzz/harness/noise_spec.rs"]
mod noise_spec;

#[path = "../../../fuzz/harness/activation_spec.rs"]
mod activation_spec;

#[test]
fn noise_spec_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "noise_spec", noise_spec::run);
}

#[test]
fn activation_spec_corpus() {
    replay::replay(
        env!("CARGO_MANIFEST_DIR"),
        "activation_spec",
        activation_spec::run,
    );
}
