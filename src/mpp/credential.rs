//! `Authorization: Payment …` credentials (mpp.md §1.4).
//!
//! A credential is `Payment <base64url-nopad(JSON)>` with the JSON
//! `{challenge: {id, realm, method, intent, request, expires?, description?, digest?, opaque?,
//! header?}, payload, source?}`. The challenge is echoed with its **wire values**: `request`
//! and `opaque` are the strings received, never re-encoded, so servers that bind the id to the
//! raw strings (mpp-rs) and servers that re-canonicalize (mppx) both accept it. Optional fields
//! appear only when the challenge had them. Key order follows mpp-rs (the conformance wires);
//! servers do not depend on it.
//!
//! The credential is a bearer token: never log it.

use super::challenge::{Challenge, CredentialHeader, quoted};
use super::{b64, json};
use crate::error::{Error, ErrorCode, FieldError, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// The largest `Authorization` value [`parse_credential`] reads (a credential echoes a request
/// of up to 16 KiB, which grows by base64 twice).
pub const MAX_CREDENTIAL_LEN: usize = 64 * 1024;

/// A built credential: the header to set and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CredentialHeaderValue {
    /// `Authorization`, or `Payment-Authorization` when the challenge asks for it.
    pub header: &'static str,
    /// `Payment <base64url>`.
    pub value: String,
}

impl crate::spend_request::ToJson for CredentialHeaderValue {
    fn to_json(&self) -> Value {
        object!({ "header": self.header, "value": self.value.clone() })
    }
}

/// A decoded credential (server side).
#[derive(Clone, Debug, PartialEq)]
pub struct Credential {
    /// The echoed challenge, validated like a parsed one.
    pub challenge: Challenge,
    pub payload: Map<String, Value>,
    pub source: Option<String>,
}

impl Credential {
    /// `{challenge, payload, source?}` as it travels (the echo, not the `decodeChallenges` shape).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("challenge".into(), Value::Object(echo(&self.challenge)));
        m.insert("payload".into(), Value::Object(self.payload.clone()));
        if let Some(s) = &self.source {
            m.insert("source".into(), s.clone().into());
        }
        Value::Object(m)
    }
}

/// The echo of a challenge in a credential.
fn echo(c: &Challenge) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), c.id.clone().into());
    m.insert("realm".into(), c.realm.clone().into());
    m.insert("method".into(), c.method.clone().into());
    m.insert("intent".into(), c.intent.clone().into());
    m.insert("request".into(), c.request.clone().into());
    for (key, value) in [
        ("expires", &c.expires),
        ("description", &c.description),
        ("digest", &c.digest),
        ("opaque", &c.opaque),
        ("header", &c.header),
    ] {
        if let Some(v) = value {
            m.insert(key.into(), v.clone().into());
        }
    }
    m
}

/// Builds the credential for `challenge`. Refuses an expired challenge
/// (`MPP_CHALLENGE_EXPIRED`, `expires` ≤ `now_ms`) and an unsupported `header`
/// (`MPP_UNSUPPORTED_CHALLENGE`); `payload` must be an object.
pub fn build_credential(
    challenge: &Challenge,
    payload: &Value,
    source: Option<&str>,
    now_ms: i64,
) -> Result<CredentialHeaderValue> {
    let header = challenge.credential_header()?;
    if challenge.is_expired(now_ms) {
        return Err(Error::new(
            ErrorCode::MppChallengeExpired,
            format!(
                "Challenge {} expired at {}",
                quoted(&challenge.id),
                quoted(challenge.expires.as_deref().unwrap_or_default())
            ),
        ));
    }
    let Value::Object(payload) = payload else {
        return Err(Error::validation(vec![FieldError::new(
            "payload",
            "expected object",
        )]));
    };
    let mut m = Map::new();
    m.insert("challenge".into(), Value::Object(echo(challenge)));
    m.insert("payload".into(), Value::Object(payload.clone()));
    if let Some(s) = source {
        m.insert("source".into(), s.into());
    }
    let text = crate::json_text(&Value::Object(m));
    Ok(CredentialHeaderValue {
        header: header.as_str(),
        value: format!("Payment {}", b64::encode(text.as_bytes())),
    })
}

