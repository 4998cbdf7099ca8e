//! The JSON-level API of the core: what the npm package (`bind/js.rs`), the WASI component's
//! `codec` world (`bind/component.rs`) and the shared vectors in `tests/vectors/` call.
//!
//! Each function takes and returns JSON values, so that the bindings only convert values and the
//! three test runners (Rust, Node, wasmtime) exercise exactly the same entry points. The names
//! here are the JS names in snake_case (`validate_create_spend_request` ↔
//! `validateCreateSpendRequest` ↔ WIT `validate-create-spend-request`).

use crate::error::{Error, ErrorCode, Result};
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

/// [`decode_challenges`] as JSON text, written without building a `Value` (the decoded requests'
/// own text is copied): the npm package's fast path, parsed once by `JSON.parse`.
pub fn decode_challenges_text(values: &[String]) -> String {
    mpp::challenge::decode_all_text(values)
}

/// Picks and decodes the stripe charge/session challenge (the reference client's `mpp decode`,
/// plus amount, currency, warnings). `request_url` enables the realm warning.
pub fn decode_stripe_challenge(
    values: &[String],
    now_ms: i64,
    request_url: Option<&str>,
) -> Result<Value> {
    // Read back from the text the npm package parses (one writer). serde_json can only fail
    // where its float parsing overflows on a literal within an ulp of f64::MAX (mpp/json.rs),
    // the error the map-building decoder gave there too.
    serde_json::from_str(&mpp::stripe::decode(values, now_ms, request_url)?.json_text())
        .map_err(|_| mpp::challenge::malformed("Invalid request: invalid JSON"))
}

/// [`decode_stripe_challenge`] as JSON text, written directly: the npm package's fast path.
pub fn decode_stripe_challenge_text(
    values: &[String],
    now_ms: i64,
    request_url: Option<&str>,
) -> Result<String> {
    Ok(mpp::stripe::decode(values, now_ms, request_url)?.json_text())
}

/// Takes a URL linkpay would request apart, as both hosts send it: `{https, authority, host,
/// port, path_and_query}`. The one parse behind validation, the npm build's `fetch` and the
/// component's wasi:http request; `VALIDATION_ERROR` at `url` for anything but an absolute
/// http(s) URL without credentials and with an ASCII host.
pub fn parse_http_url(url: &str) -> Result<Value> {
    let checked = validate::request_url(&Value::from(url))
        .map_err(|m| Error::validation(vec![crate::error::FieldError::new("url", m)]))?;
    let parsed = validate::parse_http_url(&checked)
        .ok_or_else(|| Error::new(ErrorCode::InvalidInput, "not an http(s) URL"))?;
    Ok(object!({
        "https": parsed.https,
        "authority": parsed.authority,
        "host": parsed.host,
        "port": parsed.port.map_or(Value::Null, Value::from),
        "path_and_query": parsed.request_target(),
    }))
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
            f.path = format!(
                "{WIRE_KEY}{}",
                f.path.get(INPUT_KEY.len()..).unwrap_or_default()
            );
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

// ----- sandbox/server side: the MPP merchant (feature `merchant`) --------------------------------

#[cfg(feature = "merchant")]
fn field_str<'a>(spec: &'a serde_json::Map<String, Value>, key: &str) -> Result<Option<&'a str>> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::validation(vec![crate::error::FieldError::new(
            key,
            "expected string",
        )])),
    }
}

#[cfg(feature = "merchant")]
fn field_object(
    spec: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<serde_json::Map<String, Value>>> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(Error::validation(vec![crate::error::FieldError::new(
            key,
            "expected object",
        )])),
    }
}

