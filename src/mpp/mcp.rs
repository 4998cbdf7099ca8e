//! Paid MCP tool calls, mppx's convention (`mppx/src/Mcp.ts`, `mcp/server/Transport.ts`,
//! `mcp/client/McpClient.ts`, 0.11): a tool that costs money answers `tools/call` with the
//! JSON-RPC error `-32042` ("Payment Required") whose `data` is `{httpStatus: 402, challenges:
//! [challenge objects], problem?}` — or a result whose `_meta["org.paymentauth/payment-required"]`
//! holds that data — and the client calls again with the credential, an object, in
//! `params._meta["org.paymentauth/credential"]`; the receipt comes back in
//! `result._meta["org.paymentauth/receipt"]`. `-32043` is a credential the server refused.
//!
//! A challenge object is the header challenge with `request` (and `opaque`'s legacy `meta`) as
//! JSON rather than base64url: [`challenge_from_object`] turns it into a [`Challenge`] (the
//! request encoded as base64url JCS, as mppx's `PaymentRequest.serialize` does, so its
//! HMAC-bound id still verifies), and [`credential_object`] writes the credential as mppx's
//! client sends it (`Credential.deserialize` of its header form): the challenge's members in
//! mppx's schema order (which is alphabetical), `request` as the object its JCS text parses
//! to, then `payload`. No I/O here: [`crate::client::Client::mcp_payment`] runs the payment.

use super::challenge::{Challenge, malformed};
use super::{b64, jcs};
use crate::error::{Error, ErrorCode, Result};
use serde_json::{Map, Value};

/// JSON-RPC error code of a tool call that needs paying.
pub const PAYMENT_REQUIRED_CODE: i64 = -32042;
/// JSON-RPC error code of a credential the server refused.
pub const VERIFICATION_FAILED_CODE: i64 = -32043;
/// `params._meta` key of the credential.
pub const CREDENTIAL_META_KEY: &str = "org.paymentauth/credential";
/// `result._meta` key of the receipt.
pub const RECEIPT_META_KEY: &str = "org.paymentauth/receipt";
/// `result._meta` key of payment-required data sent as a tool result.
pub const PAYMENT_REQUIRED_META_KEY: &str = "org.paymentauth/payment-required";

/// The payment-required data of a JSON-RPC response (`{error}` or `{result}`): the error's
/// `data` when its code is `-32042`, or the result's payment-required `_meta`; `None` when the
/// response asks for no payment (any other answer goes back as it is). Data without a
/// non-empty `challenges` array is none, as mppx's `isPaymentRequiredError` says.
pub fn payment_required(response: &Value) -> Option<&Value> {
    let data = match response.get("error") {
        Some(error) => (error.get("code").and_then(Value::as_i64) == Some(PAYMENT_REQUIRED_CODE))
            .then(|| error.get("data"))??,
        None => response
            .get("result")?
            .get("_meta")?
            .get(PAYMENT_REQUIRED_META_KEY)?,
    };
    let challenges = data.get("challenges")?.as_array()?;
    (!challenges.is_empty()).then_some(data)
}

/// The challenges of payment-required data, each parsed with the header parser's rules.
pub fn challenges(data: &Value) -> Vec<Result<Challenge>> {
    data.get("challenges")
        .and_then(Value::as_array)
        .map(|all| all.iter().map(challenge_from_object).collect())
        .unwrap_or_default()
}

/// A challenge object (mppx's `Challenge`: `request` an object) as a [`Challenge`]. `opaque` is
/// the base64url string as received; a challenge with only the parsed `meta` string map has it
/// encoded as mppx's `Credential.serialize` does.
pub fn challenge_from_object(value: &Value) -> Result<Challenge> {
    let Some(obj) = value.as_object() else {
        return Err(malformed("challenge: expected object"));
    };
    let text = |key: &str| -> Result<Option<&str>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(malformed(format!("challenge.{key}: expected string"))),
        }
    };
    let required = |key: &str| -> Result<&str> {
        text(key)?.ok_or_else(|| malformed(format!("challenge.{key}: missing")))
    };
    let request = match obj.get("request") {
        Some(Value::Object(request)) => jcs::encode_json_object(request),
        Some(_) => return Err(malformed("challenge.request: expected object")),
        None => return Err(malformed("challenge.request: missing")),
    };
    let opaque = match (text("opaque")?, obj.get("meta")) {
        (Some(opaque), _) => Some(opaque.to_string()),
        (None, Some(Value::Object(meta))) if meta.values().all(Value::is_string) => {
            Some(jcs::encode_json_object(meta))
        }
        (None, None | Some(Value::Null)) => None,
        (None, Some(_)) => return Err(malformed("challenge.meta: expected a string map")),
    };
    Challenge::from_parts(
        required("id")?,
        required("realm")?,
        required("method")?,
        required("intent")?,
        &request,
        text("description")?,
        text("digest")?,
        text("expires")?,
        opaque.as_deref(),
        text("header")?,
    )
}

