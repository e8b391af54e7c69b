//! `noisyprop init`: the critical initialisation as code for a framework.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_ops::Quiet;
use noisyprop_ops::init::{Init, InitRequest};

use crate::args::{DepthMultiplier, IntegrationArgs, Json, NetArgs, run_op};
use crate::output::{Report, g, opt, print_record};

/// The critical initialisation for an activation and noise, as code for
/// PyTorch, Keras, Flax, burn or candle, with the predicted trainable depth
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub net: NetArgs,

    /// Framework to write code for: pytorch, keras, flax, burn or candle
    /// (repeatable; default: all)
    #[arg(long, value_name = "NAME")]
    pub framework: Vec<String>,

    /// Fan-in for the printed weight standard deviation σ_w/√fan_in
    #[arg(long = "fan-in", default_value_t = InitRequest::default().fan_in, value_name = "N")]
    pub fan_in: usize,

    #[command(flatten)]
    pub k: DepthMultiplier,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub json: Json,
}

pub fn run(args: &InitArgs, out: &mut impl Write) -> Result<()> {
    let request = InitRequest {
        network: args.net.params(),
        framework: args.framework.clone(),
        fan_in: args.fan_in,
        depth_multiplier: args.k.depth_multiplier,
        integration: args.integration.params(),
    };
    let rec = run_op::<Init>(&request, &Quiet)?;
    if args.json.json {
        return print_record(out, rec);
    }
    let mut r = Report::default();
    r.section(&format!(
        "critical initialisation for {} with noise {}",
        rec.activation, rec.noise
    ));
    r.noise_conventions(&rec.noise_stages);
    r.row(
        "σ_w²",
        format!(
            "{}  (σ_w = {}; weights ~ N(0, σ_w²/fan_in))",
            g(rec.sigma_w2),
            g(rec.sigma_w)
        ),
    );
    r.row("σ_b²", g(rec.sigma_b2));
    r.row(
        "kind",
        format!("{}: {}", rec.critical_kind, rec.critical_kind.meaning()),
    );
    r.row("why", rec.critical_reason.clone());
    r.row(
        &format!("weight std at fan-in {}", rec.fan_in),
        g(rec.weight_std),
    );
    r.row("correlation fixed point c*", g(rec.c_star));
    r.row(
        &format!("trainable depth {}·ξ_c", g(rec.depth_multiplier)),
        match (rec.trainable_depth, rec.trainable_depth_unbounded) {
            (Some(d), _) => format!("{} layers (ξ_c = {})", g(d), opt(rec.xi_c, "∞")),
            (None, true) => format!("∞ ({})", rec.depth_limit.trim_start_matches("unbounded: ")),
            (None, false) => format!("none: {}", rec.depth_limit),
        },
    );
    for w in &rec.warnings {
        r.row("warning", w.clone());
    }
    r.write(out)?;
    for (f, code) in &rec.code {
        writeln!(out, "\n{f}:")?;
        for line in code.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}
