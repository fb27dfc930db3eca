//! Holding times and utilization: how long a request holds a worker, and how busy the workers
//! are at the rates of the traffic equations.
//!
//! Source: the rendezvous of layered queueing networks (a caller's thread waits for its
//! callee), an approximation documented in docs/semantics.md, *Queueing formulas*
//! (utilization of layered services); Erlang C for the callee's queueing delay.

use super::availability::own_availability;
use super::queueing;
use super::traffic::Traffic;
use super::visit::{fold_block, StepFold};
use super::{QueuePrediction, ServiceAnalysis, Window};
use crate::dist::Dist;
use crate::model::{CallEdge, Model, Op, PublishStep, ServiceId};

/// Holding and response times of every service, and their predictions.
#[derive(Clone, Debug)]
pub(super) struct Holding {
    /// Mean time to run each service's steps \[ns\], by [`ServiceId`]: the time a request
    /// holds a worker of a blocking service, and the time a message holds its consumer.
    pub body_ns: Vec<f64>,
    /// Per service, in file order.
    pub services: Vec<ServiceAnalysis>,
}

/// Computes holding times, utilizations and queue models, callees first.
///
/// **Formula.** E\[H\] = the [`MeanTime`] of the service's steps, where each sync call takes
/// the callee's mean response time: its own E\[H\] plus its Erlang C wait per replica (M/M/c
/// with c = workers, λ/replicas, μ = 1/E\[H\]), plus the network both ways, capped by the
/// timeout. A non-blocking service (`max_in_flight`) holds a worker only for its local work
/// ([`LocalWork`]). ρ = λ·E\[H\]/(replicas × workers), at the mean and at the peak rate.
///
/// **Assumptions.** The M/M/c wait is an estimate for anything but exponential holding times
/// and Poisson arrivals; `Parallel` waits for its slowest branch, taken as the largest branch
/// mean.
///
/// **Example.** 200 requests/s into 2 × 4 workers holding 11 ms each: ρ = 200 × 0.011 / 8 =
/// 0.275.
pub(super) fn solve(
    model: &Model,
    order: &[ServiceId],
    traffic: &Traffic,
    window: Window,
) -> Holding {
    let n = model.services.len();
    let (rate, peak) = (&traffic.rate, &traffic.peak);
    let mut body_ns = vec![0.0; n];
    let mut response_ns = vec![0.0; n];
    let mut services = Vec::with_capacity(n);
    for &s in order {
        let i = s.0 as usize;
        let svc = model.service(s);
        let response = fold_block(
            model,
            &mut MeanTime {
                response_ns: &response_ns,
            },
            svc.body,
            (),
        );
        // A non-blocking service holds a worker only for local work; its in-flight slots are
        // held for the whole response instead.
        let h = match svc.max_in_flight {
            None => response,
            Some(_) => fold_block(model, &mut LocalWork, svc.body, ()),
        };
        let servers = f64::from(svc.replicas) * f64::from(svc.workers);
        body_ns[i] = response;
        let util = rate[i] * h / 1e9 / servers;
        let peak_util = peak[i] * h / 1e9 / servers;
        // Queueing delay: Erlang C per replica with the holding time as service time.
        let per_replica = rate[i] / f64::from(svc.replicas);
        let erlang = if h > 0.0 && per_replica > 0.0 {
            queueing::mmc(svc.workers, per_replica, 1e9 / h)
                .map_or((f64::INFINITY, 1.0), |m| (m.wq * 1e9, m.p_wait))
        } else {
            (0.0, 0.0)
        };
        let wait_ns = erlang.0;
        response_ns[i] = response + wait_ns;
        let queue_model = queue_model(model, s, window);
        // The wait before a worker: the exact model where there is one, else the estimate.
        let (mean_wait_ms, p_wait) = queue_model
            .as_ref()
            .map_or((wait_ns / 1e6, erlang.1), |q| (q.mean_wait_ms, q.p_wait));
        services.push((
            i,
            ServiceAnalysis {
                name: svc.name.clone(),
                arrival_rate_per_s: rate[i],
                peak_arrival_rate_per_s: peak[i],
                mean_holding_ms: h / 1e6,
                utilization: util,
                peak_utilization: peak_util,
                availability: own_availability(model, s),
                time_availability: svc
                    .failures
                    .as_ref()
                    .map_or(1.0, |f| f.any_up(svc.replicas)),
                mean_wait_ms,
                p_wait,
                queue_model,
            },
        ));
    }
    services.sort_by_key(|(i, _)| *i);
    Holding {
        body_ns,
        services: services.into_iter().map(|(_, s)| s).collect(),
    }
}

