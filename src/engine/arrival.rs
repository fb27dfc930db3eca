//! Arrivals: clients of entry points send requests, and every request (an entry point's, a
//! call attempt, a consumer's message) is sent on its way by [`Simulation::send`].

use super::event::{Event, Micro};
use super::kernel::Key;
use super::request::{Deadline, Dispatch, Job, Parent, Phase};
use super::service::ServiceState;
use super::simulation::Simulation;
use crate::error::RunError;
use crate::model::{Entry, EntryId, EntryTarget};
use crate::outcome::Outcome;
use crate::rng::{stream, SimRng};
use crate::time::{SimDuration, SimTime};

/// The arrival process of one entry point.
pub(super) struct EntryState {
    /// Its random stream.
    pub(super) rng: SimRng,
    /// Where the last arrival fell in a piecewise rate profile (saves a search).
    pub(super) segment_hint: usize,
}

impl EntryState {
    pub(super) fn new(e: &Entry, seed: u64) -> Self {
        EntryState {
            rng: stream(seed, "arrivals", &e.name, 0),
            segment_hint: 0,
        }
    }
}

impl Simulation<'_> {
    /// Schedules the next arrival of entry point `entry` (none past the end of arrivals).
    pub(super) fn schedule_arrival(&mut self, entry: EntryId) {
        let e = &mut self.entries[entry.0 as usize];
        let process = &self.model.entry_at(entry).arrivals;
        if let Some(t) =
            process.next_after(SimTime(self.clock.now), &mut e.rng, &mut e.segment_hint)
        {
            if t.0 < self.clock.arrivals_end {
                self.clock.schedule(t, Event::Arrival { entry });
            }
        }
    }

    /// A client of entry point `entry` sends a request (or publishes a message); the next
    /// arrival is scheduled.
    pub(super) fn on_arrival(&mut self, entry: EntryId) {
        self.schedule_arrival(entry);
        self.observer.offered(entry, self.clock.now);
        let e = self.model.entry_at(entry);
        let service = match e.target {
            EntryTarget::Service(s) => s,
            EntryTarget::Broker(to) => return self.client_publish(entry, to),
        };
        let deadline = match e.timeout {
            Some(t) if self.model.propagate_entry_deadline => {
                Deadline::at(SimTime(self.clock.now).after(t))
            }
            _ => Deadline::NONE,
        };
        self.send(Dispatch {
            timeout: e.timeout,
            deadline,
            ..Dispatch::new(Parent::Client { entry }, service)
        });
    }

    /// Creates a job as `d` says and sends it on its way.
    pub(super) fn send(&mut self, d: Dispatch) -> Key {
        let Dispatch {
            parent,
            service,
            timeout,
            latency,
            avoid,
            lost,
            deadline,
            pin,
            customer,
        } = d;
        let replica = match pin {
            Some(pin) => pin,
            None => self.pick_replica(service, avoid),
        };
        let svc = &mut self.services[service.0 as usize];
        svc.replicas[replica as usize].outstanding += 1;
        svc.live += 1;
        let now = self.clock.now;
        let job = self.jobs.insert(Job {
            service,
            replica,
            parent,
            sent: now,
            arrived: now,
            started: None,
            orphaned_at: None,
            outcome: Outcome::Ok,
            degraded: false,
            killed: false,
            lost,
            slot: 0,
            holding: None,
            fanout: 0,
            phase: Phase::Transit,
            deadline,
            cancelled: false,
            customer,
        });
        if self.jobs.len() as u64 > self.model.run.max_in_flight && self.abort.is_none() {
            self.abort = Some(self.in_flight_error());
        }
        match latency {
            _ if lost => {} // dropped by a partition: only a timeout ends it
            Some(d) if d > SimDuration::ZERO => self.clock.after(d, Event::Deliver { job }),
            // A consumer's message is admitted as it is taken (it checked for room), so that
            // no other request takes that room first; its work starts after this step.
            _ if matches!(
                parent,
                Parent::TopicConsumer { .. } | Parent::QueueConsumer { .. }
            ) =>
            {
                self.arrive(job, true)
            }
            _ => self.clock.soon(Micro::Deliver(job)),
        }
        if let Some(t) = timeout {
            self.arm_timeout(job, parent, t);
        }
        job
    }

    /// The error of a run that has too many requests in flight, naming where they pile up.
    pub(super) fn in_flight_error(&self) -> RunError {
        // Where requests wait for a worker is where work piles up; a caller whose requests
        // wait on that service holds as many live requests but is not the bottleneck.
        let queued = |s: &ServiceState| s.replicas.iter().map(|r| r.queue.len()).sum::<usize>();
        let (idx, svc) = self
            .services
            .iter()
            .enumerate()
            .max_by_key(|(i, s)| (queued(s), s.live, std::cmp::Reverse(*i)))
            .expect("a model has at least one service");
        RunError::InFlightCap {
            at_s: SimTime(self.clock.now).as_secs_f64(),
            in_flight: self.jobs.len() as u64,
            cap: self.model.run.max_in_flight,
            service: self.model.services[idx].name.clone(),
            at_service: svc.live,
        }
    }
}
