//! The parameters most commands share: the activation, the noise, σ_b²,
//! σ_w² (given, or the critical one), and how Gaussian expectations are
//! integrated; each read once, with its error naming the parameter.

use serde::{Deserialize, Serialize};

use noisyprop_theory::{
    Activation, Family, Integration, Network, Noise, QuadratureRule, TheoryError,
};

use crate::{Error, Hint};

/// The activation unless asked otherwise.
pub const ACTIVATION: &str = "relu";

/// The noise unless asked otherwise.
pub const NO_NOISE: &str = "none";

/// The input variance q⁰ unless asked otherwise (spec 1.2).
pub const Q0: f64 = 1.0;

/// k of the trainable-depth prediction k·ξ_c unless asked otherwise (spec
/// 2.9: networks deeper than about 6ξ_c do not train).
pub const DEPTH_MULTIPLIER: f64 = noisyprop_theory::DEPTH_MULTIPLIER;

/// The quadrature rule for activations without closed forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Gauss–Legendre, split at the kink and in polar sectors.
    #[default]
    Legendre,
    /// Tensor Gauss–Hermite (for cross-checks; slow to converge for steep φ).
    Hermite,
}

/// The network family most commands ask about: φ, the noise and σ_b²
/// (σ_w² is each command's own: given, or the critical one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkParams {
    /// φ: relu, leaky-relu:slope=A, linear, abs, erf, tanh, sigmoid, gelu,
    /// silu, elu[:alpha=A], selu, softplus.
    pub activation: String,
    /// The noise on each layer's input, in order (`dropout:keep=0.8`,
    /// `Dropout(0.2)`, …).
    #[serde(deserialize_with = "crate::form::strings")]
    pub noise: Vec<String>,
    /// σ_b².
    pub sigma_b2: f64,
}

impl Default for NetworkParams {
    fn default() -> Self {
        NetworkParams {
            activation: ACTIVATION.into(),
            noise: no_noise(),
            sigma_b2: 0.0,
        }
    }
}

impl NetworkParams {
    /// The family.
    ///
    /// # Errors
    /// An unknown activation, a malformed noise, σ_b² out of range.
    pub fn family(&self) -> Result<Family, Error> {
        family(&self.activation, &self.noise, self.sigma_b2)
    }
}

/// How Gaussian expectations are integrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationParams {
    /// Quadrature even where closed forms exist (a cross-check).
    pub quadrature: bool,
    /// The quadrature rule for activations without closed forms.
    pub rule: Rule,
    /// A fixed quadrature order, 4..=1024 (else raised until n and 2n nodes
    /// agree to 1e-10).
    pub nodes: Option<usize>,
}

impl IntegrationParams {
    /// The theory's setting, checked.
    ///
    /// # Errors
    /// `nodes` outside [4, 1024].
    pub fn integration(&self) -> Result<Integration, Error> {
        integration(self.quadrature, self.rule, self.nodes)
    }
}

/// How Gaussian expectations are integrated: closed forms unless
/// `quadrature`; `nodes` fixes the order (checked here, before any work).
///
/// # Errors
/// `nodes` outside [4, 1024].
pub(crate) fn integration(
    quadrature: bool,
    rule: Rule,
    nodes: Option<usize>,
) -> Result<Integration, Error> {
    let integration = Integration {
        closed_form: !quadrature,
        rule: match rule {
            Rule::Legendre => QuadratureRule::GaussLegendre,
            Rule::Hermite => QuadratureRule::GaussHermite,
        },
        nodes,
    };
    integration.validate()?;
    Ok(integration)
}

/// The noise stack of `specs`, applied in order (none when empty).
///
/// # Errors
/// A malformed spec; one that looks like several noises in one string gets
/// [`Hint::StackNoises`].
pub(crate) fn noise(specs: &[String]) -> Result<Noise, Error> {
    Noise::parse_all(specs).map_err(|e| {
        let stacked = specs.iter().any(|n| n.contains([';', ',']));
        let e = Error::from(e);
        if stacked {
            e.with_hint(Hint::StackNoises)
        } else {
            e
        }
    })
}

/// The family of `activation`, `noise` and `sigma_b2`.
///
/// # Errors
/// An unknown activation, a malformed noise, σ_b² out of range.
pub(crate) fn family(activation: &str, noise: &[String], sigma_b2: f64) -> Result<Family, Error> {
    let noise = self::noise(noise).map_err(|e| e.about("noise"))?;
    let activation = self::activation(activation)?;
    Ok(Family::new(activation, noise, sigma_b2)?)
}

/// The network of `family` at `sigma_w2`, or at its critical σ_w² when
/// `sigma_w2` is `None`; `hint` says what to do where there is none.
///
/// # Errors
/// σ_w² out of range, or no critical point (with `hint`).
pub(crate) fn network(
    family: &Family,
    sigma_w2: Option<f64>,
    integration: Integration,
    hint: Hint,
) -> Result<Network, Error> {
    match sigma_w2 {
        Some(x) => Ok(family.at(x)?),
        None => match family.critical(integration) {
            Ok((net, _)) => Ok(net),
            Err(e @ TheoryError::NoCriticalPoint { .. }) => Err(Error::from(e).with_hint(hint)),
            Err(e) => Err(e.into()),
        },
    }
}

/// The activation named `text`.
///
/// # Errors
/// An unknown name or a parameter out of range.
pub(crate) fn activation(text: &str) -> Result<Activation, Error> {
    text.parse::<Activation>()
        .map_err(|e| Error::from(e).about("activation"))
}

/// The default noise of a request: [`NO_NOISE`].
pub(crate) fn no_noise() -> Vec<String> {
    vec![NO_NOISE.to_string()]
}
