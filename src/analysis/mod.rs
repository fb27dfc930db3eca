//! The analytic shadow: what theory predicts for a model before any simulation, and lints.
//!
//! * **Availability product** per entry point: a request succeeds when its service does not
//!   err and every *required* sync call below it succeeds, failures assumed independent
//!   (docs/semantics.md, *Availability*). A call made with probability p to a callee of
//!   availability A contributes 1 − p(1 − A); `on_failure: Ignore` calls contribute 1; a
//!   `Parallel` step is the product of its branches; a `Choice` the weighted mean. A service's
//!   availability has two parts: its replica being up (MTTF/(MTTF+MTTR), correlated in time)
//!   and answering without error (independent per attempt); retries multiply away the second,
//!   but the first only by reaching other replicas. Timeouts and rejections are not in the
//!   product: the gap between it and the simulation is what overload costs.
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
use crate::model::{BlockId, Destination, EntryTarget, Model, OnFailure, Op, ServiceId, TopicId};
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
    /// Warnings about the model.
    pub lints: Vec<Lint>,
}

/// Predictions for one topic of the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicAnalysis {
    /// Topic name.
    pub name: String,
    /// Messages published per second (traffic equations, mean entry rates).
    pub rate_per_s: f64,
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
    /// Availability of the call with its retries, 1 − (1 − a)^k, assuming independent
    /// attempts (not true in an outage: the simulation shows the difference).
    pub availability: f64,
    /// Expected attempts per call, (1 − (1 − a)^k)/a: the load multiplier on the callee.
    pub expected_attempts: f64,
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
    /// Most attempts one request can cause at a single service when every call on the way
    /// fails and retries: the product of the attempts along the worst path (3 × 3 × 3 = 27).
    pub max_amplification: f64,
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
    /// Own availability: (1 − error probability) × the probability that the replica a request
    /// reaches is up (MTTF/(MTTF+MTTR) from its failure process, if any; no health checks).
    pub availability: f64,
    /// Time-based availability from the failure process: 1 − (1 − A)^replicas with
    /// A = MTTF / (MTTF + MTTR); 1 without failures.
    pub time_availability: f64,
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
    let mut rel = vec![Rel { up: 1.0, ok: 1.0 }; n];
    for &s in &order {
        let svc = model.service(s);
        rel[s.0 as usize] = Rel {
            up: svc.failures.as_ref().map_or(1.0, |f| f.availability()),
            ok: (1.0 - svc.error_prob) * block_availability(model, svc.body, &rel),
        };
    }
    let avail: Vec<f64> = rel.iter().map(|r| r.total()).collect();

    // Traffic equations: callers first.
    let mut rate = vec![0.0; n];
    let mut peak = vec![0.0; n];
    // Messages external producers publish to each destination (topics, then queues).
    let topics_n = model.topics.len() + model.queues.len();
    let mut entry_messages = vec![0.0; topics_n];
    for e in &model.entries {
        match e.target {
            EntryTarget::Service(s) => {
                rate[s.0 as usize] += e.arrivals.mean_rate(from, to);
                peak[s.0 as usize] += e.arrivals.peak_rate(from, to);
            }
            EntryTarget::Broker(d) => {
                entry_messages[model.destination_index(d)] += e.arrivals.mean_rate(from, to);
            }
        }
    }
    // Messages a service publishes to each destination per request it serves, and the
    // services that consume each destination.
    let consumers_of: Vec<Vec<ServiceId>> = model
        .topics
        .iter()
        .map(|t| t.subscribers.iter().map(|s| s.service).collect())
        .chain(model.queues.iter().map(|q| vec![q.service]))
        .collect();
    let publishes: Vec<Vec<f64>> = (0..n)
        .map(|s| {
            let mut out = vec![0.0; topics_n];
            block_publishes(
                model,
                model.service(ServiceId(s as u32)).body,
                1.0,
                &mut out,
            );
            out
        })
        .collect();
    let (base_rate, base_peak) = (rate.clone(), peak.clone());
    let mut topic_rate = vec![0.0; topics_n];
    // How much each destination's rate grew in the last two passes (a flow that loops with
    // a return of one message per message or more grows by as much or more every pass).
    let (mut growth, mut prev_growth) = (vec![0.0; topics_n], vec![0.0; topics_n]);
    // Sync calls propagate within a pass; messages feed the subscribers of the next pass,
    // until the rates settle (async flows may loop; 64 passes bound the work).
    for _ in 0..64 {
        rate.clone_from(&base_rate);
        peak.clone_from(&base_peak);
        for (t, consumers) in consumers_of.iter().enumerate() {
            for s in consumers {
                rate[s.0 as usize] += topic_rate[t];
                peak[s.0 as usize] += topic_rate[t];
            }
        }
        for &s in order.iter().rev() {
            let mut visits = vec![0.0; n];
            block_visits(model, model.service(s).body, 1.0, &rel, &mut visits);
            let (r, p) = (rate[s.0 as usize], peak[s.0 as usize]);
            for (callee, v) in visits.iter().enumerate() {
                rate[callee] += r * v;
                peak[callee] += p * v;
            }
        }
        let next: Vec<f64> = (0..topics_n)
            .map(|t| entry_messages[t] + (0..n).map(|s| rate[s] * publishes[s][t]).sum::<f64>())
            .collect();
        let settled = next
            .iter()
            .zip(&topic_rate)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * a.abs().max(1.0));
        std::mem::swap(&mut growth, &mut prev_growth);
        for ((g, a), b) in growth.iter_mut().zip(&next).zip(&topic_rate) {
            *g = a - b;
        }
        topic_rate = next;
        if settled {
            break;
        }
    }

    // Holding and response times, callees first.
    let mut hold_ns = vec![0.0; n];
    let mut response_ns = vec![0.0; n];
    let mut services = Vec::with_capacity(n);
    for &s in &order {
        let i = s.0 as usize;
        let svc = model.service(s);
        let response = block_mean_ns(model, svc.body, &response_ns);
        // A non-blocking service holds a worker only for local work; its in-flight slots are
        // held for the whole response instead.
        let (h, servers) = match svc.max_in_flight {
            None => (response, f64::from(svc.replicas) * f64::from(svc.workers)),
            Some(_) => (
                block_work_ns(model, svc.body),
                f64::from(svc.replicas) * f64::from(svc.workers),
            ),
        };
        hold_ns[i] = response;
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
        response_ns[i] = response + wait_ns;
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
                availability: own_availability(model, s),
                time_availability: svc
                    .failures
                    .as_ref()
                    .map_or(1.0, |f| f.any_up(svc.replicas)),
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
            let service = e.target.service();
            if let Some(s) = service {
                required_services(model, s, &mut required);
            }
            EntryAnalysis {
                name: e.name.clone(),
                rate_per_s: e.arrivals.mean_rate(from, to),
                // A message to the broker is one attempt, and the broker is always up
                // unless a fault says otherwise (the shadow has no broker faults).
                max_amplification: service.map_or(1.0, |s| max_amplification(model, s)),
                availability: service.map_or(1.0, |s| avail[s.0 as usize]),
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

    lint_retries(model, &rate, &mut lints);
    lint_message_cycles(model, &topic_rate, &growth, &prev_growth, &mut lints);

    let topics: Vec<TopicAnalysis> = model
        .topics
        .iter()
        .enumerate()
        .map(|(t, topic)| TopicAnalysis {
            name: topic.name.clone(),
            rate_per_s: topic_rate[t],
            groups: topic
                .subscribers
                .iter()
                .map(|sub| {
                    // Partitions in use: all, unless every publisher keys its messages from
                    // a key space smaller than the partition count.
                    let keyed = model
                        .publishes
                        .iter()
                        .filter(|p| p.to == Destination::Topic(TopicId(t as u32)))
                        .map(|p| p.keys.map_or(u64::MAX, |k| k))
                        .max()
                        .unwrap_or(u64::MAX);
                    let partitions = u64::from(topic.partitions).min(keyed) as u32;
                    let used = sub.consumers.min(partitions);
                    // A consumer waits for each message's whole processing; the queue in
                    // front of it is the partition, so its service time is the holding time.
                    let per_message_s = hold_ns[sub.service.0 as usize] / 1e9;
                    let capacity = if per_message_s > 0.0 {
                        f64::from(used) / per_message_s
                    } else {
                        f64::INFINITY
                    };
                    GroupAnalysis {
                        service: model.service(sub.service).name.clone(),
                        consumers_used: used,
                        capacity_per_s: capacity,
                        utilization: topic_rate[t] / capacity,
                        lag_growth_per_s: (topic_rate[t] - capacity).max(0.0),
                    }
                })
                .collect(),
        })
        .collect();
    for (topic, a) in model.topics.iter().zip(&topics) {
        for (k, (sub, g)) in topic.subscribers.iter().zip(&a.groups).enumerate() {
            let path = format!("topics[{}].subscribers[{k}]", topic.name);
            if sub.consumers > topic.partitions {
                lints.push(Lint {
                    level: LintLevel::Warning,
                    code: "idle-consumers".into(),
                    path: format!("{path}.consumers"),
                    message: format!(
                        "{} consumers for {} partitions: {} of them will idle (at most one consumer per partition). Add partitions or remove consumers",
                        sub.consumers,
                        topic.partitions,
                        sub.consumers - topic.partitions
                    ),
                });
            }
            let errs = 1.0 - rel[sub.service.0 as usize].total();
            if !sub.dead_letter && errs > 0.0 {
                lints.push(Lint {
                    level: LintLevel::Warning,
                    code: "blocking-on-errors".into(),
                    path: format!("{path}.on_exhausted"),
                    message: format!(
                        "`{}` fails about {:.2} % of messages and has no dead-letter topic (on_exhausted: Block): each failure that outlasts {} attempts stops its partition until it succeeds. Dead-letter instead, or expect head-of-line blocking",
                        g.service,
                        100.0 * errs,
                        sub.max_attempts
                    ),
                });
            }
            if g.lag_growth_per_s > 0.0 {
                let expire = match topic.retention {
                    Some(r) => format!(
                        ", and with a retention of {r} unconsumed messages will expire (lost)"
                    ),
                    None => String::new(),
                };
                lints.push(Lint {
                    level: LintLevel::Warning,
                    code: "lag-grows".into(),
                    path,
                    message: format!(
                        "`{}` receives {:.1} messages/s but its group processes about {:.1}/s: lag grows by {:.1} messages/s{expire}",
                        g.service, a.rate_per_s, g.capacity_per_s, g.lag_growth_per_s
                    ),
                });
            }
        }
    }

    let queues: Vec<QueueAnalysis> = model
        .queues
        .iter()
        .enumerate()
        .map(|(q, def)| {
            let svc = model.service(def.service);
            let servers = svc.replicas.saturating_mul(svc.workers);
            let concurrency = if def.prefetch == 0 {
                servers
            } else {
                def.consumers.saturating_mul(def.prefetch).min(servers)
            };
            let rate = topic_rate[model.topics.len() + q];
            let per_message_s = hold_ns[def.service.0 as usize] / 1e9;
            let capacity = if per_message_s > 0.0 {
                f64::from(concurrency) / per_message_s
            } else {
                f64::INFINITY
            };
            let sojourn_ms = if per_message_s > 0.0 && rate > 0.0 {
                queueing::mmc(concurrency, rate, 1.0 / per_message_s).map(|m| m.w * 1e3)
            } else {
                Some(per_message_s * 1e3)
            };
            QueueAnalysis {
                name: def.name.clone(),
                service: svc.name.clone(),
                rate_per_s: rate,
                concurrency,
                capacity_per_s: capacity,
                utilization: rate / capacity,
                backlog_growth_per_s: (rate - capacity).max(0.0),
                sojourn_ms,
            }
        })
        .collect();
    for a in &queues {
        if a.backlog_growth_per_s > 0.0 {
            lints.push(Lint {
                level: LintLevel::Warning,
                code: "lag-grows".into(),
                path: format!("queues[{}]", a.name),
                message: format!(
                    "`{}` receives {:.1} messages/s but its consumers process about {:.1}/s: the backlog grows by {:.1} messages/s. Add consumers (or prefetch), or workers",
                    a.name, a.rate_per_s, a.capacity_per_s, a.backlog_growth_per_s
                ),
            });
        }
    }

    let calls = model
        .calls
        .iter()
        .map(|c| CallAnalysis {
            from: model.service(c.from).name.clone(),
            to: model.service(c.to).name.clone(),
            attempts: c.retry.as_ref().map_or(1, |r| r.attempts),
            attempt_availability: avail[c.to.0 as usize],
            availability: call_availability(model, c, &rel),
            expected_attempts: expected_attempts(c, &rel),
        })
        .collect();

    Analysis {
        entries,
        services,
        calls,
        topics,
        queues,
        lints,
    }
}

/// (1 − error probability) × the probability that the replica a request reaches is up.
/// A destination whose rate grew, in the last pass of the traffic equations, by at least as
/// much as in the pass before is on a message cycle that returns at least one message per
/// message: every message sent there comes back for ever (a consumer that sends each message
/// back to its own queue, say). Such a flow has no finite rate, and a run simulates an
/// ever-growing number of messages going round, which costs events without end (with
/// processing that takes no time, at one instant: the Zeno guard stops that). A flow that
/// returns fewer messages than it takes shrinks its growth every pass and is left alone.
fn lint_message_cycles(
    model: &Model,
    rate: &[f64],
    growth: &[f64],
    prev_growth: &[f64],
    lints: &mut Vec<Lint>,
) {
    for (d, ((&r, &g), &prev)) in rate.iter().zip(growth).zip(prev_growth).enumerate() {
        if g <= 1e-9 * r.abs().max(1.0) || g < prev * (1.0 - 1e-6) {
            continue;
        }
        let (path, what) = match d.checked_sub(model.topics.len()) {
            None => (
                format!("topics[{}]", model.topics[d].name),
                format!("topic `{}`", model.topics[d].name),
            ),
            Some(q) => (
                format!("queues[{}]", model.queues[q].name),
                format!("work queue `{}`", model.queues[q].name),
            ),
        };
        lints.push(Lint {
            level: LintLevel::Warning,
            code: "message-cycle".into(),
            path,
            message: format!(
                "messages sent to {what} come back for ever: processing one sends at least one more round the same cycle, so its rate has no finite value (still growing by {g:.1}/s per pass of the traffic equations; the loads shown are not limits) and every message circulates until the run ends. Give a step of the cycle a `probability` below 1"
            ),
        });
    }
}

fn own_availability(model: &Model, s: ServiceId) -> f64 {
    let svc = model.service(s);
    (1.0 - svc.error_prob) * svc.failures.as_ref().map_or(1.0, |f| f.availability())
}

/// Attempts of a call step (1 without retries).
fn attempts_of(call: &crate::model::CallEdge) -> f64 {
    call.retry.as_ref().map_or(1.0, |r| f64::from(r.attempts))
}

/// Largest product of attempts along any call path from `s` (1 when it calls nothing).
fn max_amplification(model: &Model, s: ServiceId) -> f64 {
    amplification(model, s, attempts_of)
}

/// Like [`max_amplification`], counting `attempts(call)` per call step.
fn amplification(model: &Model, s: ServiceId, attempts: fn(&crate::model::CallEdge) -> f64) -> f64 {
    fn walk(
        model: &Model,
        s: ServiceId,
        attempts: fn(&crate::model::CallEdge) -> f64,
        memo: &mut Vec<Option<f64>>,
    ) -> f64 {
        if let Some(v) = memo[s.0 as usize] {
            return v;
        }
        let best = model
            .calls
            .iter()
            .filter(|c| c.from == s)
            .map(|c| attempts(c) * walk(model, c.to, attempts, memo))
            .fold(1.0, f64::max);
        memo[s.0 as usize] = Some(best);
        best
    }
    walk(model, s, attempts, &mut vec![None; model.services.len()])
}

/// Longest a call step can keep its caller waiting: every attempt times out and every
/// backoff sleeps its longest \[ns\]; infinite without a timeout.
fn worst_case_call_ns(call: &crate::model::CallEdge) -> f64 {
    let Some(t) = call.timeout else {
        return f64::INFINITY;
    };
    let network = 2.0 * call.latency.as_ref().map_or(0.0, Dist::mean_ns);
    match &call.retry {
        None => t.as_nanos() as f64 + network,
        Some(r) => {
            let sleeps: f64 = (1..r.attempts)
                .map(|k| r.backoff.delay(k).as_nanos() as f64)
                .sum();
            f64::from(r.attempts) * (t.as_nanos() as f64 + network) + sleeps
        }
    }
}

/// Lints about retries, timeouts across layers and breakers.
fn lint_retries(model: &Model, rate: &[f64], lints: &mut Vec<Lint>) {
    // Timeout inversion: a caller gives up before its callee has finished retrying.
    for outer in &model.calls {
        let Some(t) = outer.timeout else { continue };
        for inner in model.calls.iter().filter(|c| c.from == outer.to) {
            let worst = worst_case_call_ns(inner);
            if inner.retry.is_some() && worst.is_finite() && (t.as_nanos() as f64) < worst {
                lints.push(Lint {
                    level: LintLevel::Warning,
                    code: "timeout-inversion".into(),
                    path: format!("{}.timeout", outer.path),
                    message: format!(
                        "`{}` gives up on `{}` after {t}, but `{}` may spend {:.0} ms on `{}` ({} attempts × timeout + backoffs): its retries run on for a caller that has left — orphaned work. Make the caller's timeout longer than the callee's worst case, or propagate deadlines",
                        model.service(outer.from).name,
                        model.service(outer.to).name,
                        model.service(inner.from).name,
                        worst / 1e6,
                        model.service(inner.to).name,
                        inner.retry.as_ref().map_or(1, |r| r.attempts)
                    ),
                });
            }
        }
    }
    // Retry amplification without a budget: retries at two or more layers multiply.
    for e in &model.entries {
        let Some(service) = e.target.service() else {
            continue;
        };
        // A budget bounds the retries of its step, so only unbudgeted steps multiply freely.
        let amp = amplification(model, service, |c| match &c.retry {
            Some(r) if r.budget.is_none() => f64::from(r.attempts),
            _ => 1.0,
        });
        if amp >= 8.0 {
            lints.push(Lint {
                level: LintLevel::Warning,
                code: "retry-amplification".into(),
                path: format!("workload[{}]", e.name),
                message: format!(
                    "one request can cause up to {amp:.0} attempts at one service (retries multiply across layers) and no retry budget bounds them: a short slowdown can become a retry storm. Retry at one layer, or add `budget:` to the retries"
                ),
            });
        }
    }
    // A time-window breaker that cannot gather its minimum calls at the expected rate.
    for call in &model.calls {
        let Some(b) = &call.breaker else { continue };
        if let crate::call::breaker::Window::Time(secs) = b.window {
            let caller = model.service(call.from);
            let per_replica = rate[call.from.0 as usize] * call.probability * f64::from(secs)
                / f64::from(caller.replicas);
            if per_replica < f64::from(b.minimum_calls) {
                lints.push(Lint {
                    level: LintLevel::Warning,
                    code: "breaker-never-decides".into(),
                    path: format!("{}.breaker.min_calls", call.path),
                    message: format!(
                        "each caller replica makes about {per_replica:.1} calls in the {secs} s window, fewer than min_calls = {}: the breaker can never open. Lower min_calls or widen the window",
                        b.minimum_calls
                    ),
                });
            }
        }
    }
    // Breaker windows that would take gigabytes once full: one breaker per caller replica.
    let run_s = model.run.duration.as_nanos() as f64 / 1e9;
    for call in &model.calls {
        let Some(b) = &call.breaker else { continue };
        let replicas = model.service(call.from).replicas;
        let full = u64::from(replicas) * b.full_window_bytes();
        if full < BREAKER_MEMORY_LINT_BYTES {
            continue;
        }
        let per_replica =
            rate[call.from.0 as usize] * call.probability * run_s / f64::from(replicas);
        let this_run = f64::from(replicas) * b.window_bytes_after(per_replica, run_s);
        lints.push(Lint {
            level: LintLevel::Warning,
            code: "breaker-memory".into(),
            path: format!("{}.breaker.window", call.path),
            message: format!(
                "{replicas} caller replicas each keep a breaker whose windows hold up to {} once full: {} in all. The windows grow as calls arrive (this run, at about {} calls per replica, fills about {}), but a longer or busier run can exhaust memory. Use a smaller window (resilience4j's default is Count(100)) or fewer replicas",
                bytes_text(b.full_window_bytes() as f64),
                bytes_text(full as f64),
                if per_replica < 10.0 {
                    format!("{per_replica:.2}")
                } else {
                    format!("{per_replica:.0}")
                },
                bytes_text(this_run)
            ),
        });
    }
    // Failure processes too rare to show in the run.
    let run_ns = model.run.duration.as_nanos() as f64;
    for svc in &model.services {
        if let Some(f) = &svc.failures {
            let expected = run_ns / (f.mttf_ns() + f.mttr_ns()) * f64::from(svc.replicas);
            if expected < 1.0 {
                lints.push(Lint {
                    level: LintLevel::Warning,
                    code: "failures-unlikely".into(),
                    path: format!("services[{}].failures", svc.name),
                    message: format!(
                        "about {expected:.2} failures are expected over the run (MTTF {:.0} s, run {:.0} s, {} replicas): lengthen the run to see failures, or shorten mttf",
                        f.mttf_ns() / 1e9,
                        run_ns / 1e9,
                        svc.replicas
                    ),
                });
            }
        }
    }
}

/// Breaker windows of one call step (all caller replicas, once full) above this many bytes
/// get a `breaker-memory` lint.
pub const BREAKER_MEMORY_LINT_BYTES: u64 = 1_000_000_000;

/// A byte count for a message: `512 B`, `3.2 kB`, `10.0 GB` (powers of 1000).
fn bytes_text(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1e3 {
        return format!("{bytes:.0} B");
    }
    let mut v = bytes / 1e3;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1e3 {
            break;
        }
        v /= 1e3;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Services ordered so that every callee comes before its callers.
fn topological_callees_first(model: &Model) -> Vec<ServiceId> {
    match petgraph::algo::toposort(&model.graph, None) {
        Ok(order) => order.into_iter().rev().map(|n| model.graph[n]).collect(),
        // Compiled models are acyclic; fall back to file order rather than panic.
        Err(_) => (0..model.services.len() as u32).map(ServiceId).collect(),
    }
}

fn block_availability(model: &Model, block: BlockId, avail: &[Rel]) -> f64 {
    model
        .block(block)
        .iter()
        .map(|op| match op {
            // A publish needs only the broker's acknowledgement, not its consumers.
            Op::Work(_) | Op::Publish(_) => 1.0,
            Op::Call(c) => {
                let call = &model.calls[c.0 as usize];
                match call.on_failure {
                    OnFailure::Ignore | OnFailure::Fallback(_) => 1.0,
                    OnFailure::Fail => {
                        1.0 - call.probability * (1.0 - call_availability(model, call, avail))
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
/// Never negative, even if the cumulative values were not monotone: a share of −2⁻⁵² would
/// print as `-0.000` and make no sense as a probability.
fn branch_weights(branches: &[(f64, BlockId)]) -> impl Iterator<Item = (f64, BlockId)> + '_ {
    branches.iter().scan(0.0, |prev, &(cum, b)| {
        let w = (cum - *prev).max(0.0);
        *prev = prev.max(cum);
        Some((w, b))
    })
}

/// How reliable a service is, in two parts that retries treat differently.
#[derive(Clone, Copy, Debug)]
struct Rel {
    /// Probability that the replica a request reaches is up (MTTF/(MTTF+MTTR) per replica;
    /// the balancer has no health checks). Correlated in time: retrying the same replica
    /// during an outage does not help.
    up: f64,
    /// Probability that an up replica answers without error, its required calls included:
    /// independent per attempt, so retries help.
    ok: f64,
}

impl Rel {
    fn total(self) -> f64 {
        self.up * self.ok
    }
}

/// Availability of a call with its retries. Errors are independent per attempt, so they
/// fail k attempts with probability (1 − ok)^k (docs/semantics.md, *Availability*). An outage
/// of the replica is not: retries help against it only by reaching other replicas
/// (`other_replica`, and only when `Unavailable` is retried), up to min(k, replicas) distinct
/// ones, each up with probability `up`. Without retries this is `up × ok`.
fn call_availability(model: &Model, call: &crate::model::CallEdge, rel: &[Rel]) -> f64 {
    let r = rel[call.to.0 as usize];
    let Some(policy) = &call.retry else {
        return r.total();
    };
    let k = policy.attempts as i32;
    let ok = if policy.retry_on[crate::outcome::Outcome::Error.index()] {
        1.0 - (1.0 - r.ok).powi(k)
    } else {
        r.ok
    };
    let replicas = model.service(call.to).replicas as i32;
    let up = if policy.other_replica
        && policy.retry_on[crate::outcome::Outcome::Unavailable.index()]
        && replicas > 1
    {
        1.0 - (1.0 - r.up).powi(k.min(replicas))
    } else {
        r.up
    };
    up * ok
}

/// Expected attempts per call: (1 − (1 − a)^k) / a for k attempts with per-attempt success
/// a (docs/semantics.md, *Availability*), when errors are retried; k when the callee is fully down.
fn expected_attempts(call: &crate::model::CallEdge, rel: &[Rel]) -> f64 {
    let a = rel[call.to.0 as usize].total();
    match &call.retry {
        Some(r) if r.retry_on[crate::outcome::Outcome::Error.index()] => {
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
fn block_visits(model: &Model, block: BlockId, weight: f64, avail: &[Rel], visits: &mut [f64]) {
    for op in model.block(block) {
        match op {
            Op::Work(_) | Op::Publish(_) => {}
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
            Op::Publish(p) => {
                let step = model.publish(*p);
                step.probability * step.latency.as_ref().map_or(0.0, Dist::mean_ns)
            }
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
                        .fold(0.0, |a, b| a + b)
            }
        })
        // Not `sum()`: the sum of no terms is −0 in Rust, which `check` printed as
        // `-0.000` for a service with nothing to do.
        .fold(0.0, |a, b| a + b)
}

/// Adds `weight` × the expected messages published per execution of `block` to each topic.
fn block_publishes(model: &Model, block: BlockId, weight: f64, out: &mut [f64]) {
    for op in model.block(block) {
        match op {
            Op::Publish(p) => {
                let step = model.publish(*p);
                out[model.destination_index(step.to)] += weight * step.probability;
            }
            Op::Work(_) | Op::Call(_) => {}
            Op::Parallel {
                branches,
                probability,
            } => {
                for b in branches.iter() {
                    block_publishes(model, *b, weight * probability, out);
                }
            }
            Op::Choice {
                branches,
                probability,
            } => {
                for (w, b) in branch_weights(branches) {
                    block_publishes(model, b, weight * probability * w, out);
                }
            }
        }
    }
}

/// Mean local work of one execution of `block` \[ns\] (calls excluded).
fn block_work_ns(model: &Model, block: BlockId) -> f64 {
    model
        .block(block)
        .iter()
        .map(|op| match op {
            Op::Work(d) => d.mean_ns(),
            Op::Call(_) | Op::Publish(_) => 0.0,
            Op::Parallel {
                branches,
                probability,
            } => {
                probability
                    * branches
                        .iter()
                        .map(|b| block_work_ns(model, *b))
                        .fold(0.0, |a, b| a + b)
            }
            Op::Choice {
                branches,
                probability,
            } => {
                probability
                    * branch_weights(branches)
                        .map(|(w, b)| w * block_work_ns(model, b))
                        .fold(0.0, |a, b| a + b)
            }
        })
        // Not `sum()`: the sum of no terms is −0 in Rust, which `check` printed as
        // `-0.000` for a service with nothing to do.
        .fold(0.0, |a, b| a + b)
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
    // Messages reach a consumer's service one (or prefetch) at a time: its own queue is not
    // the M/M/c line (the broker is; see the topics and queues predictions).
    let consumes = model
        .topics
        .iter()
        .any(|t| t.subscribers.iter().any(|s| s.service == service))
        || model.queues.iter().any(|q| q.service == service);
    if consumes {
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

#[cfg(test)]
mod tests {
    use super::*;

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
