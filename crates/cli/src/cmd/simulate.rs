//! `noisyprop simulate`: Monte-Carlo networks against the theory.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use noisyprop_experiments::record::ClassRecord;
use noisyprop_ops::form::MaybeNumber;
use noisyprop_ops::simulate::{Simulate, SimulateRequest};

use crate::Outcome;
use crate::args::{Format, IntegrationArgs, NetArgs, Quiet, Seed, SigmaW2Args, run_op};
use crate::output::{g, print_csv, print_record};
use crate::progress::Bar;

/// Simulate random finite-width noisy networks and compare them with the
/// theory layer by layer: variance q^l, correlation c^l of input pairs and,
/// with --backward, the back-propagated gradient. With --compare, ends with
/// PASS or FAIL (exit status 1)
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub net: NetArgs,

    #[command(flatten)]
    pub sigma: SigmaW2Args,

    /// Width of every hidden layer
    #[arg(long, default_value_t = SimulateRequest::default().width, value_name = "N")]
    pub width: usize,

    /// Dimension of the inputs (default: the width, at least 2 so two inputs
    /// can be correlated)
    #[arg(long = "input-dim", value_name = "D")]
    pub input_dim: Option<usize>,

    /// Number of weight layers
    #[arg(long, short = 'L', default_value_t = SimulateRequest::default().depth, value_name = "L")]
    pub depth: usize,

    /// Independent random networks
    #[arg(long, default_value_t = SimulateRequest::default().networks, value_name = "N")]
    pub networks: usize,

    /// Input variance q⁰ (comma-separated for several input classes)
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = SimulateRequest::default().q0,
        value_name = "Q",
        allow_negative_numbers = true
    )]
    pub q0: Vec<f64>,

    /// Correlation c⁰ of each partner with its base input (comma-separated
    /// for several classes); `none` for independent inputs only
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = SimulateRequest::default().c0,
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub c0: Vec<MaybeNumber>,

    /// Base inputs per class
    #[arg(long, default_value_t = SimulateRequest::default().pairs, value_name = "N")]
    pub pairs: usize,

    /// Partners per base input
    #[arg(long, default_value_t = SimulateRequest::default().partners, value_name = "N")]
    pub partners: usize,

    /// Feed the raw input to the first weight layer (no φ and no noise on it;
    /// the paper's code applies both)
    #[arg(long = "raw-input")]
    pub raw_input: bool,

    /// Also simulate the backward pass (gradient second moment and correlation)
    #[arg(long)]
    pub backward: bool,

    /// Simulate in f64 instead of f32
    #[arg(long)]
    pub f64: bool,

    #[command(flatten)]
    pub seed: Seed,

    /// Memory the backward pass may keep per network (MiB) before it
    /// recomputes from checkpoints
    #[arg(long = "memory-mb", default_value_t = SimulateRequest::default().memory_mb, value_name = "MiB")]
    pub memory_mb: usize,

    /// Print theory next to simulation and a PASS/FAIL verdict (exit 1 on FAIL)
    #[arg(long)]
    pub compare: bool,

    /// Compare against the theory of this noise instead (repeatable), e.g. to
    /// see a wrong theory fail
    #[arg(long = "theory-noise", value_name = "SPEC")]
    pub theory_noise: Vec<String>,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    #[command(flatten)]
    pub format: Format,

    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: &SimulateArgs, out: &mut impl Write) -> Result<Outcome> {
    let request = SimulateRequest {
        network: args.net.params(),
        sigma_w2: args.sigma.given(),
        width: args.width,
        input_dim: args.input_dim,
        depth: args.depth,
        networks: args.networks,
        q0: args.q0.clone(),
        c0: args.c0.clone(),
        pairs: args.pairs,
        partners: args.partners,
        raw_input: args.raw_input,
        backward: args.backward,
        f64: args.f64,
        seed: args.seed.seed,
        memory_mb: args.memory_mb,
        compare: args.compare,
        theory_noise: args.theory_noise.clone(),
        integration: args.integration.params(),
    };
    let rec = run_op::<Simulate>(&request, &Bar::new(args.quiet.quiet))?;
    let outcome = if args.compare && !rec.verdict.pass {
        Outcome::Negative
    } else {
        Outcome::Success
    };
    if args.format.csv {
        print_csv(out, &rec.rows())?;
        return Ok(outcome);
    }
    if args.format.json {
        print_record(out, rec)?;
        return Ok(outcome);
    }
    let v = &rec.verdict;
    writeln!(
        out,
        "{} with noise {}, σ_w² = {}, σ_b² = {}: {} networks of width {}, {} layers, {}",
        rec.activation,
        rec.noise,
        g(rec.sigma_w2),
        g(rec.sigma_b2),
        rec.networks,
        rec.width,
        rec.depth,
        if args.f64 { "f64" } else { "f32" },
    )?;
    if !args.theory_noise.is_empty() {
        writeln!(out, "theory computed with noise {}", rec.theory_noise)?;
    }
    for class in &rec.classes {
        table(out, class, args.compare, rec.backward)?;
    }
    if args.compare {
        writeln!(out)?;
        if v.pass {
            writeln!(out, "verdict: PASS ({} checks agree)", v.checks)?;
        } else {
            writeln!(
                out,
                "verdict: FAIL ({} of {} checks disagree)",
                v.failed, v.checks
            )?;
            for f in v.failures.iter().take(5) {
                if f.sim_mean.is_nan() {
                    writeln!(
                        out,
                        "  class {} layer {} {}: theory {} vs simulation undefined (every network's value was 0/0 or overflowed, e.g. all units dead at this width)",
                        f.class,
                        f.layer,
                        f.quantity,
                        g(f.theory)
                    )?;
                } else {
                    writeln!(
                        out,
                        "  class {} layer {} {}: theory {} vs simulation {} (allowed ±{})",
                        f.class,
                        f.layer,
                        f.quantity,
                        g(f.theory),
                        g(f.sim_mean),
                        g(f.band)
                    )?;
                }
            }
        }
        writeln!(
            out,
            "rule: {} (t = {}, a = {})",
            v.rule,
            g(v.t),
            g(v.allowance)
        )?;
    }
    Ok(outcome)
}

