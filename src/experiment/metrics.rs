//! The scalars of a report, by name: what an experiment estimates across replications.
//!
//! Every number of a report outside its time series, CDFs, histograms and analytic shadow
//! becomes one metric, named by the path that leads to it, with list elements named by what
//! they are (the paths of the error messages, where there is one):
//!
//! ```text
//! entries[shoppers].availability          entries[shoppers].latency.p99_ms
//! services[payment].utilization           services[gateway].occupancy[waiting on payment]
//! calls[gateway → payment].retries        topics[orders].groups[email].max_lag
//! queues[jobs].drained_in_s               publishes[checkout → orders].failed
//! ```
//!
//! A few totals that comparisons need are added under `total.`: `total.orphaned_work_s`
//! (worker-seconds spent on work nobody waited for), `total.worker_seconds` (worker-seconds
//! held, all services), `total.retries`. A field that is absent in a replication (a drain that
//! had not ended, `null`) is NaN there and left out of that metric's estimate.

use crate::report::Report;
use serde_json::Value;

/// Sections of the report that are not per-replication scalars.
const SKIPPED_TOP: &[&str] = &[
    "schema",
    "topology",
    "seed",
    "duration_s",
    "warmup_s",
    "faults",
    "series",
    "analysis",
];

/// Fields that hold distributions or labels, not scalars.
const SKIPPED_FIELDS: &[&str] = &["latency_cdf", "latency_histogram", "log", "publishers"];

/// The report's scalars as (name, value) pairs, in report order, totals last.
pub fn scalars(report: &Report) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let value = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Value::Object(top) = &value {
        for (key, v) in top {
            if !SKIPPED_TOP.contains(&key.as_str()) {
                walk(key, v, &mut out);
            }
        }
    }
    totals(report, &mut out);
    out
}

fn walk(path: &str, v: &Value, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => out.push((path.to_string(), n.as_f64().unwrap_or(f64::NAN))),
        // Non-finite numbers are written as strings in reports.
        Value::String(s) if matches!(s.as_str(), "inf" | "-inf" | "nan") => {
            out.push((path.to_string(), s.parse::<f64>().unwrap_or(f64::NAN)));
        }
        Value::Null => out.push((path.to_string(), f64::NAN)),
        Value::Object(map) => {
            for (k, v) in map {
                if !SKIPPED_FIELDS.contains(&k.as_str()) {
                    walk(&format!("{path}.{k}"), v, out);
                }
            }
        }
        Value::Array(items) => {
            let names = element_names(items);
            for (item, name) in items.iter().zip(names) {
                walk(&format!("{path}[{name}]"), item, out);
            }
        }
        Value::Bool(_) | Value::String(_) => {}
    }
}

/// What the elements of a list are called: their `name`, `state` or `service`, a call's
/// `from → to`, or their index; a name that repeats gets ` #2`, ` #3` after it.
fn element_names(items: &[Value]) -> Vec<String> {
    let label = |item: &Value, i: usize| -> String {
        let s = |k: &str| item.get(k).and_then(Value::as_str);
        if let Some(n) = s("name").or(s("state")).or(s("service")) {
            return n.to_string();
        }
        if let (Some(a), Some(b)) = (s("from"), s("to")) {
            return format!("{a} → {b}");
        }
        i.to_string()
    };
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let base = label(item, i);
        let seen = names
            .iter()
            .filter(|n| **n == base || n.starts_with(&format!("{base} #")))
            .count();
        names.push(if seen == 0 {
            base
        } else {
            format!("{base} #{}", seen + 1)
        });
    }
    names
}

fn totals(report: &Report, out: &mut Vec<(String, f64)>) {
    let measured_s = report.duration_s - report.warmup_s;
    let orphaned: f64 = report.services.iter().map(|s| s.orphaned_work_s).sum();
    let held: f64 = report
        .services
        .iter()
        .map(|s| s.mean_busy_workers * measured_s)
        .sum();
    let retries: u64 = report.calls.iter().map(|c| c.retries).sum();
    out.push(("total.orphaned_work_s".into(), orphaned));
    out.push(("total.worker_seconds".into(), held));
    out.push(("total.retries".into(), retries as f64));
}

