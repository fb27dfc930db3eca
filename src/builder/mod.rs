//! Topologies written in Rust: a builder for the same [`TopologySpec`] a file holds.
//!
//! A topology file and a builder are two spellings of one thing. The builder fills in a
//! [`TopologySpec`], field by field, and leaves out what it is not told, so every default is
//! the file format's own (`docs/format.md`). [`Topology::build`] writes the spec as RON and
//! loads that text exactly as a file is loaded: there is one compiler and one set of checks,
//! a bad value gets the message it would get in a file (`services[api].workers: workers must
//! be at least 1 …`), and the model keeps the text, so that overrides and variants work on
//! it as on a loaded one.
//!
//! ```
//! use microsim::builder::{Call, Exp, Entry, Poisson, Service, Topology};
//!
//! let model = Topology::new("shop")
//!     .duration("60s")
//!     .entry(Entry::service("users", "api", Poisson::per_second(200)))
//!     .service(
//!         "api",
//!         Service::new()
//!             .workers(8)
//!             .work(Exp::mean_ms(2.0))
//!             .call("db", Call::new().timeout_ms(100)),
//!     )
//!     .service("db", Service::new().workers(4).work(Exp::mean_ms(5.0)))
//!     .build()?;
//! assert_eq!(model.services().len(), 2);
//! // The same topology, as a file would say it:
//! assert!(model.source().contains(r#"Call(to: "db", timeout: "100ms")"#));
//! # Ok::<(), microsim::LoadError>(())
//! ```
//!
//! Setters take durations as text (`"150ms"`, `"2.5s"`), as a [`SimDuration`] or a
//! [`std::time::Duration`] (see [`IntoDuration`]); the `_ms` setters take milliseconds as a
//! number. Nothing is checked before [`Topology::build`], which reports every problem at once,
//! each at its path.
//!
//! Every setter returns the builder, so a topology reads top to bottom. The parts:
//! * [`Topology`]: run settings, entry points ([`Entry`] with [`Poisson`] or [`Constant`]
//!   arrivals), services, topics and queues of the broker, faults, variants.
//! * [`Service`]: replicas, workers, queue, local work, errors, balancer, failures, and its
//!   steps: [`Call`] (with [`Retry`], [`Breaker`], [`Bulkhead`], a fallback), [`Publish`],
//!   [`Enqueue`] (a `Send` to a work queue), [`Parallel`], [`Choice`], more work.
//! * Distributions: [`Exp`], [`Const`], [`Uniform`], [`LogNormal`], [`Gamma`],
//!   [`Empirical`].
//! * The broker: [`Topic`] with [`Subscriber`]s, [`Queue`]. Faults: [`Fault`].

mod broker;
mod dist;
mod faults;
mod service;
mod workload;

pub use broker::{Queue, Subscriber, Topic};
pub use dist::{Const, Empirical, Exp, Gamma, LogNormal, Uniform};
pub use faults::{Failures, Fault, ReplicaFault};
pub use service::{
    Backoff, Breaker, Budget, Bulkhead, Call, Choice, Deadlines, Enqueue, EnvoyBudget,
    ExponentialBackoff, Parallel, Publish, Retry, Service, Steps, WhenDown,
};
pub use workload::{Arrivals, Constant, Entry, Poisson};

/// How callers spread requests over replicas (the file's `balancer`).
pub use crate::spec::BalancerSpec as Balancer;
/// What a consumer group does with a message that failed every attempt.
pub use crate::spec::ExhaustedSpec as Exhausted;
/// Randomisation of retry sleeps.
pub use crate::spec::JitterSpec as Jitter;
/// Outcomes a retry policy may retry.
pub use crate::spec::RetryOnSpec as RetryOn;

use crate::error::{LoadError, Problem};
use crate::spec::overrides::Override;
use crate::spec::{
    DeadlineSpec, FaultKindSpec, FaultSpec, OrderedMap, QueueSpec, RunSpec, ServiceSpec, TopicSpec,
    TopologySpec,
};
use crate::time::{SimDuration, NS_PER_MS, NS_PER_S, NS_PER_US};

/// A duration as the builder's setters take it: text with a unit (`"150ms"`, checked when the
/// topology is built, as in a file), a [`SimDuration`] or a [`std::time::Duration`].
pub trait IntoDuration {
    /// The duration as the file format writes it.
    fn into_duration(self) -> String;
}

