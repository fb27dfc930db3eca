//! Services and their steps: calls with their resilience policies, publishes, sends,
//! fan-outs and choices.

use super::{ms, Balancer, Failures, IntoDuration, Jitter, RetryOn};
use crate::spec::{
    to_ron_value, BackoffSpec, BranchSpec, BreakerSpec, BudgetSpec, BulkheadSpec, DeadlineSpec,
    DistSpec, NonBlockingSpec, OnFailureSpec, RetrySpec, ServiceSpec, StepSpec, WhenDownSpec,
    WindowSpec,
};

/// The methods that add steps, shared by [`Service`] (its `steps`) and [`Steps`] (a branch).
macro_rules! step_methods {
    ($push:ident) => {
        /// Adds a sync call to service `to`, holding the worker until the answer or the
        /// timeout.
        pub fn call(self, to: impl Into<String>, call: Call) -> Self {
            self.$push(call.to(to.into()))
        }

        /// Adds a publish to topic `topic` (the worker waits only for the broker's
        /// acknowledgement).
        pub fn publish(self, topic: impl Into<String>, publish: Publish) -> Self {
            self.$push(publish.to(topic.into()))
        }

        /// Adds a send to work queue `queue` (the file's `Send` step).
        pub fn send(self, queue: impl Into<String>, send: Enqueue) -> Self {
            self.$push(send.to(queue.into()))
        }

        /// Adds branches that run at the same time; the step ends when all have.
        pub fn parallel(self, parallel: Parallel) -> Self {
            self.$push(parallel.into())
        }

        /// Adds a choice of one branch by weight.
        pub fn choice(self, choice: Choice) -> Self {
            self.$push(choice.into())
        }

        /// Adds any step as the file writes it.
        pub fn step(self, step: StepSpec) -> Self {
            self.$push(step)
        }
    };
}

/// A service: replicas, each with a pool of workers and a queue, running its steps.
///
/// Defaults are the file's: 1 replica, 1 worker, an unbounded queue, no local work, no
/// errors, round-robin balancing, no steps.
#[derive(Clone, Debug)]
pub struct Service(ServiceSpec);

impl Default for Service {
    fn default() -> Self {
        Service::new()
    }
}

impl Service {
    /// A service with every field at its default.
    pub fn new() -> Service {
        Service(ServiceSpec {
            replicas: None,
            workers: None,
            queue: None,
            work: None,
            errors: None,
            balancer: None,
            steps: Vec::new(),
            failures: None,
            nonblocking: None,
        })
    }

    /// The builder of a service as a file holds it, to change it further.
    pub fn from_spec(spec: ServiceSpec) -> Service {
        Service(spec)
    }

    /// Identical instances behind a load balancer.
    pub fn replicas(mut self, n: u32) -> Self {
        self.0.replicas = Some(n);
        self
    }

    /// Workers (threads) per replica.
    pub fn workers(mut self, n: u32) -> Self {
        self.0.workers = Some(n);
        self
    }

    /// Requests that may wait per replica; one more is rejected (`0`: no waiting).
    pub fn queue(mut self, n: u32) -> Self {
        self.0.queue = Some(n);
        self
    }

    /// Local processing done first, before the steps.
    pub fn work(mut self, d: DistSpec) -> Self {
        self.0.work = Some(d);
        self
    }

    /// Probability that a request ends in an error after its steps.
    pub fn errors(mut self, p: f64) -> Self {
        self.0.errors = Some(p);
        self
    }

    /// How callers spread requests over the replicas.
    pub fn balancer(mut self, b: Balancer) -> Self {
        self.0.balancer = Some(b);
        self
    }

    /// Random failures and repairs of each replica.
    pub fn failures(mut self, f: Failures) -> Self {
        self.0.failures = Some(f.into());
        self
    }

    /// An event-loop server with at most `max_in_flight` requests per replica; its workers
    /// are held only for local work.
    pub fn nonblocking(mut self, max_in_flight: u32) -> Self {
        self.0.nonblocking = Some(NonBlockingSpec { max_in_flight });
        self
    }

    /// Adds a step of local work after the steps so far (`work` is done before all steps).
    pub fn then_work(self, d: DistSpec) -> Self {
        self.push(StepSpec::Work(d))
    }

    /// Appends the steps of `steps`.
    pub fn steps(mut self, steps: Steps) -> Self {
        self.0.steps.extend(steps.0);
        self
    }

