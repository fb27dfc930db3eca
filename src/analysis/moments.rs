//! Times as the shadow knows them: a mean and a variance, and the distribution it fits to
//! them where it needs more than the mean — the slowest of a fan-out's branches, and the
//! chance that a call outlasts its timeout.
//!
//! Source: moment matching with the gamma family (the two-moment approximations of queueing
//! texts, e.g. Gross et al.; Whitt's "Approximating a point process by a renewal process"
//! uses the same idea); the maximum of independent variables, E\[max\] = ∫ (1 − Π Fᵢ(t)) dt
//! (Ross, *Introduction to Probability Models*). docs/semantics.md, *Queueing formulas*
//! (holding times).

use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur};

/// The mean and variance of a time \[ns, ns²\].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Time {
    /// Mean \[ns\].
    pub mean: f64,
    /// Variance \[ns²\].
    pub var: f64,
}

impl Time {
    /// No time at all.
    pub const ZERO: Time = Time {
        mean: 0.0,
        var: 0.0,
    };

    /// A time with this mean and squared coefficient of variation.
    pub fn with_scv(mean: f64, scv: f64) -> Time {
        Time {
            mean,
            var: scv * mean * mean,
        }
    }

    /// E\[X²\].
    pub fn second_moment(self) -> f64 {
        self.var + self.mean * self.mean
    }

    /// The time from its mean and second moment (the variance floored at 0 against rounding).
    pub fn from_moments(mean: f64, second: f64) -> Time {
        Time {
            mean,
            var: (second - mean * mean).max(0.0),
        }
    }

    /// This time with probability `p`, else no time: mean p·m, E\[X²\] p·E\[X²\].
    pub fn sometimes(self, p: f64) -> Time {
        if p >= 1.0 {
            return self;
        }
        Time::from_moments(p * self.mean, p * self.second_moment())
    }

    /// The distribution the shadow fits to this time.
    pub fn fit(self) -> Fit {
        if self.mean.is_nan() || self.mean <= 0.0 || !self.mean.is_finite() {
            return Fit::Const(self.mean.max(0.0));
        }
        if self.var.is_nan() || self.var <= 0.0 || !self.var.is_finite() {
            return Fit::Const(self.mean);
        }
        let shape = self.mean * self.mean / self.var;
        Fit::Gamma {
            shape,
            scale: self.var / self.mean,
        }
    }

    /// The probability that the time exceeds `t` \[ns\], from its [fit](Time::fit).
    pub fn tail(self, t: f64) -> f64 {
        self.fit().sf(t)
    }
}

/// A distribution fitted to a mean and a variance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Fit {
    /// Always this value \[ns\] (variance 0).
    Const(f64),
    /// Gamma with shape k = mean²/var and scale θ = var/mean; exponential when k = 1.
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ \[ns\].
        scale: f64,
    },
}

impl Fit {
    /// P(X ≤ t).
    pub fn cdf(self, t: f64) -> f64 {
        1.0 - self.sf(t)
    }

    /// P(X > t).
    pub fn sf(self, t: f64) -> f64 {
        match self {
            Fit::Const(c) => {
                if t < c {
                    1.0
                } else {
                    0.0
                }
            }
            Fit::Gamma { shape, scale } => {
                if t <= 0.0 {
                    return 1.0;
                }
                let x = t / scale;
                if !x.is_finite() {
                    return 0.0;
                }
                if shape == 1.0 {
                    return (-x).exp();
                }
                // The smaller of P and Q is the accurate one; the other is 1 minus it.
                if x < shape {
                    checked_gamma_lr(shape, x).map_or(1.0, |p| 1.0 - p)
                } else {
                    checked_gamma_ur(shape, x).unwrap_or(0.0)
                }
            }
        }
    }

    /// A time beyond which P(X > t) is negligible (below about e⁻⁴⁰).
    fn horizon(self) -> f64 {
        match self {
            Fit::Const(c) => c,
            Fit::Gamma { shape, scale } => scale * (shape + 40.0 * shape.sqrt() + 40.0),
        }
    }

    /// The rate of an exponential fit, if it is one.
    fn exponential_rate(self) -> Option<f64> {
        match self {
            Fit::Gamma { shape: 1.0, scale } => Some(1.0 / scale),
            _ => None,
        }
    }
}

