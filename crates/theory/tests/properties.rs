//! Property tests of the theory (proptest): bounds and identities that must
//! hold for every noise level and initialisation, not just the tabulated ones.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use noisyprop_theory::{
    Activation, CorrelationBasis, Integration, MeanField, Network, Noise, NoiseLaw, VarianceRegime,
};

fn relu(mu2: f64, sigma_w2: f64, sigma_b2: f64) -> MeanField {
    let net = Network::new(
        Activation::Relu,
        Noise::from_law(NoiseLaw::Mult { mu2 }),
        sigma_w2,
        sigma_b2,
    )
    .unwrap();
    MeanField::new(&net, Integration::default())
}

proptest! {
    /// spec 2.8: for ReLU with multiplicative noise, 1/(πμ₂) ≤ c* ≤ 1/μ₂, and
    /// c* is a fixed point of the C-map, independent of σ_w (spec D7).
    #[test]
    fn relu_c_star_bounds(mu2 in 1.0001f64..50.0, scale in 0.2f64..3.0) {
        let mf = relu(mu2, scale * 2.0 / mu2, 0.0);
        let map = mf.limiting_correlation_map(&mf.variance_fixed_point(1.0));
        prop_assert_eq!(map.basis(), CorrelationBasis::Homogeneous);
        let fp = map.fixed_point();
        let pi = std::f64::consts::PI;
        prop_assert!(fp.c_star >= 1.0 / (pi * mu2) - 1e-15, "c* {} < 1/(πμ₂) {}", fp.c_star, 1.0 / (pi * mu2));
        prop_assert!(fp.c_star <= 1.0 / mu2 + 1e-15, "c* {} > 1/μ₂", fp.c_star);
        let f = |c: f64| ((c * c.asin() + (1.0 - c * c).sqrt()) / pi + c / 2.0) / mu2;
        prop_assert!((f(fp.c_star) - fp.c_star).abs() < 1e-14);
        // χ_c = (1/μ₂)(asin(c*)/π + 1/2) < 1/μ₂, so ξ_c < 1/ln μ₂ (spec 2.9).
        prop_assert!((fp.chi_c - (fp.c_star.asin() / pi + 0.5) / mu2).abs() < 1e-14);
        prop_assert!(fp.xi_c.unwrap() < 1.0 / mu2.ln());
    }

    /// The slope χ_c of the correlation map equals its finite difference, for
    /// any activation, noise, σ_w² and σ_b² with a variance fixed point.
    #[test]
    fn chi_c_is_the_slope_of_the_map(
        act in prop::sample::select(vec![Activation::Relu, Activation::Tanh, Activation::Erf, Activation::Gelu, Activation::Selu]),
        keep in 0.3f64..1.0,
        sigma_w2 in 0.5f64..3.0,
        sigma_b2 in 0.0f64..0.5,
        c in 0.05f64..0.95,
    ) {
        let net = Network::new(act, Noise::from_law(NoiseLaw::Dropout { keep }), sigma_w2, sigma_b2).unwrap();
        let mf = MeanField::new(&net, Integration::default());
        let map = mf.correlation_map_at(1.3);
        let h = 1e-6;
        let fd = (map.eval(c + h) - map.eval(c - h)) / (2.0 * h);
        prop_assert!((fd - map.eval_with_slope(c).1).abs() < 2e-7, "{act}: {fd} vs {}", map.eval_with_slope(c).1);
    }

    /// The critical σ_w² of the ReLU family is 2/(μ₂(1 + α²)) and makes the
    /// variance map marginal with χ₁ = 1.
    #[test]
    fn critical_relu_family(mu2 in 1.0f64..10.0, slope in -0.9f64..0.9) {
        let net = Network::new(Activation::LeakyRelu { slope }, Noise::from_law(NoiseLaw::Mult { mu2 }), 1.0, 0.0).unwrap();
        let mf = MeanField::new(&net, Integration::default());
        let cp = mf.critical_sigma_w2().unwrap();
        prop_assert!((cp.sigma_w2 - 2.0 / (mu2 * (1.0 + slope * slope))).abs() < 1e-12);
        let at = mf.with_sigma_w2(cp.sigma_w2);
        prop_assert_eq!(at.variance_fixed_point(2.0), VarianceRegime::Marginal);
        prop_assert!((at.chi_1(2.0) - 1.0).abs() < 1e-12);
    }

    /// The variance map's slope matches its finite difference (quadrature
    /// activations included).
    #[test]
    fn variance_map_slope(
        act in prop::sample::select(vec![Activation::Tanh, Activation::Softplus, Activation::Silu, Activation::Elu { alpha: 1.0 }]),
        q in 0.05f64..8.0,
        sigma_w2 in 0.5f64..3.0,
    ) {
        let net = Network::new(act, Noise::from_law(NoiseLaw::GaussMult { std: 0.4 }), sigma_w2, 0.1).unwrap();
        let mf = MeanField::new(&net, Integration::default());
        let h = 1e-6 * q.max(1.0);
        let fd = (mf.variance_map(q + h) - mf.variance_map(q - h)) / (2.0 * h);
        prop_assert!((fd - mf.variance_map_slope(q)).abs() < 1e-6 * fd.abs().max(1.0), "{act} q={q}: {fd} vs {}", mf.variance_map_slope(q));
    }
}
