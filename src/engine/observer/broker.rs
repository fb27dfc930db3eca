//! Facts about the broker: messages published, consumer groups processing them, work
//! queues delivering and acknowledging them, and what producers did during outages. Lag,
//! depth and age are levels of the broker's state, sampled at every bucket boundary.

use super::Observer;
use crate::engine::broker::queues::QueueState;
use crate::engine::broker::topics::TopicState;
use crate::engine::measurements::{
    GroupReport, PublishReport, QueueReport, QueueSeries, TopicReport, TopicSeries,
};
use crate::metrics::LatencyHistogram;
use crate::model::{Destination, Model, PublishId, QueueId, Topic, TopicId};
use crate::time::SimTime;

/// The measurements of one topic.
pub(super) struct TopicObs {
    /// Messages published over the whole run.
    produced: u64,
    groups: Vec<GroupObs>,
}

/// The measurements of one consumer group.
struct GroupObs {
    /// Attempts of messages that failed (each retried or given up).
    failed: u64,
    /// Retries of failed messages.
    retries: u64,
    /// Deliveries skipped by idempotent consumers (already processed).
    skipped: u64,
    /// Publish to processed, for messages published after the warm-up.
    latency: LatencyHistogram,
    max_lag: u64,
    /// Per partition, the largest lag seen at a bucket end.
    max_partition_lag: Vec<u64>,
    max_time_lag: u64,
    series_lag: Vec<u64>,
    series_time_lag: Vec<f64>,
}

/// The measurements of one work queue.
#[derive(Default)]
pub(super) struct QueueObs {
    /// Processing attempts that failed.
    failed: u64,
    /// Processings whose acknowledgement came after the visibility timeout: the message was
    /// (or will be) processed again.
    duplicates: u64,
    /// Send to acknowledged, for messages sent after the warm-up.
    latency: LatencyHistogram,
    max_depth: u64,
    max_age: u64,
    series_depth: Vec<u64>,
    series_age: Vec<f64>,
}

/// What became of one publish step's messages (over the whole run).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PublishObs {
    /// Messages the broker stored.
    published: u64,
    /// Publishes that failed (broker down with `Fail`, or a full buffer).
    failed: u64,
    /// Producers that gave up waiting for the broker.
    timed_out: u64,
    /// Messages that went through the producer's buffer.
    buffered: u64,
    /// Most messages in the buffer at once.
    max_buffered: u64,
    /// Producers that waited for the broker.
    waited: u64,
}

impl TopicObs {
    pub(super) fn new(topic: &Topic) -> Self {
        TopicObs {
            produced: 0,
            groups: topic
                .subscribers
                .iter()
                .map(|_| GroupObs {
                    failed: 0,
                    retries: 0,
                    skipped: 0,
                    latency: LatencyHistogram::new(),
                    max_lag: 0,
                    max_partition_lag: vec![0; topic.partitions as usize],
                    max_time_lag: 0,
                    series_lag: Vec::new(),
                    series_time_lag: Vec::new(),
                })
                .collect(),
        }
    }

    /// Records the lag of every group at a bucket boundary (and keeps its maximum). Debug
    /// builds (every test) check conservation here, at every bucket of every run:
    /// `produced = consumed + lag + expired + dead_lettered` per group.
    pub(super) fn close_bucket(&mut self, at: u64, topic: &TopicState) {
        for (g, state) in self.groups.iter_mut().zip(&topic.groups) {
            let group = &state.group;
            debug_assert!(
                group.check_conservation(&topic.logs),
                "messages not conserved at {at} ns"
            );
            let lag = group.total_lag(&topic.logs);
            let time_lag = group.max_time_lag(SimTime(at), &topic.logs).0;
            g.max_lag = g.max_lag.max(lag);
            g.max_time_lag = g.max_time_lag.max(time_lag);
            for (p, (max, log)) in g.max_partition_lag.iter_mut().zip(&topic.logs).enumerate() {
                *max = (*max).max(group.lag(p as u32, log));
            }
            g.series_lag.push(lag);
            g.series_time_lag.push(time_lag as f64 / 1e9);
        }
    }
}

impl QueueObs {
    /// Records the queue's depth and age at a bucket boundary. Debug builds (every test)
    /// check conservation here: `sent = acked + dead_lettered + expired + depth + in_flight`.
    pub(super) fn close_bucket(&mut self, at: u64, state: &QueueState) {
        let q = &state.queue;
        let depth = q.depth();
        debug_assert_eq!(
            q.sent(),
            q.acked() + q.dead_lettered() + q.expired() + depth + q.in_flight(),
            "messages not conserved at {at} ns"
        );
        let age = q.oldest_ready().map_or(0, |t| at.saturating_sub(t.0));
        self.max_depth = self.max_depth.max(depth);
        self.max_age = self.max_age.max(age);
        self.series_depth.push(depth);
        self.series_age.push(age as f64 / 1e9);
    }
}

