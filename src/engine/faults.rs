//! Faults of the timeline and failure processes: partitions and extra latency on edges,
//! crashes, hangs, slowdowns and error bursts of replicas, and their renewal.

use super::event::{Event, Micro};
use super::kernel::Key;
use super::request::Job;
use super::simulation::Simulation;
use crate::model::faults::FaultKind;
use crate::model::{CallId, FaultId, Model, ServiceId};
use crate::outcome::Outcome;
use crate::rng::{stream, SimRng};
use crate::time::SimDuration;
use rand::Rng;

/// The faults of the timeline in force, and the random streams of the faults that draw.
///
/// A fault never draws from a stream of the model it disturbs: a latency fault's extra
/// latency, an error burst's errors and a slow broker's delays come from the fault's own
/// stream, keyed by its place in the file (`faults[3]`). So the same run with and without
/// the fault sees the same work times, errors and latencies wherever the fault does not
/// reach.
pub(super) struct Faults {
    /// The faults in force, in the order they began.
    pub(super) active: Vec<FaultId>,
    /// One stream per fault of the timeline, in file order.
    pub(super) rngs: Vec<SimRng>,
}

impl Faults {
    /// The faults of `model`, none in force, under `seed`.
    pub(super) fn new(model: &Model, seed: u64) -> Self {
        Faults {
            active: Vec::with_capacity(model.faults.len()),
            rngs: (0..model.faults.len())
                .map(|i| stream(seed, "fault", &format!("faults[{i}]"), 0))
                .collect(),
        }
    }
}

