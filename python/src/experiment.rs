//! Experiments: replications, comparisons and sweeps on every core, the GIL released, and
//! Ctrl-C (a Jupyter interrupt) honoured between runs.

use crate::model::{duration, options, Model};
use crate::topology_error;
use microsim::experiment::{
    run_shard, Arm, Axis, ExperimentError, ExperimentResult, Plan, RecoverySpec, Shard, Target,
    Watch,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pythonize::pythonize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the waiting thread looks for a KeyboardInterrupt.
const POLL: Duration = Duration::from_millis(50);

/// The result of an experiment: every arm at every sweep point over its replications.
#[pyclass(frozen, module = "microsim._native")]
pub struct Experiment {
    inner: ExperimentResult,
}

#[pymethods]
impl Experiment {
    /// The result as nested dicts: the keys of `result.json`, non-finite numbers as floats.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner)?)
    }

    /// The result as `result.json` holds it (non-finite numbers as strings).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// What `microsim run --reps` prints.
    fn replications_text(&self) -> String {
        microsim::render::experiment::render_replications(&self.inner)
    }

    /// What `microsim compare` prints.
    fn comparison_text(&self) -> String {
        microsim::render::experiment::render_comparison(&self.inner)
    }

    /// What `microsim sweep` prints.
    fn sweep_text(&self) -> String {
        microsim::render::experiment::render_sweep(&self.inner)
    }

    /// The result as CSV (`--csv`).
    fn csv(&self) -> String {
        microsim::render::experiment::render_csv(&self.inner)
    }
}

/// Reads `PATH=START..END:STEP` or `PATH=V1,V2,…` as the command line does: (path, RON
/// values).
#[pyfunction]
pub(crate) fn parse_axis(text: &str) -> PyResult<(String, Vec<String>)> {
    Axis::parse(text)
        .map(|a| (a.path, a.values))
        .map_err(PyValueError::new_err)
}

/// Runs arms × sweep points × `reps` replications on `threads` threads (0: every core) with
/// the GIL released. Seeds derive from `master_seed` as on the command line, so the result
/// equals `microsim compare/sweep/run --reps` with the same arguments.
#[pyfunction]
#[pyo3(signature = (arms, axes, reps, master_seed, duration_text = None, warmup = None,
    drain = false, targets = Vec::new(), threads = 0, recovery_threshold = None,
    recovery_from = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_experiment(
    py: Python<'_>,
    arms: Vec<(String, Bound<'_, Model>)>,
    axes: Vec<(String, Vec<String>)>,
    reps: u32,
    master_seed: u64,
    duration_text: Option<&str>,
    warmup: Option<&str>,
    drain: bool,
    targets: Vec<String>,
    threads: usize,
    recovery_threshold: Option<f64>,
    recovery_from: Option<&str>,
) -> PyResult<Experiment> {
    if reps == 0 {
        return Err(PyValueError::new_err("reps must be at least 1"));
    }
    if arms.is_empty() {
        return Err(PyValueError::new_err(
            "an experiment needs at least one model",
        ));
    }
    let mut recovery = RecoverySpec::default();
    if let Some(t) = recovery_threshold {
        if !(0.0..=1.0).contains(&t) {
            return Err(PyValueError::new_err(format!(
                "recovery_threshold={t}: give a fraction between 0 and 1"
            )));
        }
        recovery.threshold = t;
    }
    recovery.from_s = duration("recovery_from", recovery_from)?.map(|d| d.as_secs_f64());
    let targets = targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(PyValueError::new_err)?;
    let plan = Plan {
        arms: arms
            .iter()
            .map(|(name, m)| Arm {
                name: name.clone(),
                model: m.get().inner.clone(),
            })
            .collect(),
        axes: axes
            .into_iter()
            .map(|(path, values)| Axis { path, values })
            .collect(),
        reps,
        master_seed,
        options: options(None, duration_text, warmup, drain)?,
        targets,
        recovery,
    };
    let stop = AtomicBool::new(false);
    let mut interrupt: Option<PyErr> = None;
    let outcome = py.detach(|| {
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let watch = Watch {
                    done: &|_, _| {},
                    stop: &stop,
                };
                run_shard(&plan, Shard::ALL, threads, &watch)
            });
            // Signal handlers run on the main thread only: this one waits and looks for
            // them, and stops the runs not yet started when one raises.
            while !worker.is_finished() {
                std::thread::sleep(POLL);
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupt = Some(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            worker.join()
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    let partial = match outcome {
        Ok(p) => p,
        Err(_) => {
            return Err(PyRuntimeError::new_err(
                "an experiment's thread panicked; please report this as a bug",
            ))
        }
    };
    let result = partial.and_then(|p| ExperimentResult::merge(&[p]));
    match result {
        Ok(inner) => Ok(Experiment { inner }),
        Err(ExperimentError::Load(e)) => Err(topology_error(py, &e)),
        Err(ExperimentError::Run(e)) => Err(crate::run_error(&e)),
        Err(e) => Err(PyRuntimeError::new_err(e.to_string())),
    }
}
