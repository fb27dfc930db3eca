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
//!
//! # Runaway models
//! A run always ends. A model whose work piles up stops at `run.max_in_flight` requests
//! alive ([`RunError::InFlightCap`]); a model that loops without virtual time advancing (a
//! *Zeno* model: a message failing in zero time and redelivered at once, zero-time processing
//! that sends the message round again) stops after `run.max_events_per_instant` events at one
//! instant ([`RunError::ZenoGuard`], see `zeno.rs`), naming what went round.

mod backpressure;
mod broker;
mod calls;
mod faults;
mod finish;
pub mod kernel;
pub(crate) mod measurements;
mod observer;
mod outage;
mod queues;
mod zeno;

use kernel::{EventQueue, Key, Slab};

use crate::call::backoff::BackoffState;
use crate::call::breaker::CircuitBreaker;
use crate::call::budget::BudgetState;
use crate::call::bulkhead::{Admit, Bulkhead};
use crate::error::RunError;
use crate::failure::Renewal;
use crate::model::faults::FaultKind;
use crate::model::{Balancer, Destination, EntryTarget, Model, OnFailure, Op};
use crate::outcome::Outcome;
use crate::rng::{stream, SimRng};
use crate::time::{SimDuration, SimTime};
use measurements::Measurements;
use observer::{Observer, Unstarted, Visit, HOLD_BACKOFF, HOLD_FANOUT, HOLD_WORKING, NOT_HOLDING};
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
    /// Stop arrivals (and failure processes) at the end of `duration`, then go on until every
    /// request has ended, for at most [`MAX_DRAIN_FACTOR`] × the duration more. The report
    /// then covers the whole drained run, so time averages and sums over requests meet
    /// exactly (Little's law holds to rounding).
    pub drain: bool,
    /// Most events at one virtual instant before the run stops (the topology's
    /// `run.max_events_per_instant`, see [`RunError::ZenoGuard`]).
    pub max_events_per_instant: Option<u64>,
}

/// How long a drained run may go on after its arrivals stop, as a multiple of its duration.
pub const MAX_DRAIN_FACTOR: u64 = 10;

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
    /// A strand's backoff sleep before a retry ends.
    RetryDue { strand: Key },
    /// A circuit breaker of call step `call` at caller replica `replica` has a timed
    /// transition due (automatic half-open, or the end of the longest half-open stay).
    BreakerTimer { call: u32, replica: u32 },
    /// A waiter for a bulkhead permit of call step `call` at caller replica `replica` may
    /// have waited too long.
    BulkheadExpire { call: u32, replica: u32 },
    /// The caller of `job` stops waiting (a timeout that is not the call step's constant,
    /// e.g. shortened by a propagated deadline).
    JobTimeout { job: Key },
    /// Local work of a strand at a non-blocking service ends; its worker (CPU) is freed.
    /// `replica` numbers replicas across all services (see `Simulation::replica_base`).
    CpuDone { strand: Key, replica: u32 },
    /// A publish's round trip ends: the broker stores the message and the strand goes on.
    Published { strand: Key, publish: u32 },
    /// A client's message reaches a slow broker and is stored; the client is answered
    /// unless it gave up already.
    ClientPublished { publish: Key },
    /// A client publishing to a slow broker gives up waiting.
    ClientGaveUp { publish: Key },
    /// A producer waiting for the broker (`when_down: Wait`) gives up.
    PublishTimeout { strand: Key },
    /// Retention deletes the old messages of topic `topic`.
    Retention { topic: u32 },
    /// Retention deletes the old ready messages of work queue `queue`.
    QueueRetention { queue: u32 },
    /// The visibility timer of work queue `queue` (the earliest in-flight deadline).
    Visibility { queue: u32 },
    /// A consumer group of a topic reassigns its partitions among its live consumers.
    Rebalance { topic: u32, group: u32 },
    /// A failed message is processed again after its backoff.
    Reprocess { delivery: Key },
    /// A consumer group commits what its consumers processed since the last commit.
    CommitTick { topic: u32, group: u32 },
    /// Fault `fault` of the timeline begins.
    FaultStart { fault: u32 },
    /// Fault `fault` of the timeline ends.
    FaultEnd { fault: u32 },
    /// A replica's failure process changes state (fails or is repaired).
    Renewal { service: u32, replica: u32 },
}

