//! Admission: a request reaches its replica and gets a worker, a place in the queue, or a
//! refusal; a worker that frees up goes to the next request in line.

use super::event::Micro;
use super::kernel::{Key, NonMaxU64};
use super::observer::Unstarted;
use super::request::{Job, Phase, Strand};
use super::simulation::Simulation;
use crate::model::ServiceId;
use crate::outcome::Outcome;

impl Simulation<'_> {
    /// A job reaches its replica: a free worker takes it, or it queues, or it is rejected.
    pub(super) fn deliver(&mut self, key: Key) {
        self.arrive(key, false);
    }

    /// A job reaches its replica (see [`deliver`](Self::deliver)); with `defer_start`, a job
    /// that gets a worker starts after the current step (`Micro::Start`) instead of now.
    pub(super) fn arrive(&mut self, key: Key, defer_start: bool) {
        let now = self.clock.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        let (service, replica) = (job.service, job.replica);
        let rep = &mut self.services[service.0 as usize].replicas[replica as usize];
        if rep.down == 0 && rep.hung > 0 {
            rep.parked.push(key);
            return;
        }
        job.arrived = now;
        self.observer.reached(service, now);
        if job.cancelled || job.deadline.passed(now) {
            // Cancelled on the way, or arrived past its deadline: dropped unstarted.
            let why = if job.cancelled {
                Unstarted::Cancelled
            } else {
                Unstarted::Expired
            };
            self.observer.unstarted(service, now, why);
            self.finish_at_service(key, Outcome::Timeout, false);
            return;
        }
        let def = self.model.service_at(service);
        let limit = def.max_in_flight.unwrap_or(def.workers);
        let capacity = def.queue;
        let rep = &mut self.services[service.0 as usize].replicas[replica as usize];
        if rep.down > 0 {
            // Connection refused: fast, no worker, no time in the system.
            self.observer.refused(service, now, Outcome::Unavailable);
            self.finish_at_service(key, Outcome::Unavailable, false);
        } else if rep.admitted < limit {
            rep.admitted += 1;
            self.observer.admitted(service, now);
            if defer_start {
                self.clock.soon(Micro::Start(key));
            } else {
                self.start(key);
            }
        } else if capacity.is_none_or(|c| (rep.queue.len() as u32) < c) {
            rep.queue.push_back(key);
            if let Some(j) = self.jobs.get_mut(key) {
                j.phase = Phase::Queued;
            }
            self.observer.queued(service, now);
        } else {
            // Rejected at the door: no worker, no time in the system.
            self.observer.refused(service, now, Outcome::Rejected);
            self.finish_at_service(key, Outcome::Rejected, false);
        }
    }

    /// Starts `key` on a worker already counted as busy for it.
    pub(super) fn start(&mut self, key: Key) {
        let now = self.clock.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if job.deadline.passed(now) {
            // Its deadline passed while it queued: dropped without work; the worker moves on.
            let (s, r) = (job.service, job.replica);
            self.observer.unstarted(s, job.arrived, Unstarted::Expired);
            self.release_worker(s, r);
            self.finish_at_service(key, Outcome::Timeout, true);
            return;
        }
        self.observer.started(job.service, job.arrived, now);
        job.phase = Phase::Running;
        job.started = NonMaxU64::new(now);
        let rep = &mut self.services[job.service.0 as usize].replicas[job.replica as usize];
        job.slot = rep.running.len() as u32;
        rep.running.push(key);
        let body = self.model.service_at(job.service).body;
        let strand = self.strands.insert(Strand::new(key, body, None));
        self.run_strand(strand);
    }

    /// A worker of a replica is free: it takes the next job in line, or idles.
    pub(super) fn release_worker(&mut self, service: ServiceId, replica: u32) {
        let now = self.clock.now;
        let rep = &mut self.services[service.0 as usize].replicas[replica as usize];
        match rep.queue.pop_front() {
            // Hand the worker straight to the next job in line.
            Some(next) => {
                self.observer.handed_on(service, now);
                self.clock.soon(Micro::Start(next));
            }
            None => {
                rep.admitted -= 1;
                self.observer.worker_idle(service, now);
            }
        }
        if !rep.waiting.is_empty() {
            self.room_freed(service, replica);
        }
    }

    /// Takes a queued job out of its queue: its caller gave up and cancelled it.
    pub(super) fn cancel_queued(&mut self, key: Key, job: &Job) {
        let now = self.clock.now;
        let rep = self.replica_mut(job.service, job.replica);
        let Some(pos) = rep.queue.iter().position(|&k| k == key) else {
            return;
        };
        rep.queue.remove(pos);
        self.observer
            .cancelled_in_queue(job.service, now, job.arrived);
        self.room_freed(job.service, job.replica);
        self.finish_at_service(key, Outcome::Timeout, true);
    }
}
