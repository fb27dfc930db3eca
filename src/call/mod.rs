//! Resilience mechanisms of a sync call edge, as plain state machines that know nothing of the
//! engine: retry backoff, retry budgets, circuit breakers and bulkheads. The engine owns one
//! instance per caller replica and call step (a library instance per client process), and
//! feeds them times and results; each module is tested on scripted sequences against the
//! behaviour described in `docs/semantics.md`.

pub mod backoff;
pub mod breaker;
pub mod budget;
pub mod bulkhead;
