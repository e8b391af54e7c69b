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

/// An optional dependency of a test (a browser, a running Slurm): `found` when it is
/// there. Where it is missing, fails the test under CI (`CI=true`, where `.ci/run`
/// provides every one of them), naming `what` and `how` it is provided; elsewhere prints
/// why the test is skipped and returns `None`, so the test can `return`:
///
/// `let Some(browser) = require(find_browser(), "headless Chromium", "...") else { return };`
pub fn require<T>(found: Option<T>, what: &str, how: &str) -> Option<T> {
    if found.is_some() {
        return found;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing; {how} (CI=true: optional test dependencies are required)");
    }
    eprintln!("skipped: {what} is missing; {how} (a failure under CI=true)");
    None
}