fn table(out: &mut impl Write, class: &ClassRecord, compare: bool, backward: bool) -> Result<()> {
    let a = &class.layers;
    writeln!(
        out,
        "\ninputs: q⁰ = {}{}, {} base inputs × {} partners",
        g(class.q0),
        class
            .c0
            .map(|c| format!(", c⁰ = {}", g(c)))
            .unwrap_or_default(),
        class.groups,
        class.partners
    )?;
    let pm = |m: f64, s: f64| {
        if m.is_nan() {
            "undefined".to_string()
        } else {
            format!("{} ± {}", g(m), g(s))
        }
    };
    let opt = |x: Option<f64>| x.map(g).unwrap_or_else(|| "-".into());
    let mut head = format!("{:>5}  {:>22}", "layer", "q sim (±std)");
    if compare {
        head.push_str(&format!("  {:>10}", "q theory"));
    }
    head.push_str(&format!("  {:>20}", "c sim (±std)"));
    if compare {
        head.push_str(&format!("  {:>10}", "c theory"));
    }
    if backward {
        head.push_str(&format!("  {:>20}", "grad E[δ²] sim"));
        if compare {
            head.push_str(&format!("  {:>10}", "theory"));
        }
    }
    writeln!(out, "{head}")?;
    for i in 0..a.layer.len() {
        let mut line = format!("{:>5}  {:>22}", a.layer[i], pm(a.q_sim[i], a.q_sim_std[i]));
        if compare {
            line.push_str(&format!("  {:>10}", g(a.q_theory[i])));
        }
        let cs = match (a.c_sim[i], a.c_sim_std[i]) {
            (Some(m), Some(s)) => pm(m, s),
            _ => "-".into(),
        };
        line.push_str(&format!("  {cs:>20}"));
        if compare {
            line.push_str(&format!("  {:>10}", opt(a.c_theory[i])));
        }
        if backward {
            let gs = match (a.grad_q_sim[i], a.grad_q_sim_std[i]) {
                (Some(m), Some(s)) => pm(m, s),
                _ => "-".into(),
            };
            line.push_str(&format!("  {gs:>20}"));
            if compare {
                line.push_str(&format!("  {:>10}", opt(a.grad_q_theory[i])));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}
