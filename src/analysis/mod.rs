//! The analytic shadow: what theory predicts for a model before any simulation, and lints.
//!
//! [`analyze`] evaluates the formula families in order, each in a file of its own, once
//! without faults (the steady shadow) and once per phase of the fault timeline:
//!
//! 1. `availability.rs` — the reliability of each service (up, hung, ok), callees first, and
//!    the availability of each entry point: the product over the required calls, retries
//!    and timeouts included.
//! 2. `traffic.rs` — the traffic equations: requests per second at each service and messages
//!    per second at each topic and work queue, at the mean and at the peak entry rates.
//! 3. `holding.rs` — the time a request holds a worker (mean and variance, `moments.rs`),
//!    utilization ρ, the wait for a worker, the chance that a call outlasts its timeout, and
//!    the exact queue model (M/M/c, M/M/c/K, GI/M/c, M/G/1) where one applies.
//! 4. `broker.rs` — capacity, utilization and lag growth of consumer groups and work queues;
//!    `networks.rs` — the end-to-end latency of networks of work queues (Jackson).
//! 5. `lints.rs` — findings about the model, one function per lint.
//!
//! `timeline.rs` cuts the measured window into phases at every fault's start and end and says
//! what the faults in force do to each service, call and the broker. Timeouts make one
//! evaluation a fixed point (`evaluate`, below). Every family that looks at a
//! service's steps is a fold of the one step-tree walk in `visit.rs`. The closed forms of
//! queueing theory (Erlang B and C, M/M/c, M/M/c/K, GI/M/c, M/G/1) are in [`queueing`]. Each
//! formula is documented beside its code with its assumptions and an example; the sources
//! are in docs/semantics.md (*Availability*, *Queueing formulas*, *Kafka consumer groups*,
//! *Work queues*).
//!
//! A sync call cycle is not a lint but a load error: the families rely on an acyclic call
//! graph, visited callees first.

mod availability;
mod broker;
mod holding;
mod lints;
mod moments;
mod networks;
pub mod queueing;
mod timeline;
mod traffic;
mod visit;

pub use lints::BREAKER_MEMORY_LINT_BYTES;

use availability::{EntryPath, Rel, TimeoutRisk};
use holding::Holding;
use timeline::{Conditions, Phase};
use traffic::Traffic;

use crate::model::{Model, ServiceId};
use serde::{Deserialize, Serialize};

/// Everything the analytic shadow predicts, plus lints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Per entry point, in file order.
    pub entries: Vec<EntryAnalysis>,
    /// Per service, in file order.
    pub services: Vec<ServiceAnalysis>,
    /// Per sync call step, in file order.
    pub calls: Vec<CallAnalysis>,
    /// Per topic, in file order.
    pub topics: Vec<TopicAnalysis>,
    /// Per work queue, in file order.
    pub queues: Vec<QueueAnalysis>,
    /// The shadow during each phase of the fault timeline: the measured window cut at every
    /// start and end of a fault, in time order; empty when no fault falls in the window.
    #[serde(default)]
    pub phases: Vec<PhaseAnalysis>,
    /// Warnings about the model.
    pub lints: Vec<Lint>,
}

/// The shadow during one phase of the fault timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseAnalysis {
    /// Start of the phase, from the start of the run \[s\].
    pub from_s: f64,
    /// End of the phase \[s\].
    pub to_s: f64,
    /// The faults in force (their labels, e.g. `slowdown reviews ×50`), in file order; empty
    /// for a phase without faults.
    pub faults: Vec<String>,
    /// Per entry point, in file order.
    pub entries: Vec<PhaseEntry>,
    /// Per service, in file order.
    pub services: Vec<PhaseService>,
    /// Per consumer group, topic by topic in file order.
    pub groups: Vec<PhaseGroup>,
    /// Per work queue, in file order.
    pub queues: Vec<PhaseQueue>,
}

/// An entry point during one phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseEntry {
    /// Entry point name.
    pub name: String,
    /// Mean arrival rate over the phase \[requests/s\].
    pub rate_per_s: f64,
    /// The chance that a request of the phase succeeds.
    pub availability: f64,
}

/// A service during one phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseService {
    /// Service name.
    pub name: String,
    /// Arrival rate from the traffic equations over the phase \[requests/s\].
    pub arrival_rate_per_s: f64,
    /// Mean time a request holds a worker of a replica that serves \[ms\].
    pub mean_holding_ms: f64,
    /// ρ of its busiest group of replicas that serve (0 when none serves).
    pub utilization: f64,
    /// The same at the phase's peak rates.
    pub peak_utilization: f64,
}

