//! The JSON-level API of the core: what the npm package (`bind/js.rs`), the WASI component's
//! `codec` world (`bind/component.rs`) and the shared vectors in `tests/vectors/` call.
//!
//! Each function takes and returns JSON values, so that the bindings only convert values and the
//! three test runners (Rust, Node, wasmtime) exercise exactly the same entry points. The names
//! here are the JS names in snake_case (`validate_create_spend_request` ↔
//! `validateCreateSpendRequest` ↔ WIT `validate-create-spend-request`).

use crate::error::{Error, ErrorCode, Result};
use crate::{auth, mpp, poll, sanitize, spend_request, validate};
use serde::Serialize;
use serde_json::Value;

fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::new(ErrorCode::Unknown, e.to_string()))
}

/// Validates and normalises a spend-request create input (snake_case, `payment_method_id`).
/// `now_s` is unix seconds, used by the `expires_at` window.
pub fn validate_create_spend_request(input: &Value, now_s: i64) -> Result<Value> {
    to_json(&validate::spend_request::validate_create(input, now_s)?)
}

/// Same rules as [`validate_create_spend_request`] on the wire body the Link API receives
/// (`payment_details` instead of `payment_method_id`); what the sandbox calls.
pub fn validate_create_spend_request_body(body: &Value, now_s: i64) -> Result<Value> {
    to_json(&validate::spend_request::validate_create_body(body, now_s)?)
}

/// Validates a spend-request update input (its field subset).
pub fn validate_update_spend_request(input: &Value) -> Result<Value> {
    to_json(&validate::spend_request::validate_update(input)?)
}

/// Parses one `key:value,key:value` flag; `kind` is `line_item`, `total` or `metadata`.
pub fn parse_key_value_flag(kind: &str, value: &str) -> Result<Value> {
    validate::flag::parse_key_value_flag(kind, value)
}

/// Validates retrieve/poll options (`interval`, `max_attempts`, `timeout`, `include`).
pub fn validate_retrieve_options(input: &Value) -> Result<Value> {
    to_json(&validate::options::validate_retrieve(input)?)
}

/// Validates login options (`client_name`, `scope`, `source_actions`, `authorization_details`).
pub fn validate_login_options(input: &Value) -> Result<Value> {
    to_json(&validate::options::validate_login(input)?)
}

/// Applies a lifecycle event (`request_approval`, `approve`, `deny`, `cancel`, `update`,
/// `expire`, `require_action`, `resume`, `succeed`, `fail`) to a status; `ILLEGAL_TRANSITION`
/// when the event is not allowed.
pub fn spend_request_transition(status: &str, event: &str) -> Result<Value> {
    let status = spend_request::Status::parse(status)?;
    let event = spend_request::Event::parse(event)?;
    to_json(&spend_request::transition(status, event)?)
}

/// What a client should do with a spend request it just fetched: keep polling or stop.
pub fn next_spend_request_action(spend_request: &Value) -> Result<Value> {
    to_json(&spend_request::next_action(spend_request)?)
}

/// Normalises a spend request from the API (a string `shared_payment_token` becomes `{id}`).
pub fn normalize_spend_request(spend_request: &Value) -> Result<Value> {
    spend_request::normalize(spend_request)
}

/// Steps the device-authorization flow with the answer to a `/device/token` poll.
pub fn auth_handle_token_response(
    pending: &Value,
    status: u16,
    body: &str,
    now_ms: i64,
) -> Result<Value> {
    to_json(&auth::handle_token_response(pending, status, body, now_ms)?)
}

/// Whether stored tokens must be refreshed before use (within 60 s of expiry).
pub fn token_needs_refresh(tokens: &Value, now_ms: i64) -> Result<Value> {
    Ok(Value::Bool(auth::needs_refresh(tokens, now_ms)?))
}

/// Decides what a poll loop does after an attempt: stop, wait until a time, or time out.
pub fn poll_decide(policy: &Value, state: &Value, now_ms: i64, terminal: bool) -> Result<Value> {
    to_json(&poll::decide(policy, state, now_ms, terminal)?)
}

/// Parses every `Payment` challenge in one or more `WWW-Authenticate` values; one result per
/// challenge (`{ok: true, challenge}` or `{ok: false, error}`).
pub fn decode_challenges(values: &[String]) -> Result<Value> {
    to_json(&mpp::challenge::decode_all_results(values))
}

