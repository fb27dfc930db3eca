//! Open-loop arrival processes with piecewise rate profiles (steps and linear ramps).
//!
//! A profile is a list of segments; in each the rate is linear in time. Poisson arrivals in a
//! segment are drawn by thinning (Lewis & Shedler): candidates at the segment's peak rate,
//! each kept with probability rate(t)/peak. At a segment boundary the draw restarts, which is
//! exact for a Poisson process because it is memoryless. Constant arrivals are spaced
//! `1 / rate(t)` apart, the rate read at the previous arrival.

use crate::rng::SimRng;
use crate::time::{SimTime, NS_PER_S};
use rand::Rng;
use rand_distr::{Distribution, Exp1};

/// Poisson or evenly spaced arrivals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalKind {
    /// Exponential gaps.
    Poisson,
    /// Equal gaps of 1/rate.
    Constant,
}

/// One piece of a rate profile: the rate goes linearly from `rate_start` at `start` to
/// `rate_end` at `end` (equal rates give a step profile).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// Start \[ns\].
    pub start: u64,
    /// End \[ns\], exclusive; `u64::MAX` for the last segment.
    pub end: u64,
    /// Rate at `start` [requests/s].
    pub rate_start: f64,
    /// Rate at `end` [requests/s].
    pub rate_end: f64,
}

impl Segment {
    fn rate_at(&self, t: f64) -> f64 {
        if self.rate_start == self.rate_end || self.end == u64::MAX {
            return self.rate_start;
        }
        let f = (t - self.start as f64) / (self.end - self.start) as f64;
        self.rate_start + (self.rate_end - self.rate_start) * f.clamp(0.0, 1.0)
    }
}

/// A compiled arrival process.
#[derive(Clone, Debug)]
pub struct ArrivalProcess {
    /// Poisson or constant.
    pub kind: ArrivalKind,
    /// Consecutive segments covering `[0, ∞)`.
    pub segments: Vec<Segment>,
}

impl ArrivalProcess {
    /// A process with one rate forever.
    pub fn constant_rate(kind: ArrivalKind, per_second: f64) -> ArrivalProcess {
        ArrivalProcess {
            kind,
            segments: vec![Segment {
                start: 0,
                end: u64::MAX,
                rate_start: per_second,
                rate_end: per_second,
            }],
        }
    }

    /// Builds the segments from an initial rate and `(at, rate, ramp)` points in time order.
    pub fn from_profile(kind: ArrivalKind, initial: f64, points: &[(u64, f64, bool)]) -> Self {
        let mut segments = Vec::with_capacity(points.len() + 1);
        let (mut t, mut r) = (0u64, initial);
        for &(at, rate, ramp) in points {
            if at > t {
                segments.push(Segment {
                    start: t,
                    end: at,
                    rate_start: r,
                    rate_end: if ramp { rate } else { r },
                });
            }
            t = at;
            r = rate;
        }
        segments.push(Segment {
            start: t,
            end: u64::MAX,
            rate_start: r,
            rate_end: r,
        });
        ArrivalProcess { kind, segments }
    }

