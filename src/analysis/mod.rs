//! The analytic shadow: what theory predicts for a model before any simulation, and lints.
//!
//! * **Availability product** per entry point: a request succeeds when its service does not
//!   err and every *required* sync call below it succeeds, failures assumed independent
//!   (SEMANTICS.md §11). A call made with probability p to a callee of availability A
//!   contributes 1 − p(1 − A); `on_failure: Ignore` calls contribute 1; a `Parallel` step is
//!   the product of its branches; a `Choice` the weighted mean. Timeouts and rejections are
//!   not in the product: the gap between it and the simulation is what overload costs.
//! * **Traffic equations**: the arrival rate at each service is the sum over entry points of
//!   rate × expected calls per request along every path (call probability × multiplicity),
//!   ignoring calls skipped because an earlier call failed (so it is an upper bound).
//! * **Utilization** ρ = λ·E\[H\]/(replicas·workers), where E\[H\] is the mean time a request holds
//!   a worker: local work plus, for each sync call, the callee's mean response time (its
//!   holding time plus its M/M/c queueing delay, capped by the timeout) and network latency.
//!   `Parallel` waits for its slowest branch, approximated by the largest branch mean.
//! * **M/M/c and M/M/c/K** per replica, where they apply exactly: exponential work and no
//!   calls. The per-replica arrival rate is λ/replicas.
//!
//! Lints flag a service with ρ ≥ 1 (it will saturate) and a call whose timeout is below the
//! callee's median latency. A sync call cycle is not a lint but a load error.

pub mod queueing;

use crate::dist::Dist;
use crate::model::{BlockId, Model, OnFailure, Op, ServiceId};
use serde::{Deserialize, Serialize};

/// Everything the analytic shadow predicts, plus lints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Per entry point, in file order.
    pub entries: Vec<EntryAnalysis>,
    /// Per service, in file order.
    pub services: Vec<ServiceAnalysis>,
    /// Warnings about the model.
    pub lints: Vec<Lint>,
}

/// Predictions for one entry point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryAnalysis {
    /// Entry point name.
    pub name: String,
    /// Mean arrival rate over the measured part of the run [requests/s].
    pub rate_per_s: f64,
    /// Product of the availabilities of everything a request needs.
    pub availability: f64,
    /// Services a request must reach (with probability 1) for success, in call order.
    pub required: Vec<String>,
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
    /// ρ at the mean rate.
    pub utilization: f64,
    /// ρ at the peak rate.
    pub peak_utilization: f64,
    /// Own availability (1 − error probability).
    pub availability: f64,
    /// M/M/c (or M/M/c/K) predictions when they apply exactly.
    pub queue_model: Option<QueuePrediction>,
}

/// Closed-form queue predictions for one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuePrediction {
    /// Which model: `M/M/c` or `M/M/c/K`.
    pub model: String,
    /// Mean wait before service \[ms\].
    pub mean_wait_ms: f64,
    /// Mean time at the service \[ms\].
    pub mean_sojourn_ms: f64,
    /// Mean requests at the service (all replicas).
    pub mean_in_system: f64,
    /// Probability that an arrival is rejected.
    pub p_reject: f64,
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

