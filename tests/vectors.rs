#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Runs the shared vectors in `tests/vectors/*.json` against `linkpay::codec` (see the README
//! there). The Node and WASI runners apply the same rules to the same files.

use linkpay::{Error, codec};
use serde_json::Value;
use std::path::Path;

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

fn int(args: &[Value], i: usize) -> i64 {
    arg(args, i).as_i64().unwrap_or_default()
}

fn text(args: &[Value], i: usize) -> &str {
    arg(args, i).as_str().unwrap_or_default()
}

fn opt_text(args: &[Value], i: usize) -> Option<&str> {
    arg(args, i).as_str()
}

/// Maps a JS function name to the codec call, as the bindings do.
fn call(function: &str, a: &[Value]) -> Result<Value, Error> {
    match function {
        "validateCreateSpendRequest" => codec::validate_create_spend_request(arg(a, 0), int(a, 1)),
        "validateCreateSpendRequestBody" => {
            codec::validate_create_spend_request_body(arg(a, 0), int(a, 1))
        }
        "validateUpdateSpendRequest" => codec::validate_update_spend_request(arg(a, 0)),
        "parseKeyValueFlag" => codec::parse_key_value_flag(text(a, 0), text(a, 1)),
        "validateRetrieveOptions" => codec::validate_retrieve_options(arg(a, 0)),
        "validateLoginOptions" => codec::validate_login_options(arg(a, 0)),
        "spendRequestTransition" => codec::spend_request_transition(text(a, 0), text(a, 1)),
        "nextSpendRequestAction" => codec::next_spend_request_action(arg(a, 0)),
        "normalizeSpendRequest" => codec::normalize_spend_request(arg(a, 0)),
        "authHandleTokenResponse" => codec::auth_handle_token_response(
            arg(a, 0),
            u16::try_from(int(a, 1)).unwrap_or_default(),
            text(a, 2),
            int(a, 3),
        ),
        "tokenNeedsRefresh" => codec::token_needs_refresh(arg(a, 0), int(a, 1)),
        "pollDecide" => codec::poll_decide(
            arg(a, 0),
            arg(a, 1),
            int(a, 2),
            arg(a, 3).as_bool().unwrap_or_default(),
        ),
        "decodeChallenges" => codec::decode_challenges(&strings(arg(a, 0))),
        "decodeStripeChallenge" => {
            codec::decode_stripe_challenge(&strings(arg(a, 0)), int(a, 1), opt_text(a, 2))
        }
        "buildCredential" => {
            codec::build_credential(arg(a, 0), arg(a, 1), opt_text(a, 2), int(a, 3))
        }
        "buildStripePayload" => codec::build_stripe_payload(arg(a, 0), text(a, 1)),
        "parseReceipt" => codec::parse_receipt(text(a, 0)),
        "sanitizeForDisplay" => Ok(Value::String(codec::sanitize_for_display(text(a, 0)))),
        other => panic!("vector names unknown function {other}"),
    }
}

/// `expected` ⊆ `actual`: objects by key, arrays element-wise with equal length.
fn matches(expected: &Value, actual: &Value) -> bool {
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

fn check(case: &Value, result: Result<Value, Error>) -> Result<(), String> {
    if let Some(ok) = case.get("ok").or_else(|| case.get("okMatch")) {
        let exact = case.get("ok").is_some();
        return match result {
            Ok(actual) if exact && &actual == ok => Ok(()),
            Ok(actual) if !exact && matches(ok, &actual) => Ok(()),
            Ok(actual) => Err(format!("expected {ok}\n      got {actual}")),
            Err(e) => Err(format!("expected ok {ok}\n      got error {}", e.to_json())),
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
        return Err(format!(
            "expected code {}, got {}",
            want["code"],
            err.to_json()
        ));
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
                return Err(format!(
                    "no field error {path}: {msg:?} in {}",
                    err.to_json()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn shared_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("vectors dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
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
    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} vectors passed");
}
