//! An idempotency window: the message ids a consumer has seen recently, so that an idempotent
//! consumer can drop a redelivered duplicate (the issue's "dedup by message id within a
//! window").
//!
//! [`DedupWindow::seen`] remembers an id at its first sighting for `window`; a second
//! sighting before `first + window` is a duplicate, one at or after it is new again (the
//! window is too short to catch it). Memory is bounded: entries leave when their window ends,
//! and, with a capacity, the oldest entry is forgotten early when it is full. Sightings must
//! come in non-decreasing time.

use crate::time::{SimDuration, SimTime};
use std::collections::{HashSet, VecDeque};

/// Message ids seen within a time window (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct DedupWindow {
    window: SimDuration,
    capacity: usize,
    order: VecDeque<(u64, SimTime)>,
    ids: HashSet<u64>,
    duplicates: u64,
}

impl DedupWindow {
    /// A window remembering each id for `window`, and at most `capacity` ids (0 = no cap).
    pub fn new(window: SimDuration, capacity: usize) -> Self {
        DedupWindow {
            window,
            capacity,
            order: VecDeque::new(),
            ids: HashSet::new(),
            duplicates: 0,
        }
    }

    /// Forgets the ids whose window has ended by `now`.
    fn evict(&mut self, now: SimTime) {
        while let Some(&(old, t)) = self.order.front() {
            if now < t.after(self.window) {
                break;
            }
            self.order.pop_front();
            self.ids.remove(&old);
        }
    }

    /// Whether `id` is remembered at `now` (a duplicate, counted), without remembering it: an
    /// idempotent consumer asks before processing, and records with [`seen`](Self::seen)
    /// only once processing succeeded.
    pub fn contains(&mut self, id: u64, now: SimTime) -> bool {
        self.evict(now);
        let dup = self.ids.contains(&id);
        if dup {
            self.duplicates += 1;
        }
        dup
    }

    /// Whether `id` was seen within the window before `now` (a duplicate, counted); if not, it
    /// is remembered from `now`.
    pub fn seen(&mut self, id: u64, now: SimTime) -> bool {
        self.evict(now);
        if self.ids.contains(&id) {
            self.duplicates += 1;
            return true;
        }
        if self.capacity > 0 && self.order.len() >= self.capacity {
            if let Some((old, _)) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        self.order.push_back((id, now));
        self.ids.insert(id);
        false
    }

    /// Ids remembered now (some may have a window that has ended, until the next call).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Duplicates caught so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimTime {
        SimTime(v * 1_000_000)
    }

    #[test]
    fn duplicates_within_the_window_only() {
        let mut d = DedupWindow::new(SimDuration::from_millis(100), 0);
        assert!(d.is_empty());
        assert!(!d.seen(1, ms(0)));
        assert!(!d.seen(2, ms(10)));
        assert!(d.seen(1, ms(50)));
        assert!(d.seen(1, ms(99)));
        // At first + window the id is forgotten: new again, remembered from now.
        assert!(!d.seen(1, ms(100)));
        assert!(d.seen(2, ms(109)));
        assert!(!d.seen(2, ms(110)));
        assert!(d.seen(1, ms(150)));
        assert_eq!(d.duplicates(), 4);
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn memory_is_bounded_by_time_and_capacity() {
        let mut d = DedupWindow::new(SimDuration::from_millis(10), 0);
        for k in 0..10_000u64 {
            assert!(!d.seen(k, ms(k)));
            assert!(d.len() <= 11);
        }
        let mut d = DedupWindow::new(SimDuration::from_secs(3600), 3);
        for k in 0..5 {
            d.seen(k, ms(k));
        }
        assert_eq!(d.len(), 3);
        assert!(!d.seen(0, ms(10)), "forgotten early at capacity");
        assert!(d.seen(4, ms(10)));
    }
}
