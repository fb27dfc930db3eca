//! Holding times and utilization: how long a request holds a worker, and how busy the workers
//! are at the rates of the traffic equations.
//!
//! Source: the rendezvous of layered queueing networks (a caller's thread waits for its
//! callee), an approximation documented in docs/semantics.md, *Queueing formulas*
//! (utilization of layered services); Erlang C for the callee's queueing delay; the maximum
//! of independent branches for fan-outs ([`max_of`]).

use super::availability::{own_availability, TimeoutRisk};
use super::moments::{max_of, Time};
use super::queueing;
use super::timeline::{variance, Conditions, ReplicaGroup};
use super::traffic::Traffic;
use super::visit::{fold_block, StepFold};
use super::{QueuePrediction, ServiceAnalysis, Window};
use crate::dist::Dist;
use crate::model::{CallEdge, CallId, Model, Op, PublishStep, ServiceId, WhenDown};

/// What a caller of a service can expect of one attempt.
#[derive(Clone, Copy, Debug)]
pub(super) struct Response {
    /// The time from arrival to answer at a replica that serves: its body plus its wait for
    /// a worker.
    pub served: Time,
    /// Share of attempts routed to a crashed replica (refused at once).
    pub down: f64,
    /// Share of attempts routed to a hung replica (held until the hang ends).
    pub hung: f64,
}

