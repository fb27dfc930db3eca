//! Finds the line a problem path points at in the source text.
//!
//! RON's parser reports positions only for syntax errors, so for problems found later we search
//! the text: the quoted name of each `[name]` segment of the path in turn, then the last field
//! name followed by `:`. It is a best effort (a repeated field name inside one service can
//! point at the first of them), which is why messages say "line N" only when it is found.

/// Source text of a topology, searchable by problem path.
pub(crate) struct Locator<'a> {
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Locator { text }
    }

    /// The 1-based line for `path`, e.g. `services[gateway].steps[1].timeout`.
    pub(crate) fn line_of(&self, path: &str) -> Option<usize> {
        let mut pos = 0usize;
        let mut found_any = false;
        let mut rest = path;
        // Top-level field first (`services`, `workload`, `run`).
        let top_end = rest.find(['[', '.']).unwrap_or(rest.len());
        let top = &rest[..top_end];
        if let Some(p) = find_field(self.text, 0, top) {
            pos = p;
            found_any = true;
        }
        rest = &rest[top_end..];
        // Named segments: [name] where name is not a number.
        while let Some(open) = rest.find('[') {
            let close = rest[open..].find(']').map(|c| open + c)?;
            let name = &rest[open + 1..close];
            if name.parse::<usize>().is_err() {
                let quoted = format!("\"{name}\"");
                if let Some(p) = self.text[pos..].find(&quoted) {
                    pos += p;
                    found_any = true;
                }
            }
            rest = &rest[close + 1..];
        }
        // The last plain field name, searched after the named segment.
        let last = path
            .rsplit('.')
            .next()
            .map(|s| s.split('[').next().unwrap_or(s))
            .unwrap_or("");
        if !last.is_empty() && last != top {
            if let Some(p) = find_field(self.text, pos, last) {
                pos = p;
                found_any = true;
            }
        }
        found_any.then(|| self.text[..pos].matches('\n').count() + 1)
    }
}

/// Position of `field` used as a field name (followed by optional spaces and `:`) at or after
/// `from`, not inside a longer identifier.
fn find_field(text: &str, from: usize, field: &str) -> Option<usize> {
    if field.is_empty() {
        return None;
    }
    let mut start = from;
    while let Some(p) = text[start..].find(field) {
        let at = start + p;
        let before_ok = at == 0
            || !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"');
        let after = &text[at + field.len()..];
        let after_ok = after.trim_start_matches([' ', '\t']).starts_with(':');
        if before_ok && after_ok {
            return Some(at);
        }
        start = at + field.len();
    }
    None
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
        assert_eq!(l.line_of("workload"), None);
    }
}
