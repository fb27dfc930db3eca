//! Finds the line a problem path points at in the source text.
//!
//! RON's parser reports positions only for syntax errors, so for problems found later we walk
//! the text along the path: for `services[gateway].steps[1].timeout`, the `services` field of
//! the topology, the `"gateway"` key of that map, its `steps` field, the second element of that
//! list and the `timeout` field in it. `[name]` also finds the element of a list whose `name`
//! field is `"name"` (entry points). The walk is a light scan of RON's brackets, strings and
//! comments, not a parser: when a segment cannot be found, the line of the last segment that
//! was found is reported, and the line where the topology starts when not even the first one
//! was (a top-level field left out, such as `workload`).
//!
//! The same scan goes the other way for the parser's errors: [`path_at`] names the element
//! at a byte offset (`services[api].replica`), and [`blank_element`] blanks one `field: value`
//! element so that the parse can go on past an unknown field.

/// Source text of a topology, searchable by problem path.
pub(crate) struct Locator<'a> {
    text: &'a str,
}

/// One segment of a problem path.
#[derive(Debug, PartialEq, Eq)]
enum Seg<'p> {
    /// `.name`: a field of a struct (or the name of a newtype variant such as `Work`).
    Field(&'p str),
    /// `[name]`: a map key, the list element named so, or a list index.
    Key(&'p str),
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Locator { text }
    }

    /// The 1-based line for `path`, e.g. `services[gateway].steps[1].timeout`.
    #[cfg(test)]
    pub(crate) fn line_of(&self, path: &str) -> Option<usize> {
        self.line_of_nth(path, 0)
    }

    /// The 1-based line for `path`, taking the `nth` (0-based) match of its last `[name]`
    /// segment: the second `"a"` of a map with a duplicate key is `nth = 1`. A path whose
    /// first segment is not in the text (a field left out) gets the line where the top-level
    /// value starts, so that every problem has a line.
    pub(crate) fn line_of_nth(&self, path: &str, nth: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let segs = parse_path(path);
        let last_key = segs.iter().rposition(|s| matches!(s, Seg::Key(_)));
        let mut value = (0, b.len());
        let mut found = Some(skip_trivia(b, 0).min(b.len()));
        for (k, seg) in segs.iter().enumerate() {
            let next = match seg {
                Seg::Field(name) => find_field(b, value, name),
                Seg::Key(name) => {
                    find_key(b, value, name, if Some(k) == last_key { nth } else { 0 })
                }
            };
            match next {
                Some((at, v)) => {
                    found = Some(at);
                    value = v;
                }
                None => break,
            }
        }
        found.map(|at| b[..at].iter().filter(|&&c| c == b'\n').count() + 1)
    }
}

