//! Names: the tables of services, topics and queues, duplicate names, and references to
//! names with a "did you mean".
//!
//! The tables are filled before anything refers to them, so that a call may name a service
//! defined further down: first the topics and the queues ([`Compiler::declare_broker_names`]),
//! then, after the run settings, the services ([`Compiler::declare_service_names`]: an empty
//! name, then a duplicate). A duplicate (entry point names too, checked with the workload) is
//! reported at its own definition, not at the first. A reference to a name missing from its
//! table is reported by [`unknown_name`]: the closest name when it looks like a typo, else
//! the known names, else how to define one.

use super::Compiler;
use crate::error::{did_you_mean, Problem};
use crate::model::ServiceId;
use crate::spec::TopologySpec;
use std::collections::BTreeMap;

/// The names of one section of the file (services, topics or queues) and their indices.
pub(super) struct NameTable<'a> {
    /// What one entry is, for messages: `service`, `topic`, `queue`.
    kind: &'static str,
    /// What to say when a name is looked up and the section has none.
    when_empty: &'static str,
    /// Index of each name; a duplicate keeps the index of its last definition.
    ids: BTreeMap<&'a str, u32>,
}

impl<'a> NameTable<'a> {
    /// The table of services.
    pub(super) fn services() -> Self {
        NameTable {
            kind: "service",
            when_empty: "no services are defined",
            ids: BTreeMap::new(),
        }
    }

    /// The table of topics.
    pub(super) fn topics() -> Self {
        NameTable {
            kind: "topic",
            when_empty: "no topics are defined (add them under `topics:`)",
            ids: BTreeMap::new(),
        }
    }

    /// The table of work queues.
    pub(super) fn queues() -> Self {
        NameTable {
            kind: "queue",
            when_empty: "no queues are defined (add them under `queues:`)",
            ids: BTreeMap::new(),
        }
    }

    /// The index of `name`, or the problem that it is unknown.
    fn get(&self, name: &str) -> Result<u32, Problem> {
        self.ids.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = self.ids.keys().copied().collect();
            unknown_name(self.kind, name, &known, self.when_empty)
        })
    }
}

/// The problem `unknown {kind} `{name}``, with a hint: the closest of `known` if it looks
/// like a typo, else the list of `known`, else `when_empty`.
pub(crate) fn unknown_name(kind: &str, name: &str, known: &[&str], when_empty: &str) -> Problem {
    let hint = match did_you_mean(name, known) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.is_empty() => when_empty.to_string(),
        None => format!("known {kind}s: {}", known.join(", ")),
    };
    Problem::new("", format!("unknown {kind} `{name}`")).with_hint(hint)
}

/// Counts the definitions of each name, in file order.
#[derive(Default)]
pub(super) struct Occurrences<'a>(BTreeMap<&'a str, usize>);

impl<'a> Occurrences<'a> {
    /// How many times `name` was defined before this definition (0 for the first).
    pub(super) fn next(&mut self, name: &'a str) -> usize {
        let count = self.0.entry(name).or_insert(0);
        *count += 1;
        *count - 1
    }
}

impl<'a> Compiler<'a> {
    /// Fills the tables of topics and queues, reporting duplicate names.
    pub(super) fn declare_broker_names(&mut self, spec: &'a TopologySpec) {
        let names = spec.topics.iter().map(|(name, _)| name.as_str());
        self.topics = self.declare(NameTable::topics(), "topics", names);
        let names = spec.queues.iter().map(|(name, _)| name.as_str());
        self.queues = self.declare(NameTable::queues(), "queues", names);
    }

    /// Fills the table of services, reporting a topology without services, and empty and
    /// duplicate names.
    pub(super) fn declare_service_names(&mut self, spec: &'a TopologySpec) {
        if spec.services.is_empty() {
            self.at("services")
                .push_with_hint("no services are defined", "add at least one");
        }
        let names = spec.services.iter().map(|(name, _)| name.as_str());
        self.services = self.declare(NameTable::services(), "services", names);
    }

    /// Adds `names` (in file order) to `table`, reporting each duplicate at `section[name]`
    /// (and, for services, an empty name first).
    fn declare(
        &mut self,
        mut table: NameTable<'a>,
        section: &str,
        names: impl Iterator<Item = &'a str>,
    ) -> NameTable<'a> {
        let mut seen = Occurrences::default();
        for (i, name) in names.enumerate() {
            let nth = seen.next(name);
            if table.kind == "service" && name.trim().is_empty() {
                self.at(&format!("{section}[{name}]"))
                    .push("a service name must not be empty");
            }
            table.ids.insert(name, i as u32);
            if nth > 0 {
                self.duplicate(&format!("{section}[{name}]"), table.kind, name, nth);
            }
        }
        table
    }

    /// Reports the `nth` definition of `name` (a `kind`) at `path` as a duplicate.
    pub(super) fn duplicate(&mut self, path: &str, kind: &str, name: &str, nth: usize) {
        let line = self.line_of_nth(path, nth);
        self.at(path)
            .push_with_hint(
                format!("duplicate {kind} name `{name}`"),
                format!("each {kind} needs its own name"),
            )
            .line = line;
    }

    /// The service called `name`, or a problem at `path`.
    pub(super) fn service_ref(&mut self, path: &str, name: &str) -> Option<ServiceId> {
        let id = self.services.get(name);
        self.resolved(path, id).map(ServiceId)
    }

    /// The index of the topic called `name`, or a problem at `path`.
    pub(super) fn topic_ref(&mut self, path: &str, name: &str) -> Option<u32> {
        let id = self.topics.get(name);
        self.resolved(path, id)
    }

    /// The index of the work queue called `name`, or a problem at `path`.
    pub(super) fn queue_ref(&mut self, path: &str, name: &str) -> Option<u32> {
        let id = self.queues.get(name);
        self.resolved(path, id)
    }

    fn resolved(&mut self, path: &str, id: Result<u32, Problem>) -> Option<u32> {
        match id {
            Ok(id) => Some(id),
            Err(p) => {
                self.at(path).add(p);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let known = ["payment", "inventory", "gateway"];
        assert_eq!(did_you_mean("paymnet", &known), Some("payment"));
        assert_eq!(did_you_mean("inventroy", &known), Some("inventory"));
        assert_eq!(did_you_mean("warehouse", &known), None);
    }

    #[test]
    fn unknown_names_get_a_typo_fix_the_known_names_or_how_to_define_one() {
        let known = ["payment", "gateway"];
        let typo = unknown_name("service", "paymnet", &known, "none");
        assert_eq!(typo.message, "unknown service `paymnet`");
        assert_eq!(typo.hint.as_deref(), Some("did you mean `payment`?"));
        assert_eq!(
            unknown_name("service", "warehouse", &known, "none").text(),
            "unknown service `warehouse`; known services: payment, gateway"
        );
        assert_eq!(
            unknown_name("topic", "orders", &[], "no topics are defined").text(),
            "unknown topic `orders`; no topics are defined"
        );
    }
}
