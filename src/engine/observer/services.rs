//! Facts about requests at services: arrival at a replica, a worker taking them (at once or
//! after queueing), what the worker holds meanwhile, and how they leave.

use super::Observer;
use crate::engine::measurements::{Occupancy, OccupancySeries, ServiceReport, ServiceSeries};
use crate::metrics::uptime::UpTime;
use crate::metrics::{LatencyHistogram, TimeAverage};
use crate::model::{CallId, Model, Service, ServiceId};
use crate::outcome::{Outcome, Outcomes};
use crate::time::SimTime;

/// What a busy worker holds its request for: a slot of its service's occupancy. Every
/// service has the three fixed slots, then one per distinct callee ("waiting on <callee>").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::engine) struct Hold(u16);

impl Hold {
    /// Doing local work.
    pub(in crate::engine) const WORKING: Hold = Hold(0);
    /// Sleeping before a retry, or waiting for a bulkhead permit.
    pub(in crate::engine) const BACKOFF: Hold = Hold(1);
    /// Waiting on the branches of a `Parallel`.
    pub(in crate::engine) const FANOUT: Hold = Hold(2);

    fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Labels of the fixed occupancy slots.
const HOLD_LABELS: [&str; 3] = ["working", "backoff", "fan-out"];

/// The occupancy slots of every service (the fixed ones, then "waiting on <callee>" per
/// distinct callee), and the slot of each call step in its caller's service.
pub(super) fn occupancy_layout(model: &Model) -> (Vec<Vec<String>>, Vec<Hold>) {
    let mut labels: Vec<Vec<String>> = model
        .services
        .iter()
        .map(|_| HOLD_LABELS.iter().map(|l| l.to_string()).collect())
        .collect();
    let call_slot = model
        .calls
        .iter()
        .map(|c| {
            let labels = &mut labels[c.from.0 as usize];
            let label = format!("waiting on {}", model.service_at(c.to).name);
            match labels.iter().position(|l| *l == label) {
                Some(i) => Hold(i as u16),
                None => {
                    labels.push(label);
                    Hold((labels.len() - 1) as u16)
                }
            }
        })
        .collect();
    (labels, call_slot)
}

/// One request's stay at a service, as [`Observer::left`] needs it.
#[derive(Clone, Copy, Debug)]
pub(in crate::engine) struct Visit {
    /// When it reached its replica.
    pub arrived: u64,
    /// When a worker took it, if one did.
    pub started: Option<u64>,
    /// When its caller gave up on it, if it did.
    pub orphaned_at: Option<u64>,
}

/// Why a request was dropped before a worker took it (its caller timed out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::engine) enum Unstarted {
    /// Its caller cancelled it.
    Cancelled,
    /// Its propagated deadline had passed.
    Expired,
}

/// The measurements of one service (all replicas together).
pub(super) struct ServiceObs {
    /// Workers are held per request (not an event-loop service).
    blocking: bool,
    /// Time-average areas are over `replicas × workers` workers.
    workers: f64,
    arrivals: u64,
    /// Refused at the door because the queue was full.
    rejected: u64,
    /// Refused at the door because the replica was down, or lost inside it when it crashed.
    unavailable: u64,
    /// Dropped unstarted because their propagated deadline had passed.
    expired: u64,
    /// Cancelled unstarted by a caller that timed out.
    cancelled: u64,
    /// Time with replicas up, for time-based availability.
    uptime: UpTime,
    /// Busy workers by what they do (see `HOLD_*`, then one slot per callee).
    occupancy: Vec<TimeAverage>,
    /// Occupancy areas at the end of the warm-up and at the last bucket boundary.
    occupancy_warm: Vec<u128>,
    occupancy_bucket: Vec<u128>,
    outcomes: [u64; Outcome::COUNT],
    latency: LatencyHistogram,
    /// From arrival to a worker, for requests a worker took after waiting; those taken at
    /// once are counted in `zero_waits` (a counter is cheaper than a histogram on the hot
    /// path), and join the histogram in the report. Two significant digits: a twentieth of
    /// the memory of three, so that a service's waits stay in the cache beside its latency
    /// histogram (three digits cost m3, twenty services, 2 % more time).
    wait: LatencyHistogram,
    zero_waits: u64,
    queue: TimeAverage,
    busy: TimeAverage,
    in_system: TimeAverage,
    orphaned: u64,
    orphaned_ns: u128,
    /// Areas (queue, busy, in system) at the end of the warm-up, and (queue, busy) at the
    /// last bucket boundary.
    warm_area: [u128; 3],
    bucket_area: [u128; 2],
    labels: Vec<String>,
    pub(super) series: ServiceSeries,
}

