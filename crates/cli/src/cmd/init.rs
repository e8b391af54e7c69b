//! `noisyprop init`: the critical initialisation as code for a framework.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use noisyprop_theory::{AnalysisOptions, NoiseLaw, NoiseStage, analyze};

use crate::args::{IntegrationArgs, NetArgs, network};
use crate::output::{Report, g, opt, print_json};

/// The critical initialisation for an activation and noise, as code for
/// PyTorch, Keras, Flax, burn or candle, with the predicted trainable depth
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub net: NetArgs,

    /// Framework to write code for (default: all)
    #[arg(long, value_enum)]
    pub framework: Option<Framework>,

    /// Fan-in for the printed weight standard deviation σ_w/√fan_in
    #[arg(long = "fan-in", default_value_t = 1000, value_name = "N")]
    pub fan_in: usize,

    #[command(flatten)]
    pub k: crate::args::DepthMultiplier,

    #[command(flatten)]
    pub integration: IntegrationArgs,

    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// Frameworks with init snippets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    Pytorch,
    Keras,
    Flax,
    Burn,
    Candle,
}

#[derive(Serialize)]
struct InitRecord {
    activation: String,
    noise: String,
    noise_stages: Vec<NoiseStage>,
    mu2: f64,
    sigma_w2: f64,
    sigma_w: f64,
    sigma_b2: f64,
    fan_in: usize,
    weight_std: f64,
    c_star: f64,
    xi_c: Option<f64>,
    trainable_depth: Option<f64>,
    depth_multiplier: f64,
    code: BTreeMap<Framework, String>,
}

