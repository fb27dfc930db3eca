//! A Kafka consumer group over the partitions of one topic (docs/semantics.md, *Kafka
//! consumer groups*), as a state machine the engine drives.
//!
//! * **Assignment** is Kafka's `RangeAssignor`: the live members, in index order, get
//!   contiguous slices of the partitions; with `P` partitions and `L` live members each gets
//!   `⌊P/L⌋`, and the first `P mod L` one more (P = 6, C = 4 → 2, 2, 1, 1). Each partition has
//!   at most one owner; members beyond the partition count are idle.
//! * **Offsets.** Per partition the group keeps the *committed* offset (durable; where a new
//!   owner resumes) and the *position* (the next offset to deliver; in memory only).
//!   [`ConsumerGroup::poll`] hands out a range of offsets of **one** partition (the engine
//!   processes them in offset order) and moves the position past it;
//!   [`ConsumerGroup::commit`] stores "last processed + 1". Only the current owner may commit
//!   (Kafka's `CommitFailedException` for a fenced member).
//! * **Crash and rebalance.** [`ConsumerGroup::crash`] marks a member dead: its partitions
//!   stall, still assigned to it, until the engine's session-timeout timer fires. The engine
//!   then calls [`ConsumerGroup::revoke_all`] (an eager rebalance stops the whole group) and,
//!   after the rebalance pause, [`ConsumerGroup::assign`], which reassigns the partitions
//!   among the live members and resets every position to the committed offset. Offsets
//!   delivered again are counted as **redeliveries**; offsets processed again (reported with
//!   [`ConsumerGroup::processed`]) as **duplicates**.
//! * **Lag** per partition = log end − committed offset, floored at 0 (what
//!   `kafka-consumer-groups.sh` shows). **Time lag** = now − publish time of the committed
//!   offset, 0 when nothing is unconsumed: the age of the oldest unconsumed message, which
//!   kafka-lag-exporter estimates by interpolation and the log knows (within its documented
//!   bound).
//! * **Retention.** When the log start passes the committed offset,
//!   [`ConsumerGroup::sync_start`] moves the committed offset by `auto.offset.reset`
//!   ([`OffsetReset::Earliest`]: to the log start; [`OffsetReset::Latest`]: to the log end,
//!   skipping even what is still stored). Skipped messages the group never processed count
//!   as **expired** (lost) for the group.
//! * **Dead letters.** A message whose retries ran out is reported with
//!   [`ConsumerGroup::dead_letter`]; it counts as dead-lettered (not consumed) once a commit
//!   passes it. (Without a dead-letter topic the engine just does not commit: the partition
//!   blocks.)
//!
//! **Conservation.** Summed over partitions, always:
//! `produced (log end offsets) = consumed + lag + expired + dead_lettered`, each message in
//! exactly one term ([`ConsumerGroup::check_conservation`]).
//!
//! No call allocates except [`ConsumerGroup::dead_letter`] (a small per-partition queue of
//! dead-lettered offsets not yet committed), and [`ConsumerGroup::assign`] is O(P + C).

use super::log::PartitionLog;
use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;
use std::ops::Range;

/// Where a group resumes when its committed offset was deleted by retention
/// (`auto.offset.reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// Resume at the log start: only the deleted messages are lost.
    #[default]
    Earliest,
    /// Resume at the log end: everything unread is skipped (Kafka's default, silent loss).
    Latest,
}

/// A range of offsets of one partition handed to a consumer by [`ConsumerGroup::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The partition.
    pub partition: u32,
    /// The first offset to process.
    pub start: u64,
    /// One past the last offset to process.
    pub end: u64,
    /// How many of the offsets had been delivered before (after a crash or rebalance).
    pub redelivered: u64,
}

