//! `noisyprop._native`: the Python extension module behind the `noisyprop`
//! package. Each function parses its arguments with the library's own
//! parsers, calls `noisyprop-theory` and returns the record the CLI prints
//! with `--json` (same fields, `kind` and `schema_version` included) as a
//! Python dict; the package wraps it in a typed result. Errors are the
//! library's (the CLI prints the same text) raised as `ValueError`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use serde::Serialize;

use noisyprop_sim::{Quantity, verdict_of_layers};
use noisyprop_theory::record::{
    CriticalTableRecord, InitRecord, Kind, PhaseRecord, Record, TrajectoryRecord,
};
use noisyprop_theory::{
    Activation, AnalysisOptions, Framework, Integration, Network, Noise, PHASE_NODES, PhaseAxis,
    PhaseSpec, QuadratureRule, Sweep, TheoryError, analyze as theory_analyze, critical_table,
    phase_diagram,
};

/// `ValueError` with `e`'s message.
fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The record as `--json` prints it, as a Python dict.
fn record<'py, T: Kind + Serialize>(py: Python<'py>, data: T) -> PyResult<Bound<'py, PyAny>> {
    // Straight to Python objects (going through serde_json's value would
    // turn non-finite numbers into None but cost 70 % more per call; the
    // package's `to_dict()` does that when JSON is wanted).
    pythonize::pythonize(py, &Record::new(data)).map_err(value_error)
}

fn integration(quadrature: bool, rule: &str, nodes: Option<usize>) -> PyResult<Integration> {
    let rule = match rule {
        "legendre" => QuadratureRule::GaussLegendre,
        "hermite" => QuadratureRule::GaussHermite,
        other => {
            return Err(value_error(format!(
                "unknown quadrature rule `{other}`; valid: legendre, hermite"
            )));
        }
    };
    let integration = Integration {
        closed_form: !quadrature,
        rule,
        nodes,
    };
    integration.validate().map_err(value_error)?;
    Ok(integration)
}

fn activation_and_noise(activation: &str, noise: &[String]) -> PyResult<(Activation, Noise)> {
    let noise = match Noise::parse_all(noise) {
        Ok(n) => n,
        Err(e) if noise.iter().any(|n| n.contains([';', ','])) => {
            return Err(value_error(format!(
                "{e}\n\nhint: to stack noises, pass a list: noise=[A, B]"
            )));
        }
        Err(e) => return Err(value_error(e)),
    };
    Ok((activation.parse().map_err(value_error)?, noise))
}

/// The network with `sigma_w2`, or at its critical σ_w² when it is `None`.
fn network(
    activation: &str,
    noise: &[String],
    sigma_w2: Option<f64>,
    sigma_b2: f64,
    integration: Integration,
) -> PyResult<Network> {
    let (activation, noise) = activation_and_noise(activation, noise)?;
    match sigma_w2 {
        Some(x) => Network::new(activation, noise, x, sigma_b2).map_err(value_error),
        None => match Network::critical(activation, noise, sigma_b2, integration) {
            Ok((net, _)) => Ok(net),
            Err(e @ TheoryError::NoCriticalPoint { .. }) => {
                Err(value_error(format!("{e}\n\nhint: give sigma_w2")))
            }
            Err(e) => Err(value_error(e)),
        },
    }
}

/// `noisyprop analyze --json`.
#[pyfunction]
#[pyo3(signature = (activation, noise, sigma_w2, sigma_b2, q0, depth_multiplier, quadrature, rule, nodes))]
#[allow(clippy::too_many_arguments)]
fn analyze<'py>(
    py: Python<'py>,
    activation: &str,
    noise: Vec<String>,
    sigma_w2: Option<f64>,
    sigma_b2: f64,
    q0: f64,
    depth_multiplier: f64,
    quadrature: bool,
    rule: &str,
    nodes: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let integration = integration(quadrature, rule, nodes)?;
    let net = network(activation, &noise, sigma_w2, sigma_b2, integration)?;
    let a = theory_analyze(
        &net,
        &AnalysisOptions {
            q0,
            depth_multiplier,
            integration,
        },
    )
    .map_err(value_error)?;
    record(py, a)
}