/// A challenge as an object (`request` decoded), in mppx's schema order: what the credential
/// echoes, and what a server puts in `data.challenges`.
pub fn challenge_object(challenge: &Challenge) -> Result<Value> {
    let request = challenge.request_json()?;
    let mut m = Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            m.insert(key.into(), Value::String(v.to_string()));
        }
    };
    put("description", challenge.description());
    put("digest", challenge.digest());
    put("expires", challenge.expires());
    put("header", challenge.header());
    put("id", Some(challenge.id()));
    put("intent", Some(challenge.intent()));
    put("method", Some(challenge.method()));
    put("opaque", challenge.opaque());
    put("realm", Some(challenge.realm()));
    // The request's JCS text (what the header form carried, decoded) read back: its members
    // in JCS order, as `JSON.parse` of it gives them to mppx.
    let canonical: Value = serde_json::from_str(&jcs::jcs(&Value::Object(request)))
        .map_err(|_| malformed("Invalid request: invalid JSON"))?;
    m.insert("request".into(), canonical);
    Ok(Value::Object(m))
}

/// The credential object for `params._meta["org.paymentauth/credential"]`:
/// `{challenge, payload}`. `payload` must be an object.
pub fn credential_object(challenge: &Challenge, payload: &Value) -> Result<Value> {
    if !payload.is_object() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "payload: expected object",
        ));
    }
    Ok(object!({
        "challenge": challenge_object(challenge)?,
        "payload": payload.clone(),
    }))
}

/// The `tools/call` params to send again: `params` with the credential in
/// `_meta["org.paymentauth/credential"]` (the other `_meta` members kept).
pub fn with_credential(params: &Value, credential: Value) -> Value {
    let mut params = match params {
        Value::Object(p) => p.clone(),
        _ => Map::new(),
    };
    let mut meta = match params.get("_meta") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    meta.insert(CREDENTIAL_META_KEY.into(), credential);
    params.insert("_meta".into(), Value::Object(meta));
    Value::Object(params)
}

/// A credential object as the header it stands for (`Payment <base64url>`, and the header's
/// name): what a bridge from MCP to an HTTP merchant sends (the sandbox's paid MCP server).
/// `MPP_MALFORMED_CREDENTIAL` when it is not `{challenge, payload, source?}`.
pub fn credential_header(credential: &Value) -> Result<super::CredentialHeaderValue> {
    let bad = |m: String| Error::new(ErrorCode::MppMalformedCredential, m);
    let challenge = credential
        .get("challenge")
        .ok_or_else(|| bad("Missing challenge object".into()))
        .and_then(|c| {
            challenge_from_object(c).map_err(|e| bad(format!("Invalid challenge: {}", e.message)))
        })?;
    let header = challenge.credential_header().map_err(|e| bad(e.message))?;
    let Some(payload @ Value::Object(_)) = credential.get("payload") else {
        return Err(bad("Invalid payload: expected object".into()));
    };
    let mut wire = Map::new();
    let mut echo = Map::new();
    for (key, value) in [
        ("id", Some(challenge.id())),
        ("realm", Some(challenge.realm())),
        ("method", Some(challenge.method())),
        ("intent", Some(challenge.intent())),
        ("request", Some(challenge.request())),
        ("expires", challenge.expires()),
        ("description", challenge.description()),
        ("digest", challenge.digest()),
        ("opaque", challenge.opaque()),
        ("header", challenge.header()),
    ] {
        if let Some(v) = value {
            echo.insert(key.into(), Value::String(v.to_string()));
        }
    }
    wire.insert("challenge".into(), Value::Object(echo));
    wire.insert("payload".into(), payload.clone());
    match credential.get("source") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            wire.insert("source".into(), Value::String(s.clone()));
        }
        Some(_) => return Err(bad("Invalid source: expected string".into())),
    }
    let text = crate::json_text(&Value::Object(wire));
    Ok(super::CredentialHeaderValue {
        header: header.as_str(),
        value: format!("Payment {}", b64::encode(text.as_bytes())),
    })
}

