//! Streaming statistics: latency histograms and time-weighted averages.
//!
//! Memory is fixed per metric: histograms are HDR histograms (3 significant digits, so every
//! percentile is within 0.1 % of the exact sample percentile), and levels such as queue length
//! are integrated over time as they change. Nothing is kept per request.

use crate::report::LatencySummary;
use hdrhistogram::Histogram;

/// A histogram of durations \[ns\] with exact count, sum and max.
///
/// Counts start as 32-bit (half the memory of 64-bit ones, so the histograms of a large
/// model stay in cache: recording is the hottest memory access of a run) and widen to
/// 64-bit before the total could overflow one of them, so no count ever saturates.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    counts: Counts,
    sum_ns: u128,
    /// The largest sample, exact (the histogram's own max is rounded up to its bucket).
    max_ns: u64,
}

/// The bucket counts: compact while no bucket can overflow 32 bits, wide after.
#[derive(Clone, Debug)]
enum Counts {
    Compact(Histogram<u32>),
    Wide(Histogram<u64>),
}

/// The most samples a compact histogram takes: no bucket can then exceed `u32::MAX`.
const COMPACT_LIMIT: u64 = u32::MAX as u64;

impl Counts {
    fn len(&self) -> u64 {
        match self {
            Counts::Compact(h) => h.len(),
            Counts::Wide(h) => h.len(),
        }
    }

    /// The same counts, 64-bit.
    fn wide(&self) -> Histogram<u64> {
        match self {
            Counts::Compact(h) => {
                let mut w = Histogram::new_from(h);
                for v in h.iter_recorded() {
                    // The same layout and an auto-resizing histogram: this cannot fail.
                    let _ = w.record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
                }
                w
            }
            Counts::Wide(h) => h.clone(),
        }
    }
}

