//! `noisyprop analyze`: everything the theory says about one network.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_ops::Quiet;
use noisyprop_ops::analyze::{Analyze, AnalyzeRequest};
use noisyprop_theory::{Analysis, CorrelationBasis, Method, RangeExit, RegimeKind, fmt_layer};

use crate::args::{
    DepthMultiplier, IntegrationArgs, Json, NetArgs, Q0, SigmaSource, SigmaW2Args, run_op,
};
use crate::output::{Report, g, opt, print_record};

/// Variance and correlation maps, fixed points, χ₁, depth scales, critical
/// σ_w², trainable depth and float overflow depth of one noisy network
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub net: NetArgs,

    #[command(flatten)]
    pub sigma: SigmaW2Args,

    #[command(flatten)]
    pub q0: Q0,

    #[command(flatten)]
    pub k: DepthMultiplier,

    /// Depth of your network (layers), held against the trainable depth
    #[arg(long, value_name = "L")]
    pub depth: Option<usize>,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub json: Json,
}

pub fn run(args: &AnalyzeArgs, out: &mut impl Write) -> Result<()> {
    let request = AnalyzeRequest {
        network: args.net.params(),
        sigma_w2: args.sigma.given(),
        q0: args.q0.q0,
        depth_multiplier: args.k.depth_multiplier,
        depth: args.depth,
        integration: args.integration.params(),
    };
    let a = run_op::<Analyze>(&request, &Quiet)?;
    if args.json.json {
        return print_record(out, a);
    }
    let source = match request.sigma_w2 {
        Some(_) => SigmaSource::Given,
        None => SigmaSource::Critical,
    };
    report(&a, source).write(out)
}

fn report(a: &Analysis, source: SigmaSource) -> Report {
    let mut r = Report::default();
    r.section(&format!(
        "noisyprop analyze: {} with noise {}",
        a.activation, a.noise
    ));
    r.noise_conventions(&a.noise_stages);
    r.row("μ₂ (multiplicative)", g(a.mu2));
    r.row("σ_ε² (additive)", g(a.additive_variance));
    let sw = match source {
        SigmaSource::Critical => format!("{} (critical)", g(a.sigma_w2)),
        SigmaSource::Given => g(a.sigma_w2),
    };
    r.row("σ_w²", sw);
    r.row("σ_b²", g(a.sigma_b2));
    r.row("q⁰", g(a.q0));

    r.section("criticality");
    r.row(
        "critical σ_w²",
        match (a.critical_sigma_w2, a.critical_q_star) {
            (Some(s), Some(q)) => format!("{} at q* = {}", g(s), g(q)),
            (Some(s), None) => format!("{} (every q is a fixed point)", g(s)),
            (None, _) => "none".into(),
        },
    );
    r.row(
        "kind",
        format!("{}: {}", a.critical_kind, a.critical_kind.meaning()),
    );
    if let Some(reason) = &a.critical_reason {
        r.row("why", reason.clone());
    }

    r.section("variance (length) map");
    r.row("regime", a.regime_description.clone());
    r.row("q*", opt(a.q_star, "none"));
    r.row(
        "ξ_q",
        match (a.xi_q, a.regime) {
            (Some(x), _) => g(x),
            (None, RegimeKind::FixedPoint | RegimeKind::Marginal) => "∞".into(),
            (None, _) => "not applicable: no fixed point".into(),
        },
    );
    r.row("χ₁ = σ_w² μ₂ E[φ′²]", g(a.chi_1));

    r.section("correlation map");
    let basis = match a.correlation_basis {
        CorrelationBasis::FixedPoint => String::new(),
        b => format!(" ({})", b.describe()),
    };
    let approached = if a.c_star_approached {
        ""
    } else {
        ", not approached: see the warning"
    };
    r.row("c*", format!("{}{basis}{approached}", g(a.c_star)));
    r.row("χ_c", g(a.chi_c));
    let survives = matches!(a.regime, RegimeKind::FixedPoint | RegimeKind::Marginal);
    r.row(
        "ξ_c = −1/ln χ_c",
        match (a.xi_c, survives) {
            (Some(x), true) => g(x),
            (Some(x), false) => format!(
                "{}{basis}: how fast correlations go while the variance {}",
                g(x),
                if a.regime == RegimeKind::Vanishing {
                    "vanishes"
                } else {
                    "explodes"
                }
            ),
            (None, _) => "∞".into(),
        },
    );
    r.row(
        &format!("trainable depth {}·ξ_c", g(a.depth_multiplier)),
        match (a.trainable_depth, a.trainable_depth_unbounded) {
            (Some(d), _) => format!("{} layers", g(d)),
            (None, true) => format!("∞ ({})", a.depth_limit.trim_start_matches("unbounded: ")),
            (None, false) => format!("none: {}", a.depth_limit),
        },
    );

    for w in &a.warnings {
        r.row("warning", w.clone());
    }

    r.section("gradients (per layer, backward)");
    r.row("second moment ×", g(a.chi_1));
    r.row(
        "covariance of two inputs ×",
        g(a.gradient_covariance_factor),
    );
    r.row(
        "correlation of two inputs ×",
        g(a.gradient_correlation_factor),
    );

    let dir = match a.overflow_direction {
        Some(RangeExit::Overflow) => "overflows",
        Some(RangeExit::Underflow) => "underflows",
        None => "leaves range",
    };
    r.section(&format!(
        "depth at which the variance {dir} (from q⁰ = {})",
        g(a.q0)
    ));
    let d = a.overflow_depth;
    for (name, v) in [
        ("f16", d.f16),
        ("bf16", d.bf16),
        ("f32", d.f32),
        ("f64", d.f64),
    ] {
        r.row(
            name,
            v.map(|x| match fmt_layer(x) {
                l if x <= 1e9 => format!("layer {l}"),
                l => l,
            })
            .unwrap_or_else(|| "never".into()),
        );
    }

    r.section("integration");
    let m = match a.integration.method {
        Method::ClosedForm => "closed form (exact)".to_string(),
        Method::GaussLegendre { nodes } => {
            format!(
                "Gauss–Legendre, {nodes} nodes per piece, error estimate {}",
                g(a.integration.error_estimate)
            )
        }
        Method::GaussHermite { nodes } => {
            format!(
                "Gauss–Hermite, {nodes} nodes per dimension, error estimate {}",
                g(a.integration.error_estimate)
            )
        }
    };
    r.row("method", m);
    r
}
