//! The domain-free kernel under the engine: an event queue ordered by (time, sequence) and
//! a generational slab. Nothing here knows what a service, a request or a message is.

pub mod event_queue;
pub mod slab;

pub use event_queue::EventQueue;
pub use slab::{Key, Slab};
