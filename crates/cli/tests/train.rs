//! `train`, `trainable-depth` and `variance-depth` end to end at tiny sizes,
//! including a grid killed mid-run and resumed.

use std::time::{Duration, Instant};

use crate::common::{json, noisyprop, run};

#[test]
fn train_json_has_per_epoch_losses() {
    let v = json(&[
        "train",
        "--quick",
        "--examples",
        "400",
        "--width",
        "32",
        "--depth",
        "2",
        "--epochs",
        "3",
        "--json",
        "-q",
    ]);
    assert_eq!(v["kind"], "training");
    assert_eq!(v["train_loss"].as_array().unwrap().len(), 3);
    assert_eq!(v["val_loss"].as_array().unwrap().len(), 3);
    assert_eq!(v["depth"], 2);
    assert!((v["sigma_w2"].as_f64().unwrap() - 1.8).abs() < 1e-12);
    let v = json(&[
        "train",
        "--quick",
        "--task",
        "classification",
        "--examples",
        "300",
        "--width",
        "32",
        "--epochs",
        "1",
        "--json",
        "-q",
    ]);
    assert_eq!(v["val_accuracy"].as_array().unwrap().len(), 1);
}

/// The command of the fixture's small grid (crates/cli/tests/fixtures/cells-2cbec5e).
fn fixture_args<'a>(store: &'a std::path::Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "trainable-depth",
        "--examples",
        "200",
        "--width",
        "8",
        "--epochs",
        "1",
        "--depths",
        "1,2",
        "--keeps",
        "0.3,1",
        "-q",
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs the fixture's grid with `--json`.
fn fixture_grid(store: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = fixture_args(store, extra);
    args.push("--json");
    json(&args)
}

/// Issue 8: cell keys are stable across the change to a typed network spec:
/// cells written by the previous version are found and not recomputed.
#[test]
fn cells_of_the_previous_version_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let cells = dir.path().join("cells");
    std::fs::create_dir_all(&cells).unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cells-2cbec5e");
    let mut copied = Vec::new();
    for e in std::fs::read_dir(&fixture).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let to = cells.join(p.file_name().unwrap());
            std::fs::copy(&p, &to).unwrap();
            copied.push((to, std::fs::read(&p).unwrap()));
        }
    }
    assert_eq!(copied.len(), 4);
    let v = fixture_grid(dir.path(), &[]);
    assert_eq!(v["run"]["skipped"], 4, "{v}");
    assert_eq!(v["run"]["computed"], 0, "{v}");
    assert_eq!(v["report"]["done"], 4);
    for (p, bytes) in copied {
        assert_eq!(
            std::fs::read(&p).unwrap(),
            bytes,
            "{} was rewritten",
            p.display()
        );
    }
}

/// The fixture grid computed in `dir`, and the path of one of its cell files.
fn fixture_with_a_cell(dir: &std::path::Path) -> std::path::PathBuf {
    fixture_grid(dir, &[]);
    std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

/// Reruns the fixture grid in `dir`; returns its exit code and stderr.
fn rerun_fixture(dir: &std::path::Path) -> (Option<i32>, String) {
    let (code, _, err) = run(&fixture_args(dir, &[]));
    (code, err)
}

/// A corrupt cell file is named and stops the run; `--recompute-corrupt`
/// computes that cell again and replaces the file.
#[test]
fn a_corrupt_cell_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let victim = fixture_with_a_cell(dir.path());
    std::fs::write(&victim, "{\"schema_version\": 2, \"kind\": \"trainable_dep").unwrap();
    let (code, err) = rerun_fixture(dir.path());
    assert_eq!(code, Some(2), "{err}");
    let name = victim.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        err.contains(&name) && err.contains("--recompute-corrupt"),
        "{err}"
    );
    let v = fixture_grid(dir.path(), &["--recompute-corrupt"]);
    assert_eq!(v["run"]["computed"], 1, "{v}");
    assert_eq!(v["run"]["recomputed_corrupt"], 1, "{v}");
    assert_eq!(v["report"]["done"], 4);
}

