//! Closed-form queueing results used by the analytic shadow and by the validation tests.
//!
//! Notation: arrival rate λ, service rate μ (mean service time 1/μ), c servers, offered load
//! a = λ/μ \[Erlangs\], utilization ρ = a/c. Formulas, test vectors and sources:
//! docs/semantics.md, *Queueing formulas* (Kleinrock, *Queueing Systems* vol. 1; Gross et al.,
//! *Fundamentals of Queueing Theory*).

/// Erlang B: probability that all `c` servers are busy in an M/M/c/c loss system.
///
/// Formula: the stable recursion B(0,a) = 1, B(k,a) = a·B(k−1,a) / (k + a·B(k−1,a)).
/// Assumptions: Poisson arrivals, no waiting room; insensitive to the service distribution.
/// Example: `erlang_b(5, 3.0)` ≈ 0.110054; `erlang_b(100, 80.0)` ≈ 0.004.
///
/// Cost is bounded whatever `c` is (up to `u32::MAX`): see [`erlang_b_steps`].
pub fn erlang_b(c: u32, a: f64) -> f64 {
    erlang_b_steps(c, a).0
}

/// Above this load \[Erlangs\] with more than [`ERLANG_FORWARD_MAX`] servers, the recursion
/// starts near k = a instead of k = 0 (see [`erlang_b_steps`]).
const ERLANG_FORWARD_MAX: f64 = 1e5;

/// Above this load \[Erlangs\] (and [`ERLANG_FORWARD_MAX`] servers), Erlang B uses its
/// normal approximation: the exact sums would take about 50·√a steps.
const ERLANG_NORMAL_FROM: f64 = 1e9;

/// Erlang B and the number of loop steps it took to compute it: at most about
/// 2·min(a, 10⁵) + 50·√min(a, 10⁹) + 10³ whatever `c` is (≈ 1.6·10⁶ at worst).
///
/// Three regimes, chosen so that every value the plain recursion gave before stays
/// bit-for-bit the same wherever it was affordable:
///
/// * **c ≤ 10⁵ or a ≤ 10⁵**: the recursion from k = 0, stopped as soon as B is exactly 0
///   (it then stays 0, so stopping changes nothing). Past k ≈ a, B falls faster than
///   geometrically; it reaches the smallest subnormal number within ≈ a + 40·√a steps and
///   rounds to 0 once a/k < ½, so it stops by k ≈ 2a.
/// * **c, a > 10⁵, a ≤ 10⁹**: 1/B(k₀) for k₀ = min(c, ⌊a⌋) from the sum
///   1/B(k₀) = Σⱼ Πᵢ₌₀^{j−1} (k₀ − i)/a, whose terms fall like e^{−j²/2a} (k₀ ≤ a), stopped
///   when a term is below 10⁻¹⁸ of the sum (≈ 9·√a terms); then the recursion from k₀ to c,
///   stopped when B leaves the normal range (below 2.2·10⁻³⁰⁸, counted as 0: ≈ 40·√a
///   steps).
/// * **c > 10⁵, a > 10⁹**: B ≈ φ(x)/(√a·Φ(x)), x = (c − a)/√a, the Poisson distribution's
///   normal limit (B = Poisson pmf(c) / cdf(c)); relative error of order 1/√a < 10⁻⁴ in the
///   body. For c ≪ a it tends to 1 − c/a, the exact limit.
///
/// A load that is not a number gives NaN, a load ≤ 0 gives 0 (1 with no servers: B(0, a) = 1
/// for any a) and an infinite load gives 1.
pub fn erlang_b_steps(c: u32, a: f64) -> (f64, u64) {
    if a.is_nan() {
        return (f64::NAN, 0);
    }
    if c == 0 {
        return (1.0, 0);
    }
    if a <= 0.0 {
        return (0.0, 0);
    }
    if a == f64::INFINITY {
        return (1.0, 0);
    }
    let servers = f64::from(c);
    if servers <= ERLANG_FORWARD_MAX || a <= ERLANG_FORWARD_MAX {
        return erlang_b_forward(1, 1.0, c, a, 0.0);
    }
    if a > ERLANG_NORMAL_FROM {
        return (erlang_b_normal(servers, a), 1);
    }
    // a > 10⁵ here, so k₀ ≥ 10⁵ and the terms below stay in range.
    let k0 = servers.min(a.floor());
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut steps = 0u64;
    let mut i = 0.0;
    while i < k0 {
        term *= (k0 - i) / a;
        sum += term;
        steps += 1;
        if term < 1e-18 * sum {
            break;
        }
        i += 1.0;
    }
    let (b, more) = erlang_b_forward(k0 as u32 + 1, 1.0 / sum, c, a, f64::MIN_POSITIVE);
    (b, steps + more)
}

