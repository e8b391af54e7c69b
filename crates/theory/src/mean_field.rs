//! The network under study and the mean-field object that evaluates its maps.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{TheoryError, check};
use crate::gauss::{GaussKernel, Method};
use crate::noise::Noise;

/// A random fully connected noisy network in the mean-field limit (spec 1.1):
/// `h^l = W^l (φ(h^{l−1}) ⊙ ε) + b^l`, W ~ N(0, σ_w²/N), b ~ N(0, σ_b²).
///
/// The one description of a network's activation, noise and
/// initialisation, used by the theory, the simulator, the CPU engine and the
/// GPU. Validated at construction (σ_w² > 0 and σ_b² ≥ 0, both finite; the
/// activation's and every noise law's parameters in range), so a `Network`
/// that exists is valid; deserialising validates too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "NetworkFields")]
pub struct Network {
    activation: Activation,
    noise: Noise,
    sigma_w2: f64,
    sigma_b2: f64,
}

impl Network {
    /// Builds a network description.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] when σ_w² ∉ (0, ∞), σ_b² ∉ [0, ∞),
    /// or a parameter of the activation or of a noise law is out of range.
    pub fn new(
        activation: Activation,
        noise: Noise,
        sigma_w2: f64,
        sigma_b2: f64,
    ) -> Result<Self, TheoryError> {
        check("", "sigma_w2", sigma_w2, "(0, inf)", |x| x > 0.0)?;
        check("", "sigma_b2", sigma_b2, "[0, inf)", |x| x >= 0.0)?;
        activation.validate()?;
        noise.validate()?;
        Ok(Network {
            activation,
            noise,
            sigma_w2,
            sigma_b2,
        })
    }

    /// The same network with another σ_w².
    ///
    /// # Errors
    /// As [`Network::new`].
    pub fn with_sigma_w2(&self, sigma_w2: f64) -> Result<Self, TheoryError> {
        Network::new(self.activation, self.noise.clone(), sigma_w2, self.sigma_b2)
    }

    /// The same network with another σ_b².
    ///
    /// # Errors
    /// As [`Network::new`].
    pub fn with_sigma_b2(&self, sigma_b2: f64) -> Result<Self, TheoryError> {
        Network::new(self.activation, self.noise.clone(), self.sigma_w2, sigma_b2)
    }

    /// The same network with another noise stack.
    ///
    /// # Errors
    /// As [`Network::new`].
    pub fn with_noise(&self, noise: Noise) -> Result<Self, TheoryError> {
        Network::new(self.activation, noise, self.sigma_w2, self.sigma_b2)
    }

    /// φ.
    pub fn activation(&self) -> Activation {
        self.activation
    }
    /// The noise stack.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }
    /// σ_w².
    pub fn sigma_w2(&self) -> f64 {
        self.sigma_w2
    }
    /// σ_b².
    pub fn sigma_b2(&self) -> f64 {
        self.sigma_b2
    }
}

impl Default for Network {
    /// A He-initialised ReLU network without noise or bias (σ_w² = 2).
    fn default() -> Self {
        Network {
            activation: Activation::Relu,
            noise: Noise::none(),
            sigma_w2: 2.0,
            sigma_b2: 0.0,
        }
    }
}

/// The serialised fields of a [`Network`], validated on the way in.
#[derive(Deserialize)]
struct NetworkFields {
    activation: Activation,
    noise: Noise,
    sigma_w2: f64,
    sigma_b2: f64,
}

impl TryFrom<NetworkFields> for Network {
    type Error = TheoryError;
    fn try_from(f: NetworkFields) -> Result<Self, TheoryError> {
        Network::new(f.activation, f.noise, f.sigma_w2, f.sigma_b2)
    }
}

/// Which quadrature rule integrates activations without closed forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuadratureRule {
    /// [`Method::GaussLegendre`] (default).
    #[default]
    GaussLegendre,
    /// [`Method::GaussHermite`].
    GaussHermite,
}

/// How Gaussian expectations are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integration {
    /// Use closed forms where the activation has them.
    pub closed_form: bool,
    /// The quadrature rule otherwise.
    pub rule: QuadratureRule,
    /// Nodes per dimension; `None` lets [`crate::analyze`] raise the order
    /// until the n vs 2n error estimate is small.
    pub nodes: Option<usize>,
}

impl Default for Integration {
    fn default() -> Self {
        Integration {
            closed_form: true,
            rule: QuadratureRule::GaussLegendre,
            nodes: None,
        }
    }
}

