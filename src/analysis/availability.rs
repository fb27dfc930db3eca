//! Availability: the chance that a request succeeds, from the services and calls it needs.
//!
//! Source for every formula here: docs/semantics.md, *Availability* (series composition of
//! independent components and the alternating renewal process, Trivedi; Ross; retries and
//! their multiplication across layers, the SRE book).

use super::timeline::Conditions;
use super::visit::{fold_block, StepFold};
use super::{CallAnalysis, EntryAnalysis, Window};
use crate::dist::Dist;
use crate::model::{
    CallEdge, CallId, EntryTarget, Model, OnFailure, PublishStep, ServiceId, WhenDown,
};
use crate::outcome::Outcome;

/// How reliable a service is, in parts that retries and timeouts treat differently.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rel {
    /// Probability that the replica a request reaches is up and answers: up in its failure
    /// process (MTTF/(MTTF+MTTR) per replica; the balancer has no health checks), not crashed
    /// and not hung by a fault. Correlated in time: retrying the same replica during an
    /// outage does not help.
    pub up: f64,
    /// Probability that the replica reached hangs (a `Hang` fault): the request waits for
    /// the hang to end, so it fails only a caller with a timeout.
    pub hung: f64,
    /// Probability that an up replica answers without error, its required calls included:
    /// independent per attempt, so retries help.
    pub ok: f64,
}

impl Rel {
    /// Probability that an attempt reaches a replica that will answer: an up one, or also a
    /// hung one when the caller waits without a `timeout`.
    pub fn reach(self, timeout: bool) -> f64 {
        if timeout {
            self.up
        } else {
            self.up + self.hung
        }
    }

    /// The availability of one attempt without a timeout: reach × ok.
    pub fn total(self) -> f64 {
        self.reach(false) * self.ok
    }
}

/// The chance that an attempt outlasts its timeout: per call step ([`Model::calls`] order) and
/// per entry point ([`Model::entries`] order); 0 without a timeout.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TimeoutRisk {
    /// Per call step.
    pub calls: Vec<f64>,
    /// Per entry point.
    pub entries: Vec<f64>,
}

impl TimeoutRisk {
    /// No attempt times out (the first estimate, before response times are known).
    pub fn none(model: &Model) -> TimeoutRisk {
        TimeoutRisk {
            calls: vec![0.0; model.calls.len()],
            entries: vec![0.0; model.entries.len()],
        }
    }
}

/// The reliability of every service, indexed by [`ServiceId`].
///
/// **Formula.** up = A × (1 − d − h) and hung = A × h, where A = MTTF/(MTTF + MTTR) of the
/// failure process (1 without one) and d, h are the shares of requests the balancer sends to
/// crashed and to hung replicas during the phase ([`Conditions`]); ok = (1 − errors) × (1 −
/// b) × A(body), where b is the burst error probability of the replicas that serve (`ErrorBurst`)
/// and A(body) the [`Availability`] fold of its steps.
///
/// **Assumptions.** Failures of different services and attempts are independent; `order`
/// lists callees before callers (the sync call graph is acyclic), so each callee's
/// reliability is known when its callers are folded.
///
/// **Example.** A service with `errors: 0.01` calling one with `errors: 0.02`: ok = 0.99 ×
/// 0.98 = 0.9702.
pub(super) fn reliabilities(
    model: &Model,
    order: &[ServiceId],
    cond: &Conditions,
    risk: &TimeoutRisk,
) -> Vec<Rel> {
    let mut rel = vec![
        Rel {
            up: 1.0,
            hung: 0.0,
            ok: 1.0
        };
        model.services.len()
    ];
    for &s in order {
        let svc = model.service_at(s);
        let body = fold_block(
            model,
            &mut Availability {
                model,
                rel: &rel,
                cond,
                risk,
            },
            svc.body,
            (),
        );
        let a = svc.failures.as_ref().map_or(1.0, |f| f.availability());
        let (down, hung) = cond.down_and_hung(s);
        let groups = &cond.services[s.0 as usize];
        let serving: f64 = groups.iter().filter(|g| g.serves()).map(|g| g.share).sum();
        let burst = if serving > 0.0 {
            groups
                .iter()
                .filter(|g| g.serves())
                .map(|g| g.share * g.burst)
                .sum::<f64>()
                / serving
        } else {
            0.0
        };
        rel[s.0 as usize] = Rel {
            up: a * (1.0 - down - hung),
            hung: a * hung,
            ok: (1.0 - svc.error_prob) * (1.0 - burst) * body,
        };
    }
    rel
}

