//! Python values as RON text: how a nested dict becomes a topology file.
//!
//! A dict is the topology in the shape serde gives the file's types (the shape
//! `Model.to_dict()` returns), so that every dict the package hands out reads back:
//!
//! * a struct is a dict of its fields (`{"workers": 8, "work": …}` → `(workers: 8, work: …)`);
//!   a field set to `None` is left out, so it takes its default;
//! * an enum variant is a dict with one key, the variant's capitalised name: `{"Exp": {"mean":
//!   "2ms"}}` → `Exp(mean: "2ms")`, `{"Const": "1ms"}` → `Const("1ms")`,
//!   `{"Work": {"Exp": …}}` → `Work(Exp(…))`; a variant without fields may also be its name as
//!   a string where the file expects a variant (`"balancer": "RoundRobin"`, `"on": ["Error"]`);
//! * the four maps of the file (`services`, `topics`, `queues`, `variants`) are dicts by name;
//! * lists and tuples are lists; strings are strings (durations as text: `"150ms"`); numbers
//!   and booleans as they are (anything with `__index__` or `__float__`, such as numpy
//!   scalars, too).
//!
//! The text is then loaded like a file: what this module does not check (unknown fields,
//! values out of range, a duration without a unit), the loader reports with its path and a
//! "did you mean". The text is laid out as `TopologySpec::to_ron` lays a file out (sections,
//! their elements and the elements' fields each on a line), so the line numbers of a message
//! point into `microsim.dict_to_ron(d)`.

use microsim::error::Problem;
use microsim::spec::overrides::ron_value;
use microsim::LoadError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Fields whose value is an enum, where a bare string names a variant without fields.
const ENUM_FIELDS: [&str; 7] = [
    "balancer",
    "on_failure",
    "when_down",
    "jitter",
    "on",
    "on_exhausted",
    "fault",
];

/// The top-level fields that are maps by name.
const MAPS: [&str; 4] = ["services", "topics", "queues", "variants"];

/// Containers nested this deep or less are written one element a line.
const DEPTH: usize = 3;

/// What a value's text depends on besides the value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place<'a> {
    /// Anywhere a field of this name is, or an element of a list under it.
    Field(&'a str),
    /// A value of a variant's edits (`variants[name][path]`) or of an override: a string is a
    /// command-line value (`300ms`, `Fail`, `Exp(mean: "2ms")`).
    Edit,
}

/// A problem with the dict's shape, at `path`, as the loader would report it.
fn shape(origin: &str, path: &str, message: String) -> LoadError {
    LoadError::Invalid {
        origin: origin.to_string(),
        problems: vec![Problem::new(path, message)],
    }
}

fn join(path: &str, field: &str) -> String {
    microsim::error::join(path, field)
}

struct Writer<'o> {
    out: String,
    origin: &'o str,
}