/// Picks and decodes the stripe charge/session challenge (the reference client's `mpp decode`,
/// plus amount, currency, warnings). `request_url` enables the realm warning.
pub fn decode_stripe_challenge(
    values: &[String],
    now_ms: i64,
    request_url: Option<&str>,
) -> Result<Value> {
    to_json(&mpp::stripe::decode(values, now_ms, request_url)?)
}

/// Builds the `Authorization` (or `Payment-Authorization`) header for a decoded challenge.
pub fn build_credential(
    challenge: &Value,
    payload: &Value,
    source: Option<&str>,
    now_ms: i64,
) -> Result<Value> {
    to_json(&mpp::credential::build(challenge, payload, source, now_ms)?)
}

/// The stripe payload for a challenge and an SPT: `{spt, externalId?}` or the session form.
pub fn build_stripe_payload(challenge: &Value, spt: &str) -> Result<Value> {
    mpp::stripe::payload(challenge, spt)
}

/// Parses a `Payment-Receipt` header value.
pub fn parse_receipt(value: &str) -> Result<Value> {
    to_json(&mpp::receipt::parse(value)?)
}

/// Strips ANSI sequences, control, bidi and zero-width characters from untrusted text.
pub fn sanitize_for_display(text: &str) -> String {
    sanitize::for_display(text)
}

// ---------------------------------------------------------------------------------------------
// Sandbox/server side (append-only): what the local sandbox (`npm/src/sandbox`) needs to answer
// exactly like the Link API, with the core's own rules and messages.
// ---------------------------------------------------------------------------------------------

/// The OAuth client id the Link auth server accepts from linkpay and the reference client.
pub fn auth_client_id() -> &'static str {
    auth::CLIENT_ID
}

/// Validates the wire body of `POST /spend_requests/{id}` (the payment method is
/// `payment_details`, as the client sends it) with the update rules, and returns the normalised
/// wire body. Field paths and messages use the wire names; `payment_method_id` is not a wire key.
pub fn validate_update_spend_request_body(body: &Value) -> Result<Value> {
    const WIRE_KEY: &str = "payment_details";
    const INPUT_KEY: &str = "payment_method_id";
    let Some(object) = body.as_object() else {
        return validate_update_spend_request(body);
    };
    let mut input = serde_json::Map::new();
    let mut stray_input_key = false;
    for (key, value) in object {
        match key.as_str() {
            WIRE_KEY => {
                input.insert(INPUT_KEY.to_string(), value.clone());
            }
            INPUT_KEY => stray_input_key = true,
            _ => {
                input.insert(key.clone(), value.clone());
            }
        }
    }
    let mut field_errors = match validate::spend_request::validate_update(&Value::Object(input)) {
        Ok(update) if !stray_input_key => return Ok(update.to_wire_body()),
        Ok(_) => Vec::new(),
        Err(e) if e.code == ErrorCode::ValidationError => e.field_errors,
        Err(e) => return Err(e),
    };
    for f in &mut field_errors {
        if f.path == INPUT_KEY || f.path.starts_with("payment_method_id.") {
            f.path = f.path.replacen(INPUT_KEY, WIRE_KEY, 1);
        }
        f.message = f.message.replace(INPUT_KEY, WIRE_KEY);
    }
    if stray_input_key {
        let wire_keys: Vec<&str> = validate::spend_request::UPDATE_KEYS
            .iter()
            .map(|k| if *k == INPUT_KEY { WIRE_KEY } else { k })
            .collect();
        field_errors.insert(
            0,
            crate::error::FieldError::new(
                INPUT_KEY,
                validate::unknown_key_message("", INPUT_KEY, &wire_keys),
            ),
        );
    }
    Err(Error::validation(field_errors))
}

#[cfg(test)]
mod sandbox_side_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_body_uses_wire_names() {
        let ok = validate_update_spend_request_body(
            &json!({"payment_details": " pm_1 ", "amount": "700"}),
        )
        .unwrap();
        assert_eq!(ok, json!({"payment_details": "pm_1", "amount": 700}));

        let err =
            validate_update_spend_request_body(&json!({"payment_method_id": "pm_1"})).unwrap_err();
        let paths: Vec<&str> = err.field_errors.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["payment_method_id", "input"]);
        assert!(
            err.field_errors[0]
                .message
                .contains("Allowed keys: payment_details, amount")
        );
        assert!(
            err.field_errors[1]
                .message
                .starts_with("at least one of payment_details, amount")
        );

        let err = validate_update_spend_request_body(&json!({"payment_details": 5})).unwrap_err();
        assert_eq!(err.field_errors[0].path, "payment_details");
    }
}