/// The 1-based line and column (in characters, as RON counts them) of byte offset `at`.
pub(crate) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The byte offset of a 1-based line and column (in characters), clamped to the line and
/// the text.
pub(crate) fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let rest = &rest[..rest.find('\n').unwrap_or(rest.len())];
    start
        + rest
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// The path of the innermost element of `text` that holds byte offset `at`, in the form of
/// problem paths: `services[api].steps[0].retry`, `workload[main]` (a list element with a
/// `name`), `faults[1].fault`. A newtype variant that wraps a struct adds its name
/// (`steps[0].Work.mean`, as the validator's paths do). Empty at the top level.
pub(crate) fn path_at(text: &str, at: usize) -> String {
    let b = text.as_bytes();
    let mut path = String::new();
    let mut value = (0, b.len());
    // Each round goes one element deeper; the depth of the text bounds the rounds.
    loop {
        let Some(open) = container(b, value) else {
            return path;
        };
        let els = elements(b, open);
        // A newtype variant such as `Work(Exp(...))`, `Const("1ms")` or `Some(...)`: go
        // inside, naming the variant only when it wraps a struct (as the validator does).
        if let Some((s, e)) = leading_ident(b, value) {
            let newtype = b[open] == b'(' && els.len() == 1 && entry(b, els[0]).is_none();
            if newtype && els[0].0 <= at && at < els[0].1 {
                let wraps_struct = container(b, els[0]).is_some_and(|o| b[o] == b'(');
                if wraps_struct && &b[s..e] != b"Some" {
                    push_field(&mut path, &text[s..e]);
                }
                value = els[0];
                continue;
            }
        }
        let Some((k, &el)) = els
            .iter()
            .enumerate()
            .find(|(_, &(s, e))| s <= at && at < e.max(s + 1))
        else {
            return path;
        };
        match entry(b, el) {
            Some((key, key_at, v)) => {
                let key = String::from_utf8_lossy(key);
                if b[key_at] == b'"' {
                    path.push_str(&format!("[{key}]"));
                } else {
                    push_field(&mut path, &key);
                }
                if at < v.0 {
                    return path;
                }
                value = v;
            }
            None => {
                let name = members(b, el, false).and_then(|fields| {
                    fields
                        .iter()
                        .filter_map(|&f| entry(b, f))
                        .find_map(|(k, _, v)| (k == b"name").then(|| string_value(b, v)).flatten())
                });
                match name {
                    Some(n) => path.push_str(&format!("[{}]", String::from_utf8_lossy(n))),
                    None => path.push_str(&format!("[{k}]")),
                }
                value = el;
            }
        }
    }
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

/// Replaces the element that starts at byte `at` (a `field: value`, up to and including its
/// comma) with spaces, keeping newlines, so that byte offsets and lines stay as they were.
/// Returns the text it replaced, or `None` when there is nothing to blank there.
pub(crate) fn blank_element(text: &mut String, at: usize) -> Option<String> {
    let b = text.as_bytes();
    if at >= b.len() || !text.is_char_boundary(at) || b[at].is_ascii_whitespace() {
        return None;
    }
    let mut depth = 0usize;
    let mut i = at;
    let end = loop {
        if i >= b.len() {
            break b.len();
        }
        if let Some(next) = skip_atom(b, i) {
            i = next;
            continue;
        }
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => break i,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => break i + 1,
            _ => {}
        }
        i += 1;
    };
    let end = end.min(b.len());
    if end <= at || !text.is_char_boundary(end) {
        return None;
    }
    let original = text[at..end].to_string();
    let blanked: String = original
        .chars()
        .flat_map(|c| {
            let (fill, n) = if c == '\n' {
                ('\n', 1)
            } else {
                (' ', c.len_utf8())
            };
            std::iter::repeat_n(fill, n)
        })
        .collect();
    text.replace_range(at..end, &blanked);
    Some(original)
}

/// Why [`splice`] could not set a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpliceError {
    /// The part of the path that was found (empty when not even the first segment was).
    pub found: String,
    /// What is wrong with the next segment, and what to do.
    pub message: String,
}