/// The time until every one of independent `branches` has finished: E\[max\] and E\[max²\].
///
/// **Formula.** For exponential branches with rates rᵢ, by inclusion–exclusion over the
/// non-empty subsets S: E\[max\] = Σ (−1)^{|S|+1}/r_S and E\[max²\] = Σ (−1)^{|S|+1}·2/r_S²,
/// r_S = Σ_{i∈S} rᵢ (up to 12 branches). Otherwise E\[max\] = ∫₀^∞ (1 − Π Fᵢ(t)) dt and
/// E\[max²\] = ∫₀^∞ 2t(1 − Π Fᵢ(t)) dt, integrated numerically (adaptive Simpson, cut at each
/// constant branch's value), with each branch's [fitted](Time::fit) distribution.
///
/// **Assumptions.** The branches are independent. Exact for exponential and constant
/// branches; otherwise each branch is the gamma distribution with its mean and variance (an
/// approximation: a branch's true distribution is a sum of its steps).
///
/// **Example.** Exponential branches with means 8, 4 and 2 ms: E\[max\] = 8 + 4 + 2 − 8/3 −
/// 8/5 − 4/3 + 8/7 = 9.543 ms, where the largest mean is 8 ms.
pub(super) fn max_of(branches: &[Time]) -> Time {
    // Branches that take no time do not change the maximum.
    let busy: Vec<Time> = branches
        .iter()
        .copied()
        .filter(|b| b.fit() != Fit::Const(0.0))
        .collect();
    match busy.as_slice() {
        [] => return Time::ZERO,
        [only] => return *only,
        _ => {}
    }
    let fits: Vec<Fit> = busy.iter().map(|b| b.fit()).collect();
    if fits.iter().any(|f| f.horizon().is_infinite()) {
        return Time {
            mean: f64::INFINITY,
            var: f64::INFINITY,
        };
    }
    let rates: Option<Vec<f64>> = fits.iter().map(|f| f.exponential_rate()).collect();
    if let Some(rates) = rates.filter(|r| r.len() <= 12) {
        let (mut m1, mut m2) = (0.0, 0.0);
        for subset in 1u32..(1 << rates.len()) {
            let r: f64 = (0..rates.len())
                .filter(|i| subset & (1 << i) != 0)
                .map(|i| rates[i])
                .sum();
            let sign = if subset.count_ones() % 2 == 1 {
                1.0
            } else {
                -1.0
            };
            m1 += sign / r;
            m2 += sign * 2.0 / (r * r);
        }
        return Time::from_moments(m1, m2);
    }
    let survival = |t: f64| 1.0 - fits.iter().map(|f| f.cdf(t)).product::<f64>();
    // Pieces between the constant branches' values, where the integrand jumps.
    let mut cuts: Vec<f64> = fits
        .iter()
        .filter_map(|f| match f {
            Fit::Const(c) => Some(*c),
            Fit::Gamma { .. } => None,
        })
        .collect();
    let end = fits.iter().map(|f| f.horizon()).fold(0.0, f64::max);
    cuts.push(0.0);
    cuts.push(end);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let (mut m1, mut m2) = (0.0, 0.0);
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b <= a {
            continue;
        }
        let tol = 1e-12 * end;
        m1 += simpson(&survival, a, b, tol);
        m2 += simpson(&|t: f64| 2.0 * t * survival(t), a, b, tol * end);
    }
    Time::from_moments(m1, m2)
}

