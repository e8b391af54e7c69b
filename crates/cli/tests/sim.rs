//! `simulate` and `figures`: JSON schema, verdict exit status, files.

use crate::common::noisyprop;
use serde_json::Value;

const SMALL: &[&str] = &[
    "--width",
    "256",
    "--networks",
    "12",
    "--depth",
    "8",
    "--pairs",
    "8",
    "-q",
];

#[test]
fn simulate_json_has_layers_and_verdict() {
    let out = noisyprop()
        .args([
            "simulate",
            "--noise",
            "dropout:keep=0.8",
            "--json",
            "--backward",
        ])
        .args(SMALL)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "simulation");
    for key in [
        "q_sim",
        "q_theory",
        "c_sim",
        "c_theory",
        "grad_q_sim",
        "grad_q_theory",
    ] {
        assert_eq!(v["layers"][key].as_array().unwrap().len(), 9, "{key}");
    }
    assert_eq!(v["verdict"]["pass"], true, "{}", v["verdict"]);
    let q = v["layers"]["q_theory"][8].as_f64().unwrap();
    assert!((q - 1.0).abs() < 1e-12);
}

#[test]
fn compare_exits_1_when_the_theory_is_wrong() {
    let ok = noisyprop()
        .args(["simulate", "--noise", "dropout:keep=0.8", "--compare"])
        .args(SMALL)
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("verdict: PASS"));
    let bad = noisyprop()
        .args([
            "simulate",
            "--noise",
            "dropout:keep=0.8",
            "--compare",
            "--theory-noise",
            "mult:mu2=1.375",
        ])
        .args(SMALL)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("verdict: FAIL"));
}

#[test]
fn simulate_rejects_bad_input() {
    for (args, needle) in [
        (
            vec!["simulate", "--width", "0"],
            "--width 0 is out of range",
        ),
        (
            vec!["simulate", "--width", "100000", "--pairs", "100000"],
            "GiB of memory needed",
        ),
        (vec!["simulate", "--c0", "2"], "--c0 2 is out of range"),
        (vec!["simulate", "--c0", "x"], "`x`"),
        (
            vec!["simulate", "--noise", "add:var=1", "--sigma-w2", "1"],
            "add:var=1",
        ),
        (
            vec!["simulate", "--networks", "1", "--compare"],
            "--networks 1",
        ),
        (vec!["figures", "--fig", "6"], "--fig 6"),
        (
            vec!["figures", "--networks", "1"],
            "--networks 1 is out of range",
        ),
    ] {
        let out = noisyprop().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn figures_write_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = noisyprop()
        .args([
            "figures",
            "--fig",
            "4",
            "--width",
            "40",
            "--networks",
            "3",
            "--partners",
            "4",
            "-q",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["fig4.png", "fig4a.csv", "fig4b.csv", "fig4c.csv"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let out = noisyprop()
        .args([
            "figures",
            "--fig",
            "2",
            "--width",
            "16",
            "--networks",
            "2",
            "-q",
            "--json",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["figures"][0]["figure"], 2);
    // Issue 9: notes are plain Unicode, no plot markup.
    for n in v["figures"][0]["notes"].as_array().unwrap() {
        let n = n.as_str().unwrap();
        assert!(!n.contains("_{") && !n.contains("^{"), "{n}");
    }
    assert!(
        v["figures"][0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("σ_w²")
    );
}

/// Issue 9: Figure 5 at a tiny size prints a fit or says why there is none —
/// never "NaN ± NaN".
#[test]
fn figure_5_never_prints_nan_fits() {
    let dir = tempfile::tempdir().unwrap();
    let out = noisyprop()
        .args([
            "figures",
            "--fig",
            "5",
            "--width",
            "24",
            "--networks",
            "3",
            "--partners",
            "3",
            "-q",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("NaN"), "{text}");
    assert!(text.contains("fitted") || text.contains("no fit"), "{text}");
}
