//! Statistics across independent replications: means with Student-t confidence intervals,
//! paired differences, Wilson intervals for proportions of replications, and batch means.
//!
//! # Why across replications
//! The requests of one run are not independent: a slow spell, a fault or a full queue affects
//! thousands of neighbouring requests together. A standard error computed as if they were
//! (the binomial `√(p(1−p)/n)`) is therefore too small, often several times too small. Runs
//! with different seeds *are* independent, so the spread of a metric across `n` replications,
//! with Student's t for `n − 1` degrees of freedom, gives an interval that holds whatever the
//! correlation inside a run (Law, *Simulation Modeling and Analysis*, 5th ed., §9.4).
//!
//! Every function here is pure arithmetic on `f64`s; nothing knows what a replication is.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval microsim prints.
pub const CONFIDENCE: f64 = 0.95;

/// The two-sided Student-t critical value for `confidence` and `df` degrees of freedom:
/// `t` with P(|T| ≤ t) = confidence. `None` for `df = 0` (no interval from one sample).
///
/// Example: `t_critical(0.95, 9)` ≈ 2.262 (the table value for 10 replications).
pub fn t_critical(confidence: f64, df: u64) -> Option<f64> {
    if df == 0 || !(0.0..1.0).contains(&confidence) {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    Some(t.inverse_cdf(0.5 + confidence / 2.0))
}

/// A metric estimated from independent samples (one per replication).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Samples (replications) that had a value.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (divisor n − 1; 0 for one sample).
    pub sd: f64,
    /// Half-width of the [`CONFIDENCE`] interval `mean ± half_width`; `None` with fewer than
    /// two samples (no spread to learn from).
    pub half_width: Option<f64>,
}

impl Estimate {
    /// Mean, standard deviation and t-interval of `samples`. Non-finite samples are left out
    /// (a metric that is undefined in some replication, e.g. a drain that never ended);
    /// `n` says how many were used.
    pub fn from_samples(samples: &[f64]) -> Estimate {
        Self::with_confidence(samples, CONFIDENCE)
    }

    /// As [`Estimate::from_samples`] at another confidence level.
    pub fn with_confidence(samples: &[f64], confidence: f64) -> Estimate {
        // Welford's update: stable for values that differ little (availabilities near 1).
        let (mut n, mut mean, mut m2) = (0u64, 0.0f64, 0.0f64);
        for &x in samples.iter().filter(|x| x.is_finite()) {
            n += 1;
            let delta = x - mean;
            mean += delta / n as f64;
            m2 += delta * (x - mean);
        }
        if n == 0 {
            return Estimate {
                n,
                mean: f64::NAN,
                sd: f64::NAN,
                half_width: None,
            };
        }
        let sd = if n > 1 {
            (m2 / (n - 1) as f64).max(0.0).sqrt()
        } else {
            0.0
        };
        let half_width = t_critical(confidence, n - 1).map(|t| t * sd / (n as f64).sqrt());
        Estimate {
            n,
            mean,
            sd,
            half_width,
        }
    }

    /// The interval's ends, `None` without an interval.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.half_width.map(|h| (self.mean - h, self.mean + h))
    }

    /// Whether the interval lies entirely above or below `value` (a difference whose
    /// interval excludes 0 is significant at the interval's level).
    pub fn excludes(&self, value: f64) -> bool {
        self.interval()
            .is_some_and(|(lo, hi)| value < lo || value > hi)
    }
}

/// The paired difference `b − a`, sample by sample (replication i of `b` ran with the same
/// seed, hence the same random numbers, as replication i of `a`). Pairs where either side is
/// not finite are left out.
///
/// With common random numbers the two sides are positively correlated, so the variance of
/// the difference, Var(a) + Var(b) − 2 Cov(a, b), is smaller than that of two independent
/// estimates: the same number of runs tells a smaller difference apart.
pub fn paired_difference(a: &[f64], b: &[f64]) -> Estimate {
    let diffs: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| y - x)
        .collect();
    Estimate::from_samples(&diffs)
}

