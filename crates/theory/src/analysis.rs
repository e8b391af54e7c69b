//! One call that computes everything the theory says about a network, with
//! an error estimate for the quadrature.

use serde::{Deserialize, Serialize};

use crate::correlation_map::CorrelationBasis;
use crate::criticality::CriticalKind;
use crate::depth::{FloatFormat, RangeExit, trainable_depth};
use crate::error::{TheoryError, check};
use crate::gauss::Method;
use crate::mean_field::{Integration, MAX_NODES, MeanField, Network};
use crate::noise::NoiseStage;
use crate::number::{fmt_layer, fmt_short};
use crate::variance_map::{RegimeKind, VarianceRegime};

/// Relative n vs 2n difference below which adaptive quadrature stops.
pub const QUADRATURE_TOLERANCE: f64 = 1e-10;

/// Options of [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisOptions {
    /// Starting variance q⁰ (of the input, treated as a pre-activation).
    pub q0: f64,
    /// k in the trainable-depth prediction k·ξ_c.
    pub depth_multiplier: f64,
    /// How expectations are integrated.
    pub integration: Integration,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            q0: 1.0,
            depth_multiplier: crate::depth::DEPTH_MULTIPLIER,
            integration: Integration::default(),
        }
    }
}

impl AnalysisOptions {
    /// Checks q⁰ > 0 and k > 0.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] naming the bad value.
    pub fn validate(&self) -> Result<(), TheoryError> {
        check("", "q0", self.q0, "(0, inf)", |x| x > 0.0)?;
        check(
            "",
            "depth_multiplier",
            self.depth_multiplier,
            "(0, inf)",
            |x| x > 0.0,
        )?;
        self.integration.validate()
    }
}

/// Depth at which the variance leaves each format's range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct RangeExitDepths {
    /// IEEE half.
    pub f16: Option<f64>,
    /// bfloat16.
    pub bf16: Option<f64>,
    /// IEEE single.
    pub f32: Option<f64>,
    /// IEEE double.
    pub f64: Option<f64>,
}

/// How the numbers were integrated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntegrationReport {
    /// Method and nodes.
    #[serde(flatten)]
    pub method: Method,
    /// max over the reported quantities of |x_n − x_2n| / max(1, |x_2n|),
    /// n and 2n nodes per dimension; 0 for closed forms.
    pub error_estimate: f64,
}

