//! Turning the state of a finished run into its [`Measurements`].

use super::observer::RunEnd;
use super::*;

impl<'m> Simulation<'m> {
    pub(super) fn into_measurements(mut self) -> Measurements {
        if self.drain {
            // The run ended when the last request did (or at the drain cap).
            self.end = self.now.max(self.arrivals_end).min(self.end);
        }
        let in_buffer = self.outage.in_buffer();
        self.observer.finish(
            self.end,
            RunEnd {
                model: self.model,
                seed: self.seed,
                events: self.events,
                topics: &self.topics,
                queues: &self.work_queues,
                calls: &self.calls,
                in_buffer: &in_buffer,
            },
        )
    }
}