/// Mean time to run a block \[ns\], given each callee's mean response time.
///
/// **Formula.** A sequence is the sum of its steps; work is its mean; a publish made with
/// probability p waits p × its mean acknowledgement latency; a call made with probability p
/// waits p × min(response + 2 × network latency, timeout); a `Parallel` made with probability
/// p takes p × the largest branch mean; a `Choice`, p × Σ share × branch.
///
/// **Assumptions.** The largest branch mean is a lower bound of E\[max\] of the branches.
///
/// **Example.** Work of 3 ms, then a call (p = 1) to a service answering in 8 ms: 11 ms.
struct MeanTime<'a> {
    response_ns: &'a [f64],
}

impl StepFold for MeanTime<'_> {
    type Down = ();
    type Up = f64;

    fn work(&mut self, (): (), work: &Dist) -> f64 {
        work.mean_ns()
    }

    fn call(&mut self, (): (), call: &CallEdge) -> f64 {
        let network = 2.0 * call.latency.as_ref().map_or(0.0, Dist::mean_ns);
        let mut wait = self.response_ns[call.to.0 as usize] + network;
        if let Some(t) = call.timeout {
            wait = wait.min(t.as_nanos() as f64);
        }
        call.probability * wait
    }

    fn publish(&mut self, (): (), step: &PublishStep) -> f64 {
        step.probability * step.latency.as_ref().map_or(0.0, Dist::mean_ns)
    }

    fn into_parallel((): (), _: f64) {}

    fn into_choice((): (), _: f64, _: f64) {}

    fn sequence(steps: impl Iterator<Item = f64>) -> f64 {
        // Not `sum()`: the sum of no terms is −0 in Rust, which `check` printed as `-0.000`
        // for a service with nothing to do.
        steps.fold(0.0, |a, b| a + b)
    }

    fn parallel(probability: f64, branches: impl Iterator<Item = f64>) -> f64 {
        probability * branches.fold(0.0, f64::max)
    }

    fn choice(probability: f64, branches: impl Iterator<Item = (f64, f64)>) -> f64 {
        probability * branches.map(|(w, t)| w * t).fold(0.0, |a, b| a + b)
    }
}

/// Mean local work of one run of a block \[ns\], calls and publishes excluded: what a
/// non-blocking service holds a worker for.
///
/// **Formula.** Work is its mean; a sequence sums; a `Parallel` made with probability p adds p
/// × the sum of its branches (each branch's work runs on the worker); a `Choice`, p × Σ share ×
/// branch.
struct LocalWork;

impl StepFold for LocalWork {
    type Down = ();
    type Up = f64;

    fn work(&mut self, (): (), work: &Dist) -> f64 {
        work.mean_ns()
    }

    fn call(&mut self, (): (), _: &CallEdge) -> f64 {
        0.0
    }

    fn publish(&mut self, (): (), _: &PublishStep) -> f64 {
        0.0
    }

    fn into_parallel((): (), _: f64) {}

    fn into_choice((): (), _: f64, _: f64) {}

    fn sequence(steps: impl Iterator<Item = f64>) -> f64 {
        // Not `sum()`: see `MeanTime::sequence`.
        steps.fold(0.0, |a, b| a + b)
    }

    fn parallel(probability: f64, branches: impl Iterator<Item = f64>) -> f64 {
        probability * branches.fold(0.0, |a, b| a + b)
    }

    fn choice(probability: f64, branches: impl Iterator<Item = (f64, f64)>) -> f64 {
        probability * branches.map(|(w, t)| w * t).fold(0.0, |a, b| a + b)
    }
}

/// A typical (median-like) latency of `service` \[ns\]: the median of its work when that is
/// all it does, else its mean holding time.
pub(super) fn median_latency_ns(model: &Model, service: ServiceId, body_ns: &[f64]) -> f64 {
    let svc = model.service(service);
    match model.block(svc.body) {
        [] => 0.0,
        [Op::Work(d)] => d.median_ns(),
        _ => body_ns[service.0 as usize],
    }
}

