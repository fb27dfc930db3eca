//! The state of services and their replicas: workers, queues, what faults do to them, and
//! the balancer that picks a replica for each request.

use super::broker::backpressure::Waiter;
use super::kernel::Key;
use super::simulation::Simulation;
use crate::failure::Renewal;
use crate::model::{Balancer, Model, ServiceId};
use crate::rng::SimRng;
use crate::time::SimDuration;
use rand::Rng;
use std::collections::VecDeque;

/// One replica of a service: its workers, its queue, and what faults do to it.
pub(super) struct Replica {
    /// Requests admitted (holding a worker, or an in-flight slot at a non-blocking service).
    pub(super) admitted: u32,
    /// Non-blocking services: workers doing local work now.
    pub(super) cpu: u32,
    /// Non-blocking services: local work waiting for a worker (strand, duration).
    pub(super) ready: VecDeque<(Key, SimDuration)>,
    pub(super) queue: VecDeque<Key>,
    /// Jobs assigned to this replica and not yet answered (for the balancers).
    pub(super) outstanding: u32,
    /// Jobs holding a worker.
    pub(super) running: Vec<Key>,
    /// Causes that hold it down (crash faults, its failure process); down while > 0.
    pub(super) down: u32,
    /// Hang faults in force; requests arriving meanwhile are parked while > 0.
    pub(super) hung: u32,
    /// Requests that arrived while it hung, delivered when the hang ends.
    pub(super) parked: Vec<Key>,
    /// Product of the slowdown factors in force.
    pub(super) slowdown: f64,
    /// Error bursts in force (each draws from its own stream, see `faults.rs`).
    pub(super) bursts: u32,
    /// Its failure process, if the service has one, and that process's random stream.
    pub(super) renewal: Option<(Renewal, SimRng)>,
    /// Consumers living here that wait for room to hand it a message (see `backpressure.rs`).
    pub(super) waiting: VecDeque<Waiter>,
    /// A `Micro::Wake` for the waiting consumers is due.
    pub(super) wake_due: bool,
}

impl Default for Replica {
    fn default() -> Self {
        Replica {
            admitted: 0,
            cpu: 0,
            ready: VecDeque::new(),
            queue: VecDeque::new(),
            outstanding: 0,
            running: Vec::new(),
            down: 0,
            hung: 0,
            parked: Vec::new(),
            slowdown: 1.0,
            bursts: 0,
            renewal: None,
            waiting: VecDeque::new(),
            wake_due: false,
        }
    }
}

/// One service: its replicas, its random streams and the balancer's memory.
pub(super) struct ServiceState {
    pub(super) replicas: Vec<Replica>,
    /// The next replica of the round-robin balancer.
    pub(super) next_rr: u32,
    /// Work times: the service's `work` and its `Work` steps.
    pub(super) work_rng: SimRng,
    /// `Choice` picks and `Parallel` probabilities (calls and publishes have their own).
    pub(super) route_rng: SimRng,
    /// The service's own errors, apart from work times so that changing one does not
    /// reshuffle the other (error bursts draw from the fault's stream).
    pub(super) error_rng: SimRng,
    /// The balancer's picks, and the replica of a retry that avoids the last one.
    pub(super) balance_rng: SimRng,
    /// Jobs of this service alive anywhere (transit, queue, service, response).
    pub(super) live: u64,
}

/// A replica numbered across all services (service 0's replicas first, then service 1's…),
/// so that an event can name one in a single `u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GlobalReplica(u32);

/// The numbering of [`GlobalReplica`]s: each service's first number.
pub(super) struct ReplicaNumbering {
    base: Vec<u32>,
}

impl ReplicaNumbering {
    pub(super) fn new(model: &Model) -> Self {
        ReplicaNumbering {
            base: model
                .services
                .iter()
                .scan(0u32, |next, s| {
                    let base = *next;
                    *next += s.replicas;
                    Some(base)
                })
                .collect(),
        }
    }

    /// The number of replica `replica` of `service`.
    #[inline]
    pub(super) fn global(&self, service: ServiceId, replica: u32) -> GlobalReplica {
        GlobalReplica(self.base[service.0 as usize] + replica)
    }

    /// The service and replica index of replica number `g`.
    #[inline]
    pub(super) fn locate(&self, g: GlobalReplica) -> (ServiceId, u32) {
        let s = self.base.partition_point(|&b| b <= g.0) - 1;
        (ServiceId(s as u32), g.0 - self.base[s])
    }
}

impl Simulation<'_> {
    /// The state of replica `replica` of `service`.
    #[inline]
    pub(super) fn replica(&self, service: ServiceId, replica: u32) -> &Replica {
        &self.services[service.0 as usize].replicas[replica as usize]
    }

    /// The state of replica `replica` of `service`, to change.
    #[inline]
    pub(super) fn replica_mut(&mut self, service: ServiceId, replica: u32) -> &mut Replica {
        &mut self.services[service.0 as usize].replicas[replica as usize]
    }

    /// Picks a replica with the service's balancer; `avoid` is skipped when there is another
    /// one (retries to another replica).
    pub(super) fn pick_replica(&mut self, service: ServiceId, avoid: Option<u32>) -> u32 {
        let s = &mut self.services[service.0 as usize];
        let n = s.replicas.len() as u32;
        if n == 1 {
            return 0;
        }
        if let Some(avoid) = avoid.filter(|&a| a < n) {
            // Any replica but `avoid`, uniformly: the balancer's choice would often be the
            // same replica again (least-outstanding) or correlated with it (round-robin).
            let r = s.balance_rng.random_range(0..n - 1);
            return if r >= avoid { r + 1 } else { r };
        }
        match self.model.service_at(service).balancer {
            Balancer::RoundRobin => {
                let r = s.next_rr;
                s.next_rr = (r + 1) % n;
                r
            }
            Balancer::Random => s.balance_rng.random_range(0..n),
            Balancer::LeastOutstanding => (0..n)
                .min_by_key(|&r| (s.replicas[r as usize].outstanding, r))
                .unwrap_or(0),
            Balancer::PowerOfTwo => {
                let a = s.balance_rng.random_range(0..n);
                let mut b = s.balance_rng.random_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                if s.replicas[b as usize].outstanding < s.replicas[a as usize].outstanding {
                    b
                } else {
                    a
                }
            }
        }
    }
}
