#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Credential decoding (server side) and typed-API credential building: mpp.md V10 and the
//! conformance `authorization.json` parse cases.

use linkpay::ErrorCode;
use linkpay::mpp::{Challenge, build_credential, parse_challenges, parse_credential};
use serde_json::{Value, json};

fn decoded(wire: &str) -> Value {
    parse_credential(wire).unwrap().to_json()
}

const V10_MPPX: &str = "Payment eyJjaGFsbGVuZ2UiOnsiaWQiOiJ4N1RnMnBMcVI5bUt2TndZM2hCY1phIiwiaW50ZW50IjoiY2hhcmdlIiwibWV0aG9kIjoidGVtcG8iLCJyZWFsbSI6ImFwaS5leGFtcGxlLmNvbSIsInJlcXVlc3QiOiJleUpoYlc5MWJuUWlPaUl4TURBd0luMCJ9LCJwYXlsb2FkIjp7InNpZ25hdHVyZSI6IjB4MTIzNCJ9fQ";

#[test]
fn v10_mppx_credential_decodes_to_what_we_build() {
    // mppx emits the keys alphabetically; we emit mpp-rs' order. Same JSON.
    let c = Challenge::from_parts(
        "x7Tg2pLqR9mKvNwY3hBcZa",
        "api.example.com",
        "tempo",
        "charge",
        "eyJhbW91bnQiOiIxMDAwIn0",
        None,
        None,
        None,
        None,
        None,
    )
    .unwrap();
    let ours = build_credential(&c, &json!({"signature": "0x1234"}), None, 0).unwrap();
    assert_eq!(ours.header, "Authorization");
    assert_ne!(ours.value, V10_MPPX);
    assert_eq!(decoded(&ours.value), decoded(V10_MPPX));
    assert_eq!(
        decoded(V10_MPPX),
        json!({"challenge": {"id": "x7Tg2pLqR9mKvNwY3hBcZa", "realm": "api.example.com",
            "method": "tempo", "intent": "charge", "request": "eyJhbW91bnQiOiIxMDAwIn0"},
            "payload": {"signature": "0x1234"}})
    );
}

#[test]
fn v10_stripe_spec_example() {
    let wire = "Payment eyJjaGFsbGVuZ2UiOnsiaWQiOiJjaF8xYTJiM2M0ZDVlIiwicmVhbG0iOiJhcGkuZXhhbXBsZS5jb20iLCJtZXRob2QiOiJzdHJpcGUiLCJpbnRlbnQiOiJjaGFyZ2UiLCJyZXF1ZXN0IjoiZXlKaGJXOTFiblFpT2lJMU1EQXdJaXdpWTNWeWNtVnVZM2tpT2lKMWMyUWlMQ0prWlhOamNtbHdkR2x2YmlJNklrRkpJR2RsYm1WeVlYUnBiMjRpZlEiLCJleHBpcmVzIjoiMjAyNS0wMS0xNVQxMjowNTowMFoifSwicGF5bG9hZCI6eyJzcHQiOiJzcHRfMU40WnYzMmVadktZbG8yQ1BoVlBrSmxXIn19";
    let cred = parse_credential(wire).unwrap();
    assert_eq!(cred.challenge.id(), "ch_1a2b3c4d5e");
    assert_eq!(cred.challenge.method(), "stripe");
    assert_eq!(cred.challenge.expires(), Some("2025-01-15T12:05:00Z"));
    assert_eq!(
        Value::Object(cred.challenge.request_json().unwrap()),
        json!({"amount": "5000", "currency": "usd", "description": "AI generation"})
    );
    assert_eq!(
        Value::Object(cred.payload),
        json!({"spt": "spt_1N4Zv32eZvKYlo2CPhVPkJlW"})
    );
}

