//! Noise laws (spec 1.1, 2.5) and their composition.
//!
//! Noise is injected into each layer's input, after the activation and before
//! the next weight matrix (spec 1.1): `x̃ = x ⊙ ε` (multiplicative, E\[ε\] = 1)
//! or `x̃ = x + ε` (additive, E\[ε\] = 0), independently per unit, per example
//! and per forward pass. Only the second moment of ε enters the mean-field
//! maps (spec 2.1), so every law is summarised by
//!
//! * multiplicative: μ₂ = E\[ε²\] = 1 + Var ε ≥ 1;
//! * additive: σ_ε² = E\[ε²\].
//!
//! Several stages apply in the order given. Each stage maps the second moment
//! of its input affinely — multiplicative `v ↦ μ₂·v`, additive `v ↦ v + σ_ε²` —
//! so any stack acts on the diagonal as `E[x̃²] = A·E[x²] + B` ([`Noise::affine`]),
//! where A is the product of the μ₂ and B collects the additive variances,
//! each scaled by the μ₂ of the stages after it. The off-diagonal E[x̃_a x̃_b]
//! is untouched (independent draws per example, spec 2.7), and the gradient
//! picks up the multiplicative part only: E[(∂x̃/∂x)²] = A (spec 2.11).
//!
//! | spec | law | second moment |
//! |---|---|---|
//! | `none` | ε ≡ 1 | μ₂ = 1 |
//! | `dropout:keep=P` / `dropout:drop=R` | ε = 1/P w.p. P, else 0 (inverted dropout) | μ₂ = 1/P |
//! | `gauss-mult:std=S` | N(1, S²) | μ₂ = 1 + S² |
//! | `laplace-mult:scale=B` | Laplace(1, B) | μ₂ = 1 + 2B² |
//! | `poisson:rate=L` | X/L, X ~ Poisson(L) | μ₂ = 1 + 1/L |
//! | `gamma:shape=K` | Gamma(K, scale 1/K) | μ₂ = 1 + 1/K |
//! | `uniform-mult:half-width=A` | U(1 − A, 1 + A) | μ₂ = 1 + A²/3 |
//! | `mult:mu2=M` | any law with E\[ε\] = 1, E\[ε²\] = M | μ₂ = M |
//! | `gauss-add:std=S` | N(0, S²) | σ_ε² = S² |
//! | `laplace-add:scale=B` | Laplace(0, B) | σ_ε² = 2B² |
//! | `add:var=V` | any law with E\[ε\] = 0, E\[ε²\] = V | σ_ε² = V |
//!
//! Framework spellings, as copied from code, are also read
//! ([`Noise::parse_stage`]): `Dropout(0.2)`, `nn.Dropout(p=0.2)`,
//! `keras.layers.Dropout(rate=0.2)`, `DropoutConfig::new(0.2)` (burn) and
//! `Dropout::new(0.2)` (candle) all take the **drop** probability;
//! `GaussianDropout(rate)` (Keras) is multiplicative N(1, rate/(1 − rate)), so
//! μ₂ = 1/(1 − rate); `GaussianNoise(stddev)` (Keras) is additive N(0, stddev²).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{TheoryError, check};
use crate::number::fmt_num;
use crate::spec::Spec;

/// One noise law.
///
/// Deliberately exhaustive (no `#[non_exhaustive]`): every `match` on a law,
/// in this crate and in the engine, names every law, so a new law fails to
/// compile wherever it is not yet handled (theory: [`NoiseLaw::effect`],
/// [`NoiseLaw::validate`], `Display`; engine: sampling and the GPU support
/// list).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum NoiseLaw {
    /// No noise (ε ≡ 1).
    None,
    /// Inverted dropout with keep probability `keep` ∈ (0, 1].
    Dropout {
        /// Keep (retain) probability p.
        keep: f64,
    },
    /// Multiplicative Gaussian N(1, std²).
    GaussMult {
        /// Standard deviation.
        std: f64,
    },
    /// Multiplicative Laplace(1, scale).
    LaplaceMult {
        /// Laplace scale b (variance 2b²).
        scale: f64,
    },
    /// ε = X/rate with X ~ Poisson(rate).
    Poisson {
        /// Poisson rate λ > 0.
        rate: f64,
    },
    /// Gamma(shape, scale = 1/shape), mean 1.
    Gamma {
        /// Shape k > 0.
        shape: f64,
    },
    /// Uniform on [1 − half_width, 1 + half_width].
    UniformMult {
        /// Half width a ≥ 0.
        half_width: f64,
    },
    /// Any multiplicative law given by its second moment.
    Mult {
        /// μ₂ = E\[ε²\] ≥ 1.
        mu2: f64,
    },
    /// Additive Gaussian N(0, std²).
    GaussAdd {
        /// Standard deviation.
        std: f64,
    },
    /// Additive Laplace(0, scale).
    LaplaceAdd {
        /// Laplace scale b (variance 2b²).
        scale: f64,
    },
    /// Any additive law given by its variance.
    Add {
        /// σ_ε² = E\[ε²\] ≥ 0.
        var: f64,
    },
}

