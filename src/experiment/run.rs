//! Running the jobs of one shard in parallel, keeping only what the merge needs.
//!
//! Each job is one run of one cell. As a job ends, its report is reduced to a [`RunRecord`]
//! (the report's scalars, see [`super::metrics`], and the recovery of each entry point) and
//! its entry points' latency histograms and per-bucket answers are added to its cell's
//! totals; the report itself is dropped. Memory therefore grows with cells and replications
//! by a few kilobytes each, never with the length of a run. Records are put in replication
//! order and histograms merge exactly, so the result is the same whatever the number of
//! threads and whatever order the jobs finish in.

use super::metrics::scalars;
use super::plan::{Axis, Cell, Plan, Shard};
use super::recovery::{recoveries, Recovery, RecoverySpec};
use crate::engine::RunOptions;
use crate::error::{LoadError, RunError};
use crate::metrics::compact::CompactHistogram;
use crate::metrics::LatencyHistogram;
use crate::report::Report;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Version of the layout of shard files and results.
pub const EXPERIMENT_SCHEMA: u32 = 1;

/// What identifies an experiment: shards of one experiment agree on all of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The base topology's name.
    pub topology: String,
    /// The arms, the baseline first.
    pub arms: Vec<String>,
    /// Sweep axes: path and values.
    pub axes: Vec<AxisRecord>,
    /// Replications per cell.
    pub reps: u32,
    /// The seed replication seeds derive from.
    pub master_seed: u64,
    /// Simulated time per run \[s\] (the first arm's when the command line gave none).
    pub duration_s: Option<f64>,
    /// Warm-up per run \[s\] (the first arm's when the command line gave none).
    pub warmup_s: Option<f64>,
    /// Whether runs were drained.
    pub drain: bool,
    /// How recovery was measured.
    pub recovery: RecoveryRecord,
    /// Targets whose knees the result marks, as written.
    pub targets: Vec<String>,
}

/// A sweep axis as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisRecord {
    /// The path.
    pub path: String,
    /// Its values, as RON text.
    pub values: Vec<String>,
}

/// A [`RecoverySpec`] as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryRecord {
    /// Availability threshold.
    pub threshold: f64,
    /// Measured from this instant \[s\], else the end of the last fault.
    pub from_s: Option<f64>,
    /// Buckets that must show recovery at the end of a run.
    pub hold: u32,
}

impl From<RecoverySpec> for RecoveryRecord {
    fn from(s: RecoverySpec) -> Self {
        RecoveryRecord {
            threshold: s.threshold,
            from_s: s.from_s,
            hold: s.hold as u32,
        }
    }
}

impl From<RecoveryRecord> for RecoverySpec {
    fn from(r: RecoveryRecord) -> Self {
        RecoverySpec {
            threshold: r.threshold,
            from_s: r.from_s,
            hold: r.hold as usize,
        }
    }
}

impl Header {
    /// The header of `plan`.
    pub fn of(plan: &Plan) -> Header {
        Header {
            topology: plan
                .arms
                .first()
                .map(|a| a.model.name.clone())
                .unwrap_or_default(),
            arms: plan.arms.iter().map(|a| a.name.clone()).collect(),
            axes: plan
                .axes
                .iter()
                .map(|Axis { path, values }| AxisRecord {
                    path: path.clone(),
                    values: values.clone(),
                })
                .collect(),
            reps: plan.reps,
            master_seed: plan.master_seed,
            duration_s: plan
                .options
                .duration
                .or_else(|| plan.arms.first().map(|a| a.model.run.duration))
                .map(|d| d.as_secs_f64()),
            warmup_s: plan
                .options
                .warmup
                .or_else(|| plan.arms.first().map(|a| a.model.run.warmup))
                .map(|d| d.as_secs_f64()),
            drain: plan.options.drain,
            recovery: plan.recovery.into(),
            targets: plan.targets.iter().map(|t| t.text.clone()).collect(),
        }
    }
}

/// One replication of one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Replication index, 0-based.
    pub rep: u32,
    /// The seed it ran with.
    pub seed: u64,
    /// The report's scalars, in the order of the cell's metric names (NaN where absent).
    pub values: Vec<f64>,
    /// Per entry point: seconds to recover after the fault, infinity when it did not,
    /// `None` when there was nothing to measure.
    pub recovery: Vec<Option<f64>>,
    /// Why the run stopped early, if it did (its values are then empty).
    pub error: Option<String>,
}

