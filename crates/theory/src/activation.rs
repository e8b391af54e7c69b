//! Activation functions φ and how their Gaussian expectations are computed.
//!
//! | name (`--activation`) | φ(x) | Gaussian expectations |
//! |---|---|---|
//! | `relu` | max(0, x) | closed form (arc-cosine kernel, Cho & Saul 2009; spec 2.2, 2.7) |
//! | `leaky-relu:slope=A` | x (x ≥ 0), A·x (x < 0) | closed form: φ = A·x + (1 − A)·relu(x) |
//! | `linear` | x | closed form |
//! | `abs` | \|x\| | closed form (leaky slope −1) |
//! | `erf` | erf(x) | closed form (Williams 1997): E[erf(u_a) erf(u_b)] = (2/π) asin(2Σ_ab / √((1+2Σ_aa)(1+2Σ_bb))) |
//! | `tanh` | tanh(x) | Gauss–Hermite quadrature |
//! | `sigmoid` | 1/(1 + e^{−x}) | Gauss–Hermite quadrature |
//! | `gelu` | x·Φ(x) (exact, erf based) | Gauss–Hermite quadrature |
//! | `silu` (= `swish`) | x/(1 + e^{−x}) | Gauss–Hermite quadrature |
//! | `softplus` | ln(1 + eˣ) | Gauss–Hermite quadrature |
//! | `elu:alpha=A` (A = 1 default) | x (x > 0), A(eˣ − 1) (x ≤ 0) | Gauss–Legendre split at the kink x = 0 |
//! | `selu` | λ·elu_α(x), λ = 1.0507…, α = 1.6733… | Gauss–Legendre split at the kink x = 0 |
//!
//! Accuracy of the quadrature (checked in this crate's tests, `quadrature.rs`):
//! smooth activations (tanh, sigmoid, gelu, silu, softplus) use Gauss–Hermite
//! rules of 32 to 256 nodes per dimension, chosen adaptively until the n vs 2n
//! difference of every reported quantity is below 1e-10 (relative); for q ≤ 10
//! this is reached at 32–64 nodes. The kinked activations (elu, selu, and the
//! ReLU family when quadrature is forced) integrate each side of the kink
//! separately — 1-D as two Gauss–Legendre rules on [−10, 0] and [0, 10], 2-D in
//! polar coordinates split into the four sectors bounded by the kink lines of
//! both inputs — which keeps them at 1e-12 or better, including c → 1 where the
//! two kink lines merge. Every analysis reports its own n vs 2n error estimate.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{TheoryError, check};
use crate::number::fmt_num;
use crate::spec::Spec;

/// SELU scale λ (Klambauer et al. 2017).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// SELU α (Klambauer et al. 2017).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// An activation function φ. Build one with [`str::parse`] or directly.
///
/// Serialised as its canonical spec string (`"relu"`,
/// `"leaky-relu:slope=0.01"`), through `Display` and `FromStr`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// x for x ≥ 0, `slope`·x for x < 0 (any finite slope).
    LeakyRelu {
        /// Slope on the negative side.
        slope: f64,
    },
    /// The identity.
    Linear,
    /// |x|.
    Abs,
    /// erf(x).
    Erf,
    /// tanh(x).
    Tanh,
    /// The logistic function 1/(1 + e^{−x}).
    Sigmoid,
    /// x·Φ(x) with Φ the standard normal CDF (exact GELU).
    Gelu,
    /// x·sigmoid(x) (SiLU, swish).
    Silu,
    /// x for x > 0, α(eˣ − 1) otherwise.
    Elu {
        /// α > 0.
        alpha: f64,
    },
    /// λ·elu_α(x) with the SELU constants.
    Selu,
    /// ln(1 + eˣ).
    Softplus,
}

/// Every accepted activation name, for error messages and `--help`.
pub const ACTIVATION_NAMES: &str = "relu, leaky-relu:slope=A, linear, abs, erf, tanh, sigmoid, gelu, silu (swish), elu[:alpha=A], selu, softplus";

impl Activation {
    /// Checks the activation's parameter (the leaky slope is finite, ELU's α
    /// is positive): the one place these ranges are written.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] naming the parameter and its range.
    pub fn validate(&self) -> Result<(), TheoryError> {
        match *self {
            Activation::LeakyRelu { slope } => {
                check("leaky-relu", "slope", slope, "[-1e6, 1e6]", |a| {
                    a.abs() <= 1e6
                })?;
            }
            Activation::Elu { alpha } => {
                check("elu", "alpha", alpha, "(0, 1e6]", |a| a > 0.0 && a <= 1e6)?;
            }
            Activation::Relu
            | Activation::Linear
            | Activation::Abs
            | Activation::Erf
            | Activation::Tanh
            | Activation::Sigmoid
            | Activation::Gelu
            | Activation::Silu
            | Activation::Selu
            | Activation::Softplus => {}
        }
        Ok(())
    }

