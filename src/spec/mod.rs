//! The topology file as written: serde types that mirror the RON format one to one.
//!
//! Nothing here is validated beyond what the parser itself checks (shape, unknown fields,
//! integer ranges); [`crate::model::Model::from_spec`] turns a [`TopologySpec`] into a checked,
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

use serde::{Deserialize, Serialize};

/// A whole topology file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename = "Topology")]
pub struct TopologySpec {
    /// A short name shown in reports; defaults to the file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Run length, warm-up, seed and safety caps.
    #[serde(default, skip_serializing_if = "RunSpec::is_empty")]
    pub run: RunSpec,
    /// The entry points and their arrival processes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload: Vec<EntrySpec>,
    /// The services, by name, in file order (duplicates are kept so they can be reported).
    pub services: OrderedMap<ServiceSpec>,
    /// Timed faults: crashes, hangs, slowdowns, error bursts, partitions, latency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    /// Deadline propagation and cancellation for every call (default: neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadlines: Option<DeadlineSpec>,
    /// Topics of the simulated broker, by name (default none).
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub topics: OrderedMap<TopicSpec>,
    /// Work queues of the simulated broker, by name (default none).
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub queues: OrderedMap<QueueSpec>,
    /// Named variants of this topology, each a map from a path to its new value (see
    /// [`overrides`]): `{ "breaker": { "services[api].steps[0].breaker": (failure_rate: 0.5) } }`.
    /// The values are kept as written and applied to the text.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub variants: OrderedMap<OrderedMap<Box<ron::value::RawValue>>>,
}

/// Parses RON text into a [`TopologySpec`], with `Option` fields written without `Some(...)`.
/// The values of `variants` are kept as written, less the blanks and comments around them.
pub fn parse_ron(text: &str) -> Result<TopologySpec, ron::error::SpannedError> {
    let mut spec: TopologySpec = ron_options().from_str(text)?;
    for (_, edits) in &mut spec.variants.0 {
        edits.0 = std::mem::take(&mut edits.0)
            .into_iter()
            .map(|(path, value)| (path, value.trim_boxed()))
            .collect();
    }
    Ok(spec)
}

/// RON as topology files are written: `Option` fields without `Some(...)`.
fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        // The serializer writes what the parser's own limit (128 levels) lets through, and
        // the parse of a deeper topology stops with a syntax error, not here.
        .without_recursion_limit()
}

impl TopologySpec {
    /// The topology as RON text that [`parse_ron`] (and so [`crate::parse`]) reads back as
    /// this same spec: fields left at their defaults are left out, `Option`s are written
    /// without `Some(...)`, and each top-level section starts a line. Comments are not kept.
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new()
            .indentor("    ")
            .depth_limit(DEPTH)
            .struct_names(false);
        match ron_options().to_string_pretty(self, config) {
            Ok(body) => format!("Topology{body}\n"),
            // The spec is plain data (strings, numbers, lists, maps, raw values that were
            // validated when they were read) and the writer is a String: nothing can fail.
            Err(e) => unreachable!("a topology spec always serializes to RON: {e}"),
        }
    }
}

/// Any part of a spec as RON on one line, as a file or an override's value writes it
/// (`(attempts: 3, on: [Error, Timeout])`), fields at their defaults left out.
pub fn to_ron_value<T: Serialize + ?Sized>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(0)
        .struct_names(false);
    match ron_options().to_string_pretty(value, config) {
        Ok(text) => text,
        // As in `to_ron`: spec types are plain data written to a String.
        Err(e) => unreachable!("a spec value always serializes to RON: {e}"),
    }
}

/// Levels of nesting written on lines of their own: the top-level sections, the entries of
/// `services`, `workload`, `topics`, … and their fields; anything deeper stays on one line.
const DEPTH: usize = 3;
