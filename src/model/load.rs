//! From bytes to a [`Model`]: UTF-8, the RON parse and validation, with every message at a
//! line.
//!
//! serde stops at the first unknown field, so a file with three typos would be fixed in three
//! rounds. Instead, each unknown field the parser reports becomes a [`Problem`] (its path, its
//! line, the closest valid field name), is blanked out of a working copy of the text (spaces
//! for every byte but newlines, so offsets and lines do not move), and the parse goes on. When
//! the field has a close valid name and its value parses under that name (and the struct
//! does not have that field already), it is put back under that name instead, so that what
//! is inside it (a misspelt `run:` with its own typos) and its value are checked too; a
//! required field is put back so in any case, since the parse cannot go on without it. When
//! the rest parses, the model is validated too and its problems join the unknown fields, so
//! the file is fixed in one round. A syntax error proper (an unbalanced bracket, a string
//! where a number belongs) still stops the parse: nothing after it can be read with
//! confidence.

use super::Model;
use crate::error::did_you_mean;
use crate::error::{LoadError, Problem};
use crate::spec::locate::{blank_element, line_col, offset_of, path_at};

/// Most unknown fields collected from one file: each costs a parse of the whole text.
const MAX_UNKNOWN_FIELDS: usize = 100;

/// Decodes a topology file's bytes, naming the line and column of the first byte that is not
/// UTF-8. A leading byte-order mark is skipped.
pub(crate) fn decode<'b>(bytes: &'b [u8], origin: &str) -> Result<&'b str, LoadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = e.valid_up_to();
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, col) = line_col(before, valid);
        LoadError::Syntax {
            origin: origin.to_string(),
            line,
            col,
            message: format!(
                "invalid UTF-8 (byte 0x{:02x}); topology files are UTF-8 text: save the file as UTF-8",
                bytes[valid]
            ),
        }
    })
}

/// An unknown field taken out of the working text.
struct Blanked {
    /// Where it starts in the working text (moved by later renames before it).
    at: usize,
    /// The element as written, `name: value,`.
    original: String,
    /// Its name as written.
    found: String,
    /// Its path, e.g. `workload[main].arival`.
    path: String,
    /// The closest valid field name, if one is close.
    suggestion: Option<&'static str>,
    /// Put back under the suggested name (its value fits there, or that field is required).
    renamed: bool,
}

/// Parses and validates topology `text` (see the module documentation), and every variant
/// it declares.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Model, LoadError> {
    let model = parse_unchecked(text, origin)?;
    if model.variants.is_empty() {
        return Ok(model);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let problems = super::variants::problems(&model, text);
    if problems.is_empty() {
        Ok(model)
    } else {
        Err(invalid(origin, problems))
    }
}