/// A hand-edited cell (another keep, a negative loss) is corrupt, not
/// counted as trained.
#[test]
fn an_edited_cell_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let victim = fixture_with_a_cell(dir.path());
    let original = std::fs::read_to_string(&victim).unwrap();
    let mut rec: serde_json::Value = serde_json::from_str(&original).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 2] = [
        ("is not its spec", |r| {
            r["keep"] = serde_json::json!(0.77);
        }),
        ("never negative", |r| {
            r["result"]["val_loss_baseline"] = serde_json::json!(-5.0);
        }),
    ];
    for (want, edit) in edits {
        let mut r = rec.clone();
        edit(&mut r);
        std::fs::write(&victim, r.to_string()).unwrap();
        let (code, err) = rerun_fixture(dir.path());
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
    rec["spec"]["width"] = serde_json::json!(9);
    std::fs::write(&victim, rec.to_string()).unwrap();
    let (_, err) = rerun_fixture(dir.path());
    assert!(err.contains("does not match its key"), "{err}");
}

/// Without a k·ξ_c prediction (tanh at its zero-from-above critical point;
/// He init with dropout, whose variance explodes) the grid says "none" and
/// why, counts no agreement, and keeps ∞ for no noise; the figure's curve
/// takes seconds, not minutes (it analysed 401 points per figure before).
#[test]
fn grids_without_a_prediction_say_none() {
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let store = dir.path().join("tanh");
    let mut args = fixture_args(&store, &["-a", "tanh"]);
    // One depth, keeps 0.5 and 0.9 instead of the fixture's.
    args[8] = "1";
    args[10] = "0.5,0.9";
    let (code, out, err) = run(&args);
    assert_eq!(code, Some(0), "{err}");
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    assert!(
        out.contains("no 6ξ_c prediction") && !out.contains('∞'),
        "{out}"
    );
    let v = fixture_grid(&dir.path().join("he"), &["--init", "he"]);
    let rep = &v["report"];
    for c in rep["cells"].as_array().unwrap() {
        if c["keep"] == 1.0 {
            assert_eq!(c["predicted_unbounded"], true, "{c}");
            assert_eq!(c["predicted_trainable"], true, "{c}");
        } else {
            assert!(c["predicted_trainable"].is_null(), "{c}");
        }
    }
    assert_eq!(rep["unpredicted"], 2, "{rep}");
}

/// One cell (here from duplicate lists) trains once and draws a one-cell map.
#[test]
fn a_one_cell_grid_with_duplicates_trains_once_and_draws() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&[
        "trainable-depth",
        "--examples",
        "200",
        "--width",
        "8",
        "--epochs",
        "1",
        "--depths",
        "2,2,2",
        "--keeps",
        "0.5,0.5,0.5000000000000001",
        "--json",
        "-q",
        "--store",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(v["run"]["total"], 1, "{v}");
    assert_eq!(v["run"]["computed"], 1, "{v}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("cells")).unwrap().count(),
        1
    );
    for f in ["trainable-depth-val.png", "trainable-depth-train.png"] {
        let bytes = std::fs::read(dir.path().join(f)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{f}");
    }
}

#[test]
fn quick_trainable_depth_preset_runs_and_draws_its_figure() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("grid");
    let v = json(&[
        "trainable-depth",
        "--preset",
        "quick",
        "--examples",
        "200",
        "--width",
        "16",
        "--epochs",
        "1",
        "--depths",
        "1,3",
        "--keeps",
        "0.5,1",
        "--json",
        "-q",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(v["report"]["done"], 4);
    for f in [
        "trainable-depth-val.png",
        "trainable-depth-train.png",
        "trainable-depth.csv",
        "trainable-depth.json",
    ] {
        assert!(store.join(f).exists(), "{f}");
    }
    assert_eq!(std::fs::read_dir(store.join("cells")).unwrap().count(), 4);
}

#[test]
fn a_killed_grid_resumes_without_redoing_finished_cells() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("grid");
    let args = [
        "trainable-depth",
        "--examples",
        "1500",
        "--width",
        "96",
        "--epochs",
        "2",
        "--depths",
        "1,2,3,4,5,6",
        "--keeps",
        "0.6,0.9",
        "-q",
        "--store",
        store.to_str().unwrap(),
    ];
    let bin = assert_cmd::cargo::cargo_bin("noisyprop");
    let mut child = std::process::Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cells = store.join("cells");
    let start = Instant::now();
    let finished = |d: &std::path::Path| {
        std::fs::read_dir(d)
            .map(|r| {
                r.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
                })
                .count()
            })
            .unwrap_or(0)
    };
    while finished(&cells) == 0 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&cells)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    let k = before.len();
    assert!(k >= 1);
    eprintln!("killed with {k} of 12 cells finished");
    let mut all: Vec<&str> = args.to_vec();
    all.push("--json");
    let v = json(&all);
    assert_eq!(v["run"]["total"], 12);
    assert_eq!(v["run"]["skipped"].as_u64().unwrap() as usize, k);
    assert_eq!(v["run"]["computed"].as_u64().unwrap() as usize, 12 - k);
    assert_eq!(v["report"]["done"], 12);
    for (p, bytes) in &before {
        assert_eq!(
            &std::fs::read(p).unwrap(),
            bytes,
            "{} was rewritten",
            p.display()
        );
    }
}

