//! The WIT of both built components (what `wasm-tools component wit` prints: the same
//! wit-component 0.254 printer) must equal `tests/golden/linkpay-{codec,client}.wit`, so no
//! unexpected import (filesystem, sockets, ...) or export change slips in unnoticed.
//! `LINKPAY_BLESS=1` rewrites the golden files after a deliberate change.

use linkpay_wasi_runner::{client_component_path, codec_component_path, repo_root};
use std::path::Path;
use wit_component::WitPrinter;

/// The component's WIT: its world, then every package it refers to.
fn component_wit(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("component builds first: scripts/build");
    let decoded = wit_component::decode(&bytes).expect("a component");
    let resolve = decoded.resolve();
    let main = decoded.package();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = WitPrinter::default();
    printer.print(resolve, main, &nested).expect("printable");
    printer.output.to_string()
}

/// Every `import`/`export` line of the component's own world.
fn world_lines(wit: &str) -> Vec<String> {
    wit.lines()
        .take_while(|l| !l.starts_with("package ") || l.ends_with(';'))
        .map(str::trim)
        .filter(|l| l.starts_with("import ") || l.starts_with("export "))
        .map(String::from)
        .collect()
}

fn check(name: &str, path: &Path, allowed_imports: &[&str]) {
    let wit = component_wit(path);
    let golden = repo_root().join("tests/golden").join(format!("{name}.wit"));
    if std::env::var_os("LINKPAY_BLESS").is_some() {
        std::fs::write(&golden, &wit).expect("write golden");
    }
    for line in world_lines(&wit) {
        if let Some(import) = line.strip_prefix("import ") {
            assert!(
                allowed_imports.iter().any(|a| import.starts_with(a)),
                "{name}: unexpected import {import}"
            );
        }
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        wit == expected,
        "{name}: the component's WIT differs from {} (LINKPAY_BLESS=1 rewrites it after a \
         deliberate change)\n--- got ---\n{wit}",
        golden.display()
    );
}

/// What Rust's std on wasm32-wasip2 needs (environment, exit, stdio, clocks, random).
const STD: &[&str] = &["wasi:cli/", "wasi:io/", "wasi:clocks/", "wasi:random/"];

#[test]
fn codec_component_wit_is_the_golden_one() {
    check("linkpay-codec", &codec_component_path(), STD);
}

#[test]
fn client_component_wit_is_the_golden_one() {
    let mut allowed = STD.to_vec();
    allowed.extend(["wasi:http/", "linkpay:core/storage"]);
    check("linkpay-client", &client_component_path(), &allowed);
}
