//! # noisyprop-theory
//!
//! Mean-field theory of signal propagation in deep networks with noise
//! (dropout, Gaussian noise, …): Pretorius, van Biljon, Kroon & Kamper,
//! "Critical initialisation for deep signal propagation in noisy rectifier
//! neural networks" (NeurIPS 2018), and Schoenholz et al., "Deep Information
//! Propagation" (ICLR 2017). Section numbers ("spec 2.7") refer to the
//! project's paper spec, `docs/paper-spec.md`.
//!
//! Pure f64 math: no I/O, no randomness. Phase diagrams use rayon.
//!
//! ```
//! use noisyprop_theory::{Activation, Network, Noise, AnalysisOptions, analyze};
//!
//! let noise = Noise::parse_all(&["dropout:keep=0.6"])?;
//! let net = Network::new(Activation::Relu, noise, 1.2, 0.0)?;
//! let a = analyze(&net, &AnalysisOptions::default())?;
//! assert!((a.c_star - 0.28391).abs() < 1e-5);      // spec 2.10
//! assert!((a.xi_c.unwrap() - 0.96553).abs() < 1e-5);
//! # Ok::<(), noisyprop_theory::TheoryError>(())
//! ```
//!
//! ## Glossary
//!
//! | symbol | identifier | meaning | spec |
//! |---|---|---|---|
//! | φ | [`Activation`] | activation function | 1.1 |
//! | ε, μ₂ = E\[ε²\], σ_ε² | [`NoiseLaw`], [`Noise::mu2`], [`Noise::additive_variance`] | noise law and its second moment | 1.1, 2.5 |
//! | σ_w², σ_b² | `sigma_w2`, `sigma_b2` | weight and bias variances (W ~ N(0, σ_w²/N)) | 1.1 |
//! | q^l | [`MeanField::variance_map`] | variance of the pre-activations | 2.1 |
//! | q* | [`VarianceRegime`] | variance fixed point | 2.3, 2.4 |
//! | q^l_ab, c^l | [`MeanField::covariance_map`], [`MeanField::correlation_map`] | covariance, correlation of two inputs | 2.7 |
//! | c*, χ_c | [`CorrelationMap::fixed_point`] | correlation fixed point, map slope there | 2.8, 2.9 |
//! | ξ_c, ξ_q | [`depth_scale`], [`VarianceRegime::depth_scale`] | depth scales −1/ln χ | 2.9 |
//! | χ₁ | [`MeanField::chi_1`] | σ_w² μ₂ E[φ′²], gradient factor per layer | 2.11 |
//! | k·ξ_c | [`trainable_depth`] | predicted trainable depth (k = 6) | 2.9 |
//! | L* | [`MeanField::range_exit_depth`] | depth where q leaves a float range | 2.6 |
//!
//! ## Crate map
//!
//! | module | contents |
//! |---|---|
//! | [`activation`] | φ, its derivatives, which expectations are closed form |
//! | [`noise`] | noise laws, stacks |
//! | [`frameworks`] | framework noise layers read from code, critical init written as code |
//! | [`quadrature`] | Gauss–Hermite / split Gauss–Legendre / polar rules |
//! | [`gauss`] | Gaussian expectations of φ (closed form or quadrature) |
//! | [`mean_field`] | [`Network`] and [`MeanField`] |
//! | [`variance_map`] | q-map, trajectory, fixed point, regimes |
//! | [`correlation_map`] | covariance/correlation maps, c*, χ_c, ξ_c |
//! | [`family`] | [`Family`]: activation, noise and σ_b² with σ_w² still free |
//! | [`criticality`] | critical σ_w² solver |
//! | [`critical_table`](mod@critical_table) | the critical initialisation of many families |
//! | [`gradient`] | backward-pass factors and trajectories |
//! | [`depth`] | trainable depth, float overflow/underflow depth |
//! | [`analysis`] | everything at once, with quadrature error estimates |
//! | [`phase`] | phase diagrams |

#![deny(missing_docs)]

pub mod activation;
pub mod analysis;
pub mod correlation_map;
pub mod critical_table;
pub mod criticality;
pub mod depth;
mod error;
pub mod family;
pub mod frameworks;
pub mod gauss;
pub mod gradient;
pub mod mean_field;
pub mod noise;
mod number;
pub mod phase;
pub mod quadrature;
pub mod record;
mod roots;
mod spec;
pub mod variance_map;

/// The README's Rust example is compiled and run as a doctest.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use activation::{ACTIVATION_NAMES, Activation};
pub use analysis::{Analysis, AnalysisOptions, IntegrationReport, RangeExitDepths, analyze};
pub use correlation_map::{CorrelationBasis, CorrelationFixedPoint, CorrelationMap, depth_scale};
pub use critical_table::{CriticalRow, TABLE_ACTIVATIONS, critical_table};
pub use criticality::{CriticalKind, CriticalPoint, NoCriticalPoint};
pub use depth::{DEPTH_MULTIPLIER, FloatFormat, RangeExit, trainable_depth};
pub use error::TheoryError;
pub use family::Family;
pub use frameworks::{Framework, init_code};
pub use gauss::{CrossMoments, GaussKernel, Method, Moments};
pub use gradient::{GradientLayer, TrajectoryLayer};
pub use mean_field::{FIXED_NODES, Integration, MeanField, Network, QuadratureRule};
pub use noise::{FrameworkReading, NOISE_KINDS, Noise, NoiseEffect, NoiseLaw, NoiseStage};
pub use number::{canonical, fmt_layer, fmt_num, fmt_short};
pub use phase::{
    PHASE_NODES, PhaseAxis, PhaseCell, PhaseDiagram, PhaseSpec, Sweep, phase_diagram,
    phase_diagram_with_progress,
};
pub use variance_map::{RegimeKind, VarianceRegime};
