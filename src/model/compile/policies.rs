//! The resilience policies of a call step: `retry` (with its backoff, jitter and budget),
//! `breaker` and `bulkhead`.
//!
//! * `retry`: `attempts` (1 to [`MAX_ATTEMPTS`]), the backoff's parts (durations), then the
//!   backoff as a whole ([`Backoff::validate`], only when its parts were readable, so that no
//!   made-up fallback is judged), the jitter against the backoff
//!   ([`Backoff::check_jitter`]), the outcomes to retry, and the budget
//!   ([`RetryBudget::validate`]).
//! * `breaker`: each field as written (fractions, durations, a whole-second time window),
//!   then the configuration as a whole ([`BreakerConfig::validate`]), its problem reported
//!   at the field as the file names it.
//! * `bulkhead`: at least one call through ([`bulkhead::validate`]), and a readable
//!   `max_wait`.
//!
//! The mechanisms check their own configurations (in `crate::call`) and report a
//! [`Problem`](crate::error::Problem) at their own field names; here it is placed in the
//! file, e.g. `base` of a backoff at `services[api].steps[0].retry.backoff.base`. A policy
//! with a problem is left out (`None`); the model is then not built anyway.

use super::Compiler;
use crate::call::backoff::{Backoff, Jitter};
use crate::call::breaker::{BreakerConfig, Window, MAX_WINDOW_SIZE};
use crate::call::budget::RetryBudget;
use crate::call::bulkhead;
use crate::model::{BulkheadPolicy, RetryPolicy};
use crate::outcome::Outcome;
use crate::spec::{
    BackoffSpec, BreakerSpec, BudgetSpec, BulkheadSpec, JitterSpec, RetryOnSpec, RetrySpec,
    WindowSpec,
};
use crate::time::{SimDuration, NS_PER_S};

/// Most attempts a retry policy may make per call.
pub const MAX_ATTEMPTS: u32 = 100;

impl Compiler<'_> {
    /// A call's `retry` policy at `path`.
    pub(super) fn retry(&mut self, path: &str, r: &RetrySpec) -> Option<RetryPolicy> {
        let before = self.problems.len();
        self.attempts(path, r.attempts);
        let backoff = self.backoff(path, &r.backoff);
        // Only check the schedule as a whole when its parts parsed (no made-up fallbacks).
        if self.problems.len() == before {
            if let Err(p) = backoff.validate() {
                self.at(path).at("backoff").add(p);
            }
        }
        let jitter = jitter(r.jitter);
        if let Err(p) = backoff.check_jitter(jitter) {
            self.at(path).at("jitter").add(p);
        }
        let budget = r.budget.as_ref().map(budget);
        if let Some(Err(p)) = budget.as_ref().map(RetryBudget::validate) {
            self.at(path).at("budget").add(p);
        }
        (self.problems.len() == before).then_some(RetryPolicy {
            attempts: r.attempts,
            backoff,
            jitter,
            retry_on: retry_on(&r.on),
            other_replica: r.other_replica.unwrap_or(true),
            budget,
        })
    }

    /// `retry.attempts`: 1 (no retries) to [`MAX_ATTEMPTS`].
    fn attempts(&mut self, path: &str, attempts: u32) {
        if attempts == 0 {
            self.at(path).at("attempts").push(
                "attempts counts the first call too, so it must be at least 1 (1 = no retries)",
            );
        } else if attempts > MAX_ATTEMPTS {
            self.at(path).at("attempts").push(format!("{attempts} attempts is more than the {MAX_ATTEMPTS} a call may make; real clients cap far lower (gRPC: 5)"));
        }
    }

    /// `retry.backoff` as written (none: retry at once); its parts are checked here, the
    /// schedule as a whole by the caller.
    fn backoff(&mut self, path: &str, spec: &Option<BackoffSpec>) -> Backoff {
        match spec {
            None => Backoff::Constant(SimDuration::ZERO),
            Some(BackoffSpec::Constant(d)) => Backoff::Constant(
                self.duration(&format!("{path}.backoff"), d)
                    .unwrap_or_default(),
            ),
            Some(BackoffSpec::Exponential {
                base,
                max,
                multiplier,
            }) => {
                let base = self
                    .positive_duration(&format!("{path}.backoff.base"), base)
                    .unwrap_or(SimDuration(1));
                let max = self
                    .duration(&format!("{path}.backoff.max"), max)
                    .unwrap_or(base);
                Backoff::Exponential {
                    base,
                    max,
                    multiplier: multiplier.unwrap_or(2.0),
                }
            }
        }
    }

    /// A call's `breaker` at `path`.
    pub(super) fn breaker(&mut self, path: &str, b: &BreakerSpec) -> Option<BreakerConfig> {
        let before = self.problems.len();
        let mut c = BreakerConfig {
            failure_rate_threshold: 100.0
                * self.fraction(&format!("{path}.failure_rate"), b.failure_rate, 0.5),
            slow_call_rate_threshold: 100.0
                * self.fraction(&format!("{path}.slow_call_rate"), b.slow_call_rate, 1.0),
            ..BreakerConfig::default()
        };
        if let Some(d) = &b.slow_call {
            if let Some(d) = self.positive_duration(&format!("{path}.slow_call"), d) {
                c.slow_call_duration = d;
            }
        }
        if let Some(window) = self.window(path, &b.window) {
            c.window = window;
        }
        if let Some(n) = b.min_calls {
            c.minimum_calls = n;
        }
        if let Some(d) = &b.open_for {
            if let Some(d) = self.positive_duration(&format!("{path}.open_for"), d) {
                c.wait_in_open = d;
            }
        }
        if let Some(n) = b.half_open_calls {
            c.half_open_calls = n;
        }
        c.automatic_transition = b.automatic.unwrap_or(false);
        if let Some(d) = &b.max_half_open {
            c.max_wait_in_half_open = self.positive_duration(&format!("{path}.max_half_open"), d);
        }
        if let Err(mut p) = c.validate() {
            p.path = breaker_field(&p.path).to_string();
            self.at(path).add(p);
        }
        (self.problems.len() == before).then_some(c)
    }

    /// `breaker.window`: a count, or a whole number of seconds up to the breaker's limit.
    /// `None` when left out or not valid.
    fn window(&mut self, path: &str, spec: &Option<WindowSpec>) -> Option<Window> {
        let d = match spec.as_ref()? {
            WindowSpec::Count(n) => return Some(Window::Count(*n)),
            WindowSpec::Time(d) => self.positive_duration(&format!("{path}.window"), d)?,
        };
        if d.as_nanos() % NS_PER_S != 0 {
            self.at(path).at("window").push(format!("a time window is a whole number of seconds (resilience4j counts one-second buckets), not {d}"));
            return None;
        }
        let secs = d.as_nanos() / NS_PER_S;
        // Above u32::MAX the count would be clamped before `validate` sees it and the message
        // would quote the clamped number.
        match u32::try_from(secs) {
            Ok(n) => Some(Window::Time(n)),
            Err(_) => {
                self.at(path).at("window").push_with_hint(
                    format!("is {secs} seconds, more than the limit of {MAX_WINDOW_SIZE}"),
                    "use a smaller window",
                );
                None
            }
        }
    }

    /// A call's `bulkhead` at `path`.
    pub(super) fn bulkhead(&mut self, path: &str, b: &BulkheadSpec) -> Option<BulkheadPolicy> {
        if let Err(p) = bulkhead::validate(b.max_concurrent) {
            self.at(path).add(p);
            return None;
        }
        let max_wait = match &b.max_wait {
            Some(w) => self.duration(&format!("{path}.max_wait"), w)?,
            None => SimDuration::ZERO,
        };
        Some(BulkheadPolicy {
            max_concurrent: b.max_concurrent,
            max_wait,
        })
    }
}