/// Facts about the broker. `g` is a consumer group's index in its topic `t`.
impl Observer {
    /// The broker stored a message in topic `t`.
    #[inline]
    pub(in crate::engine) fn produced(&mut self, t: TopicId) {
        self.topics[t.0 as usize].produced += 1;
    }

    /// An idempotent consumer of group `g` of topic `t` skipped a message it had processed.
    pub(in crate::engine) fn skipped(&mut self, t: TopicId, g: u32) {
        self.topics[t.0 as usize].groups[g as usize].skipped += 1;
    }

    /// A consumer of group `g` of topic `t` failed to process a message; `retry` if it
    /// will try again.
    pub(in crate::engine) fn processing_failed(&mut self, t: TopicId, g: u32, retry: bool) {
        let obs = &mut self.topics[t.0 as usize].groups[g as usize];
        obs.failed += 1;
        if retry {
            obs.retries += 1;
        }
    }

    /// A consumer of group `g` of topic `t` is done with a message published at
    /// `published` (processed, or dead-lettered after its last attempt).
    #[inline]
    pub(in crate::engine) fn message_done(&mut self, t: TopicId, g: u32, published: u64, now: u64) {
        if self.counts(published) {
            self.topics[t.0 as usize].groups[g as usize]
                .latency
                .record(now - published);
        }
    }

    /// Processing a message of work queue `q` failed.
    pub(in crate::engine) fn queue_failed(&mut self, q: QueueId) {
        self.queues[q.0 as usize].failed += 1;
    }

    /// A message of work queue `q` sent at `sent` was acknowledged now.
    #[inline]
    pub(in crate::engine) fn acked(&mut self, q: QueueId, sent: u64, now: u64) {
        if self.counts(sent) {
            self.queues[q.0 as usize].latency.record(now - sent);
        }
    }

    /// A consumer of work queue `q` acknowledged too late: the message was delivered again
    /// and is processed twice.
    pub(in crate::engine) fn duplicate(&mut self, q: QueueId) {
        self.queues[q.0 as usize].duplicates += 1;
    }

    /// The broker stored a message of publish step `p`.
    #[inline]
    pub(in crate::engine) fn published(&mut self, p: PublishId) {
        self.publishes[p.0 as usize].published += 1;
    }

    /// A publish of step `p` failed (the broker was down, or the buffer full).
    pub(in crate::engine) fn publish_failed(&mut self, p: PublishId) {
        self.publishes[p.0 as usize].failed += 1;
    }

    /// A message of step `p` went to its producer's buffer, which holds `in_buffer` now.
    pub(in crate::engine) fn buffered(&mut self, p: PublishId, in_buffer: u64) {
        let obs = &mut self.publishes[p.0 as usize];
        obs.buffered += 1;
        obs.max_buffered = obs.max_buffered.max(in_buffer);
    }

    /// A producer of step `p` waits for the broker.
    pub(in crate::engine) fn publish_waits(&mut self, p: PublishId) {
        self.publishes[p.0 as usize].waited += 1;
    }

    /// A producer of step `p` gave up waiting for the broker.
    pub(in crate::engine) fn publish_timed_out(&mut self, p: PublishId) {
        self.publishes[p.0 as usize].timed_out += 1;
    }

    /// Counters for the Zeno guard's diagnosis: per consumer group (topics in order, their
    /// groups in order) failed and retried, per work queue failed, per publish step
    /// published.
    pub(in crate::engine) fn zeno_counters(&self) -> (Vec<[u64; 2]>, Vec<u64>, Vec<u64>) {
        let groups = self
            .topics
            .iter()
            .flat_map(|t| t.groups.iter().map(|g| [g.failed, g.retries]))
            .collect();
        let queues = self.queues.iter().map(|q| q.failed).collect();
        let published = self.publishes.iter().map(|p| p.published).collect();
        (groups, queues, published)
    }
}

