#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Reads the crate's own sources: the one test that may touch files this way.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! The crate's layers, checked from its source: every `src/**/*.rs` file's `use crate::…`,
//! `use super::…`, `crate::x::…` and `super::x::…` references make a module graph, which must
//! have no cycle (between top-level modules, nor between the files of one folder), and each
//! top-level module may only reach modules of its own layer or of a layer below (the table in
//! [`LAYERS`], the one `src/lib.rs` documents).
//!
//! Test code (`#[cfg(test)]` items) is left out: a unit test may use anything. Comments and
//! string literals are left out too (a doc link is not a dependency). A path through a facade
//! (`crate::mpp::Challenge`, `crate::Error`) is followed to the module its `pub use` names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top; a module may use its own layer and the layers below it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "primitives",
        &["error", "record", "json", "sanitize", "http"],
    ),
    (
        "domain",
        &[
            "validate",
            "spend_request",
            "auth",
            "poll",
            "mpp",
            "api",
            "update",
        ],
    ),
    ("driver", &["host", "client"]),
    ("runner", &["runner", "commands", "codec", "agent_host"]),
    ("bindings", &["bind"]),
];

type Module = Vec<String>;

fn join(m: &[String]) -> String {
    if m.is_empty() {
        "crate".to_string()
    } else {
        m.join("::")
    }
}

/// The source with comments, string/char literals and `#[cfg(test)]` items removed.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if at(i) == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= c.len() {
                    break;
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (at(i) == 'r' || (at(i) == 'b' && at(i + 1) == 'r'))
            && (i == 0 || !ident(c[i - 1]))
            && {
                let mut k = i + if at(i) == 'b' { 2 } else { 1 };
                while at(k) == '#' {
                    k += 1;
                }
                at(k) == '"'
            }
        {
            let mut k = i + if at(i) == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while at(k) == '#' {
                hashes += 1;
                k += 1;
            }
            k += 1;
            loop {
                if k >= c.len() {
                    break;
                }
                if c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#') {
                    k += 1 + hashes;
                    break;
                }
                k += 1;
            }
            i = k;
            out.push_str("\"\"");
        } else if at(i) == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if at(i) == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A char literal ('x', '\n', '\u{7f}'); otherwise a lifetime.
            i += 1;
            if at(i) == '\\' {
                i += 2;
            } else {
                i += 1;
            }
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Path, // ::
    Punct(char),
}

fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
            continue;
        }
        if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok::Path);
            i += 2;
            continue;
        }
        if !ch.is_whitespace() {
            out.push(Tok::Punct(ch));
        }
        i += 1;
    }
    out
}

/// Drops `#[cfg(test)]` items (and `#[cfg(all(test, …))]` ones) from a token stream.
fn without_test_items(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    let is = |t: Option<&Tok>, p: char| t == Some(&Tok::Punct(p));
    while i < toks.len() {
        if is(toks.get(i), '#') && is(toks.get(i + 1), '[') {
            // Read the attribute.
            let mut k = i + 2;
            let mut depth = 1;
            let mut names = Vec::new();
            while k < toks.len() && depth > 0 {
                match &toks[k] {
                    Tok::Punct('[') => depth += 1,
                    Tok::Punct(']') => depth -= 1,
                    Tok::Ident(s) => names.push(s.clone()),
                    _ => {}
                }
                k += 1;
            }
            let test_only = names.first().is_some_and(|n| n == "cfg")
                && names.iter().any(|n| n == "test")
                && !names.iter().any(|n| n == "not" || n == "any");
            if test_only {
                // Skip the item: to a `;` at depth 0 or the end of its first `{ … }`.
                let mut depth = 0;
                while k < toks.len() {
                    match &toks[k] {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => {
                            depth -= 1;
                            if depth == 0 {
                                k += 1;
                                break;
                            }
                        }
                        Tok::Punct(';') if depth == 0 => {
                            k += 1;
                            break;
                        }
                        _ => {}
                    }
                    k += 1;
                }
                i = k;
                continue;
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// One `use` tree, flattened: each leaf's path and the name it brings in scope.
fn use_tree(toks: &[Tok], i: &mut usize, prefix: Vec<String>, out: &mut Vec<(Module, String)>) {
    let mut path = prefix;
    loop {
        match toks.get(*i) {
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *i += 1;
                if toks.get(*i) == Some(&Tok::Path) {
                    *i += 1;
                    continue;
                }
                let mut name = path.last().cloned().unwrap_or_default();
                if toks.get(*i) == Some(&Tok::Ident("as".into())) {
                    if let Some(Tok::Ident(alias)) = toks.get(*i + 1) {
                        name = alias.clone();
                    }
                    *i += 2;
                }
                if name == "self" {
                    path.pop();
                    name = path.last().cloned().unwrap_or_default();
                }
                out.push((path, name));
                return;
            }
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push((path, "*".into()));
                return;
            }
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        Some(Tok::Punct('}')) | None => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        _ => use_tree(toks, i, path.clone(), out),
                    }
                }
            }
            _ => {
                out.push((path, String::new()));
                return;
            }
        }
    }
}

