#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Server-side helpers for the sandbox merchant: challenge ids against the conformance
//! `challenge-id.json` set (copied below) and mpp 0.18.2, the challenge serializer, credential
//! verification and problem types.

use linkpay::ErrorCode;
use linkpay::mpp::server::{
    ChallengeSpec, Problem, challenge_id, encode_request, format_challenge, issue_challenge,
    verify_challenge_id, verify_credential,
};
use linkpay::mpp::{Challenge, build_credential, parse_challenges};
use serde_json::{Value, json};

/// tempoxyz/mpp-tools `conformance/vectors/challenge-id.json` (data only).
const CHALLENGE_ID_VECTORS: &str = r##"[
 {
  "name": "required_fields_only",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   }
  },
  "expected": "6QDs0BmhrI_v67iWeCMvGqQJEFQ6ErWKlk7zi5xL6t0"
 },
 {
  "name": "with_expires",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "expires": "2025-01-06T12:00:00Z"
  },
  "expected": "ZcHgfEi5_Qyda9NQwUzamsCgCcWXw6N6EH2NLyaSTlg"
 },
 {
  "name": "with_digest",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "digest": "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE"
  },
  "expected": "vwnOtW2kwdujK9_uC_taI2e6Jwq86Jwogvq9m--i8eQ"
 },
 {
  "name": "with_expires_and_digest",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "expires": "2025-01-06T12:00:00Z",
   "digest": "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE"
  },
  "expected": "HSUJV7QH1E135PSDPlrZ5cLoozV3bv5T4vfVdS3Xyzk"
 },
 {
  "name": "with_opaque",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "opaque": "trace-123"
  },
  "expected": "1XJ-Ti0DACNe3E1zHvwH6OdnKlhUx6xKxDbhJyexng4"
 },
 {
  "name": "with_payment_authorization_header",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "header": "Payment-Authorization"
  },
  "expected": "re8MIMJYpIJ0r_aiizscg6ghtipQM8IpOa_NtpwIU8E"
 },
 {
  "name": "authorization_header_is_implicit_default",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "header": "Authorization"
  },
  "expected": "6QDs0BmhrI_v67iWeCMvGqQJEFQ6ErWKlk7zi5xL6t0"
 },
 {
  "name": "opaque_route_scope_binding",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000"
   },
   "opaque": "eyJyb3V0ZSI6Ii9hcGkvcHJlbWl1bSJ9"
  },
  "expected": "qKB3Cm8efoWftvkRf43R5GxatYiXuZPxhs2kA3CvxGM"
 },
 {
  "name": "description_not_in_hmac",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   },
   "description": "API access payment required"
  },
  "expected": "6QDs0BmhrI_v67iWeCMvGqQJEFQ6ErWKlk7zi5xL6t0"
 },
 {
  "name": "multi_field_request",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000",
    "currency": "0x1234",
    "recipient": "0xabcd"
   }
  },
  "expected": "I8ZLhCXrskUbWuwYSSM0My-wk3mnL9_w8cDlEcs2UFo"
 },
 {
  "name": "nested_method_details",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000",
    "currency": "0x1234",
    "methodDetails": {
     "chainId": 42431
    }
   }
  },
  "expected": "W8sYOWDDrcuRcku27vjJoqLX0uAnBmql7qAOuQwdmPo"
 },
 {
  "name": "html_sensitive_request_canonicalization",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1500",
    "currency": "USD",
    "description": "Access <premium> & analytics",
    "recipient": "merchant"
   }
  },
  "expected": "iU2QdYw_u-prmGZWxm58jeBakeYE-ib_u77f9vcW76E"
 },
 {
  "name": "resource_path_query_binding",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000",
    "currency": "USD",
    "recipient": "merchant",
    "resource": "/charge/query-replay?tier=basic"
   }
  },
  "expected": "ge6Ckot8ZHZB_S-6OOlzuKOnUhndJIUarP-zPCtzleE"
 },
 {
  "name": "external_id_request_binding",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "2500",
    "currency": "USD",
    "externalId": "server-order-123",
    "recipient": "merchant"
   }
  },
  "expected": "PyzaHuf-58VJxeH7oErmMTlnKZZ5yYzRVueWW0MK1hI"
 },
 {
  "name": "fee_payer_policy_binding",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "5000",
    "currency": "USD",
    "methodDetails": {
     "chainId": 42431,
     "feePayer": true,
     "maxFeePerGas": "1000000"
    },
    "recipient": "merchant"
   }
  },
  "expected": "Z-51rg0Ds7Xd9FnWiXT3aOs4vyuScuZkxnk-BNRy8QE"
 },
 {
  "name": "empty_request",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {}
  },
  "expected": "SMpxo_gPWGquX9vAZ-b_OIPsHO3kfdY2s73946Mnwc0"
 },
 {
  "name": "different_realm",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "payments.other.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   }
  },
  "expected": "NiwWsOUeZDNPegltJVbOHVKR4hHbZR5tnoQ80DVrqyY"
 },
 {
  "name": "different_method",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "stripe",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   }
  },
  "expected": "IPY59YD2ZWmf3yXnZxbQgYoYejrVB9Nh_rpSkrOeSG0"
 },
 {
  "name": "different_intent",
  "input": {
   "secretKey": "test-vector-secret-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "session",
   "request": {
    "amount": "1000000"
   }
  },
  "expected": "3bUB3LSxOG-lexqNCMGiV-p_j1UeibqWlA-saIiwo5A"
 },
 {
  "name": "basic_charge",
  "input": {
   "secretKey": "test-secret-key-12345-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000",
    "currency": "0x20c0000000000000000000000000000000000001",
    "recipient": "0x1234567890abcdef1234567890abcdef12345678"
   }
  },
  "expected": "Go8tV1muorsPUY3eQxjQ2oBMBDRPuK-jdO_E2sbtti8"
 },
 {
  "name": "with_expires_alt_secret",
  "input": {
   "secretKey": "test-secret-key-12345-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "5000000",
    "currency": "0x20c0000000000000000000000000000000000001",
    "recipient": "0xabcdef1234567890abcdef1234567890abcdef12"
   },
   "expires": "2026-01-29T12:00:00Z"
  },
  "expected": "DAgfntQtAmV_y2J9YWUh-UKvwRTxXhMCvX0uOFzvfOE"
 },
 {
  "name": "with_digest_alt_secret",
  "input": {
   "secretKey": "my-server-secret-minimum-32-byte-secret",
   "realm": "payments.example.org",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "250000",
    "currency": "USD",
    "recipient": "0x9999999999999999999999999999999999999999"
   },
   "digest": "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
  },
  "expected": "Wck1EzUjlCJIEPEyaYpuZ_8GxC-0TWZPJYcBTH6fwdU"
 },
 {
  "name": "full_challenge_alt_secret",
  "input": {
   "secretKey": "test-secret-abc123-minimum-32-byte-secret",
   "realm": "api.tempo.xyz",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "10000000",
    "currency": "0x20c0000000000000000000000000000000000001",
    "recipient": "0x742d35Cc6634C0532925a3b844Bc9e7595f1B0F2",
    "description": "API access fee",
    "externalId": "order-12345"
   },
   "expires": "2026-02-01T00:00:00Z",
   "digest": "sha-256=abc123def456"
  },
  "expected": "_pLIgk1zfLjIqa1aXziYSyyHZLQZQ1WXCBSa3-DK6_E"
 },
 {
  "name": "different_secret_different_id",
  "input": {
   "secretKey": "different-secret-key-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000",
    "currency": "0x20c0000000000000000000000000000000000001",
    "recipient": "0x1234567890abcdef1234567890abcdef12345678"
   }
  },
  "expected": "iox5xpRvWhpAMaIlMZIKRJHGOIiCNDJrE28AljJJzyE"
 },
 {
  "name": "empty_request_alt_secret",
  "input": {
   "secretKey": "test-key-minimum-32-byte-secret-key",
   "realm": "test.example.com",
   "method": "tempo",
   "intent": "authorize",
   "request": {}
  },
  "expected": "XOelcFKZ14F8K1KtmsQsN-PKrpBg2_pwnLg0HJUOd1g"
 },
 {
  "name": "unicode_in_description",
  "input": {
   "secretKey": "unicode-test-key-minimum-32-byte-secret",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "100",
    "currency": "EUR",
    "recipient": "0x1111111111111111111111111111111111111111",
    "description": "Payment for café ☕"
   }
  },
  "expected": "-UB9jxfPEvTmFw7qvLmqJhDZ-lJ-noCp15ROxPHC4BE"
 },
 {
  "name": "nested_method_details_alt_secret",
  "input": {
   "secretKey": "nested-test-key-minimum-32-byte-secret",
   "realm": "api.tempo.xyz",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "5000000",
    "currency": "0x20c0000000000000000000000000000000000001",
    "recipient": "0x2222222222222222222222222222222222222222",
    "methodDetails": {
     "chainId": 42431,
     "feePayer": true
    }
   }
  },
  "expected": "rWfhir6e_bnIQdbh6tHUosPEHnxLIaWRDWs-zNHeYug"
 },
 {
  "name": "error_weak_secret_key",
  "input": {
   "secretKey": "short",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000"
   }
  },
  "expected": null
 },
 {
  "name": "mixed_case_key_ordering",
  "input": {
   "secretKey": "case-sensitive-key-minimum-32-bytes",
   "realm": "api.example.com",
   "method": "tempo",
   "intent": "charge",
   "request": {
    "amount": "1000000",
    "Currency": "USD",
    "ZONE": "eu-1",
    "network": {
     "chainId": 42431,
     "Layer": "L2"
    }
   }
  },
  "expected": "oUJHedaukLx579-B6Apbsw_r17uJOqERHjQRjCVhP0M"
 }
]"##;

