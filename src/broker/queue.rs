//! A work queue with competing consumers: RabbitMQ's manual-ack queues and Amazon SQS
//! (docs/semantics.md, *Work queues*), as a state machine the engine drives.
//!
//! * [`WorkQueue::send`] enqueues a message; ids are 0, 1, 2, … in send order.
//! * [`WorkQueue::receive`] hands the consumer the next ready message and makes it **in
//!   flight** until `now + visibility` (SQS's visibility timeout; RabbitMQ's
//!   `consumer_timeout` plays the same role), incrementing its receive count. With a prefetch
//!   limit (RabbitMQ `basic.qos`; 0 = unlimited) a consumer holding that many unacked
//!   deliveries gets nothing.
//! * [`WorkQueue::ack`] deletes the message (`basic.ack`, `DeleteMessage`).
//! * [`WorkQueue::nack`] with requeue, the expiry of the visibility timeout
//!   ([`WorkQueue::expire_visibility`]), [`WorkQueue::change_visibility`] to 0 followed by
//!   expiry, and a consumer's channel closing ([`WorkQueue::release_consumer`]) put the
//!   message back **at its original position** (requeued messages are served first, in id
//!   order) with the redelivered flag (receive count > 1). `nack` without requeue
//!   dead-letters it.
//! * **Delivery limit.** With `max_receives` = n > 0, a message that returns after its n-th
//!   delivery is dead-lettered instead of requeued, so it is delivered **at most n times**
//!   (SQS `maxReceiveCount`; RabbitMQ quorum `delivery-limit`). SQS moves it lazily at the
//!   next receive, RabbitMQ when it returns; this queue does it when it returns, so the DLQ
//!   depth is current.
//! * **Retention** ([`WorkQueue::expire_before`], SQS `MessageRetentionPeriod`) deletes ready
//!   messages sent before a cutoff; in-flight ones are left alone.
//!
//! **Accounting**, always: `sent = acked + dead_lettered + expired + depth + in_flight`.
//!
//! **Storage.** Ready messages never received are a [`PartitionLog`] (a count and compact
//! send times: no per-message object, send times within the log's error bound), and, in a
//! queue made with [`WorkQueue::tagged`], their tags in send order (8 bytes each). Requeued and
//! in-flight messages have per-message state; in-flight ones are bounded by consumers ×
//! prefetch. In-flight deadlines sit in an indexed binary heap, so expiry, acks and
//! visibility changes are O(log n); slots are reused, so no call allocates once the queue
//! has reached its peak in-flight and requeued counts.

use super::log::PartitionLog;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// A message as a consumer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// The message id (its send order).
    pub id: u64,
    /// When it was first sent (for its age and end-to-end latency).
    pub sent: SimTime,
    /// Deliveries so far, this one included (`ApproximateReceiveCount`).
    pub receives: u32,
    /// What its sender attached to it ([`WorkQueue::send_tagged`]; 0 for none): the queue
    /// only carries it, e.g. the customer a message of a network of queues belongs to.
    pub tag: u64,
}

impl Message {
    /// Whether this delivery is a redelivery (RabbitMQ's `redelivered` flag).
    pub fn redelivered(&self) -> bool {
        self.receives > 1
    }
}

/// The handle of one delivery, for [`WorkQueue::ack`] and friends. A handle from an earlier
/// delivery of the same message is stale and refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    slot: u32,
    id: u64,
    receives: u32,
}

/// One delivery handed out by [`WorkQueue::receive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The handle for ack, nack and visibility changes.
    pub receipt: Receipt,
    /// The message.
    pub message: Message,
}

/// What happened to a message leaving the in-flight state without an ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// It is ready again, at its original position.
    Requeued,
    /// It went to the dead-letter queue (delivery limit, or nack without requeue).
    DeadLettered,
}

