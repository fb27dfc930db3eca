//! Integers that are never their type's maximum, so that an `Option` of one is as small as
//! the integer: `Option<NonMaxU64>` is 8 bytes, where `Option<u64>` is 16. The state of a
//! request uses them for "a time, or none" without a sentinel value that every reader must
//! know about.

use std::fmt;
use std::num::{NonZeroU16, NonZeroU32, NonZeroU64};

macro_rules! nonmax {
    ($(#[$doc:meta])* $name:ident, $nonzero:ty, $int:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name($nonzero);

        impl $name {
            /// `value`, or `None` if it is the type's maximum.
            #[inline]
            pub const fn new(value: $int) -> Option<Self> {
                // Stored inverted: the maximum becomes 0, the niche `Option` uses.
                match <$nonzero>::new(!value) {
                    Some(inverted) => Some($name(inverted)),
                    None => None,
                }
            }

            /// The value.
            #[inline]
            pub const fn get(self) -> $int {
                !self.0.get()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.get().fmt(f)
            }
        }
    };
}

nonmax!(
    /// A `u16` that is not `u16::MAX`.
    NonMaxU16,
    NonZeroU16,
    u16
);
nonmax!(
    /// A `u32` that is not `u32::MAX`.
    NonMaxU32,
    NonZeroU32,
    u32
);
nonmax!(
    /// A `u64` that is not `u64::MAX`.
    NonMaxU64,
    NonZeroU64,
    u64
);

const _: () = assert!(std::mem::size_of::<Option<NonMaxU64>>() == 8);
const _: () = assert!(std::mem::size_of::<Option<NonMaxU32>>() == 4);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_but_the_maximum_round_trips() {
        for v in [0, 1, 7, u64::MAX - 1] {
            assert_eq!(NonMaxU64::new(v).map(NonMaxU64::get), Some(v));
        }
        assert_eq!(NonMaxU64::new(u64::MAX), None);
        assert_eq!(NonMaxU32::new(u32::MAX), None);
        assert_eq!(NonMaxU32::new(0).map(NonMaxU32::get), Some(0));
        assert_eq!(NonMaxU16::new(u16::MAX), None);
        assert_eq!(NonMaxU16::new(3).map(NonMaxU16::get), Some(3));
    }
}
