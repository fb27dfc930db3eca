//! The simulation engine: a virtual clock, an event queue, and request state in slabs.
//!
//! # Time, ordering and determinism
//! Time is integer nanoseconds ([`SimTime`]). Events pop in time order, and events at the same
//! instant in the order they were scheduled ([`kernel::EventQueue`]). Work that happens *at* an
//! instant as a consequence of an event (a request handed to a free worker, a zero-latency
//! response) goes through a FIFO of micro-steps drained before the next event, so long chains of
//! zero-time work never recurse. A run is therefore a pure function of the model and the seed:
//! the same inputs give a byte-identical report on any machine and with any number of threads.
//!
//! **Common random numbers.** Every random draw comes from a stream of its own, derived from
//! the seed and the *stable name* of what draws from it ([`crate::rng::stream`]) — never from
//! a position in a list. A stream's key is a hash (FNV-1a) of its purpose, its name, an index
//! (0, or the replica for a replica's failures) and the seed, expanded into the generator's
//! state by SplitMix64; the names are the model's own names and paths, so a stream is the
//! same in every variant of a file that keeps them:
//!
//! | what draws | stream (purpose, name) |
//! |---|---|
//! | an entry point's arrivals | `arrivals`, its name |
//! | a service's work times (its `work` and `Work` steps) | `work`, the service |
//! | a service's own errors (`errors`) | `errors`, the service |
//! | a service's `Choice` picks and `Parallel` probabilities | `route`, the service |
//! | a service's balancer (and retries to another replica) | `balance`, the service |
//! | a replica's failures and repairs | `failures`, the service, the replica |
//! | a call step: whether it is made, request latency, response latency, retry jitter, fallback time | `call-route`, `call-request`, `call-response`, `call-retry`, `call-fallback`, its path (`services[api].steps[1]`) |
//! | a publish or send step: whether it is sent, its latency, its key | `publish-route`, `publish-latency`, `publish-keys`, its path |
//! | a fault of the timeline (a latency fault's extra latency, an error burst's errors, a slow broker's delay) | `fault`, its place (`faults[2]`) |
//!
//! The contract: a change to the model changes the draws of the streams it touches and of
//! nothing else. Adding a service, an entry point, a call or a publish step, or a fault, or
//! changing the parameters of one, leaves every other stream drawing the same numbers in the
//! same order; so the request-level results of the services the change cannot reach — not
//! downstream of it, not upstream through a call that waits on it, not sharing a queue or a
//! consumer group with it — are byte-identical, and those it can reach see the same
//! randomness up to the point where the change reaches them. A fault in particular never
//! draws from the streams of what it disturbs: once it is over and its effect has drained
//! (no queue carries it on), requests are answered exactly as without it. This is what makes
//! an A/B comparison of two topologies (a retry policy, a circuit breaker, one more replica)
//! compare the policy and not the luck of the draw. Paths are stable names as long as the
//! file keeps its shape: inserting a step *before* a call renames the call's path, and with
//! it the call's streams (so does renaming a service). The time-series bucket width widens
//! with the number of series, so adding entities can change the series, never the
//! request-level results. `tests/suite/determinism.rs` holds the engine to this: two
//! variants that differ in one call's `timeout` send the same requests at the same
//! nanoseconds from every entry point and leave the services the call cannot reach with
//! identical reports; adding an unrelated service and call, or faults elsewhere, leaves a
//! part of the topology byte-identical; a fault that is over leaves every answer as it was.
//!
//! # Requests, strands and workers
//! (Hop by hop, with the function and file of each: [`life`].)
//!
//! A *job* is one request at one service (an entry point's request, or a sync call). A job
//! waits in its replica's queue until a worker is free, then runs the service's steps on a
//! *strand*; `Parallel` and `Choice` steps run their branches on child strands of the same
//! job, and the parent strand resumes when all children have ended. The worker is held from
//! the first step to the last, including while a strand waits on a sync call: this is the
//! rendezvous of layered queueing networks, and the reason slow dependencies exhaust pools.
//! A caller that times out stops waiting, but the callee's job runs on (orphaned work).
//!
//! # Runaway models
//! A run always ends. A model whose work piles up stops at `run.max_in_flight` requests
//! alive ([`RunError::InFlightCap`]); a model that loops without virtual time advancing (a
//! *Zeno* model: a message failing in zero time and redelivered at once, zero-time processing
//! that sends the message round again) stops after `run.max_events_per_instant` events at one
//! instant ([`RunError::ZenoGuard`], see `zeno.rs`), naming what went round.

