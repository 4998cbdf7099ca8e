//! wasm-bindgen facade for the npm package (feature `js`, wasm32-unknown-unknown).
//!
//! It only converts values: JS objects cross as JSON (`JSON.stringify` → serde_json and back,
//! which keeps integers exact), and a core [`Error`] becomes a JS `Error` with `.code`,
//! `.fieldErrors` and `.details`. Every rule lives in the core.

use crate::codec;
use crate::error::Error;
use js_sys::{Array, JSON, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

type JsResult = Result<JsValue, JsValue>;

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Reflect.set only fails on frozen or proxied targets, which we never create.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// Converts a core error to a JS `Error` carrying the stable code.
fn js_error(e: Error) -> JsValue {
    let err: JsValue = js_sys::Error::new(&e.message).into();
    set(&err, "name", &JsValue::from_str("LinkpayError"));
    set(&err, "code", &JsValue::from_str(e.code.as_str()));
    let json = e.to_json();
    if let Some(fields) = json.get("fieldErrors") {
        set(&err, "fieldErrors", &to_js(fields));
    }
    if let Some(details) = json.get("details") {
        set(&err, "details", &to_js(details));
    }
    err
}

fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::String(s) => JsValue::from_str(s),
        other => JSON::parse(&other.to_string()).unwrap_or(JsValue::NULL),
    }
}

fn from_js(value: &JsValue) -> Result<Value, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    let text = JSON::stringify(value)?.as_string().unwrap_or_default();
    serde_json::from_str(&text)
        .map_err(|e| js_error(Error::new(crate::ErrorCode::InvalidInput, e.to_string())))
}

fn done(result: crate::Result<Value>) -> JsResult {
    result.map(|v| to_js(&v)).map_err(js_error)
}

/// `header` may be one string or an array of strings (one per header line).
fn header_values(value: &JsValue) -> Vec<String> {
    if let Some(s) = value.as_string() {
        return vec![s];
    }
    if Array::is_array(value) {
        return Array::from(value)
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
    }
    Vec::new()
}

/// JS numbers are f64; times and statuses are integral, so truncation is the intended cast.
fn int(n: f64) -> i64 {
    n as i64
}

#[wasm_bindgen(js_name = validateCreateSpendRequest)]
pub fn validate_create_spend_request(input: JsValue, now_seconds: f64) -> JsResult {
    done(codec::validate_create_spend_request(
        &from_js(&input)?,
        int(now_seconds),
    ))
}

#[wasm_bindgen(js_name = validateCreateSpendRequestBody)]
pub fn validate_create_spend_request_body(body: JsValue, now_seconds: f64) -> JsResult {
    done(codec::validate_create_spend_request_body(
        &from_js(&body)?,
        int(now_seconds),
    ))
}

#[wasm_bindgen(js_name = validateUpdateSpendRequest)]
pub fn validate_update_spend_request(input: JsValue) -> JsResult {
    done(codec::validate_update_spend_request(&from_js(&input)?))
}

#[wasm_bindgen(js_name = parseKeyValueFlag)]
pub fn parse_key_value_flag(kind: &str, value: &str) -> JsResult {
    done(codec::parse_key_value_flag(kind, value))
}

#[wasm_bindgen(js_name = validateRetrieveOptions)]
pub fn validate_retrieve_options(input: JsValue) -> JsResult {
    done(codec::validate_retrieve_options(&from_js(&input)?))
}

#[wasm_bindgen(js_name = validateLoginOptions)]
pub fn validate_login_options(input: JsValue) -> JsResult {
    done(codec::validate_login_options(&from_js(&input)?))
}

#[wasm_bindgen(js_name = spendRequestTransition)]
pub fn spend_request_transition(status: &str, event: &str) -> JsResult {
    done(codec::spend_request_transition(status, event))
}

#[wasm_bindgen(js_name = nextSpendRequestAction)]
pub fn next_spend_request_action(spend_request: JsValue) -> JsResult {
    done(codec::next_spend_request_action(&from_js(&spend_request)?))
}

#[wasm_bindgen(js_name = normalizeSpendRequest)]
pub fn normalize_spend_request(spend_request: JsValue) -> JsResult {
    done(codec::normalize_spend_request(&from_js(&spend_request)?))
}

#[wasm_bindgen(js_name = authHandleTokenResponse)]
pub fn auth_handle_token_response(
    pending: JsValue,
    status: f64,
    body: &str,
    now_ms: f64,
) -> JsResult {
    let status = u16::try_from(int(status)).unwrap_or(0);
    done(codec::auth_handle_token_response(
        &from_js(&pending)?,
        status,
        body,
        int(now_ms),
    ))
}