/// The receipt of a tool result (`result._meta["org.paymentauth/receipt"]`), sanitized; `None`
/// when it has none (or it is not an object).
pub fn receipt(result: &Value) -> Option<Value> {
    let receipt = result.get("_meta")?.get(RECEIPT_META_KEY)?;
    receipt
        .is_object()
        .then(|| crate::sanitize::sanitize_json(receipt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object() -> Value {
        json!({
            "id": "ch_1",
            "realm": "api.example",
            "method": "stripe",
            "intent": "charge",
            "request": {
                "methodDetails": {"paymentMethodTypes": ["card"], "networkId": "profile_1"},
                "currency": "usd",
                "amount": "100",
            },
            "expires": "2999-01-01T00:00:00Z",
            "description": "Forecast",
            "opaque": "eyJub25jZSI6IjEifQ",
        })
    }

    #[test]
    fn a_challenge_object_round_trips_in_mppx_order() {
        let c = challenge_from_object(&object()).unwrap();
        // The request is sent as base64url JCS, as mppx's PaymentRequest.serialize does.
        assert_eq!(
            String::from_utf8(b64::decode(c.request().as_bytes()).unwrap()).unwrap(),
            r#"{"amount":"100","currency":"usd","methodDetails":{"networkId":"profile_1","paymentMethodTypes":["card"]}}"#
        );
        let back = crate::json_text(&challenge_object(&c).unwrap());
        assert_eq!(
            back,
            r#"{"description":"Forecast","expires":"2999-01-01T00:00:00Z","id":"ch_1","intent":"charge","method":"stripe","opaque":"eyJub25jZSI6IjEifQ","realm":"api.example","request":{"amount":"100","currency":"usd","methodDetails":{"networkId":"profile_1","paymentMethodTypes":["card"]}}}"#
        );
        let cred = credential_object(&c, &json!({"spt": "spt_1"})).unwrap();
        assert_eq!(cred["payload"], json!({"spt": "spt_1"}));
        assert!(credential_object(&c, &json!("spt_1")).is_err());
        let params = json!({"name": "forecast", "_meta": {"progressToken": 1}});
        let sent = with_credential(&params, cred.clone());
        assert_eq!(sent["_meta"]["progressToken"], 1);
        assert_eq!(sent["_meta"][CREDENTIAL_META_KEY], cred);
        assert_eq!(sent["name"], "forecast");
    }

    #[test]
    fn legacy_meta_is_encoded_as_opaque() {
        let mut o = object();
        o.as_object_mut().unwrap().remove("opaque");
        o["meta"] = json!({"nonce": "1"});
        let c = challenge_from_object(&o).unwrap();
        assert_eq!(c.opaque(), Some("eyJub25jZSI6IjEifQ"));
        o["meta"] = json!({"nonce": 1});
        assert_eq!(
            challenge_from_object(&o).unwrap_err().code,
            ErrorCode::MppMalformedChallenge
        );
    }

    #[test]
    fn malformed_challenge_objects_are_errors_not_panics() {
        for bad in [
            json!(null),
            json!("x"),
            json!({"id": "a"}),
            json!({"id": 1, "realm": "r", "method": "m", "intent": "i", "request": {}}),
            json!({"id": "a", "realm": "r", "method": "m", "intent": "i", "request": "e30"}),
            json!({"id": "", "realm": "r", "method": "m", "intent": "i", "request": {}}),
        ] {
            assert_eq!(
                challenge_from_object(&bad).unwrap_err().code,
                ErrorCode::MppMalformedChallenge,
                "{bad}"
            );
        }
    }

    #[test]
    fn payment_required_is_found_in_an_error_or_a_result() {
        let data = json!({"httpStatus": 402, "challenges": [object()]});
        let error = json!({"error": {"code": -32042, "message": "Payment Required", "data": data}});
        assert_eq!(payment_required(&error), Some(&data));
        let result = json!({"result": {"content": [], "_meta": {PAYMENT_REQUIRED_META_KEY: data}}});
        assert_eq!(payment_required(&result), Some(&data));
        for none in [
            json!({"error": {"code": -32043, "message": "x", "data": data}}),
            json!({"error": {"code": -32042, "message": "x"}}),
            json!({"error": {"code": -32042, "message": "x", "data": {"challenges": []}}}),
            json!({"result": {"content": []}}),
            json!({}),
        ] {
            assert_eq!(payment_required(&none), None, "{none}");
        }
        assert_eq!(challenges(&data).len(), 1);
        assert!(challenges(&json!({})).is_empty());
    }

    #[test]
    fn the_header_form_of_a_credential_is_the_one_parse_credential_reads() {
        let c = challenge_from_object(&object()).unwrap();
        let cred = credential_object(&c, &json!({"spt": "spt_1"})).unwrap();
        let header = credential_header(&cred).unwrap();
        assert_eq!(header.header, "Authorization");
        let parsed = super::super::parse_credential(&header.value).unwrap();
        assert_eq!(parsed.challenge, c);
        assert_eq!(parsed.payload["spt"], "spt_1");
        assert_eq!(
            credential_header(&json!({"challenge": object()}))
                .unwrap_err()
                .code,
            ErrorCode::MppMalformedCredential
        );
    }

    #[test]
    fn receipts_are_read_sanitized() {
        let r = json!({"_meta": {RECEIPT_META_KEY: {"status": "success", "reference": "pi_\u{1b}[31m1"}}});
        assert_eq!(
            receipt(&r).unwrap()["reference"],
            "pi_1",
            "the ANSI sequence is stripped"
        );
        assert_eq!(receipt(&json!({"_meta": {RECEIPT_META_KEY: "x"}})), None);
        assert_eq!(receipt(&json!({})), None);
    }
}
