//! The validated model: names resolved to ids, durations parsed, distributions compiled, and the
//! sync call graph as a `petgraph` graph.
//!
//! A [`Model`] is built only by one compiler, whichever way it comes: a file or a string
//! ([`crate::load`], [`crate::parse`]), a spec or the [`crate::builder`] ([`Model::from_spec`],
//! written as RON and read back), or an edit of another model ([`Model::with_overrides`],
//! [`Model::variant`]). The compiler checks every rule of the format and collects *every*
//! problem before giving up, so a user fixes a file in one pass. Once built, a model is
//! immutable (its fields are private; methods read them) and `Send + Sync`: many runs (seeds,
//! replications) can share it across threads, and no run can see a value the checks did not.

mod compile;
pub mod distributions;
pub mod faults;
mod from_spec;
mod load;
mod variants;

pub(crate) use load::{decode, parse};

use crate::call::backoff::{Backoff, Jitter};
use crate::call::breaker::BreakerConfig;
use crate::call::budget::RetryBudget;
use crate::dist::Dist;
use crate::failure::FailureProcess;
use crate::time::SimDuration;
use crate::workload::ArrivalProcess;
use faults::Fault;
use petgraph::graph::DiGraph;

pub use compile::{
    DEFAULT_BUCKET, DEFAULT_DURATION, DEFAULT_MAX_EVENTS_PER_INSTANT, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_SESSION_TIMEOUT, DEFAULT_VISIBILITY_TIMEOUT, MAX_ATTEMPTS, MAX_BUCKETS, MAX_CONSUMERS,
    MAX_PARTITIONS, MAX_QUEUE, MAX_RATE_PER_S, MAX_REPLICAS, MAX_SERIES_VALUES, MAX_WORKERS,
};

/// Index of a service in [`Model::services`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);

/// Index of a call step (a sync edge) in [`Model::calls`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u32);

/// Index of a block of steps in [`Model::blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockId(pub u32);

/// Index of an entry point in [`Model::entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub u32);

/// Index of a topic in [`Model::topics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicId(pub u32);

/// Index of a work queue in [`Model::queues`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(pub u32);

/// Index of a publish or send step in [`Model::publishes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublishId(pub u32);

/// Index of a fault of the timeline in [`Model::faults`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaultId(pub u32);

/// Run length, warm-up, seed and safety caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunConfig {
    /// Simulated time, warm-up included.
    pub duration: SimDuration,
    /// Initial span excluded from statistics.
    pub warmup: SimDuration,
    /// Seed of every random stream.
    pub seed: u64,
    /// Width of the time-series buckets as written; a run widens it so that it keeps at most
    /// [`MAX_BUCKETS`] buckets and [`MAX_SERIES_VALUES`] values over all its time series (the
    /// duration can be overridden per run).
    pub bucket: SimDuration,
    /// Most requests in flight at once before the run stops with an error.
    pub max_in_flight: u64,
    /// Most events (each zero-time step counts as one) at one virtual instant before the run
    /// stops with an error: the guard against models that loop without time advancing.
    pub max_events_per_instant: u64,
}

/// How callers spread requests over a service's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    /// Each replica in turn.
    RoundRobin,
    /// A uniformly random replica.
    Random,
    /// The replica with the fewest requests in flight (lowest index on ties).
    LeastOutstanding,
    /// Two distinct random replicas; the one with fewer requests in flight.
    PowerOfTwo,
}

/// What a failed call does to the request that made it.
#[derive(Clone, Debug)]
pub enum OnFailure {
    /// The request stops and fails with the call's outcome.
    Fail,
    /// The request goes on with its next step.
    Ignore,
    /// A fallback answers after this local time; the request goes on and ends degraded.
    Fallback(Dist),
}

/// Retries of a call step.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first call included.
    pub attempts: u32,
    /// Sleep before each retry.
    pub backoff: Backoff,
    /// Randomisation of the sleep.
    pub jitter: Jitter,
    /// Which outcomes are retried, indexed by [`crate::outcome::Outcome::index`].
    pub retry_on: [bool; crate::outcome::Outcome::COUNT],
    /// Send a retry to another replica than the failed attempt.
    pub other_replica: bool,
    /// A budget shared by the calls of this step from one caller replica.
    pub budget: Option<RetryBudget>,
}

