//! Regressions from a new user's trial of the CLI (issues 8 and 9 follow-up):
//! each test reproduces one thing a user met off the README's path.

use crate::common::{json, run};

/// `init` accepts no --sigma-w2, so its error for an activation without a
/// critical point must not tell the user to give one.
#[test]
fn init_without_critical_point_hints_at_analyze_not_sigma_w2() {
    let (code, _, err) = run(&["init", "-a", "softplus"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("give --sigma-w2"), "{err}");
    assert!(err.contains("analyze --sigma-w2"), "{err}");
    let (code, _, err) = run(&["init", "-a", "relu", "--sigma-w2", "2"]);
    assert_eq!(code, Some(2), "{err}");
    let (_, help, _) = run(&["init", "--help"]);
    assert!(!help.contains("--sigma-w2") && !help.contains("--critical"));
    let (_, help, _) = run(&["phase", "--help"]);
    assert!(!help.contains("--sigma-w2") && !help.contains("--critical"));
}

/// Parameters that overflow μ₂ or the slope are named themselves, not as a
/// σ_w² = 0 the user never gave.
#[test]
fn overflowing_noise_or_slope_names_the_parameter() {
    for (args, name) in [
        (
            &["analyze", "-a", "leaky-relu:slope=1e300"][..],
            "slope = 1e300",
        ),
        (
            &["analyze", "--noise", "gauss-mult:std=1e200"][..],
            "std = 1e200",
        ),
        (
            &["analyze", "--noise", "laplace-mult:scale=1e308"][..],
            "scale = 1e308",
        ),
        (
            &["analyze", "--noise", "gauss-add:std=1e308"][..],
            "std = 1e308",
        ),
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(name) && !err.contains("sigma_w2"), "{err}");
    }
    // A huge σ_b² is printed as a number, not as hundreds of digits.
    let (_, _, err) = run(&["analyze", "--sigma-b2", "1e308"]);
    assert!(err.contains("σ_b² = 1e308") && err.len() < 600, "{err}");
}