    step_methods!(push);

    fn push(mut self, step: StepSpec) -> Self {
        self.0.steps.push(step);
        self
    }
}

impl From<Service> for ServiceSpec {
    fn from(s: Service) -> ServiceSpec {
        s.0
    }
}

/// A list of steps: a branch of a [`Parallel`] or a [`Choice`].
#[derive(Clone, Debug, Default)]
pub struct Steps(Vec<StepSpec>);

impl Steps {
    /// No steps (a branch that does nothing).
    pub fn new() -> Steps {
        Steps(Vec::new())
    }

    /// Adds local work.
    pub fn work(self, d: DistSpec) -> Self {
        self.push(StepSpec::Work(d))
    }

    step_methods!(push);

    fn push(mut self, step: StepSpec) -> Self {
        self.0.push(step);
        self
    }
}

impl From<Steps> for Vec<StepSpec> {
    fn from(s: Steps) -> Vec<StepSpec> {
        s.0
    }
}

/// A synchronous call; the callee is named when it is added (`.call("db", Call::new())`).
///
/// Defaults: no timeout (wait forever), no network latency, always made, a failure fails
/// the request, no retry, breaker or bulkhead, the topology's deadline settings.
#[derive(Clone, Debug, Default)]
pub struct Call {
    timeout: Option<String>,
    latency: Option<DistSpec>,
    probability: Option<f64>,
    on_failure: OnFailureSpec,
    retry: Option<RetrySpec>,
    breaker: Option<BreakerSpec>,
    bulkhead: Option<BulkheadSpec>,
    deadlines: Option<DeadlineSpec>,
}

impl Call {
    /// A call with every setting at its default.
    pub fn new() -> Call {
        Call::default()
    }

    /// How long the caller waits.
    pub fn timeout(mut self, d: impl IntoDuration) -> Self {
        self.timeout = Some(d.into_duration());
        self
    }

    /// How long the caller waits, in milliseconds.
    pub fn timeout_ms(self, value: impl Into<f64>) -> Self {
        self.timeout(ms(value))
    }

    /// One-way network latency, on the request and again on the response.
    pub fn latency(mut self, d: DistSpec) -> Self {
        self.latency = Some(d);
        self
    }

    /// Probability that the call is made at all.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// A failed call is answered by a fallback after this local time; the request goes on
    /// and ends `degraded`.
    pub fn fallback(mut self, d: DistSpec) -> Self {
        self.on_failure = OnFailureSpec::Fallback(d);
        self
    }

    /// A failed call is ignored: the request goes on with its next step.
    pub fn ignore_failure(mut self) -> Self {
        self.on_failure = OnFailureSpec::Ignore;
        self
    }

    /// Retries.
    pub fn retry(mut self, r: Retry) -> Self {
        self.retry = Some(r.0);
        self
    }

    /// A circuit breaker per caller replica.
    pub fn breaker(mut self, b: Breaker) -> Self {
        self.breaker = Some(b.0);
        self
    }

    /// A bulkhead per caller replica.
    pub fn bulkhead(mut self, b: Bulkhead) -> Self {
        self.bulkhead = Some(b.0);
        self
    }

    /// Deadline propagation and cancellation on this call.
    pub fn deadlines(mut self, d: Deadlines) -> Self {
        self.deadlines = Some(d.0);
        self
    }

    fn to(self, to: String) -> StepSpec {
        StepSpec::Call {
            to,
            timeout: self.timeout,
            latency: self.latency,
            probability: self.probability,
            on_failure: self.on_failure,
            retry: self.retry.map(Box::new),
            breaker: self.breaker.map(Box::new),
            bulkhead: self.bulkhead,
            deadlines: self.deadlines,
        }
    }
}

/// A retry policy: `Retry::attempts(3)` is three attempts in all, the first included.
#[derive(Clone, Debug)]
pub struct Retry(RetrySpec);

impl Retry {
    /// `n` attempts in all, counting the first call.
    pub fn attempts(n: u32) -> Retry {
        Retry(RetrySpec {
            attempts: n,
            backoff: None,
            jitter: None,
            on: None,
            other_replica: None,
            budget: None,
        })
    }

    /// Sleep before each retry (default none).
    pub fn backoff(mut self, b: impl Into<BackoffSpec>) -> Self {
        self.0.backoff = Some(b.into());
        self
    }

