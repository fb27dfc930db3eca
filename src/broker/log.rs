//! A partition log: offsets and publish times of the messages of one partition, stored
//! compactly enough that a backlog of millions of messages costs a bounded number of entries.
//!
//! Offsets are 0, 1, 2, … per partition, as in Kafka. [`PartitionLog::append`] assigns the
//! next one; deletions (retention by time, an optional maximum length, or an explicit
//! [`PartitionLog::delete_before`]) move the start offset up. The log stores no payload: only
//! what the simulator needs to report end-to-end latency and time lag, the publish time of an
//! offset.
//!
//! ## Compact storage and its error bound
//! The log is a deque of **blocks** `(first offset, count, first time, last time)`, oldest
//! first; a block of one message is an exact timestamp. At most `max_blocks` blocks are kept:
//! * a new block is opened holding at most `g = max(1, ⌈2·S/M⌉)` messages, where `S` is the
//!   number of messages stored at that moment and `M` is `max_blocks`. While `S < M/2` every
//!   message has its own exact timestamp;
//! * when the deque is full, one pass merges neighbours greedily into blocks of at most
//!   `⌈4·S/M⌉` messages, which leaves at most `M/2 + 2` blocks. A pass costs O(M) and the
//!   next one is at least `M/2 − 3` appends away, so appends are O(1) amortized, and memory
//!   is O(M) whatever the backlog.
//!
//! The publish time of an offset inside a block is **interpolated linearly** between the
//! block's first and last time (integer arithmetic, rounded down). Publish times never
//! decrease, so the true time of every message of a block lies in `[first, last]`, and so does
//! the estimate: **the error is at most the span of the block** (`last − first`), which
//! [`PartitionLog::time_error_bound`] returns for any offset. A block holds at most
//! `⌈4·S/M⌉` messages (S at the time it formed), so its span is at most that count − 1 times
//! the largest gap between consecutive publishes inside it. At a steady publish rate the
//! estimate is exact; the first and last message of each block are always exact.
//!
//! Retention by time ([`PartitionLog::expire_before`]) deletes whole blocks whose last time is
//! before the cutoff and, inside the block that straddles it, the messages whose *estimated*
//! time is before it (so the cut inside a block is as exact as the estimate). Kafka deletes
//! whole segments on a periodic sweep (docs/semantics.md, *Kafka consumer groups*); the engine
//! models the sweep by when it calls this, and may round the cutoff to segments itself.

use crate::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// The fewest blocks a log may be limited to (smaller limits are raised to it).
pub const MIN_BLOCKS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    first_offset: u64,
    count: u64,
    first: SimTime,
    last: SimTime,
}

impl Block {
    fn end(&self) -> u64 {
        self.first_offset + self.count
    }

    /// The interpolated time of the `i`-th message of the block (0-based).
    fn time_at(&self, i: u64) -> SimTime {
        if self.count <= 1 {
            return self.first;
        }
        let span = u128::from(self.last.0 - self.first.0);
        let add = span * u128::from(i) / u128::from(self.count - 1);
        SimTime(self.first.0 + add as u64)
    }
}

/// The offsets and publish times of one partition (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct PartitionLog {
    blocks: VecDeque<Block>,
    start: u64,
    end: u64,
    max_blocks: usize,
    max_len: Option<u64>,
    open_limit: u64,
    deleted: u64,
    available: bool,
}

impl PartitionLog {
    /// An empty log keeping at most `max_blocks` blocks (at least [`MIN_BLOCKS`]) and, if
    /// `max_len` is set, at most that many messages (the oldest are deleted on append, like
    /// Kafka's `retention.bytes` counted in messages).
    pub fn new(max_blocks: usize, max_len: Option<u64>) -> Self {
        PartitionLog {
            blocks: VecDeque::new(),
            start: 0,
            end: 0,
            max_blocks: max_blocks.max(MIN_BLOCKS),
            max_len,
            open_limit: 1,
            deleted: 0,
            available: true,
        }
    }

    /// Whether the partition has a leader: consumers read only from available partitions
    /// (the engine also publishes only to them).
    pub fn is_available(&self) -> bool {
        self.available
    }

    /// Marks the partition's leader as up (`true`) or down.
    pub fn set_available(&mut self, available: bool) {
        self.available = available;
    }

