//! Validation and compilation of a [`TopologySpec`] into a [`Model`].
//!
//! Every check pushes a [`Problem`] and carries on, so one pass reports everything. Only when
//! no problem was found is the model assembled.

use super::*;
use crate::call::backoff::{Backoff, Jitter};
use crate::call::breaker::{BreakerConfig, Window};
use crate::call::budget::RetryBudget;
use crate::error::{did_you_mean, LoadError, Problem};
use crate::spec::locate::Locator;
use crate::spec::*;
use crate::time::{parse_duration, SimDuration};
use crate::workload::{ArrivalKind, ArrivalProcess};
use std::collections::BTreeMap;

/// Default simulated duration.
pub const DEFAULT_DURATION: SimDuration = SimDuration::from_secs(60);
/// Default time-series bucket.
pub const DEFAULT_BUCKET: SimDuration = SimDuration::from_secs(1);
/// Default cap on requests in flight.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 1_000_000;
/// Default cap on events at one virtual instant (the Zeno guard). The busiest instant of any
/// bundled topology has 4,653 events (`no-breaker.ron`, when its 5-minute hang ends and the
/// requests it held are all answered at once; the others stay below 200 —
/// `tests/suite/reliability.rs` keeps them far below this cap). A legitimate burst at one
/// instant is bounded by the work alive at once (`max_in_flight` requests, a few steps each):
/// ten times the default in-flight cap leaves room for that, and still stops a model that
/// loops in zero time within a second or so of a release build.
pub const DEFAULT_MAX_EVENTS_PER_INSTANT: u64 = 10_000_000;
/// Kafka's default `session.timeout.ms` (since 3.0).
pub const DEFAULT_SESSION_TIMEOUT: SimDuration = SimDuration::from_secs(45);
/// Highest arrival rate of one entry point [requests/s]: one arrival per nanosecond, the
/// resolution of the virtual clock. A higher rate cannot be represented (arrivals of one
/// entry point are at least 1 ns apart), so it is refused instead of being clamped.
pub const MAX_RATE_PER_S: f64 = 1e9;
/// Most partitions a topic may have.
pub const MAX_PARTITIONS: u32 = 10_000;
/// Most consumers a consumer group may have.
pub const MAX_CONSUMERS: u32 = 10_000;
/// How long a work-queue delivery stays invisible by default (SQS's default).
pub const DEFAULT_VISIBILITY_TIMEOUT: SimDuration = SimDuration::from_secs(30);
/// Most attempts a retry policy may make per call.
pub const MAX_ATTEMPTS: u32 = 100;
/// Most time-series buckets a run keeps; a finer `bucket` is widened to fit.
pub const MAX_BUCKETS: u64 = 100_000;
/// Most values a run's time series hold in all (buckets × series: 8 per entry point, 2 plus
/// one per occupancy state per service, 2 per call step, consumer group and work queue);
/// a finer `bucket` is widened to fit, so that memory and the report grow with what is
/// reported (10⁷ values: 80 MB in memory) rather than with services × buckets.
pub const MAX_SERIES_VALUES: u64 = 10_000_000;
/// Most replicas of one service (the engine keeps state per replica).
pub const MAX_REPLICAS: u32 = 10_000;
/// Most workers per replica (the analytic shadow's Erlang formulas loop over them).
pub const MAX_WORKERS: u32 = 1_000_000;
/// Longest bounded queue per replica (the M/M/c/K shadow keeps a probability per place);
/// leave `queue` out for an unbounded one.
pub const MAX_QUEUE: u32 = 1_000_000;

struct Compiler<'a> {
    /// The topology-wide deadline settings, the default of every call.
    deadlines: DeadlineSpec,
    problems: Vec<Problem>,
    names: BTreeMap<&'a str, ServiceId>,
    calls: Vec<CallEdge>,
    blocks: Vec<Box<[Op]>>,
    locator: Option<Locator<'a>>,
    topic_names: BTreeMap<&'a str, u32>,
    queue_names: BTreeMap<&'a str, u32>,
    publishes: Vec<PublishStep>,
}

