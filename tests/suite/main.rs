//! The integration suite, one module per area (a table of contents of what is checked).

/// Shared helpers: loading bundled topologies, tolerances from sample sizes.
mod common;

/// Availability: the product of a chain of sync calls, simulated vs analytic.
mod availability;
/// The broker: topics, consumer groups, lag and retention.
mod broker;
/// SVG charts drawn from reports: they parse, render, and show the report's numbers.
mod charts;
/// The command line, run as a user would.
mod cli;
/// The cluster scripts: the Slurm array script's shards merged, Slurm and Kubernetes agreeing.
mod cluster;
/// `topologies/comparison.ron`: every claim of its header, checked by the experiment it names.
mod comparison;
/// Deadline propagation and cancellation: orphaned work with and without.
mod deadlines;
/// Same seed → byte-identical report; different seed → different; any thread count.
mod determinism;
/// The topology diagram: layered layout, no overlaps, on bundled and generated topologies.
mod diagram;
/// Bad input: one test per error message.
mod errors;
/// The example programs: each lesson's printed result checked against theory.
mod examples;
/// The charts and HTML page of experiments: drawn, true to the result, escaped.
mod experiment_charts;
/// The experiment commands (`run --reps`, `compare`, `sweep`, `--shard`, `merge`) as a user
/// runs them.
mod experiment_cli;
/// The claims of docs/experiments.md no other test checks: one run's standard error, Ctrl-C,
/// the progress bar.
mod experiment_docs;
/// Experiments: interval coverage, exact merges of shards and threads, common random
/// numbers, knees and recovery.
mod experiments;
/// Faults and failure processes end to end.
mod faults;
/// The format reference (docs/format.md) against the parser.
mod format_doc;
/// Structure-aware fuzzing of the bundled topologies: no panic, every error placed, every
/// report readable again.
mod fuzz;
/// The self-contained HTML report, rendered in headless Chromium.
mod html;
/// Little's law and conservation of requests on every bundled topology.
mod invariants;
/// The crate's layers: no module imports from a layer above its own, no import circles.
mod layers;
/// Every lesson true: each claim of a bundled topology's header, checked by running it.
mod lessons;
/// The library as a teacher uses it: RON written back, the builder, validated edits, report
/// accessors, the example programs.
mod library;
/// Extreme but valid models cost what they report: histograms and time series.
mod limits;
/// Overrides (`PATH=VALUE`) and a file's named variants: every path form, every mistake.
mod overrides;
/// Resilience policies end to end: retries, budgets, breakers, bulkheads, fallbacks.
mod policies;
/// Queueing theory: M/M/1, M/M/c (Erlang C), M/M/c/K, Erlang B, M/D/1 against closed forms.
mod queueing;
/// Work queues: M/M/c stations, the M2 and M3 networks, redelivery and dead-lettering.
mod queues;
/// Runs that never returned (issue 10): zero-time loops stopped by the Zeno guard with a
/// message naming what went round, back-pressured consumers, replicas that start down, idle
/// commit timers; and the busiest instant of every bundled topology far below the guard.
mod reliability;
/// Resilience effects of the bundled topologies: cascade, retry storm, breaker, availability.
mod resilience;
/// Thread-per-request versus non-blocking (event-loop) servers.
mod servers;
/// The analytic shadow: peaks, fault phases, GI/M/c, fan-outs, timeouts, waits, networks.
mod shadow;
/// The terminal summary: true, labelled, within 100 columns.
mod summary;
/// Every bundled topology passes `check` and runs.
mod topologies;
/// Exact event traces on tiny deterministic models (Const distributions).
mod trace;