    /// Appends a message published at `now` and returns its offset. Times must not decrease.
    /// With a maximum length, the oldest message is deleted when the log would exceed it (see
    /// [`deleted`](Self::deleted) and [`start_offset`](Self::start_offset)).
    pub fn append(&mut self, now: SimTime) -> u64 {
        let offset = self.end;
        self.end += 1;
        match self.blocks.back_mut() {
            Some(b) if b.count < self.open_limit => {
                debug_assert!(b.last <= now, "publish times ran backwards");
                b.count += 1;
                b.last = now;
            }
            last => {
                debug_assert!(last.is_none_or(|b| b.last <= now), "time ran backwards");
                if self.blocks.len() >= self.max_blocks {
                    self.compact();
                }
                self.blocks.push_back(Block {
                    first_offset: offset,
                    count: 1,
                    first: now,
                    last: now,
                });
                let stored = self.end - self.start;
                // ⌈2·S/M⌉ is 1 while 2·S ≤ M: skip the division (a publish usually finds
                // the log short).
                self.open_limit = if 2 * stored <= self.max_blocks as u64 {
                    1
                } else {
                    (2 * stored).div_ceil(self.max_blocks as u64)
                };
            }
        }
        if let Some(max) = self.max_len {
            if self.end - self.start > max {
                self.delete_before(self.end - max);
            }
        }
        offset
    }

    /// Merges neighbouring blocks greedily into blocks of at most ⌈4·S/M⌉ messages.
    fn compact(&mut self) {
        let stored = self.end - self.start;
        let limit = (4 * stored).div_ceil(self.max_blocks as u64).max(2);
        let mut w = 0;
        for r in 1..self.blocks.len() {
            let b = self.blocks[r];
            let acc = &mut self.blocks[w];
            if acc.count + b.count <= limit {
                acc.count += b.count;
                acc.last = b.last;
            } else {
                w += 1;
                self.blocks[w] = b;
            }
        }
        self.blocks.truncate(w + 1);
    }

    /// The offset the next append gets (Kafka's log-end offset).
    pub fn end_offset(&self) -> u64 {
        self.end
    }

    /// The oldest offset still stored (Kafka's log-start offset); equals the end when empty.
    pub fn start_offset(&self) -> u64 {
        self.start
    }

    /// Messages stored now.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether no message is stored.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Messages deleted so far (retention, maximum length, explicit deletion).
    pub fn deleted(&self) -> u64 {
        self.deleted
    }

    /// Blocks held now (the memory footprint; at most `max_blocks`).
    pub fn stored_blocks(&self) -> usize {
        self.blocks.len()
    }

    fn block_of(&self, offset: u64) -> Option<&Block> {
        if offset < self.start || offset >= self.end {
            return None;
        }
        let i = self.blocks.partition_point(|b| b.first_offset <= offset);
        self.blocks.get(i.checked_sub(1)?)
    }

    /// The publish time of `offset` (interpolated inside a block; see the [module docs](self)
    /// for the error bound), or `None` if it is deleted or not yet written.
    pub fn publish_time(&self, offset: u64) -> Option<SimTime> {
        let b = self.block_of(offset)?;
        Some(b.time_at(offset - b.first_offset))
    }

    /// The most [`publish_time`](Self::publish_time) can be off for `offset`: the span of its
    /// block (zero for an exact timestamp). `None` if the offset is not stored.
    pub fn time_error_bound(&self, offset: u64) -> Option<SimDuration> {
        let b = self.block_of(offset)?;
        Some(b.last.since(b.first))
    }

    /// The publish time of the oldest stored message (when the next retention deletion is
    /// due: at this time + retention), or `None` when empty.
    pub fn start_time(&self) -> Option<SimTime> {
        self.publish_time(self.start)
    }

    /// Takes the oldest stored message out of the log (a work queue's receive): its offset
    /// and publish time, or `None` when empty. The same as reading
    /// [`publish_time`](Self::publish_time) of the start offset and deleting it, in O(1).
    pub fn pop_front(&mut self) -> Option<(u64, SimTime)> {
        if self.start == self.end {
            return None;
        }
        let offset = self.start;
        // Blocks wholly before the start are dropped, so the front block holds it.
        let b = *self.blocks.front()?;
        self.start += 1;
        self.deleted += 1;
        if b.end() <= self.start {
            self.blocks.pop_front();
        }
        Some((offset, b.time_at(offset - b.first_offset)))
    }