/// `text` with the value at `path` replaced by `value` (RON text). A field or map key that
/// is not written yet is added (`name: value` into its struct, `"key": value` into its map),
/// and so are the structs on the way to it (`retry.attempts=3` adds `retry: (attempts: 3)`);
/// a list index one past the end appends. Everything else that cannot be found is an error
/// naming what was found and the closest name there.
///
/// Only the text changes: whether the result is a valid topology is for the loader to say,
/// with the same messages as for a file.
pub(crate) fn splice(text: &str, path: &str, value: &str) -> Result<String, SpliceError> {
    let b = text.as_bytes();
    let segs = parse_path(path);
    if segs.is_empty() {
        return Err(SpliceError {
            found: String::new(),
            message: "the path is empty; write one such as services[api].workers".into(),
        });
    }
    let mut at_value = (0, b.len());
    let mut found = String::new();
    for (k, seg) in segs.iter().enumerate() {
        let last = k + 1 == segs.len();
        let next = match seg {
            Seg::Field(name) => find_field(b, at_value, name),
            Seg::Key(name) => find_key(b, at_value, name, 0),
        };
        if let Some((_, v)) = next {
            at_value = trim_end(b, v);
            match seg {
                Seg::Field(name) => push_field(&mut found, name),
                Seg::Key(name) => found.push_str(&format!("[{name}]")),
            }
            continue;
        }
        // Not written: add it, when what is missing is a field (and what follows are fields
        // too) or the last key of a map or list.
        let open = container(b, at_value);
        let here = |message: String| SpliceError {
            found: found.clone(),
            message,
        };
        return match (seg, open.map(|o| b[o])) {
            (Seg::Field(name), Some(b'(')) => {
                let rest = &segs[k + 1..];
                if let Some(Seg::Key(key)) = rest.iter().find(|s| matches!(s, Seg::Key(_))) {
                    let known = field_names(b, at_value);
                    let hint = match crate::error::did_you_mean(name, &known) {
                        Some(n) => format!("; did you mean `{n}`?"),
                        None => format!("; set the whole `{name}` instead of `[{key}]` inside it"),
                    };
                    return Err(here(format!("no `{name}` is written here{hint}")));
                }
                let mut element = value.to_string();
                for seg in rest.iter().rev() {
                    if let Seg::Field(f) = seg {
                        element = format!("({f}: {element})");
                    }
                }
                Ok(insert_element(text, open.unwrap_or(0), &format!("{name}: {element}")))
            }
            (Seg::Key(key), Some(b'{')) if last => Ok(insert_element(
                text,
                open.unwrap_or(0),
                &format!("{}: {value}", quote(key)),
            )),
            (Seg::Key(key), Some(b'[')) if last && key.parse::<usize>().ok() == Some(
                members(b, at_value, true).map_or(0, |m| m.len()),
            ) =>
            {
                Ok(insert_element(text, open.unwrap_or(0), value))
            }
            (Seg::Key(key), Some(c)) => {
                let els = members(b, at_value, true).unwrap_or_default();
                let names = key_names(b, &els);
                let known: Vec<&str> = names.iter().map(String::as_str).collect();
                let message = if let Ok(i) = key.parse::<usize>() {
                    format!(
                        "there is no element [{i}]: {} has {} (indices 0 to {}){}",
                        if found.is_empty() { "the topology" } else { "it" },
                        els.len(),
                        els.len().saturating_sub(1),
                        if c == b'[' { "; one past the end appends" } else { "" }
                    )
                } else {
                    match crate::error::did_you_mean(key, &known) {
                        Some(n) => format!("no `{key}` here; did you mean `{n}`?"),
                        None if known.is_empty() => format!("no `{key}` here (it is empty)"),
                        None => format!("no `{key}` here; there are: {}", known.join(", ")),
                    }
                };
                Err(here(message))
            }
            (Seg::Field(name), _) => Err(here(format!(
                "`{name}` cannot be set inside a value that is not a struct; set the whole value instead"
            ))),
            (Seg::Key(key), None) => Err(here(format!(
                "`[{key}]` needs a map or a list here; set the whole value instead"
            ))),
        };
    }
    let (s, e) = at_value;
    let mut out = String::with_capacity(text.len() + value.len());
    out.push_str(&text[..s]);
    out.push_str(value);
    out.push_str(&text[e..]);
    Ok(out)
}

/// `value` without trailing whitespace.
fn trim_end(b: &[u8], (s, mut e): Range) -> Range {
    while e > s && b[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    (s, e)
}

/// `key` as a RON string.
fn quote(key: &str) -> String {
    format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Inserts `element` as the last element of the container opened at `open`.
fn insert_element(text: &str, open: usize, element: &str) -> String {
    let b = text.as_bytes();
    let close = close_of(b, open).unwrap_or(b.len());
    // The last thing before the closing bracket that is not whitespace or a comment.
    let mut last = open;
    let mut i = open + 1;
    while i < close {
        let j = skip_trivia(b, i);
        if j >= close {
            break;
        }
        // A string (or character) ends at its closing quote.
        match skip_atom(b, j) {
            Some(end) => {
                last = end - 1;
                i = end;
            }
            None => {
                last = j;
                i = j + 1;
            }
        }
    }
    let sep = if last == open || b[last] == b',' {
        " "
    } else {
        ", "
    };
    let at = if last == open { open + 1 } else { last + 1 };
    let mut out = String::with_capacity(text.len() + element.len() + 3);
    out.push_str(&text[..at]);
    out.push_str(sep);
    out.push_str(element);
    if last == open {
        out.push(' ');
    }
    out.push_str(&text[at..]);
    out
}

/// The field names written in the struct `value`.
fn field_names(b: &[u8], value: Range) -> Vec<&str> {
    members(b, value, true)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|el| entry(b, el))
        .filter_map(|(k, at, _)| {
            (b[at] != b'"')
                .then(|| std::str::from_utf8(k).ok())
                .flatten()
        })
        .collect()
}

/// The keys of a map's elements, or the `name`s of a list's.
fn key_names(b: &[u8], els: &[Range]) -> Vec<String> {
    els.iter()
        .filter_map(|&el| match entry(b, el) {
            Some((k, at, _)) if b[at] == b'"' => Some(String::from_utf8_lossy(k).into_owned()),
            _ => members(b, el, false).and_then(|fields| {
                fields
                    .iter()
                    .filter_map(|&f| entry(b, f))
                    .find_map(|(k, _, v)| (k == b"name").then(|| string_value(b, v)).flatten())
                    .map(|n| String::from_utf8_lossy(n).into_owned())
            }),
        })
        .collect()
}

fn parse_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').unwrap_or(r.len());
            out.push(Seg::Key(&r[..close]));
            rest = r.get(close + 1..).unwrap_or("");
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                out.push(Seg::Field(&r[..end]));
            }
            rest = &r[end..];
        }
    }
    out
}

