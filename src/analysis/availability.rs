//! Availability: the chance that a request succeeds, from the services and calls it needs.
//!
//! Source for every formula here: docs/semantics.md, *Availability* (series composition of
//! independent components and the alternating renewal process, Trivedi; Ross; retries and
//! their multiplication across layers, the SRE book).

use super::timeline::{Conditions, ReplicaGroup};
use super::visit::{fold_block, StepFold};
use super::{CallAnalysis, EntryAnalysis, Window};
use crate::dist::Dist;
use crate::model::{
    Balancer, CallEdge, CallId, EntryTarget, Model, OnFailure, PublishStep, ServiceId, WhenDown,
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
    /// How its replicas stand: what a retry to another replica can escape.
    pub replicas: Replicas,
}

/// The states of a service's replicas, as the retries of a call see them.
///
/// A replica is *crashed* or *hung* by a fault in force (the same replicas for every
/// request during the phase), and each replica not crashed is also down in its failure process
/// with probability `down`, independently of the others. Outages last seconds and the
/// attempts of one call are milliseconds apart, so every attempt of a call sees the same
/// states: a retry escapes a down replica only by going to another one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Replicas {
    /// Replicas of the service.
    pub n: u32,
    /// How callers spread their first attempts over them.
    pub balancer: Balancer,
    /// Probability that a replica is down in its failure process: 1 − MTTF/(MTTF + MTTR)
    /// (0 without one).
    pub down: f64,
    /// Replicas crashed by a fault, and the share of requests the balancer sends to them.
    pub crashed: (u32, f64),
    /// Replicas hung by a fault, and the share of requests the balancer sends to them.
    pub hung: (u32, f64),
}

impl Replicas {
    /// `n` replicas behind `balancer`, each up (no failure process, no fault).
    pub fn up(n: u32, balancer: Balancer) -> Replicas {
        Replicas {
            n,
            balancer,
            down: 0.0,
            crashed: (0, 0.0),
            hung: (0, 0.0),
        }
    }
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
    let mut rel: Vec<Rel> = model
        .services
        .iter()
        .map(|svc| Rel {
            up: 1.0,
            hung: 0.0,
            ok: 1.0,
            replicas: Replicas::up(svc.replicas, svc.balancer),
        })
        .collect();
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
        let count = |f: fn(&ReplicaGroup) -> bool| {
            groups
                .iter()
                .filter(|g| f(g))
                .map(|g| g.replicas)
                .sum::<u32>()
        };
        rel[s.0 as usize] = Rel {
            up: a * (1.0 - down - hung),
            hung: a * hung,
            ok: (1.0 - svc.error_prob) * (1.0 - burst) * body,
            replicas: Replicas {
                n: svc.replicas,
                balancer: svc.balancer,
                down: 1.0 - a,
                crashed: (count(|g| g.down), down),
                hung: (count(|g| g.hung), hung),
            },
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
                    call_availability(call, self.rel, self.risk.calls[id.0 as usize])
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

/// Availability of a call with its retries: [`retry_outcome`]'s chance of success.
///
/// **Example.** ok = 0.8, k = 3, errors retried: 1 − 0.2³ = 0.992 (suite test
/// `availability::analysis_keeps_outages_apart_from_independent_errors`).
pub(super) fn call_availability(call: &CallEdge, rel: &[Rel], q: f64) -> f64 {
    retry_outcome(call, rel, q).availability
}

/// Expected attempts per call: the load multiplier retries put on the callee
/// ([`retry_outcome`]'s attempts).
///
/// **Example.** a = 0.7, k = 3, errors retried: (1 − 0.3³)/0.7 = 1.39 attempts (suite test
/// `policies::retry_availability_matches_independent_attempts`).
pub(super) fn expected_attempts(call: &CallEdge, rel: &[Rel], q: f64) -> f64 {
    retry_outcome(call, rel, q).attempts
}

/// What the attempts of one call achieve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RetryOutcome {
    /// The chance that an attempt succeeds before the attempts run out.
    pub availability: f64,
    /// Attempts made on average, the first one included.
    pub attempts: f64,
}

/// Where a retry goes, as the engine picks it (`pick_replica`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NextPick {
    /// Uniformly among the n − 1 replicas other than the previous attempt's
    /// (`other_replica`, the default, with two replicas or more).
    Other,
    /// Uniformly among all n (`other_replica: false` with the `Random` balancer).
    Any,
    /// The previous attempt's replica again: exact for one replica; the shadow's estimate for
    /// `other_replica: false` with the other balancers (see [`retry_estimate`]).
    Same,
}

