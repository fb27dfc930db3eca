//! One run: its state, split by concern, and the loop that pops events and runs the
//! micro-steps of each instant.

use super::arrival::EntryState;
use super::broker::outage::Publish;
use super::broker::Broker;
use super::calls::CallState;
use super::clock::Clock;
use super::event::{Event, Micro};
use super::faults::Faults;
use super::kernel::Slab;
use super::measurements::Measurements;
use super::observer::{Observer, RunEnd};
use super::request::{Job, Strand};
use super::service::{ReplicaNumbering, ServiceState};
use super::timeouts::TimeoutQueue;
use super::zeno::ZenoGuard;
use super::TraceRecord;
use crate::error::RunError;
use crate::model::Model;
use crate::time::SimTime;

/// One run of a model: create with [`Simulation::new`], then [`Simulation::run`] (or
/// [`Simulation::step`] to drive it by hand).
///
/// Its state is split by concern: the clock and what is due, the workload, the services and
/// their replicas, the requests in flight, the call steps' resilience state, the broker, the
/// faults in force, the Zeno guard, and the observer that measures it all.
pub struct Simulation<'m> {
    pub(super) model: &'m Model,
    /// The seed of every random stream.
    pub(super) seed: u64,
    /// Virtual time, the event queue and the micro-steps of the current instant.
    pub(super) clock: Clock,
    /// Each entry point's arrival process.
    pub(super) entries: Vec<EntryState>,
    /// Each service's replicas, random streams and live requests.
    pub(super) services: Vec<ServiceState>,
    /// Replicas numbered across services (for events that name one in a `u32`).
    pub(super) numbering: ReplicaNumbering,
    /// Requests in flight: one job per request at a service.
    pub(super) jobs: Slab<Job>,
    /// The strands running the steps of the jobs that have a worker.
    pub(super) strands: Slab<Strand>,
    /// Callers' deadlines: one queue per call step, then one per entry point.
    pub(super) timeouts: Vec<TimeoutQueue>,
    /// Each call step's random streams and its resilience state per caller replica.
    pub(super) calls: Vec<CallState>,
    /// Topics, work queues, the messages consumers are processing, and outages.
    pub(super) broker: Broker,
    /// The faults of the timeline in force.
    pub(super) faults: Faults,
    /// The guard against runs whose time stands still.
    pub(super) guard: ZenoGuard,
    /// Every counter, histogram and time series of the run.
    pub(super) observer: Observer,
    /// Set by a handler that stops the run (the in-flight cap, the Zeno guard).
    pub(super) abort: Option<RunError>,
}

impl<'m> Simulation<'m> {
    /// Records every answered entry-point request (see [`Simulation::take_trace`]).
    pub fn with_trace(mut self) -> Self {
        self.observer.start_trace();
        self
    }

    /// The records collected since [`Simulation::with_trace`].
    pub fn take_trace(&mut self) -> Vec<TraceRecord> {
        self.observer.take_trace()
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        SimTime(self.clock.now)
    }

    /// Processes the next event (and the work it makes due at the same instant).
    /// Returns `Ok(false)` when the run has reached its end.
    pub fn step(&mut self) -> Result<bool, RunError> {
        let more = self.advance();
        match self.abort.take() {
            Some(e) => Err(e),
            None => Ok(more),
        }
    }

    /// [`step`](Self::step) for the run loop: `false` when the run has reached its end or
    /// stopped (then `abort` says why). Inlined into [`run`](Self::run), so that the loop
    /// pays no call and no `Result` per event (the error type is large).
    #[inline(always)]
    fn advance(&mut self) -> bool {
        let t = match self.clock.next_time() {
            Some(t) if t.0 < self.clock.end => t.0,
            _ => {
                self.no_more_events();
                return false;
            }
        };
        if t >= self.observer.next_mark() {
            self.observer
                .pass_marks(t, &self.broker.topics, &self.broker.queues);
        }
        let Some((time, event)) = self.clock.pop() else {
            self.no_more_events();
            return false;
        };
        if time.0 != self.clock.now {
            // One compare per advance of time: a new busiest instant is rare, and a tripped
            // guard has the busiest instant of all.
            if self.guard.instant_events > self.guard.busiest.0 {
                self.close_busiest_instant();
                if self.abort.is_some() {
                    return false;
                }
            }
            self.guard.instant_events = 0;
            self.clock.now = time.0;
        }
        self.clock.events += 1;
        self.guard.instant_events += 1;
        if self.guard.instant_events > self.guard.limit {
            self.zeno_observe_event(&event);
            if self.abort.is_some() {
                return false;
            }
        }
        self.handle(event);
        self.drain_micro();
        self.abort.is_none()
    }

    /// The run has reached its end (a diagnosis of the Zeno guard in progress stops it).
    #[cold]
    fn no_more_events(&mut self) {
        if self.guard.diagnosis.is_some() {
            self.zeno_stop();
        }
    }