impl IntoDuration for &str {
    fn into_duration(self) -> String {
        self.to_string()
    }
}

impl IntoDuration for String {
    fn into_duration(self) -> String {
        self
    }
}

impl IntoDuration for &String {
    fn into_duration(self) -> String {
        self.clone()
    }
}

impl IntoDuration for SimDuration {
    fn into_duration(self) -> String {
        exact(u128::from(self.as_nanos()))
    }
}

impl IntoDuration for std::time::Duration {
    fn into_duration(self) -> String {
        exact(self.as_nanos())
    }
}

/// `ns` nanoseconds in the largest unit that writes it exactly (`"90s"`, `"1500us"`); one too
/// long for the clock is written as it is and refused when the topology is built.
fn exact(ns: u128) -> String {
    let units: [(u128, &str); 7] = [
        (86_400 * u128::from(NS_PER_S), "d"),
        (3_600 * u128::from(NS_PER_S), "h"),
        (60 * u128::from(NS_PER_S), "m"),
        (u128::from(NS_PER_S), "s"),
        (u128::from(NS_PER_MS), "ms"),
        (u128::from(NS_PER_US), "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0ms".into();
    }
    let (size, unit) = units
        .iter()
        .find(|(size, _)| ns.is_multiple_of(*size))
        .copied()
        .unwrap_or((1, "ns"));
    format!("{}{unit}", ns / size)
}

/// Milliseconds as a duration: `2.5` → `"2.5ms"` (a negative or non-finite number is written
/// as it is and refused when the topology is built, with the file's message).
pub(crate) fn ms(value: impl Into<f64>) -> String {
    format!("{}ms", value.into())
}

/// A whole topology, built in Rust (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct Topology {
    spec: TopologySpec,
    /// Variants as `PATH=VALUE` edits, checked when the spec is made.
    variants: Vec<(String, Vec<String>)>,
}