/// Replicas that an attempt treats alike: how many there are, the chance that the first
/// attempt reaches one of them, and what an attempt there does.
#[derive(Clone, Copy, Debug)]
struct Class {
    /// Replicas in the class.
    count: f64,
    /// Probability that the balancer sends the first attempt to one of them.
    first: f64,
    /// Probability that an attempt there succeeds.
    ok: f64,
    /// Probability that an attempt there fails in a way that is retried.
    again: f64,
}

/// The attempts of a call, its retries and their choice of replica.
///
/// **Formula.** An attempt reaches a replica of one of three classes: *down* (crashed by a
/// fault, or down in its failure process: it answers `unavailable`), *hung* (hung by a
/// fault, for a caller with a timeout: the attempt times out) or *serving* (the attempt
/// succeeds with s = (1 − q)·ok and fails in a way that is retried with r' = \[errors
/// retried\]·(1 − q)(1 − ok) + \[timeouts retried\]·q, q the chance that it outlasts the
/// timeout). Outages last far longer than a call, so the classes keep their sizes during a
/// call. Given X replicas down in their failure processes (X ~ Binomial(replicas not crashed,
/// 1 − A), and among the hung ones likewise), the first attempt goes where the balancer
/// sends it (its share of a group, spread evenly over the group's replicas), and each retry,
/// with `other_replica`, uniformly to one of the n − 1 replicas other than the previous one:
/// from a replica of class i to class j with probability (n_j − \[i = j\])/(n − 1). Over the
/// class of the last attempt this is a Markov chain, run for k attempts: it gives the chance
/// of success within k attempts and the attempts made, 1 + Σⱼ P(the first j attempts all
/// failed and were retried), each averaged over X. With a `Random` balancer and
/// `other_replica: false` a retry goes to any of the n replicas (n_j/n); with one replica (or
/// another balancer without `other_replica`, an estimate) to the same replica again.
///
/// **Closed forms.** With failure processes only (each replica down with p = 1 − A), no
/// errors, and round-robin or random choice, all k attempts fail with probability
/// p·E\[(D/(n − 1))^(k − 1)\], D ~ Binomial(n − 1, p) the other replicas down: p² for k = 2
/// whatever n ≥ 2, p²·(p + (1 − p)/(n − 1)) for k = 3 — 0.024 for p = 0.2 and three replicas,
/// where k attempts on min(k, n) distinct replicas would give 0.008 — p² for two replicas and
/// any k ≥ 2, p for one. Without outages (A = 1, nothing crashed or hung) only the serving
/// class is left: s·(1 − r'^k)/(1 − r') successes, 1 − (1 − ok)^k when errors are retried
/// and nothing times out.
///
/// **Assumptions.** Replicas fail independently; errors and timeouts are independent per
/// attempt, and equally likely on every serving replica; replica states do not change during
/// a call (outages of seconds, attempts milliseconds apart); the first attempt's replica does
/// not depend on which replicas are down — true of round robin and random choice, of the
/// other balancers only at light load (see [`retry_estimate`]).
///
/// **Example.** availability.ron's orders → db with three replicas (A = 0.8, k = 3): 1 −
/// 0.2·0.2·0.6 = 0.976, for 1 + 0.2 + 0.2² = 1.24 attempts per call (suite test
/// `shadow::retries_to_other_replicas_match_the_simulation`).
pub(super) fn retry_outcome(call: &CallEdge, rel: &[Rel], q: f64) -> RetryOutcome {
    let r = rel[call.to.0 as usize];
    let timeout = call.timeout.is_some();
    let Some(policy) = &call.retry else {
        return RetryOutcome {
            availability: r.reach(timeout) * r.ok * (1.0 - q),
            attempts: 1.0,
        };
    };
    let on = |o: Outcome| if policy.retry_on[o.index()] { 1.0 } else { 0.0 };
    let serving_ok = (1.0 - q) * r.ok;
    let serving_again = on(Outcome::Error) * (1.0 - q) * (1.0 - r.ok) + on(Outcome::Timeout) * q;
    let rep = r.replicas;
    let n = rep.n.max(1);
    // Replicas that fail every attempt: the crashed ones, and the hung ones too for a caller
    // with a timeout that retries timeouts as it retries `unavailable` (both fail and are
    // retried alike). Without a timeout a hung replica answers in the end: it serves.
    let (mut fixed, mut fixed_share) = rep.crashed;
    let (mut hung, mut hung_share) = (0, 0.0);
    if timeout {
        if on(Outcome::Timeout) == on(Outcome::Unavailable) {
            fixed += rep.hung.0;
            fixed_share += rep.hung.1;
        } else {
            (hung, hung_share) = rep.hung;
        }
    }
    let fixed = fixed.min(n);
    let hung = hung.min(n - fixed);
    let free = n - fixed - hung;
    let free_share = if free == 0 {
        0.0
    } else {
        (1.0 - fixed_share - hung_share).max(0.0)
    };
    let pick = if n == 1 {
        NextPick::Same
    } else if policy.other_replica {
        NextPick::Other
    } else if rep.balancer == Balancer::Random {
        NextPick::Any
    } else {
        NextPick::Same
    };
    // Down in the failure process: X of the free replicas, Y of the hung ones. The chain to
    // the same replica is linear in X and Y: their means do.
    let p = rep.down.clamp(0.0, 1.0);
    let (xs, ys) = if pick == NextPick::Same {
        (
            vec![(f64::from(free) * p, 1.0)],
            vec![(f64::from(hung) * p, 1.0)],
        )
    } else {
        (binomial(free, p), binomial(hung, p))
    };
    let part = |share: f64, of: u32, x: f64| {
        if of == 0 {
            0.0
        } else {
            share * x / f64::from(of)
        }
    };
    let mut out = RetryOutcome {
        availability: 0.0,
        attempts: 0.0,
    };
    for &(x, px) in &xs {
        for &(y, py) in &ys {
            let classes = [
                Class {
                    count: f64::from(fixed) + x + y,
                    first: fixed_share + part(free_share, free, x) + part(hung_share, hung, y),
                    ok: 0.0,
                    again: on(Outcome::Unavailable),
                },
                Class {
                    count: f64::from(hung) - y,
                    first: part(hung_share, hung, f64::from(hung) - y),
                    ok: 0.0,
                    again: on(Outcome::Timeout),
                },
                Class {
                    count: f64::from(free) - x,
                    first: part(free_share, free, f64::from(free) - x),
                    ok: serving_ok,
                    again: serving_again,
                },
            ];
            let o = chain(&classes, f64::from(n), pick, policy.attempts);
            out.availability += px * py * o.availability;
            out.attempts += px * py * o.attempts;
        }
    }
    out
}

