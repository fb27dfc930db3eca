//! Answers: a request's steps are done, its worker is released, and its response travels
//! back to whoever waits (a client, a calling strand, a consumer).

use super::event::{Event, Micro};
use super::kernel::Key;
use super::observer::Visit;
use super::request::{Job, Parent, Phase, NOT_ORPHANED, NO_CALL};
use super::simulation::Simulation;
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
        let (service, replica) = (job.service as usize, job.replica as usize);
        self.remove_running(key, &job);
        self.release_holding(key);
        let error_prob = self.model.services[service].error_prob;
        let svc = &mut self.services[service];
        let burst = svc.replicas[replica].burst_errors;
        let outcome = match failure {
            Some(f) => f,
            None if error_prob > 0.0 && svc.error_rng.random::<f64>() < error_prob => {
                Outcome::Error
            }
            None if burst > 0.0 && svc.error_rng.random::<f64>() < burst => Outcome::Error,
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
        self.services[job.service as usize].replicas[job.replica as usize].outstanding -= 1;
        let visit = Visit {
            arrived: job.arrived,
            started: (job.started != u64::MAX).then_some(job.started),
            orphaned_at: (job.orphaned_at != NOT_ORPHANED).then_some(job.orphaned_at),
        };
        self.observer
            .left(job.service as usize, now, visit, outcome, accepted);
        let call = job.call;
        let (lost, latency) = match call {
            NO_CALL => (false, None),
            c => {
                let l = self.model.calls[c as usize]
                    .latency
                    .as_ref()
                    .map(|d| d.sample(&mut self.calls[c as usize].rng));
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
        self.services[job.service as usize].live -= 1;
        self.notify(&job, job.outcome);
    }

    /// Tells the waiting parent of `job` that it ended with `outcome`.
    pub(super) fn notify(&mut self, job: &Job, outcome: Outcome) {
        match job.parent {
            Parent::Orphan => {}
            Parent::Consumer(delivery) => self.consumed(delivery, outcome),
            Parent::QueueConsumer(delivery) => self.queue_processed(delivery, outcome),
            Parent::Client { entry } => self.answer_client(entry, outcome, job.sent),
            Parent::Strand(strand) => self.attempt_done(strand, outcome),
        }
    }

    /// The client of entry point `entry` that sent a request at `sent` has its answer now.
    pub(super) fn answer_client(&mut self, entry: u32, outcome: Outcome, sent: u64) {
        self.observer.answered(entry, outcome, sent, self.clock.now);
    }
}