    /// The rate at time `t_ns` [requests/s].
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        let seg = &self.segments[self.segment_index(t_ns, 0)];
        seg.rate_at(t_ns as f64)
    }

    /// Highest rate anywhere in `[from, to)` [requests/s].
    pub fn peak_rate(&self, from: u64, to: u64) -> f64 {
        self.segments
            .iter()
            .filter(|s| s.end > from && s.start < to)
            .map(|s| {
                s.rate_at(from.max(s.start) as f64)
                    .max(s.rate_at(to.min(s.end) as f64))
            })
            .fold(0.0, f64::max)
    }

    /// Mean rate over `[from, to)` [requests/s]: the integral of the profile divided by the span.
    pub fn mean_rate(&self, from: u64, to: u64) -> f64 {
        if to <= from {
            return self.rate_at(from);
        }
        let mut area = 0.0;
        for s in &self.segments {
            let a = from.max(s.start);
            let b = to.min(s.end);
            if b > a {
                let (ra, rb) = (s.rate_at(a as f64), s.rate_at(b as f64));
                area += (ra + rb) / 2.0 * (b - a) as f64;
            }
        }
        area / (to - from) as f64
    }

    fn segment_index(&self, t: u64, hint: usize) -> usize {
        let mut i = hint.min(self.segments.len() - 1);
        while i > 0 && self.segments[i].start > t {
            i -= 1;
        }
        while self.segments[i].end <= t {
            i += 1;
        }
        i
    }

    /// The first arrival strictly after `now`, or `None` if the rate stays 0 forever.
    /// `hint` caches the current segment between calls (start it at 0).
    #[inline]
    pub fn next_after(&self, now: SimTime, rng: &mut SimRng, hint: &mut usize) -> Option<SimTime> {
        match self.kind {
            ArrivalKind::Poisson => self.next_poisson(now.as_nanos(), rng, hint),
            ArrivalKind::Constant => self.next_constant(now.as_nanos(), hint),
        }
    }

    /// Thinning within the current segment, restarting at each boundary.
    fn next_poisson(&self, mut t: u64, rng: &mut SimRng, hint: &mut usize) -> Option<SimTime> {
        loop {
            *hint = self.segment_index(t, *hint);
            let seg = self.segments[*hint];
            let peak = seg.rate_start.max(seg.rate_end);
            if peak <= 0.0 {
                if seg.end == u64::MAX {
                    return None;
                }
                t = seg.end;
                continue;
            }
            let e: f64 = Exp1.sample(rng);
            // Round half up by +0.5 and truncation (`as` saturates): no libm call per arrival.
            let cand = ((t as f64 + e * NS_PER_S as f64 / peak + 0.5) as u64).max(t + 1);
            if cand >= seg.end {
                // No arrival left in this segment: memoryless, so start afresh at its end.
                t = seg.end;
                if t == u64::MAX {
                    return None;
                }
                continue;
            }
            if seg.rate_start != seg.rate_end {
                let keep = seg.rate_at(cand as f64) / peak;
                if rng.random::<f64>() >= keep {
                    t = cand;
                    continue;
                }
            }
            return Some(SimTime(cand));
        }
    }

    /// The time at which the integrated rate has grown by one request since `t`: arrivals
    /// sit where ∫rate crosses successive integers, so a step or ramp changes the spacing
    /// exactly when it happens.
    fn next_constant(&self, mut t: u64, hint: &mut usize) -> Option<SimTime> {
        let mut need = 1.0; // requests still to accumulate
        loop {
            *hint = self.segment_index(t, *hint);
            let seg = self.segments[*hint];
            // Rate in requests/ns, linear in time: r(x) = r0 + k·(x − t).
            let r0 = seg.rate_at(t as f64) / NS_PER_S as f64;
            let k = if seg.end == u64::MAX || seg.rate_start == seg.rate_end {
                0.0
            } else {
                (seg.rate_end - seg.rate_start) / NS_PER_S as f64 / (seg.end - seg.start) as f64
            };
            let span = (seg.end - t) as f64;
            let area = if seg.end == u64::MAX {
                if r0 > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            } else {
                r0 * span + k * span * span / 2.0
            };
            if area < need {
                if seg.end == u64::MAX {
                    return None; // rate 0 forever
                }
                need -= area;
                t = seg.end;
                continue;
            }
            // Solve r0·d + k·d²/2 = need for the smallest d ≥ 0.
            let d = if k.abs() < 1e-30 {
                need / r0
            } else {
                (-r0 + (r0 * r0 + 2.0 * k * need).max(0.0).sqrt()) / k
            };
            let at = (t as f64 + d).round().max(t as f64 + 1.0);
            return Some(SimTime(at.min(u64::MAX as f64) as u64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn count(p: &ArrivalProcess, from: u64, to: u64) -> usize {
        let mut rng = stream(5, "test", "arrivals", 0);
        let mut hint = 0;
        let mut t = SimTime(0);
        let mut n = 0;
        while let Some(next) = p.next_after(t, &mut rng, &mut hint) {
            if next.0 >= to {
                break;
            }
            if next.0 >= from {
                n += 1;
            }
            t = next;
        }
        n
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced() {
        let p = ArrivalProcess::constant_rate(ArrivalKind::Constant, 10.0);
        let mut rng = stream(1, "t", "c", 0);
        let mut hint = 0;
        let a = p.next_after(SimTime(0), &mut rng, &mut hint).unwrap();
        let b = p.next_after(a, &mut rng, &mut hint).unwrap();
        assert_eq!(a, SimTime(100_000_000));
        assert_eq!(b, SimTime(200_000_000));
    }

    #[test]
    fn poisson_counts_follow_a_step_and_a_ramp() {
        // 100/s for 100 s, then a ramp to 300/s over 100 s (mean 200/s), then 300/s.
        let s = NS_PER_S;
        let p = ArrivalProcess::from_profile(
            ArrivalKind::Poisson,
            100.0,
            &[(100 * s, 100.0, false), (200 * s, 300.0, true)],
        );
        assert!((p.mean_rate(100 * s, 200 * s) - 200.0).abs() < 1e-9);
        assert!((p.rate_at(150 * s) - 200.0).abs() < 1e-9);
        // Poisson counts: sd = sqrt(mean); allow 4 sd.
        for (from, to, expect) in [
            (0, 100 * s, 10_000.0),
            (100 * s, 200 * s, 20_000.0),
            (200 * s, 300 * s, 30_000.0),
        ] {
            let n = count(&p, from, to) as f64;
            assert!(
                (n - expect).abs() < 4.0 * f64::sqrt(expect),
                "{n} vs {expect}"
            );
        }
    }

    #[test]
    fn constant_arrivals_follow_steps_and_ramps_exactly() {
        let s = NS_PER_S;
        // 10/s, then 0 from 0.25 s: arrivals at 0.1 s and 0.2 s only.
        let p = ArrivalProcess::from_profile(ArrivalKind::Constant, 10.0, &[(s / 4, 0.0, false)]);
        let mut rng = stream(1, "t", "c", 0);
        let mut hint = 0;
        let a = p.next_after(SimTime(0), &mut rng, &mut hint).unwrap();
        let b = p.next_after(a, &mut rng, &mut hint).unwrap();
        assert_eq!((a.0, b.0), (s / 10, s / 5));
        assert_eq!(p.next_after(b, &mut rng, &mut hint), None);
        // A ramp from 0 to 20/s over 1 s integrates to 10 requests: the k-th arrival is at
        // sqrt(k/10) s, so exactly 10 arrivals by 1 s (the last one at 1 s itself).
        let p = ArrivalProcess::from_profile(ArrivalKind::Constant, 0.0, &[(s, 20.0, true)]);
        let first = p.next_after(SimTime(0), &mut rng, &mut 0).unwrap();
        assert!((first.0 as f64 - (0.1f64).sqrt() * 1e9).abs() <= 1.0);
        assert_eq!(count(&p, 0, s + 2), 10);
        assert_eq!(count(&p, 0, s - 2), 9);
    }

    #[test]
    fn zero_rate_produces_nothing() {
        let p = ArrivalProcess::constant_rate(ArrivalKind::Poisson, 0.0);
        let mut rng = stream(1, "t", "z", 0);
        assert_eq!(p.next_after(SimTime(0), &mut rng, &mut 0), None);
    }
}
