//! The simulation engine: a virtual clock, an event queue, and request state in slabs.
//!
//! # Time, ordering and determinism
//! Time is integer nanoseconds ([`SimTime`]). Events pop in time order, and events at the same
//! instant in the order they were scheduled ([`EventQueue`]). Work that happens *at* an
//! instant as a consequence of an event (a request handed to a free worker, a zero-latency
//! response) goes through a FIFO of micro-steps drained before the next event, so long chains of
//! zero-time work never recurse. Every random draw comes from a stream named after its entity
//! ([`crate::rng`]). A run is therefore a pure function of the model and the seed: the same
//! inputs give a byte-identical report on any machine and with any number of threads.
//!
//! # Requests, strands and workers
//! A *job* is one request at one service (an entry point's request, or a sync call). A job
//! waits in its replica's queue until a worker is free, then runs the service's steps on a
//! *strand*; `Parallel` and `Choice` steps run their branches on child strands of the same
//! job, and the parent strand resumes when all children have ended. The worker is held from
//! the first step to the last, including while a strand waits on a sync call: this is the
//! rendezvous of layered queueing networks, and the reason slow dependencies exhaust pools.
//! A caller that times out stops waiting, but the callee's job runs on (orphaned work).

mod queue;
mod slab;

pub use queue::EventQueue;
pub use slab::{Key, Slab};

use crate::analysis;
use crate::error::RunError;
use crate::metrics::{LatencyHistogram, TimeAverage};
use crate::model::{Balancer, Model, OnFailure, Op};
use crate::outcome::{Outcome, Outcomes};
use crate::report::*;
use crate::rng::{stream, SimRng};
use crate::time::{SimDuration, SimTime};
use rand::Rng;
use std::collections::VecDeque;

/// Overrides for one run; `None` keeps the topology file's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Seed of every random stream.
    pub seed: Option<u64>,
    /// Simulated time, warm-up included.
    pub duration: Option<SimDuration>,
    /// Initial span excluded from statistics.
    pub warmup: Option<SimDuration>,
}

/// One answered entry-point request, recorded when tracing is on (for tests and debugging).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// When the answer reached the client.
    pub time: SimTime,
    /// Index of the entry point in the model.
    pub entry: u32,
    /// How the request ended.
    pub outcome: Outcome,
    /// Time from arrival to answer.
    pub latency: SimDuration,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    /// The next request of entry point `entry` arrives.
    Arrival { entry: u32 },
    /// A request reaches its replica after network latency.
    Deliver { job: Key },
    /// A strand's local work ends.
    WorkDone { strand: Key },
    /// A response reaches the caller after network latency.
    Respond { job: Key },
    /// The earliest deadline of timeout queue `queue` is due.
    Timeout { queue: u32 },
}