/// The field of `breaker:` in the file for a field of [`BreakerConfig`].
fn breaker_field(field: &str) -> &str {
    match field {
        "minimum_calls" => "min_calls",
        "wait_in_open" => "open_for",
        "max_wait_in_half_open" => "max_half_open",
        f => f,
    }
}

/// `retry.jitter` (default none).
fn jitter(spec: Option<JitterSpec>) -> Jitter {
    match spec.unwrap_or(JitterSpec::None) {
        JitterSpec::None => Jitter::None,
        JitterSpec::Full => Jitter::Full,
        JitterSpec::Equal => Jitter::Equal,
        JitterSpec::Decorrelated => Jitter::Decorrelated,
    }
}

/// `retry.on`: which outcomes are retried (default error, timeout and unavailable), indexed
/// by [`Outcome::index`].
fn retry_on(spec: &Option<Vec<RetryOnSpec>>) -> [bool; Outcome::COUNT] {
    const DEFAULT: [RetryOnSpec; 3] = [
        RetryOnSpec::Error,
        RetryOnSpec::Timeout,
        RetryOnSpec::Unavailable,
    ];
    let mut retry_on = [false; Outcome::COUNT];
    for o in spec.as_deref().unwrap_or(&DEFAULT) {
        let outcome = match o {
            RetryOnSpec::Error => Outcome::Error,
            RetryOnSpec::Timeout => Outcome::Timeout,
            RetryOnSpec::Rejected => Outcome::Rejected,
            RetryOnSpec::CircuitOpen => Outcome::CircuitOpen,
            RetryOnSpec::Unavailable => Outcome::Unavailable,
        };
        retry_on[outcome.index()] = true;
    }
    retry_on
}

/// `retry.budget` (Envoy's `min_concurrency` defaults to 3).
fn budget(spec: &BudgetSpec) -> RetryBudget {
    match *spec {
        BudgetSpec::Envoy {
            percent,
            min_concurrency,
        } => RetryBudget::Envoy {
            percent,
            min_concurrency: min_concurrency.unwrap_or(3),
        },
        BudgetSpec::TokenBucket {
            max_tokens,
            token_ratio,
        } => RetryBudget::TokenBucket {
            max_tokens,
            token_ratio,
        },
    }
}