impl Batch {
    /// The number of messages in the batch.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the batch is empty (never returned by `poll`).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

#[derive(Clone, Debug, Default)]
struct Part {
    committed: u64,
    position: u64,
    /// One past the highest offset ever delivered.
    delivered_hw: u64,
    /// One past the highest offset ever processed.
    processed_hw: u64,
    owner: Option<u32>,
    /// Dead-lettered offsets at or above `committed`, ascending.
    dead: VecDeque<u64>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Member {
    alive: bool,
    lo: u32,
    hi: u32,
    cursor: u32,
}

/// One consumer group's view of one topic (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct ConsumerGroup {
    parts: Vec<Part>,
    members: Vec<Member>,
    reset: OffsetReset,
    generation: u64,
    consumed: u64,
    expired: u64,
    dead_lettered: u64,
    delivered: u64,
    redelivered: u64,
    processed: u64,
    duplicates: u64,
    rebalances: u64,
}

impl ConsumerGroup {
    /// A group of `consumers` live members over `partitions` partitions, all committed offsets
    /// 0, already assigned (generation 1).
    pub fn new(partitions: u32, consumers: u32, reset: OffsetReset) -> Self {
        let mut g = ConsumerGroup {
            parts: vec![Part::default(); partitions as usize],
            members: vec![
                Member {
                    alive: true,
                    ..Member::default()
                };
                consumers as usize
            ],
            reset,
            generation: 0,
            consumed: 0,
            expired: 0,
            dead_lettered: 0,
            delivered: 0,
            redelivered: 0,
            processed: 0,
            duplicates: 0,
            rebalances: 0,
        };
        g.assign();
        g.rebalances = 0;
        g
    }

    /// The number of partitions.
    pub fn partitions(&self) -> u32 {
        self.parts.len() as u32
    }

    /// The number of members, live or dead.
    pub fn consumers(&self) -> u32 {
        self.members.len() as u32
    }

    /// The partitions assigned to `consumer` (empty when idle, dead-and-revoked, during a
    /// rebalance, or out of range).
    pub fn assignment(&self, consumer: u32) -> Range<u32> {
        self.members
            .get(consumer as usize)
            .map_or(0..0, |m| m.lo..m.hi)
    }

    /// The member owning `partition`, if any.
    pub fn owner(&self, partition: u32) -> Option<u32> {
        self.parts.get(partition as usize)?.owner
    }

    /// Whether `consumer` is a live member.
    pub fn is_alive(&self, consumer: u32) -> bool {
        self.members.get(consumer as usize).is_some_and(|m| m.alive)
    }

    /// The assignment generation: bumped by every [`assign`](Self::assign).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Rebalances completed since the group was built.
    pub fn rebalances(&self) -> u64 {
        self.rebalances
    }

    /// `consumer` crashed: it stops polling and committing, but keeps its partitions (which
    /// stall) until the engine's session timeout leads to [`revoke_all`](Self::revoke_all)
    /// and [`assign`](Self::assign).
    pub fn crash(&mut self, consumer: u32) {
        if let Some(m) = self.members.get_mut(consumer as usize) {
            m.alive = false;
        }
    }

    /// `consumer` (re)joins as a live member; it gets partitions at the next
    /// [`assign`](Self::assign).
    pub fn join(&mut self, consumer: u32) {
        if let Some(m) = self.members.get_mut(consumer as usize) {
            m.alive = true;
        }
    }

    /// An eager rebalance begins: every member loses every partition, so nothing is polled
    /// or committed until [`assign`](Self::assign).
    pub fn revoke_all(&mut self) {
        for m in &mut self.members {
            (m.lo, m.hi, m.cursor) = (0, 0, 0);
        }
        for p in &mut self.parts {
            p.owner = None;
        }
    }

    /// The rebalance completes: range assignment over the live members, and every position
    /// reset to its committed offset (what a new owner fetches first).
    pub fn assign(&mut self) {
        let live = self.members.iter().filter(|m| m.alive).count() as u32;
        let p = self.parts.len() as u32;
        let per = p.checked_div(live).unwrap_or(0);
        let extra = p.checked_rem(live).unwrap_or(0);
        let mut k = 0u32;
        for (i, m) in self.members.iter_mut().enumerate() {
            (m.lo, m.hi, m.cursor) = (0, 0, 0);
            if !m.alive {
                continue;
            }
            let lo = k * per + k.min(extra);
            let hi = lo + per + u32::from(k < extra);
            if hi > lo {
                (m.lo, m.hi) = (lo, hi);
            }
            for part in &mut self.parts[lo as usize..hi as usize] {
                part.owner = Some(i as u32);
            }
            k += 1;
        }
        for part in &mut self.parts {
            if live == 0 {
                part.owner = None;
            }
            part.position = part.committed;
        }
        self.generation += 1;
        self.rebalances += 1;
    }

