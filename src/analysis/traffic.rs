//! Traffic equations: how many requests per second reach each service, and how many messages
//! per second reach each topic and work queue.
//!
//! Source: the traffic equations of Jackson networks, λᵢ = γᵢ + Σⱼ λⱼ·Pⱼᵢ (docs/semantics.md,
//! *Queueing formulas*, Jackson networks; Jackson 1957 and 1963).

use super::availability::{expected_attempts, publish_lost, Rel, TimeoutRisk};
use super::timeline::Conditions;
use super::visit::{fold_block, StepFold};
use super::Window;
use crate::dist::Dist;
use crate::model::{CallEdge, CallId, EntryTarget, Model, PublishStep, ServiceId};

/// The solved traffic equations.
#[derive(Clone, Debug)]
pub(super) struct Traffic {
    /// Requests per second at each service at the mean entry rates, by [`ServiceId`].
    pub rate: Vec<f64>,
    /// The same at the peak entry rates.
    pub peak: Vec<f64>,
    /// Messages per second to each destination at the mean entry rates, topics first, then
    /// queues (the layout of [`Model::destination_index`]).
    pub destination_rate: Vec<f64>,
    /// The same at the peak entry rates.
    pub destination_peak: Vec<f64>,
    /// How much each destination's rate grew in the last pass of the equations.
    pub growth: Vec<f64>,
    /// Per service, the messages one of its requests sends to each destination (topics
    /// first, then queues).
    pub publishes: Vec<Vec<f64>>,
    /// How much it grew in the pass before.
    pub prev_growth: Vec<f64>,
}

/// Solves the traffic equations over the measured window.
///
/// **Formula.** λ(s) = Σ over entry points of rate × expected attempts per request at s,
/// where a call made with probability p and E attempts contributes p·E per run of its step
/// ([`Visits`]); a topic or queue receives the entry messages plus Σ λ(s) × messages s
/// publishes per request ([`Publishes`]), and a consumer receives its destination's rate.
/// Sync calls propagate within a pass, callers first; messages feed their consumers in the
/// next pass, until the destination rates settle (relative change ≤ 10⁻⁹) or 64 passes.
/// The peak rates follow the same equations from the peak entry rates, messages that
/// external producers publish or send included.
///
/// **Assumptions.** Calls skipped because an earlier call failed still count, so λ is an
/// upper bound when calls fail. The peak rates take every entry point at its peak at once.
///
/// **Example.** 100 requests/s to a service that calls `b` with probability 0.5 and retries
/// errors of a callee with availability 0.7 three times: λ(b) = 100 × 0.5 × 1.39 = 69.5/s.
pub(super) fn solve(
    model: &Model,
    order: &[ServiceId],
    rel: &[Rel],
    risk: &TimeoutRisk,
    cond: &Conditions,
    window: Window,
) -> Traffic {
    let n = model.services.len();
    let mut rate = vec![0.0; n];
    let mut peak = vec![0.0; n];
    // Messages external producers publish to each destination (topics, then queues).
    let destinations = model.topics.len() + model.queues.len();
    let mut entry_messages = vec![0.0; destinations];
    let mut entry_messages_peak = vec![0.0; destinations];
    for e in &model.entries {
        match e.target {
            EntryTarget::Service(s) => {
                rate[s.0 as usize] += e.arrivals.mean_rate(window.from, window.to);
                peak[s.0 as usize] += e.arrivals.peak_rate(window.from, window.to);
            }
            EntryTarget::Broker(d) => {
                // External producers neither wait nor buffer: what the broker cannot take is
                // lost.
                let d = model.destination_index(d);
                let taken = 1.0 - cond.unreachable(model, d, false);
                let (mean, peak) = (
                    e.arrivals.mean_rate(window.from, window.to),
                    e.arrivals.peak_rate(window.from, window.to),
                );
                entry_messages[d] += if taken < 1.0 { mean * taken } else { mean };
                entry_messages_peak[d] += if taken < 1.0 { peak * taken } else { peak };
            }
        }
    }
    // Messages a service publishes to each destination per request it serves, and the
    // services that consume each destination.
    let consumers_of: Vec<Vec<ServiceId>> = model
        .topics
        .iter()
        .map(|t| t.subscribers.iter().map(|s| s.service).collect())
        .chain(model.queues.iter().map(|q| vec![q.service]))
        .collect();
    let publishes: Vec<Vec<f64>> = (0..n)
        .map(|s| {
            let mut out = Publishes {
                model,
                cond,
                out: vec![0.0; destinations],
            };
            fold_block(
                model,
                &mut out,
                model.service_at(ServiceId(s as u32)).body,
                1.0,
            );
            out.out
        })
        .collect();
    // Expected attempts at each callee per request a service serves, callees in index order
    // (only those it calls: a dense row per service would cost services² per pass).
    let visits: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|s| {
            let mut v = Visits {
                rel,
                risk,
                visits: Vec::new(),
            };
            fold_block(
                model,
                &mut v,
                model.service_at(ServiceId(s as u32)).body,
                1.0,
            );
            let mut row = v.visits;
            // Stable: the attempts of one callee stay in step order.
            row.sort_by_key(|&(callee, _)| callee);
            let mut merged: Vec<(usize, f64)> = Vec::with_capacity(row.len());
            for (callee, a) in row {
                match merged.last_mut() {
                    Some((c, total)) if *c == callee => *total += a,
                    _ => merged.push((callee, a)),
                }
            }
            merged
        })
        .collect();
    let (base_rate, base_peak) = (rate.clone(), peak.clone());
    let mut destination_rate = vec![0.0; destinations];
    let mut destination_peak = vec![0.0; destinations];
    // How much each destination's rate grew in the last two passes (a flow that loops with
    // a return of one message per message or more grows by as much or more every pass).
    let (mut growth, mut prev_growth) = (vec![0.0; destinations], vec![0.0; destinations]);
    // Sync calls propagate within a pass; messages feed the subscribers of the next pass,
    // until the rates settle (async flows may loop; 64 passes bound the work).
    for _ in 0..64 {
        rate.clone_from(&base_rate);
        peak.clone_from(&base_peak);
        for (t, consumers) in consumers_of.iter().enumerate() {
            for s in consumers {
                rate[s.0 as usize] += destination_rate[t];
                peak[s.0 as usize] += destination_peak[t];
            }
        }
        for &s in order.iter().rev() {
            let (r, p) = (rate[s.0 as usize], peak[s.0 as usize]);
            for &(callee, v) in &visits[s.0 as usize] {
                rate[callee] += r * v;
                peak[callee] += p * v;
            }
        }
        let next: Vec<f64> = (0..destinations)
            .map(|t| entry_messages[t] + (0..n).map(|s| rate[s] * publishes[s][t]).sum::<f64>())
            .collect();
        let next_peak: Vec<f64> = (0..destinations)
            .map(|t| {
                entry_messages_peak[t] + (0..n).map(|s| peak[s] * publishes[s][t]).sum::<f64>()
            })
            .collect();
        let close = |a: &f64, b: &f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
        let settled = next.iter().zip(&destination_rate).all(|(a, b)| close(a, b))
            && next_peak
                .iter()
                .zip(&destination_peak)
                .all(|(a, b)| close(a, b));
        std::mem::swap(&mut growth, &mut prev_growth);
        for ((g, a), b) in growth.iter_mut().zip(&next).zip(&destination_rate) {
            *g = a - b;
        }
        destination_rate = next;
        destination_peak = next_peak;
        if settled {
            break;
        }
    }
    Traffic {
        rate,
        peak,
        destination_rate,
        destination_peak,
        growth,
        prev_growth,
        publishes,
    }
}

