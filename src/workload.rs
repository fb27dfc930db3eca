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
    /// Start [ns].
    pub start: u64,
    /// End [ns], exclusive; `u64::MAX` for the last segment.
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
        let mut t = now.as_nanos();
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
            let gap_ns = match self.kind {
                ArrivalKind::Poisson => {
                    let e: f64 = Exp1.sample(rng);
                    e * NS_PER_S as f64 / peak
                }
                ArrivalKind::Constant => {
                    let r = seg.rate_at(t as f64);
                    if r <= 0.0 {
                        // A ramp up from zero: step forward until the rate is positive.
                        NS_PER_S as f64 / peak
                    } else {
                        NS_PER_S as f64 / r
                    }
                }
            };
            let cand = (t as f64 + gap_ns).round().max(t as f64 + 1.0);
            if cand >= seg.end as f64 {
                if self.kind == ArrivalKind::Poisson || seg.end == u64::MAX {
                    if seg.end == u64::MAX {
                        return Some(SimTime(u64::MAX));
                    }
                    t = seg.end;
                    continue;
                }
                // Constant arrivals keep their spacing across a boundary.
                return Some(SimTime(cand as u64));
            }
            let cand = cand as u64;
            if self.kind == ArrivalKind::Poisson && seg.rate_start != seg.rate_end {
                let keep = seg.rate_at(cand as f64) / peak;
                if rng.random::<f64>() >= keep {
                    t = cand;
                    continue;
                }
            }
            return Some(SimTime(cand));
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
    fn zero_rate_produces_nothing() {
        let p = ArrivalProcess::constant_rate(ArrivalKind::Poisson, 0.0);
        let mut rng = stream(1, "t", "z", 0);
        assert_eq!(p.next_after(SimTime(0), &mut rng, &mut 0), None);
    }
}
