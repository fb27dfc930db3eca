//! The crate's layers, checked: every `crate::…` path in `src/` names a module of the same
//! layer or a lower one, and the modules of one layer import each other without a circle.
//!
//! The order is written once, here, and mirrored by the module map of the crate docs
//! (`src/lib.rs`), which a test below holds to the same order.

use crate::common::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom up; a module may use modules of its own layer and of the layers
/// below. `lib.rs` (the facade) and `main.rs` (the command line) sit above them all.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["time", "rng", "outcome", "error", "stats"]),
    ("processes", &["dist", "workload", "failure"]),
    ("mechanisms", &["call", "broker"]),
    ("metrics", &["metrics"]),
    ("spec", &["spec", "builder"]),
    ("model", &["model"]),
    ("analysis", &["analysis"]),
    ("engine", &["engine"]),
    ("report", &["report"]),
    ("experiment", &["experiment"]),
    ("renderers", &["chart", "render"]),
];

/// Pairs that the layer order alone would allow but the design forbids: the engine
/// measures and hands back; it never computes the analytic shadow (the facade puts the two
/// side by side).
const FORBIDDEN: &[(&str, &str)] = &[("engine", "analysis")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a source file belongs to (`src/engine/kernel/slab.rs` → `engine`);
/// `None` for the crate root and the binary (`main.rs` and its `cli/` modules, which sit
/// above every layer).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main" && name != "cli").then_some(name)
}

/// The top-level modules named by `crate::…` paths in one line of code, comments left out.
fn imports(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `crate::{a, b::c}`: the first name of each item (nested groups are rare here).
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        rest = after;
    }
    out
}

/// (importing module, imported module) → the first place it happens.
fn edges() -> BTreeMap<(String, String), String> {
    let src = root().join("src");
    let mut edges = BTreeMap::new();
    for file in sources(&src) {
        let Some(from) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for to in imports(line) {
                if to != from {
                    let place =
                        format!("{}:{}", file.strip_prefix(root()).unwrap().display(), n + 1);
                    edges.entry((from.clone(), to)).or_insert(place);
                }
            }
        }
    }
    edges
}

#[test]
fn every_module_belongs_to_a_layer() {
    let src = root().join("src");
    let modules: BTreeSet<String> = sources(&src)
        .iter()
        .filter_map(|f| module_of(&src, f))
        .collect();
    let unplaced: Vec<&String> = modules.iter().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules in no layer (add them to LAYERS in tests/suite/layers.rs and to the module map of src/lib.rs): {unplaced:?}"
    );
}

#[test]
fn no_module_imports_from_a_higher_layer() {
    let mut wrong = Vec::new();
    for ((from, to), place) in edges() {
        let (Some(a), Some(b)) = (layer_of(&from), layer_of(&to)) else {
            continue;
        };
        if b > a {
            wrong.push(format!(
                "{place}: `{from}` ({}) uses `{to}` ({}), a higher layer",
                LAYERS[a].0, LAYERS[b].0
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that reach up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_module_uses_a_forbidden_neighbour() {
    let edges = edges();
    for (from, to) in FORBIDDEN {
        if let Some(place) = edges.get(&(from.to_string(), to.to_string())) {
            panic!("{place}: `{from}` uses `{to}`, which the design forbids");
        }
    }
}

/// Layers import from the module that defines a thing, not through the crate root's
/// re-exports (`crate::Model`, `crate::parse`): those are for users, and would hide which
/// layer a module really depends on.
#[test]
fn no_module_imports_through_the_crate_root() {
    let src = root().join("src");
    let modules: BTreeSet<String> = sources(&src)
        .iter()
        .filter_map(|f| module_of(&src, f))
        .collect();
    let through_root: Vec<String> = edges()
        .into_iter()
        .filter(|((_, to), _)| !modules.contains(to))
        .map(|((from, to), place)| format!("{place}: `{from}` uses `crate::{to}`"))
        .collect();
    assert!(
        through_root.is_empty(),
        "imports through the crate root:\n{}",
        through_root.join("\n")
    );
}

#[test]
fn modules_of_one_layer_form_no_circle() {
    let edges = edges();
    let graph: BTreeMap<&str, Vec<&str>> = edges.keys().fold(BTreeMap::new(), |mut g, (a, b)| {
        g.entry(a.as_str()).or_default().push(b.as_str());
        g
    });
    // Depth-first search for a back edge.
    fn visit<'a>(
        n: &'a str,
        g: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = path.iter().position(|&p| p == n) {
            let mut circle = path[i..].to_vec();
            circle.push(n);
            return Some(circle);
        }
        if !done.insert(n) {
            return None;
        }
        path.push(n);
        for &m in g.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(c) = visit(m, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for &n in graph.keys() {
        if let Some(circle) = visit(n, &graph, &mut Vec::new(), &mut done) {
            let places: Vec<String> = circle
                .windows(2)
                .map(|w| {
                    format!(
                        "{} → {} ({})",
                        w[0],
                        w[1],
                        edges[&(w[0].to_string(), w[1].to_string())]
                    )
                })
                .collect();
            panic!("import circle: {}", places.join(", "));
        }
    }
}

#[test]
fn the_crate_docs_list_the_layers_in_order() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let map = &lib[lib
        .find("## Modules")
        .expect("a `## Modules` section in src/lib.rs")..];
    let src = root().join("src");
    let present: BTreeSet<String> = sources(&src)
        .iter()
        .filter_map(|f| module_of(&src, f))
        .collect();
    let mut last = 0;
    for (layer, mods) in LAYERS {
        for m in mods.iter().filter(|m| present.contains(**m)) {
            let needle = format!("[`{m}`]");
            let at = map
                .find(&needle)
                .unwrap_or_else(|| panic!("the module map does not list {needle} ({layer})"));
            assert!(at >= last, "{needle} is listed out of layer order");
            last = at;
        }
    }
}

#[test]
fn the_checker_reads_imports() {
    assert_eq!(imports("use crate::time::SimTime;"), ["time"]);
    assert_eq!(imports("use crate::{model::Model, rng};"), ["model", "rng"]);
    assert_eq!(
        imports("let x = crate::dist::Dist::Exp; // crate::engine"),
        ["dist"]
    );
    assert!(imports("// use crate::engine").is_empty());
}
