//! What an experiment runs: arms (variants or files), sweep points, replications; the jobs
//! they make and how jobs are split into shards.
//!
//! # Jobs
//! A *cell* is one arm at one sweep point; cells are numbered arm by arm, points in order
//! within an arm (the first axis varies fastest). Job `j` is replication `j mod reps` of cell
//! `j div reps`; replication `r` runs with [`replication_seed`]`(master, r)` in every cell, so
//! arms and points share their random numbers (common random numbers).
//!
//! # Shards
//! Shard `i` of `n` runs the jobs `j` with `j mod n = i`: deterministic, and spread over
//! every cell, so that shards take about as long as each other even when some sweep points
//! are much heavier than others. The merge of all `n` shards is exactly the unsharded result.

use super::recovery::RecoverySpec;
use super::seeds::replication_seed;
use super::target::Target;
use crate::engine::RunOptions;
use crate::error::LoadError;
use crate::model::Model;
use crate::spec::overrides::{ron_value, Override};
use crate::time::{parse_duration, SimDuration};

/// One arm: a named model, a variant of a topology or a topology of its own.
#[derive(Clone, Debug)]
pub struct Arm {
    /// The name shown in tables (`base`, a variant's name, a file's stem).
    pub name: String,
    /// The model.
    pub model: Model,
}

/// One axis of a sweep: a path and the values it takes, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// Where, as in error messages (`workload[shoppers].arrivals.per_second`).
    pub path: String,
    /// The values as RON text, in sweep order.
    pub values: Vec<String>,
}

impl Axis {
    /// Reads `PATH=VALUES`, where VALUES is a list `1,2,4,8` (each a command-line value, see
    /// [`crate::spec::overrides`]) or a range `START..END:STEP` of numbers or durations
    /// (`100..1000:100`, `50ms..1s:50ms`), END included when the steps reach it.
    pub fn parse(text: &str) -> Result<Axis, String> {
        let Some((path, values)) = text.split_once('=') else {
            return Err(format!(
                "`{text}` is not PATH=VALUES; write e.g. workload[main].arrivals.per_second=100..1000:100 or services[api].workers=1,2,4"
            ));
        };
        let (path, values) = (path.trim(), values.trim());
        if path.is_empty() || values.is_empty() {
            return Err(format!("`{text}` needs a path and values around `=`"));
        }
        let values = match values.split_once("..") {
            Some((start, rest)) => {
                range(start.trim(), rest.trim()).map_err(|e| format!("`{path}={values}`: {e}"))?
            }
            None => values
                .split(',')
                .map(|v| ron_value(v.trim()))
                .collect::<Vec<_>>(),
        };
        if values.iter().any(|v| v.is_empty() || v == "\"\"") {
            return Err(format!("`{text}` has an empty value"));
        }
        Ok(Axis {
            path: path.to_string(),
            values,
        })
    }
}

/// Most points one range may have.
const MAX_RANGE_POINTS: usize = 100_000;

/// The values of `start..end:step`.
fn range(start: &str, rest: &str) -> Result<Vec<String>, String> {
    let Some((end, step)) = rest.split_once(':') else {
        return Err("a range needs a step: START..END:STEP".into());
    };
    let (end, step) = (end.trim(), step.trim());
    let is_number = |s: &str| s.parse::<f64>().is_ok();
    if is_number(start) && is_number(end) && is_number(step) {
        let (a, b, s): (f64, f64, f64) = (
            start.parse().unwrap_or(0.0),
            end.parse().unwrap_or(0.0),
            step.parse().unwrap_or(0.0),
        );
        if !(s > 0.0 && a.is_finite() && b.is_finite() && s.is_finite()) || b < a {
            return Err("a range goes up from START to END ≥ START by a STEP > 0".into());
        }
        let n = ((b - a) / s + 1e-9).floor() as usize + 1;
        if n > MAX_RANGE_POINTS {
            return Err(format!(
                "{n} points is more than {MAX_RANGE_POINTS}; use a larger step"
            ));
        }
        let integers = [start, end, step].iter().all(|t| t.parse::<i64>().is_ok());
        return Ok((0..n)
            .map(|k| {
                let v = a + k as f64 * s;
                if integers {
                    format!("{}", v.round() as i64)
                } else {
                    // Round away the binary noise of repeated steps (0.1 + 0.2).
                    let r = (v * 1e9).round() / 1e9;
                    format!("{r}")
                }
            })
            .collect());
    }
    let d = |t: &str| parse_duration(t).map_err(|e| e.to_string());
    let (a, b, s) = (d(start)?, d(end)?, d(step)?);
    if s == SimDuration::ZERO || b < a {
        return Err("a range goes up from START to END ≥ START by a STEP > 0".into());
    }
    let n = ((b.as_nanos() - a.as_nanos()) / s.as_nanos()) as usize + 1;
    if n > MAX_RANGE_POINTS {
        return Err(format!(
            "{n} points is more than {MAX_RANGE_POINTS}; use a larger step"
        ));
    }
    Ok((0..n as u64)
        .map(|k| format!("\"{}\"", exact(a.as_nanos() + k * s.as_nanos())))
        .collect())
}