/// A consumer group during one phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseGroup {
    /// Topic name.
    pub topic: String,
    /// The subscribing service.
    pub service: String,
    /// Messages published per second \[messages/s\].
    pub rate_per_s: f64,
    /// Messages per second the group can process (0 while its consumers or the broker are
    /// down).
    pub capacity_per_s: f64,
    /// How fast the lag grows \[messages/s\].
    pub lag_growth_per_s: f64,
}

/// A work queue during one phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseQueue {
    /// Queue name.
    pub name: String,
    /// Messages sent per second \[messages/s\].
    pub rate_per_s: f64,
    /// Messages per second the consumers can process.
    pub capacity_per_s: f64,
    /// How fast the backlog grows \[messages/s\].
    pub backlog_growth_per_s: f64,
}

/// Predictions for one topic of the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicAnalysis {
    /// Topic name.
    pub name: String,
    /// Messages published per second (traffic equations, mean entry rates).
    pub rate_per_s: f64,
    /// The same at the peak entry rates.
    pub peak_rate_per_s: f64,
    /// Per consumer group.
    pub groups: Vec<GroupAnalysis>,
}

/// Predictions for one consumer group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupAnalysis {
    /// The subscribing service.
    pub service: String,
    /// Consumers that get a partition: min(consumers, partitions).
    pub consumers_used: u32,
    /// Messages per second the group can process: consumers used / mean processing time
    /// (the service's mean holding time; the partition is the consumer's queue).
    pub capacity_per_s: f64,
    /// Rate / capacity: at or above 1 the lag grows without bound.
    pub utilization: f64,
    /// How fast lag grows when over capacity: rate − capacity, else 0 \[messages/s\].
    pub lag_growth_per_s: f64,
    /// Peak rate / capacity.
    pub peak_utilization: f64,
    /// How fast lag grows at the peak rate: peak rate − capacity, else 0 \[messages/s\].
    pub peak_lag_growth_per_s: f64,
}

/// Predictions for one work queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueAnalysis {
    /// Queue name.
    pub name: String,
    /// The consuming service.
    pub service: String,
    /// Messages sent per second (traffic equations, mean entry rates).
    pub rate_per_s: f64,
    /// The same at the peak entry rates.
    pub peak_rate_per_s: f64,
    /// Messages processed at once at most: consumers × prefetch, limited by the service's
    /// workers (replicas × workers).
    pub concurrency: u32,
    /// Messages per second the consumers can process: concurrency / mean processing time.
    pub capacity_per_s: f64,
    /// Rate / capacity: at or above 1 the backlog grows without bound.
    pub utilization: f64,
    /// How fast the backlog grows when over capacity: rate − capacity, else 0
    /// \[messages/s\].
    pub backlog_growth_per_s: f64,
    /// Peak rate / capacity.
    pub peak_utilization: f64,
    /// How fast the backlog grows at the peak rate: peak rate − capacity, else 0
    /// \[messages/s\].
    pub peak_backlog_growth_per_s: f64,
    /// Mean time from send to acknowledged \[ms\], treating the queue and its consumers as
    /// an M/M/c station with c = `concurrency` (exact for Poisson arrivals — Jackson networks
    /// included — and exponential processing, an estimate otherwise); `None` when unstable.
    pub sojourn_ms: Option<f64>,
}

/// Predictions for one sync call step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallAnalysis {
    /// Calling service.
    pub from: String,
    /// Called service.
    pub to: String,
    /// Attempts allowed per call (1 without retries).
    pub attempts: u32,
    /// The callee's availability per attempt.
    pub attempt_availability: f64,
    /// Availability of the call with its retries: 1 − (1 − a)^k for independent errors; an
    /// outage is escaped only by a retry that reaches another replica (a Markov chain over
    /// the replicas the attempts reach, see docs/semantics.md, *Availability*).
    pub availability: f64,
    /// Expected attempts per call, from the same chain ((1 − (1 − a)^k)/a for independent
    /// errors): the load multiplier on the callee.
    pub expected_attempts: f64,
    /// Why `availability` and `expected_attempts` are only an estimate of where the
    /// attempts land (the balancer's choice), or `None` where the shadow follows the
    /// engine's choice exactly.
    #[serde(default)]
    pub estimate: Option<String>,
    /// The chance that an attempt outlasts the call's timeout (0 without one).
    pub timeout_probability: f64,
}

