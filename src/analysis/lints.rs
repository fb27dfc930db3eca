//! Lints: findings about a model that probably does not do what was meant, one function per
//! lint, each with its code (the `code` of the [`Lint`] it makes).

use super::availability::{amplification, Rel};
use super::holding::{median_latency_ns, Holding};
use super::traffic::Traffic;
use super::{GroupAnalysis, Lint, LintLevel, PhaseAnalysis, QueueAnalysis, TopicAnalysis};
use crate::call::breaker::Window;
use crate::dist::Dist;
use crate::model::{CallEdge, Model, Subscriber, Topic};
use crate::time::SimDuration;

/// Breaker windows of one call step (all caller replicas, once full) above this many bytes
/// get a `breaker-memory` lint.
pub const BREAKER_MEMORY_LINT_BYTES: u64 = 1_000_000_000;

/// What the lints look at: the model and the shadow's results.
pub(super) struct Facts<'a> {
    /// The model.
    pub model: &'a Model,
    /// Reliability of each service.
    pub rel: &'a [Rel],
    /// The solved traffic equations.
    pub traffic: &'a Traffic,
    /// Holding times and per-service predictions.
    pub holding: &'a Holding,
    /// Per-topic predictions.
    pub topics: &'a [TopicAnalysis],
    /// Per-queue predictions.
    pub queues: &'a [QueueAnalysis],
    /// The shadow during each phase of the fault timeline.
    pub phases: &'a [PhaseAnalysis],
}

/// Every lint, in a stable order: services, calls, retries and breakers, failure processes,
/// message cycles, then consumer groups and work queues.
pub(super) fn all(f: &Facts) -> Vec<Lint> {
    let mut out = Vec::new();
    saturated(f, &mut out);
    timeout_below_latency(f, &mut out);
    timeout_inversion(f, &mut out);
    retry_amplification(f, &mut out);
    breaker_never_decides(f, &mut out);
    breaker_memory(f, &mut out);
    failures_unlikely(f, &mut out);
    message_cycle(f, &mut out);
    for (topic, a) in f.model.topics.iter().zip(f.topics) {
        for (k, (sub, g)) in topic.subscribers.iter().zip(&a.groups).enumerate() {
            let path = format!("topics[{}].subscribers[{k}]", topic.name);
            out.extend(idle_consumers(topic, sub, &path));
            out.extend(blocking_on_errors(f, sub, g, &path));
            out.extend(group_lag_grows(topic, a, g, path));
        }
    }
    out.extend(f.queues.iter().filter_map(queue_lag_grows));
    saturated_during_fault(f, &mut out);
    lag_grows_during_fault(f, &mut out);
    out
}

fn warning(code: &str, path: String, message: String) -> Lint {
    Lint {
        level: LintLevel::Warning,
        code: code.into(),
        path,
        message,
    }
}

/// `saturated`: ρ ≥ 1 at the mean rate; `saturated-at-peak`: ρ < 1 at the mean rate but ≥ 1
/// at the peak rate.
fn saturated(f: &Facts, out: &mut Vec<Lint>) {
    for (svc, a) in f.model.services.iter().zip(&f.holding.services) {
        let path = format!("services[{}]", svc.name);
        if a.utilization >= 1.0 {
            out.push(warning(
                "saturated",
                path,
                format!(
                    "utilization ρ = {:.2} ≥ 1 at {:.1} requests/s × {:.2} ms held / {} workers: it will saturate; its queue grows until it rejects (or the run hits max_in_flight)",
                    a.utilization, a.arrival_rate_per_s, a.mean_holding_ms, u64::from(svc.replicas) * u64::from(svc.workers)
                ),
            ));
        } else if a.peak_utilization >= 1.0 {
            out.push(warning(
                "saturated-at-peak",
                path,
                format!(
                    "utilization ρ = {:.2} at the peak rate ({:.1} requests/s): it saturates during the peak and builds a backlog",
                    a.peak_utilization, a.peak_arrival_rate_per_s
                ),
            ));
        }
    }
}

/// `timeout-below-latency`: a call's timeout is below the callee's typical (median) latency
/// plus the network both ways, so most calls time out.
fn timeout_below_latency(f: &Facts, out: &mut Vec<Lint>) {
    let model = f.model;
    for call in &model.calls {
        let Some(timeout) = call.timeout else {
            continue;
        };
        let callee = model.service_at(call.to);
        let typical_ns = median_latency_ns(model, call.to, &f.holding.body_ns)
            + 2.0 * call.latency.as_ref().map_or(0.0, Dist::median_ns);
        if (timeout.as_nanos() as f64) < typical_ns {
            out.push(warning(
                "timeout-below-latency",
                format!("{}.timeout", call.path),
                format!(
                    "timeout {} is below the typical latency of `{}` ({:.2} ms): most calls will time out",
                    timeout,
                    callee.name,
                    typical_ns / 1e6
                ),
            ));
        }
    }
}