/// The topics' part of the report, and their series.
pub(super) fn topic_report(
    obs: &mut [TopicObs],
    model: &Model,
    topics: &[TopicState],
    bucket: u64,
    end: u64,
) -> (Vec<TopicReport>, Vec<TopicSeries>) {
    let mut reports = Vec::with_capacity(topics.len());
    let mut series = Vec::new();
    for ((o, topic), m) in obs.iter_mut().zip(topics).zip(&model.topics) {
        let mut groups = Vec::with_capacity(topic.groups.len());
        for ((g, state), sub) in o.groups.iter_mut().zip(&topic.groups).zip(&m.subscribers) {
            let group = &state.group;
            let lag = group.total_lag(&topic.logs);
            let time_lag = group.max_time_lag(SimTime(end), &topic.logs).0;
            let service = model.service_at(sub.service).name.clone();
            let lag_per_partition: Vec<u64> = (0..m.partitions)
                .map(|p| group.lag(p, &topic.logs[p as usize]))
                .collect();
            let max_lag_per_partition = lag_per_partition
                .iter()
                .zip(&g.max_partition_lag)
                .map(|(&now, &max)| now.max(max))
                .collect();
            let drained_in_s = drained_in_s(&g.series_lag, bucket, end);
            groups.push(GroupReport {
                service: service.clone(),
                consumers: sub.consumers,
                consumed: group.consumed(),
                failed: g.failed,
                retries: g.retries,
                dead_lettered: group.dead_lettered(),
                lag,
                max_lag: g.max_lag.max(lag),
                lag_per_partition,
                max_lag_per_partition,
                drained_in_s,
                time_lag_s: time_lag as f64 / 1e9,
                max_time_lag_s: g.max_time_lag.max(time_lag) as f64 / 1e9,
                expired: group.expired(),
                redelivered: group.redelivered(),
                duplicates: group.duplicates(),
                skipped: g.skipped,
                latency: g.latency.summary(),
            });
            series.push(TopicSeries {
                topic: m.name.clone(),
                service,
                lag: std::mem::take(&mut g.series_lag),
                time_lag_s: std::mem::take(&mut g.series_time_lag),
            });
        }
        reports.push(TopicReport {
            name: m.name.clone(),
            partitions: m.partitions,
            produced: o.produced,
            produced_per_partition: topic.logs.iter().map(|l| l.end_offset()).collect(),
            publishers: publishers_of(model, Destination::Topic(TopicId(reports.len() as u32))),
            groups,
        });
    }
    (reports, series)
}

/// The work queues' part of the report, and their series.
pub(super) fn queue_report(
    obs: &mut [QueueObs],
    model: &Model,
    queues: &[QueueState],
    bucket: u64,
    end: u64,
) -> (Vec<QueueReport>, Vec<QueueSeries>) {
    let mut reports = Vec::with_capacity(queues.len());
    let mut series = Vec::with_capacity(queues.len());
    for ((o, state), def) in obs.iter_mut().zip(queues).zip(&model.queues) {
        let q = &state.queue;
        let depth = q.depth();
        let age = q.oldest_ready().map_or(0, |t| end.saturating_sub(t.0));
        let drained_in_s = drained_in_s(&o.series_depth, bucket, end);
        reports.push(QueueReport {
            name: def.name.clone(),
            service: model.service_at(def.service).name.clone(),
            publishers: publishers_of(model, Destination::Queue(QueueId(reports.len() as u32))),
            consumers: def.consumers,
            prefetch: def.prefetch,
            sent: q.sent(),
            acked: q.acked(),
            failed: o.failed,
            redelivered: q.redelivered(),
            duplicates: o.duplicates,
            dead_lettered: q.dead_lettered(),
            expired: q.expired(),
            depth,
            in_flight: q.in_flight(),
            max_depth: o.max_depth.max(depth),
            age_s: age as f64 / 1e9,
            max_age_s: o.max_age.max(age) as f64 / 1e9,
            latency: o.latency.summary(),
            drained_in_s,
        });
        series.push(QueueSeries {
            name: def.name.clone(),
            depth: std::mem::take(&mut o.series_depth),
            age_s: std::mem::take(&mut o.series_age),
        });
    }
    (reports, series)
}

/// The producers' part of the report: one row per publish step (`in_buffer`: messages
/// still in each step's buffer).
pub(super) fn publish_report(
    obs: &[PublishObs],
    model: &Model,
    in_buffer: &[u64],
) -> Vec<PublishReport> {
    model
        .publishes
        .iter()
        .zip(obs)
        .zip(in_buffer)
        .map(|((step, s), &in_buffer)| PublishReport {
            from: model.service_at(step.from).name.clone(),
            to: model.destination_name(step.to).to_string(),
            step: step.path.clone(),
            published: s.published,
            failed: s.failed,
            timed_out: s.timed_out,
            waited: s.waited,
            buffered: s.buffered,
            max_buffered: s.max_buffered,
            in_buffer,
        })
        .collect()
}

/// How long a backlog took to drain, from the end of the bucket where it peaked to the end
/// of the first bucket back near its earlier level ([`crate::metrics::drain`]; buckets of
/// `bucket` ns, the last one ending at `end`), or `None` when there was no backlog or it had
/// not drained by the end.
fn drained_in_s(series: &[u64], bucket: u64, end: u64) -> Option<f64> {
    use crate::metrics::drain::{drain, Drain};
    match drain(series) {
        Drain::Drained { peak, drained } => {
            let at = |i: usize| ((i as u64 + 1) * bucket).min(end);
            Some((at(drained) - at(peak)) as f64 / 1e9)
        }
        Drain::NoBacklog | Drain::NotDrained { .. } => None,
    }
}

/// The services with a step that publishes or sends to `to`, in file order, each once.
fn publishers_of(model: &Model, to: Destination) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in model.publishes.iter().filter(|p| p.to == to) {
        let name = &model.service_at(p.from).name;
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}
