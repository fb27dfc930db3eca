//! Compiled probability distributions of durations (service times, network latency).
//!
//! Parameters are checked when the model is compiled (`model::distributions`), so sampling never
//! fails. Samples are rounded to whole nanoseconds.

use crate::rng::SimRng;
use crate::time::SimDuration;
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
    /// A log-normal distribution with this median and 99th percentile \[ns\]
    /// (`median > 0`, `p99 > median`).
    pub fn log_normal(median_ns: f64, p99_ns: f64) -> Result<Dist, rand_distr::NormalError> {
        let mu = median_ns.ln();
        let sigma = (p99_ns.ln() - mu) / Z_99;
        LogNormal::new(mu, sigma).map(|sampler| Dist::LogNormal { sampler, mu, sigma })
    }

    /// A log-normal distribution with this mean \[ns\] and coefficient of variation
    /// (`mean > 0`, `cv > 0`). With X = e^(μ + σZ), cv² = e^(σ²) − 1 and the mean is
    /// e^(μ + σ²/2), so σ² = ln(1 + cv²) and μ = ln(mean) − σ²/2; the median is then
    /// mean/√(1 + cv²). Fails when cv is too large for σ to be a finite number.
    pub fn log_normal_mean_cv(mean_ns: f64, cv: f64) -> Result<Dist, rand_distr::NormalError> {
        let var_ln = cv.mul_add(cv, 1.0).ln();
        let sigma = var_ln.sqrt();
        let mu = mean_ns.ln() - var_ln / 2.0;
        LogNormal::new(mu, sigma).map(|sampler| Dist::LogNormal { sampler, mu, sigma })
    }

    /// A gamma distribution with this mean \[ns\] and coefficient of variation (`cv > 0`;
    /// cv = 1 is exponential).
    pub fn gamma(mean_ns: f64, cv: f64) -> Result<Dist, rand_distr::GammaError> {
        let shape = 1.0 / (cv * cv);
        let scale = mean_ns * cv * cv;
        Gamma::new(shape, scale).map(|sampler| Dist::Gamma {
            sampler,
            shape,
            scale,
        })
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
        let d = Dist::log_normal(8e6, 60e6).unwrap();
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

    /// Sample mean and sample variance of `n` draws of `d`.
    fn sample_moments(d: &Dist, n: usize, seed: u64) -> (f64, f64) {
        let mut rng = stream(seed, "test", "moments", 0);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng).0 as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var)
    }

    #[test]
    fn lognormal_by_mean_and_cv_has_them() {
        // The formulas: mean, cv and median exactly as given.
        for (mean, cv) in [(10e6, 0.5), (10e6, 1.5), (2e3, 0.01), (3.6e12, 4.0)] {
            let d = Dist::log_normal_mean_cv(mean, cv).unwrap();
            assert!((d.mean_ns() / mean - 1.0).abs() < 1e-12, "{d:?}");
            assert!((d.scv() / (cv * cv) - 1.0).abs() < 1e-9, "{d:?}");
            assert!((d.median_ns() * (1.0 + cv * cv).sqrt() / mean - 1.0).abs() < 1e-12);
        }
        // The samples. For a log-normal with σ² = ln(1 + cv²), E[Xᵏ] = mᵏ·(1 + cv²)^(k(k−1)/2),
        // which gives the fourth central moment μ₄ and so the standard errors of the sample
        // mean (σ/√n) and of the sample variance (√((μ₄ − σ⁴)/n)). Both must be within 5 of
        // them: a false failure has a chance of about 10⁻⁶ each, while a cv off by 2 % (cv = 0.5)
        // or 10 % (cv = 1.5, whose tail makes the variance noisy) fails.
        let n = 400_000;
        for (cv, seed) in [(0.5, 1), (1.5, 2)] {
            let mean = 10e6;
            let d = Dist::log_normal_mean_cv(mean, cv).unwrap();
            let a: f64 = 1.0 + cv * cv;
            let raw = |k: i32| mean.powi(k) * a.powi(k * (k - 1) / 2);
            let var = raw(2) - mean * mean;
            let mu4 =
                raw(4) - 4.0 * mean * raw(3) + 6.0 * mean * mean * raw(2) - 3.0 * mean.powi(4);
            let se_mean = (var / n as f64).sqrt();
            let se_var = ((mu4 - var * var) / n as f64).sqrt();
            let (m, v) = sample_moments(&d, n, seed);
            assert!(
                (m - mean).abs() < 5.0 * se_mean,
                "cv {cv}: mean {m} (se {se_mean})"
            );
            assert!(
                (v - var).abs() < 5.0 * se_var,
                "cv {cv}: variance {v} vs {var} (se {se_var})"
            );
            let sample_cv = v.sqrt() / m;
            assert!(
                (sample_cv / cv - 1.0).abs() < 0.1,
                "cv {cv}: sample cv {sample_cv}"
            );
        }
    }

    #[test]
    fn lognormal_by_mean_and_cv_refuses_a_cv_without_a_finite_sigma() {
        assert!(Dist::log_normal_mean_cv(1e6, 1e200).is_err());
        assert!(Dist::log_normal_mean_cv(1e6, f64::NAN).is_err());
        assert!(Dist::log_normal_mean_cv(1e6, 1e100).is_ok());
    }

    #[test]
    fn means_match_sample_means() {
        let dists = [
            Dist::Exp { mean: 2e6 },
            Dist::Uniform { lo: 1e6, hi: 3e6 },
            Dist::gamma(120e6, 0.5).unwrap(),
            Dist::log_normal(8e6, 60e6).unwrap(),
            Dist::log_normal_mean_cv(5e6, 0.8).unwrap(),
            Dist::Empirical(vec![1_000_000, 2_000_000, 6_000_000].into_boxed_slice()),
        ];
        for d in &dists {
            let n = 400_000;
            let m = sample_mean(d, n);
            // Standard error of the mean = sd/sqrt(n); allow 5 standard errors.
            let se = d.mean_ns() * d.scv().sqrt() / (n as f64).sqrt();
            assert!(
                (m - d.mean_ns()).abs() < 5.0 * se + 1.0,
                "{d:?}: sample mean {m} vs {}",
                d.mean_ns()
            );
        }
    }
}
