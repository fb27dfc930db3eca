//! Streaming statistics: latency histograms and time-weighted averages.
//!
//! Memory is bounded per metric: histograms are HDR histograms (3 significant digits, so
//! every percentile is within 0.1 % of the exact sample percentile), kept as a plain list of
//! samples while that is smaller than the histogram would be; levels such as queue length are
//! integrated over time as they change. Nothing is kept per request beyond those lists.

pub mod compact;
pub mod drain;
pub mod slices;
pub mod uptime;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// A histogram of durations \[ns\] with exact count, sum and max.
///
/// It starts as a list of its samples, and turns into an HDR histogram when the list would
/// outgrow the histogram that holds the same samples (a histogram of 3 significant digits
/// takes 8 to 260 kB, depending on the largest sample): a model of 5,000 services that each
/// see a few requests costs kilobytes per service, not 70. Statistics of a list are read
/// as the HDR histogram of the same samples reads them (the top of the bucket of the sample
/// at a quantile), so the numbers are the same either way.
///
/// HDR counts start as 32-bit (half the memory of 64-bit ones, so the histograms of a large
/// model stay in cache: recording is the hottest memory access of a run) and widen to
/// 64-bit before the total could overflow one of them, so no count ever saturates.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    counts: Counts,
    /// Significant decimal digits of the HDR histogram.
    sigfig: u8,
    sum_ns: u128,
    /// The largest sample, exact (the histogram's own max is rounded up to its bucket).
    max_ns: u64,
}

/// The samples: a list while it is the smaller form, then bucket counts, compact while no
/// bucket can overflow 32 bits and wide after.
#[derive(Clone, Debug)]
enum Counts {
    Samples(Vec<u64>),
    Compact(Histogram<u32>),
    Wide(Histogram<u64>),
}

/// The most samples a compact histogram takes: no bucket can then exceed `u32::MAX`.
const COMPACT_LIMIT: u64 = u32::MAX as u64;

/// An empty auto-resizing HDR histogram of `sigfig` significant digits.
fn hdr<T: hdrhistogram::Counter>(sigfig: u8) -> Histogram<T> {
    Histogram::new(sigfig).expect("1 ≤ sigfig ≤ 5 is a valid precision")
}