/// Everything the theory says about one network (spec 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Canonical activation spec.
    pub activation: String,
    /// Canonical noise description.
    pub noise: String,
    /// The noise stages, with framework conventions where used.
    pub noise_stages: Vec<NoiseStage>,
    /// μ₂ of the multiplicative noise (product over stages).
    pub mu2: f64,
    /// Effective additive noise variance.
    pub additive_variance: f64,
    /// σ_w².
    pub sigma_w2: f64,
    /// σ_b².
    pub sigma_b2: f64,
    /// q⁰.
    pub q0: f64,
    /// k of k·ξ_c.
    pub depth_multiplier: f64,
    /// Critical σ_w² (χ₁ = 1 at a fixed point inputs reach), `None` when none
    /// exists.
    pub critical_sigma_w2: Option<f64>,
    /// q* at the critical σ_w² (0 for a critical point at q* = 0; `None`
    /// when every q is a fixed point or there is none).
    pub critical_q_star: Option<f64>,
    /// The kind of critical point: `every-q`, `stable`, `zero-from-above` or
    /// `none` ([`CriticalKind`]).
    pub critical_kind: CriticalKind,
    /// The critical point, or why there is none, in words (always given).
    pub critical_reason: Option<String>,
    /// Without a critical point at this σ_b²: the smallest larger σ_b² with
    /// one, where the edge of chaos starts (`None` when there is none up to
    /// σ_b² = 10, or a critical point exists here).
    pub edge_of_chaos_sigma_b2: Option<f64>,
    /// Variance regime (kebab-case name).
    pub regime: RegimeKind,
    /// The regime in words.
    pub regime_description: String,
    /// Per-layer factor of the variance in this regime.
    pub per_layer_growth: f64,
    /// Per-layer increment of the variance for linear growth.
    pub per_layer_increment: Option<f64>,
    /// Variance fixed point q* (q⁰ when marginal), `None` when there is none.
    pub q_star: Option<f64>,
    /// Variance depth scale ξ_q = −1/ln(dq^l/dq^{l−1} at q*).
    pub xi_q: Option<f64>,
    /// χ₁ = σ_w² μ₂ E[φ′²] (gradient second-moment factor per layer).
    pub chi_1: f64,
    /// Correlation fixed point c*.
    pub c_star: f64,
    /// Slope of the correlation map at c*.
    pub chi_c: f64,
    /// ξ_c = −1/ln χ_c, `None` only when infinite (χ_c ≥ 1). Where the
    /// variance vanishes or explodes it is the limit value named by
    /// `correlation_basis` (e.g. −1/ln(1/μ₂) as q → 0 for a φ smooth at 0):
    /// how fast correlations go, while the variance itself limits the depth
    /// ([`Analysis::trainable_depth`] is then `None`).
    pub xi_c: Option<f64>,
    /// Where the correlation map was evaluated: at q*, independent of q, or
    /// in the limit q → 0 or q → ∞ (the kind of c*, χ_c and ξ_c).
    pub correlation_basis: CorrelationBasis,
    /// Whether correlations approach c*: `false` where the limit map is the
    /// identity (a φ linear at 0 without noise, the variance vanishing), so
    /// that every c is a fixed point and a network's correlations move only
    /// through the corrections to the limit (a warning says so).
    pub c_star_approached: bool,
    /// Per-layer factor of the two-input gradient covariance at c*.
    pub gradient_covariance_factor: f64,
    /// Per-layer factor of the two-input gradient correlation at c*.
    pub gradient_correlation_factor: f64,
    /// k·ξ_c where the signal survives (the variance converges to a fixed
    /// point or is preserved); `None` when it vanishes or explodes, or when ξ_c
    /// is infinite — [`Analysis::depth_limit`] says which.
    pub trainable_depth: Option<f64>,
    /// The signal survives and ξ_c is infinite, so no depth is too deep for
    /// correlations (`trainable_depth` is then `None` for "∞", not for "does
    /// not apply").
    pub trainable_depth_unbounded: bool,
    /// Where the numbers above (taken at the fixed point) do not describe the
    /// first layers from q⁰, in words; empty when they do.
    pub warnings: Vec<String>,
    /// What limits the depth, in words: the k·ξ_c prediction, or what
    /// happens to the variance instead (and at which layer it leaves the f32
    /// range).
    pub depth_limit: String,
    /// Depth at which the variance leaves each format's range (spec 2.6).
    pub overflow_depth: RangeExitDepths,
    /// Whether those depths are overflows or underflows.
    pub overflow_direction: Option<RangeExit>,
    /// Integration method and error estimate.
    pub integration: IntegrationReport,
}

/// Analyses `net` (spec 2): critical σ_w², variance regime and fixed point,
/// χ₁, correlation fixed point, χ_c, depth scales, trainable depth and
/// range-exit depths. Quadrature activations are evaluated at n and 2n
/// nodes, doubling n until they agree to [`QUADRATURE_TOLERANCE`] (or n
/// reaches [`MAX_NODES`]); the 2n values are returned with the difference as
/// the error estimate.
///
/// # Errors
/// Invalid options (see [`AnalysisOptions::validate`]).
pub fn analyze(net: &Network, opts: &AnalysisOptions) -> Result<Analysis, TheoryError> {
    opts.validate()?;
    let base = MeanField::new(net, opts.integration);
    if base.method() == Method::ClosedForm {
        return Ok(analyze_with(net, &base, opts));
    }
    let fixed = opts.integration.nodes.is_some();
    let mut n = base.method().nodes().max(4);
    loop {
        let coarse = analyze_with(net, &base.with_nodes(n), opts);
        let fine_mf = base.with_nodes(2 * n);
        let fine = analyze_with(net, &fine_mf, opts);
        let err = difference(&coarse, &fine);
        if fixed {
            // Report the requested order, with its own error estimate.
            let mut warnings = coarse.warnings.clone();
            if err > LARGE_QUADRATURE_ERROR {
                warnings.push(format!(
                    "the quadrature error estimate {} at {n} nodes is large: these numbers may be wrong; use more nodes (or let them be raised until n and 2n agree)",
                    fmt_short(err)
                ));
            }
            return Ok(Analysis {
                warnings,
                integration: IntegrationReport {
                    method: base.with_nodes(n).method(),
                    error_estimate: err,
                },
                ..coarse
            });
        }
        if err <= QUADRATURE_TOLERANCE || 2 * n >= MAX_NODES {
            return Ok(Analysis {
                integration: IntegrationReport {
                    method: fine_mf.method(),
                    error_estimate: err,
                },
                ..fine
            });
        }
        n *= 2;
    }
}

