//! Building a run: checking the options, laying out the state of every service, call step,
//! topic and queue, and scheduling the first events.

use super::arrival::EntryState;
use super::broker::Broker;
use super::calls::{CallState, EdgeReplica};
use super::clock::Clock;
use super::event::Event;
use super::faults::Faults;
use super::kernel::Slab;
use super::observer::Observer;
use super::service::{Replica, ReplicaNumbering, ServiceState};
use super::simulation::Simulation;
use super::timeouts::TimeoutQueue;
use super::zeno::ZenoGuard;
use super::{RunOptions, MAX_DRAIN_FACTOR};
use crate::call::breaker::CircuitBreaker;
use crate::call::budget::BudgetState;
use crate::call::bulkhead::Bulkhead;
use crate::error::RunError;
use crate::failure::Renewal;
use crate::model::{CallEdge, EntryId, FaultId, Model, Service, ServiceId};
use crate::rng::stream;
use crate::time::SimTime;

/// The run's settings after the options override the file's.
struct Settings {
    seed: u64,
    /// Where statistics start \[ns\].
    warmup: u64,
    /// Where arrivals stop \[ns\].
    arrivals_end: u64,
    /// Where the run ends at the latest \[ns\].
    end: u64,
    /// The Zeno guard's cap.
    instant_limit: u64,
}

/// The run's settings, or what is wrong with the options (checked by the file's rules,
/// [`RunOptions::resolve`]).
fn settings(model: &Model, options: &RunOptions) -> Result<Settings, RunError> {
    let run = options.resolve(model)?;
    let (seed, duration, warmup) = (run.seed, run.duration, run.warmup);
    let instant_limit = run.max_events_per_instant;
    let arrivals_end = duration.as_nanos();
    let end = if options.drain {
        arrivals_end.saturating_add(arrivals_end.saturating_mul(MAX_DRAIN_FACTOR))
    } else {
        arrivals_end
    };
    Ok(Settings {
        seed,
        warmup: warmup.as_nanos(),
        arrivals_end,
        end,
        instant_limit,
    })
}

/// A service's state at time 0: every replica up, unless its failure process starts it down.
fn service(s: &Service, seed: u64) -> ServiceState {
    ServiceState {
        replicas: (0..s.replicas)
            .map(|r| {
                let mut rep = Replica::default();
                if let Some(p) = &s.failures {
                    let mut rng = stream(seed, "failures", &s.name, u64::from(r));
                    let renewal = Renewal::stationary(p, &mut rng, SimTime::ZERO);
                    if !renewal.is_up() {
                        rep.down = 1;
                    }
                    rep.renewal = Some((renewal, rng));
                }
                rep
            })
            .collect(),
        next_rr: 0,
        work_rng: stream(seed, "work", &s.name, 0),
        route_rng: stream(seed, "route", &s.name, 0),
        error_rng: stream(seed, "errors", &s.name, 0),
        balance_rng: stream(seed, "balance", &s.name, 0),
        live: 0,
    }
}

/// A call step's state: its streams, keyed by the step's path in the file (so that adding a
/// call elsewhere leaves them as they were), and a breaker, budget and bulkhead per caller
/// replica as its policies say.
fn call(model: &Model, c: &CallEdge, seed: u64) -> CallState {
    let caller = model.service_at(c.from);
    CallState {
        route_rng: stream(seed, "call-route", &c.path, 0),
        request_rng: stream(seed, "call-request", &c.path, 0),
        response_rng: stream(seed, "call-response", &c.path, 0),
        retry_rng: stream(seed, "call-retry", &c.path, 0),
        fallback_rng: stream(seed, "call-fallback", &c.path, 0),
        per_replica: (0..caller.replicas)
            .map(|_| EdgeReplica {
                breaker: c.breaker.clone().map(CircuitBreaker::new),
                breaker_timer: None,
                budget: c
                    .retry
                    .as_ref()
                    .and_then(|r| r.budget.as_ref())
                    .map(BudgetState::new),
                bulkhead: c
                    .bulkhead
                    .map(|b| Bulkhead::new(b.max_concurrent, b.max_wait)),
                bulkhead_timer: None,
            })
            .collect(),
    }
}

impl<'m> Simulation<'m> {
    /// Prepares a run of `model` with `options` overriding the file's run settings.
    pub fn new(model: &'m Model, options: &RunOptions) -> Result<Self, RunError> {
        let Settings {
            seed,
            warmup,
            arrivals_end,
            end,
            instant_limit,
        } = settings(model, options)?;
        let services: Vec<ServiceState> = model.services.iter().map(|s| service(s, seed)).collect();
        let up: Vec<u32> = services
            .iter()
            .map(|s| s.replicas.iter().filter(|r| r.down == 0).count() as u32)
            .collect();
        let mut sim = Simulation {
            model,
            seed,
            clock: Clock::new(end, arrivals_end, options.drain),
            entries: model
                .entries
                .iter()
                .map(|e| EntryState::new(e, seed))
                .collect(),
            services,
            numbering: ReplicaNumbering::new(model),
            jobs: Slab::default(),
            strands: Slab::default(),
            timeouts: (0..model.calls.len() + model.entries.len())
                .map(|_| TimeoutQueue::new())
                .collect(),
            calls: model.calls.iter().map(|c| call(model, c, seed)).collect(),
            broker: Broker::new(model, seed),
            faults: Faults::new(model, seed),
            guard: ZenoGuard::new(instant_limit),
            observer: Observer::new(model, warmup, end, arrivals_end, &up),
            abort: None,
        };
        sim.schedule_first_events();
        Ok(sim)
    }

    /// The events a run starts with: each entry point's first arrival, the broker's
    /// retention sweeps, the faults of the timeline, and the failure processes' first
    /// changes (a replica whose process starts down takes its consumers down with it).
    fn schedule_first_events(&mut self) {
        let model = self.model;
        for i in 0..model.entries.len() {
            self.schedule_arrival(EntryId(i as u32));
        }
        self.start_broker();
        self.start_queues();
        for (i, f) in model.faults.iter().enumerate() {
            if f.start.0 < self.clock.arrivals_end {
                let fault = FaultId(i as u32);
                self.clock.schedule(f.start, Event::FaultStart { fault });
            }
        }
        for (s, def) in model.services.iter().enumerate() {
            let s = ServiceId(s as u32);
            for r in 0..def.replicas {
                if self.replica(s, r).down > 0 {
                    // A replica whose failure process starts down is down from t = 0, as if
                    // it crashed then: its consumers are down with it (and a topic group
                    // moves their partitions after its session timeout).
                    self.consumers_follow_replica(s, r, true);
                    self.queue_consumers_follow_replica(s, r, true);
                }
                if let Some((renewal, _)) = &self.replica(s, r).renewal {
                    let t = renewal.next_change();
                    if t.0 < self.clock.arrivals_end {
                        self.clock.schedule(
                            t,
                            Event::Renewal {
                                service: s,
                                replica: r,
                            },
                        );
                    }
                }
            }
        }
    }
}
