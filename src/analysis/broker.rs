//! The broker: capacity, utilization and lag growth of consumer groups and work queues.
//!
//! Source: docs/semantics.md, *Kafka consumer groups* and *Work queues* (their *Analysis*
//! paragraphs), and *Queueing formulas* (M/M/c, Erlang C; Jackson networks).

use super::holding::Holding;
use super::queueing;
use super::timeline::Conditions;
use super::traffic::Traffic;
use super::{GroupAnalysis, QueueAnalysis, TopicAnalysis};
use crate::model::{Destination, Model, ServiceId, TopicId};

/// Per topic: its rate and, per consumer group, capacity and lag growth.
///
/// **Formula.** Partitions in use P = min(partitions, the largest key space of the topic's
/// publishers; unkeyed publishers use all); consumers used u = min(consumers, P); capacity =
/// u / mean processing time (the consumer waits for each message's whole processing: its
/// service's mean body time); ρ = rate / capacity; lag growth = max(rate − capacity, 0); the
/// same at the peak rate. During a fault only the consumers on replicas that serve count
/// (consumer i lives on replica i mod replicas), each at its replica's processing time, and
/// partitions without a leader are not consumed; while the broker cannot take a share u of
/// the messages (`BrokerDown`, or keyed messages of a leaderless partition) they wait in the
/// producers: lag growth = u·rate + max((1 − u)·rate − capacity, 0), the backlog the group
/// finds when the broker is back. Capacity is 0 while the broker is down.
///
/// **Assumptions.** Rates from the traffic equations at the mean entry rates; messages spread
/// evenly over the partitions in use; a crashed consumer's partitions are taken over at once
/// (the engine waits for `session_timeout` first).
///
/// **Example.** 1,200 messages/s into a group of one consumer taking 1 ms per message: capacity
/// 1,000/s, lag grows by 200/s (suite test `broker::lag_grows_at_arrival_rate_minus_capacity`).
pub(super) fn topics(
    model: &Model,
    traffic: &Traffic,
    holding: &Holding,
    cond: &Conditions,
) -> Vec<TopicAnalysis> {
    let (rate, peak) = (&traffic.destination_rate, &traffic.destination_peak);
    model
        .topics
        .iter()
        .enumerate()
        .map(|(t, topic)| {
            let publishers = || {
                model
                    .publishes
                    .iter()
                    .filter(move |p| p.to == Destination::Topic(TopicId(t as u32)))
            };
            // Partitions in use: all, unless every publisher keys its messages from a key
            // space smaller than the partition count.
            let keyed = publishers()
                .map(|p| p.keys.map_or(u64::MAX, |k| k))
                .max()
                .unwrap_or(u64::MAX);
            let partitions = u64::from(topic.partitions).min(keyed) as u32;
            let any_keyed = publishers().any(|p| p.keys.is_some());
            let held = cond.unreachable(model, t, any_keyed);
            TopicAnalysis {
                name: topic.name.clone(),
                rate_per_s: rate[t],
                peak_rate_per_s: peak[t],
                groups: topic
                    .subscribers
                    .iter()
                    .map(|sub| {
                        let (used, capacity) = if cond.faulty {
                            let usable = partitions.saturating_sub(cond.leaderless[t]);
                            consumer_capacity(
                                model,
                                holding,
                                cond,
                                sub.service,
                                sub.consumers,
                                usable,
                            )
                        } else {
                            let used = sub.consumers.min(partitions);
                            // A consumer waits for each message's whole processing; the queue
                            // in front of it is the partition, so its service time is the
                            // holding time.
                            let per_message_s = holding.body_ns[sub.service.0 as usize] / 1e9;
                            let capacity = if per_message_s > 0.0 {
                                f64::from(used) / per_message_s
                            } else {
                                f64::INFINITY
                            };
                            (used, capacity)
                        };
                        let growth = |r: f64| {
                            if held > 0.0 {
                                held * r + ((1.0 - held) * r - capacity).max(0.0)
                            } else {
                                (r - capacity).max(0.0)
                            }
                        };
                        GroupAnalysis {
                            service: model.service_at(sub.service).name.clone(),
                            consumers_used: used,
                            capacity_per_s: capacity,
                            utilization: rate[t] / capacity,
                            lag_growth_per_s: growth(rate[t]),
                            peak_utilization: peak[t] / capacity,
                            peak_lag_growth_per_s: growth(peak[t]),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// During a fault: the consumers of `service` that live on replicas that serve (consumer i
/// on replica i mod replicas), at most `partitions` of them, and the messages per second they
/// process together, each at its replica's mean processing time; 0 while the broker is down.
fn consumer_capacity(
    model: &Model,
    holding: &Holding,
    cond: &Conditions,
    service: ServiceId,
    consumers: u32,
    partitions: u32,
) -> (u32, f64) {
    if cond.broker_down {
        return (0, 0.0);
    }
    let replicas = model.service_at(service).replicas;
    let groups = &cond.services[service.0 as usize];
    let bodies = &holding.group_body_ns[service.0 as usize];
    let mut used = 0;
    let mut capacity = 0.0;
    for c in 0..consumers {
        if used >= partitions {
            break;
        }
        let replica = c % replicas;
        let Some(k) = groups
            .iter()
            .position(|g| replica >= g.first && replica < g.first + g.replicas)
        else {
            continue;
        };
        if let Some(body) = bodies[k] {
            used += 1;
            capacity += if body > 0.0 {
                1e9 / body
            } else {
                f64::INFINITY
            };
        }
    }
    (used, capacity)
}

/// Per work queue: concurrency, capacity, backlog growth and the mean sojourn.
///
/// **Formula.** Concurrency c = min(consumers × prefetch, replicas × workers) (prefetch 0:
/// replicas × workers); capacity = c / mean processing time; ρ = rate / capacity; backlog
/// growth = max(rate − capacity, 0), and the same at the peak rate; sojourn (send to
/// acknowledged) = the M/M/c sojourn W = C(c, a)/(cμ − λ) + 1/μ with μ = 1/mean processing
/// time. During a fault only the consumers and workers of replicas that serve count; while the
/// broker is down nothing is delivered (capacity 0) and the messages producers hold back are
/// the backlog's growth.
///
/// **Assumptions.** Poisson arrivals and exponential processing make the sojourn exact
/// (Jackson networks of queues included, by their product form); otherwise it is an estimate.
///
/// **Example.** 1,000 messages/s into 4 consumers of 2.8 ms exponential work: ρ = 0.7, W =
/// 3.8002 ms (each station of the reference model M2).
pub(super) fn queues(
    model: &Model,
    traffic: &Traffic,
    holding: &Holding,
    cond: &Conditions,
) -> Vec<QueueAnalysis> {
    model
        .queues
        .iter()
        .enumerate()
        .map(|(q, def)| {
            let svc = model.service_at(def.service);
            let (consumers, servers) = if cond.faulty {
                let groups = &cond.services[def.service.0 as usize];
                let serves = |r: u32| {
                    groups
                        .iter()
                        .any(|g| g.serves() && r >= g.first && r < g.first + g.replicas)
                };
                let live_replicas: u32 = groups
                    .iter()
                    .filter(|g| g.serves())
                    .map(|g| g.replicas)
                    .sum();
                let live_consumers = (0..def.consumers)
                    .filter(|c| serves(c % svc.replicas))
                    .count() as u32;
                (live_consumers, live_replicas.saturating_mul(svc.workers))
            } else {
                (def.consumers, svc.replicas.saturating_mul(svc.workers))
            };
            let concurrency = if cond.broker_down {
                0
            } else if def.prefetch == 0 {
                servers
            } else {
                consumers.saturating_mul(def.prefetch).min(servers)
            };
            let d = model.topics.len() + q;
            let (rate, peak) = (traffic.destination_rate[d], traffic.destination_peak[d]);
            let per_message_s = holding.body_ns[def.service.0 as usize] / 1e9;
            let capacity = if concurrency == 0 {
                0.0
            } else if per_message_s > 0.0 {
                f64::from(concurrency) / per_message_s
            } else {
                f64::INFINITY
            };
            let sojourn_ms = if concurrency == 0 {
                None
            } else if per_message_s > 0.0 && rate > 0.0 {
                queueing::mmc(concurrency, rate, 1.0 / per_message_s).map(|m| m.w * 1e3)
            } else {
                Some(per_message_s * 1e3)
            };
            QueueAnalysis {
                name: def.name.clone(),
                service: svc.name.clone(),
                rate_per_s: rate,
                peak_rate_per_s: peak,
                concurrency,
                capacity_per_s: capacity,
                utilization: rate / capacity,
                backlog_growth_per_s: (rate - capacity).max(0.0),
                peak_utilization: peak / capacity,
                peak_backlog_growth_per_s: (peak - capacity).max(0.0),
                sojourn_ms,
            }
        })
        .collect()
}
