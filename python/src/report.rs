//! A run's report: as Python objects, JSON, the terminal summary, SVG charts and HTML.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pythonize::pythonize;

/// What one run measured, beside the analytic shadow.
#[pyclass(frozen, module = "microsim._native")]
pub struct Report {
    pub(crate) inner: microsim::Report,
}

impl From<microsim::Report> for Report {
    fn from(inner: microsim::Report) -> Self {
        Report { inner }
    }
}

#[pymethods]
impl Report {
    /// The report as nested dicts: the keys of `report.json` (docs/report.md), but numbers
    /// that are not finite as the floats `inf` and `nan`, where JSON writes them as strings.
    ///
    /// Built field by field: `Report`'s own serde goes through the writer of non-finite
    /// numbers, its parts do not. The Python tests check that the keys are those of the JSON.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.inner;
        let d = PyDict::new(py);
        d.set_item("schema", r.schema)?;
        d.set_item("topology", &r.topology)?;
        d.set_item("seed", r.seed)?;
        d.set_item("duration_s", r.duration_s)?;
        d.set_item("warmup_s", r.warmup_s)?;
        d.set_item("events", r.events)?;
        d.set_item("entries", pythonize(py, &r.entries)?)?;
        d.set_item("services", pythonize(py, &r.services)?)?;
        d.set_item("calls", pythonize(py, &r.calls)?)?;
        d.set_item("faults", pythonize(py, &r.faults)?)?;
        d.set_item("topics", pythonize(py, &r.topics)?)?;
        d.set_item("queues", pythonize(py, &r.queues)?)?;
        d.set_item("publishes", pythonize(py, &r.publishes)?)?;
        d.set_item("series", pythonize(py, &r.series)?)?;
        d.set_item("analysis", pythonize(py, &r.analysis)?)?;
        Ok(d)
    }

    /// The report as `report.json` holds it (pretty JSON, non-finite numbers as strings).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// What `microsim run` prints: the terminal summary (100 columns).
    fn summary(&self) -> String {
        microsim::render::render_summary(&self.inner)
    }

    /// Every chart that applies, in the order of the HTML report: (file name, title, SVG).
    fn charts(&self, py: Python<'_>) -> Vec<(String, String, String)> {
        py.detach(|| {
            microsim::chart::render_all(&self.inner)
                .into_iter()
                .map(|c| (c.file, c.title, c.svg))
                .collect()
        })
    }

    /// The self-contained HTML report (`index.html` of `microsim run --out`).
    fn html(&self, py: Python<'_>) -> String {
        py.detach(|| {
            let charts = microsim::chart::render_all(&self.inner);
            microsim::render::render_html(&self.inner, &charts)
        })
    }
}

/// Reads a report back from its JSON (`report.json`).
#[pyfunction]
pub(crate) fn report_from_json(text: &str) -> PyResult<Report> {
    microsim::Report::from_json(text)
        .map(Report::from)
        .map_err(|e| PyValueError::new_err(format!("not a microsim report: {e}")))
}