/// A bulkhead of a call step: attempts in flight per caller replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkheadPolicy {
    /// Attempts in flight at once.
    pub max_concurrent: u32,
    /// Longest wait for a permit (0: reject at once).
    pub max_wait: SimDuration,
}

/// A service: `replicas` × (`workers` + bounded queue), running the steps of block `body`.
#[derive(Clone, Debug)]
pub struct Service {
    /// Unique name.
    pub name: String,
    /// Identical instances.
    pub replicas: u32,
    /// Workers per replica.
    pub workers: u32,
    /// Waiting room per replica; `None` is unbounded.
    pub queue: Option<u32>,
    /// Probability that a request ends in an error after its steps.
    pub error_prob: f64,
    /// Replica choice for incoming requests.
    pub balancer: Balancer,
    /// The local work done first (also the first op of `body` when not zero).
    pub work: Dist,
    /// The steps a request runs.
    pub body: BlockId,
    /// Random failures and repairs of each replica, if any.
    pub failures: Option<FailureProcess>,
    /// `Some(n)`: an event-loop server with at most n requests in flight per replica, whose
    /// workers are held only for local work. `None`: a worker per request.
    pub max_in_flight: Option<u32>,
}

/// A synchronous call step: one edge of the call graph.
#[derive(Clone, Debug)]
pub struct CallEdge {
    /// The calling service.
    pub from: ServiceId,
    /// The called service.
    pub to: ServiceId,
    /// How long the caller waits; `None` is forever.
    pub timeout: Option<SimDuration>,
    /// One-way network latency (request and response each draw once).
    pub latency: Option<Dist>,
    /// Probability that the call is made.
    pub probability: f64,
    /// What a failure does to the caller.
    pub on_failure: OnFailure,
    /// Retries, if any.
    pub retry: Option<RetryPolicy>,
    /// A circuit breaker per caller replica, if any.
    pub breaker: Option<BreakerConfig>,
    /// A bulkhead per caller replica, if any.
    pub bulkhead: Option<BulkheadPolicy>,
    /// The caller's deadline travels with the call; the callee drops expired requests.
    pub propagate_deadline: bool,
    /// A caller that times out cancels the request if it has not started.
    pub cancel_on_timeout: bool,
    /// Where the step is in the file, e.g. `services[gateway].steps[1]`.
    pub path: String,
}

/// One instruction of a block of steps.
#[derive(Clone, Debug)]
pub enum Op {
    /// Hold the worker for a sampled time.
    Work(Dist),
    /// A sync call (see [`Model::calls`]).
    Call(CallId),
    /// Publish a message (see [`Model::publishes`]).
    Publish(PublishId),
    /// Run every branch at once and wait for all.
    Parallel {
        /// The branches.
        branches: Box<[BlockId]>,
        /// Probability that the fan-out happens.
        probability: f64,
    },
    /// Run one branch, picked by weight.
    Choice {
        /// `(cumulative probability, branch)`, the last cumulative value being 1.
        branches: Box<[(f64, BlockId)]>,
        /// Probability that a branch runs at all.
        probability: f64,
    },
}

/// A topic of the simulated broker.
#[derive(Clone, Debug)]
pub struct Topic {
    /// Unique name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Messages older than this are deleted; `None` keeps them.
    pub retention: Option<SimDuration>,
    /// The consumer groups, one per subscribing service.
    pub subscribers: Vec<Subscriber>,
}

/// A consumer group of a topic.
#[derive(Clone, Copy, Debug)]
pub struct Subscriber {
    /// The service whose steps process each message.
    pub service: ServiceId,
    /// Consumers in the group.
    pub consumers: u32,
    /// Wait before a crashed consumer's partitions move to the others.
    pub session_timeout: SimDuration,
    /// Processing attempts per message, the first included.
    pub max_attempts: u32,
    /// Wait before each retry of a failed message.
    pub retry_backoff: SimDuration,
    /// After the last attempt fails: dead-letter it (`true`) or block the partition (`false`).
    pub dead_letter: bool,
    /// Commit every this long; `None` commits after each message.
    pub commit_interval: Option<SimDuration>,
    /// Idempotent consumers' memory of processed messages; `None` is not idempotent.
    pub idempotent: Option<SimDuration>,
}