/// Work-queue settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// Competing consumers, numbered 0..consumers.
    pub consumers: u32,
    /// Most unacked deliveries per consumer; 0 = unlimited (RabbitMQ's default).
    pub prefetch: u32,
    /// Most deliveries of one message before it is dead-lettered; 0 = no limit.
    pub max_receives: u32,
    /// Block limit of the compact ready log (see [`PartitionLog::new`]).
    pub log_blocks: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            consumers: 1,
            prefetch: 0,
            max_receives: 0,
            log_blocks: 4096,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    msg: Message,
    consumer: u32,
    deadline: SimTime,
    heap_pos: u32,
    live: bool,
}

/// A work queue (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct WorkQueue {
    config: QueueConfig,
    fresh: PartitionLog,
    requeued: VecDeque<Message>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    heap: Vec<u32>,
    unacked: Vec<u32>,
    sent: u64,
    delivered: u64,
    acked: u64,
    redelivered: u64,
    dead_lettered: u64,
    expired: u64,
    /// The tags of the fresh messages, in send order, if the queue carries tags.
    fresh_tags: Option<VecDeque<u64>>,
}

impl WorkQueue {
    /// An empty queue whose messages carry the tags their senders attach.
    pub fn tagged(config: QueueConfig) -> Self {
        WorkQueue {
            fresh_tags: Some(VecDeque::new()),
            ..WorkQueue::new(config)
        }
    }

