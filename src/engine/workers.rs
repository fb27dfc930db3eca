//! Workers: local work, the workers of event-loop services, and what each busy worker holds
//! its request for (the occupancy the observer integrates).

use super::event::Event;
use super::kernel::Key;
use super::observer::Hold;
use super::service::GlobalReplica;
use super::simulation::Simulation;
use crate::model::ServiceId;
use crate::time::SimDuration;

impl Simulation<'_> {
    /// Local work of `d` for `strand`: at a thread-per-request service the request's worker
    /// does it; at an event-loop one it needs a free worker, or waits for one.
    pub(super) fn begin_work(
        &mut self,
        strand: Key,
        job: Key,
        service: ServiceId,
        replica: u32,
        d: SimDuration,
    ) {
        let now = self.clock.now;
        let def = self.model.service_at(service);
        if def.max_in_flight.is_none() {
            self.set_holding(job, Hold::WORKING);
            self.clock.after(d, Event::WorkDone { strand });
            return;
        }
        let at = self.numbering.global(service, replica);
        let rep = self.replica_mut(service, replica);
        if rep.cpu < def.workers {
            rep.cpu += 1;
            self.observer.cpu_taken(service, now);
            self.clock.after(d, Event::CpuDone { strand, at });
        } else {
            rep.ready.push_back((strand, d));
            self.observer.cpu_waits(service, now);
        }
    }

    /// Local work at an event-loop replica ended: its worker takes the next live waiting
    /// work, or idles; then the strand goes on.
    pub(super) fn on_cpu_done(&mut self, strand: Key, at: GlobalReplica) {
        let now = self.clock.now;
        let (service, replica) = self.numbering.locate(at);
        loop {
            let next = self.replica_mut(service, replica).ready.pop_front();
            match next {
                Some((st, d)) => {
                    self.observer.cpu_handed_on(service, now);
                    let alive = self
                        .strands
                        .get(st)
                        .and_then(|s| self.jobs.get(s.job))
                        .is_some_and(|j| !j.killed);
                    if alive {
                        self.clock.after(d, Event::CpuDone { strand: st, at });
                        break;
                    }
                    self.abandon(st);
                }
                None => {
                    self.replica_mut(service, replica).cpu -= 1;
                    self.observer.cpu_idle(service, now);
                    break;
                }
            }
        }
        self.run_strand(strand);
    }

    /// Records what the worker of `job` does from now on (ignored during a fan-out, which
    /// holds the worker as a whole).
    pub(super) fn set_holding(&mut self, job: Key, slot: Hold) {
        let now = self.clock.now;
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        if (j.fanout > 0 && slot != Hold::FANOUT) || j.holding == Some(slot) {
            return;
        }
        if self.model.service_at(j.service).max_in_flight.is_some() {
            return; // its workers only ever work; `begin_work` counts them
        }
        self.observer.holding(j.service, now, j.holding, Some(slot));
        j.holding = Some(slot);
    }

    /// The worker of `job` is free: it leaves the occupancy.
    pub(super) fn release_holding(&mut self, job: Key) {
        let now = self.clock.now;
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        if let Some(slot) = j.holding.take() {
            self.observer.holding(j.service, now, Some(slot), None);
        }
    }
}
