//! `noisyprop._native`: the Python extension module behind the `noisyprop`
//! package, a thin shell over `noisyprop-ops`. `run(command, kwargs)` reads
//! the keyword arguments into the command's request (the CLI's long flags
//! in snake_case), runs it and returns the record the CLI prints with
//! `--json` as a dict; `defaults(command)` gives the request's defaults, so
//! the package's signatures hold none of their own. Errors are the
//! operations' own, spelled for Python (`sigma_w2=`, never `--sigma-w2`):
//! a value of the wrong type is a `TypeError`, a bad value a `ValueError`,
//! and Ctrl-C during a long command a `KeyboardInterrupt`.

mod describe;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use serde::Serialize;

use noisyprop_ops::{Error, ErrorKind, Observer, Operation, Spelling, read_request};
use noisyprop_theory::record::Record;
use noisyprop_theory::{Activation, Noise};

/// The Python exception of an operation's error.
fn py_error(e: &Error) -> PyErr {
    let text = e.render(Spelling::Python);
    match e.kind() {
        ErrorKind::Cancelled => PyKeyboardInterrupt::new_err(text),
        _ => PyValueError::new_err(text),
    }
}

/// An argument that could not be read into the request: `TypeError` for a
/// value of the wrong type, `ValueError` for a wrong value of the right
/// type, both naming the argument and showing the value given.
fn argument_error<O: Operation>(kwargs: &Bound<'_, PyDict>, e: &Error) -> PyErr {
    let ErrorKind::Invalid { param, reason } = e.kind() else {
        return py_error(e);
    };
    let mut name = param.split(['[', '.']).next().unwrap_or(param).to_string();
    if name.is_empty() {
        // A field of a flattened group (serde reports the request itself):
        // the argument that alone fails to read is the one.
        name = kwargs
            .iter()
            .find(|(k, v)| {
                let one = PyDict::new(kwargs.py());
                one.set_item(k, v).is_ok()
                    && read_request::<O::Request, _>(&mut pythonize::Depythonizer::from_object(
                        one.as_any(),
                    ))
                    .is_err()
            })
            .map(|(k, _)| k.to_string())
            .unwrap_or_default();
    }
    let name = name.as_str();
    let given = kwargs
        .get_item(name)
        .ok()
        .flatten()
        .and_then(|v| v.repr().ok().map(|r| r.to_string()));
    let (is_type, reason) = match reason.split_once(": ") {
        Some(("TypeError", rest)) => (true, rest),
        Some(("OverflowError" | "ValueError", rest)) => (false, rest),
        _ => (
            ["invalid type", "unexpected type", "expected"]
                .iter()
                .any(|p| reason.starts_with(p)),
            reason.as_str(),
        ),
    };
    let (is_type, reason) = if reason.contains("negative int") {
        (false, "out of range; valid range is whole numbers ≥ 0")
    } else if reason.contains("too big to convert") {
        (false, "out of range: too large")
    } else {
        (is_type, reason)
    };
    let text = match given {
        Some(v) => format!("{name}={v}: {reason}"),
        None => format!("{O}(): {reason}", O = O::NAME),
    };
    if is_type {
        PyTypeError::new_err(text)
    } else {
        PyValueError::new_err(text)
    }
}

/// Stops a running operation when Python asks (Ctrl-C), and keeps its
/// warnings for Python's `warnings` once it is over (a worker thread holds
/// no GIL).
#[derive(Default)]
struct Interrupt {
    stop: AtomicBool,
    warnings: std::sync::Mutex<Vec<String>>,
}

impl Observer for Interrupt {
    fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn warn(&self, text: &str) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(text.to_string());
        }
    }
}

impl Interrupt {
    /// Says the operation's warnings as Python `UserWarning`s.
    fn emit(&self, py: Python<'_>) -> PyResult<()> {
        let warnings = self.warnings.lock().map(|w| w.clone()).unwrap_or_default();
        for text in warnings {
            let text = std::ffi::CString::new(text.replace('\0', " "))
                .unwrap_or_else(|_| c"(unprintable warning)".to_owned());
            PyErr::warn(
                py,
                &py.get_type::<pyo3::exceptions::PyUserWarning>(),
                &text,
                1,
            )?;
        }
        Ok(())
    }
}