/// The recursion B(k) = a·B(k−1)/(k + a·B(k−1)) for k = `from` ..= `c`, starting from
/// B(from − 1) = `b`. Stops early, returning 0, once B is at or below `zero` (B only falls
/// past k = a, so it would stay there): with `zero` = 0 this changes no result.
fn erlang_b_forward(from: u32, mut b: f64, c: u32, a: f64, zero: f64) -> (f64, u64) {
    let mut steps = 0u64;
    for k in from..=c {
        b = a * b / (f64::from(k) + a * b);
        steps += 1;
        if b <= zero {
            return (0.0, steps);
        }
    }
    (b, steps)
}

/// B(c, a) ≈ φ(x) / (√a·Φ(x)) with x = (c − a)/√a: the Poisson(a) pmf at c over its cdf at c,
/// both from the normal limit.
fn erlang_b_normal(c: f64, a: f64) -> f64 {
    let x = (c - a) / a.sqrt();
    (normal_hazard_below(x) / a.sqrt()).min(1.0)
}

/// φ(x)/Φ(x) for the standard normal distribution, computed without underflow for any x.
fn normal_hazard_below(x: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    if x < -3.0 {
        // Φ(x) = φ(x)·R(−x) with Mills' ratio R(z) = 1/(z + 1/(z + 2/(z + 3/(z + …))))
        // (Laplace's continued fraction), so the ratio is 1/R(−x): φ cancels.
        1.0 / mills_ratio(-x)
    } else {
        let phi = INV_SQRT_2PI * (-0.5 * x * x).exp();
        let cdf = if x > 3.0 {
            1.0 - phi * mills_ratio(x)
        } else {
            0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
        };
        phi / cdf
    }
}

/// Mills' ratio (1 − Φ(z))/φ(z) for z ≥ 3, from Laplace's continued fraction evaluated from
/// a fixed depth (200 levels: converged to rounding for z ≥ 3).
fn mills_ratio(z: f64) -> f64 {
    let mut f = z;
    for k in (1..=200).rev() {
        f = z + f64::from(k) / f;
    }
    1.0 / f
}

/// The error function for |x| ≤ 2.2 (x/√2 for |x| ≤ 3) from its Maclaurin series
/// erf(x) = 2/√π · Σ (−1)ⁿ x^{2n+1} / (n!(2n+1)), summed until the terms are negligible.
fn erf(x: f64) -> f64 {
    let mut term = x; // (−1)ⁿ x^{2n+1} / n!
    let mut sum = x;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs().max(1e-300) {
        n += 1.0;
        term *= -x * x / n;
        sum += term / (2.0 * n + 1.0);
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

/// Erlang C: probability that an arrival waits in an M/M/c queue (needs ρ < 1).
///
/// Formula: C = B / (1 − ρ(1 − B)) with B = Erlang B(c, a).
/// Example: `erlang_c(2, 1.5)` ≈ 0.642857. Returns 1 when ρ ≥ 1.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return 1.0;
    }
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// Steady-state measures of a queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueMeasures {
    /// Mean wait before service.
    pub wq: f64,
    /// Mean time in the system (wait + service).
    pub w: f64,
    /// Mean number waiting.
    pub lq: f64,
    /// Mean number in the system.
    pub l: f64,
    /// Probability that an arrival is blocked (0 without a capacity limit).
    pub p_block: f64,
    /// Probability that an admitted arrival has to wait.
    pub p_wait: f64,
}

