//! The shared vectors (tests/vectors/*.json) through the component's `codec` world in wasmtime.

#[path = "../../common/vectors.rs"]
mod common;

use common::{Failure, FieldFailure};
use linkpay_wasi_runner::{CodecInstance, WitError, codec_component_path, repo_root, wire_code};
use serde_json::Value;

fn failure(e: WitError) -> Failure {
    Failure {
        code: wire_code(e.code),
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

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn json_text(v: Option<&Value>) -> String {
    v.unwrap_or(&Value::Null).to_string()
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

fn opt_text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(String::from)
}

fn int(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or_default()
}

fn parsed(r: wasmtime::Result<Result<String, WitError>>) -> Result<Value, Failure> {
    match r.expect("trap") {
        Ok(text) => Ok(serde_json::from_str(&text).expect("component returned JSON")),
        Err(e) => Err(failure(e)),
    }
}

#[test]
fn shared_vectors_in_wasmtime() {
    let path = codec_component_path();
    let mut inst = CodecInstance::load(&path).expect("component builds first: scripts/build");
    let dir = repo_root().join("tests/vectors");
    let (total, failures) = common::run_all(&dir, |function, a| {
        let c = inst.codec.linkpay_core_codec_api();
        let s = &mut inst.store;
        match function {
            "validateCreateSpendRequest" => parsed(c.call_validate_create_spend_request(
                s,
                &json_text(a.first()),
                int(a.get(1)),
            )),
            "validateCreateSpendRequestBody" => parsed(c.call_validate_create_spend_request_body(
                s,
                &json_text(a.first()),
                int(a.get(1)),
            )),
            "validateUpdateSpendRequest" => {
                parsed(c.call_validate_update_spend_request(s, &json_text(a.first())))
            }
            "parseKeyValueFlag" => {
                parsed(c.call_parse_key_value_flag(s, &text(a.first()), &text(a.get(1))))
            }
            "validateRetrieveOptions" => {
                parsed(c.call_validate_retrieve_options(s, &json_text(a.first())))
            }
            "validateLoginOptions" => {
                parsed(c.call_validate_login_options(s, &json_text(a.first())))
            }
            "spendRequestTransition" => {
                parsed(c.call_spend_request_transition(s, &text(a.first()), &text(a.get(1))))
            }
            "nextSpendRequestAction" => {
                parsed(c.call_next_spend_request_action(s, &json_text(a.first())))
            }
            "normalizeSpendRequest" => {
                parsed(c.call_normalize_spend_request(s, &json_text(a.first())))
            }
            "authHandleTokenResponse" => parsed(c.call_auth_handle_token_response(
                s,
                &json_text(a.first()),
                u16::try_from(int(a.get(1))).unwrap_or_default(),
                &text(a.get(2)),
                int(a.get(3)),
            )),
            "tokenNeedsRefresh" => match c
                .call_token_needs_refresh(s, &json_text(a.first()), int(a.get(1)))
                .expect("trap")
            {
                Ok(b) => Ok(Value::Bool(b)),
                Err(e) => Err(failure(e)),
            },
            "pollDecide" => parsed(c.call_poll_decide(
                s,
                &json_text(a.first()),
                &json_text(a.get(1)),
                int(a.get(2)),
                a.get(3).and_then(Value::as_bool).unwrap_or_default(),
            )),
            "decodeChallenges" => {
                parsed(c.call_decode_challenges(s, &strings(a.first().unwrap_or(&Value::Null))))
            }
            "decodeStripeChallenge" => parsed(c.call_decode_stripe_challenge(
                s,
                &strings(a.first().unwrap_or(&Value::Null)),
                int(a.get(1)),
                opt_text(a.get(2)).as_deref(),
            )),
            "buildCredential" => parsed(c.call_build_credential(
                s,
                &json_text(a.first()),
                &json_text(a.get(1)),
                opt_text(a.get(2)).as_deref(),
                int(a.get(3)),
            )),
            "buildStripePayload" => {
                parsed(c.call_build_stripe_payload(s, &json_text(a.first()), &text(a.get(1))))
            }
            "parseReceipt" => parsed(c.call_parse_receipt(s, &text(a.first()))),
            "parseHttpUrl" => parsed(c.call_parse_http_url(s, &text(a.first()))),
            "sanitizeForDisplay" => Ok(Value::String(
                c.call_sanitize_for_display(s, &text(a.first()))
                    .expect("trap"),
            )),
            other => panic!("vector names unknown function {other}"),
        }
    });
    assert!(
        failures.is_empty(),
        "{} of {total} vectors failed in wasmtime:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{total} vectors passed in wasmtime");
}

#[test]
fn component_version_matches_crate() {
    let mut inst = CodecInstance::load(&codec_component_path()).expect("load");
    let v = inst
        .codec
        .linkpay_core_codec_api()
        .call_version(&mut inst.store)
        .expect("trap");
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        cargo.contains(&format!("version = \"{v}\"")),
        "component version {v} not in Cargo.toml"
    );
}
