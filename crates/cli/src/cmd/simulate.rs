//! `noisyprop simulate`: Monte-Carlo networks against the theory.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use noisyprop_sim::{
    ClassResult, InputClass, Precision, SimConfig, Summary, TheoryLayers, Verdict, simulate,
    theory, verdict,
};
use noisyprop_theory::{Network, Noise};

use crate::Outcome;
use crate::args::{IntegrationArgs, NetArgs, network};
use crate::output::{g, print_csv, print_json};
use crate::progress::Progress;

/// Simulate random finite-width noisy networks and compare them with the
/// theory layer by layer: variance q^l, correlation c^l of input pairs and,
/// with --backward, the back-propagated gradient. With --compare, ends with
/// PASS or FAIL (exit status 1)
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub net: NetArgs,

    /// Width of every hidden layer
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub width: usize,

    /// Dimension of the inputs (default: the width)
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

    /// Seed of every random draw
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

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
    pub format: crate::args::Format,

    /// No progress bar
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Per-layer arrays of one class.
#[derive(Debug, Serialize, Default)]
pub struct LayerArrays {
    layer: Vec<usize>,
    q_sim: Vec<f64>,
    q_sim_std: Vec<f64>,
    q_sim_ci_low: Vec<f64>,
    q_sim_ci_high: Vec<f64>,
    q_theory: Vec<f64>,
    c_sim: Vec<Option<f64>>,
    c_sim_std: Vec<Option<f64>>,
    c_pearson_sim: Vec<Option<f64>>,
    c_theory: Vec<Option<f64>>,
    grad_q_sim: Vec<Option<f64>>,
    grad_q_sim_std: Vec<Option<f64>>,
    grad_q_theory: Vec<Option<f64>>,
    grad_c_sim: Vec<Option<f64>>,
    grad_c_theory: Vec<Option<f64>>,
    nonfinite: Vec<usize>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn arrays(class: &ClassResult, th: &TheoryLayers, backward: bool) -> LayerArrays {
    let mut a = LayerArrays::default();
    let m = |s: Option<Summary>| s.map(|s| s.mean);
    for l in &class.layers {
        let i = l.layer;
        a.layer.push(i);
        a.q_sim.push(l.q.mean);
        a.q_sim_std.push(l.q.std);
        a.q_sim_ci_low.push(l.q.ci_low);
        a.q_sim_ci_high.push(l.q.ci_high);
        a.q_theory.push(th.q[i]);
        a.c_sim.push(m(l.c));
        a.c_sim_std.push(l.c.map(|s| s.std));
        a.c_pearson_sim.push(m(l.c_pearson));
        a.c_theory.push(l.c.and(finite(th.c[i])));
        a.grad_q_sim.push(m(l.grad_q));
        a.grad_q_sim_std.push(l.grad_q.map(|s| s.std));
        a.grad_q_theory.push(backward.then(|| th.grad_q[i]));
        a.grad_c_sim.push(m(l.grad_c));
        a.grad_c_theory.push(l.grad_c.and(finite(th.grad_c[i])));
        a.nonfinite.push(l.q.nonfinite);
    }
    a
}

#[derive(Serialize)]
struct ClassRecord {
    q0: f64,
    c0: Option<f64>,
    groups: usize,
    partners: usize,
    layers: LayerArrays,
}

#[derive(Serialize)]
struct SimRecord<'a> {
    activation: String,
    noise: String,
    theory_noise: String,
    sigma_w2: f64,
    sigma_b2: f64,
    width: usize,
    input_dim: usize,
    depth: usize,
    networks: usize,
    seed: u64,
    precision: Precision,
    input_activation: bool,
    backward: bool,
    seconds: f64,
    /// The first input class's layers (the others are under `classes`).
    layers: &'a LayerArrays,
    classes: &'a [ClassRecord],
    verdict: &'a Verdict,
}

#[derive(Serialize)]
struct CsvRow {
    class: usize,
    q0: f64,
    c0: Option<f64>,
    layer: usize,
    q_sim: f64,
    q_sim_std: f64,
    q_sim_ci_low: f64,
    q_sim_ci_high: f64,
    q_theory: f64,
    c_sim: Option<f64>,
    c_sim_std: Option<f64>,
    c_pearson_sim: Option<f64>,
    c_theory: Option<f64>,
    grad_q_sim: Option<f64>,
    grad_q_theory: Option<f64>,
    grad_c_sim: Option<f64>,
    grad_c_theory: Option<f64>,
}

/// Builds the simulation config from the flags.
pub fn config(args: &SimulateArgs, net: &Network) -> Result<SimConfig> {
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
        activation: net.activation(),
        noise: net.noise().clone(),
        sigma_w2: net.sigma_w2(),
        sigma_b2: net.sigma_b2(),
        width: args.width,
        input_dim: args.input_dim.unwrap_or(args.width),
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
        seed: args.seed,
        memory_limit: args.memory_mb.saturating_mul(1 << 20),
    })
}

pub fn run(args: &SimulateArgs, out: &mut impl Write) -> Result<Outcome> {
    let integration = args.integration.integration()?;
    let (net, _) = network(&args.net, integration)?;
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
        net.with_noise(Noise::parse_all(&args.theory_noise)?)
    };
    let progress = Progress::new(args.networks as u64, "networks", args.quiet);
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
            layers: arrays(c, t, cfg.backward),
        })
        .collect();
    let outcome = if args.compare && !v.pass {
        Outcome::Negative
    } else {
        Outcome::Success
    };
    if args.format.csv {
        let mut rows = Vec::new();
        for (ci, c) in classes.iter().enumerate() {
            let a = &c.layers;
            for i in 0..a.layer.len() {
                rows.push(CsvRow {
                    class: ci,
                    q0: c.q0,
                    c0: c.c0,
                    layer: a.layer[i],
                    q_sim: a.q_sim[i],
                    q_sim_std: a.q_sim_std[i],
                    q_sim_ci_low: a.q_sim_ci_low[i],
                    q_sim_ci_high: a.q_sim_ci_high[i],
                    q_theory: a.q_theory[i],
                    c_sim: a.c_sim[i],
                    c_sim_std: a.c_sim_std[i],
                    c_pearson_sim: a.c_pearson_sim[i],
                    c_theory: a.c_theory[i],
                    grad_q_sim: a.grad_q_sim[i],
                    grad_q_theory: a.grad_q_theory[i],
                    grad_c_sim: a.grad_c_sim[i],
                    grad_c_theory: a.grad_c_theory[i],
                });
            }
        }
        print_csv(out, &rows)?;
        return Ok(outcome);
    }
    if args.format.json {
        let rec = SimRecord {
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
            layers: &classes[0].layers,
            classes: &classes,
            verdict: &v,
        };
        print_json(out, "simulation", &rec)?;
        return Ok(outcome);
    }
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
    for (c, rec) in result.classes.iter().zip(&classes) {
        table(out, c, &rec.layers, args.compare, cfg.backward)?;
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
    let pm = |m: f64, s: f64| format!("{} ± {}", g(m), g(s));
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
