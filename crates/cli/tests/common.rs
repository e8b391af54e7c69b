//! Helpers shared by the end-to-end test modules.

use assert_cmd::Command;
use serde_json::Value;

/// The `noisyprop` binary under test.
pub fn noisyprop() -> Command {
    Command::cargo_bin("noisyprop").unwrap()
}

/// Runs `noisyprop` with `args`, requires success and parses stdout as JSON.
pub fn json(args: &[&str]) -> Value {
    let out = noisyprop().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `noisyprop` with `args`; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = noisyprop().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