    /// The next batch for `consumer`: up to `max_batch` offsets from the position of the first
    /// of its partitions, round-robin from where its previous poll stopped, that has unread
    /// messages; the position moves past them. `None` if the consumer is dead, owns nothing or
    /// is caught up. Partitions without a leader ([`PartitionLog::is_available`]) are skipped. Checks the log start first ([`sync_start`](Self::sync_start)).
    /// `logs[p]` is partition p's log.
    pub fn poll(&mut self, consumer: u32, max_batch: u64, logs: &[PartitionLog]) -> Option<Batch> {
        let m = *self.members.get(consumer as usize)?;
        let n = m.hi - m.lo;
        if !m.alive || n == 0 || max_batch == 0 {
            return None;
        }
        for k in 0..n {
            let p = m.lo + (m.cursor + k) % n;
            let log = &logs[p as usize];
            if !log.is_available() {
                continue; // no leader: nothing can be fetched from it
            }
            self.sync_start(p, log);
            let part = &mut self.parts[p as usize];
            let end = log.end_offset();
            if part.position < end {
                let start = part.position;
                let stop = end.min(start.saturating_add(max_batch));
                let redelivered = part.delivered_hw.clamp(start, stop) - start;
                part.position = stop;
                part.delivered_hw = part.delivered_hw.max(stop);
                self.delivered += stop - start;
                self.redelivered += redelivered;
                self.members[consumer as usize].cursor = (m.cursor + k + 1) % n;
                return Some(Batch {
                    partition: p,
                    start,
                    end: stop,
                    redelivered,
                });
            }
        }
        None
    }

    /// The engine finished processing `offset` of `partition` (successfully, or it gave up
    /// and dead-lettered it). Returns whether it had been processed before: a duplicate.
    pub fn processed(&mut self, partition: u32, offset: u64) -> bool {
        let part = &mut self.parts[partition as usize];
        self.processed += 1;
        if offset < part.processed_hw {
            self.duplicates += 1;
            true
        } else {
            part.processed_hw = offset + 1;
            false
        }
    }

    /// `offset` of `partition` failed for good and was published to the dead-letter topic;
    /// marks it processed (returns whether that was a duplicate, as
    /// [`processed`](Self::processed)). It counts as dead-lettered when a commit passes it;
    /// if the owner crashes first it is redelivered and may be dead-lettered again.
    pub fn dead_letter(&mut self, partition: u32, offset: u64) -> bool {
        let dup = self.processed(partition, offset);
        let part = &mut self.parts[partition as usize];
        if offset >= part.committed && part.dead.back().is_none_or(|&d| d < offset) {
            part.dead.push_back(offset);
        }
        dup
    }

    /// `consumer` commits `next` (last processed + 1) for `partition`. Refused (`false`) when
    /// it does not own the partition (dead, revoked, or another member's). The offset is
    /// clamped to the position (nothing beyond what was delivered) and never moves back.
    pub fn commit(&mut self, consumer: u32, partition: u32, next: u64) -> bool {
        let Some(part) = self.parts.get(partition as usize) else {
            return false;
        };
        if part.owner != Some(consumer) || !self.is_alive(consumer) {
            return false;
        }
        let target = next.min(part.position);
        self.advance(partition, target, false);
        true
    }

    /// Moves the committed offset of `p` up to `target`, accounting for every offset passed:
    /// dead-lettered, consumed, or (when `skipped` and never processed) expired.
    fn advance(&mut self, p: u32, target: u64, skipped: bool) {
        let part = &mut self.parts[p as usize];
        let from = part.committed;
        if target <= from {
            return;
        }
        let mut dead = 0;
        while let Some(&d) = part.dead.front() {
            if d >= target {
                break;
            }
            part.dead.pop_front();
            if d >= from {
                dead += 1;
            }
        }
        let passed = target - from;
        let consumed = if skipped {
            // Processed offsets form a prefix (in-order processing); dead ones are among them.
            (part.processed_hw.clamp(from, target) - from).saturating_sub(dead)
        } else {
            passed - dead
        };
        self.dead_lettered += dead;
        self.consumed += consumed;
        self.expired += passed - dead - consumed;
        part.committed = target;
        part.position = part.position.max(target);
        part.delivered_hw = part.delivered_hw.max(target);
        part.processed_hw = part.processed_hw.max(target);
    }

