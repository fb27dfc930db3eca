//! Availability: the chance that a request succeeds, from the services and calls it needs.
//!
//! Source for every formula here: docs/semantics.md, *Availability* (series composition of
//! independent components and the alternating renewal process, Trivedi; Ross; retries and
//! their multiplication across layers, the SRE book).

use super::visit::{fold_block, StepFold};
use super::{CallAnalysis, EntryAnalysis, Window};
use crate::dist::Dist;
use crate::model::{CallEdge, Model, OnFailure, PublishStep, ServiceId};
use crate::outcome::Outcome;

/// How reliable a service is, in two parts that retries treat differently.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rel {
    /// Probability that the replica a request reaches is up (MTTF/(MTTF+MTTR) per replica;
    /// the balancer has no health checks). Correlated in time: retrying the same replica
    /// during an outage does not help.
    pub up: f64,
    /// Probability that an up replica answers without error, its required calls included:
    /// independent per attempt, so retries help.
    pub ok: f64,
}

impl Rel {
    /// The availability of one attempt: up × ok.
    pub fn total(self) -> f64 {
        self.up * self.ok
    }
}

/// The reliability of every service, indexed by [`ServiceId`].
///
/// **Formula.** up = MTTF/(MTTF + MTTR) of the service's failure process (1 without one);
/// ok = (1 − errors) × A(body), where A(body) is the [`Availability`] fold of its steps.
///
/// **Assumptions.** Failures of different services and attempts are independent; `order`
/// lists callees before callers (the sync call graph is acyclic), so each callee's
/// reliability is known when its callers are folded.
///
/// **Example.** A service with `errors: 0.01` calling one with `errors: 0.02`: ok = 0.99 ×
/// 0.98 = 0.9702.
pub(super) fn reliabilities(model: &Model, order: &[ServiceId]) -> Vec<Rel> {
    let mut rel = vec![Rel { up: 1.0, ok: 1.0 }; model.services.len()];
    for &s in order {
        let svc = model.service(s);
        let body = fold_block(model, &mut Availability { model, rel: &rel }, svc.body, ());
        rel[s.0 as usize] = Rel {
            up: svc.failures.as_ref().map_or(1.0, |f| f.availability()),
            ok: (1.0 - svc.error_prob) * body,
        };
    }
    rel
}

/// The probability that a block's required calls all succeed.
///
/// **Formula.** A sequence is the product of its steps. A call made with probability p
/// contributes 1 − p(1 − a), with a the [call's availability](call_availability); a call
/// with `on_failure: Ignore` or `Fallback` contributes 1, and so do work and publishes (a
/// publish needs only the broker's acknowledgement). A `Parallel` made with probability p is
/// 1 − p(1 − Π branches); a `Choice` is 1 − p(1 − Σ share × branch).
///
/// **Assumptions.** Independent failures; timeouts and rejections are not in the product (the
/// gap to the simulation is what overload costs).
///
/// **Example.** Parallel branches of 0.9 and 0.8: 0.72; a choice of them with shares 0.25
/// and 0.75: 0.825 (suite test `availability::parallel_multiplies_and_choice_averages`).
pub(super) struct Availability<'a> {
    /// The model.
    pub model: &'a Model,
    /// The reliability of each callee.
    pub rel: &'a [Rel],
}

impl StepFold for Availability<'_> {
    type Down = ();
    type Up = f64;

    fn work(&mut self, (): (), _: &Dist) -> f64 {
        1.0
    }

    fn call(&mut self, (): (), call: &CallEdge) -> f64 {
        match call.on_failure {
            OnFailure::Ignore | OnFailure::Fallback(_) => 1.0,
            OnFailure::Fail => {
                1.0 - call.probability * (1.0 - call_availability(self.model, call, self.rel))
            }
        }
    }

    fn publish(&mut self, (): (), _: &PublishStep) -> f64 {
        1.0
    }

    fn into_parallel((): (), _: f64) {}

    fn into_choice((): (), _: f64, _: f64) {}

    fn sequence(steps: impl Iterator<Item = f64>) -> f64 {
        steps.product()
    }

    fn parallel(probability: f64, branches: impl Iterator<Item = f64>) -> f64 {
        1.0 - probability * (1.0 - branches.product::<f64>())
    }

    fn choice(probability: f64, branches: impl Iterator<Item = (f64, f64)>) -> f64 {
        let mean: f64 = branches.map(|(w, a)| w * a).sum();
        1.0 - probability * (1.0 - mean)
    }
}

