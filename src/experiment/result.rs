//! The result of an experiment: every cell's replications summarised with confidence
//! intervals, pooled latency, recovery, paired comparisons and the knees of sweeps.
//!
//! A result is computed from [`Partial`]s alone, by [`ExperimentResult::merge`]: from the
//! one partial of an unsharded run, or from the partials of all shards, which give exactly
//! the same result (runs are put in replication order, histograms and answer counts add
//! exactly), so its JSON is byte-identical either way.

use super::metrics::{comparison_metrics, higher_is_better};
use super::run::{
    AnswerSums, CellPartial, ExperimentError, Header, Partial, RunRecord, EXPERIMENT_SCHEMA,
};
use super::target::Target;
use crate::metrics::compact::CompactHistogram;
use crate::metrics::LatencySummary;
use crate::report::nonfinite;
use crate::stats::{paired_difference, unpaired_difference, wilson_interval, Estimate};
use serde::{Deserialize, Serialize};

/// A metric across replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The metric's name (see [`super::metrics`]).
    pub name: String,
    /// Replications with a value.
    pub n: u64,
    /// Mean across them.
    pub mean: f64,
    /// Standard deviation across them.
    pub sd: f64,
    /// The 95 % confidence interval of the mean (Student t, n − 1 degrees of freedom);
    /// `None` with fewer than two replications.
    pub ci: Option<[f64; 2]>,
}

impl MetricSummary {
    fn of(name: &str, e: Estimate) -> MetricSummary {
        MetricSummary {
            name: name.to_string(),
            n: e.n,
            mean: e.mean,
            sd: e.sd,
            ci: e.interval().map(|(lo, hi)| [lo, hi]),
        }
    }

    /// Half the width of the interval, if there is one.
    pub fn half_width(&self) -> Option<f64> {
        self.ci.map(|[lo, hi]| (hi - lo) / 2.0)
    }
}

/// Latency of an entry point over every replication of a cell: the percentiles of the
/// merged histogram (not the mean of the runs' percentiles).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PooledLatency {
    /// Entry point name.
    pub entry: String,
    /// Count, mean, percentiles and max of all the runs' answers together \[ms\].
    pub summary: LatencySummary,
    /// The merged histogram itself.
    pub histogram: CompactHistogram,
}

/// Recovery of an entry point over the replications of a cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoverySummary {
    /// Entry point name.
    pub entry: String,
    /// Replications where recovery was measured.
    pub measured: u64,
    /// Of those, the ones that did not recover by the end of the run.
    pub collapsed: u64,
    /// `collapsed / measured`.
    pub collapsed_fraction: f64,
    /// The 95 % Wilson interval of the probability of collapse.
    pub collapsed_ci: Option<[f64; 2]>,
    /// Time to recover of the replications that did \[s\].
    pub recovery_s: MetricSummary,
}

/// Availability per time-series bucket of an entry point, all replications pooled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PooledTimeline {
    /// Entry point name.
    pub entry: String,
    /// Answers ok or degraded, per bucket, summed over replications.
    pub ok: Vec<u64>,
    /// Answers, per bucket, summed over replications.
    pub answered: Vec<u64>,
}

/// One arm at one sweep point, over its replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The arm.
    pub arm: String,
    /// The value of each sweep axis (RON text), in axis order.
    pub point: Vec<String>,
    /// Replications that stopped early (their error is in `runs`).
    pub failed_runs: u64,
    /// Every metric, in the order of each run's `values`.
    pub metrics: Vec<MetricSummary>,
    /// Pooled latency per entry point.
    pub latency: Vec<PooledLatency>,
    /// Recovery per entry point (only where a fault, or `--recovery-from`, gives a start).
    pub recovery: Vec<RecoverySummary>,
    /// Width of the time-series buckets \[s\].
    pub bucket_s: f64,
    /// Availability over time per entry point, replications pooled.
    pub timeline: Vec<PooledTimeline>,
    /// The replications, in order.
    pub runs: Vec<RunRecord>,
}

impl CellResult {
    /// The summary of metric `name`.
    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Metric `name` in each replication, in replication order (NaN where a run has none).
    pub fn values(&self, name: &str) -> Vec<f64> {
        let Some(i) = self.metrics.iter().position(|m| m.name == name) else {
            return vec![f64::NAN; self.runs.len()];
        };
        self.runs
            .iter()
            .map(|r| r.values.get(i).copied().unwrap_or(f64::NAN))
            .collect()
    }

    /// The pooled latency of entry point `entry`.
    pub fn pooled(&self, entry: &str) -> Option<&LatencySummary> {
        self.latency
            .iter()
            .find(|l| l.entry == entry)
            .map(|l| &l.summary)
    }
}