    /// Applies retention: if `log`'s start has passed the committed offset of `partition`, the
    /// committed offset (and position) jump by the group's [`OffsetReset`], and the messages
    /// skipped that the group never processed count as expired. Returns how many expired now.
    /// [`poll`](Self::poll) does this itself; call it for every partition after a retention
    /// sweep so that lag and conservation are up to date.
    pub fn sync_start(&mut self, partition: u32, log: &PartitionLog) -> u64 {
        let committed = self.parts[partition as usize].committed;
        if committed >= log.start_offset() {
            return 0;
        }
        let before = self.expired;
        let target = match self.reset {
            OffsetReset::Earliest => log.start_offset(),
            OffsetReset::Latest => log.end_offset(),
        };
        self.advance(partition, target, true);
        self.expired - before
    }

    /// [`sync_start`](Self::sync_start) for every partition; returns how many expired now.
    pub fn sync_all(&mut self, logs: &[PartitionLog]) -> u64 {
        (0..self.partitions())
            .map(|p| self.sync_start(p, &logs[p as usize]))
            .sum()
    }

    /// The committed offset of `partition`.
    pub fn committed(&self, partition: u32) -> u64 {
        self.parts[partition as usize].committed
    }

    /// The position (next offset to deliver) of `partition`.
    pub fn position(&self, partition: u32) -> u64 {
        self.parts[partition as usize].position
    }

    /// Offset lag of `partition`: log end − committed, floored at 0.
    pub fn lag(&self, partition: u32, log: &PartitionLog) -> u64 {
        log.end_offset()
            .saturating_sub(self.parts[partition as usize].committed)
    }

    /// Offset lag summed over partitions.
    pub fn total_lag(&self, logs: &[PartitionLog]) -> u64 {
        (0..self.partitions())
            .map(|p| self.lag(p, &logs[p as usize]))
            .sum()
    }

    /// The largest offset lag of any partition.
    pub fn max_lag(&self, logs: &[PartitionLog]) -> u64 {
        (0..self.partitions())
            .map(|p| self.lag(p, &logs[p as usize]))
            .max()
            .unwrap_or(0)
    }

    /// Time lag of `partition` at `now`: the age of the message at the committed offset (the
    /// oldest unconsumed one), 0 when there is none. If that offset was deleted but not yet
    /// synced, the oldest stored message's age is used.
    pub fn time_lag(&self, partition: u32, now: SimTime, log: &PartitionLog) -> SimDuration {
        let c = self.parts[partition as usize]
            .committed
            .max(log.start_offset());
        log.publish_time(c)
            .map_or(SimDuration::ZERO, |t| now.since(t))
    }

