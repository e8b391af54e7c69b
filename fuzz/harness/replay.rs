//! The stable replay of a kept corpus (not a fuzz target): every file of
//! `fuzz/corpus/<target>/` through the target's harness, as the crates'
//! `tests/fuzz_regressions.rs` run it in `cargo test --workspace`.

use std::path::{Path, PathBuf};

/// The fewest files a corpus may hold, so that a missing or emptied corpus
/// fails instead of passing vacuously.
pub const MIN_FILES: usize = 10;

/// Runs `run` on every file of `fuzz/corpus/<target>/`, `crate_dir` being
/// the calling crate's `CARGO_MANIFEST_DIR`; panics naming every input whose
/// run panicked (each one's own message is printed as it happens).
pub fn replay(crate_dir: &str, target: &str, run: fn(&[u8])) {
    let dir = Path::new(crate_dir).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect(),
        Err(e) => panic!("cannot read the corpus {}: {e}", dir.display()),
    };
    files.sort();
    assert!(
        files.len() >= MIN_FILES,
        "{}: {} files, fewer than {MIN_FILES}",
        dir.display(),
        files.len()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = match std::fs::read(path) {
                Ok(d) => d,
                Err(e) => panic!("cannot read {}: {e}", path.display()),
            };
            std::panic::catch_unwind(|| run(&data)).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs fail: {failed:#?}",
        failed.len(),
        files.len()
    );
}
