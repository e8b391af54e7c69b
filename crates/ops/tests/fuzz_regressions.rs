//! Replays the kept fuzz corpus of the operations layer's range, grid and
//! request readers (`fuzz/corpus/ranges/`) through the fuzz target's own
//! checks (`fuzz/harness/ranges.rs`), on stable. See fuzz/README.md.

#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[path = "../../../fuzz/harness/ranges.rs"]
mod ranges;

#[test]
fn ranges_corpus() {
    replay::replay(env!("CARGO_MANIFEST_DIR"), "ranges", ranges::run);
}
