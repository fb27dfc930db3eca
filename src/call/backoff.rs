//! Retry backoff: how long a caller sleeps before its k-th retry.
//!
//! A [`Backoff`] gives the un-jittered schedule and a [`Jitter`] randomizes it; a
//! [`BackoffState`] (one per retrying call) remembers what decorrelated jitter needs.
//!
//! Numbering follows resilience4j, gRPC and Envoy (docs/semantics.md, *Retries and backoff*):
//! retry 1 (the first retry, i.e. the second attempt) waits `base`, and retry k waits
//! `min(base·multiplier^(k−1), max)`. The schedule is computed step by step on integer
//! nanoseconds, `v₁ = base`, `v_{k+1} = min(⌊v_k · multiplier⌋, max)`, as resilience4j's
//! `ofExponentialBackoff` does on milliseconds. A closed-form `powi` would be faster but its
//! rounding is platform-dependent; the recurrence is exact for integer multipliers and the
//! same on every machine, and it stops as soon as it reaches `max`.
//!
//! Jitter follows the AWS Architecture Blog (same section), drawn on integer nanoseconds,
//! both ends included, with `v` the un-jittered delay:
//! * [`Jitter::None`] sleeps `v` and draws no random number.
//! * [`Jitter::Full`] sleeps `U{0, …, v}` (mean `v/2`). Envoy's backoff is this with a
//!   base-first doubling schedule (Envoy draws whole ms in `[0, v)`; the difference is below
//!   1 ms).
//! * [`Jitter::Equal`] sleeps `⌈v/2⌉ + U{0, …, ⌊v/2⌋}`, within `[v/2, v]` (mean ≈ `3v/4`).
//! * [`Jitter::Decorrelated`] sleeps `min(max, U{base, …, 3·prev})`, where `prev` is the
//!   previous sleep of the same call and starts at `base`. It ignores the retry number and the
//!   multiplier. For a [`Backoff::Constant`] delay `c`, `base` and `max` are both `c`, so the
//!   sleep is always `c`; [`Backoff::check_jitter`] reports that combination.

use crate::error::Problem;
use crate::rng::SimRng;
use crate::time::SimDuration;
use rand::Rng;

/// The un-jittered delay schedule of a retry policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backoff {
    /// Every retry waits this long (resilience4j's default: 500 ms).
    Constant(SimDuration),
    /// Retry k waits `min(base·multiplier^(k−1), max)`.
    Exponential {
        /// The first retry's delay (resilience4j `waitDuration`, gRPC `initialBackoff`,
        /// Envoy `base_interval`).
        base: SimDuration,
        /// The cap on every delay (gRPC `maxBackoff`, Envoy `max_interval`).
        max: SimDuration,
        /// The growth factor per retry, ≥ 1 (Envoy: 2; resilience4j default: 1.5).
        multiplier: f64,
    },
}

/// How the delay of a [`Backoff`] is randomized (AWS names; see the module doc for formulas).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Jitter {
    /// No randomization: the schedule exactly.
    None,
    /// Uniform between 0 and the scheduled delay.
    Full,
    /// Half the scheduled delay plus uniform over the other half.
    Equal,
    /// Uniform between `base` and three times the previous sleep, capped at `max`.
    Decorrelated,
}

impl Backoff {
    /// The first retry's delay: `base`, or the constant.
    pub fn base(&self) -> SimDuration {
        match *self {
            Backoff::Constant(d) => d,
            Backoff::Exponential { base, .. } => base,
        }
    }

    /// The longest un-jittered delay: `max`, or the constant.
    pub fn cap(&self) -> SimDuration {
        match *self {
            Backoff::Constant(d) => d,
            Backoff::Exponential { max, .. } => max,
        }
    }