/// A duration written exactly, in the largest unit that divides it (`1500ms`, `2s`, `7ns`).
fn exact(ns: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".into();
    }
    let (n, unit) = UNITS
        .iter()
        .find(|(n, _)| ns.is_multiple_of(*n))
        .copied()
        .unwrap_or((1, "ns"));
    format!("{}{unit}", ns / n)
}

/// A whole experiment: arms × sweep points × replications.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The arms; the first is the baseline of comparisons.
    pub arms: Vec<Arm>,
    /// Sweep axes (none for plain replications or a comparison).
    pub axes: Vec<Axis>,
    /// Replications per cell, ≥ 1.
    pub reps: u32,
    /// The seed replication seeds derive from ([`replication_seed`]).
    pub master_seed: u64,
    /// Duration, warm-up and drain of every run (their seed is the replication's).
    pub options: RunOptions,
    /// Targets whose knees a sweep marks (`availability>=0.999`).
    pub targets: Vec<Target>,
    /// How recovery after the last fault is measured.
    pub recovery: RecoverySpec,
}

/// One arm at one sweep point, compiled.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Index of the arm.
    pub arm: usize,
    /// Index of the value of each axis.
    pub point: Vec<usize>,
    /// The arm's model with the point's overrides.
    pub model: Model,
}

impl Plan {
    /// The sweep points: one index per axis, the first axis varying fastest. A single empty
    /// point without axes.
    pub fn points(&self) -> Vec<Vec<usize>> {
        let mut points = vec![Vec::new()];
        for axis in &self.axes {
            let mut next = Vec::with_capacity(points.len() * axis.values.len());
            for p in &points {
                for v in 0..axis.values.len() {
                    let mut q = p.clone();
                    q.push(v);
                    next.push(q);
                }
            }
            points = next;
        }
        // Built with the last axis fastest; reorder so that the first one is.
        points.sort_by(|a, b| a.iter().rev().cmp(b.iter().rev()));
        points
    }

    /// The overrides of sweep point `point`.
    pub fn point_overrides(&self, point: &[usize]) -> Vec<Override> {
        self.axes
            .iter()
            .zip(point)
            .map(|(a, &v)| Override::new(a.path.clone(), a.values[v].clone()))
            .collect()
    }

    /// Every cell, compiled: an arm's model with a point's overrides, validated like a file.
    pub fn cells(&self) -> Result<Vec<Cell>, LoadError> {
        let points = self.points();
        let mut cells = Vec::with_capacity(self.arms.len() * points.len());
        for (a, arm) in self.arms.iter().enumerate() {
            for p in &points {
                let model = if self.axes.is_empty() {
                    arm.model.clone()
                } else {
                    arm.model.with_overrides(&self.point_overrides(p))?
                };
                cells.push(Cell {
                    arm: a,
                    point: p.clone(),
                    model,
                });
            }
        }
        Ok(cells)
    }

    /// Jobs in all: cells × replications.
    pub fn jobs(&self) -> u64 {
        self.arms.len() as u64 * self.points().len() as u64 * u64::from(self.reps)
    }

    /// The seed of replication `rep` in every cell.
    pub fn seed(&self, rep: u32) -> u64 {
        replication_seed(self.master_seed, rep)
    }
}

/// A slice of the jobs: shard `index` of `count` runs the jobs `j` with `j mod count =
/// index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: u32,
    /// Shards in all, ≥ 1.
    pub count: u32,
}

