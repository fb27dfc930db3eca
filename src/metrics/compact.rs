//! Histograms written compactly into a report, so that the runs of an experiment can be
//! merged exactly afterwards.
//!
//! A percentile of pooled runs is not the mean of the runs' percentiles; it is the
//! percentile of the histogram that saw every sample. Each report therefore carries its
//! entry points' latency histograms as [`CompactHistogram`]s: the exact count, sum and
//! maximum, and the non-empty buckets as a base64 string of LEB128 varints, two per bucket:
//! the gap from the previous bucket's lowest value \[ns\], and the samples in the bucket. A
//! typical entry point needs a few hundred buckets, a few kilobytes of JSON.

use super::LatencyHistogram;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A [`LatencyHistogram`] as written in a report (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactHistogram {
    /// Significant decimal digits of the buckets (3 for latency histograms).
    pub sigfig: u8,
    /// Samples.
    pub count: u64,
    /// Exact sum of the samples \[ns\], as a decimal string (it may exceed 2⁶⁴).
    pub sum_ns: String,
    /// The largest sample, exact \[ns\].
    pub max_ns: u64,
    /// The buckets: base64 (standard alphabet, padded) of LEB128 pairs (gap from the
    /// previous bucket's lowest value, count), buckets in increasing order.
    pub buckets: String,
}

impl CompactHistogram {
    /// Writes `h` compactly.
    pub fn of(h: &LatencyHistogram) -> CompactHistogram {
        let mut bytes = Vec::new();
        let mut previous = 0u64;
        for (low, n) in h.buckets() {
            leb128(&mut bytes, low - previous);
            leb128(&mut bytes, n);
            previous = low;
        }
        CompactHistogram {
            sigfig: h.sigfig(),
            count: h.count(),
            sum_ns: h.sum_ns().to_string(),
            max_ns: h.max_ns(),
            buckets: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// Reads the histogram back; the error says what is malformed.
    pub fn histogram(&self) -> Result<LatencyHistogram, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.buckets)
            .map_err(|e| format!("histogram buckets are not base64: {e}"))?;
        let mut buckets = Vec::new();
        let (mut at, mut low) = (0usize, 0u64);
        while at < bytes.len() {
            let gap = read_leb128(&bytes, &mut at)?;
            let n = read_leb128(&bytes, &mut at)?;
            low = low
                .checked_add(gap)
                .ok_or("histogram bucket beyond 2^64 ns")?;
            buckets.push((low, n));
        }
        let total = buckets
            .iter()
            .try_fold(0u64, |t, &(_, n)| t.checked_add(n))
            .ok_or("histogram counts overflow")?;
        if total != self.count {
            return Err(format!(
                "histogram buckets hold {total} samples but count says {}",
                self.count
            ));
        }
        let sum: u128 = self.sum_ns.parse().map_err(|e| {
            format!(
                "histogram sum_ns {:?} is not a whole number: {e}",
                self.sum_ns
            )
        })?;
        LatencyHistogram::from_buckets(self.sigfig, &buckets, sum, self.max_ns)
            .ok_or_else(|| format!("histogram precision {} is not 1 to 5", self.sigfig))
    }
}

fn leb128(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb128(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes
            .get(*at)
            .ok_or("histogram buckets end inside a number")?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("histogram bucket number longer than 64 bits".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use rand::Rng;

    fn samples(seed: u64, n: usize) -> Vec<u64> {
        let mut rng = stream(seed, "test", "compact", 0);
        // Exponential-ish spread over six decades.
        (0..n)
            .map(|_| (1e3 * (-rng.random::<f64>().max(1e-12).ln()).powi(3) * 1e3) as u64)
            .collect()
    }

    #[test]
    fn a_histogram_reads_back_with_the_same_statistics() {
        for n in [0usize, 1, 7, 300, 50_000] {
            let mut h = LatencyHistogram::new();
            for s in samples(1, n) {
                h.record(s);
            }
            let c = CompactHistogram::of(&h);
            let back = c.histogram().unwrap();
            assert_eq!(back.summary(), h.summary(), "n = {n}");
            assert_eq!(back.count(), h.count());
            assert_eq!(
                CompactHistogram::of(&back),
                c,
                "n = {n}: the writing is canonical"
            );
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<CompactHistogram>(&json).unwrap(), c);
        }
    }

    #[test]
    fn merged_parts_equal_one_histogram_fed_every_sample() {
        // Three "runs": pooling their compact histograms gives exactly the histogram of all
        // their samples, percentiles included.
        let parts: Vec<Vec<u64>> = (0..3).map(|i| samples(10 + i, 20_000)).collect();
        let mut all = LatencyHistogram::new();
        let mut merged = LatencyHistogram::new();
        for p in &parts {
            let mut h = LatencyHistogram::new();
            for &s in p {
                h.record(s);
                all.record(s);
            }
            merged.merge(&CompactHistogram::of(&h).histogram().unwrap());
        }
        assert_eq!(merged.summary(), all.summary());
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(merged.quantile_ns(q), all.quantile_ns(q));
        }
        assert_eq!(CompactHistogram::of(&merged), CompactHistogram::of(&all));
    }

    #[test]
    fn malformed_histograms_are_errors_not_panics() {
        let mut c = CompactHistogram::of(&LatencyHistogram::new());
        c.buckets = "!!".into();
        assert!(c.histogram().unwrap_err().contains("base64"));
        c.buckets = base64::engine::general_purpose::STANDARD.encode([0x80]);
        assert!(c.histogram().unwrap_err().contains("end inside"));
        c.buckets = base64::engine::general_purpose::STANDARD.encode([1, 2]);
        assert!(c.histogram().unwrap_err().contains("count says 0"));
        c.count = 2;
        c.sum_ns = "x".into();
        assert!(c.histogram().unwrap_err().contains("sum_ns"));
        c.sum_ns = "3".into();
        c.sigfig = 9;
        assert!(c.histogram().unwrap_err().contains("precision"));
    }
}