pub fn run(args: &InitArgs, out: &mut impl Write) -> Result<()> {
    if args.net.sigma_w2.is_some() {
        bail!(
            "`init` always uses the critical σ_w²; drop --sigma-w2 (use `analyze` for a given σ_w²)"
        );
    }
    if args.fan_in == 0 {
        bail!("--fan-in 0 is out of range; valid range is [1, inf)");
    }
    let integration = args.integration.integration()?;
    let (net, _) = network(&args.net, integration)?;
    let a = analyze(
        &net,
        &AnalysisOptions {
            depth_multiplier: args.k.depth_multiplier,
            integration,
            ..Default::default()
        },
    )?;
    let frameworks: Vec<Framework> = match args.framework {
        Some(f) => vec![f],
        None => Framework::value_variants().to_vec(),
    };
    let laws: Vec<NoiseLaw> = net.noise().laws().collect();
    let code: BTreeMap<Framework, String> = frameworks
        .iter()
        .map(|&f| (f, snippet(f, a.sigma_w2, a.sigma_b2, &laws)))
        .collect();
    let rec = InitRecord {
        activation: a.activation.clone(),
        noise: a.noise.clone(),
        noise_stages: a.noise_stages.clone(),
        mu2: a.mu2,
        sigma_w2: a.sigma_w2,
        sigma_w: a.sigma_w2.sqrt(),
        sigma_b2: a.sigma_b2,
        fan_in: args.fan_in,
        weight_std: (a.sigma_w2 / args.fan_in as f64).sqrt(),
        c_star: a.c_star,
        xi_c: a.xi_c,
        trainable_depth: a.trainable_depth,
        depth_multiplier: a.depth_multiplier,
        code,
    };
    if args.json {
        return print_json(out, "init", &rec);
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
        &format!("weight std at fan-in {}", rec.fan_in),
        g(rec.weight_std),
    );
    r.row("correlation fixed point c*", g(rec.c_star));
    r.row(
        &format!("trainable depth {}·ξ_c", g(rec.depth_multiplier)),
        match rec.trainable_depth {
            Some(d) => format!("{} layers (ξ_c = {})", g(d), opt(rec.xi_c, "∞")),
            None => "unbounded (ξ_c = ∞: no noise)".into(),
        },
    );
    r.write(out)?;
    for (f, code) in &rec.code {
        writeln!(out, "\n{}:", name(*f))?;
        for line in code.lines() {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

fn name(f: Framework) -> &'static str {
    match f {
        Framework::Pytorch => "PyTorch",
        Framework::Keras => "Keras",
        Framework::Flax => "Flax (linen)",
        Framework::Burn => "burn",
        Framework::Candle => "candle",
    }
}

/// Init code for one framework: weights N(0, σ_w²/fan_in), biases N(0, σ_b²),
/// and the noise layers in that framework's own convention.
fn snippet(f: Framework, sw2: f64, sb2: f64, laws: &[NoiseLaw]) -> String {
    let sb = sb2.sqrt();
    let mut s = String::new();
    let mut push = |line: String| {
        s.push_str(&line);
        s.push('\n');
    };
    match f {
        Framework::Pytorch => {
            push("import math, torch.nn as nn".into());
            push("layer = nn.Linear(fan_in, fan_out)".into());
            push(format!(
                "nn.init.normal_(layer.weight, mean=0.0, std=math.sqrt({sw2} / layer.in_features))"
            ));
            push(if sb2 > 0.0 {
                format!("nn.init.normal_(layer.bias, mean=0.0, std={sb})")
            } else {
                "nn.init.zeros_(layer.bias)".into()
            });
            if sw2 <= 2.0 {
                let a = (2.0 / sw2 - 1.0).sqrt();
                push(format!(
                    "# same weights: nn.init.kaiming_normal_(layer.weight, a={}, nonlinearity=\"leaky_relu\")  # gain √(2/(1+a²)) = σ_w",
                    g(a)
                ));
            }
        }
        Framework::Keras => {
            push("import keras".into());
            push(format!(
                "init = keras.initializers.VarianceScaling(scale={sw2}, mode=\"fan_in\", distribution=\"untruncated_normal\")"
            ));
            let bias = if sb2 > 0.0 {
                format!("keras.initializers.RandomNormal(stddev={sb})")
            } else {
                "\"zeros\"".into()
            };
            push(format!(
                "layer = keras.layers.Dense(units, kernel_initializer=init, bias_initializer={bias})"
            ));
        }
        Framework::Flax => {
            push("import flax.linen as nn".into());
            push(format!(
                "init = nn.initializers.variance_scaling({sw2}, \"fan_in\", \"normal\")  # \"normal\" is untruncated"
            ));
            let bias = if sb2 > 0.0 {
                format!("nn.initializers.normal(stddev={sb})")
            } else {
                "nn.initializers.zeros".into()
            };
            push(format!(
                "layer = nn.Dense(features, kernel_init=init, bias_init={bias})"
            ));
        }
        Framework::Burn => {
            push("use burn::nn::{DropoutConfig, Initializer, LinearConfig};".into());
            push(format!("let std = ({sw2}f64 / d_input as f64).sqrt();"));
            push("let layer = LinearConfig::new(d_input, d_output)".into());
            push("    .with_initializer(Initializer::Normal { mean: 0.0, std })".into());
            push("    .init(&device);".into());
            push(format!(
                "// burn initialises the bias with the same initializer; set it to {} for σ_b² = {}",
                if sb2 > 0.0 {
                    format!("N(0, {sb2})")
                } else {
                    "zeros".into()
                },
                g(sb2)
            ));
        }
        Framework::Candle => {
            push("use candle_nn::{Dropout, Init, Linear};".into());
            push(format!("let std = ({sw2}f64 / d_in as f64).sqrt();"));
            push("let w = vb.get_with_hints((d_out, d_in), \"weight\", Init::Randn { mean: 0.0, stdev: std })?;".into());
            let bias = if sb2 > 0.0 {
                format!("Init::Randn {{ mean: 0.0, stdev: {sb} }}")
            } else {
                "Init::Const(0.0)".into()
            };
            push(format!(
                "let b = vb.get_with_hints(d_out, \"bias\", {bias})?;"
            ));
            push("let layer = Linear::new(w, Some(b));".into());
        }
    }
    for law in laws {
        push(noise_layer(f, *law));
    }
    s
}

/// The framework's noise layer for one law, with its convention spelled out.
fn noise_layer(f: Framework, law: NoiseLaw) -> String {
    let custom = |what: &str| match f {
        Framework::Burn | Framework::Candle => format!("// {law}: no built-in layer; {what}"),
        _ => format!("# {law}: no built-in layer; {what}"),
    };
    match law {
        NoiseLaw::Dropout { keep } => {
            let drop = g(1.0 - keep);
            let keep = g(keep);
            match f {
                Framework::Pytorch => format!(
                    "noise = nn.Dropout(p={drop})  # p is the DROP probability (keep {keep})"
                ),
                Framework::Keras => format!(
                    "noise = keras.layers.Dropout(rate={drop})  # rate is the DROP probability (keep {keep})"
                ),
                Framework::Flax => format!(
                    "noise = nn.Dropout(rate={drop})  # rate is the DROP probability (keep {keep})"
                ),
                Framework::Burn => format!(
                    "let noise = DropoutConfig::new({drop}).init(); // prob is the DROP probability (keep {keep})"
                ),
                Framework::Candle => format!(
                    "let noise = Dropout::new({drop}); // drop_p is the DROP probability (keep {keep})"
                ),
            }
        }
        NoiseLaw::GaussMult { std } if f == Framework::Keras => {
            let rate = std * std / (1.0 + std * std);
            format!(
                "noise = keras.layers.GaussianDropout(rate={})  # multiplicative N(1, rate/(1-rate)) = N(1, {})",
                g(rate),
                g(std * std)
            )
        }
        NoiseLaw::GaussAdd { std } if f == Framework::Keras => {
            format!(
                "noise = keras.layers.GaussianNoise(stddev={})  # additive N(0, stddev²)",
                g(std)
            )
        }
        _ => match law.effect() {
            noisyprop_theory::NoiseEffect::Multiplicative { mu2 } => custom(&format!(
                "multiply each input unit by independent noise with mean 1 and E[ε²] = {}",
                g(mu2)
            )),
            noisyprop_theory::NoiseEffect::Additive { var } => custom(&format!(
                "add independent zero-mean noise of variance {} to each input unit",
                g(var)
            )),
            noisyprop_theory::NoiseEffect::Identity => String::new(),
        },
    }
}