/// A byte range `[start, end)` of the text.
type Range = (usize, usize);

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Skips whitespace, comments and attributes such as `#![enable(implicit_some)]`.
fn skip_trivia(b: &[u8], mut i: usize) -> usize {
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match (b.get(i), b.get(i + 1)) {
            (Some(b'/'), Some(b'/')) => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            (Some(b'/'), Some(b'*')) => {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            (Some(b'#'), _) => {
                i += 1;
                if b.get(i) == Some(&b'!') {
                    i += 1;
                }
                if b.get(i) == Some(&b'[') {
                    i = close_of(b, i).map_or(b.len(), |c| c + 1);
                }
            }
            _ => return i.min(b.len()),
        }
    }
}

/// If a string, raw string, character or comment starts at `i`, the index just after it.
fn skip_atom(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
            Some(b.len())
        }
        b'r' if i == 0 || !is_ident(b[i - 1]) => {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                return None;
            }
            let mut j = i + 2 + hashes;
            while j < b.len() {
                if b[j] == b'"' && b[j + 1..].iter().take_while(|&&c| c == b'#').count() >= hashes {
                    return Some(j + 1 + hashes);
                }
                j += 1;
            }
            Some(b.len())
        }
        b'\'' => {
            let end = b[i + 1..].iter().take(8).position(|&c| c == b'\'')?;
            Some(i + 2 + end)
        }
        b'/' if matches!(b.get(i + 1), Some(b'/' | b'*')) => Some(skip_trivia(b, i)),
        _ => None,
    }
}