/// The difference of means `b − a` of two *independent* samples, with Welch's interval
/// (unequal variances; Welch–Satterthwaite degrees of freedom). What a comparison without
/// common random numbers could claim; shown beside [`paired_difference`] to say what pairing
/// bought.
pub fn unpaired_difference(a: &[f64], b: &[f64]) -> Estimate {
    let ea = Estimate::from_samples(a);
    let eb = Estimate::from_samples(b);
    let mean = eb.mean - ea.mean;
    let (na, nb) = (ea.n as f64, eb.n as f64);
    let n = ea.n.min(eb.n);
    if ea.n < 2 || eb.n < 2 {
        return Estimate {
            n,
            mean,
            sd: f64::NAN,
            half_width: None,
        };
    }
    let (va, vb) = (ea.sd * ea.sd / na, eb.sd * eb.sd / nb);
    let se = (va + vb).sqrt();
    let half_width = if se == 0.0 {
        Some(0.0)
    } else {
        let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
        StudentsT::new(0.0, 1.0, df)
            .ok()
            .map(|t| t.inverse_cdf(0.5 + CONFIDENCE / 2.0) * se)
    };
    Estimate {
        n,
        mean,
        sd: se * (n as f64).sqrt(),
        half_width,
    }
}

/// The Wilson score interval for a proportion: `successes` out of `n` independent trials
/// (e.g. replications that collapsed), at [`CONFIDENCE`]. Unlike `p ± z√(p(1−p)/n)` it stays
/// inside \[0, 1\] and is not empty at 0 or n successes (Wilson 1927; Agresti & Coull 1998).
/// `None` for `n = 0`.
pub fn wilson_interval(successes: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = statrs::distribution::Normal::new(0.0, 1.0)
        .ok()?
        .inverse_cdf(0.5 + CONFIDENCE / 2.0);
    let nf = n as f64;
    let p = successes.min(n) as f64 / nf;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = z / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At 0 or n successes one end is exactly 0 or 1; rounding would leave a speck.
    let lo = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if successes >= n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lo, hi))
}

/// How many batches [`batch_means`] cuts a run into. Schmeiser (1982, *Operations Research*
/// 30(3)) showed that 10 to 30 batches lose little against the best number when the batches
/// are long; 20 leaves 19 degrees of freedom (t ≈ 2.09, close to the normal 1.96).
pub const BATCHES: usize = 20;

