//! `noisyprop simulate`: Monte-Carlo networks against the theory.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;

use noisyprop_experiments::record::{ClassRecord, LayerArrays, SimulationRecord};
use noisyprop_sim::{ClassResult, InputClass, Precision, SimConfig, simulate, theory, verdict};
use noisyprop_theory::{Network, Noise};

use crate::Outcome;
use crate::args::{Format, IntegrationArgs, NetArgs, Quiet, Seed, SigmaW2Args, Width};
use crate::output::{g, print_csv, print_record};
use crate::progress::Progress;

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

    #[command(flatten)]
    pub width: Width,

    /// Dimension of the inputs (default: the width, at least 2 so two inputs
    /// can be correlated)
    #[arg(long = "input-dim", value_name = "D")]
    pub input_dim: Option<usize>,

    /// Number of weight layers
    #[arg(long, short = 'L', default_value_t = 15, value_name = "L")]
    pub depth: usize,

    /// Independent random networks
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub networks: usize,

    /// Input variance q⁰ (comma-separated for several input classes)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1",
        value_name = "Q",
        allow_negative_numbers = true
    )]
    pub q0: Vec<f64>,

    /// Correlation c⁰ of each partner with its base input (comma-separated
    /// for several classes); `none` for independent inputs only
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.5",
        value_name = "C",
        allow_negative_numbers = true
    )]
    pub c0: Vec<String>,

    /// Base inputs per class
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub pairs: usize,

    /// Partners per base input
    #[arg(long, default_value_t = 1, value_name = "N")]
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
    #[arg(long = "memory-mb", default_value_t = 64, value_name = "MiB")]
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

/// Builds the simulation config from the flags.
pub fn config(args: &SimulateArgs, net: &Network) -> Result<SimConfig> {
    if !(1..=1_000_000).contains(&args.pairs) {
        bail!(
            "--pairs {} is out of range; valid range is [1, 1000000]",
            args.pairs
        );
    }
    let mut c0s = Vec::new();
    for s in &args.c0 {
        if s.eq_ignore_ascii_case("none") {
            c0s.push(None);
        } else {
            let v: f64 = s
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("--c0 `{s}` is not a number or `none`"))?;
            c0s.push(Some(v));
        }
    }
    let mut inputs = Vec::new();
    for &q0 in &args.q0 {
        for &c0 in &c0s {
            inputs.push(InputClass {
                q0,
                c0,
                groups: args.pairs,
                partners: if c0.is_some() { args.partners } else { 0 },
            });
        }
    }
    Ok(SimConfig {
        network: net.clone(),
        width: args.width.width,
        input_dim: args.input_dim.unwrap_or(args.width.width.max(2)),
        depth: args.depth,
        networks: args.networks,
        inputs,
        input_activation: !args.raw_input,
        backward: args.backward,
        precision: if args.f64 {
            Precision::F64
        } else {
            Precision::F32
        },
        seed: args.seed.seed,
        memory_limit: args.memory_mb.saturating_mul(1 << 20),
    })
}

pub fn run(args: &SimulateArgs, out: &mut impl Write) -> Result<Outcome> {
    let integration = args.integration.integration()?;
    let (net, _) = args.sigma.network(&args.net, integration)?;
    let cfg = config(args, &net)?;
    cfg.validate()?;
    if args.compare && args.networks < 2 {
        bail!(
            "--networks {} is too few for --compare; valid range is [2, inf)",
            args.networks
        );
    }
    let theory_net = if args.theory_noise.is_empty() {
        net.clone()
    } else {
        net.with_noise(Noise::parse_all(&args.theory_noise)?)?
    };
    let progress = Progress::new(args.networks as u64, "networks", args.quiet.quiet);
    let start = std::time::Instant::now();
    let result = simulate(&cfg, &|| progress.inc())?;
    progress.finish();
    let seconds = start.elapsed().as_secs_f64();
    let th = theory(&cfg, &theory_net);
    let v = verdict(&result.classes, &th, cfg.width, cfg.precision);
    let classes: Vec<ClassRecord> = result
        .classes
        .iter()
        .zip(&th)
        .map(|(c, t)| ClassRecord {
            q0: c.class.q0,
            c0: c.class.c0,
            groups: c.class.groups,
            partners: c.class.partners,
            layers: LayerArrays::new(c, t, cfg.backward),
        })
        .collect();
    let outcome = if args.compare && !v.pass {
        Outcome::Negative
    } else {
        Outcome::Success
    };
    let rec = SimulationRecord {
        activation: net.activation().spec(),
        noise: net.noise().to_string(),
        theory_noise: theory_net.noise().to_string(),
        sigma_w2: net.sigma_w2(),
        sigma_b2: net.sigma_b2(),
        width: cfg.width,
        input_dim: cfg.input_dim,
        depth: cfg.depth,
        networks: cfg.networks,
        seed: cfg.seed,
        precision: cfg.precision,
        input_activation: cfg.input_activation,
        backward: cfg.backward,
        seconds,
        layers: classes[0].layers.clone(),
        classes,
        verdict: v,
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
        net.activation(),
        net.noise(),
        g(net.sigma_w2()),
        g(net.sigma_b2()),
        cfg.networks,
        cfg.width,
        cfg.depth,
        if args.f64 { "f64" } else { "f32" },
    )?;
    if !args.theory_noise.is_empty() {
        writeln!(out, "theory computed with noise {}", theory_net.noise())?;
    }
    for (c, class) in result.classes.iter().zip(&rec.classes) {
        table(out, c, &class.layers, args.compare, cfg.backward)?;
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

fn table(
    out: &mut impl Write,
    c: &ClassResult,
    a: &LayerArrays,
    compare: bool,
    backward: bool,
) -> Result<()> {
    let class = c.class;
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
