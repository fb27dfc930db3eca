//! Answers: a request's steps are done, its worker is released, and its response travels
//! back to whoever waits (a client, a calling strand, a consumer).

use super::event::{Event, Micro};
use super::kernel::{Key, NonMaxU64};
use super::observer::Visit;
use super::request::{Job, Parent, Phase};
use super::simulation::Simulation;
use crate::model::EntryId;
use crate::outcome::Outcome;
use crate::time::SimDuration;
use rand::Rng;

impl Simulation<'_> {
    /// The job's steps are done: draw its own error, free the worker, answer.
    pub(super) fn complete_job(&mut self, key: Key, failure: Option<Outcome>) {
        let Some(job) = self.jobs.get(key).copied() else {
            return;
        };
        if job.killed {
            return;
        }
        let (service, replica) = (job.service, job.replica);
        self.remove_running(key, &job);
        self.release_holding(key);
        let error_prob = self.model.service_at(service).error_prob;
        let svc = &mut self.services[service.0 as usize];
        let bursts = svc.replicas[replica as usize].bursts;
        let outcome = match failure {
            Some(f) => f,
            None if error_prob > 0.0 && svc.error_rng.random::<f64>() < error_prob => {
                Outcome::Error
            }
            None if bursts > 0 && self.burst_error(service, replica) => Outcome::Error,
            None if job.degraded => Outcome::Degraded,
            None => Outcome::Ok,
        };
        self.release_worker(service, replica);
        self.finish_at_service(key, outcome, true);
    }

    /// The job leaves its service with `outcome`: statistics, then the response goes back.
    /// `accepted` is false for a job refused at the door, which spent no time here.
    pub(super) fn finish_at_service(&mut self, key: Key, outcome: Outcome, accepted: bool) {
        let now = self.clock.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        job.outcome = outcome;
        job.phase = Phase::Done;
        let (service, replica) = (job.service, job.replica);
        let visit = Visit {
            arrived: job.arrived,
            started: job.started.map(NonMaxU64::get),
            orphaned_at: job.orphaned_at.map(NonMaxU64::get),
        };
        let call = job.parent.call();
        self.replica_mut(service, replica).outstanding -= 1;
        self.observer.left(service, now, visit, outcome, accepted);
        let (lost, latency) = match call {
            None => (false, None),
            Some(c) => {
                let l = self
                    .model
                    .call_edge(c)
                    .latency
                    .as_ref()
                    .map(|d| d.sample(&mut self.calls[c.0 as usize].response_rng));
                let (lost, extra) = self.edge_faults(c);
                (lost, Some(SimDuration(l.unwrap_or_default().0 + extra.0)))
            }
        };
        if lost {
            // The response is dropped by a partition: the caller's timeout ends the job.
            if let Some(j) = self.jobs.get_mut(key) {
                j.lost = true;
            }
            return;
        }
        match latency {
            Some(d) if d > SimDuration::ZERO => self.clock.after(d, Event::Respond { job: key }),
            _ => self.clock.soon(Micro::Respond(key)),
        }
    }

    /// The response reaches whoever still waits; the job is gone.
    pub(super) fn respond(&mut self, key: Key) {
        let Some(job) = self.jobs.remove(key) else {
            return;
        };
        self.services[job.service.0 as usize].live -= 1;
        self.notify(&job, job.outcome);
    }

    /// Tells the parent of `job` that it ended with `outcome`, if the parent still waits.
    pub(super) fn notify(&mut self, job: &Job, outcome: Outcome) {
        if !job.awaited() {
            return;
        }
        match job.parent {
            Parent::TopicConsumer { delivery } => self.consumed(delivery, outcome),
            Parent::QueueConsumer { delivery } => self.queue_processed(delivery, outcome),
            Parent::Client { entry } => self.answer_client(entry, outcome, job.sent),
            Parent::Caller { strand, .. } => self.attempt_done(strand, outcome),
        }
    }

    /// The client of entry point `entry` that sent a request at `sent` has its answer now.
    pub(super) fn answer_client(&mut self, entry: EntryId, outcome: Outcome, sent: u64) {
        self.observer.answered(entry, outcome, sent, self.clock.now);
    }
}