/// Answers of one entry point per time-series bucket, summed over replications.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerSums {
    /// Entry point name.
    pub entry: String,
    /// Answered ok or degraded, per bucket.
    pub ok: Vec<u64>,
    /// Answered at all, per bucket.
    pub answered: Vec<u64>,
}

/// What one shard holds of one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellPartial {
    /// The arm's index.
    pub arm: u32,
    /// The index of each axis's value.
    pub point: Vec<u32>,
    /// Names of the scalars of its runs (empty when none of them ended).
    pub metrics: Vec<String>,
    /// Its runs in this shard, in replication order.
    pub runs: Vec<RunRecord>,
    /// Entry points' latency histograms, merged over the runs that ended.
    pub latency: Vec<(String, CompactHistogram)>,
    /// Width of the time-series buckets \[s\].
    pub bucket_s: f64,
    /// Entry points' answers per bucket, summed over the runs that ended.
    pub answers: Vec<AnswerSums>,
}

/// What one shard computed: everything a merge needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// [`EXPERIMENT_SCHEMA`].
    pub schema: u32,
    /// The experiment.
    pub header: Header,
    /// Which shard: `[index, count]`.
    pub shard: [u32; 2],
    /// Every cell, with its runs in this shard.
    pub cells: Vec<CellPartial>,
}

/// Why an experiment could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// An arm at a sweep point is not a valid topology.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Interrupted (Ctrl-C) after `done` of `total` runs of this shard.
    #[error("interrupted: {done} of {total} runs had finished; nothing was written")]
    Interrupted {
        /// Runs finished.
        done: u64,
        /// Runs of the shard.
        total: u64,
    },
    /// The options of the runs are not valid (e.g. a warm-up longer than the run).
    #[error(transparent)]
    Run(RunError),
    /// Shard files that do not belong together, or a malformed file.
    #[error("{0}")]
    Merge(String),
}

/// How the caller follows the work: called after each run with (runs done, runs in all);
/// `stop` is read before each run starts.
pub struct Watch<'a> {
    /// Called as runs finish (from worker threads).
    pub done: &'a (dyn Fn(u64, u64) + Sync),
    /// Set to stop: runs not started are skipped and the call ends with
    /// [`ExperimentError::Interrupted`].
    pub stop: &'a AtomicBool,
}

/// Running totals of one cell.
#[derive(Default)]
struct CellAcc {
    metrics: Vec<String>,
    /// The rep whose names `metrics` are (the lowest that ended, for determinism).
    metrics_rep: Option<u32>,
    runs: Vec<RunRecord>,
    latency: Vec<(String, LatencyHistogram)>,
    bucket_s: f64,
    answers: Vec<AnswerSums>,
}

/// What one run leaves for its cell: its record, the names of its scalars, its entry
/// points' latency histograms and answers per bucket. Computed from the report outside the
/// cell's lock (turning a report into scalars serialises it), so that threads ending runs of
/// the same cell wait on each other only to file the digest.
struct RunDigest {
    record: RunRecord,
    /// The scalars' names (empty when the run stopped early).
    names: Vec<String>,
    latency: Vec<(String, LatencyHistogram)>,
    bucket_s: f64,
    answers: Vec<AnswerSums>,
}

/// The digest of replication `rep`'s report; the report is dropped.
fn digest(rep: u32, seed: u64, report: Result<Report, RunError>, spec: &RecoverySpec) -> RunDigest {
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            return RunDigest {
                record: RunRecord {
                    rep,
                    seed,
                    values: Vec::new(),
                    recovery: Vec::new(),
                    error: Some(e.to_string()),
                },
                names: Vec::new(),
                latency: Vec::new(),
                bucket_s: 0.0,
                answers: Vec::new(),
            };
        }
    };
    let (names, values): (Vec<String>, Vec<f64>) = scalars(&report).into_iter().unzip();
    let recovery = recoveries(&report, spec)
        .into_iter()
        .map(|r| {
            r.map(|r| match r {
                Recovery::Recovered(s) => s,
                Recovery::Collapsed => f64::INFINITY,
            })
        })
        .collect();
    let latency = report
        .entries
        .iter()
        .filter_map(|e| Some((e.name.clone(), e.latency_histogram.histogram().ok()?)))
        .collect();
    let answers = report
        .series
        .entries
        .iter()
        .map(|s| {
            let n = s.ok.len();
            let mut a = AnswerSums {
                entry: s.name.clone(),
                ok: vec![0; n],
                answered: vec![0; n],
            };
            for b in 0..n {
                let ok = s.ok[b] + s.degraded[b];
                a.ok[b] = ok;
                a.answered[b] = ok
                    + s.error[b]
                    + s.timeout[b]
                    + s.rejected[b]
                    + s.circuit_open[b]
                    + s.unavailable[b];
            }
            a
        })
        .collect();
    RunDigest {
        record: RunRecord {
            rep,
            seed,
            values,
            recovery,
            error: None,
        },
        names,
        latency,
        bucket_s: report.series.bucket_s,
        answers,
    }
}