impl Integration {
    /// Checks a fixed quadrature order is in [4, 1024].
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] naming the bad order.
    pub fn validate(&self) -> Result<(), TheoryError> {
        if let Some(n) = self.nodes {
            check("", "nodes", n as f64, "[4, 1024]", |x| {
                (4.0..=1024.0).contains(&x)
            })?;
        }
        Ok(())
    }

    /// Quadrature even where closed forms exist (adaptive order).
    pub fn quadrature() -> Self {
        Integration {
            closed_form: false,
            ..Integration::default()
        }
    }

    /// Quadrature with exactly `nodes` per dimension (rounded up to a power of
    /// two in [4, 1024]), even where closed forms exist.
    pub fn nodes(nodes: usize) -> Self {
        Integration {
            closed_form: false,
            nodes: Some(nodes),
            ..Integration::default()
        }
    }

    /// The kernel this integration uses for `act`.
    pub fn kernel(&self, act: Activation) -> GaussKernel {
        let n = self.nodes.unwrap_or(DEFAULT_NODES);
        if self.closed_form && act.has_closed_form() {
            GaussKernel::auto(act, n)
        } else {
            match self.rule {
                QuadratureRule::GaussLegendre => GaussKernel::quadrature(act, n),
                QuadratureRule::GaussHermite => GaussKernel::hermite(act, n),
            }
        }
    }
}

/// Default starting order of adaptive quadrature.
pub const DEFAULT_NODES: usize = 32;
/// Highest order adaptive quadrature goes to.
pub const MAX_NODES: usize = 256;
/// Nodes used when the order is not given and no adaptive analysis runs (the
/// critical solver, trajectories): the order the adaptive analysis settles at
/// for typical q (n vs 2n ≤ 1e-10).
pub const FIXED_NODES: usize = 64;

/// A network's mean-field parameters together with the kernel that integrates
/// its activation: the object every map and fixed point is computed from.
/// Cheap to copy, so grids can vary one parameter per cell.
#[derive(Debug, Clone, Copy)]
pub struct MeanField {
    pub(crate) kernel: GaussKernel,
    pub(crate) sigma_w2: f64,
    pub(crate) sigma_b2: f64,
    /// (A, B) of the noise: E[x̃²] = A·E\[x²\] + B.
    pub(crate) a: f64,
    pub(crate) b: f64,
}

impl MeanField {
    /// The mean field of `net`, with the kernel `integration` selects (at the
    /// starting order [`DEFAULT_NODES`] when adaptive).
    pub fn new(net: &Network, integration: Integration) -> Self {
        MeanField::with_kernel(net, integration.kernel(net.activation()))
    }

    /// The mean field of `net` at a fixed quadrature order: the order
    /// `integration` gives, else [`FIXED_NODES`].
    pub fn at_fixed_order(net: &Network, integration: Integration) -> Self {
        let kernel = integration
            .kernel(net.activation())
            .with_nodes(integration.nodes.unwrap_or(FIXED_NODES));
        MeanField::with_kernel(net, kernel)
    }

    /// The mean field of `net` with an explicit kernel.
    pub fn with_kernel(net: &Network, kernel: GaussKernel) -> Self {
        let (a, b) = net.noise().affine();
        MeanField {
            kernel,
            sigma_w2: net.sigma_w2(),
            sigma_b2: net.sigma_b2(),
            a,
            b,
        }
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.kernel.activation()
    }

    /// The kernel.
    pub fn kernel(&self) -> &GaussKernel {
        &self.kernel
    }

    /// The integration method in use.
    pub fn method(&self) -> Method {
        self.kernel.method()
    }

    /// σ_w².
    pub fn sigma_w2(&self) -> f64 {
        self.sigma_w2
    }

    /// σ_b².
    pub fn sigma_b2(&self) -> f64 {
        self.sigma_b2
    }

    /// μ₂ of the multiplicative noise (A of [`Noise::affine`]).
    pub fn mu2(&self) -> f64 {
        self.a
    }

    /// Effective additive noise variance (B of [`Noise::affine`]).
    pub fn additive_variance(&self) -> f64 {
        self.b
    }

    /// Same, with another σ_w² (unchecked: callers pass validated values).
    pub fn with_sigma_w2(self, sigma_w2: f64) -> Self {
        MeanField { sigma_w2, ..self }
    }

    /// Same, with another σ_b² (unchecked).
    pub fn with_sigma_b2(self, sigma_b2: f64) -> Self {
        MeanField { sigma_b2, ..self }
    }

    /// Same, with the multiplicative part of the noise replaced by μ₂ = `mu2`
    /// (additive variances then count as applied after it).
    pub fn with_mu2(self, mu2: f64, additive: f64) -> Self {
        MeanField {
            a: mu2,
            b: additive,
            ..self
        }
    }

    /// Same network, kernel with `nodes` per dimension.
    pub fn with_nodes(self, nodes: usize) -> Self {
        MeanField {
            kernel: self.kernel.with_nodes(nodes),
            ..self
        }
    }
}
