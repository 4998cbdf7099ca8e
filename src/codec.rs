//! The JSON-level API of the core: what the npm package (`bind/js.rs`), the WASI component's
//! `codec` world (`bind/component.rs`) and the shared vectors in `tests/vectors/` call.
//!
//! Each function takes and returns JSON values, so that the bindings only convert values and the
//! three test runners (Rust, Node, wasmtime) exercise exactly the same entry points. The names
//! here are the JS names in snake_case (`validate_create_spend_request` ↔
//! `validateCreateSpendRequest` ↔ WIT `validate-create-spend-request`).

use crate::error::Result;
use crate::spend_request::ToJson;
use crate::{auth, mpp, poll, sanitize, spend_request, validate};
use serde_json::Value;

fn to_json<T: ToJson>(value: &T) -> Result<Value> {
    Ok(value.to_json())
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