/// Environment variables that batch schedulers set to a job array task's index, in the
/// order they are looked at: Slurm job arrays, Kubernetes Indexed Jobs, AWS Batch array
/// jobs.
pub const SHARD_INDEX_VARS: [&str; 3] = [
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

impl Shard {
    /// Reads `i/N` (e.g. `3/16`); with `i` left out (`/16` or `16`), the index comes from the
    /// first of [`SHARD_INDEX_VARS`] that is set in `env`.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let text = text.trim();
        let (index, count) = match text.split_once('/') {
            Some((i, n)) if !i.trim().is_empty() => (Some(i.trim()), n.trim()),
            Some((_, n)) => (None, n.trim()),
            None => (None, text),
        };
        let count: u32 =
            count.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
                format!("`{text}`: the number of shards must be a whole number ≥ 1")
            })?;
        let index: u32 = match index {
            Some(i) => i
                .parse()
                .map_err(|_| format!("`{text}`: the shard index must be a whole number"))?,
            None => {
                let found = SHARD_INDEX_VARS
                    .iter()
                    .find_map(|v| env(v).map(|value| (*v, value)));
                let Some((var, value)) = found else {
                    return Err(format!(
                        "`--shard {text}` gives no index, and none of {} is set; write --shard I/{count}",
                        SHARD_INDEX_VARS.join(", ")
                    ));
                };
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("{var}={value:?} is not a shard index"))?
            }
        };
        if index >= count {
            return Err(format!(
                "shard index {index} is not below the number of shards {count} (indices start at 0)"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether job `j` belongs to this shard.
    pub fn has(&self, job: u64) -> bool {
        job % u64::from(self.count) == u64::from(self.index)
    }

    /// The whole of the work: one shard of one.
    pub const ALL: Shard = Shard { index: 0, count: 1 };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_read_lists_and_ranges() {
        let a = Axis::parse("services[api].workers=1,2,4,8").unwrap();
        assert_eq!(a.values, ["1", "2", "4", "8"]);
        let a = Axis::parse("workload[main].arrivals.per_second=100..500:100").unwrap();
        assert_eq!(a.values, ["100", "200", "300", "400", "500"]);
        let a = Axis::parse("x=0.1..0.5:0.2").unwrap();
        assert_eq!(a.values, ["0.1", "0.3", "0.5"]);
        let a = Axis::parse("services[api].steps[0].timeout=100ms..300ms:100ms").unwrap();
        assert_eq!(a.values, ["\"100ms\"", "\"200ms\"", "\"300ms\""]);
        let a = Axis::parse("t=1ms..2ms:333us").unwrap();
        assert_eq!(
            a.values,
            ["\"1ms\"", "\"1333us\"", "\"1666us\"", "\"1999us\""]
        );
        let a = Axis::parse("t=0s..2m:1m").unwrap();
        assert_eq!(a.values, ["\"0s\"", "\"1m\"", "\"2m\""]);
        let a = Axis::parse("services[api].steps[0].to=db, cache").unwrap();
        assert_eq!(a.values, ["\"db\"", "\"cache\""]);
        assert!(Axis::parse("x=1..5").unwrap_err().contains("needs a step"));
        assert!(Axis::parse("x=5..1:1").unwrap_err().contains("goes up"));
        assert!(Axis::parse("x=1..2:0").is_err());
        assert!(Axis::parse("x").unwrap_err().contains("PATH=VALUES"));
        assert!(Axis::parse("x=0..1e9:1")
            .unwrap_err()
            .contains("larger step"));
    }

    #[test]
    fn shards_read_explicit_and_scheduler_indices() {
        let none = |_: &str| None;
        assert_eq!(
            Shard::parse("3/16", none).unwrap(),
            Shard {
                index: 3,
                count: 16
            }
        );
        let slurm = |v: &str| (v == "SLURM_ARRAY_TASK_ID").then(|| "5".to_string());
        assert_eq!(
            Shard::parse("/8", slurm).unwrap(),
            Shard { index: 5, count: 8 }
        );
        assert_eq!(
            Shard::parse("8", slurm).unwrap(),
            Shard { index: 5, count: 8 }
        );
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        assert_eq!(Shard::parse("4", k8s).unwrap().index, 2);
        assert!(Shard::parse("/4", none)
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID"));
        assert!(Shard::parse("4/4", none).unwrap_err().contains("not below"));
        assert!(Shard::parse("1/0", none).is_err());
        let s = Shard { index: 1, count: 3 };
        assert_eq!((0..9).filter(|&j| s.has(j)).collect::<Vec<_>>(), [1, 4, 7]);
    }
}