impl<'a> Compiler<'a> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problem_nth(path, message, 0);
    }

    /// A problem about the `nth` (0-based) element of that name, e.g. a duplicate's second
    /// definition, so that the line points at it rather than at the first.
    fn problem_nth(&mut self, path: impl Into<String>, message: impl Into<String>, nth: usize) {
        let path = path.into();
        let line = self
            .locator
            .as_ref()
            .and_then(|l| l.line_of_nth(&path, nth));
        self.problems.push(Problem {
            path,
            message: message.into(),
            line,
        });
    }

    fn duration(&mut self, path: &str, text: &str) -> Option<SimDuration> {
        match parse_duration(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(path, e.to_string());
                None
            }
        }
    }

    /// The index of topic or queue `name` (`kind` = "topic" or "queue", listed under
    /// `section`), or a problem at `path` with a hint.
    fn destination(&mut self, path: &str, name: &str, kind: &str, section: &str) -> Option<u32> {
        let names = if kind == "topic" {
            &self.topic_names
        } else {
            &self.queue_names
        };
        if let Some(&i) = names.get(name) {
            return Some(i);
        }
        let known: Vec<&str> = names.keys().copied().collect();
        let hint = match did_you_mean(name, &known) {
            Some(t) => format!("; did you mean `{t}`?"),
            None if known.is_empty() => {
                format!("; no {section} are defined (add them under `{section}:`)")
            }
            None => format!("; known {section}: {}", known.join(", ")),
        };
        self.problem(path.to_string(), format!("unknown {kind} `{name}`{hint}"));
        None
    }

    /// Compiles the common part of `Publish` and `Send` steps into an op.
    #[allow(clippy::too_many_arguments)]
    fn publish_step(
        &mut self,
        from: ServiceId,
        sp: &str,
        to: Option<Destination>,
        keys: Option<u64>,
        latency: &Option<DistSpec>,
        probability: Option<f64>,
        when_down: WhenDown,
        ops: &mut Vec<Op>,
    ) {
        let probability = self.probability(&format!("{sp}.probability"), probability);
        let latency = latency
            .as_ref()
            .and_then(|l| self.dist(&format!("{sp}.latency"), l));
        if let Some(to) = to {
            ops.push(Op::Publish(self.publishes.len() as u32));
            self.publishes.push(PublishStep {
                from,
                to,
                keys,
                latency,
                probability,
                when_down,
                path: sp.to_string(),
            });
        }
    }

    /// Compiles a step's `when_down` (default `Fail`).
    fn when_down(&mut self, sp: &str, spec: &Option<WhenDownSpec>) -> WhenDown {
        match spec {
            None | Some(WhenDownSpec::Fail) => WhenDown::Fail,
            Some(WhenDownSpec::Wait { timeout }) => WhenDown::Wait(
                timeout
                    .as_ref()
                    .and_then(|t| self.positive_duration(&format!("{sp}.when_down.timeout"), t)),
            ),
            Some(WhenDownSpec::Buffer { limit }) => {
                if *limit == 0 {
                    self.problem(
                        format!("{sp}.when_down.limit"),
                        "a buffer of 0 messages holds nothing; give a limit ≥ 1, or use `Fail`",
                    );
                }
                WhenDown::Buffer((*limit).max(1))
            }
        }
    }

    /// Checks an arrival rate [requests/s]: finite, ≥ 0 and at most [`MAX_RATE_PER_S`].
    /// (A ramp between two points stays between their rates, so checking points suffices.)
    fn rate(&mut self, path: &str, r: f64) {
        if !(r.is_finite() && r >= 0.0) {
            self.problem(
                path,
                format!("a rate must be a finite number ≥ 0 [requests/s], not {r}"),
            );
        } else if r > MAX_RATE_PER_S {
            self.problem(
                path,
                format!(
                    "a rate of {r} requests/s is more than the {MAX_RATE_PER_S} (10⁹) one entry point can offer: the virtual clock counts whole nanoseconds and arrivals are at least 1 ns apart; lower it, or split the load over several entry points"
                ),
            );
        }
    }

    fn probability(&mut self, path: &str, p: Option<f64>) -> f64 {
        let p = p.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&p) {
            self.problem(
                path,
                format!("probability must be between 0 and 1, not {p}"),
            );
        }
        p
    }

    fn dist(&mut self, path: &str, spec: &DistSpec) -> Option<Dist> {
        match super::distributions::compile_dist(spec) {
            Ok(d) => Some(d),
            Err((field, msg)) => {
                let p = match field.as_str() {
                    "" => path.to_string(),
                    f if f.starts_with('[') => format!("{path}{f}"),
                    f => format!("{path}.{f}"),
                };
                self.problem(p, msg);
                None
            }
        }
    }

    fn service_ref(&mut self, path: &str, name: &str) -> Option<ServiceId> {
        if let Some(&id) = self.names.get(name) {
            return Some(id);
        }
        let known: Vec<&str> = self.names.keys().copied().collect();
        let hint = match did_you_mean(name, &known) {
            Some(s) => format!("; did you mean `{s}`?"),
            None if known.is_empty() => "; no services are defined".to_string(),
            None => format!("; known services: {}", known.join(", ")),
        };
        self.problem(path, format!("unknown service `{name}`{hint}"));
        None
    }

    fn positive_duration(&mut self, path: &str, text: &str) -> Option<SimDuration> {
        match self.duration(path, text)? {
            SimDuration(0) => {
                self.problem(path, format!("must be longer than 0, not {text}"));
                None
            }
            d => Some(d),
        }
    }

    fn fraction(&mut self, path: &str, v: Option<f64>, default: f64) -> f64 {
        let v = v.unwrap_or(default);
        if !(v > 0.0 && v <= 1.0) {
            self.problem(path, format!("must be a fraction in (0, 1], not {v}"));
            return default;
        }
        v
    }

    fn retry(&mut self, path: &str, r: &RetrySpec) -> Option<RetryPolicy> {
        let before = self.problems.len();
        if r.attempts == 0 {
            self.problem(
                format!("{path}.attempts"),
                "attempts counts the first call too, so it must be at least 1 (1 = no retries)",
            );
        } else if r.attempts > MAX_ATTEMPTS {
            self.problem(
                format!("{path}.attempts"),
                format!("{} attempts is more than the {MAX_ATTEMPTS} a call may make; real clients cap far lower (gRPC: 5)", r.attempts),
            );
        }
        let backoff = match &r.backoff {
            None => Backoff::Constant(SimDuration::ZERO),
            Some(BackoffSpec::Constant(d)) => Backoff::Constant(
                self.duration(&format!("{path}.backoff"), d)
                    .unwrap_or_default(),
            ),
            Some(BackoffSpec::Exponential {
                base,
                max,
                multiplier,
            }) => {
                let base = self
                    .positive_duration(&format!("{path}.backoff.base"), base)
                    .unwrap_or(SimDuration(1));
                let max = self
                    .duration(&format!("{path}.backoff.max"), max)
                    .unwrap_or(base);
                let multiplier = multiplier.unwrap_or(2.0);
                Backoff::Exponential {
                    base,
                    max,
                    multiplier,
                }
            }
        };
        // Only check the schedule as a whole when its parts parsed (no made-up fallbacks).
        if self.problems.len() > before {
        } else if let Err((field, msg)) = backoff.validate() {
            let p = if field.is_empty() {
                format!("{path}.backoff")
            } else {
                format!("{path}.backoff.{field}")
            };
            self.problem(p, msg);
        }
        let jitter = match r.jitter.unwrap_or(JitterSpec::None) {
            JitterSpec::None => Jitter::None,
            JitterSpec::Full => Jitter::Full,
            JitterSpec::Equal => Jitter::Equal,
            JitterSpec::Decorrelated => Jitter::Decorrelated,
        };
        if let Err(msg) = backoff.check_jitter(jitter) {
            self.problem(format!("{path}.jitter"), msg);
        }
        let mut retry_on = [false; crate::outcome::Outcome::COUNT];
        let on = r.on.clone().unwrap_or_else(|| {
            vec![
                RetryOnSpec::Error,
                RetryOnSpec::Timeout,
                RetryOnSpec::Unavailable,
            ]
        });
        for o in on {
            let outcome = match o {
                RetryOnSpec::Error => crate::outcome::Outcome::Error,
                RetryOnSpec::Timeout => crate::outcome::Outcome::Timeout,
                RetryOnSpec::Rejected => crate::outcome::Outcome::Rejected,
                RetryOnSpec::CircuitOpen => crate::outcome::Outcome::CircuitOpen,
                RetryOnSpec::Unavailable => crate::outcome::Outcome::Unavailable,
            };
            retry_on[outcome.index()] = true;
        }
        let budget = r.budget.as_ref().map(|b| match b {
            BudgetSpec::Envoy {
                percent,
                min_concurrency,
            } => RetryBudget::Envoy {
                percent: *percent,
                min_concurrency: min_concurrency.unwrap_or(3),
            },
            BudgetSpec::TokenBucket {
                max_tokens,
                token_ratio,
            } => RetryBudget::TokenBucket {
                max_tokens: *max_tokens,
                token_ratio: *token_ratio,
            },
        });
        if let Some(Err((field, msg))) = budget.as_ref().map(RetryBudget::validate) {
            let p = if field.is_empty() {
                format!("{path}.budget")
            } else {
                format!("{path}.budget.{field}")
            };
            self.problem(p, msg);
        }
        (self.problems.len() == before).then_some(RetryPolicy {
            attempts: r.attempts,
            backoff,
            jitter,
            retry_on,
            other_replica: r.other_replica.unwrap_or(true),
            budget,
        })
    }

    fn breaker(&mut self, path: &str, b: &BreakerSpec) -> Option<BreakerConfig> {
        let before = self.problems.len();
        let mut c = BreakerConfig {
            failure_rate_threshold: 100.0
                * self.fraction(&format!("{path}.failure_rate"), b.failure_rate, 0.5),
            slow_call_rate_threshold: 100.0
                * self.fraction(&format!("{path}.slow_call_rate"), b.slow_call_rate, 1.0),
            ..BreakerConfig::default()
        };
        if let Some(d) = &b.slow_call {
            if let Some(d) = self.positive_duration(&format!("{path}.slow_call"), d) {
                c.slow_call_duration = d;
            }
        }
        match &b.window {
            None => {}
            Some(WindowSpec::Count(n)) => c.window = Window::Count(*n),
            Some(WindowSpec::Time(d)) => {
                if let Some(d) = self.positive_duration(&format!("{path}.window"), d) {
                    if d.as_nanos() % crate::time::NS_PER_S != 0 {
                        self.problem(
                            format!("{path}.window"),
                            format!("a time window is a whole number of seconds (resilience4j counts one-second buckets), not {d}"),
                        );
                    } else {
                        let secs = d.as_nanos() / crate::time::NS_PER_S;
                        // Above u32::MAX the count would be clamped before `validate` sees it
                        // and the message would quote the clamped number.
                        match u32::try_from(secs) {
                            Ok(n) => c.window = Window::Time(n),
                            Err(_) => self.problem(
                                format!("{path}.window"),
                                format!("is {secs} seconds, more than the limit of {}; use a smaller window", crate::call::breaker::MAX_WINDOW_SIZE),
                            ),
                        }
                    }
                }
            }
        }
        if let Some(n) = b.min_calls {
            c.minimum_calls = n;
        }
        if let Some(d) = &b.open_for {
            if let Some(d) = self.positive_duration(&format!("{path}.open_for"), d) {
                c.wait_in_open = d;
            }
        }
        if let Some(n) = b.half_open_calls {
            c.half_open_calls = n;
        }
        c.automatic_transition = b.automatic.unwrap_or(false);
        if let Some(d) = &b.max_half_open {
            c.max_wait_in_half_open = self.positive_duration(&format!("{path}.max_half_open"), d);
        }
        if let Err((field, msg)) = c.validate() {
            let field = match field.as_str() {
                "window" => "window",
                "minimum_calls" => "min_calls",
                "half_open_calls" => "half_open_calls",
                "wait_in_open" => "open_for",
                "max_wait_in_half_open" => "max_half_open",
                f => f,
            };
            self.problem(format!("{path}.{field}"), msg);
        }
        (self.problems.len() == before).then_some(c)
    }

    fn bulkhead(&mut self, path: &str, b: &BulkheadSpec) -> Option<BulkheadPolicy> {
        if b.max_concurrent == 0 {
            self.problem(
                format!("{path}.max_concurrent"),
                "a bulkhead must let at least 1 call through; remove the bulkhead for no limit",
            );
            return None;
        }
        let max_wait = match &b.max_wait {
            Some(w) => self.duration(&format!("{path}.max_wait"), w)?,
            None => SimDuration::ZERO,
        };
        Some(BulkheadPolicy {
            max_concurrent: b.max_concurrent,
            max_wait,
        })
    }

    /// Compiles `steps` (preceded by `work`, if any) into a new block; returns its id.
    fn block(
        &mut self,
        from: ServiceId,
        path: &str,
        work: Option<Dist>,
        steps: &[StepSpec],
    ) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        self.blocks.push(Box::new([])); // reserve the slot; nested blocks come after
        let mut ops = Vec::with_capacity(steps.len() + 1);
        if let Some(w) = work {
            if !matches!(w, Dist::Zero) {
                ops.push(Op::Work(w));
            }
        }
        for (i, step) in steps.iter().enumerate() {
            let sp = format!("{path}[{i}]");
            match step {
                StepSpec::Work(d) => {
                    if let Some(d) = self.dist(&format!("{sp}.Work"), d) {
                        ops.push(Op::Work(d));
                    }
                }
                StepSpec::Publish {
                    topic,
                    keys,
                    latency,
                    probability,
                    when_down,
                } => {
                    if *keys == Some(0) {
                        self.problem(
                            format!("{sp}.keys"),
                            "a key space needs at least 1 key; leave `keys` out for keyless messages",
                        );
                    }
                    let to = self
                        .destination(&format!("{sp}.topic"), topic, "topic", "topics")
                        .map(Destination::Topic);
                    let when_down = self.when_down(&sp, when_down);
                    self.publish_step(
                        from,
                        &sp,
                        to,
                        keys.filter(|&k| k > 0),
                        latency,
                        *probability,
                        when_down,
                        &mut ops,
                    );
                }
                StepSpec::Send {
                    queue,
                    latency,
                    probability,
                    when_down,
                } => {
                    let to = self
                        .destination(&format!("{sp}.queue"), queue, "queue", "queues")
                        .map(Destination::Queue);
                    let when_down = self.when_down(&sp, when_down);
                    self.publish_step(
                        from,
                        &sp,
                        to,
                        None,
                        latency,
                        *probability,
                        when_down,
                        &mut ops,
                    );
                }
                StepSpec::Call {
                    to,
                    timeout,
                    latency,
                    probability,
                    on_failure,
                    retry,
                    breaker,
                    bulkhead,
                    deadlines,
                } => {
                    let deadlines = deadlines.unwrap_or(self.deadlines);
                    let target = self.service_ref(&format!("{sp}.to"), to);
                    let timeout = match timeout {
                        Some(t) => match self.duration(&format!("{sp}.timeout"), t) {
                            Some(SimDuration(0)) => {
                                self.problem(
                                    format!("{sp}.timeout"),
                                    "a timeout of 0 fails every call; remove it to wait forever, or give a positive duration",
                                );
                                None
                            }
                            d => d,
                        },
                        None => None,
                    };
                    let latency = latency
                        .as_ref()
                        .and_then(|l| self.dist(&format!("{sp}.latency"), l));
                    let probability = self.probability(&format!("{sp}.probability"), *probability);
                    let on_failure = match on_failure {
                        OnFailureSpec::Fail => OnFailure::Fail,
                        OnFailureSpec::Ignore => OnFailure::Ignore,
                        OnFailureSpec::Fallback(d) => OnFailure::Fallback(
                            self.dist(&format!("{sp}.on_failure.Fallback"), d)
                                .unwrap_or(Dist::Zero),
                        ),
                    };
                    let retry = retry
                        .as_ref()
                        .and_then(|r| self.retry(&format!("{sp}.retry"), r));
                    let breaker = breaker
                        .as_ref()
                        .and_then(|b| self.breaker(&format!("{sp}.breaker"), b));
                    let bulkhead = bulkhead
                        .as_ref()
                        .and_then(|b| self.bulkhead(&format!("{sp}.bulkhead"), b));
                    if let Some(to) = target {
                        let cid = CallId(self.calls.len() as u32);
                        self.calls.push(CallEdge {
                            from,
                            to,
                            timeout,
                            latency,
                            probability,
                            on_failure,
                            retry,
                            breaker,
                            bulkhead,
                            propagate_deadline: deadlines
                                .propagate
                                .or(self.deadlines.propagate)
                                .unwrap_or(false),
                            cancel_on_timeout: deadlines
                                .cancel
                                .or(self.deadlines.cancel)
                                .unwrap_or(false),
                            path: sp.clone(),
                        });
                        ops.push(Op::Call(cid));
                    }
                }
                StepSpec::Parallel {
                    branches,
                    probability,
                } => {
                    let probability = self.probability(&format!("{sp}.probability"), *probability);
                    if branches.is_empty() {
                        self.problem(
                            format!("{sp}.branches"),
                            "a Parallel step needs at least one branch",
                        );
                    }
                    let ids: Vec<BlockId> = branches
                        .iter()
                        .enumerate()
                        .map(|(b, steps)| {
                            self.block(from, &format!("{sp}.branches[{b}]"), None, steps)
                        })
                        .collect();
                    ops.push(Op::Parallel {
                        branches: ids.into_boxed_slice(),
                        probability,
                    });
                }
                StepSpec::Choice {
                    branches,
                    probability,
                } => {
                    let probability = self.probability(&format!("{sp}.probability"), *probability);
                    if branches.is_empty() {
                        self.problem(
                            format!("{sp}.branches"),
                            "a Choice step needs at least one branch",
                        );
                    }
                    let mut total = 0.0;
                    for (b, br) in branches.iter().enumerate() {
                        if !br.weight.is_finite() || br.weight <= 0.0 {
                            self.problem(
                                format!("{sp}.branches[{b}].weight"),
                                format!("a weight must be a finite number > 0, not {}", br.weight),
                            );
                        } else {
                            total += br.weight;
                        }
                    }
                    let mut cumulative = 0.0;
                    let mut out = Vec::with_capacity(branches.len());
                    for (b, br) in branches.iter().enumerate() {
                        let bid =
                            self.block(from, &format!("{sp}.branches[{b}].steps"), None, &br.steps);
                        if br.weight.is_finite() && br.weight > 0.0 {
                            // Rounding can carry a running sum past 1 before the last
                            // branch; capping keeps every branch's share (the difference
                            // of consecutive values) non-negative.
                            cumulative = f64::min(cumulative + br.weight / total, 1.0);
                        }
                        out.push((cumulative, bid));
                    }
                    if let Some(last) = out.last_mut() {
                        last.0 = 1.0;
                    }
                    ops.push(Op::Choice {
                        branches: out.into_boxed_slice(),
                        probability,
                    });
                }
            }
        }
        self.blocks[id.0 as usize] = ops.into_boxed_slice();
        id
    }
}