/// M/M/c with unbounded queue. `None` when unstable (ρ ≥ 1).
///
/// Formula: Wq = C(c,a)/(cμ − λ), W = Wq + 1/μ, Lq = λWq, L = λW.
/// Example: c = 2, λ = 1.5, μ = 1 → Wq = 1.285714, W = 2.285714.
pub fn mmc(c: u32, lambda: f64, mu: f64) -> Option<QueueMeasures> {
    let a = lambda / mu;
    if a / f64::from(c) >= 1.0 || lambda <= 0.0 || mu <= 0.0 {
        return None;
    }
    let p_wait = erlang_c(c, a);
    let wq = p_wait / (f64::from(c) * mu - lambda);
    let w = wq + 1.0 / mu;
    Some(QueueMeasures {
        wq,
        w,
        lq: lambda * wq,
        l: lambda * w,
        p_block: 0.0,
        p_wait,
    })
}

/// M/M/c/K: c servers, room for K requests in all (K ≥ c), arrivals beyond K are blocked.
/// Stable for any load.
///
/// Formula: P_n = P₀aⁿ/n! (n ≤ c), P₀aⁿ/(c!·c^{n−c}) (c < n ≤ K); blocking = P_K (PASTA);
/// λ_eff = λ(1 − P_K); W = L/λ_eff.
/// Example: c = 2, K = 4, λ = 1.5, μ = 1 → P_K = 0.124043, W = 1.314685.
pub fn mmck(c: u32, k: u32, lambda: f64, mu: f64) -> QueueMeasures {
    let a = lambda / mu;
    let k = k.max(c);
    // Unnormalised probabilities, built iteratively to avoid factorial overflow.
    let mut p = Vec::with_capacity(k as usize + 1);
    let mut term = 1.0;
    p.push(term);
    for n in 1..=k {
        term *= a / f64::from(n.min(c));
        p.push(term);
    }
    let mut total: f64 = p.iter().sum();
    if !total.is_finite() && a.is_finite() {
        // aⁿ/n! itself overflows (a ≳ 700 with as many servers): the same terms relative to
        // the largest, from their logarithms.
        let mut log = 0.0;
        for (n, x) in p.iter_mut().enumerate().skip(1) {
            log += (a / f64::from((n as u32).min(c))).ln();
            *x = log;
        }
        let top = p.iter().copied().fold(0.0, f64::max);
        for x in &mut p {
            *x = (*x - top).exp();
        }
        total = p.iter().sum();
    }
    for x in &mut p {
        *x /= total;
    }
    let l: f64 = p.iter().enumerate().map(|(n, x)| n as f64 * x).sum();
    let lq: f64 = p
        .iter()
        .enumerate()
        .skip(c as usize)
        .map(|(n, x)| (n - c as usize) as f64 * x)
        .sum();
    let p_block = p[k as usize];
    let lambda_eff = lambda * (1.0 - p_block);
    let p_wait_all: f64 = p[c as usize..k as usize].iter().sum();
    QueueMeasures {
        wq: lq / lambda_eff,
        w: l / lambda_eff,
        lq,
        l,
        p_block,
        p_wait: if p_block < 1.0 {
            p_wait_all / (1.0 - p_block)
        } else {
            1.0
        },
    }
}