    /// The most events (micro-steps included) the run has done at one virtual instant so
    /// far, and that instant: how close it came to `run.max_events_per_instant`.
    pub fn busiest_instant(&self) -> (u64, SimTime) {
        let (n, at) = self.guard.busiest;
        if self.guard.instant_events > n {
            (self.guard.instant_events, SimTime(self.clock.now))
        } else {
            (n, SimTime(at))
        }
    }

    /// Time is about to advance after the busiest instant so far: it is recorded, or, if it
    /// passed the guard's cap, the diagnosis ends and so does the run.
    #[cold]
    fn close_busiest_instant(&mut self) {
        self.guard.busiest = (self.guard.instant_events, self.clock.now);
        if self.guard.diagnosis.is_some() {
            self.zeno_stop();
        }
    }

    /// Runs to the end and returns the report.
    pub fn run(mut self) -> Result<Measurements, RunError> {
        while self.advance() {}
        match self.abort.take() {
            Some(e) => Err(e),
            None => Ok(self.into_measurements()),
        }
    }

    #[inline]
    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { entry } => self.on_arrival(entry),
            Event::Deliver { job } => self.deliver(job),
            Event::WorkDone { strand } => self.run_strand(strand),
            Event::Respond { job } => self.respond(job),
            Event::Timeout { deadlines } => self.on_timeouts_due(deadlines),
            Event::RetryDue { strand } => self.start_attempt(strand),
            Event::BreakerTimer { call, replica } => self.on_breaker_timer(call, replica),
            Event::BulkheadExpire { call, replica } => self.on_bulkhead_expire(call, replica),
            Event::JobTimeout { job } => self.on_timeout(job),
            Event::Published { strand, publish } => {
                match self.try_publish(publish, strand, self.customer_of(strand)) {
                    Publish::Done => self.run_strand(strand),
                    Publish::Failed(outcome) => self.finish_strand(strand, Some(outcome)),
                    Publish::Parked => {}
                }
            }
            Event::PublishTimeout { strand } => self.publish_timeout(strand),
            Event::ClientPublished { message } => self.client_published(message),
            Event::ClientGaveUp { message } => self.client_gave_up(message),
            Event::Retention { topic } => self.on_retention(topic),
            Event::QueueRetention { work_queue } => self.on_queue_retention(work_queue),
            Event::Visibility { work_queue } => self.on_visibility(work_queue),
            Event::Rebalance { topic, group } => self.rebalance(topic, group),
            Event::Reprocess { delivery } => self.process(delivery),
            Event::CommitTick { topic, group } => self.commit_tick(topic, group),
            Event::CpuDone { strand, at } => self.on_cpu_done(strand, at),
            Event::FaultStart { fault } => self.on_fault(fault, true),
            Event::FaultEnd { fault } => self.on_fault(fault, false),
            Event::Renewal { service, replica } => self.on_renewal(service, replica),
        }
    }

    fn drain_micro(&mut self) {
        while let Some(m) = self.clock.pop_micro() {
            // Micro-steps count towards the Zeno guard like events.
            self.guard.instant_events += 1;
            if self.guard.instant_events > self.guard.limit {
                self.zeno_observe_micro(&m);
                if self.abort.is_some() {
                    return;
                }
            }
            match m {
                Micro::Deliver(job) => self.deliver(job),
                Micro::Start(job) => self.start(job),
                Micro::Respond(job) => self.respond(job),
                Micro::Consume {
                    topic,
                    group,
                    consumer,
                } => self.consume(topic, group, consumer),
                Micro::Attempt {
                    strand,
                    call,
                    replica,
                } => {
                    if self.caller_replica(strand).is_some() {
                        self.send_attempt(strand);
                    } else {
                        // The waiter is gone (its replica crashed): pass the permit on.
                        self.abandon(strand);
                        self.release_bulkhead(call, replica);
                    }
                }
                Micro::Wake { service, replica } => self.wake_consumers(service, replica),
            }
        }
    }
}

impl Simulation<'_> {
    /// What the finished run measured.
    pub(super) fn into_measurements(mut self) -> Measurements {
        if self.clock.drain {
            // The run ended when the last request did (or at the drain cap).
            self.clock.end = self
                .clock
                .now
                .max(self.clock.arrivals_end)
                .min(self.clock.end);
        }
        let in_buffer = self.broker.outage.in_buffer();
        self.observer.finish(
            self.clock.end,
            RunEnd {
                model: self.model,
                seed: self.seed,
                events: self.clock.events,
                topics: &self.broker.topics,
                queues: &self.broker.queues,
                calls: &self.calls,
                in_buffer: &in_buffer,
            },
        )
    }
}

/// A whole run must be `Send`, so that replications can go to other threads.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Simulation<'static>>();
};
