//! Compiled probability distributions of durations (service times, network latency).
//!
//! Parameters are checked when the model is compiled ([`Dist::compile`]), so sampling never
//! fails. Samples are rounded to whole nanoseconds.

use crate::rng::SimRng;
use crate::spec::DistSpec;
use crate::time::{parse_duration, SimDuration};
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal};

/// z-score of the 99th percentile of the standard normal distribution.
const Z_99: f64 = 2.326_347_874_040_841;

/// A distribution of durations, ready to sample \[ns\].
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always `0`.
    Zero,
    /// Always the same value \[ns\].
    Const(u64),
    /// Exponential with this mean \[ns\].
    Exp {
        /// Mean \[ns\].
        mean: f64,
    },
    /// Uniform on `[lo, hi]` \[ns\].
    Uniform {
        /// Lower bound \[ns\].
        lo: f64,
        /// Upper bound \[ns\].
        hi: f64,
    },
    /// Log-normal; `mu` and `sigma` of the underlying normal, in ln(ns).
    LogNormal {
        /// The sampler.
        sampler: LogNormal<f64>,
        /// Mean of ln(X).
        mu: f64,
        /// Standard deviation of ln(X).
        sigma: f64,
    },
    /// Gamma with shape `k` and scale `theta` \[ns\].
    Gamma {
        /// The sampler.
        sampler: Gamma<f64>,
        /// Shape k = 1/cv².
        shape: f64,
        /// Scale θ = mean·cv² \[ns\].
        scale: f64,
    },
    /// One of these values, uniformly \[ns\], kept sorted (for the median).
    Empirical(Box<[u64]>),
}

impl Dist {
    /// Checks a distribution as written and compiles it; on failure returns
    /// `(field, message)` where `field` is the offending field's name.
    pub fn compile(spec: &DistSpec) -> Result<Dist, (String, String)> {
        let dur = |field: &str, text: &str| {
            parse_duration(text).map_err(|e| (field.to_string(), e.to_string()))
        };
        match spec {
            DistSpec::Const(v) => Ok(match dur("", v)?.as_nanos() {
                0 => Dist::Zero,
                ns => Dist::Const(ns),
            }),
            DistSpec::Exp { mean } => {
                let m = dur("mean", mean)?.as_nanos();
                if m == 0 {
                    return Err((
                        "mean".into(),
                        "an exponential distribution needs a mean > 0; for no time at all write Const(\"0ms\")".into(),
                    ));
                }
                Ok(Dist::Exp { mean: m as f64 })
            }
            DistSpec::Uniform { min, max } => {
                let lo = dur("min", min)?.as_nanos();
                let hi = dur("max", max)?.as_nanos();
                if hi < lo {
                    return Err((
                        "max".into(),
                        format!("max ({max}) is below min ({min}); swap them"),
                    ));
                }
                Ok(Dist::Uniform {
                    lo: lo as f64,
                    hi: hi as f64,
                })
            }
            DistSpec::LogNormal { median, p99 } => {
                let m = dur("median", median)?.as_nanos();
                let p = dur("p99", p99)?.as_nanos();
                if m == 0 {
                    return Err((
                        "median".into(),
                        format!("the median must be above 0, not {median}; for no time at all write Const(\"0ms\")"),
                    ));
                }
                if p <= m {
                    return Err((
                        "p99".into(),
                        format!("p99 ({p99}) must be above the median ({median}); a log-normal has a right tail"),
                    ));
                }
                let mu = (m as f64).ln();
                let sigma = ((p as f64).ln() - mu) / Z_99;
                LogNormal::new(mu, sigma)
                    .map(|sampler| Dist::LogNormal { sampler, mu, sigma })
                    .map_err(|e| ("p99".into(), format!("invalid log-normal: {e}")))
            }
            DistSpec::Gamma { mean, cv } => {
                let m = dur("mean", mean)?.as_nanos();
                if m == 0 {
                    return Err((
                        "mean".into(),
                        format!("the mean must be above 0, not {mean}; for no time at all write Const(\"0ms\")"),
                    ));
                }
                if !cv.is_finite() || *cv <= 0.0 {
                    return Err((
                        "cv".into(),
                        format!("cv must be a finite number > 0, not {cv}; cv = 1 is exponential, smaller is more regular"),
                    ));
                }
                let shape = 1.0 / (cv * cv);
                let scale = m as f64 * cv * cv;
                Gamma::new(shape, scale)
                    .map(|sampler| Dist::Gamma {
                        sampler,
                        shape,
                        scale,
                    })
                    .map_err(|e| {
                        (
                            "cv".into(),
                            format!("invalid gamma ({e}): cv = {cv} is too extreme for a mean of {mean}; try a cv between 0.01 and 100"),
                        )
                    })
            }
            DistSpec::Empirical(samples) => {
                if samples.is_empty() {
                    return Err((
                        "".into(),
                        "an empirical distribution needs at least one sample".into(),
                    ));
                }
                let mut v = Vec::with_capacity(samples.len());
                for (i, s) in samples.iter().enumerate() {
                    v.push(dur(&format!("[{i}]"), s)?.as_nanos());
                }
                v.sort_unstable();
                Ok(Dist::Empirical(v.into_boxed_slice()))
            }
        }
    }

