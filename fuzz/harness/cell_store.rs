//! Harness of the fuzz target `cell_store`: the trainable-depth grid's cell
//! store read-back (`grid::read_cell`, on the bytes written to a temporary
//! file) and serde_json reading of the stored types: `CellRecord`, the
//! reproduction's `Report` (also as printed, `Record<Report>`) and its
//! `PartReport`.
//!
//! Properties: `read_cell` of an existing file never fails (a file that
//! cannot be read back is `Corrupt`, with a reason) and a `Done` cell is
//! consistent (its key, the hash of its spec, its keep and its spec's noise,
//! no negative loss) and reads back as itself once written again. Every type
//! that deserialises serialises to JSON that reads back to the same JSON, and
//! to an equal value (`PartialEq`) where the value equals itself (a NaN
//! loss, stored as `null`, does not) — after one read, which puts noise
//! specs in their canonical 12-digit form.
//!
//! Shared by `fuzz/fuzz_targets/cell_store.rs` and the experiments crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/cell_store/`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use noisyprop_experiments::grid::{CellRecord, CellStatus, GridSpec, cell_key, read_cell};
use noisyprop_experiments::record::Record;
use noisyprop_experiments::reproduce::{PartReport, Report};

/// The key used when the input names none.
const KEY: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    round_trip::<CellRecord>(data);
    round_trip::<Report>(data);
    round_trip::<Record<Report>>(data);
    round_trip::<PartReport>(data);
    // The key the file claims, so that the checks past the key run too.
    let key = serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("key")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| KEY.to_owned());
    let file = TempFile::new();
    if std::fs::write(&file.0, data).is_err() {
        return;
    }
    match read_cell(&file.0, &key) {
        Ok(CellStatus::Done(rec)) => check_done(&rec, &key, &file),
        Ok(CellStatus::Corrupt(reason)) => assert!(!reason.is_empty(), "corrupt, no reason"),
        Ok(CellStatus::Missing) => panic!("an existing file read as missing"),
        Err(e) => panic!("read_cell failed on an existing file: {e}"),
    }
}

fn check_done(rec: &CellRecord, key: &str, file: &TempFile) {
    assert_eq!(rec.key, key);
    assert_eq!(
        cell_key(&rec.spec).ok().as_deref(),
        Some(key),
        "key ≠ hash of spec"
    );
    assert!(
        GridSpec::noise(rec.keep) == rec.spec.noise,
        "keep ≠ the spec's noise"
    );
    let r = &rec.result;
    for v in [
        r.final_train_loss(),
        r.final_val_loss(),
        r.val_loss_init,
        r.val_loss_baseline,
    ] {
        assert!(v.is_nan() || v >= 0.0, "a negative loss {v} read as done");
    }
    // Written again (as the store writes it), it reads back as itself.
    let Ok(text) = serde_json::to_string_pretty(rec) else {
        panic!("a done cell cannot be written");
    };
    if std::fs::write(&file.0, &text).is_err() {
        return;
    }
    match read_cell(&file.0, key) {
        Ok(CellStatus::Done(again)) => {
            assert_eq!(json(&*again), json(rec), "rewritten cell reads differently");
        }
        other => panic!("a done cell, written again, reads as {other:?}"),
    }
}

fn json<T: Serialize>(v: &T) -> String {
    match serde_json::to_string(v) {
        Ok(s) => s,
        Err(e) => panic!("a value read from JSON cannot be written: {e}"),
    }
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let s1 = json(&first);
    let second: T = match serde_json::from_str(&s1) {
        Ok(v) => v,
        Err(e) => panic!(
            "{} does not read back its own JSON {s1}: {e}",
            type_name::<T>()
        ),
    };
    let s2 = json(&second);
    assert_eq!(s1, s2, "{}: JSON is not a fixed point", type_name::<T>());
    let third: T = match serde_json::from_str(&s2) {
        Ok(v) => v,
        Err(e) => panic!("{}: {e}", type_name::<T>()),
    };
    #[allow(clippy::eq_op)]
    if second == second {
        assert_eq!(second, third, "{}", type_name::<T>());
    }
}

fn type_name<T>() -> &'static str {
    std::any::type_name::<T>()
}

/// A file of its own per call (tests run on several threads), removed on
/// drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempFile(std::env::temp_dir().join(format!(
            "noisyprop-fuzz-cell-{}-{n}.json",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
