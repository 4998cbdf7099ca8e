#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Runs the shared vectors in `tests/vectors/*.json` against `linkpay::codec` (see the README
//! there). The Node and WASI runners apply the same rules to the same files.

use linkpay::{Error, codec};
use serde_json::Value;
use std::path::Path;

#[path = "common/vectors.rs"]
mod common;
use common::{Failure, FieldFailure};

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
        "parseHttpUrl" => codec::parse_http_url(text(a, 0)),
        other => panic!("vector names unknown function {other}"),
    }
}

fn failure(e: Error) -> Failure {
    Failure {
        code: e.code.as_str().to_string(),
        message: e.message,
        field_errors: e
            .field_errors
            .into_iter()
            .map(|f| FieldFailure {
                path: f.path,
                message: f.message,
            })
            .collect(),
    }
}

#[test]
fn shared_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let (total, failures) = common::run_all(&dir, |f, args| call(f, args).map_err(failure));
    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} vectors passed");
}
