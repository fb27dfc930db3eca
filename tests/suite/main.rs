//! The integration suite, one module per area (a table of contents of what is checked).

/// Shared helpers: loading bundled topologies, tolerances from sample sizes.
mod common;

/// Queueing theory: M/M/1, M/M/c (Erlang C), M/M/c/K, Erlang B, M/D/1 against closed forms.
mod queueing;
/// Availability: the product of a chain of sync calls, simulated vs analytic.
mod availability;
/// Little's law and conservation of requests on every bundled topology.
mod invariants;
/// Exact event traces on tiny deterministic models (Const distributions).
mod trace;
/// Same seed → byte-identical report; different seed → different; any thread count.
mod determinism;
/// Every bundled topology passes `check` and runs.
mod topologies;
/// Bad input: one test per error message.
mod errors;
/// The command line, run as a user would.
mod cli;
/// The format reference (docs/format.md) against the parser.
mod format_doc;
