//! Plain-text layout for the terminal: aligned tables that fit a width by splitting into
//! blocks of columns, and paragraphs wrapped with a hanging indent.
//!
//! Widths are counted in characters (`→`, `×` and `ρ` are one column each in a terminal),
//! never in bytes.

/// The width the terminal summary fits by default \[columns\].
pub(crate) const WIDTH: usize = 100;

/// Spaces between two columns.
const GAP: usize = 2;

/// The widest a table's first column (the names) gets when it must fit [`WIDTH`]; longer
/// names are cut with `…` (`--wide` shows them whole).
const MAX_KEY: usize = 40;

/// Characters in `s`.
pub(crate) fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A text table: a key column (names, left-aligned), then columns of numbers (right-aligned)
/// in groups that stay together when the table is split to fit a width.
pub(crate) struct TextTable {
    /// Header of the key column.
    key: String,
    /// Headers of the other columns, with the group each belongs to.
    cols: Vec<(String, usize)>,
    /// The key and the cells of each row.
    rows: Vec<(String, Vec<String>)>,
    /// The group the next column goes into.
    group: usize,
}

impl TextTable {
    /// An empty table whose key column is headed `key`.
    pub(crate) fn new(key: &str) -> TextTable {
        TextTable {
            key: key.to_string(),
            cols: Vec::new(),
            rows: Vec::new(),
            group: 0,
        }
    }

    /// Adds a column to the current group.
    pub(crate) fn col(&mut self, head: &str) -> &mut Self {
        self.cols.push((head.to_string(), self.group));
        self
    }

    /// Starts a new group of columns: the table may be split before it.
    pub(crate) fn group(&mut self) -> &mut Self {
        self.group += 1;
        self
    }

    /// Adds a row: its key and one cell per column.
    pub(crate) fn row(&mut self, key: impl Into<String>, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.cols.len(), "one cell per column");
        self.rows.push((key.into(), cells));
    }

    /// Appends the table, indented by two spaces. With `width`, the key column is cut to
    /// [`MAX_KEY`] and the other columns go into as many blocks as it takes for every line
    /// to fit `width` (whole groups where they fit, each block repeating the key column,
    /// blocks separated by a blank line); without, one block however wide.
    pub(crate) fn render(&self, out: &mut String, width: Option<usize>) {
        let cut = |s: &str| -> String {
            match width {
                Some(_) if chars(s) > MAX_KEY => {
                    let mut t: String = s.chars().take(MAX_KEY - 1).collect();
                    t.push('…');
                    t
                }
                _ => s.to_string(),
            }
        };
        let keys: Vec<String> = self.rows.iter().map(|(k, _)| cut(k)).collect();
        let key_w = keys
            .iter()
            .map(|k| chars(k))
            .chain(std::iter::once(chars(&self.key)))
            .max()
            .unwrap_or(0);
        let col_w: Vec<usize> = self
            .cols
            .iter()
            .enumerate()
            .map(|(i, (head, _))| {
                self.rows
                    .iter()
                    .map(|(_, cells)| chars(&cells[i]))
                    .chain(std::iter::once(chars(head)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let blocks = match width {
            None => vec![(0..self.cols.len()).collect::<Vec<_>>()],
            Some(limit) => self.blocks(&col_w, limit.saturating_sub(2 + key_w)),
        };
        for (b, block) in blocks.iter().enumerate() {
            if b > 0 {
                out.push('\n');
            }
            let mut line = format!("  {}", pad_right(&self.key, key_w));
            for &i in block {
                line.push_str(&" ".repeat(GAP));
                line.push_str(&pad_left(&self.cols[i].0, col_w[i]));
            }
            push_line(out, &line);
            for (r, (_, cells)) in self.rows.iter().enumerate() {
                let mut line = format!("  {}", pad_right(&keys[r], key_w));
                for &i in block {
                    line.push_str(&" ".repeat(GAP));
                    line.push_str(&pad_left(&cells[i], col_w[i]));
                }
                push_line(out, &line);
            }
        }
    }

    /// The columns of each block when the columns beside the key may take `room` columns:
    /// whole groups while they fit, a group wider than `room` split column by column.
    fn blocks(&self, col_w: &[usize], room: usize) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, (_, g)) in self.cols.iter().enumerate() {
            match groups.last_mut() {
                Some(last) if self.cols[last[0]].1 == *g => last.push(i),
                _ => groups.push(vec![i]),
            }
        }
        let span = |cols: &[usize]| cols.iter().map(|&i| col_w[i] + GAP).sum::<usize>();
        let mut blocks: Vec<Vec<usize>> = vec![Vec::new()];
        for g in groups {
            let current = blocks.last_mut().expect("one block at least");
            if span(current) + span(&g) <= room {
                current.extend(g);
                continue;
            }
            if span(&g) <= room {
                blocks.push(g);
                continue;
            }
            // A group too wide on its own: column by column.
            for i in g {
                let current = blocks.last_mut().expect("one block at least");
                if current.is_empty() || span(current) + col_w[i] + GAP <= room {
                    current.push(i);
                } else {
                    blocks.push(vec![i]);
                }
            }
        }
        blocks.retain(|b| !b.is_empty());
        if blocks.is_empty() {
            blocks.push(Vec::new());
        }
        blocks
    }
}

/// `s` padded with spaces on the right to `w` characters.
pub(crate) fn pad_right(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(chars(s))))
}

