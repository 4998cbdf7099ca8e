#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: encode → decode is the identity (challenges, credentials, receipts), and
//! arbitrary input never panics and always yields a result or an error with an MPP code.
//! Failures proptest minimises are kept in `tests/mpp_proptest.proptest-regressions`.

use linkpay::ErrorCode;
use linkpay::mpp::server::{encode_request, format_challenge};
use linkpay::mpp::timestamp::format_rfc3339_ms;
use linkpay::mpp::{
    Challenge, Receipt, build_credential, encode_receipt, parse_challenges, parse_challenges_bytes,
    parse_credential, parse_receipt,
};
use linkpay::sanitize;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Any string without CR/LF (the serializer refuses those), including controls, quotes,
/// backslashes, Latin-1, astral characters.
fn wire_text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,24}", "[\\u{0}-\\u{ff}]{0,16}", any::<String>(),]
        .prop_map(|s| s.replace(['\r', '\n'], ""))
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(any::<String>(), json_value(), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

prop_compose! {
    fn challenge()(
        id in wire_text().prop_filter("non-empty", |s| !s.is_empty()),
        realm in wire_text(),
        method in "[a-z][a-z0-9:_-]{0,12}",
        intent in "[A-Za-z0-9_-]{1,12}",
        request in json_object(),
        description in proptest::option::of(wire_text()),
        digest in proptest::option::of("sha-256=[A-Za-z0-9+/=:]{0,44}"),
        expires in proptest::option::of(0i64..253_402_300_799_999),
        opaque in proptest::option::of(wire_text()),
        header in proptest::option::of(Just("Payment-Authorization")),
    ) -> Challenge {
        let request = encode_request(&Value::Object(request)).unwrap();
        let expires = expires.map(format_rfc3339_ms);
        Challenge::from_parts(
            &id, &realm, &method, &intent, &request,
            description.as_deref(), digest.as_deref(), expires.as_deref(), opaque.as_deref(), header,
        ).unwrap()
    }
}

const MPP_CODES: [ErrorCode; 6] = [
    ErrorCode::MppNoPaymentChallenge,
    ErrorCode::MppNoStripeChallenge,
    ErrorCode::MppMalformedChallenge,
    ErrorCode::MppChallengeExpired,
    ErrorCode::MppUnsupportedChallenge,
    ErrorCode::MppMalformedCredential,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn challenge_round_trip(c in challenge(), others in prop::collection::vec(challenge(), 0..3)) {
        let wire = format_challenge(&c).unwrap();
        prop_assert!(wire.chars().all(|ch| u32::from(ch) <= 0xFF));
        let parsed = parse_challenges(&[&wire]);
        prop_assert_eq!(parsed.len(), 1);
        prop_assert_eq!(parsed[0].as_ref().unwrap(), &c);

        // Joined with others, and as Latin-1 bytes.
        let mut all = vec![c.clone()];
        all.extend(others);
        let joined = all.iter().map(|c| format_challenge(c).unwrap()).collect::<Vec<_>>().join(", ");
        let parsed: Vec<Challenge> = parse_challenges(&[&joined]).into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(&parsed, &all);
        let bytes: Vec<u8> = joined.chars().map(|ch| ch as u8).collect();
        let parsed: Vec<Challenge> = parse_challenges_bytes(&[&bytes]).into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(&parsed, &all);
    }

    #[test]
    fn credential_round_trip(c in challenge(), payload in json_object(), source in proptest::option::of(any::<String>())) {
        let built = build_credential(&c, &Value::Object(payload.clone()), source.as_deref(), 0).unwrap();
        prop_assert_eq!(built.header, if c.header().is_some() { "Payment-Authorization" } else { "Authorization" });
        let back = parse_credential(&built.value).unwrap();
        prop_assert_eq!(&back.challenge, &c);
        prop_assert_eq!(&back.payload, &payload);
        prop_assert_eq!(back.source, source);
    }

    #[test]
    fn mcp_challenge_objects_round_trip(c in challenge(), payload in json_object()) {
        // A challenge as an MCP challenge object (mppx's convention) and back: the same
        // challenge, so the credential object's echo keeps the HMAC-bound id valid; and the
        // credential object's header form is the credential `parse_credential` reads.
        let object = linkpay::mpp::mcp::challenge_object(&c).unwrap();
        prop_assert_eq!(&linkpay::mpp::mcp::challenge_from_object(&object).unwrap(), &c);
        let credential = linkpay::mpp::mcp::credential_object(&c, &Value::Object(payload.clone())).unwrap();
        let header = linkpay::mpp::mcp::credential_header(&credential).unwrap();
        let back = parse_credential(&header.value).unwrap();
        prop_assert_eq!(&back.challenge, &c);
        prop_assert_eq!(&back.payload, &payload);
    }

    #[test]
    fn arbitrary_mcp_answers_never_panic(v in json_value(), code in prop_oneof![Just(-32042i64), any::<i64>()]) {
        for answer in [
            serde_json::json!({"error": {"code": code, "message": "x", "data": {"challenges": [v.clone()]}}}),
            serde_json::json!({"result": {"_meta": {"org.paymentauth/payment-required": v.clone()}}}),
        ] {
            if let Some(data) = linkpay::mpp::mcp::payment_required(&answer) {
                for r in linkpay::mpp::mcp::challenges(data) {
                    if let Err(e) = r {
                        prop_assert!(MPP_CODES.contains(&e.code), "{:?}", e);
                    }
                }
            }
        }
        if let Err(e) = linkpay::mpp::mcp::credential_header(&v) {
            prop_assert!(MPP_CODES.contains(&e.code), "{:?}", e);
        }
        let _ = linkpay::mpp::mcp::receipt(&v);
    }

    #[test]
    fn receipt_round_trip(
        method in any::<String>(), reference in any::<String>(), ms in 0i64..253_402_300_799_999,
        external_id in proptest::option::of(any::<String>()), extra in json_object(),
    ) {
        let mut extra = extra;
        for k in ["status", "method", "reference", "timestamp", "externalId", "subscriptionId"] {
            extra.remove(k);
        }
        let r = Receipt { method, reference, timestamp: format_rfc3339_ms(ms), external_id, subscription_id: None, extra };
        prop_assert_eq!(parse_receipt(&encode_receipt(&r).unwrap()).unwrap(), r);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>(), t in "(Payment |[a-z]+=|\"|\\\\|,| |=|e30|\\\\u[0-9a-fA-F]{0,4}|[A-Za-z0-9+/_-]{1,8})*") {
        for input in [&s, &t, &format!("Payment {t}"), &format!("Payment id=\"a\", realm=r, method=m, intent=i, request=e30, {t}")] {
            for r in parse_challenges(&[input]) {
                if let Err(e) = r {
                    prop_assert!(MPP_CODES.contains(&e.code), "{:?}", e);
                }
            }
            let list = linkpay::codec::decode_challenges(std::slice::from_ref(input)).unwrap();
            prop_assert!(!list.as_array().unwrap().is_empty());
            if let Err(e) = linkpay::codec::decode_stripe_challenge(std::slice::from_ref(input), 0, Some(input)) {
                prop_assert!(MPP_CODES.contains(&e.code), "{:?}", e);
            }
            if let Err(e) = parse_credential(input) {
                prop_assert_eq!(e.code, ErrorCode::MppMalformedCredential);
            }
            if let Err(e) = parse_receipt(input) {
                prop_assert_eq!(e.code, ErrorCode::MppMalformedReceipt);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..256)) {
        for r in parse_challenges_bytes(&[&b, b"Payment ", &b]) {
            if let Err(e) = r {
                prop_assert!(MPP_CODES.contains(&e.code));
            }
        }
        let text = String::from_utf8_lossy(&b);
        let _ = parse_credential(&format!("Payment {text}"));
        let _ = parse_receipt(&text);
    }

    #[test]
    fn arbitrary_json_arguments_never_panic(v in json_value(), spt in any::<String>(), now in any::<i64>()) {
        for r in [
            linkpay::codec::build_credential(&v, &v, None, now),
            linkpay::codec::build_stripe_payload(&v, &spt),
        ] {
            if let Err(e) = r {
                prop_assert!(MPP_CODES.contains(&e.code) || e.code == ErrorCode::ValidationError, "{:?}", e);
            }
        }
    }

    #[test]
    fn base64_request_variants_decode_alike(obj in json_object(), std_alphabet in any::<bool>(), pad in any::<bool>()) {
        let url = encode_request(&Value::Object(obj)).unwrap();
        let mut variant: String = if std_alphabet { url.replace('-', "+").replace('_', "/") } else { url.clone() };
        if pad {
            while !variant.len().is_multiple_of(4) {
                variant.push('=');
            }
        }
        let a = Challenge::from_parts("i", "r", "m", "i", &url, None, None, None, None, None).unwrap();
        let b = Challenge::from_parts("i", "r", "m", "i", &variant, None, None, None, None, None).unwrap();
        prop_assert_eq!(a.request_text(), b.request_text());
        prop_assert_eq!(b.request(), variant);
    }

    #[test]
    fn sanitized_text_is_clean_and_stable(s in any::<String>(), t in "(\\x1b|\\[|\\]|[0-9;]|\\x07|\\\\|\u{9b}|\u{9d}|\u{202e}|\u{200b}|a|\r|\n)*") {
        for input in [&s, &t] {
            let out = sanitize::for_display(input);
            prop_assert!(!out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{:?}", out);
            let hidden = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{61c}');
            prop_assert!(!out.chars().any(hidden), "{:?}", out);
            prop_assert_eq!(sanitize::for_display(&out), out.clone(), "idempotent");
            let json = sanitize::sanitize_json(&serde_json::json!({ input.clone(): [input.clone()] }));
            let (k, v) = json.as_object().unwrap().iter().next().unwrap();
            prop_assert_eq!(k, &out);
            prop_assert_eq!(&v[0], &Value::String(out.clone()));
        }
    }
}
