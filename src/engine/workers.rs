//! Workers: local work, the workers of event-loop services, and what each busy worker holds
//! its request for (the occupancy the observer integrates).

use super::event::Event;
use super::kernel::Key;
use super::observer::{HOLD_FANOUT, HOLD_WORKING, NOT_HOLDING};
use super::simulation::Simulation;
use crate::time::{SimDuration, SimTime};

impl Simulation<'_> {
    /// Local work of `d` for `strand`: at a thread-per-request service the request's worker
    /// does it; at a non-blocking one it needs a free worker, or waits for one.
    pub(super) fn begin_work(
        &mut self,
        strand: Key,
        job: Key,
        service: usize,
        replica: usize,
        d: SimDuration,
    ) {
        let now = self.clock.now;
        if self.model.services[service].max_in_flight.is_none() {
            self.set_holding(job, HOLD_WORKING);
            self.clock
                .schedule(SimTime(now).after(d), Event::WorkDone { strand });
            return;
        }
        let workers = self.model.services[service].workers;
        let global = self.replica_base[service] + replica as u32;
        let rep = &mut self.services[service].replicas[replica];
        if rep.cpu < workers {
            rep.cpu += 1;
            self.observer.cpu_taken(service, now);
            self.clock.schedule(
                SimTime(now).after(d),
                Event::CpuDone {
                    strand,
                    replica: global,
                },
            );
        } else {
            rep.ready.push_back((strand, d));
            self.observer.cpu_waits(service, now);
        }
    }

    /// Local work at a non-blocking replica ended: its worker takes the next live waiting
    /// work, or idles; then the strand goes on.
    pub(super) fn on_cpu_done(&mut self, strand: Key, global: u32) {
        let now = self.clock.now;
        let service = self.replica_base.partition_point(|&b| b <= global) - 1;
        let replica = (global - self.replica_base[service]) as usize;
        loop {
            let next = self.services[service].replicas[replica].ready.pop_front();
            match next {
                Some((st, d)) => {
                    self.observer.cpu_handed_on(service, now);
                    let alive = self
                        .strands
                        .get(st)
                        .and_then(|s| self.jobs.get(s.job))
                        .is_some_and(|j| !j.killed);
                    if alive {
                        self.clock.schedule(
                            SimTime(now).after(d),
                            Event::CpuDone {
                                strand: st,
                                replica: global,
                            },
                        );
                        break;
                    }
                    self.abandon(st);
                }
                None => {
                    self.services[service].replicas[replica].cpu -= 1;
                    self.observer.cpu_idle(service, now);
                    break;
                }
            }
        }
        self.run_strand(strand);
    }

    /// Records what the worker of `job` does from now on (ignored during a fan-out, which
    /// holds the worker as a whole).
    pub(super) fn set_holding(&mut self, job: Key, slot: u16) {
        let now = self.clock.now;
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        if (j.fanout > 0 && slot != HOLD_FANOUT) || j.holding == slot {
            return;
        }
        if self.model.services[j.service as usize]
            .max_in_flight
            .is_some()
        {
            return; // its workers only ever work; `begin_work` counts them
        }
        self.observer
            .holding(j.service as usize, now, j.holding, slot);
        j.holding = slot;
    }

    /// The worker of `job` is free: it leaves the occupancy.
    pub(super) fn release_holding(&mut self, job: Key) {
        let now = self.clock.now;
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        if j.holding != NOT_HOLDING {
            self.observer
                .holding(j.service as usize, now, j.holding, NOT_HOLDING);
            j.holding = NOT_HOLDING;
        }
    }
}