/// The default phase diagram of ReLU (μ₂ axis) has no finite depth off the
/// critical line; it must still draw (coloured by χ₁, saying so).
#[test]
fn phase_default_png_draws_for_relu() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("relu.png");
    let (code, _, err) = run(&[
        "phase",
        "--x-range",
        "0.5:3:20",
        "--y-range",
        "1:2:10",
        "--png",
        png.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    // A negative σ_w² bound reaches the range check instead of clap.
    let (code, _, err) = run(&["phase", "--x-range", "-1:2:10"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("min = -1"), "{err}");
}

/// ∞ and "not applicable" are told apart in JSON: ReLU without noise is
/// unbounded, a vanishing network is not.
#[test]
fn unbounded_depth_is_not_null_alone() {
    let v = json(&["analyze", "--json"]);
    assert!(v["trainable_depth"].is_null());
    assert_eq!(v["trainable_depth_unbounded"], true);
    let v = json(&["analyze", "--sigma-w2", "1", "--json"]);
    assert!(v["trainable_depth"].is_null());
    assert_eq!(v["trainable_depth_unbounded"], false);
    let (_, out, _) = run(&["analyze"]);
    assert!(!out.contains("none: unbounded"), "{out}");
}

/// Where the fixed-point numbers do not describe the first layers, analyze
/// says so: GELU with additive noise approaches q* over ~645 layers; SELU's
/// χ₁ is 1 only as q → 0; a fixed quadrature order of 4 is far off.
#[test]
fn analyze_warns_where_fixed_point_numbers_mislead() {
    let v = json(&[
        "analyze",
        "-a",
        "gelu",
        "--noise",
        "gauss-add:std=0.3",
        "--json",
    ]);
    let w = v["warnings"].to_string();
    // GELU, additive σ_ε² = 0.09, at its critical σ_w² = 1/E[φ′²](q*) = 1.98011377
    // with q* = σ_w²(E[φ²] + σ_ε²) = 3.73076421: map slope σ_w² E[φ′² + φφ″] =
    // 0.998449779, ξ_q = −1/ln(slope) = 644.569 (mpmath, 30 digits).
    assert!(w.contains("ξ_q = 644"), "{w}");
    let v = json(&["analyze", "-a", "selu", "--json"]);
    let w = v["warnings"].to_string();
    // SELU at σ_w² = 2/(λ²(1 + α²)): χ₁(q = 1) = σ_w² E[φ′(z)²] = 0.510896 (mpmath).
    assert!(w.contains("at q⁰ = 1 it is 0.51"), "{w}");
    let v = json(&[
        "analyze",
        "-a",
        "tanh",
        "--sigma-w2",
        "1.5",
        "--sigma-b2",
        "0.1",
        "--nodes",
        "4",
        "--json",
    ]);
    assert!(v["warnings"].to_string().contains("error estimate"), "{v}");
    let v = json(&["analyze", "--json"]);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0, "{v}");
}

/// Deep trajectories print "–" for undefined correlations, never NaN, and
/// name the layer where q left the f64 range; the gradient correlation stays
/// defined where its covariance and second moment underflow.
#[test]
fn trajectory_prints_no_nan() {
    let (code, out, err) = run(&["trajectory", "--sigma-w2", "1", "--depth", "1200"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.contains("NaN"), "{}", &out[..400]);
    assert!(out.contains("underflows the f64 range at layer 1075"));
    let v = json(&["trajectory", "--sigma-w2", "1", "--depth", "600", "--json"]);
    let first = &v["layers"][0];
    assert!(first["grad_correlation"].as_f64().is_some(), "{first}");
}

/// At width 2 many ReLU layers are all zero: the simulator leaves those
/// pairs out of the correlation instead of printing NaN.
#[test]
fn simulate_tiny_width_has_no_nan() {
    let (_, out, _) = run(&["simulate", "--width", "2", "--compare", "-q"]);
    assert!(!out.contains("NaN"), "{out}");
    let (code, _, err) = run(&[
        "simulate",
        "--width",
        "1",
        "-L",
        "2",
        "--networks",
        "2",
        "-q",
    ]);
    assert_eq!(code, Some(0), "{err}");
}

/// Framework code uses the numbers a user wrote: GaussianDropout(0.3) comes
/// back as rate=0.3, and c* of an odd φ without bias is 0, not 3e-33.
#[test]
fn init_code_round_trips_user_numbers() {
    let (code, out, err) = run(&[
        "init",
        "--noise",
        "GaussianDropout(0.3)",
        "--framework",
        "keras",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("GaussianDropout(rate=0.3)"), "{out}");
    let v = json(&[
        "init",
        "-a",
        "tanh",
        "--noise",
        "gauss-add:std=0.3",
        "--json",
    ]);
    assert_eq!(v["c_star"].as_f64(), Some(0.0), "{v}");
}

/// The critical table names its own flag, keeps its columns aligned for a
/// stacked noise, and hints at the stacking syntax.
#[test]
fn critical_table_flags_and_columns() {
    let (code, _, err) = run(&["critical", "--sigma-b2s", "nan"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--sigma-b2s"), "{err}");
    let (code, _, err) = run(&["critical", "-n", "dropout:keep=0.5,gauss-add:std=0.3"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("A, then B"), "{err}");
    let (_, out, _) = run(&[
        "critical",
        "-a",
        "relu",
        "-n",
        "dropout:keep=0.5, then gauss-add:std=0.3;none",
        "--sigma-b2s",
        "0",
    ]);
    let col = |line: &str| line.find("  0  ").unwrap();
    let lines: Vec<&str> = out.lines().skip(1).take(2).collect();
    assert_eq!(col(lines[0]), col(lines[1]), "{out}");
    let (_, _, err) = run(&["analyze", "--noise", "dropout:keep=0.5;gauss-add:std=1"]);
    assert!(
        err.contains("give them one by one: --noise A --noise B"),
        "{err}"
    );
}

/// Training needs a validation example: fewer than 10 examples is refused
/// up front, with the reason.
#[test]
fn train_needs_ten_examples() {
    let (code, _, err) = run(&["train", "--quick", "--examples", "9", "--epochs", "1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("[10, inf)"), "{err}");
}