/// How a law acts on the second moment of a layer's input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoiseEffect {
    /// ε ≡ 1.
    Identity,
    /// `x ⊙ ε`, E\[ε\] = 1, E\[ε²\] = mu2.
    Multiplicative {
        /// μ₂.
        mu2: f64,
    },
    /// `x + ε`, E\[ε\] = 0, E\[ε²\] = var.
    Additive {
        /// σ_ε².
        var: f64,
    },
}

/// Every accepted noise kind, for error messages and `--help`.
pub const NOISE_KINDS: &str = "none, dropout:keep=P, dropout:drop=R, gauss-mult:std=S, laplace-mult:scale=B, poisson:rate=L, gamma:shape=K, uniform-mult:half-width=A, mult:mu2=M, gauss-add:std=S, laplace-add:scale=B, add:var=V, or a framework spelling: Dropout(R), GaussianDropout(R), GaussianNoise(S)";

/// Largest noise scale parameter (a standard deviation, Laplace scale or
/// uniform half-width) [`NoiseLaw::validate`] accepts.
pub const MAX_NOISE_SCALE: f64 = 1e6;
/// Largest second moment μ₂ or added variance it accepts (1/rate and
/// 1/shape of Poisson and Gamma noise likewise).
pub const MAX_NOISE_MOMENT: f64 = 1e12;

impl NoiseLaw {
    /// The law's effect on second moments (spec 2.5 table).
    pub fn effect(&self) -> NoiseEffect {
        use NoiseEffect::*;
        match *self {
            NoiseLaw::None => Identity,
            NoiseLaw::Dropout { keep } => Multiplicative { mu2: 1.0 / keep },
            NoiseLaw::GaussMult { std } => Multiplicative {
                mu2: 1.0 + std * std,
            },
            NoiseLaw::LaplaceMult { scale } => Multiplicative {
                mu2: 1.0 + 2.0 * scale * scale,
            },
            NoiseLaw::Poisson { rate } => Multiplicative {
                mu2: 1.0 + 1.0 / rate,
            },
            NoiseLaw::Gamma { shape } => Multiplicative {
                mu2: 1.0 + 1.0 / shape,
            },
            NoiseLaw::UniformMult { half_width } => Multiplicative {
                mu2: 1.0 + half_width * half_width / 3.0,
            },
            NoiseLaw::Mult { mu2 } => Multiplicative { mu2 },
            NoiseLaw::GaussAdd { std } => Additive { var: std * std },
            NoiseLaw::LaplaceAdd { scale } => Additive {
                var: 2.0 * scale * scale,
            },
            NoiseLaw::Add { var } => Additive { var },
        }
    }

    /// μ₂ of a multiplicative law, 1 for the others.
    pub fn mu2(&self) -> f64 {
        match self.effect() {
            NoiseEffect::Multiplicative { mu2 } => mu2,
            NoiseEffect::Identity | NoiseEffect::Additive { .. } => 1.0,
        }
    }