/// Runs `O` on `request`: long operations on a worker thread with the GIL
/// released, checking for Ctrl-C every 50 ms (the operation stops at its
/// next unit of work); short ones here, at once.
fn execute<O: Operation>(py: Python<'_>, request: &O::Request) -> PyResult<O::Record>
where
    O::Request: Sync,
    O::Record: Send,
{
    let interrupt = Interrupt::default();
    if !O::LONG_RUNNING {
        let record = noisyprop_ops::execute::<O>(request, &interrupt).map_err(|e| py_error(&e))?;
        interrupt.emit(py)?;
        return Ok(record);
    }
    std::thread::scope(|s| {
        let worker = s.spawn(|| noisyprop_ops::execute::<O>(request, &interrupt));
        loop {
            py.detach(|| {
                let mut waited = Duration::ZERO;
                while !worker.is_finished() && waited < Duration::from_millis(50) {
                    std::thread::sleep(Duration::from_millis(2));
                    waited += Duration::from_millis(2);
                }
            });
            if worker.is_finished() {
                break;
            }
            if let Err(e) = py.check_signals() {
                interrupt.stop.store(true, Ordering::Relaxed);
                py.detach(|| {
                    while !worker.is_finished() {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                });
                return Err(e);
            }
        }
        match worker.join() {
            Ok(result) => {
                let record = result.map_err(|e| py_error(&e))?;
                interrupt.emit(py)?;
                Ok(record)
            }
            Err(_) => Err(PyValueError::new_err(format!(
                "{}: internal error (a panic); please report it",
                O::NAME
            ))),
        }
    })
}

/// Reads `kwargs` into `O`'s request, runs it, returns the record as a dict.
fn call<'py, O: Operation>(
    py: Python<'py>,
    kwargs: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>>
where
    O::Request: Sync,
    O::Record: Send,
{
    let request: O::Request =
        read_request(&mut pythonize::Depythonizer::from_object(kwargs.as_any()))
            .map_err(|e| argument_error::<O>(kwargs, &e))?;
    let record = execute::<O>(py, &request)?;
    to_python(py, &Record::new(record))
}

/// A value as Python objects (straight, not through JSON: that would turn
/// non-finite numbers into None and cost 70 % more per call; the package's
/// `to_dict()` does that when JSON is wanted).
fn to_python<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Calls `f::<O>()` for the command named `$name` ($O each operation).
macro_rules! by_name {
    ($name:expr, $f:ident, $($args:expr),*) => {{
        use noisyprop_ops::*;
        match $name {
            n if n == analyze::Analyze::NAME => $f::<analyze::Analyze>($($args),*),
            n if n == init::Init::NAME => $f::<init::Init>($($args),*),
            n if n == critical::Critical::NAME => $f::<critical::Critical>($($args),*),
            n if n == trajectory::Trajectory::NAME => $f::<trajectory::Trajectory>($($args),*),
            n if n == phase::Phase::NAME => $f::<phase::Phase>($($args),*),
            n if n == verdict::VerdictOf::NAME => $f::<verdict::VerdictOf>($($args),*),
            n if n == simulate::Simulate::NAME => $f::<simulate::Simulate>($($args),*),
            n if n == train::Train::NAME => $f::<train::Train>($($args),*),
            n if n == variance_depth::VarianceDepth::NAME => {
                $f::<variance_depth::VarianceDepth>($($args),*)
            }
            n if n == trainable_depth::TrainableDepth::NAME => {
                $f::<trainable_depth::TrainableDepth>($($args),*)
            }
            n if n == reproduce::Reproduce::NAME => $f::<reproduce::Reproduce>($($args),*),
            n if n == figures::Figures::NAME => $f::<figures::Figures>($($args),*),
            other => Err(PyValueError::new_err(format!("unknown command `{other}`"))),
        }
    }};
}

/// Runs a command: `run("analyze", {"activation": "relu", ...})`.
#[pyfunction]
fn run<'py>(
    py: Python<'py>,
    command: &str,
    kwargs: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    by_name!(command, call, py, kwargs)
}

fn defaults_of<'py, O: Operation>(py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &O::Request::default())
}

/// The defaults of a command's request, as a dict.
#[pyfunction]
fn defaults<'py>(py: Python<'py>, command: &str) -> PyResult<Bound<'py, PyAny>> {
    by_name!(command, defaults_of, py)
}

/// The canonical spec of a noise stack written as noisyprop or a framework
/// spells it (`Dropout(0.2)` → `dropout:keep=0.8`).
#[pyfunction]
fn canonical_noise(spec: &str) -> PyResult<String> {
    Noise::parse_all(&[spec])
        .map(|n| n.to_string())
        .map_err(|e| py_error(&e.into()))
}

/// The canonical spec of an activation (`swish` → `silu`).
#[pyfunction]
fn canonical_activation(spec: &str) -> PyResult<String> {
    spec.parse::<Activation>()
        .map(|a| a.spec())
        .map_err(|e| py_error(&e.into()))
}

/// The embedded MNIST subset: (pixels, labels, n, dim, source); pixels are
/// n × dim bytes, labels n bytes.
#[pyfunction]
fn mnist_subset(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = noisyprop_data::embedded_mnist_subset()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
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
    describe::register(m)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(defaults, m)?)?;
    m.add_function(wrap_pyfunction!(mnist_subset, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_noise, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_activation, m)?)?;
    Ok(())
}