/// One metric of a paired comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// The metric.
    pub metric: String,
    /// Its mean in the baseline.
    pub baseline: f64,
    /// Its mean in the arm compared.
    pub arm: f64,
    /// arm − baseline, replication by replication (same seeds), with its interval.
    pub difference: MetricSummary,
    /// Half-width of the interval the same runs would give unpaired (Welch), for
    /// comparison: what the common random numbers bought.
    pub unpaired_half_width: Option<f64>,
    /// Whether the paired interval excludes 0.
    pub significant: bool,
    /// One plain sentence.
    pub verdict: String,
}

/// An arm against the baseline at one sweep point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline arm.
    pub baseline: String,
    /// The arm compared with it.
    pub arm: String,
    /// The sweep point (values in axis order).
    pub point: Vec<String>,
    /// The headline metrics present in both.
    pub rows: Vec<ComparisonRow>,
}

/// Where a target first breaks along the first sweep axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    /// The target as written.
    pub target: String,
    /// The arm.
    pub arm: String,
    /// The values of the other axes (a two-axis sweep has one knee per value of the second).
    pub fixed: Vec<String>,
    /// The first value of the first axis where the target does not hold (by its mean over
    /// replications); `None` when it holds everywhere.
    pub breaks_at: Option<String>,
    /// The value before it, where it last held; `None` when it breaks at the first.
    pub last_holds: Option<String>,
}

/// A whole experiment's result (`result.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResult {
    /// [`EXPERIMENT_SCHEMA`].
    pub schema: u32,
    /// What was run (its `targets` are those of `knees`).
    pub header: Header,
    /// Every cell: arms in order, points in order within an arm.
    pub cells: Vec<CellResult>,
    /// Each arm after the first against the first, at every point.
    pub comparisons: Vec<Comparison>,
    /// Per target, arm and value of the other axes: where the target breaks.
    pub knees: Vec<Knee>,
}

impl ExperimentResult {
    /// The result of `partials`: every shard of one experiment, in any order (one partial
    /// for an unsharded run).
    pub fn merge(partials: &[Partial]) -> Result<ExperimentResult, ExperimentError> {
        let bad = |m: String| ExperimentError::Merge(m);
        let Some(first) = partials.first() else {
            return Err(bad("no shard files to merge".into()));
        };
        let count = first.shard[1];
        let mut seen = vec![false; count as usize];
        for p in partials {
            if p.schema != EXPERIMENT_SCHEMA {
                return Err(bad(format!(
                    "a shard of schema {} cannot be merged by this microsim (schema {EXPERIMENT_SCHEMA})",
                    p.schema
                )));
            }
            if p.header != first.header {
                return Err(bad("the shard files come from different experiments (their topology, arms, sweep, replications, seed or run options differ)".into()));
            }
            let [i, n] = p.shard;
            if n != count || i >= n {
                return Err(bad(format!(
                    "shard {i}/{n} does not belong with shards of {count}"
                )));
            }
            if std::mem::replace(&mut seen[i as usize], true) {
                return Err(bad(format!("shard {i}/{n} is given twice")));
            }
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(bad(format!(
                "shard {missing}/{count} is missing; merge needs all {count} shards"
            )));
        }
        let header = first.header.clone();
        let ncells = first.cells.len();
        let mut cells = Vec::with_capacity(ncells);
        for c in 0..ncells {
            let parts: Vec<&CellPartial> = partials
                .iter()
                .map(|p| {
                    p.cells
                        .get(c)
                        .ok_or_else(|| bad("a shard file lacks cells".into()))
                })
                .collect::<Result<_, _>>()?;
            cells.push(merge_cell(&header, &parts)?);
        }
        let targets = header
            .targets
            .iter()
            .map(|t| Target::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let comparisons = comparisons(&header, &cells);
        let knees = knees(&header, &cells, &targets);
        Ok(ExperimentResult {
            schema: EXPERIMENT_SCHEMA,
            header,
            cells,
            comparisons,
            knees,
        })
    }

    /// The result as pretty JSON (non-finite numbers as `"inf"`, `"-inf"`, `"nan"`).
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Reads a result back.
    pub fn from_json(text: &str) -> Result<ExperimentResult, serde_json::Error> {
        from_json(text)
    }
}

/// Pretty JSON of an experiment's data, non-finite numbers written as strings.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::pretty(&mut out);
    // Plain data always serializes.
    let _ = nonfinite::serialize(value, &mut ser);
    String::from_utf8(out).unwrap_or_default()
}

/// Reads JSON written by [`to_json`].
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = nonfinite::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