    /// Checks the law's parameter against its range (the one place the
    /// ranges are written; parsing and [`crate::Network::new`] call it).
    /// `context` names where the law came from in the message.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] naming the parameter, its value and
    /// the valid range; NaN and infinities are out of range.
    pub fn validate(&self, context: &str) -> Result<(), TheoryError> {
        // Scale parameters are bounded by 10⁶ (moments by 10¹²), so μ₂, the
        // added variance and the critical σ_w² = 2/μ₂ stay far from overflow.
        let scale = |v: f64| (0.0..=MAX_NOISE_SCALE).contains(&v);
        let inv = |v: f64| v >= 1.0 / MAX_NOISE_MOMENT;
        const SCALE: &str = "[0, 1e6]";
        const INV: &str = "[1e-12, inf)";
        match *self {
            NoiseLaw::None => Ok(()),
            NoiseLaw::Dropout { keep } => {
                check(context, "keep", keep, "(0, 1]", |p| p > 0.0 && p <= 1.0).map(drop)
            }
            NoiseLaw::GaussMult { std } => check(context, "std", std, SCALE, scale).map(drop),
            NoiseLaw::LaplaceMult { scale: b } => {
                check(context, "scale", b, SCALE, scale).map(drop)
            }
            NoiseLaw::Poisson { rate } => check(context, "rate", rate, INV, inv).map(drop),
            NoiseLaw::Gamma { shape } => check(context, "shape", shape, INV, inv).map(drop),
            NoiseLaw::UniformMult { half_width } => {
                check(context, "half-width", half_width, SCALE, scale).map(drop)
            }
            NoiseLaw::Mult { mu2 } => check(context, "mu2", mu2, "[1, 1e12]", |m| {
                (1.0..=MAX_NOISE_MOMENT).contains(&m)
            })
            .map(drop),
            NoiseLaw::GaussAdd { std } => check(context, "std", std, SCALE, scale).map(drop),
            NoiseLaw::LaplaceAdd { scale: b } => check(context, "scale", b, SCALE, scale).map(drop),
            NoiseLaw::Add { var } => check(context, "var", var, "[0, 1e12]", |v| {
                (0.0..=MAX_NOISE_MOMENT).contains(&v)
            })
            .map(drop),
        }
    }

    /// Parses a `KIND:PARAM=VALUE` spec (see [`NOISE_KINDS`]).
    fn parse_spec(text: &str) -> Result<NoiseLaw, TheoryError> {
        let spec = Spec::parse("noise", text)?;
        let t = spec.text;
        let one = |name: &'static str| Ok::<f64, TheoryError>(spec.one_of(&[name])?.1);
        let law = match spec.kind.as_str() {
            "none" => {
                spec.optional(&[])?;
                NoiseLaw::None
            }
            "dropout" | "bernoulli" => match spec.one_of(&["keep", "drop"])? {
                ("keep", keep) => NoiseLaw::Dropout { keep },
                (_, r) => NoiseLaw::Dropout {
                    keep: 1.0 - check(t, "drop", r, "[0, 1)", |r| (0.0..1.0).contains(&r))?,
                },
            },
            "gauss-mult" | "gaussian-mult" => NoiseLaw::GaussMult { std: one("std")? },
            "laplace-mult" => NoiseLaw::LaplaceMult {
                scale: one("scale")?,
            },
            "poisson" => NoiseLaw::Poisson { rate: one("rate")? },
            "gamma" => NoiseLaw::Gamma {
                shape: one("shape")?,
            },
            "uniform-mult" => NoiseLaw::UniformMult {
                half_width: one("half-width")?,
            },
            "mult" => NoiseLaw::Mult { mu2: one("mu2")? },
            "gauss-add" | "gaussian-add" => NoiseLaw::GaussAdd { std: one("std")? },
            "laplace-add" => NoiseLaw::LaplaceAdd {
                scale: one("scale")?,
            },
            "add" => NoiseLaw::Add { var: one("var")? },
            other => {
                return Err(TheoryError::Unknown {
                    what: "noise".into(),
                    name: other.to_string(),
                    valid: NOISE_KINDS.into(),
                });
            }
        };
        law.validate(t)?;
        Ok(law)
    }
}