#[wasm_bindgen(js_name = tokenNeedsRefresh)]
pub fn token_needs_refresh(tokens: JsValue, now_ms: f64) -> JsResult {
    done(codec::token_needs_refresh(&from_js(&tokens)?, int(now_ms)))
}

#[wasm_bindgen(js_name = pollDecide)]
pub fn poll_decide(policy: JsValue, state: JsValue, now_ms: f64, terminal: bool) -> JsResult {
    done(codec::poll_decide(
        &from_js(&policy)?,
        &from_js(&state)?,
        int(now_ms),
        terminal,
    ))
}

#[wasm_bindgen(js_name = decodeChallenges)]
pub fn decode_challenges(header: JsValue) -> JsResult {
    done(codec::decode_challenges(&header_values(&header)))
}

#[wasm_bindgen(js_name = decodeStripeChallenge)]
pub fn decode_stripe_challenge(
    header: JsValue,
    now_ms: f64,
    request_url: Option<String>,
) -> JsResult {
    done(codec::decode_stripe_challenge(
        &header_values(&header),
        int(now_ms),
        request_url.as_deref(),
    ))
}

#[wasm_bindgen(js_name = buildCredential)]
pub fn build_credential(
    challenge: JsValue,
    payload: JsValue,
    source: Option<String>,
    now_ms: f64,
) -> JsResult {
    done(codec::build_credential(
        &from_js(&challenge)?,
        &from_js(&payload)?,
        source.as_deref(),
        int(now_ms),
    ))
}

#[wasm_bindgen(js_name = buildStripePayload)]
pub fn build_stripe_payload(challenge: JsValue, spt: &str) -> JsResult {
    done(codec::build_stripe_payload(&from_js(&challenge)?, spt))
}

#[wasm_bindgen(js_name = parseReceipt)]
pub fn parse_receipt(value: &str) -> JsResult {
    done(codec::parse_receipt(value))
}

#[wasm_bindgen(js_name = sanitizeForDisplay)]
pub fn sanitize_for_display(text: &str) -> String {
    codec::sanitize_for_display(text)
}

/// The core's version; equals the npm package's.
#[wasm_bindgen(js_name = version)]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// Every stable error code, in table order.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    crate::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sandbox/server side (append-only): used by the local sandbox (`npm/src/sandbox`).
// ---------------------------------------------------------------------------------------------

/// The OAuth client id the Link auth server accepts.
#[wasm_bindgen(js_name = authClientId)]
pub fn auth_client_id() -> String {
    codec::auth_client_id().to_string()
}

/// Validates the wire body of a spend-request update (`payment_details`, not
/// `payment_method_id`); returns the normalised wire body.
#[wasm_bindgen(js_name = validateUpdateSpendRequestBody)]
pub fn validate_update_spend_request_body(body: JsValue) -> JsResult {
    done(codec::validate_update_spend_request_body(&from_js(&body)?))
}

/// Issues an MPP challenge with an HMAC-bound id: `{challenge, www_authenticate}`.
#[wasm_bindgen(js_name = mppIssueChallenge)]
pub fn mpp_issue_challenge(secret: &str, spec: JsValue) -> JsResult {
    done(codec::mpp_issue_challenge(secret, &from_js(&spec)?))
}

/// Verifies a received MPP credential: `{challenge, payload, source?, stripe?}`.
#[wasm_bindgen(js_name = mppVerifyCredential)]
pub fn mpp_verify_credential(
    secret: &str,
    header_name: &str,
    header_value: &str,
    now_ms: f64,
) -> JsResult {
    done(codec::mpp_verify_credential(
        secret,
        header_name,
        header_value,
        int(now_ms),
    ))
}

/// RFC 9457 problem details of the Payment scheme.
#[wasm_bindgen(js_name = mppProblem)]
pub fn mpp_problem(problem: &str, detail: &str, challenge_id: Option<String>) -> JsResult {
    done(codec::mpp_problem(problem, detail, challenge_id.as_deref()))
}

/// Encodes a `Payment-Receipt` value.
#[wasm_bindgen(js_name = mppEncodeReceipt)]
pub fn mpp_encode_receipt(receipt: JsValue) -> JsResult {
    done(codec::mpp_encode_receipt(&from_js(&receipt)?))
}
