//! A generational slab: entity storage with stable, reusable slots and stale-key detection.
//!
//! Requests and their execution strands live here instead of in per-event heap objects. A key
//! carries the slot's generation; when a slot is freed its generation moves on, so an event
//! that still holds the old key (a timeout for a call that already answered) finds nothing and
//! is ignored — lazy cancellation without searching the event queue.

/// A handle to a slab entry: slot index and generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    idx: u32,
    gen: u32,
}

impl Key {
    /// A key that never matches a live entry.
    pub const NONE: Key = Key {
        idx: u32::MAX,
        gen: u32::MAX,
    };

    /// The key as one `u64` (to carry it where only an integer fits).
    pub fn to_bits(self) -> u64 {
        (u64::from(self.idx) << 32) | u64::from(self.gen)
    }

    /// The key [`to_bits`](Self::to_bits) gave `bits` for.
    pub fn from_bits(bits: u64) -> Key {
        Key {
            idx: (bits >> 32) as u32,
            gen: bits as u32,
        }
    }
}

struct Slot<T> {
    gen: u32,
    value: Option<T>,
}

/// Storage for entities of type `T`.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value`, reusing a freed slot when there is one.
    #[inline]
    pub fn insert(&mut self, value: T) -> Key {
        self.live += 1;
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            slot.value = Some(value);
            Key { idx, gen: slot.gen }
        } else {
            let idx = self.slots.len() as u32;
            self.slots.push(Slot {
                gen: 0,
                value: Some(value),
            });
            Key { idx, gen: 0 }
        }
    }

    /// The entry for `key`, unless it was removed since.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.idx as usize) {
            Some(s) if s.gen == key.gen => s.value.as_ref(),
            _ => None,
        }
    }

    /// The entry for `key`, mutably, unless it was removed since.
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.idx as usize) {
            Some(s) if s.gen == key.gen => s.value.as_mut(),
            _ => None,
        }
    }

    /// Removes and returns the entry; its key (and any copy of it) goes stale.
    #[inline]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.idx as usize)?;
        if slot.gen != key.gen {
            return None;
        }
        let v = slot.value.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(key.idx);
        self.live -= 1;
        Some(v)
    }

    /// Entries alive now.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_find_nothing() {
        let mut s = Slab::default();
        let a = s.insert(1);
        assert_eq!(s.remove(a), Some(1));
        let b = s.insert(2);
        assert_eq!(
            s.get(a),
            None,
            "the reused slot must not answer to the old key"
        );
        assert_eq!(s.get(b), Some(&2));
        assert_eq!(s.remove(a), None);
        assert_eq!(s.len(), 1);
        assert_eq!(s.get(Key::NONE), None);
    }
}
