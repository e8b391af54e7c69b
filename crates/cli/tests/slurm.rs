//! `reproduce --executor slurm` end to end on a real single-node Slurm
//! (started by `.ci/slurm-up.sh`).
//!
//! The tests are `#[ignore]`d, so a plain `cargo test` reports them as
//! ignored rather than passed; `.ci/run` starts Slurm, sets
//! `NOISYPROP_SLURM_E2E=1` and runs them with `--ignored`:
//! `NOISYPROP_SLURM_E2E=1 cargo test -p noisyprop --test tests slurm -- --ignored --test-threads=1`.
//! Run without that variable they are skipped with a note, except under CI
//! (`CI=true`), where they fail.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{require, run};

/// Whether Slurm is up (`NOISYPROP_SLURM_E2E` set); if not, fails under CI and
/// is skipped with a note elsewhere.
fn enabled() -> bool {
    require(
        std::env::var_os("NOISYPROP_SLURM_E2E").map(drop),
        "a running Slurm (NOISYPROP_SLURM_E2E is not set)",
        "`.ci/run` starts one with `.ci/slurm-up.sh` (as root, with apt-get) and sets NOISYPROP_SLURM_E2E=1",
    )
    .is_some()
}

/// The two job ids of a submission's output.
fn job_ids(text: &str) -> (String, String) {
    let word_after = |key: &str| {
        text.split(key)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no `{key}` in: {text}"))
            .to_string()
    };
    (word_after("array job "), word_after("report job "))
}

/// Waits until none of `jobs` is queued or running.
fn wait(jobs: &[&str], limit: Duration) {
    let start = Instant::now();
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-j", &jobs.join(",")])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "jobs {jobs:?} still queued after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Every claim (id, ours, verdict) of a report, for comparing runs cell for
/// cell.
fn claims(dir: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    v["parts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["claims"].as_array().unwrap().clone())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["ours"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn submit(out: &Path, preset: &str, parts: &str) -> (String, String) {
    let (code, text, err) = run(&[
        "reproduce",
        "--preset",
        preset,
        "--parts",
        parts,
        "-o",
        out.to_str().unwrap(),
        "--executor",
        "slurm",
        "--slurm-array-size",
        "4",
    ]);
    assert_eq!(code, Some(0), "{err}");
    job_ids(&text)
}

/// A sharded run on Slurm gives the report of a local run claim for claim,
/// and a rerun submits nothing.
#[test]
#[ignore = "needs a running Slurm: NOISYPROP_SLURM_E2E=1 and --ignored (.ci/run)"]
fn slurm_run_equals_local_run() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let parts = "tables,fig2,fig4,variance-depth,trainable-depth";
    let local = dir.path().join("local");
    let (code, _, err) = run(&[
        "reproduce",
        "--preset",
        "smoke",
        "--parts",
        parts,
        "-o",
        local.to_str().unwrap(),
        "-q",
    ]);
    assert!(code == Some(0) || code == Some(1), "{err}");
    let cluster = dir.path().join("slurm");
    let (array, report) = submit(&cluster, "smoke", parts);
    wait(&[&array, &report], Duration::from_secs(180));
    assert!(
        cluster.join("report.html").is_file(),
        "no report; logs: {:?}",
        std::fs::read_dir(cluster.join("slurm/logs")).map(|d| d.count())
    );
    assert_eq!(claims(&local), claims(&cluster));
    assert!(!claims(&cluster).is_empty());
    // The cluster's verdicts stand on the numbers it recorded.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cluster.join("report.json")).unwrap())
            .unwrap();
    assert!(crate::reproduce::rejudge(&report) > 0);
    // Everything is done: a rerun submits nothing and assembles here.
    let (code, text, err) = run(&[
        "reproduce",
        "--preset",
        "smoke",
        "--parts",
        parts,
        "-o",
        cluster.to_str().unwrap(),
        "--executor",
        "slurm",
        "--slurm-array-size",
        "4",
    ]);
    assert!(code == Some(0) || code == Some(1), "{err}");
    assert!(text.contains("nothing to submit"), "{text}");
    assert!(!text.contains("submitted"), "{text}");
}

/// A run cancelled mid-way (`scancel`) is reported with what is missing and
/// the shards' logs; resubmitted, it completes without recomputing the
/// cells that were already finished.
#[test]
#[ignore = "needs a running Slurm: NOISYPROP_SLURM_E2E=1 and --ignored (.ci/run)"]
fn cancelled_slurm_run_resumes_without_recomputing() {
    if !enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let (array, report) = submit(&out, "quick", "trainable-depth");
    let cells = out.join("trainable-depth").join("cells");
    let count = |d: &Path| {
        std::fs::read_dir(d).map_or(0, |r| {
            r.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .count()
        })
    };
    let start = Instant::now();
    while count(&cells) < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no cells appeared"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = Command::new("scancel").arg(&array).status().unwrap();
    assert!(status.success());
    wait(&[&array, &report], Duration::from_secs(60));
    // The report job ran after the cancelled array and names what is missing.
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let part = &rep["parts"][0];
    let complete = part["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "fig6bc/complete")
        .unwrap_or_else(|| panic!("no completeness claim: {part}"));
    assert_eq!(complete["verdict"], "fail");
    assert!(
        complete["ours"]
            .as_str()
            .unwrap()
            .contains(&format!("{array}_")),
        "{complete}"
    );
    // Snapshot the finished cells, resubmit, and check none was redone.
    let before: Vec<(std::path::PathBuf, Vec<u8>, std::time::SystemTime)> =
        std::fs::read_dir(&cells)
            .unwrap()
            .filter_map(|e| {
                let p = e.ok()?.path();
                (p.extension()? == "json").then(|| {
                    let m = std::fs::metadata(&p).unwrap().modified().unwrap();
                    (p.clone(), std::fs::read(&p).unwrap(), m)
                })
            })
            .collect();
    assert!(
        before.len() < 36,
        "the cancel came too late to test a resume"
    );
    let (array2, report2) = submit(&out, "quick", "trainable-depth");
    wait(&[&array2, &report2], Duration::from_secs(300));
    assert_eq!(count(&cells), 36);
    for (p, bytes, m) in before {
        assert_eq!(
            std::fs::read(&p).unwrap(),
            bytes,
            "{} was rewritten",
            p.display()
        );
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), m);
    }
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let ids: Vec<&str> = rep["parts"][0]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"fig6bc/complete"), "{ids:?}");
    assert!(ids.contains(&"fig6bc/agreement"));
}