impl Writer<'_> {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("    ");
        }
    }

    /// Writes the elements `items` (already written as text by `each`) inline or one a line.
    fn seq<T>(
        &mut self,
        open: &str,
        close: &str,
        items: &[T],
        depth: usize,
        mut each: impl FnMut(&mut Self, &T, usize) -> Result<(), LoadError>,
    ) -> Result<(), LoadError> {
        self.out.push_str(open);
        if items.is_empty() {
            self.out.push_str(close);
            return Ok(());
        }
        let lines = depth < DEPTH;
        for (i, item) in items.iter().enumerate() {
            if lines {
                self.out.push('\n');
                self.indent(depth + 1);
            } else if i > 0 {
                self.out.push_str(", ");
            }
            each(self, item, depth + 1)?;
            if lines {
                self.out.push(',');
            }
        }
        if lines {
            self.out.push('\n');
            self.indent(depth);
        }
        self.out.push_str(close);
        Ok(())
    }

    /// Writes `value`, found at `path` in `place`, `depth` containers deep.
    fn value(
        &mut self,
        value: &Bound<'_, PyAny>,
        place: Place<'_>,
        path: &str,
        depth: usize,
    ) -> Result<(), LoadError> {
        if value.is_none() {
            return Err(shape(
                self.origin,
                path,
                "`None` stands for a field left out; it cannot be an element of a list".into(),
            ));
        }
        if let Ok(b) = value.cast::<PyBool>() {
            self.out
                .push_str(if b.is_true() { "true" } else { "false" });
            return Ok(());
        }
        if let Ok(s) = value.cast::<PyString>() {
            let s = s.to_string();
            let text = match place {
                Place::Edit => ron_value(s.trim()),
                Place::Field(f) if ENUM_FIELDS.contains(&f) && is_variant_name(&s) => s,
                Place::Field(_) => ron::to_string(&s).unwrap_or_default(),
            };
            self.out.push_str(&text);
            return Ok(());
        }
        if value.cast::<PyInt>().is_ok() {
            return self.int(value, path);
        }
        if let Ok(f) = value.cast::<PyFloat>() {
            return self.float(f.value(), path);
        }
        if let Ok(d) = value.cast::<PyDict>() {
            return self.dict(d, place, path, depth);
        }
        if let Ok(l) = value.cast::<PyList>() {
            let items: Vec<Bound<'_, PyAny>> = l.iter().collect();
            return self.list(&items, place, path, depth);
        }
        if let Ok(t) = value.cast::<PyTuple>() {
            let items: Vec<Bound<'_, PyAny>> = t.iter().collect();
            return self.list(&items, place, path, depth);
        }
        // Numbers of other types (numpy's): integers first, so that 3 stays 3.
        if value.hasattr("__index__").unwrap_or(false) {
            return self.int(value, path);
        }
        if value.hasattr("__float__").unwrap_or(false) {
            if let Ok(f) = value.extract::<f64>() {
                return self.float(f, path);
            }
        }
        let kind = value
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "value".into());
        Err(shape(
            self.origin,
            path,
            format!("a `{kind}` cannot be written in a topology; give a dict, list, str, number or bool (durations as text: \"150ms\")"),
        ))
    }

    fn int(&mut self, value: &Bound<'_, PyAny>, path: &str) -> Result<(), LoadError> {
        match value.extract::<i128>() {
            Ok(i) => {
                self.out.push_str(&i.to_string());
                Ok(())
            }
            Err(_) => Err(shape(
                self.origin,
                path,
                "this integer is too large for any field".into(),
            )),
        }
    }

    fn float(&mut self, f: f64, path: &str) -> Result<(), LoadError> {
        match ron::to_string(&f) {
            Ok(text) => {
                self.out.push_str(&text);
                Ok(())
            }
            Err(e) => Err(shape(self.origin, path, format!("{f}: {e}"))),
        }
    }

    fn list(
        &mut self,
        items: &[Bound<'_, PyAny>],
        place: Place<'_>,
        path: &str,
        depth: usize,
    ) -> Result<(), LoadError> {
        let mut i = 0usize;
        self.seq("[", "]", items, depth, |w, item, d| {
            let p = format!("{path}[{i}]");
            i += 1;
            w.value(item, place, &p, d)
        })
    }

    /// A struct, or an enum variant (one capitalised key).
    fn dict(
        &mut self,
        d: &Bound<'_, PyDict>,
        place: Place<'_>,
        path: &str,
        depth: usize,
    ) -> Result<(), LoadError> {
        if d.len() == 1 {
            if let Some((k, v)) = d.iter().next() {
                if let Ok(name) = k.extract::<String>() {
                    if is_variant_name(&name) {
                        return self.variant(&name, &v, place, path, depth);
                    }
                }
            }
        }
        self.fields(d, path, depth, false)
    }

    /// `Name`, `Name(field: …)` or `Name(value)`.
    fn variant(
        &mut self,
        name: &str,
        payload: &Bound<'_, PyAny>,
        place: Place<'_>,
        path: &str,
        depth: usize,
    ) -> Result<(), LoadError> {
        self.out.push_str(name);
        if payload.is_none() {
            return Ok(());
        }
        if let Ok(d) = payload.cast::<PyDict>() {
            let is_struct = !(d.len() == 1
                && d.keys()
                    .iter()
                    .next()
                    .and_then(|k| k.extract::<String>().ok())
                    .is_some_and(|k| is_variant_name(&k)));
            if is_struct {
                return self.fields(d, path, depth, true);
            }
        }
        self.out.push('(');
        let inner = match place {
            Place::Edit => Place::Field(""),
            p => p,
        };
        self.value(payload, inner, path, depth)?;
        self.out.push(')');
        Ok(())
    }

    /// `(field: value, …)`, fields set to `None` left out; `inline` keeps them on one line.
    fn fields(
        &mut self,
        d: &Bound<'_, PyDict>,
        path: &str,
        depth: usize,
        inline: bool,
    ) -> Result<(), LoadError> {
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(key) = k.extract::<String>() else {
                return Err(shape(
                    self.origin,
                    path,
                    format!(
                        "field names are strings, not `{}`",
                        k.repr().map(|r| r.to_string()).unwrap_or_default()
                    ),
                ));
            };
            if !is_identifier(&key) {
                return Err(shape(
                    self.origin,
                    path,
                    format!("`{key}` is not a field name (letters, digits and `_`); a map by name belongs under `services`, `topics`, `queues` or `variants`"),
                ));
            }
            if !v.is_none() {
                items.push((key, v));
            }
        }
        let depth = if inline { DEPTH } else { depth };
        self.seq("(", ")", &items, depth, |w, (key, v), d| {
            w.out.push_str(key);
            w.out.push_str(": ");
            w.value(v, Place::Field(key), &join(path, key), d)
        })
    }

    /// `{"name": value, …}`: a map of the file; `edits` for a variant's edits.
    fn map(
        &mut self,
        value: &Bound<'_, PyAny>,
        path: &str,
        depth: usize,
        edits: bool,
    ) -> Result<(), LoadError> {
        let Ok(d) = value.cast::<PyDict>() else {
            return Err(shape(
                self.origin,
                path,
                format!(
                    "give a dict by name here (`{{\"name\": …}}`), not a `{}`",
                    value
                        .get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ),
            ));
        };
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(key) = k.extract::<String>() else {
                return Err(shape(self.origin, path, "names are strings".to_string()));
            };
            items.push((key, v));
        }
        let variants = path == "variants";
        self.seq("{", "}", &items, depth, |w, (key, v), d| {
            w.out.push_str(&ron::to_string(key).unwrap_or_default());
            w.out.push_str(": ");
            let p = format!("{path}[{key}]");
            if variants {
                w.map(v, &p, d, true)
            } else if edits {
                if v.is_none() {
                    return Err(shape(w.origin, &p, "an edit needs a value".into()));
                }
                w.value(v, Place::Edit, &p, d)
            } else {
                w.value(v, Place::Field(""), &p, d)
            }
        })
    }

    /// `Topology(…)` from the top-level dict.
    fn topology(&mut self, value: &Bound<'_, PyAny>) -> Result<(), LoadError> {
        let Ok(d) = value.cast::<PyDict>() else {
            return Err(shape(
                self.origin,
                "",
                "a topology is a dict of the file's sections (`{\"services\": {…}, \"workload\": […]}`)".into(),
            ));
        };
        self.out.push_str("Topology");
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(key) = k.extract::<String>() else {
                return Err(shape(self.origin, "", "section names are strings".into()));
            };
            if !is_identifier(&key) {
                return Err(shape(
                    self.origin,
                    "",
                    format!("`{key}` is not a section of a topology"),
                ));
            }
            if !v.is_none() {
                items.push((key, v));
            }
        }
        self.seq("(", ")", &items, 0, |w, (key, v), d| {
            w.out.push_str(key);
            w.out.push_str(": ");
            if MAPS.contains(&key.as_str()) {
                w.map(v, key, d, false)
            } else {
                w.value(v, Place::Field(key), key, d)
            }
        })?;
        self.out.push('\n');
        Ok(())
    }
}