impl Model {
    /// Validates `spec` and compiles it. `origin` names the source in messages; `text`, when
    /// given, is the source text, used to add line numbers to problems.
    pub fn compile(
        spec: &TopologySpec,
        origin: &str,
        text: Option<&str>,
    ) -> Result<Model, LoadError> {
        let mut c = Compiler {
            deadlines: spec.deadlines.unwrap_or_default(),
            problems: Vec::new(),
            names: BTreeMap::new(),
            calls: Vec::new(),
            blocks: Vec::new(),
            locator: text.map(Locator::new),
            topic_names: BTreeMap::new(),
            queue_names: BTreeMap::new(),
            publishes: Vec::new(),
        };
        for (i, (name, _)) in spec.topics.iter().enumerate() {
            if c.topic_names.insert(name.as_str(), i as u32).is_some() {
                c.problem_nth(
                    format!("topics[{name}]"),
                    format!("duplicate topic name `{name}`; each topic needs its own name"),
                    1,
                );
            }
        }
        for (i, (name, _)) in spec.queues.iter().enumerate() {
            if c.queue_names.insert(name.as_str(), i as u32).is_some() {
                c.problem_nth(
                    format!("queues[{name}]"),
                    format!("duplicate queue name `{name}`; each queue needs its own name"),
                    1,
                );
            }
        }

        // Run settings.
        let run = &spec.run;
        let duration = match &run.duration {
            Some(d) => c.duration("run.duration", d).unwrap_or(DEFAULT_DURATION),
            None => DEFAULT_DURATION,
        };
        if duration == SimDuration::ZERO {
            c.problem("run.duration", "the run must last longer than 0");
        }
        let warmup = match &run.warmup {
            Some(w) => c.duration("run.warmup", w).unwrap_or_default(),
            None => SimDuration::ZERO,
        };
        if warmup >= duration && duration > SimDuration::ZERO {
            c.problem(
                "run.warmup",
                format!("the warm-up ({warmup}) must be shorter than the run ({duration}); nothing would be measured"),
            );
        }
        let mut bucket = match &run.bucket {
            Some(b) => c.duration("run.bucket", b).unwrap_or(DEFAULT_BUCKET),
            None => DEFAULT_BUCKET,
        };
        if bucket == SimDuration::ZERO {
            c.problem("run.bucket", "the time-series bucket must be longer than 0");
            bucket = DEFAULT_BUCKET;
        }
        let max_in_flight = run.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
        if max_in_flight == 0 {
            c.problem(
                "run.max_in_flight",
                "the cap on requests in flight must be at least 1",
            );
        }

        let max_events_per_instant = run
            .max_events_per_instant
            .unwrap_or(DEFAULT_MAX_EVENTS_PER_INSTANT);
        if max_events_per_instant == 0 {
            c.problem(
                "run.max_events_per_instant",
                "the cap on events at one instant must be at least 1 (every event counts)",
            );
        }

        // Service names first, so that calls can refer forward.
        if spec.services.is_empty() {
            c.problem("services", "no services are defined; add at least one");
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, (name, _)) in spec.services.iter().enumerate() {
            let count = seen.entry(name.as_str()).or_insert(0);
            let nth = *count;
            *count += 1;
            if name.trim().is_empty() {
                c.problem(
                    format!("services[{name}]"),
                    "a service name must not be empty",
                );
            }
            if c.names.insert(name.as_str(), ServiceId(i as u32)).is_some() {
                c.problem_nth(
                    format!("services[{name}]"),
                    format!("duplicate service name `{name}`; each service needs its own name"),
                    nth,
                );
            }
        }

        let mut services = Vec::with_capacity(spec.services.len());
        for (i, (name, s)) in spec.services.iter().enumerate() {
            let id = ServiceId(i as u32);
            let path = format!("services[{name}]");
            let replicas = s.replicas.unwrap_or(1);
            if replicas == 0 {
                c.problem(format!("{path}.replicas"), "replicas must be at least 1");
            } else if replicas > MAX_REPLICAS {
                c.problem(
                    format!("{path}.replicas"),
                    format!(
                        "{replicas} replicas is more than the {MAX_REPLICAS} a service may have"
                    ),
                );
            }
            let workers = s.workers.unwrap_or(1);
            if workers == 0 {
                c.problem(
                    format!("{path}.workers"),
                    "workers must be at least 1 (a service without workers never answers)",
                );
            } else if workers > MAX_WORKERS {
                c.problem(
                    format!("{path}.workers"),
                    format!("{workers} workers is more than the {MAX_WORKERS} a replica may have"),
                );
            }
            if let Some(q) = s.queue.filter(|&q| q > MAX_QUEUE) {
                c.problem(
                    format!("{path}.queue"),
                    format!("a queue of {q} is longer than the {MAX_QUEUE} allowed; leave `queue` out for an unbounded queue"),
                );
            }
            let error_prob = s.errors.unwrap_or(0.0);
            if !(0.0..=1.0).contains(&error_prob) {
                c.problem(
                    format!("{path}.errors"),
                    format!("errors is a probability between 0 and 1, not {error_prob}"),
                );
            }
            let work = match &s.work {
                Some(w) => c.dist(&format!("{path}.work"), w).unwrap_or(Dist::Zero),
                None => Dist::Zero,
            };
            let body = c.block(id, &format!("{path}.steps"), Some(work.clone()), &s.steps);
            services.push(Service {
                name: name.clone(),
                replicas: replicas.max(1),
                workers: workers.max(1),
                queue: s.queue,
                error_prob,
                balancer: match s.balancer.unwrap_or(BalancerSpec::RoundRobin) {
                    BalancerSpec::RoundRobin => Balancer::RoundRobin,
                    BalancerSpec::Random => Balancer::Random,
                    BalancerSpec::LeastOutstanding => Balancer::LeastOutstanding,
                    BalancerSpec::PowerOfTwo => Balancer::PowerOfTwo,
                },
                work,
                body,
                failures: None,
                max_in_flight: match s.nonblocking {
                    Some(nb) if nb.max_in_flight == 0 => {
                        c.problem(
                            format!("{path}.nonblocking.max_in_flight"),
                            "a non-blocking service must admit at least 1 request in flight",
                        );
                        None
                    }
                    Some(nb) => Some(nb.max_in_flight),
                    None => None,
                },
            });
        }

        // Workload.
        if spec.workload.is_empty() {
            c.problem(
                "workload",
                "the workload is empty; add an entry point, e.g. (name: \"main\", entry: \"<service>\", arrivals: Poisson(per_second: 10))",
            );
        }
        let mut entries = Vec::with_capacity(spec.workload.len());
        let mut entry_names: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &spec.workload {
            let path = format!("workload[{}]", e.name);
            let count = entry_names.entry(e.name.as_str()).or_insert(0);
            let nth = *count;
            *count += 1;
            if nth > 0 {
                c.problem_nth(
                    &path,
                    format!(
                        "duplicate entry point name `{}`; each entry point needs its own name",
                        e.name
                    ),
                    nth,
                );
            }
            let target = match (&e.entry, &e.publish, &e.send) {
                (Some(s), None, None) => c
                    .service_ref(&format!("{path}.entry"), s)
                    .map(EntryTarget::Service),
                (None, Some(t), None) => c
                    .destination(&format!("{path}.publish"), t, "topic", "topics")
                    .map(|t| EntryTarget::Broker(Destination::Topic(t))),
                (None, None, Some(q)) => c
                    .destination(&format!("{path}.send"), q, "queue", "queues")
                    .map(|q| EntryTarget::Broker(Destination::Queue(q))),
                (None, None, None) => {
                    c.problem(
                        path.clone(),
                        "an entry point needs somewhere to send its requests: `entry: \"<service>\"`, `publish: \"<topic>\"` or `send: \"<queue>\"`",
                    );
                    None
                }
                _ => {
                    c.problem(
                        path.clone(),
                        "an entry point sends its requests to one place: give only one of `entry`, `publish` and `send` (add another entry point for the other)",
                    );
                    None
                }
            };
            let (kind, per_second, profile) = match &e.arrivals {
                ArrivalSpec::Poisson {
                    per_second,
                    profile,
                } => (ArrivalKind::Poisson, *per_second, profile),
                ArrivalSpec::Constant {
                    per_second,
                    profile,
                } => (ArrivalKind::Constant, *per_second, profile),
            };
            c.rate(&format!("{path}.arrivals.per_second"), per_second);
            let mut points = Vec::with_capacity(profile.len());
            let mut last_at = 0u64;
            for (k, p) in profile.iter().enumerate() {
                let pp = format!("{path}.arrivals.profile[{k}]");
                c.rate(&format!("{pp}.per_second"), p.per_second);
                if let Some(at) = c.duration(&format!("{pp}.at"), &p.at) {
                    if k > 0 && at.as_nanos() <= last_at {
                        c.problem(
                            format!("{pp}.at"),
                            format!("profile points must be in increasing time order; {} is not after the previous point", p.at),
                        );
                    }
                    last_at = at.as_nanos();
                    points.push((at.as_nanos(), p.per_second, p.ramp));
                }
            }
            let timeout = match &e.timeout {
                Some(t) => c.duration(&format!("{path}.timeout"), t),
                None => None,
            };
            if timeout == Some(SimDuration::ZERO) {
                c.problem(
                    format!("{path}.timeout"),
                    "a timeout of 0 fails every request; remove it or give a positive duration",
                );
            }
            if let Some(target) = target {
                entries.push(Entry {
                    name: e.name.clone(),
                    target,
                    arrivals: ArrivalProcess::from_profile(kind, per_second, &points),
                    timeout,
                });
            }
        }

        // Topics and their consumer groups.
        let mut topics = Vec::with_capacity(spec.topics.len());
        for (name, t) in spec.topics.iter() {
            let path = format!("topics[{name}]");
            let partitions = t.partitions.unwrap_or(1);
            if partitions == 0 || partitions > MAX_PARTITIONS {
                c.problem(
                    format!("{path}.partitions"),
                    format!("a topic needs 1 to {MAX_PARTITIONS} partitions, not {partitions}"),
                );
            }
            let retention = match &t.retention {
                Some(r) => c.positive_duration(&format!("{path}.retention"), r),
                None => None,
            };
            let mut subscribers = Vec::with_capacity(t.subscribers.len());
            for (k, sub) in t.subscribers.iter().enumerate() {
                let sp = format!("{path}.subscribers[{k}]");
                let consumers = sub.consumers.unwrap_or(1);
                if consumers == 0 || consumers > MAX_CONSUMERS {
                    c.problem(
                        format!("{sp}.consumers"),
                        format!("a consumer group needs 1 to {MAX_CONSUMERS} consumers, not {consumers}"),
                    );
                }
                if t.subscribers[..k].iter().any(|o| o.service == sub.service) {
                    c.problem(
                        format!("{sp}.service"),
                        format!(
                            "`{}` subscribes twice; a service has one consumer group per topic",
                            sub.service
                        ),
                    );
                }
                let session_timeout = match &sub.session_timeout {
                    Some(t) => c
                        .positive_duration(&format!("{sp}.session_timeout"), t)
                        .unwrap_or(DEFAULT_SESSION_TIMEOUT),
                    None => DEFAULT_SESSION_TIMEOUT,
                };
                let max_attempts = sub.max_attempts.unwrap_or(1);
                if max_attempts == 0 || max_attempts > MAX_ATTEMPTS {
                    c.problem(
                        format!("{sp}.max_attempts"),
                        format!("attempts per message count the first one: 1 to {MAX_ATTEMPTS}, not {max_attempts}"),
                    );
                }
                let commit_interval = match &sub.commit_interval {
                    Some(t) => c.positive_duration(&format!("{sp}.commit_interval"), t),
                    None => None,
                };
                let idempotent = match &sub.idempotent {
                    Some(t) => c.positive_duration(&format!("{sp}.idempotent"), t),
                    None => None,
                };
                let retry_backoff = match &sub.retry_backoff {
                    Some(t) => c
                        .duration(&format!("{sp}.retry_backoff"), t)
                        .unwrap_or_default(),
                    None => SimDuration::ZERO,
                };
                if let Some(service) = c.service_ref(&format!("{sp}.service"), &sub.service) {
                    subscribers.push(Subscriber {
                        service,
                        consumers: consumers.clamp(1, MAX_CONSUMERS),
                        session_timeout,
                        max_attempts: max_attempts.clamp(1, MAX_ATTEMPTS),
                        retry_backoff,
                        dead_letter: sub.on_exhausted != Some(ExhaustedSpec::Block),
                        commit_interval,
                        idempotent,
                    });
                }
            }
            topics.push(Topic {
                name: name.clone(),
                partitions: partitions.clamp(1, MAX_PARTITIONS),
                retention,
                subscribers,
            });
        }

        // Work queues.
        let mut queues = Vec::with_capacity(spec.queues.len());
        for (name, q) in spec.queues.iter() {
            let path = format!("queues[{name}]");
            let consumers = q.consumers.unwrap_or(1);
            if consumers == 0 || consumers > MAX_CONSUMERS {
                c.problem(
                    format!("{path}.consumers"),
                    format!("a queue needs 1 to {MAX_CONSUMERS} consumers, not {consumers}"),
                );
            }
            let prefetch = q.prefetch.unwrap_or(1);
            let visibility_timeout = match &q.visibility_timeout {
                Some(t) => c
                    .positive_duration(&format!("{path}.visibility_timeout"), t)
                    .unwrap_or(DEFAULT_VISIBILITY_TIMEOUT),
                None => DEFAULT_VISIBILITY_TIMEOUT,
            };
            let max_receives = q.max_receives.unwrap_or(0);
            if q.max_receives == Some(0) {
                c.problem(
                    format!("{path}.max_receives"),
                    "a message is delivered at least once: give 1 or more, or leave `max_receives` out for no limit",
                );
            }
            let retry_delay = match &q.retry_delay {
                Some(t) => c
                    .duration(&format!("{path}.retry_delay"), t)
                    .unwrap_or_default(),
                None => SimDuration::ZERO,
            };
            let retention = match &q.retention {
                Some(r) => c.positive_duration(&format!("{path}.retention"), r),
                None => None,
            };
            if let Some(service) = c.service_ref(&format!("{path}.service"), &q.service) {
                queues.push(WorkQueueDef {
                    name: name.clone(),
                    service,
                    consumers: consumers.clamp(1, MAX_CONSUMERS),
                    prefetch,
                    visibility_timeout,
                    max_receives,
                    retry_delay,
                    retention,
                });
            }
        }

        // Faults and failure processes (they name services and call edges).
        let mut fault_problems = Vec::new();
        let targets: Vec<(&str, u32)> = services
            .iter()
            .map(|s| (s.name.as_str(), s.replicas))
            .collect();
        let pairs: Vec<(ServiceId, ServiceId)> = c.calls.iter().map(|e| (e.from, e.to)).collect();
        let topic_targets: Vec<(&str, u32)> = topics
            .iter()
            .map(|t| (t.name.as_str(), t.partitions))
            .collect();
        let faults = super::faults::compile_faults(
            &spec.faults,
            &super::faults::FaultTargets {
                services: &targets,
                calls: &pairs,
                duration,
                topics: &topic_targets,
            },
            &mut fault_problems,
        );
        for ((name, s), svc) in spec.services.iter().zip(services.iter_mut()) {
            if let Some(f) = &s.failures {
                svc.failures = super::faults::compile_failures(
                    f,
                    &format!("services[{name}].failures"),
                    &mut fault_problems,
                );
            }
        }
        for (path, message) in fault_problems {
            c.problem(path, message);
        }

        // The sync call graph, and no cycles in it.
        let mut graph = DiGraph::with_capacity(services.len(), c.calls.len());
        let nodes: Vec<_> = (0..services.len())
            .map(|i| graph.add_node(ServiceId(i as u32)))
            .collect();
        for (k, call) in c.calls.iter().enumerate() {
            graph.add_edge(
                nodes[call.from.0 as usize],
                nodes[call.to.0 as usize],
                CallId(k as u32),
            );
        }
        // Every cycle, one per strongly connected component, so that independent cycles are
        // all reported at once.
        for (names, closing) in call_cycles(&graph, &c.calls) {
            let names: Vec<&str> = names.iter().map(|&i| services[i].name.as_str()).collect();
            let path = c.calls[closing.0 as usize].path.clone();
            c.problem(
                path,
                format!(
                    "sync call cycle {} would deadlock (each caller holds a worker while waiting on the next); break the cycle, e.g. make one hop an async publish",
                    names.join(" → ")
                ),
            );
        }

        if !c.problems.is_empty() {
            // File order: by line where known (stable, so same-line problems keep their order).
            c.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            return Err(LoadError::Invalid {
                origin: origin.to_string(),
                problems: c.problems,
            });
        }
        Ok(Model {
            name: spec.name.clone().unwrap_or_else(|| default_name(origin)),
            origin: origin.to_string(),
            run: RunConfig {
                duration,
                warmup,
                seed: run.seed.unwrap_or(1),
                bucket,
                max_in_flight,
                max_events_per_instant,
            },
            services,
            calls: c.calls,
            blocks: c.blocks,
            entries,
            graph,
            faults,
            topics,
            queues,
            publishes: c.publishes,
            propagate_entry_deadline: spec.deadlines.and_then(|d| d.propagate).unwrap_or(false),
            cancel_entry_on_timeout: spec.deadlines.and_then(|d| d.cancel).unwrap_or(false),
            source: text.map(std::sync::Arc::from),
            variants: super::variants::of_spec(spec),
        })
    }
}

