//! When a backlog drained: the time from a lag's peak back to its quiet level, the level it
//! had before the backlog began to build, from the lag at the end of each bucket. The report gives it per consumer group and work
//! queue (`drained_in_s`); the lag charts mark it.

/// What became of a consumer group's backlog (see [`drain`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drain {
    /// The lag never rose above its quiet level by more than the tolerance: nothing to drain.
    NoBacklog,
    /// The lag peaked at the end of bucket `peak` and was back within the tolerance of its
    /// quiet level at the end of bucket `drained`.
    Drained {
        /// The bucket of the (first) highest lag.
        peak: usize,
        /// The first bucket after it with the lag back near the quiet level.
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
/// A backlog has drained when the lag is back at the level it had before the backlog began
/// to build, its *quiet level*:
///
/// * The **peak** is the first bucket with the highest lag; the **tolerance** is 1 % of the
///   peak lag, and at least 1 message.
/// * The backlog began to build after the last bucket before the peak whose lag was within
///   the tolerance of the lowest lag before the peak. The **quiet level** is the lower
///   quartile of the lags up to that bucket: a group that always has a few messages in
///   flight has a quiet level of a few messages, not 0, and the build-up does not count,
///   however long it took. (Measuring the quartile over all the lags before the peak, as
///   this once did, put it a quarter of the way up a build-up that started with the run:
///   about 1,500 messages on the way to 6,000.) When the peak is the first bucket, or that
///   last bucket is the first one and its lag is above the tolerance, the backlog built up
///   from the start of the run and the quiet level is 0: a run starts with nothing to
///   consume.
/// * The backlog has **drained** at the first bucket after the peak whose lag is at most
///   the quiet level plus the tolerance. A peak that is itself within the tolerance of the
///   quiet level is no backlog. With several incidents, this follows the highest one.
pub fn drain(lag: &[u64]) -> Drain {
    let Some(peak_lag) = lag.iter().copied().max() else {
        return Drain::NoBacklog;
    };
    let peak = lag.iter().position(|&l| l == peak_lag).unwrap_or(0);
    let tolerance = (0.01 * peak_lag as f64).max(1.0);
    let before = &lag[..peak];
    let last_quiet = before.iter().copied().min().and_then(|low| {
        before
            .iter()
            .rposition(|&l| l as f64 <= low as f64 + tolerance)
    });
    let quiet = match last_quiet {
        // The peak is the first bucket.
        None => 0.0,
        // The build-up began with the run: the first bucket's lag, above the tolerance, is
        // already part of it.
        Some(0) if before[0] as f64 > tolerance => 0.0,
        Some(last) => {
            let mut stretch = before[..=last].to_vec();
            stretch.sort_unstable();
            stretch[(stretch.len() - 1) / 4] as f64
        }
    };
    let limit = quiet + tolerance;
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
    fn a_backlog_that_builds_from_the_start_drains_to_empty() {
        // +100 per bucket for 60 buckets (a consumer too slow from the start), then −300 per
        // bucket down to 0 (20 buckets), then quiet. The first bucket's 100 is part of the
        // build-up: the quiet level is 0, the tolerance 60. The lower quartile of all the lags
        // before the peak is 1,500: measured from there the backlog "drained" after 15
        // buckets, with 1,500 messages still waiting. It drains to empty after 20.
        let mut lag: Vec<u64> = (1..=60).map(|i| 100 * i).collect();
        lag.extend((1..=20).map(|i| 6000 - 300 * i));
        lag.extend([0, 1, 0, 2, 0]);
        assert_eq!(
            drain(&lag),
            Drain::Drained {
                peak: 59,
                drained: 79
            }
        );
        // The same with a quiet start of a few messages in flight: back to that level.
        let mut lag: Vec<u64> = vec![3, 5, 2, 4, 3, 6, 2, 3];
        lag.extend((1..=60).map(|i| 3 + 100 * i));
        lag.extend((1..=20).map(|i| 6003 - 300 * i));
        lag.extend([3, 4, 2, 5]);
        let Drain::Drained { peak, drained } = drain(&lag) else {
            panic!("{:?}", drain(&lag));
        };
        assert_eq!(peak, 67);
        // Quiet level 3 (lower quartile of 3, 5, 2, 4, 3, 6, 2, 3), tolerance 60: the first
        // lag at most 63 is the 20th of the drain (3).
        assert_eq!(drained, 87);
    }

    #[test]
    fn a_busy_group_drains_back_to_its_floor_not_to_zero() {
        // A group that always has 10 to 30 messages in flight, after a run that started
        // empty (the first bucket's 0): its backlog drains back to the floor.
        let mut lag: Vec<u64> = vec![0, 12, 25, 18, 30, 11, 22, 15, 27, 10, 20];
        lag.extend([400, 800, 1200, 1000, 700, 400, 100, 40, 28, 15, 22, 19]);
        // Lowest before the peak 0, tolerance 12: the quiet stretch ends at bucket 9 (10);
        // its lower quartile is 11; drained at the first lag ≤ 23: 15, at bucket 20.
        assert_eq!(
            drain(&lag),
            Drain::Drained {
                peak: 13,
                drained: 20
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