struct File {
    module: Module,
    /// Every path the file names (relative ones already made absolute where we can tell).
    refs: Vec<Module>,
    /// The names its `pub use` items export, and what they stand for.
    exports: Vec<(String, Module)>,
}

fn module_of(rel: &Path) -> Module {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

fn read_files(dir: &Path, root: &Path, out: &mut Vec<(Module, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap();
            out.push((module_of(rel), std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// Resolves a path's first segments (`crate`, `super`, `self`, a child module) against the
/// module it appears in; `None` for other crates' paths and for local names.
fn absolute(path: &[String], here: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = here.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = here.to_vec();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

fn parse(module: Module, src: &str, modules: &BTreeSet<Module>) -> File {
    let toks = without_test_items(tokens(&strip(src)));
    let mut refs = Vec::new();
    let mut exports = Vec::new();
    // Inline modules (`mod name { … }`) open a scope for `super`/`self`.
    let mut scope: Vec<(String, i32)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    let mut public = false;
    while i < toks.len() {
        let here: Module = module
            .iter()
            .cloned()
            .chain(scope.iter().map(|(n, _)| n.clone()))
            .collect();
        match &toks[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth -= 1;
                if scope.last().is_some_and(|(_, d)| *d == depth) {
                    scope.pop();
                }
            }
            Tok::Ident(s) if s == "pub" => {
                public = true;
                i += 1;
                continue;
            }
            Tok::Ident(s) if s == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct('{'))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    scope.push((name.clone(), depth));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(s) if s == "use" => {
                i += 1;
                let mut leaves = Vec::new();
                use_tree(&toks, &mut i, Vec::new(), &mut leaves);
                for (path, name) in leaves {
                    if let Some(abs) = absolute(&path, &here, modules) {
                        if public && !name.is_empty() && name != "*" && scope.is_empty() {
                            exports.push((name, abs.clone()));
                        }
                        refs.push(abs);
                    }
                }
                public = false;
                continue;
            }
            Tok::Ident(s)
                if (s == "crate" || s == "super" || s == "self")
                    && toks.get(i + 1) == Some(&Tok::Path)
                    && !matches!(toks.get(i.wrapping_sub(1)), Some(Tok::Path)) =>
            {
                let mut path = vec![s.clone()];
                let mut k = i + 1;
                while toks.get(k) == Some(&Tok::Path) {
                    match toks.get(k + 1) {
                        Some(Tok::Ident(seg)) => {
                            path.push(seg.clone());
                            k += 2;
                        }
                        _ => break,
                    }
                }
                if let Some(abs) = absolute(&path, &here, modules) {
                    refs.push(abs);
                }
                i = k;
                public = false;
                continue;
            }
            _ => {}
        }
        if !matches!(toks[i], Tok::Punct('(') | Tok::Punct(')')) {
            // `pub(crate) use` keeps its `pub`; anything else ends it.
            if !matches!(&toks[i], Tok::Ident(s) if s == "crate" || s == "super" || s == "in") {
                public = false;
            }
        }
        i += 1;
    }
    File {
        module,
        refs,
        exports,
    }
}

struct Graph {
    /// File modules, each with the file modules it uses.
    edges: BTreeMap<Module, BTreeSet<Module>>,
}

fn graph() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    read_files(&root, &root, &mut sources);
    let modules: BTreeSet<Module> = sources.iter().map(|(m, _)| m.clone()).collect();
    let files: Vec<File> = sources
        .iter()
        .map(|(m, src)| parse(m.clone(), src, &modules))
        .collect();
    let exports: BTreeMap<Module, BTreeMap<String, Module>> = files
        .iter()
        .map(|f| (f.module.clone(), f.exports.iter().cloned().collect()))
        .collect();
    // The file module a path lands in, through `pub use` facades.
    let resolve = |path: &Module| -> Module {
        let mut path = path.clone();
        for _ in 0..8 {
            let n = (0..=path.len())
                .rev()
                .find(|n| modules.contains(&path[..*n]))
                .unwrap_or(0);
            let module = path[..n].to_vec();
            let next = path.get(n).and_then(|name| exports.get(&module)?.get(name));
            match next {
                Some(target) if target != &path[..=n] => {
                    let mut p = target.clone();
                    p.extend(path[n + 1..].iter().cloned());
                    path = p;
                }
                _ => return module,
            }
        }
        path
    };
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for f in &files {
        let entry = edges.entry(f.module.clone()).or_default();
        for r in &f.refs {
            let target = resolve(r);
            if target != f.module {
                entry.insert(target);
            }
        }
    }
    Graph { edges }
}

/// Cycles in `edges`, each as the list of its nodes: found one at a time, each time dropping
/// its last edge, so every cycle is broken at least once in the list.
fn find_cycles<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    let mut edges = edges.clone();
    let mut cycles = Vec::new();
    while let Some(cycle) = find_cycle(&edges) {
        if let [.., a, b] = cycle.as_slice()
            && let Some(tos) = edges.get_mut(a)
        {
            tos.remove(b);
        }
        cycles.push(cycle);
    }
    cycles
}

/// A cycle in `edges`, as the list of its nodes, if there is one.
fn find_cycle<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<N: Ord + Clone>(
        n: &N,
        edges: &BTreeMap<N, BTreeSet<N>>,
        marks: &mut BTreeMap<N, Mark>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(n.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n.clone(), Mark::Open);
        stack.push(n.clone());
        for next in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, edges, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(n.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in edges.keys() {
        if let Some(c) = visit(n, edges, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn layer(top: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&top))
}

#[test]
fn no_cycle_between_top_level_modules() {
    let g = graph();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &g.edges {
        let Some(a) = from.first() else { continue };
        for to in tos {
            let Some(b) = to.first() else { continue };
            if a != b {
                top.entry(a.clone()).or_default().insert(b.clone());
            }
        }
    }
    let mut report = Vec::new();
    for cycle in find_cycles(&top) {
        let why: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                let files: Vec<String> = g
                    .edges
                    .iter()
                    .filter(|(f, tos)| {
                        f.first() == Some(&w[0]) && tos.iter().any(|t| t.first() == Some(&w[1]))
                    })
                    .map(|(f, _)| join(f))
                    .collect();
                format!("  {} -> {} (in {})", w[0], w[1], files.join(", "))
            })
            .collect();
        report.push(format!(
            "import cycle between top-level modules: {}\n{}",
            cycle.join(" -> "),
            why.join("\n")
        ));
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn no_cycle_between_the_files_of_a_folder() {
    let g = graph();
    // Siblings only: a folder's `mod.rs` re-exporting its children, and children naming
    // their parent's items, are one module's inside and outside.
    let mut sub: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, tos) in &g.edges {
        for to in tos {
            let related = from.starts_with(to) || to.starts_with(from);
            if !related && from.len() >= 2 && to.len() >= 2 && from[0] == to[0] {
                sub.entry(from.clone()).or_default().insert(to.clone());
            }
        }
    }
    let report: Vec<String> = find_cycles(&sub)
        .iter()
        .map(|cycle| {
            let names: Vec<String> = cycle.iter().map(|m| join(m)).collect();
            format!("import cycle between submodules: {}", names.join(" -> "))
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn each_module_uses_only_its_layer_and_those_below() {
    let g = graph();
    let mut problems = Vec::new();
    for (from, tos) in &g.edges {
        let Some(a) = from.first() else { continue };
        let Some(la) = layer(a) else {
            problems.push(format!(
                "{a} is in no layer: add it to LAYERS in tests/layers.rs"
            ));
            continue;
        };
        for to in tos {
            let Some(b) = to.first() else { continue };
            match layer(b) {
                None => problems.push(format!(
                    "{b} is in no layer: add it to LAYERS in tests/layers.rs"
                )),
                Some(lb) if lb > la => problems.push(format!(
                    "{} ({}) uses {} ({}), a layer above it",
                    join(from),
                    LAYERS[la].0,
                    join(to),
                    LAYERS[lb].0
                )),
                _ => {}
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reader_sees_the_known_edges() {
    // Guards the parser itself: edges every version of the crate has.
    let g = graph();
    let has = |from: &str, to: &str| {
        let f: Module = from.split("::").map(str::to_string).collect();
        let t: Module = to.split("::").map(str::to_string).collect();
        g.edges.get(&f).is_some_and(|tos| tos.contains(&t))
    };
    assert!(has("client", "api"));
    assert!(has("client", "host"));
    assert!(has("mpp::stripe", "mpp::challenge"));
    assert!(has("codec", "validate"));
    // Through the `pub use` in lib.rs.
    assert!(
        g.edges
            .values()
            .flatten()
            .any(|m| m == &vec!["error".to_string()])
    );
    assert!(g.edges.len() > 20, "{} files read", g.edges.len());
}

#[test]
fn stripping_keeps_code_and_drops_the_rest() {
    let src = "use crate::a; // crate::b\n/* crate::c /* nested */ */ let s = \"crate::d\"; \
               let r = r#\"crate::e\"#; let c = '\"'; fn f<'a>(x: &'a str) { crate::g::h(); }\n\
               #[cfg(test)]\nmod tests { use crate::i; }\n";
    let stripped = strip(src);
    for gone in ["crate::b", "crate::c", "crate::d", "crate::e"] {
        assert!(!stripped.contains(gone), "{gone}: {stripped}");
    }
    assert!(stripped.contains("crate::g::h"));
    let toks = without_test_items(tokens(&stripped));
    assert!(!toks.contains(&Tok::Ident("i".into())));
    let mut leaves = Vec::new();
    let t = tokens("crate::{a::{self, B as C}, d::*};");
    use_tree(&t, &mut 0, Vec::new(), &mut leaves);
    let got: Vec<(String, String)> = leaves.into_iter().map(|(p, n)| (p.join("::"), n)).collect();
    assert_eq!(
        got,
        [
            ("crate::a".to_string(), "a".to_string()),
            ("crate::a::B".to_string(), "C".to_string()),
            ("crate::d".to_string(), "*".to_string()),
        ]
    );
}