/// Computes the analytic shadow of `model` over its measured window.
pub fn analyze(model: &Model) -> Analysis {
    let from = model.run.warmup.as_nanos();
    let to = model.run.duration.as_nanos();
    let n = model.services.len();

    // Availability per service, callees first (the call graph is acyclic).
    let order = topological_callees_first(model);
    let mut avail = vec![1.0; n];
    for &s in &order {
        let svc = model.service(s);
        avail[s.0 as usize] = (1.0 - svc.error_prob) * block_availability(model, svc.body, &avail);
    }

    // Traffic equations: callers first.
    let mut rate = vec![0.0; n];
    let mut peak = vec![0.0; n];
    for e in &model.entries {
        rate[e.service.0 as usize] += e.arrivals.mean_rate(from, to);
        peak[e.service.0 as usize] += e.arrivals.peak_rate(from, to);
    }
    for &s in order.iter().rev() {
        let mut visits = vec![0.0; n];
        block_visits(model, model.service(s).body, 1.0, &avail, &mut visits);
        let (r, p) = (rate[s.0 as usize], peak[s.0 as usize]);
        for (callee, v) in visits.iter().enumerate() {
            rate[callee] += r * v;
            peak[callee] += p * v;
        }
    }

    // Holding and response times, callees first.
    let mut hold_ns = vec![0.0; n];
    let mut response_ns = vec![0.0; n];
    let mut services = Vec::with_capacity(n);
    for &s in &order {
        let i = s.0 as usize;
        let svc = model.service(s);
        let h = block_mean_ns(model, svc.body, &response_ns);
        hold_ns[i] = h;
        let servers = f64::from(svc.replicas) * f64::from(svc.workers);
        let util = rate[i] * h / 1e9 / servers;
        let peak_util = peak[i] * h / 1e9 / servers;
        // Queueing delay: Erlang C per replica with the holding time as service time.
        let per_replica = rate[i] / f64::from(svc.replicas);
        let wait_ns = if h > 0.0 && per_replica > 0.0 {
            queueing::mmc(svc.workers, per_replica, 1e9 / h)
                .map(|m| m.wq * 1e9)
                .unwrap_or(f64::INFINITY)
        } else {
            0.0
        };
        response_ns[i] = h + wait_ns;
        let queue_model = exact_queue_model(model, s, per_replica);
        services.push((
            i,
            ServiceAnalysis {
                name: svc.name.clone(),
                arrival_rate_per_s: rate[i],
                peak_arrival_rate_per_s: peak[i],
                mean_holding_ms: h / 1e6,
                utilization: util,
                peak_utilization: peak_util,
                availability: 1.0 - svc.error_prob,
                queue_model,
            },
        ));
    }
    services.sort_by_key(|(i, _)| *i);
    let services: Vec<ServiceAnalysis> = services.into_iter().map(|(_, s)| s).collect();

    let entries = model
        .entries
        .iter()
        .map(|e| {
            let mut required = Vec::new();
            required_services(model, e.service, &mut required);
            EntryAnalysis {
                name: e.name.clone(),
                rate_per_s: e.arrivals.mean_rate(from, to),
                availability: avail[e.service.0 as usize],
                required: required
                    .into_iter()
                    .map(|s| model.service(s).name.clone())
                    .collect(),
            }
        })
        .collect();

    let mut lints = Vec::new();
    for (svc, a) in model.services.iter().zip(&services) {
        let path = format!("services[{}]", svc.name);
        if a.utilization >= 1.0 {
            lints.push(Lint {
                level: LintLevel::Warning,
                code: "saturated".into(),
                path,
                message: format!(
                    "utilization ρ = {:.2} ≥ 1 at {:.1} requests/s × {:.2} ms held / {} workers: it will saturate; its queue grows until it rejects (or the run hits max_in_flight)",
                    a.utilization, a.arrival_rate_per_s, a.mean_holding_ms, u64::from(svc.replicas) * u64::from(svc.workers)
                ),
            });
        } else if a.peak_utilization >= 1.0 {
            lints.push(Lint {
                level: LintLevel::Warning,
                code: "saturated-at-peak".into(),
                path,
                message: format!(
                    "utilization ρ = {:.2} at the peak rate ({:.1} requests/s): it saturates during the peak and builds a backlog",
                    a.peak_utilization, a.peak_arrival_rate_per_s
                ),
            });
        }
    }
    for call in &model.calls {
        let Some(timeout) = call.timeout else {
            continue;
        };
        let callee = model.service(call.to);
        let typical_ns = median_latency_ns(model, call.to, &hold_ns)
            + 2.0 * call.latency.as_ref().map_or(0.0, Dist::median_ns);
        if (timeout.as_nanos() as f64) < typical_ns {
            lints.push(Lint {
                level: LintLevel::Warning,
                code: "timeout-below-latency".into(),
                path: format!("{}.timeout", call.path),
                message: format!(
                    "timeout {} is below the typical latency of `{}` ({:.2} ms): most calls will time out",
                    timeout,
                    callee.name,
                    typical_ns / 1e6
                ),
            });
        }
    }

    Analysis {
        entries,
        services,
        lints,
    }
}