    /// Randomisation of the sleep (default none).
    pub fn jitter(mut self, j: Jitter) -> Self {
        self.0.jitter = Some(j);
        self
    }

    /// Which outcomes are retried (default error, timeout, unavailable).
    pub fn on(mut self, outcomes: impl IntoIterator<Item = RetryOn>) -> Self {
        self.0.on = Some(outcomes.into_iter().collect());
        self
    }

    /// Whether a retry goes to another replica than the failed attempt (default `true`).
    pub fn other_replica(mut self, yes: bool) -> Self {
        self.0.other_replica = Some(yes);
        self
    }

    /// A retry budget shared by the calls of this step from one caller replica.
    pub fn budget(mut self, b: impl Into<BudgetSpec>) -> Self {
        self.0.budget = Some(b.into());
        self
    }
}

/// Sleeps before retries.
#[derive(Debug)]
pub enum Backoff {}

impl Backoff {
    /// The same sleep before every retry.
    pub fn constant(d: impl IntoDuration) -> BackoffSpec {
        BackoffSpec::Constant(d.into_duration())
    }

    /// The same sleep of `value` milliseconds before every retry.
    pub fn constant_ms(value: impl Into<f64>) -> BackoffSpec {
        Backoff::constant(ms(value))
    }

    /// `min(base · 2^(k−1), max)` before retry k (change the factor with
    /// [`ExponentialBackoff::multiplier`]).
    pub fn exponential(base: impl IntoDuration, max: impl IntoDuration) -> ExponentialBackoff {
        ExponentialBackoff {
            base: base.into_duration(),
            max: max.into_duration(),
            multiplier: None,
        }
    }

    /// As [`Backoff::exponential`], in milliseconds.
    pub fn exponential_ms(base: impl Into<f64>, max: impl Into<f64>) -> ExponentialBackoff {
        Backoff::exponential(ms(base), ms(max))
    }
}

/// An exponential backoff (see [`Backoff::exponential`]).
#[derive(Clone, Debug)]
pub struct ExponentialBackoff {
    base: String,
    max: String,
    multiplier: Option<f64>,
}

impl ExponentialBackoff {
    /// Growth per retry (default 2).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = Some(m);
        self
    }
}

impl From<ExponentialBackoff> for BackoffSpec {
    fn from(b: ExponentialBackoff) -> BackoffSpec {
        BackoffSpec::Exponential {
            base: b.base,
            max: b.max,
            multiplier: b.multiplier,
        }
    }
}

/// Retry budgets.
#[derive(Debug)]
pub enum Budget {}

impl Budget {
    /// Envoy's: retries in flight below `percent` % of the active requests (at least 3, see
    /// [`EnvoyBudget::min_concurrency`]).
    pub fn envoy(percent: f64) -> EnvoyBudget {
        EnvoyBudget {
            percent,
            min_concurrency: None,
        }
    }

    /// gRPC's token bucket: `max_tokens` tokens, a failure costs one, a success earns
    /// `token_ratio`; retries only while more than half remain.
    pub fn token_bucket(max_tokens: f64, token_ratio: f64) -> BudgetSpec {
        BudgetSpec::TokenBucket {
            max_tokens,
            token_ratio,
        }
    }
}

/// Envoy's retry budget (see [`Budget::envoy`]).
#[derive(Clone, Debug)]
pub struct EnvoyBudget {
    percent: f64,
    min_concurrency: Option<u32>,
}

impl EnvoyBudget {
    /// Retries always allowed in flight (default 3).
    pub fn min_concurrency(mut self, n: u32) -> Self {
        self.min_concurrency = Some(n);
        self
    }
}

impl From<EnvoyBudget> for BudgetSpec {
    fn from(b: EnvoyBudget) -> BudgetSpec {
        BudgetSpec::Envoy {
            percent: b.percent,
            min_concurrency: b.min_concurrency,
        }
    }
}

/// A circuit breaker (resilience4j semantics), one per caller replica.
///
/// Defaults: opens at a failure rate of 0.5 (or a share of slow calls of 1.0, a call being
/// slow past 60 s) over the last 100 calls, once 100 calls are in the window; stays open
/// 60 s; then lets 10 probes through.
#[derive(Clone, Debug, Default)]
pub struct Breaker(BreakerSpec);

impl Breaker {
    /// A breaker with every setting at its default.
    pub fn new() -> Breaker {
        Breaker::default()
    }

