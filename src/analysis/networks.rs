//! Networks of work queues: the mean time a customer spends in the network, from the send of
//! an entry point to its last acknowledgement.
//!
//! Source: Jackson networks (Jackson 1957, 1963): with Poisson arrivals, exponential service
//! and Markov routing, the stations behave as independent M/M/c queues with the rates of the
//! traffic equations, so a customer's mean time in the network is the sum over stations of
//! its expected visits times the station's mean sojourn. docs/semantics.md, *Queueing
//! formulas* (Jackson networks) and *Reference models M1–M3*.

use super::traffic::Traffic;
use super::visit::{fold_block, StepFold};
use super::{EntryAnalysis, QueueAnalysis};
use crate::dist::Dist;
use crate::model::{CallEdge, CallId, Destination, EntryTarget, Model, PublishStep, ServiceId};

/// Sets `end_to_end_ms` of every entry point that sends to a work queue whose customers
/// travel a network of work queues.
///
/// **Formula.** With Pᵢⱼ the expected messages to queue j per message processed from queue i
/// (the traffic equations' per-request sends of i's service), the expected visits of a
/// customer entering at queue q solve v = e_q + vP (summed as a series, which converges when
/// every cycle returns less than one message per message); the mean time in the network is
/// Σⱼ vⱼ·Wⱼ, Wⱼ the queue's mean sojourn (send to acknowledged, [`QueueAnalysis::sojourn_ms`]).
///
/// **Assumptions.** One customer is one message at a time: each processing sends at most one
/// message (a `Choice` of sends, or a send made with a probability), to work queues only, and
/// the services it calls send nothing; its send is its last step, so that the next station's
/// sojourn begins as this one's ends. Exact for a Jackson network (Poisson arrivals,
/// exponential processing, stations of c = consumers × prefetch ≤ workers); an estimate
/// otherwise. `None` when these do not hold or a station is unstable.
///
/// **Example.** The reference model M2, five M/M/4 stations in tandem at ρ = 0.7 with
/// 2.8 ms work: 5 × 3.8002 = 19.001 ms; M3, twenty M/M/2 stations with feedback: averaged
/// over the entry points by their rates, 54.902 ms.
pub(super) fn end_to_end(
    model: &Model,
    traffic: &Traffic,
    queues: &[QueueAnalysis],
    entries: &mut [EntryAnalysis],
) {
    let topics = model.topics.len();
    let nq = model.queues.len();
    if nq == 0 {
        return;
    }
    // Whether each service (or a service it calls) publishes anything.
    let publishes_any: Vec<bool> = traffic
        .publishes
        .iter()
        .map(|p| p.iter().any(|&m| m > 0.0))
        .collect();
    let station_ok: Vec<bool> = model
        .queues
        .iter()
        .map(|q| {
            let s = q.service;
            let sends = &traffic.publishes[s.0 as usize];
            let at_most_one = fold_block(model, &mut MaxSends, model.service_at(s).body, ()) <= 1;
            let to_queues_only = sends[..topics].iter().all(|&m| m == 0.0);
            let callees_silent = callees(model, s)
                .iter()
                .all(|c| !publishes_any[c.0 as usize]);
            at_most_one && to_queues_only && callees_silent
        })
        .collect();
    for (e, out) in model.entries.iter().zip(entries.iter_mut()) {
        let EntryTarget::Broker(Destination::Queue(q0)) = e.target else {
            continue;
        };
        out.end_to_end_ms = visits(model, traffic, q0.0 as usize).and_then(|v| {
            let mut total = 0.0;
            for (j, &vj) in v.iter().enumerate() {
                if vj <= 0.0 {
                    continue;
                }
                if !station_ok[j] {
                    return None;
                }
                total += vj * queues[j].sojourn_ms?;
            }
            Some(total)
        });
    }
}

/// Expected visits to each work queue of a customer entering at queue `q0`, or `None` when
/// the series has not converged after 10,000 terms (a cycle that returns nearly a message
/// per message, or more: see the `message-cycle` lint).
fn visits(model: &Model, traffic: &Traffic, q0: usize) -> Option<Vec<f64>> {
    let topics = model.topics.len();
    let nq = model.queues.len();
    // Per queue, where its messages go next: (queue, expected messages), the non-zero ones.
    let routing: Vec<Vec<(usize, f64)>> = model
        .queues
        .iter()
        .map(|q| {
            traffic.publishes[q.service.0 as usize][topics..]
                .iter()
                .enumerate()
                .filter(|(_, &p)| p > 0.0)
                .map(|(j, &p)| (j, p))
                .collect()
        })
        .collect();
    let mut total = vec![0.0; nq];
    let mut wave = vec![0.0; nq];
    wave[q0] = 1.0;
    for _ in 0..10_000 {
        if wave.iter().sum::<f64>() < 1e-15 {
            return Some(total);
        }
        let mut next = vec![0.0; nq];
        for (i, &w) in wave.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            total[i] += w;
            for &(j, p) in &routing[i] {
                next[j] += w * p;
            }
        }
        wave = next;
    }
    None
}

/// The services `s` calls, directly or through other services.
fn callees(model: &Model, s: ServiceId) -> Vec<ServiceId> {
    let mut out: Vec<ServiceId> = Vec::new();
    let mut stack = vec![s];
    while let Some(x) = stack.pop() {
        for c in model.calls.iter().filter(|c| c.from == x) {
            if !out.contains(&c.to) {
                out.push(c.to);
                stack.push(c.to);
            }
        }
    }
    out
}

/// The most messages one run of a block can send: a sequence and a fan-out add up, a choice
/// takes its largest branch.
struct MaxSends;

impl StepFold for MaxSends {
    type Down = ();
    type Up = u32;

    fn work(&mut self, (): (), _: &Dist) -> u32 {
        0
    }

    fn call(&mut self, (): (), _: CallId, _: &CallEdge) -> u32 {
        0
    }

    fn publish(&mut self, (): (), step: &PublishStep) -> u32 {
        u32::from(step.probability > 0.0)
    }

    fn into_parallel((): (), _: f64) {}

    fn into_choice((): (), _: f64, _: f64) {}

    fn sequence(steps: impl Iterator<Item = u32>) -> u32 {
        steps.fold(0, u32::saturating_add)
    }

    fn parallel(_: f64, branches: impl Iterator<Item = u32>) -> u32 {
        branches.fold(0, u32::saturating_add)
    }

    fn choice(_: f64, branches: impl Iterator<Item = (f64, u32)>) -> u32 {
        branches.map(|(_, n)| n).max().unwrap_or(0)
    }
}
