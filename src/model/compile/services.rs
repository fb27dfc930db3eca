//! Services (`services:`): replicas, workers, queue, error probability, balancer, work and
//! steps.
//!
//! Each service, in file order, is checked field by field: `replicas` (1 to
//! [`MAX_REPLICAS`]), `workers` (1 to [`MAX_WORKERS`]), `queue` (at most [`MAX_QUEUE`]),
//! `errors` (a probability), `work` (a distribution), then its steps (see [`super::steps`]),
//! and last `nonblocking.max_in_flight` (at least 1). Failure processes are compiled later,
//! with the faults.

use super::Compiler;
use crate::dist::Dist;
use crate::model::{Balancer, Service, ServiceId};
use crate::spec::{BalancerSpec, ServiceSpec, TopologySpec};

/// Most replicas of one service (the engine keeps state per replica).
pub const MAX_REPLICAS: u32 = 10_000;
/// Most workers per replica (the analytic shadow's Erlang formulas loop over them).
pub const MAX_WORKERS: u32 = 1_000_000;
/// Longest bounded queue per replica (the M/M/c/K shadow keeps a probability per place);
/// leave `queue` out for an unbounded one.
pub const MAX_QUEUE: u32 = 1_000_000;

impl Compiler<'_> {
    /// Every service, in file order (ids are positions, duplicates included).
    pub(super) fn services(&mut self, spec: &TopologySpec) -> Vec<Service> {
        spec.services
            .iter()
            .enumerate()
            .map(|(i, (name, s))| self.service(ServiceId(i as u32), name, s))
            .collect()
    }

    fn service(&mut self, id: ServiceId, name: &str, s: &ServiceSpec) -> Service {
        let path = format!("services[{name}]");
        let replicas = self.replicas(&path, s.replicas.unwrap_or(1));
        let workers = self.workers(&path, s.workers.unwrap_or(1));
        self.queue_limit(&path, s.queue);
        let error_prob = self.error_probability(&path, s.errors.unwrap_or(0.0));
        let work = self
            .optional_dist(&format!("{path}.work"), &s.work)
            .unwrap_or(Dist::Zero);
        let body = self.block(id, &format!("{path}.steps"), Some(work.clone()), &s.steps);
        Service {
            name: name.to_string(),
            replicas: replicas.max(1),
            workers: workers.max(1),
            queue: s.queue,
            error_prob,
            balancer: balancer(s.balancer),
            work,
            body,
            failures: None,
            max_in_flight: self.nonblocking(&path, s),
        }
    }

    /// `replicas`: 1 to [`MAX_REPLICAS`].
    fn replicas(&mut self, path: &str, replicas: u32) -> u32 {
        if replicas == 0 {
            self.at(path)
                .at("replicas")
                .push("replicas must be at least 1");
        } else if replicas > MAX_REPLICAS {
            self.at(path).at("replicas").push(format!(
                "{replicas} replicas is more than the {MAX_REPLICAS} a service may have"
            ));
        }
        replicas
    }

    /// `workers`: 1 to [`MAX_WORKERS`].
    fn workers(&mut self, path: &str, workers: u32) -> u32 {
        if workers == 0 {
            self.at(path)
                .at("workers")
                .push("workers must be at least 1 (a service without workers never answers)");
        } else if workers > MAX_WORKERS {
            self.at(path).at("workers").push(format!(
                "{workers} workers is more than the {MAX_WORKERS} a replica may have"
            ));
        }
        workers
    }

    /// `queue`: at most [`MAX_QUEUE`] (left out: unbounded).
    fn queue_limit(&mut self, path: &str, queue: Option<u32>) {
        if let Some(q) = queue.filter(|&q| q > MAX_QUEUE) {
            self.at(path).at("queue").push_with_hint(
                format!("a queue of {q} is longer than the {MAX_QUEUE} allowed"),
                "leave `queue` out for an unbounded queue",
            );
        }
    }

    /// `errors`: a probability.
    fn error_probability(&mut self, path: &str, p: f64) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            self.at(path)
                .at("errors")
                .push(format!("errors is a probability between 0 and 1, not {p}"));
        }
        p
    }

    /// `nonblocking.max_in_flight`: at least 1.
    fn nonblocking(&mut self, path: &str, s: &ServiceSpec) -> Option<u32> {
        match s.nonblocking {
            Some(nb) if nb.max_in_flight == 0 => {
                self.at(path)
                    .at("nonblocking.max_in_flight")
                    .push("a non-blocking service must admit at least 1 request in flight");
                None
            }
            Some(nb) => Some(nb.max_in_flight),
            None => None,
        }
    }
}

/// The balancer, round robin when left out.
fn balancer(spec: Option<BalancerSpec>) -> Balancer {
    match spec.unwrap_or(BalancerSpec::RoundRobin) {
        BalancerSpec::RoundRobin => Balancer::RoundRobin,
        BalancerSpec::Random => Balancer::Random,
        BalancerSpec::LeastOutstanding => Balancer::LeastOutstanding,
        BalancerSpec::PowerOfTwo => Balancer::PowerOfTwo,
    }
}