fn analyze_with(net: &Network, mf: &MeanField, opts: &AnalysisOptions) -> Analysis {
    let critical = mf.critical_sigma_w2();
    let edge = match &critical {
        Ok(_) => None,
        Err(_) => mf.nearest_critical_sigma_b2(),
    };
    let regime = mf.variance_fixed_point(opts.q0);
    let map = mf.limiting_correlation_map(&regime);
    let fp = map.fixed_point();
    let chi_1 = match map.basis() {
        CorrelationBasis::Asymptotic => mf.asymptotic_growth(),
        _ => map.chi_1(),
    };
    let cov = map.gradient_covariance_factor(fp.c_star);
    let mut depths = RangeExitDepths::default();
    let mut direction = None;
    for format in FloatFormat::ALL {
        let exit = mf.range_exit_depth(&regime, opts.q0, format);
        if let Some((_, d)) = exit {
            direction = Some(d);
        }
        let v = exit.map(|(l, _)| l);
        match format {
            FloatFormat::F16 => depths.f16 = v,
            FloatFormat::Bf16 => depths.bf16 = v,
            FloatFormat::F32 => depths.f32 = v,
            FloatFormat::F64 => depths.f64 = v,
        }
    }
    let noise = net.noise();
    Analysis {
        activation: net.activation().spec(),
        noise: noise.to_string(),
        noise_stages: noise.stages().to_vec(),
        mu2: mf.mu2(),
        additive_variance: mf.additive_variance(),
        sigma_w2: mf.sigma_w2(),
        sigma_b2: mf.sigma_b2(),
        q0: opts.q0,
        depth_multiplier: opts.depth_multiplier,
        critical_sigma_w2: critical.as_ref().ok().map(|c| c.sigma_w2),
        critical_q_star: critical.as_ref().ok().and_then(|c| c.q_star),
        critical_kind: critical.as_ref().map_or(CriticalKind::None, |c| c.kind),
        critical_reason: Some(match &critical {
            Ok(c) => c.describe(),
            Err(e) => match edge {
                Some(y) => format!(
                    "{}; the edge of chaos starts at σ_b² = {} (a critical σ_w² exists from there on)",
                    e.reason,
                    fmt_short(y)
                ),
                None => e.reason.clone(),
            },
        }),
        edge_of_chaos_sigma_b2: edge,
        regime: regime.kind(),
        regime_description: regime.describe(),
        per_layer_growth: regime.per_layer_factor(),
        per_layer_increment: match regime {
            VarianceRegime::ExplodingLinear { increment } => Some(increment),
            _ => None,
        },
        q_star: regime.q_star(opts.q0),
        xi_q: regime.depth_scale(),
        chi_1,
        c_star: fp.c_star,
        chi_c: fp.chi_c,
        xi_c: fp.xi_c,
        correlation_basis: map.basis(),
        c_star_approached: !map.is_identity(),
        gradient_covariance_factor: cov,
        gradient_correlation_factor: if chi_1 > 0.0 { cov / chi_1 } else { f64::NAN },
        trainable_depth: signal_survives(&regime)
            .then(|| trainable_depth(fp.xi_c, opts.depth_multiplier))
            .flatten(),
        trainable_depth_unbounded: signal_survives(&regime) && fp.xi_c.is_none(),
        warnings: warnings(mf, &regime, opts.q0, chi_1, map.is_identity()),
        depth_limit: depth_limit(mf, &regime, opts, fp.xi_c, depths.f32),
        overflow_depth: depths,
        overflow_direction: direction,
        integration: IntegrationReport {
            method: mf.method(),
            error_estimate: 0.0,
        },
    }
}

/// Whether the signal survives with depth: the variance converges to a fixed
/// point q* > 0 or is preserved (marginal). Vanishing and exploding variances
/// limit depth by themselves, so k·ξ_c does not apply there.
pub(crate) fn signal_survives(regime: &VarianceRegime) -> bool {
    match regime {
        VarianceRegime::FixedPoint { .. } | VarianceRegime::Marginal => true,
        VarianceRegime::Vanishing { .. }
        | VarianceRegime::ExplodingExponential { .. }
        | VarianceRegime::ExplodingLinear { .. } => false,
    }
}

/// Error estimate above which a fixed quadrature order is warned about.
const LARGE_QUADRATURE_ERROR: f64 = 1e-4;

/// ξ_q beyond which the approach to q* is called slow.
const SLOW_XI_Q: f64 = 20.0;