/// Predictions for one entry point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryAnalysis {
    /// Entry point name.
    pub name: String,
    /// Mean arrival rate over the measured part of the run [requests/s].
    pub rate_per_s: f64,
    /// The chance that a request succeeds: the product of the availabilities of everything it
    /// needs, timeouts included; with a fault timeline, the phases' values weighted by the
    /// requests each phase receives.
    pub availability: f64,
    /// Services a request must reach (with probability 1) for success, in call order.
    pub required: Vec<String>,
    /// Most attempts one request can cause at a single service when every call on the way
    /// fails and retries: the product of the attempts along the worst path (3 × 3 × 3 = 27).
    pub max_amplification: f64,
    /// For an entry point that sends to a work queue of a network of work queues: the mean
    /// time from the send until the customer leaves the network \[ms\] (Σ visits × sojourn,
    /// Jackson); `None` elsewhere, or when a station is unstable.
    pub end_to_end_ms: Option<f64>,
}

/// Predictions for one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceAnalysis {
    /// Service name.
    pub name: String,
    /// Arrival rate from the traffic equations, at the mean entry rates [requests/s].
    pub arrival_rate_per_s: f64,
    /// The same at the peak entry rates [requests/s].
    pub peak_arrival_rate_per_s: f64,
    /// Mean time a request holds a worker \[ms\].
    pub mean_holding_ms: f64,
    /// ρ at the mean rate, without faults (see [`Analysis::phases`] for ρ during faults).
    pub utilization: f64,
    /// ρ at the peak rate, without faults.
    pub peak_utilization: f64,
    /// Own availability: (1 − error probability) × the probability that the replica a request
    /// reaches is up (MTTF/(MTTF+MTTR) from its failure process, if any; no health checks).
    pub availability: f64,
    /// Time-based availability from the failure process: 1 − (1 − A)^replicas with
    /// A = MTTF / (MTTF + MTTR); 1 without failures.
    pub time_availability: f64,
    /// Mean wait before a worker \[ms\]: from `queue_model` where there is one; else the
    /// M/M/c estimate per replica (Erlang C with c = workers and the mean holding time as
    /// service time), the wait the holding times of callers include. Infinite at ρ ≥ 1.
    pub mean_wait_ms: f64,
    /// Probability that a request waits for a worker, from the same model (1 at ρ ≥ 1).
    pub p_wait: f64,
    /// Closed-form queue predictions where one applies exactly (see `queue_model` in
    /// docs/report.md): M/M/c, M/M/c/K, GI/M/c or M/G/1 per replica.
    pub queue_model: Option<QueuePrediction>,
}

/// Closed-form queue predictions for one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuePrediction {
    /// Which model: `M/M/c`, `M/M/c/K`, `E<k>/M/c` (Poisson arrivals dealt in turn to k
    /// replicas), `D/M/c` (evenly spaced arrivals), `GI/M/c` (evenly spaced arrivals spread
    /// at random) or `M/G/1`.
    pub model: String,
    /// Mean wait before service \[ms\].
    pub mean_wait_ms: f64,
    /// Mean time at the service \[ms\].
    pub mean_sojourn_ms: f64,
    /// Mean requests at the service (all replicas).
    pub mean_in_system: f64,
    /// Probability that an arrival is rejected.
    pub p_reject: f64,
    /// Probability that an admitted arrival waits for a worker.
    pub p_wait: f64,
}

/// How serious a lint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LintLevel {
    /// Probably not what was meant, but the model runs.
    Warning,
}

/// A finding about the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lint {
    /// Severity.
    pub level: LintLevel,
    /// Stable identifier, e.g. `saturated`, `timeout-below-latency`.
    pub code: String,
    /// Where in the file.
    pub path: String,
    /// What and why, with numbers.
    pub message: String,
}

/// A span of the run \[ns\]: the measured window (after the warm-up), or a phase of it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    from: u64,
    to: u64,
}

impl Window {
    /// Its length \[ns\].
    fn len_ns(self) -> f64 {
        self.to.saturating_sub(self.from) as f64
    }
}