/// The interarrival times of a renewal arrival process, known by their Laplace–Stieltjes
/// transform Â(s) = E\[e^{−sA}\] (rates per second, times in seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Interarrivals {
    /// Exponential gaps at `rate` (a Poisson process): Â(s) = λ/(λ + s).
    Poisson {
        /// Arrivals per second.
        rate: f64,
    },
    /// Erlang-k gaps: every k-th arrival of a Poisson process of rate `rate`, what each of k
    /// replicas receives when a balancer deals a Poisson stream out in turn:
    /// Â(s) = (λ/(λ + s))^k.
    Erlang {
        /// Phases per gap (the number of replicas dealt to in turn).
        k: u32,
        /// Rate of the Poisson process dealt out \[1/s\].
        rate: f64,
    },
    /// Equal gaps of `gap` seconds: Â(s) = e^{−s·gap}.
    Deterministic {
        /// The gap \[s\].
        gap: f64,
    },
    /// Evenly spaced arrivals `gap` apart, each kept independently with probability `keep`
    /// (what one of n replicas receives when a balancer picks a replica at random for each
    /// arrival, keep = 1/n): a geometric number of gaps, Â(s) = p·e^{−s·gap} / (1 − (1 −
    /// p)·e^{−s·gap}).
    ThinnedDeterministic {
        /// The gap of the whole stream \[s\].
        gap: f64,
        /// Probability that an arrival is kept.
        keep: f64,
    },
}

impl Interarrivals {
    /// The Laplace–Stieltjes transform Â(s) of the gap distribution.
    pub fn lst(&self, s: f64) -> f64 {
        match *self {
            Interarrivals::Poisson { rate } => rate / (rate + s),
            Interarrivals::Erlang { k, rate } => (rate / (rate + s)).powi(k as i32),
            Interarrivals::Deterministic { gap } => (-s * gap).exp(),
            Interarrivals::ThinnedDeterministic { gap, keep } => {
                let e = (-s * gap).exp();
                keep * e / (1.0 - (1.0 - keep) * e)
            }
        }
    }

    /// Arrivals per second: 1 / mean gap.
    pub fn rate(&self) -> f64 {
        match *self {
            Interarrivals::Poisson { rate } => rate,
            Interarrivals::Erlang { k, rate } => rate / f64::from(k),
            Interarrivals::Deterministic { gap } => 1.0 / gap,
            Interarrivals::ThinnedDeterministic { gap, keep } => keep / gap,
        }
    }

    /// The usual Kendall letter of the arrival process: `M`, `E2`, `D` or `GI`.
    pub fn kendall(&self) -> String {
        match *self {
            Interarrivals::Poisson { .. } => "M".into(),
            Interarrivals::Erlang { k, .. } => format!("E{k}"),
            Interarrivals::Deterministic { .. } => "D".into(),
            Interarrivals::ThinnedDeterministic { .. } => "GI".into(),
        }
    }
}

