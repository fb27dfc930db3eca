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
/// Example: `erlang_b(5, 3.0)` ≈ 0.110054.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
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
    let total: f64 = p.iter().sum();
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
    fn mg1_and_tail_vectors() {
        close(mg1_wq(0.8, 1.0, 0.0).unwrap(), 2.0);
        close(mg1_wq(0.8, 1.0, 0.5).unwrap(), 3.0);
        close(mg1_wq(0.8, 1.0, 1.0).unwrap(), 4.0);
        close(mm1_sojourn_tail(0.8, 1.0, 10.0), 0.135335);
        close(series_availability(&[0.99; 5]), 0.950990);
    }
}
