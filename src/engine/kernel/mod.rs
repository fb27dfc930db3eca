//! The domain-free kernel under the engine: an event queue ordered by (time, sequence), a
//! generational slab, and integers with a niche for `Option`. Nothing here knows what a
//! service, a request or a message is.

pub mod event_queue;
pub mod niche;
pub mod slab;

pub use event_queue::EventQueue;
pub use niche::{NonMaxU16, NonMaxU32, NonMaxU64};
pub use slab::{Key, Slab};
