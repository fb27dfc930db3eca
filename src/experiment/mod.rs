//! Experiments: replications with honest confidence intervals, comparisons of variants with
//! common random numbers, sweeps with their knees, recovery and collapse — on one core, many,
//! or the shards of a cluster job.
//!
//! # What an experiment is
//! A [`Plan`] has *arms* (variants of a topology, or topologies of their own), optional sweep
//! *axes* (a path and its values), and a number of *replications*. Every arm at every sweep
//! point is a *cell*, run `reps` times with the seeds of [`seeds`]: the same seeds in every
//! cell, so arms and points share their random numbers.
//!
//! # What it reports
//! * Every scalar of the report ([`metrics`]) per cell: mean, standard deviation and the
//!   95 % Student-t interval **across replications** ([`crate::stats`]). Requests inside one
//!   run are correlated; independent replications are not, so this interval is honest where
//!   the binomial formula on one run's requests is several times too narrow.
//! * Latency percentiles of the pooled replications, read from the merge of their
//!   histograms, not from the mean of their percentiles.
//! * Comparisons: each arm against the first, replication by replication (a paired
//!   difference), with the interval and a plain verdict; the unpaired interval beside it
//!   shows what pairing bought.
//! * Sweeps: each point's estimates, and for targets (`availability>=0.999`, `p99<=200ms`)
//!   the knee: the first point along the first axis where the target breaks.
//! * Recovery after the last fault, per replication, and the fraction that collapsed
//!   ([`recovery`]).
//!
//! # One core, many, or a cluster
//! [`run_shard`] runs the jobs of a [`Shard`] (all of them by default) on rayon's threads;
//! the result does not depend on the number of threads. [`ExperimentResult::merge`] turns the
//! shards' [`Partial`]s into the result, byte for byte the one an unsharded run gives.
//!
//! ```
//! use microsim::experiment::{run, Arm, Plan};
//! let model = microsim::parse(r#"Topology(
//!     run: (duration: "20s", warmup: "2s"),
//!     workload: [(name: "main", entry: "s", arrivals: Poisson(per_second: 500))],
//!     services: { "s": (work: Exp(mean: "1ms")) },
//! )"#, "mm1")?;
//! let plan = Plan {
//!     arms: vec![Arm { name: "base".into(), model }],
//!     axes: vec![],
//!     reps: 8,
//!     master_seed: 1,
//!     options: Default::default(),
//!     targets: vec![],
//!     recovery: Default::default(),
//! };
//! let result = run(&plan)?;
//! let w = result.cells[0].metric("entries[main].latency.mean_ms").unwrap();
//! // M/M/1 at ρ = 0.5: W = 1/(μ − λ) = 2 ms.
//! let [lo, hi] = w.ci.unwrap();
//! assert!(lo < 2.0 && 2.0 < hi, "{lo}..{hi}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod metrics;
mod plan;
pub mod recovery;
mod result;
mod run;
pub mod seeds;
mod target;

pub use plan::{Arm, Axis, Cell, Plan, Shard, SHARD_INDEX_VARS};
pub use recovery::RecoverySpec;
pub use result::{
    from_json, number, short_name, to_json, verdict, CellResult, Comparison, ComparisonRow,
    ExperimentResult, Knee, MetricSummary, PooledLatency, PooledTimeline, RecoverySummary,
};
pub use run::{
    run_shard, AnswerSums, AxisRecord, CellPartial, ExperimentError, Header, Partial,
    RecoveryRecord, RunRecord, Watch, EXPERIMENT_SCHEMA,
};
pub use target::Target;

use std::sync::atomic::AtomicBool;

/// Runs the whole of `plan` on rayon's default threads and returns its result.
pub fn run(plan: &Plan) -> Result<ExperimentResult, ExperimentError> {
    let stop = AtomicBool::new(false);
    let watch = Watch {
        done: &|_, _| {},
        stop: &stop,
    };
    let partial = run_shard(plan, Shard::ALL, 0, &watch)?;
    ExperimentResult::merge(&[partial])
}
