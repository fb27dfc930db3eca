//! Strands: running a request's steps, one after the other, with child strands for the
//! branches of `Parallel` and `Choice`.

use super::broker::outage::Publish;
use super::event::Event;
use super::kernel::Key;
use super::observer::HOLD_FANOUT;
use super::request::{CallProgress, Strand, NO_BLOCK, NO_CALL};
use super::simulation::Simulation;
use crate::model::{BlockId, Op};
use crate::outcome::Outcome;
use crate::time::{SimDuration, SimTime};
use rand::Rng;

impl Simulation<'_> {
    /// Runs a strand's steps until one has to wait (work, a call, children) or the block ends.
    pub(super) fn run_strand(&mut self, key: Key) {
        let model = self.model;
        loop {
            let Some(strand) = self.strands.get_mut(key) else {
                return;
            };
            let ops = model.block(BlockId(strand.block));
            let Some(op) = ops.get(strand.idx as usize) else {
                if strand.ret.0 != NO_BLOCK {
                    // The end of a branch run inline: back to the steps after its Choice.
                    (strand.block, strand.idx) = std::mem::replace(&mut strand.ret, (NO_BLOCK, 0));
                    continue;
                }
                self.finish_strand(key, None);
                return;
            };
            strand.idx += 1;
            let job_key = strand.job;
            let (service, replica) = match self.jobs.get(job_key) {
                Some(j) if !j.killed => (j.service as usize, j.replica as usize),
                _ => {
                    self.abandon(key);
                    return;
                }
            };
            match op {
                Op::Publish(p) => {
                    let step = &model.publishes[*p as usize];
                    if step.probability < 1.0
                        && self.services[service].route_rng.random::<f64>() >= step.probability
                    {
                        continue;
                    }
                    let mut d = step.latency.as_ref().map_or(SimDuration::ZERO, |d| {
                        d.sample(&mut self.services[service].work_rng)
                    });
                    d = SimDuration(d.0 + self.broker_slowness().0);
                    if d > SimDuration::ZERO {
                        self.clock.schedule(
                            SimTime(self.clock.now).after(d),
                            Event::Published {
                                strand: key,
                                publish: *p,
                            },
                        );
                        return;
                    }
                    match self.try_publish(*p, key) {
                        Publish::Done => {}
                        Publish::Failed(outcome) => {
                            self.finish_strand(key, Some(outcome));
                            return;
                        }
                        Publish::Parked => return,
                    }
                }
                Op::Work(dist) => {
                    let svc = &mut self.services[service];
                    let mut d = dist.sample(&mut svc.work_rng);
                    let slowdown = svc.replicas[replica].slowdown;
                    if slowdown != 1.0 {
                        d = SimDuration((d.0 as f64 * slowdown).round() as u64);
                    }
                    if d > SimDuration::ZERO {
                        self.begin_work(key, job_key, service, replica, d);
                        return;
                    }
                }
                Op::Call(cid) => {
                    let call = &model.calls[cid.0 as usize];
                    if call.probability < 1.0
                        && self.services[service].route_rng.random::<f64>() >= call.probability
                    {
                        continue;
                    }
                    strand.call = CallProgress::new(cid.0, self.clock.now);
                    strand.call.active = true;
                    strand.call.caller_replica = replica as u32;
                    self.observer.call_started(cid.0, self.clock.now);
                    let c = &mut self.calls[cid.0 as usize];
                    if let Some(j) = self.jobs.get(job_key) {
                        if let Some(b) = &mut c.per_replica[j.replica as usize].budget {
                            b.on_request_start();
                        }
                    }
                    self.start_attempt(key);
                    return;
                }
                Op::Parallel {
                    branches,
                    probability,
                } => {
                    if *probability < 1.0
                        && self.services[service].route_rng.random::<f64>() >= *probability
                    {
                        continue;
                    }
                    if branches.len() > 1 {
                        self.set_holding(job_key, HOLD_FANOUT);
                        if let Some(j) = self.jobs.get_mut(job_key) {
                            j.fanout += 1;
                        }
                        if let Some(s) = self.strands.get_mut(key) {
                            s.fanout = true;
                        }
                    }
                    if !self.spawn(key, job_key, branches.iter().map(|b| b.0)) {
                        return;
                    }
                    self.joined(key);
                    if let Some(f) = self.strands.get(key).and_then(|s| s.failure) {
                        self.finish_strand(key, Some(f));
                        return;
                    }
                }
                Op::Choice {
                    branches,
                    probability,
                } => {
                    let rng = &mut self.services[service].route_rng;
                    if *probability < 1.0 && rng.random::<f64>() >= *probability {
                        continue;
                    }
                    let u: f64 = rng.random();
                    let pick = branches
                        .iter()
                        .find(|(cum, _)| u < *cum)
                        .or(branches.last())
                        .map(|(_, b)| b.0);
                    let Some(pick) = pick else { continue };
                    if let Some(s) = self.strands.get_mut(key).filter(|s| s.ret.0 == NO_BLOCK) {
                        // One branch runs after the other on the same strand: no child
                        // strand needed, unless this strand is inside a branch already.
                        s.ret = (s.block, s.idx);
                        (s.block, s.idx) = (pick, 0);
                        continue;
                    }
                    if !self.spawn(key, job_key, std::iter::once(pick)) {
                        return;
                    }
                    if let Some(f) = self.strands.get(key).and_then(|s| s.failure) {
                        self.finish_strand(key, Some(f));
                        return;
                    }
                }
            }
        }
    }

    /// Starts a child strand per block; true if they all ended at once (the parent goes on).
    pub(super) fn spawn(
        &mut self,
        parent: Key,
        job: Key,
        blocks: impl Iterator<Item = u32>,
    ) -> bool {
        // One extra pending count while spawning, so that a child ending at once does not
        // resume the parent from inside this loop.
        if let Some(p) = self.strands.get_mut(parent) {
            p.pending = 1;
        }
        for block in blocks {
            if let Some(p) = self.strands.get_mut(parent) {
                p.pending += 1;
            }
            let child = self.strands.insert(Strand {
                job,
                block,
                idx: 0,
                ret: (NO_BLOCK, 0),
                parent,
                pending: 0,
                failure: None,
                call: CallProgress::new(NO_CALL, 0),
                fanout: false,
            });
            self.run_strand(child);
        }
        match self.strands.get_mut(parent) {
            Some(p) => {
                p.pending -= 1;
                p.pending == 0
            }
            None => false,
        }
    }

    /// The children of strand `key` have all ended: a fan-out no longer holds the worker.
    pub(super) fn joined(&mut self, key: Key) {
        let Some(s) = self.strands.get_mut(key) else {
            return;
        };
        if std::mem::replace(&mut s.fanout, false) {
            if let Some(j) = self.jobs.get_mut(s.job) {
                j.fanout -= 1;
            }
        }
    }

    /// A strand has ended, successfully (`failure == None`) or not.
    pub(super) fn finish_strand(&mut self, key: Key, failure: Option<Outcome>) {
        let Some(strand) = self.strands.remove(key) else {
            return;
        };
        if strand.parent == Key::NONE {
            self.complete_job(strand.job, failure);
            return;
        }
        let Some(parent) = self.strands.get_mut(strand.parent) else {
            return;
        };
        if parent.failure.is_none() {
            parent.failure = failure;
        }
        parent.pending -= 1;
        if parent.pending == 0 {
            let parent_key = strand.parent;
            self.joined(parent_key);
            let Some(parent) = self.strands.get(parent_key) else {
                return;
            };
            match parent.failure {
                Some(f) => self.finish_strand(strand.parent, Some(f)),
                None => self.run_strand(strand.parent),
            }
        }
    }
}