/// Computes the analytic shadow of `model` over its measured window: the steady shadow
/// (without faults), the shadow of each phase of the fault timeline, and lints.
pub fn analyze(model: &Model) -> Analysis {
    let window = Window {
        from: model.run.warmup.as_nanos(),
        to: model.run.duration.as_nanos(),
    };
    let order = callees_first(model);
    let paths = availability::entry_paths(model);
    let steady = evaluate(model, &order, &paths, window, &Conditions::normal(model));
    let phases: Vec<(Phase, Evaluation)> = timeline::phases(model, window)
        .into_iter()
        .map(|p| {
            let cond = Conditions::during(model, &p.faults, p.window.len_ns());
            let e = evaluate(model, &order, &paths, p.window, &cond);
            (p, e)
        })
        .collect();
    let mut entries = steady.entries.clone();
    if !phases.is_empty() {
        for (i, e) in entries.iter_mut().enumerate() {
            e.availability = weighted_availability(i, &phases);
        }
    }
    let phases: Vec<PhaseAnalysis> = phases
        .iter()
        .map(|(p, e)| phase_analysis(model, p, e))
        .collect();
    let lints = lints::all(&lints::Facts {
        model,
        rel: &steady.rel,
        traffic: &steady.traffic,
        holding: &steady.holding,
        topics: &steady.topics,
        queues: &steady.queues,
        phases: &phases,
    });
    Analysis {
        entries,
        services: steady.holding.services,
        calls: steady.calls,
        topics: steady.topics,
        queues: steady.queues,
        phases,
        lints,
    }
}

/// The shadow under one set of conditions over one window.
struct Evaluation {
    rel: Vec<Rel>,
    traffic: Traffic,
    holding: Holding,
    entries: Vec<EntryAnalysis>,
    calls: Vec<CallAnalysis>,
    topics: Vec<TopicAnalysis>,
    queues: Vec<QueueAnalysis>,
}

/// Evaluates the formula families in order under `cond` over `window`.
///
/// Timeouts make this a fixed point: the chance that a call times out depends on its
/// callee's response time, which depends on the rates, which depend on retries, which depend
/// on the availabilities, which depend on the timeouts. The first round assumes no timeout;
/// each next round uses the timeout chances of the round before, until they change by less
/// than 10⁻⁹ (at most 20 rounds). A model without timeouts takes one round.
fn evaluate(
    model: &Model,
    order: &[ServiceId],
    paths: &[EntryPath],
    window: Window,
    cond: &Conditions,
) -> Evaluation {
    let mut risk = TimeoutRisk::none(model);
    let mut round = 0;
    let (rel, traffic, holding) = loop {
        round += 1;
        let rel = availability::reliabilities(model, order, cond, &risk);
        let traffic = traffic::solve(model, order, &rel, &risk, cond, window);
        let holding = holding::solve(model, order, &traffic, window, cond);
        let next = holding::timeout_risk(model, &holding, cond);
        let settled = next
            .calls
            .iter()
            .zip(&risk.calls)
            .chain(next.entries.iter().zip(&risk.entries))
            .all(|(a, b)| (a - b).abs() <= 1e-9);
        if settled || round == 20 {
            break (rel, traffic, holding);
        }
        risk = next;
    };
    let topics = broker::topics(model, &traffic, &holding, cond);
    let queues = broker::queues(model, &traffic, &holding, cond);
    let mut entries = availability::entries(model, paths, &rel, &risk, cond, window);
    networks::end_to_end(model, &traffic, &queues, &mut entries);
    Evaluation {
        calls: availability::calls(model, &rel, &risk),
        entries,
        rel,
        traffic,
        holding,
        topics,
        queues,
    }
}

/// Entry point `i`'s availability over the phases, weighted by the requests each phase
/// receives (rate × length), or by time when no phase receives any.
fn weighted_availability(i: usize, phases: &[(Phase, Evaluation)]) -> f64 {
    let (mut requests, mut weighted) = (0.0, 0.0);
    let (mut time, mut by_time) = (0.0, 0.0);
    for (p, e) in phases {
        let entry = &e.entries[i];
        let len = p.window.len_ns();
        requests += entry.rate_per_s * len;
        weighted += entry.rate_per_s * len * entry.availability;
        time += len;
        by_time += len * entry.availability;
    }
    if requests > 0.0 {
        weighted / requests
    } else if time > 0.0 {
        by_time / time
    } else {
        1.0
    }
}

