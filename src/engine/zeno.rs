//! The Zeno guard: a run stops when virtual time stands still for more than
//! `run.max_events_per_instant` events, and says what went round and what to change.
//!
//! A discrete-event model can loop without time advancing: a message that fails in zero time
//! and is redelivered at once, processing that takes no time and sends the message back to
//! its own queue, a partition retried with no backoff. Such a *Zeno* run would never return.
//! The engine counts the events of the current instant, micro-steps included (one increment
//! and one compare each; the count resets when time advances). When the count passes the cap,
//! the run does not stop at once: it watches a bounded number of further events at the same
//! instant ([`DIAGNOSIS_EVENTS`]), counting per service the events it handles and, from the
//! broker's counters, what each queue, consumer group and publish step did meanwhile. Only
//! then does it stop with [`RunError::ZenoGuard`], naming the busiest of them and the setting
//! that would make time advance (a `retry_delay`, a `retry_backoff`, a `max_receives`,
//! non-zero work). Nothing of this runs before the cap is passed.

use super::event::{Event, Micro};
use super::kernel::Key;
use super::simulation::Simulation;
use crate::error::RunError;
use crate::model::{Destination, ServiceId, TopicId};
use crate::time::SimTime;

/// Most events watched after the guard trips, to name what goes round.
const DIAGNOSIS_EVENTS: u64 = 100_000;
/// Most entities of each kind named in the message.
const NAMED: usize = 3;

/// The guard's state: events at the current instant, its cap, the busiest instant so far,
/// and the diagnosis once it has tripped.
pub(super) struct ZenoGuard {
    /// Events and micro-steps at the current instant, for the guard.
    pub(super) instant_events: u64,
    /// The cap on `instant_events` (`run.max_events_per_instant`).
    pub(super) limit: u64,
    /// The most events at one instant so far, and that instant.
    pub(super) busiest: (u64, u64),
    /// Set when the guard has tripped: what goes round, gathered until the run stops.
    pub(super) diagnosis: Option<Box<Diagnosis>>,
}

impl ZenoGuard {
    /// A guard that trips after `limit` events at one instant.
    pub(super) fn new(limit: u64) -> Self {
        ZenoGuard {
            instant_events: 0,
            limit,
            busiest: (0, 0),
            diagnosis: None,
        }
    }
}

/// What the run was doing at the instant where time stood still: counters when the guard
/// tripped, and events per service since.
pub(super) struct Diagnosis {
    /// Events watched so far, and how many to watch.
    watched: u64,
    budget: u64,
    /// Events handled per service (requests delivered, started, answered, work done...).
    per_service: Vec<u64>,
    /// Per work queue: sent, delivered, failed, dead-lettered when the guard tripped.
    queues: Vec<[u64; 4]>,
    /// Per consumer group (topics in order, their groups in order): consumed, failed,
    /// retries when the guard tripped.
    groups: Vec<[u64; 3]>,
    /// Per publish step: messages published when the guard tripped.
    published: Vec<u64>,
}