impl Simulation<'_> {
    /// Whether partition faults in force drop messages on call step `cid`, and the extra
    /// one-way latency that latency faults add to it.
    pub(super) fn edge_faults(&mut self, cid: CallId) -> (bool, SimDuration) {
        if self.faults.active.is_empty() {
            return (false, SimDuration::ZERO);
        }
        let model = self.model;
        let call = model.call_edge(cid);
        let mut lost = false;
        let mut extra = 0u64;
        let Faults { active, rngs } = &mut self.faults;
        for &f in active.iter() {
            let kind = &model.fault_at(f).kind;
            if !kind.affects_edge(call.from, call.to) {
                continue;
            }
            match kind {
                FaultKind::Partition { .. } => lost = true,
                FaultKind::Latency { add, .. } => {
                    extra += add.sample(&mut rngs[f.0 as usize]).0;
                }
                _ => {}
            }
        }
        (lost, SimDuration(extra))
    }

    /// Whether the error bursts in force on replica `r` of `service` turn a request that
    /// would succeed into an error: each burst draws once, from its own stream, and any
    /// one of them suffices (independent causes, 1 − Π(1 − pᵢ)).
    pub(super) fn burst_error(&mut self, service: ServiceId, r: u32) -> bool {
        let model = self.model;
        let mut error = false;
        let Faults { active, rngs } = &mut self.faults;
        for &f in active.iter() {
            let kind = &model.fault_at(f).kind;
            if let FaultKind::ErrorBurst { errors, .. } = kind {
                if kind.affects_replica(service, r) && rngs[f.0 as usize].random::<f64>() < *errors
                {
                    error = true;
                }
            }
        }
        error
    }

    /// Fault `idx` of the timeline starts (`begin`) or ends.
    pub(super) fn on_fault(&mut self, idx: FaultId, begin: bool) {
        let model = self.model;
        let fault = model.fault_at(idx);
        if begin {
            self.faults.active.push(idx);
            if fault.end.0 < self.clock.end {
                self.clock
                    .schedule(fault.end, Event::FaultEnd { fault: idx });
            }
        } else {
            self.faults.active.retain(|&f| f != idx);
        }
        let delta: i32 = if begin { 1 } else { -1 };
        let service = match &fault.kind {
            FaultKind::Crash { service, .. }
            | FaultKind::Hang { service, .. }
            | FaultKind::Slowdown { service, .. }
            | FaultKind::ErrorBurst { service, .. } => *service,
            FaultKind::Partition { .. }
            | FaultKind::Latency { .. }
            | FaultKind::BrokerSlow { .. } => return,
            FaultKind::BrokerDown | FaultKind::LeaderDown { .. } => {
                return self.broker_fault(&fault.kind, begin);
            }
        };
        for r in 0..model.service_at(service).replicas {
            if !fault.kind.affects_replica(service, r) {
                continue;
            }
            match &fault.kind {
                FaultKind::Crash { .. } => self.set_down(service, r, delta),
                FaultKind::Hang { .. } => {
                    let rep = self.replica_mut(service, r);
                    rep.hung = rep.hung.saturating_add_signed(delta);
                    if rep.hung == 0 {
                        for job in std::mem::take(&mut rep.parked) {
                            self.clock.soon(Micro::Deliver(job));
                        }
                    }
                }
                _ => self.recompute_degradations(service, r),
            }
        }
    }

    /// Slowdown factor and error bursts of a replica from the faults in force.
    pub(super) fn recompute_degradations(&mut self, service: ServiceId, r: u32) {
        let model = self.model;
        let (mut slowdown, mut bursts) = (1.0, 0);
        for &f in &self.faults.active {
            let kind = &model.fault_at(f).kind;
            if !kind.affects_replica(service, r) {
                continue;
            }
            match kind {
                FaultKind::Slowdown { factor, .. } => slowdown *= factor,
                FaultKind::ErrorBurst { .. } => bursts += 1,
                _ => {}
            }
        }
        let rep = self.replica_mut(service, r);
        rep.slowdown = slowdown;
        rep.bursts = bursts;
    }

    /// A replica's failure process moves to its next state.
    pub(super) fn on_renewal(&mut self, s: ServiceId, r: u32) {
        let model = self.model;
        let Some(process) = &model.service_at(s).failures else {
            return;
        };
        let Some((renewal, rng)) = &mut self.replica_mut(s, r).renewal else {
            return;
        };
        let up = renewal.advance(process, rng);
        let next = renewal.next_change();
        self.set_down(s, r, if up { -1 } else { 1 });
        if next.0 < self.clock.arrivals_end {
            self.clock.schedule(
                next,
                Event::Renewal {
                    service: s,
                    replica: r,
                },
            );
        }
    }

    /// Adds `delta` causes of being down to a replica; a replica that goes down crashes:
    /// everything inside it is lost and its callers get `unavailable`.
    pub(super) fn set_down(&mut self, s: ServiceId, r: u32, delta: i32) {
        let now = self.clock.now;
        let rep = self.replica_mut(s, r);
        let was_down = rep.down > 0;
        rep.down = rep.down.saturating_add_signed(delta);
        let is_down = rep.down > 0;
        if !was_down && is_down {
            // Requests held by a hang are inside the replica too: they are lost with it
            // (delivered now, they meet a down replica and end `unavailable`).
            for job in std::mem::take(&mut rep.parked) {
                self.clock.soon(Micro::Deliver(job));
            }
            let rep = self.replica_mut(s, r);
            let queued: Vec<Key> = rep.queue.drain(..).collect();
            let running = std::mem::take(&mut rep.running);
            let admitted = std::mem::replace(&mut rep.admitted, 0);
            // Local work waiting at a non-blocking replica is lost with it; work in progress
            // frees its worker when its CpuDone event comes.
            let ready = rep.ready.len();
            rep.ready.clear();
            self.observer
                .replica_crashed(s, now, queued.len() + ready, admitted);
            for &key in &running {
                self.release_holding(key);
            }
            for key in queued.into_iter().chain(running) {
                let arrived = self.jobs.get_mut(key).map(|j| {
                    j.killed = true;
                    j.arrived
                });
                if let Some(arrived) = arrived {
                    self.observer.lost_in_crash(s, arrived);
                }
                self.finish_at_service(key, Outcome::Unavailable, true);
            }
        }
        if was_down != is_down {
            if is_down {
                self.drop_waiters(s, r);
            }
            self.consumers_follow_replica(s, r, is_down);
            self.queue_consumers_follow_replica(s, r, is_down);
        }
        let up = self.services[s.0 as usize]
            .replicas
            .iter()
            .filter(|r| r.down == 0)
            .count() as u32;
        self.observer.up_replicas(s, now, up);
    }

    /// Takes a job off its replica's list of running jobs.
    pub(super) fn remove_running(&mut self, key: Key, job: &Job) {
        let rep = self.replica_mut(job.service, job.replica);
        let slot = job.slot as usize;
        if rep.running.get(slot) != Some(&key) {
            return;
        }
        rep.running.swap_remove(slot);
        if let Some(&moved) = rep.running.get(slot) {
            if let Some(j) = self.jobs.get_mut(moved) {
                j.slot = slot as u32;
            }
        }
    }
}