/// The report of one phase.
fn phase_analysis(model: &Model, p: &Phase, e: &Evaluation) -> PhaseAnalysis {
    PhaseAnalysis {
        from_s: p.window.from as f64 / 1e9,
        to_s: p.window.to as f64 / 1e9,
        faults: p
            .faults
            .iter()
            .map(|&f| model.faults[f].label.clone())
            .collect(),
        entries: e
            .entries
            .iter()
            .map(|a| PhaseEntry {
                name: a.name.clone(),
                rate_per_s: a.rate_per_s,
                availability: a.availability,
            })
            .collect(),
        services: e
            .holding
            .services
            .iter()
            .map(|s| PhaseService {
                name: s.name.clone(),
                arrival_rate_per_s: s.arrival_rate_per_s,
                mean_holding_ms: s.mean_holding_ms,
                utilization: s.utilization,
                peak_utilization: s.peak_utilization,
            })
            .collect(),
        groups: e
            .topics
            .iter()
            .flat_map(|t| {
                t.groups.iter().map(|g| PhaseGroup {
                    topic: t.name.clone(),
                    service: g.service.clone(),
                    rate_per_s: t.rate_per_s,
                    capacity_per_s: g.capacity_per_s,
                    lag_growth_per_s: g.lag_growth_per_s,
                })
            })
            .collect(),
        queues: e
            .queues
            .iter()
            .map(|q| PhaseQueue {
                name: q.name.clone(),
                rate_per_s: q.rate_per_s,
                capacity_per_s: q.capacity_per_s,
                backlog_growth_per_s: q.backlog_growth_per_s,
            })
            .collect(),
    }
}

/// Services ordered so that every callee comes before its callers.
fn callees_first(model: &Model) -> Vec<ServiceId> {
    match petgraph::algo::toposort(&model.graph, None) {
        Ok(order) => order.into_iter().rev().map(|n| model.graph[n]).collect(),
        // Compiled models are acyclic; fall back to file order rather than panic.
        Err(_) => (0..model.services.len() as u32).map(ServiceId).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::visit::branch_weights;
    use crate::model::{BlockId, Op};

    /// Weights 0.1, 0.6, 0.2 and 10⁻³⁰: the running sum of the first three shares rounds to
    /// 1 + 2⁻⁵², above the 1 the last branch ends at.
    const ROUNDING_CHOICE: &str = r#"Topology(
        workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 10))],
        services: { "s": (steps: [Choice(branches: [
            (weight: 0.1, steps: []), (weight: 0.6, steps: []), (weight: 0.2, steps: []),
            (weight: 1e-30, steps: [Work(Const("1ms"))]),
        ])]) },
    )"#;

    #[test]
    fn a_service_with_nothing_to_do_holds_plus_zero() {
        // The sum of no terms is −0 with `Iterator::sum`; `check` printed it as `-0.000`.
        let model = crate::model::parse(
            r#"Topology(
                workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 10))],
                services: { "s": (), "t": (nonblocking: (max_in_flight: 4)) },
            )"#,
            "empty.ron",
        )
        .unwrap();
        for s in model.analyze().services {
            assert_eq!(s.mean_holding_ms.to_bits(), 0.0f64.to_bits(), "{s:?}");
            assert_eq!(s.utilization.to_bits(), 0.0f64.to_bits(), "{s:?}");
        }
    }

    #[test]
    fn choice_shares_are_never_negative_and_sum_to_one() {
        let model = crate::model::parse(ROUNDING_CHOICE, "choice.ron").unwrap();
        let Some(Op::Choice { branches, .. }) = model.block(model.services[0].body).first() else {
            panic!("the service's only step is a Choice");
        };
        let shares: Vec<f64> = branch_weights(branches).map(|(w, _)| w).collect();
        assert!(shares.iter().all(|&w| w >= 0.0), "{shares:?}");
        assert!(
            (shares.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "{shares:?}"
        );
        // The same shares from cumulative values that went back down (a corrupt model):
        // none negative, and the total is still the last cumulative value.
        let bad = [(0.5, BlockId(0)), (0.4, BlockId(0)), (1.0, BlockId(0))];
        let shares: Vec<f64> = branch_weights(&bad).map(|(w, _)| w).collect();
        assert_eq!(shares, [0.5, 0.0, 0.5]);
        // The holding time is a sum of non-negative terms: 0, not −2·10⁻¹⁶.
        let a = model.analyze();
        assert!(a.services[0].mean_holding_ms >= 0.0);
        assert!(a.services[0].mean_holding_ms.is_sign_positive());
        assert!(a.services[0].utilization.is_sign_positive());
    }
}
