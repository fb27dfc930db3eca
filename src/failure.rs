//! Failure processes: each replica of a service with `failures` alternates between up for a
//! time to failure and down for a time to repair, independently of the others.
//!
//! Per replica, the long-run fraction of time up is A = MTTF/(MTTF + MTTR) whatever the
//! distributions (docs/semantics.md, *Availability*), and a service is up (time-based) when at
//! least one replica is: 1 − (1 − A)ⁿ for n independent replicas. A replica that is down
//! behaves as if crashed. [`Renewal`] samples the life of one replica; the statistical tests
//! of it run on compiled processes in [`crate::model::faults`].

use crate::dist::Dist;
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};
use rand::Rng;
use rand_distr::{Distribution, Gamma, LogNormal};

/// A compiled failure process: the times to failure and to repair of each replica.
#[derive(Clone, Debug)]
pub struct FailureProcess {
    /// Time a replica stays up after a repair (or from the start); mean > 0.
    pub time_to_failure: Dist,
    /// Time a replica stays down after a failure; mean > 0.
    pub time_to_repair: Dist,
}

impl FailureProcess {
    /// Mean time to failure \[ns\].
    pub fn mttf_ns(&self) -> f64 {
        self.time_to_failure.mean_ns()
    }

    /// Mean time to repair \[ns\].
    pub fn mttr_ns(&self) -> f64 {
        self.time_to_repair.mean_ns()
    }

    /// Steady-state availability of one replica, MTTF/(MTTF + MTTR): its long-run fraction of
    /// time up, whatever the shape of the distributions (docs/semantics.md, *Availability*).
    pub fn availability(&self) -> f64 {
        let (f, r) = (self.mttf_ns(), self.mttr_ns());
        f / (f + r)
    }

    /// Steady-state probability that at least one of `replicas` independent replicas is up,
    /// 1 − (1 − A)ⁿ: the time-based availability of the service.
    pub fn any_up(&self, replicas: u32) -> f64 {
        1.0 - (1.0 - self.availability()).powi(replicas.min(i32::MAX as u32) as i32)
    }
}

/// The up/down life of one replica under a [`FailureProcess`]: an alternating renewal process
/// (up for a time to failure, down for a time to repair, and so on, all independent).
///
/// The engine keeps one per replica, each with its own random stream (e.g.
/// `rng::stream(seed, "failures", service_name, replica)`), schedules an event at
/// [`next_change`](Renewal::next_change) and calls [`advance`](Renewal::advance) there.
///
/// ```
/// use microsim::dist::Dist;
/// use microsim::failure::{FailureProcess, Renewal};
/// use microsim::time::SimTime;
/// let hour = 3600e9;
/// let process = FailureProcess {
///     time_to_failure: Dist::Exp { mean: 4.0 * hour },
///     time_to_repair: Dist::Exp { mean: hour / 20.0 },
/// };
/// let mut rng = microsim::rng::stream(1, "failures", "payment", 0);
/// let mut life = Renewal::fresh(&process, &mut rng, SimTime::ZERO);
/// assert!(life.is_up());
/// let failed_at = life.next_change();
/// assert!(!life.advance(&process, &mut rng)); // now down, until the repair
/// assert!(life.next_change() >= failed_at);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Renewal {
    up: bool,
    next: SimTime,
}

impl Renewal {
    /// A replica that is new at `now`: up, failing after a full time to failure.
    pub fn fresh(process: &FailureProcess, rng: &mut SimRng, now: SimTime) -> Renewal {
        Renewal {
            up: true,
            next: now.after(process.time_to_failure.sample(rng)),
        }
    }

    /// A replica caught at `now` in the steady state, as if it had been running forever: up
    /// with probability A = MTTF/(MTTF + MTTR), and the time to its next change drawn from the
    /// equilibrium (residual-life) distribution of the current phase. Time-based availability
    /// measured from `now` is then unbiased over any window, however short — unlike
    /// [`fresh`](Renewal::fresh) replicas, which are all up at first.
    pub fn stationary(process: &FailureProcess, rng: &mut SimRng, now: SimTime) -> Renewal {
        let up = rng.random::<f64>() < process.availability();
        let phase = if up {
            &process.time_to_failure
        } else {
            &process.time_to_repair
        };
        Renewal {
            up,
            next: now.after(residual(phase, rng)),
        }
    }