/// Expected attempts at each callee per run of a block: `down` is the runs of the step per
/// run of the root (the product of the `Parallel` probabilities and `Choice` shares above
/// it), and a call adds runs × p × [expected attempts](expected_attempts) to its callee.
struct Visits<'a> {
    rel: &'a [Rel],
    risk: &'a TimeoutRisk,
    /// (callee, attempts) per call step, in step order.
    visits: Vec<(usize, f64)>,
}

impl StepFold for Visits<'_> {
    type Down = f64;
    type Up = ();

    fn work(&mut self, _: f64, _: &Dist) {}

    fn call(&mut self, weight: f64, id: CallId, call: &CallEdge) {
        let q = self.risk.calls[id.0 as usize];
        self.visits.push((
            call.to.0 as usize,
            weight * call.probability * expected_attempts(call, self.rel, q),
        ));
    }

    fn publish(&mut self, _: f64, _: &PublishStep) {}

    fn into_parallel(weight: f64, probability: f64) -> f64 {
        weight * probability
    }

    fn into_choice(weight: f64, probability: f64, share: f64) -> f64 {
        weight * probability * share
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

/// Expected messages to each destination per run of a block: a publish step adds runs × p,
/// less the share lost while the broker cannot take them ([`publish_lost`]; messages that
/// wait or are buffered count: they reach the broker when it is back).
struct Publishes<'a> {
    model: &'a Model,
    cond: &'a Conditions,
    out: Vec<f64>,
}

impl StepFold for Publishes<'_> {
    type Down = f64;
    type Up = ();

    fn work(&mut self, _: f64, _: &Dist) {}

    fn call(&mut self, _: f64, _: CallId, _: &CallEdge) {}

    fn publish(&mut self, weight: f64, step: &PublishStep) {
        let lost = publish_lost(self.model, self.cond, step);
        let sent = if lost > 0.0 {
            weight * step.probability * (1.0 - lost)
        } else {
            weight * step.probability
        };
        self.out[self.model.destination_index(step.to)] += sent;
    }

    fn into_parallel(weight: f64, probability: f64) -> f64 {
        weight * probability
    }

    fn into_choice(weight: f64, probability: f64, share: f64) -> f64 {
        weight * probability * share
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