/// Index of the bracket closing the one at `open`.
fn close_of(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        if let Some(next) = skip_atom(b, i) {
            i = next;
            continue;
        }
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The comma-separated elements inside the bracket at `open`, trimmed at the front.
fn elements(b: &[u8], open: usize) -> Vec<Range> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut i = open + 1;
    let mut push = |s: usize, e: usize| {
        let s = skip_trivia(b, s);
        if s < e {
            out.push((s, e));
        }
    };
    while i < b.len() {
        if let Some(next) = skip_atom(b, i) {
            i = next;
            continue;
        }
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => {
                push(start, i);
                return out;
            }
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                push(start, i);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push(start, b.len());
    out
}

/// The opening bracket of `value` (after an optional struct or variant name), if it is one.
fn container(b: &[u8], value: Range) -> Option<usize> {
    let mut i = skip_trivia(b, value.0);
    while i < value.1 && is_ident(b[i]) {
        i += 1;
    }
    let i = skip_trivia(b, i);
    (i < value.1 && matches!(b[i], b'(' | b'[' | b'{')).then_some(i)
}

/// The leading identifier of `value`, if any.
fn leading_ident(b: &[u8], value: Range) -> Option<Range> {
    let s = skip_trivia(b, value.0);
    let mut e = s;
    while e < value.1 && is_ident(b[e]) {
        e += 1;
    }
    (e > s).then_some((s, e))
}

/// A `key: value` element: the key (a string's content or an identifier), the key's position
/// and the value.
fn entry(b: &[u8], el: Range) -> Option<(&[u8], usize, Range)> {
    let s = el.0;
    let (key, after) = if b.get(s) == Some(&b'"') {
        let end = skip_atom(b, s)?;
        (b.get(s + 1..end.saturating_sub(1))?, end)
    } else {
        // A raw identifier, `r#name`, is the field `name`.
        let raw = if b.get(s..el.1).is_some_and(|t| t.starts_with(b"r#")) {
            2
        } else {
            0
        };
        let (ks, ke) = leading_ident(b, (s + raw, el.1))?;
        (&b[ks..ke], ke)
    };
    let colon = skip_trivia(b, after);
    if colon >= el.1 || b[colon] != b':' {
        return None;
    }
    Some((key, s, (skip_trivia(b, colon + 1).min(el.1), el.1)))
}

/// The content of a string value, if `value` is a plain string.
fn string_value(b: &[u8], value: Range) -> Option<&[u8]> {
    let s = skip_trivia(b, value.0);
    if b.get(s) != Some(&b'"') {
        return None;
    }
    let end = skip_atom(b, s)?;
    b.get(s + 1..end.saturating_sub(1))
}

/// The elements of `value`'s container, seen through single-element wrappers such as
/// `Some(...)`, `Work(...)` or `Empirical([...])` when `through` is true.
fn members(b: &[u8], mut value: Range, through: bool) -> Option<Vec<Range>> {
    for _ in 0..4 {
        let open = container(b, value)?;
        let els = elements(b, open);
        let wrapper = through
            && b[open] == b'('
            && els.len() == 1
            && entry(b, els[0]).is_none()
            && container(b, els[0]).is_some();
        if !wrapper {
            return Some(els);
        }
        value = els[0];
    }
    None
}

/// The field `name` of the struct `value`: the field's position and its value. A variant
/// name (`Work` in `Work(Exp(...))`) selects the variant's content.
fn find_field(b: &[u8], value: Range, name: &str) -> Option<(usize, Range)> {
    if let Some((s, e)) = leading_ident(b, value) {
        if &b[s..e] == name.as_bytes() {
            let open = container(b, value)?;
            let els = elements(b, open);
            let inner = if els.len() == 1 {
                els[0]
            } else {
                (open, value.1)
            };
            return Some((s, inner));
        }
    }
    members(b, value, true)?
        .into_iter()
        .filter_map(|el| entry(b, el))
        .find(|(key, _, _)| *key == name.as_bytes())
        .map(|(_, at, v)| (at, v))
}

/// The element `[name]` of the map or list `value`: a map key, else a list element whose
/// `name` field is `"name"`, else (for a number) the list element at that index.
fn find_key(b: &[u8], value: Range, name: &str, nth: usize) -> Option<(usize, Range)> {
    let els = members(b, value, true)?;
    let key = name.as_bytes();
    let by_key = els
        .iter()
        .filter_map(|&el| entry(b, el))
        .filter(|(k, at, _)| *k == key && b[*at] == b'"')
        .map(|(_, at, v)| (at, v))
        .nth(nth);
    if by_key.is_some() {
        return by_key;
    }
    let named =
        els.iter()
            .filter(|&&el| {
                members(b, el, false).is_some_and(|fields| {
                    fields.iter().filter_map(|&f| entry(b, f)).any(|(k, _, v)| {
                        k == b"name" && string_value(b, v).is_some_and(|s| s == key)
                    })
                })
            })
            .map(|&el| (el.0, el))
            .nth(nth);
    if named.is_some() {
        return named;
    }
    let index: usize = name.parse().ok()?;
    els.get(index).map(|&el| (el.0, el))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields() {
        let text = "Topology(\n  services: {\n    \"a\": (workers: 1),\n    \"b\": (\n      workers: 0,\n    ),\n  },\n)";
        let l = Locator::new(text);
        assert_eq!(l.line_of("services[b].workers"), Some(5));
        assert_eq!(l.line_of("services[a].workers"), Some(3));
        assert_eq!(l.line_of("services[b]"), Some(4));
        // A top-level field left out: where the topology starts.
        assert_eq!(l.line_of("workload"), Some(1));
    }

    #[test]
    fn follows_indices_names_variants_and_duplicates() {
        let text = r#"#![enable(implicit_some)]
// "b": (workers: 9) in a comment
Topology(
    workload: [
        (name: "x", entry: "b", arrivals: Poisson(per_second: 1)),
        (name: "b", entry: "a",
         timeout: "0s"),
    ],
    services: {
        "a": (steps: [
            Call(to: "b", timeout: "1s"),
            Call(to: "b",
                 timeout: "0s"),
            Parallel(branches: [[Work(Const("1ms"))], [
                Work(Exp(mean: "0ms"))]]),
        ], work: Empirical(["1ms", "2ms",
            "3"])),
        "b": (),
        "b": (workers: 0),
    },
)"#;
        let l = Locator::new(text);
        assert_eq!(l.line_of("services[a].steps[1].timeout"), Some(13));
        assert_eq!(l.line_of("services[a].steps[0].timeout"), Some(11));
        assert_eq!(
            l.line_of("services[a].steps[2].branches[1][0].Work.mean"),
            Some(15)
        );
        assert_eq!(l.line_of("services[a].work[2]"), Some(17));
        assert_eq!(l.line_of("workload[b].timeout"), Some(7));
        assert_eq!(l.line_of("workload[b].entry"), Some(6));
        assert_eq!(l.line_of("services[b]"), Some(18));
        assert_eq!(l.line_of_nth("services[b]", 1), Some(19));
        assert_eq!(l.line_of("services[zzz].workers"), Some(9));
        // `run` is left out; the topology starts on line 3, after an attribute and a comment.
        assert_eq!(l.line_of("run.duration"), Some(3));
    }

    #[test]
    fn path_at_names_the_innermost_element() {
        let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 1))],
    services: {
        "api": (replica: 2, steps: [
            Call(to: "db", retry: (attempts: 3, tries: 2)),
            Work(Exp(maen: "1ms")),
            Work(Const("1ms")),
            Parallel(branches: [[Call(to: "x")], [Work(Empirical(["1ms", "2"]))]]),
        ], failures: Some((mtr: "1m"))),
    },
)"#;
        let at = |needle: &str| path_at(text, text.find(needle).unwrap());
        assert_eq!(at("workload"), "workload");
        assert_eq!(at("entry"), "workload[main].entry");
        assert_eq!(at("per_second"), "workload[main].arrivals.per_second");
        assert_eq!(at("replica"), "services[api].replica");
        assert_eq!(at("tries"), "services[api].steps[0].retry.tries");
        assert_eq!(at("maen"), "services[api].steps[1].Work.maen");
        assert_eq!(at("Const"), "services[api].steps[2].Work");
        assert_eq!(at(r#"to: "x""#), "services[api].steps[3].branches[0][0].to");
        assert_eq!(
            at(r#""2""#),
            "services[api].steps[3].branches[1][0].Work[1]"
        );
        assert_eq!(at("mtr"), "services[api].failures.mtr");
        assert_eq!(at("Topology"), "");
        // The closing bracket of a struct is the struct itself.
        assert_eq!(
            path_at(text, text.find("))),").unwrap() + 1),
            "services[api].failures"
        );
    }

    #[test]
    fn blanking_keeps_offsets_and_lines() {
        let mut text = "(a: 1, b: (x: \"é\",\n  y: [1, 2]), c: 3)".to_string();
        let before = text.len();
        let at = text.find("b:").unwrap();
        assert_eq!(
            blank_element(&mut text, at).as_deref(),
            Some("b: (x: \"é\",\n  y: [1, 2]),")
        );
        assert_eq!(text.len(), before);
        assert_eq!(text.matches('\n').count(), 1);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["(a:", "1,", "c:", "3)"]
        );
        // The last element has no comma; nothing to blank at a space or past the end.
        let at = text.find("c:").unwrap();
        assert_eq!(blank_element(&mut text, at).as_deref(), Some("c: 3"));
        assert_eq!(blank_element(&mut text, at), None);
        let end = text.len();
        assert_eq!(blank_element(&mut text, end), None);
    }

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "ab\nµ→x\n";
        let at = text.find('x').unwrap();
        assert_eq!(line_col(text, at), (2, 3));
        assert_eq!(offset_of(text, 2, 3), at);
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 9, 9), text.len());
        assert_eq!(offset_of(text, 1, 99), 2);
    }

    #[test]
    fn survives_garbage() {
        for text in [
            "",
            "(",
            "\"",
            "r#\"",
            "'",
            "/*",
            "#![",
            "([{\"a\":",
            "Topology(services: {\"a\": (x: ,,)",
        ] {
            let l = Locator::new(text);
            for path in [
                "services[a].x",
                "services[a].steps[3].to",
                "[",
                "]",
                "..",
                "a[0][1]",
            ] {
                let _ = l.line_of(path);
                let _ = l.line_of_nth(path, 2);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text_or_path(
            text in "[(){}\\[\\],:\"'#!/*r a-c0-9\n\\\\µ→]{0,80}",
            path in "[a-c0-9.\\[\\]]{0,12}",
            nth in 0usize..3,
        ) {
            let _ = Locator::new(&text).line_of_nth(&path, nth);
        }

        #[test]
        fn scans_never_panic_and_blanking_keeps_the_layout(
            text in "[(){}\\[\\],:\"'#!/*r a-c0-9\n\\\\µ→]{0,80}",
            at in 0usize..90,
        ) {
            let _ = path_at(&text, at);
            let (line, col) = line_col(&text, at);
            let back = offset_of(&text, line, col);
            proptest::prop_assert!(back <= at.min(text.len()));
            let mut blanked = text.clone();
            if blank_element(&mut blanked, at).is_some() {
                proptest::prop_assert_eq!(blanked.len(), text.len());
                proptest::prop_assert_eq!(blanked.matches('\n').count(), text.matches('\n').count());
            }
        }
    }
}