/// Work due at the current instant, run before the next event.
#[derive(Clone, Copy, Debug)]
enum Micro {
    Deliver(Key),
    /// Start a job on a worker that was reserved for it.
    Start(Key),
    Respond(Key),
    /// A consumer of a group may take its next message.
    Consume {
        topic: u32,
        group: u32,
        consumer: u32,
    },
    /// Send the strand's next attempt (a bulkhead permit of `call` at caller replica
    /// `replica` was handed to it).
    Attempt {
        strand: Key,
        call: u32,
        replica: u32,
    },
    /// Room freed at replica `replica` of `service`: consumers waiting there are woken.
    Wake {
        service: u32,
        replica: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parent {
    /// An external client of entry point `entry`.
    Client { entry: u32 },
    /// A strand waiting on this job.
    Strand(Key),
    /// A consumer of a topic, processing the message of a delivery.
    Consumer(Key),
    /// A consumer of a work queue, processing the message of a delivery.
    QueueConsumer(Key),
    /// Nobody waits any more (the caller timed out).
    Orphan,
}

/// A request about to be sent: who waits for it, where it goes, and how.
struct Dispatch {
    parent: Parent,
    service: u32,
    /// The call step, or `NO_CALL` for an entry request.
    call: u32,
    timeout: Option<SimDuration>,
    /// One-way latency of the request.
    latency: Option<SimDuration>,
    /// A replica to avoid (a retry to another replica), or `u32::MAX`.
    avoid_replica: u32,
    /// Dropped by a partition: never delivered.
    lost: bool,
    /// Absolute deadline the callee knows of, `u64::MAX` for none.
    deadline: u64,
    /// The replica to use, or `u32::MAX` for the service's balancer.
    pin: u32,
}

const NO_CALL: u32 = u32::MAX;
/// `Strand::ret` of a strand that ends with its block.
const NO_BLOCK: u32 = u32::MAX;
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
    /// A call below was answered by a fallback: the job ends `degraded` unless it fails.
    degraded: bool,
    /// Its replica crashed while it was inside: its strands are dropped as they wake.
    killed: bool,
    /// Lost in a network partition (request or response): only the caller's timeout ends it.
    lost: bool,
    /// Index in its replica's list of running jobs.
    slot: u32,
    /// What its worker is doing: a slot of the service's occupancy (`NOT_HOLDING`: none).
    holding: u16,
    /// Parallel fan-outs it is waiting on; while > 0 its worker counts as `fan-out`.
    fanout: u16,
    /// Where it is: in transit, queued, running, or done (answer on its way).
    phase: Phase,
    /// Absolute deadline the service knows of (propagated), `u64::MAX` for none.
    deadline: u64,
    /// Its caller timed out and cancelled it while it was in transit.
    cancelled: bool,
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Transit,
    Queued,
    Running,
    Done,
}

struct Strand {
    job: Key,
    block: u32,
    idx: u32,
    /// Where to go on when the block ends: a `Choice` branch runs inline on its strand and
    /// then returns here (`(NO_BLOCK, _)`: the strand ends with its block).
    ret: (u32, u32),
    parent: Key,
    /// Children still running (plus one while they are being spawned).
    pending: u32,
    failure: Option<Outcome>,
    /// The call in progress on this strand (valid while it waits on one).
    call: CallProgress,
    /// Its children are the branches of a multi-branch `Parallel` (the job's `fanout` counts
    /// it until they join).
    fanout: bool,
}

/// Where a strand is in a call step: attempts, backoff, permits held.
#[derive(Clone, Copy)]
struct CallProgress {
    /// The call step.
    call: u32,
    /// Attempt number, 1 for the first.
    attempt: u32,
    /// When the original call started (the caller's view of the call's latency).
    started: u64,
    /// When the current attempt was sent.
    attempt_sent: u64,
    /// The replica of the last attempt (`u32::MAX` before the first).
    last_replica: u32,
    /// Backoff memory for decorrelated jitter.
    backoff: BackoffState,
    /// Holds a retry resource of the budget.
    holds_retry: bool,
    /// Holds a bulkhead permit.
    in_bulkhead: bool,
    /// Holds a breaker permit (an attempt the breaker let through is in flight).
    in_breaker: bool,
    /// The call is in progress and counted as an active request by the budget.
    active: bool,
    /// The caller's replica (to find the edge's state if the caller's job is gone).
    caller_replica: u32,
}

impl CallProgress {
    fn new(call: u32, now: u64) -> Self {
        CallProgress {
            call,
            attempt: 1,
            started: now,
            attempt_sent: now,
            last_replica: u32::MAX,
            backoff: BackoffState::new(),
            holds_retry: false,
            in_bulkhead: false,
            in_breaker: false,
            active: false,
            caller_replica: 0,
        }
    }
}

/// The resilience state of one call step at one caller replica.
struct EdgeReplica {
    breaker: Option<CircuitBreaker>,
    /// Time of the breaker timer event in the queue (`u64::MAX`: none).
    breaker_timer: u64,
    budget: Option<BudgetState>,
    bulkhead: Option<Bulkhead<Key>>,
    /// Time of the bulkhead expiry event in the queue (`u64::MAX`: none).
    bulkhead_timer: u64,
}

struct Replica {
    /// Requests admitted (holding a worker, or an in-flight slot at a non-blocking service).
    admitted: u32,
    /// Non-blocking services: workers doing local work now.
    cpu: u32,
    /// Non-blocking services: local work waiting for a worker (strand, duration).
    ready: VecDeque<(Key, SimDuration)>,
    queue: VecDeque<Key>,
    /// Jobs assigned to this replica and not yet answered (for the balancers).
    outstanding: u32,
    /// Jobs holding a worker.
    running: Vec<Key>,
    /// Causes that hold it down (crash faults, its failure process); down while > 0.
    down: u32,
    /// Hang faults in force; requests arriving meanwhile are parked while > 0.
    hung: u32,
    /// Requests that arrived while it hung, delivered when the hang ends.
    parked: Vec<Key>,
    /// Product of the slowdown factors in force.
    slowdown: f64,
    /// Error probability of the error bursts in force.
    burst_errors: f64,
    /// Its failure process, if the service has one, and that process's random stream.
    renewal: Option<(Renewal, SimRng)>,
    /// Consumers living here that wait for room to hand it a message (see `backpressure.rs`).
    waiting: VecDeque<backpressure::Waiter>,
    /// A `Micro::Wake` for the waiting consumers is due.
    wake_due: bool,
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
            burst_errors: 0.0,
            renewal: None,
            waiting: VecDeque::new(),
            wake_due: false,
        }
    }
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
}

