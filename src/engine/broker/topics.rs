//! The broker: topics whose partitions are logs, and consumer groups whose consumers process
//! messages by running the subscribing service's steps, one message at a time each, and commit
//! after processing. The data structures are in [`crate::broker`]; this file drives them.
//!
//! Messages without a key go to the partitions in turn. A consumer sends each message to the
//! replica it lives on (consumer i on replica i mod replicas) as a request of the service,
//! competing with its other requests for workers; while that replica has no room the
//! consumer takes nothing and waits for room (`backpressure.rs`). A failed message is retried after a
//! backoff up to the group's `max_attempts`, then dead-lettered (committed past and counted)
//! or, with `on_exhausted: Block`, retried until it succeeds while its partition waits. Consumers crash with
//! their replica; after the group's session timeout their partitions move to the live
//! consumers, which redeliver from the committed offsets. Messages every group has
//! committed are dropped from the log at once (no group reads them again), so a partition
//! holds only its backlog and the publish times of a small backlog are exact.

use super::backpressure::Waiter;
use crate::broker::dedup::DedupWindow;
use crate::broker::group::{ConsumerGroup, OffsetReset};
use crate::broker::log::PartitionLog;
use crate::engine::event::{Event, Micro};
use crate::engine::kernel::Key;
use crate::engine::request::{Dispatch, Parent};
use crate::engine::simulation::Simulation;
use crate::model::{Destination, PublishId, ServiceId, Topic, TopicId};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime, NS_PER_S};
use rand::Rng;

/// Blocks of publish times a partition keeps before it coalesces them (see
/// [`PartitionLog`]): exact times while a partition's backlog is below half of this.
const LOG_BLOCKS: usize = 4096;
/// How often retention runs \[ns\] (Kafka sweeps every 5 minutes; finer here, and exact).
const RETENTION_SWEEP: u64 = NS_PER_S;

/// The broker's state of one topic.
pub(in crate::engine) struct TopicState {
    pub(in crate::engine) logs: Vec<PartitionLog>,
    next_partition: u32,
    pub(in crate::engine) groups: Vec<GroupState>,
}

/// One consumer group of a topic.
pub(in crate::engine) struct GroupState {
    pub(in crate::engine) group: ConsumerGroup,
    /// Whether each consumer is processing a message.
    busy: Vec<bool>,
    /// With a commit interval: per partition, the consumer and offset to commit next tick.
    pending: Vec<Option<(u32, u64)>>,
    /// With a commit interval: a commit tick is scheduled (there is progress to commit).
    tick_armed: bool,
    /// Idempotent consumers' memory of processed messages.
    dedup: Option<DedupWindow>,
}

/// A message handed to a consumer, while the service processes it.
pub(in crate::engine) struct Delivery {
    /// Processing attempts so far.
    attempts: u32,
    topic: TopicId,
    group: u32,
    consumer: u32,
    partition: u32,
    offset: u64,
    published: u64,
}

impl TopicState {
    pub(in crate::engine) fn new(topic: &Topic) -> Self {
        TopicState {
            logs: (0..topic.partitions)
                .map(|_| PartitionLog::new(LOG_BLOCKS, None))
                .collect(),
            next_partition: 0,
            groups: topic
                .subscribers
                .iter()
                .map(|s| GroupState {
                    group: ConsumerGroup::new(topic.partitions, s.consumers, OffsetReset::Earliest),
                    busy: vec![false; s.consumers as usize],
                    pending: vec![None; topic.partitions as usize],
                    tick_armed: false,
                    dedup: s.idempotent.map(|w| DedupWindow::new(w, 0)),
                })
                .collect(),
        }
    }
}