/// The probability that a block's required calls and publishes all succeed.
///
/// **Formula.** A sequence is the product of its steps. A call made with probability p
/// contributes 1 − p(1 − a), with a the [call's availability](call_availability) (0 across a
/// `Partition`); a call with `on_failure: Ignore` or `Fallback` contributes 1, and so does
/// work. A publish made with probability p contributes 1 − p·u·f, where u is the share of its
/// messages the broker cannot take during the phase ([`Conditions::unreachable`]) and f = 1
/// when the producer then fails (`when_down: Fail`, or `Wait` with a timeout shorter than the
/// mean wait for the broker), 0 when it waits or buffers (it needs only the broker's
/// acknowledgement, not its consumers). A `Parallel` made with probability p is 1 − p(1 −
/// Π branches); a `Choice` is 1 − p(1 − Σ share × branch).
///
/// **Assumptions.** Independent failures; rejections are not in the product (the gap to the
/// simulation is what overload costs).
///
/// **Example.** Parallel branches of 0.9 and 0.8: 0.72; a choice of them with shares 0.25
/// and 0.75: 0.825 (suite test `availability::parallel_multiplies_and_choice_averages`).
pub(super) struct Availability<'a> {
    /// The model.
    pub model: &'a Model,
    /// The reliability of each callee.
    pub rel: &'a [Rel],
    /// The faults in force.
    pub cond: &'a Conditions,
    /// The chance that each call's attempts time out.
    pub risk: &'a TimeoutRisk,
}