    /// Open when the failure rate in the window is at least this fraction.
    pub fn failure_rate(mut self, f: f64) -> Self {
        self.0.failure_rate = Some(f);
        self
    }

    /// Open when the share of slow calls is at least this fraction.
    pub fn slow_call_rate(mut self, f: f64) -> Self {
        self.0.slow_call_rate = Some(f);
        self
    }

    /// A call is slow when it takes longer than this.
    pub fn slow_call(mut self, d: impl IntoDuration) -> Self {
        self.0.slow_call = Some(d.into_duration());
        self
    }

    /// A call is slow when it takes longer than `value` milliseconds.
    pub fn slow_call_ms(self, value: impl Into<f64>) -> Self {
        self.slow_call(ms(value))
    }

    /// The window is the last `n` calls.
    pub fn window_count(mut self, n: u32) -> Self {
        self.0.window = Some(WindowSpec::Count(n));
        self
    }

    /// The window is the calls of the last `d` (whole seconds).
    pub fn window_time(mut self, d: impl IntoDuration) -> Self {
        self.0.window = Some(WindowSpec::Time(d.into_duration()));
        self
    }

    /// No decision before this many calls are in the window.
    pub fn min_calls(mut self, n: u32) -> Self {
        self.0.min_calls = Some(n);
        self
    }

    /// How long the breaker stays open before probing.
    pub fn open_for(mut self, d: impl IntoDuration) -> Self {
        self.0.open_for = Some(d.into_duration());
        self
    }

    /// How long the breaker stays open before probing, in milliseconds.
    pub fn open_for_ms(self, value: impl Into<f64>) -> Self {
        self.open_for(ms(value))
    }

    /// Probes allowed when half-open.
    pub fn half_open_calls(mut self, n: u32) -> Self {
        self.0.half_open_calls = Some(n);
        self
    }

    /// Go half-open when the wait ends even without traffic.
    pub fn automatic(mut self, yes: bool) -> Self {
        self.0.automatic = Some(yes);
        self
    }

    /// Longest stay half-open before falling back to open.
    pub fn max_half_open(mut self, d: impl IntoDuration) -> Self {
        self.0.max_half_open = Some(d.into_duration());
        self
    }
}

/// A bulkhead: at most `max_concurrent` attempts in flight from one caller replica.
#[derive(Clone, Debug)]
pub struct Bulkhead(BulkheadSpec);

impl Bulkhead {
    /// At most `max_concurrent` attempts in flight; one more is rejected at once.
    pub fn new(max_concurrent: u32) -> Bulkhead {
        Bulkhead(BulkheadSpec {
            max_concurrent,
            max_wait: None,
        })
    }

    /// How long an attempt may wait for a permit before it is rejected (default none).
    pub fn max_wait(mut self, d: impl IntoDuration) -> Self {
        self.0.max_wait = Some(d.into_duration());
        self
    }

    /// How long an attempt may wait for a permit, in milliseconds.
    pub fn max_wait_ms(self, value: impl Into<f64>) -> Self {
        self.max_wait(ms(value))
    }
}

/// Deadline propagation and cancellation (default: neither).
#[derive(Clone, Copy, Debug, Default)]
pub struct Deadlines(pub(super) DeadlineSpec);

impl Deadlines {
    /// Neither propagation nor cancellation, as written out (overrides the topology's
    /// settings on a call).
    pub fn new() -> Deadlines {
        Deadlines::default()
    }

    /// The request's remaining time travels with each call.
    pub fn propagate(mut self, yes: bool) -> Self {
        self.0.propagate = Some(yes);
        self
    }

    /// A caller that times out cancels its callee's request if it has not started.
    pub fn cancel(mut self, yes: bool) -> Self {
        self.0.cancel = Some(yes);
        self
    }
}

/// A publish step; the topic is named when it is added (`.publish("orders", Publish::new())`).
#[derive(Clone, Debug, Default)]
pub struct Publish {
    keys: Option<u64>,
    latency: Option<DistSpec>,
    probability: Option<f64>,
    when_down: Option<WhenDownSpec>,
}

impl Publish {
    /// A keyless publish, acknowledged at once, always made, failing while the broker is
    /// down.
    pub fn new() -> Publish {
        Publish::default()
    }

    /// Messages carry one of `n` keys, uniformly; a key always goes to the same partition.
    pub fn keys(mut self, n: u64) -> Self {
        self.keys = Some(n);
        self
    }

