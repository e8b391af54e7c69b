//! What the framework walkers (`noisyprop.torch`, `noisyprop.keras`) ask the
//! theory about an activation or a noise stack before they set a layer:
//! whether φ is positively homogeneous, whether a noise may sit before it,
//! μ₂, the added variance and how evaluation mode (noise off) scales the
//! variance. The package writes none of these facts itself.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;

use noisyprop_ops::{Error, Spelling};
use noisyprop_theory::{Activation, Noise, NoiseEffect, NoiseLaw, TheoryError};

/// The library's error as a Python `ValueError` (the CLI's text, spelled
/// for Python).
fn value_error(e: TheoryError) -> PyErr {
    PyValueError::new_err(Error::from(e).render(Spelling::Python))
}

/// A record as Python objects.
fn to_python<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// What `describe_activation` says about φ.
#[derive(Serialize)]
struct ActivationFacts {
    /// The canonical spec (`swish` → `silu`).
    spec: String,
    /// φ(λx) = λφ(x) for λ > 0 (relu, leaky-relu, linear, abs): a
    /// nonnegative multiplicative noise then commutes with φ, and without a
    /// bias the variance map is linear in q.
    positively_homogeneous: bool,
}

/// The canonical spec of an activation and whether it is positively
/// homogeneous: `{"spec": str, "positively_homogeneous": bool}`.
#[pyfunction]
fn describe_activation<'py>(py: Python<'py>, spec: &str) -> PyResult<Bound<'py, PyAny>> {
    let a: Activation = spec.parse().map_err(value_error)?;
    a.validate().map_err(value_error)?;
    to_python(
        py,
        &ActivationFacts {
            spec: a.spec(),
            positively_homogeneous: a.is_positively_homogeneous(),
        },
    )
}

/// What `describe_noise` says about one stage of a stack.
#[derive(Serialize)]
struct StageFacts {
    /// The law's canonical spec (rounded for display).
    spec: String,
    /// `identity`, `multiplicative` or `additive`.
    effect: &'static str,
    /// μ₂ = E\[ε²\] of a multiplicative law (1 otherwise).
    mu2: f64,
    /// σ_ε² of an additive law (0 otherwise).
    additive_variance: f64,
    /// φ(x)·ε = φ(x·ε) for every positively homogeneous φ: ε ≥ 0 almost
    /// surely (dropout, Poisson, Gamma, a uniform law on [1 − a, 1 + a] with
    /// a ≤ 1, or no noise at all).
    commutes_with_homogeneous: bool,
    /// How a framework spelling was read (`None` for a noisyprop spec).
    framework_convention: Option<String>,
}

/// Whether ε ≥ 0 almost surely (so φ(x ε) = φ(x) ε for a positively
/// homogeneous φ), for every law by name.
fn nonnegative(law: NoiseLaw) -> bool {
    match law {
        NoiseLaw::None
        | NoiseLaw::Dropout { .. }
        | NoiseLaw::Poisson { .. }
        | NoiseLaw::Gamma { .. } => true,
        NoiseLaw::UniformMult { half_width } => half_width <= 1.0,
        NoiseLaw::GaussMult { std } => std == 0.0,
        NoiseLaw::LaplaceMult { scale } => scale == 0.0,
        // Only μ₂ is known: the law may take negative values.
        NoiseLaw::Mult { mu2 } => mu2 == 1.0,
        // x + ε is not a rescaling of x (unless ε ≡ 0).
        NoiseLaw::GaussAdd { std } => std == 0.0,
        NoiseLaw::LaplaceAdd { scale } => scale == 0.0,
        NoiseLaw::Add { var } => var == 0.0,
    }
}

/// What `describe_noise` says about a stack.
#[derive(Serialize)]
struct NoiseFacts {
    /// The canonical spec of each stage (`["none"]` for no noise).
    specs: Vec<String>,
    /// The stack as one text, stages joined by `, then `.
    canonical: String,
    /// μ₂ of the multiplicative part (product over stages).
    mu2: f64,
    /// The effective additive variance B of E\[x̃²\] = μ₂ E\[x²\] + B.
    additive_variance: f64,
    /// No additive part (B = 0).
    multiplicative: bool,
    /// Every stage commutes with a positively homogeneous φ (may sit before it).
    commutes_with_homogeneous: bool,
    /// The factor by which one layer's pre-activation variance changes when
    /// the noise is switched off (evaluation mode) at an initialisation
    /// critical with the noise on: 1/μ₂, exact for a positively homogeneous
    /// φ without bias (q ↦ σ_w² μ₂ E\[φ²\] loses its μ₂), the leading-order
    /// estimate otherwise; `None` with an additive part (no such factor).
    eval_variance_factor: Option<f64>,
    /// Each stage in order.
    stages: Vec<StageFacts>,
}

/// μ₂, additive variance, commutation and the evaluation-mode factor of a
/// noise stack given stage by stage (noisyprop or framework spellings, as
/// `analyze`'s `noise` takes them).
#[pyfunction]
fn describe_noise<'py>(py: Python<'py>, specs: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
    let noise = Noise::parse_all(&specs).map_err(value_error)?;
    noise.validate().map_err(value_error)?;
    let stages: Vec<StageFacts> = noise
        .stages()
        .iter()
        .map(|s| {
            let (effect, mu2, var) = match s.law.effect() {
                NoiseEffect::Identity => ("identity", 1.0, 0.0),
                NoiseEffect::Multiplicative { mu2 } => ("multiplicative", mu2, 0.0),
                NoiseEffect::Additive { var } => ("additive", 1.0, var),
            };
            StageFacts {
                spec: s.law.to_string(),
                effect,
                mu2,
                additive_variance: var,
                commutes_with_homogeneous: nonnegative(s.law),
                framework_convention: s.framework.as_ref().map(|f| f.convention.clone()),
            }
        })
        .collect();
    let mu2 = noise.mu2();
    let additive_variance = noise.additive_variance();
    let multiplicative = additive_variance == 0.0;
    let facts = NoiseFacts {
        specs: noise.specs(),
        canonical: noise.to_string(),
        mu2,
        additive_variance,
        multiplicative,
        commutes_with_homogeneous: stages.iter().all(|s| s.commutes_with_homogeneous),
        eval_variance_factor: multiplicative.then(|| 1.0 / mu2),
        stages,
    };
    to_python(py, &facts)
}

/// Adds this file's functions to the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(describe_activation, m)?)?;
    m.add_function(wrap_pyfunction!(describe_noise, m)?)?;
    Ok(())
}