impl CellAcc {
    /// Files one run's digest: integer sums and histogram merges, which do not depend on the
    /// order runs end in.
    fn add(&mut self, d: RunDigest) {
        let rep = d.record.rep;
        let ended = d.record.error.is_none();
        self.runs.push(d.record);
        if !ended {
            return;
        }
        if self.metrics_rep.is_none_or(|r| rep < r) {
            self.metrics = d.names;
            self.metrics_rep = Some(rep);
        }
        for (name, h) in d.latency {
            match self.latency.iter_mut().find(|(n, _)| *n == name) {
                Some((_, acc)) => acc.merge(&h),
                None => self.latency.push((name, h)),
            }
        }
        self.bucket_s = d.bucket_s;
        for s in d.answers {
            match self.answers.iter_mut().find(|a| a.entry == s.entry) {
                Some(a) => {
                    let n = s.ok.len();
                    a.ok.resize(a.ok.len().max(n), 0);
                    a.answered.resize(a.answered.len().max(n), 0);
                    for b in 0..n {
                        a.ok[b] += s.ok[b];
                        a.answered[b] += s.answered[b];
                    }
                }
                None => self.answers.push(s),
            }
        }
    }

    fn finish(mut self, cell: &Cell) -> CellPartial {
        self.runs.sort_by_key(|r| r.rep);
        CellPartial {
            arm: cell.arm as u32,
            point: cell.point.iter().map(|&p| p as u32).collect(),
            metrics: self.metrics,
            runs: self.runs,
            latency: self
                .latency
                .iter()
                .map(|(n, h)| (n.clone(), CompactHistogram::of(h)))
                .collect(),
            bucket_s: self.bucket_s,
            answers: self.answers,
        }
    }
}

/// Runs the jobs of `shard` on `threads` threads (0: as many as rayon's default) and keeps
/// what their merge needs.
pub fn run_shard(
    plan: &Plan,
    shard: Shard,
    threads: usize,
    watch: &Watch<'_>,
) -> Result<Partial, ExperimentError> {
    use rayon::prelude::*;
    let cells = plan.cells()?;
    if cells.is_empty() {
        return Err(ExperimentError::Merge(
            "an experiment needs at least one arm".into(),
        ));
    }
    let recovery = plan.recovery;
    // Bad run options fail every run of a cell the same way: say so once, before any work
    // (each cell's model is checked, since a variant may have a run setting of its own).
    for cell in &cells {
        plan.options
            .resolve(&cell.model)
            .map_err(ExperimentError::Run)?;
    }
    let reps = u64::from(plan.reps.max(1));
    let jobs: Vec<u64> = (0..plan.jobs()).filter(|&j| shard.has(j)).collect();
    let total = jobs.len() as u64;
    let analyses: Vec<_> = cells
        .iter()
        .map(|c| c.model.analyze_for(&plan.options))
        .collect();
    let accs: Vec<Mutex<CellAcc>> = cells
        .iter()
        .map(|_| Mutex::new(CellAcc::default()))
        .collect();
    let done = AtomicU64::new(0);
    let work = || {
        jobs.par_iter().for_each(|&job| {
            if watch.stop.load(Ordering::Relaxed) {
                return;
            }
            let (c, rep) = ((job / reps) as usize, (job % reps) as u32);
            let seed = plan.seed(rep);
            let options = RunOptions {
                seed: Some(seed),
                ..plan.options.clone()
            };
            let report = crate::engine::run(&cells[c].model, &options)
                .map(|m| Report::new(m, analyses[c].clone()));
            let d = digest(rep, seed, report, &recovery);
            if let Ok(mut acc) = accs[c].lock() {
                acc.add(d);
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            (watch.done)(n, total);
        })
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
    let finished = done.load(Ordering::Relaxed);
    if finished < total {
        return Err(ExperimentError::Interrupted {
            done: finished,
            total,
        });
    }
    Ok(Partial {
        schema: EXPERIMENT_SCHEMA,
        header: Header::of(plan),
        shard: [shard.index, shard.count],
        cells: accs
            .into_iter()
            .zip(&cells)
            .map(|(acc, cell)| acc.into_inner().unwrap_or_default().finish(cell))
            .collect(),
    })
}
