//! The workload (`workload:`): entry points, where their requests go, and when they arrive.
//!
//! The list must not be empty. Each entry point, in file order: its name (not a duplicate),
//! its target (exactly one of `entry`, `publish` and `send`, naming a known service, topic or
//! queue), its arrival rate (finite, ≥ 0, at most [`MAX_RATE_PER_S`]), each point of its
//! rate profile (a readable rate and time, in increasing time order), then its `timeout`
//! (longer than 0).

use super::names::Occurrences;
use super::Compiler;
use crate::model::{Destination, Entry, EntryTarget, QueueId, TopicId};
use crate::spec::{ArrivalSpec, EntrySpec, RatePointSpec};
use crate::time::SimDuration;
use crate::workload::{ArrivalKind, ArrivalProcess};

/// Highest arrival rate of one entry point [requests/s]: one arrival per nanosecond, the
/// resolution of the virtual clock. A higher rate cannot be represented (arrivals of one
/// entry point are at least 1 ns apart), so it is refused instead of being clamped.
pub const MAX_RATE_PER_S: f64 = 1e9;

impl Compiler<'_> {
    /// Every entry point, in file order (those with an unknown target are left out).
    pub(super) fn workload(&mut self, workload: &[EntrySpec]) -> Vec<Entry> {
        if workload.is_empty() {
            self.at("workload").push_with_hint(
"the workload is empty",
"add an entry point, e.g. (name: \"main\", entry: \"<service>\", arrivals: Poisson(per_second: 10))",
);
        }
        let mut seen = Occurrences::default();
        let mut entries = Vec::with_capacity(workload.len());
        for e in workload {
            let path = format!("workload[{}]", e.name);
            let nth = seen.next(&e.name);
            if nth > 0 {
                self.duplicate(&path, "entry point", &e.name, nth);
            }
            if let Some(entry) = self.entry(&path, e) {
                entries.push(entry);
            }
        }
        entries
    }

    fn entry(&mut self, path: &str, e: &EntrySpec) -> Option<Entry> {
        let target = self.entry_target(path, e);
        let (kind, per_second, profile) = match &e.arrivals {
            ArrivalSpec::Poisson {
                per_second,
                profile,
            } => (ArrivalKind::Poisson, *per_second, profile),
            ArrivalSpec::Constant {
                per_second,
                profile,
            } => (ArrivalKind::Constant, *per_second, profile),
        };
        self.rate(&format!("{path}.arrivals.per_second"), per_second);
        let points = self.profile(path, profile);
        let timeout = self.optional_duration(&format!("{path}.timeout"), &e.timeout);
        if timeout == Some(SimDuration::ZERO) {
            self.at(path).at("timeout").push_with_hint(
                "a timeout of 0 fails every request",
                "remove it or give a positive duration",
            );
        }
        Some(Entry {
            name: e.name.clone(),
            target: target?,
            arrivals: ArrivalProcess::from_profile(kind, per_second, &points),
            timeout,
        })
    }

    /// Where the entry point sends its requests: exactly one of `entry`, `publish`, `send`.
    fn entry_target(&mut self, path: &str, e: &EntrySpec) -> Option<EntryTarget> {
        match (&e.entry, &e.publish, &e.send) {
            (Some(s), None, None) => self
                .service_ref(&format!("{path}.entry"), s)
                .map(EntryTarget::Service),
            (None, Some(t), None) => self
                .topic_ref(&format!("{path}.publish"), t)
                .map(|t| EntryTarget::Broker(Destination::Topic(TopicId(t)))),
            (None, None, Some(q)) => self
                .queue_ref(&format!("{path}.send"), q)
                .map(|q| EntryTarget::Broker(Destination::Queue(QueueId(q)))),
            (None, None, None) => {
                self.at(path).push("an entry point needs somewhere to send its requests: `entry: \"<service>\"`, `publish: \"<topic>\"` or `send: \"<queue>\"`");
                None
            }
            _ => {
                self.at(path).push("an entry point sends its requests to one place: give only one of `entry`, `publish` and `send` (add another entry point for the other)");
                None
            }
        }
    }

    /// The points of a rate profile as `(at [ns], rate, ramp)`; a point whose time does not
    /// parse is left out.
    fn profile(&mut self, path: &str, profile: &[RatePointSpec]) -> Vec<(u64, f64, bool)> {
        let mut points = Vec::with_capacity(profile.len());
        let mut last_at = 0u64;
        for (k, p) in profile.iter().enumerate() {
            let pp = format!("{path}.arrivals.profile[{k}]");
            self.rate(&format!("{pp}.per_second"), p.per_second);
            if let Some(at) = self.duration(&format!("{pp}.at"), &p.at) {
                if k > 0 && at.as_nanos() <= last_at {
                    self.at(&pp).at("at").push(format!("profile points must be in increasing time order; {} is not after the previous point", p.at));
                }
                last_at = at.as_nanos();
                points.push((at.as_nanos(), p.per_second, p.ramp));
            }
        }
        points
    }

    /// Checks an arrival rate [requests/s]: finite, ≥ 0 and at most [`MAX_RATE_PER_S`].
    /// (A ramp between two points stays between their rates, so checking points suffices.)
    fn rate(&mut self, path: &str, r: f64) {
        if !(r.is_finite() && r >= 0.0) {
            self.at(path).push(format!(
                "a rate must be a finite number ≥ 0 [requests/s], not {r}"
            ));
        } else if r > MAX_RATE_PER_S {
            self.at(path).push_with_hint(
                format!(
                    "a rate of {r} requests/s is more than the {MAX_RATE_PER_S} (10⁹) one entry point can offer: the virtual clock counts whole nanoseconds and arrivals are at least 1 ns apart"
                ),
                "lower it, or split the load over several entry points",
            );
        }
    }
}