fn merge_cell(header: &Header, parts: &[&CellPartial]) -> Result<CellResult, ExperimentError> {
    let bad = |m: String| ExperimentError::Merge(m);
    let first = parts[0];
    let arm = header
        .arms
        .get(first.arm as usize)
        .cloned()
        .ok_or_else(|| bad(format!("cell of unknown arm {}", first.arm)))?;
    let point: Vec<String> = first
        .point
        .iter()
        .zip(&header.axes)
        .map(|(&v, a)| a.values.get(v as usize).cloned().unwrap_or_default())
        .collect();
    let mut metrics: Vec<String> = Vec::new();
    let mut runs: Vec<RunRecord> = Vec::new();
    let mut latency: Vec<(String, crate::metrics::LatencyHistogram)> = Vec::new();
    let mut answers: Vec<AnswerSums> = Vec::new();
    let mut bucket_s = 0.0;
    for p in parts {
        if p.arm != first.arm || p.point != first.point {
            return Err(bad(
                "shard files list their cells in different orders".into()
            ));
        }
        if !p.metrics.is_empty() {
            if metrics.is_empty() {
                metrics = p.metrics.clone();
            } else if metrics != p.metrics {
                return Err(bad(format!(
                    "the shards of cell {arm} {point:?} measured different metrics"
                )));
            }
            bucket_s = p.bucket_s;
        }
        runs.extend(p.runs.iter().cloned());
        for (name, h) in &p.latency {
            let h = h
                .histogram()
                .map_err(|e| bad(format!("{arm}: {name}: {e}")))?;
            match latency.iter_mut().find(|(n, _)| n == name) {
                Some((_, acc)) => acc.merge(&h),
                None => latency.push((name.clone(), h)),
            }
        }
        for a in &p.answers {
            match answers.iter_mut().find(|x| x.entry == a.entry) {
                Some(x) => {
                    let n = x.ok.len().max(a.ok.len());
                    x.ok.resize(n, 0);
                    x.answered.resize(n, 0);
                    for (b, (&ok, &ans)) in a.ok.iter().zip(&a.answered).enumerate() {
                        x.ok[b] += ok;
                        x.answered[b] += ans;
                    }
                }
                None => answers.push(a.clone()),
            }
        }
    }
    runs.sort_by_key(|r| r.rep);
    let reps: Vec<u32> = runs.iter().map(|r| r.rep).collect();
    if reps != (0..header.reps).collect::<Vec<_>>() {
        return Err(bad(format!(
            "cell {arm} {point:?} has replications {reps:?}, not 0 to {}",
            header.reps.saturating_sub(1)
        )));
    }
    // Entry points in the order of the first run's report (the metrics name them in order).
    let order = |name: &str| {
        metrics
            .iter()
            .position(|m| m.starts_with(&format!("entries[{name}]")))
    };
    latency.sort_by_key(|(n, _)| order(n));
    answers.sort_by_key(|a| order(&a.entry));
    let summaries: Vec<MetricSummary> = metrics
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values: Vec<f64> = runs
                .iter()
                .filter(|r| r.error.is_none())
                .map(|r| r.values.get(i).copied().unwrap_or(f64::NAN))
                .collect();
            MetricSummary::of(name, Estimate::from_samples(&values))
        })
        .collect();
    let entries: Vec<String> = answers.iter().map(|a| a.entry.clone()).collect();
    let recovery = entries
        .iter()
        .enumerate()
        .filter_map(|(e, name)| {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.recovery.get(e).copied().flatten())
                .collect();
            if values.is_empty() {
                return None;
            }
            let collapsed = values.iter().filter(|v| v.is_infinite()).count() as u64;
            let measured = values.len() as u64;
            let recovered: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            Some(RecoverySummary {
                entry: name.clone(),
                measured,
                collapsed,
                collapsed_fraction: collapsed as f64 / measured as f64,
                collapsed_ci: wilson_interval(collapsed, measured).map(|(l, h)| [l, h]),
                recovery_s: MetricSummary::of("recovery_s", Estimate::from_samples(&recovered)),
            })
        })
        .collect();
    Ok(CellResult {
        arm,
        point,
        failed_runs: runs.iter().filter(|r| r.error.is_some()).count() as u64,
        metrics: summaries,
        latency: latency
            .iter()
            .map(|(n, h)| PooledLatency {
                entry: n.clone(),
                summary: h.summary(),
                histogram: CompactHistogram::of(h),
            })
            .collect(),
        recovery,
        bucket_s,
        timeline: answers
            .into_iter()
            .map(|a| PooledTimeline {
                entry: a.entry,
                ok: a.ok,
                answered: a.answered,
            })
            .collect(),
        runs,
    })
}

/// Each arm after the first against the first, point by point.
fn comparisons(header: &Header, cells: &[CellResult]) -> Vec<Comparison> {
    if header.arms.len() < 2 {
        return Vec::new();
    }
    let points = cells.len() / header.arms.len();
    let mut out = Vec::new();
    for b in 1..header.arms.len() {
        for p in 0..points {
            let (base, arm) = (&cells[p], &cells[b * points + p]);
            let names: Vec<String> = base.metrics.iter().map(|m| m.name.clone()).collect();
            let rows = comparison_metrics(&names)
                .into_iter()
                .filter(|m| arm.metric(m).is_some())
                .map(|m| row(&m, base, arm))
                .collect();
            out.push(Comparison {
                baseline: base.arm.clone(),
                arm: arm.arm.clone(),
                point: base.point.clone(),
                rows,
            });
        }
    }
    out
}

