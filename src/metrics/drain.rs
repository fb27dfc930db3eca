//! When a backlog drained: the time from a lag's peak back to its level before the peak,
//! from the lag at the end of each bucket. The report gives it per consumer group and work
//! queue (`drained_in_s`); the lag charts mark it.

/// What became of a consumer group's backlog (see [`drain`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drain {
    /// The lag never rose above its baseline by more than the tolerance: nothing to drain.
    NoBacklog,
    /// The lag peaked at the end of bucket `peak` and was back within the tolerance of its
    /// baseline at the end of bucket `drained`.
    Drained {
        /// The bucket of the (first) highest lag.
        peak: usize,
        /// The first bucket after it with the lag back near the baseline.
        drained: usize,
    },
    /// The lag peaked at the end of bucket `peak` and had not come back by the end of the run.
    NotDrained {
        /// The bucket of the (first) highest lag.
        peak: usize,
    },
}

/// Whether and when a backlog drained, from the lag at the end of each bucket.
///
/// The peak is the first bucket with the highest lag. The baseline is the lower quartile of
/// the lags before the peak (0 when the peak is the first bucket): a group that always has a
/// few messages in flight has a baseline of a few messages, not 0, and the quartile stays at
/// the quiet level even when the build-up before the peak took most of that time (up to
/// three quarters of it). The tolerance is 1 % of the peak, and at least 1 message. The backlog has drained at the first bucket after the
/// peak whose lag is at most baseline + tolerance. A peak that is itself within the tolerance
/// of the baseline is no backlog. With several incidents, this follows the highest one.
pub fn drain(lag: &[u64]) -> Drain {
    let Some(peak_lag) = lag.iter().copied().max() else {
        return Drain::NoBacklog;
    };
    let peak = lag.iter().position(|&l| l == peak_lag).unwrap_or(0);
    let mut before = lag[..peak].to_vec();
    before.sort_unstable();
    let baseline = if before.is_empty() {
        0.0
    } else {
        before[(before.len() - 1) / 4] as f64
    };
    let limit = baseline + (0.01 * peak_lag as f64).max(1.0);
    if peak_lag as f64 <= limit {
        return Drain::NoBacklog;
    }
    match lag[peak + 1..].iter().position(|&l| l as f64 <= limit) {
        Some(k) => Drain::Drained {
            peak,
            drained: peak + 1 + k,
        },
        None => Drain::NotDrained { peak },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_drains_when_the_lag_is_back_near_its_baseline() {
        // Baseline 2 (lower quartile of 2, 3, 2, 500, 700), peak 1000 at bucket 5; tolerance
        // 10: drained when the lag is at most 12.
        let lag = [2, 3, 2, 500, 700, 1000, 400, 13, 12, 2];
        assert_eq!(
            drain(&lag),
            Drain::Drained {
                peak: 5,
                drained: 8
            }
        );
    }

    #[test]
    fn a_backlog_that_stays_is_not_drained() {
        assert_eq!(drain(&[0, 0, 10, 20, 30]), Drain::NotDrained { peak: 4 });
        assert_eq!(drain(&[0, 0, 100, 50, 20]), Drain::NotDrained { peak: 2 });
    }

    #[test]
    fn noise_around_the_baseline_is_no_backlog() {
        assert_eq!(drain(&[]), Drain::NoBacklog);
        assert_eq!(drain(&[0, 0, 0]), Drain::NoBacklog);
        assert_eq!(drain(&[1, 2, 1, 2, 1]), Drain::NoBacklog);
        // A single bucket: nothing after the peak, and nothing before it.
        assert_eq!(drain(&[0]), Drain::NoBacklog);
        assert_eq!(drain(&[50]), Drain::NotDrained { peak: 0 });
    }

    #[test]
    fn the_first_of_equal_peaks_counts() {
        assert_eq!(
            drain(&[0, 9, 9, 0]),
            Drain::Drained {
                peak: 1,
                drained: 3
            }
        );
    }
}