#[test]
fn v10_legacy_object_opaque_is_normalized() {
    let token = |opaque: Value| {
        let v = json!({"challenge": {"id": "a", "realm": "r", "method": "tempo", "intent": "charge",
            "request": "e30", "opaque": opaque}, "payload": {}});
        format!(
            "Payment {}",
            base64_url(serde_json::to_string(&v).unwrap().as_bytes())
        )
    };
    let cred = parse_credential(&token(json!({"pi": "pi_3abc123XYZ"}))).unwrap();
    assert_eq!(
        cred.challenge.opaque(),
        Some("eyJwaSI6InBpXzNhYmMxMjNYWVoifQ")
    );
    let err = parse_credential(&token(json!({"pi": 123}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::MppMalformedCredential);
}

fn base64_url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn conformance_authorization_parse() {
    let ok = [
        (
            "Payment eyJjaGFsbGVuZ2UiOnsiaWQiOiJjaF9oZWFkZXIiLCJyZWFsbSI6ImFwaS5leGFtcGxlLmNvbSIsIm1ldGhvZCI6InRlbXBvIiwiaW50ZW50IjoiY2hhcmdlIiwicmVxdWVzdCI6ImUzMCIsImhlYWRlciI6IlBheW1lbnQtQXV0aG9yaXphdGlvbiJ9LCJwYXlsb2FkIjp7fX0",
            "ch_header",
        ),
        (
            "Payment eyJjaGFsbGVuZ2UiOnsiaWQiOiJjaF9leHBpcmVzMTIzIiwicmVhbG0iOiJhcGkuZXhhbXBsZS5jb20iLCJtZXRob2QiOiJ0ZW1wbyIsImludGVudCI6ImF1dGhvcml6ZSIsInJlcXVlc3QiOiJleUpoYlc5MWJuUWlPaUl4TURBd01EQXdNREFpTENKamRYSnlaVzVqZVNJNklqQjRNakJqTURBd01EQXdNREF3TURBd01EQXdNREF3TURBd01EQXdNREF3TURBd01EQXdNREF3TVNJc0ltVjRjR2x5WlhNaU9pSXlNREkyTFRBeUxUQXhWREF3T2pBd09qQXdXaUo5IiwiZXhwaXJlcyI6IjIwMjYtMDEtMjlUMTI6MzA6MDBaIn0sInBheWxvYWQiOnsidHlwZSI6InRyYW5zYWN0aW9uIiwic2lnbmF0dXJlIjoiMHhmZWRjYmEwOTg3NjU0MzIxZmVkY2JhMDk4NzY1NDMyMWZlZGNiYTA5ODc2NTQzMjFmZWRjYmEwOTg3NjU0MzIxZmVkY2JhMDk4NzY1NDMyMWZlZGNiYTA5ODc2NTQzMjFmZWRjYmEwOTg3NjU0MzIxZmVkY2JhMDk4NzY1NDMyMSJ9fQ",
            "ch_expires123",
        ),
    ];
    for (wire, id) in ok {
        let cred = parse_credential(wire).unwrap();
        assert_eq!(cred.challenge.id(), id);
        // Our encoder reproduces the conformance wire byte for byte.
        let c = &cred.challenge;
        let rebuilt = build_credential(c, &Value::Object(cred.payload.clone()), None, 0).unwrap();
        assert_eq!(rebuilt.value, wire);
    }
    for bad in [
        "Bearer eyJjaGFsbGVuZ2UiOnt9fQ",
        "Payment not-valid!!!",
        "Payment eyJwYXlsb2FkIjp7InR5cGUiOiJ0cmFuc2FjdGlvbiIsInNpZ25hdHVyZSI6IjB4MTIzNCJ9fQ",
        "Payment eyJjaGFsbGVuZ2UiOnsicmVhbG0iOiJhcGkiLCJtZXRob2QiOiJ0ZW1wbyIsImludGVudCI6ImNoYXJnZSIsInJlcXVlc3QiOiJlMzAifSwicGF5bG9hZCI6eyJ0eXBlIjoidHJhbnNhY3Rpb24iLCJzaWduYXR1cmUiOiIweDEyMzQifX0",
        "Payment W10",
        "Payment ",
        "",
    ] {
        let err = parse_credential(bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::MppMalformedCredential, "{bad}");
    }
}

#[test]
fn multi_scheme_authorization() {
    let c = &parse_challenges(&[
        r#"Payment id="a", realm="r", method="tempo", intent="charge", request="e30""#,
    ])[0];
    let built = build_credential(c.as_ref().unwrap(), &json!({}), Some("did:x"), 0).unwrap();
    let header = format!("Bearer abc, {}", built.value);
    let cred = parse_credential(&header).unwrap();
    assert_eq!(cred.challenge.id(), "a");
    assert_eq!(cred.source.as_deref(), Some("did:x"));
    assert_eq!(
        parse_credential(&built.value.replacen("Payment", "pAyMeNt", 1))
            .unwrap()
            .challenge,
        cred.challenge
    );
}

#[test]
fn echo_is_byte_exact_with_escapes_and_latin1() {
    let header: &[u8] = b"Payment id=\"ch_\\\"q\\\"\", realm=\"caf\xe9.example\", method=\"stripe\", intent=\"charge\", request=\"e30=\", description=\"1 \xd7 \\u2014\", opaque=\"trace-123\", digest=\"sha-256=:abc=:\", expires=\"2099-01-01T00:00:00.5+01:00\"";
    let c = linkpay::mpp::parse_challenges_bytes(&[header])
        .remove(0)
        .unwrap();
    assert_eq!(c.id(), "ch_\"q\"");
    assert_eq!(c.realm(), "café.example");
    assert_eq!(c.description(), Some("1 × —"));
    let built = build_credential(&c, &json!({"spt": "spt_1"}), None, 0).unwrap();
    let back = parse_credential(&built.value).unwrap();
    assert_eq!(back.challenge, c);
    let echo = decoded(&built.value);
    assert_eq!(echo["challenge"]["request"], "e30=");
    assert_eq!(echo["challenge"]["opaque"], "trace-123");
    assert_eq!(echo["challenge"]["expires"], "2099-01-01T00:00:00.5+01:00");
}
