//! The one walk over a step tree that every formula of the shadow shares.
//!
//! A service runs a block of steps; a block is a sequence of ops, and the `Parallel` and
//! `Choice` ops hold blocks of their own. Every formula that looks at steps — availability,
//! expected calls and messages, holding times, local work, the services a request needs — is
//! a [`StepFold`]: it says what a leaf step (work, a call, a publish) contributes, what is
//! handed down into the branches of a fan-out or a choice (how often a branch runs per run of
//! the root, say), and how the values of a sequence, a fan-out and a choice combine (a sum of
//! times, a product of availabilities, the slowest branch, a weighted mean). [`fold_block`]
//! does the recursion, depth first and in step order, so a fold that accumulates into a table
//! sees the steps in file order and adds in the same order every time.

use crate::dist::Dist;
use crate::model::{BlockId, CallEdge, CallId, Model, Op, PublishStep};

/// A computation over a block of steps (see the module docs).
///
/// The combining functions take the values of the parts as iterators that compute them on
/// demand: an implementation must consume each iterator to the end, in order (a fold that
/// only accumulates, with `Up = ()`, consumes it with `for_each(drop)`).
pub(super) trait StepFold {
    /// What is handed down into branches, e.g. runs per run of the root (`f64`), or nothing.
    type Down: Copy;
    /// What a step, a branch or a block is worth, e.g. a mean time or a probability.
    type Up;

    /// A `Work` step.
    fn work(&mut self, down: Self::Down, work: &Dist) -> Self::Up;
    /// A sync call step: `id` indexes [`Model::calls`].
    fn call(&mut self, down: Self::Down, id: CallId, call: &CallEdge) -> Self::Up;
    /// A `Publish` or `Send` step.
    fn publish(&mut self, down: Self::Down, step: &PublishStep) -> Self::Up;
    /// What the branches of a `Parallel` made with `probability` receive.
    fn into_parallel(down: Self::Down, probability: f64) -> Self::Down;
    /// What a branch of a `Choice` made with `probability`, picked with probability `share`,
    /// receives.
    fn into_choice(down: Self::Down, probability: f64, share: f64) -> Self::Down;
    /// The value of a block from the values of its steps, in order.
    fn sequence(steps: impl Iterator<Item = Self::Up>) -> Self::Up;
    /// The value of a `Parallel` from the values of its branches.
    fn parallel(probability: f64, branches: impl Iterator<Item = Self::Up>) -> Self::Up;
    /// The value of a `Choice` from `(share, value)` of each branch.
    fn choice(probability: f64, branches: impl Iterator<Item = (f64, Self::Up)>) -> Self::Up;
}

/// Folds block `block` of `model` with `fold`, handing `down` to its steps.
pub(super) fn fold_block<F: StepFold>(
    model: &Model,
    fold: &mut F,
    block: BlockId,
    down: F::Down,
) -> F::Up {
    F::sequence(
        model
            .block(block)
            .iter()
            .map(|op| fold_op(model, fold, op, down)),
    )
}

fn fold_op<F: StepFold>(model: &Model, fold: &mut F, op: &Op, down: F::Down) -> F::Up {
    match op {
        Op::Work(d) => fold.work(down, d),
        Op::Call(c) => fold.call(down, *c, &model.calls[c.0 as usize]),
        Op::Publish(p) => fold.publish(down, model.publish_at(*p)),
        Op::Parallel {
            branches,
            probability,
        } => {
            let inner = F::into_parallel(down, *probability);
            F::parallel(
                *probability,
                branches.iter().map(|b| fold_block(model, fold, *b, inner)),
            )
        }
        Op::Choice {
            branches,
            probability,
        } => F::choice(
            *probability,
            branch_weights(branches).map(|(share, b)| {
                let inner = F::into_choice(down, *probability, share);
                (share, fold_block(model, fold, b, inner))
            }),
        ),
    }
}

/// The probability of each branch of a `Choice`, from the cumulative values the engine uses.
/// Never negative, even if the cumulative values were not monotone: a share of −2⁻⁵² would
/// print as `-0.000` and make no sense as a probability.
pub(super) fn branch_weights(
    branches: &[(f64, BlockId)],
) -> impl Iterator<Item = (f64, BlockId)> + '_ {
    branches.iter().scan(0.0, |prev, &(cum, b)| {
        let w = (cum - *prev).max(0.0);
        *prev = prev.max(cum);
        Some((w, b))
    })
}