/// `noisyprop init --json`.
#[pyfunction]
#[pyo3(signature = (activation, noise, sigma_b2, fan_in, depth_multiplier, frameworks, quadrature, rule, nodes))]
#[allow(clippy::too_many_arguments)]
fn init<'py>(
    py: Python<'py>,
    activation: &str,
    noise: Vec<String>,
    sigma_b2: f64,
    fan_in: usize,
    depth_multiplier: f64,
    frameworks: Option<Vec<String>>,
    quadrature: bool,
    rule: &str,
    nodes: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    if fan_in == 0 {
        return Err(value_error(
            "fan_in 0 is out of range; valid range is [1, inf)",
        ));
    }
    let frameworks: Vec<Framework> = match frameworks {
        Some(names) => names
            .iter()
            .map(|n| n.parse())
            .collect::<Result<_, _>>()
            .map_err(value_error)?,
        None => Framework::ALL.to_vec(),
    };
    let integration = integration(quadrature, rule, nodes)?;
    let net = network(activation, &noise, None, sigma_b2, integration)?;
    let a = theory_analyze(
        &net,
        &AnalysisOptions {
            depth_multiplier,
            integration,
            ..Default::default()
        },
    )
    .map_err(value_error)?;
    record(py, InitRecord::new(&a, &net, fan_in, &frameworks))
}

/// `noisyprop critical --json`: every combination of activations, noises
/// (each a stack written `A, then B`) and σ_b².
#[pyfunction]
#[pyo3(signature = (activations, noises, sigma_b2s, quadrature, rule, nodes))]
fn critical<'py>(
    py: Python<'py>,
    activations: Vec<String>,
    noises: Vec<String>,
    sigma_b2s: Vec<f64>,
    quadrature: bool,
    rule: &str,
    nodes: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let activations: Vec<Activation> = activations
        .iter()
        .map(|n| n.parse())
        .collect::<Result<_, _>>()
        .map_err(value_error)?;
    let noises: Vec<Noise> = noises
        .iter()
        .map(|n| n.parse())
        .collect::<Result<_, _>>()
        .map_err(value_error)?;
    let rows = critical_table(
        &activations,
        &noises,
        &sigma_b2s,
        integration(quadrature, rule, nodes)?,
    )
    .map_err(value_error)?;
    record(py, CriticalTableRecord { rows })
}

/// `noisyprop trajectory --json`.
#[pyfunction]
#[pyo3(signature = (activation, noise, sigma_w2, sigma_b2, depth, q0, c0, top_grad_correlation, quadrature, rule, nodes))]
#[allow(clippy::too_many_arguments)]
fn trajectory<'py>(
    py: Python<'py>,
    activation: &str,
    noise: Vec<String>,
    sigma_w2: Option<f64>,
    sigma_b2: f64,
    depth: usize,
    q0: f64,
    c0: f64,
    top_grad_correlation: f64,
    quadrature: bool,
    rule: &str,
    nodes: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let integration = integration(quadrature, rule, nodes)?;
    let net = network(activation, &noise, sigma_w2, sigma_b2, integration)?;
    let layers = noisyprop_theory::MeanField::at_fixed_order(&net, integration)
        .trajectory(q0, c0, depth, top_grad_correlation)
        .map_err(value_error)?;
    record(py, TrajectoryRecord::new(&net, q0, c0, layers))
}

