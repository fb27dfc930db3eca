//! The pending-event set: a binary min-heap ordered by `(time, seq)`.
//!
//! This part of the kernel knows nothing of services. Ordering contract: events pop in
//! increasing time; events at the same time pop in the order they were scheduled (FIFO, by a
//! sequence number that never repeats within a run). Together with seeded random streams this
//! makes a run a pure function of the model and the seed.

use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// An event with its place in the order: `time` in the high 64 bits of `key`, the sequence
/// number in the low ones, so that one 128-bit comparison orders by time, then by seq.
struct Scheduled<E> {
    key: u128,
    event: E,
}

impl<E> Scheduled<E> {
    fn time(&self) -> u64 {
        (self.key >> 64) as u64
    }
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    /// Reversed, so that std's max-heap pops the earliest `(time, seq)` first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Events of type `E` waiting for their time.
pub struct EventQueue<E> {
    heap: BinaryHeap<Scheduled<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
        }
    }

    /// Schedules `event` at `time`; it pops after every event already scheduled at `time`.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        self.heap.push(Scheduled {
            key: (u128::from(time.0) << 64) | u128::from(self.seq),
            event,
        });
        self.seq += 1;
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|s| SimTime(s.time()))
    }

    /// Removes and returns the next event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|s| (SimTime(s.time()), s.event))
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_fifo() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5), 'a');
        q.schedule(SimTime(1), 'b');
        q.schedule(SimTime(5), 'c');
        q.schedule(SimTime(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    /// Random times, the largest ones included: the queue pops exactly in the order of a
    /// stable sort by time (time in the high half of the key, sequence in the low half).
    #[test]
    fn pops_as_a_stable_sort_by_time() {
        use crate::rng::SimRng;
        use rand::{Rng, SeedableRng};
        let mut rng = SimRng::seed_from_u64(5);
        let mut q = EventQueue::new();
        let mut all = Vec::new();
        for k in 0..5_000u32 {
            let t = match rng.random_range(0..4) {
                0 => u64::MAX - rng.random_range(0..3u64),
                1 => rng.random_range(0..10u64),
                _ => rng.random::<u64>() >> rng.random_range(0..64),
            };
            q.schedule(SimTime(t), k);
            all.push((t, k));
            if rng.random_range(0..3) == 0 {
                // Interleave pops: what is popped is the earliest of what is there.
                let min = *all.iter().min().expect("just pushed");
                assert_eq!(q.pop(), Some((SimTime(min.0), min.1)));
                all.retain(|&e| e != min);
            }
        }
        all.sort();
        let rest: Vec<(u64, u32)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
        assert_eq!(rest, all);
    }
}