/// Where the requests of an entry point go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryTarget {
    /// Requests to a service, answered when it has served them.
    Service(ServiceId),
    /// Messages external producers publish to the broker, answered when it has them.
    Broker(Destination),
}

impl EntryTarget {
    /// The service receiving the requests, `None` for messages to the broker.
    pub fn service(self) -> Option<ServiceId> {
        match self {
            EntryTarget::Service(s) => Some(s),
            EntryTarget::Broker(_) => None,
        }
    }
}

/// Where a publish step sends its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A topic.
    Topic(TopicId),
    /// A work queue.
    Queue(QueueId),
}

/// A work queue of the simulated broker (competing consumers of one service).
#[derive(Clone, Debug)]
pub struct WorkQueueDef {
    /// Unique name.
    pub name: String,
    /// The consuming service.
    pub service: ServiceId,
    /// Competing consumers.
    pub consumers: u32,
    /// Unacknowledged deliveries per consumer; 0 = unlimited.
    pub prefetch: u32,
    /// A delivery not acknowledged this long after it is delivered again.
    pub visibility_timeout: SimDuration,
    /// Deliveries of one message before it is dead-lettered; 0 = no limit.
    pub max_receives: u32,
    /// A failed message becomes visible again after this long.
    pub retry_delay: SimDuration,
    /// Ready messages older than this are deleted; `None` keeps them.
    pub retention: Option<SimDuration>,
}

/// A publish step (`Publish` to a topic or `Send` to a work queue).
#[derive(Clone, Debug)]
pub struct PublishStep {
    /// The publishing service.
    pub from: ServiceId,
    /// The topic or queue.
    pub to: Destination,
    /// Size of the key space; `None` for keyless messages (partitions in turn).
    pub keys: Option<u64>,
    /// Round trip to the broker until the acknowledgement.
    pub latency: Option<Dist>,
    /// Probability that the message is published.
    pub probability: f64,
    /// What the producer does while the broker cannot take the message.
    pub when_down: WhenDown,
    /// Where the step is in the file.
    pub path: String,
}

/// What a producer does while the broker cannot take its message (see
/// [`crate::spec::WhenDownSpec`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenDown {
    /// Fail the step at once (`unavailable`).
    Fail,
    /// Wait for the broker, at most this long (`None`: forever), then fail with `timeout`.
    Wait(Option<SimDuration>),
    /// Buffer up to this many messages and go on; fail when the buffer is full.
    Buffer(u64),
}

/// An entry point of the workload.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Unique name.
    pub name: String,
    /// Where the requests go.
    pub target: EntryTarget,
    /// When requests arrive.
    pub arrivals: ArrivalProcess,
    /// How long the client waits; `None` is forever.
    pub timeout: Option<SimDuration>,
}