    /// Whether the replica is up now.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// When the replica next fails (if up) or is repaired (if down).
    pub fn next_change(&self) -> SimTime {
        self.next
    }

    /// Makes the change due at [`next_change`](Renewal::next_change) (fail or repair), draws
    /// the length of the new phase, and returns whether the replica is now up.
    pub fn advance(&mut self, process: &FailureProcess, rng: &mut SimRng) -> bool {
        self.up = !self.up;
        let phase = if self.up {
            &process.time_to_failure
        } else {
            &process.time_to_repair
        };
        self.next = self.next.after(phase.sample(rng));
        self.up
    }
}

/// A sample of the residual life at a random time of a renewal process with lifetimes `d`:
/// the equilibrium distribution, density (1 − F(x))/μ. It equals U·X* with U uniform on
/// \[0, 1) and X* the length-biased lifetime (density x·f(x)/μ), which has a closed form for
/// each family: Gamma(k, θ) → Gamma(k + 1, θ); LogNormal(μ, σ) → LogNormal(μ + σ², σ);
/// Uniform(a, b) → density ∝ x on \[a, b\]; a constant stays constant; an empirical sample
/// is picked with probability proportional to its value. The exponential is memoryless.
fn residual(d: &Dist, rng: &mut SimRng) -> SimDuration {
    let biased = match d {
        Dist::Zero => return SimDuration::ZERO,
        Dist::Exp { .. } => return d.sample(rng),
        Dist::Const(v) => *v as f64,
        Dist::Uniform { lo, hi } => {
            let v: f64 = rng.random();
            (lo * lo + v * (hi * hi - lo * lo)).sqrt()
        }
        Dist::LogNormal { sampler, mu, sigma } => {
            match LogNormal::new(mu + sigma * sigma, *sigma) {
                Ok(s) => s.sample(rng),
                Err(_) => sampler.sample(rng),
            }
        }
        Dist::Gamma {
            sampler,
            shape,
            scale,
        } => match Gamma::new(shape + 1.0, *scale) {
            Ok(s) => s.sample(rng),
            Err(_) => sampler.sample(rng),
        },
        Dist::Empirical(v) => {
            let total: f64 = v.iter().map(|&x| x as f64).sum();
            if total <= 0.0 {
                return SimDuration::ZERO;
            }
            let mut target = rng.random::<f64>() * total;
            let mut pick = v.last().copied().unwrap_or(0) as f64;
            for &x in v.iter() {
                if target < x as f64 {
                    pick = x as f64;
                    break;
                }
                target -= x as f64;
            }
            pick
        }
    };
    let u: f64 = rng.random();
    SimDuration((u * biased).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    /// Mean and standard error of the mean of `n` draws of `f`.
    fn mean_and_se(n: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..n {
            let x = f();
            sum += x;
            sum2 += x * x;
        }
        let mean = sum / n as f64;
        let var = (sum2 / n as f64 - mean * mean).max(0.0);
        (mean, (var / n as f64).sqrt())
    }

    #[test]
    fn residual_lives_have_the_equilibrium_mean() {
        // The residual life at a random time has mean E[X²]/(2E[X]) = μ(1 + scv)/2 (the
        // inspection paradox). 200,000 draws each; the tolerance is 5 standard errors of the
        // sample mean, estimated from the draws themselves.
        let s = 1e9;
        let dists = [
            Dist::Const(10 * 1_000_000_000),
            Dist::Exp { mean: 10.0 * s },
            Dist::Uniform {
                lo: 2.0 * s,
                hi: 10.0 * s,
            },
            Dist::log_normal(8.0 * s, 30.0 * s).unwrap(),
            Dist::gamma(10.0 * s, 0.5).unwrap(),
            Dist::Empirical(vec![1_000_000_000, 2_000_000_000, 9_000_000_000].into_boxed_slice()),
        ];
        let mut rng = stream(4, "test", "residual", 0);
        for d in &dists {
            let expected = d.mean_ns() * (1.0 + d.scv()) / 2.0;
            let (mean, se) = mean_and_se(200_000, || residual(d, &mut rng).0 as f64);
            assert!(
                (mean - expected).abs() < 5.0 * se + 1.0,
                "{d:?}: residual mean {mean} vs {expected} (se {se})"
            );
        }
    }
}