/// The Markov chain of [`retry_outcome`] for one set of class counts: k attempts, each
/// retry moving from the class of the previous attempt as `pick` says.
fn chain(classes: &[Class; 3], n: f64, pick: NextPick, k: u32) -> RetryOutcome {
    let mut ok = 0.0;
    let mut attempts = 1.0;
    // Per class: probability that every attempt so far failed and was retried, the last
    // one on a replica of this class.
    let mut pending = [0.0; 3];
    for (w, c) in pending.iter_mut().zip(classes) {
        ok += c.first * c.ok;
        *w = c.first * c.again;
    }
    for _ in 1..k {
        let left: f64 = pending.iter().sum();
        if left <= 0.0 {
            break;
        }
        attempts += left;
        let mut next = [0.0; 3];
        for (i, &w) in pending.iter().enumerate() {
            if w <= 0.0 {
                continue;
            }
            for (j, c) in classes.iter().enumerate() {
                let t = match pick {
                    NextPick::Other => {
                        (c.count - if i == j { 1.0 } else { 0.0 }).max(0.0) / (n - 1.0)
                    }
                    NextPick::Any => c.count / n,
                    NextPick::Same => {
                        if i == j {
                            1.0
                        } else {
                            0.0
                        }
                    }
                };
                ok += w * t * c.ok;
                next[j] += w * t * c.again;
            }
        }
        pending = next;
    }
    RetryOutcome {
        availability: ok,
        attempts,
    }
}