/// Parses and validates topology `text`, leaving its variants unchecked (a variant's own
/// text still declares them all).
pub(crate) fn parse_unchecked(text: &str, origin: &str) -> Result<Model, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut error = match crate::spec::parse_ron(text) {
        Ok(spec) => return Model::compile(&spec, origin, text),
        Err(e) => e,
    };
    let mut work = text.to_string();
    let mut unknown: Vec<Problem> = Vec::new();
    let mut blanked: Vec<Blanked> = Vec::new();
    // Each round blanks a new field (at most MAX_UNKNOWN_FIELDS) or renames one that was
    // blanked (each at most once), so the loop ends.
    loop {
        let at = offset_of(&work, error.span.start.line, error.span.start.col);
        let next = match &error.code {
            ron::Error::NoSuchStructField {
                expected, found, ..
            } if unknown.len() < MAX_UNKNOWN_FIELDS => {
                let path = path_at(&work, at);
                let Some(original) = blank_element(&mut work, at) else {
                    break;
                };
                let mut problem = unknown_field(found, expected).within(&path);
                problem.line = Some(error.span.start.line);
                unknown.push(problem);
                let suggestion = did_you_mean(found, expected);
                blanked.push(Blanked {
                    at,
                    original,
                    found: found.clone(),
                    path,
                    suggestion,
                    renamed: false,
                });
                // Read the value under the suggested name if it fits there, so that what is
                // inside it is checked too (a misspelt `run:` hides nothing), else leave it
                // out.
                let k = blanked.len() - 1;
                let attempt = suggestion.and_then(|name| {
                    let mut tried = work.clone();
                    let mut records = blanked.iter().map(|b| b.at).collect::<Vec<_>>();
                    let end = rename(&mut tried, &blanked[k], name, &mut records)?;
                    let result = crate::spec::parse_ron(&tried);
                    Some((tried, records, end, result))
                });
                match attempt {
                    Some((tried, records, end, result)) if fits(&tried, &result, end) => {
                        work = tried;
                        for (b, at) in blanked.iter_mut().zip(records) {
                            b.at = at;
                        }
                        blanked[k].renamed = true;
                        result
                    }
                    _ => crate::spec::parse_ron(&work),
                }
            }
            // A required field is missing because it was misspelt and left out: put it back
            // under the name it was meant to have, so that the parse can go on.
            ron::Error::MissingStructField { field, .. } => {
                let within = path_at(&work, at);
                let Some(k) = blanked.iter().position(|b| {
                    !b.renamed && b.suggestion == Some(*field) && b.path == join(&within, &b.found)
                }) else {
                    break;
                };
                let mut records = blanked.iter().map(|b| b.at).collect::<Vec<_>>();
                if rename(&mut work, &blanked[k], field, &mut records).is_none() {
                    break;
                }
                for (b, at) in blanked.iter_mut().zip(records) {
                    b.at = at;
                }
                blanked[k].renamed = true;
                crate::spec::parse_ron(&work)
            }
            _ => break,
        };
        match next {
            Ok(spec) => {
                let mut problems = unknown;
                if let Err(LoadError::Invalid { problems: more, .. }) =
                    Model::compile(&spec, origin, &work)
                {
                    problems.extend(more);
                }
                return Err(invalid(origin, problems));
            }
            Err(e) => error = e,
        }
    }
    if unknown.is_empty() {
        return Err(syntax(origin, text, &error));
    }
    // The unknown fields, and the error that stopped the parse after them.
    let at = offset_of(&work, error.span.start.line, error.span.start.col);
    let mut problem = Problem::new(path_at(&work, at), message(&error.code));
    problem.line = Some(error.span.start.line);
    unknown.push(problem);
    Err(invalid(origin, unknown))
}

/// Puts blanked element `b` back into `work` under the field name `name`; moves the offsets
/// in `records` that follow it by the change of length. Returns where the element now ends,
/// or `None` (and changes nothing) when the element does not start with the name the parser
/// reported (a raw identifier such as `r#name`).
fn rename(work: &mut String, b: &Blanked, name: &str, records: &mut [usize]) -> Option<usize> {
    let rest = b.original.strip_prefix(b.found.as_str())?;
    let renamed = format!("{name}{rest}");
    let grow = renamed.len() as isize - b.original.len() as isize;
    work.replace_range(b.at..b.at + b.original.len(), &renamed);
    for at in records.iter_mut().filter(|at| **at > b.at) {
        *at = at.saturating_add_signed(grow);
    }
    Some(b.at + renamed.len())
}

/// Whether a renamed element ending at byte `end` of `text` was read: the parse succeeded,
/// or stopped after the element, or at another unknown field (the loop goes on with it),
/// but not at a field given twice (the suggested one was there already).
fn fits(
    text: &str,
    result: &Result<crate::spec::TopologySpec, ron::error::SpannedError>,
    end: usize,
) -> bool {
    match result {
        Ok(_) => true,
        Err(e) => match e.code {
            ron::Error::DuplicateStructField { .. } => false,
            ron::Error::NoSuchStructField { .. } => true,
            _ => offset_of(text, e.span.start.line, e.span.start.col) >= end,
        },
    }
}