/// The root σ in (0, 1) of σ = Â(cμ(1 − σ)), by bisection (`None` when ρ = λ/(cμ) ≥ 1).
///
/// f(σ) = Â(cμ(1 − σ)) − σ is positive at 0, zero at 1, and negative just below 1 when
/// ρ < 1 (its slope at 1 is 1/ρ − 1 > 0); σ is its only root in (0, 1).
pub fn gim_sigma(c: u32, arrivals: &Interarrivals, mu: f64) -> Option<f64> {
    let rho = arrivals.rate() / (f64::from(c) * mu);
    if !(rho > 0.0 && rho < 1.0) {
        return None;
    }
    let f = |x: f64| arrivals.lst(f64::from(c) * mu * (1.0 - x)) - x;
    // A point below 1 where f < 0: halve the distance to 1 until there is one.
    let mut d = 0.5;
    let mut hi = loop {
        if f(1.0 - d) < 0.0 {
            break 1.0 - d;
        }
        d /= 2.0;
        if d < 1e-15 {
            return None;
        }
    };
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= f64::EPSILON * hi {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

/// GI/M/c: renewal arrivals, c exponential servers, unbounded FCFS queue. `None` when
/// unstable (ρ ≥ 1) or when the sums lose their precision (very many servers).
///
/// Formula (Takács; Kleinrock vol. 1, ch. 6, the queue G/M/m; Gross et al., G/M/c): σ is the root in
/// (0, 1) of σ = Â(cμ(1 − σ)) ([`gim_sigma`]); with aⱼ = Â(jμ) and Cⱼ = Πᵢ₌₁ʲ aᵢ/(1 − aᵢ),
/// J = \[1/(1 − σ) + Σⱼ₌₁ᶜ (c choose j)/(Cⱼ(1 − aⱼ)) · (c(1 − aⱼ) − j)/(c(1 − σ) − j)\]⁻¹;
/// then P(wait) = J/(1 − σ) and Wq = J/(cμ(1 − σ)²). Where c(1 − σ) = j the j-th quotient
/// is 0/0 and takes its limit, 1 + cμ·Â′(jμ).
///
/// Assumptions: i.i.d. interarrival times (a renewal process), exponential service.
/// Example: E2/M/1 at ρ = 0.8 (a Poisson stream of 1.6/ms dealt to two one-worker replicas
/// in turn, μ = 1/ms): σ = 0.739853, W = 1/(μ(1 − σ)) = 3.843980 ms; D/M/1 at ρ = 0.8:
/// σ = 0.628630, W = 2.692731 ms. With Poisson arrivals it is M/M/c: P(wait) is Erlang C.
pub fn gimc(c: u32, arrivals: &Interarrivals, mu: f64) -> Option<QueueMeasures> {
    let sigma = gim_sigma(c, arrivals, mu)?;
    let lambda = arrivals.rate();
    let cf = f64::from(c);
    let u_root = cf * mu * (1.0 - sigma);
    let mut total = 1.0 / (1.0 - sigma);
    // (c choose j) / Cⱼ, built step by step.
    let mut ratio = 1.0;
    for j in 1..=c {
        let jf = f64::from(j);
        let a = arrivals.lst(jf * mu);
        ratio *= (cf - jf + 1.0) / jf * (1.0 - a) / a;
        let den = cf * (1.0 - sigma) - jf;
        let quotient = if den.abs() < 1e-6 {
            let u = 0.5 * (jf * mu + u_root);
            let h = 1e-6 * u;
            let slope = (arrivals.lst(u + h) - arrivals.lst(u - h)) / (2.0 * h);
            1.0 + cf * mu * slope
        } else {
            (cf * (1.0 - a) - jf) / den
        };
        total += ratio / (1.0 - a) * quotient;
    }
    let j = 1.0 / total;
    let p_wait = j / (1.0 - sigma);
    let wq = j / (cf * mu * (1.0 - sigma).powi(2));
    if !(p_wait.is_finite() && (0.0..=1.0).contains(&p_wait) && wq.is_finite() && wq >= 0.0) {
        return None;
    }
    let w = wq + 1.0 / mu;
    Some(QueueMeasures {
        wq,
        w,
        lq: lambda * wq,
        l: lambda * w,
        p_block: 0.0,
        p_wait,
    })
}

/// M/G/1 mean wait (Pollaczek–Khinchine): Wq = ρ(1 + C_s²)/(2(1 − ρ))·E\[S\].
/// `scv` is C_s² = Var(S)/E\[S\]² (0 for M/D/1, 1 for M/M/1). `None` when ρ ≥ 1.
///
/// Example: M/D/1 with λ = 0.8, E\[S\] = 1 → Wq = 2.0.
pub fn mg1_wq(lambda: f64, mean_service: f64, scv: f64) -> Option<f64> {
    let rho = lambda * mean_service;
    (rho < 1.0).then(|| rho * (1.0 + scv) / (2.0 * (1.0 - rho)) * mean_service)
}

/// Probability that an M/M/1 sojourn exceeds `t`: e^{−(μ−λ)t} (FCFS).
///
/// Example: λ = 0.8, μ = 1, t = 10 → e^{−2} ≈ 0.1353.
pub fn mm1_sojourn_tail(lambda: f64, mu: f64, t: f64) -> f64 {
    (-(mu - lambda) * t).exp()
}

/// Availability of components in series (every one needed): Π aᵢ.
///
/// Example: five services at 0.99 → 0.95099.
pub fn series_availability(parts: &[f64]) -> f64 {
    parts.iter().product()
}

#[cfg(test)]
mod tests {
    //! The test vectors of docs/semantics.md, *Queueing formulas*.
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 5e-6, "{a} vs {b}");
    }

    #[test]
    fn erlang_vectors() {
        close(erlang_b(5, 3.0), 0.110054);
        close(erlang_b(10, 8.0), 0.121661);
        close(erlang_c(2, 1.5), 0.642857);
        close(erlang_c(10, 8.0), 0.409180);
    }

    fn close_rel(a: f64, b: f64, rel: f64) {
        assert!(
            (a / b - 1.0).abs() < rel,
            "{a} vs {b} (relative tolerance {rel})"
        );
    }

    /// The plain recursion from k = 0 to c, as `erlang_b` was before it had a cost bound.
    fn erlang_b_plain(c: u32, a: f64) -> f64 {
        let mut b = 1.0;
        for k in 1..=c {
            b = a * b / (f64::from(k) + a * b);
        }
        b
    }

    #[test]
    fn erlang_b_published_value() {
        // Erlang B tables: 100 trunks offered 80 Erlangs block 0.4 % of calls.
        close(erlang_b(100, 80.0), 0.003992);
        assert_eq!(erlang_b(100, 80.0), erlang_b_plain(100, 80.0));
    }

    #[test]
    fn erlang_b_is_bit_for_bit_the_recursion_where_that_is_affordable() {
        for (c, a) in [
            (1, 0.5),
            (5, 3.0),
            (10, 8.0),
            (1_000, 999.5),
            (20_000, 10.0),
            (100_000, 99_000.0),
            (200_000, 50_000.0),
            (300_000, 0.0),
        ] {
            assert_eq!(
                erlang_b(c, a).to_bits(),
                erlang_b_plain(c, a).to_bits(),
                "c = {c}, a = {a}"
            );
        }
    }

    #[test]
    fn erlang_b_for_many_servers_against_high_precision_values() {
        // B = Poisson pmf(c) / cdf(c), computed with 40-digit arithmetic (mpmath's
        // regularized incomplete gamma function).
        for (c, a, exact) in [
            (1_000_000, 1e6, 7.974_603_068_555_61e-4),
            (1_002_000, 1e6, 5.526_625_819_086_79e-5),
            (900_000, 1e6, 0.100_008_998_200_863),
            (1_000_000_000, 1e9, 2.523_090_081_205_64e-5),
            (1_000_100_000, 1e9, 8.508_018_278_237_15e-8),
        ] {
            close_rel(erlang_b(c, a), exact, 1e-9);
        }
        // The normal limit, beyond 10⁹ Erlangs.
        close_rel(erlang_b(2_000_000_000, 3e9), 0.333_333_334, 1e-6);
        close_rel(
            erlang_b(u32::MAX, 4_294_770_687.0),
            6.770_673_389_759_09e-8,
            1e-3,
        );
    }

    #[test]
    fn erlang_b_normal_limit_agrees_with_the_exact_sum_where_they_meet() {
        let a = ERLANG_NORMAL_FROM;
        for x in [-30.0, -3.0, -1.0, 0.0, 1.0, 3.0] {
            let c = (a + x * a.sqrt()).round();
            let exact = erlang_b_steps(c as u32, a).0;
            close_rel(erlang_b_normal(c, a), exact, 2e-4);
        }
    }

    #[test]
    fn erlang_b_cost_is_bounded_for_any_number_of_servers() {
        // c = u32::MAX: the plain recursion took 4.3·10⁹ steps (≈ 35 s) here.
        let (b, steps) = erlang_b_steps(u32::MAX, 0.1);
        assert_eq!(b, 0.0);
        assert!(steps < 200, "{steps} steps");
        for a in [
            1.0,
            1e3,
            1e5,
            1e5 + 1.0,
            1e7,
            1e9,
            1e9 + 1.0,
            1e12,
            f64::MAX,
        ] {
            let (b, steps) = erlang_b_steps(u32::MAX, a);
            assert!((0.0..=1.0).contains(&b), "a = {a}: B = {b}");
            let bound =
                2.0 * a.min(ERLANG_FORWARD_MAX) + 50.0 * a.min(ERLANG_NORMAL_FROM).sqrt() + 1e3;
            assert!(steps as f64 <= bound, "a = {a}: {steps} steps");
        }
        // Degenerate loads.
        assert_eq!(erlang_b(u32::MAX, 0.0), 0.0);
        assert_eq!(erlang_b(u32::MAX, f64::INFINITY), 1.0);
        assert!(erlang_b(u32::MAX, f64::NAN).is_nan());
        assert_eq!(erlang_b(0, 5.0), 1.0);
        // Erlang C on top of it returns as quickly, and P(wait) is 0 with so many servers.
        assert_eq!(erlang_c(u32::MAX, 0.1), 0.0);
    }

    #[test]
    fn normal_hazard_against_high_precision_values() {
        // φ(x)/Φ(x) from 30-digit arithmetic (mpmath's npdf / ncdf), to 15 digits, on both sides of the
        // switches at ±3.
        for (x, exact) in [
            (-40.0, 40.024_968_847_207_3),
            (-3.5, 3.751_391_264_857_70),
            (-3.0, 3.283_098_654_930_44),
            (-1.0, 1.525_135_276_160_98),
            (0.0, 0.797_884_560_802_865),
            (1.0, 0.287_599_970_939_178),
            (2.9, 5.963_659_494_980_55e-3),
            (3.1, 3.269_983_102_356_93e-3),
            (8.0, 5.052_271_083_536_90e-15),
        ] {
            close_rel(normal_hazard_below(x), exact, 1e-12);
        }
    }

    #[test]
    fn mmc_vectors() {
        let m = mmc(2, 1.5, 1.0).unwrap();
        close(m.wq, 1.285714);
        close(m.lq, 1.928571);
        close(m.w, 2.285714);
        close(m.l, 3.428571);
        let m = mmc(10, 8.0, 1.0).unwrap();
        close(m.wq, 0.204590);
        close(m.w, 1.204590);
        let m = mmc(1, 0.8, 1.0).unwrap();
        close(m.l, 4.0);
        close(m.w, 5.0);
        close(m.wq, 4.0);
        assert!(mmc(1, 1.0, 1.0).is_none());
    }

    #[test]
    fn mmck_vectors() {
        let m = mmck(1, 5, 0.8, 1.0);
        close(m.p_block, 0.088819);
        close(m.l, 1.868332);
        close(0.8 * (1.0 - m.p_block), 0.728944);
        close(m.w, 2.563065);
        let m = mmck(2, 4, 1.5, 1.0);
        close(m.p_block, 0.124043);
        close(m.l, 1.727412);
        close(m.lq, 0.413476);
        close(m.w, 1.314685);
        close(m.wq, 0.314685);
        // K = c is Erlang B.
        close(mmck(5, 5, 3.0, 1.0).p_block, erlang_b(5, 3.0));
    }

    #[test]
    fn mmck_with_a_load_whose_terms_overflow() {
        // a = 10⁶ Erlangs on c = 10⁶ servers with room for K = 2c: aⁿ/n! overflows f64, which
        // once made every measure NaN. With ρ = 1 the tail beyond c is flat, so
        // P_K = 1/(1/B(c, a) + K − c) and Lq = P_K·(K − c)(K − c + 1)/2.
        let (c, k, a) = (1_000_000u32, 2_000_000u32, 1e6);
        let m = mmck(c, k, a * 100.0, 100.0);
        for v in [m.wq, m.w, m.lq, m.l, m.p_block, m.p_wait] {
            assert!(v.is_finite() && v >= 0.0, "{m:?}");
        }
        let tail = f64::from(k - c);
        let p_k = 1.0 / (1.0 / erlang_b(c, a) + tail);
        close_rel(m.p_block, p_k, 1e-6);
        close_rel(m.lq, p_k * tail * (tail + 1.0) / 2.0, 1e-6);
        // Waiting: every state from c to K − 1, i.e. (K − c)·P_K of arrivals, given admission.
        close_rel(m.p_wait, tail * p_k / (1.0 - p_k), 1e-6);
    }

    #[test]
    fn gimc_with_poisson_arrivals_is_erlang_c() {
        // Including the loads where c(1 − σ) is a whole number (the 0/0 quotient).
        for c in [1, 2, 3, 5, 10, 20, 40, 64, 100, 300] {
            for rho in [0.05, 0.3, 0.5, 0.7, 0.9, 0.99] {
                let lambda = rho * f64::from(c);
                let g = gimc(c, &Interarrivals::Poisson { rate: lambda }, 1.0).unwrap();
                let m = mmc(c, lambda, 1.0).unwrap();
                close_rel(g.p_wait, m.p_wait, 1e-7);
                close_rel(g.wq, m.wq, 1e-7);
            }
        }
        assert!(gimc(2, &Interarrivals::Poisson { rate: 2.0 }, 1.0).is_none());
    }

    #[test]
    fn gim1_vectors() {
        // E2/M/1 and D/M/1 at ρ = 0.8, μ = 1: σ solves σ(2.6 − σ)² = 2.56 and
        // σ = e^{−(1 − σ)/0.8}; W = 1/(1 − σ).
        let e2 = Interarrivals::Erlang { k: 2, rate: 1.6 };
        assert!((e2.rate() - 0.8).abs() < 1e-15);
        let s = gim_sigma(1, &e2, 1.0).unwrap();
        close(s * (2.6 - s).powi(2), 2.56);
        let m = gimc(1, &e2, 1.0).unwrap();
        close(m.w, 3.843980);
        close(m.p_wait, s);
        let d = Interarrivals::Deterministic { gap: 1.25 };
        let s = gim_sigma(1, &d, 1.0).unwrap();
        close(s, (-(1.0 - s) / 0.8).exp());
        close(gimc(1, &d, 1.0).unwrap().w, 2.692731);
        // Thinning evenly spaced arrivals by a coin with p = 1 changes nothing.
        let t = Interarrivals::ThinnedDeterministic {
            gap: 1.25,
            keep: 1.0,
        };
        close(gimc(1, &t, 1.0).unwrap().w, 2.692731);
        // With p = 1/2 the gaps are geometric multiples of 0.625: mean 1.25, more variable
        // than D but less than M.
        let t = Interarrivals::ThinnedDeterministic {
            gap: 0.625,
            keep: 0.5,
        };
        let w = gimc(1, &t, 1.0).unwrap().w;
        assert!(w > 2.692731 && w < 5.0, "{w}");
    }

    #[test]
    fn mg1_and_tail_vectors() {
        close(mg1_wq(0.8, 1.0, 0.0).unwrap(), 2.0);
        close(mg1_wq(0.8, 1.0, 0.5).unwrap(), 3.0);
        close(mg1_wq(0.8, 1.0, 1.0).unwrap(), 4.0);
        close(mm1_sojourn_tail(0.8, 1.0, 10.0), 0.135335);
        close(series_availability(&[0.99; 5]), 0.950990);
    }
}
