//! # microsim
//!
//! An in-process discrete-event simulator of microservice topologies. A topology file (RON)
//! describes services with replicas, worker pools, queues and service-time distributions, the
//! synchronous calls between them, and the workload. microsim runs it on a virtual clock —
//! hours of traffic in seconds — and reports availability (beside the analytic availability
//! product), latency percentiles, utilization, rejections, timeouts and orphaned work.
//!
//! ## Quick start
//! ```
//! // Five services in a chain, each failing 1% of requests: 0.99^5 ≈ 0.951.
//! let model = microsim::parse(r#"
//!     Topology(
//!         run: (duration: "200s", seed: 42),
//!         workload: [(name: "main", entry: "a", arrivals: Poisson(per_second: 200))],
//!         services: {
//!             "a": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "b")]),
//!             "b": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "c")]),
//!             "c": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "d")]),
//!             "d": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "e")]),
//!             "e": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01),
//!         },
//!     )"#, "<doc>")?;
//! let report = model.run(&microsim::RunOptions::default())?;
//! let main = report.entry("main").unwrap();
//! assert!((report.analysis.entries[0].availability - 0.95099).abs() < 1e-4);
//! // 40,000 requests: the standard error of the availability is about 0.0011.
//! assert!((main.availability - 0.951).abs() < 5.0 * main.availability_se);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Concepts
//! * A **service** has `replicas`, each with a pool of `workers` and a bounded `queue`. A request
//!   that finds every worker busy waits; one that finds the queue full is *rejected*.
//! * A request runs the service's **steps**: local `Work`, a sync `Call` to another service,
//!   `Parallel` branches that all must finish, or a weighted `Choice` of one branch.
//! * A **sync call holds the caller's worker** until the answer or the caller's timeout. When
//!   the caller times out, the callee keeps working: *orphaned work*.
//! * A call can carry **resilience policies**, wrapped as Spring's resilience4j does:
//!   Retry(CircuitBreaker(Bulkhead(call with timeout))) — retries with backoff and jitter, a
//!   retry budget, a circuit breaker per caller replica, a bulkhead, a fallback, deadline
//!   propagation and cancellation ([`call`] holds the state machines).
//! * **Faults** ([`model::faults`]) on a timeline — crash, hang, slowdown, error burst, partition,
//!   latency — and per-replica failure/repair processes (MTTF/MTTR).
//! * A service may be **non-blocking** (an event loop): its workers are held only for local
//!   work, and its in-flight requests are bounded instead.
//! * Every request ends in exactly one [`Outcome`]: ok, error, timeout, rejected,
//!   circuit-open, unavailable or degraded (or is still in flight when the run ends).
//!
//! ## Lifecycle
//! Text → [`spec`] (serde mirror of the file) → [`Model`] (validated; every problem reported
//! at once, each with its path and line) → [`analysis`] (closed-form predictions and lints)
//! and [`engine`] (the simulation) → [`Report`] (serde; JSON, terminal summary).
//!
//! ## Time and determinism
//! Virtual time is integer nanoseconds. Events at the same instant run in the order they were
//! scheduled. Each random stream is derived from the seed and the stable name of what draws
//! from it (a service by its name, a call or publish step by its path in the file such as
//! `services[gateway].steps[1]`, a fault by its place in the timeline), with a portable
//! generator, so the same model and seed give a byte-identical report on every machine, run
//! after run and whatever the thread count of [`run_seeds`]. It also gives *common random
//! numbers*: adding or changing one part of a topology (a service, a call, a fault) leaves the
//! draws of every other part as they were, so the request-level results of the services the
//! change cannot reach are byte-identical, and an A/B comparison compares the change, not the
//! luck of the draw. Faults draw from streams of their own, never from those of what they
//! disturb. See [`engine`] for the exact contract and the list of streams.
//!
//! ## Accuracy and validation
//! The test suite checks the engine against closed forms (M/M/1 mean and tail, M/M/c with
//! Erlang C, M/M/c/K blocking, Erlang B, M/D/1, Little's law on every bundled topology, the
//! availability product), with tolerances derived from the number of samples; see
//! `tests/suite/queueing.rs`.
//!
//! ## Errors and panics
//! Loading returns [`LoadError`]: every problem at once, unknown fields (with the closest
//! valid name) and validation problems together, each at its path and line; a syntax error
//! proper (an unbalanced bracket, invalid UTF-8) alone, at its line and column. Running
//! returns [`RunError`] (e.g. the in-flight cap of a runaway model, or the Zeno guard of a
//! model that loops without time advancing). Every run ends. No input makes the library
//! panic; it never prints.
//!
//! ## Modules
//! The crate is a stack of layers. A module uses modules of its own layer and of the layers
//! below it, never one above: the file format knows nothing of the engine, the engine
//! nothing of reports, reports nothing of how they are drawn. `tests/suite/layers.rs` holds
//! the code to this order. From the bottom up:
//!
//! 1. **Foundation** — [`time`] integer-nanosecond virtual time and durations · [`rng`]
//!    named random streams · [`outcome`] how a request ends · [`error`] load and run errors ·
//!    [`stats`] confidence intervals across replications.
//! 2. **Processes** — [`dist`] duration distributions · [`workload`] arrival processes ·
//!    [`failure`] failure and repair of replicas. Samplers, no file format.
//! 3. **Mechanisms** — [`call`] resilience state machines (breaker, budget, bulkhead,
//!    backoff) · [`broker`] partition logs, consumer groups, work queues. Engine-free.
//! 4. **Measurement** — [`metrics`] latency histograms, time averages, up-time, drain.
//! 5. **File format** — [`spec`] the topology file as written (serde types), and how it is
//!    read.
//! 6. **Model** — [`model`] validation and the compiled, immutable model.
//! 7. **Analysis** — [`analysis`] the analytic shadow and lints, from the model alone.
//! 8. **Engine** — [`engine`] the simulation: a domain-free kernel, the event handlers, and
//!    the observer whose measurements a run hands back.
//! 9. **Report** — [`report`] measurements and analysis together, as a stable JSON type.
//! 10. **Experiments** — [`experiment`] replications with confidence intervals, paired
//!     comparisons of variants, sweeps and their knees, recovery, shards and their merge.
//! 11. **Renderers** — [`chart`] SVG charts and the topology diagram · [`render`] the
//!     terminal summary, the `check` output, the HTML report, experiment tables.
//!
//! The crate root is the facade ([`load`], [`parse`], [`Model::run`]); the `microsim` binary
//! sits on top.