impl StepFold for Availability<'_> {
    type Down = ();
    type Up = f64;

    fn work(&mut self, (): (), _: &Dist) -> f64 {
        1.0
    }

    fn call(&mut self, (): (), id: CallId, call: &CallEdge) -> f64 {
        match call.on_failure {
            OnFailure::Ignore | OnFailure::Fallback(_) => 1.0,
            OnFailure::Fail => {
                let a = if self.cond.calls[id.0 as usize].cut {
                    0.0
                } else {
                    call_availability(self.model, call, self.rel, self.risk.calls[id.0 as usize])
                };
                1.0 - call.probability * (1.0 - a)
            }
        }
    }

    fn publish(&mut self, (): (), step: &PublishStep) -> f64 {
        let lost = publish_lost(self.model, self.cond, step);
        if lost > 0.0 {
            1.0 - step.probability * lost
        } else {
            1.0
        }
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

/// The share of a publish step's messages that fail during the phase: those the broker
/// cannot take, when the producer fails rather than waits or buffers (`when_down: Fail`, or
/// `Wait` with a timeout shorter than the mean wait for the broker to come back).
pub(super) fn publish_lost(model: &Model, cond: &Conditions, step: &PublishStep) -> f64 {
    let unreachable =
        cond.unreachable(model, model.destination_index(step.to), step.keys.is_some());
    if unreachable <= 0.0 {
        return 0.0;
    }
    let fails = match step.when_down {
        WhenDown::Fail => true,
        WhenDown::Wait(Some(t)) => (t.as_nanos() as f64) < cond.held_ns,
        WhenDown::Wait(None) | WhenDown::Buffer(_) => false,
    };
    if fails {
        unreachable
    } else {
        0.0
    }
}

/// Availability of a call with its retries.
///
/// **Formula.** Errors are independent per attempt, so k attempts all fail with probability
/// (1 − ok)^k when errors are retried. An outage of a replica is not independent: retries
/// escape it only by reaching other replicas (`other_replica`, with `Unavailable` retried), up
/// to min(k, replicas) distinct ones, each reached-and-answering with probability r
/// ([`Rel::reach`]): 1 − (1 − r)^min(k, replicas). The call's availability is the product of
/// the two. An attempt that outlasts the call's timeout (probability q, from the callee's
/// response time: see the holding times) fails too: with per-attempt success s = (1 − q)·ok
/// and retried failures r' = \[errors retried\]·(1 − q)(1 − ok) + \[timeouts retried\]·q, the
/// ok part becomes s·(1 − r'^k)/(1 − r').
///
/// **Assumptions.** Independent errors and timeouts per attempt (timeouts are correlated in an
/// overload: the simulation shows the difference); replicas fail independently.
///
/// **Example.** ok = 0.8, k = 3, errors retried: 1 − 0.2³ = 0.992 (suite test
/// `availability::analysis_keeps_outages_apart_from_independent_errors`).
pub(super) fn call_availability(model: &Model, call: &CallEdge, rel: &[Rel], q: f64) -> f64 {
    let r = rel[call.to.0 as usize];
    let reach = r.reach(call.timeout.is_some());
    let Some(policy) = &call.retry else {
        return reach * r.ok * (1.0 - q);
    };
    let k = policy.attempts as i32;
    let errors = policy.retry_on[Outcome::Error.index()];
    let ok = if q > 0.0 {
        let s = (1.0 - q) * r.ok;
        let mut again = 0.0;
        if errors {
            again += (1.0 - q) * (1.0 - r.ok);
        }
        if policy.retry_on[Outcome::Timeout.index()] {
            again += q;
        }
        repeated(s, again, k)
    } else if errors {
        1.0 - (1.0 - r.ok).powi(k)
    } else {
        r.ok
    };
    let replicas = model.service_at(call.to).replicas as i32;
    let up =
        if policy.other_replica && policy.retry_on[Outcome::Unavailable.index()] && replicas > 1 {
            1.0 - (1.0 - reach).powi(k.min(replicas))
        } else {
            reach
        };
    up * ok
}

/// The chance of success within k attempts when each attempt succeeds with probability s and
/// fails in a way that is retried with probability `again`: s·(1 − again^k)/(1 − again).
fn repeated(s: f64, again: f64, k: i32) -> f64 {
    if again >= 1.0 {
        s * f64::from(k)
    } else {
        s * (1.0 - again.powi(k)) / (1.0 - again)
    }
}

/// Expected attempts per call: the load multiplier retries put on the callee.
///
/// **Formula.** (1 − (1 − a)^k)/a for k attempts with per-attempt success a, when errors are
/// retried; k when the callee is fully down (a = 0); 1 without retries of errors. With a
/// chance q of a timeout per attempt, an attempt is retried with probability r =
/// \[errors retried\]·(1 − q)(1 − a) + \[timeouts retried\]·q, and the call makes
/// (1 − r^k)/(1 − r) attempts.
///
/// **Assumptions.** Independent attempts.
///
/// **Example.** a = 0.7, k = 3: (1 − 0.3³)/0.7 = 1.39 attempts (suite test
/// `policies::retry_availability_matches_independent_attempts`).
pub(super) fn expected_attempts(call: &CallEdge, rel: &[Rel], q: f64) -> f64 {
    let r = rel[call.to.0 as usize];
    let a = r.reach(call.timeout.is_some()) * r.ok;
    match &call.retry {
        Some(p) if q > 0.0 => {
            let mut again = 0.0;
            if p.retry_on[Outcome::Error.index()] {
                again += (1.0 - q) * (1.0 - a);
            }
            if p.retry_on[Outcome::Timeout.index()] {
                again += q;
            }
            repeated(1.0, again, p.attempts as i32)
        }
        Some(p) if p.retry_on[Outcome::Error.index()] => {
            let k = f64::from(p.attempts);
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
    let svc = model.service_at(s);
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
        model.service_at(s).body,
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

    fn call(&mut self, certain: bool, _: CallId, call: &CallEdge) {
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
        out_of: &[Vec<usize>],
        memo: &mut Vec<Option<f64>>,
    ) -> f64 {
        if let Some(v) = memo[s.0 as usize] {
            return v;
        }
        let best = out_of[s.0 as usize]
            .iter()
            .map(|&k| {
                let c = &model.calls[k];
                attempts(c) * walk(model, c.to, attempts, out_of, memo)
            })
            .fold(1.0, f64::max);
        memo[s.0 as usize] = Some(best);
        best
    }
    // Each service's call steps, in file order (one pass, not a scan per service).
    let mut out_of = vec![Vec::new(); model.services.len()];
    for (k, c) in model.calls.iter().enumerate() {
        out_of[c.from.0 as usize].push(k);
    }
    walk(
        model,
        s,
        attempts,
        &out_of,
        &mut vec![None; model.services.len()],
    )
}

/// What an entry point's requests go through, the same under any fault: the services they
/// must reach (names, in call order) and the worst amplification.
#[derive(Clone, Debug)]
pub(super) struct EntryPath {
    /// [`required_services`], by name.
    pub required: Vec<String>,
    /// [`max_amplification`] (1 for messages to the broker: one attempt).
    pub max_amplification: f64,
}

/// The [`EntryPath`] of every entry point.
pub(super) fn entry_paths(model: &Model) -> Vec<EntryPath> {
    model
        .entries
        .iter()
        .map(|e| {
            let mut required = Vec::new();
            let service = e.target.service();
            if let Some(s) = service {
                required_services(model, s, &mut required);
            }
            EntryPath {
                required: required
                    .into_iter()
                    .map(|s| model.service_at(s).name.clone())
                    .collect(),
                max_amplification: service.map_or(1.0, |s| max_amplification(model, s)),
            }
        })
        .collect()
}

/// Per entry point: its rate, availability, the services it needs and its worst
/// amplification.
///
/// **Formula.** A request to a service succeeds with probability r × ok × (1 − q), r its
/// [reach](Rel::reach) (hung replicas count for a client without a timeout), q the chance it
/// outlasts the client's timeout; a message to the broker with 1 − u, u the share of the
/// entry point's messages the broker cannot take (external producers neither wait nor
/// buffer).
pub(super) fn entries(
    model: &Model,
    paths: &[EntryPath],
    rel: &[Rel],
    risk: &TimeoutRisk,
    cond: &Conditions,
    window: Window,
) -> Vec<EntryAnalysis> {
    model
        .entries
        .iter()
        .zip(paths)
        .enumerate()
        .map(|(i, (e, path))| {
            let availability = match e.target {
                EntryTarget::Service(s) => {
                    let r = rel[s.0 as usize];
                    let q = risk.entries[i];
                    let a = r.reach(e.timeout.is_some()) * r.ok;
                    if q > 0.0 {
                        a * (1.0 - q)
                    } else {
                        a
                    }
                }
                EntryTarget::Broker(d) => {
                    1.0 - cond.unreachable(model, model.destination_index(d), false)
                }
            };
            EntryAnalysis {
                name: e.name.clone(),
                rate_per_s: e.arrivals.mean_rate(window.from, window.to),
                max_amplification: path.max_amplification,
                availability,
                required: path.required.clone(),
                end_to_end_ms: None,
            }
        })
        .collect()
}

/// Per sync call step: attempts, availability with retries, and the load multiplier.
pub(super) fn calls(model: &Model, rel: &[Rel], risk: &TimeoutRisk) -> Vec<CallAnalysis> {
    model
        .calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let q = risk.calls[i];
            let r = rel[c.to.0 as usize];
            let attempt = r.reach(c.timeout.is_some()) * r.ok;
            CallAnalysis {
                from: model.service_at(c.from).name.clone(),
                to: model.service_at(c.to).name.clone(),
                attempts: c.retry.as_ref().map_or(1, |r| r.attempts),
                attempt_availability: if q > 0.0 {
                    attempt * (1.0 - q)
                } else {
                    attempt
                },
                availability: call_availability(model, c, rel, q),
                expected_attempts: expected_attempts(c, rel, q),
                timeout_probability: q,
            }
        })
        .collect()
}