impl ServiceObs {
    pub(super) fn new(s: &Service, labels: Vec<String>, up: u32) -> Self {
        let n = labels.len();
        ServiceObs {
            blocking: s.max_in_flight.is_none(),
            workers: f64::from(s.replicas) * f64::from(s.workers),
            arrivals: 0,
            rejected: 0,
            unavailable: 0,
            expired: 0,
            cancelled: 0,
            uptime: UpTime::new(SimTime::ZERO, up, s.replicas),
            occupancy: vec![TimeAverage::default(); n],
            occupancy_warm: vec![0; n],
            occupancy_bucket: vec![0; n],
            outcomes: [0; Outcome::COUNT],
            latency: LatencyHistogram::new(),
            wait: LatencyHistogram::with_precision(2),
            zero_waits: 0,
            queue: TimeAverage::default(),
            busy: TimeAverage::default(),
            in_system: TimeAverage::default(),
            orphaned: 0,
            orphaned_ns: 0,
            warm_area: [0; 3],
            bucket_area: [0; 2],
            series: ServiceSeries {
                name: s.name.clone(),
                occupancy: labels
                    .iter()
                    .map(|l| OccupancySeries {
                        state: l.clone(),
                        workers: Vec::new(),
                    })
                    .collect(),
                ..Default::default()
            },
            labels,
        }
    }

    pub(super) fn end_warmup(&mut self, w: u64) {
        self.warm_area = [
            self.queue.area_at(w),
            self.busy.area_at(w),
            self.in_system.area_at(w),
        ];
        self.queue.reset_max();
        self.uptime.restart(SimTime(w));
        for (warm, occ) in self.occupancy_warm.iter_mut().zip(&self.occupancy) {
            *warm = occ.area_at(w);
        }
    }

    pub(super) fn close_bucket(&mut self, b: u64, width: f64) {
        let q = self.queue.area_at(b);
        let busy = self.busy.area_at(b);
        self.series
            .queue
            .push((q - self.bucket_area[0]) as f64 / width);
        self.series
            .busy
            .push((busy - self.bucket_area[1]) as f64 / width);
        self.bucket_area = [q, busy];
        for (k, occ) in self.occupancy.iter().enumerate() {
            let a = occ.area_at(b);
            self.series.occupancy[k]
                .workers
                .push((a - self.occupancy_bucket[k]) as f64 / width);
            self.occupancy_bucket[k] = a;
        }
    }

    pub(super) fn report(&self, m: &Service, end: u64, measured_ns: f64) -> ServiceReport {
        let mean = |avg: &TimeAverage, warm: u128| (avg.area_at(end) - warm) as f64 / measured_ns;
        let busy = mean(&self.busy, self.warm_area[1]);
        let uptime = self.uptime.totals(SimTime(end));
        ServiceReport {
            name: m.name.clone(),
            replicas: m.replicas,
            workers: m.workers,
            arrivals: self.arrivals,
            rejected: self.rejected,
            unavailable: self.unavailable,
            expired: self.expired,
            cancelled: self.cancelled,
            occupancy: self
                .occupancy
                .iter()
                .zip(&self.occupancy_warm)
                .zip(&self.labels)
                .map(|((occ, &warm), label)| Occupancy {
                    state: label.clone(),
                    workers: mean(occ, warm),
                })
                .collect(),
            time_availability: uptime.any_up_fraction(),
            replica_availability: uptime.replica_fraction(),
            outcomes: Outcomes::from_counts(&self.outcomes),
            utilization: busy / self.workers,
            mean_busy_workers: busy,
            mean_queue: mean(&self.queue, self.warm_area[0]),
            max_queue: self.queue.max(),
            mean_in_system: mean(&self.in_system, self.warm_area[2]),
            latency: self.latency.summary(),
            wait: {
                let mut wait = self.wait.clone();
                wait.record_repeated(0, self.zero_waits);
                wait.summary()
            },
            // The histogram holds the waits longer than 0, `zero_waits` counts the others.
            wait_probability: match self.wait.count() + self.zero_waits {
                0 => 0.0,
                taken => self.wait.count() as f64 / taken as f64,
            },
            orphaned: self.orphaned,
            orphaned_work_s: self.orphaned_ns as f64 / 1e9,
        }
    }
}