/// Longest a call step can keep its caller waiting: every attempt times out and every
/// backoff sleeps its longest \[ns\]; infinite without a timeout.
fn worst_case_call_ns(call: &CallEdge) -> f64 {
    let Some(t) = call.timeout else {
        return f64::INFINITY;
    };
    let network = 2.0 * call.latency.as_ref().map_or(0.0, Dist::mean_ns);
    match &call.retry {
        None => t.as_nanos() as f64 + network,
        Some(r) => {
            let sleeps: f64 = (1..r.attempts)
                .map(|k| r.backoff.delay(k).as_nanos() as f64)
                .sum();
            f64::from(r.attempts) * (t.as_nanos() as f64 + network) + sleeps
        }
    }
}

/// `timeout-inversion`: a caller gives up before its callee has finished retrying, so the
/// callee's retries run on for nobody (orphaned work).
fn timeout_inversion(f: &Facts, out: &mut Vec<Lint>) {
    let model = f.model;
    for outer in &model.calls {
        let Some(t) = outer.timeout else { continue };
        for inner in model.calls.iter().filter(|c| c.from == outer.to) {
            let worst = worst_case_call_ns(inner);
            if inner.retry.is_some() && worst.is_finite() && (t.as_nanos() as f64) < worst {
                out.push(warning(
                    "timeout-inversion",
                    format!("{}.timeout", outer.path),
                    format!(
                        "`{}` gives up on `{}` after {t}, but `{}` may spend {:.0} ms on `{}` ({} attempts × timeout + backoffs): its retries run on for a caller that has left — orphaned work. Make the caller's timeout longer than the callee's worst case, or propagate deadlines",
                        model.service_at(outer.from).name,
                        model.service_at(outer.to).name,
                        model.service_at(inner.from).name,
                        worst / 1e6,
                        model.service_at(inner.to).name,
                        inner.retry.as_ref().map_or(1, |r| r.attempts)
                    ),
                ));
            }
        }
    }
}

/// `retry-amplification`: retries without a budget at two or more layers multiply to 8 or
/// more attempts per request at one service.
fn retry_amplification(f: &Facts, out: &mut Vec<Lint>) {
    for e in &f.model.entries {
        let Some(service) = e.target.service() else {
            continue;
        };
        // A budget bounds the retries of its step, so only unbudgeted steps multiply freely.
        let amp = amplification(f.model, service, |c| match &c.retry {
            Some(r) if r.budget.is_none() => f64::from(r.attempts),
            _ => 1.0,
        });
        if amp >= 8.0 {
            out.push(warning(
                "retry-amplification",
                format!("workload[{}]", e.name),
                format!(
                    "one request can cause up to {amp:.0} attempts at one service (retries multiply across layers) and no retry budget bounds them: a short slowdown can become a retry storm. Retry at one layer, or add `budget:` to the retries"
                ),
            ));
        }
    }
}

/// `breaker-never-decides`: a time-window breaker whose caller replicas cannot gather its
/// minimum number of calls in one window at the expected rate.
fn breaker_never_decides(f: &Facts, out: &mut Vec<Lint>) {
    let model = f.model;
    for call in &model.calls {
        let Some(b) = &call.breaker else { continue };
        if let Window::Time(secs) = b.window {
            let caller = model.service_at(call.from);
            let per_replica =
                f.traffic.rate[call.from.0 as usize] * call.probability * f64::from(secs)
                    / f64::from(caller.replicas);
            if per_replica < f64::from(b.minimum_calls) {
                out.push(warning(
                    "breaker-never-decides",
                    format!("{}.breaker.min_calls", call.path),
                    format!(
                        "each caller replica makes about {per_replica:.1} calls in the {secs} s window, fewer than min_calls = {}: the breaker can never open. Lower min_calls or widen the window",
                        b.minimum_calls
                    ),
                ));
            }
        }
    }
}

