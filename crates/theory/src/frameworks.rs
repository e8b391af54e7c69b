//! Deep-learning frameworks, both ways: reading their noise layers as
//! written in code (`Dropout(0.2)`, `keras.layers.GaussianNoise(0.3)`, …)
//! and writing a critical initialisation as code for them.
//!
//! | framework | dropout argument | weight init written as |
//! |---|---|---|
//! | PyTorch | `nn.Dropout(p)`: p is the DROP probability | `nn.init.normal_` with std √(σ_w²/fan_in) |
//! | Keras | `Dropout(rate)`: DROP probability; `GaussianDropout(rate)`: N(1, rate/(1 − rate)); `GaussianNoise(stddev)`: additive | `VarianceScaling(scale=σ_w², mode="fan_in")` |
//! | Flax (linen) | `nn.Dropout(rate)`: DROP probability | `variance_scaling(σ_w², "fan_in", "normal")` |
//! | burn | `DropoutConfig::new(prob)`: DROP probability | `Initializer::Normal` |
//! | candle | `Dropout::new(drop_p)`: DROP probability | `Init::Randn` |
//!
//! The reading side lives in [`crate::noise`] ([`crate::Noise::parse_stage`],
//! with [`FrameworkReading`] re-exported here), so that this module depends on
//! `noise` and not the other way round.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::TheoryError;
pub use crate::noise::FrameworkReading;
use crate::noise::{NoiseEffect, NoiseLaw};
use crate::number::{canonical, fmt_short};

/// A framework that [`init_code`] writes code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// PyTorch (`torch.nn`).
    Pytorch,
    /// Keras 3.
    Keras,
    /// Flax (linen).
    Flax,
    /// burn.
    Burn,
    /// candle.
    Candle,
}

impl Framework {
    /// Every framework, in the order the CLI prints them.
    pub const ALL: [Framework; 5] = [
        Framework::Pytorch,
        Framework::Keras,
        Framework::Flax,
        Framework::Burn,
        Framework::Candle,
    ];

    /// The name as lower-case key (`pytorch`, …).
    pub fn key(self) -> &'static str {
        match self {
            Framework::Pytorch => "pytorch",
            Framework::Keras => "keras",
            Framework::Flax => "flax",
            Framework::Burn => "burn",
            Framework::Candle => "candle",
        }
    }
}

impl fmt::Display for Framework {
    /// The name as its users write it (`PyTorch`, `Flax (linen)`, …).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Framework::Pytorch => "PyTorch",
            Framework::Keras => "Keras",
            Framework::Flax => "Flax (linen)",
            Framework::Burn => "burn",
            Framework::Candle => "candle",
        })
    }
}

impl FromStr for Framework {
    type Err = TheoryError;
    fn from_str(s: &str) -> Result<Self, TheoryError> {
        let t = s.trim().to_ascii_lowercase();
        Framework::ALL
            .into_iter()
            .find(|f| f.key() == t || (t == "torch" && *f == Framework::Pytorch))
            .ok_or_else(|| TheoryError::Unknown {
                what: "framework".into(),
                name: s.to_string(),
                valid: "pytorch, keras, flax, burn, candle".into(),
            })
    }
}

/// A float as code: the shortest text that reads back as the same f64
/// (`1.6`, `1.5848591756460664`, `1e308`), never hundreds of digits.
fn lit(x: f64) -> String {
    format!("{x:?}")
}

/// Init code for one framework: weights N(0, σ_w²/fan_in), biases N(0, σ_b²),
/// then one noise layer per law in the framework's own convention.
pub fn init_code(f: Framework, sigma_w2: f64, sigma_b2: f64, laws: &[NoiseLaw]) -> String {
    let (sw2, sb) = (lit(sigma_w2), lit(sigma_b2.sqrt()));
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
            push(if sigma_b2 > 0.0 {
                format!("nn.init.normal_(layer.bias, mean=0.0, std={sb})")
            } else {
                "nn.init.zeros_(layer.bias)".into()
            });
            if sigma_w2 <= 2.0 {
                let a = (2.0 / sigma_w2 - 1.0).sqrt();
                push(format!(
                    "# same weights: nn.init.kaiming_normal_(layer.weight, a={}, nonlinearity=\"leaky_relu\")  # gain √(2/(1+a²)) = σ_w",
                    fmt_short(a)
                ));
            }
        }
        Framework::Keras => {
            push("import keras".into());
            push(format!(
                "init = keras.initializers.VarianceScaling(scale={sw2}, mode=\"fan_in\", distribution=\"untruncated_normal\")"
            ));
            let bias = if sigma_b2 > 0.0 {
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
            let bias = if sigma_b2 > 0.0 {
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
                if sigma_b2 > 0.0 {
                    format!("Initializer::Normal {{ mean: 0.0, std: {sb} }}")
                } else {
                    "zeros".into()
                },
                fmt_short(sigma_b2)
            ));
        }
        Framework::Candle => {
            push("use candle_nn::{Dropout, Init, Linear};".into());
            push(format!("let std = ({sw2}f64 / d_in as f64).sqrt();"));
            push("let w = vb.get_with_hints((d_out, d_in), \"weight\", Init::Randn { mean: 0.0, stdev: std })?;".into());
            let bias = if sigma_b2 > 0.0 {
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
        let line = noise_layer(f, *law);
        if !line.is_empty() {
            push(line);
        }
    }
    s
}

/// The framework's noise layer for one law, with its convention spelled out.
fn noise_layer(f: Framework, law: NoiseLaw) -> String {
    let custom = |what: &str| match f {
        Framework::Burn | Framework::Candle => format!("// {law}: no built-in layer; {what}"),
        Framework::Pytorch | Framework::Keras | Framework::Flax => {
            format!("# {law}: no built-in layer; {what}")
        }
    };
    match law {
        NoiseLaw::Dropout { keep } => {
            let drop = fmt_short(1.0 - keep);
            let keep = fmt_short(keep);
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
            // Canonical: the rate a user wrote (0.3), not its round trip
            // through std (0.30000000000000004).
            let rate = canonical(std * std / (1.0 + std * std));
            format!(
                "noise = keras.layers.GaussianDropout(rate={})  # multiplicative N(1, rate/(1-rate)) = N(1, {})",
                lit(rate),
                fmt_short(std * std)
            )
        }
        NoiseLaw::GaussAdd { std } if f == Framework::Keras => {
            format!(
                "noise = keras.layers.GaussianNoise(stddev={})  # additive N(0, stddev²)",
                lit(std)
            )
        }
        _ => match law.effect() {
            NoiseEffect::Multiplicative { mu2 } => custom(&format!(
                "multiply each input unit by independent noise with mean 1 and E[ε²] = {}",
                fmt_short(mu2)
            )),
            NoiseEffect::Additive { var } => custom(&format!(
                "add independent zero-mean noise of variance {} to each input unit",
                fmt_short(var)
            )),
            NoiseEffect::Identity => String::new(),
        },
    }
}