/// `buildCredential`: the JSON API. `challenge` is the object `decodeChallenges` returns.
pub fn build(
    challenge: &Value,
    payload: &Value,
    source: Option<&str>,
    now_ms: i64,
) -> Result<CredentialHeaderValue> {
    build_credential(&Challenge::from_json(challenge)?, payload, source, now_ms)
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::MppMalformedCredential, message)
}

/// Finds the `Payment` credential in an `Authorization` (or `Payment-Authorization`) value,
/// which may list several schemes separated by commas; returns its token.
fn payment_token(value: &str) -> Option<&str> {
    value.split(',').find_map(|element| {
        let element = element.trim_matches([' ', '\t']);
        let (scheme, token) = element.split_once([' ', '\t'])?;
        scheme
            .eq_ignore_ascii_case("Payment")
            .then(|| token.trim_matches([' ', '\t']))
    })
}

/// Decodes a credential (what the sandbox merchant receives). Errors are
/// `MPP_MALFORMED_CREDENTIAL`: no `Payment` scheme, not base64url, not a JSON object, no
/// `challenge` object or `payload` object, an echo that fails the challenge rules, or a
/// `header` other than `Payment-Authorization`. A legacy object-shaped `opaque` (old mppx) is
/// normalized to its base64url JCS string.
pub fn parse_credential(value: &str) -> Result<Credential> {
    if value.len() > MAX_CREDENTIAL_LEN {
        return Err(bad(format!(
            "Credential too large: {} bytes (the limit is {MAX_CREDENTIAL_LEN})",
            value.len()
        )));
    }
    let token = payment_token(value)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("Missing Payment scheme."))?;
    let bytes = b64::decode(token.as_bytes())
        .map_err(|e| bad(format!("Invalid base64url or JSON: {}", e.describe())))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("Invalid base64url or JSON: not UTF-8"))?;
    json::validate_object(&text)
        .map_err(|e| bad(format!("Invalid base64url or JSON: {}", e.describe())))?;
    let obj = json::parse_object(&text).map_err(|e| bad(format!("Invalid JSON: {e}")))?;
    let (mut echo, mut payload, mut source) = (None, None, None);
    for (key, value) in obj {
        match key.as_str() {
            "challenge" => echo = Some(value),
            "payload" => payload = Some(value),
            "source" => source = Some(value),
            _ => {}
        }
    }
    let Some(Value::Object(mut echo)) = echo else {
        return Err(bad("Missing challenge object"));
    };
    if let Some(Value::Object(legacy)) = echo.get("opaque") {
        if !legacy.values().all(Value::is_string) {
            return Err(bad("Invalid opaque: expected a string map"));
        }
        let normalized = super::jcs::encode_json_object(legacy);
        echo.insert("opaque".into(), normalized.into());
    }
    let challenge = Challenge::from_json(&Value::Object(echo))
        .map_err(|e| bad(format!("Invalid challenge echo: {}", e.message)))?;
    if challenge.header.is_some() && challenge.credential_header().is_err() {
        return Err(bad(
            "Unsupported credential header: must be Payment-Authorization",
        ));
    }
    let payload = match payload {
        Some(Value::Object(p)) => p,
        Some(_) => return Err(bad("Invalid payload: expected object")),
        None => return Err(bad("Missing payload")),
    };
    let source = match source {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(bad("Invalid source: expected string")),
    };
    Ok(Credential {
        challenge,
        payload,
        source,
    })
}

/// Which header a credential was sent in must match what its challenge asked for.
pub fn header_matches(challenge: &Challenge, received_in: &str) -> bool {
    let expected = challenge
        .credential_header()
        .unwrap_or(CredentialHeader::Authorization);
    received_in.eq_ignore_ascii_case(expected.as_str())
}
