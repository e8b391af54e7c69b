//! Critical initialisations against golden values computed outside this
//! crate: `tests/golden/critical.py` (mpmath at 30 digits with its own
//! quadrature and the activations written out in Python; output committed as
//! `tests/golden/critical.csv`). Tolerance: 1e-9 relative on σ_w² and q* —
//! the crate's quadrature is good to ~1e-12 and Brent's method converges to
//! 4 ε, so 1e-9 only leaves room for the golden file's 15 printed digits.
#![allow(clippy::unwrap_used)]

use noisyprop_theory::{Activation, CriticalKind, Family, Integration, Noise, TheoryError};

fn kind(name: &str) -> CriticalKind {
    match name {
        "stable" => CriticalKind::Stable,
        "zero" => CriticalKind::Zero,
        "none" => CriticalKind::None,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn critical_points_match_mpmath() {
    let text = include_str!("golden/critical.csv");
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let act: Activation = f[0].parse().unwrap();
        let keep: f64 = f[1].parse().unwrap();
        let sb2: f64 = f[2].parse().unwrap();
        let noise = if keep < 1.0 {
            Noise::parse_all(&[format!("dropout:keep={keep}")]).unwrap()
        } else {
            Noise::none()
        };
        let what = format!("{act} keep {keep} σ_b² {sb2}");
        match Family::new(act, noise, sb2)
            .unwrap()
            .critical(Integration::default())
        {
            Ok((net, cp)) => {
                assert_eq!(cp.kind, kind(f[3]), "{what}");
                let (sw2, q): (f64, f64) = (f[4].parse().unwrap(), f[5].parse().unwrap());
                let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
                assert!(
                    rel(net.sigma_w2(), sw2) < 1e-9,
                    "{what}: σ_w² {} vs {sw2}",
                    net.sigma_w2()
                );
                let qs = cp.q_star.unwrap();
                assert!(
                    (qs == 0.0 && q == 0.0) || rel(qs, q) < 1e-9,
                    "{what}: q* {qs} vs {q}"
                );
            }
            Err(TheoryError::NoCriticalPoint { .. }) => assert_eq!(f[3], "none", "{what}"),
            Err(e) => panic!("{what}: {e}"),
        }
        rows += 1;
    }
    assert_eq!(rows, 28, "the golden file has every row");
}

/// Issue 9: the golden tanh edge of chaos at σ_b² = 0.05: σ_w² ≈ 1.761 in
/// Schoenholz et al. (2017); 1.76095463960674 at q* = 0.570047881640764 in
/// `golden/critical.csv` (row `tanh,1,0.05`, `golden/critical.py`, mpmath 30
/// digits), rounded here to 9 and 6 digits.
#[test]
fn tanh_edge_of_chaos_is_the_published_value() {
    let (net, cp) = Family::new(Activation::Tanh, Noise::none(), 0.05)
        .unwrap()
        .critical(Integration::default())
        .unwrap();
    assert!(
        (net.sigma_w2() - 1.760_954_64).abs() < 5e-9,
        "{}",
        net.sigma_w2()
    );
    assert!((cp.q_star.unwrap() - 0.570_048).abs() < 5e-7);
    assert_eq!(cp.kind, CriticalKind::Stable);
}

/// The depth-scale table of docs/paper-spec.md §2.10 (c*, χ_c, ξ_c of
/// critical ReLU networks with multiplicative noise) against
/// `tests/golden/depth_scales.py` (mpmath, 30 digits, the arc-cosine kernel
/// checked by 2-D quadrature): 1e-9 relative.
#[test]
fn depth_scales_match_mpmath() {
    use noisyprop_theory::{Activation, AnalysisOptions, analyze};
    let text = include_str!("golden/depth_scales.csv");
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let noise = Noise::parse_all(&[f[0]]).unwrap();
        let (net, _) = Family::new(Activation::Relu, noise, 0.0)
            .unwrap()
            .critical(Integration::default())
            .unwrap();
        let a = analyze(&net, &AnalysisOptions::default()).unwrap();
        let golden: Vec<f64> = f[1..].iter().map(|x| x.parse().unwrap()).collect();
        let ours = [a.mu2, a.sigma_w2, a.c_star, a.chi_c, a.xi_c.unwrap()];
        for (name, (o, g)) in ["μ₂", "σ_w²", "c*", "χ_c", "ξ_c"]
            .iter()
            .zip(ours.iter().zip(&golden))
        {
            assert!(
                (o - g).abs() <= 1e-9 * g.abs(),
                "{}: {name} {o} vs mpmath {g}",
                f[0]
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 27, "the golden file has every row");
}