/// `s` padded with spaces on the left to `w` characters.
pub(crate) fn pad_left(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(chars(s))))
}

/// Appends `line` without trailing spaces, and a line break.
fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Appends `text` wrapped at word boundaries to `width` columns: the first line starts with
/// `first`, the others with `rest` (a hanging indent). A word longer than a line is not cut.
pub(crate) fn wrap(out: &mut String, first: &str, rest: &str, text: &str, width: usize) {
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && chars(&line) + 1 + chars(word) > width {
            push_line(out, &line);
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    push_line(out, &line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_table_splits_into_blocks_of_whole_groups() {
        let mut t = TextTable::new("name");
        t.col("aaaaaaaaaa").col("bbbbbbbbbb").group();
        t.col("cccccccccc").col("dddddddddd");
        t.row("x", vec!["1".into(), "2".into(), "3".into(), "4".into()]);
        let mut wide = String::new();
        t.render(&mut wide, None);
        assert_eq!(wide.lines().count(), 2);
        let mut narrow = String::new();
        // Room for two columns beside the key: each group on its own.
        t.render(&mut narrow, Some(2 + 4 + 24));
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(lines.len(), 5, "{narrow}");
        assert!(lines[0].contains("aaaa") && lines[0].contains("bbbb"));
        assert!(lines[3].contains("cccc") && lines[3].contains("dddd"));
        assert!(lines.iter().all(|l| chars(l) <= 30), "{narrow}");
        assert_eq!(lines[4], "  x              3           4");
    }

    #[test]
    fn wrapping_keeps_words_and_the_hanging_indent() {
        let mut out = String::new();
        wrap(
            &mut out,
            "  warning: ",
            "    ",
            "one two three four five six",
            20,
        );
        assert_eq!(out, "  warning: one two\n    three four five\n    six\n");
        for line in out.lines() {
            assert!(chars(line) <= 20);
        }
    }

    #[test]
    fn long_names_are_cut_when_fitting() {
        let mut t = TextTable::new("name");
        t.col("n");
        let long = "x".repeat(60);
        t.row(long.clone(), vec!["1".into()]);
        let mut out = String::new();
        t.render(&mut out, Some(100));
        assert!(out.contains('…') && !out.contains(&long), "{out}");
        let mut out = String::new();
        t.render(&mut out, None);
        assert!(out.contains(&long));
    }
}