/// ∫ₐᵇ f by adaptive Simpson to an absolute tolerance `tol` (depth at most 50).
fn simpson(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> f64 {
    fn step(
        f: &dyn Fn(f64) -> f64,
        (a, fa): (f64, f64),
        (m, fm): (f64, f64),
        (b, fb): (f64, f64),
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let (lm, rm) = (0.5 * (a + m), 0.5 * (m + b));
        let (flm, frm) = (f(lm), f(rm));
        let left = (m - a) / 6.0 * (fa + 4.0 * flm + fm);
        let right = (b - m) / 6.0 * (fm + 4.0 * frm + fb);
        let delta = left + right - whole;
        if depth == 0 || delta.abs() <= 15.0 * tol {
            return left + right + delta / 15.0;
        }
        step(f, (a, fa), (lm, flm), (m, fm), left, tol / 2.0, depth - 1)
            + step(f, (m, fm), (rm, frm), (b, fb), right, tol / 2.0, depth - 1)
    }
    // Start from 16 panels so that a narrow feature is not missed by the first estimate.
    let n = 16;
    let h = (b - a) / f64::from(n);
    (0..n)
        .map(|i| {
            let x0 = a + h * f64::from(i);
            let x2 = if i + 1 == n { b } else { x0 + h };
            let x1 = 0.5 * (x0 + x2);
            let (f0, f1, f2) = (f(x0), f(x1), f(x2));
            let whole = (x2 - x0) / 6.0 * (f0 + 4.0 * f1 + f2);
            step(
                f,
                (x0, f0),
                (x1, f1),
                (x2, f2),
                whole,
                tol / f64::from(n),
                50,
            )
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(mean: f64) -> Time {
        Time::with_scv(mean, 1.0)
    }

    #[test]
    fn the_slowest_of_three_exponential_branches() {
        let m = max_of(&[exp(8.0), exp(4.0), exp(2.0)]);
        let expected = 8.0 + 4.0 + 2.0 - 8.0 / 3.0 - 8.0 / 5.0 - 4.0 / 3.0 + 8.0 / 7.0;
        assert!((m.mean - expected).abs() < 1e-12, "{m:?}");
        assert!((m.mean - 9.542_857).abs() < 1e-6);
        // E[max²] of two Exp(1): 2 + 2 − 2/4 = 3.5, so Var = 3.5 − 1.5² = 1.25.
        let m = max_of(&[exp(1.0), exp(1.0)]);
        assert!(
            (m.mean - 1.5).abs() < 1e-12 && (m.var - 1.25).abs() < 1e-12,
            "{m:?}"
        );
    }

    #[test]
    fn numeric_integration_agrees_with_the_closed_forms() {
        // Thirteen exponential branches go through the integral (the closed form stops at
        // twelve): E[max] of n Exp(1) is the harmonic number Hₙ, Var = Σ 1/k².
        let m = max_of(&[exp(1.0); 13]);
        let h: f64 = (1..=13).map(|k| 1.0 / f64::from(k)).sum();
        let v: f64 = (1..=13).map(|k| 1.0 / f64::from(k * k)).sum();
        assert!((m.mean - h).abs() < 1e-9, "{m:?} vs {h}");
        assert!((m.var - v).abs() < 1e-8, "{m:?} vs {v}");
        // A constant 3 and an Exp(1): E[max] = 3 + E[(X − 3)⁺] = 3 + e⁻³.
        let m = max_of(&[Time::with_scv(3.0, 0.0), exp(1.0)]);
        assert!((m.mean - (3.0 + (-3.0f64).exp())).abs() < 1e-9, "{m:?}");
        // Constants: the largest.
        let m = max_of(&[Time::with_scv(3.0, 0.0), Time::with_scv(5.0, 0.0)]);
        assert!((m.mean - 5.0).abs() < 1e-9 && m.var.abs() < 1e-6, "{m:?}");
        // Two Erlang-2 (gamma shape 2, mean 2): E[max] = 2·E[X] − E[min], with
        // E[min] = ∫ (1 + t)² e^{−2t} dt = 1/2 + 2/4 + 2/8 = 1.25: E[max] = 2.75.
        let m = max_of(&[Time::with_scv(2.0, 0.5), Time::with_scv(2.0, 0.5)]);
        assert!((m.mean - 2.75).abs() < 1e-8, "{m:?}");
    }

    #[test]
    fn empty_and_single_branches() {
        assert_eq!(max_of(&[]), Time::ZERO);
        assert_eq!(max_of(&[Time::ZERO, exp(2.0)]), exp(2.0));
        assert_eq!(max_of(&[Time::ZERO, Time::ZERO]), Time::ZERO);
    }

    #[test]
    fn tails_of_the_fits() {
        // Exponential: e^{−t/m}; constant: a step; gamma shape 2 (Erlang-2, rate 1):
        // P(X > t) = (1 + t)e^{−t}.
        assert!((exp(2.0).tail(4.0) - (-2.0f64).exp()).abs() < 1e-15);
        assert_eq!(Time::with_scv(3.0, 0.0).tail(2.9), 1.0);
        assert_eq!(Time::with_scv(3.0, 0.0).tail(3.0), 0.0);
        let e2 = Time::with_scv(2.0, 0.5);
        for t in [0.5f64, 2.0, 10.0, 40.0] {
            let exact = (1.0 + t) * (-t).exp();
            assert!((e2.tail(t) / exact - 1.0).abs() < 1e-9, "t = {t}");
        }
    }
}
