//! The WIT of both built components (what `wasm-tools component wit` prints: the same
//! wit-component 0.254 printer) must equal `tests/golden/linkpay-{codec,client}.wit`, so no
//! unexpected import (filesystem, sockets, wasi:cli, a second WASI version, ...) or export
//! change slips in unnoticed; the imports are also checked against the exact list of what each
//! world uses.
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

fn check(name: &str, path: &Path, expected_imports: &[&str]) {
    let wit = component_wit(path);
    let golden = repo_root().join("tests/golden").join(format!("{name}.wit"));
    if std::env::var_os("LINKPAY_BLESS").is_some() {
        std::fs::write(&golden, &wit).expect("write golden");
    }
    // The imports first, so a new one is named even when blessing: exactly these, nothing that
    // Rust's std or a second WASI version would bring in.
    let mut imports: Vec<String> = world_lines(&wit)
        .iter()
        .filter_map(|l| l.strip_prefix("import "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    imports.sort();
    let mut expected: Vec<String> = expected_imports.iter().map(|i| i.to_string()).collect();
    expected.sort();
    assert_eq!(imports, expected, "{name}: the component's imports");
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        wit == expected,
        "{name}: the component's WIT differs from {} (LINKPAY_BLESS=1 rewrites it after a \
         deliberate change)\n--- got ---\n{wit}",
        golden.display()
    );
}

/// The one WASI version both components import (`wit/deps`).
const WASI: &str = "0.2.12";

/// Names `wasi:{interface}@{WASI}`.
fn wasi(interfaces: &[&str]) -> Vec<String> {
    interfaces
        .iter()
        .map(|i| format!("wasi:{i}@{WASI}"))
        .collect()
}

#[test]
fn codec_component_wit_is_the_golden_one() {
    // The pure core imports nothing at all.
    check("linkpay-codec", &codec_component_path(), &[]);
}

#[test]
fn client_component_wit_is_the_golden_one() {
    // wasi:http, the clocks (polling, timeouts, token expiry), random (idempotency keys), the
    // host's storage, and the wasi:io types (pollable, streams, error) that wasi:http and the
    // monotonic clock are written in.
    let mut expected = wasi(&[
        "http/outgoing-handler",
        "http/types",
        "clocks/monotonic-clock",
        "clocks/wall-clock",
        "random/random",
        "io/poll",
        "io/error",
        "io/streams",
    ]);
    expected.push("linkpay:core/storage@0.1.0".into());
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    check("linkpay-client", &client_component_path(), &expected);
}