/// Where the fixed-point numbers do not describe the first layers of a
/// network started at q⁰: the variance approaches q* only over ξ_q > 20
/// layers, or χ₁ at q⁰ differs from its limit by more than 10 %.
fn warnings(
    mf: &MeanField,
    regime: &VarianceRegime,
    q0: f64,
    chi_1: f64,
    identity_limit: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    if identity_limit {
        out.push(
            "c* is not approached: as the variance vanishes φ acts as a linear map and there is no noise, so the limiting correlation map is the identity (every c is a fixed point); correlations move only through corrections that fade with q and stay near values set by the inputs"
                .into(),
        );
    }
    if let VarianceRegime::FixedPoint { q_star, .. } = *regime
        && let Some(xi_q) = regime.depth_scale()
        && xi_q > SLOW_XI_Q
        && (q0 - q_star).abs() > 0.1 * q_star
    {
        out.push(format!(
            "the variance approaches q* = {} from q⁰ = {} only over ξ_q = {} layers: shallower networks see other values of χ₁, c* and ξ_c",
            fmt_short(q_star),
            fmt_short(q0),
            fmt_short(xi_q)
        ));
    }
    let survives_or_fades = matches!(
        regime,
        VarianceRegime::FixedPoint { .. } | VarianceRegime::Vanishing { .. }
    );
    let at_q0 = mf.chi_1(q0);
    if survives_or_fades
        && chi_1.is_finite()
        && at_q0.is_finite()
        && (at_q0 - chi_1).abs() > 0.1 * chi_1
    {
        out.push(format!(
            "χ₁ = {} is its value at {}; at q⁰ = {} it is {}, so the gradient's second moment changes by about ×{} per layer in the first layers",
            fmt_short(chi_1),
            match regime.q_star(q0) {
                Some(q) if q > 0.0 => format!("q* = {}", fmt_short(q)),
                _ => "q → 0".into(),
            },
            fmt_short(q0),
            fmt_short(at_q0),
            fmt_short(at_q0)
        ));
    }
    out
}

/// Most layers iterated to find where a power-law decay has lost 99 %.
const POWER_LAW_LAYERS: usize = 10_000;

/// What limits the depth, in words.
fn depth_limit(
    mf: &MeanField,
    regime: &VarianceRegime,
    opts: &AnalysisOptions,
    xi_c: Option<f64>,
    f32_exit: Option<f64>,
) -> String {
    let k = fmt_short(opts.depth_multiplier);
    let exit = |what: &str| match f32_exit {
        Some(l) if l <= 1e9 => format!("; it {what} the f32 range at layer {}", fmt_layer(l)),
        Some(_) | None => String::new(),
    };
    match *regime {
        VarianceRegime::FixedPoint { .. } | VarianceRegime::Marginal => match xi_c {
            Some(x) => format!(
                "correlations between inputs approach c* with depth scale ξ_c = {}: networks deeper than about {k}·ξ_c = {} layers do not train",
                fmt_short(x),
                fmt_short(opts.depth_multiplier * x),
            ),
            None => {
                "unbounded: correlations between inputs are not lost with depth (ξ_c = ∞)".into()
            }
        },
        VarianceRegime::Vanishing { rate } if (rate - 1.0).abs() < 1e-9 => {
            let mut q = opts.q0;
            let mut layers = None;
            for l in 1..=POWER_LAW_LAYERS {
                q = mf.variance_map(q);
                if q.is_nan() || q <= 0.01 * opts.q0 {
                    layers = Some(l);
                    break;
                }
            }
            format!(
                "the variance shrinks towards 0 as a power law (q* = 0 approached from above): it falls to 1 % of q⁰ = {} after {} layers",
                fmt_short(opts.q0),
                layers.map_or_else(
                    || format!("more than {POWER_LAW_LAYERS}"),
                    |l| l.to_string()
                ),
            )
        }
        VarianceRegime::Vanishing { rate } => format!(
            "the variance vanishes, ×{} per layer{}",
            fmt_short(rate),
            exit("underflows")
        ),
        VarianceRegime::ExplodingExponential { growth } => format!(
            "the variance explodes, ×{} per layer{}",
            fmt_short(growth),
            exit("overflows")
        ),
        VarianceRegime::ExplodingLinear { increment } => format!(
            "the variance grows linearly, +{} per layer{}",
            fmt_short(increment),
            exit("overflows")
        ),
    }
}