    /// An empty queue.
    pub fn new(config: QueueConfig) -> Self {
        WorkQueue {
            fresh_tags: None,
            config,
            fresh: PartitionLog::new(config.log_blocks, None),
            requeued: VecDeque::new(),
            slots: Vec::new(),
            free: Vec::new(),
            heap: Vec::new(),
            unacked: vec![0; config.consumers as usize],
            sent: 0,
            delivered: 0,
            acked: 0,
            redelivered: 0,
            dead_lettered: 0,
            expired: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &QueueConfig {
        &self.config
    }

    /// Enqueues a message sent at `now` (times must not decrease) and returns its id.
    pub fn send(&mut self, now: SimTime) -> u64 {
        self.send_tagged(now, 0)
    }

    /// Enqueues a message sent at `now` carrying `tag` (kept only by a queue made with
    /// [`WorkQueue::tagged`]) and returns its id.
    pub fn send_tagged(&mut self, now: SimTime, tag: u64) -> u64 {
        self.sent += 1;
        if let Some(tags) = &mut self.fresh_tags {
            tags.push_back(tag);
        }
        self.fresh.append(now)
    }

    /// Delivers the next ready message to `consumer`, in flight until `now + visibility`.
    /// `None` when nothing is ready, the consumer is at its prefetch limit, or it is out of
    /// range.
    pub fn receive(
        &mut self,
        consumer: u32,
        now: SimTime,
        visibility: SimDuration,
    ) -> Option<Delivery> {
        let held = *self.unacked.get(consumer as usize)?;
        if self.config.prefetch > 0 && held >= self.config.prefetch {
            return None;
        }
        let mut msg = match self.requeued.pop_front() {
            Some(m) => m,
            None => {
                let (id, sent) = self.fresh.pop_front()?;
                let tag = self
                    .fresh_tags
                    .as_mut()
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(0);
                Message {
                    id,
                    sent,
                    receives: 0,
                    tag,
                }
            }
        };
        // Saturating: a receive count is at most u32::MAX (a message delivered 2³² times would
        // need a zero-time redelivery loop, which the engine's Zeno guard stops long before).
        msg.receives = msg.receives.saturating_add(1);
        self.delivered += 1;
        if msg.redelivered() {
            self.redelivered += 1;
        }
        self.unacked[consumer as usize] += 1;
        let slot = Slot {
            msg,
            consumer,
            deadline: now.after(visibility),
            heap_pos: self.heap.len() as u32,
            live: true,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(i);
        self.sift_up(self.heap.len() - 1);
        Some(Delivery {
            receipt: Receipt {
                slot: i,
                id: msg.id,
                receives: msg.receives,
            },
            message: msg,
        })
    }

    fn check(&self, r: Receipt) -> bool {
        self.slots
            .get(r.slot as usize)
            .is_some_and(|s| s.live && s.msg.id == r.id && s.msg.receives == r.receives)
    }

    /// Takes slot `i` out of flight and returns its message.
    fn take(&mut self, i: u32) -> Message {
        let s = self.slots[i as usize];
        self.heap_remove(s.heap_pos as usize);
        self.slots[i as usize].live = false;
        self.free.push(i);
        self.unacked[s.consumer as usize] -= 1;
        s.msg
    }

    /// Puts a message back (or dead-letters it at the delivery limit).
    fn give_back(&mut self, msg: Message, requeue: bool) -> Returned {
        let limit = self.config.max_receives;
        if !requeue || (limit > 0 && msg.receives >= limit) {
            self.dead_lettered += 1;
            return Returned::DeadLettered;
        }
        let at = self.requeued.partition_point(|m| m.id < msg.id);
        self.requeued.insert(at, msg);
        Returned::Requeued
    }

    /// Acknowledges a delivery: the message is deleted. `false` for a stale receipt (the
    /// delivery already expired, was nacked or acked).
    pub fn ack(&mut self, receipt: Receipt) -> bool {
        if !self.check(receipt) {
            return false;
        }
        self.take(receipt.slot);
        self.acked += 1;
        true
    }

    /// Rejects a delivery: with `requeue` it is ready again (or dead-lettered at the delivery
    /// limit), without it is dead-lettered. `None` for a stale receipt.
    pub fn nack(&mut self, receipt: Receipt, requeue: bool) -> Option<Returned> {
        if !self.check(receipt) {
            return None;
        }
        let msg = self.take(receipt.slot);
        Some(self.give_back(msg, requeue))
    }

    /// SQS `ChangeMessageVisibility`: the delivery stays in flight until `now + visibility`
    /// (counted from the call). `false` for a stale receipt.
    pub fn change_visibility(
        &mut self,
        receipt: Receipt,
        now: SimTime,
        visibility: SimDuration,
    ) -> bool {
        if !self.check(receipt) {
            return false;
        }
        let s = &mut self.slots[receipt.slot as usize];
        s.deadline = now.after(visibility);
        let pos = s.heap_pos as usize;
        self.sift_up(pos);
        let pos = self.slots[receipt.slot as usize].heap_pos as usize;
        self.sift_down(pos);
        true
    }

    /// The earliest visibility deadline among the in-flight messages.
    pub fn next_visibility_deadline(&self) -> Option<SimTime> {
        self.heap.first().map(|&i| self.slots[i as usize].deadline)
    }

    /// If the earliest in-flight deadline is at or before `now`, that delivery times out: the
    /// message is requeued (or dead-lettered at the delivery limit) and returned with what
    /// happened. Call until `None`.
    pub fn expire_visibility(&mut self, now: SimTime) -> Option<(Message, Returned)> {
        let &i = self.heap.first()?;
        if self.slots[i as usize].deadline > now {
            return None;
        }
        let msg = self.take(i);
        Some((msg, self.give_back(msg, true)))
    }

    /// `consumer`'s channel closed (a crash): all its unacked deliveries return as by a
    /// requeue. Returns how many. O(in-flight slots).
    pub fn release_consumer(&mut self, consumer: u32) -> u32 {
        self.release_consumer_with(consumer, |_| {})
    }

    /// [`release_consumer`](Self::release_consumer), calling `dead_lettered` with the tag of
    /// each message that reached its delivery limit and went to the dead-letter queue.
    pub fn release_consumer_with(
        &mut self,
        consumer: u32,
        mut dead_lettered: impl FnMut(u64),
    ) -> u32 {
        let mut n = 0;
        for i in 0..self.slots.len() as u32 {
            let s = self.slots[i as usize];
            if s.live && s.consumer == consumer {
                let msg = self.take(i);
                if self.give_back(msg, true) == Returned::DeadLettered {
                    dead_lettered(msg.tag);
                }
                n += 1;
            }
        }
        n
    }

    /// Retention: deletes the ready messages sent before `cutoff` and returns how many.
    pub fn expire_before(&mut self, cutoff: SimTime) -> u64 {
        self.expire_before_with(cutoff, |_| {})
    }

    /// [`expire_before`](Self::expire_before), calling `deleted` with the tag of each
    /// message it deletes.
    pub fn expire_before_with(&mut self, cutoff: SimTime, mut deleted: impl FnMut(u64)) -> u64 {
        let before = self.requeued.len();
        self.requeued.retain(|m| {
            let keep = m.sent >= cutoff;
            if !keep {
                deleted(m.tag);
            }
            keep
        });
        let fresh = self.fresh.expire_before(cutoff);
        if let Some(tags) = &mut self.fresh_tags {
            for tag in tags.drain(..(fresh as usize).min(tags.len())) {
                deleted(tag);
            }
        }
        let n = (before - self.requeued.len()) as u64 + fresh;
        self.expired += n;
        n
    }

    /// Ready messages (the queue depth; SQS `ApproximateNumberOfMessagesVisible`).
    pub fn depth(&self) -> u64 {
        self.fresh.len() + self.requeued.len() as u64
    }

    /// Messages in flight (SQS `ApproximateNumberOfMessagesNotVisible`).
    pub fn in_flight(&self) -> u64 {
        self.heap.len() as u64
    }

    /// Unacked deliveries held by `consumer`.
    pub fn unacked(&self, consumer: u32) -> u32 {
        self.unacked.get(consumer as usize).copied().unwrap_or(0)
    }

    /// The send time of the oldest ready message (its age is the queue's time lag).
    pub fn oldest_ready(&self) -> Option<SimTime> {
        let a = self.requeued.iter().map(|m| m.sent).min();
        let b = self.fresh.start_time();
        a.into_iter().chain(b).min()
    }

    /// Messages sent.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Deliveries, redeliveries included.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Messages acked (deleted after processing).
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Deliveries of a message delivered before.
    pub fn redelivered(&self) -> u64 {
        self.redelivered
    }

    /// Messages sent to the dead-letter queue.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// Ready messages deleted by retention.
    pub fn expired(&self) -> u64 {
        self.expired
    }

    fn key(&self, heap_index: usize) -> (SimTime, u64) {
        let s = &self.slots[self.heap[heap_index] as usize];
        (s.deadline, s.msg.id)
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.slots[self.heap[a] as usize].heap_pos = a as u32;
        self.slots[self.heap[b] as usize].heap_pos = b as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.key(i) >= self.key(parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < self.heap.len() && self.key(l) < self.key(m) {
                m = l;
            }
            if r < self.heap.len() && self.key(r) < self.key(m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }

    fn heap_remove(&mut self, pos: usize) {
        let last = self.heap.len() - 1;
        if pos != last {
            self.swap(pos, last);
        }
        self.heap.pop();
        if pos < self.heap.len() {
            self.sift_up(pos);
            let pos = self.slots[self.heap[pos] as usize].heap_pos as usize;
            self.sift_down(pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;
    use rand::{Rng, SeedableRng};

    fn ms(v: u64) -> SimTime {
        SimTime(v * 1_000_000)
    }

    fn vis(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    fn queue(consumers: u32, prefetch: u32, max_receives: u32) -> WorkQueue {
        WorkQueue::new(QueueConfig {
            consumers,
            prefetch,
            max_receives,
            log_blocks: 64,
        })
    }

    fn balanced(q: &WorkQueue) -> bool {
        q.sent() == q.acked() + q.dead_lettered() + q.expired() + q.depth() + q.in_flight()
    }

    #[test]
    fn send_receive_ack_in_fifo_order() {
        let mut q = queue(2, 0, 0);
        for k in 0..3 {
            assert_eq!(q.send(ms(k)), k);
        }
        assert_eq!(q.depth(), 3);
        assert_eq!(q.oldest_ready(), Some(ms(0)));
        let a = q.receive(0, ms(5), vis(100)).unwrap();
        let b = q.receive(1, ms(5), vis(100)).unwrap();
        assert_eq!(
            (a.message.id, a.message.sent, a.message.receives),
            (0, ms(0), 1)
        );
        assert!(!a.message.redelivered());
        assert_eq!(b.message.id, 1);
        assert_eq!((q.depth(), q.in_flight()), (1, 2));
        assert!(q.ack(a.receipt));
        assert!(!q.ack(a.receipt), "a second ack is stale");
        assert!(q.ack(b.receipt));
        assert_eq!((q.acked(), q.in_flight(), q.unacked(0)), (2, 0, 0));
        assert!(q.receive(5, ms(5), vis(1)).is_none(), "no such consumer");
        assert!(balanced(&q));
    }

    #[test]
    fn prefetch_limits_unacked_deliveries_per_consumer() {
        let mut q = queue(2, 2, 0);
        for k in 0..10 {
            q.send(ms(k));
        }
        let d0 = q.receive(0, ms(10), vis(1000)).unwrap();
        q.receive(0, ms(10), vis(1000)).unwrap();
        assert!(q.receive(0, ms(10), vis(1000)).is_none());
        assert_eq!(q.unacked(0), 2);
        // The other consumer still gets messages.
        assert_eq!(q.receive(1, ms(10), vis(1000)).unwrap().message.id, 2);
        assert!(q.ack(d0.receipt));
        assert_eq!(q.receive(0, ms(10), vis(1000)).unwrap().message.id, 3);
        // Unlimited prefetch.
        let mut q = queue(1, 0, 0);
        for k in 0..100 {
            q.send(ms(k));
        }
        assert_eq!(
            (0..100)
                .filter_map(|_| q.receive(0, ms(100), vis(1)))
                .count(),
            100
        );
    }

    #[test]
    fn visibility_timeout_redelivers_at_the_original_position() {
        let mut q = queue(1, 0, 0);
        for k in 0..3 {
            q.send(ms(k));
        }
        let d = q.receive(0, ms(10), vis(30)).unwrap();
        assert_eq!(q.next_visibility_deadline(), Some(ms(40)));
        assert_eq!(q.expire_visibility(ms(39)), None);
        let (m, r) = q.expire_visibility(ms(40)).unwrap();
        assert_eq!((m.id, r), (0, Returned::Requeued));
        assert_eq!(q.next_visibility_deadline(), None);
        assert!(!q.ack(d.receipt), "the old receipt is stale");
        // Message 0 comes back first, flagged, keeping its send time.
        let again = q.receive(0, ms(50), vis(30)).unwrap();
        assert_eq!(
            again.message,
            Message {
                id: 0,
                sent: ms(0),
                receives: 2,
                tag: 0,
            }
        );
        assert!(again.message.redelivered());
        assert_eq!((q.redelivered(), q.delivered()), (1, 2));
        // Requeued messages keep id order whatever order they return in.
        let d1 = q.receive(0, ms(50), vis(30)).unwrap();
        let d2 = q.receive(0, ms(50), vis(30)).unwrap();
        assert_eq!(q.nack(d2.receipt, true), Some(Returned::Requeued));
        assert_eq!(q.nack(d1.receipt, true), Some(Returned::Requeued));
        assert_eq!(q.nack(again.receipt, true), Some(Returned::Requeued));
        let ids: Vec<u64> = (0..3)
            .map(|_| q.receive(0, ms(60), vis(30)).unwrap().message.id)
            .collect();
        assert_eq!(ids, vec![0, 1, 2]);
        assert!(balanced(&q));
    }

    #[test]
    fn change_visibility_counts_from_the_call() {
        let mut q = queue(1, 0, 0);
        q.send(ms(0));
        q.send(ms(0));
        let a = q.receive(0, ms(0), vis(30)).unwrap();
        let b = q.receive(0, ms(0), vis(50)).unwrap();
        assert!(q.change_visibility(a.receipt, ms(20), vis(100)));
        assert_eq!(q.next_visibility_deadline(), Some(ms(50)));
        assert!(q.change_visibility(b.receipt, ms(25), SimDuration::ZERO));
        assert_eq!(q.next_visibility_deadline(), Some(ms(25)));
        assert_eq!(q.expire_visibility(ms(25)).unwrap().0.id, 1);
        assert_eq!(q.expire_visibility(ms(119)), None);
        assert_eq!(q.expire_visibility(ms(120)).unwrap().0.id, 0);
    }

    #[test]
    fn the_receive_count_saturates_instead_of_overflowing() {
        // A message redelivered 2³² times (only a zero-time loop could) keeps the largest
        // count instead of overflowing (a panic with overflow checks, a wrap to 0 without).
        let mut q = queue(1, 0, 0);
        q.send(ms(0));
        let first = q.receive(0, ms(0), vis(30)).unwrap();
        q.nack(first.receipt, true);
        q.requeued[0].receives = u32::MAX - 1;
        for expected in [u32::MAX, u32::MAX] {
            let d = q.receive(0, ms(0), vis(30)).unwrap();
            assert_eq!(d.message.receives, expected);
            assert!(d.message.redelivered());
            assert_eq!(q.nack(d.receipt, true), Some(Returned::Requeued));
        }
        assert!(balanced(&q));
    }

    #[test]
    fn max_receives_dead_letters_after_the_last_delivery() {
        let max = 3;
        let mut q = queue(1, 0, max);
        q.send(ms(0));
        let mut deliveries = 0;
        let mut now = 0;
        while let Some(d) = q.receive(0, ms(now), vis(30)) {
            deliveries += 1;
            assert_eq!(d.message.receives, deliveries);
            now += 30;
            let (_, r) = q.expire_visibility(ms(now)).unwrap();
            if deliveries < max {
                assert_eq!(r, Returned::Requeued);
            } else {
                assert_eq!(r, Returned::DeadLettered);
            }
        }
        assert_eq!(deliveries, max, "delivered at most max_receives times");
        assert_eq!((q.dead_lettered(), q.depth(), q.redelivered()), (1, 0, 2));
        // nack without requeue dead-letters at once.
        q.send(ms(100));
        let d = q.receive(0, ms(100), vis(30)).unwrap();
        assert_eq!(q.nack(d.receipt, false), Some(Returned::DeadLettered));
        assert_eq!(q.nack(d.receipt, false), None);
        assert_eq!(q.dead_lettered(), 2);
        assert!(balanced(&q));
    }

    #[test]
    fn a_crashed_consumer_returns_all_its_unacked_messages() {
        let mut q = queue(2, 5, 0);
        for k in 0..6 {
            q.send(ms(k));
        }
        for _ in 0..3 {
            q.receive(0, ms(10), vis(1000)).unwrap();
        }
        let other = q.receive(1, ms(10), vis(1000)).unwrap();
        assert_eq!(q.release_consumer(0), 3);
        assert_eq!((q.unacked(0), q.in_flight(), q.depth()), (0, 1, 5));
        assert_eq!(q.receive(1, ms(11), vis(1000)).unwrap().message.id, 0);
        assert!(q.ack(other.receipt));
        assert!(balanced(&q));
    }

    #[test]
    fn retention_deletes_ready_messages_only() {
        let mut q = queue(1, 0, 0);
        for k in 0..10 {
            q.send(ms(k));
        }
        let d = q.receive(0, ms(10), vis(5)).unwrap(); // id 0, in flight
        assert_eq!(q.expire_before(ms(5)), 4); // 1..5
        assert_eq!(q.expire_visibility(ms(15)).unwrap().1, Returned::Requeued);
        assert!(!q.ack(d.receipt));
        assert_eq!(q.expire_before(ms(6)), 2); // the requeued 0 (sent at 0) and 5
        assert_eq!((q.depth(), q.expired()), (4, 6));
        assert_eq!(q.oldest_ready(), Some(ms(6)));
        assert!(balanced(&q));
    }

    /// A random script: accounting balances at every step, the prefetch limit holds, every
    /// in-flight deadline is honoured, and no message is delivered more than max_receives times.
    #[test]
    fn random_scripts_balance_and_respect_limits() {
        let mut rng = SimRng::seed_from_u64(11);
        for &(consumers, prefetch, max) in &[(1u32, 1u32, 1u32), (3, 2, 3), (4, 0, 0), (2, 5, 5)] {
            let mut q = queue(consumers, prefetch, max);
            let mut held: Vec<Vec<Delivery>> = vec![Vec::new(); consumers as usize];
            let mut receives_of = std::collections::HashMap::new();
            let mut now = 0u64;
            for _ in 0..20_000 {
                now += rng.random_range(0..3u64);
                let t = ms(now);
                while let Some((m, _)) = q.expire_visibility(t) {
                    for h in &mut held {
                        h.retain(|d| d.message.id != m.id);
                    }
                }
                assert!(q.next_visibility_deadline().is_none_or(|d| d > t));
                let c = rng.random_range(0..consumers);
                match rng.random_range(0..10u32) {
                    0..=2 => {
                        q.send(t);
                    }
                    3..=5 => {
                        if let Some(d) = q.receive(c, t, vis(rng.random_range(0..20))) {
                            let n = receives_of.entry(d.message.id).or_insert(0u32);
                            *n += 1;
                            assert_eq!(*n, d.message.receives);
                            assert!(max == 0 || *n <= max);
                            held[c as usize].push(d);
                        } else if q.depth() > 0 {
                            assert!(prefetch > 0 && q.unacked(c) >= prefetch);
                        }
                    }
                    6 | 7 if !held[c as usize].is_empty() => {
                        let d = held[c as usize].swap_remove(0);
                        assert!(q.ack(d.receipt));
                    }
                    8 if !held[c as usize].is_empty() => {
                        let d = held[c as usize].pop().unwrap();
                        assert!(q.nack(d.receipt, rng.random_bool(0.8)).is_some());
                    }
                    9 if rng.random_range(0..20) == 0 => {
                        q.release_consumer(c);
                        held[c as usize].clear();
                    }
                    _ => {
                        q.expire_before(ms(now.saturating_sub(200)));
                    }
                }
                for c in 0..consumers {
                    assert_eq!(q.unacked(c) as usize, held[c as usize].len());
                    assert!(prefetch == 0 || q.unacked(c) <= prefetch);
                }
                assert!(balanced(&q));
            }
            assert!(q.acked() > 0 && q.dead_lettered() > 0 && q.expired() > 0);
            // With one delivery allowed, nothing is ever redelivered.
            assert_eq!(
                q.redelivered() > 0,
                max != 1,
                "{consumers} {prefetch} {max}"
            );
        }
    }

    /// Deliveries expire in exactly the order of one sorted list of (deadline, id), whatever
    /// mix of visibilities and visibility changes a script uses.
    #[test]
    fn deliveries_expire_in_deadline_then_id_order() {
        let mut rng = SimRng::seed_from_u64(23);
        // (share of receives with the queue's usual timeout, share of visibility changes)
        for &(usual, changes) in &[(1.0, 0.0), (0.9, 0.05), (0.5, 0.2), (0.0, 0.0)] {
            let mut q = queue(3, 0, 0);
            // The reference: every in-flight delivery with its deadline.
            let mut flying: Vec<(SimTime, u64, Receipt)> = Vec::new();
            let mut now = 0u64;
            let mut expired = 0;
            for _ in 0..20_000 {
                now += rng.random_range(0..3u64);
                let t = ms(now);
                loop {
                    let want = flying.iter().map(|f| (f.0, f.1)).min().filter(|m| m.0 <= t);
                    let got = q.expire_visibility(t);
                    assert_eq!(got.map(|(m, _)| m.id), want.map(|w| w.1));
                    let Some((_, id)) = want else { break };
                    flying.retain(|f| f.1 != id);
                    expired += 1;
                }
                let next = flying.iter().map(|f| f.0).min();
                assert_eq!(q.next_visibility_deadline(), next);
                assert_eq!(q.in_flight() as usize, flying.len());
                match rng.random_range(0..10u32) {
                    0..=3 => {
                        q.send(t);
                    }
                    4..=6 => {
                        let v = if rng.random_bool(usual) {
                            vis(15)
                        } else {
                            vis(rng.random_range(0..30))
                        };
                        if let Some(d) = q.receive(rng.random_range(0..3), t, v) {
                            flying.push((t.after(v), d.message.id, d.receipt));
                        }
                    }
                    7 if rng.random_bool(changes) && !flying.is_empty() => {
                        let k = rng.random_range(0..flying.len());
                        let v = vis(rng.random_range(0..30));
                        assert!(q.change_visibility(flying[k].2, t, v));
                        flying[k].0 = t.after(v);
                    }
                    _ if !flying.is_empty() => {
                        let k = rng.random_range(0..flying.len());
                        let f = flying.swap_remove(k);
                        if rng.random_bool(0.8) {
                            assert!(q.ack(f.2));
                        } else {
                            assert!(q.nack(f.2, true).is_some());
                        }
                    }
                    _ => {}
                }
                assert!(balanced(&q));
            }
            assert!(expired > 100, "the script exercises expiry ({expired})");
        }
    }

    #[test]
    fn tags_travel_with_their_messages() {
        let mut q = WorkQueue::tagged(QueueConfig {
            consumers: 2,
            prefetch: 0,
            max_receives: 2,
            log_blocks: 64,
        });
        for (t, tag) in [(0, 10), (1, 11), (2, 12), (3, 13)] {
            q.send_tagged(ms(t), tag);
        }
        let a = q.receive(0, ms(4), vis(100)).unwrap();
        let b = q.receive(1, ms(4), vis(100)).unwrap();
        assert_eq!((a.message.tag, b.message.tag), (10, 11));
        // A requeued message keeps its tag, and comes back first.
        assert_eq!(q.nack(a.receipt, true), Some(Returned::Requeued));
        let again = q.receive(1, ms(5), vis(100)).unwrap();
        assert_eq!((again.message.id, again.message.tag), (0, 10));
        // Consumer 1 crashes: message 0 (second delivery, the limit) is dead-lettered and
        // reported, message 1 is requeued.
        let mut dead = Vec::new();
        assert_eq!(q.release_consumer_with(1, |t| dead.push(t)), 2);
        assert_eq!(dead, vec![10]);
        // Retention deletes the requeued message 1 (sent at 1) and the fresh 2, reporting both.
        let mut deleted = Vec::new();
        assert_eq!(q.expire_before_with(ms(3), |t| deleted.push(t)), 2);
        deleted.sort_unstable();
        assert_eq!(deleted, vec![11, 12]);
        assert_eq!(q.receive(0, ms(6), vis(100)).unwrap().message.tag, 13);
        // An untagged queue hands out 0.
        let mut plain = queue(1, 0, 0);
        plain.send_tagged(ms(0), 7);
        assert_eq!(plain.receive(0, ms(0), vis(1)).unwrap().message.tag, 0);
    }
}
