//! Variants and overrides: new models made from a model's text with `PATH=VALUE` edits
//! (see [`crate::spec::overrides`]), each loaded and validated exactly like a file.

use super::Model;
use crate::error::{did_you_mean, LoadError, Problem};
use crate::spec::locate::{offset_of, path_at, Locator};
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
    /// as a file is. The way to change a model (with [`Model::variant`] and the builder): a
    /// bad value gets the message it would get in the file, with the override in place of
    /// the line (`shop.ron [services[api].workers=0]: services[api].workers: workers must be
    /// at least 1 …`); a path that leads nowhere, the closest name. This model is unchanged.
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
        let edited = apply(&self.source, overrides).map_err(|p| LoadError::Invalid {
            origin: origin.to_string(),
            problems: vec![p],
        })?;
        super::load::parse_unchecked(&edited, origin)
            .map_err(|e| self.placed(e, &edited, overrides))
    }

    /// A load error of the edited text `edited`, placed for the user, who never saw that
    /// text: a problem that an override caused (at its path or inside it) loses its line,
    /// since the origin already names the override (`shop.ron [services[api].workers=0]`);
    /// any other problem gets its line in this model's text. A syntax error (only an edit
    /// can break a text that parsed) becomes a problem at its path, in the same words.
    fn placed(&self, e: LoadError, edited: &str, overrides: &[Override]) -> LoadError {
        let locator = Locator::new(&self.source);
        let place = |mut p: Problem| {
            p.line = if overrides.iter().any(|o| inside(&p.path, &o.path)) {
                None
            } else {
                locator.line_of_nth(&p.path, 0)
            };
            p
        };
        match e {
            LoadError::Invalid { origin, problems } => LoadError::Invalid {
                origin,
                problems: problems.into_iter().map(place).collect(),
            },
            LoadError::Syntax {
                origin,
                line,
                col,
                message,
            } => {
                let path = path_at(edited, offset_of(edited, line, col));
                let message = match message.strip_prefix(&format!("{path}: ")) {
                    Some(rest) => rest.to_string(),
                    None => message,
                };
                LoadError::Invalid {
                    origin,
                    problems: vec![place(Problem::new(path, message))],
                }
            }
            other => other,
        }
    }
}

/// Whether the problem at `path` lies at `edit` or inside it (`services[api].workers` is
/// inside `services[api]`; `services[apix]` is not).
fn inside(path: &str, edit: &str) -> bool {
    path.strip_prefix(edit)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
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