/// Facts about requests at services. `s` is the service's index; `now` the current time.
impl Observer {
    /// A request reached a replica of service `s` (and was not held by a hang): it is at
    /// the service until it [`left`](Self::left).
    #[inline]
    pub(in crate::engine) fn reached(&mut self, s: ServiceId, now: u64) {
        let counts = self.counts(now);
        let svc = &mut self.services[s.0 as usize];
        if counts {
            svc.arrivals += 1;
        }
        svc.in_system.add(now, 1);
    }

    /// A request that arrived at `arrived` was dropped before a worker took it.
    pub(in crate::engine) fn unstarted(&mut self, s: ServiceId, arrived: u64, why: Unstarted) {
        if self.counts(arrived) {
            let svc = &mut self.services[s.0 as usize];
            match why {
                Unstarted::Cancelled => svc.cancelled += 1,
                Unstarted::Expired => svc.expired += 1,
            }
        }
    }

    /// A request arriving now was refused at the door: `Rejected` (the queue was full) or
    /// `Unavailable` (the replica was down).
    pub(in crate::engine) fn refused(&mut self, s: ServiceId, now: u64, outcome: Outcome) {
        if self.counts(now) {
            let svc = &mut self.services[s.0 as usize];
            match outcome {
                Outcome::Rejected => svc.rejected += 1,
                _ => svc.unavailable += 1,
            }
        }
    }

    /// A request arriving now was admitted at once: a worker (an in-flight slot at an
    /// event-loop service) is its.
    #[inline]
    pub(in crate::engine) fn admitted(&mut self, s: ServiceId, now: u64) {
        let svc = &mut self.services[s.0 as usize];
        if svc.blocking {
            svc.busy.add(now, 1);
        }
    }

    /// A request arriving now waits in its replica's queue.
    #[inline]
    pub(in crate::engine) fn queued(&mut self, s: ServiceId, now: u64) {
        self.services[s.0 as usize].queue.add(now, 1);
    }

    /// A worker takes a request that arrived at `arrived` (at once, or after it queued).
    #[inline]
    pub(in crate::engine) fn started(&mut self, s: ServiceId, arrived: u64, now: u64) {
        if self.counts(arrived) {
            let svc = &mut self.services[s.0 as usize];
            match now - arrived {
                0 => svc.zero_waits += 1,
                wait => svc.wait.record(wait),
            }
        }
    }

    /// A worker that finished was handed straight to the next request in line.
    #[inline]
    pub(in crate::engine) fn handed_on(&mut self, s: ServiceId, now: u64) {
        self.services[s.0 as usize].queue.add(now, -1);
    }

    /// A worker that finished found nobody in line and is idle.
    #[inline]
    pub(in crate::engine) fn worker_idle(&mut self, s: ServiceId, now: u64) {
        let svc = &mut self.services[s.0 as usize];
        if svc.blocking {
            svc.busy.add(now, -1);
        }
    }

    /// A queued request that arrived at `arrived` was taken out of line: its caller gave up
    /// and cancelled it.
    pub(in crate::engine) fn cancelled_in_queue(&mut self, s: ServiceId, now: u64, arrived: u64) {
        self.services[s.0 as usize].queue.add(now, -1);
        self.unstarted(s, arrived, Unstarted::Cancelled);
    }