/// Work due at the current instant, run before the next event.
#[derive(Clone, Copy, Debug)]
enum Micro {
    Deliver(Key),
    /// Start a job on a worker that was reserved for it.
    Start(Key),
    Respond(Key),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parent {
    /// An external client of entry point `entry`.
    Client { entry: u32 },
    /// A strand waiting on this job.
    Strand(Key),
    /// Nobody waits any more (the caller timed out).
    Orphan,
}

const NO_CALL: u32 = u32::MAX;
const NOT_ORPHANED: u64 = u64::MAX;

#[derive(Clone, Copy)]
struct Job {
    service: u32,
    replica: u32,
    /// The call step that sent it, or `NO_CALL` for an entry request.
    call: u32,
    parent: Parent,
    /// When the caller sent it.
    sent: u64,
    /// When it reached the replica (`u64::MAX` while in transit).
    arrived: u64,
    /// When a worker took it (`u64::MAX` if never).
    started: u64,
    orphaned_at: u64,
    outcome: Outcome,
}

struct Strand {
    job: Key,
    block: u32,
    idx: u32,
    parent: Key,
    /// Children still running (plus one while they are being spawned).
    pending: u32,
    failure: Option<Outcome>,
}

#[derive(Default)]
struct Replica {
    busy: u32,
    queue: VecDeque<Key>,
    /// Jobs assigned to this replica and not yet answered (for the balancers).
    outstanding: u32,
}

struct ServiceState {
    replicas: Vec<Replica>,
    next_rr: u32,
    work_rng: SimRng,
    route_rng: SimRng,
    /// Draws of the service's own errors, apart from work times so that changing one does
    /// not reshuffle the other.
    error_rng: SimRng,
    balance_rng: SimRng,
    /// Jobs of this service alive anywhere (transit, queue, service, response).
    live: u64,
    // Statistics.
    arrivals: u64,
    /// Refused at the door because the queue was full.
    rejected: u64,
    outcomes: [u64; Outcome::COUNT],
    latency: LatencyHistogram,
    queue: TimeAverage,
    busy: TimeAverage,
    in_system: TimeAverage,
    orphaned: u64,
    orphaned_ns: u128,
    /// Areas at the end of the warm-up and at the last bucket boundary.
    warm_area: [u128; 3],
    bucket_area: [u128; 2],
    series: ServiceSeries,
}

struct EntryState {
    rng: SimRng,
    segment_hint: usize,
    offered: u64,
    outcomes: [u64; Outcome::COUNT],
    latency: LatencyHistogram,
    bucket_counts: [u64; Outcome::COUNT],
    bucket_latency: LatencyHistogram,
    series: EntrySeries,
}

/// Entries below which a timeout queue is never compacted.
const TIMEOUT_COMPACT_MIN: usize = 1024;

/// Pending deadlines of one kind of wait (a call step, or an entry point's clients).
///
/// Every deadline is "send time + the same timeout", so deadlines come due in the order they
/// were set: a FIFO per kind with only its head in the event queue keeps the event queue as
/// small as the work in flight, instead of holding a stale event for every answered call.
/// A deadline whose call was answered is skipped when it comes due.
struct TimeoutQueue {
    pending: VecDeque<(u64, Key)>,
    /// Whether an event for the head is in the event queue.
    armed: bool,
    /// Length at which answered entries are swept out.
    compact_at: usize,
}

struct CallState {
    rng: SimRng,
    calls: u64,
    outcomes: [u64; Outcome::COUNT],
    latency: LatencyHistogram,
}

/// One run of a model: create with [`Simulation::new`], then [`Simulation::run`] (or
/// [`Simulation::step`] to drive it by hand).
pub struct Simulation<'m> {
    model: &'m Model,
    seed: u64,
    now: u64,
    end: u64,
    warmup: u64,
    bucket: u64,
    next_bucket: u64,
    warm_done: bool,
    events: u64,
    queue: EventQueue<Event>,
    micro: VecDeque<Micro>,
    jobs: Slab<Job>,
    strands: Slab<Strand>,
    services: Vec<ServiceState>,
    entries: Vec<EntryState>,
    calls: Vec<CallState>,
    /// One per call step, then one per entry point.
    timeouts: Vec<TimeoutQueue>,
    abort: Option<RunError>,
    trace: Option<Vec<TraceRecord>>,
}

