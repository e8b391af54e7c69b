//! The analysis where the variance vanishes, explodes or sits at extreme
//! scales: limit values of ξ_c with their kind, exact limits of χ₁, a c*
//! no trajectory reaches, and bounded φ at huge σ_w² (each a case a user met;
//! expected values from closed forms stated beside them).

#![allow(clippy::unwrap_used)]

use noisyprop_theory::{
    Activation, AnalysisOptions, CorrelationBasis, Integration, MeanField, Network, Noise,
    NoiseLaw, RegimeKind, analyze,
};

fn net(act: Activation, noise: &[NoiseLaw], sw2: f64, sb2: f64) -> Network {
    Network::new(act, Noise::from_laws(noise), sw2, sb2).unwrap()
}

fn dropout(keep: f64) -> NoiseLaw {
    NoiseLaw::Dropout { keep }
}

/// tanh with dropout keep 0.8 at its critical σ_w² = 1/μ₂ = 0.8 (σ_b² = 0)
/// vanishes as a power law; as q → 0 tanh is linear and the correlation map
/// is c ↦ c/μ₂, so χ_c = 1/μ₂ = 0.8 and ξ_c = −1/ln 0.8 = 4.481420521… —
/// reported with its kind, not as "infinite".
#[test]
fn zero_from_above_reports_the_limit_depth_scale() {
    for act in [Activation::Tanh, Activation::Erf] {
        let fam = noisyprop_theory::Family::new(act, Noise::from_law(dropout(0.8)), 0.0).unwrap();
        let (n, _) = fam.critical(Integration::default()).unwrap();
        let a = analyze(&n, &AnalysisOptions::default()).unwrap();
        assert_eq!(a.regime, RegimeKind::Vanishing, "{act:?}");
        assert_eq!(a.correlation_basis, CorrelationBasis::VanishingLimit);
        let want = -1.0 / 0.8f64.ln();
        assert!((a.xi_c.unwrap() - want).abs() < 1e-12, "{:?}", a.xi_c);
        assert!((a.chi_c - 0.8).abs() < 1e-14, "{}", a.chi_c);
        assert_eq!(a.c_star, 0.0);
        assert!(a.c_star_approached);
        // The depth is limited by the vanishing variance, not by k·ξ_c.
        assert_eq!(a.trainable_depth, None);
        assert!(!a.trainable_depth_unbounded);
    }
}