impl Simulation<'_> {
    /// Counters of every queue, group and publish step now (for the diagnosis's deltas).
    fn zeno_counters(&self) -> (Vec<[u64; 4]>, Vec<[u64; 3]>, Vec<u64>) {
        let (group_failures, queue_failures, published) = self.observer.zeno_counters();
        let queues = self
            .broker
            .queues
            .iter()
            .zip(queue_failures)
            .map(|(state, failed)| {
                let q = &state.queue;
                [q.sent(), q.delivered(), failed, q.dead_lettered()]
            })
            .collect();
        let groups = self
            .broker
            .topics
            .iter()
            .flat_map(|t| t.groups.iter().map(|g| g.group.consumed()))
            .zip(group_failures)
            .map(|(consumed, [failed, retries])| [consumed, failed, retries])
            .collect();
        (queues, groups, published)
    }

    /// Starts the diagnosis on the first event past the cap.
    #[cold]
    fn zeno_begin(&mut self) {
        let (queues, groups, published) = self.zeno_counters();
        self.guard.diagnosis = Some(Box::new(Diagnosis {
            watched: 0,
            budget: self.guard.limit.clamp(1, DIAGNOSIS_EVENTS),
            per_service: vec![0; self.services.len()],
            queues,
            groups,
            published,
        }));
    }

    /// The service whose request `job` is.
    fn service_of_job(&self, job: Key) -> Option<ServiceId> {
        self.jobs.get(job).map(|j| j.service)
    }

    /// The service where strand `strand` runs.
    fn service_of_strand(&self, strand: Key) -> Option<ServiceId> {
        self.strands
            .get(strand)
            .and_then(|s| self.service_of_job(s.job))
    }

    /// The service of consumer group `g` of topic `t`.
    fn service_of_group(&self, t: TopicId, g: u32) -> ServiceId {
        self.model.topic_at(t).subscribers[g as usize].service
    }

    /// An event past the cap: counted for its service; the run stops when enough were seen.
    #[cold]
    pub(super) fn zeno_observe_event(&mut self, event: &Event) {
        let service = match *event {
            Event::Arrival { entry } => self.model.entry_at(entry).target.service(),
            Event::Deliver { job } | Event::Respond { job } | Event::JobTimeout { job } => {
                self.service_of_job(job)
            }
            Event::WorkDone { strand }
            | Event::RetryDue { strand }
            | Event::Published { strand, .. }
            | Event::PublishTimeout { strand }
            | Event::CpuDone { strand, .. } => self.service_of_strand(strand),
            Event::BreakerTimer { call, .. } | Event::BulkheadExpire { call, .. } => {
                Some(self.model.call_edge(call).from)
            }
            Event::Rebalance { topic, group } | Event::CommitTick { topic, group } => {
                Some(self.service_of_group(topic, group))
            }
            Event::Reprocess { delivery } => self
                .delivery_group(delivery)
                .map(|(t, g)| self.service_of_group(t, g)),
            Event::Visibility { work_queue } | Event::QueueRetention { work_queue } => {
                Some(self.model.queue_at(work_queue).service)
            }
            Event::Renewal { service, .. } => Some(service),
            Event::Timeout { .. }
            | Event::ClientPublished { .. }
            | Event::ClientGaveUp { .. }
            | Event::Retention { .. }
            | Event::FaultStart { .. }
            | Event::FaultEnd { .. } => None,
        };
        self.zeno_count(service);
    }

    /// A micro-step past the cap: counted for its service; the run stops when enough were
    /// seen.
    #[cold]
    pub(super) fn zeno_observe_micro(&mut self, micro: &Micro) {
        let service = match *micro {
            Micro::Deliver(job) | Micro::Start(job) | Micro::Respond(job) => {
                self.service_of_job(job)
            }
            Micro::Consume { topic, group, .. } => Some(self.service_of_group(topic, group)),
            Micro::Attempt { strand, .. } => self.service_of_strand(strand),
            Micro::Wake { service, .. } => Some(service),
        };
        self.zeno_count(service);
    }

    fn zeno_count(&mut self, service: Option<ServiceId>) {
        if self.guard.diagnosis.is_none() {
            self.zeno_begin();
        }
        let Some(d) = self.guard.diagnosis.as_deref_mut() else {
            return;
        };
        if let Some(s) = service {
            d.per_service[s.0 as usize] += 1;
        }
        d.watched += 1;
        if d.watched >= d.budget {
            self.zeno_stop();
        }
    }

    /// Ends the diagnosis: the run stops with an error naming what went round.
    #[cold]
    pub(super) fn zeno_stop(&mut self) {
        let Some(d) = self.guard.diagnosis.take() else {
            return;
        };
        let model = self.model;
        let (queues, groups, published) = self.zeno_counters();
        let mut going_round: Vec<String> = Vec::new();
        let mut advice: Vec<String> = Vec::new();

        // Work queues, busiest first.
        let mut qs: Vec<(usize, [u64; 4])> = queues
            .iter()
            .zip(&d.queues)
            .map(|(now, then)| std::array::from_fn(|i| now[i] - then[i]))
            .enumerate()
            .filter(|(_, delta): &(usize, [u64; 4])| delta[0] + delta[1] > 0)
            .collect();
        qs.sort_by_key(|&(i, delta)| (std::cmp::Reverse(delta[0] + delta[1]), i));
        for &(q, [sent, delivered, failed, dead]) in qs.iter().take(NAMED) {
            let def = &model.queues[q];
            let mut what = format!(
                "work queue `{}` ({sent} sent, {delivered} delivered",
                def.name
            );
            if failed > 0 {
                what += &format!(", {failed} failed");
            }
            if dead > 0 {
                what += &format!(", {dead} dead-lettered");
            }
            going_round.push(what + ")");
            if failed > 0 {
                let mut fix = format!(
                    "messages of work queue `{}` fail and come back at once: give it a `retry_delay` (a failed message stays hidden that long)",
                    def.name
                );
                if def.max_receives == 0 {
                    fix +=
                        " or a `max_receives` (dead-letter a message after that many deliveries)";
                }
                advice.push(fix);
            }
        }

        // Consumer groups, busiest first.
        let index: Vec<(u32, u32)> = model
            .topics
            .iter()
            .enumerate()
            .flat_map(|(t, topic)| (0..topic.subscribers.len()).map(move |g| (t as u32, g as u32)))
            .collect();
        let mut gs: Vec<(usize, [u64; 3])> = groups
            .iter()
            .zip(&d.groups)
            .map(|(now, then)| std::array::from_fn(|i| now[i] - then[i]))
            .enumerate()
            .filter(|(_, delta): &(usize, [u64; 3])| delta.iter().sum::<u64>() > 0)
            .collect();
        gs.sort_by_key(|&(i, delta)| (std::cmp::Reverse(delta.iter().sum::<u64>()), i));
        for &(i, [consumed, failed, retries]) in gs.iter().take(NAMED) {
            let (t, g) = index[i];
            let topic = &model.topics[t as usize];
            let sub = &topic.subscribers[g as usize];
            let service = &model.service_at(sub.service).name;
            going_round.push(format!(
                "consumer group `{service}` of topic `{}` ({consumed} consumed, {failed} failed, {retries} retries)",
                topic.name
            ));
            if retries > 0 {
                let mut fix = format!(
                    "group `{service}` of topic `{}` retries failed messages at once: give it a `retry_backoff`",
                    topic.name
                );
                if !sub.dead_letter {
                    fix += " or let exhausted messages go to the dead-letter topic (`on_exhausted: DeadLetter`)";
                }
                advice.push(fix);
            }
        }

        // Publish steps, busiest first.
        let mut ps: Vec<(usize, u64)> = published
            .iter()
            .zip(&d.published)
            .map(|(now, then)| now - then)
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .collect();
        ps.sort_by_key(|&(i, n)| (std::cmp::Reverse(n), i));
        for &(p, n) in ps.iter().take(NAMED) {
            let step = &model.publishes[p];
            let to = match step.to {
                Destination::Topic(t) => format!("topic `{}`", model.topic_at(t).name),
                Destination::Queue(q) => format!("work queue `{}`", model.queue_at(q).name),
            };
            going_round.push(format!("step `{}` ({n} messages to {to})", step.path));
        }

        // Services, busiest first.
        let mut ss: Vec<(usize, u64)> = d
            .per_service
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .collect();
        ss.sort_by_key(|&(i, n)| (std::cmp::Reverse(n), i));
        for &(s, n) in ss.iter().take(NAMED) {
            going_round.push(format!(
                "service `{}` ({n} of the last {} events)",
                model.services[s].name, d.watched
            ));
        }

        if advice.is_empty() {
            let names: Vec<String> = ss
                .iter()
                .take(NAMED)
                .map(|&(s, _)| format!("`{}`", model.services[s].name))
                .collect();
            advice.push(if ps.is_empty() {
                format!(
                    "requests at {} take no time and set off more at the same instant: give them `work` or a call `latency` that takes time",
                    or_list(&names)
                )
            } else {
                format!(
                    "processing a message takes no time at {} and sends another round at once: give its `work` a non-zero duration, or the sending step a `probability` below 1",
                    or_list(&names)
                )
            });
        }
        if going_round.is_empty() {
            going_round
                .push("no service, queue or group (events of the broker or the faults)".into());
        }
        let advice = format!(
            "{}. If so much at one instant is intended, raise run.max_events_per_instant",
            capitalised(&advice.join("; "))
        );
        self.abort = Some(RunError::ZenoGuard {
            at_s: SimTime(self.clock.now).as_secs_f64(),
            cap: self.guard.limit,
            going_round: going_round.join(", "),
            advice,
        });
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(names: &[String]) -> String {
    match names {
        [] => "the services".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `text` with its first letter upper-case.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