/// Holding and response times of every service, and their predictions.
#[derive(Clone, Debug)]
pub(super) struct Holding {
    /// Mean time to run each service's steps \[ns\], by [`ServiceId`], over the replicas
    /// that serve: the time a request holds a worker of a blocking service, and the time a
    /// message holds its consumer.
    pub body_ns: Vec<f64>,
    /// The same per group of replicas ([`Conditions::services`]), `None` for a group that does
    /// not serve (crashed or hung).
    pub group_body_ns: Vec<Vec<Option<f64>>>,
    /// What a caller sees of each service.
    pub response: Vec<Response>,
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
/// During a fault the replicas fall into groups ([`Conditions`]): a group that serves
/// receives its share s of the requests and runs its local work `slowdown` times longer, so
/// ρ = λ·s·E\[H\]/(its replicas × workers); the service's ρ is its busiest group's.
///
/// **Assumptions.** The M/M/c wait is an estimate for anything but exponential holding times
/// and Poisson arrivals; a timeout caps the mean (not the distribution) of a call's time.
///
/// **Example.** 200 requests/s into 2 × 4 workers holding 11 ms each: ρ = 200 × 0.011 / 8 =
/// 0.275.
pub(super) fn solve(
    model: &Model,
    order: &[ServiceId],
    traffic: &Traffic,
    window: Window,
    cond: &Conditions,
) -> Holding {
    let n = model.services.len();
    let (rate, peak) = (&traffic.rate, &traffic.peak);
    let mut body_ns = vec![0.0; n];
    let mut group_body_ns = vec![Vec::new(); n];
    let mut response = vec![
        Response {
            served: Time::ZERO,
            down: 0.0,
            hung: 0.0,
        };
        n
    ];
    let mut services = Vec::with_capacity(n);
    for &s in order {
        let i = s.0 as usize;
        let svc = model.service_at(s);
        let groups = &cond.services[i];
        let serving: Vec<&ReplicaGroup> = groups.iter().filter(|g| g.serves()).collect();
        let mut each = Vec::with_capacity(serving.len());
        for g in &serving {
            let body = fold_block(
                model,
                &mut MeanTime {
                    model,
                    response: &response,
                    cond,
                    slowdown: g.slowdown,
                },
                svc.body,
                (),
            );
            // A non-blocking service holds a worker only for local work; its in-flight
            // slots are held for the whole response instead.
            let h = match svc.max_in_flight {
                None => body.mean,
                Some(_) => fold_block(
                    model,
                    &mut LocalWork {
                        slowdown: g.slowdown,
                    },
                    svc.body,
                    (),
                ),
            };
            let servers = f64::from(g.replicas) * f64::from(svc.workers);
            let util = rate[i] * g.share * h / 1e9 / servers;
            let peak_util = peak[i] * g.share * h / 1e9 / servers;
            // Queueing delay: Erlang C per replica with the holding time as service time.
            let per_replica = rate[i] * g.share / f64::from(g.replicas);
            let wait = if h > 0.0 && per_replica > 0.0 {
                queueing::mmc(svc.workers, per_replica, 1e9 / h)
                    .map_or(Wait::UNSTABLE, |m| Wait::of(m, svc.workers, per_replica, h))
            } else {
                Wait::NONE
            };
            each.push(GroupResult {
                share: g.share,
                body,
                h,
                util,
                peak_util,
                wait,
            });
        }
        let total: f64 = each.iter().map(|g| g.share).sum();
        // The share-weighted mean of `f` over the groups that serve (the value itself when
        // there is one group, so that a model without faults keeps its exact numbers).
        let mix = |f: &dyn Fn(&GroupResult) -> f64| -> f64 {
            match each.as_slice() {
                [] => 0.0,
                [one] => f(one),
                many => many.iter().map(|g| g.share * f(g)).sum::<f64>() / total,
            }
        };
        let h = mix(&|g| g.h);
        body_ns[i] = mix(&|g| g.body.mean);
        let served = match each.as_slice() {
            [] => Time::ZERO,
            [one] => Time {
                mean: one.body.mean + one.wait.mean_ns,
                var: one.body.var + one.wait.var_ns2,
            },
            many => Time::from_moments(
                mix(&|g| g.body.mean + g.wait.mean_ns),
                many.iter()
                    .map(|g| {
                        g.share
                            * Time {
                                mean: g.body.mean + g.wait.mean_ns,
                                var: g.body.var + g.wait.var_ns2,
                            }
                            .second_moment()
                    })
                    .sum::<f64>()
                    / total,
            ),
        };
        let (down, hung) = cond.down_and_hung(s);
        response[i] = Response { served, down, hung };
        let mut g_iter = each.iter();
        group_body_ns[i] = groups
            .iter()
            .map(|g| {
                if g.serves() {
                    g_iter.next().map(|r| r.body.mean)
                } else {
                    None
                }
            })
            .collect();
        let util = each.iter().map(|g| g.util).fold(0.0, f64::max);
        let peak_util = each.iter().map(|g| g.peak_util).fold(0.0, f64::max);
        let queue_model = if cond.faulty {
            None
        } else {
            queue_model(model, s, window)
        };
        // The wait before a worker: the exact model where there is one, else the estimate.
        let (mean_wait_ms, p_wait) = queue_model.as_ref().map_or_else(
            || (mix(&|g| g.wait.mean_ns) / 1e6, mix(&|g| g.wait.p_wait)),
            |q| (q.mean_wait_ms, q.p_wait),
        );
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
        group_body_ns,
        response,
        services: services.into_iter().map(|(_, s)| s).collect(),
    }
}

/// One group of replicas that serves: its share of the requests and what it makes of them.
struct GroupResult {
    share: f64,
    body: Time,
    h: f64,
    util: f64,
    peak_util: f64,
    wait: Wait,
}

/// The wait for a worker at one replica.
#[derive(Clone, Copy)]
struct Wait {
    /// Mean \[ns\].
    mean_ns: f64,
    /// Variance \[ns²\].
    var_ns2: f64,
    /// Probability of waiting at all.
    p_wait: f64,
}

impl Wait {
    /// No load, no wait.
    const NONE: Wait = Wait {
        mean_ns: 0.0,
        var_ns2: 0.0,
        p_wait: 0.0,
    };

    /// ρ ≥ 1: the wait grows without bound.
    const UNSTABLE: Wait = Wait {
        mean_ns: f64::INFINITY,
        var_ns2: f64::INFINITY,
        p_wait: 1.0,
    };