/// χ₁ "at q → 0" is the exact limit σ_w²μ₂φ′(0)² (one-sided slopes averaged
/// in squares at a kink), so at the zero-from-above critical point it is 1 —
/// not 0.999988 from evaluating at a small q.
#[test]
fn chi_1_at_the_vanishing_limit_is_exact() {
    let mut checked = 0;
    for act in [
        Activation::Selu,
        Activation::Elu { alpha: 1.0 },
        Activation::Tanh,
        Activation::Erf,
    ] {
        for noise in [vec![], vec![dropout(0.8)]] {
            let fam = noisyprop_theory::Family::new(act, Noise::from_laws(&noise), 0.0).unwrap();
            let (n, _) = fam.critical(Integration::default()).unwrap();
            let a = analyze(&n, &AnalysisOptions::default()).unwrap();
            assert_eq!(a.correlation_basis, CorrelationBasis::VanishingLimit);
            assert!(
                (a.chi_1 - 1.0).abs() < 1e-14,
                "{act:?} {noise:?}: {}",
                a.chi_1
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
    // SELU: slopes λ and λα at 0, so χ₁ = σ_w²λ²(1 + α²)/2 at any σ_w² below
    // the critical one where the variance vanishes.
    // Klambauer et al. (2017), eq. 14, to 16 digits.
    let (lam, alpha) = (1.050_700_987_355_480_5, 1.673_263_242_354_377_3);
    let a = analyze(
        &net(Activation::Selu, &[], 0.3, 0.0),
        &AnalysisOptions::default(),
    )
    .unwrap();
    assert_eq!(a.regime, RegimeKind::Vanishing);
    let want = 0.3 * lam * lam * (1.0 + alpha * alpha) / 2.0;
    assert!(
        (a.chi_1 - want).abs() < 1e-14 * want,
        "{} vs {want}",
        a.chi_1
    );
}

/// ReLU with dropout keep 0.05 at σ_w² = 2 explodes, but its correlation
/// map does not depend on q: ξ_c is the plain network's value at μ₂ = 20
/// (c* the root of f(c) = μ₂c with f the arc-cosine kernel; bisection here),
/// finite, not null.
#[test]
fn homogeneous_maps_keep_xi_c_off_criticality() {
    let a = analyze(
        &net(Activation::Relu, &[dropout(0.05)], 2.0, 0.0),
        &AnalysisOptions::default(),
    )
    .unwrap();
    assert_eq!(a.regime, RegimeKind::ExplodingExponential);
    let mu2 = 20.0;
    let f = |c: f64| ((c * c.asin() + (1.0 - c * c).sqrt()) / std::f64::consts::PI + c / 2.0) / mu2;
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > mid {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let c_star = 0.5 * (lo + hi);
    let chi_c = (c_star.asin() / std::f64::consts::PI + 0.5) / mu2;
    assert!((a.c_star - c_star).abs() < 1e-12);
    let xi = -1.0 / chi_c.ln();
    assert!((a.xi_c.unwrap() - xi).abs() < 1e-10, "{:?} vs {xi}", a.xi_c);
    assert!((xi - 0.272).abs() < 5e-4);
    assert_eq!(a.trainable_depth, None);
}

/// ELU without noise at σ_b² = 0: the variance falls as a power law, and
/// since ELU is linear near 0 the limiting correlation map is the identity.
/// The record says c* is not approached, and the iterated maps agree:
/// correlations from c⁰ = 0.1 and 0.9 stay apart after 2000 layers.
#[test]
fn identity_limit_says_c_star_is_not_approached() {
    let n = net(Activation::Elu { alpha: 1.0 }, &[], 1.0, 0.0);
    let a = analyze(&n, &AnalysisOptions::default()).unwrap();
    assert_eq!(a.regime, RegimeKind::Vanishing);
    assert!(!a.c_star_approached);
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("c* is not approached"))
    );
    let mf = MeanField::new(&n, Integration::default());
    let end = |c0: f64| mf.correlation_trajectory(1.0, c0, 2000)[2000].1;
    let (lo, hi) = (end(0.1), end(0.9));
    assert!(hi - lo > 0.5, "c^2000 = {lo} and {hi}");
    // With noise the limit map is a contraction and c* is approached.
    let noisy = net(Activation::Elu { alpha: 1.0 }, &[dropout(0.8)], 0.8, 0.0);
    assert!(
        analyze(&noisy, &AnalysisOptions::default())
            .unwrap()
            .c_star_approached
    );
}

/// A bounded φ bounds the variance map, so tanh at σ_w² = 1e20 has a fixed
/// point q* ≈ σ_w² (tanh(√q z) ≈ sign z), not a linear explosion; there
/// χ₁ = σ_w² E[sech⁴(√q* z)] ≈ σ_w²·(4/3)/√(2π q*).
#[test]
fn bounded_activation_has_a_fixed_point_at_any_scale() {
    for sw2 in [1e16, 1e20, 1e100] {
        let a = analyze(
            &net(Activation::Tanh, &[], sw2, 0.0),
            &AnalysisOptions::default(),
        )
        .unwrap();
        assert_eq!(a.regime, RegimeKind::FixedPoint, "σ_w² = {sw2}");
        let q = a.q_star.unwrap();
        assert!((q / sw2 - 1.0).abs() < 1e-6, "q* = {q}");
        let want = sw2 * (4.0 / 3.0) / (2.0 * std::f64::consts::PI * q).sqrt();
        assert!(
            (a.chi_1 / want - 1.0).abs() < 1e-3,
            "χ₁ = {} vs {want}",
            a.chi_1
        );
    }
}