impl Simulation<'_> {
    /// The topic and group of a delivery still being processed.
    pub(in crate::engine) fn delivery_group(&self, delivery: Key) -> Option<(TopicId, u32)> {
        self.broker
            .deliveries
            .get(delivery)
            .map(|d| (d.topic, d.group))
    }

    /// Schedules the first retention sweep of every topic that has a retention. (Commit
    /// ticks are scheduled only when there is progress to commit: see
    /// [`commit_or_defer`](Self::commit_or_defer).)
    pub(in crate::engine) fn start_broker(&mut self) {
        for (t, topic) in self.model.topics.iter().enumerate() {
            if topic.retention.is_some() && RETENTION_SWEEP < self.clock.end {
                self.clock.schedule(
                    SimTime(RETENTION_SWEEP),
                    Event::Retention {
                        topic: TopicId(t as u32),
                    },
                );
            }
        }
    }

    /// Where a message of publish step `p` goes now: `Ok(partition)` (0 for a work queue) if
    /// the broker can take it; otherwise `Err` with the partition it must wait for (its key's),
    /// or `Err(None)` for any (the broker is down, or every partition is). Keyless messages go
    /// to the available partitions in turn.
    pub(in crate::engine) fn broker_target(&mut self, p: PublishId) -> Result<u32, Option<u32>> {
        if self.broker.down > 0 {
            return Err(None);
        }
        let model = self.model;
        let step = model.publish_at(p);
        let t = match step.to {
            Destination::Topic(t) => t,
            Destination::Queue(_) => return Ok(0),
        };
        let partitions = self.broker.topic(t).logs.len() as u32;
        match step.keys {
            Some(keys) => {
                let key = self.broker.producers[p.0 as usize]
                    .keys_rng
                    .random_range(0..keys);
                let partition = (key_hash(key) % u64::from(partitions)) as u32;
                if self.broker.topic(t).logs[partition as usize].is_available() {
                    Ok(partition)
                } else {
                    Err(Some(partition))
                }
            }
            None => self.next_partition(t).ok_or(None),
        }
    }

    /// The next available partition of topic `t` for a keyless message (partitions take
    /// turns), `None` if none is.
    pub(in crate::engine) fn next_partition(&mut self, t: TopicId) -> Option<u32> {
        let topic = self.broker.topic_mut(t);
        let partitions = topic.logs.len() as u32;
        for _ in 0..partitions {
            let partition = topic.next_partition;
            topic.next_partition = (partition + 1) % partitions;
            if topic.logs[partition as usize].is_available() {
                return Some(partition);
            }
        }
        None
    }

    /// The broker stores a message of publish step `p` in `partition` (see
    /// [`broker_target`](Self::broker_target)); idle consumers wake.
    pub(in crate::engine) fn append(&mut self, p: PublishId, partition: u32, tag: u64) {
        self.observer.published(p);
        self.store(self.model.publish_at(p).to, partition, tag);
    }

    /// The broker stores a message in `partition` of `to` (0 for a work queue); idle
    /// consumers wake. `tag` is the customer of a message to a work queue (0: none).
    pub(in crate::engine) fn store(&mut self, to: Destination, partition: u32, tag: u64) {
        let t = match to {
            Destination::Topic(t) => t,
            Destination::Queue(q) => return self.send_to_queue(q, tag),
        };
        let now = self.clock.now;
        let topic = self.broker.topic_mut(t);
        topic.logs[partition as usize].append(SimTime(now));
        self.observer.produced(t);
        for (g, group) in topic.groups.iter().enumerate() {
            if let Some(c) = group.group.owner(partition) {
                if !group.busy[c as usize] {
                    self.clock.soon(Micro::Consume {
                        topic: t,
                        group: g as u32,
                        consumer: c,
                    });
                }
            }
        }
    }

    /// An idle consumer takes the next message of its partitions, if any, and sends it to its
    /// service. While its replica has no room it takes nothing and waits for room (see
    /// `backpressure.rs`), counted as busy meanwhile.
    pub(in crate::engine) fn consume(&mut self, t: TopicId, g: u32, c: u32) {
        if self.broker.down > 0 {
            return; // woken again when the broker is back
        }
        let topic = self.broker.topic_mut(t);
        let group = &mut topic.groups[g as usize];
        if group.busy[c as usize] || !group.group.is_alive(c) {
            return;
        }
        let sub = &self.model.topic_at(t).subscribers[g as usize];
        let service = sub.service;
        let pin = c % self.model.service_at(service).replicas;
        if self.room(service, pin) == 0 {
            self.set_consumer_busy(t, g, c, true);
            self.wait_for_room(
                service,
                pin,
                Waiter::Consume {
                    topic: t,
                    group: g,
                    consumer: c,
                },
            );
            return;
        }
        let topic = self.broker.topic_mut(t);
        let group = &mut topic.groups[g as usize];
        let Some(batch) = group.group.poll(c, 1, &topic.logs) else {
            return;
        };
        group.busy[c as usize] = true;
        let published = topic.logs[batch.partition as usize]
            .publish_time(batch.start)
            .map_or(self.clock.now, |t| t.0);
        let id = message_id(batch.partition, batch.start);
        if let Some(dedup) = &mut group.dedup {
            if dedup.contains(id, SimTime(self.clock.now)) {
                // An idempotent consumer has processed this message before: skip it.
                group.busy[c as usize] = false;
                self.observer.skipped(t, g);
                self.commit_or_defer(t, g, c, batch.partition, batch.start + 1);
                self.clock.soon(Micro::Consume {
                    topic: t,
                    group: g,
                    consumer: c,
                });
                return;
            }
        }
        let delivery = self.broker.deliveries.insert(Delivery {
            attempts: 0,
            topic: t,
            group: g,
            consumer: c,
            partition: batch.partition,
            offset: batch.start,
            published,
        });
        self.process(delivery);
    }

    /// Sends a delivery's message to the consumer's service (again, for a retry); while the
    /// consumer's replica has no room, the delivery waits for room.
    pub(in crate::engine) fn process(&mut self, delivery: Key) {
        let model = self.model;
        let Some(d) = self.broker.deliveries.get(delivery) else {
            return;
        };
        let sub = model.topic_at(d.topic).subscribers[d.group as usize];
        let pin = d.consumer % model.service_at(sub.service).replicas;
        let alive = self.broker.topic(d.topic).groups[d.group as usize]
            .group
            .is_alive(d.consumer);
        if !alive {
            // Its consumer crashed during the backoff: the message comes back at the rebalance.
            self.drop_delivery(delivery);
            return;
        }
        let service = sub.service;
        if self.room(service, pin) == 0 {
            self.wait_for_room(service, pin, Waiter::Retry { delivery });
            return;
        }
        if let Some(d) = self.broker.deliveries.get_mut(delivery) {
            d.attempts += 1;
        }
        self.send(Dispatch {
            pin: Some(pin),
            ..Dispatch::new(Parent::TopicConsumer { delivery }, service)
        });
    }

    /// Forgets a delivery whose consumer crashed before processing it: the message comes back
    /// from the committed offset after the rebalance.
    pub(in crate::engine) fn drop_delivery(&mut self, delivery: Key) {
        if let Some(d) = self.broker.deliveries.remove(delivery) {
            self.set_consumer_busy(d.topic, d.group, d.consumer, false);
        }
    }

    /// Marks consumer `c` of group `g` of topic `t` busy (processing a message, or waiting for
    /// room to) or idle.
    pub(in crate::engine) fn set_consumer_busy(&mut self, t: TopicId, g: u32, c: u32, busy: bool) {
        self.broker.topic_mut(t).groups[g as usize].busy[c as usize] = busy;
    }

    /// The service has processed a delivery: commit it, and the consumer takes the next one.
    pub(in crate::engine) fn consumed(&mut self, delivery: Key, outcome: Outcome) {
        let model = self.model;
        let Some(&Delivery {
            attempts,
            topic,
            group,
            consumer,
            ..
        }) = self.broker.deliveries.get(delivery)
        else {
            return;
        };
        let sub = model.topic_at(topic).subscribers[group as usize];
        let g = &mut self.broker.topic_mut(topic).groups[group as usize];
        if outcome.is_failure() && g.group.is_alive(consumer) {
            let retry = attempts < sub.max_attempts || !sub.dead_letter;
            self.observer.processing_failed(topic, group, retry);
            if retry {
                // Retry after the backoff; the consumer waits (its partition does too).
                let at = SimTime(self.clock.now).after(sub.retry_backoff);
                if sub.retry_backoff == SimDuration::ZERO {
                    self.process(delivery);
                } else if at.0 < self.clock.end {
                    self.clock.schedule(at, Event::Reprocess { delivery });
                }
                return;
            }
        }
        let Some(d) = self.broker.deliveries.remove(delivery) else {
            return;
        };
        let now = self.clock.now;
        let group = &mut self.broker.topic_mut(d.topic).groups[d.group as usize];
        group.busy[d.consumer as usize] = false;
        if !group.group.is_alive(d.consumer) {
            // The consumer crashed with its replica: nothing is committed, and the message
            // is delivered again from the committed offset after the rebalance.
            return;
        }
        if outcome.is_failure() {
            // Every attempt failed: to the dead-letter topic, and on with the next message.
            group.group.dead_letter(d.partition, d.offset);
        } else {
            group.group.processed(d.partition, d.offset);
            if let Some(dedup) = &mut group.dedup {
                dedup.seen(message_id(d.partition, d.offset), SimTime(now));
            }
        }
        group.busy[d.consumer as usize] = false;
        self.observer
            .message_done(d.topic, d.group, d.published, now);
        self.commit_or_defer(d.topic, d.group, d.consumer, d.partition, d.offset + 1);
        self.clock.soon(Micro::Consume {
            topic: d.topic,
            group: d.group,
            consumer: d.consumer,
        });
    }

    /// Commits `next` for a partition now, or at the group's next commit tick.
    ///
    /// Ticks fall on the multiples of the commit interval (as a timer started at t = 0 and
    /// firing every interval would), but a tick is scheduled only when there is progress to
    /// commit: the first progress after a tick arms the next multiple, and a tick that has
    /// committed everything does not re-arm itself. A group with no traffic schedules
    /// nothing (a timer firing through silence cost one event per interval: 5·10⁸ events per
    /// simulated second with a 2 ns interval), and where there is traffic the commits happen
    /// at the same instants as with a free-running timer.
    fn commit_or_defer(&mut self, t: TopicId, g: u32, c: u32, p: u32, next: u64) {
        let interval = self.model.topic_at(t).subscribers[g as usize].commit_interval;
        let group = &mut self.broker.topic_mut(t).groups[g as usize];
        match interval {
            Some(i) => {
                group.pending[p as usize] = Some((c, next));
                if !group.tick_armed {
                    // The next multiple of the interval strictly after now (a tick due now
                    // has fired already, or was skipped as empty).
                    let i = i.as_nanos();
                    let at = (self.clock.now / i).saturating_add(1).saturating_mul(i);
                    if at < self.clock.end {
                        group.tick_armed = true;
                        self.clock
                            .schedule(SimTime(at), Event::CommitTick { topic: t, group: g });
                    }
                }
            }
            None => {
                group.group.commit(c, p, next);
                self.trim(t, p);
            }
        }
    }

    /// A commit tick: every partition's last processed offset is committed (refused for a
    /// consumer that crashed or lost the partition since). The next tick is armed by the
    /// next progress.
    pub(in crate::engine) fn commit_tick(&mut self, t: TopicId, g: u32) {
        self.broker.topic_mut(t).groups[g as usize].tick_armed = false;
        let partitions = self.broker.topic_mut(t).logs.len() as u32;
        for p in 0..partitions {
            let group = &mut self.broker.topic_mut(t).groups[g as usize];
            if let Some((c, next)) = group.pending[p as usize].take() {
                group.group.commit(c, p, next);
                self.trim(t, p);
            }
        }
    }

    /// Drops the messages of a partition that every group has committed: they are never read
    /// again, so the log holds only the backlog (and its publish times stay exact while it is
    /// small).
    fn trim(&mut self, t: TopicId, p: u32) {
        let topic = self.broker.topic_mut(t);
        let done = topic
            .groups
            .iter()
            .map(|g| g.group.committed(p))
            .min()
            .unwrap_or(0);
        let log = &mut topic.logs[p as usize];
        if done > log.start_offset() {
            log.delete_before(done);
        }
    }

    /// The consumers living on replica `r` of service `s` crash with it (`down`) or come
    /// back. A crash: they stop, their partitions stall, and after the group's session timeout
    /// the partitions move to the live consumers, which start again from the committed
    /// offsets (redelivering what was processed but not committed). A recovery: they rejoin
    /// and the group rebalances at once.
    pub(in crate::engine) fn consumers_follow_replica(&mut self, s: ServiceId, r: u32, down: bool) {
        let model = self.model;
        let replicas = model.service_at(s).replicas;
        for (t, topic) in model.topics.iter().enumerate() {
            for (g, sub) in topic.subscribers.iter().enumerate() {
                if sub.service != s {
                    continue;
                }
                let group = &mut self.broker.topics[t].groups[g];
                for c in (r..sub.consumers).step_by(replicas as usize) {
                    if down {
                        group.group.crash(c);
                    } else {
                        group.group.join(c);
                    }
                }
                let at = if down {
                    SimTime(self.clock.now).after(sub.session_timeout)
                } else {
                    SimTime(self.clock.now)
                };
                if at.0 < self.clock.end {
                    self.clock.schedule(
                        at,
                        Event::Rebalance {
                            topic: TopicId(t as u32),
                            group: g as u32,
                        },
                    );
                }
            }
        }
    }

    /// A group reassigns its partitions among its live consumers, who resume from the
    /// committed offsets.
    pub(in crate::engine) fn rebalance(&mut self, t: TopicId, g: u32) {
        let group = &mut self.broker.topic_mut(t).groups[g as usize];
        // Live consumers commit what they processed before giving up their partitions (the
        // Kafka client does on revocation); a crashed one cannot, and loses its progress.
        for (p, pending) in group.pending.iter_mut().enumerate() {
            if let Some((c, next)) = *pending {
                if group.group.is_alive(c) {
                    group.group.commit(c, p as u32, next);
                    *pending = None;
                }
            }
        }
        group.group.assign();
        for c in 0..group.busy.len() as u32 {
            if group.group.is_alive(c) {
                self.clock.soon(Micro::Consume {
                    topic: t,
                    group: g,
                    consumer: c,
                });
            }
        }
    }

    /// Deletes messages older than the topic's retention, consumed or not.
    pub(in crate::engine) fn on_retention(&mut self, t: TopicId) {
        let now = self.clock.now;
        let Some(retention) = self.model.topic_at(t).retention else {
            return;
        };
        let topic = self.broker.topic_mut(t);
        if let Some(cutoff) = now.checked_sub(retention.as_nanos()) {
            for log in &mut topic.logs {
                log.expire_before(SimTime(cutoff));
            }
            for g in &mut topic.groups {
                g.group.sync_all(&topic.logs);
            }
        }
        if now + RETENTION_SWEEP < self.clock.end {
            self.clock.schedule(
                SimTime(now + RETENTION_SWEEP),
                Event::Retention { topic: t },
            );
        }
    }
}

/// A message's id within its topic (partition and offset), for idempotent consumers.
fn message_id(partition: u32, offset: u64) -> u64 {
    (u64::from(partition) << 40) | offset
}

/// The partition hash of a message key: SplitMix64's finaliser, a fixed portable mix (Kafka
/// uses murmur2 of the key bytes; any fixed hash spreads a key space the same way).
fn key_hash(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
