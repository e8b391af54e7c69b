//! A family of networks: an activation and a noise with σ_b², σ_w² still
//! to be chosen. The questions asked before a σ_w² exists (is there a
//! critical σ_w²? where does the edge of chaos start? what does a phase
//! diagram sweep?) are asked of a [`Family`].

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::criticality::CriticalPoint;
use crate::error::{TheoryError, check};
use crate::mean_field::{Integration, MeanField, Network};
use crate::noise::Noise;
use crate::number::fmt_short;

/// The networks `h^l = W^l (φ(h^{l−1}) ⊙ ε) + b^l` (spec 1.1) of one
/// activation φ, one noise stack ε and one bias variance σ_b², over every
/// weight variance σ_w² > 0. Validated at construction, like [`Network`].
///
/// ```
/// use noisyprop_theory::{Activation, Family, Integration, Noise};
///
/// let family = Family::new(Activation::Relu, Noise::parse_all(&["dropout:keep=0.8"])?, 0.0)?;
/// let (net, _) = family.critical(Integration::default())?;
/// assert!((net.sigma_w2() - 1.6).abs() < 1e-12); // 2/μ₂, spec 2.4
/// # Ok::<(), noisyprop_theory::TheoryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FamilyFields")]
pub struct Family {
    activation: Activation,
    noise: Noise,
    sigma_b2: f64,
}

impl Family {
    /// Builds a family.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] when σ_b² ∉ [0, ∞) or a parameter
    /// of the activation or of a noise law is out of range.
    pub fn new(activation: Activation, noise: Noise, sigma_b2: f64) -> Result<Self, TheoryError> {
        check("", "sigma_b2", sigma_b2, "[0, inf)", |x| x >= 0.0)?;
        activation.validate()?;
        noise.validate()?;
        Ok(Family {
            activation,
            noise,
            sigma_b2,
        })
    }

    /// The family's network at `sigma_w2`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] when σ_w² ∉ (0, ∞).
    pub fn at(&self, sigma_w2: f64) -> Result<Network, TheoryError> {
        Network::new(self.activation, self.noise.clone(), sigma_w2, self.sigma_b2)
    }

    /// The family's mean field, for questions about σ_w² itself (the
    /// critical σ_w² solver, where the edge of chaos starts): evaluated at a
    /// fixed order ([`MeanField::at_fixed_order`]) at the reference σ_w² = 1,
    /// which those questions vary.
    pub fn mean_field(&self, integration: Integration) -> MeanField {
        let reference = Network::new(self.activation, self.noise.clone(), 1.0, self.sigma_b2)
            .unwrap_or_default();
        MeanField::at_fixed_order(&reference, integration)
    }

    /// The network at its critical σ_w² (χ₁ = 1 at a fixed point inputs
    /// reach, spec 2.4), with the critical point: the one place a critical
    /// initialisation is resolved (CLI, Python, training, predictions).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use noisyprop_theory::{Activation, Family, Integration};
    /// let family = Family::new(Activation::Relu, "dropout:keep=0.8".parse()?, 0.0)?;
    /// let (network, _) = family.critical(Integration::default())?;
    /// assert!((network.sigma_w2() - 1.6).abs() < 1e-12); // σ_w² = 2/μ₂ = 2·0.8
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`TheoryError::NoCriticalPoint`] with the reason (and, where one
    /// exists at a larger σ_b², where the edge of chaos starts) when none
    /// exists.
    pub fn critical(
        &self,
        integration: Integration,
    ) -> Result<(Network, CriticalPoint), TheoryError> {
        let mf = self.mean_field(integration);
        match mf.critical_sigma_w2() {
            Ok(cp) => Ok((self.at(cp.sigma_w2)?, cp)),
            Err(e) => Err(TheoryError::NoCriticalPoint {
                network: format!("`{}` with noise `{}`", self.activation, self.noise),
                sigma_b2: self.sigma_b2,
                code: e.code,
                reason: match mf.nearest_critical_sigma_b2() {
                    Some(y) => format!(
                        "{}; the edge of chaos starts at σ_b² = {} (a critical σ_w² exists from there on)",
                        e.reason,
                        fmt_short(y)
                    ),
                    None => e.reason,
                },
            }),
        }
    }

    /// φ.
    pub fn activation(&self) -> Activation {
        self.activation
    }
    /// The noise stack.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }
    /// σ_b².
    pub fn sigma_b2(&self) -> f64 {
        self.sigma_b2
    }
}

impl Network {
    /// The network's family (its σ_w² forgotten).
    pub fn family(&self) -> Family {
        Family {
            activation: self.activation(),
            noise: self.noise().clone(),
            sigma_b2: self.sigma_b2(),
        }
    }
}

/// The serialised fields of a [`Family`], validated on the way in.
#[derive(Deserialize)]
struct FamilyFields {
    activation: Activation,
    noise: Noise,
    sigma_b2: f64,
}

impl TryFrom<FamilyFields> for Family {
    type Error = TheoryError;
    fn try_from(f: FamilyFields) -> Result<Self, TheoryError> {
        Family::new(f.activation, f.noise, f.sigma_b2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_resolves_as_its_networks_do() {
        let noise = Noise::parse_all(&["dropout:keep=0.6"]).expect("noise");
        let f = Family::new(Activation::Tanh, noise, 0.05).expect("family");
        let (net, cp) = f.critical(Integration::default()).expect("critical");
        assert_eq!(net.family(), f);
        assert_eq!(net.sigma_w2(), cp.sigma_w2);
        // tanh, σ_b² = 0.05: 1.76095463960674 without noise (mpmath,
        // crates/theory/tests/golden/critical.py), × keep 0.6 = 1/μ₂ with noise.
        assert!(
            (cp.sigma_w2 - 0.6 * 1.76095463960674).abs() < 1e-8,
            "{cp:?}"
        );
        assert!(f.at(0.0).is_err());
        assert!(Family::new(Activation::Relu, Noise::none(), -1.0).is_err());
    }

    #[test]
    fn no_critical_point_says_where_the_edge_of_chaos_starts() {
        let f = Family::new(Activation::Gelu, Noise::none(), 0.0).expect("family");
        let e = f
            .critical(Integration::default())
            .expect_err("gelu has none at σ_b² = 0");
        let TheoryError::NoCriticalPoint { reason, .. } = e else {
            panic!("wrong error {e:?}");
        };
        // 0.172922: the GELU edge of chaos, the smallest σ_b² with a stable critical
        // point (any multiplicative noise: μ₂ cancels). A critical fixed point q has
        // σ_w² = 1/(μ₂ E[φ′²]) and σ_b²(q) = q − E[φ²]/E[φ′²] (E over φ(√q z)); it is
        // stable while the map slope E[φ′² + φφ″]/E[φ′²] < 1, i.e. for q above
        // q_b = (3 + √17)/2 = 3.5615528, where σ_b²(q_b) = 0.172922390756 (mpmath,
        // 30 digits, `quad` split at 0, ±2, ±8; q_b by bisection to 1e-25).
        // (Not in tests/golden/critical.py, which has no σ_b² search.)
        assert!(reason.contains("0.172922"), "{reason}");
    }
}
