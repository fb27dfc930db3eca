//! Targets a sweep is held to: `availability>=0.999`, `p99<=200ms`,
//! `services[db].utilization<0.8`.
//!
//! The left side is a metric name ([`super::metrics`]) or a shorthand for the first entry
//! point: `availability`, or a latency statistic `mean`, `p50`, `p90`, `p95`, `p99`, `p999`,
//! `max`. Latency statistics of an entry point (shorthands, or `entries[E].latency.p99_ms`)
//! are read from the histogram pooled over the replications; other metrics by their mean
//! over the replications. The right side is a number, or for latencies a duration
//! (`200ms`, `1.5s`; a bare number is milliseconds).

use super::result::CellResult;
use crate::time::parse_duration;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Ge,
    Le,
    Gt,
    Lt,
}

/// What a target measures.
#[derive(Clone, Debug, PartialEq)]
enum Lhs {
    /// The first entry point's availability.
    Availability,
    /// A pooled latency statistic (`p99_ms`) of an entry point (`None`: the first).
    Latency(Option<String>, String),
    /// Any metric, by its mean over replications.
    Metric(String),
}

/// A condition a sweep point should meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// As written.
    pub text: String,
    lhs: Lhs,
    op: Op,
    value: f64,
}

const LATENCY: [&str; 7] = ["mean", "p50", "p90", "p95", "p99", "p999", "max"];