    /// (φ′(0⁺), φ′(0⁻), φ(0)): the one-sided slopes at 0 (equal where φ is
    /// smooth; SELU: λ and λα) and the value there. As q → 0,
    /// E[φ′(√q z)²] → (φ′(0⁺)² + φ′(0⁻)²)/2: each side carries half the mass.
    pub fn slopes_at_zero(&self) -> (f64, f64, f64) {
        const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
        match *self {
            Activation::Relu => (1.0, 0.0, 0.0),
            Activation::LeakyRelu { slope } => (1.0, slope, 0.0),
            Activation::Linear => (1.0, 1.0, 0.0),
            Activation::Abs => (1.0, -1.0, 0.0),
            Activation::Erf => (TWO_OVER_SQRT_PI, TWO_OVER_SQRT_PI, 0.0),
            Activation::Tanh => (1.0, 1.0, 0.0),
            Activation::Sigmoid => (0.25, 0.25, 0.5),
            Activation::Gelu | Activation::Silu => (0.5, 0.5, 0.0),
            Activation::Elu { alpha } => (1.0, alpha, 0.0),
            Activation::Selu => (SELU_LAMBDA, SELU_LAMBDA * SELU_ALPHA, 0.0),
            Activation::Softplus => (0.5, 0.5, std::f64::consts::LN_2),
        }
    }

    /// The slope on the negative side when φ is piecewise linear with a single
    /// kink at 0 and slope 1 on the positive side (the ReLU family), else `None`.
    pub fn negative_slope(&self) -> Option<f64> {
        match *self {
            Activation::Relu => Some(0.0),
            Activation::LeakyRelu { slope } => Some(slope),
            Activation::Linear => Some(1.0),
            Activation::Abs => Some(-1.0),
            Activation::Erf
            | Activation::Tanh
            | Activation::Sigmoid
            | Activation::Gelu
            | Activation::Silu
            | Activation::Elu { .. }
            | Activation::Selu
            | Activation::Softplus => None,
        }
    }

    /// Whether the Gaussian expectations have closed forms here.
    pub fn has_closed_form(&self) -> bool {
        match *self {
            // The ReLU family (every activation with a `negative_slope`) and erf.
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::Linear
            | Activation::Abs
            | Activation::Erf => true,
            Activation::Tanh
            | Activation::Sigmoid
            | Activation::Gelu
            | Activation::Silu
            | Activation::Elu { .. }
            | Activation::Selu
            | Activation::Softplus => false,
        }
    }

    /// Whether φ or φ′ has a kink at x = 0 (quadrature is split there).
    pub fn is_kinked(&self) -> bool {
        match *self {
            // The ReLU family (every activation with a `negative_slope`,
            // the identity included), ELU and SELU.
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::Linear
            | Activation::Abs
            | Activation::Elu { .. }
            | Activation::Selu => true,
            Activation::Erf
            | Activation::Tanh
            | Activation::Sigmoid
            | Activation::Gelu
            | Activation::Silu
            | Activation::Softplus => false,
        }
    }

    /// Whether φ(λx) = λφ(x) for λ > 0, which makes the noiseless maps
    /// independent of the variance scale.
    pub fn is_positively_homogeneous(&self) -> bool {
        self.negative_slope().is_some()
    }

    /// For unbounded φ, the slopes (s₊, s₋) of its linear asymptotes,
    /// φ(x) ≈ s₊·x as x → +∞ and φ(x) ≈ s₋·x as x → −∞; `None` for bounded φ.
    /// As q → ∞ the maps of φ approach those of a leaky ReLU with slope
    /// s₋/s₊ scaled by s₊.
    pub fn asymptotic_slopes(&self) -> Option<(f64, f64)> {
        match *self {
            Activation::Erf | Activation::Tanh | Activation::Sigmoid => None,
            Activation::Gelu | Activation::Silu | Activation::Softplus | Activation::Elu { .. } => {
                Some((1.0, 0.0))
            }
            Activation::Selu => Some((SELU_LAMBDA, 0.0)),
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::Linear
            | Activation::Abs => self.negative_slope().map(|a| (1.0, a)),
        }
    }