/// A validated, compiled topology, ready to analyse or run.
///
/// A model is immutable: its parts are read through methods (a service by its name, every
/// call step, the run settings…), never assigned, so every model that runs went through the
/// checks of the file format. A change makes a new model through the same checks:
/// [`Model::with_overrides`] (the `PATH=VALUE` edits of the experiment layer and of `--set`),
/// [`Model::variant`] (an edit the file names), or the [`crate::builder`] and
/// [`Model::from_spec`]. A bad value is then refused with the message the file would get.
///
/// ```
/// # use microsim::spec::overrides::Override;
/// let model = microsim::parse(r#"Topology(
///     workload: [(name: "users", entry: "api", arrivals: Poisson(per_second: 50))],
///     services: { "api": (workers: 8, work: Exp(mean: "2ms")) },
/// )"#, "shop.ron")?;
/// assert_eq!(model.service("api").map(|s| s.workers), Some(8));
/// let two: Override = "services[api].workers=2".parse()?;
/// assert_eq!(model.with_overrides(&[two])?.service("api").map(|s| s.workers), Some(2));
/// let zero: Override = "services[api].workers=0".parse()?;
/// let e = model.with_overrides(&[zero]).unwrap_err();
/// assert!(e.to_string().contains("services[api].workers: workers must be at least 1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Its fields cannot be assigned, even on a model of one's own:
/// ```compile_fail,E0616
/// let mut model = microsim::parse(r#"Topology(services: { "api": () })"#, "t").unwrap();
/// model.services[0].workers = 0; // error[E0616]: field `services` of struct `Model` is private
/// ```
/// nor can what its methods lend:
/// ```compile_fail,E0594
/// let mut model = microsim::parse(r#"Topology(services: { "api": () })"#, "t").unwrap();
/// model.services()[0].workers = 0; // error[E0594]: cannot assign to data in a `&` reference
/// ```
#[derive(Clone, Debug)]
pub struct Model {
    /// The topology's name.
    pub(crate) name: String,
    /// Where it came from (a file path or `<string>`), for messages.
    pub(crate) origin: String,
    /// Run settings from the file.
    pub(crate) run: RunConfig,
    /// Services in file order.
    pub(crate) services: Vec<Service>,
    /// Sync call steps in file order.
    pub(crate) calls: Vec<CallEdge>,
    /// Blocks of steps; each service's `body` is one of them, branches are others.
    pub(crate) blocks: Vec<Box<[Op]>>,
    /// Entry points in file order.
    pub(crate) entries: Vec<Entry>,
    /// The sync call graph: a node per service (weight = its id), an edge per call step.
    pub(crate) graph: DiGraph<ServiceId, CallId>,
    /// The fault timeline, in file order.
    pub(crate) faults: Vec<Fault>,
    /// Topics of the broker, in file order.
    pub(crate) topics: Vec<Topic>,
    /// Work queues of the broker, in file order.
    pub(crate) queues: Vec<WorkQueueDef>,
    /// Publish and send steps, in file order.
    pub(crate) publishes: Vec<PublishStep>,
    /// Entry requests carry their client timeout as a deadline the entry service honours.
    pub(crate) propagate_entry_deadline: bool,
    /// A client that times out cancels its request if it has not started.
    pub(crate) cancel_entry_on_timeout: bool,
    /// The text it was compiled from, which overrides edit ([`Model::with_overrides`]).
    pub(crate) source: std::sync::Arc<str>,
    /// The named variants the file declares, in file order.
    pub(crate) variants: Vec<Variant>,
}

pub use variants::Variant;

/// Reading a model. Names are those of the file; the slices are in file order, and an id
/// ([`ServiceId`], [`CallId`]) is a position in its slice.
impl Model {
    /// The topology's name (its `name:`, else the file name without its extension).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the model came from, as messages name it: a file path, `<string>`, `shop
    /// (built)`, or an edited model's origin with its edits (`shop.ron
    /// [services[api].workers=2]`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The text the model was compiled from: the file as written, or the RON a built topology
    /// was written as (comments and all; [`Model::with_overrides`] edits it).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The run settings of the file (`run:`), defaults filled in. A run may change its seed,
    /// duration and warm-up ([`crate::engine::RunOptions`]), checked by the same rules.
    pub fn run_config(&self) -> &RunConfig {
        &self.run
    }