fn challenge_from(input: &Value) -> Challenge {
    let s = |k: &str| input.get(k).and_then(Value::as_str);
    let request = encode_request(&input["request"]).unwrap();
    Challenge::from_parts(
        "unbound",
        s("realm").unwrap(),
        s("method").unwrap(),
        s("intent").unwrap(),
        &request,
        s("description"),
        s("digest"),
        s("expires"),
        s("opaque"),
        s("header"),
    )
    .unwrap()
}

#[test]
fn conformance_challenge_ids() {
    let rows: Vec<Value> = serde_json::from_str(CHALLENGE_ID_VECTORS).unwrap();
    assert_eq!(rows.len(), 29);
    for row in rows {
        let input = &row["input"];
        let secret = input["secretKey"].as_str().unwrap().as_bytes();
        let c = challenge_from(input);
        match row["expected"].as_str() {
            Some(want) => {
                assert_eq!(challenge_id(secret, &c).unwrap(), want, "{}", row["name"]);
                // mpp 0.18.2 computes the same id from the same raw strings.
                let theirs = mpp::protocol::core::compute_challenge_id_with_header(
                    input["secretKey"].as_str().unwrap(),
                    c.realm(),
                    c.method(),
                    c.intent(),
                    c.request(),
                    c.expires(),
                    c.digest(),
                    c.opaque(),
                    c.header(),
                );
                assert_eq!(theirs, want, "{}", row["name"]);
            }
            None => {
                let err = challenge_id(secret, &c).unwrap_err();
                assert_eq!(err.code, ErrorCode::ValidationError);
            }
        }
    }
}