    /// For φ with φ(0) = 0, its one-sided slopes at the origin (φ′(0⁺),
    /// φ′(0⁻)): φ(x) ≈ φ′(0⁺)·x for small x > 0 and φ′(0⁻)·x for small
    /// x < 0. As q → 0 the maps of φ approach those of a leaky ReLU with
    /// slope φ′(0⁻)/φ′(0⁺) scaled by φ′(0⁺) (the vanishing limit, spec 2.7).
    /// `None` where φ(0) ≠ 0 (sigmoid, softplus: the variance cannot vanish).
    pub fn origin_slopes(&self) -> Option<(f64, f64)> {
        match *self {
            Activation::Sigmoid | Activation::Softplus => None,
            // φ′(0) = 2/√π.
            Activation::Erf => Some((
                std::f64::consts::FRAC_2_SQRT_PI,
                std::f64::consts::FRAC_2_SQRT_PI,
            )),
            Activation::Tanh => Some((1.0, 1.0)),
            // GELU: Φ(0) + 0·ϕ(0); SiLU: σ(0) + 0·σ′(0).
            Activation::Gelu | Activation::Silu => Some((0.5, 0.5)),
            Activation::Elu { alpha } => Some((1.0, alpha)),
            Activation::Selu => Some((SELU_LAMBDA, SELU_LAMBDA * SELU_ALPHA)),
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::Linear
            | Activation::Abs => self.negative_slope().map(|a| (1.0, a)),
        }
    }

    /// φ(x).
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        self.eval_d2(x).0
    }

    /// (φ(x), φ′(x)). At a kink the right derivative is returned.
    #[inline]
    pub fn eval_d(&self, x: f64) -> (f64, f64) {
        match *self {
            Activation::Tanh => {
                let t = x.tanh();
                (t, 1.0 - t * t)
            }
            Activation::Erf => (
                libm::erf(x),
                std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
            ),
            Activation::Relu
            | Activation::LeakyRelu { .. }
            | Activation::Linear
            | Activation::Abs
            | Activation::Sigmoid
            | Activation::Gelu
            | Activation::Silu
            | Activation::Elu { .. }
            | Activation::Selu
            | Activation::Softplus => {
                let (f, d, _) = self.eval_d2(x);
                (f, d)
            }
        }
    }

    /// (φ(x), φ′(x), φ″(x)), with φ″ the almost-everywhere second derivative
    /// (kinks contribute no delta terms here; every kinked activation has
    /// φ(0) = 0, so the term φφ″ that uses this has none either).
    #[inline]
    pub fn eval_d2(&self, x: f64) -> (f64, f64, f64) {
        match *self {
            Activation::Relu => {
                if x >= 0.0 {
                    (x, 1.0, 0.0)
                } else {
                    (0.0, 0.0, 0.0)
                }
            }
            Activation::LeakyRelu { slope } => {
                if x >= 0.0 {
                    (x, 1.0, 0.0)
                } else {
                    (slope * x, slope, 0.0)
                }
            }
            Activation::Linear => (x, 1.0, 0.0),
            Activation::Abs => {
                if x >= 0.0 {
                    (x, 1.0, 0.0)
                } else {
                    (-x, -1.0, 0.0)
                }
            }
            Activation::Erf => {
                let d = std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp();
                (libm::erf(x), d, -2.0 * x * d)
            }
            Activation::Tanh => {
                let t = x.tanh();
                let d = 1.0 - t * t;
                (t, d, -2.0 * t * d)
            }
            Activation::Sigmoid => {
                let s = sigmoid(x);
                let d = s * (1.0 - s);
                (s, d, d * (1.0 - 2.0 * s))
            }
            Activation::Gelu => {
                let pdf = FRAC_1_SQRT_2PI * (-0.5 * x * x).exp();
                let cdf = 0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2);
                (x * cdf, cdf + x * pdf, pdf * (2.0 - x * x))
            }
            Activation::Silu => {
                let s = sigmoid(x);
                let d = s * (1.0 - s);
                (x * s, s + x * d, d * (2.0 + x * (1.0 - 2.0 * s)))
            }
            Activation::Elu { alpha } => elu(x, alpha, 1.0),
            Activation::Selu => elu(x, SELU_ALPHA, SELU_LAMBDA),
            Activation::Softplus => {
                let s = sigmoid(x);
                (x.max(0.0) + (-x.abs()).exp().ln_1p(), s, s * (1.0 - s))
            }
        }
    }

    /// The canonical spec string, e.g. `leaky-relu:slope=0.01`.
    pub fn spec(&self) -> String {
        self.to_string()
    }
}

#[inline]
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[inline]
fn elu(x: f64, alpha: f64, scale: f64) -> (f64, f64, f64) {
    if x > 0.0 {
        (scale * x, scale, 0.0)
    } else {
        // expm1: e^x − 1 without cancellation for small |x| (the q → 0 limit).
        let e = x.exp();
        (
            scale * alpha * x.exp_m1(),
            scale * alpha * e,
            scale * alpha * e,
        )
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Activation::Relu => write!(f, "relu"),
            Activation::LeakyRelu { slope } => write!(f, "leaky-relu:slope={}", fmt_num(slope)),
            Activation::Linear => write!(f, "linear"),
            Activation::Abs => write!(f, "abs"),
            Activation::Erf => write!(f, "erf"),
            Activation::Tanh => write!(f, "tanh"),
            Activation::Sigmoid => write!(f, "sigmoid"),
            Activation::Gelu => write!(f, "gelu"),
            Activation::Silu => write!(f, "silu"),
            Activation::Elu { alpha } => write!(f, "elu:alpha={}", fmt_num(alpha)),
            Activation::Selu => write!(f, "selu"),
            Activation::Softplus => write!(f, "softplus"),
        }
    }
}