    /// The largest time lag of any partition.
    pub fn max_time_lag(&self, now: SimTime, logs: &[PartitionLog]) -> SimDuration {
        (0..self.partitions())
            .map(|p| self.time_lag(p, now, &logs[p as usize]))
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    /// Messages committed as processed (not dead-lettered).
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Messages lost to this group: deleted by retention (or skipped by
    /// [`OffsetReset::Latest`]) before it processed them.
    pub fn expired(&self) -> u64 {
        self.expired
    }

    /// Messages dead-lettered and committed past.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// Offsets delivered by [`poll`](Self::poll), redeliveries included.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Offsets delivered again after having been delivered before.
    pub fn redelivered(&self) -> u64 {
        self.redelivered
    }

    /// Messages reported processed, duplicates included.
    pub fn processed_count(&self) -> u64 {
        self.processed
    }

    /// Messages processed again after having been processed before (at-least-once duplicates).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Whether `produced = consumed + lag + expired + dead_lettered` holds, where produced is
    /// the sum of the logs' end offsets.
    pub fn check_conservation(&self, logs: &[PartitionLog]) -> bool {
        let produced: u64 = logs.iter().map(PartitionLog::end_offset).sum();
        produced == self.consumed + self.total_lag(logs) + self.expired + self.dead_lettered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn logs(p: usize) -> Vec<PartitionLog> {
        (0..p).map(|_| PartitionLog::new(256, None)).collect()
    }

    fn ms(v: u64) -> SimTime {
        SimTime(v * 1_000_000)
    }

    #[test]
    fn range_assignment_is_even_and_contiguous() {
        let g = ConsumerGroup::new(6, 4, OffsetReset::Earliest);
        let sizes: Vec<u32> = (0..4).map(|c| g.assignment(c).len() as u32).collect();
        assert_eq!(sizes, vec![2, 2, 1, 1]);
        assert_eq!(
            (0..4).map(|c| g.assignment(c)).collect::<Vec<_>>(),
            vec![0..2, 2..4, 4..5, 5..6]
        );
        for p in 0..6 {
            assert!(g.assignment(g.owner(p).unwrap()).contains(&p));
        }
        // More consumers than partitions: the extra ones idle.
        let mut l = logs(3);
        let mut g = ConsumerGroup::new(3, 5, OffsetReset::Earliest);
        assert_eq!(
            (0..5).map(|c| g.assignment(c).len()).collect::<Vec<_>>(),
            vec![1, 1, 1, 0, 0]
        );
        for log in &mut l {
            log.append(ms(0));
        }
        assert_eq!(g.poll(3, 10, &l), None);
        assert_eq!(g.poll(4, 10, &l), None);
        // A crash plus rebalance moves the partition to a formerly idle member.
        g.crash(1);
        g.revoke_all();
        assert_eq!(g.poll(0, 10, &l), None);
        g.assign();
        assert_eq!(
            (0..5).map(|c| g.assignment(c)).collect::<Vec<_>>(),
            vec![0..1, 0..0, 1..2, 2..3, 0..0]
        );
        assert_eq!(g.generation(), 2);
        assert_eq!(g.rebalances(), 1);
        // No live member: nobody owns anything.
        for c in 0..5 {
            g.crash(c);
        }
        g.assign();
        assert!((0..3).all(|p| g.owner(p).is_none()));
    }

    #[test]
    fn poll_delivers_in_offset_order_round_robin_over_partitions() {
        let mut l = logs(2);
        let mut g = ConsumerGroup::new(2, 1, OffsetReset::Earliest);
        for k in 0..5 {
            l[0].append(ms(k));
            l[1].append(ms(k));
        }
        let b = g.poll(0, 3, &l).unwrap();
        assert_eq!((b.partition, b.start, b.end, b.redelivered), (0, 0, 3, 0));
        let b = g.poll(0, 3, &l).unwrap();
        assert_eq!((b.partition, b.start, b.end), (1, 0, 3));
        let b = g.poll(0, 3, &l).unwrap();
        assert_eq!((b.partition, b.start, b.end), (0, 3, 5));
        let b = g.poll(0, 3, &l).unwrap();
        assert_eq!((b.partition, b.start, b.end), (1, 3, 5));
        assert_eq!(b.len(), 2);
        assert_eq!(g.poll(0, 3, &l), None);
        assert_eq!(g.delivered(), 10);
        assert_eq!(g.poll(0, 0, &l), None);
    }

    #[test]
    fn lag_and_time_lag() {
        let mut l = logs(1);
        let mut g = ConsumerGroup::new(1, 1, OffsetReset::Earliest);
        assert_eq!(g.lag(0, &l[0]), 0);
        assert_eq!(g.time_lag(0, ms(100), &l[0]), SimDuration::ZERO);
        for k in 0..10 {
            l[0].append(ms(10 * k));
        }
        assert_eq!(g.lag(0, &l[0]), 10);
        assert_eq!(g.time_lag(0, ms(100), &l[0]), SimDuration::from_millis(100));
        let b = g.poll(0, 4, &l).unwrap();
        // Polled but not committed: the lag does not move (it uses the committed offset).
        assert_eq!(g.lag(0, &l[0]), 10);
        for o in b.start..b.end {
            assert!(!g.processed(0, o));
        }
        assert!(g.commit(0, 0, b.end));
        assert_eq!(g.lag(0, &l[0]), 6);
        assert_eq!(g.time_lag(0, ms(100), &l[0]), SimDuration::from_millis(60));
        assert_eq!(g.total_lag(&l), 6);
        assert_eq!(g.max_lag(&l), 6);
        assert_eq!(g.max_time_lag(ms(100), &l), SimDuration::from_millis(60));
        // Commits never go back and never pass the position.
        assert!(g.commit(0, 0, 2));
        assert_eq!(g.committed(0), 4);
        assert!(g.commit(0, 0, 9));
        assert_eq!(g.committed(0), 4);
        assert_eq!(g.consumed(), 4);
        assert!(g.check_conservation(&l));
    }

    #[test]
    fn crash_redelivers_everything_since_the_last_commit() {
        let mut l = logs(2);
        let mut g = ConsumerGroup::new(2, 2, OffsetReset::Earliest);
        for k in 0..20 {
            l[0].append(ms(k));
        }
        // Consumer 0 polls 10, processes 7, commits 5, then crashes.
        let b = g.poll(0, 10, &l).unwrap();
        assert_eq!((b.partition, b.start, b.end), (0, 0, 10));
        for o in 0..7 {
            g.processed(0, o);
        }
        assert!(g.commit(0, 0, 5));
        g.crash(0);
        assert!(!g.commit(0, 0, 7), "a dead member cannot commit");
        assert_eq!(g.poll(0, 10, &l), None);
        // The partition stalls until the session timeout; then the rebalance.
        assert_eq!(g.owner(0), Some(0));
        assert_eq!(g.lag(0, &l[0]), 15);
        g.revoke_all();
        g.assign();
        assert_eq!(g.owner(0), Some(1));
        assert_eq!(g.position(0), 5);
        let b = g.poll(1, 100, &l).unwrap();
        assert_eq!((b.partition, b.start, b.end), (0, 5, 20));
        assert_eq!(b.redelivered, 5); // offsets 5..10 were delivered before
        let dups = (b.start..b.end).filter(|&o| g.processed(0, o)).count();
        assert_eq!(dups, 2); // 5 and 6 were processed but not committed
        assert_eq!((g.redelivered(), g.duplicates()), (5, 2));
        assert!(!g.commit(0, 0, 20), "the old owner is fenced");
        assert!(g.commit(1, 0, 20));
        assert_eq!((g.consumed(), g.lag(0, &l[0])), (20, 0));
        assert!(g.check_conservation(&l));
    }

    #[test]
    fn retention_expires_unconsumed_messages_for_the_group() {
        let mut l = logs(1);
        let mut g = ConsumerGroup::new(1, 1, OffsetReset::Earliest);
        for k in 0..10 {
            l[0].append(ms(k));
        }
        let b = g.poll(0, 4, &l).unwrap();
        for o in b.start..b.end {
            g.processed(0, o);
        }
        g.commit(0, 0, 2);
        // Retention deletes 0..6: 2..4 were processed (not yet committed), 4..6 never were.
        assert_eq!(l[0].expire_before(ms(6)), 6);
        assert_eq!(g.sync_start(0, &l[0]), 2);
        assert_eq!((g.committed(0), g.consumed(), g.expired()), (6, 4, 2));
        assert_eq!(g.lag(0, &l[0]), 4);
        assert_eq!(g.time_lag(0, ms(10), &l[0]), SimDuration::from_millis(4));
        assert!(g.check_conservation(&l));
        // Latest skips even what is still stored.
        let mut l = logs(1);
        let mut g = ConsumerGroup::new(1, 1, OffsetReset::Latest);
        for k in 0..10 {
            l[0].append(ms(k));
        }
        l[0].expire_before(ms(3));
        assert_eq!(g.poll(0, 100, &l), None);
        assert_eq!((g.committed(0), g.expired(), g.lag(0, &l[0])), (10, 10, 0));
        assert!(g.check_conservation(&l));
    }

    #[test]
    fn dead_letters_count_once_committed() {
        let mut l = logs(1);
        let mut g = ConsumerGroup::new(1, 1, OffsetReset::Earliest);
        for k in 0..5 {
            l[0].append(ms(k));
        }
        g.poll(0, 5, &l).unwrap();
        g.processed(0, 0);
        g.dead_letter(0, 1);
        g.processed(0, 2);
        assert!(g.commit(0, 0, 3));
        assert_eq!((g.consumed(), g.dead_lettered()), (2, 1));
        g.dead_letter(0, 3);
        // Crash before the commit: 3 comes back and is dead-lettered again (a duplicate).
        g.crash(0);
        g.join(0);
        g.revoke_all();
        g.assign();
        let b = g.poll(0, 5, &l).unwrap();
        assert_eq!((b.start, b.end, b.redelivered), (3, 5, 2));
        assert!(g.dead_letter(0, 3));
        assert!(!g.processed(0, 4));
        assert!(g.commit(0, 0, 5));
        assert_eq!((g.consumed(), g.dead_lettered(), g.duplicates()), (3, 2, 1));
        assert!(g.check_conservation(&l));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Produce(u32, u8),
        Poll(u32, u8),
        Process(u32),
        DeadLetter(u32),
        Commit(u32),
        Crash(u32),
        Join(u32),
        Rebalance,
        Retention(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..4u32, 1..20u8).prop_map(|(p, n)| Op::Produce(p, n)),
            4 => (0..5u32, 1..10u8).prop_map(|(c, n)| Op::Poll(c, n)),
            4 => (0..5u32).prop_map(Op::Process),
            1 => (0..5u32).prop_map(Op::DeadLetter),
            3 => (0..5u32).prop_map(Op::Commit),
            1 => (0..5u32).prop_map(Op::Crash),
            1 => (0..5u32).prop_map(Op::Join),
            1 => Just(Op::Rebalance),
            1 => (0..50u8).prop_map(Op::Retention),
        ]
    }

    proptest! {
        /// Random scripts against a model consumer: at most one owner per partition, in-order
        /// delivery, lag never negative, and conservation at every step.
        #[test]
        fn conservation_holds_at_every_step(
            ops in proptest::collection::vec(op(), 1..300),
            latest in any::<bool>(),
        ) {
            let reset = if latest { OffsetReset::Latest } else { OffsetReset::Earliest };
            let p = 4;
            let mut l = logs(p);
            let mut g = ConsumerGroup::new(p as u32, 5, reset);
            let mut now = 0u64;
            // Per consumer: the batch being processed and the next offset to process in it.
            let mut work: Vec<Option<(Batch, u64)>> = vec![None; 5];
            let mut produced = 0u64;
            for op in ops {
                now += 1;
                match op {
                    Op::Produce(part, n) => {
                        for _ in 0..n {
                            l[part as usize].append(ms(now));
                            produced += 1;
                        }
                    }
                    Op::Poll(c, n) => {
                        if work[c as usize].is_none() {
                            if let Some(b) = g.poll(c, u64::from(n), &l) {
                                prop_assert_eq!(g.owner(b.partition), Some(c));
                                prop_assert!(b.start >= g.committed(b.partition));
                                work[c as usize] = Some((b, b.start));
                            }
                        }
                    }
                    Op::Process(c) | Op::DeadLetter(c) => {
                        if let Some((b, next)) = work[c as usize].as_mut() {
                            if *next < b.end && g.is_alive(c) {
                                if matches!(op, Op::Process(_)) {
                                    g.processed(b.partition, *next);
                                } else {
                                    g.dead_letter(b.partition, *next);
                                }
                                *next += 1;
                            }
                        }
                    }
                    Op::Commit(c) => {
                        if let Some((b, next)) = work[c as usize] {
                            let ok = g.commit(c, b.partition, next);
                            prop_assert_eq!(ok, g.owner(b.partition) == Some(c) && g.is_alive(c));
                            if next == b.end || !ok {
                                work[c as usize] = None;
                            }
                        }
                    }
                    Op::Crash(c) => {
                        g.crash(c);
                        work[c as usize] = None;
                    }
                    Op::Join(c) => g.join(c),
                    Op::Rebalance => {
                        g.revoke_all();
                        g.assign();
                        work.iter_mut().for_each(|w| *w = None);
                    }
                    Op::Retention(age) => {
                        for log in &mut l {
                            log.expire_before(ms(now.saturating_sub(u64::from(age))));
                        }
                        g.sync_all(&l);
                    }
                }
                let owned: usize = (0..5).map(|c| g.assignment(c).len()).sum();
                prop_assert!(owned <= p);
                for part in 0..p as u32 {
                    prop_assert!(g.committed(part) <= g.position(part));
                    prop_assert!(g.position(part) <= l[part as usize].end_offset());
                }
                prop_assert_eq!(l.iter().map(|x| x.end_offset()).sum::<u64>(), produced);
                prop_assert!(g.check_conservation(&l));
            }
        }
    }
}
