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
//! ## Teaching with microsim
//! A lesson is an experiment a student can rerun and change: build a topology, run it, repeat
//! it with other seeds, compare it with a variant, sweep a parameter. Each step below is a few
//! lines, and each checks its number against theory, as a lesson's "check" cell would.
//! `examples/` holds four programs to assign as they are (`cargo run --example
//! availability_chain`, `hockey_stick`, `retries_vs_budget`, `sync_vs_async`), and
//! `topologies/checkout.ron` a cascade with the fixes that work and one that does not.
//!
//! **Build a topology** in Rust with the [`builder`] (or load a file with [`load`]): the same
//! spec, the same checks, the same defaults.
//! ```
//! use microsim::builder::{Call, Entry, Exp, Poisson, Service, Topology};
//!
//! let shop = Topology::new("shop")
//!     .duration("60s")
//!     .warmup("5s")
//!     .entry(Entry::service("users", "api", Poisson::per_second(100)))
//!     .service("api", Service::new().workers(4).work(Exp::mean_ms(5)).errors(0.01)
//!         .call("db", Call::new().timeout_ms(500)))
//!     .service("db", Service::new().workers(4).work(Exp::mean_ms(10)).errors(0.02));
//! let model = shop.build()?;
//! // The analytic shadow: both must answer, 0.99 × 0.98.
//! assert!((model.analyze().entries[0].availability - 0.9702).abs() < 1e-9);
//! // A bad value is refused as it would be in a file, at its path.
//! let e = shop.clone().service("cache", Service::new().workers(0)).build().unwrap_err();
//! assert!(e.to_string().contains("services[cache].workers: workers must be at least 1"));
//! # Ok::<(), microsim::LoadError>(())
//! ```
//!
//! **Run it** once; a report holds every entry point, service, call, topic and queue.
//! ```
//! # use microsim::builder::*;
//! # let model = Topology::new("shop").duration("60s").warmup("5s")
//! #     .entry(Entry::service("users", "api", Poisson::per_second(100)))
//! #     .service("api", Service::new().workers(4).work(Exp::mean_ms(5)).errors(0.01)
//! #         .call("db", Call::new().timeout_ms(500)))
//! #     .service("db", Service::new().workers(4).work(Exp::mean_ms(10)).errors(0.02))
//! #     .build()?;
//! let report = model.run(&microsim::RunOptions::default())?;
//! let users = report.entry("users").unwrap();
//! // 5,500 requests: the binomial standard error is about 0.0023.
//! assert!((users.availability - 0.9702).abs() < 5.0 * users.availability_se);
//! // db is an M/M/4 at ρ = 100/s × 10 ms / 4 = 0.25: its utilization says so.
//! let db = report.service("db").unwrap();
//! assert!((db.utilization - 0.25).abs() < 0.02);
//! let call = report.call("api", "db").unwrap();
//! assert_eq!(call.calls, call.outcomes.total() + call.in_flight);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Change it** through the same checks. A model is immutable: methods read it
//! (`model.service("db")`, `model.calls()`, `model.run_config()`), and
//! [`Model::with_overrides`] makes a new model from `PATH=VALUE` edits — the paths of the error
//! messages, of `variants:` and of the experiment layer. A bad value is refused with the
//! message the file would get, the edit in place of the line.
//! ```
//! # use microsim::builder::*;
//! # let model = Topology::new("shop").duration("60s").warmup("5s")
//! #     .entry(Entry::service("users", "api", Poisson::per_second(100)))
//! #     .service("api", Service::new().workers(4).work(Exp::mean_ms(5)).errors(0.01)
//! #         .call("db", Call::new().timeout_ms(500)))
//! #     .service("db", Service::new().workers(4).work(Exp::mean_ms(10)).errors(0.02))
//! #     .build()?;
//! assert_eq!(model.service("db").map(|db| db.workers), Some(4));
//! let reliable = model.with_overrides(&["services[db].errors=0".parse()?])?;
//! // Only api's 1 % is left.
//! assert!((reliable.analyze().entries[0].availability - 0.99).abs() < 1e-9);
//! let e = model.with_overrides(&["services[db].workers=0".parse()?]).unwrap_err();
//! assert!(e.to_string().contains(
//!     "shop (built) [services[db].workers=0]: services[db].workers: workers must be at least 1"
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Replications**: one run's requests are correlated, so its standard error is too
//! optimistic; independent replications give an honest interval ([`experiment`]).
//! ```
//! use microsim::builder::{Entry, Exp, Poisson, Service, Topology};
//! use microsim::experiment::{run, Arm, Plan};
//!
//! // M/M/1 at ρ = 0.5: W = 1 / (μ − λ) = 1 / (1000/s − 500/s) = 2 ms.
//! let mm1 = Topology::new("mm1").duration("20s").warmup("2s")
//!     .entry(Entry::service("main", "s", Poisson::per_second(500)))
//!     .service("s", Service::new().work(Exp::mean_ms(1)))
//!     .build()?;
//! let plan = Plan { arms: vec![Arm { name: "mm1".into(), model: mm1 }], axes: vec![],
//!     reps: 8, master_seed: 1, options: Default::default(), targets: vec![],
//!     recovery: Default::default() };
//! let w = run(&plan)?.cells[0].metric("entries[main].latency.mean_ms").unwrap().clone();
//! let se = w.sd / (w.n as f64).sqrt();
//! // Within 5 standard errors (t, 7 degrees of freedom: a 1-in-600 miss), which are
//! // under 15 % of W.
//! assert!((w.mean - 2.0).abs() < 5.0 * se && 5.0 * se < 0.3, "{} ± {se}", w.mean);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Compare variants**: a variant is the topology with `PATH=VALUE` edits, validated like a
//! file; arms share their seeds, so the difference is measured replication by replication.
//! ```
//! use microsim::builder::{Entry, Exp, Poisson, Service, Topology};
//! use microsim::experiment::{run, Arm, Plan};
//!
//! let model = Topology::new("pool").duration("20s").warmup("2s")
//!     .entry(Entry::service("main", "s", Poisson::per_second(800)))
//!     .service("s", Service::new().work(Exp::mean_ms(1)))
//!     .variant("two-workers", ["services[s].workers=2"])
//!     .build()?;
//! let two = model.variant("two-workers")?;
//! let plan = Plan { arms: vec![Arm { name: "one".into(), model },
//!                             Arm { name: "two".into(), model: two }],
//!     axes: vec![], reps: 6, master_seed: 1, options: Default::default(), targets: vec![],
//!     recovery: Default::default() };
//! let result = run(&plan)?;
//! let row = result.comparisons[0].rows.iter()
//!     .find(|r| r.metric == "entries[main].latency.mean_ms").unwrap();
//! // M/M/1 at ρ = 0.8 takes 5 ms in all; M/M/2 at ρ = 0.4, 1.19 ms (Erlang C): −3.81 ms,
//! // within two half-widths of the paired 95 % interval (t, 5 degrees of freedom: a
//! // 1-in-200 miss), which is narrow enough to tell.
//! let h = row.difference.half_width().unwrap();
//! assert!(row.significant && h < 0.5, "{row:?}");
//! assert!((row.difference.mean + 3.81).abs() < 2.0 * h, "{row:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Sweep** a parameter and find the knee of a target.
//! ```
//! use microsim::builder::{Entry, Exp, Poisson, Service, Topology};
//! use microsim::experiment::{run, Arm, Axis, Plan, Target};
//!
//! let mm1 = Topology::new("mm1").duration("20s").warmup("2s")
//!     .entry(Entry::service("main", "s", Poisson::per_second(100)))
//!     .service("s", Service::new().work(Exp::mean_ms(1)))
//!     .build()?;
//! let plan = Plan { arms: vec![Arm { name: "mm1".into(), model: mm1 }],
//!     axes: vec![Axis::parse("workload[main].arrivals.per_second=500..900:100")?],
//!     reps: 4, master_seed: 1, options: Default::default(),
//!     targets: vec![Target::parse("mean<=4ms")?], recovery: Default::default() };
//! let knee = &run(&plan)?.knees[0];
//! // W = 1 / (μ − λ) passes 4 ms at λ = 750/s: it holds at 700 (3.3 ms), breaks at 800 (5 ms).
//! assert_eq!((knee.last_holds.as_deref(), knee.breaks_at.as_deref()), (Some("700"), Some("800")));
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
//! Text (or the [`builder`]) → [`spec`] (serde mirror of the file) → [`Model`] (validated;
//! every problem reported at once, each with its path and line) → [`analysis`] (closed-form
//! predictions and lints) and [`engine`] (the simulation) → [`Report`] (serde; JSON, terminal
//! summary).
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
//! 5. **File format** — [`spec`] the topology file as written (serde types), how it is read
//!    and written back · [`builder`] the same spec built in Rust, with the format's defaults.
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
pub mod builder;
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
        Ok(Report::new(
            engine::run(self, options)?,
            self.analyze_for(options),
        ))
    }

    /// The analytic shadow and lints, without simulating, over the file's run window.
    pub fn analyze(&self) -> analysis::Analysis {
        analysis::analyze(self)
    }

    /// The analytic shadow over the window a run with `options` measures: a `duration` or
    /// `warmup` given as an option moves the window, and with it the phases of the fault
    /// timeline the shadow averages over (a fault after the shortened run's end does not
    /// count). Options that do not hold give the file's window (the run refuses them anyway).
    pub fn analyze_for(&self, options: &RunOptions) -> analysis::Analysis {
        match options.resolve(self) {
            Ok(run) if run.warmup != self.run.warmup || run.duration != self.run.duration => {
                let mut windowed = self.clone();
                windowed.run = run;
                analysis::analyze(&windowed)
            }
            _ => self.analyze(),
        }
    }
}

/// Runs `model` once and also returns every answered entry-point request in time order.
/// Memory grows with the number of requests: meant for tests and small models.
pub fn run_traced(
    model: &Model,
    options: &RunOptions,
) -> Result<(Report, Vec<engine::TraceRecord>), RunError> {
    let (m, trace) = engine::run_traced(model, options)?;
    Ok((Report::new(m, model.analyze_for(options)), trace))
}

/// Runs `model` once per seed, in parallel on rayon's thread pool. Each run is independent
/// and deterministic, so the reports are the same whatever the number of threads.
pub fn run_seeds(
    model: &Model,
    options: &RunOptions,
    seeds: &[u64],
) -> Vec<Result<Report, RunError>> {
    use rayon::prelude::*;
    let analysis = model.analyze_for(options);
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