/// Services ordered so that every callee comes before its callers.
fn topological_callees_first(model: &Model) -> Vec<ServiceId> {
    match petgraph::algo::toposort(&model.graph, None) {
        Ok(order) => order.into_iter().rev().map(|n| model.graph[n]).collect(),
        // Compiled models are acyclic; fall back to file order rather than panic.
        Err(_) => (0..model.services.len() as u32).map(ServiceId).collect(),
    }
}

fn block_availability(model: &Model, block: BlockId, avail: &[f64]) -> f64 {
    model
        .block(block)
        .iter()
        .map(|op| match op {
            Op::Work(_) => 1.0,
            Op::Call(c) => {
                let call = &model.calls[c.0 as usize];
                match call.on_failure {
                    OnFailure::Ignore | OnFailure::Fallback(_) => 1.0,
                    OnFailure::Fail => {
                        1.0 - call.probability * (1.0 - call_availability(call, avail))
                    }
                }
            }
            Op::Parallel {
                branches,
                probability,
            } => {
                let all: f64 = branches
                    .iter()
                    .map(|b| block_availability(model, *b, avail))
                    .product();
                1.0 - probability * (1.0 - all)
            }
            Op::Choice {
                branches,
                probability,
            } => {
                let mean: f64 = branch_weights(branches)
                    .map(|(w, b)| w * block_availability(model, b, avail))
                    .sum();
                1.0 - probability * (1.0 - mean)
            }
        })
        .product()
}

/// The probability of each branch of a `Choice`, from the cumulative values the engine uses.
fn branch_weights(branches: &[(f64, BlockId)]) -> impl Iterator<Item = (f64, BlockId)> + '_ {
    branches.iter().scan(0.0, |prev, &(cum, b)| {
        let w = cum - *prev;
        *prev = cum;
        Some((w, b))
    })
}

/// Availability of a call with its retries: 1 − (1 − a)^k when errors are retried with k
/// attempts, assuming independent attempts (SEMANTICS.md §11; an outage breaks this).
pub fn call_availability(call: &crate::model::CallEdge, avail: &[f64]) -> f64 {
    let a = avail[call.to.0 as usize];
    match &call.retry {
        Some(r) if r.retry_on[crate::Outcome::Error.index()] => {
            1.0 - (1.0 - a).powi(r.attempts as i32)
        }
        _ => a,
    }
}

/// Expected attempts per call: (1 − (1 − a)^k) / a for k attempts retried on errors, with
/// per-attempt success a (SEMANTICS.md §11); k when the callee is fully down.
pub fn expected_attempts(call: &crate::model::CallEdge, avail: &[f64]) -> f64 {
    let a = avail[call.to.0 as usize];
    match &call.retry {
        Some(r) if r.retry_on[crate::Outcome::Error.index()] => {
            let k = f64::from(r.attempts);
            if a <= 0.0 {
                k
            } else {
                (1.0 - (1.0 - a).powf(k)) / a
            }
        }
        _ => 1.0,
    }
}