impl fmt::Display for NoiseLaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = fmt_num;
        match *self {
            NoiseLaw::None => write!(f, "none"),
            NoiseLaw::Dropout { keep } => write!(f, "dropout:keep={}", n(keep)),
            NoiseLaw::GaussMult { std } => write!(f, "gauss-mult:std={}", n(std)),
            NoiseLaw::LaplaceMult { scale } => write!(f, "laplace-mult:scale={}", n(scale)),
            NoiseLaw::Poisson { rate } => write!(f, "poisson:rate={}", n(rate)),
            NoiseLaw::Gamma { shape } => write!(f, "gamma:shape={}", n(shape)),
            NoiseLaw::UniformMult { half_width } => {
                write!(f, "uniform-mult:half-width={}", n(half_width))
            }
            NoiseLaw::Mult { mu2 } => write!(f, "mult:mu2={}", n(mu2)),
            NoiseLaw::GaussAdd { std } => write!(f, "gauss-add:std={}", n(std)),
            NoiseLaw::LaplaceAdd { scale } => write!(f, "laplace-add:scale={}", n(scale)),
            NoiseLaw::Add { var } => write!(f, "add:var={}", n(var)),
        }
    }
}

/// One stage of a noise stack: a law, and the framework spelling it was read
/// from, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseStage {
    /// The law.
    pub law: NoiseLaw,
    /// The text the user gave when it was a framework spelling, with the
    /// convention used to read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<FrameworkReading>,
}

/// How a framework spelling such as `Dropout(0.2)` was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkReading {
    /// The text as given.
    pub text: String,
    /// The convention applied, in words.
    pub convention: String,
}

/// Reads `Name(args)` as written in PyTorch, Keras, Flax, burn or candle code,
/// with the conventions of the module docs.
fn parse_framework(text: &str) -> Result<NoiseStage, TheoryError> {
    let t = text.trim();
    let malformed = |hint: &str| TheoryError::Malformed {
        what: "noise",
        text: t.to_string(),
        hint: hint.to_string(),
    };
    let (head, rest) = t
        .split_once('(')
        .ok_or_else(|| malformed("expected Name(value)"))?;
    let args = rest
        .strip_suffix(')')
        .ok_or_else(|| malformed("missing closing `)`"))?;
    // `torch.nn.Dropout`, `keras.layers.GaussianNoise`, `DropoutConfig::new`.
    let path: Vec<&str> = head.split(['.', ':']).filter(|s| !s.is_empty()).collect();
    let (name, ctor) = match path.as_slice() {
        [.., n, "new"] => (*n, true),
        [.., n] => (*n, false),
        [] => return Err(malformed("missing layer name before `(`")),
    };
    // The value: first positional argument, or the documented keyword.
    let mut value: Option<(String, &str)> = None;
    for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        match arg.split_once('=') {
            Some((k, v)) => {
                let k = k.trim();
                if matches!(k, "p" | "rate" | "stddev" | "prob") {
                    value = Some((k.to_string(), v.trim()));
                } else if !matches!(
                    k,
                    "inplace"
                        | "seed"
                        | "noise_shape"
                        | "name"
                        | "deterministic"
                        | "rng_collection"
                ) {
                    return Err(malformed(&format!(
                        "unsupported argument `{k}`; give the rate as the first argument"
                    )));
                }
            }
            None if value.is_none() => value = Some(("value".to_string(), arg)),
            None => {}
        }
    }
    let (vname, vtext) = value.ok_or_else(|| malformed("no rate given"))?;
    let v: f64 = vtext.parse().map_err(|_| TheoryError::NotANumber {
        context: t.to_string(),
        name: vname.clone(),
        text: vtext.to_string(),
    })?;
    let (law, convention) = match name {
        "Dropout" | "DropoutConfig" | "dropout" => {
            let r = check(t, "drop rate", v, "[0, 1)", |r| (0.0..1.0).contains(&r))?;
            let keep = 1.0 - r;
            let who = if name == "DropoutConfig" {
                "burn `DropoutConfig::new(prob)`"
            } else if ctor {
                "candle `Dropout::new(drop_p)`"
            } else {
                "PyTorch/Keras/Flax `Dropout(p)`"
            };
            (
                NoiseLaw::Dropout { keep },
                format!(
                    "{who}: {} is the DROP probability, so keep p = {} and μ₂ = 1/p = {}",
                    fmt_num(r),
                    fmt_num(keep),
                    fmt_num(1.0 / keep)
                ),
            )
        }
        "SpatialDropout1D" | "SpatialDropout2D" | "SpatialDropout3D" | "Dropout1d"
        | "Dropout2d" | "Dropout3d" => {
            let r = check(t, "drop rate", v, "[0, 1)", |r| (0.0..1.0).contains(&r))?;
            let keep = 1.0 - r;
            (
                NoiseLaw::Dropout { keep },
                format!(
                    "channel dropout `{name}(rate)`: {} is the DROP probability of a whole channel (one mask over its positions), so each unit's keep p = {} and μ₂ = 1/p = {}, as for Dropout",
                    fmt_num(r),
                    fmt_num(keep),
                    fmt_num(1.0 / keep)
                ),
            )
        }
        "GaussianDropout" => {
            // std = √(rate/(1 − rate)) within [0, 1e6] as for gauss-mult.
            let r = check(
                t,
                "rate",
                v,
                "[0, 1), with rate/(1 − rate) ≤ 1e12",
                |r| (0.0..1.0).contains(&r) && r / (1.0 - r) <= MAX_NOISE_SCALE * MAX_NOISE_SCALE,
            )?;
            let std = (r / (1.0 - r)).sqrt();
            (
                NoiseLaw::GaussMult { std },
                format!(
                    "Keras `GaussianDropout(rate)`: multiplicative N(1, rate/(1 − rate)), std = {}, μ₂ = 1/(1 − rate) = {}",
                    fmt_num(std),
                    fmt_num(1.0 / (1.0 - r))
                ),
            )
        }
        "GaussianNoise" => {
            let s = check(t, "stddev", v, "[0, 1e6]", |s| {
                (0.0..=MAX_NOISE_SCALE).contains(&s)
            })?;
            (
                NoiseLaw::GaussAdd { std: s },
                format!(
                    "Keras `GaussianNoise(stddev)`: additive N(0, stddev²), σ_ε² = {}",
                    fmt_num(s * s)
                ),
            )
        }
        other => {
            return Err(TheoryError::Unknown {
                what: "framework noise layer".into(),
                name: other.to_string(),
                valid: "Dropout(R), nn.Dropout(p=R), keras.layers.Dropout(rate=R), DropoutConfig::new(R), Dropout::new(R), SpatialDropout1D/2D/3D(R), nn.Dropout1d/2d/3d(R), GaussianDropout(R), GaussianNoise(S)".into(),
            });
        }
    };
    // The ranges of the laws themselves (as for `KIND:PARAM=VALUE` specs), so
    // that a framework spelling reads only as a law `Network::new` accepts.
    law.validate(t)?;
    Ok(NoiseStage {
        law,
        framework: Some(FrameworkReading {
            text: t.to_string(),
            convention,
        }),
    })
}

