//! Validation and compilation of a [`TopologySpec`] into a [`Model`].
//!
//! Every check pushes a [`Problem`] and carries on, so one pass reports everything; only when
//! no problem was found is the model assembled. The sections are checked in this order (the
//! order of the problems on one line of the file, which are otherwise sorted by line):
//!
//! 1. **Names** ([`names`]): duplicate topic and queue names, then (after the run settings)
//!    empty and duplicate service names, so that anything may refer to a name defined later.
//! 2. **Run settings** ([`run`]): duration, warm-up, bucket and the safety caps.
//! 3. **Services** ([`services`]), each with its steps ([`steps`]) and the resilience
//!    policies of its calls ([`policies`]); calls name services, publishes name topics and
//!    queues.
//! 4. **Workload** ([`workload`]): entry points, their targets and arrival profiles.
//! 5. **Broker** ([`broker`]): topics with their consumer groups, then work queues.
//! 6. **Faults and failure processes** ([`super::faults`]), which name services, call edges
//!    and topics compiled above.
//! 7. **The sync call graph** ([`graph`]): one problem per cycle.
//!
//! Field values shared by every section (durations, probabilities, fractions, distributions)
//! are checked in [`values`]. Every problem goes to one [`Problems`] collector at its path in
//! the file; its line is looked up from that path in the source text at the end (a duplicate
//! definition gets the line of its own occurrence when it is reported).

mod broker;
mod graph;
mod names;
mod policies;
mod run;
mod services;
mod steps;
mod values;
mod workload;

pub use broker::{
    DEFAULT_SESSION_TIMEOUT, DEFAULT_VISIBILITY_TIMEOUT, MAX_CONSUMERS, MAX_PARTITIONS,
};
pub use policies::MAX_ATTEMPTS;
pub use run::{
    DEFAULT_BUCKET, DEFAULT_DURATION, DEFAULT_MAX_EVENTS_PER_INSTANT, DEFAULT_MAX_IN_FLIGHT,
    MAX_BUCKETS, MAX_SERIES_VALUES,
};
pub use services::{MAX_QUEUE, MAX_REPLICAS, MAX_WORKERS};
pub use workload::MAX_RATE_PER_S;

pub(crate) use names::unknown_name;

use super::faults::{compile_failures, compile_faults, Fault, FaultTargets};
use super::{CallEdge, Model, Op, PublishStep, Service, ServiceId, Topic};
use crate::error::{At, LoadError, Problem, Problems};
use crate::spec::locate::Locator;
use crate::spec::{DeadlineSpec, TopologySpec};
use crate::time::SimDuration;
use names::NameTable;

/// The state of one compilation: the problems found so far, the name tables, and the
/// calls, blocks and publishes compiled so far (their ids are their positions).
struct Compiler<'a> {
    /// The topology-wide deadline settings, the default of every call.
    deadlines: DeadlineSpec,
    problems: Problems,
    services: NameTable<'a>,
    topics: NameTable<'a>,
    queues: NameTable<'a>,
    calls: Vec<CallEdge>,
    blocks: Vec<Box<[Op]>>,
    publishes: Vec<PublishStep>,
    locator: Option<Locator<'a>>,
}

impl<'a> Compiler<'a> {
    fn new(spec: &TopologySpec, text: Option<&'a str>) -> Self {
        Compiler {
            deadlines: spec.deadlines.unwrap_or_default(),
            problems: Problems::new(),
            services: NameTable::services(),
            topics: NameTable::topics(),
            queues: NameTable::queues(),
            calls: Vec::new(),
            blocks: Vec::new(),
            publishes: Vec::new(),
            locator: text.map(Locator::new),
        }
    }

    /// The place at `path` in the file, to report problems there.
    fn at(&mut self, path: &str) -> At<'_> {
        self.problems.at(path)
    }

    /// The line of the `nth` (0-based) element at `path`, e.g. a duplicate's second
    /// definition, so that a problem points at it rather than at the first. Problems left
    /// without a line get the line of the first element when the compilation ends.
    fn line_of_nth(&self, path: &str, nth: usize) -> Option<usize> {
        self.locator.as_ref()?.line_of_nth(path, nth)
    }

    /// The faults of the timeline and the failure processes of `services` (set on them),
    /// checked against the services, call edges and topics compiled before.
    fn faults(
        &mut self,
        spec: &TopologySpec,
        services: &mut [Service],
        topics: &[Topic],
        duration: SimDuration,
    ) -> Vec<Fault> {
        let targets: Vec<(&str, u32)> = services
            .iter()
            .map(|s| (s.name.as_str(), s.replicas))
            .collect();
        let pairs: Vec<(ServiceId, ServiceId)> =
            self.calls.iter().map(|e| (e.from, e.to)).collect();
        let topic_targets: Vec<(&str, u32)> = topics
            .iter()
            .map(|t| (t.name.as_str(), t.partitions))
            .collect();
        let faults = compile_faults(
            &spec.faults,
            &FaultTargets {
                services: &targets,
                calls: &pairs,
                duration,
                topics: &topic_targets,
            },
            &mut self.problems,
        );
        for ((name, s), svc) in spec.services.iter().zip(services.iter_mut()) {
            if let Some(f) = &s.failures {
                let mut at = self.problems.at(format!("services[{name}].failures"));
                svc.failures = compile_failures(f, &mut at);
            }
        }
        faults
    }

    /// Every problem, each at a line where the source text is known, in file order (stable,
    /// so that problems on one line keep the order they were found in).
    fn into_problems(self) -> Vec<Problem> {
        let mut problems = self.problems.into_vec();
        if let Some(locator) = &self.locator {
            for p in problems.iter_mut().filter(|p| p.line.is_none()) {
                p.line = locator.line_of_nth(&p.path, 0);
            }
        }
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        problems
    }
}

impl Model {
    /// Validates `spec` and compiles it. `origin` names the source in messages; `text` is the
    /// text `spec` was read from, which adds line numbers to problems and which the model
    /// keeps for overrides. The one compiler: every public way to a model (a file, a string,
    /// a spec, the builder, an override) comes through here with the text it parsed.
    pub(crate) fn compile(
        spec: &TopologySpec,
        origin: &str,
        text: &str,
    ) -> Result<Model, LoadError> {
        let mut c = Compiler::new(spec, Some(text));
        c.declare_broker_names(spec);
        let run = c.run(&spec.run);
        c.declare_service_names(spec);
        let mut services = c.services(spec);
        let entries = c.workload(&spec.workload);
        let topics = c.topics(spec);
        let queues = c.work_queues(spec);
        let faults = c.faults(spec, &mut services, &topics, run.duration);
        let graph = c.call_graph(&services);

        if !c.problems.is_empty() {
            return Err(LoadError::Invalid {
                origin: origin.to_string(),
                problems: c.into_problems(),
            });
        }
        Ok(Model {
            name: spec.name.clone().unwrap_or_else(|| default_name(origin)),
            origin: origin.to_string(),
            run,
            services,
            calls: c.calls,
            blocks: c.blocks,
            entries,
            graph,
            faults,
            topics,
            queues,
            publishes: c.publishes,
            propagate_entry_deadline: spec.deadlines.and_then(|d| d.propagate).unwrap_or(false),
            cancel_entry_on_timeout: spec.deadlines.and_then(|d| d.cancel).unwrap_or(false),
            source: std::sync::Arc::from(text),
            variants: super::variants::of_spec(spec),
        })
    }
}

/// The name of a topology that gives none: its file name without the extension.
fn default_name(origin: &str) -> String {
    std::path::Path::new(origin)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "topology".to_string())
}