/// The closed-form queue model of a service, where one applies exactly.
///
/// **Formula.** Per replica, with c = workers and the arrivals into the replica known
/// ([`replica_arrivals`]): exponential work → [`queueing::mmc`] for Poisson arrivals
/// ([`queueing::mmck`] with K = workers + queue when the queue is bounded), else GI/M/c
/// ([`queueing::gimc`]: Erlang-k gaps when a balancer deals a Poisson stream to k replicas in
/// turn, equal gaps for constant arrivals); any other work on one worker with Poisson
/// arrivals → M/G/1 ([`queueing::mg1_wq`], Pollaczek–Khinchine). L is summed over the
/// replicas.
///
/// **Assumptions.** The service's only step is its work (no calls, no publishes), it has no
/// failure process, it consumes no messages (the broker, not the service, is a consumer's
/// queue), and its requests come from entry points only, at a rate that is constant over the
/// measured window. Anywhere else the arrivals into a replica are not a known renewal
/// process and there is no exact model (see `mean_wait_ms` for the estimate).
///
/// **Example.** λ = 800/s, 1 ms exponential work, one worker: W = 5 ms, L = 4; the same load
/// dealt in turn to two one-worker replicas (1,600/s in all) is E2/M/1: W = 3.84 ms.
fn queue_model(model: &Model, service: ServiceId, window: Window) -> Option<QueuePrediction> {
    let svc = model.service(service);
    let [Op::Work(d)] = model.block(svc.body) else {
        return None;
    };
    if svc.failures.is_some() || d.mean_ns() <= 0.0 {
        return None;
    }
    let arrivals = replica_arrivals(model, service, window)?;
    let per_replica = arrivals.rate();
    let mu = 1e9 / d.mean_ns(); // per second
    let replicas = f64::from(svc.replicas);
    let poisson = matches!(arrivals, queueing::Interarrivals::Poisson { .. });
    let (name, m) = match (d.is_exponential(), svc.queue, poisson) {
        (true, None, true) => (
            "M/M/c".to_string(),
            queueing::mmc(svc.workers, per_replica, mu)?,
        ),
        (true, Some(q), true) => (
            "M/M/c/K".to_string(),
            queueing::mmck(svc.workers, svc.workers.saturating_add(q), per_replica, mu),
        ),
        (true, None, false) => (
            format!("{}/M/c", arrivals.kendall()),
            queueing::gimc(svc.workers, &arrivals, mu)?,
        ),
        (false, None, true) if svc.workers == 1 => {
            let s = 1.0 / mu;
            let wq = queueing::mg1_wq(per_replica, s, d.scv())?;
            let w = wq + s;
            let m = queueing::QueueMeasures {
                wq,
                w,
                lq: per_replica * wq,
                l: per_replica * w,
                p_block: 0.0,
                p_wait: per_replica * s,
            };
            ("M/G/1".to_string(), m)
        }
        _ => return None,
    };
    Some(QueuePrediction {
        model: name,
        mean_wait_ms: m.wq * 1e3,
        mean_sojourn_ms: m.w * 1e3,
        mean_in_system: m.l * replicas,
        p_reject: m.p_block,
        p_wait: m.p_wait,
    })
}

/// The arrival process into one replica of `service`, when it is a known renewal process.
///
/// Requests must come from entry points only (no sync caller, no consumed topic or queue), at
/// a constant rate over the window. Poisson entry points merge into one Poisson stream of
/// rate Λ; a single constant-rate entry point gives equal gaps 1/Λ. One replica receives the
/// stream itself; a random balancer thins it (Poisson stays Poisson with rate Λ/n; equal gaps
/// become geometric multiples of the gap); a round-robin balancer deals it out in turn
/// (Erlang-n gaps from a Poisson stream; equal gaps n/Λ from a constant one). The
/// least-outstanding and power-of-two balancers choose by state: not a renewal process.
fn replica_arrivals(
    model: &Model,
    service: ServiceId,
    window: Window,
) -> Option<queueing::Interarrivals> {
    use crate::model::{Balancer, EntryTarget};
    use crate::workload::ArrivalKind;
    use queueing::Interarrivals;
    let called = model.calls.iter().any(|c| c.to == service);
    let consumes = model
        .topics
        .iter()
        .any(|t| t.subscribers.iter().any(|s| s.service == service))
        || model.queues.iter().any(|q| q.service == service);
    if called || consumes {
        return None;
    }
    let entries: Vec<_> = model
        .entries
        .iter()
        .filter(|e| e.target == EntryTarget::Service(service))
        .collect();
    let mut total = 0.0;
    for e in &entries {
        let mean = e.arrivals.mean_rate(window.from, window.to);
        if e.arrivals.peak_rate(window.from, window.to) != mean {
            return None;
        }
        total += mean;
    }
    if total <= 0.0 {
        return None;
    }
    let svc = model.service(service);
    let n = svc.replicas;
    let nf = f64::from(n);
    let all_poisson = entries
        .iter()
        .all(|e| e.arrivals.kind == ArrivalKind::Poisson);
    let one_constant = entries.len() == 1 && entries[0].arrivals.kind == ArrivalKind::Constant;
    match (svc.balancer, n) {
        (_, 1) | (Balancer::Random, _) if all_poisson => {
            Some(Interarrivals::Poisson { rate: total / nf })
        }
        (_, 1) if one_constant => Some(Interarrivals::Deterministic { gap: 1.0 / total }),
        (Balancer::RoundRobin, _) if all_poisson => {
            Some(Interarrivals::Erlang { k: n, rate: total })
        }
        (Balancer::RoundRobin, _) if one_constant => {
            Some(Interarrivals::Deterministic { gap: nf / total })
        }
        (Balancer::Random, _) if one_constant => Some(Interarrivals::ThinnedDeterministic {
            gap: 1.0 / total,
            keep: 1.0 / nf,
        }),
        _ => None,
    }
}
