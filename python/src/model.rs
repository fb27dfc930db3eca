//! The compiled model: validated, immutable; edits make new models through the loader.

use crate::report::Report;
use crate::{run_error, topology_error};
use microsim::spec::overrides::Override;
use microsim::time::{parse_duration, SimDuration};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pythonize::pythonize;

/// A validated topology, ready to analyse or run. Immutable: `with_overrides` and
/// `variant` make new models, checked as a file is.
#[pyclass(frozen, module = "microsim._native")]
pub struct Model {
    pub(crate) inner: microsim::Model,
}

impl From<microsim::Model> for Model {
    fn from(inner: microsim::Model) -> Self {
        Model { inner }
    }
}

/// A duration option: text with a unit (`"60s"`), checked here.
pub(crate) fn duration(name: &str, text: Option<&str>) -> PyResult<Option<SimDuration>> {
    text.map(|t| parse_duration(t).map_err(|e| PyValueError::new_err(format!("{name}={t:?}: {e}"))))
        .transpose()
}

/// Run options from the keyword arguments.
pub(crate) fn options(
    seed: Option<u64>,
    duration_text: Option<&str>,
    warmup: Option<&str>,
    drain: bool,
) -> PyResult<microsim::RunOptions> {
    Ok(microsim::RunOptions {
        seed,
        duration: duration("duration", duration_text)?,
        warmup: duration("warmup", warmup)?,
        drain,
        max_events_per_instant: None,
    })
}

#[pymethods]
impl Model {
    /// The topology's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Where it came from: a file path, `<string>`, `<dict>`, `NAME (built)`, with the edits
    /// of a variant.
    #[getter]
    fn origin(&self) -> &str {
        self.inner.origin()
    }

    /// The RON text it was compiled from (with its edits applied).
    #[getter]
    fn source(&self) -> Option<String> {
        Some(self.inner.source().to_string())
    }

    /// The names of the variants the topology declares, in order.
    #[getter]
    fn variants(&self) -> Vec<String> {
        self.inner.variants().iter().map(|v| v.name.clone()).collect()
    }

    /// The edits of variant `name`, as (path, RON value) pairs.
    fn variant_edits(&self, name: &str) -> Option<Vec<(String, String)>> {
        self.inner
            .variants()
            .iter()
            .find(|v| v.name == name)
            .map(|v| {
                v.overrides
                    .iter()
                    .map(|o| (o.path.clone(), o.value.clone()))
                    .collect()
            })
    }

    /// Names of the services, entry points, topics and queues, in file order.
    fn names(&self) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
        let m = &self.inner;
        (
            m.services().iter().map(|s| s.name.clone()).collect(),
            m.entries().iter().map(|e| e.name.clone()).collect(),
            m.topics().iter().map(|t| t.name.clone()).collect(),
            m.queues().iter().map(|q| q.name.clone()).collect(),
        )
    }

    /// Simulated time, warm-up and seed the file gives (seconds, seconds, seed).
    fn run_settings(&self) -> (f64, f64, u64) {
        let r = self.inner.run_config();
        (r.duration.as_secs_f64(), r.warmup.as_secs_f64(), r.seed)
    }

    /// A new model: this one with `edits` (path, RON value) applied, loaded and validated as
    /// a file is.
    fn with_overrides(&self, py: Python<'_>, edits: Vec<(String, String)>) -> PyResult<Model> {
        let overrides: Vec<Override> = edits
            .into_iter()
            .map(|(p, v)| Override::new(p, v))
            .collect();
        let edited = py.detach(|| self.inner.with_overrides(&overrides));
        edited.map(Model::from).map_err(|e| topology_error(py, &e))
    }

    /// Variant `name` as a model of its own.
    fn variant(&self, py: Python<'_>, name: &str) -> PyResult<Model> {
        self.inner
            .variant(name)
            .map(Model::from)
            .map_err(|e| topology_error(py, &e))
    }

    /// The topology as nested dicts in the shape of serde's view of the file (what
    /// `from_dict` reads back).
    fn spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = self.inner.source();
        let spec = microsim::spec::parse_ron(text)
            .map_err(|e| PyValueError::new_err(format!("cannot read the model's text: {e}")))?;
        Ok(pythonize(py, &spec)?)
    }

    /// The topology as RON text, without comments, fields at their defaults left out.
    fn to_ron(&self) -> PyResult<String> {
        let text = self.inner.source();
        let spec = microsim::spec::parse_ron(text)
            .map_err(|e| PyValueError::new_err(format!("cannot read the model's text: {e}")))?;
        Ok(spec.to_ron())
    }

    /// The analytic shadow and lints, as nested dicts.
    fn analysis<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.analyze())?)
    }

    /// What `microsim check` prints: the model's shape, the analytic shadow and the lints.
    fn check_text(&self) -> String {
        microsim::render::render_analysis(&self.inner, &self.inner.analyze())
    }

    /// Simulates the model once, with the GIL released.
    #[pyo3(signature = (seed = None, duration = None, warmup = None, drain = false))]
    fn run(
        &self,
        py: Python<'_>,
        seed: Option<u64>,
        duration: Option<&str>,
        warmup: Option<&str>,
        drain: bool,
    ) -> PyResult<Report> {
        let options = options(seed, duration, warmup, drain)?;
        let result = py.detach(|| self.inner.run(&options));
        result.map(Report::from).map_err(|e| run_error(&e))
    }
}
