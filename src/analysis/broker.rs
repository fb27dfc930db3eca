//! The broker: capacity, utilization and lag growth of consumer groups and work queues.
//!
//! Source: docs/semantics.md, *Kafka consumer groups* and *Work queues* (their *Analysis*
//! paragraphs), and *Queueing formulas* (M/M/c, Erlang C; Jackson networks).

use super::queueing;
use super::traffic::Traffic;
use super::{GroupAnalysis, QueueAnalysis, TopicAnalysis};
use crate::model::{Destination, Model};

/// Per topic: its rate and, per consumer group, capacity and lag growth.
///
/// **Formula.** Partitions in use P = min(partitions, the largest key space of the topic's
/// publishers; unkeyed publishers use all); consumers used u = min(consumers, P); capacity =
/// u / mean processing time (the consumer waits for each message's whole processing: its
/// service's mean body time); ρ = rate / capacity; lag growth = max(rate − capacity, 0); the
/// same at the peak rate.
///
/// **Assumptions.** Rates from the traffic equations at the mean entry rates; messages spread
/// evenly over the partitions in use.
///
/// **Example.** 1,200 messages/s into a group of one consumer taking 1 ms per message: capacity
/// 1,000/s, lag grows by 200/s (suite test `broker::lag_grows_at_arrival_rate_minus_capacity`).
pub(super) fn topics(model: &Model, traffic: &Traffic, body_ns: &[f64]) -> Vec<TopicAnalysis> {
    let (rate, peak) = (&traffic.destination_rate, &traffic.destination_peak);
    model
        .topics
        .iter()
        .enumerate()
        .map(|(t, topic)| TopicAnalysis {
            name: topic.name.clone(),
            rate_per_s: rate[t],
            peak_rate_per_s: peak[t],
            groups: topic
                .subscribers
                .iter()
                .map(|sub| {
                    // Partitions in use: all, unless every publisher keys its messages from
                    // a key space smaller than the partition count.
                    let keyed = model
                        .publishes
                        .iter()
                        .filter(|p| p.to == Destination::Topic(t as u32))
                        .map(|p| p.keys.map_or(u64::MAX, |k| k))
                        .max()
                        .unwrap_or(u64::MAX);
                    let partitions = u64::from(topic.partitions).min(keyed) as u32;
                    let used = sub.consumers.min(partitions);
                    // A consumer waits for each message's whole processing; the queue in
                    // front of it is the partition, so its service time is the holding time.
                    let per_message_s = body_ns[sub.service.0 as usize] / 1e9;
                    let capacity = if per_message_s > 0.0 {
                        f64::from(used) / per_message_s
                    } else {
                        f64::INFINITY
                    };
                    GroupAnalysis {
                        service: model.service(sub.service).name.clone(),
                        consumers_used: used,
                        capacity_per_s: capacity,
                        utilization: rate[t] / capacity,
                        lag_growth_per_s: (rate[t] - capacity).max(0.0),
                        peak_utilization: peak[t] / capacity,
                        peak_lag_growth_per_s: (peak[t] - capacity).max(0.0),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Per work queue: concurrency, capacity, backlog growth and the mean sojourn.
///
/// **Formula.** Concurrency c = min(consumers × prefetch, replicas × workers) (prefetch 0:
/// replicas × workers); capacity = c / mean processing time; ρ = rate / capacity; backlog
/// growth = max(rate − capacity, 0), and the same at the peak rate; sojourn (send to acknowledged) = the M/M/c sojourn
/// W = C(c, a)/(cμ − λ) + 1/μ with μ = 1/mean processing time.
///
/// **Assumptions.** Poisson arrivals and exponential processing make the sojourn exact
/// (Jackson networks of queues included, by their product form); otherwise it is an estimate.
///
/// **Example.** 1,000 messages/s into 4 consumers of 2.8 ms exponential work: ρ = 0.7, W =
/// 3.8002 ms (each station of the reference model M2).
pub(super) fn queues(model: &Model, traffic: &Traffic, body_ns: &[f64]) -> Vec<QueueAnalysis> {
    model
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
            let d = model.topics.len() + q;
            let (rate, peak) = (traffic.destination_rate[d], traffic.destination_peak[d]);
            let per_message_s = body_ns[def.service.0 as usize] / 1e9;
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