/// Availability of a call with its retries.
///
/// **Formula.** Errors are independent per attempt, so k attempts all fail with probability
/// (1 − ok)^k when errors are retried. An outage of a replica is not independent: retries
/// escape it only by reaching other replicas (`other_replica`, with `Unavailable` retried), up
/// to min(k, replicas) distinct ones, each up with probability `up`: 1 − (1 − up)^min(k,
/// replicas). The call's availability is up × ok; without retries, the callee's up × ok.
///
/// **Assumptions.** Independent errors per attempt; replicas fail independently.
///
/// **Example.** ok = 0.8, k = 3, errors retried: 1 − 0.2³ = 0.992 (suite test
/// `availability::analysis_keeps_outages_apart_from_independent_errors`).
pub(super) fn call_availability(model: &Model, call: &CallEdge, rel: &[Rel]) -> f64 {
    let r = rel[call.to.0 as usize];
    let Some(policy) = &call.retry else {
        return r.total();
    };
    let k = policy.attempts as i32;
    let ok = if policy.retry_on[Outcome::Error.index()] {
        1.0 - (1.0 - r.ok).powi(k)
    } else {
        r.ok
    };
    let replicas = model.service(call.to).replicas as i32;
    let up =
        if policy.other_replica && policy.retry_on[Outcome::Unavailable.index()] && replicas > 1 {
            1.0 - (1.0 - r.up).powi(k.min(replicas))
        } else {
            r.up
        };
    up * ok
}

/// Expected attempts per call: the load multiplier retries put on the callee.
///
/// **Formula.** (1 − (1 − a)^k)/a for k attempts with per-attempt success a, when errors are
/// retried; k when the callee is fully down (a = 0); 1 without retries of errors.
///
/// **Assumptions.** Independent attempts.
///
/// **Example.** a = 0.7, k = 3: (1 − 0.3³)/0.7 = 1.39 attempts (suite test
/// `policies::retry_availability_matches_independent_attempts`).
pub(super) fn expected_attempts(call: &CallEdge, rel: &[Rel]) -> f64 {
    let a = rel[call.to.0 as usize].total();
    match &call.retry {
        Some(r) if r.retry_on[Outcome::Error.index()] => {
            let k = f64::from(r.attempts);
            if a <= 0.0 {
                k
            } else {
                (1.0 - (1.0 - a).powf(k)) / a
            }
        }
        _ => 1.0,
    }
}

/// A service's own availability per request: (1 − error probability) × the probability
/// that the replica a request reaches is up (MTTF/(MTTF+MTTR); no health checks).
pub(super) fn own_availability(model: &Model, s: ServiceId) -> f64 {
    let svc = model.service(s);
    (1.0 - svc.error_prob) * svc.failures.as_ref().map_or(1.0, |f| f.availability())
}

/// Services reached with probability 1 along required calls, depth first, each once.
pub(super) fn required_services(model: &Model, s: ServiceId, out: &mut Vec<ServiceId>) {
    if out.contains(&s) {
        return;
    }
    out.push(s);
    fold_block(
        model,
        &mut Required { model, out },
        model.service(s).body,
        true,
    );
}

/// The fold behind [`required_services`]: `down` says whether the step is reached with
/// certainty (not under a `Choice` or a `Parallel` made with probability below 1).
struct Required<'a> {
    model: &'a Model,
    out: &'a mut Vec<ServiceId>,
}