/// Batch means of a ratio metric measured in consecutive time buckets: `num[i]` and
/// `den[i]` are the numerator and denominator of bucket i (e.g. requests answered ok, and
/// answered). The buckets are grouped into [`BATCHES`] consecutive batches of equal length;
/// each batch's ratio Σnum/Σden is one sample of the interval. `None` with fewer buckets
/// than batches, or when a batch has no denominator.
///
/// The interval is honest only when batches are much longer than the time over which the
/// metric is correlated; a fault or a ramp that makes one batch unlike the others widens it,
/// as it should. Independent replications remain the safer estimate.
pub fn batch_means(num: &[f64], den: &[f64]) -> Option<Estimate> {
    let len = num.len().min(den.len());
    if len < BATCHES {
        return None;
    }
    let per = len / BATCHES;
    // Leftover buckets at the start (the warm-up side) are dropped so batches stay equal.
    let skip = len - per * BATCHES;
    let mut samples = Vec::with_capacity(BATCHES);
    for b in 0..BATCHES {
        let range = skip + b * per..skip + (b + 1) * per;
        let n: f64 = num[range.clone()].iter().sum();
        let d: f64 = den[range].iter().sum();
        if d <= 0.0 {
            return None;
        }
        samples.push(n / d);
    }
    Some(Estimate::from_samples(&samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_critical_values_match_the_tables() {
        // Two-sided 95 % values from any t table.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (4, 2.776),
            (9, 2.262),
            (19, 2.093),
            (29, 2.045),
        ] {
            let got = t_critical(0.95, df).unwrap();
            assert!((got - t).abs() < 5e-4, "df {df}: {got} vs {t}");
        }
        assert_eq!(t_critical(0.95, 0), None);
        assert!((t_critical(0.99, 9).unwrap() - 3.250).abs() < 5e-4);
    }

    #[test]
    fn estimate_of_known_samples() {
        let e = Estimate::from_samples(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(e.n, 8);
        assert!((e.mean - 5.0).abs() < 1e-12);
        // Sample variance 32/7.
        assert!((e.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let h = e.half_width.unwrap();
        assert!((h - 2.365 * e.sd / 8f64.sqrt()).abs() < 1e-3);
        assert!(e.excludes(0.0) && !e.excludes(5.0));
    }

    #[test]
    fn one_sample_has_no_interval_and_non_finite_samples_are_left_out() {
        let e = Estimate::from_samples(&[3.0]);
        assert_eq!((e.n, e.mean, e.sd, e.half_width), (1, 3.0, 0.0, None));
        let e = Estimate::from_samples(&[1.0, f64::NAN, 3.0, f64::INFINITY]);
        assert_eq!(e.n, 2);
        assert_eq!(e.mean, 2.0);
        assert!(Estimate::from_samples(&[]).mean.is_nan());
    }

    #[test]
    fn identical_samples_give_a_zero_width_interval() {
        let e = Estimate::from_samples(&[0.25; 10]);
        assert_eq!(e.sd, 0.0);
        assert_eq!(e.half_width, Some(0.0));
        let d = paired_difference(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert_eq!((d.mean, d.half_width), (0.0, Some(0.0)));
    }

    #[test]
    fn pairing_removes_the_shared_variation() {
        // b = a + 1 + small noise: the paired interval is tight, the unpaired one is not.
        let a = [10.0, 20.0, 15.0, 30.0, 25.0, 12.0];
        let b = [11.1, 20.9, 16.0, 31.05, 25.95, 13.0];
        let p = paired_difference(&a, &b);
        let u = unpaired_difference(&a, &b);
        assert!((p.mean - 1.0).abs() < 0.05 && (u.mean - p.mean).abs() < 1e-12);
        assert!(p.excludes(0.0), "{p:?}");
        assert!(!u.excludes(0.0), "{u:?}");
        assert!(p.half_width.unwrap() * 20.0 < u.half_width.unwrap());
    }

    #[test]
    fn welch_interval_matches_a_worked_example() {
        // Equal sizes and variances: Welch reduces to the pooled t with 2n − 2 df.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [3.0, 4.0, 5.0, 6.0, 7.0];
        let u = unpaired_difference(&a, &b);
        assert_eq!(u.mean, 2.0);
        let se = (2.5f64 / 5.0 * 2.0).sqrt();
        let t8 = t_critical(0.95, 8).unwrap();
        assert!((u.half_width.unwrap() - t8 * se).abs() < 1e-9);
    }

    #[test]
    fn wilson_interval_known_values() {
        // 0 of 10: (0, 0.2775); 5 of 10: (0.2366, 0.7634) (Newcombe 1998, Table I style).
        let (lo, hi) = wilson_interval(0, 10).unwrap();
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 1e-3, "{lo} {hi}");
        let (lo, hi) = wilson_interval(5, 10).unwrap();
        assert!((lo - 0.2366).abs() < 1e-3 && (hi - 0.7634).abs() < 1e-3);
        let (lo, hi) = wilson_interval(10, 10).unwrap();
        assert!((lo - 0.7225).abs() < 1e-3 && hi == 1.0);
        assert_eq!(wilson_interval(0, 0), None);
    }

    #[test]
    fn batch_means_use_equal_batches_and_ratios() {
        // 45 buckets: 5 dropped at the start, 20 batches of 2.
        let num: Vec<f64> = (0..45).map(|i| if i < 5 { 0.0 } else { 9.0 }).collect();
        let den = vec![10.0; 45];
        let e = batch_means(&num, &den).unwrap();
        assert_eq!(e.n, BATCHES as u64);
        assert!((e.mean - 0.9).abs() < 1e-12 && e.sd == 0.0);
        assert!(batch_means(&num[..19], &den[..19]).is_none());
        let mut empty = den.clone();
        empty[44] = 0.0;
        empty[43] = 0.0;
        assert!(batch_means(&num, &empty).is_none());
    }

    #[test]
    fn coverage_of_the_t_interval_on_normal_samples() {
        // 2,000 intervals of 5 normal samples each (Box–Muller from a fixed xorshift):
        // about 95 % must cover the true mean. Binomial s.e. √(0.95·0.05/2000) ≈ 0.0049, so
        // [0.93, 0.97] is a ±4 s.e. band.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut normal = || {
            let (u1, u2) = (uniform().max(1e-300), uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let trials = 2000;
        let covered = (0..trials)
            .filter(|_| {
                let s: Vec<f64> = (0..5).map(|_| 3.0 + 2.0 * normal()).collect();
                !Estimate::from_samples(&s).excludes(3.0)
            })
            .count();
        let rate = covered as f64 / trials as f64;
        assert!((0.93..=0.97).contains(&rate), "coverage {rate}");
    }
}