    /// The un-jittered delay before retry `retry` (1 = the first retry; 0 is treated as 1).
    ///
    /// Exponential: `v₁ = base`, `v_{k+1} = min(⌊v_k · multiplier⌋, max)` on integer ns. The
    /// loop runs at most `retry − 1` times and stops once `max` is reached.
    pub fn delay(&self, retry: u32) -> SimDuration {
        match *self {
            Backoff::Constant(d) => d,
            Backoff::Exponential {
                base,
                max,
                multiplier,
            } => {
                let mut v = base.0.min(max.0);
                // A multiplier of 1 (or an invalid one below 1 or NaN) never grows the delay.
                if multiplier.is_nan() || multiplier <= 1.0 || v == 0 {
                    return SimDuration(v);
                }
                for _ in 1..retry {
                    if v >= max.0 {
                        break;
                    }
                    // `as u64` saturates, so an overflowing product ends at u64::MAX, then max.
                    v = ((v as f64 * multiplier) as u64).min(max.0);
                }
                SimDuration(v)
            }
        }
    }

    /// The first problem with these values, at the field it is about; `Ok` when valid.
    ///
    /// Fields (exponential only; a constant is always valid): `base` when it is 0 (the delay
    /// would never grow), `max` when it is shorter than `base`, and `multiplier` when it is
    /// not a finite number ≥ 1. Messages are lower-case and quote the value; the hint says
    /// what to write instead.
    pub fn validate(&self) -> Result<(), Problem> {
        let Backoff::Exponential {
            base,
            max,
            multiplier,
        } = *self
        else {
            return Ok(());
        };
        if base == SimDuration::ZERO {
            return Err(Problem::new(
                "base",
                "is 0s, and an exponential backoff that starts at 0 stays at 0",
            )
            .with_hint("give a positive base such as \"25ms\", or use a constant delay of 0s"));
        }
        if max < base {
            return Err(
                Problem::new("max", format!("{max} is shorter than base {base}"))
                    .with_hint("max must be at least base"),
            );
        }
        if !multiplier.is_finite() {
            return Err(Problem::new(
                "multiplier",
                format!("`{multiplier}` is not a finite number"),
            )
            .with_hint("use e.g. 2 or 1.5"));
        }
        if multiplier < 1.0 {
            return Err(Problem::new(
                "multiplier",
                format!("`{multiplier}` is below 1, which would shrink the delay"),
            )
            .with_hint("use a value ≥ 1 (1 keeps it constant)"));
        }
        Ok(())
    }

    /// Whether `jitter` makes sense with this backoff; the problem is about the jitter
    /// itself (its path is empty: the caller knows where the jitter is written).
    ///
    /// Decorrelated jitter on a constant delay is reported: the constant is both its base and
    /// its cap, so every retry would wait exactly the constant.
    pub fn check_jitter(&self, jitter: Jitter) -> Result<(), Problem> {
        match (*self, jitter) {
            (Backoff::Constant(d), Jitter::Decorrelated) => Err(Problem::new(
                "",
                format!(
                    "decorrelated jitter draws between a base and a max, but the constant delay \
                     {d} is both, so every retry would wait exactly {d}"
                ),
            )
            .with_hint("use an exponential backoff, or full or equal jitter")),
            _ => Ok(()),
        }
    }
}

/// The backoff memory of one retrying call: the previous sleep, for decorrelated jitter.
///
/// Make one per original call (or [`reset`](BackoffState::reset) it); retry 1 always starts
/// afresh from `prev = base` anyway, so a state reused across calls behaves the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackoffState {
    /// The previous sleep \[ns\]; `None` before the first retry.
    prev: Option<SimDuration>,
}

impl BackoffState {
    /// A state for a call that has not retried yet.
    pub fn new() -> Self {
        BackoffState { prev: None }
    }

    /// Forgets the previous sleep, so that the next decorrelated sleep starts again from
    /// `base` (e.g. after a gRPC pushback; the retry number passed to
    /// [`next`](Self::next) is the caller's to restart).
    pub fn reset(&mut self) {
        self.prev = None;
    }

    /// The previous sleep, if this call has slept already.
    pub fn prev(&self) -> Option<SimDuration> {
        self.prev
    }

