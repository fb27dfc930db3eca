//! `microsim._native`: the compiled half of the `microsim` Python package.
//!
//! It is thin on purpose. Everything a user calls is in the pure-Python package
//! (`python/microsim/`), which gives the API its Python shape (keyword arguments, DataFrames,
//! Jupyter display); this module only crosses the border:
//!
//! * topologies come in as RON text ([`to_ron`] writes nested dicts as RON) and go through
//!   the crate's one loader, so a dict, a builder and a file get the same checks and the same
//!   messages;
//! * runs and experiments run with the GIL released, experiments on every core;
//! * results go out as Python objects made from the crate's serde types (numbers that are not
//!   finite stay floats, where `report.json` writes them as strings), and as the crate's
//!   text tables, SVG charts and HTML.
//!
//! Errors become `microsim.TopologyError` (a `ValueError`) with the loader's message, and
//! `microsim.RunError` (a `RuntimeError`) with the engine's.

mod experiment;
mod model;
mod report;
mod to_ron;

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    microsim,
    TopologyError,
    PyValueError,
    "A topology that cannot be loaded: its message is the one the command line prints (file:line: field path: what is wrong; did you mean …). `problems` lists each problem as a dict with `path`, `line`, `message` and `hint`; `origin` names the file (or `<dict>`, `<string>`, `NAME (built)`)."
);
create_exception!(
    microsim,
    RunError,
    PyRuntimeError,
    "A run that stopped before its end: the in-flight cap of an overloaded model, the guard of a model that loops without time advancing, or a run option that is not valid."
);

/// `e` as a `TopologyError`, with its problems and origin as attributes.
pub(crate) fn topology_error(py: Python<'_>, e: &microsim::LoadError) -> PyErr {
    let err = TopologyError::new_err(e.to_string());
    let value = err.value(py);
    let problems = PyList::empty(py);
    for p in e.problems() {
        let d = PyDict::new(py);
        let _ = d.set_item("path", &p.path);
        let _ = d.set_item("line", p.line);
        let _ = d.set_item("message", &p.message);
        let _ = d.set_item("hint", p.hint.as_deref());
        let _ = problems.append(d);
    }
    if let microsim::LoadError::Syntax {
        line, col, message, ..
    } = e
    {
        let d = PyDict::new(py);
        let _ = d.set_item("path", "");
        let _ = d.set_item("line", *line);
        let _ = d.set_item("column", *col);
        let _ = d.set_item("message", message);
        let _ = d.set_item("hint", py.None());
        let _ = problems.append(d);
    }
    let origin = match e {
        microsim::LoadError::Io { path, .. } => path.display().to_string(),
        microsim::LoadError::Syntax { origin, .. }
        | microsim::LoadError::Invalid { origin, .. } => origin.clone(),
    };
    let _ = value.setattr("problems", problems);
    let _ = value.setattr("origin", origin);
    err
}

/// `e` as a `RunError`.
pub(crate) fn run_error(e: &microsim::RunError) -> PyErr {
    RunError::new_err(e.to_string())
}

/// Reads, validates and compiles the topology file at `path`.
#[pyfunction]
fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<model::Model> {
    let loaded = py.detach(|| microsim::load(&path));
    loaded
        .map(model::Model::from)
        .map_err(|e| topology_error(py, &e))
}

/// Validates and compiles topology `text`; `origin` names it in messages.
#[pyfunction]
#[pyo3(signature = (text, origin = "<string>"))]
fn parse(py: Python<'_>, text: &str, origin: &str) -> PyResult<model::Model> {
    microsim::parse(text, origin)
        .map(model::Model::from)
        .map_err(|e| topology_error(py, &e))
}

/// The version of the microsim crate this module was built from.
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TopologyError", py.get_type::<TopologyError>())?;
    m.add("RunError", py.get_type::<RunError>())?;
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(to_ron::topology_to_ron, m)?)?;
    m.add_function(wrap_pyfunction!(to_ron::value_to_ron, m)?)?;
    m.add_function(wrap_pyfunction!(experiment::run_experiment, m)?)?;
    m.add_function(wrap_pyfunction!(experiment::parse_axis, m)?)?;
    m.add_function(wrap_pyfunction!(report::report_from_json, m)?)?;
    m.add_class::<model::Model>()?;
    m.add_class::<report::Report>()?;
    m.add_class::<experiment::Experiment>()?;
    Ok(())
}
