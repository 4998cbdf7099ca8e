#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Reads the vector files from disk (the core itself may not: clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

//! The shared-vector rules (see tests/vectors/README.md), used by the Rust runner here and by
//! the WASI runner in tests/wasi-runner (included there by path).

use serde_json::Value;
use std::path::Path;

/// A failed call, in the shape every runner can produce.
#[derive(Debug)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub field_errors: Vec<FieldFailure>,
}

/// One field error of a [`Failure`].
#[derive(Debug)]
pub struct FieldFailure {
    pub path: String,
    pub message: String,
}

/// `expected` ⊆ `actual`: objects by key, arrays element-wise with equal length.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| matches(ev, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(ev, av)| matches(ev, av))
        }
        _ => expected == actual,
    }
}

pub fn check(case: &Value, result: Result<Value, Failure>) -> Result<(), String> {
    if let Some(ok) = case.get("ok").or_else(|| case.get("okMatch")) {
        let exact = case.get("ok").is_some();
        return match result {
            Ok(actual) if exact && &actual == ok => Ok(()),
            Ok(actual) if !exact && matches(ok, &actual) => Ok(()),
            Ok(actual) => Err(format!("expected {ok}\n      got {actual}")),
            Err(e) => Err(format!("expected ok {ok}\n      got error {e:?}")),
        };
    }
    let Some(want) = case.get("error") else {
        return Err("case has neither ok, okMatch nor error".into());
    };
    let err = match result {
        Ok(v) => return Err(format!("expected error {want}\n      got ok {v}")),
        Err(e) => e,
    };
    if want["code"].as_str() != Some(err.code.as_str()) {
        return Err(format!("expected code {}, got {err:?}", want["code"]));
    }
    if let Some(part) = want.get("messageContains").and_then(Value::as_str)
        && !err.message.contains(part)
    {
        return Err(format!("message {:?} lacks {part:?}", err.message));
    }
    if let Some(fields) = want.get("fieldErrors").and_then(Value::as_array) {
        let mut want_paths: Vec<&str> = fields.iter().filter_map(|f| f["path"].as_str()).collect();
        let mut got_paths: Vec<&str> = err.field_errors.iter().map(|f| f.path.as_str()).collect();
        want_paths.sort_unstable();
        got_paths.sort_unstable();
        if want_paths != got_paths {
            return Err(format!(
                "field paths {got_paths:?}, expected {want_paths:?}"
            ));
        }
        for f in fields {
            let (Some(path), Some(msg)) = (f["path"].as_str(), f["message"].as_str()) else {
                continue;
            };
            if !err
                .field_errors
                .iter()
                .any(|g| g.path == path && g.message == msg)
            {
                return Err(format!("no field error {path}: {msg:?} in {err:?}"));
            }
        }
    }
    Ok(())
}

/// The one file of `tests/vectors/` that is not codec cases (see tests/common/commands.rs).
pub const COMMAND_VECTORS: &str = "commands.json";

/// Runs every case of every `*.json` file in `dir` through `call`; returns (count, failures).
pub fn run_all(
    dir: &Path,
    mut call: impl FnMut(&str, &[Value]) -> Result<Value, Failure>,
) -> (usize, Vec<String>) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("vectors dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        // The command vectors are steps against a sandbox, run by tests/commands.rs.
        .filter(|p| !p.ends_with(COMMAND_VECTORS))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for file in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read"))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let default_fn = doc["function"].as_str().unwrap_or_default();
        for case in doc["cases"].as_array().expect("cases array") {
            total += 1;
            let function = case["function"].as_str().unwrap_or(default_fn);
            let args = case["args"].as_array().cloned().unwrap_or_default();
            if let Err(why) = check(case, call(function, &args)) {
                failures.push(format!(
                    "{} / {}: {why}",
                    file.file_name().unwrap_or_default().to_string_lossy(),
                    case["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    (total, failures)
}