    /// Every service, in file order; [`ServiceId`] `i` is the `i`-th.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The id of the service called `name`.
    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.name == name)
            .map(|i| ServiceId(i as u32))
    }

    /// The service with id `id` (an id of this model: one from another model may be out of
    /// range, which panics).
    pub fn service_at(&self, id: ServiceId) -> &Service {
        &self.services[id.0 as usize]
    }

    /// Every sync call step, in file order; [`CallId`] `i` is the `i`-th.
    pub fn calls(&self) -> &[CallEdge] {
        &self.calls
    }

    /// The first sync call step from service `from` to service `to`, in file order (when
    /// `from` calls `to` from several steps, [`Model::call_at`] picks one by its path).
    pub fn call(&self, from: &str, to: &str) -> Option<&CallEdge> {
        let (from, to) = (self.service_id(from)?, self.service_id(to)?);
        self.calls.iter().find(|c| c.from == from && c.to == to)
    }

    /// The sync call step at `step`, its path in the file
    /// (`services[gateway].steps[1].branches[0].steps[0]`).
    pub fn call_at(&self, step: &str) -> Option<&CallEdge> {
        self.calls.iter().find(|c| c.path == step)
    }

    /// The ops of block `id` (a service's [`Service::body`], or a branch of a
    /// [`Op::Parallel`] or [`Op::Choice`]).
    pub fn block(&self, id: BlockId) -> &[Op] {
        &self.blocks[id.0 as usize]
    }

    /// Every block of steps; [`BlockId`] `i` is the `i`-th.
    pub fn blocks(&self) -> &[Box<[Op]>] {
        &self.blocks
    }

    /// Every entry point of the workload, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry point called `name`.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The sync call graph: a node per service (its weight is its id, node `i` is service
    /// `i`), an edge per call step (its weight is the step's id).
    pub fn call_graph(&self) -> &DiGraph<ServiceId, CallId> {
        &self.graph
    }

    /// The fault timeline, in file order.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// Every topic of the broker, in file order ([`Destination::Topic`] `i` is the `i`-th).
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The topic called `name`.
    pub fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.name == name)
    }

    /// Every work queue of the broker, in file order ([`Destination::Queue`] `i` is the
    /// `i`-th).
    pub fn queues(&self) -> &[WorkQueueDef] {
        &self.queues
    }

    /// The work queue called `name`.
    pub fn queue(&self, name: &str) -> Option<&WorkQueueDef> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// Every publish and send step, in file order.
    pub fn publishes(&self) -> &[PublishStep] {
        &self.publishes
    }

    /// The first publish or send step from service `from` to the topic or work queue `to`, in
    /// file order.
    pub fn publish(&self, from: &str, to: &str) -> Option<&PublishStep> {
        let from = self.service_id(from)?;
        self.publishes
            .iter()
            .find(|p| p.from == from && self.destination_name(p.to) == to)
    }

    /// The name of a topic or work queue.
    pub fn destination_name(&self, d: Destination) -> &str {
        match d {
            Destination::Topic(t) => &self.topic_at(t).name,
            Destination::Queue(q) => &self.queue_at(q).name,
        }
    }

    /// Whether entry requests carry their client timeout as a deadline that the entry
    /// service honours (`deadlines: (propagate: true)`).
    pub fn propagate_entry_deadline(&self) -> bool {
        self.propagate_entry_deadline
    }

    /// Whether a client that times out cancels its request if it has not started
    /// (`deadlines: (cancel: true)`).
    pub fn cancel_entry_on_timeout(&self) -> bool {
        self.cancel_entry_on_timeout
    }

    /// The named variants the file declares (`variants:`), in file order; each is a model of
    /// its own through [`Model::variant`].
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// The position of a destination among all of them: topics first, then queues (the
    /// layout of per-destination arrays in the analysis).
    pub fn destination_index(&self, d: Destination) -> usize {
        match d {
            Destination::Topic(t) => t.0 as usize,
            Destination::Queue(q) => self.topics.len() + q.0 as usize,
        }
    }

    /// The sync call step with id `id` ([`Model::call_at`] finds one by its path in the
    /// file).
    pub fn call_edge(&self, id: CallId) -> &CallEdge {
        &self.calls[id.0 as usize]
    }

    /// The entry point with id `id`.
    pub fn entry_at(&self, id: EntryId) -> &Entry {
        &self.entries[id.0 as usize]
    }

    /// The topic with id `id`.
    pub fn topic_at(&self, id: TopicId) -> &Topic {
        &self.topics[id.0 as usize]
    }

    /// The work queue with id `id`.
    pub fn queue_at(&self, id: QueueId) -> &WorkQueueDef {
        &self.queues[id.0 as usize]
    }

    /// The publish or send step with id `id`.
    pub fn publish_at(&self, id: PublishId) -> &PublishStep {
        &self.publishes[id.0 as usize]
    }

    /// The fault with id `id`.
    pub fn fault_at(&self, id: FaultId) -> &Fault {
        &self.faults[id.0 as usize]
    }

    /// A label for a call edge, `from → to`.
    pub fn call_label(&self, id: CallId) -> String {
        let c = &self.calls[id.0 as usize];
        format!(
            "{} → {}",
            self.service_at(c.from).name,
            self.service_at(c.to).name
        )
    }
}
