//! Time-based availability of one service: how long at least one replica (or all of them)
//! could answer, integrated as the number of replicas up changes.

use crate::time::{SimDuration, SimTime};

/// Time-based availability accounting for one service, in O(1) memory: the engine reports
/// every change in the number of replicas that can serve ([`set_up_replicas`]), and this
/// integrates the time with at least one replica up, with all of them up, and replica-time up.
///
/// "Up" is the engine's call; the intent is "able to answer": not crashed, not failed, not
/// hung. Call [`restart`](UpTime::restart) at the end of the warm-up to measure from there.
///
/// [`set_up_replicas`]: UpTime::set_up_replicas
#[derive(Clone, Debug)]
pub struct UpTime {
    total: u32,
    up: u32,
    since: SimTime,
    outage_since: Option<SimTime>,
    totals: UpTimeTotals,
}

/// What an [`UpTime`] measured over a window; exact integers, and mergeable across runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpTimeTotals {
    /// Length of the window.
    pub measured: SimDuration,
    /// Time with at least one replica up: the service is available (time-based).
    pub any_up: SimDuration,
    /// Time with every replica up.
    pub all_up: SimDuration,
    /// Replica-nanoseconds up (Σ over time of the number of replicas up).
    pub replica_up_ns: u128,
    /// Replica-nanoseconds in the window (replicas × window length).
    pub replica_ns: u128,
    /// Outages (spans with no replica up) that began in the window, or were going on when it
    /// began.
    pub outages: u64,
    /// The longest outage, as far as it fell in the window.
    pub longest_outage: SimDuration,
}

impl UpTimeTotals {
    /// Time-based availability of the service: the fraction of the window with at least one
    /// replica up (1 for an empty window, where nothing was seen down).
    pub fn any_up_fraction(&self) -> f64 {
        ratio(
            self.any_up.as_nanos() as f64,
            self.measured.as_nanos() as f64,
        )
    }

    /// The fraction of the window with every replica up (1 for an empty window).
    pub fn all_up_fraction(&self) -> f64 {
        ratio(
            self.all_up.as_nanos() as f64,
            self.measured.as_nanos() as f64,
        )
    }

    /// The mean fraction of replicas up: the time-based availability of one replica,
    /// comparable with MTTF/(MTTF + MTTR) (1 for an empty window).
    pub fn replica_fraction(&self) -> f64 {
        ratio(self.replica_up_ns as f64, self.replica_ns as f64)
    }

    /// Time with no replica up.
    pub fn down(&self) -> SimDuration {
        SimDuration(self.measured.0.saturating_sub(self.any_up.0))
    }

    /// Adds `other` (another run, or another window) to these totals: sums, and the longer
    /// of the longest outages. Exact, so merged results do not depend on the order.
    pub fn merge(&mut self, other: &UpTimeTotals) {
        self.measured = SimDuration(self.measured.0.saturating_add(other.measured.0));
        self.any_up = SimDuration(self.any_up.0.saturating_add(other.any_up.0));
        self.all_up = SimDuration(self.all_up.0.saturating_add(other.all_up.0));
        self.replica_up_ns = self.replica_up_ns.saturating_add(other.replica_up_ns);
        self.replica_ns = self.replica_ns.saturating_add(other.replica_ns);
        self.outages = self.outages.saturating_add(other.outages);
        self.longest_outage = self.longest_outage.max(other.longest_outage);
    }
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        1.0
    }
}

impl UpTime {
    /// Starts measuring at `now` a service of `total` replicas, `up` of which are up (clamped
    /// to `total`).
    pub fn new(now: SimTime, up: u32, total: u32) -> UpTime {
        let up = up.min(total);
        let mut u = UpTime {
            total,
            up,
            since: now,
            outage_since: None,
            totals: UpTimeTotals::default(),
        };
        u.restart(now);
        u
    }

    /// Replicas up now.
    pub fn up(&self) -> u32 {
        self.up
    }

    /// Records that from `now` on, `up` replicas (clamped to the total) are up. Calls must
    /// come in time order; an earlier `now` counts as no time passing.
    pub fn set_up_replicas(&mut self, now: SimTime, up: u32) {
        self.integrate(now);
        let up = up.min(self.total);
        if self.up > 0 && up == 0 {
            self.totals.outages += 1;
            self.outage_since = Some(self.since);
        } else if self.up == 0 && up > 0 {
            self.end_outage();
        }
        self.up = up;
    }

    /// Forgets everything measured so far and measures from `now` (e.g. the end of the
    /// warm-up), keeping the current state; an outage going on counts as one from `now`.
    pub fn restart(&mut self, now: SimTime) {
        self.since = self.since.max(now);
        self.totals = UpTimeTotals::default();
        self.outage_since = None;
        if self.up == 0 {
            self.totals.outages = 1;
            self.outage_since = Some(self.since);
        }
    }

    /// The totals of the window from the last (re)start up to `now`, counting an outage still
    /// going on up to `now`. Does not change the state.
    pub fn totals(&self, now: SimTime) -> UpTimeTotals {
        let mut u = self.clone();
        u.integrate(now);
        u.end_outage();
        u.totals
    }

