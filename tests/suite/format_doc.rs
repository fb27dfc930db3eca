//! The format reference (`docs/format.md`) must stay true: its examples load, and every field
//! and variant the parser knows or the bundled topologies use is documented in it.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    std::fs::read_to_string(root().join("docs/format.md")).expect("docs/format.md exists")
}

/// The ```ron blocks of a Markdown text.
fn ron_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line.trim_start().starts_with("```")) {
            (None, true) if line.trim() == "```ron" => current = Some(String::new()),
            (Some(_), true) => blocks.push(current.take().unwrap_or_default()),
            (Some(b), false) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// Removes `//` comments and string literals, so that only RON structure remains.
fn strip_comments_and_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => in_string = !in_string,
                '\\' if in_string => {
                    chars.next();
                }
                '/' if !in_string && chars.peek() == Some(&'/') => break,
                _ if in_string => {}
                _ => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

/// Identifiers followed by `:` (fields) and by `(` (variants and struct names).
fn identifiers(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let code = strip_comments_and_strings(text);
    let mut fields = BTreeSet::new();
    let mut variants = BTreeSet::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_') {
                i += 1;
            }
            let word: String = bytes[start..i].iter().collect();
            let mut j = i;
            while j < bytes.len() && bytes[j] == ' ' {
                j += 1;
            }
            match bytes.get(j) {
                Some(':') => {
                    fields.insert(word);
                }
                Some('(') => {
                    variants.insert(word);
                }
                // Unit variants such as `RoundRobin` or `Fail` stand alone after a colon.
                _ if word.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {
                    variants.insert(word);
                }
                _ => {}
            }
        } else {
            i += 1;
        }
    }
    (fields, variants)
}

fn assert_documented(names: &BTreeSet<String>, doc: &str, what: &str) {
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| *n != "true" && *n != "false")
        .filter(|n| !doc.contains(&format!("`{n}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{what} not documented in docs/format.md (as `name`): {missing:?}"
    );
}

#[test]
fn every_example_in_the_reference_loads() {
    let blocks = ron_blocks(&doc());
    assert!(!blocks.is_empty(), "the reference has RON examples");
    for (i, block) in blocks.iter().enumerate() {
        if block.contains("Topology(") {
            if let Err(e) = microsim::parse(block, &format!("docs/format.md example {i}")) {
                panic!("example {i} does not load: {e}");
            }
        }
    }
}

#[test]
fn every_field_and_variant_of_the_bundled_topologies_is_documented() {
    let doc = doc();
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("topologies")).expect("topologies/ exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_some_and(|e| e == "ron") {
            let text = std::fs::read_to_string(&path).expect("readable topology");
            let (fields, variants) = identifiers(&text);
            assert_documented(&fields, &doc, &format!("fields of {}", path.display()));
            assert_documented(&variants, &doc, &format!("variants of {}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 3, "found {count} bundled topologies");
}

#[test]
fn every_field_the_parser_knows_is_documented() {
    // Fields of the spec types are the `name: Type` lines of src/spec/ outside comments.
    let mut files: Vec<_> = std::fs::read_dir(root().join("src/spec"))
        .expect("src/spec/")
        .map(|e| e.expect("readable directory").path())
        // The spec types, not the text scanner that finds lines in a file nor the overrides.
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rs")
                && !p.ends_with("locate.rs")
                && !p.ends_with("overrides.rs")
        })
        .collect();
    files.sort();
    let spec: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable spec file"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut fields = BTreeSet::new();
    let mut variants = BTreeSet::new();
    let mut in_enum = false;
    for line in spec.lines() {
        let t = line.trim();
        if t.starts_with("//") || t.starts_with('#') {
            continue;
        }
        if t.starts_with("pub enum ") {
            in_enum = true;
        } else if t.starts_with("pub struct ") || t.starts_with("impl") || t.starts_with("fn ") {
            in_enum = false;
        }
        let t = t.strip_prefix("pub ").unwrap_or(t);
        if let Some((name, rest)) = t.split_once(':') {
            let is_ident =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if is_ident && !rest.starts_with(':') && line.starts_with("    ") {
                fields.insert(name.to_string());
            }
        }
        // Enum variants: `Name,` `Name(…),` or `Name {` at one indentation level inside an enum.
        if in_enum && line.starts_with("    ") && !line.starts_with("     ") {
            let name: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                variants.insert(name);
            }
        }
    }
    assert!(fields.contains("max_in_flight") && fields.contains("on_failure"));
    assert!(variants.contains("Poisson") && variants.contains("PowerOfTwo"));
    let doc = doc();
    assert_documented(&fields, &doc, "parser fields");
    assert_documented(&variants, &doc, "parser variants");
}

fn json_keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                json_keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_keys(i, out)),
        _ => {}
    }
}

#[test]
fn every_key_of_a_report_is_documented() {
    // checkout.ron exercises calls, lints-free analysis and every series; shorten it.
    let model = microsim::load(root().join("topologies/checkout.ron")).expect("loads");
    let report = model
        .run(&microsim::RunOptions {
            duration: Some(microsim::time::SimDuration::from_secs(20)),
            ..Default::default()
        })
        .expect("runs");
    let value: serde_json::Value = serde_json::from_str(&report.to_json()).expect("valid JSON");
    let mut keys = BTreeSet::new();
    json_keys(&value, &mut keys);
    let doc = std::fs::read_to_string(root().join("docs/report.md")).expect("docs/report.md");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "report keys not in docs/report.md: {missing:?}"
    );
}