    /// The M/M/c wait: 0 with probability 1 − C, else exponential with rate cμ − λ, so its
    /// variance is C(2 − C)/(cμ − λ)².
    fn of(m: queueing::QueueMeasures, c: u32, lambda: f64, h_ns: f64) -> Wait {
        let rate = f64::from(c) * 1e9 / h_ns - lambda; // per second
        let p = m.p_wait;
        Wait {
            mean_ns: m.wq * 1e9,
            var_ns2: p * (2.0 - p) / (rate * rate) * 1e18,
            p_wait: p,
        }
    }
}

/// The chance that each call's and each entry point's attempts outlast their timeouts.
///
/// **Formula.** q = P(X > T), X the callee's response at a replica that serves plus the
/// network both ways (and any `Latency` fault), with the gamma distribution of X's mean and
/// variance ([`Time::tail`]).
///
/// A callee at ρ ≥ 1 has no steady response time: its queue grows for as long as the load
/// lasts. The shadow then takes it to serve its capacity, a share 1/ρ of the attempts, in
/// time, and the rest to wait past their timeout: q = 1 − 1/ρ.
///
/// **Assumptions.** The response time is gamma-distributed with its mean and variance: exact
/// for an M/M/1 callee with exponential work (its sojourn is exponential, e^{−(μ−λ)t}) and for
/// constant times; an approximation otherwise. The overloaded case is a rough estimate: how
/// much an overload costs depends on queues, timeouts and retries over time (the simulation
/// shows it).
pub(super) fn timeout_risk(model: &Model, holding: &Holding, cond: &Conditions) -> TimeoutRisk {
    let calls = model
        .calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let Some(t) = c.timeout else { return 0.0 };
            let edge = cond.calls[i];
            let network = Time {
                mean: 2.0 * c.latency.as_ref().map_or(0.0, Dist::mean_ns)
                    + 2.0 * edge.extra_mean_ns,
                var: 2.0 * c.latency.as_ref().map_or(0.0, variance) + 2.0 * edge.extra_var_ns2,
            };
            let x = holding.response[c.to.0 as usize].served;
            overdue(
                Time {
                    mean: x.mean + network.mean,
                    var: x.var + network.var,
                },
                &holding.services[c.to.0 as usize],
                t.as_nanos() as f64,
            )
        })
        .collect();
    let entries = model
        .entries
        .iter()
        .map(|e| match (e.timeout, e.target.service()) {
            (Some(t), Some(s)) => overdue(
                holding.response[s.0 as usize].served,
                &holding.services[s.0 as usize],
                t.as_nanos() as f64,
            ),
            _ => 0.0,
        })
        .collect();
    TimeoutRisk { calls, entries }
}

/// The chance that a response of time `x` from `callee` outlasts a timeout of `t` ns (see
/// [`timeout_risk`]).
fn overdue(x: Time, callee: &ServiceAnalysis, t: f64) -> f64 {
    if x.mean.is_finite() {
        x.tail(t)
    } else if callee.utilization >= 1.0 {
        1.0 - 1.0 / callee.utilization
    } else {
        1.0
    }
}

/// Mean and variance of the time to run a block \[ns\], given each callee's response.
///
/// **Formula.** A sequence sums means and variances (its steps are independent); work is its
/// distribution's (times `slowdown` during a `Slowdown` fault); a publish made with
/// probability p waits for its acknowledgement (plus a `BrokerSlow` fault's latency, and the
/// mean wait for the broker to come back when it waits for it); a call made with probability
/// p takes the callee's response plus the network both ways, capped by its timeout, or the
/// timeout (forever without one) across a `Partition`; attempts that reach a crashed replica
/// take no time, those that reach a hung one wait for the hang to end (half the phase on
/// average), capped by the timeout. A `Parallel` made with probability p takes the slowest of
/// its branches, E\[max\] ([`max_of`]: exact for exponential and constant branches, a gamma
/// approximation otherwise); a `Choice` is the mixture of its branches. A step made with
/// probability p takes its time with probability p, else none.
///
/// **Assumptions.** Independent steps and branches.
///
/// **Example.** Work of 3 ms, then a call (p = 1) to a service answering in 8 ms: 11 ms; a
/// fan-out to three services answering in 8, 4 and 2 ms (exponential): 9.54 ms, not 8.
struct MeanTime<'a> {
    model: &'a Model,
    response: &'a [Response],
    cond: &'a Conditions,
    slowdown: f64,
}

