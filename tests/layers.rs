//! The house keeps its floors: no file of `src/` imports a module of a
//! higher layer, and no files import each other in a loop (tests excepted).
//!
//! The layers, lowest first (README, "Layout of the code"):
//!
//! 0. `domain`, `config`, `i18n`, `metrics`, `presets` — pure or process-wide
//!    (the `stats`, `entity` and `migration` crates sit here too);
//! 1. `error`, `templates`, `mail`, `db`;
//! 2. `auth` — roles, passwords, sessions — and `secret_key` (the server key);
//! 3. `services` — use cases over the database;
//! 4. `views` — what pages and JSON show;
//! 5. `routes` — handlers, with the request extractors, the shared
//!    application state they are handed and the rate-limit middleware;
//! 6. `startup`;
//! 7. `cli`;
//! 8. `main`.
//!
//! An import is any `use crate::…`, `use super::…` or inline `crate::…`
//! path outside a `#[cfg(test)]` module; it is resolved to the file that
//! defines the longest matching module path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// The layer of a top-level module of `src/`.
fn layer(top: &str) -> Option<usize> {
    Some(match top {
        "domain" | "config" | "i18n" | "metrics" | "presets" => 0,
        "error" | "templates" | "mail" | "db" => 1,
        "auth" | "secret_key" => 2,
        "services" => 3,
        "views" => 4,
        "routes" => 5,
        "startup" => 6,
        "cli" => 7,
        "main" => 8,
        "" => return None, // lib.rs declares the modules
        _ => return None,
    })
}

type Module = Vec<String>;

/// Every source file of `src/` as its module path (`lib.rs` is the empty path).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            (parts, path)
        })
        .collect()
}

/// The source without comments and without its `#[cfg(test)]` modules.
fn code_of(source: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<usize> = None;
    let mut depth = 0usize;
    let mut pending_test = false;
    for line in source.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let line = match line.find("//") {
            // A `//` inside a string is rare in imports; cutting it is harmless.
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        if skip_depth.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        if pending_test && !trimmed.is_empty() && !trimmed.starts_with("#[") {
            pending_test = false;
            let declares = trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ");
            if declares && !trimmed.ends_with(';') {
                skip_depth = Some(depth);
            }
        }
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        depth = depth + opens - closes.min(depth + opens);
        match skip_depth {
            Some(d) if depth <= d && (opens > 0 || closes > 0) => skip_depth = None,
            Some(_) => {}
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|rest| {
            if rest == "self" {
                prefix.to_owned()
            } else if prefix.is_empty() {
                rest
            } else {
                format!("{prefix}::{rest}")
            }
        })
        .collect()
}

/// The file a path names: the longest prefix that is a module.
fn resolve(path: &[String], known: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| known.contains_key(m))
}

/// The files each file imports.
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let known = modules(src);
    let use_re = Regex::new(r"(?s)\buse\s+((?:crate|super|self)\b[^;]*);").unwrap();
    let inline_re = Regex::new(r"\bcrate((?:::\w+)+)").unwrap();
    let mut edges = BTreeMap::new();
    for (module, path) in &known {
        let code = code_of(&std::fs::read_to_string(path).unwrap());
        // `super` of `a/b.rs` is `a`, and of `a/b/mod.rs` too.
        let parent: Module = module[..module.len().saturating_sub(1)].to_vec();
        let mut targets = BTreeSet::new();
        let mut add = |full: Vec<String>| {
            if let Some(t) = resolve(&full, &known)
                && &t != module
            {
                targets.insert(t);
            }
        };
        for m in use_re.captures_iter(&code) {
            for item in expand(&m[1].split_whitespace().collect::<String>()) {
                let mut segs: Vec<String> = item.split("::").map(str::to_owned).collect();
                let base = segs.remove(0);
                let mut full = match base.as_str() {
                    "crate" => Vec::new(),
                    "super" => {
                        let mut p = parent.clone();
                        while segs.first().is_some_and(|s| s == "super") {
                            segs.remove(0);
                            p.pop();
                        }
                        p
                    }
                    _ => module.clone(), // self
                };
                full.extend(segs.into_iter().filter(|s| s != "*"));
                let full: Vec<String> = full
                    .into_iter()
                    .map(|s| s.split(" as ").next().unwrap_or(&s).to_owned())
                    .collect();
                add(full);
            }
        }
        for m in inline_re.captures_iter(&code) {
            add(m[1]
                .trim_start_matches("::")
                .split("::")
                .map(str::to_owned)
                .collect());
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".to_owned()
    } else {
        m.join("/")
    }
}

/// Groups of files that import each other (strongly connected components
/// with more than one file).
fn loops(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    // Tarjan's algorithm, iteratively small enough to write out.
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(name(w));
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unplaced: Vec<String> = modules(&src_dir())
        .into_keys()
        .filter_map(|m| m.first().cloned())
        .filter(|top| layer(top).is_none())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules of src/ without a layer in tests/layers.rs (place them, and say so in the README): {unplaced:?}"
    );
}

#[test]
fn no_file_imports_from_a_higher_layer() {
    let mut upward = Vec::new();
    for (from, targets) in graph(&src_dir()) {
        let Some(lf) = from.first().and_then(|t| layer(t)) else {
            continue;
        };
        for to in targets {
            if let Some(lt) = to.first().and_then(|t| layer(t))
                && lt > lf
            {
                upward.push(format!(
                    "{} (layer {lf}) -> {} (layer {lt})",
                    name(&from),
                    name(&to)
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that climb a floor:\n  {}",
        upward.join("\n  ")
    );
}

#[test]
fn no_files_import_each_other_in_a_loop() {
    let found = loops(&graph(&src_dir()));
    assert!(
        found.is_empty(),
        "files that import each other in a loop: {found:?}"
    );
}

/// The checker itself finds a loop and an upward import when there is one.
#[test]
fn the_checker_sees_a_loop_and_a_climb() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("domain")).unwrap();
    std::fs::create_dir_all(src.join("services")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod domain;\npub mod services;\n").unwrap();
    std::fs::write(
        src.join("domain/mod.rs"),
        "pub mod a;\npub mod b;\nuse crate::services::x::Thing;\n",
    )
    .unwrap();
    std::fs::write(src.join("domain/a.rs"), "use super::b::{B, self};\n").unwrap();
    std::fs::write(
        src.join("domain/b.rs"),
        "fn f() { crate::domain::a::g() }\n#[cfg(test)]\nmod tests {\n    use crate::services::x;\n}\n",
    )
    .unwrap();
    std::fs::write(src.join("services/mod.rs"), "pub mod x;\n").unwrap();
    std::fs::write(src.join("services/x.rs"), "use crate::domain::a;\n").unwrap();
    let edges = graph(src);
    let m = |s: &str| s.split('/').map(str::to_owned).collect::<Module>();
    assert!(edges[&m("domain/a")].contains(&m("domain/b")));
    assert!(edges[&m("domain/b")].contains(&m("domain/a")));
    assert!(edges[&m("domain")].contains(&m("services/x")));
    // The test module's import does not count.
    assert!(!edges[&m("domain/b")].contains(&m("services/x")));
    assert_eq!(loops(&edges), vec![vec!["domain/a", "domain/b"]]);
}

#[test]
fn the_estimation_crate_has_no_loop_either() {
    let stats = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stats/src");
    let found = loops(&graph(&stats));
    assert!(
        found.is_empty(),
        "files of stats/src that import each other in a loop: {found:?}"
    );
}
