//! The result of a run: a plain serde type, stable as JSON.
//!
//! Field names are part of the interface (notebooks and charts read them) and are documented
//! in `docs/report.md`. Units are in the names: `_ms`, `_s`, `_per_s`. Everything is measured
//! after the warm-up unless a field says otherwise; time series cover the whole run.

pub mod nonfinite;

use crate::analysis::Analysis;
use serde::{Deserialize, Serialize};

pub use crate::engine::measurements::{
    BreakerReport, BreakerTransition, CallReport, CallSeries, EntryReport, EntrySeries,
    FaultWindow, GroupReport, LatencySlice, Measurements, Occupancy, OccupancySeries,
    PublishReport, QueueReport, QueueSeries, Series, ServiceReport, ServiceSeries, TargetKind,
    TopicReport, TopicSeries,
};
pub use crate::metrics::LatencySummary;

/// Version of the report's JSON layout; bumped when a field changes meaning or is removed.
/// 2: numbers that are not finite are written as the strings `"inf"`, `"-inf"`, `"nan"`.
/// 3: the analytic shadow per phase of the fault timeline. 4: `services[].wait`,
/// `services[].wait_probability` and `entries[].end_to_end`.
pub const SCHEMA_VERSION: u32 = 4;

/// Everything one run measured, beside the analytic shadow.
///
/// Its `Serialize` and `Deserialize` go through [`nonfinite`]: a number that is infinite or
/// NaN anywhere in the report is written as `"inf"`, `"-inf"` or `"nan"` and read back, with
/// any serde format (JSON has no such numbers).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// [`SCHEMA_VERSION`] of this layout.
    pub schema: u32,
    /// The topology's name.
    pub topology: String,
    /// The seed of the run.
    pub seed: u64,
    /// Simulated time, warm-up included \[s\].
    pub duration_s: f64,
    /// Warm-up excluded from statistics \[s\].
    pub warmup_s: f64,
    /// Events processed (a measure of the work the simulator did).
    pub events: u64,
    /// One row per entry point, in file order.
    pub entries: Vec<EntryReport>,
    /// One row per service, in file order.
    pub services: Vec<ServiceReport>,
    /// One row per sync call step, in file order.
    pub calls: Vec<CallReport>,
    /// The fault timeline, in file order.
    pub faults: Vec<FaultWindow>,
    /// The broker's topics, in file order (over the whole run, warm-up included, so that
    /// produced = consumed + lag + expired holds; latency after the warm-up).
    pub topics: Vec<TopicReport>,
    /// The broker's work queues, in file order (over the whole run, warm-up included, so
    /// that `sent = acked + dead_lettered + expired + depth + in_flight` holds; latency after
    /// the warm-up).
    pub queues: Vec<QueueReport>,
    /// What became of the messages of each publish and send step (over the whole run).
    pub publishes: Vec<PublishReport>,
    /// Time series in fixed buckets over the whole run.
    pub series: Series,
    /// The analytic shadow and lints computed from the model alone.
    pub analysis: Analysis,
}

/// The serde layout of [`Report`], field for field. Serde checks it against `Report` (a
/// field missing here does not compile), and [`Report`]'s own `Serialize` and `Deserialize`
/// run it through [`nonfinite::Finite`], so every `f64` at any depth of a report, in fields
/// present and future, may be infinite or NaN without an attribute of its own.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Report")]
struct ReportLayout {
    schema: u32,
    topology: String,
    seed: u64,
    duration_s: f64,
    warmup_s: f64,
    events: u64,
    entries: Vec<EntryReport>,
    services: Vec<ServiceReport>,
    calls: Vec<CallReport>,
    faults: Vec<FaultWindow>,
    topics: Vec<TopicReport>,
    queues: Vec<QueueReport>,
    publishes: Vec<PublishReport>,
    series: Series,
    analysis: Analysis,
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ReportLayout::serialize(self, nonfinite::Finite(serializer))
    }
}

impl<'de> Deserialize<'de> for Report {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Report, D::Error> {
        ReportLayout::deserialize(nonfinite::Finite(deserializer))
    }
}

impl Report {
    /// A run's measurements beside the analytic shadow of its model, as one report.
    pub fn new(m: Measurements, analysis: Analysis) -> Report {
        Report {
            schema: SCHEMA_VERSION,
            topology: m.topology,
            seed: m.seed,
            duration_s: m.duration_s,
            warmup_s: m.warmup_s,
            events: m.events,
            entries: m.entries,
            services: m.services,
            calls: m.calls,
            faults: m.faults,
            topics: m.topics,
            queues: m.queues,
            publishes: m.publishes,
            series: m.series,
            analysis,
        }
    }

    /// The entry point called `name`.
    pub fn entry(&self, name: &str) -> Option<&EntryReport> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceReport> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The first sync call step from service `from` to service `to`, in file order (when
    /// `from` calls `to` from several steps, [`Report::call_at`] picks one by its path).
    pub fn call(&self, from: &str, to: &str) -> Option<&CallReport> {
        self.calls.iter().find(|c| c.from == from && c.to == to)
    }

    /// The sync call step at `step`, its path in the file
    /// (`services[gateway].steps[1].branches[0].steps[0]`).
    pub fn call_at(&self, step: &str) -> Option<&CallReport> {
        self.calls.iter().find(|c| c.step == step)
    }

    /// The topic called `name`.
    pub fn topic(&self, name: &str) -> Option<&TopicReport> {
        self.topics.iter().find(|t| t.name == name)
    }

    /// The consumer group of service `service` on topic `topic`.
    pub fn group(&self, topic: &str, service: &str) -> Option<&GroupReport> {
        self.topic(topic)?
            .groups
            .iter()
            .find(|g| g.service == service)
    }

    /// The work queue called `name`.
    pub fn queue(&self, name: &str) -> Option<&QueueReport> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The first publish or send step from service `from` to the topic or queue `to`, in file
    /// order.
    pub fn publish(&self, from: &str, to: &str) -> Option<&PublishReport> {
        self.publishes.iter().find(|p| p.from == from && p.to == to)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report is plain data and always serializes")
    }

    /// Reads a report back from JSON.
    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(text)
    }
}