/// Adds `weight` × the expected number of attempts per execution of `block` to each callee.
fn block_visits(model: &Model, block: BlockId, weight: f64, avail: &[f64], visits: &mut [f64]) {
    for op in model.block(block) {
        match op {
            Op::Work(_) => {}
            Op::Call(c) => {
                let call = &model.calls[c.0 as usize];
                visits[call.to.0 as usize] +=
                    weight * call.probability * expected_attempts(call, avail);
            }
            Op::Parallel {
                branches,
                probability,
            } => {
                for b in branches.iter() {
                    block_visits(model, *b, weight * probability, avail, visits);
                }
            }
            Op::Choice {
                branches,
                probability,
            } => {
                for (w, b) in branch_weights(branches) {
                    block_visits(model, b, weight * probability * w, avail, visits);
                }
            }
        }
    }
}

/// Mean time to run `block` [ns], given each service's mean response time.
fn block_mean_ns(model: &Model, block: BlockId, response_ns: &[f64]) -> f64 {
    model
        .block(block)
        .iter()
        .map(|op| match op {
            Op::Work(d) => d.mean_ns(),
            Op::Call(c) => {
                let call = &model.calls[c.0 as usize];
                let network = 2.0 * call.latency.as_ref().map_or(0.0, Dist::mean_ns);
                let mut wait = response_ns[call.to.0 as usize] + network;
                if let Some(t) = call.timeout {
                    wait = wait.min(t.as_nanos() as f64);
                }
                call.probability * wait
            }
            Op::Parallel {
                branches,
                probability,
            } => {
                probability
                    * branches
                        .iter()
                        .map(|b| block_mean_ns(model, *b, response_ns))
                        .fold(0.0, f64::max)
            }
            Op::Choice {
                branches,
                probability,
            } => {
                probability
                    * branch_weights(branches)
                        .map(|(w, b)| w * block_mean_ns(model, b, response_ns))
                        .sum::<f64>()
            }
        })
        .sum()
}

/// A typical (median-like) latency of `service` [ns]: the median of its work when that is all
/// it does, else its mean holding time.
fn median_latency_ns(model: &Model, service: ServiceId, hold_ns: &[f64]) -> f64 {
    let svc = model.service(service);
    match model.block(svc.body) {
        [] => 0.0,
        [Op::Work(d)] => d.median_ns(),
        _ => hold_ns[service.0 as usize],
    }
}

/// M/M/c or M/M/c/K per replica, when the service's only step is exponential work.
fn exact_queue_model(
    model: &Model,
    service: ServiceId,
    per_replica: f64,
) -> Option<QueuePrediction> {
    let svc = model.service(service);
    let [Op::Work(d)] = model.block(svc.body) else {
        return None;
    };
    if !d.is_exponential() || per_replica <= 0.0 {
        return None;
    }
    let mu = 1e9 / d.mean_ns(); // per second
    let replicas = f64::from(svc.replicas);
    let (name, m) = match svc.queue {
        None => ("M/M/c", queueing::mmc(svc.workers, per_replica, mu)?),
        Some(q) => (
            "M/M/c/K",
            queueing::mmck(svc.workers, svc.workers.saturating_add(q), per_replica, mu),
        ),
    };
    Some(QueuePrediction {
        model: name.into(),
        mean_wait_ms: m.wq * 1e3,
        mean_sojourn_ms: m.w * 1e3,
        mean_in_system: m.l * replicas,
        p_reject: m.p_block,
    })
}

/// Services reached with probability 1 along required calls, depth first, each once.
fn required_services(model: &Model, s: ServiceId, out: &mut Vec<ServiceId>) {
    if out.contains(&s) {
        return;
    }
    out.push(s);
    fn walk(model: &Model, block: BlockId, out: &mut Vec<ServiceId>) {
        for op in model.block(block) {
            match op {
                Op::Call(c) => {
                    let call = &model.calls[c.0 as usize];
                    if call.probability >= 1.0 && matches!(call.on_failure, OnFailure::Fail) {
                        required_services(model, call.to, out);
                    }
                }
                Op::Parallel {
                    branches,
                    probability,
                } if *probability >= 1.0 => {
                    for b in branches.iter() {
                        walk(model, *b, out);
                    }
                }
                _ => {}
            }
        }
    }
    walk(model, model.service(s).body, out);
}
