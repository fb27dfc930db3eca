//! Steps (`steps:` of a service, and the branches of `Parallel` and `Choice`), compiled into
//! blocks of [`Op`]s.
//!
//! A block is compiled step by step, in file order; its id is reserved before its steps, so a
//! branch's block comes after the block that holds it. Per step:
//! * `Work`: the distribution.
//! * `Call`: the callee (a known service), `timeout` (longer than 0), `latency`,
//!   `probability`, `on_failure`, then the policies `retry`, `breaker` and `bulkhead` (see
//!   [`super::policies`]); the deadline settings fall back to the topology's.
//! * `Publish` and `Send`: `keys` (at least 1; topics only), the topic or queue (known),
//!   `when_down`, `probability` and `latency`.
//! * `Parallel`: `probability`, at least one branch, then each branch.
//! * `Choice`: `probability`, at least one branch, every weight (finite, > 0), then each
//!   branch.
//!
//! A step with a problem still has its other fields checked; it is left out of the block
//! when it cannot be compiled, which is fine since the model is then not built.

use super::Compiler;
use crate::dist::Dist;
use crate::model::{
    BlockId, CallEdge, CallId, Destination, OnFailure, Op, PublishId, PublishStep, QueueId,
    ServiceId, TopicId, WhenDown,
};
use crate::spec::{BranchSpec, DistSpec, OnFailureSpec, StepSpec, WhenDownSpec};
use crate::time::SimDuration;

/// What `Publish` and `Send` steps have in common.
struct Producer<'s> {
    latency: &'s Option<DistSpec>,
    probability: Option<f64>,
    when_down: &'s Option<WhenDownSpec>,
}