/// An ordered stack of noise stages applied to each layer's input.
///
/// Serialised as the list of its laws' canonical specs (`["none"]` when
/// empty), e.g. `["dropout:keep=0.8", "gauss-add:std=1"]`, and read back
/// through [`Noise::parse_all`]: the form stored in grid cells, so their keys
/// depend only on the laws.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Noise {
    stages: Vec<NoiseStage>,
}

impl Noise {
    /// No noise.
    pub fn none() -> Self {
        Noise { stages: Vec::new() }
    }

    /// A single law.
    pub fn from_law(law: NoiseLaw) -> Self {
        Noise::from_laws(&[law])
    }

    /// Several laws applied in order; `none` stages are dropped.
    pub fn from_laws(laws: &[NoiseLaw]) -> Self {
        Noise {
            stages: laws
                .iter()
                .filter(|l| !matches!(l, NoiseLaw::None))
                .map(|&law| NoiseStage {
                    law,
                    framework: None,
                })
                .collect(),
        }
    }

    /// Parses one `--noise` value: a `KIND:PARAM=VALUE` spec or a framework
    /// spelling (see the module docs).
    pub fn parse_stage(text: &str) -> Result<NoiseStage, TheoryError> {
        if text.contains('(') {
            parse_framework(text)
        } else {
            Ok(NoiseStage {
                law: NoiseLaw::parse_spec(text)?,
                framework: None,
            })
        }
    }

    /// Parses several `--noise` values, applied in the order given.
    pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Self, TheoryError> {
        let mut stages = Vec::new();
        for t in texts {
            let stage = Noise::parse_stage(t.as_ref())?;
            if !matches!(stage.law, NoiseLaw::None) {
                stages.push(stage);
            }
        }
        Ok(Noise { stages })
    }