/// The Binomial(n, p) distribution as (value, probability), without the terms below 10⁻¹⁸ of
/// the largest (the rest is renormalised): from the mode outwards by the ratio of successive
/// terms, so that no term underflows however many replicas there are.
fn binomial(n: u32, p: f64) -> Vec<(f64, f64)> {
    if n == 0 || p <= 0.0 {
        return vec![(0.0, 1.0)];
    }
    if p >= 1.0 {
        return vec![(f64::from(n), 1.0)];
    }
    let nf = f64::from(n);
    let mode = ((nf + 1.0) * p).floor().min(nf) as u32;
    let odds = p / (1.0 - p);
    let mut up = vec![(f64::from(mode), 1.0)];
    let mut w = 1.0;
    for x in mode..n {
        w *= f64::from(n - x) / f64::from(x + 1) * odds;
        if w < 1e-18 {
            break;
        }
        up.push((f64::from(x + 1), w));
    }
    let mut down = Vec::new();
    w = 1.0;
    for x in (1..=mode).rev() {
        w *= f64::from(x) / f64::from(n - x + 1) / odds;
        if w < 1e-18 {
            break;
        }
        down.push((f64::from(x - 1), w));
    }
    down.reverse();
    down.extend(up);
    let total: f64 = down.iter().map(|&(_, w)| w).sum();
    for t in &mut down {
        t.1 /= total;
    }
    down
}

/// Why [`retry_outcome`] is only an estimate for a call, or `None` where it follows the
/// engine's choice of replica exactly: no retries, one replica, nothing down to escape, or a
/// first attempt placed by round robin or random choice and retries sent to another replica
/// (or, with a `Random` balancer, to any).
///
/// The least-outstanding and power-of-two balancers see requests in flight: a down replica
/// answers at once and so has none, and they prefer it whenever the replicas that are up are
/// busy. The shadow takes their first pick to be blind to outages, which holds at light
/// load (every replica idle: ties) and is optimistic as load grows. Without `other_replica`,
/// round robin sends a retry to whichever replica is next in turn after the requests in
/// between, and the shadow takes the retry to return to the same replica: pessimistic.
pub(super) fn retry_estimate(model: &Model, call: &CallEdge, rel: &[Rel]) -> Option<String> {
    let policy = call.retry.as_ref().filter(|p| p.attempts > 1)?;
    let r = rel[call.to.0 as usize].replicas;
    let outage = r.down > 0.0 || r.crashed.0 > 0 || (call.timeout.is_some() && r.hung.0 > 0);
    if r.n < 2 || !outage {
        return None;
    }
    let balancer = model.service_at(call.to).balancer;
    let blind = r.down <= 0.0 || matches!(balancer, Balancer::RoundRobin | Balancer::Random);
    let retry = policy.other_replica || balancer == Balancer::Random;
    match (blind, retry) {
        (true, true) => None,
        (false, true) => Some(format!(
            "{} prefers a down replica when the others are busy (it has nothing in flight); \
             exact at light load only",
            balancer_name(balancer)
        )),
        (_, false) => Some(format!(
            "without other_replica the {} picks the retry's replica anew; taken as the same \
             replica again",
            balancer_name(balancer)
        )),
    }
}

