//! Variants and overrides: new models made from a model's text with `PATH=VALUE` edits
//! (see [`crate::spec::overrides`]), each loaded and validated exactly like a file.

use super::Model;
use crate::error::{did_you_mean, LoadError, Problem};
use crate::spec::locate::Locator;
use crate::spec::overrides::{apply, Override};
use crate::spec::TopologySpec;

/// A named variant a topology file declares under `variants:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    /// Its name (`"breaker"`).
    pub name: String,
    /// Its edits, in file order.
    pub overrides: Vec<Override>,
}

/// The variants of `spec`, values as written.
pub(super) fn of_spec(spec: &TopologySpec) -> Vec<Variant> {
    spec.variants
        .iter()
        .map(|(name, edits)| Variant {
            name: name.clone(),
            overrides: edits
                .iter()
                .map(|(path, value)| Override::new(path.clone(), value.get_ron().trim()))
                .collect(),
        })
        .collect()
}

impl Model {
    /// A new model: this one's text with `overrides` applied in order, loaded and validated
    /// as a file is (a bad value gets the message it would get in a file; a path that leads
    /// nowhere, the closest name). The model must have been loaded from text.
    pub fn with_overrides(&self, overrides: &[Override]) -> Result<Model, LoadError> {
        let edits: Vec<String> = overrides.iter().map(Override::to_string).collect();
        self.edited(
            overrides,
            &format!("{} [{}]", self.origin, edits.join("; ")),
        )
    }

    /// The variant `name` that the file declares, as a model of its own.
    pub fn variant(&self, name: &str) -> Result<Model, LoadError> {
        let Some(v) = self.variants.iter().find(|v| v.name == name) else {
            let known: Vec<&str> = self.variants.iter().map(|v| v.name.as_str()).collect();
            let message = match did_you_mean(name, &known) {
                Some(n) => format!("no variant `{name}`; did you mean `{n}`?"),
                None if known.is_empty() => {
                    format!("no variant `{name}`: the topology declares none (add them under `variants:`)")
                }
                None => format!(
                    "no variant `{name}`; the topology declares: {}",
                    known.join(", ")
                ),
            };
            return Err(LoadError::Invalid {
                origin: self.origin.clone(),
                problems: vec![Problem {
                    path: format!("variants[{name}]"),
                    message,
                    line: None,
                    hint: None,
                }],
            });
        };
        self.edited(&v.overrides, &format!("{} (variant {name})", self.origin))
    }

    fn edited(&self, overrides: &[Override], origin: &str) -> Result<Model, LoadError> {
        let Some(text) = &self.source else {
            return Err(LoadError::Invalid {
                origin: origin.to_string(),
                problems: vec![Problem {
                    path: String::new(),
                    message: "this model was not loaded from text, so it cannot be edited by path; build the variant with the spec instead".into(),
                    line: None,
                    hint: None,
                }],
            });
        };
        let edited = apply(text, overrides).map_err(|p| LoadError::Invalid {
            origin: origin.to_string(),
            problems: vec![p],
        })?;
        super::load::parse_unchecked(&edited, origin)
    }
}

/// Every variant of `model` applied and loaded: the problems of those that fail, each at
/// the line of its variant in `text`.
pub(super) fn problems(model: &Model, text: &str) -> Vec<Problem> {
    let locator = Locator::new(text);
    let mut out = Vec::new();
    for v in &model.variants {
        let Err(e) = model.variant(&v.name) else {
            continue;
        };
        let path = format!("variants[{}]", v.name);
        let line = locator.line_of_nth(&path, 0);
        match e {
            LoadError::Invalid { problems, .. } => {
                out.extend(problems.into_iter().map(|p| Problem {
                    path: path.clone(),
                    message: format!("{}: {}", p.path, p.text()),
                    line,
                    hint: None,
                }))
            }
            other => out.push(Problem {
                path: path.clone(),
                message: other.to_string(),
                line,
                hint: None,
            }),
        }
    }
    out
}