impl LatencyHistogram {
    /// A histogram keeping `sigfig` significant decimal digits (1 to 5).
    pub fn with_precision(sigfig: u8) -> Self {
        LatencyHistogram {
            // `new` auto-resizes, so any u64 value can be recorded.
            counts: Counts::Compact(
                Histogram::new(sigfig).expect("1 ≤ sigfig ≤ 5 is a valid precision"),
            ),
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// A histogram with 3 significant digits.
    pub fn new() -> Self {
        Self::with_precision(3)
    }

    /// Records one duration \[ns\].
    #[inline]
    pub fn record(&mut self, ns: u64) {
        match &mut self.counts {
            // `record` grows the auto-resizing histogram; it fails only past u64 range
            // limits, where clamping to the top is the right answer.
            Counts::Compact(h) if h.len() < COMPACT_LIMIT => {
                if h.record(ns).is_err() {
                    h.saturating_record(ns);
                }
            }
            _ => self.record_wide(ns, 1),
        }
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Records `n` samples of one duration \[ns\] (for tests of the widening).
    #[cfg(test)]
    fn record_n(&mut self, ns: u64, n: u32) {
        match &mut self.counts {
            Counts::Compact(h) if h.len() + u64::from(n) <= COMPACT_LIMIT => {
                if h.record_n(ns, n).is_err() {
                    h.saturating_record_n(ns, n);
                }
            }
            _ => self.record_wide(ns, u64::from(n)),
        }
        self.sum_ns += u128::from(ns) * u128::from(n);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Records into the 64-bit counts, widening them first if need be.
    #[cold]
    fn record_wide(&mut self, ns: u64, n: u64) {
        if let Counts::Compact(_) = self.counts {
            self.counts = Counts::Wide(self.counts.wide());
        }
        if let Counts::Wide(h) = &mut self.counts {
            if h.record_n(ns, n).is_err() {
                h.saturating_record_n(ns, n);
            }
        }
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.counts.len()
    }

    /// Mean \[ns\], 0 when empty (exact, from the running sum).
    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The value at quantile `q` in \[0, 1\] \[ns\], 0 when empty. Never above the exact max
    /// (the histogram reports its bucket's upper edge).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count() == 0 {
            return 0;
        }
        let v = match &self.counts {
            Counts::Compact(h) => h.value_at_quantile(q),
            Counts::Wide(h) => h.value_at_quantile(q),
        };
        v.min(self.max_ns)
    }

    /// Fraction of samples strictly above `ns`.
    pub fn fraction_above(&self, ns: u64) -> f64 {
        match self.count() {
            0 => 0.0,
            n => {
                let at_or_below = match &self.counts {
                    Counts::Compact(h) => h.count_between(0, ns),
                    Counts::Wide(h) => h.count_between(0, ns),
                };
                1.0 - at_or_below as f64 / n as f64
            }
        }
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        match &mut self.counts {
            Counts::Compact(h) => h.reset(),
            Counts::Wide(h) => h.reset(),
        }
        self.sum_ns = 0;
        self.max_ns = 0;
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Both auto-resize, so adding cannot fail on range.
        match (&mut self.counts, &other.counts) {
            (Counts::Compact(a), Counts::Compact(b)) if a.len() + b.len() <= COMPACT_LIMIT => {
                let _ = a.add(b);
            }
            _ => {
                let mut wide = self.counts.wide();
                let _ = wide.add(other.counts.wide());
                self.counts = Counts::Wide(wide);
            }
        }
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// The distribution as `[latency_ms, quantile]` points at [`CDF_QUANTILES`] (and the
    /// maximum at 1.0), for CDF charts; empty when there are no samples.
    pub fn cdf(&self) -> Vec<[f64; 2]> {
        if self.count() == 0 {
            return Vec::new();
        }
        let mut points: Vec<[f64; 2]> = CDF_QUANTILES
            .iter()
            .map(|&q| [self.quantile_ns(q) as f64 / 1e6, q])
            .collect();
        points.push([self.max_ns as f64 / 1e6, 1.0]);
        points
    }

    /// The report's summary: count, mean, percentiles and max \[ms\].
    pub fn summary(&self) -> LatencySummary {
        let ms = |ns: u64| ns as f64 / 1e6;
        LatencySummary {
            count: self.count(),
            mean_ms: self.mean_ns() / 1e6,
            p50_ms: ms(self.quantile_ns(0.5)),
            p90_ms: ms(self.quantile_ns(0.9)),
            p95_ms: ms(self.quantile_ns(0.95)),
            p99_ms: ms(self.quantile_ns(0.99)),
            p999_ms: ms(self.quantile_ns(0.999)),
            max_ms: ms(self.max_ns),
        }
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// The quantiles a CDF is sampled at: every 5 % in the body, denser in the tail.
pub const CDF_QUANTILES: [f64; 32] = [
    0.001, 0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75,
    0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999,
    0.99999,
];

/// A level that changes at instants (queue length, busy workers), integrated over time.
///
/// `area(t)` is ∫₀ᵗ level dt in level·ns; the mean over `[a, b]` is
/// `(area(b) − area(a)) / (b − a)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeAverage {
    level: u64,
    last_ns: u64,
    area: u128,
    max: u64,
}

impl TimeAverage {
    /// Sets the level at time `now_ns` (not before the previous change).
    #[inline]
    pub fn set(&mut self, now_ns: u64, level: u64) {
        self.area += u128::from(self.level) * u128::from(now_ns - self.last_ns);
        self.last_ns = now_ns;
        self.level = level;
        self.max = self.max.max(level);
    }

    /// Adds `delta` (which may be negative) to the level at `now_ns`.
    #[inline]
    pub fn add(&mut self, now_ns: u64, delta: i64) {
        let level = self.level.wrapping_add_signed(delta);
        self.set(now_ns, level);
    }

    /// The current level.
    pub fn level(&self) -> u64 {
        self.level
    }

    /// ∫ level dt from 0 to `now_ns` (≥ the last change).
    pub fn area_at(&self, now_ns: u64) -> u128 {
        self.area + u128::from(self.level) * u128::from(now_ns.saturating_sub(self.last_ns))
    }

    /// Highest level since the last [`TimeAverage::reset_max`].
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Restarts the maximum from the current level (at the end of warm-up).
    pub fn reset_max(&mut self) {
        self.max = self.level;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_is_monotone_agrees_with_the_summary_and_ends_at_the_max() {
        assert!(LatencyHistogram::new().cdf().is_empty());
        let mut h = LatencyHistogram::new();
        for i in 1..=10_000u64 {
            h.record(i * 1_000); // 1 µs .. 10 ms, uniform
        }
        let cdf = h.cdf();
        assert_eq!(cdf.len(), CDF_QUANTILES.len() + 1);
        assert!(cdf
            .windows(2)
            .all(|w| w[0][0] <= w[1][0] && w[0][1] < w[1][1]));
        let median = cdf.iter().find(|p| p[1] == 0.5).unwrap()[0];
        assert_eq!(median, h.summary().p50_ms);
        assert!((median - 5.0).abs() < 0.01, "median {median} ms");
        assert_eq!(*cdf.last().unwrap(), [10.0, 1.0]);
    }

    #[test]
    fn time_average_integrates_levels() {
        let mut t = TimeAverage::default();
        t.set(10, 2); // 0 on [0,10)
        t.set(20, 4); // 2 on [10,20)
        t.add(25, -4); // 4 on [20,25)
        assert_eq!(t.area_at(30), 20 + 20);
        assert_eq!(t.max(), 4);
        assert_eq!(t.level(), 0);
    }

    #[test]
    fn histogram_percentiles_are_within_precision() {
        let mut h = LatencyHistogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        let p99 = h.quantile_ns(0.99) as f64;
        assert!((p99 / 99_000_000.0 - 1.0).abs() < 1e-3);
        assert!((h.mean_ns() - 50_000_500.0).abs() < 1e-6);
        assert!((h.fraction_above(50_000_000) - 0.5).abs() < 1e-3);
    }

    #[test]
    fn counts_widen_before_a_bucket_could_overflow() {
        let mut h = LatencyHistogram::new();
        h.record_n(5_000, u32::MAX - 1);
        assert!(matches!(h.counts, Counts::Compact(_)));
        h.record(7_000);
        assert!(
            matches!(h.counts, Counts::Compact(_)),
            "exactly at the limit"
        );
        h.record_n(5_000, 10);
        assert!(matches!(h.counts, Counts::Wide(_)));
        assert_eq!(h.count(), COMPACT_LIMIT + 10);
        // Nothing saturated: every sample of the crowded bucket is still there.
        assert!(h.fraction_above(5_000) < 1e-9);
        assert!((h.quantile_ns(0.5) as f64 / 5_000.0 - 1.0).abs() < 1e-3);
        assert_eq!(h.max_ns, 7_000);
        let mean = (5_000.0 * (COMPACT_LIMIT + 9) as f64 + 7_000.0) / h.count() as f64;
        assert!((h.mean_ns() - mean).abs() < 1e-6);
    }

    #[test]
    fn merging_compact_and_wide_histograms_keeps_every_sample() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        for v in 1..=1000u64 {
            a.record(v * 1_000);
            b.record(v * 2_000);
        }
        let mut wide = LatencyHistogram::new();
        wide.record_n(3_000_000, u32::MAX);
        let mut both = a.clone();
        both.merge(&b);
        assert_eq!(both.count(), 2000);
        assert_eq!(both.max_ns, 2_000_000);
        both.merge(&wide);
        assert!(matches!(both.counts, Counts::Wide(_)));
        assert_eq!(both.count(), 2000 + COMPACT_LIMIT);
        assert!((both.quantile_ns(0.5) as f64 / 3e6 - 1.0).abs() < 1e-3);
        // A compact histogram merged into a wide one widens the other side too.
        wide.merge(&a);
        assert_eq!(wide.count(), COMPACT_LIMIT + 1000);
        assert!(
            (wide.fraction_above(1_000_000) - COMPACT_LIMIT as f64 / wide.count() as f64).abs()
                < 1e-12
        );
    }
}