impl Topology {
    /// An empty topology called `name` (the name reports show).
    pub fn new(name: impl Into<String>) -> Topology {
        Topology {
            spec: TopologySpec {
                name: Some(name.into()),
                run: RunSpec::default(),
                workload: Vec::new(),
                services: OrderedMap::default(),
                faults: Vec::new(),
                deadlines: None,
                topics: OrderedMap::default(),
                queues: OrderedMap::default(),
                variants: OrderedMap::default(),
            },
            variants: Vec::new(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.spec.name.as_deref().unwrap_or_default()
    }

    /// Simulated time, warm-up included (default `"60s"`).
    pub fn duration(mut self, d: impl IntoDuration) -> Self {
        self.spec.run.duration = Some(d.into_duration());
        self
    }

    /// The initial span left out of the statistics (default none).
    pub fn warmup(mut self, d: impl IntoDuration) -> Self {
        self.spec.run.warmup = Some(d.into_duration());
        self
    }

    /// The seed of every random stream (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.spec.run.seed = Some(seed);
        self
    }

    /// Width of the report's time-series buckets (default `"1s"`).
    pub fn bucket(mut self, d: impl IntoDuration) -> Self {
        self.spec.run.bucket = Some(d.into_duration());
        self
    }

    /// Cap on requests in flight at once (default 1,000,000).
    pub fn max_in_flight(mut self, n: u64) -> Self {
        self.spec.run.max_in_flight = Some(n);
        self
    }

    /// Most events at one virtual instant (default 10,000,000).
    pub fn max_events_per_instant(mut self, n: u64) -> Self {
        self.spec.run.max_events_per_instant = Some(n);
        self
    }

    /// Deadline propagation and cancellation for every call and entry point (default
    /// neither).
    pub fn deadlines(mut self, d: Deadlines) -> Self {
        self.spec.deadlines = Some(d.into());
        self
    }

    /// Adds an entry point.
    pub fn entry(mut self, entry: Entry) -> Self {
        self.spec.workload.push(entry.into());
        self
    }

    /// Adds service `name`.
    pub fn service(mut self, name: impl Into<String>, service: Service) -> Self {
        self.spec.services.0.push((name.into(), service.into()));
        self
    }

    /// Adds topic `name` to the broker.
    pub fn topic(mut self, name: impl Into<String>, topic: Topic) -> Self {
        self.spec.topics.0.push((name.into(), topic.into()));
        self
    }

    /// Adds work queue `name` to the broker.
    pub fn queue(mut self, name: impl Into<String>, queue: Queue) -> Self {
        self.spec.queues.0.push((name.into(), queue.into()));
        self
    }

    /// Adds a fault: `what` goes wrong `at` (from the start of the run, warm-up included)
    /// and `lasts` that long.
    pub fn fault(
        mut self,
        at: impl IntoDuration,
        lasts: impl IntoDuration,
        what: impl Into<FaultKindSpec>,
    ) -> Self {
        self.spec.faults.push(FaultSpec {
            at: at.into_duration(),
            lasts: lasts.into_duration(),
            fault: what.into(),
        });
        self
    }

    /// Declares variant `name`: edits `PATH=VALUE` as on the command line
    /// (`"services[api].workers=4"`, `"services[api].steps[0].timeout=300ms"`), applied to
    /// this topology's text by [`crate::model::Model::variant`].
    pub fn variant<I, S>(mut self, name: impl Into<String>, edits: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.variants.push((
            name.into(),
            edits.into_iter().map(|e| e.as_ref().to_string()).collect(),
        ));
        self
    }

    /// The spec, as a file would hold it. A variant edit that is not `PATH=VALUE` with a RON
    /// value is a problem at `variants[name]`.
    pub fn spec(&self) -> Result<TopologySpec, LoadError> {
        let mut spec = self.spec.clone();
        let mut problems = Vec::new();
        for (name, edits) in &self.variants {
            let mut map = OrderedMap::default();
            for edit in edits {
                let path = format!("variants[{name}]");
                match edit.parse::<Override>() {
                    Err(message) => problems.push(Problem::new(path, message)),
                    Ok(o) => match ron::value::RawValue::from_boxed_ron(o.value.clone().into()) {
                        Ok(raw) => map.0.push((o.path, raw)),
                        Err(e) => problems.push(Problem::new(
                            path,
                            format!("`{}` is not a RON value: {}", o.value, e.code),
                        )),
                    },
                }
            }
            spec.variants.0.push((name.clone(), map));
        }
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(LoadError::Invalid {
                origin: self.origin(),
                problems,
            })
        }
    }

    /// The topology as RON text, as a file would say it (see [`TopologySpec::to_ron`]).
    pub fn to_ron(&self) -> Result<String, LoadError> {
        Ok(self.spec()?.to_ron())
    }

    /// The name messages give a built topology: `shop (built)`.
    pub fn origin(&self) -> String {
        format!("{} (built)", self.name())
    }
}

impl From<ServiceSpec> for Service {
    fn from(spec: ServiceSpec) -> Service {
        Service::from_spec(spec)
    }
}

impl From<TopicSpec> for Topic {
    fn from(spec: TopicSpec) -> Topic {
        Topic::from_spec(spec)
    }
}

impl From<QueueSpec> for Queue {
    fn from(spec: QueueSpec) -> Queue {
        Queue::from_spec(spec)
    }
}

impl From<Deadlines> for DeadlineSpec {
    fn from(d: Deadlines) -> DeadlineSpec {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_exactly() {
        assert_eq!(SimDuration::from_millis(150).into_duration(), "150ms");
        assert_eq!(SimDuration(1_234_567).into_duration(), "1234567ns");
        assert_eq!(SimDuration::from_secs(120).into_duration(), "2m");
        assert_eq!(SimDuration::ZERO.into_duration(), "0ms");
        assert_eq!(
            std::time::Duration::from_micros(1500).into_duration(),
            "1500us"
        );
        assert_eq!(
            std::time::Duration::from_secs(u64::MAX).into_duration(),
            format!("{}s", u64::MAX)
        );
        assert_eq!(ms(2.5), "2.5ms");
        assert_eq!(ms(100), "100ms");
        assert_eq!(ms(1e-7), "0.0000001ms");
        for text in ["150ms", "2.5s", "1h"] {
            let d = crate::time::parse_duration(text).unwrap();
            assert_eq!(crate::time::parse_duration(&d.into_duration()), Ok(d));
        }
    }
}