impl<'m> Simulation<'m> {
    /// Prepares a run of `model` with `options` overriding the file's run settings.
    pub fn new(model: &'m Model, options: &RunOptions) -> Result<Self, RunError> {
        let seed = options.seed.unwrap_or(model.run.seed);
        let duration = options.duration.unwrap_or(model.run.duration);
        let warmup = options.warmup.unwrap_or(model.run.warmup);
        if duration == SimDuration::ZERO {
            return Err(RunError::BadOption(
                "the duration must be longer than 0".into(),
            ));
        }
        if warmup >= duration {
            return Err(RunError::BadOption(format!(
                "the warm-up ({warmup}) must be shorter than the run ({duration})"
            )));
        }
        let min_bucket = duration.as_nanos().div_ceil(crate::model::MAX_BUCKETS);
        let bucket = model.run.bucket.as_nanos().max(min_bucket);
        let services = model
            .services
            .iter()
            .map(|s| ServiceState {
                replicas: (0..s.replicas).map(|_| Replica::default()).collect(),
                next_rr: 0,
                work_rng: stream(seed, "work", &s.name, 0),
                route_rng: stream(seed, "route", &s.name, 0),
                error_rng: stream(seed, "errors", &s.name, 0),
                balance_rng: stream(seed, "balance", &s.name, 0),
                live: 0,
                arrivals: 0,
                rejected: 0,
                outcomes: [0; Outcome::COUNT],
                latency: LatencyHistogram::new(),
                queue: TimeAverage::default(),
                busy: TimeAverage::default(),
                in_system: TimeAverage::default(),
                orphaned: 0,
                orphaned_ns: 0,
                warm_area: [0; 3],
                bucket_area: [0; 2],
                series: ServiceSeries {
                    name: s.name.clone(),
                    ..Default::default()
                },
            })
            .collect();
        let entries = model
            .entries
            .iter()
            .map(|e| EntryState {
                rng: stream(seed, "arrivals", &e.name, 0),
                segment_hint: 0,
                offered: 0,
                outcomes: [0; Outcome::COUNT],
                latency: LatencyHistogram::new(),
                bucket_counts: [0; Outcome::COUNT],
                bucket_latency: LatencyHistogram::with_precision(2),
                series: EntrySeries {
                    name: e.name.clone(),
                    ..Default::default()
                },
            })
            .collect();
        let calls = model
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| CallState {
                rng: stream(seed, "latency", &model.service(c.from).name, i as u64),
                calls: 0,
                outcomes: [0; Outcome::COUNT],
                latency: LatencyHistogram::new(),
            })
            .collect();
        let mut sim = Simulation {
            model,
            seed,
            now: 0,
            end: duration.as_nanos(),
            warmup: warmup.as_nanos(),
            bucket,
            next_bucket: bucket,
            warm_done: warmup == SimDuration::ZERO,
            events: 0,
            queue: EventQueue::new(),
            micro: VecDeque::with_capacity(64),
            jobs: Slab::default(),
            strands: Slab::default(),
            services,
            entries,
            calls,
            timeouts: (0..model.calls.len() + model.entries.len())
                .map(|_| TimeoutQueue {
                    pending: VecDeque::new(),
                    armed: false,
                    compact_at: TIMEOUT_COMPACT_MIN,
                })
                .collect(),
            abort: None,
            trace: None,
        };
        for i in 0..model.entries.len() {
            sim.schedule_arrival(i as u32);
        }
        Ok(sim)
    }

    /// Records every answered entry-point request (see [`Simulation::take_trace`]).
    pub fn with_trace(mut self) -> Self {
        self.trace = Some(Vec::new());
        self
    }

    /// The records collected since [`Simulation::with_trace`].
    pub fn take_trace(&mut self) -> Vec<TraceRecord> {
        self.trace.take().unwrap_or_default()
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        SimTime(self.now)
    }

    /// Processes the next event (and the work it makes due at the same instant).
    /// Returns `Ok(false)` when the run has reached its end.
    pub fn step(&mut self) -> Result<bool, RunError> {
        let t = match self.queue.peek_time() {
            Some(t) if t.0 < self.end => t.0,
            _ => return Ok(false),
        };
        let next_mark = if self.warm_done {
            self.next_bucket
        } else {
            self.next_bucket.min(self.warmup)
        };
        if t >= next_mark {
            self.pass_marks(t);
        }
        let Some((time, event)) = self.queue.pop() else {
            return Ok(false);
        };
        self.now = time.0;
        self.events += 1;
        self.handle(event);
        self.drain_micro();
        match self.abort.take() {
            Some(e) => Err(e),
            None => Ok(true),
        }
    }

    /// Runs to the end and returns the report.
    pub fn run(mut self) -> Result<Report, RunError> {
        while self.step()? {}
        Ok(self.into_report())
    }

    // ---- event handling -------------------------------------------------------------------

    #[inline]
    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { entry } => self.on_arrival(entry),
            Event::Deliver { job } => self.deliver(job),
            Event::WorkDone { strand } => self.run_strand(strand),
            Event::Respond { job } => self.respond(job),
            Event::Timeout { queue } => self.on_timeouts_due(queue),
        }
    }

    fn drain_micro(&mut self) {
        while let Some(m) = self.micro.pop_front() {
            match m {
                Micro::Deliver(job) => self.deliver(job),
                Micro::Start(job) => self.start(job),
                Micro::Respond(job) => self.respond(job),
            }
        }
    }

    fn schedule_arrival(&mut self, entry: u32) {
        let e = &mut self.entries[entry as usize];
        let process = &self.model.entries[entry as usize].arrivals;
        if let Some(t) = process.next_after(SimTime(self.now), &mut e.rng, &mut e.segment_hint) {
            if t.0 < self.end {
                self.queue.schedule(t, Event::Arrival { entry });
            }
        }
    }

    fn on_arrival(&mut self, entry: u32) {
        self.schedule_arrival(entry);
        if self.now >= self.warmup {
            self.entries[entry as usize].offered += 1;
        }
        let e = &self.model.entries[entry as usize];
        self.send(
            Parent::Client { entry },
            e.service.0,
            NO_CALL,
            e.timeout,
            None,
        );
    }

    /// Creates a job for `service` on behalf of `parent` and sends it on its way.
    fn send(
        &mut self,
        parent: Parent,
        service: u32,
        call: u32,
        timeout: Option<SimDuration>,
        latency: Option<SimDuration>,
    ) -> Key {
        let replica = self.pick_replica(service);
        let svc = &mut self.services[service as usize];
        svc.replicas[replica as usize].outstanding += 1;
        svc.live += 1;
        let job = self.jobs.insert(Job {
            service,
            replica,
            call,
            parent,
            sent: self.now,
            arrived: u64::MAX,
            started: u64::MAX,
            orphaned_at: NOT_ORPHANED,
            outcome: Outcome::Ok,
        });
        if self.jobs.len() as u64 > self.model.run.max_in_flight && self.abort.is_none() {
            self.abort = Some(self.in_flight_error());
        }
        match latency {
            Some(d) if d > SimDuration::ZERO => self
                .queue
                .schedule(SimTime(self.now).after(d), Event::Deliver { job }),
            _ => self.micro.push_back(Micro::Deliver(job)),
        }
        if let Some(t) = timeout {
            let qi = match parent {
                Parent::Client { entry } => self.model.calls.len() as u32 + entry,
                _ => call,
            };
            let deadline = SimTime(self.now).after(t);
            let q = &mut self.timeouts[qi as usize];
            q.pending.push_back((deadline.0, job));
            if !q.armed {
                q.armed = true;
                self.queue.schedule(deadline, Event::Timeout { queue: qi });
            } else if q.pending.len() >= q.compact_at {
                // Most entries belong to calls answered long ago: drop them, so memory
                // follows the calls actually waiting, not rate × timeout.
                let jobs = &self.jobs;
                q.pending
                    .retain(|&(_, k)| jobs.get(k).is_some_and(|j| j.parent != Parent::Orphan));
                q.compact_at = (2 * q.pending.len()).max(TIMEOUT_COMPACT_MIN);
            }
        }
        job
    }

    fn in_flight_error(&self) -> RunError {
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
            at_s: SimTime(self.now).as_secs_f64(),
            in_flight: self.jobs.len() as u64,
            cap: self.model.run.max_in_flight,
            service: self.model.services[idx].name.clone(),
            at_service: svc.live,
        }
    }

    fn pick_replica(&mut self, service: u32) -> u32 {
        let s = &mut self.services[service as usize];
        let n = s.replicas.len() as u32;
        if n == 1 {
            return 0;
        }
        match self.model.services[service as usize].balancer {
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

    /// A job reaches its replica: a free worker takes it, or it queues, or it is rejected.
    fn deliver(&mut self, key: Key) {
        let now = self.now;
        let counted = now >= self.warmup;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        job.arrived = now;
        let (service, replica) = (job.service as usize, job.replica as usize);
        let workers = self.model.services[service].workers;
        let capacity = self.model.services[service].queue;
        let svc = &mut self.services[service];
        if counted {
            svc.arrivals += 1;
        }
        let rep = &mut svc.replicas[replica];
        if rep.busy < workers {
            rep.busy += 1;
            svc.busy.add(now, 1);
            svc.in_system.add(now, 1);
            self.start(key);
        } else if capacity.is_none_or(|c| (rep.queue.len() as u32) < c) {
            rep.queue.push_back(key);
            svc.queue.add(now, 1);
            svc.in_system.add(now, 1);
        } else {
            // Rejected at the door: no worker, no time in the system.
            svc.in_system.add(now, 1);
            if counted {
                svc.rejected += 1;
            }
            self.finish_at_service(key, Outcome::Rejected, false);
        }
    }

    /// Starts `key` on a worker already counted as busy for it.
    fn start(&mut self, key: Key) {
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        job.started = self.now;
        let block = self.model.services[job.service as usize].body.0;
        let strand = self.strands.insert(Strand {
            job: key,
            block,
            idx: 0,
            parent: Key::NONE,
            pending: 0,
            failure: None,
        });
        self.run_strand(strand);
    }

    /// Runs a strand's steps until one has to wait (work, a call, children) or the block ends.
    fn run_strand(&mut self, key: Key) {
        let model = self.model;
        loop {
            let Some(strand) = self.strands.get_mut(key) else {
                return;
            };
            let ops = model.block(crate::model::BlockId(strand.block));
            let Some(op) = ops.get(strand.idx as usize) else {
                self.finish_strand(key, None);
                return;
            };
            strand.idx += 1;
            let job_key = strand.job;
            let service = match self.jobs.get(job_key) {
                Some(j) => j.service as usize,
                None => return,
            };
            match op {
                Op::Work(dist) => {
                    let d = dist.sample(&mut self.services[service].work_rng);
                    if d > SimDuration::ZERO {
                        self.queue
                            .schedule(SimTime(self.now).after(d), Event::WorkDone { strand: key });
                        return;
                    }
                }
                Op::Call(cid) => {
                    let call = &model.calls[cid.0 as usize];
                    if call.probability < 1.0
                        && self.services[service].route_rng.random::<f64>() >= call.probability
                    {
                        continue;
                    }
                    let latency = call
                        .latency
                        .as_ref()
                        .map(|d| d.sample(&mut self.calls[cid.0 as usize].rng));
                    self.send(Parent::Strand(key), call.to.0, cid.0, call.timeout, latency);
                    return;
                }
                Op::Parallel {
                    branches,
                    probability,
                } => {
                    if *probability < 1.0
                        && self.services[service].route_rng.random::<f64>() >= *probability
                    {
                        continue;
                    }
                    if !self.spawn(key, job_key, branches.iter().map(|b| b.0)) {
                        return;
                    }
                    if let Some(f) = self.strands.get(key).and_then(|s| s.failure) {
                        self.finish_strand(key, Some(f));
                        return;
                    }
                }
                Op::Choice {
                    branches,
                    probability,
                } => {
                    let rng = &mut self.services[service].route_rng;
                    if *probability < 1.0 && rng.random::<f64>() >= *probability {
                        continue;
                    }
                    let u: f64 = rng.random();
                    let pick = branches
                        .iter()
                        .find(|(cum, _)| u < *cum)
                        .or(branches.last())
                        .map(|(_, b)| b.0);
                    if !self.spawn(key, job_key, pick.into_iter()) {
                        return;
                    }
                    if let Some(f) = self.strands.get(key).and_then(|s| s.failure) {
                        self.finish_strand(key, Some(f));
                        return;
                    }
                }
            }
        }
    }

    /// Starts a child strand per block; true if they all ended at once (the parent goes on).
    fn spawn(&mut self, parent: Key, job: Key, blocks: impl Iterator<Item = u32>) -> bool {
        // One extra pending count while spawning, so that a child ending at once does not
        // resume the parent from inside this loop.
        if let Some(p) = self.strands.get_mut(parent) {
            p.pending = 1;
        }
        for block in blocks {
            if let Some(p) = self.strands.get_mut(parent) {
                p.pending += 1;
            }
            let child = self.strands.insert(Strand {
                job,
                block,
                idx: 0,
                parent,
                pending: 0,
                failure: None,
            });
            self.run_strand(child);
        }
        match self.strands.get_mut(parent) {
            Some(p) => {
                p.pending -= 1;
                p.pending == 0
            }
            None => false,
        }
    }

    /// A strand has ended, successfully (`failure == None`) or not.
    fn finish_strand(&mut self, key: Key, failure: Option<Outcome>) {
        let Some(strand) = self.strands.remove(key) else {
            return;
        };
        if strand.parent == Key::NONE {
            self.complete_job(strand.job, failure);
            return;
        }
        let Some(parent) = self.strands.get_mut(strand.parent) else {
            return;
        };
        if parent.failure.is_none() {
            parent.failure = failure;
        }
        parent.pending -= 1;
        if parent.pending == 0 {
            match parent.failure {
                Some(f) => self.finish_strand(strand.parent, Some(f)),
                None => self.run_strand(strand.parent),
            }
        }
    }

    /// The job's steps are done: draw its own error, free the worker, answer.
    fn complete_job(&mut self, key: Key, failure: Option<Outcome>) {
        let now = self.now;
        let Some(job) = self.jobs.get(key) else {
            return;
        };
        let (service, replica) = (job.service as usize, job.replica as usize);
        let error_prob = self.model.services[service].error_prob;
        let svc = &mut self.services[service];
        let outcome = match failure {
            Some(f) => f,
            None if error_prob > 0.0 && svc.error_rng.random::<f64>() < error_prob => {
                Outcome::Error
            }
            None => Outcome::Ok,
        };
        let rep = &mut svc.replicas[replica];
        match rep.queue.pop_front() {
            // Hand the worker straight to the next job in line.
            Some(next) => {
                svc.queue.add(now, -1);
                self.micro.push_back(Micro::Start(next));
            }
            None => {
                rep.busy -= 1;
                svc.busy.add(now, -1);
            }
        }
        self.finish_at_service(key, outcome, true);
    }

    /// The job leaves its service with `outcome`: statistics, then the response goes back.
    /// `accepted` is false for a job refused at the door, which spent no time here.
    fn finish_at_service(&mut self, key: Key, outcome: Outcome, accepted: bool) {
        let now = self.now;
        let warmup = self.warmup;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        job.outcome = outcome;
        let svc = &mut self.services[job.service as usize];
        svc.in_system.add(now, -1);
        svc.replicas[job.replica as usize].outstanding -= 1;
        if job.arrived >= warmup {
            svc.outcomes[outcome.index()] += 1;
            // Requests refused at the door spent no time here; they would only drag the
            // percentiles to zero (they count in `arrivals` and `rejected`).
            if accepted {
                svc.latency.record(now - job.arrived);
            }
            if job.orphaned_at != NOT_ORPHANED {
                svc.orphaned += 1;
                if job.started != u64::MAX {
                    let from = job.started.max(job.orphaned_at);
                    svc.orphaned_ns += u128::from(now.saturating_sub(from));
                }
            }
        }
        let latency = match job.call {
            NO_CALL => None,
            c => self.model.calls[c as usize]
                .latency
                .as_ref()
                .map(|d| d.sample(&mut self.calls[c as usize].rng)),
        };
        match latency {
            Some(d) if d > SimDuration::ZERO => self
                .queue
                .schedule(SimTime(now).after(d), Event::Respond { job: key }),
            _ => self.micro.push_back(Micro::Respond(key)),
        }
    }

    /// The response reaches whoever still waits; the job is gone.
    fn respond(&mut self, key: Key) {
        let Some(job) = self.jobs.remove(key) else {
            return;
        };
        self.services[job.service as usize].live -= 1;
        self.notify(&job, job.outcome);
    }

    /// Fires every due deadline of timeout queue `qi`, then arms it for the next one.
    fn on_timeouts_due(&mut self, qi: u32) {
        let now = self.now;
        while let Some(&(deadline, job)) = self.timeouts[qi as usize].pending.front() {
            if deadline > now {
                break;
            }
            self.timeouts[qi as usize].pending.pop_front();
            self.on_timeout(job);
        }
        // Skip deadlines of calls answered already, so the next event is a real timeout
        // (or the first call still waiting) rather than one event per answered call.
        let jobs = &self.jobs;
        let q = &mut self.timeouts[qi as usize];
        while let Some(&(_, job)) = q.pending.front() {
            if jobs.get(job).is_some_and(|j| j.parent != Parent::Orphan) {
                break;
            }
            q.pending.pop_front();
        }
        match q.pending.front() {
            Some(&(deadline, _)) => self
                .queue
                .schedule(SimTime(deadline), Event::Timeout { queue: qi }),
            None => q.armed = false,
        }
    }

    /// The caller of `key` stops waiting, unless it already has its answer.
    fn on_timeout(&mut self, key: Key) {
        let now = self.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if job.parent == Parent::Orphan {
            return;
        }
        let parent_job = *job;
        job.parent = Parent::Orphan;
        job.orphaned_at = now;
        self.notify(&parent_job, Outcome::Timeout);
    }

    /// Tells the waiting parent of `job` that it ended with `outcome`.
    fn notify(&mut self, job: &Job, outcome: Outcome) {
        let now = self.now;
        let latency = now - job.sent;
        let counted = job.sent >= self.warmup;
        match job.parent {
            Parent::Orphan => {}
            Parent::Client { entry } => {
                let e = &mut self.entries[entry as usize];
                if counted {
                    e.outcomes[outcome.index()] += 1;
                    e.latency.record(latency);
                }
                e.bucket_counts[outcome.index()] += 1;
                e.bucket_latency.record(latency);
                if let Some(trace) = &mut self.trace {
                    trace.push(TraceRecord {
                        time: SimTime(now),
                        entry,
                        outcome,
                        latency: SimDuration(latency),
                    });
                }
            }
            Parent::Strand(strand) => {
                let c = &mut self.calls[job.call as usize];
                if counted {
                    c.calls += 1;
                    c.outcomes[outcome.index()] += 1;
                    c.latency.record(latency);
                }
                let on_failure = self.model.calls[job.call as usize].on_failure;
                if outcome == Outcome::Ok || on_failure == OnFailure::Ignore {
                    self.run_strand(strand);
                } else {
                    self.finish_strand(strand, Some(outcome));
                }
            }
        }
    }

    // ---- time marks: end of warm-up and bucket boundaries ---------------------------------

    /// Passes every mark (warm-up end, bucket boundary) at or before `t`.
    fn pass_marks(&mut self, t: u64) {
        loop {
            if !self.warm_done && self.warmup <= self.next_bucket && self.warmup <= t {
                self.end_warmup();
                continue;
            }
            if self.next_bucket <= t && self.next_bucket < self.end {
                let b = self.next_bucket;
                self.close_bucket(b);
                self.next_bucket = (b + self.bucket).min(self.end);
                continue;
            }
            break;
        }
    }

    fn end_warmup(&mut self) {
        let w = self.warmup;
        for s in &mut self.services {
            s.warm_area = [
                s.queue.area_at(w),
                s.busy.area_at(w),
                s.in_system.area_at(w),
            ];
            s.queue.reset_max();
        }
        self.warm_done = true;
    }

    /// Closes the bucket that ends at `b`.
    fn close_bucket(&mut self, b: u64) {
        let start = (b - 1) / self.bucket * self.bucket;
        let width = (b - start) as f64;
        for e in &mut self.entries {
            let s = &mut e.series;
            s.ok.push(e.bucket_counts[Outcome::Ok.index()]);
            s.error.push(e.bucket_counts[Outcome::Error.index()]);
            s.timeout.push(e.bucket_counts[Outcome::Timeout.index()]);
            s.rejected.push(e.bucket_counts[Outcome::Rejected.index()]);
            s.p99_ms.push(
                (e.bucket_latency.count() > 0)
                    .then(|| e.bucket_latency.quantile_ns(0.99) as f64 / 1e6),
            );
            e.bucket_counts = [0; Outcome::COUNT];
            e.bucket_latency.clear();
        }
        for s in &mut self.services {
            let q = s.queue.area_at(b);
            let busy = s.busy.area_at(b);
            s.series.queue.push((q - s.bucket_area[0]) as f64 / width);
            s.series.busy.push((busy - s.bucket_area[1]) as f64 / width);
            s.bucket_area = [q, busy];
        }
    }

    // ---- the report -----------------------------------------------------------------------

    fn into_report(mut self) -> Report {
        let end = self.end;
        self.pass_marks(end);
        if !self.warm_done {
            self.end_warmup();
        }
        // The last (possibly partial) bucket.
        self.close_bucket(end);
        self.now = end;
        let measured_ns = (end - self.warmup) as f64;
        let measured_s = measured_ns / 1e9;
        let model = self.model;
        let analysis = analysis::analyze(model);

        let entries = self
            .entries
            .iter()
            .zip(&model.entries)
            .map(|(e, m)| {
                let outcomes = Outcomes::from_counts(&e.outcomes);
                let answered = outcomes.total();
                let availability = if answered == 0 {
                    0.0
                } else {
                    outcomes.ok as f64 / answered as f64
                };
                EntryReport {
                    name: m.name.clone(),
                    service: model.service(m.service).name.clone(),
                    offered: e.offered,
                    outcomes,
                    in_flight: e.offered.saturating_sub(answered),
                    availability,
                    availability_se: if answered == 0 {
                        0.0
                    } else {
                        (availability * (1.0 - availability) / answered as f64).sqrt()
                    },
                    throughput_per_s: answered as f64 / measured_s,
                    goodput_per_s: outcomes.ok as f64 / measured_s,
                    latency: e.latency.summary(),
                }
            })
            .collect();

        let services = self
            .services
            .iter()
            .zip(&model.services)
            .map(|(s, m)| {
                let mean =
                    |avg: &TimeAverage, warm: u128| (avg.area_at(end) - warm) as f64 / measured_ns;
                let busy = mean(&s.busy, s.warm_area[1]);
                ServiceReport {
                    name: m.name.clone(),
                    replicas: m.replicas,
                    workers: m.workers,
                    arrivals: s.arrivals,
                    rejected: s.rejected,
                    outcomes: Outcomes::from_counts(&s.outcomes),
                    utilization: busy / (f64::from(m.replicas) * f64::from(m.workers)),
                    mean_busy_workers: busy,
                    mean_queue: mean(&s.queue, s.warm_area[0]),
                    max_queue: s.queue.max(),
                    mean_in_system: mean(&s.in_system, s.warm_area[2]),
                    latency: s.latency.summary(),
                    orphaned: s.orphaned,
                    orphaned_work_s: s.orphaned_ns as f64 / 1e9,
                }
            })
            .collect();

        let calls = self
            .calls
            .iter()
            .zip(&model.calls)
            .map(|(c, m)| CallReport {
                from: model.service(m.from).name.clone(),
                to: model.service(m.to).name.clone(),
                step: m.path.clone(),
                calls: c.calls,
                outcomes: Outcomes::from_counts(&c.outcomes),
                latency: c.latency.summary(),
            })
            .collect();

        Report {
            schema: SCHEMA_VERSION,
            topology: model.name.clone(),
            seed: self.seed,
            duration_s: end as f64 / 1e9,
            warmup_s: self.warmup as f64 / 1e9,
            events: self.events,
            entries,
            services,
            calls,
            series: Series {
                bucket_s: self.bucket as f64 / 1e9,
                entries: self.entries.into_iter().map(|e| e.series).collect(),
                services: self.services.into_iter().map(|s| s.series).collect(),
            },
            analysis,
        }
    }
}

/// Runs `model` once with `options`; the report of the whole run.
pub fn run(model: &Model, options: &RunOptions) -> Result<Report, RunError> {
    Simulation::new(model, options)?.run()
}

/// Runs `model` once and also returns every answered entry-point request in time order.
/// Memory grows with the number of requests: meant for tests and small models.
pub fn run_traced(
    model: &Model,
    options: &RunOptions,
) -> Result<(Report, Vec<TraceRecord>), RunError> {
    let mut sim = Simulation::new(model, options)?.with_trace();
    while sim.step()? {}
    let trace = sim.take_trace();
    Ok((sim.into_report(), trace))
}

/// Runs `model` once per seed, in parallel on rayon's thread pool. Each run is independent and
/// deterministic, so the reports are the same whatever the number of threads.
pub fn run_seeds(
    model: &Model,
    options: &RunOptions,
    seeds: &[u64],
) -> Vec<Result<Report, RunError>> {
    use rayon::prelude::*;
    seeds
        .par_iter()
        .map(|&seed| {
            run(
                model,
                &RunOptions {
                    seed: Some(seed),
                    ..options.clone()
                },
            )
        })
        .collect()
}

/// A whole run must be `Send`, so that replications can go to other threads.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Simulation<'static>>();
};