    /// The sleep before retry `retry` (1 = the first retry) under `backoff` and `jitter`,
    /// drawing from `rng` unless `jitter` is [`Jitter::None`].
    ///
    /// Never panics, even on values [`Backoff::validate`] rejects: ranges are clamped so that
    /// they are never empty.
    pub fn next(
        &mut self,
        backoff: &Backoff,
        jitter: Jitter,
        retry: u32,
        rng: &mut SimRng,
    ) -> SimDuration {
        if retry <= 1 {
            self.prev = None;
        }
        let sleep = match jitter {
            Jitter::None => backoff.delay(retry),
            Jitter::Full => {
                let v = backoff.delay(retry).0;
                SimDuration(rng.random_range(0..=v))
            }
            Jitter::Equal => {
                let v = backoff.delay(retry).0;
                let half = v / 2;
                SimDuration((v - half) + rng.random_range(0..=half))
            }
            Jitter::Decorrelated => {
                let base = backoff.base().0;
                let cap = backoff.cap().0;
                let prev = self.prev.map_or(base, |p| p.0);
                let hi = prev.saturating_mul(3).max(base);
                SimDuration(rng.random_range(base..=hi).min(cap))
            }
        };
        self.prev = Some(sleep);
        sleep
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    fn rng(seed: u64) -> SimRng {
        SimRng::seed_from_u64(seed)
    }

    fn exp(base: SimDuration, max: SimDuration, multiplier: f64) -> Backoff {
        Backoff::Exponential {
            base,
            max,
            multiplier,
        }
    }

    /// The sample mean of `xs`.
    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    /// Standard deviation of the discrete uniform distribution on {a, …, b}.
    fn uniform_sd(a: u64, b: u64) -> f64 {
        let n = (b - a + 1) as f64;
        ((n * n - 1.0) / 12.0).sqrt()
    }

    #[test]
    fn unjittered_sequences_are_exact() {
        let mut r = rng(1);
        // Envoy defaults: base 25 ms, max 250 ms, doubling: 25, 50, 100, 200, 250, 250.
        let envoy = exp(ms(25), ms(250), 2.0);
        let mut s = BackoffState::new();
        let got: Vec<_> = (1..=7)
            .map(|k| s.next(&envoy, Jitter::None, k, &mut r))
            .collect();
        assert_eq!(
            got,
            [25, 50, 100, 200, 250, 250, 250].map(ms).to_vec(),
            "envoy schedule"
        );
        // resilience4j defaults with exponential backoff: 500 ms × 1.5^(k−1), capped at 3 s.
        let r4j = exp(ms(500), SimDuration::from_secs(3), 1.5);
        let got: Vec<_> = (1..=6).map(|k| r4j.delay(k)).collect();
        assert_eq!(
            got,
            vec![
                ms(500),
                ms(750),
                ms(1125),
                SimDuration(1_687_500_000),
                SimDuration(2_531_250_000),
                SimDuration::from_secs(3),
            ]
        );
        // Multiplier 1 and constants never change.
        assert_eq!(exp(ms(40), ms(100), 1.0).delay(9), ms(40));
        assert_eq!(Backoff::Constant(ms(500)).delay(1), ms(500));
        assert_eq!(Backoff::Constant(ms(500)).delay(50), ms(500));
        // Retry 0 is read as the first retry; huge retry numbers saturate at max.
        assert_eq!(envoy.delay(0), ms(25));
        assert_eq!(envoy.delay(u32::MAX), ms(250));
        assert_eq!(
            exp(ms(1), SimDuration(u64::MAX), 10.0).delay(100),
            SimDuration(u64::MAX)
        );
    }

    #[test]
    fn per_step_truncation_matches_resilience4j() {
        // 7 ns × 1.5: 7, ⌊10.5⌋ = 10, 15, ⌊22.5⌋ = 22, 33, …
        let b = exp(SimDuration(7), SimDuration(1000), 1.5);
        let got: Vec<u64> = (1..=5).map(|k| b.delay(k).0).collect();
        assert_eq!(got, vec![7, 10, 15, 22, 33]);
    }

    #[test]
    fn full_jitter_is_uniform_between_zero_and_the_delay() {
        let b = exp(ms(100), SimDuration::from_secs(10), 2.0);
        let mut r = rng(2);
        let mut s = BackoffState::new();
        for retry in [1u32, 3] {
            let v = b.delay(retry).0;
            let n = 20_000;
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let x = s.next(&b, Jitter::Full, retry, &mut r).0;
                    assert!(x <= v);
                    x as f64
                })
                .collect();
            let se = uniform_sd(0, v) / (n as f64).sqrt();
            assert!(
                (mean(&xs) - v as f64 / 2.0).abs() < 5.0 * se,
                "retry {retry}"
            );
            // Covers the whole range.
            let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().cloned().fold(0.0, f64::max);
            assert!(lo < 0.001 * v as f64 && hi > 0.999 * v as f64);
        }
    }

    #[test]
    fn equal_jitter_is_half_plus_uniform_half() {
        // An odd number of ns, to check the rounding: v = 2h + 1, samples in [h + 1, 2h + 1].
        let v = 100_000_001u64;
        let b = Backoff::Constant(SimDuration(v));
        let (h, lo_bound) = (v / 2, v - v / 2);
        let mut r = rng(3);
        let mut s = BackoffState::new();
        let n = 20_000;
        let xs: Vec<f64> = (0..n)
            .map(|k| {
                let x = s.next(&b, Jitter::Equal, k + 1, &mut r).0;
                assert!((lo_bound..=v).contains(&x), "{x}");
                x as f64
            })
            .collect();
        let expect = lo_bound as f64 + h as f64 / 2.0;
        let se = uniform_sd(lo_bound, v) / (n as f64).sqrt();
        assert!((mean(&xs) - expect).abs() < 5.0 * se);
        assert!((expect / v as f64 - 0.75).abs() < 1e-6);
    }

    #[test]
    fn decorrelated_first_sleep_is_uniform_between_base_and_three_base() {
        let b = exp(ms(10), SimDuration::from_secs(100), 2.0);
        let base = ms(10).0;
        let mut r = rng(4);
        let n = 20_000;
        let xs: Vec<f64> = (0..n)
            .map(|_| {
                // A fresh state per sample: prev = base.
                let x = BackoffState::new()
                    .next(&b, Jitter::Decorrelated, 1, &mut r)
                    .0;
                assert!((base..=3 * base).contains(&x));
                x as f64
            })
            .collect();
        let se = uniform_sd(base, 3 * base) / (n as f64).sqrt();
        assert!((mean(&xs) - 2.0 * base as f64).abs() < 5.0 * se);
    }

    #[test]
    fn decorrelated_depends_on_the_previous_sleep() {
        let b = exp(ms(10), SimDuration::from_secs(1000), 2.0);
        let base = ms(10).0;
        let mut r = rng(5);
        // E[s₂ | s₁] = (base + 3·s₁)/2 and Var[s₂ | s₁] ≈ (3·s₁ − base)²/12: compare the sum of
        // residuals with its standard deviation.
        let (mut resid, mut var) = (0.0, 0.0);
        let n = 20_000;
        for _ in 0..n {
            let mut s = BackoffState::new();
            let s1 = s.next(&b, Jitter::Decorrelated, 1, &mut r).0;
            assert_eq!(s.prev(), Some(SimDuration(s1)));
            let s2 = s.next(&b, Jitter::Decorrelated, 2, &mut r).0;
            assert!((base..=3 * s1).contains(&s2));
            resid += s2 as f64 - (base + 3 * s1) as f64 / 2.0;
            var += uniform_sd(base, 3 * s1).powi(2);
        }
        assert!(resid.abs() < 5.0 * var.sqrt(), "{resid} vs {}", var.sqrt());
    }

    #[test]
    fn decorrelated_stays_within_base_and_max_and_piles_up_at_max() {
        let (base, max) = (ms(5), ms(200));
        let b = exp(base, max, 2.0);
        let mut r = rng(6);
        let mut at_max = 0;
        for _ in 0..2_000 {
            let mut s = BackoffState::new();
            let mut prev = base;
            for k in 1..=10 {
                let x = s.next(&b, Jitter::Decorrelated, k, &mut r);
                assert!(x >= base && x <= max, "{x}");
                assert!(x.0 <= 3 * prev.0);
                at_max += usize::from(x == max);
                prev = x;
            }
        }
        assert!(at_max > 1_000, "{at_max}");
        // Retry 1 restarts from base even on a used state.
        let mut s = BackoffState::new();
        for k in 1..=10 {
            s.next(&b, Jitter::Decorrelated, k, &mut r);
        }
        for _ in 0..200 {
            let x = s.next(&b, Jitter::Decorrelated, 1, &mut r);
            assert!(x.0 <= 3 * base.0);
        }
    }

    #[test]
    fn constant_with_decorrelated_jitter_is_the_constant() {
        let b = Backoff::Constant(ms(300));
        let mut r = rng(7);
        let mut s = BackoffState::new();
        for k in 1..=5 {
            assert_eq!(s.next(&b, Jitter::Decorrelated, k, &mut r), ms(300));
        }
    }

    #[test]
    fn never_panics_on_invalid_values() {
        let mut r = rng(8);
        let bad = [
            exp(ms(100), ms(10), 2.0),
            exp(SimDuration::ZERO, ms(10), 2.0),
            exp(ms(10), ms(100), f64::NAN),
            exp(ms(10), ms(100), 0.5),
            exp(ms(10), ms(100), f64::INFINITY),
            Backoff::Constant(SimDuration::ZERO),
        ];
        for b in bad {
            for j in [
                Jitter::None,
                Jitter::Full,
                Jitter::Equal,
                Jitter::Decorrelated,
            ] {
                let mut s = BackoffState::new();
                for k in 1..=6 {
                    let x = s.next(&b, j, k, &mut r);
                    assert!(x <= b.cap().max(b.base()), "{b:?} {j:?} {x}");
                }
            }
        }
    }

    #[test]
    fn same_seed_same_sleeps() {
        let b = exp(ms(25), ms(250), 2.0);
        let draw = |seed| {
            let mut r = rng(seed);
            let mut out = Vec::new();
            for j in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
                let mut s = BackoffState::new();
                out.extend((1..=8).map(|k| s.next(&b, j, k, &mut r)));
            }
            out
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
    }

    #[test]
    fn no_jitter_draws_nothing() {
        let b = exp(ms(25), ms(250), 2.0);
        let mut r1 = rng(11);
        let r2 = rng(11);
        let mut s = BackoffState::new();
        for k in 1..=5 {
            s.next(&b, Jitter::None, k, &mut r1);
        }
        assert_eq!(r1, r2);
    }

    #[test]
    fn validate_reports_nonsense() {
        let field = |b: Backoff| b.validate().err().map(|p| p.path);
        assert_eq!(field(exp(ms(25), ms(250), 2.0)).as_deref(), None);
        assert_eq!(field(exp(ms(25), ms(25), 1.0)).as_deref(), None);
        assert_eq!(field(Backoff::Constant(SimDuration::ZERO)).as_deref(), None);
        assert_eq!(field(exp(ms(25), ms(10), 2.0)).as_deref(), Some("max"));
        assert_eq!(
            field(exp(SimDuration::ZERO, ms(10), 2.0)).as_deref(),
            Some("base")
        );
        assert_eq!(
            field(exp(ms(1), ms(10), 0.9)).as_deref(),
            Some("multiplier")
        );
        assert_eq!(
            field(exp(ms(1), ms(10), f64::NAN)).as_deref(),
            Some("multiplier")
        );
        assert_eq!(
            field(exp(ms(1), ms(10), f64::INFINITY)).as_deref(),
            Some("multiplier")
        );
        let p = exp(ms(25), ms(10), 2.0).validate().unwrap_err();
        assert!(
            p.message.contains("10ms") && p.message.contains("25ms"),
            "{p}"
        );
        assert_eq!(p.hint.as_deref(), Some("max must be at least base"));
    }

    #[test]
    fn check_jitter_reports_decorrelated_on_a_constant() {
        let c = Backoff::Constant(ms(5));
        assert!(c.check_jitter(Jitter::Full).is_ok());
        assert!(c.check_jitter(Jitter::Equal).is_ok());
        assert!(c.check_jitter(Jitter::None).is_ok());
        let p = c.check_jitter(Jitter::Decorrelated).unwrap_err();
        assert!(p.message.contains("5ms") && p.path.is_empty(), "{p}");
        assert!(p.hint.is_some_and(|h| h.contains("exponential")));
        assert!(exp(ms(5), ms(50), 2.0)
            .check_jitter(Jitter::Decorrelated)
            .is_ok());
    }
}
