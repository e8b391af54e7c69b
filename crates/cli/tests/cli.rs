//! End-to-end tests of the theory subcommands: JSON schema, values, files.

use crate::common::{json, noisyprop};

#[test]
fn analyze_json_has_the_documented_keys() {
    let v = json(&[
        "analyze",
        "--activation",
        "relu",
        "--noise",
        "dropout:keep=0.6",
        "--critical",
        "--json",
    ]);
    for key in [
        "kind",
        "schema_version",
        "mu2",
        "sigma_w2",
        "sigma_b2",
        "critical_sigma_w2",
        "q_star",
        "chi_1",
        "c_star",
        "chi_c",
        "xi_c",
        "trainable_depth",
        "overflow_depth",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["kind"], "analysis");
    // Dropout p = 0.6 at σ_w² = 1.2: c* and ξ_c of spec 2.10 (docs/paper-spec.md
    // §2.10) to 5 digits; crates/theory/tests/golden/depth_scales.csv (mpmath 30
    // digits) has 0.283908653549875 and 0.965533025650831.
    assert!((v["c_star"].as_f64().unwrap() - 0.28391).abs() < 5e-6);
    assert!((v["xi_c"].as_f64().unwrap() - 0.96553).abs() < 5e-6);
    assert!((v["sigma_w2"].as_f64().unwrap() - 1.2).abs() < 1e-15);
    for f in ["f16", "bf16", "f32", "f64"] {
        assert!(
            v["overflow_depth"][f].is_null(),
            "critical ReLU never overflows"
        );
    }
}

#[test]
fn analyze_reports_missing_critical_point_as_null() {
    let v = json(&[
        "analyze",
        "--noise",
        "gauss-add:std=1",
        "--sigma-w2",
        "2",
        "--json",
    ]);
    assert!(v["critical_sigma_w2"].is_null());
    assert!(v["q_star"].is_null());
    assert_eq!(v["regime"], "exploding-linear");
    assert!(
        v["critical_reason"]
            .as_str()
            .unwrap()
            .contains("additive noise")
    );
    // q = 1 + 2l passes 65504 at l = 32751.5.
    assert_eq!(v["overflow_depth"]["f16"].as_f64(), Some(32751.5));
    // Off-critical dropout: the spec 2.6 L* (σ_w² = 2, p = 0.6: 173.7 layers),
    // L* = ln(f32::MAX)/ln(σ_w² μ₂/2) = 88.7228/ln(5/3).
    let v = json(&[
        "analyze",
        "--noise",
        "dropout:keep=0.6",
        "--sigma-w2",
        "2",
        "--json",
    ]);
    assert!((v["overflow_depth"]["f32"].as_f64().unwrap() - 173.7).abs() < 0.05);
    assert_eq!(v["overflow_direction"], "overflow");
}

#[test]
fn analyze_quadrature_cross_checks_closed_form() {
    let exact = json(&[
        "analyze",
        "--noise",
        "dropout:keep=0.8",
        "--sigma-w2",
        "1.3",
        "--sigma-b2",
        "0.1",
        "--json",
    ]);
    let quad = json(&[
        "analyze",
        "--noise",
        "dropout:keep=0.8",
        "--sigma-w2",
        "1.3",
        "--sigma-b2",
        "0.1",
        "--json",
        "--quadrature",
    ]);
    for key in ["q_star", "c_star", "chi_c", "chi_1"] {
        let (a, b) = (exact[key].as_f64().unwrap(), quad[key].as_f64().unwrap());
        assert!((a - b).abs() < 1e-10, "{key}: {a} vs {b}");
    }
    assert!(quad["integration"]["error_estimate"].as_f64().unwrap() < 1e-10);
}