    /// Event-loop services: local work got a free worker.
    #[inline]
    pub(in crate::engine) fn cpu_taken(&mut self, s: ServiceId, now: u64) {
        let svc = &mut self.services[s.0 as usize];
        svc.busy.add(now, 1);
        svc.occupancy[Hold::WORKING.index()].add(now, 1);
    }

    /// Event-loop services: local work waits for a worker.
    #[inline]
    pub(in crate::engine) fn cpu_waits(&mut self, s: ServiceId, now: u64) {
        self.services[s.0 as usize].queue.add(now, 1);
    }

    /// Event-loop services: waiting local work got the worker that just finished.
    #[inline]
    pub(in crate::engine) fn cpu_handed_on(&mut self, s: ServiceId, now: u64) {
        self.services[s.0 as usize].queue.add(now, -1);
    }

    /// Event-loop services: a worker finished local work and is idle.
    #[inline]
    pub(in crate::engine) fn cpu_idle(&mut self, s: ServiceId, now: u64) {
        let svc = &mut self.services[s.0 as usize];
        svc.busy.add(now, -1);
        svc.occupancy[Hold::WORKING.index()].add(now, -1);
    }

    /// The occupancy slot of call step `call` in its caller's service ("waiting on
    /// <callee>").
    #[inline]
    pub(in crate::engine) fn call_slot(&self, call: CallId) -> Hold {
        self.call_slot[call.0 as usize]
    }

    /// A worker of service `s` moves from holding its request in occupancy slot `from` to
    /// slot `to` (`None`: not holding one).
    #[inline]
    pub(in crate::engine) fn holding(
        &mut self,
        s: ServiceId,
        now: u64,
        from: Option<Hold>,
        to: Option<Hold>,
    ) {
        let occupancy = &mut self.services[s.0 as usize].occupancy;
        if let Some(from) = from {
            occupancy[from.index()].add(now, -1);
        }
        if let Some(to) = to {
            occupancy[to.index()].add(now, 1);
        }
    }

    /// A request leaves service `s` with `outcome` (its answer goes back). `accepted` is
    /// false for a request refused at the door, which spent no time here.
    #[inline]
    pub(in crate::engine) fn left(
        &mut self,
        s: ServiceId,
        now: u64,
        visit: Visit,
        outcome: Outcome,
        accepted: bool,
    ) {
        let counts = self.counts(visit.arrived);
        let svc = &mut self.services[s.0 as usize];
        svc.in_system.add(now, -1);
        if counts {
            svc.outcomes[outcome.index()] += 1;
            // Requests refused at the door spent no time here; they would only drag the
            // percentiles to zero (they count in `arrivals` and `rejected`).
            if accepted {
                svc.latency.record(now - visit.arrived);
            }
            if let Some(orphaned_at) = visit.orphaned_at {
                svc.orphaned += 1;
                if let Some(started) = visit.started {
                    let from = started.max(orphaned_at);
                    svc.orphaned_ns += u128::from(now.saturating_sub(from));
                }
            }
        }
    }

    /// A replica of service `s` crashed with `waiting` requests and pieces of local work in
    /// line and `admitted` requests holding workers: they all leave the line and the
    /// workers at once (each then [`lost_in_crash`](Self::lost_in_crash) and
    /// [`left`](Self::left)).
    pub(in crate::engine) fn replica_crashed(
        &mut self,
        s: ServiceId,
        now: u64,
        waiting: usize,
        admitted: u32,
    ) {
        let svc = &mut self.services[s.0 as usize];
        svc.queue.add(now, -(waiting as i64));
        if svc.blocking {
            svc.busy.add(now, -i64::from(admitted));
        }
    }

    /// A request that arrived at `arrived` was lost with its replica.
    pub(in crate::engine) fn lost_in_crash(&mut self, s: ServiceId, arrived: u64) {
        if self.counts(arrived) {
            self.services[s.0 as usize].unavailable += 1;
        }
    }

    /// `up` replicas of service `s` can answer from now on.
    pub(in crate::engine) fn up_replicas(&mut self, s: ServiceId, now: u64, up: u32) {
        self.services[s.0 as usize]
            .uptime
            .set_up_replicas(SimTime(now), up);
    }
}