/// A capitalised identifier: the name of an enum variant.
fn is_variant_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && is_identifier(s)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The topology `d` (nested dicts, see the module docs) as RON text.
pub(crate) fn topology_text(d: &Bound<'_, PyAny>, origin: &str) -> Result<String, LoadError> {
    let mut w = Writer {
        out: String::new(),
        origin,
    };
    w.topology(d)?;
    Ok(w.out)
}

/// `value` as a RON value of an override or a sweep point: a string as on the command line
/// (`300ms`, `Fail`, `Exp(mean: "2ms")`), anything else as in a dict.
pub(crate) fn edit_text(value: &Bound<'_, PyAny>, path: &str) -> Result<String, LoadError> {
    let mut w = Writer {
        out: String::new(),
        origin: "<override>",
    };
    w.value(value, Place::Edit, path, DEPTH)?;
    Ok(w.out)
}

/// The topology `d`, nested dicts in the shape of `Model.to_dict()`, as RON text (what
/// `from_dict` loads; the line numbers of its messages point into this text).
#[pyfunction]
#[pyo3(signature = (d, origin = "<dict>"))]
pub(crate) fn topology_to_ron(
    py: Python<'_>,
    d: &Bound<'_, PyAny>,
    origin: &str,
) -> PyResult<String> {
    topology_text(d, origin).map_err(|e| crate::topology_error(py, &e))
}

/// `value` as the RON text of an override's value (a string as on the command line).
#[pyfunction]
#[pyo3(signature = (value, path = ""))]
pub(crate) fn value_to_ron(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    path: &str,
) -> PyResult<String> {
    edit_text(value, path).map_err(|e| crate::topology_error(py, &e))
}