fn row(metric: &str, base: &CellResult, arm: &CellResult) -> ComparisonRow {
    let (a, b) = (base.values(metric), arm.values(metric));
    let d = paired_difference(&a, &b);
    let significant = d.excludes(0.0);
    let mean = |c: &CellResult| c.metric(metric).map_or(f64::NAN, |m| m.mean);
    ComparisonRow {
        metric: metric.to_string(),
        baseline: mean(base),
        arm: mean(arm),
        difference: MetricSummary::of(metric, d),
        unpaired_half_width: unpaired_difference(&a, &b).half_width,
        significant,
        verdict: verdict(metric, &arm.arm, &d),
    }
}

/// A comparison in words, criterion style: a change with its interval, or none detected.
pub fn verdict(metric: &str, arm: &str, d: &Estimate) -> String {
    let label = short_name(metric);
    let Some(h) = d.half_width else {
        return format!("{label}: one replication, no interval (run --reps 2 or more)");
    };
    if d.n == 0 || d.mean.is_nan() {
        return format!("{label}: no value to compare");
    }
    if !d.excludes(0.0) {
        return format!(
            "no significant difference in {label} ({} ± {})",
            number(d.mean),
            number(h)
        );
    }
    let direction = if d.mean > 0.0 { "higher" } else { "lower" };
    let judgement = match higher_is_better(metric) {
        Some(up) if up == (d.mean > 0.0) => " (better)",
        Some(_) => " (worse)",
        None => "",
    };
    format!(
        "{arm}'s {label} is {direction} by {} ± {}{judgement}",
        number(d.mean.abs()),
        number(h)
    )
}

/// `entries[shoppers].latency.p99_ms` → `shoppers p99 (ms)`; other names as they are.
pub fn short_name(metric: &str) -> String {
    if let Some(rest) = metric.strip_prefix("entries[") {
        if let Some((entry, field)) = rest.split_once("].") {
            let field = field
                .trim_start_matches("latency.")
                .trim_start_matches("outcomes.");
            return match field.strip_suffix("_ms") {
                Some(f) => format!("{entry} {f} (ms)"),
                None => format!("{entry} {field}"),
            };
        }
    }
    metric.to_string()
}

/// Three significant digits, in plain notation where it reads well.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-4..1e6).contains(&a) {
        let digits = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.2e}")
    }
}

fn knees(header: &Header, cells: &[CellResult], targets: &[Target]) -> Vec<Knee> {
    let Some(first) = header.axes.first() else {
        return Vec::new();
    };
    let per_line = first.values.len();
    let points = cells.len() / header.arms.len().max(1);
    let mut out = Vec::new();
    for t in targets {
        for (a, arm) in header.arms.iter().enumerate() {
            // Cells of one arm, first axis fastest: consecutive runs of `per_line`.
            for line in 0..points / per_line.max(1) {
                let row = &cells[a * points + line * per_line..a * points + (line + 1) * per_line];
                let k = row.iter().position(|c| t.holds(c) == Some(false));
                out.push(Knee {
                    target: t.text.clone(),
                    arm: arm.clone(),
                    fixed: row[0].point[1..].to_vec(),
                    breaks_at: k.map(|k| row[k].point[0].clone()),
                    last_holds: match k {
                        Some(0) => None,
                        Some(k) => Some(row[k - 1].point[0].clone()),
                        None => row.last().map(|c| c.point[0].clone()),
                    },
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_like_sentences() {
        let d = Estimate::from_samples(&[0.07, 0.072, 0.069, 0.071]);
        assert_eq!(
            verdict("entries[shoppers].availability", "breaker", &d),
            "breaker's shoppers availability is higher by 0.0705 ± 0.00205 (better)"
        );
        let d = Estimate::from_samples(&[1.0, -1.0, 0.5, -0.4]);
        assert_eq!(
            verdict("entries[shoppers].latency.p99_ms", "b", &d),
            "no significant difference in shoppers p99 (ms) (0.0250 ± 1.43)"
        );
        let d = Estimate::from_samples(&[2.0, 2.1, 2.2]);
        assert!(verdict("total.retries", "b", &d).ends_with("(worse)"));
        assert!(verdict("x", "b", &Estimate::from_samples(&[1.0])).contains("one replication"));
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(0.071234), "0.0712");
        assert_eq!(number(123.456), "123");
        assert_eq!(number(-1.5), "-1.50");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1.5e-7), "1.50e-7");
    }
}