/// `breaker-memory`: the breakers of one call step (one per caller replica) would hold more
/// than [`BREAKER_MEMORY_LINT_BYTES`] once their windows fill.
fn breaker_memory(f: &Facts, out: &mut Vec<Lint>) {
    let model = f.model;
    let run_s = model.run.duration.as_nanos() as f64 / 1e9;
    for call in &model.calls {
        let Some(b) = &call.breaker else { continue };
        let replicas = model.service_at(call.from).replicas;
        let full = u64::from(replicas) * b.full_window_bytes();
        if full < BREAKER_MEMORY_LINT_BYTES {
            continue;
        }
        let per_replica =
            f.traffic.rate[call.from.0 as usize] * call.probability * run_s / f64::from(replicas);
        let this_run = f64::from(replicas) * b.window_bytes_after(per_replica, run_s);
        out.push(warning(
            "breaker-memory",
            format!("{}.breaker.window", call.path),
            format!(
                "{replicas} caller replicas each keep a breaker whose windows hold up to {} once full: {} in all. The windows grow as calls arrive (this run, at about {} calls per replica, fills about {}), but a longer or busier run can exhaust memory. Use a smaller window (resilience4j's default is Count(100)) or fewer replicas",
                bytes_text(b.full_window_bytes() as f64),
                bytes_text(full as f64),
                if per_replica < 10.0 {
                    format!("{per_replica:.2}")
                } else {
                    format!("{per_replica:.0}")
                },
                bytes_text(this_run)
            ),
        ));
    }
}

/// `failures-unlikely`: a failure process expected to fail less than once over the run.
fn failures_unlikely(f: &Facts, out: &mut Vec<Lint>) {
    let run_ns = f.model.run.duration.as_nanos() as f64;
    for svc in &f.model.services {
        if let Some(p) = &svc.failures {
            let expected = run_ns / (p.mttf_ns() + p.mttr_ns()) * f64::from(svc.replicas);
            if expected < 1.0 {
                out.push(warning(
                    "failures-unlikely",
                    format!("services[{}].failures", svc.name),
                    format!(
                        "about {expected:.2} failures are expected over the run (MTTF {:.0} s, run {:.0} s, {} replicas): lengthen the run to see failures, or shorten mttf",
                        p.mttf_ns() / 1e9,
                        run_ns / 1e9,
                        svc.replicas
                    ),
                ));
            }
        }
    }
}

/// `message-cycle`: a destination whose rate grew, in the last pass of the traffic
/// equations, by at least as much as in the pass before is on a message cycle that returns
/// at least one message per message: every message sent there comes back for ever (a
/// consumer that sends each message back to its own queue, say). Such a flow has no finite
/// rate, and a run simulates an ever-growing number of messages going round, which costs
/// events without end (with processing that takes no time, at one instant: the Zeno guard
/// stops that). A flow that returns fewer messages than it takes shrinks its growth every
/// pass and is left alone.
fn message_cycle(f: &Facts, out: &mut Vec<Lint>) {
    let model = f.model;
    let t = f.traffic;
    for (d, ((&r, &g), &prev)) in t
        .destination_rate
        .iter()
        .zip(&t.growth)
        .zip(&t.prev_growth)
        .enumerate()
    {
        if g <= 1e-9 * r.abs().max(1.0) || g < prev * (1.0 - 1e-6) {
            continue;
        }
        let (path, what) = match d.checked_sub(model.topics.len()) {
            None => (
                format!("topics[{}]", model.topics[d].name),
                format!("topic `{}`", model.topics[d].name),
            ),
            Some(q) => (
                format!("queues[{}]", model.queues[q].name),
                format!("work queue `{}`", model.queues[q].name),
            ),
        };
        out.push(warning(
            "message-cycle",
            path,
            format!(
                "messages sent to {what} come back for ever: processing one sends at least one more round the same cycle, so its rate has no finite value (still growing by {g:.1}/s per pass of the traffic equations; the loads shown are not limits) and every message circulates until the run ends. Give a step of the cycle a `probability` below 1"
            ),
        ));
    }
}

/// `idle-consumers`: more consumers than partitions; the extra ones idle.
fn idle_consumers(topic: &Topic, sub: &Subscriber, path: &str) -> Option<Lint> {
    (sub.consumers > topic.partitions).then(|| {
        warning(
            "idle-consumers",
            format!("{path}.consumers"),
            format!(
                "{} consumers for {} partitions: {} of them will idle (at most one consumer per partition). Add partitions or remove consumers",
                sub.consumers,
                topic.partitions,
                sub.consumers - topic.partitions
            ),
        )
    })
}