#[test]
fn conformance_format_www_authenticate() {
    for wire in [
        r#"Payment id="ch_abc123", realm="api.example.com", method="tempo", intent="charge", request="eyJhbW91bnQiOiIxMDAwMDAwIiwiY3VycmVuY3kiOiIweDIwYzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJyZWNpcGllbnQiOiIweDEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2NzgifQ""#,
        r#"Payment id="ch_full123", realm="api.example.com", method="tempo", intent="charge", request="eyJhbW91bnQiOiI1MDAwMDAwIiwiY3VycmVuY3kiOiIweDIwYzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDIiLCJkZXNjcmlwdGlvbiI6IlByZW1pdW0gQVBJIGFjY2VzcyIsImV4cGlyZXMiOiIyMDI2LTAxLTI5VDEzOjAwOjAwWiIsImV4dGVybmFsSWQiOiJvcmRlcl8xMjM0NSIsInJlY2lwaWVudCI6IjB4YWJjZGVmMTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMiJ9", description="API access payment required", digest="sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", expires="2026-01-29T12:05:00Z""#,
        r#"Payment id="ch_empty", realm="test.example.com", method="tempo", intent="authorize", request="e30""#,
        r#"Payment id="ch_escaped", realm="api.example.com", method="tempo", intent="charge", request="e30", description="Pay \"premium\" API""#,
        r#"Payment id="ch_backslash", realm="api.example.com", method="tempo", intent="charge", request="e30", description="Path C:\\tempo\\api""#,
    ] {
        let c = parse_challenges(&[wire]).remove(0).unwrap();
        assert_eq!(format_challenge(&c).unwrap(), wire);
    }
    let c = parse_challenges(&[r#"Payment id="ch_crlf", realm="api.example.com", method="tempo", intent="charge", request="e30", opaque="trace-123""#]).remove(0).unwrap();
    let c = remake(&c, Some("Line one\r\nLine two"), None);
    assert!(format_challenge(&c).is_err());
}

#[test]
fn serializer_escapes_like_mppx() {
    let c = parse_challenges(&[
        r#"Payment id="a", realm="r", method="tempo", intent="charge", request="e30""#,
    ])
    .remove(0)
    .unwrap();
    let c = remake(
        &c,
        Some("1 × Classmatic — \u{1f39f}\u{fe0f} \"VIP\" \\ \u{1b}\tx"),
        None,
    );
    let wire = format_challenge(&c).unwrap();
    assert!(
        wire.ends_with(
            r#"description="1 × Classmatic \u2014 \ud83c\udf9f\ufe0f \"VIP\" \\ \u001b	x""#
        ),
        "{wire}"
    );
    assert!(wire.chars().all(|ch| u32::from(ch) <= 0xFF));
    // Our parser and mpp 0.18.2 read it back.
    assert_eq!(parse_challenges(&[&wire]).remove(0).unwrap(), c);
    let theirs = mpp::protocol::core::parse_www_authenticate(&wire).unwrap();
    assert_eq!(theirs.description.as_deref(), c.description());
}

/// `c` with another description and/or request.
fn remake(c: &Challenge, description: Option<&str>, request: Option<&str>) -> Challenge {
    Challenge::from_parts(
        c.id(),
        c.realm(),
        c.method(),
        c.intent(),
        request.unwrap_or(c.request()),
        description.or(c.description()),
        c.digest(),
        c.expires(),
        c.opaque(),
        c.header(),
    )
    .unwrap()
}

fn secret() -> Vec<u8> {
    b"sandbox-merchant-secret-of-32-bytes!".to_vec()
}

fn spec() -> ChallengeSpec {
    ChallengeSpec {
        realm: "127.0.0.1".into(),
        method: "stripe".into(),
        intent: "charge".into(),
        request: json!({"amount": "1000", "currency": "usd", "externalId": "order_1",
            "methodDetails": {"networkId": "net_sandbox", "paymentMethodTypes": ["card"]}})
        .as_object()
        .unwrap()
        .clone(),
        description: Some("Sandbox — coffee".into()),
        expires: Some("2030-01-01T00:00:00Z".into()),
        opaque: Some(json!({"route": "/coffee"}).as_object().unwrap().clone()),
        ..ChallengeSpec::default()
    }
}

#[test]
fn issue_serialize_pay_verify() {
    let c = issue_challenge(&secret(), &spec()).unwrap();
    assert!(verify_challenge_id(&secret(), &c));
    let wire = format_challenge(&c).unwrap();
    let parsed = parse_challenges(&[&wire]).remove(0).unwrap();
    assert_eq!(parsed, c);
    let stripe =
        linkpay::mpp::stripe::decode(&[wire], 0, Some("http://127.0.0.1:4242/coffee")).unwrap();
    assert!(stripe.warnings.is_empty(), "{:?}", stripe.warnings);
    let payload = stripe.payload("spt_test").unwrap().to_json();
    assert_eq!(payload, json!({"spt": "spt_test", "externalId": "order_1"}));
    let built = build_credential(&stripe.challenge, &payload, None, 0).unwrap();
    let cred = verify_credential(&secret(), built.header, &built.value, 0).unwrap();
    assert_eq!(cred.challenge, c);

    // A tampered echo, the wrong header, an expired challenge.
    let forged = remake(
        &c,
        None,
        Some(&encode_request(&json!({"amount": "1"})).unwrap()),
    );
    let forged_value = build_credential(&forged, &payload, None, 0).unwrap().value;
    assert!(verify_credential(&secret(), "Authorization", &forged_value, 0).is_err());
    assert!(verify_credential(&secret(), "Payment-Authorization", &built.value, 0).is_err());
    let err =
        verify_credential(&secret(), "Authorization", &built.value, 1_900_000_000_000).unwrap_err();
    assert_eq!(err.code, ErrorCode::MppChallengeExpired);
    assert_eq!(Problem::for_error(err.code), Problem::PaymentExpired);

    let with_header = issue_challenge(
        &secret(),
        &ChallengeSpec {
            header: Some("Payment-Authorization".into()),
            ..spec()
        },
    )
    .unwrap();
    let built = build_credential(&with_header, &payload, None, 0).unwrap();
    assert_eq!(built.header, "Payment-Authorization");
    assert!(verify_credential(&secret(), "Payment-Authorization", &built.value, 0).is_ok());
    assert!(
        issue_challenge(
            &secret(),
            &ChallengeSpec {
                header: Some("X".into()),
                ..spec()
            }
        )
        .is_err()
    );
    assert!(issue_challenge(b"short", &spec()).is_err());
}

#[test]
fn problem_types() {
    let uris: Vec<String> = Problem::ALL.iter().map(|p| p.type_uri()).collect();
    assert_eq!(
        uris,
        [
            "https://paymentauth.org/problems/payment-required",
            "https://paymentauth.org/problems/payment-insufficient",
            "https://paymentauth.org/problems/payment-expired",
            "https://paymentauth.org/problems/verification-failed",
            "https://paymentauth.org/problems/method-unsupported",
            "https://paymentauth.org/problems/malformed-credential",
            "https://paymentauth.org/problems/invalid-challenge",
        ]
    );
    assert_eq!(Problem::MethodUnsupported.status(), 400);
    assert_eq!(
        Problem::PaymentRequired.details("Payment is required.", Some("ch_1")),
        json!({"type": "https://paymentauth.org/problems/payment-required", "title": "PaymentRequiredError",
            "status": 402, "detail": "Payment is required.", "challengeId": "ch_1"})
    );
}

#[test]
fn receipts_round_trip() {
    use linkpay::mpp::{Receipt, encode_receipt, parse_receipt};
    let mut extra = serde_json::Map::new();
    extra.insert("challengeId".into(), "ch_1".into());
    let r = Receipt {
        method: "stripe".into(),
        reference: "pi_1".into(),
        timestamp: "2026-01-29T12:00:30Z".into(),
        external_id: Some("order_1".into()),
        subscription_id: None,
        extra,
    };
    let wire = encode_receipt(&r).unwrap();
    assert_eq!(parse_receipt(&wire).unwrap(), r);
    let theirs = mpp::protocol::core::parse_receipt(&wire).unwrap();
    assert_eq!(theirs.reference, "pi_1");
    assert_eq!(theirs.external_id.as_deref(), Some("order_1"));
    assert!(
        linkpay::mpp::receipt::encode(
            &json!({"method": "stripe", "reference": "pi", "timestamp": "yesterday"})
        )
        .is_err()
    );
    let v = linkpay::mpp::receipt::encode(
        &json!({"method": "stripe", "reference": "pi", "timestamp": "2026-01-29T12:00:30Z"}),
    )
    .unwrap();
    assert_eq!(parse_receipt(&v).unwrap().reference, "pi");
}
