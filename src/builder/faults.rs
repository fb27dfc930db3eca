//! Faults on the timeline and failure processes of replicas.

use super::IntoDuration;
use crate::spec::{DistSpec, FailureSpec, FaultKindSpec};

/// What goes wrong during a fault (added with [`super::Topology::fault`]).
#[derive(Debug)]
pub enum Fault {}

impl Fault {
    /// Replicas of `service` stop: calls to them are refused at once.
    pub fn crash(service: impl Into<String>) -> ReplicaFault {
        ReplicaFault(FaultKindSpec::Crash {
            service: service.into(),
            replicas: None,
        })
    }

    /// Replicas of `service` accept requests and never answer.
    pub fn hang(service: impl Into<String>) -> ReplicaFault {
        ReplicaFault(FaultKindSpec::Hang {
            service: service.into(),
            replicas: None,
        })
    }

    /// Replicas of `service` do their local work `factor` times slower.
    pub fn slowdown(service: impl Into<String>, factor: f64) -> ReplicaFault {
        ReplicaFault(FaultKindSpec::Slowdown {
            service: service.into(),
            factor,
            replicas: None,
        })
    }

    /// Replicas of `service` also fail requests with probability `errors`.
    pub fn error_burst(service: impl Into<String>, errors: f64) -> ReplicaFault {
        ReplicaFault(FaultKindSpec::ErrorBurst {
            service: service.into(),
            errors,
            replicas: None,
        })
    }

    /// The network drops every call from `from` to `to`.
    pub fn partition(from: impl Into<String>, to: impl Into<String>) -> FaultKindSpec {
        FaultKindSpec::Partition {
            from: from.into(),
            to: to.into(),
        }
    }

    /// Extra one-way latency on the calls from `from` to `to`.
    pub fn latency(from: impl Into<String>, to: impl Into<String>, add: DistSpec) -> FaultKindSpec {
        FaultKindSpec::Latency {
            from: from.into(),
            to: to.into(),
            add,
        }
    }

    /// The whole broker is down.
    pub fn broker_down() -> FaultKindSpec {
        FaultKindSpec::BrokerDown
    }

    /// The leader of partition `partition` of `topic` is down.
    pub fn leader_down(topic: impl Into<String>, partition: u32) -> FaultKindSpec {
        FaultKindSpec::LeaderDown {
            topic: topic.into(),
            partition,
        }
    }

    /// Every publish and send waits an extra sample of `add`.
    pub fn broker_slow(add: DistSpec) -> FaultKindSpec {
        FaultKindSpec::BrokerSlow { add }
    }
}

/// A fault of a service's replicas: all of them unless [`ReplicaFault::replicas`] says how
/// many.
#[derive(Clone, Debug)]
pub struct ReplicaFault(FaultKindSpec);

impl ReplicaFault {
    /// Only the `n` lowest replicas.
    pub fn replicas(mut self, n: u32) -> Self {
        match &mut self.0 {
            FaultKindSpec::Crash { replicas, .. }
            | FaultKindSpec::Hang { replicas, .. }
            | FaultKindSpec::Slowdown { replicas, .. }
            | FaultKindSpec::ErrorBurst { replicas, .. } => *replicas = Some(n),
            // A ReplicaFault is made only of the four kinds above.
            _ => {}
        }
        self
    }
}

impl From<ReplicaFault> for FaultKindSpec {
    fn from(f: ReplicaFault) -> FaultKindSpec {
        f.0
    }
}

/// Random failures and repairs of each replica of a service: the time to failure once
/// (`mttf` or `failure`), the time to repair once (`mttr` or `repair`).
#[derive(Clone, Debug, Default)]
pub struct Failures(FailureSpec);

impl Failures {
    /// Exponential times to failure and to repair, with these means.
    pub fn mttf_mttr(mttf: impl IntoDuration, mttr: impl IntoDuration) -> Failures {
        Failures::new().mttf(mttf).mttr(mttr)
    }

    /// Nothing given yet.
    pub fn new() -> Failures {
        Failures::default()
    }

    /// Mean time to failure (exponential).
    pub fn mttf(mut self, d: impl IntoDuration) -> Self {
        self.0.mttf = Some(d.into_duration());
        self
    }

    /// Mean time to repair (exponential).
    pub fn mttr(mut self, d: impl IntoDuration) -> Self {
        self.0.mttr = Some(d.into_duration());
        self
    }

    /// The distribution of times to failure, instead of `mttf`.
    pub fn failure(mut self, d: DistSpec) -> Self {
        self.0.failure = Some(d);
        self
    }

    /// The distribution of repair times, instead of `mttr`.
    pub fn repair(mut self, d: DistSpec) -> Self {
        self.0.repair = Some(d);
        self
    }
}

impl From<Failures> for FailureSpec {
    fn from(f: Failures) -> FailureSpec {
        f.0
    }
}