    /// The canonical spec of each law, in order; `["none"]` for no noise.
    pub fn specs(&self) -> Vec<String> {
        if self.stages.is_empty() {
            return vec!["none".to_string()];
        }
        self.laws().map(|l| l.to_string()).collect()
    }

    /// Checks every law's parameters ([`NoiseLaw::validate`]).
    ///
    /// # Errors
    /// The first law out of range.
    pub fn validate(&self) -> Result<(), TheoryError> {
        for law in self.laws() {
            law.validate(&law.to_string())?;
        }
        Ok(())
    }

    /// The stages in order.
    pub fn stages(&self) -> &[NoiseStage] {
        &self.stages
    }

    /// The laws in order.
    pub fn laws(&self) -> impl Iterator<Item = NoiseLaw> + '_ {
        self.stages.iter().map(|s| s.law)
    }

    /// (A, B) with `E[x̃²] = A·E[x²] + B` for the whole stack.
    pub fn affine(&self) -> (f64, f64) {
        self.stages
            .iter()
            .fold((1.0, 0.0), |(a, b), s| match s.law.effect() {
                NoiseEffect::Identity => (a, b),
                NoiseEffect::Multiplicative { mu2 } => (a * mu2, b * mu2),
                NoiseEffect::Additive { var } => (a, b + var),
            })
    }

    /// μ₂ of the multiplicative part (the product over stages): the factor by
    /// which noise scales both the signal's second moment and the gradient's.
    pub fn mu2(&self) -> f64 {
        self.affine().0
    }

    /// The effective additive variance B of [`Noise::affine`].
    pub fn additive_variance(&self) -> f64 {
        self.affine().1
    }

    /// Whether the stack leaves second moments unchanged (A = 1, B = 0).
    pub fn is_noiseless(&self) -> bool {
        self.affine() == (1.0, 0.0)
    }

    /// The same stack with its multiplicative stages replaced by one
    /// `mult:mu2=M` stage in front (used by phase diagrams over μ₂).
    pub fn with_mu2(&self, mu2: f64) -> Noise {
        let mut stages = vec![NoiseStage {
            law: NoiseLaw::Mult { mu2 },
            framework: None,
        }];
        stages.extend(
            self.stages
                .iter()
                .filter(|s| matches!(s.law.effect(), NoiseEffect::Additive { .. }))
                .cloned(),
        );
        Noise { stages }
    }
}

impl fmt::Display for Noise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stages.is_empty() {
            return write!(f, "none");
        }
        for (i, s) in self.stages.iter().enumerate() {
            if i > 0 {
                write!(f, ", then ")?;
            }
            write!(f, "{}", s.law)?;
        }
        Ok(())
    }
}

impl FromStr for Noise {
    type Err = TheoryError;

    /// Reads what `Display` writes: stages joined by `, then ` (each a
    /// `KIND:PARAM=VALUE` spec or a framework spelling), or `none`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split(", then ").collect();
        Noise::parse_all(&parts)
    }
}