/// `parent.field`, or `field` at the top level.
fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

fn invalid(origin: &str, mut problems: Vec<Problem>) -> LoadError {
    // File order (stable, so problems on one line keep the order they were found in).
    problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    LoadError::Invalid {
        origin: origin.to_string(),
        problems,
    }
}

/// The problem "unknown field `x`" (at the field itself), with the closest valid name as its
/// hint, or all of them when none is close.
fn unknown_field(found: &str, expected: &[&str]) -> Problem {
    let hint = match did_you_mean(found, expected) {
        Some(name) => format!("did you mean `{name}`?"),
        None if expected.is_empty() => "nothing goes here".to_string(),
        None => format!("the fields here are {}", quoted(expected)),
    };
    Problem::new("", format!("unknown field `{found}`")).with_hint(hint)
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parse error that stops the parse, at its line and column, with its path when it has one.
fn syntax(origin: &str, text: &str, e: &ron::error::SpannedError) -> LoadError {
    let at = offset_of(text, e.span.start.line, e.span.start.col);
    let path = path_at(text, at);
    let message = message(&e.code);
    let message = if path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    };
    LoadError::Syntax {
        origin: origin.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: crate::error::one_line(&message).into_owned(),
    }
}

/// The parser's message, in the words of the file rather than of the Rust types behind it,
/// with a hint for the usual mistakes.
fn message(code: &ron::Error) -> String {
    match code {
        ron::Error::IntegerOutOfBounds => format!(
            "{}: counts (replicas, workers, queue, seed, max_in_flight) are whole numbers ≥ 0",
            lower_first(&code.to_string())
        ),
        ron::Error::ExpectedString => format!(
            "{}: names and durations are quoted, durations with a unit (\"150ms\", not 150)",
            lower_first(&code.to_string())
        ),
        ron::Error::NoSuchStructField {
            expected, found, ..
        } => unknown_field(found, expected).text().into_owned(),
        ron::Error::NoSuchEnumVariant {
            expected, found, ..
        } => match did_you_mean(found, expected) {
            Some(name) => format!(
                "unknown variant `{found}`; did you mean `{name}`? (one of {})",
                quoted(expected)
            ),
            None => format!("unknown variant `{found}`; one of {}", quoted(expected)),
        },
        ron::Error::MissingStructField { field, .. } => {
            format!("missing field `{field}`, which has no default")
        }
        ron::Error::DuplicateStructField { field, .. } => {
            format!("field `{field}` is given twice; keep one")
        }
        code => lower_first(&code.to_string()),
    }
}

/// `text` with its first letter in lower case, as every message of this crate is.
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_line_column_and_byte() {
        let bytes = b"Topology(\n  services: {\"a\xe9\": ()},\n)";
        let e = decode(bytes, "f.ron").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.ron:2:16: invalid UTF-8 (byte 0xe9); topology files are UTF-8 text: save the file as UTF-8"
        );
        // Columns count characters, as the parser's do.
        let mut bytes = "(µ\n→ →ÿ".as_bytes().to_vec();
        bytes.push(0xff);
        let e = decode(&bytes, "f").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f:2:5: invalid UTF-8 (byte 0xff)"),
            "{e}"
        );
        assert_eq!(decode(b"\xEF\xBB\xBFok", "f").unwrap(), "ok");
    }

    #[test]
    fn unknown_field_messages_suggest_or_list() {
        let fields = ["replicas", "workers", "queue"];
        let typo = unknown_field("replica", &fields);
        assert_eq!(typo.message, "unknown field `replica`");
        assert_eq!(typo.hint.as_deref(), Some("did you mean `replicas`?"));
        assert_eq!(
            unknown_field("colour", &fields).text(),
            "unknown field `colour`; the fields here are `replicas`, `workers`, `queue`"
        );
    }
}