mod admission;
mod answer;
mod arrival;
mod broker;
mod build;
mod calls;
mod clock;
mod event;
mod faults;
/// Internals: the event queue and the slab the engine runs on, public only so that the
/// benchmarks can measure them. Not part of the library's API (it may change in any
/// release); a user of the library never needs it.
#[doc(hidden)]
pub mod kernel;
pub mod life;
pub(crate) mod measurements;
mod observer;
mod request;
mod service;
mod simulation;
mod strand;
mod timeouts;
mod workers;
mod zeno;

pub use simulation::Simulation;

use crate::error::{Problem, RunError};
use crate::model::{Model, RunConfig};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime};
use measurements::Measurements;

/// Overrides for one run; `None` keeps the topology file's value. Checked when the run
/// starts by the rules of the file's `run:`, with its messages ([`RunOptions::resolve`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Seed of every random stream.
    pub seed: Option<u64>,
    /// Simulated time, warm-up included.
    pub duration: Option<SimDuration>,
    /// Initial span excluded from statistics.
    pub warmup: Option<SimDuration>,
    /// Stop arrivals (and failure processes) at the end of `duration`, then go on until every
    /// request has ended, for at most [`MAX_DRAIN_FACTOR`] × the duration more. The report
    /// then covers the whole drained run, so time averages and sums over requests meet
    /// exactly (Little's law holds to rounding).
    pub drain: bool,
    /// Most events at one virtual instant before the run stops (the topology's
    /// `run.max_events_per_instant`, see [`RunError::ZenoGuard`]).
    pub max_events_per_instant: Option<u64>,
}

impl RunOptions {
    /// The run settings a run of `model` with these options uses: the file's `run:` with
    /// these options in its place, checked by the file's rules. A value the file could not
    /// hold (a duration of 0, a warm-up as long as the run, a cap of 0 events) is refused
    /// with the message the file would get, at the path of the setting it replaces
    /// (`invalid run option: run.warmup: the warm-up (2s) must be shorter than the run (1s);
    /// nothing would be measured`). Every run checks its options so; call this to check them
    /// before starting many.
    pub fn resolve(&self, model: &Model) -> Result<RunConfig, RunError> {
        model
            .run_config()
            .with_run_settings(
                self.seed,
                self.duration,
                self.warmup,
                self.max_events_per_instant,
            )
            .map_err(|problems| {
                RunError::BadOption(
                    problems
                        .iter()
                        .map(Problem::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
    }
}

/// How long a drained run may go on after its arrivals stop, as a multiple of its duration.
pub const MAX_DRAIN_FACTOR: u64 = 10;

/// One answered entry-point request, recorded when tracing is on (for tests and debugging).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// When the answer reached the client.
    pub time: SimTime,
    /// Index of the entry point in the model.
    pub entry: u32,
    /// How the request ended.
    pub outcome: Outcome,
    /// Time from arrival to answer.
    pub latency: SimDuration,
}

/// Runs `model` once with `options`; what the whole run measured.
pub fn run(model: &Model, options: &RunOptions) -> Result<Measurements, RunError> {
    Simulation::new(model, options)?.run()
}

/// Runs `model` once and also returns every answered entry-point request in time order.
/// Memory grows with the number of requests: meant for tests and small models.
pub fn run_traced(
    model: &Model,
    options: &RunOptions,
) -> Result<(Measurements, Vec<TraceRecord>), RunError> {
    let mut sim = Simulation::new(model, options)?.with_trace();
    while sim.step()? {}
    let trace = sim.take_trace();
    Ok((sim.into_measurements(), trace))
}