impl StepFold for Required<'_> {
    type Down = bool;
    type Up = ();

    fn work(&mut self, _: bool, _: &Dist) {}

    fn call(&mut self, certain: bool, call: &CallEdge) {
        if certain && call.probability >= 1.0 && matches!(call.on_failure, OnFailure::Fail) {
            required_services(self.model, call.to, self.out);
        }
    }

    fn publish(&mut self, _: bool, _: &PublishStep) {}

    fn into_parallel(certain: bool, probability: f64) -> bool {
        certain && probability >= 1.0
    }

    fn into_choice(_: bool, _: f64, _: f64) -> bool {
        false
    }

    fn sequence(steps: impl Iterator<Item = ()>) {
        steps.for_each(drop);
    }

    fn parallel(_: f64, branches: impl Iterator<Item = ()>) {
        branches.for_each(drop);
    }

    fn choice(_: f64, branches: impl Iterator<Item = (f64, ())>) {
        branches.for_each(drop);
    }
}

/// Attempts of a call step (1 without retries).
pub(super) fn attempts_of(call: &CallEdge) -> f64 {
    call.retry.as_ref().map_or(1.0, |r| f64::from(r.attempts))
}

/// Most attempts one request can cause at a single service when every call on the way fails
/// and retries.
///
/// **Formula.** The largest product of attempts along any call path from `s` (1 when it calls
/// nothing): attempts multiply across layers, k^L for L layers of k attempts.
///
/// **Example.** Three layers of three attempts: 3 × 3 × 3 = 27.
pub(super) fn max_amplification(model: &Model, s: ServiceId) -> f64 {
    amplification(model, s, attempts_of)
}

/// Like [`max_amplification`], counting `attempts(call)` per call step.
pub(super) fn amplification(model: &Model, s: ServiceId, attempts: fn(&CallEdge) -> f64) -> f64 {
    fn walk(
        model: &Model,
        s: ServiceId,
        attempts: fn(&CallEdge) -> f64,
        memo: &mut Vec<Option<f64>>,
    ) -> f64 {
        if let Some(v) = memo[s.0 as usize] {
            return v;
        }
        let best = model
            .calls
            .iter()
            .filter(|c| c.from == s)
            .map(|c| attempts(c) * walk(model, c.to, attempts, memo))
            .fold(1.0, f64::max);
        memo[s.0 as usize] = Some(best);
        best
    }
    walk(model, s, attempts, &mut vec![None; model.services.len()])
}

/// Per entry point: its rate, availability, the services it needs and its worst
/// amplification.
pub(super) fn entries(model: &Model, rel: &[Rel], window: Window) -> Vec<EntryAnalysis> {
    model
        .entries
        .iter()
        .map(|e| {
            let mut required = Vec::new();
            let service = e.target.service();
            if let Some(s) = service {
                required_services(model, s, &mut required);
            }
            EntryAnalysis {
                name: e.name.clone(),
                rate_per_s: e.arrivals.mean_rate(window.from, window.to),
                // A message to the broker is one attempt, and the broker is always up
                // unless a fault says otherwise (the shadow has no broker faults).
                max_amplification: service.map_or(1.0, |s| max_amplification(model, s)),
                availability: service.map_or(1.0, |s| rel[s.0 as usize].total()),
                required: required
                    .into_iter()
                    .map(|s| model.service(s).name.clone())
                    .collect(),
            }
        })
        .collect()
}

/// Per sync call step: attempts, availability with retries, and the load multiplier.
pub(super) fn calls(model: &Model, rel: &[Rel]) -> Vec<CallAnalysis> {
    model
        .calls
        .iter()
        .map(|c| CallAnalysis {
            from: model.service(c.from).name.clone(),
            to: model.service(c.to).name.clone(),
            attempts: c.retry.as_ref().map_or(1, |r| r.attempts),
            attempt_availability: rel[c.to.0 as usize].total(),
            availability: call_availability(model, c, rel),
            expected_attempts: expected_attempts(c, rel),
        })
        .collect()
}