/// Bytes of the 32-bit counts of an auto-resizing HDR histogram of `sigfig` digits whose
/// largest sample is `max`: (buckets + 1) × half the sub-buckets × 4, as the crate lays them
/// out (one bucket per doubling of the range beyond the first 2·10^sigfig values).
fn hdr_bytes(sigfig: u8, max: u64) -> usize {
    let sub_buckets = (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two();
    let mut buckets = 1usize;
    let mut untrackable = sub_buckets;
    while untrackable <= max && untrackable < u64::MAX / 2 {
        untrackable <<= 1;
        buckets += 1;
    }
    (buckets + 1) * (sub_buckets as usize / 2) * 4
}

impl Counts {
    fn len(&self) -> u64 {
        match self {
            Counts::Samples(v) => v.len() as u64,
            Counts::Compact(h) => h.len(),
            Counts::Wide(h) => h.len(),
        }
    }

    /// The same counts, 64-bit.
    fn wide(&self, sigfig: u8) -> Histogram<u64> {
        match self {
            Counts::Samples(v) => {
                let mut w = hdr(sigfig);
                for &ns in v {
                    if w.record(ns).is_err() {
                        w.saturating_record(ns);
                    }
                }
                w
            }
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

/// What a [`LatencyHistogram`]'s statistics are read from: its HDR histogram, or its list
/// of samples, sorted, read as that histogram would read them.
enum Dense<'a> {
    Samples {
        sorted: Vec<u64>,
        /// An empty histogram of the same precision, for its bucket boundaries.
        layout: &'static Histogram<u32>,
    },
    Compact(&'a Histogram<u32>),
    Wide(&'a Histogram<u64>),
}

/// An empty HDR histogram of `sigfig` digits, built once: bucket boundaries depend only on
/// the precision, not on the counts.
fn layout(sigfig: u8) -> &'static Histogram<u32> {
    static LAYOUTS: [std::sync::OnceLock<Histogram<u32>>; 6] =
        [const { std::sync::OnceLock::new() }; 6];
    LAYOUTS[usize::from(sigfig.min(5))].get_or_init(|| hdr(sigfig))
}

impl Dense<'_> {
    /// `Histogram::value_at_quantile`: the highest value of the bucket of the ⌈q·n⌉-th
    /// smallest sample (at least the first; the lowest value of its bucket for q = 0).
    fn value_at_quantile(&self, q: f64) -> u64 {
        match self {
            Dense::Samples { sorted, layout } => {
                let k = Dense::rank(q, sorted.len() as u64);
                let Some(&sample) = sorted.get(k as usize - 1) else {
                    return 0;
                };
                Dense::read_sample(layout, q, sample)
            }
            Dense::Compact(h) => h.value_at_quantile(q),
            Dense::Wide(h) => h.value_at_quantile(q),
        }
    }

    /// The rank (from 1) of the sample at quantile `q` of `n` samples: ⌈q·n⌉, at least 1.
    fn rank(q: f64, n: u64) -> u64 {
        let q = if q > 1.0 { 1.0 } else { q };
        ((q * n as f64).ceil() as u64).clamp(1, n.max(1))
    }

    /// What the histogram of `layout`'s precision reads for quantile `q` when its sample
    /// there is `sample`: the top of the sample's bucket (the bottom for q = 0).
    fn read_sample(layout: &Histogram<u32>, q: f64, sample: u64) -> u64 {
        if q == 0.0 {
            layout.lowest_equivalent(sample)
        } else {
            layout.highest_equivalent(sample)
        }
    }

    /// Samples in the buckets from that of 0 to that of `high`, as
    /// `Histogram::count_between(0, high)`: those at or below the top of `high`'s bucket.
    fn count_up_to(&self, high: u64) -> u64 {
        match self {
            Dense::Samples { sorted, layout } => {
                let top = layout.highest_equivalent(high);
                sorted.partition_point(|&s| s <= top) as u64
            }
            Dense::Compact(h) => h.count_between(0, high),
            Dense::Wide(h) => h.count_between(0, high),
        }
    }
}

impl LatencyHistogram {
    /// A histogram keeping `sigfig` significant decimal digits (1 to 5).
    pub fn with_precision(sigfig: u8) -> Self {
        // Checked here, where the mistake is, rather than when the first list turns into a
        // histogram.
        let _ = layout(sigfig);
        LatencyHistogram {
            counts: Counts::Samples(Vec::new()),
            sigfig,
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
            Counts::Samples(v) if v.len() < v.capacity() => v.push(ns),
            Counts::Samples(_) => self.record_growing(ns),
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

    /// Records into a full list of samples: doubles it while it stays smaller than the HDR
    /// histogram of the same samples would be, else turns it into that histogram.
    #[cold]
    fn record_growing(&mut self, ns: u64) {
        if let Counts::Samples(v) = &mut self.counts {
            let more = v.capacity().max(4);
            let bytes = (v.capacity() + more) * std::mem::size_of::<u64>();
            if bytes <= hdr_bytes(self.sigfig, self.max_ns.max(ns)) {
                v.reserve_exact(more);
                v.push(ns);
                return;
            }
        }
        self.bucket_samples();
        if let Counts::Compact(h) = &mut self.counts {
            if h.record(ns).is_err() {
                h.saturating_record(ns);
            }
        }
    }

    /// Turns a list of samples into the compact HDR histogram of the same samples.
    fn bucket_samples(&mut self) {
        if let Counts::Samples(v) = &self.counts {
            let mut h = hdr::<u32>(self.sigfig);
            for &ns in v {
                if h.record(ns).is_err() {
                    h.saturating_record(ns);
                }
            }
            self.counts = Counts::Compact(h);
        }
    }

    /// What to read statistics from.
    fn dense(&self) -> Dense<'_> {
        match &self.counts {
            Counts::Samples(v) => {
                let mut sorted = v.clone();
                sorted.sort_unstable();
                Dense::Samples {
                    sorted,
                    layout: layout(self.sigfig),
                }
            }
            Counts::Compact(h) => Dense::Compact(h),
            Counts::Wide(h) => Dense::Wide(h),
        }
    }

    /// Records `n` samples of one duration \[ns\] at once, e.g. the zero waits of requests
    /// that found a free worker, counted apart on the hot path and added at the end.
    pub fn record_repeated(&mut self, ns: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.bucket_samples();
        match &mut self.counts {
            Counts::Compact(h) if h.len().saturating_add(n) <= COMPACT_LIMIT => {
                let n = n as u32; // below COMPACT_LIMIT = u32::MAX
                if h.record_n(ns, n).is_err() {
                    h.saturating_record_n(ns, n);
                }
            }
            _ => self.record_wide(ns, n),
        }
        self.sum_ns += u128::from(ns) * u128::from(n);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Records `n` samples of one duration \[ns\] (for tests of the widening).
    #[cfg(test)]
    fn record_n(&mut self, ns: u64, n: u32) {
        self.bucket_samples();
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
        if !matches!(self.counts, Counts::Wide(_)) {
            self.counts = Counts::Wide(self.counts.wide(self.sigfig));
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
        if let Counts::Samples(v) = &self.counts {
            // One quantile of a list (a time-series bucket's p99, once a bucket): select the
            // sample in linear time instead of sorting the list, as `dense` does for many.
            let n = v.len();
            let k = Dense::rank(q, n as u64) as usize;
            let mut copy = v.clone();
            let (_, &mut sample, _) = copy.select_nth_unstable(k - 1);
            return Dense::read_sample(layout(self.sigfig), q, sample).min(self.max_ns);
        }
        self.dense().value_at_quantile(q).min(self.max_ns)
    }

    /// Fraction of samples strictly above `ns`.
    pub fn fraction_above(&self, ns: u64) -> f64 {
        match self.count() {
            0 => 0.0,
            n => {
                let at_or_below = self.dense().count_up_to(ns);
                1.0 - at_or_below as f64 / n as f64
            }
        }
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        match &mut self.counts {
            Counts::Samples(v) => v.clear(),
            Counts::Compact(h) => h.reset(),
            Counts::Wide(h) => h.reset(),
        }
        self.sum_ns = 0;
        self.max_ns = 0;
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if let Counts::Samples(b) = &other.counts {
            // Sample by sample, so that a list stays a list while it is the smaller form;
            // the sum and the maximum are added below.
            let (sum, max) = (self.sum_ns, self.max_ns);
            for &ns in b {
                self.record(ns);
            }
            (self.sum_ns, self.max_ns) = (sum, max);
        } else {
            self.bucket_samples();
            // Both auto-resize, so adding cannot fail on range.
            match (&mut self.counts, &other.counts) {
                (Counts::Compact(a), Counts::Compact(b)) if a.len() + b.len() <= COMPACT_LIMIT => {
                    let _ = a.add(b);
                }
                _ => {
                    let mut wide = self.counts.wide(self.sigfig);
                    let _ = wide.add(other.counts.wide(other.sigfig));
                    self.counts = Counts::Wide(wide);
                }
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
        let dense = self.dense();
        let mut points: Vec<[f64; 2]> = CDF_QUANTILES
            .iter()
            .map(|&q| [dense.value_at_quantile(q).min(self.max_ns) as f64 / 1e6, q])
            .collect();
        points.push([self.max_ns as f64 / 1e6, 1.0]);
        points
    }

    /// The report's summary: count, mean, percentiles and max \[ms\].
    pub fn summary(&self) -> LatencySummary {
        let ms = |ns: u64| ns as f64 / 1e6;
        let dense = (self.count() > 0).then(|| self.dense());
        let q = |q: f64| {
            dense
                .as_ref()
                .map_or(0, |d| d.value_at_quantile(q).min(self.max_ns))
        };
        LatencySummary {
            count: self.count(),
            mean_ms: self.mean_ns() / 1e6,
            p50_ms: ms(q(0.5)),
            p90_ms: ms(q(0.9)),
            p95_ms: ms(q(0.95)),
            p99_ms: ms(q(0.99)),
            p999_ms: ms(q(0.999)),
            max_ms: ms(self.max_ns),
        }
    }
}

impl LatencyHistogram {
    /// Significant decimal digits of its buckets.
    pub fn sigfig(&self) -> u8 {
        self.sigfig
    }

    /// The exact sum of the samples \[ns\].
    pub fn sum_ns(&self) -> u128 {
        self.sum_ns
    }

    /// The largest sample, exact \[ns\] (0 when empty).
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// The non-empty buckets in increasing order, as (lowest value of the bucket \[ns\],
    /// samples in it). Together with the sum, the maximum and the precision they are the
    /// whole histogram: [`LatencyHistogram::from_buckets`] rebuilds it, and merging rebuilt
    /// histograms gives exactly the histogram that saw every sample.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        match &self.counts {
            Counts::Samples(v) => {
                let layout = layout(self.sigfig);
                let mut sorted = v.clone();
                sorted.sort_unstable();
                let mut out: Vec<(u64, u64)> = Vec::new();
                for ns in sorted {
                    let low = layout.lowest_equivalent(ns);
                    match out.last_mut() {
                        Some((l, n)) if *l == low => *n += 1,
                        _ => out.push((low, 1)),
                    }
                }
                out
            }
            Counts::Compact(h) => h
                .iter_recorded()
                .map(|v| {
                    (
                        h.lowest_equivalent(v.value_iterated_to()),
                        u64::from(v.count_at_value()),
                    )
                })
                .collect(),
            Counts::Wide(h) => h
                .iter_recorded()
                .map(|v| {
                    (
                        h.lowest_equivalent(v.value_iterated_to()),
                        v.count_at_value(),
                    )
                })
                .collect(),
        }
    }

    /// The histogram of [`LatencyHistogram::buckets`]: `sigfig` digits, `buckets` as
    /// (lowest value, count), with the exact sum and maximum of the samples. `None` for a
    /// precision outside 1–5.
    pub fn from_buckets(
        sigfig: u8,
        buckets: &[(u64, u64)],
        sum_ns: u128,
        max_ns: u64,
    ) -> Option<LatencyHistogram> {
        if !(1..=5).contains(&sigfig) {
            return None;
        }
        let total: u64 = buckets.iter().fold(0u64, |t, &(_, n)| t.saturating_add(n));
        let counts = if total <= COMPACT_LIMIT {
            let mut h = hdr::<u32>(sigfig);
            for &(ns, n) in buckets {
                // n ≤ total ≤ u32::MAX here.
                if h.record_n(ns, n as u32).is_err() {
                    h.saturating_record_n(ns, n as u32);
                }
            }
            Counts::Compact(h)
        } else {
            let mut h = hdr::<u64>(sigfig);
            for &(ns, n) in buckets {
                if h.record_n(ns, n).is_err() {
                    h.saturating_record_n(ns, n);
                }
            }
            Counts::Wide(h)
        };
        Some(LatencyHistogram {
            counts,
            sigfig,
            sum_ns,
            max_ns,
        })
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Latency statistics \[ms\].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Mean (exact).
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest sample.
    pub max_ms: f64,
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

    /// A histogram that skips the list of samples: the HDR histogram from the first sample.
    fn hdr_only(sigfig: u8) -> LatencyHistogram {
        let mut h = LatencyHistogram::with_precision(sigfig);
        h.bucket_samples();
        assert!(matches!(h.counts, Counts::Compact(_)));
        h
    }

    /// Bytes the histogram holds for its samples.
    fn held(h: &LatencyHistogram) -> usize {
        match &h.counts {
            Counts::Samples(v) => v.capacity() * 8,
            Counts::Compact(c) => hdr_bytes(h.sigfig, c.high()),
            Counts::Wide(w) => 2 * hdr_bytes(h.sigfig, w.high()),
        }
    }

    /// Deterministic, spread-out samples: a multiplicative congruential sequence mapped to
    /// 1 µs .. 60 ms, with a few repeats.
    fn samples(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                1_000 + (x >> 33) % 60_000_000
            })
            .collect()
    }

    #[test]
    fn a_few_samples_cost_a_list_not_a_histogram() {
        let mut h = LatencyHistogram::new();
        for ns in samples(10, 7) {
            h.record(ns);
        }
        assert!(matches!(h.counts, Counts::Samples(_)));
        assert!(held(&h) <= 128, "{} bytes for 10 samples", held(&h));
        // A histogram of the same samples takes 17 × 1024 × 4 bytes.
        assert!(hdr_bytes(3, 60_000_000) >= 60_000);
        // The list grows while it is smaller than the histogram, then turns into it.
        let mut turned = None;
        for (k, ns) in samples(100_000, 9).into_iter().enumerate() {
            h.record(ns);
            assert!(
                held(&h) <= hdr_bytes(3, h.max_ns),
                "{} bytes at {k}",
                held(&h)
            );
            if turned.is_none() && matches!(h.counts, Counts::Compact(_)) {
                turned = Some(k);
            }
        }
        let turned = turned.expect("the list turned into a histogram");
        assert!(
            (2_000..10_000).contains(&turned),
            "turned at sample {turned}"
        );
        // Clearing keeps the list's room: a per-bucket histogram allocates once.
        let mut b = LatencyHistogram::with_precision(2);
        for ns in samples(50, 3) {
            b.record(ns);
        }
        let room = held(&b);
        b.clear();
        for ns in samples(50, 4) {
            b.record(ns);
        }
        assert_eq!(held(&b), room);
    }

    #[test]
    fn statistics_are_the_same_from_the_list_and_from_the_histogram() {
        let mut cases: Vec<(Vec<u64>, u8)> =
            [(1, 3), (7, 3), (500, 3), (5_000, 3), (20_000, 3), (300, 2)]
                .into_iter()
                .map(|(n, sigfig)| (samples(n, n as u64), sigfig))
                .collect();
        // Exact buckets (below 2048), repeats, zeros and a sample far out.
        cases.push(((0..3_000).map(|v| v % 2_500).collect(), 3));
        cases.push((vec![0, 0, 1, 1 << 50], 3));
        cases.push((vec![5; 100], 1));
        for (values, sigfig) in cases {
            let n = values.len();
            let mut listed = LatencyHistogram::with_precision(sigfig);
            let mut reference = hdr_only(sigfig);
            for ns in values {
                listed.record(ns);
                reference.record(ns);
            }
            assert_eq!(listed.summary(), reference.summary(), "{n} samples");
            assert_eq!(listed.cdf(), reference.cdf(), "{n} samples");
            for q in [0.0, 0.001, 0.5, 0.99, 0.999, 1.0] {
                assert_eq!(listed.quantile_ns(q), reference.quantile_ns(q));
            }
            for ns in [0, 1_000, 30_000_000, 59_999_999, u64::MAX] {
                assert_eq!(listed.fraction_above(ns), reference.fraction_above(ns));
            }
        }
    }

    #[test]
    fn merging_lists_and_histograms_keeps_every_sample() {
        let (xs, ys) = (samples(300, 1), samples(40_000, 2));
        let mut reference = hdr_only(3);
        for &ns in xs.iter().chain(&ys) {
            reference.record(ns);
        }
        let list = |v: &[u64]| {
            let mut h = LatencyHistogram::new();
            v.iter().for_each(|&ns| h.record(ns));
            h
        };
        // list + list, list + histogram, histogram + list.
        let (a, b) = (list(&xs), list(&ys));
        assert!(matches!(a.counts, Counts::Samples(_)));
        assert!(matches!(b.counts, Counts::Compact(_)));
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        let mut aa = a.clone();
        aa.merge(&list(&ys[..100]));
        assert!(matches!(aa.counts, Counts::Samples(_)));
        assert_eq!(aa.count(), 400);
        for m in [&ab, &ba] {
            assert_eq!(m.summary(), reference.summary());
            assert_eq!(m.sum_ns, reference.sum_ns);
        }
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

    #[test]
    fn repeated_samples_read_as_the_same_samples_one_by_one() {
        let mut one_by_one = LatencyHistogram::new();
        let mut repeated = LatencyHistogram::new();
        for ns in [3_000, 70_000, 1_500_000] {
            one_by_one.record(ns);
            repeated.record(ns);
        }
        for _ in 0..1_000 {
            one_by_one.record(0);
        }
        repeated.record_repeated(0, 1_000);
        repeated.record_repeated(42, 0);
        assert_eq!(one_by_one.summary(), repeated.summary());
        assert_eq!(repeated.count(), 1_003);
        assert_eq!(repeated.summary().p50_ms, 0.0);
    }
}