#[cfg(feature = "merchant")]
/// Issues an MPP challenge with an HMAC-bound id (mpp.md §1.6), for the sandbox merchant.
/// `spec` is `{realm, method, intent, request: {…}, description?, digest?, expires?,
/// opaque?: {…string map}, header?}`; `secret` is the HMAC key (at least 32 bytes). Returns
/// `{challenge, www_authenticate}`: the challenge in the `decodeChallenges` shape and its
/// serialized `WWW-Authenticate` value.
pub fn mpp_issue_challenge(secret: &str, spec: &Value) -> Result<Value> {
    let Some(obj) = spec.as_object() else {
        return Err(Error::validation(vec![crate::error::FieldError::new(
            "spec",
            "expected object",
        )]));
    };
    let required = |key: &str| -> Result<String> {
        field_str(obj, key)?.map(str::to_string).ok_or_else(|| {
            Error::validation(vec![crate::error::FieldError::new(key, "is required")])
        })
    };
    let spec = mpp::server::ChallengeSpec {
        realm: required("realm")?,
        method: required("method")?,
        intent: required("intent")?,
        request: field_object(obj, "request")?.ok_or_else(|| {
            Error::validation(vec![crate::error::FieldError::new(
                "request",
                "is required",
            )])
        })?,
        description: field_str(obj, "description")?.map(str::to_string),
        digest: field_str(obj, "digest")?.map(str::to_string),
        expires: field_str(obj, "expires")?.map(str::to_string),
        opaque: field_object(obj, "opaque")?,
        header: field_str(obj, "header")?.map(str::to_string),
    };
    let challenge = mpp::server::issue_challenge(secret.as_bytes(), &spec)?;
    let header = mpp::server::format_challenge(&challenge)?;
    Ok(object!({ "challenge": challenge.to_json()?, "www_authenticate": header }))
}

