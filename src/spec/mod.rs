//! The topology file as written: serde types that mirror the RON format one to one.
//!
//! Nothing here is validated beyond what the parser itself checks (shape, unknown fields,
//! integer ranges); [`crate::model::Model::compile`] turns a [`TopologySpec`] into a checked,
//! name-resolved model and reports *every* problem at once. Durations stay strings here
//! (`"150ms"`) so that a bad one becomes a problem with a path instead of stopping the parse.
//!
//! The format reference, with every field and its default, is `docs/format.md`.

mod broker;
mod distributions;
mod faults;
pub(crate) mod locate;
mod ordered_map;
pub mod overrides;
mod policies;
mod run;
mod services;
mod steps;
mod workload;

pub use broker::{ExhaustedSpec, QueueSpec, SubscriberSpec, TopicSpec};
pub use distributions::DistSpec;
pub use faults::{FailureSpec, FaultKindSpec, FaultSpec};
pub use ordered_map::OrderedMap;
pub use policies::{
    BackoffSpec, BreakerSpec, BudgetSpec, BulkheadSpec, DeadlineSpec, JitterSpec, RetryOnSpec,
    RetrySpec, WindowSpec,
};
pub use run::RunSpec;
pub use services::{BalancerSpec, NonBlockingSpec, ServiceSpec};
pub use steps::{BranchSpec, OnFailureSpec, StepSpec, WhenDownSpec};
pub use workload::{ArrivalSpec, EntrySpec, RatePointSpec};

use serde::Deserialize;

/// A whole topology file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Topology")]
pub struct TopologySpec {
    /// A short name shown in reports; defaults to the file name.
    #[serde(default)]
    pub name: Option<String>,
    /// Run length, warm-up, seed and safety caps.
    #[serde(default)]
    pub run: RunSpec,
    /// The entry points and their arrival processes.
    #[serde(default)]
    pub workload: Vec<EntrySpec>,
    /// The services, by name, in file order (duplicates are kept so they can be reported).
    pub services: OrderedMap<ServiceSpec>,
    /// Timed faults: crashes, hangs, slowdowns, error bursts, partitions, latency.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Deadline propagation and cancellation for every call (default: neither).
    #[serde(default)]
    pub deadlines: Option<DeadlineSpec>,
    /// Topics of the simulated broker, by name (default none).
    #[serde(default)]
    pub topics: OrderedMap<TopicSpec>,
    /// Work queues of the simulated broker, by name (default none).
    #[serde(default)]
    pub queues: OrderedMap<QueueSpec>,
    /// Named variants of this topology, each a map from a path to its new value (see
    /// [`overrides`]): `{ "breaker": { "services[api].steps[0].breaker": (failure_rate: 0.5) } }`.
    /// The values are kept as written and applied to the text.
    #[serde(default)]
    pub variants: OrderedMap<OrderedMap<Box<ron::value::RawValue>>>,
}

/// Parses RON text into a [`TopologySpec`], with `Option` fields written without `Some(...)`.
pub fn parse_ron(text: &str) -> Result<TopologySpec, ron::error::SpannedError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
}