impl Target {
    /// Reads `METRIC OP VALUE` with OP one of `>=`, `<=`, `>`, `<`.
    pub fn parse(text: &str) -> Result<Target, String> {
        let t = text.trim();
        let (at, op, len) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|o| t.find(o).map(|i| (i, *o, o.len())))
            .min_by_key(|(i, _, _)| *i)
            .ok_or_else(|| format!("`{text}` is not METRIC>=VALUE (or <=, >, <); e.g. availability>=0.999, p99<=200ms"))?;
        let op = match op {
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            _ => Op::Gt,
        };
        let (name, value) = (t[..at].trim(), t[at + len..].trim());
        if name.is_empty() || value.is_empty() {
            return Err(format!(
                "`{text}` needs a metric and a value around the operator"
            ));
        }
        let lhs = if name == "availability" {
            Lhs::Availability
        } else if LATENCY.contains(&name) {
            Lhs::Latency(None, format!("{name}_ms"))
        } else if let Some((entry, stat)) = name
            .strip_prefix("entries[")
            .and_then(|r| r.split_once("].latency."))
        {
            Lhs::Latency(Some(entry.to_string()), stat.to_string())
        } else {
            Lhs::Metric(name.to_string())
        };
        let number = value.parse::<f64>().ok();
        let value = match (&lhs, number) {
            (_, Some(v)) if v.is_finite() => v,
            (Lhs::Latency(..), _) => parse_duration(value)
                .map(|d| d.as_nanos() as f64 / 1e6)
                .map_err(|e| format!("`{text}`: {e}"))?,
            _ => return Err(format!("`{text}`: `{value}` is not a number")),
        };
        Ok(Target {
            text: t.to_string(),
            lhs,
            op,
            value,
        })
    }

    /// The metric `cell` is judged by, shorthands resolved to the first entry point
    /// (`p99` → `entries[main].latency.p99_ms`); `None` when the cell has no entry point.
    /// A latency statistic is read from the pooled histogram ([`Target::reads_pooled`]),
    /// not from the metric's mean over replications.
    pub fn metric(&self, cell: &CellResult) -> Option<String> {
        match &self.lhs {
            Lhs::Availability => cell
                .metrics
                .iter()
                .find(|m| m.name.starts_with("entries[") && m.name.ends_with("].availability"))
                .map(|m| m.name.clone()),
            Lhs::Latency(entry, stat) => {
                let entry = match entry {
                    Some(e) => e.clone(),
                    None => cell.latency.first()?.entry.clone(),
                };
                Some(format!("entries[{entry}].latency.{stat}"))
            }
            Lhs::Metric(name) => Some(name.clone()),
        }
    }

    /// Whether the target reads a latency statistic of the pooled histogram (rather than a
    /// metric's mean over replications).
    pub fn reads_pooled(&self) -> bool {
        matches!(&self.lhs, Lhs::Latency(_, stat) if LATENCY.iter().any(|l| format!("{l}_ms") == *stat))
    }

    /// The value the metric is held to, in the metric's unit (milliseconds for latencies).
    pub fn threshold(&self) -> f64 {
        self.value
    }

    /// Whether `cell` meets the target; `None` when it has no such figure.
    pub fn holds(&self, cell: &CellResult) -> Option<bool> {
        let v = match &self.lhs {
            Lhs::Availability => cell
                .metrics
                .iter()
                .find(|m| m.name.starts_with("entries[") && m.name.ends_with("].availability"))
                .map(|m| m.mean)?,
            Lhs::Latency(entry, stat) => {
                let pooled = match entry {
                    Some(e) => cell.latency.iter().find(|l| l.entry == *e)?,
                    None => cell.latency.first()?,
                };
                let s = &pooled.summary;
                match stat.as_str() {
                    "mean_ms" => s.mean_ms,
                    "p50_ms" => s.p50_ms,
                    "p90_ms" => s.p90_ms,
                    "p95_ms" => s.p95_ms,
                    "p99_ms" => s.p99_ms,
                    "p999_ms" => s.p999_ms,
                    "max_ms" => s.max_ms,
                    _ => {
                        let name = format!("entries[{}].latency.{stat}", pooled.entry);
                        cell.metric(&name)?.mean
                    }
                }
            }
            Lhs::Metric(name) => cell.metric(name)?.mean,
        };
        if v.is_nan() {
            return None;
        }
        Some(match self.op {
            Op::Ge => v >= self.value,
            Op::Le => v <= self.value,
            Op::Gt => v > self.value,
            Op::Lt => v < self.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_shorthands_and_units() {
        let t = Target::parse("availability>=0.999").unwrap();
        assert_eq!((t.lhs, t.op, t.value), (Lhs::Availability, Op::Ge, 0.999));
        let t = Target::parse("p99 <= 200ms").unwrap();
        assert_eq!(
            (t.lhs, t.op, t.value),
            (Lhs::Latency(None, "p99_ms".into()), Op::Le, 200.0)
        );
        let t = Target::parse("p99<1.5s").unwrap();
        assert_eq!(t.value, 1500.0);
        let t = Target::parse("entries[web].latency.p50_ms<20").unwrap();
        assert_eq!(t.lhs, Lhs::Latency(Some("web".into()), "p50_ms".into()));
        let t = Target::parse("services[db].utilization<0.8").unwrap();
        assert_eq!(t.lhs, Lhs::Metric("services[db].utilization".into()));
        assert!(Target::parse("availability=0.9")
            .unwrap_err()
            .contains("METRIC>=VALUE"));
        assert!(Target::parse("availability>=lots")
            .unwrap_err()
            .contains("not a number"));
        assert!(Target::parse(">=1").is_err());
    }

    #[test]
    fn targets_name_the_metric_they_read() {
        let cell: CellResult = serde_json::from_value(serde_json::json!({
            "arm": "a", "point": [], "failed_runs": 0, "bucket_s": 1.0,
            "metrics": [
                {"name": "entries[web].availability", "n": 2, "mean": 1.0, "sd": 0.0, "ci": null}
            ],
            "latency": [{"entry": "web", "summary": {"count": 0, "mean_ms": 0.0, "p50_ms": 0.0,
                "p90_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "p999_ms": 0.0, "max_ms": 0.0},
                "histogram": {"sigfig": 3, "count": 0, "sum_ns": "0", "max_ns": 0, "buckets": ""}}],
            "recovery": [], "timeline": [], "runs": []
        }))
        .unwrap();
        let metric = |t: &str| Target::parse(t).unwrap().metric(&cell);
        assert_eq!(
            metric("availability>=0.9").unwrap(),
            "entries[web].availability"
        );
        assert_eq!(metric("p99<=20ms").unwrap(), "entries[web].latency.p99_ms");
        assert_eq!(
            metric("entries[x].latency.p50_ms<3").unwrap(),
            "entries[x].latency.p50_ms"
        );
        assert_eq!(metric("total.retries<3").unwrap(), "total.retries");
        assert!(Target::parse("p99<=20ms").unwrap().reads_pooled());
        assert!(!Target::parse("availability>=0.9").unwrap().reads_pooled());
        assert_eq!(Target::parse("p99<=1.5s").unwrap().threshold(), 1500.0);
    }
}