#[test]
fn variance_depth_json_per_sigma_w2() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&[
        "variance-depth",
        "--examples",
        "16",
        "--width",
        "64",
        "--max-depth",
        "120",
        "--sigma-w2-range",
        "0.6:2:3",
        "--json",
        "-q",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let rows = v["sigma_w2"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for r in rows {
        assert!(
            r.get("sigma_w2").is_some()
                && r.get("first_unstable_layer").is_some()
                && r.get("theory_depth").is_some()
        );
    }
    // σ_w² = 0.6 underflows near its theory depth (≈ 124 > 120: none yet); σ_w² = 2 overflows near 177 > 120.
    assert!(dir.path().join("variance-depth.png").exists());
}

#[test]
fn training_commands_reject_bad_input() {
    for (args, needle) in [
        (vec!["train", "--dataset", "imagenet"], "imagenet"),
        (vec!["train", "--init", "sideways"], "sideways"),
        (vec!["train", "--init", "-1"], "-1"),
        (
            vec!["train", "--lr", "0", "--examples", "50"],
            "--lr 0 is out of range",
        ),
        (
            vec!["train", "--examples", "0"],
            "--examples 0 is out of range",
        ),
        (
            vec!["train", "--depth", "0", "--examples", "50"],
            "--depth 0 is out of range; valid range is [1, 10000]",
        ),
        (vec!["train", "--dataset", "cifar10"], "cifar10"),
        (
            // Without the `cuda` feature: how to rebuild; with it, an activation the
            // kernels lack is refused before any device is opened.
            vec![
                "train",
                "--device",
                "cuda",
                "--activation",
                "gelu",
                "--init",
                "2",
                "--examples",
                "50",
            ],
            if cfg!(feature = "cuda") {
                "activation gelu is not supported on the GPU"
            } else {
                "cargo build --release -p noisyprop --features cuda"
            },
        ),
        (
            vec!["train", "--precision", "tf32"],
            "--precision: `tf32` applies to the GPU only",
        ),
        (
            vec!["trainable-depth", "--precision", "bf16"],
            "--device cuda",
        ),
        (vec!["train", "--precision", "fp16"], "fp16"),
        (
            vec![
                "train",
                "--noise",
                "gauss-add:std=1",
                "--examples",
                "50",
                "--epochs",
                "1",
            ],
            "no critical",
        ),
        (
            vec!["trainable-depth", "--keeps", "1.5"],
            "--keeps 1.5 is out of range",
        ),
        (
            vec!["trainable-depth", "--depths", "0"],
            "--depths 0 is out of range",
        ),
        (
            vec!["train", "--width", "1000000", "--examples", "100"],
            "GiB of memory needed",
        ),
        (vec!["trainable-depth", "--shard", "3/2"], "3/2"),
        (
            vec!["variance-depth", "--width", "1000000", "--examples", "8"],
            "GiB of memory needed",
        ),
        (
            vec![
                "variance-depth",
                "--noise",
                "gauss-add:std=1",
                "--examples",
                "8",
                "--max-depth",
                "5",
            ],
            "multiplicative",
        ),
        (
            vec![
                "train",
                "--data-dir",
                "/nonexistent",
                "--dataset",
                "fashion-mnist",
            ],
            "/nonexistent",
        ),
    ] {
        let out = noisyprop().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// With the `cuda` feature, `--device cuda` trains on device 0 or says why CUDA
/// is not available (exit status 2), never panicking.
#[cfg(feature = "cuda")]
#[test]
fn device_cuda_trains_or_says_cuda_is_not_available() {
    let args = [
        "train",
        "--device",
        "cuda",
        "--precision",
        "tf32",
        "--examples",
        "100",
        "--width",
        "16",
        "--depth",
        "1",
        "--epochs",
        "1",
        "--json",
        "-q",
    ];
    let out = noisyprop().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    if out.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["device"].as_str().unwrap().starts_with("cuda:"), "{v}");
        assert!(v["val_loss"][0].as_f64().unwrap().is_finite());
    } else {
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("CUDA not available: "), "{err}");
    }
}