/// `blocking-on-errors`: a group whose service fails some messages and that blocks its
/// partition (no dead-letter topic) after the last attempt.
fn blocking_on_errors(f: &Facts, sub: &Subscriber, g: &GroupAnalysis, path: &str) -> Option<Lint> {
    let errs = 1.0 - f.rel[sub.service.0 as usize].total();
    (!sub.dead_letter && errs > 0.0).then(|| {
        warning(
            "blocking-on-errors",
            format!("{path}.on_exhausted"),
            format!(
                "`{}` fails about {:.2} % of messages and has no dead-letter topic (on_exhausted: Block): each failure that outlasts {} attempts stops its partition until it succeeds. Dead-letter instead, or expect head-of-line blocking",
                g.service,
                100.0 * errs,
                sub.max_attempts
            ),
        )
    })
}

/// `lag-grows` (consumer groups): the topic's rate exceeds the group's capacity;
/// `lag-grows-at-peak`: only its peak rate does.
fn group_lag_grows(
    topic: &Topic,
    a: &TopicAnalysis,
    g: &GroupAnalysis,
    path: String,
) -> Option<Lint> {
    let expire = match topic.retention {
        Some(r) => {
            format!(", and with a retention of {r} unconsumed messages will expire (lost)")
        }
        None => String::new(),
    };
    if g.lag_growth_per_s <= 0.0 {
        return (g.peak_lag_growth_per_s > 0.0).then(|| {
            warning(
                "lag-grows-at-peak",
                path,
                format!(
                    "`{}` receives {:.1} messages/s at the peak rate but its group processes about {:.1}/s: lag grows by {:.1} messages/s while the peak lasts{expire}",
                    g.service, a.peak_rate_per_s, g.capacity_per_s, g.peak_lag_growth_per_s
                ),
            )
        });
    }
    Some({
        warning(
            "lag-grows",
            path,
            format!(
                "`{}` receives {:.1} messages/s but its group processes about {:.1}/s: lag grows by {:.1} messages/s{expire}",
                g.service, a.rate_per_s, g.capacity_per_s, g.lag_growth_per_s
            ),
        )
    })
}

/// `lag-grows` (work queues): the queue's rate exceeds its consumers' capacity;
/// `lag-grows-at-peak`: only its peak rate does.
fn queue_lag_grows(a: &QueueAnalysis) -> Option<Lint> {
    if a.backlog_growth_per_s <= 0.0 {
        return (a.peak_backlog_growth_per_s > 0.0).then(|| {
            warning(
                "lag-grows-at-peak",
                format!("queues[{}]", a.name),
                format!(
                    "`{}` receives {:.1} messages/s at the peak rate but its consumers process about {:.1}/s: the backlog grows by {:.1} messages/s while the peak lasts. Add consumers (or prefetch), or workers",
                    a.name, a.peak_rate_per_s, a.capacity_per_s, a.peak_backlog_growth_per_s
                ),
            )
        });
    }
    Some({
        warning(
            "lag-grows",
            format!("queues[{}]", a.name),
            format!(
                "`{}` receives {:.1} messages/s but its consumers process about {:.1}/s: the backlog grows by {:.1} messages/s. Add consumers (or prefetch), or workers",
                a.name, a.rate_per_s, a.capacity_per_s, a.backlog_growth_per_s
            ),
        )
    })
}

/// A phase's span and faults for a message: `from 2m to 5m while slowdown reviews ×50 is in
/// force`.
fn during(p: &PhaseAnalysis) -> String {
    let at = |s: f64| SimDuration((s * 1e9).round() as u64).to_string();
    format!(
        "from {} to {} while {} {} in force",
        at(p.from_s),
        at(p.to_s),
        p.faults.join(" and "),
        if p.faults.len() == 1 { "is" } else { "are" }
    )
}