    /// Deletes every message with an offset below `offset` (clamped to the stored range) and
    /// returns how many were deleted.
    pub fn delete_before(&mut self, offset: u64) -> u64 {
        let offset = offset.clamp(self.start, self.end);
        let n = offset - self.start;
        self.start = offset;
        self.deleted += n;
        while self.blocks.front().is_some_and(|b| b.end() <= offset) {
            self.blocks.pop_front();
        }
        n
    }

    /// Retention by time: deletes the messages published before `cutoff` (typically
    /// `now − retention`), oldest first, and returns how many. Inside a block the cut uses the
    /// interpolated times. Callers count the deleted messages a group had not consumed as
    /// expired for that group (see `ConsumerGroup::sync_start`).
    pub fn expire_before(&mut self, cutoff: SimTime) -> u64 {
        let mut n = 0;
        while let Some(&b) = self.blocks.front() {
            if b.last < cutoff {
                n += self.delete_before(b.end());
                continue;
            }
            if b.first < cutoff {
                // The first i with first + ⌊span·i/(count−1)⌋ ≥ cutoff (span > 0 here).
                let span = u128::from(b.last.0 - b.first.0);
                let x = u128::from(cutoff.0 - b.first.0);
                let i = (x * u128::from(b.count - 1)).div_ceil(span) as u64;
                n += self.delete_before(b.first_offset + i);
            }
            break;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimTime {
        SimTime(v * 1_000_000)
    }

    #[test]
    fn offsets_and_exact_times_while_small() {
        let mut log = PartitionLog::new(64, None);
        assert!(log.is_empty());
        assert_eq!(log.start_time(), None);
        for k in 0..20 {
            assert_eq!(log.append(ms(k * k)), k);
        }
        assert_eq!(
            (log.start_offset(), log.end_offset(), log.len()),
            (0, 20, 20)
        );
        for k in 0..20 {
            assert_eq!(log.publish_time(k), Some(ms(k * k)));
            assert_eq!(log.time_error_bound(k), Some(SimDuration::ZERO));
        }
        assert_eq!(log.publish_time(20), None);
        assert_eq!(log.delete_before(5), 5);
        assert_eq!(log.publish_time(4), None);
        assert_eq!(log.start_time(), Some(ms(25)));
        assert_eq!(log.deleted(), 5);
        // Deleting below the start or past the end is clamped.
        assert_eq!(log.delete_before(3), 0);
        assert_eq!(log.delete_before(100), 15);
        assert!(log.is_empty());
        assert_eq!(log.append(ms(500)), 20);
        assert_eq!(log.start_offset(), 20);
    }

    #[test]
    fn retention_deletes_messages_older_than_the_cutoff() {
        let mut log = PartitionLog::new(64, None);
        for k in 0..10 {
            log.append(ms(10 * k)); // 0, 10, …, 90
        }
        assert_eq!(log.expire_before(ms(0)), 0);
        assert_eq!(log.expire_before(ms(25)), 3); // 0, 10, 20
        assert_eq!(log.start_offset(), 3);
        assert_eq!(log.expire_before(ms(30)), 0); // 30 is not older than 30
        assert_eq!(log.expire_before(ms(31)), 1);
        assert_eq!(log.expire_before(ms(1000)), 6);
        assert!(log.is_empty());
        assert_eq!(log.deleted(), 10);
        assert_eq!(log.stored_blocks(), 0);
    }

    #[test]
    fn max_length_deletes_the_oldest() {
        let mut log = PartitionLog::new(16, Some(5));
        for k in 0..12 {
            log.append(ms(k));
            assert!(log.len() <= 5);
        }
        assert_eq!(
            (log.start_offset(), log.end_offset(), log.deleted()),
            (7, 12, 7)
        );
        assert_eq!(log.start_time(), Some(ms(7)));
    }

    #[test]
    fn ten_million_steady_appends_stay_bounded_and_exact() {
        let cap = 4096;
        let mut log = PartitionLog::new(cap, None);
        let gap = 1_000; // 1 µs: one million messages per second
        let n = 10_000_000u64;
        for k in 0..n {
            log.append(SimTime(k * gap));
            assert!(log.stored_blocks() <= cap);
        }
        assert_eq!(log.end_offset(), n);
        assert!(log.blocks.capacity() <= 2 * cap);
        // At a steady rate the interpolation is exact; the bound still holds and is small.
        let bound_blocks = (4 * n).div_ceil(cap as u64);
        for k in (0..n).step_by(997).chain([n - 1]) {
            assert_eq!(log.publish_time(k), Some(SimTime(k * gap)));
            let bound = log.time_error_bound(k).unwrap().0;
            assert!(bound <= (bound_blocks - 1) * gap, "{k}: {bound}");
        }
        // Retention on the huge backlog: half of it.
        let deleted = log.expire_before(SimTime(n / 2 * gap));
        assert_eq!(deleted, n / 2);
        assert_eq!(log.start_time(), Some(SimTime(n / 2 * gap)));
    }

    /// Irregular (bursty) publish times: every estimate is within the block's span of the
    /// truth, and that span within the documented count bound times the largest gap.
    #[test]
    fn bursty_appends_respect_the_error_bound() {
        use crate::rng::SimRng;
        use rand::{Rng, SeedableRng};
        let cap = 64;
        let mut rng = SimRng::seed_from_u64(7);
        let mut log = PartitionLog::new(cap, None);
        let mut truth = Vec::new();
        let mut now = 0u64;
        let mut max_gap = 0;
        for _ in 0..50_000 {
            let gap = if rng.random_range(0..10) == 0 {
                rng.random_range(0..5_000_000)
            } else {
                rng.random_range(0..1000)
            };
            max_gap = max_gap.max(gap);
            now += gap;
            truth.push(now);
            log.append(SimTime(now));
            assert!(log.stored_blocks() <= cap);
            if rng.random_range(0..100) == 0 {
                // Retention now and then.
                let cutoff = SimTime(now.saturating_sub(20_000_000));
                log.expire_before(cutoff);
                assert!(log.start_time().is_none_or(|t| t >= cutoff));
            }
        }
        let stored = log.len();
        assert!(stored > 0);
        for k in log.start_offset()..log.end_offset() {
            let est = log.publish_time(k).unwrap().0;
            let t = truth[k as usize];
            let bound = log.time_error_bound(k).unwrap().0;
            assert!(
                est.abs_diff(t) <= bound,
                "offset {k}: {est} vs {t}, bound {bound}"
            );
            assert!(bound <= (4 * 50_000u64).div_ceil(cap as u64) * max_gap);
        }
        // Block boundaries are exact.
        for b in &log.blocks {
            assert_eq!(b.first.0, truth[b.first_offset as usize]);
            assert_eq!(b.last.0, truth[(b.end() - 1) as usize]);
        }
    }

    #[test]
    fn retention_inside_a_block_uses_the_interpolated_times() {
        let mut log = PartitionLog::new(8, None);
        for k in 0..1000 {
            log.append(ms(k));
        }
        assert!(log.stored_blocks() <= 8);
        assert_eq!(log.expire_before(ms(500)), 500);
        assert_eq!(log.start_time(), Some(ms(500)));
        assert_eq!(log.expire_before(SimTime(ms(500).0 + 1)), 1);
    }

    #[test]
    fn pop_front_reads_and_deletes_the_oldest_message() {
        let mut popped = PartitionLog::new(MIN_BLOCKS, None);
        let mut reference = PartitionLog::new(MIN_BLOCKS, None);
        // Enough messages to coalesce blocks, with uneven gaps, and pops interleaved.
        let mut t = 0;
        for i in 0..500u64 {
            t += 1 + (i * i) % 7;
            popped.append(ms(t));
            reference.append(ms(t));
            if i % 3 == 0 {
                let start = reference.start_offset();
                let expect = (start, reference.publish_time(start).unwrap());
                reference.delete_before(start + 1);
                assert_eq!(popped.pop_front(), Some(expect));
            }
        }
        while let Some(start) = (!reference.is_empty()).then(|| reference.start_offset()) {
            let expect = (start, reference.publish_time(start).unwrap());
            reference.delete_before(start + 1);
            assert_eq!(popped.pop_front(), Some(expect));
        }
        assert_eq!(popped.pop_front(), None);
        assert_eq!((popped.deleted(), popped.stored_blocks()), (500, 0));
    }
}