    /// Draws one duration.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        let ns = match self {
            Dist::Zero => return SimDuration::ZERO,
            Dist::Const(v) => return SimDuration(*v),
            Dist::Exp { mean } => {
                let x: f64 = Exp1.sample(rng);
                x * mean
            }
            Dist::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            Dist::LogNormal { sampler, .. } => sampler.sample(rng),
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Empirical(v) => return SimDuration(v[rng.random_range(0..v.len())]),
        };
        // Round half up by adding 0.5 and truncating: the same as `round()` for the
        // non-negative values every distribution here yields, without a libm call on the hot
        // path. `as` saturates for huge values and maps NaN to 0; neither comes from valid
        // parameters.
        SimDuration((ns + 0.5) as u64)
    }

    /// Mean \[ns\].
    pub fn mean_ns(&self) -> f64 {
        match self {
            Dist::Zero => 0.0,
            Dist::Const(v) => *v as f64,
            Dist::Exp { mean } => *mean,
            Dist::Uniform { lo, hi } => (lo + hi) / 2.0,
            Dist::LogNormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Empirical(v) => v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64,
        }
    }

    /// Median \[ns\] (for the Gamma distribution, the Wilson–Hilferty approximation).
    pub fn median_ns(&self) -> f64 {
        match self {
            Dist::Zero => 0.0,
            Dist::Const(v) => *v as f64,
            Dist::Exp { mean } => mean * std::f64::consts::LN_2,
            Dist::Uniform { lo, hi } => (lo + hi) / 2.0,
            Dist::LogNormal { mu, .. } => mu.exp(),
            Dist::Gamma { shape, scale, .. } => {
                let k = *shape;
                k * scale * (1.0 - 1.0 / (9.0 * k)).powi(3)
            }
            Dist::Empirical(v) => {
                let n = v.len();
                if n % 2 == 1 {
                    v[n / 2] as f64
                } else {
                    (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
                }
            }
        }
    }

    /// Squared coefficient of variation, Var/Mean² (0 for constants, 1 for exponential).
    pub fn scv(&self) -> f64 {
        let m = self.mean_ns();
        if m == 0.0 {
            return 0.0;
        }
        let var = match self {
            Dist::Zero | Dist::Const(_) => 0.0,
            Dist::Exp { mean } => mean * mean,
            Dist::Uniform { lo, hi } => (hi - lo).powi(2) / 12.0,
            Dist::LogNormal { mu, sigma, .. } => {
                ((sigma * sigma).exp() - 1.0) * (2.0 * mu + sigma * sigma).exp()
            }
            Dist::Gamma { shape, scale, .. } => shape * scale * scale,
            Dist::Empirical(v) => {
                v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / v.len() as f64
            }
        };
        var / (m * m)
    }

    /// True for the exponential distribution (where M/M/c formulas apply).
    pub fn is_exponential(&self) -> bool {
        matches!(self, Dist::Exp { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = stream(3, "test", "dist", 0);
        (0..n)
            .map(|_| d.sample(&mut rng).as_nanos() as f64)
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn lognormal_matches_median_and_p99() {
        let d = Dist::compile(&DistSpec::LogNormal {
            median: "8ms".into(),
            p99: "60ms".into(),
        })
        .unwrap();
        assert!((d.median_ns() - 8e6).abs() < 1.0);
        let mut rng = stream(1, "test", "ln", 0);
        let mut v: Vec<u64> = (0..200_000).map(|_| d.sample(&mut rng).0).collect();
        v.sort_unstable();
        let med = v[v.len() / 2] as f64;
        let p99 = v[v.len() * 99 / 100] as f64;
        // 200k samples: the empirical quantiles are within ~1% (binomial s.e. of the rank).
        assert!((med / 8e6 - 1.0).abs() < 0.02, "median {med}");
        assert!((p99 / 60e6 - 1.0).abs() < 0.05, "p99 {p99}");
    }

    #[test]
    fn means_match_sample_means() {
        let specs = [
            DistSpec::Exp { mean: "2ms".into() },
            DistSpec::Uniform {
                min: "1ms".into(),
                max: "3ms".into(),
            },
            DistSpec::Gamma {
                mean: "120ms".into(),
                cv: 0.5,
            },
            DistSpec::LogNormal {
                median: "8ms".into(),
                p99: "60ms".into(),
            },
            DistSpec::Empirical(vec!["1ms".into(), "2ms".into(), "6ms".into()]),
        ];
        for s in &specs {
            let d = Dist::compile(s).unwrap();
            let n = 400_000;
            let m = sample_mean(&d, n);
            // Standard error of the mean = sd/sqrt(n); allow 5 standard errors.
            let se = d.mean_ns() * d.scv().sqrt() / (n as f64).sqrt();
            assert!(
                (m - d.mean_ns()).abs() < 5.0 * se + 1.0,
                "{s:?}: sample mean {m} vs {}",
                d.mean_ns()
            );
        }
    }

    #[test]
    fn bad_parameters_are_reported_with_their_field() {
        let e = Dist::compile(&DistSpec::Gamma {
            mean: "1ms".into(),
            cv: f64::NAN,
        })
        .unwrap_err();
        assert_eq!(e.0, "cv");
        let e = Dist::compile(&DistSpec::LogNormal {
            median: "10ms".into(),
            p99: "5ms".into(),
        })
        .unwrap_err();
        assert_eq!(e.0, "p99");
        let e = Dist::compile(&DistSpec::Exp { mean: "0ms".into() }).unwrap_err();
        assert!(e.1.contains("mean > 0"));
    }
}
