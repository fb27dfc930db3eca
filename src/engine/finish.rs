//! Turning the state of a finished run into its [`Measurements`].

use super::*;
use crate::metrics::compact::CompactHistogram;

impl<'m> Simulation<'m> {
    pub(super) fn into_measurements(mut self) -> Measurements {
        if self.drain {
            // The run ended when the last request did (or at the drain cap).
            self.end = self.now.max(self.arrivals_end).min(self.end);
        }
        let end = self.end;
        self.pass_marks(end);
        if !self.warm_done {
            self.end_warmup();
        }
        // The last (possibly partial) bucket.
        self.close_bucket(end);
        self.now = end;
        let measured_ns = (end - self.warmup) as f64;
        let measured_s = measured_ns / 1e9;
        let model = self.model;

        let entries = self
            .entries
            .iter()
            .zip(&model.entries)
            .map(|(e, m)| {
                let outcomes = Outcomes::from_counts(&e.outcomes);
                let answered = outcomes.total();
                let availability = if answered == 0 {
                    0.0
                } else {
                    outcomes.available() as f64 / answered as f64
                };
                EntryReport {
                    name: m.name.clone(),
                    service: match m.target {
                        EntryTarget::Service(s) => model.service_at(s).name.clone(),
                        EntryTarget::Broker(Destination::Topic(t)) => {
                            model.topics[t as usize].name.clone()
                        }
                        EntryTarget::Broker(Destination::Queue(q)) => {
                            model.queues[q as usize].name.clone()
                        }
                    },
                    target: match m.target {
                        EntryTarget::Service(_) => TargetKind::Service,
                        EntryTarget::Broker(Destination::Topic(_)) => TargetKind::Topic,
                        EntryTarget::Broker(Destination::Queue(_)) => TargetKind::Queue,
                    },
                    offered: e.offered,
                    outcomes,
                    in_flight: e.offered.saturating_sub(answered),
                    availability,
                    availability_se: if answered == 0 {
                        0.0
                    } else {
                        (availability * (1.0 - availability) / answered as f64).sqrt()
                    },
                    throughput_per_s: answered as f64 / measured_s,
                    goodput_per_s: outcomes.ok as f64 / measured_s,
                    latency: e.latency.summary(),
                    latency_cdf: e.latency.cdf(),
                    latency_histogram: CompactHistogram::of(&e.latency),
                }
            })
            .collect();

        let services = self
            .services
            .iter()
            .zip(&model.services)
            .enumerate()
            .map(|(idx, (s, m))| {
                let mean =
                    |avg: &TimeAverage, warm: u128| (avg.area_at(end) - warm) as f64 / measured_ns;
                let busy = mean(&s.busy, s.warm_area[1]);
                ServiceReport {
                    name: m.name.clone(),
                    replicas: m.replicas,
                    workers: m.workers,
                    arrivals: s.arrivals,
                    rejected: s.rejected,
                    unavailable: s.unavailable,
                    expired: s.expired,
                    cancelled: s.cancelled,
                    occupancy: s
                        .occupancy
                        .iter()
                        .zip(&s.occupancy_warm)
                        .zip(&self.occupancy_labels[idx])
                        .map(|((occ, &warm), label)| Occupancy {
                            state: label.clone(),
                            workers: mean(occ, warm),
                        })
                        .collect(),
                    time_availability: s.uptime.totals(SimTime(end)).any_up_fraction(),
                    replica_availability: s.uptime.totals(SimTime(end)).replica_fraction(),
                    outcomes: Outcomes::from_counts(&s.outcomes),
                    utilization: busy / (f64::from(m.replicas) * f64::from(m.workers)),
                    mean_busy_workers: busy,
                    mean_queue: mean(&s.queue, s.warm_area[0]),
                    max_queue: s.queue.max(),
                    mean_in_system: mean(&s.in_system, s.warm_area[2]),
                    latency: s.latency.summary(),
                    orphaned: s.orphaned,
                    orphaned_work_s: s.orphaned_ns as f64 / 1e9,
                }
            })
            .collect();

        let calls = self
            .calls
            .iter()
            .zip(&model.calls)
            .map(|(c, m)| CallReport {
                from: model.service_at(m.from).name.clone(),
                to: model.service_at(m.to).name.clone(),
                step: m.path.clone(),
                calls: c.calls,
                in_flight: c.calls.saturating_sub(c.outcomes.iter().sum::<u64>()),
                attempts: c.attempts,
                amplification: if c.calls == 0 {
                    0.0
                } else {
                    c.attempts as f64 / c.calls as f64
                },
                retries: c.retries,
                retries_denied: c.retries_denied,
                outcomes: Outcomes::from_counts(&c.outcomes),
                latency: c.latency.summary(),
                breaker: m.breaker.as_ref().map(|_| breaker_report(c, end)),
                bulkhead_rejections: c.bulkhead_rejections,
            })
            .collect();

        let (topics, topic_series) = self.broker_report(end);
        let (queues, queue_series) = self.queue_report(end);
        Measurements {
            topology: model.name.clone(),
            seed: self.seed,
            duration_s: end as f64 / 1e9,
            warmup_s: self.warmup as f64 / 1e9,
            events: self.events,
            entries,
            services,
            calls,
            topics,
            queues,
            publishes: self.publish_report(),
            faults: model
                .faults
                .iter()
                .map(|f| FaultWindow {
                    label: f.label.clone(),
                    start_s: f.start.as_secs_f64(),
                    end_s: f.end.as_secs_f64(),
                })
                .collect(),
            series: Series {
                bucket_s: self.bucket as f64 / 1e9,
                entries: self.entries.into_iter().map(|e| e.series).collect(),
                services: self.services.into_iter().map(|s| s.series).collect(),
                calls: self.calls.into_iter().map(|c| c.series).collect(),
                topics: topic_series,
                queues: queue_series,
            },
        }
    }
}

/// Sums the breakers of one call step over its caller replicas.
fn breaker_report(c: &CallState, end: u64) -> BreakerReport {
    let mut r = BreakerReport {
        not_permitted: c.not_permitted,
        ..Default::default()
    };
    for (replica, e) in c.per_replica.iter().enumerate() {
        let Some(b) = &e.breaker else { continue };
        let [closed, open, half] = b.time_in_states(SimTime(end));
        r.closed_s += closed.as_secs_f64();
        r.open_s += open.as_secs_f64();
        r.half_open_s += half.as_secs_f64();
        r.transitions += b.transitions();
        r.log.extend(b.log().iter().map(|t| BreakerTransition {
            at_s: t.at.as_secs_f64(),
            replica: replica as u32,
            from: t.from.name().to_string(),
            to: t.to.name().to_string(),
        }));
    }
    r.log
        .sort_by(|a, b| a.at_s.total_cmp(&b.at_s).then(a.replica.cmp(&b.replica)));
    r
}