#[test]
fn init_speaks_each_frameworks_convention() {
    let out = noisyprop()
        .args(["init", "--noise", "Dropout(0.2)", "--framework", "pytorch"])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("nn.Dropout(p=0.2)"), "{s}");
    assert!(s.contains("math.sqrt(1.6 / layer.in_features)"), "{s}");
    assert!(s.contains("DROP probability"), "{s}");
    let v = json(&[
        "init",
        "--noise",
        "dropout:keep=0.9",
        "--json",
        "--fan-in",
        "400",
    ]);
    assert!((v["sigma_w2"].as_f64().unwrap() - 1.8).abs() < 1e-15);
    assert!((v["weight_std"].as_f64().unwrap() - (1.8f64 / 400.0).sqrt()).abs() < 1e-15);
    for f in ["pytorch", "keras", "flax", "burn", "candle"] {
        assert!(v["code"][f].as_str().unwrap().contains("0.1"), "{f}");
    }
    assert!((v["trainable_depth"].as_f64().unwrap() - 13.64).abs() < 5e-3);
}

#[test]
fn trajectory_csv_follows_the_variance_map() {
    let out = noisyprop()
        .args([
            "trajectory",
            "-a",
            "tanh",
            "--noise",
            "gauss-add:std=1",
            "--sigma-w2",
            "1",
            "--q0",
            "4",
            "--depth",
            "4",
            "--csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "layer,q,c,chi_1,grad_second_moment,grad_correlation"
    );
    let q: Vec<f64> = lines
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    // spec 3.1: 4 → 1.635 → 1.484 → 1.466 → 1.464 (tanh, σ_w² = 1, additive
    // N(0, 1): q^l = E[tanh(√q^{l−1} z)²] + 1; mpmath at 30 digits gives
    // 1.6352612, 1.4839392, 1.4663308, 1.464159).
    for (got, want) in q.iter().zip([4.0, 1.635, 1.484, 1.466, 1.464]) {
        assert!((got - want).abs() < 5e-4, "{got} vs {want}");
    }
}

#[test]
fn phase_writes_json_csv_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("phase.png");
    let v = json(&[
        "phase",
        "--x-range",
        "0.5:3:6",
        "--y-range",
        "1:2:4",
        "--json",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert_eq!(v["cells"].as_array().unwrap().len(), 24);
    let crit = v["critical_line"].as_array().unwrap();
    for (y, s) in v["y"].as_array().unwrap().iter().zip(crit) {
        assert!((s.as_f64().unwrap() - 2.0 / y.as_f64().unwrap()).abs() < 1e-12);
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let out = noisyprop()
        .args([
            "phase",
            "-a",
            "tanh",
            "--y",
            "sigma-b2",
            "--x-range",
            "1:3:3",
            "--y-range",
            "0:0.1:2",
            "--csv",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("sigma_w2,sigma_b2,mu2,"), "{text}");
    assert_eq!(text.lines().count(), 7);
}

/// Every bad input exits 2 with a message naming the value and the valid
/// range, and never panics.
#[test]
fn bad_input_is_a_clear_error() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["analyze", "--noise", "dropout:keep=1.5"],
            &["keep = 1.5", "(0, 1]"],
        ),
        (
            &["analyze", "--noise", "dropout:keep=0"],
            &["keep = 0", "(0, 1]"],
        ),
        (
            &["analyze", "--noise", "dropout:drop=1"],
            &["drop = 1", "[0, 1)"],
        ),
        (
            &["analyze", "--noise", "gauss-add:std=-1"],
            &["std = -1", "[0, 1e6]"],
        ),
        (
            &["analyze", "--noise", "gauss-mult:std=NaN"],
            &["std = NaN"],
        ),
        (
            &["analyze", "--noise", "dropout:p=0.5"],
            &["`p`", "keep, drop"],
        ),
        (
            &["analyze", "--noise", "salt:p=1"],
            &["unknown noise `salt`"],
        ),
        (&["analyze", "--noise", "dropout:keep"], &["NAME=VALUE"]),
        (
            &["analyze", "--noise", "Dropout(2)"],
            &["drop rate = 2", "[0, 1)"],
        ),
        (
            &["analyze", "-a", "tanhh"],
            &["unknown activation `tanhh`", "relu"],
        ),
        (
            &["analyze", "-a", "elu:alpha=0"],
            &["alpha = 0", "(0, 1e6]"],
        ),
        (
            &["analyze", "--sigma-w2", "-1"],
            &["--sigma-w2 -1 is out of range", "(0, inf)"],
        ),
        (&["analyze", "--sigma-w2", "nan"], &["--sigma-w2 NaN"]),
        (&["analyze", "--sigma-w2", "inf"], &["--sigma-w2 inf"]),
        (
            &["analyze", "--sigma-w2", "1", "--sigma-b2", "-0.1"],
            &["--sigma-b2 -0.1", "[0, inf)"],
        ),
        (&["analyze", "--q0", "0"], &["--q0 0", "(0, inf)"]),
        (
            &["analyze", "--depth-multiplier", "-6"],
            &["--depth-multiplier -6", "(0, inf)"],
        ),
        (
            &["analyze", "--sigma-w2", "1e308", "--sigma-b2", "-1e308"],
            &["--sigma-b2 -1e308"],
        ),
        (&["analyze", "--nodes", "2"], &["--nodes 2", "[4, 1024]"]),
        (
            &["analyze", "--noise", "gauss-add:std=1"],
            &["no critical σ_w²", "--sigma-w2"],
        ),
        (&["analyze", "--sigma-w2", "abc"], &["abc"]),
        (&["init", "--sigma-w2", "1"], &["--sigma-w2"]),
        (&["init", "--fan-in", "0"], &["--fan-in 0"]),
        (&["trajectory", "--c0", "1.5"], &["--c0 1.5", "[-1, 1]"]),
        (&["trajectory", "--q0", "-1"], &["--q0 -1"]),
        (
            &["phase", "--y-range", "0.5:2:3"],
            &["--y-range", "[1, inf)"],
        ),
        (&["phase", "--x-range", "0:2:3"], &["--x-range", "(0, inf)"]),
        (&["phase", "--x-range", "1:2:0"], &["0 points"]),
        (&["phase", "--x-range", "1:2"], &["MIN:MAX:N"]),
        (
            &["phase", "--contours", "-5"],
            &["--contours -5", "(0, inf)"],
        ),
        (
            &[
                "phase",
                "--png",
                "/proc/x.png",
                "--x-range",
                "1:2:2",
                "--y-range",
                "1:2:2",
            ],
            &["/proc/x.png"],
        ),
        (
            &[
                "phase",
                "--png",
                "/nonexistent-dir/x.png",
                "--x-range",
                "1:2:2",
                "--y-range",
                "1:2:2",
            ],
            &["/nonexistent-dir/x.png"],
        ),
        (
            &["phase", "--noise", "dropout:keep=0.8"],
            &["--y mu2", "dropout:keep=0.8", "--y sigma-b2"],
        ),
        (&["phase", "--sigma-w2", "2"], &["--sigma-w2"]),
        (&["phase", "--png", "phase.svg"], &["phase.svg", ".png"]),
        (
            &["simulate", "--pairs", "0", "--depth", "2"],
            &["--pairs 0", "[1, 1000000]"],
        ),
        (
            &["analyze", "-a", "re\u{7}lu"],
            &["unknown activation `re\\u{7}lu`"],
        ),
        (&["frobnicate"], &["frobnicate"]),
    ];
    for (args, needles) in cases {
        let out = noisyprop().args(*args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: `{n}` not in: {err}");
        }
    }
}

/// Issue 9: GELU with dropout has no critical point at σ_b² = 0 (q* = 0 is
/// unstable there), and the error says where the edge of chaos starts; with
/// σ_b² = 0.1 the reason names the unstable fixed points instead of
/// contradicting itself.
#[test]
fn issue_9_gelu_has_no_critical_init_and_says_why() {
    let out = noisyprop()
        .args(["init", "-a", "gelu", "--noise", "dropout:keep=0.8"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unstable") && err.contains("edge of chaos starts at σ_b² = 0.17"),
        "{err}"
    );
    let v = json(&[
        "analyze",
        "-a",
        "gelu",
        "--noise",
        "dropout:keep=0.8",
        "--sigma-b2",
        "0.1",
        "--sigma-w2",
        "2",
        "--json",
    ]);
    assert_eq!(v["critical_kind"], "none");
    let reason = v["critical_reason"].as_str().unwrap();
    assert!(reason.contains("only at unstable fixed points"), "{reason}");
    assert!(!reason.contains("stays below 1"), "{reason}");
    // The GELU edge of chaos σ_b² = 0.172922390756 (mpmath; derivation in
    // crates/theory/src/family.rs, `no_critical_point_says_where_the_edge_of_chaos_starts`).
    assert!(
        (v["edge_of_chaos_sigma_b2"].as_f64().unwrap() - 0.1729).abs() < 1e-3,
        "{v}"
    );
}

/// Issue 9: SELU's critical σ_w² averages both sides of its kink, and at it
/// the trainable depth is `null` with the power-law decay said in words.
#[test]
fn issue_9_selu_is_critical_at_both_slopes() {
    let v = json(&["analyze", "-a", "selu", "--json"]);
    let sw2 = v["sigma_w2"].as_f64().unwrap();
    // 2/(λ²(1 + α²)) = 0.476771017882753 with the SELU constants
    // (crates/theory/tests/golden/critical.csv, row selu,1,0, mpmath 30 digits).
    assert!((sw2 - 0.476771).abs() < 1e-5, "{sw2}");
    assert_eq!(v["critical_kind"], "zero-from-above");
    assert!(v["trainable_depth"].is_null() && v["xi_c"].is_null() && v["xi_q"].is_null());
    assert!(
        v["depth_limit"].as_str().unwrap().contains("power law"),
        "{v}"
    );
    // At the old one-sided value 1/(λα)² = 0.323528972 the gradient vanishes:
    // χ₁ = σ_w² λ²(1 + α²)/2 at q* = 0, = 0.323529/0.476771 = 0.678584 (mpmath).
    let v = json(&["analyze", "-a", "selu", "--sigma-w2", "0.323529", "--json"]);
    assert!((v["chi_1"].as_f64().unwrap() - 0.679).abs() < 0.01, "{v}");
    assert!(v["trainable_depth"].is_null(), "{v}");
}

/// Issue 9: no JSON number stands in for infinity: vanishing or exploding
/// cells of a phase diagram (tanh below the edge at σ_b² = 0, ELU without
/// noise) have `null` ξ_c and trainable depth, and every finite ξ_c is below
/// 10¹⁰ layers.
#[test]
fn issue_9_phase_has_no_finite_stand_in_for_infinity() {
    for args in [
        &[
            "phase",
            "-a",
            "tanh",
            "--y",
            "sigma-b2",
            "--x-range",
            "0.5:3:12",
            "--y-range",
            "0:0.2:5",
            "--json",
            "-q",
        ][..],
        &[
            "phase",
            "-a",
            "elu",
            "--x-range",
            "0.5:3:12",
            "--y-range",
            "1:1.5:3",
            "--json",
            "-q",
        ][..],
    ] {
        let v = json(args);
        let cells = v["cells"].as_array().unwrap();
        let mut nulls = 0;
        for c in cells {
            let regime = c["regime"].as_str().unwrap();
            if matches!(
                regime,
                "vanishing" | "exploding-exponential" | "exploding-linear"
            ) {
                // Issue 20: ξ_c is the limit map's value with its basis
                // (null only for infinite); the trainable depth, which needs
                // a surviving signal, is null.
                assert!(
                    (c["xi_c"].as_f64().is_some_and(|x| x.is_finite() && x > 0.0)
                        || (c["xi_c"].is_null() && c["chi_c"] == 1.0))
                        && c["correlation_basis"] != "fixed-point"
                        && c["trainable_depth"].is_null(),
                    "{args:?}: {c}"
                );
                nulls += 1;
            }
            if let Some(x) = c["xi_c"].as_f64() {
                assert!(x < 1e10, "{args:?}: {c}");
            }
        }
        assert!(
            nulls > 0,
            "{args:?}: the case has vanishing or exploding cells"
        );
    }
}