    fn integrate(&mut self, now: SimTime) {
        let dt = now.since(self.since);
        let t = &mut self.totals;
        t.measured = SimDuration(t.measured.0.saturating_add(dt.0));
        if self.up > 0 {
            t.any_up = SimDuration(t.any_up.0.saturating_add(dt.0));
        }
        if self.up == self.total {
            t.all_up = SimDuration(t.all_up.0.saturating_add(dt.0));
        }
        t.replica_up_ns += u128::from(self.up) * u128::from(dt.0);
        t.replica_ns += u128::from(self.total) * u128::from(dt.0);
        self.since = self.since.max(now);
    }

    fn end_outage(&mut self) {
        if let Some(start) = self.outage_since.take() {
            let length = self.since.since(start);
            self.totals.longest_outage = self.totals.longest_outage.max(length);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn s(secs: u64) -> SimTime {
        SimTime(secs * NS_PER_S)
    }

    fn d(secs: u64) -> SimDuration {
        SimDuration(secs * NS_PER_S)
    }

    /// 3 replicas: all up 0–10 s, two up 10–20 s, none 20–30 s (a no-op update at 25 s),
    /// all up 30–40 s, none from 40 s on.
    fn scripted() -> UpTime {
        let mut u = UpTime::new(s(0), 3, 3);
        u.set_up_replicas(s(10), 2);
        u.set_up_replicas(s(20), 0);
        u.set_up_replicas(s(25), 0);
        u.set_up_replicas(s(30), 3);
        u.set_up_replicas(s(40), 0);
        u
    }

    #[test]
    fn up_time_integrates_a_scripted_sequence_exactly() {
        let t = scripted().totals(s(55));
        assert_eq!(
            t,
            UpTimeTotals {
                measured: d(55),
                any_up: d(30),
                all_up: d(20),
                // 3·10 + 2·10 + 0·10 + 3·10 + 0·15 = 80 replica-seconds.
                replica_up_ns: 80 * u128::from(NS_PER_S),
                replica_ns: 165 * u128::from(NS_PER_S),
                outages: 2,
                // 20–30 s, and 40–55 s still going on.
                longest_outage: d(15),
            }
        );
        assert_eq!(t.down(), d(25));
        assert!((t.any_up_fraction() - 30.0 / 55.0).abs() < 1e-15);
        assert!((t.all_up_fraction() - 20.0 / 55.0).abs() < 1e-15);
        assert!((t.replica_fraction() - 80.0 / 165.0).abs() < 1e-15);
        // Reading the totals changes nothing.
        assert_eq!(scripted().totals(s(55)), t);
    }

    #[test]
    fn up_time_restarts_at_the_end_of_the_warm_up() {
        let mut u = scripted();
        u.restart(s(45)); // during the outage that began at 40 s
        u.set_up_replicas(s(50), 1);
        let t = u.totals(s(60));
        assert_eq!(t.measured, d(15));
        assert_eq!(t.any_up, d(10));
        assert_eq!(t.all_up, d(0));
        assert_eq!(t.replica_up_ns, 10 * u128::from(NS_PER_S));
        assert_eq!(t.replica_ns, 45 * u128::from(NS_PER_S));
        assert_eq!(t.outages, 1);
        assert_eq!(t.longest_outage, d(5));
    }

    #[test]
    fn up_time_clamps_counts_and_ignores_time_going_backwards() {
        let mut u = UpTime::new(s(0), 5, 2);
        assert_eq!(u.up(), 2);
        u.set_up_replicas(s(10), 7);
        u.set_up_replicas(s(5), 1); // earlier than the last update: no time passes
        let t = u.totals(s(20));
        assert_eq!(t.measured, d(20));
        assert_eq!(t.replica_up_ns, 30 * u128::from(NS_PER_S));
        assert_eq!(t.all_up, d(10));
        // An empty window reads as fully available.
        let empty = UpTime::new(s(3), 0, 2).totals(s(3));
        assert_eq!(empty.any_up_fraction(), 1.0);
        assert_eq!(empty.outages, 1);
    }

    #[test]
    fn up_time_totals_merge_exactly() {
        let a = scripted().totals(s(55));
        let mut b = UpTime::new(s(0), 1, 1);
        b.set_up_replicas(s(10), 0);
        b.set_up_replicas(s(30), 1);
        let b = b.totals(s(40));
        let mut m = a.clone();
        m.merge(&b);
        assert_eq!(m.measured, d(95));
        assert_eq!(m.any_up, d(50));
        assert_eq!(m.all_up, d(40));
        assert_eq!(m.replica_up_ns, 100 * u128::from(NS_PER_S));
        assert_eq!(m.replica_ns, 205 * u128::from(NS_PER_S));
        assert_eq!(m.outages, 3);
        assert_eq!(m.longest_outage, d(20));
        let mut m2 = b.clone();
        m2.merge(&a);
        assert_eq!(m, m2);
    }
}