impl Compiler<'_> {
    /// Compiles `steps` (preceded by `work`, if any) into a new block; returns its id.
    pub(super) fn block(
        &mut self,
        from: ServiceId,
        path: &str,
        work: Option<Dist>,
        steps: &[StepSpec],
    ) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        self.blocks.push(Box::new([])); // reserve the slot; nested blocks come after
        let mut ops = Vec::with_capacity(steps.len() + 1);
        if let Some(w) = work.filter(|w| !matches!(w, Dist::Zero)) {
            ops.push(Op::Work(w));
        }
        for (i, step) in steps.iter().enumerate() {
            if let Some(op) = self.step(from, &format!("{path}[{i}]"), step) {
                ops.push(op);
            }
        }
        self.blocks[id.0 as usize] = ops.into_boxed_slice();
        id
    }

    /// One step at path `sp`; `None` when it cannot be compiled.
    fn step(&mut self, from: ServiceId, sp: &str, step: &StepSpec) -> Option<Op> {
        match step {
            StepSpec::Work(d) => self.dist(&format!("{sp}.Work"), d).map(Op::Work),
            StepSpec::Call { .. } => self.call(from, sp, step),
            StepSpec::Publish {
                topic,
                keys,
                latency,
                probability,
                when_down,
            } => {
                if *keys == Some(0) {
                    self.at(sp).at("keys").push_with_hint(
                        "a key space needs at least 1 key",
                        "leave `keys` out for keyless messages",
                    );
                }
                let to = self
                    .topic_ref(&format!("{sp}.topic"), topic)
                    .map(|t| Destination::Topic(TopicId(t)));
                let producer = Producer {
                    latency,
                    probability: *probability,
                    when_down,
                };
                self.publish(from, sp, to, keys.filter(|&k| k > 0), producer)
            }
            StepSpec::Send {
                queue,
                latency,
                probability,
                when_down,
            } => {
                let to = self
                    .queue_ref(&format!("{sp}.queue"), queue)
                    .map(|q| Destination::Queue(QueueId(q)));
                let producer = Producer {
                    latency,
                    probability: *probability,
                    when_down,
                };
                self.publish(from, sp, to, None, producer)
            }
            StepSpec::Parallel {
                branches,
                probability,
            } => Some(self.parallel(from, sp, branches, *probability)),
            StepSpec::Choice {
                branches,
                probability,
            } => Some(self.choice(from, sp, branches, *probability)),
        }
    }

    /// A `Call` step (`step` is one): a new call edge.
    fn call(&mut self, from: ServiceId, sp: &str, step: &StepSpec) -> Option<Op> {
        let StepSpec::Call {
            to,
            timeout,
            latency,
            probability,
            on_failure,
            retry,
            breaker,
            bulkhead,
            deadlines,
        } = step
        else {
            return None;
        };
        let deadlines = deadlines.unwrap_or(self.deadlines);
        let target = self.service_ref(&format!("{sp}.to"), to);
        let timeout = self.call_timeout(sp, timeout);
        let latency = self.optional_dist(&format!("{sp}.latency"), latency);
        let probability = self.probability(&format!("{sp}.probability"), *probability);
        let on_failure = self.on_failure(sp, on_failure);
        let retry = retry
            .as_ref()
            .and_then(|r| self.retry(&format!("{sp}.retry"), r));
        let breaker = breaker
            .as_ref()
            .and_then(|b| self.breaker(&format!("{sp}.breaker"), b));
        let bulkhead = bulkhead
            .as_ref()
            .and_then(|b| self.bulkhead(&format!("{sp}.bulkhead"), b));
        let id = CallId(self.calls.len() as u32);
        self.calls.push(CallEdge {
            from,
            to: target?,
            timeout,
            latency,
            probability,
            on_failure,
            retry,
            breaker,
            bulkhead,
            propagate_deadline: deadlines
                .propagate
                .or(self.deadlines.propagate)
                .unwrap_or(false),
            cancel_on_timeout: deadlines.cancel.or(self.deadlines.cancel).unwrap_or(false),
            path: sp.to_string(),
        });
        Some(Op::Call(id))
    }

    /// A call's `timeout`: longer than 0 (left out: wait forever).
    fn call_timeout(&mut self, sp: &str, timeout: &Option<String>) -> Option<SimDuration> {
        let path = format!("{sp}.timeout");
        match self.optional_duration(&path, timeout) {
            Some(SimDuration(0)) => {
                self.at(&path).push_with_hint(
                    "a timeout of 0 fails every call",
                    "remove it to wait forever, or give a positive duration",
                );
                None
            }
            d => d,
        }
    }

    /// A call's `on_failure` (a fallback's distribution is checked).
    fn on_failure(&mut self, sp: &str, spec: &OnFailureSpec) -> OnFailure {
        match spec {
            OnFailureSpec::Fail => OnFailure::Fail,
            OnFailureSpec::Ignore => OnFailure::Ignore,
            OnFailureSpec::Fallback(d) => OnFailure::Fallback(
                self.dist(&format!("{sp}.on_failure.Fallback"), d)
                    .unwrap_or(Dist::Zero),
            ),
        }
    }

    /// A `Publish` or `Send` step to `to` (`None` when the destination is unknown): a new
    /// publish step.
    fn publish(
        &mut self,
        from: ServiceId,
        sp: &str,
        to: Option<Destination>,
        keys: Option<u64>,
        producer: Producer<'_>,
    ) -> Option<Op> {
        let when_down = self.when_down(sp, producer.when_down);
        let probability = self.probability(&format!("{sp}.probability"), producer.probability);
        let latency = self.optional_dist(&format!("{sp}.latency"), producer.latency);
        let id = PublishId(self.publishes.len() as u32);
        self.publishes.push(PublishStep {
            from,
            to: to?,
            keys,
            latency,
            probability,
            when_down,
            path: sp.to_string(),
        });
        Some(Op::Publish(id))
    }

    /// A producer's `when_down` (default `Fail`): a wait longer than 0, a buffer of at least
    /// one message.
    fn when_down(&mut self, sp: &str, spec: &Option<WhenDownSpec>) -> WhenDown {
        match spec {
            None | Some(WhenDownSpec::Fail) => WhenDown::Fail,
            Some(WhenDownSpec::Wait { timeout }) => WhenDown::Wait(
                self.optional_positive_duration(&format!("{sp}.when_down.timeout"), timeout),
            ),
            Some(WhenDownSpec::Buffer { limit }) => {
                if *limit == 0 {
                    self.at(sp).at("when_down.limit").push_with_hint(
                        "a buffer of 0 messages holds nothing",
                        "give a limit ≥ 1, or use `Fail`",
                    );
                }
                WhenDown::Buffer((*limit).max(1))
            }
        }
    }

    /// A `Parallel` step: every branch at once.
    fn parallel(
        &mut self,
        from: ServiceId,
        sp: &str,
        branches: &[Vec<StepSpec>],
        probability: Option<f64>,
    ) -> Op {
        let probability = self.probability(&format!("{sp}.probability"), probability);
        if branches.is_empty() {
            self.at(sp)
                .at("branches")
                .push("a Parallel step needs at least one branch");
        }
        let ids: Vec<BlockId> = branches
            .iter()
            .enumerate()
            .map(|(b, steps)| self.block(from, &format!("{sp}.branches[{b}]"), None, steps))
            .collect();
        Op::Parallel {
            branches: ids.into_boxed_slice(),
            probability,
        }
    }

    /// A `Choice` step: one branch, picked by weight.
    fn choice(
        &mut self,
        from: ServiceId,
        sp: &str,
        branches: &[BranchSpec],
        probability: Option<f64>,
    ) -> Op {
        let probability = self.probability(&format!("{sp}.probability"), probability);
        if branches.is_empty() {
            self.at(sp)
                .at("branches")
                .push("a Choice step needs at least one branch");
        }
        let total = self.total_weight(sp, branches);
        let mut cumulative = 0.0;
        let mut out = Vec::with_capacity(branches.len());
        for (b, br) in branches.iter().enumerate() {
            let bid = self.block(from, &format!("{sp}.branches[{b}].steps"), None, &br.steps);
            if is_weight(br.weight) {
                // Rounding can carry a running sum past 1 before the last branch; capping
                // keeps every branch's share (the difference of consecutive values)
                // non-negative.
                cumulative = f64::min(cumulative + br.weight / total, 1.0);
            }
            out.push((cumulative, bid));
        }
        if let Some(last) = out.last_mut() {
            last.0 = 1.0;
        }
        Op::Choice {
            branches: out.into_boxed_slice(),
            probability,
        }
    }

    /// The sum of the valid weights of a `Choice`'s branches; each invalid one is a problem.
    fn total_weight(&mut self, sp: &str, branches: &[BranchSpec]) -> f64 {
        let mut total = 0.0;
        for (b, br) in branches.iter().enumerate() {
            if is_weight(br.weight) {
                total += br.weight;
            } else {
                self.at(sp)
                    .at(&format!("branches[{b}]"))
                    .at("weight")
                    .push(format!(
                        "a weight must be a finite number > 0, not {}",
                        br.weight
                    ));
            }
        }
        total
    }
}

/// Whether `w` is a valid branch weight: finite and > 0.
fn is_weight(w: f64) -> bool {
    w.is_finite() && w > 0.0
}