fn default_name(origin: &str) -> String {
    std::path::Path::new(origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "topology".to_string())
}

/// One cycle per strongly connected component of the call graph that has one (more than one
/// service, or a service that calls itself), in file order of their first service: the
/// services on a shortest cycle through that first service (repeated at the end) and the call
/// that closes it, back into the first service.
fn call_cycles(
    graph: &DiGraph<ServiceId, CallId>,
    calls: &[CallEdge],
) -> Vec<(Vec<usize>, CallId)> {
    use petgraph::visit::EdgeRef;
    let mut cycles = Vec::new();
    let mut in_scc = vec![usize::MAX; graph.node_count()];
    let mut sccs = petgraph::algo::tarjan_scc(graph);
    for scc in &mut sccs {
        scc.sort();
    }
    sccs.sort();
    for (k, scc) in sccs.iter().enumerate() {
        for v in scc {
            in_scc[v.index()] = k;
        }
    }
    for (k, scc) in sccs.iter().enumerate() {
        let start = scc[0];
        let self_loop = graph.edges(start).any(|e| e.target() == start);
        if scc.len() == 1 && !self_loop {
            continue;
        }
        // Breadth-first from the first service, along calls in file order and inside the
        // component, until a call leads back to it.
        let mut parent: Vec<Option<(usize, CallId)>> = vec![None; graph.node_count()];
        let mut frontier = std::collections::VecDeque::from([start]);
        let mut closing = None;
        'search: while let Some(v) = frontier.pop_front() {
            let mut out: Vec<_> = graph.edges(v).collect();
            out.sort_by_key(|e| *e.weight());
            for e in out {
                let w = e.target();
                if w == start {
                    closing = Some((v, *e.weight()));
                    break 'search;
                }
                if in_scc[w.index()] == k && parent[w.index()].is_none() {
                    parent[w.index()] = Some((v.index(), *e.weight()));
                    frontier.push_back(w);
                }
            }
        }
        // A component with more than one node always has a cycle through each of its nodes.
        let Some((last, call)) = closing else {
            continue;
        };
        let mut names = vec![start.index()];
        let mut v = last.index();
        while v != start.index() {
            names.push(v);
            v = parent[v].map_or(start.index(), |(p, _)| p);
        }
        names[1..].reverse();
        names.push(start.index());
        debug_assert_eq!(calls[call.0 as usize].to.0 as usize, start.index());
        cycles.push((names, call));
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let known = ["payment", "inventory", "gateway"];
        assert_eq!(did_you_mean("paymnet", &known), Some("payment"));
        assert_eq!(did_you_mean("inventroy", &known), Some("inventory"));
        assert_eq!(did_you_mean("warehouse", &known), None);
    }
}