impl Serialize for Activation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Activation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Activation {
    type Err = TheoryError;

    /// Parses `relu`, `leaky-relu:slope=0.01`, `elu:alpha=1`, … (see
    /// [`ACTIVATION_NAMES`]). Names are case-insensitive; `_` may replace `-`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let spec = Spec::parse("activation", text)?;
        let no_params = |a: Activation| -> Result<Activation, TheoryError> {
            spec.optional(&[])?;
            Ok(a)
        };
        match spec.kind.as_str() {
            "relu" => no_params(Activation::Relu),
            "leaky-relu" | "leakyrelu" | "lrelu" => {
                let slope = spec.optional(&["slope"])?[0].unwrap_or(0.01);
                let a = Activation::LeakyRelu { slope };
                a.validate().map(|()| a)
            }
            "linear" | "identity" => no_params(Activation::Linear),
            "abs" => no_params(Activation::Abs),
            "erf" => no_params(Activation::Erf),
            "tanh" => no_params(Activation::Tanh),
            "sigmoid" | "logistic" => no_params(Activation::Sigmoid),
            "gelu" => no_params(Activation::Gelu),
            "silu" | "swish" => no_params(Activation::Silu),
            "elu" => {
                let alpha = spec.optional(&["alpha"])?[0].unwrap_or(1.0);
                let a = Activation::Elu { alpha };
                a.validate().map(|()| a)
            }
            "selu" => no_params(Activation::Selu),
            "softplus" => no_params(Activation::Softplus),
            other => Err(TheoryError::Unknown {
                what: "activation".into(),
                name: other.to_string(),
                valid: ACTIVATION_NAMES.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 12] = [
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.2 },
        Activation::Linear,
        Activation::Abs,
        Activation::Erf,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::Silu,
        Activation::Elu { alpha: 1.3 },
        Activation::Selu,
        Activation::Softplus,
    ];

    /// `ALL` holds every variant: a new one fails to compile here until it is
    /// given an index, then fails this test until it is listed in `ALL`.
    #[test]
    fn all_lists_every_variant() {
        let index = |a: Activation| match a {
            Activation::Relu => 0,
            Activation::LeakyRelu { .. } => 1,
            Activation::Linear => 2,
            Activation::Abs => 3,
            Activation::Erf => 4,
            Activation::Tanh => 5,
            Activation::Sigmoid => 6,
            Activation::Gelu => 7,
            Activation::Silu => 8,
            Activation::Elu { .. } => 9,
            Activation::Selu => 10,
            Activation::Softplus => 11,
        };
        let mut seen = [false; ALL.len()];
        for a in ALL {
            seen[index(a)] = true;
        }
        assert!(seen.iter().all(|&s| s), "ALL misses a variant: {seen:?}");
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-6;
        for act in ALL {
            for &x in &[-3.1, -0.7, -0.05, 0.3, 1.1, 4.2] {
                let (_, d, d2) = act.eval_d2(x);
                let fd = (act.eval(x + h) - act.eval(x - h)) / (2.0 * h);
                let fd2 = (act.eval_d(x + h).1 - act.eval_d(x - h).1) / (2.0 * h);
                assert!((d - fd).abs() < 1e-7, "{act} φ' at {x}: {d} vs {fd}");
                assert!((d2 - fd2).abs() < 1e-6, "{act} φ'' at {x}: {d2} vs {fd2}");
                assert_eq!(act.eval_d(x).1, d, "{act} eval_d and eval_d2 agree");
            }
        }
    }

    #[test]
    fn parse_round_trips_and_rejects() {
        for act in ALL {
            assert_eq!(act.spec().parse::<Activation>(), Ok(act));
        }
        assert_eq!("Swish".parse::<Activation>(), Ok(Activation::Silu));
        assert_eq!(
            "leaky_relu:slope=0.1".parse(),
            Ok(Activation::LeakyRelu { slope: 0.1 })
        );
        let err = "tanhh".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("tanhh") && err.contains("relu"), "{err}");
        let err = "elu:alpha=-1"
            .parse::<Activation>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("alpha = -1") && err.contains("(0, 1e6]"),
            "{err}"
        );
        assert!("relu:slope=1".parse::<Activation>().is_err());
        assert!("leaky-relu:slope=nan".parse::<Activation>().is_err());
        assert!("leaky-relu:slope".parse::<Activation>().is_err());
        assert!("".parse::<Activation>().is_err());
    }
}