impl Serialize for Noise {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.specs().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Noise {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let specs = Vec::<String>::deserialize(d)?;
        Noise::parse_all(&specs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mu2(s: &str) -> f64 {
        Noise::parse_all(&[s]).unwrap().mu2()
    }

    #[test]
    fn second_moments_follow_the_spec_table() {
        // spec 2.5, Table 1.
        assert_eq!(mu2("none"), 1.0);
        assert!((mu2("dropout:keep=0.6") - 1.0 / 0.6).abs() < 1e-15);
        assert!((mu2("dropout:drop=0.4") - 1.0 / 0.6).abs() < 1e-15);
        assert!((mu2("gauss-mult:std=0.25") - 1.0625).abs() < 1e-15);
        assert!((mu2("laplace-mult:scale=0.5") - 1.5).abs() < 1e-15);
        assert!((mu2("poisson:rate=1") - 2.0).abs() < 1e-15);
        // Beyond Table 1 (the module docs): gamma 1 + 1/K, uniform 1 + A²/3.
        assert!((mu2("gamma:shape=4") - 1.25).abs() < 1e-15);
        assert!((mu2("uniform-mult:half-width=0.6") - 1.12).abs() < 1e-15);
        assert_eq!(mu2("mult:mu2=1.7"), 1.7);
        let add = |s: &str| Noise::parse_all(&[s]).unwrap().additive_variance();
        assert_eq!(add("gauss-add:std=2"), 4.0);
        assert_eq!(add("laplace-add:scale=0.5"), 0.5);
        assert_eq!(add("add:var=0.3"), 0.3);
    }

    #[test]
    fn stages_compose_in_order() {
        let n = Noise::parse_all(&["gauss-add:std=1", "dropout:keep=0.5"]).unwrap();
        assert_eq!(n.affine(), (2.0, 2.0));
        let n = Noise::parse_all(&["dropout:keep=0.5", "gauss-add:std=1"]).unwrap();
        assert_eq!(n.affine(), (2.0, 1.0));
        assert_eq!(n.to_string(), "dropout:keep=0.5, then gauss-add:std=1");
        assert!(Noise::parse_all(&["none"]).unwrap().is_noiseless());
        assert!(
            Noise::parse_all(&["dropout:keep=1"])
                .unwrap()
                .is_noiseless()
        );
    }

    #[test]
    fn framework_spellings_state_their_convention() {
        for s in [
            "Dropout(0.2)",
            "nn.Dropout(p=0.2)",
            "torch.nn.Dropout(0.2, inplace=False)",
            "keras.layers.Dropout(rate=0.2)",
            "DropoutConfig::new(0.2)",
            "candle_nn::Dropout::new(0.2)",
            "keras.layers.SpatialDropout2D(0.2)",
            "nn.Dropout2d(p=0.2)",
        ] {
            let st = Noise::parse_stage(s).unwrap();
            assert_eq!(st.law, NoiseLaw::Dropout { keep: 0.8 }, "{s}");
            let conv = st.framework.unwrap().convention;
            assert!(
                conv.contains("DROP") && conv.contains("keep p = 0.8"),
                "{conv}"
            );
        }
        let g = Noise::parse_stage("GaussianDropout(0.5)").unwrap();
        assert!((g.law.mu2() - 2.0).abs() < 1e-12);
        let g = Noise::parse_stage("tf.keras.layers.GaussianNoise(stddev=0.3)").unwrap();
        assert_eq!(g.law, NoiseLaw::GaussAdd { std: 0.3 });
    }

    #[test]
    fn bad_specs_name_value_and_range() {
        let e = |s: &str| Noise::parse_all(&[s]).unwrap_err().to_string();
        let m = e("dropout:keep=1.5");
        assert!(m.contains("keep = 1.5") && m.contains("(0, 1]"), "{m}");
        let m = e("dropout:keep=0");
        assert!(m.contains("keep = 0"), "{m}");
        let m = e("dropout:drop=1");
        assert!(m.contains("drop = 1") && m.contains("[0, 1)"), "{m}");
        let m = e("gauss-add:std=-1");
        assert!(m.contains("std = -1") && m.contains("[0, 1e6]"), "{m}");
        let m = e("gauss-mult:std=1e200");
        assert!(m.contains("std = 1e200") && m.contains("[0, 1e6]"), "{m}");
        let m = e("gauss-mult:std=NaN");
        assert!(m.contains("NaN"), "{m}");
        let m = e("dropout:p=0.5");
        assert!(m.contains("`p`") && m.contains("keep, drop"), "{m}");
        let m = e("dropout");
        assert!(m.contains("dropout:keep=VALUE"), "{m}");
        let m = e("salt-pepper:p=0.1");
        assert!(
            m.contains("salt-pepper") && m.contains("dropout:keep=P"),
            "{m}"
        );
        assert!(e("dropout:keep=abc").contains("`abc`"));
        assert!(e("mult:mu2=0.5").contains("[1, 1e12]"));
        assert!(e("Dropout(1.2)").contains("[0, 1)"));
        assert!(e("Dropout(").contains("closing"));
        assert!(e("AlphaDropout(0.1)").contains("AlphaDropout"));
        assert!(e("Dropout(0.1, training=True)").contains("training"));
        assert!(e("none:keep=1").contains("takes no parameters"));
    }
}
