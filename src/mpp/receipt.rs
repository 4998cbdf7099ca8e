//! `Payment-Receipt` headers (mpp.md §1.5): base64url of the JSON
//! `{status: "success", method, reference, timestamp, externalId?, subscriptionId?, …}`.
//!
//! `status` must be `"success"`, `method` and `reference` strings, `timestamp` RFC 3339.
//! Other fields (method extensions such as `challengeId` or `originTxHash`) are kept, in order.
//! The value may be at most 16 KiB, base64 in either alphabet with optional padding.

use super::{b64, json, timestamp};
use crate::error::{Error, ErrorCode, Result};
use crate::sanitize::sanitize_json;
use serde::Serialize;
use serde_json::{Map, Value};

/// The largest receipt value read, in bytes.
pub const MAX_RECEIPT_LEN: usize = 16 * 1024;

/// A payment receipt. Strings are raw (untrusted).
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    pub method: String,
    pub reference: String,
    /// RFC 3339.
    pub timestamp: String,
    pub external_id: Option<String>,
    pub subscription_id: Option<String>,
    /// Every other field, in wire order.
    pub extra: Map<String, Value>,
}

impl Receipt {
    /// The receipt JSON: `{status: "success", method, reference, timestamp, externalId?,
    /// subscriptionId?, …extra}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), "success".into());
        m.insert("method".into(), self.method.clone().into());
        m.insert("reference".into(), self.reference.clone().into());
        m.insert("timestamp".into(), self.timestamp.clone().into());
        if let Some(e) = &self.external_id {
            m.insert("externalId".into(), e.clone().into());
        }
        if let Some(s) = &self.subscription_id {
            m.insert("subscriptionId".into(), s.clone().into());
        }
        for (k, v) in &self.extra {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(m)
    }
}

impl Serialize for Receipt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::MppMalformedReceipt, message)
}

/// The receipt fields the protocol defines; every other field is kept as an extension.
const KNOWN: [&str; 6] = [
    "status",
    "method",
    "reference",
    "timestamp",
    "externalId",
    "subscriptionId",
];

fn string_field(obj: &Map<String, Value>, key: &str, required: bool) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(bad(format!("Invalid receipt: {key}: missing"))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("Invalid receipt: {key}: expected string"))),
    }
}

/// Decodes a `Payment-Receipt` value (`MPP_MALFORMED_RECEIPT` on any failure).
pub fn parse_receipt(value: &str) -> Result<Receipt> {
    let token = value.trim_matches([' ', '\t']);
    if token.len() > MAX_RECEIPT_LEN {
        return Err(bad(format!(
            "Receipt too large: {} bytes (the limit is {MAX_RECEIPT_LEN})",
            token.len()
        )));
    }
    let bytes = b64::decode(token.as_bytes())
        .map_err(|e| bad(format!("Invalid receipt: {}", e.describe())))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("Invalid receipt: not UTF-8"))?;
    json::validate_object(&text).map_err(|e| bad(format!("Invalid receipt: {}", e.describe())))?;
    let obj = json::parse_object(&text).map_err(|e| bad(format!("Invalid receipt: {e}")))?;
    if obj.get("status").and_then(Value::as_str) != Some("success") {
        return Err(bad("Invalid receipt: status must be \"success\""));
    }
    let method = string_field(&obj, "method", true)?.unwrap_or_default();
    let reference = string_field(&obj, "reference", true)?.unwrap_or_default();
    let timestamp = string_field(&obj, "timestamp", true)?.unwrap_or_default();
    if timestamp::parse_rfc3339_ms(&timestamp).is_none() {
        return Err(bad("Invalid receipt: timestamp: expected RFC 3339"));
    }
    let external_id = string_field(&obj, "externalId", false)?;
    let subscription_id = string_field(&obj, "subscriptionId", false)?;
    let extra = obj
        .into_iter()
        .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
        .collect();
    Ok(Receipt {
        method,
        reference,
        timestamp,
        external_id,
        subscription_id,
        extra,
    })
}

/// `parseReceipt`: the receipt JSON, every string sanitized for display (keys too).
pub fn parse(value: &str) -> Result<Value> {
    Ok(sanitize_json(&parse_receipt(value)?.to_json()))
}

/// Encodes a receipt as a `Payment-Receipt` value (base64url, no padding). Fails with
/// `VALIDATION_ERROR` if the timestamp is not RFC 3339.
pub fn encode_receipt(receipt: &Receipt) -> Result<String> {
    if timestamp::parse_rfc3339_ms(&receipt.timestamp).is_none() {
        return Err(Error::validation(vec![crate::error::FieldError::new(
            "timestamp",
            "expected RFC 3339",
        )]));
    }
    let text = crate::json_text(&receipt.to_json());
    Ok(b64::encode(text.as_bytes()))
}

/// Encodes a receipt given as JSON (`{method, reference, timestamp, …}`; `status` defaults to
/// `"success"`), for the sandbox merchant.
pub fn encode(receipt: &Value) -> Result<String> {
    let Some(obj) = receipt.as_object() else {
        return Err(Error::validation(vec![crate::error::FieldError::new(
            "receipt",
            "expected object",
        )]));
    };
    let mut obj = obj.clone();
    obj.entry("status").or_insert_with(|| "success".into());
    let text = crate::json_text(&Value::Object(obj));
    let encoded = b64::encode(text.as_bytes());
    // Only encode what the decoder accepts.
    parse_receipt(&encoded).map_err(|e| {
        Error::new(
            ErrorCode::ValidationError,
            e.message.replace("Invalid receipt: ", ""),
        )
    })?;
    Ok(encoded)
}