/// `saturated-during-fault`: a service below saturation without faults reaches ρ ≥ 1 during a
/// phase of the fault timeline (one lint per service, for its busiest phase). A service that
/// only consumes messages is left to `lag-grows-during-fault`: its consumers take no more than
/// it can run, and the backlog waits in the broker.
fn saturated_during_fault(f: &Facts, out: &mut Vec<Lint>) {
    let model = f.model;
    for (i, svc) in model.services.iter().enumerate() {
        let steady = &f.holding.services[i];
        let id = crate::model::ServiceId(i as u32);
        let requested = model.calls.iter().any(|c| c.to == id)
            || model.entries.iter().any(|e| e.target.service() == Some(id));
        if steady.utilization >= 1.0 || !requested {
            continue;
        }
        let worst = f
            .phases
            .iter()
            .filter(|p| !p.faults.is_empty() && p.services[i].utilization >= 1.0)
            .max_by(|a, b| {
                a.services[i]
                    .utilization
                    .total_cmp(&b.services[i].utilization)
            });
        let Some(p) = worst else { continue };
        let during_fault = &p.services[i];
        out.push(warning(
            "saturated-during-fault",
            format!("services[{}]", svc.name),
            format!(
                "utilization ρ = {:.2} {} ({:.2} without faults: {:.1} requests/s × {:.2} ms held / {} workers): it saturates while the fault lasts; its queue grows until the fault ends (or it rejects, once a bounded queue is full), and its callers wait or time out",
                during_fault.utilization,
                during(p),
                steady.utilization,
                during_fault.arrival_rate_per_s,
                during_fault.mean_holding_ms,
                u64::from(svc.replicas) * u64::from(svc.workers)
            ),
        ));
    }
}

/// `lag-grows-during-fault`: a consumer group or work queue that keeps up without faults
/// falls behind during a phase of the fault timeline (one lint each, for the phase that
/// leaves the largest backlog), with the backlog it leaves and how long it takes to drain
/// afterwards.
fn lag_grows_during_fault(f: &Facts, out: &mut Vec<Lint>) {
    let drain = |backlog: f64, rate: f64, capacity: f64| {
        if capacity > rate {
            format!(
                ", which drains in about {:.1} s afterwards at {:.1} − {:.1} = {:.1} messages/s",
                backlog / (capacity - rate),
                capacity,
                rate,
                capacity - rate
            )
        } else {
            String::new()
        }
    };
    let mut k = 0;
    for (topic, a) in f.model.topics.iter().zip(f.topics) {
        for (j, g) in a.groups.iter().enumerate() {
            let index = k;
            k += 1;
            if g.lag_growth_per_s > 0.0 {
                continue;
            }
            let worst = f
                .phases
                .iter()
                .filter(|p| !p.faults.is_empty() && p.groups[index].lag_growth_per_s > 0.0)
                .max_by(|a, b| {
                    let backlog =
                        |p: &PhaseAnalysis| p.groups[index].lag_growth_per_s * (p.to_s - p.from_s);
                    backlog(a).total_cmp(&backlog(b))
                });
            let Some(p) = worst else { continue };
            let pg = &p.groups[index];
            let backlog = pg.lag_growth_per_s * (p.to_s - p.from_s);
            out.push(warning(
                "lag-grows-during-fault",
                format!("topics[{}].subscribers[{j}]", topic.name),
                format!(
                    "`{}` falls behind {}: lag grows by {:.1} messages/s (capacity {:.1}/s for {:.1}/s published), about {:.0} messages{}",
                    g.service,
                    during(p),
                    pg.lag_growth_per_s,
                    pg.capacity_per_s,
                    pg.rate_per_s,
                    backlog,
                    drain(backlog, a.rate_per_s, g.capacity_per_s)
                ),
            ));
        }
    }
    for (i, q) in f.queues.iter().enumerate() {
        if q.backlog_growth_per_s > 0.0 {
            continue;
        }
        let worst = f
            .phases
            .iter()
            .filter(|p| !p.faults.is_empty() && p.queues[i].backlog_growth_per_s > 0.0)
            .max_by(|a, b| {
                let backlog =
                    |p: &PhaseAnalysis| p.queues[i].backlog_growth_per_s * (p.to_s - p.from_s);
                backlog(a).total_cmp(&backlog(b))
            });
        let Some(p) = worst else { continue };
        let pq = &p.queues[i];
        let backlog = pq.backlog_growth_per_s * (p.to_s - p.from_s);
        out.push(warning(
            "lag-grows-during-fault",
            format!("queues[{}]", q.name),
            format!(
                "`{}` falls behind {}: the backlog grows by {:.1} messages/s (capacity {:.1}/s for {:.1}/s sent), about {:.0} messages{}",
                q.name,
                during(p),
                pq.backlog_growth_per_s,
                pq.capacity_per_s,
                pq.rate_per_s,
                backlog,
                drain(backlog, q.rate_per_s, q.capacity_per_s)
            ),
        ));
    }
}

/// A byte count for a message: `512 B`, `3.2 kB`, `10.0 GB` (powers of 1000).
fn bytes_text(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1e3 {
        return format!("{bytes:.0} B");
    }
    let mut v = bytes / 1e3;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1e3 {
            break;
        }
        v /= 1e3;
        unit = u;
    }
    format!("{v:.1} {unit}")
}
