//! Models from specs made in Rust (the [`crate::builder`], or a [`TopologySpec`] edited by
//! hand): written as RON and loaded as a file is, so that there is one compiler and the model
//! keeps its text for overrides and variants.

use super::Model;
use crate::builder::Topology;
use crate::error::LoadError;
use crate::spec::TopologySpec;

impl Model {
    /// Validates and compiles `spec` as the loader does a file: it is written as RON
    /// ([`TopologySpec::to_ron`]) and that text is loaded, every variant checked, so a bad
    /// value gets the message it would get in a file. `origin` names it in messages. The
    /// problems carry no line (the text is not one the user wrote); the model keeps the
    /// text, so [`Model::with_overrides`] and [`Model::variant`] work on it.
    pub fn from_spec(spec: &TopologySpec, origin: &str) -> Result<Model, LoadError> {
        super::load::parse(&spec.to_ron(), origin).map_err(|e| match e {
            LoadError::Invalid { origin, problems } => LoadError::Invalid {
                origin,
                problems: problems
                    .into_iter()
                    .map(|mut p| {
                        p.line = None;
                        p
                    })
                    .collect(),
            },
            other => other,
        })
    }
}

impl Model {
    /// The topology as written: the spec its text reads as, variants included. Edit its
    /// fields and compile it again with [`Model::from_spec`] (checked as a file is), or write
    /// it out with [`TopologySpec::to_ron`].
    pub fn spec(&self) -> TopologySpec {
        // Every model is compiled from a text that parsed as this spec (see `load::parse`):
        // reading it again cannot fail.
        crate::spec::parse_ron(&self.source)
            .expect("a model's text parsed when the model was compiled")
    }
}

impl Topology {
    /// Validates and compiles the topology (see [`Model::from_spec`]): every problem at once,
    /// each at its path, with the message a file would get. Messages name it
    /// [`Topology::origin`] (`shop (built)`).
    pub fn build(&self) -> Result<Model, LoadError> {
        Model::from_spec(&self.spec()?, &self.origin())
    }
}