    /// Round trip to the broker until the acknowledgement.
    pub fn latency(mut self, d: DistSpec) -> Self {
        self.latency = Some(d);
        self
    }

    /// Probability that the message is published at all.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// What the producer does while the broker is down.
    pub fn when_down(mut self, w: WhenDownSpec) -> Self {
        self.when_down = Some(w);
        self
    }

    fn to(self, topic: String) -> StepSpec {
        StepSpec::Publish {
            topic,
            keys: self.keys,
            latency: self.latency,
            probability: self.probability,
            when_down: self.when_down,
        }
    }
}

/// A send to a work queue (the file's `Send` step); the queue is named when it is added
/// (`.send("jobs", Enqueue::new())`).
#[derive(Clone, Debug, Default)]
pub struct Enqueue {
    latency: Option<DistSpec>,
    probability: Option<f64>,
    when_down: Option<WhenDownSpec>,
}

impl Enqueue {
    /// A send acknowledged at once, always made, failing while the broker is down.
    pub fn new() -> Enqueue {
        Enqueue::default()
    }

    /// Round trip to the broker until the acknowledgement.
    pub fn latency(mut self, d: DistSpec) -> Self {
        self.latency = Some(d);
        self
    }

    /// Probability that the message is sent at all.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }

    /// What the producer does while the broker is down.
    pub fn when_down(mut self, w: WhenDownSpec) -> Self {
        self.when_down = Some(w);
        self
    }

    fn to(self, queue: String) -> StepSpec {
        StepSpec::Send {
            queue,
            latency: self.latency,
            probability: self.probability,
            when_down: self.when_down,
        }
    }
}

/// What a producer does while the broker cannot take its message.
#[derive(Debug)]
pub enum WhenDown {}

impl WhenDown {
    /// The step fails at once (`unavailable`).
    pub fn fail() -> WhenDownSpec {
        WhenDownSpec::Fail
    }

    /// The request waits for the broker, at most `timeout`, then ends `timeout`.
    pub fn wait(timeout: impl IntoDuration) -> WhenDownSpec {
        WhenDownSpec::Wait {
            timeout: Some(timeout.into_duration()),
        }
    }

    /// The request waits for the broker as long as it takes.
    pub fn wait_forever() -> WhenDownSpec {
        WhenDownSpec::Wait { timeout: None }
    }

    /// The producer buffers up to `limit` messages and goes on; a full buffer fails.
    pub fn buffer(limit: u64) -> WhenDownSpec {
        WhenDownSpec::Buffer { limit }
    }
}

/// Branches that run at the same time; the step ends when all have ended.
#[derive(Clone, Debug, Default)]
pub struct Parallel {
    branches: Vec<Vec<StepSpec>>,
    probability: Option<f64>,
}

impl Parallel {
    /// No branches yet.
    pub fn new() -> Parallel {
        Parallel::default()
    }

    /// Adds a branch.
    pub fn branch(mut self, steps: Steps) -> Self {
        self.branches.push(steps.0);
        self
    }

    /// Probability that the fan-out happens at all.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
}

impl From<Parallel> for StepSpec {
    fn from(p: Parallel) -> StepSpec {
        StepSpec::Parallel {
            branches: p.branches,
            probability: p.probability,
        }
    }
}

/// Exactly one branch runs, picked with probability proportional to its weight.
#[derive(Clone, Debug, Default)]
pub struct Choice {
    branches: Vec<BranchSpec>,
    probability: Option<f64>,
}

impl Choice {
    /// No branches yet.
    pub fn new() -> Choice {
        Choice::default()
    }

    /// Adds a branch of relative weight `weight`.
    pub fn branch(mut self, weight: f64, steps: Steps) -> Self {
        self.branches.push(BranchSpec {
            weight,
            steps: steps.0,
        });
        self
    }

    /// Probability that a branch runs at all.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
}

impl From<Choice> for StepSpec {
    fn from(c: Choice) -> StepSpec {
        StepSpec::Choice {
            branches: c.branches,
            probability: c.probability,
        }
    }
}

/// `to_ron` for builders of values that a variant or an override may set at a path.
macro_rules! ron_text {
    ($($t:ty),*) => {$(
        impl $t {
            /// This value as RON, as an override or a variant sets it
            /// (`services[api].steps[0].retry=…`).
            pub fn to_ron(&self) -> String {
                to_ron_value(&self.0)
            }
        }
    )*};
}

ron_text!(Service, Retry, Breaker, Bulkhead);
