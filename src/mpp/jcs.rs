//! RFC 8785 (JCS) text of JSON values, and the base64url-nopad JCS encoding MPP sends
//! `request` and `opaque` in (mpp.md §1.3): what the sandbox merchant issues, and what a legacy
//! object-shaped `opaque` in a credential is normalized to.
//!
//! Keys are sorted by UTF-16 code units (std's sort), strings use serde_json's escapes (which
//! are JCS's), and numbers are ECMAScript's `Number.prototype.toString` (ryu-js). The writer is
//! these twenty lines rather than the `serde_json_canonicalizer` crate because that crate writes
//! an integer beyond 2^53 as given (`9007199254740993`), where RFC 8785 §3.2.2.3 — and mppx, a
//! JavaScript peer whose challenge ids must match ours — write the IEEE double
//! (`9007199254740992`).

use super::b64;
use crate::error::{Error, FieldError, Result};
use serde_json::{Map, Value};

/// RFC 8785 (JCS) text of a JSON value: keys sorted by UTF-16 code units, no whitespace,
/// numbers as ECMAScript prints them, strings with JSON.stringify's escapes.
pub fn jcs(value: &Value) -> String {
    let mut out = String::new();
    write_jcs(value, &mut out);
    out
}

fn write_jcs(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&es_number(n)),
        Value::String(s) => crate::json::write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // Keys are unique, so an unstable sort gives the one canonical order.
            entries.sort_unstable_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                crate::json::write_string(k, out);
                out.push(':');
                write_jcs(v, out);
            }
            out.push('}');
        }
    }
}

/// ECMAScript `Number.prototype.toString` of a JSON number as an IEEE double (JCS §3.2.2.3).
fn es_number(n: &serde_json::Number) -> String {
    match (n.as_u64(), n.as_i64()) {
        // Integers up to 2^53 are exact doubles and print as themselves.
        (Some(u), _) if u <= 1 << 53 => u.to_string(),
        (_, Some(i)) if i.unsigned_abs() <= 1 << 53 => i.to_string(),
        _ => crate::json::js_number(n.as_f64().unwrap_or_default()),
    }
}

/// base64url-nopad of the JCS text of an object: how `request` and `opaque` are sent.
pub fn encode_json_object(object: &Map<String, Value>) -> String {
    let mut text = String::new();
    write_jcs(&Value::Object(object.clone()), &mut text);
    b64::encode(text.as_bytes())
}

/// `encode_json_object` for a value that must be an object.
pub fn encode_request(request: &Value) -> Result<String> {
    match request {
        Value::Object(m) => Ok(encode_json_object(m)),
        _ => Err(Error::validation(vec![FieldError::new(
            "request",
            "expected object",
        )])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> String {
        es_number(&serde_json::from_str::<serde_json::Number>(text).unwrap())
    }

    #[test]
    fn es_numbers() {
        for (input, want) in [
            ("0", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("-42", "-42"),
            ("4217", "4217"),
            ("1.5", "1.5"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("123456789012345678901", "123456789012345680000"),
            ("12345678901234567890", "12345678901234567000"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            ("0.1", "0.1"),
            ("333333333.33333329", "333333333.3333333"),
            ("9007199254740993", "9007199254740992"),
            ("-9007199254740993", "-9007199254740992"),
            ("-1.5e-7", "-1.5e-7"),
            ("100", "100"),
            ("1e16", "10000000000000000"),
            ("2.5e-6", "0.0000025"),
            ("123e-20", "1.23e-18"),
        ] {
            assert_eq!(num(input), want, "{input}");
        }
    }

    #[test]
    fn jcs_sorts_by_utf16() {
        let v = serde_json::json!({"b": 1, "a": [true, null, "x\n\u{1}é"], "\u{e000}": 0, "\u{1f600}": 0});
        assert_eq!(
            jcs(&v),
            "{\"a\":[true,null,\"x\\n\\u0001é\"],\"b\":1,\"\u{1f600}\":0,\"\u{e000}\":0}"
        );
    }
}