#[cfg(feature = "merchant")]
/// Verifies a credential the sandbox merchant received in `header_name` (`Authorization` or
/// `Payment-Authorization`): decodes it, checks the challenge id's HMAC under `secret`, the
/// expiry at `now_ms` and the header the challenge asked for. Returns `{challenge, payload,
/// source?, stripe?}`, where `stripe` (method `stripe`) is the decoded request: `{amount,
/// currency, network_id, payment_method_types, external_id?}`. Every error carries
/// `details.problem` (the RFC 9457 problem type URI) and `details.status` (the HTTP status).
pub fn mpp_verify_credential(
    secret: &str,
    header_name: &str,
    header_value: &str,
    now_ms: i64,
) -> Result<Value> {
    use mpp::server::Problem;
    let with_problem = |e: Error, fallback: Problem| -> Error {
        let uri = e
            .details
            .as_ref()
            .and_then(|d| d.get("problem"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let problem = uri
            .and_then(|u| Problem::ALL.into_iter().find(|p| p.type_uri() == u))
            .unwrap_or(fallback);
        let status = problem.status();
        e.with_details(object!({ "problem": problem.type_uri(), "status": status }))
    };
    let credential =
        mpp::server::verify_credential(secret.as_bytes(), header_name, header_value, now_ms)
            .map_err(|e| {
                let fallback = Problem::for_error(e.code);
                with_problem(e, fallback)
            })?;
    let mut out = serde_json::Map::new();
    out.insert("challenge".into(), credential.challenge.to_json()?);
    out.insert("payload".into(), Value::Object(credential.payload.clone()));
    if let Some(source) = &credential.source {
        out.insert("source".into(), source.clone().into());
    }
    if credential.challenge.method == "stripe" {
        let stripe =
            mpp::stripe::StripeChallenge::from_challenge(credential.challenge, 0, now_ms, None)
                .map_err(|e| with_problem(e, Problem::InvalidChallenge))?;
        let mut s = serde_json::Map::new();
        s.insert("amount".into(), stripe.amount.into());
        s.insert("currency".into(), stripe.currency.into());
        s.insert("network_id".into(), stripe.network_id.into());
        s.insert(
            "payment_method_types".into(),
            stripe.payment_method_types.into(),
        );
        if let Some(external_id) = stripe.external_id {
            s.insert("external_id".into(), external_id.into());
        }
        out.insert("stripe".into(), Value::Object(s));
    }
    Ok(Value::Object(out))
}

#[cfg(feature = "merchant")]
/// RFC 9457 problem details for the Payment scheme: `problem` is a slug
/// (`payment-required`, `payment-insufficient`, `payment-expired`, `verification-failed`,
/// `method-unsupported`, `malformed-credential`, `invalid-challenge`) or a full type URI.
/// Returns `{type, title, status, detail, challengeId?}`.
pub fn mpp_problem(problem: &str, detail: &str, challenge_id: Option<&str>) -> Result<Value> {
    use mpp::server::Problem;
    Problem::ALL
        .into_iter()
        .find(|p| {
            let uri = p.type_uri();
            uri == problem || uri.rsplit('/').next() == Some(problem)
        })
        .map(|p| p.details(detail, challenge_id))
        .ok_or_else(|| {
            Error::validation(vec![crate::error::FieldError::new(
                "problem",
                format!("unknown problem type {problem:?}"),
            )])
        })
}

/// Encodes a `Payment-Receipt` value from `{method, reference, timestamp, externalId?, …}`
/// (`status` defaults to `"success"`).
pub fn mpp_encode_receipt(receipt: &Value) -> Result<Value> {
    Ok(Value::String(mpp::receipt::encode(receipt)?))
}

#[cfg(all(test, feature = "merchant"))]
mod sandbox_merchant_tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "sandbox-secret-sandbox-secret-32b";

    fn spec(header: Option<&str>) -> Value {
        json!({
            "realm": "127.0.0.1", "method": "stripe", "intent": "charge",
            "request": {"amount": "100", "currency": "usd",
                        "methodDetails": {"networkId": "profile_sandbox", "paymentMethodTypes": ["card"]}},
            "expires": "2030-01-01T00:00:00Z", "description": "Forecast",
            "header": header,
        })
    }

    #[test]
    fn issue_then_verify_round_trip() {
        let issued = mpp_issue_challenge(SECRET, &spec(None)).unwrap();
        let header = issued["www_authenticate"].as_str().unwrap();
        assert!(header.starts_with("Payment id=\""), "{header}");
        let parsed = decode_challenges(&[header.to_string()]).unwrap();
        assert_eq!(parsed[0]["ok"], true);
        let cred =
            build_credential(&issued["challenge"], &json!({"spt": "spt_1"}), None, 0).unwrap();
        let value = cred["value"].as_str().unwrap();
        let ok = mpp_verify_credential(SECRET, "Authorization", value, 0).unwrap();
        assert_eq!(ok["payload"], json!({"spt": "spt_1"}));
        assert_eq!(ok["stripe"]["amount"], 100);
        assert_eq!(ok["stripe"]["network_id"], "profile_sandbox");

        let wrong_key = mpp_verify_credential(
            "another-secret-another-secret-32b",
            "Authorization",
            value,
            0,
        )
        .unwrap_err();
        assert!(
            wrong_key.details.unwrap()["problem"]
                .as_str()
                .unwrap()
                .ends_with("/invalid-challenge")
        );
        let late =
            mpp_verify_credential(SECRET, "Authorization", value, 1_900_000_000_000).unwrap_err();
        assert!(
            late.details.unwrap()["problem"]
                .as_str()
                .unwrap()
                .ends_with("/payment-expired")
        );
        let garbage = mpp_verify_credential(SECRET, "Authorization", "Payment !!!", 0).unwrap_err();
        assert!(
            garbage.details.unwrap()["problem"]
                .as_str()
                .unwrap()
                .ends_with("/malformed-credential")
        );
    }

    #[test]
    fn payment_authorization_header_is_bound_and_enforced() {
        let issued = mpp_issue_challenge(SECRET, &spec(Some("Payment-Authorization"))).unwrap();
        let cred =
            build_credential(&issued["challenge"], &json!({"spt": "spt_1"}), None, 0).unwrap();
        assert_eq!(cred["header"], "Payment-Authorization");
        let value = cred["value"].as_str().unwrap();
        assert!(mpp_verify_credential(SECRET, "Payment-Authorization", value, 0).is_ok());
        assert!(mpp_verify_credential(SECRET, "Authorization", value, 0).is_err());
    }

    #[test]
    fn problems_and_receipts() {
        let p = mpp_problem("verification-failed", "SPT already used", Some("ch_1")).unwrap();
        assert_eq!(
            p["type"],
            "https://paymentauth.org/problems/verification-failed"
        );
        assert_eq!(p["status"], 402);
        assert_eq!(p["challengeId"], "ch_1");
        assert_eq!(
            mpp_problem("method-unsupported", "x", None).unwrap()["status"],
            400
        );
        assert!(mpp_problem("nope", "x", None).is_err());
        let r = mpp_encode_receipt(
            &json!({"method": "stripe", "reference": "pi_1", "timestamp": "2030-01-01T00:00:00Z"}),
        )
        .unwrap();
        let back = parse_receipt(r.as_str().unwrap()).unwrap();
        assert_eq!(back["status"], "success");
        assert_eq!(back["reference"], "pi_1");
    }
}