pub mod analysis;
pub mod broker;
pub mod call;
pub mod chart;
pub mod dist;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod failure;
pub mod metrics;
pub mod model;
pub mod outcome;
pub mod render;
pub mod report;
pub mod rng;
pub mod spec;
pub mod stats;
pub mod time;
pub mod workload;

pub use engine::{RunOptions, Simulation};
pub use error::{LoadError, Problem, RunError};
pub use model::Model;
pub use outcome::{Outcome, Outcomes};
pub use report::Report;

use std::path::Path;

/// The README's Rust examples, compiled and run as doc tests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Reads, validates and compiles the topology file at `path`.
///
/// The file must be UTF-8 (a leading byte-order mark is skipped); the first byte that is not
/// is reported at its line and column.
pub fn load(path: impl AsRef<Path>) -> Result<Model, LoadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    model::parse(model::decode(&bytes, &origin)?, &origin)
}

/// Validates and compiles topology `text`; `origin` names it in messages (a file path, or
/// something like `<string>`).
///
/// Every problem is reported at once, each at a line: unknown fields (with the closest valid
/// name) and validation problems together. Only a syntax error proper, such as an unbalanced
/// bracket, stops at the first one, since nothing after it can be read with confidence.
pub fn parse(text: &str, origin: &str) -> Result<Model, LoadError> {
    model::parse(text, origin)
}

impl Model {
    /// Simulates the model once; `options` override the file's run settings. The report
    /// holds what the run measured beside the model's analytic shadow.
    pub fn run(&self, options: &RunOptions) -> Result<Report, RunError> {
        Ok(Report::new(engine::run(self, options)?, self.analyze()))
    }

    /// The analytic shadow and lints, without simulating.
    pub fn analyze(&self) -> analysis::Analysis {
        analysis::analyze(self)
    }
}

/// Runs `model` once and also returns every answered entry-point request in time order.
/// Memory grows with the number of requests: meant for tests and small models.
pub fn run_traced(
    model: &Model,
    options: &RunOptions,
) -> Result<(Report, Vec<engine::TraceRecord>), RunError> {
    let (m, trace) = engine::run_traced(model, options)?;
    Ok((Report::new(m, model.analyze()), trace))
}

/// Runs `model` once per seed, in parallel on rayon's thread pool. Each run is independent
/// and deterministic, so the reports are the same whatever the number of threads.
pub fn run_seeds(
    model: &Model,
    options: &RunOptions,
    seeds: &[u64],
) -> Vec<Result<Report, RunError>> {
    use rayon::prelude::*;
    let analysis = model.analyze();
    seeds
        .par_iter()
        .map(|&seed| {
            let options = RunOptions {
                seed: Some(seed),
                ..options.clone()
            };
            engine::run(model, &options).map(|m| Report::new(m, analysis.clone()))
        })
        .collect()
}
