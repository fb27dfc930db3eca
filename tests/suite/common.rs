//! Shared helpers: the bundled topologies, models from RON text, independent replications
//! and the tolerances derived from them.
//!
//! # How statistical tolerances are set
//! A statistical check runs R independent replications (different seeds, each with its own
//! warm-up), takes one estimate per replication and compares the mean of the R estimates with
//! the closed form. The standard error is the across-replication sample standard deviation
//! over √R: it needs no variance formula and is honest about autocorrelation inside a run
//! (each replication is one long batch). With R = 10 the studentized error has a t
//! distribution with 9 degrees of freedom, and P(|t₉| > 5) ≈ 7·10⁻⁴, so a tolerance of
//! [`K_SE`] = 5 standard errors (plus a small, separately justified bias allowance) fails
//! a correct engine only by a rare accident of the fixed seeds. Each check also asserts that
//! its tolerance is below a stated fraction of the expected value, so a run too short (or an
//! engine too noisy) cannot pass by having a huge tolerance.

#![allow(dead_code)]

use microsim::run_seeds;
use microsim::time::SimDuration;
use microsim::{Model, Report, RunOptions};
use std::path::{Path, PathBuf};

/// Standard errors allowed between an estimate and the exact value (see the module docs).
pub const K_SE: f64 = 5.0;

/// Seeds of the independent replications of statistical tests.
pub const SEEDS: [u64; 10] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

/// A fresh, empty directory `target/tmp/<area>/<name>` for one test (what an earlier run left
/// there is removed first).
pub fn scratch(area: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(area).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every bundled topology (`topologies/*.ron`), sorted by path.
pub fn bundled() -> Vec<PathBuf> {
    let dir = root().join("topologies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no topologies in {}", dir.display());
    files
}

/// Compiles topology `text`, panicking with the loader's message if it is invalid.
pub fn model(text: &str) -> Model {
    microsim::parse(text, "<test>").unwrap_or_else(|e| panic!("test topology invalid: {e}"))
}

/// A model with one service `"s"` (its fields written as in a file, e.g.
/// `workers: 2, work: Exp(mean: "1ms")`) fed by one Poisson entry point `"main"`.
pub fn one_service(per_second: f64, service_fields: &str) -> Model {
    model(&format!(
        r#"Topology(
            workload: [(name: "main", entry: "s", arrivals: Poisson(per_second: {per_second}))],
            services: {{ "s": ({service_fields}) }},
        )"#
    ))
}

/// Run options with the given duration and warm-up [s].
pub fn opts(duration_s: f64, warmup_s: f64) -> RunOptions {
    RunOptions {
        seed: None,
        duration: Some(SimDuration((duration_s * 1e9).round() as u64)),
        warmup: Some(SimDuration((warmup_s * 1e9).round() as u64)),
        drain: false,
        max_events_per_instant: None,
    }
}

/// Runs `model` once per seed of [`SEEDS`] (in parallel), panicking on a run error.
pub fn replicate(model: &Model, options: &RunOptions) -> Vec<Report> {
    run_seeds(model, options, &SEEDS)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("run failed: {e}")))
        .collect()
}

/// Mean and standard error of the mean of independent estimates.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    /// Mean of the estimates.
    pub mean: f64,
    /// Sample standard deviation / √n.
    pub se: f64,
    /// Number of estimates.
    pub n: usize,
}

/// The mean and standard error of independent estimates (at least two).
pub fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    assert!(n >= 2, "a standard error needs at least two replications");
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate {
        mean,
        se: (var / n as f64).sqrt(),
        n,
    }
}

/// Asserts that the replications' mean of `values` is within `K_SE` standard errors plus
/// `bias` (absolute) of `expected`, and that this tolerance is at most `max_rel` × |expected|
/// (so that the check has the power to catch a real deviation).
pub fn assert_matches(what: &str, values: &[f64], expected: f64, bias: f64, max_rel: f64) {
    let e = estimate(values);
    let tol = K_SE * e.se + bias;
    let dev = e.mean - expected;
    assert!(
        tol <= max_rel * expected.abs(),
        "{what}: tolerance {tol:.3e} (se {:.3e}, bias {bias:.1e}) exceeds {max_rel} × {expected}: \
         the test lacks samples to mean anything",
        e.se
    );
    assert!(
        dev.abs() <= tol,
        "{what}: simulated {:.6} ± {:.6} (s.e., {} replications) vs theory {expected:.6}: \
         off by {dev:+.6} = {:.1} s.e., tolerance {tol:.6}",
        e.mean,
        e.se,
        e.n,
        dev / e.se
    );
}

/// Asserts `|a − b| ≤ 1e-9·max(1, |b|)`: equality up to float rounding of exact quantities.
pub fn assert_exact(what: &str, a: f64, b: f64) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: {a} != {b}"
    );
}

/// Asserts that `report` loads back from its JSON, as `microsim chart` loads it: JSON →
/// `Report` → JSON is byte-identical, and the charts and the HTML page drawn from the loaded
/// report are byte for byte those of the original. Returns the JSON.
#[track_caller]
pub fn assert_loads_back(report: &Report, what: &str) -> String {
    let json = report.to_json();
    let back = Report::from_json(&json)
        .unwrap_or_else(|e| panic!("{what}: the report does not load back: {e}\n{json}"));
    assert!(
        back.to_json() == json,
        "{what}: JSON → Report → JSON differs"
    );
    let (charts, again) = (
        microsim::chart::render_all(report),
        microsim::chart::render_all(&back),
    );
    assert_eq!(charts.len(), again.len(), "{what}: charts");
    for (a, b) in charts.iter().zip(&again) {
        assert!(
            a.file == b.file && a.svg == b.svg,
            "{what}: {} differs when drawn from the loaded report",
            a.file
        );
    }
    assert!(
        microsim::render::render_html(report, &charts)
            == microsim::render::render_html(&back, &again),
        "{what}: index.html differs when drawn from the loaded report"
    );
    json
}