/// The balancer's name as written in a topology file.
fn balancer_name(b: Balancer) -> &'static str {
    match b {
        Balancer::RoundRobin => "RoundRobin balancer",
        Balancer::Random => "Random balancer",
        Balancer::LeastOutstanding => "LeastOutstanding balancer",
        Balancer::PowerOfTwo => "PowerOfTwo balancer",
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
                availability: call_availability(c, rel, q),
                expected_attempts: expected_attempts(c, rel, q),
                estimate: retry_estimate(model, c, rel),
                timeout_probability: q,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::binomial;
    use crate::analysis::CallAnalysis;

    /// The analysis of the only call of a caller `api` (`retry` as in a file) to `n`
    /// replicas of `s` (`fields` added to them), fed 1 request/s.
    fn call(n: u32, fields: &str, retry: &str) -> CallAnalysis {
        let text = format!(
            r#"Topology(
                workload: [(name: "e", entry: "api", arrivals: Poisson(per_second: 1))],
                services: {{
                    "api": (steps: [Call(to: "s", retry: ({retry}))]),
                    "s": (replicas: {n}{fields}),
                }},
            )"#
        );
        let model = crate::model::parse(&text, "retry.ron").unwrap();
        model.analyze().calls.remove(0)
    }

    /// A = 20/(20 + 5) = 0.8 per replica: p = 0.2.
    const FAILS: &str = r#", failures: (mttf: "20s", mttr: "5s")"#;
    const P: f64 = 0.2;

    fn close(what: &str, a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{what}: {a} vs {b}");
    }

    /// With round robin, each retry to one of the other n − 1 replicas: all k attempts fail
    /// with p·E[(D/(n − 1))^(k − 1)], D ~ Binomial(n − 1, p): p² for k = 2 whatever n, and
    /// p²(p + (1 − p)/(n − 1)) for k = 3; the attempts are 1 + p + p² either way (the first
    /// two fail together with p²).
    #[test]
    fn retries_to_another_replica_fail_together_as_the_chain_says() {
        for n in 2..=6u32 {
            let other = f64::from(n - 1);
            let two = call(n, FAILS, "attempts: 2");
            close(&format!("n = {n}, k = 2"), two.availability, 1.0 - P * P);
            close(
                &format!("n = {n}, k = 2 attempts"),
                two.expected_attempts,
                1.0 + P,
            );
            let three = call(n, FAILS, "attempts: 3");
            let fail = P * P * (P + (1.0 - P) / other);
            close(&format!("n = {n}, k = 3"), three.availability, 1.0 - fail);
            close(
                &format!("n = {n}, k = 3 attempts"),
                three.expected_attempts,
                1.0 + P + P * P,
            );
            assert_eq!(three.estimate, None);
        }
        // Three replicas, three attempts: 1 − 0.2·0.2·0.6 = 0.976, not 1 − 0.2³.
        close("n = 3", call(3, FAILS, "attempts: 3").availability, 0.976);
        // Two replicas: the third attempt returns to the first replica, down: p².
        close(
            "n = 2, k = 5",
            call(2, FAILS, "attempts: 5").availability,
            1.0 - P * P,
        );
    }

    /// One replica: every attempt meets the same outage (A), and each retries it: 1 + p(k − 1)
    /// attempts.
    #[test]
    fn one_replica_retries_into_the_same_outage() {
        let c = call(1, FAILS, "attempts: 3");
        close("availability", c.availability, 1.0 - P);
        close("attempts", c.expected_attempts, 1.0 + 2.0 * P);
        assert_eq!(c.estimate, None);
    }

    /// Independent errors stay 1 − e^k, and (1 − e^k)/(1 − e) attempts, whatever the replicas
    /// and the balancer.
    #[test]
    fn independent_errors_multiply_away() {
        for n in [1, 2, 3, 5] {
            for balancer in ["RoundRobin", "LeastOutstanding", "Random", "PowerOfTwo"] {
                let c = call(
                    n,
                    &format!(", errors: 0.3, balancer: {balancer}"),
                    "attempts: 3",
                );
                close("availability", c.availability, 1.0 - 0.3f64.powi(3));
                close(
                    "attempts",
                    c.expected_attempts,
                    (1.0 - 0.3f64.powi(3)) / 0.7,
                );
                assert_eq!(c.estimate, None, "nothing down: exact");
            }
        }
    }

    /// Errors and outages together, two replicas, two attempts: the attempts reach two
    /// different replicas, independent, so they fail together with (1 − A(1 − e))², not with
    /// the product of the two parts (1 − p²)(1 − e²).
    #[test]
    fn errors_and_outages_interleave() {
        let c = call(2, &format!("{FAILS}, errors: 0.1"), "attempts: 2");
        let a = 0.8 * 0.9;
        close("availability", c.availability, 1.0 - (1.0 - a) * (1.0 - a));
        close("attempts", c.expected_attempts, 2.0 - a);
        // Without `Unavailable` retried, a retry after an error that lands on a down replica
        // ends the call: success on the first (a), or error then an up replica answering.
        let c = call(
            2,
            &format!("{FAILS}, errors: 0.1"),
            "attempts: 2, on: [Error]",
        );
        let p_err_first = 0.8 * 0.1;
        close(
            "availability without Unavailable",
            c.availability,
            a + p_err_first * 0.8 * 0.9,
        );
        close(
            "attempts without Unavailable",
            c.expected_attempts,
            1.0 + p_err_first,
        );
    }

    /// A `Random` balancer without `other_replica`: the retry goes to any of the n replicas,
    /// the same one with probability 1/n. Two replicas, two attempts: p(1/2 + p/2) fail.
    #[test]
    fn random_retries_may_return_to_the_same_replica() {
        let c = call(
            2,
            &format!("{FAILS}, balancer: Random"),
            "attempts: 2, other_replica: false",
        );
        close("availability", c.availability, 1.0 - P * (0.5 + 0.5 * P));
        assert_eq!(c.estimate, None);
        // Round robin without other_replica: taken as the same replica again, an estimate.
        let c = call(3, FAILS, "attempts: 2, other_replica: false");
        close("round robin", c.availability, 1.0 - P);
        assert!(c.estimate.unwrap().contains("other_replica"));
    }

    /// The least-outstanding and power-of-two balancers see requests in flight, which a down
    /// replica has none of: an estimate, named in the analysis.
    #[test]
    fn balancers_that_see_requests_in_flight_are_estimates() {
        for balancer in ["LeastOutstanding", "PowerOfTwo"] {
            let c = call(3, &format!("{FAILS}, balancer: {balancer}"), "attempts: 3");
            close(balancer, c.availability, 0.976);
            let why = c.estimate.unwrap();
            assert!(
                why.contains(balancer) && why.contains("light load"),
                "{why}"
            );
        }
        // Without retries there is nothing to estimate.
        assert_eq!(
            call(
                3,
                &format!("{FAILS}, balancer: LeastOutstanding"),
                "attempts: 1"
            )
            .estimate,
            None
        );
    }

    /// A crash of 1 replica of 3 for the whole run: a retry goes to one of the two others,
    /// both up, so every call succeeds; a third of the calls take a second attempt. Under
    /// `LeastOutstanding` every first attempt goes to the crashed replica (nothing in
    /// flight, lowest index): two attempts each.
    #[test]
    fn a_crashed_replica_is_escaped_by_one_retry() {
        for (balancer, attempts) in [("RoundRobin", 1.0 + 1.0 / 3.0), ("LeastOutstanding", 2.0)] {
            let text = format!(
                r#"Topology(
                    run: (duration: "100s", warmup: "0s"),
                    workload: [(name: "e", entry: "api", arrivals: Poisson(per_second: 1))],
                    services: {{
                        "api": (steps: [Call(to: "s", retry: (attempts: 2))]),
                        "s": (replicas: 3, balancer: {balancer}),
                    }},
                    faults: [(at: "0s", lasts: "1h", fault: Crash(service: "s", replicas: 1))],
                )"#
            );
            let a = crate::model::parse(&text, "crash.ron").unwrap().analyze();
            close(balancer, a.entries[0].availability, 1.0);
            let phase = &a.phases[0];
            close(balancer, phase.entries[0].availability, 1.0);
            let s = phase.services.iter().find(|s| s.name == "s").unwrap();
            close(balancer, s.arrival_rate_per_s, attempts);
        }
    }

    /// A hang of replica 0 of 2, a caller with a timeout that retries timeouts only, and
    /// failure processes on both replicas (p = 0.2; a down replica answers `unavailable`,
    /// hung or not): the two kinds of failed attempt are retried differently, so the chain
    /// keeps them apart. Round robin: to replica 0 (half the calls), a timeout when it is up,
    /// then replica 1 answers if up: (1 − p)²; to replica 1, it answers if up, and a down one
    /// is not retried: 1 − p. Availability ½(1 − p)² + ½(1 − p) = 0.72, attempts 1 + ½(1 − p).
    #[test]
    fn hung_and_down_replicas_are_retried_as_their_outcomes_say() {
        let text = r#"Topology(
            run: (duration: "100s", warmup: "0s"),
            workload: [(name: "e", entry: "api", arrivals: Poisson(per_second: 1))],
            services: {
                "api": (steps: [Call(to: "s", timeout: "1s",
                                     retry: (attempts: 2, on: [Timeout]))]),
                "s": (replicas: 2, failures: (mttf: "20s", mttr: "5s")),
            },
            faults: [(at: "0s", lasts: "1h", fault: Hang(service: "s", replicas: 1))],
        )"#;
        let a = crate::model::parse(text, "hang.ron").unwrap().analyze();
        let phase = &a.phases[0];
        close("availability", phase.entries[0].availability, 0.72);
        let s = phase.services.iter().find(|s| s.name == "s").unwrap();
        close("attempts", s.arrival_rate_per_s, 1.4);
    }

    /// The binomial weights sum to 1 and have mean n·p, for a few replicas and for the
    /// most a service may have (no term underflows to leave nothing).
    #[test]
    fn binomial_weights_are_a_distribution() {
        for (n, p) in [
            (1, 0.5),
            (3, 0.2),
            (10, 0.99),
            (10_000, 0.2),
            (10_000, 1e-6),
        ] {
            let b = binomial(n, p);
            let total: f64 = b.iter().map(|&(_, w)| w).sum();
            let mean: f64 = b.iter().map(|&(x, w)| x * w).sum();
            assert!((total - 1.0).abs() < 1e-12, "n {n}, p {p}: total {total}");
            let np = f64::from(n) * p;
            assert!(
                (mean - np).abs() < 1e-9 * np.max(1.0),
                "n {n}, p {p}: mean {mean}"
            );
            assert!(b.len() < 1200, "n {n}, p {p}: {} terms", b.len());
        }
        assert_eq!(binomial(4, 0.0), vec![(0.0, 1.0)]);
        assert_eq!(binomial(4, 1.0), vec![(4.0, 1.0)]);
    }
}
