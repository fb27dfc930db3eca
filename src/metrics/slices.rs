//! The coarse slices of a run's timeline: a dozen columns at most, each a whole number of
//! buckets and, where the bucket width allows, a round duration (15 s, 20 s, 2 min, 20 min).
//!
//! A percentile of a slice cannot be read from the percentiles of its buckets (the 99th
//! percentile of a minute is not the worst, nor the mean, of its seconds' 99th
//! percentiles), so the engine merges the latency histograms of the buckets of each slice as
//! the run goes and reports each slice's own percentiles (`series.entries[].slices`). The
//! slices are fixed here, from the planned duration and the bucket width alone, so that the
//! engine and the renderers that read them agree.

use std::ops::Range;

/// The most slices a timeline has (before the drain slice of a drained run).
pub const MAX_SLICES: u64 = 12;

/// Round slice widths \[s\], in increasing order.
const NICE_S: [u64; 26] = [
    1,
    2,
    3,
    5,
    10,
    15,
    20,
    30,
    60,
    120,
    180,
    300,
    600,
    900,
    1200,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    14 * 86_400,
    28 * 86_400,
];

/// The slice width \[ns\] for a run whose arrivals end at `end_ns`, with buckets of
/// `bucket_ns`: the smallest round width that is a whole number of buckets and cuts the run
/// into at most [`MAX_SLICES`] slices; when no such round width is less than twice the
/// fewest whole buckets that do, those buckets.
pub fn slice_width(end_ns: u64, bucket_ns: u64) -> u64 {
    let bucket_ns = bucket_ns.max(1);
    let buckets = end_ns.div_ceil(bucket_ns);
    let fewest = buckets.div_ceil(MAX_SLICES).max(1) * bucket_ns;
    NICE_S
        .iter()
        .map(|s| s * 1_000_000_000)
        // A round width at most twice the fewest buckets: no fewer than half a dozen slices.
        .find(|&w| w % bucket_ns == 0 && end_ns.div_ceil(w) <= MAX_SLICES && w < 2 * fewest)
        .unwrap_or(fewest)
}

/// The buckets of each slice of a series of `buckets` buckets of `bucket_ns`, whose arrivals
/// ended at `end_ns`: slices of [`slice_width`] up to `end_ns` (the last one may be shorter),
/// then, when there are buckets past `end_ns` (a drained run), one slice holding all of them.
pub fn slice_buckets(buckets: usize, bucket_ns: u64, end_ns: u64) -> Vec<Range<usize>> {
    let bucket_ns = bucket_ns.max(1);
    let per = (slice_width(end_ns, bucket_ns) / bucket_ns).max(1) as usize;
    let planned = (end_ns.div_ceil(bucket_ns) as usize).min(buckets);
    let mut out: Vec<Range<usize>> = (0..planned.div_ceil(per))
        .map(|i| i * per..((i + 1) * per).min(planned))
        .collect();
    if buckets > planned {
        out.push(planned..buckets);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn widths_are_round_and_at_most_a_dozen_slices() {
        assert_eq!(slice_width(240 * S, S), 20 * S);
        assert_eq!(slice_width(1200 * S, S), 120 * S);
        assert_eq!(slice_width(180 * S, S), 15 * S);
        assert_eq!(slice_width(30 * S, S), 3 * S);
        assert_eq!(slice_width(4 * 3600 * S, S), 1200 * S);
        // Buckets of 0.7 s: no round width is a whole number of them.
        assert_eq!(slice_width(60 * S, 700_000_000), 8 * 700_000_000);
        // Buckets of 2 s: 1 s and 3 s are not whole buckets.
        assert_eq!(slice_width(12 * S, 2 * S), 2 * S);
        assert_eq!(slice_width(30 * S, 2 * S), 4 * S);
        // Buckets of 1.3 s fit no round width: the fewest whole buckets.
        let w = slice_width(100 * S, 1_300_000_000);
        assert_eq!(w, 7 * 1_300_000_000);
        assert!((100 * S).div_ceil(w) <= MAX_SLICES);
    }

    #[test]
    fn slices_cover_every_bucket_once() {
        for (buckets, bucket, end) in [
            (240, S, 240 * S),
            (31, S, 30 * S + 1),
            (250, S, 200 * S),
            (1, S, S / 2),
            (77, 1_300_000_000, 100 * S),
        ] {
            let slices = slice_buckets(buckets, bucket, end);
            let mut next = 0;
            for s in &slices {
                assert_eq!(s.start, next, "{slices:?}");
                assert!(s.end > s.start, "{slices:?}");
                next = s.end;
            }
            assert_eq!(next, buckets, "{slices:?}");
            assert!(slices.len() as u64 <= MAX_SLICES + 1, "{slices:?}");
        }
        // A drained run: the buckets past the end of the arrivals are one more slice.
        let s = slice_buckets(250, S, 200 * S);
        assert_eq!(s.len(), 11);
        assert_eq!(s[9], 180..200);
        assert_eq!(s[10], 200..250);
    }
}