/// max relative difference of the quadrature-dependent numbers.
fn difference(a: &Analysis, b: &Analysis) -> f64 {
    let rel = |x: f64, y: f64| {
        if x == y {
            0.0
        } else if x.is_finite() && y.is_finite() {
            (x - y).abs() / y.abs().max(1.0)
        } else {
            f64::INFINITY
        }
    };
    let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => rel(x, y),
        (None, None) => 0.0,
        _ => f64::INFINITY,
    };
    [
        opt(a.critical_sigma_w2, b.critical_sigma_w2),
        opt(a.critical_q_star, b.critical_q_star),
        opt(a.q_star, b.q_star),
        rel(a.chi_1, b.chi_1),
        rel(a.c_star, b.c_star),
        rel(a.chi_c, b.chi_c),
        opt(a.xi_c, b.xi_c),
        rel(a.gradient_covariance_factor, b.gradient_covariance_factor),
    ]
    .into_iter()
    .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Noise, NoiseLaw};

    #[test]
    fn relu_dropout_at_criticality() {
        let net = Network::new(
            Activation::Relu,
            Noise::from_law(NoiseLaw::Dropout { keep: 0.6 }),
            1.2,
            0.0,
        )
        .unwrap();
        let a = analyze(&net, &AnalysisOptions::default()).unwrap();
        assert_eq!(a.regime.name(), "marginal");
        assert_eq!(a.q_star, Some(1.0));
        assert!((a.critical_sigma_w2.unwrap() - 1.2).abs() < 1e-15);
        assert!((a.chi_1 - 1.0).abs() < 1e-15);
        // c* and 6ξ_c of dropout p = 0.6 at σ_w² = 2p: spec 2.10 (docs/paper-spec.md
        // §2.10) and tests/golden/depth_scales.csv (mpmath 30 digits: c* = 0.283908654,
        // 6ξ_c = 6 × 0.965533026 = 5.79320).
        assert!((a.c_star - 0.28391).abs() < 5e-6);
        assert!((a.trainable_depth.unwrap() - 5.79).abs() < 5e-3);
        assert_eq!(a.overflow_depth.f32, None);
        assert_eq!(a.integration.error_estimate, 0.0);
        // The gradient correlation factor is χ_c at criticality (spec 2.11).
        assert!((a.gradient_correlation_factor - a.chi_c).abs() < 1e-15);
    }

    #[test]
    fn quadrature_reports_a_small_error() {
        let noise = Noise::from_law(NoiseLaw::Dropout { keep: 0.9 });
        let net = Network::new(Activation::Tanh, noise, 1.9, 0.05).unwrap();
        let a = analyze(&net, &AnalysisOptions::default()).unwrap();
        assert!(
            a.integration.error_estimate <= QUADRATURE_TOLERANCE,
            "{:?}",
            a.integration
        );
        assert_eq!(a.regime.name(), "fixed-point");
        // Fixed nodes: a coarse rule has a visible but honest error estimate.
        let coarse = analyze(
            &net,
            &AnalysisOptions {
                integration: Integration::nodes(4),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(coarse.integration.error_estimate > 1e-8);
        assert!(
            (coarse.c_star - a.c_star).abs() <= 10.0 * coarse.integration.error_estimate.max(1e-12)
        );
    }

    #[test]
    fn forced_quadrature_agrees_with_closed_form_on_relu() {
        let noise = Noise::from_laws(&[
            NoiseLaw::Dropout { keep: 0.8 },
            NoiseLaw::GaussAdd { std: 0.3 },
        ]);
        let net = Network::new(Activation::Relu, noise, 1.4, 0.1).unwrap();
        let exact = analyze(&net, &AnalysisOptions::default()).unwrap();
        let quad = analyze(
            &net,
            &AnalysisOptions {
                integration: Integration::quadrature(),
                ..Default::default()
            },
        )
        .unwrap();
        for (x, y) in [
            (exact.q_star.unwrap(), quad.q_star.unwrap()),
            (exact.c_star, quad.c_star),
            (exact.chi_c, quad.chi_c),
            (exact.chi_1, quad.chi_1),
            (exact.xi_c.unwrap(), quad.xi_c.unwrap()),
        ] {
            assert!((x - y).abs() < 1e-11 * x.abs().max(1.0), "{x} vs {y}");
        }
    }

    #[test]
    fn bad_options_are_rejected() {
        let net = Network::new(Activation::Relu, Noise::none(), 2.0, 0.0).unwrap();
        for opts in [
            AnalysisOptions {
                q0: 0.0,
                ..Default::default()
            },
            AnalysisOptions {
                q0: f64::NAN,
                ..Default::default()
            },
            AnalysisOptions {
                depth_multiplier: -1.0,
                ..Default::default()
            },
            AnalysisOptions {
                integration: Integration::nodes(2000),
                ..Default::default()
            },
        ] {
            assert!(analyze(&net, &opts).is_err());
        }
    }
}