struct EntryState {
    rng: SimRng,
    segment_hint: usize,
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
    retry_rng: SimRng,
    per_replica: Vec<EdgeReplica>,
}

/// One run of a model: create with [`Simulation::new`], then [`Simulation::run`] (or
/// [`Simulation::step`] to drive it by hand).
pub struct Simulation<'m> {
    model: &'m Model,
    seed: u64,
    /// No arrivals (nor failures) are scheduled from this time on.
    arrivals_end: u64,
    /// A drained run: it ends when no event is left (or at `end`).
    drain: bool,
    /// The broker's topics.
    topics: Vec<broker::TopicState>,
    /// Messages being processed by consumers.
    deliveries: Slab<broker::Delivery>,
    /// The broker's work queues.
    work_queues: Vec<queues::QueueState>,
    /// Broker outages in force (overlapping `BrokerDown` faults).
    broker_down: u32,
    /// Draws of the broker itself (`BrokerSlow` latencies).
    broker_rng: SimRng,
    /// Producers' buffers and waiting producers during broker outages.
    outage: outage::OutageState,
    /// Work-queue messages being processed by consumers.
    queue_deliveries: Slab<queues::QueueDelivery>,
    /// Clients' messages on their way to a slow broker.
    client_publishes: Slab<outage::ClientPublish>,
    now: u64,
    end: u64,
    events: u64,
    /// Events and micro-steps at the current instant (`now`), for the Zeno guard.
    instant_events: u64,
    /// The guard's cap on `instant_events`.
    instant_limit: u64,
    /// The most events at one instant so far, and that instant.
    busiest: (u64, u64),
    /// Set when the guard has tripped: what goes round, gathered until the run stops.
    zeno: Option<Box<zeno::Diagnosis>>,
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
    /// Faults of the timeline in force now.
    active_faults: Vec<u32>,
    /// Every counter, histogram and time series of the run.
    observer: Observer,
    /// Index of each service's first replica when replicas are numbered across services.
    replica_base: Vec<u32>,
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
        let instant_limit = options
            .max_events_per_instant
            .unwrap_or(model.run.max_events_per_instant);
        if instant_limit == 0 {
            return Err(RunError::BadOption(
                "max_events_per_instant must be at least 1 (every event counts)".into(),
            ));
        }
        let arrivals_end = duration.as_nanos();
        let end = if options.drain {
            arrivals_end.saturating_add(arrivals_end.saturating_mul(MAX_DRAIN_FACTOR))
        } else {
            arrivals_end
        };
        let services: Vec<ServiceState> = model
            .services
            .iter()
            .map(|s| ServiceState {
                replicas: (0..s.replicas)
                    .map(|r| {
                        let mut rep = Replica::default();
                        if let Some(p) = &s.failures {
                            let mut rng = stream(seed, "failures", &s.name, u64::from(r));
                            let renewal = Renewal::stationary(p, &mut rng, SimTime::ZERO);
                            if !renewal.is_up() {
                                rep.down = 1;
                            }
                            rep.renewal = Some((renewal, rng));
                        }
                        rep
                    })
                    .collect(),
                next_rr: 0,
                work_rng: stream(seed, "work", &s.name, 0),
                route_rng: stream(seed, "route", &s.name, 0),
                error_rng: stream(seed, "errors", &s.name, 0),
                balance_rng: stream(seed, "balance", &s.name, 0),
                live: 0,
            })
            .collect();
        let up: Vec<u32> = services
            .iter()
            .map(|s| s.replicas.iter().filter(|r| r.down == 0).count() as u32)
            .collect();
        let observer = Observer::new(model, warmup.as_nanos(), end, &up);
        let entries = model
            .entries
            .iter()
            .map(|e| EntryState {
                rng: stream(seed, "arrivals", &e.name, 0),
                segment_hint: 0,
            })
            .collect();
        let calls = model
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| CallState {
                rng: stream(seed, "latency", &model.service(c.from).name, i as u64),
                retry_rng: stream(seed, "retry", &model.service(c.from).name, i as u64),
                per_replica: (0..model.service(c.from).replicas)
                    .map(|_| EdgeReplica {
                        breaker: c.breaker.clone().map(CircuitBreaker::new),
                        breaker_timer: u64::MAX,
                        budget: c
                            .retry
                            .as_ref()
                            .and_then(|r| r.budget.as_ref())
                            .map(BudgetState::new),
                        bulkhead: c
                            .bulkhead
                            .map(|b| Bulkhead::new(b.max_concurrent, b.max_wait)),
                        bulkhead_timer: u64::MAX,
                    })
                    .collect(),
            })
            .collect();
        let mut sim = Simulation {
            model,
            seed,
            now: 0,
            end,
            arrivals_end,
            drain: options.drain,
            topics: model.topics.iter().map(broker::TopicState::new).collect(),
            deliveries: Slab::default(),
            work_queues: model.queues.iter().map(queues::QueueState::new).collect(),
            broker_down: 0,
            broker_rng: stream(seed, "broker", "", 0),
            outage: outage::OutageState::new(model),
            queue_deliveries: Slab::default(),
            client_publishes: Slab::default(),
            events: 0,
            instant_events: 0,
            instant_limit,
            busiest: (0, 0),
            zeno: None,
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
            active_faults: Vec::new(),
            observer,
            replica_base: model
                .services
                .iter()
                .scan(0u32, |next, s| {
                    let base = *next;
                    *next += s.replicas;
                    Some(base)
                })
                .collect(),
        };
        for i in 0..model.entries.len() {
            sim.schedule_arrival(i as u32);
        }
        sim.start_broker();
        sim.start_queues();
        for (i, f) in model.faults.iter().enumerate() {
            if f.start.0 < sim.arrivals_end {
                sim.queue
                    .schedule(f.start, Event::FaultStart { fault: i as u32 });
            }
        }
        sim.active_faults = Vec::with_capacity(model.faults.len());
        for s in 0..sim.services.len() {
            let n = sim.services[s].replicas.len() as u32;
            for r in 0..n {
                if sim.services[s].replicas[r as usize].down > 0 {
                    // A replica whose failure process starts down is down from t = 0, as if
                    // it crashed then: its consumers are down with it (and a topic group
                    // moves their partitions after its session timeout).
                    sim.consumers_follow_replica(s, r, true);
                    sim.queue_consumers_follow_replica(s, r, true);
                }
                if let Some((renewal, _)) = &sim.services[s].replicas[r as usize].renewal {
                    let t = renewal.next_change();
                    if t.0 < sim.arrivals_end {
                        sim.queue.schedule(
                            t,
                            Event::Renewal {
                                service: s as u32,
                                replica: r,
                            },
                        );
                    }
                }
            }
        }
        Ok(sim)
    }

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
        SimTime(self.now)
    }

    /// Processes the next event (and the work it makes due at the same instant).
    /// Returns `Ok(false)` when the run has reached its end.
    pub fn step(&mut self) -> Result<bool, RunError> {
        let t = match self.queue.peek_time() {
            Some(t) if t.0 < self.end => t.0,
            _ => return self.no_more_events(),
        };
        if t >= self.observer.next_mark() {
            self.observer.pass_marks(t, &self.topics, &self.work_queues);
        }
        let Some((time, event)) = self.queue.pop() else {
            return self.no_more_events();
        };
        if time.0 != self.now {
            // One compare per advance of time: a new busiest instant is rare, and a tripped
            // guard has the busiest instant of all.
            if self.instant_events > self.busiest.0 {
                self.close_busiest_instant()?;
            }
            self.instant_events = 0;
            self.now = time.0;
        }
        self.events += 1;
        self.instant_events += 1;
        if self.instant_events > self.instant_limit {
            self.zeno_observe_event(&event);
            if let Some(e) = self.abort.take() {
                return Err(e);
            }
        }
        self.handle(event);
        self.drain_micro();
        match self.abort.take() {
            Some(e) => Err(e),
            None => Ok(true),
        }
    }

    /// The run has reached its end (a diagnosis of the Zeno guard in progress stops it).
    #[cold]
    fn no_more_events(&mut self) -> Result<bool, RunError> {
        if self.zeno.is_some() {
            self.zeno_stop();
        }
        match self.abort.take() {
            Some(e) => Err(e),
            None => Ok(false),
        }
    }

    /// The most events (micro-steps included) the run has done at one virtual instant so
    /// far, and that instant: how close it came to `run.max_events_per_instant`.
    pub fn busiest_instant(&self) -> (u64, SimTime) {
        let (n, at) = self.busiest;
        if self.instant_events > n {
            (self.instant_events, SimTime(self.now))
        } else {
            (n, SimTime(at))
        }
    }

    /// Time is about to advance after the busiest instant so far: it is recorded, or, if it
    /// passed the guard's cap, the diagnosis ends and so does the run.
    #[cold]
    fn close_busiest_instant(&mut self) -> Result<(), RunError> {
        self.busiest = (self.instant_events, self.now);
        if self.zeno.is_some() {
            self.zeno_stop();
        }
        match self.abort.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Runs to the end and returns the report.
    pub fn run(mut self) -> Result<Measurements, RunError> {
        while self.step()? {}
        Ok(self.into_measurements())
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
            Event::RetryDue { strand } => self.start_attempt(strand),
            Event::BreakerTimer { call, replica } => self.on_breaker_timer(call, replica),
            Event::BulkheadExpire { call, replica } => self.on_bulkhead_expire(call, replica),
            Event::JobTimeout { job } => self.on_timeout(job),
            Event::Published { strand, publish } => match self.try_publish(publish, strand) {
                outage::Publish::Done => self.run_strand(strand),
                outage::Publish::Failed(outcome) => self.finish_strand(strand, Some(outcome)),
                outage::Publish::Parked => {}
            },
            Event::PublishTimeout { strand } => self.publish_timeout(strand),
            Event::ClientPublished { publish } => self.client_published(publish),
            Event::ClientGaveUp { publish } => self.client_gave_up(publish),
            Event::Retention { topic } => self.on_retention(topic),
            Event::QueueRetention { queue } => self.on_queue_retention(queue),
            Event::Visibility { queue } => self.on_visibility(queue),
            Event::Rebalance { topic, group } => self.rebalance(topic, group),
            Event::Reprocess { delivery } => self.process(delivery),
            Event::CommitTick { topic, group } => self.commit_tick(topic, group),
            Event::CpuDone { strand, replica } => self.on_cpu_done(strand, replica),
            Event::FaultStart { fault } => self.on_fault(fault, true),
            Event::FaultEnd { fault } => self.on_fault(fault, false),
            Event::Renewal { service, replica } => self.on_renewal(service, replica),
        }
    }

    fn drain_micro(&mut self) {
        while let Some(m) = self.micro.pop_front() {
            // Micro-steps count towards the Zeno guard like events.
            self.instant_events += 1;
            if self.instant_events > self.instant_limit {
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
                Micro::Wake { service, replica } => {
                    self.wake_consumers(service as usize, replica as usize)
                }
            }
        }
    }

    fn schedule_arrival(&mut self, entry: u32) {
        let e = &mut self.entries[entry as usize];
        let process = &self.model.entries[entry as usize].arrivals;
        if let Some(t) = process.next_after(SimTime(self.now), &mut e.rng, &mut e.segment_hint) {
            if t.0 < self.arrivals_end {
                self.queue.schedule(t, Event::Arrival { entry });
            }
        }
    }

    fn on_arrival(&mut self, entry: u32) {
        self.schedule_arrival(entry);
        self.observer.offered(entry, self.now);
        let e = &self.model.entries[entry as usize];
        let service = match e.target {
            EntryTarget::Service(s) => s,
            EntryTarget::Broker(to) => return self.client_publish(entry, to),
        };
        let deadline = match e.timeout {
            Some(t) if self.model.propagate_entry_deadline => SimTime(self.now).after(t).0,
            _ => u64::MAX,
        };
        self.send(Dispatch {
            parent: Parent::Client { entry },
            service: service.0,
            call: NO_CALL,
            timeout: e.timeout,
            latency: None,
            avoid_replica: u32::MAX,
            lost: false,
            deadline,
            pin: u32::MAX,
        });
    }

    /// Creates a job as `d` says and sends it on its way.
    fn send(&mut self, d: Dispatch) -> Key {
        let Dispatch {
            parent,
            service,
            call,
            timeout,
            latency,
            avoid_replica,
            lost,
            deadline,
            pin,
        } = d;
        let replica = if pin != u32::MAX {
            pin
        } else {
            self.pick_replica(service, avoid_replica)
        };
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
            degraded: false,
            killed: false,
            lost,
            slot: u32::MAX,
            holding: NOT_HOLDING,
            fanout: 0,
            phase: Phase::Transit,
            deadline,
            cancelled: false,
        });
        if self.jobs.len() as u64 > self.model.run.max_in_flight && self.abort.is_none() {
            self.abort = Some(self.in_flight_error());
        }
        match latency {
            _ if lost => {} // dropped by a partition: only a timeout ends it
            Some(d) if d > SimDuration::ZERO => self
                .queue
                .schedule(SimTime(self.now).after(d), Event::Deliver { job }),
            // A consumer's message is admitted as it is taken (it checked for room), so that
            // no other request takes that room first; its work starts after this step.
            _ if matches!(parent, Parent::Consumer(_) | Parent::QueueConsumer(_)) => {
                self.arrive(job, true)
            }
            _ => self.micro.push_back(Micro::Deliver(job)),
        }
        let constant = match parent {
            Parent::Client { entry } => self.model.entries[entry as usize].timeout,
            Parent::Strand(_) => self.model.calls[call as usize].timeout,
            Parent::Consumer(_) | Parent::QueueConsumer(_) | Parent::Orphan => None,
        };
        if let Some(t) = timeout.filter(|&t| Some(t) != constant) {
            // Not the step's constant timeout (a propagated deadline shortened it): it would
            // break the FIFO order of the step's timeout queue, so it gets its own event.
            self.queue
                .schedule(SimTime(self.now).after(t), Event::JobTimeout { job });
        } else if let Some(t) = timeout {
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

    /// Picks a replica with the service's balancer; `avoid` (a replica index, or
    /// `u32::MAX`) is skipped when there is another one (retries to another replica).
    fn pick_replica(&mut self, service: u32, avoid: u32) -> u32 {
        let s = &mut self.services[service as usize];
        let n = s.replicas.len() as u32;
        if n == 1 {
            return 0;
        }
        if avoid < n {
            // Any replica but `avoid`, uniformly: the balancer's choice would often be the
            // same replica again (least-outstanding) or correlated with it (round-robin).
            let r = s.balance_rng.random_range(0..n - 1);
            return if r >= avoid { r + 1 } else { r };
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
        self.arrive(key, false);
    }

    /// A job reaches its replica (see [`deliver`](Self::deliver)); with `defer_start`, a job
    /// that gets a worker starts after the current step (`Micro::Start`) instead of now.
    fn arrive(&mut self, key: Key, defer_start: bool) {
        let now = self.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        let (service, replica) = (job.service as usize, job.replica as usize);
        let rep = &mut self.services[service].replicas[replica];
        if rep.down == 0 && rep.hung > 0 {
            rep.parked.push(key);
            return;
        }
        job.arrived = now;
        self.observer.reached(service, now);
        if job.cancelled || now >= job.deadline {
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
        let def = &self.model.services[service];
        let limit = def.max_in_flight.unwrap_or(def.workers);
        let capacity = def.queue;
        let rep = &mut self.services[service].replicas[replica];
        if rep.down > 0 {
            // Connection refused: fast, no worker, no time in the system.
            self.observer.refused(service, now, Outcome::Unavailable);
            self.finish_at_service(key, Outcome::Unavailable, false);
        } else if rep.admitted < limit {
            rep.admitted += 1;
            self.observer.admitted(service, now);
            if defer_start {
                self.micro.push_back(Micro::Start(key));
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
    fn start(&mut self, key: Key) {
        let now = self.now;
        let Some(job) = self.jobs.get_mut(key) else {
            return;
        };
        if now >= job.deadline {
            // Its deadline passed while it queued: dropped without work; the worker moves on.
            let (s, r) = (job.service as usize, job.replica as usize);
            self.observer.unstarted(s, job.arrived, Unstarted::Expired);
            self.release_worker(s, r);
            self.finish_at_service(key, Outcome::Timeout, true);
            return;
        }
        job.phase = Phase::Running;
        job.started = self.now;
        let rep = &mut self.services[job.service as usize].replicas[job.replica as usize];
        job.slot = rep.running.len() as u32;
        rep.running.push(key);
        let block = self.model.services[job.service as usize].body.0;
        let strand = self.strands.insert(Strand {
            job: key,
            block,
            idx: 0,
            ret: (NO_BLOCK, 0),
            parent: Key::NONE,
            pending: 0,
            failure: None,
            call: CallProgress::new(NO_CALL, 0),
            fanout: false,
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
                if strand.ret.0 != NO_BLOCK {
                    // The end of a branch run inline: back to the steps after its Choice.
                    (strand.block, strand.idx) = std::mem::replace(&mut strand.ret, (NO_BLOCK, 0));
                    continue;
                }
                self.finish_strand(key, None);
                return;
            };
            strand.idx += 1;
            let job_key = strand.job;
            let (service, replica) = match self.jobs.get(job_key) {
                Some(j) if !j.killed => (j.service as usize, j.replica as usize),
                _ => {
                    self.abandon(key);
                    return;
                }
            };
            match op {
                Op::Publish(p) => {
                    let step = &model.publishes[*p as usize];
                    if step.probability < 1.0
                        && self.services[service].route_rng.random::<f64>() >= step.probability
                    {
                        continue;
                    }
                    let mut d = step.latency.as_ref().map_or(SimDuration::ZERO, |d| {
                        d.sample(&mut self.services[service].work_rng)
                    });
                    d = SimDuration(d.0 + self.broker_slowness().0);
                    if d > SimDuration::ZERO {
                        self.queue.schedule(
                            SimTime(self.now).after(d),
                            Event::Published {
                                strand: key,
                                publish: *p,
                            },
                        );
                        return;
                    }
                    match self.try_publish(*p, key) {
                        outage::Publish::Done => {}
                        outage::Publish::Failed(outcome) => {
                            self.finish_strand(key, Some(outcome));
                            return;
                        }
                        outage::Publish::Parked => return,
                    }
                }
                Op::Work(dist) => {
                    let svc = &mut self.services[service];
                    let mut d = dist.sample(&mut svc.work_rng);
                    let slowdown = svc.replicas[replica].slowdown;
                    if slowdown != 1.0 {
                        d = SimDuration((d.0 as f64 * slowdown).round() as u64);
                    }
                    if d > SimDuration::ZERO {
                        self.begin_work(key, job_key, service, replica, d);
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
                    strand.call = CallProgress::new(cid.0, self.now);
                    strand.call.active = true;
                    strand.call.caller_replica = replica as u32;
                    self.observer.call_started(cid.0, self.now);
                    let c = &mut self.calls[cid.0 as usize];
                    if let Some(j) = self.jobs.get(job_key) {
                        if let Some(b) = &mut c.per_replica[j.replica as usize].budget {
                            b.on_request_start();
                        }
                    }
                    self.start_attempt(key);
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
                    if branches.len() > 1 {
                        self.set_holding(job_key, HOLD_FANOUT);
                        if let Some(j) = self.jobs.get_mut(job_key) {
                            j.fanout += 1;
                        }
                        if let Some(s) = self.strands.get_mut(key) {
                            s.fanout = true;
                        }
                    }
                    if !self.spawn(key, job_key, branches.iter().map(|b| b.0)) {
                        return;
                    }
                    self.joined(key);
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
                    let Some(pick) = pick else { continue };
                    if let Some(s) = self.strands.get_mut(key).filter(|s| s.ret.0 == NO_BLOCK) {
                        // One branch runs after the other on the same strand: no child
                        // strand needed, unless this strand is inside a branch already.
                        s.ret = (s.block, s.idx);
                        (s.block, s.idx) = (pick, 0);
                        continue;
                    }
                    if !self.spawn(key, job_key, std::iter::once(pick)) {
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
                ret: (NO_BLOCK, 0),
                parent,
                pending: 0,
                failure: None,
                call: CallProgress::new(NO_CALL, 0),
                fanout: false,
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

    /// Local work of `d` for `strand`: at a thread-per-request service the request's worker
    /// does it; at a non-blocking one it needs a free worker, or waits for one.
    fn begin_work(
        &mut self,
        strand: Key,
        job: Key,
        service: usize,
        replica: usize,
        d: SimDuration,
    ) {
        let now = self.now;
        if self.model.services[service].max_in_flight.is_none() {
            self.set_holding(job, HOLD_WORKING);
            self.queue
                .schedule(SimTime(now).after(d), Event::WorkDone { strand });
            return;
        }
        let workers = self.model.services[service].workers;
        let global = self.replica_base[service] + replica as u32;
        let rep = &mut self.services[service].replicas[replica];
        if rep.cpu < workers {
            rep.cpu += 1;
            self.observer.cpu_taken(service, now);
            self.queue.schedule(
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
    fn on_cpu_done(&mut self, strand: Key, global: u32) {
        let now = self.now;
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
                        self.queue.schedule(
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

    /// The children of strand `key` have all ended: a fan-out no longer holds the worker.
    fn joined(&mut self, key: Key) {
        let Some(s) = self.strands.get_mut(key) else {
            return;
        };
        if std::mem::replace(&mut s.fanout, false) {
            if let Some(j) = self.jobs.get_mut(s.job) {
                j.fanout -= 1;
            }
        }
    }

    /// Records what the worker of `job` does from now on (ignored during a fan-out, which
    /// holds the worker as a whole).
    fn set_holding(&mut self, job: Key, slot: u16) {
        let now = self.now;
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
    fn release_holding(&mut self, job: Key) {
        let now = self.now;
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        if j.holding != NOT_HOLDING {
            self.observer
                .holding(j.service as usize, now, j.holding, NOT_HOLDING);
            j.holding = NOT_HOLDING;
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
            let parent_key = strand.parent;
            self.joined(parent_key);
            let Some(parent) = self.strands.get(parent_key) else {
                return;
            };
            match parent.failure {
                Some(f) => self.finish_strand(strand.parent, Some(f)),
                None => self.run_strand(strand.parent),
            }
        }
    }

    /// The job's steps are done: draw its own error, free the worker, answer.
    fn complete_job(&mut self, key: Key, failure: Option<Outcome>) {
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

    /// A worker of a replica is free: it takes the next job in line, or idles.
    fn release_worker(&mut self, service: usize, replica: usize) {
        let now = self.now;
        let rep = &mut self.services[service].replicas[replica];
        match rep.queue.pop_front() {
            // Hand the worker straight to the next job in line.
            Some(next) => {
                self.observer.handed_on(service, now);
                self.micro.push_back(Micro::Start(next));
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

    /// The job leaves its service with `outcome`: statistics, then the response goes back.
    /// `accepted` is false for a job refused at the door, which spent no time here.
    fn finish_at_service(&mut self, key: Key, outcome: Outcome, accepted: bool) {
        let now = self.now;
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
        let cancel = match parent_job.call {
            NO_CALL => self.model.cancel_entry_on_timeout,
            c => self.model.calls[c as usize].cancel_on_timeout,
        };
        if cancel {
            match parent_job.phase {
                Phase::Transit => job.cancelled = true,
                Phase::Queued => self.cancel_queued(key, &parent_job),
                Phase::Running | Phase::Done => {}
            }
        }
        if parent_job.lost {
            // Nothing else will ever happen to a lost job: free it now.
            self.jobs.remove(key);
            let svc = &mut self.services[parent_job.service as usize];
            svc.live -= 1;
            if parent_job.arrived == u64::MAX {
                svc.replicas[parent_job.replica as usize].outstanding -= 1;
            }
        }
        self.notify(&parent_job, Outcome::Timeout);
    }

    /// Takes a queued job out of its queue: its caller gave up and cancelled it.
    fn cancel_queued(&mut self, key: Key, job: &Job) {
        let now = self.now;
        let rep = &mut self.services[job.service as usize].replicas[job.replica as usize];
        let Some(pos) = rep.queue.iter().position(|&k| k == key) else {
            return;
        };
        rep.queue.remove(pos);
        self.observer
            .cancelled_in_queue(job.service as usize, now, job.arrived);
        self.room_freed(job.service as usize, job.replica as usize);
        self.finish_at_service(key, Outcome::Timeout, true);
    }

    /// Tells the waiting parent of `job` that it ended with `outcome`.
    fn notify(&mut self, job: &Job, outcome: Outcome) {
        match job.parent {
            Parent::Orphan => {}
            Parent::Consumer(delivery) => self.consumed(delivery, outcome),
            Parent::QueueConsumer(delivery) => self.queue_processed(delivery, outcome),
            Parent::Client { entry } => self.answer_client(entry, outcome, job.sent),
            Parent::Strand(strand) => self.attempt_done(strand, outcome),
        }
    }

    /// The client of entry point `entry` that sent a request at `sent` has its answer now.
    fn answer_client(&mut self, entry: u32, outcome: Outcome, sent: u64) {
        self.observer.answered(entry, outcome, sent, self.now);
    }
}

/// Runs `model` once with `options`; what the whole run measured.
pub fn run(model: &Model, options: &RunOptions) -> Result<Measurements, RunError> {
    Simulation::new(model, options)?.run()
}

/// Runs `model` once and also returns every answered entry-point request in time order.
/// Memory grows with the number of requests: meant for tests and small models.
pub fn run_traced(
    model: &Model,
    options: &RunOptions,
) -> Result<(Measurements, Vec<TraceRecord>), RunError> {
    let mut sim = Simulation::new(model, options)?.with_trace();
    while sim.step()? {}
    let trace = sim.take_trace();
    Ok((sim.into_measurements(), trace))
}

/// A whole run must be `Send`, so that replications can go to other threads.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Simulation<'static>>();
};

/// Events are copied in and out of the event queue's heap on every push and pop: keep them
/// two words, so a scheduled entry (time, sequence, event) is 32 bytes.
const _: () = assert!(std::mem::size_of::<Event>() <= 16);