/// `noisyprop phase --json`: sweeps are (min, max, n).
#[pyfunction]
#[pyo3(signature = (activation, noise, y, x_range, y_range, log_y, sigma_b2, q0, depth_multiplier, nodes))]
#[allow(clippy::too_many_arguments)]
fn phase<'py>(
    py: Python<'py>,
    activation: &str,
    noise: Vec<String>,
    y: &str,
    x_range: (f64, f64, usize),
    y_range: Option<(f64, f64, usize)>,
    log_y: bool,
    sigma_b2: f64,
    q0: f64,
    depth_multiplier: f64,
    nodes: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let y_axis = match y {
        "mu2" => PhaseAxis::Mu2,
        "sigma_b2" | "sigma-b2" => PhaseAxis::SigmaB2,
        other => {
            return Err(value_error(format!(
                "unknown y axis `{other}`; valid: mu2, sigma_b2"
            )));
        }
    };
    integration(false, "legendre", nodes)?;
    let (activation, noise) = activation_and_noise(activation, &noise)?;
    let net = Network::new(activation, noise, 1.0, sigma_b2).map_err(value_error)?;
    y_axis.check_free(&net).map_err(value_error)?;
    let sweep = |(min, max, n): (f64, f64, usize)| Sweep {
        min,
        max,
        n,
        log: false,
    };
    let y = y_range.map_or(y_axis.default_sweep(), sweep);
    let spec = PhaseSpec {
        x: sweep(x_range),
        y: Sweep { log: log_y, ..y },
        y_axis,
        q0,
        depth_multiplier,
        nodes: nodes.unwrap_or(PHASE_NODES),
    };
    // The grid is pure Rust (rayon): let other Python threads run meanwhile.
    let diagram = py
        .detach(|| phase_diagram(&net, &spec))
        .map_err(value_error)?;
    record(
        py,
        PhaseRecord {
            activation: activation.spec(),
            noise: net.noise().to_string(),
            diagram,
        },
    )
}

/// The canonical spec of a noise stack written as noisyprop or a framework
/// spells it (`Dropout(0.2)` → `dropout:keep=0.8`).
#[pyfunction]
fn canonical_noise(spec: &str) -> PyResult<String> {
    Ok(Noise::parse_all(&[spec]).map_err(value_error)?.to_string())
}

/// The canonical spec of an activation (`swish` → `silu`).
#[pyfunction]
fn canonical_activation(spec: &str) -> PyResult<String> {
    Ok(spec.parse::<Activation>().map_err(value_error)?.spec())
}

/// The simulator's verdict for one quantity (`q`, `c`, `grad_q`, `grad_c`)
/// measured layer by layer in independent networks: `samples[k][l]` of
/// network k at layer l + 1 against `theory[l]` (noisyprop_sim's rule).
#[pyfunction]
fn verdict<'py>(
    py: Python<'py>,
    quantity: &str,
    theory: Vec<f64>,
    samples: Vec<Vec<f64>>,
    width: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let q = match quantity {
        "q" => Quantity::Q,
        "c" => Quantity::C,
        "grad_q" => Quantity::GradQ,
        "grad_c" => Quantity::GradC,
        other => {
            return Err(value_error(format!(
                "unknown quantity `{other}`; valid: q, c, grad_q, grad_c"
            )));
        }
    };
    if samples.len() < 2 {
        return Err(value_error(format!(
            "{} network(s) measured; the verdict needs at least 2 (it uses their spread)",
            samples.len()
        )));
    }
    if let Some(bad) = samples.iter().find(|s| s.len() != theory.len()) {
        return Err(value_error(format!(
            "a network has {} layers measured but the theory has {}",
            bad.len(),
            theory.len()
        )));
    }
    if width == 0 {
        return Err(value_error(
            "width 0 is out of range; valid range is [1, inf)",
        ));
    }
    pythonize::pythonize(py, &verdict_of_layers(q, &theory, &samples, width)).map_err(value_error)
}

/// The embedded MNIST subset: (pixels, labels, n, dim, source); pixels are
/// n × dim bytes, labels n bytes.
#[pyfunction]
fn mnist_subset(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = noisyprop_data::embedded_mnist_subset().map_err(value_error)?;
    let out = PyDict::new(py);
    out.set_item("pixels", PyBytes::new(py, &d.pixels))?;
    out.set_item("labels", PyBytes::new(py, &d.labels))?;
    out.set_item("n", d.n)?;
    out.set_item("dim", d.dim)?;
    out.set_item("source", d.source)?;
    Ok(out)
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(critical, m)?)?;
    m.add_function(wrap_pyfunction!(trajectory, m)?)?;
    m.add_function(wrap_pyfunction!(phase, m)?)?;
    m.add_function(wrap_pyfunction!(mnist_subset, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_noise, m)?)?;
    m.add_function(wrap_pyfunction!(verdict, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_activation, m)?)?;
    Ok(())
}