impl StepFold for MeanTime<'_> {
    type Down = ();
    type Up = Time;

    fn work(&mut self, (): (), work: &Dist) -> Time {
        Time::with_scv(work.mean_ns() * self.slowdown, work.scv())
    }

    fn call(&mut self, (): (), id: CallId, call: &CallEdge) -> Time {
        let edge = self.cond.calls[id.0 as usize];
        let timeout = call.timeout.map(|t| t.as_nanos() as f64);
        if edge.cut {
            // Requests and responses are lost: the caller waits for its timeout.
            let t = timeout.unwrap_or(f64::INFINITY);
            return Time { mean: t, var: 0.0 }.sometimes(call.probability);
        }
        let network = Time {
            mean: 2.0 * call.latency.as_ref().map_or(0.0, Dist::mean_ns) + 2.0 * edge.extra_mean_ns,
            var: 2.0 * call.latency.as_ref().map_or(0.0, variance) + 2.0 * edge.extra_var_ns2,
        };
        let callee = self.response[call.to.0 as usize];
        let capped = |x: Time| -> Time {
            match timeout {
                Some(t) if x.mean >= t => Time { mean: t, var: 0.0 },
                _ => x,
            }
        };
        let served = capped(Time {
            mean: callee.served.mean + network.mean,
            var: callee.served.var + network.var,
        });
        let time = if callee.down <= 0.0 && callee.hung <= 0.0 {
            served
        } else {
            let held = capped(Time {
                mean: self.cond.held_ns + callee.served.mean + network.mean,
                var: callee.served.var + network.var,
            });
            let live = 1.0 - callee.down - callee.hung;
            let mut m1 = 0.0;
            let mut m2 = 0.0;
            for (w, x) in [(live, served), (callee.hung, held)] {
                if w > 0.0 {
                    m1 += w * x.mean;
                    m2 += w * x.second_moment();
                }
            }
            Time::from_moments(m1, m2)
        };
        time.sometimes(call.probability)
    }

    fn publish(&mut self, (): (), step: &PublishStep) -> Time {
        let base = step.latency.as_ref().map_or(Time::ZERO, |d| Time {
            mean: d.mean_ns(),
            var: variance(d),
        });
        let (extra_mean, extra_var) = self.cond.broker_extra;
        let ack = Time {
            mean: base.mean + extra_mean,
            var: base.var + extra_var,
        };
        let unreachable = self.cond.unreachable(
            self.model,
            self.model.destination_index(step.to),
            step.keys.is_some(),
        );
        let time = match step.when_down {
            WhenDown::Wait(limit) if unreachable > 0.0 => {
                let wait = limit.map_or(self.cond.held_ns, |t| {
                    self.cond.held_ns.min(t.as_nanos() as f64)
                });
                let waiting = Time {
                    mean: wait + ack.mean,
                    var: ack.var,
                };
                Time::from_moments(
                    (1.0 - unreachable) * ack.mean + unreachable * waiting.mean,
                    (1.0 - unreachable) * ack.second_moment()
                        + unreachable * waiting.second_moment(),
                )
            }
            _ => ack,
        };
        time.sometimes(step.probability)
    }

    fn into_parallel((): (), _: f64) {}

    fn into_choice((): (), _: f64, _: f64) {}

    fn sequence(steps: impl Iterator<Item = Time>) -> Time {
        // Not `sum()`: the sum of no terms is −0 in Rust, which `check` printed as `-0.000`
        // for a service with nothing to do.
        steps.fold(Time::ZERO, |a, b| Time {
            mean: a.mean + b.mean,
            var: a.var + b.var,
        })
    }

    fn parallel(probability: f64, branches: impl Iterator<Item = Time>) -> Time {
        let branches: Vec<Time> = branches.collect();
        max_of(&branches).sometimes(probability)
    }

    fn choice(probability: f64, branches: impl Iterator<Item = (f64, Time)>) -> Time {
        let (mut m1, mut m2) = (0.0, 0.0);
        for (w, t) in branches {
            m1 += w * t.mean;
            m2 += w * t.second_moment();
        }
        Time::from_moments(probability * m1, probability * m2)
    }
}

/// Mean local work of one run of a block \[ns\], calls and publishes excluded: what a
/// non-blocking service holds a worker for.
///
/// **Formula.** Work is its mean (times `slowdown` during a `Slowdown` fault); a sequence
/// sums; a `Parallel` made with probability p adds p × the sum of its branches (each branch's
/// work runs on the worker); a `Choice`, p × Σ share × branch.
struct LocalWork {
    slowdown: f64,
}

impl StepFold for LocalWork {
    type Down = ();
    type Up = f64;

    fn work(&mut self, (): (), work: &Dist) -> f64 {
        work.mean_ns() * self.slowdown
    }

    fn call(&mut self, (): (), _: CallId, _: &CallEdge) -> f64 {
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
    let svc = model.service_at(service);
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
    let svc = model.service_at(service);
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
    let svc = model.service_at(service);
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