/// Whether a larger value of metric `name` is better (`Some(true)`), worse (`Some(false)`),
/// or neither (`None`), for the wording of comparisons.
pub fn higher_is_better(name: &str) -> Option<bool> {
    let last = name.rsplit('.').next().unwrap_or(name);
    match last {
        "availability"
        | "goodput_per_s"
        | "time_availability"
        | "replica_availability"
        | "ok"
        | "consumed"
        | "acked" => Some(true),
        "error"
        | "timeout"
        | "rejected"
        | "circuit_open"
        | "unavailable"
        | "degraded"
        | "orphaned"
        | "orphaned_work_s"
        | "worker_seconds"
        | "retries"
        | "amplification"
        | "max_lag"
        | "lag"
        | "drained_in_s"
        | "dead_lettered"
        | "expired"
        | "duplicates"
        | "max_depth"
        | "in_flight"
        | "failed"
        | "retries_denied"
        | "not_permitted"
        | "bulkhead_rejections"
        | "time_lag_s"
        | "max_time_lag_s" => Some(false),
        _ if name.contains(".latency.") => Some(false),
        _ => None,
    }
}

/// The metrics a comparison reports, in order: for every entry point its availability,
/// latency (mean, p50, p99) and failed outcomes; the totals; each consumer group's max lag
/// and drain time and each work queue's; each call step's retries and amplification.
/// Only names present in `names` are returned.
pub fn comparison_metrics(names: &[String]) -> Vec<String> {
    let wanted = |n: &str| -> bool {
        let entry = n.starts_with("entries[")
            && [
                ".availability",
                ".latency.mean_ms",
                ".latency.p50_ms",
                ".latency.p99_ms",
                ".outcomes.error",
                ".outcomes.timeout",
                ".outcomes.rejected",
                ".outcomes.circuit_open",
                ".outcomes.unavailable",
                ".outcomes.degraded",
            ]
            .iter()
            .any(|s| n.ends_with(s) && n.matches('.').count() == s.matches('.').count());
        let broker = (n.starts_with("topics[") || n.starts_with("queues["))
            && (n.ends_with(".max_lag")
                || n.ends_with(".drained_in_s")
                || n.ends_with(".max_depth"));
        let call =
            n.starts_with("calls[") && (n.ends_with("].retries") || n.ends_with("].amplification"));
        entry || broker || call || n.starts_with("total.")
    };
    names.iter().filter(|n| wanted(n)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_elements_are_named_and_repeats_numbered() {
        let items: Vec<Value> = serde_json::from_str(
            r#"[{"name": "a"}, {"from": "x", "to": "y"}, {"from": "x", "to": "y"}, {"v": 1}]"#,
        )
        .unwrap();
        assert_eq!(element_names(&items), ["a", "x → y", "x → y #2", "3"]);
    }

    #[test]
    fn directions_of_common_metrics() {
        assert_eq!(higher_is_better("entries[a].availability"), Some(true));
        assert_eq!(higher_is_better("entries[a].latency.p99_ms"), Some(false));
        assert_eq!(higher_is_better("total.retries"), Some(false));
        assert_eq!(higher_is_better("services[a].utilization"), None);
    }

    #[test]
    fn comparison_metrics_pick_the_headline_figures() {
        let names: Vec<String> = [
            "entries[a].availability",
            "entries[a].latency.p99_ms",
            "entries[a].latency.p90_ms",
            "entries[a].offered",
            "calls[a → b].retries",
            "calls[a → b].outcomes.error",
            "topics[t].groups[s].max_lag",
            "total.retries",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            comparison_metrics(&names),
            [
                "entries[a].availability",
                "entries[a].latency.p99_ms",
                "calls[a → b].retries",
                "topics[t].groups[s].max_lag",
                "total.retries"
            ]
        );
    }
}
